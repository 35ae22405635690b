//! The session state machine: what to send, deliver and start for each thing that
//! happens to a session, with no I/O and no clock.
//!
//! The session actor feeds it inputs (`handle_*`, [`Connection::send`],
//! [`Connection::close`]) and carries out the [`Output`]s it queues, in order.
//! Everything about heartbeats, the upgrade (the "Heartbeat" and "Upgrade" sections
//! of the Engine.IO v4 protocol) and close reasons is decided here, so it is tested
//! without a network.

use std::collections::VecDeque;
use std::time::Duration;

use thiserror::Error;

use super::{
    frame, polling, DisconnectReason, Handshake, Packet, Payload, TransportEnd, TransportError,
    TransportKind, UpgradeError,
};

/// How long the probe may take before polling starts receiving anyway. Longer
/// probes still complete, through the pause that waits for the poll to return.
///
/// Until then no poll is in flight, so a quick probe completes without waiting for a
/// poll to return.
///
/// ```
/// use actix_engineio::protocol::{Connection, Handshake, Output, Timer, TransportKind, PROBE_GRACE};
///
/// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
/// let mut conn = Connection::new(handshake, TransportKind::Polling, true);
/// let outputs: Vec<Output> = std::iter::from_fn(|| conn.poll_output()).collect();
/// assert!(outputs.contains(&Output::StartTimer(Timer::ProbeGrace, PROBE_GRACE)));
/// assert!(!outputs.contains(&Output::ResumePolling)); // not yet
/// ```
pub const PROBE_GRACE: Duration = Duration::from_secs(1);

/// How long the server may take to answer the probe (opening the websocket
/// included): the default `upgradeTimeout` of Node's engine.io, after which the server
/// gives up on the probe too.
///
/// ```
/// use std::time::Duration;
/// use actix_engineio::protocol::PROBE_TIMEOUT;
///
/// assert_eq!(PROBE_TIMEOUT, Duration::from_secs(10));
/// ```
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Something the session must do or tell, in the order [`Connection::poll_output`] gives it.
///
/// An I/O layer carries out every output after each input it feeds the [`Connection`]:
///
/// ```
/// use actix_engineio::protocol::{Connection, Handshake, Output, TransportKind};
///
/// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
/// let mut conn = Connection::new(handshake, TransportKind::Polling, false);
/// while let Some(output) = conn.poll_output() {
///     match output {
///         Output::Event(event) => println!("tell subscribers: {event:?}"),
///         Output::Transmit(transport, packet) => println!("send {packet} on {transport}"),
///         Output::ArmHeartbeat(deadline) => println!("expect a ping within {deadline:?}"),
///         Output::ResumePolling => println!("start polling"),
///         other => println!("{other:?}"),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Tell subscribers.
    Event(Event),
    /// Send a packet on a transport (polling batches what it is given).
    Transmit(TransportKind, Packet),
    /// (Re)start the heartbeat deadline.
    ArmHeartbeat(Duration),
    /// Open a websocket for this session's sid, to probe it.
    OpenProbe,
    /// Call [`Connection::handle_timer`] with this timer after the duration.
    StartTimer(Timer, Duration),
    /// Start the polling receive loop, or resume polling after a pause.
    ResumePolling,
    /// Stop issuing polling requests; once none is in flight, report
    /// [`Connection::handle_polling_paused`] with the packets not yet sent.
    PausePolling,
    /// Send what the transport has queued, then stop it for good.
    CloseTransport(TransportKind),
}

/// What subscribers of a session learn: the [`Output::Event`]s of a [`Connection`],
/// which the session actor publishes as [`Connect`](crate::Connect),
/// [`Message`](crate::Message), [`Upgrade`](crate::Upgrade) and
/// [`Disconnect`](crate::Disconnect).
///
/// ```
/// use actix_engineio::protocol::{Connection, Event, Handshake, Output, Packet, TransportKind};
/// use actix_engineio::DisconnectReason;
///
/// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
/// let mut conn = Connection::new(handshake, TransportKind::WebSocket, false);
/// while conn.poll_output().is_some() {}
/// conn.handle_packet(TransportKind::WebSocket, Packet::text("bye"));
/// conn.handle_packet(TransportKind::WebSocket, Packet::Close);
/// let events: Vec<Event> = std::iter::from_fn(|| conn.poll_output())
///     .filter_map(|output| match output { Output::Event(event) => Some(event), _ => None })
///     .collect();
/// assert_eq!(events, [Event::Message("bye".into()), Event::Disconnected(DisconnectReason::ServerDisconnect)]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The session is open.
    Connected {
        /// The session id.
        sid: String,
        /// The transport the session was opened on.
        transport: TransportKind,
    },
    /// A message arrived.
    Message(Payload),
    /// The session now runs on websocket.
    Upgraded,
    /// The upgrade did not happen; the session goes on over polling.
    UpgradeFailed(UpgradeError),
    /// The session is over. Always the last event, and given once.
    Disconnected(DisconnectReason),
}

/// Timers the session runs for the state machine: started by [`Output::StartTimer`],
/// reported with [`Connection::handle_timer`].
///
/// ```
/// use actix_engineio::protocol::{Connection, Event, Handshake, Output, Timer, TransportKind};
/// use actix_engineio::UpgradeError;
///
/// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
/// let mut conn = Connection::new(handshake, TransportKind::Polling, true);
/// while conn.poll_output().is_some() {}
/// conn.handle_timer(Timer::ProbeTimeout); // the server never answered `2probe`
/// let outputs: Vec<Output> = std::iter::from_fn(|| conn.poll_output()).collect();
/// assert!(outputs.contains(&Output::Event(Event::UpgradeFailed(UpgradeError::Timeout))));
/// assert!(outputs.contains(&Output::ResumePolling));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// [`PROBE_GRACE`] has passed since the probe started.
    ProbeGrace,
    /// [`PROBE_TIMEOUT`] has passed since the probe started.
    ProbeTimeout,
}

