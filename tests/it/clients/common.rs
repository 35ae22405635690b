//! What the client tests share beside the [`Record`](super::record::Record): labels,
//! the transport modes as `ConnectOptions`, the close reasons each peer logs for a clean
//! client close, waits on a peer's close, and a capture of the library's error log.

use std::sync::{Mutex, Once, PoisonError};
use std::time::Duration;

use actix_engineio::{
    AsyncClient, Client, ConnectOptions, DisconnectReason, TransportError, TransportKind, Upgrade,
};

use super::record::{Record, Seen};
use crate::support::client::{assert_texts, peer_event, within, Mode, ALL_MODES, DEADLINE};
use crate::support::peers::{Peer, PeerEvent, PeerKind, PeerOptions};

/// `[<kind> peer, <mode>, <client>]`: the start of every assertion message.
pub fn label(peer: &Peer, mode: Mode, client: &str) -> String {
    format!("[{} peer, {mode}, {client}]", peer.kind())
}

/// The `connect_with` options of `mode`.
pub fn options(mode: Mode) -> ConnectOptions {
    match mode {
        Mode::WebSocket => ConnectOptions::new().transports(["websocket"]),
        Mode::Polling => ConnectOptions::new().transports(["polling"]),
        Mode::Upgrade => ConnectOptions::new(),
    }
}

/// Every (peer, mode) pair.
pub fn cases(peers: &[Peer]) -> Vec<(&Peer, Mode)> {
    peers
        .iter()
        .flat_map(|p| ALL_MODES.map(|m| (p, m)))
        .collect()
}

/// Peers that ping every second and wait one second for the pong (whole seconds: python
/// announces whole seconds only).
pub fn short_heartbeat() -> PeerOptions {
    PeerOptions {
        ping_interval: Duration::from_millis(1000),
        ping_timeout: Duration::from_millis(1000),
        ..PeerOptions::default()
    }
}

// ---------------------------------------------------------------------------------------
// connecting and echoing

/// Connects `client` to `peer` in `mode` and returns its sid; fails the test otherwise.
pub async fn connect_async(client: &AsyncClient, peer: &Peer, mode: Mode, l: &str) -> String {
    let url = peer.url();
    let connect = client.connect_with(&url, options(mode));
    within(format!("{l}: connect"), DEADLINE, connect)
        .await
        .unwrap_or_else(|e| panic!("{l}: connect failed: {e} ({e:?})"));
    client
        .sid()
        .unwrap_or_else(|| panic!("{l}: no sid right after connect"))
}

/// [`connect_async`] for the blocking client.
pub fn connect_blocking(client: &Client, peer: &Peer, mode: Mode, l: &str) -> String {
    client
        .connect_with(&peer.url(), options(mode))
        .unwrap_or_else(|e| panic!("{l}: connect failed: {e} ({e:?})"));
    client
        .sid()
        .unwrap_or_else(|| panic!("{l}: no sid right after connect"))
}

/// Sends `text` and expects its echo as the next message the handlers get.
pub async fn echo_async(client: &AsyncClient, record: &Record, l: &str, text: &str) {
    let (before, ended_before) = (record.messages().len(), record.disconnects().len());
    client
        .send(text)
        .await
        .unwrap_or_else(|e| panic!("{l}: send({text:?}) failed: {e:?}"));
    let got = record.messages_at_least(before + 1).await;
    assert_alive_since(record, l, ended_before);
    assert_texts(l, &got[before..], &[text.to_owned()]);
}

/// [`echo_async`] for the blocking client.
pub fn echo_blocking(client: &Client, record: &Record, l: &str, text: &str) {
    let (before, ended_before) = (record.messages().len(), record.disconnects().len());
    client
        .send(text)
        .unwrap_or_else(|e| panic!("{l}: send({text:?}) failed: {e:?}"));
    let got = record.messages_at_least_blocking(before + 1);
    assert_alive_since(record, l, ended_before);
    assert_texts(l, &got[before..], &[text.to_owned()]);
}

/// Panics when the handlers were told of a disconnect.
pub fn assert_alive(record: &Record, l: &str) {
    assert_alive_since(record, l, 0);
}

/// Panics when the handlers were told of more than `earlier` disconnects: the session of
/// a client that reconnected may follow ended ones.
pub fn assert_alive_since(record: &Record, l: &str, earlier: usize) {
    let ended = record.disconnects();
    assert!(
        ended.len() <= earlier,
        "{l}: unexpected disconnect {:?}; seen {}",
        &ended[earlier.min(ended.len())..],
        record.summary()
    );
}

