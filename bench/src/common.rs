//! What every contender shares: the jobs, the payloads and their checks, timing
//! helpers, and the process measurements (RSS, CPU time, file descriptor limit).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The engine.io path of the echo server.
pub const EIO_PATH: &str = "/engine.io/";

/// The largest websocket message any contender accepts (and the server's `maxPayload`).
pub const MAX_MESSAGE: usize = 10_000_000;

/// What a scenario does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Websocket, send one and wait for its echo, `count` times.
    WsSeq,
    /// Websocket, `count` messages back to back while the echoes are read.
    WsPipe,
    /// Polling only, sequential.
    PollSeq,
    /// Polling only, pipelined.
    PollPipe,
    /// `sessions` times: from `connect` to the session running on websocket.
    Upgrade,
    /// `sessions` idle websocket sessions open at once: memory and time to open.
    Idle,
    /// `sessions` websocket sessions, each sending `count` messages pipelined.
    Many,
}

/// One scenario, with its sizes for this run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub kind: Kind,
    /// Message size in bytes (the payload, without the engine.io type char).
    pub size: usize,
    /// Messages (per session for `Many`).
    pub count: usize,
    /// Sessions (`Upgrade`, `Idle`, `Many`).
    pub sessions: usize,
    /// Sessions opened concurrently at a time (`Idle`, `Many`).
    pub batch: usize,
}

/// The clients under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Contender {
    /// This crate, through its actor API.
    #[serde(rename = "actix-engineio")]
    Ours,
    /// `rust_engineio` 0.6, its async client, on a tokio multi-thread runtime.
    #[serde(rename = "rust_engineio/multi-thread")]
    RustEngineio,
    /// `rust_engineio` 0.6, its async client, on a tokio current-thread runtime.
    #[serde(rename = "rust_engineio/current-thread")]
    RustEngineioCt,
    /// awc with engine.io frames written and read by hand: the limit.
    #[serde(rename = "bare-awc")]
    Bare,
    /// This crate again, but pipelined messages go out with `Addr::do_send` (no reply
    /// awaited per message). Not in the default set: it shows how much of the pipelined
    /// figure is the request/reply of `send().await`.
    #[serde(rename = "actix-engineio/do_send")]
    OursDoSend,
    /// This crate again, pipelining through a `SessionSender` (`GetSender`) and
    /// receiving `Messages` (one event per read) instead of one `Message` each: the
    /// actor API as a high-rate actix application uses it. Only where it differs from
    /// [`Contender::Ours`]: the pipelined scenarios and `many`.
    #[serde(rename = "actix-engineio/batched")]
    OursBatched,
    /// This crate through `AsyncClient`, on a plain Tokio runtime.
    #[serde(rename = "actix-engineio/AsyncClient")]
    OursAsync,
    /// This crate through the blocking `Client`.
    #[serde(rename = "actix-engineio/Client")]
    OursBlocking,
    /// Node's `engine.io-client` 6.6 (from the node peer's lockfile), a script of its own.
    #[serde(rename = "engine.io-client")]
    Node,
    /// python-engineio 4.15's `AsyncClient` (from the python peer's venv), a script.
    #[serde(rename = "python-engineio")]
    Python,
    /// No client: only what the benchmark itself does per message (makes each payload
    /// and checks it as an echo), with no network. `profile` measures it and subtracts
    /// it from every contender. Never part of the main run.
    #[serde(rename = "harness")]
    Harness,
}

