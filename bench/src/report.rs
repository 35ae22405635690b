//! Medians over rounds, the table, the ratios, and the files: JSON, CSV and an SVG plot.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::common::{median, BenchResult, Kind, Scenario};
use crate::plan::describe;

/// One measurement's outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub scenario: String,
    pub contender: String,
    pub round: usize,
    pub ok: bool,
    pub error: Option<String>,
    pub metrics: BTreeMap<String, f64>,
    pub notes: Vec<String>,
}

impl Record {
    /// A run that could not be made (its contender is not installed).
    pub fn failed(
        scenario: &Scenario,
        contender: crate::common::Contender,
        round: usize,
        error: String,
    ) -> Record {
        Record {
            scenario: scenario.name.clone(),
            contender: contender.name().to_owned(),
            round: round + 1,
            ok: false,
            error: Some(error),
            metrics: BTreeMap::new(),
            notes: Vec::new(),
        }
    }
}

/// How the run was made.
#[derive(Debug, Serialize)]
pub struct Meta {
    pub quick: bool,
    pub rounds: usize,
    pub contenders: Vec<String>,
    pub scenarios: Vec<Scenario>,
    pub duration_secs: f64,
    pub cores: usize,
    pub load_start: String,
    pub load_end: String,
    pub nofile_client: (u64, u64),
    pub nofile_server: (u64, u64),
    /// `--max-packets-per-post`, if given.
    pub max_packets_per_post: Option<usize>,
    /// `--save NAME` (a full run: `full`): the table also goes to
    /// `<date>-NAME.txt`, to be committed.
    pub save: Option<String>,
    pub warnings: Vec<String>,
    pub args: Vec<String>,
}

/// A metric shown in the table.
struct Metric {
    key: &'static str,
    label: &'static str,
    higher_is_better: bool,
}

const fn metric(key: &'static str, label: &'static str, higher_is_better: bool) -> Metric {
    Metric {
        key,
        label,
        higher_is_better,
    }
}

fn metrics(kind: Kind) -> Vec<Metric> {
    match kind {
        Kind::WsSeq | Kind::PollSeq => vec![
            metric("rate", "msgs/s", true),
            metric("p50_us", "p50 µs", false),
            metric("p99_us", "p99 µs", false),
            metric("p999_us", "p99.9 µs", false),
            metric("cpu_us_per_msg", "client CPU µs/msg", false),
        ],
        Kind::WsPipe | Kind::PollPipe => vec![
            metric("rate", "msgs/s", true),
            metric("cpu_us_per_msg", "client CPU µs/msg", false),
            metric("peak_rss_mib", "client peak RSS MiB", false),
        ],
        Kind::Upgrade => vec![
            metric("p50_us", "p50 µs", false),
            metric("p99_us", "p99 µs", false),
        ],
        Kind::Idle => vec![
            metric("kib_per_session", "RSS KiB/session", false),
            metric("open_secs", "open all, s", false),
        ],
        Kind::Many => vec![
            metric("rate", "msgs/s (all)", true),
            metric("cpu_us_per_msg", "client CPU µs/msg", false),
            metric("open_secs", "open all, s", false),
        ],
    }
}

