//! The real Engine.IO servers ("peers") the suite runs against, three of v4:
//!
//! * [`PeerKind::Node`]: `engine.io` 6.6 on node's `http` server (`tests/peers/node/server.js`),
//! * [`PeerKind::Python`]: `python-engineio` 4.15 `AsyncServer` on aiohttp
//!   (`tests/peers/python/server.py`, run from the venv `tests/peers/python/.venv`), with two
//!   of python-engineio's quirks worked around; or, with [`PeerOptions::stock`], the same
//!   server as users deploy it: every default, no workaround ([`PeerOptions::stock_python`]),
//! * [`PeerKind::Rust`]: `engineioxide` 0.17 served by hyper 1, in this process, on its own
//!   thread with its own tokio runtime ([`rust_peer`]);
//!
//! and two that speak Engine.IO v3 only, which [`all_peers`] leaves out (the v3 cases,
//! `tests/it/v3/`, iterate [`v3_peers`]):
//!
//! * [`PeerKind::Node3`]: `engine.io` 3.6 on node's `http` server (`tests/peers/node3/`),
//! * [`PeerKind::Python3`]: `python-engineio` 3.14 `AsyncServer` on aiohttp
//!   (`tests/peers/python3/`, venv `.venv`), with the same two quirks worked around.
//!
//! Every peer listens on `127.0.0.1` on an ephemeral port (or on [`PeerOptions::port`], to
//! restart a server on the port of one a test killed), echoes every message (text as the
//! same text, binary as the same bytes), closes the session from the server side when it
//! receives the text message `close-me`, and logs [`PeerEvent`]s: every HTTP request it
//! receives (polling GETs and POSTs and websocket upgrade requests), session opens,
//! every message received ([`PeerMessage`]: kind, size and head), upgrades (node only) and
//! closes. With [`PeerOptions::tls`] every peer serves https and wss instead (the Rust
//! peer with tokio-rustls, node with its `https` server, python with aiohttp and an
//! `ssl.SSLContext`). See `tests/peers/README.md` for the details and each
//! server's quirks.
//!
//! The files of this folder, by concern:
//! * `mod.rs`: [`PeerKind`], [`PeerOptions`] and [`Peer`], the handle a test holds;
//! * [`select`]: which peers run (`EIO_TEST_PEERS`), [`all_peers`], [`start_peers`],
//!   [`start_or_skip`] and [`any_of`];
//! * [`log`]: what a peer logged ([`PeerEvent`], [`PeerRequest`], [`PeerMessage`]) and
//!   queries on it ([`session_requests`], [`peer_messages`], [`peer_closed`],
//!   [`is_polling`]);
//! * [`process`]: the node and python processes; [`install`]: their dependencies;
//! * [`rust_peer`]: the in-process engineioxide server.
//!
//! Usage, from a plain `#[test]` or an `#[actix_rt::test]` (the API is synchronous):
//!
//! ```ignore
//! use crate::support::peers::{all_peers, Peer, PeerEvent, PeerOptions};
//!
//! for kind in all_peers() {
//!     let peer = Peer::start(kind, PeerOptions::default());
//!     // ... connect a client to peer.url() ...
//!     let ev = peer.wait_for(Duration::from_secs(5), |e| matches!(e, PeerEvent::Connect { .. }));
//! }
//! ```
//!
//! Deviations from a fully uniform API (documented here on purpose):
//! * [`Peer::pause`]/[`Peer::resume`] (and [`Peer::freeze`]) return `false` (`None`) for the
//!   in-process Rust peer.
//! * The Rust peer has no cookie option of its own: with [`PeerOptions::cookie`] set, the
//!   harness's hyper wrapper adds `Set-Cookie: NAME=<unique value>; Path=/; HttpOnly;
//!   SameSite=Lax` to every response to a request without `sid` (the handshake), like a load
//!   balancer's sticky cookie. Node and python set `NAME=<sid>`.
//! * The process peers get the TLS identity as PEM files in a temporary directory the
//!   [`Peer`] owns and removes when it ends ([`Peer::tls_files`]); the Rust peer takes it in
//!   memory.
//! * [`PeerOptions::stock`] is a python option: [`Peer::start`] panics with it for node and
//!   rust, and with engine options other than the defaults (the stock server runs
//!   python-engineio's own defaults). It is an option rather than a fourth [`PeerKind`]
//!   because it is the python peer (same venv, same process, `EIO_TEST_PEERS` name): a test
//!   starts it with `start_or_skip(PeerKind::Python, PeerOptions::stock_python())`, which
//!   skips when python is excluded, and loops over [`all_peers`] do not pick it up (it has
//!   python-engineio's quirks, which most cases would trip on).
//! * [`PeerOptions::allow_eio3`] (Engine.IO v3 clients accepted) is a node option: [`Peer::start`]
//!   panics with it for python and rust.
//! * Only node reports [`PeerEvent::Upgrade`]: python-engineio and engineioxide do not expose
//!   upgrades.
//! * Close reasons are each server's own strings: node `"forced close"`, `"transport close"`,
//!   `"ping timeout"`, ...; python `"server disconnect"`, `"client disconnect"`, ...; rust the
//!   `Debug` form of engineioxide's `DisconnectReason` (`"ClosingServer"`, `"TransportClose"`,
//!   `"HeartbeatTimeout"`, ...).

