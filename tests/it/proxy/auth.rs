//! A proxy that requires Basic authentication (`BasicAuth` in tinyproxy's configuration).

use actix_engineio::ProxyError;

use super::{assert_untouched, proxy_failure};
use crate::support::client::{Client, Mode};
use crate::support::peers::{all_peers, Peer, PeerOptions};
use crate::support::tinyproxy::{ProxyOptions, Tinyproxy};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-pw";

fn auth_proxy() -> Option<Tinyproxy> {
    Tinyproxy::start_or_skip(ProxyOptions {
        basic_auth: Some((USER.into(), PASSWORD.into())),
        ..ProxyOptions::default()
    })
}

/// The first enabled peer: what is tested is the proxy's answer, the same for every server.
fn any_peer() -> Peer {
    Peer::start(all_peers()[0], PeerOptions::default())
}

#[actix_rt::test]
async fn the_right_credentials_open_the_tunnel_in_every_transport() {
    let Some(proxy) = auth_proxy() else {
        return;
    };
    let peer = any_peer();
    for mode in [Mode::WebSocket, Mode::Polling] {
        let what = format!("[{} peer, {mode}, proxy with credentials]", peer.name());
        let before = proxy.tunnels_to(peer.port());
        let builder = mode
            .builder(&peer.url())
            .proxy(proxy.url_with(USER, PASSWORD));
        let client = Client::connect(&what, builder).await;
        client.echo("authenticated").await;
        client.close().await;
        assert!(
            proxy.tunnels_to(peer.port()) > before,
            "{what}: no CONNECT in the proxy's log:\n{}",
            proxy.log()
        );
    }
}

#[actix_rt::test]
async fn no_credentials_is_a_proxy_authentication_error() {
    let Some(proxy) = auth_proxy() else {
        return;
    };
    let peer = any_peer();
    for mode in [Mode::WebSocket, Mode::Polling] {
        let what = format!("[{} peer, {mode}, proxy without credentials]", peer.name());
        let error = proxy_failure(mode.builder(&peer.url()).proxy(proxy.url()), &what).await;
        assert_eq!(
            error,
            ProxyError::AuthenticationRequired {
                proxy: proxy.url(),
                status: 407,
                credentials_sent: false,
            },
            "{what}"
        );
        assert!(
            error.to_string().contains("proxy authentication required"),
            "{what}: {error}"
        );
    }
    assert_untouched(&peer, "after the refusals");
}

#[actix_rt::test]
async fn wrong_credentials_are_a_proxy_authentication_error_without_the_password() {
    let Some(proxy) = auth_proxy() else {
        return;
    };
    let peer = any_peer();
    let wrong = "not-the-password";
    for mode in [Mode::WebSocket, Mode::Polling] {
        let what = format!("[{} peer, {mode}, wrong proxy password]", peer.name());
        let builder = mode.builder(&peer.url()).proxy(proxy.url_with(USER, wrong));
        assert!(
            !format!("{:?}", builder.client_config()).contains(wrong),
            "{what}: the password in the config's Debug"
        );
        let error = proxy_failure(builder, &what).await;
        match &error {
            // tinyproxy answers wrong credentials with 401, missing ones with 407.
            ProxyError::AuthenticationRequired {
                proxy: shown,
                status: 401 | 407,
                credentials_sent: true,
            } => assert_eq!(
                *shown,
                format!("http://{USER}:<redacted>@127.0.0.1:{}", proxy.port()),
                "{what}"
            ),
            other => panic!("{what}: expected AuthenticationRequired, got {other:?}"),
        }
        assert!(
            error.to_string().contains("proxy authentication required"),
            "{what}: {error}"
        );
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(wrong), "{what}: the password in {shown}");
    }
    assert_untouched(&peer, "after the refusals");
}
