//! Everything a session can be configured with, and the builder that starts one.

use std::time::Duration;

use actix::{Actor, Addr, Recipient};
use awc::http::header::{self, HeaderName, HeaderValue};
use futures::channel::oneshot;

use crate::error::{ConfigError, ConnectError};
use crate::event::{Connect, Disconnect, Message, Upgrade};
use crate::protocol::polling::MAX_PACKETS_PER_PAYLOAD;
use crate::protocol::TransportKind;
use crate::session::{Session, Subscribers};
use crate::transport::http::Http;

/// Default timeout of the handshake, of each POST and of opening a websocket.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Default bound on a message received over websocket.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 64 * 1024 * 1024;

/// Default bound on a polling response body, after decompression.
pub const DEFAULT_MAX_BODY_SIZE: usize = 64 * 1024 * 1024;

/// Default amount of message data on its way to the server before `Send` waits.
pub const DEFAULT_SEND_BUFFER: usize = 1024 * 1024;

/// The settings of a session, without its subscribers.
///
/// Filled in through [`SessionBuilder`]; cheap to clone, and `Send`, so one
/// configuration can start sessions on many arbiters.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub(crate) path: Option<String>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) request_timeout: Duration,
    pub(crate) max_frame_size: usize,
    pub(crate) max_body_size: usize,
    pub(crate) send_buffer: usize,
    pub(crate) max_packets_per_post: usize,
    pub(crate) transports: Vec<TransportKind>,
    pub(crate) upgrade: bool,
    pub(crate) timestamp_requests: bool,
    pub(crate) tls: TlsOptions,
    pub(crate) logging: bool,
    /// The first invalid setting, reported when the session starts.
    pub(crate) error: Option<ConfigError>,
}

/// TLS settings: extra trusted certificates and whether to verify at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsOptions {
    /// PEM-encoded CA certificates trusted beside the default roots.
    pub ca_pem: Vec<Vec<u8>>,
    pub verify: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            path: None,
            headers: Vec::new(),
            query: Vec::new(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            send_buffer: DEFAULT_SEND_BUFFER,
            max_packets_per_post: MAX_PACKETS_PER_PAYLOAD,
            transports: vec![TransportKind::Polling, TransportKind::WebSocket],
            upgrade: true,
            timestamp_requests: true,
            tls: TlsOptions {
                ca_pem: Vec::new(),
                verify: true,
            },
            logging: true,
            error: None,
        }
    }
}

impl ClientConfig {
    fn fail(&mut self, error: ConfigError) {
        self.error.get_or_insert(error);
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
    /// every setting made on this builder so far, so call it first.
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
    pub fn client_config(&self) -> &ClientConfig {
        &self.config
    }

    /// The engine.io path (default `/engine.io/`; Socket.IO servers use `/socket.io/`).
    /// Without it, a non-root path in the URL is used.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.config.path = Some(path.into());
        self
    }

    /// Adds a header to every HTTP request and to the websocket handshake.
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

