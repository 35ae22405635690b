//! Session options that shape every request: user headers and query parameters, the
//! engine.io path, the `t` cache-buster, cookies (sticky sessions, PROTOCOL.md section 9)
//! and a user-built `awc::Client`, checked in the request logs of the three real peers
//! (node `engine.io`, `python-engineio`, `engineioxide`) and of scripted servers.

mod support;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_engineio::{Close, Session, SessionBuilder, TransportKind};

use support::client::{wait_until, Mode, ALL_MODES, DEADLINE};
use support::echo::{open_packet_with, session_requests, sleep, start_peers, texts, Client};
use support::scripted::{Reply, Scripted, ScriptedRequest};
use support::{Peer, PeerKind, PeerOptions, PeerRequest, ALL_PEERS};

/// Runs a session in `mode` that exercises every kind of request the mode makes: the
/// handshake, messages sent at once (POSTed during the probe in upgrade mode), echoes
/// (polls), a heartbeat or two when the peer pings every second, and the upgrade.
async fn exercise(label: &str, mode: Mode, builder: SessionBuilder) -> Client {
    let client = Client::connect(label, builder).await;
    let early = texts("early-", 5);
    client.send_all(&early).await;
    let got = client.wait_messages(early.len(), DEADLINE).await;
    support::echo::assert_texts(label, &got, &early);
    if mode == Mode::Upgrade {
        client.upgraded().await;
    }
    client.echo_all(&texts("late-", 5)).await;
    client
}

/// The requests `client`'s session made at `peer`: those logged from `first` on that carry
/// its sid or no sid (the handshake; one session at a time is opened per peer, while the
/// previous one may still be finishing).
fn requests_since(peer: &Peer, first: usize, client: &Client) -> Vec<PeerRequest> {
    peer.requests()[first..]
        .iter()
        .filter(|r| r.query("sid").is_none_or(|sid| sid == client.sid))
        .cloned()
        .collect()
}

