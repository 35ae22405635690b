//! HTTP for a session: request URLs, headers and cookies on every request, bounded
//! and decompressed bodies, and errors mapped to [`TransportError`].

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use awc::error::{PayloadError, SendRequestError};
use awc::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use bytes::Bytes;
use futures::StreamExt;

use super::body;
use super::cookies::CookieJar;
use super::{proxy, tls, within};
use crate::config::{proxy_for, ClientConfig, ProxySetting, ProxyUrl, TlsOptions};
use crate::error::ConfigError;
use crate::protocol::{
    polling_v3, redact_url, Endpoint, ProtocolError, ProtocolVersion, TransportError,
};

/// How much of an error response's body is kept for the error message.
const ERROR_BODY_LIMIT: usize = 4096;

/// The encodings a poll accepts; both are decoded with a bound.
const ACCEPT_ENCODING: HeaderValue = HeaderValue::from_static("gzip, deflate");

/// The content type of a v4 POST: Node rejects anything else with 400.
const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain;charset=UTF-8");

/// The content type of a v3 POST, a binary payload: exactly this, or Node `engine.io` 3
/// reads it as text (`docs/protocol.md` section 11).
const OCTET_STREAM: HeaderValue = HeaderValue::from_static(polling_v3::BINARY_CONTENT_TYPE);

/// A response body that never exceeds this many bytes ("ok").
const POST_RESPONSE_LIMIT: usize = 1024;

/// The request side of a session, shared by its actors on one thread.
pub(crate) struct Http {
    client: awc::Client,
    endpoint: Endpoint,
    /// The user's headers, but `Cookie`.
    headers: Vec<(HeaderName, HeaderValue)>,
    /// The user's own `Cookie` header, sent with the jar's cookies in one header.
    user_cookie: Option<String>,
    cookies: RefCell<CookieJar>,
    config: Arc<ClientConfig>,
}

impl Http {
    pub fn new(
        url: &str,
        config: Arc<ClientConfig>,
        client: Option<awc::Client>,
    ) -> Result<Self, ConfigError> {
        let endpoint = Endpoint::new(url, config.path.as_deref(), &config.query)?
            .with_version(config.protocol)
            .with_trailing_slash(config.url_shape.trailing_slash)
            .with_timestamp_param(&config.url_shape.timestamp_param);
        let client = match client {
            Some(_) if config.tls != TlsOptions::default() => {
                return Err(ConfigError::Tls(
                    "TLS settings have no effect on a custom http_client: configure its connector"
                        .into(),
                ))
            }
            Some(_) if matches!(config.proxy, ProxySetting::Url(_)) => {
                return Err(ConfigError::Proxy(
                    "a proxy has no effect on a custom http_client: configure its connector".into(),
                ))
            }
            Some(client) => client,
            None => {
                let proxy = session_proxy(&endpoint, &config)?;
                tls::client(&config.tls, config.request_timeout, proxy.as_ref())?
            }
        };
        let (cookies, headers): (Vec<_>, Vec<_>) = config
            .headers
            .iter()
            .cloned()
            .partition(|(name, _)| name == header::COOKIE);
        let user_cookies: Vec<&str> = cookies
            .iter()
            .filter_map(|(_, value)| value.to_str().ok())
            .collect();
        if !config.tls.verify && config.logging {
            log::warn!(
                "TLS certificate verification is off for {}: any certificate is accepted",
                redact_url(url)
            );
        }
        Ok(Http {
            client,
            endpoint,
            headers,
            user_cookie: (!user_cookies.is_empty()).then(|| user_cookies.join("; ")),
            cookies: RefCell::default(),
            config,
        })
    }

    /// The session's settings.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Keeps the cookies another `Http` of the same session collected (a reconnection
    /// whose request changed).
    pub fn with_cookies_of(self, other: &Http) -> Self {
        *self.cookies.borrow_mut() = other.cookies.borrow().clone();
        self
    }

    /// The URL of the handshake GET.
    pub fn handshake_url(&self) -> String {
        let t = self.config.timestamp_requests.then(cache_buster);
        self.endpoint.polling_url(None, t.as_deref())
    }

