//! 5, 6, 8: the server's close is a server disconnect; the client's is a client disconnect,
//! prompt, and delivers what was sent before it; a killed server is a transport error.

use std::time::{Duration, Instant};

use actix::MailboxError;
use actix_engineio as eio;
use actix_engineio::{Close, DisconnectReason, Payload, SendError};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::{connect, peer_close};
use crate::support::client::{texts, wait_until, Client, Mode, ALL_MODES, DEADLINE};
use crate::support::peers::{
    all_peers, assert_peer_received, start_peers, PeerEvent, PeerMessage, PeerOptions,
};
use crate::support::scripted::{open_packet, Reply, Scripted, ScriptedRequest};

// ---------------------------------------------------------------------------------------
// 5, 6: server close and client close

#[actix_rt::test]
async fn server_close_is_server_disconnect() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        for mode in ALL_MODES {
            let c = connect(peer, mode).await;
            let l = &c.label;
            c.settle(mode).await;
            c.send(Payload::from("close-me")).await;
            let reason = c.events.disconnect().await;
            assert_eq!(
                reason,
                DisconnectReason::ServerDisconnect,
                "{l}: reason after close-me"
            );
            assert_eq!(reason.to_string(), "server disconnect", "{l}");
            peer_close(peer, l, &c.sid).await;
        }
    }
}

/// `Close` ends the session as a client disconnect, and promptly: within 5 s, half the
/// request timeout (10 s), the shortest wait a close that is not answered would take
/// (a poll's or ping's wait would be longer still); a close takes milliseconds here.
#[actix_rt::test]
async fn client_close_is_client_disconnect_and_prompt() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    // (mode, whether to wait for an echo and the upgrade before closing)
    let variants = [
        (Mode::WebSocket, true),
        (Mode::Polling, true),
        (Mode::Upgrade, true),
        (Mode::Upgrade, false),
    ];
    for peer in &peers {
        for (mode, settle) in variants {
            let c = connect(peer, mode).await;
            let l = if settle {
                c.label.clone()
            } else {
                format!("{} (closed during the upgrade)", c.label)
            };
            if settle {
                c.settle(mode).await;
            }
            let start = Instant::now();
            actix_rt::time::timeout(Duration::from_secs(5), c.session.send(Close))
                .await
                .unwrap_or_else(|_| panic!("{l}: Close did not return within 5 s"))
                .unwrap_or_else(|e| panic!("{l}: Close: {e}"));
            let reason = c.events.disconnect_within(Duration::from_secs(5)).await;
            let took = start.elapsed();
            assert_eq!(reason, DisconnectReason::ClientDisconnect, "{l}");
            assert_eq!(reason.to_string(), "client disconnect", "{l}");
            assert!(took < Duration::from_secs(5), "{l}: Close took {took:?}");
            let peer_reason = peer_close(peer, &l, &c.sid).await;
            eprintln!(
                "{l}: peer close reason {peer_reason:?} after {:?}",
                start.elapsed()
            );

            // The session is over: a Send is refused, never accepted.
            match c.session.send(eio::Send::text("too late")).await {
                Ok(Err(eio::Unsent {
                    error: SendError::Closed,
                    ..
                }))
                | Err(MailboxError::Closed) => {}
                other => panic!("{l}: Send after the end answered {other:?}"),
            }
        }
    }
}

/// What a scripted server received, in order, as short strings.
type Received = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// Websocket-only server that records every message it receives, then `gone`.
fn recording_ws_server(received: Received) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| {
        let received = received.clone();
        async move {
            if !req.is_websocket() {
                return Reply::text(404, "");
            }
            Reply::websocket(move |mut ws| async move {
                ws.send_text(&open_packet("rec-ws", &[], 25_000, 20_000))
                    .await;
                loop {
                    let entry = match ws.recv().await {
                        Some(WsMessage::Text(t)) => format!("text {}", t.as_str()),
                        Some(WsMessage::Close(_)) => "close frame".to_string(),
                        Some(other) => format!("{other:?}"),
                        None => "gone".to_string(),
                    };
                    let done = entry == "gone";
                    received
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(entry);
                    if done {
                        break;
                    }
                }
            })
        }
    })
}

/// Polling-only server that records every packet POSTed; polls are answered with a noop
/// after a while.
fn recording_polling_server(received: Received) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| {
        let received = received.clone();
        async move {
            match (req.method.as_str(), req.query("sid")) {
                ("GET", None) => Reply::text(200, open_packet("rec-polling", &[], 25_000, 20_000)),
                ("GET", Some(_)) => {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    Reply::text(200, "6")
                }
                _ => {
                    let mut log = received.lock().unwrap_or_else(|e| e.into_inner());
                    for packet in req.body_text().split('\u{1e}') {
                        log.push(format!("text {packet}"));
                    }
                    Reply::text(200, "ok")
                }
            }
        }
    })
}

