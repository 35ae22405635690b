//! The session actor: the one actor user code talks to.
//!
//! It owns the session's [`Connection`] state machine, its transports and heartbeat,
//! and its subscribers, and carries out what the state machine decides.

mod open;
mod stream;
mod trace;
mod waiting;

use std::rc::Rc;
use std::sync::Arc;

use actix::{Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, WrapFuture};
use futures::channel::oneshot;

use self::open::Open;
use self::stream::{Delivered, Drained, Stream};
use self::waiting::{has_room, Waiting};
use crate::config::ClientConfig;
use crate::error::{ConnectError, TrySendError};
use crate::event::{
    broadcast, Connect, Disconnect, Event as ClientEvent, EventSender, Message, Subscribers,
    Upgrade,
};
use crate::heartbeat::{Arm, Disarm, Heartbeat, PingTimeout};
use crate::protocol::{
    Connection, Event, Handshake, Output, Packet, SendError, Timer, TransportEnd, TransportError,
    TransportKind,
};
use crate::request::{Abort, Close, Send, Subscribe, TrySend};
use crate::transport::http::Http;
use crate::transport::polling::{self, PollingTransport};
use crate::transport::websocket::{self, WebSocketTransport, WsFramed};
use crate::transport::{TransportEvent, TransportEventKind};

/// Logs through the `log` crate unless the session was built with `logging(false)`.
macro_rules! session_log {
    ($session:expr, $level:ident, $($arg:tt)+) => {
        if $session.config.logging {
            log::$level!($($arg)+)
        }
    };
}

/// An Engine.IO client session, as an actix actor.
///
/// Start one with [`Session::builder`]; talk to it with [`Send`], [`Close`] and
/// [`Subscribe`]; hear from it through [`Connect`], [`Message`], [`Upgrade`] and
/// [`Disconnect`]. It runs until the session ends, whether or not anyone holds its
/// address, and stops after publishing [`Disconnect`]; from then on its address
/// answers every request with actix's `MailboxError`.
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
    http: Rc<Http>,
    config: Arc<ClientConfig>,
    subscribers: Subscribers,
    /// Who waits for the handshake, until it is done.
    connecting: Option<oneshot::Sender<Result<(), ConnectError>>>,
    open: Option<Open>,
    /// Messages waiting for the transports to write what they have (backpressure).
    waiting: Waiting,
    /// The client this session belongs to, if any.
    stream: Option<Stream>,
    /// Whoever waits for the session to end ([`Close`], [`Abort`]): told by being
    /// dropped when the actor stops.
    closers: Vec<oneshot::Sender<()>>,
}

/// How the handshake went: the transport it came over, ready to be started.
enum Opened {
    Polling(Handshake, Vec<Packet>),
    WebSocket(Handshake, WsFramed),
}

impl Session {
    pub(crate) fn new(
        http: Http,
        config: Arc<ClientConfig>,
        subscribers: Subscribers,
        stream: Option<EventSender>,
        connecting: oneshot::Sender<Result<(), ConnectError>>,
    ) -> Self {
        Session {
            http: Rc::new(http),
            config,
            subscribers,
            connecting: Some(connecting),
            open: None,
            waiting: Waiting::default(),
            stream: stream.map(Stream::new),
            closers: Vec::new(),
        }
    }

