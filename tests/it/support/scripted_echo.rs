//! Helpers shared by `tests/upgrade.rs`, `tests/polling.rs` and `tests/options.rs`:
//!
//! * [`start_peers`]: the real peers, started in parallel;
//! * [`Client`]: a connected session with its event recorder, and echo helpers;
//! * [`EchoServer`]: a small scripted Engine.IO long-polling echo server (on
//!   [`Scripted`]) that records every POST body and every websocket frame, can refuse,
//!   break or answer the upgrade probe wrongly, or answer it slowly, and keeps an ordered
//!   timeline ([`Mark`]) of what happened, for the assertions the real peers' logs cannot
//!   support (they log request headers, not bodies).

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix::Addr;
use actix_engineio::{Payload, Session, SessionBuilder, TransportKind, Upgrade};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::client::{wait_until, Events, DEADLINE};
use super::scripted::{Reply, Scripted, ScriptedRequest, WsConn};
use super::{Peer, PeerEvent, PeerKind, PeerOptions, PeerRequest};

// ---------------------------------------------------------------------------------------
// peers

/// Starts one peer of each of `kinds` with `opts`, in parallel.
pub fn start_peers(kinds: &[PeerKind], opts: PeerOptions) -> Vec<Peer> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = kinds
            .iter()
            .map(|&kind| {
                let opts = opts.clone();
                scope.spawn(move || Peer::start(kind, opts))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a peer failed to start"))
            .collect()
    })
}

/// The requests `peer` logged that carry `sid=<sid>` (polling GETs and POSTs of the
/// session and its websocket upgrade request).
pub fn session_requests(peer: &Peer, sid: &str) -> Vec<PeerRequest> {
    peer.requests()
        .into_iter()
        .filter(|r| r.query("sid").as_deref() == Some(sid))
        .collect()
}

/// Whether `request` is a polling GET or POST (not a websocket upgrade request).
pub fn is_polling(request: &PeerRequest) -> bool {
    !request.is_websocket() && (request.method == "GET" || request.method == "POST")
}

