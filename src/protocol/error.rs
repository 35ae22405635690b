//! The one error type of the protocol core: what was wrong with the input.

use thiserror::Error;

/// What was wrong with bytes, text or a URL handed to the protocol core.
///
/// Every decoder in [`crate::protocol`] returns this instead of panicking, so a
/// malformed packet from a server always becomes a typed value.
///
/// ```
/// use actix_engineio::protocol::{Packet, ProtocolError};
///
/// let err = Packet::decode_text("9nine".into()).unwrap_err();
/// assert_eq!(err, ProtocolError::UnknownPacketType('9'));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A text packet had no type character at all.
    #[error("empty packet")]
    EmptyPacket,
    /// The first character of a packet is not one of `0`..`6`.
    #[error("unknown packet type {0:?}")]
    UnknownPacketType(char),
    /// A polling body or text frame was not valid UTF-8.
    #[error("packet is not valid UTF-8")]
    InvalidUtf8,
    /// A `b`-prefixed binary packet in a polling payload was not valid base64.
    #[error("binary packet is not valid base64")]
    InvalidBase64,
    /// The open packet's JSON is malformed or misses a required field.
    #[error("invalid handshake: {0}")]
    InvalidHandshake(String),
    /// The server URL cannot be used to reach an Engine.IO server.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as the user gave it.
        url: String,
        /// Why it was refused.
        reason: String,
    },
}
