//! [`EchoServer`]: a small scripted Engine.IO long-polling echo server (on
//! [`Scripted`]) for the assertions the real peers' logs cannot support (they log request
//! headers, not bodies). It records every POST body and every websocket frame, can refuse,
//! break or answer the upgrade probe wrongly ([`Probe`]), or answer it slowly, and keeps an
//! ordered timeline ([`Mark`]) of what happened. Used by the upgrade and polling tests.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_engineio::TransportKind;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::scripted::{open_packet_with, Reply, Scripted, ScriptedRequest, WsConn};

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
