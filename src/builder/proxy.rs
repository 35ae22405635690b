//! The proxy setting of [`Builder`]: an explicit HTTP proxy, or none at all; by default,
//! the environment's (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`).

use super::Builder;
use crate::config::{ProxySetting, ProxyUrl};

impl<A> Builder<A> {
    /// Sends every connection through the HTTP proxy at `url`,
    /// `http://[user:password@]host:port` (a URL without scheme is taken as `http://`,
    /// one without port as port 80). Each connection is a `CONNECT` tunnel to the server,
    /// polling and websocket alike; `https` and `wss` do TLS inside it, with the usual
    /// certificate checks. Credentials, percent-encoded in the URL, go to the proxy as
    /// Basic authentication, and never appear in logs, errors or `Debug` output.
    ///
    /// It applies to every server, loopback addresses included, and overrides the
    /// environment's variables. Without it, the environment's proxy is used (see
    /// [`no_proxy`](Self::no_proxy)). A URL that cannot be used (another scheme than
    /// `http`, a path) is reported by `connect` as
    /// [`ConfigError::Proxy`](crate::ConfigError::Proxy); a proxy that refuses the
    /// tunnel, as [`TransportError::Proxy`](crate::TransportError::Proxy).
    ///
    /// ```no_run
    /// use actix_engineio::Session;
    ///
    /// # async fn run() -> Result<(), actix_engineio::ConnectError> {
    /// let session = Session::builder("https://chat.example.com")
    ///     .proxy("http://alice:s3cret@proxy.corp.example:3128")
    ///     .connect()
    ///     .await?;
    /// # let _ = session; Ok(()) }
    /// ```
    pub fn proxy(mut self, url: impl AsRef<str>) -> Self {
        match ProxyUrl::parse(url.as_ref()) {
            Ok(proxy) => self.config.proxy = ProxySetting::Url(proxy),
            Err(error) => self.config.fail(error),
        }
        self
    }

    /// Connects directly, through no proxy, whatever the environment says.
    ///
    /// By default a session uses the proxy of the environment, as curl does:
    /// `http_proxy`/`HTTP_PROXY` for `http` and `ws` servers, `https_proxy`/`HTTPS_PROXY`
    /// for `https` and `wss`, else `all_proxy`/`ALL_PROXY`; not for the hosts that
    /// `no_proxy`/`NO_PROXY` lists (domains with their subdomains, IP addresses, CIDR
    /// ranges, `*`), and never for a loopback server (`localhost`, `127.0.0.0/8`, `::1`).
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// let builder = Session::builder("http://10.0.0.7:3000").no_proxy();
    /// ```
    pub fn no_proxy(mut self) -> Self {
        self.config.proxy = ProxySetting::Direct;
        self
    }
}
