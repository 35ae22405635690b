//! The reconnection policy: `Close` during the backoff wait ends the session for good at
//! once; attempts running out end it with `ReconnectFailed`; `retry_first_connect` retries
//! a first connect until the server appears, or fails with the last error; a server's
//! close reconnects unless `after_server_disconnect(false)`.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use actix_engineio::{
    Close, ConnectError, DisconnectReason, Event, Send, SendError, Session, TransportError, Wait,
};

use super::{
    any_peer, assert_reconnected, echo, is_transport_error, peer_opened, peer_sessions, policy,
    short_heartbeat, start_peer, summary, waiting_policy, Log,
};
use crate::support::client::{sleep, wait_until, within, Mode, DEADLINE};
use crate::support::fault_proxy::FaultProxy;
use crate::support::peers::{all_peers, start_or_skip, start_peers, PeerOptions};

/// `Close` during the wait before an attempt answers at once (not after the delay), ends
/// the session for good with a final client `Disconnect`, and no attempt follows: the
/// proxy accepts no connection and the server opens no session afterwards.
#[actix_rt::test]
async fn close_during_the_backoff_wait_ends_for_good_at_once() {
    let Some(kind) = any_peer() else { return };
    let Some(peer) = start_or_skip(kind, short_heartbeat()) else {
        return;
    };
    let l = format!("[{kind} peer, websocket only, Close while waiting]");
    let delay = Duration::from_secs(1);
    let slow = waiting_policy(delay);
    let proxy = FaultProxy::start(peer.port());
    let log = Log::default();
    let builder = log.subscribe(Mode::WebSocket.builder(&proxy.url()).reconnect(slow));
    let session = within(&l, DEADLINE, builder.connect()).await.unwrap();
    echo(&session, &log, &l, "before").await;

    proxy.cut();
    log.attempt(&l, 1).await;
    assert_eq!(log.reconnectings()[0].delay, delay, "{l}");
    peer_opened(&peer, &l, &log.connects()[0].sid).await;
    let accepted = proxy.connections_accepted();
    let sessions = peer_sessions(&peer);
    let asked = Instant::now();
    within(&l, DEADLINE, session.send(Close)).await.unwrap();
    let took = asked.elapsed();
    assert!(
        took < delay / 2,
        "{l}: Close took {took:?}, as if it waited for the attempt ({delay:?})"
    );
    let disconnects = log.disconnects();
    assert_eq!(disconnects.len(), 2, "{l}: seen:\n{}", log.summary());
    assert!(is_transport_error(&disconnects[0]), "{l}: {disconnects:?}");
    assert_eq!(disconnects[1], DisconnectReason::ClientDisconnect, "{l}");

    // Past the time the attempt was due (twice over): nothing was tried.
    sleep(delay * 2).await;
    assert_eq!(
        proxy.connections_accepted(),
        accepted,
        "{l}: a connection was made after Close"
    );
    assert_eq!(
        peer_sessions(&peer),
        sessions,
        "{l}: a session was opened after Close"
    );
    let seen = log.all();
    assert_eq!(log.connects().len(), 1, "{l}: seen:\n{}", summary(&seen));
    assert_eq!(
        log.reconnectings().len(),
        1,
        "{l}: seen:\n{}",
        summary(&seen)
    );
    assert!(matches!(
        seen.last(),
        Some(Event::Disconnect(DisconnectReason::ClientDisconnect))
    ));
    // Over for good: waiting ends at once, sending is refused.
    within(&l, Duration::from_secs(2), session.send(Wait))
        .await
        .ok();
    match session.send(Send::text("late")).await {
        Ok(Err(refused)) => assert_eq!(refused.error, SendError::Closed, "{l}"),
        Err(_) => {}
        Ok(Ok(())) => panic!("{l}: a message was taken after the end"),
    }
}

/// With `max_attempts(Some(3))` and every connection refused, the session is lost, three
/// attempts are announced and fail, and a final `Disconnect(ReconnectFailed { attempts: 3,
/// last })` ends it, `last` being the refused connection.
#[actix_rt::test]
async fn attempts_running_out_end_with_reconnect_failed() {
    let Some(kind) = any_peer() else { return };
    let Some(peer) = start_or_skip(kind, short_heartbeat()) else {
        return;
    };
    for mode in [Mode::WebSocket, Mode::Polling] {
        let l = format!("[{kind} peer, {mode}, attempts run out]");
        let proxy = FaultProxy::start(peer.port());
        let log = Log::default();
        let limited = policy().max_attempts(Some(3));
        let builder = log.subscribe(mode.builder(&proxy.url()).reconnect(limited));
        let session = within(&l, DEADLINE, builder.connect()).await.unwrap();
        echo(&session, &log, &l, "before").await;

        proxy.refuse();
        let last = log.nth_disconnect(&l, 2).await;
        match &last {
            DisconnectReason::ReconnectFailed {
                attempts: 3,
                last: TransportError::Connect(_),
            } => {}
            other => panic!(
                "{l}: the final Disconnect is {other:?}; seen:\n{}",
                log.summary()
            ),
        }
        within(&l, DEADLINE, session.send(Wait)).await.ok();
        let attempts: Vec<u32> = log.reconnectings().iter().map(|r| r.attempt).collect();
        assert_eq!(attempts, [1, 2, 3], "{l}: seen:\n{}", log.summary());
        assert_eq!(log.connects().len(), 1, "{l}");
        assert!(
            matches!(log.all().last(), Some(Event::Disconnect(_))),
            "{l}: events after the final Disconnect:\n{}",
            log.summary()
        );
        assert!(is_transport_error(&log.disconnects()[0]), "{l}");
    }
}

