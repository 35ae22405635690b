//! Backpressure: messages that wait until the transports have written enough of what
//! they hold, each with whoever waits for its answer.

use std::collections::VecDeque;

use futures::channel::oneshot;

use crate::protocol::{Connection, Payload, SendError};

/// The answer a waiting sender gets once its message is taken or refused.
pub(super) type Answer = oneshot::Sender<Result<(), SendError>>;

/// Messages in the order they were sent. A sender whose answer is dropped unanswered
/// (the session ended) hears `Closed`.
#[derive(Default)]
pub(super) struct Waiting {
    queue: VecDeque<(Payload, Answer)>,
}

impl Waiting {
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn push(&mut self, payload: Payload, answer: Answer) {
        self.queue.push_back((payload, answer));
    }

    /// Hands waiting messages to `conn`, in order, while fewer than `limit` bytes are
    /// unwritten, and answers their senders.
    pub fn release(&mut self, conn: &mut Connection, limit: usize) {
        while has_room(conn, limit) {
            let Some((payload, answer)) = self.queue.pop_front() else {
                break;
            };
            let _ = answer.send(conn.send(payload));
        }
    }
}

/// Whether a message may go out now: below the send buffer, or nothing unwritten at
/// all (so that a message larger than the buffer, or a zero buffer, still moves).
pub(super) fn has_room(conn: &Connection, send_buffer: usize) -> bool {
    let unwritten = conn.unwritten();
    unwritten == 0 || unwritten < send_buffer
}
