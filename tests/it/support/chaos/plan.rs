//! What a seed decides before anything is sent: the client's settings, the handshake
//! (fields, values, how it is delivered), how long the server plays along and how it
//! ends, how it answers the upgrade probe. Both sides compute it from the seed: the test
//! to configure the client, the server to play its part.

use std::time::Duration;

use actix_engineio::SessionBuilder;
use base64::Engine as _;
use serde_json::{json, Value};

use super::rng::Rng;
use super::{model, polling};
use crate::support::client::Mode;

/// How the handshake reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Polling: one response with a `content-length`. Websocket: one text frame.
    Plain,
    /// Polling: a chunked body. Websocket: the open packet in fragments.
    Split,
    /// Polling: gzip. Websocket: ping and pong frames first.
    Dressed,
    /// Packets after the open packet (polling: records; websocket: frames right after).
    Trailing,
    /// An error status (websocket: the upgrade refused with it).
    Status(u16),
    /// Polling: the body cut short. Websocket: a close frame instead of the open packet.
    Cut,
    Reset,
    /// Nothing at all: the client's request timeout.
    Hang,
    /// A message before the open packet.
    NotOpenFirst,
    /// Polling: an empty body. Websocket: the open packet in a binary frame.
    Empty,
    /// Bytes that are not UTF-8.
    NotUtf8,
}

/// How the server ends its part once its steps are played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalAct {
    /// A close packet (`1`; over polling sometimes `6␞1`, as Node does).
    ClosePacket,
    /// A close frame with this code (`None`: no status); over polling, a close packet.
    CloseFrame(Option<u16>),
    Reset,
    /// The connection closed without an answer or a close frame.
    Fin,
    /// Nothing more: no ping, held polls.
    Silence,
    /// `400 Session ID unknown` to every request (websocket: close code 4000).
    SessionUnknown,
    /// Pings go on; only the client can end the session.
    KeepAlive,
}

/// How the probe websocket answers `2probe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// `3probe`, maybe after noops and ping frames; the held poll answered `6`.
    Normal,
    /// `3probe` in two fragments.
    Fragmented,
    /// `3probe`, then `3probe` again.
    Twice,
    /// Loose messages and pings between `3probe` and `5`.
    Chatty,
    /// This text instead of `3probe`: `3prob`, `3`, `2probe`, a message, a close packet.
    Wrong(&'static str),
    /// `3probe` in a binary frame.
    Binary,
    CloseFrame,
    Reset,
    /// Never answers: the client's probe timeout (10 s).
    Silent,
    /// The websocket refused: `400`.
    Refused,
}

/// Everything a seed decides up front.
#[derive(Debug, Clone)]
pub struct Plan {
    pub seed: u64,
    pub mode: Mode,
    pub request_timeout: Duration,
    pub max_body_size: Option<usize>,
    pub max_frame_size: Option<usize>,
    pub max_packets_per_post: Option<usize>,
    pub send_buffer: Option<usize>,
    pub timestamp_requests: bool,
    pub sid: String,
    /// As announced, in ms (meaningful when the handshake is valid).
    pub ping_interval: u64,
    pub ping_timeout: u64,
    /// `maxPayload` as the client takes it.
    pub max_payload: u64,
    /// Whether the handshake offers the upgrade the client wants.
    pub upgrade_offered: bool,
    /// The JSON of the open packet, as sent.
    pub open_json: String,
    pub delivery: Delivery,
    /// Records after the open packet (polling), `␞`-joined; frames (websocket).
    pub trailing: Vec<String>,
    /// Whether the client must connect (a timeout is tolerated where it must).
    pub expect_connect: bool,
    /// How many answers (polls, websocket steps) the server plays before its final act.
    pub steps: u32,
    pub final_act: FinalAct,
    pub probe: Probe,
    /// The server pings once this fraction of `pingInterval` has passed since the last.
    pub ping_after: f64,
    /// A calm session: hostile answers are ten times rarer and the script longer, so
    /// that long healthy stretches (and the upgrade) are played too.
    pub calm: bool,
}