/// Why a message was not accepted for sending. Nothing is dropped silently: each
/// refusal is one of these, the answer to [`Send`](crate::Send).
///
/// ```
/// use actix::{Addr, MailboxError};
/// use actix_engineio::{Send, SendError, Session};
///
/// async fn send_report(session: &Addr<Session>, report: Vec<u8>) -> Result<(), MailboxError> {
///     match session.send(Send::binary(report)).await? {
///         Ok(()) => {}
///         Err(SendError::TooLarge { size, max_payload }) => {
///             eprintln!("{size} bytes is too much for the server ({max_payload}): split it");
///         }
///         Err(err) => eprintln!("not sent: {err}"),
///     }
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SendError {
    /// The session is not connected yet.
    #[error("session is not connected")]
    NotConnected,
    /// The session is over.
    #[error("session is closed")]
    Closed,
    /// The encoded message is larger than the server's `maxPayload`.
    #[error("message of {size} bytes exceeds the server's maxPayload of {max_payload}")]
    TooLarge {
        /// Encoded size on the current transport.
        size: usize,
        /// The server's limit.
        max_payload: usize,
    },
    /// A text containing `\x1e` cannot travel in a polling payload.
    #[error("text containing the record separator \\x1e cannot be sent over polling")]
    RecordSeparator,
}

/// Where the upgrade to websocket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upgrade {
    /// Not offered, not wanted, or the session started on websocket.
    Off,
    /// The probe websocket is being opened; `2probe` is sent once it is.
    Probing,
    /// `3probe` arrived; polling is pausing. `broken` when the websocket died since.
    Pausing { broken: bool },
    /// The session runs on websocket.
    Done,
    /// The probe failed; the session stays on polling.
    Failed,
}

/// The state of one Engine.IO session, from handshake to disconnect.
///
/// A sans-IO core: it takes inputs (a packet arrived, a transport ended, a timer
/// fired, the application sends or closes) and queues [`Output`]s (send this packet
/// on that transport, tell subscribers this, pause polling), which
/// [`poll_output`](Connection::poll_output) hands to the I/O layer in order. It never
/// blocks, reads a clock or panics on a server's input.
///
/// Answering the server's heartbeat:
///
/// ```
/// use actix_engineio::protocol::{Connection, Event, Handshake, Output, Packet, TransportKind};
///
/// let hs = Handshake::parse(r#"{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
/// let mut conn = Connection::new(hs, TransportKind::WebSocket, false);
/// conn.handle_packet(TransportKind::WebSocket, Packet::Ping("".into()));
/// let outputs: Vec<Output> = std::iter::from_fn(|| conn.poll_output()).collect();
/// assert!(outputs.contains(&Output::Transmit(TransportKind::WebSocket, Packet::Pong("".into()))));
/// ```
///
/// Upgrading a polling session to websocket, as an I/O layer drives it: after each
/// input, it carries out the outputs queued so far.
///
/// ```
/// use std::time::Duration;
/// use actix_engineio::protocol::TransportKind::{Polling, WebSocket};
/// use actix_engineio::protocol::{Connection, Event, Handshake, Output, Packet, Timer};
/// use actix_engineio::protocol::{PROBE_GRACE, PROBE_TIMEOUT};
///
/// fn outputs(conn: &mut Connection) -> Vec<Output> {
///     std::iter::from_fn(|| conn.poll_output()).collect()
/// }
///
/// let hs = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
/// let mut conn = Connection::new(hs, Polling, true);
/// assert_eq!(outputs(&mut conn), [
///     Output::Event(Event::Connected { sid: "s".into(), transport: Polling }),
///     Output::ArmHeartbeat(Duration::from_secs(45)),
///     Output::OpenProbe, // before any poll is in flight
///     Output::StartTimer(Timer::ProbeGrace, PROBE_GRACE),
///     Output::StartTimer(Timer::ProbeTimeout, PROBE_TIMEOUT),
/// ]);
///
/// // The I/O layer opened a websocket for sid "s".
/// conn.handle_probe_opened();
/// assert_eq!(outputs(&mut conn), [Output::Transmit(WebSocket, Packet::probe())]); // 2probe
///
/// // The server answers 3probe: polling must stop before the switch.
/// conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
/// assert_eq!(outputs(&mut conn), [Output::PausePolling]);
/// conn.send("hello".into()).unwrap(); // held until the switch
/// assert_eq!(outputs(&mut conn), []);
///
/// // No request is in flight any more, and polling had nothing left unsent.
/// conn.handle_polling_paused(vec![]);
/// assert_eq!(outputs(&mut conn), [
///     Output::Transmit(WebSocket, Packet::Upgrade), // 5
///     Output::Transmit(WebSocket, Packet::text("hello")),
///     Output::CloseTransport(Polling),
///     Output::Event(Event::Upgraded),
/// ]);
/// assert_eq!(conn.transport(), WebSocket);
/// ```
#[derive(Debug)]
pub struct Connection {
    handshake: Handshake,
    active: TransportKind,
    upgrade: Upgrade,
    /// Whether the polling receive loop has been started.
    polling_started: bool,
    /// Packets held while polling pauses; they go out after `5`, or over polling again.
    held: Vec<Packet>,
    /// Bytes of `held`, counted as unwritten so senders wait during a long pause too.
    held_bytes: usize,
    /// The session is over for its user: no more events, no more sends.
    closed: bool,
    /// The application closed the session while polling was pausing: the close packet
    /// goes out after what polling hands back, once it does. The session is finished
    /// when it is closed and this is no longer pending.
    close_after_pause: bool,
    outputs: VecDeque<Output>,
    /// Bytes handed to each transport and not yet reported written, for backpressure.
    unwritten: Unwritten,
}