impl Contender {
    pub const ALL: [Contender; 9] = [
        Contender::Ours,
        Contender::OursBatched,
        Contender::OursAsync,
        Contender::OursBlocking,
        Contender::RustEngineio,
        Contender::RustEngineioCt,
        Contender::Bare,
        Contender::Node,
        Contender::Python,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Contender::Ours => "actix-engineio",
            Contender::RustEngineio => "rust_engineio/multi-thread",
            Contender::RustEngineioCt => "rust_engineio/current-thread",
            Contender::Bare => "bare-awc",
            Contender::OursDoSend => "actix-engineio/do_send",
            Contender::OursBatched => "actix-engineio/batched",
            Contender::OursAsync => "actix-engineio/AsyncClient",
            Contender::OursBlocking => "actix-engineio/Client",
            Contender::Node => "engine.io-client",
            Contender::Python => "python-engineio",
            Contender::Harness => "harness",
        }
    }

    /// Whether this contender measures scenarios of this kind.
    pub fn supports(self, kind: Kind) -> bool {
        match self {
            Contender::OursAsync | Contender::OursBlocking => crate::clients::supports(kind),
            // Its sequential, upgrade and idle runs would be the plain actor API's.
            Contender::OursBatched => {
                matches!(kind, Kind::WsPipe | Kind::PollPipe | Kind::Many)
            }
            Contender::Harness => matches!(
                kind,
                Kind::WsSeq | Kind::WsPipe | Kind::PollSeq | Kind::PollPipe
            ),
            _ => true,
        }
    }

    /// Whether a failed run of this contender is its result (another project's client)
    /// rather than a failure of the benchmark or of this crate.
    pub fn is_foreign(self) -> bool {
        matches!(
            self,
            Contender::RustEngineio
                | Contender::RustEngineioCt
                | Contender::Node
                | Contender::Python
        )
    }

    /// One name on the command line; `rust_engineio` means both of its runtimes.
    pub fn parse(s: &str) -> Result<Vec<Contender>, String> {
        Ok(match s.trim() {
            "ours" | "actix-engineio" | "actix" => vec![Contender::Ours],
            "rust_engineio" | "rust-engineio" | "rei" => {
                vec![Contender::RustEngineio, Contender::RustEngineioCt]
            }
            "rei-mt" | "rust_engineio/multi-thread" => vec![Contender::RustEngineio],
            "rei-ct" | "rust_engineio/current-thread" => vec![Contender::RustEngineioCt],
            "bare" | "bare-awc" | "awc" => vec![Contender::Bare],
            "ours-do-send" | "do_send" | "actix-engineio/do_send" => vec![Contender::OursDoSend],
            "ours-batched" | "batched" | "actix-engineio/batched" => vec![Contender::OursBatched],
            "ours-async" | "async" | "actix-engineio/AsyncClient" => vec![Contender::OursAsync],
            "ours-blocking" | "blocking" | "actix-engineio/Client" => {
                vec![Contender::OursBlocking]
            }
            "node" | "engine.io-client" => vec![Contender::Node],
            "python" | "python-engineio" => vec![Contender::Python],
            "harness" => vec![Contender::Harness],
            other => {
                return Err(format!(
                    "unknown contender {other:?} (ours, ours-async, ours-blocking, \
                     ours-do-send, ours-batched, rust_engineio (rei-mt and rei-ct), bare, node, python \
                     or harness)"
                ))
            }
        })
    }
}

/// One measurement, run in a child process of its own.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub scenario: Scenario,
    pub contender: Contender,
    /// `http://127.0.0.1:PORT`, no path.
    pub base: String,
    /// `--max-packets-per-post`: the polling packet cap of this crate's contenders
    /// (`None`: the crate's default).
    #[serde(default)]
    pub max_packets_per_post: Option<usize>,
}

/// What one measurement found.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Measurement {
    pub metrics: BTreeMap<String, f64>,
    pub notes: Vec<String>,
}

impl Measurement {
    pub fn set(&mut self, key: &str, value: f64) -> &mut Self {
        self.metrics.insert(key.to_owned(), value);
        self
    }
}

pub type BenchResult<T> = Result<T, String>;

/// Message payloads: message `i` is `i` in ten digits followed by a fixed pattern, so
/// every echo can be checked for content and order.
#[derive(Clone)]
pub struct Payloads {
    size: usize,
    tail: String,
}

impl Payloads {
    pub fn new(size: usize) -> Payloads {
        assert!(size >= 10, "messages carry a 10-digit sequence number");
        let tail: String = (0..size - 10)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        Payloads { size, tail }
    }

    /// The size of every message, in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Message `i`.
    pub fn make(&self, i: usize) -> String {
        self.make_prefixed(i, "")
    }

    /// Message `i` after `prefix` (the bare client's `4` type char): one allocation, no
    /// formatting pass, so that the harness's own share of each message stays small.
    pub fn make_prefixed(&self, i: usize, prefix: &str) -> String {
        let mut s = String::with_capacity(prefix.len() + self.size);
        s.push_str(prefix);
        // Ten ASCII digits: valid UTF-8.
        s.push_str(std::str::from_utf8(&digits(i)).unwrap_or_default());
        s.push_str(&self.tail);
        s
    }

    /// Whether `got` is message `i`.
    pub fn check(&self, i: usize, got: &[u8]) -> BenchResult<()> {
        let number = digits(i);
        if got.len() == self.size && got[..10] == number && got[10..] == *self.tail.as_bytes() {
            return Ok(());
        }
        let number = String::from_utf8_lossy(&number);
        let head = String::from_utf8_lossy(&got[..got.len().min(24)]).into_owned();
        Err(format!(
            "echo #{i} is wrong: expected {} bytes starting {number:?}, got {} bytes starting {head:?}",
            self.size,
            got.len()
        ))
    }
}

/// The echoes a subscriber or a handler checked as they came, in order.
#[derive(Default)]
pub struct Echoes {
    /// Checked so far, all right and in order.
    pub right: usize,
    /// The first wrong echo, or the end of the session.
    pub failed: Option<String>,
}

