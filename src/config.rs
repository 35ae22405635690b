//! Everything a session can be configured with, as plain data: the one home of every
//! setting. The builders fill it in; the session and its transports read it.

use std::time::Duration;

use awc::http::header::{self, HeaderName, HeaderValue};

use crate::error::ConfigError;
use crate::protocol::polling::MAX_PACKETS_PER_PAYLOAD;
use crate::protocol::TransportKind;

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

/// Default number of events a client keeps for its handlers or its event stream
/// before its session stops reading from the server; see
/// [`AsyncClientBuilder::event_buffer`](crate::AsyncClientBuilder::event_buffer).
///
/// ```
/// assert_eq!(actix_engineio::DEFAULT_EVENT_BUFFER, 1024);
/// ```
pub const DEFAULT_EVENT_BUFFER: usize = 1024;

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
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub(crate) path: Option<String>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// Headers of the websocket handshake only.
    pub(crate) websocket_headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) websocket_protocols: Vec<String>,
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
    /// How many events a client's channel holds before its session stops reading.
    pub(crate) event_buffer: usize,
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

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            ca_pem: Vec::new(),
            verify: true,
        }
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            path: None,
            headers: Vec::new(),
            websocket_headers: Vec::new(),
            websocket_protocols: Vec::new(),
            query: Vec::new(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            send_buffer: DEFAULT_SEND_BUFFER,
            max_packets_per_post: MAX_PACKETS_PER_PAYLOAD,
            transports: vec![TransportKind::Polling, TransportKind::WebSocket],
            upgrade: true,
            timestamp_requests: true,
            tls: TlsOptions::default(),
            logging: true,
            event_buffer: DEFAULT_EVENT_BUFFER,
            error: None,
        }
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

/// A header as given by the user; credentials are marked sensitive so that `Debug`
/// output and logs do not show them.
pub(crate) fn parse_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
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

pub(crate) fn parse_transports<I>(transports: I) -> Result<Vec<TransportKind>, String>
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
}
