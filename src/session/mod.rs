//! The session actor: the one actor user code talks to.
//!
//! It owns the session's [`Connection`] state machine, its transports and heartbeat,
//! its subscribers and its send queue, and carries out what the state machine decides.
//! With a reconnection policy it runs under actix's `Supervisor`: a lost session stops
//! the actor, which the supervisor restarts with the same address, mailbox,
//! subscribers and queue; everything of the lost connection (its transports, heartbeat,
//! timers and futures) is gone with the old context.

mod backlog;
mod handlers;
mod open;
mod opening;
mod outlet;
mod publish;
mod queue;
mod reconnect;
mod sender;
mod stream;
mod subscribers;
mod trace;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, SpawnHandle, Supervised, WrapFuture,
};
use futures::channel::oneshot;

use self::backlog::{Backlog, Burst};
use self::open::{Open, ReadHold};
pub(crate) use self::outlet::Outlet;
use self::queue::SendQueue;
pub use self::sender::{SendFuture, SessionSender};
use self::stream::{Drained, Stream};
pub(crate) use self::subscribers::Subscribers;
use crate::error::ConnectError;
use crate::event::EventSender;
use crate::heartbeat::{Arm, Disarm, Heartbeat};
use crate::protocol::{
    Connection, DisconnectReason, Handshake, Output, Packet, Payload, SendError, Timer,
    TransportEnd, TransportError, TransportKind,
};
use crate::transport::http::Http;
use crate::transport::polling::PollingTransport;
use crate::transport::websocket::{self, WebSocketTransport, WsFramed};
use crate::transport::{GivenBack, SessionLink};

/// Logs through the `log` crate unless the session was built with `logging(false)`.
macro_rules! session_log {
    ($session:expr, $level:ident, $($arg:tt)+) => {
        if $session.http.config().logging {
            log::$level!($($arg)+)
        }
    };
}
use session_log;

/// An Engine.IO client session, as an actix actor.
///
/// Start one with [`Session::builder`]; talk to it with [`Send`](crate::Send),
/// [`Close`](crate::Close) and [`Subscribe`](crate::Subscribe); hear from it through
/// [`Connect`](crate::Connect), [`Message`](crate::Message) (or, a read at a time,
/// [`Messages`](crate::Messages)), [`Upgrade`](crate::Upgrade), [`Disconnect`](crate::Disconnect) and, when it
/// reconnects, [`Reconnecting`](crate::Reconnecting). It runs until the session ends,
/// whether or not anyone holds its address, and stops after publishing its last
/// [`Disconnect`](crate::Disconnect); from then on its address answers every request
/// with actix's `MailboxError`. A session with a reconnection policy runs under
/// actix's `Supervisor` and opens a new session when it loses one; once it ends for
/// good its actor stays as long as an address does, and refuses every message.
///
/// ```no_run
/// use actix_engineio::{Close, Send, Session};
///
/// #[actix_rt::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let session = Session::builder("http://127.0.0.1:3000").connect().await?;
///     session.send(Send::text("hello")).await??;
///     session.send(Close).await?;
///     Ok(())
/// }
/// ```
pub struct Session {
    // What idles in every session is kept small: the actor's task (this struct, its
    // context and mailbox) is allocated in steps of 128 bytes. Rarely used parts are boxed.
    url: Box<str>,
    http: Rc<Http>,
    /// The user's own HTTP client, kept to rebuild `http` when a reconnection hook
    /// changes the request.
    http_client: Option<Box<awc::Client>>,
    subscribers: Subscribers,
    /// The client this session belongs to, if any.
    stream: Option<Box<Stream>>,
    /// Who waits for the first session to open, until it does or cannot.
    connecting: Option<oneshot::Sender<Result<(), ConnectError>>>,
    phase: Phase,
    open: Option<Open>,
    queue: Rc<RefCell<SendQueue>>,
    /// Where the session's [`SessionSender`]s leave their messages.
    outlet: Arc<Outlet>,
    /// Whoever waits for the session to end for good ([`Close`](crate::Close),
    /// [`Abort`](crate::Abort)): told by being dropped.
    closers: Vec<oneshot::Sender<()>>,
    /// Counts connections: the transports and heartbeat of an earlier one are ignored.
    epoch: u64,
    /// 0 for the first session, else the reconnection attempt under way.
    attempt: u32,
    /// Messages of the lost connection that were never written.
    undelivered: Vec<Payload>,
    /// Messages received in this burst, on their way to the actor subscribers
    /// (`publish.rs`).
    burst: Burst,
    /// What the actor subscribers were given and have not handled yet.
    backlog: Backlog,
    /// Whether the actor runs under a `Supervisor` (it has a reconnection policy).
    supervised: bool,
}

