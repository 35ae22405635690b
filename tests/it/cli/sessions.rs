//! Sessions that run to their end (exit status 0), for each API: the JSON and human
//! output, the transports, and how each option reaches the server. How sessions end is in
//! [`super::endings`].

use std::time::{Duration, Instant};

use serde_json::json;

use super::api::each_api;
use super::endings::PEER_CLOSE_DEADLINE;
use super::harness::{binary, run, text, websocket_requests};
use crate::support::peers::{all_peers, any_of, enabled, Peer, PeerEvent, PeerKind, PeerOptions};

/// The skip reason of the cases written for the Rust and node peers only.
pub const RUST_AND_NODE: &str = "the peers this case is written for";

#[test]
fn json_send_text_and_binary_then_count_closes() {
    let kinds = all_peers();
    each_api(|api| {
        for &kind in &kinds {
            let peer = Peer::start(kind, PeerOptions::default());
            let url = peer.url();
            let out = run(
                api,
                &[
                    "--json",
                    "--send",
                    "hello",
                    "--send-binary",
                    "01ff1e",
                    "--count",
                    "2",
                    &url,
                ],
            )
            .context(format!("{kind} peer"));
            out.assert_session(
                "polling",
                &[text("hello"), binary("01ff1e")],
                "client disconnect",
            );
            let sid = out.sid();
            assert!(
                peer.wait_for(PEER_CLOSE_DEADLINE, |e| {
                    matches!(e, PeerEvent::Connect { sid: s, transport } if *s == sid && transport == "polling")
                })
                .is_some(),
                "the peer never saw session {sid}: {:?}\n{out}",
                peer.events()
            );
            assert!(
                peer.wait_for(PEER_CLOSE_DEADLINE, |e| {
                    matches!(e, PeerEvent::Close { sid: s, .. } if *s == sid)
                })
                .is_some(),
                "the peer never saw session {sid} close: {:?}\n{out}",
                peer.events()
            );
        }
    });
}

#[test]
fn send_and_send_binary_keep_command_line_order() {
    let kinds = all_peers();
    each_api(|api| {
        for &kind in &kinds {
            let peer = Peer::start(kind, PeerOptions::default());
            let url = peer.url();
            let out = run(
                api,
                &[
                    "--send-binary",
                    "00",
                    "--json",
                    "--send",
                    "first text",
                    "--send-binary",
                    "0a0b0c",
                    "--send",
                    "second text",
                    "--send",
                    "third text",
                    "--send-binary",
                    "FF",
                    "--count",
                    "6",
                    &url,
                ],
            )
            .context(format!("{kind} peer"));
            out.assert_session(
                "polling",
                &[
                    binary("00"),
                    text("first text"),
                    binary("0a0b0c"),
                    text("second text"),
                    text("third text"),
                    binary("ff"),
                ],
                "client disconnect",
            );
        }
    });
}

#[test]
fn human_output_without_json() {
    let Some(kinds) = any_of(&[PeerKind::Rust], "the peer this case is written for") else {
        return;
    };
    each_api(|api| {
        for &kind in &kinds {
            let peer = Peer::start(kind, PeerOptions::default());
            let out = run(
                api,
                &[
                    "--send",
                    "hello",
                    "--send-binary",
                    "beef",
                    "--count",
                    "2",
                    &peer.url(),
                ],
            )
            .context(format!("{kind} peer"));
            out.assert_code(0);
            let stdout = out.stdout.join("\n");
            assert!(
                out.stdout[0].starts_with("connected: sid ")
                    && out.stdout[0].ends_with(" over polling"),
                "{out}"
            );
            assert!(out.stdout.iter().any(|l| l == "< hello"), "{out}");
            assert!(out.stdout.iter().any(|l| l == "< binary beef"), "{out}");
            assert_eq!(
                out.stdout.last().map(String::as_str),
                Some("disconnected: client disconnect"),
                "{out}"
            );
            assert!(!stdout.contains("{\"event\""), "{out}");
        }
    });
}

#[test]
fn websocket_only_connects_over_websocket() {
    let kinds: Vec<PeerKind> = [PeerKind::Rust, PeerKind::Node, PeerKind::Python]
        .into_iter()
        .filter(|k| enabled(*k))
        .collect();
    each_api(|api| {
        for &kind in &kinds {
            let peer = Peer::start(kind, PeerOptions::default());
            let out = run(
                api,
                &[
                    "--json",
                    "--transports",
                    "websocket",
                    "--send",
                    "over ws",
                    "--send-binary",
                    "0001",
                    "--count",
                    "2",
                    &peer.url(),
                ],
            )
            .context(format!("{kind} peer"));
            out.assert_session(
                "websocket",
                &[text("over ws"), binary("0001")],
                "client disconnect",
            );
            assert!(out.upgrades().is_empty(), "{out}");
            // The peer's log is read from its output, and may lag the client's exit.
            let logged = Instant::now();
            while peer.requests().is_empty() && logged.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let requests = peer.requests();
            assert!(
                !requests.is_empty() && requests.iter().all(|r| r.is_websocket()),
                "not only websocket requests: {requests:?}\n{out}"
            );
        }
    });
}

