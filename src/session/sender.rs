//! [`SessionSender`]: a cloneable handle that feeds a session's send queue without an
//! actix envelope and reply channel per message.
//!
//! Its messages wait in an [`Outlet`] shared with the session (behind a mutex, since
//! the clients send from other threads). The first message pushed into an empty
//! outlet sends the session one [`Drain`] request through its mailbox; when the
//! session handles it, it claims every message pushed until then, in order, behind
//! whatever it had queued before (so the mailbox still orders a handle's messages
//! after the requests its task made before them), and hands them to the connection
//! while its send buffer has room. The outlet is bounded by the session's
//! [`send_queue`](crate::SessionBuilder::send_queue): senders wait, in the order they
//! called, while it is full.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context as TaskContext, Poll, Waker};

use actix::{Addr, AsyncContext, Context, Handler};

use super::Session;
use crate::config::SendQueueLimit;
use crate::error::Unsent;
use crate::protocol::{
    can_carry_for, wire_len_for, Packet, Payload, ProtocolVersion, SendError, TransportKind,
};
use crate::request::GetSender;

/// The part of the send queue that the handles of a session fill.
pub(crate) struct Outlet {
    state: Mutex<OutletState>,
    /// Whether messages wait that the session has not claimed: read without the lock
    /// on every `Send` the session handles.
    unclaimed: AtomicBool,
}

struct OutletState {
    messages: VecDeque<Payload>,
    bytes: usize,
    limit: SendQueueLimit,
    /// The first `claimed` messages are the session's already (markers in its queue
    /// say where they go); the rest wait for the `Drain` on its way.
    claimed: usize,
    /// Why messages are refused now (the session's own answer to a `Send`), if they are.
    refusal: Option<SendError>,
    /// What the connection would refuse a message for, checked when it is pushed.
    check: Option<SendCheck>,
    /// Whether a `Drain` is on its way to the session.
    drain_scheduled: bool,
    /// Senders waiting for room, first come first served: a ticket and its waker.
    waiting: VecDeque<(u64, Option<Waker>)>,
    next_ticket: u64,
}

/// What the open connection refuses a message for: too large for the server's
/// `maxPayload`, or text a v4 polling payload cannot carry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SendCheck {
    pub version: ProtocolVersion,
    pub transport: TransportKind,
    pub max_payload: usize,
}

impl SendCheck {
    fn refusal(&self, payload: Payload) -> Result<Payload, Unsent> {
        let packet = Packet::Message(payload);
        let size = wire_len_for(self.version, self.transport, &packet);
        let error = if size > self.max_payload {
            Some(SendError::TooLarge {
                size,
                max_payload: self.max_payload,
            })
        } else if !can_carry_for(self.version, self.transport, &packet) {
            Some(SendError::RecordSeparator)
        } else {
            None
        };
        let Packet::Message(payload) = packet else {
            unreachable!("built as a message above")
        };
        match error {
            Some(error) => Err(Unsent { error, payload }),
            None => Ok(payload),
        }
    }
}

fn lock(mutex: &Mutex<OutletState>) -> MutexGuard<'_, OutletState> {
    // Nothing panics while holding it; if something did, the queue is still whole.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl OutletState {
    fn has_room_for(&self, payload: &Payload) -> bool {
        self.messages.is_empty()
            || (self.messages.len() < self.limit.messages
                && self.bytes + payload.len() <= self.limit.bytes)
    }

    /// Where `ticket` waits in line (tickets are given in increasing order).
    fn position(&self, ticket: u64) -> Option<usize> {
        self.waiting.binary_search_by_key(&ticket, |(t, _)| *t).ok()
    }

    fn remove(&mut self, ticket: u64) {
        if let Some(at) = self.position(ticket) {
            self.waiting.remove(at);
        }
    }

    /// Wakes the first waiting sender if a message fits now. While the queue is more
    /// than half full it is not woken: senders are woken in bursts, not once per
    /// message the session takes.
    fn wake_first_if_room(&mut self) {
        if self.messages.len() <= self.limit.messages / 2 && self.bytes <= self.limit.bytes / 2 {
            self.wake_first();
        }
    }

    /// Wakes the first waiting sender, which may push now.
    fn wake_first(&mut self) {
        if let Some((_, waker)) = self.waiting.front_mut() {
            if let Some(waker) = waker.take() {
                waker.wake();
            }
        }
    }

    fn wake_all(&mut self) {
        for (_, waker) in self.waiting.iter_mut() {
            if let Some(waker) = waker.take() {
                waker.wake();
            }
        }
    }
}

/// What a push did.
enum Pushed {
    /// In the outlet; `true` when the session must be told with a `Drain`.
    Done(bool),
    Refused(Unsent),
    /// No room: waits with this ticket.
    Waits(Payload, u64),
}

