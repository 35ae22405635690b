//! What a peer logged: every HTTP request ([`PeerRequest`]), every session open, upgrade
//! and close, and every message received ([`PeerMessage`]), in one ordered [`EventLog`],
//! and the queries tests make on it.
//!
//! Process peers print one JSON object per line (parsed by [`PeerEvent::from_json`]); the
//! in-process Rust peer pushes the same events directly.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::Peer;
use crate::support::net::{is_websocket_upgrade, query_param};

/// One HTTP request received by a peer's engine.io server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query as received, e.g. `/engine.io/?EIO=4&transport=polling`.
    pub url: String,
    /// Header names are lowercase; repeated headers are joined with `", "`.
    pub headers: BTreeMap<String, String>,
}

impl PeerRequest {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The first value of a query parameter (percent-decoded).
    pub fn query(&self, name: &str) -> Option<String> {
        query_param(&self.url, name)
    }

    /// Whether this is a websocket upgrade request.
    pub fn is_websocket(&self) -> bool {
        is_websocket_upgrade(self.header("upgrade"))
    }
}

/// How many characters of a text message (or bytes of a binary one) a peer logs: the
/// `HEAD` of `server.js` and `server.py`.
pub const MESSAGE_HEAD: usize = 100;

/// A message a peer received, as it logs it: enough to check what arrived in which order
/// without copying megabytes into the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerMessage {
    pub sid: String,
    pub binary: bool,
    /// The size in bytes (of the UTF-8 text, or of the binary data).
    pub len: usize,
    /// The first [`MESSAGE_HEAD`] characters of a text, or bytes of a binary message in
    /// lowercase hex.
    pub head: String,
}

impl PeerMessage {
    /// How `text` is logged when it arrives.
    pub fn text(sid: &str, text: &str) -> PeerMessage {
        PeerMessage {
            sid: sid.to_owned(),
            binary: false,
            len: text.len(),
            head: text.chars().take(MESSAGE_HEAD).collect(),
        }
    }

    /// How binary `data` is logged when it arrives.
    pub fn binary(sid: &str, data: &[u8]) -> PeerMessage {
        let head = data.iter().take(MESSAGE_HEAD).map(|b| format!("{b:02x}"));
        PeerMessage {
            sid: sid.to_owned(),
            binary: true,
            len: data.len(),
            head: head.collect(),
        }
    }
}

/// Something a peer logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// A new session. `transport` is `"polling"` or `"websocket"`.
    Connect { sid: String, transport: String },
    /// A message arrived from the client (logged as it is received, before it is echoed).
    Message(PeerMessage),
    /// A session switched transport (node only).
    Upgrade { sid: String, transport: String },
    /// A session ended, with the server's own reason string.
    Close { sid: String, reason: String },
    /// An HTTP request reached the engine.io server.
    Request(PeerRequest),
}

impl PeerEvent {
    /// The session id of a `Connect`, `Upgrade` or `Close` event.
    pub fn sid(&self) -> Option<&str> {
        match self {
            PeerEvent::Connect { sid, .. }
            | PeerEvent::Upgrade { sid, .. }
            | PeerEvent::Close { sid, .. } => Some(sid),
            PeerEvent::Message(m) => Some(&m.sid),
            PeerEvent::Request(_) => None,
        }
    }

