//! The heartbeat actor: declares the session dead when pings stop (the "Heartbeat"
//! section of the Engine.IO v4 protocol).

use std::time::Duration;

use actix::{
    Actor, ActorContext, AsyncContext, Context, Handler, Message, SpawnHandle, WeakRecipient,
};
use actix_rt::time::Instant;

/// Session → heartbeat: (re)start the deadline. Sent at the handshake and on every ping.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Arm(pub Duration);

/// Session → heartbeat: the session is over; stop.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Disarm;

/// Heartbeat → session: no ping arrived before the deadline of the session's
/// `epoch`-th connection (a late one from a connection lost since is ignored).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct PingTimeout(pub u64);

/// One deadline, re-armed on every ping; when it passes, the session hears of it once.
///
/// It stays small at rest, as every idle session has one: it holds the session weakly (a
/// strong `Recipient` is a sender of its own, two more heap blocks; a session that is gone
/// needs no news), and a ping moves the deadline rather than cancelling the timer and
/// starting another (each cancellation spills the context's handle list to the heap).
/// The timer, when it fires before the deadline, waits for the rest.
pub(crate) struct Heartbeat {
    session: WeakRecipient<PingTimeout>,
    epoch: u64,
    /// When the session is declared dead, unless a ping comes first.
    deadline: Option<Instant>,
    /// The timer under way, and when it fires.
    timer: Option<(SpawnHandle, Instant)>,
}

impl Heartbeat {
    pub fn new(session: WeakRecipient<PingTimeout>, epoch: u64) -> Self {
        Heartbeat {
            session,
            epoch,
            deadline: None,
            timer: None,
        }
    }

    /// Fires at `at` (a timer for a later time is cancelled: a deadline came closer).
    fn wake_at(&mut self, at: Instant, ctx: &mut Context<Self>) {
        match self.timer {
            Some((_, fires)) if fires <= at => return,
            Some((handle, _)) => {
                ctx.cancel_future(handle);
            }
            None => {}
        }
        let handle = ctx.run_later(at.saturating_duration_since(Instant::now()), |act, ctx| {
            act.timer = None;
            act.check(ctx);
        });
        self.timer = Some((handle, at));
    }

    /// The timer fired: the session is dead if the deadline has passed, else the timer
    /// waits for it.
    fn check(&mut self, ctx: &mut Context<Self>) {
        let Some(deadline) = self.deadline else {
            return;
        };
        if Instant::now() >= deadline {
            if let Some(session) = self.session.upgrade() {
                session.do_send(PingTimeout(self.epoch));
            }
            ctx.stop();
        } else {
            self.wake_at(deadline, ctx);
        }
    }
}

impl Actor for Heartbeat {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        crate::diagnostics::actor_started();
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        crate::diagnostics::actor_stopped();
    }
}

impl Handler<Arm> for Heartbeat {
    type Result = ();

    fn handle(&mut self, Arm(after): Arm, ctx: &mut Context<Self>) {
        let deadline = Instant::now() + after;
        self.deadline = Some(deadline);
        self.wake_at(deadline, ctx);
    }
}

impl Handler<Disarm> for Heartbeat {
    type Result = ();

    fn handle(&mut self, _: Disarm, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

#[cfg(test)]
mod tests {
    use futures::channel::mpsc;
    use futures::StreamExt;

    use super::*;

    /// Stands for the session: forwards what it hears.
    struct Listener(mpsc::UnboundedSender<u64>);

    impl Actor for Listener {
        type Context = Context<Self>;
    }

    impl Handler<PingTimeout> for Listener {
        type Result = ();
        fn handle(&mut self, PingTimeout(epoch): PingTimeout, _: &mut Context<Self>) {
            let _ = self.0.unbounded_send(epoch);
        }
    }

    #[actix_rt::test]
    async fn a_deadline_moved_closer_fires_at_the_closer_one_once() {
        let (tx, mut heard) = mpsc::unbounded();
        let session = Listener(tx).start();
        let heartbeat = Heartbeat::new(session.downgrade().recipient(), 7).start();
        heartbeat.send(Arm(Duration::from_secs(600))).await.unwrap();
        heartbeat
            .send(Arm(Duration::from_millis(20)))
            .await
            .unwrap();
        // Far sooner than the first deadline: only the second can have fired.
        let epoch = actix_rt::time::timeout(Duration::from_secs(60), heard.next()).await;
        assert_eq!(epoch.unwrap(), Some(7));
        // It stopped after telling the session once.
        assert!(heartbeat.send(Arm(Duration::from_millis(1))).await.is_err());
        drop(session);
        assert_eq!(heard.next().await, None);
    }
}
