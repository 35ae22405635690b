//! Where each client may be used, without a panic ("cannot start a runtime from within a
//! runtime") or a hang: `AsyncClient` under actix, under plain Tokio runtimes with no
//! actix `System`, and inside an actix-web handler; the blocking `Client` from a plain
//! thread and from threads spawned inside a Tokio runtime or an actix `System`; and the
//! actor API outside a `System`, which says so.

use std::time::Duration;

use actix_engineio::{
    AsyncClient, Client, ConnectError, DisconnectReason, Event, Payload, Session,
};
use actix_web::{web, App, HttpServer};
use futures::future::join_all;
use futures::StreamExt;

use super::common::{
    assert_clean_close, assert_clean_close_blocking, cases, echo_async, echo_blocking, label,
    within_blocking,
};
use super::record::Record;
use crate::support::client::{assert_payloads, within, Mode, DEADLINE};
use crate::support::peers::{all_peers, start_peers, Peer, PeerOptions};

/// Both clients are handles to share: `Send + Sync + Clone`.
const _: fn() = || {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<AsyncClient>();
    shareable::<Client>();
};

/// An `AsyncClient` for `mode`, its transports set on the builder.
fn async_client(mode: Mode) -> AsyncClient {
    let builder = AsyncClient::builder()
        .logger(true)
        .event_buffer(64)
        .request_timeout(Duration::from_secs(10));
    match mode {
        Mode::WebSocket => builder.transports(["websocket"]),
        Mode::Polling => builder.transports(["polling"]),
        Mode::Upgrade => builder,
    }
    .build()
}

/// A blocking `Client` for `mode`, its transports set on the builder.
fn blocking_client(mode: Mode) -> Client {
    let builder = Client::builder()
        .handle_sigint(false)
        .logger(true)
        .event_buffer(64)
        .request_timeout(Duration::from_secs(10));
    match mode {
        Mode::WebSocket => builder.transports(["websocket"]),
        Mode::Polling => builder.transports(["polling"]),
        Mode::Upgrade => builder,
    }
    .build()
}

/// Everything an `AsyncClient` does, on whatever runtime runs this: connect, echo text
/// and bytes, a background task that sleeps and sends, the event stream, disconnect, wait.
async fn async_session(peer: &Peer, mode: Mode, runtime: &str) {
    let l = label(peer, mode, &format!("AsyncClient {runtime}"));
    let (client, record) = (async_client(mode), Record::default());
    record.handle_async(&client);
    let mut events = client.events();
    within(
        format!("{l}: connect"),
        DEADLINE,
        client.connect(&peer.url()),
    )
    .await
    .unwrap_or_else(|e| panic!("{l}: connect failed: {e} ({e:?})"));
    let sid = client.sid().unwrap_or_else(|| panic!("{l}: no sid"));
    assert!(client.session().is_some(), "{l}: no session actor");
    assert!(client.transport().is_some(), "{l}: no transport");
    echo_async(&client, &record, &l, "hello").await;
    client.send(vec![1u8, 2, 3]).await.expect("send bytes");
    let task = client.start_background_task(
        |eio: AsyncClient| async move {
            eio.sleep(Duration::from_millis(10)).await;
            eio.send("tick").await
        },
        client.clone(),
    );
    let ticked = within(format!("{l}: the background task"), DEADLINE, task).await;
    assert_eq!(ticked, Ok(Ok(())), "{l}: the background task");
    let got = record.messages_at_least(3).await;
    let want = [
        Payload::from("hello"),
        Payload::from(vec![1u8, 2, 3]),
        Payload::from("tick"),
    ];
    assert_payloads(&l, &got, &want);
    within(format!("{l}: disconnect()"), DEADLINE, client.disconnect()).await;
    let reason = within(format!("{l}: wait()"), DEADLINE, client.wait()).await;
    assert_eq!(reason, Some(DisconnectReason::ClientDisconnect), "{l}");
    assert!(client.session().is_none() && client.sid().is_none(), "{l}");
    assert_clean_close(peer, &l, &sid).await;
    // The stream saw the same session, from its connect to its end.
    let mut streamed = Vec::new();
    let read = async {
        while let Some(event) = events.next().await {
            let end = matches!(event, Event::Disconnect(_));
            streamed.push(event);
            if end {
                break;
            }
        }
    };
    within(format!("{l}: the event stream"), DEADLINE, read).await;
    assert!(
        matches!(streamed.first(), Some(Event::Connect(c)) if c.sid == sid),
        "{l}: the stream began with {:?}",
        streamed.first()
    );
    let messages = streamed
        .iter()
        .filter(|e| matches!(e, Event::Message(_)))
        .count();
    assert_eq!(messages, want.len(), "{l}: the stream gave {streamed:?}");
}

