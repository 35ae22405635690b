//! Websocket frames: one packet per frame (the "Packet encoding" section of the
//! [Engine.IO v4 protocol](https://socket.io/docs/v4/engine-io-protocol/#packet-encoding)).
//!
//! A text frame is a text packet (`4hello`). A binary frame is a binary message as
//! it is, with no type byte, and is never split on `\x1e`. [`Frame`] shows a round trip.

use bytes::Bytes;
use bytestring::ByteString;

use super::{Packet, Payload, ProtocolError};

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
    match packet {
        Packet::Message(Payload::Binary(data)) => Frame::Binary(data.clone()),
        other => Frame::Text(other.encode_text().unwrap_or_default().into()),
    }
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
    match packet {
        Packet::Message(Payload::Binary(data)) => data.len(),
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
    match frame {
        Frame::Text(text) => Packet::decode_text(text),
        Frame::Binary(data) => Ok(Packet::Message(Payload::Binary(data))),
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
}
