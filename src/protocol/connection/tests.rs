//! Unit tests of the state machine: every input, and the outputs it must give.

use std::time::Duration;

use super::*;
use crate::protocol::{TransportError, UpgradeError};
use TransportKind::{Polling, WebSocket};

pub(super) fn handshake(upgrades: &[&str]) -> Handshake {
    Handshake {
        sid: "sid1".into(),
        upgrades: upgrades.iter().map(|s| s.to_string()).collect(),
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        max_payload: 100,
        max_payload_announced: true,
    }
}

pub(super) fn drain(conn: &mut Connection) -> Vec<Output> {
    std::iter::from_fn(|| conn.poll_output()).collect()
}

pub(super) fn events(outputs: &[Output]) -> Vec<Event> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn sent(outputs: &[Output]) -> Vec<(TransportKind, Packet)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Transmit(t, p) => Some((*t, p.clone())),
            _ => None,
        })
        .collect()
}

fn websocket_session() -> Connection {
    let mut conn = Connection::new(handshake(&[]), WebSocket, true);
    drain(&mut conn);
    conn
}

/// A polling session whose probe websocket is open and `2probe` sent.
fn probing_session() -> Connection {
    let mut conn = Connection::new(handshake(&["websocket"]), Polling, true);
    drain(&mut conn);
    conn.handle_probe_opened();
    assert_eq!(sent(&drain(&mut conn)), [(WebSocket, Packet::probe())]);
    conn
}

#[test]
fn websocket_session_opens_and_arms_the_heartbeat() {
    let mut conn = Connection::new(handshake(&[]), WebSocket, true);
    assert_eq!(
        drain(&mut conn),
        [
            Output::Event(Event::Connected {
                sid: "sid1".into(),
                transport: WebSocket
            }),
            Output::ArmHeartbeat(Duration::from_millis(500)),
        ]
    );
}

#[test]
fn ping_is_answered_at_once_and_rearms() {
    let mut conn = websocket_session();
    conn.handle_packet(WebSocket, Packet::Ping("x".into()));
    assert_eq!(
        drain(&mut conn),
        [
            Output::Transmit(WebSocket, Packet::Pong("x".into())),
            Output::ArmHeartbeat(Duration::from_millis(500)),
        ]
    );
}

#[test]
fn messages_are_delivered_in_order() {
    let mut conn = websocket_session();
    for text in ["a", "", "c"] {
        conn.handle_packet(WebSocket, Packet::text(text));
    }
    conn.handle_packet(WebSocket, Packet::Noop);
    assert_eq!(
        events(&drain(&mut conn)),
        ["a", "", "c"].map(|t| Event::Message(t.into()))
    );
}

#[test]
fn server_close_packet_ends_the_session_once() {
    let mut conn = websocket_session();
    conn.handle_packet(WebSocket, Packet::Close);
    let out = drain(&mut conn);
    assert!(out.contains(&Output::CloseTransport(WebSocket)));
    assert_eq!(
        events(&out),
        [Event::Disconnected(DisconnectReason::ServerDisconnect)]
    );
    conn.handle_transport_end(WebSocket, TransportEnd::ServerClosed);
    conn.handle_packet(WebSocket, Packet::text("late"));
    conn.handle_ping_timeout();
    assert_eq!(drain(&mut conn), []);
    assert_eq!(conn.send("x".into()), Err(SendError::Closed));
    assert!(conn.is_closed());
}

#[test]
fn close_reasons() {
    let cases = [
        (
            TransportEnd::ServerClosed,
            DisconnectReason::ServerDisconnect,
        ),
        (
            TransportEnd::Error(TransportError::Timeout),
            DisconnectReason::TransportError(TransportError::Timeout),
        ),
    ];
    for (end, reason) in cases {
        let mut conn = websocket_session();
        conn.handle_transport_end(WebSocket, end);
        assert_eq!(events(&drain(&mut conn)), [Event::Disconnected(reason)]);
    }
    let mut conn = websocket_session();
    conn.handle_ping_timeout();
    assert_eq!(
        events(&drain(&mut conn)),
        [Event::Disconnected(DisconnectReason::PingTimeout)]
    );
}

