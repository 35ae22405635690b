//! Long-polling payloads of protocol v3 (`docs/protocol.md` section 11).
//!
//! v3 has two payload formats, both length-prefixed, so that no text needs escaping:
//!
//! - **text** (`text/plain`): each packet as `<length>:<packet>`, the length counted
//!   in UTF-16 code units as the JavaScript servers count it (an emoji is 2). A
//!   binary message goes as `b4<base64>`. A server sends this when the batch holds
//!   no binary, or when the client asked for `b64=1`.
//! - **binary** (`application/octet-stream`): for each packet a byte `0` (text) or `1`
//!   (binary), the length in bytes as one byte per decimal digit, a byte `255`, then
//!   the packet: text in UTF-8, binary as the type byte `4` and the data.
//!
//! [`decode`] reads both (a binary payload starts with byte `0` or `1`, a text one
//! with a digit). The client asks for no `b64=1` and POSTs in the binary format
//! ([`take_batch`], [`encode_binary`]), whose lengths are bytes for every server;
//! [`encode_text`] is there for tests and servers.
//!
//! ```
//! use actix_engineio::protocol::{polling_v3, Packet};
//!
//! // A Node engine.io 3 server's handshake response with a Socket.IO connect message.
//! let body = r#"97:0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}2:40"#;
//! let packets = polling_v3::decode(body.into()).unwrap();
//! assert!(matches!(&packets[0], Packet::Open(handshake) if handshake.sid == "lv_VI97HAXpY6yYWAAAC"));
//! assert_eq!(packets[1], Packet::text("0"));
//! ```

use std::collections::VecDeque;

use base64::engine::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};
use bytestring::ByteString;

use super::polling::BASE64;
use super::{Packet, PacketType, Payload, ProtocolError};

/// The `Content-Type` of a binary payload: what a POST made by [`take_batch`] must
/// carry (Node's engine.io 3 reads any other POST body as text).
///
/// ```
/// use actix_engineio::protocol::polling_v3;
///
/// assert_eq!(polling_v3::BINARY_CONTENT_TYPE, "application/octet-stream");
/// ```
pub const BINARY_CONTENT_TYPE: &str = "application/octet-stream";

/// The byte that ends a length in a binary payload.
const LENGTH_END: u8 = 255;
/// The byte before a text packet in a binary payload.
const TEXT_MARKER: u8 = 0;
/// The byte before a binary packet in a binary payload.
const BINARY_MARKER: u8 = 1;
/// The type byte that starts a v3 binary packet (in a binary payload or a binary
/// websocket frame): a message, the only type servers send as binary.
const V3_BINARY_MESSAGE: u8 = 4;

/// Decodes a v3 response body, text or binary payload, into its packets, in order.
///
/// An empty body, `0:` (what a Node server sends for no packets) and zero-length
/// records of a text payload hold no packets. Text data is sliced out of `body`.
///
/// ```
/// use actix_engineio::protocol::{polling_v3, Packet, ProtocolError};
///
/// // Text: the emoji counts 2, as in JavaScript.
/// let packets = polling_v3::decode("6:4hello3:4😀6:b4AQI=".into()).unwrap();
/// assert_eq!(packets, [Packet::text("hello"), Packet::text("😀"), Packet::binary(vec![1, 2])]);
/// // Binary: "4hi" (length 3), then the binary message [4, 7] (length 2).
/// let body = b"\x00\x03\xff4hi\x01\x02\xff\x04\x07";
/// assert_eq!(polling_v3::decode(body[..].into()).unwrap(), [Packet::text("hi"), Packet::binary(vec![7])]);
/// assert_eq!(polling_v3::decode("0:".into()).unwrap(), []);
/// assert_eq!(polling_v3::decode("5:4hi".into()), Err(ProtocolError::LengthPastEnd { length: 5, available: 3 }));
/// ```
pub fn decode(body: Bytes) -> Result<Vec<Packet>, ProtocolError> {
    match body.first() {
        None => Ok(Vec::new()),
        Some(&first) if first <= BINARY_MARKER => decode_binary(body),
        Some(_) => decode_text(body),
    }
}

