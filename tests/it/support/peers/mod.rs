//! Test support: the three real Engine.IO v4 servers ("peers") the test-suite runs against.
//!
//! * [`PeerKind::Node`]: `engine.io` 6.6 on node's `http` server (`tests/peers/node/server.js`),
//! * [`PeerKind::Python`]: `python-engineio` 4.15 `AsyncServer` on aiohttp
//!   (`tests/peers/python/server.py`, run from the venv `tests/peers/python/.venv`),
//! * [`PeerKind::Rust`]: `engineioxide` 0.17 served by hyper 1, in this process, on its own
//!   thread with its own tokio runtime (`tests/support/rust_peer.rs`).
//!
//! Every peer listens on `127.0.0.1` on an ephemeral port, echoes every message (text as the
//! same text, binary as the same bytes), closes the session from the server side when it
//! receives the text message `close-me`, and logs [`PeerEvent`]s: every HTTP request it
//! receives (polling GETs and POSTs and websocket upgrade requests), session opens,
//! upgrades (node only) and closes. See `tests/peers/README.md` for the details and each
//! server's quirks.
//!
//! Usage, from a plain `#[test]` or an `#[actix_rt::test]` (the API is synchronous):
//!
//! ```ignore
//! mod support;
//! use support::{Peer, PeerEvent, PeerKind, PeerOptions, ALL_PEERS};
//!
//! for kind in ALL_PEERS {
//!     let peer = Peer::start(kind, PeerOptions::default());
//!     // ... connect a client to peer.url() ...
//!     let ev = peer.wait_for(Duration::from_secs(5), |e| matches!(e, PeerEvent::Connect { .. }));
//! }
//! ```
//!
//! The first `Peer::start` of a node or python peer installs what that peer needs when it is
//! missing (`npm ci` in `tests/peers/node`, a venv with `pip install -r requirements.txt` in
//! `tests/peers/python/.venv`), under an exclusive `flock` on `tests/peers/.install.lock`, so
//! parallel tests and test binaries install once. A marker file holding a copy of the lock
//! file (`node_modules/.actix-engineio-installed`, `.venv/.actix-engineio-installed`) is
//! written only after a successful install; a missing or stale marker means reinstall.
//! `tests/peers/setup.sh` does the same from the shell. A failed install panics: a test must
//! fail, not skip, when a peer is missing.
//!
//! Process peers are started with `--exit-with-stdin` and a piped stdin held by [`Peer`], so
//! they also exit when the test process dies without running `Drop`.
//!
//! Deviations from a fully uniform API (documented here on purpose):
//! * [`Peer::pause`]/[`Peer::resume`] return `false` for the in-process Rust peer.
//! * The Rust peer has no cookie option of its own: with [`PeerOptions::cookie`] set, the
//!   harness's hyper wrapper adds `Set-Cookie: NAME=<unique value>; Path=/; HttpOnly;
//!   SameSite=Lax` to every response to a request without `sid` (the handshake), like a load
//!   balancer's sticky cookie. Node and python set `NAME=<sid>`.
//! * Only the Rust peer serves TLS ([`PeerOptions::tls`]); node and python panic with it set.
//! * Only node reports [`PeerEvent::Upgrade`]: python-engineio and engineioxide do not expose
//!   upgrades.
//! * Close reasons are each server's own strings: node `"forced close"`, `"transport close"`,
//!   `"ping timeout"`, ...; python `"server disconnect"`, `"client disconnect"`, ...; rust the
//!   `Debug` form of engineioxide's `DisconnectReason` (`"ClosingServer"`, `"TransportClose"`,
//!   `"HeartbeatTimeout"`, ...).
#![allow(dead_code)]

pub mod client;
pub mod echo;
pub mod pki;
pub mod rust_peer;
pub mod scripted;

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long [`Peer::start`] waits for a peer to report its port (installation excluded).
const START_DEADLINE: Duration = Duration::from_secs(60);

