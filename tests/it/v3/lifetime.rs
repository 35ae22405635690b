//! How a v3 session lives and ends: the server's close, the client's close (a clean one
//! for the server), the client's own pings (v3 servers drop a client that does not ping),
//! and a ping timeout when the server freezes.

use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_engineio::{Close, DisconnectReason, Payload};

use super::{connect_v3, each_peer_all_modes_at_once, each_peer_and_mode, short_heartbeat};
use crate::clients::common::{clean_close, is_clean_close, peer_close};
use crate::support::client::{sleep, Mode, ALL_MODES};
use crate::support::peers::{peer_closed, Peer, PeerOptions};

/// `close-me` makes the server close the session: a `ServerDisconnect` (node 3 and 6 close
/// the websocket without a `1`; python 3 sends `1` and keeps the websocket open).
#[actix_rt::test]
async fn server_close_is_server_disconnect() {
    each_peer_and_mode(PeerOptions::default(), server_close).await;
}

async fn server_close(peer: Rc<Peer>, mode: Mode) {
    let c = connect_v3(&peer, mode).await;
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

/// `Close` ends the session as a client disconnect, promptly, and the server sees a
/// clean close (node: `transport close`; python: its close packet, `client disconnect`;
/// not an error or a timeout).
#[actix_rt::test]
async fn client_close_is_clean_for_the_server() {
    each_peer_and_mode(PeerOptions::default(), client_close).await;
}

async fn client_close(peer: Rc<Peer>, mode: Mode) {
    let c = connect_v3(&peer, mode).await;
    let l = &c.label;
    c.settle(mode).await;
    c.session
        .send(Close)
        .await
        .unwrap_or_else(|e| panic!("{l}: Close: {e}"));
    let reason = c.events.disconnect_within(Duration::from_secs(10)).await;
    assert_eq!(reason, DisconnectReason::ClientDisconnect, "{l}");
    let peer_reason = peer_close(&peer, l, &c.sid).await;
    assert!(
        is_clean_close(peer.kind(), &peer_reason),
        "{l}: the peer's close reason {peer_reason:?}, expected {}",
        clean_close(peer.kind())
    );
}

const INTERVAL: Duration = Duration::from_millis(500);
const TIMEOUT: Duration = Duration::from_millis(1500);

/// A v3 session outlives many ping intervals: 8 s, four times `pingInterval +
/// pingTimeout` (node 3 and 6 close a v3 client that sends no ping within that) and more
/// than `pingInterval` plus python-engineio 3's 5 s grace (its limit), so the client
/// pings. It then still echoes, and the peer never closed it.
#[actix_rt::test]
async fn the_client_pings_keep_the_session_alive() {
    each_peer_all_modes_at_once(short_heartbeat(INTERVAL, TIMEOUT), client_pings).await;
}

async fn client_pings(peer: Rc<Peer>, mode: Mode) {
    let lifetime = (INTERVAL + TIMEOUT) * 4;
    let c = connect_v3(&peer, mode).await;
    let l = &c.label;
    c.settle(mode).await;
    sleep(lifetime).await;
    c.assert_alive();
    c.echo(Payload::from("after the pings")).await;
    let closed = peer_closed(&peer, &c.sid);
    assert!(
        closed.is_none(),
        "{l}: the peer closed the session: {closed:?}"
    );
    c.close().await;
}

const FROZEN_TIMEOUT: Duration = Duration::from_millis(2000);

/// The server frozen (SIGSTOP): its pong never comes, and the session ends with a ping
/// timeout, no sooner than the timeout after the last ping could go, and well within an
/// interval and a timeout of the freeze (and a margin).
#[actix_rt::test]
async fn ping_timeout_when_the_server_freezes() {
    for peer in super::start_v3_peers(short_heartbeat(INTERVAL, FROZEN_TIMEOUT)) {
        frozen_server(Rc::new(peer)).await;
    }
}

/// The three modes of one peer, frozen together.
async fn frozen_server(peer: Rc<Peer>) {
    let mut clients = Vec::new();
    for mode in ALL_MODES {
        let c = connect_v3(&peer, mode).await;
        c.settle(mode).await;
        clients.push(c);
    }
    // A few pings answered first.
    sleep(INTERVAL * 3).await;
    for c in &clients {
        c.assert_alive();
    }
    let frozen = peer
        .freeze()
        .unwrap_or_else(|| panic!("{} peer: SIGSTOP failed", peer.name()));
    let paused_at = Instant::now();
    let latest = INTERVAL + FROZEN_TIMEOUT + Duration::from_secs(10);
    let ends = futures::future::join_all(clients.iter().map(|c| async move {
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
            after + INTERVAL >= FROZEN_TIMEOUT,
            "{l}: ping timeout only {after:?} after the server froze"
        );
        eprintln!("{l}: ping timeout {after:?} after the server froze");
    }
}
