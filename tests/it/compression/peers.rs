//! Compressed sessions against the real peers: what was agreed (the server's `101`),
//! exact echoes of large and many messages, and the bytes on the wire.

use actix_engineio::{Payload, SessionBuilder};

use super::{every_byte, extensions_answered, extensions_offered, json_lines};
use crate::support::client::{Client, Mode};
use crate::support::fault_proxy::FaultProxy;
use crate::support::peers::{start_or_skip, Peer, PeerKind, PeerOptions};
use crate::support::pki::TestCa;
use crate::support::tinyproxy::{ProxyOptions, Tinyproxy};

/// Node's engine.io with `perMessageDeflate` (every message compressed) and room for
/// 1 MiB messages.
fn deflating_node() -> PeerOptions {
    PeerOptions {
        per_message_deflate: true,
        max_payload: 2_000_000,
        ..PeerOptions::default()
    }
}

/// The client's session through a recording proxy to `peer`.
async fn through_proxy(
    peer: &Peer,
    mode: Mode,
    tweak: impl FnOnce(SessionBuilder) -> SessionBuilder,
) -> (Client, FaultProxy) {
    let proxy = FaultProxy::start(peer.port());
    proxy.record();
    let scheme = if peer.url().starts_with("https") {
        "https"
    } else {
        "http"
    };
    let url = format!("{scheme}://127.0.0.1:{}", proxy.port());
    let label = format!("[{} {mode}, through a proxy]", peer.name());
    let client = Client::connect(label, tweak(mode.builder(&url))).await;
    client.settle(mode).await;
    (client, proxy)
}

/// The client's bytes on the wire while `payload` is echoed.
async fn echoed_with_bytes_up(client: &Client, proxy: &FaultProxy, payload: Payload) -> u64 {
    let before = proxy.bytes_up();
    client.echo(payload).await;
    proxy.bytes_up() - before
}

/// The cases of the issue, on a session whose server accepted permessage-deflate: a
/// 100 KB JSON-like text (compressed to under a fifth on the wire), a 1 MB text,
/// binary with every byte value, 10,000 small messages pipelined, each echoed exactly
/// and in order.
async fn compressed_echoes(peer: &Peer, mode: Mode, big: usize) {
    let (c, proxy) = through_proxy(peer, mode, |b| b).await;
    let l = c.label.clone();
    assert_eq!(
        extensions_answered(&proxy),
        ["permessage-deflate"],
        "{l}: the server's 101 accepts the extension"
    );
    assert!(
        extensions_offered(peer)
            .iter()
            .any(|x| x == "permessage-deflate"),
        "{l}: the client offers it: {:?}",
        extensions_offered(peer)
    );

    let json = json_lines(100_000);
    let up = echoed_with_bytes_up(&c, &proxy, Payload::from(json.as_str())).await;
    eprintln!("{l}: 100,000 bytes of JSON lines took {up} bytes on the wire");
    assert!(
        up < 20_000,
        "{l}: {up} bytes on the wire for 100 KB of JSON"
    );

    let up = echoed_with_bytes_up(&c, &proxy, Payload::from(json_lines(big))).await;
    eprintln!("{l}: {big} bytes of JSON lines took {up} bytes on the wire");
    let up = echoed_with_bytes_up(&c, &proxy, every_byte(256 * 400)).await;
    eprintln!("{l}: 102,400 bytes of every byte value took {up} bytes on the wire");
    assert!(up < 10_000, "{l}: {up} bytes");

    let small: Vec<String> = (0..10_000)
        .map(|i| format!("pipelined message {i:05}"))
        .collect();
    let before = proxy.bytes_up();
    c.echo_all(&small).await;
    let up = proxy.bytes_up() - before;
    let raw: usize = small.iter().map(|m| m.len() + 1).sum();
    eprintln!("{l}: 10,000 small messages ({raw} bytes) took {up} bytes on the wire");
    c.close().await;
}

#[actix_rt::test]
async fn node_with_per_message_deflate_negotiates_and_echoes_exactly() {
    let Some(peer) = start_or_skip(PeerKind::Node, deflating_node()) else {
        return;
    };
    for mode in [Mode::WebSocket, Mode::Upgrade] {
        compressed_echoes(&peer, mode, 1 << 20).await;
    }
}

