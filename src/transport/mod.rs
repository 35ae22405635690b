//! The transport actors and the typed messages between them and the session.
//!
//! A transport owns its sockets or requests, turns packets into bytes and bytes into
//! packets, and reports to the session with [`TransportEvent`]s. It decides nothing
//! about the session; the [`Connection`](crate::protocol::Connection) does.

pub(crate) mod cookies;
pub(crate) mod http;
pub(crate) mod polling;
pub(crate) mod tls;
pub(crate) mod websocket;

use actix::Message;

use crate::protocol::{Packet, TransportEnd, TransportKind};

/// Session → transport: send these packets, in order, after those given before.
///
/// The session gathers every packet its mailbox produced into one `Transmit`, so a
/// burst of messages costs one actor message and one socket write, not one each.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Transmit(pub Vec<Packet>);

/// Session → transport: send what is queued, then stop for good.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct CloseTransport;

/// Session → polling: start receiving, or resume after a pause.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct ResumePolling;

/// Session → polling: issue no new request; report [`TransportEventKind::Paused`]
/// once none is in flight.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct PausePolling;

/// Transport → session: something happened on `transport`.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct TransportEvent {
    pub transport: TransportKind,
    pub kind: TransportEventKind,
}

/// What a transport reports.
#[derive(Debug)]
pub(crate) enum TransportEventKind {
    /// Packets arrived, in order.
    Packets(Vec<Packet>),
    /// Polling paused; these packets were queued and not sent, in order.
    Paused(Vec<Packet>),
    /// This many bytes of packets (as `protocol::wire_len` counts them) reached the network.
    Written(usize),
    /// The transport stopped.
    Ended(TransportEnd),
}
