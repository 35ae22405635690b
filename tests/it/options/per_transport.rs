//! What applies to one transport only (Node's `transportOptions` and `protocols`): the
//! headers of `polling_header` on the polling requests alone, those of `websocket_header`
//! on the websocket handshake alone, and the subprotocols of `websocket_protocols` offered
//! in it; checked in the request logs of every peer.

use actix_engineio::{Close, ConfigError, ConnectError, Session};

use super::{describe, exercise, settled_requests};
use crate::support::client::{Mode, ALL_MODES};
use crate::support::net::Untouched;
use crate::support::peers::{all_peers, start_peers, PeerOptions};

/// `.polling_header(..)` is on every polling request (handshake, polls, POSTs) and on no
/// websocket handshake; `.websocket_header(..)` the other way round; `.header(..)` on all.
/// Every peer, every mode.
#[actix_rt::test]
async fn each_transport_gets_its_own_headers() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        for mode in ALL_MODES {
            let label = format!("[{} peer, {}]", peer.kind(), mode);
            let first = peer.requests().len();
            let builder = mode
                .builder(&peer.url())
                .header("X-All", "a")
                .polling_header("X-Polling-Only", "p")
                .websocket_header("X-Websocket-Only", "w");
            let client = exercise(&label, mode, builder).await;
            client.session.do_send(Close);
            let requests = settled_requests(&label, mode, peer, first, &client).await;
            for request in &requests {
                let (want, not) = if request.is_websocket() {
                    (("x-websocket-only", "w"), "x-polling-only")
                } else {
                    (("x-polling-only", "p"), "x-websocket-only")
                };
                assert_eq!(
                    request.header(want.0),
                    Some(want.1),
                    "{label}: {} missing on {request:#?}",
                    want.0
                );
                assert_eq!(request.header(not), None, "{label}: {not} on {request:#?}");
                assert_eq!(request.header("x-all"), Some("a"), "{label}: {request:#?}");
            }
        }
    }
}

/// `.websocket_protocols(["v2.chat", "chat"])` offers both, in order, in every websocket
/// handshake (websocket-only and upgrade), and the session works whichever the server
/// picks (node picks the first, python and engineioxide none). Polling requests carry no
/// `Sec-WebSocket-Protocol`.
#[actix_rt::test]
async fn websocket_subprotocols_are_offered() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        for mode in [Mode::WebSocket, Mode::Upgrade] {
            let label = format!("[{} peer, {}]", peer.kind(), mode);
            let first = peer.requests().len();
            let builder = mode
                .builder(&peer.url())
                .websocket_protocols(["v2.chat", "chat"]);
            let client = exercise(&label, mode, builder).await;
            client.session.do_send(Close);
            let requests = settled_requests(&label, mode, peer, first, &client).await;
            let websockets: Vec<_> = requests.iter().filter(|r| r.is_websocket()).collect();
            assert!(!websockets.is_empty(), "{label}:\n{}", describe(&requests));
            for request in &requests {
                let offered: Option<Vec<&str>> = request
                    .header("sec-websocket-protocol")
                    .map(|v| v.split(',').map(str::trim).collect());
                if request.is_websocket() {
                    assert_eq!(
                        offered,
                        Some(vec!["v2.chat", "chat"]),
                        "{label}: {request:#?}"
                    );
                } else {
                    assert_eq!(offered, None, "{label}: {request:#?}");
                }
            }
        }
    }
}

/// A subprotocol that is not an HTTP token (awc would panic building its header) is a
/// configuration error, before anything is sent.
#[actix_rt::test]
async fn bad_subprotocols_are_config_errors() {
    let server = Untouched::new();
    for bad in ["", "two words", "a,b", "line\nbreak"] {
        let err = Session::builder(server.url())
            .transports(["websocket"])
            .websocket_protocols(["chat", bad])
            .connect()
            .await
            .expect_err(bad);
        assert!(
            matches!(&err, ConnectError::Config(ConfigError::Header { name, .. }) if name == "Sec-WebSocket-Protocol"),
            "{bad:?}: {err:?}"
        );
    }
    server.assert_untouched("bad subprotocols");
}