    /// Parses one JSON line of a process peer. `Ok(None)` for the `listening` line.
    pub(super) fn from_json(v: &serde_json::Value) -> Result<Option<PeerEvent>, String> {
        let s = |key: &str| -> Result<String, String> {
            v.get(key)
                .and_then(|x| x.as_str())
                .map(str::to_string)
                .ok_or_else(|| format!("missing string field {key:?}"))
        };
        let event = v
            .get("event")
            .and_then(|e| e.as_str())
            .ok_or("missing \"event\"")?;
        Ok(Some(match event {
            "listening" => return Ok(None),
            "connect" => PeerEvent::Connect {
                sid: s("sid")?,
                transport: s("transport")?,
            },
            "upgrade" => PeerEvent::Upgrade {
                sid: s("sid")?,
                transport: s("transport")?,
            },
            "close" => PeerEvent::Close {
                sid: s("sid")?,
                reason: s("reason")?,
            },
            "message" => PeerEvent::Message(PeerMessage {
                sid: s("sid")?,
                binary: s("kind")? == "binary",
                len: v
                    .get("len")
                    .and_then(|n| n.as_u64())
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or("missing number field \"len\"")?,
                head: s("head")?,
            }),
            "request" => {
                let headers = v
                    .get("headers")
                    .and_then(|h| h.as_object())
                    .ok_or("missing \"headers\"")?
                    .iter()
                    .map(|(k, val)| {
                        let val = match val {
                            serde_json::Value::String(x) => x.clone(),
                            other => other.to_string(),
                        };
                        (k.to_ascii_lowercase(), val)
                    })
                    .collect();
                PeerEvent::Request(PeerRequest {
                    method: s("method")?,
                    url: s("url")?,
                    headers,
                })
            }
            other => return Err(format!("unknown event {other:?}")),
        }))
    }
}

/// The ordered event log of one peer, shared with its reader threads or its server tasks.
#[derive(Debug, Default)]
pub struct EventLog {
    events: Mutex<Vec<PeerEvent>>,
    changed: Condvar,
}

impl EventLog {
    /// Appends an event and wakes every waiter.
    pub fn push(&self, event: PeerEvent) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
        self.changed.notify_all();
    }

    pub(super) fn snapshot(&self) -> Vec<PeerEvent> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(super) fn wait_for(
        &self,
        timeout: Duration,
        pred: impl Fn(&PeerEvent) -> bool,
    ) -> Option<PeerEvent> {
        let deadline = Instant::now() + timeout;
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(found) = events.iter().find(|e| pred(e)) {
                return Some(found.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            events = self
                .changed
                .wait_timeout(events, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

// ---------------------------------------------------------------------------------------
// queries on a peer's log

/// The requests `peer` logged that carry `sid=<sid>` (polling GETs and POSTs of the
/// session and its websocket upgrade request).
pub fn session_requests(peer: &Peer, sid: &str) -> Vec<PeerRequest> {
    peer.requests()
        .into_iter()
        .filter(|r| r.query("sid").as_deref() == Some(sid))
        .collect()
}

/// The messages `peer` logged for session `sid`, in the order it received them.
pub fn peer_messages(peer: &Peer, sid: &str) -> Vec<PeerMessage> {
    peer.events()
        .into_iter()
        .filter_map(|e| match e {
            PeerEvent::Message(m) if m.sid == sid => Some(m),
            _ => None,
        })
        .collect()
}

/// Asserts the peer received exactly the text messages `expected` of session `sid`, in
/// order; reports the first difference rather than thousands of messages.
pub fn assert_peer_received(label: &str, got: &[PeerMessage], sid: &str, expected: &[String]) {
    let want: Vec<PeerMessage> = expected.iter().map(|t| PeerMessage::text(sid, t)).collect();
    if let Some(i) = got.iter().zip(&want).position(|(g, w)| g != w) {
        panic!(
            "{label}: the peer's message #{i} is {:.80?}, expected {:.80?} (it received {}, \
             expected {})",
            got[i],
            want[i],
            got.len(),
            want.len()
        );
    }
    assert_eq!(
        got.len(),
        want.len(),
        "{label}: the peer received {} messages, expected {} (the common prefix matches); \
         extra: {:.80?}",
        got.len(),
        want.len(),
        got.get(want.len()..)
            .unwrap_or_default()
            .iter()
            .take(3)
            .collect::<Vec<_>>()
    );
}

/// Whether `request` is a polling GET or POST (not a websocket upgrade request).
pub fn is_polling(request: &PeerRequest) -> bool {
    !request.is_websocket() && (request.method == "GET" || request.method == "POST")
}

/// The reason the peer logged for closing session `sid`, if it did.
pub fn peer_closed(peer: &Peer, sid: &str) -> Option<String> {
    peer.events().into_iter().find_map(|e| match e {
        PeerEvent::Close { sid: s, reason } if s == sid => Some(reason),
        _ => None,
    })
}
