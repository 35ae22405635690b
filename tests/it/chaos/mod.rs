//! Chaos: the real `Session` actor, over real sockets, against a server that plays
//! hostile but plausible Engine.IO v4 from a seed ([`crate::support::chaos`], whose
//! module doc lists what it does), in all three modes: websocket only, polling only, and
//! polling upgraded to websocket.
//!
//! Every session must: not panic (a panic in an actor would kill it silently: a hook
//! counts panics on the client's thread, and the session would never publish its
//! `Disconnect`); end (one `Disconnect`) within deadlines derived from its handshake and
//! settings (its heartbeat, `pingInterval + pingTimeout` after the last ping the server
//! wrote; a closing user's requests, `request_timeout` each) or be closed by its user
//! when the server keeps it alive; publish `Connect` first and nothing but `Undelivered`
//! after `Disconnect`; deliver only messages the server wrote, in the order written, none
//! skipped, nothing from a body that was cut, malformed, too large or refused, nothing
//! after a close; end for a reason the server gave it; answer every `Send`, `Close` and
//! `Abort`, refusing only what it must; send the server the accepted messages in order
//! and nothing it refused or gave back as undelivered; break no protocol rule the server
//! checks. After the run the crate's live actors are back to their count before it, and
//! the process's resident memory has not grown by more than [`RSS_GROWTH_MIB`] since the
//! warm-up.
//!
//! `cargo test --test it chaos::` runs [`DEFAULT_SESSIONS`] seeds (from 1),
//! [`DEFAULT_CONCURRENCY`] at a time on one arbiter: a few seconds. The long run takes a
//! first seed and a duration, and prints its summary (sessions, seeds, outcomes by
//! disconnect reason, upgrades, failures with their seed):
//!
//! ```text
//! EIO_CHAOS_SECONDS=1800 EIO_CHAOS_SEED=1 cargo test --release --test it chaos:: -- --nocapture
//! ```
//!
//! A failure names its seed; it replays alone (printing the server's trace and the
//! client's events) with `EIO_CHAOS_SEED=<seed> EIO_CHAOS_SESSIONS=1 cargo test --test it
//! chaos:: -- --nocapture`. Timing differs from run to run, so a replay takes the same
//! decisions in the same order on each connection, but not always at the same moments.
//! Other variables: `EIO_CHAOS_SESSIONS` (how many seeds; with `EIO_CHAOS_SECONDS`, at
//! most that many), `EIO_CHAOS_CONCURRENCY`, `EIO_CHAOS_TRACE=1` (one line per session).
//!
//! Known limit: a chunked poll body cut exactly at a chunk boundary cannot be told from
//! its end by awc, so the server never makes that cut (it cuts inside a chunk's data).
//!
//! Deviations of the library that the chaos run found and that are reported but not yet
//! fixed are listed in [`KNOWN_DEVIATIONS`]: sessions showing one are counted in the
//! summary, with their seeds, and fail the run only with `EIO_CHAOS_STRICT=1`. Remove an
//! entry once the library is fixed.
//!
//! In the full suite other tests run in the same process: the live-actor count then
//! waits for theirs to end too, and resident memory includes theirs (the bound is
//! generous for that reason).

mod driver;
mod oracle;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use actix_engineio::diagnostics::live_actors;
use futures::StreamExt;

use crate::support::chaos::ChaosServer;

/// Seeds of `cargo test`.
pub const DEFAULT_SESSIONS: u64 = 200;

/// Sessions at once, on one arbiter.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// How much resident memory may grow from the warm-up to the end of a run. A session
/// keeps nothing once judged (its ledger and events are dropped; only counters stay),
/// and at most [`DEFAULT_CONCURRENCY`] sessions live at once, each holding at most a
/// few bodies of tens of KiB; what remains is allocator slack and, in the full suite,
/// the other tests' own memory.
pub const RSS_GROWTH_MIB: u64 = 64;

