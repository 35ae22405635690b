//! 1, 2, 3, 11, 12: every message comes back exactly and in order, pipelined or not, to
//! every subscriber; `maxPayload` bounds what the client sends, not what it receives.

use std::time::Instant;

use actix_engineio as eio;
use actix_engineio::{Close, DisconnectReason, Payload, SendError, Session, Subscribe};

use super::{connect, label, options, peer_connect};
use crate::support::client::{
    assert_payloads, describe, wait_until, Client, Events, Mode, ALL_MODES, DEADLINE,
};
use crate::support::peers::{all_peers, start_peers, PeerOptions};
use crate::support::scripted::{Reply, Scripted};

// ---------------------------------------------------------------------------------------
// 1, 2: connect and echo

/// About 1 MB of text with one-, three- and four-byte characters.
fn big_text() -> String {
    let unit = "abcdefghij€😀ñ\"\\{}";
    unit.repeat(1_000_000 / unit.len() + 1)
}

fn big_binary() -> Vec<u8> {
    (0..1_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

#[actix_rt::test]
async fn connect_and_echo_exactly() {
    let peers = start_peers(&all_peers(), options(3_000_000));
    let json = serde_json::json!({
        "text": "€😀ñ \"quoted\" \\ \u{1}",
        "list": [1, -2.5, true, null, "x"],
        "nested": {"empty": {}, "none": []},
    });
    let messages = vec![
        Payload::from("hello"),
        Payload::from(""),
        Payload::from("€😀ñ"),
        Payload::from(vec![0x00, 0x1e, 0x01, 0xff, 0x1e, 0x00]),
        Payload::from(Vec::new()),
        eio::Send::json(&json).expect("json").0,
        Payload::from(big_text()),
        Payload::from(big_binary()),
        Payload::from("4 looks like a packet"),
        Payload::from(b"b64?".to_vec()),
    ];
    for peer in &peers {
        for mode in ALL_MODES {
            let c = connect(peer, mode).await;
            let l = &c.label;

            // 1. The Connect event: the sid the peer logged, the transport it opened on.
            let event = c.events.connect().expect("connect event");
            assert!(!event.sid.is_empty(), "{l}: empty sid in {event:?}");
            assert_eq!(
                event.transport,
                mode.opens_on(),
                "{l}: Connect event transport"
            );
            let logged = peer_connect(peer, l, &event.sid).await;
            assert_eq!(
                logged,
                mode.opens_on().as_str(),
                "{l}: transport of the peer's connect"
            );

            // 2. Every message comes back exactly, in order (in upgrade mode they are sent
            // while the upgrade is under way).
            for message in &messages {
                c.send(message.clone()).await;
            }
            let got = c.events.messages(messages.len()).await;
            c.assert_alive();
            assert_payloads(l, &got, &messages);
            let parsed: serde_json::Value = got[5]
                .parse_json()
                .unwrap_or_else(|e| panic!("{l}: echoed JSON does not parse: {e}"));
            assert_eq!(parsed, json, "{l}: echoed JSON");

            // A text holding the record separator: echoed over websocket, refused over
            // polling (never silently lost or split).
            if mode == Mode::Upgrade {
                c.upgraded().await;
            }
            let separator = "a\u{1e}b\u{1e}";
            let answer = c
                .session
                .send(eio::Send::text(separator))
                .await
                .unwrap_or_else(|e| panic!("{l}: Send: {e}"));
            let before = c.events.received().len();
            if mode == Mode::Polling {
                assert_eq!(
                    answer,
                    Err(eio::Unsent {
                        error: SendError::RecordSeparator,
                        payload: Payload::from(separator),
                    }),
                    "{l}: a text with \\x1e over polling, given back"
                );
                c.echo(Payload::from("after the separator")).await;
            } else {
                assert_eq!(answer, Ok(()), "{l}: a text with \\x1e over websocket");
                let got = c.events.messages(before + 1).await;
                c.assert_alive();
                assert_payloads(l, &got[before..], &[Payload::from(separator)]);
            }
            c.close().await;
        }
    }
}

// ---------------------------------------------------------------------------------------
// 3: pipelining

const PIPELINED: usize = 10_000;

#[actix_rt::test]
async fn ten_thousand_pipelined_messages_arrive_once_in_order() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        for mode in ALL_MODES {
            let c = connect(peer, mode).await;
            let l = &c.label;
            let started = Instant::now();
            let want: Vec<Payload> = (0..PIPELINED)
                .map(|i| Payload::from(format!("m{i}")))
                .collect();
            // Bursts of `do_send` (no answer awaited), each ended by an awaited `send`
            // that must be accepted; no echo is awaited in between.
            for (i, message) in want.iter().enumerate() {
                if i % 1000 == 999 {
                    c.send(message.clone()).await;
                } else {
                    c.session.do_send(eio::Send(message.clone()));
                }
            }
            let long = DEADLINE * 3;
            wait_until(long, || {
                c.events.received().len() >= PIPELINED || c.events.disconnect_reason().is_some()
            })
            .await;
            c.assert_alive();
            let got = c.events.received();
            if got.len() < PIPELINED {
                let missing: Vec<usize> = (0..PIPELINED)
                    .filter(|i| !got.contains(&want[*i]))
                    .take(10)
                    .collect();
                panic!(
                    "{l}: only {} of {PIPELINED} echoes within {long:?}; first missing: {missing:?}",
                    got.len()
                );
            }
            // A duplicate would come before the echo of a last message sent now.
            c.send(Payload::from("last")).await;
            let mut want = want;
            want.push(Payload::from("last"));
            let got = c.wait_messages(want.len(), DEADLINE).await;
            assert_payloads(l, &got, &want);
            eprintln!("{l}: {PIPELINED} echoes in {:?}", started.elapsed());
            c.close().await;
        }
    }
}

