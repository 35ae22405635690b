//! Request URLs of a session: path and query parameters of the HTTP long-polling and
//! websocket transports.

use url::Url;

use super::{redact_url, ProtocolError, ProtocolVersion};

/// The engine.io path used when neither the URL nor the configuration names one.
///
/// ```
/// use actix_engineio::protocol::{Endpoint, DEFAULT_PATH};
///
/// let endpoint = Endpoint::new("http://127.0.0.1:3000", None, &[]).unwrap();
/// assert_eq!(endpoint.path(), DEFAULT_PATH);
/// assert_eq!(DEFAULT_PATH, "/engine.io/");
/// ```
pub const DEFAULT_PATH: &str = "/engine.io/";

/// The protocol version an [`Endpoint`] asks for unless told otherwise, sent as
/// `EIO=4` (see [`Endpoint::with_version`] for v3).
///
/// ```
/// use actix_engineio::protocol::{Endpoint, PROTOCOL_VERSION};
///
/// let url = Endpoint::new("http://h", None, &[]).unwrap().polling_url(None, None);
/// assert!(url.contains(&format!("EIO={PROTOCOL_VERSION}")));
/// ```
pub const PROTOCOL_VERSION: &str = "4";

/// Where a session's requests go: scheme, host, engine.io path and the user's query.
///
/// Built once from the user's URL; gives the polling and websocket URL of each request.
///
/// ```
/// use actix_engineio::protocol::Endpoint;
///
/// let endpoint = Endpoint::new("https://example.com:8443?token=abc", None, &[]).unwrap();
/// assert_eq!(
///     endpoint.polling_url(Some("s1d"), Some("t1")),
///     "https://example.com:8443/engine.io/?token=abc&EIO=4&transport=polling&sid=s1d&t=t1"
/// );
/// assert_eq!(
///     endpoint.websocket_url(None),
///     "wss://example.com:8443/engine.io/?token=abc&EIO=4&transport=websocket"
/// );
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `http(s)://host[:port]/path/?user-query`, the part shared by every request.
    base: Url,
    /// What goes in `EIO=`.
    version: ProtocolVersion,
    /// The name of the cache-buster parameter (`t` unless set).
    timestamp_param: String,
}

impl Endpoint {
    /// Builds the endpoint from a user URL (`http`, `https`, `ws` or `wss`).
    ///
    /// The engine.io path is `path` when given, else the URL's own path when it is not
    /// `/`, else [`DEFAULT_PATH`]; it always starts and ends with `/`. The URL's query
    /// parameters come first, then `query`, in order. A fragment is dropped.
    ///
    /// ```
    /// use actix_engineio::protocol::{Endpoint, ProtocolError};
    ///
    /// let query = [("room".to_owned(), "lobby".to_owned())];
    /// let endpoint = Endpoint::new("wss://example.com/socket.io?token=abc", None, &query).unwrap();
    /// assert_eq!(endpoint.path(), "/socket.io/");
    /// assert!(endpoint.polling_url(None, None).starts_with("https://example.com/socket.io/?token=abc&room=lobby&EIO=4"));
    ///
    /// let err = Endpoint::new("ftp://example.com", None, &[]).unwrap_err();
    /// assert!(matches!(err, ProtocolError::InvalidUrl { .. }));
    /// ```
    pub fn new(
        url: &str,
        path: Option<&str>,
        query: &[(String, String)],
    ) -> Result<Self, ProtocolError> {
        let invalid = |reason: &str| ProtocolError::InvalidUrl {
            url: redact_url(url),
            reason: reason.to_owned(),
        };
        let mut base = Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
        let scheme = match base.scheme() {
            "http" | "ws" => "http",
            "https" | "wss" => "https",
            _ => return Err(invalid("the scheme must be http, https, ws or wss")),
        };
        if base.host_str().is_none_or(str::is_empty) {
            return Err(invalid("no host"));
        }
        base.set_scheme(scheme)
            .map_err(|()| invalid("cannot use this scheme"))?;
        let path = match path {
            Some(path) => path.to_owned(),
            None if base.path() != "/" && !base.path().is_empty() => base.path().to_owned(),
            None => DEFAULT_PATH.to_owned(),
        };
        base.set_path(&normalize_path(&path));
        base.set_fragment(None);
        if !query.is_empty() {
            base.query_pairs_mut().extend_pairs(query);
        }
        Ok(Endpoint {
            base,
            version: ProtocolVersion::V4,
            timestamp_param: "t".to_owned(),
        })
    }

