//! Decompressing a poll response runs off the arbiter (on the runtime's blocking threads):
//! sessions share their arbiter's thread, and inflating tens of MiB there would hold up
//! every other session on it, heartbeats included (docs/protocol.md section 6), long enough
//! for their servers to give up on them.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_engineio::{Close, Disconnect, DisconnectReason, Payload, Session};
use flate2::write::GzEncoder;
use flate2::Compression;

use super::polling_server;
use crate::support::client::{wait_until, Client, DEADLINE};
use crate::support::scripted::{open_packet, Reply, Scripted, ScriptedRequest};

/// Session B's heartbeat: a ping every 300 ms, answered within 1 s: half the time one
/// body takes to inflate, and far above what a pong takes beside the blocking threads
/// (under 20 ms here, on a loaded machine).
const PING_INTERVAL: Duration = Duration::from_millis(300);
const PING_TIMEOUT: Duration = Duration::from_millis(1000);

/// Session A's poll answers: a gzip body that inflates to this many bytes, one message
/// (under the default `max_body_size` of 64 MiB).
const INFLATED: usize = 60 << 20;

/// B's pings sent after A's first large body, before A's server stops sending them.
const PINGS_DURING: usize = 10;

/// At most this many large bodies go to A.
const MAX_BODIES: usize = 30;

/// One ping of B's server: when it went, and how long its pong took.
#[derive(Debug, Clone, Copy)]
struct Ping {
    sent: Instant,
    latency: Duration,
}

/// What the two servers share: B's pings, when A's first large body went, whether A's
/// server has stopped sending them, how many it sent.
#[derive(Default)]
struct Shared {
    pings: Mutex<Vec<Ping>>,
    first_body: Mutex<Option<Instant>>,
    bodies: Mutex<usize>,
    stop_bodies: AtomicBool,
    stop_pings: AtomicBool,
}

impl Shared {
    fn pings(&self) -> Vec<Ping> {
        self.pings.lock().unwrap().clone()
    }

    /// B's pings sent since A's first large body.
    fn pings_during(&self) -> usize {
        let Some(first) = *self.first_body.lock().unwrap() else {
            return 0;
        };
        self.pings().iter().filter(|p| p.sent >= first).count()
    }
}

/// B's server, websocket only: the open packet, then a ping every [`PING_INTERVAL`], each
/// pong's latency recorded, until told to stop. It waits for every pong however late, so
/// that the latency is measured, not cut at the timeout.
fn pinging_server(shared: Arc<Shared>) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| {
        let shared = shared.clone();
        async move {
            if !req.is_websocket() {
                return Reply::text(404, "");
            }
            Reply::websocket(move |mut ws| async move {
                let open = open_packet(
                    "pinged",
                    &[],
                    PING_INTERVAL.as_millis() as u64,
                    PING_TIMEOUT.as_millis() as u64,
                );
                ws.send_text(&open).await;
                while !shared.stop_pings.load(Ordering::SeqCst) {
                    tokio::time::sleep(PING_INTERVAL).await;
                    let sent = Instant::now();
                    ws.send_text("2").await;
                    loop {
                        match ws.recv_text().await.as_deref() {
                            Some("3") => break,
                            Some(_) => continue,
                            None => return,
                        }
                    }
                    let latency = sent.elapsed();
                    shared.pings.lock().unwrap().push(Ping { sent, latency });
                }
                while ws.recv().await.is_some() {}
            })
        }
    })
}

/// One text message of `INFLATED` bytes, gzipped: the decimal numbers from 0 up, which
/// compress about 4:1 into many short matches and literals, so that inflating them takes
/// time for every byte (about 2 s for the 60 MiB in the test profile on a 2-core machine;
/// a repeated line, inflated by long copies, takes 0.3 s).
fn large_gzip_body() -> Vec<u8> {
    let mut text = Vec::with_capacity(INFLATED + 32);
    text.push(b'4');
    let mut i = 0u64;
    while text.len() < INFLATED {
        text.extend_from_slice(i.to_string().as_bytes());
        text.push(b' ');
        i += 1;
    }
    text.truncate(INFLATED);
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(&text).unwrap();
    encoder.finish().unwrap()
}

/// What session A's subscriber saw: the sizes of its messages (not the messages: tens of
/// MiB each), and its end.
#[derive(Default)]
struct Tally {
    sizes: Vec<usize>,
    end: Option<DisconnectReason>,
}

struct TallyActor(Rc<RefCell<Tally>>);