/// Deviations of the library found by this run and not yet fixed: id, what, where.
pub const KNOWN_DEVIATIONS: &[(&str, &str)] = &[(
    "K2",
    "a chunked poll body cut inside a chunk's data (not only at a chunk boundary) \
         passes for a whole one: its complete records and its cut-short last message are \
         delivered, and the session goes on. awc's client payload codec \
         (actix-http 3.20 src/h1/client.rs `ClientPayloadCodec`) keeps the default \
         `decode_eof`, which ends the payload at the end of the stream when its buffer is \
         empty, whatever the chunked decoder's state; src/transport/body.rs \
         `check_length` only catches a short `Content-Length` body.",
)];

/// How many failures are kept with their story for the report.
const KEPT_FAILURES: usize = 50;

/// Sessions judged before the resident memory is first measured.
const WARM_UP: usize = 32;

struct Settings {
    first_seed: u64,
    sessions: Option<u64>,
    duration: Option<Duration>,
    concurrency: usize,
    trace: bool,
    strict: bool,
}

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a number")),
    )
}

fn settings() -> Settings {
    let duration = env::<u64>("EIO_CHAOS_SECONDS").map(Duration::from_secs);
    let sessions = env::<u64>("EIO_CHAOS_SESSIONS");
    Settings {
        first_seed: env("EIO_CHAOS_SEED").unwrap_or(1),
        sessions: match (sessions, duration) {
            (None, None) => Some(DEFAULT_SESSIONS),
            (sessions, _) => sessions,
        },
        duration,
        concurrency: env("EIO_CHAOS_CONCURRENCY")
            .unwrap_or(DEFAULT_CONCURRENCY)
            .max(1),
        trace: std::env::var("EIO_CHAOS_TRACE").is_ok_and(|v| v == "1"),
        strict: std::env::var("EIO_CHAOS_STRICT").is_ok_and(|v| v == "1"),
    }
}

/// Panics on the client's thread (actors included), with their messages.
static CLIENT_PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());
const CLIENT_THREAD: &str = "chaos-client";

fn count_client_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() == Some(CLIENT_THREAD) {
                CLIENT_PANICS
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(info.to_string());
            }
            previous(info);
        }));
    });
}

/// Resident memory of the process, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

#[derive(Default)]
struct Summary {
    sessions: usize,
    seeds: (u64, u64),
    outcomes: BTreeMap<String, usize>,
    upgrades: (usize, usize),
    delivered: usize,
    /// The first failures (seed, what, story), at most [`KEPT_FAILURES`].
    failures: Vec<(u64, Vec<String>, String)>,
    /// How many sessions failed, and the first failing seeds.
    failed: usize,
    failing_seeds: Vec<u64>,
    /// Sessions that showed each known deviation: how many, the first seeds.
    known: BTreeMap<&'static str, (usize, Vec<u64>)>,
    rss_warm: Option<u64>,
    /// The longest session, and its seed.
    slowest: (Duration, u64),
}

/// One session, judged: its outcome, and for a failure the story to print.
async fn one(
    server: &ChaosServer,
    seed: u64,
    trace: bool,
    strict: bool,
) -> (u64, oracle::Verdict, String, Duration) {
    let started = Instant::now();
    let run = driver::run(server, seed).await;
    let took = started.elapsed();
    let ledger = server.finish(seed).unwrap_or_default();
    let mut verdict = oracle::judge(&run, &ledger);
    if strict {
        for id in &verdict.known {
            verdict
                .failures
                .push(format!("known deviation {id} (EIO_CHAOS_STRICT=1)"));
        }
    }
    let story = if verdict.failures.is_empty() && !trace {
        String::new()
    } else {
        story(&run, &ledger)
    };
    (seed, verdict, story, took)
}

