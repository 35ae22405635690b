//! The upgrade from long-polling to websocket (PROTOCOL.md section 7), against the three
//! real peers (node `engine.io`, `python-engineio`, `engineioxide`), and against scripted
//! servers for what real servers never do on demand: a refused, broken or wrong probe,
//! and a probe answered so late that a poll is in flight when `3probe` arrives.

mod support;

use std::time::Duration;

use actix_engineio::{Session, TransportError, TransportKind, Upgrade, UpgradeError};

use support::client::{wait_until, DEADLINE};
use support::echo::{
    is_polling, peer_closed, session_requests, sleep, start_peers, texts, Client, EchoConfig,
    EchoServer, Mark, Probe,
};
use support::{PeerEvent, PeerKind, PeerOptions, ALL_PEERS};

/// Longer than `PROBE_GRACE` (1 s): a session that would probe has done so by then.
const SETTLE: Duration = Duration::from_millis(1500);

// ---------------------------------------------------------------------------------------
// real peers

/// The default transports upgrade with every peer: `Connect` says polling, then
/// `Upgrade::Completed(WebSocket)`; messages echo afterwards; the peer saw exactly one
/// websocket request for the sid and no polling request of the session after the upgrade.
#[actix_rt::test]
async fn upgrade_completes_with_every_peer() {
    let peers = start_peers(&ALL_PEERS, PeerOptions::default());
    for peer in &peers {
        let label = format!("[{} peer]", peer.kind());
        let client = Client::connect(label.clone(), Session::builder(peer.url())).await;
        assert_eq!(
            client.transport,
            TransportKind::Polling,
            "{label}: Connect must report polling"
        );
        client.upgraded().await;

        client.echo_all(&texts("after-upgrade-", 10)).await;
        // Let the peer's log catch up with whatever polling happened before the upgrade.
        sleep(Duration::from_millis(500)).await;
        let polling_before = session_requests(peer, &client.sid)
            .iter()
            .filter(|r| is_polling(r))
            .count();
        client.echo_all(&texts("later-", 10)).await;
        sleep(SETTLE).await;
        client.assert_alive();

        let requests = session_requests(peer, &client.sid);
        let websockets: Vec<_> = requests.iter().filter(|r| r.is_websocket()).collect();
        assert_eq!(
            websockets.len(),
            1,
            "{label}: expected exactly one websocket request with sid {}: {websockets:#?}",
            client.sid
        );
        assert_eq!(
            websockets[0].query("transport").as_deref(),
            Some("websocket"),
            "{label}: the upgrade request's transport"
        );
        assert_eq!(
            peer.requests().iter().filter(|r| r.is_websocket()).count(),
            1,
            "{label}: only the upgrade opened a websocket"
        );
        let polling_after = requests.iter().filter(|r| is_polling(r)).count();
        assert_eq!(
            polling_after, polling_before,
            "{label}: polling requests of the session went on after the upgrade: {:#?}",
            &requests
        );

        // node logs the moment it receives `5`: nothing of the session polls after it.
        if peer.kind() == PeerKind::Node {
            let events = peer.events();
            let upgraded_at = events
                .iter()
                .position(|e| matches!(e, PeerEvent::Upgrade { sid, transport } if *sid == client.sid && transport == "websocket"))
                .unwrap_or_else(|| panic!("{label}: node logged no upgrade of {}", client.sid));
            let late: Vec<_> = events[upgraded_at..]
                .iter()
                .filter(|e| matches!(e, PeerEvent::Request(r) if is_polling(r) && r.query("sid").as_deref() == Some(client.sid.as_str())))
                .collect();
            assert!(
                late.is_empty(),
                "{label}: polling requests after node saw `5`: {late:#?}"
            );
        }
        assert_eq!(
            peer_closed(peer, &client.sid),
            None,
            "{label}: the peer closed the session"
        );
    }
}