#[test]
fn client_close_ends_once_the_transport_has_written_it() {
    let mut conn = websocket_session();
    conn.close();
    assert_eq!(
        drain(&mut conn),
        [
            Output::Transmit(WebSocket, Packet::Close),
            Output::CloseTransport(WebSocket),
        ]
    );
    assert!(conn.is_closed() && !conn.is_finished());
    conn.close();
    conn.handle_packet(WebSocket, Packet::text("late"));
    assert_eq!(drain(&mut conn), []);
    conn.handle_transport_end(WebSocket, TransportEnd::Closed);
    assert_eq!(
        drain(&mut conn),
        [Output::Event(Event::Disconnected(
            DisconnectReason::ClientDisconnect
        ))]
    );
    assert!(conn.is_finished());
}

#[test]
fn client_close_ends_even_if_the_transport_fails_or_the_server_goes_silent() {
    let mut conn = websocket_session();
    conn.close();
    drain(&mut conn);
    conn.handle_transport_end(WebSocket, TransportEnd::Error(TransportError::Timeout));
    assert_eq!(
        events(&drain(&mut conn)),
        [Event::Disconnected(DisconnectReason::ClientDisconnect)]
    );

    let mut conn = websocket_session();
    conn.close();
    drain(&mut conn);
    conn.handle_ping_timeout();
    let out = drain(&mut conn);
    assert!(out.contains(&Output::AbortTransport(WebSocket)));
    assert_eq!(
        events(&out),
        [Event::Disconnected(DisconnectReason::ClientDisconnect)]
    );
    assert!(conn.is_finished());
}

#[test]
fn abort_stops_the_transports_without_a_close_packet() {
    let mut conn = probing_session();
    conn.abort();
    let out = drain(&mut conn);
    assert_eq!(sent(&out), []);
    assert!(out.contains(&Output::AbortTransport(Polling)));
    assert!(out.contains(&Output::AbortTransport(WebSocket)));
    assert_eq!(
        events(&out),
        [Event::Disconnected(DisconnectReason::ClientDisconnect)]
    );
    conn.abort();
    conn.close();
    assert_eq!(drain(&mut conn), []);
}

#[test]
fn send_checks_max_payload_per_transport() {
    let mut conn = websocket_session();
    assert_eq!(conn.send(vec![0u8; 100].into()), Ok(()));
    assert_eq!(
        conn.send(vec![0u8; 101].into()),
        Err(SendError::TooLarge {
            size: 101,
            max_payload: 100
        })
    );
    let mut conn = Connection::new(handshake(&[]), Polling, true);
    // 75 bytes are 1 + 100 in base64 over polling.
    assert_eq!(
        conn.send(vec![0u8; 75].into()),
        Err(SendError::TooLarge {
            size: 101,
            max_payload: 100
        })
    );
}

#[test]
fn record_separator_is_refused_over_polling_only() {
    let mut conn = Connection::new(handshake(&[]), Polling, true);
    assert_eq!(conn.send("a\x1eb".into()), Err(SendError::RecordSeparator));
    let mut conn = websocket_session();
    assert_eq!(conn.send("a\x1eb".into()), Ok(()));
}

#[test]
fn polling_without_upgrade_starts_receiving_at_once() {
    for (upgrades, upgrade) in [(&["websocket"][..], false), (&[][..], true)] {
        let mut conn = Connection::new(handshake(upgrades), Polling, upgrade);
        let out = drain(&mut conn);
        assert!(out.contains(&Output::ResumePolling));
        assert!(!out.contains(&Output::OpenProbe));
    }
}

#[test]
fn upgrade_probes_before_any_poll() {
    let mut conn = Connection::new(handshake(&["websocket"]), Polling, true);
    let out = drain(&mut conn);
    assert!(out.contains(&Output::OpenProbe));
    assert!(!out.contains(&Output::ResumePolling));
    assert!(out.contains(&Output::StartTimer(Timer::ProbeGrace, PROBE_GRACE)));
}