/// A one-line summary of a record, for the progress lines.
pub fn summary(kind: Kind, r: &Record) -> String {
    if let Some(e) = &r.error {
        return format!("ERROR {e}");
    }
    metrics(kind)
        .iter()
        .filter_map(|m| {
            r.metrics
                .get(m.key)
                .map(|v| format!("{} {}", num(*v), m.label))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A number with sensible precision and thousands separators.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v.abs() >= 100.0 {
        let n = v.round() as i64;
        let digits = n.abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if n < 0 {
            out.insert(0, '-');
        }
        out
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The median of one metric for one contender in one scenario.
#[derive(Debug, Serialize)]
struct Cell {
    scenario: String,
    metric: String,
    label: String,
    higher_is_better: bool,
    contender: String,
    median: Option<f64>,
    rounds_ok: usize,
    rounds: usize,
    values: Vec<f64>,
}

/// This crate's median over another contender's.
#[derive(Debug, Serialize)]
struct Ratio {
    scenario: String,
    metric: String,
    versus: String,
    /// actix-engineio ÷ versus.
    ratio: Option<f64>,
    /// Whether this crate is better on this metric.
    ours_better: Option<bool>,
}

/// Which of rust_engineio's runtimes the `rust_engineio` column shows for a scenario.
#[derive(Debug, Serialize)]
struct RuntimeChoice {
    scenario: String,
    /// The metric that decided (the scenario's first).
    metric: String,
    chosen: String,
    /// Each runtime's median of that metric (`None`: every round failed).
    medians: Vec<(String, Option<f64>)>,
}

#[derive(Serialize)]
struct Output<'a> {
    meta: &'a Meta,
    medians: &'a [Cell],
    ratios: &'a [Ratio],
    rust_engineio_runtime: &'a [RuntimeChoice],
    records: &'a [Record],
}

const OURS: &str = "actix-engineio";
const BATCHED: &str = "actix-engineio/batched";
const BARE: &str = "bare-awc";
/// The column that shows the better of rust_engineio's runtimes.
const REI: &str = "rust_engineio";
const REI_FLAVOR: &str = "rust_engineio/";

/// For each scenario, the runtime of rust_engineio with the better median of the
/// scenario's first metric, and its cells again under the name `rust_engineio`.
fn best_runtime(meta: &Meta, cells: &[Cell]) -> (Vec<Cell>, Vec<RuntimeChoice>) {
    let flavors: Vec<&String> = meta
        .contenders
        .iter()
        .filter(|c| c.starts_with(REI_FLAVOR))
        .collect();
    let (mut derived, mut choices) = (Vec::new(), Vec::new());
    if flavors.is_empty() {
        return (derived, choices);
    }
    let find = |s: &str, m: &str, c: &str| {
        cells
            .iter()
            .find(|x| x.scenario == s && x.metric == m && x.contender == c)
    };
    for s in &meta.scenarios {
        let all = metrics(s.kind);
        let primary = &all[0];
        let medians: Vec<(String, Option<f64>)> = flavors
            .iter()
            .map(|f| {
                (
                    (*f).clone(),
                    find(&s.name, primary.key, f).and_then(|c| c.median),
                )
            })
            .collect();
        let chosen = medians
            .iter()
            .filter_map(|(f, v)| v.map(|v| (f, v)))
            .reduce(|a, b| {
                let b_better = if primary.higher_is_better {
                    b.1 > a.1
                } else {
                    b.1 < a.1
                };
                if b_better {
                    b
                } else {
                    a
                }
            })
            .map_or_else(|| flavors[0].clone(), |(f, _)| f.clone());
        for m in &all {
            if let Some(c) = find(&s.name, m.key, &chosen) {
                derived.push(Cell {
                    scenario: c.scenario.clone(),
                    metric: c.metric.clone(),
                    label: c.label.clone(),
                    higher_is_better: c.higher_is_better,
                    contender: REI.into(),
                    median: c.median,
                    rounds_ok: c.rounds_ok,
                    rounds: c.rounds,
                    values: c.values.clone(),
                });
            }
        }
        choices.push(RuntimeChoice {
            scenario: s.name.clone(),
            metric: primary.key.into(),
            chosen,
            medians,
        });
    }
    (derived, choices)
}

/// The table's columns: the contenders, rust_engineio's runtimes shown as one column
/// (the better of them) where the first of them stands.
fn columns(meta: &Meta) -> Vec<String> {
    let mut shown = Vec::new();
    for c in &meta.contenders {
        let name = if c.starts_with(REI_FLAVOR) { REI } else { c };
        if !shown.iter().any(|x: &String| x == name) {
            shown.push(name.to_owned());
        }
    }
    shown
}

pub fn report(meta: &Meta, records: &[Record], out: &Path) -> BenchResult<()> {
    let mut cells = Vec::new();
    for s in &meta.scenarios {
        for m in metrics(s.kind) {
            for c in &meta.contenders {
                let runs: Vec<&Record> = records
                    .iter()
                    .filter(|r| r.scenario == s.name && &r.contender == c)
                    .collect();
                let values: Vec<f64> = runs
                    .iter()
                    .filter(|r| r.ok)
                    .filter_map(|r| r.metrics.get(m.key).copied())
                    .collect();
                cells.push(Cell {
                    scenario: s.name.clone(),
                    metric: m.key.into(),
                    label: m.label.into(),
                    higher_is_better: m.higher_is_better,
                    contender: c.clone(),
                    median: (!values.is_empty()).then(|| median(&values)),
                    rounds_ok: values.len(),
                    rounds: runs.len(),
                    values,
                });
            }
        }
    }
    let (derived, choices) = best_runtime(meta, &cells);
    cells.extend(derived);
    let shown = columns(meta);
    let find = |s: &str, m: &str, c: &str| {
        cells
            .iter()
            .find(|x| x.scenario == s && x.metric == m && x.contender == c)
    };
    let others: Vec<&String> = shown.iter().filter(|c| *c != OURS).collect();
    let has_ours = shown.iter().any(|c| c == OURS);
    let mut ratios = Vec::new();
    if has_ours {
        for s in &meta.scenarios {
            for m in metrics(s.kind) {
                for o in &others {
                    let ours = find(&s.name, m.key, OURS).and_then(|c| c.median);
                    let theirs = find(&s.name, m.key, o).and_then(|c| c.median);
                    let ratio = match (ours, theirs) {
                        (Some(a), Some(b)) if b != 0.0 => Some(a / b),
                        _ => None,
                    };
                    ratios.push(Ratio {
                        scenario: s.name.clone(),
                        metric: m.key.into(),
                        versus: (*o).clone(),
                        ratio,
                        ours_better: ratio.map(|r| (r > 1.0) == m.higher_is_better),
                    });
                }
            }
        }
    }

    // The table.
    let mut header = vec!["scenario".to_owned(), "metric".to_owned()];
    header.extend(shown.iter().cloned());
    if has_ours {
        header.extend(others.iter().map(|o| format!("ours÷{o}")));
    }
    // The batched actor API against the limit, beside the plain one's ratios.
    let batched_vs_bare = [BATCHED, BARE].iter().all(|c| shown.iter().any(|s| s == c));
    if batched_vs_bare {
        header.push("batched÷bare-awc".into());
    }
    let mut rows = Vec::new();
    for s in &meta.scenarios {
        for m in metrics(s.kind) {
            let arrow = if m.higher_is_better { "↑" } else { "↓" };
            let mut row = vec![s.name.clone(), format!("{} {arrow}", m.label)];
            for c in &shown {
                let cell = find(&s.name, m.key, c).expect("cell");
                row.push(match cell.median {
                    None if cell.rounds == 0 => "-".into(),
                    None => "ERROR".into(),
                    Some(v) if cell.rounds_ok < cell.rounds => {
                        format!("{}* ({}/{} ok)", num(v), cell.rounds_ok, cell.rounds)
                    }
                    Some(v) => num(v),
                });
            }
            if has_ours {
                for o in &others {
                    let r = ratios
                        .iter()
                        .find(|r| r.scenario == s.name && r.metric == m.key && &r.versus == *o);
                    row.push(match r.and_then(|r| r.ratio) {
                        Some(v) => format!("{v:.2}"),
                        None => "-".into(),
                    });
                }
            }
            if batched_vs_bare {
                let median = |c| find(&s.name, m.key, c).and_then(|c| c.median);
                row.push(match (median(BATCHED), median(BARE)) {
                    (Some(a), Some(b)) if b != 0.0 => format!("{:.2}", a / b),
                    _ => "-".into(),
                });
            }
            rows.push(row);
        }
    }
    let mut text = String::new();
    let _ = writeln!(
        text,
        "\nactix-engineio benchmark — medians over {} round{}{}; engineioxide 0.17 echo server on loopback, {} cores shared by client and server",
        meta.rounds,
        if meta.rounds == 1 { "" } else { "s" },
        if meta.quick { " (--quick: sizes too small to mean much)" } else { "" },
        meta.cores
    );
    let _ = writeln!(
        text,
        "machine: {} cores, {}; load average at start {}, at end {}",
        meta.cores,
        cpu_model(),
        meta.load_start,
        meta.load_end
    );
    let _ = writeln!(
        text,
        "command: actix-engineio-bench {}\npolling packet cap of this crate's contenders: {}\n",
        meta.args.join(" "),
        meta.max_packets_per_post
            .map_or("the default (16)".to_owned(), |n| n.to_string())
    );
    for s in &meta.scenarios {
        let _ = writeln!(text, "  {:<13} {}", s.name, describe(s));
    }
    let _ = writeln!(text);
    text.push_str(&table(&header, &rows));
    let _ = writeln!(
        text,
        "\nours÷X = actix-engineio's median over X's. ↑ higher is better (above 1: ours is faster); \
         ↓ lower is better (below 1: ours is better). batched÷bare-awc: the same for \
         actix-engineio/batched (the actor API through a SessionSender and Messages) over bare-awc."
    );
    if !choices.is_empty() {
        let _ = writeln!(
            text,
            "\nrust_engineio = the better of its tokio runtimes per scenario, by the first metric:"
        );
        for c in &choices {
            let values: Vec<String> = c
                .medians
                .iter()
                .map(|(f, v)| {
                    format!(
                        "{} {}",
                        f.trim_start_matches(REI_FLAVOR),
                        v.map_or("ERROR".into(), num)
                    )
                })
                .collect();
            let _ = writeln!(
                text,
                "  {:<13} {} ({}: {})",
                c.scenario,
                c.chosen.trim_start_matches(REI_FLAVOR),
                c.metric,
                values.join(", ")
            );
        }
    }
    let failures: Vec<&Record> = records.iter().filter(|r| !r.ok).collect();
    if !failures.is_empty() {
        let _ = writeln!(
            text,
            "\nErrors ({} of {} runs):",
            failures.len(),
            records.len()
        );
        for r in failures {
            let _ = writeln!(
                text,
                "  round {} {} {}: {}",
                r.round,
                r.scenario,
                r.contender,
                r.error.as_deref().unwrap_or("?")
            );
        }
    }
    let notes: Vec<String> = records
        .iter()
        .flat_map(|r| {
            r.notes
                .iter()
                .map(move |n| format!("  round {} {} {}: {n}", r.round, r.scenario, r.contender))
        })
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(text, "\nNotes:\n{}", notes.join("\n"));
    }
    for w in &meta.warnings {
        let _ = writeln!(text, "\nWARNING: {w}");
    }
    let _ = writeln!(text, "\ntook {:.0} s", meta.duration_secs);
    print!("{text}");

    // The files.
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let json = serde_json::to_string_pretty(&Output {
        meta,
        medians: &cells,
        ratios: &ratios,
        rust_engineio_runtime: &choices,
        records,
    })
    .map_err(|e| e.to_string())?;
    write(&out.join("latest.json"), &json)?;
    let mut csv =
        String::from("scenario,metric,contender,median,rounds_ok,rounds,ours_over_this\n");
    for c in &cells {
        let ratio = ratios
            .iter()
            .find(|r| r.scenario == c.scenario && r.metric == c.metric && r.versus == c.contender)
            .and_then(|r| r.ratio)
            .map_or(String::new(), |r| format!("{r:.4}"));
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{}",
            c.scenario,
            c.metric,
            c.contender,
            c.median.map_or(String::new(), |v| format!("{v:.3}")),
            c.rounds_ok,
            c.rounds,
            ratio
        );
    }
    write(&out.join("latest.csv"), &csv)?;
    write(&out.join("latest.txt"), &text)?;
    let svg = plot(meta, &shown, &cells);
    if let Some(svg) = &svg {
        write(&out.join("latest.svg"), svg)?;
    }
    eprintln!(
        "wrote {}/latest.{{json,csv,txt{}}}",
        out.display(),
        if svg.is_some() { ",svg" } else { "" }
    );
    if let Some(name) = &meta.save {
        let path = out.join(format!("{}-{name}.txt", today()));
        write(&path, &text)?;
        eprintln!("wrote {} (to commit)", path.display());
    }
    Ok(())
}

/// The CPU's model name, from /proc/cpuinfo.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "CPU model unknown".into())
}