fn story(run: &driver::Run, ledger: &crate::support::chaos::Ledger) -> String {
    let plan = &run.plan;
    let mut out = format!(
        "plan: {} | rt {:?} | body {:?} frame {:?} | ping {}+{} ms | maxPayload {} | {:?} | open {:.120} | trailing {:?} | {} steps then {:?} | probe {:?}\nserver:\n",
        plan.mode, plan.request_timeout, plan.max_body_size, plan.max_frame_size, plan.ping_interval,
        plan.ping_timeout, plan.max_payload, plan.delivery, plan.open_json, plan.trailing, plan.steps,
        plan.final_act, plan.probe
    );
    for line in ledger.trace.iter().rev().take(80).rev() {
        out.push_str(&format!("  {line}\n"));
    }
    out.push_str(&format!("connect: {:?}\nuser:\n", run.connect));
    let user = run.user.borrow();
    for sent in &user.sent {
        out.push_str(&format!(
            "  {:?} {} -> {:?}\n",
            sent.how,
            crate::support::client::describe(&sent.payload),
            sent.answer
        ));
    }
    if let Some(at) = user.close_at {
        let at = at.saturating_duration_since(ledger.start).as_millis();
        let kind = if user.aborted { "Abort" } else { "Close" };
        out.push_str(&format!(
            "  {kind} at {at} ms, answered: {}\n",
            user.close_answered.is_some()
        ));
    }
    out.push_str("client events:\n");
    for (at, event) in run.events.all() {
        let at = at.saturating_duration_since(ledger.start).as_millis();
        out.push_str(&format!("  {at:>5} ms {:.200}\n", format!("{event:?}")));
    }
    out
}

async fn run_all(settings: Settings) -> Summary {
    let server = ChaosServer::start();
    let end = settings.duration.map(|d| Instant::now() + d);
    let last = settings
        .sessions
        .map(|n| settings.first_seed + n.max(1) - 1);
    let seeds = futures::stream::iter(settings.first_seed..).take_while(|seed| {
        let more =
            last.is_none_or(|last| *seed <= last) && end.is_none_or(|end| Instant::now() < end);
        std::future::ready(more)
    });
    let judged = AtomicUsize::new(0);
    let (trace, strict) = (settings.trace, settings.strict);
    let mut summary = Summary {
        seeds: (settings.first_seed, settings.first_seed),
        ..Summary::default()
    };
    let mut results = seeds
        .map(|seed| one(&server, seed, trace, strict))
        .buffer_unordered(settings.concurrency);
    let mut progress = Instant::now();
    while let Some((seed, verdict, story, took)) = results.next().await {
        summary.sessions += 1;
        // A long run says how it goes, once a minute.
        if settings.duration.is_some() && progress.elapsed() >= Duration::from_secs(60) {
            progress = Instant::now();
            eprintln!(
                "chaos: {} sessions so far (up to seed {}), {} failed, RSS {} KiB",
                summary.sessions,
                summary.seeds.1,
                summary.failed,
                rss_kib()
            );
        }
        summary.slowest = summary.slowest.max((took, seed));
        summary.seeds.1 = summary.seeds.1.max(seed);
        *summary.outcomes.entry(verdict.outcome.clone()).or_default() += 1;
        match verdict.upgrade {
            Some(true) => summary.upgrades.0 += 1,
            Some(false) => summary.upgrades.1 += 1,
            None => {}
        }
        summary.delivered += verdict.delivered;
        for id in verdict
            .known
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
        {
            let (count, seeds) = summary.known.entry(*id).or_default();
            *count += 1;
            if seeds.len() < 10 {
                seeds.push(seed);
            }
        }
        if trace {
            eprintln!(
                "seed {seed}: {} ({} delivered){}",
                verdict.outcome,
                verdict.delivered,
                if verdict.failures.is_empty() {
                    ""
                } else {
                    " FAILED"
                }
            );
            if settings.sessions == Some(1) {
                eprintln!("{story}");
            }
        }
        if !verdict.failures.is_empty() {
            summary.failed += 1;
            if summary.failing_seeds.len() < 1000 {
                summary.failing_seeds.push(seed);
            }
            if summary.failures.len() < KEPT_FAILURES {
                summary.failures.push((seed, verdict.failures, story));
            }
        }
        if judged.fetch_add(1, Ordering::Relaxed) + 1 == WARM_UP {
            summary.rss_warm = Some(rss_kib());
        }
    }
    summary
}

