//! The bounded send queue: `do_send` beyond its bound (in messages or bytes) is dropped
//! and counted; `TrySend` on a full send buffer is refused with the message given back;
//! senders that await their answers are held back instead, against a network that stops
//! moving (the proxy stalls), and go on, in order, once it moves again.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use actix::Addr;
use actix_engineio::{Close, Payload, Send, SendError, Session, Stats, TrySend, Unsent};
use futures::{stream, StreamExt};

use super::{any_peer, messages, policy, Log};
use crate::support::client::{assert_texts, sleep, texts, within, Mode, DEADLINE};
use crate::support::fault_proxy::FaultProxy;
use crate::support::peers::{start_or_skip, Peer, PeerOptions};

/// A peer with the default heartbeat (25 s): no ping during these tests, so nothing but
/// the test's own messages counts against the send buffer.
fn quiet_peer() -> Option<Peer> {
    start_or_skip(any_peer()?, PeerOptions::default())
}

/// Sends `text` (after everything sent before) and waits for its echo; gives every
/// message received by then.
async fn last_echo(session: &Addr<Session>, log: &Log, l: &str, text: &str) -> Vec<Payload> {
    session.send(Send::text(text)).await.unwrap().unwrap();
    let seen = log
        .until(l, &format!("the echo of {text:?}"), |e| {
            messages(e).contains(&Payload::from(text))
        })
        .await;
    messages(&seen)
}

/// A burst of `do_send`s against a send buffer of one byte: the first goes out, the
/// queue takes as many as its bound allows (10 messages; or 1,000 bytes of 100-byte
/// messages), the rest are dropped and counted in `Stats`; the server gets exactly those
/// taken, in order.
#[actix_rt::test]
async fn do_send_beyond_the_send_queue_is_dropped_and_counted() {
    let Some(peer) = quiet_peer() else { return };
    // (messages, bytes) bound, messages sent, how many are taken: one sent at once, then
    // ten in the queue.
    for (bound, sent) in [((10, 1 << 20), 100), ((1000, 1000), 50)] {
        let l = format!(
            "[{} peer, websocket only, send_queue{bound:?}]",
            peer.kind()
        );
        let log = Log::default();
        let builder = Mode::WebSocket
            .builder(&peer.url())
            .send_buffer(1)
            .send_queue(bound.0, bound.1)
            .reconnect(policy());
        let session = within(&l, DEADLINE, log.subscribe(builder).connect())
            .await
            .unwrap();
        let burst: Vec<String> = (0..sent)
            .map(|i| format!("{i:03}{}", "x".repeat(97)))
            .collect();
        for text in &burst {
            session.do_send(Send::text(text.as_str()));
        }
        let stats = session.send(Stats).await.unwrap();
        let taken = 11;
        assert_eq!(
            stats.refused_do_sends,
            (sent - taken) as u64,
            "{l}: {stats:?}"
        );
        assert!(stats.queued_messages <= 10, "{l}: {stats:?}");
        assert_eq!(
            stats.queued_bytes,
            stats.queued_messages * 100,
            "{l}: {stats:?}"
        );

        let got = last_echo(&session, &log, &l, "end").await;
        let mut expected = burst[..taken].to_vec();
        expected.push("end".into());
        assert_texts(&l, &got, &expected);
        let stats = session.send(Stats).await.unwrap();
        assert_eq!(
            stats.refused_do_sends,
            (sent - taken) as u64,
            "{l}: {stats:?}"
        );
        assert_eq!(stats.queued_messages, 0, "{l}: {stats:?}");
        within(&l, DEADLINE, session.send(Close)).await.unwrap();
    }
}

