//! The two clients of python-engineio's guide, on top of the actor API:
//! [`AsyncClient`] for async code on any runtime, and the blocking [`Client`].
//!
//! Both keep their settings, handlers and state in a shared [`Core`]; a session is
//! started on the client's [`Runtime`], its events go through a bounded channel to
//! the client's dispatcher, which runs the handlers one at a time, in order.

mod async_client;
mod blocking;
mod dispatch;
pub mod handler;
mod park;
mod runtime;
mod sigint;

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use actix::Addr;
use futures::channel::{mpsc, oneshot};
use futures::future::{FutureExt, Shared};
use tokio::sync::watch;

pub use self::async_client::{AsyncClient, BackgroundTask, EventStream};
pub use self::blocking::Client;
use self::dispatch::{in_handler, Delivery, Flavor};
use self::handler::Outcome;
use self::runtime::Runtime;
use crate::builder::{start_session, HttpFactory};
use crate::config::{parse_header, parse_transports, ClientConfig, RedactedHeaders};
use crate::error::{ConfigError, ConnectError, Unsent};
use crate::event::{EventSender, SessionStatus};
use crate::protocol::{DisconnectReason, Payload, ProtocolVersion, SendError, TransportKind};
use crate::request::{Abort, Close, TrySend};
use crate::session::{SendFuture, Session, SessionSender, Subscribers};

/// python-engineio's `connect` arguments beside the URL: headers, transports and the
/// engine.io path, for one connection.
///
/// ```no_run
/// use actix_engineio::{AsyncClient, ConnectOptions};
///
/// # async fn run() -> Result<(), actix_engineio::ConnectError> {
/// let client = AsyncClient::new();
/// let options = ConnectOptions::new()
///     .header("Authorization", "Bearer token")
///     .transports(["websocket"])
///     .engineio_path("socket.io");
/// client.connect_with("http://localhost:5000", options).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct ConnectOptions {
    headers: Vec<(String, String)>,
    transports: Option<Vec<String>>,
    path: Option<String>,
    protocol: Option<ProtocolVersion>,
}

/// Credential headers print as `<redacted>`.
impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("headers", &RedactedHeaders(&self.headers))
            .field("transports", &self.transports)
            .field("path", &self.path)
            .field("protocol", &self.protocol)
            .finish()
    }
}

impl ConnectOptions {
    /// No options: what `connect(url)` uses.
    ///
    /// ```
    /// let options = actix_engineio::ConnectOptions::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A header for every request of this connection, beside the client's own.
    ///
    /// ```
    /// let options = actix_engineio::ConnectOptions::new().header("X-Token", "abc");
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The transports, as [`SessionBuilder::transports`](crate::SessionBuilder::transports)
    /// takes them (`"polling"`, `"websocket"`).
    ///
    /// ```
    /// let options = actix_engineio::ConnectOptions::new().transports(["websocket"]);
    /// ```
    pub fn transports<I>(mut self, transports: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.transports = Some(transports.into_iter().map(Into::into).collect());
        self
    }

    /// The engine.io path (python's `engineio_path`; default `engine.io`).
    ///
    /// ```
    /// let options = actix_engineio::ConnectOptions::new().engineio_path("socket.io");
    /// ```
    pub fn engineio_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The Engine.IO protocol version of this connection, as
    /// [`SessionBuilder::protocol`](crate::SessionBuilder::protocol) takes it (default:
    /// the client's, itself `V4` unless set).
    ///
    /// ```
    /// use actix_engineio::{ConnectOptions, ProtocolVersion};
    ///
    /// let options = ConnectOptions::new().protocol(ProtocolVersion::V3);
    /// ```
    pub fn protocol(mut self, version: ProtocolVersion) -> Self {
        self.protocol = Some(version);
        self
    }

    /// The client's settings with these options on top.
    fn apply(self, mut config: ClientConfig) -> ClientConfig {
        for (name, value) in self.headers {
            match parse_header(&name, &value) {
                Ok(pair) => config.headers.push(pair),
                Err(reason) => config.fail(ConfigError::Header { name, reason }),
            }
        }
        if let Some(transports) = self.transports {
            match parse_transports(transports) {
                Ok(list) => config.transports = list,
                Err(reason) => config.fail(ConfigError::Transports(reason)),
            }
        }
        if let Some(path) = self.path {
            config.path = Some(path);
        }
        if let Some(version) = self.protocol {
            config.protocol = version;
        }
        config
    }
}

/// The handshake of a session to come, then its connect handler's verdict.
type Handshake = oneshot::Receiver<Result<oneshot::Receiver<Outcome>, ConnectError>>;

/// A session of a client, while it lives.
#[derive(Clone)]
struct Live {
    session: Addr<Session>,
    /// Sends to the session without a request per message.
    sender: SessionSender,
    status: watch::Receiver<SessionStatus>,
    /// Resolves once the dispatcher has handled every event of the session.
    handled: Shared<oneshot::Receiver<()>>,
}

impl Live {
    fn ended(&self) -> Option<DisconnectReason> {
        self.status.borrow().ended.clone()
    }
}

