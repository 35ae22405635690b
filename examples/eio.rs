//! `eio`: a command-line Engine.IO client, like wscat for Engine.IO.
//!
//! ```text
//! cargo run --example eio -- [OPTIONS] URL
//! cargo run --example eio -- --send hello --count 1 --json http://127.0.0.1:3000
//! ```
//!
//! With `--json`, each event is one JSON object per line on stdout:
//! `{"event":"connect","sid":"…","transport":"websocket"}`,
//! `{"event":"message","text":"…"}` or `{"event":"message","binary":"<hex>"}`,
//! `{"event":"upgrade","transport":"websocket"}`,
//! `{"event":"upgrade_error","error":"…"}`,
//! `{"event":"disconnect","reason":"<reason>","detail":"…"|null}`.
//!
//! Exit status: 0 when the session ended (count, timeout, end of input, server),
//! 1 when it could not connect, 2 for bad arguments.

use std::io::BufRead;
use std::process::ExitCode;
use std::time::Duration;

use actix::prelude::*;
use actix_engineio::{
    Close, ConnectError, Disconnect, Payload, Send as SendMessage, Session, Upgrade,
};
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};
use serde_json::json;

/// A command-line Engine.IO v4 client.
#[derive(Parser, Debug)]
#[command(name = "eio")]
struct Args {
    /// Server URL (http, https, ws or wss).
    url: String,
    /// Transports in order, comma-separated: polling, websocket, or polling,websocket.
    #[arg(long, default_value = "polling,websocket")]
    transports: String,
    /// Do not upgrade a polling session to websocket.
    #[arg(long)]
    no_upgrade: bool,
    /// Engine.IO path (default /engine.io/).
    #[arg(long)]
    path: Option<String>,
    /// Extra header, 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", action = ArgAction::Append)]
    headers: Vec<String>,
    /// Extra query parameter, key=value (repeatable).
    #[arg(short = 'q', long = "query", action = ArgAction::Append)]
    query: Vec<String>,
    /// Text message to send once connected (repeatable, sent in order).
    #[arg(long = "send", action = ArgAction::Append)]
    send: Vec<String>,
    /// Binary message to send once connected, as hex (repeatable, sent in order).
    #[arg(long = "send-binary", action = ArgAction::Append)]
    send_binary: Vec<String>,
    /// Send each line of standard input as a text message; end of input closes.
    #[arg(long)]
    stdin: bool,
    /// Close after this many messages were received.
    #[arg(long)]
    count: Option<u64>,
    /// Close after this many seconds.
    #[arg(long)]
    timeout: Option<f64>,
    /// Print one JSON object per event.
    #[arg(long)]
    json: bool,
    /// Accept any TLS certificate (insecure).
    #[arg(long)]
    insecure: bool,
    /// Trust the CA certificate(s) in this PEM file.
    #[arg(long)]
    ca_file: Option<String>,
}

/// Prints events and closes the session after `--count` messages.
struct Printer {
    json: bool,
    remaining: Option<u64>,
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
        if self.remaining == Some(0) {
            session.do_send(Close);
        }
        self.session = Some(session);
    }
}

impl Printer {
    fn print(&self, value: serde_json::Value, human: String) {
        if self.json {
            println!("{value}");
        } else {
            println!("{human}");
        }
    }
}

impl Handler<actix_engineio::Connect> for Printer {
    type Result = ();

    fn handle(&mut self, event: actix_engineio::Connect, _: &mut Context<Self>) {
        self.print(
            json!({"event": "connect", "sid": event.sid, "transport": event.transport.as_str()}),
            format!("connected: sid {} over {}", event.sid, event.transport),
        );
    }
}

impl Handler<actix_engineio::Message> for Printer {
    type Result = ();

    fn handle(&mut self, event: actix_engineio::Message, _: &mut Context<Self>) {
        match &event.0 {
            Payload::Text(text) => self.print(
                json!({"event": "message", "text": &**text}),
                format!("< {text}"),
            ),
            Payload::Binary(data) => self.print(
                json!({"event": "message", "binary": hex_encode(data)}),
                format!("< binary {}", hex_encode(data)),
            ),
        }
        if let Some(remaining) = self.remaining.as_mut() {
            *remaining = remaining.saturating_sub(1);
            if *remaining == 0 {
                if let Some(session) = &self.session {
                    session.do_send(Close);
                }
            }
        }
    }
}

impl Handler<Upgrade> for Printer {
    type Result = ();

    fn handle(&mut self, event: Upgrade, _: &mut Context<Self>) {
        match event {
            Upgrade::Completed(transport) => self.print(
                json!({"event": "upgrade", "transport": transport.as_str()}),
                format!("upgraded to {transport}"),
            ),
            Upgrade::Failed(error) => self.print(
                json!({"event": "upgrade_error", "error": error.to_string()}),
                format!("upgrade failed: {error}"),
            ),
        }
    }
}