/// Messages sent while the probe is under way (right after `connect()` returns), while
/// polling pauses, and after the upgrade all arrive once each, in order, with every peer.
#[actix_rt::test]
async fn messages_sent_during_the_upgrade_arrive_once_in_order() {
    let peers = start_peers(&ALL_PEERS, PeerOptions::default());
    for peer in &peers {
        let label = format!("[{} peer]", peer.kind());
        let client = Client::connect(label.clone(), Session::builder(peer.url())).await;
        let mut expected = Vec::new();

        // At once: the probe is in progress now.
        let burst = texts("burst-", 200);
        client.send_all(&burst).await;
        expected.extend(burst);
        // Right after, spread over the probe, the grace period and the switch.
        for i in 0..100 {
            let pair = [format!("spread-{i}-a"), format!("spread-{i}-b")];
            client.send_all(&pair).await;
            expected.extend(pair);
            sleep(Duration::from_millis(10)).await;
        }
        client.upgraded().await;
        let after = texts("after-", 100);
        client.send_all(&after).await;
        expected.extend(after);

        let got = client
            .wait_messages(expected.len(), Duration::from_secs(30))
            .await;
        client.assert_alive();
        support::echo::assert_texts(&label, &got, &expected);
        // Nothing arrives twice, late.
        sleep(Duration::from_millis(500)).await;
        support::echo::assert_texts(&label, &client.events.received(), &expected);
    }
}

/// `.upgrade(false)` and `.transports(["polling"])` never open a websocket.
#[actix_rt::test]
async fn no_websocket_without_upgrade() {
    let peers = start_peers(&ALL_PEERS, PeerOptions::default());
    for peer in &peers {
        for (mode, builder) in [
            (
                "upgrade(false)",
                Session::builder(peer.url()).upgrade(false),
            ),
            (
                "transports([polling])",
                Session::builder(peer.url()).transports(["polling"]),
            ),
        ] {
            let label = format!("[{} peer, {mode}]", peer.kind());
            let first_request = peer.requests().len();
            let client = Client::connect(label.clone(), builder).await;
            assert_eq!(client.transport, TransportKind::Polling, "{label}");
            client.echo_all(&texts("m", 5)).await;
            sleep(SETTLE).await;
            client.echo_all(&texts("n", 5)).await;
            client.assert_alive();
            let websockets: Vec<_> = peer.requests()[first_request..]
                .iter()
                .filter(|r| r.is_websocket())
                .cloned()
                .collect();
            assert!(
                websockets.is_empty(),
                "{label}: a websocket was opened: {websockets:#?}"
            );
            assert_eq!(
                client.upgrade_event(),
                None,
                "{label}: no upgrade event expected"
            );
            client.session.do_send(actix_engineio::Close);
        }
    }
}

// ---------------------------------------------------------------------------------------
// scripted servers: failed probes

