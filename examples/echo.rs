//! Talks to an Engine.IO server and prints what happens.
//!
//! ```text
//! cargo run --example echo                 # starts an embedded echo server first
//! cargo run --example echo -- http://127.0.0.1:3000
//! ```
//!
//! It connects over polling, upgrades to websocket, sends a text, a binary and a JSON
//! message, prints the echoes, and closes.

mod embedded_server;

use std::time::Duration;

use actix::prelude::*;
use actix_engineio::{
    Close, Connect, Disconnect, Message as EioMessage, Payload, Send as SendMessage, Session,
    Upgrade,
};
use futures::channel::oneshot;

/// Prints every event; tells `main` when the session ends.
struct Printer {
    expected: usize,
    session: Option<Addr<Session>>,
    ended: Option<oneshot::Sender<()>>,
}

impl Actor for Printer {
    type Context = Context<Self>;
}

impl Handler<Connect> for Printer {
    type Result = ();

    fn handle(&mut self, event: Connect, _: &mut Context<Self>) {
        println!("connected: sid {} over {}", event.sid, event.transport);
    }
}

impl Handler<Upgrade> for Printer {
    type Result = ();

    fn handle(&mut self, event: Upgrade, _: &mut Context<Self>) {
        match event {
            Upgrade::Completed(transport) => println!("upgraded to {transport}"),
            Upgrade::Failed(error) => println!("upgrade failed, staying on polling: {error}"),
        }
    }
}

impl Handler<EioMessage> for Printer {
    type Result = ();

    fn handle(&mut self, EioMessage(payload): EioMessage, _: &mut Context<Self>) {
        match payload {
            Payload::Text(text) => println!("received text: {text}"),
            Payload::Binary(data) => println!("received binary: {:?}", &data[..]),
        }
        self.expected = self.expected.saturating_sub(1);
        if self.expected == 0 {
            if let Some(session) = &self.session {
                println!("closing");
                session.do_send(Close);
            }
        }
    }
}

impl Handler<Disconnect> for Printer {
    type Result = ();

    fn handle(&mut self, Disconnect(reason): Disconnect, _: &mut Context<Self>) {
        println!("disconnected: {reason}");
        if let Some(ended) = self.ended.take() {
            let _ = ended.send(());
        }
    }
}

/// Gives the printer the session, to close it once every echo is in.
#[derive(Message)]
#[rtype(result = "()")]
struct Attach(Addr<Session>);

impl Handler<Attach> for Printer {
    type Result = ();

    fn handle(&mut self, Attach(session): Attach, _: &mut Context<Self>) {
        self.session = Some(session);
    }
}

#[actix_rt::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let url = match std::env::args().nth(1) {
        Some(url) => url,
        None => {
            let url = embedded_server::start();
            println!("started an embedded engineioxide echo server at {url}");
            url
        }
    };
    let (ended, session_ended) = oneshot::channel();
    let printer = Printer {
        expected: 3,
        session: None,
        ended: Some(ended),
    }
    .start();
    let session = Session::builder(&url)
        .on_connect(printer.clone().recipient())
        .on_upgrade(printer.clone().recipient())
        .on_message(printer.clone().recipient())
        .on_disconnect(printer.clone().recipient())
        .connect()
        .await?;
    printer.do_send(Attach(session.clone()));

    session
        .send(SendMessage::text("hello, engine.io"))
        .await??;
    session
        .send(SendMessage::binary(vec![0xde, 0xad, 0xbe, 0xef]))
        .await??;
    let json = serde_json::json!({"greeting": "hi", "n": 1});
    session.send(SendMessage::json(&json)?).await??;
    println!("sent a text, a binary and a JSON message");

    if actix_rt::time::timeout(Duration::from_secs(10), session_ended)
        .await
        .is_err()
    {
        println!("no echo within 10 s; closing");
        session.send(Close).await?;
    }
    Ok(())
}
