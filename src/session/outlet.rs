//! The outlet: where the [`SessionSender`](super::SessionSender)s of a session leave
//! their messages, shared with the session behind a mutex (the clients send from other
//! threads). Bounded by the session's send queue limit; senders that find it full wait
//! in line, first come first served, and are woken in bursts as the session takes
//! messages. The session claims what was pushed when its `Drain` arrives, then takes
//! the claimed messages in order as its send buffer has room.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use crate::config::SendQueueLimit;
use crate::error::Unsent;
use crate::protocol::{
    can_carry_for, wire_len_for, Packet, Payload, ProtocolVersion, SendError, TransportKind,
};

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

    /// Whether the queue is below its bounds (a message of any size may wait).
    fn has_room(&self) -> bool {
        self.messages.len() < self.limit.messages && self.bytes < self.limit.bytes
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
pub(super) enum Pushed {
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
    pub(super) fn push(
        &self,
        payload: Payload,
        ticket: Option<u64>,
        waker: Option<&Waker>,
    ) -> Pushed {
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
        if state.has_room() {
            state.wake_first();
        }
        let tell = !std::mem::replace(&mut state.drain_scheduled, true);
        Pushed::Done(tell)
    }

    /// A waiting sender gave up (its future was dropped): it leaves the line.
    pub(super) fn leave(&self, ticket: u64) {
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
        let mut session_full = false;
        while taken < n && state.claimed > 0 {
            let Some(payload) = state.messages.pop_front() else {
                break;
            };
            state.claimed -= 1;
            state.bytes -= payload.len();
            taken += 1;
            if !take(payload) {
                session_full = true;
                break;
            }
        }
        if taken > 0 {
            if session_full && state.has_room() {
                // The session takes nothing more until the socket drains: a waiting
                // sender may fill the queue up meanwhile (it rests full, not at
                // whatever the last take left it).
                state.wake_first();
            } else {
                state.wake_first_if_room();
            }
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    use futures::task::{waker, ArcWake};

    use super::*;

    /// Counts its wake-ups.
    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl ArcWake for Wakes {
        fn wake_by_ref(this: &Arc<Self>) {
            this.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// An outlet of four messages, full and claimed, and a sender waiting in line.
    fn full_with_a_waiter() -> (Outlet, Arc<Wakes>) {
        let outlet = Outlet::new(SendQueueLimit {
            messages: 4,
            bytes: usize::MAX,
        });
        for i in 0..4 {
            assert!(matches!(
                outlet.push(Payload::from(format!("{i}")), None, None),
                Pushed::Done(_)
            ));
        }
        assert_eq!(outlet.claim(), 4);
        let wakes = Arc::new(Wakes::default());
        let waker = waker(wakes.clone());
        assert!(matches!(
            outlet.push(Payload::from("5"), None, Some(&waker)),
            Pushed::Waits(..)
        ));
        (outlet, wakes)
    }

    #[test]
    fn a_waiting_sender_is_woken_in_bursts_while_the_session_takes() {
        let (outlet, wakes) = full_with_a_waiter();
        // One taken, the session has room for more: three of four left, no wake-up.
        assert_eq!(outlet.take_claimed_while(1, |_| true), 1);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0);
        // Down to half: woken.
        assert_eq!(outlet.take_claimed_while(1, |_| true), 1);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_waiting_sender_is_woken_when_the_session_stops_taking() {
        let (outlet, wakes) = full_with_a_waiter();
        // The session's send buffer is full after one: it takes nothing more until the
        // socket drains, so the sender may fill the queue up meanwhile.
        assert_eq!(outlet.take_claimed_while(4, |_| false), 1);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
    }
}
