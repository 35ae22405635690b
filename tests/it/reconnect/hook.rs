//! The `before_attempt` hook: what it sets (a header, a query parameter) is what the server
//! sees on the next attempt and on every request of the session it opens, replacing the
//! old value; `give_up()` ends the session for good.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_engineio::{Close, DisconnectReason, Event, ReconnectAttempt, Wait};

use super::{any_peer, assert_reconnected, echo, peer_sessions, policy, short_heartbeat, Log};
use crate::support::client::{sleep, within, Mode, DEADLINE};
use crate::support::fault_proxy::FaultProxy;
use crate::support::peers::{all_peers, start_or_skip, start_peers, PeerRequest};
use crate::support::scripted::{open_packet, Reply, Scripted};

/// Sets the token of attempt `n`: header `X-Token: t<n>`, query `token=q<n>`.
fn fresh_token(attempt: &mut ReconnectAttempt) {
    let n = attempt.number();
    attempt.set_header("X-Token", format!("t{n}"));
    attempt.set_query("token", format!("q{n}"));
}

/// Whether `request` carries the token of attempt `n` (0: the builder's), and only it.
fn carries(request: &PeerRequest, n: u32) -> bool {
    request.header("x-token") == Some(format!("t{n}").as_str())
        && request.query("token") == Some(format!("q{n}"))
        && request.url.matches("token=").count() == 1
}

/// Connections are refused for a few attempts, then accepted: the attempt that gets through
/// carries the hook's token for its number, on its handshake and on every request of the
/// new session; the first session carried the builder's.
#[actix_rt::test]
async fn hook_sets_a_fresh_token_the_server_sees() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        for mode in [Mode::WebSocket, Mode::Polling, Mode::Upgrade] {
            let l = format!("[{} peer, {mode}, hook token]", peer.kind());
            let proxy = FaultProxy::start(peer.port());
            let start = peer.requests().len();
            let log = Log::default();
            let builder = mode
                .builder(&proxy.url())
                .header("X-Token", "t0")
                .query("token", "q0")
                .reconnect(policy().before_attempt(fresh_token));
            let session = within(&l, DEADLINE, log.subscribe(builder).connect())
                .await
                .unwrap();
            let first = log.nth_connect(&l, 1).await;
            echo(&session, &log, &l, "before").await;
            let from = peer.requests().len();

            proxy.refuse();
            log.attempt(&l, 3).await;
            proxy.accept_again();
            log.nth_connect(&l, 2).await;
            let (_, connect) = assert_reconnected(&l, &log.all(), &first.sid);
            echo(&session, &log, &l, "after").await;
            within(&l, DEADLINE, session.send(Close)).await.unwrap();

            let n = connect.attempt;
            assert!(n >= 3, "{l}: {connect:?}");
            let requests = peer.requests();
            let old: Vec<_> = requests[start..from]
                .iter()
                .filter(|r| r.query("sid").is_none_or(|sid| sid == first.sid))
                .collect();
            let new: Vec<_> = requests[from..]
                .iter()
                .filter(|r| r.query("sid").is_none_or(|sid| sid == connect.sid))
                .collect();
            assert!(
                new.iter().any(|r| r.query("sid").is_none()),
                "{l}: no handshake of the new session in {new:#?}"
            );
            if mode != Mode::WebSocket {
                assert!(
                    new.iter().any(|r| r.query("sid").is_some()),
                    "{l}: no request of the new session in {new:#?}"
                );
            }
            for request in &new {
                assert!(
                    carries(request, n),
                    "{l}: not the token of attempt {n}: {request:#?}"
                );
            }
            assert!(!old.is_empty(), "{l}");
            for request in &old {
                assert!(
                    carries(request, 0),
                    "{l}: not the first token: {request:#?}"
                );
            }
        }
    }
}

