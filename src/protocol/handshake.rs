//! The open packet's JSON: what the server tells a new session.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ProtocolError;

/// The `maxPayload` assumed when a server does not announce one (the v4 default).
///
/// v3 servers never announce one; the same default applies to them, since it is what
/// Node engine.io 3.6 accepts by default (`docs/protocol.md` section 11).
///
/// ```
/// use actix_engineio::protocol::{Handshake, DEFAULT_MAX_PAYLOAD};
///
/// let hs = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
/// assert_eq!(hs.max_payload, DEFAULT_MAX_PAYLOAD);
/// ```
pub const DEFAULT_MAX_PAYLOAD: u64 = 1_000_000;

/// The server's handshake, parsed from the open packet `0{…}`.
///
/// ```
/// use std::time::Duration;
/// use actix_engineio::protocol::Handshake;
///
/// let hs = Handshake::parse(
///     r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
/// ).unwrap();
/// assert_eq!(hs.sid, "lv_VI97HAXpY6yYWAAAC");
/// assert!(hs.allows_websocket_upgrade());
/// assert_eq!(hs.heartbeat_deadline(), Duration::from_secs(45));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// The session id, sent with every later request of the session.
    pub sid: String,
    /// Transports the session may upgrade to (`["websocket"]` over polling).
    pub upgrades: Vec<String>,
    /// How often the server pings.
    pub ping_interval: Duration,
    /// How long the server waits for a pong.
    pub ping_timeout: Duration,
    /// The most bytes the server accepts in one polling POST or websocket frame.
    pub max_payload: u64,
    /// Whether the server announced `maxPayload`. Current v4 servers do (Node
    /// `engine.io` since 6.2, python-engineio's late 4.x, engineioxide); v3 servers (Node
    /// `engine.io` 3, python-engineio 3) and older v4 ones do not, and `max_payload` is
    /// then [`DEFAULT_MAX_PAYLOAD`]. A v4 session uses it, with the server's silence, to
    /// tell a v3-only server that ignored `EIO=4` (see [`ProtocolError::ServerSpeaksV3`]).
    pub max_payload_announced: bool,
}

/// The JSON as it is on the wire.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    sid: String,
    #[serde(default)]
    upgrades: Vec<String>,
    ping_interval: u64,
    ping_timeout: u64,
    /// Absent for v3 servers; `null` is as invalid as any other non-number.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "announced"
    )]
    max_payload: Option<u64>,
}

/// A `maxPayload` that is present must be a number: `Option`'s own deserializer would
/// take `null` for "not announced".
fn announced<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    u64::deserialize(deserializer).map(Some)
}

impl Handshake {
    /// Parses the JSON of an open packet (without the leading `0`).
    ///
    /// `sid`, `pingInterval` and `pingTimeout` are required (and must not be empty or
    /// zero); `upgrades` defaults to none and `maxPayload` to [`DEFAULT_MAX_PAYLOAD`],
    /// as some servers omit them.
    ///
    /// ```
    /// use actix_engineio::protocol::{Handshake, ProtocolError};
    ///
    /// let hs = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// assert!(hs.upgrades.is_empty());
    /// let missing = Handshake::parse(r#"{"sid":"s","pingInterval":25000}"#);
    /// assert!(matches!(missing, Err(ProtocolError::InvalidHandshake(_))));
    /// ```
    pub fn parse(json: &str) -> Result<Self, ProtocolError> {
        let wire: Wire = serde_json::from_str(json)
            .map_err(|e| ProtocolError::InvalidHandshake(e.to_string()))?;
        if wire.sid.is_empty() {
            return Err(ProtocolError::InvalidHandshake("empty sid".into()));
        }
        if wire.ping_interval == 0 || wire.ping_timeout == 0 {
            return Err(ProtocolError::InvalidHandshake(
                "pingInterval and pingTimeout must be positive".into(),
            ));
        }
        Ok(Handshake {
            sid: wire.sid,
            upgrades: wire.upgrades,
            ping_interval: Duration::from_millis(wire.ping_interval),
            ping_timeout: Duration::from_millis(wire.ping_timeout),
            max_payload: wire.max_payload.unwrap_or(DEFAULT_MAX_PAYLOAD),
            max_payload_announced: wire.max_payload.is_some(),
        })
    }

    /// The JSON of this handshake, as a server would send it (every field, with
    /// durations in milliseconds; `maxPayload` only when announced).
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_engineio::protocol::Handshake;
    ///
    /// let hs = Handshake {
    ///     sid: "s".into(),
    ///     upgrades: vec!["websocket".into()],
    ///     ping_interval: Duration::from_secs(25),
    ///     ping_timeout: Duration::from_secs(20),
    ///     max_payload: 1_000_000,
    ///     max_payload_announced: true,
    /// };
    /// let json = hs.to_json();
    /// assert_eq!(json, r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#);
    /// assert_eq!(Handshake::parse(&json), Ok(hs));
    /// ```
    pub fn to_json(&self) -> String {
        let wire = Wire {
            sid: self.sid.clone(),
            upgrades: self.upgrades.clone(),
            ping_interval: millis(self.ping_interval),
            ping_timeout: millis(self.ping_timeout),
            max_payload: self.max_payload_announced.then_some(self.max_payload),
        };
        // A struct of strings and integers always serializes.
        serde_json::to_string(&wire).unwrap_or_default()
    }

