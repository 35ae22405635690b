//! The session actor: the one actor user code talks to.
//!
//! It owns the session's [`Connection`] state machine, its transports and heartbeat,
//! and its subscribers, and carries out what the state machine decides.

use std::collections::VecDeque;
use std::rc::Rc;

use actix::{
    Actor, ActorContext, ActorFutureExt, Addr, AsyncContext, Context, Handler, Recipient,
    WrapFuture,
};
use futures::channel::oneshot;

use crate::config::{ClientConfig, SessionBuilder};
use crate::error::ConnectError;
use crate::event::{Connect, Disconnect, Message, Upgrade};
use crate::heartbeat::{Arm, Disarm, Heartbeat, PingTimeout};
use crate::protocol::{
    Connection, Event, Handshake, Output, Packet, Payload, SendError, Timer, TransportEnd,
    TransportError, TransportKind,
};
use crate::request::{Close, Send, Subscribe};
use crate::transport::http::Http;
use crate::transport::polling::{self, PollingTransport};
use crate::transport::websocket::{self, WebSocketTransport, WsFramed};
use crate::transport::{
    CloseTransport, PausePolling, ResumePolling, Transmit, TransportEvent, TransportEventKind,
};

/// Logs through the `log` crate unless the session was built with `logging(false)`.
macro_rules! session_log {
    ($session:expr, $level:ident, $($arg:tt)+) => {
        if $session.http.logging {
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
    config: ClientConfig,
    subscribers: Subscribers,
    /// Who waits for the handshake, until it is done.
    connecting: Option<oneshot::Sender<Result<(), ConnectError>>>,
    open: Option<Open>,
    /// Messages waiting for the transports to write what they have (backpressure),
    /// with whoever waits for each answer. Dropped senders answer `Closed`.
    waiting: VecDeque<(Payload, oneshot::Sender<Result<(), SendError>>)>,
}

/// The parts of a session that exist once it is open.
struct Open {
    conn: Connection,
    heartbeat: Addr<Heartbeat>,
    polling: Option<Addr<PollingTransport>>,
    websocket: Option<Addr<WebSocketTransport>>,
    outbox: Outbox,
}

/// Packets on their way to a transport, gathered until the mailbox is drained.
#[derive(Default)]
struct Outbox {
    polling: Vec<Packet>,
    websocket: Vec<Packet>,
    /// Whether a flush is scheduled.
    scheduled: bool,
}

impl Open {
    /// Hands the gathered packets to their transports, in order. Called before any
    /// other command to a transport, so commands never overtake packets.
    fn flush_outbox(&mut self) {
        let outbox = &mut self.outbox;
        outbox.scheduled = false;
        if !outbox.polling.is_empty() {
            let packets = std::mem::take(&mut outbox.polling);
            if let Some(polling) = &self.polling {
                polling.do_send(Transmit(packets));
            }
        }
        if !outbox.websocket.is_empty() {
            let packets = std::mem::take(&mut outbox.websocket);
            if let Some(websocket) = &self.websocket {
                websocket.do_send(Transmit(packets));
            }
        }
    }
}

/// The recipients of each event.
#[derive(Clone, Default)]
pub(crate) struct Subscribers {
    pub connect: Vec<Recipient<Connect>>,
    pub message: Vec<Recipient<Message>>,
    pub disconnect: Vec<Recipient<Disconnect>>,
    pub upgrade: Vec<Recipient<Upgrade>>,
}

/// How the handshake went: the transport it came over, ready to be started.
enum Opened {
    Polling(Handshake, Vec<Packet>),
    WebSocket(Handshake, WsFramed),
}

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

    pub(crate) fn new(
        http: Http,
        config: ClientConfig,
        subscribers: Subscribers,
        connecting: oneshot::Sender<Result<(), ConnectError>>,
    ) -> Self {
        Session {
            http: Rc::new(http),
            config,
            subscribers,
            connecting: Some(connecting),
            open: None,
            waiting: VecDeque::new(),
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
        let (conn, polling, websocket, trailing) = match opened {
            Opened::Polling(handshake, trailing) => {
                let transport = PollingTransport::new(self.http.clone(), &handshake, me).start();
                let conn =
                    Connection::new(handshake, TransportKind::Polling, self.upgrade_wanted());
                (conn, Some(transport), None, trailing)
            }
            Opened::WebSocket(handshake, framed) => {
                let transport = WebSocketTransport::start(framed, &self.http, me);
                let conn = Connection::new(handshake, TransportKind::WebSocket, false);
                (conn, None, Some(transport), Vec::new())
            }
        };
        session_log!(
            self,
            info,
            "engine.io session {} open over {}",
            conn.handshake().sid,
            conn.transport()
        );
        let mut open = Open {
            conn,
            heartbeat,
            polling,
            websocket,
            outbox: Outbox::default(),
        };
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

    fn upgrade_wanted(&self) -> bool {
        self.config.upgrade && self.config.transports.contains(&TransportKind::WebSocket)
    }

    /// Carries out everything the state machine has queued, in order, after
    /// sending what waited for room if there is room now.
    fn drive(&mut self, ctx: &mut Context<Self>) {
        self.release_waiting();
        loop {
            let Some(output) = self.open.as_mut().and_then(|open| open.conn.poll_output()) else {
                break;
            };
            self.carry_out(output, ctx);
        }
        if let Some(open) = self.open.as_mut().filter(|open| open.conn.is_finished()) {
            open.flush_outbox();
            open.heartbeat.do_send(Disarm);
            ctx.stop();
        }
    }

    fn carry_out(&mut self, output: Output, ctx: &mut Context<Self>) {
        let Some(open) = self.open.as_mut() else {
            return;
        };
        if self.http.logging && log::log_enabled!(log::Level::Trace) {
            log::trace!("{}: {}", open.conn.handshake().sid, describe(&output));
        }
        match output {
            Output::Event(event) => self.publish(event),
            Output::Transmit(transport, packet) => {
                let outbox = &mut open.outbox;
                match transport {
                    TransportKind::Polling => outbox.polling.push(packet),
                    TransportKind::WebSocket => outbox.websocket.push(packet),
                }
                if !outbox.scheduled {
                    outbox.scheduled = true;
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
            Output::ResumePolling => {
                open.flush_outbox();
                if let Some(polling) = &open.polling {
                    polling.do_send(ResumePolling);
                }
            }
            Output::PausePolling => {
                open.flush_outbox();
                if let Some(polling) = &open.polling {
                    polling.do_send(PausePolling);
                }
            }
            Output::CloseTransport(TransportKind::Polling) => {
                open.flush_outbox();
                if let Some(polling) = open.polling.take() {
                    polling.do_send(CloseTransport);
                }
            }
            Output::CloseTransport(TransportKind::WebSocket) => {
                open.flush_outbox();
                if let Some(websocket) = open.websocket.take() {
                    websocket.do_send(CloseTransport);
                }
            }
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
            Ok(framed) if open.conn.is_probing() => {
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

    fn publish(&mut self, event: Event) {
        let subs = &self.subscribers;
        match event {
            Event::Connected { sid, transport } => {
                broadcast(&subs.connect, Connect { sid, transport });
            }
            Event::Message(payload) => broadcast(&subs.message, Message(payload)),
            Event::Upgraded => {
                session_log!(self, info, "engine.io session upgraded to websocket");
                broadcast(&subs.upgrade, Upgrade::Completed(TransportKind::WebSocket));
            }
            Event::UpgradeFailed(error) => {
                session_log!(
                    self,
                    warn,
                    "engine.io upgrade failed, staying on polling: {error}"
                );
                broadcast(&subs.upgrade, Upgrade::Failed(error));
            }
            Event::Disconnected(reason) => {
                match reason.detail() {
                    Some(detail) => {
                        session_log!(self, info, "engine.io session ended: {reason}: {detail}")
                    }
                    None => session_log!(self, info, "engine.io session ended: {reason}"),
                }
                broadcast(&subs.disconnect, Disconnect(reason));
            }
        }
    }
}

/// Whether a message may go out now: below the send buffer, or nothing unwritten at
/// all (so that a message larger than the buffer, or a zero buffer, still moves).
fn has_room(conn: &Connection, send_buffer: usize) -> bool {
    let unwritten = conn.unwritten();
    unwritten == 0 || unwritten < send_buffer
}

/// What an output does, for the trace log.
fn describe(output: &Output) -> String {
    match output {
        Output::Transmit(transport, packet) => format!("send {packet} on {transport}"),
        Output::Event(Event::Message(payload)) => format!("deliver message ({} B)", payload.len()),
        other => format!("{other:?}"),
    }
}

/// What a transport reported, for the trace log.
fn describe_event(kind: &TransportEventKind) -> String {
    match kind {
        TransportEventKind::Packets(packets) => {
            let list: Vec<String> = packets.iter().map(ToString::to_string).collect();
            format!("received {}", list.join(", "))
        }
        TransportEventKind::Paused(unsent) => format!("paused, {} packets unsent", unsent.len()),
        TransportEventKind::Written(bytes) => format!("wrote {bytes} B"),
        TransportEventKind::Ended(end) => format!("ended: {end:?}"),
    }
}

/// Gives `event` to every recipient, in subscription order; the last gets the original.
fn broadcast<M>(recipients: &[Recipient<M>], event: M)
where
    M: actix::Message<Result = ()> + Clone + std::marker::Send + 'static,
{
    if let Some((last, rest)) = recipients.split_last() {
        for recipient in rest {
            recipient.do_send(event.clone());
        }
        last.do_send(event);
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
        if self.http.logging && log::log_enabled!(log::Level::Trace) {
            log::trace!(
                "{}: from {from}: {}",
                open.conn.handshake().sid,
                describe_event(&event.kind)
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
                match from {
                    TransportKind::Polling => open.polling = None,
                    TransportKind::WebSocket => open.websocket = None,
                }
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
        self.waiting.push_back((payload, answer));
        actix::Response::fut(async move { answered.await.unwrap_or(Err(SendError::Closed)) })
    }
}

impl Session {
    /// Sends waiting messages, in order, while the transports have room.
    fn release_waiting(&mut self) {
        self.release_waiting_up_to(self.config.send_buffer);
    }

    fn release_waiting_up_to(&mut self, limit: usize) {
        // Runs on every `drive`: nothing to compute when nobody waits.
        if self.waiting.is_empty() {
            return;
        }
        let Some(open) = self.open.as_mut() else {
            return;
        };
        while has_room(&open.conn, limit) {
            let Some((payload, answer)) = self.waiting.pop_front() else {
                break;
            };
            let _ = answer.send(open.conn.send(payload));
        }
    }
}

impl Handler<Close> for Session {
    type Result = ();

    fn handle(&mut self, _: Close, ctx: &mut Context<Self>) {
        // What was sent before `Close` goes out before the close packet.
        self.release_waiting_up_to(usize::MAX);
        if let Some(open) = self.open.as_mut() {
            open.conn.close();
            self.drive(ctx);
        }
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
