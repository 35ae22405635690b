//! This crate, through its actor API, on an actix `System`: `Session::builder(url)
//! .transports([...]).on_message(recipient).connect()`, `Send`, and a subscribed
//! `Recipient<Message>` that checks each echo in its handler, as an actix
//! application handles its messages, and wakes the benchmark's waiting code once the
//! echo it waits for is in. [`Style::Batched`] pipelines through a `SessionSender`
//! (`GetSender`) instead and subscribes a `Recipient<Messages>`: one event per read.

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_engineio::{
    Close, Disconnect, GetSender, Message as EioMessage, Messages, Payload, Send as EioSend,
    Session, Upgrade,
};
use futures::channel::oneshot;
use futures::future::join_all;
use futures::StreamExt;

use crate::common::{
    batches, rss_kib, trim_heap, BenchResult, Echoes, Job, Kind, Latencies, Measurement, Payloads,
    Stopwatch,
};

/// Unanswered `Send` requests a pipelining sender keeps in flight: 256, or fewer
/// when they would hold more than `WINDOW_BYTES` (as the engine.io-client
/// contender's sender).
const WINDOW: usize = 256;
const WINDOW_BYTES: usize = 4 * 1024 * 1024;

/// How the actor API is driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `send().await` per pipelined message (a window of them), `Message` events.
    Send,
    /// `do_send` per pipelined message, `Message` events.
    DoSend,
    /// Pipelined through a `SessionSender`, `Messages` events (one per read).
    Batched,
}

/// What the subscriber found, shared with the waiting code (on the same thread).
#[derive(Default)]
struct Progress {
    echoes: Echoes,
    /// The waiting code, and how many echoes it waits for.
    waiter: Option<(usize, Waker)>,
}

impl Progress {
    fn wake_if_done(&mut self) {
        if let Some((want, _)) = &self.waiter {
            if !matches!(self.echoes.reached(*want), Ok(false)) {
                if let Some((_, waker)) = self.waiter.take() {
                    waker.wake();
                }
            }
        }
    }
}

/// Resolves once `count` echoes are in, all right, or with the first failure.
async fn echoed(progress: &RefCell<Progress>, count: usize) -> BenchResult<()> {
    poll_fn(|cx| {
        let mut p = progress.borrow_mut();
        if p.echoes.reached(count)? {
            return Poll::Ready(Ok(()));
        }
        p.waiter = Some((count, cx.waker().clone()));
        Poll::Pending
    })
    .await
}

/// The subscriber: checks every echo, and hears the end of the session.
struct Forward {
    payloads: Payloads,
    progress: Rc<RefCell<Progress>>,
}

impl Forward {
    fn check(&self, payload: &Payload) {
        self.progress
            .borrow_mut()
            .echoes
            .check(&self.payloads, payload);
    }
}

impl Actor for Forward {
    type Context = Context<Self>;
}

impl Handler<EioMessage> for Forward {
    type Result = ();
    fn handle(&mut self, EioMessage(payload): EioMessage, _: &mut Context<Self>) {
        self.check(&payload);
        self.progress.borrow_mut().wake_if_done();
    }
}

impl Handler<Messages> for Forward {
    type Result = ();
    fn handle(&mut self, Messages(batch): Messages, _: &mut Context<Self>) {
        for payload in &batch {
            self.check(payload);
        }
        self.progress.borrow_mut().wake_if_done();
    }
}

impl Handler<Disconnect> for Forward {
    type Result = ();
    fn handle(&mut self, Disconnect(reason): Disconnect, _: &mut Context<Self>) {
        let mut p = self.progress.borrow_mut();
        p.echoes.ended(&reason.to_string());
        p.wake_if_done();
    }
}

/// Hands the first `Upgrade` event to whoever waits for it.
struct UpgradeWaiter(Option<oneshot::Sender<Upgrade>>);

impl Actor for UpgradeWaiter {
    type Context = Context<Self>;
}

impl Handler<Upgrade> for UpgradeWaiter {
    type Result = ();
    fn handle(&mut self, upgrade: Upgrade, ctx: &mut Context<Self>) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(upgrade);
        }
        ctx.stop();
    }
}

/// A session and what its subscriber found.
struct Client {
    session: Addr<Session>,
    progress: Rc<RefCell<Progress>>,
}

