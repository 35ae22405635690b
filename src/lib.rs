//! An Engine.IO client: the transport under Socket.IO, over HTTP long-polling and
//! websocket, with python-engineio's two clients and an actix actor API.
//!
//! ```
//! use actix_engineio::{Client, Payload};
//! # mod embedded_server { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/embedded_server/mod.rs")); }
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let url = embedded_server::start();
//!
//! let eio = Client::new();
//! let (echo, echoed) = std::sync::mpsc::channel();
//! eio.on_message(move |data: Payload| drop(echo.send(data)));
//! eio.connect(&url)?; // an echo server
//! eio.send("hello")?;
//! assert_eq!(echoed.recv()?, Payload::from("hello"));
//! eio.disconnect();
//! # Ok(()) }
//! ```
//!
//! Three APIs over one core:
//!
//! - [`Client`]: python-engineio's `Client`, whose methods block, usable from any thread;
//! - [`AsyncClient`]: python-engineio's `AsyncClient`, for async code on any runtime, its
//!   events as handlers or as a `Stream`;
//! - the [`Session`] actor, for actix applications: it publishes [`Connect`], [`Message`],
//!   [`Upgrade`] and [`Disconnect`] to the `Recipient`s that subscribe to them, and takes
//!   [`Send`] and [`Close`].
//!
//! Every setting is on each of their builders ([`builder::Builder`]). The crate is
//! layered: [`protocol`] is the pure Engine.IO core (packets, payloads, handshake, URLs
//! and the session state machine) with no I/O; the session, transport and heartbeat
//! actors drive it; the clients sit on the session actor.

#![warn(missing_docs)]

pub mod builder;
mod channel;
mod client;
mod config;
pub mod diagnostics;
mod error;
mod event;
mod heartbeat;
pub mod protocol;
mod request;
mod session;
mod transport;

pub use bytestring::ByteString;

pub use crate::builder::{AsyncClientBuilder, ClientBuilder, SessionBuilder};
pub use crate::client::handler;
pub use crate::client::{AsyncClient, BackgroundTask, Client, ConnectOptions, EventStream};
pub use crate::config::{
    ClientConfig, SendQueueLimit, DEFAULT_EVENT_BUFFER, DEFAULT_EVENT_BUFFER_BYTES,
    DEFAULT_MAX_BODY_SIZE, DEFAULT_MAX_FRAME_SIZE, DEFAULT_REQUEST_TIMEOUT, DEFAULT_SEND_BUFFER,
};
pub use crate::config::{ReconnectAttempt, ReconnectPolicy};
pub use crate::error::{ConfigError, ConnectError, Unsent};
pub use crate::event::{
    Connect, Disconnect, Event, Message, Messages, Reconnecting, Undelivered, Upgrade,
};
pub use crate::protocol::{
    DisconnectReason, Payload, ProtocolVersion, ProxyError, SendError, TransportError,
    TransportKind, UpgradeError,
};
pub use crate::request::{
    Abort, Close, GetSender, Send, SessionStats, Stats, Subscribe, TrySend, Wait,
};
pub use crate::session::{SendFuture, Session, SessionSender};

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