impl Echoes {
    /// Checks the next echo (nothing more once one failed).
    pub fn check(&mut self, p: &Payloads, payload: &actix_engineio::Payload) {
        if self.failed.is_some() {
            return;
        }
        let got: &[u8] = match payload {
            actix_engineio::Payload::Text(text) => text.as_bytes(),
            actix_engineio::Payload::Binary(data) => data,
        };
        match p.check(self.right, got) {
            Ok(()) => self.right += 1,
            Err(e) => self.failed = Some(e),
        }
    }

    /// The session ended, for `why`: an echo still awaited will not come.
    pub fn ended(&mut self, why: &str) {
        if self.failed.is_none() {
            self.failed = Some(format!("session ended after {} echoes: {why}", self.right));
        }
    }

    /// `Ok(true)` once `count` echoes are in, all right; the first failure otherwise.
    pub fn reached(&self, count: usize) -> BenchResult<bool> {
        match &self.failed {
            Some(failed) => Err(failed.clone()),
            None => Ok(self.right >= count),
        }
    }
}

/// `i` in ten decimal digits, zero-padded (`format!("{i:010}")` without the formatter).
fn digits(mut i: usize) -> [u8; 10] {
    let mut out = [b'0'; 10];
    for d in out.iter_mut().rev() {
        *d = b'0' + (i % 10) as u8;
        i /= 10;
    }
    out
}

/// Latencies in microseconds.
#[derive(Default)]
pub struct Latencies(Vec<f64>);

impl Latencies {
    pub fn with_capacity(n: usize) -> Self {
        Latencies(Vec::with_capacity(n))
    }

    pub fn push(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64() * 1e6);
    }

    /// Nearest-rank percentile, `p` in 0..=100.
    pub fn percentile(&self, p: f64) -> f64 {
        percentile(&self.0, p)
    }

    /// Records p50, p99 and p99.9 (µs) in `m`. p99.9 means something from 1,000
    /// samples on (the full run's sequential scenarios take 10,000).
    pub fn record(&self, m: &mut Measurement) {
        m.set("p50_us", self.percentile(50.0))
            .set("p99_us", self.percentile(99.0))
            .set("p999_us", self.percentile(99.9));
    }
}

/// Nearest-rank percentile of `values` (unsorted), `p` in 0..=100.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// The median of `values`.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Wall time and client CPU time (user + system, all threads) of a measured stretch.
pub struct Stopwatch {
    wall: Instant,
    cpu: f64,
}

impl Stopwatch {
    pub fn start() -> Self {
        Stopwatch {
            wall: Instant::now(),
            cpu: cpu_seconds(),
        }
    }

    /// Records `msgs` messages echoed: wall seconds, messages per second, CPU µs per message.
    pub fn finish_messages(self, m: &mut Measurement, msgs: usize) {
        let secs = self.wall.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - self.cpu;
        m.set("msgs", msgs as f64)
            .set("secs", secs)
            .set("rate", msgs as f64 / secs)
            .set("cpu_us_per_msg", cpu * 1e6 / msgs as f64);
    }
}

/// User + system CPU seconds of this process so far.
pub fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if rc != 0 {
        return f64::NAN;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// The largest resident memory this process has had, in KiB.
pub fn peak_rss_kib() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return f64::NAN;
    }
    usage.ru_maxrss as f64
}

/// Resident memory of this process in KiB (VmRSS of /proc/self/status).
pub fn rss_kib() -> BenchResult<f64> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .ok_or_else(|| "no VmRSS in /proc/self/status".to_owned())
}

/// Gives freed heap memory back to the kernel, so RSS counts what is in use.
pub fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Raises the soft limit of open files to the hard limit; returns (soft, hard) after.
pub fn raise_nofile() -> (u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return (0, 0);
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    (lim.rlim_cur, lim.rlim_max)
}

/// Splits `0..n` into ranges of at most `batch`.
pub fn batches(n: usize, batch: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let batch = batch.max(1);
    (0..n.div_ceil(batch)).map(move |b| b * batch..((b + 1) * batch).min(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_mismatch() {
        let p = Payloads::new(16);
        let m = p.make(42);
        assert_eq!(m.len(), 16);
        assert!(p.check(42, m.as_bytes()).is_ok());
        assert!(p.check(43, m.as_bytes()).is_err());
        assert!(p.check(42, &m.as_bytes()[..15]).is_err());
        assert_eq!(&p.make_prefixed(7, "4")[..3], "400");
        for i in [0, 7, 42, 1_234_567_890, 9_999_999_999] {
            assert_eq!(digits(i), *format!("{i:010}").as_bytes());
        }
    }

    #[test]
    fn stats() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        let b: Vec<_> = batches(5, 2).collect();
        assert_eq!(b, vec![0..2, 2..4, 4..5]);
    }
}
