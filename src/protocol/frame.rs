//! Websocket frames: one packet per frame (the "Packet encoding" section of the
//! [Engine.IO v4 protocol](https://socket.io/docs/v4/engine-io-protocol/#packet-encoding)).
//!
//! A text frame is a text packet (`4hello`). A binary frame is a binary message as
//! it is, with no type byte, and is never split on `\x1e`. [`Frame`] shows a round trip.
//!
//! Protocol v3 differs only for binary: its binary frame starts with the type byte
//! `4` (the number, not the character). [`encode_for`], [`decode_for`] and
//! [`encoded_len_for`] take the version; [`encode`], [`decode`] and [`encoded_len`]
//! speak v4.

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

use super::polling_v3::{decode_text_packet, decode_v3_binary, write_v3_binary, V3_BINARY_MESSAGE};
use super::{Packet, Payload, ProtocolError, ProtocolVersion};

/// A websocket data frame, independent of any websocket library.
///
/// ```
/// use actix_engineio::protocol::{frame, Frame, Packet};
///
/// let frame = frame::encode(&Packet::text("hi"));
/// assert_eq!(frame, Frame::Text("4hi".into()));
/// assert_eq!(frame::decode(frame).unwrap(), Packet::text("hi"));
///
/// let binary = Frame::Binary(vec![0x1e, 0].into());
/// assert_eq!(frame::decode(binary).unwrap(), Packet::binary(vec![0x1e, 0]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame holding one text packet.
    Text(ByteString),
    /// A binary frame holding one binary message.
    Binary(Bytes),
}

impl Frame {
    /// Size of the frame's data in bytes.
    ///
    /// ```
    /// use actix_engineio::protocol::Frame;
    ///
    /// assert_eq!(Frame::Text("4€".into()).len(), 4);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            Frame::Text(text) => text.len(),
            Frame::Binary(data) => data.len(),
        }
    }

    /// Whether the frame carries no data: an empty binary message (an empty text
    /// frame is no packet at all).
    ///
    /// ```
    /// use actix_engineio::protocol::Frame;
    ///
    /// assert!(Frame::Binary(Default::default()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Encodes a packet as the frame that carries it over websocket.
///
/// Binary data is shared with the packet, not copied.
///
/// ```
/// use actix_engineio::protocol::{frame, Frame, Packet};
///
/// assert_eq!(frame::encode(&Packet::Upgrade), Frame::Text("5".into()));
/// // A binary message has no type byte over websocket.
/// assert_eq!(frame::encode(&Packet::binary(vec![7])), Frame::Binary(vec![7].into()));
/// ```
pub fn encode(packet: &Packet) -> Frame {
    encode_for(ProtocolVersion::V4, packet)
}

/// Encodes a packet as the frame that carries it over websocket in protocol `version`.
///
/// Text packets are the same in both versions. A v3 binary message is the type byte
/// `4` followed by the data (so the data is copied); a v4 one is the data, shared.
///
/// ```
/// use actix_engineio::protocol::{frame, Frame, Packet, ProtocolVersion::{V3, V4}};
///
/// let packet = Packet::binary(vec![1, 2]);
/// assert_eq!(frame::encode_for(V3, &packet), Frame::Binary(vec![4, 1, 2].into()));
/// assert_eq!(frame::encode_for(V4, &packet), Frame::Binary(vec![1, 2].into()));
/// assert_eq!(frame::encode_for(V3, &Packet::text("hi")), Frame::Text("4hi".into()));
/// ```
pub fn encode_for(version: ProtocolVersion, packet: &Packet) -> Frame {
    match (version, packet) {
        (ProtocolVersion::V4, Packet::Message(Payload::Binary(data))) => {
            Frame::Binary(data.clone())
        }
        (ProtocolVersion::V3, Packet::Message(Payload::Binary(data))) => {
            let mut out = BytesMut::with_capacity(1 + data.len());
            write_v3_binary(data, &mut out);
            Frame::Binary(out.freeze())
        }
        (_, other) => Frame::Text(other.encode_text().unwrap_or_default().into()),
    }
}

