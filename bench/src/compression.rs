//! `compression`: permessage-deflate on and off, against Node's `engine.io` with
//! `perMessageDeflate` on (`tests/peers/node/server.js --per-message-deflate`, which
//! compresses every message: engineioxide, the main benchmark's server, never accepts
//! the extension). For this crate with `per_message_deflate(true)` (the default) and
//! `(false)`:
//!
//! - `json-1k`: 1 KiB chat-like JSON messages, pipelined over websocket: msgs/s, the
//!   client's CPU time, and the bytes each message took on the wire both ways, counted
//!   by a TCP relay (the tests' fault proxy) that runs in the parent process, so that its
//!   CPU time is not the client's (the handshake and close are counted too: a few hundred
//!   bytes over the whole run);
//! - `idle`: that many websocket sessions open and idle, pinged every second by the
//!   server (compressed pings: each session's inflate state is allocated): RSS per
//!   session;
//! - `idle-after-send`: the same, each session having sent one 1 KiB message first (its
//!   deflate state allocated too), 3 s later; `idle-after-send-35s`: 35 s later, when the
//!   deflate state of a session that stopped sending has been given back (after 30 s).
//!
//! Each measurement runs in a child process of its own (`compression --child …`), so
//! its memory is its own. Needs node and `tests/peers/node/node_modules` (`npm ci` there).
//!
//! ```text
//! cargo run --release -p actix-engineio-bench -- compression
//! ```

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use actix::prelude::*;
use actix_engineio::{Close, Disconnect, Message as EioMessage, Payload, Send as EioSend, Session};
use futures::channel::mpsc;
use futures::future::join_all;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::common::{batches, median, rss_kib, trim_heap, BenchResult, Measurement, Stopwatch};
use crate::fault_proxy::FaultProxy;

/// The options of `compression`.
#[derive(clap::Args, Clone)]
pub struct CompressionArgs {
    /// Messages in `json-1k`.
    #[arg(long, default_value_t = 20_000)]
    messages: usize,
    /// Sessions in `idle` and `idle-after-send`.
    #[arg(long, default_value_t = 500)]
    sessions: usize,
    /// Rounds; medians are taken over them.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Internal: run one measurement (`SCENARIO:on|off:PORT`) and print it as JSON.
    #[arg(long, hide = true)]
    child: Option<String>,
}

/// One measurement's figures.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Figures {
    rate: f64,
    cpu_us_per_msg: f64,
    up_per_msg: f64,
    down_per_msg: f64,
    kib_per_session: f64,
}

