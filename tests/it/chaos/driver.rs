//! One chaos session from the client's side: the real `Session` actor built from the
//! seed's plan, a recorder of every event it publishes, a user who sends (awaiting,
//! pipelining or trying) and sometimes closes or aborts, and the wait for the end under
//! deadlines derived from the handshake.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_engineio::{
    Abort, Close, Connect, ConnectError, Disconnect, DisconnectReason, Payload, SendError, Session,
    TrySend, Undelivered, Upgrade,
};
use futures::FutureExt;

use crate::support::chaos::{ChaosServer, FinalAct, Plan, Rng};

/// How long past its deadline a session may take to end before it counts as a hang:
/// the machine is shared and slow, and the point is to catch sessions that never end.
const SLACK: Duration = Duration::from_secs(5);

/// A closing session's own slack (its bound is tighter than the heartbeat's).
const CLOSE_SLACK: Duration = Duration::from_secs(3);

/// An event as the recorder saw it.
#[derive(Debug, Clone)]
pub enum Ev {
    Connect(Connect),
    Message(Payload),
    Upgrade(Upgrade),
    Disconnect(DisconnectReason),
    Undelivered(Vec<Payload>),
}

/// Every event of one session, with when it arrived.
#[derive(Clone, Default)]
pub struct Events(Rc<RefCell<Vec<(Instant, Ev)>>>);

impl Events {
    pub fn all(&self) -> Vec<(Instant, Ev)> {
        self.0.borrow().clone()
    }

    fn push(&self, event: Ev) {
        self.0.borrow_mut().push((Instant::now(), event));
    }

    pub fn disconnect(&self) -> Option<(Instant, DisconnectReason)> {
        self.0.borrow().iter().find_map(|(at, e)| match e {
            Ev::Disconnect(reason) => Some((*at, reason.clone())),
            _ => None,
        })
    }
}

struct Recorder(Events);

impl Actor for Recorder {
    type Context = Context<Self>;
}

macro_rules! record {
    ($event:ty, $seen:expr) => {
        impl Handler<$event> for Recorder {
            type Result = ();
            fn handle(&mut self, event: $event, _: &mut Context<Self>) {
                #[allow(clippy::redundant_closure_call)]
                self.0.push(($seen)(event));
            }
        }
    };
}

record!(Connect, Ev::Connect);
record!(actix_engineio::Message, |m: actix_engineio::Message| {
    Ev::Message(m.0)
});
record!(Upgrade, Ev::Upgrade);
record!(Disconnect, |d: Disconnect| Ev::Disconnect(d.0));
record!(Undelivered, |u: Undelivered| Ev::Undelivered(u.0));

/// How the user hands a message over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// `send`, awaiting the answer (for a while) before going on.
    Await,
    /// `send`, going on at once.
    Pipeline,
    /// `TrySend`.
    Try,
}

/// What became of a message the user sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Ok,
    Refused(SendError),
    /// The session's actor was gone.
    Gone,
}

#[derive(Debug, Clone)]
pub struct Sent {
    pub payload: Payload,
    pub how: How,
    pub answer: Option<Answer>,
}

/// What the user did and got, shared with the tasks awaiting answers.
#[derive(Default)]
pub struct User {
    pub sent: Vec<Sent>,
    pub close_at: Option<Instant>,
    pub close_answered: Option<Instant>,
    pub aborted: bool,
}

/// Everything the oracle needs of one session.
pub struct Run {
    pub plan: Plan,
    pub connect: Result<(), ConnectError>,
    pub events: Events,
    pub user: Rc<RefCell<User>>,
    /// Set when the session did not end in time: what was waited for.
    pub hang: Option<String>,
}

enum Action {
    Send(Payload, How),
    Close,
    Abort,
}

/// The user's script: messages (a few above `maxPayload` or holding the record
/// separator), sometimes a close or an abort, with delays of a few ms.
fn user_script(plan: &Plan) -> Vec<(Duration, Action)> {
    let mut rng = Rng::stream(plan.seed, "user");
    let mut actions = Vec::new();
    for i in 0..rng.range(0, 8) {
        let delay = match rng.below(10) {
            0 => rng.millis(40, 200),
            _ => rng.millis(0, 40),
        };
        let size = match rng.below(100) {
            0..=69 => rng.usize(0, 60),
            70..=89 => rng.usize(60, 600),
            _ => (plan.max_payload as usize)
                .saturating_add(rng.usize(0, 40))
                .min(5000),
        };
        let payload = match rng.below(20) {
            0..=12 => Payload::from(format!("u{}.{i}:{}", plan.seed, rng.text(size))),
            13 => Payload::from(format!("u{}.{i}:a\x1eb", plan.seed)),
            _ => {
                let mut data = format!("U{}.{i}:", plan.seed).into_bytes();
                data.extend(rng.bytes(size));
                Payload::from(data)
            }
        };
        let how = rng.weighted(&[(60, How::Await), (30, How::Pipeline), (10, How::Try)]);
        actions.push((delay, Action::Send(payload, how)));
    }
    let must_close =
        plan.final_act == FinalAct::KeepAlive || plan.heartbeat() > Duration::from_secs(5);
    let ending = match rng.below(100) {
        0..=29 => Some(Action::Close),
        30..=34 => Some(Action::Abort),
        _ if must_close => Some(Action::Close),
        _ => None,
    };
    if let Some(ending) = ending {
        let at = rng.usize(0, actions.len());
        actions.insert(at, (rng.millis(0, 300), ending));
    }
    actions
}