/// Which server implementation a [`Peer`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerKind {
    /// `engine.io` 6.6 on node.
    Node,
    /// `python-engineio` 4.15 `AsyncServer` on aiohttp.
    Python,
    /// `engineioxide` 0.17 on hyper, in-process.
    Rust,
}

/// Every peer kind, for tests that run against all of them.
pub const ALL_PEERS: [PeerKind; 3] = [PeerKind::Node, PeerKind::Python, PeerKind::Rust];

impl fmt::Display for PeerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PeerKind::Node => "node",
            PeerKind::Python => "python",
            PeerKind::Rust => "rust",
        })
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
    /// Serve HTTPS/WSS with this identity instead of plain HTTP (Rust peer only; `Peer::start`
    /// panics for node and python). [`Peer::url`] is then `https://127.0.0.1:PORT`.
    pub tls: Option<TlsIdentity>,
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
        }
    }
}

impl PeerOptions {
    /// The command-line flags understood by `server.js` and `server.py`.
    fn to_args(&self) -> Vec<String> {
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
        args.push("--exit-with-stdin".to_string());
        args
    }
}

/// One HTTP request received by a peer's engine.io server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query as received, e.g. `/engine.io/?EIO=4&transport=polling`.
    pub url: String,
    /// Header names are lowercase; repeated headers are joined with `", "`.
    pub headers: BTreeMap<String, String>,
}

impl PeerRequest {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The first value of a query parameter (percent-decoded).
    pub fn query(&self, name: &str) -> Option<String> {
        query_param(&self.url, name)
    }

    /// Whether this is a websocket upgrade request.
    pub fn is_websocket(&self) -> bool {
        is_websocket_upgrade(self.header("upgrade"))
    }
}

/// The first value of query parameter `name` in `url` (percent-decoded).
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Whether an `Upgrade` header value asks for a websocket.
pub fn is_websocket_upgrade(upgrade: Option<&str>) -> bool {
    upgrade.is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Something a peer logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// A new session. `transport` is `"polling"` or `"websocket"`.
    Connect { sid: String, transport: String },
    /// A session switched transport (node only).
    Upgrade { sid: String, transport: String },
    /// A session ended, with the server's own reason string.
    Close { sid: String, reason: String },
    /// An HTTP request reached the engine.io server.
    Request(PeerRequest),
}

impl PeerEvent {
    /// The session id of a `Connect`, `Upgrade` or `Close` event.
    pub fn sid(&self) -> Option<&str> {
        match self {
            PeerEvent::Connect { sid, .. }
            | PeerEvent::Upgrade { sid, .. }
            | PeerEvent::Close { sid, .. } => Some(sid),
            PeerEvent::Request(_) => None,
        }
    }

    /// Parses one JSON line of a process peer. `Ok(None)` for the `listening` line.
    fn from_json(v: &serde_json::Value) -> Result<Option<PeerEvent>, String> {
        let s = |key: &str| -> Result<String, String> {
            v.get(key)
                .and_then(|x| x.as_str())
                .map(str::to_string)
                .ok_or_else(|| format!("missing string field {key:?}"))
        };
        let event = v
            .get("event")
            .and_then(|e| e.as_str())
            .ok_or("missing \"event\"")?;
        Ok(Some(match event {
            "listening" => return Ok(None),
            "connect" => PeerEvent::Connect {
                sid: s("sid")?,
                transport: s("transport")?,
            },
            "upgrade" => PeerEvent::Upgrade {
                sid: s("sid")?,
                transport: s("transport")?,
            },
            "close" => PeerEvent::Close {
                sid: s("sid")?,
                reason: s("reason")?,
            },
            "request" => {
                let headers = v
                    .get("headers")
                    .and_then(|h| h.as_object())
                    .ok_or("missing \"headers\"")?
                    .iter()
                    .map(|(k, val)| {
                        let val = match val {
                            serde_json::Value::String(x) => x.clone(),
                            other => other.to_string(),
                        };
                        (k.to_ascii_lowercase(), val)
                    })
                    .collect();
                PeerEvent::Request(PeerRequest {
                    method: s("method")?,
                    url: s("url")?,
                    headers,
                })
            }
            other => return Err(format!("unknown event {other:?}")),
        }))
    }
}

