//! The protocol version a session speaks: Engine.IO v3 (Socket.IO 1.x and 2.x servers)
//! or v4.
//!
//! The version changes the polling payload format, how a binary message travels over
//! websocket and who sends the heartbeat; packets and the handshake JSON are shared.
//! Every codec that differs takes the version as a parameter, so there is one codec,
//! not two copies (see `docs/protocol.md` section 11).

use std::fmt;

/// An Engine.IO protocol version, sent as the `EIO` query parameter.
///
/// [`V4`](ProtocolVersion::V4) is the default, what every function without a version
/// parameter speaks.
///
/// ```
/// use actix_engineio::protocol::ProtocolVersion;
///
/// assert_eq!(ProtocolVersion::default(), ProtocolVersion::V4);
/// assert_eq!(ProtocolVersion::V3.as_str(), "3");
/// assert_eq!("3".parse(), Ok(ProtocolVersion::V3));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolVersion {
    /// Engine.IO v3: length-prefixed polling payloads, binary frames with a type byte,
    /// the client sends the pings.
    V3,
    /// Engine.IO v4: payloads joined by `\x1e`, binary frames as they are, the server
    /// sends the pings.
    #[default]
    V4,
}

impl ProtocolVersion {
    /// The value of the `EIO` query parameter: `3` or `4`.
    ///
    /// ```
    /// use actix_engineio::protocol::{ProtocolVersion, PROTOCOL_VERSION};
    ///
    /// assert_eq!(ProtocolVersion::V4.as_str(), PROTOCOL_VERSION);
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ProtocolVersion::V3 => "3",
            ProtocolVersion::V4 => "4",
        }
    }
}

/// The `EIO` value: `3` or `4`.
impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses an `EIO` value (`3` or `4`), as a command line or a configuration file gives it.
impl std::str::FromStr for ProtocolVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "3" => Ok(ProtocolVersion::V3),
            "4" => Ok(ProtocolVersion::V4),
            other => Err(format!(
                "unknown Engine.IO protocol version {other:?} (expected 3 or 4)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for version in [ProtocolVersion::V3, ProtocolVersion::V4] {
            assert_eq!(version.to_string().parse(), Ok(version));
        }
        assert!("2".parse::<ProtocolVersion>().is_err());
        assert!("v4".parse::<ProtocolVersion>().is_err());
    }
}
