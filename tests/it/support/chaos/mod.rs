//! A chaos server: hostile but plausible Engine.IO v4 on 127.0.0.1, drawn from a seed,
//! against the real client over real sockets, both transports and the upgrade between
//! them. Built on [`Scripted`](super::scripted::Scripted) (raw HTTP/1.1 answers, byte
//! for byte, and tokio-tungstenite websockets).
//!
//! The seed decides a [`Plan`]: the client's settings (transports, small `max_body_size`
//! and `max_frame_size` now and then, request timeout, POST batching, send buffer), the
//! handshake (fields present, missing, invalid, odd values such as a `pingInterval` of
//! 1 ms or of 30 years, `upgrades` absent or not naming websocket; delivered plainly,
//! chunked, gzipped, with packets after it, cut, reset, refused, never, or not first),
//! how many answers the server plays before its final act (a close packet, a close frame
//! with a normal or abnormal code, a reset, a connection closed without a word, silence,
//! `Session ID unknown`, or nothing: the client must close), and how the probe is
//! answered (`3probe` right, in fragments, twice, with chatter before `5`, wrong, in a
//! binary frame, a close, a reset, never, refused). Every session sends the seed in its
//! query (`seed=N`): the server finds the plan by it.
//!
//! What the server does along the way is drawn from per-concern random streams
//! ([`Rng::stream`]) of the seed: polls held a few ms or up to `pingInterval` (and
//! answered at once with a noop when the probe is answered, as Node does), pings (with
//! data now and then) or none, 0 to 3 messages (text with multi-byte characters, binary
//! as `b`-base64) of sizes around the client's limits now and then, noops, upgrades,
//! pongs, valid open packets at the wrong time; now and then an unknown packet type, an
//! empty record, bad base64, a broken open packet, bytes that are not UTF-8, a close
//! packet mid-body, a text message holding the record separator, a message split across
//! two poll bodies, a body just within or beyond `max_body_size`; framed exactly, in TCP
//! segments a few ms apart, chunked, gzip/zlib/raw deflate, wrongly encoded, cut short
//! (`content-length` larger than what comes; chunked bodies cut inside a chunk's data,
//! never at a chunk boundary, which awc cannot tell from the end of the body), reset,
//! answered 400 or 500, or followed by a second response nobody asked for. POSTs are
//! answered `ok` (at once or late), 400, 500, with a reset, a cut, a body too long, a
//! message (which must be ignored), a second response, or after the request timeout.
//! Over websocket: pings, messages as one frame or fragments (with ping frames between),
//! binary frames, ping and pong frames, noops; now and then an unknown type, an empty
//! or non-UTF-8 text frame, a message above `max_frame_size`, a continuation without a
//! start, RSV1 set, a reserved opcode, a header announcing 1 TiB, a close packet, a close
//! frame, a reset, a socket dropped without a close frame.
//!
//! Before writing, the server classifies every body and frame with a model of the
//! protocol notes ([`model`], independent of the crate's decoder) and logs each message
//! in its [`Ledger`] with a [`Class`]: `Ordered` (must be delivered in order, none
//! skipped; only a tail may be lost when the session ends), `Loose` (may or may not be
//! read: an unsolicited second response, the probe between `3probe` and `5`) or
//! `Forbidden` (a cut, malformed, too large or refused body; after a close packet or
//! anything else that ends the session; on the probe before `3probe`; a POST answer).
//! It also logs the [`Cause`]s it gave the client to end the session, the pings it
//! wrote, what it received, and what the client did against the protocol (two polls at
//! once, a poll after the upgrade or after the session's end, a POST with the wrong
//! content type, a pong to no ping, a ping of its own, a second probe).
//!
//! ```ignore
//! let server = ChaosServer::start();
//! let plan = Plan::new(seed);
//! server.expect(plan.clone());
//! let session = plan.builder(&server.url()).connect().await;
//! // … the session runs, the test waits for its end …
//! let ledger = server.finish(seed).unwrap();
//! ```

mod ledger;
mod model;
mod plan;
mod polling;
mod rng;
mod state;
mod websocket;

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_engineio::Payload;
use base64::Engine as _;
use futures::FutureExt;

pub use self::ledger::{Cause, Class, Ledger, Sent};
pub use self::model::wire_sizes;
pub use self::plan::{FinalAct, Plan};
use self::polling::lock;
pub use self::rng::Rng;
use self::state::State;
use super::scripted::{Reply, Scripted, ScriptedRequest};

/// Panics of the server's own code (a bug of the test, not of the client).
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The sessions the server expects, by seed.
type Sessions = Arc<Mutex<HashMap<u64, polling::Shared>>>;

