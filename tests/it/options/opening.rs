//! Which transport opens a session: `remember_upgrade` (Node's `rememberUpgrade`: straight
//! to websocket once a websocket worked, for the next session, a reconnection and a client
//! connecting again; back to the usual order when it fails) and `try_all_transports`
//! (Node's `tryAllTransports`: the next transport when one cannot open, every attempt
//! listed when none can). Checked in the peers' request logs.

use std::time::Duration;

use actix_engineio::{
    AsyncClient, Close, ConnectError, ReconnectPolicy, Send, Session, SessionBuilder,
    TransportError, TransportKind,
};

use super::{describe, requests_since};
use crate::support::client::{wait_until, Client, Events, Seen, DEADLINE};
use crate::support::net::refused_url;
use crate::support::peers::{all_peers, start_peers, Peer, PeerOptions, PeerRequest};

/// Peers that allow polling only: a websocket is refused with an HTTP error.
fn polling_only() -> PeerOptions {
    PeerOptions {
        transports: vec!["polling"],
        ..PeerOptions::default()
    }
}

/// Opens a session with `builder`, waits for it to upgrade, and closes it.
async fn upgrade_once(label: &str, builder: SessionBuilder) {
    let client = Client::connect(format!("{label} (first session)"), builder).await;
    assert_eq!(client.transport, TransportKind::Polling, "{label}");
    client.upgraded().await;
    client.close().await;
}

/// How many polling handshakes (GETs without a sid) `peer` logged.
fn polling_handshakes(peer: &Peer) -> usize {
    peer.requests()
        .iter()
        .filter(|r| !r.is_websocket() && r.query("sid").is_none())
        .count()
}

/// Session `sid` opened with a websocket handshake and made no polling request, and no
/// polling handshake came beside the `known` ones of the earlier sessions (the peer's log
/// may lag behind: it is read once the earlier ones and the websocket handshake show).
async fn assert_websocket_only(label: &str, peer: &Peer, sid: &str, known: usize) {
    let ws_handshake = |r: &PeerRequest| r.is_websocket() && r.query("sid").is_none();
    wait_until(DEADLINE, || {
        polling_handshakes(peer) >= known && peer.requests().iter().any(ws_handshake)
    })
    .await;
    let requests = peer.requests();
    let own: Vec<PeerRequest> = requests
        .iter()
        .filter(|r| r.query("sid").is_none_or(|s| s == sid))
        .cloned()
        .collect();
    assert!(
        requests.iter().any(ws_handshake)
            && polling_handshakes(peer) == known
            && own
                .iter()
                .all(|r| r.is_websocket() || r.query("sid").is_none()),
        "{label}: expected a websocket handshake, {known} polling handshake(s) of earlier \
         sessions, and no polling request of {sid}:\n{}",
        describe(&own)
    );
}

/// With `remember_upgrade(true)`, once a session upgraded, the next session of the same
/// builder opens over websocket: the peer sees a websocket handshake and no polling request.
/// Without it (the default), the next session opens over polling again.
#[actix_rt::test]
async fn remember_upgrade_opens_the_next_session_over_websocket() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        for remember in [false, true] {
            let label = format!("[{} peer, remember_upgrade({remember})]", peer.kind());
            let builder = Session::builder(peer.url()).remember_upgrade(remember);
            upgrade_once(&label, builder.clone()).await;

            let next = Client::connect(format!("{label} (next session)"), builder).await;
            next.echo("after").await;
            let expected = match remember {
                true => TransportKind::WebSocket,
                false => TransportKind::Polling,
            };
            assert_eq!(next.transport, expected, "{label}");
            if remember {
                // Opened over polling before: both sessions of `remember(false)`, and the first here.
                assert_websocket_only(&label, peer, &next.sid, 3).await;
            }
            next.close().await;
        }
    }
}

/// A supervised session with `remember_upgrade(true)` that upgraded and was then closed by
/// the server reconnects straight over websocket (its reconnection's `Connect` says
/// websocket, and the peer sees no polling request of the new session).
#[actix_rt::test]
async fn remember_upgrade_applies_to_reconnections() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        let label = format!("[{} peer, reconnecting]", peer.kind());
        let events = Events::default();
        let policy = ReconnectPolicy::default()
            .initial_delay(Duration::from_millis(50))
            .max_delay(Duration::from_millis(200));
        let builder = Session::builder(peer.url())
            .remember_upgrade(true)
            .reconnect(policy);
        let session = events.subscribe(builder).connect().await.expect(&label);
        let upgraded = events.upgrade().await;
        assert_eq!(
            upgraded,
            actix_engineio::Upgrade::Completed(TransportKind::WebSocket),
            "{label}"
        );
        session.send(Send::text("close-me")).await.unwrap().unwrap();
        let reconnected = || {
            events.all().into_iter().find_map(|seen| match seen {
                Seen::Connect(c) if c.attempt > 0 => Some(c),
                _ => None,
            })
        };
        wait_until(DEADLINE, || reconnected().is_some()).await;
        let connect = reconnected()
            .unwrap_or_else(|| panic!("{label}: no reconnection; seen {:?}", events.all()));
        assert_eq!(connect.transport, TransportKind::WebSocket, "{label}");
        assert_websocket_only(&label, peer, &connect.sid, 1).await;
        let _ = session.send(Close).await;
    }
}

