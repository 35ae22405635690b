//! Backpressure: `Send` answers late while more than the session's send buffer is
//! unwritten, so a sender that awaits each answer is held to the pace of the network,
//! and nothing is lost or reordered when the network catches up. A scripted server that
//! stops reading plays the slow network.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::Addr;
use actix_engineio::{Close, Send, Session};
use tokio::sync::Notify;

use crate::support::client::{wait_until, Events, DEADLINE};
use crate::support::peers::{start_or_skip, PeerKind, PeerOptions};
use crate::support::scripted::{open_packet, Reply, Scripted};

const MESSAGES: usize = 400;
const SIZE: usize = 16 * 1024;
const SEND_BUFFER: usize = 64 * 1024;

/// Message `i`: its number, then filler up to `SIZE` bytes.
fn message(i: usize) -> String {
    format!("{i:08}{}", "x".repeat(SIZE - 8))
}

/// The numbers of the messages a server received, in order.
type Received = Arc<Mutex<Vec<usize>>>;

fn record(received: &Received, packet: &str) {
    if let Some(number) = packet.strip_prefix('4').and_then(|t| t.get(..8)) {
        if let Ok(n) = number.parse() {
            received.lock().unwrap().push(n);
        }
    }
}

/// A websocket server that reads nothing until `release` is notified.
fn stalling_websocket_server(release: Arc<Notify>, received: Received) -> Scripted {
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
                    record(&received, &text);
                }
            })
        }
    })
}

/// A polling server whose POSTs are answered only once `release` is notified.
fn stalling_polling_server(release: Arc<Notify>, received: Received) -> Scripted {
    let released = Arc::new(Mutex::new(false));
    Scripted::start(move |request| {
        let (release, received, released) = (release.clone(), received.clone(), released.clone());
        async move {
            match (request.method.as_str(), request.query("sid")) {
                ("GET", None) => Reply::text(200, open_packet("poll-sid", &[], 25_000, 20_000)),
                ("GET", Some(_)) => Reply::Hang,
                ("POST", Some(_)) => {
                    if !*released.lock().unwrap() {
                        release.notified().await;
                        *released.lock().unwrap() = true;
                    }
                    for packet in request.body_text().split('\x1e') {
                        record(&received, packet);
                    }
                    Reply::text(200, "ok")
                }
                _ => Reply::text(400, ""),
            }
        }
    })
}

/// Sends every message, awaiting each answer; counts the answers and stops at the
/// first refusal.
fn spawn_sender(session: Addr<Session>) -> Rc<Cell<usize>> {
    let answered = Rc::new(Cell::new(0));
    let count = answered.clone();
    actix_rt::spawn(async move {
        for i in 0..MESSAGES {
            if !matches!(session.send(Send::text(message(i))).await, Ok(Ok(()))) {
                return;
            }
            count.set(i + 1);
        }
    });
    answered
}

/// Waits until `answered` has not moved for a while, and returns it.
async fn settled(answered: &Rc<Cell<usize>>) -> usize {
    let mut last = usize::MAX;
    loop {
        actix_rt::time::sleep(Duration::from_millis(500)).await;
        if answered.get() == last {
            return last;
        }
        last = answered.get();
    }
}

async fn sender_waits_then_catches_up(
    server: &Scripted,
    transport: &str,
    release: &Notify,
    received: &Received,
) {
    let events = Events::default();
    let session = events
        .subscribe(
            Session::builder(server.url())
                .transports([transport])
                .send_buffer(SEND_BUFFER),
        )
        .connect()
        .await
        .unwrap();
    let answered = spawn_sender(session.clone());
    let stalled_at = settled(&answered).await;
    assert!(
        stalled_at < MESSAGES,
        "{transport}: all {MESSAGES} sends were answered while the server read nothing"
    );
    assert!(received.lock().unwrap().is_empty(), "{transport}");

    release.notify_one();
    assert!(
        wait_until(DEADLINE, || answered.get() == MESSAGES).await,
        "{transport}: only {} of {MESSAGES} answered after the server caught up",
        answered.get()
    );
    assert!(
        wait_until(DEADLINE, || received.lock().unwrap().len() == MESSAGES).await,
        "{transport}: the server got {} of {MESSAGES}",
        received.lock().unwrap().len()
    );
    assert_eq!(
        *received.lock().unwrap(),
        (0..MESSAGES).collect::<Vec<_>>(),
        "{transport}: lost, duplicated or reordered"
    );
    assert_eq!(events.disconnect_reason(), None, "{transport}");
    session.send(Close).await.unwrap();
}

#[actix_rt::test]
async fn websocket_sender_waits_for_a_slow_server() {
    let release = Arc::new(Notify::new());
    let received = Received::default();
    let server = stalling_websocket_server(release.clone(), received.clone());
    sender_waits_then_catches_up(&server, "websocket", &release, &received).await;
}

#[actix_rt::test]
async fn polling_sender_waits_for_a_slow_server() {
    let release = Arc::new(Notify::new());
    let received = Received::default();
    let server = stalling_polling_server(release.clone(), received.clone());
    sender_waits_then_catches_up(&server, "polling", &release, &received).await;
}

/// Messages still waiting for room when `Close` comes go out before the close packet.
#[actix_rt::test]
async fn close_sends_what_waits_first() {
    let release = Arc::new(Notify::new());
    let received = Received::default();
    let server = stalling_websocket_server(release.clone(), received.clone());
    let session = Session::builder(server.url())
        .transports(["websocket"])
        .send_buffer(SEND_BUFFER)
        .connect()
        .await
        .unwrap();
    let answered = spawn_sender(session.clone());
    let stalled_at = settled(&answered).await;
    assert!(stalled_at < MESSAGES);
    // The sender has one message waiting for an answer; the rest were never sent.
    session.send(Close).await.unwrap();
    release.notify_one();
    assert!(
        wait_until(DEADLINE, || received.lock().unwrap().len() > stalled_at).await,
        "the waiting message was not sent before the close"
    );
    assert_eq!(
        *received.lock().unwrap(),
        (0..=stalled_at).collect::<Vec<_>>()
    );
}

/// A send buffer of zero still lets messages through, one write at a time.
#[actix_rt::test]
async fn a_zero_send_buffer_still_sends() {
    let Some(peer) = start_or_skip(PeerKind::Rust, PeerOptions::default()) else {
        return;
    };
    let events = Events::default();
    let session = events
        .subscribe(
            Session::builder(peer.url())
                .transports(["websocket"])
                .send_buffer(0),
        )
        .connect()
        .await
        .unwrap();
    for i in 0..50 {
        session
            .send(Send::text(i.to_string()))
            .await
            .unwrap()
            .unwrap();
    }
    let got = events.messages(50).await;
    let texts: Vec<_> = got.iter().filter_map(|p| p.as_text()).collect();
    let expected: Vec<String> = (0..50).map(|i| i.to_string()).collect();
    assert_eq!(texts, expected);
    session.send(Close).await.unwrap();
}