    /// The URLs of the polls and POSTs of session `sid`, built once.
    pub fn polling_urls(&self, sid: &str) -> PollingUrls {
        let post = self.endpoint.polling_url(Some(sid), None);
        PollingUrls {
            // `&t=` (or the name set), ready for a cache-buster.
            stamp: (self.config.timestamp_requests).then(|| self.endpoint.cache_buster_param("")),
            poll: post.clone(),
            post: awc::http::Uri::try_from(post).ok(),
        }
    }

    /// A websocket handshake request with the session's headers (those of every
    /// request, then the websocket's own), its subprotocols and cookies.
    pub fn websocket(&self, sid: Option<&str>) -> awc::ws::WebsocketsRequest {
        let url = self.endpoint.websocket_url(sid);
        self.trace_request("GET (websocket)", &url);
        let mut request = self.client.ws(url);
        let own = &self.config.per_transport;
        for (name, value) in self.headers.iter().chain(&own.websocket_headers) {
            request = request.header(name.clone(), value.clone());
        }
        if !own.websocket_protocols.is_empty() {
            request = request.protocols(&own.websocket_protocols);
        }
        if let Some(cookie) = self.cookie_header() {
            request = request.header(header::COOKIE, cookie);
        }
        request
    }

    /// The body of the refusal of a websocket-only handshake (awc gives the status of a
    /// refused websocket handshake, not its body): the same URL GET as plain HTTP, without
    /// the upgrade, which no server takes for a session. `None` when that GET is not
    /// refused either.
    pub async fn websocket_refusal(&self) -> Option<TransportError> {
        // ws:// -> http://, wss:// -> https://
        let url = self.endpoint.websocket_url(None).replacen("ws", "http", 1);
        let timeout = self.config.request_timeout;
        match self.get(&url, timeout).await {
            Err(refusal @ TransportError::Http { .. }) => Some(refusal),
            _ => None,
        }
    }

    /// GETs `url` and returns its body, decompressed and bounded; all of it, body
    /// included, within `timeout` (awc's own timeout stops at the headers).
    pub async fn get(&self, url: &str, timeout: Duration) -> Result<Bytes, TransportError> {
        within(timeout, self.get_body(url, timeout)).await
    }

    async fn get_body(&self, url: &str, timeout: Duration) -> Result<Bytes, TransportError> {
        let request = self
            .request(awc::http::Method::GET, url, timeout)
            .insert_header((header::ACCEPT_ENCODING, ACCEPT_ENCODING));
        let mut response = request.send().await.map_err(send_error)?;
        self.check(&mut response).await?;
        let limit = self.config.max_body_size;
        let raw = response
            .body()
            .limit(limit)
            .await
            .map_err(|e| payload_error(e, limit))?;
        let headers = response.headers();
        body::check_length(&raw, headers.get(header::CONTENT_LENGTH))?;
        let encoding = headers
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        body::decode(raw, encoding, limit).await
    }

    /// The protocol version every request asks for.
    pub fn version(&self) -> ProtocolVersion {
        self.endpoint.version()
    }

    /// POSTs a payload to `url`, answer included within the request timeout: a v4 text
    /// payload, or a v3 binary payload, with the version's content type.
    pub async fn post(&self, url: awc::http::Uri, body: Bytes) -> Result<(), TransportError> {
        within(self.config.request_timeout, self.post_body(url, body)).await
    }

    async fn post_body(&self, url: awc::http::Uri, body: Bytes) -> Result<(), TransportError> {
        let content_type = match self.version() {
            ProtocolVersion::V4 => TEXT_PLAIN,
            ProtocolVersion::V3 => OCTET_STREAM,
        };
        let request = self
            .request(awc::http::Method::POST, url, self.config.request_timeout)
            .insert_header((header::CONTENT_TYPE, content_type));
        let mut response = request.send_body(body).await.map_err(send_error)?;
        self.check(&mut response).await?;
        // Read the short answer so the connection can be reused.
        response
            .body()
            .limit(POST_RESPONSE_LIMIT)
            .await
            .map_err(|e| payload_error(e, POST_RESPONSE_LIMIT))?;
        Ok(())
    }

