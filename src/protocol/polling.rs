//! Long-polling payloads: packets joined by the record separator (the "Packet
//! encoding" section of the
//! [Engine.IO v4 protocol](https://socket.io/docs/v4/engine-io-protocol/#packet-encoding)).
//!
//! A text packet goes as it is (`4hello`); a binary message goes as `b` followed by
//! its base64, with no type character (`bAQIDBA==`).
//!
//! ```
//! use actix_engineio::protocol::{polling, Packet};
//!
//! // A handshake response that carries a first message along.
//! let body = "0{\"sid\":\"s\",\"pingInterval\":25000,\"pingTimeout\":20000}\x1e4welcome";
//! let packets = polling::decode(body.into()).unwrap();
//! assert!(matches!(&packets[0], Packet::Open(handshake) if handshake.sid == "s"));
//! assert_eq!(packets[1], Packet::text("welcome"));
//! ```

use std::collections::VecDeque;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine as _};
use bytes::Bytes;
use bytestring::ByteString;

use super::{Packet, Payload, ProtocolError};

/// The character between two packets of a payload.
///
/// ```
/// use actix_engineio::protocol::polling::{self, RECORD_SEPARATOR};
///
/// let body = "4a\x1e4b\x1e2";
/// assert_eq!(body.split(RECORD_SEPARATOR).count(), polling::decode(body.into()).unwrap().len());
/// ```
pub const RECORD_SEPARATOR: char = '\x1e';

/// The most packets the client puts in one POST by default: python-engineio's server
/// silently drops a POST holding more than 16 packets while answering 200.
/// [`SessionBuilder::max_packets_per_post`](crate::SessionBuilder::max_packets_per_post)
/// changes it for servers that accept more.
///
/// ```
/// use std::collections::VecDeque;
/// use actix_engineio::protocol::{polling, Packet};
///
/// let mut queue: VecDeque<_> = (0..20).map(|_| Packet::text("x")).collect();
/// polling::take_batch(&mut queue, 1_000_000, polling::MAX_PACKETS_PER_PAYLOAD);
/// assert_eq!(queue.len(), 4); // 16 went in the first POST
/// ```
pub const MAX_PACKETS_PER_PAYLOAD: usize = 16;

/// Standard base64; padding is written, and accepted or not when read.
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Size in bytes of `packet` inside a payload, separators not counted: what a POST
/// of this packet alone counts against `maxPayload`.
///
/// ```
/// use actix_engineio::protocol::{polling, Packet};
///
/// assert_eq!(polling::encoded_len(&Packet::text("hello")), 6); // "4hello"
/// assert_eq!(polling::encoded_len(&Packet::binary(vec![1, 2, 3, 4])), 9); // "bAQIDBA=="
/// ```
pub fn encoded_len(packet: &Packet) -> usize {
    match packet {
        Packet::Message(Payload::Binary(data)) => 1 + data.len().div_ceil(3) * 4,
        other => other.text_len().unwrap_or_default(),
    }
}

/// Whether `packet` survives a trip through a payload: text or ping data containing
/// the record separator would be cut in two, so it can only travel over websocket.
///
/// ```
/// use actix_engineio::protocol::{polling, Packet};
///
/// assert!(polling::can_carry(&Packet::text("plain")));
/// assert!(!polling::can_carry(&Packet::text("a\x1eb")));
/// assert!(polling::can_carry(&Packet::binary(vec![0x1e]))); // base64 has no \x1e
/// ```
pub fn can_carry(packet: &Packet) -> bool {
    match packet {
        Packet::Message(Payload::Text(text)) | Packet::Ping(text) | Packet::Pong(text) => {
            !text.contains(RECORD_SEPARATOR)
        }
        _ => true,
    }
}

/// Encodes packets into one payload.
///
/// ```
/// use actix_engineio::protocol::{polling, Packet};
///
/// let body = polling::encode(&[Packet::text("hello"), Packet::Ping("".into()), Packet::binary(vec![1, 2, 3, 4])]);
/// assert_eq!(body, "4hello\x1e2\x1ebAQIDBA==");
/// ```
pub fn encode<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> String {
    let mut out = String::new();
    for (i, packet) in packets.into_iter().enumerate() {
        if i > 0 {
            out.push(RECORD_SEPARATOR);
        }
        write_packet(packet, &mut out);
    }
    out
}

