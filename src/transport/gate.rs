//! A stream that can be told to stop yielding: how a transport stops reading from its
//! socket while the session has nowhere to put what it reads, so that backpressure
//! reaches the server through TCP instead of growing a buffer.

use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures::Stream;

/// The switch of a [`Gated`] stream, kept by whoever decides.
#[derive(Clone, Default)]
pub(crate) struct Gate(Rc<GateState>);

#[derive(Default)]
struct GateState {
    closed: Cell<bool>,
    /// The reader parked while the gate was closed.
    waker: RefCell<Option<Waker>>,
}

impl Gate {
    /// Wraps `inner` so that it yields only while this gate is open.
    pub fn wrap<S>(&self, inner: S) -> Gated<S> {
        Gated {
            inner,
            gate: self.clone(),
        }
    }

    pub fn close(&self) {
        self.0.closed.set(true);
    }

    pub fn open(&self) {
        self.0.closed.set(false);
        if let Some(waker) = self.0.waker.borrow_mut().take() {
            waker.wake();
        }
    }
}

/// A stream that yields nothing while its [`Gate`] is closed.
pub(crate) struct Gated<S> {
    inner: S,
    gate: Gate,
}

impl<S: Stream + Unpin> Stream for Gated<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let state = &self.gate.0;
        if state.closed.get() {
            *state.waker.borrow_mut() = Some(cx.waker().clone());
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use futures::{stream, StreamExt};

    use super::*;

    #[test]
    fn a_closed_gate_holds_items_until_opened() {
        let gate = Gate::default();
        let mut gated = gate.wrap(stream::iter([1, 2]));
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert_eq!(gated.poll_next_unpin(&mut cx), Poll::Ready(Some(1)));
        gate.close();
        assert_eq!(gated.poll_next_unpin(&mut cx), Poll::Pending);
        gate.open();
        assert_eq!(gated.poll_next_unpin(&mut cx), Poll::Ready(Some(2)));
    }
}
