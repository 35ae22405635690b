//! What an `AsyncClient`'s handlers are promised, against every peer: they run one at a
//! time in the order of the events (10,000 messages, in order, each once); a slow handler
//! does not kill the session; a panicking or failing handler is logged and the next
//! events still arrive; JSON round-trips; a background task can send; the event stream
//! gives the same events, after the handlers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_engineio::{AsyncClient, DisconnectReason, Event, Payload};
use futures::future::join_all;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::common::{
    assert_alive, capture_errors, cases, connect_async, echo_async, label, logged, logged_lines,
    settle_async, short_heartbeat,
};
use super::record::{Record, Seen};
use crate::support::client::{assert_texts, texts, within, Mode, DEADLINE};
use crate::support::peers::{all_peers, peer_closed, start_peers, PeerOptions};

const CLIENT: &str = "AsyncClient";

/// Counts the handlers running at once, and the most there ever were.
#[derive(Default)]
pub struct Overlap {
    running: AtomicUsize,
    most: AtomicUsize,
}

impl Overlap {
    pub fn enter(&self) {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
    }

    pub fn leave(&self) {
        self.running.fetch_sub(1, Ordering::SeqCst);
    }

    pub fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

/// Checks a whole session's record: one connect first, then `expected` in order (an
/// upgrade anywhere between), and one disconnect last.
pub fn assert_one_session(l: &str, record: &Record, expected: &[String]) {
    let all = record.all();
    assert!(
        matches!(all.first(), Some(Seen::Connect(_))),
        "{l}: the first event is not the connect: {:?}",
        all.first()
    );
    assert!(
        matches!(all.last(), Some(Seen::Disconnect(_))),
        "{l}: the last event is not the disconnect: {:?}",
        all.last()
    );
    assert_eq!(record.connects().len(), 1, "{l}: {}", record.summary());
    assert_eq!(record.disconnects().len(), 1, "{l}: {}", record.summary());
    assert_texts(l, &record.messages(), expected);
}

#[actix_rt::test]
async fn handlers_run_one_at_a_time_in_event_order_10000_messages_each_once() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    join_all(peers.iter().map(|peer| async move {
        let mode = Mode::Upgrade;
        let l = label(peer, mode, CLIENT);
        let (client, record) = (AsyncClient::new(), Record::default());
        let overlap = Arc::new(Overlap::default());
        // Every handler is async and now and then yields to the runtime mid-way, so a
        // dispatcher that ran two at once would be seen doing it.
        let handler = |record: Record, overlap: Arc<Overlap>| {
            let count = Arc::new(AtomicUsize::new(0));
            move |seen: Seen| {
                let (record, overlap) = (record.clone(), overlap.clone());
                let n = count.fetch_add(1, Ordering::SeqCst);
                async move {
                    overlap.enter();
                    if n.is_multiple_of(500) {
                        actix_rt::time::sleep(Duration::from_millis(2)).await;
                    } else {
                        tokio::task::yield_now().await;
                    }
                    record.push(seen);
                    overlap.leave();
                }
            }
        };
        let h = handler(record.clone(), overlap.clone());
        client.on_connect(move |c| h(Seen::Connect(c)));
        let h = handler(record.clone(), overlap.clone());
        client.on_message(move |p| h(Seen::Message(p)));
        let h = handler(record.clone(), overlap.clone());
        client.on_upgrade(move |u| h(Seen::Upgrade(u)));
        let h = handler(record.clone(), overlap.clone());
        client.on_disconnect(move |d| h(Seen::Disconnect(d)));
        connect_async(&client, peer, mode, &l).await;
        let sent = texts("m", 10_000);
        for text in &sent {
            client.send(text.as_str()).await.expect("send");
        }
        let got = record.messages_at_least(sent.len()).await;
        assert_alive(&record, &l);
        assert_texts(&l, &got, &sent);
        client.disconnect().await;
        within(format!("{l}: wait()"), DEADLINE, client.wait()).await;
        assert_one_session(&l, &record, &sent);
        assert_eq!(overlap.most(), 1, "{l}: handlers ran at once");
    }))
    .await;
}