/// A probe that fails in each of these ways leaves a working polling session: an
/// `Upgrade::Failed` event, no disconnect, messages still echo over polling, and `5` is
/// never sent.
#[actix_rt::test]
async fn failed_probe_leaves_a_working_polling_session() {
    let cases = [
        ("probe answered 3nope", Probe::Answer("3nope")),
        ("probe answered 4hello", Probe::Answer("4hello")),
        ("websocket refused with 400", Probe::Refuse(400)),
        ("websocket dropped at once", Probe::DropAtOnce),
        ("websocket closed at once", Probe::CloseAtOnce),
    ];
    for (case, probe) in cases {
        let label = format!("[scripted, {case}]");
        let (server, echo) = EchoServer::start(EchoConfig {
            upgrades: vec!["websocket"],
            probe: probe.clone(),
            ..EchoConfig::default()
        });
        let client = Client::connect(label.clone(), Session::builder(server.url())).await;
        assert_eq!(client.transport, TransportKind::Polling, "{label}");
        let outcome = client.events.upgrade().await;
        match (&probe, &outcome) {
            (Probe::Answer(answer), Upgrade::Failed(UpgradeError::UnexpectedAnswer(got))) => {
                assert_eq!(got, answer, "{label}: the reported answer")
            }
            (Probe::Refuse(status), Upgrade::Failed(UpgradeError::Transport(cause))) => {
                assert!(
                    matches!(cause, TransportError::Http { status: s, .. } if s == status),
                    "{label}: expected HTTP {status}, got {cause:?}"
                )
            }
            (
                Probe::DropAtOnce | Probe::CloseAtOnce,
                Upgrade::Failed(UpgradeError::Transport(_)),
            ) => {}
            _ => panic!("{label}: unexpected upgrade outcome {outcome:?}"),
        }

        let messages = texts("still-polling-", 20);
        client.echo_all(&messages).await;
        sleep(Duration::from_millis(300)).await;
        client.assert_alive();

        let marks = echo.marks();
        assert!(
            marks.contains(&Mark::WsRequest),
            "{label}: the probe websocket was never requested: {marks:?}"
        );
        let over_polling: Vec<String> = echo
            .received_messages()
            .into_iter()
            .map(|(transport, text)| {
                assert_eq!(
                    transport,
                    TransportKind::Polling,
                    "{label}: {text:?} did not come over polling"
                );
                text
            })
            .collect();
        assert_eq!(
            over_polling, messages,
            "{label}: messages received by the server"
        );
        assert!(
            !echo.ws_in().iter().any(|t| t == "5"),
            "{label}: `5` was sent on the websocket: {:?}",
            echo.ws_in()
        );
        assert!(
            !echo
                .posts()
                .iter()
                .any(|body| body.split('\x1e').any(|p| p == "5")),
            "{label}: `5` was POSTed"
        );
        client.session.do_send(actix_engineio::Close);
    }
}

// ---------------------------------------------------------------------------------------
// scripted server: the slow probe

/// `3probe` comes 1.5 s after `2probe` (longer than PROBE_GRACE), so polling has started
/// and a GET is in flight when it arrives. The client must wait for that GET (answered
/// `6` by the server) before it sends `5`; messages sent before the probe is answered
/// (over polling), while polling pauses (held, then over websocket) and after the upgrade
/// arrive once each, in order.
#[actix_rt::test]
async fn slow_probe_waits_for_the_poll_in_flight() {
    let label = "[scripted, slow probe]";
    let (server, echo) = EchoServer::start(EchoConfig {
        upgrades: vec!["websocket"],
        probe: Probe::Upgrade {
            delay: Duration::from_millis(1500),
        },
        // Empty polls are held long, so the poll is in flight when `3probe` goes out.
        hold: Duration::from_secs(10),
        noop_on_release: true,
        ..EchoConfig::default()
    });
    let client = Client::connect(label, Session::builder(server.url())).await;
    assert_eq!(client.transport, TransportKind::Polling, "{label}");

    // Before: the probe is in progress; these go over polling.
    let before = texts("before-", 10);
    client.send_all(&before).await;
    let got = client.wait_messages(before.len(), DEADLINE).await;
    support::echo::assert_texts(label, &got, &before);

    // During: `3probe` has been sent and the server holds the poll in flight.
    assert!(
        wait_until(DEADLINE, || echo.probe_answered()).await,
        "{label}: the server never answered the probe; marks {:?}",
        echo.marks()
    );
    sleep(Duration::from_millis(300)).await;
    let during = texts("during-", 10);
    client.send_all(&during).await;
    sleep(Duration::from_millis(300)).await;
    assert_eq!(
        client.upgrade_event(),
        None,
        "{label}: the upgrade completed while a poll was still in flight"
    );
    echo.release_noop();

    client.upgraded().await;
    let after = texts("after-", 10);
    client.send_all(&after).await;

    let expected: Vec<String> = [before.clone(), during.clone(), after.clone()].concat();
    let got = client.wait_messages(expected.len(), DEADLINE).await;
    client.assert_alive();
    support::echo::assert_texts(label, &got, &expected);
    sleep(Duration::from_millis(300)).await;
    support::echo::assert_texts(label, &client.events.received(), &expected);

    // The order of things at the server.
    let marks = echo.marks();
    let at = |what: &str, pred: &dyn Fn(&Mark) -> bool| {
        marks
            .iter()
            .position(pred)
            .unwrap_or_else(|| panic!("{label}: no {what} in {marks:#?}"))
    };
    let probe_answered = at("3probe", &|m| matches!(m, Mark::ProbeAnswered { .. }));
    let Mark::ProbeAnswered { gets_in_flight } = marks[probe_answered] else {
        unreachable!()
    };
    assert_eq!(
        gets_in_flight, 1,
        "{label}: one GET should be in flight when 3probe is sent: {marks:#?}"
    );
    let noop = marks[probe_answered..]
        .iter()
        .position(|m| *m == Mark::Get(Some("6".into())))
        .map(|i| i + probe_answered)
        .unwrap_or_else(|| {
            panic!("{label}: the poll in flight was never answered `6`: {marks:#?}")
        });
    let upgrade = at("`5` on the websocket", &|m| *m == Mark::WsIn("5".into()));
    assert!(
        upgrade > noop,
        "{label}: `5` arrived before the poll in flight was answered: {marks:#?}"
    );
    // Nothing but `2probe` on the websocket before `5`; no polling request after it.
    let early: Vec<_> = marks[..upgrade]
        .iter()
        .filter(|m| matches!(m, Mark::WsIn(t) if t != "2probe"))
        .collect();
    assert!(early.is_empty(), "{label}: frames before `5`: {early:?}");
    let late: Vec<_> = marks[upgrade..]
        .iter()
        .filter(|m| matches!(m, Mark::Get(_) | Mark::Post(_)))
        .collect();
    assert!(late.is_empty(), "{label}: polling after `5`: {late:?}");

    // Which way each message went: `before` over polling, `after` over websocket, the
    // ones sent while polling paused held and sent over websocket; each exactly once.
    let received = echo.received_messages();
    let texts_only: Vec<String> = received.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(
        texts_only, expected,
        "{label}: messages received by the server"
    );
    for (transport, text) in &received {
        let want = if before.contains(text) {
            TransportKind::Polling
        } else {
            TransportKind::WebSocket
        };
        assert_eq!(*transport, want, "{label}: {text:?} came over {transport}");
    }
    drop(server);
}

