//! Property tests of the pure protocol core (docs/protocol.md sections 2, 4 and 5, plus
//! the handshake of section 3 and the URLs of section 1).
//!
//! Round trips over websocket frames and polling payloads, the batching rules of
//! `polling::take_batch`, the handshake JSON, and "never panics" over arbitrary
//! input for every decoder and for `Endpoint::new`. The protocol v3 codecs have their
//! own file, `v3.rs` (docs/protocol.md section 11).

use std::collections::VecDeque;
use std::time::Duration;

use actix_engineio::protocol::{
    frame, polling, Endpoint, Frame, Handshake, Packet, Payload, ProtocolError,
};
use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

mod strategies;
mod v3;

use strategies::*;

// ---------------------------------------------------------------------------
// Websocket frames (docs/protocol.md section 5)
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn text_frame_round_trip(text in any_text()) {
        let frame = frame::encode(&Packet::text(text.as_str()));
        prop_assert_eq!(&frame, &Frame::Text(format!("4{text}").into()));
        let packet = frame::decode(frame).unwrap();
        prop_assert_eq!(packet, Packet::Message(Payload::Text(text.into())));
    }

    #[test]
    fn binary_frame_round_trip(data in any_bytes()) {
        let frame = frame::encode(&Packet::binary(data.clone()));
        // No type byte, never split: the frame is the bytes.
        prop_assert_eq!(&frame, &Frame::Binary(Bytes::from(data.clone())));
        let packet = frame::decode(frame).unwrap();
        prop_assert_eq!(packet, Packet::Message(Payload::Binary(data.into())));
    }

    #[test]
    fn every_packet_round_trips_through_a_frame(packet in any_packet()) {
        prop_assert_eq!(frame::decode(frame::encode(&packet)), Ok(packet));
    }

    #[test]
    fn frame_encoded_len_matches(packet in any_packet()) {
        prop_assert_eq!(frame::encoded_len(&packet), frame::encode(&packet).len());
    }
}

// ---------------------------------------------------------------------------
// Polling payloads (docs/protocol.md section 4)
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn payload_round_trip(packets in vec(carryable_packet(), 0..20)) {
        let body = polling::encode(&packets);
        prop_assert_eq!(decode_payload(body), Ok(packets));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn payload_encoded_len_matches(packet in any_packet()) {
        prop_assert_eq!(polling::encoded_len(&packet), polling::encode([&packet]).len());
    }

    #[test]
    fn payload_length_is_the_sum_of_its_packets(packets in vec(any_packet(), 0..10)) {
        let expected = packets.iter().map(polling::encoded_len).sum::<usize>()
            + packets.len().saturating_sub(1);
        prop_assert_eq!(polling::encode(&packets).len(), expected);
    }

    #[test]
    fn can_carry_refuses_exactly_texts_with_rs(packet in any_packet()) {
        prop_assert_eq!(polling::can_carry(&packet), !is_text_with_rs(&packet));
        if polling::can_carry(&packet) {
            // What can be carried survives the trip.
            prop_assert_eq!(decode_payload(polling::encode([&packet])), Ok(vec![packet]));
        }
    }

    #[test]
    fn binary_in_a_payload_is_b_and_base64(data in any_bytes()) {
        let body = polling::encode([&Packet::binary(data.clone())]);
        prop_assert!(body.starts_with('b'));
        prop_assert!(!body.contains(RS));
        prop_assert!(body[1..]
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'='));
        prop_assert_eq!(body.len() % 4, 1);
    }
}

// ---------------------------------------------------------------------------
// Batching (docs/protocol.md section 4: maxPayload and 16 packets per POST)
// ---------------------------------------------------------------------------

