//! Mutual TLS: `client_certificate` (and `client_certificate_files`) against node's
//! `engine.io` on an `https` server that requires a client certificate signed by its CA
//! (`requestCert`, `rejectUnauthorized`). With the certificate every mode echoes; without
//! it, or with one of another CA, `connect` fails as a TLS refusal, well before the request
//! timeout; an unusable certificate or key is a configuration error, and the key never
//! shows. The module's name puts these tests under the `tls::` filter, which the `openssl`
//! backend's run uses (`--no-default-features --features openssl -- tls::`).

use std::time::Duration;

use actix_engineio::{ConfigError, ConnectError, Session, TransportError, TransportKind};

use crate::support::client::{within, Client, Mode, ALL_MODES, DEADLINE};
use crate::support::net::Untouched;
use crate::support::peers::{start_or_skip, Peer, PeerKind, PeerOptions, TlsIdentity};
use crate::support::pki::{TempFile, TestCa};

/// A node peer over TLS with `ca`'s certificate, requiring a client certificate of `ca`.
fn mtls_peer(ca: &TestCa) -> Option<Peer> {
    start_or_skip(
        PeerKind::Node,
        PeerOptions {
            tls: Some(ca.localhost_identity()),
            require_client_cert: Some(ca.pem()),
            ..PeerOptions::default()
        },
    )
}

/// With the client certificate (given as PEM, or as files), every mode connects, echoes
/// and, in upgrade mode, upgrades: the polling requests and the websocket all carry it.
#[actix_rt::test]
async fn a_client_certificate_opens_every_mode() {
    let ca = TestCa::new("mtls test CA");
    let Some(peer) = mtls_peer(&ca) else { return };
    let identity = ca.client_identity("actix-engineio test client");
    let cert_file = TempFile::new("client-cert", identity.cert_chain_pem.as_bytes());
    let key_file = TempFile::new("client-key", identity.key_pem.as_bytes());
    for mode in ALL_MODES {
        for files in [false, true] {
            let label = format!("[node mTLS peer, {mode}, from files: {files}]");
            let builder = mode.builder(&peer.url()).ca_certificate_pem(ca.pem());
            let builder = if files {
                builder.client_certificate_files(cert_file.path(), key_file.path())
            } else {
                builder
                    .client_certificate(identity.cert_chain_pem.clone(), identity.key_pem.clone())
            };
            let client = Client::connect(label, builder).await;
            client.echo("hello over mutual TLS").await;
            if mode == Mode::Upgrade {
                client.upgraded().await;
                client.echo("after the upgrade").await;
            }
            assert_eq!(client.transport, mode.opens_on());
            client.close().await;
        }
    }
}

/// Without a client certificate, or with one the server's CA did not sign, the server
/// refuses the TLS connection: `connect` fails with a connection error (not a timeout, not
/// an HTTP answer), over polling and over websocket alike.
#[actix_rt::test]
async fn without_a_trusted_client_certificate_the_server_refuses() {
    let ca = TestCa::new("mtls test CA");
    let Some(peer) = mtls_peer(&ca) else { return };
    let stranger = TestCa::new("another CA").client_identity("stranger");
    for transport in [TransportKind::Polling, TransportKind::WebSocket] {
        for certificate in [None, Some(&stranger)] {
            let label = format!(
                "[node mTLS peer, {transport}, {}]",
                match certificate {
                    None => "no client certificate",
                    Some(_) => "a certificate of another CA",
                }
            );
            let mut builder = Session::builder(peer.url())
                .transports([transport])
                .ca_certificate_pem(ca.pem())
                .request_timeout(Duration::from_secs(60));
            if let Some(TlsIdentity {
                cert_chain_pem,
                key_pem,
            }) = certificate
            {
                builder = builder.client_certificate(cert_chain_pem.clone(), key_pem.clone());
            }
            let err = within(format!("{label} connect"), DEADLINE, builder.connect())
                .await
                .expect_err(&label);
            eprintln!("{label}: {err}");
            assert!(
                matches!(
                    err,
                    ConnectError::Transport(
                        TransportError::Connect(_) | TransportError::ConnectionLost(_)
                    )
                ),
                "{label}: {err:?}"
            );
            // rustls names the server's alert; OpenSSL's text varies with its version.
            if certificate.is_none() && cfg!(feature = "rustls") {
                assert!(
                    err.to_string().contains("CertificateRequired"),
                    "{label}: {err}"
                );
            }
        }
    }
    assert!(
        peer.events()
            .iter()
            .all(|e| !matches!(e, crate::support::peers::PeerEvent::Connect { .. })),
        "a session opened without a trusted client certificate"
    );
}

/// A PEM without a certificate, a key that is not one, or unreadable files are
/// configuration errors found before any connection; the key's text is in no error and in
/// no `Debug` output.
#[actix_rt::test]
async fn unusable_client_certificates_are_config_errors() {
    let server = Untouched::new();
    let ca = TestCa::new("mtls test CA");
    let identity = ca.client_identity("client");
    let other_key = ca.client_identity("other").key_pem;
    let cases: [(&str, String, String); 3] = [
        ("no certificate", "garbage".into(), identity.key_pem.clone()),
        ("no key", identity.cert_chain_pem.clone(), "garbage".into()),
        (
            "a key of another certificate",
            identity.cert_chain_pem.clone(),
            other_key,
        ),
    ];
    for (what, cert, key) in cases {
        let builder = Session::builder(server.https_url()).client_certificate(cert, key.clone());
        assert!(
            !format!("{:?}", builder.client_config()).contains(key.trim()),
            "{what}: the key shows in Debug output"
        );
        let err = builder.connect().await.expect_err(what);
        let ConnectError::Config(ConfigError::Tls(why)) = &err else {
            panic!("{what}: {err:?}");
        };
        assert!(!why.contains("PRIVATE KEY-----\n"), "{what}: {why}");
    }
    let err = Session::builder(server.https_url())
        .client_certificate_files("/no/such/cert.pem", "/no/such/key.pem")
        .connect()
        .await
        .expect_err("missing files");
    assert!(
        matches!(&err, ConnectError::Config(ConfigError::Tls(why)) if why.contains("/no/such/cert.pem")),
        "{err:?}"
    );
    server.assert_untouched("unusable client certificates");
}