/// With [`Style::DoSend`], pipelined messages go out with `Addr::do_send` instead of
/// `send().await` each (a refused message then shows as a missing echo).
pub fn run(job: Job, style: Style) -> BenchResult<Measurement> {
    actix_rt::System::new().block_on(run_job(job, style))
}

async fn run_job(job: Job, style: Style) -> BenchResult<Measurement> {
    let s = &job.scenario;
    let base = job.base.as_str();
    let mut m = Measurement::default();
    let one = || {
        open(
            base,
            transport(s.kind),
            job.max_packets_per_post,
            s.size,
            style,
        )
    };
    match s.kind {
        Kind::WsSeq | Kind::PollSeq => {
            let c = one().await?;
            sequential(&c, s.size, s.count, &mut m).await?;
            close(c).await;
        }
        Kind::WsPipe | Kind::PollPipe => {
            let c = one().await?;
            let sw = Stopwatch::start();
            pipelined(&c, &Payloads::new(s.size), s.count, style).await?;
            sw.finish_messages(&mut m, s.count);
            close(c).await;
        }
        Kind::Upgrade => upgrade(base, s.sessions, &mut m).await?,
        Kind::Idle => idle(base, s.sessions, s.batch, &mut m).await?,
        Kind::Many => many(base, s.sessions, s.batch, s.size, s.count, style, &mut m).await?,
    }
    Ok(m)
}

fn transport(kind: Kind) -> &'static str {
    match kind {
        Kind::PollSeq | Kind::PollPipe => "polling",
        _ => "websocket",
    }
}

/// Opens a session whose echoes are of `size` bytes; `cap` is
/// `--max-packets-per-post` (`None`: the crate's default).
async fn open(
    base: &str,
    transport: &str,
    cap: Option<usize>,
    size: usize,
    style: Style,
) -> BenchResult<Client> {
    let progress = Rc::new(RefCell::new(Progress::default()));
    let forward = Forward {
        payloads: Payloads::new(size),
        progress: progress.clone(),
    }
    .start();
    let builder = Session::builder(base).transports([transport]);
    let builder = match style {
        Style::Batched => builder.on_messages(forward.clone().recipient()),
        Style::Send | Style::DoSend => builder.on_message(forward.clone().recipient()),
    };
    let mut builder = builder.on_disconnect(forward.recipient());
    if let Some(cap) = cap {
        builder = builder.max_packets_per_post(cap);
    }
    let session = builder
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))?;
    Ok(Client { session, progress })
}

async fn close(c: Client) {
    // Answers once the server has the close.
    let _ = c.session.send(Close).await;
}

async fn send(session: &Addr<Session>, text: String) -> BenchResult<()> {
    session
        .send(EioSend::text(text))
        .await
        .map_err(|e| format!("send: mailbox: {e}"))?
        .map_err(|e| format!("send: {e}"))
}

async fn sequential(c: &Client, size: usize, count: usize, m: &mut Measurement) -> BenchResult<()> {
    let p = Payloads::new(size);
    let mut lat = Latencies::with_capacity(count);
    let sw = Stopwatch::start();
    for i in 0..count {
        let t = Instant::now();
        send(&c.session, p.make(i)).await?;
        echoed(&c.progress, i + 1).await?;
        lat.push(t.elapsed());
    }
    sw.finish_messages(m, count);
    lat.record(m);
    Ok(())
}

/// Sends `count` messages back to back while reading and checking the echoes.
async fn pipelined(c: &Client, p: &Payloads, count: usize, style: Style) -> BenchResult<()> {
    let session = &c.session;
    let sender = async {
        match style {
            Style::DoSend => {
                for i in 0..count {
                    session.do_send(EioSend::text(p.make(i)));
                }
                return Ok::<_, String>(());
            }
            Style::Batched => {
                // The handle waits only while the send queue is full.
                let sender = session
                    .send(GetSender)
                    .await
                    .map_err(|e| format!("GetSender: mailbox: {e}"))?;
                for i in 0..count {
                    sender
                        .send(p.make(i))
                        .await
                        .map_err(|e| format!("send {i}: {e}"))?;
                }
                return Ok(());
            }
            Style::Send => {}
        }
        // Requests go out back to back, up to WINDOW unanswered at a time: `Send`
        // answers once the message is on its way, later when the send buffer is
        // full, so the window is where backpressure holds the sender.
        let mut answers = futures::stream::iter(0..count)
            .map(|i| session.send(EioSend::text(p.make(i))))
            .buffered(WINDOW.min(WINDOW_BYTES / p.size().max(1)).max(1))
            .enumerate();
        while let Some((i, answer)) = answers.next().await {
            answer
                .map_err(|e| format!("send {i}: mailbox: {e}"))?
                .map_err(|e| format!("send {i}: {e}"))?;
        }
        Ok::<_, String>(())
    };
    let (sent, received) = futures::join!(sender, echoed(&c.progress, count));
    sent.and(received)
}

