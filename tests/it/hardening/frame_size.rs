//! A websocket frame larger than `max_frame_size` (64 MiB by default) is refused from its
//! header (RFC 6455 section 5.2: the length comes first), before any of its payload is read
//! or waited for: actix-http's own codec would wait for the whole frame (for ever, when the
//! header lies: up to 2^63 - 1 bytes can be announced) and keep in memory all of it that
//! arrives.
//!
//! The lying headers are written raw on the socket after the open packet, then the server
//! sends nothing more and keeps the connection open; the heartbeat is made slow
//! (pingInterval 25 s + pingTimeout 60 s) so that only the refusal can end the session
//! within [`PROMPT`]. Real 200 MiB frames run in an `eio` child process, whose peak memory
//! is its own (see [`super::child`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use actix_engineio::{
    ConnectError, DisconnectReason, Session, TransportError, DEFAULT_MAX_FRAME_SIZE,
};

use super::child::{mib, run_eio_until_lost, Measured};
use super::frame_header;
use crate::support::client::{within, Client, DEADLINE};
use crate::support::scripted::{open_packet, Reply, Scripted, ScriptedRequest, WsConn};

/// How soon a refused frame must end the session: far below the heartbeat deadline of
/// 85 s, and generous for a loaded machine.
const PROMPT: Duration = Duration::from_secs(20);

/// The open packet of these servers: pingInterval 25 s, pingTimeout 60 s.
fn slow_heartbeat_open(sid: &str) -> String {
    open_packet(sid, &[], 25_000, 60_000)
}

/// A websocket-only server that sends the open packet (unless `handshake_first` is false),
/// then `raw` as it is, then nothing, and keeps the connection until the client goes.
fn raw_after_open(raw: Vec<u8>, handshake_first: bool) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| {
        let raw = raw.clone();
        async move {
            if !req.is_websocket() {
                return Reply::text(404, "");
            }
            Reply::websocket(move |mut ws| async move {
                if handshake_first {
                    ws.send_text(&slow_heartbeat_open("huge")).await;
                }
                if ws.write_raw(&raw).await.is_ok() {
                    while ws.recv().await.is_some() {}
                }
            })
        }
    })
}

/// Binary frame headers announcing 2^32 + 5 (more than 32 bits can say), 2^40 and
/// 2^63 - 1 bytes (the most a header can announce) against the default 64 MiB limit, and
/// 1 MiB + 1 byte against `max_frame_size(1 MiB)`: each session ends within [`PROMPT`]
/// with exactly `FrameTooLarge` naming its limit, having delivered nothing.
#[actix_rt::test]
async fn a_frame_header_announcing_too_much_ends_the_session_at_once() {
    let cases = [
        (DEFAULT_MAX_FRAME_SIZE, (1u64 << 32) + 5),
        (DEFAULT_MAX_FRAME_SIZE, 1 << 40),
        (DEFAULT_MAX_FRAME_SIZE, (1 << 63) - 1),
        (1 << 20, (1 << 20) + 1),
    ];
    for (limit, announced) in cases {
        let label = format!("[scripted, header announcing {announced} bytes, limit {limit}]");
        let server = raw_after_open(frame_header(2, true, announced), true);
        let mut builder = Session::builder(server.url()).transports(["websocket"]);
        if limit != DEFAULT_MAX_FRAME_SIZE {
            builder = builder.max_frame_size(limit);
        }
        let client = Client::connect(label.clone(), builder).await;
        let connected = Instant::now();
        let reason = client.events.disconnect_within(PROMPT).await;
        let after = connected.elapsed();
        assert_eq!(
            reason,
            DisconnectReason::TransportError(TransportError::FrameTooLarge { limit }),
            "{label}: reason"
        );
        assert_eq!(
            reason.detail(),
            Some(format!("frame larger than {limit} bytes")),
            "{label}: the error names the limit"
        );
        assert!(
            client.events.received().is_empty(),
            "{label}: messages delivered: {:?}",
            client.events.received()
        );
        eprintln!("{label}: transport error {after:?} after connect()");
    }
}

