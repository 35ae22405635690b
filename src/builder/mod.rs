//! The builders of the crate: one [`Builder`] type whose settings are the same for
//! every API (the actor [`Session`](crate::Session), [`AsyncClient`](crate::AsyncClient),
//! the blocking [`Client`](crate::Client)), and whose last step depends on the API.
//!
//! [`SessionBuilder`], [`AsyncClientBuilder`] and [`ClientBuilder`] are its three
//! forms; the settings themselves are kept in a [`ClientConfig`].

mod client;
mod compression;
mod proxy;
mod receiving;
mod session;
mod transport_options;

use std::time::Duration;

pub(crate) use self::client::HttpFactory;
pub use self::client::{AsyncApi, AsyncClientBuilder, BlockingApi, ClientApi, ClientBuilder};
pub(crate) use self::session::start_session;
pub use self::session::{ActorApi, SessionBuilder};
use crate::config::{
    check_subprotocol, parse_header, parse_transports, ClientConfig, ReconnectPolicy,
    SendQueueLimit,
};
use crate::error::ConfigError;
use crate::protocol::ProtocolVersion;

/// Settings of a session, then what the API needs: `A` is [`ActorApi`],
/// [`AsyncApi`] or [`BlockingApi`]. Every setting method is available on each; a
/// setting that cannot be used (a bad header, an unknown transport) is reported by
/// `connect` as [`ConnectError::Config`](crate::ConnectError::Config) before anything
/// is sent.
///
/// ```no_run
/// use std::time::Duration;
/// use actix_engineio::{AsyncClient, Session, TransportKind};
///
/// # async fn run() -> Result<(), actix_engineio::ConnectError> {
/// // The actor API: settings, subscribers, then `connect`.
/// let session = Session::builder("http://127.0.0.1:3000")
///     .path("/socket.io/")
///     .header("Authorization", "Bearer secret")
///     .transports([TransportKind::WebSocket])
///     .request_timeout(Duration::from_secs(5))
///     .connect()
///     .await?;
/// // The same settings for a client, then `build`.
/// let client = AsyncClient::builder()
///     .path("/socket.io/")
///     .request_timeout(Duration::from_secs(5))
///     .build();
/// # let _ = (session, client); Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until it connects or builds"]
pub struct Builder<A> {
    config: ClientConfig,
    api: A,
}

impl<A> Builder<A> {
    pub(crate) fn with(config: ClientConfig, api: A) -> Self {
        Builder { config, api }
    }

    pub(crate) fn into_parts(self) -> (ClientConfig, A) {
        (self.config, self.api)
    }

    /// Starts from an existing configuration instead of the defaults. It replaces
    /// every setting made on this builder so far, so call it first (subscribers,
    /// handlers and a custom HTTP client are not settings: they stay).
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// let template = Session::builder("http://unused").header("X-App", "demo");
    /// let config = template.client_config().clone();
    /// let builder = Session::builder("http://127.0.0.1:3000").config(config).query("room", "a");
    /// # let _ = builder;
    /// ```
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// The configuration as set so far, to reuse for other sessions.
    ///
    /// Its `Debug` output hides credentials (`Authorization`, `Proxy-Authorization`
    /// and `Cookie` headers), so it can be logged.
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// let builder = Session::builder("http://127.0.0.1:3000").header("Authorization", "Bearer secret");
    /// let shown = format!("{:?}", builder.client_config());
    /// assert!(!shown.contains("secret"));
    /// ```
    pub fn client_config(&self) -> &ClientConfig {
        &self.config
    }

