//! The events a session publishes, each an actix [`Message`](actix::Message), and
//! the subscribers that hear them.

use actix::{Message as ActixMessage, Recipient};
use tokio::sync::watch;

use crate::channel::BatchSender;
use crate::protocol::{DisconnectReason, Payload, TransportKind, UpgradeError};

/// A session is open: the first, or a new one after a loss (a reconnection).
///
/// ```
/// use actix_engineio::{Connect, TransportKind};
///
/// let event = Connect::new("abc", TransportKind::Polling, 0);
/// assert_eq!(event.transport.to_string(), "polling");
/// assert!(!event.is_reconnection());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, ActixMessage)]
#[rtype(result = "()")]
#[non_exhaustive]
pub struct Connect {
    /// The session id the server gave.
    pub sid: String,
    /// The transport the session was opened on.
    pub transport: TransportKind,
    /// 0 for the first session; for a reconnection, the attempt that opened it (1 for
    /// the first attempt after the loss).
    pub attempt: u32,
}

impl Connect {
    /// The event of a session `sid` opened over `transport`; `attempt` is 0 for a
    /// first session. Sessions make these; the constructor is for tests of handlers.
    ///
    /// ```
    /// use actix_engineio::{Connect, TransportKind};
    ///
    /// let event = Connect::new("s", TransportKind::WebSocket, 0);
    /// assert_eq!(event.sid, "s");
    /// ```
    pub fn new(sid: impl Into<String>, transport: TransportKind, attempt: u32) -> Self {
        Connect {
            sid: sid.into(),
            transport,
            attempt,
        }
    }

    /// Whether this session replaces one that was lost.
    ///
    /// ```
    /// use actix_engineio::{Connect, TransportKind};
    ///
    /// let event = Connect::new("s", TransportKind::WebSocket, 2);
    /// assert!(event.is_reconnection());
    /// ```
    pub fn is_reconnection(&self) -> bool {
        self.attempt > 0
    }
}

/// The session was lost, and a new one will be tried after `delay` (reconnection).
///
/// ```
/// use std::time::Duration;
/// use actix_engineio::Reconnecting;
///
/// let event = Reconnecting::new(1, Duration::from_millis(800));
/// println!("reconnecting in {:?} (attempt {})", event.delay, event.attempt);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, ActixMessage)]
#[rtype(result = "()")]
#[non_exhaustive]
pub struct Reconnecting {
    /// 1 for the first attempt after the loss.
    pub attempt: u32,
    /// How long the session waits before it.
    pub delay: std::time::Duration,
}

impl Reconnecting {
    /// The event of attempt `attempt`, made after `delay`. Sessions make these; the
    /// constructor is for tests of handlers.
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_engineio::Reconnecting;
    ///
    /// assert_eq!(Reconnecting::new(2, Duration::ZERO).attempt, 2);
    /// ```
    pub fn new(attempt: u32, delay: std::time::Duration) -> Self {
        Reconnecting { attempt, delay }
    }
}

/// Messages that were taken for sending and will never be written: the session they
/// were sent on ended first. Given back in the order they were sent.
///
/// ```
/// use actix_engineio::{Payload, Undelivered};
///
/// let event = Undelivered(vec![Payload::from("lost")]);
/// assert_eq!(event.0.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, ActixMessage)]
#[rtype(result = "()")]
pub struct Undelivered(pub Vec<Payload>);

/// A message from the server. Every subscriber receives every message, in the order
/// the server sent them. Messages given to subscribers and not handled yet are
/// bounded by [`event_buffer`](crate::SessionBuilder::event_buffer) and
/// [`event_buffer_bytes`](crate::SessionBuilder::event_buffer_bytes): past them the
/// session stops reading from the server until the subscribers catch up.
///
/// ```
/// use actix_engineio::{Message, Payload};
///
/// let event = Message(Payload::from("hello"));
/// assert_eq!(event.0.as_text(), Some("hello"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, ActixMessage)]
#[rtype(result = "()")]
pub struct Message(pub Payload);

/// Every message from the server that one read of the socket brought (a websocket
/// read, a polling response), in the order the server sent them: what
/// [`Message`] gives one at a time, in one event per read. Never empty.
///
/// A subscriber that handles many small messages pays for one actix envelope per
/// read instead of one per message. Every subscriber receives every message once,
/// in order; the batch of a read is published before any event that follows it
/// (an actor subscribed to [`Disconnect`] as well gets its last batch first). As
/// with [`Message`], what subscribers have not handled yet is bounded by
/// [`event_buffer`](crate::SessionBuilder::event_buffer) and
/// [`event_buffer_bytes`](crate::SessionBuilder::event_buffer_bytes): past them the
/// session stops reading until the subscribers catch up.
///
/// ```
/// use actix_engineio::{Messages, Payload};
///
/// let event = Messages(vec![Payload::from("a"), Payload::from("b")]);
/// assert_eq!(event.0.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, ActixMessage)]
#[rtype(result = "()")]
pub struct Messages(pub Vec<Payload>);

