//! The benchmark harness: see `bench/README.md`.
//!
//! The parent process starts the engineioxide echo server as a child process (`serve`),
//! then runs every measurement as a child process of its own (`measure`), so each
//! contender runs on a fresh runtime with nothing left over from the one before, and
//! its memory and CPU time are its own. Rounds interleave the contenders.

mod bare;
mod clients;
mod common;
mod compression;
mod cycles;
/// The tests' TCP fault proxy, shared: cuts connections for the `cycles` command (which
/// uses only some of it).
#[allow(dead_code)]
#[path = "../../tests/it/support/fault_proxy.rs"]
mod fault_proxy;
mod ours;
mod peers;
mod plan;
mod profile;
mod rei;
mod report;
mod server;
mod soak;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};

use crate::common::{raise_nofile, BenchResult, Contender, Job, Kind, Measurement};
use crate::report::Record;
use crate::server::ServerGuard;

/// Benchmarks actix-engineio against rust_engineio, Node's engine.io-client, python-engineio
/// and a bare awc websocket client, all against one engineioxide echo server on loopback.
#[derive(Parser)]
#[command(name = "actix-engineio-bench")]
struct Cli {
    #[command(subcommand)]
    command: Option<Internal>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args, Clone)]
pub struct RunArgs {
    /// Small sizes and one round: proves the harness works (CI).
    #[arg(long)]
    pub quick: bool,
    /// Rounds (default 5, or 1 with --quick).
    #[arg(long)]
    pub rounds: Option<usize>,
    /// Scenarios to run, comma-separated: names (ws-seq-16, …) or prefixes (ws, ws-pipe, poll, …).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Contenders, comma-separated: ours, ours-async, ours-blocking, rust_engineio (both
    /// runtimes; or rei-mt, rei-ct), bare, node, python (default all of these); also
    /// ours-do-send (this crate, pipelining with `do_send`) and ours-batched (this crate,
    /// pipelining through `GetSender`'s handle, receiving `Messages` batches).
    #[arg(long, value_delimiter = ',')]
    pub contenders: Vec<String>,
    /// The polling packet cap (`max_packets_per_post`) of this crate's contenders
    /// (default: the crate's, 16).
    #[arg(long, value_name = "N")]
    pub max_packets_per_post: Option<usize>,
    /// Sessions opened concurrently at a time in the idle and many-sessions scenarios.
    #[arg(long)]
    pub batch: Option<usize>,
    /// A measurement still running after this many seconds is killed and reported as an error.
    #[arg(long)]
    pub timeout: Option<u64>,
    /// Where latest.json, latest.csv and latest.svg go (default bench/results).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write the table to `<out>/<date>-NAME.txt`, a file to commit (a full run,
    /// every scenario and contender at full size, saves as `full`).
    #[arg(long, value_name = "NAME")]
    pub save: Option<String>,
    /// Print the plan (scenarios and sizes) and exit.
    #[arg(long)]
    pub list: bool,
}

