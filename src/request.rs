//! The requests user code sends to a [`Session`](crate::Session), each an actix
//! [`Message`](actix::Message).

use actix::Recipient;
use bytes::Bytes;
use bytestring::ByteString;
use serde::Serialize;

use crate::error::Unsent;
use crate::event::{Connect, Disconnect, Message, Messages, Reconnecting, Undelivered, Upgrade};
use crate::protocol::Payload;

/// Sends a message to the server.
///
/// Answers `Ok` once the message is on its way to the server (queued for its
/// transport, in order after those sent before), or with an [`Unsent`] that gives the
/// message back with the [`SendError`](crate::SendError) that says why it was refused; nothing is dropped
/// unseen. While the session's [`send_buffer`](crate::SessionBuilder::send_buffer) is
/// full, or earlier messages still wait for room in it, the message waits in the send
/// queue and so does the answer: a sender that awaits each answer goes at the pace of
/// the network. `do_send` skips the answer: its message waits in the queue as long as
/// the queue is within its bound ([`send_queue`](crate::SessionBuilder::send_queue)),
/// and is dropped with a logged warning (and counted, see [`Stats`]) beyond it.
///
/// While a lost session is being reopened (reconnection), a message is refused with
/// [`SendError::Reconnecting`](crate::SendError::Reconnecting), or held for the next session when the policy says so.
/// Once the session has ended its actor is gone, and `send` fails with actix's
/// `MailboxError` instead (hence the `??` in the examples); a reconnecting session's
/// actor stays and answers [`SendError::Closed`](crate::SendError::Closed).
///
/// Note: importing this type shadows the `Send` marker trait in that module; use it
/// as `actix_engineio::Send` where that matters.
///
/// Requests are answered in the order they are made, so to pipeline, make several
/// before awaiting the first answer:
///
/// ```
/// use actix::Addr;
/// use actix_engineio::{Send, Session};
/// use futures::{stream, StreamExt};
///
/// async fn send_all(session: &Addr<Session>, lines: Vec<String>) -> Result<(), Box<dyn std::error::Error>> {
///     // Up to 64 messages in flight; the send buffer still paces them.
///     let mut answers = stream::iter(lines).map(|line| session.send(Send::text(line))).buffered(64);
///     while let Some(answer) = answers.next().await {
///         answer??;
///     }
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, actix::Message)]
#[rtype(result = "Result<(), Unsent>")]
pub struct Send(pub Payload);

impl Send {
    /// A text message.
    ///
    /// ```
    /// use actix_engineio::Send;
    ///
    /// let hello = Send::text("hello");
    /// let owned = Send::text(format!("{} users", 3));
    /// assert_eq!(owned.0.as_text(), Some("3 users"));
    /// ```
    pub fn text(text: impl Into<ByteString>) -> Self {
        Send(Payload::Text(text.into()))
    }

    /// A binary message, sent byte for byte (over polling as base64, which the
    /// server decodes).
    ///
    /// ```
    /// use actix_engineio::Send;
    ///
    /// let message = Send::binary(vec![0xca, 0xfe]);
    /// assert_eq!(message.0.as_binary().map(|b| &b[..]), Some(&[0xca, 0xfe][..]));
    /// let from_static = Send::binary(&b"\x00\x01"[..]);
    /// ```
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Send(Payload::Binary(data.into()))
    }

    /// A text message holding `value` as compact JSON. Fails only where `serde_json`
    /// does, such as a map whose keys are not strings.
    ///
    /// ```
    /// use actix_engineio::Send;
    /// use serde::Serialize;
    ///
    /// #[derive(Serialize)]
    /// struct Move { x: i32, y: i32 }
    ///
    /// let message = Send::json(&Move { x: 1, y: -2 }).unwrap();
    /// assert_eq!(message.0.as_text(), Some(r#"{"x":1,"y":-2}"#));
    /// ```
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        Payload::json(value).map(Send)
    }
}

impl<T: Into<Payload>> From<T> for Send {
    fn from(payload: T) -> Self {
        Send(payload.into())
    }
}

/// Closes the session: what was sent before goes out first (messages still waiting
/// for room in the send buffer included), then the server is told, and once it has
/// the close (over polling, the POST carrying it answered; over websocket, the close
/// handshake done; either within the request timeout), subscribers get [`Disconnect`]
/// with [`DisconnectReason::ClientDisconnect`](crate::DisconnectReason::ClientDisconnect)
/// and the session stops. The answer comes then, so a program may exit right after it.
///
/// A session that has already ended is gone: `send(Close)` then fails with actix's
/// `MailboxError`, and `do_send(Close)` does nothing.
///
/// ```
/// use actix::Addr;
/// use actix_engineio::{Close, Send, Session};
///
/// async fn say_goodbye(session: Addr<Session>) {
///     // "bye" goes out before the close packet, even without awaiting its answer.
///     session.do_send(Send::text("bye"));
///     // Returns once the server has the close.
///     let _ = session.send(Close).await;
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, actix::Message)]
#[rtype(result = "()")]
pub struct Close;