// ---------------------------------------------------------------------------------------
// real peers: a slow probe

/// The slow-probe path with real servers: the peer is frozen (SIGSTOP) right after the
/// handshake for longer than PROBE_GRACE, so the probe websocket is not answered in time,
/// polling starts, and messages are POSTed; then it resumes. The upgrade completes, every
/// message arrives once, in order, and nothing of the session polls after the upgrade.
/// Node and python only: the in-process Rust peer cannot be frozen.
#[actix_rt::test]
async fn upgrade_completes_after_a_frozen_peer_resumes() {
    let peers = start_peers(&[PeerKind::Node, PeerKind::Python], PeerOptions::default());
    for peer in &peers {
        let label = format!("[{} peer, frozen during the probe]", peer.kind());
        let client = Client::connect(label.clone(), Session::builder(peer.url())).await;
        assert!(peer.pause(), "{label}: cannot freeze the peer");
        let mut expected = texts("frozen-", 20);
        client.send_all(&expected).await;
        sleep(SETTLE).await;
        let more = texts("still-frozen-", 20);
        client.send_all(&more).await;
        expected.extend(more);
        assert!(peer.resume(), "{label}: cannot resume the peer");

        client.upgraded().await;
        let after = texts("after-", 20);
        client.send_all(&after).await;
        expected.extend(after);
        let got = client.wait_messages(expected.len(), DEADLINE).await;
        client.assert_alive();
        support::echo::assert_texts(&label, &got, &expected);

        sleep(Duration::from_millis(500)).await;
        let polling_before = session_requests(peer, &client.sid)
            .iter()
            .filter(|r| is_polling(r))
            .count();
        client.echo_all(&texts("later-", 10)).await;
        sleep(SETTLE).await;
        client.assert_alive();
        support::echo::assert_texts(
            &label,
            &client.events.received()[expected.len()..],
            &texts("later-", 10),
        );
        let requests = session_requests(peer, &client.sid);
        assert_eq!(
            requests.iter().filter(|r| r.is_websocket()).count(),
            1,
            "{label}: websocket requests"
        );
        assert_eq!(
            requests.iter().filter(|r| is_polling(r)).count(),
            polling_before,
            "{label}: polling went on after the upgrade: {requests:#?}"
        );
        eprintln!(
            "{label}: requests of the session: {:?}",
            requests
                .iter()
                .map(|r| if r.is_websocket() {
                    "WS".to_owned()
                } else {
                    r.method.clone()
                })
                .collect::<Vec<_>>()
        );
    }
}