// ---------------------------------------------------------------------------------------
// 11: subscribers

#[actix_rt::test]
async fn every_subscriber_gets_every_message_in_order() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    let first: Vec<Payload> = (0..50)
        .map(|i| Payload::from(format!("first {i}")))
        .collect();
    let second: Vec<Payload> = (0..50)
        .map(|i| {
            if i % 2 == 0 {
                Payload::from(format!("second {i}"))
            } else {
                Payload::from(vec![i as u8, 0x1e, 0])
            }
        })
        .collect();
    let everything: Vec<Payload> = first.iter().chain(&second).cloned().collect();
    for peer in &peers {
        for mode in ALL_MODES {
            let l = label(peer, mode);
            let other = Events::default();
            let builder = other.subscribe(mode.builder(&peer.url()));
            let c = Client::connect(l.clone(), builder).await;
            for m in &first {
                c.send(m.clone()).await;
            }
            c.events.messages(first.len()).await;
            other.messages(first.len()).await;

            let late = Events::default();
            c.session
                .send(Subscribe::Message(late.recorder().recipient()))
                .await
                .unwrap_or_else(|e| panic!("{l}: Subscribe: {e}"));
            for m in &second {
                c.send(m.clone()).await;
            }
            // Then a last message: nothing else arrives before its echo, to anyone.
            let last = Payload::from("last");
            c.send(last.clone()).await;
            let everything: Vec<Payload> = everything.iter().chain([&last]).cloned().collect();
            let second: Vec<Payload> = second.iter().chain([&last]).cloned().collect();
            let a = c.events.messages(everything.len()).await;
            let b = other.messages(everything.len()).await;
            let z = late.messages(second.len()).await;
            c.assert_alive();
            assert_payloads(&format!("{l} first subscriber"), &a, &everything);
            assert_payloads(&format!("{l} second subscriber"), &b, &everything);
            assert_payloads(&format!("{l} late subscriber"), &z, &second);
            assert!(
                other.connect().is_some(),
                "{l}: second subscriber saw no Connect"
            );
            c.close().await;
            assert_eq!(
                other.disconnect().await,
                DisconnectReason::ClientDisconnect,
                "{l}: second subscriber's Disconnect"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// 12: maxPayload

#[actix_rt::test]
async fn send_over_max_payload_is_refused_and_the_session_goes_on() {
    let peers = start_peers(&all_peers(), options(1000));
    for peer in &peers {
        for mode in ALL_MODES {
            let c = connect(peer, mode).await;
            let l = &c.label;
            for big in [
                Payload::from("x".repeat(5000)),
                Payload::from(vec![1u8; 5000]),
            ] {
                let what = describe(&big);
                let answer = c
                    .session
                    .send(eio::Send(big))
                    .await
                    .unwrap_or_else(|e| panic!("{l}: Send: {e}"));
                match answer {
                    Err(eio::Unsent {
                        error: SendError::TooLarge { size, max_payload },
                        ..
                    }) => {
                        assert_eq!(max_payload, 1000, "{l}: {what}");
                        assert!(size >= 5000, "{l}: {what}: size {size}");
                    }
                    other => panic!("{l}: {what} over maxPayload 1000 answered {other:?}"),
                }
            }
            c.echo(Payload::from("still working")).await;
            c.echo(Payload::from("y".repeat(900))).await;
            c.echo(Payload::from(vec![2u8; 600])).await;
            c.assert_alive();
            c.close().await;
        }
    }
}

/// A message from the server larger than the `maxPayload` it announced is received:
/// `maxPayload` bounds what the server accepts, not what it sends.
#[actix_rt::test]
async fn server_messages_beyond_max_payload_are_received() {
    use crate::support::scripted::open_packet_with;

    let big = format!("4{}", "b".repeat(200_000));
    let server = Scripted::start(move |request| {
        let big = big.clone();
        async move {
            if !request.is_websocket() {
                return Reply::text(404, "");
            }
            Reply::websocket(move |mut ws| async move {
                ws.send_text(&open_packet_with("big", &[], 25_000, 20_000, 1000))
                    .await;
                ws.send_text(&big).await;
                ws.echo().await;
            })
        }
    });
    let events = Events::default();
    let session = events
        .subscribe(Session::builder(server.url()).transports(["websocket"]))
        .connect()
        .await
        .unwrap();
    let got = events.messages(1).await;
    assert_eq!(
        got.first().map(Payload::len),
        Some(200_000),
        "{:?}",
        events.disconnect_reason()
    );
    session.send(Close).await.unwrap();
}
