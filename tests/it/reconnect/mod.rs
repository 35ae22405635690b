//! Supervised reconnection and bounded delivery, against the real peers behind the fault
//! proxy (`support::fault_proxy`) and scripted servers.
//!
//! By concern:
//! * [`restart`]: the server killed and restarted on the same port; `400 Session ID unknown`
//!   from a server that lost the session;
//! * [`network`]: the network cut (websocket, polling, mid-upgrade), the server frozen,
//!   connections refused for a while;
//! * [`policy`]: `Close` during the backoff wait, attempts running out,
//!   `retry_first_connect`, `after_server_disconnect`;
//! * [`hook`]: the `before_attempt` hook: a fresh token on each attempt, `give_up`;
//! * [`delivery`]: messages across an outage: held and flushed in order, refused with the
//!   payload given back, `Undelivered`;
//! * [`bounds`]: the bounded send queue (`do_send` dropped and counted, `TrySend` refused),
//!   backpressure against a stalled network, a cookie flood, a ping flood without reads;
//! * [`clients`]: the core case through `AsyncClient` (handlers and `events()`) and `Client`.
//!
//! Every session here reconnects with short backoffs ([`policy`]: 50 ms, up to 200 ms) and the
//! peers ping every second ([`short_heartbeat`]); every wait is on an event, with
//! [`DEADLINE`].
//!
//! [`Log`] records every event a session publishes (all six, as [`Event`]s), from an actor
//! subscriber or a client's handlers; [`assert_reconnected`] checks the promised sequence:
//! `Disconnect` for the lost session, `Reconnecting` before each attempt, `Connect` with a
//! new sid and the attempt that opened it, and nothing of the old session after its end.

mod bounds;
mod clients;
mod delivery;
mod hook;
mod network;
mod policy;
mod restart;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_engineio::{
    Connect, Disconnect, DisconnectReason, Event, Message, Payload, ReconnectPolicy, Reconnecting,
    SessionBuilder, Undelivered, Upgrade,
};

use crate::support::client::{describe, DEADLINE};
use crate::support::peers::{any_of, Peer, PeerEvent, PeerKind, PeerOptions};

/// The reconnection policy of these tests: 50 ms before the first attempt, doubling up to
/// 200 ms, randomized by half either way, no limit on attempts.
pub fn policy() -> ReconnectPolicy {
    ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(50))
        .max_delay(Duration::from_millis(200))
}

/// Peers that ping every second and wait a second for the pong (whole seconds: python
/// announces whole seconds only).
pub fn short_heartbeat() -> PeerOptions {
    PeerOptions {
        ping_interval: Duration::from_secs(1),
        ping_timeout: Duration::from_secs(1),
        ..PeerOptions::default()
    }
}

// ---------------------------------------------------------------------------------------
// peers

/// Starts a peer off the test's thread, so that the sessions of the test run meanwhile.
pub async fn start_peer(kind: PeerKind, opts: PeerOptions) -> Peer {
    actix_rt::task::spawn_blocking(move || Peer::start(kind, opts))
        .await
        .expect("the peer failed to start")
}

/// Kills `peer` (off the test's thread) and gives it back, dead, its log still readable.
pub async fn kill_peer(mut peer: Peer) -> Peer {
    actix_rt::task::spawn_blocking(move || {
        peer.kill();
        peer
    })
    .await
    .expect("killing the peer panicked")
}

/// A new peer of the same kind on the port of `dead` (a killed one): a server restart.
pub async fn restart_peer(dead: &Peer, opts: PeerOptions) -> Peer {
    let opts = PeerOptions {
        port: Some(dead.port()),
        ..opts
    };
    start_peer(dead.kind(), opts).await
}

/// The first enabled of the Rust (fastest to start), node and python peers, for cases
/// where any server does; `None` (the test skips) only if none is enabled.
pub fn any_peer() -> Option<PeerKind> {
    any_of(
        &[PeerKind::Rust, PeerKind::Node, PeerKind::Python],
        "any peer",
    )
    .map(|kinds| kinds[0])
}