// ---------------------------------------------------------------------------------------
// closing during the upgrade

/// `Close` while polling pauses for the upgrade (a POST in flight, messages held):
/// the held messages and the close packet go out over polling after the POST in
/// flight, in order; nothing the application sent is lost, and `5` is never sent.
#[actix_rt::test]
async fn close_during_the_upgrade_pause_loses_nothing() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    use actix_engineio::{Close, DisconnectReason, Send};
    use support::client::Events;
    use support::scripted::{open_packet, Reply, Scripted};

    let posts: Arc<Mutex<Vec<String>>> = Arc::default();
    let frames: Arc<Mutex<Vec<String>>> = Arc::default();
    let probe_answered = Arc::new(AtomicBool::new(false));
    let server = {
        let (posts, frames, probe_answered) =
            (posts.clone(), frames.clone(), probe_answered.clone());
        Scripted::start(move |request| {
            let (posts, frames, probe_answered) =
                (posts.clone(), frames.clone(), probe_answered.clone());
            async move {
                if request.is_websocket() {
                    return Reply::websocket(move |mut ws| async move {
                        while let Some(frame) = ws.recv_text().await {
                            frames.lock().unwrap().push(frame.clone());
                            if frame == "2probe" {
                                ws.send_text("3probe").await;
                                probe_answered.store(true, Ordering::SeqCst);
                            }
                        }
                    });
                }
                match (request.method.as_str(), request.query("sid")) {
                    ("GET", None) => {
                        Reply::text(200, open_packet("pause", &["websocket"], 25_000, 20_000))
                    }
                    ("GET", Some(_)) => Reply::Hang,
                    ("POST", Some(_)) => {
                        // Slow POSTs: one is in flight when the probe is answered.
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        posts.lock().unwrap().push(request.body_text());
                        Reply::text(200, "ok")
                    }
                    _ => Reply::text(400, ""),
                }
            }
        })
    };
    let events = Events::default();
    let session = events
        .subscribe(Session::builder(server.url()))
        .connect()
        .await
        .unwrap();
    session.send(Send::text("m0")).await.unwrap().unwrap();
    assert!(wait_until(DEADLINE, || probe_answered.load(Ordering::SeqCst)).await);
    for i in 1..=20 {
        session
            .send(Send::text(format!("m{i}")))
            .await
            .unwrap()
            .unwrap();
    }
    session.send(Close).await.unwrap();
    assert_eq!(
        events.disconnect().await,
        DisconnectReason::ClientDisconnect
    );

    let expected: Vec<String> = (0..=20)
        .map(|i| format!("4m{i}"))
        .chain(["1".into()])
        .collect();
    let packets = || -> Vec<String> {
        let posts = posts.lock().unwrap();
        posts
            .iter()
            .flat_map(|b| b.split('\x1e').map(str::to_owned))
            .collect()
    };
    assert!(
        wait_until(DEADLINE, || packets().len() >= expected.len()).await,
        "the server got {:?}",
        packets()
    );
    assert_eq!(packets(), expected);
    assert!(
        !frames.lock().unwrap().iter().any(|f| f == "5"),
        "the upgrade must not complete after Close: {:?}",
        frames.lock().unwrap()
    );
}
