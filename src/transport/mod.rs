//! The transport actors and the typed messages between them and the session.
//!
//! A transport owns its sockets or requests, turns packets into bytes and bytes into
//! packets, and reports to the session with [`TransportEvent`]s. It decides nothing
//! about the session; the [`Connection`](crate::protocol::Connection) does.

mod body;
pub(crate) mod cookies;
mod gate;
pub(crate) mod http;
pub(crate) mod polling;
pub(crate) mod proxy;
pub(crate) mod tls;
pub(crate) mod websocket;

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use actix::{Message, Recipient};

use crate::protocol::{Packet, TransportEnd, TransportError, TransportKind};

/// Runs `request` to its end, or fails it with [`TransportError::Timeout`] after `limit`:
/// the one deadline every handshake, poll, POST and websocket opening is under.
pub(crate) async fn within<T>(
    limit: Duration,
    request: impl Future<Output = Result<T, TransportError>>,
) -> Result<T, TransportError> {
    actix_rt::time::timeout(limit, request)
        .await
        .map_err(|_| TransportError::Timeout)?
}

/// Counts the bytes a transport wrote to the network and says when the session must
/// hear of them: once they reach half its send buffer. A session holds senders back
/// only while a whole send buffer is unwritten, so it always hears in time, and a
/// quiet exchange of small messages costs no extra actor message per write.
#[derive(Debug)]
pub(crate) struct WrittenCounter {
    unreported: usize,
    threshold: usize,
}

impl WrittenCounter {
    pub fn new(send_buffer: usize) -> Self {
        WrittenCounter {
            unreported: 0,
            threshold: send_buffer / 2,
        }
    }

    /// Adds `bytes`; returns what to report, when it is time to.
    pub fn add(&mut self, bytes: usize) -> Option<usize> {
        self.unreported += bytes;
        (self.unreported > 0 && self.unreported >= self.threshold)
            .then(|| std::mem::take(&mut self.unreported))
    }
}

/// Session → transport: send these packets, in order, after those given before.
///
/// The session gathers every packet its mailbox produced into one `Transmit`, so a
/// burst of messages costs one actor message and one socket write, not one each.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Transmit(pub Vec<Packet>);

/// Session → transport: send what is queued, report [`TransportEnd::Closed`] once it
/// is written (or could not be), and stop.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct CloseTransport;

/// Session → transport: stop at once, with whatever is in flight; the packets it had
/// not started to write are given back ([`GivenBack`]) before it answers.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct AbortTransport;

/// Session → transport: read nothing more from the server until [`ResumeReading`]
/// (its events have nowhere to go: backpressure reaches the socket).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct PauseReading;

/// Session → transport: read again after [`PauseReading`].
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct ResumeReading;

/// Session → polling: start receiving, or resume after a pause.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct ResumePolling;

/// Session → polling: issue no new request; report [`TransportEventKind::Paused`]
/// once none is in flight.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct PausePolling;

/// Transport → session: something happened on `transport`, one of the transports of
/// the session's `epoch`-th connection (a session that reconnects ignores the late
/// reports of the transports it had before).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct TransportEvent {
    pub transport: TransportKind,
    pub epoch: u64,
    pub kind: TransportEventKind,
}

/// The packets a transport gives back to its session, in order: those it was given and
/// will never send (at the upgrade pause, at its end, when aborted). The transport and
/// the session share it (they run on one arbiter), so what is given back is never lost
/// with a report that comes after the session has stopped reading its transports.
#[derive(Debug, Clone, Default)]
pub(crate) struct GivenBack(Rc<RefCell<Vec<Packet>>>);

impl GivenBack {
    pub fn give(&self, packets: impl IntoIterator<Item = Packet>) {
        self.0.borrow_mut().extend(packets);
    }

    pub fn take(&self) -> Vec<Packet> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

/// How a transport reports to its session.
#[derive(Clone)]
pub(crate) struct SessionLink {
    session: Recipient<TransportEvent>,
    epoch: u64,
    transport: TransportKind,
    given_back: GivenBack,
}

impl SessionLink {
    pub fn new(
        session: Recipient<TransportEvent>,
        epoch: u64,
        transport: TransportKind,
        given_back: GivenBack,
    ) -> Self {
        SessionLink {
            session,
            epoch,
            transport,
            given_back,
        }
    }

    /// Gives back packets that will never be sent, after those given back before.
    pub fn give_back(&self, packets: impl IntoIterator<Item = Packet>) {
        self.given_back.give(packets);
    }

    pub fn report(&self, kind: TransportEventKind) {
        self.session.do_send(TransportEvent {
            transport: self.transport,
            epoch: self.epoch,
            kind,
        });
    }
}

/// What a transport reports.
#[derive(Debug)]
pub(crate) enum TransportEventKind {
    /// Packets arrived, in order.
    Packets(Vec<Packet>),
    /// Polling paused; the packets it had queued and not sent were given back.
    Paused,
    /// This many bytes of packets (as [`wire_len`](crate::protocol::wire_len) counts them) reached the
    /// network, reported in amounts that matter (see [`WrittenCounter`]).
    Written(usize),
    /// The transport stopped; the packets it had been given and never handed to the
    /// network were given back.
    Ended(TransportEnd),
}

#[cfg(test)]
mod tests {
    use super::WrittenCounter;

    #[test]
    fn written_bytes_are_reported_from_half_the_send_buffer() {
        let mut counter = WrittenCounter::new(100);
        assert_eq!(counter.add(30), None);
        assert_eq!(counter.add(30), Some(60));
        assert_eq!(counter.add(49), None);
        assert_eq!(counter.add(1), Some(50));
    }

    #[test]
    fn a_zero_send_buffer_reports_every_write() {
        let mut counter = WrittenCounter::new(0);
        assert_eq!(counter.add(0), None);
        assert_eq!(counter.add(3), Some(3));
        assert_eq!(counter.add(1), Some(1));
    }
}
