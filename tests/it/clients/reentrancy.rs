//! Handlers that call their own client, as python-engineio's guide does: a message
//! handler that answers with `send`, a disconnect handler that calls `wait()`, a message
//! handler that ends the session (`disconnect()`, `abort()`) while the server floods the
//! client, and a disconnect handler that connects again. None may wait for itself.

use std::sync::mpsc;
use std::sync::Arc;

use actix_engineio::{AsyncClient, Client, DisconnectReason, Payload};
use futures::future::join_all;

use super::blocking::{client, each_case};
use super::common::{
    assert_server_closed, cases, connect_async, connect_blocking, echo_async, echo_blocking, label,
    peer_close, peer_close_blocking, within_blocking,
};
use super::record::{Record, Seen};
use crate::support::client::{assert_texts, texts, within, Mode, DEADLINE};
use crate::support::peers::{all_peers, start_peers, PeerOptions};

/// More than the default event buffer (1024) holds.
const FLOOD: usize = 1500;

/// Whether the handlers were told `marker` (a text the test's handlers push themselves).
fn noted(seen: &[Seen], marker: &str) -> bool {
    seen.iter()
        .any(|s| matches!(s, Seen::Message(p) if p.as_text() == Some(marker)))
}

#[actix_rt::test]
async fn async_handler_may_send_and_wait() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    join_all(cases(&peers).into_iter().map(|(peer, mode)| async move {
        let l = label(peer, mode, "AsyncClient");
        let (client, record) = (AsyncClient::new(), Record::default());
        record.handle_async(&client);
        let (replies, r) = (client.clone(), record.clone());
        client.on_message(move |p: Payload| {
            let (replies, r) = (replies.clone(), r.clone());
            async move {
                r.push(Seen::Message(p.clone()));
                if p.as_text() == Some("ping") {
                    replies.send("pong").await.expect("send from a handler");
                }
            }
        });
        let (waits, r) = (client.clone(), record.clone());
        client.on_disconnect(move |reason| {
            let (waits, r) = (waits.clone(), r.clone());
            async move {
                let waited = waits.wait().await;
                r.push(Seen::Disconnect(waited.unwrap_or(reason)));
            }
        });
        connect_async(&client, peer, mode, &l).await;
        client.send("ping").await.expect("send");
        let got = record.messages_at_least(2).await;
        assert_texts(&l, &got, &["ping".into(), "pong".into()]);
        client.send("close-me").await.expect("send close-me");
        let waited = within(format!("{l}: wait()"), DEADLINE, client.wait()).await;
        // Not settled: may still be on polling unless websocket only. The disconnect

        // handler recorded what its own wait() gave.

        let maybe_polling = mode != Mode::WebSocket;

        assert_server_closed(peer.kind(), maybe_polling, &l, waited, &record);
    }))
    .await;
}

#[test]
fn blocking_handler_may_send_and_wait() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    each_case(
        &peers,
        &[Mode::WebSocket, Mode::Polling, Mode::Upgrade],
        |peer, mode| {
            let l = label(peer, mode, "Client");
            let (client, record) = (client(), Record::default());
            record.handle_blocking(&client);
            let (replies, r) = (client.clone(), record.clone());
            client.on_message(move |p: Payload| {
                r.push(Seen::Message(p.clone()));
                if p.as_text() == Some("ping") {
                    replies.send("pong").expect("send from a handler");
                }
            });
            let (waits, r) = (client.clone(), record.clone());
            client.on_disconnect(move |reason| {
                let waited = waits.wait();
                r.push(Seen::Disconnect(waited.unwrap_or(reason)));
            });
            connect_blocking(&client, peer, mode, &l);
            client.send("ping").expect("send");
            let got = record.messages_at_least_blocking(2);
            assert_texts(&l, &got, &["ping".into(), "pong".into()]);
            client.send("close-me").expect("send close-me");
            let waited = within_blocking(&l, "wait()", client.clone(), |c: Client| c.wait());
            // Not settled: may still be on polling unless websocket only. The disconnect

            // handler recorded what its own wait() gave.

            let maybe_polling = mode != Mode::WebSocket;

            assert_server_closed(peer.kind(), maybe_polling, &l, waited, &record);
        },
    );
}

/// A message handler ends the session (`abort` or not) on the message `m5`, once the
/// test has sent all of [`FLOOD`] messages: their echoes then fill the event buffer
/// behind the handler. Ending must return all the same, and the session end.
async fn async_end_from_a_handler_during_a_flood(abort: bool) {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    join_all(
        cases(&peers)
            .into_iter()
            .filter(|(_, m)| *m != Mode::Upgrade)
            .map(|(peer, mode)| async move {
                let l = label(peer, mode, "AsyncClient");
                let (client, record) = (AsyncClient::new(), Record::default());
                record.handle_async(&client);
                let all_sent = Arc::new(tokio::sync::Notify::new());
                let (ender, r, sent) = (client.clone(), record.clone(), all_sent.clone());
                client.on_message(move |p: Payload| {
                    let (ender, r, sent) = (ender.clone(), r.clone(), sent.clone());
                    async move {
                        r.push(Seen::Message(p.clone()));
                        if p.as_text() == Some("m5") {
                            sent.notified().await;
                            match abort {
                                true => ender.abort().await,
                                false => ender.disconnect().await,
                            }
                            r.push(Seen::Message(Payload::from("ended")));
                        }
                    }
                });
                let sid = connect_async(&client, peer, mode, &l).await;
                for text in texts("m", FLOOD) {
                    client.send(text).await.expect("send");
                }
                all_sent.notify_one();
                let ended = record.until(|seen| noted(seen, "ended")).await;
                let what = if abort { "abort()" } else { "disconnect()" };
                assert!(
                    ended,
                    "{l}: {what} from a handler did not return; {}",
                    record.summary()
                );
                let reason = within(format!("{l}: wait()"), DEADLINE, client.wait()).await;
                assert_eq!(reason, Some(DisconnectReason::ClientDisconnect), "{l}");
                // Any reason: with echoes still on their way when the client closes, node
                // fails writing them and logs `transport error` even for a clean close.
                // An abort over polling breaks no connection the server watches: it
                // notices at its heartbeat deadline (45 s by default), not within ours.
                if !(abort && mode == Mode::Polling) {
                    peer_close(peer, &l, &sid).await;
                }
            }),
    )
    .await;
}