#[test]
fn successful_upgrade_sends_upgrade_then_everything_pending_in_order() {
    let mut conn = probing_session();
    conn.send("before".into()).unwrap();
    conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
    let out = drain(&mut conn);
    assert_eq!(sent(&out), [(Polling, Packet::text("before"))]);
    assert_eq!(out.last(), Some(&Output::PausePolling));

    conn.send("during".into()).unwrap();
    conn.handle_packet(Polling, Packet::Ping("".into()));
    conn.handle_packet(Polling, Packet::text("from server"));
    let out = drain(&mut conn);
    assert_eq!(sent(&out), []);
    assert_eq!(events(&out), [Event::Message("from server".into())]);

    conn.handle_polling_paused(vec![Packet::text("unsent")]);
    let out = drain(&mut conn);
    assert_eq!(
        sent(&out),
        [
            (WebSocket, Packet::Upgrade),
            (WebSocket, Packet::text("unsent")),
            (WebSocket, Packet::text("during")),
            (WebSocket, Packet::Pong("".into())),
        ]
    );
    assert!(out.contains(&Output::CloseTransport(Polling)));
    assert_eq!(events(&out), [Event::Upgraded]);
    assert_eq!(conn.transport(), WebSocket);

    conn.send("after".into()).unwrap();
    assert_eq!(
        sent(&drain(&mut conn)),
        [(WebSocket, Packet::text("after"))]
    );
    // A late poll answer on the old transport changes nothing.
    conn.handle_packet(Polling, Packet::text("stale"));
    conn.handle_transport_end(Polling, TransportEnd::Error(TransportError::Timeout));
    assert_eq!(drain(&mut conn), []);
}

/// A server gone silent is not written to: no close packet, the transports are aborted
/// (the I/O layer gives back what they had not started to write).
#[test]
fn ping_timeout_aborts_the_transports_without_a_close_packet() {
    let mut conn = probing_session();
    conn.send("queued".into()).unwrap();
    drain(&mut conn);
    conn.handle_ping_timeout();
    let out = drain(&mut conn);
    assert_eq!(sent(&out), []);
    assert!(out.contains(&Output::AbortTransport(Polling)), "{out:?}");
    assert!(out.contains(&Output::AbortTransport(WebSocket)), "{out:?}");
    assert!(!out.iter().any(|o| matches!(o, Output::CloseTransport(_))));
    assert_eq!(
        events(&out),
        [Event::Disconnected(DisconnectReason::PingTimeout)]
    );
}

/// A handshake body may carry the close packet right after the open packet: the
/// session ends before its first poll or probe, which must then never start.
#[test]
fn close_in_the_handshake_body_starts_no_poll_and_no_probe() {
    for upgrade in [false, true] {
        let mut conn = Connection::new(handshake(&["websocket"]), Polling, upgrade);
        conn.handle_packet(Polling, Packet::Close);
        let out = drain(&mut conn);
        assert!(
            !out.iter()
                .any(|o| matches!(o, Output::ResumePolling | Output::OpenProbe)),
            "upgrade {upgrade}: {out:?}"
        );
        assert!(out.contains(&Output::CloseTransport(Polling)), "{out:?}");
        assert_eq!(
            events(&out).last(),
            Some(&Event::Disconnected(DisconnectReason::ServerDisconnect))
        );
    }
}

/// Found by the `connection` fuzz target: polling's pause report may come after the
/// session ended (the heartbeat ran out meanwhile); its messages were accepted before
/// those held during the pause, and must come back first.
#[test]
fn unsent_reported_after_the_end_come_back_before_the_held_ones() {
    let mut conn = probing_session();
    conn.send("queued on polling".into()).unwrap();
    conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
    drain(&mut conn);
    conn.send("held".into()).unwrap();
    conn.handle_ping_timeout();
    drain(&mut conn);
    assert!(conn.is_finished());

    conn.handle_polling_paused(vec![Packet::text("queued on polling")]);
    assert_eq!(drain(&mut conn), []);
    assert_eq!(
        conn.take_undelivered(),
        [Payload::from("queued on polling"), Payload::from("held")]
    );
}

