//! The behaviour every transport mode must show, against the three real peers (node
//! `engine.io`, `python-engineio`, `engineioxide`) in each of three modes: websocket only,
//! polling only, and polling with the upgrade to websocket (the default transports).
//! Misbehaviour the real servers never show (malformed packets, missing pings, broken
//! handshakes) comes from scripted servers.
//!
//! Every assertion message names the peer and the mode, e.g. `[python peer, polling only]`.
//!
//! By concern: [`backlog`] (a stuck subscriber holds the server back, then gets
//! everything), [`batches`] (`Messages`: every message once, in order, one event per read;
//! `Disconnect` after the last batch), [`echo`] (messages come back exactly, pipelined, to every subscriber, within
//! `maxPayload`), [`heartbeat`] (pings keep the session alive; a ping timeout ends it),
//! [`close`] (server close, client close, a killed server), [`errors`] (malformed input,
//! failed handshakes), [`stock_python`] (the basic echo and close cases against a stock
//! python-engineio server, as users deploy it, beside the python peer whose JSON handling
//! and request reading are replaced). The numbers in the section comments number the behaviours tested here,
//! not docs/protocol.md sections.

mod backlog;
mod batches;
mod close;
mod echo;
mod errors;
mod heartbeat;
mod stock_python;

use std::time::Duration;

use crate::support::client::{peer_event, Client, Mode, DEADLINE};
use crate::support::peers::{Peer, PeerEvent, PeerOptions};

/// `[<name> peer, <mode>]` (e.g. `[stock python peer, polling only]`), the start of every
/// assertion message about a session.
fn label(peer: &Peer, mode: Mode) -> String {
    format!("[{} peer, {mode}]", peer.name())
}

/// A session to `peer` in `mode`, connected.
async fn connect(peer: &Peer, mode: Mode) -> Client {
    Client::connect(label(peer, mode), mode.builder(&peer.url())).await
}

fn options(max_payload: u64) -> PeerOptions {
    PeerOptions {
        max_payload,
        ..PeerOptions::default()
    }
}

fn short_heartbeat(interval_ms: u64, timeout_ms: u64) -> PeerOptions {
    PeerOptions {
        ping_interval: Duration::from_millis(interval_ms),
        ping_timeout: Duration::from_millis(timeout_ms),
        ..PeerOptions::default()
    }
}

/// The peer's own `Connect` log entry for `sid`.
async fn peer_connect(peer: &Peer, label: &str, sid: &str) -> String {
    match peer_event(
        peer,
        |e| matches!(e, PeerEvent::Connect { sid: s, .. } if s == sid),
    )
    .await
    {
        Some(PeerEvent::Connect { transport, .. }) => transport,
        _ => panic!("{label}: the peer logged no Connect for sid {sid:?}"),
    }
}

/// Waits for the peer to log the close of `sid`; returns its reason.
async fn peer_close(peer: &Peer, label: &str, sid: &str) -> String {
    match peer_event(
        peer,
        |e| matches!(e, PeerEvent::Close { sid: s, .. } if s == sid),
    )
    .await
    {
        Some(PeerEvent::Close { reason, .. }) => reason,
        _ => panic!("{label}: the peer logged no Close for sid {sid:?} within {DEADLINE:?}"),
    }
}
