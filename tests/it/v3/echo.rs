//! Messages over v3 come back exactly and in order: text (the record separator included,
//! which v3 polling carries), binary (a binary polling payload, a binary frame with its
//! type byte), a thousand pipelined, one of a megabyte.

use actix_engineio as eio;
use actix_engineio::Payload;

use super::{connect_v3, v3_peer};
use crate::support::client::{assert_payloads, assert_texts, texts, ALL_MODES, DEADLINE};
use crate::support::peers::{peer_messages, PeerMessage, PeerOptions};

/// Text and binary, each echoed exactly; every message also arrived at the peer as what
/// it is (text as text, binary as binary).
#[actix_rt::test]
async fn text_and_binary_echo_exactly() {
    let Some(peer) = v3_peer(PeerOptions::default()) else {
        return;
    };
    let messages = vec![
        Payload::from("hello"),
        Payload::from(""),
        Payload::from("€😀ñ \"quoted\" \\"),
        Payload::from("a\u{1e}b\u{1e}"),
        Payload::from("4 looks like a packet"),
        Payload::from("12:4not a length"),
        Payload::from(vec![0x00, 0x1e, 0x01, 0xff, 0x04, 0x00]),
        Payload::from(vec![0x04]),
        Payload::from(Vec::new()),
        Payload::from(b"b4AQI=".to_vec()),
    ];
    for mode in ALL_MODES {
        let c = connect_v3(&peer.url(), mode).await;
        let l = &c.label;
        for message in &messages {
            c.send(message.clone()).await;
        }
        let got = c.events.messages(messages.len()).await;
        c.assert_alive();
        assert_payloads(l, &got, &messages);
        let expected: Vec<PeerMessage> = messages
            .iter()
            .map(|sent| match sent {
                Payload::Text(text) => PeerMessage::text(&c.sid, text),
                Payload::Binary(data) => PeerMessage::binary(&c.sid, data),
            })
            .collect();
        assert_eq!(
            peer_messages(&peer, &c.sid),
            expected,
            "{l}: what the peer received"
        );
        c.close().await;
    }
}

/// A thousand messages sent without waiting for any echo come back once each, in order.
#[actix_rt::test]
async fn a_thousand_pipelined_messages_arrive_in_order() {
    let Some(peer) = v3_peer(PeerOptions::default()) else {
        return;
    };
    for mode in ALL_MODES {
        let c = connect_v3(&peer.url(), mode).await;
        let want = texts("m", 1000);
        for (i, text) in want.iter().enumerate() {
            if i % 100 == 99 {
                c.send(text.as_str()).await;
            } else {
                c.session.do_send(eio::Send::text(text.as_str()));
            }
        }
        let got = c.wait_messages(want.len(), DEADLINE).await;
        c.assert_alive();
        assert_texts(&c.label, &got, &want);
        c.close().await;
    }
}

/// A megabyte of text and a megabyte of binary, each echoed exactly (the peer accepts
/// 3 MB: a v3 polling POST carries the packet's marker and length beside it).
#[actix_rt::test]
async fn a_megabyte_message_echoes_exactly() {
    let opts = PeerOptions {
        max_payload: 3_000_000,
        ..PeerOptions::default()
    };
    let Some(peer) = v3_peer(opts) else {
        return;
    };
    let unit = "abcdefghij€😀ñ\"\\{}";
    let text = Payload::from(unit.repeat(1_000_000 / unit.len() + 1));
    let binary = Payload::from(
        (0..1_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect::<Vec<u8>>(),
    );
    for mode in ALL_MODES {
        let c = connect_v3(&peer.url(), mode).await;
        c.echo(text.clone()).await;
        c.echo(binary.clone()).await;
        assert_payloads(
            &c.label,
            &c.events.received(),
            &[text.clone(), binary.clone()],
        );
        c.close().await;
    }
}