/// The data of a packet's frame in protocol `version`, as [`encode_for`] would put it
/// together, in parts: a transport that writes frames into a buffer of its own writes
/// `prefix` then `body` there, without building the frame first (no allocation, one
/// copy of the data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameParts<'a> {
    /// Whether it is a text frame (otherwise binary).
    pub text: bool,
    /// The byte before the body: the packet type character of a text frame, the type
    /// byte `4` of a v3 binary frame; none in a v4 binary frame.
    pub prefix: Option<u8>,
    /// The packet's data, shared with the packet.
    pub body: &'a [u8],
}

impl FrameParts<'_> {
    /// The frame's size in bytes.
    pub fn len(&self) -> usize {
        usize::from(self.prefix.is_some()) + self.body.len()
    }
}

/// `packet`'s frame in parts (see [`FrameParts`]); `None` for an open packet, whose
/// text is built (a client never sends one).
pub(crate) fn parts_for(version: ProtocolVersion, packet: &Packet) -> Option<FrameParts<'_>> {
    // The type characters are ASCII.
    let type_byte = packet.packet_type().as_char() as u8;
    let (text, prefix, body): (bool, Option<u8>, &[u8]) = match packet {
        Packet::Open(_) => return None,
        Packet::Message(Payload::Binary(data)) => match version {
            ProtocolVersion::V3 => (false, Some(V3_BINARY_MESSAGE), data),
            ProtocolVersion::V4 => (false, None, data),
        },
        Packet::Message(Payload::Text(text)) => (true, Some(type_byte), text.as_bytes()),
        Packet::Ping(data) | Packet::Pong(data) => (true, Some(type_byte), data.as_bytes()),
        Packet::Close | Packet::Upgrade | Packet::Noop => (true, Some(type_byte), &[]),
    };
    Some(FrameParts { text, prefix, body })
}

/// Size in bytes of the frame [`encode`] would produce for `packet`, without encoding
/// it: what a websocket message of this packet counts against `maxPayload`.
///
/// ```
/// use actix_engineio::protocol::{frame, Packet};
///
/// assert_eq!(frame::encoded_len(&Packet::text("hello")), 6); // "4hello"
/// assert_eq!(frame::encoded_len(&Packet::binary(vec![0; 10])), 10);
/// ```
pub fn encoded_len(packet: &Packet) -> usize {
    encoded_len_for(ProtocolVersion::V4, packet)
}

/// Size in bytes of the frame [`encode_for`] would produce, without encoding it.
///
/// ```
/// use actix_engineio::protocol::{frame, Packet, ProtocolVersion::{V3, V4}};
///
/// let packet = Packet::binary(vec![0; 10]);
/// assert_eq!(frame::encoded_len_for(V3, &packet), 11); // the type byte and the data
/// assert_eq!(frame::encoded_len_for(V4, &packet), 10);
/// ```
pub fn encoded_len_for(version: ProtocolVersion, packet: &Packet) -> usize {
    match packet {
        Packet::Message(Payload::Binary(data)) => match version {
            ProtocolVersion::V3 => 1 + data.len(),
            ProtocolVersion::V4 => data.len(),
        },
        other => other.text_len().unwrap_or_default(),
    }
}

/// Decodes a frame into the packet it carries.
///
/// A text frame holds exactly one packet, record separators and all; a binary frame
/// is always a binary message.
///
/// ```
/// use actix_engineio::protocol::{frame, Frame, Packet};
///
/// assert_eq!(frame::decode(Frame::Text("3probe".into())), Ok(Packet::Pong("probe".into())));
/// assert_eq!(frame::decode(Frame::Text("4a\x1e4b".into())), Ok(Packet::text("a\x1e4b")));
/// assert!(frame::decode(Frame::Text("".into())).is_err());
/// ```
pub fn decode(frame: Frame) -> Result<Packet, ProtocolError> {
    decode_for(ProtocolVersion::V4, frame)
}