/// The ordered event log of one peer, shared with its reader threads or its server tasks.
#[derive(Debug, Default)]
pub struct EventLog {
    events: Mutex<Vec<PeerEvent>>,
    changed: Condvar,
}

impl EventLog {
    /// Appends an event and wakes every waiter.
    pub fn push(&self, event: PeerEvent) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
        self.changed.notify_all();
    }

    fn snapshot(&self) -> Vec<PeerEvent> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn wait_for(&self, timeout: Duration, pred: impl Fn(&PeerEvent) -> bool) -> Option<PeerEvent> {
        let deadline = Instant::now() + timeout;
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(found) = events.iter().find(|e| pred(e)) {
                return Some(found.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            events = self
                .changed
                .wait_timeout(events, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// A running peer server. Dropping it ends the server (SIGKILL and reap for process peers,
/// runtime shutdown for the Rust peer), also when the test panics.
pub struct Peer {
    kind: PeerKind,
    port: u16,
    tls: bool,
    log: Arc<EventLog>,
    backend: Backend,
}

enum Backend {
    Process(ProcessPeer),
    InProcess(rust_peer::RustPeer),
    Dead,
}

struct ProcessPeer {
    child: Child,
    /// Held open: the peer exits when it is closed (`--exit-with-stdin`).
    stdin: Option<ChildStdin>,
    readers: Vec<JoinHandle<()>>,
}

impl Peer {
    /// Starts a peer and blocks until it listens (installing its dependencies first if
    /// needed). Panics with the peer's stderr if it does not come up within 60 s.
    pub fn start(kind: PeerKind, opts: PeerOptions) -> Peer {
        let log = Arc::new(EventLog::default());
        let tls = opts.tls.is_some();
        assert!(
            !tls || kind == PeerKind::Rust,
            "{kind} peer: TLS is only supported by the Rust peer"
        );
        match kind {
            PeerKind::Rust => {
                let server = rust_peer::RustPeer::start(&opts, log.clone());
                Peer {
                    kind,
                    port: server.port(),
                    tls,
                    log,
                    backend: Backend::InProcess(server),
                }
            }
            PeerKind::Node | PeerKind::Python => {
                ensure_installed(kind);
                let (process, port) = spawn_process_peer(kind, &opts, log.clone());
                Peer {
                    kind,
                    port,
                    tls,
                    log,
                    backend: Backend::Process(process),
                }
            }
        }
    }

    pub fn kind(&self) -> PeerKind {
        self.kind
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

    /// Freezes the server process (SIGSTOP): connections stay open but nothing is answered.
    /// Returns `false` when unsupported (the in-process Rust peer) or the process is gone.
    pub fn pause(&self) -> bool {
        self.signal(libc::SIGSTOP)
    }

    /// Resumes a paused server process (SIGCONT). `false` for the Rust peer.
    pub fn resume(&self) -> bool {
        self.signal(libc::SIGCONT)
    }

    fn signal(&self, sig: libc::c_int) -> bool {
        match &self.backend {
            Backend::Process(p) => {
                let pid = p.child.id() as libc::pid_t;
                // SAFETY: plain syscall on the PID of our own, not yet reaped, child.
                unsafe { libc::kill(pid, sig) == 0 }
            }
            _ => false,
        }
    }

    /// Ends the server abruptly, mid-session: SIGKILL (and reap) for process peers; for the
    /// Rust peer its runtime is shut down, which drops every connection at once. The event
    /// log stays readable. Idempotent.
    pub fn kill(&mut self) {
        match std::mem::replace(&mut self.backend, Backend::Dead) {
            Backend::Process(mut p) => {
                let _ = p.child.kill(); // SIGKILL
                let _ = p.child.wait();
                drop(p.stdin.take());
                for r in p.readers.drain(..) {
                    let _ = r.join();
                }
            }
            Backend::InProcess(server) => server.shutdown(),
            Backend::Dead => {}
        }
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
            .field("port", &self.port)
            .finish()
    }
}

// ---------------------------------------------------------------------------------------
// process peers

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("peers")
}

fn spawn_process_peer(
    kind: PeerKind,
    opts: &PeerOptions,
    log: Arc<EventLog>,
) -> (ProcessPeer, u16) {
    let dir = peers_dir().join(kind.to_string());
    let mut cmd = match kind {
        PeerKind::Node => {
            let mut c = Command::new("node");
            c.arg("server.js");
            c
        }
        PeerKind::Python => {
            let mut c = Command::new(dir.join(".venv").join("bin").join("python"));
            c.arg("-u").arg("server.py");
            c
        }
        PeerKind::Rust => unreachable!("the rust peer runs in-process"),
    };
    cmd.args(opts.to_args())
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{kind} peer: cannot run {cmd:?} in {}: {e}", dir.display()));

    let port_slot: Arc<(Mutex<Option<u16>>, Condvar)> = Arc::default();
    let stderr_buf: Arc<Mutex<String>> = Arc::default();

    let stdout = child.stdout.take().expect("piped stdout");
    let out_reader = {
        let port_slot = port_slot.clone();
        std::thread::Builder::new()
            .name(format!("{kind}-peer-stdout"))
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    let parsed = serde_json::from_str::<serde_json::Value>(&line)
                        .map_err(|e| e.to_string())
                        .and_then(|v| {
                            if v.get("event").and_then(|e| e.as_str()) == Some("listening") {
                                if let Some(p) = v.get("port").and_then(|p| p.as_u64()) {
                                    *port_slot.0.lock().unwrap() = Some(p as u16);
                                    port_slot.1.notify_all();
                                }
                            }
                            PeerEvent::from_json(&v)
                        });
                    match parsed {
                        Ok(Some(event)) => log.push(event),
                        Ok(None) => {}
                        Err(e) => eprintln!("[{kind} peer stdout] {line}   (not an event: {e})"),
                    }
                }
                // wake a start() still waiting for the port
                port_slot.1.notify_all();
            })
            .expect("spawn stdout reader")
    };

    let stderr = child.stderr.take().expect("piped stderr");
    let err_reader = {
        let stderr_buf = stderr_buf.clone();
        std::thread::Builder::new()
            .name(format!("{kind}-peer-stderr"))
            .spawn(move || {
                let mut reader = BufReader::new(stderr);
                let mut line = String::new();
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            eprint!("[{kind} peer] {line}");
                            stderr_buf.lock().unwrap().push_str(&line);
                        }
                    }
                }
            })
            .expect("spawn stderr reader")
    };

    let stdin = child.stdin.take();
    let mut process = ProcessPeer {
        child,
        stdin,
        readers: vec![out_reader, err_reader],
    };

    // Wait for {"event":"listening","port":N}, the process's death or the deadline.
    let deadline = Instant::now() + START_DEADLINE;
    let mut failure = None;
    {
        let mut port = port_slot.0.lock().unwrap();
        while port.is_none() {
            if let Ok(Some(status)) = process.child.try_wait() {
                failure = Some(format!("exited with {status} before listening"));
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                failure = Some(format!("did not report its port within {START_DEADLINE:?}"));
                break;
            }
            let wait = (deadline - now).min(Duration::from_millis(100));
            port = port_slot.1.wait_timeout(port, wait).unwrap().0;
        }
        if let (None, Some(p)) = (&failure, *port) {
            return (process, p);
        }
    }
    let _ = process.child.kill();
    let _ = process.child.wait();
    drop(process.stdin.take());
    for r in process.readers.drain(..) {
        let _ = r.join();
    }
    let stderr = stderr_buf.lock().unwrap().clone();
    panic!(
        "{kind} peer failed to start: {}\ncommand: {cmd:?}\n--- stderr ---\n{stderr}",
        failure.unwrap_or_default()
    );
}