/// Where a client stands.
enum State {
    /// No session; the last one, if there was one.
    Idle(Option<Live>),
    /// `connect` is under way.
    Connecting,
    /// A session was opened; it may have ended since (its status says).
    Live(Live),
}

/// A `connect` under way: if its future is dropped while still `Connecting`, the
/// client goes back to idle.
struct Starting<'a, F: Flavor>(&'a Core<F>);

impl<F: Flavor> Drop for Starting<'_, F> {
    fn drop(&mut self) {
        self.0.abandon_connect();
    }
}

/// What both clients are made of.
pub(crate) struct Core<F: Flavor> {
    config: ClientConfig,
    http_session: Option<HttpFactory>,
    runtime: Runtime,
    handlers: Mutex<F::Handlers>,
    state: Mutex<State>,
    /// Whether `connect` is starting a session (`State::Connecting`), for whoever must
    /// wait for it to be live or not.
    connecting: watch::Sender<bool>,
    /// Sessions on their way to the dispatcher, which is started by the first connect.
    deliveries: Mutex<Option<mpsc::UnboundedSender<Delivery<F>>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere leaves the data as it was; the client goes on with it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<F: Flavor> Core<F> {
    fn new(config: ClientConfig, http_session: Option<HttpFactory>, runtime: Runtime) -> Self {
        Core {
            config,
            http_session,
            runtime,
            handlers: Mutex::default(),
            state: Mutex::new(State::Idle(None)),
            connecting: watch::channel(false).0,
            deliveries: Mutex::new(None),
        }
    }

    fn handlers(&self) -> MutexGuard<'_, F::Handlers> {
        lock(&self.handlers)
    }

    /// The live session, if it has not ended.
    fn live(&self) -> Option<Live> {
        match &*lock(&self.state) {
            State::Live(live) if live.ended().is_none() => Some(live.clone()),
            _ => None,
        }
    }

    fn session(&self) -> Option<Addr<Session>> {
        self.live().map(|live| live.session)
    }

    fn sid(&self) -> Option<String> {
        self.live()
            .and_then(|live| live.status.borrow().sid.clone())
    }

    fn transport(&self) -> Option<TransportKind> {
        self.live().and_then(|live| live.status.borrow().transport)
    }

    /// Claims the client for a new session, unless one is live or starting.
    fn begin_connect(&self) -> Result<(), ConnectError> {
        let mut state = lock(&self.state);
        match &*state {
            State::Connecting => Err(ConnectError::AlreadyConnected),
            State::Live(live) if live.ended().is_none() => Err(ConnectError::AlreadyConnected),
            _ => {
                *state = State::Connecting;
                self.connecting.send_replace(true);
                Ok(())
            }
        }
    }

    fn end_connect(&self, outcome: Option<Live>) {
        *lock(&self.state) = match outcome {
            Some(live) => State::Live(live),
            None => State::Idle(None),
        };
        self.connecting.send_replace(false);
    }

    /// `connect` dropped before it knew whether its session started: the client is
    /// idle again (else it would stay `Connecting`, and `disconnect` would wait on it).
    fn abandon_connect(&self) {
        let mut state = lock(&self.state);
        if matches!(*state, State::Connecting) {
            *state = State::Idle(None);
            self.connecting.send_replace(false);
        }
    }

    /// Hands a session's events to the dispatcher, starting it the first time.
    fn deliver(&self, delivery: Delivery<F>) {
        let mut deliveries = lock(&self.deliveries);
        let sender = deliveries.get_or_insert_with(|| F::start_dispatcher(&self.runtime));
        if let Err(refused) = sender.unbounded_send(delivery) {
            // The dispatcher is gone (its runtime stopped): start another.
            let sender = F::start_dispatcher(&self.runtime);
            let _ = sender.unbounded_send(refused.into_inner());
            *deliveries = Some(sender);
        }
    }

    async fn connect(&self, url: &str, options: ConnectOptions) -> Result<(), ConnectError> {
        self.begin_connect()?;
        let _starting = Starting(self);
        let (live, handshake) = match self.open(url, options).await {
            Ok(started) => started,
            Err(error) => {
                self.end_connect(None);
                return Err(error);
            }
        };
        // Live from here on, so that `disconnect` (Ctrl-C, say) reaches a session still
        // in its handshake, and the connect handler can send.
        self.end_connect(Some(live.clone()));
        let verdict = match handshake.await {
            Ok(Ok(verdict)) => verdict,
            Ok(Err(error)) => {
                self.end_connect(None);
                return Err(error);
            }
            Err(oneshot::Canceled) => {
                self.end_connect(None);
                return Err(ConnectError::Aborted);
            }
        };
        if in_handler() {
            // The connect handler runs after the handler calling this one: its verdict
            // cannot come before this returns, so a refusal closes the session later.
            let session = live.session.clone();
            let _ = self.runtime.spawn(move || async move {
                if let Ok(Err(_)) = verdict.await {
                    let _ = session.send(Close).await;
                }
            });
            return Ok(());
        }
        // A connect handler that fails refuses the connection, as python-engineio's does.
        if let Ok(Err(reason)) = verdict.await {
            let _ = live.session.send(Close).await;
            self.end_connect(None);
            return Err(ConnectError::Refused(reason));
        }
        Ok(())
    }

