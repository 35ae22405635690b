//! The polling half of the chaos server: the handshake, polls and POSTs. A poll's answer
//! is drawn up front (how long it is held, which packets, how it is framed on the wire),
//! then built from the session's state once the hold is over, classified with the
//! model and logged just before it is written.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use flate2::Compression;

use super::ledger::{Cause, Class};
use super::model::{self, Seen};
use super::plan::{Delivery, FinalAct, Plan};
use super::rng::Rng;
use super::state::{wait, State};
use crate::support::scripted::{Reply, ScriptedRequest, Then};

pub type Shared = Arc<Mutex<State>>;

pub fn lock(state: &Shared) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// How an answer goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Exact,
    /// `content-length`, written in several pieces a few ms apart.
    Segments,
    Chunked,
    Gzip,
    Zlib,
    RawDeflate,
    /// `content-encoding: gzip` on a body that is not.
    BadGzip,
    UnknownEncoding,
    /// A `content-length` larger than what is written, then the connection closed.
    Cut,
    /// A chunked body cut inside a chunk's data (a cut at a chunk boundary cannot be
    /// told from the end of the body by awc, so it is never made).
    ChunkedCut,
    Reset,
    Status(u16),
    /// A second, unsolicited response right after the answer, then the connection closed.
    Extra,
}

