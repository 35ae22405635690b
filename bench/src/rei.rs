//! `rust_engineio` 0.6, its async client (`rust_engineio::asynchronous`), on a tokio
//! multi-thread runtime (what `#[tokio::main]` gives) or a current-thread one
//! (`#[tokio::main(flavor = "current_thread")]`): the report shows the better. The client is a `Stream` of
//! packets that must be polled for the session to live (pings are answered while it is
//! polled); a reader task per session polls it and forwards messages to the waiting code.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::join_all;
use futures::StreamExt;
use rust_engineio::asynchronous::{Client, ClientBuilder};
use rust_engineio::{Packet, PacketId};
use tokio::sync::mpsc;
use url::Url;

use crate::common::{
    batches, rss_kib, trim_heap, BenchResult, Job, Kind, Latencies, Measurement, Payloads,
    Stopwatch,
};

/// Its best setting: one TLS connector for every session, given with
/// `ClientBuilder::tls_config`. Without it, each `ClientBuilder` builds a new reqwest
/// client for its polling transport (`PollingTransport::new` → `reqwest::Client::new()`),
/// which loads and parses the system's CA bundle, also for `http://` URLs: about 35 ms
/// per session on this machine, most of its `upgrade` figure (`build()` makes one such
/// transport; `build_polling()` two). Made once per process, before anything is timed.
fn builder(url: &Url) -> BenchResult<ClientBuilder> {
    static TLS: std::sync::OnceLock<Result<native_tls::TlsConnector, String>> =
        std::sync::OnceLock::new();
    let tls = TLS
        .get_or_init(|| native_tls::TlsConnector::new().map_err(|e| format!("TLS connector: {e}")))
        .clone()?;
    Ok(ClientBuilder::new(url.clone()).tls_config(tls))
}

enum Event {
    Message(Bytes),
    Error(String),
    Closed,
}

struct Session {
    client: Client,
    events: mpsc::UnboundedReceiver<Event>,
    reader: tokio::task::JoinHandle<()>,
}

pub fn run(job: Job, multi_thread: bool) -> BenchResult<Measurement> {
    let runtime = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    }
    .enable_all()
    .build()
    .map_err(|e| format!("tokio runtime: {e}"))?;
    let result = runtime.block_on(run_job(job));
    // Leftover reader tasks go with the runtime.
    runtime.shutdown_timeout(Duration::from_millis(100));
    result
}

async fn run_job(job: Job) -> BenchResult<Measurement> {
    let s = &job.scenario;
    let url = Url::parse(&format!("{}/", job.base)).map_err(|e| e.to_string())?;
    // The shared TLS connector is made before anything is timed.
    builder(&url)?;
    let mut m = Measurement::default();
    match s.kind {
        Kind::WsSeq | Kind::PollSeq => {
            let mut c = open(&url, s.kind == Kind::PollSeq).await?;
            sequential(&mut c, s.size, s.count, &mut m).await?;
            close(c).await;
        }
        Kind::WsPipe | Kind::PollPipe => {
            let mut c = open(&url, s.kind == Kind::PollPipe).await?;
            let p = Payloads::new(s.size);
            let sw = Stopwatch::start();
            pipelined(&c.client, &mut c.events, &p, s.count).await?;
            sw.finish_messages(&mut m, s.count);
            close(c).await;
        }
        Kind::Upgrade => upgrade(&url, s.sessions, &mut m).await?,
        Kind::Idle => idle(&url, s.sessions, s.batch, &mut m).await?,
        Kind::Many => many(&url, s.sessions, s.batch, s.size, s.count, &mut m).await?,
    }
    Ok(m)
}

/// Builds and connects a session (websocket only, or polling only) and starts its reader.
async fn open(url: &Url, polling: bool) -> BenchResult<Session> {
    let builder = builder(url)?;
    let client = if polling {
        builder.build_polling().await
    } else {
        builder.build_websocket().await
    }
    .map_err(|e| format!("build: {e}"))?;
    client
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))?;
    Ok(start_reader(client))
}

fn start_reader(client: Client) -> Session {
    let (tx, events) = mpsc::unbounded_channel();
    let mut stream = client.clone();
    let reader = tokio::spawn(async move {
        while let Some(item) = stream.next().await {
            match item {
                Ok(packet) => {
                    if matches!(
                        packet.packet_id,
                        PacketId::Message | PacketId::MessageBinary
                    ) && tx.send(Event::Message(packet.data)).is_err()
                    {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Event::Error(e.to_string()));
                    return;
                }
            }
        }
        let _ = tx.send(Event::Closed);
    });
    Session {
        client,
        events,
        reader,
    }
}

async fn close(s: Session) {
    let _ = s.client.disconnect().await;
    s.reader.abort();
}

async fn emit(client: &Client, text: String) -> BenchResult<()> {
    client
        .emit(Packet::new(PacketId::Message, Bytes::from(text)))
        .await
        .map_err(|e| format!("emit: {e}"))
}

