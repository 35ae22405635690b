//! The life of an `AsyncClient`'s session, against every peer in every mode: `wait()`
//! returns whoever ends it; `disconnect()` returns once the server has a clean close,
//! `abort()` breaks the transport; sends while not connected fail; a second session gets
//! a new sid and none of the old one's messages; a second `connect` is refused; a connect
//! handler's error refuses the session; the actor API's `Close` answers late too.

use actix_engineio::{AsyncClient, Close, ConnectError, DisconnectReason, Payload, SendError};
use futures::future::join_all;

use super::common::{
    assert_alive, assert_clean_close, assert_server_closed, cases, connect_async, echo_async,
    is_broken_transport, label, options, peer_close, settle_async, short_heartbeat,
};
use super::record::{Record, Seen};
use crate::support::client::{assert_texts, texts, within, Client, Mode, DEADLINE};
use crate::support::peers::{all_peers, start_peers, PeerOptions};

const CLIENT: &str = "AsyncClient";

#[actix_rt::test]
async fn wait_returns_after_the_server_closes_in_every_mode() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    join_all(cases(&peers).into_iter().map(|(peer, mode)| async move {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (AsyncClient::new(), Record::default());
        record.handle_async(&client);
        let sid = connect_async(&client, peer, mode, &l).await;
        settle_async(&client, &record, mode, &l).await;
        client.send("close-me").await.expect("send close-me");
        let reason = within(
            format!("{l}: wait() after close-me"),
            DEADLINE,
            client.wait(),
        )
        .await;
        // Settled: over polling only if the mode is.
        assert_server_closed(peer.kind(), mode == Mode::Polling, &l, reason, &record);
        assert_eq!(client.sid(), None, "{l}: a sid after the end");
        peer_close(peer, &l, &sid).await;
    }))
    .await;
}

#[actix_rt::test]
async fn disconnect_returns_once_the_server_has_a_clean_close_and_wait_returns() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    join_all(cases(&peers).into_iter().map(|(peer, mode)| async move {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (AsyncClient::new(), Record::default());
        record.handle_async(&client);
        let sid = connect_async(&client, peer, mode, &l).await;
        settle_async(&client, &record, mode, &l).await;
        // A wait() already under way when the session ends.
        let waiting = client.clone();
        let waiting = actix_rt::spawn(async move { waiting.wait().await });
        within(format!("{l}: disconnect()"), DEADLINE, client.disconnect()).await;
        assert_clean_close(peer, &l, &sid).await;
        let reason = within(
            format!("{l}: wait() after disconnect()"),
            DEADLINE,
            client.wait(),
        )
        .await;
        assert_eq!(reason, Some(DisconnectReason::ClientDisconnect), "{l}");
        let early = within(format!("{l}: the earlier wait()"), DEADLINE, waiting).await;
        assert_eq!(
            early.expect("the task of the earlier wait()"),
            Some(DisconnectReason::ClientDisconnect),
            "{l}: the wait() started before disconnect()"
        );
        assert_eq!(
            record.disconnects(),
            [DisconnectReason::ClientDisconnect],
            "{l}"
        );
    }))
    .await;
}

/// Closed right after `connect` returns, while the upgrade to websocket is under way (the
/// default transports): the server must still get a clean close. Each peer is tried a
/// few times; the cases where the upgrade had completed already do not count.
#[actix_rt::test]
async fn disconnect_during_the_upgrade_is_a_clean_close() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        let mut during_upgrade = 0;
        for attempt in 1..=10 {
            let l = format!("{} (attempt {attempt})", label(peer, Mode::Upgrade, CLIENT));
            let (client, record) = (AsyncClient::new(), Record::default());
            record.handle_async(&client);
            let sid = connect_async(&client, peer, Mode::Upgrade, &l).await;
            let upgraded = record.all().iter().any(|s| matches!(s, Seen::Upgrade(_)));
            within(format!("{l}: disconnect()"), DEADLINE, client.disconnect()).await;
            if upgraded {
                continue;
            }
            during_upgrade += 1;
            assert_clean_close(peer, &l, &sid).await;
        }
        assert!(
            during_upgrade > 0,
            "[{} peer]: the upgrade always completed before connect() returned: nothing tested",
            peer.kind()
        );
    }
}