#[actix_rt::test]
async fn client_close_delivers_what_was_sent_before_it() {
    let mut failures = Vec::new();
    for mode in [Mode::WebSocket, Mode::Polling] {
        let received = Received::default();
        let server = match mode {
            Mode::WebSocket => recording_ws_server(received.clone()),
            _ => recording_polling_server(received.clone()),
        };
        let l = format!("[recording scripted server, {mode}]");
        let c = Client::connect(l.clone(), mode.builder(&server.url())).await;
        // One message whose Send was answered, one sent without waiting, then Close.
        c.send(Payload::from("last words")).await;
        c.session.do_send(eio::Send::text("final words"));
        c.session.send(Close).await.expect("Close");
        assert_eq!(
            c.events.disconnect().await,
            DisconnectReason::ClientDisconnect,
            "{l}"
        );
        let log = || received.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let closed = |log: &[String]| {
            log.iter()
                .any(|e| e == "text 1" || e == "close frame" || e == "gone")
        };
        wait_until(DEADLINE, || closed(&log())).await;
        // Both messages reach the server, in order, then the session is closed cleanly:
        // a `1` packet or a websocket close frame, not just a dropped connection.
        let log = log();
        let last = log.iter().position(|e| e == "text 4last words");
        let last_but_not_awaited = log.iter().position(|e| e == "text 4final words");
        let close = log.iter().position(|e| e == "text 1" || e == "close frame");
        if last.is_none() || last_but_not_awaited.is_none() || last > last_but_not_awaited {
            failures.push(format!(
                "{l}: the messages sent before Close did not all reach the server in order; it received {log:?}"
            ));
        }
        if close.is_none() || close < last.max(last_but_not_awaited) {
            failures.push(format!(
                "{l}: no `1` packet or close frame after the last message; the server received {log:?}"
            ));
        }
        drop(server);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// With the real peers, in every mode (and during the upgrade, before it settles), the
/// messages sent right before `Close` (answered ones, then ones sent without waiting)
/// all reach the peer, in order, before the peer logs the session's close, and none
/// after it.
#[actix_rt::test]
async fn client_close_delivers_what_was_sent_before_it_to_every_peer() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    // (mode, whether to wait for an echo and the upgrade before sending)
    let variants = [
        (Mode::WebSocket, true),
        (Mode::Polling, true),
        (Mode::Upgrade, true),
        (Mode::Upgrade, false),
    ];
    for peer in &peers {
        for (mode, settle) in variants {
            let c = connect(peer, mode).await;
            let l = if settle {
                c.label.clone()
            } else {
                format!("{} (closed during the upgrade)", c.label)
            };
            let mut expected = Vec::new();
            if settle {
                c.settle(mode).await;
                expected.push("settle".to_owned());
            }
            let awaited = texts("awaited-", 5);
            c.send_all(&awaited).await;
            let not_awaited = texts("not-awaited-", 5);
            for text in &not_awaited {
                c.session.do_send(eio::Send::text(text.clone()));
            }
            expected.extend(awaited.into_iter().chain(not_awaited));
            c.session.send(Close).await.expect("Close");
            assert_eq!(
                c.events.disconnect().await,
                DisconnectReason::ClientDisconnect,
                "{l}"
            );

            peer_close(peer, &l, &c.sid).await;
            let events = peer.events();
            let closed_at = events
                .iter()
                .position(|e| matches!(e, PeerEvent::Close { sid, .. } if *sid == c.sid))
                .expect("the close peer_close waited for");
            let messages_of = |events: &[PeerEvent]| -> Vec<PeerMessage> {
                events
                    .iter()
                    .filter_map(|e| match e {
                        PeerEvent::Message(m) if m.sid == c.sid => Some(m.clone()),
                        _ => None,
                    })
                    .collect()
            };
            let before = messages_of(&events[..closed_at]);
            assert_peer_received(&format!("{l} before the close"), &before, &c.sid, &expected);
            let after = messages_of(&events[closed_at..]);
            assert!(after.is_empty(), "{l}: messages after the close: {after:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// 8: server killed

#[actix_rt::test]
async fn killed_server_is_a_transport_error() {
    let mut peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &mut peers {
        let mut clients = Vec::new();
        for mode in ALL_MODES {
            let c = connect(peer, mode).await;
            c.settle(mode).await;
            clients.push(c);
        }
        peer.kill();
        for c in &clients {
            let reason = c.events.disconnect().await;
            assert!(
                matches!(reason, DisconnectReason::TransportError(_)),
                "{}: reason after the server was killed: {reason:?}",
                c.label
            );
            assert_eq!(reason.to_string(), "transport error", "{}", c.label);
            eprintln!("{}: {reason:?}", c.label);
        }
    }
}