fn write_packet(packet: &Packet, out: &mut String) {
    match packet {
        Packet::Message(Payload::Binary(data)) => {
            out.push('b');
            BASE64.encode_string(data, out);
        }
        other => {
            other.write_text(out);
        }
    }
}

/// One POST's worth of packets, encoded: what [`take_batch`] gives. Derefs to the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The payload to POST.
    pub body: String,
    /// The sum of the packets' [`encoded_len`]: what the batch counts as written once
    /// the POST is answered (the body less its separators).
    pub wire_len: usize,
}

/// The body, ready for an HTTP client.
impl From<Batch> for Bytes {
    fn from(batch: Batch) -> Bytes {
        batch.body.into()
    }
}

impl std::ops::Deref for Batch {
    type Target = str;

    fn deref(&self) -> &str {
        &self.body
    }
}

/// Takes from the front of `queue` as many packets as fit in one POST and encodes them.
///
/// A batch holds at most `max_packets` packets (at least one; usually
/// [`MAX_PACKETS_PER_PAYLOAD`]) and at most `max_payload` bytes, except that a single
/// packet larger than `max_payload` goes alone (refusing it is the sender's decision,
/// not the encoder's). `None` when the queue is empty.
///
/// ```
/// use std::collections::VecDeque;
/// use actix_engineio::protocol::{polling, Packet};
///
/// let mut queue: VecDeque<_> = (0..3).map(|i| Packet::text(i.to_string())).collect();
/// let max_packets = polling::MAX_PACKETS_PER_PAYLOAD;
/// let first = polling::take_batch(&mut queue, 5, max_packets).unwrap();
/// assert_eq!((&*first, first.wire_len), ("40\x1e41", 4));
/// assert_eq!(polling::take_batch(&mut queue, 5, max_packets).as_deref(), Some("42"));
/// assert_eq!(polling::take_batch(&mut queue, 5, max_packets), None);
/// ```
pub fn take_batch(
    queue: &mut VecDeque<Packet>,
    max_payload: usize,
    max_packets: usize,
) -> Option<Batch> {
    let first = queue.front()?;
    let mut size = encoded_len(first);
    let mut count = 1;
    while let Some(next) = queue.get(count) {
        let grown = size + 1 + encoded_len(next);
        if count >= max_packets || grown > max_payload {
            break;
        }
        size = grown;
        count += 1;
    }
    let mut body = String::with_capacity(size);
    for (i, packet) in queue.drain(..count).enumerate() {
        if i > 0 {
            body.push(RECORD_SEPARATOR);
        }
        write_packet(&packet, &mut body);
    }
    // Every separator is one byte that no packet owns.
    let wire_len = size - (count - 1);
    Some(Batch { body, wire_len })
}

/// Decodes a response body into its packets, in order.
///
/// Text data is sliced out of `body`, not copied. An empty body holds no packets.
///
/// ```
/// use actix_engineio::protocol::{polling, Packet};
///
/// let packets = polling::decode("4hello\x1e2\x1ebAQIDBA==".into()).unwrap();
/// assert_eq!(packets, [Packet::text("hello"), Packet::Ping("".into()), Packet::binary(vec![1, 2, 3, 4])]);
/// ```
pub fn decode(body: Bytes) -> Result<Vec<Packet>, ProtocolError> {
    let body = ByteString::try_from(body).map_err(|_| ProtocolError::InvalidUtf8)?;
    if body.is_empty() {
        return Ok(Vec::new());
    }
    body.split(RECORD_SEPARATOR)
        .map(|part| decode_packet(body.slice_ref(part)))
        .collect()
}

