//! What the client must make of what the chaos server writes, from the specification
//! (docs/protocol.md sections 2 to 5), written independently of the crate's decoder: a
//! polling body is valid only if every record is, a websocket text frame holds one
//! packet. The server classifies each body and frame with it before writing, to know
//! which of its messages may be delivered.

use actix_engineio::Payload;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine as _};

/// Standard base64, padding optional when read (section 4).
pub const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One packet as the client will see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Message(Payload),
    Ping(String),
    Close,
    /// Open (with a valid handshake), pong, upgrade or noop: ignored after the handshake.
    Ignored,
    /// Fails the whole body (polling) or ends the session (websocket).
    Invalid(&'static str),
}

impl Seen {
    pub fn is_invalid(&self) -> bool {
        matches!(self, Seen::Invalid(_))
    }
}

/// A text packet: a type digit and data (section 2).
pub fn text_packet(text: &str) -> Seen {
    let mut chars = text.chars();
    let Some(kind) = chars.next() else {
        return Seen::Invalid("empty packet");
    };
    let data = chars.as_str();
    match kind {
        '0' if handshake_is_valid(data) => Seen::Ignored,
        '0' => Seen::Invalid("open packet with an invalid handshake"),
        '1' => Seen::Close,
        '2' => Seen::Ping(data.to_owned()),
        '3' | '5' | '6' => Seen::Ignored,
        '4' => Seen::Message(Payload::from(data)),
        _ => Seen::Invalid("unknown packet type"),
    }
}

/// One record of a polling payload: a text packet, or `b` and base64 (section 4).
pub fn record(text: &str) -> Seen {
    match text.strip_prefix('b') {
        Some(encoded) => match BASE64.decode(encoded) {
            Ok(data) => Seen::Message(Payload::from(data)),
            Err(_) => Seen::Invalid("bad base64"),
        },
        None => text_packet(text),
    }
}

/// The packets of a polling body as the client must see them: every record, or, when
/// one is invalid (or the body is not UTF-8), an error and no packet at all.
pub fn body(bytes: &[u8]) -> Result<Vec<Seen>, &'static str> {
    let text = std::str::from_utf8(bytes).map_err(|_| "body is not UTF-8")?;
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let records: Vec<Seen> = text.split('\x1e').map(record).collect();
    match records.iter().find_map(|r| match r {
        Seen::Invalid(why) => Some(*why),
        _ => None,
    }) {
        Some(why) => Err(why),
        None => Ok(records),
    }
}

/// One websocket data message (after reassembly) as the client must see it.
pub fn frame(text: bool, data: &[u8]) -> Seen {
    if !text {
        return Seen::Message(Payload::from(data.to_vec()));
    }
    match std::str::from_utf8(data) {
        Ok(text) => text_packet(text),
        Err(_) => Seen::Invalid("text frame is not UTF-8"),
    }
}

/// Whether the client accepts `json` as a handshake (section 3): an object with a
/// non-empty string `sid`, positive integer `pingInterval` and `pingTimeout`, optional
/// `upgrades` (strings) and `maxPayload` (non-negative integer); other fields ignored.
pub fn handshake_is_valid(json: &str) -> bool {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(json) else {
        return false;
    };
    let positive = |name: &str| {
        fields
            .get(name)
            .and_then(|v| v.as_u64())
            .is_some_and(|v| v > 0)
    };
    let sid = fields
        .get("sid")
        .and_then(|v| v.as_str())
        .is_some_and(|s| !s.is_empty());
    let upgrades = fields.get("upgrades").is_none_or(|v| {
        v.as_array()
            .is_some_and(|list| list.iter().all(|t| t.is_string()))
    });
    let max_payload = fields
        .get("maxPayload")
        .is_none_or(|v| v.as_u64().is_some());
    sid && positive("pingInterval") && positive("pingTimeout") && upgrades && max_payload
}

/// The size of `payload` as `Send` measures it against `maxPayload` over polling and
/// over websocket (section 4 and 5): text is a type character and its bytes; binary is
/// `b` and base64 over polling, the bytes alone over websocket.
pub fn wire_sizes(payload: &Payload) -> (usize, usize) {
    match payload {
        Payload::Text(text) => (1 + text.len(), 1 + text.len()),
        Payload::Binary(data) => (1 + data.len().div_ceil(3) * 4, data.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_agrees_with_the_protocol_notes() {
        let ok = body(b"4hello\x1e2\x1ebAQIDBA==").unwrap();
        assert_eq!(ok[0], Seen::Message(Payload::from("hello")));
        assert_eq!(ok[1], Seen::Ping(String::new()));
        assert_eq!(ok[2], Seen::Message(Payload::from(vec![1u8, 2, 3, 4])));
        assert!(body(b"4a\x1e").is_err());
        assert!(body(b"9").is_err());
        assert!(body(b"b!!").is_err());
        assert_eq!(body(b"").unwrap(), []);
        assert!(handshake_is_valid(
            r#"{"sid":"s","pingInterval":1,"pingTimeout":1}"#
        ));
        assert!(!handshake_is_valid(
            r#"{"sid":"","pingInterval":1,"pingTimeout":1}"#
        ));
        assert!(!handshake_is_valid(
            r#"{"sid":"s","pingInterval":1.5,"pingTimeout":1}"#
        ));
        assert!(!handshake_is_valid(
            r#"{"sid":"s","pingInterval":1,"pingTimeout":1,"upgrades":null}"#
        ));
        assert!(frame(true, b"").is_invalid());
        assert_eq!(
            frame(false, b""),
            Seen::Message(Payload::from(Vec::<u8>::new()))
        );
    }
}