/// The same lie as the first frame, where the open packet should be: `connect()` fails
/// with `FrameTooLarge` within [`PROMPT`], though its request timeout is 60 s (waiting
/// for the payload would end in `Timeout` after that).
#[actix_rt::test]
async fn a_frame_header_announcing_too_much_fails_the_handshake() {
    for announced in [(1u64 << 32) + 5, (1 << 63) - 1] {
        let label = format!("[scripted, first frame announcing {announced} bytes]");
        let server = raw_after_open(frame_header(1, true, announced), false);
        let connect = Session::builder(server.url())
            .transports(["websocket"])
            .request_timeout(Duration::from_secs(60))
            .connect();
        let started = Instant::now();
        match within(format!("{label} connect()"), PROMPT, connect).await {
            Err(ConnectError::Transport(TransportError::FrameTooLarge { limit }))
                if limit == DEFAULT_MAX_FRAME_SIZE => {}
            Err(other) => panic!("{label}: connect() failed with {other:?}"),
            Ok(_) => panic!("{label}: connect() succeeded"),
        }
        eprintln!("{label}: connect() failed after {:?}", started.elapsed());
    }
}

// ---------------------------------------------------------------------------------------
// real 200 MiB frames, peak memory measured in a child process

/// What the server sends: 200 MiB.
const SENT: u64 = 200 << 20;

/// The server writes 1 MiB at a time (one fragment each, when fragmented).
const CHUNK: usize = 1 << 20;

/// Above the limit, the peak may take: the `eio` process's own (its binary, the actix
/// and Tokio runtimes, their threads' stacks, the allocator's arenas: 15 MiB measured
/// here, in the first test below, which holds no payload), the frame being read in the
/// codec's buffer (1 MiB, the fragment size) and the allocator's slack, with room for a
/// noisier machine; and far below the 136 MiB more that holding what was sent would take
/// (before the header check, one 200 MiB frame peaked at 215 MiB).
const MARGIN: u64 = 40 << 20;

/// A write that makes no progress for this long means the client no longer reads.
const STALL: Duration = Duration::from_secs(5);

/// How the server's 200 MiB went.
#[derive(Debug)]
enum Poured {
    /// The client closed the connection (reset, broken pipe) after `written` bytes.
    Reset { written: u64, error: String },
    /// A write made no progress for [`STALL`], after `written` bytes.
    Stalled { written: u64 },
    /// All of it was written.
    Completed,
}

/// Writes 200 MiB as fast as the socket takes them: one binary frame, or 200 fragments
/// of 1 MiB (a binary frame without FIN, continuations, the last with FIN).
async fn pour(ws: &mut WsConn, fragmented: bool) -> Poured {
    let chunk = vec![0x5a; CHUNK];
    let mut written = 0u64;
    let fragments = SENT / CHUNK as u64;
    for i in 0..fragments {
        let header = match (fragmented, i) {
            (false, 0) => frame_header(2, true, SENT),
            (false, _) => Vec::new(),
            (true, 0) => frame_header(2, false, CHUNK as u64),
            (true, i) => frame_header(0, i + 1 == fragments, CHUNK as u64),
        };
        for bytes in [&header[..], &chunk[..]] {
            match tokio::time::timeout(STALL, ws.write_raw(bytes)).await {
                Ok(Ok(())) => written += bytes.len() as u64,
                Ok(Err(error)) => {
                    return Poured::Reset {
                        written,
                        error: error.to_string(),
                    }
                }
                Err(_) => return Poured::Stalled { written },
            }
        }
    }
    Poured::Completed
}

