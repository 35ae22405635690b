//! The `eio` example binary (`examples/eio.rs`), run as a child process against the real
//! peers: its JSON output, how each option reaches the server, how sessions end, and its
//! exit status (0 session ended, 1 cannot connect, 2 bad arguments).
//!
//! The binary is the one `cargo test` builds into `target/<profile>/examples/eio`; when it
//! is missing or older than this test binary, `cargo build --example eio` runs first.
//! Every child runs under a deadline: one that overruns is killed (by its PID) and the test
//! fails; a child is never left running, also when a test panics.
//!
//! The files: [`harness`] (running the binary), [`sessions`] (exit status 0: output, options,
//! how sessions end), [`exit_status`] (1 cannot connect, 2 bad arguments), [`tls`] (`--ca-file`,
//! `--insecure`).

mod exit_status;
mod harness;
mod sessions;
mod tls;
