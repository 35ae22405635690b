//! An actix application that owns a supervised session: the session reopens itself
//! when it is lost, with a fresh token before each attempt, and the application hears
//! of each step.
//!
//! ```text
//! cargo run --example supervised                  # starts an embedded echo server first
//! cargo run --example supervised -- http://127.0.0.1:3000
//! ```
//!
//! To show a reconnection without a network fault, it asks the server to close the
//! session (the text `close-me`, which the embedded server and the crate's test servers
//! honour); the session is reopened, says hello again, and closes for good.

mod embedded_server;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use actix_engineio::{
    Close, Connect, Disconnect, Message as EioMessage, ReconnectAttempt, ReconnectPolicy,
    Reconnecting, Send as SendMessage, Session, Subscribe,
};

/// Owns the session and reacts to its events.
struct App {
    session: Addr<Session>,
}

impl Actor for App {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let me = ctx.address();
        self.session
            .do_send(Subscribe::Connect(me.clone().recipient()));
        self.session
            .do_send(Subscribe::Message(me.clone().recipient()));
        self.session
            .do_send(Subscribe::Reconnecting(me.clone().recipient()));
        self.session.do_send(Subscribe::Disconnect(me.recipient()));
        // The first session was open before this actor subscribed: greet it now.
        self.session.do_send(SendMessage::text("hello"));
    }
}

impl Handler<Connect> for App {
    type Result = ();

    fn handle(&mut self, connect: Connect, _: &mut Context<Self>) {
        println!(
            "connected: sid {} over {} (attempt {})",
            connect.sid, connect.transport, connect.attempt
        );
        if connect.is_reconnection() {
            self.session.do_send(SendMessage::text("hello again"));
        }
    }
}

impl Handler<EioMessage> for App {
    type Result = ();

    fn handle(&mut self, EioMessage(payload): EioMessage, _: &mut Context<Self>) {
        println!("received {payload:?}");
        match payload.as_text() {
            // The first session: have the server end it, to see it come back.
            Some("hello") => self.session.do_send(SendMessage::text("close-me")),
            Some("hello again") => self.session.do_send(Close),
            _ => {}
        }
    }
}

impl Handler<Reconnecting> for App {
    type Result = ();

    fn handle(&mut self, next: Reconnecting, _: &mut Context<Self>) {
        println!(
            "reconnecting in {:?} (attempt {})",
            next.delay, next.attempt
        );
    }
}

impl Handler<Disconnect> for App {
    type Result = ();

    fn handle(&mut self, Disconnect(reason): Disconnect, _: &mut Context<Self>) {
        println!("disconnected: {reason}");
        if reason == actix_engineio::DisconnectReason::ClientDisconnect {
            System::current().stop();
        }
    }
}

/// A token that changes with each attempt, as one fetched from an auth server would.
fn fresh_token(counter: &AtomicU32) -> String {
    format!("token-{}", counter.fetch_add(1, Ordering::Relaxed))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(embedded_server::start);
    let tokens = Arc::new(AtomicU32::new(1));
    let first_token = fresh_token(&tokens);
    let policy = ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(200))
        .max_attempts(Some(10))
        .before_attempt(move |attempt: &mut ReconnectAttempt| {
            attempt.set_header("Authorization", format!("Bearer {}", fresh_token(&tokens)));
        });
    let system = System::new();
    system.block_on(async move {
        let session = Session::builder(url)
            .header("Authorization", format!("Bearer {first_token}"))
            .reconnect(policy)
            .connect()
            .await?;
        App { session }.start();
        Ok::<_, actix_engineio::ConnectError>(())
    })?;
    system.run()?;
    Ok(())
}