    /// Starts a session on the runtime and gives its events to the dispatcher. Returns
    /// the session at once, and its handshake to come, then the connect handler's
    /// verdict.
    async fn open(
        &self,
        url: &str,
        options: ConnectOptions,
    ) -> Result<(Live, Handshake), ConnectError> {
        let config = options.apply(self.config.clone());
        let (events, received) =
            crate::channel::channel(config.event_buffer, config.event_buffer_bytes);
        let (status, watched) = watch::channel(SessionStatus::default());
        let (connected, confirmed) = oneshot::channel();
        let (handled, all_handled) = oneshot::channel();
        self.deliver(Delivery {
            events: received,
            handlers: self.handlers().clone(),
            connected,
            handled,
        });
        let (url, http_session) = (url.to_owned(), self.http_session.clone());
        let sender = EventSender { events, status };
        let (spawned, session) = oneshot::channel();
        let (opened, handshake) = oneshot::channel();
        let start = move || async move {
            let http_client = http_session.map(|make| make());
            match start_session(
                &url,
                config,
                Subscribers::default(),
                http_client,
                Some(sender),
            ) {
                Ok(started) => {
                    let _ = spawned.send(Ok((started.session.clone(), started.sender.clone())));
                    let _ = opened.send(started.opened().await.map(|_| confirmed));
                }
                Err(error) => drop(spawned.send(Err(error))),
            }
        };
        self.runtime
            .spawn(start)
            .map_err(|_| ConnectError::Aborted)?;
        let (session, sender) = session.await.map_err(|_| ConnectError::Aborted)??;
        let live = Live {
            session,
            sender,
            status: watched,
            handled: all_handled.shared(),
        };
        Ok((live, handshake))
    }

    /// Sends through the live session's handle: the answer is known at once unless
    /// the send queue is full. Not connected: refused at once.
    fn send(&self, payload: Payload) -> Result<SendFuture, Unsent> {
        match &*lock(&self.state) {
            State::Live(live) if live.ended().is_none() => Ok(live.sender.send(payload)),
            _ => {
                let error = SendError::NotConnected;
                Err(Unsent { error, payload })
            }
        }
    }

    async fn try_send(&self, payload: Payload) -> Result<(), Unsent> {
        let Some(live) = self.live() else {
            let error = SendError::NotConnected;
            return Err(Unsent { error, payload });
        };
        // The session answers at once, so this only waits for its turn in the mailbox.
        match live.session.send(TrySend(payload.clone())).await {
            Ok(result) => result,
            Err(_) => Err(Unsent {
                error: SendError::Closed,
                payload,
            }),
        }
    }

    /// Closes the live session (or aborts it) and returns once it has ended.
    async fn disconnect(&self, abort: bool) {
        // A session being started may have opened already (its connect handler may have
        // run): it is live, or not, once `connect` has its address.
        let mut connecting = self.connecting.subscribe();
        let _ = connecting.wait_for(|starting| !starting).await;
        let Some(live) = self.live() else {
            return;
        };
        // Both answer when the session has stopped; a session gone already is fine.
        let _ = if abort {
            live.session.send(Abort).await
        } else {
            live.session.send(Close).await
        };
        self.settle(&live);
    }

    /// Waits for the session to end, whoever ends it, and for its handlers to have
    /// run (unless called from one), then gives the reason; at once when there is no
    /// session (with the last one's reason, if any). When Ctrl-C ended the session, it
    /// returns only after the program's own handling of SIGINT.
    async fn wait(&self) -> Option<DisconnectReason> {
        let reason = self.wait_handled().await;
        sigint::settled().await;
        reason
    }

    /// [`wait`](Self::wait), but for the Ctrl-C handling of the session's end.
    async fn wait_handled(&self) -> Option<DisconnectReason> {
        let live = match &*lock(&self.state) {
            State::Live(live) | State::Idle(Some(live)) => live.clone(),
            State::Idle(None) | State::Connecting => return None,
        };
        let mut status = live.status.clone();
        // An error means the session is gone without a word: it stopped.
        let _ = status.wait_for(|status| status.ended.is_some()).await;
        self.settle(&live);
        if !in_handler() {
            let _ = live.handled.clone().await;
        }
        live.ended()
    }

    /// The session has ended: the client is idle again, unless it moved on already.
    fn settle(&self, live: &Live) {
        let mut state = lock(&self.state);
        if let State::Live(current) = &*state {
            if current.session == live.session {
                *state = State::Idle(Some(live.clone()));
            }
        }
    }
}

impl<F: Flavor> Drop for Core<F> {
    fn drop(&mut self) {
        // The last handle is gone, and with it every way to end the session: end it.
        if let Some(live) = self.live() {
            live.session.do_send(Close);
        }
    }
}

/// What `send_json` gives back when the value is not JSON: the reason, and no message.
fn invalid_json(error: serde_json::Error) -> Unsent {
    Unsent {
        error: SendError::InvalidJson(error.to_string()),
        payload: Payload::from(""),
    }
}
