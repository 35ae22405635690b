//! This crate through its two clients of python-engineio's guide: `AsyncClient` on a
//! plain Tokio runtime (no actix `System` of the benchmark's own; its sessions run on
//! the crate's background runtime), and the blocking `Client` from plain threads. Each
//! checks its echoes in an `on_message` handler, as an application handles its
//! messages there, which wakes the waiting code once the echo it waits for is in.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use actix_engineio::{AsyncClient, Client, Payload};
use futures::StreamExt;
use tokio::sync::Notify;

use crate::common::{BenchResult, Echoes, Job, Kind, Latencies, Measurement, Payloads, Stopwatch};

/// Unanswered sends an `AsyncClient` sender keeps in flight, as the actor API's does:
/// 256, or fewer when they would hold more than `WINDOW_BYTES`.
const WINDOW: usize = 256;
const WINDOW_BYTES: usize = 4 * 1024 * 1024;

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

/// The echoes the handlers checked, shared with the waiting code.
struct Tally {
    payloads: Payloads,
    state: Mutex<TallyState>,
    /// Wakes a waiting thread (`Client`), or a waiting task (`AsyncClient`).
    changed: Condvar,
    notify: Notify,
}

#[derive(Default)]
struct TallyState {
    echoes: Echoes,
    /// How many echoes the waiting code waits for.
    want: usize,
}

/// How long a blocking wait for an echo lasts before it counts as lost.
const ECHO_DEADLINE: Duration = Duration::from_secs(60);

impl Tally {
    fn new(size: usize) -> Arc<Tally> {
        Arc::new(Tally {
            payloads: Payloads::new(size),
            state: Mutex::default(),
            changed: Condvar::new(),
            notify: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, TallyState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The message handler's work: checks the next echo.
    fn echo(&self, payload: &Payload) {
        let mut state = self.lock();
        state.echoes.check(&self.payloads, payload);
        if !matches!(state.echoes.reached(state.want), Ok(false)) {
            drop(state);
            self.wake();
        }
    }

    fn ended(&self) {
        self.lock().echoes.ended("disconnected");
        self.wake();
    }

    fn wake(&self) {
        self.changed.notify_all();
        self.notify.notify_one();
    }

    /// `Ok(true)` once `count` echoes are in; records `count` as awaited otherwise.
    fn done(state: &mut TallyState, count: usize) -> BenchResult<bool> {
        state.want = count;
        state.echoes.reached(count)
    }

    async fn wait(&self, count: usize) -> BenchResult<()> {
        loop {
            let notified = self.notify.notified();
            if Tally::done(&mut self.lock(), count)? {
                return Ok(());
            }
            notified.await;
        }
    }

    fn wait_blocking(&self, count: usize) -> BenchResult<()> {
        let mut state = self.lock();
        let deadline = Instant::now() + ECHO_DEADLINE;
        while !Tally::done(&mut state, count)? {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("echo #{} did not come", state.echoes.right));
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        Ok(())
    }
}

/// `builder` with the job's transport and packet cap (either client's builder).
fn for_job<A>(
    builder: actix_engineio::builder::Builder<A>,
    job: &Job,
) -> actix_engineio::builder::Builder<A> {
    let builder = builder.transports([transport(job.scenario.kind)]);
    match job.max_packets_per_post {
        Some(cap) => builder.max_packets_per_post(cap),
        None => builder,
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
    let eio = for_job(AsyncClient::builder(), &job).build();
    let tally = Tally::new(s.size);
    let t = tally.clone();
    eio.on_message(move |data: Payload| t.echo(&data));
    let t = tally.clone();
    eio.on_disconnect(move |_| t.ended());
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
            tally.wait(i + 1).await?;
            lat.push(t.elapsed());
        }
        lat.record(&mut m);
    } else {
        let sender = async {
            let mut answers = futures::stream::iter(0..s.count)
                .map(|i| eio.send(p.make(i)))
                .buffered(WINDOW.min(WINDOW_BYTES / p.size().max(1)).max(1))
                .enumerate();
            while let Some((i, answer)) = answers.next().await {
                answer.map_err(|e| format!("send {i}: {e}"))?;
            }
            Ok::<_, String>(())
        };
        let (sent, received) = futures::join!(sender, tally.wait(s.count));
        sent.and(received)?;
    }
    sw.finish_messages(&mut m, s.count);
    eio.disconnect().await;
    Ok(m)
}

/// The blocking `Client`: a sender thread, and this thread reading the echoes.
pub fn run_blocking(job: Job) -> BenchResult<Measurement> {
    let s = job.scenario.clone();
    let eio = for_job(Client::builder().handle_sigint(false), &job).build();
    let tally = Tally::new(s.size);
    let t = tally.clone();
    eio.on_message(move |data: Payload| t.echo(&data));
    let t = tally.clone();
    eio.on_disconnect(move |_| t.ended());
    eio.connect(&job.base)
        .map_err(|e| format!("connect: {e}"))?;
    let p = Payloads::new(s.size);
    let mut m = Measurement::default();
    let sw = Stopwatch::start();
    if matches!(s.kind, Kind::WsSeq | Kind::PollSeq) {
        let mut lat = Latencies::with_capacity(s.count);
        for i in 0..s.count {
            let t = Instant::now();
            eio.send(p.make(i)).map_err(|e| format!("send {i}: {e}"))?;
            tally.wait_blocking(i + 1)?;
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
        tally.wait_blocking(s.count)?;
        sender
            .join()
            .map_err(|_| "the sender thread panicked".to_owned())??;
    }
    sw.finish_messages(&mut m, s.count);
    eio.disconnect();
    Ok(m)
}
