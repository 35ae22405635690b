//! Hostile and broken servers, end to end: real sessions over real sockets against
//! scripted servers that do what real servers never do on demand (the defects fixed in
//! commit a9b31af, whose unit tests check the parts alone):
//!
//! * [`fragments`]: an open packet split over websocket fragments opens the session, and
//!   a message fragmented later arrives whole (docs/protocol.md section 5);
//! * [`frame_size`]: a websocket frame announcing more than `max_frame_size` ends the
//!   session from its header, at once and without holding the payload in memory;
//! * [`cut_bodies`]: a poll response cut short (before its `Content-Length`, or a
//!   compressed chunked one) ends the session and delivers nothing of what it held
//!   (section 4);
//! * [`arbiter`]: decompressing a large poll response does not stall the heartbeat of
//!   another session on the same arbiter (section 6);
//! * [`deflate`]: `Content-Encoding: deflate` decodes whether zlib-wrapped or raw, even
//!   raw deflate whose first byte looks like a zlib header's;
//! * [`compressed_frames`]: permessage-deflate on websockets: a deflate bomb refused
//!   past `max_frame_size` in bounded memory, an answer with what was not offered;
//! * [`child`]: the `eio` binary as a child process whose peak memory is measured.

mod arbiter;
mod child;
mod compressed_frames;
mod cut_bodies;
mod deflate;
mod fragments;
mod frame_size;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::support::scripted::{open_packet, Reply, Scripted, ScriptedRequest};

/// The header of a server frame (RFC 6455 section 5.2: servers do not mask): FIN when
/// `fin`, `opcode` (0 continuation, 1 text, 2 binary), announcing `len` payload bytes.
fn frame_header(opcode: u8, fin: bool, len: u64) -> Vec<u8> {
    let mut head = vec![if fin { 0x80 } else { 0 } | opcode];
    match len {
        0..=125 => head.push(len as u8),
        126..=0xffff => {
            head.push(126);
            head.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            head.push(127);
            head.extend_from_slice(&len.to_be_bytes());
        }
    }
    head
}

/// A polling-only server: the handshake (sid `sid`, pingInterval 25 s, pingTimeout 60 s:
/// no heartbeat ends a session during these tests), then poll number `n` (from 0)
/// answered with `poll(n)`; POSTs answered `ok`.
fn polling_server(
    sid: &'static str,
    poll: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> Scripted {
    let poll = Arc::new(poll);
    let polls = Arc::new(AtomicUsize::new(0));
    Scripted::start(move |req: ScriptedRequest| {
        let (poll, polls) = (poll.clone(), polls.clone());
        async move {
            match (req.method.as_str(), req.query("sid")) {
                ("GET", None) => Reply::text(200, open_packet(sid, &[], 25_000, 60_000)),
                ("GET", Some(_)) => poll(polls.fetch_add(1, Ordering::SeqCst)),
                _ => Reply::text(200, "ok"),
            }
        }
    })
}