pub fn run(args: CompressionArgs) -> BenchResult<()> {
    if let Some(child) = &args.child {
        let figures = child_run(child, &args)?;
        println!(
            "{}",
            serde_json::to_string(&figures).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    let node = NodeServer::start()?;
    let relay = FaultProxy::start(node.port);
    let mut rows = Vec::new();
    for scenario in ["json-1k", "idle", "idle-after-send", "idle-after-send-35s"] {
        for deflate in ["on", "off"] {
            let mut rounds = Vec::new();
            for _ in 0..args.rounds {
                if scenario == "json-1k" {
                    let (up, down) = (relay.bytes_up(), relay.bytes_down());
                    let mut figures = in_child(scenario, deflate, relay.port(), &args)?;
                    let count = args.messages as f64;
                    figures.up_per_msg = (relay.bytes_up() - up) as f64 / count;
                    figures.down_per_msg = (relay.bytes_down() - down) as f64 / count;
                    rounds.push(figures);
                } else {
                    rounds.push(in_child(scenario, deflate, node.port, &args)?);
                }
            }
            rows.push((scenario, deflate, rounds));
        }
    }
    println!(
        "{:<20} {:>8} {:>10} {:>14} {:>10} {:>11} {:>13}",
        "scenario", "deflate", "msgs/s", "client CPU µs", "up B/msg", "down B/msg", "RSS KiB/sess"
    );
    for (scenario, deflate, rounds) in &rows {
        let med = |f: fn(&Figures) -> f64| median(&rounds.iter().map(f).collect::<Vec<_>>());
        if *scenario == "json-1k" {
            println!(
                "{:<20} {:>8} {:>10.0} {:>14.1} {:>10.0} {:>11.0} {:>13}",
                scenario,
                deflate,
                med(|f| f.rate),
                med(|f| f.cpu_us_per_msg),
                med(|f| f.up_per_msg),
                med(|f| f.down_per_msg),
                "-"
            );
        } else {
            println!(
                "{:<20} {:>8} {:>10} {:>14} {:>10} {:>11} {:>13.1}",
                scenario,
                deflate,
                "-",
                "-",
                "-",
                "-",
                med(|f| f.kib_per_session)
            );
        }
    }
    Ok(())
}

/// Runs one measurement in a child process and reads its figures.
fn in_child(
    scenario: &str,
    deflate: &str,
    port: u16,
    args: &CompressionArgs,
) -> BenchResult<Figures> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .args([
            "compression",
            "--messages",
            &args.messages.to_string(),
            "--sessions",
            &args.sessions.to_string(),
            "--child",
            &format!("{scenario}:{deflate}:{port}"),
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run the child: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{scenario} ({deflate}): the child failed: {}",
            out.status
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|e| format!("{scenario} ({deflate}): {e}: {text}"))
}

fn child_run(spec: &str, args: &CompressionArgs) -> BenchResult<Figures> {
    let mut parts = spec.split(':');
    let (Some(scenario), Some(deflate), Some(port)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("bad --child {spec:?}"));
    };
    let deflate = deflate == "on";
    let port: u16 = port.parse().map_err(|_| format!("bad port in {spec:?}"))?;
    // `port` is the relay's for json-1k, the server's for the idle scenarios.
    let direct = format!("http://127.0.0.1:{port}");
    let (messages, sessions) = (args.messages, args.sessions);
    let scenario = scenario.to_owned();
    actix_rt::System::new().block_on(async move {
        match scenario.as_str() {
            "json-1k" => pipelined(&direct, deflate, messages).await,
            "idle" => idle(&direct, deflate, sessions, false, 3).await,
            "idle-after-send" => idle(&direct, deflate, sessions, true, 3).await,
            "idle-after-send-35s" => idle(&direct, deflate, sessions, true, 35).await,
            other => Err(format!("no scenario {other:?}")),
        }
    })
}

/// 1 KiB of chat-like JSON, message `i`: the same fields every time, the values
/// varying (ids, names, words, timestamps).
pub fn json_message(i: usize) -> String {
    const WORDS: [&str; 16] = [
        "hello", "world", "meeting", "tomorrow", "lunch", "deploy", "review", "coffee", "release",
        "ticket", "thanks", "sounds", "good", "later", "update", "question",
    ];
    let head = |text: &str| {
        format!(
            "{{\"type\":\"chat\",\"id\":{i},\"room\":\"room-{}\",\"user\":{{\"id\":{},\"name\":\"user{}\",\"avatar\":\"https://cdn.example.com/avatars/{}.png\"}},\"sent_at\":\"2026-12-01T10:{:02}:{:02}.{:03}Z\",\"text\":\"{text}\",\"reactions\":[]}}",
            i % 17,
            i % 1000,
            i % 1000,
            i % 1000,
            (i / 60) % 60,
            i % 60,
            i % 1000
        )
    };
    let room = 1024 - head("").len();
    let mut text = String::new();
    let mut n = i.wrapping_mul(2_654_435_761);
    while text.len() < room {
        n = n
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        text.push_str(WORDS[n >> 60]);
        text.push(' ');
    }
    text.truncate(room);
    let mut message = head(&text);
    message.truncate(1024);
    message
}

/// What the subscriber hands to the waiting code.
enum Event {
    Message(Payload),
    Disconnect(String),
}

struct Forward(mpsc::UnboundedSender<Event>);

impl Actor for Forward {
    type Context = Context<Self>;
}

impl Handler<EioMessage> for Forward {
    type Result = ();
    fn handle(&mut self, EioMessage(payload): EioMessage, _: &mut Context<Self>) {
        let _ = self.0.unbounded_send(Event::Message(payload));
    }
}

impl Handler<Disconnect> for Forward {
    type Result = ();
    fn handle(&mut self, Disconnect(reason): Disconnect, _: &mut Context<Self>) {
        let _ = self.0.unbounded_send(Event::Disconnect(reason.to_string()));
    }
}

async fn open(
    url: &str,
    deflate: bool,
) -> BenchResult<(Addr<Session>, mpsc::UnboundedReceiver<Event>)> {
    let (tx, events) = mpsc::unbounded();
    let forward = Forward(tx).start();
    let session = Session::builder(url)
        .transports(["websocket"])
        .per_message_deflate(deflate)
        .on_message(forward.clone().recipient())
        .on_disconnect(forward.recipient())
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))?;
    Ok((session, events))
}