/// A websocket-only server that sends the open packet, then pours 200 MiB and reports
/// how that went on `report`. It does so once: the client's reconnection gets no answer.
fn pouring_server(fragmented: bool, report: mpsc::Sender<Poured>) -> Scripted {
    let poured = Arc::new(AtomicBool::new(false));
    Scripted::start(move |req: ScriptedRequest| {
        let (report, poured) = (report.clone(), poured.clone());
        async move {
            if !req.is_websocket() {
                return Reply::text(404, "");
            }
            if poured.swap(true, Ordering::SeqCst) {
                return Reply::Hang;
            }
            Reply::websocket(move |mut ws| async move {
                ws.send_text(&slow_heartbeat_open("pour")).await;
                let poured = pour(&mut ws, fragmented).await;
                let _ = report.send(poured);
            })
        }
    })
}

/// Runs `eio --transports websocket` (max_frame_size at its default, 64 MiB) against a
/// server pouring 200 MiB, until the session is lost; checks it connected, delivered
/// nothing and ended with `FrameTooLarge`, and that the server could not write it all.
/// Returns the run (peak memory included) and how many bytes the server wrote.
fn refused_in_child(label: &str, fragmented: bool) -> (Measured, u64) {
    let (report, poured) = mpsc::channel();
    let server = pouring_server(fragmented, report);
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
    assert_eq!(
        ends[0]["detail"],
        expected.detail().expect("a detail"),
        "{context}"
    );
    let poured = poured
        .recv_timeout(DEADLINE)
        .unwrap_or_else(|_| panic!("{label}: the server did not finish pouring"));
    let (written, outcome) = match poured {
        Poured::Reset { written, error } => {
            (written, format!("then the connection broke: {error}"))
        }
        Poured::Stalled { written } => (written, format!("then a write stalled for {STALL:?}")),
        Poured::Completed => (SENT, "all of it".to_string()),
    };
    eprintln!(
        "{label}: peak RSS {:.1} MiB; the server wrote {:.1} MiB of {} MiB, {outcome}; \
         lost after {:?}",
        mib(run.peak_rss),
        mib(written),
        SENT >> 20,
        run.elapsed
    );
    assert!(
        written < SENT,
        "{label}: the client read all {SENT} bytes; {context}"
    );
    drop(server);
    (run, written)
}

/// One real 200 MiB binary frame: refused from its header, so the peak memory of the
/// `eio` process stays below limit + [`MARGIN`], and the server, writing as fast as the
/// socket allows, cannot write even the limit's worth: only what the kernel's socket
/// buffers take (here at most 32 MiB received + 4 MiB sent, net.ipv4.tcp_rmem and
/// tcp_wmem) before the client's close resets the connection or the writes stall.
#[test]
fn a_200_mib_frame_is_refused_from_its_header_in_bounded_memory() {
    let label = "[eio child, one 200 MiB frame]";
    let (run, written) = refused_in_child(label, false);
    let limit = DEFAULT_MAX_FRAME_SIZE as u64;
    assert!(
        run.peak_rss < limit + MARGIN,
        "{label}: peak RSS {:.1} MiB, over {} MiB",
        mib(run.peak_rss),
        (limit + MARGIN) >> 20
    );
    assert!(
        written < limit,
        "{label}: the server wrote {:.1} MiB: the client read the payload",
        mib(written)
    );
}

/// A real 200 MiB message in 200 fragments of 1 MiB, each frame within the limit: the
/// message is refused once its fragments exceed 64 MiB, so the peak memory of the `eio`
/// process stays below limit + [`MARGIN`] (it held up to 64 MiB of fragments), and the
/// server cannot write all 200 MiB.
#[test]
fn a_200_mib_fragmented_message_is_refused_at_the_limit_in_bounded_memory() {
    let label = "[eio child, a 200 MiB message in 1 MiB fragments]";
    let (run, _) = refused_in_child(label, true);
    let limit = DEFAULT_MAX_FRAME_SIZE as u64;
    assert!(
        run.peak_rss < limit + MARGIN,
        "{label}: peak RSS {:.1} MiB, over {} MiB",
        mib(run.peak_rss),
        (limit + MARGIN) >> 20
    );
}
