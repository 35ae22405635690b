//! The session state machine (`protocol::Connection`, docs/protocol.md sections 6 and 7)
//! driven by an arbitrary sequence of inputs, with a model of the I/O layer around it.
//!
//! The input picks the protocol version (v3 or v4), the handshake (websocket offered or
//! not, `maxPayload`), the transport the session opens on, whether it upgrades, whether
//! the I/O model is `strict`, and up to `MAX_STEPS` steps: packets from the server on
//! either transport, transport ends, writes, the pause report, the probe socket opening,
//! timers (the probe's, v3's ping timer, v4's watch for the first ping), the heartbeat deadline, and the
//! application's `send`, `close`, `abort` and `take_undelivered`.
//! After every step the outputs are drained and carried out by the model.
//!
//! In `strict` mode the model behaves as the session and transport actors do
//! (`src/session/`, `src/transport/`): a transport reports only while it exists and has
//! not been stopped, polling reports its pause only after `PausePolling` and hands back
//! exactly what it had queued and not posted, a timer fires once after it was started,
//! a probe socket is used only while `keeps_probe_socket()`. Otherwise every input
//! goes in whatever the order, and the checks that depend on the I/O layer behaving
//! (marked "strict" below) are not made. Sizes are those of the session's version
//! (`wire_len_for`).
//!
//! Checked after every step (a violation panics with the step and the reason):
//! 1. nothing panics;
//! 2. after `Event::Disconnected`, no `Transmit` and no `Event`; a `send` after `close()`
//!    (or once `is_closed()`) returns `Err(SendError::Closed)`, and no message accepted
//!    after `close()` is ever transmitted; (strict) nothing is transmitted on a
//!    transport after the `1` (close) packet was transmitted on it;
//! 3. at most one `Disconnected`; exactly one once `is_finished()`, whose reason is
//!    `disconnect_reason()`;
//! 4. messages leave the machine in the order `send` accepted them, with no duplicates:
//!    each accepted message is "pending" until it is transmitted (on any transport) or
//!    given back by `take_undelivered()`, and only the oldest pending one may leave;
//!    a message handed back in the `unsent` of `handle_polling_paused` is pending again.
//!    When the run ends on a finished session, none is left pending (nothing lost);
//!    (strict) a message is never handed to a transport that the machine closed or
//!    aborted or that reported its end (the I/O layer drops it: lost);
//! 5. `unwritten()` is at most the bytes transmitted and not reported written (per
//!    transport, as `wire_len_for` counts them) plus those held during the upgrade pause,
//!    and 0 once finished;
//! 6. `is_finished()` implies `is_closed()`;
//! 7. the heartbeat goes one way: in v4 the client sends no `2` but `2probe`, in v3 no
//!    `3` (a server's `2` is ignored, see `docs/protocol.md` section 11);
//! 8. at most one `Timer::Ping` runs at a time (what lets a driver never cancel it),
//!    and none in v4.
//!
//! Also: a `send` refusal is the right one (`TooLarge` with the real size over
//! `maxPayload`, `RecordSeparator` only over v4 polling for text holding `\x1e`); (strict)
//! every message transmitted fits `maxPayload` on its transport, and everything
//! transmitted over polling survives a payload (`can_carry_for`).

#![no_main]

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use actix_engineio::protocol::{
    can_carry_for, wire_len_for, Connection, DisconnectReason, Event, Handshake, Output, Packet,
    Payload, ProtocolVersion, SendError, Timer, TransportEnd, TransportError, TransportKind, PROBE,
};
use arbitrary::Arbitrary;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

/// Set to print every call made and every output, to replay a finding:
/// `CONNECTION_TRACE=1 cargo fuzz run connection artifacts/connection/crash-…`.
fn tracing() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("CONNECTION_TRACE").is_some())
}

macro_rules! trace {
    ($($arg:tt)*) => {
        if tracing() {
            eprintln!($($arg)*);
        }
    };
}