/// Decodes a frame of protocol `version` into the packet it carries.
///
/// A v3 binary frame must start with the type byte `4`; the data after it is a slice
/// of the frame. A v3 text frame may also be a `b4`-prefixed base64 binary message,
/// which is how a v3 server sends binary to a client that asked for `b64=1`.
///
/// ```
/// use actix_engineio::protocol::{frame, Frame, Packet, ProtocolError, ProtocolVersion::V3};
///
/// assert_eq!(frame::decode_for(V3, Frame::Binary(vec![4, 1, 2].into())), Ok(Packet::binary(vec![1, 2])));
/// assert_eq!(frame::decode_for(V3, Frame::Text("b4AQI=".into())), Ok(Packet::binary(vec![1, 2])));
/// assert_eq!(frame::decode_for(V3, Frame::Binary(vec![2].into())), Err(ProtocolError::BinaryNotMessage(2)));
/// ```
pub fn decode_for(version: ProtocolVersion, frame: Frame) -> Result<Packet, ProtocolError> {
    match (version, frame) {
        (ProtocolVersion::V4, Frame::Text(text)) => Packet::decode_text(text),
        (ProtocolVersion::V4, Frame::Binary(data)) => Ok(Packet::Message(Payload::Binary(data))),
        (ProtocolVersion::V3, Frame::Text(text)) => decode_text_packet(text),
        (ProtocolVersion::V3, Frame::Binary(data)) => decode_v3_binary(data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_packets_become_text_frames() {
        assert_eq!(encode(&Packet::text("hello")), Frame::Text("4hello".into()));
        assert_eq!(encode(&Packet::probe()), Frame::Text("2probe".into()));
        assert_eq!(encode(&Packet::Upgrade), Frame::Text("5".into()));
        assert_eq!(encode(&Packet::Close), Frame::Text("1".into()));
    }

    #[test]
    fn binary_frames_have_no_type_byte_and_are_not_split() {
        let data = Bytes::from_static(b"\x04\x1e\x1e4hello\x00");
        let frame = encode(&Packet::binary(data.clone()));
        assert_eq!(frame, Frame::Binary(data.clone()));
        assert_eq!(decode(frame), Ok(Packet::binary(data)));
    }

    #[test]
    fn binary_encoding_shares_the_buffer() {
        let data = Bytes::from(vec![7u8; 64]);
        let Frame::Binary(out) = encode(&Packet::binary(data.clone())) else {
            panic!("not binary")
        };
        assert_eq!(out.as_ptr(), data.as_ptr());
    }

    #[test]
    fn text_with_record_separator_is_one_packet() {
        assert_eq!(
            decode(Frame::Text("4a\x1e4b".into())),
            Ok(Packet::text("a\x1e4b"))
        );
    }

    #[test]
    fn empty_frames() {
        assert_eq!(
            decode(Frame::Binary(Bytes::new())),
            Ok(Packet::binary(vec![]))
        );
        assert_eq!(
            decode(Frame::Text("".into())),
            Err(ProtocolError::EmptyPacket)
        );
    }

    #[test]
    fn encoded_len_matches_encode() {
        for packet in [
            Packet::text("€uro"),
            Packet::binary(vec![1, 2, 3]),
            Packet::Pong("probe".into()),
            Packet::Noop,
        ] {
            assert_eq!(encoded_len(&packet), encode(&packet).len());
        }
    }

    use crate::protocol::ProtocolVersion::{V3, V4};

    #[test]
    fn v3_binary_frames_start_with_the_type_byte() {
        // engine.io-parser 2 (Node engine.io 3) and python-engineio 3 both send a binary
        // message over websocket as the byte 4, then the data.
        let frame = Frame::Binary(Bytes::from_static(b"\x04\x01\x02\x03"));
        assert_eq!(
            decode_for(V3, frame.clone()),
            Ok(Packet::binary(vec![1, 2, 3]))
        );
        assert_eq!(encode_for(V3, &Packet::binary(vec![1, 2, 3])), frame);
        // The same frame read as v4 is a four-byte message.
        assert_eq!(decode_for(V4, frame), Ok(Packet::binary(vec![4, 1, 2, 3])));
        assert_eq!(
            decode_for(V3, Frame::Binary(Bytes::from_static(b"\x04"))),
            Ok(Packet::binary(vec![]))
        );
    }

    #[test]
    fn v3_text_frames_are_v4_text_frames() {
        for packet in [
            Packet::probe(),
            Packet::Pong("probe".into()),
            Packet::text("€😀\x1e"),
            Packet::Upgrade,
            Packet::Close,
            Packet::Noop,
        ] {
            assert_eq!(encode_for(V3, &packet), encode(&packet));
            assert_eq!(decode_for(V3, encode_for(V3, &packet)), Ok(packet));
        }
        // A server answering a client that asked for b64=1 sends binary as base64 text.
        assert_eq!(
            decode_for(V3, Frame::Text("b4AQID".into())),
            Ok(Packet::binary(vec![1, 2, 3]))
        );
    }

    #[test]
    fn malformed_v3_frames_are_typed_errors() {
        let binary = |data: &'static [u8]| Frame::Binary(Bytes::from_static(data));
        assert_eq!(decode_for(V3, binary(b"")), Err(ProtocolError::EmptyPacket));
        assert_eq!(
            decode_for(V3, binary(b"4hi")),
            Err(ProtocolError::BinaryNotMessage(b'4'))
        );
        assert_eq!(
            decode_for(V3, binary(b"\x02")),
            Err(ProtocolError::BinaryNotMessage(2))
        );
        assert_eq!(
            decode_for(V3, Frame::Text("b4*".into())),
            Err(ProtocolError::InvalidBase64)
        );
        assert_eq!(
            decode_for(V3, Frame::Text("".into())),
            Err(ProtocolError::EmptyPacket)
        );
    }

    #[test]
    fn frame_parts_put_together_are_the_encoded_frame() {
        let packets = [
            Packet::text("hello"),
            Packet::text(""),
            Packet::text("€😀\x1e"),
            Packet::binary(vec![]),
            Packet::binary(vec![4, 0x1e, 0, 255]),
            Packet::probe(),
            Packet::Ping("".into()),
            Packet::Pong("probe".into()),
            Packet::Close,
            Packet::Upgrade,
            Packet::Noop,
        ];
        for version in [V3, V4] {
            for packet in &packets {
                let parts = parts_for(version, packet).expect("not an open packet");
                let mut joined = parts.prefix.map(|b| vec![b]).unwrap_or_default();
                joined.extend_from_slice(parts.body);
                let (text, expected) = match encode_for(version, packet) {
                    Frame::Text(text) => (true, text.as_bytes().to_vec()),
                    Frame::Binary(data) => (false, data.to_vec()),
                };
                assert_eq!(
                    (parts.text, &joined),
                    (text, &expected),
                    "{version:?} {packet:?}"
                );
                assert_eq!(parts.len(), encoded_len_for(version, packet));
            }
        }
    }

    #[test]
    fn frame_parts_share_the_data() {
        let data = Bytes::from(vec![7u8; 64]);
        let packet = Packet::binary(data.clone());
        for version in [V3, V4] {
            let parts = parts_for(version, &packet).expect("a message");
            assert_eq!(parts.body.as_ptr(), data.as_ptr());
        }
    }

    #[test]
    fn v3_encoded_len_matches_encode() {
        for packet in [
            Packet::text("€uro"),
            Packet::binary(vec![]),
            Packet::binary(vec![1, 2, 3]),
            Packet::probe(),
        ] {
            assert_eq!(encoded_len_for(V3, &packet), encode_for(V3, &packet).len());
        }
    }
}