/// The session is over; the last event a session publishes.
///
/// ```
/// use actix_engineio::{Disconnect, DisconnectReason};
///
/// let event = Disconnect(DisconnectReason::ServerDisconnect);
/// assert_eq!(event.0.to_string(), "server disconnect");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, ActixMessage)]
#[rtype(result = "()")]
pub struct Disconnect(pub DisconnectReason);

/// The outcome of the upgrade from polling to websocket.
///
/// ```
/// use actix_engineio::{TransportKind, Upgrade};
///
/// let event = Upgrade::Completed(TransportKind::WebSocket);
/// assert!(matches!(event, Upgrade::Completed(TransportKind::WebSocket)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, ActixMessage)]
#[rtype(result = "()")]
pub enum Upgrade {
    /// The session now runs on this transport.
    Completed(TransportKind),
    /// The upgrade failed; the session goes on over polling.
    Failed(UpgradeError),
}

/// One event of a session, as the clients' event streams give them, in order.
///
/// ```
/// use actix_engineio::{Event, Payload};
///
/// fn describe(event: &Event) -> String {
///     match event {
///         Event::Connect(connect) => format!("connected as {}", connect.sid),
///         Event::Message(Payload::Text(text)) => format!("text: {text}"),
///         Event::Message(Payload::Binary(data)) => format!("{} bytes", data.len()),
///         Event::Upgrade(upgrade) => format!("upgrade: {upgrade:?}"),
///         Event::Disconnect(reason) => format!("disconnected: {reason}"),
///         Event::Reconnecting(next) => format!("attempt {} in {:?}", next.attempt, next.delay),
///         Event::Undelivered(lost) => format!("{} messages not sent", lost.len()),
///         other => format!("{other:?}"), // events added in later versions
///     }
/// }
/// assert_eq!(describe(&Event::Message("hi".into())), "text: hi");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The session is open.
    Connect(Connect),
    /// A message from the server.
    Message(Payload),
    /// The upgrade to websocket completed or failed.
    Upgrade(Upgrade),
    /// The session is over. Unless a reconnection follows, its last event.
    Disconnect(DisconnectReason),
    /// A lost session will be opened again after a delay.
    Reconnecting(Reconnecting),
    /// Messages taken for sending that will never be written.
    Undelivered(Vec<Payload>),
}

impl crate::channel::Weigh for Event {
    /// The bytes of its messages: what bounds the client's channel beside the count.
    fn weight(&self) -> usize {
        match self {
            Event::Message(payload) => payload.len(),
            Event::Undelivered(payloads) => payloads.iter().map(Payload::len).sum(),
            _ => 0,
        }
    }
}

/// What a session is, at any moment, for whoever holds the other end: kept up to
/// date by the session itself as events happen, before they are delivered.
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionStatus {
    pub sid: Option<String>,
    pub transport: Option<TransportKind>,
    pub ended: Option<DisconnectReason>,
}

/// A bounded channel of a session's events, with the session's status beside it:
/// how the clients hear from their session.
pub(crate) struct EventSender {
    pub events: BatchSender<Event>,
    pub status: watch::Sender<SessionStatus>,
}

/// One subscription: who hears which event.
#[derive(Clone)]
pub(crate) enum Subscriber {
    Connect(Recipient<Connect>),
    Message(Recipient<Message>),
    Messages(Recipient<Messages>),
    Disconnect(Recipient<Disconnect>),
    Upgrade(Recipient<Upgrade>),
    Reconnecting(Recipient<Reconnecting>),
    Undelivered(Recipient<Undelivered>),
}

/// The recipient of a [`Subscriber`] of one kind: `pick!(Subscriber::Connect)`.
macro_rules! pick {
    ($kind:path) => {
        |subscriber: &$crate::event::Subscriber| match subscriber {
            $kind(recipient) => Some(recipient),
            _ => None,
        }
    };
}
pub(crate) use pick;

/// The recipients of every event, in subscription order. One list for all kinds: every
/// session keeps it for as long as it runs, and seven lists (one per kind) took 168
/// bytes of its state, and a heap block per kind subscribed to.
#[derive(Clone, Default)]
pub(crate) struct Subscribers(Box<[Subscriber]>);