impl Outlet {
    pub fn new(limit: SendQueueLimit) -> Self {
        Outlet {
            state: Mutex::new(OutletState {
                messages: VecDeque::new(),
                bytes: 0,
                limit,
                claimed: 0,
                refusal: None,
                check: None,
                drain_scheduled: false,
                waiting: VecDeque::new(),
                next_ticket: 0,
            }),
            unclaimed: AtomicBool::new(false),
        }
    }

    /// Pushes `payload` unless it is refused or must wait; `ticket` is the sender's
    /// place in the line of waiting senders, if it has one.
    fn push(&self, payload: Payload, ticket: Option<u64>, waker: Option<&Waker>) -> Pushed {
        let mut state = lock(&self.state);
        let refused = |state: &mut OutletState, error, payload| {
            if let Some(ticket) = ticket {
                state.remove(ticket);
                state.wake_first();
            }
            Pushed::Refused(Unsent { error, payload })
        };
        if let Some(error) = state.refusal.clone() {
            return refused(&mut state, error, payload);
        }
        let payload = match state.check {
            Some(check) => match check.refusal(payload) {
                Ok(payload) => payload,
                Err(unsent) => return refused(&mut state, unsent.error, unsent.payload),
            },
            None => payload,
        };
        let first_in_line = match ticket {
            Some(ticket) => state.waiting.front().is_some_and(|(t, _)| *t == ticket),
            None => state.waiting.is_empty(),
        };
        if !first_in_line || !state.has_room_for(&payload) {
            let ticket = ticket.unwrap_or_else(|| {
                let ticket = state.next_ticket;
                state.next_ticket += 1;
                state.waiting.push_back((ticket, None));
                ticket
            });
            if let Some(at) = state.position(ticket) {
                state.waiting[at].1 = waker.cloned();
            }
            return Pushed::Waits(payload, ticket);
        }
        if ticket.is_some() {
            state.waiting.pop_front();
        }
        state.bytes += payload.len();
        state.messages.push_back(payload);
        self.unclaimed.store(true, Ordering::Release);
        // The next in line may fit too.
        if state.messages.len() < state.limit.messages && state.bytes < state.limit.bytes {
            state.wake_first();
        }
        let tell = !std::mem::replace(&mut state.drain_scheduled, true);
        Pushed::Done(tell)
    }

    /// A waiting sender gave up (its future was dropped): it leaves the line.
    fn leave(&self, ticket: u64) {
        let mut state = lock(&self.state);
        let was_first = state.waiting.front().is_some_and(|(t, _)| *t == ticket);
        state.remove(ticket);
        if was_first {
            state.wake_first();
        }
    }

    /// The session handles a `Drain`: claims what was pushed since the last one, and
    /// returns how many messages that is.
    pub fn claim(&self) -> usize {
        let mut state = lock(&self.state);
        state.drain_scheduled = false;
        self.unclaimed.store(false, Ordering::Release);
        let new = state.messages.len() - state.claimed;
        state.claimed = state.messages.len();
        new
    }

    /// Hands up to `n` claimed messages to `take`, in order, as long as it says there
    /// is room for more after each; returns how many it took.
    pub fn take_claimed_while(&self, n: usize, mut take: impl FnMut(Payload) -> bool) -> usize {
        let mut state = lock(&self.state);
        let mut taken = 0;
        while taken < n && state.claimed > 0 {
            let Some(payload) = state.messages.pop_front() else {
                break;
            };
            state.claimed -= 1;
            state.bytes -= payload.len();
            taken += 1;
            if !take(payload) {
                break;
            }
        }
        if taken > 0 {
            state.wake_first_if_room();
        }
        taken
    }

    /// Messages and bytes waiting in the outlet, claimed or not.
    pub fn size(&self) -> (usize, usize) {
        let state = lock(&self.state);
        (state.messages.len(), state.bytes)
    }

    /// Whether messages wait that the session has not claimed yet.
    pub fn has_unclaimed(&self) -> bool {
        self.unclaimed.load(Ordering::Acquire)
    }

    /// Sets why messages are refused from now on (`None`: they are taken); waiting
    /// senders hear of a refusal at once.
    pub fn set_refusal(&self, refusal: Option<SendError>) {
        let mut state = lock(&self.state);
        if refusal.is_some() {
            state.wake_all();
        }
        state.refusal = refusal;
    }

    /// Sets what the open connection refuses messages for (`None`: nothing is open).
    pub fn set_check(&self, check: Option<SendCheck>) {
        lock(&self.state).check = check;
    }

    /// Refuses messages from now on with `error`, and takes every message waiting,
    /// claimed or not, in order.
    pub fn refuse_and_take(&self, error: SendError) -> Vec<Payload> {
        let mut state = lock(&self.state);
        state.wake_all();
        state.refusal = Some(error);
        self.unclaimed.store(false, Ordering::Release);
        state.claimed = 0;
        state.bytes = 0;
        state.messages.drain(..).collect()
    }

