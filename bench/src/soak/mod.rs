//! `soak`: many supervised sessions for a long time against a real server (the
//! engineioxide echo server, in its own process) behind a fault proxy that cuts every
//! connection, stalls them all past the heartbeat deadline, or restarts the server, in
//! turn. Every session sends a numbered message at a steady rate with
//! `hold_messages(true)`; the server prints every message it receives; the client books
//! what it accepted, what came back as `Undelivered` and the echoes it got.
//!
//! Every `--report-every` seconds, and at the end, it prints the process's resident
//! memory, open file descriptors and live actors, and the messages sent (accepted),
//! received by the server, echoed back, given back, lost and duplicated:
//! - lost in flight: accepted during a fault's window (see `ledger`), never received by
//!   the server and never given back: the bytes died with the connection, which no
//!   Engine.IO client can know (the protocol has no acknowledgements);
//! - lost: the same outside any fault's window: lost by the client (must be zero);
//! - duplicated: received by the server, or echoed to the client, more than once;
//! - echoes missing: received by the server, echo never seen (the server drops what it
//!   has queued for a session it loses: Engine.IO has no acknowledgements).
//!
//! ```text
//! cargo run --release -p actix-engineio-bench -- soak --sessions 300 --minutes 30
//! ```

mod faults;
mod ledger;
mod sessions;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_engineio::{diagnostics, Session};

use self::faults::{Backend, Fault};
use self::ledger::{Ledger, Totals};
use self::sessions::{Events, Shared};
use crate::common::{raise_nofile, rss_kib, trim_heap, BenchResult};
use crate::fault_proxy::FaultProxy;
use crate::server::ServeOptions;

/// The server's heartbeat: short, so that a stall is noticed in seconds, and long
/// enough that a loaded machine never misses it (a session lost outside a fault would
/// count what it had in flight as lost by the client).
const PING_INTERVAL: Duration = Duration::from_millis(5_000);
const PING_TIMEOUT: Duration = Duration::from_millis(10_000);

/// How long the process may take, once every session is closed, to let go of them.
const RELEASE: Duration = Duration::from_secs(30);

/// How long the sessions get, once the faults stop, to reconnect and flush what they hold.
const SETTLE: Duration = Duration::from_secs(60);

#[derive(clap::Args, Debug, Clone)]
pub struct SoakArgs {
    /// Sessions, all in this process on one actix arbiter.
    #[arg(long, default_value_t = 300)]
    pub sessions: usize,
    /// How long the faults go on, in minutes.
    #[arg(long, default_value_t = 30.0)]
    pub minutes: f64,
    /// Messages per second per session.
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Seconds between two faults.
    #[arg(long, default_value_t = 20)]
    pub fault_every: u64,
    /// The faults to play, in turn, comma-separated: cut, stall, restart.
    #[arg(long, value_delimiter = ',', default_value = "cut,stall,restart")]
    pub faults: Vec<String>,
    /// Seconds between two report lines.
    #[arg(long, default_value_t = 60)]
    pub report_every: u64,
    /// Also write the report to this file.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
}

/// What the process holds.
#[derive(Debug, Clone, Copy)]
struct Footprint {
    rss_kib: f64,
    fds: usize,
    actors: usize,
}

fn footprint() -> Footprint {
    trim_heap();
    Footprint {
        rss_kib: rss_kib().unwrap_or(f64::NAN),
        fds: std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count()),
        actors: diagnostics::live_actors(),
    }
}

/// The report, printed as it goes and kept for `--out`.
struct Report {
    text: String,
    started: Instant,
}

impl Report {
    fn line(&mut self, line: String) {
        println!("{line}");
        self.text.push_str(&line);
        self.text.push('\n');
    }

    fn sample(&mut self, events: &Events, total: usize, faults: usize, totals: Totals) {
        let f = footprint();
        let t = self.started.elapsed().as_secs();
        self.line(format!(
            "{:>3}:{:02}  open {:>4}/{total}  reconnections {:>6}  faults {:>3}  sent {:>9}  \
             at server {:>9}  echoed {:>9}  given back {:>5}  duplicated {}  reordered {}  \
             RSS {:>6.1} MiB  fds {:>5}  actors {:>5}",
            t / 60,
            t % 60,
            events.open.load(Ordering::Relaxed),
            events.reconnections.load(Ordering::Relaxed),
            faults,
            totals.accepted,
            totals.server,
            totals.echoed,
            totals.undelivered,
            totals.duplicated,
            totals.reordered,
            f.rss_kib / 1024.0,
            f.fds,
            f.actors,
        ));
    }
}

