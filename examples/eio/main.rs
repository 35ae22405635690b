//! `eio`: a command-line Engine.IO client, like wscat for Engine.IO, through any of
//! the crate's three APIs.
//!
//! ```text
//! cargo run --example eio -- [OPTIONS] URL
//! cargo run --example eio -- --send hello --count 1 --json http://127.0.0.1:3000
//! cargo run --example eio -- --api blocking --stdin http://127.0.0.1:3000
//! ```
//!
//! `--api actor` (the default) drives a `Session` actor under an actix `System`;
//! `--api async` an `AsyncClient` under a multi-threaded Tokio runtime with no actix
//! `System`; `--api blocking` the blocking `Client` from this plain `fn main`. The
//! output, events and exit codes are the same for the three.
//!
//! With `--json`, each event is one JSON object per line on stdout:
//! `{"event":"connect","sid":"…","transport":"websocket"}`,
//! `{"event":"message","text":"…"}` or `{"event":"message","binary":"<hex>"}`,
//! `{"event":"upgrade","transport":"websocket"}`,
//! `{"event":"upgrade_error","error":"…"}`,
//! `{"event":"disconnect","reason":"<reason>","detail":"…"|null}`.
//!
//! Exit status: 0 when the session ended (count, timeout, end of input, server),
//! 1 when it could not connect, 2 for bad arguments.

mod actor;
mod args;
mod async_api;
mod blocking;
mod output;

use std::process::ExitCode;

use actix_engineio::ConnectError;

use self::args::{Api, Args};

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args = match Args::parse() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("eio: {error}");
            return ExitCode::from(2);
        }
    };
    let result = match args.api {
        Api::Actor => actor::run(args.clone()),
        Api::Async => async_api::run(args.clone()),
        Api::Blocking => blocking::run(args.clone()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Arguments(error)) => {
            eprintln!("eio: {error}");
            ExitCode::from(2)
        }
        Err(Failure::Connect(error)) => {
            eprintln!("eio: cannot connect to {}: {error}", args.url);
            ExitCode::from(1)
        }
    }
}

/// Why `eio` gave up before the session ended.
pub enum Failure {
    /// The arguments cannot be used (exit 2).
    Arguments(String),
    /// The session could not be opened (exit 1).
    Connect(ConnectError),
}

impl From<ConnectError> for Failure {
    fn from(error: ConnectError) -> Self {
        match error {
            ConnectError::Config(error) => Failure::Arguments(error.to_string()),
            other => Failure::Connect(other),
        }
    }
}
