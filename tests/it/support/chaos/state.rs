//! One session as the chaos server plays it: its plan, its random streams, where the
//! session stands (opened, probe answered, upgraded, doomed), and its ledger.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::ledger::{Cause, Ledger};
use super::plan::{FinalAct, Plan};
use super::rng::Rng;

/// A message the server is about to write: its text (without the `4`) or its bytes.
#[derive(Debug, Clone)]
pub enum Msg {
    Text(String),
    Binary(Vec<u8>),
}

impl Msg {
    /// As a polling record: `4…` or `b` and base64.
    pub fn record(&self) -> String {
        use base64::Engine as _;
        match self {
            Msg::Text(text) => format!("4{text}"),
            Msg::Binary(data) => format!("b{}", super::model::BASE64.encode(data)),
        }
    }
}

pub struct State {
    pub plan: Plan,
    pub ledger: Ledger,
    pub get_rng: Rng,
    pub post_rng: Rng,
    pub ws_rng: Rng,
    pub probe_rng: Rng,
    /// The handshake went out and the client must have a session.
    pub opened: bool,
    pub steps_left: u32,
    /// The final act has started: no more pings.
    pub doomed: bool,
    /// The session's stream (the polls, or the websocket once active) carried something
    /// that ends the session: whatever comes after on it must not be delivered.
    pub stream_dead: bool,
    pub probe_opened: bool,
    /// `3probe` went out.
    pub probe_answered: watch::Sender<bool>,
    /// `5` came in: the websocket is the session's transport.
    pub upgraded: bool,
    pub get_in_flight: bool,
    /// The handshake body ended with the close packet: no poll and no probe may follow.
    pub closed_in_handshake: bool,
    pub post_in_flight: bool,
    /// The rest of a message whose first part ended the previous poll's body.
    pub carry: Option<String>,
    counter: u64,
    /// The test is done with the session: held requests and sockets give up.
    pub finished: watch::Sender<bool>,
}

impl State {
    pub fn new(plan: Plan) -> State {
        let seed = plan.seed;
        State {
            steps_left: plan.steps,
            plan,
            ledger: Ledger::new(),
            get_rng: Rng::stream(seed, "get"),
            post_rng: Rng::stream(seed, "post"),
            ws_rng: Rng::stream(seed, "ws"),
            probe_rng: Rng::stream(seed, "probe"),
            opened: false,
            doomed: false,
            stream_dead: false,
            probe_opened: false,
            probe_answered: watch::channel(false).0,
            upgraded: false,
            get_in_flight: false,
            closed_in_handshake: false,
            post_in_flight: false,
            carry: None,
            counter: 0,
            finished: watch::channel(false).0,
        }
    }

    /// A new message, unique in the run (seed and counter lead it), of a size drawn
    /// around `limit` (the client's) now and then.
    pub fn message(&mut self, rng: &mut Rng, binary: bool, limit: Option<usize>) -> Msg {
        self.counter += 1;
        let size = match (rng.below(100), limit) {
            (0..=59, _) => rng.usize(0, 40),
            (60..=84, _) => rng.usize(40, 400),
            (85..=93, _) => rng.usize(400, 3000),
            (_, Some(limit)) => limit.saturating_sub(2) + rng.usize(0, 4),
            (_, None) => rng.usize(3000, 20_000),
        };
        if binary {
            let mut data = b"M".to_vec();
            data.extend_from_slice(&self.plan.seed.to_le_bytes());
            data.extend_from_slice(&self.counter.to_le_bytes());
            data.extend(rng.bytes(size.saturating_sub(data.len())));
            Msg::Binary(data)
        } else {
            let mut text = format!("m{}.{}:", self.plan.seed, self.counter);
            let rest = size.saturating_sub(text.len());
            text.push_str(&rng.text(rest));
            Msg::Text(text)
        }
    }

    /// A number no other message of the run has.
    pub fn unique(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// Whether a ping is due: the plan's fraction of `pingInterval` since the last one.
    pub fn ping_due(&self) -> bool {
        let after = self.plan.ping_interval().mul_f64(self.plan.ping_after);
        !self.doomed && self.ledger.last_ping.is_none_or(|at| at.elapsed() >= after)
    }

    /// One step of the script played: `true` when it was the last, and the final act
    /// starts now (never for [`FinalAct::KeepAlive`]).
    pub fn step(&mut self) -> bool {
        if self.doomed || self.plan.final_act == FinalAct::KeepAlive {
            return false;
        }
        self.steps_left = self.steps_left.saturating_sub(1);
        if self.steps_left == 0 {
            self.doomed = true;
            self.ledger.doomed_at = Some(Instant::now());
            self.ledger
                .note(format!("final act {:?}", self.plan.final_act));
            return true;
        }
        false
    }

    /// Something fatal went out on the session's stream.
    pub fn kill_stream(&mut self, cause: Cause, what: &str) {
        self.ledger.cause(cause);
        if !self.stream_dead {
            self.ledger.note(format!("stream ends: {what}"));
        }
        self.stream_dead = true;
    }
}

/// Waits `delay`, or less: until the test is done with the session, or (when
/// `probe` is given) until the probe is answered. Take the receivers under the lock.
pub async fn wait(
    delay: Duration,
    mut finished: watch::Receiver<bool>,
    probe: Option<watch::Receiver<bool>>,
) {
    let probe = async {
        match probe {
            Some(mut probe) => {
                let _ = probe.wait_for(|answered| *answered).await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::time::sleep(delay) => {}
        _ = finished.wait_for(|done| *done) => {}
        _ = probe => {}
    }
}
