//! Who hears a session's events: its subscriptions, in the order they were made, each
//! a [`Subscribe`] as user code sends it.

use actix::{Message as ActixMessage, Recipient};

use crate::request::Subscribe;

/// The recipient of a subscription of one kind: `pick!(Subscribe::Connect)`.
macro_rules! pick {
    ($kind:path) => {
        |subscriber: &$crate::request::Subscribe| match subscriber {
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
pub(crate) struct Subscribers(Box<[Subscribe]>);

impl Subscribers {
    /// Adds a subscription. The list is exactly as long as it must be (subscriptions are
    /// few and made when a session is built, or rarely after).
    pub fn push(&mut self, subscriber: Subscribe) {
        let mut list = std::mem::take(&mut self.0).into_vec();
        list.push(subscriber);
        self.0 = list.into_boxed_slice();
    }

    /// Whether anyone subscribed to [`Message`].
    pub fn message(&self) -> bool {
        self.0.iter().any(|s| matches!(s, Subscribe::Message(_)))
    }

    /// Whether anyone subscribed to [`Messages`].
    pub fn messages(&self) -> bool {
        self.0.iter().any(|s| matches!(s, Subscribe::Messages(_)))
    }

    /// Gives `event` to every recipient that `pick` finds (see [`pick!`]), in
    /// subscription order; the last gets the original.
    pub fn tell<'a, M>(&'a self, pick: impl Fn(&'a Subscribe) -> Option<&'a Recipient<M>>, event: M)
    where
        M: ActixMessage<Result = ()> + Clone + Send + 'static,
    {
        self.each(pick, event, |recipient, event| recipient.do_send(event));
    }

    /// Calls `give` with every recipient that `pick` finds and a copy of `event`, in
    /// subscription order; the last gets the original.
    pub fn each<'a, M>(
        &'a self,
        pick: impl Fn(&'a Subscribe) -> Option<&'a Recipient<M>>,
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
    use crate::event::{Disconnect, Message, Messages};
    use crate::protocol::{DisconnectReason, Payload};

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
        subscribers.push(Subscribe::Message(b.clone().recipient()));
        subscribers.push(Subscribe::Messages(a.clone().recipient()));
        subscribers.push(Subscribe::Message(a.clone().recipient()));
        assert!(subscribers.message() && subscribers.messages());
        subscribers.tell(
            pick!(Subscribe::Message),
            Message(Payload::Text("hi".into())),
        );
        subscribers.tell(pick!(Subscribe::Messages), Messages(Vec::new()));
        subscribers.tell(
            pick!(Subscribe::Disconnect),
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
