//! A v4 session that meets a server speaking Engine.IO v3 only (`docs/protocol.md`
//! section 11, "Versions that do not match"). Over websocket the v3 and v4 handshakes are
//! the same frame, so the session opens; but a v3 server never pings (it waits for the
//! client's pings) and announces no `maxPayload`. Such a session ends by a ping timeout,
//! or by the server closing it for want of pings, before the server ever pinged: that end
//! is reported as [`ProtocolError::ServerSpeaksV3`], which tells the application to ask
//! for v3, instead of a ping timeout or a server disconnect that would say nothing.
//!
//! Both signs are needed, so it never misfires on a v4 server: every v4 server seen
//! (engine.io 4 to 6, python-engineio 4, engineioxide) announces `maxPayload`, and one
//! that does not but pings is taken for v4 from its first ping on.

use super::Connection;
use crate::protocol::{DisconnectReason, ProtocolError, ProtocolVersion, TransportError};

impl Connection {
    /// Why the session ends when the server closes it or goes silent: `usual`, unless
    /// the server looks like a v3-only one (see the module doc).
    pub(super) fn server_end(&self, usual: DisconnectReason) -> DisconnectReason {
        let looks_v3 = self.version == ProtocolVersion::V4
            && !self.handshake.max_payload_announced
            && !self.server_pinged;
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
        Connection, DisconnectReason, Event, Packet, ProtocolError, ProtocolVersion, TransportEnd,
        TransportError, TransportKind::WebSocket,
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
        conn.handle_packet(WebSocket, Packet::Close);
        assert!(is_v3_diagnosis(&last_reason(&mut conn)));

        let mut conn = session(false, ProtocolVersion::V4);
        conn.handle_transport_end(WebSocket, TransportEnd::ServerClosed);
        let reason = last_reason(&mut conn);
        assert!(is_v3_diagnosis(&reason), "{reason:?}");
        assert!(reason.unwrap().detail().unwrap().contains("first ping"));
    }

    #[test]
    fn a_server_that_pinged_speaks_v4_even_without_max_payload() {
        let mut conn = session(false, ProtocolVersion::V4);
        conn.handle_packet(WebSocket, Packet::Ping("".into()));
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