#[actix_rt::test]
async fn slow_async_handler_does_not_kill_the_session() {
    // A ping every second: the handlers below take 4.5 s in all, while the session keeps
    // answering the server.
    let peers = start_peers(&all_peers(), short_heartbeat());
    join_all(cases(&peers).into_iter().map(|(peer, mode)| async move {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (AsyncClient::new(), Record::default());
        record.handle_async(&client);
        let r = record.clone();
        client.on_message(move |p: Payload| {
            let r = r.clone();
            async move {
                if p.as_text().is_some_and(|t| t.starts_with("slow")) {
                    actix_rt::time::sleep(Duration::from_millis(1500)).await;
                }
                r.push(Seen::Message(p));
            }
        });
        let sid = connect_async(&client, peer, mode, &l).await;
        let slow = texts("slow-", 3);
        for text in &slow {
            client.send(text.as_str()).await.expect("send");
        }
        let got = record.messages_at_least(slow.len()).await;
        assert_alive(&record, &l);
        assert_texts(&l, &got, &slow);
        echo_async(&client, &record, &l, "after the slow handlers").await;
        if mode == Mode::Upgrade {
            settle_async(&client, &record, mode, &l).await;
        }
        assert_eq!(client.sid(), Some(sid.clone()), "{l}");
        let closed = peer_closed(peer, &sid);
        assert_eq!(closed, None, "{l}: the peer closed the session");
        client.disconnect().await;
    }))
    .await;
}

#[actix_rt::test]
async fn panicking_or_failing_handler_is_logged_and_later_events_still_arrive() {
    capture_errors();
    let peers = start_peers(&all_peers(), PeerOptions::default());
    join_all(cases(&peers).into_iter().map(|(peer, mode)| async move {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (AsyncClient::new(), Record::default());
        record.handle_async(&client);
        let r = record.clone();
        let (panic, failure) = (
            format!("deliberate panic {l}"),
            format!("deliberate failure {l}"),
        );
        let (p2, f2) = (panic.clone(), failure.clone());
        client.on_message(move |p: Payload| {
            r.push(Seen::Message(p.clone()));
            let (panic, failure) = (p2.clone(), f2.clone());
            async move {
                match p.as_text() {
                    Some("boom") => panic!("{panic}"),
                    Some("fail") => Err(failure),
                    _ => Ok(()),
                }
            }
        });
        let sid = connect_async(&client, peer, mode, &l).await;
        let sent: Vec<String> = ["before", "boom", "fail", "after"].map(String::from).into();
        for text in &sent {
            client.send(text.as_str()).await.expect("send");
        }
        let got = record.messages_at_least(sent.len()).await;
        assert_alive(&record, &l);
        assert_texts(&l, &got, &sent);
        let seen = format!("{:?}", logged_lines(&l));
        let panicked = format!("message handler panicked: {panic}");
        assert!(
            logged(&panicked),
            "{l}: {panicked:?} was not logged: {seen}"
        );
        let failed = format!("message handler failed: {failure}");
        assert!(logged(&failed), "{l}: {failed:?} was not logged: {seen}");
        echo_async(&client, &record, &l, "still up").await;
        assert_eq!(client.sid(), Some(sid.clone()), "{l}");
        assert_eq!(
            peer_closed(peer, &sid),
            None,
            "{l}: the peer closed the session"
        );
        client.disconnect().await;
    }))
    .await;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    id: u64,
    text: String,
    tags: Vec<String>,
    ratio: f64,
    inner: Option<Box<Note>>,
}

/// A JSON object with escapes, non-ASCII text and nesting, as a struct and as a value.
pub fn json_samples() -> (Note, serde_json::Value) {
    let note = Note {
        id: 42,
        text: "quotes \" backslash \\ tab \t é ✓ 🚀".into(),
        tags: vec!["a".into(), String::new(), "{not: json}".into()],
        ratio: 0.25,
        inner: Some(Box::new(Note {
            id: 7,
            text: "inner".into(),
            tags: vec![],
            ratio: -1.5,
            inner: None,
        })),
    };
    let value = serde_json::json!({"response": "my response", "list": [1, 2.5, null, true], "nested": {"k": "v"}});
    (note, value)
}

