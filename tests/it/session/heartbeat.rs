//! 4, 7: pings keep a session alive; a server that freezes, or never pings, ends it with a
//! ping timeout after `pingInterval + pingTimeout`.

use std::time::{Duration, Instant};

use actix_engineio::{DisconnectReason, Payload};
use futures::future::join_all;

use super::{label, short_heartbeat};
use crate::support::client::{wait_until, Client, Mode, ALL_MODES, DEADLINE};
use crate::support::fault_proxy::FaultProxy;
use crate::support::peers::{all_peers, any_of, start_peers, Peer, PeerEvent, PeerKind};
use crate::support::scripted::{open_packet, Reply, Scripted, ScriptedRequest};
use crate::support::wire::Wire;

// ---------------------------------------------------------------------------------------
// 4: heartbeat

/// The peers' heartbeat here: a ping every second, answered within 5 s (a second is too
/// short a deadline for a loaded machine running nine sessions).
const INTERVAL: Duration = Duration::from_millis(1000);
const TIMEOUT: Duration = Duration::from_millis(5000);

/// Peers with that heartbeat, each behind a recording proxy (to see the pings on the
/// wire; the peers do not log them).
fn heartbeat_peers(kinds: &[PeerKind]) -> Vec<(Peer, FaultProxy)> {
    let options = short_heartbeat(INTERVAL.as_millis() as u64, TIMEOUT.as_millis() as u64);
    start_peers(kinds, options)
        .into_iter()
        .map(|peer| {
            let proxy = FaultProxy::start(peer.port());
            proxy.record();
            (peer, proxy)
        })
        .collect()
}

/// Waits until the session `c` has answered `n` pings on the wire of `proxy`.
async fn pings_answered(c: &Client, proxy: &FaultProxy, n: usize) {
    let answered = || Wire::recorded(proxy).pings_answered(&c.sid);
    assert!(
        wait_until(DEADLINE * 2, || answered() >= n).await,
        "{}: {} pings answered, {n} expected; seen {:?}",
        c.label,
        answered(),
        c.events.all()
    );
}

/// A session answering the server's pings outlives `pingInterval + pingTimeout` (when a
/// session that did not answer would have been closed): it answers seven pings, the
/// last of them at least seven intervals after the handshake (each comes an interval
/// after the pong before it), then still echoes, and the peer never closed it.
#[actix_rt::test]
async fn heartbeat_keeps_the_session_alive() {
    let peers = heartbeat_peers(&all_peers());
    let pings = ((INTERVAL + TIMEOUT).as_millis() / INTERVAL.as_millis()) as usize + 1;
    let cases: Vec<(&Peer, &FaultProxy, Mode)> = peers
        .iter()
        .flat_map(|(p, proxy)| ALL_MODES.map(|m| (p, proxy, m)))
        .collect();
    // All nine sessions at once: the wait is shared.
    join_all(cases.iter().map(|&(peer, proxy, mode)| async move {
        let l = label(peer, mode);
        let c = Client::connect(l, mode.builder(&proxy.url())).await;
        let l = &c.label;
        c.echo(Payload::from("before")).await;
        pings_answered(&c, proxy, pings).await;
        c.assert_alive();
        c.echo(Payload::from("after the pings")).await;
        if mode == Mode::Upgrade {
            c.upgraded().await;
        }
        let closed = peer
            .events()
            .into_iter()
            .find(|e| matches!(e, PeerEvent::Close { sid, .. } if *sid == c.sid));
        assert!(
            closed.is_none(),
            "{l}: the peer closed the session: {closed:?}"
        );
        c.close().await;
    }))
    .await;
}

// ---------------------------------------------------------------------------------------
// 7: ping timeout

