//! [`Log`]: every event a session published (all six, as [`Event`]s), from an actor
//! subscriber ([`Recorder`]) or a client's handlers, with waits on it for async code and
//! plain threads, and a short [`summary`] for failure messages.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_engineio::{
    AsyncClient, Client, Connect, Disconnect, DisconnectReason, Event, Message, Payload,
    Reconnecting, Session, SessionBuilder, Subscribe, Undelivered, Upgrade,
};

use crate::support::client::{describe, DEADLINE};

/// Every event a session published, in the order its subscriber or handlers got them.
/// Cheap to clone (shared); usable from actors, async handlers and handler threads.
#[derive(Clone, Default)]
pub struct Log {
    seen: Arc<Mutex<Vec<Event>>>,
}

impl Log {
    fn lock(&self) -> MutexGuard<'_, Vec<Event>> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn push(&self, event: Event) {
        self.lock().push(event);
    }

    pub fn all(&self) -> Vec<Event> {
        self.lock().clone()
    }

    /// Subscribes a recorder of all six events to the session `builder` starts.
    pub fn subscribe(&self, builder: SessionBuilder) -> SessionBuilder {
        let recorder = Recorder(self.clone()).start();
        builder
            .on_connect(recorder.clone().recipient())
            .on_message(recorder.clone().recipient())
            .on_upgrade(recorder.clone().recipient())
            .on_disconnect(recorder.clone().recipient())
            .on_reconnecting(recorder.clone().recipient())
            .on_undelivered(recorder.recipient())
    }

    /// Subscribes a recorder of all six events to a running session (`Subscribe`).
    pub async fn subscribe_running(&self, session: &Addr<Session>) {
        let recorder = Recorder(self.clone()).start();
        for subscribe in [
            Subscribe::Connect(recorder.clone().recipient()),
            Subscribe::Message(recorder.clone().recipient()),
            Subscribe::Upgrade(recorder.clone().recipient()),
            Subscribe::Disconnect(recorder.clone().recipient()),
            Subscribe::Reconnecting(recorder.clone().recipient()),
            Subscribe::Undelivered(recorder.recipient()),
        ] {
            session.send(subscribe).await.expect("Subscribe");
        }
    }

    /// Sets the six handlers of `client` to record here.
    pub fn handle_async(&self, client: &AsyncClient) {
        let log = self.clone();
        client.on_connect(move |c| log.push(Event::Connect(c)));
        let log = self.clone();
        client.on_message(move |p| log.push(Event::Message(p)));
        let log = self.clone();
        client.on_upgrade(move |u| log.push(Event::Upgrade(u)));
        let log = self.clone();
        client.on_disconnect(move |r| log.push(Event::Disconnect(r)));
        let log = self.clone();
        client.on_reconnecting(move |r| log.push(Event::Reconnecting(r)));
        let log = self.clone();
        client.on_undelivered(move |u| log.push(Event::Undelivered(u)));
    }

    /// Sets the six handlers of `client` to record here.
    pub fn handle_blocking(&self, client: &Client) {
        let log = self.clone();
        client.on_connect(move |c| log.push(Event::Connect(c)));
        let log = self.clone();
        client.on_message(move |p| log.push(Event::Message(p)));
        let log = self.clone();
        client.on_upgrade(move |u| log.push(Event::Upgrade(u)));
        let log = self.clone();
        client.on_disconnect(move |r| log.push(Event::Disconnect(r)));
        let log = self.clone();
        client.on_reconnecting(move |r| log.push(Event::Reconnecting(r)));
        let log = self.clone();
        client.on_undelivered(move |u| log.push(Event::Undelivered(u)));
    }

    pub fn connects(&self) -> Vec<Connect> {
        connects(&self.lock())
    }

    pub fn disconnects(&self) -> Vec<DisconnectReason> {
        disconnects(&self.lock())
    }

    pub fn reconnectings(&self) -> Vec<Reconnecting> {
        self.lock()
            .iter()
            .filter_map(|e| match e {
                Event::Reconnecting(r) => Some(*r),
                _ => None,
            })
            .collect()
    }

    pub fn messages(&self) -> Vec<Payload> {
        messages(&self.lock())
    }

    pub fn undelivered(&self) -> Vec<Payload> {
        self.lock()
            .iter()
            .filter_map(|e| match e {
                Event::Undelivered(lost) => Some(lost.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// The events, one short line each, for failure messages.
    pub fn summary(&self) -> String {
        summary(&self.lock())
    }

    /// Waits (on the caller's runtime) until `done` holds for the events; panics after
    /// [`DEADLINE`] with `what` and the events.
    pub async fn until(&self, l: &str, what: &str, done: impl Fn(&[Event]) -> bool) -> Vec<Event> {
        let start = Instant::now();
        loop {
            {
                let seen = self.lock();
                if done(&seen) {
                    return seen.clone();
                }
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{l}: no {what} within {DEADLINE:?}; seen:\n{}",
                self.summary()
            );
            actix_rt::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// [`until`](Self::until) from a plain thread.
    pub fn until_blocking(
        &self,
        l: &str,
        what: &str,
        done: impl Fn(&[Event]) -> bool,
    ) -> Vec<Event> {
        let start = Instant::now();
        loop {
            {
                let seen = self.lock();
                if done(&seen) {
                    return seen.clone();
                }
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{l}: no {what} within {DEADLINE:?}; seen:\n{}",
                self.summary()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits for the `n`th `Connect` (1 for the first) and gives it.
    pub async fn nth_connect(&self, l: &str, n: usize) -> Connect {
        let seen = self
            .until(l, &format!("connect #{n}"), |e| connects(e).len() >= n)
            .await;
        connects(&seen).swap_remove(n - 1)
    }

    /// Waits for the `n`th `Disconnect` (1 for the first) and gives its reason.
    pub async fn nth_disconnect(&self, l: &str, n: usize) -> DisconnectReason {
        let seen = self
            .until(l, &format!("disconnect #{n}"), |e| {
                disconnects(e).len() >= n
            })
            .await;
        disconnects(&seen).swap_remove(n - 1)
    }

    /// Waits until `Reconnecting` announced attempt `attempt` (or a later one).
    pub async fn attempt(&self, l: &str, attempt: u32) {
        self.until(l, &format!("reconnecting attempt {attempt}"), |e| {
            e.iter()
                .any(|e| matches!(e, Event::Reconnecting(r) if r.attempt >= attempt))
        })
        .await;
    }
}

fn connects(events: &[Event]) -> Vec<Connect> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Connect(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

fn disconnects(events: &[Event]) -> Vec<DisconnectReason> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Disconnect(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

pub fn messages(events: &[Event]) -> Vec<Payload> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// One short line per event; runs of messages as one line.
pub fn summary(events: &[Event]) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut run: Vec<&Payload> = Vec::new();
    let flush = |run: &mut Vec<&Payload>, lines: &mut Vec<String>| {
        match run.as_slice() {
            [] => {}
            [one] => lines.push(format!("  Message {}", describe(one))),
            [first, .., last] => lines.push(format!(
                "  {} Messages, {} .. {}",
                run.len(),
                describe(first),
                describe(last)
            )),
        }
        run.clear();
    };
    for event in events {
        if let Event::Message(p) = event {
            run.push(p);
            continue;
        }
        flush(&mut run, &mut lines);
        lines.push(match event {
            Event::Undelivered(lost) => format!("  Undelivered({} messages)", lost.len()),
            other => format!("  {other:?}"),
        });
    }
    flush(&mut run, &mut lines);
    lines.join("\n")
}

/// Records events into a [`Log`].
pub struct Recorder(Log);

impl Actor for Recorder {
    type Context = Context<Self>;
}

impl Handler<Connect> for Recorder {
    type Result = ();
    fn handle(&mut self, event: Connect, _: &mut Context<Self>) {
        self.0.push(Event::Connect(event));
    }
}

impl Handler<Message> for Recorder {
    type Result = ();
    fn handle(&mut self, Message(payload): Message, _: &mut Context<Self>) {
        self.0.push(Event::Message(payload));
    }
}

impl Handler<Upgrade> for Recorder {
    type Result = ();
    fn handle(&mut self, event: Upgrade, _: &mut Context<Self>) {
        self.0.push(Event::Upgrade(event));
    }
}

impl Handler<Disconnect> for Recorder {
    type Result = ();
    fn handle(&mut self, Disconnect(reason): Disconnect, _: &mut Context<Self>) {
        self.0.push(Event::Disconnect(reason));
    }
}

impl Handler<Reconnecting> for Recorder {
    type Result = ();
    fn handle(&mut self, event: Reconnecting, _: &mut Context<Self>) {
        self.0.push(Event::Reconnecting(event));
    }
}

impl Handler<Undelivered> for Recorder {
    type Result = ();
    fn handle(&mut self, Undelivered(lost): Undelivered, _: &mut Context<Self>) {
        self.0.push(Event::Undelivered(lost));
    }
}
