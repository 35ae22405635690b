//! The `eio` example binary (`examples/eio/`), run as a child process against the real
//! peers: its JSON output, how each option reaches the server, how sessions end, and its
//! exit status (0 session ended, 1 cannot connect, 2 bad arguments), through each of the
//! crate's three APIs (`--api actor|async|blocking`).
//!
//! `eio`'s docs promise the same output, events and exit codes whatever the API, so the
//! suite is one black-box suite for the three: every case runs its scenario once per API
//! ([`api::each_api`], the three at once), with the same assertions, and a failure names
//! the API and the peer: `[api async, node peer] eio [...]`.
//!
//! The binary is the one `cargo test` builds into `target/<profile>/examples/eio`; when it
//! is missing or older than this test binary, `cargo build --example eio` runs first.
//! Every child runs under a deadline: one that overruns is killed (by its PID) and the test
//! fails; a child is never left running, also when a test panics.
//!
//! The files: [`api`] (the APIs, running a scenario for each), [`harness`] (running the
//! binary), [`api_option`] (`--api` itself), [`sessions`] (exit status 0: output, transports,
//! options), [`endings`] (exit status 0: how sessions end), [`exit_status`] (1 cannot
//! connect, 2 bad arguments), [`tls`] (`--ca-file`, `--insecure`), [`connection_options`]
//! (Node's connection options: `--client-cert`, `--try-all-transports`, ...), [`proxy`]
//! (`--proxy`, `--no-proxy`, the environment's proxy variables), [`interrupt`] (Ctrl-C,
//! ignored: the APIs disagree).

mod api;
mod api_option;
mod connection_options;
mod endings;
mod exit_status;
mod harness;
mod interrupt;
mod proxy;
mod sessions;
mod tls;
