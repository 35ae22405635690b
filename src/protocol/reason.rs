//! Why a session or an upgrade ended, as plain data.

use std::fmt;

use thiserror::Error;

use super::ProtocolError;

/// The two transports of Engine.IO.
///
/// Its [`Display`](fmt::Display) and [`FromStr`](std::str::FromStr) use the names on
/// the wire, which is what [`SessionBuilder::transports`](crate::SessionBuilder::transports)
/// accepts besides the kinds themselves.
///
/// ```
/// use actix_engineio::TransportKind;
///
/// assert_eq!("websocket".parse(), Ok(TransportKind::WebSocket));
/// assert_eq!(TransportKind::Polling.to_string(), "polling");
/// assert!("flashsocket".parse::<TransportKind>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// HTTP long-polling: GETs to receive, POSTs to send.
    Polling,
    /// One websocket carrying one packet per frame.
    WebSocket,
}

impl TransportKind {
    /// The transport's name on the wire: `polling` or `websocket`.
    ///
    /// ```
    /// use actix_engineio::TransportKind;
    ///
    /// assert_eq!(TransportKind::WebSocket.as_str(), "websocket");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Polling => "polling",
            TransportKind::WebSocket => "websocket",
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TransportKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "polling" => Ok(TransportKind::Polling),
            "websocket" => Ok(TransportKind::WebSocket),
            other => Err(format!(
                "unknown transport {other:?} (expected polling or websocket)"
            )),
        }
    }
}

/// What went wrong below the session: the cause carried by
/// [`DisconnectReason::TransportError`] and by connect and upgrade errors.
///
/// ```
/// use actix_engineio::{DisconnectReason, TransportError};
///
/// fn should_retry(reason: &DisconnectReason) -> bool {
///     match reason {
///         DisconnectReason::TransportError(TransportError::Http { status, .. }) => *status >= 500,
///         DisconnectReason::TransportError(TransportError::Protocol(_)) => false,
///         DisconnectReason::ClientDisconnect => false,
///         _ => true,
///     }
/// }
///
/// let lost = TransportError::ConnectionLost("reset by peer".into());
/// assert_eq!(lost.to_string(), "connection lost: reset by peer");
/// assert!(should_retry(&DisconnectReason::TransportError(lost)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TransportError {
    /// No connection could be made (refused, unreachable, DNS, TLS).
    #[error("cannot connect: {0}")]
    Connect(String),
    /// An open connection broke (reset, or closed without a close frame), or a
    /// response could not be read (such as an unknown or corrupt `Content-Encoding`).
    #[error("connection lost: {0}")]
    ConnectionLost(String),
    /// A request got no complete answer within its timeout.
    #[error("request timed out")]
    Timeout,
    /// The server answered with a non-2xx status.
    #[error("HTTP {status}: {body}")]
    Http {
        /// The status code.
        status: u16,
        /// The response body, as text (lossy), possibly cut short; empty when a
        /// websocket handshake was refused.
        body: String,
    },
    /// The server sent something that is not Engine.IO.
    #[error("parse error: {0}")]
    Protocol(#[from] ProtocolError),
    /// A websocket frame or message was larger than the configured limit.
    #[error("frame larger than {limit} bytes")]
    FrameTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A polling response was larger than the configured limit (after decompression).
    #[error("response body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The server closed the websocket with an error code (such as 1009, message too big).
    #[error("websocket closed with code {code}: {reason}")]
    WebSocketClosed {
        /// The close code.
        code: u16,
        /// The close reason, often empty.
        reason: String,
    },
    /// The websocket broke its own protocol (bad frame, unexpected continuation).
    #[error("websocket error: {0}")]
    WebSocket(String),
}

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
        })
    }
}

/// Why the upgrade to websocket did not happen. The session goes on over polling.
///
/// Carried by [`Upgrade::Failed`](crate::Upgrade::Failed).
///
/// ```
/// use actix_engineio::{Upgrade, UpgradeError};
///
/// let event = Upgrade::Failed(UpgradeError::UnexpectedAnswer("3nope".into()));
/// if let Upgrade::Failed(error) = &event {
///     assert_eq!(error.to_string(), "unexpected answer to the probe: 3nope");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UpgradeError {
    /// The websocket could not be opened or broke during the probe.
    #[error("probe transport failed: {0}")]
    Transport(#[source] TransportError),
    /// The server answered the probe with something other than `3probe`.
    #[error("unexpected answer to the probe: {0}")]
    UnexpectedAnswer(String),
    /// The server did not answer the probe in time.
    #[error("probe timed out")]
    Timeout,
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
pub enum TransportEnd {
    /// The server ended the session cleanly (a normal websocket close).
    ServerClosed,
    /// The transport failed.
    Error(TransportError),
}

impl AsRef<str> for TransportKind {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}
