//! The upgrade against scripted servers, for what real servers never do on demand: a
//! refused, broken or wrong probe, a probe answered so late that a poll is in flight when
//! `3probe` arrives, and a close while polling pauses for the upgrade.

use std::time::Duration;

use actix_engineio::{Session, TransportError, TransportKind, Upgrade, UpgradeError};

use crate::support::client::{assert_texts, texts, wait_until, Client, DEADLINE};
use crate::support::net::kernel_queues;
use crate::support::scripted_echo::{EchoConfig, EchoServer, Mark, Probe};

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

        let mut messages = texts("still-polling-", 20);
        client.echo_all(&messages).await;
        // A later round trip: whatever the failed probe would still do (a late `5`, a
        // disconnect) has happened by the time it is over.
        messages.push("last".into());
        client.echo("last").await;
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
    assert_texts(label, &got, &before);

    // During: `3probe` has been sent and the server holds the poll in flight. Once the
    // client has read it (nothing is left in the kernel for it), the probe's answer is
    // in the session's mailbox ahead of the messages sent next, which are held.
    assert!(
        wait_until(DEADLINE, || echo.probe_answered()).await,
        "{label}: the server never answered the probe; marks {:?}",
        echo.marks()
    );
    let read_all = || kernel_queues(server.port()).to_clients == 0;
    assert!(
        wait_until(DEADLINE, read_all).await,
        "{label}: the client never read `3probe`"
    );
    let during = texts("during-", 10);
    client.send_all(&during).await;
    assert_eq!(
        client.upgrade_event(),
        None,
        "{label}: the upgrade completed while a poll was still in flight"
    );
    echo.release_noop();

    client.upgraded().await;
    let after = texts("after-", 10);
    client.send_all(&after).await;

    let mut expected: Vec<String> = [before.clone(), during.clone(), after.clone()].concat();
    let got = client.wait_messages(expected.len(), DEADLINE).await;
    client.assert_alive();
    assert_texts(label, &got, &expected);
    // Nothing arrives twice, late: a last echo comes right after the others.
    expected.push("last".into());
    client.send("last").await;
    let got = client.wait_messages(expected.len(), DEADLINE).await;
    assert_texts(label, &got, &expected);

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
// closing during the upgrade

/// `Close` while polling pauses for the upgrade (a POST in flight, messages held):
/// the held messages and the close packet go out over polling after the POST in
/// flight, in order; nothing the application sent is lost, and `5` is never sent.
#[actix_rt::test]
async fn close_during_the_upgrade_pause_loses_nothing() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    use actix_engineio::{Close, DisconnectReason, Send};

    use crate::support::client::Events;
    use crate::support::scripted::{open_packet, Reply, Scripted};

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
