//! How a session ends: the application's close and abort, the server's close, a
//! silent server; and what is kept for the application when it does.

use super::upgrade::Upgrade;
use super::{Connection, Ending, Output, Unwritten};
use crate::protocol::{DisconnectReason, Event, Packet, Payload, TransportKind};

impl Connection {
    /// The deadline of the last [`Output::ArmHeartbeat`] passed: no ping arrived in time
    /// (v4), or no pong to the client's ping (v3). The session is dead, and its
    /// transports are aborted.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Event, Handshake, Output, TransportKind};
    /// use actix_engineio::DisconnectReason;
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::WebSocket, false);
    /// conn.handle_ping_timeout();
    /// let last = std::iter::from_fn(|| conn.poll_output()).last();
    /// assert_eq!(last, Some(Output::Event(Event::Disconnected(DisconnectReason::PingTimeout))));
    /// ```
    pub fn handle_ping_timeout(&mut self) {
        match self.ending {
            // The server is gone: nothing is said to it (a close packet or frame would
            // wait on a silent peer), and what the transports hold comes back.
            // (Or the server speaks v3 only, and waited for the client's pings.)
            Ending::Open => self.abort_with(self.server_end(DisconnectReason::PingTimeout)),
            // The server went silent while the close was on its way: stop waiting.
            Ending::Closing | Ending::AfterPause => self.abort(),
            Ending::Done => {}
        }
    }

    /// The application closes the session: `1` on the active transport, then the
    /// transport closes once it has written it. The session ends (and gives its last
    /// event) when the transport reports that end, so that the server has the close.
    ///
    /// Messages held during an upgrade go out first, over the active transport, once
    /// polling has handed back what it had not sent. Closing twice does nothing.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Event, Handshake, Output, Packet, TransportEnd, TransportKind::*};
    /// use actix_engineio::DisconnectReason;
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, WebSocket, false);
    /// while conn.poll_output().is_some() {}
    /// conn.close();
    /// let outputs: Vec<Output> = std::iter::from_fn(|| conn.poll_output()).collect();
    /// assert_eq!(outputs, [Output::Transmit(WebSocket, Packet::Close), Output::CloseTransport(WebSocket)]);
    /// conn.handle_transport_end(WebSocket, TransportEnd::Closed);
    /// let last = conn.poll_output();
    /// assert_eq!(last, Some(Output::Event(Event::Disconnected(DisconnectReason::ClientDisconnect))));
    /// ```
    pub fn close(&mut self) {
        if self.is_closed() {
            return;
        }
        if matches!(self.upgrade, Upgrade::Pausing { .. }) {
            // Polling may be handing back packets older than the held ones: wait for
            // them, then send everything and the close over polling, in order. The probe
            // websocket stays until then (see below).
            self.ending = Ending::AfterPause;
            return;
        }
        self.transmit(self.active, Packet::Close);
        self.ending = Ending::Closing;
        // A probe websocket stays until the close has reached the server: engineioxide
        // takes a probe closed first for a broken session, not a closed one.
        self.outputs.push_back(Output::CloseTransport(self.active));
    }

    /// The application drops the session without telling the server: the transports
    /// stop at once, whatever they hold, and the session ends as a client disconnect.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Event, Handshake, Output, TransportKind::*};
    /// use actix_engineio::DisconnectReason;
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, WebSocket, false);
    /// while conn.poll_output().is_some() {}
    /// conn.abort();
    /// let outputs: Vec<Output> = std::iter::from_fn(|| conn.poll_output()).collect();
    /// assert_eq!(outputs, [
    ///     Output::AbortTransport(WebSocket),
    ///     Output::Event(Event::Disconnected(DisconnectReason::ClientDisconnect)),
    /// ]);
    /// assert!(conn.is_finished());
    /// ```
    pub fn abort(&mut self) {
        self.abort_with(DisconnectReason::ClientDisconnect);
    }

    /// Stops the transports at once and ends the session for `reason`. What they hold
    /// is theirs to give back: the I/O layer, not the server, is told.
    fn abort_with(&mut self, reason: DisconnectReason) {
        if self.is_finished() {
            return;
        }
        self.clear();
        self.close_transports(Output::AbortTransport);
        if self.ending == Ending::AfterPause {
            self.outputs
                .push_back(Output::AbortTransport(TransportKind::Polling));
        }
        self.end_with(reason);
    }

    /// The close the application asked for has reached the server (or could not).
    pub(super) fn complete_close(&mut self) {
        self.clear();
        if self.upgrade_transport_open() {
            self.outputs
                .push_back(Output::CloseTransport(TransportKind::WebSocket));
        }
        self.end_with(DisconnectReason::ClientDisconnect);
    }

    /// The session ended for `reason`: its transports close and the last event goes out.
    pub(super) fn finish(&mut self, reason: DisconnectReason) {
        self.clear();
        self.close_transports(Output::CloseTransport);
        self.end_with(reason);
    }

    /// The last event: the session is over for `reason`.
    fn end_with(&mut self, reason: DisconnectReason) {
        self.ending = Ending::Done;
        self.end_reason = Some(reason.clone());
        self.emit(Event::Disconnected(reason));
    }

    /// Why the session ended, once it has.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, TransportKind};
    /// use actix_engineio::DisconnectReason;
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::WebSocket, false);
    /// assert_eq!(conn.disconnect_reason(), None);
    /// conn.handle_ping_timeout();
    /// assert_eq!(conn.disconnect_reason(), Some(&DisconnectReason::PingTimeout));
    /// ```
    pub fn disconnect_reason(&self) -> Option<&DisconnectReason> {
        self.end_reason.as_ref()
    }

    /// Tells the active transport, and the probe websocket beside it, to stop.
    fn close_transports(&mut self, how: fn(TransportKind) -> Output) {
        self.outputs.push_back(how(self.active));
        if self.upgrade_transport_open() {
            self.outputs.push_back(how(TransportKind::WebSocket));
        }
    }

    /// Forgets what would have been sent: the session is over. Held messages are kept
    /// for [`take_undelivered`](Self::take_undelivered).
    fn clear(&mut self) {
        // A poll or a probe not started yet must not start: a handshake body can end
        // with the close packet, before the driver has carried out the first outputs.
        self.outputs
            .retain(|output| !matches!(output, Output::ResumePolling | Output::OpenProbe));
        let held = std::mem::take(&mut self.held);
        self.keep_undelivered(held);
        self.held_bytes = 0;
        self.unwritten = Unwritten::default();
    }

    pub(super) fn keep_undelivered(&mut self, packets: Vec<Packet>) {
        self.undelivered
            .extend(packets.into_iter().filter_map(Packet::into_message));
    }

    /// The messages that were accepted by [`send`](Self::send) and will never be
    /// written because the session ended (held during the upgrade pause), in order;
    /// each is given once.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, Packet, TransportKind::*};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, Polling, true);
    /// conn.handle_probe_opened();
    /// conn.handle_packet(WebSocket, Packet::Pong("probe".into())); // pausing: sends are held
    /// conn.send("held".into()).unwrap();
    /// conn.handle_ping_timeout();
    /// assert_eq!(conn.take_undelivered(), ["held".into()]);
    /// assert!(conn.take_undelivered().is_empty());
    /// ```
    pub fn take_undelivered(&mut self) -> Vec<Payload> {
        std::mem::take(&mut self.undelivered)
    }
}
