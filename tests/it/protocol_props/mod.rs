//! Property tests of the pure protocol core (PROTOCOL.md sections 2, 4 and 5, plus
//! the handshake of section 3 and the URLs of section 1).
//!
//! Round trips over websocket frames and polling payloads, the batching rules of
//! `polling::take_batch`, the handshake JSON, and "never panics" over arbitrary
//! input for every decoder and for `Endpoint::new`.

use std::collections::VecDeque;
use std::time::Duration;

use actix_engineio::protocol::{
    frame, polling, Endpoint, Frame, Handshake, Packet, Payload, ProtocolError,
};
use bytes::Bytes;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};

const RS: char = '\x1e';

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// A character that is often one the protocol cares about: the record separator,
/// the type characters, `b` (binary marker), base64 padding, multibyte and astral
/// characters; otherwise any Unicode scalar value.
fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        2 => Just(RS),
        2 => select(vec!['0', '1', '2', '3', '4', '5', '6', 'b', '=', '{', '"']),
        1 => select(vec!['é', '€', '\u{fffd}', '😀', '\u{10ffff}', '\0', '\n']),
        2 => proptest::char::range('a', 'z'),
    ]
}

/// Any text, including empty, multibyte, astral and `\x1e`.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        vec(interesting_char(), 0..24).prop_map(String::from_iter),
        any::<String>(),
    ]
}

/// Text that can travel in a polling payload: no record separator.
fn text_without_rs() -> impl Strategy<Value = String> {
    any_text().prop_map(|t| t.replace(RS, ""))
}

/// Any bytes, including empty and containing 0x1e.
fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(
        prop_oneof![3 => any::<u8>(), 1 => Just(0x1e_u8), 1 => Just(b'b')],
        0..48,
    )
}

/// Intervals as the wire has them: whole, positive milliseconds.
fn interval() -> impl Strategy<Value = Duration> {
    prop_oneof![1u64..100_000, Just(u64::MAX), 1u64..=u64::MAX].prop_map(Duration::from_millis)
}

fn handshake() -> impl Strategy<Value = Handshake> {
    (
        any_text().prop_filter("sid must not be empty", |s| !s.is_empty()),
        vec(prop_oneof![Just("websocket".to_owned()), any_text()], 0..3),
        interval(),
        interval(),
        any::<u64>(),
    )
        .prop_map(
            |(sid, upgrades, ping_interval, ping_timeout, max_payload)| Handshake {
                sid,
                upgrades,
                ping_interval,
                ping_timeout,
                max_payload,
            },
        )
}

/// Any packet a polling payload can carry: message texts and ping/pong data
/// without `\x1e`, binary of any bytes, close, noop, upgrade and open.
fn carryable_packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        4 => text_without_rs().prop_map(Packet::text),
        3 => any_bytes().prop_map(Packet::binary),
        1 => text_without_rs().prop_map(|d| Packet::Ping(d.into())),
        1 => text_without_rs().prop_map(|d| Packet::Pong(d.into())),
        1 => Just(Packet::Close),
        1 => Just(Packet::Noop),
        1 => Just(Packet::Upgrade),
        1 => handshake().prop_map(|hs| Packet::Open(Box::new(hs))),
    ]
}

/// Any packet at all: also message texts containing `\x1e`.
fn any_packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        3 => carryable_packet(),
        1 => any_text().prop_map(|t| Packet::text(format!("{t}{RS}{t}"))),
        1 => any_text().prop_map(Packet::text),
    ]
}

/// Small packets, so that many of them meet a small `max_payload`.
fn small_carryable_packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        4 => vec(interesting_char(), 0..12)
            .prop_map(|t| Packet::text(String::from_iter(t).replace(RS, ""))),
        3 => vec(any::<u8>(), 0..12).prop_map(Packet::binary),
        1 => Just(Packet::Ping("".into())),
        1 => Just(Packet::Pong("probe".into())),
        1 => Just(Packet::Close),
        1 => Just(Packet::Noop),
        1 => Just(Packet::Upgrade),
    ]
}

/// A polling body that is often close to valid: parts that are a type character
/// and data, or `b` and base64-ish characters, joined by `\x1e`.
fn payloadish_body() -> impl Strategy<Value = Vec<u8>> {
    let base64ish = vec(
        select(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ "
                .chars()
                .collect::<Vec<_>>(),
        ),
        0..16,
    )
    .prop_map(|c| format!("b{}", String::from_iter(c)));
    let text_part = (
        select(vec!['0', '1', '2', '3', '4', '5', '6', '7', 'x', '€']),
        vec(interesting_char(), 0..12),
    )
        .prop_map(|(t, d)| format!("{t}{}", String::from_iter(d).replace(RS, "")));
    let open_part = handshake().prop_map(|h| format!("0{}", h.to_json()));
    let part =
        prop_oneof![4 => text_part, 3 => base64ish, 1 => open_part, 1 => Just(String::new())];
    prop_oneof![
        4 => vec(part, 0..6).prop_map(|p| p.join("\x1e").into_bytes()),
        1 => any::<Vec<u8>>(),
        1 => any::<String>().prop_map(String::into_bytes),
    ]
}

