//! A v4 session that meets a server speaking Engine.IO v3 only (`docs/protocol.md`
//! section 11, "Versions that do not match"). Over websocket the v3 and v4 handshakes are
//! the same frame, so the session opens; but a v3 server never pings (it waits for the
//! client's pings) and announces no `maxPayload`. Such a session ends by a ping timeout,
//! or by the server closing it for want of pings, without the server ever having pinged:
//! that end is reported as [`ProtocolError::ServerSpeaksV3`], which tells the application
//! to ask for v3, instead of a ping timeout or a server disconnect that would say nothing.
//!
//! Three signs are needed, so that a v4 server is not taken for a v3 one: no `maxPayload`
//! in the handshake (v4 servers before Node `engine.io` 6.2 and python-engineio's late
//! 4.x releases do not send it either), no ping, and the end coming after
//! [`Timer::FirstPingDue`] (`pingInterval` and half of `pingTimeout` after the
//! handshake), by when any v4 server has pinged. A v4 server that restarts within its
//! first ping interval, or pings, is never misread.

use super::{Connection, Output, Timer};
use crate::protocol::{DisconnectReason, ProtocolError, ProtocolVersion, TransportError};

impl Connection {
    /// Whether the handshake leaves room for a v3-only server: v4 asked for, and no
    /// `maxPayload` announced.
    fn may_be_v3_server(&self) -> bool {
        self.version == ProtocolVersion::V4 && !self.handshake.max_payload_announced
    }

    /// At the handshake: starts [`Timer::FirstPingDue`] when the server may speak v3.
    pub(super) fn watch_first_ping(&mut self) {
        if self.may_be_v3_server() {
            let due = self.handshake.ping_interval + self.handshake.ping_timeout / 2;
            self.outputs
                .push_back(Output::StartTimer(Timer::FirstPingDue, due));
        }
    }

    /// [`Timer::FirstPingDue`] fired: a v4 server would have pinged by now.
    pub(super) fn first_ping_due(&mut self) {
        self.first_ping_overdue = !self.server_pinged;
    }

