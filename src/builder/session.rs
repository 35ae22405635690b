//! The builder of the actor API: settings, subscribers, then `connect`.

use actix::{Actor, Addr, Recipient, Supervisor};
use futures::channel::oneshot;

use super::Builder;
use crate::config::ClientConfig;
use crate::error::ConnectError;
use crate::event::{
    Connect, Disconnect, EventSender, Message, Messages, Reconnecting, Undelivered, Upgrade,
};
use crate::request::Subscribe;
use crate::session::{Session, SessionSender, Subscribers};
use crate::transport::http::Http;

impl Session {
    /// A builder for a session with the server at `url` (`http`, `https`, `ws` or `wss`).
    ///
    /// The scheme only says whether TLS is used (`ws` is `http`, `wss` is `https`); the
    /// transports are chosen with [`SessionBuilder::transports`]. A path in the URL is
    /// the engine.io path unless [`SessionBuilder::path`] sets one.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), actix_engineio::ConnectError> {
    /// let session = actix_engineio::Session::builder("ws://127.0.0.1:3000").connect().await?;
    /// # Ok(()) }
    /// ```
    pub fn builder(url: impl Into<String>) -> SessionBuilder {
        SessionBuilder::new(url)
    }
}

/// Builds and starts a [`Session`]: the [`Builder`] of the actor API, from
/// [`Session::builder`].
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
pub type SessionBuilder = Builder<ActorApi>;

/// What the actor API adds to the settings: the server's URL, the subscribers and a
/// custom HTTP client.
#[derive(Clone)]
pub struct ActorApi {
    url: String,
    subscribers: Subscribers,
    http_client: Option<awc::Client>,
}

impl SessionBuilder {
    pub(crate) fn new(url: impl Into<String>) -> Self {
        let api = ActorApi {
            url: url.into(),
            subscribers: Subscribers::default(),
            http_client: None,
        };
        Builder::with(ClientConfig::default(), api)
    }

    /// Uses this `awc::Client` for every request instead of building one. TLS is then
    /// the client's own: setting `ca_certificate_pem`, `ca_file` or `ssl_verify(false)`
    /// as well is a configuration error, as they could not take effect. So is
    /// [`proxy`](Self::proxy); and the environment's proxy variables (`HTTP_PROXY`, ...)
    /// are not read for it: proxying is the client's connector's business.
    ///
    /// It must not negotiate HTTP/2 for websockets: build its connector with
    /// `max_http_version(Version::HTTP_11)`. Its own timeout (5 s unless changed) also
    /// bounds opening a websocket, so disable it: the session times every request
    /// itself, with [`request_timeout`](Self::request_timeout).
    ///
    /// ```
    /// use actix_engineio::Session;
    /// use awc::http::Version;
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let connector = awc::Connector::new().max_http_version(Version::HTTP_11);
    /// let client = awc::Client::builder().connector(connector).disable_timeout().finish();
    /// let builder = Session::builder("http://127.0.0.1:3000").http_client(client);
    /// # }
    /// ```
    pub fn http_client(mut self, client: awc::Client) -> Self {
        self.api.http_client = Some(client);
        self
    }

    /// Whether this session logs through the `log` crate (default `true`): the session
    /// opening and ending and the upgrade at `info`, failures at `warn`, every packet at
    /// `trace`. Errors still reach the application through events and results.
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// let builder = Session::builder("http://127.0.0.1:3000").logging(false);
    /// ```
    pub fn logging(mut self, on: bool) -> Self {
        self.config.logging = on;
        self
    }

    /// Subscribes to [`Connect`]. Every subscriber of an event gets it; call again to
    /// add more.
    ///
    /// ```
    /// use actix::prelude::*;
    /// use actix_engineio::{Connect, Session};
    ///
    /// struct Status;
    /// # impl Actor for Status { type Context = Context<Self>; }
    /// impl Handler<Connect> for Status {
    ///     type Result = ();
    ///     fn handle(&mut self, event: Connect, _: &mut Context<Self>) {
    ///         println!("session {} open over {}", event.sid, event.transport);
    ///     }
    /// }
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let builder = Session::builder("http://127.0.0.1:3000").on_connect(Status.start().recipient());
    /// # }
    /// ```
    pub fn on_connect(mut self, recipient: Recipient<Connect>) -> Self {
        self.api.subscribers.push(Subscribe::Connect(recipient));
        self
    }

