//! The behaviour every transport mode must show, against the three real peers (node
//! `engine.io`, `python-engineio`, `engineioxide`) in each of three modes: websocket only,
//! polling only, and polling with the upgrade to websocket (the default transports).
//! Misbehaviour the real servers never show (malformed packets, missing pings, broken
//! handshakes) comes from scripted servers.
//!
//! Every assertion message names the peer and the mode, e.g. `[python peer, polling only]`.

mod support;

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

use actix::{Addr, MailboxError};
use actix_engineio as eio;
use actix_engineio::{
    Close, ConfigError, ConnectError, DisconnectReason, Payload, SendError, Session,
    SessionBuilder, Subscribe, TransportError, TransportKind, Upgrade,
};
use futures::future::join_all;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use support::client::{peer_event, wait_until, Events, Mode, ALL_MODES, DEADLINE};
use support::scripted::{open_packet, Reply, Scripted, ScriptedRequest};
use support::{Peer, PeerEvent, PeerKind, PeerOptions, ALL_PEERS};

// ---------------------------------------------------------------------------------------
// modes, peers and clients

fn label(peer: &Peer, mode: Mode) -> String {
    format!("[{} peer, {mode}]", peer.kind())
}

/// Starts one peer of each of `kinds` with `opts`, in parallel.
fn start_peers(kinds: &[PeerKind], opts: PeerOptions) -> Vec<Peer> {
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

fn options(max_payload: u64) -> PeerOptions {
    PeerOptions {
        max_payload,
        ..PeerOptions::default()
    }
}

fn short_heartbeat(interval_ms: u64, timeout_ms: u64) -> PeerOptions {
    PeerOptions {
        ping_interval: Duration::from_millis(interval_ms),
        ping_timeout: Duration::from_millis(timeout_ms),
        ..PeerOptions::default()
    }
}

/// Fails the test when `fut` does not finish within [`DEADLINE`].
async fn within<T>(what: impl fmt::Display, fut: impl Future<Output = T>) -> T {
    match actix_rt::time::timeout(DEADLINE, fut).await {
        Ok(value) => value,
        Err(_) => panic!("{what}: no result within {DEADLINE:?}"),
    }
}

/// One connected session and everything its subscriber saw.
struct Client {
    label: String,
    events: Events,
    session: Addr<Session>,
    sid: String,
}

/// Connects `builder` (subscribed to a fresh recorder) and waits for the Connect event.
async fn connect_with(label: String, events: Events, builder: SessionBuilder) -> Client {
    let session = within(
        format!("{label} connect()"),
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
    }
}

async fn connect(peer: &Peer, mode: Mode) -> Client {
    connect_with(
        label(peer, mode),
        Events::default(),
        mode.builder(&peer.url()),
    )
    .await
}

impl Client {
    /// Sends `payload` and expects it to be accepted.
    async fn send(&self, payload: Payload) {
        let what = describe(&payload);
        match self.session.send(eio::Send(payload)).await {
            Ok(Ok(())) => {}
            other => panic!("{}: Send({what}) answered {other:?}", self.label),
        }
    }

    /// Sends `payload` and waits for its echo, which must be the next message.
    async fn echo(&self, payload: Payload) {
        let before = self.events.received().len();
        self.send(payload.clone()).await;
        let got = self.events.messages(before + 1).await;
        self.assert_alive();
        assert_payloads(&self.label, &got[before..], &[payload]);
    }

    fn assert_alive(&self) {
        if let Some(reason) = self.events.disconnect_reason() {
            panic!(
                "{}: unexpected disconnect: {reason} ({reason:?}); seen {} messages",
                self.label,
                self.events.received().len()
            );
        }
    }

    /// Waits for the upgrade to websocket to complete.
    async fn upgraded(&self) {
        match self.events.upgrade().await {
            Upgrade::Completed(TransportKind::WebSocket) => {}
            other => panic!("{}: the upgrade did not complete: {other:?}", self.label),
        }
    }

    /// An echo round trip, and in upgrade mode the completed upgrade: the session is settled.
    async fn settle(&self, mode: Mode) {
        self.echo(Payload::from("settle")).await;
        if mode == Mode::Upgrade {
            self.upgraded().await;
        }
    }

    /// Closes the session and waits for its end (cleanup between cases).
    async fn close(&self) {
        let _ = self.session.send(Close).await;
        let _ = self.events.disconnect().await;
    }
}

/// A short description of a payload: the value when short, else its kind and size.
fn describe(payload: &Payload) -> String {
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

/// Asserts `got == want`, describing the first difference without printing megabytes.
fn assert_payloads(label: &str, got: &[Payload], want: &[Payload]) {
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

/// The peer's own `Connect` log entry for `sid`.
async fn peer_connect(peer: &Peer, label: &str, sid: &str) -> String {
    match peer_event(
        peer,
        |e| matches!(e, PeerEvent::Connect { sid: s, .. } if s == sid),
    )
    .await
    {
        Some(PeerEvent::Connect { transport, .. }) => transport,
        _ => panic!("{label}: the peer logged no Connect for sid {sid:?}"),
    }
}

/// Waits for the peer to log the close of `sid`; returns its reason.
async fn peer_close(peer: &Peer, label: &str, sid: &str) -> String {
    match peer_event(
        peer,
        |e| matches!(e, PeerEvent::Close { sid: s, .. } if s == sid),
    )
    .await
    {
        Some(PeerEvent::Close { reason, .. }) => reason,
        _ => panic!("{label}: the peer logged no Close for sid {sid:?} within {DEADLINE:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// 1, 2: connect and echo

/// About 1 MB of text with one-, three- and four-byte characters.
fn big_text() -> String {
    let unit = "abcdefghij€😀ñ\"\\{}";
    unit.repeat(1_000_000 / unit.len() + 1)
}

fn big_binary() -> Vec<u8> {
    (0..1_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

#[actix_rt::test]
async fn connect_and_echo_exactly() {
    let peers = start_peers(&ALL_PEERS, options(3_000_000));
    let json = serde_json::json!({
        "text": "€😀ñ \"quoted\" \\ \u{1}",
        "list": [1, -2.5, true, null, "x"],
        "nested": {"empty": {}, "none": []},
    });
    let messages = vec![
        Payload::from("hello"),
        Payload::from(""),
        Payload::from("€😀ñ"),
        Payload::from(vec![0x00, 0x1e, 0x01, 0xff, 0x1e, 0x00]),
        Payload::from(Vec::new()),
        eio::Send::json(&json).expect("json").0,
        Payload::from(big_text()),
        Payload::from(big_binary()),
        Payload::from("4 looks like a packet"),
        Payload::from(b"b64?".to_vec()),
    ];
    for peer in &peers {
        for mode in ALL_MODES {
            let c = connect(peer, mode).await;
            let l = &c.label;

            // 1. The Connect event: the sid the peer logged, the transport it opened on.
            let event = c.events.connect().expect("connect event");
            assert!(!event.sid.is_empty(), "{l}: empty sid in {event:?}");
            assert_eq!(
                event.transport,
                mode.opens_on(),
                "{l}: Connect event transport"
            );
            let logged = peer_connect(peer, l, &event.sid).await;
            assert_eq!(
                logged,
                mode.opens_on().as_str(),
                "{l}: transport of the peer's connect"
            );

            // 2. Every message comes back exactly, in order (in upgrade mode they are sent
            // while the upgrade is under way).
            for message in &messages {
                c.send(message.clone()).await;
            }
            let got = c.events.messages(messages.len()).await;
            c.assert_alive();
            assert_payloads(l, &got, &messages);
            let parsed: serde_json::Value = got[5]
                .parse_json()
                .unwrap_or_else(|e| panic!("{l}: echoed JSON does not parse: {e}"));
            assert_eq!(parsed, json, "{l}: echoed JSON");

            // A text holding the record separator: echoed over websocket, refused over
            // polling (never silently lost or split).
            if mode == Mode::Upgrade {
                c.upgraded().await;
            }
            let separator = "a\u{1e}b\u{1e}";
            let answer = c
                .session
                .send(eio::Send::text(separator))
                .await
                .unwrap_or_else(|e| panic!("{l}: Send: {e}"));
            let before = c.events.received().len();
            if mode == Mode::Polling {
                assert_eq!(
                    answer,
                    Err(SendError::RecordSeparator),
                    "{l}: a text with \\x1e over polling"
                );
                c.echo(Payload::from("after the separator")).await;
            } else {
                assert_eq!(answer, Ok(()), "{l}: a text with \\x1e over websocket");
                let got = c.events.messages(before + 1).await;
                c.assert_alive();
                assert_payloads(l, &got[before..], &[Payload::from(separator)]);
            }
            c.close().await;
        }
    }
}

// ---------------------------------------------------------------------------------------
// 3: pipelining

const PIPELINED: usize = 10_000;

#[actix_rt::test]
async fn ten_thousand_pipelined_messages_arrive_once_in_order() {
    let peers = start_peers(&ALL_PEERS, PeerOptions::default());
    for peer in &peers {
        for mode in ALL_MODES {
            let c = connect(peer, mode).await;
            let l = &c.label;
            let started = Instant::now();
            let want: Vec<Payload> = (0..PIPELINED)
                .map(|i| Payload::from(format!("m{i}")))
                .collect();
            // Bursts of `do_send` (no answer awaited), each ended by an awaited `send`
            // that must be accepted; no echo is awaited in between.
            for (i, message) in want.iter().enumerate() {
                if i % 1000 == 999 {
                    c.send(message.clone()).await;
                } else {
                    c.session.do_send(eio::Send(message.clone()));
                }
            }
            let long = DEADLINE * 3;
            wait_until(long, || {
                c.events.received().len() >= PIPELINED || c.events.disconnect_reason().is_some()
            })
            .await;
            c.assert_alive();
            let got = c.events.received();
            if got.len() < PIPELINED {
                let missing: Vec<usize> = (0..PIPELINED)
                    .filter(|i| !got.contains(&want[*i]))
                    .take(10)
                    .collect();
                panic!(
                    "{l}: only {} of {PIPELINED} echoes within {long:?}; first missing: {missing:?}",
                    got.len()
                );
            }
            // Give duplicates a moment to show up before comparing.
            actix_rt::time::sleep(Duration::from_millis(100)).await;
            let got = c.events.received();
            assert_payloads(l, &got, &want);
            eprintln!("{l}: {PIPELINED} echoes in {:?}", started.elapsed());
            c.close().await;
        }
    }
}

// ---------------------------------------------------------------------------------------
// 4: heartbeat

#[actix_rt::test]
async fn heartbeat_keeps_the_session_alive() {
    let interval = Duration::from_millis(1000);
    let peers = start_peers(&ALL_PEERS, short_heartbeat(1000, 1000));
    let cases: Vec<(&Peer, Mode)> = peers
        .iter()
        .flat_map(|p| ALL_MODES.map(|m| (p, m)))
        .collect();
    // All nine sessions at once: the wait is shared.
    join_all(cases.iter().map(|&(peer, mode)| async move {
        let c = connect(peer, mode).await;
        let l = &c.label;
        c.echo(Payload::from("before")).await;
        actix_rt::time::sleep(interval * 4 + Duration::from_millis(600)).await;
        c.assert_alive();
        c.echo(Payload::from("after four intervals")).await;
        if mode == Mode::Upgrade {
            c.upgraded().await;
        }
        let closed = peer
            .events()
            .into_iter()
            .find(|e| matches!(e, PeerEvent::Close { sid, .. } if *sid == c.sid));
        assert!(
            closed.is_none(),
            "{l}: the peer closed the session: {closed:?}"
        );
        c.close().await;
    }))
    .await;
}

// ---------------------------------------------------------------------------------------
// 5, 6: server close and client close

#[actix_rt::test]
async fn server_close_is_server_disconnect() {
    let peers = start_peers(&ALL_PEERS, PeerOptions::default());
    for peer in &peers {
        for mode in ALL_MODES {
            let c = connect(peer, mode).await;
            let l = &c.label;
            c.settle(mode).await;
            c.send(Payload::from("close-me")).await;
            let reason = c.events.disconnect().await;
            assert_eq!(
                reason,
                DisconnectReason::ServerDisconnect,
                "{l}: reason after close-me"
            );
            assert_eq!(reason.to_string(), "server disconnect", "{l}");
            peer_close(peer, l, &c.sid).await;
        }
    }
}

#[actix_rt::test]
async fn client_close_is_client_disconnect_and_prompt() {
    let peers = start_peers(&ALL_PEERS, PeerOptions::default());
    // (mode, whether to wait for an echo and the upgrade before closing)
    let variants = [
        (Mode::WebSocket, true),
        (Mode::Polling, true),
        (Mode::Upgrade, true),
        (Mode::Upgrade, false),
    ];
    for peer in &peers {
        for (mode, settle) in variants {
            let c = connect(peer, mode).await;
            let l = if settle {
                c.label.clone()
            } else {
                format!("{} (closed during the upgrade)", c.label)
            };
            if settle {
                c.settle(mode).await;
            }
            let start = Instant::now();
            actix_rt::time::timeout(Duration::from_secs(5), c.session.send(Close))
                .await
                .unwrap_or_else(|_| panic!("{l}: Close did not return within 5 s"))
                .unwrap_or_else(|e| panic!("{l}: Close: {e}"));
            let reason = c.events.disconnect_within(Duration::from_secs(5)).await;
            let took = start.elapsed();
            assert_eq!(reason, DisconnectReason::ClientDisconnect, "{l}");
            assert_eq!(reason.to_string(), "client disconnect", "{l}");
            assert!(took < Duration::from_secs(5), "{l}: Close took {took:?}");
            let peer_reason = peer_close(peer, &l, &c.sid).await;
            eprintln!(
                "{l}: peer close reason {peer_reason:?} after {:?}",
                start.elapsed()
            );

            // The session is over: a Send is refused, never accepted.
            match c.session.send(eio::Send::text("too late")).await {
                Ok(Err(SendError::Closed)) | Err(MailboxError::Closed) => {}
                other => panic!("{l}: Send after the end answered {other:?}"),
            }
        }
    }
}

/// What a scripted server received, in order, as short strings.
type Received = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// Websocket-only server that records every message it receives, then `gone`.
fn recording_ws_server(received: Received) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| {
        let received = received.clone();
        async move {
            if !req.is_websocket() {
                return Reply::text(404, "");
            }
            Reply::websocket(move |mut ws| async move {
                ws.send_text(&open_packet("rec-ws", &[], 25_000, 20_000))
                    .await;
                loop {
                    let entry = match ws.recv().await {
                        Some(WsMessage::Text(t)) => format!("text {}", t.as_str()),
                        Some(WsMessage::Close(_)) => "close frame".to_string(),
                        Some(other) => format!("{other:?}"),
                        None => "gone".to_string(),
                    };
                    let done = entry == "gone";
                    received
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(entry);
                    if done {
                        break;
                    }
                }
            })
        }
    })
}

/// Polling-only server that records every packet POSTed; polls are answered with a noop
/// after a while.
fn recording_polling_server(received: Received) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| {
        let received = received.clone();
        async move {
            match (req.method.as_str(), req.query("sid")) {
                ("GET", None) => Reply::text(200, open_packet("rec-polling", &[], 25_000, 20_000)),
                ("GET", Some(_)) => {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    Reply::text(200, "6")
                }
                _ => {
                    let mut log = received.lock().unwrap_or_else(|e| e.into_inner());
                    for packet in req.body_text().split('\u{1e}') {
                        log.push(format!("text {packet}"));
                    }
                    Reply::text(200, "ok")
                }
            }
        }
    })
}

#[actix_rt::test]
async fn client_close_delivers_what_was_sent_before_it() {
    let mut failures = Vec::new();
    for mode in [Mode::WebSocket, Mode::Polling] {
        let received = Received::default();
        let server = match mode {
            Mode::WebSocket => recording_ws_server(received.clone()),
            _ => recording_polling_server(received.clone()),
        };
        let l = format!("[recording scripted server, {mode}]");
        let c = connect_with(l.clone(), Events::default(), mode.builder(&server.url())).await;
        // One message whose Send was answered, one sent without waiting, then Close.
        c.send(Payload::from("last words")).await;
        c.session.do_send(eio::Send::text("final words"));
        c.session.send(Close).await.expect("Close");
        assert_eq!(
            c.events.disconnect().await,
            DisconnectReason::ClientDisconnect,
            "{l}"
        );
        let log = || received.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let closed = |log: &[String]| {
            log.iter()
                .any(|e| e == "text 1" || e == "close frame" || e == "gone")
        };
        wait_until(DEADLINE, || closed(&log())).await;
        // Both messages reach the server, in order, then the session is closed cleanly:
        // a `1` packet or a websocket close frame, not just a dropped connection.
        let log = log();
        let last = log.iter().position(|e| e == "text 4last words");
        let last_but_not_awaited = log.iter().position(|e| e == "text 4final words");
        let close = log.iter().position(|e| e == "text 1" || e == "close frame");
        if last.is_none() || last_but_not_awaited.is_none() || last > last_but_not_awaited {
            failures.push(format!(
                "{l}: the messages sent before Close did not all reach the server in order; it received {log:?}"
            ));
        }
        if close.is_none() || close < last.max(last_but_not_awaited) {
            failures.push(format!(
                "{l}: no `1` packet or close frame after the last message; the server received {log:?}"
            ));
        }
        drop(server);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------
// 7: ping timeout

/// Resumes paused peers when dropped, also when an assertion failed.
struct ResumeOnDrop<'a>(&'a [Peer]);

impl Drop for ResumeOnDrop<'_> {
    fn drop(&mut self) {
        for peer in self.0 {
            peer.resume();
        }
    }
}

#[actix_rt::test]
async fn ping_timeout_when_a_real_server_freezes() {
    let (interval, timeout) = (Duration::from_millis(1000), Duration::from_millis(1000));
    let peers = start_peers(
        &[PeerKind::Node, PeerKind::Python],
        short_heartbeat(1000, 1000),
    );
    let cases: Vec<(&Peer, Mode)> = peers
        .iter()
        .flat_map(|p| ALL_MODES.map(|m| (p, m)))
        .collect();
    let clients = join_all(cases.iter().map(|&(peer, mode)| async move {
        let c = connect(peer, mode).await;
        c.settle(mode).await;
        c
    }))
    .await;
    // Freeze the servers between two pings, after at least one: a client that did not
    // re-arm its deadline on pings would time out too early.
    actix_rt::time::sleep(interval + interval * 7 / 10).await;
    for c in &clients {
        c.assert_alive();
    }

    let _resume = ResumeOnDrop(&peers);
    for peer in &peers {
        assert!(peer.pause(), "{} peer: SIGSTOP failed", peer.kind());
    }
    let paused_at = Instant::now();
    let latest = interval + timeout + Duration::from_secs(5);
    let ends = join_all(clients.iter().map(|c| async move {
        let reason = c.events.disconnect_within(latest).await;
        (reason, paused_at.elapsed())
    }))
    .await;
    for (c, (reason, after)) in clients.iter().zip(ends) {
        let l = &c.label;
        assert_eq!(reason, DisconnectReason::PingTimeout, "{l}: reason");
        assert_eq!(reason.to_string(), "ping timeout", "{l}");
        // The last ping came at most one interval before the pause.
        assert!(
            after + Duration::from_millis(300) >= timeout,
            "{l}: ping timeout only {after:?} after the server froze"
        );
        assert!(
            after <= latest,
            "{l}: ping timeout {after:?} after the freeze"
        );
        eprintln!("{l}: ping timeout {after:?} after the server froze");
    }
}

/// A scripted server that handshakes in `mode` with pingInterval and pingTimeout of 1 s,
/// completes an upgrade, and never pings.
fn silent_server(mode: Mode) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| async move {
        let sid = req.query("sid");
        if req.is_websocket() {
            return match sid {
                None => Reply::websocket(|mut ws| async move {
                    ws.send_text(&open_packet("silent-ws", &[], 1000, 1000))
                        .await;
                    while ws.recv().await.is_some() {}
                }),
                Some(_) => Reply::websocket(|mut ws| async move {
                    if ws.recv_text().await.as_deref() == Some("2probe") {
                        ws.send_text("3probe").await;
                    }
                    while ws.recv().await.is_some() {}
                }),
            };
        }
        match (req.method.as_str(), sid) {
            ("GET", None) => {
                let upgrades: &[&str] = if mode == Mode::Upgrade {
                    &["websocket"]
                } else {
                    &[]
                };
                Reply::text(200, open_packet("silent-polling", upgrades, 1000, 1000))
            }
            // Over polling only, polls are never answered; during an upgrade a poll is
            // answered with a noop (which must not count as a ping).
            ("GET", Some(_)) if mode == Mode::Upgrade => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                Reply::text(200, "6")
            }
            ("GET", Some(_)) => Reply::Hang,
            _ => Reply::text(200, "ok"),
        }
    })
}

#[actix_rt::test]
async fn ping_timeout_when_the_server_never_pings() {
    let deadline = Duration::from_millis(2000);
    let latest = deadline + Duration::from_secs(5);
    join_all(ALL_MODES.map(|mode| async move {
        let server = silent_server(mode);
        let l = format!("[scripted silent server, {mode}]");
        let start = Instant::now();
        let c = connect_with(l.clone(), Events::default(), mode.builder(&server.url())).await;
        if mode == Mode::Upgrade {
            c.upgraded().await;
        }
        let reason = c.events.disconnect_within(latest).await;
        let after = start.elapsed();
        assert_eq!(reason, DisconnectReason::PingTimeout, "{l}: reason");
        assert!(
            after + Duration::from_millis(50) >= deadline,
            "{l}: ping timeout after {after:?}, before pingInterval + pingTimeout = {deadline:?}"
        );
        assert!(after <= latest, "{l}: ping timeout only after {after:?}");
        eprintln!("{l}: ping timeout after {after:?}");
        drop(server);
    }))
    .await;
}

// ---------------------------------------------------------------------------------------
// 8: server killed

#[actix_rt::test]
async fn killed_server_is_a_transport_error() {
    let mut peers = start_peers(&ALL_PEERS, PeerOptions::default());
    for peer in &mut peers {
        let mut clients = Vec::new();
        for mode in ALL_MODES {
            let c = connect(peer, mode).await;
            c.settle(mode).await;
            clients.push(c);
        }
        peer.kill();
        for c in &clients {
            let reason = c.events.disconnect().await;
            assert!(
                matches!(reason, DisconnectReason::TransportError(_)),
                "{}: reason after the server was killed: {reason:?}",
                c.label
            );
            assert_eq!(reason.to_string(), "transport error", "{}", c.label);
            eprintln!("{}: {reason:?}", c.label);
        }
    }
}

// ---------------------------------------------------------------------------------------
// 9: malformed input

/// Websocket-only server: the open packet, then `bad`.
fn ws_then(bad: WsMessage) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| {
        let bad = bad.clone();
        async move {
            if !req.is_websocket() {
                return Reply::text(404, "");
            }
            Reply::websocket(move |mut ws| async move {
                ws.send_text(&open_packet("bad-ws", &[], 25_000, 20_000))
                    .await;
                ws.send(bad).await;
                while ws.recv().await.is_some() {}
            })
        }
    })
}

