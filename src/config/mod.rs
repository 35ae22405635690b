//! Everything a session can be configured with, as plain data: the one home of every
//! setting. The builders fill it in; the session and its transports read it.

use std::fmt;
use std::time::Duration;

use awc::http::header::{HeaderName, HeaderValue};

mod opening;
mod parse;
mod per_transport;
mod proxy;
mod reconnect;
mod shared;
mod url_shape;

use self::opening::Opening;
pub(crate) use self::parse::RedactedHeaders;
use self::parse::RedactedQuery;
pub(crate) use self::parse::{parse_header, parse_transports};
pub(crate) use self::per_transport::check_subprotocol;
use self::per_transport::PerTransport;
pub(crate) use self::proxy::{proxy_for, ProxySetting, ProxyUrl};
pub(crate) use self::reconnect::random_fraction;
pub use self::reconnect::{ReconnectAttempt, ReconnectPolicy};
pub(crate) use self::shared::shared;
pub(crate) use self::url_shape::check_timestamp_param;
use self::url_shape::UrlShape;
use crate::error::ConfigError;
use crate::protocol::polling::MAX_PACKETS_PER_PAYLOAD;
use crate::protocol::{ProtocolVersion, TransportKind};

/// Default timeout of the handshake, of each POST and of opening a websocket; see
/// [`SessionBuilder::request_timeout`](crate::SessionBuilder::request_timeout).
///
/// ```
/// use std::time::Duration;
/// use actix_engineio::{Session, DEFAULT_REQUEST_TIMEOUT};
///
/// assert_eq!(DEFAULT_REQUEST_TIMEOUT, Duration::from_secs(10));
/// // A slow satellite link: give every request three times as long.
/// let builder = Session::builder("http://127.0.0.1:3000").request_timeout(DEFAULT_REQUEST_TIMEOUT * 3);
/// ```
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Default bound on a message received over websocket.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 64 * 1024 * 1024;

/// Default bound on a polling response body, after decompression; see
/// [`SessionBuilder::max_body_size`](crate::SessionBuilder::max_body_size).
///
/// ```
/// assert_eq!(actix_engineio::DEFAULT_MAX_BODY_SIZE, 64 * 1024 * 1024);
/// ```
pub const DEFAULT_MAX_BODY_SIZE: usize = 64 * 1024 * 1024;

/// Default amount of data on its way to the server before [`Send`](crate::Send)
/// answers late; see [`SessionBuilder::send_buffer`](crate::SessionBuilder::send_buffer).
///
/// ```
/// assert_eq!(actix_engineio::DEFAULT_SEND_BUFFER, 1024 * 1024);
/// ```
pub const DEFAULT_SEND_BUFFER: usize = 1024 * 1024;

/// Default number of received events that may wait for the subscribers, handlers or
/// event stream before the session stops reading from the server; see
/// [`SessionBuilder::event_buffer`](crate::SessionBuilder::event_buffer).
///
/// ```
/// assert_eq!(actix_engineio::DEFAULT_EVENT_BUFFER, 1024);
/// ```
pub const DEFAULT_EVENT_BUFFER: usize = 1024;

/// Default amount of received message data that may wait for the subscribers,
/// handlers or event stream before the session stops reading from the server; see
/// [`SessionBuilder::event_buffer_bytes`](crate::SessionBuilder::event_buffer_bytes).
///
/// ```
/// assert_eq!(actix_engineio::DEFAULT_EVENT_BUFFER_BYTES, 1024 * 1024);
/// ```
pub const DEFAULT_EVENT_BUFFER_BYTES: usize = 1024 * 1024;

/// The bound of the send queue: messages that wait for room in the send buffer. A
/// sender that waits for its answer (`send(..).await`) is held back instead of refused;
/// `do_send`, `try_send` and the clients' `try_send` are refused once either bound is
/// reached. See [`SessionBuilder::send_queue`](crate::SessionBuilder::send_queue).
///
/// ```
/// use actix_engineio::SendQueueLimit;
///
/// let limit = SendQueueLimit::default();
/// assert_eq!((limit.messages, limit.bytes), (1024, 1024 * 1024));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendQueueLimit {
    /// The most messages.
    pub messages: usize,
    /// The most bytes of message data.
    pub bytes: usize,
}

impl Default for SendQueueLimit {
    fn default() -> Self {
        SendQueueLimit {
            messages: 1024,
            bytes: 1024 * 1024,
        }
    }
}

