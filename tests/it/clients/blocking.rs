//! What the blocking `Client`'s handlers are promised, against every peer, from plain
//! test threads: they run one at a time in the order of the events (10,000 messages, in
//! order, each once); a handler that blocks its thread does not kill the session; a
//! panicking or failing handler is logged and the next events still arrive; JSON
//! round-trips; a background thread can send.

use std::sync::Arc;
use std::time::Duration;

use actix_engineio::{Client, Payload};

use super::async_client::{assert_one_session, json_samples, Note, Overlap};
use super::common::{
    assert_alive, capture_errors, cases, connect_blocking, echo_blocking, label, logged,
    logged_lines, settle_blocking, short_heartbeat, within_blocking,
};
use super::record::{Record, Seen};
use crate::support::client::{assert_texts, texts, Mode, ALL_MODES};
use crate::support::peers::{all_peers, peer_closed, start_peers, Peer, PeerOptions};

const CLIENT: &str = "Client";

/// A blocking client that leaves SIGINT alone (the test process's own).
pub fn client() -> Client {
    Client::builder().handle_sigint(false).build()
}

/// Runs `case` for each (peer, mode) on a thread of its own, all at once.
pub fn each_case(peers: &[Peer], modes: &[Mode], case: impl Fn(&Peer, Mode) + Sync) {
    std::thread::scope(|scope| {
        for (peer, mode) in cases(peers) {
            if modes.contains(&mode) {
                let case = &case;
                scope.spawn(move || case(peer, mode));
            }
        }
    });
}

#[test]
fn blocking_handlers_run_one_at_a_time_in_event_order_10000_messages_each_once() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    each_case(&peers, &[Mode::Upgrade], |peer, mode| {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (client(), Record::default());
        let overlap = Arc::new(Overlap::default());
        let handler = |record: Record, overlap: Arc<Overlap>| {
            move |seen: Seen| {
                overlap.enter();
                // Now and then long enough for a second handler thread to show up.
                if matches!(&seen, Seen::Message(p) if p.as_text().is_some_and(|t| t.ends_with("00")))
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
                record.push(seen);
                overlap.leave();
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
        connect_blocking(&client, peer, mode, &l);
        let sent = texts("m", 10_000);
        for text in &sent {
            client.send(text.as_str()).expect("send");
        }
        let got = record.messages_at_least_blocking(sent.len());
        assert_alive(&record, &l);
        assert_texts(&l, &got, &sent);
        client.disconnect();
        within_blocking(&l, "wait()", client.clone(), |c: Client| c.wait());
        assert_one_session(&l, &record, &sent);
        assert_eq!(overlap.most(), 1, "{l}: handlers ran at once");
    });
}

#[test]
fn slow_blocking_handler_does_not_kill_the_session() {
    // A ping every second: the handlers below block their thread 4.5 s in all.
    let peers = start_peers(&all_peers(), short_heartbeat());
    each_case(&peers, &ALL_MODES, |peer, mode| {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (client(), Record::default());
        record.handle_blocking(&client);
        let r = record.clone();
        client.on_message(move |p: Payload| {
            if p.as_text().is_some_and(|t| t.starts_with("slow")) {
                std::thread::sleep(Duration::from_millis(1500));
            }
            r.push(Seen::Message(p));
        });
        let sid = connect_blocking(&client, peer, mode, &l);
        let slow = texts("slow-", 3);
        for text in &slow {
            client.send(text.as_str()).expect("send");
        }
        let got = record.messages_at_least_blocking(slow.len());
        assert_alive(&record, &l);
        assert_texts(&l, &got, &slow);
        echo_blocking(&client, &record, &l, "after the slow handlers");
        if mode == Mode::Upgrade {
            settle_blocking(&client, &record, mode, &l);
        }
        assert_eq!(client.sid(), Some(sid.clone()), "{l}");
        assert_eq!(
            peer_closed(peer, &sid),
            None,
            "{l}: the peer closed the session"
        );
        client.disconnect();
    });
}

#[test]
fn blocking_panicking_or_failing_handler_is_logged_and_later_events_still_arrive() {
    capture_errors();
    let peers = start_peers(&all_peers(), PeerOptions::default());
    each_case(&peers, &ALL_MODES, |peer, mode| {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (client(), Record::default());
        record.handle_blocking(&client);
        let r = record.clone();
        let (panic, failure) = (
            format!("deliberate panic {l}"),
            format!("deliberate failure {l}"),
        );
        let (p2, f2) = (panic.clone(), failure.clone());
        client.on_message(move |p: Payload| {
            r.push(Seen::Message(p.clone()));
            match p.as_text() {
                Some("boom") => panic!("{p2}"),
                Some("fail") => Err(f2.clone()),
                _ => Ok(()),
            }
        });
        let sid = connect_blocking(&client, peer, mode, &l);
        let sent: Vec<String> = ["before", "boom", "fail", "after"].map(String::from).into();
        for text in &sent {
            client.send(text.as_str()).expect("send");
        }
        let got = record.messages_at_least_blocking(sent.len());
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
        echo_blocking(&client, &record, &l, "still up");
        assert_eq!(client.sid(), Some(sid.clone()), "{l}");
        assert_eq!(
            peer_closed(peer, &sid),
            None,
            "{l}: the peer closed the session"
        );
        client.disconnect();
    });
}

#[test]
fn blocking_send_json_round_trips_through_parse_json() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    each_case(&peers, &ALL_MODES, |peer, mode| {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (client(), Record::default());
        record.handle_blocking(&client);
        connect_blocking(&client, peer, mode, &l);
        let (note, value) = json_samples();
        client.send_json(&note).expect("send_json(note)");
        client.send_json(&value).expect("send_json(value)");
        let got = record.messages_at_least_blocking(2);
        assert_alive(&record, &l);
        assert_eq!(got.len(), 2, "{l}: {got:?}");
        let back: Note = got[0]
            .parse_json()
            .unwrap_or_else(|e| panic!("{l}: {e}: {:?}", got[0]));
        assert_eq!(back, note, "{l}");
        let back: serde_json::Value = got[1].parse_json().expect("parse_json(value)");
        assert_eq!(back, value, "{l}");
        client.disconnect();
    });
}

#[test]
fn blocking_background_task_sends_and_its_message_is_echoed() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    each_case(&peers, &[Mode::Upgrade], |peer, mode| {
        let l = label(peer, mode, CLIENT);
        let (client, record) = (client(), Record::default());
        record.handle_blocking(&client);
        connect_blocking(&client, peer, mode, &l);
        let task = client.start_background_task(
            |eio: Client| {
                eio.sleep(Duration::from_millis(20));
                eio.send("from the background")?;
                eio.send("twice")
            },
            client.clone(),
        );
        let result = task.join().expect("the background thread panicked");
        assert_eq!(result, Ok(()), "{l}: the background task");
        let got = record.messages_at_least_blocking(2);
        assert_texts(&l, &got, &["from the background".into(), "twice".into()]);
        client.disconnect();
    });
}
