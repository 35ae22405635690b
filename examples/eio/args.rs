//! The command line, and the settings it makes on any of the crate's builders.

use std::time::Duration;

use actix_engineio::builder::Builder;
use actix_engineio::{Payload, ProtocolVersion, ReconnectPolicy};
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser, ValueEnum};

/// Which of the crate's APIs drives the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Api {
    /// The `Session` actor, under an actix `System`.
    Actor,
    /// `AsyncClient`, under a Tokio runtime.
    Async,
    /// The blocking `Client`, from plain threads.
    Blocking,
}

/// A command-line Engine.IO client (protocol v4, or v3 with `--eio 3`).
#[derive(Parser, Debug, Clone)]
#[command(name = "eio")]
pub struct Args {
    /// Server URL (http, https, ws or wss).
    pub url: String,
    /// The API that drives the session.
    #[arg(long, value_enum, default_value = "actor")]
    pub api: Api,
    /// Transports in order, comma-separated: polling, websocket, or polling,websocket.
    #[arg(long, default_value = "polling,websocket")]
    transports: String,
    /// Engine.IO protocol version: 4, or 3 for Socket.IO 1.x and 2.x servers.
    #[arg(long, default_value = "4", value_parser = parse_version)]
    eio: ProtocolVersion,
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
    pub stdin: bool,
    /// Close after this many messages were received.
    #[arg(long)]
    pub count: Option<u64>,
    /// Close after this many seconds.
    #[arg(long)]
    timeout: Option<f64>,
    /// Print one JSON object per event.
    #[arg(long)]
    pub json: bool,
    /// Accept any TLS certificate (insecure).
    #[arg(long)]
    insecure: bool,
    /// Trust the CA certificate(s) in this PEM file.
    #[arg(long)]
    ca_file: Option<String>,
    /// Client certificate chain (PEM file) for servers that require one (mutual TLS);
    /// goes with --client-key.
    #[arg(long, requires = "client_key")]
    client_cert: Option<String>,
    /// The private key (PEM file) of --client-cert.
    #[arg(long, requires = "client_cert")]
    client_key: Option<String>,
    /// Header for the polling requests only, 'Name: value' (repeatable).
    #[arg(long = "polling-header", action = ArgAction::Append)]
    polling_headers: Vec<String>,
    /// Header for the websocket handshake only, 'Name: value' (repeatable).
    #[arg(long = "websocket-header", action = ArgAction::Append)]
    websocket_headers: Vec<String>,
    /// Websocket subprotocols to offer, comma-separated, in order of preference.
    #[arg(long)]
    websocket_protocols: Option<String>,
    /// Name of the cache-buster query parameter (default t).
    #[arg(long)]
    timestamp_param: Option<String>,
    /// Request the engine.io path without its trailing slash (/engine.io?EIO=4...).
    #[arg(long)]
    no_trailing_slash: bool,
    /// When the first transport cannot open, try the next ones before failing.
    #[arg(long)]
    try_all_transports: bool,
    /// Once a websocket worked, open the next session (a reconnection) over websocket.
    #[arg(long)]
    remember_upgrade: bool,
    /// Do not offer websocket compression (permessage-deflate) to the server.
    #[arg(long)]
    no_compression: bool,
    /// Go through this HTTP proxy, http://[user:password@]host:port (default: the
    /// environment's HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY, as curl reads them).
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    proxy: Option<String>,
    /// Go through no proxy, whatever the environment says.
    #[arg(long)]
    no_proxy: bool,
    /// Reopen the session when it is lost (python-socketio's defaults: 1 s doubling
    /// to 5 s, randomized by half, no limit).
    #[arg(long)]
    reconnect: bool,
    /// The messages of `--send` and `--send-binary`, in command-line order.
    #[arg(skip)]
    pub outgoing: Vec<Payload>,
}

impl Args {
    /// Parses the command line, keeping `--send` and `--send-binary` in order.
    pub fn parse() -> Result<Args, String> {
        let matches = Args::command().get_matches();
        let mut args = Args::from_arg_matches(&matches).map_err(|e| e.to_string())?;
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
        args.outgoing = outgoing.into_iter().map(|(_, p)| p).collect();
        if let Some(t) = args.timeout {
            Duration::try_from_secs_f64(t)
                .map_err(|_| format!("--timeout {t} is not a number of seconds"))?;
        }
        Ok(args)
    }

    /// How long the session may last, if limited.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
            .and_then(|t| Duration::try_from_secs_f64(t).ok())
    }

    /// The settings of the command line, on any builder.
    pub fn configure<A>(&self, mut builder: Builder<A>) -> Result<Builder<A>, String> {
        builder = builder
            .transports(self.transports.split(','))
            .upgrade(!self.no_upgrade)
            .protocol(self.eio)
            .ssl_verify(!self.insecure);
        if let Some(path) = &self.path {
            builder = builder.path(path);
        }
        if let Some(ca_file) = &self.ca_file {
            builder = builder.ca_file(ca_file);
        }
        if let (Some(cert), Some(key)) = (&self.client_cert, &self.client_key) {
            builder = builder.client_certificate_files(cert, key);
        }
        if let Some(name) = &self.timestamp_param {
            builder = builder.timestamp_param(name);
        }
        if let Some(protocols) = &self.websocket_protocols {
            builder = builder.websocket_protocols(protocols.split(',').map(str::trim));
        }
        builder = builder
            .add_trailing_slash(!self.no_trailing_slash)
            .try_all_transports(self.try_all_transports)
            .remember_upgrade(self.remember_upgrade)
            .per_message_deflate(!self.no_compression);
        if let Some(proxy) = &self.proxy {
            builder = builder.proxy(proxy);
        }
        if self.no_proxy {
            builder = builder.no_proxy();
        }
        if self.reconnect {
            builder = builder.reconnect(ReconnectPolicy::default());
        }
        for header in &self.headers {
            let (name, value) = split_header(header)?;
            builder = builder.header(name, value);
        }
        for header in &self.polling_headers {
            let (name, value) = split_header(header)?;
            builder = builder.polling_header(name, value);
        }
        for header in &self.websocket_headers {
            let (name, value) = split_header(header)?;
            builder = builder.websocket_header(name, value);
        }
        for pair in &self.query {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            builder = builder.query(key, value);
        }
        Ok(builder)
    }
}

/// `Name: value`, as `-H`, `--polling-header` and `--websocket-header` take it.
fn split_header(header: &str) -> Result<(&str, &str), String> {
    match header.split_once(':') {
        Some((name, value)) => Ok((name.trim(), value.trim())),
        None => Err(format!("header {header:?} is not 'Name: value'")),
    }
}

/// `--eio 3` or `--eio 4`.
fn parse_version(value: &str) -> Result<ProtocolVersion, String> {
    value.parse()
}

pub fn hex_encode(data: &[u8]) -> String {
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
