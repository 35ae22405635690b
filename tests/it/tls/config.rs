//! Unusable TLS settings (garbage PEM, a missing or garbage CA file, TLS settings beside a
//! user-built client) are configuration errors, found before any connection is made.

use actix_engineio::{ConfigError, ConnectError, Session, SessionBuilder};

use crate::support::client::{wait_until, Events};
use crate::support::net::Untouched;
use crate::support::pki::{missing_file, TempFile, TestCa};

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
        Session::builder(server.https_url()).ca_certificate_pem(garbage.clone()),
        &server,
        "binary garbage",
    )
    .await;
    config_tls_error(
        Session::builder(server.https_url())
            .transports(["websocket"])
            .ca_certificate_pem(garbage),
        &server,
        "binary garbage, websocket only",
    )
    .await;
    config_tls_error(
        Session::builder(server.https_url()).ca_certificate_pem("not a certificate at all"),
        &server,
        "plain text",
    )
    .await;
    config_tls_error(
        Session::builder(server.https_url()).ca_certificate_pem(
            "-----BEGIN CERTIFICATE-----\n!!!! not base64 ~~~~\n-----END CERTIFICATE-----\n",
        ),
        &server,
        "a PEM block that is not base64",
    )
    .await;
    config_tls_error(
        Session::builder(server.https_url()).ca_certificate_pem(
            "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQsIEkgYW0gbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
        ),
        &server,
        "a PEM block that is not DER",
    )
    .await;
    // A good CA beside a bad one is still an error.
    let ca = TestCa::new("good CA");
    config_tls_error(
        Session::builder(server.https_url())
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
        Session::builder(server.https_url()).ca_file(file.path()),
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
        Session::builder(server.https_url()).ca_file(&path),
        &server,
        "missing ca_file",
    )
    .await;
    config_tls_error(
        Session::builder(server.https_url())
            .transports(["websocket"])
            .ca_file(&path),
        &server,
        "missing ca_file, websocket only",
    )
    .await;
    // A directory is not a file either.
    config_tls_error(
        Session::builder(server.https_url()).ca_file(std::env::temp_dir()),
        &server,
        "ca_file of a directory",
    )
    .await;
}

/// TLS settings beside a custom `http_client` could not take effect: a configuration
/// error, before any request.
#[actix_rt::test]
async fn tls_settings_with_a_custom_client_are_a_config_error() {
    let server = Untouched::new();
    let url = server.https_url();
    let result = Session::builder(&url)
        .http_client(awc::Client::default())
        .ssl_verify(false)
        .connect()
        .await;
    assert!(
        matches!(result, Err(ConnectError::Config(ConfigError::Tls(_)))),
        "{result:?}"
    );
    server.assert_untouched("TLS settings beside a custom client");
}
