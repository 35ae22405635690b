//! How a polling session ends: a poll or a POST answered with an HTTP error ends it with
//! the cause, and the client's `Close` POSTs `1` and answers once the server has it.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix_engineio::{Close, DisconnectReason, Session, TransportError};
use tokio::sync::Notify;

use super::{handshake, scripted_client};
use crate::support::client::{peer_event, texts, wait_until, within, Client, DEADLINE};
use crate::support::fault_proxy::FaultProxy;
use crate::support::peers::{
    all_peers, peer_closed, session_requests, start_peers, PeerEvent, PeerOptions,
};
use crate::support::scripted::{Reply, Scripted, ScriptedRequest};
use crate::support::wire::Wire;

/// A poll answered `400 {"code":1,"message":"Session ID unknown"}` (what a restarted
/// server says) ends the session with that status and body.
#[actix_rt::test]
async fn poll_answered_400_ends_the_session_with_the_cause() {
    let label = "[scripted, poll answered 400]";
    let server = Scripted::start(|req: ScriptedRequest| async move {
        match (req.method.as_str(), req.query("sid")) {
            ("GET", None) => handshake("gone"),
            ("GET", Some(_)) => Reply::Http {
                status: 400,
                headers: vec![("content-type".into(), "application/json".into())],
                body: br#"{"code":1,"message":"Session ID unknown"}"#.to_vec(),
            },
            _ => Reply::text(200, "ok"),
        }
    });
    let client = scripted_client(label, &server).await;
    match client.events.disconnect().await {
        DisconnectReason::TransportError(TransportError::Http { status: 400, body }) => assert!(
            body.contains("Session ID unknown"),
            "{label}: the body is lost: {body:?}"
        ),
        other => panic!("{label}: unexpected disconnect reason {other:?}"),
    }
}

