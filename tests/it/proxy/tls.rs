//! `https` and `wss` through the tunnel, to the node peer serving TLS: awc does TLS inside
//! the tunnel, with the same certificate checks as without a proxy.

use actix_engineio::{ConnectError, Payload, Session, TransportError, TransportKind};

use super::{assert_untouched, FAILURE_DEADLINE, REQUEST_TIMEOUT};
use crate::support::client::{within, Client};
use crate::support::peers::{start_or_skip, Peer, PeerKind, PeerOptions};
use crate::support::pki::TestCa;
use crate::support::tinyproxy::{ProxyOptions, Tinyproxy};

/// The node peer over TLS with a certificate of `ca`, unless node cannot be had.
fn tls_node(ca: &TestCa) -> Option<Peer> {
    start_or_skip(
        PeerKind::Node,
        PeerOptions {
            tls: Some(ca.localhost_identity()),
            ..PeerOptions::default()
        },
    )
}

#[actix_rt::test]
async fn wss_and_https_go_through_the_tunnel_to_the_tls_node_peer() {
    let ca = TestCa::new("actix-engineio proxy test CA");
    let Some(peer) = tls_node(&ca) else {
        return;
    };
    let https = peer.url();
    let wss = https.replacen("https://", "wss://", 1);
    let cases = [
        (
            "wss websocket",
            Session::builder(&wss).transports(["websocket"]),
            TransportKind::WebSocket,
        ),
        (
            "https polling",
            Session::builder(&https).transports(["polling"]),
            TransportKind::Polling,
        ),
        (
            "https polling, upgraded",
            Session::builder(&https),
            TransportKind::Polling,
        ),
    ];
    for (name, builder, opens_on) in cases {
        // A proxy per session, for a new connection pool (see `super::echo`).
        let Some(proxy) = Tinyproxy::start_or_skip(ProxyOptions::default()) else {
            return;
        };
        let what = format!("[node peer over TLS, {name}, through {}]", proxy.url());
        let builder = builder.proxy(proxy.url()).ca_certificate_pem(ca.pem());
        let client = Client::connect(&what, builder).await;
        assert_eq!(client.transport, opens_on, "{what}");
        client.echo("secret through the tunnel").await;
        client.echo(Payload::from(vec![7u8; 5])).await;
        if name.ends_with("upgraded") {
            client.upgraded().await;
            client.echo("after the upgrade").await;
        }
        client.close().await;
        assert!(
            proxy.tunnels_to(peer.port()) >= 1,
            "{what}: no CONNECT to the peer's port in the proxy's log:\n{}",
            proxy.log()
        );
    }
}

#[actix_rt::test]
async fn the_certificate_is_still_verified_inside_the_tunnel() {
    let Some(proxy) = Tinyproxy::start_or_skip(ProxyOptions::default()) else {
        return;
    };
    let ca = TestCa::new("actix-engineio proxy test CA");
    let Some(peer) = tls_node(&ca) else {
        return;
    };
    let wss = peer.url().replacen("https://", "wss://", 1);
    let what = "[node peer over TLS, wss through the proxy, CA not trusted]";
    // The default roots only: the test CA is unknown.
    let builder = Session::builder(&wss)
        .transports(["websocket"])
        .proxy(proxy.url())
        .request_timeout(REQUEST_TIMEOUT);
    let result = within(what, FAILURE_DEADLINE, builder.connect()).await;
    match result {
        Err(ConnectError::Transport(TransportError::Connect(cause))) => {
            assert!(
                cause.to_ascii_lowercase().contains("certificate"),
                "{what}: not a certificate error: {cause}"
            );
        }
        other => panic!("{what}: expected a certificate error, got {other:?}"),
    }
    assert!(
        proxy.tunnels_to(peer.port()) >= 1,
        "{what}: the tunnel is not in the proxy's log:\n{}",
        proxy.log()
    );
    assert_untouched(&peer, what);
}
