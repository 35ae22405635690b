//! Hostile permessage-deflate servers (RFC 7692): a deflate bomb (a 200 MiB message
//! compressed to a few hundred KB) is refused once it inflates past `max_frame_size`,
//! never inflated whole, in bounded memory; a server whose `101` answers with what the
//! client did not offer is refused, saying what. No real server does either on demand.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_engineio::{
    ConnectError, DisconnectReason, Session, TransportError, DEFAULT_MAX_FRAME_SIZE,
};
use flate2::{Compress, Compression, FlushCompress};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::child::{mib, run_eio_until_lost};
use super::frame_header;
use crate::support::client::{within, Client, DEADLINE};
use crate::support::scripted::{open_packet, Reply, Scripted, ScriptedRequest};

/// RSV1, set on the first frame of a compressed message.
const RSV1: u8 = 0x40;

/// How much the bomb inflates to.
const BOMB: usize = 200 << 20;

/// `data` deflated (raw, sync-flushed) by `stream`.
fn deflate(stream: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 100 + 1024);
    let start = stream.total_in();
    loop {
        let read = (stream.total_in() - start) as usize;
        stream
            .compress_vec(&data[read..], &mut out, FlushCompress::Sync)
            .unwrap();
        if stream.total_in() - start == data.len() as u64 && out.len() < out.capacity() {
            return out;
        }
        out.reserve(out.capacity());
    }
}

/// A text message of [`BOMB`] bytes of `4` (an Engine.IO message of `4`s), compressed,
/// as a frame payload: made without compressing 200 MiB, since after the first MiB
/// each further MiB of `4`s after `4`s deflates to the same bytes.
fn bomb() -> Vec<u8> {
    let mut stream = Compress::new(Compression::best(), false);
    let mib = vec![b'4'; 1 << 20];
    let mut bomb = deflate(&mut stream, &mib);
    let again = deflate(&mut stream, &mib);
    assert_eq!(
        again,
        deflate(&mut stream, &mib),
        "the bomb's pieces repeat"
    );
    for _ in 2..(BOMB >> 20) {
        bomb.extend_from_slice(&again);
    }
    bomb.extend_from_slice(&again);
    // The sync flush's end, which the receiver appends (RFC 7692 7.2.1).
    bomb.truncate(bomb.len() - 4);
    bomb
}

/// The `101` of a websocket handshake for `req`, with `extensions` as the server's
/// `Sec-WebSocket-Extensions` answer.
fn switching(req: &ScriptedRequest, extensions: &str) -> Vec<u8> {
    let key = req.header("sec-websocket-key").unwrap_or_default();
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
         sec-websocket-accept: {}\r\nsec-websocket-extensions: {extensions}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    )
    .into_bytes()
}

/// An unmasked text frame of `payload`, RSV1 set when `compressed`.
fn text_frame(payload: &[u8], compressed: bool) -> Vec<u8> {
    let mut frame = frame_header(1, true, payload.len() as u64);
    if compressed {
        frame[0] |= RSV1;
    }
    frame.extend_from_slice(payload);
    frame
}

/// A websocket-only server that accepts permessage-deflate, sends the open packet
/// (plain: a server may leave any message uncompressed), then the bomb, then nothing,
/// once; the client's reconnection gets no answer.
fn bombing_server() -> (Scripted, usize) {
    let payload = Arc::new(bomb());
    let size = payload.len();
    let sent = Arc::new(AtomicBool::new(false));
    let server = Scripted::start(move |req: ScriptedRequest| {
        let (payload, sent) = (payload.clone(), sent.clone());
        async move {
            if !req.is_websocket() {
                return Reply::text(404, "");
            }
            if sent.swap(true, Ordering::SeqCst) {
                return Reply::Hang;
            }
            let mut wire = switching(&req, "permessage-deflate");
            // pingInterval 25 s + pingTimeout 60 s: only the refusal can end it soon.
            wire.extend(text_frame(
                open_packet("bomb", &[], 25_000, 60_000).as_bytes(),
                false,
            ));
            wire.extend(text_frame(&payload, true));
            Reply::Raw(wire)
        }
    });
    (server, size)
}

/// Above the limit (64 MiB by default), what the `eio` process's peak may take: its
/// own 15 MiB (see `frame_size`), the compressed frame in the read buffer, and room
/// for a noisy machine; far below the 200 MiB that inflating the whole message first
/// would take.
const MARGIN: u64 = 40 << 20;

