//! A client and a server of different protocol versions fail cleanly, and soon: a v4
//! client meeting a server that speaks v3 only (Node `engine.io` 3 ignores `EIO=4`,
//! python-engineio 3 refuses it) is told the server speaks v3 and to ask for it
//! (`ProtocolError::ServerSpeaksV3`), scripted and against the real servers in every
//! mode; a v3 client meeting a server without v3 gets the server's refusal.

use std::time::Duration;

use actix_engineio::{ConnectError, ProtocolVersion, ReconnectPolicy, Session, TransportError};

use super::short_heartbeat;
use crate::support::client::{sleep, within, Events, Mode, ALL_MODES};
use crate::support::peers::{any_of, start_or_skip, Peer, PeerEvent, PeerKind, PeerOptions};
use crate::support::scripted::{Reply, Scripted};

/// A Node `engine.io` 3.6 handshake answer (text payload with a Socket.IO 2 connect), and
/// a python-engineio 3 one (binary payload), as `docs/protocol.md` section 11 quotes them.
fn v3_handshakes() -> [(&'static str, Reply); 2] {
    let node = "97:0{\"sid\":\"lv_VI97HAXpY6yYWAAAC\",\"upgrades\":[\"websocket\"],\
                \"pingInterval\":25000,\"pingTimeout\":20000}2:40";
    let mut python = vec![0x00, 0x01, 0x00, 0x09, 0xff];
    python.extend_from_slice(
        b"0{\"sid\":\"3f1b9d0c6f2e4a6f8b7e2d1c0a9b8c7d\",\"upgrades\":[\"websocket\"],\
          \"pingTimeout\":60000,\"pingInterval\":25000}",
    );
    [
        ("node engine.io 3", Reply::text(200, node)),
        (
            "python-engineio 3",
            Reply::Http {
                status: 200,
                headers: vec![("content-type".into(), "application/octet-stream".into())],
                body: python,
            },
        ),
    ]
}

/// A v4 client's polling handshake answered in v3 fails `connect` at once with a
/// protocol error that says the server may speak v3.
#[actix_rt::test]
async fn a_v4_client_is_told_the_server_may_speak_v3() {
    for (server, reply) in v3_handshakes() {
        let reply = std::sync::Mutex::new(Some(reply));
        let scripted = Scripted::start(move |_| {
            let reply = reply.lock().unwrap_or_else(|e| e.into_inner()).take();
            async move { reply.unwrap_or_else(|| Reply::text(400, "one handshake only")) }
        });
        let l = format!("[scripted {server}, v4 client]");
        let connect = Session::builder(scripted.url())
            .transports(["polling"])
            .connect();
        let result = within(&l, Duration::from_secs(10), connect).await;
        let Err(error) = result else {
            panic!("{l}: connect() succeeded against a v3 handshake");
        };
        assert!(
            matches!(error, ConnectError::Transport(TransportError::Protocol(_))),
            "{l}: {error:?}"
        );
        let message = error.to_string();
        assert_names_v3(&l, &message);
        eprintln!("{l}: {message}");
        let requests = scripted.requests();
        assert_eq!(requests.len(), 1, "{l}: requests {requests:?}");
        assert_eq!(requests[0].query("EIO").as_deref(), Some("4"), "{l}");
    }
}

/// A v3 client against the node peer without `allowEIO3` gets its refusal (400,
/// `Unsupported protocol version`), over polling and over websocket (where node accepts
/// the upgrade with `101`, then writes its `400` onto the socket).
#[actix_rt::test]
async fn a_v3_client_gets_the_refusal_of_a_v4_only_server() {
    let Some(peer) = start_or_skip(PeerKind::Node, PeerOptions::default()) else {
        return;
    };
    for mode in [Mode::Polling, Mode::WebSocket] {
        let l = format!("[node peer without allowEIO3, {mode}]");
        let connect = mode
            .builder(&peer.url())
            .protocol(ProtocolVersion::V3)
            .connect();
        let result = within(&l, Duration::from_secs(10), connect).await;
        let Err(error) = result else {
            panic!("{l}: connect() succeeded");
        };
        assert_eq!(error.status(), Some(400), "{l}: {error:?}");
        assert!(
            error.to_string().contains("Unsupported protocol version"),
            "{l}: {error}"
        );
        eprintln!("{l}: {error}");
    }
}

/// The error of a v4 client that met a v3-only server names the version and the way out.
fn assert_names_v3(l: &str, message: &str) {
    assert!(
        message.contains("Engine.IO v3") && message.contains(".protocol(ProtocolVersion::V3)"),
        "{l}: the error does not say the server speaks v3: {message}"
    );
}

/// A v4 client against the real v3-only servers (Node `engine.io` 3.6, python-engineio
/// 3.14), in every mode, fails within seconds with an error that says the server speaks
/// v3 and how to reach it: `connect` fails when the handshake shows it (a v3 polling
/// payload; python 3's refusal of `EIO=4`), and a websocket session that opened (node 3
/// answers `EIO=4` over websocket with its open frame, the same in v3 and v4) ends with
/// that error once the server never pinged (a short heartbeat makes it quick). A
/// reconnection policy that would retry everything, the first connect included, does not
/// retry that: the next connection would meet the same server.
#[actix_rt::test]
async fn a_v4_client_against_a_v3_only_server_fails_clearly() {
    let Some(kinds) = any_of(&PeerKind::V3_ONLY, "a server that speaks v3 only") else {
        return;
    };
    let opts = short_heartbeat(Duration::from_millis(500), Duration::from_millis(1000));
    for kind in kinds {
        let peer = Peer::start(kind, opts.clone());
        for mode in ALL_MODES {
            let l = format!("[v4 client, {kind} peer, {mode}]");
            let sessions_before = peer_sessions(&peer);
            let message = v4_session_failure(&peer, mode, &l).await;
            assert_names_v3(&l, &message);
            eprintln!("{l}: {message}");
            // Long enough for several attempts of the policy below, had it retried.
            sleep(Duration::from_secs(2)).await;
            let opened = peer_sessions(&peer) - sessions_before;
            let most = if kind == PeerKind::Node3 { 1 } else { 0 };
            assert_eq!(opened, most, "{l}: sessions the peer opened");
        }
    }
}

/// How many sessions `peer` has opened so far.
fn peer_sessions(peer: &Peer) -> usize {
    peer.events()
        .iter()
        .filter(|e| matches!(e, PeerEvent::Connect { .. }))
        .count()
}

/// How a v4 session to `peer` in `mode`, with a policy that retries at once, fails:
/// `connect`'s error, or the end of the session it opened (which must come within
/// seconds).
async fn v4_session_failure(peer: &Peer, mode: Mode, l: &str) -> String {
    let events = Events::default();
    let retry_everything = ReconnectPolicy::default()
        .retry_first_connect(true)
        .initial_delay(Duration::from_millis(100));
    let builder = mode.builder(&peer.url()).reconnect(retry_everything);
    let session = within(
        l,
        Duration::from_secs(10),
        events.subscribe(builder).connect(),
    )
    .await;
    match session {
        Err(error) => error.to_string(),
        Ok(_session) => {
            let reason = events.disconnect_within(Duration::from_secs(15)).await;
            reason.detail().unwrap_or_else(|| reason.to_string())
        }
    }
}
