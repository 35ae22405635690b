//! The settings of Node's `engine.io-client` that shape the connection beyond the
//! request: headers of the polling requests alone, the cache-buster's name, the
//! trailing slash of the path, which transport opens the session (`tryAllTransports`,
//! `rememberUpgrade`) and the client certificate of mutual TLS.

use std::path::Path;

use super::Builder;
use crate::config::{check_timestamp_param, parse_header, ClientIdentity};
use crate::error::ConfigError;

impl<A> Builder<A> {
    /// Adds a header to the polling requests only (the handshake, polls and POSTs), not
    /// to the websocket handshake: Node's `transportOptions.polling.extraHeaders`, the
    /// counterpart of [`websocket_header`](Self::websocket_header). It is sent after
    /// the headers of [`header`](Self::header).
    ///
    /// A name or value that is not valid HTTP is reported by `connect` as
    /// [`ConfigError::Header`], before anything is sent.
    ///
    /// ```
    /// use actix_engineio::{ConfigError, ConnectError, Session};
    ///
    /// # #[actix_rt::main] async fn main() {
    /// // A proxy in front of the polling endpoint wants its own token.
    /// let builder = Session::builder("http://127.0.0.1:3000").polling_header("X-Proxy-Token", "abc");
    ///
    /// let bad = Session::builder("http://127.0.0.1:3000").polling_header("X Bad", "1");
    /// let err = bad.connect().await.unwrap_err();
    /// assert!(matches!(err, ConnectError::Config(ConfigError::Header { .. })));
    /// # }
    /// ```
    pub fn polling_header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let name = name.as_ref();
        match parse_header(name, value.as_ref()) {
            Ok(pair) => self.config.per_transport.polling_headers.push(pair),
            Err(reason) => self.config.fail(ConfigError::Header {
                name: name.to_owned(),
                reason,
            }),
        }
        self
    }

    /// The name of the cache-buster query parameter (default `t`): Node's
    /// `timestampParam`, for a server or proxy that expects another one. It must be
    /// non-empty, of letters, digits, `-`, `.`, `_` and `~` (it goes in the URL as it
    /// is), and not `EIO`, `transport` or `sid`; else `connect` reports
    /// [`ConfigError::TimestampParam`]. Whether the parameter is sent at all is
    /// [`timestamp_requests`](Self::timestamp_requests).
    ///
    /// ```
    /// use actix_engineio::{ConfigError, ConnectError, Session};
    ///
    /// # #[actix_rt::main] async fn main() {
    /// // Polls go to /engine.io/?EIO=4&transport=polling&sid=…&ts=…
    /// let builder = Session::builder("http://127.0.0.1:3000").timestamp_param("ts");
    ///
    /// let err = Session::builder("http://127.0.0.1:3000").timestamp_param("a&b").connect().await.unwrap_err();
    /// assert!(matches!(err, ConnectError::Config(ConfigError::TimestampParam { .. })));
    /// # }
    /// ```
    pub fn timestamp_param(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        match check_timestamp_param(&name) {
            Ok(()) => self.config.url_shape.timestamp_param = name,
            Err(error) => self.config.fail(error),
        }
        self
    }

    /// Whether the engine.io path ends with `/` (default `true`, as Node's client):
    /// with `false`, `path("/engine.io")` requests `/engine.io?EIO=4…` rather than
    /// `/engine.io/?EIO=4…`, for a server that serves the path without the slash (Node's
    /// server with `addTrailingSlash: false` expects exactly that of its clients). A
    /// root path stays `/`.
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// let builder = Session::builder("http://127.0.0.1:3000")
    ///     .path("/engine.io")
    ///     .add_trailing_slash(false);
    /// ```
    pub fn add_trailing_slash(mut self, on: bool) -> Self {
        self.config.url_shape.trailing_slash = on;
        self
    }

    /// Whether to go straight to websocket when the last websocket worked (default
    /// `false`, as Node's `rememberUpgrade`): once a session of this builder's settings
    /// opened over websocket or upgraded to it, the next session (a reconnection, a
    /// client's next `connect`, or another session started from the same
    /// [`ClientConfig`](crate::ClientConfig)) opens with a websocket handshake and no
    /// polling at all. If that websocket fails, the session opens the usual way
    /// and the memory is cleared until a websocket works again.
    ///
    /// The memory belongs to the settings: clones of a builder or of its
    /// `ClientConfig` share it, a builder made afresh starts without it. `websocket`
    /// must be among the [`transports`](Self::transports).
    ///
    /// ```
    /// use actix_engineio::{ReconnectPolicy, Session};
    ///
    /// // Reconnections skip polling once the first session has upgraded.
    /// let builder = Session::builder("http://127.0.0.1:3000")
    ///     .remember_upgrade(true)
    ///     .reconnect(ReconnectPolicy::default());
    /// ```
    pub fn remember_upgrade(mut self, on: bool) -> Self {
        self.config.opening.remember_upgrade = on;
        self
    }

    /// Whether a session that cannot open over its first transport tries the next ones
    /// of [`transports`](Self::transports), in order, before failing (default `false`,
    /// as Node's `tryAllTransports`). With `["websocket", "polling"]`, a network or
    /// server that refuses websockets still gets a polling session. When every one
    /// fails, `connect` reports
    /// [`TransportError::AllTransportsFailed`](crate::TransportError::AllTransportsFailed)
    /// with each attempt and its error.
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// // Websocket first, long-polling when websockets are blocked.
    /// let builder = Session::builder("http://127.0.0.1:3000")
    ///     .transports(["websocket", "polling"])
    ///     .try_all_transports(true);
    /// ```
    pub fn try_all_transports(mut self, on: bool) -> Self {
        self.config.opening.try_all_transports = on;
        self
    }

    /// The certificate to show a server that asks for one (mutual TLS): the chain in
    /// `cert_chain_pem` (the client's certificate first, then any intermediates) and its
    /// private key in `key_pem` (PKCS#8, PKCS#1 or SEC1). Works with either TLS
    /// backend (`rustls` or `openssl`). A PEM without a certificate or a key, or a key
    /// that does not match, is reported by `connect` as [`ConfigError::Tls`], before
    /// anything is sent; the key never shows in `Debug` output or errors.
    ///
    /// ```
    /// use actix_engineio::{ConfigError, ConnectError, Session};
    ///
    /// # #[actix_rt::main] async fn main() {
    /// // Usually include_bytes!("client.pem") and include_bytes!("client-key.pem").
    /// let err = Session::builder("https://127.0.0.1:3000")
    ///     .client_certificate("not a certificate", "not a key")
    ///     .connect()
    ///     .await
    ///     .unwrap_err();
    /// assert!(matches!(err, ConnectError::Config(ConfigError::Tls(_))));
    /// # }
    /// ```
    pub fn client_certificate(
        mut self,
        cert_chain_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        self.config.tls.client_identity = Some(ClientIdentity {
            cert_chain_pem: cert_chain_pem.into(),
            key_pem: key_pem.into(),
        });
        self
    }

    /// [`client_certificate`](Self::client_certificate) from two PEM files, read now.
    /// An unreadable file is reported by `connect` as [`ConfigError::Tls`].
    ///
    /// ```
    /// use actix_engineio::{ConfigError, ConnectError, Session};
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let builder = Session::builder("https://127.0.0.1:3000")
    ///     .client_certificate_files("/no/such/client.pem", "/no/such/client-key.pem");
    /// let err = builder.connect().await.unwrap_err();
    /// assert!(matches!(err, ConnectError::Config(ConfigError::Tls(_))));
    /// # }
    /// ```
    pub fn client_certificate_files(
        mut self,
        cert_chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Self {
        let read = |path: &Path| {
            std::fs::read(path)
                .map_err(|e| ConfigError::Tls(format!("cannot read {}: {e}", path.display())))
        };
        match (read(cert_chain.as_ref()), read(key.as_ref())) {
            (Ok(cert_chain), Ok(key)) => self.client_certificate(cert_chain, key),
            (Err(error), _) | (_, Err(error)) => {
                self.config.fail(error);
                self
            }
        }
    }
}