    /// Why the session ends when the server closes it or goes silent: `usual`, unless
    /// the server looks like a v3-only one (see the module doc).
    pub(super) fn server_end(&self, usual: DisconnectReason) -> DisconnectReason {
        let looks_v3 = self.may_be_v3_server() && !self.server_pinged && self.first_ping_overdue;
        if !looks_v3 {
            return usual;
        }
        let end = match usual {
            DisconnectReason::PingTimeout => "sent no ping within pingInterval + pingTimeout",
            _ => "closed the session before its first ping",
        };
        DisconnectReason::TransportError(TransportError::Protocol(ProtocolError::ServerSpeaksV3(
            format!("its handshake had no maxPayload, and it {end}"),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{drain, events, handshake};
    use crate::protocol::{
        Connection, DisconnectReason, Event, Output, Packet, ProtocolError, ProtocolVersion, Timer,
        TransportEnd, TransportError, TransportKind::WebSocket,
    };

    /// A v4 websocket session whose handshake had `maxPayload` or not.
    fn session(announced: bool, version: ProtocolVersion) -> Connection {
        let mut hs = handshake(&[]);
        hs.max_payload_announced = announced;
        let mut conn = Connection::with_version(hs, WebSocket, false, version);
        drain(&mut conn);
        conn
    }

    fn last_reason(conn: &mut Connection) -> Option<DisconnectReason> {
        events(&drain(conn)).into_iter().find_map(|e| match e {
            Event::Disconnected(reason) => Some(reason),
            _ => None,
        })
    }

    fn is_v3_diagnosis(reason: &Option<DisconnectReason>) -> bool {
        matches!(
            reason,
            Some(DisconnectReason::TransportError(TransportError::Protocol(
                ProtocolError::ServerSpeaksV3(_)
            )))
        )
    }

    #[test]
    fn a_silent_server_without_max_payload_appears_to_speak_v3() {
        let mut conn = session(false, ProtocolVersion::V4);
        conn.handle_timer(Timer::FirstPingDue);
        conn.handle_ping_timeout();
        let reason = last_reason(&mut conn);
        assert!(is_v3_diagnosis(&reason), "{reason:?}");
        let text = reason.unwrap().detail().unwrap();
        assert!(text.contains("Engine.IO v3"), "{text}");
        assert!(text.contains(".protocol(ProtocolVersion::V3)"), "{text}");
        assert!(text.contains("no ping"), "{text}");
    }

    #[test]
    fn a_close_before_any_ping_without_max_payload_appears_to_speak_v3() {
        let mut conn = session(false, ProtocolVersion::V4);
        conn.handle_timer(Timer::FirstPingDue);
        conn.handle_packet(WebSocket, Packet::Close);
        assert!(is_v3_diagnosis(&last_reason(&mut conn)));

        let mut conn = session(false, ProtocolVersion::V4);
        conn.handle_timer(Timer::FirstPingDue);
        conn.handle_transport_end(WebSocket, TransportEnd::ServerClosed);
        let reason = last_reason(&mut conn);
        assert!(is_v3_diagnosis(&reason), "{reason:?}");
        assert!(reason.unwrap().detail().unwrap().contains("first ping"));
    }

    /// An older v4 server (no `maxPayload` before engine.io 6.2) restarted within its
    /// first ping interval: a server disconnect, which a reconnection policy retries.
    #[test]
    fn a_close_before_the_first_ping_is_due_is_a_plain_server_disconnect() {
        let mut conn = session(false, ProtocolVersion::V4);
        conn.handle_packet(WebSocket, Packet::Close);
        assert_eq!(
            last_reason(&mut conn),
            Some(DisconnectReason::ServerDisconnect)
        );

        let mut conn = session(false, ProtocolVersion::V4);
        conn.handle_transport_end(WebSocket, TransportEnd::ServerClosed);
        assert_eq!(
            last_reason(&mut conn),
            Some(DisconnectReason::ServerDisconnect)
        );
    }

    #[test]
    fn the_first_ping_is_watched_only_when_the_server_may_speak_v3() {
        let due = |announced, version| {
            let mut hs = handshake(&[]);
            hs.max_payload_announced = announced;
            let interval = hs.ping_interval + hs.ping_timeout / 2;
            let mut conn = Connection::with_version(hs, WebSocket, false, version);
            drain(&mut conn).contains(&Output::StartTimer(Timer::FirstPingDue, interval))
        };
        assert!(due(false, ProtocolVersion::V4));
        assert!(!due(true, ProtocolVersion::V4));
        assert!(!due(false, ProtocolVersion::V3));
    }

    #[test]
    fn a_server_that_pinged_speaks_v4_even_without_max_payload() {
        let mut conn = session(false, ProtocolVersion::V4);
        conn.handle_packet(WebSocket, Packet::Ping("".into()));
        conn.handle_timer(Timer::FirstPingDue);
        conn.handle_ping_timeout();
        assert_eq!(last_reason(&mut conn), Some(DisconnectReason::PingTimeout));

        let mut conn = session(false, ProtocolVersion::V4);
        conn.handle_packet(WebSocket, Packet::Ping("".into()));
        conn.handle_packet(WebSocket, Packet::Close);
        assert_eq!(
            last_reason(&mut conn),
            Some(DisconnectReason::ServerDisconnect)
        );
    }

    #[test]
    fn a_server_that_announced_max_payload_speaks_v4() {
        let mut conn = session(true, ProtocolVersion::V4);
        conn.handle_ping_timeout();
        assert_eq!(last_reason(&mut conn), Some(DisconnectReason::PingTimeout));

        let mut conn = session(true, ProtocolVersion::V4);
        conn.handle_transport_end(WebSocket, TransportEnd::ServerClosed);
        assert_eq!(
            last_reason(&mut conn),
            Some(DisconnectReason::ServerDisconnect)
        );
    }

    #[test]
    fn a_v3_session_is_never_told_its_server_speaks_v3() {
        let mut conn = session(false, ProtocolVersion::V3);
        conn.handle_ping_timeout();
        assert_eq!(last_reason(&mut conn), Some(DisconnectReason::PingTimeout));
    }

    #[test]
    fn the_applications_close_stays_a_client_disconnect() {
        let mut conn = session(false, ProtocolVersion::V4);
        conn.close();
        conn.handle_transport_end(WebSocket, TransportEnd::Closed);
        assert_eq!(
            last_reason(&mut conn),
            Some(DisconnectReason::ClientDisconnect)
        );
    }
}
