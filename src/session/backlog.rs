//! Received messages handed to actor subscribers that have not handled them yet.
//!
//! `do_send` puts an event in a subscriber's mailbox without waiting, so a subscriber
//! slower than the socket would let its mailbox grow without bound. The session
//! counts what it hands over, and the last delivery of each burst goes out with
//! `send`, whose answer comes once the subscriber has handled it (a mailbox is
//! first in, first out, so everything before it is handled too). Past
//! `event_buffer` messages or `event_buffer_bytes` bytes unhandled, the transports
//! stop reading until the answers bring it back under: the server is held back
//! through the socket, as the clients' bounded channel does.
//!
//! The answers are awaited on tasks of the arbiter, not of the session's context:
//! actix skips a `send` whose answer nobody awaits anymore, and the session's futures
//! are dropped when it stops (or restarts), which would lose the last burst before a
//! `Disconnect`. Each task tells the session with [`Handled`] when it is done.

use actix::dev::RecipientRequest;
use actix::WeakRecipient;
use futures::future::join_all;

use super::subscribers::{pick, Subscribers};
use crate::event::{Message, Messages};
use crate::protocol::Payload;
use crate::request::Subscribe;

/// What is in subscribers' mailboxes, unhandled, against its bounds.
#[derive(Debug)]
pub(super) struct Backlog {
    messages: usize,
    bytes: usize,
    max_messages: usize,
    max_bytes: usize,
}

/// Whether the backlog crossed a bound, one way or the other.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Crossed {
    /// Now at or past a bound: stop reading.
    Over,
    /// Back under both: read again.
    Under,
    Neither,
}

impl Backlog {
    pub fn new(max_messages: usize, max_bytes: usize) -> Self {
        Backlog {
            messages: 0,
            bytes: 0,
            max_messages,
            max_bytes,
        }
    }

    pub fn messages(&self) -> usize {
        self.messages
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// A burst of `messages` weighing `bytes` was handed over.
    pub fn handed(&mut self, messages: usize, bytes: usize) -> Crossed {
        let was_over = self.is_over();
        self.messages += messages;
        self.bytes += bytes;
        if !was_over && self.is_over() {
            Crossed::Over
        } else {
            Crossed::Neither
        }
    }

    /// A burst of `messages` weighing `bytes` was handled by every subscriber.
    pub fn handled(&mut self, messages: usize, bytes: usize) -> Crossed {
        let was_over = self.is_over();
        self.messages = self.messages.saturating_sub(messages);
        self.bytes = self.bytes.saturating_sub(bytes);
        if was_over && !self.is_over() {
            Crossed::Under
        } else {
            Crossed::Neither
        }
    }

    /// Whether the transports must not read: at or past a bound.
    pub fn is_over(&self) -> bool {
        self.messages >= self.max_messages || self.bytes >= self.max_bytes
    }
}

/// A burst handed over earlier is handled by every subscriber (or they are gone).
#[derive(Debug, actix::Message)]
#[rtype(result = "()")]
pub(super) struct Handled {
    pub messages: usize,
    pub bytes: usize,
}

/// A burst on its way to the subscribers: its size, and the messages of it not
/// given to the `Message` subscribers yet.
#[derive(Debug, Default)]
pub(super) struct Burst {
    /// For the `Messages` subscribers, in order.
    pub batch: Vec<Payload>,
    /// The latest message, held back from the `Message` subscribers so that it can be
    /// the one that goes out with `send` when the burst ends.
    pub last: Option<Payload>,
    pub messages: usize,
    pub bytes: usize,
}

impl Burst {
    pub fn is_empty(&self) -> bool {
        self.messages == 0
    }
}

/// Hands `burst` over: every message but the last with `do_send` (already done as
/// they came), the last message and the batch with `send`; once every subscriber has
/// handled its last delivery (or is gone), tells `session` with [`Handled`].
///
/// Each `send` goes through a fresh clone of the recipient: a recipient whose
/// mailbox is past its capacity is parked, and its next `send` would wait outside the
/// mailbox, where the `do_send`s of the next burst could overtake it. A fresh clone
/// is never parked, so the message is in the mailbox, in order, at once.
pub(super) fn hand_over(burst: Burst, subscribers: &Subscribers, session: WeakRecipient<Handled>) {
    let handled = Handled {
        messages: burst.messages,
        bytes: burst.bytes,
    };
    let mut answers: Vec<RecipientRequest<Message>> = Vec::new();
    if let Some(last) = burst.last {
        subscribers.each(pick!(Subscribe::Message), Message(last), |r, event| {
            answers.push(r.clone().send(event));
        });
    }
    let mut batch_answers: Vec<RecipientRequest<Messages>> = Vec::new();
    if !burst.batch.is_empty() {
        subscribers.each(
            pick!(Subscribe::Messages),
            Messages(burst.batch),
            |r, event| {
                batch_answers.push(r.clone().send(event));
            },
        );
    }
    actix_rt::spawn(async move {
        // An error means the subscriber is gone: nothing of it waits anymore.
        let _ = futures::join!(join_all(answers), join_all(batch_answers));
        if let Some(session) = session.upgrade() {
            session.do_send(handled);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_stops_at_either_bound_and_resumes_under_both() {
        let mut backlog = Backlog::new(10, 1000);
        assert_eq!(backlog.handed(5, 100), Crossed::Neither);
        assert_eq!(backlog.handed(5, 100), Crossed::Over, "10 messages");
        assert_eq!(backlog.handed(1, 1), Crossed::Neither, "already over");
        assert_eq!(backlog.handled(5, 100), Crossed::Under);
        assert_eq!(backlog.handed(1, 2000), Crossed::Over, "by the bytes");
        assert_eq!(
            backlog.handled(6, 101),
            Crossed::Neither,
            "still 2000 bytes"
        );
        assert_eq!(backlog.handled(1, 2000), Crossed::Under);
    }
}