/// Packets that end the body's validity, or the session, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hostile {
    None,
    Record(&'static str),
    EmptyRecord,
    NotUtf8,
    MidClose,
    /// A text message holding the record separator, then this.
    Separator(&'static str),
    /// A message cut in two: its first part ends this body, the rest starts the next.
    Split,
    /// A body this many bytes beyond `max_body_size` (negative: within it).
    Oversize(i64),
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

pub fn text_reply(status: u16, body: &str) -> Reply {
    Reply::text(status, body)
}

pub fn session_unknown() -> Reply {
    Reply::text(400, r#"{"code":1,"message":"Session ID unknown"}"#)
}

fn head(status: u16, headers: &[(String, String)], length: Option<usize>) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} X\r\n");
    match length {
        Some(length) => head.push_str(&format!("content-length: {length}\r\n")),
        None => head.push_str("transfer-encoding: chunked\r\n"),
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// A chunked body in chunks of random sizes (`least` bytes at least, but the last): the
/// chunks, and where each one's data starts and ends in the encoding.
fn chunks(rng: &mut Rng, body: &[u8], least: usize) -> (Vec<u8>, Vec<(usize, usize)>) {
    let (mut out, mut spans, mut at) = (Vec::new(), Vec::new(), 0);
    while at < body.len() {
        let n = rng.usize(least, 64).min(body.len() - at);
        out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        spans.push((out.len(), out.len() + n));
        out.extend_from_slice(&body[at..at + n]);
        out.extend_from_slice(b"\r\n");
        at += n;
    }
    out.extend_from_slice(b"0\r\n\r\n");
    (out, spans)
}

fn compress(framing: Framing, body: &[u8]) -> Vec<u8> {
    fn finish<W: std::io::Write>(mut encoder: W, body: &[u8]) -> W {
        let _ = encoder.write_all(body);
        encoder
    }
    let level = Compression::default();
    match framing {
        Framing::Gzip => finish(GzEncoder::new(Vec::new(), level), body).finish(),
        Framing::Zlib => finish(ZlibEncoder::new(Vec::new(), level), body).finish(),
        _ => finish(DeflateEncoder::new(Vec::new(), level), body).finish(),
    }
    .unwrap_or_default()
}

/// The answer as bytes on the wire, with what it makes the client see.
fn wire(rng: &mut Rng, framing: Framing, answer: Answer) -> Reply {
    let Answer {
        status,
        mut headers,
        body,
    } = answer;
    let plain = |headers: Vec<(String, String)>, body: Vec<u8>| Reply::Http {
        status,
        headers,
        body,
    };
    match framing {
        Framing::Exact | Framing::Status(_) => plain(headers, body),
        Framing::Gzip | Framing::Zlib | Framing::RawDeflate | Framing::BadGzip => {
            let (encoding, body) = match framing {
                Framing::Gzip => ("gzip", compress(framing, &body)),
                Framing::BadGzip => ("gzip", body),
                _ => ("deflate", compress(framing, &body)),
            };
            headers.push(("content-encoding".into(), encoding.into()));
            plain(headers, body)
        }
        Framing::UnknownEncoding => {
            headers.push(("content-encoding".into(), "br".into()));
            plain(headers, body)
        }
        Framing::Segments => {
            let mut bytes = head(status, &headers, Some(body.len()));
            bytes.extend_from_slice(&body);
            // At most about 64 pieces: a large body in 48-byte pieces took longer to
            // write than short heartbeats allow.
            let largest = (bytes.len() / 32).max(48);
            let mut pieces = Vec::new();
            while !bytes.is_empty() {
                let n = rng.usize(1, largest).min(bytes.len());
                pieces.push((rng.millis(0, 3), bytes.drain(..n).collect()));
            }
            Reply::Wire {
                pieces,
                then: Then::Serve,
            }
        }
        Framing::Chunked => {
            let (encoded, _) = chunks(rng, &body, 1);
            let pieces = vec![
                (Duration::ZERO, head(status, &headers, None)),
                (rng.millis(0, 2), encoded),
            ];
            Reply::Wire {
                pieces,
                then: Then::Serve,
            }
        }
        Framing::Cut => {
            let mut bytes = head(status, &headers, Some(body.len() + rng.usize(1, 20)));
            bytes.extend_from_slice(&body[..rng.usize(0, body.len())]);
            Reply::Wire {
                pieces: vec![(Duration::ZERO, bytes)],
                then: Then::Close,
            }
        }
        Framing::Reset => {
            let mut bytes = head(status, &headers, Some(body.len()));
            bytes.extend_from_slice(&body);
            // Never the whole response: the client must not get it complete before the RST.
            let cut = rng.usize(0, bytes.len() - 1);
            Reply::Wire {
                pieces: vec![(Duration::ZERO, bytes[..cut].to_vec())],
                then: Then::Reset,
            }
        }
        Framing::Extra | Framing::ChunkedCut => unreachable!("built by the caller"),
    }
}

fn text_headers() -> Vec<(String, String)> {
    vec![("content-type".into(), "text/plain; charset=UTF-8".into())]
}

/// Logs the messages of a body the client must refuse, record by record.
fn log_refused(state: &mut State, body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    let seen: Vec<Seen> = text.split('\x1e').map(model::record).collect();
    state.ledger.log_forbidden(&seen, "refused body");
}

/// The handshake's body as the plan has it go over polling, before any framing.
pub fn handshake_body(plan: &Plan) -> Vec<u8> {
    let open = plan.open_packet();
    match plan.delivery {
        Delivery::NotOpenFirst => format!("4m{}.0:first\x1e{open}", plan.seed).into_bytes(),
        Delivery::Empty => Vec::new(),
        Delivery::NotUtf8 => {
            let mut body = open.into_bytes();
            body.insert(1, 0xff);
            body
        }
        _ => std::iter::once(open)
            .chain(plan.trailing.iter().cloned())
            .collect::<Vec<_>>()
            .join("\x1e")
            .into_bytes(),
    }
}

/// Whether the handshake's body is within the client's `max_body_size`, as sent and
/// decompressed.
pub fn handshake_fits(plan: &Plan) -> bool {
    let limit = plan.max_body_size.unwrap_or(usize::MAX);
    let body = handshake_body(plan);
    let on_wire = match plan.delivery {
        Delivery::Dressed => compress(Framing::Gzip, &body).len(),
        _ => body.len(),
    };
    body.len() <= limit && on_wire <= limit
}

/// The handshake GET.
pub fn handshake(state: &Shared) -> Reply {
    let mut s = lock(state);
    if s.plan.mode == crate::support::client::Mode::WebSocket {
        s.ledger
            .violation("a polling handshake in a websocket-only session");
    }
    if s.ledger.handshake_at.is_some() || s.opened {
        s.ledger.violation("a second handshake");
    }
    let plan = s.plan.clone();
    let body = handshake_body(&plan);
    let mut rng = Rng::stream(plan.seed, "handshake");
    s.ledger.note(format!("handshake {:?}", plan.delivery));
    let framing = match plan.delivery {
        Delivery::Split => Framing::Chunked,
        Delivery::Dressed => Framing::Gzip,
        Delivery::Cut => Framing::Cut,
        Delivery::Reset => Framing::Reset,
        Delivery::Status(status) => {
            return text_reply(status, r#"{"code":3,"message":"Bad request"}"#);
        }
        Delivery::Hang => return Reply::Hang,
        _ => Framing::Exact,
    };
    let reply = wire(&mut rng, framing, ok(body.clone()));
    if plan.expect_connect {
        s.opened = true;
        s.ledger.handshake_at = Some(std::time::Instant::now());
        let seen = model::body(&body).unwrap_or_default();
        let trailing = seen.get(1..).unwrap_or_default();
        if s.ledger
            .log_packets(trailing, Class::Ordered, true, "handshake")
        {
            s.stream_dead = true;
            s.closed_in_handshake = true;
        }
    } else {
        log_refused(&mut s, &body);
    }
    reply
}

fn ok(body: Vec<u8>) -> Answer {
    Answer {
        status: 200,
        headers: text_headers(),
        body,
    }
}

/// What a poll will be answered with, drawn up front (always the same draws).
struct PollScript {
    hold: Duration,
    /// Answered at once (with a noop first) when the probe is answered meanwhile.
    react: bool,
    ping: bool,
    ping_anyway: bool,
    ping_data: String,
    messages: Vec<bool>,
    sprinkle: Option<&'static str>,
    hostile: Hostile,
    framing: Framing,
    final_variant: bool,
}

fn draw_poll(rng: &mut Rng, plan: &Plan) -> PollScript {
    let (ping_interval, body_limited) = (plan.ping_interval(), plan.max_body_size.is_some());
    let hold = match rng.below(100) {
        0..=59 => rng.millis(0, 10),
        60..=84 => rng.millis(10, 60),
        85..=95 => rng.millis(60, 300).min(ping_interval / 2),
        _ => ping_interval.min(Duration::from_secs(2)),
    };
    let react = rng.chance(65);
    let ping = rng.chance(96);
    let ping_anyway = rng.chance(8);
    let ping_data = match rng.below(4) {
        0 => rng.text(6),
        _ => String::new(),
    };
    let count = rng.weighted(&[(35, 0), (35, 1), (20, 2), (10, 3)]);
    let kinds: Vec<bool> = (0..3).map(|_| rng.chance(35)).collect();
    let sprinkle = rng.weighted(&[
        (60, None),
        (10, Some("6")),
        (8, Some("5")),
        (8, Some("3")),
        (5, Some("3probe")),
        (
            6,
            Some("0{\"sid\":\"other\",\"pingInterval\":5,\"pingTimeout\":5}"),
        ),
        (3, Some("1 trailing data is ignored")),
    ]);
    let oversize = [-1, 0, 1, 60][rng.usize(0, 3)];
    let hostile = rng.weighted(&[
        (930, Hostile::None),
        (6, Hostile::Record("7")),
        (4, Hostile::Record("x")),
        (4, Hostile::Record("b!!")),
        (3, Hostile::Record("0{")),
        (5, Hostile::EmptyRecord),
        (5, Hostile::NotUtf8),
        (6, Hostile::MidClose),
        (6, Hostile::Separator("def")),
        (6, Hostile::Separator("4after")),
        (15, Hostile::Split),
        (
            if body_limited { 25 } else { 0 },
            Hostile::Oversize(oversize),
        ),
    ]);
    let framing = rng.weighted(&[
        (700, Framing::Exact),
        (60, Framing::Segments),
        (60, Framing::Chunked),
        (30, Framing::Gzip),
        (15, Framing::Zlib),
        (15, Framing::RawDeflate),
        (6, Framing::BadGzip),
        (5, Framing::UnknownEncoding),
        (20, Framing::Cut),
        (15, Framing::ChunkedCut),
        (10, Framing::Reset),
        (6, Framing::Status(400)),
        (6, Framing::Status(500)),
        (20, Framing::Extra),
    ]);
    let final_variant = rng.chance(50);
    // A calm session keeps one hostile answer in ten.
    let (hostile, framing) = match (plan.calm, rng.chance(10)) {
        (true, false) => (Hostile::None, calm(framing)),
        _ => (hostile, framing),
    };
    PollScript {
        hold,
        react,
        ping,
        ping_anyway,
        ping_data,
        messages: kinds.into_iter().take(count).collect(),
        sprinkle,
        hostile,
        framing,
        final_variant,
    }
}

/// The framing without its hostility: what a calm session gets instead.
fn calm(framing: Framing) -> Framing {
    match framing {
        Framing::Exact | Framing::Segments | Framing::Chunked | Framing::Gzip => framing,
        Framing::Zlib | Framing::RawDeflate | Framing::Extra => framing,
        _ => Framing::Exact,
    }
}

/// A poll (`GET` with the sid).
pub async fn poll(state: &Shared, req: &ScriptedRequest) -> Reply {
    let (script, finished, probe) = {
        let mut s = lock(state);
        if s.get_in_flight {
            s.ledger.violation("a poll while another is in flight");
        }
        if s.upgraded {
            s.ledger.violation("a poll after the upgrade");
        }
        if s.stream_dead {
            s.ledger
                .violation("a poll after the session's end on polling");
        }
        check_sid(&mut s, req);
        s.get_in_flight = true;
        let mut rng = s.get_rng.clone();
        let script = draw_poll(&mut rng, &s.plan);
        s.get_rng = rng;
        let probe = script.react.then(|| s.probe_answered.subscribe());
        (script, s.finished.subscribe(), probe)
    };
    wait(script.hold, finished, probe).await;
    let mut s = lock(state);
    let mut rng = s.get_rng.clone();
    let reply = answer_poll(&mut s, &mut rng, script);
    s.get_rng = rng;
    reply
}

fn check_sid(s: &mut State, req: &ScriptedRequest) {
    if req.query("sid").as_deref() != Some(s.plan.sid.as_str()) {
        let got = req.query("sid");
        s.ledger
            .violation(format!("sid {got:?} instead of {:?}", s.plan.sid));
    }
    if !s.opened {
        s.ledger.violation("a request before the handshake");
    }
}

fn answer_poll(s: &mut State, rng: &mut Rng, script: PollScript) -> Reply {
    if s.step() || s.doomed {
        return final_poll(s, script.final_variant);
    }
    s.get_in_flight = false;
    let mut records: Vec<String> = Vec::new();
    if let Some(rest) = s.carry.take() {
        records.push(rest);
    }
    if *s.probe_answered.borrow() && script.react {
        records.push("6".into());
    }
    if (script.ping && s.ping_due()) || script.ping_anyway {
        records.push(format!("2{}", script.ping_data));
    }
    let limit = s.plan.max_body_size;
    for &binary in &script.messages {
        let message = s.message(rng, binary, limit);
        records.push(message.record());
    }
    if let Some(extra) = script.sprinkle {
        records.insert(rng.usize(0, records.len()), extra.into());
    }
    match script.hostile {
        Hostile::None | Hostile::NotUtf8 | Hostile::Oversize(_) => {}
        Hostile::Record(record) => records.push(record.into()),
        Hostile::EmptyRecord => records.insert(rng.usize(0, records.len()), String::new()),
        Hostile::MidClose => records.insert(rng.usize(0, records.len()), "1".into()),
        Hostile::Separator(after) => {
            let n = s.unique();
            records.push(format!("4sep{}.{n}\x1e{after}{n}", s.plan.seed));
        }
        Hostile::Split => {
            if let super::state::Msg::Text(text) = s.message(rng, false, None) {
                let mut cut = rng.usize(0, text.len());
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                records.push(format!("4{}", &text[..cut]));
                s.carry = Some(text[cut..].to_owned());
            }
        }
    }
    let mut body = records.join("\x1e").into_bytes();
    if let (Hostile::Oversize(beyond), Some(limit)) = (script.hostile, limit) {
        let target = (limit as i64 + beyond).max(0) as usize;
        let separator = if body.is_empty() { "" } else { "\x1e" };
        let n = s.unique();
        let prefix = format!("{separator}4m{}.pad{n}:", s.plan.seed);
        if target >= body.len() + prefix.len() {
            let fill = target - body.len() - prefix.len();
            body.extend_from_slice(prefix.as_bytes());
            body.extend(std::iter::repeat_n(b'a', fill));
        }
    }
    if script.hostile == Hostile::NotUtf8 {
        body.insert(rng.usize(0, body.len()), 0xff);
    }
    if script.framing == Framing::Extra {
        return extra_response(s, rng, body);
    }
    let framing = match script.framing {
        Framing::BadGzip if body.is_empty() => Framing::Exact,
        Framing::ChunkedCut if body.len() < 2 => Framing::Cut,
        Framing::ChunkedCut => return chunked_cut(s, rng, body),
        framing => framing,
    };
    let pings_before = s.ledger.live_pings.len();
    log_poll(s, framing, &body);
    let status = match script.framing {
        Framing::Status(status) => status,
        _ => 200,
    };
    let answer = Answer {
        status,
        headers: text_headers(),
        body,
    };
    let reply = wire(rng, framing, answer);
    if let Reply::Wire { pieces, .. } = &reply {
        // The client reads a ping once the whole body is in: it counts from then.
        let writing: Duration = pieces.iter().map(|(delay, _)| *delay).sum();
        for ping in &mut s.ledger.live_pings[pings_before..] {
            *ping += writing;
            s.ledger.last_ping = s.ledger.last_ping.max(Some(*ping));
        }
    }
    reply
}

/// Classifies and logs a poll's answer: what the client must make of it.
fn log_poll(s: &mut State, framing: Framing, body: &[u8]) {
    let limit = s.plan.max_body_size.unwrap_or(usize::MAX);
    let on_wire = match framing {
        Framing::Gzip | Framing::Zlib | Framing::RawDeflate => compress(framing, body).len(),
        _ => body.len(),
    };
    let mut causes = Vec::new();
    match framing {
        Framing::Status(status) => causes.push(Cause::Status(status)),
        Framing::Cut | Framing::Reset => causes.push(Cause::Lost),
        Framing::UnknownEncoding => causes.push(Cause::Lost),
        Framing::BadGzip => causes.push(Cause::Lost),
        _ => {}
    }
    // A cut body announces up to 20 bytes more than it has: awc refuses that from the
    // header when it is above the limit.
    let announced = on_wire + if framing == Framing::Cut { 20 } else { 0 };
    if !matches!(framing, Framing::Status(_)) && (body.len() > limit || announced > limit) {
        causes.push(Cause::BodyTooLarge);
    }
    let parsed = model::body(body);
    if parsed.is_err() && !matches!(framing, Framing::Status(_)) {
        causes.push(Cause::Malformed);
    }
    let seen = match parsed {
        Ok(seen) if causes.is_empty() => seen,
        _ => {
            s.ledger.note(format!(
                "poll answer refused ({framing:?}, {causes:?}, {} bytes)",
                body.len()
            ));
            log_refused(s, body);
            for cause in causes {
                s.kill_stream(cause, "refused poll answer");
            }
            return;
        }
    };
    let class = if s.stream_dead {
        Class::Forbidden
    } else {
        Class::Ordered
    };
    s.ledger.note(format!(
        "poll answer {framing:?}: {} packets, {} bytes",
        seen.len(),
        body.len()
    ));
    if s.ledger.log_packets(&seen, class, true, "poll") {
        s.stream_dead = true;
    }
}

/// A chunked answer cut inside a chunk's data (one byte of it written at least, one
/// missing at least), then the connection closed. awc ends such a body at the cut as if
/// it were whole (its chunked decoder takes the end of the stream for the end of the
/// body), and the client decodes what came: the known deviation K2. The server logs
/// what the client will make of the part that came: when it is a valid payload, its
/// messages (the last maybe cut short) go in the ledger as `Ordered` and are noted as
/// K2 if delivered; else the client refuses it as malformed.
fn chunked_cut(s: &mut State, rng: &mut Rng, body: Vec<u8>) -> Reply {
    let (encoded, spans) = chunks(rng, &body, 2);
    let inside: Vec<&(usize, usize)> = spans
        .iter()
        .filter(|(start, end)| end - start >= 2)
        .collect();
    let (start, end) = **rng.pick(&inside);
    let cut = rng.usize(start + 1, end - 1);
    // The body's bytes before the cut: the whole chunks before, and the cut one's start.
    let chunk = spans.iter().position(|span| span.0 == start).unwrap_or(0);
    let kept: usize = spans[..chunk].iter().map(|(a, b)| b - a).sum::<usize>() + (cut - start);
    let part = &body[..kept];
    s.ledger.cause(Cause::Lost);
    s.ledger.note(format!(
        "poll answer chunked, cut inside a chunk after {kept} of {} bytes (K2)",
        body.len()
    ));
    let limit = s.plan.max_body_size.unwrap_or(usize::MAX);
    // The client counts the bytes as they come: past the limit it refuses the body
    // before anything in it is parsed.
    match model::body(part) {
        Ok(seen) if part.len() <= limit => {
            let before = s.ledger.sent.len();
            let class = if s.stream_dead {
                Class::Forbidden
            } else {
                Class::Ordered
            };
            if s.ledger
                .log_packets(&seen, class, true, "cut chunked poll answer (K2)")
            {
                s.stream_dead = true;
            }
            let logged: Vec<_> = s.ledger.sent[before..]
                .iter()
                .map(|m| m.payload.clone())
                .collect();
            s.ledger.truncated.extend(logged);
        }
        parsed => {
            let cause = if part.len() > limit {
                Cause::BodyTooLarge
            } else if parsed.is_err() {
                Cause::Malformed
            } else {
                Cause::BodyTooLarge
            };
            log_refused(s, part);
            s.kill_stream(cause, "cut chunked poll answer, refused");
        }
    }
    log_refused_all(s, &body);
    let mut bytes = head(200, &text_headers(), None);
    bytes.extend_from_slice(&encoded[..cut]);
    Reply::Wire {
        pieces: vec![(Duration::ZERO, bytes)],
        then: Then::Close,
    }
}

/// Logs the messages of the whole body as forbidden when they differ from what the
/// client can have got (the whole of a body that never came whole).
fn log_refused_all(s: &mut State, body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    let seen: Vec<Seen> = text
        .split('\x1e')
        .map(model::record)
        .filter(|seen| match seen {
            Seen::Message(payload) => !s.ledger.sent.iter().any(|m| m.payload == *payload),
            _ => false,
        })
        .collect();
    s.ledger
        .log_forbidden(&seen, "the unsent rest of a cut body");
}

/// The answer, then a second response nobody asked for, then the connection closed.
fn extra_response(s: &mut State, rng: &mut Rng, body: Vec<u8>) -> Reply {
    log_poll(s, Framing::Exact, &body);
    let mut bytes = head(200, &text_headers(), Some(body.len()));
    bytes.extend_from_slice(&body);
    let limit = s.plan.max_body_size;
    // The same answer again, byte for byte, or one with messages of its own.
    let extra = if rng.chance(50) {
        body
    } else {
        let mut records: Vec<String> = Vec::new();
        for _ in 0..rng.usize(1, 2) {
            records.push(s.message(rng, false, limit).record());
        }
        if rng.chance(30) {
            records.push("1".to_owned());
        }
        records.join("\x1e").into_bytes()
    };
    s.ledger.extra_responses = true;
    s.ledger.cause(Cause::Lost);
    s.ledger.note("an extra response after the answer");
    let fits = extra.len() <= limit.unwrap_or(usize::MAX);
    if let (Ok(seen), true) = (model::body(&extra), fits) {
        s.ledger
            .log_packets(&seen, Class::Loose, false, "extra response");
    }
    bytes.extend(head(200, &text_headers(), Some(extra.len())));
    bytes.extend_from_slice(&extra);
    Reply::Wire {
        pieces: vec![(Duration::ZERO, bytes)],
        then: Then::Close,
    }
}

/// The final act, over polling.
fn final_poll(s: &mut State, variant: bool) -> Reply {
    s.get_in_flight = false;
    let act = s.plan.final_act;
    match act {
        FinalAct::ClosePacket | FinalAct::CloseFrame(_) | FinalAct::KeepAlive => {
            if s.stream_dead {
                return session_unknown();
            }
            let body = if variant { "6\x1e1" } else { "1" };
            log_poll(s, Framing::Exact, body.as_bytes());
            text_reply(200, body)
        }
        FinalAct::Reset | FinalAct::Fin => {
            s.kill_stream(Cause::Lost, "final act");
            Reply::Wire {
                pieces: Vec::new(),
                then: if act == FinalAct::Reset {
                    Then::Reset
                } else {
                    Then::Close
                },
            }
        }
        FinalAct::Silence => {
            s.get_in_flight = true;
            Reply::Hang
        }
        FinalAct::SessionUnknown => {
            s.kill_stream(Cause::Status(400), "final act");
            session_unknown()
        }
    }
}

/// A POST: what the client sends.
pub async fn post(state: &Shared, req: &ScriptedRequest) -> Reply {
    let (delay, answer, finished) = {
        let mut s = lock(state);
        if s.post_in_flight {
            s.ledger.violation("a POST while another is in flight");
        }
        if s.upgraded {
            s.ledger.violation("a POST after the upgrade");
        }
        check_sid(&mut s, req);
        let content_type = req.header("content-type").unwrap_or_default();
        if !content_type.eq_ignore_ascii_case("text/plain;charset=UTF-8") {
            s.ledger
                .violation(format!("a POST with content-type {content_type:?}"));
        }
        s.post_in_flight = true;
        super::client_packets(&mut s, &req.body, "POST");
        let rng = &mut s.post_rng;
        let delay = match rng.below(100) {
            0..=79 => rng.millis(0, 5),
            80..=97 => rng.millis(5, 80),
            _ => Duration::ZERO,
        };
        let answer = rng.weighted(&[
            (880, "ok"),
            (15, "400"),
            (15, "500"),
            (10, "reset"),
            (10, "fin"),
            (10, "late"),
            (15, "messages"),
            (10, "big"),
            (10, "cut"),
            (5, "extra"),
        ]);
        (delay, answer, s.finished.subscribe())
    };
    let late = lock(state).plan.request_timeout + Duration::from_millis(300);
    wait(if answer == "late" { late } else { delay }, finished, None).await;
    let mut s = lock(state);
    s.post_in_flight = false;
    let answer = match (s.doomed, s.plan.final_act) {
        (true, FinalAct::SessionUnknown) => "unknown",
        _ => answer,
    };
    if answer != "ok" {
        s.ledger.note(format!("POST answered {answer}"));
    }
    match answer {
        "400" | "500" | "unknown" => {
            let status = if answer == "500" { 500 } else { 400 };
            s.ledger.cause(Cause::Status(status));
            text_reply(status, r#"{"code":3,"message":"Bad request"}"#)
        }
        "reset" | "fin" | "cut" => {
            s.ledger.cause(Cause::Lost);
            let then = if answer == "reset" {
                Then::Reset
            } else {
                Then::Close
            };
            let pieces = match answer {
                "cut" => vec![(
                    Duration::ZERO,
                    b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nok".to_vec(),
                )],
                _ => Vec::new(),
            };
            Reply::Wire { pieces, then }
        }
        "messages" => {
            let seen = [Seen::Message(
                format!("m{}.post", s.plan.seed).as_str().into(),
            )];
            s.ledger.log_forbidden(&seen, "POST answer");
            text_reply(200, &format!("4m{}.post", s.plan.seed))
        }
        "big" => {
            s.ledger.cause(Cause::BodyTooLarge);
            text_reply(200, &"ok".repeat(600))
        }
        "extra" => {
            s.ledger.extra_responses = true;
            s.ledger.cause(Cause::Lost);
            let bytes = [head(200, &text_headers(), Some(2)), b"ok".to_vec()].concat();
            Reply::Wire {
                pieces: vec![(Duration::ZERO, [bytes.clone(), bytes].concat())],
                then: Then::Close,
            }
        }
        _ => text_reply(200, "ok"),
    }
}
