//! This crate, through its actor API, on an actix `System`: `Session::builder(url)
//! .transports([...]).on_message(recipient).connect()`, `Send`, and a subscribed
//! `Recipient<Message>` that forwards each payload to the benchmark's waiting code.
//! [`Style::Batched`] pipelines through a `SessionSender` (`GetSender`) instead and
//! subscribes a `Recipient<Messages>`: one event per read.

use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_engineio::{
    Close, Disconnect, GetSender, Message as EioMessage, Messages, Payload, Send as EioSend,
    Session, Upgrade,
};
use futures::channel::{mpsc, oneshot};
use futures::future::join_all;
use futures::StreamExt;

use crate::common::{
    batches, rss_kib, trim_heap, BenchResult, Job, Kind, Latencies, Measurement, Payloads,
    Stopwatch,
};

/// Unanswered `Send` requests a pipelining sender keeps in flight.
const WINDOW: usize = 256;

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

/// What the subscriber hands to the waiting code.
enum Event {
    Message(Payload),
    Batch(Vec<Payload>),
    Disconnect(String),
}

/// The subscriber's channel, and what is left of the last batch taken from it.
struct Inbox {
    events: mpsc::UnboundedReceiver<Event>,
    batch: std::vec::IntoIter<Payload>,
}

/// The subscriber: forwards messages and the end of the session into a channel.
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

impl Handler<Messages> for Forward {
    type Result = ();
    fn handle(&mut self, Messages(batch): Messages, _: &mut Context<Self>) {
        let _ = self.0.unbounded_send(Event::Batch(batch));
    }
}

impl Handler<Disconnect> for Forward {
    type Result = ();
    fn handle(&mut self, Disconnect(reason): Disconnect, _: &mut Context<Self>) {
        let _ = self.0.unbounded_send(Event::Disconnect(reason.to_string()));
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

/// A session and the receiving end of its subscriber.
struct Client {
    session: Addr<Session>,
    events: Inbox,
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
    match s.kind {
        Kind::WsSeq | Kind::PollSeq => {
            let mut c = open(base, transport(s.kind), job.max_packets_per_post, style).await?;
            sequential(&mut c, s.size, s.count, &mut m).await?;
            close(c).await;
        }
        Kind::WsPipe | Kind::PollPipe => {
            let mut c = open(base, transport(s.kind), job.max_packets_per_post, style).await?;
            let sw = Stopwatch::start();
            pipelined(
                &c.session,
                &mut c.events,
                &Payloads::new(s.size),
                s.count,
                style,
            )
            .await?;
            sw.finish_messages(&mut m, s.count);
            close(c).await;
        }
        Kind::Upgrade => upgrade(base, s.sessions, &mut m).await?,
        Kind::Idle => idle(base, s.sessions, s.batch, style, &mut m).await?,
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

/// Opens a session; `cap` is `--max-packets-per-post` (`None`: the crate's default).
async fn open(
    base: &str,
    transport: &str,
    cap: Option<usize>,
    style: Style,
) -> BenchResult<Client> {
    let (tx, events) = mpsc::unbounded();
    let forward = Forward(tx).start();
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
    let events = Inbox {
        events,
        batch: Vec::new().into_iter(),
    };
    Ok(Client { session, events })
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

async fn next_echo(inbox: &mut Inbox, p: &Payloads, i: usize) -> BenchResult<()> {
    let payload = loop {
        if let Some(payload) = inbox.batch.next() {
            break payload;
        }
        match inbox.events.next().await {
            Some(Event::Message(payload)) => break payload,
            Some(Event::Batch(batch)) => inbox.batch = batch.into_iter(),
            Some(Event::Disconnect(reason)) => {
                return Err(format!("session ended after {i} echoes: {reason}"))
            }
            None => return Err(format!("subscriber gone after {i} echoes")),
        }
    };
    match payload {
        Payload::Text(text) => p.check(i, text.as_bytes()),
        Payload::Binary(data) => p.check(i, &data),
    }
}

async fn sequential(
    c: &mut Client,
    size: usize,
    count: usize,
    m: &mut Measurement,
) -> BenchResult<()> {
    let p = Payloads::new(size);
    let mut lat = Latencies::with_capacity(count);
    let sw = Stopwatch::start();
    for i in 0..count {
        let t = Instant::now();
        send(&c.session, p.make(i)).await?;
        next_echo(&mut c.events, &p, i).await?;
        lat.push(t.elapsed());
    }
    sw.finish_messages(m, count);
    lat.record(m);
    Ok(())
}

/// Sends `count` messages back to back while reading and checking the echoes.
async fn pipelined(
    session: &Addr<Session>,
    events: &mut Inbox,
    p: &Payloads,
    count: usize,
    style: Style,
) -> BenchResult<()> {
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
            .buffered(WINDOW)
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
            next_echo(events, p, i).await?;
        }
        Ok::<_, String>(())
    };
    let (sent, received) = futures::join!(sender, receiver);
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
async fn open_many(base: &str, n: usize, batch: usize, style: Style) -> BenchResult<Vec<Client>> {
    let mut clients = Vec::with_capacity(n);
    for range in batches(n, batch) {
        let opened = join_all(range.map(|_| open(base, "websocket", None, style))).await;
        for c in opened {
            clients.push(c.map_err(|e| format!("after {} sessions: {e}", clients.len()))?);
        }
    }
    Ok(clients)
}

async fn idle(
    base: &str,
    n: usize,
    batch: usize,
    style: Style,
    m: &mut Measurement,
) -> BenchResult<()> {
    // One session first, so one-time costs (runtime, HTTP client, TLS roots) are not
    // charged to the sessions measured.
    let warm = open(base, "websocket", None, style).await?;
    settle().await;
    let before = rss_kib()?;
    let t = Instant::now();
    let clients = open_many(base, n, batch, style).await?;
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
    let mut clients = open_many(base, n, batch, style).await?;
    m.set("open_secs", t.elapsed().as_secs_f64());
    let p = Payloads::new(size);
    let sw = Stopwatch::start();
    let results = join_all(
        clients
            .iter_mut()
            .map(|c| pipelined(&c.session, &mut c.events, &p, count, style)),
    )
    .await;
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
