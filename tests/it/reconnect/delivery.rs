//! Messages across an outage. With `hold_messages(true)` what is sent while reconnecting
//! waits in the send queue and goes out, in order, on the new session (1,000 messages, each
//! echoed once, in order); by default it is refused with `SendError::Reconnecting` and the
//! message given back. Messages taken for sending and never written when a connection
//! dies come back in an `Undelivered` event, or, held, go out on the next session.

use actix::Addr;
use actix_engineio::{
    AsyncClient, Client, Close, ConnectOptions, DisconnectReason, Event, Payload, Send, SendError,
    Session, Stats, TrySend, Unsent,
};
use futures::future::join_all;

use super::{
    assert_reconnected, echo, events_of, is_transport_error, messages, policy, short_heartbeat,
    summary, Log,
};
use crate::support::client::{assert_texts, texts, within, Mode, DEADLINE};
use crate::support::fault_proxy::FaultProxy;
use crate::support::peers::{all_peers, start_peers, Peer};

const OUTAGE_MESSAGES: usize = 1000;

async fn connect(
    l: &str,
    mode: Mode,
    proxy: &FaultProxy,
    log: &Log,
    hold: bool,
) -> (Addr<Session>, String) {
    let builder = mode
        .builder(&proxy.url())
        .reconnect(policy().hold_messages(hold));
    let session = within(l, DEADLINE, log.subscribe(builder).connect())
        .await
        .unwrap_or_else(|e| panic!("{l}: connect: {e}"));
    (session, log.nth_connect(l, 1).await.sid)
}

/// The network is down (connections refused) while 1,000 messages are sent, each with
/// `send`: they wait in the queue (its stats say so), their answers come once the new
/// session has them, and the server echoes each once, in order, on the new session.
async fn held_across_an_outage(peer: &Peer, mode: Mode) {
    let l = format!("[{} peer, {mode}, held across an outage]", peer.kind());
    let proxy = FaultProxy::start(peer.port());
    let log = Log::default();
    let (session, old_sid) = connect(&l, mode, &proxy, &log, true).await;
    echo(&session, &log, &l, "before").await;

    proxy.refuse();
    let reason = log.nth_disconnect(&l, 1).await;
    assert!(is_transport_error(&reason), "{l}: ended with {reason:?}");
    let outage = texts("held-", OUTAGE_MESSAGES);
    // Each request is in the mailbox, in order, once made.
    let answers: Vec<_> = outage
        .iter()
        .map(|text| session.send(Send::text(text.as_str())))
        .collect();
    let stats = session.send(Stats).await.unwrap();
    assert_eq!(stats.queued_messages, OUTAGE_MESSAGES, "{l}: {stats:?}");
    assert_eq!(log.connects().len(), 1, "{l}: the network is down");
    proxy.accept_again();

    for (i, answer) in join_all(answers).await.into_iter().enumerate() {
        match answer {
            Ok(Ok(())) => {}
            other => panic!("{l}: held message {i} answered {other:?}"),
        }
    }
    log.nth_connect(&l, 2).await;
    let (_, connect) = assert_reconnected(&l, &log.all(), &old_sid);
    let seen = log
        .until(&l, "every held message's echo", |e| {
            messages(&events_of(e, &connect.sid)).len() >= OUTAGE_MESSAGES
        })
        .await;
    assert_texts(&l, &messages(&events_of(&seen, &connect.sid)), &outage);
    echo(&session, &log, &l, "after").await;
    let all: Vec<String> = log
        .messages()
        .iter()
        .map(|p| p.as_text().unwrap_or_default().to_owned())
        .collect();
    let expected: Vec<String> = std::iter::once("before".to_owned())
        .chain(outage)
        .chain(std::iter::once("after".to_owned()))
        .collect();
    assert_texts(&l, &log.messages(), &expected);
    assert_eq!(all.len(), OUTAGE_MESSAGES + 2, "{l}");
    assert!(log.undelivered().is_empty(), "{l}: held messages came back");
    within(&l, DEADLINE, session.send(Close)).await.unwrap();
}

