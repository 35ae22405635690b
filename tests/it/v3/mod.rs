//! Engine.IO v3 end to end (`protocol(ProtocolVersion::V3)`) against the three v3 servers
//! the suite starts ([`v3_peers`]): Node `engine.io` 3.6 (`node3`), python-engineio 3.14
//! (`python3`) and Node `engine.io` 6.6 with `allowEIO3` (`node`), each in the three modes
//! (websocket only, polling only, polling then the upgrade); and a v4 client meeting a
//! server that speaks v3 only. See `docs/protocol.md` section 11.
//!
//! Each case is one function of a peer and a mode; each test starts the v3 peers and runs
//! its case for every peer and mode ([`each_peer_and_mode`]).
//!
//! By concern: [`echo`] (messages come back exactly, pipelined, large), [`lifetime`]
//! (server close, client close, the client's pings keep the session alive, a ping timeout
//! when the server freezes), [`mismatch`] (a client and a server of different versions
//! fail cleanly).

mod echo;
mod lifetime;
mod mismatch;

use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use actix_engineio::ProtocolVersion;
use futures::future::join_all;

use crate::support::client::{Client, Mode, ALL_MODES};
use crate::support::peers::{skip, start_peers_with, v3_peers, Peer, PeerKind, PeerOptions};

/// `[node3 peer, websocket]`, the start of every assertion message about a session;
/// `node (allowEIO3)` for engine.io 6.
fn label(peer: &Peer, mode: Mode) -> String {
    match peer.kind() {
        PeerKind::Node => format!("[node peer (allowEIO3), {mode}]"),
        kind => format!("[{kind} peer, {mode}]"),
    }
}

/// Every enabled v3 server, started with `opts` (node with its `allow_eio3` set), in
/// parallel; empty (and why, printed) when `EIO_TEST_PEERS` excludes all three.
fn start_v3_peers(opts: PeerOptions) -> Vec<Peer> {
    let kinds = v3_peers();
    if kinds.is_empty() {
        skip("needs the node3, python3 or node peer, excluded by EIO_TEST_PEERS");
    }
    start_peers_with(&kinds, |kind| PeerOptions {
        allow_eio3: kind == PeerKind::Node,
        ..opts.clone()
    })
}

/// Runs `case` against every enabled v3 server (started with `opts`) in every mode, one
/// after the other. The case holds its peer by `Rc`, so that its future borrows nothing.
async fn each_peer_and_mode<F, Fut>(opts: PeerOptions, case: F)
where
    F: Fn(Rc<Peer>, Mode) -> Fut,
    Fut: Future<Output = ()>,
{
    for peer in start_v3_peers(opts) {
        let peer = Rc::new(peer);
        for mode in ALL_MODES {
            case(peer.clone(), mode).await;
        }
    }
}

/// Like [`each_peer_and_mode`], with the three modes of a peer at once (cases that mostly
/// wait: they share their waits).
async fn each_peer_all_modes_at_once<F, Fut>(opts: PeerOptions, case: F)
where
    F: Fn(Rc<Peer>, Mode) -> Fut,
    Fut: Future<Output = ()>,
{
    for peer in start_v3_peers(opts) {
        let peer = Rc::new(peer);
        join_all(ALL_MODES.map(|mode| case(peer.clone(), mode))).await;
    }
}

/// Options with a short heartbeat.
fn short_heartbeat(interval: Duration, timeout: Duration) -> PeerOptions {
    PeerOptions {
        ping_interval: interval,
        ping_timeout: timeout,
        ..PeerOptions::default()
    }
}

/// A v3 session to `peer` in `mode`, connected.
async fn connect_v3(peer: &Peer, mode: Mode) -> Client {
    Client::connect(
        label(peer, mode),
        mode.builder(&peer.url()).protocol(ProtocolVersion::V3),
    )
    .await
}
