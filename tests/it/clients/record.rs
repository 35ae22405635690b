//! [`Record`]: what the handlers of an `AsyncClient` or a blocking `Client` were given, in
//! the order they ran, with waits for both worlds: async ones (polling on the caller's
//! runtime, whichever it is) and blocking ones (on a condition variable).

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use actix_engineio::{AsyncClient, Client, Connect, DisconnectReason, Payload};

pub use crate::support::client::Seen;
use crate::support::client::{wait_until, DEADLINE};

/// Every event the handlers were given, in order. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Record {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    seen: Mutex<Vec<Seen>>,
    changed: Condvar,
}

impl Record {
    fn lock(&self) -> MutexGuard<'_, Vec<Seen>> {
        self.inner
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends an event and wakes the blocking waiters.
    pub fn push(&self, seen: Seen) {
        self.lock().push(seen);
        self.inner.changed.notify_all();
    }

    /// Sets the four handlers of `client` to record into this.
    pub fn handle_async(&self, client: &AsyncClient) {
        let r = self.clone();
        client.on_connect(move |c| r.push(Seen::Connect(c)));
        let r = self.clone();
        client.on_message(move |p| r.push(Seen::Message(p)));
        let r = self.clone();
        client.on_upgrade(move |u| r.push(Seen::Upgrade(u)));
        let r = self.clone();
        client.on_disconnect(move |d| r.push(Seen::Disconnect(d)));
    }

    /// Sets the four handlers of `client` to record into this.
    pub fn handle_blocking(&self, client: &Client) {
        let r = self.clone();
        client.on_connect(move |c| r.push(Seen::Connect(c)));
        let r = self.clone();
        client.on_message(move |p| r.push(Seen::Message(p)));
        let r = self.clone();
        client.on_upgrade(move |u| r.push(Seen::Upgrade(u)));
        let r = self.clone();
        client.on_disconnect(move |d| r.push(Seen::Disconnect(d)));
    }

    /// Everything seen so far.
    pub fn all(&self) -> Vec<Seen> {
        self.lock().clone()
    }

    /// The messages seen so far.
    pub fn messages(&self) -> Vec<Payload> {
        messages_of(&self.lock())
    }

    /// The connect events seen so far.
    pub fn connects(&self) -> Vec<Connect> {
        self.lock()
            .iter()
            .filter_map(|s| match s {
                Seen::Connect(c) => Some(c.clone()),
                _ => None,
            })
            .collect()
    }

    /// The disconnect reasons seen so far.
    pub fn disconnects(&self) -> Vec<DisconnectReason> {
        disconnects_of(&self.lock())
    }

    /// A short account of what was seen, for failure messages.
    pub fn summary(&self) -> String {
        let seen = self.lock();
        let messages = messages_of(&seen).len();
        let others: Vec<String> = seen
            .iter()
            .filter(|s| !matches!(s, Seen::Message(_)))
            .map(|s| format!("{s:?}"))
            .collect();
        format!("{messages} messages; other events: {others:?}")
    }

    /// Waits (async, on any runtime) until `done` holds for what was seen, or [`DEADLINE`].
    pub async fn until(&self, done: impl Fn(&[Seen]) -> bool) -> bool {
        wait_until(DEADLINE, || done(&self.lock())).await
    }

    /// Waits (blocking the thread) until `done` holds for what was seen, or [`DEADLINE`].
    pub fn until_blocking(&self, done: impl Fn(&[Seen]) -> bool) -> bool {
        let end = Instant::now() + DEADLINE;
        let mut seen = self.lock();
        loop {
            if done(&seen) {
                return true;
            }
            let left = end.saturating_duration_since(Instant::now());
            if left == Duration::ZERO {
                return false;
            }
            seen = self
                .inner
                .changed
                .wait_timeout(seen, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Waits until `n` messages arrived in all, or a disconnect, or [`DEADLINE`]; returns
    /// every message seen.
    pub async fn messages_at_least(&self, n: usize) -> Vec<Payload> {
        self.until(|seen| enough(seen, n)).await;
        self.messages()
    }

    /// [`messages_at_least`](Self::messages_at_least), blocking.
    pub fn messages_at_least_blocking(&self, n: usize) -> Vec<Payload> {
        self.until_blocking(|seen| enough(seen, n));
        self.messages()
    }
}

/// `n` messages in all, or the end of the latest session (a client that reconnected has
/// ended sessions behind it).
fn enough(seen: &[Seen], n: usize) -> bool {
    let latest = seen
        .iter()
        .rposition(|s| matches!(s, Seen::Connect(_)))
        .unwrap_or(0);
    messages_of(seen).len() >= n || !disconnects_of(&seen[latest..]).is_empty()
}

fn messages_of(seen: &[Seen]) -> Vec<Payload> {
    seen.iter()
        .filter_map(|s| match s {
            Seen::Message(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

fn disconnects_of(seen: &[Seen]) -> Vec<DisconnectReason> {
    seen.iter()
        .filter_map(|s| match s {
            Seen::Disconnect(d) => Some(d.clone()),
            _ => None,
        })
        .collect()
}