#[actix_rt::test]
async fn send_json_round_trips_through_parse_json() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    join_all(cases(&peers).into_iter().map(|(peer, mode)| async move {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (AsyncClient::new(), Record::default());
        record.handle_async(&client);
        connect_async(&client, peer, mode, &l).await;
        let (note, value) = json_samples();
        client.send_json(&note).await.expect("send_json(note)");
        client.send_json(&value).await.expect("send_json(value)");
        let got = record.messages_at_least(2).await;
        assert_alive(&record, &l);
        assert_eq!(got.len(), 2, "{l}: {got:?}");
        let back: Note = got[0]
            .parse_json()
            .unwrap_or_else(|e| panic!("{l}: {e}: {:?}", got[0]));
        assert_eq!(back, note, "{l}");
        let back: serde_json::Value = got[1].parse_json().expect("parse_json(value)");
        assert_eq!(back, value, "{l}");
        client.disconnect().await;
    }))
    .await;
}

#[actix_rt::test]
async fn background_task_sends_and_its_message_is_echoed() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    join_all(peers.iter().map(|peer| async move {
        let mode = Mode::Upgrade;
        let l = label(peer, mode, CLIENT);
        let (client, record) = (AsyncClient::new(), Record::default());
        record.handle_async(&client);
        connect_async(&client, peer, mode, &l).await;
        let task = client.start_background_task(
            |eio: AsyncClient| async move {
                eio.sleep(Duration::from_millis(20)).await;
                eio.send("from the background").await?;
                eio.send("twice").await
            },
            client.clone(),
        );
        let result = within(format!("{l}: the background task"), DEADLINE, task).await;
        assert_eq!(result, Ok(Ok(())), "{l}: the background task");
        let got = record.messages_at_least(2).await;
        assert_texts(&l, &got, &["from the background".into(), "twice".into()]);
        client.disconnect().await;
    }))
    .await;
}

#[actix_rt::test]
async fn event_stream_gives_every_event_in_order_after_the_handlers() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    join_all(cases(&peers).into_iter().map(|(peer, mode)| async move {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (AsyncClient::new(), Record::default());
        record.handle_async(&client);
        let mut events = client.events();
        let sid = connect_async(&client, peer, mode, &l).await;
        let sent = texts("stream-", 5);
        for text in &sent {
            client.send(text.as_str()).await.expect("send");
        }
        let mut streamed = Vec::new();
        let read = async {
            while let Some(event) = events.next().await {
                // Each event reaches the handlers first.
                let handled = record.all().len();
                let done = matches!(event, Event::Disconnect(_));
                streamed.push((event, handled));
                if streamed
                    .iter()
                    .filter(|(e, _)| matches!(e, Event::Message(_)))
                    .count()
                    == sent.len()
                    && !done
                    && client.sid().is_some()
                {
                    client.disconnect().await;
                }
                if done {
                    break;
                }
            }
        };
        within(format!("{l}: the event stream"), DEADLINE, read).await;
        let kinds: Vec<&Event> = streamed
            .iter()
            .map(|(e, _)| e)
            .filter(|e| !matches!(e, Event::Upgrade(_)))
            .collect();
        let mut expected = vec![Event::Connect(record.connects()[0].clone())];
        expected.extend(
            sent.iter()
                .map(|t| Event::Message(Payload::from(t.as_str()))),
        );
        expected.push(Event::Disconnect(DisconnectReason::ClientDisconnect));
        assert_eq!(kinds, expected.iter().collect::<Vec<_>>(), "{l}");
        assert_eq!(record.connects()[0].sid, sid, "{l}");
        for (i, (event, handled)) in streamed.iter().enumerate() {
            assert!(
                *handled > i,
                "{l}: {event:?} was streamed before its handler ran ({handled} handled)"
            );
        }
    }))
    .await;
}
