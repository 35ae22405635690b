//! 13: `Messages`, the batched subscription: every message once, in order, in one event
//! per read of the socket, beside `Message` subscribers that see the same sequence; and
//! a session's `Disconnect` after its last batch, also when the close packet comes in
//! the same read as the messages before it.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix::prelude::*;
use actix_engineio::{
    Disconnect, DisconnectReason, GetSender, Messages, Payload, Send, Session, SessionBuilder,
    Subscribe,
};

use super::label;
use crate::support::client::{
    assert_payloads, wait_until, within, Events, Mode, ALL_MODES, DEADLINE,
};
use crate::support::peers::{all_peers, start_peers, PeerOptions};
use crate::support::scripted::{open_packet, Reply, Scripted};

/// One event, as a recorder heard it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Heard {
    Batch(Vec<Payload>),
    Disconnect(DisconnectReason),
}

/// What one actor subscribed to `Messages` and `Disconnect` heard, in the order its
/// mailbox gave it (one mailbox: the order the session published in).
#[derive(Clone, Default)]
struct Log(Rc<RefCell<Vec<Heard>>>);

impl Log {
    fn subscribe(&self, builder: SessionBuilder) -> SessionBuilder {
        let recorder = BatchRecorder(self.clone()).start();
        builder
            .on_messages(recorder.clone().recipient())
            .on_disconnect(recorder.recipient())
    }

    fn heard(&self) -> Vec<Heard> {
        self.0.borrow().clone()
    }

    /// Every message of every batch, in order.
    fn messages(&self) -> Vec<Payload> {
        self.heard()
            .into_iter()
            .flat_map(|h| match h {
                Heard::Batch(batch) => batch,
                Heard::Disconnect(_) => Vec::new(),
            })
            .collect()
    }

    fn batches(&self) -> usize {
        self.heard()
            .iter()
            .filter(|h| matches!(h, Heard::Batch(_)))
            .count()
    }

    fn disconnected(&self) -> bool {
        self.heard()
            .iter()
            .any(|h| matches!(h, Heard::Disconnect(_)))
    }

    /// Checks that no batch is empty and that one `Disconnect` (`reason`) came last.
    fn assert_ended_after_batches(&self, l: &str, reason: DisconnectReason) {
        let heard = self.heard();
        assert!(
            heard
                .iter()
                .all(|h| !matches!(h, Heard::Batch(b) if b.is_empty())),
            "{l}: an empty batch"
        );
        let disconnects: Vec<usize> = heard
            .iter()
            .enumerate()
            .filter(|(_, h)| matches!(h, Heard::Disconnect(_)))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            disconnects,
            [heard.len() - 1],
            "{l}: one Disconnect, after every batch; heard {} events",
            heard.len()
        );
        assert_eq!(
            heard.last(),
            Some(&Heard::Disconnect(reason)),
            "{l}: the Disconnect"
        );
    }
}

struct BatchRecorder(Log);

impl Actor for BatchRecorder {
    type Context = Context<Self>;
}

impl Handler<Messages> for BatchRecorder {
    type Result = ();
    fn handle(&mut self, Messages(batch): Messages, _: &mut Context<Self>) {
        self.0 .0.borrow_mut().push(Heard::Batch(batch));
    }
}

impl Handler<Disconnect> for BatchRecorder {
    type Result = ();
    fn handle(&mut self, Disconnect(reason): Disconnect, _: &mut Context<Self>) {
        self.0 .0.borrow_mut().push(Heard::Disconnect(reason));
    }
}

const PIPELINED: usize = 1_000;

