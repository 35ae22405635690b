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
//!   backpressure against a stalled network;
//! * [`floods`]: a cookie flood, a ping flood without reads;
//! * [`clients`]: the core case through `AsyncClient` (handlers and `events()`) and `Client`.
//!
//! Every session here reconnects with short backoffs ([`policy()`]: 50 ms, up to 200 ms) and
//! the peers ping every second ([`short_heartbeat`]); every wait is on an event, with
//! [`DEADLINE`] (a few negative checks, "nothing more was tried", wait past the backoff).
//!
//! [`Log`] (`record.rs`) records every event a session publishes (all six, as [`Event`]s),
//! from an actor subscriber or a client's handlers; [`assert_reconnected`] checks the promised
//! sequence: `Disconnect` for the lost session, `Reconnecting` before each attempt, `Connect`
//! with a new sid and the attempt that opened it, and nothing of the old session after its
//! end.

mod bounds;
mod clients;
mod delivery;
mod floods;
mod hook;
mod network;
mod policy;
mod record;
mod restart;

use std::time::Duration;

use actix::Addr;
use actix_engineio::{Connect, DisconnectReason, Event, ReconnectPolicy, Session, Upgrade};

pub use self::record::{messages, summary, Log};
use crate::support::client::DEADLINE;
use crate::support::peers::{any_of, Peer, PeerEvent, PeerKind, PeerOptions};

/// The reconnection policy of these tests: 50 ms before the first attempt, doubling up to
/// 200 ms, randomized by half either way, no limit on attempts.
pub fn policy() -> ReconnectPolicy {
    ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(50))
        .max_delay(Duration::from_millis(200))
}

/// A policy whose every attempt waits exactly `delay`: long enough to act during the wait.
pub fn waiting_policy(delay: Duration) -> ReconnectPolicy {
    policy()
        .initial_delay(delay)
        .max_delay(delay)
        .randomization(0.0)
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

/// Waits until `peer` has logged the opening of session `sid` (its log may lag behind what
/// the client saw); panics after [`DEADLINE`].
pub async fn peer_opened(peer: &Peer, l: &str, sid: &str) {
    let logged = crate::support::client::peer_event(
        peer,
        |e| matches!(e, PeerEvent::Connect { sid: s, .. } if s == sid),
    )
    .await;
    assert!(
        logged.is_some(),
        "{l}: the {} peer never opened {sid}: {:?}",
        peer.kind(),
        peer_sessions(peer)
    );
}

/// [`peer_opened`] from a plain thread.
pub fn peer_opened_blocking(peer: &Peer, l: &str, sid: &str) {
    let logged = peer.wait_for(
        DEADLINE,
        |e| matches!(e, PeerEvent::Connect { sid: s, .. } if s == sid),
    );
    assert!(
        logged.is_some(),
        "{l}: the {} peer never opened {sid}: {:?}",
        peer.kind(),
        peer_sessions(peer)
    );
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
// the promised sequence

/// Checks the reconnection that followed the session `old_sid` in `events`:
/// * its `Connect` (if seen: a subscriber added later has not), then its `Disconnect`, with
///   nothing of it after;
/// * then `Reconnecting` for attempts 1, 2, … n in order, each with a delay, with nothing
///   but `Undelivered` between them;
/// * then `Connect` with a new sid and `attempt` n (a reconnection).
///
/// Returns the reason of the loss and the new `Connect`.
pub fn assert_reconnected(l: &str, events: &[Event], old_sid: &str) -> (DisconnectReason, Connect) {
    let fail = |why: String| -> ! { panic!("{l}: {why}; seen:\n{}", summary(events)) };
    // A subscriber added to the running session has not seen its Connect.
    let start = events
        .iter()
        .position(|e| matches!(e, Event::Connect(c) if c.sid == old_sid))
        .map_or(0, |i| i + 1);
    let rest = &events[start..];
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
pub async fn echo(session: &Addr<Session>, log: &Log, l: &str, text: &str) {
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