    /// The same endpoint with a path that ends with `/` (`on`, the default) or not:
    /// `/engine.io` rather than `/engine.io/`, for servers that serve exactly that (Node's
    /// `addTrailingSlash: false` on both sides). The root path stays `/`.
    ///
    /// ```
    /// use actix_engineio::protocol::Endpoint;
    ///
    /// let endpoint = Endpoint::new("http://h", None, &[]).unwrap().with_trailing_slash(false);
    /// assert_eq!(endpoint.path(), "/engine.io");
    /// assert_eq!(endpoint.polling_url(None, None), "http://h/engine.io?EIO=4&transport=polling");
    /// ```
    #[must_use]
    pub fn with_trailing_slash(mut self, on: bool) -> Self {
        let path = self.base.path();
        if !on && path.len() > 1 && path.ends_with('/') {
            let trimmed = path.trim_end_matches('/').to_owned();
            self.base.set_path(&trimmed);
        }
        self
    }

    /// The same endpoint naming its cache-buster `name` instead of `t` (Node's
    /// `timestampParam`). The name goes in the URL as it is: the builder checks it
    /// (see [`Builder::timestamp_param`](crate::builder::Builder::timestamp_param)).
    ///
    /// ```
    /// use actix_engineio::protocol::Endpoint;
    ///
    /// let endpoint = Endpoint::new("http://h", None, &[]).unwrap().with_timestamp_param("ts");
    /// assert!(endpoint.polling_url(None, Some("x1")).ends_with("&ts=x1"));
    /// ```
    #[must_use]
    pub fn with_timestamp_param(mut self, name: impl Into<String>) -> Self {
        self.timestamp_param = name.into();
        self
    }

    /// The same endpoint asking for protocol `version` (`EIO=3` or `EIO=4`); an
    /// endpoint from [`Endpoint::new`] asks for v4.
    ///
    /// ```
    /// use actix_engineio::protocol::{Endpoint, ProtocolVersion};
    ///
    /// let endpoint = Endpoint::new("http://h", None, &[]).unwrap().with_version(ProtocolVersion::V3);
    /// assert_eq!(endpoint.version(), ProtocolVersion::V3);
    /// assert_eq!(endpoint.polling_url(None, None), "http://h/engine.io/?EIO=3&transport=polling");
    /// assert_eq!(endpoint.websocket_url(Some("s")), "ws://h/engine.io/?EIO=3&transport=websocket&sid=s");
    /// ```
    #[must_use]
    pub fn with_version(mut self, version: ProtocolVersion) -> Self {
        self.version = version;
        self
    }

    /// The protocol version the URLs ask for.
    ///
    /// ```
    /// use actix_engineio::protocol::{Endpoint, ProtocolVersion};
    ///
    /// assert_eq!(Endpoint::new("http://h", None, &[]).unwrap().version(), ProtocolVersion::V4);
    /// ```
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// Whether requests go over TLS (`https`/`wss`).
    ///
    /// ```
    /// use actix_engineio::protocol::Endpoint;
    ///
    /// assert!(Endpoint::new("wss://example.com", None, &[]).unwrap().is_secure());
    /// assert!(!Endpoint::new("http://127.0.0.1:3000", None, &[]).unwrap().is_secure());
    /// ```
    pub fn is_secure(&self) -> bool {
        self.base.scheme() == "https"
    }

    /// The engine.io path, with its leading and trailing `/`.
    ///
    /// ```
    /// use actix_engineio::protocol::Endpoint;
    ///
    /// let endpoint = Endpoint::new("http://h/ignored", Some("socket.io"), &[]).unwrap();
    /// assert_eq!(endpoint.path(), "/socket.io/");
    /// ```
    pub fn path(&self) -> &str {
        self.base.path()
    }

