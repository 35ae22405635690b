//! Backpressure: `Send` answers late while more than the session's send buffer is
//! unwritten, so a sender that awaits each answer is held to the pace of the network,
//! and nothing is lost or reordered when the network catches up. A server that stops
//! reading plays the slow network: a scripted one, and the node and python peers frozen
//! with SIGSTOP.
//!
//! How much a sender gets answered while the server reads nothing is bounded by the send
//! buffer plus what the kernel holds: the bytes the client wrote and the server did not
//! read, in the client's send queue and the server's receive queue (megabytes on
//! loopback, as the send queue grows). Those are read from `/proc/net/tcp` at each
//! check, so the bound checked is the send buffer's own: answered bytes minus the
//! kernel's stay within the send buffer, the message accepted just below it, and one
//! message written in part (counted neither whole in the kernel nor in the client).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::Addr;
use actix_engineio::{Close, Send, Session, SessionStats, Stats};
use tokio::sync::Notify;

use crate::support::client::{assert_texts, sleep, wait_until, Client, Events, Mode, DEADLINE};
use crate::support::net::kernel_queues;
use crate::support::peers::{
    any_of, assert_peer_received, peer_messages, start_or_skip, start_peers, Peer, PeerKind,
    PeerOptions,
};
use crate::support::scripted::{open_packet, Reply, Scripted};

const MESSAGES: usize = 400;
const SIZE: usize = 16 * 1024;
const SEND_BUFFER: usize = 64 * 1024;
/// A message as counted on the wire: `4` and its text (over polling and websocket alike).
const WIRE: usize = SIZE + 1;

/// Message `i`: its number, then filler up to `SIZE` bytes.
fn message(i: usize) -> String {
    format!("{i:08}{}", "x".repeat(SIZE - 8))
}

fn all_messages() -> Vec<String> {
    (0..MESSAGES).map(message).collect()
}

/// The numbers of the messages a server received, in order, and [`CLOSE`] for the close
/// packet.
type Received = Arc<Mutex<Vec<usize>>>;

/// Stands for the close packet among the numbers of [`Received`].
const CLOSE: usize = usize::MAX;

