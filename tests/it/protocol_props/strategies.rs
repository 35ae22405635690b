//! The generators of the property tests, and the reference rules they are checked
//! against (e.g. [`handshake_is_valid`], written from the documentation, not the code).

use std::time::Duration;

use actix_engineio::protocol::{
    polling, Handshake, Packet, Payload, ProtocolError, DEFAULT_MAX_PAYLOAD,
};
use bytes::Bytes;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};

pub const RS: char = '\x1e';

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// A character that is often one the protocol cares about: the record separator,
/// the type characters, `b` (binary marker), base64 padding, multibyte and astral
/// characters; otherwise any Unicode scalar value.
pub fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        2 => Just(RS),
        2 => select(vec!['0', '1', '2', '3', '4', '5', '6', 'b', '=', '{', '"']),
        1 => select(vec!['é', '€', '\u{fffd}', '😀', '\u{10ffff}', '\0', '\n']),
        2 => proptest::char::range('a', 'z'),
    ]
}

/// Any text, including empty, multibyte, astral and `\x1e`.
pub fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        vec(interesting_char(), 0..24).prop_map(String::from_iter),
        any::<String>(),
    ]
}

/// Text that can travel in a polling payload: no record separator.
pub fn text_without_rs() -> impl Strategy<Value = String> {
    any_text().prop_map(|t| t.replace(RS, ""))
}

/// Any bytes, including empty and containing 0x1e.
pub fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(
        prop_oneof![3 => any::<u8>(), 1 => Just(0x1e_u8), 1 => Just(b'b')],
        0..48,
    )
}

/// Intervals as the wire has them: whole, positive milliseconds.
pub fn interval() -> impl Strategy<Value = Duration> {
    prop_oneof![1u64..100_000, Just(u64::MAX), 1u64..=u64::MAX].prop_map(Duration::from_millis)
}

pub fn handshake() -> impl Strategy<Value = Handshake> {
    (
        any_text().prop_filter("sid must not be empty", |s| !s.is_empty()),
        vec(prop_oneof![Just("websocket".to_owned()), any_text()], 0..3),
        interval(),
        interval(),
        prop_oneof![any::<u64>().prop_map(Some), Just(None)],
    )
        .prop_map(
            |(sid, upgrades, ping_interval, ping_timeout, max_payload)| Handshake {
                sid,
                upgrades,
                ping_interval,
                ping_timeout,
                max_payload: max_payload.unwrap_or(DEFAULT_MAX_PAYLOAD),
                max_payload_announced: max_payload.is_some(),
            },
        )
}

/// Any packet a polling payload can carry: message texts and ping/pong data
/// without `\x1e`, binary of any bytes, close, noop, upgrade and open.
pub fn carryable_packet() -> impl Strategy<Value = Packet> {
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
pub fn any_packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        3 => carryable_packet(),
        1 => any_text().prop_map(|t| Packet::text(format!("{t}{RS}{t}"))),
        1 => any_text().prop_map(Packet::text),
    ]
}

/// Small packets, so that many of them meet a small `max_payload`.
pub fn small_carryable_packet() -> impl Strategy<Value = Packet> {
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
pub fn payloadish_body() -> impl Strategy<Value = Vec<u8>> {
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
pub fn json_value() -> impl Strategy<Value = Value> {
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
pub fn handshake_object() -> impl Strategy<Value = Map<String, Value>> {
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
pub fn urlish() -> impl Strategy<Value = String> {
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

pub fn path_arg() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        "[/a-z.%?#\\\\]{0,10}",
        any_text(),
        any::<String>(),
    ])
}

pub fn query_arg() -> impl Strategy<Value = Vec<(String, String)>> {
    vec((any_text(), any_text()), 0..3)
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

pub fn decode_payload(body: impl Into<Bytes>) -> Result<Vec<Packet>, ProtocolError> {
    polling::decode(body.into())
}

/// Whether `packet` is a text message containing the record separator.
pub fn is_text_with_rs(packet: &Packet) -> bool {
    matches!(packet, Packet::Message(Payload::Text(t)) if t.contains(RS))
}

/// Whether `value` is what serde's `u64` accepts from JSON.
pub fn is_u64(value: &Value) -> bool {
    value.as_u64().is_some()
}

/// The acceptance rule of `Handshake::parse`, written from its documentation and
/// docs/protocol.md section 3: `sid` a non-empty string, `pingInterval`/`pingTimeout`
/// positive integers, `upgrades` (optional) an array of strings, `maxPayload`
/// (optional) a non-negative integer.
pub fn handshake_is_valid(object: &Map<String, Value>) -> bool {
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