/// Any JSON value, nested a little.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u64..3).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        Just(Value::from(1.0)),
        any_text().prop_map(Value::from),
        Just(Value::from("")),
        Just(Value::from("websocket")),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map("[a-zA-Z]{0,4}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON object holding the handshake fields with random types (each possibly
/// missing) and possibly extra keys.
fn handshake_object() -> impl Strategy<Value = Map<String, Value>> {
    // Each field is often of the right type, so that both outcomes are common.
    let field = |good: BoxedStrategy<Value>| {
        proptest::option::weighted(0.9, prop_oneof![3 => good, 1 => json_value()])
    };
    let string = || any_text().prop_map(Value::from).boxed();
    let number = || {
        prop_oneof![4 => 1u64..100_000, 1 => Just(0), 1 => Just(u64::MAX)]
            .prop_map(Value::from)
            .boxed()
    };
    let strings = vec(prop_oneof![Just("websocket".to_owned()), any_text()], 0..3)
        .prop_map(Value::from)
        .boxed();
    (
        field(string()),
        field(strings),
        field(number()),
        field(number()),
        field(any::<u64>().prop_map(Value::from).boxed()),
        btree_map("[a-z]{1,6}", json_value(), 0..2),
    )
        .prop_map(|(sid, upgrades, interval, timeout, max, extra)| {
            let mut object: Map<String, Value> = extra.into_iter().collect();
            for (key, value) in [
                ("sid", sid),
                ("upgrades", upgrades),
                ("pingInterval", interval),
                ("pingTimeout", timeout),
                ("maxPayload", max),
            ] {
                match value {
                    Some(value) => object.insert(key.to_owned(), value),
                    None => object.remove(key),
                };
            }
            object
        })
}

/// A URL-ish string: a scheme, an authority and path/query/fragment pieces,
/// often valid, sometimes not.
fn urlish() -> impl Strategy<Value = String> {
    let scheme = select(vec![
        "http://", "https://", "ws://", "wss://", "HTTP://", "ftp://", "file://", "mailto:",
        "http:", "ws:/", "",
    ]);
    let host = prop_oneof![
        Just("127.0.0.1".to_owned()),
        Just("[::1]".to_owned()),
        Just("example.com".to_owned()),
        Just("user:pw@h".to_owned()),
        Just("".to_owned()),
        "[a-z0-9.\\-]{0,12}",
        any::<String>(),
    ];
    let port = prop_oneof![
        Just(String::new()),
        Just(":".to_owned()),
        any::<u16>().prop_map(|p| format!(":{p}")),
        Just(":99999".to_owned()),
    ];
    let rest = vec(
        prop_oneof![
            Just("/".to_owned()),
            Just("?".to_owned()),
            Just("#".to_owned()),
            Just("&".to_owned()),
            Just("=".to_owned()),
            Just("..".to_owned()),
            Just("%2e".to_owned()),
            Just("%".to_owned()),
            Just("\\".to_owned()),
            "[a-z]{1,4}",
            any_text(),
        ],
        0..6,
    )
    .prop_map(|p| p.concat());
    (scheme, host, port, rest).prop_map(|(s, h, p, r)| format!("{s}{h}{p}{r}"))
}

fn path_arg() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        "[/a-z.%?#\\\\]{0,10}",
        any_text(),
        any::<String>(),
    ])
}

fn query_arg() -> impl Strategy<Value = Vec<(String, String)>> {
    vec((any_text(), any_text()), 0..3)
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn decode_payload(body: impl Into<Bytes>) -> Result<Vec<Packet>, ProtocolError> {
    polling::decode(body.into())
}

/// Whether `packet` is a text message containing the record separator.
fn is_text_with_rs(packet: &Packet) -> bool {
    matches!(packet, Packet::Message(Payload::Text(t)) if t.contains(RS))
}

/// Whether `value` is what serde's `u64` accepts from JSON.
fn is_u64(value: &Value) -> bool {
    value.as_u64().is_some()
}

/// The acceptance rule of `Handshake::parse`, written from its documentation and
/// PROTOCOL.md section 3: `sid` a non-empty string, `pingInterval`/`pingTimeout`
/// positive integers, `upgrades` (optional) an array of strings, `maxPayload`
/// (optional) a non-negative integer.
fn handshake_is_valid(object: &Map<String, Value>) -> bool {
    let sid_ok = matches!(object.get("sid"), Some(Value::String(s)) if !s.is_empty());
    let positive = |key: &str| {
        object
            .get(key)
            .and_then(Value::as_u64)
            .is_some_and(|n| n > 0)
    };
    let upgrades_ok = match object.get("upgrades") {
        None => true,
        Some(Value::Array(items)) => items.iter().all(Value::is_string),
        Some(_) => false,
    };
    let max_ok = match object.get("maxPayload") {
        None => true,
        Some(value) => is_u64(value),
    };
    sid_ok && positive("pingInterval") && positive("pingTimeout") && upgrades_ok && max_ok
}

// ---------------------------------------------------------------------------
// Websocket frames (PROTOCOL.md section 5)
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
// Polling payloads (PROTOCOL.md section 4)
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
// Batching (PROTOCOL.md section 4: maxPayload and 16 packets per POST)
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
// Handshake (PROTOCOL.md section 3)
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
// Never panics, and decoding is stable (PROTOCOL.md sections 2, 4, 5)
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
/// request URLs (PROTOCOL.md section 1).
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
