//! The websocket transport: one actor owning one socket, one packet per frame.

use std::rc::Rc;
use std::time::Duration;

use actix::io::{SinkWrite, WriteHandler};
use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, Recipient, StreamHandler,
};
use actix_codec::Framed;
use actix_http::ws::Item;
use awc::error::{WsClientError, WsProtocolError};
use awc::ws::{CloseCode, CloseReason, Codec, Frame as WsFrame, Message as WsMessage};
use awc::BoxedSocket;
use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use futures::stream::{SplitSink, StreamExt};
use futures::{ready, Sink};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use super::gate::Gate;
use super::http::{send_error, Http};
use super::{
    within, AbortTransport, CloseTransport, PauseReading, ResumeReading, Transmit, TransportEvent,
    TransportEventKind, WrittenCounter,
};
use crate::protocol::{
    frame, wire_len, Frame, Handshake, Packet, ProtocolError, TransportEnd, TransportError,
    TransportKind,
};

/// A websocket as awc opens it.
pub(crate) type WsFramed = Framed<BoxedSocket, Codec>;

/// Opens a websocket: a websocket-only session when `sid` is `None`, else the
/// upgrade socket of session `sid`.
pub(crate) async fn open(http: Rc<Http>, sid: Option<String>) -> Result<WsFramed, TransportError> {
    let limit = http.config().max_frame_size;
    let connect = http
        .websocket(sid.as_deref())
        .max_frame_size(limit)
        .connect();
    let connect = async { connect.await.map_err(|e| client_error(e, limit)) };
    let (response, framed) = within(http.config().request_timeout, connect).await?;
    http.store_cookies(response.headers());
    Ok(framed)
}

/// Opens a websocket-only session and reads its handshake from the first frame.
pub(crate) async fn handshake(http: Rc<Http>) -> Result<(Handshake, WsFramed), TransportError> {
    let mut framed = open(http.clone(), None).await?;
    let config = http.config();
    let first = within(
        config.request_timeout,
        first_packet(&mut framed, config.max_frame_size),
    )
    .await?;
    match first {
        Packet::Open(handshake) => Ok((*handshake, framed)),
        other => Err(ProtocolError::InvalidHandshake(format!(
            "expected an open packet, got {:?}",
            other.packet_type()
        ))
        .into()),
    }
}

/// The first data frame's packet; control frames before it are skipped.
async fn first_packet(framed: &mut WsFramed, limit: usize) -> Result<Packet, TransportError> {
    loop {
        let frame = framed
            .next()
            .await
            .ok_or_else(|| TransportError::ConnectionLost("closed before the handshake".into()))?
            .map_err(|e| protocol_error(e, limit))?;
        match frame {
            WsFrame::Text(data) => return decode_text(data),
            WsFrame::Binary(data) => return Ok(Packet::binary(data)),
            WsFrame::Close(reason) => return Err(close_error(reason)),
            WsFrame::Ping(_) | WsFrame::Pong(_) | WsFrame::Continuation(_) => {}
        }
    }
}

/// The transport actor of one websocket.
pub(crate) struct WebSocketTransport {
    sink: SinkWrite<Outgoing, CountingSink>,
    session: Recipient<TransportEvent>,
    /// The largest message accepted, fragments included.
    limit: usize,
    /// A fragmented message being put together.
    fragments: Option<Fragments>,
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

/// The parts of a fragmented message received so far.
struct Fragments {
    text: bool,
    data: BytesMut,
}

impl WebSocketTransport {
    /// Starts the actor on an open socket, with the session's limits: messages up to
    /// `max_frame_size`, `request_timeout` for the server to answer a close.
    pub fn start(
        framed: WsFramed,
        http: &Http,
        session: Recipient<TransportEvent>,
    ) -> actix::Addr<Self> {
        let config = http.config();
        let (limit, close_timeout) = (config.max_frame_size, config.request_timeout);
        let framed = framed.into_map_codec(|_| Codec::new().max_size(limit).client_mode());
        let (sink, stream) = framed.split();
        let sink = CountingSink {
            inner: sink,
            unflushed: 0,
            written: WrittenCounter::new(config.send_buffer),
            session: session.clone(),
        };
        let gate = Gate::default();
        WebSocketTransport::create(move |ctx| {
            ctx.add_stream(gate.wrap(stream));
            WebSocketTransport {
                gate,
                close_requested: false,
                sink: SinkWrite::new(sink, ctx),
                session,
                limit,
                fragments: None,
                ended: false,
                closing: false,
                close_timeout,
                received: Vec::new(),
            }
        })
    }

    fn report(&self, kind: TransportEventKind) {
        self.session.do_send(TransportEvent {
            transport: TransportKind::WebSocket,
            kind,
        });
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

    fn continuation(&mut self, item: Item) -> Option<Result<Packet, TransportError>> {
        let text = matches!(item, Item::FirstText(_));
        let (data, last) = match item {
            Item::FirstText(data) | Item::FirstBinary(data) => {
                if self.fragments.is_some() {
                    return Some(Err(TransportError::WebSocket(
                        "a new fragmented message started before the last one ended".into(),
                    )));
                }
                self.fragments = Some(Fragments {
                    text,
                    data: BytesMut::new(),
                });
                (data, false)
            }
            Item::Continue(data) => (data, false),
            Item::Last(data) => (data, true),
        };
        let Some(fragments) = self.fragments.as_mut() else {
            return Some(Err(TransportError::WebSocket(
                "continuation frame without a first fragment".into(),
            )));
        };
        if fragments.data.len() + data.len() > self.limit {
            return Some(Err(TransportError::FrameTooLarge { limit: self.limit }));
        }
        fragments.data.extend_from_slice(&data);
        if !last {
            return None;
        }
        let Fragments { text, data } = self.fragments.take()?;
        let data = data.freeze();
        Some(if text {
            decode_text(data)
        } else {
            Ok(Packet::binary(data))
        })
    }
}

impl Actor for WebSocketTransport {
    type Context = Context<Self>;

