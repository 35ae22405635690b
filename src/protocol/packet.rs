//! Engine.IO packets: their types and their text form.

use bytes::Bytes;
use bytestring::ByteString;

use super::{Handshake, Payload, ProtocolError};

/// The kind of a packet, with its wire character (`0` to `6`).
///
/// ```
/// use actix_engineio::protocol::{Packet, PacketType};
///
/// let packet = Packet::decode_text("2probe".into()).unwrap();
/// assert_eq!(packet.packet_type(), PacketType::Ping);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: the server's handshake.
    Open,
    /// `1`: the session is over.
    Close,
    /// `2`: heartbeat from the server; `2probe` is the client's upgrade probe.
    Ping,
    /// `3`: heartbeat answer; `3probe` answers the upgrade probe.
    Pong,
    /// `4`: application data.
    Message,
    /// `5`: completes the switch to websocket.
    Upgrade,
    /// `6`: flushes a pending poll during an upgrade.
    Noop,
}

impl PacketType {
    /// The character that starts a text packet of this type.
    ///
    /// ```
    /// use actix_engineio::protocol::PacketType;
    ///
    /// assert_eq!(PacketType::Message.as_char(), '4');
    /// ```
    pub fn as_char(self) -> char {
        match self {
            PacketType::Open => '0',
            PacketType::Close => '1',
            PacketType::Ping => '2',
            PacketType::Pong => '3',
            PacketType::Message => '4',
            PacketType::Upgrade => '5',
            PacketType::Noop => '6',
        }
    }

    /// The packet type a wire character stands for.
    ///
    /// ```
    /// use actix_engineio::protocol::{PacketType, ProtocolError};
    ///
    /// assert_eq!(PacketType::from_char('6'), Ok(PacketType::Noop));
    /// assert_eq!(PacketType::from_char('b'), Err(ProtocolError::UnknownPacketType('b')));
    /// ```
    pub fn from_char(c: char) -> Result<Self, ProtocolError> {
        Ok(match c {
            '0' => PacketType::Open,
            '1' => PacketType::Close,
            '2' => PacketType::Ping,
            '3' => PacketType::Pong,
            '4' => PacketType::Message,
            '5' => PacketType::Upgrade,
            '6' => PacketType::Noop,
            other => return Err(ProtocolError::UnknownPacketType(other)),
        })
    }
}

/// One Engine.IO v4 packet.
///
/// ```
/// use actix_engineio::protocol::Packet;
/// use actix_engineio::Payload;
///
/// let packet = Packet::decode_text("4hello".into()).unwrap();
/// assert_eq!(packet, Packet::Message(Payload::from("hello")));
/// assert_eq!(packet.encode_text().as_deref(), Some("4hello"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// The handshake that opens a session (boxed: it is rare and large, and every
    /// other packet is small).
    Open(Box<Handshake>),
    /// The session is over.
    Close,
    /// A heartbeat (or, with `probe`, the upgrade probe) with optional data.
    Ping(ByteString),
    /// The answer to a ping, echoing its data.
    Pong(ByteString),
    /// Application data.
    Message(Payload),
    /// Completes the upgrade to websocket.
    Upgrade,
    /// Does nothing; the server uses it to end a poll during an upgrade.
    Noop,
}

/// The data of the client's upgrade probe (`2probe`) and of its answer (`3probe`).
///
/// ```
/// use actix_engineio::protocol::{Packet, PROBE};
///
/// assert_eq!(Packet::probe(), Packet::Ping(PROBE.into()));
/// assert!(Packet::Pong(PROBE.into()).is_probe_answer());
/// ```
pub const PROBE: &str = "probe";

impl Packet {
    /// A text message packet.
    ///
    /// ```
    /// use actix_engineio::protocol::Packet;
    ///
    /// assert_eq!(Packet::text("hi").encode_text().as_deref(), Some("4hi"));
    /// ```
    pub fn text(text: impl Into<ByteString>) -> Self {
        Packet::Message(Payload::Text(text.into()))
    }

