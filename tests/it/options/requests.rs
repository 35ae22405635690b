//! Headers, query parameters, the engine.io path, the `t` cache-buster and a user-built
//! `awc::Client`, checked on every request of a session in the peers' logs.

use std::collections::HashSet;
use std::time::Duration;

use actix_engineio::{Close, Session, TransportKind};

use super::{describe, exercise, requests_since, settled_requests};
use crate::support::client::{wait_until, Client, Mode, ALL_MODES, DEADLINE};
use crate::support::fault_proxy::FaultProxy;
use crate::support::peers::{all_peers, start_peers, PeerOptions, PeerRequest};
use crate::support::wire::Wire;

// ---------------------------------------------------------------------------------------
// headers and query

/// `.header("X-Token", "abc").query("room", "r1")` reach the server on every request of
/// the session (handshake, polls, POSTs, websocket upgrade or websocket handshake), with
/// every peer, in every mode.
#[actix_rt::test]
async fn headers_and_query_on_every_request() {
    let peers = start_peers(
        &all_peers(),
        PeerOptions {
            ping_interval: Duration::from_secs(1),
            ..PeerOptions::default()
        },
    );
    for peer in &peers {
        for mode in ALL_MODES {
            let label = format!("[{} peer, {}]", peer.kind(), mode);
            let first = peer.requests().len();
            // Through a recording proxy, to see the pings answered on the wire.
            let proxy = FaultProxy::start(peer.port());
            proxy.record();
            let builder = mode
                .builder(&proxy.url())
                .header("X-Token", "abc")
                .query("room", "r1");
            let client = exercise(&label, mode, builder).await;
            // A ping answered over the session's transport.
            let pinged = || Wire::recorded(&proxy).pings_answered(&client.sid) >= 1;
            assert!(
                wait_until(DEADLINE, pinged).await,
                "{label}: no ping answered within {DEADLINE:?}"
            );
            client.assert_alive();
            client.close().await;

            let requests = settled_requests(&label, mode, peer, first, &client).await;
            for request in &requests {
                assert_eq!(
                    request.header("x-token"),
                    Some("abc"),
                    "{label}: header missing on {request:#?}"
                );
                assert_eq!(
                    request.query("room").as_deref(),
                    Some("r1"),
                    "{label}: query missing on {request:#?}"
                );
                assert_eq!(request.query("EIO").as_deref(), Some("4"), "{label}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// path

/// A peer serving `/custom/` is reached with `.path("/custom/")` and with the path in the
/// URL, in every mode; every request goes to that path.
#[actix_rt::test]
async fn custom_path() {
    let peers = start_peers(
        &all_peers(),
        PeerOptions {
            path: "/custom/".into(),
            ..PeerOptions::default()
        },
    );
    for peer in &peers {
        for mode in ALL_MODES {
            for how in ["path(\"/custom/\")", "URL http://127.0.0.1:PORT/custom/"] {
                let label = format!("[{} peer, {}, {how}]", peer.kind(), mode);
                let first = peer.requests().len();
                let builder = if how.starts_with("path") {
                    mode.builder(&peer.url()).path("/custom/")
                } else {
                    mode.builder(&format!("{}/custom/", peer.url()))
                };
                let client = exercise(&label, mode, builder).await;
                client.session.do_send(Close);
                let requests = settled_requests(&label, mode, peer, first, &client).await;
                for request in &requests {
                    assert!(
                        request.url.starts_with("/custom/?"),
                        "{label}: request to {}",
                        request.url
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// timestamps

/// Polling GETs carry a `t` parameter by default, a different one on each request;
/// `.timestamp_requests(false)` sends none.
#[actix_rt::test]
async fn timestamp_requests() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        for on in [true, false] {
            let label = format!(
                "[{} peer, polling only, timestamp_requests({on})]",
                peer.kind()
            );
            let builder = Session::builder(peer.url())
                .transports(["polling"])
                .timestamp_requests(on);
            let first = peer.requests().len();
            let client = Client::connect(label.clone(), builder).await;
            // One round trip at a time: each echo comes back on a poll of its own.
            for i in 0..5 {
                client.echo_all(&[format!("tick-{i}")]).await;
            }
            client.session.do_send(Close);
            let gets = || -> Vec<PeerRequest> {
                requests_since(peer, first, &client)
                    .into_iter()
                    .filter(|r| r.method == "GET" && !r.is_websocket())
                    .collect()
            };
            // The peer's log may lag behind.
            wait_until(DEADLINE, || gets().len() >= 6).await;
            let gets = gets();
            assert!(
                gets.len() >= 6,
                "{label}: expected the handshake and 5+ polls:\n{}",
                describe(&gets)
            );
            let stamps: Vec<Option<String>> = gets.iter().map(|r| r.query("t")).collect();
            if on {
                let distinct: HashSet<&String> = stamps.iter().flatten().collect();
                assert!(
                    stamps.iter().all(Option::is_some),
                    "{label}: a GET without t:\n{}",
                    describe(&gets)
                );
                assert_eq!(
                    distinct.len(),
                    gets.len(),
                    "{label}: t values repeat:\n{}",
                    describe(&gets)
                );
            } else {
                assert!(
                    stamps.iter().all(Option::is_none),
                    "{label}: a GET with t:\n{}",
                    describe(&gets)
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// a user-built client

/// An `awc::Client` given with `.http_client(..)` makes every request: its default header
/// shows on every request of the session, with every peer, in every mode.
#[actix_rt::test]
async fn user_http_client_is_used() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        for mode in ALL_MODES {
            let label = format!("[{} peer, {}]", peer.kind(), mode);
            let first = peer.requests().len();
            let http = awc::Client::builder()
                .add_default_header(("x-from-client", "1"))
                .finish();
            let client = exercise(&label, mode, mode.builder(&peer.url()).http_client(http)).await;
            assert_eq!(
                client.transport,
                match mode {
                    Mode::WebSocket => TransportKind::WebSocket,
                    _ => TransportKind::Polling,
                },
                "{label}"
            );
            client.session.do_send(Close);
            let requests = settled_requests(&label, mode, peer, first, &client).await;
            for request in &requests {
                assert_eq!(
                    request.header("x-from-client"),
                    Some("1"),
                    "{label}: not made by the given client: {request:#?}"
                );
            }
        }
    }
}