#[derive(Subcommand)]
enum Internal {
    /// The echo server (started by the benchmark itself).
    #[command(hide = true)]
    Serve(server::ServeOptions),
    /// One measurement, given as JSON; prints the result as JSON (started by the benchmark).
    #[command(hide = true)]
    Measure { job: String },
    /// Loses and reopens one session COUNT times (connections cut through a proxy) and
    /// prints the live actors, open files and memory after 0, 10, 100, … cycles.
    Cycles {
        /// How many reconnections.
        #[arg(long, default_value_t = 1000)]
        count: usize,
        /// The transport: websocket or polling.
        #[arg(long, default_value = "websocket")]
        transport: String,
    },
    /// Runs one scenario per contender under valgrind (callgrind, then dhat) and prints
    /// instructions and allocations per message: see bench/README.md.
    Profile(profile::ProfileArgs),
    /// Runs many supervised sessions against the echo server behind a fault proxy (cut,
    /// stall, restart) and reports memory, files, actors and every message's fate.
    Soak(soak::SoakArgs),
    /// permessage-deflate on and off against Node's engine.io with `perMessageDeflate`:
    /// 1 KiB JSON messages (msgs/s, bytes on the wire) and idle sessions (RSS).
    Compression(compression::CompressionArgs),
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("error")).init();
    let cli = Cli::parse();
    match cli.command {
        Some(Internal::Serve(options)) => server::serve(options),
        Some(Internal::Measure { job }) => measure(&job),
        Some(Internal::Cycles { count, transport }) => match cycles::run(count, &transport) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Some(Internal::Profile(args)) => match profile::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Some(Internal::Compression(args)) => match compression::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Some(Internal::Soak(args)) => match soak::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        None => match run(cli.run) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Makes a child process die with this one (the benchmark's children never outlive it).
pub fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

/// The `measure` subcommand.
fn measure(job: &str) -> ExitCode {
    raise_nofile();
    let job: Job = match serde_json::from_str(job) {
        Ok(job) => job,
        Err(e) => {
            eprintln!("bad job: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match job.contender {
        Contender::Ours => ours::run(job, ours::Style::Send),
        Contender::OursDoSend => ours::run(job, ours::Style::DoSend),
        Contender::OursBatched => ours::run(job, ours::Style::Batched),
        Contender::OursAsync => clients::run_async(job),
        Contender::OursBlocking => clients::run_blocking(job),
        Contender::RustEngineio => rei::run(job, true),
        Contender::RustEngineioCt => rei::run(job, false),
        Contender::Bare => bare::run(job),
        Contender::Harness => profile::harness(job),
        // Returns only when the script cannot be started.
        Contender::Node | Contender::Python => peers::exec(&job).map(|()| Measurement::default()),
    };
    match result {
        Ok(mut m) => {
            m.set("peak_rss_mib", common::peak_rss_kib() / 1024.0);
            println!(
                "{}",
                serde_json::to_string(&m).expect("measurement as JSON")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: RunArgs) -> BenchResult<()> {
    let started = Instant::now();
    let scenarios = plan::scenarios(&args)?;
    let contenders = plan::contenders(&args)?;
    let rounds = args.rounds.unwrap_or(if args.quick { 1 } else { 5 }).max(1);
    if args.list {
        plan::print(&scenarios, &contenders, rounds);
        return Ok(());
    }
    let timeout = Duration::from_secs(args.timeout.unwrap_or(if args.quick { 60 } else { 300 }));

    let (soft, hard) = raise_nofile();
    let need = scenarios
        .iter()
        .filter(|s| matches!(s.kind, Kind::Idle | Kind::Many))
        .map(|s| s.sessions as u64 + 2)
        .max()
        .unwrap_or(0)
        + 256;
    let mut server = ServerGuard::start()?;
    let (server_soft, server_hard) = server.nofile;
    eprintln!(
        "echo server: engineioxide 0.17, pid {}, {} (open files: client {soft}/{hard}, server {server_soft}/{server_hard})",
        server.pid(),
        server.base()
    );
    let mut warnings = Vec::new();
    for (who, lim, max) in [("client", soft, hard), ("server", server_soft, server_hard)] {
        if lim < need {
            let w = format!(
                "the {who}'s open-file limit is {lim} (hard {max}), below the {need} the \
                 session scenarios need: raise the hard limit (ulimit -Hn) or expect EMFILE errors"
            );
            eprintln!("WARNING: {w}");
            warnings.push(w);
        }
    }
    let load_start = loadavg();
    eprintln!(
        "{} scenarios × {} contenders × {rounds} rounds; load average {load_start}",
        scenarios.len(),
        contenders.len()
    );

    // The contenders from other languages, installed as the tests install them; one
    // that cannot be had is an ERROR in every row, not a failed run.
    let mut unavailable = std::collections::HashMap::new();
    for &c in &contenders {
        if let Err(e) = peers::setup(c) {
            eprintln!("WARNING: {}: {e}", c.name());
            unavailable.insert(c, e);
        }
    }

    let mut records = Vec::new();
    for round in 0..rounds {
        for scenario in &scenarios {
            // Interleave, and rotate who goes first, so noise hits every contender alike.
            for k in 0..contenders.len() {
                let contender = contenders[(k + round) % contenders.len()];
                if !contender.supports(scenario.kind) {
                    continue;
                }
                if let Some(e) = unavailable.get(&contender) {
                    records.push(Record::failed(scenario, contender, round, e.clone()));
                    continue;
                }
                if !server.alive() {
                    return Err("the echo server died".into());
                }
                let leftover = server.wait_quiet(Duration::from_secs(20));
                let job = Job {
                    scenario: scenario.clone(),
                    contender,
                    base: server.base(),
                    max_packets_per_post: args.max_packets_per_post,
                };
                let t = Instant::now();
                let mut record = run_child(&job, timeout, round);
                if leftover != 0 {
                    record.notes.push(format!(
                        "{leftover} sessions of earlier runs were still open on the server"
                    ));
                }
                eprintln!(
                    "[round {}/{rounds}] {:<13} {:<15} {} ({:.1} s)",
                    round + 1,
                    scenario.name,
                    contender.name(),
                    report::summary(scenario.kind, &record),
                    t.elapsed().as_secs_f64()
                );
                records.push(record);
            }
        }
    }
    drop(server);

    let meta = report::Meta {
        quick: args.quick,
        rounds,
        contenders: contenders.iter().map(|c| c.name().to_owned()).collect(),
        scenarios,
        duration_secs: started.elapsed().as_secs_f64(),
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_start,
        load_end: loadavg(),
        nofile_client: (soft, hard),
        nofile_server: (server_soft, server_hard),
        max_packets_per_post: args.max_packets_per_post,
        save: args.save.clone().or_else(|| {
            let full = !args.quick
                && args.only.is_empty()
                && args.contenders.is_empty()
                && args.max_packets_per_post.is_none();
            full.then(|| "full".to_owned())
        }),
        warnings,
        args: std::env::args().skip(1).collect(),
    };
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("results"));
    report::report(&meta, &records, &out)?;
    // Other projects' failures are their results; this crate's or the bare client's are not.
    let foreign: Vec<&str> = Contender::ALL
        .iter()
        .filter(|c| c.is_foreign())
        .map(|c| c.name())
        .collect();
    let ours_failed: Vec<String> = records
        .iter()
        .filter(|r| !r.ok && !foreign.contains(&r.contender.as_str()))
        .map(|r| format!("{} {} (round {})", r.scenario, r.contender, r.round))
        .collect();
    if ours_failed.is_empty() {
        Ok(())
    } else {
        Err(format!("runs failed: {}", ours_failed.join(", ")))
    }
}

/// Runs one measurement in a child process; a crash, an error or a timeout is a result too.
fn run_child(job: &Job, timeout: Duration, round: usize) -> Record {
    let mut record = Record {
        scenario: job.scenario.name.clone(),
        contender: job.contender.name().to_owned(),
        round: round + 1,
        ok: false,
        error: None,
        metrics: Default::default(),
        notes: Vec::new(),
    };
    let result = (|| -> BenchResult<Measurement> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut command = Command::new(exe);
        command
            .arg("measure")
            .arg(serde_json::to_string(job).map_err(|e| e.to_string())?)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        die_with_parent(&mut command);
        let mut child = command.spawn().map_err(|e| format!("spawn: {e}"))?;
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let out = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        let err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let deadline = Instant::now() + timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(format!("wait: {e}")),
            }
        };
        let out = out.join().unwrap_or_default();
        let err = err.join().unwrap_or_default();
        let tail = err
            .lines()
            .filter(|l| !l.trim().is_empty())
            .rev()
            .take(6)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join(" | ");
        match status {
            None => Err(format!(
                "timed out after {} s{}",
                timeout.as_secs(),
                if tail.is_empty() {
                    String::new()
                } else {
                    format!(": {tail}")
                }
            )),
            Some(status) if status.success() => {
                serde_json::from_str(out.trim()).map_err(|e| format!("bad output ({e}): {out:?}"))
            }
            Some(status) => Err(format!("{status}: {tail}")),
        }
    })();
    match result {
        Ok(m) => {
            record.ok = true;
            record.metrics = m.metrics;
            record.notes = m.notes;
        }
        Err(e) => record.error = Some(e),
    }
    record
}

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
