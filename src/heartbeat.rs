//! The heartbeat actor: declares the session dead when pings stop (the "Heartbeat"
//! section of the Engine.IO v4 protocol).

use std::time::Duration;

use actix::{Actor, ActorContext, AsyncContext, Context, Handler, Message, Recipient, SpawnHandle};

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
pub(crate) struct Heartbeat {
    session: Recipient<PingTimeout>,
    epoch: u64,
    deadline: Option<SpawnHandle>,
}

impl Heartbeat {
    pub fn new(session: Recipient<PingTimeout>, epoch: u64) -> Self {
        Heartbeat {
            session,
            epoch,
            deadline: None,
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
        if let Some(previous) = self.deadline.take() {
            ctx.cancel_future(previous);
        }
        self.deadline = Some(ctx.run_later(after, |act, ctx| {
            act.session.do_send(PingTimeout(act.epoch));
            ctx.stop();
        }));
    }
}

impl Handler<Disarm> for Heartbeat {
    type Result = ();

    fn handle(&mut self, _: Disarm, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}