    /// A binary message packet.
    ///
    /// ```
    /// use actix_engineio::protocol::{Packet, PacketType};
    ///
    /// let packet = Packet::binary(vec![1, 2]);
    /// assert_eq!(packet.packet_type(), PacketType::Message);
    /// ```
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Packet::Message(Payload::Binary(data.into()))
    }

    /// The client's upgrade probe, `2probe`.
    ///
    /// ```
    /// use actix_engineio::protocol::Packet;
    ///
    /// assert_eq!(Packet::probe().encode_text().as_deref(), Some("2probe"));
    /// ```
    pub fn probe() -> Self {
        Packet::Ping(ByteString::from_static(PROBE))
    }

    /// The application's message this packet carries, if it is one: what is given back
    /// when a packet is never sent.
    ///
    /// ```
    /// use actix_engineio::protocol::{Packet, Payload};
    ///
    /// assert_eq!(Packet::text("hi").into_message(), Some(Payload::from("hi")));
    /// assert_eq!(Packet::Ping("".into()).into_message(), None);
    /// ```
    pub fn into_message(self) -> Option<Payload> {
        match self {
            Packet::Message(payload) => Some(payload),
            _ => None,
        }
    }

    /// Whether this is the server's answer to the upgrade probe, `3probe`.
    ///
    /// ```
    /// use actix_engineio::protocol::Packet;
    ///
    /// assert!(Packet::decode_text("3probe".into()).unwrap().is_probe_answer());
    /// assert!(!Packet::Pong("".into()).is_probe_answer()); // a heartbeat answer
    /// ```
    pub fn is_probe_answer(&self) -> bool {
        matches!(self, Packet::Pong(data) if data == PROBE)
    }

    /// The type of this packet.
    ///
    /// ```
    /// use actix_engineio::protocol::{Packet, PacketType};
    ///
    /// assert_eq!(Packet::Noop.packet_type(), PacketType::Noop);
    /// assert_eq!(Packet::text("x").packet_type().as_char(), '4');
    /// ```
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Open(_) => PacketType::Open,
            Packet::Close => PacketType::Close,
            Packet::Ping(_) => PacketType::Ping,
            Packet::Pong(_) => PacketType::Pong,
            Packet::Message(_) => PacketType::Message,
            Packet::Upgrade => PacketType::Upgrade,
            Packet::Noop => PacketType::Noop,
        }
    }

    /// Decodes a text packet: a type character followed by its data.
    ///
    /// The data of a message, ping or pong is a slice of `text`, not a copy.
    ///
    /// ```
    /// use actix_engineio::protocol::{Packet, ProtocolError};
    ///
    /// assert_eq!(Packet::decode_text("4".into()), Ok(Packet::text("")));
    /// assert_eq!(Packet::decode_text("".into()), Err(ProtocolError::EmptyPacket));
    /// ```
    pub fn decode_text(text: ByteString) -> Result<Self, ProtocolError> {
        let first = text.chars().next().ok_or(ProtocolError::EmptyPacket)?;
        let packet_type = PacketType::from_char(first)?;
        // The type characters are ASCII, so the data starts at byte 1.
        let data = || text.slice_ref(&text[1..]);
        Ok(match packet_type {
            PacketType::Open => Packet::Open(Box::new(Handshake::parse(&text[1..])?)),
            PacketType::Close => Packet::Close,
            PacketType::Ping => Packet::Ping(data()),
            PacketType::Pong => Packet::Pong(data()),
            PacketType::Message => Packet::Message(Payload::Text(data())),
            PacketType::Upgrade => Packet::Upgrade,
            PacketType::Noop => Packet::Noop,
        })
    }

    /// Encodes this packet as text, or `None` for a binary message, which has no
    /// text form of its own (see [`crate::protocol::frame`] and
    /// [`crate::protocol::polling`] for how each transport carries it).
    ///
    /// ```
    /// use actix_engineio::protocol::Packet;
    ///
    /// assert_eq!(Packet::Close.encode_text().as_deref(), Some("1"));
    /// assert_eq!(Packet::binary(vec![1]).encode_text(), None);
    /// ```
    pub fn encode_text(&self) -> Option<String> {
        let mut out = String::with_capacity(self.text_len()?);
        self.write_text(&mut out)?;
        Some(out)
    }

    /// Length of [`Packet::encode_text`], computed without encoding.
    pub(crate) fn text_len(&self) -> Option<usize> {
        let data_len = match self {
            Packet::Open(handshake) => handshake.to_json().len(),
            Packet::Ping(data) | Packet::Pong(data) => data.len(),
            Packet::Message(Payload::Text(text)) => text.len(),
            Packet::Message(Payload::Binary(_)) => return None,
            Packet::Close | Packet::Upgrade | Packet::Noop => 0,
        };
        Some(1 + data_len)
    }

    /// Appends the text form to `out`; `None` (and nothing written) for binary.
    pub(crate) fn write_text(&self, out: &mut String) -> Option<()> {
        if let Packet::Message(Payload::Binary(_)) = self {
            return None;
        }
        out.push(self.packet_type().as_char());
        match self {
            Packet::Open(handshake) => out.push_str(&handshake.to_json()),
            Packet::Ping(data) | Packet::Pong(data) => out.push_str(data),
            Packet::Message(Payload::Text(text)) => out.push_str(text),
            _ => {}
        }
        Some(())
    }
}

