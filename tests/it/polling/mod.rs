//! The long-polling transport (PROTOCOL.md section 4): batching under `maxPayload` and the
//! 16-packet cap, the POST content type, compressed responses, bounded response bodies,
//! HTTP errors and the client's close, against the three real peers (node `engine.io`,
//! `python-engineio`, `engineioxide`) and scripted servers.

mod support;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_engineio::{Close, DisconnectReason, Session, TransportError};
use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use flate2::Compression;

use support::client::{peer_event, wait_until, DEADLINE};
use support::echo::{
    open_packet_with, peer_closed, session_requests, sleep, start_peers, texts, within, Client,
    EchoConfig, EchoServer,
};
use support::scripted::{Reply, Scripted, ScriptedRequest};
use support::{PeerEvent, PeerKind, PeerOptions, ALL_PEERS};

const CONTENT_TYPE: &str = "text/plain;charset=UTF-8";

/// The messages of the batching test: blocks of 50 short ones (16 fit in 1000 bytes, so
/// the packet cap binds) and blocks of 50 of 150 bytes (6 fit, so the byte limit binds).
fn batching_messages(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let head = format!("m{i}-");
            let len = if (i / 50) % 2 == 0 { 10 } else { 150 };
            format!("{head}{}", "x".repeat(len.max(head.len()) - head.len()))
        })
        .collect()
}

/// Sends every message, pipelined, and waits for all the echoes.
///
/// The first is sent and acknowledged (a refused message would show here); the rest are
/// queued at once with `do_send`, without yielding, so the session has all of them
/// before its first POST completes and must batch them. (Awaiting each `Send` lets a fast
/// server answer POSTs as quickly as messages come: engineioxide then saw ~2.5 messages
/// per POST — batching is opportunistic, which is fine, but proves little.)
async fn pipeline(client: &Client, messages: &[String]) {
    let (first, rest) = messages.split_first().expect("messages");
    client.send(first).await;
    for text in rest {
        client
            .session
            .do_send(actix_engineio::Send::text(text.clone()));
    }
    let got = client
        .wait_messages(messages.len(), Duration::from_secs(120))
        .await;
    client.assert_alive();
    support::echo::assert_texts(&client.label, &got, messages);
}

/// A session opened on `server` (polling only) against a scripted server.
async fn scripted_client(label: &str, server: &Scripted) -> Client {
    Client::connect(
        label,
        Session::builder(server.url()).transports(["polling"]),
    )
    .await
}

/// A handshake reply from a scripted server offering no upgrade.
fn handshake(sid: &str) -> Reply {
    Reply::text(200, open_packet_with(sid, &[], 25_000, 20_000, 1_000_000))
}

// ---------------------------------------------------------------------------------------
// batching

/// 10,000 pipelined messages over polling only arrive in order with every peer run at
/// `max_payload: 1000`; every POST holds at most 1000 bytes (its `content-length`), is
/// `text/plain;charset=UTF-8`, and POSTs are batched (far fewer than messages).
#[actix_rt::test]
async fn ten_thousand_pipelined_messages_with_every_peer() {
    let messages = batching_messages(10_000);
    let peers = start_peers(
        &ALL_PEERS,
        PeerOptions {
            max_payload: 1000,
            ..PeerOptions::default()
        },
    );
    for peer in &peers {
        let label = format!("[{} peer, polling only, max_payload 1000]", peer.kind());
        let client = Client::connect(
            label.clone(),
            Session::builder(peer.url()).transports(["polling"]),
        )
        .await;
        pipeline(&client, &messages).await;

        let posts: Vec<_> = session_requests(peer, &client.sid)
            .into_iter()
            .filter(|r| r.method == "POST")
            .collect();
        for post in &posts {
            let length: usize = post
                .header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{label}: POST without content-length: {post:?}"));
            assert!(
                length <= 1000,
                "{label}: a POST of {length} bytes: {post:?}"
            );
            assert_eq!(
                post.header("content-type"),
                Some(CONTENT_TYPE),
                "{label}: {post:?}"
            );
        }
        eprintln!("{label}: {} POSTs for 10,000 messages", posts.len());
        // At most 16 packets (PROTOCOL.md: python drops more): 625 POSTs at the very least.
        assert!(
            posts.len() >= 10_000 / 16,
            "{label}: only {} POSTs for 10,000 messages",
            posts.len()
        );
        assert!(
            posts.len() <= 10_000 / 4,
            "{label}: {} POSTs for 10,000 messages: not batched",
            posts.len()
        );
        client.session.do_send(Close);
    }
}

