//! The scenarios and their sizes, full and `--quick`.

use crate::common::{BenchResult, Contender, Kind, Scenario};
use crate::RunArgs;

/// Sessions opened concurrently at a time, unless `--batch` says otherwise.
pub const DEFAULT_BATCH: usize = 500;

pub fn scenarios(args: &RunArgs) -> BenchResult<Vec<Scenario>> {
    let q = args.quick;
    let batch = args.batch.unwrap_or(if q { 100 } else { DEFAULT_BATCH });
    let pick = |full: usize, quick: usize| if q { quick } else { full };
    let s = |name: &str, kind, size, count, sessions| Scenario {
        name: name.to_owned(),
        kind,
        size,
        count,
        sessions,
        batch,
    };
    let all = vec![
        s("ws-seq-16", Kind::WsSeq, 16, pick(10_000, 300), 1),
        s("ws-pipe-16", Kind::WsPipe, 16, pick(100_000, 3_000), 1),
        s("ws-seq-1k", Kind::WsSeq, 1024, pick(10_000, 300), 1),
        s("ws-pipe-1k", Kind::WsPipe, 1024, pick(100_000, 3_000), 1),
        s("ws-seq-64k", Kind::WsSeq, 65_536, pick(10_000, 50), 1),
        s("ws-pipe-64k", Kind::WsPipe, 65_536, pick(100_000, 200), 1),
        s("poll-seq-16", Kind::PollSeq, 16, pick(10_000, 100), 1),
        s("poll-pipe-16", Kind::PollPipe, 16, pick(100_000, 2_000), 1),
        s("upgrade", Kind::Upgrade, 16, 0, pick(100, 10)),
        s("idle", Kind::Idle, 16, 0, pick(10_000, 200)),
        s("many", Kind::Many, 16, pick(100, 20), pick(1_000, 50)),
    ];
    if args.only.is_empty() {
        return Ok(all);
    }
    let mut chosen = Vec::new();
    for want in &args.only {
        let want = want.trim();
        let matched: Vec<_> = all
            .iter()
            .filter(|s| s.name == want || s.name.starts_with(&format!("{want}-")))
            .collect();
        if matched.is_empty() {
            let names: Vec<_> = all.iter().map(|s| s.name.as_str()).collect();
            return Err(format!(
                "no scenario matches {want:?}; scenarios: {}",
                names.join(", ")
            ));
        }
        for s in matched {
            if !chosen.iter().any(|c: &Scenario| c.name == s.name) {
                chosen.push(s.clone());
            }
        }
    }
    // Keep the plan's order.
    chosen.sort_by_key(|c| all.iter().position(|s| s.name == c.name));
    Ok(chosen)
}

pub fn contenders(args: &RunArgs) -> BenchResult<Vec<Contender>> {
    if args.contenders.is_empty() {
        return Ok(Contender::ALL.to_vec());
    }
    let mut list = Vec::new();
    for name in &args.contenders {
        for c in Contender::parse(name)? {
            if !list.contains(&c) {
                list.push(c);
            }
        }
    }
    Ok(list)
}

pub fn describe(s: &Scenario) -> String {
    match s.kind {
        Kind::WsSeq | Kind::PollSeq => {
            format!("{} round trips of {} B, one at a time", s.count, s.size)
        }
        Kind::WsPipe | Kind::PollPipe => {
            format!("{} messages of {} B back to back", s.count, s.size)
        }
        Kind::Upgrade => format!("{} sessions, connect → running on websocket", s.sessions),
        Kind::Idle => format!(
            "{} idle websocket sessions, opened {} at a time",
            s.sessions, s.batch
        ),
        Kind::Many => format!(
            "{} websocket sessions × {} messages of {} B (opened {} at a time)",
            s.sessions, s.count, s.size, s.batch
        ),
    }
}

pub fn print(scenarios: &[Scenario], contenders: &[Contender], rounds: usize) {
    println!("rounds: {rounds}");
    let names: Vec<_> = contenders.iter().map(|c| c.name()).collect();
    println!("contenders: {}", names.join(", "));
    for s in scenarios {
        println!("{:<13} {}", s.name, describe(s));
    }
}