#[test]
fn hostile_servers_cause_no_panic_hang_leak_or_wrong_delivery() {
    let settings = settings();
    count_client_panics();
    let (actors_before, rss_start) = (live_actors(), rss_kib());
    let started = Instant::now();
    let summary = std::thread::Builder::new()
        .name(CLIENT_THREAD.into())
        .spawn(move || actix_rt::System::new().block_on(run_all(settings)))
        .expect("client thread")
        .join();
    let summary = summary.unwrap_or_else(|_| {
        panic!(
            "the client's thread panicked: {:?}",
            CLIENT_PANICS.lock().unwrap()
        )
    });
    let elapsed = started.elapsed();
    // Every actor of the crate stops once its session has ended (a closing transport
    // waits for the server for up to its request timeout).
    let deadline = Instant::now() + Duration::from_secs(30);
    while live_actors() > actors_before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let actors_after = live_actors();
    let rss_end = rss_kib();
    let rss_warm = summary.rss_warm.unwrap_or(rss_start);
    let mut report = format!(
        "chaos: {} sessions, seeds {}..={}, {:.1?} (longest session {:.1?}, seed {}); outcomes: {:?}; upgrades completed {}, failed {}; {} messages delivered; live actors {} -> {}; RSS {} KiB (warm {} KiB) -> {} KiB",
        summary.sessions, summary.seeds.0, summary.seeds.1, elapsed, summary.slowest.0, summary.slowest.1, summary.outcomes,
        summary.upgrades.0, summary.upgrades.1, summary.delivered, actors_before, actors_after,
        rss_start, rss_warm, rss_end
    );
    for (id, (count, seeds)) in &summary.known {
        let what = KNOWN_DEVIATIONS
            .iter()
            .find(|(known, _)| known == id)
            .map_or("(not listed)", |(_, what)| what);
        report.push_str(&format!(
            "\nknown deviation {id} in {count} sessions (seeds {seeds:?}): {what}"
        ));
    }
    for (seed, failures, story) in summary.failures.iter().take(5) {
        report.push_str(&format!(
            "\n\nFAILED seed {seed} (replay: EIO_CHAOS_SEED={seed} EIO_CHAOS_SESSIONS=1 cargo test --test it chaos:: -- --nocapture):\n  {}\n{story}",
            failures.join("\n  ")
        ));
    }
    if summary.failed > 5 {
        let seeds = &summary.failing_seeds;
        report.push_str(&format!("\n\nfailing seeds (the first 1000): {seeds:?}"));
        for (seed, failures, _) in summary.failures.iter().skip(5) {
            report.push_str(&format!("\n  seed {seed}: {}", failures.join("; ")));
        }
    }
    eprintln!("{report}");
    let panics = CLIENT_PANICS.lock().unwrap().clone();
    assert!(
        panics.is_empty(),
        "panics on the client's thread: {panics:?}"
    );
    assert!(
        ChaosServer::panics().is_empty(),
        "the chaos server panicked: {:?}",
        ChaosServer::panics()
    );
    assert!(
        summary.failed == 0,
        "{} of {} sessions failed",
        summary.failed,
        summary.sessions
    );
    assert!(
        actors_after <= actors_before,
        "live actors {actors_before} before the run, {actors_after} 30 s after its end"
    );
    assert!(
        rss_end.saturating_sub(rss_warm) <= RSS_GROWTH_MIB * 1024,
        "resident memory grew from {rss_warm} KiB after the warm-up to {rss_end} KiB"
    );
}
