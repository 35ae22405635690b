//! The websocket transport: one actor owning one socket, one packet per frame.

mod burst;
mod deflate;
mod frames;
mod open;
mod outgoing;
mod sink;

use std::rc::Rc;
use std::time::Duration;

use actix::io::{SinkWrite, WriteHandler};
use actix::{
    Actor, ActorContext, ActorFutureExt, ActorState, AsyncContext, Context, Handler, StreamHandler,
};
use actix_codec::Framed;
use awc::error::WsProtocolError;
use awc::ws::{CloseCode, CloseReason, Frame as WsFrame, Message as WsMessage};
use awc::BoxedSocket;
use futures::stream::StreamExt;

use self::burst::{BurstCodec, Frames};
use self::frames::{LimitedCodec, Reassembly};
use self::open::{close_error, is_normal, protocol_error};
pub(crate) use self::open::{handshake, open};
use self::sink::{CountingSink, Outgoing, Writes};
use super::gate::Gate;
use super::http::Http;
use super::{
    AbortTransport, CloseTransport, PauseReading, ResumeReading, SessionLink, Transmit,
    TransportEventKind,
};
use crate::protocol::{
    wire_len_for, Handshake, Packet, ProtocolVersion, TransportEnd, TransportError, TransportKind,
};

/// A websocket as the session opens it: awc's socket, frames checked from their header.
pub(crate) type WsFramed = Framed<BoxedSocket, LimitedCodec>;

/// The socket as the transport reads and writes it: frames read in bursts.
pub(crate) type WsSocket = Framed<BoxedSocket, BurstCodec>;

/// The transport actor of one websocket.
pub(crate) struct WebSocketTransport {
    sink: SinkWrite<Outgoing, CountingSink>,
    session: SessionLink,
    /// The frame format of packets.
    version: ProtocolVersion,
    /// What is written and not yet read by the server.
    writes: Rc<Writes>,
    /// How long the server may leave what is written unread before the transport
    /// gives up on it: its own heartbeat deadline.
    stall_limit: Duration,
    /// The largest message accepted, fragments included.
    limit: usize,
    /// Data frames made packets, fragmented messages put together.
    messages: Reassembly,
    /// Whether the end was reported to the session (it is reported once), or the
    /// session no longer listens.
    ended: bool,
    /// The session asked to close: it hears [`TransportEnd::Closed`] once the socket is.
    close_requested: bool,
    /// Stops reading the socket while the session has no room for what it reads.
    gate: Gate,
    /// Whether a close frame was sent; the socket ends when the server answers it.
    closing: bool,
    /// How long the server may take to answer the close frame.
    close_timeout: Duration,
    /// Packets received and not yet reported: frames read in one go are reported
    /// together, once the stream has nothing more ready.
    received: Vec<Packet>,
}

impl WebSocketTransport {
    /// Starts the actor on an open socket of a session whose handshake is `handshake`,
    /// with the session's limits: messages up to `max_frame_size`, `request_timeout`
    /// for the server to answer a close.
    pub fn start(
        framed: WsFramed,
        http: &Http,
        handshake: &Handshake,
        session: SessionLink,
    ) -> actix::Addr<Self> {
        let config = http.config();
        let (limit, close_timeout) = (config.max_frame_size, config.request_timeout);
        let version = http.version();
        let (sink, stream) = framed.into_map_codec(BurstCodec::new).split();
        let writes = Rc::new(Writes::default());
        let sink = CountingSink::new(
            sink,
            version,
            config.send_buffer,
            session.clone(),
            writes.clone(),
        );
        let gate = Gate::default();
        WebSocketTransport::create(move |ctx| {
            ctx.add_stream(gate.wrap(stream));
            WebSocketTransport {
                gate,
                close_requested: false,
                sink: SinkWrite::new(sink, ctx),
                session,
                version,
                writes,
                stall_limit: handshake.heartbeat_deadline(),
                limit,
                messages: Reassembly::new(version, limit),
                ended: false,
                closing: false,
                close_timeout,
                received: Vec::new(),
            }
        })
    }

    fn report(&self, kind: TransportEventKind) {
        self.session.report(kind);
    }

    /// Writes to the socket, unless the server has stopped reading (then the transport
    /// ends: what it writes would only pile up).
    fn write(&mut self, outgoing: Outgoing, ctx: &mut Context<Self>) {
        if self.writes.wrote(self.stall_limit) {
            let stalled = TransportError::WebSocket(format!(
                "the server has read nothing for more than {:?}",
                self.stall_limit
            ));
            return self.end(TransportEnd::Error(stalled), ctx);
        }
        // A closed sink means the end was already reported to the session.
        let _ = self.sink.write(outgoing);
    }

    /// Reports the end once and stops.
    fn end(&mut self, end: TransportEnd, ctx: &mut Context<Self>) {
        self.report_end(end);
        ctx.stop();
    }

    /// Reports what was received, then the end, once.
    fn report_end(&mut self, end: TransportEnd) {
        self.report_received();
        if !self.ended {
            self.ended = true;
            self.session.give_back(self.writes.take_pending());
            self.report(TransportEventKind::Ended(end));
        }
    }

    /// Sends a close frame after everything queued, then waits for the server's close
    /// (or the close timeout). Closing the sink at once would discard the frames still
    /// queued in the codec's buffer.
    fn close(&mut self, reason: Option<CloseReason>, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        self.closing = true;
        let _ = self.sink.write(Outgoing::control(WsMessage::Close(reason)));
        ctx.run_later(self.close_timeout, |_, ctx| ctx.stop());
    }

