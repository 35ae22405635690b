//! The errors of the protocol core: bad input ([`ProtocolError`]), a transport that
//! failed ([`TransportError`]), an upgrade that did not happen ([`UpgradeError`]) and a
//! message refused for sending ([`SendError`]).

use thiserror::Error;

use super::TransportKind;

/// What was wrong with bytes, text or a URL handed to the protocol core.
///
/// Every decoder in [`crate::protocol`] returns this instead of panicking, so a
/// malformed packet from a server always becomes a typed value.
///
/// ```
/// use actix_engineio::protocol::{Packet, ProtocolError};
///
/// let err = Packet::decode_text("9nine".into()).unwrap_err();
/// assert_eq!(err, ProtocolError::UnknownPacketType('9'));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A text packet had no type character at all.
    #[error("empty packet")]
    EmptyPacket,
    /// The first character of a packet is not one of `0`..`6`.
    #[error("unknown packet type {0:?}")]
    UnknownPacketType(char),
    /// A polling body or text frame was not valid UTF-8.
    #[error("packet is not valid UTF-8")]
    InvalidUtf8,
    /// A `b`-prefixed binary packet in a polling payload was not valid base64.
    #[error("binary packet is not valid base64")]
    InvalidBase64,
    /// The open packet's JSON is malformed or misses a required field.
    #[error("invalid handshake: {0}")]
    InvalidHandshake(String),
    /// A v4 session met a server that appears to speak Engine.IO v3 only (Node
    /// `engine.io` 3 and python-engineio 3 ignore or refuse `EIO=4`); the text says what
    /// showed it. Such a server is reached with `.protocol(ProtocolVersion::V3)`.
    ///
    /// ```
    /// use actix_engineio::protocol::ProtocolError;
    ///
    /// let error = ProtocolError::ServerSpeaksV3("it answered with a v3 handshake".into());
    /// assert!(error.to_string().contains(".protocol(ProtocolVersion::V3)"));
    /// ```
    #[error(
        "the server appears to speak Engine.IO v3 only ({0}); \
         connect with .protocol(ProtocolVersion::V3)"
    )]
    ServerSpeaksV3(String),
    /// A v3 binary packet (a binary frame, or a binary packet of a binary payload, or
    /// a `b`-prefixed packet of a text payload) has a type other than message (`4`).
    /// The number is the type as sent (a byte outside `0`..=`6` is no type at all).
    #[error("binary packet of type {0}: only a message (4) can be binary")]
    BinaryNotMessage(u8),
    /// A v3 payload's length prefix is empty, not decimal digits, or too large.
    #[error("invalid length prefix in a v3 payload")]
    InvalidLength,
    /// A v3 payload's length prefix has no end: no `:` in a text payload, no `255`
    /// byte in a binary payload.
    #[error("unterminated length prefix in a v3 payload")]
    UnterminatedLength,
    /// A v3 payload announces a packet longer than what is left of the body.
    #[error("v3 payload packet of length {length} but only {available} left")]
    LengthPastEnd {
        /// The announced length (UTF-16 units in a text payload, bytes in a binary one).
        length: usize,
        /// What was left of the body, in the same unit.
        available: usize,
    },
    /// A v3 text payload's length ends inside a character (between the two UTF-16
    /// halves of a character outside the Basic Multilingual Plane, such as an emoji).
    #[error("v3 payload length splits a character")]
    LengthSplitsCharacter,
    /// A packet of a v3 binary payload starts with a byte other than `0` (text) or
    /// `1` (binary).
    #[error("invalid packet marker {0} in a v3 binary payload")]
    InvalidMarker(u8),
    /// The server URL cannot be used to reach an Engine.IO server.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as the user gave it, with its secrets redacted.
        url: String,
        /// Why it was refused.
        reason: String,
    },
}

/// What went wrong below the session: the cause carried by
/// [`DisconnectReason::TransportError`](super::DisconnectReason::TransportError) and by connect and upgrade errors.
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
    /// No transport could open the session: each one tried, in order, with its error
    /// (with [`try_all_transports`](crate::builder::Builder::try_all_transports), or
    /// when a remembered websocket failed before the usual first transport).
    ///
    /// ```
    /// use actix_engineio::{TransportError, TransportKind};
    ///
    /// let err = TransportError::AllTransportsFailed(vec![
    ///     (TransportKind::WebSocket, TransportError::Http { status: 400, body: String::new() }),
    ///     (TransportKind::Polling, TransportError::Timeout),
    /// ]);
    /// assert_eq!(
    ///     err.to_string(),
    ///     "every transport failed: websocket: HTTP 400: ; polling: request timed out"
    /// );
    /// ```
    #[error("every transport failed: {}", list_attempts(.0))]
    AllTransportsFailed(Vec<(TransportKind, TransportError)>),
    /// The HTTP proxy could not be reached or would not open a tunnel to the server.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
}

