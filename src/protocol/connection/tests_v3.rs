//! Unit tests of the state machine in protocol v3: the client's heartbeat, the upgrade,
//! and what sends cost and may carry. The handshake of `tests.rs` pings every 300 ms
//! with a 200 ms timeout and a `maxPayload` of 100.

use std::time::Duration;

use super::tests::{drain, events, handshake, sent};
use super::*;
use crate::protocol::{polling_v3, TransportError, UpgradeError};
use ProtocolVersion::V3;
use TransportKind::{Polling, WebSocket};

const INTERVAL: Duration = Duration::from_millis(300);
const TIMEOUT: Duration = Duration::from_millis(200);
const DEADLINE: Duration = Duration::from_millis(500);

fn ping() -> Packet {
    Packet::Ping("".into())
}

fn pong() -> Packet {
    Packet::Pong("".into())
}

fn websocket_session() -> Connection {
    let mut conn = Connection::with_version(handshake(&[]), WebSocket, true, V3);
    drain(&mut conn);
    conn
}

fn polling_session() -> Connection {
    let mut conn = Connection::with_version(handshake(&[]), Polling, true, V3);
    drain(&mut conn);
    conn
}

/// A v3 polling session whose probe websocket is open and `2probe` sent.
fn probing_session() -> Connection {
    let mut conn = Connection::with_version(handshake(&["websocket"]), Polling, true, V3);
    drain(&mut conn);
    conn.handle_probe_opened();
    assert_eq!(sent(&drain(&mut conn)), [(WebSocket, Packet::probe())]);
    conn
}

/// The ping timer fires: `2` goes out on `transport` and the pong is due in `pingTimeout`.
fn ping_now(conn: &mut Connection, transport: TransportKind) {
    conn.handle_timer(Timer::Ping);
    assert_eq!(
        drain(conn),
        [
            Output::Transmit(transport, ping()),
            Output::ArmHeartbeat(TIMEOUT)
        ]
    );
}

#[test]
fn v3_sessions_start_the_ping_timer_after_the_deadline() {
    let mut conn = Connection::with_version(handshake(&[]), WebSocket, true, V3);
    assert_eq!(conn.version(), V3);
    assert_eq!(
        drain(&mut conn),
        [
            Output::Event(Event::Connected {
                sid: "sid1".into(),
                transport: WebSocket
            }),
            Output::ArmHeartbeat(DEADLINE),
            Output::StartTimer(Timer::Ping, INTERVAL),
        ]
    );
    let mut conn = Connection::with_version(handshake(&["websocket"]), Polling, true, V3);
    let out = drain(&mut conn);
    assert_eq!(out[2], Output::StartTimer(Timer::Ping, INTERVAL));
    assert!(out.contains(&Output::OpenProbe));
}

#[test]
fn v4_sessions_never_ping() {
    let mut conn = Connection::new(handshake(&[]), WebSocket, true);
    assert_eq!(conn.version(), ProtocolVersion::V4);
    let out = drain(&mut conn);
    assert!(!out
        .iter()
        .any(|o| matches!(o, Output::StartTimer(Timer::Ping, _))));
    conn.handle_timer(Timer::Ping);
    conn.handle_packet(WebSocket, pong());
    assert_eq!(drain(&mut conn), []);
}

#[test]
fn the_client_pings_every_interval_and_each_pong_rearms() {
    for transport in [WebSocket, Polling] {
        let mut conn = if transport == WebSocket {
            websocket_session()
        } else {
            polling_session()
        };
        for _ in 0..3 {
            ping_now(&mut conn, transport);
            conn.handle_packet(transport, pong());
            assert_eq!(
                drain(&mut conn),
                [
                    Output::ArmHeartbeat(DEADLINE),
                    Output::StartTimer(Timer::Ping, INTERVAL)
                ]
            );
        }
        assert!(!conn.is_closed());
    }
}

