//! `--api blocking`: the blocking `Client`, from this plain `fn main` and plain
//! threads; no runtime of its own. Ctrl-C is the client's own (`handle_sigint`): it
//! disconnects cleanly, then SIGINT ends the process before `wait` returns.

use std::sync::{Arc, Mutex};

use actix_engineio::{Client, Event};

use crate::args::Args;
use crate::output::{print, Countdown};
use crate::Failure;

pub fn run(args: Args) -> Result<(), Failure> {
    let eio = args
        .configure(Client::builder().logger(true))
        .map_err(Failure::Arguments)?
        .build();
    let json = args.json;
    eio.on_connect(move |connect| print(&Event::Connect(connect), json));
    let countdown = Arc::new(Mutex::new(Countdown::new(args.count)));
    let handler_eio = eio.clone();
    let handler_countdown = countdown.clone();
    eio.on_message(move |payload| {
        print(&Event::Message(payload), json);
        let last = handler_countdown
            .lock()
            .map(|mut c| c.received())
            .unwrap_or(false);
        if last {
            handler_eio.disconnect();
        }
    });
    eio.on_upgrade(move |upgrade| print(&Event::Upgrade(upgrade), json));
    eio.on_reconnecting(move |next| print(&Event::Reconnecting(next), json));
    eio.on_undelivered(move |lost| print(&Event::Undelivered(lost), json));
    eio.on_disconnect(move |reason| print(&Event::Disconnect(reason), json));
    eio.connect(&args.url)?;
    for payload in args.outgoing.clone() {
        if let Err(error) = eio.send(payload) {
            eprintln!("eio: not sent: {error}");
        }
    }
    if countdown.lock().map(|c| c.done()).unwrap_or(false) {
        eio.disconnect();
    }
    if let Some(timeout) = args.timeout() {
        let eio = eio.clone();
        std::thread::spawn(move || {
            std::thread::sleep(timeout);
            eio.disconnect();
        });
    }
    if args.stdin {
        let eio = eio.clone();
        std::thread::spawn(move || forward_stdin(&eio));
    }
    eio.wait();
    Ok(())
}

/// Sends each line of standard input as a text message, then disconnects.
fn forward_stdin(eio: &Client) {
    use std::io::BufRead;
    let input = std::io::BufReader::with_capacity(1 << 16, std::io::stdin().lock());
    for line in input.lines() {
        let Ok(line) = line else { break };
        if let Err(error) = eio.send(line) {
            eprintln!("eio: not sent: {error}");
            if eio.session().is_none() {
                return;
            }
        }
    }
    eio.disconnect();
}