/// The bomb against the `eio` binary (`max_frame_size` at its default, 64 MiB): the
/// session ends with `FrameTooLarge`, having delivered nothing, and the process's peak
/// memory stays below the limit plus [`MARGIN`].
#[test]
fn a_deflate_bomb_is_refused_past_the_frame_limit_in_bounded_memory() {
    let label = "[eio child, a 200 MiB message compressed]";
    let (server, size) = bombing_server();
    let run = run_eio_until_lost(&["--transports", "websocket", &server.url()], DEADLINE * 3);
    let context = format!("{label}: events {:?}\nstderr: {}", run.events, run.stderr);
    assert_eq!(run.events_named("connect").len(), 1, "{context}");
    assert!(run.events_named("message").is_empty(), "{context}");
    let ends = run.events_named("disconnect");
    let expected = DisconnectReason::TransportError(TransportError::FrameTooLarge {
        limit: DEFAULT_MAX_FRAME_SIZE,
    });
    assert_eq!(ends.len(), 1, "{context}");
    assert_eq!(ends[0]["reason"], expected.to_string(), "{context}");
    let limit = DEFAULT_MAX_FRAME_SIZE as u64;
    eprintln!(
        "{label}: {size} bytes compressed; peak RSS {:.1} MiB (limit {} MiB); lost after {:?}",
        mib(run.peak_rss),
        limit >> 20,
        run.elapsed
    );
    assert!(
        run.peak_rss < limit + MARGIN,
        "{label}: peak RSS {:.1} MiB, over {} MiB",
        mib(run.peak_rss),
        (limit + MARGIN) >> 20
    );
}

/// The same bomb against a session with `max_frame_size(1 MiB)`: `FrameTooLarge`
/// naming that limit.
#[actix_rt::test]
async fn a_deflate_bomb_ends_the_session_with_frame_too_large() {
    let (server, _) = bombing_server();
    let limit = 1 << 20;
    let builder = Session::builder(server.url())
        .transports(["websocket"])
        .max_frame_size(limit);
    let client = Client::connect("[scripted deflate bomb, limit 1 MiB]", builder).await;
    let reason = client.events.disconnect_within(DEADLINE).await;
    assert_eq!(
        reason,
        DisconnectReason::TransportError(TransportError::FrameTooLarge { limit })
    );
    assert!(client.events.received().is_empty());
}

/// A server whose `101` accepts what was not offered: `client_max_window_bits` (not
/// offered: this client compresses with a 32 KiB window only), an unknown parameter, an
/// unknown extension, permessage-deflate when the client turned it off. `connect()`
/// fails with a websocket error that says what the server answered.
#[actix_rt::test]
async fn an_answer_with_what_was_not_offered_is_refused_clearly() {
    let cases = [
        (
            "permessage-deflate; client_max_window_bits=10",
            true,
            "client_max_window_bits",
        ),
        (
            "permessage-deflate; server_max_window_bits=16",
            true,
            "server_max_window_bits=16",
        ),
        ("permessage-deflate; secret_sauce", true, "secret_sauce"),
        ("x-webkit-deflate-frame", true, "x-webkit-deflate-frame"),
        ("permessage-deflate", false, "not offered"),
    ];
    for (answer, offer, named) in cases {
        let label = format!("[scripted 101 answering {answer:?}, offered: {offer}]");
        let server = Scripted::start(move |req: ScriptedRequest| async move {
            if !req.is_websocket() {
                return Reply::text(404, "");
            }
            let mut wire = switching(&req, answer);
            wire.extend(text_frame(
                open_packet("x", &[], 25_000, 20_000).as_bytes(),
                false,
            ));
            Reply::Raw(wire)
        });
        let connect = Session::builder(server.url())
            .transports(["websocket"])
            .per_message_deflate(offer)
            .request_timeout(Duration::from_secs(30))
            .connect();
        match within(format!("{label} connect()"), DEADLINE, connect).await {
            Err(ConnectError::Transport(TransportError::WebSocket(message))) => {
                assert!(message.contains(named), "{label}: {message}");
                eprintln!("{label}: {message}");
            }
            Err(other) => panic!("{label}: connect() failed with {other:?}"),
            Ok(_) => panic!("{label}: connect() succeeded"),
        }
    }
}
