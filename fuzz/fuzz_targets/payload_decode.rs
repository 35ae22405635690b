//! Polling payloads (docs/protocol.md section 4): arbitrary bytes as a response body.
//! Decoding must not panic; decoded packets encode to a payload that decodes to the
//! same packets.

#![no_main]

use actix_engineio::protocol::{polling, ProtocolError};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let result = polling::decode(Bytes::copy_from_slice(data));
    let Ok(text) = std::str::from_utf8(data) else {
        assert_eq!(result, Err(ProtocolError::InvalidUtf8));
        return;
    };
    let Ok(packets) = result else { return };
    // One packet per record, none for an empty body.
    let records = if text.is_empty() {
        0
    } else {
        text.split('\x1e').count()
    };
    assert_eq!(packets.len(), records, "{text:?} -> {packets:?}");
    for packet in &packets {
        assert!(
            polling::can_carry(packet),
            "decoded {packet:?} cannot be carried"
        );
    }
    let body = polling::encode(&packets);
    let expected_len =
        packets.iter().map(polling::encoded_len).sum::<usize>() + packets.len().saturating_sub(1);
    assert_eq!(body.len(), expected_len, "{packets:?}");
    let again = polling::decode(Bytes::from(body.clone()))
        .unwrap_or_else(|e| panic!("{packets:?} encoded as {body:?} does not decode: {e}"));
    assert_eq!(again, packets, "unstable: {text:?} -> {body:?}");
});