    /// The URL of a polling request: the handshake when `sid` is `None`.
    /// `cache_buster` becomes the `t` parameter (or the one named by
    /// [`with_timestamp_param`](Self::with_timestamp_param)), the last one, so that a
    /// session can build its polls from one prefix (see [`Endpoint::cache_buster_param`]).
    ///
    /// ```
    /// use actix_engineio::protocol::Endpoint;
    ///
    /// let endpoint = Endpoint::new("http://127.0.0.1:3000", None, &[]).unwrap();
    /// assert_eq!(
    ///     endpoint.polling_url(None, None),
    ///     "http://127.0.0.1:3000/engine.io/?EIO=4&transport=polling" // the handshake
    /// );
    /// assert!(endpoint.polling_url(Some("abc"), Some("x1")).ends_with("&sid=abc&t=x1"));
    /// ```
    pub fn polling_url(&self, sid: Option<&str>, cache_buster: Option<&str>) -> String {
        let mut url = String::from(self.request_url("polling", sid));
        if let Some(t) = cache_buster {
            url.push_str(&self.cache_buster_param(t));
        }
        url
    }

    /// What `polling_url` appends for a cache-buster `t`: `&t=…`, encoded.
    ///
    /// ```
    /// use actix_engineio::protocol::Endpoint;
    ///
    /// let endpoint = Endpoint::new("http://h", None, &[]).unwrap();
    /// let prefix = endpoint.polling_url(Some("abc"), None); // built once per session
    /// let poll = prefix + &endpoint.cache_buster_param("a b");
    /// assert_eq!(poll, endpoint.polling_url(Some("abc"), Some("a b")));
    /// assert!(poll.ends_with("&t=a+b"));
    /// ```
    pub fn cache_buster_param(&self, t: &str) -> String {
        let encoded: String = url::form_urlencoded::byte_serialize(t.as_bytes()).collect();
        format!("&{}={encoded}", self.timestamp_param)
    }

    /// The URL that opens a websocket: a websocket-only session when `sid` is `None`,
    /// an upgrade of session `sid` otherwise.
    ///
    /// ```
    /// use actix_engineio::protocol::Endpoint;
    ///
    /// let endpoint = Endpoint::new("http://127.0.0.1:3000", None, &[]).unwrap();
    /// assert_eq!(
    ///     endpoint.websocket_url(Some("abc")),
    ///     "ws://127.0.0.1:3000/engine.io/?EIO=4&transport=websocket&sid=abc"
    /// );
    /// ```
    pub fn websocket_url(&self, sid: Option<&str>) -> String {
        let mut url = self.request_url("websocket", sid);
        let scheme = if self.is_secure() { "wss" } else { "ws" };
        // http->ws and https->wss are always allowed between special schemes.
        let _ = url.set_scheme(scheme);
        url.into()
    }

    fn request_url(&self, transport: &str, sid: Option<&str>) -> Url {
        let mut url = self.base.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("EIO", self.version.as_str());
            query.append_pair("transport", transport);
            if let Some(sid) = sid {
                query.append_pair("sid", sid);
            }
        }
        url
    }
}

/// Shows the URL with its secrets redacted (see [`redact_url`]).
impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Endpoint")
            .field(&redact_url(self.base.as_str()))
            .field(&self.version)
            .finish()
    }
}

