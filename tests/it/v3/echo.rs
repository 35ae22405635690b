//! Messages over v3 come back exactly and in order: text (the record separator included,
//! which v3 polling carries), binary (a binary polling payload, a binary frame with its
//! type byte), a thousand pipelined, one of a megabyte.

use std::rc::Rc;

use actix_engineio as eio;
use actix_engineio::Payload;

use super::{connect_v3, each_peer_and_mode};
use crate::support::client::{assert_payloads, assert_texts, texts, Mode, DEADLINE};
use crate::support::peers::{peer_messages, Peer, PeerMessage, PeerOptions};

/// Text and binary, each echoed exactly; every message also arrived at the peer as what
/// it is (text as text, binary as binary).
#[actix_rt::test]
async fn text_and_binary_echo_exactly() {
    each_peer_and_mode(PeerOptions::default(), text_and_binary_echo).await;
}

async fn text_and_binary_echo(peer: Rc<Peer>, mode: Mode) {
    let messages = vec![
        Payload::from("hello"),
        Payload::from(""),
        Payload::from("€😀ñ \"quoted\" \\"),
        Payload::from("a\u{1e}b\u{1e}"),
        Payload::from("4 looks like a packet"),
        Payload::from("12:4not a length"),
        Payload::from("{\"json\": [1, 2]}"),
        Payload::from(vec![0x00, 0x1e, 0x01, 0xff, 0x04, 0x00]),
        Payload::from(vec![0x04]),
        Payload::from(Vec::new()),
        Payload::from(b"b4AQI=".to_vec()),
    ];
    let c = connect_v3(&peer, mode).await;
    let l = &c.label;
    for message in &messages {
        c.send(message.clone()).await;
    }
    let got = c.wait_messages(messages.len(), DEADLINE).await;
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

/// A thousand messages sent without waiting for any echo come back once each, in order.
#[actix_rt::test]
async fn a_thousand_pipelined_messages_arrive_in_order() {
    each_peer_and_mode(PeerOptions::default(), a_thousand_pipelined).await;
}

async fn a_thousand_pipelined(peer: Rc<Peer>, mode: Mode) {
    let c = connect_v3(&peer, mode).await;
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

/// Nearly a megabyte of text and of binary, each echoed exactly: 999 000 bytes, so that
/// the packet fits the 1 000 000 bytes the client allows a v3 server that announces no
/// `maxPayload` (node 3, python 3), its polling record's marker and length included. The
/// peers accept 3 MB.
#[actix_rt::test]
async fn a_megabyte_message_echoes_exactly() {
    let opts = PeerOptions {
        max_payload: 3_000_000,
        ..PeerOptions::default()
    };
    each_peer_and_mode(opts, a_megabyte_each_way).await;
}

/// The size of [`a_megabyte_each_way`]'s messages, in bytes.
const SIZE: usize = 999_000;

async fn a_megabyte_each_way(peer: Rc<Peer>, mode: Mode) {
    let unit = "abcdefghij€😀ñ\"\\{}";
    let mut text = unit.repeat(SIZE / unit.len() + 1);
    while text.len() > SIZE {
        text.pop();
    }
    let text = Payload::from(text);
    let binary = Payload::from(
        (0..SIZE as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect::<Vec<u8>>(),
    );
    let c = connect_v3(&peer, mode).await;
    c.echo(text.clone()).await;
    c.echo(binary.clone()).await;
    assert_payloads(&c.label, &c.events.received(), &[text, binary]);
    c.close().await;
}
