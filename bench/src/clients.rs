//! This crate through its two clients of python-engineio's guide: `AsyncClient` on a
//! plain Tokio runtime (no actix `System` of the benchmark's own; its sessions run on
//! the crate's background runtime), and the blocking `Client` from plain threads. Each
//! gets its echoes through an `on_message` handler that forwards them to the waiting
//! code, as an application would.

use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use actix_engineio::{AsyncClient, Client, Payload};
use futures::channel::mpsc;
use futures::StreamExt;

use crate::common::{BenchResult, Job, Kind, Latencies, Measurement, Payloads, Stopwatch};

/// Unanswered sends an `AsyncClient` sender keeps in flight, as the actor API's does.
const WINDOW: usize = 256;

/// Whether these contenders measure `kind`: they are about the cost per message.
pub fn supports(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::WsSeq | Kind::WsPipe | Kind::PollSeq | Kind::PollPipe
    )
}

fn transport(kind: Kind) -> &'static str {
    match kind {
        Kind::PollSeq | Kind::PollPipe => "polling",
        _ => "websocket",
    }
}

fn check(p: &Payloads, i: usize, payload: Option<Payload>) -> BenchResult<()> {
    match payload {
        Some(Payload::Text(text)) => p.check(i, text.as_bytes()),
        Some(Payload::Binary(data)) => p.check(i, &data),
        None => Err(format!("the session ended after {i} echoes")),
    }
}

/// `AsyncClient` under a multi-threaded Tokio runtime.
pub fn run_async(job: Job) -> BenchResult<Measurement> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(async_job(job))
}

async fn async_job(job: Job) -> BenchResult<Measurement> {
    let s = &job.scenario;
    let mut builder = AsyncClient::builder().transports([transport(s.kind)]);
    if let Some(cap) = job.max_packets_per_post {
        builder = builder.max_packets_per_post(cap);
    }
    let eio = builder.build();
    let (echoed, mut echoes) = mpsc::unbounded();
    eio.on_message(move |data: Payload| {
        let _ = echoed.unbounded_send(data);
    });
    eio.connect(&job.base)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let p = Payloads::new(s.size);
    let mut m = Measurement::default();
    let sw = Stopwatch::start();
    if matches!(s.kind, Kind::WsSeq | Kind::PollSeq) {
        let mut lat = Latencies::with_capacity(s.count);
        for i in 0..s.count {
            let t = Instant::now();
            eio.send(p.make(i))
                .await
                .map_err(|e| format!("send {i}: {e}"))?;
            check(&p, i, echoes.next().await)?;
            lat.push(t.elapsed());
        }
        lat.record(&mut m);
    } else {
        let sender = async {
            let mut answers = futures::stream::iter(0..s.count)
                .map(|i| eio.send(p.make(i)))
                .buffered(WINDOW)
                .enumerate();
            while let Some((i, answer)) = answers.next().await {
                answer.map_err(|e| format!("send {i}: {e}"))?;
            }
            Ok::<_, String>(())
        };
        let receiver = async {
            for i in 0..s.count {
                check(&p, i, echoes.next().await)?;
            }
            Ok::<_, String>(())
        };
        let (sent, received) = futures::join!(sender, receiver);
        sent.and(received)?;
    }
    sw.finish_messages(&mut m, s.count);
    eio.disconnect().await;
    Ok(m)
}

/// The blocking `Client`: a sender thread, and this thread reading the echoes.
pub fn run_blocking(job: Job) -> BenchResult<Measurement> {
    let s = job.scenario.clone();
    let mut builder = Client::builder()
        .handle_sigint(false)
        .transports([transport(s.kind)]);
    if let Some(cap) = job.max_packets_per_post {
        builder = builder.max_packets_per_post(cap);
    }
    let eio = builder.build();
    let (echoed, echoes) = std_mpsc::channel();
    eio.on_message(move |data: Payload| {
        let _ = echoed.send(data);
    });
    eio.connect(&job.base)
        .map_err(|e| format!("connect: {e}"))?;
    let p = Payloads::new(s.size);
    let next = |i| check(&p, i, echoes.recv_timeout(Duration::from_secs(60)).ok());
    let mut m = Measurement::default();
    let sw = Stopwatch::start();
    if matches!(s.kind, Kind::WsSeq | Kind::PollSeq) {
        let mut lat = Latencies::with_capacity(s.count);
        for i in 0..s.count {
            let t = Instant::now();
            eio.send(p.make(i)).map_err(|e| format!("send {i}: {e}"))?;
            next(i)?;
            lat.push(t.elapsed());
        }
        lat.record(&mut m);
    } else {
        // `send` returns once the message is on its way; the send buffer paces it.
        let sender = {
            let (eio, p, count) = (eio.clone(), p.clone(), s.count);
            std::thread::spawn(move || {
                for i in 0..count {
                    eio.send(p.make(i)).map_err(|e| format!("send {i}: {e}"))?;
                }
                Ok::<_, String>(())
            })
        };
        for i in 0..s.count {
            next(i)?;
        }
        sender
            .join()
            .map_err(|_| "the sender thread panicked".to_owned())??;
    }
    sw.finish_messages(&mut m, s.count);
    eio.disconnect();
    Ok(m)
}
