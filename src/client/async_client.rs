//! [`AsyncClient`]: python-engineio's `AsyncClient`, for async code on any runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use actix::Addr;
use futures::channel::{mpsc, oneshot};
use futures::future::{self, Either, FutureExt, LocalBoxFuture};
use futures::{Sink, Stream};
use serde::Serialize;

use super::dispatch::{dispatch, Delivery, Flavor, Handled};
use super::handler::{boxed_async, AsyncOutput, BoxedAsyncHandler};
use super::runtime::Runtime;
use super::{invalid_json, lock, ConnectOptions, Core};
use crate::builder::{AsyncApi, AsyncClientBuilder, Builder};
use crate::config::ClientConfig;
use crate::error::{ConnectError, Unsent};
use crate::event::{Connect, Event, Reconnecting, Upgrade};
use crate::protocol::{DisconnectReason, Payload, TransportKind};
use crate::session::Session;

/// An Engine.IO client for async code: python-engineio's `AsyncClient`, under the
/// same names.
///
/// It works under `#[actix_rt::main]` (its sessions then run on the current arbiter),
/// under any Tokio runtime or none at all, and inside actix-web or axum handlers:
/// without an actix `System` on the calling thread, its sessions run on one
/// background thread shared by every client of the process (one OS thread and a
/// single-threaded runtime, started on first use). It is `Send + Sync + Clone`;
/// clones share one connection.
///
/// Handlers run one at a time, in the order of the events, as a task beside the
/// session: a slow handler delays the next events, never the heartbeat or the socket.
///
/// ```no_run
/// use actix_engineio::{AsyncClient, Payload};
///
/// #[tokio::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let eio = AsyncClient::new();
///     eio.on_connect(|_| println!("connection established"));
///     let replies = eio.clone();
///     eio.on_message(move |data: Payload| {
///         let eio = replies.clone();
///         async move {
///             println!("message received with {data:?}");
///             let _ = eio.send("my response").await;
///         }
///     });
///     eio.on_disconnect(|reason| println!("disconnected from server: {reason}"));
///     eio.connect("http://localhost:5000").await?;
///     eio.wait().await;
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct AsyncClient {
    core: Arc<Core<AsyncFlavor>>,
}

impl Default for AsyncClient {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for AsyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncClient")
            .field("sid", &self.sid())
            .finish()
    }
}

