//! `SessionSender`, the handle that sends without a request per message: its order (of
//! its own messages, and with the `Send`s of the same task), its backpressure (a full
//! send queue holds the sender back, nothing is lost or reordered when the server
//! catches up), its refusals (the message given back with the reason), and its messages
//! across a reconnection with `hold_messages`.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use actix_engineio::{Close, GetSender, Payload, Send, SendError, Session, Stats, Unsent};
use tokio::sync::Notify;

use crate::reconnect::{
    assert_reconnected, echo, events_of, messages, policy, short_heartbeat, Log,
};
use crate::support::client::{assert_texts, texts, wait_until, within, Mode, DEADLINE};
use crate::support::fault_proxy::FaultProxy;
use crate::support::peers::{all_peers, start_peers, PeerOptions};
use crate::support::scripted::{open_packet, Reply, Scripted};

/// Through one handle, and mixed with `Send`s whose answers the task awaits, 600
/// messages are echoed once each, in the order they were sent, by every peer.
#[actix_rt::test]
async fn handle_messages_keep_their_order_and_that_of_awaited_sends() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        for mode in [Mode::WebSocket, Mode::Polling] {
            let l = format!("[{} peer, {mode}, handle order]", peer.kind());
            let log = Log::default();
            let session = within(
                &l,
                DEADLINE,
                log.subscribe(mode.builder(&peer.url())).connect(),
            )
            .await
            .unwrap_or_else(|e| panic!("{l}: connect: {e}"));
            let sender = session.send(GetSender).await.unwrap();
            let sent = texts("ordered-", 600);
            for (i, text) in sent.iter().enumerate() {
                if i % 7 == 0 {
                    let answer = session.send(Send::text(text.as_str())).await.unwrap();
                    answer.unwrap_or_else(|e| panic!("{l}: Send {i}: {e}"));
                } else {
                    sender
                        .send(text.as_str())
                        .await
                        .unwrap_or_else(|e| panic!("{l}: handle {i}: {e}"));
                }
            }
            // Made after the last handle message was taken: goes out after it.
            within(&l, DEADLINE, session.send(Send::text("last")))
                .await
                .unwrap()
                .unwrap();
            let seen = log
                .until(&l, "every echo", |e| messages(e).len() > sent.len())
                .await;
            let expected: Vec<String> = sent.into_iter().chain(["last".to_owned()]).collect();
            assert_texts(&l, &messages(&seen), &expected);
            within(&l, DEADLINE, session.send(Close)).await.unwrap();
        }
    }
}

/// A websocket server that reads nothing until `release` is notified, then records the
/// text of every message.
fn stalling_server(release: Arc<Notify>, received: Arc<Mutex<Vec<String>>>) -> Scripted {
    Scripted::start(move |request| {
        let (release, received) = (release.clone(), received.clone());
        async move {
            if !request.is_websocket() {
                return Reply::text(404, "");
            }
            Reply::websocket(move |mut ws| async move {
                ws.send_text(&open_packet("ws-sid", &[], 25_000, 20_000))
                    .await;
                release.notified().await;
                while let Some(text) = ws.recv_text().await {
                    if let Some(message) = text.strip_prefix('4') {
                        received.lock().unwrap().push(message.to_owned());
                    }
                }
            })
        }
    })
}

/// Against a server that reads nothing, a sender that awaits each `send` is held back:
/// the send queue never holds more than its bound (16 messages here), and what is
/// unwritten stays near the send buffer. Once the server reads, every message arrives,
/// once, in order.
#[actix_rt::test]
async fn a_full_queue_holds_the_handle_back_and_nothing_is_lost() {
    const MESSAGES: usize = 400;
    const LIMIT: usize = 16;
    let l = "[scripted slow server, websocket, handle]";
    let release = Arc::new(Notify::new());
    let received = Arc::new(Mutex::new(Vec::new()));
    let server = stalling_server(release.clone(), received.clone());
    let session = Session::builder(server.url())
        .transports(["websocket"])
        .send_buffer(64 * 1024)
        .send_queue(LIMIT, usize::MAX)
        .connect()
        .await
        .unwrap();
    let sender = session.send(GetSender).await.unwrap();
    let filler = "x".repeat(16 * 1024);
    let sent: Vec<String> = (0..MESSAGES).map(|i| format!("{i:08}{filler}")).collect();
    let answered = Rc::new(Cell::new(0));
    {
        let (sender, sent, answered) = (sender.clone(), sent.clone(), answered.clone());
        actix_rt::spawn(async move {
            for (i, text) in sent.into_iter().enumerate() {
                if sender.send(text).await.is_err() {
                    return;
                }
                answered.set(i + 1);
            }
        });
    }
    // Held back: a full queue and an answer count that stops growing.
    let held = wait_until(DEADLINE, || answered.get() > LIMIT).await;
    assert!(held, "{l}: no send was answered");
    let mut stats = session.send(Stats).await.unwrap();
    let start = std::time::Instant::now();
    while stats.queued_messages < LIMIT {
        assert!(
            start.elapsed() < DEADLINE,
            "{l}: never held back: {stats:?}"
        );
        assert!(
            answered.get() < MESSAGES,
            "{l}: all answered, server reads nothing"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(5)).await;
        stats = session.send(Stats).await.unwrap();
    }
    assert!(
        stats.queued_messages <= LIMIT,
        "{l}: the queue holds more than its bound: {stats:?}"
    );
    assert!(
        answered.get() < MESSAGES,
        "{l}: every send was answered while the server read nothing"
    );
    let try_sent = sender.try_send("never");
    assert!(
        matches!(&try_sent, Err(Unsent { error: SendError::Full, payload }) if *payload == Payload::from("never")),
        "{l}: try_send on a full queue answered {try_sent:?}"
    );

    release.notify_one();
    assert!(
        wait_until(DEADLINE, || received.lock().unwrap().len() == MESSAGES).await,
        "{l}: the server got {} of {MESSAGES}",
        received.lock().unwrap().len()
    );
    assert_eq!(
        *received.lock().unwrap(),
        sent,
        "{l}: lost, duplicated or reordered"
    );
    assert_eq!(answered.get(), MESSAGES, "{l}");
    session.send(Close).await.unwrap();
}