/// Bytes handed to a transport and not yet written, per transport.
#[derive(Debug, Default, Clone, Copy)]
struct Unwritten {
    polling: usize,
    websocket: usize,
}

impl Unwritten {
    fn of(&mut self, transport: TransportKind) -> &mut usize {
        match transport {
            TransportKind::Polling => &mut self.polling,
            TransportKind::WebSocket => &mut self.websocket,
        }
    }
}

/// Size of `packet` as `transport` carries it: what the transport reports written.
///
/// ```
/// use actix_engineio::protocol::{wire_len, Packet, TransportKind};
///
/// let packet = Packet::binary(vec![1, 2, 3]);
/// assert_eq!(wire_len(TransportKind::WebSocket, &packet), 3); // as it is
/// assert_eq!(wire_len(TransportKind::Polling, &packet), 5); // "bAQID"
/// ```
pub fn wire_len(transport: TransportKind, packet: &Packet) -> usize {
    match transport {
        TransportKind::Polling => polling::encoded_len(packet),
        TransportKind::WebSocket => frame::encoded_len(packet),
    }
}

impl Connection {
    /// A session that has just received `handshake` over `transport`.
    ///
    /// With `upgrade`, a polling session whose server offers websocket starts
    /// probing at once, before any poll is in flight; otherwise it starts polling.
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_engineio::protocol::{Connection, Event, Handshake, Output, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::Polling, false);
    /// let outputs: Vec<Output> = std::iter::from_fn(|| conn.poll_output()).collect();
    /// assert_eq!(outputs, [
    ///     Output::Event(Event::Connected { sid: "s".into(), transport: TransportKind::Polling }),
    ///     Output::ArmHeartbeat(Duration::from_secs(45)),
    ///     Output::ResumePolling,
    /// ]);
    /// ```
    pub fn new(handshake: Handshake, transport: TransportKind, upgrade: bool) -> Self {
        let mut conn = Connection {
            active: transport,
            upgrade: Upgrade::Off,
            polling_started: false,
            held: Vec::new(),
            held_bytes: 0,
            closed: false,
            close_after_pause: false,
            outputs: VecDeque::new(),
            unwritten: Unwritten::default(),
            handshake,
        };
        conn.emit(Event::Connected {
            sid: conn.handshake.sid.clone(),
            transport,
        });
        conn.outputs
            .push_back(Output::ArmHeartbeat(conn.handshake.heartbeat_deadline()));
        if transport == TransportKind::Polling {
            if upgrade && conn.handshake.allows_websocket_upgrade() {
                conn.start_probe();
            } else {
                conn.start_polling();
            }
        }
        conn
    }

    /// The handshake the session was opened with.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let conn = Connection::new(handshake, TransportKind::WebSocket, false);
    /// assert_eq!(conn.handshake().sid, "s");
    /// ```
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// The transport the session's packets go over now: the one it opened on, until an
    /// upgrade completes.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let conn = Connection::new(handshake, TransportKind::Polling, true);
    /// assert_eq!(conn.transport(), TransportKind::Polling); // probing, not yet upgraded
    /// ```
    pub fn transport(&self) -> TransportKind {
        self.active
    }

