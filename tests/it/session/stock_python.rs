//! The basic echo cases against python-engineio as users deploy it: the stock server
//! (`server.py --stock`, [`PeerOptions::stock_python`]: `AsyncServer(async_mode="aiohttp")`
//! with every default), not the python peer the rest of the suite uses, whose JSON handling
//! and request reading are replaced. Text and binary messages (some above python's 1 KiB
//! compression threshold) and a JSON message, in every mode (websocket, polling, polling upgraded to websocket); the client's
//! close and the server's. (Python compresses a polling response of 1 KiB or more when the
//! GET accepts gzip, which the client's do: seen with curl, `Content-Encoding: gzip`.)
//!
//! The stock server decodes every text message that parses as JSON and encodes it again
//! (compact, ASCII-escaped), so a JSON message comes back as the same JSON value, not
//! always the same text; the texts below do not parse as JSON. Messages stay small: stock
//! python-engineio may read a large polling POST short (tests/peers/README.md, quirks).
//! The stock server is a python peer: `EIO_TEST_PEERS` without `python` skips these tests.

use actix_engineio as eio;
use actix_engineio::{DisconnectReason, Payload};

use super::{connect, peer_close, peer_connect};
use crate::support::client::{assert_payloads, Mode, ALL_MODES};
use crate::support::peers::{session_requests, start_or_skip, PeerKind, PeerOptions};

/// Texts that do not parse as JSON (python-engineio would re-encode those that do), and
/// binaries; a text and a binary above python's compression threshold (1024 bytes).
fn messages() -> Vec<Payload> {
    vec![
        Payload::from("hello"),
        Payload::from(""),
        Payload::from("€😀ñ and \"quotes\""),
        Payload::from("4 looks like a packet"),
        Payload::from(vec![0x00, 0x1e, 0x01, 0xff]),
        Payload::from(Vec::new()),
        Payload::from("compressible ".repeat(300)),
        Payload::from((0..4000u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>()),
    ]
}

#[actix_rt::test]
async fn stock_python_echoes_text_binary_and_json_in_every_mode() {
    let Some(peer) = start_or_skip(PeerKind::Python, PeerOptions::stock_python()) else {
        return;
    };
    let messages = messages();
    let json = serde_json::json!({"text": "€ and \"quotes\"", "list": [1, -2.5, true, null]});
    for mode in ALL_MODES {
        let c = connect(&peer, mode).await;
        let l = &c.label;
        assert_eq!(c.transport, mode.opens_on(), "{l}: Connect event transport");
        let logged = peer_connect(&peer, l, &c.sid).await;
        assert_eq!(
            logged,
            mode.opens_on().as_str(),
            "{l}: transport of the peer's connect"
        );

        // Every message comes back exactly, in order (in upgrade mode, sent while the
        // upgrade is under way).
        for message in &messages {
            c.send(message.clone()).await;
        }
        let got = c.events.messages(messages.len()).await;
        c.assert_alive();
        assert_payloads(l, &got, &messages);

        // A JSON message comes back as the same JSON value.
        c.send(eio::Send::json(&json).expect("json").0).await;
        let got = c.events.messages(messages.len() + 1).await;
        c.assert_alive();
        let echoed = got
            .get(messages.len())
            .unwrap_or_else(|| panic!("{l}: no echo of the JSON message; seen {got:?}"));
        let parsed: serde_json::Value = echoed
            .parse_json()
            .unwrap_or_else(|e| panic!("{l}: echoed JSON {echoed:?} does not parse: {e}"));
        assert_eq!(parsed, json, "{l}: echoed JSON");

        if mode == Mode::Polling {
            // The large echoes came back over polling GETs that accept gzip, which the stock
            // server then uses: compressed bodies were decoded.
            let gets: Vec<_> = session_requests(&peer, &c.sid)
                .into_iter()
                .filter(|r| r.method == "GET")
                .collect();
            assert!(!gets.is_empty(), "{l}: no polling GET logged");
            for get in &gets {
                assert!(
                    get.header("accept-encoding")
                        .is_some_and(|v| v.contains("gzip")),
                    "{l}: a polling GET that does not accept gzip: {get:?}"
                );
            }
        }
        if mode == Mode::Upgrade {
            c.upgraded().await;
            c.echo(Payload::from("after the upgrade")).await;
            c.echo(Payload::from(vec![9u8, 0, 9])).await;
        }

        c.close().await;
        assert_eq!(
            c.events.disconnect_reason(),
            Some(DisconnectReason::ClientDisconnect),
            "{l}: the client's close"
        );
        let reason = peer_close(&peer, l, &c.sid).await;
        assert_eq!(
            reason, "client disconnect",
            "{l}: the server's close reason"
        );
    }
}

#[actix_rt::test]
async fn stock_python_server_close_is_server_disconnect() {
    let Some(peer) = start_or_skip(PeerKind::Python, PeerOptions::stock_python()) else {
        return;
    };
    for mode in ALL_MODES {
        let c = connect(&peer, mode).await;
        let l = &c.label;
        c.settle(mode).await;
        c.send(Payload::from("close-me")).await;
        assert_eq!(
            c.events.disconnect().await,
            DisconnectReason::ServerDisconnect,
            "{l}: reason after close-me"
        );
        let reason = peer_close(&peer, l, &c.sid).await;
        assert_eq!(
            reason, "server disconnect",
            "{l}: the server's close reason"
        );
    }
}