#[actix_rt::test]
async fn abort_is_a_client_disconnect_and_the_server_sees_a_broken_transport() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    join_all(cases(&peers).into_iter().map(|(peer, mode)| async move {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (AsyncClient::new(), Record::default());
        record.handle_async(&client);
        let sid = connect_async(&client, peer, mode, &l).await;
        settle_async(&client, &record, mode, &l).await;
        within(format!("{l}: abort()"), DEADLINE, client.abort()).await;
        let reason = within(
            format!("{l}: wait() after abort()"),
            DEADLINE,
            client.wait(),
        )
        .await;
        assert_eq!(reason, Some(DisconnectReason::ClientDisconnect), "{l}");
        assert_eq!(
            record.disconnects(),
            [DisconnectReason::ClientDisconnect],
            "{l}"
        );
        let logged = peer_close(peer, &l, &sid).await;
        let transport = if mode == Mode::Polling {
            "polling"
        } else {
            "websocket"
        };
        if let Some(broken) = is_broken_transport(peer.kind(), transport, &logged) {
            assert!(
                broken,
                "{l}: the peer logged the aborted session's close as {logged:?}, a clean close"
            );
        }
    }))
    .await;
}

#[actix_rt::test]
async fn send_while_not_connected_is_not_connected() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        let mode = Mode::WebSocket;
        let l = label(peer, mode, CLIENT);
        let (client, record) = (AsyncClient::new(), Record::default());
        record.handle_async(&client);
        let not_connected = |when: &str, client: AsyncClient| {
            let l = format!("{l} ({when})");
            async move {
                assert_eq!(client.sid(), None, "{l}");
                let sent = client.send("nobody hears this").await.unwrap_err();
                assert_eq!(sent.error, SendError::NotConnected, "{l}: send");
                assert_eq!(
                    sent.payload,
                    Payload::from("nobody hears this"),
                    "{l}: given back"
                );
                let sent = client.send_json(&serde_json::json!({"a": 1})).await;
                assert_eq!(
                    sent.map_err(|u| u.error),
                    Err(SendError::NotConnected),
                    "{l}: send_json"
                );
                let refused = client.try_send("nor this").await.unwrap_err();
                assert_eq!(refused.error, SendError::NotConnected, "{l}: try_send");
                assert_eq!(refused.payload, Payload::from("nor this"), "{l}: try_send");
            }
        };
        not_connected("before connect", client.clone()).await;
        connect_async(&client, peer, mode, &l).await;
        echo_async(&client, &record, &l, "while connected").await;
        client.disconnect().await;
        not_connected("after disconnect", client.clone()).await;
        connect_async(&client, peer, mode, &l).await;
        client.send("close-me").await.expect("send close-me");
        within(format!("{l}: wait()"), DEADLINE, client.wait()).await;
        not_connected("after the server closed", client.clone()).await;
        // Nothing sent while not connected came back.
        let unexpected: Vec<_> = record
            .messages()
            .into_iter()
            .filter(|p| p.as_text() != Some("while connected"))
            .collect();
        assert!(unexpected.is_empty(), "{l}: echoes of {unexpected:?}");
    }
}

#[actix_rt::test]
async fn reconnect_gives_a_new_sid_and_none_of_the_old_sessions_messages() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    join_all(cases(&peers).into_iter().map(|(peer, mode)| async move {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (AsyncClient::new(), Record::default());
        record.handle_async(&client);
        let old_sid = connect_async(&client, peer, mode, &l).await;
        settle_async(&client, &record, mode, &l).await;
        // Echoes still on their way when the session ends must not reach the next one.
        for text in texts("old-", 50) {
            client.send(text).await.expect("send to the old session");
        }
        within(format!("{l}: disconnect()"), DEADLINE, client.disconnect()).await;
        let new_sid = connect_async(&client, peer, mode, &l).await;
        assert_ne!(
            new_sid, old_sid,
            "{l}: the second session has the first one's sid"
        );
        let new = texts("new-", 20);
        for text in &new {
            client
                .send(text.as_str())
                .await
                .expect("send to the new session");
        }
        let second_connect = |seen: &[Seen]| {
            let at = seen
                .iter()
                .enumerate()
                .filter(|(_, s)| matches!(s, Seen::Connect(_)))
                .nth(1)
                .map(|(i, _)| i);
            at.map(|i| seen[i + 1..].to_vec())
        };
        let arrived = |seen: &[Seen]| {
            second_connect(seen).is_some_and(|after| {
                let n = after
                    .iter()
                    .filter(|s| matches!(s, Seen::Message(_)))
                    .count();
                n >= new.len() || after.iter().any(|s| matches!(s, Seen::Disconnect(_)))
            })
        };
        record.until(arrived).await;
        let all = record.all();
        let after = second_connect(&all)
            .unwrap_or_else(|| panic!("{l}: no second connect event; seen {}", record.summary()));
        let connects = record.connects();
        assert_eq!(
            connects.iter().map(|c| c.sid.as_str()).collect::<Vec<_>>(),
            [old_sid.as_str(), new_sid.as_str()],
            "{l}: the connect events"
        );
        let messages: Vec<Payload> = after
            .into_iter()
            .filter_map(|s| match s {
                Seen::Message(p) => Some(p),
                Seen::Disconnect(d) => panic!("{l}: the new session ended: {d:?}"),
                _ => None,
            })
            .collect();
        assert_texts(&format!("{l} (after the second connect)"), &messages, &new);
        client.disconnect().await;
    }))
    .await;
}