    /// Whether the server offers the upgrade to websocket. A websocket session's
    /// handshake offers none: it is on websocket already.
    ///
    /// ```
    /// use actix_engineio::protocol::Handshake;
    ///
    /// let hs = Handshake::parse(r#"{"sid":"s","upgrades":[],"pingInterval":1,"pingTimeout":1}"#).unwrap();
    /// assert!(!hs.allows_websocket_upgrade());
    /// ```
    pub fn allows_websocket_upgrade(&self) -> bool {
        self.upgrades.iter().any(|t| t == "websocket")
    }

    /// How long a session may go without a ping before it is considered dead:
    /// `pingInterval + pingTimeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_engineio::protocol::Handshake;
    ///
    /// let hs = Handshake::parse(r#"{"sid":"s","pingInterval":300,"pingTimeout":200}"#).unwrap();
    /// assert_eq!(hs.heartbeat_deadline(), Duration::from_millis(500));
    /// ```
    pub fn heartbeat_deadline(&self) -> Duration {
        self.ping_interval.saturating_add(self.ping_timeout)
    }

    /// `maxPayload` as a `usize`, saturating on small platforms: the unit sizes and
    /// buffers are measured in.
    ///
    /// ```
    /// use actix_engineio::protocol::Handshake;
    ///
    /// let hs = Handshake::parse(r#"{"sid":"s","pingInterval":1,"pingTimeout":1,"maxPayload":100000}"#).unwrap();
    /// assert_eq!(hs.max_payload_bytes(), 100_000);
    /// ```
    pub fn max_payload_bytes(&self) -> usize {
        usize::try_from(self.max_payload).unwrap_or(usize::MAX)
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_handshake_parses_and_round_trips() {
        let json = r#"{"sid":"abc","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000}"#;
        let hs = Handshake::parse(json).unwrap();
        assert_eq!(hs.upgrades, ["websocket"]);
        assert_eq!(hs.ping_timeout, Duration::from_millis(200));
        assert_eq!(hs.max_payload, 1000);
        assert_eq!(hs.to_json(), json);
        assert_eq!(Handshake::parse(&hs.to_json()), Ok(hs));
    }

    #[test]
    fn optional_fields_default() {
        let hs = Handshake::parse(r#"{"sid":"x","pingInterval":1,"pingTimeout":2}"#).unwrap();
        assert!(hs.upgrades.is_empty());
        assert!(!hs.allows_websocket_upgrade());
        assert_eq!(hs.max_payload, DEFAULT_MAX_PAYLOAD);
        assert!(!hs.max_payload_announced);
        // Written back as it came: without maxPayload.
        assert_eq!(
            hs.to_json(),
            r#"{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":2}"#
        );
    }

    #[test]
    fn a_null_max_payload_is_invalid_not_absent() {
        let parsed =
            Handshake::parse(r#"{"sid":"x","pingInterval":1,"pingTimeout":2,"maxPayload":null}"#);
        assert!(
            matches!(parsed, Err(ProtocolError::InvalidHandshake(_))),
            "{parsed:?}"
        );
    }

    #[test]
    fn an_announced_max_payload_is_known_as_such() {
        let hs = Handshake::parse(
            r#"{"sid":"x","pingInterval":1,"pingTimeout":2,"maxPayload":1000000}"#,
        )
        .unwrap();
        assert_eq!(hs.max_payload, DEFAULT_MAX_PAYLOAD);
        assert!(hs.max_payload_announced);
    }

    #[test]
    fn websocket_handshake_has_no_upgrades() {
        let hs = Handshake::parse(
            r#"{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
        )
        .unwrap();
        assert!(!hs.allows_websocket_upgrade());
    }

    #[test]
    fn malformed_handshakes_are_typed_errors() {
        for bad in [
            "",
            "{",
            "[]",
            r#"{"upgrades":[],"pingInterval":1,"pingTimeout":1}"#,
            r#"{"sid":"","pingInterval":1,"pingTimeout":1}"#,
            r#"{"sid":"x","pingInterval":"25000","pingTimeout":1}"#,
            r#"{"sid":"x","pingInterval":-1,"pingTimeout":1}"#,
            r#"{"sid":"x","pingInterval":0,"pingTimeout":1}"#,
            r#"{"sid":"x","pingInterval":1}"#,
            r#"{"sid":7,"pingInterval":1,"pingTimeout":1}"#,
        ] {
            assert!(
                matches!(
                    Handshake::parse(bad),
                    Err(ProtocolError::InvalidHandshake(_))
                ),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn huge_intervals_do_not_overflow() {
        let json = format!(
            r#"{{"sid":"x","pingInterval":{},"pingTimeout":{}}}"#,
            u64::MAX,
            u64::MAX
        );
        let hs = Handshake::parse(&json).unwrap();
        assert!(hs.heartbeat_deadline() >= hs.ping_interval);
    }
}
