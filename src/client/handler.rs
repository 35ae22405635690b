//! What a client's event handlers may return: nothing or a `Result` (for both
//! clients), or a future of one (for [`AsyncClient`](crate::AsyncClient), so that
//! async closures are handlers too). The marker types let one method take both kinds;
//! they are never named by users.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;

use futures::future::{self, FutureExt, LocalBoxFuture};

/// How a handler ended: `Err` carries what it said went wrong.
pub(crate) type Outcome = Result<(), String>;

/// What a handler may return: `()`, or a `Result` whose error is shown. A connect
/// handler's error refuses the connection; other handlers' errors are logged.
///
/// ```
/// use actix_engineio::Client;
///
/// let client = Client::new();
/// client.on_connect(|connect| {
///     if connect.sid.is_empty() {
///         return Err("no session id");
///     }
///     Ok(())
/// });
/// ```
pub trait HandlerOutput {
    /// The outcome, with the error as text.
    fn into_outcome(self) -> Result<(), String>;
}

impl HandlerOutput for () {
    fn into_outcome(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Display> HandlerOutput for Result<(), E> {
    fn into_outcome(self) -> Result<(), String> {
        self.map_err(|error| error.to_string())
    }
}

/// Marks a handler that returns its outcome at once.
pub struct Plain;

/// Marks a handler that returns a future of its outcome (an async closure).
pub struct Async;

/// What an [`AsyncClient`](crate::AsyncClient) handler may return: a
/// [`HandlerOutput`], or a future of one.
///
/// ```
/// use actix_engineio::{AsyncClient, Payload};
///
/// let client = AsyncClient::new();
/// client.on_message(|data: Payload| println!("plain: {data:?}"));
/// client.on_message(|data: Payload| async move { println!("async: {data:?}") });
/// ```
pub trait AsyncOutput<M>: 'static {
    #[doc(hidden)]
    fn into_future(self) -> LocalBoxFuture<'static, Result<(), String>>;
}

impl<R: HandlerOutput + 'static> AsyncOutput<Plain> for R {
    fn into_future(self) -> LocalBoxFuture<'static, Outcome> {
        future::ready(self.into_outcome()).boxed_local()
    }
}

impl<F> AsyncOutput<Async> for F
where
    F: Future + 'static,
    F::Output: HandlerOutput,
{
    fn into_future(self) -> LocalBoxFuture<'static, Outcome> {
        self.map(HandlerOutput::into_outcome).boxed_local()
    }
}

/// A handler of an [`AsyncClient`](crate::AsyncClient), boxed.
pub(crate) type BoxedAsyncHandler<T> =
    Arc<dyn Fn(T) -> LocalBoxFuture<'static, Outcome> + Send + Sync>;

/// A handler of a [`Client`](crate::Client), boxed.
pub(crate) type BoxedHandler<T> = Arc<dyn Fn(T) -> Outcome + Send + Sync>;

pub(crate) fn boxed_async<T, H, R, M>(handler: H) -> BoxedAsyncHandler<T>
where
    H: Fn(T) -> R + Send + Sync + 'static,
    R: AsyncOutput<M>,
{
    Arc::new(move |event| handler(event).into_future())
}

pub(crate) fn boxed<T, H, R>(handler: H) -> BoxedHandler<T>
where
    H: Fn(T) -> R + Send + Sync + 'static,
    R: HandlerOutput,
{
    Arc::new(move |event| handler(event).into_outcome())
}
