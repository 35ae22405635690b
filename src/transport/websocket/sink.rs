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

use super::outgoing::WsOut;
use super::WsSocket;
use crate::protocol::{Packet, ProtocolVersion};
use crate::transport::{SessionLink, TransportEventKind, WrittenCounter};

/// What the socket is to write: the next batch of packets waiting in [`Writes`], or a
/// control frame of the socket's own.
pub(crate) struct Outgoing {
    /// `None`: the next batch of [`Writes`]' pending ones, encoded straight into the
    /// codec's buffer when it gets there.
    control: Option<WsMessage>,
    /// What the batch counts against the send buffer (the sum of its packets'
    /// [`wire_len`](crate::protocol::wire_len)s); control frames are free.
    cost: usize,
}

impl Outgoing {
    /// The batch last [`queued`](Writes::queued), which costs `cost`.
    pub fn packets(cost: usize) -> Self {
        Outgoing {
            control: None,
            cost,
        }
    }

    pub fn control(message: WsMessage) -> Self {
        Outgoing {
            control: Some(message),
            cost: 0,
        }
    }
}

/// What the actor and its sink share about writing.
#[derive(Default)]
pub(crate) struct Writes {
    /// Batches of packets given to the socket and not yet to its codec, in order: each
    /// is taken from here when its [`Outgoing`] reaches the codec, so a packet is never
    /// copied to be both written and kept to be given back. A batch (a `Transmit`'s)
    /// goes through the sink as one item: the sink's per-item work is paid per burst.
    pending: RefCell<VecDeque<Vec<Packet>>>,
    /// When the last flush completed.
    flushed_at: Cell<Option<Instant>>,
    /// Whether anything was written since.
    dirty: Cell<bool>,
}

impl Writes {
    /// A batch of packets is on its way to the socket.
    pub fn queued(&self, packets: Vec<Packet>) {
        self.pending.borrow_mut().push_back(packets);
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
        self.pending.borrow_mut().drain(..).flatten().collect()
    }
}

/// The socket's sink: tells the session how many bytes of packets each flush wrote
/// (backpressure), and keeps [`Writes`] up to date.
pub(crate) struct CountingSink {
    inner: SplitSink<WsSocket, WsOut>,
    /// The frame format of packets.
    version: ProtocolVersion,
    /// Bytes of packets handed to the codec since the last flush.
    unflushed: usize,
    written: WrittenCounter,
    session: SessionLink,
    writes: Rc<Writes>,
}

impl CountingSink {
    pub fn new(
        inner: SplitSink<WsSocket, WsOut>,
        version: ProtocolVersion,
        send_buffer: usize,
        session: SessionLink,
        writes: Rc<Writes>,
    ) -> Self {
        CountingSink {
            inner,
            version,
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
        let item = match outgoing.control {
            Some(message) => WsOut::Message(message),
            None => {
                // Every batch's `Outgoing` follows its `queued`, in the same order;
                // none is left once the transport has given them back.
                let Some(packets) = self.writes.pending.borrow_mut().pop_front() else {
                    return Ok(());
                };
                WsOut::Packets(packets, self.version)
            }
        };
        // Counted once it is written: a batch given back before is not.
        self.unflushed += outgoing.cost;
        Pin::new(&mut self.inner).start_send(item)
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
