//! Echo through the proxy in every mode against every peer.

use actix_engineio::Payload;

use crate::support::client::{Client, Mode, ALL_MODES};
use crate::support::peers::{all_peers, start_peers, PeerOptions};
use crate::support::tinyproxy::{ProxyOptions, Tinyproxy};

#[actix_rt::test]
async fn every_mode_echoes_through_the_proxy_against_every_peer() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        for mode in ALL_MODES {
            // A proxy per session: sessions share the connection pool of the client built
            // for their settings (the proxy among them), and a websocket may take a pooled
            // connection another session left; with its own proxy, a session's client and
            // pool are new, and the proxy's log is this session's alone.
            let Some(proxy) = Tinyproxy::start_or_skip(ProxyOptions::default()) else {
                return;
            };
            let what = format!("[{} peer, {mode}, through {}]", peer.name(), proxy.url());
            let builder = mode.builder(&peer.url()).proxy(proxy.url());
            let client = Client::connect(&what, builder).await;
            assert_eq!(client.transport, mode.opens_on(), "{what}");
            client.echo("through the proxy").await;
            client.echo(Payload::from(vec![0u8, 1, 0x1e, 0xff])).await;
            if mode == Mode::Upgrade {
                client.upgraded().await;
                client.echo("after the upgrade").await;
            }
            client.close().await;
            // The client's pool is new, so its first connection is a new tunnel; a
            // websocket-only session makes exactly one connection.
            let tunnels = proxy.tunnels_to(peer.port());
            let expected = match mode {
                Mode::WebSocket => tunnels == 1,
                Mode::Polling | Mode::Upgrade => tunnels >= 1,
            };
            assert!(
                expected,
                "{what}: {tunnels} CONNECT to the peer's port {} in the proxy's log:\n{}",
                peer.port(),
                proxy.log()
            );
        }
    }
}
