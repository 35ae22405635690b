//! What a misbehaving server sends cannot grow without bound: a flood of cookies (1,000
//! distinct ones over 50 polls) leaves a `Cookie` header of at most 50 cookies and about
//! 16 KiB, the newest kept; a server that keeps pinging but never reads what the client
//! writes ends the session with a transport error within about its ping interval plus
//! timeout, instead of keeping it alive while the writes pile up.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_engineio::{Close, DisconnectReason, Send, Session};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::{messages, Log};
use crate::support::client::{wait_until, within, Mode, DEADLINE};
use crate::support::scripted::{open_packet, Reply, Scripted, ScriptedRequest};

const COOKIE_POLLS: usize = 50;
const COOKIES_PER_POLL: usize = 20;
/// The jar's bounds (`src/transport/cookies.rs`).
const MAX_COOKIES: usize = 50;
const MAX_JAR_BYTES: usize = 16 * 1024;

/// The cookie poll `poll` sets as number `i`: small ones for the first half of the
/// polls (the jar fills up by number), 600-byte ones after (it fills up by size).
fn cookie(i: usize) -> (String, String) {
    let size = if i < COOKIE_POLLS / 2 * COOKIES_PER_POLL {
        8
    } else {
        600
    };
    (format!("c{i}"), format!("{i:0size$}"))
}

