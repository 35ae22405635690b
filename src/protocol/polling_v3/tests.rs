//! Unit tests of the v3 payload codecs.

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
