//! Credentials stay where they belong:
//! * out of logs: a session run with every log target at trace level (the crate's, awc's,
//!   actix-http's, rustls's) sends credentials in headers, the query string and the URL's
//!   userinfo, and none of them appears in what it logged (the `eio` example is the
//!   process under test: its log goes to stderr through `env_logger`, as a user's
//!   application's would);
//! * with their host: cookies one server set never go to another, and a redirect is not
//!   followed, so headers set for one server never reach the redirect's target.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use actix_engineio::{AsyncClient, ConnectOptions};

use crate::support::client::wait_until;
use crate::support::examples::example;
use crate::support::net::Untouched;
use crate::support::peers::{all_peers, any_of, Peer, PeerKind, PeerOptions};
use crate::support::scripted::{Reply, Scripted};

const RUN_DEADLINE: Duration = Duration::from_secs(60);

/// Secrets as a user's application would hold them; each one is unique so that a hit
/// names its way into the log.
const BEARER: &str = "bearer0secret0Q1w2E3r4";
const API_KEY: &str = "apikey0secret0T5y6U7i8";
const QUERY_TOKEN: &str = "query0secret0O9p0A1s2";
const URL_TOKEN: &str = "urltoken0secret0D3f4G5";
const PASSWORD: &str = "password0secret0H6j7K8";

