//! 9, 10: malformed input is a protocol error that ends the session; a failed handshake
//! (refused, non-2xx, malformed, silent, misconfigured) is an error, never a hang.

use std::time::Duration;

use actix_engineio::{
    ConfigError, ConnectError, DisconnectReason, Session, SessionBuilder, TransportError,
};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::connect;
use crate::support::client::{within, Client, Mode, ALL_MODES, DEADLINE};
use crate::support::net::refused_url;
use crate::support::peers::{all_peers, enabled, start_peers, Peer, PeerKind, PeerOptions};
use crate::support::scripted::{open_packet, Reply, Scripted, ScriptedRequest};

// ---------------------------------------------------------------------------------------
// 9: malformed input

/// Websocket-only server: the open packet, then `bad`.
fn ws_then(bad: WsMessage) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| {
        let bad = bad.clone();
        async move {
            if !req.is_websocket() {
                return Reply::text(404, "");
            }
            Reply::websocket(move |mut ws| async move {
                ws.send_text(&open_packet("bad-ws", &[], 25_000, 20_000))
                    .await;
                ws.send(bad).await;
                while ws.recv().await.is_some() {}
            })
        }
    })
}

/// Polling server: the handshake, then every poll answered with `body`.
fn polling_then(body: Vec<u8>) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| {
        let body = body.clone();
        async move {
            match (req.method.as_str(), req.query("sid")) {
                ("GET", None) => Reply::text(200, open_packet("bad-polling", &[], 25_000, 20_000)),
                ("GET", Some(_)) => Reply::Http {
                    status: 200,
                    headers: vec![("content-type".into(), "text/plain; charset=UTF-8".into())],
                    body,
                },
                _ => Reply::text(200, "ok"),
            }
        }
    })
}

#[actix_rt::test]
async fn malformed_input_is_a_protocol_error() {
    let invalid_utf8_frame = WsMessage::Frame(Frame::message(
        vec![b'4', 0xff, 0xfe, b'x'],
        OpCode::Data(Data::Text),
        true,
    ));
    let cases: Vec<(&str, Mode, Scripted, Option<usize>)> = vec![
        (
            "unknown packet type \"9x\"",
            Mode::WebSocket,
            ws_then(WsMessage::text("9x")),
            None,
        ),
        (
            "empty text frame",
            Mode::WebSocket,
            ws_then(WsMessage::text("")),
            None,
        ),
        (
            "invalid UTF-8 text frame",
            Mode::WebSocket,
            ws_then(invalid_utf8_frame),
            None,
        ),
        (
            "5000-byte text frame over max_frame_size(1000)",
            Mode::WebSocket,
            ws_then(WsMessage::text(format!("4{}", "x".repeat(5000)))),
            Some(1000),
        ),
        (
            "5000-byte binary frame over max_frame_size(1000)",
            Mode::WebSocket,
            ws_then(WsMessage::binary(vec![7u8; 5000])),
            Some(1000),
        ),
        (
            "payload \"4ok\\x1e9bad\"",
            Mode::Polling,
            polling_then(b"4ok\x1e9bad".to_vec()),
            None,
        ),
        (
            "bad base64 \"b!!!\"",
            Mode::Polling,
            polling_then(b"b!!!".to_vec()),
            None,
        ),
        (
            "invalid UTF-8 body",
            Mode::Polling,
            polling_then(vec![b'4', 0xff, 0xfe, b'x']),
            None,
        ),
    ];
    for (what, mode, server, frame_limit) in &cases {
        let l = format!("[scripted server, {mode}, {what}]");
        let mut builder = mode.builder(&server.url());
        if let Some(limit) = frame_limit {
            builder = builder.max_frame_size(*limit);
        }
        let c = Client::connect(l.clone(), builder).await;
        let reason = c.events.disconnect().await;
        let cause = match &reason {
            DisconnectReason::TransportError(cause) => cause,
            other => panic!("{l}: expected a transport error, got {other:?}"),
        };
        match frame_limit {
            Some(limit) => assert_eq!(
                *cause,
                TransportError::FrameTooLarge { limit: *limit },
                "{l}: cause"
            ),
            None => assert!(
                matches!(cause, TransportError::Protocol(_)),
                "{l}: expected a protocol error, got {cause:?}"
            ),
        }
        eprintln!("{l}: {reason}: {cause}");
    }
    drop(cases);

    // The process is fine: a session to a real peer works (the Rust peer, or the first
    // one EIO_TEST_PEERS enables).
    let kind = if enabled(PeerKind::Rust) {
        PeerKind::Rust
    } else {
        all_peers()[0]
    };
    let peer = Peer::start(kind, PeerOptions::default());
    for mode in ALL_MODES {
        let c = connect(&peer, mode).await;
        c.settle(mode).await;
        c.close().await;
    }
}

// ---------------------------------------------------------------------------------------
// 10: failed handshakes

