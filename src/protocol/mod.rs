//! The pure Engine.IO protocol: packets, frames, payloads, handshake, URLs and
//! the session state machine. Everything speaks v4 by default and v3 on request
//! ([`ProtocolVersion`], [`polling_v3`], [`frame::encode_for`],
//! [`Connection::with_version`]).
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
//! let body = "0{\"sid\":\"s\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}\x1e4hi";
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
//!
//! The wire format, the heartbeat, the upgrade and the quirks of real servers that
//! this core works around are described in the repository's `docs/protocol.md`.

mod connection;
mod error;
pub mod frame;
mod handshake;
mod packet;
mod payload;
pub mod polling;
pub mod polling_v3;
mod reason;
mod redact;
mod transport;
mod url;
mod version;

pub use self::connection::{Connection, Event, Output, Timer, PROBE_GRACE, PROBE_TIMEOUT};
pub use self::error::{ProtocolError, ProxyError, SendError, TransportError, UpgradeError};
pub use self::frame::Frame;
pub use self::handshake::{Handshake, DEFAULT_MAX_PAYLOAD};
pub use self::packet::{Packet, PacketType, PROBE};
pub use self::payload::Payload;
pub use self::reason::{DisconnectReason, TransportEnd};
pub use self::redact::{is_secret_param, redact_url, REDACTED};
pub use self::transport::{can_carry_for, wire_len, wire_len_for, TransportKind};
pub use self::url::{Endpoint, DEFAULT_PATH, PROTOCOL_VERSION};
pub use self::version::ProtocolVersion;
