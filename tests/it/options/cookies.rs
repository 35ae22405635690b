//! Cookies (sticky sessions, docs/protocol.md section 9): the handshake's cookie comes back
//! on every request, the jar follows `Set-Cookie` and `Max-Age=0`, and a user `Cookie`
//! header is kept beside the jar's cookies (a scripted server's and the real peers').

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_engineio::{Close, Session};

use super::{exercise, settled_requests};
use crate::support::client::{wait_until, Client, Mode, DEADLINE};
use crate::support::peers::{all_peers, start_peers, PeerKind, PeerOptions, PeerRequest};
use crate::support::scripted::{open_packet_with, Reply, Scripted, ScriptedRequest};

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
        &all_peers(),
        PeerOptions {
            cookie: Some("io".into()),
            ..PeerOptions::default()
        },
    );
    for peer in &peers {
        for mode in [Mode::Polling, Mode::Upgrade] {
            let label = format!("[{} peer, {}]", peer.kind(), mode);
            let first = peer.requests().len();
            let client = exercise(&label, mode, mode.builder(&peer.url())).await;
            let requests: Vec<PeerRequest> = settled_requests(&label, mode, peer, first, &client)
                .await
                .into_iter()
                .filter(|r| r.query("sid").is_some())
                .collect();
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
            let posted = || {
                server
                    .requests()
                    .iter()
                    .any(|r| r.method == "POST" && r.body_text() == "4hello")
            };
            assert!(wait_until(DEADLINE, posted).await, "no POST of hello");
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

/// The user's `Cookie` header beside a real server's sticky cookie (node and python set
/// `io=<sid>`; the harness sets `io=<unique value>` for engineioxide): every request of
/// the session after the handshake, polls, POSTs and the websocket upgrade request, carries
/// one `Cookie` header, the user's cookie then the server's (the peers log a repeated
/// header joined with `, `, so two headers would show).
#[actix_rt::test]
async fn user_cookie_header_is_kept_beside_a_real_servers_cookie() {
    let peers = start_peers(
        &all_peers(),
        PeerOptions {
            cookie: Some("io".into()),
            ..PeerOptions::default()
        },
    );
    for peer in &peers {
        for mode in [Mode::Polling, Mode::Upgrade] {
            let label = format!("[{} peer, {}, user Cookie header]", peer.kind(), mode);
            let first = peer.requests().len();
            let builder = mode.builder(&peer.url()).header("Cookie", "auth=xyz");
            let client = exercise(&label, mode, builder).await;
            let requests = settled_requests(&label, mode, peer, first, &client).await;
            let (handshake, later): (Vec<PeerRequest>, Vec<PeerRequest>) =
                requests.into_iter().partition(|r| r.query("sid").is_none());
            for request in &handshake {
                assert_eq!(
                    request.header("cookie"),
                    Some("auth=xyz"),
                    "{label}: the handshake: {request:#?}"
                );
            }
            let server_cookie = match peer.kind() {
                PeerKind::Rust => cookie_pairs(later[0].header("cookie"))
                    .remove("io")
                    .unwrap_or_else(|| panic!("{label}: no io cookie on {:#?}", later[0])),
                _ => client.sid.clone(),
            };
            let expected = format!("auth=xyz; io={server_cookie}");
            for request in &later {
                assert_eq!(
                    request.header("cookie"),
                    Some(expected.as_str()),
                    "{label}: {} {}",
                    request.method,
                    request.url
                );
            }
            client.close().await;
        }
    }
}
