//! The life of a blocking `Client`'s session, against every peer in every mode, from
//! plain test threads: `wait()` returns whoever ends it; `disconnect()` returns once the
//! server has a clean close, `abort()` breaks the transport; sends while not connected
//! fail; a second session gets a new sid and none of the old one's messages; a second
//! `connect` is refused; a connect handler's error refuses the session.

use actix_engineio::{Client, ConnectError, DisconnectReason, Payload, SendError};

use super::blocking::{client, each_case};
use super::common::{
    assert_alive, assert_clean_close_blocking, assert_server_closed, connect_blocking,
    echo_blocking, is_broken_transport, label, options, peer_close_blocking, settle_blocking,
    short_heartbeat, within_blocking,
};
use super::record::{Record, Seen};
use crate::support::client::{assert_texts, texts, Mode, ALL_MODES};
use crate::support::peers::{all_peers, start_peers, PeerEvent, PeerOptions};

const CLIENT: &str = "Client";

#[test]
fn blocking_wait_returns_after_the_server_closes_in_every_mode() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    each_case(&peers, &ALL_MODES, |peer, mode| {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (client(), Record::default());
        record.handle_blocking(&client);
        let sid = connect_blocking(&client, peer, mode, &l);
        settle_blocking(&client, &record, mode, &l);
        client.send("close-me").expect("send close-me");
        let reason = within_blocking(&l, "wait() after close-me", client.clone(), |c: Client| {
            c.wait()
        });
        // Settled: over polling only if the mode is.
        assert_server_closed(peer.kind(), mode == Mode::Polling, &l, reason, &record);
        assert_eq!(client.sid(), None, "{l}: a sid after the end");
        peer_close_blocking(peer, &l, &sid);
    });
}

#[test]
fn blocking_disconnect_returns_once_the_server_has_a_clean_close_and_wait_returns() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    each_case(&peers, &ALL_MODES, |peer, mode| {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (client(), Record::default());
        record.handle_blocking(&client);
        let sid = connect_blocking(&client, peer, mode, &l);
        settle_blocking(&client, &record, mode, &l);
        // A wait() already under way, on another thread, when the session ends.
        let waiting = client.clone();
        let waiting = std::thread::spawn(move || waiting.wait());
        let waiting = move || waiting.join().expect("the thread of the earlier wait()");
        within_blocking(&l, "disconnect()", client.clone(), |c: Client| {
            c.disconnect()
        });
        assert_clean_close_blocking(peer, &l, &sid);
        let reason = within_blocking(
            &l,
            "wait() after disconnect()",
            client.clone(),
            |c: Client| c.wait(),
        );
        assert_eq!(reason, Some(DisconnectReason::ClientDisconnect), "{l}");
        let early = within_blocking(&l, "the earlier wait()", (), |()| waiting());
        assert_eq!(
            early,
            Some(DisconnectReason::ClientDisconnect),
            "{l}: the wait() started before disconnect()"
        );
        assert_eq!(
            record.disconnects(),
            [DisconnectReason::ClientDisconnect],
            "{l}"
        );
    });
}

#[test]
fn blocking_abort_is_a_client_disconnect_and_the_server_sees_a_broken_transport() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    each_case(&peers, &ALL_MODES, |peer, mode| {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (client(), Record::default());
        record.handle_blocking(&client);
        let sid = connect_blocking(&client, peer, mode, &l);
        settle_blocking(&client, &record, mode, &l);
        within_blocking(&l, "abort()", client.clone(), |c: Client| c.abort());
        let reason = within_blocking(&l, "wait() after abort()", client.clone(), |c: Client| {
            c.wait()
        });
        assert_eq!(reason, Some(DisconnectReason::ClientDisconnect), "{l}");
        assert_eq!(
            record.disconnects(),
            [DisconnectReason::ClientDisconnect],
            "{l}"
        );
        let logged = peer_close_blocking(peer, &l, &sid);
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
    });
}

#[test]
fn blocking_send_while_not_connected_is_not_connected() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    each_case(&peers, &[Mode::Polling], |peer, mode| {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (client(), Record::default());
        record.handle_blocking(&client);
        let not_connected = |when: &str| {
            let l = format!("{l} ({when})");
            assert_eq!(client.sid(), None, "{l}");
            let sent = client.send("nobody hears this").unwrap_err();
            assert_eq!(sent.error, SendError::NotConnected, "{l}: send");
            assert_eq!(
                sent.payload,
                Payload::from("nobody hears this"),
                "{l}: given back"
            );
            let sent = client.send_json(&serde_json::json!({"a": 1}));
            assert_eq!(
                sent.map_err(|u| u.error),
                Err(SendError::NotConnected),
                "{l}: send_json"
            );
            let refused = client.try_send("nor this").unwrap_err();
            assert_eq!(refused.error, SendError::NotConnected, "{l}: try_send");
            assert_eq!(refused.payload, Payload::from("nor this"), "{l}: try_send");
        };
        not_connected("before connect");
        connect_blocking(&client, peer, mode, &l);
        echo_blocking(&client, &record, &l, "while connected");
        client.disconnect();
        not_connected("after disconnect");
        connect_blocking(&client, peer, mode, &l);
        client.send("close-me").expect("send close-me");
        within_blocking(&l, "wait()", client.clone(), |c: Client| c.wait());
        not_connected("after the server closed");
        let unexpected: Vec<_> = record
            .messages()
            .into_iter()
            .filter(|p| p.as_text() != Some("while connected"))
            .collect();
        assert!(unexpected.is_empty(), "{l}: echoes of {unexpected:?}");
    });
}