#[actix_rt::test]
async fn held_1000_messages_across_an_outage_arrive_once_each_in_order_over_websocket() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        held_across_an_outage(peer, Mode::WebSocket).await;
    }
}

#[actix_rt::test]
async fn held_1000_messages_across_an_outage_arrive_once_each_in_order_over_polling() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        held_across_an_outage(peer, Mode::Polling).await;
    }
}

/// By default, each of 1,000 messages sent during the outage (`Send` and `TrySend`) is
/// refused at once with `SendError::Reconnecting` and given back as it was; none reaches
/// the server once the session is back.
#[actix_rt::test]
async fn by_default_sends_while_reconnecting_are_refused_with_the_payload_back() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        for mode in [Mode::WebSocket, Mode::Polling] {
            let l = format!("[{} peer, {mode}, refused while reconnecting]", peer.kind());
            let proxy = FaultProxy::start(peer.port());
            let log = Log::default();
            let (session, old_sid) = connect(&l, mode, &proxy, &log, false).await;
            echo(&session, &log, &l, "before").await;

            proxy.refuse();
            log.nth_disconnect(&l, 1).await;
            for i in 0..OUTAGE_MESSAGES {
                let payload = if i % 2 == 0 {
                    Payload::from(format!("refused-{i}"))
                } else {
                    Payload::from(vec![i as u8, 0xff, 0x00])
                };
                let request = if i % 3 == 0 {
                    session.send(TrySend(payload.clone())).await
                } else {
                    session.send(Send(payload.clone())).await
                };
                match request {
                    Ok(Err(Unsent {
                        error: SendError::Reconnecting,
                        payload: back,
                    })) if back == payload => {}
                    other => panic!("{l}: message {i} answered {other:?}"),
                }
            }
            let stats = session.send(Stats).await.unwrap();
            assert_eq!(stats.queued_messages, 0, "{l}: {stats:?}");
            proxy.accept_again();
            log.nth_connect(&l, 2).await;
            let (_, connect) = assert_reconnected(&l, &log.all(), &old_sid);
            echo(&session, &log, &l, "after").await;
            let after = messages(&events_of(&log.all(), &connect.sid));
            assert_eq!(
                after,
                [Payload::from("after")],
                "{l}: a refused message was sent"
            );
            within(&l, DEADLINE, session.send(Close)).await.unwrap();
        }
    }
}

/// Stalls the network, then sends 50 messages, each answered `Ok` (the send buffer has
/// room): over polling the first POST hangs and the others wait in the transport.
async fn send_into_a_stall(l: &str, session: &Addr<Session>, proxy: &FaultProxy) -> Vec<String> {
    proxy.stall();
    let sent = texts("stalled-", 50);
    for text in &sent {
        match session.send(Send::text(text.as_str())).await {
            Ok(Ok(())) => {}
            other => panic!("{l}: {text} answered {other:?}"),
        }
    }
    sent
}

