//! Response bodies over polling: compressed (gzip, deflate) and large ones decode; oversized,
//! endless and gzip-bomb bodies are refused; a stalled body is a timeout.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_engineio::{Close, DisconnectReason, Session, TransportError};
use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use flate2::Compression;

use super::{handshake, scripted_client};
use crate::support::client::{texts, within, Client, DEADLINE};
use crate::support::fault_proxy::FaultProxy;
use crate::support::peers::{all_peers, start_peers, PeerKind, PeerOptions};
use crate::support::scripted::{Reply, Scripted, ScriptedRequest};
use crate::support::wire::Wire;

/// 200 KB of text that compresses, but not to nothing.
fn large_text() -> String {
    let words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"];
    let mut out = String::new();
    let mut i = 0usize;
    while out.len() < 200 * 1024 {
        out.push_str(words[(i * 7 + i / 3) % words.len()]);
        out.push_str(&(i % 1000).to_string());
        out.push(' ');
        i += 1;
    }
    out
}

/// A 200 KB message echoes exactly over polling with every peer, through a recording
/// proxy: every GET of the session offers gzip, and node and python (which compress
/// answers of 1 KB or more when offered) answered the poll carrying the echo with
/// `Content-Encoding: gzip` or `deflate`, so the client decoded their compressed answer
/// (engineioxide does not compress: its answer is decoded as it is).
#[actix_rt::test]
async fn large_responses_are_decoded() {
    let text = large_text();
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        let label = format!("[{} peer, polling only]", peer.kind());
        let proxy = FaultProxy::start(peer.port());
        proxy.record();
        let client = Client::connect(
            label.clone(),
            Session::builder(proxy.url()).transports(["polling"]),
        )
        .await;
        client.echo_all(std::slice::from_ref(&text)).await;
        client.echo_all(&texts("small-", 3)).await;

        let wire = Wire::recorded(&proxy);
        let polls: Vec<_> = wire
            .exchanges(&client.sid)
            .into_iter()
            .filter(|e| e.request.method() == "GET")
            .collect();
        assert!(!polls.is_empty(), "{label}: no GET on the wire");
        for poll in &polls {
            let accept = poll.request.header("accept-encoding").unwrap_or_default();
            assert!(
                accept.to_ascii_lowercase().contains("gzip"),
                "{label}: GET without gzip in accept-encoding: {}",
                poll.request.start
            );
        }
        let packet = format!("4{text}");
        let answer = polls
            .iter()
            .filter_map(|poll| poll.response.map(|(_, answer)| answer))
            .find(|answer| {
                let body = answer.decoded_body();
                body.split(|b| *b == 0x1e).any(|p| p == packet.as_bytes())
            })
            .unwrap_or_else(|| panic!("{label}: no poll answer on the wire carries the echo"));
        let encoding = answer.header("content-encoding");
        eprintln!(
            "{label}: the echo came in {} bytes, content-encoding {encoding:?}",
            answer.body.len()
        );
        if matches!(peer.kind(), PeerKind::Node | PeerKind::Python) {
            assert!(
                matches!(encoding.as_deref(), Some("gzip" | "deflate")),
                "{label}: the answer carrying the echo was not compressed: {encoding:?}"
            );
            assert!(
                answer.body.len() < packet.len() / 2,
                "{label}: a {encoding:?} answer of {} bytes for {} bytes",
                answer.body.len(),
                packet.len()
            );
        }
        client.session.do_send(Close);
    }
}