/// Where the session stands.
#[derive(Debug)]
enum Phase {
    /// A handshake is in flight.
    Connecting(SpawnHandle),
    Open,
    /// Waiting before the next attempt; the timer that starts it.
    Waiting(Option<SpawnHandle>),
    /// Over for good.
    Ended,
}

/// How the handshake went: the transport it came over, ready to be started.
enum Opened {
    Polling(Handshake, Vec<Packet>),
    WebSocket(Handshake, WsFramed),
}

impl Session {
    pub(crate) fn new(
        url: String,
        http: Http,
        http_client: Option<awc::Client>,
        subscribers: Subscribers,
        stream: Option<EventSender>,
        connecting: oneshot::Sender<Result<(), ConnectError>>,
    ) -> Self {
        let config = http.config();
        let outlet = Arc::new(Outlet::new(config.send_queue));
        let queue = SendQueue::new(config.send_queue, config.logging, outlet.clone());
        let backlog = Backlog::new(config.event_buffer, config.event_buffer_bytes);
        let supervised = config.reconnect.is_some();
        Session {
            url: url.into_boxed_str(),
            http: Rc::new(http),
            http_client: http_client.map(Box::new),
            supervised,
            subscribers,
            stream: stream.map(|sender| Box::new(Stream::new(sender))),
            connecting: Some(connecting),
            phase: Phase::Waiting(None),
            open: None,
            queue: Rc::new(RefCell::new(queue)),
            outlet,
            closers: Vec::new(),
            epoch: 0,
            attempt: 0,
            undelivered: Vec::new(),
            burst: Burst::default(),
            backlog,
        }
    }

    /// Starts the handshake of a new session: over the first transport, or over each
    /// in turn until one opens (see `opening::open`).
    fn handshake(&mut self, ctx: &mut Context<Self>) {
        let handshake = opening::open(self.http.clone(), self.http.config());
        let handle = ctx.spawn(
            handshake
                .into_actor(self)
                .map(|result, act, ctx| act.opened(result, ctx)),
        );
        self.phase = Phase::Connecting(handle);
        self.publish_refusal();
    }

    /// The handshake is done, or failed.
    fn opened(&mut self, result: Result<Opened, TransportError>, ctx: &mut Context<Self>) {
        let opened = match result {
            Ok(opened) => opened,
            Err(error) => {
                session_log!(self, warn, "engine.io handshake failed: {error}");
                return self.attempt_failed(error, ctx);
            }
        };
        self.epoch += 1;
        let given_back = [GivenBack::default(), GivenBack::default()];
        let link = |kind, given_back: &GivenBack| {
            SessionLink::new(
                ctx.address().recipient(),
                self.epoch,
                kind,
                given_back.clone(),
            )
        };
        let polling_link = link(TransportKind::Polling, &given_back[0]);
        let websocket_link = link(TransportKind::WebSocket, &given_back[1]);
        let heartbeat = Heartbeat::new(ctx.address().downgrade().recipient(), self.epoch).start();
        let (mut open, trailing) = match opened {
            Opened::Polling(handshake, trailing) => {
                let transport =
                    PollingTransport::new(self.http.clone(), &handshake, polling_link).start();
                let upgrade = self.http.config().upgrade_wanted();
                let conn = Connection::with_version(
                    handshake,
                    TransportKind::Polling,
                    upgrade,
                    self.http.version(),
                );
                let open = Open::new(conn, heartbeat, Some(transport), None, given_back);
                (open, trailing)
            }
            Opened::WebSocket(handshake, framed) => {
                let transport =
                    WebSocketTransport::start(framed, &self.http, &handshake, websocket_link);
                let conn = Connection::with_version(
                    handshake,
                    TransportKind::WebSocket,
                    false,
                    self.http.version(),
                );
                let open = Open::new(conn, heartbeat, None, Some(transport), given_back);
                (open, Vec::new())
            }
        };
        session_log!(
            self,
            info,
            "engine.io session {} open over {}",
            open.conn.handshake().sid,
            open.conn.transport()
        );
        for packet in trailing {
            open.conn.handle_packet(TransportKind::Polling, packet);
        }
        // Subscribers, or the client, still busy with what the last connection brought
        // (a `Drained` spawned by `started` lets go of the client's hold).
        if self.backlog.is_over() {
            open.hold_reading(ReadHold::Subscribers);
        }
        if self.stream.as_deref().is_some_and(Stream::is_backed_up) {
            open.hold_reading(ReadHold::Client);
        }
        self.open = Some(open);
        self.phase = Phase::Open;
        self.publish_refusal();
        self.publish_check();
        self.reply(Ok(()), ctx);
        self.drive(ctx);
    }

