//! The pure Engine.IO v4 protocol: packets, frames, payloads, handshake, URLs and
//! the session state machine.
//!
//! Nothing here does I/O or knows about actix; the actors in this crate only drive
//! it. Every function is synchronous and total: bad input gives a [`ProtocolError`],
//! never a panic. [`Connection`] shows how an I/O layer drives a session through the
//! upgrade; this is how a polling session starts:
//!
//! ```
//! use actix_engineio::protocol::{polling, Connection, Event, Output, Packet, TransportKind};
//!
//! // The body of the handshake GET: the open packet, maybe a message with it.
//! let body = "0{\"sid\":\"s\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000}\x1e4hi";
//! let mut packets = polling::decode(body.into()).unwrap().into_iter();
//! let Some(Packet::Open(handshake)) = packets.next() else { panic!("not a handshake") };
//! let mut conn = Connection::new(*handshake, TransportKind::Polling, false);
//! for packet in packets {
//!     conn.handle_packet(TransportKind::Polling, packet);
//! }
//! let outputs: Vec<Output> = std::iter::from_fn(|| conn.poll_output()).collect();
//! assert_eq!(outputs[2], Output::ResumePolling); // after Connected and ArmHeartbeat
//! assert_eq!(outputs[3], Output::Event(Event::Message("hi".into())));
//! ```

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