#[test]
fn wrong_probe_answer_keeps_polling() {
    let mut conn = probing_session();
    conn.handle_packet(WebSocket, Packet::Noop);
    conn.handle_packet(WebSocket, Packet::text("nope"));
    let out = drain(&mut conn);
    assert_eq!(
        events(&out),
        [Event::UpgradeFailed(UpgradeError::UnexpectedAnswer(
            "4nope".into()
        ))]
    );
    assert!(out.contains(&Output::CloseTransport(WebSocket)));
    assert!(out.contains(&Output::ResumePolling));
    conn.send("x".into()).unwrap();
    assert_eq!(sent(&drain(&mut conn)), [(Polling, Packet::text("x"))]);
}

#[test]
fn probe_transport_failure_keeps_polling() {
    let mut conn = Connection::new(handshake(&["websocket"]), Polling, true);
    drain(&mut conn);
    let refused = TransportError::Connect("refused".into());
    conn.handle_transport_end(WebSocket, TransportEnd::Error(refused.clone()));
    let out = drain(&mut conn);
    assert_eq!(
        events(&out),
        [Event::UpgradeFailed(UpgradeError::Transport(refused))]
    );
    assert!(out.contains(&Output::ResumePolling));
    assert!(!conn.is_closed());
}

#[test]
fn slow_probe_starts_polling_then_pauses_it() {
    let mut conn = probing_session();
    conn.handle_timer(Timer::ProbeGrace);
    assert_eq!(drain(&mut conn), [Output::ResumePolling]);
    conn.handle_timer(Timer::ProbeGrace);
    assert_eq!(drain(&mut conn), []);
    conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
    assert_eq!(drain(&mut conn), [Output::PausePolling]);
    conn.handle_polling_paused(vec![]);
    assert_eq!(events(&drain(&mut conn)), [Event::Upgraded]);
    // The timeout after success does nothing.
    conn.handle_timer(Timer::ProbeTimeout);
    assert_eq!(drain(&mut conn), []);
}

#[test]
fn probe_timeout_fails_the_upgrade() {
    let mut conn = probing_session();
    conn.handle_timer(Timer::ProbeTimeout);
    assert_eq!(
        events(&drain(&mut conn)),
        [Event::UpgradeFailed(UpgradeError::Timeout)]
    );
}

#[test]
fn websocket_lost_while_pausing_sends_everything_over_polling_in_order() {
    let mut conn = probing_session();
    conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
    conn.send("held".into()).unwrap();
    conn.handle_transport_end(WebSocket, TransportEnd::ServerClosed);
    let out = drain(&mut conn);
    assert!(matches!(
        events(&out)[..],
        [Event::UpgradeFailed(UpgradeError::Transport(_))]
    ));
    assert_eq!(sent(&out), []);
    conn.handle_polling_paused(vec![Packet::text("unsent")]);
    let out = drain(&mut conn);
    assert_eq!(
        sent(&out),
        [
            (Polling, Packet::text("unsent")),
            (Polling, Packet::text("held"))
        ]
    );
    assert_eq!(out.last(), Some(&Output::ResumePolling));
    assert_eq!(conn.transport(), Polling);
}

#[test]
fn client_close_while_pausing_waits_for_polling_then_sends_in_order() {
    let mut conn = probing_session();
    conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
    conn.send("held".into()).unwrap();
    drain(&mut conn);
    conn.close();
    let out = drain(&mut conn);
    assert_eq!(events(&out), [], "the close has not reached the server yet");
    assert_eq!(
        sent(&out),
        [],
        "nothing may overtake what polling hands back"
    );
    assert!(
        !out.contains(&Output::CloseTransport(WebSocket)),
        "the probe stays until the server has the close"
    );
    assert!(conn.is_closed() && !conn.is_finished());
    assert_eq!(conn.send("late".into()), Err(SendError::Closed));

    conn.handle_polling_paused(vec![Packet::text("unsent")]);
    let out = drain(&mut conn);
    assert_eq!(
        sent(&out),
        [
            (Polling, Packet::text("unsent")),
            (Polling, Packet::text("held")),
            (Polling, Packet::Close)
        ]
    );
    assert_eq!(out.last(), Some(&Output::CloseTransport(Polling)));
    assert_eq!(events(&out), []);
    assert!(!conn.is_finished());
    conn.handle_transport_end(Polling, TransportEnd::Closed);
    assert_eq!(
        drain(&mut conn),
        [
            Output::CloseTransport(WebSocket),
            Output::Event(Event::Disconnected(DisconnectReason::ClientDisconnect))
        ]
    );
    assert!(conn.is_finished());
}

