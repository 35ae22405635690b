//! Which peers the suite runs: `EIO_TEST_PEERS`, a comma list of `node`, `python`, `rust`,
//! `node3` and `python3` (unset or empty: all five). The process peers need their
//! dependencies from the npm registry and PyPI; `EIO_TEST_PEERS=rust cargo test` runs the
//! suite offline, against the in-process Rust peer only.
//!
//! Every decision about the variable is taken here:
//! * [`all_peers`] is what a test that runs against every peer iterates: the enabled v4
//!   ones (`node3` and `python3` speak v3 only, so no v4 case can run against them);
//! * [`v3_peers`] is what a v3 case iterates: the enabled servers that speak v3;
//! * [`any_of`] narrows a test's own list of peers (e.g. node and python, the peers that
//!   can be frozen with SIGSTOP) to the enabled ones, or skips the test when none is;
//! * [`start_or_skip`] starts the one peer a test needs, or skips the test;
//! * a skip prints one line, `<test>: skipped: needs the node peer, excluded by
//!   EIO_TEST_PEERS`, straight to stderr (not through the test harness's capture, so it
//!   shows in a plain `cargo test` run): a skipped test passes without having asserted
//!   anything, and says so;
//! * [`super::Peer::start`] refuses an excluded kind, so no test can start one by mistake.

use std::fmt;
use std::io::Write;
use std::sync::OnceLock;

use super::{Peer, PeerKind, PeerOptions};

/// The environment variable.
pub const VAR: &str = "EIO_TEST_PEERS";

/// The enabled kinds, parsed once. An unknown name panics: a typo must not silently run
/// fewer tests.
fn selection() -> &'static [PeerKind] {
    static SELECTION: OnceLock<Vec<PeerKind>> = OnceLock::new();
    SELECTION.get_or_init(|| {
        let value = std::env::var(VAR).unwrap_or_default();
        let names: Vec<&str> = value
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            return PeerKind::ALL.to_vec();
        }
        for name in &names {
            assert!(
                PeerKind::ALL.iter().any(|k| k.name() == *name),
                "{VAR}={value:?}: unknown peer {name:?} (expected a comma list of node, python, \
                 rust, node3, python3)"
            );
        }
        let selected: Vec<PeerKind> = PeerKind::ALL
            .into_iter()
            .filter(|k| names.contains(&k.name()))
            .collect();
        if selected.len() < PeerKind::ALL.len() {
            let names: Vec<&str> = selected.iter().map(|k| k.name()).collect();
            let (names, peers) = match names.as_slice() {
                [one] => (one.to_string(), "peer"),
                [rest @ .., last] => (format!("{} and {last}", rest.join(", ")), "peers"),
                [] => unreachable!("a non-empty list of names selects at least one kind"),
            };
            notice(format_args!(
                "{VAR}={value}: running against the {names} {peers} only; tests that need \
                 another peer print `skipped`"
            ));
        }
        selected
    })
}

/// Whether `EIO_TEST_PEERS` lets the suite start peers of `kind`.
pub fn enabled(kind: PeerKind) -> bool {
    selection().contains(&kind)
}

/// Every enabled v4 peer kind, for tests that run against all of them (node, python, rust
/// order, as before the variable existed). The v3-only peers are left out.
pub fn all_peers() -> Vec<PeerKind> {
    PeerKind::V4.into_iter().filter(|k| enabled(*k)).collect()
}

/// Every enabled server that speaks Engine.IO v3: node3, python3, and node (engine.io 6,
/// which does with [`super::PeerOptions::allow_eio3`]). A v3 case runs against each.
pub fn v3_peers() -> Vec<PeerKind> {
    [PeerKind::Node3, PeerKind::Python3, PeerKind::Node]
        .into_iter()
        .filter(|k| enabled(*k))
        .collect()
}

/// The enabled kinds among `kinds`, in their order; when none is enabled, prints the skip
/// line (`needs the node or python peer (why)`) and returns `None`.
pub fn any_of(kinds: &[PeerKind], why: &str) -> Option<Vec<PeerKind>> {
    let enabled: Vec<PeerKind> = kinds.iter().copied().filter(|k| enabled(*k)).collect();
    if enabled.is_empty() {
        let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
        skip(format_args!(
            "needs the {} peer ({why}), excluded by {VAR}",
            names.join(" or ")
        ));
        return None;
    }
    Some(enabled)
}

/// Starts the `kind` peer, or, when `EIO_TEST_PEERS` excludes it, prints the skip line and
/// returns `None` (the test then returns without asserting anything).
pub fn start_or_skip(kind: PeerKind, opts: PeerOptions) -> Option<Peer> {
    if enabled(kind) {
        Some(Peer::start(kind, opts))
    } else {
        skip(format_args!("needs the {kind} peer, excluded by {VAR}"));
        None
    }
}

/// Starts one peer of each of `kinds` with `opts`, in parallel (each start can take seconds).
pub fn start_peers(kinds: &[PeerKind], opts: PeerOptions) -> Vec<Peer> {
    start_peers_with(kinds, |_| opts.clone())
}

/// Starts one peer of each of `kinds`, with the options `opts_of` gives for its kind, in
/// parallel.
pub fn start_peers_with(
    kinds: &[PeerKind],
    opts_of: impl Fn(PeerKind) -> PeerOptions + Sync,
) -> Vec<Peer> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = kinds
            .iter()
            .map(|&kind| {
                let opts = opts_of(kind);
                scope.spawn(move || Peer::start(kind, opts))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a peer failed to start"))
            .collect()
    })
}

/// Prints `<test name>: skipped: <why>`. The test harness names each test's thread after
/// the test, which is how the line says which test skipped.
pub fn skip(why: impl fmt::Display) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    notice(format_args!("{test}: skipped: {why}"));
}

/// One line on the process's real stderr. `eprintln!` would go through libtest's output
/// capture, which shows a passing test's output only with `--nocapture`; a skip must be
/// seen in a plain `cargo test` run.
fn notice(line: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