fn max_payload() -> impl Strategy<Value = usize> {
    prop_oneof![
        3 => 1usize..64,
        1 => 64usize..1024,
        1 => Just(usize::MAX),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn batches_drain_the_queue_in_order(
        packets in prop_oneof![
            3 => vec(small_carryable_packet(), 0..60),
            1 => vec(carryable_packet(), 0..40),
        ],
        max in max_payload(),
    ) {
        let mut queue: VecDeque<Packet> = packets.iter().cloned().collect();
        let mut received = Vec::new();
        // Every batch takes at least one packet, so this bounds the loop.
        for _ in 0..=packets.len() {
            let Some(batch) = polling::take_batch(&mut queue, max, polling::MAX_PACKETS_PER_PAYLOAD) else { break };
            let decoded = decode_payload(batch.clone()).unwrap();
            prop_assert!(!decoded.is_empty());
            prop_assert!(decoded.len() <= polling::MAX_PACKETS_PER_PAYLOAD, "{} packets", decoded.len());
            prop_assert!(
                batch.len() <= max || decoded.len() == 1,
                "batch of {} packets is {} bytes, max {}", decoded.len(), batch.len(), max
            );
            // Greedy: the batch stopped because of the count or the size.
            if let Some(next) = queue.front() {
                prop_assert!(
                    decoded.len() == polling::MAX_PACKETS_PER_PAYLOAD
                        || batch.len() + 1 + polling::encoded_len(next) > max,
                    "batch of {} packets ({} bytes) left room for the next one", decoded.len(), batch.len()
                );
            }
            received.extend(decoded);
        }
        prop_assert!(queue.is_empty(), "{} packets left in the queue", queue.len());
        prop_assert_eq!(polling::take_batch(&mut queue, max, polling::MAX_PACKETS_PER_PAYLOAD), None);
        prop_assert_eq!(received, packets);
    }
}

// ---------------------------------------------------------------------------
// Handshake (docs/protocol.md section 3)
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn handshake_json_round_trip(hs in handshake()) {
        prop_assert_eq!(Handshake::parse(&hs.to_json()), Ok(hs.clone()));
        // And as an open packet, over both transports.
        let open = Packet::Open(Box::new(hs));
        prop_assert_eq!(frame::decode(frame::encode(&open)), Ok(open.clone()));
        prop_assert_eq!(decode_payload(polling::encode([&open])), Ok(vec![open]));
    }

    #[test]
    fn handshake_parse_never_panics_on_text(json in any_text()) {
        let _ = Handshake::parse(&json);
    }

    #[test]
    fn handshake_parse_follows_the_field_rules(object in handshake_object()) {
        let json = Value::Object(object.clone()).to_string();
        let parsed = Handshake::parse(&json);
        prop_assert_eq!(
            parsed.is_ok(),
            handshake_is_valid(&object),
            "{} gave {:?}", json, parsed
        );
        match parsed {
            Ok(hs) => {
                prop_assert!(!hs.sid.is_empty());
                prop_assert!(hs.ping_interval > Duration::ZERO);
                prop_assert!(hs.ping_timeout > Duration::ZERO);
                prop_assert_eq!(Handshake::parse(&hs.to_json()), Ok(hs));
            }
            Err(e) => prop_assert!(matches!(e, ProtocolError::InvalidHandshake(_)), "{:?}", e),
        }
    }
}

