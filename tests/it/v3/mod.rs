//! Engine.IO v3 end to end (`protocol(ProtocolVersion::V3)`): against the node peer with
//! `allowEIO3` (engine.io 6.6 speaking v3 to clients that ask for `EIO=3`), in the three
//! modes, and a v4 client meeting a server that speaks v3 only (scripted). See
//! `docs/protocol.md` section 11.
//!
//! By concern: [`echo`] (messages come back exactly, pipelined, large), [`lifetime`]
//! (server close, client close, the client's pings keep the session alive, a ping timeout
//! when the server freezes), [`mismatch`] (a client and a server of different versions
//! fail cleanly).

mod echo;
mod lifetime;
mod mismatch;

use std::time::Duration;

use actix_engineio::ProtocolVersion;

use crate::support::client::{Client, Mode};
use crate::support::peers::{start_or_skip, Peer, PeerKind, PeerOptions};

/// `[node peer (v3), <mode>]`, the start of every assertion message about a session.
fn label(mode: Mode) -> String {
    format!("[node peer (v3), {mode}]")
}

/// The node peer accepting v3 clients, with `opts` (its `allow_eio3` set); `None` (and
/// why, printed) when `EIO_TEST_PEERS` excludes node.
fn v3_peer(opts: PeerOptions) -> Option<Peer> {
    start_or_skip(
        PeerKind::Node,
        PeerOptions {
            allow_eio3: true,
            ..opts
        },
    )
}

/// Options with a short heartbeat.
fn short_heartbeat(interval: Duration, timeout: Duration) -> PeerOptions {
    PeerOptions {
        ping_interval: interval,
        ping_timeout: timeout,
        ..PeerOptions::default()
    }
}

/// A v3 session to `url` in `mode`, connected.
async fn connect_v3(url: &str, mode: Mode) -> Client {
    Client::connect(label(mode), mode.builder(url).protocol(ProtocolVersion::V3)).await
}
