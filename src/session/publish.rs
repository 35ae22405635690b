//! What a session tells its subscribers and its client: each event of the state
//! machine, in order, and the events of reconnection and of messages given back.

use actix::{ActorFutureExt, AsyncContext, Context, Handler};

use super::backlog::{self, Crossed, Handled};
use super::open::ReadHold;
use super::stream::{Delivered, Drained};
use super::subscribers::pick;
use super::{session_log, Session};
use crate::event::{
    Connect, Disconnect, Event as ClientEvent, Message, Reconnecting, Undelivered, Upgrade,
};
use crate::protocol::{DisconnectReason, Event, Payload, TransportKind};
use crate::request::Subscribe;

impl Session {
    /// Tells everyone of an event of the state machine.
    pub(super) fn publish(&mut self, event: Event, ctx: &mut Context<Self>) {
        // `remember_upgrade`: how the last websocket went, for the next handshake.
        let opening = &self.http.config().opening;
        let event = match event {
            Event::Connected { sid, transport } => {
                if transport == TransportKind::WebSocket {
                    opening.websocket_went(true);
                }
                ClientEvent::Connect(Connect {
                    sid,
                    transport,
                    attempt: self.attempt,
                })
            }
            Event::Message(payload) => match self.stage(payload) {
                Some(payload) => ClientEvent::Message(payload),
                None => return,
            },
            Event::Upgraded => {
                opening.websocket_went(true);
                if let Some(open) = &self.open {
                    open.upgraded();
                }
                session_log!(self, info, "engine.io session upgraded to websocket");
                self.publish_check();
                ClientEvent::Upgrade(Upgrade::Completed(TransportKind::WebSocket))
            }
            Event::UpgradeFailed(error) => {
                opening.websocket_went(false);
                session_log!(
                    self,
                    warn,
                    "engine.io upgrade failed, staying on polling: {error}"
                );
                ClientEvent::Upgrade(Upgrade::Failed(error))
            }
            // Announced once the connection is wound up (`Session::wind_up`), after
            // its transports have said what they never wrote.
            Event::Disconnected(_) => return,
        };
        self.tell(event, ctx);
    }

    /// Tells everyone that a session ended, and why.
    pub(super) fn publish_disconnect(&mut self, reason: DisconnectReason, ctx: &mut Context<Self>) {
        match reason.detail() {
            Some(detail) => session_log!(self, info, "engine.io session ended: {reason}: {detail}"),
            None => session_log!(self, info, "engine.io session ended: {reason}"),
        }
        self.tell(ClientEvent::Disconnect(reason), ctx);
    }

    /// Tells everyone that a new session will be tried after `event.delay`.
    pub(super) fn publish_reconnecting(&mut self, event: Reconnecting, ctx: &mut Context<Self>) {
        session_log!(
            self,
            info,
            "engine.io reconnecting in {:?} (attempt {})",
            event.delay,
            event.attempt
        );
        self.tell(ClientEvent::Reconnecting(event), ctx);
    }

    /// Gives back the messages that will never be written, if there are any.
    pub(super) fn give_back_undelivered(&mut self, ctx: &mut Context<Self>) {
        if self.undelivered.is_empty() {
            return;
        }
        let messages = std::mem::take(&mut self.undelivered);
        session_log!(
            self,
            warn,
            "engine.io: {} messages were not sent before the session ended",
            messages.len()
        );
        self.tell(ClientEvent::Undelivered(messages), ctx);
    }

    /// Puts a received message in the burst for the actor subscribers: gathered for
    /// the `Messages` subscribers, and held back from the `Message` subscribers until
    /// the next one comes (see `backlog::hand_over`). The message, if the client
    /// wants it too; not copied when nobody else does.
    fn stage(&mut self, payload: Payload) -> Option<Payload> {
        let subs = &self.subscribers;
        let (to_one, to_batch) = (subs.message(), subs.messages());
        if !to_one && !to_batch {
            return Some(payload);
        }
        let burst = &mut self.burst;
        burst.messages += 1;
        burst.bytes += payload.len();
        let to_client = self.stream.is_some();
        if to_batch {
            burst.batch.push(payload.clone());
        }
        if to_one {
            if let Some(before) = burst.last.replace(payload.clone()) {
                subs.tell(pick!(Subscribe::Message), Message(before));
            }
        }
        to_client.then_some(payload)
    }

    /// Hands the messages of this burst (one read of a transport, or what one `drive`
    /// produced) to the actor subscribers: the `Messages` subscribers in one event.
    /// Past the backlog's bounds, the transports stop reading until the subscribers
    /// have handled enough of it.
    pub(super) fn publish_burst(&mut self, ctx: &mut Context<Self>) {
        if self.burst.is_empty() {
            return;
        }
        let burst = std::mem::take(&mut self.burst);
        let (messages, bytes) = (burst.messages, burst.bytes);
        let session = ctx.address().downgrade().recipient();
        backlog::hand_over(burst, &self.subscribers, session);
        if self.backlog.handed(messages, bytes) == Crossed::Over {
            if let Some(open) = self.open.as_mut() {
                open.hold_reading(ReadHold::Subscribers);
            }
        }
    }

    /// Gives `event` to the actor subscribers, then to the client.
    fn tell(&mut self, event: ClientEvent, ctx: &mut Context<Self>) {
        // Whatever follows a message follows its burst too.
        if !matches!(event, ClientEvent::Message(_)) {
            self.publish_burst(ctx);
        }
        self.broadcast(&event);
        let Some(stream) = self.stream.as_mut() else {
            return;
        };
        if stream.deliver(event) == Delivered::Full {
            self.pause_reading(ctx);
        }
    }

    fn broadcast(&self, event: &ClientEvent) {
        let subs = &self.subscribers;
        match event {
            ClientEvent::Connect(connect) => subs.tell(pick!(Subscribe::Connect), connect.clone()),
            // Staged for the subscribers already (`stage`).
            ClientEvent::Message(_) => {}
            ClientEvent::Upgrade(upgrade) => subs.tell(pick!(Subscribe::Upgrade), upgrade.clone()),
            ClientEvent::Disconnect(reason) => {
                subs.tell(pick!(Subscribe::Disconnect), Disconnect(reason.clone()))
            }
            ClientEvent::Reconnecting(next) => subs.tell(pick!(Subscribe::Reconnecting), *next),
            ClientEvent::Undelivered(messages) => {
                subs.tell(pick!(Subscribe::Undelivered), Undelivered(messages.clone()))
            }
        }
    }

    /// The client's channel is full: the transports stop reading until it has room.
    fn pause_reading(&mut self, ctx: &mut Context<Self>) {
        if let Some(open) = self.open.as_mut() {
            open.hold_reading(ReadHold::Client);
        }
        ctx.spawn(Drained.map(|(), act: &mut Self, _| {
            if let Some(open) = act.open.as_mut() {
                open.release_reading(ReadHold::Client);
            }
        }));
    }
}

impl Handler<Handled> for Session {
    type Result = ();

    fn handle(&mut self, handled: Handled, _: &mut Context<Self>) {
        if self.backlog.handled(handled.messages, handled.bytes) == Crossed::Under {
            if let Some(open) = self.open.as_mut() {
                open.release_reading(ReadHold::Subscribers);
            }
        }
    }
}
