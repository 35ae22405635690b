//! An Engine.IO v4 client built on actix actors.
//!
//! A [`Session`] actor opens an Engine.IO session over HTTP long-polling and/or
//! websocket, answers the server's heartbeat, upgrades from polling to websocket, and
//! publishes [`Connect`], [`Message`], [`Upgrade`] and [`Disconnect`] events to the
//! `Recipient`s that subscribe to them. Messages go out with [`Send`].
//!
//! ```no_run
//! use actix::prelude::*;
//! use actix_engineio::{Close, Disconnect, Message as EioMessage, Send, Session};
//!
//! struct Printer;
//! impl Actor for Printer {
//!     type Context = Context<Self>;
//! }
//! impl Handler<EioMessage> for Printer {
//!     type Result = ();
//!     fn handle(&mut self, msg: EioMessage, _: &mut Context<Self>) {
//!         println!("received {:?}", msg.0);
//!     }
//! }
//! impl Handler<Disconnect> for Printer {
//!     type Result = ();
//!     fn handle(&mut self, msg: Disconnect, _: &mut Context<Self>) {
//!         println!("disconnected: {}", msg.0);
//!         System::current().stop();
//!     }
//! }
//!
//! #[actix_rt::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let printer = Printer.start();
//!     let session = Session::builder("http://127.0.0.1:3000")
//!         .on_message(printer.clone().recipient())
//!         .on_disconnect(printer.recipient())
//!         .connect()
//!         .await?;
//!     session.send(Send::text("hello")).await??;
//!     session.send(Close).await?;
//!     Ok(())
//! }
//! ```
//!
//! The crate is layered: [`protocol`] is the pure Engine.IO core (packets, payloads,
//! handshake, URLs and the session state machine) with no I/O; the session,
//! transport and heartbeat actors drive it.

#![warn(missing_docs)]

pub mod builder;
mod client;
mod config;
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
    ClientConfig, DEFAULT_EVENT_BUFFER, DEFAULT_MAX_BODY_SIZE, DEFAULT_MAX_FRAME_SIZE,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_SEND_BUFFER,
};
pub use crate::error::{ConfigError, ConnectError, TrySendError};
pub use crate::event::{Connect, Disconnect, Event, Message, Upgrade};
pub use crate::protocol::{
    DisconnectReason, Payload, SendError, TransportError, TransportKind, UpgradeError,
};
pub use crate::request::{Abort, Close, Send, Subscribe, TrySend};
pub use crate::session::Session;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