impl Actor for TallyActor {
    type Context = Context<Self>;
}

impl Handler<actix_engineio::Message> for TallyActor {
    type Result = ();
    fn handle(&mut self, message: actix_engineio::Message, _: &mut Context<Self>) {
        let size = match &message.0 {
            Payload::Text(text) => text.len(),
            Payload::Binary(data) => data.len(),
        };
        self.0.borrow_mut().sizes.push(size);
    }
}

impl Handler<Disconnect> for TallyActor {
    type Result = ();
    fn handle(&mut self, Disconnect(reason): Disconnect, _: &mut Context<Self>) {
        self.0.borrow_mut().end = Some(reason);
    }
}

/// Two sessions on this test's arbiter (one System, one thread). A polls a server that
/// answers every poll with a gzip body inflating to 60 MiB, one after the other, until B
/// has been pinged [`PINGS_DURING`] times since the first; B talks to a server pinging
/// every 300 ms with a pingTimeout of 1 s. Every pong of B comes back within the 1 s,
/// B is never disconnected, and A gets every body's message whole.
#[actix_rt::test]
async fn inflating_a_large_body_does_not_delay_another_sessions_pongs() {
    let label = "[scripted, A inflates 60 MiB bodies, B is pinged every 300 ms]";
    let body = Arc::new(large_gzip_body());
    let shared = Arc::new(Shared::default());

    let b_server = pinging_server(shared.clone());
    let b = Client::connect(
        format!("{label} B"),
        Session::builder(b_server.url()).transports(["websocket"]),
    )
    .await;

    let a_shared = shared.clone();
    let a_server = polling_server("inflating", move |_| {
        let mut bodies = a_shared.bodies.lock().unwrap();
        let enough = a_shared.pings_during() >= PINGS_DURING || *bodies >= MAX_BODIES;
        if enough || a_shared.stop_bodies.load(Ordering::SeqCst) {
            a_shared.stop_bodies.store(true, Ordering::SeqCst);
            return Reply::Hang;
        }
        *bodies += 1;
        a_shared
            .first_body
            .lock()
            .unwrap()
            .get_or_insert_with(Instant::now);
        Reply::Http {
            status: 200,
            headers: vec![
                ("content-type".into(), "text/plain; charset=UTF-8".into()),
                ("content-encoding".into(), "gzip".into()),
            ],
            body: body.to_vec(),
        }
    });
    let tally = Rc::new(RefCell::new(Tally::default()));
    let subscriber = TallyActor(tally.clone()).start();
    let a = Session::builder(a_server.url())
        .transports(["polling"])
        .on_message(subscriber.clone().recipient())
        .on_disconnect(subscriber.recipient())
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{label} A: connect() failed: {e}"));

    // Until A's server has stopped sending bodies and A has every one of them (or a
    // session ended).
    let settled = wait_until(DEADLINE * 6, || {
        let t = tally.borrow();
        let sent = *shared.bodies.lock().unwrap();
        (shared.stop_bodies.load(Ordering::SeqCst) && t.sizes.len() >= sent)
            || t.end.is_some()
            || b.events.disconnect_reason().is_some()
    })
    .await;
    shared.stop_pings.store(true, Ordering::SeqCst);
    let pings = shared.pings();
    let during = shared.pings_during();
    let sent = *shared.bodies.lock().unwrap();
    let worst = pings.iter().map(|p| p.latency).max().unwrap_or_default();
    let (sizes, a_end) = {
        let t = tally.borrow();
        (t.sizes.clone(), t.end.clone())
    };
    eprintln!(
        "{label}: {sent} bodies, {} messages; B: {} pings, {during} after A's first body, \
         worst pong {worst:?}",
        sizes.len(),
        pings.len()
    );
    assert!(settled, "{label}: A got {} of {sent} bodies", sizes.len());
    b.assert_alive();
    assert!(a_end.is_none(), "{label}: A ended: {a_end:?}");
    assert!(
        sizes.iter().all(|&size| size == INFLATED - 1),
        "{label}: A's messages: {sizes:?}"
    );
    assert!(
        during >= PINGS_DURING,
        "{label}: only {during} pings of B while A inflated"
    );
    assert!(
        worst < PING_TIMEOUT,
        "{label}: a pong of B took {worst:?}, over the pingTimeout {PING_TIMEOUT:?}: {pings:?}"
    );
    let _ = a.send(Close).await;
    b.close().await;
}
