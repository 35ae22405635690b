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

mod support;

use std::net::TcpListener;

use actix_engineio::{Close, DisconnectReason};
use actix_engineio::{
    ConfigError, ConnectError, Payload, Send, Session, SessionBuilder, TransportError,
    TransportKind, Upgrade,
};

use support::client::{wait_until, Events, DEADLINE};
use support::pki::{missing_file, TempFile, TestCa};
use support::{Peer, PeerEvent, PeerKind, PeerOptions, TlsIdentity};

/// The Rust peer serving HTTPS with `identity`.
fn tls_peer(identity: TlsIdentity) -> Peer {
    let peer = Peer::start(
        PeerKind::Rust,
        PeerOptions {
            tls: Some(identity),
            ..PeerOptions::default()
        },
    );
    assert!(
        peer.url().starts_with("https://127.0.0.1:"),
        "{}",
        peer.url()
    );
    peer
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

/// Opens a session in `mode` trusting `ca` the `source` way, checks it echoes text and
/// binary (after the upgrade too, in upgrade mode), and closes it.
async fn echo_over_tls(peer: &Peer, ca: &TestCa, mode: Mode, source: CaSource) {
    let what = format!("{mode:?} with the CA from {source:?}");
    let file;
    let builder = match source {
        CaSource::Pem => mode.builder(peer).ca_certificate_pem(ca.pem()),
        CaSource::File => {
            file = TempFile::new("ca", ca.pem().as_bytes());
            mode.builder(peer).ca_file(file.path())
        }
    };
    let events = Events::default();
    let session = events
        .subscribe(builder)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{what}: connect failed: {e:?}"));
    let connect = events.connect().expect("Connect before connect() returns");
    assert_eq!(connect.transport, mode.first_transport(), "{what}");
    let sid = connect.sid.clone();

    let mut expected = vec![
        Payload::from("hello over tls"),
        Payload::from(vec![0u8, 1, 0x1e, 0xff]),
    ];
    session
        .send(Send::text("hello over tls"))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{what}: send text: {e:?}"));
    session
        .send(Send::binary(vec![0u8, 1, 0x1e, 0xff]))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{what}: send binary: {e:?}"));
    let got = events.messages(2).await;
    assert_eq!(got, expected, "{what}: echoes; seen {:?}", events.all());

    if let Mode::Upgrade = mode {
        assert_eq!(
            events.upgrade().await,
            Upgrade::Completed(TransportKind::WebSocket),
            "{what}: seen {:?}",
            events.all()
        );
        session
            .send(Send::text("after upgrade"))
            .await
            .unwrap()
            .unwrap();
        session
            .send(Send::binary(vec![9u8; 3]))
            .await
            .unwrap()
            .unwrap();
        expected.push(Payload::from("after upgrade"));
        expected.push(Payload::from(vec![9u8; 3]));
        let got = events.messages(4).await;
        assert_eq!(
            got,
            expected,
            "{what}: echoes after the upgrade; seen {:?}",
            events.all()
        );
    }

    // The peer saw the transports the mode implies (every request reached it over TLS: the
    // peer speaks nothing else).
    let requests = peer.requests();
    let websocket = |r: &&support::PeerRequest| r.is_websocket();
    match mode {
        Mode::Polling => assert!(
            !requests.iter().any(|r| r.is_websocket()),
            "{what}: a websocket request in polling mode: {requests:?}"
        ),
        Mode::Upgrade => assert!(
            requests
                .iter()
                .filter(websocket)
                .any(|r| r.query("sid").as_deref() == Some(sid.as_str())),
            "{what}: no upgrade request for {sid}: {requests:?}"
        ),
        Mode::WebSocket | Mode::WebSocketWssUrl => assert!(
            requests
                .iter()
                .filter(websocket)
                .any(|r| r.query("sid").is_none()
                    && r.query("transport").as_deref() == Some("websocket")),
            "{what}: no websocket handshake request: {requests:?}"
        ),
    }

    session.send(Close).await.unwrap();
    assert_eq!(
        events.disconnect().await,
        DisconnectReason::ClientDisconnect,
        "{what}"
    );
    let closed = support::client::peer_event(
        peer,
        |e| matches!(e, PeerEvent::Close { sid: s, .. } if *s == sid),
    )
    .await;
    assert!(
        closed.is_some(),
        "{what}: the peer never saw the session {sid} close"
    );
}

async fn echo_both_ca_sources(mode: Mode) {
    let ca = TestCa::new("actix-engineio test CA");
    let peer = tls_peer(ca.localhost_identity());
    echo_over_tls(&peer, &ca, mode, CaSource::Pem).await;
    echo_over_tls(&peer, &ca, mode, CaSource::File).await;
}

#[actix_rt::test]
async fn trusted_ca_polling_only_echoes() {
    echo_both_ca_sources(Mode::Polling).await;
}

#[actix_rt::test]
async fn trusted_ca_websocket_only_echoes() {
    echo_both_ca_sources(Mode::WebSocket).await;
}

#[actix_rt::test]
async fn trusted_ca_websocket_only_from_wss_url_echoes() {
    echo_both_ca_sources(Mode::WebSocketWssUrl).await;
}

#[actix_rt::test]
async fn trusted_ca_polling_upgrades_to_websocket_and_echoes() {
    echo_both_ca_sources(Mode::Upgrade).await;
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

#[actix_rt::test]
async fn unknown_issuer_is_refused_with_default_roots() {
    let ca = TestCa::new("an unknown CA");
    let peer = tls_peer(ca.localhost_identity());
    refused(
        &peer,
        Session::builder(peer.url()).transports(["polling"]),
        UNKNOWN_ISSUER,
        "polling without the CA",
    )
    .await;
    refused(
        &peer,
        Session::builder(peer.url()).transports(["websocket"]),
        UNKNOWN_ISSUER,
        "websocket without the CA",
    )
    .await;
    refused(
        &peer,
        Session::builder(peer.url()),
        UNKNOWN_ISSUER,
        "default transports without the CA",
    )
    .await;
}

#[actix_rt::test]
async fn a_different_ca_does_not_help() {
    let ca = TestCa::new("the server's CA");
    let other = TestCa::new("another CA");
    let peer = tls_peer(ca.localhost_identity());
    refused(
        &peer,
        Session::builder(peer.url())
            .transports(["polling"])
            .ca_certificate_pem(other.pem()),
        UNKNOWN_ISSUER,
        "polling trusting another CA",
    )
    .await;
    refused(
        &peer,
        Session::builder(peer.url())
            .transports(["websocket"])
            .ca_certificate_pem(other.pem()),
        UNKNOWN_ISSUER,
        "websocket trusting another CA",
    )
    .await;
}

#[actix_rt::test]
async fn wrong_host_name_is_refused_even_with_the_ca() {
    let ca = TestCa::new("actix-engineio test CA");
    let peer = tls_peer(ca.server_identity(&["example.com"]));
    refused(
        &peer,
        Session::builder(peer.url())
            .transports(["polling"])
            .ca_certificate_pem(ca.pem()),
        WRONG_NAME,
        "polling, certificate for example.com",
    )
    .await;
    refused(
        &peer,
        Session::builder(peer.url())
            .transports(["websocket"])
            .ca_certificate_pem(ca.pem()),
        WRONG_NAME,
        "websocket, certificate for example.com",
    )
    .await;
    // `localhost` is not in the certificate either.
    let url = peer.url().replace("127.0.0.1", "localhost");
    refused(
        &peer,
        Session::builder(url)
            .transports(["polling"])
            .ca_certificate_pem(ca.pem()),
        WRONG_NAME,
        "polling to localhost, certificate for example.com",
    )
    .await;
}

#[actix_rt::test]
async fn localhost_name_verifies() {
    let ca = TestCa::new("actix-engineio test CA");
    let peer = tls_peer(ca.localhost_identity());
    let url = peer.url().replace("127.0.0.1", "localhost");
    let events = Events::default();
    let session = events
        .subscribe(
            Session::builder(url)
                .transports(["websocket"])
                .ca_certificate_pem(ca.pem()),
        )
        .connect()
        .await
        .expect("https://localhost with the CA");
    session.send(Send::text("hi")).await.unwrap().unwrap();
    assert_eq!(events.messages(1).await, [Payload::from("hi")]);
    session.send(Close).await.unwrap();
    assert_eq!(
        events.disconnect().await,
        DisconnectReason::ClientDisconnect
    );
}

/// `ssl_verify(false)` without any CA: connects and echoes in every mode.
async fn insecure_echoes(identity: TlsIdentity) {
    let peer = tls_peer(identity);
    for mode in [
        Mode::Polling,
        Mode::WebSocket,
        Mode::WebSocketWssUrl,
        Mode::Upgrade,
    ] {
        let events = Events::default();
        let session = events
            .subscribe(mode.builder(&peer).ssl_verify(false))
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{mode:?} with ssl_verify(false): {e:?}"));
        assert_eq!(
            events.connect().map(|c| c.transport),
            Some(mode.first_transport()),
            "{mode:?}"
        );
        session.send(Send::text("insecure")).await.unwrap().unwrap();
        session
            .send(Send::binary(vec![7u8, 0, 7]))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            events.messages(2).await,
            [Payload::from("insecure"), Payload::from(vec![7u8, 0, 7])],
            "{mode:?}: seen {:?}",
            events.all()
        );
        if let Mode::Upgrade = mode {
            assert_eq!(
                events.upgrade().await,
                Upgrade::Completed(TransportKind::WebSocket),
                "{mode:?}"
            );
        }
        session.send(Close).await.unwrap();
        assert_eq!(
            events.disconnect().await,
            DisconnectReason::ClientDisconnect,
            "{mode:?}"
        );
    }
}

#[actix_rt::test]
async fn ssl_verify_false_accepts_an_unknown_issuer() {
    insecure_echoes(TestCa::new("an unknown CA").localhost_identity()).await;
}

#[actix_rt::test]
async fn ssl_verify_false_accepts_a_wrong_host_name() {
    insecure_echoes(TestCa::new("an unknown CA").server_identity(&["example.com"])).await;
}

/// Sessions of one thread share HTTP clients (and their connection pools) by TLS settings:
/// an insecure or CA-trusting session, even still open, must not let a later verifying
/// session reuse its connections.
#[actix_rt::test]
async fn earlier_sessions_do_not_weaken_verification() {
    let ca = TestCa::new("actix-engineio test CA");
    let peer = tls_peer(ca.localhost_identity());

    let insecure = Events::default();
    let insecure_session = insecure
        .subscribe(Session::builder(peer.url()).ssl_verify(false))
        .connect()
        .await
        .expect("insecure session");
    insecure_session
        .send(Send::text("a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(insecure.messages(1).await, [Payload::from("a")]);

    let trusted = Events::default();
    let trusted_session = trusted
        .subscribe(
            Session::builder(peer.url())
                .transports(["polling"])
                .ca_certificate_pem(ca.pem()),
        )
        .connect()
        .await
        .expect("session trusting the CA");
    trusted_session
        .send(Send::text("b"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(trusted.messages(1).await, [Payload::from("b")]);

    for transports in ["polling", "websocket"] {
        let result = Session::builder(peer.url())
            .transports([transports])
            .connect()
            .await;
        assert_certificate_refused(
            result,
            UNKNOWN_ISSUER,
            &format!("{transports} with default roots while others are open"),
        );
    }

    insecure_session.send(Close).await.unwrap();
    trusted_session.send(Close).await.unwrap();
    assert_eq!(
        insecure.disconnect().await,
        DisconnectReason::ClientDisconnect
    );
    assert_eq!(
        trusted.disconnect().await,
        DisconnectReason::ClientDisconnect
    );

    // And once they are closed, too.
    let result = Session::builder(peer.url())
        .transports(["polling"])
        .connect()
        .await;
    assert_certificate_refused(result, UNKNOWN_ISSUER, "polling after the others closed");
}

/// A listener that nobody should connect to; `assert_untouched` checks nobody did.
struct Untouched(TcpListener);

impl Untouched {
    fn new() -> Untouched {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Untouched(listener)
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.0.local_addr().unwrap().port())
    }

    fn assert_untouched(&self, what: &str) {
        match self.0.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Ok((_, from)) => panic!("{what}: a connection was made (from {from})"),
            Err(e) => panic!("{what}: accept: {e}"),
        }
    }
}

async fn config_tls_error(builder: SessionBuilder, server: &Untouched, what: &str) {
    let events = Events::default();
    match events.subscribe(builder).connect().await {
        Err(ConnectError::Config(ConfigError::Tls(reason))) => {
            assert!(!reason.is_empty(), "{what}: empty reason");
        }
        Err(other) => panic!("{what}: expected Config(Tls(_)), got {other:?}"),
        Ok(_) => panic!("{what}: connected"),
    }
    // Give a stray connection attempt time to show up.
    wait_until(std::time::Duration::from_millis(300), || false).await;
    server.assert_untouched(what);
    assert!(events.all().is_empty(), "{what}: events {:?}", events.all());
}

#[actix_rt::test]
async fn garbage_ca_pem_is_a_config_error() {
    let server = Untouched::new();
    let garbage: Vec<u8> = vec![0x00, 0xff, 0x13, b'x', b'\n', 0x80, 0x81, 0x1e];
    config_tls_error(
        Session::builder(server.url()).ca_certificate_pem(garbage.clone()),
        &server,
        "binary garbage",
    )
    .await;
    config_tls_error(
        Session::builder(server.url())
            .transports(["websocket"])
            .ca_certificate_pem(garbage),
        &server,
        "binary garbage, websocket only",
    )
    .await;
    config_tls_error(
        Session::builder(server.url()).ca_certificate_pem("not a certificate at all"),
        &server,
        "plain text",
    )
    .await;
    config_tls_error(
        Session::builder(server.url()).ca_certificate_pem(
            "-----BEGIN CERTIFICATE-----\n!!!! not base64 ~~~~\n-----END CERTIFICATE-----\n",
        ),
        &server,
        "a PEM block that is not base64",
    )
    .await;
    config_tls_error(
        Session::builder(server.url()).ca_certificate_pem(
            "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQsIEkgYW0gbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
        ),
        &server,
        "a PEM block that is not DER",
    )
    .await;
    // A good CA beside a bad one is still an error.
    let ca = TestCa::new("good CA");
    config_tls_error(
        Session::builder(server.url())
            .ca_certificate_pem(ca.pem())
            .ca_certificate_pem("garbage"),
        &server,
        "good then garbage",
    )
    .await;
}

#[actix_rt::test]
async fn garbage_ca_file_is_a_config_error() {
    let server = Untouched::new();
    let file = TempFile::new("garbage", b"\x00\x01 definitely not PEM \xfe\xff");
    config_tls_error(
        Session::builder(server.url()).ca_file(file.path()),
        &server,
        "ca_file with garbage",
    )
    .await;
}

#[actix_rt::test]
async fn missing_ca_file_is_a_config_error() {
    let server = Untouched::new();
    let path = missing_file();
    config_tls_error(
        Session::builder(server.url()).ca_file(&path),
        &server,
        "missing ca_file",
    )
    .await;
    config_tls_error(
        Session::builder(server.url())
            .transports(["websocket"])
            .ca_file(&path),
        &server,
        "missing ca_file, websocket only",
    )
    .await;
    // A directory is not a file either.
    config_tls_error(
        Session::builder(server.url()).ca_file(std::env::temp_dir()),
        &server,
        "ca_file of a directory",
    )
    .await;
}

#[actix_rt::test]
async fn plain_http_client_to_tls_peer_fails_cleanly() {
    // The TLS peer does not speak plain HTTP: a connect to http:// fails (not hangs).
    let ca = TestCa::new("actix-engineio test CA");
    let peer = tls_peer(ca.localhost_identity());
    let url = peer.url().replacen("https://", "http://", 1);
    let started = std::time::Instant::now();
    let result = Session::builder(url)
        .transports(["polling"])
        .request_timeout(std::time::Duration::from_secs(5))
        .connect()
        .await;
    assert!(result.is_err(), "plain http to a TLS server connected");
    assert!(started.elapsed() < DEADLINE, "took {:?}", started.elapsed());
}

/// TLS settings beside a custom `http_client` could not take effect: a configuration
/// error, before any request.
#[actix_rt::test]
async fn tls_settings_with_a_custom_client_are_a_config_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let result = Session::builder(&url)
        .http_client(awc::Client::default())
        .ssl_verify(false)
        .connect()
        .await;
    assert!(
        matches!(result, Err(ConnectError::Config(ConfigError::Tls(_)))),
        "{result:?}"
    );
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err(), "a connection was made");
}
