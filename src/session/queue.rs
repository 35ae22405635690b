//! The send queue: messages waiting for room in the send buffer (backpressure), each
//! with whoever waits for its answer. Bounded for senders that do not wait: a `do_send`
//! or a `try_send` finding it full is refused; a sender that awaits its answer is held
//! back instead.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use actix::dev::{MessageResponse, OneshotSender};
use actix::Context;

use super::Session;
use crate::config::SendQueueLimit;
use crate::error::Unsent;
use crate::protocol::{Connection, Payload, SendError};
use crate::request::Send;

/// The answer of a send: the message given back with the reason when it was refused.
pub(super) type Answer = OneshotSender<Result<(), Unsent>>;

/// Messages in the order they were sent.
pub(super) struct SendQueue {
    entries: VecDeque<(Payload, Option<Answer>)>,
    bytes: usize,
    limit: SendQueueLimit,
    /// `do_send`s refused because the queue was full.
    refused: u64,
    logging: bool,
}

impl SendQueue {
    pub fn new(limit: SendQueueLimit, logging: bool) -> Self {
        SendQueue {
            entries: VecDeque::new(),
            bytes: 0,
            limit,
            refused: 0,
            logging,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// How many `do_send`s were refused.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// Adds a message; its answer is attached, or the message refused, by the
    /// [`SendAnswer`] once actix says whether anyone waits.
    pub fn push(&mut self, payload: Payload) {
        self.bytes += payload.len();
        self.entries.push_back((payload, None));
    }

    /// Puts messages back in front, in order: those of a lost session, to go first
    /// on the next one.
    pub fn push_front_all(&mut self, payloads: Vec<Payload>) {
        for payload in payloads.into_iter().rev() {
            self.bytes += payload.len();
            self.entries.push_front((payload, None));
        }
    }

    /// The last message was sent with a reply channel: attach it, or, when nobody
    /// waits and the queue is over its bound, refuse it.
    fn settle_last(&mut self, answer: Option<Answer>) {
        match answer {
            Some(answer) => {
                if let Some(last) = self.entries.back_mut() {
                    last.1 = Some(answer);
                }
            }
            None if self.entries.len() > self.limit.messages || self.bytes > self.limit.bytes => {
                if let Some((payload, _)) = self.entries.pop_back() {
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
    /// unwritten, and answers their senders.
    pub fn release(&mut self, conn: &mut Connection, limit: usize) {
        while has_room(conn, limit) {
            let Some((payload, answer)) = self.entries.pop_front() else {
                break;
            };
            self.bytes -= payload.len();
            let result = conn.send(payload.clone());
            answer_with(answer, result, payload, self.logging);
        }
    }

    /// Refuses every waiting message with `error`; returns those nobody waited for.
    pub fn refuse_all(&mut self, error: &SendError) -> Vec<Payload> {
        self.bytes = 0;
        let mut unattended = Vec::new();
        for (payload, answer) in self.entries.drain(..) {
            match answer {
                Some(answer) => {
                    let refused = Unsent {
                        error: error.clone(),
                        payload,
                    };
                    let _ = answer.send(Err(refused));
                }
                None => unattended.push(payload),
            }
        }
        unattended
    }
}

/// Tells whoever waits how the message went; a refusal nobody hears is logged.
fn answer_with(
    answer: Option<Answer>,
    result: Result<(), SendError>,
    payload: Payload,
    logging: bool,
) {
    let result = result.map_err(|error| Unsent { error, payload });
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
