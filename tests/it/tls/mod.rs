//! TLS: `https`/`wss` sessions against every peer (node `engine.io` on node's `https`
//! server, `python-engineio` on aiohttp with an `ssl.SSLContext`, engineioxide behind
//! tokio-rustls), each served over TLS with a certificate from a CA generated in the test.
//!
//! * With the CA trusted (`ca_certificate_pem`, or `ca_file`) every mode works and echoes
//!   text and binary: polling only, websocket only (from an `https://` and a `wss://` URL),
//!   and polling upgraded to websocket.
//! * A certificate that does not verify is refused at connect time, as a certificate error
//!   (`Transport(Connect(_))` naming the certificate problem), long before the request
//!   timeout: unknown issuer (default roots only), wrong host name (even with the CA).
//! * `ssl_verify(false)` accepts them.
//! * Plain HTTP to a TLS server is a lost connection, not a timeout.
//! * An unusable CA (garbage PEM, missing file) is a configuration error, found before any
//!   connection is made.
//!
//! The files: [`trusted`] (verified and `ssl_verify(false)` sessions that echo), [`refused`]
//! (certificates that do not verify, plain HTTP), [`config`] (unusable TLS settings). The
//! peer tests run against every peer `EIO_TEST_PEERS` enables.

mod config;
mod refused;
mod trusted;

use std::time::{Duration, Instant};

use actix_engineio::{ConnectError, Session, SessionBuilder, TransportError, TransportKind};

use crate::support::client::{within, Events};
use crate::support::peers::{all_peers, start_peers, Peer, PeerOptions, TlsIdentity};

/// The request timeout of the sessions expected to fail (awc's connect timeout, TLS
/// handshake included, is the request timeout too): twice [`FAILURE_DEADLINE`], so a
/// failure that arrives within the deadline is not this timeout firing.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a connect that must fail may take before the test fails. Generous, and well
/// short of [`REQUEST_TIMEOUT`].
pub(crate) const FAILURE_DEADLINE: Duration = Duration::from_secs(30);

/// One peer of every enabled kind, each serving HTTPS with `identity` (started in
/// parallel).
fn tls_peers(identity: TlsIdentity) -> Vec<Peer> {
    let peers = start_peers(
        &all_peers(),
        PeerOptions {
            tls: Some(identity),
            ..PeerOptions::default()
        },
    );
    for peer in &peers {
        assert!(
            peer.url().starts_with("https://127.0.0.1:"),
            "{} peer: {}",
            peer.name(),
            peer.url()
        );
    }
    peers
}

/// `[<name> peer over TLS]`, the start of every assertion message.
fn label(peer: &Peer) -> String {
    format!("[{} peer over TLS]", peer.name())
}

/// Connects `builder`, which must fail: with [`REQUEST_TIMEOUT`], and failing the test
/// when no answer comes within [`FAILURE_DEADLINE`].
pub(crate) async fn connect_expecting_failure(
    builder: SessionBuilder,
    what: &str,
) -> Result<actix::Addr<Session>, ConnectError> {
    let started = Instant::now();
    let result = within(
        format!("{what}: connect() (request timeout {REQUEST_TIMEOUT:?})"),
        FAILURE_DEADLINE,
        builder.request_timeout(REQUEST_TIMEOUT).connect(),
    )
    .await;
    eprintln!("{what}: {result:?} after {:?}", started.elapsed());
    result
}

/// How a session is opened.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// `transports(["polling"])`.
    Polling,
    /// `transports(["websocket"])` from the `https://` URL.
    WebSocket,
    /// `transports(["websocket"])` from the URL rewritten to `wss://`.
    WebSocketWssUrl,
    /// The default transports: polling, then the upgrade to websocket.
    Upgrade,
}

impl Mode {
    fn builder(self, peer: &Peer) -> SessionBuilder {
        match self {
            Mode::Polling => Session::builder(peer.url()).transports(["polling"]),
            Mode::WebSocket => Session::builder(peer.url()).transports(["websocket"]),
            Mode::WebSocketWssUrl => {
                let url = peer.url().replacen("https://", "wss://", 1);
                Session::builder(url).transports(["websocket"])
            }
            Mode::Upgrade => Session::builder(peer.url()),
        }
    }

    fn first_transport(self) -> TransportKind {
        match self {
            Mode::Polling | Mode::Upgrade => TransportKind::Polling,
            Mode::WebSocket | Mode::WebSocketWssUrl => TransportKind::WebSocket,
        }
    }
}

/// Where the trusted CA comes from.
#[derive(Debug, Clone, Copy)]
enum CaSource {
    Pem,
    File,
}

/// Why the TLS backend refuses a certificate, as its error text says it: rustls names
/// the problem; OpenSSL (feature `openssl` without `rustls`) only says it failed.
const UNKNOWN_ISSUER: &str = if cfg!(feature = "rustls") {
    "unknownissuer"
} else {
    "certificate verify failed"
};
const WRONG_NAME: &str = if cfg!(feature = "rustls") {
    "not valid for name"
} else {
    "certificate verify failed"
};

/// Asserts that `result` is a refused TLS connection whose cause names a certificate
/// problem, and `problem` (lowercase) in particular: not a timeout, nor a refused or lost
/// connection.
fn assert_certificate_refused(
    result: Result<actix::Addr<Session>, ConnectError>,
    problem: &str,
    what: &str,
) {
    match result {
        Err(ConnectError::Transport(TransportError::Connect(cause))) => {
            let lower = cause.to_ascii_lowercase();
            assert!(
                lower.contains("certificate") && lower.contains(problem),
                "{what}: the cause does not say the certificate is refused for {problem:?}: {cause:?}"
            );
            for not in ["timeout", "timed out", "refused"] {
                assert!(
                    !lower.contains(not),
                    "{what}: the cause says {not:?}, not only a certificate problem: {cause:?}"
                );
            }
        }
        Err(other) => {
            panic!("{what}: expected Transport(Connect(<certificate error>)), got {other:?}")
        }
        Ok(_) => panic!("{what}: connected although the certificate does not verify"),
    }
}

/// Connects `builder` to `peer`, expecting the certificate refused for `problem` (see
/// [`assert_certificate_refused`]) within [`FAILURE_DEADLINE`], no `Connect` published, and
/// no HTTP request at the peer.
async fn refused(peer: &Peer, builder: SessionBuilder, problem: &str, what: &str) {
    let what = format!("{} {what}", label(peer));
    let events = Events::default();
    let result = connect_expecting_failure(events.subscribe(builder), &what).await;
    assert_certificate_refused(result, problem, &what);
    assert!(
        events.connect().is_none(),
        "{what}: Connect published: {:?}",
        events.all()
    );
    // No HTTP request ever reached the server: the TLS handshake failed first.
    assert!(
        peer.requests().is_empty(),
        "{what}: requests reached the server: {:?}",
        peer.requests()
    );
}
