//! [`Client`]: python-engineio's blocking `Client`, from any thread.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use actix::Addr;
use futures::channel::mpsc;
use futures::future::{self, Either, LocalBoxFuture};
use serde::Serialize;

use super::dispatch::{dispatch, mark_handler_thread, Delivery, Flavor, Handled};
use super::handler::{boxed, BoxedHandler, HandlerOutput};
use super::park::block_on;
use super::runtime::Runtime;
use super::{invalid_json, sigint, ConnectOptions, Core};
use crate::builder::{BlockingApi, Builder, ClientBuilder};
use crate::config::ClientConfig;
use crate::error::{ConnectError, Unsent};
use crate::event::{Connect, Event, Reconnecting, Upgrade};
use crate::protocol::{DisconnectReason, Payload, TransportKind};
use crate::session::Session;

/// An Engine.IO client whose methods block: python-engineio's `Client`, under the
/// same names.
///
/// It works from any thread: a program with no runtime at all, or a thread spawned
/// inside a Tokio runtime. Its sessions run on the background thread that serves
/// every client of the process (one OS thread and a single-threaded runtime, started
/// on first use); its handlers run on a thread of its own, one at a time, in the order
/// of the events, so a slow handler never delays the heartbeat or the socket. Do not
/// call its blocking methods from async code: use [`AsyncClient`](crate::AsyncClient).
///
/// ```no_run
/// use actix_engineio::{Client, Payload};
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let eio = Client::new();
///     eio.on_connect(|_| println!("connection established"));
///     let replies = eio.clone();
///     eio.on_message(move |data: Payload| {
///         println!("message received with {data:?}");
///         let _ = replies.send_json(&serde_json::json!({"response": "my response"}));
///     });
///     eio.on_disconnect(|reason| println!("disconnected from server: {reason}"));
///     eio.connect("http://localhost:5000")?;
///     eio.wait();
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct Client {
    core: Arc<Core<BlockingFlavor>>,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("sid", &self.sid()).finish()
    }
}

