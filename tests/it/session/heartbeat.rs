//! 4, 7: pings keep a session alive; a server that freezes, or never pings, ends it with a
//! ping timeout after `pingInterval + pingTimeout`.

use std::time::{Duration, Instant};

use actix_engineio::{DisconnectReason, Payload};
use futures::future::join_all;

use super::{connect, short_heartbeat};
use crate::support::client::{Client, Mode, ALL_MODES};
use crate::support::peers::{all_peers, any_of, start_peers, Peer, PeerEvent, PeerKind};
use crate::support::scripted::{open_packet, Reply, Scripted, ScriptedRequest};

// ---------------------------------------------------------------------------------------
// 4: heartbeat

#[actix_rt::test]
async fn heartbeat_keeps_the_session_alive() {
    let interval = Duration::from_millis(1000);
    let peers = start_peers(&all_peers(), short_heartbeat(1000, 1000));
    let cases: Vec<(&Peer, Mode)> = peers
        .iter()
        .flat_map(|p| ALL_MODES.map(|m| (p, m)))
        .collect();
    // All nine sessions at once: the wait is shared.
    join_all(cases.iter().map(|&(peer, mode)| async move {
        let c = connect(peer, mode).await;
        let l = &c.label;
        c.echo(Payload::from("before")).await;
        actix_rt::time::sleep(interval * 4 + Duration::from_millis(600)).await;
        c.assert_alive();
        c.echo(Payload::from("after four intervals")).await;
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

/// Resumes paused peers when dropped, also when an assertion failed.
struct ResumeOnDrop<'a>(&'a [Peer]);

impl Drop for ResumeOnDrop<'_> {
    fn drop(&mut self) {
        for peer in self.0 {
            peer.resume();
        }
    }
}

#[actix_rt::test]
async fn ping_timeout_when_a_real_server_freezes() {
    let (interval, timeout) = (Duration::from_millis(1000), Duration::from_millis(1000));
    let Some(kinds) = any_of(
        &[PeerKind::Node, PeerKind::Python],
        "SIGSTOP: the in-process rust peer cannot be frozen",
    ) else {
        return;
    };
    let peers = start_peers(&kinds, short_heartbeat(1000, 1000));
    let cases: Vec<(&Peer, Mode)> = peers
        .iter()
        .flat_map(|p| ALL_MODES.map(|m| (p, m)))
        .collect();
    let clients = join_all(cases.iter().map(|&(peer, mode)| async move {
        let c = connect(peer, mode).await;
        c.settle(mode).await;
        c
    }))
    .await;
    // Freeze the servers between two pings, after at least one: a client that did not
    // re-arm its deadline on pings would time out too early.
    actix_rt::time::sleep(interval + interval * 7 / 10).await;
    for c in &clients {
        c.assert_alive();
    }

    let _resume = ResumeOnDrop(&peers);
    for peer in &peers {
        assert!(peer.pause(), "{} peer: SIGSTOP failed", peer.kind());
    }
    let paused_at = Instant::now();
    let latest = interval + timeout + Duration::from_secs(5);
    let ends = join_all(clients.iter().map(|c| async move {
        let reason = c.events.disconnect_within(latest).await;
        (reason, paused_at.elapsed())
    }))
    .await;
    for (c, (reason, after)) in clients.iter().zip(ends) {
        let l = &c.label;
        assert_eq!(reason, DisconnectReason::PingTimeout, "{l}: reason");
        assert_eq!(reason.to_string(), "ping timeout", "{l}");
        // The last ping came at most one interval before the pause.
        assert!(
            after + Duration::from_millis(300) >= timeout,
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