fn upgraded(seen: &[Seen]) -> bool {
    seen.iter().any(|s| matches!(s, Seen::Upgrade(_)))
}

fn assert_upgraded(record: &Record, l: &str) {
    let upgrade = record.all().into_iter().find_map(|s| match s {
        Seen::Upgrade(u) => Some(u),
        _ => None,
    });
    assert_eq!(
        upgrade,
        Some(Upgrade::Completed(TransportKind::WebSocket)),
        "{l}: the upgrade did not complete; seen {}",
        record.summary()
    );
}

/// An echo, and in upgrade mode the completed upgrade: the session is settled.
pub async fn settle_async(client: &AsyncClient, record: &Record, mode: Mode, l: &str) {
    echo_async(client, record, l, "settle").await;
    if mode == Mode::Upgrade {
        record.until(upgraded).await;
        assert_upgraded(record, l);
    }
}

/// [`settle_async`] for the blocking client.
pub fn settle_blocking(client: &Client, record: &Record, mode: Mode, l: &str) {
    echo_blocking(client, record, l, "settle");
    if mode == Mode::Upgrade {
        record.until_blocking(upgraded);
        assert_upgraded(record, l);
    }
}

/// Runs `f(arg)` on a thread of its own and gives its result; fails the test when it takes
/// longer than [`DEADLINE`] (a blocking call that hangs would hang the test otherwise).
pub fn within_blocking<A, T>(
    l: &str,
    what: &str,
    arg: A,
    f: impl FnOnce(A) -> T + Send + 'static,
) -> T
where
    A: Send + 'static,
    T: Send + 'static,
{
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(f(arg));
    });
    match result.recv_timeout(DEADLINE) {
        Ok(value) => value,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{l}: {what}: no result within {DEADLINE:?}")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("{l}: {what} panicked"),
    }
}

// ---------------------------------------------------------------------------------------
// what the peers do

/// Asserts that `reason` (what `wait()` gave) is the end of a session the server closed
/// (`close-me`), and that the disconnect handler, which `record` kept, was given the same.
///
/// A server disconnect, except for a quirk of python-engineio and engineioxide
/// (`tests/peers/README.md`): a server-side close over polling reaches only a GET already
/// waiting; without one it is lost, and the next GET gets `400 Session ID unknown`.
/// `maybe_polling` says whether the session may still have been on polling.
pub fn assert_server_closed(
    kind: PeerKind,
    maybe_polling: bool,
    l: &str,
    reason: Option<DisconnectReason>,
    record: &Record,
) {
    let lost_close = |reason: &DisconnectReason| {
        maybe_polling
            && kind != PeerKind::Node
            && matches!(
                reason,
                DisconnectReason::TransportError(TransportError::Http { status: 400, .. })
            )
    };
    match &reason {
        Some(DisconnectReason::ServerDisconnect) => {}
        Some(other) if lost_close(other) => {}
        other => panic!("{l}: wait() after the server closed gave {other:?}"),
    }
    assert_eq!(
        record.disconnects(),
        reason.into_iter().collect::<Vec<_>>(),
        "{l}: the disconnect handler had not run when wait() returned, or was told otherwise"
    );
}

// ---------------------------------------------------------------------------------------
// what the peers log

/// What `kind` logs when the client closed the session cleanly (a `1` packet, then the
/// transport closed): node `transport close`, python `client disconnect`; the Rust peer
/// anything but a broken transport or a missed heartbeat.
pub fn is_clean_close(kind: PeerKind, reason: &str) -> bool {
    match kind {
        PeerKind::Node | PeerKind::Node3 => reason == "transport close",
        PeerKind::Python | PeerKind::Python3 => reason == "client disconnect",
        PeerKind::Rust => reason != "TransportError" && reason != "HeartbeatTimeout",
    }
}

/// The clean close reason of `kind`, for failure messages.
pub fn clean_close(kind: PeerKind) -> &'static str {
    match kind {
        PeerKind::Node | PeerKind::Node3 => "transport close",
        PeerKind::Python | PeerKind::Python3 => "client disconnect",
        PeerKind::Rust => "anything but TransportError or HeartbeatTimeout",
    }
}

/// Waits (async) for `peer` to log the close of `sid`; fails the test after [`DEADLINE`].
pub async fn peer_close(peer: &Peer, l: &str, sid: &str) -> String {
    let closed = peer_event(peer, |e| is_close_of(e, sid)).await;
    close_reason(peer, l, sid, closed)
}

