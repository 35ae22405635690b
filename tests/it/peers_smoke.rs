//! Proves each real peer server (node engine.io, python-engineio, engineioxide) starts, answers
//! an Engine.IO v4 handshake with the configured options, echoes over long-polling, closes on
//! `close-me`, logs every request, and is gone after `kill()`; that the process peers' TLS
//! files are removed with them; and that the stock python server is python-engineio with
//! its defaults.
//!
//! Uses a raw HTTP/1.1 client on `std::net::TcpStream`, independent of the crate under test.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::peers::{
    all_peers, any_of, start_or_skip, Peer, PeerEvent, PeerKind, PeerOptions,
};
use crate::support::pki::TestCa;

const TIMEOUT: Duration = Duration::from_secs(10);

struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request on a fresh connection (`Connection: close`); decodes a chunked body.
fn http(port: u16, method: &str, path_and_query: &str, body: &[u8]) -> HttpResponse {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut req = format!(
        "{method} {path_and_query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Accept: */*\r\nX-Smoke: yes\r\n"
    );
    if method == "POST" {
        req.push_str("Content-Type: text/plain;charset=UTF-8\r\n");
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");

    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut rest = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        rest = dechunk(&rest);
    }
    HttpResponse {
        status,
        headers,
        body: rest,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_str = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_str.split(';').next().unwrap().trim(), 16)
            .expect("chunk size");
        data = &data[eol + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// Handshake over polling; returns the response and the parsed open packet.
fn handshake(peer: &Peer, path: &str) -> (HttpResponse, serde_json::Value) {
    let res = http(
        peer.port(),
        "GET",
        &format!("{path}?EIO=4&transport=polling"),
        b"",
    );
    let body = res.text();
    assert_eq!(res.status, 200, "{} handshake: {body}", peer.kind());
    assert!(
        body.starts_with("0{"),
        "{} handshake body: {body}",
        peer.kind()
    );
    assert!(
        body.contains("\"sid\""),
        "{} handshake body: {body}",
        peer.kind()
    );
    let open = body[1..].split('\u{1e}').next().unwrap();
    let json: serde_json::Value = serde_json::from_str(open).expect("open packet JSON");
    (res, json)
}

/// Long-polls until at least one packet other than ping/noop arrives (answering pings).
fn poll_messages(peer: &Peer, path: &str, sid: &str) -> Vec<String> {
    let url = format!("{path}?EIO=4&transport=polling&sid={sid}");
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        let res = http(peer.port(), "GET", &url, b"");
        assert_eq!(res.status, 200, "{} poll: {}", peer.kind(), res.text());
        let mut got = Vec::new();
        for packet in res.text().split('\u{1e}') {
            if let Some(data) = packet.strip_prefix('2') {
                let pong = http(peer.port(), "POST", &url, format!("3{data}").as_bytes());
                assert_eq!(pong.status, 200);
            } else if packet != "6" {
                got.push(packet.to_string());
            }
        }
        if !got.is_empty() {
            return got;
        }
    }
    panic!("{}: no message within {TIMEOUT:?}", peer.kind());
}

#[test]
fn handshake_with_default_options() {
    for kind in all_peers() {
        let peer = Peer::start(kind, PeerOptions::default());
        assert_eq!(peer.kind(), kind);
        assert_eq!(peer.url(), format!("http://127.0.0.1:{}", peer.port()));
        let (_, open) = handshake(&peer, "/engine.io/");
        assert_eq!(open["pingInterval"], 25000, "{kind}: {open}");
        assert_eq!(open["pingTimeout"], 20000, "{kind}: {open}");
        assert_eq!(open["maxPayload"], 1_000_000, "{kind}: {open}");
        let sid = open["sid"].as_str().unwrap().to_string();

        let ev = peer.wait_for(TIMEOUT, |e| e.sid() == Some(sid.as_str()));
        assert_eq!(
            ev,
            Some(PeerEvent::Connect {
                sid: sid.clone(),
                transport: "polling".into()
            }),
            "{kind}"
        );
        let reqs = peer.requests();
        let first = reqs
            .first()
            .unwrap_or_else(|| panic!("{kind}: no request logged"));
        assert_eq!(first.method, "GET");
        assert_eq!(first.url, "/engine.io/?EIO=4&transport=polling", "{kind}");
        assert_eq!(first.query("transport").as_deref(), Some("polling"));
        assert_eq!(first.header("X-Smoke"), Some("yes"), "{kind}: {first:?}");
    }
}

#[test]
fn handshake_with_custom_options() {
    for kind in all_peers() {
        let opts = PeerOptions {
            // whole seconds: python-engineio reports int(seconds) * 1000
            ping_interval: Duration::from_millis(3000),
            ping_timeout: Duration::from_millis(2000),
            max_payload: 50_000,
            path: "/custom/eio/".into(),
            cookie: Some("stick".into()),
            ..PeerOptions::default()
        };
        let peer = Peer::start(kind, opts);
        let (res, open) = handshake(&peer, "/custom/eio/");
        assert_eq!(open["pingInterval"], 3000, "{kind}: {open}");
        assert_eq!(open["pingTimeout"], 2000, "{kind}: {open}");
        assert_eq!(open["maxPayload"], 50_000, "{kind}: {open}");
        let cookie = res.header("set-cookie").unwrap_or_default();
        assert!(
            cookie.starts_with("stick="),
            "{kind}: set-cookie {cookie:?}"
        );

        // the default path is not served
        let other = http(
            peer.port(),
            "GET",
            "/engine.io/?EIO=4&transport=polling",
            b"",
        );
        assert_ne!(other.status, 200, "{kind}: {}", other.text());
    }
}

#[test]
fn websocket_only_refuses_polling_handshake() {
    for kind in all_peers() {
        let opts = PeerOptions {
            transports: vec!["websocket"],
            ..PeerOptions::default()
        };
        let peer = Peer::start(kind, opts);
        let res = http(
            peer.port(),
            "GET",
            "/engine.io/?EIO=4&transport=polling",
            b"",
        );
        assert_eq!(res.status, 400, "{kind}: {}", res.text());
    }
}

#[test]
fn polling_echo_close_and_request_log() {
    for kind in all_peers() {
        let peer = Peer::start(kind, PeerOptions::default());
        let (_, open) = handshake(&peer, "/engine.io/");
        let sid = open["sid"].as_str().unwrap().to_string();
        let url = format!("/engine.io/?EIO=4&transport=polling&sid={sid}");
        let post = |body: &[u8]| {
            let res = http(peer.port(), "POST", &url, body);
            assert_eq!(res.status, 200, "{kind} POST: {}", res.text());
        };

        post(b"4hello");
        assert_eq!(
            poll_messages(&peer, "/engine.io/", &sid),
            ["4hello"],
            "{kind}"
        );
        // text that parses as JSON comes back byte for byte (python quirk worked around)
        post(br#"4{"a": 1}"#);
        assert_eq!(
            poll_messages(&peer, "/engine.io/", &sid),
            [r#"4{"a": 1}"#],
            "{kind}"
        );
        post(b"bAQID");
        assert_eq!(
            poll_messages(&peer, "/engine.io/", &sid),
            ["bAQID"],
            "{kind}"
        );
        // a large body is read whole (python quirk worked around)
        let big = format!("4{}", "x".repeat(900_000));
        post(big.as_bytes());
        let back = poll_messages(&peer, "/engine.io/", &sid);
        assert_eq!(back.len(), 1, "{kind}");
        assert!(
            back[0] == big,
            "{kind}: large message came back as {} bytes",
            back[0].len()
        );

        post(b"4close-me");
        // The server's close reaches a polling client with its next GET: `1` (node waits
        // for that GET to report the close), or a 400 once the session is gone (python).
        let res = http(peer.port(), "GET", &url, b"");
        let body = res.text();
        assert!(
            (res.status == 200 && body.split('\u{1e}').any(|p| p == "1")) || res.status == 400,
            "{kind}: GET after close-me: {} {body}",
            res.status
        );
        let closed = peer.wait_for(
            TIMEOUT,
            |e| matches!(e, PeerEvent::Close { sid: s, .. } if *s == sid),
        );
        assert!(
            closed.is_some(),
            "{kind}: no close event: {:?}",
            peer.events()
        );

        let posts = peer
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .collect::<Vec<_>>();
        assert!(posts.len() >= 5, "{kind}: {posts:?}");
        assert!(posts
            .iter()
            .all(|r| r.query("sid").as_deref() == Some(sid.as_str())));
        assert_eq!(
            posts[0].header("content-type"),
            Some("text/plain;charset=UTF-8"),
            "{kind}"
        );
    }
}

#[test]
fn kill_ends_the_server() {
    for kind in all_peers() {
        let mut peer = Peer::start(kind, PeerOptions::default());
        let port = peer.port();
        handshake(&peer, "/engine.io/");
        if kind == PeerKind::Rust {
            assert!(!peer.pause());
        } else {
            assert!(peer.pause());
            assert!(peer.resume());
            handshake(&peer, "/engine.io/");
        }
        peer.kill();
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "{kind}: port {port} still open after kill()"
        );
        // the log stays readable after kill()
        assert!(!peer.events().is_empty());
    }
}

/// The handshake of every peer, fetched with awc and parsed by the crate's protocol core.
#[actix_rt::test]
async fn handshake_through_awc_parsed_by_the_core() {
    use actix_engineio::protocol::{polling, Endpoint, Packet};

    let opts = PeerOptions {
        ping_interval: Duration::from_millis(3000),
        ping_timeout: Duration::from_millis(2000),
        max_payload: 123_456,
        ..Default::default()
    };
    for kind in all_peers() {
        let peer = Peer::start(kind, opts.clone());
        let url = Endpoint::new(&peer.url(), None, &[])
            .unwrap()
            .polling_url(None, None);
        let mut response = awc::Client::new().get(&url).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{kind}: {}",
            response.status()
        );
        let body = response.body().await.unwrap();
        let packets = polling::decode(body).unwrap();
        let Some(Packet::Open(handshake)) = packets.first() else {
            panic!("{kind}: not an open packet: {packets:?}");
        };
        assert!(!handshake.sid.is_empty(), "{kind}");
        assert!(handshake.allows_websocket_upgrade(), "{kind}");
        assert_eq!(
            handshake.ping_interval,
            Duration::from_millis(3000),
            "{kind}"
        );
        assert_eq!(handshake.max_payload, 123_456, "{kind}");
    }
}

/// The TLS certificate and key of a process peer are files in a directory of their own,
/// readable by the owner only, removed when the peer is killed or dropped.
#[test]
fn tls_files_are_removed_with_the_process_peer() {
    use std::os::unix::fs::PermissionsExt;

    let Some(kinds) = any_of(
        &[PeerKind::Node, PeerKind::Python],
        "the peers that take TLS files",
    ) else {
        return;
    };
    let ca = TestCa::new("smoke CA");
    let identity = ca.localhost_identity();
    let opts = PeerOptions {
        tls: Some(identity.clone()),
        ..PeerOptions::default()
    };
    for kind in kinds {
        for end in ["kill()", "drop"] {
            let mut peer = Peer::start(kind, opts.clone());
            assert!(peer.url().starts_with("https://"), "{kind}: {}", peer.url());
            let dir = peer
                .tls_files()
                .unwrap_or_else(|| panic!("{kind}: no TLS files"))
                .to_path_buf();
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(
                mode & 0o777,
                0o700,
                "{kind}: {} mode {mode:o}",
                dir.display()
            );
            assert_eq!(
                std::fs::read_to_string(dir.join("cert.pem")).unwrap(),
                identity.cert_chain_pem,
                "{kind}"
            );
            assert_eq!(
                std::fs::read_to_string(dir.join("key.pem")).unwrap(),
                identity.key_pem,
                "{kind}"
            );
            if end == "kill()" {
                peer.kill();
                assert_eq!(peer.tls_files(), None, "{kind}");
            } else {
                drop(peer);
            }
            assert!(
                !dir.exists(),
                "{kind}: {} still exists after {end}",
                dir.display()
            );
        }
    }
}

/// The stock python server is python-engineio with its defaults: the handshake announces
/// them, and a text message that parses as JSON is decoded and encoded again (compact),
/// which the usual python peer prevents (`polling_echo_close_and_request_log`).
#[test]
fn stock_python_peer_runs_python_engineio_defaults() {
    let Some(peer) = start_or_skip(PeerKind::Python, PeerOptions::stock_python()) else {
        return;
    };
    assert_eq!(peer.name(), "stock python");
    let (_, open) = handshake(&peer, "/engine.io/");
    assert_eq!(open["pingInterval"], 25000, "{open}");
    assert_eq!(open["pingTimeout"], 20000, "{open}");
    assert_eq!(open["maxPayload"], 1_000_000, "{open}");
    assert_eq!(open["upgrades"], serde_json::json!(["websocket"]), "{open}");
    let sid = open["sid"].as_str().unwrap().to_string();
    let url = format!("/engine.io/?EIO=4&transport=polling&sid={sid}");

    let res = http(peer.port(), "POST", &url, br#"4{"a": 1}"#);
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        poll_messages(&peer, "/engine.io/", &sid),
        [r#"4{"a":1}"#],
        "python-engineio's own JSON handling"
    );
    let res = http(peer.port(), "POST", &url, b"4hello");
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(poll_messages(&peer, "/engine.io/", &sid), ["4hello"]);
    assert!(
        peer.wait_for(TIMEOUT, |e| *e
            == PeerEvent::Connect {
                sid: sid.clone(),
                transport: "polling".into()
            })
        .is_some(),
        "{:?}",
        peer.events()
    );
}

/// The stock server takes python-engineio's defaults, not the harness's engine options:
/// `Peer::start` refuses them before starting anything (whatever `EIO_TEST_PEERS` says).
#[test]
#[should_panic(expected = "the stock python peer runs python-engineio's defaults")]
fn stock_python_peer_refuses_engine_options() {
    Peer::start(
        PeerKind::Python,
        PeerOptions {
            max_payload: 1000,
            ..PeerOptions::stock_python()
        },
    );
}