fn record(received: &Received, packet: &str) {
    if packet == "1" {
        received.lock().unwrap().push(CLOSE);
    }
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

/// Checks the bound of the module docs on one sample: `answered` sends answered while
/// the kernel holds `kernel` bytes on their way to the server, which reads nothing.
fn assert_within_the_send_buffer(
    label: &str,
    answered: usize,
    kernel: usize,
    stats: &SessionStats,
) {
    let accepted = answered * WIRE;
    let held = accepted.saturating_sub(kernel);
    assert!(
        held <= SEND_BUFFER + 2 * WIRE,
        "{label}: {answered} sends answered ({accepted} bytes) while the server read nothing \
         and the kernel holds {kernel} bytes of them: the client holds {held} bytes, more \
         than its send buffer ({SEND_BUFFER}) and two messages; {stats:?}"
    );
    assert!(
        stats.unwritten_bytes <= SEND_BUFFER + WIRE,
        "{label}: {} bytes unwritten, more than the send buffer ({SEND_BUFFER}) and one \
         message; {stats:?}",
        stats.unwritten_bytes
    );
}

/// Waits until the sender is held back (a message waits in the send queue for room in
/// the send buffer) while the server on `port` reads nothing, checking the bound at
/// every look. Returns how many sends were answered then.
async fn held_back(
    label: &str,
    session: &Addr<Session>,
    answered: &Rc<Cell<usize>>,
    port: u16,
) -> usize {
    let start = Instant::now();
    loop {
        let before = answered.get();
        let stats = session.send(Stats).await.expect("Stats");
        let kernel = kernel_queues(port).to_server;
        let now = answered.get();
        assert!(
            now < MESSAGES,
            "{label}: all {MESSAGES} sends were answered while the server read nothing"
        );
        // Only a sample without an answer in between is consistent.
        if before == now {
            assert_within_the_send_buffer(label, now, kernel, &stats);
            if stats.queued_messages > 0 {
                eprintln!(
                    "{label}: held back after {now} answers, {kernel} bytes in the kernel, \
                     {stats:?}"
                );
                return now;
            }
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{label}: the sender was never held back: {now} answered; {stats:?}"
        );
        sleep(Duration::from_millis(5)).await;
    }
}

async fn sender_waits_then_catches_up(
    server: &Scripted,
    transport: &str,
    release: &Notify,
    received: &Received,
) {
    let label = format!("[scripted slow server, {transport}]");
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
    held_back(&label, &session, &answered, server.port()).await;
    assert!(received.lock().unwrap().is_empty(), "{label}");

    release.notify_one();
    assert!(
        wait_until(DEADLINE, || answered.get() == MESSAGES).await,
        "{label}: only {} of {MESSAGES} answered after the server caught up",
        answered.get()
    );
    assert!(
        wait_until(DEADLINE, || received.lock().unwrap().len() == MESSAGES).await,
        "{label}: the server got {} of {MESSAGES}",
        received.lock().unwrap().len()
    );
    assert_eq!(
        *received.lock().unwrap(),
        (0..MESSAGES).collect::<Vec<_>>(),
        "{label}: lost, duplicated or reordered"
    );
    assert_eq!(events.disconnect_reason(), None, "{label}");
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

/// The same with the real servers that can be frozen (SIGSTOP): node and python stop
/// reading, the sender is held back within the send buffer; once they resume, every
/// message reaches the peer (its log) and comes back (its echo), once, in order.
#[actix_rt::test]
async fn sender_waits_for_a_frozen_real_server() {
    let Some(kinds) = any_of(
        &[PeerKind::Node, PeerKind::Python],
        "SIGSTOP: the in-process rust peer cannot be frozen",
    ) else {
        return;
    };
    let peers = start_peers(&kinds, PeerOptions::default());
    for peer in &peers {
        for mode in [Mode::WebSocket, Mode::Polling] {
            sender_waits_for_the_frozen_peer(peer, mode).await;
        }
    }
}

async fn sender_waits_for_the_frozen_peer(peer: &Peer, mode: Mode) {
    let label = format!("[frozen {} peer, {mode}]", peer.kind());
    // Uncompressed: the bound is checked against the bytes the kernel holds, which
    // websocket compression (python accepts it) would make far fewer than those sent.
    let builder = mode
        .builder(&peer.url())
        .send_buffer(SEND_BUFFER)
        .per_message_deflate(false);
    let client = Client::connect(label.clone(), builder).await;
    let frozen = peer
        .freeze()
        .unwrap_or_else(|| panic!("{label}: cannot freeze the peer"));
    let answered = spawn_sender(client.session.clone());
    held_back(&label, &client.session, &answered, peer.port()).await;
    frozen.resume();

    assert!(
        wait_until(DEADLINE, || answered.get() == MESSAGES).await,
        "{label}: only {} of {MESSAGES} answered after the peer resumed",
        answered.get()
    );
    let messages = all_messages();
    let got = client.wait_messages(MESSAGES, DEADLINE * 3).await;
    client.assert_alive();
    assert_texts(&label, &got, &messages);
    // The peer logged each message before echoing it; its log may still lag behind.
    let sid = &client.sid;
    wait_until(DEADLINE, || peer_messages(peer, sid).len() >= MESSAGES).await;
    let logged = peer_messages(peer, sid);
    assert_peer_received(&label, &logged, &client.sid, &messages);
    client.close().await;
}

/// Messages still waiting for room when `Close` comes go out before the close packet, and
/// nothing sent after `Close` is taken.
#[actix_rt::test]
async fn close_sends_what_waits_first() {
    let label = "[scripted slow server, websocket, closed while held back]";
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
    let held_at = held_back(label, &session, &answered, server.port()).await;
    // The sender has one message waiting for an answer; the rest were never sent.
    // `Close` is queued now, and answers once the (released) server has the close.
    let closed = session.send(Close);
    release.notify_one();
    closed.await.unwrap();
    let closed_seen = || received.lock().unwrap().contains(&CLOSE);
    assert!(
        wait_until(DEADLINE, closed_seen).await,
        "{label}: the server never got the close packet: {:?}",
        received.lock().unwrap()
    );
    // Every message taken (answered), the one waiting at the close included, then the
    // close; the sender's next message was refused.
    let taken = answered.get();
    assert!(
        taken > held_at && taken < MESSAGES,
        "{label}: {taken} messages taken, {held_at} before the close"
    );
    let expected: Vec<usize> = (0..taken).chain([CLOSE]).collect();
    assert_eq!(*received.lock().unwrap(), expected, "{label}");
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