struct Run {
    status: std::process::ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `eio ARGS` with `RUST_LOG=trace`, to its end or the deadline (then killed).
fn eio_traced(args: &[&str]) -> Run {
    let mut child = Command::new(example("eio"))
        .args(args)
        .env("RUST_LOG", "trace")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("eio runs");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for eio") {
            break status;
        }
        if started.elapsed() > RUN_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("eio {args:?} ran past {RUN_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

fn assert_no_secret(log: &str, secrets: &[&str], context: &str) {
    for secret in secrets {
        if let Some(at) = log.find(secret) {
            let start = log[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = log[at..].find('\n').map_or(log.len(), |i| at + i);
            panic!(
                "{context}: secret {secret:?} is in the log:\n{}",
                &log[start..end]
            );
        }
    }
}

#[test]
fn credentials_sent_to_a_peer_never_reach_the_trace_log() {
    for kind in all_peers() {
        let peer = Peer::start(kind, PeerOptions::default());
        let port = peer.port();
        let url = format!("http://user:{PASSWORD}@127.0.0.1:{port}/?session_token={URL_TOKEN}");
        let bearer = format!("Authorization: Bearer {BEARER}");
        let api_key = format!("X-Api-Key: {API_KEY}");
        let query = format!("token={QUERY_TOKEN}");
        let run = eio_traced(&[
            &url, "-H", &bearer, "-H", &api_key, "-q", &query, "--send", "hello", "--count", "1",
            "--json",
        ]);
        let context = format!("{} peer", kind.name());
        assert!(
            run.status.success() && run.stdout.contains("hello"),
            "{context}: the session did not echo: {}\n{}",
            run.stdout,
            run.stderr
        );
        // The log is a real trace log, with the crate's own lines and the URLs it
        // requested, their secrets replaced.
        assert!(
            run.stderr.contains("TRACE") && run.stderr.contains("token=<redacted>"),
            "{context}: no trace of the requests:\n{}",
            run.stderr
        );
        // The secrets did travel: the server saw each of them.
        let handshake = peer
            .requests()
            .into_iter()
            .next()
            .expect("the peer logged the handshake");
        assert_eq!(handshake.query("token").as_deref(), Some(QUERY_TOKEN));
        assert_eq!(handshake.query("session_token").as_deref(), Some(URL_TOKEN));
        let authorization = handshake.header("authorization").unwrap_or_default();
        assert!(authorization.contains(BEARER), "{context}: {authorization}");
        assert_eq!(handshake.header("x-api-key"), Some(API_KEY));
        assert_no_secret(
            &run.stderr,
            &[BEARER, API_KEY, QUERY_TOKEN, URL_TOKEN, PASSWORD],
            &context,
        );
    }
}

#[test]
fn errors_and_warnings_about_a_url_do_not_show_its_secrets() {
    // A URL the client refuses: the error names it, redacted.
    let bad = format!("ftp://127.0.0.1/?token={URL_TOKEN}");
    let run = eio_traced(&[&bad]);
    assert!(!run.status.success());
    assert!(
        run.stderr.contains("ftp://127.0.0.1") && run.stderr.contains("<redacted>"),
        "the error should name the URL, redacted:\n{}",
        run.stderr
    );
    assert_no_secret(&run.stderr, &[URL_TOKEN], "invalid URL");

    // Verification off warns with the URL; nothing listens on port 1, so the session
    // fails after the warning.
    let insecure = format!("https://127.0.0.1:1/?token={URL_TOKEN}");
    let run = eio_traced(&[&insecure, "--insecure"]);
    assert!(!run.status.success());
    assert!(
        run.stderr.contains("verification is off") && run.stderr.contains("<redacted>"),
        "the warning should name the URL, redacted:\n{}",
        run.stderr
    );
    assert_no_secret(&run.stderr, &[URL_TOKEN], "insecure URL");
}

/// A handshake answered with a redirect to another server ends in an HTTP error: the
/// client does not follow it, so the headers set for the first server (credentials
/// among them) never reach the second.
#[actix_rt::test]
async fn redirects_are_not_followed_so_headers_stay_with_their_server() {
    let elsewhere = Untouched::new();
    let target = format!("{}/engine.io/?EIO=4&transport=polling", elsewhere.url());
    let server = Scripted::start(move |_| {
        let location = ("location".to_owned(), target.clone());
        async move {
            Reply::Http {
                status: 302,
                headers: vec![location],
                body: Vec::new(),
            }
        }
    });
    let client = AsyncClient::new();
    let options = ConnectOptions::new().header("Authorization", format!("Bearer {BEARER}"));
    let error = client
        .connect_with(&server.url(), options)
        .await
        .expect_err("a redirect is not a handshake");
    assert_eq!(error.status(), Some(302), "{error}");
    assert_eq!(server.requests().len(), 1, "one request, not retried");
    elsewhere.assert_untouched("the redirect's target");
}

/// One client, two servers in turn (on the same host, other ports: cookies do not tell
/// ports apart, so a shared jar would send them): the sticky cookie the first set comes
/// back to the first only.
#[actix_rt::test]
async fn cookies_set_by_one_server_are_not_sent_to_another() {
    let Some(kinds) = any_of(
        &[PeerKind::Node, PeerKind::Python],
        "servers that set cookies",
    ) else {
        return;
    };
    let kind = kinds[0];
    let first = Peer::start(
        kind,
        PeerOptions {
            cookie: Some("io".into()),
            ..PeerOptions::default()
        },
    );
    let second = Peer::start(kind, PeerOptions::default());
    let client = AsyncClient::new();
    let polling = || ConnectOptions::new().transports(["polling"]);
    client
        .connect_with(&first.url(), polling())
        .await
        .expect("connects to the first server");
    client.send("hello").await.expect("sent");
    client.disconnect().await;
    // The peer's log is read from its output: it may lag the session a little.
    let cookie_came_back = wait_until(RUN_DEADLINE, || {
        first
            .requests()
            .iter()
            .any(|r| r.header("cookie").is_some_and(|c| c.contains("io=")))
    })
    .await;
    assert!(
        cookie_came_back,
        "the first server's cookie came back to it: {:#?}",
        first.requests()
    );

    client
        .connect_with(&second.url(), polling())
        .await
        .expect("connects to the second server");
    client.send("hello").await.expect("sent");
    client.disconnect().await;
    wait_until(RUN_DEADLINE, || second.requests().len() >= 2).await;
    let requests = second.requests();
    assert!(requests.len() >= 2, "handshake and more: {requests:#?}");
    for request in requests {
        assert_eq!(
            request.header("cookie"),
            None,
            "a cookie reached the second server"
        );
    }
}