pub mod install;
pub mod log;
pub mod process;
pub mod rust_peer;
pub mod select;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use log::{
    assert_peer_received, is_polling, peer_closed, peer_messages, session_requests, EventLog,
    PeerEvent, PeerMessage, PeerRequest,
};
pub use select::{
    all_peers, any_of, enabled, skip, start_or_skip, start_peers, start_peers_with, v3_peers,
};

use process::ProcessPeer;

/// Which server implementation a [`Peer`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerKind {
    /// `engine.io` 6.6 on node.
    Node,
    /// `python-engineio` 4.15 `AsyncServer` on aiohttp.
    Python,
    /// `engineioxide` 0.17 on hyper, in-process.
    Rust,
    /// `engine.io` 3.6 on node: Engine.IO v3 only, whatever the client asks for.
    Node3,
    /// `python-engineio` 3.14 `AsyncServer` on aiohttp: Engine.IO v3 only (it refuses
    /// `EIO=4` with `400`).
    Python3,
}

impl PeerKind {
    /// Every peer kind, the `EIO_TEST_PEERS` names. Tests iterate [`all_peers`] (the v4
    /// ones) or [`v3_peers`] instead, which honour `EIO_TEST_PEERS`.
    pub const ALL: [PeerKind; 5] = [
        PeerKind::Node,
        PeerKind::Python,
        PeerKind::Rust,
        PeerKind::Node3,
        PeerKind::Python3,
    ];

    /// The peers that speak Engine.IO v4, in the order tests run them.
    pub const V4: [PeerKind; 3] = [PeerKind::Node, PeerKind::Python, PeerKind::Rust];

    /// The peers that speak Engine.IO v3 only.
    pub const V3_ONLY: [PeerKind; 2] = [PeerKind::Node3, PeerKind::Python3];

    /// The name used in labels and in `EIO_TEST_PEERS`.
    pub fn name(self) -> &'static str {
        match self {
            PeerKind::Node => "node",
            PeerKind::Python => "python",
            PeerKind::Rust => "rust",
            PeerKind::Node3 => "node3",
            PeerKind::Python3 => "python3",
        }
    }
}

