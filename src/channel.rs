//! A bounded channel whose receiver takes everything waiting at once: how a session
//! hands its events to its client's dispatcher. One lock and at most one wake-up per
//! batch rather than per event, and no allocation per event (the queue's buffer is
//! reused). The bounds (items, and their weight: the bytes of the messages) count
//! the items waiting and those of the batch the receiver holds, until it asks for the
//! next: a slow consumer holds the sender back as a one-at-a-time channel would.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// What an item weighs against the channel's byte bound.
pub(crate) trait Weigh {
    fn weight(&self) -> usize;
}

struct State<T> {
    items: VecDeque<T>,
    /// The weight of `items`.
    weight: usize,
    /// How many the receiver took with its last batch, and their weight.
    in_hand: usize,
    in_hand_weight: usize,
    capacity: usize,
    weight_capacity: usize,
    receiver: Option<Waker>,
    /// The sender waiting for room.
    sender: Option<Waker>,
    sender_gone: bool,
    receiver_gone: bool,
}

type Shared<T> = Arc<Mutex<State<T>>>;

fn lock<T>(shared: &Shared<T>) -> MutexGuard<'_, State<T>> {
    // Nothing panics while holding it.
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T> State<T> {
    /// Whether an item may go in now. An item heavier than the whole byte bound still
    /// goes in once the channel is empty.
    fn has_room(&self) -> bool {
        self.items.len() + self.in_hand < self.capacity
            && self.weight + self.in_hand_weight < self.weight_capacity
    }
}

/// A channel holding up to `buffer + 1` items (as `futures`' bounded channel does with
/// one sender) and taking no more once they weigh `bytes` (at least 1).
pub(crate) fn channel<T>(buffer: usize, bytes: usize) -> (BatchSender<T>, BatchReceiver<T>) {
    let shared = Arc::new(Mutex::new(State {
        items: VecDeque::new(),
        weight: 0,
        in_hand: 0,
        in_hand_weight: 0,
        capacity: buffer.saturating_add(1),
        weight_capacity: bytes.max(1),
        receiver: None,
        sender: None,
        sender_gone: false,
        receiver_gone: false,
    }));
    (
        BatchSender {
            shared: shared.clone(),
        },
        BatchReceiver { shared },
    )
}

/// Why an item was not sent; it comes back.
#[derive(Debug)]
pub(crate) enum TrySendError<T> {
    Full(T),
    Closed(T),
}

impl<T> TrySendError<T> {
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(item) | TrySendError::Closed(item) => item,
        }
    }
}

/// The sending end.
pub(crate) struct BatchSender<T> {
    shared: Shared<T>,
}

impl<T: Weigh> BatchSender<T> {
    /// Sends `item` if there is room now.
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        let mut state = lock(&self.shared);
        if state.receiver_gone {
            return Err(TrySendError::Closed(item));
        }
        if !state.has_room() {
            return Err(TrySendError::Full(item));
        }
        state.weight += item.weight();
        state.items.push_back(item);
        let receiver = state.receiver.take();
        drop(state);
        if let Some(receiver) = receiver {
            receiver.wake();
        }
        Ok(())
    }

    /// Ready once there is room (`Ok`), or once the receiver is gone (`Err`).
    pub fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        let mut state = lock(&self.shared);
        if state.receiver_gone {
            return Poll::Ready(Err(()));
        }
        if state.has_room() {
            return Poll::Ready(Ok(()));
        }
        state.sender = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Sends `item`, waiting for room; gives it back if the receiver is gone.
    pub async fn send(&self, item: T) -> Result<(), T> {
        if poll_fn(|cx| self.poll_ready(cx)).await.is_err() {
            return Err(item);
        }
        self.try_send(item).map_err(TrySendError::into_inner)
    }
}

impl<T> Drop for BatchSender<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.shared);
        state.sender_gone = true;
        let receiver = state.receiver.take();
        drop(state);
        if let Some(receiver) = receiver {
            receiver.wake();
        }
    }
}

/// The receiving end.
pub(crate) struct BatchReceiver<T> {
    shared: Shared<T>,
}