impl AsyncClient {
    /// A client with the default settings (python's `AsyncClient()`).
    ///
    /// ```
    /// let eio = actix_engineio::AsyncClient::new();
    /// assert_eq!(eio.sid(), None);
    /// ```
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for a client with settings (python's `AsyncClient(logger=True, …)`).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let eio = actix_engineio::AsyncClient::builder()
    ///     .logger(true)
    ///     .request_timeout(Duration::from_secs(5))
    ///     .ssl_verify(true)
    ///     .build();
    /// ```
    pub fn builder() -> AsyncClientBuilder {
        let config = ClientConfig {
            logging: false,
            ..ClientConfig::default()
        };
        Builder::with(config, AsyncApi::default())
    }

    /// Sets the handler of the `connect` event (python's `@eio.on('connect')`): a
    /// closure or an async closure, given the [`Connect`] event. Returning an `Err`
    /// refuses the connection: [`connect`](Self::connect) then fails with
    /// [`ConnectError::Refused`] and the session is closed. Handlers set after
    /// `connect` serve the next connection.
    ///
    /// ```
    /// let eio = actix_engineio::AsyncClient::new();
    /// eio.on_connect(|connect| println!("connected as {} over {}", connect.sid, connect.transport));
    /// eio.on_connect(|_| async { Err::<(), _>("not today") }); // refuses, asynchronously
    /// ```
    pub fn on_connect<H, R, M>(&self, handler: H)
    where
        H: Fn(Connect) -> R + std::marker::Send + Sync + 'static,
        R: AsyncOutput<M>,
    {
        self.core.handlers().connect = Some(boxed_async(handler));
    }

    /// Sets the handler of the `message` event: the data, text or bytes
    /// ([`Payload::parse_json`] decodes JSON text).
    ///
    /// ```
    /// use actix_engineio::{AsyncClient, Payload};
    ///
    /// let eio = AsyncClient::new();
    /// eio.on_message(|data: Payload| match data {
    ///     Payload::Text(text) => println!("text: {text}"),
    ///     Payload::Binary(bytes) => println!("{} bytes", bytes.len()),
    /// });
    /// ```
    pub fn on_message<H, R, M>(&self, handler: H)
    where
        H: Fn(Payload) -> R + std::marker::Send + Sync + 'static,
        R: AsyncOutput<M>,
    {
        self.core.handlers().message = Some(boxed_async(handler));
    }

    /// Sets the handler of the `disconnect` event: why the session ended.
    ///
    /// ```
    /// let eio = actix_engineio::AsyncClient::new();
    /// eio.on_disconnect(|reason| async move { println!("disconnected: {reason}") });
    /// ```
    pub fn on_disconnect<H, R, M>(&self, handler: H)
    where
        H: Fn(DisconnectReason) -> R + std::marker::Send + Sync + 'static,
        R: AsyncOutput<M>,
    {
        self.core.handlers().disconnect = Some(boxed_async(handler));
    }

    /// Sets the handler of the `upgrade` event (not in python-engineio): whether the
    /// session moved from polling to websocket.
    ///
    /// ```
    /// use actix_engineio::{AsyncClient, Upgrade};
    ///
    /// let eio = AsyncClient::new();
    /// eio.on_upgrade(|upgrade| {
    ///     if let Upgrade::Failed(error) = upgrade {
    ///         eprintln!("staying on polling: {error}");
    ///     }
    /// });
    /// ```
    pub fn on_upgrade<H, R, M>(&self, handler: H)
    where
        H: Fn(Upgrade) -> R + std::marker::Send + Sync + 'static,
        R: AsyncOutput<M>,
    {
        self.core.handlers().upgrade = Some(boxed_async(handler));
    }

    /// Sets the handler of the `reconnecting` event (with a reconnection policy): a
    /// lost session will be opened again after a delay. The `disconnect` handler hears
    /// of the loss first.
    ///
    /// ```
    /// let eio = actix_engineio::AsyncClient::new();
    /// eio.on_reconnecting(|next| println!("attempt {} in {:?}", next.attempt, next.delay));
    /// ```
    pub fn on_reconnecting<H, R, M>(&self, handler: H)
    where
        H: Fn(Reconnecting) -> R + std::marker::Send + Sync + 'static,
        R: AsyncOutput<M>,
    {
        self.core.handlers().reconnecting = Some(boxed_async(handler));
    }

    /// Sets the handler of messages given back: sent, taken, and never written,
    /// because the session they were sent on ended first.
    ///
    /// ```
    /// let eio = actix_engineio::AsyncClient::new();
    /// eio.on_undelivered(|lost| eprintln!("{} messages not sent", lost.len()));
    /// ```
    pub fn on_undelivered<H, R, M>(&self, handler: H)
    where
        H: Fn(Vec<Payload>) -> R + std::marker::Send + Sync + 'static,
        R: AsyncOutput<M>,
    {
        self.core.handlers().undelivered = Some(boxed_async(handler));
    }

    /// Connects to the server at `url` and returns once the session is open and the
    /// connect handler has run; a refused handshake is an error with the HTTP status
    /// and body. Connecting a client that is connected is
    /// [`ConnectError::AlreadyConnected`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), actix_engineio::ConnectError> {
    /// let eio = actix_engineio::AsyncClient::new();
    /// eio.connect("http://localhost:5000").await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(&self, url: &str) -> Result<(), ConnectError> {
        self.connect_with(url, ConnectOptions::new()).await
    }

