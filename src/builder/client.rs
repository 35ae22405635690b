//! What the two clients add to the settings: python-engineio's `logger` and
//! `http_session`, the size of their event buffer, and for the blocking client,
//! `handle_sigint`.

use std::sync::Arc;

use super::Builder;

/// Builds an [`AsyncClient`](crate::AsyncClient): `AsyncClient::builder()`, settings,
/// then `build()`.
///
/// ```
/// use std::time::Duration;
/// use actix_engineio::AsyncClient;
///
/// let client = AsyncClient::builder()
///     .logger(true)
///     .request_timeout(Duration::from_secs(5))
///     .build();
/// ```
pub type AsyncClientBuilder = Builder<AsyncApi>;

/// Builds a blocking [`Client`](crate::Client): `Client::builder()`, settings, then
/// `build()`.
///
/// ```
/// use actix_engineio::Client;
///
/// let client = Client::builder().logger(true).handle_sigint(false).build();
/// ```
pub type ClientBuilder = Builder<BlockingApi>;

/// Makes the `awc::Client` of each session: an `awc::Client` belongs to the thread
/// that made it, and a client's sessions run on its runtime's thread.
pub(crate) type HttpFactory = Arc<dyn Fn() -> awc::Client + Send + Sync>;

/// What [`AsyncClient`](crate::AsyncClient) adds to the settings.
#[derive(Clone, Default)]
pub struct AsyncApi {
    parts: ClientParts,
}

/// What the blocking [`Client`](crate::Client) adds to the settings.
#[derive(Clone)]
pub struct BlockingApi {
    parts: ClientParts,
    handle_sigint: bool,
}

impl Default for BlockingApi {
    fn default() -> Self {
        BlockingApi {
            parts: ClientParts::default(),
            handle_sigint: true,
        }
    }
}

/// What both clients add.
#[derive(Clone, Default)]
pub struct ClientParts {
    pub(crate) http_session: Option<HttpFactory>,
}

mod sealed {
    /// The client APIs; not for other types.
    pub trait ClientApi {
        fn parts(&mut self) -> &mut super::ClientParts;
    }
}

/// [`AsyncApi`] or [`BlockingApi`]: the settings both clients share.
pub trait ClientApi: sealed::ClientApi {}

impl sealed::ClientApi for AsyncApi {
    fn parts(&mut self) -> &mut ClientParts {
        &mut self.parts
    }
}

impl sealed::ClientApi for BlockingApi {
    fn parts(&mut self) -> &mut ClientParts {
        &mut self.parts
    }
}

impl ClientApi for AsyncApi {}
impl ClientApi for BlockingApi {}

impl AsyncApi {
    pub(crate) fn into_parts(self) -> ClientParts {
        self.parts
    }
}

impl BlockingApi {
    pub(crate) fn into_parts(self) -> (ClientParts, bool) {
        (self.parts, self.handle_sigint)
    }
}

impl<A: ClientApi> Builder<A> {
    /// python-engineio's `logger`: `true` logs this client's sessions through the
    /// `log` crate (opening, upgrade and end at `info`, failures at `warn`, packets at
    /// `trace`); `false` (the default) logs errors only, such as a handler that
    /// panicked. Install a logger (`env_logger`, say) to see anything.
    ///
    /// ```
    /// use actix_engineio::AsyncClient;
    ///
    /// env_logger::try_init().ok(); // RUST_LOG=info to see the client's logs
    /// let client = AsyncClient::builder().logger(true).build();
    /// ```
    pub fn logger(mut self, on: bool) -> Self {
        self.config.logging = on;
        self
    }

    /// python-engineio's `http_session`: makes the `awc::Client` each session uses,
    /// instead of the client's own. It is called on the thread the sessions run on
    /// (an `awc::Client` cannot move between threads). TLS settings then belong to
    /// that client, as with [`SessionBuilder::http_client`](crate::SessionBuilder::http_client).
    ///
    /// ```
    /// use actix_engineio::Client;
    /// use awc::http::Version;
    ///
    /// let client = Client::builder()
    ///     .http_session(|| {
    ///         let connector = awc::Connector::new().max_http_version(Version::HTTP_11);
    ///         awc::Client::builder().connector(connector).disable_timeout().finish()
    ///     })
    ///     .build();
    /// ```
    pub fn http_session<F>(mut self, make: F) -> Self
    where
        F: Fn() -> awc::Client + Send + Sync + 'static,
    {
        sealed::ClientApi::parts(&mut self.api).http_session = Some(Arc::new(make));
        self
    }
}

impl ClientBuilder {
    /// Whether Ctrl-C (SIGINT) disconnects this client's session cleanly before the
    /// program's own handling of it goes on (default `true`, as python-engineio).
    /// Only on Unix, and only once per process: the first client built with it
    /// installs the handler, which serves every client built with it.
    ///
    /// ```
    /// use actix_engineio::Client;
    ///
    /// // The program handles Ctrl-C itself.
    /// let client = Client::builder().handle_sigint(false).build();
    /// ```
    pub fn handle_sigint(mut self, on: bool) -> Self {
        self.api.handle_sigint = on;
        self
    }
}
