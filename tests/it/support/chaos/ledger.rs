//! What the chaos server did in one session, for the test to judge the client by: every
//! message it wrote and whether the client may deliver it, what it received, what it
//! did that could end the session, and what the client did wrong.

use std::collections::BTreeSet;
use std::time::Instant;

use actix_engineio::Payload;

use super::model::Seen;

/// May the client deliver this message, and where?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// On the session's stream, in a body or frame the client must accept: delivered in
    /// order with the others, none skipped; only a tail may be lost (when the session
    /// ends before the client read it).
    Ordered,
    /// Where the client may or may not read it: an unsolicited second response, the probe
    /// websocket between `3probe` and `5`. Delivered at most once if at all.
    Loose,
    /// Must never be delivered: in a body that is cut, malformed, too large or refused
    /// with an error status, after a close packet, after anything that ends the session,
    /// on the probe before `3probe`, in a POST answer.
    Forbidden,
}

/// A message the server wrote.
#[derive(Debug, Clone)]
pub struct Sent {
    pub payload: Payload,
    pub class: Class,
    pub via: &'static str,
}

/// What the server did that can end a session: each end reason the client reports must
/// have one of these behind it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    /// A close packet, or a close frame with code 1000, 1001 or none (1005).
    Close,
    /// A response with this status.
    Status(u16),
    /// A malformed packet, body or frame (including an invalid handshake).
    Malformed,
    /// A body larger than `max_body_size`, or a POST answer longer than 1 KiB.
    BodyTooLarge,
    /// A websocket message larger than `max_frame_size`.
    FrameTooLarge,
    /// A close frame with this (abnormal) code.
    CloseCode(u16),
    /// A broken websocket frame sequence or frame header.
    BadFrame,
    /// A cut body, a reset, a connection or websocket closed without an answer or a close
    /// frame, a body that does not decompress.
    Lost,
}

/// The record of one session, server side.
#[derive(Debug)]
pub struct Ledger {
    pub start: Instant,
    /// Every message written to the client, in the order written.
    pub sent: Vec<Sent>,
    /// Messages received from the client, in the order read.
    pub received: Vec<Payload>,
    /// What the client did against the protocol.
    pub violations: Vec<String>,
    /// Messages of chunked bodies cut short, as the client gets them (known deviation
    /// K2: a delivery of one of these is counted, not failed on).
    pub truncated: Vec<Payload>,
    /// Deviations already reported against the library (see the chaos test's
    /// `KNOWN_DEVIATIONS`), by id: counted, not failed on, unless the run is strict.
    pub known: Vec<&'static str>,
    pub causes: BTreeSet<Cause>,
    /// When a ping went out that the client reads on its active transport.
    pub live_pings: Vec<Instant>,
    /// Every ping written, on any transport (the latest bounds the heartbeat deadline).
    pub last_ping: Option<Instant>,
    pub handshake_at: Option<Instant>,
    /// When the server started its final act (and stopped pinging).
    pub doomed_at: Option<Instant>,
    /// An unsolicited second response was written: a later request of the client may
    /// have taken it for its answer, so what it sent then may have gone unread.
    pub extra_responses: bool,
    /// `5` came in on the probe: the websocket became the session's transport.
    pub upgraded: bool,
    /// Ping data written, for the pongs to be checked against.
    pub ping_data: BTreeSet<String>,
    /// What the server did, with the time since the start, for failure reports.
    pub trace: Vec<String>,
}

impl Ledger {
    pub fn new() -> Ledger {
        Ledger {
            start: Instant::now(),
            sent: Vec::new(),
            received: Vec::new(),
            violations: Vec::new(),
            truncated: Vec::new(),
            known: Vec::new(),
            causes: BTreeSet::new(),
            live_pings: Vec::new(),
            last_ping: None,
            handshake_at: None,
            doomed_at: None,
            extra_responses: false,
            upgraded: false,
            ping_data: BTreeSet::new(),
            trace: Vec::new(),
        }
    }

    /// Notes what the server does (kept short: the trace is printed on failure).
    pub fn note(&mut self, what: impl Into<String>) {
        if self.trace.len() < 400 {
            let at = self.start.elapsed().as_millis();
            self.trace.push(format!("{at:>5} ms {}", what.into()));
        }
    }

    pub fn violation(&mut self, what: impl Into<String>) {
        let what = what.into();
        self.note(format!("VIOLATION {what}"));
        self.violations.push(what);
    }

    pub fn cause(&mut self, cause: Cause) {
        self.causes.insert(cause);
    }

    /// Logs the packets of a body or frame the server writes, as the client will see
    /// them. `class` is what its messages are if nothing in it ends the session; a close
    /// packet makes the rest of it forbidden. `live` when the client reads its pings on
    /// its active transport. Returns whether a close packet was in it.
    pub fn log_packets(
        &mut self,
        seen: &[Seen],
        class: Class,
        live: bool,
        via: &'static str,
    ) -> bool {
        let mut class = class;
        let mut closed = false;
        for packet in seen {
            match packet {
                Seen::Message(payload) => self.sent.push(Sent {
                    payload: payload.clone(),
                    class,
                    via,
                }),
                Seen::Ping(data) => {
                    let now = Instant::now();
                    self.last_ping = Some(now);
                    self.ping_data.insert(data.clone());
                    if live && class == Class::Ordered {
                        self.live_pings.push(now);
                    }
                }
                Seen::Close => {
                    self.cause(Cause::Close);
                    class = Class::Forbidden;
                    closed = true;
                }
                Seen::Ignored | Seen::Invalid(_) => {}
            }
        }
        closed
    }

    /// Logs messages the client must never deliver.
    pub fn log_forbidden(&mut self, seen: &[Seen], via: &'static str) {
        for packet in seen {
            if let Seen::Message(payload) = packet {
                self.sent.push(Sent {
                    payload: payload.clone(),
                    class: Class::Forbidden,
                    via,
                });
            }
        }
    }

    /// Logs a ping written where the client may not read it (the probe, an extra answer).
    pub fn log_stray_ping(&mut self, data: &str) {
        self.last_ping = Some(Instant::now());
        self.ping_data.insert(data.to_owned());
    }
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger::new()
    }
}