/// The settings of a session, without its subscribers and without a custom
/// [`http_client`](crate::SessionBuilder::http_client).
///
/// Filled in through [`SessionBuilder`](crate::SessionBuilder) and read back with
/// [`SessionBuilder::client_config`](crate::SessionBuilder::client_config). Unlike the builder, which may hold an
/// `awc::Client` (tied to its thread), it is `Send`: one configuration can start
/// sessions on many arbiters. A setting the builder refused travels with it and is
/// reported by [`connect`](crate::SessionBuilder::connect).
///
/// ```
/// use actix_engineio::{ClientConfig, Session};
///
/// let config: ClientConfig = Session::builder("http://unused")
///     .path("/socket.io/")
///     .header("Authorization", "Bearer secret")
///     .client_config()
///     .clone();
/// // Start a session with these settings on another thread (and its own arbiter).
/// std::thread::spawn(move || {
///     let builder = Session::builder("http://127.0.0.1:3000").config(config);
/// })
/// .join()
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct ClientConfig {
    pub(crate) path: Option<String>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// Headers of one transport only, and the websocket subprotocols.
    pub(crate) per_transport: PerTransport,
    /// The cache-buster's name and the path's trailing slash.
    pub(crate) url_shape: UrlShape,
    /// Which transports a session tries to open, in which order.
    pub(crate) opening: Opening,
    /// Whether the websocket handshake offers permessage-deflate.
    pub(crate) per_message_deflate: bool,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) request_timeout: Duration,
    pub(crate) max_frame_size: usize,
    pub(crate) max_body_size: usize,
    pub(crate) send_buffer: usize,
    pub(crate) max_packets_per_post: usize,
    pub(crate) transports: Vec<TransportKind>,
    /// The Engine.IO protocol version every request asks for and every codec speaks.
    pub(crate) protocol: ProtocolVersion,
    pub(crate) upgrade: bool,
    pub(crate) timestamp_requests: bool,
    pub(crate) tls: TlsOptions,
    /// The HTTP proxy: from the environment (the default), explicit, or none.
    pub(crate) proxy: ProxySetting,
    pub(crate) logging: bool,
    /// How many received events, and bytes of messages, may wait for the
    /// subscribers and the client before the session stops reading.
    pub(crate) event_buffer: usize,
    pub(crate) event_buffer_bytes: usize,
    /// How many messages, and bytes, may wait for room in the send buffer from senders
    /// that do not wait for their answer.
    pub(crate) send_queue: SendQueueLimit,
    pub(crate) reconnect: Option<ReconnectPolicy>,
    /// The first invalid setting, reported when the session starts.
    pub(crate) error: Option<ConfigError>,
}

/// TLS settings: extra trusted certificates, whether to verify at all, and the client's
/// own certificate for servers that ask for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsOptions {
    /// PEM-encoded CA certificates trusted beside the default roots.
    pub ca_pem: Vec<Vec<u8>>,
    pub verify: bool,
    /// The certificate (and key) shown to a server that asks for one (mutual TLS).
    pub client_identity: Option<ClientIdentity>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            ca_pem: Vec::new(),
            verify: true,
            client_identity: None,
        }
    }
}

/// A client certificate for mutual TLS: the chain (leaf first) and its private key, PEM.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ClientIdentity {
    pub cert_chain_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

/// The private key never shows.
impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field(
                "cert_chain_pem",
                &format_args!("{} bytes", self.cert_chain_pem.len()),
            )
            .field("key_pem", &format_args!("{}", crate::protocol::REDACTED))
            .finish()
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            path: None,
            headers: Vec::new(),
            per_transport: PerTransport::default(),
            url_shape: UrlShape::default(),
            opening: Opening::default(),
            per_message_deflate: true,
            query: Vec::new(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            send_buffer: DEFAULT_SEND_BUFFER,
            max_packets_per_post: MAX_PACKETS_PER_PAYLOAD,
            transports: vec![TransportKind::Polling, TransportKind::WebSocket],
            protocol: ProtocolVersion::V4,
            upgrade: true,
            timestamp_requests: true,
            tls: TlsOptions::default(),
            proxy: ProxySetting::default(),
            logging: true,
            event_buffer: DEFAULT_EVENT_BUFFER,
            event_buffer_bytes: DEFAULT_EVENT_BUFFER_BYTES,
            send_queue: SendQueueLimit::default(),
            reconnect: None,
            error: None,
        }
    }
}

/// Secrets stay hidden: credential headers print as `Sensitive`, query values that are
/// or look like tokens as `<redacted>`.
///
/// ```
/// use actix_engineio::Session;
///
/// let builder = Session::builder("http://127.0.0.1:3000")
///     .header("Authorization", "Bearer hunter2")
///     .query("token", "hunter2");
/// assert!(!format!("{:?}", builder.client_config()).contains("hunter2"));
/// ```
impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("path", &self.path)
            .field("headers", &self.headers)
            .field("per_transport", &self.per_transport)
            .field("url_shape", &self.url_shape)
            .field("opening", &self.opening)
            .field("per_message_deflate", &self.per_message_deflate)
            .field("query", &RedactedQuery(&self.query))
            .field("request_timeout", &self.request_timeout)
            .field("max_frame_size", &self.max_frame_size)
            .field("max_body_size", &self.max_body_size)
            .field("send_buffer", &self.send_buffer)
            .field("max_packets_per_post", &self.max_packets_per_post)
            .field("transports", &self.transports)
            .field("protocol", &self.protocol)
            .field("upgrade", &self.upgrade)
            .field("timestamp_requests", &self.timestamp_requests)
            .field("tls", &self.tls)
            .field("proxy", &self.proxy)
            .field("logging", &self.logging)
            .field("event_buffer", &self.event_buffer)
            .field("event_buffer_bytes", &self.event_buffer_bytes)
            .field("send_queue", &self.send_queue)
            .field("reconnect", &self.reconnect)
            .field("error", &self.error)
            .finish()
    }
}

impl ClientConfig {
    /// Keeps the first invalid setting, for `connect` to report.
    pub(crate) fn fail(&mut self, error: ConfigError) {
        self.error.get_or_insert(error);
    }

    /// Whether a polling session should probe for websocket when the server offers it.
    pub(crate) fn upgrade_wanted(&self) -> bool {
        self.upgrade && self.transports.contains(&TransportKind::WebSocket)
    }
}