/// A real server frozen (SIGSTOP) between two pings ends every session with a ping
/// timeout, not before `pingTimeout` after the freeze (the last ping came at most an
/// interval before it): the servers are frozen once every session has answered three
/// pings, so a client that did not re-arm its deadline on pings (`pingInterval +
/// pingTimeout` after the handshake) would end more than an interval too early.
#[actix_rt::test]
async fn ping_timeout_when_a_real_server_freezes() {
    let Some(kinds) = any_of(
        &[PeerKind::Node, PeerKind::Python],
        "SIGSTOP: the in-process rust peer cannot be frozen",
    ) else {
        return;
    };
    let peers = heartbeat_peers(&kinds);
    let cases: Vec<(&Peer, &FaultProxy, Mode)> = peers
        .iter()
        .flat_map(|(p, proxy)| ALL_MODES.map(|m| (p, proxy, m)))
        .collect();
    let clients = join_all(cases.iter().map(|&(peer, proxy, mode)| async move {
        let c = Client::connect(label(peer, mode), mode.builder(&proxy.url())).await;
        c.settle(mode).await;
        pings_answered(&c, proxy, 3).await;
        c
    }))
    .await;
    for c in &clients {
        c.assert_alive();
    }

    let frozen: Vec<_> = peers
        .iter()
        .map(|(peer, _)| {
            peer.freeze()
                .unwrap_or_else(|| panic!("{} peer: SIGSTOP failed", peer.kind()))
        })
        .collect();
    let paused_at = Instant::now();
    let latest = INTERVAL + TIMEOUT + Duration::from_secs(10);
    let ends = join_all(clients.iter().map(|c| async move {
        let reason = c.events.disconnect_within(latest).await;
        (reason, paused_at.elapsed())
    }))
    .await;
    drop(frozen);
    for (c, (reason, after)) in clients.iter().zip(ends) {
        let l = &c.label;
        assert_eq!(reason, DisconnectReason::PingTimeout, "{l}: reason");
        assert_eq!(reason.to_string(), "ping timeout", "{l}");
        // The last ping came at most one interval (and a pong's way) before the freeze.
        assert!(
            after + INTERVAL >= TIMEOUT,
            "{l}: ping timeout only {after:?} after the server froze"
        );
        assert!(
            after <= latest,
            "{l}: ping timeout {after:?} after the freeze"
        );
        eprintln!("{l}: ping timeout {after:?} after the server froze");
    }
}

/// A scripted server that handshakes in `mode` with pingInterval and pingTimeout of 1 s,
/// completes an upgrade, and never pings.
fn silent_server(mode: Mode) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| async move {
        let sid = req.query("sid");
        if req.is_websocket() {
            return match sid {
                None => Reply::websocket(|mut ws| async move {
                    ws.send_text(&open_packet("silent-ws", &[], 1000, 1000))
                        .await;
                    while ws.recv().await.is_some() {}
                }),
                Some(_) => Reply::websocket(|mut ws| async move {
                    if ws.recv_text().await.as_deref() == Some("2probe") {
                        ws.send_text("3probe").await;
                    }
                    while ws.recv().await.is_some() {}
                }),
            };
        }
        match (req.method.as_str(), sid) {
            ("GET", None) => {
                let upgrades: &[&str] = if mode == Mode::Upgrade {
                    &["websocket"]
                } else {
                    &[]
                };
                Reply::text(200, open_packet("silent-polling", upgrades, 1000, 1000))
            }
            // Over polling only, polls are never answered; during an upgrade a poll is
            // answered with a noop (which must not count as a ping).
            ("GET", Some(_)) if mode == Mode::Upgrade => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                Reply::text(200, "6")
            }
            ("GET", Some(_)) => Reply::Hang,
            _ => Reply::text(200, "ok"),
        }
    })
}

#[actix_rt::test]
async fn ping_timeout_when_the_server_never_pings() {
    let deadline = Duration::from_millis(2000);
    let latest = deadline + Duration::from_secs(5);
    join_all(ALL_MODES.map(|mode| async move {
        let server = silent_server(mode);
        let l = format!("[scripted silent server, {mode}]");
        let start = Instant::now();
        let c = Client::connect(l.clone(), mode.builder(&server.url())).await;
        if mode == Mode::Upgrade {
            c.upgraded().await;
        }
        let reason = c.events.disconnect_within(latest).await;
        let after = start.elapsed();
        assert_eq!(reason, DisconnectReason::PingTimeout, "{l}: reason");
        assert!(
            after + Duration::from_millis(50) >= deadline,
            "{l}: ping timeout after {after:?}, before pingInterval + pingTimeout = {deadline:?}"
        );
        assert!(after <= latest, "{l}: ping timeout only after {after:?}");
        eprintln!("{l}: ping timeout after {after:?}");
        drop(server);
    }))
    .await;
}
