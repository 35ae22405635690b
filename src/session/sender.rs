//! [`SessionSender`]: a cloneable handle that feeds a session's send queue without an
//! actix envelope and reply channel per message.
//!
//! Its messages wait in the session's [`Outlet`]. The first message pushed into an
//! empty outlet sends the session one [`Drain`] request through its mailbox; when the
//! session handles it, it claims every message pushed until then, in order, behind
//! whatever it had queued before, and hands them to the connection while its send
//! buffer has room. The outlet is bounded by the session's
//! [`send_queue`](crate::SessionBuilder::send_queue): senders wait, in the order they
//! called, while it is full.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use actix::{Addr, AsyncContext, Context, Handler};

use super::outlet::{Outlet, Pushed, SendCheck};
use super::Session;
use crate::error::Unsent;
use crate::protocol::{Payload, SendError};
use crate::request::GetSender;

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
/// `send`s were called (those waiting for room included: they wait in line). With the
/// requests sent to the session's address: a request (`Send`, `do_send`, `Close`) made
/// after a handle's `send` has resolved goes out after that message; a handle's message
/// goes out after every `Send` whose answer its task awaited before sending it. A
/// `do_send` made just before a handle's `send`, its answer not awaited, may be
/// overtaken by it (the handle's messages join the queue when the session handles the
/// `Drain` of their burst, which may sit in the mailbox ahead of that `do_send`).
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