/// A text payload: `<length>:<packet>` repeated, lengths in UTF-16 code units.
fn decode_text(body: Bytes) -> Result<Vec<Packet>, ProtocolError> {
    let body = ByteString::try_from(body).map_err(|_| ProtocolError::InvalidUtf8)?;
    let text: &str = &body;
    let mut packets = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let rest = &text[pos..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest.as_bytes().get(digits) {
            Some(b':') => {}
            None => return Err(ProtocolError::UnterminatedLength),
            Some(_) => return Err(ProtocolError::InvalidLength),
        }
        let length = parse_length(rest.bytes().take(digits).map(|d| d - b'0'), digits)?;
        let start = pos + digits + 1;
        // Walk the characters, as JavaScript's `substr` does, in UTF-16 units.
        let (mut units, mut end) = (0, start);
        for c in text[start..].chars() {
            if units >= length {
                break;
            }
            units += c.len_utf16();
            end += c.len_utf8();
        }
        if units < length {
            return Err(ProtocolError::LengthPastEnd {
                length,
                available: units,
            });
        }
        if units > length {
            return Err(ProtocolError::LengthSplitsCharacter);
        }
        // Node writes `0:` for a batch of no packets and skips empty records.
        if length > 0 {
            packets.push(decode_text_packet(body.slice_ref(&text[start..end]))?);
        }
        pos = end;
    }
    Ok(packets)
}

/// A binary payload: marker byte, length digits, `255`, packet; lengths in bytes.
fn decode_binary(mut body: Bytes) -> Result<Vec<Packet>, ProtocolError> {
    let mut packets = Vec::new();
    while let Some(&marker) = body.first() {
        if marker > BINARY_MARKER {
            return Err(ProtocolError::InvalidMarker(marker));
        }
        let digits = body[1..]
            .iter()
            .position(|&b| b == LENGTH_END)
            .ok_or(ProtocolError::UnterminatedLength)?;
        let length_bytes = &body[1..1 + digits];
        if length_bytes.iter().any(|&d| d > 9) {
            return Err(ProtocolError::InvalidLength);
        }
        let length = parse_length(length_bytes.iter().copied(), digits)?;
        let start = 1 + digits + 1;
        let available = body.len() - start;
        if length > available {
            return Err(ProtocolError::LengthPastEnd { length, available });
        }
        let packet = body.slice(start..start + length);
        packets.push(if marker == TEXT_MARKER {
            let text = ByteString::try_from(packet).map_err(|_| ProtocolError::InvalidUtf8)?;
            Packet::decode_text(text)?
        } else {
            decode_v3_binary(packet)?
        });
        body = body.slice(start + length..);
    }
    Ok(packets)
}

/// The value of `count` decimal digits; none, or too many for a `usize`, is invalid.
fn parse_length(
    mut digits: impl Iterator<Item = u8>,
    count: usize,
) -> Result<usize, ProtocolError> {
    if count == 0 {
        return Err(ProtocolError::InvalidLength);
    }
    digits
        .try_fold(0usize, |n, d| {
            n.checked_mul(10)?.checked_add(usize::from(d))
        })
        .ok_or(ProtocolError::InvalidLength)
}

/// A v3 binary packet: the type byte, then the data. Shared with the v3 websocket frames.
pub(crate) fn decode_v3_binary(data: Bytes) -> Result<Packet, ProtocolError> {
    let (&first, _) = data.split_first().ok_or(ProtocolError::EmptyPacket)?;
    if first != V3_BINARY_MESSAGE {
        return Err(ProtocolError::BinaryNotMessage(first));
    }
    Ok(Packet::Message(Payload::Binary(data.slice(1..))))
}

/// The v3 binary form of a binary message's data: the type byte `4`, then the data.
pub(crate) fn write_v3_binary(data: &[u8], out: &mut impl BufMut) {
    out.put_u8(V3_BINARY_MESSAGE);
    out.put_slice(data);
}