impl Client {
    /// A client with the default settings (python's `Client()`): Ctrl-C disconnects it.
    ///
    /// ```
    /// let eio = actix_engineio::Client::new();
    /// assert_eq!(eio.sid(), None);
    /// ```
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for a client with settings (python's `Client(logger=True, …)`).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let eio = actix_engineio::Client::builder()
    ///     .logger(true)
    ///     .request_timeout(Duration::from_secs(5))
    ///     .handle_sigint(false)
    ///     .build();
    /// ```
    pub fn builder() -> ClientBuilder {
        let config = ClientConfig {
            logging: false,
            ..ClientConfig::default()
        };
        Builder::with(config, BlockingApi::default())
    }

    /// Sets the handler of the `connect` event (python's `@eio.on('connect')`), given
    /// the [`Connect`] event. Returning an `Err` refuses the connection:
    /// [`connect`](Self::connect) then fails with [`ConnectError::Refused`] and the
    /// session is closed. Handlers set after `connect` serve the next connection.
    ///
    /// ```
    /// let eio = actix_engineio::Client::new();
    /// eio.on_connect(|connect| println!("connected as {}", connect.sid));
    /// ```
    pub fn on_connect<H, R>(&self, handler: H)
    where
        H: Fn(Connect) -> R + std::marker::Send + Sync + 'static,
        R: HandlerOutput,
    {
        self.core.handlers().connect = Some(boxed(handler));
    }

    /// Sets the handler of the `message` event: the data, text or bytes.
    ///
    /// ```
    /// use actix_engineio::{Client, Payload};
    ///
    /// let eio = Client::new();
    /// eio.on_message(|data: Payload| {
    ///     let value: serde_json::Value = data.parse_json().unwrap_or_default();
    ///     println!("{value}");
    /// });
    /// ```
    pub fn on_message<H, R>(&self, handler: H)
    where
        H: Fn(Payload) -> R + std::marker::Send + Sync + 'static,
        R: HandlerOutput,
    {
        self.core.handlers().message = Some(boxed(handler));
    }

    /// Sets the handler of the `disconnect` event: why the session ended.
    ///
    /// ```
    /// let eio = actix_engineio::Client::new();
    /// eio.on_disconnect(|reason| println!("disconnected: {reason}"));
    /// ```
    pub fn on_disconnect<H, R>(&self, handler: H)
    where
        H: Fn(DisconnectReason) -> R + std::marker::Send + Sync + 'static,
        R: HandlerOutput,
    {
        self.core.handlers().disconnect = Some(boxed(handler));
    }

    /// Sets the handler of the `upgrade` event (not in python-engineio): whether the
    /// session moved from polling to websocket.
    ///
    /// ```
    /// let eio = actix_engineio::Client::new();
    /// eio.on_upgrade(|upgrade| println!("{upgrade:?}"));
    /// ```
    pub fn on_upgrade<H, R>(&self, handler: H)
    where
        H: Fn(Upgrade) -> R + std::marker::Send + Sync + 'static,
        R: HandlerOutput,
    {
        self.core.handlers().upgrade = Some(boxed(handler));
    }

    /// Sets the handler of the `reconnecting` event (with a reconnection policy): a
    /// lost session will be opened again after a delay.
    ///
    /// ```
    /// let eio = actix_engineio::Client::new();
    /// eio.on_reconnecting(|next| println!("attempt {} in {:?}", next.attempt, next.delay));
    /// ```
    pub fn on_reconnecting<H, R>(&self, handler: H)
    where
        H: Fn(Reconnecting) -> R + std::marker::Send + Sync + 'static,
        R: HandlerOutput,
    {
        self.core.handlers().reconnecting = Some(boxed(handler));
    }

    /// Sets the handler of messages given back: sent, taken, and never written,
    /// because the session they were sent on ended first.
    ///
    /// ```
    /// let eio = actix_engineio::Client::new();
    /// eio.on_undelivered(|lost| eprintln!("{} messages not sent", lost.len()));
    /// ```
    pub fn on_undelivered<H, R>(&self, handler: H)
    where
        H: Fn(Vec<Payload>) -> R + std::marker::Send + Sync + 'static,
        R: HandlerOutput,
    {
        self.core.handlers().undelivered = Some(boxed(handler));
    }

    /// Connects to the server at `url`; returns once the session is open and the
    /// connect handler has run.
    ///
    /// ```no_run
    /// let eio = actix_engineio::Client::new();
    /// eio.connect("http://localhost:5000")?;
    /// # Ok::<(), actix_engineio::ConnectError>(())
    /// ```
    pub fn connect(&self, url: &str) -> Result<(), ConnectError> {
        self.connect_with(url, ConnectOptions::new())
    }

    /// [`connect`](Self::connect) with python's other arguments.
    ///
    /// ```no_run
    /// use actix_engineio::{Client, ConnectOptions};
    ///
    /// let eio = Client::new();
    /// eio.connect_with("http://localhost:5000", ConnectOptions::new().transports(["polling"]))?;
    /// # Ok::<(), actix_engineio::ConnectError>(())
    /// ```
    pub fn connect_with(&self, url: &str, options: ConnectOptions) -> Result<(), ConnectError> {
        block_on(self.core.connect(url, options))
    }

    /// The session id, while connected.
    ///
    /// ```
    /// assert_eq!(actix_engineio::Client::new().sid(), None);
    /// ```
    pub fn sid(&self) -> Option<String> {
        self.core.sid()
    }

    /// The transport in use now, while connected: it changes at the upgrade.
    ///
    /// ```
    /// assert_eq!(actix_engineio::Client::new().transport(), None);
    /// ```
    pub fn transport(&self) -> Option<TransportKind> {
        self.core.transport()
    }

    /// Sends text or bytes; returns once the message is in the session's send queue, and
    /// blocks only while that queue is full (backpressure). An error when not connected,
    /// or when the session cannot take the message, with the message given back.
    ///
    /// ```no_run
    /// # fn run(eio: actix_engineio::Client) -> Result<(), actix_engineio::Unsent> {
    /// eio.send("hello")?;
    /// eio.send(vec![1u8, 2, 3])?;
    /// # Ok(()) }
    /// ```
    pub fn send(&self, data: impl Into<Payload>) -> Result<(), Unsent> {
        send_blocking(&self.core, data.into())
    }

    /// Sends any `Serialize` value as compact JSON text.
    ///
    /// ```no_run
    /// # fn run(eio: actix_engineio::Client) -> Result<(), actix_engineio::Unsent> {
    /// eio.send_json(&[1, 2, 3])?;
    /// # Ok(()) }
    /// ```
    pub fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Unsent> {
        let payload = Payload::json(value).map_err(invalid_json)?;
        send_blocking(&self.core, payload)
    }

    /// Sends if the send buffer has room now; otherwise returns at once with the
    /// message given back.
    ///
    /// ```no_run
    /// # fn run(eio: actix_engineio::Client) {
    /// if let Err(refused) = eio.try_send("tick") {
    ///     let _later = refused.into_payload();
    /// }
    /// # }
    /// ```
    pub fn try_send(&self, data: impl Into<Payload>) -> Result<(), Unsent> {
        block_on(self.core.try_send(data.into()))
    }

    /// Disconnects, and returns once the session has ended and the server has the
    /// close (within the request timeout).
    ///
    /// ```no_run
    /// # fn run(eio: actix_engineio::Client) {
    /// eio.disconnect();
    /// # }
    /// ```
    pub fn disconnect(&self) {
        block_on(self.core.disconnect(false))
    }

    /// Drops the connection without telling the server (python's
    /// `disconnect(abort=True)`).
    ///
    /// ```no_run
    /// # fn run(eio: actix_engineio::Client) {
    /// eio.abort();
    /// # }
    /// ```
    pub fn abort(&self) {
        block_on(self.core.disconnect(true))
    }

    /// Blocks until the session ends, whoever ends it, and gives the reason; at once
    /// when not connected (with the last session's reason, if any).
    ///
    /// ```no_run
    /// # fn run(eio: actix_engineio::Client) {
    /// let reason = eio.wait();
    /// # }
    /// ```
    pub fn wait(&self) -> Option<DisconnectReason> {
        block_on(self.core.wait())
    }

    /// Sleeps (python's `eio.sleep`).
    ///
    /// ```
    /// actix_engineio::Client::new().sleep(std::time::Duration::from_millis(1));
    /// ```
    pub fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }

