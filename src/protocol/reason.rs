//! Why a session ended, and how a transport stopped, as plain data.

use std::fmt;

use super::TransportError;

/// Why a session ended. Its [`Display`](fmt::Display) is the short reason string
/// (`client disconnect`, `server disconnect`, `ping timeout`, `transport error`);
/// [`DisconnectReason::detail`] gives the cause of a transport error.
///
/// ```
/// use actix_engineio::{DisconnectReason, TransportError};
///
/// let reason = DisconnectReason::TransportError(TransportError::Timeout);
/// assert_eq!(reason.to_string(), "transport error");
/// assert_eq!(reason.detail().as_deref(), Some("request timed out"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The application closed the session.
    ClientDisconnect,
    /// The server closed the session (a `1` packet or a normal websocket close).
    ServerDisconnect,
    /// No ping arrived within `pingInterval + pingTimeout`.
    PingTimeout,
    /// The transport failed; the cause says how.
    TransportError(TransportError),
    /// The session was lost, and reconnecting failed as many times as the reconnection
    /// policy allows; `last` is why the last attempt failed.
    ReconnectFailed {
        /// How many attempts were made.
        attempts: u32,
        /// Why the last one failed.
        last: TransportError,
    },
}

impl DisconnectReason {
    /// The cause of a transport error, `None` for the other reasons.
    ///
    /// ```
    /// use actix_engineio::{DisconnectReason, TransportError};
    ///
    /// let reason = DisconnectReason::TransportError(TransportError::FrameTooLarge { limit: 1024 });
    /// assert_eq!(reason.detail().as_deref(), Some("frame larger than 1024 bytes"));
    /// assert_eq!(DisconnectReason::PingTimeout.detail(), None);
    /// ```
    pub fn detail(&self) -> Option<String> {
        match self {
            DisconnectReason::TransportError(cause) => Some(cause.to_string()),
            DisconnectReason::ReconnectFailed { attempts, last } => {
                Some(format!("{attempts} attempts, the last: {last}"))
            }
            _ => None,
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DisconnectReason::ClientDisconnect => "client disconnect",
            DisconnectReason::ServerDisconnect => "server disconnect",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::TransportError(_) => "transport error",
            DisconnectReason::ReconnectFailed { .. } => "reconnect failed",
        })
    }
}

/// How a transport stopped, as its actor reports it: the input of
/// [`Connection::handle_transport_end`](super::Connection::handle_transport_end).
///
/// ```
/// use actix_engineio::protocol::{Connection, Event, Handshake, Output, TransportEnd, TransportKind};
/// use actix_engineio::{DisconnectReason, TransportError};
///
/// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
/// let mut conn = Connection::new(handshake, TransportKind::WebSocket, false);
/// conn.handle_transport_end(TransportKind::WebSocket, TransportEnd::Error(TransportError::Timeout));
/// let last = std::iter::from_fn(|| conn.poll_output()).last();
/// let reason = DisconnectReason::TransportError(TransportError::Timeout);
/// assert_eq!(last, Some(Output::Event(Event::Disconnected(reason))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportEnd {
    /// The server ended the session cleanly (a normal websocket close).
    ServerClosed,
    /// The transport did what [`Output::CloseTransport`](super::Output::CloseTransport)
    /// asked: it wrote what it held (or failed to, within its timeout) and stopped.
    Closed,
    /// The transport failed.
    Error(TransportError),
}