/// Plays the user's script on a connected session.
async fn play(session: Addr<Session>, actions: Vec<(Duration, Action)>, user: Rc<RefCell<User>>) {
    for (delay, action) in actions {
        actix_rt::time::sleep(delay).await;
        match action {
            Action::Send(payload, how) => {
                let index = {
                    let mut u = user.borrow_mut();
                    u.sent.push(Sent {
                        payload: payload.clone(),
                        how,
                        answer: None,
                    });
                    u.sent.len() - 1
                };
                let record = user.clone();
                let answered = Rc::new(tokio::sync::Notify::new());
                let notify = answered.clone();
                // Requests reach the mailbox in the order they are made, answered or not.
                let request = match how {
                    How::Try => session.send(TrySend(payload)).boxed_local(),
                    _ => session.send(actix_engineio::Send(payload)).boxed_local(),
                };
                actix_rt::spawn(async move {
                    let answer = match request.await {
                        Ok(Ok(())) => Answer::Ok,
                        Ok(Err(unsent)) => Answer::Refused(unsent.error),
                        Err(_) => Answer::Gone,
                    };
                    record.borrow_mut().sent[index].answer = Some(answer);
                    notify.notify_one();
                });
                if how != How::Pipeline {
                    let _ =
                        actix_rt::time::timeout(Duration::from_millis(300), answered.notified())
                            .await;
                }
            }
            Action::Close | Action::Abort => {
                let abort = matches!(action, Action::Abort);
                {
                    let mut u = user.borrow_mut();
                    u.close_at = Some(Instant::now());
                    u.aborted = abort;
                }
                let record = user.clone();
                let session = session.clone();
                actix_rt::spawn(async move {
                    let _ = if abort {
                        session.send(Abort).await
                    } else {
                        session.send(Close).await
                    };
                    record.borrow_mut().close_answered = Some(Instant::now());
                });
            }
        }
    }
}

/// When the session must have ended by, from what the server did so far.
fn deadline(plan: &Plan, server: &ChaosServer, connected: Instant, user: &User) -> Instant {
    let far = Duration::from_secs(3600);
    let status = server.status(plan.seed);
    let last_ping = status
        .and_then(|s| s.last_ping.max(s.handshake_at))
        .unwrap_or(connected)
        .max(connected);
    let mut end = last_ping + plan.heartbeat().min(far) + SLACK;
    if let Some(close_at) = user.close_at {
        let pending = user.sent.iter().filter(|s| s.answer.is_none()).count() as u32;
        let rt = plan.request_timeout;
        end = end.min(close_at + rt * (2 + pending) + CLOSE_SLACK);
    }
    end
}

/// Runs the session of `seed` against `server` to its end (or its deadline).
pub async fn run(server: &ChaosServer, seed: u64) -> Run {
    let plan = Plan::new(seed);
    server.expect(plan.clone());
    let events = Events::default();
    let recorder = Recorder(events.clone()).start();
    let builder = plan
        .builder(&server.url())
        .on_connect(recorder.clone().recipient())
        .on_message(recorder.clone().recipient())
        .on_upgrade(recorder.clone().recipient())
        .on_disconnect(recorder.clone().recipient())
        .on_undelivered(recorder.recipient());
    let started = Instant::now();
    let user = Rc::new(RefCell::new(User::default()));
    let connect_limit = plan.request_timeout * 2 + SLACK;
    let mut run = Run {
        connect: Ok(()),
        events,
        user: user.clone(),
        hang: None,
        plan,
    };
    let session = match actix_rt::time::timeout(connect_limit, builder.connect()).await {
        Err(_) => {
            run.hang = Some(format!("connect() did not return within {connect_limit:?}"));
            return run;
        }
        Ok(Err(error)) => {
            run.connect = Err(error);
            // Give stray events (there must be none) a moment to show.
            actix_rt::time::sleep(Duration::from_millis(20)).await;
            return run;
        }
        Ok(Ok(session)) => session,
    };
    let connected = Instant::now();
    let user_task = actix_rt::spawn(play(session.clone(), user_script(&run.plan), user.clone()));
    loop {
        if run.events.disconnect().is_some() {
            break;
        }
        if Instant::now() > deadline(&run.plan, server, connected, &user.borrow()) {
            let u = user.borrow();
            run.hang = Some(format!(
                "no Disconnect {:?} after the start (user close at {:?}; server {:?})",
                started.elapsed(),
                u.close_at.map(|at| at - started),
                server.status(run.plan.seed).map(|s| (
                    s.last_ping.map(|at| at - started),
                    s.doomed_at.map(|at| at - started)
                )),
            ));
            break;
        }
        actix_rt::time::sleep(Duration::from_millis(5)).await;
    }
    if run.hang.is_some() {
        // Clean up, so that the run goes on; the hang is reported.
        let _ = actix_rt::time::timeout(Duration::from_secs(2), session.send(Abort)).await;
    }
    // Every answer comes once the session has ended: the user's task, then theirs.
    let answers_by = Instant::now() + Duration::from_secs(3);
    let _ = actix_rt::time::timeout(Duration::from_secs(3), user_task).await;
    while Instant::now() < answers_by {
        let answered = {
            let u = user.borrow();
            let closing = u.close_at.is_some() && u.close_answered.is_none();
            !closing && u.sent.iter().all(|s| s.answer.is_some())
        };
        if answered {
            break;
        }
        actix_rt::time::sleep(Duration::from_millis(5)).await;
    }
    // Late events (there must be none but `Undelivered`) have a moment to show.
    actix_rt::time::sleep(Duration::from_millis(20)).await;
    run
}