    /// Adds a query parameter to every request, before the engine.io ones.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.query.push((key.into(), value.into()));
        self
    }

    /// The transports to use, in order: the first opens the session, a later
    /// `websocket` is upgraded to. Default `polling`, `websocket`.
    ///
    /// Accepts [`TransportKind`]s or their names; an empty list, an unknown name or
    /// a repeated transport is a configuration error. The list is not a fallback: if
    /// the first transport cannot connect, `connect` fails.
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

    /// Whether a polling session upgrades to websocket when it can (default `true`).
    pub fn upgrade(mut self, upgrade: bool) -> Self {
        self.config.upgrade = upgrade;
        self
    }

    /// Timeout of the handshake, of each POST and of opening a websocket
    /// (default [`DEFAULT_REQUEST_TIMEOUT`]). Polls wait as long as the server's
    /// heartbeat requires instead.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// The largest websocket message accepted from the server, fragments included
    /// (default [`DEFAULT_MAX_FRAME_SIZE`]); a larger one ends the session with
    /// [`TransportError::FrameTooLarge`](crate::TransportError::FrameTooLarge).
    ///
    /// The server's `maxPayload` is not used for this: it bounds what the server
    /// accepts, not what it sends (engineioxide announces 100 kB and sends more).
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.config.max_frame_size = bytes;
        self
    }

    /// The largest polling response accepted, after decompression
    /// (default [`DEFAULT_MAX_BODY_SIZE`]).
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.config.max_body_size = bytes;
        self
    }

    /// How much message data may be on its way to the server (handed to a transport,
    /// not yet written to the network) before [`Send`](crate::Send) stops answering
    /// at once (default [`DEFAULT_SEND_BUFFER`]). A sender that awaits each answer is
    /// thereby held back to the pace of the network; nothing is dropped.
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

    /// Whether polling GETs carry the `t` cache-buster (default `true`).
    pub fn timestamp_requests(mut self, on: bool) -> Self {
        self.config.timestamp_requests = on;
        self
    }

    /// Trusts the PEM-encoded CA certificate(s) in `pem` beside the default roots.
    pub fn ca_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.config.tls.ca_pem.push(pem.into());
        self
    }

    /// Trusts the PEM-encoded CA certificate(s) in the file at `path`.
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
    pub fn ssl_verify(mut self, verify: bool) -> Self {
        self.config.tls.verify = verify;
        self
    }

    /// Uses this `awc::Client` for every request instead of building one (the TLS
    /// settings above are then the client's own). It must not negotiate HTTP/2 for
    /// websockets: build its connector with `max_http_version(Version::HTTP_11)`.
    pub fn http_client(mut self, client: awc::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Whether this session logs through the `log` crate (default `true`).
    pub fn logging(mut self, on: bool) -> Self {
        self.config.logging = on;
        self
    }

    /// Subscribes to [`Connect`].
    pub fn on_connect(mut self, recipient: Recipient<Connect>) -> Self {
        self.subscribers.connect.push(recipient);
        self
    }

    /// Subscribes to [`Message`].
    pub fn on_message(mut self, recipient: Recipient<Message>) -> Self {
        self.subscribers.message.push(recipient);
        self
    }

    /// Subscribes to [`Disconnect`].
    pub fn on_disconnect(mut self, recipient: Recipient<Disconnect>) -> Self {
        self.subscribers.disconnect.push(recipient);
        self
    }

    /// Subscribes to [`Upgrade`].
    pub fn on_upgrade(mut self, recipient: Recipient<Upgrade>) -> Self {
        self.subscribers.upgrade.push(recipient);
        self
    }

    /// Starts the session on the current arbiter and waits for the handshake.
    ///
    /// Subscribers receive [`Connect`] before this returns. A refused connection, a
    /// non-2xx answer or a malformed open packet is returned as an error, and the
    /// session actor stops.
    ///
    /// The session lives until it ends (closed by [`Close`](crate::Close), by the
    /// server, or by a failure); dropping the returned address does not end it.
    ///
    /// # Panics
    ///
    /// Outside an actix `System` (the actor needs an arbiter to run on).
    pub async fn connect(self) -> Result<Addr<Session>, ConnectError> {
        if let Some(error) = self.config.error {
            return Err(error.into());
        }
        let http = Http::new(&self.url, &self.config, self.http_client)?;
        let (reply, connected) = oneshot::channel();
        let addr = Session::new(http, self.config, self.subscribers, reply).start();
        match connected.await {
            Ok(Ok(())) => Ok(addr),
            Ok(Err(error)) => Err(error),
            Err(oneshot::Canceled) => Err(ConnectError::Aborted),
        }
    }
}

/// A header as given by the user; credentials are marked sensitive so that `Debug`
/// output and logs do not show them.
fn parse_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let name = HeaderName::try_from(name).map_err(|e| e.to_string())?;
    let mut value = HeaderValue::try_from(value).map_err(|e| e.to_string())?;
    let secret = [
        header::AUTHORIZATION,
        header::PROXY_AUTHORIZATION,
        header::COOKIE,
    ];
    value.set_sensitive(secret.contains(&name));
    Ok((name, value))
}

fn parse_transports<I>(transports: I) -> Result<Vec<TransportKind>, String>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let mut list = Vec::new();
    for name in transports {
        let kind: TransportKind = name.as_ref().trim().parse()?;
        if list.contains(&kind) {
            return Err(format!("{kind} is listed twice"));
        }
        list.push(kind);
    }
    if list.is_empty() {
        return Err("the list is empty".into());
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_parse_names_and_kinds() {
        assert_eq!(
            parse_transports(["websocket", "polling"]),
            Ok(vec![TransportKind::WebSocket, TransportKind::Polling])
        );
        assert_eq!(
            parse_transports([TransportKind::Polling]),
            Ok(vec![TransportKind::Polling])
        );
        assert!(parse_transports(Vec::<&str>::new()).is_err());
        assert!(parse_transports(["polling", "polling"]).is_err());
        assert!(parse_transports(["carrier-pigeon"]).is_err());
    }

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