/// `TrySend` while the send buffer is full, or while messages wait in the queue, is
/// refused with `SendError::Full` and its message given back; once the network has taken
/// what was sent, it goes through. Refused messages never reach the server.
#[actix_rt::test]
async fn try_send_on_a_full_buffer_is_refused_with_the_payload_back() {
    let Some(peer) = quiet_peer() else { return };
    let l = format!("[{} peer, websocket only, TrySend when full]", peer.kind());
    let log = Log::default();
    let builder = Mode::WebSocket
        .builder(&peer.url())
        .send_buffer(1)
        .reconnect(policy());
    let session = within(&l, DEADLINE, log.subscribe(builder).connect())
        .await
        .unwrap();
    // The first fills the buffer until its write is reported; the second waits in the
    // queue. Both are in the mailbox before the first is written.
    session.do_send(Send::text("first"));
    let full = session
        .send(TrySend(Payload::from("refused-1")))
        .await
        .unwrap();
    session.do_send(Send::text("second"));
    let queued = session
        .send(TrySend(Payload::from(vec![1u8, 2, 3])))
        .await
        .unwrap();
    for (answer, payload) in [
        (full, Payload::from("refused-1")),
        (queued, Payload::from(vec![1u8, 2, 3])),
    ] {
        match answer {
            Err(Unsent {
                error: SendError::Full,
                payload: back,
            }) if back == payload => {}
            other => panic!("{l}: TrySend answered {other:?}"),
        }
    }
    let got = last_echo(&session, &log, &l, "third").await;
    assert_texts(&l, &got, &["first".into(), "second".into(), "third".into()]);
    let answer = session.send(TrySend(Payload::from("now"))).await.unwrap();
    assert_eq!(answer, Ok(()), "{l}: TrySend on an idle session");
    let got = last_echo(&session, &log, &l, "end").await;
    assert_texts(&l, &got[3..], &["now".into(), "end".into()]);
    within(&l, DEADLINE, session.send(Close)).await.unwrap();
}

const STALL_MESSAGES: usize = 400;
const STALL_SIZE: usize = 32 * 1024;
const IN_FLIGHT: usize = 32;

/// Waits until `answered` has not moved for a second, and returns it.
async fn settled(answered: &Rc<Cell<usize>>) -> usize {
    let mut last = usize::MAX;
    loop {
        sleep(Duration::from_secs(1)).await;
        if answered.get() == last {
            return last;
        }
        last = answered.get();
    }
}

/// The proxy stalls (holds every byte both ways) while 32 senders at a time await their
/// answers: once the socket's buffers, the 64 KiB send buffer and the queue are full, no
/// answer comes; all 32 wait in the queue (beyond its `do_send` bound of 8: those who await
/// are held back, never dropped), with at least the send buffer unwritten. Once the proxy
/// resumes, every send is answered and the server echoes all, in order.
#[actix_rt::test]
async fn awaiting_senders_stop_on_a_stalled_network_and_resume_after() {
    let Some(peer) = quiet_peer() else { return };
    let l = format!("[{} peer, websocket only, stalled network]", peer.kind());
    let proxy = FaultProxy::start(peer.port());
    let log = Log::default();
    let builder = Mode::WebSocket
        .builder(&proxy.url())
        .send_buffer(64 * 1024)
        .send_queue(8, 1 << 20)
        .reconnect(policy());
    let session = within(&l, DEADLINE, log.subscribe(builder).connect())
        .await
        .unwrap();
    proxy.stall();

    let all: Vec<String> = texts("", STALL_MESSAGES)
        .into_iter()
        .map(|n| format!("{n:>8}{}", "x".repeat(STALL_SIZE - 8)))
        .collect();
    let answered = Rc::new(Cell::new(0));
    let failure = Rc::new(RefCell::new(None));
    let (count, failed, to_send, sender) = (
        answered.clone(),
        failure.clone(),
        all.clone(),
        session.clone(),
    );
    actix_rt::spawn(async move {
        let mut answers = stream::iter(to_send)
            .map(|text| sender.send(Send::text(text)))
            .buffered(IN_FLIGHT);
        while let Some(answer) = answers.next().await {
            match answer {
                Ok(Ok(())) => count.set(count.get() + 1),
                other => {
                    *failed.borrow_mut() = Some(format!("{other:?}"));
                    return;
                }
            }
        }
    });
    let stalled_at = settled(&answered).await;
    assert!(
        stalled_at < STALL_MESSAGES - IN_FLIGHT,
        "{l}: {stalled_at} of {STALL_MESSAGES} answered while the network was stalled"
    );
    let stats = session.send(Stats).await.unwrap();
    assert_eq!(stats.queued_messages, IN_FLIGHT, "{l}: {stats:?}");
    assert!(stats.unwritten_bytes >= 64 * 1024, "{l}: {stats:?}");
    assert_eq!(stats.refused_do_sends, 0, "{l}: {stats:?}");
    assert!(
        messages(&log.all()).is_empty(),
        "{l}: an echo came through the stall"
    );

    proxy.resume();
    let seen = log
        .until(&l, "every echo", |e| messages(e).len() >= STALL_MESSAGES)
        .await;
    assert_eq!(*failure.borrow(), None, "{l}: a send failed");
    assert_eq!(answered.get(), STALL_MESSAGES, "{l}");
    assert_texts(&l, &messages(&seen), &all);
    assert_eq!(log.disconnects(), [], "{l}");
    within(&l, DEADLINE, session.send(Close)).await.unwrap();
}