/// Whether the peer logged that it closed session `sid`.
pub fn peer_closed(peer: &Peer, sid: &str) -> Option<String> {
    peer.events().into_iter().find_map(|e| match e {
        PeerEvent::Close { sid: s, reason } if s == sid => Some(reason),
        _ => None,
    })
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
// client

/// One connected session and everything its subscriber saw.
pub struct Client {
    pub label: String,
    pub events: Events,
    pub session: Addr<Session>,
    pub sid: String,
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

    /// Sends a text message and expects it to be accepted.
    pub async fn send(&self, text: &str) {
        match self
            .session
            .send(actix_engineio::Send::text(text.to_owned()))
            .await
        {
            Ok(Ok(())) => {}
            other => panic!("{}: Send({:.40?}) answered {other:?}", self.label, text),
        }
    }

    /// Sends every text, in order.
    pub async fn send_all(&self, texts: &[String]) {
        for text in texts {
            self.send(text).await;
        }
    }

    /// Waits until `n` messages arrived in all (or the session ended, or `deadline`).
    pub async fn wait_messages(&self, n: usize, deadline: Duration) -> Vec<Payload> {
        wait_until(deadline, || {
            self.events.received().len() >= n || self.events.disconnect_reason().is_some()
        })
        .await;
        self.events.received()
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
        self.events.all().into_iter().find_map(|s| match s {
            super::client::Seen::Upgrade(u) => Some(u),
            _ => None,
        })
    }
}

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

// ---------------------------------------------------------------------------------------
// scripted polling echo server

pub use super::scripted::open_packet_with;

/// What the websocket of an [`EchoServer`] does with the upgrade request and the probe.
#[derive(Debug, Clone)]
pub enum Probe {
    /// The websocket upgrade request is answered with this HTTP status.
    Refuse(u16),
    /// The websocket is accepted and dropped at once (no close frame).
    DropAtOnce,
    /// The websocket is accepted and closed at once with a close frame.
    CloseAtOnce,
    /// `2probe` is answered with this text (e.g. `3nope`); the socket then stays open.
    Answer(&'static str),
    /// A proper upgrade: `3probe` after `delay`, then `5` is expected and the socket echoes.
    Upgrade { delay: Duration },
}

/// Settings of an [`EchoServer`].
#[derive(Debug, Clone)]
pub struct EchoConfig {
    pub sid: String,
    /// The handshake's `upgrades`.
    pub upgrades: Vec<&'static str>,
    pub ping_interval: u64,
    pub ping_timeout: u64,
    pub max_payload: usize,
    /// How long an empty GET is held before it is answered with a noop.
    pub hold: Duration,
    /// After `3probe`, answer a held GET with `6` only once [`EchoServer::release_noop`]
    /// was called (otherwise at once).
    pub noop_on_release: bool,
    pub probe: Probe,
}

impl Default for EchoConfig {
    fn default() -> Self {
        EchoConfig {
            sid: "scripted-sid".into(),
            upgrades: vec![],
            ping_interval: 25_000,
            ping_timeout: 20_000,
            max_payload: 1_000_000,
            hold: Duration::from_secs(2),
            noop_on_release: false,
            probe: Probe::Refuse(400),
        }
    }
}

/// One thing that happened at an [`EchoServer`], in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// The handshake GET was answered.
    Handshake,
    /// A polling GET with the sid was answered with this body (`None`: refused).
    Get(Option<String>),
    /// A POST arrived with this body.
    Post(String),
    /// The websocket upgrade request arrived.
    WsRequest,
    /// A text frame arrived on the websocket.
    WsIn(String),
    /// `3probe` was sent; how many GETs were in flight at that moment.
    ProbeAnswered { gets_in_flight: usize },
    /// The held GET may now be answered with `6`.
    NoopReleased,
}

#[derive(Default)]
struct State {
    /// Echoes not yet delivered, as packets.
    outbox: VecDeque<String>,
    gets_in_flight: usize,
    /// `3probe` was sent.
    upgrading: bool,
    noop_released: bool,
    /// `5` arrived.
    upgraded: bool,
    marks: Vec<Mark>,
}

/// A scripted long-polling echo server; see the module doc.
pub struct EchoServer {
    cfg: EchoConfig,
    state: Mutex<State>,
    notify: Notify,
}

impl EchoServer {
    /// Starts a scripted server running this echo script.
    pub fn start(cfg: EchoConfig) -> (Scripted, Arc<EchoServer>) {
        let echo = Arc::new(EchoServer {
            cfg,
            state: Mutex::default(),
            notify: Notify::new(),
        });
        let script = echo.clone();
        let server = Scripted::start(move |request| {
            let echo = script.clone();
            async move { echo.answer(request).await }
        });
        (server, echo)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn mark(&self, mark: Mark) {
        self.lock().marks.push(mark);
    }

    /// Everything that happened so far, in order.
    pub fn marks(&self) -> Vec<Mark> {
        self.lock().marks.clone()
    }

    /// The bodies of every POST, in order.
    pub fn posts(&self) -> Vec<String> {
        self.marks()
            .into_iter()
            .filter_map(|m| match m {
                Mark::Post(body) => Some(body),
                _ => None,
            })
            .collect()
    }

    /// The text frames received on the websocket, in order.
    pub fn ws_in(&self) -> Vec<String> {
        self.marks()
            .into_iter()
            .filter_map(|m| match m {
                Mark::WsIn(text) => Some(text),
                _ => None,
            })
            .collect()
    }

    /// Every message (the data of each `4` packet) the server received, in order, with
    /// the transport it came over.
    pub fn received_messages(&self) -> Vec<(TransportKind, String)> {
        let mut out = Vec::new();
        for mark in self.marks() {
            match mark {
                Mark::Post(body) => out.extend(
                    body.split('\x1e')
                        .filter_map(|p| p.strip_prefix('4'))
                        .map(|m| (TransportKind::Polling, m.to_owned())),
                ),
                Mark::WsIn(text) => {
                    if let Some(m) = text.strip_prefix('4') {
                        out.push((TransportKind::WebSocket, m.to_owned()));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Whether `3probe` was sent.
    pub fn probe_answered(&self) -> bool {
        self.lock().upgrading
    }

    /// Lets a GET held during the upgrade be answered with `6`.
    pub fn release_noop(&self) {
        {
            let mut st = self.lock();
            st.noop_released = true;
            st.marks.push(Mark::NoopReleased);
        }
        self.notify.notify_waiters();
    }

    async fn answer(self: Arc<Self>, request: ScriptedRequest) -> Reply {
        if request.is_websocket() {
            self.mark(Mark::WsRequest);
            return match self.cfg.probe.clone() {
                Probe::Refuse(status) => Reply::text(status, "no websocket here"),
                Probe::DropAtOnce => Reply::websocket(|ws| async move { drop(ws) }),
                Probe::CloseAtOnce => Reply::websocket(|mut ws| async move {
                    ws.send(WsMessage::Close(None)).await;
                    // Wait for the client's close answer (or its going away).
                    while ws.recv().await.is_some() {}
                }),
                Probe::Answer(answer) => {
                    let echo = self.clone();
                    Reply::websocket(move |mut ws| async move {
                        while let Some(text) = ws.recv_text().await {
                            echo.mark(Mark::WsIn(text.clone()));
                            if text == "2probe" {
                                ws.send_text(answer).await;
                            }
                        }
                    })
                }
                Probe::Upgrade { delay } => {
                    let echo = self.clone();
                    Reply::websocket(move |ws| echo.upgrade(ws, delay))
                }
            };
        }
        match (request.method.as_str(), request.query("sid")) {
            ("GET", None) => {
                self.mark(Mark::Handshake);
                let cfg = &self.cfg;
                Reply::text(
                    200,
                    open_packet_with(
                        &cfg.sid,
                        &cfg.upgrades,
                        cfg.ping_interval,
                        cfg.ping_timeout,
                        cfg.max_payload,
                    ),
                )
            }
            ("GET", Some(_)) => self.get().await,
            ("POST", Some(_)) => self.post(&request),
            _ => Reply::text(400, r#"{"code":3,"message":"Bad request"}"#),
        }
    }

    /// A poll: answered with the queued echoes, with `6` during the upgrade, with `6`
    /// after [`EchoConfig::hold`] when nothing comes, and refused after the upgrade.
    async fn get(&self) -> Reply {
        let mut deadline = tokio::time::Instant::now() + self.cfg.hold;
        self.lock().gets_in_flight += 1;
        loop {
            let notified = self.notify.notified();
            {
                let mut st = self.lock();
                let answer = if st.upgraded {
                    Some(None)
                } else if st.upgrading {
                    (!self.cfg.noop_on_release || st.noop_released).then(|| Some("6".to_owned()))
                } else if !st.outbox.is_empty() {
                    let packets: Vec<String> = st.outbox.drain(..).collect();
                    Some(Some(packets.join("\x1e")))
                } else if tokio::time::Instant::now() >= deadline {
                    Some(Some("6".to_owned()))
                } else {
                    None
                };
                if let Some(answer) = answer {
                    st.gets_in_flight -= 1;
                    st.marks.push(Mark::Get(answer.clone()));
                    return match answer {
                        Some(body) => Reply::text(200, body),
                        None => Reply::text(400, r#"{"code":3,"message":"Bad request"}"#),
                    };
                }
                if st.upgrading && tokio::time::Instant::now() >= deadline {
                    // Held for the upgrade: keep holding.
                    deadline = tokio::time::Instant::now() + self.cfg.hold;
                }
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }

    fn post(&self, request: &ScriptedRequest) -> Reply {
        let body = request.body_text();
        {
            let mut st = self.lock();
            for packet in body.split('\x1e') {
                if packet.starts_with('4') {
                    st.outbox.push_back(packet.to_owned());
                }
            }
            st.marks.push(Mark::Post(body));
        }
        self.notify.notify_waiters();
        Reply::text(200, "ok")
    }

    /// The websocket side of a proper upgrade: `2probe` → (delay) `3probe` → `5`, then echo.
    async fn upgrade(self: Arc<Self>, mut ws: WsConn, delay: Duration) {
        let Some(first) = ws.recv_text().await else {
            return;
        };
        self.mark(Mark::WsIn(first.clone()));
        if first != "2probe" {
            return;
        }
        tokio::time::sleep(delay).await;
        {
            let mut st = self.lock();
            st.upgrading = true;
            let gets_in_flight = st.gets_in_flight;
            st.marks.push(Mark::ProbeAnswered { gets_in_flight });
        }
        ws.send_text("3probe").await;
        self.notify.notify_waiters();
        while let Some(text) = ws.recv_text().await {
            self.mark(Mark::WsIn(text.clone()));
            if text == "5" {
                let flush: Vec<String> = {
                    let mut st = self.lock();
                    st.upgraded = true;
                    st.outbox.drain(..).collect()
                };
                self.notify.notify_waiters();
                for packet in flush {
                    ws.send_text(&packet).await;
                }
            } else if text.starts_with('4') {
                let upgraded = self.lock().upgraded;
                if upgraded {
                    ws.send_text(&text).await;
                } else {
                    // A message before `5` is a client bug; the test sees it in the marks.
                    self.lock().outbox.push_back(text);
                }
            }
        }
    }
}
