//! `profile`: instructions and allocations per message, under valgrind.
//!
//! Each contender's `measure` job runs twice under `valgrind --tool=callgrind` (all
//! instructions executed, every thread) and twice under `valgrind --tool=dhat` (every
//! heap block allocated): once with `--baseline` messages and once with `--messages`
//! more. The difference divided by `--messages` is the cost of one message,
//! with the setup (runtime, connect, close) subtracted. The counts do not depend on
//! the machine's load, unlike the timings of the main run. The echo server runs
//! natively, in a process of its own, as in the main run.
//!
//! The `harness` pseudo-contender is measured the same way: a job that makes each
//! payload and checks it, as every contender's job does per message, with no client
//! and no network. Its figures are the benchmark's own share of every contender's;
//! each contender's figures are printed gross and net of it.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use clap::Args;

use crate::common::{BenchResult, Contender, Job, Kind, Measurement, Payloads};
use crate::server::ServerGuard;

#[derive(Args)]
pub struct ProfileArgs {
    /// The scenario (a sequential or pipelined one: its message count is what varies).
    #[arg(long, default_value = "ws-pipe-16")]
    pub scenario: String,
    /// Contenders, comma-separated (Rust ones: ours, ours-async, ours-blocking,
    /// ours-do-send, ours-batched, rei-mt, rei-ct, bare). The `harness` is always
    /// measured too, first.
    #[arg(long, value_delimiter = ',', default_value = "ours,bare")]
    pub contenders: Vec<String>,
    /// The messages whose cost is measured.
    #[arg(long, default_value_t = 20_000)]
    pub messages: usize,
    /// The messages of the baseline run (its cost, setup included, is subtracted).
    #[arg(long, default_value_t = 1_000)]
    pub baseline: usize,
    /// The polling packet cap of this crate's contenders.
    #[arg(long, value_name = "N")]
    pub max_packets_per_post: Option<usize>,
}

struct Counts {
    instructions: f64,
    allocations: f64,
}