    /// Subscribes to [`Message`]: every message from the server, in order.
    ///
    /// ```
    /// use actix::prelude::*;
    /// use actix_engineio::{Message, Payload, Session};
    ///
    /// struct Chat;
    /// # impl Actor for Chat { type Context = Context<Self>; }
    /// impl Handler<Message> for Chat {
    ///     type Result = ();
    ///     fn handle(&mut self, Message(payload): Message, _: &mut Context<Self>) {
    ///         match payload {
    ///             Payload::Text(text) => println!("text: {text}"),
    ///             Payload::Binary(data) => println!("{} bytes", data.len()),
    ///         }
    ///     }
    /// }
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let builder = Session::builder("http://127.0.0.1:3000").on_message(Chat.start().recipient());
    /// # }
    /// ```
    pub fn on_message(mut self, recipient: Recipient<Message>) -> Self {
        self.api.subscribers.push(Subscribe::Message(recipient));
        self
    }

    /// Subscribes to [`Messages`]: every message from the server, in order, in one
    /// event per read of the socket (a websocket read, a polling response) rather
    /// than one [`Message`] each. For many small messages.
    ///
    /// ```
    /// use actix::prelude::*;
    /// use actix_engineio::{Messages, Session};
    ///
    /// struct Telemetry { seen: usize }
    /// # impl Actor for Telemetry { type Context = Context<Self>; }
    /// impl Handler<Messages> for Telemetry {
    ///     type Result = ();
    ///     fn handle(&mut self, Messages(batch): Messages, _: &mut Context<Self>) {
    ///         self.seen += batch.len();
    ///     }
    /// }
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let builder = Session::builder("http://127.0.0.1:3000")
    ///     .on_messages(Telemetry { seen: 0 }.start().recipient());
    /// # }
    /// ```
    pub fn on_messages(mut self, recipient: Recipient<Messages>) -> Self {
        self.api.subscribers.push(Subscribe::Messages(recipient));
        self
    }

    /// Subscribes to [`Disconnect`], the last event of a session: the place to
    /// reconnect, or to stop.
    ///
    /// ```
    /// use actix::prelude::*;
    /// use actix_engineio::{Disconnect, DisconnectReason, Session};
    ///
    /// struct Supervisor;
    /// # impl Actor for Supervisor { type Context = Context<Self>; }
    /// impl Handler<Disconnect> for Supervisor {
    ///     type Result = ();
    ///     fn handle(&mut self, Disconnect(reason): Disconnect, _: &mut Context<Self>) {
    ///         if reason != DisconnectReason::ClientDisconnect {
    ///             eprintln!("session lost: {reason} {}", reason.detail().unwrap_or_default());
    ///         }
    ///     }
    /// }
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let builder = Session::builder("http://127.0.0.1:3000").on_disconnect(Supervisor.start().recipient());
    /// # }
    /// ```
    pub fn on_disconnect(mut self, recipient: Recipient<Disconnect>) -> Self {
        self.api.subscribers.push(Subscribe::Disconnect(recipient));
        self
    }

    /// Subscribes to [`Upgrade`]: whether a polling session moved to websocket.
    ///
    /// ```
    /// use actix::prelude::*;
    /// use actix_engineio::{Session, Upgrade};
    ///
    /// struct Status;
    /// # impl Actor for Status { type Context = Context<Self>; }
    /// impl Handler<Upgrade> for Status {
    ///     type Result = ();
    ///     fn handle(&mut self, event: Upgrade, _: &mut Context<Self>) {
    ///         match event {
    ///             Upgrade::Completed(transport) => println!("now on {transport}"),
    ///             Upgrade::Failed(error) => println!("staying on polling: {error}"),
    ///         }
    ///     }
    /// }
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let builder = Session::builder("http://127.0.0.1:3000").on_upgrade(Status.start().recipient());
    /// # }
    /// ```
    pub fn on_upgrade(mut self, recipient: Recipient<Upgrade>) -> Self {
        self.api.subscribers.push(Subscribe::Upgrade(recipient));
        self
    }

    /// Subscribes to [`Reconnecting`]: a lost session will be opened again after a delay
    /// (with a [`reconnect`](Builder::reconnect) policy).
    ///
    /// ```
    /// use actix::prelude::*;
    /// use actix_engineio::{Reconnecting, Session};
    ///
    /// struct Status;
    /// # impl Actor for Status { type Context = Context<Self>; }
    /// impl Handler<Reconnecting> for Status {
    ///     type Result = ();
    ///     fn handle(&mut self, next: Reconnecting, _: &mut Context<Self>) {
    ///         println!("attempt {} in {:?}", next.attempt, next.delay);
    ///     }
    /// }
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let builder = Session::builder("http://127.0.0.1:3000").on_reconnecting(Status.start().recipient());
    /// # }
    /// ```
    pub fn on_reconnecting(mut self, recipient: Recipient<Reconnecting>) -> Self {
        self.api
            .subscribers
            .push(Subscribe::Reconnecting(recipient));
        self
    }

