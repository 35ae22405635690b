//! What `eio` prints for each event: a line for people, or a JSON object.

use std::io::Write;
use std::sync::{Condvar, Mutex, Once};

use actix_engineio::{Event, Payload, Upgrade};
use futures::SinkExt;
use serde_json::json;

use crate::args::hex_encode;

/// Prints `event`, as JSON with `--json`: one line, written to stdout by the writer
/// thread (see [`Out`]). Every event but a message is flushed before this returns, so a
/// `connect` or `disconnect` line is out before whatever follows it (also a SIGINT).
pub fn print(event: &Event, as_json: bool) {
    let mut line = match event {
        // The hot path: no `json!` map, no string that is not printed.
        Event::Message(Payload::Text(text)) if as_json => {
            let text = serde_json::to_string(&**text).unwrap_or_default();
            format!("{{\"event\":\"message\",\"text\":{text}}}")
        }
        Event::Message(Payload::Text(text)) => format!("< {text}"),
        _ => {
            let (value, human) = describe(event);
            if as_json {
                value.to_string()
            } else {
                human
            }
        }
    };
    line.push('\n');
    OUT.push(line.as_bytes());
    if !matches!(event, Event::Message(_)) {
        flush();
    }
}

/// Writes out everything printed so far, from the calling thread; call it before the
/// process ends.
pub fn flush() {
    OUT.write_pending();
}

/// What is printed and not yet written, and the thread that writes it: printing one
/// line per event costs a `write` per line when stdout is flushed at each, which is what
/// held `eio --stdin` back. Lines printed while the writer is busy go out together in
/// its next `write`: a batch, flushed as soon as the writer is free, so a lone line is not
/// held back either. The buffer is bounded: a printer waits while it is over
/// [`OUT_LIMIT`] (stdout slower than the session).
struct Out {
    pending: Mutex<Vec<u8>>,
    /// Signalled when `pending` gets bytes (the writer waits) or is emptied (printers wait).
    changed: Condvar,
    /// Held while a batch is taken and written, so batches go out in the order taken.
    stdout: Mutex<()>,
}

const OUT_LIMIT: usize = 1 << 20;

static OUT: Out = Out {
    pending: Mutex::new(Vec::new()),
    changed: Condvar::new(),
    stdout: Mutex::new(()),
};

static WRITER: Once = Once::new();

impl Out {
    fn push(&'static self, line: &[u8]) {
        WRITER.call_once(|| {
            std::thread::spawn(|| self.write_forever());
        });
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        while pending.len() > OUT_LIMIT {
            pending = self
                .changed
                .wait(pending)
                .unwrap_or_else(|e| e.into_inner());
        }
        let was_empty = pending.is_empty();
        pending.extend_from_slice(line);
        if was_empty {
            // The writer sleeps only on an empty buffer.
            self.changed.notify_all();
        }
    }

    fn write_forever(&self) {
        loop {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            while pending.is_empty() {
                pending = self
                    .changed
                    .wait(pending)
                    .unwrap_or_else(|e| e.into_inner());
            }
            drop(pending);
            self.write_pending();
        }
    }

    /// Takes what is pending and writes it out, flushed.
    fn write_pending(&self) {
        let _turn = self.stdout.lock().unwrap_or_else(|e| e.into_inner());
        let batch = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let batch = std::mem::take(&mut *pending);
            self.changed.notify_all();
            batch
        };
        if batch.is_empty() {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        // As `println!` would, but a closed stdout is not worth a panic here.
        let _ = stdout.write_all(&batch).and_then(|()| stdout.flush());
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

/// Standard input's lines, read on a thread of its own in batches: the lines already
/// read when one is taken go together, so the channel costs one hand-over per batch,
/// not per line. The channel is bounded (the thread waits while it is full) and ends
/// with the input.
pub fn stdin_lines() -> futures::channel::mpsc::Receiver<Vec<String>> {
    use std::io::BufRead;
    let (mut batches, received) = futures::channel::mpsc::channel(4);
    std::thread::spawn(move || {
        let mut input = std::io::BufReader::with_capacity(1 << 16, std::io::stdin().lock());
        let mut batch = Vec::new();
        loop {
            let mut line = String::new();
            match input.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    // As `lines()`: without its "\n" or "\r\n".
                    if line.ends_with('\n') {
                        line.pop();
                        if line.ends_with('\r') {
                            line.pop();
                        }
                    }
                    batch.push(line);
                }
            }
            // Hand over once what was read is used up (or the batch is big), so a
            // line typed alone goes at once.
            if input.buffer().is_empty() || batch.len() >= 1024 {
                let full = std::mem::take(&mut batch);
                if futures::executor::block_on(batches.send(full)).is_err() {
                    return;
                }
            }
        }
        if !batch.is_empty() {
            let _ = futures::executor::block_on(batches.send(batch));
        }
    });
    received
}