/// Polling server: the handshake, then every poll answered with `body`.
fn polling_then(body: Vec<u8>) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| {
        let body = body.clone();
        async move {
            match (req.method.as_str(), req.query("sid")) {
                ("GET", None) => Reply::text(200, open_packet("bad-polling", &[], 25_000, 20_000)),
                ("GET", Some(_)) => Reply::Http {
                    status: 200,
                    headers: vec![("content-type".into(), "text/plain; charset=UTF-8".into())],
                    body,
                },
                _ => Reply::text(200, "ok"),
            }
        }
    })
}

#[actix_rt::test]
async fn malformed_input_is_a_protocol_error() {
    let invalid_utf8_frame = WsMessage::Frame(Frame::message(
        vec![b'4', 0xff, 0xfe, b'x'],
        OpCode::Data(Data::Text),
        true,
    ));
    let cases: Vec<(&str, Mode, Scripted, Option<usize>)> = vec![
        (
            "unknown packet type \"9x\"",
            Mode::WebSocket,
            ws_then(WsMessage::text("9x")),
            None,
        ),
        (
            "empty text frame",
            Mode::WebSocket,
            ws_then(WsMessage::text("")),
            None,
        ),
        (
            "invalid UTF-8 text frame",
            Mode::WebSocket,
            ws_then(invalid_utf8_frame),
            None,
        ),
        (
            "5000-byte text frame over max_frame_size(1000)",
            Mode::WebSocket,
            ws_then(WsMessage::text(format!("4{}", "x".repeat(5000)))),
            Some(1000),
        ),
        (
            "5000-byte binary frame over max_frame_size(1000)",
            Mode::WebSocket,
            ws_then(WsMessage::binary(vec![7u8; 5000])),
            Some(1000),
        ),
        (
            "payload \"4ok\\x1e9bad\"",
            Mode::Polling,
            polling_then(b"4ok\x1e9bad".to_vec()),
            None,
        ),
        (
            "bad base64 \"b!!!\"",
            Mode::Polling,
            polling_then(b"b!!!".to_vec()),
            None,
        ),
        (
            "invalid UTF-8 body",
            Mode::Polling,
            polling_then(vec![b'4', 0xff, 0xfe, b'x']),
            None,
        ),
    ];
    for (what, mode, server, frame_limit) in &cases {
        let l = format!("[scripted server, {mode}, {what}]");
        let mut builder = mode.builder(&server.url());
        if let Some(limit) = frame_limit {
            builder = builder.max_frame_size(*limit);
        }
        let c = connect_with(l.clone(), Events::default(), builder).await;
        let reason = c.events.disconnect().await;
        let cause = match &reason {
            DisconnectReason::TransportError(cause) => cause,
            other => panic!("{l}: expected a transport error, got {other:?}"),
        };
        match frame_limit {
            Some(limit) => assert_eq!(
                *cause,
                TransportError::FrameTooLarge { limit: *limit },
                "{l}: cause"
            ),
            None => assert!(
                matches!(cause, TransportError::Protocol(_)),
                "{l}: expected a protocol error, got {cause:?}"
            ),
        }
        eprintln!("{l}: {reason}: {cause}");
    }
    drop(cases);

    // The process is fine: a session to a real peer works.
    let peer = Peer::start(PeerKind::Rust, PeerOptions::default());
    for mode in ALL_MODES {
        let c = connect(&peer, mode).await;
        c.settle(mode).await;
        c.close().await;
    }
}

