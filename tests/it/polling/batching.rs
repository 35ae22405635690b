//! Batching under `maxPayload` and the 16-packet cap (docs/protocol.md section 4), and the
//! POST content type.

use std::time::Duration;

use actix_engineio::{Close, Session};

use super::{scripted_client, CONTENT_TYPE};
use crate::support::client::{assert_texts, texts, wait_until, Client, DEADLINE};
use crate::support::fault_proxy::FaultProxy;
use crate::support::peers::{
    all_peers, any_of, session_requests, start_peers, PeerKind, PeerOptions,
};
use crate::support::scripted_echo::{EchoConfig, EchoServer};
use crate::support::wire::Wire;

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
    client.send(first.as_str()).await;
    for text in rest {
        client
            .session
            .do_send(actix_engineio::Send::text(text.clone()));
    }
    let got = client
        .wait_messages(messages.len(), Duration::from_secs(120))
        .await;
    client.assert_alive();
    assert_texts(&client.label, &got, messages);
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
        &all_peers(),
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
        // At most 16 packets (docs/protocol.md section 4: python drops more): 625 POSTs at
        // the very least.
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
/// take such POSTs: on the wire (through a recording proxy) POSTs of more than 16
/// packets reach them, and every message echoes.
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

    let Some(kinds) = any_of(
        &[PeerKind::Node, PeerKind::Rust],
        "the servers that take POSTs of more than 16 packets",
    ) else {
        return;
    };
    let peers = start_peers(&kinds, PeerOptions::default());
    for peer in &peers {
        let label = format!("[{} peer, cap 256]", peer.kind());
        let proxy = FaultProxy::start(peer.port());
        proxy.record();
        let client = capped(label.clone(), proxy.url(), 256).await;
        pipeline(&client, &batching_messages(10_000)).await;
        let counts: Vec<usize> = Wire::recorded(&proxy)
            .exchanges(&client.sid)
            .iter()
            .filter(|e| e.request.method() == "POST")
            .map(|e| {
                assert_eq!(
                    e.response.map(|(_, answer)| answer.status()),
                    Some(200),
                    "{label}: a POST of {} bytes was not taken",
                    e.request.body.len()
                );
                e.request.body.split(|b| *b == 0x1e).count()
            })
            .collect();
        let most = counts.iter().max().copied().unwrap_or_default();
        eprintln!(
            "{label}: {} POSTs, at most {most} packets in one",
            counts.len()
        );
        assert!(most <= 256, "{label}: a POST of {most} packets");
        assert!(
            most > 16,
            "{label}: no POST of more than 16 packets: {counts:?}"
        );
    }
}

/// Every POST, in polling-only and in upgrade mode (messages sent during the probe) and
/// including heartbeat answers, is `Content-Type: text/plain;charset=UTF-8`. The peers
/// ping every second; on the wire (through a recording proxy) the client answers a ping
/// with a pong, which over polling only is a POST of its own.
#[actix_rt::test]
async fn post_content_type_is_text_plain_utf8() {
    let peers = start_peers(
        &all_peers(),
        PeerOptions {
            ping_interval: Duration::from_secs(1),
            ..PeerOptions::default()
        },
    );
    for peer in &peers {
        for (mode, polling_only) in [("polling only", true), ("polling with upgrade", false)] {
            let label = format!("[{} peer, {mode}]", peer.kind());
            let proxy = FaultProxy::start(peer.port());
            proxy.record();
            let builder = match polling_only {
                true => Session::builder(proxy.url()).transports(["polling"]),
                false => Session::builder(proxy.url()),
            };
            let client = Client::connect(label.clone(), builder).await;
            client.echo_all(&texts("ct-", 20)).await;
            let sid = client.sid.clone();
            let answered = || Wire::recorded(&proxy).pings_answered(&sid) >= 1;
            assert!(
                wait_until(DEADLINE, answered).await,
                "{label}: no ping answered within {DEADLINE:?}"
            );
            client.assert_alive();
            let wire = Wire::recorded(&proxy);
            if polling_only {
                let pong = wire.exchanges(&sid).into_iter().find(|e| {
                    e.request.method() == "POST"
                        && e.request.body.split(|b| *b == 0x1e).any(|p| p == b"3")
                });
                let pong = pong.unwrap_or_else(|| panic!("{label}: no pong POSTed"));
                assert_eq!(
                    pong.request.header("content-type").as_deref(),
                    Some(CONTENT_TYPE),
                    "{label}: the pong's POST on the wire"
                );
            }
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
