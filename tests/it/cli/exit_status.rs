//! Exit status 1 (cannot connect: refused port, an HTTP error from a scripted or a real
//! server) and 2 (bad arguments, with nothing sent to the server), for each API.
//!
//! Bad arguments are checked for each API only where the API could make a difference:
//! the command line (`--api` included) is parsed before any API runs, so what the parser
//! refuses is checked once, as given; what an API's builder or `connect` refuses (headers,
//! transports, the URL) is checked for each.

use super::api::{each_api, Api};
use super::harness::{assert_cannot_connect, run, run_raw, Finished};
use crate::support::net::{refused_url, Untouched};
use crate::support::peers::{any_of, Peer, PeerKind, PeerOptions};
use crate::support::scripted::{Reply, Scripted};

#[test]
fn refused_port_exits_1() {
    each_api(|api| {
        let url = refused_url();
        for transports in ["polling,websocket", "websocket"] {
            let out = run(api, &["--json", "--transports", transports, &url]).context(transports);
            assert_cannot_connect(&out);
            assert!(out.stderr.contains("cannot connect"), "{out}");
        }
    });
}

#[test]
fn scripted_400_exits_1_with_status_and_body() {
    each_api(|api| {
        let server = Scripted::start(|_| async {
            Reply::Http {
                status: 400,
                headers: vec![("content-type".into(), "application/json".into())],
                body: br#"{"code":3,"message":"Bad request"}"#.to_vec(),
            }
        });
        let out = run(api, &["--json", &server.url()]).context("scripted 400");
        assert_cannot_connect(&out);
        assert!(out.stderr.contains("400"), "{out}");
        assert!(out.stderr.contains("Bad request"), "{out}");
        assert!(
            !server.requests().is_empty(),
            "no request reached the server\n{out}"
        );
    });
}

#[test]
fn real_400_exits_1() {
    // node refuses a polling handshake when only websocket is allowed: 400 Transport unknown.
    let Some(kinds) = any_of(&[PeerKind::Node], "the peer this case is written for") else {
        return;
    };
    each_api(|api| {
        for &kind in &kinds {
            let peer = Peer::start(
                kind,
                PeerOptions {
                    transports: vec!["websocket"],
                    ..PeerOptions::default()
                },
            );
            let out = run(api, &["--json", "--transports", "polling", &peer.url()])
                .context(format!("{kind} peer allowing websocket only"));
            assert_cannot_connect(&out);
            assert!(out.stderr.contains("400"), "{out}");
            assert!(out.stderr.contains("Transport unknown"), "{out}");
        }
    });
}

// ---------------------------------------------------------------------------------------
// exit status 2: bad arguments

/// Exit 2, an error on stderr, no connect line, and no connection to `server`.
fn assert_bad_arguments(what: &str, out: &Finished, server: &Untouched) {
    assert_eq!(out.code(), Some(2), "{what}: {out}");
    assert!(
        !out.stderr.trim().is_empty(),
        "{what}: no error on stderr: {out}"
    );
    assert!(
        !out.stdout.iter().any(|l| l.contains("\"connect\"")),
        "{what}: {out}"
    );
    server.assert_untouched(&format!("{what}: {out}"));
}

/// What the command-line parser refuses, before any API runs: once, as given.
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
        ("--count not a number", vec!["--count", "many", &url]),
        ("--timeout not a number", vec!["--timeout", "soon", &url]),
        ("--timeout NaN", vec!["--timeout", "NaN", &url]),
        ("two URLs", vec![&url, &url]),
        ("--api unknown", vec!["--api", "nope", &url]),
        ("--api without a value", vec![&url, "--api"]),
        ("--api in capitals", vec!["--api", "ASYNC", &url]),
        (
            "--api repeated",
            vec!["--api", "async", "--api", "blocking", &url],
        ),
    ];
    for (what, args) in cases {
        let mut full = vec!["--json"];
        full.extend(args);
        let out = run_raw(&full);
        assert_bad_arguments(what, &out, &server);
    }
}

/// `--api nope` is refused with the values it takes, whatever else the command line says.
#[test]
fn unknown_api_exits_2_naming_the_apis() {
    let server = Untouched::new();
    let url = server.url();
    for args in [
        vec!["--api", "nope", &url],
        vec![
            "--json", "--send", "x", "--count", "1", &url, "--api", "nope",
        ],
    ] {
        let out = run_raw(&args);
        assert_bad_arguments("--api nope", &out, &server);
        assert!(out.stderr.contains("nope"), "{out}");
        for api in [Api::Actor, Api::Async, Api::Blocking] {
            assert!(
                out.stderr.contains(api.name()),
                "the error does not list {api}: {out}"
            );
        }
    }
}

/// What the builder or `connect` of each API refuses: for each API.
#[test]
fn bad_settings_exit_2() {
    each_api(|api| {
        let server = Untouched::new();
        let url = server.url();
        let cases: Vec<(&str, Vec<&str>)> = vec![
            (
                "--transports unknown",
                vec!["--transports", "carrier-pigeon", &url],
            ),
            (
                "--transports repeated",
                vec!["--transports", "polling,polling", &url],
            ),
            ("header without a colon", vec!["-H", "X-Token abc", &url]),
            ("URL that does not parse", vec!["http://[::1"]),
            ("URL of another scheme", vec!["ftp://127.0.0.1:21/"]),
        ];
        for (what, args) in cases {
            let mut full = vec!["--json"];
            full.extend(args);
            let out = run(api, &full).context(what);
            assert_bad_arguments(what, &out, &server);
        }
    });
}