    /// Whether the session is over for its user: it publishes and accepts nothing more.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, SendError, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::WebSocket, false);
    /// conn.handle_ping_timeout();
    /// assert!(conn.is_closed());
    /// assert_eq!(conn.send("late".into()), Err(SendError::Closed));
    /// ```
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Whether nothing is left to do: the session can stop once the outputs are
    /// carried out. Later than [`Connection::is_closed`] only when the application
    /// closed the session during the upgrade pause, whose end it waits for.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, Packet, TransportKind::*};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, Polling, true);
    /// conn.handle_probe_opened();
    /// conn.handle_packet(WebSocket, Packet::Pong("probe".into())); // polling is pausing
    /// conn.close();
    /// assert!(conn.is_closed() && !conn.is_finished());
    /// conn.handle_polling_paused(vec![]); // now `1` can go out over polling, last
    /// assert!(conn.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.closed && !self.close_after_pause
    }

    /// Bytes handed to transports and not yet written to the network: what a sender
    /// waits on when it wants backpressure. Counted as [`wire_len`] counts them, and
    /// including messages held during the upgrade pause.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::Polling, false);
    /// conn.send(vec![1, 2, 3].into()).unwrap();
    /// assert_eq!(conn.unwritten(), 5); // "bAQID" over polling
    /// ```
    pub fn unwritten(&self) -> usize {
        self.unwritten.polling + self.unwritten.websocket + self.held_bytes
    }

    /// `transport` wrote `bytes` (as [`wire_len`] counts them) to the network.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::WebSocket, false);
    /// conn.send("hello".into()).unwrap();
    /// assert_eq!(conn.unwritten(), 6); // "4hello"
    /// conn.handle_written(TransportKind::WebSocket, 6);
    /// assert_eq!(conn.unwritten(), 0);
    /// ```
    pub fn handle_written(&mut self, transport: TransportKind, bytes: usize) {
        let unwritten = self.unwritten.of(transport);
        *unwritten = unwritten.saturating_sub(bytes);
    }

    /// Whether a probe websocket is wanted now: one that opens later is not used
    /// (the I/O layer drops it instead of calling [`Connection::handle_probe_opened`]).
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, Timer, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::Polling, true);
    /// assert!(conn.is_probing());
    /// conn.handle_timer(Timer::ProbeTimeout);
    /// assert!(!conn.is_probing());
    /// ```
    pub fn is_probing(&self) -> bool {
        !self.closed && self.upgrade == Upgrade::Probing
    }

    /// The next thing to do, if any. Outputs come in the order they must be carried
    /// out; call it until `None` after every input.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Event, Handshake, Output, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::WebSocket, false);
    /// assert!(matches!(conn.poll_output(), Some(Output::Event(Event::Connected { .. }))));
    /// assert!(matches!(conn.poll_output(), Some(Output::ArmHeartbeat(_))));
    /// assert_eq!(conn.poll_output(), None);
    /// ```
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// A packet arrived on `from`. On the active transport it belongs to the session.
    /// On the probe websocket it answers `2probe`: `3probe` starts the switch, a noop
    /// is ignored, anything else fails the upgrade. Elsewhere (a late poll after the
    /// upgrade) it is ignored.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Event, Handshake, Output, Packet, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::WebSocket, false);
    /// while conn.poll_output().is_some() {}
    /// conn.handle_packet(TransportKind::WebSocket, Packet::text("hi"));
    /// assert_eq!(conn.poll_output(), Some(Output::Event(Event::Message("hi".into()))));
    /// ```
    pub fn handle_packet(&mut self, from: TransportKind, packet: Packet) {
        if self.closed {
            return;
        }
        if from != self.active {
            self.handle_probe_packet(from, packet);
            return;
        }
        match packet {
            Packet::Message(payload) => self.emit(Event::Message(payload)),
            Packet::Ping(data) => {
                self.queue(Packet::Pong(data));
                let deadline = self.handshake.heartbeat_deadline();
                self.outputs.push_back(Output::ArmHeartbeat(deadline));
            }
            Packet::Close => self.finish(DisconnectReason::ServerDisconnect),
            // Nothing to do for a noop; open, pong and upgrade never come from a v4
            // server after the handshake, and ignoring them is harmless.
            Packet::Noop | Packet::Open(_) | Packet::Pong(_) | Packet::Upgrade => {}
        }
    }

    /// A packet arrived on the probe websocket, which is not yet the active transport.
    fn handle_probe_packet(&mut self, from: TransportKind, packet: Packet) {
        if from != TransportKind::WebSocket || self.upgrade != Upgrade::Probing {
            return;
        }
        match packet {
            answer if answer.is_probe_answer() => {
                self.upgrade = Upgrade::Pausing { broken: false };
                self.outputs.push_back(Output::PausePolling);
            }
            Packet::Noop => {}
            other => {
                let answer = other
                    .encode_text()
                    .unwrap_or_else(|| "binary message".into());
                self.fail_upgrade(UpgradeError::UnexpectedAnswer(answer));
            }
        }
    }

    /// The probe websocket is open: send `2probe` on it.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, Output, Packet, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::Polling, true);
    /// while conn.poll_output().is_some() {}
    /// conn.handle_probe_opened();
    /// assert_eq!(conn.poll_output(), Some(Output::Transmit(TransportKind::WebSocket, Packet::probe())));
    /// ```
    pub fn handle_probe_opened(&mut self) {
        if !self.closed && self.upgrade == Upgrade::Probing {
            self.transmit(TransportKind::WebSocket, Packet::probe());
        }
    }

    /// Polling has paused for the upgrade; `unsent` are the packets it had queued but
    /// not sent, in order. They go out over websocket right after `5`, before anything
    /// sent during the pause; if the websocket broke meanwhile, over polling again.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, Output, Packet, TransportKind::*};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, Polling, true);
    /// conn.handle_probe_opened();
    /// conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
    /// while conn.poll_output().is_some() {}
    /// conn.handle_polling_paused(vec![Packet::text("unsent")]);
    /// assert_eq!(conn.poll_output(), Some(Output::Transmit(WebSocket, Packet::Upgrade)));
    /// assert_eq!(conn.poll_output(), Some(Output::Transmit(WebSocket, Packet::text("unsent"))));
    /// ```
    pub fn handle_polling_paused(&mut self, unsent: Vec<Packet>) {
        if self.is_finished() {
            return;
        }
        // What polling hands back was never written; it is counted again where it goes.
        self.unwritten.polling = 0;
        self.held_bytes = 0;
        let mut pending = unsent;
        pending.append(&mut self.held);
        if self.close_after_pause {
            pending.push(Packet::Close);
            self.resend_over_polling(pending);
            self.outputs
                .push_back(Output::CloseTransport(TransportKind::Polling));
            self.close_after_pause = false;
            return;
        }
        match self.upgrade {
            Upgrade::Pausing { broken: false } => {
                self.active = TransportKind::WebSocket;
                self.upgrade = Upgrade::Done;
                self.transmit(TransportKind::WebSocket, Packet::Upgrade);
                for packet in pending {
                    self.transmit(TransportKind::WebSocket, packet);
                }
                self.outputs
                    .push_back(Output::CloseTransport(TransportKind::Polling));
                self.emit(Event::Upgraded);
            }
            _ => {
                self.upgrade = Upgrade::Failed;
                self.resend_over_polling(pending);
                self.polling_started = true;
                self.outputs.push_back(Output::ResumePolling);
            }
        }
    }

    fn resend_over_polling(&mut self, packets: Vec<Packet>) {
        for packet in packets {
            self.transmit(TransportKind::Polling, packet);
        }
    }

    /// A transport stopped. The active one ends the session; the probe websocket only
    /// ends the upgrade, and the session goes on over polling.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Event, Handshake, Output, TransportEnd, TransportKind};
    /// use actix_engineio::{TransportError, UpgradeError};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::Polling, true);
    /// while conn.poll_output().is_some() {}
    /// let refused = TransportError::Connect("connection refused".into());
    /// conn.handle_transport_end(TransportKind::WebSocket, TransportEnd::Error(refused.clone()));
    /// let outputs: Vec<Output> = std::iter::from_fn(|| conn.poll_output()).collect();
    /// assert!(outputs.contains(&Output::Event(Event::UpgradeFailed(UpgradeError::Transport(refused)))));
    /// assert!(!conn.is_closed());
    /// ```
    pub fn handle_transport_end(&mut self, which: TransportKind, end: TransportEnd) {
        *self.unwritten.of(which) = 0;
        if self.closed {
            // Polling will not hand anything back anymore.
            if which == TransportKind::Polling {
                self.close_after_pause = false;
            }
            return;
        }
        if which == self.active {
            self.finish(match end {
                TransportEnd::ServerClosed => DisconnectReason::ServerDisconnect,
                TransportEnd::Error(cause) => DisconnectReason::TransportError(cause),
            });
            return;
        }
        if which == TransportKind::WebSocket {
            let cause = match end {
                TransportEnd::ServerClosed => {
                    TransportError::ConnectionLost("closed during the probe".into())
                }
                TransportEnd::Error(cause) => cause,
            };
            self.fail_upgrade(UpgradeError::Transport(cause));
        }
    }

    /// A timer started by [`Output::StartTimer`] fired. Timers that no longer matter
    /// (the probe succeeded or failed, the session ended) are ignored, so they need not be
    /// cancelled.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, Output, Timer, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::Polling, true);
    /// while conn.poll_output().is_some() {}
    /// conn.handle_timer(Timer::ProbeGrace); // the probe is slow: receive meanwhile
    /// assert_eq!(conn.poll_output(), Some(Output::ResumePolling));
    /// assert!(conn.is_probing());
    /// ```
    pub fn handle_timer(&mut self, timer: Timer) {
        if self.closed || self.upgrade != Upgrade::Probing {
            return;
        }
        match timer {
            Timer::ProbeGrace => self.start_polling(),
            Timer::ProbeTimeout => self.fail_upgrade(UpgradeError::Timeout),
        }
    }

    /// No ping arrived in time (the deadline of the last [`Output::ArmHeartbeat`] passed):
    /// the session is dead.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Event, Handshake, Output, TransportKind};
    /// use actix_engineio::DisconnectReason;
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::WebSocket, false);
    /// conn.handle_ping_timeout();
    /// let last = std::iter::from_fn(|| conn.poll_output()).last();
    /// assert_eq!(last, Some(Output::Event(Event::Disconnected(DisconnectReason::PingTimeout))));
    /// ```
    pub fn handle_ping_timeout(&mut self) {
        if !self.closed {
            self.finish(DisconnectReason::PingTimeout);
        }
    }

    /// Queues an application message on the active transport (or holds it during the
    /// upgrade pause).
    ///
    /// Refused once the session is closed, when its encoding on the active transport is
    /// larger than the server's `maxPayload`, and over polling when it is text holding
    /// the record separator.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, SendError, TransportKind};
    ///
    /// let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000,"maxPayload":100}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::Polling, false);
    /// assert_eq!(conn.send("hello".into()), Ok(()));
    /// assert_eq!(conn.send(vec![0; 75].into()), Err(SendError::TooLarge { size: 101, max_payload: 100 }));
    /// assert_eq!(conn.send("a\x1eb".into()), Err(SendError::RecordSeparator));
    /// ```
    pub fn send(&mut self, payload: Payload) -> Result<(), SendError> {
        if self.closed {
            return Err(SendError::Closed);
        }
        let packet = Packet::Message(payload);
        let over_polling = self.active == TransportKind::Polling;
        let size = wire_len(self.active, &packet);
        let max_payload = self.handshake.max_payload_bytes();
        if size > max_payload {
            return Err(SendError::TooLarge { size, max_payload });
        }
        if over_polling && !polling::can_carry(&packet) {
            return Err(SendError::RecordSeparator);
        }
        self.queue(packet);
        Ok(())
    }

    /// The application closes the session: `1` on the active transport, then close.
    ///
    /// Messages held during an upgrade go out first, over the active transport, once
    /// polling has handed back what it had not sent. Closing twice does nothing.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Event, Handshake, Output, Packet, TransportKind::*};
    /// use actix_engineio::DisconnectReason;
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, WebSocket, false);
    /// while conn.poll_output().is_some() {}
    /// conn.close();
    /// let outputs: Vec<Output> = std::iter::from_fn(|| conn.poll_output()).collect();
    /// assert_eq!(outputs, [
    ///     Output::Transmit(WebSocket, Packet::Close),
    ///     Output::CloseTransport(WebSocket),
    ///     Output::Event(Event::Disconnected(DisconnectReason::ClientDisconnect)),
    /// ]);
    /// ```
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        if matches!(self.upgrade, Upgrade::Pausing { .. }) {
            // Polling may be handing back packets older than the held ones: wait for
            // them, then send everything and the close over polling, in order.
            self.closed = true;
            self.close_after_pause = true;
            self.outputs
                .push_back(Output::CloseTransport(TransportKind::WebSocket));
            self.emit(Event::Disconnected(DisconnectReason::ClientDisconnect));
            return;
        }
        self.transmit(self.active, Packet::Close);
        self.finish(DisconnectReason::ClientDisconnect);
    }

    fn start_probe(&mut self) {
        self.upgrade = Upgrade::Probing;
        self.outputs.push_back(Output::OpenProbe);
        self.outputs
            .push_back(Output::StartTimer(Timer::ProbeGrace, PROBE_GRACE));
        self.outputs
            .push_back(Output::StartTimer(Timer::ProbeTimeout, PROBE_TIMEOUT));
    }

    fn fail_upgrade(&mut self, error: UpgradeError) {
        match self.upgrade {
            Upgrade::Probing => {
                self.upgrade = Upgrade::Failed;
                self.start_polling();
            }
            // Polling is still pausing and will hand back its queue; what was held
            // goes out over polling then, after it, so nothing is reordered.
            Upgrade::Pausing { broken: false } => self.upgrade = Upgrade::Pausing { broken: true },
            _ => return,
        }
        self.unwritten.websocket = 0;
        self.outputs
            .push_back(Output::CloseTransport(TransportKind::WebSocket));
        self.emit(Event::UpgradeFailed(error));
    }

    /// Starts the polling receive loop unless it runs already.
    fn start_polling(&mut self) {
        if !self.polling_started {
            self.polling_started = true;
            self.outputs.push_back(Output::ResumePolling);
        }
    }

    /// Sends on the active transport, or holds the packet while polling pauses.
    fn queue(&mut self, packet: Packet) {
        if matches!(self.upgrade, Upgrade::Pausing { .. }) {
            // Counted as websocket-sized: that is where held packets normally go.
            self.held_bytes += wire_len(TransportKind::WebSocket, &packet);
            self.held.push(packet);
        } else {
            self.transmit(self.active, packet);
        }
    }

    fn transmit(&mut self, transport: TransportKind, packet: Packet) {
        *self.unwritten.of(transport) += wire_len(transport, &packet);
        self.outputs.push_back(Output::Transmit(transport, packet));
    }

    fn emit(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }

    fn finish(&mut self, reason: DisconnectReason) {
        self.closed = true;
        self.held.clear();
        self.held_bytes = 0;
        self.unwritten = Unwritten::default();
        self.outputs.push_back(Output::CloseTransport(self.active));
        if self.upgrade_transport_open() {
            self.outputs
                .push_back(Output::CloseTransport(TransportKind::WebSocket));
        }
        self.emit(Event::Disconnected(reason));
    }

    /// Whether a probe websocket exists beside the active polling transport.
    fn upgrade_transport_open(&self) -> bool {
        self.active == TransportKind::Polling
            && matches!(self.upgrade, Upgrade::Probing | Upgrade::Pausing { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TransportKind::{Polling, WebSocket};

    fn handshake(upgrades: &[&str]) -> Handshake {
        Handshake {
            sid: "sid1".into(),
            upgrades: upgrades.iter().map(|s| s.to_string()).collect(),
            ping_interval: Duration::from_millis(300),
            ping_timeout: Duration::from_millis(200),
            max_payload: 100,
        }
    }

    fn drain(conn: &mut Connection) -> Vec<Output> {
        std::iter::from_fn(|| conn.poll_output()).collect()
    }

    fn events(outputs: &[Output]) -> Vec<Event> {
        outputs
            .iter()
            .filter_map(|o| match o {
                Output::Event(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    fn sent(outputs: &[Output]) -> Vec<(TransportKind, Packet)> {
        outputs
            .iter()
            .filter_map(|o| match o {
                Output::Transmit(t, p) => Some((*t, p.clone())),
                _ => None,
            })
            .collect()
    }

    fn websocket_session() -> Connection {
        let mut conn = Connection::new(handshake(&[]), WebSocket, true);
        drain(&mut conn);
        conn
    }

    /// A polling session whose probe websocket is open and `2probe` sent.
    fn probing_session() -> Connection {
        let mut conn = Connection::new(handshake(&["websocket"]), Polling, true);
        drain(&mut conn);
        conn.handle_probe_opened();
        assert_eq!(sent(&drain(&mut conn)), [(WebSocket, Packet::probe())]);
        conn
    }

    #[test]
    fn websocket_session_opens_and_arms_the_heartbeat() {
        let mut conn = Connection::new(handshake(&[]), WebSocket, true);
        assert_eq!(
            drain(&mut conn),
            [
                Output::Event(Event::Connected {
                    sid: "sid1".into(),
                    transport: WebSocket
                }),
                Output::ArmHeartbeat(Duration::from_millis(500)),
            ]
        );
    }

    #[test]
    fn ping_is_answered_at_once_and_rearms() {
        let mut conn = websocket_session();
        conn.handle_packet(WebSocket, Packet::Ping("x".into()));
        assert_eq!(
            drain(&mut conn),
            [
                Output::Transmit(WebSocket, Packet::Pong("x".into())),
                Output::ArmHeartbeat(Duration::from_millis(500)),
            ]
        );
    }

    #[test]
    fn messages_are_delivered_in_order() {
        let mut conn = websocket_session();
        for text in ["a", "", "c"] {
            conn.handle_packet(WebSocket, Packet::text(text));
        }
        conn.handle_packet(WebSocket, Packet::Noop);
        assert_eq!(
            events(&drain(&mut conn)),
            ["a", "", "c"].map(|t| Event::Message(t.into()))
        );
    }

    #[test]
    fn server_close_packet_ends_the_session_once() {
        let mut conn = websocket_session();
        conn.handle_packet(WebSocket, Packet::Close);
        let out = drain(&mut conn);
        assert!(out.contains(&Output::CloseTransport(WebSocket)));
        assert_eq!(
            events(&out),
            [Event::Disconnected(DisconnectReason::ServerDisconnect)]
        );
        conn.handle_transport_end(WebSocket, TransportEnd::ServerClosed);
        conn.handle_packet(WebSocket, Packet::text("late"));
        conn.handle_ping_timeout();
        assert_eq!(drain(&mut conn), []);
        assert_eq!(conn.send("x".into()), Err(SendError::Closed));
        assert!(conn.is_closed());
    }

    #[test]
    fn close_reasons() {
        let cases = [
            (
                TransportEnd::ServerClosed,
                DisconnectReason::ServerDisconnect,
            ),
            (
                TransportEnd::Error(TransportError::Timeout),
                DisconnectReason::TransportError(TransportError::Timeout),
            ),
        ];
        for (end, reason) in cases {
            let mut conn = websocket_session();
            conn.handle_transport_end(WebSocket, end);
            assert_eq!(events(&drain(&mut conn)), [Event::Disconnected(reason)]);
        }
        let mut conn = websocket_session();
        conn.handle_ping_timeout();
        assert_eq!(
            events(&drain(&mut conn)),
            [Event::Disconnected(DisconnectReason::PingTimeout)]
        );
    }

    #[test]
    fn client_close_sends_close_then_stops() {
        let mut conn = websocket_session();
        conn.close();
        assert_eq!(
            drain(&mut conn),
            [
                Output::Transmit(WebSocket, Packet::Close),
                Output::CloseTransport(WebSocket),
                Output::Event(Event::Disconnected(DisconnectReason::ClientDisconnect)),
            ]
        );
        conn.close();
        assert_eq!(drain(&mut conn), []);
    }

    #[test]
    fn send_checks_max_payload_per_transport() {
        let mut conn = websocket_session();
        assert_eq!(conn.send(vec![0u8; 100].into()), Ok(()));
        assert_eq!(
            conn.send(vec![0u8; 101].into()),
            Err(SendError::TooLarge {
                size: 101,
                max_payload: 100
            })
        );
        let mut conn = Connection::new(handshake(&[]), Polling, true);
        // 75 bytes are 1 + 100 in base64 over polling.
        assert_eq!(
            conn.send(vec![0u8; 75].into()),
            Err(SendError::TooLarge {
                size: 101,
                max_payload: 100
            })
        );
    }

    #[test]
    fn record_separator_is_refused_over_polling_only() {
        let mut conn = Connection::new(handshake(&[]), Polling, true);
        assert_eq!(conn.send("a\x1eb".into()), Err(SendError::RecordSeparator));
        let mut conn = websocket_session();
        assert_eq!(conn.send("a\x1eb".into()), Ok(()));
    }

    #[test]
    fn polling_without_upgrade_starts_receiving_at_once() {
        for (upgrades, upgrade) in [(&["websocket"][..], false), (&[][..], true)] {
            let mut conn = Connection::new(handshake(upgrades), Polling, upgrade);
            let out = drain(&mut conn);
            assert!(out.contains(&Output::ResumePolling));
            assert!(!out.contains(&Output::OpenProbe));
        }
    }

    #[test]
    fn upgrade_probes_before_any_poll() {
        let mut conn = Connection::new(handshake(&["websocket"]), Polling, true);
        let out = drain(&mut conn);
        assert!(out.contains(&Output::OpenProbe));
        assert!(!out.contains(&Output::ResumePolling));
        assert!(out.contains(&Output::StartTimer(Timer::ProbeGrace, PROBE_GRACE)));
    }

    #[test]
    fn successful_upgrade_sends_upgrade_then_everything_pending_in_order() {
        let mut conn = probing_session();
        conn.send("before".into()).unwrap();
        conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
        let out = drain(&mut conn);
        assert_eq!(sent(&out), [(Polling, Packet::text("before"))]);
        assert_eq!(out.last(), Some(&Output::PausePolling));

        conn.send("during".into()).unwrap();
        conn.handle_packet(Polling, Packet::Ping("".into()));
        conn.handle_packet(Polling, Packet::text("from server"));
        let out = drain(&mut conn);
        assert_eq!(sent(&out), []);
        assert_eq!(events(&out), [Event::Message("from server".into())]);

        conn.handle_polling_paused(vec![Packet::text("unsent")]);
        let out = drain(&mut conn);
        assert_eq!(
            sent(&out),
            [
                (WebSocket, Packet::Upgrade),
                (WebSocket, Packet::text("unsent")),
                (WebSocket, Packet::text("during")),
                (WebSocket, Packet::Pong("".into())),
            ]
        );
        assert!(out.contains(&Output::CloseTransport(Polling)));
        assert_eq!(events(&out), [Event::Upgraded]);
        assert_eq!(conn.transport(), WebSocket);

        conn.send("after".into()).unwrap();
        assert_eq!(
            sent(&drain(&mut conn)),
            [(WebSocket, Packet::text("after"))]
        );
        // A late poll answer on the old transport changes nothing.
        conn.handle_packet(Polling, Packet::text("stale"));
        conn.handle_transport_end(Polling, TransportEnd::Error(TransportError::Timeout));
        assert_eq!(drain(&mut conn), []);
    }

    #[test]
    fn wrong_probe_answer_keeps_polling() {
        let mut conn = probing_session();
        conn.handle_packet(WebSocket, Packet::Noop);
        conn.handle_packet(WebSocket, Packet::text("nope"));
        let out = drain(&mut conn);
        assert_eq!(
            events(&out),
            [Event::UpgradeFailed(UpgradeError::UnexpectedAnswer(
                "4nope".into()
            ))]
        );
        assert!(out.contains(&Output::CloseTransport(WebSocket)));
        assert!(out.contains(&Output::ResumePolling));
        conn.send("x".into()).unwrap();
        assert_eq!(sent(&drain(&mut conn)), [(Polling, Packet::text("x"))]);
    }

    #[test]
    fn probe_transport_failure_keeps_polling() {
        let mut conn = Connection::new(handshake(&["websocket"]), Polling, true);
        drain(&mut conn);
        let refused = TransportError::Connect("refused".into());
        conn.handle_transport_end(WebSocket, TransportEnd::Error(refused.clone()));
        let out = drain(&mut conn);
        assert_eq!(
            events(&out),
            [Event::UpgradeFailed(UpgradeError::Transport(refused))]
        );
        assert!(out.contains(&Output::ResumePolling));
        assert!(!conn.is_closed());
    }

    #[test]
    fn slow_probe_starts_polling_then_pauses_it() {
        let mut conn = probing_session();
        conn.handle_timer(Timer::ProbeGrace);
        assert_eq!(drain(&mut conn), [Output::ResumePolling]);
        conn.handle_timer(Timer::ProbeGrace);
        assert_eq!(drain(&mut conn), []);
        conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
        assert_eq!(drain(&mut conn), [Output::PausePolling]);
        conn.handle_polling_paused(vec![]);
        assert_eq!(events(&drain(&mut conn)), [Event::Upgraded]);
        // The timeout after success does nothing.
        conn.handle_timer(Timer::ProbeTimeout);
        assert_eq!(drain(&mut conn), []);
    }

    #[test]
    fn probe_timeout_fails_the_upgrade() {
        let mut conn = probing_session();
        conn.handle_timer(Timer::ProbeTimeout);
        assert_eq!(
            events(&drain(&mut conn)),
            [Event::UpgradeFailed(UpgradeError::Timeout)]
        );
    }

    #[test]
    fn websocket_lost_while_pausing_sends_everything_over_polling_in_order() {
        let mut conn = probing_session();
        conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
        conn.send("held".into()).unwrap();
        conn.handle_transport_end(WebSocket, TransportEnd::ServerClosed);
        let out = drain(&mut conn);
        assert!(matches!(
            events(&out)[..],
            [Event::UpgradeFailed(UpgradeError::Transport(_))]
        ));
        assert_eq!(sent(&out), []);
        conn.handle_polling_paused(vec![Packet::text("unsent")]);
        let out = drain(&mut conn);
        assert_eq!(
            sent(&out),
            [
                (Polling, Packet::text("unsent")),
                (Polling, Packet::text("held"))
            ]
        );
        assert_eq!(out.last(), Some(&Output::ResumePolling));
        assert_eq!(conn.transport(), Polling);
    }

    #[test]
    fn client_close_while_pausing_waits_for_polling_then_sends_in_order() {
        let mut conn = probing_session();
        conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
        conn.send("held".into()).unwrap();
        drain(&mut conn);
        conn.close();
        let out = drain(&mut conn);
        assert_eq!(
            events(&out),
            [Event::Disconnected(DisconnectReason::ClientDisconnect)]
        );
        assert_eq!(
            sent(&out),
            [],
            "nothing may overtake what polling hands back"
        );
        assert!(out.contains(&Output::CloseTransport(WebSocket)));
        assert!(conn.is_closed() && !conn.is_finished());
        assert_eq!(conn.send("late".into()), Err(SendError::Closed));

        conn.handle_polling_paused(vec![Packet::text("unsent")]);
        let out = drain(&mut conn);
        assert_eq!(
            sent(&out),
            [
                (Polling, Packet::text("unsent")),
                (Polling, Packet::text("held")),
                (Polling, Packet::Close)
            ]
        );
        assert_eq!(out.last(), Some(&Output::CloseTransport(Polling)));
        assert_eq!(events(&out), []);
        assert!(conn.is_finished());
    }

    #[test]
    fn client_close_while_pausing_finishes_if_polling_dies() {
        let mut conn = probing_session();
        conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
        conn.close();
        drain(&mut conn);
        conn.handle_transport_end(Polling, TransportEnd::Error(TransportError::Timeout));
        assert!(conn.is_finished());
        assert_eq!(drain(&mut conn), []);
    }

    #[test]
    fn held_messages_count_as_unwritten() {
        let mut conn = probing_session();
        conn.handle_written(WebSocket, 6);
        conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
        conn.send("12345".into()).unwrap();
        assert_eq!(conn.unwritten(), 6);
        conn.handle_polling_paused(vec![]);
        // Now `5` and the message, over websocket.
        assert_eq!(conn.unwritten(), 1 + 6);
    }

    #[test]
    fn upgrade_failure_is_reported_once() {
        let mut conn = probing_session();
        conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
        conn.handle_transport_end(WebSocket, TransportEnd::ServerClosed);
        conn.handle_transport_end(WebSocket, TransportEnd::ServerClosed);
        let failures = events(&drain(&mut conn))
            .into_iter()
            .filter(|e| matches!(e, Event::UpgradeFailed(_)))
            .count();
        assert_eq!(failures, 1);
    }

    #[test]
    fn unwritten_bytes_follow_transmits_and_writes() {
        let mut conn = websocket_session();
        conn.send("12345".into()).unwrap();
        conn.send(vec![0u8; 10].into()).unwrap();
        assert_eq!(conn.unwritten(), 6 + 10);
        conn.handle_written(WebSocket, 6);
        assert_eq!(conn.unwritten(), 10);
        conn.handle_written(WebSocket, 100);
        assert_eq!(conn.unwritten(), 0);
    }

    #[test]
    fn unwritten_bytes_move_with_the_upgrade() {
        let mut conn = probing_session();
        // 2probe went to the probe socket.
        assert_eq!(conn.unwritten(), 6);
        conn.handle_written(WebSocket, 6);
        conn.send(vec![0u8; 3].into()).unwrap();
        // Over polling a binary message is b + base64.
        assert_eq!(conn.unwritten(), 5);
        conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
        conn.handle_polling_paused(vec![Packet::binary(vec![0u8; 3])]);
        // Now 5 and the message go over websocket.
        assert_eq!(conn.unwritten(), 1 + 3);
        conn.handle_transport_end(WebSocket, TransportEnd::ServerClosed);
        assert_eq!(conn.unwritten(), 0);
    }

    #[test]
    fn polling_close_packet_ends_a_probing_session() {
        let mut conn = probing_session();
        conn.handle_packet(Polling, Packet::Close);
        let out = drain(&mut conn);
        assert!(out.contains(&Output::CloseTransport(Polling)));
        assert!(out.contains(&Output::CloseTransport(WebSocket)));
        assert_eq!(
            events(&out),
            [Event::Disconnected(DisconnectReason::ServerDisconnect)]
        );
    }
}
