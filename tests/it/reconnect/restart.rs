//! The server killed and started again on the same port, behind the fault proxy: the same
//! session actor reports the loss, retries while the server is down, and opens a new
//! session on the new server, with the same subscribers; a server that no longer knows the
//! session answers `400 Session ID unknown`, which is a loss like any other.

use std::time::Duration;

use actix_engineio::{Close, DisconnectReason, Event, TransportError};

use super::{
    assert_reconnected, echo, is_transport_error, kill_peer, messages, peer_opened, peer_sessions,
    policy, restart_peer, short_heartbeat, start_peer, upgraded, Log,
};
use crate::support::client::{within, Mode, ALL_MODES, DEADLINE};
use crate::support::fault_proxy::FaultProxy;
use crate::support::peers::{start_or_skip, PeerKind};

/// For each mode: connect through the proxy, kill the server, see the loss and a failed
/// attempt while it is down, start a new server on the same port, and see the session
/// come back on it: a new sid, the echo works, nothing of the old session after its end.
async fn killed_and_restarted(kind: PeerKind) {
    let Some(mut peer) = start_or_skip(kind, short_heartbeat()) else {
        return;
    };
    let proxy = FaultProxy::start(peer.port());
    for mode in ALL_MODES {
        let l = format!("[{kind} peer, {mode}, restarted]");
        let log = Log::default();
        let builder = log.subscribe(mode.builder(&proxy.url()).reconnect(policy()));
        let session = within(&l, DEADLINE, builder.connect())
            .await
            .unwrap_or_else(|e| panic!("{l}: connect: {e}"));
        let first = log.nth_connect(&l, 1).await;
        echo(&session, &log, &l, "before the restart").await;
        if mode == Mode::Upgrade {
            upgraded(&log, &l, &first.sid).await;
        }

        let dead = kill_peer(peer).await;
        let reason = log.nth_disconnect(&l, 1).await;
        assert!(
            is_transport_error(&reason),
            "{l}: the server died, but the session ended with {reason:?}"
        );
        // An attempt failed while nothing listened.
        log.attempt(&l, 2).await;
        peer = restart_peer(&dead, short_heartbeat()).await;
        assert_eq!(peer.port(), dead.port(), "{l}: restarted on another port");

        let second = log.nth_connect(&l, 2).await;
        let (_, connect) = assert_reconnected(&l, &log.all(), &first.sid);
        assert_eq!(connect, second);
        assert_eq!(connect.transport, mode.opens_on(), "{l}");
        peer_opened(&peer, &l, &connect.sid).await;
        echo(&session, &log, &l, "after the restart").await;
        if mode == Mode::Upgrade {
            upgraded(&log, &l, &connect.sid).await;
        }
        let texts: Vec<_> = messages(&log.all())
            .iter()
            .map(|p| p.as_text().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(
            texts,
            ["before the restart", "after the restart"],
            "{l}: each echo once, in order"
        );

        within(&l, DEADLINE, session.send(Close)).await.unwrap();
        assert_eq!(
            log.nth_disconnect(&l, 2).await,
            DisconnectReason::ClientDisconnect,
            "{l}"
        );
        assert!(
            matches!(log.all().last(), Some(Event::Disconnect(_))),
            "{l}: events after the final Disconnect:\n{}",
            log.summary()
        );
    }
}

#[actix_rt::test]
async fn node_killed_and_restarted_on_the_same_port() {
    killed_and_restarted(PeerKind::Node).await;
}

#[actix_rt::test]
async fn python_killed_and_restarted_on_the_same_port() {
    killed_and_restarted(PeerKind::Python).await;
}

#[actix_rt::test]
async fn rust_killed_and_restarted_on_the_same_port() {
    killed_and_restarted(PeerKind::Rust).await;
}

/// An HTTP client that opens a connection for every request (none is kept alive), as a
/// client behind an HTTP load balancer has: the proxy then sends each request to whichever
/// server it targets now.
fn one_connection_per_request() -> awc::Client {
    let connector = awc::Connector::new()
        .max_http_version(awc::http::Version::HTTP_11)
        .conn_keep_alive(Duration::ZERO)
        .conn_lifetime(Duration::ZERO);
    awc::Client::builder()
        .connector(connector)
        .disable_timeout()
        .finish()
}

/// What each server says of a sid it does not know.
fn unknown_session_body(kind: PeerKind) -> &'static str {
    match kind {
        PeerKind::Node | PeerKind::Node3 | PeerKind::Rust => "Session ID unknown",
        PeerKind::Python | PeerKind::Python3 => "Invalid session",
    }
}

/// Polling only: the server behind the address is replaced by a new one, which does not
/// know the session. The poll in flight on the old server ends normally (with its ping);
/// the next requests reach the new server, which answers `400` (node and engineioxide
/// `Session ID unknown`, python `Invalid session`): the session is lost, and a new one
/// opens on the new server.
async fn session_unknown_after_restart(kind: PeerKind) {
    let Some(old) = start_or_skip(kind, short_heartbeat()) else {
        return;
    };
    let l = format!("[{kind} peer, polling only, 400 after a restart]");
    let proxy = FaultProxy::start(old.port());
    let log = Log::default();
    let builder = Mode::Polling
        .builder(&proxy.url())
        .http_client(one_connection_per_request())
        .reconnect(policy());
    let session = within(&l, DEADLINE, log.subscribe(builder).connect())
        .await
        .unwrap_or_else(|e| panic!("{l}: connect: {e}"));
    let first = log.nth_connect(&l, 1).await;
    echo(&session, &log, &l, "before the restart").await;

    let new = start_peer(kind, short_heartbeat()).await;
    proxy.retarget(new.port());
    let reason = log.nth_disconnect(&l, 1).await;
    match &reason {
        DisconnectReason::TransportError(TransportError::Http { status: 400, body })
            if body.contains(unknown_session_body(kind)) => {}
        other => panic!(
            "{l}: expected the new server's 400 for the unknown sid, got {other:?}; seen:\n{}",
            log.summary()
        ),
    }
    log.nth_connect(&l, 2).await;
    let (_, connect) = assert_reconnected(&l, &log.all(), &first.sid);
    peer_opened(&new, &l, &connect.sid).await;
    assert!(
        !peer_sessions(&old).contains(&connect.sid),
        "{l}: the new session opened on the old server"
    );
    echo(&session, &log, &l, "after the restart").await;
    within(&l, DEADLINE, session.send(Close)).await.unwrap();
    assert_eq!(
        log.nth_disconnect(&l, 2).await,
        DisconnectReason::ClientDisconnect
    );
}

#[actix_rt::test]
async fn node_400_session_unknown_after_restart_reconnects() {
    session_unknown_after_restart(PeerKind::Node).await;
}

#[actix_rt::test]
async fn python_400_session_unknown_after_restart_reconnects() {
    session_unknown_after_restart(PeerKind::Python).await;
}

#[actix_rt::test]
async fn rust_400_session_unknown_after_restart_reconnects() {
    session_unknown_after_restart(PeerKind::Rust).await;
}