/// A port nobody listens on now, for a server to appear on later.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `retry_first_connect(true)`: `connect` to a port nobody listens on keeps retrying (each
/// attempt announced, no `Disconnect`: no session was lost) and returns once a server
/// appears on it; the session then works.
#[actix_rt::test]
async fn retry_first_connect_returns_once_the_server_appears() {
    let Some(kind) = any_peer() else { return };
    let l = format!("[{kind} peer, retry the first connect]");
    let port = free_port();
    let log = Log::default();
    let builder = log.subscribe(
        Mode::WebSocket
            .builder(&format!("http://127.0.0.1:{port}"))
            .reconnect(policy().retry_first_connect(true)),
    );
    let connecting = actix_rt::spawn(builder.connect());
    log.attempt(&l, 3).await;
    assert!(
        !connecting.is_finished(),
        "{l}: connect returned with no server"
    );
    let peer = start_peer(
        kind,
        PeerOptions {
            port: Some(port),
            ..short_heartbeat()
        },
    )
    .await;
    let session = within(&l, DEADLINE, connecting)
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{l}: connect failed once the server was up: {e}"));
    let connect = log.nth_connect(&l, 1).await;
    peer_opened(&peer, &l, &connect.sid).await;
    let seen = log.all();
    let announced: Vec<u32> = log.reconnectings().iter().map(|r| r.attempt).collect();
    let expected: Vec<u32> = (1..=connect.attempt).collect();
    assert_eq!(announced, expected, "{l}: seen:\n{}", summary(&seen));
    assert!(
        log.disconnects().is_empty(),
        "{l}: seen:\n{}",
        summary(&seen)
    );
    assert!(
        matches!(seen.iter().position(|e| matches!(e, Event::Connect(_))), Some(i) if i == announced.len()),
        "{l}: the Connect is not right after the attempts; seen:\n{}",
        summary(&seen)
    );
    echo(&session, &log, &l, "at last").await;
    within(&l, DEADLINE, session.send(Close)).await.unwrap();
}

/// `retry_first_connect(true)` with `max_attempts(Some(2))` against a port nobody listens
/// on: the first connect and two retries fail, and `connect` fails with the last error.
#[actix_rt::test]
async fn retry_first_connect_fails_with_the_last_error_when_attempts_run_out() {
    let l = "[nobody listening, retry the first connect, 2 attempts]";
    let log = Log::default();
    let builder = log.subscribe(
        Session::builder(format!("http://127.0.0.1:{}", free_port()))
            .reconnect(policy().retry_first_connect(true).max_attempts(Some(2))),
    );
    match within(l, DEADLINE, builder.connect()).await {
        Err(ConnectError::Transport(TransportError::Connect(_))) => {}
        other => panic!("{l}: connect gave {other:?}; seen:\n{}", log.summary()),
    }
    let announced: Vec<u32> = log.reconnectings().iter().map(|r| r.attempt).collect();
    assert_eq!(announced, [1, 2], "{l}: seen:\n{}", log.summary());
    assert!(log.connects().is_empty(), "{l}");
}