/// One packet of a v3 text payload or text frame: a text packet, or `b4<base64>`.
pub(crate) fn decode_text_packet(text: ByteString) -> Result<Packet, ProtocolError> {
    let Some(rest) = text.strip_prefix('b') else {
        return Packet::decode_text(text);
    };
    let first = rest.chars().next().ok_or(ProtocolError::EmptyPacket)?;
    let packet_type = PacketType::from_char(first)?;
    if packet_type != PacketType::Message {
        // A valid type character is an ASCII digit.
        return Err(ProtocolError::BinaryNotMessage(first as u8 - b'0'));
    }
    BASE64
        .decode(&rest[1..])
        .map(Packet::binary)
        .map_err(|_| ProtocolError::InvalidBase64)
}

/// Encodes packets into a v3 text payload: `<length>:<packet>` each, lengths in UTF-16
/// code units, binary as `b4<base64>`. What a server sends; the client POSTs
/// [`encode_binary`].
///
/// ```
/// use actix_engineio::protocol::{polling_v3, Packet};
///
/// let body = polling_v3::encode_text(&[Packet::text("hello"), Packet::text("€😀"), Packet::binary(vec![1, 2])]);
/// assert_eq!(body, "6:4hello4:4€😀6:b4AQI=");
/// ```
pub fn encode_text<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> String {
    let mut out = String::new();
    for packet in packets {
        let record = match packet {
            Packet::Message(Payload::Binary(data)) => {
                let mut record = String::from("b4");
                BASE64.encode_string(data, &mut record);
                record
            }
            other => other.encode_text().unwrap_or_default(),
        };
        out.push_str(&record.encode_utf16().count().to_string());
        out.push(':');
        out.push_str(&record);
    }
    out
}

/// Encodes packets into a v3 binary payload, what the client POSTs (with the
/// [`BINARY_CONTENT_TYPE`]).
///
/// ```
/// use actix_engineio::protocol::{polling_v3, Packet};
///
/// let body = polling_v3::encode_binary(&[Packet::text("h€"), Packet::binary(vec![7])]);
/// // "4h€" is 5 bytes; the binary message is 2 bytes: type 4 and 7.
/// assert_eq!(body, b"\x00\x05\xff4h\xe2\x82\xac\x01\x02\xff\x04\x07");
/// ```
pub fn encode_binary<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> Vec<u8> {
    let mut out = Vec::new();
    for packet in packets {
        write_binary_record(packet, &mut out);
    }
    out
}

fn write_binary_record(packet: &Packet, out: &mut impl BufMut) {
    let (marker, length) = record_length(packet);
    out.put_u8(marker);
    for digit in length.to_string().bytes() {
        out.put_u8(digit - b'0');
    }
    out.put_u8(LENGTH_END);
    match packet {
        Packet::Message(Payload::Binary(data)) => write_v3_binary(data, out),
        other => {
            let mut text = String::with_capacity(length);
            other.write_text(&mut text);
            out.put_slice(text.as_bytes());
        }
    }
}

/// The marker and the byte length of a packet in a binary payload.
fn record_length(packet: &Packet) -> (u8, usize) {
    match packet {
        Packet::Message(Payload::Binary(data)) => (BINARY_MARKER, 1 + data.len()),
        other => (TEXT_MARKER, other.text_len().unwrap_or_default()),
    }
}

/// Size in bytes of `packet` in the binary payload the client POSTs, its marker and
/// length included: what a POST of this packet alone weighs. A binary payload has no
/// separators, so a batch weighs the sum of its packets.
///
/// ```
/// use actix_engineio::protocol::{polling_v3, Packet};
///
/// assert_eq!(polling_v3::encoded_len(&Packet::text("hello")), 9); // 0, 6, 255, "4hello"
/// assert_eq!(polling_v3::encoded_len(&Packet::binary(vec![0; 9])), 14); // 1, 1, 0, 255, 4, data
/// ```
pub fn encoded_len(packet: &Packet) -> usize {
    let (_, length) = record_length(packet);
    let digits = length.checked_ilog10().map_or(1, |d| d as usize + 1);
    1 + digits + 1 + length
}

/// Whether `packet` survives a trip through a v3 payload: always, since every packet is
/// length-prefixed (unlike v4, where `\x1e` in text would split it).
///
/// ```
/// use actix_engineio::protocol::{polling_v3, Packet};
///
/// assert!(polling_v3::can_carry(&Packet::text("a\x1eb")));
/// ```
pub fn can_carry(_packet: &Packet) -> bool {
    true
}