    /// [`connect`](Self::connect) with python's other arguments: headers, transports,
    /// engine.io path.
    ///
    /// ```no_run
    /// use actix_engineio::{AsyncClient, ConnectOptions};
    ///
    /// # async fn run() -> Result<(), actix_engineio::ConnectError> {
    /// let eio = AsyncClient::new();
    /// let options = ConnectOptions::new().header("X-Token", "abc").transports(["websocket"]);
    /// eio.connect_with("http://localhost:5000", options).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_with(
        &self,
        url: &str,
        options: ConnectOptions,
    ) -> Result<(), ConnectError> {
        self.core.connect(url, options).await
    }

    /// The session id, while connected.
    ///
    /// ```
    /// assert_eq!(actix_engineio::AsyncClient::new().sid(), None);
    /// ```
    pub fn sid(&self) -> Option<String> {
        self.core.sid()
    }

    /// The transport in use now, while connected: it changes at the upgrade.
    ///
    /// ```
    /// assert_eq!(actix_engineio::AsyncClient::new().transport(), None);
    /// ```
    pub fn transport(&self) -> Option<TransportKind> {
        self.core.transport()
    }

    /// Sends a message: text (`&str`, `String`) or bytes (`Vec<u8>`, `Bytes`). Returns
    /// once the message is in the session's send queue: at once unless the queue is full
    /// (backpressure; see [`SessionSender`](crate::SessionSender)); an error when not
    /// connected (python drops such a message silently) or when the session cannot take
    /// it, with the message given back. Messages go out in the order of the `send` calls.
    ///
    /// ```no_run
    /// # async fn run(eio: actix_engineio::AsyncClient) -> Result<(), actix_engineio::Unsent> {
    /// eio.send("hello").await?;
    /// eio.send(vec![1u8, 2, 3]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send(&self, data: impl Into<Payload>) -> Result<(), Unsent> {
        self.core.send(data.into())?.await
    }

    /// Sends any `Serialize` value as compact JSON text (python's `send(dict)`).
    ///
    /// ```no_run
    /// # async fn run(eio: actix_engineio::AsyncClient) -> Result<(), actix_engineio::Unsent> {
    /// eio.send_json(&serde_json::json!({"response": "my response"})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Unsent> {
        let payload = Payload::json(value).map_err(invalid_json)?;
        self.core.send(payload)?.await
    }

    /// Sends a message if the send buffer has room now; otherwise gives it back at
    /// once in the error, with [`SendError::Full`](crate::SendError::Full).
    ///
    /// ```no_run
    /// # async fn run(eio: actix_engineio::AsyncClient) {
    /// if let Err(refused) = eio.try_send("tick").await {
    ///     eprintln!("dropped {:?}: {}", refused.payload, refused.error);
    /// }
    /// # }
    /// ```
    pub async fn try_send(&self, data: impl Into<Payload>) -> Result<(), Unsent> {
        self.core.try_send(data.into()).await
    }

    /// Disconnects, and returns once the session has ended: what was sent before goes
    /// out first, then the server has the close (within the request timeout). Does
    /// nothing when not connected.
    ///
    /// ```no_run
    /// # async fn run(eio: actix_engineio::AsyncClient) {
    /// eio.disconnect().await;
    /// # }
    /// ```
    pub async fn disconnect(&self) {
        self.core.disconnect(false).await
    }

    /// Drops the connection without telling the server (python's
    /// `disconnect(abort=True)`); returns once the session has ended.
    ///
    /// ```no_run
    /// # async fn run(eio: actix_engineio::AsyncClient) {
    /// eio.abort().await;
    /// # }
    /// ```
    pub async fn abort(&self) {
        self.core.disconnect(true).await
    }

    /// Waits until the session ends, whoever ends it, and gives the reason; at once
    /// when not connected (with the last session's reason, if there was one).
    ///
    /// ```no_run
    /// # async fn run(eio: actix_engineio::AsyncClient) {
    /// if let Some(reason) = eio.wait().await {
    ///     println!("the session ended: {reason}");
    /// }
    /// # }
    /// ```
    pub async fn wait(&self) -> Option<DisconnectReason> {
        self.core.wait().await
    }

    /// Sleeps, on whatever runtime the caller uses (the timer runs on the client's).
    ///
    /// ```no_run
    /// # async fn run(eio: actix_engineio::AsyncClient) {
    /// eio.sleep(std::time::Duration::from_millis(100)).await;
    /// # }
    /// ```
    pub async fn sleep(&self, duration: Duration) {
        let _ = self
            .core
            .runtime
            .run(move || actix_rt::time::sleep(duration))
            .await;
    }

    /// Starts `task(args)` as a task on the client's runtime and returns a handle that
    /// resolves to its result (python's `start_background_task(target, *args)`).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use actix_engineio::AsyncClient;
    ///
    /// # async fn run(eio: AsyncClient) {
    /// let ticker = eio.start_background_task(
    ///     |eio: AsyncClient| async move {
    ///         for i in 0..3 {
    ///             let _ = eio.send(format!("tick {i}")).await;
    ///             eio.sleep(Duration::from_secs(1)).await;
    ///         }
    ///     },
    ///     eio.clone(),
    /// );
    /// let _ = ticker.await;
    /// # }
    /// ```
    pub fn start_background_task<F, A, Fut>(&self, task: F, args: A) -> BackgroundTask<Fut::Output>
    where
        F: FnOnce(A) -> Fut + std::marker::Send + 'static,
        A: std::marker::Send + 'static,
        Fut: Future + 'static,
        Fut::Output: std::marker::Send + 'static,
    {
        let (done, result) = oneshot::channel();
        let _ = self.core.runtime.spawn(move || async move {
            let _ = done.send(task(args).await);
        });
        BackgroundTask { result }
    }

    /// The client's events as a stream, from now on, for code that prefers
    /// `while let Some(event) = events.next().await` to handlers. Each event reaches
    /// the handlers first, then the stream. The stream is bounded: a consumer that
    /// stops reading holds the session back (it stops reading the server), so drop
    /// the stream when done with it. Taking another replaces it.
    ///
    /// ```no_run
    /// use actix_engineio::{AsyncClient, Event};
    /// use futures::StreamExt;
    ///
    /// # async fn run() -> Result<(), actix_engineio::ConnectError> {
    /// let eio = AsyncClient::new();
    /// let mut events = eio.events();
    /// eio.connect("http://localhost:5000").await?;
    /// while let Some(event) = events.next().await {
    ///     match event {
    ///         Event::Message(data) => println!("{data:?}"),
    ///         Event::Disconnect(reason) => {
    ///             println!("ended: {reason}");
    ///             break;
    ///         }
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events(&self) -> EventStream {
        let (sender, receiver) = mpsc::channel(self.core.config.event_buffer);
        *lock(&self.core.handlers().stream) = Some(sender);
        EventStream { receiver }
    }

    /// The session actor of the live session, to mix this client with actor messages
    /// ([`Subscribe`](crate::Subscribe), [`Send`](crate::Send), …).
    ///
    /// ```
    /// assert!(actix_engineio::AsyncClient::new().session().is_none());
    /// ```
    pub fn session(&self) -> Option<Addr<Session>> {
        self.core.session()
    }
}