// ---------------------------------------------------------------------------------------
// 10: failed handshakes

/// Answers every request (handshake GET and websocket alike) per `reply`.
fn handshake_server(reply: fn(&ScriptedRequest) -> Reply) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| async move { reply(&req) })
}

/// The open-packet position holds `first` over polling and websocket.
fn first_packet_server(first: &'static str) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| async move {
        if req.is_websocket() {
            Reply::websocket(move |mut ws| async move {
                ws.send_text(first).await;
                while ws.recv().await.is_some() {}
            })
        } else {
            Reply::text(200, first)
        }
    })
}

async fn connect_error(label: &str, builder: SessionBuilder) -> ConnectError {
    match within(format!("{label} connect()"), builder.connect()).await {
        Ok(_) => panic!("{label}: connect() succeeded"),
        Err(e) => e,
    }
}

#[actix_rt::test]
async fn failed_handshake_is_an_error_never_a_hang() {
    // Connection refused.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    for mode in ALL_MODES {
        let l = format!("[refused port, {mode}]");
        let err = connect_error(&l, mode.builder(&format!("http://127.0.0.1:{port}"))).await;
        assert!(
            matches!(err, ConnectError::Transport(TransportError::Connect(_))),
            "{l}: {err:?}"
        );
    }

    // A non-2xx answer: status and body reach the caller.
    let refusing = handshake_server(|_| Reply::Http {
        status: 400,
        headers: vec![("content-type".into(), "application/json".into())],
        body: br#"{"code":5,"message":"Unsupported protocol version"}"#.to_vec(),
    });
    for mode in ALL_MODES {
        let l = format!("[scripted 400, {mode}]");
        let err = connect_error(&l, mode.builder(&refusing.url())).await;
        assert_eq!(err.status(), Some(400), "{l}: {err:?}");
        // awc's websocket client does not hand over the body of a refused upgrade.
        if mode != Mode::WebSocket {
            assert!(
                err.to_string().contains("Unsupported protocol version"),
                "{l}: the body is not in the error: {err}"
            );
        }
    }

    // Real servers refusing a transport they do not allow.
    let ws_only = start_peers(
        &ALL_PEERS,
        PeerOptions {
            transports: vec!["websocket"],
            ..PeerOptions::default()
        },
    );
    for peer in &ws_only {
        let l = format!(
            "[{} peer allowing websocket only, polling only]",
            peer.kind()
        );
        let err = connect_error(&l, Mode::Polling.builder(&peer.url())).await;
        assert!(
            matches!(err.status(), Some(400..=499)),
            "{l}: expected a 4xx status: {err:?}"
        );
        eprintln!("{l}: {err}");
    }
    drop(ws_only);

    // A malformed open packet, and a first packet that is not an open packet.
    for (what, server) in [
        (
            "open packet \"0{not json\"",
            first_packet_server("0{not json"),
        ),
        ("first packet \"4hello\"", first_packet_server("4hello")),
        ("first packet \"9\"", first_packet_server("9")),
    ] {
        for mode in ALL_MODES {
            let l = format!("[scripted {what}, {mode}]");
            let err = connect_error(&l, mode.builder(&server.url())).await;
            assert!(
                matches!(err, ConnectError::Transport(TransportError::Protocol(_))),
                "{l}: {err:?}"
            );
        }
    }

    // A server that never answers: the request timeout ends the handshake.
    let silent = handshake_server(|_| Reply::Hang);
    for mode in ALL_MODES {
        let l = format!("[scripted server that never answers, {mode}]");
        let builder = mode
            .builder(&silent.url())
            .request_timeout(Duration::from_secs(1));
        let err = connect_error(&l, builder).await;
        assert_eq!(err, ConnectError::Transport(TransportError::Timeout), "{l}");
    }
    // A websocket that opens but never sends the open packet.
    let mute_ws = handshake_server(|req| {
        if req.is_websocket() {
            Reply::websocket(|mut ws| async move { while ws.recv().await.is_some() {} })
        } else {
            Reply::text(404, "")
        }
    });
    let l = "[scripted websocket without an open packet, websocket only]";
    let builder = Mode::WebSocket
        .builder(&mute_ws.url())
        .request_timeout(Duration::from_secs(1));
    let err = connect_error(l, builder).await;
    assert_eq!(err, ConnectError::Transport(TransportError::Timeout), "{l}");

    // Configuration errors, found before any I/O.
    for url in ["ftp://x", "not a url", ""] {
        for mode in ALL_MODES {
            let l = format!("[url {url:?}, {mode}]");
            let err = connect_error(&l, mode.builder(url)).await;
            assert!(matches!(err, ConnectError::Config(_)), "{l}: {err:?}");
        }
    }
    for transports in [vec!["carrier-pigeon"], vec![], vec!["polling", "polling"]] {
        let l = format!("[transports {transports:?}]");
        let builder = Session::builder("http://127.0.0.1:1").transports(transports);
        let err = connect_error(&l, builder).await;
        assert!(
            matches!(err, ConnectError::Config(ConfigError::Transports(_))),
            "{l}: {err:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 11: subscribers

#[actix_rt::test]
async fn every_subscriber_gets_every_message_in_order() {
    let peers = start_peers(&ALL_PEERS, PeerOptions::default());
    let first: Vec<Payload> = (0..50)
        .map(|i| Payload::from(format!("first {i}")))
        .collect();
    let second: Vec<Payload> = (0..50)
        .map(|i| {
            if i % 2 == 0 {
                Payload::from(format!("second {i}"))
            } else {
                Payload::from(vec![i as u8, 0x1e, 0])
            }
        })
        .collect();
    let everything: Vec<Payload> = first.iter().chain(&second).cloned().collect();
    for peer in &peers {
        for mode in ALL_MODES {
            let l = label(peer, mode);
            let other = Events::default();
            let builder = other.subscribe(mode.builder(&peer.url()));
            let c = connect_with(l.clone(), Events::default(), builder).await;
            for m in &first {
                c.send(m.clone()).await;
            }
            c.events.messages(first.len()).await;
            other.messages(first.len()).await;

            let late = Events::default();
            c.session
                .send(Subscribe::Message(late.recorder().recipient()))
                .await
                .unwrap_or_else(|e| panic!("{l}: Subscribe: {e}"));
            for m in &second {
                c.send(m.clone()).await;
            }
            let a = c.events.messages(everything.len()).await;
            let b = other.messages(everything.len()).await;
            let z = late.messages(second.len()).await;
            c.assert_alive();
            assert_payloads(&format!("{l} first subscriber"), &a, &everything);
            assert_payloads(&format!("{l} second subscriber"), &b, &everything);
            // Nothing more arrives late.
            actix_rt::time::sleep(Duration::from_millis(50)).await;
            assert_payloads(&format!("{l} late subscriber"), &late.received(), &second);
            assert_eq!(z.len(), second.len(), "{l}");
            assert!(
                other.connect().is_some(),
                "{l}: second subscriber saw no Connect"
            );
            c.close().await;
            assert_eq!(
                other.disconnect().await,
                DisconnectReason::ClientDisconnect,
                "{l}: second subscriber's Disconnect"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// 12: maxPayload

#[actix_rt::test]
async fn send_over_max_payload_is_refused_and_the_session_goes_on() {
    let peers = start_peers(&ALL_PEERS, options(1000));
    for peer in &peers {
        for mode in ALL_MODES {
            let c = connect(peer, mode).await;
            let l = &c.label;
            for big in [
                Payload::from("x".repeat(5000)),
                Payload::from(vec![1u8; 5000]),
            ] {
                let what = describe(&big);
                let answer = c
                    .session
                    .send(eio::Send(big))
                    .await
                    .unwrap_or_else(|e| panic!("{l}: Send: {e}"));
                match answer {
                    Err(SendError::TooLarge { size, max_payload }) => {
                        assert_eq!(max_payload, 1000, "{l}: {what}");
                        assert!(size >= 5000, "{l}: {what}: size {size}");
                    }
                    other => panic!("{l}: {what} over maxPayload 1000 answered {other:?}"),
                }
            }
            c.echo(Payload::from("still working")).await;
            c.echo(Payload::from("y".repeat(900))).await;
            c.echo(Payload::from(vec![2u8; 600])).await;
            c.assert_alive();
            c.close().await;
        }
    }
}

/// A message from the server larger than the `maxPayload` it announced is received:
/// `maxPayload` bounds what the server accepts, not what it sends.
#[actix_rt::test]
async fn server_messages_beyond_max_payload_are_received() {
    use support::scripted::open_packet_with;

    let big = format!("4{}", "b".repeat(200_000));
    let server = Scripted::start(move |request| {
        let big = big.clone();
        async move {
            if !request.is_websocket() {
                return Reply::text(404, "");
            }
            Reply::websocket(move |mut ws| async move {
                ws.send_text(&open_packet_with("big", &[], 25_000, 20_000, 1000))
                    .await;
                ws.send_text(&big).await;
                ws.echo().await;
            })
        }
    });
    let events = Events::default();
    let session = events
        .subscribe(Session::builder(server.url()).transports(["websocket"]))
        .connect()
        .await
        .unwrap();
    let got = events.messages(1).await;
    assert_eq!(
        got.first().map(Payload::len),
        Some(200_000),
        "{:?}",
        events.disconnect_reason()
    );
    session.send(Close).await.unwrap();
}