    /// The handshake is done, or failed.
    fn opened(&mut self, result: Result<Opened, TransportError>, ctx: &mut Context<Self>) {
        let opened = match result {
            Ok(opened) => opened,
            Err(error) => {
                session_log!(self, warn, "engine.io handshake failed: {error}");
                self.reply(Err(ConnectError::Transport(error)), ctx);
                return ctx.stop();
            }
        };
        let me = ctx.address().recipient();
        let heartbeat = Heartbeat::new(ctx.address().recipient()).start();
        let (mut open, trailing) = match opened {
            Opened::Polling(handshake, trailing) => {
                let transport = PollingTransport::new(self.http.clone(), &handshake, me).start();
                let upgrade = self.config.upgrade_wanted();
                let conn = Connection::new(handshake, TransportKind::Polling, upgrade);
                (Open::new(conn, heartbeat, Some(transport), None), trailing)
            }
            Opened::WebSocket(handshake, framed) => {
                let transport = WebSocketTransport::start(framed, &self.http, me);
                let conn = Connection::new(handshake, TransportKind::WebSocket, false);
                (
                    Open::new(conn, heartbeat, None, Some(transport)),
                    Vec::new(),
                )
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
        self.open = Some(open);
        self.reply(Ok(()), ctx);
        self.drive(ctx);
    }

    /// Tells whoever waits for the handshake; closes the session if nobody does anymore.
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
        self.release_waiting(self.config.send_buffer);
        while let Some(output) = self.open.as_mut().and_then(|open| open.conn.poll_output()) {
            self.carry_out(output, ctx);
        }
        self.stop_when_finished(ctx);
    }

    /// Stops once the state machine is done. Events still waiting for room in the
    /// client's channel are handed to a task that outlives the actor: whoever waits for
    /// the end (a handler calling `disconnect`, say) must not wait for them.
    fn stop_when_finished(&mut self, ctx: &mut Context<Self>) {
        if let Some(open) = self.open.as_mut().filter(|open| open.conn.is_finished()) {
            open.flush_outbox();
            open.heartbeat.do_send(Disarm);
            if let Some(stream) = self.stream.take() {
                stream.finish();
            }
            ctx.stop();
        }
    }

    /// Sends waiting messages, in order, while fewer than `limit` bytes are unwritten.
    fn release_waiting(&mut self, limit: usize) {
        // Runs on every `drive`: nothing to compute when nobody waits.
        if self.waiting.is_empty() {
            return;
        }
        if let Some(open) = self.open.as_mut() {
            self.waiting.release(&mut open.conn, limit);
        }
    }

    fn carry_out(&mut self, output: Output, ctx: &mut Context<Self>) {
        let Some(open) = self.open.as_mut() else {
            return;
        };
        if self.config.logging && log::log_enabled!(log::Level::Trace) {
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
                ctx.run_later(after, move |act, ctx| act.timer_fired(timer, ctx));
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
        ctx.spawn(probe.into_actor(self).map(|result, act, ctx| {
            act.probe_opened(result, ctx);
        }));
    }

    fn probe_opened(&mut self, result: Result<WsFramed, TransportError>, ctx: &mut Context<Self>) {
        let me = ctx.address().recipient();
        let Some(open) = self.open.as_mut() else {
            return;
        };
        match result {
            Ok(framed) if open.conn.keeps_probe_socket() => {
                open.websocket = Some(WebSocketTransport::start(framed, &self.http, me));
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

    fn publish(&mut self, event: Event, ctx: &mut Context<Self>) {
        let event = match event {
            Event::Connected { sid, transport } => ClientEvent::Connect(Connect { sid, transport }),
            Event::Message(payload) => ClientEvent::Message(payload),
            Event::Upgraded => {
                session_log!(self, info, "engine.io session upgraded to websocket");
                ClientEvent::Upgrade(Upgrade::Completed(TransportKind::WebSocket))
            }
            Event::UpgradeFailed(error) => {
                session_log!(
                    self,
                    warn,
                    "engine.io upgrade failed, staying on polling: {error}"
                );
                ClientEvent::Upgrade(Upgrade::Failed(error))
            }
            Event::Disconnected(reason) => {
                match reason.detail() {
                    Some(detail) => {
                        session_log!(self, info, "engine.io session ended: {reason}: {detail}")
                    }
                    None => session_log!(self, info, "engine.io session ended: {reason}"),
                }
                ClientEvent::Disconnect(reason)
            }
        };
        self.broadcast(&event);
        let Some(stream) = self.stream.as_mut() else {
            return;
        };
        if stream.deliver(event) == Delivered::Full {
            self.pause_reading(ctx);
        }
    }

    /// Gives the event to the actor subscribers.
    fn broadcast(&self, event: &ClientEvent) {
        let subs = &self.subscribers;
        match event {
            ClientEvent::Connect(connect) => broadcast(&subs.connect, connect.clone()),
            ClientEvent::Message(payload) => broadcast(&subs.message, Message(payload.clone())),
            ClientEvent::Upgrade(upgrade) => broadcast(&subs.upgrade, upgrade.clone()),
            ClientEvent::Disconnect(reason) => {
                broadcast(&subs.disconnect, Disconnect(reason.clone()))
            }
        }
    }

    /// The client's channel is full: the transports stop reading until it has room.
    fn pause_reading(&mut self, ctx: &mut Context<Self>) {
        if let Some(open) = self.open.as_mut() {
            open.pause_reading();
        }
        ctx.spawn(Drained.map(|(), act: &mut Self, ctx| {
            if let Some(open) = act.open.as_mut() {
                open.resume_reading();
            }
            act.stop_when_finished(ctx);
        }));
    }
}

impl Actor for Session {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Requests are queued in the order they are made, however many are pending;
        // backpressure comes from `Send` answering late, not from the mailbox.
        ctx.set_mailbox_capacity(0);
        let http = self.http.clone();
        let first = self.config.transports.first().copied();
        let handshake = async move {
            match first {
                Some(TransportKind::WebSocket) => websocket::handshake(http)
                    .await
                    .map(|(hs, framed)| Opened::WebSocket(hs, framed)),
                _ => polling::handshake(http)
                    .await
                    .map(|(hs, trailing)| Opened::Polling(hs, trailing)),
            }
        };
        // Requests wait in the mailbox until the handshake is done.
        ctx.wait(
            handshake
                .into_actor(self)
                .map(|result, act, ctx| act.opened(result, ctx)),
        );
    }
}

impl Handler<TransportEvent> for Session {
    type Result = ();

    fn handle(&mut self, event: TransportEvent, ctx: &mut Context<Self>) {
        let Some(open) = self.open.as_mut() else {
            return;
        };
        let from = event.transport;
        if self.config.logging && log::log_enabled!(log::Level::Trace) {
            log::trace!(
                "{}: from {from}: {}",
                open.conn.handshake().sid,
                trace::describe_event(&event.kind)
            );
        }
        match event.kind {
            TransportEventKind::Packets(packets) => {
                for packet in packets {
                    open.conn.handle_packet(from, packet);
                }
            }
            TransportEventKind::Paused(unsent) => open.conn.handle_polling_paused(unsent),
            TransportEventKind::Written(bytes) => open.conn.handle_written(from, bytes),
            TransportEventKind::Ended(end) => {
                open.forget_transport(from);
                open.conn.handle_transport_end(from, end);
            }
        }
        self.drive(ctx);
    }
}

impl Handler<PingTimeout> for Session {
    type Result = ();

    fn handle(&mut self, _: PingTimeout, ctx: &mut Context<Self>) {
        if let Some(open) = self.open.as_mut() {
            open.conn.handle_ping_timeout();
            self.drive(ctx);
        }
    }
}

impl Handler<Send> for Session {
    type Result = actix::Response<Result<(), SendError>>;

    fn handle(&mut self, Send(payload): Send, ctx: &mut Context<Self>) -> Self::Result {
        let Some(open) = self.open.as_mut() else {
            return actix::Response::reply(Err(SendError::NotConnected));
        };
        if self.waiting.is_empty() && has_room(&open.conn, self.config.send_buffer) {
            let result = open.conn.send(payload);
            self.drive(ctx);
            return actix::Response::reply(result);
        }
        // Too much is on its way already: answer once the transports caught up.
        let (answer, answered) = oneshot::channel();
        self.waiting.push(payload, answer);
        actix::Response::fut(async move { answered.await.unwrap_or(Err(SendError::Closed)) })
    }
}

impl Handler<TrySend> for Session {
    type Result = Result<(), TrySendError>;

    fn handle(&mut self, TrySend(payload): TrySend, ctx: &mut Context<Self>) -> Self::Result {
        let refuse = |error, payload| Err(TrySendError { error, payload });
        let Some(open) = self.open.as_mut() else {
            return refuse(SendError::NotConnected, payload);
        };
        if !self.waiting.is_empty() || !has_room(&open.conn, self.config.send_buffer) {
            return refuse(SendError::Full, payload);
        }
        // A payload clone shares its buffer: kept only to give it back on a refusal.
        let result = open.conn.send(payload.clone());
        self.drive(ctx);
        result.or_else(|error| refuse(error, payload))
    }
}

impl Session {
    /// An answer that comes when the session has stopped.
    fn when_stopped(&mut self) -> actix::Response<()> {
        let (closer, stopped) = oneshot::channel();
        self.closers.push(closer);
        actix::Response::fut(async move {
            let _ = stopped.await;
        })
    }
}

impl Handler<Close> for Session {
    type Result = actix::Response<()>;

    fn handle(&mut self, _: Close, ctx: &mut Context<Self>) -> Self::Result {
        // What was sent before `Close` goes out before the close packet.
        self.release_waiting(usize::MAX);
        if let Some(open) = self.open.as_mut() {
            open.conn.close();
            self.drive(ctx);
        }
        self.when_stopped()
    }
}

impl Handler<Abort> for Session {
    type Result = actix::Response<()>;

    fn handle(&mut self, _: Abort, ctx: &mut Context<Self>) -> Self::Result {
        if let Some(open) = self.open.as_mut() {
            open.conn.abort();
            self.drive(ctx);
        }
        self.when_stopped()
    }
}

impl Handler<Subscribe> for Session {
    type Result = ();

    fn handle(&mut self, subscribe: Subscribe, _: &mut Context<Self>) {
        let subs = &mut self.subscribers;
        match subscribe {
            Subscribe::Connect(r) => subs.connect.push(r),
            Subscribe::Message(r) => subs.message.push(r),
            Subscribe::Disconnect(r) => subs.disconnect.push(r),
            Subscribe::Upgrade(r) => subs.upgrade.push(r),
        }
    }
}