/// Everything a blocking `Client` does, from the calling thread.
fn blocking_session(peer: &Peer, mode: Mode, thread: &str) {
    let l = label(peer, mode, &format!("Client {thread}"));
    let (client, record) = (blocking_client(mode), Record::default());
    record.handle_blocking(&client);
    client
        .connect(&peer.url())
        .unwrap_or_else(|e| panic!("{l}: connect failed: {e} ({e:?})"));
    let sid = client.sid().unwrap_or_else(|| panic!("{l}: no sid"));
    assert!(client.session().is_some(), "{l}: no session actor");
    echo_blocking(&client, &record, &l, "hello");
    client.send(vec![1u8, 2, 3]).expect("send bytes");
    let task = client.start_background_task(|eio: Client| eio.send("tick"), client.clone());
    assert_eq!(task.join().expect("the background thread"), Ok(()), "{l}");
    let got = record.messages_at_least_blocking(3);
    let want = [
        Payload::from("hello"),
        Payload::from(vec![1u8, 2, 3]),
        Payload::from("tick"),
    ];
    assert_payloads(&l, &got, &want);
    within_blocking(&l, "disconnect()", client.clone(), |c: Client| {
        c.disconnect()
    });
    let reason = within_blocking(&l, "wait()", client.clone(), |c: Client| c.wait());
    assert_eq!(reason, Some(DisconnectReason::ClientDisconnect), "{l}");
    assert!(client.session().is_none() && client.sid().is_none(), "{l}");
    assert_clean_close_blocking(peer, &l, &sid);
}