impl fmt::Display for PeerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Server options, the same for every peer kind.
#[derive(Clone, Debug)]
pub struct PeerOptions {
    /// Interval between the server's pings. Python quirk: its handshake reports
    /// `int(seconds) * 1000`, so use whole seconds when a test checks `pingInterval`.
    pub ping_interval: Duration,
    /// How long the server waits for a pong.
    pub ping_timeout: Duration,
    /// Largest accepted payload in bytes (handshake `maxPayload`; also the websocket message
    /// limit of every peer).
    pub max_payload: u64,
    /// Engine.IO path, e.g. `/engine.io/`.
    pub path: String,
    /// Name of a sticky cookie set on the handshake response, if any.
    pub cookie: Option<String>,
    /// Transports the server allows: `"polling"` and/or `"websocket"`.
    pub transports: Vec<&'static str>,
    /// Serve HTTPS/WSS with this identity instead of plain HTTP (every peer). [`Peer::url`]
    /// is then `https://127.0.0.1:PORT`.
    pub tls: Option<TlsIdentity>,
    /// Listen on this port instead of an ephemeral one: a server restarted on the port of
    /// one the test killed (`Some(old.port())`). `None`: an ephemeral port.
    pub port: Option<u16>,
    /// Python only: run python-engineio as users deploy it (`server.py --stock`):
    /// `AsyncServer(async_mode="aiohttp")` with every default, without the peer's
    /// workarounds (text messages that parse as JSON are re-encoded; a large polling POST
    /// may be read short). The engine options above must keep their defaults, which are
    /// python-engineio's; `port` and `tls` apply. See [`PeerOptions::stock_python`].
    pub stock: bool,
    /// Node only: also accept Engine.IO v3 clients (`allowEIO3: true`, `server.js
    /// --allow-eio3`): a request with `EIO=3` gets a v3 session, one with `EIO=4` a v4
    /// one. [`Peer::start`] panics with it for python (python-engineio 4 speaks v4 only)
    /// and rust (engineioxide's `v3` feature is not built).
    pub allow_eio3: bool,
    /// Node only: require a client certificate signed by the CA of this PEM (mutual TLS,
    /// `server.js --client-ca`: `requestCert`, `rejectUnauthorized`, `ca`); needs
    /// [`PeerOptions::tls`]. [`Peer::start`] panics with it for python and rust.
    pub require_client_cert: Option<String>,
    /// Node only: `false` serves [`PeerOptions::path`] without its trailing slash
    /// (engine.io's `addTrailingSlash: false`, `server.js --no-trailing-slash`).
    /// [`Peer::start`] panics with `false` for python and rust.
    pub add_trailing_slash: bool,
    /// Node only: websockets accept permessage-deflate and compress every message
    /// (`perMessageDeflate: { threshold: 0 }`, `server.js --per-message-deflate`).
    /// [`Peer::start`] panics with it for python (aiohttp accepts the extension
    /// whatever this says) and rust (engineioxide never does).
    pub per_message_deflate: bool,
}

/// A TLS server identity: the certificate chain (leaf first) and its private key, both PEM.
#[derive(Clone, Debug)]
pub struct TlsIdentity {
    pub cert_chain_pem: String,
    pub key_pem: String,
}

impl Default for PeerOptions {
    fn default() -> Self {
        PeerOptions {
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            max_payload: 1_000_000,
            path: "/engine.io/".to_string(),
            cookie: None,
            transports: vec!["polling", "websocket"],
            tls: None,
            port: None,
            stock: false,
            allow_eio3: false,
            require_client_cert: None,
            add_trailing_slash: true,
            per_message_deflate: false,
        }
    }
}

impl PeerOptions {
    /// The stock python-engineio server: python's defaults, no workaround.
    pub fn stock_python() -> PeerOptions {
        PeerOptions {
            stock: true,
            ..PeerOptions::default()
        }
    }

    /// Whether the engine options (not `port`, `tls`, `stock`) are the defaults.
    fn engine_defaults(&self) -> bool {
        let d = PeerOptions::default();
        self.ping_interval == d.ping_interval
            && self.ping_timeout == d.ping_timeout
            && self.max_payload == d.max_payload
            && self.path == d.path
            && self.cookie == d.cookie
            && self.transports == d.transports
    }

