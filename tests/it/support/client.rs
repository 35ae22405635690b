//! The client side of the tests: [`Events`], an actor that records every event a session
//! publishes; [`Client`], a connected session with its recorder and echo helpers; the
//! [`Mode`]s every behaviour is tested in; async waits on those records and on peer logs,
//! with generous deadlines; and assertions on received messages that report the first
//! difference rather than dump megabytes.
//!
//! ```ignore
//! let events = Events::default();
//! let session = events.subscribe(Session::builder(peer.url()).transports(["websocket"]))
//!     .connect().await.unwrap();
//! session.send(Send::text("hi")).await.unwrap().unwrap();
//! assert_eq!(events.messages(1).await, [Payload::from("hi")]);
//! ```

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_engineio::{
    Close, Connect, Disconnect, DisconnectReason, Payload, Session, SessionBuilder, TransportKind,
    Upgrade,
};

use super::peers::{Peer, PeerEvent};

/// How long a test waits for anything before it fails. Generous: the machines are noisy.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// How often the waits below look again.
const TICK: Duration = Duration::from_millis(5);

/// How a session reaches the server: the three modes every behaviour is tested in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `.transports(["websocket"])`.
    WebSocket,
    /// `.transports(["polling"])`.
    Polling,
    /// The default transports: polling first, then the upgrade to websocket.
    Upgrade,
}

/// Every mode.
pub const ALL_MODES: [Mode; 3] = [Mode::WebSocket, Mode::Polling, Mode::Upgrade];

impl Mode {
    /// A builder for `url` in this mode.
    pub fn builder(self, url: &str) -> SessionBuilder {
        let builder = Session::builder(url);
        match self {
            Mode::WebSocket => builder.transports(["websocket"]),
            Mode::Polling => builder.transports(["polling"]),
            Mode::Upgrade => builder,
        }
    }

    /// The transport the session opens on.
    pub fn opens_on(self) -> TransportKind {
        match self {
            Mode::WebSocket => TransportKind::WebSocket,
            Mode::Polling | Mode::Upgrade => TransportKind::Polling,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::WebSocket => "websocket only",
            Mode::Polling => "polling only",
            Mode::Upgrade => "polling with upgrade",
        })
    }
}

/// One event, as a subscriber saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Connect(Connect),
    Message(Payload),
    Upgrade(Upgrade),
    Disconnect(DisconnectReason),
}

/// Everything one subscriber received, in order. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Events {
    seen: Rc<RefCell<Vec<Seen>>>,
}

impl Events {
    /// Subscribes a new recorder to all four events of the session `builder` will start.
    pub fn subscribe(&self, builder: SessionBuilder) -> SessionBuilder {
        let recorder = Recorder(self.clone()).start();
        builder
            .on_connect(recorder.clone().recipient())
            .on_message(recorder.clone().recipient())
            .on_upgrade(recorder.clone().recipient())
            .on_disconnect(recorder.recipient())
    }

    /// A recorder actor feeding these events, for `Subscribe` on a running session.
    pub fn recorder(&self) -> Addr<Recorder> {
        Recorder(self.clone()).start()
    }

    /// Everything seen so far.
    pub fn all(&self) -> Vec<Seen> {
        self.seen.borrow().clone()
    }

