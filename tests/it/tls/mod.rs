//! TLS: `https`/`wss` sessions against the Rust peer served over TLS with a certificate
//! from a CA generated in the test.
//!
//! * With the CA trusted (`ca_certificate_pem`, or `ca_file`) every mode works and echoes
//!   text and binary: polling only, websocket only (from an `https://` and a `wss://` URL),
//!   and polling upgraded to websocket.
//! * A certificate that does not verify is refused at connect time: unknown issuer (default
//!   roots only), wrong host name (even with the CA).
//! * `ssl_verify(false)` accepts them.
//! * An unusable CA (garbage PEM, missing file) is a configuration error, found before any
//!   connection is made.
//!
//! The files: [`trusted`] (verified and `ssl_verify(false)` sessions that echo), [`refused`]
//! (certificates that do not verify), [`config`] (unusable TLS settings). Only the Rust
//! peer serves TLS, so with `EIO_TEST_PEERS` excluding it the peer tests skip.

mod config;
mod refused;
mod trusted;

use actix_engineio::{ConnectError, Session, SessionBuilder, TransportError, TransportKind};

use crate::support::client::Events;
use crate::support::peers::{start_or_skip, Peer, PeerKind, PeerOptions, TlsIdentity};

/// The Rust peer serving HTTPS with `identity`; `None` (the test skips) when
/// `EIO_TEST_PEERS` excludes the Rust peer, the only one that serves TLS.
fn tls_peer(identity: TlsIdentity) -> Option<Peer> {
    let peer = start_or_skip(
        PeerKind::Rust,
        PeerOptions {
            tls: Some(identity),
            ..PeerOptions::default()
        },
    )?;
    assert!(
        peer.url().starts_with("https://127.0.0.1:"),
        "{}",
        peer.url()
    );
    Some(peer)
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
/// problem, and `problem` (lowercase) in particular.
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
        }
        Err(other) => panic!("{what}: expected Transport(Connect(_)), got {other:?}"),
        Ok(_) => panic!("{what}: connected although the certificate does not verify"),
    }
}

async fn refused(peer: &Peer, builder: SessionBuilder, problem: &str, what: &str) {
    let events = Events::default();
    let result = events.subscribe(builder).connect().await;
    assert_certificate_refused(result, problem, what);
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