#[actix_rt::test]
async fn async_handler_may_disconnect_while_the_server_floods_the_client() {
    async_end_from_a_handler_during_a_flood(false).await;
}

#[actix_rt::test]
async fn async_handler_may_abort_while_the_server_floods_the_client() {
    async_end_from_a_handler_during_a_flood(true).await;
}

#[test]
fn blocking_handler_may_disconnect_while_the_server_floods_the_client() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    each_case(&peers, &[Mode::WebSocket, Mode::Polling], |peer, mode| {
        let l = label(peer, mode, "Client");
        let (client, record) = (client(), Record::default());
        record.handle_blocking(&client);
        let (all_sent, sent) = mpsc::channel::<()>();
        let sent = std::sync::Mutex::new(sent);
        let (ender, r) = (client.clone(), record.clone());
        client.on_message(move |p: Payload| {
            r.push(Seen::Message(p.clone()));
            if p.as_text() == Some("m5") {
                let _ = sent.lock().expect("the gate").recv_timeout(DEADLINE);
                ender.disconnect();
                r.push(Seen::Message(Payload::from("ended")));
            }
        });
        let sid = connect_blocking(&client, peer, mode, &l);
        for text in texts("m", FLOOD) {
            client.send(text).expect("send");
        }
        let _ = all_sent.send(());
        let ended = record.until_blocking(|seen| noted(seen, "ended"));
        assert!(
            ended,
            "{l}: disconnect() from a handler did not return; {}",
            record.summary()
        );
        let reason = within_blocking(&l, "wait()", client.clone(), |c: Client| c.wait());
        assert_eq!(reason, Some(DisconnectReason::ClientDisconnect), "{l}");
        peer_close_blocking(peer, &l, &sid);
    });
}

#[actix_rt::test]
async fn async_disconnect_handler_may_connect_again() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    join_all(peers.iter().map(|peer| async move {
        let mode = Mode::WebSocket;
        let l = label(peer, mode, "AsyncClient");
        let (client, record) = (AsyncClient::new(), Record::default());
        record.handle_async(&client);
        let (again, r, url) = (client.clone(), record.clone(), peer.url());
        client.on_disconnect(move |reason| {
            let (again, r, url) = (again.clone(), r.clone(), url.clone());
            async move {
                r.push(Seen::Disconnect(reason));
                if r.disconnects().len() == 1 {
                    let connected = again.connect(&url).await;
                    r.push(Seen::Message(Payload::from(format!(
                        "reconnect: {connected:?}"
                    ))));
                }
            }
        });
        let old_sid = connect_async(&client, peer, mode, &l).await;
        client.send("close-me").await.expect("send close-me");
        let back = record.until(|seen| noted(seen, "reconnect: Ok(())")).await;
        assert!(
            back,
            "{l}: connect() from the disconnect handler; {}",
            record.summary()
        );
        let new_sid = client
            .sid()
            .unwrap_or_else(|| panic!("{l}: no sid after reconnecting"));
        assert_ne!(new_sid, old_sid, "{l}");
        // The new session's connect handler runs once the disconnect handler returned.
        let connected = record.until(|seen| connected_as(seen, &new_sid)).await;
        assert!(connected, "{l}: no connect event for {new_sid}");
        echo_async(&client, &record, &l, "on the second session").await;
        client.disconnect().await;
    }))
    .await;
}

#[test]
fn blocking_disconnect_handler_may_connect_again() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    each_case(&peers, &[Mode::WebSocket], |peer, mode| {
        let l = label(peer, mode, "Client");
        let (client, record) = (client(), Record::default());
        record.handle_blocking(&client);
        let (again, r, url) = (client.clone(), record.clone(), peer.url());
        client.on_disconnect(move |reason| {
            r.push(Seen::Disconnect(reason));
            if r.disconnects().len() == 1 {
                let connected = again.connect(&url);
                r.push(Seen::Message(Payload::from(format!(
                    "reconnect: {connected:?}"
                ))));
            }
        });
        let old_sid = connect_blocking(&client, peer, mode, &l);
        client.send("close-me").expect("send close-me");
        let back = record.until_blocking(|seen| noted(seen, "reconnect: Ok(())"));
        assert!(
            back,
            "{l}: connect() from the disconnect handler; {}",
            record.summary()
        );
        let new_sid = client
            .sid()
            .unwrap_or_else(|| panic!("{l}: no sid after reconnecting"));
        assert_ne!(new_sid, old_sid, "{l}");
        // The new session's connect handler runs once the disconnect handler returned.
        let connected = record.until_blocking(|seen| connected_as(seen, &new_sid));
        assert!(connected, "{l}: no connect event for {new_sid}");
        echo_blocking(&client, &record, &l, "on the second session");
        client.disconnect();
    });
}

/// Whether the handlers were told of a connect as `sid`.
fn connected_as(seen: &[Seen], sid: &str) -> bool {
    seen.iter()
        .any(|s| matches!(s, Seen::Connect(connect) if connect.sid == sid))
}