async fn next_echo(
    events: &mut mpsc::UnboundedReceiver<Event>,
    p: &Payloads,
    i: usize,
) -> BenchResult<()> {
    match events.recv().await {
        Some(Event::Message(data)) => p.check(i, &data),
        Some(Event::Error(e)) => Err(format!("after {i} echoes: {e}")),
        Some(Event::Closed) | None => Err(format!("session ended after {i} echoes")),
    }
}

async fn sequential(
    c: &mut Session,
    size: usize,
    count: usize,
    m: &mut Measurement,
) -> BenchResult<()> {
    let p = Payloads::new(size);
    let mut lat = Latencies::with_capacity(count);
    let sw = Stopwatch::start();
    for i in 0..count {
        let t = Instant::now();
        emit(&c.client, p.make(i)).await?;
        next_echo(&mut c.events, &p, i).await?;
        lat.push(t.elapsed());
    }
    sw.finish_messages(m, count);
    lat.record(m);
    Ok(())
}

/// A sender task emits `count` messages back to back; this task reads and checks the echoes.
async fn pipelined(
    client: &Client,
    events: &mut mpsc::UnboundedReceiver<Event>,
    p: &Payloads,
    count: usize,
) -> BenchResult<()> {
    let sender = {
        let client = client.clone();
        let p = p.clone();
        tokio::spawn(async move {
            for i in 0..count {
                emit(&client, p.make(i)).await?;
            }
            Ok::<_, String>(())
        })
    };
    let mut received = Ok(());
    for i in 0..count {
        if let Err(e) = next_echo(events, p, i).await {
            received = Err(e);
            break;
        }
    }
    if received.is_err() {
        sender.abort();
    }
    let sent = match sender.await {
        Ok(result) => result,
        Err(e) if e.is_cancelled() => Ok(()),
        Err(e) => Err(format!("sender task: {e}")),
    };
    received.and(sent)
}

async fn upgrade(url: &Url, sessions: usize, m: &mut Measurement) -> BenchResult<()> {
    let mut lat = Latencies::with_capacity(sessions);
    for n in 0..sessions {
        let t = Instant::now();
        // build(): handshake over polling, then the websocket probe and upgrade.
        let client = builder(url)?
            .build()
            .await
            .map_err(|e| format!("session {n}: build: {e}"))?;
        client
            .connect()
            .await
            .map_err(|e| format!("session {n}: connect: {e}"))?;
        lat.push(t.elapsed());
        let _ = client.disconnect().await;
    }
    lat.record(m);
    Ok(())
}

async fn open_many(url: &Url, n: usize, batch: usize) -> BenchResult<Vec<Session>> {
    let mut sessions = Vec::with_capacity(n);
    for range in batches(n, batch) {
        let opened = join_all(range.map(|_| open(url, false))).await;
        for s in opened {
            sessions.push(s.map_err(|e| format!("after {} sessions: {e}", sessions.len()))?);
        }
    }
    Ok(sessions)
}

async fn idle(url: &Url, n: usize, batch: usize, m: &mut Measurement) -> BenchResult<()> {
    let warm = open(url, false).await?;
    settle().await;
    let before = rss_kib()?;
    let t = Instant::now();
    let sessions = open_many(url, n, batch).await?;
    let open_secs = t.elapsed().as_secs_f64();
    settle().await;
    let after = rss_kib()?;
    m.set("sessions", n as f64)
        .set("batch", batch as f64)
        .set("open_secs", open_secs)
        .set("rss_before_mib", before / 1024.0)
        .set("rss_after_mib", after / 1024.0)
        .set("kib_per_session", (after - before) / n as f64);
    drop(sessions);
    drop(warm);
    Ok(())
}

async fn many(
    url: &Url,
    n: usize,
    batch: usize,
    size: usize,
    count: usize,
    m: &mut Measurement,
) -> BenchResult<()> {
    let t = Instant::now();
    let sessions = open_many(url, n, batch).await?;
    m.set("open_secs", t.elapsed().as_secs_f64());
    let p = Payloads::new(size);
    let sw = Stopwatch::start();
    // Each session on a task of its own, as a tokio user would.
    let tasks: Vec<_> = sessions
        .into_iter()
        .map(|mut s| {
            let p = p.clone();
            tokio::spawn(async move {
                let r = pipelined(&s.client, &mut s.events, &p, count).await;
                (r, s)
            })
        })
        .collect();
    let results = join_all(tasks).await;
    sw.finish_messages(m, n * count);
    m.set("sessions", n as f64);
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok((Ok(()), _)) => {}
            Ok((Err(e), _)) => return Err(format!("session {i}: {e}")),
            Err(e) => return Err(format!("session {i}: task: {e}")),
        }
    }
    Ok(())
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
    trim_heap();
}