impl Plan {
    pub fn new(seed: u64) -> Plan {
        let mut rng = Rng::stream(seed, "plan");
        let mode = *rng.pick(&[Mode::WebSocket, Mode::Polling, Mode::Upgrade, Mode::Upgrade]);
        let small = |rng: &mut Rng, lo, hi| rng.chance(35).then(|| rng.usize(lo, hi));
        let request_timeout = rng.millis(700, 1500);
        let max_body_size = small(&mut rng, 128, 4096);
        let max_frame_size = small(&mut rng, 48, 4096);
        let max_packets_per_post = small(&mut rng, 1, 4);
        let send_buffer = small(&mut rng, 0, 2048);
        let timestamp_requests = rng.chance(70);
        let sid = match rng.below(10) {
            0 => format!("s{seed}+/=?&é"),
            1 => format!("s {seed}%20"),
            _ => format!("s{seed}"),
        };
        let (ping_interval, ping_timeout) = match rng.below(100) {
            0..=4 => (rng.range(1, 10), rng.range(1, 10)),
            5..=14 => (rng.range(400, 1500), rng.range(400, 1500)),
            15..=16 => (1_000_000_000_000, rng.range(1, 1_000_000_000_000)),
            _ => (rng.range(40, 400), rng.range(40, 400)),
        };
        let (max_payload, max_payload_json) = match rng.below(10) {
            0 => (1_000_000, None),
            1 => (0, Some(json!(0))),
            2 | 3 => {
                let max = rng.range(1, 300);
                (max, Some(json!(max)))
            }
            _ => (1_000_000, Some(json!(1_000_000))),
        };
        let upgrades = match rng.below(20) {
            0..=2 => None,
            3..=5 => Some(json!([])),
            6 => Some(json!(["WebSocket"])),
            7 => Some(json!(["polling", "websocket"])),
            _ => Some(json!(["websocket"])),
        };
        let upgrade_offered = upgrades
            .as_ref()
            .and_then(Value::as_array)
            .is_some_and(|list| list.iter().any(|t| t == "websocket"));
        let mut open = serde_json::Map::new();
        open.insert("sid".into(), json!(sid));
        if let Some(upgrades) = upgrades {
            open.insert("upgrades".into(), upgrades);
        }
        open.insert("pingInterval".into(), json!(ping_interval));
        open.insert("pingTimeout".into(), json!(ping_timeout));
        if let Some(max) = max_payload_json {
            open.insert("maxPayload".into(), max);
        }
        if rng.chance(10) {
            open.insert("extra".into(), json!({"nested": [1, "two", null]}));
        }
        let mut open_json = Value::Object(open.clone()).to_string();
        if rng.chance(8) {
            let (key, value): (&str, Option<Value>) = rng
                .pick(&[
                    ("sid", None),
                    ("sid", Some(json!(""))),
                    ("sid", Some(json!(42))),
                    ("pingInterval", None),
                    ("pingInterval", Some(json!(0))),
                    ("pingTimeout", Some(json!(0))),
                    ("pingInterval", Some(json!(-5))),
                    ("pingTimeout", Some(json!("25000"))),
                    ("pingInterval", Some(json!(2.5))),
                    ("upgrades", Some(Value::Null)),
                    ("maxPayload", Some(json!(-1))),
                ])
                .clone();
            match value {
                Some(value) => open.insert(key.into(), value),
                None => open.remove(key),
            };
            open_json = Value::Object(open).to_string();
        } else if rng.chance(2) {
            open_json = rng.pick(&["{", "null", "{\"sid\":\"s\"", ""]).to_string();
        }
        let delivery = rng.weighted(&[
            (140, Delivery::Plain),
            (14, Delivery::Split),
            (10, Delivery::Dressed),
            (20, Delivery::Trailing),
            (3, Delivery::Status(400)),
            (1, Delivery::Status(403)),
            (1, Delivery::Status(500)),
            (2, Delivery::Cut),
            (2, Delivery::Reset),
            (1, Delivery::Hang),
            (2, Delivery::NotOpenFirst),
            (2, Delivery::Empty),
            (2, Delivery::NotUtf8),
        ]);
        let mut trailing = Vec::new();
        if delivery == Delivery::Trailing {
            for i in 0..rng.range(1, 4) {
                trailing.push(match rng.below(12) {
                    0 => "1".to_owned(),
                    1 => "6".to_owned(),
                    2 => "2trail".to_owned(),
                    3 => "x?".to_owned(),
                    4 => format!("b{}", model::BASE64.encode(format!("h{seed}.{i}"))),
                    _ => format!("4h{seed}.{i}"),
                });
            }
        }
        let success = matches!(
            delivery,
            Delivery::Plain | Delivery::Split | Delivery::Dressed | Delivery::Trailing
        );
        let trailing_valid = match mode {
            Mode::WebSocket => true,
            _ => trailing.iter().all(|r| !model::record(r).is_invalid()),
        };
        let expect_connect = success && trailing_valid && model::handshake_is_valid(&open_json);
        let final_act = rng.weighted(&[
            (25, FinalAct::ClosePacket),
            (4, FinalAct::CloseFrame(Some(1000))),
            (3, FinalAct::CloseFrame(Some(1001))),
            (4, FinalAct::CloseFrame(None)),
            (3, FinalAct::CloseFrame(Some(4000))),
            (2, FinalAct::CloseFrame(Some(1011))),
            (12, FinalAct::Reset),
            (10, FinalAct::Fin),
            (14, FinalAct::Silence),
            (8, FinalAct::SessionUnknown),
            (10, FinalAct::KeepAlive),
        ]);
        let probe = rng.weighted(&[
            (50, Probe::Normal),
            (5, Probe::Fragmented),
            (5, Probe::Twice),
            (8, Probe::Chatty),
            (3, Probe::Wrong("3prob")),
            (3, Probe::Wrong("3")),
            (3, Probe::Wrong("2probe")),
            (3, Probe::Wrong("4probe-msg")),
            (2, Probe::Wrong("1")),
            (2, Probe::Binary),
            (3, Probe::CloseFrame),
            (3, Probe::Reset),
            (1, Probe::Silent),
            (3, Probe::Refused),
        ]);
        let mut plan = Plan {
            seed,
            mode,
            request_timeout,
            max_body_size,
            max_frame_size,
            max_packets_per_post,
            send_buffer,
            timestamp_requests,
            sid,
            ping_interval,
            ping_timeout,
            max_payload,
            upgrade_offered: upgrade_offered && mode == Mode::Upgrade,
            open_json,
            delivery,
            trailing,
            expect_connect,
            steps: 0,
            final_act,
            probe,
            ping_after: 0.3 + 0.6 * (rng.below(1000) as f64 / 1000.0),
            calm: rng.chance(40),
        };
        plan.steps = if plan.calm {
            rng.range(10, 40)
        } else {
            rng.range(2, 14)
        } as u32;
        // The open packet counts against the client's limits like any other.
        plan.expect_connect &= match mode {
            Mode::WebSocket => plan.open_packet().len() <= max_frame_size.unwrap_or(usize::MAX),
            _ => polling::handshake_fits(&plan),
        };
        plan
    }

    /// The client's settings for this plan, on `url` (the seed goes in the query, so
    /// that the server knows whose request it is).
    pub fn builder(&self, url: &str) -> SessionBuilder {
        let mut builder = self
            .mode
            .builder(url)
            .query("seed", self.seed.to_string())
            .request_timeout(self.request_timeout)
            .timestamp_requests(self.timestamp_requests);
        if let Some(size) = self.max_body_size {
            builder = builder.max_body_size(size);
        }
        if let Some(size) = self.max_frame_size {
            builder = builder.max_frame_size(size);
        }
        if let Some(packets) = self.max_packets_per_post {
            builder = builder.max_packets_per_post(packets);
        }
        if let Some(bytes) = self.send_buffer {
            builder = builder.send_buffer(bytes);
        }
        builder
    }

    /// The client's heartbeat deadline, `pingInterval + pingTimeout`.
    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.ping_interval.saturating_add(self.ping_timeout))
    }

    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval)
    }

    /// The open packet's text.
    pub fn open_packet(&self) -> String {
        format!("0{}", self.open_json)
    }
}
