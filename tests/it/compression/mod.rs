//! permessage-deflate (RFC 7692) on websockets, against real servers: Node `engine.io`
//! with `perMessageDeflate` on, stock python-engineio on aiohttp (which accepts the
//! extension by default), engineioxide (which never does), over `ws://` and `wss://`,
//! websocket-only and after an upgrade from polling, and through an HTTP proxy's `CONNECT`
//! tunnel. Each session goes through a
//! [`FaultProxy`] that records the wire: the server's `101` answer says whether it
//! accepted the extension, and the bytes the client wrote say whether what it sent was
//! compressed. Hostile compressed frames are in `hardening::compressed_frames`.

mod peers;

use actix_engineio::Payload;

use crate::support::fault_proxy::{Chunk, FaultProxy};
use crate::support::peers::Peer;

/// The `Sec-WebSocket-Extensions` of every `101` response the proxy carried, in order
/// (empty for a `101` without the header).
fn extensions_answered(proxy: &FaultProxy) -> Vec<String> {
    extensions_in(&proxy.recorded())
}

fn extensions_in(chunks: &[Chunk]) -> Vec<String> {
    let mut down: std::collections::BTreeMap<u64, Vec<u8>> = Default::default();
    for chunk in chunks.iter().filter(|c| !c.up) {
        down.entry(chunk.conn)
            .or_default()
            .extend_from_slice(&chunk.bytes);
    }
    // A websocket may go on a connection that carried polling requests before.
    let mut answers = Vec::new();
    for bytes in down.values() {
        let mut rest = &bytes[..];
        while let Some(at) = rest.windows(13).position(|w| w == b"HTTP/1.1 101 ") {
            rest = &rest[at..];
            let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") else {
                break;
            };
            let head = String::from_utf8_lossy(&rest[..end]);
            let value = head
                .lines()
                .filter_map(|line| line.split_once(':'))
                .filter(|(name, _)| name.trim().eq_ignore_ascii_case("sec-websocket-extensions"))
                .map(|(_, value)| value.trim().to_owned())
                .collect::<Vec<_>>()
                .join(", ");
            answers.push(value);
            rest = &rest[end..];
        }
    }
    answers
}

/// The `Sec-WebSocket-Extensions` of every websocket request the peer logged.
fn extensions_offered(peer: &Peer) -> Vec<String> {
    peer.requests()
        .iter()
        .filter(|r| r.is_websocket())
        .map(|r| {
            r.header("sec-websocket-extensions")
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

/// About `len` bytes of chat-like JSON, one object per line: the text python-engineio
/// would not re-encode (several JSON values do not parse as one).
fn json_lines(len: usize) -> String {
    let mut text = String::with_capacity(len + 100);
    let mut i = 0u64;
    while text.len() < len {
        let line = format!(
            "{{\"id\":{i},\"user\":\"user{}\",\"room\":\"lobby\",\"text\":\"message {} of the chat, {}\"}}\n",
            i % 13,
            i,
            ["hello", "how are you", "fine, thanks", "see you"][(i % 4) as usize]
        );
        text.push_str(&line);
        i += 1;
    }
    text.truncate(len);
    text
}

/// Binary data with every byte value, `len` bytes.
fn every_byte(len: usize) -> Payload {
    Payload::from((0..len).map(|i| (i % 256) as u8).collect::<Vec<u8>>())
}

#[test]
fn the_answer_of_a_101_is_found_on_the_wire() {
    let chunk = |conn, up, text: &str| Chunk {
        conn,
        up,
        bytes: text.as_bytes().to_vec(),
    };
    let chunks = [
        chunk(0, false, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
        chunk(
            1,
            true,
            "GET / HTTP/1.1\r\nsec-websocket-extensions: permessage-deflate\r\n\r\n",
        ),
        chunk(
            1,
            false,
            "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-",
        ),
        chunk(1, false, "Extensions: permessage-deflate\r\n\r\n\u{1}"),
        chunk(
            2,
            false,
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 101 S",
        ),
        chunk(2, false, "witching Protocols\r\nupgrade: websocket\r\n\r\n"),
    ];
    assert_eq!(extensions_in(&chunks), ["permessage-deflate", ""]);
}