impl<T> BatchReceiver<T> {
    /// Moves every item waiting into `batch` (which must be empty: the last batch is
    /// done with); `false` once the sender is gone and nothing is left.
    pub async fn next_batch(&mut self, batch: &mut VecDeque<T>) -> bool {
        poll_fn(|cx| self.poll_batch(cx, batch)).await
    }

    /// [`next_batch`](Self::next_batch) as a poll.
    pub fn poll_batch(&mut self, cx: &mut Context<'_>, batch: &mut VecDeque<T>) -> Poll<bool> {
        let mut state = lock(&self.shared);
        // The last batch is handled: its room is free again.
        let freed = std::mem::take(&mut state.in_hand) > 0;
        state.in_hand_weight = 0;
        let ready = if !state.items.is_empty() {
            std::mem::swap(&mut state.items, batch);
            state.in_hand = batch.len();
            state.in_hand_weight = std::mem::take(&mut state.weight);
            Poll::Ready(true)
        } else if state.sender_gone {
            Poll::Ready(false)
        } else {
            state.receiver = Some(cx.waker().clone());
            Poll::Pending
        };
        let sender = if freed || ready.is_ready() {
            state.sender.take()
        } else {
            None
        };
        drop(state);
        if let Some(sender) = sender {
            sender.wake();
        }
        ready
    }
}

impl<T> Drop for BatchReceiver<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.shared);
        state.receiver_gone = true;
        let items = std::mem::take(&mut state.items);
        let sender = state.sender.take();
        drop(state);
        drop(items);
        if let Some(sender) = sender {
            sender.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A number weighs as much as it says.
    impl Weigh for u32 {
        fn weight(&self) -> usize {
            *self as usize
        }
    }

    #[test]
    fn the_receiver_takes_everything_waiting_and_its_batch_counts_until_the_next() {
        let (sender, mut receiver) = channel::<u32>(2, usize::MAX);
        for i in 0..3 {
            sender.try_send(i).unwrap();
        }
        assert!(sender.try_send(3).unwrap_err().is_full());
        let mut batch = VecDeque::new();
        assert!(futures::executor::block_on(receiver.next_batch(&mut batch)));
        assert_eq!(batch, [0, 1, 2]);
        assert!(
            sender.try_send(3).unwrap_err().is_full(),
            "the batch in hand still counts"
        );
        batch.clear();
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert_eq!(receiver.poll_batch(&mut cx, &mut batch), Poll::Pending);
        sender.try_send(3).unwrap();
        drop(sender);
        assert!(futures::executor::block_on(receiver.next_batch(&mut batch)));
        assert_eq!(batch, [3]);
        batch.clear();
        assert!(!futures::executor::block_on(
            receiver.next_batch(&mut batch)
        ));
    }

    #[test]
    fn a_sender_hears_that_the_receiver_is_gone() {
        let (sender, receiver) = channel::<u32>(0, usize::MAX);
        drop(receiver);
        assert!(!sender.try_send(1).unwrap_err().is_full());
        assert_eq!(futures::executor::block_on(sender.send(2)), Err(2));
    }

    #[test]
    fn the_weight_of_what_waits_and_of_the_batch_in_hand_bounds_the_channel() {
        let (sender, mut receiver) = channel::<u32>(100, 10);
        sender.try_send(6).unwrap();
        sender.try_send(3).unwrap();
        assert!(sender.try_send(0).is_ok(), "9 of 10: room for more");
        sender.try_send(5).unwrap();
        assert!(sender.try_send(1).unwrap_err().is_full(), "14 of 10: full");
        let mut batch = VecDeque::new();
        assert!(futures::executor::block_on(receiver.next_batch(&mut batch)));
        assert_eq!(batch, [6, 3, 0, 5]);
        assert!(
            sender.try_send(1).unwrap_err().is_full(),
            "the batch in hand still weighs"
        );
        batch.clear();
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert_eq!(receiver.poll_batch(&mut cx, &mut batch), Poll::Pending);
        sender.try_send(50).unwrap();
        assert!(
            sender.try_send(0).unwrap_err().is_full(),
            "one item heavier than the bound goes in alone"
        );
    }
}
