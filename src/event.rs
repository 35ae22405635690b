//! The events a session publishes, each an actix [`Message`](actix::Message), and
//! the subscribers that hear them.

use actix::Message as ActixMessage;
use tokio::sync::watch;

use crate::channel::BatchSender;
use crate::protocol::{DisconnectReason, Payload, TransportKind, UpgradeError};

/// A session is open: the first, or a new one after a loss (a reconnection).
///
/// ```
/// use actix_engineio::{Connect, TransportKind};
///
/// let event = Connect::new("abc", TransportKind::Polling, 0);
/// assert_eq!(event.transport.to_string(), "polling");
/// assert!(!event.is_reconnection());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, ActixMessage)]
#[rtype(result = "()")]
#[non_exhaustive]
pub struct Connect {
    /// The session id the server gave.
    pub sid: String,
    /// The transport the session was opened on.
    pub transport: TransportKind,
    /// 0 for the first session; for a reconnection, the attempt that opened it (1 for
    /// the first attempt after the loss).
    pub attempt: u32,
}

impl Connect {
    /// The event of a session `sid` opened over `transport`; `attempt` is 0 for a
    /// first session. Sessions make these; the constructor is for tests of handlers.
    ///
    /// ```
    /// use actix_engineio::{Connect, TransportKind};
    ///
    /// let event = Connect::new("s", TransportKind::WebSocket, 0);
    /// assert_eq!(event.sid, "s");
    /// ```
    pub fn new(sid: impl Into<String>, transport: TransportKind, attempt: u32) -> Self {
        Connect {
            sid: sid.into(),
            transport,
            attempt,
        }
    }

    /// Whether this session replaces one that was lost.
    ///
    /// ```
    /// use actix_engineio::{Connect, TransportKind};
    ///
    /// let event = Connect::new("s", TransportKind::WebSocket, 2);
    /// assert!(event.is_reconnection());
    /// ```
    pub fn is_reconnection(&self) -> bool {
        self.attempt > 0
    }
}

/// The session was lost, and a new one will be tried after `delay` (reconnection).
///
/// ```
/// use std::time::Duration;
/// use actix_engineio::Reconnecting;
///
/// let event = Reconnecting::new(1, Duration::from_millis(800));
/// println!("reconnecting in {:?} (attempt {})", event.delay, event.attempt);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, ActixMessage)]
#[rtype(result = "()")]
#[non_exhaustive]
pub struct Reconnecting {
    /// 1 for the first attempt after the loss.
    pub attempt: u32,
    /// How long the session waits before it.
    pub delay: std::time::Duration,
}

impl Reconnecting {
    /// The event of attempt `attempt`, made after `delay`. Sessions make these; the
    /// constructor is for tests of handlers.
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_engineio::Reconnecting;
    ///
    /// assert_eq!(Reconnecting::new(2, Duration::ZERO).attempt, 2);
    /// ```
    pub fn new(attempt: u32, delay: std::time::Duration) -> Self {
        Reconnecting { attempt, delay }
    }
}

/// Messages that were taken for sending and will never be written: the session they
/// were sent on ended first. Given back in the order they were sent.
///
/// ```
/// use actix_engineio::{Payload, Undelivered};
///
/// let event = Undelivered(vec![Payload::from("lost")]);
/// assert_eq!(event.0.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, ActixMessage)]
#[rtype(result = "()")]
pub struct Undelivered(pub Vec<Payload>);

/// A message from the server. Every subscriber receives every message, in the order
/// the server sent them. Messages given to subscribers and not handled yet are
/// bounded by [`event_buffer`](crate::SessionBuilder::event_buffer) and
/// [`event_buffer_bytes`](crate::SessionBuilder::event_buffer_bytes): past them the
/// session stops reading from the server until the subscribers catch up.
///
/// ```
/// use actix_engineio::{Message, Payload};
///
/// let event = Message(Payload::from("hello"));
/// assert_eq!(event.0.as_text(), Some("hello"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, ActixMessage)]
#[rtype(result = "()")]
pub struct Message(pub Payload);

