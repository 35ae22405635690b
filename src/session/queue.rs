//! The send queue: messages waiting for room in the send buffer (backpressure), each
//! with whoever waits for its answer. Bounded for senders that do not wait: a `do_send`
//! or a `try_send` finding it full is refused; a sender that awaits its answer is held
//! back instead. The messages of [`SessionSender`](super::SessionSender)s wait in the
//! [`Outlet`] they share with the session; a marker here says where they go.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

use actix::dev::{MessageResponse, OneshotSender};
use actix::Context;

use super::outlet::Outlet;
use super::Session;
use crate::config::SendQueueLimit;
use crate::error::Unsent;
use crate::protocol::{Connection, Payload, SendError};
use crate::request::Send;

/// The answer of a send: the message given back with the reason when it was refused.
pub(super) type Answer = OneshotSender<Result<(), Unsent>>;

/// What waits in the queue.
enum Entry {
    /// A message sent to the session's address, and whoever waits for its answer.
    Message(Payload, Option<Answer>),
    /// The next this many messages claimed from the outlet.
    Claimed(usize),
}

/// Messages in the order they were sent.
pub(super) struct SendQueue {
    entries: VecDeque<Entry>,
    /// `Entry::Message`s, and their bytes.
    messages: usize,
    bytes: usize,
    outlet: Arc<Outlet>,
    limit: SendQueueLimit,
    /// `do_send`s refused because the queue was full.
    refused: u64,
    logging: bool,
}

impl SendQueue {
    pub fn new(limit: SendQueueLimit, logging: bool, outlet: Arc<Outlet>) -> Self {
        SendQueue {
            entries: VecDeque::new(),
            messages: 0,
            bytes: 0,
            outlet,
            limit,
            refused: 0,
            logging,
        }
    }

    /// Whether nothing waits here (the outlet's unclaimed messages aside).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether nothing waits at all, here or in the outlet: a message sent now may go
    /// straight out without overtaking one.
    pub fn is_idle(&self) -> bool {
        self.entries.is_empty() && !self.outlet.has_unclaimed()
    }

    /// Messages waiting, here and in the outlet.
    pub fn len(&self) -> usize {
        self.messages + self.outlet.size().0
    }

    /// Their bytes.
    pub fn bytes(&self) -> usize {
        self.bytes + self.outlet.size().1
    }

    /// How many `do_send`s were refused.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// Adds a message; its answer is attached, or the message refused, by the
    /// [`SendAnswer`] once actix says whether anyone waits.
    pub fn push(&mut self, payload: Payload) {
        self.bytes += payload.len();
        self.messages += 1;
        self.entries.push_back(Entry::Message(payload, None));
    }

    /// The next `n` messages of the outlet go here, after what waits already.
    pub fn push_claimed(&mut self, n: usize) {
        if let Some(Entry::Claimed(last)) = self.entries.back_mut() {
            *last += n;
        } else {
            self.entries.push_back(Entry::Claimed(n));
        }
    }

    /// Puts messages back in front, in order: those of a lost session, to go first
    /// on the next one.
    pub fn push_front_all(&mut self, payloads: Vec<Payload>) {
        for payload in payloads.into_iter().rev() {
            self.bytes += payload.len();
            self.messages += 1;
            self.entries.push_front(Entry::Message(payload, None));
        }
    }

    /// The last message was sent with a reply channel: attach it, or, when nobody
    /// waits and the queue is over its bound, refuse it.
    fn settle_last(&mut self, answer: Option<Answer>) {
        match answer {
            Some(answer) => {
                if let Some(Entry::Message(_, last)) = self.entries.back_mut() {
                    *last = Some(answer);
                }
            }
            None if self.messages > self.limit.messages || self.bytes > self.limit.bytes => {
                if let Some(Entry::Message(payload, _)) = self.entries.pop_back() {
                    self.messages -= 1;
                    self.bytes -= payload.len();
                    self.refused += 1;
                    if self.logging {
                        log::warn!(
                            "engine.io: a message sent with do_send was dropped: the send queue \
                             is full ({} messages, {} bytes); {} dropped so far",
                            self.entries.len(),
                            self.bytes,
                            self.refused
                        );
                    }
                }
            }
            None => {}
        }
    }

