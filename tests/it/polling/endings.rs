//! How a polling session ends: a poll or a POST answered with an HTTP error ends it with
//! the cause, and the client's `Close` POSTs `1` and returns at once.

use std::time::Duration;

use actix_engineio::{Close, DisconnectReason, Session, TransportError};

use super::{handshake, scripted_client};
use crate::support::client::{peer_event, sleep, texts, wait_until, within, Client, DEADLINE};
use crate::support::peers::{
    all_peers, peer_closed, session_requests, start_peers, PeerEvent, PeerOptions,
};
use crate::support::scripted::{Reply, Scripted, ScriptedRequest};

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

/// `Close` over polling POSTs `1` and returns at once: against a scripted server that
/// never answers that POST, `Close` returns, `Disconnect(ClientDisconnect)` is published
/// and the session actor stops while the POST is still unanswered.
#[actix_rt::test]
async fn close_over_polling_posts_1_and_returns_at_once() {
    let label = "[scripted, close]";
    let server = Scripted::start(|req: ScriptedRequest| async move {
        match (req.method.as_str(), req.query("sid")) {
            ("GET", None) => handshake("bye"),
            ("GET", Some(_)) => Reply::Hang,
            // The close is never answered.
            ("POST", Some(_)) if req.body_text().split('\x1e').any(|p| p == "1") => Reply::Hang,
            ("POST", Some(_)) => Reply::text(200, "ok"),
            _ => Reply::text(400, ""),
        }
    });
    let client = scripted_client(label, &server).await;
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
    assert!(
        wait_until(DEADLINE, || !client.session.connected()).await,
        "{label}: the session actor did not stop"
    );
    // The `1` reaches the server after all that (Close did not wait for it).
    let posts = || -> Vec<String> {
        server
            .requests()
            .iter()
            .filter(|r| r.method == "POST")
            .map(ScriptedRequest::body_text)
            .collect()
    };
    wait_until(DEADLINE, || !posts().is_empty()).await;
    assert_eq!(posts(), ["1"], "{label}: the POSTs");
}

/// With the real peers, `Close` over polling reaches the server: a POST of the session
/// follows and the peer logs the session's close.
#[actix_rt::test]
async fn close_over_polling_reaches_every_peer() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        let label = format!("[{} peer, polling only]", peer.kind());
        let client = Client::connect(
            label.clone(),
            Session::builder(peer.url()).transports(["polling"]),
        )
        .await;
        client.echo_all(&texts("c", 2)).await;
        sleep(Duration::from_millis(300)).await;
        let posts_before = session_requests(peer, &client.sid)
            .iter()
            .filter(|r| r.method == "POST")
            .count();
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
        let posts_after = session_requests(peer, &client.sid)
            .iter()
            .filter(|r| r.method == "POST")
            .count();
        assert_eq!(
            posts_after,
            posts_before + 1,
            "{label}: expected one POST (the `1`) after Close"
        );
    }
}
