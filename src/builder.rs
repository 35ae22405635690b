//! The builder that configures and starts a [`Session`]: the top of the crate, above
//! the session actor it starts.

use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Addr, Recipient};
use futures::channel::oneshot;

use crate::config::{parse_header, parse_transports, ClientConfig};
use crate::error::{ConfigError, ConnectError};
use crate::event::{Connect, Disconnect, Message, Subscribers, Upgrade};
use crate::session::Session;
use crate::transport::http::Http;

impl Session {
    /// A builder for a session with the server at `url` (`http`, `https`, `ws` or `wss`).
    ///
    /// The scheme only says whether TLS is used (`ws` is `http`, `wss` is `https`); the
    /// transports are chosen with [`SessionBuilder::transports`]. A path in the URL is
    /// the engine.io path unless [`SessionBuilder::path`] sets one.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), actix_engineio::ConnectError> {
    /// let session = actix_engineio::Session::builder("ws://127.0.0.1:3000").connect().await?;
    /// # Ok(()) }
    /// ```
    pub fn builder(url: impl Into<String>) -> SessionBuilder {
        SessionBuilder::new(url)
    }
}

/// Builds and starts a [`Session`].
///
/// Settings that cannot be used (a bad header, an unknown transport) are reported by
/// [`SessionBuilder::connect`] as [`ConnectError::Config`] before anything is sent.
///
/// ```no_run
/// use actix_engineio::{Session, TransportKind};
/// use std::time::Duration;
///
/// # async fn run() -> Result<(), actix_engineio::ConnectError> {
/// let session = Session::builder("http://127.0.0.1:3000")
///     .path("/socket.io/")
///     .header("Authorization", "Bearer secret")
///     .query("room", "lobby")
///     .transports([TransportKind::WebSocket])
///     .request_timeout(Duration::from_secs(5))
///     .connect()
///     .await?;
/// # let _ = session; Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `connect` is called"]
pub struct SessionBuilder {
    url: String,
    config: ClientConfig,
    subscribers: Subscribers,
    http_client: Option<awc::Client>,
}

impl SessionBuilder {
    pub(crate) fn new(url: impl Into<String>) -> Self {
        SessionBuilder {
            url: url.into(),
            config: ClientConfig::default(),
            subscribers: Subscribers::default(),
            http_client: None,
        }
    }

    /// Starts from an existing configuration instead of the defaults. It replaces
    /// every setting made on this builder so far, so call it first (subscribers and an
    /// [`http_client`](Self::http_client) are not settings: they stay).
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
    /// added when missing.
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

    /// Adds a header to every HTTP request and to the websocket handshake.
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
    /// the first transport cannot connect, `connect` fails.
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
    /// (default `true`), a value unique to each request so that no cache between
    /// client and server answers a poll with an old response. POSTs never carry it.
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
    /// is logged for every session that does (unless [`logging`](Self::logging) is off).
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