/// 1,000 messages pipelined through a `SessionSender` come back through `Messages` once
/// each and in order, to a subscriber of the builder and to one added with `Subscribe`,
/// and a `Message` subscriber of the same session sees the same sequence; after the
/// server closes, `Disconnect` is the last event the batch subscriber hears.
#[actix_rt::test]
async fn pipelined_echoes_arrive_in_batches_once_in_order_beside_message_subscribers() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        for mode in ALL_MODES {
            let l = label(peer, mode);
            let batches = Log::default();
            let added = Log::default();
            let singles = Events::default();
            let builder = singles.subscribe(batches.subscribe(mode.builder(&peer.url())));
            let session = within(&l, DEADLINE, builder.connect())
                .await
                .unwrap_or_else(|e| panic!("{l}: connect: {e}"));
            let recorder = BatchRecorder(added.clone()).start();
            within(
                &l,
                DEADLINE,
                session.send(Subscribe::Messages(recorder.recipient())),
            )
            .await
            .unwrap();

            let sender = within(&l, DEADLINE, session.send(GetSender)).await.unwrap();
            let mut want: Vec<Payload> = (0..PIPELINED)
                .map(|i| Payload::from(format!("p{i}")))
                .collect();
            for (i, message) in want.iter().enumerate() {
                sender
                    .send(message.clone())
                    .await
                    .unwrap_or_else(|e| panic!("{l}: handle send {i}: {e}"));
            }
            // A duplicate would come before the echo of a last message sent now.
            within(&l, DEADLINE, session.send(Send::text("last")))
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("{l}: Send last: {e}"));
            want.push(Payload::from("last"));
            wait_until(DEADLINE * 3, || {
                let done = |n: usize| n >= want.len();
                (done(batches.messages().len())
                    && done(added.messages().len())
                    && done(singles.received().len()))
                    || batches.disconnected()
            })
            .await;
            assert!(!batches.disconnected(), "{l}: the session ended early");
            assert_payloads(&format!("{l} Messages"), &batches.messages(), &want);
            assert_payloads(
                &format!("{l} Messages by Subscribe"),
                &added.messages(),
                &want,
            );
            assert_payloads(&format!("{l} Message"), &singles.received(), &want);
            eprintln!(
                "{l}: {} echoes in {} batches",
                want.len(),
                batches.batches()
            );

            within(&l, DEADLINE, session.send(Send::text("close-me")))
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("{l}: Send close-me: {e}"));
            wait_until(DEADLINE, || batches.disconnected()).await;
            batches.assert_ended_after_batches(&l, DisconnectReason::ServerDisconnect);
            assert_payloads(
                &format!("{l} Messages at the end"),
                &batches.messages(),
                &want,
            );
        }
    }
}

const BURST: usize = 500;

/// `4b0`, `4b1`, ...: the messages of the burst, as packets.
fn burst_packets() -> Vec<String> {
    (0..BURST).map(|i| format!("4b{i}")).collect()
}

fn burst_payloads() -> Vec<Payload> {
    (0..BURST).map(|i| Payload::from(format!("b{i}"))).collect()
}

/// One unmasked websocket text frame carrying `text` (under 126 bytes).
fn text_frame(text: &str) -> Vec<u8> {
    let mut frame = vec![0x81, text.len() as u8];
    frame.extend_from_slice(text.as_bytes());
    frame
}

/// A server that sends, right after the handshake and in one write, 500 messages and
/// the close packet: what a real server does only by chance.
fn burst_then_close() -> Scripted {
    let polled = Arc::new(AtomicBool::new(false));
    Scripted::start(move |request| {
        let polled = polled.clone();
        async move {
            let open = open_packet("burst", &[], 25_000, 20_000);
            if request.is_websocket() {
                return Reply::websocket(move |mut ws| async move {
                    ws.send_text(&open).await;
                    let mut bytes = Vec::new();
                    for packet in burst_packets() {
                        bytes.extend(text_frame(&packet));
                    }
                    bytes.extend(text_frame("1"));
                    let _ = ws.write_raw(&bytes).await;
                    // Held open: the client reads everything, then closes.
                    while ws.recv().await.is_some() {}
                });
            }
            match (request.method.as_str(), request.query("sid")) {
                ("GET", None) => Reply::text(200, open),
                ("GET", Some(_)) if !polled.swap(true, Ordering::SeqCst) => {
                    let mut packets = burst_packets();
                    packets.push("1".to_owned());
                    Reply::text(200, packets.join("\u{1e}"))
                }
                ("GET", Some(_)) => {
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                    Reply::text(200, "6")
                }
                _ => Reply::text(200, "ok"),
            }
        }
    })
}

/// Messages and the close packet in one read (one websocket read, one polling
/// payload): every message reaches `Messages` before the `Disconnect`, none after it,
/// and the `Message` subscriber of the same session gets them all too.
#[actix_rt::test]
async fn disconnect_comes_after_the_last_batch_of_the_same_read() {
    for mode in [Mode::WebSocket, Mode::Polling] {
        let l = format!("[scripted burst, {mode}]");
        let server = burst_then_close();
        let batches = Log::default();
        let singles = Events::default();
        let builder = singles.subscribe(batches.subscribe(mode.builder(&server.url())));
        let _session: Addr<Session> = within(&l, DEADLINE, builder.connect())
            .await
            .unwrap_or_else(|e| panic!("{l}: connect: {e}"));
        wait_until(DEADLINE, || {
            batches.disconnected() && singles.disconnect_reason().is_some()
        })
        .await;
        batches.assert_ended_after_batches(&l, DisconnectReason::ServerDisconnect);
        assert_payloads(&l, &batches.messages(), &burst_payloads());
        assert_payloads(
            &format!("{l} Message"),
            &singles.received(),
            &burst_payloads(),
        );
        assert_eq!(
            singles.disconnect_reason(),
            Some(DisconnectReason::ServerDisconnect),
            "{l}: Message subscriber's Disconnect"
        );
        eprintln!("{l}: {BURST} messages in {} batches", batches.batches());
    }
}