/// The `name=value` pairs of a `Cookie` header, in order.
fn pairs(request: &ScriptedRequest) -> Vec<(String, String)> {
    request
        .header("cookie")
        .unwrap_or_default()
        .split("; ")
        .filter_map(|pair| pair.split_once('='))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

/// The cookies numbered `range`.
fn cookies(range: std::ops::Range<usize>) -> Vec<(String, String)> {
    range.map(cookie).collect()
}

/// A polling server whose first 50 polls each set 20 new cookies.
fn cookie_flood_server() -> Scripted {
    let polls = Arc::new(AtomicUsize::new(0));
    Scripted::start(move |request| {
        let polls = polls.clone();
        async move {
            match (request.method.as_str(), request.query("sid")) {
                ("GET", None) => Reply::text(200, open_packet("flood", &[], 25_000, 20_000)),
                ("GET", Some(_)) => {
                    let poll = polls.fetch_add(1, Ordering::SeqCst);
                    let mut headers = vec![("content-type".into(), "text/plain".into())];
                    if poll < COOKIE_POLLS {
                        for i in poll * COOKIES_PER_POLL..(poll + 1) * COOKIES_PER_POLL {
                            let (name, value) = cookie(i);
                            headers.push(("set-cookie".into(), format!("{name}={value}; Path=/")));
                        }
                    } else {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
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
    })
}

/// 1,000 distinct cookies over 50 polls: each request carries at most 50 cookies, at most
/// 16 KiB of them (plus `=` and `; `), always the newest ones in the order set; after the
/// small ones, exactly the 50 newest; after the large ones, as many of the newest as fit.
#[actix_rt::test]
async fn cookie_flood_keeps_the_cookie_header_bounded() {
    let l = "[scripted, cookie flood]";
    let server = cookie_flood_server();
    let log = Log::default();
    let builder = log.subscribe(Mode::Polling.builder(&server.url()));
    let session = within(l, DEADLINE, builder.connect()).await.unwrap();
    let polls = || {
        server
            .requests()
            .into_iter()
            .filter(|r| r.method == "GET" && r.query("sid").is_some())
            .collect::<Vec<_>>()
    };
    assert!(
        wait_until(DEADLINE, || polls().len() > COOKIE_POLLS + 5).await,
        "{l}: only {} polls",
        polls().len()
    );
    within(l, DEADLINE, session.send(Close)).await.unwrap();
    assert_eq!(
        log.disconnects(),
        [DisconnectReason::ClientDisconnect],
        "{l}"
    );

    let total = COOKIE_POLLS * COOKIES_PER_POLL;
    for request in server.requests() {
        let header = request.header("cookie").unwrap_or_default();
        let jar = pairs(&request);
        let bytes: usize = jar.iter().map(|(n, v)| n.len() + v.len()).sum();
        assert!(
            jar.len() <= MAX_COOKIES && bytes <= MAX_JAR_BYTES,
            "{l}: {} cookies, {bytes} bytes on {}",
            jar.len(),
            request.url
        );
        assert!(
            header.len() <= MAX_JAR_BYTES + 3 * MAX_COOKIES,
            "{l}: {} bytes",
            header.len()
        );
        // The newest, in the order they were set.
        let first: usize = jar.first().map_or(0, |(n, _)| n[1..].parse().unwrap());
        assert_eq!(
            jar,
            cookies(first..first + jar.len()),
            "{l}: on {}",
            request.url
        );
    }
    let polls = polls();
    // Poll k carries what polls 0..k set.
    let half = COOKIE_POLLS / 2 * COOKIES_PER_POLL;
    assert_eq!(
        pairs(&polls[COOKIE_POLLS / 2]),
        cookies(half - MAX_COOKIES..half),
        "{l}"
    );
    let last = pairs(&polls[COOKIE_POLLS]);
    let bytes: usize = last.iter().map(|(n, v)| n.len() + v.len()).sum();
    assert_eq!(
        last.last().map(|(n, _)| n.as_str()),
        Some(format!("c{}", total - 1).as_str())
    );
    let first: usize = last[0].0[1..].parse().unwrap();
    let (name, value) = cookie(first - 1);
    assert!(
        bytes + name.len() + value.len() > MAX_JAR_BYTES,
        "{l}: only {bytes} bytes kept, with room for {name}"
    );
}

/// A websocket server that announces a 300 ms ping interval and timeout, then sends an
/// engine.io ping and a websocket ping every 100 ms for a minute, and never reads.
fn pinging_deaf_server() -> Scripted {
    Scripted::start(|request| async move {
        if !request.is_websocket() {
            return Reply::text(404, "");
        }
        Reply::websocket(|mut ws| async move {
            ws.send_text(&open_packet("deaf", &[], 300, 300)).await;
            for _ in 0..600 {
                ws.send_text("2").await;
                ws.send(WsMessage::Ping(b"ping".to_vec().into())).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    })
}

/// The server pings (engine.io `2` and websocket pings, both answered) but reads nothing:
/// once the socket's buffers are full, the client's writes stop moving, and the session
/// ends with a transport error within about the server's ping interval + timeout
/// (600 ms) of the last write that moved, not a ping timeout, and not never.
#[actix_rt::test]
async fn pings_without_reads_end_the_session_with_a_transport_error() {
    let l = "[scripted, pings without reads]";
    let server = pinging_deaf_server();
    let log = Log::default();
    let builder = log.subscribe(Session::builder(server.url()).transports(["websocket"]));
    let session = within(l, DEADLINE, builder.connect()).await.unwrap();
    let moved = Rc::new(Cell::new(Instant::now()));
    let (last, sender) = (moved.clone(), session.clone());
    actix_rt::spawn(async move {
        let data = vec![0x5a; 64 * 1024];
        while let Ok(Ok(())) = sender.send(Send::binary(data.clone())).await {
            last.set(Instant::now());
        }
    });
    let reason = log.nth_disconnect(l, 1).await;
    let ended = Instant::now();
    assert!(
        matches!(reason, DisconnectReason::TransportError(_)),
        "{l}: ended with {reason:?}, not a transport error"
    );
    let after = ended - moved.get();
    let limit = Duration::from_millis(600) + Duration::from_secs(4);
    assert!(
        after < limit,
        "{l}: ended {after:?} after the last write that moved ({reason:?})"
    );
    assert!(messages(&log.all()).is_empty(), "{l}");
}
