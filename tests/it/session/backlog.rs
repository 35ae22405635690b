//! 14: a subscriber slower than the server holds the server back. Messages given to actor
//! subscribers and not handled yet are counted; past `event_buffer_bytes` of them the
//! session stops reading, so the server waits in the socket instead of the
//! subscriber's mailbox growing; once the subscriber catches up, every message
//! arrives, once and in order. For `Message` and `Messages` subscribers, over websocket
//! and polling, against every peer.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use actix::prelude::*;
use actix_engineio::{
    GetSender, Message as EioMessage, Messages, Payload, Send, Session, SessionBuilder, Stats,
    TransportKind, Upgrade,
};

use super::label;
use crate::support::client::{assert_payloads, sleep, wait_until, within, Mode, DEADLINE};
use crate::support::peers::{all_peers, start_peers, PeerOptions};
use crate::support::scripted_echo::{EchoConfig, EchoServer, Probe};

/// Messages the server sends back while the subscriber is stuck: 15 MiB, more than
/// three times what a websocket session may hold with the bound and one read beyond.
const MESSAGES: usize = 240;
const SIZE: usize = 64 * 1024;
/// `event_buffer_bytes` of the sessions here.
const BOUND: usize = 256 * 1024;
/// What a websocket transport may read beyond the bound before the session's word to
/// stop reaches it: what its stream handler takes before it looks at its mailbox
/// (16 decodes of up to 64 KiB of payload, or one frame, each), twice: up to 2.3 MiB
/// seen here, compressed frames from python included.
const ONE_READ: usize = 4 * 1024 * 1024;

/// Where the stuck subscriber waits until the test lets it go.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    fn pass(&self) {
        let (open, changed) = &*self.0;
        let mut open = open.lock().unwrap_or_else(PoisonError::into_inner);
        while !*open {
            open = changed.wait(open).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn open(&self) {
        let (open, changed) = &*self.0;
        *open.lock().unwrap_or_else(PoisonError::into_inner) = true;
        changed.notify_all();
    }
}

/// A subscriber on a thread of its own whose handler waits at the gate, then keeps
/// what it got.
struct Stuck {
    gate: Gate,
    got: Arc<Mutex<Vec<Payload>>>,
    upgraded: Arc<Mutex<bool>>,
}

impl Actor for Stuck {
    type Context = Context<Self>;
}

impl Stuck {
    fn keep(&self, payloads: impl IntoIterator<Item = Payload>) {
        self.gate.pass();
        self.got
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(payloads);
    }
}

impl Handler<EioMessage> for Stuck {
    type Result = ();
    fn handle(&mut self, EioMessage(payload): EioMessage, _: &mut Context<Self>) {
        self.keep([payload]);
    }
}

/// Whether the upgrade to websocket completed.
impl Handler<Upgrade> for Stuck {
    type Result = ();
    fn handle(&mut self, upgrade: Upgrade, _: &mut Context<Self>) {
        if upgrade == Upgrade::Completed(TransportKind::WebSocket) {
            *self.upgraded.lock().unwrap_or_else(PoisonError::into_inner) = true;
        }
    }
}

impl Handler<Messages> for Stuck {
    type Result = ();
    fn handle(&mut self, Messages(batch): Messages, _: &mut Context<Self>) {
        self.keep(batch);
    }
}

/// A stuck subscriber on a thread of its own, what it got, and the gate that lets it go;
/// dropped, it is let go and its thread stops, so that a failing test leaves nothing
/// waiting.
struct StuckSubscriber {
    addr: Addr<Stuck>,
    got: Arc<Mutex<Vec<Payload>>>,
    gate: Gate,
    arbiter: Arbiter,
}

impl StuckSubscriber {
    fn start() -> Self {
        let (gate, got) = (Gate::default(), Arc::new(Mutex::new(Vec::new())));
        let arbiter = Arbiter::new();
        let addr = Stuck::start_in_arbiter(&arbiter.handle(), {
            let (gate, got) = (gate.clone(), got.clone());
            move |_| Stuck {
                gate,
                got,
                upgraded: Arc::default(),
            }
        });
        StuckSubscriber {
            addr,
            got,
            gate,
            arbiter,
        }
    }

    /// Lets the subscriber go, and checks that it gets `want`, in order.
    async fn release_and_expect(&self, l: &str, want: &[Payload]) {
        self.gate.open();
        let got = || {
            self.got
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        };
        let all_in = || got().len() >= want.len();
        assert!(
            wait_until(DEADLINE * 2, all_in).await,
            "{l}: only {} of {} messages reached the subscriber",
            got().len(),
            want.len()
        );
        assert_payloads(l, &got(), want);
    }
}