/// What the handlers saw after the second connect event, once it happened.
fn after_second_connect(seen: &[Seen]) -> Option<Vec<Seen>> {
    let mut connects = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s, Seen::Connect(_)));
    let (at, _) = connects.nth(1)?;
    Some(seen[at + 1..].to_vec())
}

#[test]
fn blocking_reconnect_gives_a_new_sid_and_none_of_the_old_sessions_messages() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    each_case(&peers, &ALL_MODES, |peer, mode| {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (client(), Record::default());
        record.handle_blocking(&client);
        let old_sid = connect_blocking(&client, peer, mode, &l);
        settle_blocking(&client, &record, mode, &l);
        for text in texts("old-", 50) {
            client.send(text).expect("send to the old session");
        }
        within_blocking(&l, "disconnect()", client.clone(), |c: Client| {
            c.disconnect()
        });
        let new_sid = connect_blocking(&client, peer, mode, &l);
        assert_ne!(
            new_sid, old_sid,
            "{l}: the second session has the first one's sid"
        );
        let new = texts("new-", 20);
        for text in &new {
            client.send(text.as_str()).expect("send to the new session");
        }
        record.until_blocking(|seen| {
            after_second_connect(seen).is_some_and(|after| {
                let n = after
                    .iter()
                    .filter(|s| matches!(s, Seen::Message(_)))
                    .count();
                n >= new.len() || after.iter().any(|s| matches!(s, Seen::Disconnect(_)))
            })
        });
        let after = after_second_connect(&record.all())
            .unwrap_or_else(|| panic!("{l}: no second connect event; seen {}", record.summary()));
        let sids: Vec<String> = record.connects().into_iter().map(|c| c.sid).collect();
        assert_eq!(sids, [old_sid, new_sid], "{l}: the connect events");
        let messages: Vec<Payload> = after
            .into_iter()
            .filter_map(|s| match s {
                Seen::Message(p) => Some(p),
                Seen::Disconnect(d) => panic!("{l}: the new session ended: {d:?}"),
                _ => None,
            })
            .collect();
        assert_texts(&format!("{l} (after the second connect)"), &messages, &new);
        client.disconnect();
    });
}

#[test]
fn blocking_connect_while_connected_or_connecting_is_already_connected() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    each_case(&peers, &[Mode::Upgrade], |peer, mode| {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (client(), Record::default());
        record.handle_blocking(&client);
        let url = peer.url();
        // Two connects at once, from two threads: one session, the other refused.
        let results: Vec<Result<(), ConnectError>> = std::thread::scope(|scope| {
            let both = [(); 2].map(|_| scope.spawn(|| client.connect(&url)));
            both.into_iter()
                .map(|h| h.join().expect("connect"))
                .collect()
        });
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err(ConnectError::AlreadyConnected)))
            .count();
        assert!(
            results.iter().filter(|r| r.is_ok()).count() == 1 && refused == 1,
            "{l}: two concurrent connects gave {results:?}"
        );
        let sid = client.sid().expect("a sid");
        let again = client.connect_with(&url, options(Mode::WebSocket));
        assert_eq!(again, Err(ConnectError::AlreadyConnected), "{l}");
        assert_eq!(client.sid(), Some(sid), "{l}: the sid changed");
        echo_blocking(&client, &record, &l, "still connected");
        assert_eq!(record.connects().len(), 1, "{l}: {}", record.summary());
        assert_alive(&record, &l);
        client.disconnect();
        let opened = peer
            .events()
            .into_iter()
            .filter(|e| matches!(e, PeerEvent::Connect { .. }))
            .count();
        assert_eq!(opened, 1, "{l}: the peer saw {opened} sessions open");
    });
}

#[test]
fn blocking_connect_handler_error_refuses_and_the_server_logs_the_close() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    each_case(&peers, &ALL_MODES, |peer, mode| {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (client(), Record::default());
        record.handle_blocking(&client);
        let handled = Record::default();
        let r = handled.clone();
        client.on_connect(move |c| {
            r.push(Seen::Connect(c));
            Err::<(), _>("no")
        });
        let refused = client.connect_with(&peer.url(), options(mode));
        assert_eq!(refused, Err(ConnectError::Refused("no".into())), "{l}");
        assert_eq!(client.sid(), None, "{l}: a sid after a refused connect");
        let sent = client.send("after refusal");
        assert_eq!(
            sent.map_err(|u| u.error),
            Err(SendError::NotConnected),
            "{l}"
        );
        let sid = match handled.connects().as_slice() {
            [connect] => connect.sid.clone(),
            other => panic!("{l}: the connect handler ran for {other:?}"),
        };
        peer_close_blocking(peer, &l, &sid);
        // A handler that accepts: the client connects as usual.
        let r = record.clone();
        client.on_connect(move |c| r.push(Seen::Connect(c)));
        connect_blocking(&client, peer, mode, &l);
        echo_blocking(&client, &record, &l, "accepted");
        assert_eq!(record.messages(), [Payload::from("accepted")], "{l}");
        client.disconnect();
    });
}
