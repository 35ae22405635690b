//! The two transports, and what a packet costs on each.

use std::fmt;

use super::{frame, polling, polling_v3, Packet, ProtocolVersion};

/// The two transports of Engine.IO.
///
/// Its [`Display`](fmt::Display) and [`FromStr`](std::str::FromStr) use the names on
/// the wire, which is what [`SessionBuilder::transports`](crate::SessionBuilder::transports)
/// accepts besides the kinds themselves.
///
/// ```
/// use actix_engineio::TransportKind;
///
/// assert_eq!("websocket".parse(), Ok(TransportKind::WebSocket));
/// assert_eq!(TransportKind::Polling.to_string(), "polling");
/// assert!("flashsocket".parse::<TransportKind>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// HTTP long-polling: GETs to receive, POSTs to send.
    Polling,
    /// One websocket carrying one packet per frame.
    WebSocket,
}

impl TransportKind {
    /// The transport's name on the wire: `polling` or `websocket`.
    ///
    /// ```
    /// use actix_engineio::TransportKind;
    ///
    /// assert_eq!(TransportKind::WebSocket.as_str(), "websocket");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Polling => "polling",
            TransportKind::WebSocket => "websocket",
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TransportKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "polling" => Ok(TransportKind::Polling),
            "websocket" => Ok(TransportKind::WebSocket),
            other => Err(format!(
                "unknown transport {other:?} (expected polling or websocket)"
            )),
        }
    }
}

impl AsRef<str> for TransportKind {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Size of `packet` as `transport` carries it: what the transport reports written,
/// and what the session counts against its send buffer. The one cost rule of the
/// crate: each transport's encoder says how long its encoding is.
///
/// ```
/// use actix_engineio::protocol::{wire_len, Packet, TransportKind};
///
/// let packet = Packet::binary(vec![1, 2, 3]);
/// assert_eq!(wire_len(TransportKind::WebSocket, &packet), 3); // as it is
/// assert_eq!(wire_len(TransportKind::Polling, &packet), 5); // "bAQID"
/// ```
pub fn wire_len(transport: TransportKind, packet: &Packet) -> usize {
    wire_len_for(ProtocolVersion::V4, transport, packet)
}

/// Size of `packet` as `transport` carries it in protocol `version`: [`wire_len`] for
/// either version. Over v3 polling it is the packet's share of the binary payload the
/// client POSTs, its marker and length included.
///
/// ```
/// use actix_engineio::protocol::{wire_len_for, Packet, ProtocolVersion::V3, TransportKind};
///
/// let packet = Packet::binary(vec![1, 2, 3]);
/// assert_eq!(wire_len_for(V3, TransportKind::WebSocket, &packet), 4); // type byte 4, data
/// assert_eq!(wire_len_for(V3, TransportKind::Polling, &packet), 7); // 1, 4, 255, 4, data
/// ```
pub fn wire_len_for(version: ProtocolVersion, transport: TransportKind, packet: &Packet) -> usize {
    match (transport, version) {
        (TransportKind::Polling, ProtocolVersion::V4) => polling::encoded_len(packet),
        (TransportKind::Polling, ProtocolVersion::V3) => polling_v3::encoded_len(packet),
        (TransportKind::WebSocket, version) => frame::encoded_len_for(version, packet),
    }
}

/// Whether `transport` can carry `packet` in protocol `version`: everything but v4
/// polling, where text holding the record separator `\x1e` would be cut in two (see
/// [`polling::can_carry`]).
///
/// ```
/// use actix_engineio::protocol::{can_carry_for, Packet, ProtocolVersion::{V3, V4}, TransportKind};
///
/// let packet = Packet::text("a\x1eb");
/// assert!(!can_carry_for(V4, TransportKind::Polling, &packet));
/// assert!(can_carry_for(V3, TransportKind::Polling, &packet)); // length-prefixed
/// assert!(can_carry_for(V4, TransportKind::WebSocket, &packet));
/// ```
pub fn can_carry_for(version: ProtocolVersion, transport: TransportKind, packet: &Packet) -> bool {
    match (transport, version) {
        (TransportKind::Polling, ProtocolVersion::V4) => polling::can_carry(packet),
        (TransportKind::Polling, ProtocolVersion::V3) => polling_v3::can_carry(packet),
        (TransportKind::WebSocket, _) => true,
    }
}