fn decode_packet(part: ByteString) -> Result<Packet, ProtocolError> {
    match part.strip_prefix('b') {
        Some(encoded) => BASE64
            .decode(encoded)
            .map(Packet::binary)
            .map_err(|_| ProtocolError::InvalidBase64),
        None => Packet::decode_text(part),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_md_examples() {
        let packets = [
            Packet::text("hello"),
            Packet::Ping("".into()),
            Packet::text("world"),
        ];
        assert_eq!(encode(&packets), "4hello\x1e2\x1e4world");
        assert_eq!(decode("4hello\x1e2\x1e4world".into()).unwrap(), packets);
        assert_eq!(encode(&[Packet::binary(vec![1, 2, 3, 4])]), "bAQIDBA==");
    }

    #[test]
    fn handshake_with_trailing_packets() {
        let body = "0{\"sid\":\"s\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}\x1e4welcome";
        let packets = decode(Bytes::from(body)).unwrap();
        assert!(matches!(packets[0], Packet::Open(_)));
        assert_eq!(packets[1], Packet::text("welcome"));
    }

    #[test]
    fn empty_messages_and_empty_binary() {
        assert_eq!(
            decode("4\x1eb".into()).unwrap(),
            [Packet::text(""), Packet::binary(vec![])]
        );
        assert_eq!(
            encode(&[Packet::text(""), Packet::binary(vec![])]),
            "4\x1eb"
        );
    }

    #[test]
    fn unpadded_base64_is_accepted() {
        assert_eq!(
            decode("bAQIDBA".into()).unwrap(),
            [Packet::binary(vec![1, 2, 3, 4])]
        );
    }

    #[test]
    fn bad_parts_are_typed_errors() {
        assert_eq!(decode("b!!".into()), Err(ProtocolError::InvalidBase64));
        assert_eq!(decode("4a\x1e".into()), Err(ProtocolError::EmptyPacket));
        assert_eq!(
            decode("4a\x1ex".into()),
            Err(ProtocolError::UnknownPacketType('x'))
        );
        assert_eq!(
            decode(Bytes::from_static(b"4\xff")),
            Err(ProtocolError::InvalidUtf8)
        );
    }

    #[test]
    fn empty_body_holds_no_packets() {
        assert_eq!(decode(Bytes::new()).unwrap(), []);
    }

    #[test]
    fn more_than_sixteen_packets_are_decoded() {
        let body = vec!["4x"; 40].join("\x1e");
        assert_eq!(decode(body.into()).unwrap().len(), 40);
    }

    #[test]
    fn batches_stop_at_sixteen_packets() {
        let mut queue: VecDeque<_> = (0..40).map(|_| Packet::text("x")).collect();
        let sizes: Vec<usize> =
            std::iter::from_fn(|| take_batch(&mut queue, 1_000_000, MAX_PACKETS_PER_PAYLOAD))
                .map(|body| decode(body.into()).unwrap().len())
                .collect();
        assert_eq!(sizes, [16, 16, 8]);
    }

    #[test]
    fn the_packet_cap_can_be_raised() {
        let mut queue: VecDeque<_> = (0..40).map(|_| Packet::text("x")).collect();
        let body = take_batch(&mut queue, 1_000_000, 100).unwrap();
        assert_eq!(decode(body.into()).unwrap().len(), 40);
    }

    #[test]
    fn batches_respect_max_payload() {
        let mut queue: VecDeque<_> = (0..10).map(|_| Packet::text("123456789")).collect();
        // Each packet is 10 bytes, 21 with a separator and a second packet.
        while let Some(body) = take_batch(&mut queue, 21, MAX_PACKETS_PER_PAYLOAD) {
            assert!(body.len() <= 21, "{body:?}");
            assert_eq!(decode(body.into()).unwrap().len(), 2);
        }
    }

    #[test]
    fn oversized_packet_goes_alone() {
        let mut queue: VecDeque<_> = [Packet::text("a".repeat(50)), Packet::text("b")].into();
        assert_eq!(
            take_batch(&mut queue, 10, MAX_PACKETS_PER_PAYLOAD)
                .unwrap()
                .len(),
            51
        );
        assert_eq!(
            take_batch(&mut queue, 10, MAX_PACKETS_PER_PAYLOAD).as_deref(),
            Some("4b")
        );
    }

    #[test]
    fn encoded_len_matches_encode() {
        for packet in [
            Packet::text("h€llo"),
            Packet::binary(vec![]),
            Packet::binary(vec![1]),
            Packet::binary(vec![1, 2]),
            Packet::binary(vec![1, 2, 3]),
            Packet::binary(vec![1, 2, 3, 4]),
            Packet::Close,
        ] {
            assert_eq!(encoded_len(&packet), encode([&packet]).len(), "{packet:?}");
        }
    }

    #[test]
    fn record_separator_in_text_cannot_travel() {
        assert!(!can_carry(&Packet::text("a\x1eb")));
        assert!(can_carry(&Packet::text("ab")));
        assert!(can_carry(&Packet::binary(vec![0x1e])));
        assert!(!can_carry(&Packet::Pong("a\x1e4b".into())));
    }
}
