//! The requests user code sends to a [`Session`](crate::Session), each an actix
//! [`Message`](actix::Message).

use actix::Recipient;
use bytes::Bytes;
use bytestring::ByteString;
use serde::Serialize;

use crate::event::{Connect, Disconnect, Message, Upgrade};
use crate::protocol::{Payload, SendError};

/// Sends a message to the server.
///
/// Answers `Ok` once the message is on its way to the server, in order after those
/// sent before, or with the [`SendError`] that says why it was refused; nothing is
/// dropped silently. While more than the session's
/// [`send_buffer`](crate::SessionBuilder::send_buffer) is still unwritten, the answer
/// waits until there is room: a sender that awaits each answer goes at the pace of
/// the network. `do_send` skips the answer, and with it this backpressure.
///
/// Note: importing this type shadows the `Send` marker trait in that module; use it
/// as `actix_engineio::Send` where that matters.
///
/// ```
/// use actix_engineio::{Payload, Send};
///
/// assert_eq!(Send::text("hi").0, Payload::from("hi"));
/// assert_eq!(Send::binary(vec![1, 2]).0, Payload::from(vec![1, 2]));
/// assert_eq!(Send::json(&[1, 2]).unwrap().0, Payload::from("[1,2]"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, actix::Message)]
#[rtype(result = "Result<(), SendError>")]
pub struct Send(pub Payload);

impl Send {
    /// A text message.
    pub fn text(text: impl Into<ByteString>) -> Self {
        Send(Payload::Text(text.into()))
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Send(Payload::Binary(data.into()))
    }

    /// A text message holding `value` as compact JSON.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        Payload::json(value).map(Send)
    }
}

impl<T: Into<Payload>> From<T> for Send {
    fn from(payload: T) -> Self {
        Send(payload.into())
    }
}

/// Closes the session: the server is told, subscribers get
/// [`Disconnect`] with [`DisconnectReason::ClientDisconnect`](crate::DisconnectReason::ClientDisconnect),
/// and the session stops. Returns at once; it does not wait for the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, actix::Message)]
#[rtype(result = "()")]
pub struct Close;

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
#[derive(actix::Message)]
#[rtype(result = "()")]
pub enum Subscribe {
    /// Subscribes to [`Connect`] (useful once reconnection exists).
    Connect(Recipient<Connect>),
    /// Subscribes to [`Message`].
    Message(Recipient<Message>),
    /// Subscribes to [`Disconnect`].
    Disconnect(Recipient<Disconnect>),
    /// Subscribes to [`Upgrade`].
    Upgrade(Recipient<Upgrade>),
}