/// Waits (blocking) for `peer` to log the close of `sid`; fails the test after [`DEADLINE`].
pub fn peer_close_blocking(peer: &Peer, l: &str, sid: &str) -> String {
    let closed = peer.wait_for(DEADLINE, |e| is_close_of(e, sid));
    close_reason(peer, l, sid, closed)
}

fn is_close_of(event: &PeerEvent, sid: &str) -> bool {
    matches!(event, PeerEvent::Close { sid: s, .. } if s == sid)
}

fn close_reason(peer: &Peer, l: &str, sid: &str, closed: Option<PeerEvent>) -> String {
    match closed {
        Some(PeerEvent::Close { reason, .. }) => reason,
        _ => panic!(
            "{l}: the peer logged no close of session {sid} within {DEADLINE:?}; it logged {:?}",
            peer.events()
                .into_iter()
                .filter(|e| e.sid().is_some())
                .collect::<Vec<_>>()
        ),
    }
}

/// Asserts the peer logged a clean client close for `sid` (waiting for it).
pub async fn assert_clean_close(peer: &Peer, l: &str, sid: &str) {
    let reason = peer_close(peer, l, sid).await;
    assert!(
        is_clean_close(peer.kind(), &reason),
        "{l}: the peer logged the close of {sid} as {reason:?}, not a clean client close ({})",
        clean_close(peer.kind())
    );
}

/// [`assert_clean_close`], blocking.
pub fn assert_clean_close_blocking(peer: &Peer, l: &str, sid: &str) {
    let reason = peer_close_blocking(peer, l, sid);
    assert!(
        is_clean_close(peer.kind(), &reason),
        "{l}: the peer logged the close of {sid} as {reason:?}, not a clean client close ({})",
        clean_close(peer.kind())
    );
}

/// Whether `reason` is what `kind` logs when the client dropped the connection without a
/// word, or `None` where the peer cannot tell that from a clean close. `transport` is
/// where the session was when it was dropped (`"polling"` or `"websocket"`).
///
/// Seen: node logs `transport error` when a long poll breaks, but `transport close` for
/// any end of a websocket, the reason of a clean close too: it cannot tell them apart
/// there. Python logs `transport close` when a websocket ends without a close packet, and
/// over polling notices the missed pong (`ping timeout`, with a short heartbeat) or a
/// broken poll (`transport error`). Rust logs `TransportError` for the websocket and
/// `HeartbeatTimeout` over polling.
pub fn is_broken_transport(kind: PeerKind, transport: &str, reason: &str) -> Option<bool> {
    match (kind, transport) {
        (PeerKind::Node | PeerKind::Node3, "websocket") => None,
        (PeerKind::Node | PeerKind::Node3, _) => Some(reason == "transport error"),
        (PeerKind::Python | PeerKind::Python3, "websocket") => Some(reason == "transport close"),
        (PeerKind::Python | PeerKind::Python3, _) => {
            Some(reason == "ping timeout" || reason == "transport error")
        }
        (PeerKind::Rust, _) => Some(reason == "TransportError" || reason == "HeartbeatTimeout"),
    }
}

// ---------------------------------------------------------------------------------------
// the library's error log

static LOGGED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Keeps every `error!` record of the process in [`LOGGED`].
struct Capture;

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Error
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            LOGGED
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(format!("{}", record.args()));
        }
    }

    fn flush(&self) {}
}

/// Installs the capture of error records as the process's logger, once. Fails the test
/// when another logger was installed first (the capture is then impossible).
pub fn capture_errors() {
    static INSTALL: Once = Once::new();
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    INSTALL.call_once(|| {
        let ok = log::set_logger(&Capture).is_ok();
        if ok {
            log::set_max_level(log::LevelFilter::Error);
        }
        *INSTALLED.lock().unwrap_or_else(PoisonError::into_inner) = ok;
    });
    assert!(
        *INSTALLED.lock().unwrap_or_else(PoisonError::into_inner),
        "another logger was installed in this test process: the error log cannot be captured"
    );
}

/// Whether an error record containing `needle` was logged.
pub fn logged(needle: &str) -> bool {
    LOGGED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .any(|line| line.contains(needle))
}

/// The error records that contain `part`, for failure messages.
pub fn logged_lines(part: &str) -> Vec<String> {
    LOGGED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter(|line| line.contains(part))
        .cloned()
        .collect()
}
