//! Property tests of the protocol v3 codecs (docs/protocol.md section 11): websocket
//! frames with the binary type byte, text payloads with UTF-16 lengths, binary
//! payloads, their costs and batching, and "never panics" for every v3 decoder.

use std::collections::VecDeque;

use actix_engineio::protocol::{
    can_carry_for, frame, polling, polling_v3, wire_len_for, Frame, Packet, Payload, ProtocolError,
    ProtocolVersion::V3, TransportKind,
};
use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use super::strategies::*;

/// The length prefix a JavaScript server writes: the string's `length`, in UTF-16
/// code units. Written from the protocol notes, not from the encoder.
fn js_length(record: &str) -> usize {
    record.encode_utf16().count()
}

/// A v3 body that is often close to valid: text records with right or wrong lengths,
/// binary records with markers, digits and 255 bytes, and junk.
fn v3ish_body() -> impl Strategy<Value = Vec<u8>> {
    let text_record = (any_text(), -2i64..=2).prop_map(|(t, skew)| {
        let record = format!("4{t}");
        let length = (js_length(&record) as i64 + skew).max(0);
        format!("{length}:{record}").into_bytes()
    });
    let binary_record = (select(vec![0u8, 1, 2]), vec(0u8..=10, 0..4), any_bytes()).prop_map(
        |(marker, digits, data)| {
            let mut out = vec![marker];
            out.extend(digits);
            out.push(255);
            out.push(4);
            out.extend(data);
            out
        },
    );
    prop_oneof![
        3 => vec(text_record, 0..5).prop_map(|r| r.concat()),
        3 => vec(binary_record, 0..5).prop_map(|r| r.concat()),
        1 => any::<Vec<u8>>(),
        1 => any_text().prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_packet_round_trips_through_a_v3_frame(packet in any_packet()) {
        let encoded = frame::encode_for(V3, &packet);
        prop_assert_eq!(encoded.len(), frame::encoded_len_for(V3, &packet));
        prop_assert_eq!(encoded.len(), wire_len_for(V3, TransportKind::WebSocket, &packet));
        prop_assert_eq!(frame::decode_for(V3, encoded), Ok(packet));
    }

    #[test]
    fn v3_binary_frame_is_type_byte_and_data(data in any_bytes()) {
        let mut expected = vec![4u8];
        expected.extend(&data);
        prop_assert_eq!(
            frame::encode_for(V3, &Packet::binary(data)),
            Frame::Binary(expected.into())
        );
    }

    #[test]
    fn text_payload_round_trip(packets in vec(any_packet(), 0..20)) {
        let body = polling_v3::encode_text(&packets);
        prop_assert_eq!(polling_v3::decode(body.into()), Ok(packets));
    }

    #[test]
    fn binary_payload_round_trip(packets in vec(any_packet(), 0..20)) {
        let body = polling_v3::encode_binary(&packets);
        let expected: usize = packets.iter().map(polling_v3::encoded_len).sum();
        prop_assert_eq!(body.len(), expected);
        prop_assert_eq!(polling_v3::decode(body.into()), Ok(packets));
    }

    #[test]
    fn text_lengths_are_javascript_lengths(text in any_text()) {
        let record = format!("4{text}");
        prop_assert_eq!(
            polling_v3::encode_text([&Packet::text(text.as_str())]),
            format!("{}:{record}", js_length(&record))
        );
    }

    #[test]
    fn binary_lengths_are_decimal_bytes(text in any_text()) {
        let body = polling_v3::encode_binary([&Packet::text(text.as_str())]);
        let length = 1 + text.len();
        let mut expected = vec![0u8];
        expected.extend(length.to_string().bytes().map(|d| d - b'0'));
        expected.push(255);
        expected.push(b'4');
        expected.extend(text.as_bytes());
        prop_assert_eq!(body, expected);
    }

    #[test]
    fn v3_carries_everything(packet in any_packet()) {
        prop_assert!(can_carry_for(V3, TransportKind::Polling, &packet));
        prop_assert!(polling_v3::can_carry(&packet));
        prop_assert_eq!(
            wire_len_for(V3, TransportKind::Polling, &packet),
            polling_v3::encode_binary([&packet]).len()
        );
    }

    #[test]
    fn v3_batches_drain_the_queue_in_order(
        packets in vec(any_packet(), 0..40),
        max in prop_oneof![3 => 1usize..64, 1 => 64usize..1024, 1 => Just(usize::MAX)],
    ) {
        let cap = polling::MAX_PACKETS_PER_PAYLOAD;
        let mut queue: VecDeque<Packet> = packets.iter().cloned().collect();
        let mut received = Vec::new();
        for _ in 0..=packets.len() {
            let Some(batch) = polling_v3::take_batch(&mut queue, max, cap) else { break };
            prop_assert_eq!(batch.wire_len, batch.len());
            let decoded = polling_v3::decode(batch.clone().into()).unwrap();
            prop_assert!(!decoded.is_empty() && decoded.len() <= cap);
            prop_assert!(batch.len() <= max || decoded.len() == 1);
            if let Some(next) = queue.front() {
                prop_assert!(
                    decoded.len() == cap || batch.len() + polling_v3::encoded_len(next) > max
                );
            }
            received.extend(decoded);
        }
        prop_assert!(queue.is_empty());
        prop_assert_eq!(received, packets);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn v3_payload_decode_never_panics_and_is_stable(body in v3ish_body()) {
        if let Ok(packets) = polling_v3::decode(body.into()) {
            let again = polling_v3::decode(polling_v3::encode_binary(&packets).into());
            prop_assert_eq!(again, Ok(packets.clone()));
            let again = polling_v3::decode(polling_v3::encode_text(&packets).into());
            prop_assert_eq!(again, Ok(packets));
        }
    }

    #[test]
    fn v3_frame_decode_never_panics_and_is_stable(
        frame in prop_oneof![
            any_text().prop_map(|t| Frame::Text(t.into())),
            any_text().prop_map(|t| Frame::Text(format!("b4{t}").into())),
            any::<Vec<u8>>().prop_map(|b| Frame::Binary(b.into())),
            any_bytes().prop_map(|b| Frame::Binary([&[4u8][..], &b].concat().into())),
        ]
    ) {
        if let Ok(packet) = frame::decode_for(V3, frame) {
            prop_assert_eq!(frame::decode_for(V3, frame::encode_for(V3, &packet)), Ok(packet));
        }
    }

    #[test]
    fn a_wrong_text_length_is_never_misread(text in any_text(), skew in 1usize..3) {
        // A length counted some other way (code points, UTF-8 bytes) either is the
        // right count or gives an error: never a different packet.
        let record = format!("4{text}");
        let right = js_length(&record);
        for length in [right.saturating_sub(skew), right + skew] {
            let body = format!("{length}:{record}");
            match polling_v3::decode(Bytes::from(body)) {
                Ok(packets) => prop_assert!(
                    packets.first() != Some(&Packet::Message(Payload::Text(record[1..].into())))
                        || length == right
                ),
                Err(error) => {
                    let typed = matches!(
                    error,
                    ProtocolError::LengthPastEnd { .. }
                        | ProtocolError::LengthSplitsCharacter
                        | ProtocolError::InvalidLength
                        | ProtocolError::UnterminatedLength
                        | ProtocolError::UnknownPacketType(_)
                        | ProtocolError::EmptyPacket
                        | ProtocolError::InvalidHandshake(_)
                        | ProtocolError::InvalidBase64
                        | ProtocolError::BinaryNotMessage(_)
                    );
                    prop_assert!(typed, "{:?}", error);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Fixed cases: bodies as the v3 servers send them
// ---------------------------------------------------------------------------

#[test]
fn node_engine_io_3_bodies() {
    // A message with an emoji: JavaScript's length of "4😀 ok" is 6.
    assert_eq!(
        polling_v3::decode(Bytes::from("6:4😀 ok")),
        Ok(vec![Packet::text("😀 ok")])
    );
    // Binary to a b64=1 client, then a ping.
    assert_eq!(
        polling_v3::decode(Bytes::from_static(b"10:b4AAEC/w==1:2")),
        Ok(vec![
            Packet::binary(vec![0, 1, 2, 255]),
            Packet::Ping("".into())
        ])
    );
}

#[test]
fn python_engineio_3_bodies() {
    // A text message and a binary one in a binary payload.
    let body = b"\x00\x06\xff4hello\x01\x04\xff\x04\x01\x02\x03";
    assert_eq!(
        polling_v3::decode(Bytes::from_static(body)),
        Ok(vec![Packet::text("hello"), Packet::binary(vec![1, 2, 3])])
    );
}
