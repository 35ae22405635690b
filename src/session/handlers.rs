//! What the session does with each message it gets: from its transports and
//! heartbeat, and from user code.

use actix::{Context, Handler};
use futures::channel::oneshot;

use super::queue::{has_room, SendAnswer};
use super::{trace, Phase, Session};
use crate::error::Unsent;
use crate::heartbeat::PingTimeout;
use crate::protocol::{DisconnectReason, SendError, TransportKind};
use crate::request::{Abort, Close, Send, SessionStats, Stats, Subscribe, TrySend, Wait};
use crate::transport::{TransportEvent, TransportEventKind};

impl Handler<TransportEvent> for Session {
    type Result = ();

    fn handle(&mut self, event: TransportEvent, ctx: &mut Context<Self>) {
        // The late reports of a connection lost since do not concern this one.
        if event.epoch != self.epoch {
            return;
        }
        let Some(open) = self.open.as_mut() else {
            return;
        };
        let from = event.transport;
        if self.http.config().logging && log::log_enabled!(log::Level::Trace) {
            log::trace!(
                "{}: from {from}: {}",
                open.conn.handshake().sid,
                trace::describe_event(&event.kind)
            );
        }
        match event.kind {
            TransportEventKind::Packets(packets) => {
                for packet in packets {
                    open.conn.handle_packet(from, packet);
                }
            }
            TransportEventKind::Paused => {
                let unsent = open.given_back(TransportKind::Polling).take();
                open.conn.handle_polling_paused(unsent);
            }
            TransportEventKind::Written(bytes) => open.conn.handle_written(from, bytes),
            TransportEventKind::Ended(end) => {
                // What it never wrote stays given back until the connection is wound up.
                open.forget_transport(from);
                open.conn.handle_transport_end(from, end);
            }
        }
        self.drive(ctx);
    }
}

impl Handler<PingTimeout> for Session {
    type Result = ();

    fn handle(&mut self, PingTimeout(epoch): PingTimeout, ctx: &mut Context<Self>) {
        if epoch != self.epoch {
            return;
        }
        if let Some(open) = self.open.as_mut() {
            open.conn.handle_ping_timeout();
            self.drive(ctx);
        }
    }
}

impl Session {
    /// Whether a message sent now waits for a session that is not open yet: the
    /// first, or, when the policy holds messages, the next.
    fn holds_messages(&self) -> bool {
        self.attempt == 0
            || self
                .http
                .config()
                .reconnect
                .as_ref()
                .is_some_and(|policy| policy.hold_messages)
    }

    /// Why a message cannot be taken now, if it cannot.
    pub(super) fn refusal(&self) -> Option<SendError> {
        match self.phase {
            Phase::Ended => Some(SendError::Closed),
            Phase::Connecting(_) | Phase::Waiting(_) if !self.holds_messages() => {
                Some(SendError::Reconnecting)
            }
            _ => None,
        }
    }

    /// An answer that comes once the session has ended for good.
    fn when_ended(&mut self) -> actix::Response<()> {
        if matches!(self.phase, Phase::Ended) {
            return actix::Response::reply(());
        }
        let (closer, ended) = oneshot::channel();
        self.closers.push(closer);
        actix::Response::fut(async move {
            let _ = ended.await;
        })
    }
}

impl Handler<Send> for Session {
    type Result = SendAnswer;

    fn handle(&mut self, Send(payload): Send, ctx: &mut Context<Self>) -> SendAnswer {
        if let Some(error) = self.refusal() {
            return SendAnswer::now(Err(Unsent { error, payload }));
        }
        if let Some(open) = self.open.as_mut() {
            if self.queue.borrow().is_idle() && has_room(&open.conn, self.http.config().send_buffer)
            {
                let result = open.conn.send_or_give_back(payload);
                self.drive(ctx);
                return SendAnswer::now(
                    result.map_err(|(error, payload)| Unsent { error, payload }),
                );
            }
        }
        // Too much is on its way already, or no session is open yet: it waits.
        self.queue.borrow_mut().push(payload);
        SendAnswer::queued(self.queue.clone())
    }
}

impl Handler<TrySend> for Session {
    type Result = Result<(), Unsent>;

    fn handle(&mut self, TrySend(payload): TrySend, ctx: &mut Context<Self>) -> Self::Result {
        let refuse = |error, payload| Err(Unsent { error, payload });
        if let Some(error) = self.refusal() {
            return refuse(error, payload);
        }
        let Some(open) = self.open.as_mut() else {
            return refuse(SendError::NotConnected, payload);
        };
        if !self.queue.borrow().is_idle() || !has_room(&open.conn, self.http.config().send_buffer) {
            return refuse(SendError::Full, payload);
        }
        let result = open.conn.send_or_give_back(payload);
        self.drive(ctx);
        result.or_else(|(error, payload)| refuse(error, payload))
    }
}

impl Handler<Close> for Session {
    type Result = actix::Response<()>;

    fn handle(&mut self, _: Close, ctx: &mut Context<Self>) -> Self::Result {
        self.end_by_user(ctx, |session, ctx| {
            // What was sent before `Close` goes out before the close packet.
            // Messages of the handles too, those whose `Drain` is still on its way.
            let claimed = session.outlet.claim();
            if claimed > 0 {
                session.queue.borrow_mut().push_claimed(claimed);
            }
            session.release_queue(usize::MAX, ctx);
            if let Some(open) = session.open.as_mut() {
                open.conn.close();
            }
        })
    }
}

impl Handler<Abort> for Session {
    type Result = actix::Response<()>;

    fn handle(&mut self, _: Abort, ctx: &mut Context<Self>) -> Self::Result {
        self.end_by_user(ctx, |session, _| {
            if let Some(open) = session.open.as_mut() {
                open.conn.abort();
            }
        })
    }
}

impl Session {
    /// Ends the session at its user's request: `on_open` tells an open connection how
    /// (close or abort); without one, the wait for the next one ends, for good.
    fn end_by_user(
        &mut self,
        ctx: &mut Context<Self>,
        on_open: impl FnOnce(&mut Self, &mut Context<Self>),
    ) -> actix::Response<()> {
        match self.phase {
            Phase::Open => {
                on_open(self, ctx);
                // The session is closing for good: the handles' later messages are refused.
                self.outlet.set_refusal(Some(SendError::Closed));
                self.drive(ctx);
            }
            Phase::Connecting(_) | Phase::Waiting(_) => {
                let announce = self.attempt > 0;
                self.end(DisconnectReason::ClientDisconnect, announce, ctx);
            }
            Phase::Ended => {}
        }
        self.when_ended()
    }
}

impl Handler<Wait> for Session {
    type Result = actix::Response<()>;

    fn handle(&mut self, _: Wait, _: &mut Context<Self>) -> Self::Result {
        self.when_ended()
    }
}

impl Handler<Subscribe> for Session {
    type Result = ();

    fn handle(&mut self, subscribe: Subscribe, _: &mut Context<Self>) {
        self.subscribers.push(subscribe);
    }
}

impl Handler<Stats> for Session {
    type Result = SessionStats;

    fn handle(&mut self, _: Stats, _: &mut Context<Self>) -> SessionStats {
        let queue = self.queue.borrow();
        SessionStats {
            queued_messages: queue.len(),
            queued_bytes: queue.bytes(),
            unwritten_bytes: self.open.as_ref().map_or(0, |open| open.conn.unwritten()),
            refused_do_sends: queue.refused(),
            unhandled_messages: self.backlog.messages(),
            unhandled_bytes: self.backlog.bytes(),
        }
    }
}
