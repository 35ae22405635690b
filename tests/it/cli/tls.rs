//! TLS from the command line: `--ca-file` trusts a CA (over https and wss), `--insecure`
//! accepts any certificate, neither refuses an unknown one (exit 1), an unusable CA file is
//! a bad argument (exit 2). Every case runs for each API, each with a peer of its own: the
//! in-process Rust peer, since what is tested here is the command line's TLS options (the
//! TLS of every peer, node and python too, is tested in `tests/it/tls/`).

use serde_json::json;

use super::api::each_api;
use super::harness::{assert_cannot_connect, binary, opened_on, run, text};
use crate::support::net::Untouched;
use crate::support::peers::{any_of, Peer, PeerKind, PeerOptions};

/// The peer the command line's TLS cases run against: the Rust peer.
fn tls_peers() -> Option<Vec<PeerKind>> {
    any_of(
        &[PeerKind::Rust],
        "the command line's TLS cases run against it",
    )
}
use crate::support::pki::{missing_file, TempFile, TestCa};

#[test]
fn tls_with_ca_file() {
    let Some(kinds) = tls_peers() else {
        return;
    };
    let ca = TestCa::new("actix-engineio cli test CA");
    let ca_file = TempFile::new("cli-ca", ca.pem().as_bytes());
    let ca_path = ca_file
        .path()
        .to_str()
        .expect("utf-8 temp path")
        .to_string();
    each_api(|api| {
        for &kind in &kinds {
            let peer = Peer::start(
                kind,
                PeerOptions {
                    tls: Some(ca.localhost_identity()),
                    ..PeerOptions::default()
                },
            );
            let https = peer.url();
            assert!(
                https.starts_with("https://"),
                "{}: {https}",
                api.label(format_args!("{kind} peer"))
            );
            let wss = https.replacen("https://", "wss://", 1);

            let out = run(
                api,
                &[
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
                ],
            )
            .context(format!("{kind} peer, https"));
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

            let out = run(
                api,
                &[
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
                ],
            )
            .context(format!("{kind} peer, wss"));
            out.assert_session("websocket", &[text("secure ws")], "client disconnect");
        }
    });
}

#[test]
fn tls_insecure_accepts_an_unknown_certificate() {
    let Some(kinds) = tls_peers() else {
        return;
    };
    let ca = TestCa::new("an unknown CA");
    each_api(|api| {
        for &kind in &kinds {
            let peer = Peer::start(
                kind,
                PeerOptions {
                    tls: Some(ca.localhost_identity()),
                    ..PeerOptions::default()
                },
            );
            for transports in ["polling,websocket", "websocket"] {
                let out = run(
                    api,
                    &[
                        "--json",
                        "--insecure",
                        "--transports",
                        transports,
                        "--send",
                        "whatever",
                        "--count",
                        "1",
                        &peer.url(),
                    ],
                )
                .context(format!("{kind} peer, {transports}"));
                out.assert_session(
                    opened_on(transports),
                    &[text("whatever")],
                    "client disconnect",
                );
            }
        }
    });
}

#[test]
fn tls_without_ca_or_insecure_exits_1() {
    let Some(kinds) = tls_peers() else {
        return;
    };
    let ca = TestCa::new("an unknown CA");
    let other = TestCa::new("another CA");
    let other_file = TempFile::new("cli-other-ca", other.pem().as_bytes());
    let other_path = other_file.path().to_str().expect("utf-8 temp path");
    each_api(|api| {
        for &kind in &kinds {
            let peer = Peer::start(
                kind,
                PeerOptions {
                    tls: Some(ca.localhost_identity()),
                    ..PeerOptions::default()
                },
            );
            for transports in ["polling,websocket", "websocket"] {
                let out = run(api, &["--json", "--transports", transports, &peer.url()])
                    .context(format!("{kind} peer, {transports}"));
                assert_cannot_connect(&out);
                assert!(
                    out.stderr.to_ascii_lowercase().contains("certificate"),
                    "the error does not mention the certificate: {out}"
                );
            }
            // The wrong CA does not help either.
            let out = run(api, &["--json", "--ca-file", other_path, &peer.url()])
                .context(format!("{kind} peer, trusting another CA"));
            assert_cannot_connect(&out);
            assert!(
                peer.requests().is_empty(),
                "{}: {:?}",
                api.label(format_args!("{kind} peer")),
                peer.requests()
            );
        }
    });
}

#[test]
fn tls_unusable_ca_file_exits_2() {
    let missing = missing_file();
    let garbage = TempFile::new("cli-garbage", b"\x00\x01 not a certificate \xff");
    each_api(|api| {
        let server = Untouched::new();
        let url = server.https_url();
        for (what, path) in [
            ("missing --ca-file", missing.to_str().unwrap()),
            ("garbage --ca-file", garbage.path().to_str().unwrap()),
        ] {
            let out = run(api, &["--json", "--ca-file", path, &url]).context(what);
            assert_eq!(out.code(), Some(2), "{out}");
            assert!(out.stderr.contains("TLS"), "{out}");
            server.assert_untouched(&format!("{out}"));
        }
    });
}
