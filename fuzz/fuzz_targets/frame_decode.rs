//! Websocket frames (docs/protocol.md section 5): arbitrary bytes as a binary frame, and
//! as a text frame when they are UTF-8. Decoding must not panic; a decoded packet
//! encodes to a frame that decodes to the same packet.

#![no_main]

use actix_engineio::protocol::{frame, Frame, Packet, Payload};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

fn check(input: Frame) {
    let is_binary = matches!(input, Frame::Binary(_));
    let Ok(packet) = frame::decode(input.clone()) else {
        // Only a text frame can be malformed.
        assert!(!is_binary, "binary frame refused: {input:?}");
        return;
    };
    if let Frame::Binary(data) = &input {
        // A binary frame is always a message, byte for byte.
        assert_eq!(packet, Packet::Message(Payload::Binary(data.clone())));
    }
    let encoded = frame::encode(&packet);
    assert_eq!(frame::encoded_len(&packet), encoded.len(), "{packet:?}");
    let again = frame::decode(encoded.clone())
        .unwrap_or_else(|e| panic!("{packet:?} encoded as {encoded:?} does not decode: {e}"));
    assert_eq!(again, packet, "unstable: {input:?} -> {encoded:?}");
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check(Frame::Text(text.into()));
    }
    check(Frame::Binary(Bytes::copy_from_slice(data)));
});