    /// The command-line flags understood by `server.js` and `server.py`, except the TLS
    /// files (added by [`process`]).
    fn to_args(&self) -> Vec<String> {
        if self.stock {
            let mut args = vec!["--stock".to_string()];
            if let Some(port) = self.port {
                args.push("--port".to_string());
                args.push(port.to_string());
            }
            args.push("--exit-with-stdin".to_string());
            return args;
        }
        let mut args = vec![
            "--ping-interval".to_string(),
            self.ping_interval.as_millis().to_string(),
            "--ping-timeout".to_string(),
            self.ping_timeout.as_millis().to_string(),
            "--max-payload".to_string(),
            self.max_payload.to_string(),
            "--path".to_string(),
            self.path.clone(),
            "--transports".to_string(),
            self.transports.join(","),
        ];
        if let Some(cookie) = &self.cookie {
            args.push("--cookie".to_string());
            args.push(cookie.clone());
        }
        if let Some(port) = self.port {
            args.push("--port".to_string());
            args.push(port.to_string());
        }
        if self.allow_eio3 {
            args.push("--allow-eio3".to_string());
        }
        if !self.add_trailing_slash {
            args.push("--no-trailing-slash".to_string());
        }
        if self.per_message_deflate {
            args.push("--per-message-deflate".to_string());
        }
        args.push("--exit-with-stdin".to_string());
        args
    }
}

/// A running peer server. Dropping it ends the server (SIGKILL and reap for process peers,
/// runtime shutdown for the Rust peer), also when the test panics.
pub struct Peer {
    kind: PeerKind,
    port: u16,
    tls: bool,
    stock: bool,
    log: Arc<EventLog>,
    backend: Backend,
}

enum Backend {
    Process(ProcessPeer),
    InProcess(rust_peer::RustPeer),
    Dead,
}

impl Peer {
    /// Starts a peer and blocks until it listens (installing its dependencies first if
    /// needed). Panics with the peer's stderr if it does not come up within 60 s.
    ///
    /// Panics, too, for [`PeerOptions::stock`] with a kind other than python or with engine
    /// options other than the defaults, and for a kind that `EIO_TEST_PEERS` excludes: a
    /// test that needs one particular peer calls [`start_or_skip`], which says why it skips
    /// instead.
    pub fn start(kind: PeerKind, opts: PeerOptions) -> Peer {
        // The options are checked first, whatever EIO_TEST_PEERS says.
        let stock = opts.stock;
        assert!(
            !stock || kind == PeerKind::Python,
            "{kind} peer: PeerOptions::stock is a python option"
        );
        assert!(
            !stock || opts.engine_defaults(),
            "the stock python peer runs python-engineio's defaults: only port and tls may be \
             set, got ping {:?}/{:?}, max payload {}, path {:?}, cookie {:?}, transports {:?}",
            opts.ping_interval,
            opts.ping_timeout,
            opts.max_payload,
            opts.path,
            opts.cookie,
            opts.transports
        );
        assert!(
            !opts.allow_eio3 || kind == PeerKind::Node,
            "{kind} peer: PeerOptions::allow_eio3 is a node option"
        );
        assert!(
            (opts.require_client_cert.is_none() && opts.add_trailing_slash)
                || kind == PeerKind::Node,
            "{kind} peer: PeerOptions::require_client_cert and add_trailing_slash are node options"
        );
        assert!(
            opts.require_client_cert.is_none() || opts.tls.is_some(),
            "PeerOptions::require_client_cert needs PeerOptions::tls"
        );
        assert!(
            !opts.per_message_deflate || kind == PeerKind::Node,
            "{kind} peer: PeerOptions::per_message_deflate is a node option"
        );
        assert!(
            enabled(kind),
            "the {kind} peer is excluded by {}: start it with start_or_skip(), or iterate \
             all_peers()",
            select::VAR
        );
        let log = Arc::new(EventLog::default());
        let tls = opts.tls.is_some();
        match kind {
            PeerKind::Rust => {
                let server = rust_peer::RustPeer::start(&opts, log.clone());
                Peer {
                    kind,
                    port: server.port(),
                    tls,
                    stock,
                    log,
                    backend: Backend::InProcess(server),
                }
            }
            PeerKind::Node | PeerKind::Python | PeerKind::Node3 | PeerKind::Python3 => {
                install::ensure_installed(kind);
                let (process, port) = ProcessPeer::spawn(kind, &opts, log.clone());
                Peer {
                    kind,
                    port,
                    tls,
                    stock,
                    log,
                    backend: Backend::Process(process),
                }
            }
        }
    }

