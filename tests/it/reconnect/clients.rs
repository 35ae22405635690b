//! The core case through the two clients: the network is cut, the handlers hear the loss
//! (`on_disconnect`), each attempt (`on_reconnecting`) and the new session (`on_connect`,
//! `attempt > 0`, a new `sid()`), and the echo works again; `AsyncClient::events()` gives the
//! same events; `wait()` returns only at the final end. `disconnect()` during the backoff
//! wait answers at once and ends everything for good.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use actix_engineio::{
    AsyncClient, Client, ConnectError, ConnectOptions, DisconnectReason, Event, Payload, SendError,
    Unsent,
};
use futures::StreamExt;

use super::{
    assert_reconnected, is_transport_error, messages, peer_opened, peer_opened_blocking,
    peer_sessions, policy, short_heartbeat, upgraded, waiting_policy, Log,
};
use crate::support::client::{sleep, within, DEADLINE};
use crate::support::fault_proxy::FaultProxy;
use crate::support::peers::{all_peers, start_peers, Peer};

/// Sends `text` and waits for its echo, the next message the handlers get.
async fn echo_async(client: &AsyncClient, log: &Log, l: &str, text: &str) {
    let before = log.messages().len();
    client
        .send(text)
        .await
        .unwrap_or_else(|e| panic!("{l}: send({text:?}): {e:?}"));
    let seen = log
        .until(l, &format!("the echo of {text:?}"), |e| {
            messages(e).len() > before
        })
        .await;
    assert_eq!(messages(&seen)[before].as_text(), Some(text), "{l}");
}

/// [`echo_async`] for the blocking client.
fn echo_blocking(client: &Client, log: &Log, l: &str, text: &str) {
    let before = log.messages().len();
    client
        .send(text)
        .unwrap_or_else(|e| panic!("{l}: send({text:?}): {e:?}"));
    let seen = log.until_blocking(l, &format!("the echo of {text:?}"), |e| {
        messages(e).len() > before
    });
    assert_eq!(messages(&seen)[before].as_text(), Some(text), "{l}");
}

/// Whether the last event is the client's own final `Disconnect`.
fn ended_by_client(events: &[Event]) -> bool {
    matches!(
        events.last(),
        Some(Event::Disconnect(DisconnectReason::ClientDisconnect))
    )
}

#[actix_rt::test]
async fn async_client_reconnects_after_a_cut() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        let l = format!("[{} peer, polling with upgrade, AsyncClient]", peer.kind());
        let proxy = FaultProxy::start(peer.port());
        let client = AsyncClient::builder().reconnect(policy()).build();
        let handled = Log::default();
        handled.handle_async(&client);
        let streamed = Log::default();
        let mut events = client.events();
        let stream_log = streamed.clone();
        actix_rt::spawn(async move {
            while let Some(event) = events.next().await {
                stream_log.push(event);
            }
        });
        within(&l, DEADLINE, client.connect(&proxy.url()))
            .await
            .unwrap_or_else(|e| panic!("{l}: connect: {e}"));
        let first = handled.nth_connect(&l, 1).await;
        assert_eq!(client.sid(), Some(first.sid.clone()), "{l}");
        upgraded(&handled, &l, &first.sid).await;
        echo_async(&client, &handled, &l, "before").await;
        let waiter = client.clone();
        let waiting = actix_rt::spawn(async move { waiter.wait().await });

        proxy.cut();
        handled.nth_connect(&l, 2).await;
        let (reason, connect) = assert_reconnected(&l, &handled.all(), &first.sid);
        assert!(is_transport_error(&reason), "{l}: ended with {reason:?}");
        assert_eq!(client.sid(), Some(connect.sid.clone()), "{l}");
        upgraded(&handled, &l, &connect.sid).await;
        echo_async(&client, &handled, &l, "after").await;
        peer_opened(peer, &l, &connect.sid).await;
        assert!(
            !waiting.is_finished(),
            "{l}: wait() returned at a reconnection"
        );

        within(&l, DEADLINE, client.disconnect()).await;
        let reason = within(&l, DEADLINE, waiting).await.unwrap();
        assert_eq!(reason, Some(DisconnectReason::ClientDisconnect), "{l}");
        assert!(
            ended_by_client(&handled.all()),
            "{l}:\n{}",
            handled.summary()
        );
        let streamed = streamed
            .until(&l, "the stream's final Disconnect", ended_by_client)
            .await;
        assert_eq!(
            streamed,
            handled.all(),
            "{l}: the stream and the handlers differ"
        );
    }
}

