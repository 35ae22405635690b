//! The integration tests of `actix-engineio`, as one test binary (`cargo test --test it`).
//!
//! One module per area, each run against the real peers (node `engine.io`,
//! `python-engineio`, in-process `engineioxide`; see `tests/peers/README.md`) and against
//! scripted servers for misbehaviour real servers never show. The shared harness is in
//! [`support`]. One binary rather than one per area: the harness compiles and links once.
//!
//! `EIO_TEST_PEERS=rust cargo test` runs everything against the in-process Rust peer only
//! (no npm registry or PyPI needed); a test that needs an excluded peer prints why it
//! skips. See [`support::peers::select`].
//!
//! Comments cite the protocol notes as `docs/protocol.md section N` (1 URLs, 2 Packets,
//! 3 Handshake, 4 Long-polling, 5 Websocket, 6 Heartbeat, 7 Upgrade, 8 Close reasons,
//! 9 Cookies and sticky sessions).

mod support;

/// Backpressure: `Send` answers late while the send buffer is full.
mod backpressure;
/// Chaos: seeded hostile servers against the real session actor (a long run by command).
mod chaos;
/// The `eio` example binary, run as a child process.
mod cli;
/// The two clients of python-engineio's guide: `AsyncClient` and the blocking `Client`.
mod clients;
/// permessage-deflate on websockets, against the real peers.
mod compression;
/// The fault proxy of the support code, against an echo server and a real peer.
mod fault_proxy;
/// Hostile and broken servers: fragmented handshakes, oversized frames, bodies cut short,
/// large compressed bodies beside a heartbeat, raw deflate.
mod hardening;
/// Session options that shape every request: headers, query, path, cookies, a user client.
mod options;
/// The test peers themselves, checked with a raw HTTP client.
mod peers_smoke;
/// The long-polling transport.
mod polling;
/// Property tests of the pure protocol core.
mod protocol_props;
/// HTTP proxies: `CONNECT` tunnels through a real tinyproxy, authentication, refusals.
mod proxy;
/// The README's programs: word for word the example files, and they do what it says.
mod readme;
/// Supervised reconnection and bounded delivery: lost sessions reopened, messages across
/// an outage, bounded queues, against faults played by the fault proxy.
mod reconnect;
/// Credentials kept to their host and out of logs; redirects not followed.
mod security;
/// `SessionSender`: order, backpressure, refusals, and held messages across reconnection.
mod sender;
/// What every transport mode must show: echo, heartbeat, close, errors, subscribers.
mod session;
/// `https`/`wss` sessions and certificate verification.
mod tls;
/// The upgrade from long-polling to websocket.
mod upgrade;
/// Engine.IO v3 end to end: the node peer with `allowEIO3`, and version mismatches.
mod v3;