/// Over polling, the network stalls (the proxy holds every byte) while 50 messages are
/// sent: the first POST hangs, the others wait in the transport. When the connection dies,
/// what was never written comes back in one `Undelivered`, in order (a suffix of what was
/// sent), after the `Disconnect`; none of it reaches the server later. With
/// `hold_messages(true)` the same messages go out on the next session instead, in order,
/// each once, before what was sent while reconnecting, and nothing comes back.
#[actix_rt::test]
async fn messages_never_written_come_back_or_are_resent_when_held() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        for hold in [false, true] {
            let l = format!(
                "[{} peer, polling only, undelivered, hold {hold}]",
                peer.kind()
            );
            let proxy = FaultProxy::start(peer.port());
            let log = Log::default();
            let (session, old_sid) = connect(&l, Mode::Polling, &proxy, &log, hold).await;
            echo(&session, &log, &l, "before").await;

            let sent = send_into_a_stall(&l, &session, &proxy).await;
            proxy.cut();
            log.nth_disconnect(&l, 1).await;
            // While no session is open (the attempts hang in the stalled proxy): held
            // behind what is resent, or refused.
            let during = texts("during-", 10);
            let answers: Vec<_> = during
                .iter()
                .map(|text| session.send(Send::text(text.as_str())))
                .collect();
            proxy.resume();
            log.nth_connect(&l, 2).await;
            let (reason, connect) = assert_reconnected(&l, &log.all(), &old_sid);
            assert!(is_transport_error(&reason), "{l}: ended with {reason:?}");
            for answer in join_all(answers).await {
                match answer.unwrap() {
                    Ok(()) if hold => {}
                    Err(Unsent {
                        error: SendError::Reconnecting,
                        ..
                    }) if !hold => {}
                    other => panic!("{l}: a send while reconnecting answered {other:?}"),
                }
            }
            // Sent after what is resent, so echoed last.
            session.send(Send::text("after")).await.unwrap().unwrap();
            let sid = connect.sid.clone();
            let seen = log
                .until(&l, "the echo of \"after\"", |e| {
                    messages(&events_of(e, &sid)).contains(&Payload::from("after"))
                })
                .await;
            let resent = messages(&events_of(&seen, &connect.sid));
            let given_back = log.undelivered();
            if hold {
                assert!(given_back.is_empty(), "{l}: seen:\n{}", summary(&seen));
                assert_eq!(resent.last(), Some(&Payload::from("after")), "{l}");
                let resent = &resent[..resent.len() - 1 - during.len()];
                assert!(resent.len() >= 34, "{l}: seen:\n{}", summary(&seen));
                let mut expected = sent[sent.len() - resent.len()..].to_vec();
                expected.extend(during);
                expected.push("after".into());
                assert_texts(&l, &messages(&events_of(&seen, &connect.sid)), &expected);
            } else {
                assert_eq!(
                    resent,
                    [Payload::from("after")],
                    "{l}: seen:\n{}",
                    summary(&seen)
                );
                assert!(given_back.len() >= 34, "{l}: seen:\n{}", summary(&seen));
                assert_texts(&l, &given_back, &sent[sent.len() - given_back.len()..]);
                let undelivered = seen
                    .iter()
                    .filter(|e| matches!(e, Event::Undelivered(_)))
                    .count();
                assert_eq!(undelivered, 1, "{l}: seen:\n{}", summary(&seen));
            }
            within(&l, DEADLINE, session.send(Close)).await.unwrap();
        }
    }
}

/// Over polling, the network stalls and stays stalled until the heartbeat runs out (no
/// error from the socket: the server just goes silent). The session ends with
/// `PingTimeout`, and the messages still waiting behind the POST that hangs come back in
/// one `Undelivered`, in order (a suffix of what was sent); none of them is ever echoed,
/// on the old session or the next.
#[actix_rt::test]
async fn messages_queued_when_the_heartbeat_runs_out_come_back() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        let l = format!("[{} peer, polling only, ping timeout]", peer.kind());
        let proxy = FaultProxy::start(peer.port());
        let log = Log::default();
        let (session, _) = connect(&l, Mode::Polling, &proxy, &log, false).await;
        echo(&session, &log, &l, "before").await;

        let sent = send_into_a_stall(&l, &session, &proxy).await;
        let reason = log.nth_disconnect(&l, 1).await;
        assert_eq!(reason, DisconnectReason::PingTimeout, "{l}");
        let seen = log
            .until(&l, "the messages given back", |e| {
                e.iter().any(|e| matches!(e, Event::Undelivered(_)))
            })
            .await;
        let given_back = log.undelivered();
        assert!(given_back.len() >= 34, "{l}: seen:\n{}", summary(&seen));
        assert_texts(&l, &given_back, &sent[sent.len() - given_back.len()..]);

        proxy.resume();
        log.nth_connect(&l, 2).await;
        echo(&session, &log, &l, "after").await;
        let echoed = messages(&log.all());
        for message in &given_back {
            assert!(
                !echoed.contains(message),
                "{l}: {message:?} was given back and also reached the server"
            );
        }
        within(&l, DEADLINE, session.send(Close)).await.unwrap();
    }
}