/// Short names of requests, for failure messages.
fn describe(requests: &[PeerRequest]) -> String {
    requests
        .iter()
        .map(|r| {
            let kind = if r.is_websocket() { "WS" } else { &r.method };
            format!("{kind} {}", r.url)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What is missing from `requests` among the kinds a session in `mode` makes: a
/// handshake, and POSTs and polls, or the websocket upgrade request.
fn missing_kinds(mode: Mode, requests: &[PeerRequest]) -> Vec<&'static str> {
    let has = |pred: &dyn Fn(&PeerRequest) -> bool| requests.iter().any(pred);
    let with_sid = |r: &PeerRequest| r.query("sid").is_some();
    let mut missing = Vec::new();
    let mut want = |what: &'static str, present: bool| {
        if !present {
            missing.push(what);
        }
    };
    match mode {
        Mode::WebSocket => want(
            "websocket handshake",
            has(&|r| r.is_websocket() && !with_sid(r)),
        ),
        Mode::Polling | Mode::Upgrade => {
            want("handshake GET", has(&|r| r.method == "GET" && !with_sid(r)));
            want("POST", has(&|r| r.method == "POST" && with_sid(r)));
        }
    }
    match mode {
        Mode::Polling => want(
            "poll",
            has(&|r| r.method == "GET" && with_sid(r) && !r.is_websocket()),
        ),
        Mode::Upgrade => want(
            "websocket upgrade request",
            has(&|r| r.is_websocket() && with_sid(r)),
        ),
        Mode::WebSocket => {}
    }
    missing
}

/// The requests of `client`'s session once the peer's log shows every kind the session
/// in `mode` makes (the log may lag behind); panics when a kind never shows.
async fn settled_requests(
    label: &str,
    mode: Mode,
    peer: &Peer,
    first: usize,
    client: &Client,
) -> Vec<PeerRequest> {
    wait_until(DEADLINE, || {
        missing_kinds(mode, &requests_since(peer, first, client)).is_empty()
    })
    .await;
    let requests = requests_since(peer, first, client);
    let missing = missing_kinds(mode, &requests);
    assert!(
        missing.is_empty(),
        "{label}: no {missing:?} among the requests:\n{}",
        describe(&requests)
    );
    requests
}

// ---------------------------------------------------------------------------------------
// headers and query

/// `.header("X-Token", "abc").query("room", "r1")` reach the server on every request of
/// the session (handshake, polls, POSTs, websocket upgrade or websocket handshake), with
/// every peer, in every mode.
#[actix_rt::test]
async fn headers_and_query_on_every_request() {
    let peers = start_peers(
        &ALL_PEERS,
        PeerOptions {
            ping_interval: Duration::from_secs(1),
            ..PeerOptions::default()
        },
    );
    for peer in &peers {
        for mode in ALL_MODES {
            let label = format!("[{} peer, {}]", peer.kind(), mode);
            let first = peer.requests().len();
            let builder = mode
                .builder(&peer.url())
                .header("X-Token", "abc")
                .query("room", "r1");
            let client = exercise(&label, mode, builder).await;
            // A ping answered over the session's transport.
            sleep(Duration::from_millis(1500)).await;
            client.assert_alive();
            client.session.do_send(Close);
            sleep(Duration::from_millis(300)).await;

            let requests = settled_requests(&label, mode, peer, first, &client).await;
            for request in &requests {
                assert_eq!(
                    request.header("x-token"),
                    Some("abc"),
                    "{label}: header missing on {request:#?}"
                );
                assert_eq!(
                    request.query("room").as_deref(),
                    Some("r1"),
                    "{label}: query missing on {request:#?}"
                );
                assert_eq!(request.query("EIO").as_deref(), Some("4"), "{label}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// path

/// A peer serving `/custom/` is reached with `.path("/custom/")` and with the path in the
/// URL, in every mode; every request goes to that path.
#[actix_rt::test]
async fn custom_path() {
    let peers = start_peers(
        &ALL_PEERS,
        PeerOptions {
            path: "/custom/".into(),
            ..PeerOptions::default()
        },
    );
    for peer in &peers {
        for mode in ALL_MODES {
            for how in ["path(\"/custom/\")", "URL http://127.0.0.1:PORT/custom/"] {
                let label = format!("[{} peer, {}, {how}]", peer.kind(), mode);
                let first = peer.requests().len();
                let builder = if how.starts_with("path") {
                    mode.builder(&peer.url()).path("/custom/")
                } else {
                    mode.builder(&format!("{}/custom/", peer.url()))
                };
                let client = exercise(&label, mode, builder).await;
                client.session.do_send(Close);
                let requests = settled_requests(&label, mode, peer, first, &client).await;
                for request in &requests {
                    assert!(
                        request.url.starts_with("/custom/?"),
                        "{label}: request to {}",
                        request.url
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// timestamps

/// Polling GETs carry a `t` parameter by default, a different one on each request;
/// `.timestamp_requests(false)` sends none.
#[actix_rt::test]
async fn timestamp_requests() {
    let peers = start_peers(&ALL_PEERS, PeerOptions::default());
    for peer in &peers {
        for on in [true, false] {
            let label = format!(
                "[{} peer, polling only, timestamp_requests({on})]",
                peer.kind()
            );
            let builder = Session::builder(peer.url())
                .transports(["polling"])
                .timestamp_requests(on);
            let first = peer.requests().len();
            let client = Client::connect(label.clone(), builder).await;
            // One round trip at a time: each echo comes back on a poll of its own.
            for i in 0..5 {
                client.echo_all(&[format!("tick-{i}")]).await;
            }
            client.session.do_send(Close);
            let gets = || -> Vec<PeerRequest> {
                requests_since(peer, first, &client)
                    .into_iter()
                    .filter(|r| r.method == "GET" && !r.is_websocket())
                    .collect()
            };
            // The peer's log may lag behind.
            wait_until(DEADLINE, || gets().len() >= 6).await;
            let gets = gets();
            assert!(
                gets.len() >= 6,
                "{label}: expected the handshake and 5+ polls:\n{}",
                describe(&gets)
            );
            let stamps: Vec<Option<String>> = gets.iter().map(|r| r.query("t")).collect();
            if on {
                let distinct: HashSet<&String> = stamps.iter().flatten().collect();
                assert!(
                    stamps.iter().all(Option::is_some),
                    "{label}: a GET without t:\n{}",
                    describe(&gets)
                );
                assert_eq!(
                    distinct.len(),
                    gets.len(),
                    "{label}: t values repeat:\n{}",
                    describe(&gets)
                );
            } else {
                assert!(
                    stamps.iter().all(Option::is_none),
                    "{label}: a GET with t:\n{}",
                    describe(&gets)
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// cookies

/// The `name=value` pairs of a `Cookie` header.
fn cookie_pairs(header: Option<&str>) -> BTreeMap<String, String> {
    header
        .unwrap_or_default()
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// A sticky cookie set on the handshake (node and python: `io=<sid>`; rust: the harness
/// sets `io=<unique value>` on the handshake response, like a load balancer) comes back
/// on every later GET, POST and websocket upgrade request of the session.
#[actix_rt::test]
async fn handshake_cookie_comes_back_on_every_request() {
    let peers = start_peers(
        &ALL_PEERS,
        PeerOptions {
            cookie: Some("io".into()),
            ..PeerOptions::default()
        },
    );
    for peer in &peers {
        for mode in [Mode::Polling, Mode::Upgrade] {
            let label = format!("[{} peer, {}]", peer.kind(), mode);
            let client = exercise(&label, mode, mode.builder(&peer.url())).await;
            sleep(Duration::from_millis(300)).await;
            let requests = session_requests(peer, &client.sid);
            let kinds =
                |pred: &dyn Fn(&PeerRequest) -> bool| requests.iter().filter(|r| pred(r)).count();
            assert!(kinds(&|r| r.method == "POST") > 0, "{label}: no POST");
            match mode {
                Mode::Polling => assert!(
                    kinds(&|r| r.method == "GET" && !r.is_websocket()) > 0,
                    "{label}: no poll"
                ),
                _ => assert_eq!(kinds(&|r| r.is_websocket()), 1, "{label}: no upgrade"),
            }
            let mut values = HashSet::new();
            for request in &requests {
                let cookies = cookie_pairs(request.header("cookie"));
                let value = cookies
                    .get("io")
                    .unwrap_or_else(|| panic!("{label}: no io cookie on {request:#?}"));
                if peer.kind() != PeerKind::Rust {
                    assert_eq!(value, &client.sid, "{label}: the cookie is the sid");
                }
                values.insert(value.clone());
            }
            assert_eq!(values.len(), 1, "{label}: the cookie changed: {values:?}");
            client.session.do_send(Close);
        }
    }
}

/// The jar follows the server: cookies set on later responses are added (two at once on
/// the handshake, another on the first poll) and `Max-Age=0` removes one; each request
/// carries exactly the cookies set by the responses before it.
#[actix_rt::test]
async fn cookie_jar_follows_set_cookie_and_max_age_0() {
    let label = "[scripted, cookies]";
    let polls = Arc::new(AtomicUsize::new(0));
    let counter = polls.clone();
    let server = Scripted::start(move |req: ScriptedRequest| {
        let polls = counter.clone();
        async move {
            let cookie = |value: &str| ("set-cookie".to_owned(), value.to_owned());
            let text = (
                "content-type".to_owned(),
                "text/plain; charset=UTF-8".to_owned(),
            );
            match (req.method.as_str(), req.query("sid")) {
                ("GET", None) => Reply::Http {
                    status: 200,
                    headers: vec![text, cookie("a=1; Path=/; HttpOnly"), cookie("c=3; Path=/")],
                    body: open_packet_with("jar", &[], 25_000, 20_000, 1_000_000).into_bytes(),
                },
                ("GET", Some(_)) => {
                    let n = polls.fetch_add(1, Ordering::SeqCst);
                    let headers = match n {
                        0 => vec![text, cookie("b=2; Path=/; SameSite=Lax")],
                        1 => vec![text, cookie("a=; Path=/; Max-Age=0")],
                        _ => {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            vec![text]
                        }
                    };
                    Reply::Http {
                        status: 200,
                        headers,
                        body: b"6".to_vec(),
                    }
                }
                ("POST", Some(_)) => Reply::text(200, "ok"),
                _ => Reply::text(400, ""),
            }
        }
    });
    let client = Client::connect(
        label,
        Session::builder(server.url()).transports(["polling"]),
    )
    .await;
    let polls_logged = || {
        server
            .requests()
            .into_iter()
            .filter(|r| r.method == "GET" && r.query("sid").is_some())
            .count()
    };
    assert!(
        wait_until(DEADLINE, || polls_logged() >= 4).await,
        "{label}: fewer than 4 polls"
    );
    // A POST after the removal was seen.
    client.send("after").await;
    assert!(
        wait_until(DEADLINE, || server
            .requests()
            .iter()
            .any(|r| r.method == "POST"))
        .await,
        "{label}: no POST"
    );
    client.assert_alive();
    client.session.do_send(Close);

    let pairs = |list: &[(&str, &str)]| -> BTreeMap<String, String> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    };
    let requests = server.requests();
    let gets: Vec<&ScriptedRequest> = requests.iter().filter(|r| r.method == "GET").collect();
    assert_eq!(
        cookie_pairs(gets[0].header("cookie")),
        pairs(&[]),
        "{label}: the handshake"
    );
    assert_eq!(
        cookie_pairs(gets[1].header("cookie")),
        pairs(&[("a", "1"), ("c", "3")]),
        "{label}: poll 1 (after the handshake's two cookies)"
    );
    assert_eq!(
        cookie_pairs(gets[2].header("cookie")),
        pairs(&[("a", "1"), ("b", "2"), ("c", "3")]),
        "{label}: poll 2 (after b=2)"
    );
    for (i, get) in gets.iter().enumerate().skip(3) {
        assert_eq!(
            cookie_pairs(get.header("cookie")),
            pairs(&[("b", "2"), ("c", "3")]),
            "{label}: poll {i} (after a was removed)"
        );
    }
    let post = requests.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(
        cookie_pairs(post.header("cookie")),
        pairs(&[("b", "2"), ("c", "3")]),
        "{label}: the POST"
    );
    // One Cookie header, not one per cookie.
    for request in &requests[1..] {
        let count = request
            .headers
            .iter()
            .filter(|(n, _)| n == "cookie")
            .count();
        assert_eq!(count, 1, "{label}: {count} cookie headers on {request:?}");
    }
}

// ---------------------------------------------------------------------------------------
// a user-built client

/// An `awc::Client` given with `.http_client(..)` makes every request: its default header
/// shows on every request of the session, with every peer, in every mode.
#[actix_rt::test]
async fn user_http_client_is_used() {
    let peers = start_peers(&ALL_PEERS, PeerOptions::default());
    for peer in &peers {
        for mode in ALL_MODES {
            let label = format!("[{} peer, {}]", peer.kind(), mode);
            let first = peer.requests().len();
            let http = awc::Client::builder()
                .add_default_header(("x-from-client", "1"))
                .finish();
            let client = exercise(&label, mode, mode.builder(&peer.url()).http_client(http)).await;
            assert_eq!(
                client.transport,
                match mode {
                    Mode::WebSocket => TransportKind::WebSocket,
                    _ => TransportKind::Polling,
                },
                "{label}"
            );
            client.session.do_send(Close);
            let requests = settled_requests(&label, mode, peer, first, &client).await;
            for request in &requests {
                assert_eq!(
                    request.header("x-from-client"),
                    Some("1"),
                    "{label}: not made by the given client: {request:#?}"
                );
            }
        }
    }
}

/// A `Cookie` header the user sets goes out beside the server's cookies, in one
/// header, on every polling request and on the websocket upgrade.
#[actix_rt::test]
async fn user_cookie_header_is_kept_beside_the_jar() {
    let server = Scripted::start(|request| async move {
        if request.is_websocket() {
            return Reply::websocket(|mut ws| async move {
                if ws.recv_text().await.as_deref() == Some("2probe") {
                    ws.send_text("3probe").await;
                }
                ws.echo().await;
            });
        }
        match (request.method.as_str(), request.query("sid")) {
            ("GET", None) => Reply::Http {
                status: 200,
                headers: vec![("set-cookie".into(), "srv=1; Path=/".into())],
                body: open_packet_with("ck", &["websocket"], 25_000, 20_000, 1_000_000)
                    .into_bytes(),
            },
            ("GET", Some(_)) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Reply::text(200, "6")
            }
            _ => Reply::text(200, "ok"),
        }
    });
    for transports in [vec!["polling"], vec!["polling", "websocket"]] {
        let client = Client::connect(
            format!("[{transports:?}]"),
            Session::builder(server.url())
                .transports(transports.clone())
                .header("Cookie", "auth=xyz"),
        )
        .await;
        if transports.len() == 2 {
            client.upgraded().await;
        } else {
            client.send("hello").await;
            sleep(Duration::from_millis(300)).await;
        }
        client.session.send(Close).await.unwrap();
        let later: Vec<ScriptedRequest> = server
            .requests()
            .into_iter()
            .filter(|r| r.query("sid").as_deref() == Some("ck"))
            .collect();
        assert!(
            !later.is_empty(),
            "{transports:?}: no request after the handshake"
        );
        for request in later {
            let cookies: Vec<&str> = request
                .headers
                .iter()
                .filter(|(name, _)| name == "cookie")
                .map(|(_, value)| value.as_str())
                .collect();
            assert_eq!(
                cookies,
                ["auth=xyz; srv=1"],
                "{transports:?}: {} {}",
                request.method,
                request.url
            );
        }
    }
}
