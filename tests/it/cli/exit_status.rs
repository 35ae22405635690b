//! Exit status 1 (cannot connect: refused port, an HTTP error from a scripted or a real
//! server) and 2 (bad arguments, with nothing sent to the server).

use super::harness::{assert_cannot_connect, run};
use crate::support::net::{refused_url, Untouched};
use crate::support::peers::{start_or_skip, PeerKind, PeerOptions};
use crate::support::scripted::{Reply, Scripted};

#[test]
fn refused_port_exits_1() {
    let url = refused_url();
    for transports in ["polling,websocket", "websocket"] {
        let out = run(&["--json", "--transports", transports, &url]).context(transports);
        assert_cannot_connect(&out);
        assert!(out.stderr.contains("cannot connect"), "{out}");
    }
}

#[test]
fn scripted_400_exits_1_with_status_and_body() {
    let server = Scripted::start(|_| async {
        Reply::Http {
            status: 400,
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"code":3,"message":"Bad request"}"#.to_vec(),
        }
    });
    let out = run(&["--json", &server.url()]);
    assert_cannot_connect(&out);
    assert!(out.stderr.contains("400"), "{out}");
    assert!(out.stderr.contains("Bad request"), "{out}");
    assert!(!server.requests().is_empty());
}

#[test]
fn real_400_exits_1() {
    // node refuses a polling handshake when only websocket is allowed: 400 Transport unknown.
    let Some(peer) = start_or_skip(
        PeerKind::Node,
        PeerOptions {
            transports: vec!["websocket"],
            ..PeerOptions::default()
        },
    ) else {
        return;
    };
    let out = run(&["--json", "--transports", "polling", &peer.url()]);
    assert_cannot_connect(&out);
    assert!(out.stderr.contains("400"), "{out}");
    assert!(out.stderr.contains("Transport unknown"), "{out}");
}

// ---------------------------------------------------------------------------------------
// exit status 2: bad arguments

#[test]
fn bad_arguments_exit_2() {
    let server = Untouched::new();
    let url = server.url();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("unknown option", vec!["--no-such-option", &url]),
        ("missing URL", vec!["--json"]),
        ("no arguments", vec![]),
        ("--send-binary not hex", vec!["--send-binary", "zz", &url]),
        (
            "--send-binary odd length",
            vec!["--send-binary", "abc", &url],
        ),
        (
            "--transports unknown",
            vec!["--transports", "carrier-pigeon", &url],
        ),
        (
            "--transports repeated",
            vec!["--transports", "polling,polling", &url],
        ),
        ("header without a colon", vec!["-H", "X-Token abc", &url]),
        ("--count not a number", vec!["--count", "many", &url]),
        ("--timeout not a number", vec!["--timeout", "soon", &url]),
        ("--timeout NaN", vec!["--timeout", "NaN", &url]),
        ("two URLs", vec![&url, &url]),
        ("URL that does not parse", vec!["http://[::1"]),
        ("URL of another scheme", vec!["ftp://127.0.0.1:21/"]),
    ];
    for (what, args) in cases {
        let mut full = vec!["--json"];
        full.extend(args);
        let out = run(&full);
        assert_eq!(out.code(), Some(2), "{what}: {out}");
        assert!(
            !out.stderr.trim().is_empty(),
            "{what}: no error on stderr: {out}"
        );
        assert!(
            !out.stdout.iter().any(|l| l.contains("\"connect\"")),
            "{what}: {out}"
        );
        server.assert_untouched(what);
    }
}