/// Extra coverage for libFuzzer, which reads the counters it finds in this section
/// besides the compiler's: one per (step kind, state after it). The state machine is
/// small, so edge coverage stops growing early; these counters reward inputs that
/// reach new combinations of states (closing while pausing, a message queued on a
/// transport that is closing, …).
const STATE_COUNTERS: usize = 1 << 17;
#[used]
#[link_section = "__libfuzzer_extra_counters"]
static STATES: [AtomicU8; STATE_COUNTERS] = [const { AtomicU8::new(0) }; STATE_COUNTERS];

/// Steps run per input; more are ignored.
const MAX_STEPS: usize = 400;
/// Bytes of a message's filler kept: longer ones add nothing but time.
const MAX_FILLER: usize = 48;

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Polling,
    WebSocket,
}

impl Kind {
    fn get(self) -> TransportKind {
        match self {
            Kind::Polling => TransportKind::Polling,
            Kind::WebSocket => TransportKind::WebSocket,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// Model the I/O layer faithfully (see the module docs).
    strict: bool,
    /// Protocol v3 rather than v4.
    v3: bool,
    offers_websocket: bool,
    open_on: Kind,
    upgrade: bool,
    /// `None`: the default 1,000,000; small values make sends too large.
    max_payload: Option<u8>,
    ping_interval: u64,
    ping_timeout: u64,
    steps: Vec<Step>,
}

#[derive(Arbitrary, Debug)]
enum Step {
    /// A packet from the server arrived on a transport.
    Packet(Kind, ServerPacket),
    /// A transport reports its end (the probe socket's connect failing, when it is not
    /// open yet).
    End(Kind, End),
    /// The transport writes the first `n` packets of its queue and reports their bytes.
    Flush(Kind, u8),
    /// An arbitrary `handle_written`.
    Written(Kind, u16),
    /// Polling reports its pause, handing back what it had queued; outside strict mode
    /// with some non-message packets mixed in, at the given positions.
    PollingPaused(Vec<(u8, Junk)>),
    ProbeOpened,
    ProbeGrace,
    ProbeTimeout,
    /// v3's ping timer fires; in v4, the watch for the server's first ping.
    PingTimer,
    PingTimeout,
    Send(Message),
    Close,
    Abort,
    TakeUndelivered,
}

impl Step {
    /// Which kind of step, 0 to 13.
    fn kind(&self) -> usize {
        match self {
            Step::Packet(..) => 0,
            Step::End(..) => 1,
            Step::Flush(..) => 2,
            Step::Written(..) => 3,
            Step::PollingPaused(_) => 4,
            Step::ProbeOpened => 5,
            Step::ProbeGrace => 6,
            Step::ProbeTimeout => 7,
            Step::PingTimeout => 8,
            Step::Send(_) => 9,
            Step::Close => 10,
            Step::Abort => 11,
            Step::TakeUndelivered => 12,
            Step::PingTimer => 13,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum ServerPacket {
    Text(String),
    Binary(Vec<u8>),
    Ping(String),
    PingProbe,
    Pong(String),
    PongProbe,
    Close,
    Noop,
    Upgrade,
    Open,
}

#[derive(Arbitrary, Debug)]
enum End {
    ServerClosed,
    Closed,
    Refused,
    Lost,
    Timeout,
    WebSocketClosed(u16),
}

impl End {
    fn get(&self) -> TransportEnd {
        match self {
            End::ServerClosed => TransportEnd::ServerClosed,
            End::Closed => TransportEnd::Closed,
            End::Refused => TransportEnd::Error(TransportError::Connect("refused".into())),
            End::Lost => TransportEnd::Error(TransportError::ConnectionLost("reset".into())),
            End::Timeout => TransportEnd::Error(TransportError::Timeout),
            End::WebSocketClosed(code) => TransportEnd::Error(TransportError::WebSocketClosed {
                code: *code,
                reason: String::new(),
            }),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Junk {
    Noop,
    Pong,
    Ping,
}

#[derive(Arbitrary, Debug)]
enum Message {
    Text(String),
    Binary(Vec<u8>),
}

/// What became of an accepted message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Accepted, not transmitted (or handed back as unsent since), not given back.
    Pending,
    /// Transmitted on a transport.
    Out,
    /// Given back by `take_undelivered`.
    Undelivered,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pause {
    Off,
    Requested,
    Paused,
}

/// One transport actor, as the model sees it.
#[derive(Debug, Default)]
struct Transport {
    exists: bool,
    /// Told `CloseTransport`: later `Transmit`s are dropped by the session.
    closing: bool,
    /// Aborted, or its end was reported.
    gone: bool,
    /// Transmitted and not yet written, in order.
    queue: VecDeque<Packet>,
}

impl Transport {
    fn open() -> Self {
        Transport {
            exists: true,
            ..Transport::default()
        }
    }

    fn live(&self) -> bool {
        self.exists && !self.gone
    }

    fn takes_packets(&self) -> bool {
        self.live() && !self.closing
    }

    fn describe(&self) -> &'static str {
        if !self.exists {
            "not open"
        } else if self.gone {
            "gone"
        } else if self.closing {
            "closing"
        } else {
            "open"
        }
    }
}

/// Per transport kind, over the whole run.
#[derive(Debug, Default, Clone, Copy)]
struct Account {
    /// Bytes transmitted and not reported written (never reset: an upper bound).
    outstanding: usize,
    /// A close packet was transmitted on it.
    close_sent: bool,
}

struct Harness {
    conn: Connection,
    version: ProtocolVersion,
    strict: bool,
    max_payload: usize,
    /// [polling, websocket]
    transports: [Transport; 2],
    accounts: [Account; 2],
    pause: Pause,
    /// `OpenProbe` was given and the socket has neither opened nor failed.
    probe_connecting: bool,
    /// Timers started and not fired: [ProbeGrace, ProbeTimeout, Ping, FirstPingDue].
    timers: [bool; 4],
    /// Ids given to every send attempt, accepted or not.
    next_id: u32,
    /// The order in which `send` accepted each message, by id.
    accepted: HashMap<u32, u32>,
    /// What became of each accepted message, by order.
    fates: Vec<Fate>,
    /// Orders of the pending messages.
    pending: BTreeSet<u32>,
    /// How many messages were accepted when the application called `close()`.
    closed_at: Option<u32>,
    /// The reason of the `Disconnected` event, once given.
    disconnected: Option<DisconnectReason>,
    disconnects: u32,
    /// Bytes (websocket-sized) the machine queued without transmitting: held during
    /// the upgrade pause.
    held: usize,
    /// Transmits of the current step.
    transmitted: Vec<(TransportKind, Packet)>,
    /// During a pause report, the non-message packets polling hands back (in loose mode,
    /// some slipped in by the model): the machine re-sends them as they are, so they are
    /// not its own heartbeat (invariant 7).
    junk: Vec<Packet>,
    /// Where we are, for messages.
    step: usize,
}

fn message_id(payload: &Payload) -> Option<u32> {
    match payload {
        Payload::Text(text) => text.split_once(':')?.0.parse().ok(),
        Payload::Binary(data) => Some(u32::from_le_bytes(data.get(..4)?.try_into().ok()?)),
    }
}

const POLLING: usize = 0;
const WEBSOCKET: usize = 1;

/// The model's slot for a transport (`TransportKind` is non-exhaustive).
fn index(kind: TransportKind) -> usize {
    match kind {
        TransportKind::Polling => POLLING,
        TransportKind::WebSocket => WEBSOCKET,
        other => panic!("harness: unknown transport {other}"),
    }
}

impl Harness {
    fn transport(&mut self, kind: TransportKind) -> &mut Transport {
        &mut self.transports[index(kind)]
    }

    fn model(&self, kind: TransportKind) -> &Transport {
        &self.transports[index(kind)]
    }

    fn fail(&self, what: &str) -> ! {
        panic!("step {}: {what}", self.step)
    }

    /// Drains and carries out the outputs of the last input.
    fn drain(&mut self) {
        while let Some(output) = self.conn.poll_output() {
            trace!("    -> {output:?}");
            if let Some(reason) = &self.disconnected {
                if matches!(output, Output::Transmit(..) | Output::Event(_)) {
                    self.fail(&format!(
                        "invariant 2: {output:?} after Disconnected({reason:?})"
                    ));
                }
            }
            match output {
                Output::Event(Event::Disconnected(reason)) => {
                    self.disconnects += 1;
                    if self.disconnects > 1 {
                        self.fail("invariant 3: a second Disconnected");
                    }
                    self.disconnected = Some(reason);
                    // The machine forgot what it held (kept for take_undelivered).
                    self.held = 0;
                }
                Output::Event(_) | Output::ArmHeartbeat(_) => {}
                Output::Transmit(kind, packet) => self.on_transmit(kind, packet),
                Output::PausePolling => {
                    if self.transports[POLLING].takes_packets() {
                        self.pause = Pause::Requested;
                    }
                }
                Output::ResumePolling => self.pause = Pause::Off,
                Output::OpenProbe => self.probe_connecting = true,
                Output::StartTimer(Timer::ProbeGrace, _) => self.timers[0] = true,
                Output::StartTimer(Timer::ProbeTimeout, _) => self.timers[1] = true,
                Output::StartTimer(Timer::Ping, _) => {
                    if self.version == ProtocolVersion::V4 {
                        self.fail("invariant 8: a ping timer in v4, where the server pings");
                    }
                    if self.timers[2] {
                        self.fail("invariant 8: a second ping timer while one runs");
                    }
                    self.timers[2] = true;
                }
                Output::StartTimer(Timer::FirstPingDue, _) => {
                    if self.version == ProtocolVersion::V3 || self.timers[3] {
                        self.fail("the first ping is watched once, in v4 only");
                    }
                    self.timers[3] = true;
                }
                Output::CloseTransport(kind) => {
                    let transport = self.transport(kind);
                    if transport.live() {
                        transport.closing = true;
                    }
                }
                Output::AbortTransport(kind) => {
                    let transport = self.transport(kind);
                    if transport.exists {
                        transport.gone = true;
                        transport.queue.clear();
                    }
                }
            }
        }
    }

    fn on_transmit(&mut self, kind: TransportKind, packet: Packet) {
        let account = &mut self.accounts[index(kind)];
        if self.strict && account.close_sent {
            self.fail(&format!(
                "invariant 2: {packet:?} transmitted on {kind} after the close packet"
            ));
        }
        account.close_sent |= packet == Packet::Close;
        account.outstanding += wire_len_for(self.version, kind, &packet);
        if let Packet::Message(payload) = &packet {
            self.on_message_out(kind, payload, &packet);
        }
        if self.strict && !can_carry_for(self.version, kind, &packet) {
            self.fail(&format!(
                "{packet:?} transmitted over {kind}, which cannot carry it"
            ));
        }
        let wrong_way = match self.version {
            ProtocolVersion::V4 => matches!(&packet, Packet::Ping(_)) && packet != Packet::probe(),
            ProtocolVersion::V3 => matches!(&packet, Packet::Pong(_)),
        };
        let junk = self.junk.iter().position(|p| *p == packet);
        if let Some(at) = junk {
            self.junk.swap_remove(at);
        } else if wrong_way {
            self.fail(&format!(
                "invariant 7: {packet:?} transmitted on {kind}: a heartbeat the wrong way in {}",
                self.version
            ));
        }
        self.transmitted.push((kind, packet.clone()));
        let transport = self.transport(kind);
        if transport.takes_packets() {
            transport.queue.push_back(packet);
        }
    }

    fn on_message_out(&mut self, kind: TransportKind, payload: &Payload, packet: &Packet) {
        let Some(order) = self.order_of(payload) else {
            self.fail(&format!(
                "invariant 4: transmitted {payload:?}, which send never accepted"
            ))
        };
        if let Some(limit) = self.closed_at {
            if order >= limit {
                self.fail(&format!(
                    "invariant 2: message #{order} was accepted after close() and transmitted"
                ));
            }
        }
        self.leave(order, Fate::Out, format_args!("transmitted on {kind}"));
        if self.strict {
            let size = wire_len_for(self.version, kind, packet);
            if size > self.max_payload {
                self.fail(&format!(
                    "message #{order} of {size} B on {kind} exceeds maxPayload {}",
                    self.max_payload
                ));
            }
            let transport = self.model(kind);
            if !transport.takes_packets() {
                self.fail(&format!(
                    "invariant 4: message #{order} handed to {kind}, which is {}: the I/O layer \
                     drops it",
                    transport.describe()
                ));
            }
        }
    }

    /// Message `order` leaves the machine (transmitted or given back): it must be the
    /// oldest pending one.
    fn leave(&mut self, order: u32, fate: Fate, how: std::fmt::Arguments<'_>) {
        let was = self.fates[order as usize];
        if was != Fate::Pending {
            self.fail(&format!(
                "invariant 4: message #{order} {how} again (it was {was:?})"
            ));
        }
        let oldest = *self.pending.first().expect("a pending message");
        if oldest != order {
            self.fail(&format!(
                "invariant 4: message #{order} {how} while #{oldest}, accepted before it, is \
                 still pending (pending: {:?})",
                self.pending
            ));
        }
        self.set_fate(order, fate);
    }

    fn set_fate(&mut self, order: u32, fate: Fate) {
        self.fates[order as usize] = fate;
        if fate == Fate::Pending {
            self.pending.insert(order);
        } else {
            self.pending.remove(&order);
        }
    }

    /// The order of an accepted message.
    fn order_of(&self, payload: &Payload) -> Option<u32> {
        self.accepted.get(&message_id(payload)?).copied()
    }

    fn take_undelivered(&mut self) {
        let undelivered = self.conn.take_undelivered();
        trace!("take_undelivered() = {undelivered:?}");
        for payload in undelivered {
            let Some(order) = self.order_of(&payload) else {
                self.fail(&format!(
                    "invariant 4: take_undelivered gave {payload:?}, which send never accepted"
                ))
            };
            self.leave(
                order,
                Fate::Undelivered,
                format_args!("given back by take_undelivered"),
            );
        }
    }

    fn check(&mut self) {
        let conn = &self.conn;
        if conn.is_finished() && !conn.is_closed() {
            self.fail("invariant 6: finished but not closed");
        }
        if conn.is_finished() && self.disconnects != 1 {
            self.fail(&format!(
                "invariant 3: finished with {} Disconnected events",
                self.disconnects
            ));
        }
        if let Some(reason) = &self.disconnected {
            if !conn.is_finished() {
                self.fail("invariant 3: Disconnected given but not finished");
            }
            if conn.disconnect_reason() != Some(reason) {
                self.fail(&format!(
                    "invariant 3: Disconnected({reason:?}) but disconnect_reason() is {:?}",
                    conn.disconnect_reason()
                ));
            }
        }
        let bound = self.accounts[0].outstanding + self.accounts[1].outstanding + self.held;
        if conn.unwritten() > bound {
            self.fail(&format!(
                "invariant 5: unwritten() is {} but only {bound} B were transmitted and not \
                 reported written, or held ({:?}, held {})",
                conn.unwritten(),
                self.accounts,
                self.held
            ));
        }
        if conn.is_finished() && conn.unwritten() != 0 {
            self.fail(&format!(
                "invariant 5: finished with unwritten() = {}",
                conn.unwritten()
            ));
        }
    }

    /// Counts the state reached by a step of kind `step` (see `STATES`).
    fn mark_state(&self, step: usize) {
        let conn = &self.conn;
        let bits = [
            conn.is_closed(),
            conn.is_finished(),
            conn.transport() == TransportKind::WebSocket,
            conn.is_probing(),
            self.probe_connecting,
            self.pause == Pause::Requested,
            self.pause == Pause::Paused,
            self.transports[POLLING].takes_packets(),
            self.transports[WEBSOCKET].takes_packets(),
            !self.pending.is_empty(),
            self.transports[POLLING]
                .queue
                .iter()
                .any(|p| matches!(p, Packet::Message(_))),
            self.held > 0,
            self.version == ProtocolVersion::V3,
        ];
        let state = bits
            .iter()
            .enumerate()
            .fold(0, |acc, (i, bit)| acc | usize::from(*bit) << i);
        let counter = &STATES[(step << bits.len() | state) % STATE_COUNTERS];
        counter.store(
            counter.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }

    fn handle_written(&mut self, kind: TransportKind, bytes: usize) {
        trace!("handle_written({kind:?}, {bytes})");
        self.conn.handle_written(kind, bytes);
        let account = &mut self.accounts[index(kind)];
        account.outstanding = account.outstanding.saturating_sub(bytes);
    }

    fn run(&mut self, step: &Step) {
        use TransportKind::{Polling, WebSocket};
        let strict = self.strict;
        match step {
            Step::Packet(kind, packet) => {
                let kind = kind.get();
                if strict {
                    let allowed = if kind == Polling {
                        // A poll in flight may still answer while the pause is requested.
                        self.model(Polling).takes_packets() && self.pause != Pause::Paused
                    } else {
                        self.model(kind).live()
                    };
                    if !allowed {
                        return;
                    }
                }
                let packet = match packet {
                    ServerPacket::Text(text) => Packet::text(text.as_str()),
                    ServerPacket::Binary(data) => Packet::binary(data.clone()),
                    // A v4 payload is cut at record separators: a ping over it has none.
                    ServerPacket::Ping(data)
                        if strict && kind == Polling && self.version == ProtocolVersion::V4 =>
                    {
                        Packet::Ping(data.replace('\x1e', "").into())
                    }
                    ServerPacket::Ping(data) => Packet::Ping(data.as_str().into()),
                    ServerPacket::PingProbe => Packet::probe(),
                    ServerPacket::Pong(data) => Packet::Pong(data.as_str().into()),
                    ServerPacket::PongProbe => Packet::Pong(PROBE.into()),
                    ServerPacket::Close => Packet::Close,
                    ServerPacket::Noop => Packet::Noop,
                    ServerPacket::Upgrade => Packet::Upgrade,
                    ServerPacket::Open => Packet::Open(Box::new(self.conn.handshake().clone())),
                };
                // Only v4 answers a server's ping.
                let pong = match &packet {
                    Packet::Ping(data) if self.version == ProtocolVersion::V4 => {
                        Some(Packet::Pong(data.clone()))
                    }
                    _ => None,
                };
                let answers = !self.conn.is_closed() && kind == self.conn.transport();
                trace!("handle_packet({kind:?}, {packet:?})");
                self.conn.handle_packet(kind, packet);
                self.drain();
                if let (Some(pong), true) = (pong, answers) {
                    if !self.transmitted.iter().any(|(_, p)| *p == pong) {
                        self.held += wire_len_for(self.version, WebSocket, &pong);
                    }
                }
            }
            Step::End(kind, end) => {
                let kind = kind.get();
                let end = end.get();
                let transport = self.model(kind);
                if kind == WebSocket && self.probe_connecting && !transport.exists {
                    // The probe socket could not connect.
                    if strict && !matches!(end, TransportEnd::Error(_)) {
                        return;
                    }
                    self.probe_connecting = false;
                } else if strict {
                    if !transport.live() {
                        return;
                    }
                    // A closing polling transport reports nothing but its close done;
                    // only the session closes a transport.
                    let closed = end == TransportEnd::Closed;
                    if kind == Polling && closed != transport.closing {
                        return;
                    }
                }
                let transport = self.transport(kind);
                if transport.exists {
                    transport.gone = true;
                    transport.queue.clear();
                }
                trace!("handle_transport_end({kind:?}, {end:?})");
                self.conn.handle_transport_end(kind, end);
                self.drain();
            }
            Step::Flush(kind, count) => {
                let kind = kind.get();
                let paused = self.pause == Pause::Paused;
                let version = self.version;
                let transport = self.transport(kind);
                if strict
                    && (!transport.live() || (kind == Polling && paused && !transport.closing))
                {
                    return;
                }
                let count = usize::from(*count).min(transport.queue.len());
                let bytes = transport
                    .queue
                    .drain(..count)
                    .map(|packet| wire_len_for(version, kind, &packet))
                    .sum();
                // A closing polling transport reports nothing but its end.
                let reports = !strict || kind == WebSocket || !transport.closing;
                if reports {
                    self.handle_written(kind, bytes);
                    self.drain();
                }
            }
            Step::Written(kind, bytes) => {
                let kind = kind.get();
                if strict && !self.transport(kind).live() {
                    return;
                }
                self.handle_written(kind, usize::from(*bytes));
                self.drain();
            }
            Step::PollingPaused(junk) => {
                if strict
                    && !(self.transports[POLLING].takes_packets() && self.pause == Pause::Requested)
                {
                    return;
                }
                let mut unsent: Vec<Packet> = self.transports[POLLING].queue.drain(..).collect();
                if !strict {
                    for (at, junk) in junk {
                        let packet = match junk {
                            Junk::Noop => Packet::Noop,
                            Junk::Pong => Packet::Pong("j".into()),
                            Junk::Ping => Packet::Ping("j".into()),
                        };
                        let at = usize::from(*at).min(unsent.len());
                        unsent.insert(at, packet);
                    }
                }
                if self.transports[POLLING].takes_packets() && self.pause == Pause::Requested {
                    self.pause = Pause::Paused;
                }
                // What is handed back was never written: pending again.
                for packet in &unsent {
                    if let Packet::Message(payload) = packet {
                        let order = self
                            .order_of(payload)
                            .expect("the model queues accepted ones");
                        let fate = self.fates[order as usize];
                        assert_eq!(fate, Fate::Out, "harness: #{order} queued but not out");
                        self.set_fate(order, Fate::Pending);
                    }
                }
                self.junk = unsent
                    .iter()
                    .filter(|p| !matches!(p, Packet::Message(_)))
                    .cloned()
                    .collect();
                trace!("handle_polling_paused({unsent:?})");
                self.conn.handle_polling_paused(unsent);
                // Whatever the machine held goes out now, or was given up already.
                self.held = 0;
                self.drain();
                self.junk.clear();
            }
            Step::ProbeOpened => {
                if strict {
                    if !self.probe_connecting {
                        return;
                    }
                    self.probe_connecting = false;
                    if !self.conn.keeps_probe_socket() {
                        // Too late: the session drops the socket.
                        return;
                    }
                }
                self.transports[WEBSOCKET] = Transport::open();
                trace!("handle_probe_opened()");
                self.conn.handle_probe_opened();
                self.drain();
            }
            Step::ProbeGrace | Step::ProbeTimeout => {
                let (timer, i) = match step {
                    Step::ProbeGrace => (Timer::ProbeGrace, 0),
                    _ => (Timer::ProbeTimeout, 1),
                };
                if strict && !self.timers[i] {
                    return;
                }
                self.timers[i] = false;
                trace!("handle_timer({timer:?})");
                self.conn.handle_timer(timer);
                self.drain();
            }
            // In v4 the timer step fires the watch for the server's first ping.
            Step::PingTimer if self.version == ProtocolVersion::V4 => {
                if strict && !self.timers[3] {
                    return;
                }
                self.timers[3] = false;
                trace!("handle_timer(FirstPingDue)");
                self.conn.handle_timer(Timer::FirstPingDue);
                self.drain();
            }
            Step::PingTimer => {
                if strict && !self.timers[2] {
                    return;
                }
                self.timers[2] = false;
                let awaited = !self.conn.is_closed();
                trace!("handle_timer(Ping)");
                self.conn.handle_timer(Timer::Ping);
                self.drain();
                // A ping queued during the upgrade pause is held (the machine armed the
                // heartbeat for it and transmitted nothing): an upper bound of it.
                let ping = Packet::Ping("".into());
                if awaited
                    && self.version == ProtocolVersion::V3
                    && !self.transmitted.iter().any(|(_, p)| *p == ping)
                {
                    self.held += wire_len_for(self.version, WebSocket, &ping);
                }
            }
            Step::PingTimeout => {
                // The heartbeat is disarmed once the session is over.
                if strict && self.conn.is_finished() {
                    return;
                }
                trace!("handle_ping_timeout()");
                self.conn.handle_ping_timeout();
                self.drain();
            }
            Step::Send(message) => self.send(message),
            Step::Close => {
                if self.closed_at.is_none() {
                    self.closed_at = Some(self.fates.len() as u32);
                }
                trace!("close()");
                self.conn.close();
                self.drain();
            }
            Step::Abort => {
                trace!("abort()");
                self.conn.abort();
                self.drain();
            }
            Step::TakeUndelivered => self.take_undelivered(),
        }
    }

    fn send(&mut self, message: &Message) {
        let id = self.next_id;
        self.next_id += 1;
        let payload = match message {
            Message::Text(filler) => {
                let end = filler
                    .char_indices()
                    .map(|(i, _)| i)
                    .nth(MAX_FILLER)
                    .unwrap_or(filler.len());
                Payload::Text(format!("{id}:{}", &filler[..end]).into())
            }
            Message::Binary(filler) => {
                let mut data = id.to_le_bytes().to_vec();
                data.extend(filler.iter().take(MAX_FILLER));
                Payload::Binary(Bytes::from(data))
            }
        };
        let closed = self.conn.is_closed();
        let active = self.conn.transport();
        let result = self.conn.send(payload.clone());
        trace!("send({payload:?}) = {result:?}");
        if (closed || self.closed_at.is_some()) && result != Err(SendError::Closed) {
            self.fail(&format!(
                "invariant 2: send after close gave {result:?}, not Err(Closed)"
            ));
        }
        let packet = Packet::Message(payload.clone());
        match result {
            Ok(()) => {
                let order = self.fates.len() as u32;
                self.accepted.insert(id, order);
                self.fates.push(Fate::Pending);
                self.pending.insert(order);
            }
            Err(SendError::Closed) if closed => {}
            Err(SendError::TooLarge { size, max_payload })
                if size == wire_len_for(self.version, active, &packet)
                    && max_payload == self.max_payload
                    && size > max_payload => {}
            Err(SendError::RecordSeparator)
                if active == TransportKind::Polling
                    && !can_carry_for(self.version, active, &packet) => {}
            other => self.fail(&format!("send({payload:?}) over {active} gave {other:?}")),
        }
        self.drain();
        if result.is_ok() && !self.transmitted.iter().any(|(_, p)| *p == packet) {
            self.held += wire_len_for(self.version, TransportKind::WebSocket, &packet);
        }
    }
}

fuzz_target!(|input: Input| {
    let max_payload = input.max_payload.map_or(1_000_000, u64::from);
    let handshake = Handshake {
        sid: "s".into(),
        upgrades: if input.offers_websocket {
            vec!["websocket".into()]
        } else {
            Vec::new()
        },
        ping_interval: Duration::from_millis(input.ping_interval.max(1)),
        ping_timeout: Duration::from_millis(input.ping_timeout.max(1)),
        max_payload,
        max_payload_announced: input.max_payload.is_some(),
    };
    let open_on = input.open_on.get();
    let version = if input.v3 {
        ProtocolVersion::V3
    } else {
        ProtocolVersion::V4
    };
    trace!(
        "Connection::with_version({handshake:?}, {open_on:?}, {}, {version:?})",
        input.upgrade
    );
    let mut harness = Harness {
        conn: Connection::with_version(handshake, open_on, input.upgrade, version),
        version,
        strict: input.strict,
        max_payload: usize::try_from(max_payload).unwrap_or(usize::MAX),
        transports: [TransportKind::Polling, TransportKind::WebSocket].map(|kind| {
            if kind == open_on {
                Transport::open()
            } else {
                Transport::default()
            }
        }),
        accounts: [Account::default(); 2],
        pause: Pause::Off,
        probe_connecting: false,
        timers: [false; 4],
        next_id: 0,
        accepted: HashMap::new(),
        fates: Vec::new(),
        pending: BTreeSet::new(),
        closed_at: None,
        disconnected: None,
        disconnects: 0,
        held: 0,
        transmitted: Vec::new(),
        junk: Vec::new(),
        step: 0,
    };
    harness.drain();
    harness.check();
    for (i, step) in input.steps.iter().take(MAX_STEPS).enumerate() {
        harness.step = i + 1;
        harness.transmitted.clear();
        harness.run(step);
        harness.check();
        harness.mark_state(step.kind());
    }
    if harness.conn.is_finished() {
        harness.step += 1;
        harness.take_undelivered();
        if !harness.pending.is_empty() {
            harness.fail(&format!(
                "invariant 4: the session finished, yet messages {:?} were neither \
                 transmitted nor given back by take_undelivered",
                harness.pending
            ));
        }
    }
});