/// The same kind of messages against a scripted echo server announcing `maxPayload` 1000,
/// which records POST bodies: none holds more than 1000 bytes or 16 packets, both limits
/// are reached, and every message went out exactly once, in order.
#[actix_rt::test]
async fn post_bodies_respect_max_payload_and_the_packet_cap() {
    let label = "[scripted, maxPayload 1000]";
    let (server, echo) = EchoServer::start(EchoConfig {
        max_payload: 1000,
        ..EchoConfig::default()
    });
    let client = scripted_client(label, &server).await;
    let messages = batching_messages(2_000);
    pipeline(&client, &messages).await;

    let posts = echo.posts();
    let mut sent = Vec::new();
    for body in &posts {
        let packets: Vec<&str> = body.split('\x1e').collect();
        assert!(
            body.len() <= 1000,
            "{label}: a POST of {} bytes",
            body.len()
        );
        assert!(
            packets.len() <= 16,
            "{label}: a POST of {} packets",
            packets.len()
        );
        for packet in packets {
            let text = packet
                .strip_prefix('4')
                .unwrap_or_else(|| panic!("{label}: unexpected packet {packet:?} in a POST"));
            sent.push(text.to_owned());
        }
    }
    assert_eq!(sent, messages, "{label}: the messages POSTed, in order");
    assert!(
        posts.iter().any(|b| b.split('\x1e').count() == 16),
        "{label}: no POST reached the 16-packet cap: not batched?"
    );
    assert!(
        posts.iter().any(|b| b.len() > 900),
        "{label}: no POST came near 1000 bytes: not batched?"
    );
    assert!(
        posts.len() <= messages.len() / 4,
        "{label}: {} POSTs for {} messages",
        posts.len(),
        messages.len()
    );
}

/// A raised packet cap (`max_packets_per_post`) puts more packets in a POST, never more
/// than the cap, and nothing is lost or reordered; Node's and engineioxide's servers
/// take such POSTs.
#[actix_rt::test]
async fn a_raised_packet_cap_batches_more() {
    /// A polling-only session to `url` with the packet cap raised to `cap`.
    async fn capped(label: String, url: String, cap: usize) -> Client {
        let builder = Session::builder(url)
            .transports(["polling"])
            .max_packets_per_post(cap);
        Client::connect(label, builder).await
    }

    let label = "[scripted, cap 100]";
    let (server, echo) = EchoServer::start(EchoConfig::default());
    let client = capped(label.into(), server.url(), 100).await;
    let messages = batching_messages(2_000);
    pipeline(&client, &messages).await;
    let counts: Vec<usize> = echo
        .posts()
        .iter()
        .map(|b| b.split('\x1e').count())
        .collect();
    assert!(counts.iter().all(|&n| n <= 100), "{label}: {counts:?}");
    assert!(counts.iter().any(|&n| n > 16), "{label}: {counts:?}");

    let peers = start_peers(&[PeerKind::Node, PeerKind::Rust], PeerOptions::default());
    for peer in &peers {
        let label = format!("[{} peer, cap 256]", peer.kind());
        let client = capped(label, peer.url(), 256).await;
        pipeline(&client, &batching_messages(10_000)).await;
    }
}

