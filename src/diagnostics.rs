//! What a process can watch of the crate's sessions: how many of its actors are alive.
//! A program that opens and closes many sessions (or reconnects for days) can check
//! that nothing is left behind.

use std::sync::atomic::{AtomicUsize, Ordering};

static LIVE_ACTORS: AtomicUsize = AtomicUsize::new(0);

/// How many of this crate's actors (sessions, transports, heartbeats) are running in
/// the process now. A session that is open has three or four (the session, its
/// heartbeat, its transport, and during the upgrade its probe); one that ended has
/// none, once its actors have stopped.
///
/// ```
/// assert_eq!(actix_engineio::diagnostics::live_actors(), 0);
/// ```
pub fn live_actors() -> usize {
    LIVE_ACTORS.load(Ordering::Relaxed)
}

/// An actor of the crate started (or restarted).
pub(crate) fn actor_started() {
    LIVE_ACTORS.fetch_add(1, Ordering::Relaxed);
}

/// An actor of the crate stopped.
pub(crate) fn actor_stopped() {
    LIVE_ACTORS.fetch_sub(1, Ordering::Relaxed);
}