    /// Runs `task(args)` on a new thread and returns its handle (python's
    /// `start_background_task(target, *args)`).
    ///
    /// ```no_run
    /// use actix_engineio::Client;
    ///
    /// # fn run(eio: Client) {
    /// let sender = eio.start_background_task(
    ///     |eio: Client| {
    ///         for i in 0..3 {
    ///             let _ = eio.send(format!("tick {i}"));
    ///         }
    ///     },
    ///     eio.clone(),
    /// );
    /// sender.join().unwrap();
    /// # }
    /// ```
    pub fn start_background_task<F, A, T>(&self, task: F, args: A) -> JoinHandle<T>
    where
        F: FnOnce(A) -> T + std::marker::Send + 'static,
        A: std::marker::Send + 'static,
        T: std::marker::Send + 'static,
    {
        std::thread::spawn(move || task(args))
    }

    /// The session actor of the live session, to mix this client with actor messages.
    ///
    /// ```
    /// assert!(actix_engineio::Client::new().session().is_none());
    /// ```
    pub fn session(&self) -> Option<Addr<Session>> {
        self.core.session()
    }
}

impl ClientBuilder {
    /// The client.
    ///
    /// ```
    /// let eio = actix_engineio::Client::builder().build();
    /// ```
    pub fn build(self) -> Client {
        let (config, api) = self.into_parts();
        let (parts, handle_sigint) = api.into_parts();
        let core = Arc::new(Core::new(config, parts.http_session, Runtime::background()));
        if handle_sigint {
            sigint::watch(&core);
        }
        Client { core }
    }
}

/// Sends, and blocks only while the send queue is full.
fn send_blocking(core: &Core<BlockingFlavor>, payload: Payload) -> Result<(), Unsent> {
    let mut answer = core.send(payload)?;
    match answer.now() {
        Some(answer) => answer,
        None => block_on(answer),
    }
}

/// The handlers of a [`Client`].
#[derive(Clone, Default)]
pub(crate) struct BlockingHandlers {
    connect: Option<BoxedHandler<Connect>>,
    message: Option<BoxedHandler<Payload>>,
    disconnect: Option<BoxedHandler<DisconnectReason>>,
    upgrade: Option<BoxedHandler<Upgrade>>,
    reconnecting: Option<BoxedHandler<Reconnecting>>,
    undelivered: Option<BoxedHandler<Vec<Payload>>>,
}

pub(crate) struct BlockingFlavor;

impl Flavor for BlockingFlavor {
    type Handlers = BlockingHandlers;

    fn handle(handlers: &BlockingHandlers, event: &Event) -> Handled {
        let outcome = match event {
            Event::Connect(connect) => handlers.connect.as_ref().map(|h| h(connect.clone())),
            Event::Message(payload) => handlers.message.as_ref().map(|h| h(payload.clone())),
            Event::Disconnect(reason) => handlers.disconnect.as_ref().map(|h| h(reason.clone())),
            Event::Upgrade(upgrade) => handlers.upgrade.as_ref().map(|h| h(upgrade.clone())),
            Event::Reconnecting(next) => handlers.reconnecting.as_ref().map(|h| h(*next)),
            Event::Undelivered(lost) => handlers.undelivered.as_ref().map(|h| h(lost.clone())),
        };
        Either::Left(future::ready(outcome.unwrap_or(Ok(()))))
    }

    fn forward(_: &BlockingHandlers, _: Event) -> Option<LocalBoxFuture<'static, ()>> {
        None
    }

    fn start_dispatcher(_: &Runtime) -> mpsc::UnboundedSender<Delivery<Self>> {
        let (deliveries, received) = mpsc::unbounded();
        // A thread of the client's own: its handlers may block.
        let _ = std::thread::Builder::new()
            .name("engineio-handlers".into())
            .spawn(move || {
                mark_handler_thread();
                block_on(dispatch::<BlockingFlavor>(received))
            });
        deliveries
    }
}
