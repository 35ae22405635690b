//! The session state machine: what to send, deliver and start for each thing that
//! happens to a session, with no I/O and no clock.
//!
//! The session actor feeds it inputs (`handle_*`, [`Connection::send`],
//! [`Connection::close`]) and carries out the [`Output`]s it queues, in order.
//! Everything about heartbeats, the upgrade (the "Heartbeat" and "Upgrade" sections
//! of the Engine.IO protocol, v4 and v3) and close reasons is decided here, so it is
//! tested without a network.

mod ending;
mod heartbeat;
mod output;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_v3;
mod upgrade;
mod v3_server;

use std::collections::VecDeque;

use self::heartbeat::ClientPing;
pub use self::output::{Event, Output, Timer};
use self::upgrade::Upgrade;
pub use self::upgrade::{PROBE_GRACE, PROBE_TIMEOUT};
use super::{
    can_carry_for, wire_len_for, DisconnectReason, Handshake, Packet, Payload, ProtocolVersion,
    SendError, TransportEnd, TransportError, TransportKind, PROBE,
};

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
/// let hs = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#).unwrap();
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
    /// The protocol the session speaks: it decides who pings and what a packet costs.
    version: ProtocolVersion,
    /// The client's own pings, in v3; `Off` in v4.
    client_ping: ClientPing,
    active: TransportKind,
    upgrade: Upgrade,
    /// Whether the polling receive loop has been started.
    polling_started: bool,
    /// Packets held while polling pauses; they go out after `5`, or over polling again.
    held: Vec<Packet>,
    /// Bytes of `held`, counted as unwritten so senders wait during a long pause too.
    held_bytes: usize,
    ending: Ending,
    /// Messages that were accepted and will never be written: held for the upgrade
    /// when the session ended.
    undelivered: Vec<Payload>,
    /// Why the session ended, once it has.
    end_reason: Option<DisconnectReason>,
    /// Whether the server has pinged (v4): a server that pings speaks v4 (see
    /// `v3_server.rs`).
    server_pinged: bool,
    /// Whether [`Timer::FirstPingDue`] fired before the server's first ping.
    first_ping_overdue: bool,
    outputs: VecDeque<Output>,
    /// Bytes handed to each transport and not yet reported written, for backpressure.
    unwritten: Unwritten,
}