#[actix_rt::test]
async fn connect_while_connected_or_connecting_is_already_connected() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        let mode = Mode::Upgrade;
        let l = label(peer, mode, CLIENT);
        let (client, record) = (AsyncClient::new(), Record::default());
        record.handle_async(&client);
        // Two connects at once: one session, the other refused.
        let url = peer.url();
        let (a, b) = within(
            format!("{l}: two connects at once"),
            DEADLINE,
            futures::future::join(client.connect(&url), client.connect(&url)),
        )
        .await;
        let results = [a, b];
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err(ConnectError::AlreadyConnected)))
            .count();
        assert!(
            results.iter().filter(|r| r.is_ok()).count() == 1 && refused == 1,
            "{l}: two concurrent connects gave {results:?}"
        );
        let sid = client.sid().expect("a sid");
        // And again once connected.
        let again = client.connect_with(&url, options(Mode::WebSocket)).await;
        assert_eq!(again, Err(ConnectError::AlreadyConnected), "{l}");
        assert_eq!(client.sid(), Some(sid.clone()), "{l}: the sid changed");
        echo_async(&client, &record, &l, "still connected").await;
        assert_eq!(record.connects().len(), 1, "{l}: {}", record.summary());
        assert_alive(&record, &l);
        client.disconnect().await;
        let opened = peer
            .events()
            .into_iter()
            .filter(|e| matches!(e, crate::support::peers::PeerEvent::Connect { .. }))
            .count();
        assert_eq!(opened, 1, "{l}: the peer saw {opened} sessions open");
    }
}

#[actix_rt::test]
async fn connect_handler_error_refuses_and_the_server_logs_the_close() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    join_all(cases(&peers).into_iter().map(|(peer, mode)| async move {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (AsyncClient::new(), Record::default());
        record.handle_async(&client);
        for asynchronous in [false, true] {
            let l = format!("{l} (async handler: {asynchronous})");
            let handled = Record::default();
            let r = handled.clone();
            if asynchronous {
                client.on_connect(move |c| {
                    r.push(Seen::Connect(c));
                    async { Err::<(), _>("no") }
                });
            } else {
                client.on_connect(move |c| {
                    r.push(Seen::Connect(c));
                    Err::<(), _>("no")
                });
            }
            let refused = within(
                format!("{l}: connect"),
                DEADLINE,
                client.connect_with(&peer.url(), options(mode)),
            )
            .await;
            assert_eq!(refused, Err(ConnectError::Refused("no".into())), "{l}");
            assert_eq!(client.sid(), None, "{l}: a sid after a refused connect");
            let sent = client.send("after refusal").await;
            assert_eq!(
                sent.map_err(|u| u.error),
                Err(SendError::NotConnected),
                "{l}"
            );
            let sid = match handled.connects().as_slice() {
                [connect] => connect.sid.clone(),
                other => panic!("{l}: the connect handler ran for {other:?}"),
            };
            peer_close(peer, &l, &sid).await;
        }
        // A handler that accepts: the client connects as usual.
        let r = record.clone();
        client.on_connect(move |c| r.push(Seen::Connect(c)));
        connect_async(&client, peer, mode, &l).await;
        echo_async(&client, &record, &l, "accepted").await;
        assert_eq!(
            record.messages(),
            [Payload::from("accepted")],
            "{l}: a refused session's messages reached the handlers"
        );
        client.disconnect().await;
    }))
    .await;
}

#[actix_rt::test]
async fn actor_close_answers_once_the_server_has_a_clean_close() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    join_all(cases(&peers).into_iter().map(|(peer, mode)| async move {
        let l = label(peer, mode, "actor API");
        let c = Client::connect(l.clone(), mode.builder(&peer.url())).await;
        c.settle(mode).await;
        within(format!("{l}: send(Close)"), DEADLINE, c.session.send(Close))
            .await
            .unwrap_or_else(|e| panic!("{l}: Close: {e}"));
        assert_clean_close(peer, &l, &c.sid).await;
        assert_eq!(
            c.events.disconnect().await,
            DisconnectReason::ClientDisconnect,
            "{l}"
        );
    }))
    .await;
}
