//! What the state machine asks of its I/O layer: the [`Output`]s it queues, the
//! [`Event`]s subscribers hear, and the [`Timer`]s it needs.

use std::time::Duration;

use super::super::{DisconnectReason, Packet, Payload, TransportKind, UpgradeError};

/// Something the session must do or tell, in the order [`Connection::poll_output`](super::Connection::poll_output) gives it.
///
/// An I/O layer carries out every output after each input it feeds the [`Connection`](super::Connection):
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
    /// (Re)start the heartbeat deadline, replacing the previous one: when it passes,
    /// call [`Connection::handle_ping_timeout`](super::Connection::handle_ping_timeout).
    /// In v4 it waits for the server's next ping; in v3 for the pong to the client's
    /// ping (`pingTimeout`), or, between pings, `pingInterval + pingTimeout` as a
    /// safety net that the next [`Timer::Ping`] shortens.
    ArmHeartbeat(Duration),
    /// Open a websocket for this session's sid, to probe it.
    OpenProbe,
    /// Call [`Connection::handle_timer`](super::Connection::handle_timer) with this timer after the duration.
    StartTimer(Timer, Duration),
    /// Start the polling receive loop, or resume polling after a pause.
    ResumePolling,
    /// Stop issuing polling requests; once none is in flight, report
    /// [`Connection::handle_polling_paused`](super::Connection::handle_polling_paused) with the packets not yet sent.
    PausePolling,
    /// Send what the transport has queued, then stop it for good; it reports
    /// [`TransportEnd::Closed`](super::super::TransportEnd::Closed) once it has.
    CloseTransport(TransportKind),
    /// Stop the transport at once, with its connections; the packets it had not yet
    /// started to write never go out (the driver gives their messages back to the
    /// application).
    AbortTransport(TransportKind),
}

/// What subscribers of a session learn: the [`Output::Event`]s of a [`Connection`](super::Connection),
/// which the session actor publishes as [`Connect`](crate::Connect),
/// [`Message`](crate::Message), [`Upgrade`](crate::Upgrade) and
/// [`Disconnect`](crate::Disconnect).
///
/// ```
/// use actix_engineio::protocol::{Connection, Event, Handshake, Output, Packet, TransportKind};
/// use actix_engineio::DisconnectReason;
///
/// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#).unwrap();
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
/// reported with [`Connection::handle_timer`](super::Connection::handle_timer).
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
    /// [`PROBE_GRACE`](super::PROBE_GRACE) has passed since the probe started.
    ProbeGrace,
    /// [`PROBE_TIMEOUT`](super::PROBE_TIMEOUT) has passed since the probe started.
    ProbeTimeout,
    /// Protocol v3 only: `pingInterval` has passed since the handshake or the last
    /// pong, and the client pings (see [`Connection::with_version`](super::Connection::with_version)).
    /// At most one runs at a time, so it never needs cancelling.
    Ping,
    /// Protocol v4, a handshake without `maxPayload` only: `pingInterval` and half of
    /// `pingTimeout` have passed since the handshake, by when a v4 server has pinged.
    /// Started once; a session that ends later without a ping is taken for one with a
    /// v3-only server (see `v3_server.rs`).
    FirstPingDue,
}