    /// Subscribes to [`Undelivered`]: messages taken for sending and never written,
    /// because the session ended first.
    ///
    /// ```
    /// use actix::prelude::*;
    /// use actix_engineio::{Session, Undelivered};
    ///
    /// struct Outbox;
    /// # impl Actor for Outbox { type Context = Context<Self>; }
    /// impl Handler<Undelivered> for Outbox {
    ///     type Result = ();
    ///     fn handle(&mut self, Undelivered(lost): Undelivered, _: &mut Context<Self>) {
    ///         eprintln!("{} messages to send again", lost.len());
    ///     }
    /// }
    ///
    /// # #[actix_rt::main] async fn main() {
    /// let builder = Session::builder("http://127.0.0.1:3000").on_undelivered(Outbox.start().recipient());
    /// # }
    /// ```
    pub fn on_undelivered(mut self, recipient: Recipient<Undelivered>) -> Self {
        self.api.subscribers.push(Subscribe::Undelivered(recipient));
        self
    }

    /// Starts the session on the current arbiter and waits for the handshake.
    ///
    /// By the time this returns, [`Connect`] has been sent to every subscriber (their
    /// handlers may run later). A configuration error, a refused connection, a
    /// timeout, a non-2xx answer or a malformed open packet is returned as an error,
    /// and the session actor stops.
    ///
    /// The session lives until it ends (closed by [`Close`](crate::Close), by the
    /// server, or by a failure); dropping the returned address does not end it.
    /// Dropping this future before it resolves does: the session closes as soon as it
    /// is open.
    ///
    /// Outside an actix `System` (no arbiter to run the actor on) it fails with
    /// [`ConnectError::NoActixSystem`]; [`AsyncClient`](crate::AsyncClient) runs
    /// anywhere.
    ///
    /// ```no_run
    /// use actix_engineio::Session;
    ///
    /// #[actix_rt::main]
    /// async fn main() {
    ///     match Session::builder("http://127.0.0.1:3000").connect().await {
    ///         Ok(session) => { /* send, subscribe, close */ }
    ///         Err(err) if err.status() == Some(403) => eprintln!("not allowed: {err}"),
    ///         Err(err) => eprintln!("cannot connect: {err}"),
    ///     }
    /// }
    /// ```
    pub async fn connect(self) -> Result<Addr<Session>, ConnectError> {
        let (config, api) = self.into_parts();
        start_session(&api.url, config, api.subscribers, api.http_client, None)?
            .opened()
            .await
    }
}

/// A session started, and its handshake to come.
pub(crate) struct Started {
    pub session: Addr<Session>,
    pub sender: SessionSender,
    pub handshake: oneshot::Receiver<Result<(), ConnectError>>,
}

impl Started {
    /// Waits for the handshake: the session once open, or why it could not open.
    pub async fn opened(self) -> Result<Addr<Session>, ConnectError> {
        match self.handshake.await {
            Ok(Ok(())) => Ok(self.session),
            Ok(Err(error)) => Err(error),
            Err(oneshot::Canceled) => Err(ConnectError::Aborted),
        }
    }
}

/// Starts a session on the current arbiter; its handshake goes on in the background.
pub(crate) fn start_session(
    url: &str,
    config: ClientConfig,
    subscribers: Subscribers,
    http_client: Option<awc::Client>,
    stream: Option<EventSender>,
) -> Result<Started, ConnectError> {
    if let Some(error) = config.error.clone() {
        return Err(error.into());
    }
    if actix_rt::Arbiter::try_current().is_none() {
        return Err(ConnectError::NoActixSystem);
    }
    // Sessions opened in a row with the same settings share them.
    let http = Http::new(url, crate::config::shared(config), http_client.clone())?;
    let supervised = http.config().reconnect.is_some();
    let (reply, handshake) = oneshot::channel();
    let session = Session::new(
        url.to_owned(),
        http,
        http_client,
        subscribers,
        stream,
        reply,
    );
    let outlet = session.outlet();
    // With a reconnection policy, a lost session restarts under the supervisor.
    let session = if supervised {
        Supervisor::start(move |_| session)
    } else {
        session.start()
    };
    let sender = SessionSender::new(outlet, session.clone());
    Ok(Started {
        session,
        sender,
        handshake,
    })
}