#[test]
fn client_close_while_probing_keeps_the_probe_until_the_close_is_written() {
    let mut conn = probing_session();
    conn.close();
    let out = drain(&mut conn);
    assert_eq!(
        out,
        [
            Output::Transmit(Polling, Packet::Close),
            Output::CloseTransport(Polling)
        ]
    );
    conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
    assert_eq!(drain(&mut conn), [], "a late probe answer changes nothing");
    conn.handle_transport_end(Polling, TransportEnd::Closed);
    assert_eq!(
        drain(&mut conn),
        [
            Output::CloseTransport(WebSocket),
            Output::Event(Event::Disconnected(DisconnectReason::ClientDisconnect))
        ]
    );
}

#[test]
fn client_close_while_pausing_finishes_if_polling_dies() {
    let mut conn = probing_session();
    conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
    conn.close();
    drain(&mut conn);
    conn.handle_transport_end(Polling, TransportEnd::Error(TransportError::Timeout));
    assert!(conn.is_finished());
    assert_eq!(
        events(&drain(&mut conn)),
        [Event::Disconnected(DisconnectReason::ClientDisconnect)]
    );
}

#[test]
fn held_messages_count_as_unwritten() {
    let mut conn = probing_session();
    conn.handle_written(WebSocket, 6);
    conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
    conn.send("12345".into()).unwrap();
    assert_eq!(conn.unwritten(), 6);
    conn.handle_polling_paused(vec![]);
    // Now `5` and the message, over websocket.
    assert_eq!(conn.unwritten(), 1 + 6);
}

#[test]
fn upgrade_failure_is_reported_once() {
    let mut conn = probing_session();
    conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
    conn.handle_transport_end(WebSocket, TransportEnd::ServerClosed);
    conn.handle_transport_end(WebSocket, TransportEnd::ServerClosed);
    let failures = events(&drain(&mut conn))
        .into_iter()
        .filter(|e| matches!(e, Event::UpgradeFailed(_)))
        .count();
    assert_eq!(failures, 1);
}

#[test]
fn unwritten_bytes_follow_transmits_and_writes() {
    let mut conn = websocket_session();
    conn.send("12345".into()).unwrap();
    conn.send(vec![0u8; 10].into()).unwrap();
    assert_eq!(conn.unwritten(), 6 + 10);
    conn.handle_written(WebSocket, 6);
    assert_eq!(conn.unwritten(), 10);
    conn.handle_written(WebSocket, 100);
    assert_eq!(conn.unwritten(), 0);
}

#[test]
fn unwritten_bytes_move_with_the_upgrade() {
    let mut conn = probing_session();
    // 2probe went to the probe socket.
    assert_eq!(conn.unwritten(), 6);
    conn.handle_written(WebSocket, 6);
    conn.send(vec![0u8; 3].into()).unwrap();
    // Over polling a binary message is b + base64.
    assert_eq!(conn.unwritten(), 5);
    conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
    conn.handle_polling_paused(vec![Packet::binary(vec![0u8; 3])]);
    // Now 5 and the message go over websocket.
    assert_eq!(conn.unwritten(), 1 + 3);
    conn.handle_transport_end(WebSocket, TransportEnd::ServerClosed);
    assert_eq!(conn.unwritten(), 0);
}

#[test]
fn polling_close_packet_ends_a_probing_session() {
    let mut conn = probing_session();
    conn.handle_packet(Polling, Packet::Close);
    let out = drain(&mut conn);
    assert!(out.contains(&Output::CloseTransport(Polling)));
    assert!(out.contains(&Output::CloseTransport(WebSocket)));
    assert_eq!(
        events(&out),
        [Event::Disconnected(DisconnectReason::ServerDisconnect)]
    );
}