impl Drop for StuckSubscriber {
    fn drop(&mut self) {
        self.gate.open();
        self.arbiter.stop();
    }
}

#[derive(Debug, Clone, Copy)]
enum Subscription {
    Message,
    Messages,
}

fn message(i: usize) -> Payload {
    let mut text = format!("{i:06}:");
    text.extend(std::iter::repeat_n('m', SIZE - text.len()));
    Payload::from(text)
}

async fn stats(l: &str, session: &Addr<Session>) -> actix_engineio::SessionStats {
    within(l, DEADLINE, session.send(Stats))
        .await
        .unwrap_or_else(|e| panic!("{l}: Stats: {e}"))
}

#[actix_rt::test]
async fn a_stuck_subscriber_holds_the_server_back_and_then_gets_everything_in_order() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        for mode in [Mode::WebSocket, Mode::Polling] {
            for subscription in [Subscription::Message, Subscription::Messages] {
                let l = format!("{} {subscription:?}", label(peer, mode));
                held_back_then_delivered(&l, mode, mode.builder(&peer.url()), subscription).await;
            }
        }
    }
}

async fn held_back_then_delivered(
    l: &str,
    mode: Mode,
    builder: SessionBuilder,
    subscription: Subscription,
) {
    let stuck = StuckSubscriber::start();
    let builder = builder.event_buffer_bytes(BOUND);
    let builder = match subscription {
        Subscription::Message => builder.on_message(stuck.addr.clone().recipient()),
        Subscription::Messages => builder.on_messages(stuck.addr.clone().recipient()),
    };
    let session = within(l, DEADLINE, builder.connect())
        .await
        .unwrap_or_else(|e| panic!("{l}: connect: {e}"));
    let sender = within(l, DEADLINE, session.send(GetSender)).await.unwrap();
    let want: Vec<Payload> = (0..MESSAGES).map(message).collect();
    let flood = want.clone();
    actix_rt::spawn(async move {
        for payload in flood {
            if sender.send(payload).await.is_err() {
                return;
            }
        }
    });

    // The echoes come until the bound is reached...
    let mut unhandled = 0;
    for _ in 0..(DEADLINE.as_millis() / 20) {
        if unhandled >= BOUND {
            break;
        }
        unhandled = stats(l, &session).await.unhandled_bytes;
        sleep(Duration::from_millis(20)).await;
    }
    assert!(
        unhandled >= BOUND,
        "{l}: the echoes never filled the subscriber's backlog ({unhandled} bytes)"
    );
    // ... then the session reads no more while the subscriber is stuck: over
    // websocket, nothing beyond the rest of one read; over polling, no new poll once
    // the one in flight is in (whose size is the server's choice).
    let (mut most, mut increases) = (unhandled, 0);
    for _ in 0..50 {
        sleep(Duration::from_millis(20)).await;
        let now = stats(l, &session).await.unhandled_bytes;
        if now > most {
            increases += 1;
        }
        most = most.max(now);
    }
    match mode {
        Mode::Polling => assert!(
            increases <= 1,
            "{l}: {increases} more polls answered while the subscriber was stuck (at most the one in flight); {most} bytes waited"
        ),
        _ => assert!(
            most <= BOUND + ONE_READ,
            "{l}: {most} bytes waited for the stuck subscriber (bound {BOUND} + one read {ONE_READ})"
        ),
    }

    stuck.release_and_expect(l, &want).await;
    let mut left = usize::MAX;
    for _ in 0..(DEADLINE.as_millis() / 20) {
        left = stats(l, &session).await.unhandled_bytes;
        if left == 0 {
            break;
        }
        sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        left, 0,
        "{l}: the backlog is not back to 0 once all is handled"
    );
    let _ = within(l, DEADLINE, session.send(actix_engineio::Close)).await;
}