impl Subscribers {
    /// Adds a subscription. The list is exactly as long as it must be (subscriptions are
    /// few and made when a session is built, or rarely after).
    pub fn push(&mut self, subscriber: Subscriber) {
        let mut list = std::mem::take(&mut self.0).into_vec();
        list.push(subscriber);
        self.0 = list.into_boxed_slice();
    }

    /// Whether anyone subscribed to [`Message`].
    pub fn message(&self) -> bool {
        self.0.iter().any(|s| matches!(s, Subscriber::Message(_)))
    }

    /// Whether anyone subscribed to [`Messages`].
    pub fn messages(&self) -> bool {
        self.0.iter().any(|s| matches!(s, Subscriber::Messages(_)))
    }

    /// Gives `event` to every recipient that `pick` finds (see [`pick!`]), in
    /// subscription order; the last gets the original.
    pub fn tell<'a, M>(
        &'a self,
        pick: impl Fn(&'a Subscriber) -> Option<&'a Recipient<M>>,
        event: M,
    ) where
        M: ActixMessage<Result = ()> + Clone + Send + 'static,
    {
        self.each(pick, event, |recipient, event| recipient.do_send(event));
    }

    /// Calls `give` with every recipient that `pick` finds and a copy of `event`, in
    /// subscription order; the last gets the original.
    pub fn each<'a, M>(
        &'a self,
        pick: impl Fn(&'a Subscriber) -> Option<&'a Recipient<M>>,
        event: M,
        mut give: impl FnMut(&'a Recipient<M>, M),
    ) where
        M: ActixMessage + Clone + Send + 'a,
        M::Result: Send,
    {
        let mut recipients = self.0.iter().filter_map(pick).peekable();
        while let Some(recipient) = recipients.next() {
            if recipients.peek().is_none() {
                return give(recipient, event);
            }
            give(recipient, event.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use actix::{Actor, Context, Handler};

    use super::*;

    /// Notes each message it gets, with its own name.
    struct Note(&'static str, Arc<Mutex<Vec<String>>>);

    impl Actor for Note {
        type Context = Context<Self>;
    }

    impl Handler<Message> for Note {
        type Result = ();
        fn handle(&mut self, Message(payload): Message, _: &mut Context<Self>) {
            self.1
                .lock()
                .unwrap()
                .push(format!("{} {payload:?}", self.0));
        }
    }

    impl Handler<Messages> for Note {
        type Result = ();
        fn handle(&mut self, Messages(batch): Messages, _: &mut Context<Self>) {
            self.1
                .lock()
                .unwrap()
                .push(format!("{} batch of {}", self.0, batch.len()));
        }
    }

    #[actix_rt::test]
    async fn each_kind_reaches_its_own_subscribers_only() {
        let heard = Arc::new(Mutex::new(Vec::new()));
        let a = Note("a", heard.clone()).start();
        let b = Note("b", heard.clone()).start();
        let mut subscribers = Subscribers::default();
        subscribers.push(Subscriber::Message(b.clone().recipient()));
        subscribers.push(Subscriber::Messages(a.clone().recipient()));
        subscribers.push(Subscriber::Message(a.clone().recipient()));
        assert!(subscribers.message() && subscribers.messages());
        subscribers.tell(
            pick!(Subscriber::Message),
            Message(Payload::Text("hi".into())),
        );
        subscribers.tell(pick!(Subscriber::Messages), Messages(Vec::new()));
        subscribers.tell(
            pick!(Subscriber::Disconnect),
            Disconnect(DisconnectReason::ClientDisconnect),
        );
        // Each actor handles its mailbox in order; both are done once these answer.
        a.send(Messages(vec![Payload::Text("end".into())]))
            .await
            .unwrap();
        b.send(Messages(vec![Payload::Text("end".into())]))
            .await
            .unwrap();
        let mut heard = heard.lock().unwrap().clone();
        heard.retain(|line| !line.ends_with("batch of 1"));
        let of = |name: &str| -> Vec<String> {
            heard
                .iter()
                .filter(|l| l.starts_with(name))
                .cloned()
                .collect()
        };
        // Nobody subscribed to Disconnect; b not to Messages.
        assert_eq!(of("a "), [r#"a Text("hi")"#, "a batch of 0"]);
        assert_eq!(of("b "), [r#"b Text("hi")"#]);
    }

    #[test]
    fn no_subscriber_of_a_kind_means_none() {
        assert!(!Subscribers::default().message());
        assert!(!Subscribers::default().messages());
    }
}
