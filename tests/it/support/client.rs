//! The client side of the tests: an actor that records every event a session publishes,
//! and async waits on those records and on peer logs, with generous deadlines.
//!
//! ```ignore
//! let events = Events::default();
//! let session = events.subscribe(Session::builder(peer.url()).transports(["websocket"]))
//!     .connect().await.unwrap();
//! session.send(Send::text("hi")).await.unwrap().unwrap();
//! assert_eq!(events.messages(1).await, [Payload::from("hi")]);
//! ```

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_engineio::{
    Connect, Disconnect, DisconnectReason, Payload, Session, SessionBuilder, TransportKind, Upgrade,
};

use super::{Peer, PeerEvent};

/// How long a test waits for anything before it fails. Generous: the machines are noisy.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// How often the waits below look again.
const TICK: Duration = Duration::from_millis(5);

/// How a session reaches the server: the three modes every behaviour is tested in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `.transports(["websocket"])`.
    WebSocket,
    /// `.transports(["polling"])`.
    Polling,
    /// The default transports: polling first, then the upgrade to websocket.
    Upgrade,
}

/// Every mode.
pub const ALL_MODES: [Mode; 3] = [Mode::WebSocket, Mode::Polling, Mode::Upgrade];

impl Mode {
    /// A builder for `url` in this mode.
    pub fn builder(self, url: &str) -> SessionBuilder {
        let builder = Session::builder(url);
        match self {
            Mode::WebSocket => builder.transports(["websocket"]),
            Mode::Polling => builder.transports(["polling"]),
            Mode::Upgrade => builder,
        }
    }

    /// The transport the session opens on.
    pub fn opens_on(self) -> TransportKind {
        match self {
            Mode::WebSocket => TransportKind::WebSocket,
            Mode::Polling | Mode::Upgrade => TransportKind::Polling,
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::WebSocket => "websocket only",
            Mode::Polling => "polling only",
            Mode::Upgrade => "polling with upgrade",
        })
    }
}

/// One event, as a subscriber saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Connect(Connect),
    Message(Payload),
    Upgrade(Upgrade),
    Disconnect(DisconnectReason),
}

/// Everything one subscriber received, in order. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Events {
    seen: Rc<RefCell<Vec<Seen>>>,
}

impl Events {
    /// Subscribes a new recorder to all four events of the session `builder` will start.
    pub fn subscribe(&self, builder: SessionBuilder) -> SessionBuilder {
        let recorder = Recorder(self.clone()).start();
        builder
            .on_connect(recorder.clone().recipient())
            .on_message(recorder.clone().recipient())
            .on_upgrade(recorder.clone().recipient())
            .on_disconnect(recorder.recipient())
    }

    /// A recorder actor feeding these events, for `Subscribe` on a running session.
    pub fn recorder(&self) -> Addr<Recorder> {
        Recorder(self.clone()).start()
    }

    /// Everything seen so far.
    pub fn all(&self) -> Vec<Seen> {
        self.seen.borrow().clone()
    }

    /// The messages seen so far.
    pub fn received(&self) -> Vec<Payload> {
        self.seen
            .borrow()
            .iter()
            .filter_map(|s| match s {
                Seen::Message(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }

    /// Waits until `n` messages arrived (or the session ended, or [`DEADLINE`]) and
    /// returns the messages seen; callers assert on the result.
    pub async fn messages(&self, n: usize) -> Vec<Payload> {
        wait_until(DEADLINE, || {
            self.received().len() >= n || self.disconnect_reason().is_some()
        })
        .await;
        self.received()
    }

    /// The reason of the session's end, if it ended.
    pub fn disconnect_reason(&self) -> Option<DisconnectReason> {
        self.seen.borrow().iter().find_map(|s| match s {
            Seen::Disconnect(r) => Some(r.clone()),
            _ => None,
        })
    }

    /// Waits for the session's end and returns its reason; panics after `deadline`.
    pub async fn disconnect_within(&self, deadline: Duration) -> DisconnectReason {
        wait_until(deadline, || self.disconnect_reason().is_some()).await;
        self.disconnect_reason()
            .unwrap_or_else(|| panic!("no disconnect within {deadline:?}; seen {:?}", self.all()))
    }

    /// Waits for the session's end with the default deadline.
    pub async fn disconnect(&self) -> DisconnectReason {
        self.disconnect_within(DEADLINE).await
    }

    /// Waits for the upgrade's outcome.
    pub async fn upgrade(&self) -> Upgrade {
        let find = || {
            self.seen.borrow().iter().find_map(|s| match s {
                Seen::Upgrade(u) => Some(u.clone()),
                _ => None,
            })
        };
        wait_until(DEADLINE, || find().is_some()).await;
        find().unwrap_or_else(|| panic!("no upgrade event; seen {:?}", self.all()))
    }

    /// The `Connect` event, once it was seen.
    pub fn connect(&self) -> Option<Connect> {
        self.seen.borrow().iter().find_map(|s| match s {
            Seen::Connect(c) => Some(c.clone()),
            _ => None,
        })
    }
}

/// Records events into [`Events`].
pub struct Recorder(Events);

impl Actor for Recorder {
    type Context = Context<Self>;
}

impl Handler<Connect> for Recorder {
    type Result = ();
    fn handle(&mut self, event: Connect, _: &mut Context<Self>) {
        self.0.seen.borrow_mut().push(Seen::Connect(event));
    }
}

impl Handler<actix_engineio::Message> for Recorder {
    type Result = ();
    fn handle(&mut self, event: actix_engineio::Message, _: &mut Context<Self>) {
        self.0.seen.borrow_mut().push(Seen::Message(event.0));
    }
}

impl Handler<Upgrade> for Recorder {
    type Result = ();
    fn handle(&mut self, event: Upgrade, _: &mut Context<Self>) {
        self.0.seen.borrow_mut().push(Seen::Upgrade(event));
    }
}

impl Handler<Disconnect> for Recorder {
    type Result = ();
    fn handle(&mut self, event: Disconnect, _: &mut Context<Self>) {
        self.0.seen.borrow_mut().push(Seen::Disconnect(event.0));
    }
}

/// Polls `done` until it holds or `deadline` passes, letting the actix runtime run.
/// Returns whether it held.
pub async fn wait_until(deadline: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > deadline {
            return false;
        }
        actix_rt::time::sleep(TICK).await;
    }
    true
}

/// Waits, without blocking the actix runtime, for `peer` to log an event matching `pred`.
pub async fn peer_event(peer: &Peer, pred: impl Fn(&PeerEvent) -> bool) -> Option<PeerEvent> {
    let find = || peer.events().into_iter().find(|e| pred(e));
    wait_until(DEADLINE, || find().is_some()).await;
    find()
}
