//! The writing side of a websocket: what each frame costs against the session's send
//! buffer, which packets have not reached the codec yet (handed back if the socket
//! dies), and whether the server still reads what is written.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use awc::error::WsProtocolError;
use awc::ws::Message as WsMessage;
use futures::stream::SplitSink;
use futures::{ready, Sink};

use super::WsFramed;
use crate::protocol::Packet;
use crate::transport::{SessionLink, TransportEventKind, WrittenCounter};

/// A message for the socket, with what it counts against the send buffer.
pub(crate) struct Outgoing {
    message: WsMessage,
    /// The packet's [`wire_len`](crate::protocol::wire_len); control frames are free.
    cost: usize,
    /// Whether it carries a packet of the session (tracked until it reaches the codec).
    packet: bool,
}

impl Outgoing {
    pub fn packet(message: WsMessage, cost: usize) -> Self {
        Outgoing {
            message,
            cost,
            packet: true,
        }
    }

    pub fn control(message: WsMessage) -> Self {
        Outgoing {
            message,
            cost: 0,
            packet: false,
        }
    }
}

/// What the actor and its sink share about writing.
#[derive(Default)]
pub(crate) struct Writes {
    /// Packets given to the socket and not yet to its codec, in order.
    pending: RefCell<VecDeque<Packet>>,
    /// When the last flush completed.
    flushed_at: Cell<Option<Instant>>,
    /// Whether anything was written since.
    dirty: Cell<bool>,
}

impl Writes {
    /// A packet is on its way to the socket.
    pub fn queued(&self, packet: Packet) {
        self.pending.borrow_mut().push_back(packet);
    }

    /// Something was written: whether the server has not read anything for longer
    /// than `limit` while writes waited (a server that pings but never reads).
    pub fn wrote(&self, limit: Duration) -> bool {
        let stalled = self.dirty.get()
            && self
                .flushed_at
                .get()
                .is_some_and(|flushed| flushed.elapsed() > limit);
        if !self.dirty.replace(true) {
            self.flushed_at.set(Some(Instant::now()));
        }
        stalled
    }

    /// The packets that never reached the codec.
    pub fn take_pending(&self) -> Vec<Packet> {
        self.pending.borrow_mut().drain(..).collect()
    }
}

/// The socket's sink: tells the session how many bytes of packets each flush wrote
/// (backpressure), and keeps [`Writes`] up to date.
pub(crate) struct CountingSink {
    inner: SplitSink<WsFramed, WsMessage>,
    /// Bytes of packets handed to the codec since the last flush.
    unflushed: usize,
    written: WrittenCounter,
    session: SessionLink,
    writes: Rc<Writes>,
}

impl CountingSink {
    pub fn new(
        inner: SplitSink<WsFramed, WsMessage>,
        send_buffer: usize,
        session: SessionLink,
        writes: Rc<Writes>,
    ) -> Self {
        CountingSink {
            inner,
            unflushed: 0,
            written: WrittenCounter::new(send_buffer),
            session,
            writes,
        }
    }
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
        if outgoing.packet {
            self.writes.pending.borrow_mut().pop_front();
        }
        Pin::new(&mut self.inner).start_send(outgoing.message)
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Result<(), Self::Error>> {
        let flushed = ready!(Pin::new(&mut self.inner).poll_flush(cx));
        if flushed.is_ok() {
            self.writes.dirty.set(false);
            self.writes.flushed_at.set(Some(Instant::now()));
            let flushed_bytes = std::mem::take(&mut self.unflushed);
            if let Some(written) = self.written.add(flushed_bytes) {
                self.session.report(TransportEventKind::Written(written));
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