#[test]
fn blocking_client_reconnects_after_a_cut() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        let l = format!("[{} peer, websocket only, Client]", peer.kind());
        let proxy = FaultProxy::start(peer.port());
        let client = Client::builder()
            .handle_sigint(false)
            .reconnect(policy())
            .build();
        let handled = Log::default();
        handled.handle_blocking(&client);
        client
            .connect_with(
                &proxy.url(),
                ConnectOptions::new().transports(["websocket"]),
            )
            .unwrap_or_else(|e| panic!("{l}: connect: {e}"));
        let first = handled
            .until_blocking(&l, "the connect", |e| !e.is_empty())
            .into_iter()
            .find_map(|e| match e {
                Event::Connect(c) => Some(c),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{l}: the first event is not the connect"));
        assert_eq!(client.sid(), Some(first.sid.clone()), "{l}");
        echo_blocking(&client, &handled, &l, "before");
        let (done, waited) = mpsc::channel();
        let waiter = client.clone();
        std::thread::spawn(move || done.send(waiter.wait()));

        proxy.cut();
        handled.until_blocking(&l, "a new session", |e| {
            e.iter().filter(|e| matches!(e, Event::Connect(_))).count() >= 2
        });
        let (reason, connect) = assert_reconnected(&l, &handled.all(), &first.sid);
        assert!(is_transport_error(&reason), "{l}: ended with {reason:?}");
        assert_eq!(client.sid(), Some(connect.sid.clone()), "{l}");
        echo_blocking(&client, &handled, &l, "after");
        peer_opened_blocking(peer, &l, &connect.sid);
        assert!(
            waited.try_recv().is_err(),
            "{l}: wait() returned at a reconnection"
        );

        client.disconnect();
        let reason = waited
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|_| panic!("{l}: wait() did not return after disconnect()"));
        assert_eq!(reason, Some(DisconnectReason::ClientDisconnect), "{l}");
        assert!(
            ended_by_client(&handled.all()),
            "{l}:\n{}",
            handled.summary()
        );
    }
}

/// After `disconnect()` during the wait: nothing more is tried (checked past twice the
/// delay); the handlers heard the loss and then the client's end.
fn assert_over_for_good(
    l: &str,
    peer: &Peer,
    proxy: &FaultProxy,
    handled: &Log,
    before: (u64, usize),
) {
    assert_eq!(
        proxy.connections_accepted(),
        before.0,
        "{l}: a connection after disconnect()"
    );
    assert_eq!(
        peer_sessions(peer).len(),
        before.1,
        "{l}: a session after disconnect()"
    );
    let seen = handled.all();
    let reasons = handled.disconnects();
    assert_eq!(reasons.len(), 2, "{l}:\n{}", handled.summary());
    assert!(is_transport_error(&reasons[0]), "{l}: {reasons:?}");
    assert!(ended_by_client(&seen), "{l}:\n{}", handled.summary());
    assert_eq!(handled.connects().len(), 1, "{l}");
    assert_eq!(handled.reconnectings().len(), 1, "{l}");
}

/// A send refused because the session is reconnecting, with its message given back.
fn assert_reconnecting(l: &str, refused: Result<(), Unsent>) {
    match refused {
        Err(Unsent {
            error: SendError::Reconnecting,
            payload,
        }) if payload == Payload::from("while waiting")
            || payload == Payload::from(vec![7u8, 8]) => {}
        other => panic!("{l}: a send while reconnecting gave {other:?}"),
    }
}

/// The delay before the first attempt, in the backoff tests.
const WAIT: Duration = Duration::from_secs(1);