fn compress(encoding: &str, data: &[u8]) -> Vec<u8> {
    match encoding {
        "gzip" => {
            let mut e = GzEncoder::new(Vec::new(), Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        // HTTP's deflate: zlib-wrapped.
        "deflate" => {
            let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        // What some servers send as "deflate": a raw deflate stream.
        "deflate (raw)" => {
            let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        other => unreachable!("{other}"),
    }
}

/// A scripted server answering the first poll with a compressed payload of several
/// packets (text, a 100 KB text, binary): gzip, deflate (zlib) and raw deflate decode.
#[actix_rt::test]
async fn gzip_and_deflate_payloads_decode() {
    let big = "z".repeat(50 * 1024) + &large_text()[..50 * 1024];
    let payload = format!("4hello\x1e4{big}\x1ebAQIDBA==\x1e4world");
    for encoding in ["gzip", "deflate", "deflate (raw)"] {
        let label = format!("[scripted, content-encoding {encoding}]");
        let body = compress(encoding, payload.as_bytes());
        assert!(body.len() < payload.len() / 2);
        let header = encoding.split(' ').next().unwrap().to_owned();
        let polls = Arc::new(AtomicUsize::new(0));
        let server = Scripted::start(move |req: ScriptedRequest| {
            let (body, header, polls) = (body.clone(), header.clone(), polls.clone());
            async move {
                match (req.method.as_str(), req.query("sid")) {
                    ("GET", None) => handshake("gz"),
                    ("GET", Some(_)) if polls.fetch_add(1, Ordering::SeqCst) == 0 => Reply::Http {
                        status: 200,
                        headers: vec![
                            ("content-type".into(), "text/plain; charset=UTF-8".into()),
                            ("content-encoding".into(), header),
                        ],
                        body,
                    },
                    ("GET", Some(_)) => Reply::Hang,
                    _ => Reply::text(200, "ok"),
                }
            }
        });
        let client = scripted_client(&label, &server).await;
        let got = client.wait_messages(4, DEADLINE).await;
        client.assert_alive();
        let expected = vec![
            actix_engineio::Payload::from("hello"),
            actix_engineio::Payload::from(big.clone()),
            actix_engineio::Payload::from(vec![1u8, 2, 3, 4]),
            actix_engineio::Payload::from("world"),
        ];
        assert!(
            got == expected,
            "{label}: decoded {} messages: {:.80?}",
            got.len(),
            got
        );
        client.session.do_send(Close);
    }
}

// ---------------------------------------------------------------------------------------
// bounded bodies

/// A gzip body of `size` bytes of `4` (a message of 100 MB of `4`s, say).
fn gzip_bomb(size: usize) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    let chunk = vec![b'4'; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len());
        e.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    e.finish().unwrap()
}

/// Runs a polling-only session with `max_body_size(64 KiB)` against a server answering the
/// first poll with `poll`, and expects a `BodyTooLarge` transport error within
/// [`DEADLINE`] (where an unbounded read of an endless body would never end).
async fn expect_body_too_large(label: &str, poll: impl Fn() -> Reply + Send + Sync + 'static) {
    let poll = Arc::new(poll);
    let server = Scripted::start(move |req: ScriptedRequest| {
        let poll = poll.clone();
        async move {
            match (req.method.as_str(), req.query("sid")) {
                ("GET", None) => handshake("big"),
                ("GET", Some(_)) => poll(),
                _ => Reply::text(200, "ok"),
            }
        }
    });
    let client = Client::connect(
        label,
        Session::builder(server.url())
            .transports(["polling"])
            .max_body_size(64 * 1024),
    )
    .await;
    let reason = client.events.disconnect().await;
    assert_eq!(
        reason,
        DisconnectReason::TransportError(TransportError::BodyTooLarge { limit: 64 * 1024 }),
        "{label}"
    );
}

/// A 1 MB poll answer over `max_body_size(64 KiB)` ends the session with `BodyTooLarge`.
#[actix_rt::test]
async fn oversized_response_is_refused() {
    let body = format!("4{}", "a".repeat(1 << 20)).into_bytes();
    expect_body_too_large("[scripted, 1 MB body]", move || Reply::Http {
        status: 200,
        headers: vec![("content-type".into(), "text/plain; charset=UTF-8".into())],
        body: body.clone(),
    })
    .await;
}

/// An endless chunked poll answer ends the session with `BodyTooLarge` (within
/// [`DEADLINE`]).
#[actix_rt::test]
async fn endless_response_is_refused() {
    expect_body_too_large("[scripted, endless body]", || Reply::Endless).await;
}

/// A gzip bomb (100 MB of `4` in about 100 KB, and 10 MB in about 10 KB — below the
/// 64 KiB raw limit, so only the bound on decompression can stop it) ends the session
/// with `BodyTooLarge` for the 64 KiB limit (within [`DEADLINE`]).
#[actix_rt::test]
async fn gzip_bomb_is_refused() {
    for size in [10 << 20, 100 << 20] {
        let bomb = gzip_bomb(size);
        let label = format!(
            "[scripted, gzip bomb of {} MB in {} KB]",
            size >> 20,
            bomb.len() >> 10
        );
        expect_body_too_large(&label, move || Reply::Http {
            status: 200,
            headers: vec![
                ("content-type".into(), "text/plain; charset=UTF-8".into()),
                ("content-encoding".into(), "gzip".into()),
            ],
            body: bomb.clone(),
        })
        .await;
    }
}

/// A response whose headers arrive but whose body stalls is a timeout, not a hang:
/// awc's own timeout stops at the headers, the session's covers the body too.
#[actix_rt::test]
async fn a_stalled_body_is_a_timeout() {
    use crate::support::scripted::open_packet;
    use actix_engineio::ConnectError;

    let stalled_handshake = Scripted::start(|_| async {
        Reply::Raw(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0{".to_vec())
    });
    let result = within(
        "stalled handshake body",
        DEADLINE,
        Session::builder(stalled_handshake.url())
            .transports(["polling"])
            .request_timeout(Duration::from_secs(1))
            .connect(),
    )
    .await;
    assert!(
        matches!(
            result,
            Err(ConnectError::Transport(TransportError::Timeout))
        ),
        "{result:?}"
    );

    let stalled_post = Scripted::start(|request| async move {
        match (request.method.as_str(), request.query("sid")) {
            ("GET", None) => Reply::text(200, open_packet("stall", &[], 25_000, 20_000)),
            ("GET", Some(_)) => Reply::Hang,
            _ => Reply::Raw(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\no".to_vec()),
        }
    });
    let client = Client::connect(
        "[stalled POST body]",
        Session::builder(stalled_post.url())
            .transports(["polling"])
            .request_timeout(Duration::from_secs(1)),
    )
    .await;
    client.send("hello").await;
    assert_eq!(
        client.events.disconnect().await,
        DisconnectReason::TransportError(TransportError::Timeout)
    );
}