// ---------------------------------------------------------------------------
// Never panics, and decoding is stable (docs/protocol.md sections 2, 4, 5)
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn decode_text_never_panics_and_follows_the_type_char(text in prop_oneof![
        any_text(),
        (select(vec!['0', '1', '2', '3', '4', '5', '6', '7']), any_text())
            .prop_map(|(c, t)| format!("{c}{t}")),
    ]) {
        let result = Packet::decode_text(text.as_str().into());
        let first = text.chars().next();
        match first {
            None => prop_assert_eq!(result, Err(ProtocolError::EmptyPacket)),
            Some('0') => prop_assert_eq!(
                result.is_ok(),
                Handshake::parse(&text[1..]).is_ok()
            ),
            Some('1') => prop_assert_eq!(result, Ok(Packet::Close)),
            Some('2') => prop_assert_eq!(result, Ok(Packet::Ping(text[1..].into()))),
            Some('3') => prop_assert_eq!(result, Ok(Packet::Pong(text[1..].into()))),
            Some('4') => prop_assert_eq!(result, Ok(Packet::text(&text[1..]))),
            Some('5') => prop_assert_eq!(result, Ok(Packet::Upgrade)),
            Some('6') => prop_assert_eq!(result, Ok(Packet::Noop)),
            Some(c) => prop_assert_eq!(result, Err(ProtocolError::UnknownPacketType(c))),
        }
    }

    #[test]
    fn frame_decode_never_panics_and_is_stable(
        frame in prop_oneof![
            any_text().prop_map(|t| Frame::Text(t.into())),
            (select(vec!['0', '2', '3', '4', '5']), any_text())
                .prop_map(|(c, t)| Frame::Text(format!("{c}{t}").into())),
            handshake().prop_map(|h| Frame::Text(format!("0{}", h.to_json()).into())),
            any::<Vec<u8>>().prop_map(|b| Frame::Binary(b.into())),
        ]
    ) {
        if let Ok(packet) = frame::decode(frame) {
            prop_assert_eq!(frame::decode(frame::encode(&packet)), Ok(packet));
        }
    }

    #[test]
    fn payload_decode_never_panics_and_is_stable(body in payloadish_body()) {
        let result = decode_payload(body.clone());
        match std::str::from_utf8(&body) {
            Err(_) => prop_assert_eq!(result, Err(ProtocolError::InvalidUtf8)),
            Ok(text) => {
                if let Ok(packets) = result {
                    // One packet per record, none for an empty body.
                    let records = if text.is_empty() { 0 } else { text.split(RS).count() };
                    prop_assert_eq!(packets.len(), records);
                    let again = decode_payload(polling::encode(&packets));
                    prop_assert_eq!(again, Ok(packets));
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn endpoint_never_panics(url in urlish(), path in path_arg(), query in query_arg()) {
        check_endpoint(&url, path.as_deref(), &query)?;
    }

    #[test]
    fn endpoint_never_panics_on_any_string(
        url in any::<String>(),
        path in path_arg(),
        query in query_arg(),
    ) {
        check_endpoint(&url, path.as_deref(), &query)?;
    }
}

/// `Endpoint::new` returns Ok or a typed error; an endpoint gives well-formed
/// request URLs (docs/protocol.md section 1).
fn check_endpoint(
    url: &str,
    path: Option<&str>,
    query: &[(String, String)],
) -> Result<(), TestCaseError> {
    let endpoint = match Endpoint::new(url, path, query) {
        Ok(endpoint) => endpoint,
        Err(e) => {
            prop_assert!(matches!(e, ProtocolError::InvalidUrl { .. }), "{:?}", e);
            return Ok(());
        }
    };
    prop_assert!(endpoint.path().starts_with('/'), "{:?}", endpoint.path());
    prop_assert!(endpoint.path().ends_with('/'), "{:?}", endpoint.path());
    let (http, ws) = if endpoint.is_secure() {
        ("https://", "wss://")
    } else {
        ("http://", "ws://")
    };
    for sid in [None, Some("s1d"), Some("a&b=c d")] {
        let polling = endpoint.polling_url(sid, Some("T"));
        let websocket = endpoint.websocket_url(sid);
        prop_assert!(polling.starts_with(http), "{}", polling);
        prop_assert!(websocket.starts_with(ws), "{}", websocket);
        for (u, transport) in [(&polling, "polling"), (&websocket, "websocket")] {
            let parsed =
                url::Url::parse(u).map_err(|e| TestCaseError::fail(format!("{u}: {e}")))?;
            let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
            let has = |k: &str, v: &str| pairs.iter().any(|(pk, pv)| pk == k && pv == v);
            prop_assert!(has("EIO", "4"), "{}", u);
            prop_assert!(has("transport", transport), "{}", u);
            if let Some(sid) = sid {
                // The sid comes right after the transport, exactly as given.
                let at = pairs
                    .iter()
                    .position(|(k, _)| k == "transport")
                    .unwrap_or(0);
                prop_assert_eq!(pairs.get(at + 1), Some(&("sid".to_owned(), sid.to_owned())));
            }
            // The user's parameters are all there, in order, before ours.
            let user: Vec<_> = query.to_vec();
            let eio = pairs.iter().rposition(|(k, _)| k == "EIO").unwrap_or(0);
            prop_assert!(
                pairs[..eio].ends_with(&user),
                "user query {:?} not before EIO in {}",
                user,
                u
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Fixed cases worth keeping
// ---------------------------------------------------------------------------

#[test]
fn record_separator_edge_cases() {
    // A text with the separator goes whole in a frame, never in a payload.
    let text = Packet::text("a\x1e4b");
    assert_eq!(frame::decode(frame::encode(&text)), Ok(text.clone()));
    assert!(!polling::can_carry(&text));
    // Binary with 0x1e goes whole both ways.
    let binary = Packet::binary(vec![0x1e, b'4', 0x1e]);
    assert_eq!(frame::decode(frame::encode(&binary)), Ok(binary.clone()));
    assert_eq!(decode_payload(polling::encode([&binary])), Ok(vec![binary]));
    // Empty message and empty binary.
    assert_eq!(
        decode_payload(polling::encode(&[Packet::text(""), Packet::binary(vec![])])),
        Ok(vec![Packet::text(""), Packet::binary(vec![])])
    );
}

/// Ping or pong data holding `\x1e` would be cut in two by the separator, the second
/// half read as a packet of its own (here an injected message): `can_carry` must say no.
#[test]
fn ping_data_with_record_separator_is_refused_or_survives() {
    for packet in [Packet::Pong("a\x1e4b".into()), Packet::Ping("\x1e".into())] {
        let round_trip = decode_payload(polling::encode([&packet]));
        assert!(
            !polling::can_carry(&packet) || round_trip == Ok(vec![packet.clone()]),
            "can_carry({packet:?}) is true, but the payload decodes to {round_trip:?}"
        );
    }
}
