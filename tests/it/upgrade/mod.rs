//! The upgrade from long-polling to websocket (docs/protocol.md section 7), against the three
//! real peers (node `engine.io`, `python-engineio`, `engineioxide`), and against scripted
//! servers for what real servers never do on demand: a refused, broken or wrong probe,
//! and a probe answered so late that a poll is in flight when `3probe` arrives.
//!
//! The files: [`peers`] (the real servers, including one frozen during the probe) and
//! [`scripted`] (probes that fail, a probe answered late, a close during the pause).
//!
//! The real peers are reached through a recording proxy: the client's `5` on the
//! websocket and every polling request are on the wire in the order the proxy forwarded
//! them, so "nothing polls after the upgrade" is checked exactly for every peer (only
//! node logs the upgrade itself).

mod peers;
mod scripted;

use crate::support::wire::Wire;

/// The [`seq`](crate::support::wire::Item::seq) of the `5` the client sent on the
/// websocket of session `sid`, after its `2probe`; panics when there is none.
fn upgrade_seq(label: &str, wire: &Wire, sid: &str) -> usize {
    let packets = wire.packets(sid);
    let on_ws = |text: &str| {
        packets
            .iter()
            .find(|p| p.from_client && p.over_websocket && p.text == text)
            .map(|p| p.seq)
    };
    let probe = on_ws("2probe").unwrap_or_else(|| panic!("{label}: no `2probe` on the wire"));
    let upgrade = on_ws("5").unwrap_or_else(|| panic!("{label}: no `5` on the wire"));
    assert!(probe < upgrade, "{label}: `5` before `2probe`");
    upgrade
}

/// The polling requests (GET or POST) of session `sid` that went out after the wire item
/// `seq`, as `METHOD url`. A poll of the upgrade pause is answered before the client
/// sends `5`, so its request always comes before `5` on the wire.
fn polling_after(wire: &Wire, sid: &str, seq: usize) -> Vec<String> {
    wire.requests(sid)
        .into_iter()
        .filter(|(at, request)| *at > seq && request.is_polling())
        .map(|(_, request)| request.start.clone())
        .collect()
}

/// The number of polling requests of session `sid` on the wire.
fn polling_count(wire: &Wire, sid: &str) -> usize {
    wire.requests(sid)
        .into_iter()
        .filter(|(_, r)| r.is_polling() && r.query("sid").is_some())
        .count()
}
