//! How request URLs are spelled: the cache-buster's name (`timestamp_param`, Node's
//! `timestampParam`) and the path without its trailing slash (`add_trailing_slash(false)`,
//! against node's `engine.io` with `addTrailingSlash: false`).

use std::collections::HashSet;

use actix_engineio::{Close, ConfigError, ConnectError, Session, TransportError};

use super::{describe, exercise, requests_since, settled_requests};
use crate::support::client::{wait_until, Client, ALL_MODES, DEADLINE};
use crate::support::net::Untouched;
use crate::support::peers::{all_peers, start_or_skip, start_peers, PeerKind, PeerOptions};

/// `.timestamp_param("ts")`: every polling GET carries `ts`, a different one on each, and
/// no `t`; every peer takes the session (the name is the client's business).
#[actix_rt::test]
async fn timestamp_param_renames_the_cache_buster() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        let label = format!(
            "[{} peer, polling only, timestamp_param(\"ts\")]",
            peer.kind()
        );
        let builder = Session::builder(peer.url())
            .transports(["polling"])
            .timestamp_param("ts");
        let first = peer.requests().len();
        let client = Client::connect(label.clone(), builder).await;
        for i in 0..3 {
            client.echo_all(&[format!("tick-{i}")]).await;
        }
        client.session.do_send(Close);
        let gets = || {
            requests_since(peer, first, &client)
                .into_iter()
                .filter(|r| r.method == "GET")
                .collect::<Vec<_>>()
        };
        // The peer's log may lag behind: the handshake and 3+ polls.
        wait_until(DEADLINE, || gets().len() >= 4).await;
        let gets = gets();
        assert!(gets.len() >= 4, "{label}:\n{}", describe(&gets));
        let stamps: Vec<Option<String>> = gets.iter().map(|r| r.query("ts")).collect();
        assert!(
            stamps.iter().all(Option::is_some) && gets.iter().all(|r| r.query("t").is_none()),
            "{label}: every GET has ts and no t:\n{}",
            describe(&gets)
        );
        let distinct: HashSet<_> = stamps.iter().flatten().collect();
        assert_eq!(distinct.len(), gets.len(), "{label}:\n{}", describe(&gets));
    }
}

/// A name that cannot go in a query as it is, or that Engine.IO uses itself, is a
/// configuration error, reported before anything is sent.
#[actix_rt::test]
async fn bad_timestamp_params_are_config_errors() {
    let server = Untouched::new();
    for name in ["", "a b", "t&x=1", "ü", "sid", "EIO"] {
        let err = Session::builder(server.url())
            .timestamp_param(name)
            .connect()
            .await
            .expect_err(name);
        assert!(
            matches!(&err, ConnectError::Config(ConfigError::TimestampParam { name: n, .. }) if n == name),
            "{name:?}: {err:?}"
        );
    }
    server.assert_untouched("bad timestamp_param");
}

/// Node's `engine.io` with `addTrailingSlash: false` on `/engine.io`: a client with
/// `.path("/engine.io").add_trailing_slash(false)` requests `/engine.io?EIO=4…` on every
/// request, in every mode. The same client against a node server that keeps the slash
/// (it serves `/engine.io/…` only) is refused with 404: the slash really is gone.
#[actix_rt::test]
async fn path_without_trailing_slash() {
    let Some(peer) = start_or_skip(
        PeerKind::Node,
        PeerOptions {
            path: "/engine.io".into(),
            add_trailing_slash: false,
            ..PeerOptions::default()
        },
    ) else {
        return;
    };
    for mode in ALL_MODES {
        let label = format!("[node peer without trailing slash, {mode}]");
        let first = peer.requests().len();
        let builder = mode
            .builder(&peer.url())
            .path("/engine.io")
            .add_trailing_slash(false);
        let client = exercise(&label, mode, builder).await;
        client.session.do_send(Close);
        let requests = settled_requests(&label, mode, &peer, first, &client).await;
        for request in &requests {
            assert!(
                request.url.starts_with("/engine.io?"),
                "{label}: request to {}",
                request.url
            );
        }
    }

    let Some(slashed) = start_or_skip(PeerKind::Node, PeerOptions::default()) else {
        return;
    };
    let err = Session::builder(slashed.url())
        .transports(["polling"])
        .add_trailing_slash(false)
        .connect()
        .await
        .expect_err("/engine.io without its slash, at a server of /engine.io/");
    assert!(
        matches!(
            err,
            ConnectError::Transport(TransportError::Http { status: 404, .. })
        ),
        "{err:?}"
    );
    assert!(
        slashed.requests().is_empty(),
        "engine.io saw a request it does not serve: {:#?}",
        slashed.requests()
    );
}