/// Answers every request (handshake GET and websocket alike) per `reply`.
fn handshake_server(reply: fn(&ScriptedRequest) -> Reply) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| async move { reply(&req) })
}

/// The open-packet position holds `first` over polling and websocket.
fn first_packet_server(first: &'static str) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| async move {
        if req.is_websocket() {
            Reply::websocket(move |mut ws| async move {
                ws.send_text(first).await;
                while ws.recv().await.is_some() {}
            })
        } else {
            Reply::text(200, first)
        }
    })
}

async fn connect_error(label: &str, builder: SessionBuilder) -> ConnectError {
    match within(format!("{label} connect()"), DEADLINE, builder.connect()).await {
        Ok(_) => panic!("{label}: connect() succeeded"),
        Err(e) => e,
    }
}

#[actix_rt::test]
async fn failed_handshake_is_an_error_never_a_hang() {
    // Connection refused.
    let refused = refused_url();
    for mode in ALL_MODES {
        let l = format!("[refused port, {mode}]");
        let err = connect_error(&l, mode.builder(&refused)).await;
        assert!(
            matches!(err, ConnectError::Transport(TransportError::Connect(_))),
            "{l}: {err:?}"
        );
    }

    // A non-2xx answer: status and body reach the caller.
    let refusing = handshake_server(|_| Reply::Http {
        status: 400,
        headers: vec![("content-type".into(), "application/json".into())],
        body: br#"{"code":5,"message":"Unsupported protocol version"}"#.to_vec(),
    });
    for mode in ALL_MODES {
        let l = format!("[scripted 400, {mode}]");
        let err = connect_error(&l, mode.builder(&refusing.url())).await;
        assert_eq!(err.status(), Some(400), "{l}: {err:?}");
        // awc's websocket client does not hand over the body of a refused upgrade.
        if mode != Mode::WebSocket {
            assert!(
                err.to_string().contains("Unsupported protocol version"),
                "{l}: the body is not in the error: {err}"
            );
        }
    }

    // Real servers refusing a transport they do not allow.
    let ws_only = start_peers(
        &all_peers(),
        PeerOptions {
            transports: vec!["websocket"],
            ..PeerOptions::default()
        },
    );
    for peer in &ws_only {
        let l = format!(
            "[{} peer allowing websocket only, polling only]",
            peer.kind()
        );
        let err = connect_error(&l, Mode::Polling.builder(&peer.url())).await;
        assert!(
            matches!(err.status(), Some(400..=499)),
            "{l}: expected a 4xx status: {err:?}"
        );
        eprintln!("{l}: {err}");
    }
    drop(ws_only);

    // A malformed open packet, and a first packet that is not an open packet.
    for (what, server) in [
        (
            "open packet \"0{not json\"",
            first_packet_server("0{not json"),
        ),
        ("first packet \"4hello\"", first_packet_server("4hello")),
        ("first packet \"9\"", first_packet_server("9")),
    ] {
        for mode in ALL_MODES {
            let l = format!("[scripted {what}, {mode}]");
            let err = connect_error(&l, mode.builder(&server.url())).await;
            assert!(
                matches!(err, ConnectError::Transport(TransportError::Protocol(_))),
                "{l}: {err:?}"
            );
        }
    }

    // A server that never answers: the request timeout ends the handshake.
    let silent = handshake_server(|_| Reply::Hang);
    for mode in ALL_MODES {
        let l = format!("[scripted server that never answers, {mode}]");
        let builder = mode
            .builder(&silent.url())
            .request_timeout(Duration::from_secs(1));
        let err = connect_error(&l, builder).await;
        assert_eq!(err, ConnectError::Transport(TransportError::Timeout), "{l}");
    }
    // A websocket that opens but never sends the open packet.
    let mute_ws = handshake_server(|req| {
        if req.is_websocket() {
            Reply::websocket(|mut ws| async move { while ws.recv().await.is_some() {} })
        } else {
            Reply::text(404, "")
        }
    });
    let l = "[scripted websocket without an open packet, websocket only]";
    let builder = Mode::WebSocket
        .builder(&mute_ws.url())
        .request_timeout(Duration::from_secs(1));
    let err = connect_error(l, builder).await;
    assert_eq!(err, ConnectError::Transport(TransportError::Timeout), "{l}");

    // Configuration errors, found before any I/O.
    for url in ["ftp://x", "not a url", ""] {
        for mode in ALL_MODES {
            let l = format!("[url {url:?}, {mode}]");
            let err = connect_error(&l, mode.builder(url)).await;
            assert!(matches!(err, ConnectError::Config(_)), "{l}: {err:?}");
        }
    }
    for transports in [vec!["carrier-pigeon"], vec![], vec!["polling", "polling"]] {
        let l = format!("[transports {transports:?}]");
        let builder = Session::builder("http://127.0.0.1:1").transports(transports);
        let err = connect_error(&l, builder).await;
        assert!(
            matches!(err, ConnectError::Config(ConfigError::Transports(_))),
            "{l}: {err:?}"
        );
    }
}