pub fn run(args: ProfileArgs) -> BenchResult<()> {
    let valgrind = Command::new("valgrind").arg("--version").output();
    if !matches!(&valgrind, Ok(o) if o.status.success()) {
        return Err("valgrind is not installed (apt-get install valgrind)".into());
    }
    let plan_args = crate::RunArgs {
        quick: false,
        rounds: None,
        only: vec![args.scenario.clone()],
        contenders: Vec::new(),
        max_packets_per_post: None,
        batch: None,
        timeout: None,
        out: None,
        save: None,
        list: false,
    };
    let scenario = crate::plan::scenarios(&plan_args)?
        .into_iter()
        .find(|s| s.name == args.scenario)
        .ok_or_else(|| format!("no scenario named {:?}", args.scenario))?;
    if !matches!(
        scenario.kind,
        Kind::WsSeq | Kind::WsPipe | Kind::PollSeq | Kind::PollPipe
    ) {
        return Err(format!(
            "{} is not a sequential or pipelined scenario",
            scenario.name
        ));
    }
    // The benchmark's own share, subtracted from every contender below.
    let mut contenders = vec![Contender::Harness];
    for name in &args.contenders {
        for c in Contender::parse(name)? {
            if matches!(c, Contender::Node | Contender::Python) {
                return Err(format!(
                    "{}: valgrind would count the interpreter, not the client",
                    c.name()
                ));
            }
            if !contenders.contains(&c) {
                contenders.push(c);
            }
        }
    }
    let server = ServerGuard::start()?;
    let dir = std::env::temp_dir().join(format!("actix-engineio-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    eprintln!(
        "profile: {} ({} B), {} messages over a baseline of {}, echo server {}",
        scenario.name,
        scenario.size,
        args.messages,
        args.baseline,
        server.base()
    );
    let mut rows = Vec::new();
    for &contender in &contenders {
        let mut counts = Vec::new();
        for count in [args.baseline, args.baseline + args.messages] {
            server.wait_quiet(Duration::from_secs(20));
            let mut s = scenario.clone();
            s.count = count;
            let job = Job {
                scenario: s,
                contender,
                base: server.base(),
                max_packets_per_post: args.max_packets_per_post,
            };
            counts.push(measure(&job, &dir)?);
            eprintln!(
                "  {:<28} {count:>7} messages: {} instructions, {} allocations",
                contender.name(),
                counts.last().map_or(0.0, |c| c.instructions),
                counts.last().map_or(0.0, |c| c.allocations)
            );
        }
        let per = |f: fn(&Counts) -> f64| (f(&counts[1]) - f(&counts[0])) / args.messages as f64;
        rows.push((
            contender.name(),
            per(|c| c.instructions),
            per(|c| c.allocations),
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "\n{} ({} B messages), per message over {} messages, setup subtracted (valgrind callgrind / dhat);\n\
         net: minus the harness's own share (making and checking each payload, no client):\n",
        scenario.name, scenario.size, args.messages
    );
    println!(
        "| client | instructions / message | net | allocations / message | net |\n|---|---:|---:|---:|---:|"
    );
    let (_, harness_ir, harness_allocs) = rows[0];
    for (name, instructions, allocations) in rows {
        let (net_ir, net_allocs) = if name == Contender::Harness.name() {
            ("–".to_owned(), "–".to_owned())
        } else {
            (
                crate::report::num(instructions - harness_ir),
                format!("{:.1}", allocations - harness_allocs),
            )
        };
        println!(
            "| {name} | {} | {net_ir} | {allocations:.1} | {net_allocs} |",
            crate::report::num(instructions)
        );
    }
    Ok(())
}

/// The `harness` job: what every contender's job does per message of `job`'s scenario
/// besides sending and receiving it (make the payload, check it as its echo), with no
/// client and no network. `black_box` keeps the compiler from folding the check into
/// the making.
pub fn harness(job: Job) -> BenchResult<Measurement> {
    let s = &job.scenario;
    let p = Payloads::new(s.size);
    for i in 0..s.count {
        let payload = std::hint::black_box(p.make(i));
        p.check(i, std::hint::black_box(payload.as_bytes()))?;
    }
    Ok(Measurement::default())
}

/// Runs `job` under callgrind and under dhat; total instructions and heap blocks.
fn measure(job: &Job, dir: &std::path::Path) -> BenchResult<Counts> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let json = serde_json::to_string(job).map_err(|e| e.to_string())?;
    let callgrind_out: PathBuf = dir.join("callgrind.out");
    let out = valgrind(&[
        "--tool=callgrind".into(),
        format!("--callgrind-out-file={}", callgrind_out.display()),
        exe.display().to_string(),
        "measure".into(),
        json.clone(),
    ])?;
    drop(out);
    let text = std::fs::read_to_string(&callgrind_out)
        .map_err(|e| format!("{}: {e}", callgrind_out.display()))?;
    let instructions = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or("no instruction total in callgrind's output")?;
    let dhat_out = dir.join("dhat.out");
    let stderr = valgrind(&[
        "--tool=dhat".into(),
        format!("--dhat-out-file={}", dhat_out.display()),
        exe.display().to_string(),
        "measure".into(),
        json,
    ])?;
    // "==PID== Total:     1,234 bytes in 56 blocks"
    let allocations = stderr
        .lines()
        .find_map(|l| l.split_once("Total:").map(|(_, rest)| rest))
        .and_then(|rest| rest.split_once(" in ").map(|(_, blocks)| blocks))
        .and_then(|b| b.split_whitespace().next())
        .and_then(|n| n.replace(',', "").parse::<f64>().ok())
        .ok_or("no allocation total in dhat's output")?;
    Ok(Counts {
        instructions,
        allocations,
    })
}

/// Runs valgrind with `args`; its stderr, or an error with the tail of it.
fn valgrind(args: &[String]) -> BenchResult<String> {
    let out = Command::new("valgrind")
        .args(args)
        .output()
        .map_err(|e| format!("valgrind: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        return Err(format!(
            "valgrind {} failed ({}): {}",
            args[0],
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ));
    }
    Ok(stderr)
}