/// Against a server that refuses every token but the third attempt's (401), each attempt
/// carries its own: the server sees the handshakes of attempts 0 (the first session), 1, 2
/// and 3, in order, each with its token, and the session opened by attempt 3 is the new one.
#[actix_rt::test]
async fn each_attempt_carries_the_token_the_hook_set() {
    let l = "[scripted, a token per attempt]";
    let server = Scripted::start(|request| async move {
        let token = request.query("token").unwrap_or_default();
        match (request.method.as_str(), request.query("sid").as_deref()) {
            ("GET", None) if token == "q0" => {
                Reply::text(200, open_packet("s0", &[], 25_000, 20_000))
            }
            ("GET", None) if token == "q3" => {
                Reply::text(200, open_packet("s3", &[], 25_000, 20_000))
            }
            ("GET", None) => Reply::text(401, "bad token"),
            // The server closes the first session at once.
            ("GET", Some("s0")) => Reply::text(200, "1"),
            ("GET", Some(_)) => {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Reply::text(200, "6")
            }
            ("POST", Some(_)) => Reply::text(200, "ok"),
            _ => Reply::text(400, ""),
        }
    });
    let numbers = Arc::new(Mutex::new(Vec::new()));
    let seen = numbers.clone();
    let hook = move |attempt: &mut ReconnectAttempt| {
        seen.lock().unwrap().push(attempt.number());
        fresh_token(attempt);
    };
    let log = Log::default();
    let builder = Mode::Polling
        .builder(&server.url())
        .header("X-Token", "t0")
        .query("token", "q0")
        .reconnect(policy().before_attempt(hook));
    let session = within(l, DEADLINE, log.subscribe(builder).connect())
        .await
        .unwrap();
    assert_eq!(
        log.nth_disconnect(l, 1).await,
        DisconnectReason::ServerDisconnect
    );
    log.nth_connect(l, 2).await;
    let (_, connect) = assert_reconnected(l, &log.all(), "s0");
    assert_eq!((connect.sid.as_str(), connect.attempt), ("s3", 3), "{l}");
    within(l, DEADLINE, session.send(Close)).await.unwrap();

    assert_eq!(*numbers.lock().unwrap(), [1, 2, 3], "{l}: the hook's calls");
    let handshakes: Vec<(String, String)> = server
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.query("sid").is_none())
        .map(|r| {
            let header = r.header("x-token").unwrap_or_default().to_owned();
            (header, r.query("token").unwrap_or_default())
        })
        .collect();
    let expected: Vec<(String, String)> = (0..=3)
        .map(|n| (format!("t{n}"), format!("q{n}")))
        .collect();
    assert_eq!(handshakes, expected, "{l}: the handshakes the server saw");
}

/// The hook gives up before attempt 2: after `Reconnecting` for attempts 1 and 2 the session
/// ends for good, as a client disconnect; the hook is not called again and nothing more is
/// tried.
#[actix_rt::test]
async fn hook_give_up_ends_for_good() {
    let Some(kind) = any_peer() else { return };
    let Some(peer) = start_or_skip(kind, short_heartbeat()) else {
        return;
    };
    let l = format!("[{kind} peer, websocket only, hook gives up]");
    let numbers = Arc::new(Mutex::new(Vec::new()));
    let seen = numbers.clone();
    let hook = move |attempt: &mut ReconnectAttempt| {
        seen.lock().unwrap().push(attempt.number());
        if attempt.number() == 2 {
            attempt.give_up();
        }
    };
    let proxy = FaultProxy::start(peer.port());
    let log = Log::default();
    let builder = Mode::WebSocket
        .builder(&proxy.url())
        .reconnect(policy().before_attempt(hook));
    let session = within(&l, DEADLINE, log.subscribe(builder).connect())
        .await
        .unwrap();
    echo(&session, &log, &l, "before").await;
    let sessions = peer_sessions(&peer).len();

    proxy.refuse();
    let last = log.nth_disconnect(&l, 2).await;
    assert_eq!(
        last,
        DisconnectReason::ClientDisconnect,
        "{l}: seen:\n{}",
        log.summary()
    );
    within(&l, DEADLINE, session.send(Wait)).await.ok();
    proxy.accept_again();
    // Longer than any backoff of the policy: nothing follows.
    sleep(Duration::from_millis(600)).await;
    assert_eq!(*numbers.lock().unwrap(), [1, 2], "{l}: the hook's calls");
    let attempts: Vec<u32> = log.reconnectings().iter().map(|r| r.attempt).collect();
    assert_eq!(attempts, [1, 2], "{l}: seen:\n{}", log.summary());
    assert!(
        matches!(log.all().last(), Some(Event::Disconnect(_))),
        "{l}: seen:\n{}",
        log.summary()
    );
    assert_eq!(
        peer_sessions(&peer).len(),
        sessions,
        "{l}: a session was opened"
    );
}