/// Refusals give the message back with the reason: a message too large for the
/// server's `maxPayload` (`TooLarge`), any message once the session is closed
/// (`Closed`), and, without `hold_messages`, any message while the session reconnects
/// (`Reconnecting`); none of them reaches the server.
#[actix_rt::test]
async fn handle_refusals_give_the_payload_back() {
    let options = PeerOptions {
        max_payload: 1000,
        ..short_heartbeat()
    };
    let peers = start_peers(&all_peers(), options);
    for peer in &peers {
        let l = format!("[{} peer, websocket, handle refusals]", peer.kind());
        let proxy = FaultProxy::start(peer.port());
        let log = Log::default();
        let builder = Mode::WebSocket
            .builder(&proxy.url())
            .reconnect(policy().hold_messages(false));
        let session = within(&l, DEADLINE, log.subscribe(builder).connect())
            .await
            .unwrap_or_else(|e| panic!("{l}: connect: {e}"));
        let old_sid = log.nth_connect(&l, 1).await.sid;
        let sender = session.send(GetSender).await.unwrap();

        let large = Payload::from("y".repeat(2000));
        match sender.send(large.clone()).await {
            Err(Unsent {
                error: SendError::TooLarge { .. },
                payload,
            }) if payload == large => {}
            other => panic!("{l}: a message over maxPayload answered {other:?}"),
        }

        proxy.refuse();
        log.nth_disconnect(&l, 1).await;
        for i in 0..50 {
            let payload = Payload::from(format!("refused-{i}"));
            match sender.send(payload.clone()).await {
                Err(Unsent {
                    error: SendError::Reconnecting,
                    payload: back,
                }) if back == payload => {}
                other => panic!("{l}: message {i} while reconnecting answered {other:?}"),
            }
        }
        proxy.accept_again();
        let connect = log.nth_connect(&l, 2).await;
        assert_reconnected(&l, &log.all(), &old_sid);
        sender.send("after").await.unwrap();
        let seen = log
            .until(&l, "the echo of after", |e| {
                messages(&events_of(e, &connect.sid)).len() == 1
            })
            .await;
        assert_texts(
            &l,
            &messages(&events_of(&seen, &connect.sid)),
            &["after".to_owned()],
        );

        within(&l, DEADLINE, session.send(Close)).await.unwrap();
        match sender.send("closed").await {
            Err(Unsent {
                error: SendError::Closed,
                payload,
            }) if payload == Payload::from("closed") => {}
            other => panic!("{l}: a message after Close answered {other:?}"),
        }
        assert!(log.undelivered().is_empty(), "{l}: {:?}", log.undelivered());
    }
}

/// With `hold_messages(true)`, 500 messages sent through a handle while the network is
/// down are taken (the queue's bound is raised to hold them), wait, and go out on the
/// next session, once each, in order, after the message sent before the outage.
#[actix_rt::test]
async fn handle_messages_are_held_across_a_reconnection() {
    const OUTAGE: usize = 500;
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        for mode in [Mode::WebSocket, Mode::Polling] {
            let l = format!("[{} peer, {mode}, handle held]", peer.kind());
            let proxy = FaultProxy::start(peer.port());
            let log = Log::default();
            let builder = mode
                .builder(&proxy.url())
                .send_queue(OUTAGE, usize::MAX)
                .reconnect(policy().hold_messages(true));
            let session = within(&l, DEADLINE, log.subscribe(builder).connect())
                .await
                .unwrap_or_else(|e| panic!("{l}: connect: {e}"));
            let old_sid = log.nth_connect(&l, 1).await.sid;
            let sender = session.send(GetSender).await.unwrap();
            echo(&session, &log, &l, "before").await;

            proxy.refuse();
            log.nth_disconnect(&l, 1).await;
            let outage = texts("held-", OUTAGE);
            for text in &outage {
                within(&l, DEADLINE, sender.send(text.as_str()))
                    .await
                    .unwrap_or_else(|e| panic!("{l}: {text}: {e}"));
            }
            let stats = session.send(Stats).await.unwrap();
            assert_eq!(stats.queued_messages, OUTAGE, "{l}: {stats:?}");
            proxy.accept_again();
            let connect = log.nth_connect(&l, 2).await;
            assert_reconnected(&l, &log.all(), &old_sid);
            let seen = log
                .until(&l, "every held message's echo", |e| {
                    messages(&events_of(e, &connect.sid)).len() >= OUTAGE
                })
                .await;
            assert_texts(&l, &messages(&events_of(&seen, &connect.sid)), &outage);
            assert!(log.undelivered().is_empty(), "{l}: held messages came back");
            within(&l, DEADLINE, session.send(Close)).await.unwrap();
        }
    }
}
