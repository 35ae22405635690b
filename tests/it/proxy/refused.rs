//! Proxies that do not open the tunnel: not listening, denying the client, unable to
//! reach the server. Each is a [`ProxyError`] naming the proxy, well before the request
//! timeout (see [`super::proxy_failure`]).

use actix_engineio::ProxyError;

use super::{assert_untouched, proxy_failure};
use crate::support::client::Mode;
use crate::support::net::refused_url;
use crate::support::peers::{all_peers, Peer, PeerOptions};
use crate::support::tinyproxy::{ProxyOptions, Tinyproxy};

#[actix_rt::test]
async fn a_proxy_that_is_not_listening_is_unreachable() {
    // Needs no tinyproxy: a closed loopback port.
    let proxy = refused_url();
    let peer = Peer::start(all_peers()[0], PeerOptions::default());
    for mode in [Mode::WebSocket, Mode::Polling] {
        let what = format!("[{} peer, {mode}, proxy {proxy} closed]", peer.name());
        let error = proxy_failure(mode.builder(&peer.url()).proxy(&proxy), &what).await;
        match &error {
            ProxyError::Unreachable {
                proxy: shown,
                reason,
            } => {
                assert_eq!(*shown, proxy, "{what}");
                assert!(
                    reason.to_ascii_lowercase().contains("refused"),
                    "{what}: {reason}"
                );
            }
            other => panic!("{what}: expected Unreachable, got {other:?}"),
        }
        assert!(
            error.to_string().starts_with("cannot connect to proxy "),
            "{what}: {error}"
        );
    }
    assert_untouched(&peer, "after the refusals");
}

#[actix_rt::test]
async fn a_proxy_that_denies_the_client_refuses_with_403() {
    let Some(proxy) = Tinyproxy::start_or_skip(ProxyOptions {
        deny_loopback: true,
        ..ProxyOptions::default()
    }) else {
        return;
    };
    let peer = Peer::start(all_peers()[0], PeerOptions::default());
    for mode in [Mode::WebSocket, Mode::Polling] {
        let what = format!("[{} peer, {mode}, proxy denying]", peer.name());
        let error = proxy_failure(mode.builder(&peer.url()).proxy(proxy.url()), &what).await;
        assert_eq!(
            error,
            ProxyError::Refused {
                proxy: proxy.url(),
                target: format!("127.0.0.1:{}", peer.port()),
                status: 403,
            },
            "{what}"
        );
    }
    assert_untouched(&peer, "after the refusals");
}

#[actix_rt::test]
async fn a_proxy_that_cannot_reach_the_server_refuses_with_its_status() {
    let Some(proxy) = Tinyproxy::start_or_skip(ProxyOptions::default()) else {
        return;
    };
    let server = refused_url();
    let port = server.rsplit(':').next().unwrap().to_string();
    for mode in [Mode::WebSocket, Mode::Polling] {
        let what = format!("[{mode}, server {server} closed, through the proxy]");
        let error = proxy_failure(mode.builder(&server).proxy(proxy.url()), &what).await;
        match &error {
            // tinyproxy answers 500 "Unable to connect".
            ProxyError::Refused { target, status, .. } => {
                assert_eq!(*target, format!("127.0.0.1:{port}"), "{what}");
                assert!((500..600).contains(status), "{what}: {error}");
            }
            other => panic!("{what}: expected Refused, got {other:?}"),
        }
    }
    assert!(
        proxy.tunnels_to(port.parse().unwrap()) >= 2,
        "the CONNECTs are not in the proxy's log:\n{}",
        proxy.log()
    );
}