/// A POST answered `413` ends the session with that status.
#[actix_rt::test]
async fn post_answered_413_ends_the_session_with_the_cause() {
    let label = "[scripted, POST answered 413]";
    let server = Scripted::start(|req: ScriptedRequest| async move {
        match (req.method.as_str(), req.query("sid")) {
            ("GET", None) => handshake("too-large"),
            ("GET", Some(_)) => Reply::Hang,
            ("POST", Some(_)) => Reply::text(413, "Payload Too Large"),
            _ => Reply::text(400, ""),
        }
    });
    let client = scripted_client(label, &server).await;
    client.send("hello").await;
    match client.events.disconnect().await {
        DisconnectReason::TransportError(TransportError::Http { status: 413, body }) => assert!(
            body.contains("Payload Too Large"),
            "{label}: the body is lost: {body:?}"
        ),
        other => panic!("{label}: unexpected disconnect reason {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// close

/// `Close` over polling answers once the server has the close: while a scripted server
/// holds the POST carrying `1`, `Close` has not answered and no `Disconnect` is
/// published; once the POST is answered, both come and the session actor stops.
#[actix_rt::test]
async fn close_over_polling_answers_once_the_post_is_answered() {
    let label = "[scripted, close]";
    let release = Arc::new(Notify::new());
    let held = release.clone();
    let server = Scripted::start(move |req: ScriptedRequest| {
        let held = held.clone();
        async move {
            match (req.method.as_str(), req.query("sid")) {
                ("GET", None) => handshake("bye"),
                ("GET", Some(_)) => Reply::Hang,
                ("POST", Some(_)) if req.body_text().split('\x1e').any(|p| p == "1") => {
                    held.notified().await;
                    Reply::text(200, "ok")
                }
                ("POST", Some(_)) => Reply::text(200, "ok"),
                _ => Reply::text(400, ""),
            }
        }
    });
    let client = scripted_client(label, &server).await;
    let answered = Rc::new(Cell::new(false));
    let closing = {
        let (session, answered) = (client.session.clone(), answered.clone());
        actix_rt::spawn(async move {
            let _ = session.send(Close).await;
            answered.set(true);
        })
    };
    let close_posted = || {
        server
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.body_text() == "1")
    };
    assert!(
        wait_until(DEADLINE, close_posted).await,
        "{label}: the close never reached the server"
    );
    assert!(
        !answered.get(),
        "{label}: Close answered before the server had the close"
    );
    assert_eq!(client.events.disconnect_reason(), None, "{label}");
    release.notify_one();
    within(format!("{label} Close"), DEADLINE, closing)
        .await
        .expect("the closing task");
    assert_eq!(
        client.events.disconnect().await,
        DisconnectReason::ClientDisconnect,
        "{label}"
    );
    assert!(
        wait_until(DEADLINE, || !client.session.connected()).await,
        "{label}: the session actor did not stop"
    );
}

/// A server that never answers the close does not hold `Close` beyond the request
/// timeout: it answers, and the session ends as a client disconnect.
#[actix_rt::test]
async fn close_over_polling_gives_up_after_the_request_timeout() {
    let label = "[scripted, unanswered close]";
    let server = Scripted::start(|req: ScriptedRequest| async move {
        match (req.method.as_str(), req.query("sid")) {
            ("GET", None) => handshake("bye"),
            ("GET", Some(_)) => Reply::Hang,
            ("POST", Some(_)) if req.body_text().split('\x1e').any(|p| p == "1") => Reply::Hang,
            ("POST", Some(_)) => Reply::text(200, "ok"),
            _ => Reply::text(400, ""),
        }
    });
    let builder = Session::builder(server.url())
        .transports(["polling"])
        .request_timeout(Duration::from_secs(1));
    let client = Client::connect(label, builder).await;
    within(
        format!("{label} Close"),
        DEADLINE,
        client.session.send(Close),
    )
    .await
    .expect("Close answered");
    assert_eq!(
        client.events.disconnect().await,
        DisconnectReason::ClientDisconnect,
        "{label}"
    );
    let posts: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(ScriptedRequest::body_text)
        .collect();
    assert_eq!(posts, ["1"], "{label}: the POSTs");
}

/// With the real peers, `Close` over polling reaches the server: one more POST of the
/// session follows (on the wire, through a recording proxy: a POST of `1`), the peer
/// logs it, and the peer logs the session's close.
#[actix_rt::test]
async fn close_over_polling_reaches_every_peer() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        let label = format!("[{} peer, polling only]", peer.kind());
        let proxy = FaultProxy::start(peer.port());
        proxy.record();
        let client = Client::connect(
            label.clone(),
            Session::builder(proxy.url()).transports(["polling"]),
        )
        .await;
        client.echo_all(&texts("c", 2)).await;
        // The echoes are back: the POSTs carrying the messages are on the wire.
        let posts = |wire: &Wire| -> Vec<String> {
            wire.exchanges(&client.sid)
                .iter()
                .filter(|e| e.request.method() == "POST")
                .map(|e| String::from_utf8_lossy(&e.request.body).into_owned())
                .collect()
        };
        let posts_before = posts(&Wire::recorded(&proxy)).len();
        within(
            format!("{label} Close"),
            DEADLINE,
            client.session.send(Close),
        )
        .await
        .expect("Close answered");
        assert_eq!(
            client.events.disconnect().await,
            DisconnectReason::ClientDisconnect,
            "{label}"
        );
        let sid = client.sid.clone();
        let closed = peer_event(
            peer,
            |e| matches!(e, PeerEvent::Close { sid: s, .. } if *s == sid),
        )
        .await;
        assert!(
            closed.is_some(),
            "{label}: the peer never closed the session"
        );
        eprintln!(
            "{label}: the peer closed the session: {:?}",
            peer_closed(peer, &sid)
        );
        let after = posts(&Wire::recorded(&proxy));
        assert_eq!(
            after[posts_before..],
            ["1"],
            "{label}: expected one POST, of `1`, after Close: {after:?}"
        );
        let logged = || {
            session_requests(peer, &sid)
                .iter()
                .filter(|r| r.method == "POST")
                .count()
        };
        wait_until(DEADLINE, || logged() >= after.len()).await;
        assert_eq!(
            logged(),
            after.len(),
            "{label}: the peer logged {} POSTs, the wire shows {}",
            logged(),
            after.len()
        );
    }
}
