//! The pure Engine.IO v4 protocol: packets, frames, payloads, handshake, URLs and
//! the session state machine.
//!
//! Nothing here does I/O or knows about actix; the actors in this crate only drive
//! it. Every function is synchronous and total: bad input gives a [`ProtocolError`],
//! never a panic.

mod connection;
mod error;
pub mod frame;
mod handshake;
mod packet;
pub mod polling;
mod reason;
mod url;

pub use self::connection::{
    wire_len, Connection, Event, Output, SendError, Timer, PROBE_GRACE, PROBE_TIMEOUT,
};
pub use self::error::ProtocolError;
pub use self::frame::Frame;
pub use self::handshake::{Handshake, DEFAULT_MAX_PAYLOAD};
pub use self::packet::{Packet, PacketType, Payload, PROBE};
pub use self::reason::{
    DisconnectReason, TransportEnd, TransportError, TransportKind, UpgradeError,
};
pub use self::url::{Endpoint, DEFAULT_PATH, PROTOCOL_VERSION};