    /// Takes the first `n` messages (claimed ones, of a queue being refused).
    pub fn take_front(&self, n: usize) -> Vec<Payload> {
        let mut state = lock(&self.state);
        let n = n.min(state.messages.len());
        let taken: Vec<Payload> = state.messages.drain(..n).collect();
        state.claimed = state.claimed.saturating_sub(n);
        state.bytes -= taken.iter().map(Payload::len).sum::<usize>();
        state.wake_first_if_room();
        taken
    }
}

/// Tells the session that messages wait in its outlet (sent once for a burst).
#[derive(actix::Message)]
#[rtype(result = "()")]
pub(crate) struct Drain;

impl Handler<Drain> for Session {
    type Result = ();

    fn handle(&mut self, _: Drain, ctx: &mut Context<Self>) {
        let claimed = self.outlet.claim();
        if claimed > 0 {
            self.queue.borrow_mut().push_claimed(claimed);
            self.drive(ctx);
        }
    }
}

impl Handler<GetSender> for Session {
    type Result = SessionSender;

    fn handle(&mut self, _: GetSender, ctx: &mut Context<Self>) -> SessionSender {
        self.sender(ctx)
    }
}

/// A cloneable handle that sends messages to a session without an actix request per
/// message: cheaper than [`Send`](crate::Send) when messages are many and small, and
/// usable from any thread. [`AsyncClient`](crate::AsyncClient) and
/// [`Client`](crate::Client) send through one.
///
/// Get one with [`GetSender`](crate::GetSender). [`send`](Self::send) answers `Ok` once
/// the message is in the session's send queue, at once when the queue has room; while
/// the queue is full (its bound is the session's
/// [`send_queue`](crate::SessionBuilder::send_queue)), the sender waits, so a
/// sender that awaits each answer goes at the pace of the network. A message the
/// session cannot take comes back in the [`Unsent`] with the reason, as for `Send`:
/// [`SendError::Closed`] once the session has ended,
/// [`SendError::Reconnecting`] while it reconnects (unless its policy holds
/// messages), [`SendError::TooLarge`] or [`SendError::RecordSeparator`] when the open
/// connection could not carry it. A message taken and never written, because the
/// session ended first, comes back in [`Undelivered`](crate::Undelivered).
///
/// Order: the messages of all the handles of a session go out in the order their
/// `send`s were called (those waiting for room included: they wait in line), and each
/// goes out after every request its task sent to the session's address before it
/// (`Send`, `do_send`, `Close`). A `Send` made to the address *after* a handle's
/// message, while that message still waits in the queue, may overtake it: in one task,
/// use one or the other for messages whose order matters.
///
/// ```no_run
/// use actix_engineio::{GetSender, Session};
///
/// #[actix_rt::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let session = Session::builder("http://127.0.0.1:3000").connect().await?;
///     let sender = session.send(GetSender).await?;
///     for i in 0..1000 {
///         sender.send(format!("tick {i}")).await?;
///     }
///     Ok(())
/// }
/// ```
#[derive(Clone, actix::MessageResponse)]
pub struct SessionSender(Arc<Inner>);

struct Inner {
    outlet: Arc<Outlet>,
    session: Addr<Session>,
}

impl std::fmt::Debug for SessionSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (messages, bytes) = self.0.outlet.size();
        f.debug_struct("SessionSender")
            .field("queued_messages", &messages)
            .field("queued_bytes", &bytes)
            .finish()
    }
}

impl SessionSender {
    pub(crate) fn new(outlet: Arc<Outlet>, session: Addr<Session>) -> Self {
        SessionSender(Arc::new(Inner { outlet, session }))
    }

    /// Sends a message: text (`&str`, `String`) or bytes (`Vec<u8>`, `Bytes`). The
    /// message takes its place in line when `send` is called, not when the future is
    /// first polled; the future resolves once it is in the send queue, or refused.
    /// Dropping the future before then withdraws the message.
    ///
    /// ```no_run
    /// # async fn run(sender: actix_engineio::SessionSender) -> Result<(), actix_engineio::Unsent> {
    /// sender.send("hello").await?;
    /// sender.send(vec![1u8, 2, 3]).await?;
    /// # Ok(()) }
    /// ```
    pub fn send(&self, data: impl Into<Payload>) -> SendFuture {
        let state = match self.0.outlet.push(data.into(), None, None) {
            Pushed::Done(tell) => {
                self.0.tell(tell);
                FutureState::Done(Some(Ok(())))
            }
            Pushed::Refused(unsent) => FutureState::Done(Some(Err(unsent))),
            // Only a sender that waits needs the handle again.
            Pushed::Waits(payload, ticket) => FutureState::Waiting(self.clone(), payload, ticket),
        };
        SendFuture { state }
    }