/// Every POST, in polling-only and in upgrade mode (messages sent during the probe) and
/// including heartbeat answers, is `Content-Type: text/plain;charset=UTF-8`.
#[actix_rt::test]
async fn post_content_type_is_text_plain_utf8() {
    let peers = start_peers(
        &ALL_PEERS,
        PeerOptions {
            ping_interval: Duration::from_secs(1),
            ..PeerOptions::default()
        },
    );
    for peer in &peers {
        for (mode, builder) in [
            (
                "polling only",
                Session::builder(peer.url()).transports(["polling"]),
            ),
            ("polling with upgrade", Session::builder(peer.url())),
        ] {
            let label = format!("[{} peer, {mode}]", peer.kind());
            let client = Client::connect(label.clone(), builder).await;
            client.echo_all(&texts("ct-", 20)).await;
            // A ping or two, answered by POSTed pongs over polling.
            sleep(Duration::from_millis(2500)).await;
            client.assert_alive();
            let posts: Vec<_> = session_requests(peer, &client.sid)
                .into_iter()
                .filter(|r| r.method == "POST")
                .collect();
            assert!(!posts.is_empty(), "{label}: no POST logged");
            for post in &posts {
                assert_eq!(
                    post.header("content-type"),
                    Some(CONTENT_TYPE),
                    "{label}: {post:?}"
                );
            }
            client.session.do_send(Close);
        }
    }
}

// ---------------------------------------------------------------------------------------
// compressed responses

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