// ---------------------------------------------------------------------------------------
// installation of the node and python peers

const MARKER: &str = ".actix-engineio-installed";

/// Installs the node or python peer's dependencies unless a valid marker says they are.
/// Once per process and kind; across threads and processes under an exclusive file lock.
fn ensure_installed(kind: PeerKind) {
    static NODE: OnceLock<()> = OnceLock::new();
    static PYTHON: OnceLock<()> = OnceLock::new();
    let once = match kind {
        PeerKind::Node => &NODE,
        PeerKind::Python => &PYTHON,
        PeerKind::Rust => return,
    };
    once.get_or_init(|| {
        let lock_path = peers_dir().join(".install.lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", lock_path.display()));
        // flock(2) directly rather than `File::lock` (Rust 1.89) to keep to the crate's MSRV;
        // it is the same lock that `flock(1)` takes in tests/peers/setup.sh.
        // SAFETY: a plain syscall on a file descriptor owned by `lock`, which outlives it.
        let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
        if rc != 0 {
            panic!(
                "cannot lock {}: {}",
                lock_path.display(),
                std::io::Error::last_os_error()
            );
        }
        match kind {
            PeerKind::Node => install_node(),
            PeerKind::Python => install_python(),
            PeerKind::Rust => {}
        }
        drop(lock); // closing the file releases the lock
    });
}

