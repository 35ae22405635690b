//! `AsyncClient` and the blocking `Client` against the real peers.
//!
//! By concern:
//! * [`async_client`]: what an `AsyncClient`'s handlers are promised: order, one at a
//!   time, slow and panicking handlers, JSON, background tasks, the event stream;
//! * [`lifecycle`]: its sessions: `wait`, `disconnect`, `abort`, reconnecting, refusals,
//!   and the actor API's `Close`;
//! * [`blocking`] and [`blocking_lifecycle`]: the same for the blocking `Client`;
//! * [`close`]: `disconnect()` and `Close` have reached the server when they return, even
//!   if the runtime stops right after;
//! * [`options`]: `connect_with`'s headers, transports and path, and the builder's
//!   headers, reach the server;
//! * [`reentrancy`]: handlers that call their own client (send, wait, disconnect, abort,
//!   connect);
//! * [`runtimes`]: where each client may be used: actix, plain Tokio, inside actix-web,
//!   plain threads; the actor API outside a `System`;
//! * [`sigint`]: the `client` example as a child: Ctrl-C ends it after a clean disconnect.
//!
//! [`record`] records what the handlers were given; [`common`] holds labels, modes, what
//! each peer logs for a clean or a broken close, and a capture of the error log.
//!
//! Every assertion message starts with `[<peer> peer, <mode>, <client>]`.

mod async_client;
mod blocking;
mod blocking_lifecycle;
mod close;
pub(crate) mod common;
mod lifecycle;
mod options;
mod record;
mod reentrancy;
mod runtimes;
mod sigint;