/// python-engineio 3 echoes the ping's data in its pong; Node sends none.
#[test]
fn a_pong_with_data_answers_too() {
    let mut conn = websocket_session();
    ping_now(&mut conn, WebSocket);
    conn.handle_packet(WebSocket, Packet::Pong("x".into()));
    assert!(drain(&mut conn).contains(&Output::StartTimer(Timer::Ping, INTERVAL)));
}

#[test]
fn stale_timers_and_unasked_pongs_change_nothing() {
    let mut conn = websocket_session();
    // A pong before any ping, and `3probe` on the active transport, are not answers.
    conn.handle_packet(WebSocket, pong());
    assert_eq!(drain(&mut conn), []);
    ping_now(&mut conn, WebSocket);
    // A second report of the same timer: one ping is awaited already.
    conn.handle_timer(Timer::Ping);
    conn.handle_packet(WebSocket, Packet::Pong(PROBE.into()));
    assert_eq!(drain(&mut conn), []);
    conn.handle_packet(WebSocket, pong());
    assert_eq!(drain(&mut conn).len(), 2);
    // A duplicated pong starts no second timer.
    conn.handle_packet(WebSocket, pong());
    assert_eq!(drain(&mut conn), []);
}

/// v3 servers never ping; answering would make Node 6 (`allowEIO3`) close the session
/// for an "invalid heartbeat direction", so a `2` is ignored.
#[test]
fn a_server_ping_is_ignored() {
    let mut conn = websocket_session();
    conn.handle_packet(WebSocket, Packet::Ping("x".into()));
    assert_eq!(drain(&mut conn), []);
    ping_now(&mut conn, WebSocket);
    conn.handle_packet(WebSocket, Packet::Ping("".into()));
    assert_eq!(drain(&mut conn), []);
}

#[test]
fn a_missing_pong_ends_the_session_with_ping_timeout() {
    let mut conn = websocket_session();
    conn.send("queued".into()).unwrap();
    drain(&mut conn);
    ping_now(&mut conn, WebSocket);
    conn.handle_ping_timeout();
    let out = drain(&mut conn);
    assert_eq!(sent(&out), [], "a silent server is not written to");
    assert_eq!(
        out,
        [
            Output::AbortTransport(WebSocket),
            Output::Event(Event::Disconnected(DisconnectReason::PingTimeout))
        ]
    );
    assert_eq!(
        conn.disconnect_reason(),
        Some(&DisconnectReason::PingTimeout)
    );
    // What the transport held is the I/O layer's to give back; nothing was held here.
    assert!(conn.take_undelivered().is_empty());
    // A pong or a timer after the end does nothing.
    conn.handle_packet(WebSocket, pong());
    conn.handle_timer(Timer::Ping);
    assert_eq!(drain(&mut conn), []);
}

#[test]
fn pings_during_the_upgrade_pause_wait_and_go_out_after_5() {
    let mut conn = probing_session();
    conn.handle_written(WebSocket, 6); // 2probe
    conn.handle_packet(WebSocket, Packet::Pong(PROBE.into()));
    assert_eq!(drain(&mut conn), [Output::PausePolling]);
    // The ping waits with the messages; its deadline counts from now.
    conn.handle_timer(Timer::Ping);
    assert_eq!(drain(&mut conn), [Output::ArmHeartbeat(TIMEOUT)]);
    conn.send("during".into()).unwrap();
    assert_eq!(
        conn.unwritten(),
        wire_len_for(V3, WebSocket, &ping()) + wire_len_for(V3, WebSocket, &Packet::text("during"))
    );
    // The server ends the paused poll with a noop.
    conn.handle_packet(Polling, Packet::Noop);
    assert_eq!(drain(&mut conn), []);

    conn.handle_polling_paused(vec![Packet::text("unsent")]);
    let out = drain(&mut conn);
    assert_eq!(
        sent(&out),
        [
            (WebSocket, Packet::Upgrade),
            (WebSocket, Packet::text("unsent")),
            (WebSocket, ping()),
            (WebSocket, Packet::text("during")),
        ]
    );
    assert_eq!(events(&out), [Event::Upgraded]);
    conn.handle_packet(WebSocket, pong());
    assert!(drain(&mut conn).contains(&Output::StartTimer(Timer::Ping, INTERVAL)));
}