    /// Keeps the cookies a response sets.
    pub fn store_cookies(&self, headers: &HeaderMap) {
        let mut jar = self.cookies.borrow_mut();
        for value in headers.get_all(header::SET_COOKIE) {
            if let Ok(value) = value.to_str() {
                jar.store(value);
            }
        }
    }

    /// The user's cookies, then those the server set.
    fn cookie_header(&self) -> Option<String> {
        match (&self.user_cookie, self.cookies.borrow_mut().header()) {
            (Some(user), Some(jar)) => Some(format!("{user}; {jar}")),
            (user, jar) => user.clone().or(jar),
        }
    }

    fn request<U>(&self, method: awc::http::Method, url: U, timeout: Duration) -> awc::ClientRequest
    where
        awc::http::Uri: TryFrom<U>,
        <awc::http::Uri as TryFrom<U>>::Error: Into<awc::error::HttpError>,
    {
        let mut request = self.client.request(method, url).timeout(timeout);
        // Checked first: the URL is not turned back into text for every request.
        if self.config.logging && log::log_enabled!(log::Level::Trace) {
            let url = request.get_uri().to_string();
            self.trace_request(request.get_method().as_str(), &url);
        }
        // Every request here is a polling one: the polling headers go on each.
        let own = &self.config.per_transport.polling_headers;
        for (name, value) in self.headers.iter().chain(own) {
            request = request.append_header((name.clone(), value.clone()));
        }
        if let Some(cookie) = self.cookie_header() {
            request = request.insert_header((header::COOKIE, cookie));
        }
        request
    }

    /// Logs a request at trace level, its URL redacted: the user's query may carry a token.
    fn trace_request(&self, method: &str, url: &str) {
        if self.config.logging && log::log_enabled!(log::Level::Trace) {
            log::trace!("{method} {}", redact_url(url));
        }
    }