impl AsyncClientBuilder {
    /// The client.
    ///
    /// ```
    /// let eio = actix_engineio::AsyncClient::builder().logger(true).build();
    /// ```
    pub fn build(self) -> AsyncClient {
        let (config, api) = self.into_parts();
        let parts = api.into_parts();
        let runtime = Runtime::current_or_background();
        AsyncClient {
            core: Arc::new(Core::new(config, parts.http_session, runtime)),
        }
    }
}

/// The events of an [`AsyncClient`], from [`AsyncClient::events`].
#[derive(Debug)]
pub struct EventStream {
    receiver: mpsc::Receiver<Event>,
}

impl Stream for EventStream {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        Pin::new(&mut self.receiver).poll_next(cx)
    }
}

/// A task started by [`AsyncClient::start_background_task`]: resolves to its result,
/// or to `Err` if it panicked or its runtime stopped.
#[derive(Debug)]
pub struct BackgroundTask<T> {
    result: oneshot::Receiver<T>,
}

impl<T> Future for BackgroundTask<T> {
    type Output = Result<T, oneshot::Canceled>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.result).poll(cx)
    }
}

/// The handlers of an [`AsyncClient`], and its event stream.
#[derive(Clone, Default)]
pub(crate) struct AsyncHandlers {
    connect: Option<BoxedAsyncHandler<Connect>>,
    message: Option<BoxedAsyncHandler<Payload>>,
    disconnect: Option<BoxedAsyncHandler<DisconnectReason>>,
    upgrade: Option<BoxedAsyncHandler<Upgrade>>,
    reconnecting: Option<BoxedAsyncHandler<Reconnecting>>,
    undelivered: Option<BoxedAsyncHandler<Vec<Payload>>>,
    /// Shared with the client, so a stream taken after `connect` gets the events too.
    stream: Arc<Mutex<Option<mpsc::Sender<Event>>>>,
}

pub(crate) struct AsyncFlavor;

impl Flavor for AsyncFlavor {
    type Handlers = AsyncHandlers;

    fn handle(handlers: &AsyncHandlers, event: &Event) -> Handled {
        let handled = match event {
            Event::Connect(connect) => handlers.connect.as_ref().map(|h| h(connect.clone())),
            Event::Message(payload) => handlers.message.as_ref().map(|h| h(payload.clone())),
            Event::Disconnect(reason) => handlers.disconnect.as_ref().map(|h| h(reason.clone())),
            Event::Upgrade(upgrade) => handlers.upgrade.as_ref().map(|h| h(upgrade.clone())),
            Event::Reconnecting(next) => handlers.reconnecting.as_ref().map(|h| h(*next)),
            Event::Undelivered(lost) => handlers.undelivered.as_ref().map(|h| h(lost.clone())),
        };
        handled.map_or_else(|| Either::Left(future::ready(Ok(()))), Either::Right)
    }

    fn forward(handlers: &AsyncHandlers, event: Event) -> Option<LocalBoxFuture<'static, ()>> {
        // Nobody took the stream: nothing to do.
        lock(&handlers.stream).as_ref()?;
        let stream = handlers.stream.clone();
        let forwarded = async move {
            // Waits for room without holding the lock across the wait.
            let ready = future::poll_fn(|cx| match lock(&stream).as_mut() {
                Some(sender) => Pin::new(sender).poll_ready(cx).map(|r| r.is_ok()),
                None => Poll::Ready(false),
            })
            .await;
            let mut slot = lock(&stream);
            let sent = ready && slot.as_mut().is_some_and(|s| s.start_send(event).is_ok());
            if !sent {
                // Nobody reads the stream any more.
                *slot = None;
            }
        };
        Some(forwarded.boxed_local())
    }

    fn start_dispatcher(runtime: &Runtime) -> mpsc::UnboundedSender<Delivery<Self>> {
        let (deliveries, received) = mpsc::unbounded();
        let _ = runtime.spawn(move || dispatch::<AsyncFlavor>(received));
        deliveries
    }
}
