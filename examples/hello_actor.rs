use actix::prelude::*;
use actix_engineio::{Close, Disconnect, Message as EioMessage, Send, Session};

/// Prints what the server sends; closes the session once `expected` messages came.
struct Printer {
    expected: usize,
    session: Option<Addr<Session>>,
}

impl Actor for Printer {
    type Context = Context<Self>;
}

impl Handler<EioMessage> for Printer {
    type Result = ();
    fn handle(&mut self, EioMessage(payload): EioMessage, _: &mut Context<Self>) {
        println!("received {payload:?}");
        self.expected -= 1;
        if let (0, Some(session)) = (self.expected, &self.session) {
            session.do_send(Close);
        }
    }
}

impl Handler<Disconnect> for Printer {
    type Result = ();
    fn handle(&mut self, Disconnect(reason): Disconnect, _: &mut Context<Self>) {
        println!("session ended: {reason}"); // "client disconnect", "ping timeout", …
        System::current().stop();
    }
}

/// Gives the printer the session, to close it.
#[derive(Message)]
#[rtype(result = "()")]
struct Attach(Addr<Session>);

impl Handler<Attach> for Printer {
    type Result = ();
    fn handle(&mut self, Attach(session): Attach, _: &mut Context<Self>) {
        self.session = Some(session);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or("http://127.0.0.1:3000".into());
    let system = System::new();
    system.block_on(async {
        let printer = Printer {
            expected: 3,
            session: None,
        }
        .start();
        let session = Session::builder(url)
            .on_message(printer.clone().recipient())
            .on_disconnect(printer.clone().recipient())
            .connect() // waits for the handshake; a refusal is an error here
            .await?;
        printer.do_send(Attach(session.clone()));
        session.send(Send::text("hello")).await??; // text
        session.send(Send::binary(vec![1, 2, 3])).await??; // binary
        session.send(Send::json(&[1, 2, 3])?).await??; // JSON, as compact text
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    system.run()?; // until the printer has the three echoes and the session has ended
    Ok(())
}