async fn upgrade(base: &str, sessions: usize, m: &mut Measurement) -> BenchResult<()> {
    let mut lat = Latencies::with_capacity(sessions);
    for n in 0..sessions {
        let (tx, rx) = oneshot::channel();
        let waiter = UpgradeWaiter(Some(tx)).start();
        let t = Instant::now();
        let session = Session::builder(base)
            .on_upgrade(waiter.recipient())
            .connect()
            .await
            .map_err(|e| format!("session {n}: connect: {e}"))?;
        match rx.await {
            Ok(Upgrade::Completed(_)) => lat.push(t.elapsed()),
            Ok(Upgrade::Failed(e)) => return Err(format!("session {n}: upgrade failed: {e}")),
            Err(_) => return Err(format!("session {n}: no upgrade event")),
        }
        let _ = session.send(Close).await;
    }
    actix_rt::time::sleep(Duration::from_millis(50)).await;
    lat.record(m);
    Ok(())
}

/// Opens `n` websocket sessions, `batch` at a time, all subscribed to `recipient`s made by `sub`.
/// Opens `n` sessions with `open`, `batch` at a time.
async fn open_many<T, F, Fut>(n: usize, batch: usize, open: F) -> BenchResult<Vec<T>>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = BenchResult<T>>,
{
    let mut opened_all = Vec::with_capacity(n);
    for range in batches(n, batch) {
        let opened = join_all(range.map(|_| open())).await;
        for c in opened {
            opened_all.push(c.map_err(|e| format!("after {} sessions: {e}", opened_all.len()))?);
        }
    }
    Ok(opened_all)
}

/// An idle websocket session: nobody subscribed, as none is needed to keep a session
/// alive (the session answers the server's pings itself).
async fn open_idle(base: &str) -> BenchResult<Addr<Session>> {
    Session::builder(base)
        .transports(["websocket"])
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))
}

async fn idle(base: &str, n: usize, batch: usize, m: &mut Measurement) -> BenchResult<()> {
    // One session first, so one-time costs (runtime, HTTP client, TLS roots) are not
    // charged to the sessions measured.
    let warm = open_idle(base).await?;
    settle().await;
    let before = rss_kib()?;
    let t = Instant::now();
    let clients = open_many(n, batch, || open_idle(base)).await?;
    let open_secs = t.elapsed().as_secs_f64();
    settle().await;
    let after = rss_kib()?;
    m.set("sessions", n as f64)
        .set("batch", batch as f64)
        .set("open_secs", open_secs)
        .set("rss_before_mib", before / 1024.0)
        .set("rss_after_mib", after / 1024.0)
        .set("kib_per_session", (after - before) / n as f64);
    drop(clients);
    drop(warm);
    Ok(())
}

async fn many(
    base: &str,
    n: usize,
    batch: usize,
    size: usize,
    count: usize,
    style: Style,
    m: &mut Measurement,
) -> BenchResult<()> {
    let t = Instant::now();
    let clients = open_many(n, batch, || open(base, "websocket", None, size, style)).await?;
    m.set("open_secs", t.elapsed().as_secs_f64());
    let p = Payloads::new(size);
    let sw = Stopwatch::start();
    let results = join_all(clients.iter().map(|c| pipelined(c, &p, count, style))).await;
    sw.finish_messages(m, n * count);
    m.set("sessions", n as f64);
    if let Some((i, Err(e))) = results.iter().enumerate().find(|(_, r)| r.is_err()) {
        return Err(format!("session {i}: {e}"));
    }
    Ok(())
}

/// Lets pending work finish and returns freed memory, before RSS is read.
async fn settle() {
    actix_rt::time::sleep(Duration::from_millis(500)).await;
    trim_heap();
}