    fn receive(&mut self, result: Result<Packet, TransportError>, ctx: &mut Context<Self>) {
        if self.ended {
            return;
        }
        match result {
            Ok(packet) => {
                if self.received.is_empty() {
                    // Runs after the stream item has read every frame that is ready.
                    ctx.spawn(
                        actix::fut::ready(()).map(|(), act: &mut Self, _| act.report_received()),
                    );
                }
                self.received.push(packet);
            }
            Err(error) => self.end(TransportEnd::Error(error), ctx),
        }
    }

    fn report_received(&mut self) {
        if !self.received.is_empty() && !self.ended {
            let packets = std::mem::take(&mut self.received);
            self.report(TransportEventKind::Packets(packets));
        }
    }
}

impl Actor for WebSocketTransport {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        crate::diagnostics::actor_started();
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        crate::diagnostics::actor_stopped();
        // The close handshake is done, the socket broke, or the close timed out: in
        // each case the session's close is as done as it will be.
        if self.close_requested {
            self.report(TransportEventKind::Ended(TransportEnd::Closed));
        }
    }
}

impl StreamHandler<Result<Frames, WsProtocolError>> for WebSocketTransport {
    fn handle(&mut self, frames: Result<Frames, WsProtocolError>, ctx: &mut Context<Self>) {
        let frames = match frames {
            Ok(frames) => frames,
            Err(error) => {
                let cause = protocol_error(error, self.limit);
                return self.end(TransportEnd::Error(cause), ctx);
            }
        };
        for frame in frames {
            // A frame that stops the actor ends the burst, as it ended the stream when
            // frames came one by one.
            if ctx.state() != ActorState::Running {
                break;
            }
            self.frame(frame, ctx);
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        let lost = TransportError::ConnectionLost(
            "the server closed the socket without a close frame".into(),
        );
        self.end(TransportEnd::Error(lost), ctx);
    }
}

impl WebSocketTransport {
    fn frame(&mut self, frame: WsFrame, ctx: &mut Context<Self>) {
        match frame {
            WsFrame::Text(_) | WsFrame::Binary(_) | WsFrame::Continuation(_) => {
                if let Some(result) = self.messages.push(frame) {
                    self.receive(result, ctx);
                }
            }
            WsFrame::Ping(data) => self.write(Outgoing::control(WsMessage::Pong(data)), ctx),
            WsFrame::Pong(_) => {}
            // The answer to our own close: the closing handshake is complete.
            WsFrame::Close(_) if self.closing => ctx.stop(),
            WsFrame::Close(reason) => {
                // The answer echoes the server's code, as RFC 6455 asks.
                let echo = reason.as_ref().map(|r| CloseReason::from(r.code));
                let end = match close_error(reason) {
                    TransportError::WebSocketClosed { code, reason } if !is_normal(code) => {
                        TransportEnd::Error(TransportError::WebSocketClosed { code, reason })
                    }
                    _ => TransportEnd::ServerClosed,
                };
                self.report_end(end);
                self.close(echo, ctx);
            }
        }
    }
}

impl WriteHandler<WsProtocolError> for WebSocketTransport {
    fn error(&mut self, error: WsProtocolError, ctx: &mut Context<Self>) -> actix::Running {
        let cause = protocol_error(error, self.limit);
        self.end(TransportEnd::Error(cause), ctx);
        actix::Running::Stop
    }
}

impl Handler<Transmit> for WebSocketTransport {
    type Result = ();

    fn handle(&mut self, Transmit(packets): Transmit, ctx: &mut Context<Self>) {
        if packets.is_empty() {
            return;
        }
        let cost = packets
            .iter()
            .map(|packet| wire_len_for(self.version, TransportKind::WebSocket, packet))
            .sum();
        // One item for the sink; the codec encodes each packet straight into its
        // buffer (see `outgoing`).
        self.writes.queued(packets);
        self.write(Outgoing::packets(cost), ctx);
    }
}

impl Handler<CloseTransport> for WebSocketTransport {
    type Result = ();

    fn handle(&mut self, _: CloseTransport, ctx: &mut Context<Self>) {
        // The session no longer listens to what arrives, only for the end.
        self.ended = true;
        self.close_requested = true;
        // The server's answer to the close frame must be read.
        self.gate.open();
        self.close(Some(CloseReason::from(CloseCode::Normal)), ctx);
    }
}

impl Handler<AbortTransport> for WebSocketTransport {
    type Result = ();

    fn handle(&mut self, _: AbortTransport, ctx: &mut Context<Self>) {
        // Stopping drops the socket without a close frame; the packets still waiting
        // for the socket (a server that stopped reading) never go out.
        self.session.give_back(self.writes.take_pending());
        self.ended = true;
        ctx.stop();
    }
}

impl Handler<PauseReading> for WebSocketTransport {
    type Result = ();

    fn handle(&mut self, _: PauseReading, _: &mut Context<Self>) {
        if !self.closing {
            self.gate.close();
        }
    }
}

impl Handler<ResumeReading> for WebSocketTransport {
    type Result = ();

    fn handle(&mut self, _: ResumeReading, _: &mut Context<Self>) {
        self.gate.open();
    }
}
