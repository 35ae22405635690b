//! `--api actor`: a `Session` actor under an actix `System`, heard by a printer actor.

use std::time::Duration;

use actix::prelude::*;
use actix_engineio::{
    Close, Connect, Disconnect, Event, GetSender, Message as EioMessage, Reconnecting,
    Send as SendMessage, SendError, Session, Undelivered, Upgrade, Wait,
};
use futures::StreamExt;

use crate::args::Args;
use crate::output::{print, stdin_lines, Countdown};
use crate::Failure;

/// Runs the session to its end.
pub fn run(args: Args) -> Result<(), Failure> {
    let system = System::new();
    system.block_on(start(args))?;
    // The printer stops the system once the session has ended.
    system.run().map_err(|e| Failure::Arguments(e.to_string()))
}

/// Prints events and closes the session after `--count` messages.
struct Printer {
    json: bool,
    countdown: Countdown,
    session: Option<Addr<Session>>,
}

impl Actor for Printer {
    type Context = Context<Self>;
}

/// Hands the session to the printer once connected.
#[derive(Message)]
#[rtype(result = "()")]
struct Attach(Addr<Session>);

impl Handler<Attach> for Printer {
    type Result = ();

    fn handle(&mut self, Attach(session): Attach, _: &mut Context<Self>) {
        if self.countdown.done() {
            session.do_send(Close);
        }
        self.session = Some(session);
    }
}

impl Handler<Connect> for Printer {
    type Result = ();

    fn handle(&mut self, event: Connect, _: &mut Context<Self>) {
        print(&Event::Connect(event), self.json);
    }
}

impl Handler<EioMessage> for Printer {
    type Result = ();

    fn handle(&mut self, EioMessage(payload): EioMessage, _: &mut Context<Self>) {
        print(&Event::Message(payload), self.json);
        if self.countdown.received() {
            if let Some(session) = &self.session {
                session.do_send(Close);
            }
        }
    }
}

impl Handler<Upgrade> for Printer {
    type Result = ();

    fn handle(&mut self, event: Upgrade, _: &mut Context<Self>) {
        print(&Event::Upgrade(event), self.json);
    }
}

impl Handler<Disconnect> for Printer {
    type Result = ();

    fn handle(&mut self, Disconnect(reason): Disconnect, _: &mut Context<Self>) {
        print(&Event::Disconnect(reason), self.json);
    }
}

/// The session has ended for good (after its last `Disconnect`, which came first).
#[derive(Message)]
#[rtype(result = "()")]
struct Ended;

impl Handler<Ended> for Printer {
    type Result = ();

    fn handle(&mut self, _: Ended, _: &mut Context<Self>) {
        System::current().stop();
    }
}

impl Handler<Reconnecting> for Printer {
    type Result = ();

    fn handle(&mut self, next: Reconnecting, _: &mut Context<Self>) {
        print(&Event::Reconnecting(next), self.json);
    }
}

impl Handler<Undelivered> for Printer {
    type Result = ();

    fn handle(&mut self, Undelivered(lost): Undelivered, _: &mut Context<Self>) {
        print(&Event::Undelivered(lost), self.json);
    }
}

/// Connects, sends the queued messages and arranges how the session ends.
async fn start(args: Args) -> Result<(), Failure> {
    // Listening before connecting, so that an early Ctrl-C is not missed.
    let interrupts = crate::interrupts();
    let printer = Printer {
        json: args.json,
        countdown: Countdown::new(args.count),
        session: None,
    }
    .start();
    let builder = args
        .configure(Session::builder(&args.url))
        .map_err(Failure::Arguments)?
        .on_connect(printer.clone().recipient())
        .on_message(printer.clone().recipient())
        .on_upgrade(printer.clone().recipient())
        .on_reconnecting(printer.clone().recipient())
        .on_undelivered(printer.clone().recipient())
        .on_disconnect(printer.clone().recipient());
    let session = builder.connect().await?;
    printer.do_send(Attach(session.clone()));
    let (ended, printer_ends) = (session.clone(), printer.clone());
    actix_rt::spawn(async move {
        // Answered after the last `Disconnect` went to the printer, so it is printed first.
        let _ = ended.send(Wait).await;
        printer_ends.do_send(Ended);
    });
    for payload in args.outgoing.clone() {
        if let Ok(Err(error)) = session.send(SendMessage(payload)).await {
            eprintln!("eio: not sent: {error}");
        }
    }
    if let Some(timeout) = args.timeout() {
        close_after(session.clone(), timeout);
    }
    if args.stdin {
        actix_rt::spawn(forward_stdin(session.clone()));
    }
    actix_rt::spawn(async move {
        if crate::interrupted(interrupts).await {
            let _ = session.send(Close).await;
        }
    });
    Ok(())
}

fn close_after(session: Addr<Session>, timeout: Duration) {
    actix_rt::spawn(async move {
        actix_rt::time::sleep(timeout).await;
        session.do_send(Close);
    });
}

/// Sends each line of standard input as a text message, through a [`SessionSender`]
/// (no actix request per line), then closes the session.
async fn forward_stdin(session: Addr<Session>) {
    let Ok(sender) = session.send(GetSender).await else {
        return;
    };
    let mut batches = stdin_lines();
    while let Some(batch) = batches.next().await {
        for line in batch {
            if let Err(unsent) = sender.send(line).await {
                eprintln!("eio: not sent: {unsent}");
                if unsent.error == SendError::Closed {
                    return;
                }
            }
        }
    }
    // Goes out after the last line: its `send` has resolved.
    session.do_send(Close);
}
