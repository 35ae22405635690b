//! Session options that shape every request: user headers and query parameters, the
//! engine.io path, the `t` cache-buster, cookies (sticky sessions, docs/protocol.md section 9)
//! and a user-built `awc::Client`, checked in the request logs of the three real peers
//! (node `engine.io`, `python-engineio`, `engineioxide`) and of scripted servers.
//! The files: [`requests`] (headers, query, path, the `t` parameter and a user-built client
//! on every request) and [`cookies`] (the sticky cookie, the jar, a user `Cookie` header);
//! the options of Node's client: [`per_transport`] (polling-only and websocket-only headers,
//! subprotocols), [`url_shape`] (the cache-buster's name, the path without its slash),
//! [`opening`] (`remember_upgrade`, `try_all_transports`), [`mtls`] (client certificates);
//! here, the helpers that run a session through every kind of request and collect them.

mod cookies;
mod mtls;
mod opening;
mod per_transport;
mod requests;
mod url_shape;

use actix_engineio::SessionBuilder;

use crate::support::client::{assert_texts, texts, wait_until, Client, Mode, DEADLINE};
use crate::support::peers::{Peer, PeerRequest};

/// Runs a session in `mode` that exercises every kind of request the mode makes: the
/// handshake, messages sent at once (POSTed during the probe in upgrade mode), echoes
/// (polls), a heartbeat or two when the peer pings every second, and the upgrade.
async fn exercise(label: &str, mode: Mode, builder: SessionBuilder) -> Client {
    let client = Client::connect(label, builder).await;
    let early = texts("early-", 5);
    client.send_all(&early).await;
    let got = client.wait_messages(early.len(), DEADLINE).await;
    assert_texts(label, &got, &early);
    if mode == Mode::Upgrade {
        client.upgraded().await;
    }
    client.echo_all(&texts("late-", 5)).await;
    client
}

/// The requests `client`'s session made at `peer`: those logged from `first` on that carry
/// its sid or no sid (the handshake; one session at a time is opened per peer, while the
/// previous one may still be finishing).
fn requests_since(peer: &Peer, first: usize, client: &Client) -> Vec<PeerRequest> {
    peer.requests()[first..]
        .iter()
        .filter(|r| r.query("sid").is_none_or(|sid| sid == client.sid))
        .cloned()
        .collect()
}

/// Short names of requests, for failure messages.
fn describe(requests: &[PeerRequest]) -> String {
    requests
        .iter()
        .map(|r| {
            let kind = if r.is_websocket() { "WS" } else { &r.method };
            format!("{kind} {}", r.url)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What is missing from `requests` among the kinds a session in `mode` makes: a
/// handshake, and POSTs and polls, or the websocket upgrade request.
fn missing_kinds(mode: Mode, requests: &[PeerRequest]) -> Vec<&'static str> {
    let has = |pred: &dyn Fn(&PeerRequest) -> bool| requests.iter().any(pred);
    let with_sid = |r: &PeerRequest| r.query("sid").is_some();
    let mut missing = Vec::new();
    let mut want = |what: &'static str, present: bool| {
        if !present {
            missing.push(what);
        }
    };
    match mode {
        Mode::WebSocket => want(
            "websocket handshake",
            has(&|r| r.is_websocket() && !with_sid(r)),
        ),
        Mode::Polling | Mode::Upgrade => {
            want("handshake GET", has(&|r| r.method == "GET" && !with_sid(r)));
            want("POST", has(&|r| r.method == "POST" && with_sid(r)));
        }
    }
    match mode {
        Mode::Polling => want(
            "poll",
            has(&|r| r.method == "GET" && with_sid(r) && !r.is_websocket()),
        ),
        Mode::Upgrade => want(
            "websocket upgrade request",
            has(&|r| r.is_websocket() && with_sid(r)),
        ),
        Mode::WebSocket => {}
    }
    missing
}

/// The requests of `client`'s session once the peer's log shows every kind the session
/// in `mode` makes (the log may lag behind); panics when a kind never shows.
async fn settled_requests(
    label: &str,
    mode: Mode,
    peer: &Peer,
    first: usize,
    client: &Client,
) -> Vec<PeerRequest> {
    wait_until(DEADLINE, || {
        missing_kinds(mode, &requests_since(peer, first, client)).is_empty()
    })
    .await;
    let requests = requests_since(peer, first, client);
    let missing = missing_kinds(mode, &requests);
    assert!(
        missing.is_empty(),
        "{label}: no {missing:?} among the requests:\n{}",
        describe(&requests)
    );
    requests
}