/// One POST's worth of packets as a v3 binary payload: what [`take_batch`] gives.
/// Derefs to the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The payload to POST, with the [`BINARY_CONTENT_TYPE`].
    pub body: Bytes,
    /// The sum of the packets' [`encoded_len`]: what the batch counts as written once
    /// the POST is answered (the whole body, as a binary payload has no separators).
    pub wire_len: usize,
}

/// The body, ready for an HTTP client.
impl From<Batch> for Bytes {
    fn from(batch: Batch) -> Bytes {
        batch.body
    }
}

impl std::ops::Deref for Batch {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.body
    }
}

/// Takes from the front of `queue` as many packets as fit in one POST and encodes them
/// as a binary payload; the rules of [`polling::take_batch`](super::polling::take_batch):
/// at most `max_packets` (at least one) and at most `max_payload` bytes, except a
/// single larger packet, which goes alone. `None` when the queue is empty.
///
/// ```
/// use std::collections::VecDeque;
/// use actix_engineio::protocol::{polling, polling_v3, Packet};
///
/// let mut queue: VecDeque<_> = (0..3).map(|i| Packet::text(i.to_string())).collect();
/// let max_packets = polling::MAX_PACKETS_PER_PAYLOAD;
/// let first = polling_v3::take_batch(&mut queue, 10, max_packets).unwrap();
/// assert_eq!((&*first, first.wire_len), (&b"\x00\x02\xff40\x00\x02\xff41"[..], 10));
/// assert_eq!(polling_v3::take_batch(&mut queue, 10, max_packets).unwrap().wire_len, 5);
/// assert_eq!(polling_v3::take_batch(&mut queue, 10, max_packets), None);
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
        let grown = size + encoded_len(next);
        if count >= max_packets || grown > max_payload {
            break;
        }
        size = grown;
        count += 1;
    }
    let mut body = BytesMut::with_capacity(size);
    for packet in queue.drain(..count) {
        write_binary_record(&packet, &mut body);
    }
    Some(Batch {
        body: body.freeze(),
        wire_len: size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::DEFAULT_MAX_PAYLOAD;
    use std::time::Duration;

    fn decode_str(body: &str) -> Result<Vec<Packet>, ProtocolError> {
        decode(Bytes::copy_from_slice(body.as_bytes()))
    }

    fn every_packet() -> Vec<Packet> {
        vec![
            Packet::Close,
            Packet::Ping("".into()),
            Packet::probe(),
            Packet::Pong("probe".into()),
            Packet::text("hello"),
            Packet::text(""),
            Packet::text("€😀 and \x1e"),
            Packet::binary(vec![]),
            Packet::binary(vec![0, 1, 255, 0x1e]),
            Packet::Upgrade,
            Packet::Noop,
        ]
    }

    /// The handshake response of Node engine.io 3.6.2 (`JSON.stringify` of sid,
    /// upgrades, pingInterval, pingTimeout; its defaults), with a Socket.IO 2 connect
    /// message after it, as a client without `b64=1` gets it when nothing is binary.
    const NODE_HANDSHAKE: &str = r#"97:0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}2:40"#;

    /// The handshake response of python-engineio 3.14.2 to a client without `b64=1`: a
    /// binary payload (marker 0, length 109 as the bytes 1 0 9, then 255), the JSON with
    /// its keys in the server's order and a uuid4 hex sid.
    const PYTHON_HANDSHAKE: &[u8] = b"\x00\x01\x00\x09\xff0{\"sid\":\"3f1b9d0c6f2e4a6f8b7e2d1c0a9b8c7d\",\"upgrades\":[\"websocket\"],\"pingTimeout\":60000,\"pingInterval\":25000}";

    #[test]
    fn node_handshake_decodes() {
        let packets = decode_str(NODE_HANDSHAKE).unwrap();
        let Packet::Open(handshake) = &packets[0] else {
            panic!("not an open packet: {packets:?}")
        };
        assert_eq!(handshake.sid, "lv_VI97HAXpY6yYWAAAC");
        assert_eq!(handshake.ping_timeout, Duration::from_millis(20000));
        // No maxPayload in v3: the v4 default, which Node engine.io 3.6 accepts.
        assert_eq!(handshake.max_payload, DEFAULT_MAX_PAYLOAD);
        assert_eq!(packets[1], Packet::text("0"));
    }

    #[test]
    fn python_handshake_decodes() {
        let packets = decode(Bytes::from_static(PYTHON_HANDSHAKE)).unwrap();
        let [Packet::Open(handshake)] = &packets[..] else {
            panic!("not one open packet: {packets:?}")
        };
        assert_eq!(handshake.sid, "3f1b9d0c6f2e4a6f8b7e2d1c0a9b8c7d");
        assert_eq!(handshake.ping_interval, Duration::from_secs(25));
        assert_eq!(handshake.ping_timeout, Duration::from_secs(60));
        assert!(handshake.allows_websocket_upgrade());
    }

    #[test]
    fn server_binary_examples() {
        // Node engine.io 3 with b64=1 (or python-engineio 3 with b64=1): base64 in text.
        assert_eq!(
            decode_str("6:b4AQID2:4x").unwrap(),
            [Packet::binary(vec![1, 2, 3]), Packet::text("x")]
        );
        // Without b64=1, a batch holding binary: both servers send a binary payload.
        assert_eq!(
            decode(Bytes::from_static(
                b"\x00\x02\xff4x\x01\x04\xff\x04\x01\x02\x03"
            ))
            .unwrap(),
            [Packet::text("x"), Packet::binary(vec![1, 2, 3])]
        );
    }

    #[test]
    fn every_packet_round_trips_in_both_formats() {
        let packets = every_packet();
        assert_eq!(decode_str(&encode_text(&packets)).unwrap(), packets);
        assert_eq!(decode(encode_binary(&packets).into()).unwrap(), packets);
        for packet in &packets {
            assert_eq!(
                decode_str(&encode_text([packet])).unwrap(),
                std::slice::from_ref(packet)
            );
            assert_eq!(
                decode(encode_binary([packet]).into()).unwrap(),
                std::slice::from_ref(packet)
            );
        }
    }

    #[test]
    fn text_lengths_count_utf16_units() {
        assert_eq!(encode_text(&[Packet::text("😀")]), "3:4😀");
        assert_eq!(encode_text(&[Packet::text("€")]), "2:4€");
        assert_eq!(
            decode_str("3:4😀2:4€").unwrap(),
            [Packet::text("😀"), Packet::text("€")]
        );
        // Counting code points (2) or UTF-8 bytes (5) instead is caught, not misread.
        assert_eq!(
            decode_str("2:4😀"),
            Err(ProtocolError::LengthSplitsCharacter)
        );
        assert_eq!(
            decode_str("5:4😀"),
            Err(ProtocolError::LengthPastEnd {
                length: 5,
                available: 3
            })
        );
    }

    #[test]
    fn binary_lengths_count_bytes() {
        assert_eq!(
            encode_binary(&[Packet::text("😀")]),
            b"\x00\x05\xff4\xf0\x9f\x98\x80"
        );
        let long = Packet::binary(vec![9; 1234]);
        let body = encode_binary([&long]);
        assert_eq!(&body[..6], b"\x01\x01\x02\x03\x05\xff"); // 1235 bytes with the type
        assert_eq!(decode(body.into()).unwrap(), [long]);
    }

    #[test]
    fn empty_payloads_hold_no_packets() {
        assert_eq!(decode(Bytes::new()).unwrap(), []);
        assert_eq!(decode_str("0:").unwrap(), []);
        assert_eq!(decode_str("0:1:60:").unwrap(), [Packet::Noop]);
        assert_eq!(encode_text(&[]), "");
        assert_eq!(encode_binary(&[]), b"");
    }

    #[test]
    fn malformed_text_payloads_are_typed_errors() {
        use ProtocolError::*;
        for (body, error) in [
            ("4hello", InvalidLength), // a v4 body
            ("12", UnterminatedLength),
            (":4", InvalidLength),
            ("x:4", InvalidLength),
            ("1x:4", InvalidLength),
            ("-1:4", InvalidLength),
            ("99999999999999999999999:4", InvalidLength),
            (
                "2:4",
                LengthPastEnd {
                    length: 2,
                    available: 1,
                },
            ),
            ("1:4junk", InvalidLength),
            ("1:4:", InvalidLength),
            ("1:9", UnknownPacketType('9')),
            ("3:b4!", InvalidBase64),
            ("1:b", EmptyPacket),
            ("3:b2A", BinaryNotMessage(2)),
            ("3:bxA", UnknownPacketType('x')),
        ] {
            assert_eq!(decode_str(body), Err(error), "{body:?}");
        }
        assert!(matches!(decode_str("2:0{"), Err(InvalidHandshake(_))));
        assert_eq!(decode(Bytes::from_static(b"2:4\xff")), Err(InvalidUtf8));
    }

    #[test]
    fn malformed_binary_payloads_are_typed_errors() {
        use ProtocolError::*;
        for (body, error) in [
            (&b"\x00"[..], UnterminatedLength),
            (b"\x00\x01\x02", UnterminatedLength),
            (b"\x00\xff", InvalidLength),
            (b"\x00\x0a\xff4", InvalidLength),
            (
                b"\x00\x05\xff4hi",
                LengthPastEnd {
                    length: 5,
                    available: 3,
                },
            ),
            (b"\x00\x01\xff4\x02\x01\xff4", InvalidMarker(2)),
            (b"\x00\x00\xff", EmptyPacket),
            (b"\x00\x02\xff4\xff", InvalidUtf8),
            (b"\x01\x00\xff", EmptyPacket),
            (b"\x01\x02\xff\x02x", BinaryNotMessage(2)),
            (b"\x01\x02\xff4x", BinaryNotMessage(b'4')),
        ] {
            assert_eq!(decode(Bytes::from_static(body)), Err(error), "{body:?}");
        }
        let huge: Vec<u8> = [0].into_iter().chain([9; 40]).chain([255]).collect();
        assert_eq!(decode(huge.into()), Err(InvalidLength));
    }

    #[test]
    fn decoded_text_shares_the_input_buffer() {
        let body = Bytes::from_static(b"6:4hello");
        let packets = decode(body.clone()).unwrap();
        let Packet::Message(Payload::Text(text)) = &packets[0] else {
            panic!("not text")
        };
        assert_eq!(text.as_ptr(), body[3..].as_ptr());
    }

    #[test]
    fn encoded_len_matches_encode_binary() {
        for packet in every_packet()
            .into_iter()
            .chain([Packet::text("x".repeat(8)), Packet::binary(vec![0; 99])])
        {
            assert_eq!(
                encoded_len(&packet),
                encode_binary([&packet]).len(),
                "{packet:?}"
            );
        }
    }

    #[test]
    fn batches_weigh_their_whole_body() {
        let mut queue: VecDeque<_> = every_packet().into();
        let all = encode_binary(queue.iter());
        let batch = take_batch(&mut queue, usize::MAX, 100).unwrap();
        assert_eq!((&*batch, batch.wire_len), (&all[..], all.len()));
        assert!(queue.is_empty());
    }

    #[test]
    fn batches_respect_the_caps() {
        let mut queue: VecDeque<_> = (0..40).map(|_| Packet::text("x")).collect();
        let sizes: Vec<usize> = std::iter::from_fn(|| take_batch(&mut queue, 1_000_000, 16))
            .map(|batch| decode(batch.into()).unwrap().len())
            .collect();
        assert_eq!(sizes, [16, 16, 8]);
        // Each packet weighs 5 bytes: two fit in 10.
        let mut queue: VecDeque<_> = (0..5).map(|_| Packet::text("x")).collect();
        while let Some(batch) = take_batch(&mut queue, 10, 16) {
            assert!(batch.len() <= 10);
        }
        // A packet larger than the cap goes alone.
        let mut queue: VecDeque<_> = [Packet::text("a".repeat(50)), Packet::text("b")].into();
        assert_eq!(take_batch(&mut queue, 10, 16).unwrap().wire_len, 55);
        assert_eq!(take_batch(&mut queue, 10, 16).unwrap().wire_len, 5);
    }
}
