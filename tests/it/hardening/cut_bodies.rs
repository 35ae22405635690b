//! A poll response cut short (docs/protocol.md section 4): the server announces a body,
//! sends part of it, complete-looking packets included, and closes the connection. What
//! arrived must not pass for the whole response: the session ends with a transport error
//! and nothing of that body reaches the application.
//!
//! awc ends a body at the end of the connection exactly as at its announced end, without
//! an error: its payload stream (`PlStream::poll_next`, awc 3.11 src/client/h1proto.rs
//! line 265) turns the `None` of the framed reader into `Poll::Ready(None)`, and
//! actix-codec's `Framed::next_item` (0.5.4 src/framed.rs line 193) reports an error at
//! the end of the input only when the decoder left bytes unconsumed in its buffer
//! (`decode_eof`: "bytes remaining on stream"). So the client compares the body with its
//! `Content-Length` itself.
//!
//! Not tested, because it is not detected: a chunked body without compression cut short,
//! at a chunk boundary or inside a chunk. At a boundary, what arrived is a well-formed
//! prefix of a chunked body. Inside a chunk, actix-http's chunked decoder
//! (`ChunkedState::read_body`, actix-http 3.20 src/h1/chunked.rs) hands on each part of
//! the chunk as it arrives, so nothing is left in the buffer there either, and awc ends
//! the body as above, with no length to compare it with. (Tried: a chunk announcing 1000
//! bytes, cut after `4first\x1e4second\x1e4thi`, delivers `first`, `second` and `thi`, and
//! the session goes on.) A compressed chunked body cut short is caught by the
//! decompressor, whose stream has an end of its own: see the last test.

use std::io::{Read, Write};

use actix_engineio::{DisconnectReason, Payload, Session, TransportError};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use super::polling_server;
use crate::support::client::Client;
use crate::support::scripted::Reply;

/// Part of a payload: two whole-looking text messages and the start of a third.
const PART: &str = "4first\x1e4second\x1e4thi";

/// A polling session whose first poll is answered with `cut` (a response head and part of
/// its body), after which the server closes the connection; later polls are left hanging,
/// so that only the cut response can end the session. It must end with `ConnectionLost`,
/// no message delivered.
async fn expect_lost(label: &str, cut: Vec<u8>) {
    let server = polling_server("cut", move |n| match n {
        0 => Reply::Cut(cut.clone()),
        _ => Reply::Hang,
    });
    let client = Client::connect(
        label,
        Session::builder(server.url()).transports(["polling"]),
    )
    .await;
    let reason = client.events.disconnect().await;
    assert!(
        matches!(
            &reason,
            DisconnectReason::TransportError(TransportError::ConnectionLost(_))
        ),
        "{label}: ended with {reason:?}, not ConnectionLost"
    );
    let delivered: Vec<Payload> = client.events.received();
    assert!(
        delivered.is_empty(),
        "{label}: messages of the cut body were delivered: {delivered:?}"
    );
    eprintln!("{label}: {reason:?}");
}

/// `Content-Length: 1000`, then 19 bytes (two messages and part of a third) and the end
/// of the connection.
#[actix_rt::test]
async fn a_body_shorter_than_its_content_length_delivers_nothing() {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=UTF-8\r\n\
                content-length: 1000\r\n\r\n";
    let label = format!("[scripted, content-length 1000, {} bytes sent]", PART.len());
    expect_lost(&label, format!("{head}{PART}").into_bytes()).await;
}

/// A gzip body sent as one chunk, cut in its middle: the chunk's size line announces the
/// whole body, half of it is sent, and the connection ends. The half inflates to whole
/// messages, but the deflate stream is incomplete: `ConnectionLost`, nothing delivered.
#[actix_rt::test]
async fn a_gzip_chunked_body_cut_mid_chunk_delivers_nothing() {
    let payload = (0..200)
        .map(|i| format!("4message {i}"))
        .collect::<Vec<_>>()
        .join("\x1e");
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(payload.as_bytes()).unwrap();
    let gzip = encoder.finish().unwrap();
    let half = &gzip[..gzip.len() / 2];
    // What the test says: the half inflates to whole messages, then fails.
    let mut inflated = Vec::new();
    assert!(GzDecoder::new(half).read_to_end(&mut inflated).is_err());
    assert!(
        inflated.iter().filter(|&&b| b == 0x1e).count() >= 2,
        "the half inflates to {} bytes only",
        inflated.len()
    );
    let mut cut = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=UTF-8\r\n\
         content-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n",
        gzip.len()
    )
    .into_bytes();
    cut.extend_from_slice(half);
    let label = format!(
        "[scripted, chunked gzip body, {} of {} bytes sent]",
        half.len(),
        gzip.len()
    );
    expect_lost(&label, cut).await;
}
