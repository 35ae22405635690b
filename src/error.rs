//! Errors of starting a session.

use thiserror::Error;

use crate::protocol::{Payload, ProtocolError, SendError, TransportError};

/// A configuration the builder cannot use; found before any I/O.
///
/// The builder keeps the first bad setting, and
/// [`SessionBuilder::connect`](crate::SessionBuilder::connect) returns it (or a bad URL
/// or CA certificate, which it checks itself) as [`ConnectError::Config`]: a chain of
/// settings needs no error handling until then.
///
/// ```
/// use actix_engineio::{ConfigError, ConnectError, Session};
///
/// # #[actix_rt::main] async fn main() {
/// let err = Session::builder("http://127.0.0.1:3000")
///     .transports(["polling", "carrier-pigeon"])
///     .connect()
///     .await
///     .unwrap_err();
/// let ConnectError::Config(ConfigError::Transports(why)) = err else { panic!("{err}") };
/// assert!(why.contains("carrier-pigeon"));
///
/// let err = Session::builder("ftp://example.com").connect().await.unwrap_err();
/// assert!(matches!(err, ConnectError::Config(ConfigError::Url(_))));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The server URL is not usable.
    #[error(transparent)]
    Url(#[from] ProtocolError),
    /// A header name or value is not valid HTTP.
    #[error("invalid header {name:?}: {reason}")]
    Header {
        /// The header name as given.
        name: String,
        /// Why it was refused.
        reason: String,
    },
    /// The transport list is empty, names an unknown transport or repeats one.
    #[error("invalid transports: {0}")]
    Transports(String),
    /// A TLS setting cannot be used (unreadable CA certificate, TLS not compiled in).
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// The name given to
    /// [`timestamp_param`](crate::builder::Builder::timestamp_param) cannot name a query
    /// parameter as it is.
    #[error("invalid timestamp parameter {name:?}: {reason}")]
    TimestampParam {
        /// The name as given.
        name: String,
        /// Why it was refused.
        reason: String,
    },
    /// The proxy URL (given, or read from `HTTP_PROXY` and the like) cannot be used; the
    /// message names it with its password hidden.
    #[error("invalid proxy: {0}")]
    Proxy(String),
}

/// Why a session could not be opened.
///
/// ```
/// use actix_engineio::{ConnectError, TransportError};
///
/// let err = ConnectError::Transport(TransportError::Http { status: 400, body: "{\"code\":5}".into() });
/// assert_eq!(err.status(), Some(400));
/// assert_eq!(err.to_string(), "handshake failed: HTTP 400: {\"code\":5}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The configuration is not usable; nothing was sent.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The handshake failed: refused, timed out, a non-2xx answer (with the server's
    /// status and body), or a malformed open packet.
    #[error("handshake failed: {0}")]
    Transport(#[from] TransportError),
    /// The session actor stopped before the handshake completed.
    #[error("the session stopped before it connected")]
    Aborted,
    /// The actor API was used outside an actix `System`: no arbiter to run the
    /// session on. Start one (`#[actix_rt::main]`) or use
    /// [`AsyncClient`](crate::AsyncClient), which runs anywhere.
    #[error("no actix System is running on this thread (use #[actix_rt::main], or AsyncClient)")]
    NoActixSystem,
    /// The client is connected already; disconnect first.
    #[error("the client is already connected")]
    AlreadyConnected,
    /// The connect handler refused the session, which was then closed.
    #[error("the connect handler refused the connection: {0}")]
    Refused(String),
}

impl ConnectError {
    /// The HTTP status of a refused handshake, if the server answered with one:
    /// to tell an authentication failure from an unreachable server.
    ///
    /// ```
    /// use actix_engineio::{ConnectError, TransportError};
    ///
    /// let refused = ConnectError::Transport(TransportError::Http { status: 403, body: String::new() });
    /// assert_eq!(refused.status(), Some(403));
    /// assert_eq!(ConnectError::Transport(TransportError::Timeout).status(), None);
    /// ```
    pub fn status(&self) -> Option<u16> {
        match self {
            ConnectError::Transport(TransportError::Http { status, .. }) => Some(*status),
            _ => None,
        }
    }
}

/// A message that was not taken for sending, given back with the reason: the refusal of
/// [`Send`](crate::Send), [`TrySend`](crate::TrySend) and the clients' `send` and
/// `try_send`. Nothing a sender hands over is dropped unseen.
///
/// ```
/// use actix_engineio::{Payload, SendError, Unsent};
///
/// let refused = Unsent { error: SendError::Full, payload: Payload::from("hi") };
/// assert_eq!(refused.to_string(), "send buffer is full");
/// let payload = refused.into_payload(); // to send later, or elsewhere
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{error}")]
pub struct Unsent {
    /// Why it was not taken.
    pub error: SendError,
    /// The message, untouched.
    pub payload: Payload,
}

impl Unsent {
    /// The message that was not sent.
    ///
    /// ```
    /// use actix_engineio::{Payload, SendError, Unsent};
    ///
    /// let refused = Unsent { error: SendError::NotConnected, payload: "x".into() };
    /// assert_eq!(refused.into_payload(), Payload::from("x"));
    /// ```
    pub fn into_payload(self) -> Payload {
        self.payload
    }
}