/// Sends a message if the send buffer has room now, and answers at once either way:
/// the form of [`Send`] that never waits. A message it cannot take comes back in the
/// [`Unsent`], with [`SendError::Full`](crate::SendError::Full) when the buffer is full.
///
/// ```
/// use actix::Addr;
/// use actix_engineio::{Payload, SendError, Session, TrySend};
///
/// async fn send_or_drop(session: &Addr<Session>, reading: String) {
///     match session.send(TrySend(Payload::from(reading))).await {
///         Ok(Ok(())) => {}
///         Ok(Err(refused)) if refused.error == SendError::Full => {
///             // The network is behind: this reading is stale by the next one anyway.
///         }
///         Ok(Err(refused)) => eprintln!("not sent: {refused}"),
///         Err(_) => eprintln!("the session has ended"),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, actix::Message)]
#[rtype(result = "Result<(), Unsent>")]
pub struct TrySend(pub Payload);

/// Drops the session without telling the server (python-engineio's
/// `disconnect(abort=True)`): the transports stop at once, whatever they hold, and
/// subscribers get [`Disconnect`] with
/// [`DisconnectReason::ClientDisconnect`](crate::DisconnectReason::ClientDisconnect).
/// The server sees the connection break. Answers once the session has stopped.
///
/// ```
/// use actix::Addr;
/// use actix_engineio::{Abort, Session};
///
/// async fn pull_the_plug(session: Addr<Session>) {
///     let _ = session.send(Abort).await;
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, actix::Message)]
#[rtype(result = "()")]
pub struct Abort;

/// Adds a subscriber to a running session. It hears events from then on.
///
/// ```
/// use actix::prelude::*;
/// use actix_engineio::{Message, Subscribe};
///
/// struct Printer;
/// impl Actor for Printer { type Context = Context<Self>; }
/// impl Handler<Message> for Printer {
///     type Result = ();
///     fn handle(&mut self, msg: Message, _: &mut Context<Self>) { println!("{:?}", msg.0); }
/// }
///
/// # #[actix_rt::main] async fn main() {
/// let printer = Printer.start();
/// let subscribe = Subscribe::Message(printer.recipient());
/// # let _ = subscribe; }
/// ```
#[derive(Clone, actix::Message)]
#[rtype(result = "()")]
#[non_exhaustive]
pub enum Subscribe {
    /// Subscribes to [`Connect`] (useful once reconnection exists).
    Connect(Recipient<Connect>),
    /// Subscribes to [`Message`].
    Message(Recipient<Message>),
    /// Subscribes to [`Messages`]: the messages of each read, in one event.
    Messages(Recipient<Messages>),
    /// Subscribes to [`Disconnect`].
    Disconnect(Recipient<Disconnect>),
    /// Subscribes to [`Upgrade`].
    Upgrade(Recipient<Upgrade>),
    /// Subscribes to [`Reconnecting`].
    Reconnecting(Recipient<Reconnecting>),
    /// Subscribes to [`Undelivered`].
    Undelivered(Recipient<Undelivered>),
}

/// Answers once the session has ended for good, whoever ended it: after its last
/// [`Disconnect`], with no reconnection to follow. A session that has stopped already
/// is gone, and `send(Wait)` then fails with actix's `MailboxError`, which means the
/// same.
///
/// ```
/// use actix::Addr;
/// use actix_engineio::{Session, Wait};
///
/// async fn until_the_end(session: Addr<Session>) {
///     let _ = session.send(Wait).await;
///     println!("the session is over");
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, actix::Message)]
#[rtype(result = "()")]
pub struct Wait;

/// Asks a session for a [`SessionSender`](crate::SessionSender): a cloneable handle
/// that sends messages without a request per message, from any thread.
///
/// ```no_run
/// use actix::Addr;
/// use actix_engineio::{GetSender, Session};
///
/// async fn stream_lines(session: &Addr<Session>, lines: Vec<String>) -> Result<(), Box<dyn std::error::Error>> {
///     let sender = session.send(GetSender).await?;
///     for line in lines {
///         // Waits only while the send queue is full.
///         sender.send(line).await?;
///     }
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, actix::Message)]
#[rtype(result = "crate::SessionSender")]
pub struct GetSender;

/// Asks a session how its send queue stands, and how many `do_send`s it dropped.
///
/// ```
/// use actix::Addr;
/// use actix_engineio::{Session, Stats};
///
/// async fn report(session: &Addr<Session>) {
///     if let Ok(stats) = session.send(Stats).await {
///         println!("{} queued, {} dropped", stats.queued_messages, stats.refused_do_sends);
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, actix::Message)]
#[rtype(result = "SessionStats")]
pub struct Stats;

/// The answer to [`Stats`].
///
/// ```
/// let stats = actix_engineio::SessionStats::default();
/// assert_eq!(stats.refused_do_sends, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, actix::MessageResponse)]
#[non_exhaustive]
pub struct SessionStats {
    /// Messages in the send queue, waiting for room in the send buffer.
    pub queued_messages: usize,
    /// Their bytes.
    pub queued_bytes: usize,
    /// Bytes handed to the transports and not yet written to the network.
    pub unwritten_bytes: usize,
    /// Messages sent with `do_send` and dropped because the send queue was full.
    pub refused_do_sends: u64,
    /// Received messages given to actor subscribers (`Message`, `Messages`) that
    /// have not all been handled yet: past
    /// [`event_buffer`](crate::SessionBuilder::event_buffer) of them, or
    /// [`event_buffer_bytes`](crate::SessionBuilder::event_buffer_bytes) of their
    /// bytes, the session stops reading from the server until the subscribers catch up.
    pub unhandled_messages: usize,
    /// Their bytes.
    pub unhandled_bytes: usize,
}