/// The same through the clients: messages never written when the connection died come back
/// to the `on_undelivered` handler, in order, after `on_disconnect` and before the new
/// session: `AsyncClient` here, `Client` below.
#[actix_rt::test]
async fn async_client_on_undelivered_gets_the_messages_never_written() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        let l = format!(
            "[{} peer, polling only, AsyncClient, undelivered]",
            peer.kind()
        );
        let proxy = FaultProxy::start(peer.port());
        let client = AsyncClient::builder().reconnect(policy()).build();
        let log = Log::default();
        log.handle_async(&client);
        let polling = ConnectOptions::new().transports(["polling"]);
        within(&l, DEADLINE, client.connect_with(&proxy.url(), polling))
            .await
            .unwrap();
        proxy.stall();
        let sent = texts("async-", 50);
        for text in &sent {
            client.send(text.as_str()).await.unwrap();
        }
        // Refused until the loss is seen: a cut alone may fall between two polls.
        proxy.refuse();
        proxy.resume();
        log.nth_disconnect(&l, 1).await;
        proxy.accept_again();
        log.nth_connect(&l, 2).await;
        assert_given_back(&l, &log, &sent);
        client.disconnect().await;
    }
}

#[test]
fn blocking_client_on_undelivered_gets_the_messages_never_written() {
    let peers = start_peers(&all_peers(), short_heartbeat());
    for peer in &peers {
        let l = format!("[{} peer, polling only, Client, undelivered]", peer.kind());
        let proxy = FaultProxy::start(peer.port());
        let client = Client::builder()
            .handle_sigint(false)
            .reconnect(policy())
            .build();
        let log = Log::default();
        log.handle_blocking(&client);
        let polling = ConnectOptions::new().transports(["polling"]);
        client.connect_with(&proxy.url(), polling).unwrap();
        proxy.stall();
        let sent = texts("blocking-", 50);
        for text in &sent {
            client.send(text.as_str()).unwrap();
        }
        // Refused until the loss is seen: a cut alone may fall between two polls.
        proxy.refuse();
        proxy.resume();
        log.until_blocking(&l, "the loss", |e| {
            e.iter().any(|e| matches!(e, Event::Disconnect(_)))
        });
        proxy.accept_again();
        log.until_blocking(&l, "a new session", |e| {
            e.iter().filter(|e| matches!(e, Event::Connect(_))).count() >= 2
        });
        assert_given_back(&l, &log, &sent);
        client.disconnect();
    }
}

/// One `Undelivered`, between the loss and the new session, holding a suffix of `sent`
/// (all but what the POST under way carried), in order.
fn assert_given_back(l: &str, log: &Log, sent: &[String]) {
    let seen = log.all();
    let lost = seen
        .iter()
        .position(|e| matches!(e, Event::Disconnect(_)))
        .unwrap_or_else(|| panic!("{l}: no Disconnect; seen:\n{}", summary(&seen)));
    let back = seen
        .iter()
        .position(|e| matches!(e, Event::Undelivered(_)))
        .unwrap_or_else(|| panic!("{l}: nothing given back; seen:\n{}", summary(&seen)));
    let Event::Undelivered(given_back) = &seen[back] else {
        unreachable!()
    };
    assert!(lost < back, "{l}: seen:\n{}", summary(&seen));
    assert!(
        seen[back..].iter().any(|e| matches!(e, Event::Connect(_))),
        "{l}: given back after the new session; seen:\n{}",
        summary(&seen)
    );
    assert!(given_back.len() >= 34, "{l}: seen:\n{}", summary(&seen));
    assert_texts(l, given_back, &sent[sent.len() - given_back.len()..]);
    assert_eq!(
        log.undelivered().len(),
        given_back.len(),
        "{l}: given back twice"
    );
}