/// Where a session stands, for the test's deadlines.
#[derive(Debug, Clone, Copy)]
pub struct Status {
    pub handshake_at: Option<Instant>,
    pub last_ping: Option<Instant>,
    pub doomed_at: Option<Instant>,
}

/// The running server; dropping it stops it.
pub struct ChaosServer {
    scripted: Scripted,
    sessions: Sessions,
}

impl ChaosServer {
    pub fn start() -> ChaosServer {
        let sessions = Sessions::default();
        let known = sessions.clone();
        let scripted = Scripted::start_unlogged(move |request| {
            let sessions = known.clone();
            guarded(async move { route(sessions, request).await })
                .map(|reply| reply.unwrap_or_else(|| Reply::text(500, "chaos server panic")))
        });
        ChaosServer { scripted, sessions }
    }

    pub fn url(&self) -> String {
        self.scripted.url()
    }

    /// Registers the session of `plan.seed`: requests with that seed are answered.
    pub fn expect(&self, plan: Plan) {
        let seed = plan.seed;
        let state = Arc::new(Mutex::new(State::new(plan)));
        self.sessions.lock().unwrap().insert(seed, state);
    }

    pub fn status(&self, seed: u64) -> Option<Status> {
        let state = self.sessions.lock().unwrap().get(&seed)?.clone();
        let s = lock(&state);
        Some(Status {
            handshake_at: s.ledger.handshake_at,
            last_ping: s.ledger.last_ping,
            doomed_at: s.ledger.doomed_at,
        })
    }

    /// Ends the session of `seed` on the server's side (held requests and sockets give
    /// up; later requests get `400`) and returns its ledger.
    pub fn finish(&self, seed: u64) -> Option<Ledger> {
        let state = self.sessions.lock().unwrap().remove(&seed)?;
        let mut s = lock(&state);
        let _ = s.finished.send(true);
        s.ledger.upgraded = s.upgraded;
        Some(std::mem::take(&mut s.ledger))
    }

    /// Panics of the server's own code so far (in any chaos server of the process).
    pub fn panics() -> Vec<String> {
        PANICS.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Runs `work`, keeping its panic (if any) for [`ChaosServer::panics`].
pub fn guarded<T>(work: impl Future<Output = T>) -> impl Future<Output = Option<T>> {
    AssertUnwindSafe(work)
        .catch_unwind()
        .map(|result| match result {
            Ok(value) => Some(value),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                PANICS.lock().unwrap_or_else(|e| e.into_inner()).push(what);
                None
            }
        })
}

async fn route(sessions: Sessions, request: ScriptedRequest) -> Reply {
    let seed = request
        .query("seed")
        .and_then(|seed| seed.parse::<u64>().ok());
    let state = seed.and_then(|seed| sessions.lock().unwrap().get(&seed).cloned());
    let Some(state) = state else {
        return polling::session_unknown();
    };
    if request.is_websocket() {
        return websocket::accept(&state, &request);
    }
    match (request.method.as_str(), request.query("sid")) {
        ("GET", None) => polling::handshake(&state),
        ("GET", Some(_)) => polling::poll(&state, &request).await,
        ("POST", Some(_)) => polling::post(&state, &request).await,
        (method, _) => {
            lock(&state)
                .ledger
                .violation(format!("a {method} request without sid"));
            Reply::text(400, "")
        }
    }
}

/// One packet from the client: a record of a POST, or a websocket text frame.
fn client_packet(s: &mut State, text: &str, via: &str) {
    let mut chars = text.chars();
    let kind = chars.next();
    let data = chars.as_str();
    match kind {
        Some('4') => s.ledger.received.push(Payload::from(data)),
        Some('b') if via == "POST" => match model::BASE64.decode(data) {
            Ok(bytes) => s.ledger.received.push(Payload::from(bytes)),
            Err(_) => s
                .ledger
                .violation(format!("bad base64 from the client: {text:?}")),
        },
        Some('3') if s.ledger.ping_data.contains(data) => {}
        Some('3') => s
            .ledger
            .violation(format!("a pong {data:?} to no ping ({via})")),
        Some('1') => s.ledger.note(format!("close from the client ({via})")),
        _ => s
            .ledger
            .violation(format!("{:.40?} from the client ({via})", text)),
    }
}

/// The records of a POST body.
fn client_packets(s: &mut State, body: &[u8], via: &str) {
    match std::str::from_utf8(body) {
        Ok("") => s.ledger.violation("an empty POST"),
        Ok(text) => text
            .split('\x1e')
            .for_each(|record| client_packet(s, record, via)),
        Err(_) => s.ledger.violation("a POST that is not UTF-8"),
    }
}
