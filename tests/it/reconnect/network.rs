//! A bad network between client and server, played by the fault proxy: the connection
//! cut (over websocket, over polling, in the middle of the upgrade), the server frozen
//! (ping timeout), connections refused for a while. Each time the same session actor
//! reports the loss, retries, and opens a new session on the same server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use actix_engineio::{Close, DisconnectReason, Event, Send, Session, TransportKind, Upgrade};

use super::{
    assert_reconnected, echo, events_of, is_transport_error, messages, peer_opened, peer_sessions,
    policy, short_heartbeat, summary, upgraded, Log,
};
use crate::support::client::{assert_texts, peer_event, sleep, texts, within, Mode, DEADLINE};
use crate::support::fault_proxy::FaultProxy;
use crate::support::peers::{all_peers, any_of, start_peers, Peer, PeerEvent, PeerKind};
use crate::support::scripted::{open_packet, Reply, Scripted};

/// Connects `mode` through `proxy` with the test policy (and `request_timeout`, if given).
async fn connect(l: &str, mode: Mode, proxy: &FaultProxy, log: &Log) -> (Addr<Session>, String) {
    let builder = log.subscribe(mode.builder(&proxy.url()).reconnect(policy()));
    let session = within(l, DEADLINE, builder.connect())
        .await
        .unwrap_or_else(|e| panic!("{l}: connect: {e}"));
    let first = log.nth_connect(l, 1).await;
    (session, first.sid)
}

/// Closes the session and expects the client disconnect as its last event.
async fn close(l: &str, session: &Addr<Session>, log: &Log, disconnects: usize) {
    within(l, DEADLINE, session.send(Close)).await.unwrap();
    assert_eq!(
        log.nth_disconnect(l, disconnects).await,
        DisconnectReason::ClientDisconnect,
        "{l}"
    );
}

/// The network is cut while the server echoes a burst: the loss is reported, a new session
/// opens, and the messages are those of the old session (a prefix of the burst, in order,
/// each once) up to its `Disconnect`, then only those of the new one.
async fn cut(peer: &Peer, mode: Mode) {
    let l = format!("[{} peer, {mode}, network cut]", peer.kind());
    let proxy = FaultProxy::start(peer.port());
    let log = Log::default();
    let (session, old_sid) = connect(&l, mode, &proxy, &log).await;
    if mode == Mode::Upgrade {
        upgraded(&log, &l, &old_sid).await;
    }
    // A subscriber added to the running session stays through the reconnection.
    let late = Log::default();
    late.subscribe_running(&session).await;
    let burst = texts("old-", 500);
    for text in &burst {
        session.do_send(Send::text(text.as_str()));
    }
    // Cut while echoes are on their way.
    log.until(&l, "the first echoes", |e| messages(e).len() >= 10)
        .await;
    // Cut, and refuse until the loss is seen: over polling a cut alone may fall between
    // two requests, and the next one would go through as if nothing happened.
    proxy.refuse();

    let reason = log.nth_disconnect(&l, 1).await;
    proxy.accept_again();
    assert!(is_transport_error(&reason), "{l}: ended with {reason:?}");
    log.nth_connect(&l, 2).await;
    let all = log.all();
    let (_, connect) = assert_reconnected(&l, &all, &old_sid);
    assert_eq!(connect.transport, mode.opens_on(), "{l}");
    peer_opened(peer, &l, &connect.sid).await;

    let before = messages(&events_of(&all, &old_sid));
    assert!(
        before.len() >= 10 && before.len() <= burst.len(),
        "{l}: {} echoes of the old session",
        before.len()
    );
    assert_texts(&l, &before, &burst[..before.len()]);

    let fresh = texts("new-", 20);
    for text in &fresh {
        echo(&session, &log, &l, text).await;
    }
    let after = messages(&events_of(&log.all(), &connect.sid));
    assert_texts(&l, &after, &fresh);
    let (_, again) = assert_reconnected(&l, &late.all(), &old_sid);
    assert_eq!(again, connect, "{l}: the late subscriber");
    assert_texts(&l, &messages(&events_of(&late.all(), &connect.sid)), &fresh);
    close(&l, &session, &log, 2).await;
}