    /// Tells whoever waits for the first session; closes it if nobody does anymore.
    fn reply(&mut self, result: Result<(), ConnectError>, ctx: &mut Context<Self>) {
        let Some(connecting) = self.connecting.take() else {
            return;
        };
        let ok = result.is_ok();
        if connecting.send(result).is_err() && ok {
            if let Some(open) = self.open.as_mut() {
                open.conn.close();
                self.drive(ctx);
            }
        }
    }

    /// Carries out everything the state machine has queued, in order, after
    /// sending what waited for room if there is room now.
    fn drive(&mut self, ctx: &mut Context<Self>) {
        self.release_queue(self.http.config().send_buffer, ctx);
        while let Some(output) = self.open.as_mut().and_then(|open| open.conn.poll_output()) {
            self.carry_out(output, ctx);
        }
        self.publish_burst(ctx);
        if self
            .open
            .as_ref()
            .is_some_and(|open| open.conn.is_finished())
        {
            self.connection_over(ctx);
        }
    }

    /// Sends queued messages, in order, while fewer than `limit` bytes are unwritten.
    fn release_queue(&mut self, limit: usize, ctx: &mut Context<Self>) {
        // Runs on every `drive`: nothing to compute when nobody waits.
        if self.queue.borrow().is_empty() {
            return;
        }
        if let Some(open) = self.open.as_mut() {
            let refused = self.queue.borrow_mut().release(&mut open.conn, limit);
            if !refused.is_empty() {
                // Sent through a handle, which answered already: given back.
                self.undelivered.extend(refused);
                self.give_back_undelivered(ctx);
            }
        }
    }

    /// The state machine is done with this connection: its transports are told, its
    /// heartbeat stopped; then the session ends, or reconnects.
    fn connection_over(&mut self, ctx: &mut Context<Self>) {
        let Some(mut open) = self.open.take() else {
            return;
        };
        self.outlet.set_check(None);
        open.flush_outbox();
        open.heartbeat.do_send(Disarm);
        let held = open.conn.take_undelivered();
        let reason = open
            .conn
            .disconnect_reason()
            .cloned()
            .unwrap_or(DisconnectReason::ClientDisconnect);
        match open.take_aborted() {
            None => self.wind_up(&open, reason, held, ctx),
            // The aborted transports answer at once (same arbiter); nothing else is
            // handled meanwhile, so what they never wrote is given back (or held) first.
            Some(aborted) => ctx.wait(
                aborted
                    .into_actor(self)
                    .map(move |(), session, ctx| session.wind_up(&open, reason, held, ctx)),
            ),
        }
    }

    /// Announces the end of a connection, gives back what it never wrote (what its
    /// transports gave back, then the messages the state machine held), and reconnects
    /// or ends.
    fn wind_up(
        &mut self,
        open: &Open,
        reason: DisconnectReason,
        held: Vec<Payload>,
        ctx: &mut Context<Self>,
    ) {
        self.undelivered.extend(open.take_unsent());
        self.undelivered.extend(held);
        if self.reconnects_after(&reason) {
            self.publish_disconnect(reason, ctx);
            self.lost(ctx);
        } else {
            self.end(reason, true, ctx);
        }
    }

    fn carry_out(&mut self, output: Output, ctx: &mut Context<Self>) {
        let Some(open) = self.open.as_mut() else {
            return;
        };
        if self.http.config().logging && log::log_enabled!(log::Level::Trace) {
            log::trace!(
                "{}: {}",
                open.conn.handshake().sid,
                trace::describe(&output)
            );
        }
        match output {
            Output::Event(event) => self.publish(event, ctx),
            Output::Transmit(transport, packet) => {
                if open.gather(transport, packet) {
                    // Runs once the mailbox is drained: one Transmit for the whole burst.
                    ctx.spawn(actix::fut::ready(()).map(|(), act: &mut Self, _| {
                        if let Some(open) = act.open.as_mut() {
                            open.flush_outbox();
                        }
                    }));
                }
            }
            Output::ArmHeartbeat(after) => open.heartbeat.do_send(Arm(after)),
            Output::OpenProbe => self.open_probe(ctx),
            Output::StartTimer(timer, after) => {
                // A restart drops the context's timers already; the epoch says it too.
                let epoch = self.epoch;
                ctx.run_later(after, move |act, ctx| {
                    if act.epoch == epoch {
                        act.timer_fired(timer, ctx);
                    }
                });
            }
            Output::ResumePolling => open.resume_polling(),
            Output::PausePolling => open.pause_polling(),
            Output::CloseTransport(transport) => open.close_transport(transport),
            Output::AbortTransport(transport) => open.abort_transport(transport),
        }
    }