/// `true` when `marker` exists and holds exactly the bytes of `lockfile`.
fn marker_is_current(marker: &Path, lockfile: &Path) -> bool {
    match (fs::read(marker), fs::read(lockfile)) {
        (Ok(m), Ok(l)) => m == l,
        _ => false,
    }
}

fn run_install_step(what: &str, cmd: &mut Command) {
    eprintln!("[peers] installing: {what}: {cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("peer installation failed: cannot run {cmd:?} ({what}): {e}"));
    if !out.status.success() {
        panic!(
            "peer installation failed: {what}: {cmd:?} exited with {}\n--- stdout ---\n{}\n--- stderr ---\n{}\n\
             (run `bash tests/peers/setup.sh` to install the test peers by hand)",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn install_node() {
    let dir = peers_dir().join("node");
    let lockfile = dir.join("package-lock.json");
    let modules = dir.join("node_modules");
    let marker = modules.join(MARKER);
    if marker_is_current(&marker, &lockfile) {
        return;
    }
    if modules.exists() {
        fs::remove_dir_all(&modules)
            .unwrap_or_else(|e| panic!("cannot remove {}: {e}", modules.display()));
    }
    run_install_step(
        "node peer dependencies (engine.io)",
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir),
    );
    fs::copy(&lockfile, &marker)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", marker.display()));
}

fn install_python() {
    let dir = peers_dir().join("python");
    let requirements = dir.join("requirements.txt");
    let venv = dir.join(".venv");
    let marker = venv.join(MARKER);
    if marker_is_current(&marker, &requirements) {
        return;
    }
    if venv.exists() {
        fs::remove_dir_all(&venv)
            .unwrap_or_else(|e| panic!("cannot remove {}: {e}", venv.display()));
    }
    run_install_step(
        "python peer venv",
        Command::new("python3")
            .args(["-m", "venv", ".venv"])
            .current_dir(&dir),
    );
    run_install_step(
        "python peer dependencies (python-engineio, aiohttp)",
        Command::new(venv.join("bin").join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "-r",
                "requirements.txt",
            ])
            .current_dir(&dir),
    );
    fs::copy(&requirements, &marker)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", marker.display()));
}