    /// Sends a message if the send queue has room now (and nobody waits for room);
    /// otherwise gives it back at once, with [`SendError::Full`].
    ///
    /// ```no_run
    /// # fn run(sender: actix_engineio::SessionSender) {
    /// if let Err(refused) = sender.try_send("tick") {
    ///     eprintln!("not sent: {}", refused.error);
    /// }
    /// # }
    /// ```
    pub fn try_send(&self, data: impl Into<Payload>) -> Result<(), Unsent> {
        match self.0.outlet.push(data.into(), None, None) {
            Pushed::Done(tell) => {
                self.0.tell(tell);
                Ok(())
            }
            Pushed::Refused(unsent) => Err(unsent),
            Pushed::Waits(payload, ticket) => {
                self.0.outlet.leave(ticket);
                Err(Unsent {
                    error: SendError::Full,
                    payload,
                })
            }
        }
    }

    /// The session this handle sends to.
    ///
    /// ```no_run
    /// # async fn run(sender: actix_engineio::SessionSender) {
    /// let _ = sender.session().send(actix_engineio::Close).await;
    /// # }
    /// ```
    pub fn session(&self) -> &Addr<Session> {
        &self.0.session
    }
}

impl Inner {
    fn tell(&self, tell: bool) {
        if tell {
            // A session gone has refused everything already (under the same lock).
            self.session.do_send(Drain);
        }
    }
}

/// The answer of [`SessionSender::send`]: `Ok` once the message is in the send queue,
/// or the message given back with the reason it was refused.
///
/// ```no_run
/// # async fn run(sender: actix_engineio::SessionSender) {
/// let answer: actix_engineio::SendFuture = sender.send("hi");
/// if let Err(refused) = answer.await {
///     eprintln!("{refused}");
/// }
/// # }
/// ```
#[must_use = "the message is withdrawn if the future is dropped before it is queued"]
pub struct SendFuture {
    state: FutureState,
}

enum FutureState {
    Done(Option<Result<(), Unsent>>),
    Waiting(SessionSender, Payload, u64),
    Gone,
}

impl SendFuture {
    /// The answer, if it is known without waiting.
    pub(crate) fn now(&mut self) -> Option<Result<(), Unsent>> {
        match &mut self.state {
            FutureState::Done(answer) => answer.take(),
            _ => None,
        }
    }
}

impl std::fmt::Debug for SendFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let waiting = matches!(self.state, FutureState::Waiting(..));
        f.debug_struct("SendFuture")
            .field("waiting", &waiting)
            .finish()
    }
}

impl Future for SendFuture {
    type Output = Result<(), Unsent>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        match std::mem::replace(&mut this.state, FutureState::Gone) {
            FutureState::Done(answer) => match answer {
                Some(answer) => Poll::Ready(answer),
                None => panic!("SendFuture polled after it resolved"),
            },
            FutureState::Waiting(sender, payload, ticket) => {
                match sender
                    .0
                    .outlet
                    .push(payload, Some(ticket), Some(cx.waker()))
                {
                    Pushed::Done(tell) => {
                        sender.0.tell(tell);
                        Poll::Ready(Ok(()))
                    }
                    Pushed::Refused(unsent) => Poll::Ready(Err(unsent)),
                    Pushed::Waits(payload, ticket) => {
                        this.state = FutureState::Waiting(sender, payload, ticket);
                        Poll::Pending
                    }
                }
            }
            FutureState::Gone => panic!("SendFuture polled after it resolved"),
        }
    }
}

impl Drop for SendFuture {
    fn drop(&mut self) {
        if let FutureState::Waiting(sender, _, ticket) = &self.state {
            sender.0.outlet.leave(*ticket);
        }
    }
}

impl Session {
    /// Tells the handles whether messages are taken now, and what the open
    /// connection refuses.
    pub(super) fn publish_refusal(&self) {
        self.outlet.set_refusal(self.refusal());
    }

    /// What the open connection refuses messages for, for the handles to check.
    pub(super) fn publish_check(&self) {
        let check = self.open.as_ref().map(|open| SendCheck {
            version: open.conn.version(),
            transport: open.conn.transport(),
            max_payload: open.conn.handshake().max_payload_bytes(),
        });
        self.outlet.set_check(check);
    }

    /// A handle for this session.
    fn sender(&self, ctx: &mut Context<Self>) -> SessionSender {
        SessionSender::new(self.outlet.clone(), ctx.address())
    }

    /// Where the handles of this session leave their messages, to make a handle
    /// before the actor starts.
    pub(crate) fn outlet(&self) -> Arc<Outlet> {
        self.outlet.clone()
    }
}