    fn open_probe(&mut self, ctx: &mut Context<Self>) {
        let Some(open) = self.open.as_ref() else {
            return;
        };
        let sid = open.conn.handshake().sid.clone();
        let probe = websocket::open(self.http.clone(), Some(sid));
        let epoch = self.epoch;
        ctx.spawn(probe.into_actor(self).map(move |result, act, ctx| {
            // A probe of a connection lost since is dropped, which closes it.
            if act.epoch == epoch {
                act.probe_opened(result, ctx);
            }
        }));
    }

    fn probe_opened(&mut self, result: Result<WsFramed, TransportError>, ctx: &mut Context<Self>) {
        let recipient = ctx.address().recipient();
        let Some(open) = self.open.as_mut() else {
            return;
        };
        let given_back = open.given_back(TransportKind::WebSocket).clone();
        let link = SessionLink::new(recipient, self.epoch, TransportKind::WebSocket, given_back);
        match result {
            Ok(framed) if open.conn.keeps_probe_socket() => {
                let handshake = open.conn.handshake().clone();
                let transport = WebSocketTransport::start(framed, &self.http, &handshake, link);
                open.websocket = Some(transport);
                open.conn.handle_probe_opened();
            }
            // Too late: the probe timed out or the session ended; dropping closes it.
            Ok(_) => {}
            Err(error) => open
                .conn
                .handle_transport_end(TransportKind::WebSocket, TransportEnd::Error(error)),
        }
        self.drive(ctx);
    }

    fn timer_fired(&mut self, timer: Timer, ctx: &mut Context<Self>) {
        if let Some(open) = self.open.as_mut() {
            open.conn.handle_timer(timer);
            self.drive(ctx);
        }
    }

    /// The session is over for good: for `reason`, announced with a final `Disconnect`
    /// when `announce` says so (not when it was announced already, or when no session
    /// ever opened). What was never sent comes back, whoever waits for the end hears of
    /// it, and the actor stops (or, supervised, stays as a shell that refuses everything).
    fn end(&mut self, reason: DisconnectReason, announce: bool, ctx: &mut Context<Self>) {
        if let Phase::Connecting(handle) | Phase::Waiting(Some(handle)) = self.phase {
            ctx.cancel_future(handle);
        }
        self.phase = Phase::Ended;
        self.publish_refusal();
        // A first connect still under way (retried by the policy) has had no session
        // to disconnect: its caller gets the error, subscribers get nothing, as when
        // its attempts run out.
        let first_connect = self.connecting.is_some();
        self.reply(Err(ConnectError::Aborted), ctx);
        if let Some(stream) = &self.stream {
            stream.mark_ended(&reason);
        }
        if announce && !first_connect {
            self.publish_disconnect(reason.clone(), ctx);
        }
        let unattended = self.queue.borrow_mut().refuse_all(&SendError::Closed);
        self.undelivered.extend(unattended);
        self.undelivered
            .extend(self.outlet.refuse_and_take(SendError::Closed));
        self.give_back_undelivered(ctx);
        if let Some(stream) = self.stream.take() {
            stream.finish(reason);
        }
        self.closers.clear();
        if !self.supervised {
            ctx.stop();
        }
    }
}

impl Actor for Session {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        crate::diagnostics::actor_started();
        // Requests are queued in the order they are made, however many are pending;
        // backpressure comes from `Send` answering late, not from the mailbox.
        ctx.set_mailbox_capacity(0);
        match self.phase {
            // A supervised shell that ended for good stays ended.
            Phase::Ended => {}
            _ if self.attempt == 0 => self.handshake(ctx),
            _ => self.schedule_attempt(ctx),
        }
        // Events that were waiting for room in the client's channel when the last
        // connection was lost still go in, in order.
        if self.stream.as_deref().is_some_and(Stream::is_backed_up) {
            ctx.spawn(Drained.map(|(), act: &mut Self, _| {
                if let Some(open) = act.open.as_mut() {
                    open.release_reading(ReadHold::Client);
                }
            }));
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        crate::diagnostics::actor_stopped();
    }
}

impl Supervised for Session {
    fn restarting(&mut self, _: &mut Context<Self>) {
        // The lost connection's actors were told to stop; the new context has none of
        // its timers or futures.
        self.open = None;
    }
}
