//! What both clients send the server: the builder's headers on every request, and
//! `connect_with`'s headers, transports and engine.io path, for that connection only.

use actix_engineio::{AsyncClient, Client, ConnectOptions};
use futures::future::join_all;

use super::blocking::each_case;
use super::common::{cases, label, peer_close, peer_close_blocking, settle_async, settle_blocking};
use super::record::Record;
use crate::support::client::{within, Mode, ALL_MODES, DEADLINE};
use crate::support::peers::{all_peers, start_peers, Peer, PeerOptions, PeerRequest};

/// Peers serving engine.io under `/custom.io/` instead of `/engine.io/`.
fn custom_path() -> PeerOptions {
    PeerOptions {
        path: "/custom.io/".into(),
        ..PeerOptions::default()
    }
}

/// A header value naming the case (peers are shared by the cases of a test).
fn tag(peer: &Peer, mode: Mode, connection: &str) -> String {
    format!("{}-{mode:?}-{connection}", peer.kind())
}

/// The options of the first connection in `mode`: a header of its own, the transports of
/// `mode`, the custom path.
fn first_options(peer: &Peer, mode: Mode) -> ConnectOptions {
    let options = ConnectOptions::new()
        .header("X-Connection", tag(peer, mode, "first"))
        .engineio_path("custom.io");
    match mode {
        Mode::WebSocket => options.transports(["websocket"]),
        Mode::Polling => options.transports(["polling"]),
        Mode::Upgrade => options.transports(["polling", "websocket"]),
    }
}

/// The options of the second connection of the same client: the path and a marker only.
fn second_options(peer: &Peer, mode: Mode) -> ConnectOptions {
    ConnectOptions::new()
        .header("X-Second", tag(peer, mode, "second"))
        .engineio_path("custom.io")
}

/// The requests of one connection: those of its sid, and those carrying its tag in
/// `header` (a websocket-only handshake has no sid).
fn requests_of(peer: &Peer, sid: &str, header: &str, tag: &str) -> Vec<PeerRequest> {
    peer.requests()
        .into_iter()
        .filter(|r| r.query("sid").as_deref() == Some(sid) || r.header(header) == Some(tag))
        .collect()
}

/// Every request of both connections went to the custom path with the client's header;
/// the first connection's carried its own header, over the transports of `mode`; the
/// second connection's did not carry it.
fn assert_requests(peer: &Peer, mode: Mode, l: &str, first_sid: &str, second_sid: &str) {
    let first_tag = tag(peer, mode, "first");
    let second_tag = tag(peer, mode, "second");
    let first = requests_of(peer, first_sid, "x-connection", &first_tag);
    let second = requests_of(peer, second_sid, "x-second", &second_tag);
    assert!(!first.is_empty(), "{l}: no request of the first connection");
    assert!(
        !second.is_empty(),
        "{l}: no request of the second connection"
    );
    for request in first.iter().chain(&second) {
        assert!(
            request.url.starts_with("/custom.io/?"),
            "{l}: {} {}",
            request.method,
            request.url
        );
        assert_eq!(
            request.header("x-client"),
            Some("every request"),
            "{l}: {request:?}"
        );
    }
    for request in &first {
        assert_eq!(
            request.header("x-connection"),
            Some(first_tag.as_str()),
            "{l}: {request:?}"
        );
    }
    for request in &second {
        assert_eq!(
            request.header("x-second"),
            Some(second_tag.as_str()),
            "{l}: {request:?}"
        );
        assert_eq!(
            request.header("x-connection"),
            None,
            "{l}: the second connection: {request:?}"
        );
    }
    let websockets = first.iter().filter(|r| r.is_websocket()).count();
    let polls = first.len() - websockets;
    let expected = match mode {
        Mode::WebSocket => (true, false),
        Mode::Polling => (false, true),
        Mode::Upgrade => (true, true),
    };
    assert_eq!(
        (websockets > 0, polls > 0),
        expected,
        "{l}: {websockets} websocket and {polls} polling requests"
    );
}

#[actix_rt::test]
async fn async_connect_with_options_and_builder_headers_reach_the_server() {
    let peers = start_peers(&all_peers(), custom_path());
    join_all(cases(&peers).into_iter().map(|(peer, mode)| async move {
        let l = label(peer, mode, "AsyncClient");
        let client = AsyncClient::builder()
            .header("X-Client", "every request")
            .build();
        let url = peer.url();
        let mut sids = Vec::new();
        let second = (second_options(peer, mode), Mode::Upgrade);
        for (options, mode) in [(first_options(peer, mode), mode), second] {
            let record = Record::default();
            record.handle_async(&client);
            let connect = client.connect_with(&url, options);
            within(format!("{l}: connect_with"), DEADLINE, connect)
                .await
                .unwrap_or_else(|e| panic!("{l}: connect_with failed: {e} ({e:?})"));
            let sid = client.sid().expect("a sid");
            settle_async(&client, &record, mode, &l).await;
            client.disconnect().await;
            peer_close(peer, &l, &sid).await;
            sids.push(sid);
        }
        assert_requests(peer, mode, &l, &sids[0], &sids[1]);
    }))
    .await;
}

#[test]
fn blocking_connect_with_options_and_builder_headers_reach_the_server() {
    let peers = start_peers(&all_peers(), custom_path());
    each_case(&peers, &ALL_MODES, |peer, mode| {
        let l = label(peer, mode, "Client");
        let client = Client::builder()
            .handle_sigint(false)
            .header("X-Client", "every request")
            .build();
        let mut sids = Vec::new();
        let second = (second_options(peer, mode), Mode::Upgrade);
        for (options, mode) in [(first_options(peer, mode), mode), second] {
            let record = Record::default();
            record.handle_blocking(&client);
            client
                .connect_with(&peer.url(), options)
                .unwrap_or_else(|e| panic!("{l}: connect_with failed: {e} ({e:?})"));
            let sid = client.sid().expect("a sid");
            settle_blocking(&client, &record, mode, &l);
            client.disconnect();
            peer_close_blocking(peer, &l, &sid);
            sids.push(sid);
        }
        assert_requests(peer, mode, &l, &sids[0], &sids[1]);
    });
}