    fn stopped(&mut self, _: &mut Context<Self>) {
        // The close handshake is done, the socket broke, or the close timed out: in
        // each case the session's close is as done as it will be.
        if self.close_requested {
            self.report(TransportEventKind::Ended(TransportEnd::Closed));
        }
    }
}

impl StreamHandler<Result<WsFrame, WsProtocolError>> for WebSocketTransport {
    fn handle(&mut self, frame: Result<WsFrame, WsProtocolError>, ctx: &mut Context<Self>) {
        let frame = match frame {
            Ok(frame) => frame,
            Err(error) => {
                let cause = protocol_error(error, self.limit);
                return self.end(TransportEnd::Error(cause), ctx);
            }
        };
        match frame {
            WsFrame::Text(data) => self.receive(decode_text(data), ctx),
            WsFrame::Binary(data) => self.receive(Ok(Packet::binary(data)), ctx),
            WsFrame::Continuation(item) => {
                if let Some(result) = self.continuation(item) {
                    self.receive(result, ctx);
                }
            }
            WsFrame::Ping(data) => {
                let _ = self.sink.write(Outgoing::control(WsMessage::Pong(data)));
            }
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

    fn finished(&mut self, ctx: &mut Context<Self>) {
        let lost = TransportError::ConnectionLost(
            "the server closed the socket without a close frame".into(),
        );
        self.end(TransportEnd::Error(lost), ctx);
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

    fn handle(&mut self, Transmit(packets): Transmit, _: &mut Context<Self>) {
        for packet in packets {
            let cost = wire_len(TransportKind::WebSocket, &packet);
            let message = match frame::encode(&packet) {
                Frame::Text(text) => WsMessage::Text(text),
                Frame::Binary(data) => WsMessage::Binary(data),
            };
            // A closed sink means the end was already reported to the session.
            let _ = self.sink.write(Outgoing { message, cost });
        }
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
        // Stopping drops the socket without a close frame.
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

/// A message for the socket, with what it counts against the send buffer.
pub(crate) struct Outgoing {
    message: WsMessage,
    /// The packet's [`wire_len`]; control frames are not counted.
    cost: usize,
}

impl Outgoing {
    fn control(message: WsMessage) -> Self {
        Outgoing { message, cost: 0 }
    }
}

/// The socket's sink, telling the session how many bytes of packets each flush wrote,
/// so that senders wait while too much is queued (backpressure).
pub(crate) struct CountingSink {
    inner: SplitSink<WsFramed, WsMessage>,
    /// Bytes of packets handed to the codec since the last flush.
    unflushed: usize,
    written: WrittenCounter,
    session: Recipient<TransportEvent>,
}

impl Sink<Outgoing> for CountingSink {
    type Error = WsProtocolError;

    fn poll_ready(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.inner).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, outgoing: Outgoing) -> Result<(), Self::Error> {
        self.unflushed += outgoing.cost;
        Pin::new(&mut self.inner).start_send(outgoing.message)
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Result<(), Self::Error>> {
        let flushed = ready!(Pin::new(&mut self.inner).poll_flush(cx));
        if flushed.is_ok() {
            let flushed_bytes = std::mem::take(&mut self.unflushed);
            if let Some(written) = self.written.add(flushed_bytes) {
                self.session.do_send(TransportEvent {
                    transport: TransportKind::WebSocket,
                    kind: TransportEventKind::Written(written),
                });
            }
        }
        Poll::Ready(flushed)
    }

    fn poll_close(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

fn decode_text(data: Bytes) -> Result<Packet, TransportError> {
    let text = ByteString::try_from(data).map_err(|_| ProtocolError::InvalidUtf8)?;
    Ok(frame::decode(Frame::Text(text))?)
}

/// Close codes that end a session normally: normal, going away, no status (Node's 1005).
fn is_normal(code: u16) -> bool {
    matches!(code, 1000 | 1001 | 1005)
}

fn close_error(reason: Option<CloseReason>) -> TransportError {
    let (code, description) = match reason {
        Some(reason) => (
            u16::from(reason.code),
            reason.description.unwrap_or_default(),
        ),
        None => (1005, String::new()),
    };
    TransportError::WebSocketClosed {
        code,
        reason: description,
    }
}

fn protocol_error(error: WsProtocolError, limit: usize) -> TransportError {
    match error {
        WsProtocolError::Overflow => TransportError::FrameTooLarge { limit },
        WsProtocolError::Io(e) => TransportError::ConnectionLost(e.to_string()),
        other => TransportError::WebSocket(other.to_string()),
    }
}

fn client_error(error: WsClientError, limit: usize) -> TransportError {
    match error {
        WsClientError::InvalidResponseStatus(status) => TransportError::Http {
            status: status.as_u16(),
            body: String::new(),
        },
        WsClientError::SendRequest(error) => send_error(error),
        WsClientError::Protocol(error) => protocol_error(error, limit),
        other => TransportError::WebSocket(other.to_string()),
    }
}