/// Every message from the server that one read of the socket brought (a websocket
/// read, a polling response), in the order the server sent them: what
/// [`Message`] gives one at a time, in one event per read. Never empty.
///
/// A subscriber that handles many small messages pays for one actix envelope per
/// read instead of one per message. Every subscriber receives every message once,
/// in order; the batch of a read is published before any event that follows it
/// (an actor subscribed to [`Disconnect`] as well gets its last batch first). As
/// with [`Message`], what subscribers have not handled yet is bounded by
/// [`event_buffer`](crate::SessionBuilder::event_buffer) and
/// [`event_buffer_bytes`](crate::SessionBuilder::event_buffer_bytes): past them the
/// session stops reading until the subscribers catch up.
///
/// ```
/// use actix_engineio::{Messages, Payload};
///
/// let event = Messages(vec![Payload::from("a"), Payload::from("b")]);
/// assert_eq!(event.0.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, ActixMessage)]
#[rtype(result = "()")]
pub struct Messages(pub Vec<Payload>);

/// The session is over; the last event a session publishes.
///
/// ```
/// use actix_engineio::{Disconnect, DisconnectReason};
///
/// let event = Disconnect(DisconnectReason::ServerDisconnect);
/// assert_eq!(event.0.to_string(), "server disconnect");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, ActixMessage)]
#[rtype(result = "()")]
pub struct Disconnect(pub DisconnectReason);

/// The outcome of the upgrade from polling to websocket.
///
/// ```
/// use actix_engineio::{TransportKind, Upgrade};
///
/// let event = Upgrade::Completed(TransportKind::WebSocket);
/// assert!(matches!(event, Upgrade::Completed(TransportKind::WebSocket)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, ActixMessage)]
#[rtype(result = "()")]
pub enum Upgrade {
    /// The session now runs on this transport.
    Completed(TransportKind),
    /// The upgrade failed; the session goes on over polling.
    Failed(UpgradeError),
}

/// One event of a session, as the clients' event streams give them, in order.
///
/// ```
/// use actix_engineio::{Event, Payload};
///
/// fn describe(event: &Event) -> String {
///     match event {
///         Event::Connect(connect) => format!("connected as {}", connect.sid),
///         Event::Message(Payload::Text(text)) => format!("text: {text}"),
///         Event::Message(Payload::Binary(data)) => format!("{} bytes", data.len()),
///         Event::Upgrade(upgrade) => format!("upgrade: {upgrade:?}"),
///         Event::Disconnect(reason) => format!("disconnected: {reason}"),
///         Event::Reconnecting(next) => format!("attempt {} in {:?}", next.attempt, next.delay),
///         Event::Undelivered(lost) => format!("{} messages not sent", lost.len()),
///         other => format!("{other:?}"), // events added in later versions
///     }
/// }
/// assert_eq!(describe(&Event::Message("hi".into())), "text: hi");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The session is open.
    Connect(Connect),
    /// A message from the server.
    Message(Payload),
    /// The upgrade to websocket completed or failed.
    Upgrade(Upgrade),
    /// The session is over. Unless a reconnection follows, its last event.
    Disconnect(DisconnectReason),
    /// A lost session will be opened again after a delay.
    Reconnecting(Reconnecting),
    /// Messages taken for sending that will never be written.
    Undelivered(Vec<Payload>),
}

impl crate::channel::Weigh for Event {
    /// The bytes of its messages: what bounds the client's channel beside the count.
    fn weight(&self) -> usize {
        match self {
            Event::Message(payload) => payload.len(),
            Event::Undelivered(payloads) => payloads.iter().map(Payload::len).sum(),
            _ => 0,
        }
    }
}

/// What a session is, at any moment, for whoever holds the other end: kept up to
/// date by the session itself as events happen, before they are delivered.
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionStatus {
    pub sid: Option<String>,
    pub transport: Option<TransportKind>,
    pub ended: Option<DisconnectReason>,
}

/// A bounded channel of a session's events, with the session's status beside it:
/// how the clients hear from their session.
pub(crate) struct EventSender {
    pub events: BatchSender<Event>,
    pub status: watch::Sender<SessionStatus>,
}
