//! The flags of Node's connection options: `--client-cert`/`--client-key` (mutual TLS),
//! `--try-all-transports`, `--no-trailing-slash`, `--timestamp-param`, `--polling-header`,
//! `--websocket-header` and `--websocket-protocols`, each reaching the server, through each
//! API, against node's `engine.io` (the only peer with `addTrailingSlash: false` and
//! mutual TLS; the options themselves are tested against every peer in
//! `tests/it/options/`).

use super::api::each_api;
use super::harness::{assert_cannot_connect, run, text};
use crate::support::peers::{start_or_skip, PeerKind, PeerOptions};
use crate::support::pki::{TempFile, TestCa};

/// `--client-cert` and `--client-key` open a session at a server that requires a client
/// certificate; without them the same command cannot connect (exit 1).
#[test]
fn client_certificate_flags() {
    let ca = TestCa::new("cli mtls CA");
    let Some(peer) = start_or_skip(
        PeerKind::Node,
        PeerOptions {
            tls: Some(ca.localhost_identity()),
            require_client_cert: Some(ca.pem()),
            ..PeerOptions::default()
        },
    ) else {
        return;
    };
    let identity = ca.client_identity("cli client");
    let ca_file = TempFile::new("cli-mtls-ca", ca.pem().as_bytes());
    let cert = TempFile::new("cli-client-cert", identity.cert_chain_pem.as_bytes());
    let key = TempFile::new("cli-client-key", identity.key_pem.as_bytes());
    let path = |file: &TempFile| file.path().to_str().expect("utf-8 temp path").to_owned();
    let (ca_path, cert_path, key_path) = (path(&ca_file), path(&cert), path(&key));
    let url = peer.url();
    each_api(|api| {
        let base = [
            "--json",
            "--ca-file",
            &ca_path,
            "--send",
            "mutual",
            "--count",
            "1",
        ];
        let mut with_cert = base.to_vec();
        with_cert.extend(["--client-cert", &cert_path, "--client-key", &key_path, &url]);
        let out = run(api, &with_cert).context("node mTLS peer, with the certificate");
        out.assert_session("polling", &[text("mutual")], "client disconnect");

        let mut without = base.to_vec();
        without.push(&url);
        let out = run(api, &without).context("node mTLS peer, without a certificate");
        assert_cannot_connect(&out);
    });
}

/// At a polling-only server on `/engine.io` without its slash: `--transports
/// websocket,polling --try-all-transports` opens over polling after the refused
/// websocket, `--no-trailing-slash --path /engine.io` spells every request
/// `/engine.io?…`, `--timestamp-param ts` names every poll's cache-buster, and
/// `--polling-header` is on every polling request while `--websocket-header` and
/// `--websocket-protocols` are on the (refused) websocket handshake only.
#[test]
fn url_transport_and_header_flags() {
    let Some(peer) = start_or_skip(
        PeerKind::Node,
        PeerOptions {
            path: "/engine.io".into(),
            add_trailing_slash: false,
            transports: vec!["polling"],
            ..PeerOptions::default()
        },
    ) else {
        return;
    };
    each_api(|api| {
        let url = peer.url();
        let args = [
            "--json",
            "--transports",
            "websocket,polling",
            "--try-all-transports",
            "--path",
            "/engine.io",
            "--no-trailing-slash",
            "--timestamp-param",
            "ts",
            "--polling-header",
            "X-Polling: p",
            "--websocket-header",
            "X-Websocket: w",
            "--websocket-protocols",
            "chat",
            "--send",
            "flags",
            "--count",
            "1",
            &url,
        ];
        let out = run(api, &args).context("node polling-only peer without trailing slash");
        out.assert_session("polling", &[text("flags")], "client disconnect");
        let sid = out.sid();
        let requests: Vec<_> = peer
            .requests()
            .into_iter()
            .filter(|r| r.query("sid").is_none_or(|s| s == sid))
            .collect();
        let polls: Vec<_> = requests.iter().filter(|r| !r.is_websocket()).collect();
        assert!(
            !polls.is_empty() && requests.iter().any(|r| r.is_websocket()),
            "{out}\n{requests:#?}"
        );
        for request in &requests {
            assert!(request.url.starts_with("/engine.io?"), "{}", request.url);
            if request.is_websocket() {
                assert_eq!(request.header("x-websocket"), Some("w"), "{request:#?}");
                assert_eq!(request.header("sec-websocket-protocol"), Some("chat"));
                assert_eq!(request.header("x-polling"), None, "{request:#?}");
            } else {
                assert_eq!(request.header("x-polling"), Some("p"), "{request:#?}");
                assert_eq!(request.header("x-websocket"), None, "{request:#?}");
                // Polls carry the renamed cache-buster. (A plain GET of the websocket URL
                // is the client reading the refused handshake's body: it has none.)
                if request.method == "GET"
                    && request.query("transport").as_deref() == Some("polling")
                {
                    assert!(request.query("ts").is_some() && request.query("t").is_none());
                }
            }
        }
    });
}