#[actix_rt::test]
async fn async_client_disconnect_during_the_backoff_wait_ends_for_good_at_once() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        let l = format!(
            "[{} peer, websocket only, AsyncClient, disconnect while waiting]",
            peer.kind()
        );
        let proxy = FaultProxy::start(peer.port());
        let slow = waiting_policy(WAIT);
        let client = AsyncClient::builder().reconnect(slow).build();
        let handled = Log::default();
        handled.handle_async(&client);
        let options = ConnectOptions::new().transports(["websocket"]);
        within(&l, DEADLINE, client.connect_with(&proxy.url(), options))
            .await
            .unwrap();
        echo_async(&client, &handled, &l, "before").await;

        proxy.cut();
        handled.attempt(&l, 1).await;
        assert_eq!(handled.reconnectings()[0].delay, WAIT, "{l}");
        peer_opened(peer, &l, &handled.connects()[0].sid).await;
        let before = (proxy.connections_accepted(), peer_sessions(peer).len());
        // Sends while waiting are refused, the message given back.
        for refused in [
            client.send("while waiting").await,
            client.try_send(vec![7u8, 8]).await,
        ] {
            assert_reconnecting(&l, refused);
        }
        let asked = Instant::now();
        within(&l, DEADLINE, client.disconnect()).await;
        let took = asked.elapsed();
        assert!(took < WAIT / 2, "{l}: disconnect() took {took:?}");
        let reason = within(&l, Duration::from_secs(2), client.wait()).await;
        assert_eq!(reason, Some(DisconnectReason::ClientDisconnect), "{l}");
        handled
            .until(&l, "the final Disconnect", ended_by_client)
            .await;
        sleep(WAIT * 2).await;
        assert_over_for_good(&l, peer, &proxy, &handled, before);
        assert_eq!(client.sid(), None, "{l}");
    }
}

#[test]
fn blocking_client_disconnect_during_the_backoff_wait_ends_for_good_at_once() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        let l = format!(
            "[{} peer, polling only, Client, disconnect while waiting]",
            peer.kind()
        );
        let proxy = FaultProxy::start(peer.port());
        let slow = waiting_policy(WAIT);
        let client = Client::builder()
            .handle_sigint(false)
            .reconnect(slow)
            .build();
        let handled = Log::default();
        handled.handle_blocking(&client);
        client
            .connect_with(&proxy.url(), ConnectOptions::new().transports(["polling"]))
            .unwrap();
        echo_blocking(&client, &handled, &l, "before");

        proxy.cut();
        handled.until_blocking(&l, "Reconnecting", |e| {
            e.iter().any(|e| matches!(e, Event::Reconnecting(_)))
        });
        assert_eq!(handled.reconnectings()[0].delay, WAIT, "{l}");
        peer_opened_blocking(peer, &l, &handled.connects()[0].sid);
        let before = (proxy.connections_accepted(), peer_sessions(peer).len());
        for refused in [client.send("while waiting"), client.try_send(vec![7u8, 8])] {
            assert_reconnecting(&l, refused);
        }
        let asked = Instant::now();
        client.disconnect();
        let took = asked.elapsed();
        assert!(took < WAIT / 2, "{l}: disconnect() took {took:?}");
        assert_eq!(
            client.wait(),
            Some(DisconnectReason::ClientDisconnect),
            "{l}"
        );
        handled.until_blocking(&l, "the final Disconnect", ended_by_client);
        std::thread::sleep(WAIT * 2);
        assert_over_for_good(&l, peer, &proxy, &handled, before);
        assert_eq!(client.sid(), None, "{l}");
    }
}

/// `disconnect()` while `connect` retries a first connect (`retry_first_connect(true)`,
/// nobody listening): it answers at once, `connect` returns `Aborted` instead of
/// retrying on, `wait()` returns, and no `Disconnect` is published (no session was
/// ever open, as when the attempts run out).
#[actix_rt::test]
async fn async_client_disconnect_while_retrying_the_first_connect_ends_it() {
    let l = "[nobody listening, AsyncClient, disconnect while retrying the first connect]";
    let slow = waiting_policy(WAIT).retry_first_connect(true);
    let client = AsyncClient::builder().reconnect(slow).build();
    let handled = Log::default();
    handled.handle_async(&client);
    let url = crate::support::net::refused_url();
    let connecting = {
        let client = client.clone();
        actix_rt::spawn(async move { client.connect(&url).await })
    };
    handled.attempt(l, 1).await;
    assert_eq!(handled.reconnectings()[0].delay, WAIT, "{l}");
    let asked = Instant::now();
    within(format!("{l}: disconnect()"), DEADLINE, client.disconnect()).await;
    let took = asked.elapsed();
    assert!(took < WAIT / 2, "{l}: disconnect() took {took:?}");
    let connected = within(format!("{l}: connect()"), DEADLINE, connecting)
        .await
        .unwrap();
    assert!(
        matches!(connected, Err(ConnectError::Aborted)),
        "{l}: connect gave {connected:?}"
    );
    within(format!("{l}: wait()"), DEADLINE, client.wait()).await;
    assert_eq!(handled.connects().len(), 0, "{l}");
    assert_eq!(handled.disconnects(), Vec::new(), "{l}");
}