    /// Uses this `awc::Client` for every request instead of building one. TLS is then
    /// the client's own: setting `ca_certificate_pem`, `ca_file` or `ssl_verify(false)`
    /// as well is a configuration error, as they could not take effect.
    ///
    /// It must not negotiate HTTP/2 for websockets: build its connector with
    /// `max_http_version(Version::HTTP_11)`. Its own timeout (5 s unless changed) also
    /// bounds opening a websocket, so disable it: the session times every request
    /// itself, with [`request_timeout`](Self::request_timeout).
    ///
    /// ```
    /// use actix_engineio::Session;
    /// use awc::http::Version;
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let connector = awc::Connector::new().max_http_version(Version::HTTP_11);
    /// let client = awc::Client::builder().connector(connector).disable_timeout().finish();
    /// let builder = Session::builder("http://127.0.0.1:3000").http_client(client);
    /// # }
    /// ```
    pub fn http_client(mut self, client: awc::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Whether this session logs through the `log` crate (default `true`): the session
    /// opening and ending and the upgrade at `info`, failures at `warn`, every packet at
    /// `trace`. Errors still reach the application through events and results.
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// let builder = Session::builder("http://127.0.0.1:3000").logging(false);
    /// ```
    pub fn logging(mut self, on: bool) -> Self {
        self.config.logging = on;
        self
    }

    /// Subscribes to [`Connect`]. Every subscriber of an event gets it; call again to
    /// add more.
    ///
    /// ```
    /// use actix::prelude::*;
    /// use actix_engineio::{Connect, Session};
    ///
    /// struct Status;
    /// # impl Actor for Status { type Context = Context<Self>; }
    /// impl Handler<Connect> for Status {
    ///     type Result = ();
    ///     fn handle(&mut self, event: Connect, _: &mut Context<Self>) {
    ///         println!("session {} open over {}", event.sid, event.transport);
    ///     }
    /// }
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let builder = Session::builder("http://127.0.0.1:3000").on_connect(Status.start().recipient());
    /// # }
    /// ```
    pub fn on_connect(mut self, recipient: Recipient<Connect>) -> Self {
        self.subscribers.connect.push(recipient);
        self
    }

    /// Subscribes to [`Message`]: every message from the server, in order.
    ///
    /// ```
    /// use actix::prelude::*;
    /// use actix_engineio::{Message, Payload, Session};
    ///
    /// struct Chat;
    /// # impl Actor for Chat { type Context = Context<Self>; }
    /// impl Handler<Message> for Chat {
    ///     type Result = ();
    ///     fn handle(&mut self, Message(payload): Message, _: &mut Context<Self>) {
    ///         match payload {
    ///             Payload::Text(text) => println!("text: {text}"),
    ///             Payload::Binary(data) => println!("{} bytes", data.len()),
    ///         }
    ///     }
    /// }
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let builder = Session::builder("http://127.0.0.1:3000").on_message(Chat.start().recipient());
    /// # }
    /// ```
    pub fn on_message(mut self, recipient: Recipient<Message>) -> Self {
        self.subscribers.message.push(recipient);
        self
    }

    /// Subscribes to [`Disconnect`], the last event of a session: the place to
    /// reconnect, or to stop.
    ///
    /// ```
    /// use actix::prelude::*;
    /// use actix_engineio::{Disconnect, DisconnectReason, Session};
    ///
    /// struct Supervisor;
    /// # impl Actor for Supervisor { type Context = Context<Self>; }
    /// impl Handler<Disconnect> for Supervisor {
    ///     type Result = ();
    ///     fn handle(&mut self, Disconnect(reason): Disconnect, _: &mut Context<Self>) {
    ///         if reason != DisconnectReason::ClientDisconnect {
    ///             eprintln!("session lost: {reason} {}", reason.detail().unwrap_or_default());
    ///         }
    ///     }
    /// }
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let builder = Session::builder("http://127.0.0.1:3000").on_disconnect(Supervisor.start().recipient());
    /// # }
    /// ```
    pub fn on_disconnect(mut self, recipient: Recipient<Disconnect>) -> Self {
        self.subscribers.disconnect.push(recipient);
        self
    }

    /// Subscribes to [`Upgrade`]: whether a polling session moved to websocket.
    ///
    /// ```
    /// use actix::prelude::*;
    /// use actix_engineio::{Session, Upgrade};
    ///
    /// struct Status;
    /// # impl Actor for Status { type Context = Context<Self>; }
    /// impl Handler<Upgrade> for Status {
    ///     type Result = ();
    ///     fn handle(&mut self, event: Upgrade, _: &mut Context<Self>) {
    ///         match event {
    ///             Upgrade::Completed(transport) => println!("now on {transport}"),
    ///             Upgrade::Failed(error) => println!("staying on polling: {error}"),
    ///         }
    ///     }
    /// }
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let builder = Session::builder("http://127.0.0.1:3000").on_upgrade(Status.start().recipient());
    /// # }
    /// ```
    pub fn on_upgrade(mut self, recipient: Recipient<Upgrade>) -> Self {
        self.subscribers.upgrade.push(recipient);
        self
    }

    /// Starts the session on the current arbiter and waits for the handshake.
    ///
    /// By the time this returns, [`Connect`] has been sent to every subscriber (their
    /// handlers may run later). A configuration error, a refused connection, a
    /// timeout, a non-2xx answer or a malformed open packet is returned as an error,
    /// and the session actor stops.
    ///
    /// The session lives until it ends (closed by [`Close`](crate::Close), by the
    /// server, or by a failure); dropping the returned address does not end it.
    /// Dropping this future before it resolves does: the session closes as soon as it
    /// is open.
    ///
    /// # Panics
    ///
    /// Outside an actix `System` (the actor needs an arbiter to run on).
    ///
    /// ```no_run
    /// use actix_engineio::Session;
    ///
    /// #[actix_rt::main]
    /// async fn main() {
    ///     match Session::builder("http://127.0.0.1:3000").connect().await {
    ///         Ok(session) => { /* send, subscribe, close */ }
    ///         Err(err) if err.status() == Some(403) => eprintln!("not allowed: {err}"),
    ///         Err(err) => eprintln!("cannot connect: {err}"),
    ///     }
    /// }
    /// ```
    pub async fn connect(self) -> Result<Addr<Session>, ConnectError> {
        if let Some(error) = self.config.error {
            return Err(error.into());
        }
        let config = Arc::new(self.config);
        let http = Http::new(&self.url, config.clone(), self.http_client)?;
        let (reply, connected) = oneshot::channel();
        let addr = Session::new(http, config, self.subscribers, reply).start();
        match connected.await {
            Ok(Ok(())) => Ok(addr),
            Ok(Err(error)) => Err(error),
            Err(oneshot::Canceled) => Err(ConnectError::Aborted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_hidden_from_debug() {
        let builder = SessionBuilder::new("http://h").header("Authorization", "Bearer secret");
        let shown = format!("{:?}", builder.client_config());
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn first_bad_setting_is_kept() {
        let builder = SessionBuilder::new("http://h")
            .header("bad header", "v")
            .transports(["nope"]);
        assert!(matches!(
            builder.config.error,
            Some(ConfigError::Header { .. })
        ));
    }
}