/// A short description for logs: the type and the size, never the whole data.
impl std::fmt::Display for Packet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Packet::Open(handshake) => write!(f, "open (sid {})", handshake.sid),
            Packet::Close => f.write_str("close"),
            Packet::Ping(data) => write!(f, "ping {:?}", truncate(data)),
            Packet::Pong(data) => write!(f, "pong {:?}", truncate(data)),
            Packet::Message(Payload::Text(text)) => write!(f, "message (text, {} B)", text.len()),
            Packet::Message(Payload::Binary(data)) => {
                write!(f, "message (binary, {} B)", data.len())
            }
            Packet::Upgrade => f.write_str("upgrade"),
            Packet::Noop => f.write_str("noop"),
        }
    }
}

fn truncate(text: &str) -> &str {
    let end = text.char_indices().nth(32).map_or(text.len(), |(i, _)| i);
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn decode(text: &str) -> Result<Packet, ProtocolError> {
        Packet::decode_text(text.into())
    }

    #[test]
    fn every_packet_type_decodes() {
        assert_eq!(decode("1"), Ok(Packet::Close));
        assert_eq!(decode("2"), Ok(Packet::Ping("".into())));
        assert_eq!(decode("3"), Ok(Packet::Pong("".into())));
        assert_eq!(decode("4hello"), Ok(Packet::text("hello")));
        assert_eq!(decode("5"), Ok(Packet::Upgrade));
        assert_eq!(decode("6"), Ok(Packet::Noop));
    }

    #[test]
    fn open_packet_carries_the_handshake() {
        let packet = decode(
            r#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
        )
        .unwrap();
        let Packet::Open(handshake) = packet else {
            panic!("not an open packet: {packet:?}")
        };
        assert_eq!(handshake.sid, "abc");
        assert_eq!(handshake.ping_interval, Duration::from_millis(25000));
    }

    #[test]
    fn empty_message_is_valid_and_empty() {
        assert_eq!(decode("4"), Ok(Packet::text("")));
        assert_eq!(Packet::text("").encode_text().as_deref(), Some("4"));
    }

    #[test]
    fn ping_data_is_echoed_by_pong() {
        assert_eq!(decode("2probe"), Ok(Packet::probe()));
        assert!(decode("3probe").unwrap().is_probe_answer());
        assert!(!decode("3").unwrap().is_probe_answer());
        assert_eq!(
            Packet::Pong("xyz".into()).encode_text().as_deref(),
            Some("3xyz")
        );
    }

    #[test]
    fn unknown_first_character_is_a_parse_error() {
        assert_eq!(decode(""), Err(ProtocolError::EmptyPacket));
        assert_eq!(decode("7"), Err(ProtocolError::UnknownPacketType('7')));
        assert_eq!(decode("b"), Err(ProtocolError::UnknownPacketType('b')));
        assert_eq!(decode("€4"), Err(ProtocolError::UnknownPacketType('€')));
    }

    #[test]
    fn multibyte_text_survives() {
        assert_eq!(decode("4€😀"), Ok(Packet::text("€😀")));
        assert_eq!(Packet::text("€😀").encode_text().as_deref(), Some("4€😀"));
    }

    #[test]
    fn decoded_data_shares_the_input_buffer() {
        let input = ByteString::from("4some message");
        let Packet::Message(Payload::Text(text)) = Packet::decode_text(input.clone()).unwrap()
        else {
            panic!("not a text message")
        };
        assert_eq!(text.as_ptr(), input[1..].as_ptr());
    }

    #[test]
    fn display_is_short() {
        assert_eq!(
            Packet::text("x".repeat(1000)).to_string(),
            "message (text, 1000 B)"
        );
        assert_eq!(Packet::probe().to_string(), "ping \"probe\"");
        let long_ping = Packet::Ping("€".repeat(100).into()).to_string();
        assert_eq!(long_ping.chars().filter(|c| *c == '€').count(), 32);
    }

    #[test]
    fn binary_message_has_no_text_form() {
        assert_eq!(Packet::binary(vec![1, 2]).encode_text(), None);
    }
}
