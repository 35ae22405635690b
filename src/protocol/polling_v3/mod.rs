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
pub(crate) const V3_BINARY_MESSAGE: u8 = 4;

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
mod tests;