/// With the default transports and time to spare the session upgrades (the control for the
/// test below).
#[test]
fn default_transports_upgrade_given_time() {
    let Some(kinds) = any_of(&[PeerKind::Rust, PeerKind::Node], RUST_AND_NODE) else {
        return;
    };
    each_api(|api| {
        for &kind in &kinds {
            let peer = Peer::start(kind, PeerOptions::default());
            let out = run(
                api,
                &["--json", "--send", "x", "--timeout", "2", &peer.url()],
            )
            .context(format!("{kind} peer"));
            out.assert_session("polling", &[text("x")], "client disconnect");
            assert_eq!(
                out.upgrades(),
                [json!({"event": "upgrade", "transport": "websocket"})],
                "{out}"
            );
            assert!(!websocket_requests(&peer).is_empty(), "{out}");
        }
    });
}

#[test]
fn polling_only_or_no_upgrade_never_upgrades() {
    let Some(kinds) = any_of(&[PeerKind::Rust, PeerKind::Node], RUST_AND_NODE) else {
        return;
    };
    each_api(|api| {
        for option in [&["--transports", "polling"][..], &["--no-upgrade"][..]] {
            for &kind in &kinds {
                let peer = Peer::start(kind, PeerOptions::default());
                let url = peer.url();
                let mut args = vec!["--json", "--send", "x", "--timeout", "2"];
                args.extend_from_slice(option);
                args.push(&url);
                let out = run(api, &args).context(format!("{kind} peer, {option:?}"));
                out.assert_session("polling", &[text("x")], "client disconnect");
                assert!(out.upgrades().is_empty(), "{out}");
                assert!(
                    websocket_requests(&peer).is_empty(),
                    "websocket requests {:?}\n{out}",
                    websocket_requests(&peer)
                );
            }
        }
    });
}

#[test]
fn headers_query_and_path_reach_the_server() {
    let kinds = all_peers();
    each_api(|api| {
        for &kind in &kinds {
            let peer = Peer::start(
                kind,
                PeerOptions {
                    path: "/custom/".into(),
                    ..PeerOptions::default()
                },
            );
            let out = run(
                api,
                &[
                    "--json",
                    "-H",
                    "X-Token: abc",
                    "--header",
                    "X-Other:two words",
                    "-q",
                    "room=r1",
                    "--query",
                    "lang=en",
                    "--path",
                    "/custom/",
                    "--send",
                    "hi",
                    "--count",
                    "1",
                    &peer.url(),
                ],
            )
            .context(format!("{kind} peer"));
            out.assert_session("polling", &[text("hi")], "client disconnect");
            let l = api.label(format_args!("{kind} peer"));
            let requests = peer.requests();
            assert!(!requests.is_empty(), "no request logged\n{out}");
            for request in &requests {
                assert!(
                    request.url.starts_with("/custom/?") || request.url.starts_with("/custom?"),
                    "{l}: request outside /custom/: {request:?}"
                );
                assert_eq!(request.header("x-token"), Some("abc"), "{l}: {request:?}");
                assert_eq!(
                    request.header("x-other"),
                    Some("two words"),
                    "{l}: {request:?}"
                );
                assert_eq!(
                    request.query("room").as_deref(),
                    Some("r1"),
                    "{l}: {request:?}"
                );
                assert_eq!(
                    request.query("lang").as_deref(),
                    Some("en"),
                    "{l}: {request:?}"
                );
                assert_eq!(
                    request.query("EIO").as_deref(),
                    Some("4"),
                    "{l}: {request:?}"
                );
            }
        }
    });
}

/// `--eio 3` speaks v3 through each API: the node peer with `allowEIO3` echoes a text and
/// a binary message over a v3 session, every request having asked for `EIO=3`.
#[test]
fn eio_3_speaks_protocol_v3() {
    if any_of(&[PeerKind::Node], "allowEIO3: the v3 server").is_none() {
        return;
    }
    each_api(|api| {
        let opts = PeerOptions {
            allow_eio3: true,
            ..PeerOptions::default()
        };
        let peer = Peer::start(PeerKind::Node, opts);
        let url = peer.url();
        let args = [
            "--json",
            "--eio",
            "3",
            "--send",
            "hello",
            "--send-binary",
            "01ff1e",
            "--count",
            "2",
            &url,
        ];
        let out = run(api, &args).context("node peer (v3)");
        out.assert_session(
            "polling",
            &[text("hello"), binary("01ff1e")],
            "client disconnect",
        );
        let requests = peer.requests();
        assert!(!requests.is_empty(), "no request reached the peer\n{out}");
        for request in &requests {
            assert!(
                request.url.contains("EIO=3"),
                "a request without EIO=3: {}\n{out}",
                request.url
            );
        }
    });
}
