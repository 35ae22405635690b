//! TLS from the command line: `--ca-file` trusts a CA (over https and wss), `--insecure`
//! accepts any certificate, neither refuses an unknown one (exit 1), an unusable CA file is
//! a bad argument (exit 2). Only the Rust peer serves TLS.

use serde_json::json;

use super::harness::{assert_cannot_connect, binary, run, text};
use crate::support::net::Untouched;
use crate::support::peers::{start_or_skip, PeerKind, PeerOptions};
use crate::support::pki::{missing_file, TempFile, TestCa};

#[test]
fn tls_with_ca_file() {
    let ca = TestCa::new("actix-engineio cli test CA");
    let Some(peer) = start_or_skip(
        PeerKind::Rust,
        PeerOptions {
            tls: Some(ca.localhost_identity()),
            ..PeerOptions::default()
        },
    ) else {
        return;
    };
    let ca_file = TempFile::new("cli-ca", ca.pem().as_bytes());
    let ca_path = ca_file
        .path()
        .to_str()
        .expect("utf-8 temp path")
        .to_string();
    let https = peer.url();
    assert!(https.starts_with("https://"), "{https}");
    let wss = https.replacen("https://", "wss://", 1);

    let out = run(&[
        "--json",
        "--ca-file",
        &ca_path,
        "--send",
        "secure",
        "--send-binary",
        "5ec0",
        "--timeout",
        "2",
        &https,
    ]);
    out.assert_session(
        "polling",
        &[text("secure"), binary("5ec0")],
        "client disconnect",
    );
    assert_eq!(
        out.upgrades(),
        [json!({"event": "upgrade", "transport": "websocket"})],
        "upgrade over wss: {out}"
    );

    let out = run(&[
        "--json",
        "--ca-file",
        &ca_path,
        "--transports",
        "websocket",
        "--send",
        "secure ws",
        "--count",
        "1",
        &wss,
    ]);
    out.assert_session("websocket", &[text("secure ws")], "client disconnect");
}

#[test]
fn tls_insecure_accepts_an_unknown_certificate() {
    let ca = TestCa::new("an unknown CA");
    let Some(peer) = start_or_skip(
        PeerKind::Rust,
        PeerOptions {
            tls: Some(ca.localhost_identity()),
            ..PeerOptions::default()
        },
    ) else {
        return;
    };
    for transports in ["polling,websocket", "websocket"] {
        let out = run(&[
            "--json",
            "--insecure",
            "--transports",
            transports,
            "--send",
            "whatever",
            "--count",
            "1",
            &peer.url(),
        ])
        .context(transports);
        let first = if transports == "websocket" {
            "websocket"
        } else {
            "polling"
        };
        out.assert_session(first, &[text("whatever")], "client disconnect");
    }
}

#[test]
fn tls_without_ca_or_insecure_exits_1() {
    let ca = TestCa::new("an unknown CA");
    let Some(peer) = start_or_skip(
        PeerKind::Rust,
        PeerOptions {
            tls: Some(ca.localhost_identity()),
            ..PeerOptions::default()
        },
    ) else {
        return;
    };
    for transports in ["polling,websocket", "websocket"] {
        let out = run(&["--json", "--transports", transports, &peer.url()]).context(transports);
        assert_cannot_connect(&out);
        assert!(
            out.stderr.to_ascii_lowercase().contains("certificate"),
            "the error does not mention the certificate: {out}"
        );
    }
    // The wrong CA does not help either.
    let other = TestCa::new("another CA");
    let other_file = TempFile::new("cli-other-ca", other.pem().as_bytes());
    let out = run(&[
        "--json",
        "--ca-file",
        other_file.path().to_str().unwrap(),
        &peer.url(),
    ])
    .context("trusting another CA");
    assert_cannot_connect(&out);
    assert!(peer.requests().is_empty(), "{:?}", peer.requests());
}

#[test]
fn tls_unusable_ca_file_exits_2() {
    let server = Untouched::new();
    let url = server.url().replacen("http://", "https://", 1);
    let missing = missing_file();
    let garbage = TempFile::new("cli-garbage", b"\x00\x01 not a certificate \xff");
    for (what, path) in [
        ("missing --ca-file", missing.to_str().unwrap()),
        ("garbage --ca-file", garbage.path().to_str().unwrap()),
    ] {
        let out = run(&["--json", "--ca-file", path, &url]);
        assert_eq!(out.code(), Some(2), "{what}: {out}");
        assert!(out.stderr.contains("TLS"), "{what}: {out}");
        server.assert_untouched(what);
    }
}