/// An `AsyncClient` built with `remember_upgrade(true)` that upgraded, disconnected and
/// connects again is on websocket from the start.
#[actix_rt::test]
async fn remember_upgrade_on_a_client_connecting_again() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        let label = format!("[{} peer, AsyncClient]", peer.kind());
        let client = AsyncClient::builder().remember_upgrade(true).build();
        client.connect(&peer.url()).await.expect(&label);
        assert_eq!(client.transport(), Some(TransportKind::Polling), "{label}");
        let upgraded = wait_until(DEADLINE, || {
            client.transport() == Some(TransportKind::WebSocket)
        })
        .await;
        assert!(upgraded, "{label}: no upgrade");
        client.disconnect().await;

        client.connect(&peer.url()).await.expect(&label);
        assert_eq!(
            client.transport(),
            Some(TransportKind::WebSocket),
            "{label}"
        );
        let sid = client.sid().expect("a sid");
        assert_websocket_only(&label, peer, &sid, 1).await;
        client.disconnect().await;
    }
}

/// A remembered websocket that cannot open (the same settings, now at a server that allows
/// polling only) is tried first, then the session opens over polling, the usual first
/// transport; the memory is then cleared, so the next session at a server that would take
/// a websocket starts with polling again.
#[actix_rt::test]
async fn a_failing_remembered_websocket_falls_back_to_the_usual_order() {
    let both = start_peers(&all_peers(), PeerOptions::default());
    let polling = start_peers(&all_peers(), polling_only());
    for (peer, polling_peer) in both.iter().zip(&polling) {
        let label = format!("[{} peer, remembered websocket refused]", peer.kind());
        let learner = Session::builder(peer.url()).remember_upgrade(true);
        let config = learner.client_config().clone();
        upgrade_once(&label, learner).await;

        // The same settings, the memory included, at the polling-only server.
        let first = polling_peer.requests().len();
        let builder = Session::builder(polling_peer.url()).config(config.clone());
        let client = Client::connect(label.clone(), builder).await;
        assert_eq!(client.transport, TransportKind::Polling, "{label}");
        client.echo("over polling").await;
        client.close().await;
        let requests = requests_since(polling_peer, first, &client);
        let refused = requests.iter().position(|r| r.is_websocket());
        let handshake = requests
            .iter()
            .position(|r| !r.is_websocket() && r.query("sid").is_none());
        assert!(
            matches!((refused, handshake), (Some(w), Some(p)) if w < p),
            "{label}: a websocket handshake, then a polling one:\n{}",
            describe(&requests)
        );

        // Forgotten: polling first again, where a websocket would have worked.
        let again = Session::builder(peer.url()).config(config);
        let client = Client::connect(format!("{label} (after)"), again).await;
        assert_eq!(client.transport, TransportKind::Polling, "{label}");
        client.close().await;
    }
}

/// `transports(["websocket", "polling"])` at a server that allows polling only: with
/// `try_all_transports(true)` the session opens over polling after the refused websocket;
/// without it, `connect` fails with the websocket's refusal.
#[actix_rt::test]
async fn try_all_transports_falls_back_to_polling() {
    let peers = start_peers(&all_peers(), polling_only());
    for peer in &peers {
        let label = format!("[{} polling-only peer, websocket first]", peer.kind());
        let builder = Session::builder(peer.url()).transports(["websocket", "polling"]);

        let err = builder
            .clone()
            .connect()
            .await
            .expect_err("websocket refused, no fallback");
        assert!(
            matches!(err, ConnectError::Transport(TransportError::Http { .. })),
            "{label}: {err:?}"
        );

        // The refused websocket is logged before the next session starts (the log may lag).
        wait_until(DEADLINE, || {
            peer.requests().iter().any(PeerRequest::is_websocket)
        })
        .await;
        let first = peer.requests().len();
        let client = Client::connect(label.clone(), builder.try_all_transports(true)).await;
        assert_eq!(client.transport, TransportKind::Polling, "{label}");
        client.echo_all(&["fell back".to_string()]).await;
        client.close().await;
        // The refused websocket handshake, then the polling one. (python-engineio offers
        // the upgrade even when it allows polling only, so a probe may follow.)
        let requests = requests_since(peer, first, &client);
        let handshakes: Vec<bool> = requests
            .iter()
            .filter(|r| r.query("sid").is_none())
            // A refused websocket handshake is followed by a plain GET of its URL, which
            // reads the refusal's body (it may say the server speaks v3 only): not a
            // handshake.
            .filter(|r| r.is_websocket() || r.query("transport").as_deref() == Some("polling"))
            .map(PeerRequest::is_websocket)
            .collect();
        assert_eq!(
            handshakes,
            [true, false],
            "{label}: the refused websocket, then polling:\n{}",
            describe(&requests)
        );
    }
}

/// When no transport opens, the error lists every attempt, in order, with its own error.
#[actix_rt::test]
async fn every_failed_attempt_is_listed() {
    let url = refused_url();
    let err = Session::builder(&url)
        .transports(["websocket", "polling"])
        .try_all_transports(true)
        .connect()
        .await
        .expect_err("nothing listens");
    let ConnectError::Transport(TransportError::AllTransportsFailed(attempts)) = &err else {
        panic!("{err:?}");
    };
    let kinds: Vec<TransportKind> = attempts.iter().map(|(kind, _)| *kind).collect();
    assert_eq!(
        kinds,
        [TransportKind::WebSocket, TransportKind::Polling],
        "{err}"
    );
    for (kind, error) in attempts {
        assert!(
            matches!(error, TransportError::Connect(_)),
            "{kind}: {error:?}"
        );
    }
    let shown = err.to_string();
    assert!(
        shown.contains("websocket: cannot connect") && shown.contains("polling: cannot connect"),
        "{shown}"
    );
    // One transport listed: its own error, as without the option.
    let err = Session::builder(&url)
        .transports(["polling"])
        .try_all_transports(true)
        .connect()
        .await
        .expect_err("nothing listens");
    assert!(
        matches!(err, ConnectError::Transport(TransportError::Connect(_))),
        "{err:?}"
    );
}
