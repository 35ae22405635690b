//! `cycles`: loses and reopens one session many times, and reports what the process
//! holds after 0, 100, 1,000, … cycles: this crate's live actors, open file descriptors
//! and resident memory. Each cycle makes a fault proxy in front of the echo server
//! refuse connections and cut the open ones, waits for the session to notice, lets
//! connections through again, and waits for the session to reconnect (supervised) and
//! prove it is open with an echo. Nothing may grow with the cycles.
//!
//! ```text
//! cargo run --release -p actix-engineio-bench -- cycles --count 1000
//! ```

use std::time::Duration;

use actix::prelude::*;
use actix_engineio::{
    diagnostics, Connect, Disconnect, Message as EioMessage, ReconnectPolicy, Send, Session,
};
use futures::channel::mpsc;
use futures::StreamExt;

use crate::common::{rss_kib, trim_heap, BenchResult};
use crate::fault_proxy::FaultProxy;
use crate::server::ServerGuard;

/// What the process holds at one point.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub cycles: usize,
    pub actors: usize,
    pub fds: usize,
    pub rss_kib: f64,
}

/// What the session tells the measuring code.
enum Seen {
    Connect(Connect),
    Lost,
    Echo(String),
}

struct Forward(mpsc::UnboundedSender<Seen>);

impl Actor for Forward {
    type Context = Context<Self>;
}

impl Handler<Connect> for Forward {
    type Result = ();
    fn handle(&mut self, event: Connect, _: &mut Context<Self>) {
        let _ = self.0.unbounded_send(Seen::Connect(event));
    }
}

impl Handler<Disconnect> for Forward {
    type Result = ();
    fn handle(&mut self, _: Disconnect, _: &mut Context<Self>) {
        let _ = self.0.unbounded_send(Seen::Lost);
    }
}

impl Handler<EioMessage> for Forward {
    type Result = ();
    fn handle(&mut self, EioMessage(payload): EioMessage, _: &mut Context<Self>) {
        let text = payload.as_text().unwrap_or_default().to_owned();
        let _ = self.0.unbounded_send(Seen::Echo(text));
    }
}

/// Runs `count` cycles, sampling at 0, 100, 1000, … and at the end; prints a table.
pub fn run(count: usize, transport: &str) -> BenchResult<Vec<Sample>> {
    let server = ServerGuard::start()?;
    let proxy = FaultProxy::start(server.port);
    let url = proxy.url();
    let transport = transport.to_owned();
    let samples = actix_rt::System::new().block_on(cycle(url, transport, count, &proxy))?;
    println!(
        "{:>8}  {:>7}  {:>5}  {:>9}",
        "cycles", "actors", "fds", "RSS KiB"
    );
    for s in &samples {
        println!(
            "{:>8}  {:>7}  {:>5}  {:>9.0}",
            s.cycles, s.actors, s.fds, s.rss_kib
        );
    }
    Ok(samples)
}

async fn cycle(
    url: String,
    transport: String,
    count: usize,
    proxy: &FaultProxy,
) -> BenchResult<Vec<Sample>> {
    let (tx, mut seen) = mpsc::unbounded();
    let forward = Forward(tx).start();
    let policy = ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(5))
        .max_delay(Duration::from_millis(20))
        .randomization(0.0);
    let session = Session::builder(url)
        .transports([transport.as_str()])
        .reconnect(policy)
        // RUST_LOG=actix_engineio=debug shows what each cycle does.
        .logging(log::log_enabled!(log::Level::Info))
        .on_connect(forward.clone().recipient())
        .on_disconnect(forward.clone().recipient())
        .on_message(forward.recipient())
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let mut samples = Vec::new();
    for n in 0..=count {
        if n > 0 {
            // A cut alone may miss a polling session between two requests, whose next
            // request would just open a new connection: refusing makes sure it is lost.
            proxy.refuse();
            wait_for(&mut seen, n, "loss", |s| matches!(s, Seen::Lost)).await?;
            proxy.accept_again();
            let reconnected = |s: &Seen| matches!(s, Seen::Connect(c) if c.is_reconnection());
            wait_for(&mut seen, n, "reconnection", reconnected).await?;
        }
        echo(&session, &mut seen, n).await?;
        if n == count || n == 0 || is_power_of_ten(n) {
            samples.push(sample(n).await);
        }
    }
    let _ = session.send(actix_engineio::Close).await;
    Ok(samples)
}

fn is_power_of_ten(mut n: usize) -> bool {
    while n >= 10 && n.is_multiple_of(10) {
        n /= 10;
    }
    n == 1
}

/// Waits for what `wanted` matches, in cycle `n`.
async fn wait_for(
    seen: &mut mpsc::UnboundedReceiver<Seen>,
    n: usize,
    what: &str,
    wanted: impl Fn(&Seen) -> bool,
) -> BenchResult<()> {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), seen.next()).await {
            Ok(Some(event)) if wanted(&event) => return Ok(()),
            Ok(Some(_)) => {}
            Ok(None) => return Err(format!("cycle {n}: the session is gone")),
            Err(_) => return Err(format!("cycle {n}: no {what} within 30 s")),
        }
    }
}

/// Sends a message and waits for its echo: the session is open and works.
async fn echo(
    session: &Addr<Session>,
    seen: &mut mpsc::UnboundedReceiver<Seen>,
    n: usize,
) -> BenchResult<()> {
    let text = format!("cycle {n}");
    session
        .send(Send::text(text.clone()))
        .await
        .map_err(|e| format!("cycle {n}: {e}"))?
        .map_err(|e| format!("cycle {n}: {e}"))?;
    loop {
        match tokio::time::timeout(Duration::from_secs(30), seen.next()).await {
            Ok(Some(Seen::Echo(echoed))) if echoed == text => return Ok(()),
            Ok(Some(_)) => {}
            Ok(None) => return Err(format!("cycle {n}: the session is gone")),
            Err(_) => return Err(format!("cycle {n}: no echo within 30 s")),
        }
    }
}

/// What the process holds now, once pending work has settled.
async fn sample(cycles: usize) -> Sample {
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    trim_heap();
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count());
    Sample {
        cycles,
        actors: diagnostics::live_actors(),
        fds,
        rss_kib: rss_kib().unwrap_or(f64::NAN),
    }
}
