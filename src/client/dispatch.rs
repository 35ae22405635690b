//! The dispatcher of a client: runs its handlers for each event of each session, one
//! at a time, in the order of the events, and of the sessions. A handler that panics
//! or fails is logged with the event it was handling; the next events go on.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;

use futures::channel::{mpsc, oneshot};
use futures::future::{Either, LocalBoxFuture, Ready};
use futures::{FutureExt, StreamExt};

use super::handler::Outcome;
use super::runtime::Runtime;
use crate::channel::BatchReceiver;
use crate::event::Event;

/// One session's events, with the handlers registered when it was opened, whoever
/// waits for the connect handler's verdict, and whoever waits for every event to be
/// handled (told by the sender being dropped).
pub(crate) struct Delivery<F: Flavor> {
    pub events: BatchReceiver<Event>,
    pub handlers: F::Handlers,
    pub connected: oneshot::Sender<Outcome>,
    pub handled: oneshot::Sender<()>,
}

/// A handler's outcome: known at once (a blocking handler, or none), or to come.
pub(crate) type Handled = Either<Ready<Outcome>, LocalBoxFuture<'static, Outcome>>;

tokio::task_local! {
    /// Set while an async handler runs.
    static IN_ASYNC_HANDLER: ();
}

thread_local! {
    /// Set on the threads that run blocking handlers.
    static IN_BLOCKING_HANDLER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the caller is a handler: waiting for the dispatcher from there would wait
/// for itself.
pub(crate) fn in_handler() -> bool {
    IN_ASYNC_HANDLER.try_with(|_| ()).is_ok() || IN_BLOCKING_HANDLER.with(|flag| flag.get())
}

/// Marks the current thread as one that runs blocking handlers.
pub(crate) fn mark_handler_thread() {
    IN_BLOCKING_HANDLER.with(|flag| flag.set(true));
}

/// What makes the two clients differ here: their handlers, and where the dispatcher
/// runs (a task on the client's runtime, or a thread of its own).
pub(crate) trait Flavor: Sized + 'static {
    type Handlers: Clone + Default + Send + 'static;

    /// Runs the handler of `event`, if there is one.
    fn handle(handlers: &Self::Handlers, event: &Event) -> Handled;

    /// Whatever else the client does with its events, once handled: `None` when
    /// there is nothing to do (no future to allocate for each event).
    fn forward(handlers: &Self::Handlers, event: Event) -> Option<LocalBoxFuture<'static, ()>>;

    /// Starts a dispatcher on `runtime` (or beside it) and gives its input.
    fn start_dispatcher(runtime: &Runtime) -> mpsc::UnboundedSender<Delivery<Self>>;
}

/// Dispatches every session given, in turn, until the client is gone.
pub(crate) async fn dispatch<F: Flavor>(mut deliveries: mpsc::UnboundedReceiver<Delivery<F>>) {
    while let Some(delivery) = deliveries.next().await {
        dispatch_session(delivery).await;
    }
}

async fn dispatch_session<F: Flavor>(delivery: Delivery<F>) {
    let Delivery {
        mut events,
        handlers,
        connected,
        handled: _handled,
    } = delivery;
    let mut connected = Some(connected);
    let mut refused = false;
    // Every event waiting is taken at once: one wake-up for a burst.
    let mut batch = VecDeque::new();
    while events.next_batch(&mut batch).await {
        while let Some(event) = batch.pop_front() {
            if !refused {
                let outcome = run_handler::<F>(&handlers, &event).await;
                refused = verdict(&event, outcome, &mut connected);
            }
            if let Some(forwarded) = F::forward(&handlers, event) {
                forwarded.await;
            }
        }
    }
}

/// Runs the handler of `event`; a panic is caught and becomes its error.
async fn run_handler<F: Flavor>(handlers: &F::Handlers, event: &Event) -> Outcome {
    let handler = IN_ASYNC_HANDLER.scope((), async { F::handle(handlers, event).await });
    let handled = AssertUnwindSafe(handler).catch_unwind().await;
    handled.unwrap_or_else(|panic| {
        let message = panic_message(panic.as_ref());
        log::error!("engine.io {} handler panicked: {message}", name_of(event));
        Err(format!("the handler panicked: {message}"))
    })
}

/// Gives the first connect handler's outcome to whoever waits for it, or logs a
/// handler's error. Returns whether the connection was refused: nothing more of
/// this session then reaches the handlers.
fn verdict(
    event: &Event,
    outcome: Outcome,
    connected: &mut Option<oneshot::Sender<Outcome>>,
) -> bool {
    if let (Event::Connect(_), Some(waiting)) = (event, connected.take()) {
        let refused = outcome.is_err();
        let _ = waiting.send(outcome);
        return refused;
    }
    if let Err(error) = outcome {
        log::error!("engine.io {} handler failed: {error}", name_of(event));
    }
    false
}

fn name_of(event: &Event) -> &'static str {
    match event {
        Event::Connect(_) => "connect",
        Event::Message(_) => "message",
        Event::Upgrade(_) => "upgrade",
        Event::Disconnect(_) => "disconnect",
        Event::Reconnecting(_) => "reconnecting",
        Event::Undelivered(_) => "undelivered",
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "(not a string)".to_owned()
    }
}
