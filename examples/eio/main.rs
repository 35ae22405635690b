//! `eio`: a command-line Engine.IO client, like wscat for Engine.IO, through any of
//! the crate's three APIs.
//!
//! ```text
//! cargo run --example eio -- [OPTIONS] URL
//! cargo run --example eio -- --send hello --count 1 --json http://127.0.0.1:3000
//! cargo run --example eio -- --api blocking --stdin http://127.0.0.1:3000
//! cargo run --example eio -- --eio 3 --path /socket.io/ http://127.0.0.1:3000
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
//! 1 when it could not connect, 2 for bad arguments. Ctrl-C closes the session cleanly
//! (its `disconnect` event is printed), then ends the process as SIGINT does.

mod actor;
mod args;
mod async_api;
mod blocking;
mod output;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_engineio::protocol::redact_url;
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
    // Every event line out before the process ends.
    output::flush();
    if INTERRUPTED.load(Ordering::SeqCst) {
        die_by_sigint();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Arguments(error)) => {
            eprintln!("eio: {error}");
            ExitCode::from(2)
        }
        Err(Failure::Connect(error)) => {
            // The URL may carry a token: print it redacted, as the crate's logs do.
            eprintln!("eio: cannot connect to {}: {error}", redact_url(&args.url));
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

/// Set when Ctrl-C closed the session: `eio` then ends as SIGINT would have ended it.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// SIGINT, from now on (inside a Tokio runtime); `None` if it cannot be listened to.
pub fn interrupts() -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok()
}

/// Waits for Ctrl-C and records it; false if it cannot come.
pub async fn interrupted(interrupts: Option<tokio::signal::unix::Signal>) -> bool {
    let Some(mut interrupts) = interrupts else {
        return false;
    };
    let got = interrupts.recv().await.is_some();
    INTERRUPTED.store(got, Ordering::SeqCst);
    got
}

/// Ends the process by SIGINT, as the shell expects of an interrupted program.
fn die_by_sigint() {
    // SAFETY: puts back SIGINT's default disposition and raises it; nothing else runs.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        libc::raise(libc::SIGINT);
    }
}