pub fn run(args: SoakArgs) -> BenchResult<()> {
    raise_nofile();
    let ledger = Arc::new(Ledger::new(args.sessions));
    let options = ServeOptions {
        log_received: true,
        ping_interval_ms: Some(PING_INTERVAL.as_millis() as u64),
        ping_timeout_ms: Some(PING_TIMEOUT.as_millis() as u64),
    };
    let backend = Backend::start(options, ledger.clone())?;
    let proxy = FaultProxy::start(backend.port());
    let shared = Shared {
        ledger,
        events: Arc::default(),
        stop: Arc::new(AtomicBool::new(false)),
    };
    let mut report = Report {
        text: String::new(),
        started: Instant::now(),
    };
    let out = args.out.clone();
    let before = footprint();
    report.line(format!(
        "soak: {} sessions, {} msg/s each, a fault every {} s for {} min (cut, stall, restart); \
         before: RSS {:.1} MiB, fds {}, actors {}",
        args.sessions,
        args.rate,
        args.fault_every,
        args.minutes,
        before.rss_kib / 1024.0,
        before.fds,
        before.actors
    ));
    let (totals, mut report, after) = actix_rt::System::new().block_on(async move {
        let sessions = open_all(&args, &proxy.url(), &shared).await?;
        // The faults are played from a thread of their own (the proxy's commands block);
        // the sessions run here meanwhile. The thread lives until the end: a server it
        // started dies with it (PR_SET_PDEATHSIG follows the thread that spawned it).
        let (done, finished) = futures::channel::oneshot::channel();
        let (finish, until_finished) = std::sync::mpsc::channel::<()>();
        let faults = {
            let (args, shared) = (args.clone(), shared.clone());
            std::thread::spawn(move || {
                let mut backend = backend;
                let played = play_faults(&args, &mut backend, &proxy, &shared, &mut report);
                let _ = done.send((played, report));
                let _ = until_finished.recv();
            })
        };
        let (played, mut report) = finished.await.map_err(|_| "the fault thread panicked")?;
        let played = played?;
        shared.stop.store(true, Ordering::Relaxed);
        settle(&shared, args.sessions).await;
        let totals = shared.ledger.totals();
        report.line("after the faults, once the sessions settled:".to_owned());
        report.sample(&shared.events, args.sessions, played, totals);
        sessions::close_all(&sessions).await;
        drop(sessions);
        let _ = finish.send(());
        let _ = faults.join();
        let after = released(before).await;
        BenchResult::Ok((totals, report, after))
    })?;
    summarize(&mut report, totals, before, after);
    if let Some(path) = &out {
        std::fs::write(path, &report.text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if totals.lost > 0 || totals.duplicated > 0 || totals.reordered > 0 {
        return Err("messages were lost, duplicated or reordered".into());
    }
    Ok(())
}

/// Opens every session, and starts its sender.
async fn open_all(
    args: &SoakArgs,
    url: &str,
    shared: &Shared,
) -> BenchResult<Vec<actix::Addr<Session>>> {
    let every = Duration::from_secs_f64(1.0 / args.rate.max(0.001));
    let mut sessions = Vec::with_capacity(args.sessions);
    for index in 0..args.sessions {
        let session = sessions::open(index, url, shared.clone()).await?;
        actix_rt::spawn(sessions::send_steadily(
            index,
            session.clone(),
            every,
            shared.clone(),
        ));
        sessions.push(session);
    }
    Ok(sessions)
}

/// Plays a fault every `fault_every` seconds until the time is up, reporting as it goes;
/// the sessions run on the actix system's thread meanwhile. Returns how many it played.
fn play_faults(
    args: &SoakArgs,
    backend: &mut Backend,
    proxy: &FaultProxy,
    shared: &Shared,
    report: &mut Report,
) -> BenchResult<usize> {
    let end = Instant::now() + Duration::from_secs_f64(args.minutes * 60.0);
    let fault_every = Duration::from_secs(args.fault_every.max(1));
    let report_every = Duration::from_secs(args.report_every.max(1));
    let stall_for = (PING_INTERVAL + PING_TIMEOUT) * 2;
    // Every fault ends in cut connections (a stall too), which sessions notice at once;
    // they are back within the reconnection backoff (at most 2 s) and a handshake.
    let window = Duration::from_secs(10);
    let (mut next_fault, mut next_report) = (Instant::now() + fault_every, Instant::now());
    let mut played = 0;
    let mut close_windows_at = None;
    let faults = args
        .faults
        .iter()
        .map(|name| Fault::parse(name))
        .collect::<BenchResult<Vec<_>>>()?;
    if faults.is_empty() {
        return Err("--faults names no fault".into());
    }
    let mut by_kind = [0usize; 3];
    while Instant::now() < end {
        let now = Instant::now();
        if now >= next_report {
            report.sample(
                &shared.events,
                args.sessions,
                played,
                shared.ledger.totals(),
            );
            next_report += report_every;
        }
        if close_windows_at.is_some_and(|at| now >= at) {
            shared.ledger.close_windows();
            close_windows_at = None;
        }
        if now >= next_fault {
            let fault = faults[played % faults.len()];
            shared.ledger.open_windows();
            backend.play(fault, proxy, stall_for)?;
            close_windows_at = Some(Instant::now() + window);
            by_kind[fault as usize] += 1;
            played += 1;
            next_fault = Instant::now() + fault_every;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut kinds = String::new();
    for (fault, n) in Fault::ALL.iter().zip(by_kind) {
        let _ = write!(kinds, " {} {n}", fault.name());
    }
    report.line(format!("faults played: {played} ({})", kinds.trim()));
    Ok(played)
}

/// Waits until every session is open again and the messages still unaccounted for
/// (neither at the server nor given back) stop changing for a few seconds, at most
/// [`SETTLE`].
async fn settle(shared: &Shared, sessions: usize) {
    let deadline = Instant::now() + SETTLE;
    let (mut last, mut stable_since) = (u64::MAX, Instant::now());
    while Instant::now() < deadline {
        let t = shared.ledger.totals();
        let unaccounted = t.lost + t.lost_in_flight;
        if unaccounted != last {
            (last, stable_since) = (unaccounted, Instant::now());
        }
        let open = shared.events.open.load(Ordering::Relaxed);
        if open == sessions && stable_since.elapsed() > Duration::from_secs(3) {
            return;
        }
        actix_rt::time::sleep(Duration::from_millis(250)).await;
    }
}

/// What the process holds once it has let go of the closed sessions (idle pooled
/// connections time out, actors stop): at most [`RELEASE`] later.
async fn released(before: Footprint) -> Footprint {
    let deadline = Instant::now() + RELEASE;
    loop {
        let now = footprint();
        let done = now.actors <= before.actors && now.fds <= before.fds;
        if done || Instant::now() >= deadline {
            return now;
        }
        actix_rt::time::sleep(Duration::from_millis(500)).await;
    }
}

fn summarize(report: &mut Report, t: Totals, before: Footprint, after: Footprint) {
    report.line(format!(
        "messages: sent {} (refused {}), received by the server {}, echoed {}, given back {}, \
         lost in flight at a fault {}, lost otherwise {}, duplicated {}, reordered {}, \
         echoes missing {} (queued at the server for a session it lost)",
        t.accepted,
        t.refused,
        t.server,
        t.echoed,
        t.undelivered,
        t.lost_in_flight,
        t.lost,
        t.duplicated,
        t.reordered,
        t.echoes_missing
    ));
    report.line(format!(
        "after every session closed: RSS {:.1} MiB (before {:.1}; the books take {:.1} MiB), \
         fds {} (before {}), actors {} (before {})",
        after.rss_kib / 1024.0,
        before.rss_kib / 1024.0,
        t.ledger_bytes as f64 / 1024.0 / 1024.0,
        after.fds,
        before.fds,
        after.actors,
        before.actors
    ));
}