/// Today's date, `YYYY-MM-DD` (UTC), for the names of result files.
fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn write(path: &Path, text: &str) -> BenchResult<()> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A plain-text table, columns padded to width.
fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i] - c.chars().count();
            if i < 2 {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            }
            s.push_str("  ");
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(header);
    let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
    out.push_str(&"-".repeat(total));
    out.push('\n');
    let mut last = "";
    for r in rows {
        if !last.is_empty() && last != r[0] {
            out.push('\n');
        }
        last = &r[0];
        out.push_str(&line(r));
    }
    out
}

/// A power of ten with thousands separators: 1, 10, 100, 1,000, …
fn axis_label(v: f64) -> String {
    if v < 100.0 {
        format!("{}", v.round() as u64)
    } else {
        num(v)
    }
}

/// Grouped bars of websocket messages per second by message size (log scale), for the
/// sequential and pipelined scenarios that ran.
fn plot(meta: &Meta, shown: &[String], cells: &[Cell]) -> Option<String> {
    let groups: Vec<&Scenario> = meta
        .scenarios
        .iter()
        .filter(|s| matches!(s.kind, Kind::WsSeq | Kind::WsPipe))
        .collect();
    if groups.is_empty() {
        return None;
    }
    let value = |s: &str, c: &str| {
        cells
            .iter()
            .find(|x| x.scenario == s && x.metric == "rate" && x.contender == c)
            .and_then(|x| x.median)
    };
    let max = groups
        .iter()
        .flat_map(|g| shown.iter().filter_map(|c| value(&g.name, c)))
        .fold(1.0f64, f64::max);
    let min = groups
        .iter()
        .flat_map(|g| shown.iter().filter_map(|c| value(&g.name, c)))
        .fold(max, f64::min)
        .max(1.0);
    let top = 10f64.powf(max.log10().ceil());
    let bottom = 10f64.powf(min.log10().floor()).min(top / 10.0);
    let colors = [
        "#d9480f", "#1c7ed6", "#868e96", "#37b24d", "#ae3ec9", "#f59f00", "#0ca678", "#495057",
    ];
    let (w, h) = (140 + groups.len() * 150, 420);
    let (left, right, top_px, bottom_px) = (80.0, 20.0, 50.0, 70.0);
    let plot_h = h as f64 - top_px - bottom_px;
    let y = |v: f64| {
        let v = v.clamp(bottom, top);
        top_px + plot_h * (1.0 - (v.log10() - bottom.log10()) / (top.log10() - bottom.log10()))
    };
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" font-size="15" text-anchor="middle">Websocket echo throughput by message size (messages/s, log scale; medians of {} round{})</text>"#,
        w / 2,
        meta.rounds,
        if meta.rounds == 1 { "" } else { "s" }
    );
    let mut decade = bottom;
    while decade <= top {
        let yy = y(decade);
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            w as f64 - right,
            left - 6.0,
            yy + 4.0,
            axis_label(decade)
        );
        decade *= 10.0;
    }
    let group_w = (w as f64 - left - right) / groups.len() as f64;
    let bar_w = (group_w - 30.0) / shown.len() as f64;
    for (gi, g) in groups.iter().enumerate() {
        let gx = left + gi as f64 * group_w + 15.0;
        for (ci, c) in shown.iter().enumerate() {
            let x = gx + ci as f64 * bar_w;
            match value(&g.name, c) {
                Some(v) => {
                    let yy = y(v);
                    let _ = writeln!(
                        svg,
                        r#"<rect x="{x:.1}" y="{yy:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{c} {}: {} msgs/s</title></rect>"#,
                        bar_w - 3.0,
                        top_px + plot_h - yy,
                        colors[ci % colors.len()],
                        g.name,
                        num(v)
                    );
                }
                None => {
                    let _ = writeln!(
                        svg,
                        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="red">err</text>"#,
                        x + bar_w / 2.0,
                        top_px + plot_h - 4.0
                    );
                }
            }
        }
        let label = match g.kind {
            Kind::WsSeq => "sequential",
            _ => "pipelined",
        };
        let size = match g.size {
            s if s >= 1024 => format!("{} KiB", s / 1024),
            s => format!("{s} B"),
        };
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{size}</text><text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555">{label}</text>"##,
            gx + (group_w - 30.0) / 2.0,
            top_px + plot_h + 18.0,
            gx + (group_w - 30.0) / 2.0,
            top_px + plot_h + 34.0
        );
    }
    for (ci, c) in shown.iter().enumerate() {
        let x = left + ci as f64 * 170.0;
        let yy = h as f64 - 16.0;
        let _ = writeln!(
            svg,
            r#"<rect x="{x}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{}" y="{yy:.1}">{c}</text>"#,
            yy - 10.0,
            colors[ci % colors.len()],
            x + 18.0
        );
    }
    svg.push_str("</svg>\n");
    Some(svg)
}