    /// The engine.io path (default `/engine.io/`; Socket.IO servers use `/socket.io/`).
    /// Without it, a non-root path in the URL is used. Leading and trailing slashes are
    /// added when missing (the trailing one unless
    /// [`add_trailing_slash(false)`](Self::add_trailing_slash)).
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// let builder = Session::builder("http://127.0.0.1:3000").path("/socket.io/");
    /// // The same path, taken from the URL:
    /// let builder = Session::builder("http://127.0.0.1:3000/socket.io/");
    /// ```
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.config.path = Some(path.into());
        self
    }

    /// Adds a header to every HTTP request and to the websocket handshake (see
    /// [`polling_header`](Self::polling_header) and
    /// [`websocket_header`](Self::websocket_header) for one transport alone).
    ///
    /// Adding a name twice sends it twice. A `Cookie` header is sent together with the
    /// cookies the server sets. A name or value that is not valid HTTP is reported by
    /// [`connect`](Self::connect) as [`ConfigError::Header`], before anything is sent.
    ///
    /// ```
    /// use actix_engineio::{ConfigError, ConnectError, Session};
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let builder = Session::builder("http://127.0.0.1:3000").header("Authorization", "Bearer secret");
    ///
    /// let bad = Session::builder("http://127.0.0.1:3000").header("X-Name", "line\nbreak");
    /// let err = bad.connect().await.unwrap_err();
    /// assert!(matches!(err, ConnectError::Config(ConfigError::Header { .. })));
    /// # }
    /// ```
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let name = name.as_ref();
        match parse_header(name, value.as_ref()) {
            Ok(pair) => self.config.headers.push(pair),
            Err(reason) => self.config.fail(ConfigError::Header {
                name: name.to_owned(),
                reason,
            }),
        }
        self
    }

    /// Adds a query parameter to every request, after those of the URL and before the
    /// engine.io ones (`EIO`, `transport`, `sid`, `t`).
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// // Requests go to /engine.io/?token=abc&room=lobby&EIO=4&transport=…
    /// let builder = Session::builder("http://127.0.0.1:3000/?token=abc").query("room", "lobby");
    /// ```
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.query.push((key.into(), value.into()));
        self
    }

    /// The transports to use, in order: the first opens the session, a later
    /// `websocket` is upgraded to. Default `polling`, `websocket`.
    ///
    /// Accepts [`TransportKind`](crate::TransportKind)s or their names; an empty list, an unknown name or
    /// a repeated transport is a configuration error. The list is not a fallback: if
    /// the first transport cannot connect, `connect` fails, unless
    /// [`try_all_transports`](Self::try_all_transports) is on.
    ///
    /// ```
    /// use actix_engineio::{Session, TransportKind};
    ///
    /// // Websocket only: no HTTP long-polling at all.
    /// let builder = Session::builder("http://127.0.0.1:3000").transports(["websocket"]);
    /// // Polling only, for proxies that block websockets.
    /// let builder = Session::builder("http://127.0.0.1:3000").transports([TransportKind::Polling]);
    /// ```
    pub fn transports<I>(mut self, transports: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        match parse_transports(transports) {
            Ok(list) => self.config.transports = list,
            Err(reason) => self.config.fail(ConfigError::Transports(reason)),
        }
        self
    }

    /// The Engine.IO protocol version to speak (default [`ProtocolVersion::V4`]): `V3`
    /// for servers of Socket.IO 1.x and 2.x (Node `engine.io` 3.x, python-engineio 3.x,
    /// or a newer Node `engine.io` with `allowEIO3`). Every request then asks for `EIO=3`, the payloads
    /// and frames use the v3 formats and the client sends the pings (see the repository's
    /// `docs/protocol.md` section 11). A server that speaks v3 only fails a v4 polling
    /// handshake with a [`ProtocolError`](crate::protocol::ProtocolError) saying so.
    ///
    /// ```
    /// use actix_engineio::{ProtocolVersion, Session};
    ///
    /// // A Socket.IO 2 server.
    /// let builder = Session::builder("http://127.0.0.1:3000")
    ///     .path("/socket.io/")
    ///     .protocol(ProtocolVersion::V3);
    /// let v3: ProtocolVersion = "3".parse().unwrap(); // as a command line gives it
    /// assert_eq!(v3, ProtocolVersion::V3);
    /// ```
    pub fn protocol(mut self, version: ProtocolVersion) -> Self {
        self.config.protocol = version;
        self
    }

    /// Whether a polling session upgrades to websocket when it can (default `true`):
    /// when `websocket` is among the [`transports`](Self::transports) and the server
    /// offers the upgrade in its handshake.
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// // Stay on polling, yet keep `websocket` listed.
    /// let builder = Session::builder("http://127.0.0.1:3000").upgrade(false);
    /// ```
    pub fn upgrade(mut self, upgrade: bool) -> Self {
        self.config.upgrade = upgrade;
        self
    }

    /// Timeout of the handshake, of each POST and of opening a websocket
    /// (default [`DEFAULT_REQUEST_TIMEOUT`](crate::DEFAULT_REQUEST_TIMEOUT)); also how long a closing transport waits
    /// for the server. Polls wait as long as the server's heartbeat requires instead
    /// (`pingInterval + pingTimeout`, and a margin). A timeout during the handshake
    /// fails [`connect`](Self::connect); later it ends the session with
    /// [`TransportError::Timeout`](crate::TransportError::Timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_engineio::Session;
    ///
    /// let builder = Session::builder("http://127.0.0.1:3000").request_timeout(Duration::from_secs(3));
    /// ```
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// The largest websocket message accepted from the server, fragments included
    /// (default 64 MiB); a larger one ends the session, or fails the handshake of a
    /// websocket-only session, with
    /// [`TransportError::FrameTooLarge`](crate::TransportError::FrameTooLarge).
    ///
    /// The server's `maxPayload` is not used for this: it bounds what the server
    /// accepts, not what it sends (engineioxide announces 100 kB and sends more).
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// // Messages are small: a 1 MiB frame is a broken or hostile server.
    /// let builder = Session::builder("http://127.0.0.1:3000").max_frame_size(1024 * 1024);
    /// ```
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.config.max_frame_size = bytes;
        self
    }

    /// The largest polling response accepted, after decompression
    /// (default [`DEFAULT_MAX_BODY_SIZE`](crate::DEFAULT_MAX_BODY_SIZE)); a larger one fails the handshake or ends
    /// the session with [`TransportError::BodyTooLarge`](crate::TransportError::BodyTooLarge).
    /// A poll may carry many messages, so this bounds their sum, not each one.
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// let builder = Session::builder("http://127.0.0.1:3000").max_body_size(8 * 1024 * 1024);
    /// ```
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.config.max_body_size = bytes;
        self
    }

    /// How many bytes may be on their way to the server (handed to a transport, not
    /// yet written to the network) before [`Send`](crate::Send) stops answering at
    /// once (default [`DEFAULT_SEND_BUFFER`](crate::DEFAULT_SEND_BUFFER)). A sender that awaits each answer is
    /// thereby held back to the pace of the network; nothing is dropped.
    ///
    /// Bytes are counted as they go on the wire (a binary message over polling as its
    /// base64), pongs and other packets included. It is a threshold, not a cap: a
    /// message is accepted while less than this is unwritten, or when nothing is,
    /// so a message larger than the buffer still goes, alone.
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// // Keep at most about 64 KiB in flight: lower latency for whatever is sent next.
    /// let builder = Session::builder("http://127.0.0.1:3000").send_buffer(64 * 1024);
    /// ```
    pub fn send_buffer(mut self, bytes: usize) -> Self {
        self.config.send_buffer = bytes;
        self
    }

    /// The most packets one polling POST carries (default 16, and at least 1); a POST
    /// also stays within the server's `maxPayload`.
    ///
    /// The default suits every server: python-engineio silently drops a POST of more
    /// than 16 packets while answering 200. Node's `engine.io` and engineioxide accept
    /// more, and a larger cap multiplies the throughput of a busy polling session
    /// (about 3.7 times at 256 in this crate's benchmark).
    ///
    /// ```
    /// // Talking to a Node engine.io server over polling only:
    /// let builder = actix_engineio::Session::builder("http://127.0.0.1:3000")
    ///     .transports(["polling"])
    ///     .max_packets_per_post(256);
    /// # let _ = builder;
    /// ```
    pub fn max_packets_per_post(mut self, packets: usize) -> Self {
        self.config.max_packets_per_post = packets.max(1);
        self
    }

    /// Whether polling GETs, the handshake included, carry the `t` cache-buster
    /// (default `true`, as Node's client and python-engineio do; see
    /// [`timestamp_param`](Self::timestamp_param) for another name), a value unique to
    /// each request so that no cache between client and server answers with an old
    /// response. POSTs and the websocket handshake never carry it.
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// let builder = Session::builder("http://127.0.0.1:3000").timestamp_requests(false);
    /// ```
    pub fn timestamp_requests(mut self, on: bool) -> Self {
        self.config.timestamp_requests = on;
        self
    }

    /// Trusts the PEM-encoded CA certificate(s) in `pem` beside the default roots.
    ///
    /// PEM that holds no certificate is reported by [`connect`](Self::connect) as
    /// [`ConfigError::Tls`], before anything is sent.
    ///
    /// ```
    /// use actix_engineio::{ConfigError, ConnectError, Session};
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let pem = "not a certificate"; // usually include_bytes!("my-ca.pem")
    /// let err = Session::builder("https://127.0.0.1:3000")
    ///     .ca_certificate_pem(pem)
    ///     .connect()
    ///     .await
    ///     .unwrap_err();
    /// assert!(matches!(err, ConnectError::Config(ConfigError::Tls(_))));
    /// # }
    /// ```
    pub fn ca_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.config.tls.ca_pem.push(pem.into());
        self
    }

    /// Trusts the PEM-encoded CA certificate(s) in the file at `path`, read now.
    ///
    /// An unreadable file is reported by [`connect`](Self::connect) as
    /// [`ConfigError::Tls`], before anything is sent.
    ///
    /// ```
    /// use actix_engineio::{ConfigError, ConnectError, Session};
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let builder = Session::builder("https://127.0.0.1:3000").ca_file("/no/such/ca.pem");
    /// let err = builder.connect().await.unwrap_err();
    /// assert!(matches!(err, ConnectError::Config(ConfigError::Tls(_))));
    /// # }
    /// ```
    pub fn ca_file(self, path: impl AsRef<std::path::Path>) -> Self {
        let path = path.as_ref();
        match std::fs::read(path) {
            Ok(pem) => self.ca_certificate_pem(pem),
            Err(e) => {
                let mut this = self;
                this.config.fail(ConfigError::Tls(format!(
                    "cannot read {}: {e}",
                    path.display()
                )));
                this
            }
        }
    }

    /// Whether to verify the server's TLS certificate (default `true`). Turning it off
    /// accepts any certificate, so anyone on the path can read the session; a warning
    /// is logged for every session that does (unless logging is off).
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// // A development server with a self-signed certificate; prefer `ca_file` when you can.
    /// let builder = Session::builder("https://localhost:3000").ssl_verify(false);
    /// ```
    pub fn ssl_verify(mut self, verify: bool) -> Self {
        self.config.tls.verify = verify;
        self
    }

    /// Adds a header to the websocket handshake only (the websocket-only session's and
    /// the upgrade's), not to polling requests: Node's `transportOptions.websocket.extraHeaders`.
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// let builder = Session::builder("http://127.0.0.1:3000").websocket_header("X-Shard", "7");
    /// ```
    pub fn websocket_header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let name = name.as_ref();
        match parse_header(name, value.as_ref()) {
            Ok(pair) => self.config.per_transport.websocket_headers.push(pair),
            Err(reason) => self.config.fail(ConfigError::Header {
                name: name.to_owned(),
                reason,
            }),
        }
        self
    }

    /// The websocket subprotocols to offer in the handshake (`Sec-WebSocket-Protocol`),
    /// in order of preference; none by default. A server that picks none of them
    /// still gets the session. A name that is not an HTTP token is reported by
    /// `connect` as [`ConfigError::Header`].
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// let builder = Session::builder("http://127.0.0.1:3000").websocket_protocols(["v2.chat", "chat"]);
    /// ```
    pub fn websocket_protocols<I>(mut self, protocols: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let protocols: Vec<String> = protocols.into_iter().map(Into::into).collect();
        match protocols.iter().try_for_each(|p| check_subprotocol(p)) {
            Ok(()) => self.config.per_transport.websocket_protocols = protocols,
            Err(reason) => self.config.fail(ConfigError::Header {
                name: "Sec-WebSocket-Protocol".into(),
                reason,
            }),
        }
        self
    }

    /// Reopens the session when it is lost, as `policy` says (default: never). The
    /// session runs under actix's `Supervisor`: the actor, its address, subscribers and
    /// handlers stay; each lost session gets its `Disconnect`, each attempt a
    /// [`Reconnecting`](crate::Reconnecting) event first, each new session a `Connect`
    /// whose `attempt` says it is a reconnection. `Close` (`disconnect()` on the
    /// clients) stops it for good, also while it waits to retry.
    ///
    /// ```
    /// use actix_engineio::{ReconnectPolicy, Session};
    ///
    /// let builder = Session::builder("http://127.0.0.1:3000").reconnect(ReconnectPolicy::default());
    /// ```
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.config.reconnect = Some(policy);
        self
    }

    /// Bounds the send queue, where messages wait for room in the send buffer
    /// (default 1,024 messages and 1 MiB): a sender that awaits its answer is held back
    /// once it is full; a `do_send` is dropped with a logged warning (and counted, see
    /// [`Stats`](crate::Stats)); a `try_send` is refused with the message given back.
    ///
    /// ```
    /// let builder = actix_engineio::Session::builder("http://127.0.0.1:3000").send_queue(256, 64 * 1024);
    /// ```
    pub fn send_queue(mut self, messages: usize, bytes: usize) -> Self {
        self.config.send_queue = SendQueueLimit { messages, bytes };
        self
    }
}