    /// The messages seen so far.
    pub fn received(&self) -> Vec<Payload> {
        self.seen
            .borrow()
            .iter()
            .filter_map(|s| match s {
                Seen::Message(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }

    /// Waits until `n` messages arrived (or the session ended, or [`DEADLINE`]) and
    /// returns the messages seen; callers assert on the result.
    pub async fn messages(&self, n: usize) -> Vec<Payload> {
        wait_until(DEADLINE, || {
            self.received().len() >= n || self.disconnect_reason().is_some()
        })
        .await;
        self.received()
    }

    /// The reason of the session's end, if it ended.
    pub fn disconnect_reason(&self) -> Option<DisconnectReason> {
        self.seen.borrow().iter().find_map(|s| match s {
            Seen::Disconnect(r) => Some(r.clone()),
            _ => None,
        })
    }

    /// Waits for the session's end and returns its reason; panics after `deadline`.
    pub async fn disconnect_within(&self, deadline: Duration) -> DisconnectReason {
        wait_until(deadline, || self.disconnect_reason().is_some()).await;
        self.disconnect_reason()
            .unwrap_or_else(|| panic!("no disconnect within {deadline:?}; seen {:?}", self.all()))
    }

    /// Waits for the session's end with the default deadline.
    pub async fn disconnect(&self) -> DisconnectReason {
        self.disconnect_within(DEADLINE).await
    }

    /// Waits for the upgrade's outcome.
    pub async fn upgrade(&self) -> Upgrade {
        wait_until(DEADLINE, || self.upgrade_seen().is_some()).await;
        self.upgrade_seen()
            .unwrap_or_else(|| panic!("no upgrade event; seen {:?}", self.all()))
    }

    /// The upgrade's outcome, if it was seen yet.
    pub fn upgrade_seen(&self) -> Option<Upgrade> {
        self.seen.borrow().iter().find_map(|s| match s {
            Seen::Upgrade(u) => Some(u.clone()),
            _ => None,
        })
    }

    /// The `Connect` event, once it was seen.
    pub fn connect(&self) -> Option<Connect> {
        self.seen.borrow().iter().find_map(|s| match s {
            Seen::Connect(c) => Some(c.clone()),
            _ => None,
        })
    }
}

/// Records events into [`Events`].
pub struct Recorder(Events);

impl Actor for Recorder {
    type Context = Context<Self>;
}

impl Handler<Connect> for Recorder {
    type Result = ();
    fn handle(&mut self, event: Connect, _: &mut Context<Self>) {
        self.0.seen.borrow_mut().push(Seen::Connect(event));
    }
}

impl Handler<actix_engineio::Message> for Recorder {
    type Result = ();
    fn handle(&mut self, event: actix_engineio::Message, _: &mut Context<Self>) {
        self.0.seen.borrow_mut().push(Seen::Message(event.0));
    }
}

impl Handler<Upgrade> for Recorder {
    type Result = ();
    fn handle(&mut self, event: Upgrade, _: &mut Context<Self>) {
        self.0.seen.borrow_mut().push(Seen::Upgrade(event));
    }
}

impl Handler<Disconnect> for Recorder {
    type Result = ();
    fn handle(&mut self, event: Disconnect, _: &mut Context<Self>) {
        self.0.seen.borrow_mut().push(Seen::Disconnect(event.0));
    }
}

// ---------------------------------------------------------------------------------------
// a connected session

/// One connected session and everything its subscriber saw. Every assertion message starts
/// with `label`, which names the server and the mode (e.g. `[python peer, polling only]`).
pub struct Client {
    pub label: String,
    pub events: Events,
    pub session: Addr<Session>,
    pub sid: String,
    /// The transport the `Connect` event reported.
    pub transport: TransportKind,
}

impl Client {
    /// Connects `builder` (subscribed to a fresh recorder) and waits for the Connect event.
    pub async fn connect(label: impl Into<String>, builder: SessionBuilder) -> Client {
        let label = label.into();
        let events = Events::default();
        let session = within(
            format!("{label} connect()"),
            DEADLINE,
            events.subscribe(builder).connect(),
        )
        .await
        .unwrap_or_else(|e| panic!("{label}: connect() failed: {e} ({e:?})"));
        wait_until(DEADLINE, || events.connect().is_some()).await;
        let connect = events
            .connect()
            .unwrap_or_else(|| panic!("{label}: no Connect event; seen {:?}", events.all()));
        Client {
            label,
            events,
            session,
            sid: connect.sid,
            transport: connect.transport,
        }
    }

    /// Sends a message and expects it to be accepted.
    pub async fn send(&self, payload: impl Into<Payload>) {
        let payload = payload.into();
        let what = describe(&payload);
        match self.session.send(actix_engineio::Send(payload)).await {
            Ok(Ok(())) => {}
            other => panic!("{}: Send({what}) answered {other:?}", self.label),
        }
    }

    /// Sends every text, in order, each accepted before the next goes.
    pub async fn send_all(&self, texts: &[String]) {
        for text in texts {
            self.send(text.as_str()).await;
        }
    }

    /// Waits until `n` messages arrived in all (or the session ended, or `deadline`) and
    /// returns every message seen; callers assert on the result.
    pub async fn wait_messages(&self, n: usize, deadline: Duration) -> Vec<Payload> {
        wait_until(deadline, || {
            self.events.received().len() >= n || self.events.disconnect_reason().is_some()
        })
        .await;
        self.events.received()
    }

    /// Sends `payload` and waits for its echo, which must be the next message.
    pub async fn echo(&self, payload: impl Into<Payload>) {
        let payload = payload.into();
        let before = self.events.received().len();
        self.send(payload.clone()).await;
        let got = self.wait_messages(before + 1, DEADLINE).await;
        self.assert_alive();
        assert_payloads(&self.label, &got[before..], &[payload]);
    }

    /// Sends `texts` and expects exactly these echoes next, in order.
    pub async fn echo_all(&self, texts: &[String]) {
        let before = self.events.received().len();
        self.send_all(texts).await;
        let got = self.wait_messages(before + texts.len(), DEADLINE).await;
        self.assert_alive();
        assert_texts(&self.label, &got[before..], texts);
    }

    /// Panics when the session has ended.
    pub fn assert_alive(&self) {
        if let Some(reason) = self.events.disconnect_reason() {
            panic!(
                "{}: unexpected disconnect: {reason} ({reason:?}); seen {} messages",
                self.label,
                self.events.received().len()
            );
        }
    }

    /// Waits for the upgrade's outcome and expects it completed to websocket.
    pub async fn upgraded(&self) {
        match self.events.upgrade().await {
            Upgrade::Completed(TransportKind::WebSocket) => {}
            other => panic!(
                "{}: the upgrade did not complete: {other:?}; seen {:?}",
                self.label,
                self.events.all()
            ),
        }
    }

    /// The upgrade event seen so far, if any.
    pub fn upgrade_event(&self) -> Option<Upgrade> {
        self.events.upgrade_seen()
    }

    /// An echo round trip, and in upgrade mode the completed upgrade: the session is settled.
    pub async fn settle(&self, mode: Mode) {
        self.echo("settle").await;
        if mode == Mode::Upgrade {
            self.upgraded().await;
        }
    }

    /// Closes the session and waits for its end (cleanup between cases).
    pub async fn close(&self) {
        let _ = self.session.send(Close).await;
        let _ = self.events.disconnect().await;
    }
}

// ---------------------------------------------------------------------------------------
// waits

/// Polls `done` until it holds or `deadline` passes, letting the actix runtime run.
/// Returns whether it held.
pub async fn wait_until(deadline: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > deadline {
            return false;
        }
        actix_rt::time::sleep(TICK).await;
    }
    true
}

/// Waits, without blocking the actix runtime, for `peer` to log an event matching `pred`.
pub async fn peer_event(peer: &Peer, pred: impl Fn(&PeerEvent) -> bool) -> Option<PeerEvent> {
    let find = || peer.events().into_iter().find(|e| pred(e));
    wait_until(DEADLINE, || find().is_some()).await;
    find()
}

/// Sleeps on the actix runtime.
pub async fn sleep(d: Duration) {
    actix_rt::time::sleep(d).await;
}

/// Fails the test when `fut` does not finish within `deadline`.
pub async fn within<T>(
    what: impl fmt::Display,
    deadline: Duration,
    fut: impl Future<Output = T>,
) -> T {
    match actix_rt::time::timeout(deadline, fut).await {
        Ok(value) => value,
        Err(_) => panic!("{what}: no result within {deadline:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// messages and assertions on them

/// `n` distinct text messages `"{prefix}{i}"`.
pub fn texts(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// Asserts `got` holds exactly the text messages `expected`, in order; on a mismatch
/// reports the first difference instead of dumping thousands of messages.
pub fn assert_texts(label: &str, got: &[Payload], expected: &[String]) {
    let first_diff = got
        .iter()
        .zip(expected)
        .position(|(g, e)| g.as_text() != Some(e.as_str()));
    let short = |p: &Payload| format!("{:.60?}", p);
    if let Some(i) = first_diff {
        panic!(
            "{label}: message #{i} is {} but {:.60?} was expected (got {} messages, expected {})",
            short(&got[i]),
            expected[i],
            got.len(),
            expected.len()
        );
    }
    assert_eq!(
        got.len(),
        expected.len(),
        "{label}: got {} messages, expected {} (all the common prefix matches); extra: {:?}",
        got.len(),
        expected.len(),
        got.iter()
            .skip(expected.len())
            .take(5)
            .map(short)
            .collect::<Vec<_>>()
    );
}

/// Asserts `got == want`, describing the first difference without printing megabytes.
pub fn assert_payloads(label: &str, got: &[Payload], want: &[Payload]) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if g != w {
            let (gb, wb) = (bytes_of(g), bytes_of(w));
            let first = gb.iter().zip(wb).position(|(a, b)| a != b);
            panic!(
                "{label}: message {i} differs: got {}, expected {} (first differing byte: {first:?})",
                describe(g),
                describe(w)
            );
        }
    }
    assert_eq!(
        got.len(),
        want.len(),
        "{label}: got {} messages, expected {}",
        got.len(),
        want.len()
    );
}

/// A short description of a payload: the value when short, else its kind and size.
pub fn describe(payload: &Payload) -> String {
    match payload {
        Payload::Text(t) if t.len() <= 48 => format!("text {:?}", &**t),
        Payload::Text(t) => format!("text of {} bytes", t.len()),
        Payload::Binary(b) if b.len() <= 48 => format!("binary {:?}", b.as_ref()),
        Payload::Binary(b) => format!("binary of {} bytes", b.len()),
    }
}

fn bytes_of(payload: &Payload) -> &[u8] {
    match payload {
        Payload::Text(t) => t.as_bytes(),
        Payload::Binary(b) => b,
    }
}