/// A 200 KB message echoes exactly over polling with every peer; every GET of the session
/// offered gzip (node compresses responses of 1024 bytes or more when allowed).
#[actix_rt::test]
async fn large_responses_are_decoded() {
    let text = large_text();
    let peers = start_peers(&ALL_PEERS, PeerOptions::default());
    for peer in &peers {
        let label = format!("[{} peer, polling only]", peer.kind());
        let client = Client::connect(
            label.clone(),
            Session::builder(peer.url()).transports(["polling"]),
        )
        .await;
        client.echo_all(std::slice::from_ref(&text)).await;
        client.echo_all(&texts("small-", 3)).await;
        let gets: Vec<_> = session_requests(peer, &client.sid)
            .into_iter()
            .filter(|r| r.method == "GET")
            .collect();
        assert!(!gets.is_empty(), "{label}: no GET logged");
        for get in &gets {
            let accept = get.header("accept-encoding").unwrap_or_default();
            assert!(
                accept.to_ascii_lowercase().contains("gzip"),
                "{label}: GET without gzip in accept-encoding: {get:?}"
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
/// first poll with `poll`, and expects a prompt `BodyTooLarge` transport error.
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

/// An endless chunked poll answer ends the session with `BodyTooLarge`, promptly.
#[actix_rt::test]
async fn endless_response_is_refused() {
    expect_body_too_large("[scripted, endless body]", || Reply::Endless).await;
}

/// A gzip bomb (100 MB of `4` in about 100 KB, and 10 MB in about 10 KB — below the
/// 64 KiB raw limit, so only the bound on decompression can stop it) ends the session
/// with `BodyTooLarge`, promptly and without inflating it all.
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

// ---------------------------------------------------------------------------------------
// HTTP errors

/// A poll answered `400 {"code":1,"message":"Session ID unknown"}` (what a restarted
/// server says) ends the session with that status and body.
#[actix_rt::test]
async fn poll_answered_400_ends_the_session_with_the_cause() {
    let label = "[scripted, poll answered 400]";
    let server = Scripted::start(|req: ScriptedRequest| async move {
        match (req.method.as_str(), req.query("sid")) {
            ("GET", None) => handshake("gone"),
            ("GET", Some(_)) => Reply::Http {
                status: 400,
                headers: vec![("content-type".into(), "application/json".into())],
                body: br#"{"code":1,"message":"Session ID unknown"}"#.to_vec(),
            },
            _ => Reply::text(200, "ok"),
        }
    });
    let client = scripted_client(label, &server).await;
    match client.events.disconnect().await {
        DisconnectReason::TransportError(TransportError::Http { status: 400, body }) => assert!(
            body.contains("Session ID unknown"),
            "{label}: the body is lost: {body:?}"
        ),
        other => panic!("{label}: unexpected disconnect reason {other:?}"),
    }
}

/// A POST answered `413` ends the session with that status.
#[actix_rt::test]
async fn post_answered_413_ends_the_session_with_the_cause() {
    let label = "[scripted, POST answered 413]";
    let server = Scripted::start(|req: ScriptedRequest| async move {
        match (req.method.as_str(), req.query("sid")) {
            ("GET", None) => handshake("too-large"),
            ("GET", Some(_)) => Reply::Hang,
            ("POST", Some(_)) => Reply::text(413, "Payload Too Large"),
            _ => Reply::text(400, ""),
        }
    });
    let client = scripted_client(label, &server).await;
    client.send("hello").await;
    match client.events.disconnect().await {
        DisconnectReason::TransportError(TransportError::Http { status: 413, body }) => assert!(
            body.contains("Payload Too Large"),
            "{label}: the body is lost: {body:?}"
        ),
        other => panic!("{label}: unexpected disconnect reason {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// close

/// `Close` over polling POSTs `1` and returns at once: against a scripted server that
/// never answers that POST, `Close` returns, `Disconnect(ClientDisconnect)` is published
/// and the session actor stops while the POST is still unanswered.
#[actix_rt::test]
async fn close_over_polling_posts_1_and_returns_at_once() {
    let label = "[scripted, close]";
    let server = Scripted::start(|req: ScriptedRequest| async move {
        match (req.method.as_str(), req.query("sid")) {
            ("GET", None) => handshake("bye"),
            ("GET", Some(_)) => Reply::Hang,
            // The close is never answered.
            ("POST", Some(_)) if req.body_text().split('\x1e').any(|p| p == "1") => Reply::Hang,
            ("POST", Some(_)) => Reply::text(200, "ok"),
            _ => Reply::text(400, ""),
        }
    });
    let client = scripted_client(label, &server).await;
    within(
        format!("{label} Close"),
        DEADLINE,
        client.session.send(Close),
    )
    .await
    .expect("Close answered");
    assert_eq!(
        client.events.disconnect().await,
        DisconnectReason::ClientDisconnect,
        "{label}"
    );
    assert!(
        wait_until(DEADLINE, || !client.session.connected()).await,
        "{label}: the session actor did not stop"
    );
    // The `1` reaches the server after all that (Close did not wait for it).
    let posts = || -> Vec<String> {
        server
            .requests()
            .iter()
            .filter(|r| r.method == "POST")
            .map(ScriptedRequest::body_text)
            .collect()
    };
    wait_until(DEADLINE, || !posts().is_empty()).await;
    assert_eq!(posts(), ["1"], "{label}: the POSTs");
}

/// With the real peers, `Close` over polling reaches the server: a POST of the session
/// follows and the peer logs the session's close.
#[actix_rt::test]
async fn close_over_polling_reaches_every_peer() {
    let peers = start_peers(&ALL_PEERS, PeerOptions::default());
    for peer in &peers {
        let label = format!("[{} peer, polling only]", peer.kind());
        let client = Client::connect(
            label.clone(),
            Session::builder(peer.url()).transports(["polling"]),
        )
        .await;
        client.echo_all(&texts("c", 2)).await;
        sleep(Duration::from_millis(300)).await;
        let posts_before = session_requests(peer, &client.sid)
            .iter()
            .filter(|r| r.method == "POST")
            .count();
        within(
            format!("{label} Close"),
            DEADLINE,
            client.session.send(Close),
        )
        .await
        .expect("Close answered");
        assert_eq!(
            client.events.disconnect().await,
            DisconnectReason::ClientDisconnect,
            "{label}"
        );
        let sid = client.sid.clone();
        let closed = peer_event(
            peer,
            |e| matches!(e, PeerEvent::Close { sid: s, .. } if *s == sid),
        )
        .await;
        assert!(
            closed.is_some(),
            "{label}: the peer never closed the session"
        );
        eprintln!(
            "{label}: the peer closed the session: {:?}",
            peer_closed(peer, &sid)
        );
        let posts_after = session_requests(peer, &client.sid)
            .iter()
            .filter(|r| r.method == "POST")
            .count();
        assert_eq!(
            posts_after,
            posts_before + 1,
            "{label}: expected one POST (the `1`) after Close"
        );
    }
}

/// A response whose headers arrive but whose body stalls is a timeout, not a hang:
/// awc's own timeout stops at the headers, the session's covers the body too.
#[actix_rt::test]
async fn a_stalled_body_is_a_timeout() {
    use actix_engineio::ConnectError;
    use support::scripted::open_packet;

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