#[actix_rt::test]
async fn async_client_under_actix_rt() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    join_all(
        cases(&peers)
            .into_iter()
            .map(|(peer, mode)| async_session(peer, mode, "under actix_rt")),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_client_under_a_multi_thread_tokio_runtime_without_an_actix_system() {
    assert!(
        actix_rt::System::try_current().is_none(),
        "an actix System runs here"
    );
    let peers = start_peers(&all_peers(), PeerOptions::default());
    let runtime = "under multi-thread tokio";
    join_all(
        cases(&peers)
            .into_iter()
            .map(|(peer, mode)| async_session(peer, mode, runtime)),
    )
    .await;
}

#[tokio::test(flavor = "current_thread")]
async fn async_client_under_a_current_thread_tokio_runtime_without_an_actix_system() {
    assert!(
        actix_rt::System::try_current().is_none(),
        "an actix System runs here"
    );
    let peers = start_peers(&all_peers(), PeerOptions::default());
    let runtime = "under current-thread tokio";
    join_all(
        cases(&peers)
            .into_iter()
            .map(|(peer, mode)| async_session(peer, mode, runtime)),
    )
    .await;
}

/// `GET /echo/{port}/{text}`: an `AsyncClient` made in the handler connects to the peer on
/// `port`, sends `text`, takes its echo from the event stream, disconnects, and answers
/// `<sid> <echo>`.
async fn echo_through_a_peer(path: web::Path<(u16, String)>) -> actix_web::Result<String> {
    use actix_web::error::ErrorInternalServerError as Failed;
    let (port, text) = path.into_inner();
    let client = AsyncClient::new();
    let mut events = client.events();
    client
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .map_err(Failed)?;
    let sid = client.sid().ok_or_else(|| Failed("no sid"))?;
    client.send(text).await.map_err(Failed)?;
    let echo = loop {
        match actix_rt::time::timeout(DEADLINE, events.next()).await {
            Ok(Some(Event::Message(echo))) => break echo,
            Ok(Some(Event::Disconnect(reason))) => return Err(Failed(reason)),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return Err(Failed("no echo")),
        }
    };
    client.disconnect().await;
    Ok(format!("{sid} {}", echo.as_text().unwrap_or("(binary)")))
}

#[actix_rt::test]
async fn async_client_inside_an_actix_web_handler() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    let server = HttpServer::new(|| {
        App::new().route("/echo/{port}/{text}", web::get().to(echo_through_a_peer))
    })
    .workers(2)
    .bind(("127.0.0.1", 0))
    .expect("bind the actix-web server");
    let address = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    let running = actix_rt::spawn(server);
    let http = awc::Client::builder().timeout(DEADLINE).finish();
    for peer in &peers {
        let l = format!(
            "[{} peer, polling with upgrade, AsyncClient in actix-web]",
            peer.kind()
        );
        let text = format!("through-actix-web-{}", peer.kind());
        let url = format!("http://{address}/echo/{}/{text}", peer.port());
        let mut response = within(format!("{l}: GET"), DEADLINE, http.get(&url).send())
            .await
            .unwrap_or_else(|e| panic!("{l}: GET {url}: {e}"));
        let body = response.body().await.expect("the response body");
        let body = String::from_utf8_lossy(&body).into_owned();
        assert!(
            response.status().is_success(),
            "{l}: {} {body}",
            response.status()
        );
        let (sid, echo) = body
            .split_once(' ')
            .unwrap_or_else(|| panic!("{l}: {body:?}"));
        assert_eq!(echo, text, "{l}: the echo");
        assert_clean_close(peer, &l, sid).await;
    }
    handle.stop(true).await;
    within("the actix-web server's end", DEADLINE, running)
        .await
        .expect("the actix-web server")
        .expect("the actix-web server failed");
}

#[test]
fn blocking_client_from_a_plain_thread() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for (peer, mode) in cases(&peers) {
        blocking_session(peer, mode, "from a plain thread");
    }
}

#[test]
fn blocking_client_from_a_thread_spawned_inside_a_tokio_runtime() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        std::thread::scope(|scope| {
            for (peer, mode) in cases(&peers) {
                let spawned = scope.spawn(move || {
                    blocking_session(peer, mode, "from a thread spawned inside tokio")
                });
                if let Err(panic) = spawned.join() {
                    std::panic::resume_unwind(panic);
                }
            }
        })
    });
}

#[test]
fn blocking_client_from_a_thread_spawned_inside_an_actix_system() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    actix_rt::System::new().block_on(async {
        std::thread::scope(|scope| {
            for (peer, mode) in cases(&peers) {
                let spawned = scope.spawn(move || {
                    blocking_session(peer, mode, "from a thread spawned inside actix")
                });
                if let Err(panic) = spawned.join() {
                    std::panic::resume_unwind(panic);
                }
            }
        })
    });
}

#[test]
fn actor_api_outside_a_system_is_no_actix_system() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        let l = format!("[{} peer, actor API]", peer.kind());
        // From a plain thread, with no runtime at all.
        let connect = Session::builder(peer.url()).connect();
        let result = futures::executor::block_on(connect);
        assert!(
            matches!(result, Err(ConnectError::NoActixSystem)),
            "{l}: from a plain thread: {:?}",
            result.map(|_| "a session")
        );
        // From a Tokio runtime without an actix System.
        let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
        let result = runtime.block_on(Session::builder(peer.url()).connect());
        assert!(
            matches!(result, Err(ConnectError::NoActixSystem)),
            "{l}: under tokio: {:?}",
            result.map(|_| "a session")
        );
        let opened = peer
            .events()
            .into_iter()
            .filter(|e| e.sid().is_some())
            .count();
        assert_eq!(
            opened,
            0,
            "{l}: the peer saw a session: {:?}",
            peer.events()
        );
    }
}