/// A session that upgrades with a stuck subscriber: the upgrade completes, and once the
/// backlog is full (one event) the websocket reads nothing more until the subscriber
/// catches up; then everything arrives, in order. (Whether the first echo comes back
/// over polling, before the upgrade, or over the websocket is the session's timing: the
/// hold must hold either way.)
#[actix_rt::test]
async fn a_stuck_subscriber_holds_an_upgraded_session_back() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        let l = label(peer, Mode::Upgrade);
        let (stuck, upgraded) = (StuckSubscriber::start(), Arc::default());
        let upgrades = upgrade_recorder(&upgraded);
        let builder = Mode::Upgrade
            .builder(&peer.url())
            .event_buffer(1)
            .on_message(stuck.addr.clone().recipient())
            .on_upgrade(upgrades.recipient());
        let session = within(&l, DEADLINE, builder.connect())
            .await
            .unwrap_or_else(|e| panic!("{l}: connect: {e}"));
        send_then_upgrade(&l, &session, "first", &upgraded).await;
        // The first echo may come over the websocket, after the upgrade event.
        let before = unhandled_at_least(&l, &session, 1).await;
        let sender = within(&l, DEADLINE, session.send(GetSender)).await.unwrap();
        let flood: Vec<Payload> = (0..40).map(message).collect();
        for payload in flood.clone() {
            sender
                .send(payload)
                .await
                .unwrap_or_else(|e| panic!("{l}: send: {e}"));
        }
        // Everything sent went out over the websocket; nothing of its echoes is read.
        for _ in 0..50 {
            sleep(Duration::from_millis(20)).await;
            let now = stats(&l, &session).await.unhandled_messages;
            assert_eq!(
                now, before,
                "{l}: the websocket read while the subscriber's backlog was full"
            );
        }
        let mut want = vec![Payload::from("first")];
        want.extend(flood);
        stuck.release_and_expect(&l, &want).await;
        let _ = within(&l, DEADLINE, session.send(actix_engineio::Close)).await;
    }
}

/// The hold made while the session still polls: a scripted server answers the probe
/// late (1.5 s), so the echo of a message sent at once comes back over polling and fills
/// the backlog (one event) before the upgrade. The probing websocket still reads the
/// probe's answer (the upgrade completes), and once it is the session's transport it
/// reads nothing more until the subscriber catches up.
#[actix_rt::test]
async fn a_hold_made_while_polling_holds_the_websocket_after_the_upgrade() {
    let l = "[scripted, late probe]";
    let (server, _echo) = EchoServer::start(EchoConfig {
        upgrades: vec!["websocket"],
        probe: Probe::Upgrade {
            delay: Duration::from_millis(1500),
        },
        ..EchoConfig::default()
    });
    let (stuck, upgraded) = (StuckSubscriber::start(), Arc::default());
    let upgrades = upgrade_recorder(&upgraded);
    let session = within(
        l,
        DEADLINE,
        Session::builder(server.url())
            .event_buffer(1)
            .on_message(stuck.addr.clone().recipient())
            .on_upgrade(upgrades.recipient())
            .connect(),
    )
    .await
    .unwrap_or_else(|e| panic!("{l}: connect: {e}"));
    send_then_upgrade(l, &session, "over polling", &upgraded).await;
    let before = unhandled_at_least(l, &session, 1).await;
    assert_eq!(
        before, 1,
        "{l}: more than the echo over polling in the backlog"
    );
    let flood = texts_of(20);
    for text in &flood {
        within(l, DEADLINE, session.send(Send::text(text.clone())))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{l}: send: {e}"));
    }
    for _ in 0..50 {
        sleep(Duration::from_millis(20)).await;
        assert_eq!(
            stats(l, &session).await.unhandled_messages,
            before,
            "{l}: the websocket read while the subscriber's backlog was full"
        );
    }
    let mut want = vec![Payload::from("over polling")];
    want.extend(flood.into_iter().map(Payload::from));
    stuck.release_and_expect(l, &want).await;
    drop(server);
}

/// Sends `text`, then waits for the upgrade to complete (the probing websocket must
/// read the probe's answer, whatever holds the session's reading back).
async fn send_then_upgrade(l: &str, session: &Addr<Session>, text: &str, upgraded: &Mutex<bool>) {
    within(l, DEADLINE, session.send(Send::text(text)))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{l}: send: {e}"));
    let is_upgraded = || *upgraded.lock().unwrap_or_else(PoisonError::into_inner);
    assert!(
        wait_until(DEADLINE, is_upgraded).await,
        "{l}: the upgrade did not complete while the subscriber was stuck"
    );
}

/// The session's unhandled messages, once there are at least `n` (within the deadline).
async fn unhandled_at_least(l: &str, session: &Addr<Session>, n: usize) -> usize {
    for _ in 0..(DEADLINE.as_millis() / 20) {
        let unhandled = stats(l, session).await.unhandled_messages;
        if unhandled >= n {
            return unhandled;
        }
        sleep(Duration::from_millis(20)).await;
    }
    panic!("{l}: fewer than {n} messages ever waited for the stuck subscriber");
}

/// A subscriber of its own for `Upgrade`, never stuck: a stuck subscriber would hear of
/// the upgrade only after the messages it has in hand.
fn upgrade_recorder(upgraded: &Arc<Mutex<bool>>) -> Addr<Stuck> {
    let gate = Gate::default();
    gate.open();
    Stuck {
        gate,
        got: Arc::default(),
        upgraded: Arc::clone(upgraded),
    }
    .start()
}

fn texts_of(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("over websocket {i}")).collect()
}
