//! Delivery of a session's events to its client: a bounded channel, and when it is
//! full, a short overflow while the transports stop reading, so that a slow consumer
//! holds the server back instead of growing a buffer.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use actix::fut::ActorFuture;
use actix::Context;

use super::Session;
use crate::event::{Event, EventSender, SessionStatus, Upgrade};
use crate::protocol::DisconnectReason;

/// The client end of a session, and what did not fit in its channel yet.
pub(super) struct Stream {
    sender: EventSender,
    /// Events that found the channel full, in order; every later event waits
    /// behind them. Bounded by what the transports had read when they paused.
    overflow: VecDeque<Event>,
}

/// What the session must do after handing an event over.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Delivered {
    /// Nothing: the event is in the channel, or behind others already waiting.
    Done,
    /// The channel just filled up: stop reading and wait for room.
    Full,
}

impl Stream {
    pub fn new(sender: EventSender) -> Self {
        Stream {
            sender,
            overflow: VecDeque::new(),
        }
    }

    /// Records what the event changes in the session's status, then delivers it.
    pub fn deliver(&mut self, event: Event) -> Delivered {
        // Messages change nothing there: no lock and no wake-up for each.
        if !matches!(event, Event::Message(_)) {
            self.sender
                .status
                .send_modify(|status| update(status, &event));
        }
        if !self.overflow.is_empty() {
            self.overflow.push_back(event);
            return Delivered::Done;
        }
        match self.sender.events.try_send(event) {
            Ok(()) => Delivered::Done,
            Err(full) if full.is_full() => {
                self.overflow.push_back(full.into_inner());
                Delivered::Full
            }
            // The client is gone; the status still tells whoever waits.
            Err(_) => Delivered::Done,
        }
    }

    /// Whether events wait for room in the channel.
    pub fn is_backed_up(&self) -> bool {
        !self.overflow.is_empty()
    }

    /// Marks the session as over for good before its last events go out, so that a
    /// client handling the final `Disconnect` finds it ended (and may connect again).
    pub fn mark_ended(&self, reason: &DisconnectReason) {
        self.sender
            .status
            .send_modify(|status| status.ended = Some(reason.clone()));
    }

    /// The session is over for good, for `reason`: whoever waits on the status hears
    /// it, and what still waits for room goes in, in order, from a task of its own, as
    /// the client makes room.
    pub fn finish(self, reason: DisconnectReason) {
        self.sender
            .status
            .send_modify(|status| status.ended = Some(reason));
        if self.overflow.is_empty() {
            return;
        }
        let Stream {
            sender, overflow, ..
        } = self;
        actix_rt::spawn(async move {
            let events = sender.events;
            for event in overflow {
                if events.send(event).await.is_err() {
                    return;
                }
            }
        });
    }

    /// Moves waiting events into the channel while it has room.
    fn poll_drain(&mut self, cx: &mut TaskContext<'_>) -> Poll<()> {
        while let Some(event) = self.overflow.pop_front() {
            let events = &self.sender.events;
            match events.poll_ready(cx) {
                Poll::Pending => {
                    self.overflow.push_front(event);
                    return Poll::Pending;
                }
                Poll::Ready(Ok(())) => {
                    // Cannot fail after `poll_ready`, but for a receiver gone since.
                    let _ = events.try_send(event);
                }
                Poll::Ready(Err(())) => self.overflow.clear(),
            }
        }
        Poll::Ready(())
    }
}

/// What an event says of the session now. A `Disconnect` empties the status but does
/// not end it: a reconnection may follow; [`Stream::finish`] ends it.
fn update(status: &mut SessionStatus, event: &Event) {
    match event {
        Event::Connect(connect) => {
            status.sid = Some(connect.sid.clone());
            status.transport = Some(connect.transport);
        }
        Event::Upgrade(Upgrade::Completed(transport)) => status.transport = Some(*transport),
        Event::Disconnect(_) => {
            status.sid = None;
            status.transport = None;
        }
        Event::Upgrade(_) | Event::Message(_) | Event::Reconnecting(_) | Event::Undelivered(_) => {}
    }
}

/// Resolves once the session's overflow is in the channel (or the client is gone).
pub(super) struct Drained;

impl ActorFuture<Session> for Drained {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        session: &mut Session,
        _: &mut Context<Session>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<()> {
        match session.stream.as_mut() {
            Some(stream) => stream.poll_drain(cx),
            None => Poll::Ready(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::{channel, BatchReceiver};
    use crate::event::Connect;
    use crate::protocol::TransportKind;
    use tokio::sync::watch;

    fn stream(capacity: usize) -> (Stream, BatchReceiver<Event>, watch::Receiver<SessionStatus>) {
        let (events, received) = channel(capacity, usize::MAX);
        let (status, watched) = watch::channel(SessionStatus::default());
        (
            Stream::new(EventSender { events, status }),
            received,
            watched,
        )
    }

    #[test]
    fn status_follows_the_events() {
        let (mut stream, _received, status) = stream(8);
        let connect = Connect {
            sid: "s".into(),
            transport: TransportKind::Polling,
            attempt: 0,
        };
        stream.deliver(Event::Connect(connect));
        stream.deliver(Event::Upgrade(Upgrade::Completed(TransportKind::WebSocket)));
        assert_eq!(status.borrow().sid.as_deref(), Some("s"));
        assert_eq!(status.borrow().transport, Some(TransportKind::WebSocket));
        stream.deliver(Event::Disconnect(DisconnectReason::ServerDisconnect));
        assert_eq!(status.borrow().sid, None, "a lost session has no sid");
        assert_eq!(status.borrow().ended, None, "a reconnection may follow");
        stream.finish(DisconnectReason::ServerDisconnect);
        assert_eq!(
            status.borrow().ended,
            Some(DisconnectReason::ServerDisconnect)
        );
    }

    #[test]
    fn a_full_channel_keeps_events_in_order_behind_it() {
        // The channel holds its capacity plus one, as `futures`' does with one sender.
        let (mut stream, mut received, _status) = stream(0);
        assert_eq!(stream.deliver(Event::Message("a".into())), Delivered::Done);
        assert_eq!(stream.deliver(Event::Message("b".into())), Delivered::Full);
        assert_eq!(stream.deliver(Event::Message("c".into())), Delivered::Done);
        assert!(!stream.overflow.is_empty());
        let waker = futures::task::noop_waker();
        let mut cx = TaskContext::from_waker(&waker);
        assert_eq!(stream.poll_drain(&mut cx), Poll::Pending);
        // The receiver's batch counts until it asks for the next: then the overflow
        // moves in, one event at a time here.
        let mut got = Vec::new();
        let mut batch = std::collections::VecDeque::new();
        loop {
            let drained = stream.poll_drain(&mut cx);
            match received.poll_batch(&mut cx, &mut batch) {
                Poll::Ready(true) => got.extend(batch.drain(..)),
                _ if drained.is_ready() => break,
                _ => {}
            }
        }
        let texts: Vec<_> = got.iter().map(|e| format!("{e:?}")).collect();
        assert_eq!(texts.len(), 3);
        assert!(
            texts[0].contains("\"a\"") && texts[1].contains("\"b\"") && texts[2].contains("\"c\"")
        );
    }
}