/// `kind: error; kind: error`, for [`TransportError::AllTransportsFailed`].
fn list_attempts(attempts: &[(TransportKind, TransportError)]) -> String {
    attempts
        .iter()
        .map(|(kind, error)| format!("{kind}: {error}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why the HTTP proxy did not open a tunnel to the server: the cause carried by
/// [`TransportError::Proxy`]. Each message names the proxy, its password hidden.
///
/// ```
/// use actix_engineio::{ProxyError, TransportError};
///
/// let err = TransportError::Proxy(ProxyError::AuthenticationRequired {
///     proxy: "http://alice:<redacted>@proxy.corp:3128".into(),
///     status: 407,
///     credentials_sent: true,
/// });
/// assert!(err.to_string().contains("proxy authentication required"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy answered `407 Proxy Authentication Required`: credentials are missing
    /// from the proxy URL, or it refused them. A `401` to `CONNECT` counts too: it can only
    /// come from the proxy (the server is not reached yet), and some proxies (tinyproxy)
    /// answer wrong credentials with it.
    #[error("proxy authentication required by {proxy} (HTTP {status}): {}", auth_hint(.credentials_sent))]
    AuthenticationRequired {
        /// The proxy, its password hidden.
        proxy: String,
        /// The proxy's status code: 407, or 401.
        status: u16,
        /// Whether credentials were sent (and refused).
        credentials_sent: bool,
    },
    /// The proxy answered `CONNECT` with another non-2xx status (such as 403, a host it
    /// does not allow, or 502, a server it cannot reach).
    #[error("proxy {proxy} refused the tunnel to {target}: HTTP {status}")]
    Refused {
        /// The proxy, its password hidden.
        proxy: String,
        /// The `host:port` the tunnel was asked for.
        target: String,
        /// The proxy's status code.
        status: u16,
    },
    /// No connection to the proxy itself (refused, unreachable, DNS).
    #[error("cannot connect to proxy {proxy}: {reason}")]
    Unreachable {
        /// The proxy, its password hidden.
        proxy: String,
        /// The system's reason.
        reason: String,
    },
    /// The proxy's answer to `CONNECT` is not HTTP, is too long, or never ended.
    #[error("bad answer from proxy {proxy}: {reason}")]
    BadResponse {
        /// The proxy, its password hidden.
        proxy: String,
        /// What was wrong.
        reason: String,
    },
}

/// The end of the message of [`ProxyError::AuthenticationRequired`].
fn auth_hint(credentials_sent: &bool) -> &'static str {
    if *credentials_sent {
        "it refused the credentials given"
    } else {
        "no credentials given (put them in the proxy URL: http://user:password@host:port)"
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

/// Why a message was not accepted for sending. Nothing is dropped silently: each
/// refusal is one of these, the answer to [`Send`](crate::Send).
///
/// ```
/// use actix::{Addr, MailboxError};
/// use actix_engineio::{Send, SendError, Session, Unsent};
///
/// async fn send_report(session: &Addr<Session>, report: Vec<u8>) -> Result<(), MailboxError> {
///     match session.send(Send::binary(report)).await? {
///         Ok(()) => {}
///         Err(Unsent { error: SendError::TooLarge { size, max_payload }, .. }) => {
///             eprintln!("{size} bytes is too much for the server ({max_payload}): split it");
///         }
///         Err(refused) => eprintln!("not sent: {refused}"),
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
    /// The session was lost and no new one is open yet (reconnection is under way, and
    /// the policy does not hold messages meanwhile).
    #[error("the session is reconnecting")]
    Reconnecting,
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
    /// The send buffer is full: the answer of a send that would not wait.
    #[error("send buffer is full")]
    Full,
    /// The value given to a client's `send_json` could not be encoded as JSON.
    #[error("cannot encode the message as JSON: {0}")]
    InvalidJson(String),
}
