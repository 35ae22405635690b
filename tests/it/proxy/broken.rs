//! Proxies that misbehave, and proxy settings that cannot be used: a proxy that never
//! answers (the request timeout ends the wait), one that answers something other than HTTP
//! or hangs up (a scripted listener: tinyproxy does neither on demand), a proxy URL that
//! cannot be used, a proxy beside a custom `http_client`. None hangs, none panics.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::Duration;

use actix_engineio::{ConfigError, ConnectError, ProxyError, Session, TransportError};

use super::{proxy_failure, FAILURE_DEADLINE};
use crate::support::client::within;
use crate::support::net::Untouched;

/// A one-connection "proxy": reads the request head, then answers `answer` (nothing when
/// empty) and hangs up. Returns its URL and the thread, which yields the request it read.
fn scripted_proxy(answer: &'static [u8]) -> (String, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let thread = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
            request.push(byte[0]);
        }
        let _ = stream.write_all(answer);
        String::from_utf8_lossy(&request).into_owned()
    });
    (url, thread)
}

#[actix_rt::test]
async fn a_proxy_that_answers_something_else_than_http_is_a_bad_response() {
    for (answer, expected) in [
        (&b"SSH-2.0-OpenSSH_9.2\r\n\r\n"[..], "not an HTTP answer"),
        (b"", "closed the connection before answering"),
    ] {
        let (proxy, thread) = scripted_proxy(answer);
        // Nothing listens at the server's address: the proxy is all the session reaches.
        let server = Untouched::new();
        let what = format!("[proxy answering {:?}]", String::from_utf8_lossy(answer));
        let builder = Session::builder(server.url())
            .transports(["websocket"])
            .proxy(&proxy);
        match proxy_failure(builder, &what).await {
            ProxyError::BadResponse {
                proxy: shown,
                reason,
            } => {
                assert_eq!(shown, proxy, "{what}");
                assert!(reason.contains(expected), "{what}: {reason}");
            }
            other => panic!("{what}: expected BadResponse, got {other:?}"),
        }
        let request = thread.join().expect("the scripted proxy");
        let target = server.url().replacen("http://", "", 1);
        assert!(
            request.starts_with(&format!("CONNECT {target} HTTP/1.1\r\n")),
            "{what}: the proxy got {request:?}"
        );
        server.assert_untouched(&what);
    }
}

#[actix_rt::test]
async fn a_proxy_that_never_answers_ends_with_the_request_timeout() {
    // A listener that never accepts: the connection waits in its backlog, the CONNECT in
    // the socket's buffer, and no answer ever comes.
    let proxy = Untouched::new();
    let server = Untouched::new();
    let what = "[proxy never answering, request timeout 2 s]";
    let builder = Session::builder(server.url())
        .transports(["polling"])
        .proxy(proxy.url())
        .request_timeout(Duration::from_secs(2));
    let result = within(what, FAILURE_DEADLINE, builder.connect()).await;
    match result {
        Err(ConnectError::Transport(TransportError::Timeout)) => {}
        Err(ConnectError::Transport(TransportError::Connect(cause)))
            if cause.to_ascii_lowercase().contains("timeout") => {}
        other => panic!("{what}: expected a timeout, got {other:?}"),
    }
    server.assert_untouched(what);
}

#[actix_rt::test]
async fn an_unusable_proxy_url_is_a_configuration_error_and_nothing_is_sent() {
    let server = Untouched::new();
    for url in [
        "socks5://alice:hunter2@127.0.0.1:1080",
        "https://alice:hunter2@127.0.0.1:3128",
        "http://alice:hunter2@127.0.0.1:3128/some/path",
        "http://alice:hunter2@",
    ] {
        let result = Session::builder(server.url()).proxy(url).connect().await;
        match result {
            Err(ConnectError::Config(ConfigError::Proxy(why))) => {
                assert!(!why.contains("hunter2"), "{url}: the password in {why:?}");
            }
            other => panic!("{url}: expected Config(Proxy(_)), got {other:?}"),
        }
        server.assert_untouched(url);
    }
}

#[actix_rt::test]
async fn a_proxy_beside_a_custom_http_client_is_a_configuration_error() {
    let server = Untouched::new();
    let result = Session::builder(server.url())
        .http_client(awc::Client::default())
        .proxy("http://127.0.0.1:3128")
        .connect()
        .await;
    match result {
        Err(ConnectError::Config(ConfigError::Proxy(why))) => {
            assert!(why.contains("http_client"), "{why}")
        }
        other => panic!("expected Config(Proxy(_)), got {other:?}"),
    }
    server.assert_untouched("a proxy beside a custom http_client");
}