#[actix_rt::test]
async fn network_cut_over_websocket_reconnects() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        cut(peer, Mode::WebSocket).await;
    }
}

#[actix_rt::test]
async fn network_cut_over_polling_reconnects() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        cut(peer, Mode::Polling).await;
    }
}

#[actix_rt::test]
async fn network_cut_after_the_upgrade_reconnects() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        cut(peer, Mode::Upgrade).await;
    }
}

/// The network goes down while the upgrade is under way (the proxy delays every chunk by
/// 300 ms, so the probe takes over a second; the network goes once the server has the
/// probe's request) and stays down for a while: the probe fails, the session is lost
/// before it moves to websocket (the probe goes out before any poll, so a cut that lasts
/// no longer than the probe only fails the upgrade), a new one opens once the network is
/// back, and upgrades.
#[actix_rt::test]
async fn network_down_mid_upgrade_reconnects_and_upgrades() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        let l = format!(
            "[{} peer, polling with upgrade, cut mid-upgrade]",
            peer.kind()
        );
        let proxy = FaultProxy::start(peer.port());
        proxy.slow(Duration::from_millis(300));
        let log = Log::default();
        let (session, old_sid) = connect(&l, Mode::Upgrade, &proxy, &log).await;
        let probe = peer_event(peer, |e| {
            matches!(e, PeerEvent::Request(r) if r.is_websocket()
                && r.query("sid").as_deref() == Some(old_sid.as_str()))
        })
        .await;
        assert!(probe.is_some(), "{l}: the probe never reached the server");
        assert!(
            !log.all().iter().any(|e| matches!(e, Event::Upgrade(_))),
            "{l}: the upgrade was over before the cut; seen:\n{}",
            log.summary()
        );
        proxy.refuse();
        proxy.fast();

        let reason = log.nth_disconnect(&l, 1).await;
        assert!(is_transport_error(&reason), "{l}: ended with {reason:?}");
        log.attempt(&l, 2).await;
        proxy.accept_again();
        log.nth_connect(&l, 2).await;
        let (_, connect) = assert_reconnected(&l, &log.all(), &old_sid);
        assert_eq!(connect.transport, TransportKind::Polling, "{l}");
        let old = events_of(&log.all(), &old_sid);
        assert!(
            !old.contains(&Event::Upgrade(Upgrade::Completed(
                TransportKind::WebSocket
            ))),
            "{l}: the lost session completed its upgrade; seen:\n{}",
            summary(&old)
        );
        upgraded(&log, &l, &connect.sid).await;
        echo(&session, &log, &l, "upgraded again").await;
        if peer.kind() == PeerKind::Node {
            let upgrades: Vec<_> = peer
                .events()
                .into_iter()
                .filter_map(|e| match e {
                    PeerEvent::Upgrade { sid, .. } => Some(sid),
                    _ => None,
                })
                .collect();
            assert!(!upgrades.contains(&old_sid), "{l}: node upgraded {old_sid}");
            assert!(
                upgrades.contains(&connect.sid),
                "{l}: node never upgraded the new session"
            );
        }
        close(&l, &session, &log, 2).await;
    }
}

/// The server freezes (SIGSTOP; node and python only): its pings stop, the session ends
/// with a ping timeout, the attempts time out against the frozen server; once it runs
/// again, a new session opens on it.
#[actix_rt::test]
async fn frozen_server_ping_timeout_then_reconnects_once_resumed() {
    let Some(kinds) = any_of(&[PeerKind::Node, PeerKind::Python], "SIGSTOP") else {
        return;
    };
    let peers = start_peers(&kinds, short_heartbeat());
    for peer in &peers {
        for mode in [Mode::WebSocket, Mode::Polling] {
            let l = format!("[{} peer, {mode}, frozen]", peer.kind());
            let proxy = FaultProxy::start(peer.port());
            let log = Log::default();
            let builder = mode
                .builder(&proxy.url())
                .request_timeout(Duration::from_secs(1))
                .reconnect(policy());
            let session = within(&l, DEADLINE, log.subscribe(builder).connect())
                .await
                .unwrap_or_else(|e| panic!("{l}: connect: {e}"));
            let old_sid = log.nth_connect(&l, 1).await.sid;
            echo(&session, &log, &l, "before").await;

            assert!(peer.pause(), "{l}: cannot freeze the peer");
            let reason = log.nth_disconnect(&l, 1).await;
            // An attempt timed out against the frozen server.
            log.attempt(&l, 2).await;
            assert!(peer.resume(), "{l}: cannot resume the peer");
            assert_eq!(reason, DisconnectReason::PingTimeout, "{l}");

            log.nth_connect(&l, 2).await;
            let (_, connect) = assert_reconnected(&l, &log.all(), &old_sid);
            assert!(connect.attempt >= 2, "{l}: {connect:?}");
            echo(&session, &log, &l, "after").await;
            close(&l, &session, &log, 2).await;
        }
    }
}