/// The server closes the session (`close-me`, over websocket): by default a new session
/// opens; with `after_server_disconnect(false)` the close is the end.
#[actix_rt::test]
async fn server_disconnect_reconnects_unless_told_not_to() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        for again in [true, false] {
            let l = format!(
                "[{} peer, websocket only, after_server_disconnect({again})]",
                peer.kind()
            );
            let log = Log::default();
            let builder = Mode::WebSocket
                .builder(&peer.url())
                .reconnect(policy().after_server_disconnect(again));
            let session = within(&l, DEADLINE, log.subscribe(builder).connect())
                .await
                .unwrap();
            let first = log.nth_connect(&l, 1).await;
            // An echo first: engineioxide drops a session closed before its websocket
            // writer has started without telling the client (docs/protocol.md, E1).
            echo(&session, &log, &l, "first").await;
            session.send(Send::text("close-me")).await.unwrap().unwrap();
            let reason = log.nth_disconnect(&l, 1).await;
            assert_eq!(reason, DisconnectReason::ServerDisconnect, "{l}");
            if again {
                log.nth_connect(&l, 2).await;
                assert_reconnected(&l, &log.all(), &first.sid);
                echo(&session, &log, &l, "again").await;
                within(&l, DEADLINE, session.send(Close)).await.unwrap();
            } else {
                within(&l, DEADLINE, session.send(Wait)).await.ok();
                // Longer than any backoff of the policy: nothing follows.
                sleep(Duration::from_millis(600)).await;
                let seen = log.all();
                assert!(
                    !seen.iter().any(|e| matches!(e, Event::Reconnecting(_))),
                    "{l}: seen:\n{}",
                    summary(&seen)
                );
                assert_eq!(log.connects().len(), 1, "{l}");
                peer_opened(peer, &l, &first.sid).await;
                assert_eq!(peer_sessions(peer).last(), Some(&first.sid), "{l}");
            }
        }
    }
}

/// `Close` while an attempt's handshake is in flight (the proxy holds its bytes) answers
/// at once and ends the session for good: the handshake is dropped, no `Connect` follows
/// even once the network moves again.
#[actix_rt::test]
async fn close_during_an_attempt_in_flight_ends_for_good_at_once() {
    let Some(kind) = any_peer() else { return };
    let Some(peer) = start_or_skip(kind, short_heartbeat()) else {
        return;
    };
    for mode in [Mode::WebSocket, Mode::Polling] {
        let l = format!("[{kind} peer, {mode}, Close during an attempt]");
        let proxy = FaultProxy::start(peer.port());
        let log = Log::default();
        let builder = mode
            .builder(&proxy.url())
            .request_timeout(Duration::from_secs(10))
            .reconnect(policy());
        let session = within(&l, DEADLINE, log.subscribe(builder).connect())
            .await
            .unwrap();
        echo(&session, &log, &l, "before").await;
        proxy.stall();
        let accepted = proxy.connections_accepted();
        proxy.cut();
        log.attempt(&l, 1).await;
        assert!(
            wait_until(DEADLINE, || proxy.connections_accepted() > accepted).await,
            "{l}: the attempt made no connection"
        );
        let asked = Instant::now();
        within(&l, DEADLINE, session.send(Close)).await.unwrap();
        let took = asked.elapsed();
        assert!(took < Duration::from_secs(1), "{l}: Close took {took:?}");
        proxy.resume();
        // Longer than any backoff of the policy: nothing follows.
        sleep(Duration::from_millis(600)).await;
        let seen = log.all();
        assert_eq!(log.connects().len(), 1, "{l}: seen:\n{}", summary(&seen));
        assert_eq!(
            log.reconnectings().len(),
            1,
            "{l}: seen:\n{}",
            summary(&seen)
        );
        assert!(
            matches!(
                seen.last(),
                Some(Event::Disconnect(DisconnectReason::ClientDisconnect))
            ),
            "{l}: seen:\n{}",
            summary(&seen)
        );
    }
}

/// The network breaks while the close is on its way (the proxy stalls, `Close` is sent,
/// then the connections are cut): the session still ends as the client's close, for good,
/// without a reconnection.
#[actix_rt::test]
async fn a_close_cut_short_by_the_network_does_not_reconnect() {
    let Some(kind) = any_peer() else { return };
    let Some(peer) = start_or_skip(kind, short_heartbeat()) else {
        return;
    };
    for mode in [Mode::WebSocket, Mode::Polling] {
        let l = format!("[{kind} peer, {mode}, close cut short]");
        let proxy = FaultProxy::start(peer.port());
        let log = Log::default();
        let builder = log.subscribe(mode.builder(&proxy.url()).reconnect(policy()));
        let session = within(&l, DEADLINE, builder.connect()).await.unwrap();
        echo(&session, &log, &l, "before").await;
        proxy.stall();
        // In the mailbox before anything the transports report of the cut below: the
        // close is under way when the network breaks.
        let closing = session.send(Close);
        proxy.cut();
        proxy.resume();
        within(&l, DEADLINE, closing).await.unwrap();
        assert_eq!(
            log.nth_disconnect(&l, 1).await,
            DisconnectReason::ClientDisconnect,
            "{l}"
        );
        sleep(Duration::from_millis(600)).await;
        let seen = log.all();
        assert_eq!(log.disconnects().len(), 1, "{l}: seen:\n{}", summary(&seen));
        assert!(
            !seen.iter().any(|e| matches!(e, Event::Reconnecting(_))),
            "{l}: seen:\n{}",
            summary(&seen)
        );
    }
}
