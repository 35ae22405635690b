//! The client's heartbeat of protocol v3, where the client pings and the server
//! answers (`docs/protocol.md` section 11, "The v3 heartbeat"). In v4 the server pings
//! and `Connection::handle_packet` only answers; nothing here runs.

use super::{Connection, Output, Timer};
use crate::protocol::Packet;

/// Where the client's own pings stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ClientPing {
    /// Protocol v4: the server pings; the client never sends a heartbeat `2`.
    Off,
    /// v3: a [`Timer::Ping`] runs; the next `2` goes out when it fires.
    Scheduled,
    /// v3: `2` was queued (or held during the upgrade pause) and its `3` is awaited.
    AwaitingPong,
}

impl Connection {
    /// Starts the wait for the next v3 ping: `pingInterval` after the handshake, or
    /// after the last pong, as Node's `engine.io-client` 3 does.
    pub(super) fn schedule_ping(&mut self) {
        self.client_ping = ClientPing::Scheduled;
        let interval = self.handshake.ping_interval;
        self.outputs
            .push_back(Output::StartTimer(Timer::Ping, interval));
    }

    /// [`Timer::Ping`] fired: ping, and give the server `pingTimeout` to answer.
    pub(super) fn ping_timer_fired(&mut self) {
        // Only the one timer started by `schedule_ping` counts: at most one runs, so a
        // report in another state is a stale or duplicated one.
        if self.is_closed() || self.client_ping != ClientPing::Scheduled {
            return;
        }
        self.client_ping = ClientPing::AwaitingPong;
        // Held like any packet during the upgrade pause; the deadline still counts from
        // now, as the reference client's does: a pause that outlasts `pingTimeout` is a
        // session that is not answering.
        self.queue(Packet::Ping("".into()));
        let timeout = self.handshake.ping_timeout;
        self.outputs.push_back(Output::ArmHeartbeat(timeout));
    }

    /// A v3 `3` arrived on the active transport.
    pub(super) fn handle_pong(&mut self) {
        if self.client_ping != ClientPing::AwaitingPong {
            // Unasked for: it proves nothing about the ping to come.
            return;
        }
        // The deadline goes back to the handshake's, a safety net only: the ping timer
        // fires first, at `pingInterval`, and shortens it to `pingTimeout`.
        let deadline = self.handshake.heartbeat_deadline();
        self.outputs.push_back(Output::ArmHeartbeat(deadline));
        self.schedule_ping();
    }
}