    pub fn kind(&self) -> PeerKind {
        self.kind
    }

    /// The name for assertion messages: the kind's (`node`, `python`, `rust`), or
    /// `stock python` for the [`PeerOptions::stock`] server.
    pub fn name(&self) -> &'static str {
        if self.stock {
            "stock python"
        } else {
            self.kind.name()
        }
    }

    /// The temporary directory holding a process peer's TLS certificate and key files
    /// (`cert.pem`, `key.pem`) while it runs; `None` without TLS, for the in-process Rust
    /// peer, and once the peer is killed (the directory is then removed).
    pub fn tls_files(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Process(p) => p.tls_files(),
            _ => None,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT` (no path); `https://…` when started with [`PeerOptions::tls`].
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Everything logged so far, in order.
    pub fn events(&self) -> Vec<PeerEvent> {
        self.log.snapshot()
    }

    /// The first event of the whole log (from the start, not only new ones) that matches
    /// `pred`, waiting up to `timeout` for it to arrive.
    pub fn wait_for(
        &self,
        timeout: Duration,
        pred: impl Fn(&PeerEvent) -> bool,
    ) -> Option<PeerEvent> {
        self.log.wait_for(timeout, pred)
    }

    /// Every HTTP request logged so far, in order.
    pub fn requests(&self) -> Vec<PeerRequest> {
        self.log
            .snapshot()
            .into_iter()
            .filter_map(|e| match e {
                PeerEvent::Request(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    /// Freezes the server process (SIGSTOP): connections stay open but nothing is read or
    /// answered (the kernel still accepts connections and buffers what clients write).
    /// Returns once every thread of the process has stopped, or `false` when unsupported
    /// (the in-process Rust peer) or the process is gone.
    pub fn pause(&self) -> bool {
        match &self.backend {
            Backend::Process(p) => p.stop(),
            _ => false,
        }
    }

    /// [`pause`](Self::pause)s the peer until the returned guard is dropped, also when the
    /// test fails in between; `None` when the peer cannot be frozen.
    pub fn freeze(&self) -> Option<Frozen<'_>> {
        self.pause().then_some(Frozen(self))
    }

    /// Resumes a paused server process (SIGCONT). `false` for the Rust peer.
    pub fn resume(&self) -> bool {
        self.signal(libc::SIGCONT)
    }

    fn signal(&self, sig: libc::c_int) -> bool {
        match &self.backend {
            Backend::Process(p) => p.signal(sig),
            _ => false,
        }
    }

    /// Ends the server abruptly, mid-session: SIGKILL (and reap) for process peers; for the
    /// Rust peer its runtime is shut down, which drops every connection at once. The event
    /// log stays readable. Idempotent.
    pub fn kill(&mut self) {
        match std::mem::replace(&mut self.backend, Backend::Dead) {
            Backend::Process(p) => p.kill(),
            Backend::InProcess(server) => server.shutdown(),
            Backend::Dead => {}
        }
    }
}

/// A frozen peer, resumed when dropped; see [`Peer::freeze`].
#[must_use = "the peer resumes when this is dropped"]
pub struct Frozen<'a>(&'a Peer);

impl Frozen<'_> {
    /// Resumes the peer now.
    pub fn resume(self) {
        drop(self);
    }
}

impl Drop for Frozen<'_> {
    fn drop(&mut self) {
        self.0.resume();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.kill();
    }
}

impl fmt::Debug for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Peer")
            .field("kind", &self.kind)
            .field("stock", &self.stock)
            .field("tls", &self.tls)
            .field("port", &self.port)
            .finish()
    }
}