/// Connections are refused for a while (the proxy stops listening and cuts what is open):
/// every attempt fails, each announced by `Reconnecting` with the next number, and the
/// server sees none; once connections are accepted again the next attempt opens a session.
#[actix_rt::test]
async fn refused_for_a_while_then_accepted_again() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        for mode in [Mode::WebSocket, Mode::Polling] {
            let l = format!("[{} peer, {mode}, refused]", peer.kind());
            let proxy = FaultProxy::start(peer.port());
            let log = Log::default();
            let (session, old_sid) = connect(&l, mode, &proxy, &log).await;
            echo(&session, &log, &l, "before").await;
            peer_opened(peer, &l, &old_sid).await;
            let sessions = peer_sessions(peer).len();
            let accepted = proxy.connections_accepted();

            proxy.refuse();
            let reason = log.nth_disconnect(&l, 1).await;
            assert!(is_transport_error(&reason), "{l}: ended with {reason:?}");
            log.attempt(&l, 4).await;
            assert_eq!(
                proxy.connections_accepted(),
                accepted,
                "{l}: a connection got through"
            );
            assert_eq!(peer_sessions(peer).len(), sessions, "{l}");
            proxy.accept_again();

            log.nth_connect(&l, 2).await;
            let (_, connect) = assert_reconnected(&l, &log.all(), &old_sid);
            assert!(connect.attempt >= 4, "{l}: {connect:?}");
            echo(&session, &log, &l, "after").await;
            close(&l, &session, &log, 2).await;
        }
    }
}

/// A lost connection's transport may report its end late: here the first session's server
/// stops pinging and never answers the close, so the old websocket gives up on its close
/// only after the request timeout (2 s), long after the new session opened. That late end
/// must not touch the new session: it stays up, and echoes.
#[actix_rt::test]
async fn a_lost_connections_late_end_does_not_end_the_new_session() {
    let l = "[scripted, a late end of the lost connection]";
    let sockets = Arc::new(AtomicUsize::new(0));
    let server = Scripted::start(move |request| {
        let n = sockets.fetch_add(1, Ordering::SeqCst);
        async move {
            if !request.is_websocket() {
                return Reply::text(404, "");
            }
            Reply::websocket(move |mut ws| async move {
                if n == 0 {
                    // Silent: no ping, no answer to the close; the socket stays open.
                    ws.send_text(&open_packet("s0", &[], 300, 300)).await;
                    tokio::time::sleep(Duration::from_secs(30)).await;
                } else {
                    ws.send_text(&open_packet(&format!("s{n}"), &[], 25_000, 20_000))
                        .await;
                    ws.echo().await;
                }
            })
        }
    });
    let timeout = Duration::from_secs(2);
    let log = Log::default();
    let builder = Mode::WebSocket
        .builder(&server.url())
        .request_timeout(timeout)
        .reconnect(policy());
    let session = within(l, DEADLINE, log.subscribe(builder).connect())
        .await
        .unwrap();
    assert_eq!(
        log.nth_disconnect(l, 1).await,
        DisconnectReason::PingTimeout
    );
    let connect = log.nth_connect(l, 2).await;
    assert_reconnected(l, &log.all(), "s0");
    // Past the old websocket's close timeout, twice over.
    sleep(timeout * 2).await;
    assert_eq!(log.disconnects().len(), 1, "{l}: seen:\n{}", log.summary());
    echo(&session, &log, l, "still here").await;
    assert_eq!(connect.sid, "s1", "{l}");
    within(l, DEADLINE, session.send(Close)).await.unwrap();
}
