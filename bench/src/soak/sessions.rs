//! The soak's sessions: each one a supervised `Session` (reconnection on, messages held
//! across a loss) whose events go to a small recorder actor, and a sender task that
//! sends a numbered message at a steady rate and books what the session accepted.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use actix_engineio::{
    Close, Connect, Disconnect, Message as EioMessage, ReconnectPolicy, Send, Session, Undelivered,
};

use super::ledger::Ledger;

/// Counters of session events, over every session.
#[derive(Default)]
pub struct Events {
    pub open: AtomicUsize,
    pub reconnections: AtomicU64,
    pub disconnects: AtomicU64,
}

/// What every session shares.
#[derive(Clone)]
pub struct Shared {
    pub ledger: Arc<Ledger>,
    pub events: Arc<Events>,
    /// Set when the senders should stop.
    pub stop: Arc<AtomicBool>,
}

/// Receives one session's events and books them.
struct Recorder {
    index: usize,
    shared: Shared,
    open: bool,
}

impl Actor for Recorder {
    type Context = Context<Self>;
}

impl Handler<Connect> for Recorder {
    type Result = ();
    fn handle(&mut self, event: Connect, _: &mut Context<Self>) {
        if event.is_reconnection() {
            self.shared.ledger.close_window(self.index);
            self.shared
                .events
                .reconnections
                .fetch_add(1, Ordering::Relaxed);
        }
        if !self.open {
            self.open = true;
            self.shared.events.open.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Handler<Disconnect> for Recorder {
    type Result = ();
    fn handle(&mut self, _: Disconnect, _: &mut Context<Self>) {
        self.shared
            .events
            .disconnects
            .fetch_add(1, Ordering::Relaxed);
        if self.open {
            self.open = false;
            self.shared.events.open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Handler<EioMessage> for Recorder {
    type Result = ();
    fn handle(&mut self, EioMessage(payload): EioMessage, _: &mut Context<Self>) {
        if let Some(text) = payload.as_text() {
            self.shared.ledger.echoed(text);
        }
    }
}

impl Handler<Undelivered> for Recorder {
    type Result = ();
    fn handle(&mut self, Undelivered(lost): Undelivered, _: &mut Context<Self>) {
        for payload in lost {
            if let Some(text) = payload.as_text() {
                self.shared.ledger.undelivered(text);
            }
        }
    }
}

/// Which transports session `index` uses: websocket only, polling only, or polling
/// upgraded to websocket, in turn.
fn transports(index: usize) -> &'static [&'static str] {
    match index % 3 {
        0 => &["websocket"],
        1 => &["polling"],
        _ => &["polling", "websocket"],
    }
}

/// Opens session `index` to `url`; its first connect is retried like a reconnection.
pub async fn open(index: usize, url: &str, shared: Shared) -> Result<Addr<Session>, String> {
    let recorder = Recorder {
        index,
        shared,
        open: false,
    }
    .start();
    let policy = ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(100))
        .max_delay(Duration::from_secs(2))
        .hold_messages(true)
        .retry_first_connect(true);
    Session::builder(url)
        .transports(transports(index).iter().copied())
        .reconnect(policy)
        .on_connect(recorder.clone().recipient())
        .on_disconnect(recorder.clone().recipient())
        .on_message(recorder.clone().recipient())
        .on_undelivered(recorder.recipient())
        .connect()
        .await
        .map_err(|e| format!("session {index}: {e}"))
}

/// Sends message after message on `session` every `every` until told to stop, awaiting
/// each answer (so a session that cannot take more holds its sender back).
pub async fn send_steadily(index: usize, session: Addr<Session>, every: Duration, shared: Shared) {
    let mut seq = 0;
    // Spread the sessions' sends over the interval.
    let offset = every.mul_f64((index % 97) as f64 / 97.0);
    actix_rt::time::sleep(offset).await;
    let mut ticks = actix_rt::time::interval(every);
    while !shared.stop.load(Ordering::Relaxed) {
        ticks.tick().await;
        match session.send(Send::text(Ledger::text(index, seq))).await {
            Ok(Ok(())) => shared.ledger.accepted(index, seq),
            Ok(Err(_)) => shared.ledger.refused(index),
            Err(_) => return,
        }
        seq += 1;
    }
}

/// Closes every session and waits for each to answer.
pub async fn close_all(sessions: &[Addr<Session>]) {
    let closing = sessions.iter().map(|s| s.send(Close));
    futures::future::join_all(closing).await;
}
