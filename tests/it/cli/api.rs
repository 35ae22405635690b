//! The three APIs `eio --api` drives a session through, and [`each_api`], which runs one
//! test's scenario once per API, the three at once.
//!
//! `eio`'s docs promise the same output, events and exit codes whatever the API: every
//! scenario of this suite therefore runs, unchanged, for each of them. The runs of one test
//! are independent (each starts its own peers or servers), and most of their time is spent
//! waiting on the child and the peers, so they run concurrently, each on a thread of its own
//! named `<test> [api <name>]`.

use std::fmt;
use std::thread;

/// A value of `eio --api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `--api actor`: the `Session` actor under an actix `System` (the default).
    Actor,
    /// `--api async`: `AsyncClient` under a Tokio runtime, its events as a stream.
    Async,
    /// `--api blocking`: the blocking `Client`, from a plain `fn main`.
    Blocking,
}

/// Every API, in the order the reports list them.
pub const ALL_APIS: [Api; 3] = [Api::Actor, Api::Async, Api::Blocking];

impl Api {
    /// The value of `--api`.
    pub fn name(self) -> &'static str {
        match self {
            Api::Actor => "actor",
            Api::Async => "async",
            Api::Blocking => "blocking",
        }
    }

    /// `[api <name>, <what>]`, the label of an assertion that has no [`super::harness::Finished`]
    /// to print (which labels itself).
    pub fn label(self, what: impl fmt::Display) -> String {
        format!("[api {self}, {what}]")
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Runs `scenario` once for each API, concurrently, and fails when any of the runs failed,
/// with the failure of every API that failed (not only the first), so one run of the
/// suite shows every difference between the APIs.
///
/// Call it from the test's own thread; start the peers a test may skip without
/// ([`crate::support::peers::start_or_skip`], [`crate::support::peers::any_of`]) before,
/// so that a skip names the test.
pub fn each_api(scenario: impl Fn(Api) + Sync) {
    let test = thread::current()
        .name()
        .unwrap_or("an eio test")
        .to_string();
    let scenario = &scenario;
    let failures: Vec<String> = thread::scope(|scope| {
        let runs: Vec<_> = ALL_APIS
            .into_iter()
            .map(|api| {
                let run = thread::Builder::new()
                    .name(format!("{test} [api {api}]"))
                    .spawn_scoped(scope, move || scenario(api))
                    .expect("spawn a thread for one API");
                (api, run)
            })
            .collect();
        runs.into_iter()
            .filter_map(|(api, run)| {
                run.join()
                    .err()
                    .map(|panic| format!("--- api {api} failed:\n{}", panic_message(&*panic)))
            })
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} APIs failed:\n{}",
        failures.len(),
        ALL_APIS.len(),
        failures.join("\n\n")
    );
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = panic.downcast_ref::<String>() {
        message.clone()
    } else if let Some(message) = panic.downcast_ref::<&str>() {
        message.to_string()
    } else {
        "(a panic without a message)".to_string()
    }
}