/// `count` 1 KiB JSON messages back to back, every echo checked in order.
async fn pipelined(url: &str, deflate: bool, count: usize) -> BenchResult<Figures> {
    let (session, mut events) = open(url, deflate).await?;
    let sw = Stopwatch::start();
    let sender = async {
        let mut answers = futures::stream::iter(0..count)
            .map(|i| session.send(EioSend::text(json_message(i))))
            .buffered(256)
            .enumerate();
        while let Some((i, answer)) = answers.next().await {
            answer
                .map_err(|e| format!("send {i}: mailbox: {e}"))?
                .map_err(|e| format!("send {i}: {e}"))?;
        }
        Ok::<_, String>(())
    };
    let receiver = async {
        for i in 0..count {
            match events.next().await {
                Some(Event::Message(Payload::Text(text))) if *text == json_message(i) => {}
                Some(Event::Message(other)) => return Err(format!("echo {i} differs: {other:?}")),
                Some(Event::Disconnect(reason)) => {
                    return Err(format!("ended after {i}: {reason}"))
                }
                None => return Err(format!("subscriber gone after {i}")),
            }
        }
        Ok::<_, String>(())
    };
    let (sent, received) = futures::join!(sender, receiver);
    sent.and(received)?;
    let mut m = Measurement::default();
    sw.finish_messages(&mut m, count);
    let figures = Figures {
        rate: m.metrics.get("rate").copied().unwrap_or_default(),
        cpu_us_per_msg: m.metrics.get("cpu_us_per_msg").copied().unwrap_or_default(),
        // Counted by the parent's relay.
        up_per_msg: 0.0,
        down_per_msg: 0.0,
        kib_per_session: 0.0,
    };
    let _ = session.send(Close).await;
    Ok(figures)
}

/// `n` idle sessions (each having sent one message first when `sent`), pinged every
/// second: RSS per session `wait` seconds later.
async fn idle(url: &str, deflate: bool, n: usize, sent: bool, wait: u64) -> BenchResult<Figures> {
    let warm = open(url, deflate).await?;
    settle().await;
    let before = rss_kib()?;
    let mut sessions = Vec::with_capacity(n);
    for range in batches(n, 100) {
        for opened in join_all(range.map(|_| open(url, deflate))).await {
            sessions.push(opened?);
        }
    }
    if sent {
        for (i, (session, events)) in sessions.iter_mut().enumerate() {
            session
                .send(EioSend::text(json_message(i)))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            match events.next().await {
                Some(Event::Message(_)) => {}
                _ => return Err(format!("session {i}: no echo")),
            }
        }
    }
    // Pings every second (the server's `--ping-interval 1000`).
    actix_rt::time::sleep(Duration::from_secs(wait)).await;
    settle().await;
    let after = rss_kib()?;
    drop(sessions);
    drop(warm);
    Ok(Figures {
        kib_per_session: (after - before) / n as f64,
        ..Figures::default()
    })
}

async fn settle() {
    actix_rt::time::sleep(Duration::from_millis(500)).await;
    trim_heap();
}

/// The Node peer with `perMessageDeflate` on, pinging every second; killed when dropped.
struct NodeServer {
    child: Child,
    port: u16,
}

impl NodeServer {
    fn start() -> BenchResult<NodeServer> {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/node/server.js");
        let mut child = Command::new("node")
            .arg(&script)
            .args([
                "--per-message-deflate",
                "--transports",
                "websocket",
                "--max-payload",
                "10000000",
                "--ping-interval",
                "1000",
                "--ping-timeout",
                "20000",
                "--exit-with-stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot run node {}: {e}", script.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let port = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                return Err("node exited before it listened".into());
            };
            let value: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if value["event"] == "listening" {
                break value["port"].as_u64().unwrap_or_default() as u16;
            }
        };
        // Its log (a line per message) is read and dropped, so it never blocks.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(NodeServer { child, port })
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