/// How far the end of the session has come. Once it is not `Open`, the session is
/// over for its user: no more events but the last, no more sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Open,
    /// The application closed the session during the upgrade pause: once polling
    /// hands back what it had not sent, that, the held packets and `1` go out over
    /// polling, in order.
    AfterPause,
    /// The application closed the session: `1` is on its way, and the session ends
    /// when the active transport has written it (or failed to).
    Closing,
    /// The last event was given.
    Done,
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
    /// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::Polling, false);
    /// let outputs: Vec<Output> = std::iter::from_fn(|| conn.poll_output()).collect();
    /// assert_eq!(outputs, [
    ///     Output::Event(Event::Connected { sid: "s".into(), transport: TransportKind::Polling }),
    ///     Output::ArmHeartbeat(Duration::from_secs(45)),
    ///     Output::ResumePolling,
    /// ]);
    /// ```
    pub fn new(handshake: Handshake, transport: TransportKind, upgrade: bool) -> Self {
        Connection::with_version(handshake, transport, upgrade, ProtocolVersion::V4)
    }

    /// A session of protocol `version` that has just received `handshake` over
    /// `transport`; [`Connection::new`] is the v4 one.
    ///
    /// In v3 the client pings: besides what [`Connection::new`] gives, the first output
    /// after the heartbeat deadline starts [`Timer::Ping`], and the driver reports it with
    /// [`Connection::handle_timer`] when `pingInterval` has passed. The session then
    /// sends `2` and re-arms the heartbeat to `pingTimeout`; a pong starts the next
    /// [`Timer::Ping`] and re-arms it to `pingInterval + pingTimeout`; a deadline that
    /// passes is reported with [`Connection::handle_ping_timeout`], as in v4.
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_engineio::protocol::{Connection, Event, Handshake, Output, Packet, ProtocolVersion, Timer, TransportKind::WebSocket};
    ///
    /// let hs = Handshake::parse(r#"{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::with_version(hs, WebSocket, false, ProtocolVersion::V3);
    /// let outputs: Vec<Output> = std::iter::from_fn(|| conn.poll_output()).collect();
    /// assert_eq!(outputs, [
    ///     Output::Event(Event::Connected { sid: "s".into(), transport: WebSocket }),
    ///     Output::ArmHeartbeat(Duration::from_secs(45)),
    ///     Output::StartTimer(Timer::Ping, Duration::from_secs(25)),
    /// ]);
    ///
    /// // 25 s later: the client pings, and the server has 20 s to answer.
    /// conn.handle_timer(Timer::Ping);
    /// let outputs: Vec<Output> = std::iter::from_fn(|| conn.poll_output()).collect();
    /// assert_eq!(outputs, [
    ///     Output::Transmit(WebSocket, Packet::Ping("".into())),
    ///     Output::ArmHeartbeat(Duration::from_secs(20)),
    /// ]);
    ///
    /// // It answers: the next ping is 25 s away.
    /// conn.handle_packet(WebSocket, Packet::Pong("".into()));
    /// let outputs: Vec<Output> = std::iter::from_fn(|| conn.poll_output()).collect();
    /// assert_eq!(outputs, [
    ///     Output::ArmHeartbeat(Duration::from_secs(45)),
    ///     Output::StartTimer(Timer::Ping, Duration::from_secs(25)),
    /// ]);
    /// ```
    pub fn with_version(
        handshake: Handshake,
        transport: TransportKind,
        upgrade: bool,
        version: ProtocolVersion,
    ) -> Self {
        let mut conn = Connection {
            version,
            client_ping: ClientPing::Off,
            active: transport,
            upgrade: Upgrade::Off,
            polling_started: false,
            held: Vec::new(),
            held_bytes: 0,
            ending: Ending::Open,
            undelivered: Vec::new(),
            end_reason: None,
            server_pinged: false,
            first_ping_overdue: false,
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
        if version == ProtocolVersion::V3 {
            conn.schedule_ping();
        }
        conn.watch_first_ping();
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

    /// The protocol version the session speaks.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, ProtocolVersion, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let conn = Connection::new(handshake.clone(), TransportKind::WebSocket, false);
    /// assert_eq!(conn.version(), ProtocolVersion::V4);
    /// let conn = Connection::with_version(handshake, TransportKind::WebSocket, false, ProtocolVersion::V3);
    /// assert_eq!(conn.version(), ProtocolVersion::V3);
    /// ```
    pub fn version(&self) -> ProtocolVersion {
        self.version
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
        self.ending != Ending::Open
    }

    /// Whether nothing is left to do: the session can stop once the outputs are
    /// carried out. Later than [`Connection::is_closed`] when the application closed
    /// the session: it ends once the server has the close (the active transport
    /// reports its end after writing `1`), or, during the upgrade pause, once polling
    /// has handed back what it had not sent and written that and `1`.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, Packet, TransportEnd, TransportKind::*};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, Polling, true);
    /// conn.handle_probe_opened();
    /// conn.handle_packet(WebSocket, Packet::Pong("probe".into())); // polling is pausing
    /// conn.close();
    /// assert!(conn.is_closed() && !conn.is_finished());
    /// conn.handle_polling_paused(vec![]); // now `1` can go out over polling, last
    /// assert!(!conn.is_finished());
    /// conn.handle_transport_end(Polling, TransportEnd::Closed); // and it was written
    /// assert!(conn.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.ending == Ending::Done
    }

    /// Bytes handed to transports and not yet written to the network: what a sender
    /// waits on when it wants backpressure. Counted as [`wire_len_for`] counts them in
    /// the session's version, and including messages held during the upgrade pause.
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

    /// `transport` wrote `bytes` (as [`wire_len_for`] counts them in the session's
    /// version) to the network.
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

    /// The next thing to do, if any. Outputs come in the order they must be carried
    /// out; call it until `None` after every input.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Event, Handshake, Output, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#).unwrap();
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
    /// The heartbeat depends on the version: in v4 a `2` is answered with `3` and
    /// re-arms the heartbeat, and a `3` is ignored; in v3 a `3` answers the client's
    /// ping (see [`Connection::with_version`]), and a `2` is ignored, never answered:
    /// v3 servers do not ping, and answering one would harm, as Node `engine.io` 6
    /// with `allowEIO3` closes a v3 session whose client sends `3` ("invalid heartbeat
    /// direction") and python-engineio 3 refuses it as an unknown packet.
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
        if self.is_closed() {
            return;
        }
        if from != self.active {
            self.handle_probe_packet(from, packet);
            return;
        }
        match packet {
            Packet::Message(payload) => self.emit(Event::Message(payload)),
            Packet::Ping(data) if self.version == ProtocolVersion::V4 => {
                self.server_pinged = true;
                self.queue(Packet::Pong(data));
                let deadline = self.handshake.heartbeat_deadline();
                self.outputs.push_back(Output::ArmHeartbeat(deadline));
            }
            // `3probe` belongs to the probe websocket, never to the active transport.
            Packet::Pong(data) if self.version == ProtocolVersion::V3 && data != PROBE => {
                self.handle_pong();
            }
            Packet::Close => self.finish(self.server_end(DisconnectReason::ServerDisconnect)),
            // Nothing to do for a noop; open and upgrade never come from a server after
            // the handshake, nor a pong in v4 or a ping in v3, and ignoring them is
            // harmless (answering a v3 ping is not: see above).
            Packet::Noop
            | Packet::Open(_)
            | Packet::Ping(_)
            | Packet::Pong(_)
            | Packet::Upgrade => {}
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
        match self.ending {
            Ending::Done => return,
            // The close went out (or could not): whichever, the application closed it.
            Ending::Closing if which == self.active => return self.complete_close(),
            // Polling will not hand anything back anymore.
            Ending::AfterPause if which == TransportKind::Polling => return self.complete_close(),
            Ending::Closing | Ending::AfterPause => return,
            Ending::Open => {}
        }
        if which == self.active {
            self.finish(match end {
                TransportEnd::ServerClosed => self.server_end(DisconnectReason::ServerDisconnect),
                // Only the session closes a transport, and it is then no longer open.
                TransportEnd::Closed => DisconnectReason::TransportError(
                    TransportError::ConnectionLost("the transport stopped".into()),
                ),
                TransportEnd::Error(cause) => DisconnectReason::TransportError(cause),
            });
            return;
        }
        if which == TransportKind::WebSocket {
            self.handle_probe_end(end);
        }
    }

    /// Queues an application message on the active transport (or holds it during the
    /// upgrade pause).
    ///
    /// Refused once the session is closed, when its encoding on the active transport is
    /// larger than the server's `maxPayload` ([`wire_len_for`] in the session's
    /// version), and over v4 polling when it is text holding the record separator (v3
    /// polling carries any text: its records are length-prefixed).
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
        self.send_or_give_back(payload).map_err(|(error, _)| error)
    }

    /// [`send`](Self::send), giving the message back with the error: a caller that
    /// must return a refused message needs no copy of each message it sends.
    pub fn send_or_give_back(&mut self, payload: Payload) -> Result<(), (SendError, Payload)> {
        if self.is_closed() {
            return Err((SendError::Closed, payload));
        }
        let packet = Packet::Message(payload);
        let size = wire_len_for(self.version, self.active, &packet);
        let max_payload = self.handshake.max_payload_bytes();
        let error = if size > max_payload {
            SendError::TooLarge { size, max_payload }
        } else if !can_carry_for(self.version, self.active, &packet) {
            SendError::RecordSeparator
        } else {
            self.queue(packet);
            return Ok(());
        };
        match packet {
            Packet::Message(payload) => Err((error, payload)),
            // Built as a message above.
            _ => unreachable!("a message packet"),
        }
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
            self.held_bytes += wire_len_for(self.version, TransportKind::WebSocket, &packet);
            self.held.push(packet);
        } else {
            self.transmit(self.active, packet);
        }
    }

    fn transmit(&mut self, transport: TransportKind, packet: Packet) {
        *self.unwritten.of(transport) += wire_len_for(self.version, transport, &packet);
        self.outputs.push_back(Output::Transmit(transport, packet));
    }

    fn emit(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }
}
