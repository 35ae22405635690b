//! What `eio` prints for each event: a line for people, or a JSON object.

use actix_engineio::{Event, Payload, Upgrade};
use serde_json::json;

use crate::args::hex_encode;

/// Prints `event`, as JSON with `--json`.
pub fn print(event: &Event, as_json: bool) {
    let (value, human) = describe(event);
    if as_json {
        println!("{value}");
    } else {
        println!("{human}");
    }
}

fn describe(event: &Event) -> (serde_json::Value, String) {
    match event {
        Event::Connect(connect) => (
            json!({"event": "connect", "sid": connect.sid, "transport": connect.transport.as_str()}),
            format!("connected: sid {} over {}", connect.sid, connect.transport),
        ),
        Event::Message(Payload::Text(text)) => (
            json!({"event": "message", "text": &**text}),
            format!("< {text}"),
        ),
        Event::Message(Payload::Binary(data)) => (
            json!({"event": "message", "binary": hex_encode(data)}),
            format!("< binary {}", hex_encode(data)),
        ),
        Event::Upgrade(Upgrade::Completed(transport)) => (
            json!({"event": "upgrade", "transport": transport.as_str()}),
            format!("upgraded to {transport}"),
        ),
        Event::Upgrade(Upgrade::Failed(error)) => (
            json!({"event": "upgrade_error", "error": error.to_string()}),
            format!("upgrade failed: {error}"),
        ),
        Event::Reconnecting(next) => (
            json!({"event": "reconnecting", "attempt": next.attempt, "delay_ms": next.delay.as_millis() as u64}),
            format!(
                "reconnecting in {:?} (attempt {})",
                next.delay, next.attempt
            ),
        ),
        Event::Undelivered(lost) => (
            json!({"event": "undelivered", "count": lost.len()}),
            format!("{} messages were not sent", lost.len()),
        ),
        Event::Disconnect(reason) => {
            let detail = reason.detail();
            let human = match &detail {
                Some(detail) => format!("disconnected: {reason} ({detail})"),
                None => format!("disconnected: {reason}"),
            };
            let value =
                json!({"event": "disconnect", "reason": reason.to_string(), "detail": detail});
            (value, human)
        }
        // Events added in later versions print as their debug form.
        other => (
            json!({"event": "other", "debug": format!("{other:?}")}),
            format!("{other:?}"),
        ),
    }
}

/// Counts received messages down to the `--count` limit.
pub struct Countdown(Option<u64>);

impl Countdown {
    pub fn new(count: Option<u64>) -> Self {
        Countdown(count)
    }

    /// Whether the limit is reached already (`--count 0`).
    pub fn done(&self) -> bool {
        self.0 == Some(0)
    }

    /// Counts one message; true when it was the last one wanted.
    pub fn received(&mut self) -> bool {
        match self.0.as_mut() {
            Some(remaining) if *remaining > 0 => {
                *remaining -= 1;
                *remaining == 0
            }
            _ => false,
        }
    }
}

/// Each line of standard input, from a thread of its own; the channel ends with it.
pub fn stdin_lines() -> futures::channel::mpsc::UnboundedReceiver<String> {
    use std::io::BufRead;
    let (lines, received) = futures::channel::mpsc::unbounded();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines.unbounded_send(line).is_err() {
                break;
            }
        }
    });
    received
}