/// Node 3 writes the pong of a ping POSTed before the switch on the websocket once the
/// upgrade is done: it answers the ping all the same.
#[test]
fn a_pong_for_a_polling_ping_may_come_over_the_new_websocket() {
    let mut conn = probing_session();
    ping_now(&mut conn, Polling);
    conn.handle_packet(WebSocket, Packet::Pong(PROBE.into()));
    conn.handle_polling_paused(vec![]);
    assert_eq!(events(&drain(&mut conn)), [Event::Upgraded]);
    conn.handle_packet(WebSocket, pong());
    assert!(drain(&mut conn).contains(&Output::StartTimer(Timer::Ping, INTERVAL)));
}

/// Pings are not messages: a ping held when the session dies is not given back.
#[test]
fn a_held_ping_is_never_undelivered() {
    let mut conn = probing_session();
    conn.handle_packet(WebSocket, Packet::Pong(PROBE.into()));
    conn.handle_timer(Timer::Ping);
    conn.send("held".into()).unwrap();
    conn.handle_ping_timeout();
    conn.handle_polling_paused(vec![ping(), Packet::text("unsent")]);
    assert_eq!(
        conn.take_undelivered(),
        [Payload::from("unsent"), Payload::from("held")]
    );
}

#[test]
fn a_held_ping_goes_over_polling_if_the_websocket_dies_in_the_pause() {
    let mut conn = probing_session();
    conn.handle_packet(WebSocket, Packet::Pong(PROBE.into()));
    conn.handle_timer(Timer::Ping);
    conn.handle_transport_end(WebSocket, TransportEnd::ServerClosed);
    drain(&mut conn);
    conn.handle_polling_paused(vec![]);
    let out = drain(&mut conn);
    assert_eq!(sent(&out), [(Polling, ping())]);
    assert_eq!(out.last(), Some(&Output::ResumePolling));
    conn.handle_packet(Polling, pong());
    assert!(drain(&mut conn).contains(&Output::StartTimer(Timer::Ping, INTERVAL)));
}

/// The upgrade is v4's: `2probe`, `3probe` (a noop first is ignored), the pause, `5`.
#[test]
fn the_upgrade_is_the_same_as_in_v4() {
    let mut conn = probing_session();
    conn.send(vec![1, 2, 3].into()).unwrap();
    conn.handle_packet(WebSocket, Packet::Noop);
    conn.handle_packet(WebSocket, Packet::Pong(PROBE.into()));
    let out = drain(&mut conn);
    assert_eq!(sent(&out), [(Polling, Packet::binary(vec![1, 2, 3]))]);
    assert_eq!(out.last(), Some(&Output::PausePolling));
    conn.handle_written(WebSocket, 6); // 2probe
    conn.handle_polling_paused(vec![Packet::binary(vec![1, 2, 3])]);
    let out = drain(&mut conn);
    assert_eq!(
        sent(&out),
        [
            (WebSocket, Packet::Upgrade),
            (WebSocket, Packet::binary(vec![1, 2, 3]))
        ]
    );
    assert!(out.contains(&Output::CloseTransport(Polling)));
    assert_eq!(conn.transport(), WebSocket);
    // `5`, then the type byte 4 and the three bytes: v3 binary frames.
    assert_eq!(conn.unwritten(), 1 + 4);
}

#[test]
fn a_wrong_probe_answer_keeps_polling_and_pinging() {
    let mut conn = probing_session();
    conn.handle_packet(WebSocket, Packet::text("nope"));
    let out = drain(&mut conn);
    assert_eq!(
        events(&out),
        [Event::UpgradeFailed(UpgradeError::UnexpectedAnswer(
            "4nope".into()
        ))]
    );
    ping_now(&mut conn, Polling);
}