/// The stock server: python-engineio on aiohttp, which accepts permessage-deflate by
/// default and then compresses every message.
#[actix_rt::test]
async fn stock_python_negotiates_and_echoes_exactly() {
    let Some(peer) = start_or_skip(PeerKind::Python, PeerOptions::stock_python()) else {
        return;
    };
    for mode in [Mode::WebSocket, Mode::Upgrade] {
        compressed_echoes(&peer, mode, 999_000).await;
    }
}

/// Over `wss://`: TLS below, the same compression above (bytes counted through TLS).
#[actix_rt::test]
async fn node_over_wss_compresses_too() {
    let ca = TestCa::new("deflate-wss");
    let options = PeerOptions {
        tls: Some(ca.localhost_identity()),
        ..deflating_node()
    };
    let Some(peer) = start_or_skip(PeerKind::Node, options) else {
        return;
    };
    let pem = ca.pem();
    for mode in [Mode::WebSocket, Mode::Upgrade] {
        let (c, proxy) = through_proxy(&peer, mode, |b| b.ca_certificate_pem(pem.clone())).await;
        let json = json_lines(100_000);
        let up = echoed_with_bytes_up(&c, &proxy, Payload::from(json)).await;
        eprintln!(
            "{}: 100,000 bytes of JSON lines took {up} bytes on the wire",
            c.label
        );
        assert!(up < 20_000, "{}: {up} bytes on the wire", c.label);
        c.close().await;
    }
}

/// engineioxide never accepts the extension: the offer is answered without it, and
/// the session goes on uncompressed.
#[actix_rt::test]
async fn engineioxide_never_negotiates_and_works_uncompressed() {
    let Some(peer) = start_or_skip(PeerKind::Rust, PeerOptions::default()) else {
        return;
    };
    for mode in [Mode::WebSocket, Mode::Upgrade] {
        let (c, proxy) = through_proxy(&peer, mode, |b| b).await;
        let l = c.label.clone();
        assert_eq!(
            extensions_answered(&proxy),
            [""],
            "{l}: no extension in the 101"
        );
        let json = json_lines(100_000);
        let up = echoed_with_bytes_up(&c, &proxy, Payload::from(json)).await;
        assert!(up > 100_000, "{l}: {up} bytes on the wire for 100 KB");
        c.echo(every_byte(256 * 4)).await;
        c.close().await;
    }
}

/// `per_message_deflate(false)`: nothing offered, so a server that would compress
/// does not, and the session works as before.
#[actix_rt::test]
async fn turned_off_the_client_offers_nothing() {
    let Some(peer) = start_or_skip(PeerKind::Node, deflating_node()) else {
        return;
    };
    for mode in [Mode::WebSocket, Mode::Upgrade] {
        let (c, proxy) = through_proxy(&peer, mode, |b| b.per_message_deflate(false)).await;
        let l = c.label.clone();
        assert_eq!(extensions_answered(&proxy), [""], "{l}");
        assert!(
            extensions_offered(&peer).iter().all(String::is_empty),
            "{l}: offered {:?}",
            extensions_offered(&peer)
        );
        let up = echoed_with_bytes_up(&c, &proxy, Payload::from(json_lines(100_000))).await;
        assert!(up > 100_000, "{l}: {up} bytes on the wire for 100 KB");
        c.close().await;
    }
}

/// Through an HTTP proxy's `CONNECT` tunnel (tinyproxy), compression is agreed and used
/// as on a direct connection: the tunnel carries the websocket's bytes untouched. The
/// recording proxy sits behind the tunnel, so the bytes it counts are the tunnel's.
#[actix_rt::test]
async fn through_an_http_proxy_tunnel_compression_still_applies() {
    let Some(peer) = start_or_skip(PeerKind::Node, deflating_node()) else {
        return;
    };
    for mode in [Mode::WebSocket, Mode::Upgrade] {
        let Some(tunnel) = Tinyproxy::start_or_skip(ProxyOptions::default()) else {
            return;
        };
        let (c, recorder) = through_proxy(&peer, mode, |b| b.proxy(tunnel.url())).await;
        let l = c.label.clone();
        assert_eq!(
            extensions_answered(&recorder),
            ["permessage-deflate"],
            "{l}: the server's 101 accepts the extension"
        );
        let up = echoed_with_bytes_up(&c, &recorder, Payload::from(json_lines(100_000))).await;
        assert!(
            up < 20_000,
            "{l}: {up} bytes on the wire for 100 KB of JSON"
        );
        c.close().await;
        assert!(
            tunnel.tunnels_to(recorder.port()) >= 1,
            "{l}: no CONNECT in the proxy's log:\n{}",
            tunnel.log()
        );
    }
}
