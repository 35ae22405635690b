//! An actix actor that owns an Engine.IO session: it subscribes to its events,
//! sends a numbered message every 200 ms, measures each round trip, and closes the
//! session after five echoes.
//!
//! ```text
//! cargo run --example actor                 # starts an embedded echo server first
//! cargo run --example actor -- http://127.0.0.1:3000
//! ```

mod embedded_server;

use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_engineio::{
    Close, Connect, Disconnect, Message as EioMessage, Send as SendMessage, Session, Subscribe,
};

const ROUNDS: u32 = 5;

/// Sends numbered messages and times their echoes.
struct Counter {
    session: Addr<Session>,
    sent_at: Vec<Instant>,
}

impl Actor for Counter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Subscribe this actor to the running session.
        let me = ctx.address();
        self.session
            .do_send(Subscribe::Message(me.clone().recipient()));
        self.session.do_send(Subscribe::Disconnect(me.recipient()));
        ctx.run_interval(Duration::from_millis(200), |act, ctx| act.send_next(ctx));
    }
}

impl Counter {
    fn send_next(&mut self, ctx: &mut Context<Self>) {
        let n = self.sent_at.len();
        if n as u32 == ROUNDS {
            return;
        }
        self.sent_at.push(Instant::now());
        let send = self.session.send(SendMessage::text(n.to_string()));
        // Wait for the session's answer inside the actor: `Ok` means queued.
        ctx.spawn(send.into_actor(self).map(|result, _, _| match result {
            Ok(Ok(())) => {}
            Ok(Err(refused)) => eprintln!("not sent: {refused}"),
            Err(mailbox) => eprintln!("session gone: {mailbox}"),
        }));
    }
}

impl Handler<EioMessage> for Counter {
    type Result = ();

    fn handle(&mut self, EioMessage(payload): EioMessage, _: &mut Context<Self>) {
        let n: usize = payload
            .as_text()
            .and_then(|t| t.parse().ok())
            .unwrap_or(usize::MAX);
        match self.sent_at.get(n) {
            Some(sent) => println!("echo {n} after {:?}", sent.elapsed()),
            None => println!("unexpected message {payload:?}"),
        }
        if n + 1 == ROUNDS as usize {
            self.session.do_send(Close);
        }
    }
}

impl Handler<Disconnect> for Counter {
    type Result = ();

    fn handle(&mut self, Disconnect(reason): Disconnect, _: &mut Context<Self>) {
        println!("session ended: {reason}");
        System::current().stop();
    }
}

/// Prints the connect event; subscribed through the builder, so it sees it.
struct ConnectLogger;

impl Actor for ConnectLogger {
    type Context = Context<Self>;
}

impl Handler<Connect> for ConnectLogger {
    type Result = ();

    fn handle(&mut self, event: Connect, _: &mut Context<Self>) {
        println!("connected: sid {} over {}", event.sid, event.transport);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(embedded_server::start);
    let system = System::new();
    system.block_on(async move {
        let session = Session::builder(&url)
            .on_connect(ConnectLogger.start().recipient())
            .connect()
            .await?;
        Counter {
            session,
            sent_at: Vec::new(),
        }
        .start();
        Ok::<_, actix_engineio::ConnectError>(())
    })?;
    system.run()?;
    Ok(())
}