/// Records of v3 payloads are length-prefixed: any text fits, `\x1e` included.
#[test]
fn v3_polling_carries_the_record_separator() {
    let mut conn = polling_session();
    assert_eq!(conn.send("a\x1eb".into()), Ok(()));
    assert_eq!(sent(&drain(&mut conn)), [(Polling, Packet::text("a\x1eb"))]);
    let mut conn = websocket_session();
    assert_eq!(conn.send("a\x1eb".into()), Ok(()));
}

#[test]
fn sends_are_sized_as_v3_carries_them() {
    let mut conn = polling_session();
    let packet = Packet::binary(vec![1, 2, 3]);
    conn.send(vec![1, 2, 3].into()).unwrap();
    // Marker 1, length 4 as one digit byte, 255, type byte 4, data.
    assert_eq!(conn.unwritten(), 7);
    assert_eq!(conn.unwritten(), polling_v3::encoded_len(&packet));
    // 95 bytes of data are 1 + 2 + 1 + 1 + 95 = 100 over polling (the length 96 takes
    // two digit bytes), 96 over websocket.
    assert_eq!(conn.send(vec![0u8; 95].into()), Ok(()));
    assert_eq!(
        conn.send(vec![0u8; 96].into()),
        Err(SendError::TooLarge {
            size: 101,
            max_payload: 100
        })
    );
    let mut conn = websocket_session();
    assert_eq!(conn.send(vec![0u8; 99].into()), Ok(()));
    assert_eq!(
        conn.send(vec![0u8; 100].into()),
        Err(SendError::TooLarge {
            size: 101,
            max_payload: 100
        })
    );
}

#[test]
fn close_sends_1_and_stops_pinging() {
    let mut conn = websocket_session();
    ping_now(&mut conn, WebSocket);
    conn.close();
    assert_eq!(
        drain(&mut conn),
        [
            Output::Transmit(WebSocket, Packet::Close),
            Output::CloseTransport(WebSocket)
        ]
    );
    conn.handle_packet(WebSocket, pong());
    conn.handle_timer(Timer::Ping);
    assert_eq!(drain(&mut conn), []);
    conn.handle_transport_end(WebSocket, TransportEnd::Closed);
    assert_eq!(
        events(&drain(&mut conn)),
        [Event::Disconnected(DisconnectReason::ClientDisconnect)]
    );
}

/// The pong never came while the close was on its way: stop waiting, as in v4.
#[test]
fn a_ping_timeout_while_closing_aborts_as_a_client_disconnect() {
    let mut conn = polling_session();
    ping_now(&mut conn, Polling);
    conn.close();
    drain(&mut conn);
    conn.handle_ping_timeout();
    let out = drain(&mut conn);
    assert!(out.contains(&Output::AbortTransport(Polling)));
    assert_eq!(
        events(&out),
        [Event::Disconnected(DisconnectReason::ClientDisconnect)]
    );
}

#[test]
fn close_during_the_pause_sends_the_held_ping_then_1_over_polling() {
    let mut conn = probing_session();
    conn.handle_packet(WebSocket, Packet::Pong(PROBE.into()));
    conn.handle_timer(Timer::Ping);
    conn.close();
    drain(&mut conn);
    conn.handle_polling_paused(vec![]);
    let out = drain(&mut conn);
    assert_eq!(sent(&out), [(Polling, ping()), (Polling, Packet::Close)]);
    assert_eq!(out.last(), Some(&Output::CloseTransport(Polling)));
}

#[test]
fn abort_stops_everything_without_a_close_packet() {
    let mut conn = probing_session();
    ping_now(&mut conn, Polling);
    conn.abort();
    let out = drain(&mut conn);
    assert_eq!(sent(&out), []);
    assert!(out.contains(&Output::AbortTransport(Polling)));
    assert!(out.contains(&Output::AbortTransport(WebSocket)));
    assert_eq!(
        events(&out),
        [Event::Disconnected(DisconnectReason::ClientDisconnect)]
    );
    conn.handle_packet(Polling, pong());
    conn.handle_transport_end(Polling, TransportEnd::Error(TransportError::Timeout));
    assert_eq!(drain(&mut conn), []);
}