impl Handler<Disconnect> for Printer {
    type Result = ();

    fn handle(&mut self, Disconnect(reason): Disconnect, _: &mut Context<Self>) {
        let detail = reason.detail();
        let human = match &detail {
            Some(detail) => format!("disconnected: {reason} ({detail})"),
            None => format!("disconnected: {reason}"),
        };
        self.print(
            json!({"event": "disconnect", "reason": reason.to_string(), "detail": detail}),
            human,
        );
        System::current().stop();
    }
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let (args, outgoing) = match parse_args() {
        Ok(parsed) => parsed,
        Err(error) => {
            eprintln!("eio: {error}");
            return ExitCode::from(2);
        }
    };
    let system = System::new();
    let code = system.block_on(run(args, outgoing));
    if code != ExitCode::SUCCESS {
        return code;
    }
    match system.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("eio: {error}");
            ExitCode::from(1)
        }
    }
}

/// Parses the arguments, keeping `--send` and `--send-binary` in command-line order.
fn parse_args() -> Result<(Args, Vec<Payload>), String> {
    let matches = Args::command().get_matches();
    let args = Args::from_arg_matches(&matches).map_err(|e| e.to_string())?;
    let mut outgoing: Vec<(usize, Payload)> = Vec::new();
    if let Some(indices) = matches.indices_of("send") {
        outgoing.extend(
            indices
                .zip(&args.send)
                .map(|(i, t)| (i, Payload::from(t.as_str()))),
        );
    }
    if let Some(indices) = matches.indices_of("send_binary") {
        for (i, hex) in indices.zip(&args.send_binary) {
            let data =
                hex_decode(hex).ok_or_else(|| format!("--send-binary {hex:?} is not hex"))?;
            outgoing.push((i, Payload::from(data)));
        }
    }
    outgoing.sort_by_key(|(i, _)| *i);
    if let Some(t) = args.timeout {
        if Duration::try_from_secs_f64(t).is_err() {
            return Err(format!("--timeout {t} is not a number of seconds"));
        }
    }
    Ok((args, outgoing.into_iter().map(|(_, p)| p).collect()))
}

/// Connects, sends the queued messages and arranges how the session ends.
async fn run(args: Args, outgoing: Vec<Payload>) -> ExitCode {
    let printer = Printer {
        json: args.json,
        remaining: args.count,
        session: None,
    }
    .start();
    let mut builder = Session::builder(&args.url)
        .transports(args.transports.split(','))
        .upgrade(!args.no_upgrade)
        .ssl_verify(!args.insecure)
        .on_connect(printer.clone().recipient())
        .on_message(printer.clone().recipient())
        .on_upgrade(printer.clone().recipient())
        .on_disconnect(printer.clone().recipient());
    if let Some(path) = &args.path {
        builder = builder.path(path);
    }
    if let Some(ca_file) = &args.ca_file {
        builder = builder.ca_file(ca_file);
    }
    for header in &args.headers {
        let Some((name, value)) = header.split_once(':') else {
            eprintln!("eio: header {header:?} is not 'Name: value'");
            return ExitCode::from(2);
        };
        builder = builder.header(name.trim(), value.trim());
    }
    for pair in &args.query {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        builder = builder.query(key, value);
    }
    let session = match builder.connect().await {
        Ok(session) => session,
        Err(ConnectError::Config(error)) => {
            eprintln!("eio: {error}");
            return ExitCode::from(2);
        }
        Err(error) => {
            eprintln!("eio: cannot connect to {}: {error}", args.url);
            return ExitCode::from(1);
        }
    };
    printer.do_send(Attach(session.clone()));
    for payload in outgoing {
        if let Ok(Err(error)) = session.send(SendMessage(payload)).await {
            eprintln!("eio: not sent: {error}");
        }
    }
    if let Some(seconds) = args.timeout {
        let session = session.clone();
        actix_rt::spawn(async move {
            actix_rt::time::sleep(Duration::from_secs_f64(seconds)).await;
            session.do_send(Close);
        });
    }
    if args.stdin {
        forward_stdin(session);
    }
    ExitCode::SUCCESS
}

/// Sends each line of standard input as a text message, then closes the session.
fn forward_stdin(session: Addr<Session>) {
    let (lines, mut received) = futures::channel::mpsc::unbounded::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines.unbounded_send(line).is_err() {
                break;
            }
        }
    });
    actix_rt::spawn(async move {
        use futures::StreamExt;
        while let Some(line) = received.next().await {
            match session.send(SendMessage::text(line)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => eprintln!("eio: not sent: {error}"),
                Err(_) => return,
            }
        }
        session.do_send(Close);
    });
}

fn hex_encode(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(hex: &str) -> Option<Vec<u8>> {
    let hex = hex.trim();
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}