/// The sessions the peer opened, in order.
pub fn peer_sessions(peer: &Peer) -> Vec<String> {
    peer.events()
        .into_iter()
        .filter_map(|e| match e {
            PeerEvent::Connect { sid, .. } => Some(sid),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// the event log

/// Every event a session published, in the order its subscriber or handlers got them.
/// Cheap to clone (shared); usable from actors, async handlers and handler threads.
#[derive(Clone, Default)]
pub struct Log {
    seen: Arc<Mutex<Vec<Event>>>,
}

impl Log {
    fn lock(&self) -> MutexGuard<'_, Vec<Event>> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn push(&self, event: Event) {
        self.lock().push(event);
    }

    pub fn all(&self) -> Vec<Event> {
        self.lock().clone()
    }

    /// Subscribes a recorder of all six events to the session `builder` starts.
    pub fn subscribe(&self, builder: SessionBuilder) -> SessionBuilder {
        let recorder = Recorder(self.clone()).start();
        builder
            .on_connect(recorder.clone().recipient())
            .on_message(recorder.clone().recipient())
            .on_upgrade(recorder.clone().recipient())
            .on_disconnect(recorder.clone().recipient())
            .on_reconnecting(recorder.clone().recipient())
            .on_undelivered(recorder.recipient())
    }

    pub fn connects(&self) -> Vec<Connect> {
        connects(&self.lock())
    }

    pub fn disconnects(&self) -> Vec<DisconnectReason> {
        disconnects(&self.lock())
    }

    pub fn reconnectings(&self) -> Vec<Reconnecting> {
        self.lock()
            .iter()
            .filter_map(|e| match e {
                Event::Reconnecting(r) => Some(*r),
                _ => None,
            })
            .collect()
    }

    pub fn messages(&self) -> Vec<Payload> {
        messages(&self.lock())
    }

    pub fn undelivered(&self) -> Vec<Payload> {
        self.lock()
            .iter()
            .filter_map(|e| match e {
                Event::Undelivered(lost) => Some(lost.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// The events, one short line each, for failure messages.
    pub fn summary(&self) -> String {
        summary(&self.lock())
    }

    /// Waits (on the caller's runtime) until `done` holds for the events; panics after
    /// [`DEADLINE`] with `what` and the events.
    pub async fn until(&self, l: &str, what: &str, done: impl Fn(&[Event]) -> bool) -> Vec<Event> {
        let start = Instant::now();
        loop {
            {
                let seen = self.lock();
                if done(&seen) {
                    return seen.clone();
                }
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{l}: no {what} within {DEADLINE:?}; seen:\n{}",
                self.summary()
            );
            actix_rt::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits for the `n`th `Connect` (1 for the first) and gives it.
    pub async fn nth_connect(&self, l: &str, n: usize) -> Connect {
        let seen = self
            .until(l, &format!("connect #{n}"), |e| connects(e).len() >= n)
            .await;
        connects(&seen).swap_remove(n - 1)
    }

    /// Waits for the `n`th `Disconnect` (1 for the first) and gives its reason.
    pub async fn nth_disconnect(&self, l: &str, n: usize) -> DisconnectReason {
        let seen = self
            .until(l, &format!("disconnect #{n}"), |e| {
                disconnects(e).len() >= n
            })
            .await;
        disconnects(&seen).swap_remove(n - 1)
    }

    /// Waits until `Reconnecting` announced attempt `attempt` (or a later one).
    pub async fn attempt(&self, l: &str, attempt: u32) {
        self.until(l, &format!("reconnecting attempt {attempt}"), |e| {
            e.iter()
                .any(|e| matches!(e, Event::Reconnecting(r) if r.attempt >= attempt))
        })
        .await;
    }
}

fn connects(events: &[Event]) -> Vec<Connect> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Connect(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

fn disconnects(events: &[Event]) -> Vec<DisconnectReason> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Disconnect(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

pub fn messages(events: &[Event]) -> Vec<Payload> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// One short line per event; runs of messages as one line.
pub fn summary(events: &[Event]) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut run: Vec<&Payload> = Vec::new();
    let flush = |run: &mut Vec<&Payload>, lines: &mut Vec<String>| {
        match run.as_slice() {
            [] => {}
            [one] => lines.push(format!("  Message {}", describe(one))),
            [first, .., last] => lines.push(format!(
                "  {} Messages, {} .. {}",
                run.len(),
                describe(first),
                describe(last)
            )),
        }
        run.clear();
    };
    for event in events {
        if let Event::Message(p) = event {
            run.push(p);
            continue;
        }
        flush(&mut run, &mut lines);
        lines.push(match event {
            Event::Undelivered(lost) => format!("  Undelivered({} messages)", lost.len()),
            other => format!("  {other:?}"),
        });
    }
    flush(&mut run, &mut lines);
    lines.join("\n")
}

/// Records events into a [`Log`].
pub struct Recorder(Log);

impl Actor for Recorder {
    type Context = Context<Self>;
}

impl Handler<Connect> for Recorder {
    type Result = ();
    fn handle(&mut self, event: Connect, _: &mut Context<Self>) {
        self.0.push(Event::Connect(event));
    }
}

impl Handler<Message> for Recorder {
    type Result = ();
    fn handle(&mut self, Message(payload): Message, _: &mut Context<Self>) {
        self.0.push(Event::Message(payload));
    }
}

impl Handler<Upgrade> for Recorder {
    type Result = ();
    fn handle(&mut self, event: Upgrade, _: &mut Context<Self>) {
        self.0.push(Event::Upgrade(event));
    }
}

impl Handler<Disconnect> for Recorder {
    type Result = ();
    fn handle(&mut self, Disconnect(reason): Disconnect, _: &mut Context<Self>) {
        self.0.push(Event::Disconnect(reason));
    }
}

impl Handler<Reconnecting> for Recorder {
    type Result = ();
    fn handle(&mut self, event: Reconnecting, _: &mut Context<Self>) {
        self.0.push(Event::Reconnecting(event));
    }
}

impl Handler<Undelivered> for Recorder {
    type Result = ();
    fn handle(&mut self, Undelivered(lost): Undelivered, _: &mut Context<Self>) {
        self.0.push(Event::Undelivered(lost));
    }
}

// ---------------------------------------------------------------------------------------
// the promised sequence

/// Checks the reconnection that followed the session `old_sid` in `events`:
/// * its `Connect`, then exactly one `Disconnect` for it, with nothing of it after;
/// * then `Reconnecting` for attempts 1, 2, … n in order, each with a delay, with nothing
///   but `Undelivered` between them;
/// * then `Connect` with a new sid and `attempt` n (a reconnection).
///
/// Returns the reason of the loss and the new `Connect`.
pub fn assert_reconnected(l: &str, events: &[Event], old_sid: &str) -> (DisconnectReason, Connect) {
    let fail = |why: String| -> ! { panic!("{l}: {why}; seen:\n{}", summary(events)) };
    let start = events
        .iter()
        .position(|e| matches!(e, Event::Connect(c) if c.sid == old_sid))
        .unwrap_or_else(|| fail(format!("no Connect of session {old_sid}")));
    let rest = &events[start + 1..];
    let end = rest
        .iter()
        .position(|e| matches!(e, Event::Disconnect(_) | Event::Connect(_)))
        .unwrap_or_else(|| fail(format!("session {old_sid} never ended")));
    let Event::Disconnect(reason) = &rest[end] else {
        fail(format!("a Connect came before the Disconnect of {old_sid}"));
    };
    let mut expected_attempt = 1;
    for event in &rest[end + 1..] {
        match event {
            Event::Reconnecting(next) => {
                if next.attempt != expected_attempt {
                    fail(format!(
                        "Reconnecting for attempt {} where {expected_attempt} was due",
                        next.attempt
                    ));
                }
                expected_attempt += 1;
            }
            Event::Undelivered(_) => {}
            Event::Connect(connect) => {
                if expected_attempt == 1 {
                    fail("a Connect without Reconnecting before it".into());
                }
                if connect.sid == old_sid {
                    fail(format!("the new session has the old sid {old_sid}"));
                }
                if connect.attempt != expected_attempt - 1 || !connect.is_reconnection() {
                    fail(format!(
                        "the new Connect says attempt {} after Reconnecting for attempt {}",
                        connect.attempt,
                        expected_attempt - 1
                    ));
                }
                return (reason.clone(), connect.clone());
            }
            other => fail(format!(
                "{other:?} between the Disconnect of {old_sid} and the next Connect"
            )),
        }
    }
    fail(format!("no new Connect after the end of {old_sid}"))
}

/// The events after the `Connect` of session `sid`, up to its end (or the last one).
pub fn events_of(events: &[Event], sid: &str) -> Vec<Event> {
    let Some(start) = events
        .iter()
        .position(|e| matches!(e, Event::Connect(c) if c.sid == sid))
    else {
        return Vec::new();
    };
    events[start + 1..]
        .iter()
        .take_while(|e| !matches!(e, Event::Disconnect(_) | Event::Connect(_)))
        .cloned()
        .collect()
}

/// Whether a reason is the loss of a connection: a transport error of any kind.
pub fn is_transport_error(reason: &DisconnectReason) -> bool {
    matches!(reason, DisconnectReason::TransportError(_))
}

// ---------------------------------------------------------------------------------------
// echoes

/// Sends `text` through the session actor and waits for its echo, the next message.
pub async fn echo(session: &Addr<actix_engineio::Session>, log: &Log, l: &str, text: &str) {
    let before = log.messages().len();
    match session.send(actix_engineio::Send::text(text)).await {
        Ok(Ok(())) => {}
        other => panic!(
            "{l}: Send({text:?}) answered {other:?}; seen:\n{}",
            log.summary()
        ),
    }
    let seen = log
        .until(l, &format!("echo of {text:?}"), |e| {
            messages(e).len() > before
        })
        .await;
    assert_eq!(
        messages(&seen)[before].as_text(),
        Some(text),
        "{l}: the next message is not the echo of {text:?}; seen:\n{}",
        summary(&seen)
    );
}

/// Waits for the session `sid` to complete its upgrade to websocket.
pub async fn upgraded(log: &Log, l: &str, sid: &str) {
    let sid = sid.to_owned();
    let seen = log
        .until(l, "the upgrade", |e| {
            events_of(e, &sid)
                .iter()
                .any(|e| matches!(e, Event::Upgrade(_)))
        })
        .await;
    let upgrade = events_of(&seen, &sid)
        .into_iter()
        .find(|e| matches!(e, Event::Upgrade(_)));
    assert_eq!(
        upgrade,
        Some(Event::Upgrade(Upgrade::Completed(
            actix_engineio::TransportKind::WebSocket
        ))),
        "{l}: session {sid} did not upgrade; seen:\n{}",
        summary(&seen)
    );
}