    /// Stores cookies, then turns a non-2xx answer into an error with its body.
    async fn check<S>(&self, response: &mut awc::ClientResponse<S>) -> Result<(), TransportError>
    where
        S: futures::Stream<Item = Result<Bytes, PayloadError>> + Unpin,
    {
        self.store_cookies(response.headers());
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let mut body = Vec::new();
        while let Some(Ok(chunk)) = response.next().await {
            body.extend_from_slice(&chunk);
            if body.len() >= ERROR_BODY_LIMIT {
                body.truncate(ERROR_BODY_LIMIT);
                break;
            }
        }
        Err(TransportError::Http {
            status: status.as_u16(),
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// The request URLs of one polling session: its polls differ only by `t`.
pub(crate) struct PollingUrls {
    /// `&t=` when polls carry a cache-buster.
    stamp: Option<String>,
    /// The URL without `t`.
    poll: String,
    /// The same, parsed once for every POST (`None` if awc cannot parse it).
    post: Option<awc::http::Uri>,
}

impl PollingUrls {
    /// The URL of the next poll.
    pub fn poll(&self) -> String {
        match &self.stamp {
            Some(stamp) => {
                let mut url = String::with_capacity(self.poll.len() + stamp.len() + 24);
                url.push_str(&self.poll);
                url.push_str(stamp);
                // A cache-buster is hex digits and a dot: nothing to encode.
                write_cache_buster(&mut url);
                url
            }
            None => self.poll.clone(),
        }
    }

    /// The URL of a POST. The sid is percent-encoded into it, so it always parses;
    /// should it not, the POST fails with the reason instead of going elsewhere.
    pub fn post(&self) -> Result<awc::http::Uri, TransportError> {
        self.post.clone().ok_or_else(|| {
            TransportError::Protocol(ProtocolError::InvalidUrl {
                url: self.poll.clone(),
                reason: "not a valid HTTP URI".into(),
            })
        })
    }
}

/// A `t` value unique within the process, so no cache answers a poll.
fn cache_buster() -> String {
    let mut t = String::with_capacity(24);
    write_cache_buster(&mut t);
    t
}

/// Appends a cache-buster to `out`: the time in milliseconds in hex, a dot, and a
/// counter (written into the poll's URL, with no string of its own).
fn write_cache_buster(out: &mut String) {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let _ = write!(
        out,
        "{millis:x}.{}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
}

/// The proxy the session's requests go through: the setting, or the environment's
/// variables for the server's scheme and host.
fn session_proxy(
    endpoint: &Endpoint,
    config: &ClientConfig,
) -> Result<Option<ProxyUrl>, ConfigError> {
    let url = endpoint.polling_url(None, None);
    let target = url::Url::parse(&url).map_err(|e| {
        ConfigError::Url(ProtocolError::InvalidUrl {
            url: redact_url(&url),
            reason: e.to_string(),
        })
    })?;
    let proxy = proxy_for(&config.proxy, &target, |name| std::env::var(name).ok())?;
    if let (Some(proxy), true) = (&proxy, config.logging) {
        log::debug!("requests to {} go through proxy {proxy}", redact_url(&url));
    }
    Ok(proxy)
}

pub(crate) fn send_error(error: SendRequestError) -> TransportError {
    match error {
        SendRequestError::Timeout => TransportError::Timeout,
        // A tunnel the proxy would not open: its own error, whole.
        SendRequestError::Connect(awc::error::ConnectError::Io(cause)) => {
            match proxy::proxy_error(&cause) {
                Some(error) => TransportError::Proxy(error),
                None => TransportError::Connect(cause.to_string()),
            }
        }
        // awc reports a pooled connection that broke mid-request as a connect error.
        SendRequestError::Connect(awc::error::ConnectError::Disconnected) => {
            TransportError::ConnectionLost("the server closed the connection".into())
        }
        SendRequestError::Connect(cause) => TransportError::Connect(cause.to_string()),
        other => TransportError::ConnectionLost(other.to_string()),
    }
}

fn payload_error(error: PayloadError, limit: usize) -> TransportError {
    match error {
        PayloadError::Overflow => TransportError::BodyTooLarge { limit },
        PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => TransportError::Timeout,
        other => TransportError::ConnectionLost(other.to_string()),
    }
}

/// The error of a v4 handshake refused because the server speaks an older protocol:
/// python-engineio 3 answers `EIO=4` with `400 "The client is using an unsupported version
/// of the Socket.IO or Engine.IO protocols"`. Any other error is returned as it is.
pub(crate) fn refusal_of_v4(version: ProtocolVersion, error: TransportError) -> TransportError {
    match &error {
        TransportError::Http { status: 400, body }
            if version == ProtocolVersion::V4
                && body.to_ascii_lowercase().contains("unsupported version") =>
        {
            ProtocolError::ServerSpeaksV3(format!("it refused EIO=4: HTTP 400 {}", body.trim()))
                .into()
        }
        _ => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_busters_differ() {
        assert_ne!(cache_buster(), cache_buster());
    }

    /// python-engineio 3's refusal of `EIO=4` becomes `ServerSpeaksV3`; other refusals,
    /// and that refusal of a v3 request, stay as they are.
    #[test]
    fn a_refusal_of_eio_4_says_the_server_speaks_v3() {
        let python3 = || TransportError::Http {
            status: 400,
            body: "\"The client is using an unsupported version of the Socket.IO or \
                   Engine.IO protocols\""
                .into(),
        };
        let error = refusal_of_v4(ProtocolVersion::V4, python3());
        assert!(
            matches!(
                &error,
                TransportError::Protocol(ProtocolError::ServerSpeaksV3(why)) if why.contains("EIO=4")
            ),
            "{error:?}"
        );
        assert_eq!(refusal_of_v4(ProtocolVersion::V3, python3()), python3());
        let unknown = TransportError::Http {
            status: 400,
            body: r#"{"code":0,"message":"Transport unknown"}"#.into(),
        };
        assert_eq!(refusal_of_v4(ProtocolVersion::V4, unknown.clone()), unknown);
        let forbidden = TransportError::Http {
            status: 403,
            body: "unsupported version".into(),
        };
        assert_eq!(
            refusal_of_v4(ProtocolVersion::V4, forbidden.clone()),
            forbidden
        );
    }
}
