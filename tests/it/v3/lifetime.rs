//! How a v3 session lives and ends: the server's close, the client's close (a clean one
//! for the server), the client's own pings (node closes a v3 client that does not ping),
//! and a ping timeout when the server freezes.

use std::time::{Duration, Instant};

use actix_engineio::{Close, DisconnectReason, Payload};
use futures::future::join_all;

use super::{connect_v3, short_heartbeat, v3_peer};
use crate::support::client::{peer_event, sleep, ALL_MODES};
use crate::support::peers::{Peer, PeerEvent, PeerOptions};

/// The peer's close reason for `sid`, once it logged one.
async fn peer_close_reason(peer: &Peer, sid: &str) -> Option<String> {
    match peer_event(
        peer,
        |e| matches!(e, PeerEvent::Close { sid: s, .. } if s == sid),
    )
    .await
    {
        Some(PeerEvent::Close { reason, .. }) => Some(reason),
        _ => None,
    }
}

/// `close-me` makes the server close the session: a `ServerDisconnect`.
#[actix_rt::test]
async fn server_close_is_server_disconnect() {
    let Some(peer) = v3_peer(PeerOptions::default()) else {
        return;
    };
    for mode in ALL_MODES {
        let c = connect_v3(&peer.url(), mode).await;
        c.settle(mode).await;
        c.send("close-me").await;
        let reason = c.events.disconnect().await;
        assert_eq!(
            reason,
            DisconnectReason::ServerDisconnect,
            "{}: reason after close-me",
            c.label
        );
    }
}

/// `Close` ends the session as a client disconnect, promptly, and the server sees a
/// clean close (node: `transport close`, the close packet; not an error or a timeout).
#[actix_rt::test]
async fn client_close_is_clean_for_the_server() {
    let Some(peer) = v3_peer(PeerOptions::default()) else {
        return;
    };
    for mode in ALL_MODES {
        let c = connect_v3(&peer.url(), mode).await;
        let l = &c.label;
        c.settle(mode).await;
        let start = Instant::now();
        c.session
            .send(Close)
            .await
            .unwrap_or_else(|e| panic!("{l}: Close: {e}"));
        let reason = c.events.disconnect_within(Duration::from_secs(5)).await;
        assert_eq!(reason, DisconnectReason::ClientDisconnect, "{l}");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{l}: Close took {:?}",
            start.elapsed()
        );
        let peer_reason = peer_close_reason(&peer, &c.sid).await;
        assert_eq!(
            peer_reason.as_deref(),
            Some("transport close"),
            "{l}: the peer's close reason"
        );
    }
}

const INTERVAL: Duration = Duration::from_millis(500);
const TIMEOUT: Duration = Duration::from_millis(1500);

/// A v3 session outlives many times `pingInterval + pingTimeout` (2 s here): node 6 closes
/// a v3 client that sends no ping within that, so the client pings. It then still echoes,
/// and the peer never closed it.
#[actix_rt::test]
async fn the_client_pings_keep_the_session_alive() {
    let Some(peer) = v3_peer(short_heartbeat(INTERVAL, TIMEOUT)) else {
        return;
    };
    let lifetime = (INTERVAL + TIMEOUT) * 3;
    // The three sessions at once: the wait is shared.
    join_all(ALL_MODES.map(|mode| {
        let peer = &peer;
        async move {
            let c = connect_v3(&peer.url(), mode).await;
            let l = &c.label;
            c.settle(mode).await;
            sleep(lifetime).await;
            c.assert_alive();
            c.echo(Payload::from("after the pings")).await;
            let closed = peer
                .events()
                .into_iter()
                .find(|e| matches!(e, PeerEvent::Close { sid, .. } if *sid == c.sid));
            assert!(
                closed.is_none(),
                "{l}: the peer closed the session: {closed:?}"
            );
            c.close().await;
        }
    }))
    .await;
}

/// The server frozen (SIGSTOP): its pong never comes, and the session ends with a ping
/// timeout, within an interval and a timeout of the freeze (and a margin).
#[actix_rt::test]
async fn ping_timeout_when_the_server_freezes() {
    let Some(peer) = v3_peer(short_heartbeat(INTERVAL, Duration::from_millis(2000))) else {
        return;
    };
    let timeout = Duration::from_millis(2000);
    let mut clients = Vec::new();
    for mode in ALL_MODES {
        let c = connect_v3(&peer.url(), mode).await;
        c.settle(mode).await;
        clients.push(c);
    }
    // A few pings answered first.
    sleep(INTERVAL * 3).await;
    for c in &clients {
        c.assert_alive();
    }
    let frozen = peer.freeze().expect("node peer: SIGSTOP failed");
    let paused_at = Instant::now();
    let latest = INTERVAL + timeout + Duration::from_secs(10);
    let ends = join_all(clients.iter().map(|c| async move {
        let reason = c.events.disconnect_within(latest).await;
        (reason, paused_at.elapsed())
    }))
    .await;
    drop(frozen);
    for (c, (reason, after)) in clients.iter().zip(ends) {
        let l = &c.label;
        assert_eq!(reason, DisconnectReason::PingTimeout, "{l}: reason");
        // The first unanswered ping goes at most an interval after the freeze, and is
        // given the whole timeout.
        assert!(
            after + INTERVAL >= timeout,
            "{l}: ping timeout only {after:?} after the server froze"
        );
        assert!(
            after <= latest,
            "{l}: ping timeout {after:?} after the freeze"
        );
        eprintln!("{l}: ping timeout {after:?} after the server froze");
    }
}