fn normalize_path(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        format!("/{trimmed}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(url: &str) -> Endpoint {
        Endpoint::new(url, None, &[]).unwrap()
    }

    #[test]
    fn handshake_urls() {
        let e = endpoint("http://127.0.0.1:3000");
        assert_eq!(
            e.polling_url(None, None),
            "http://127.0.0.1:3000/engine.io/?EIO=4&transport=polling"
        );
        assert_eq!(
            e.websocket_url(None),
            "ws://127.0.0.1:3000/engine.io/?EIO=4&transport=websocket"
        );
        assert!(!e.is_secure());
    }

    #[test]
    fn trailing_slash_can_be_left_out() {
        let without = |url, path| {
            Endpoint::new(url, path, &[])
                .unwrap()
                .with_trailing_slash(false)
        };
        assert_eq!(without("http://h", None).path(), "/engine.io");
        assert_eq!(
            without("http://h", Some("/socket.io/")).path(),
            "/socket.io"
        );
        assert_eq!(without("http://h/a/b/", None).path(), "/a/b");
        assert_eq!(without("http://h", Some("/")).path(), "/");
        assert_eq!(
            without("http://h?x=1", None).websocket_url(Some("s")),
            "ws://h/engine.io?x=1&EIO=4&transport=websocket&sid=s"
        );
        let kept = Endpoint::new("http://h", None, &[])
            .unwrap()
            .with_trailing_slash(true);
        assert_eq!(kept.path(), "/engine.io/");
    }

    #[test]
    fn the_cache_buster_can_be_renamed() {
        let e = endpoint("http://h").with_timestamp_param("ts");
        assert_eq!(
            e.polling_url(Some("s"), Some("1")),
            "http://h/engine.io/?EIO=4&transport=polling&sid=s&ts=1"
        );
        assert_eq!(e.cache_buster_param("2"), "&ts=2");
    }

    #[test]
    fn upgrade_url_carries_the_sid() {
        assert_eq!(
            endpoint("http://h").websocket_url(Some("abc")),
            "ws://h/engine.io/?EIO=4&transport=websocket&sid=abc"
        );
    }

    #[test]
    fn websocket_schemes_map_back_to_http() {
        let e = endpoint("ws://h:1");
        assert_eq!(
            e.polling_url(None, None),
            "http://h:1/engine.io/?EIO=4&transport=polling"
        );
        let e = endpoint("wss://h");
        assert!(e.is_secure());
        assert_eq!(
            e.polling_url(None, None),
            "https://h/engine.io/?EIO=4&transport=polling"
        );
        assert_eq!(
            e.websocket_url(None),
            "wss://h/engine.io/?EIO=4&transport=websocket"
        );
    }

    #[test]
    fn user_query_comes_first_in_order() {
        let query = [
            ("b".to_owned(), "2".to_owned()),
            ("a".to_owned(), "x y".to_owned()),
        ];
        let e = Endpoint::new("http://h/?z=0", None, &query).unwrap();
        assert_eq!(
            e.polling_url(Some("s"), Some("T")),
            "http://h/engine.io/?z=0&b=2&a=x+y&EIO=4&transport=polling&sid=s&t=T"
        );
    }

    #[test]
    fn paths() {
        let with = |url, path| Endpoint::new(url, path, &[]).unwrap().path().to_owned();
        assert_eq!(with("http://h", Some("socket.io")), "/socket.io/");
        assert_eq!(with("http://h", Some("/socket.io")), "/socket.io/");
        assert_eq!(with("http://h", Some("/a/b/")), "/a/b/");
        assert_eq!(with("http://h/custom", None), "/custom/");
        assert_eq!(with("http://h/custom/", Some("/explicit/")), "/explicit/");
        assert_eq!(with("http://h/", None), DEFAULT_PATH);
        assert_eq!(with("http://h", Some("/")), "/");
    }

    #[test]
    fn v3_urls_differ_only_in_eio() {
        let v4 = Endpoint::new("https://h/socket.io?token=a", None, &[]).unwrap();
        let v3 = v4.clone().with_version(ProtocolVersion::V3);
        assert_eq!(
            v3.polling_url(Some("s"), Some("T")),
            v4.polling_url(Some("s"), Some("T"))
                .replace("EIO=4", "EIO=3")
        );
        assert_eq!(
            v3.websocket_url(None),
            "wss://h/socket.io/?token=a&EIO=3&transport=websocket"
        );
        assert_ne!(v3, v4);
        assert_eq!(v3.clone().with_version(ProtocolVersion::V4), v4);
        // The client asks for no b64=1: see docs/protocol.md section 11.
        assert!(!v3.polling_url(None, None).contains("b64"));
    }

    #[test]
    fn fragment_is_dropped() {
        assert_eq!(
            endpoint("http://h/#frag").polling_url(None, None),
            "http://h/engine.io/?EIO=4&transport=polling"
        );
    }

    #[test]
    fn bad_urls_are_typed_errors() {
        for bad in [
            "",
            "not a url",
            "ftp://h/",
            "file:///tmp/x",
            "http://",
            "mailto:a@b",
        ] {
            assert!(
                matches!(
                    Endpoint::new(bad, None, &[]),
                    Err(ProtocolError::InvalidUrl { .. })
                ),
                "{bad:?} was accepted"
            );
        }
    }
}