    /// Hands waiting messages to `conn`, in order, while fewer than `limit` bytes are
    /// unwritten, and answers their senders. Returns the messages of the outlet that
    /// the connection refused: nobody waits for their answer.
    pub fn release(&mut self, conn: &mut Connection, limit: usize) -> Vec<Payload> {
        let mut refused = Vec::new();
        while has_room(conn, limit) {
            match self.entries.front_mut() {
                None => break,
                Some(Entry::Claimed(n)) => {
                    let taken = self.outlet.take_claimed_while(*n, |payload| {
                        if let Err((error, payload)) = conn.send_or_give_back(payload) {
                            if self.logging {
                                log::warn!("engine.io: a queued message was not sent: {error}");
                            }
                            refused.push(payload);
                        }
                        has_room(conn, limit)
                    });
                    // Fewer than claimed only if the outlet was emptied meanwhile.
                    if taken == 0 || taken >= *n {
                        self.entries.pop_front();
                    } else {
                        *n -= taken;
                    }
                }
                Some(Entry::Message(..)) => {
                    let Some(Entry::Message(payload, answer)) = self.entries.pop_front() else {
                        break;
                    };
                    self.messages -= 1;
                    self.bytes -= payload.len();
                    let result = conn.send_or_give_back(payload);
                    answer_with(answer, result, self.logging);
                }
            }
        }
        refused
    }

    /// Refuses every waiting message with `error`; returns those nobody waited for,
    /// in order (the outlet's claimed ones among them).
    pub fn refuse_all(&mut self, error: &SendError) -> Vec<Payload> {
        self.bytes = 0;
        self.messages = 0;
        let mut unattended = Vec::new();
        for entry in self.entries.drain(..) {
            match entry {
                Entry::Message(payload, Some(answer)) => {
                    let refused = Unsent {
                        error: error.clone(),
                        payload,
                    };
                    let _ = answer.send(Err(refused));
                }
                Entry::Message(payload, None) => unattended.push(payload),
                Entry::Claimed(n) => unattended.extend(self.outlet.take_front(n)),
            }
        }
        unattended
    }
}

/// Tells whoever waits how the message went; a refusal nobody hears is logged.
fn answer_with(answer: Option<Answer>, result: Result<(), (SendError, Payload)>, logging: bool) {
    let result = result.map_err(|(error, payload)| Unsent { error, payload });
    match (answer, result) {
        (Some(answer), result) => drop(answer.send(result)),
        (None, Err(refused)) if logging => {
            log::warn!("engine.io: a message sent with do_send was not sent: {refused}");
        }
        (None, _) => {}
    }
}

/// Whether a message may go out now: below the send buffer, or nothing unwritten at
/// all (so that a message larger than the buffer, or a zero buffer, still moves).
pub(super) fn has_room(conn: &Connection, send_buffer: usize) -> bool {
    let unwritten = conn.unwritten();
    unwritten == 0 || unwritten < send_buffer
}

/// The answer of a [`Send`] as actix carries it (user code sees `Result<(), Unsent>`):
/// given now, or once the message leaves the queue. Which of `send` and `do_send` sent
/// the message is known only here, when actix hands over the reply channel (none for
/// `do_send`).
pub struct SendAnswer(Answering);

enum Answering {
    Now(Result<(), Unsent>),
    Queued(Rc<RefCell<SendQueue>>),
}

impl SendAnswer {
    pub(super) fn now(result: Result<(), Unsent>) -> Self {
        SendAnswer(Answering::Now(result))
    }

    pub(super) fn queued(queue: Rc<RefCell<SendQueue>>) -> Self {
        SendAnswer(Answering::Queued(queue))
    }
}

impl MessageResponse<Session, Send> for SendAnswer {
    fn handle(self, _: &mut Context<Session>, reply: Option<Answer>) {
        match self.0 {
            Answering::Now(result) => {
                if let Some(reply) = reply {
                    let _ = reply.send(result);
                }
            }
            Answering::Queued(queue) => queue.borrow_mut().settle_last(reply),
        }
    }
}
