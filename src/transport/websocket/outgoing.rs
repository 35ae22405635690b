//! What the websocket codec writes: a packet's frame goes straight into the codec's
//! write buffer, its type character (or v3 type byte) and its data copied there once
//! and masked in place, instead of a `4`+text string built per message and then
//! copied by actix-http's codec.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use actix_http::ws::{Message as WsMessage, OpCode};
use bytes::{BufMut, BytesMut};

use crate::protocol::frame::FrameParts;
use crate::protocol::{Packet, ProtocolVersion};

/// An item for the codec: a packet of the session, or a frame of the socket's own.
pub(crate) enum WsOut {
    /// Packets of protocol `version`, in order, each encoded into the write buffer as
    /// its frame.
    Packets(Vec<Packet>, ProtocolVersion),
    /// A control frame (pong, close), or a message already put together.
    Message(WsMessage),
}

/// The masking keys of a client's frames (RFC 6455 5.3: "MUST pick a fresh masking key
/// for each frame", unpredictable to the application). Keys are SipHash, keyed at
/// random once per socket by the standard library, of a counter, two keys per hash: a
/// keyed PRF, as unpredictable as `rand`'s thread generator that actix-http uses, with
/// no dependency, at about the same cost per frame.
pub(crate) struct MaskKeys {
    keys: RandomState,
    counter: u64,
    /// The second key of the last hash, not used yet.
    spare: Option<[u8; 4]>,
}

impl MaskKeys {
    pub fn new() -> Self {
        MaskKeys {
            keys: RandomState::new(),
            counter: 0,
            spare: None,
        }
    }

    /// A fresh key.
    pub fn next(&mut self) -> [u8; 4] {
        if let Some(key) = self.spare.take() {
            return key;
        }
        self.counter = self.counter.wrapping_add(1);
        let [a, b, c, d, e, f, g, h] = self.keys.hash_one(self.counter).to_ne_bytes();
        self.spare = Some([e, f, g, h]);
        [a, b, c, d]
    }
}

/// Payloads shorter than this have their length in the frame's second byte.
const SHORT_LEN: usize = 126;

/// Writes one final (FIN), masked client frame of `opcode` whose payload is `parts`:
/// the same bytes as actix-http's `Parser::write_message` writes for the payload put
/// together, with `mask` as the masking key.
pub(crate) fn write_frame(
    dst: &mut BytesMut,
    opcode: OpCode,
    parts: FrameParts<'_>,
    mask: [u8; 4],
) {
    const FIN: u8 = 0x80;
    const MASKED: u8 = 0x80;
    let len = parts.len();
    // Header (at most 10 bytes), key, payload: one reservation.
    dst.reserve(14 + len);
    dst.put_u8(FIN | u8::from(opcode));
    if len < SHORT_LEN {
        dst.put_u8(MASKED | len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        dst.put_u8(MASKED | 126);
        dst.put_u16(len);
    } else {
        dst.put_u8(MASKED | 127);
        dst.put_u64(len as u64);
    }
    dst.put_slice(&mask);
    let start = dst.len();
    if let Some(prefix) = parts.prefix {
        dst.put_u8(prefix);
    }
    dst.put_slice(parts.body);
    apply_mask(&mut dst[start..], mask);
}

/// XORs `buf` with `mask` repeated (RFC 6455 5.3), eight bytes at a time.
fn apply_mask(buf: &mut [u8], mask: [u8; 4]) {
    let mut wide = [0u8; 8];
    wide[..4].copy_from_slice(&mask);
    wide[4..].copy_from_slice(&mask);
    let wide = u64::from_ne_bytes(wide);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    // Chunks of eight keep the key's phase: the tail starts at a multiple of four.
    for (byte, key) in chunks.into_remainder().iter_mut().zip(mask.iter().cycle()) {
        *byte ^= key;
    }
}

#[cfg(test)]
mod tests {
    use actix_codec::Decoder;
    use actix_http::ws::{Codec, Frame, Parser};
    use bytes::Bytes;

    use super::*;
    use crate::protocol::frame::parts_for;
    use crate::protocol::ProtocolVersion::{V3, V4};

    /// Reads `dst` as a server reads a client's frame (unmasking it).
    fn read_as_server(dst: &mut BytesMut) -> Frame {
        let mut server = Codec::new().max_size(1 << 20);
        let frame = server
            .decode(dst)
            .expect("a valid frame")
            .expect("a whole frame");
        assert!(dst.is_empty(), "bytes left after the frame");
        frame
    }

    #[test]
    fn a_frame_written_in_place_is_the_frame_actix_writes() {
        let mask = [0x6d, 0xb6, 0xb2, 0x80];
        // Around each length encoding: 7 bits, 16 bits, 64 bits.
        for len in [
            0, 1, 7, 8, 9, 124, 125, 126, 127, 65_534, 65_535, 65_536, 70_001,
        ] {
            let text: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            for version in [V3, V4] {
                for packet in [
                    Packet::text(text.as_str()),
                    Packet::binary(text.clone().into_bytes()),
                ] {
                    let parts = parts_for(version, &packet).expect("a message");
                    let opcode = if parts.text {
                        OpCode::Text
                    } else {
                        OpCode::Binary
                    };
                    let mut ours = BytesMut::new();
                    write_frame(&mut ours, opcode, parts, mask);

                    let mut joined = parts.prefix.map(|b| vec![b]).unwrap_or_default();
                    joined.extend_from_slice(parts.body);
                    let mut theirs = BytesMut::new();
                    Parser::write_message(&mut theirs, &joined, opcode, true, true);
                    // Same header; actix-http picks its own key, so compare unmasked.
                    let key_at = ours.len() - joined.len() - 4;
                    assert_eq!(ours[..key_at], theirs[..key_at], "{len} {version:?}");
                    assert_eq!(ours.len(), theirs.len());

                    let expected = Bytes::from(joined);
                    match read_as_server(&mut ours) {
                        Frame::Text(data) => assert!(parts.text && data == expected),
                        Frame::Binary(data) => assert!(!parts.text && data == expected),
                        other => panic!("{other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn the_mask_is_applied_at_every_offset() {
        let mask = [1, 2, 3, 4];
        for len in 0..40 {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut masked = data.clone();
            apply_mask(&mut masked, mask);
            let expected: Vec<u8> = data
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ mask[i % 4])
                .collect();
            assert_eq!(masked, expected, "{len}");
        }
    }

    #[test]
    fn masking_keys_change_from_frame_to_frame() {
        let mut keys = MaskKeys::new();
        let first: Vec<[u8; 4]> = (0..64).map(|_| keys.next()).collect();
        let mut distinct = first.clone();
        distinct.sort_unstable();
        distinct.dedup();
        // 64 draws from 2^32 repeat with probability under 1e-6.
        assert_eq!(distinct.len(), first.len());
        // Another socket's keys are another sequence (equal by chance once in 2^32).
        assert_ne!(MaskKeys::new().next(), MaskKeys::new().next());
    }
}
