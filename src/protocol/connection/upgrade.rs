//! The upgrade sub-machine: probing a websocket beside a polling session, pausing
//! polling, and switching (the "Upgrade" section of the protocol notes,
//! `docs/protocol.md` section 7).

use std::time::Duration;

use super::{Connection, Ending, Event, Output, Timer};
use crate::protocol::{Packet, TransportEnd, TransportError, TransportKind, UpgradeError};

/// How long the probe may take before polling starts receiving anyway. Longer
/// probes still complete, through the pause that waits for the poll to return.
///
/// Until then no poll is in flight, so a quick probe completes without waiting for a
/// poll to return.
///
/// ```
/// use actix_engineio::protocol::{Connection, Handshake, Output, Timer, TransportKind, PROBE_GRACE};
///
/// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
/// let mut conn = Connection::new(handshake, TransportKind::Polling, true);
/// let outputs: Vec<Output> = std::iter::from_fn(|| conn.poll_output()).collect();
/// assert!(outputs.contains(&Output::StartTimer(Timer::ProbeGrace, PROBE_GRACE)));
/// assert!(!outputs.contains(&Output::ResumePolling)); // not yet
/// ```
pub const PROBE_GRACE: Duration = Duration::from_secs(1);

/// How long the server may take to answer the probe (opening the websocket
/// included): the default `upgradeTimeout` of Node's engine.io, after which the server
/// gives up on the probe too.
///
/// ```
/// use std::time::Duration;
/// use actix_engineio::protocol::PROBE_TIMEOUT;
///
/// assert_eq!(PROBE_TIMEOUT, Duration::from_secs(10));
/// ```
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the upgrade to websocket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Upgrade {
    /// Not offered, not wanted, or the session started on websocket.
    Off,
    /// The probe websocket is being opened; `2probe` is sent once it is.
    Probing,
    /// `3probe` arrived; polling is pausing. `broken` when the websocket died since.
    Pausing { broken: bool },
    /// The session runs on websocket.
    Done,
    /// The probe failed; the session stays on polling.
    Failed,
}

impl Connection {
    /// Whether a probe websocket is wanted now: one that opens later is not used
    /// (the I/O layer drops it instead of calling [`Connection::handle_probe_opened`]).
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, Timer, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::Polling, true);
    /// assert!(conn.is_probing());
    /// conn.handle_timer(Timer::ProbeTimeout);
    /// assert!(!conn.is_probing());
    /// ```
    pub fn is_probing(&self) -> bool {
        !self.is_closed() && self.upgrade == Upgrade::Probing
    }

    /// Whether a probe websocket that opens now is to be kept: while probing, and while
    /// a close the application asked for during the probe is on its way. Dropping such a
    /// socket at once would tell the server its session broke before the close arrives
    /// (engineioxide then logs a transport error); kept, it is closed properly once the
    /// close has reached the server.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::Polling, true);
    /// conn.close();
    /// assert!(!conn.is_probing() && conn.keeps_probe_socket());
    /// ```
    pub fn keeps_probe_socket(&self) -> bool {
        !self.is_finished() && self.upgrade == Upgrade::Probing
    }

    /// A packet arrived on the probe websocket, which is not yet the active transport.
    pub(super) fn handle_probe_packet(&mut self, from: TransportKind, packet: Packet) {
        if from != TransportKind::WebSocket || self.upgrade != Upgrade::Probing {
            return;
        }
        match packet {
            answer if answer.is_probe_answer() => {
                self.upgrade = Upgrade::Pausing { broken: false };
                self.outputs.push_back(Output::PausePolling);
            }
            Packet::Noop => {}
            other => {
                let answer = other
                    .encode_text()
                    .unwrap_or_else(|| "binary message".into());
                self.fail_upgrade(UpgradeError::UnexpectedAnswer(answer));
            }
        }
    }

    /// The probe websocket is open: send `2probe` on it.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, Output, Packet, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::Polling, true);
    /// while conn.poll_output().is_some() {}
    /// conn.handle_probe_opened();
    /// assert_eq!(conn.poll_output(), Some(Output::Transmit(TransportKind::WebSocket, Packet::probe())));
    /// ```
    pub fn handle_probe_opened(&mut self) {
        if !self.is_closed() && self.upgrade == Upgrade::Probing {
            self.transmit(TransportKind::WebSocket, Packet::probe());
        }
    }

    /// Polling has paused for the upgrade; `unsent` are the packets it had queued but
    /// not sent, in order. They go out over websocket right after `5`, before anything
    /// sent during the pause; if the websocket broke meanwhile, over polling again. Once
    /// the session has ended they are kept for [`take_undelivered`](Self::take_undelivered),
    /// ahead of the messages held during the pause (accepted after them).
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, Output, Packet, TransportKind::*};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, Polling, true);
    /// conn.handle_probe_opened();
    /// conn.handle_packet(WebSocket, Packet::Pong("probe".into()));
    /// while conn.poll_output().is_some() {}
    /// conn.handle_polling_paused(vec![Packet::text("unsent")]);
    /// assert_eq!(conn.poll_output(), Some(Output::Transmit(WebSocket, Packet::Upgrade)));
    /// assert_eq!(conn.poll_output(), Some(Output::Transmit(WebSocket, Packet::text("unsent"))));
    /// ```
    pub fn handle_polling_paused(&mut self, unsent: Vec<Packet>) {
        if self.is_finished() {
            // Too late to go anywhere: the application gets them back, before the
            // messages held during the pause, which were accepted after them.
            let held = std::mem::take(&mut self.undelivered);
            self.keep_undelivered(unsent);
            self.undelivered.extend(held);
            return;
        }
        // What polling hands back was never written; it is counted again where it goes.
        self.unwritten.polling = 0;
        self.held_bytes = 0;
        let mut pending = unsent;
        pending.append(&mut self.held);
        if self.ending == Ending::AfterPause {
            pending.push(Packet::Close);
            self.resend_over_polling(pending);
            self.outputs
                .push_back(Output::CloseTransport(TransportKind::Polling));
            self.ending = Ending::Closing;
            return;
        }
        match self.upgrade {
            Upgrade::Pausing { broken: false } => {
                self.active = TransportKind::WebSocket;
                self.upgrade = Upgrade::Done;
                self.transmit(TransportKind::WebSocket, Packet::Upgrade);
                for packet in pending {
                    self.transmit(TransportKind::WebSocket, packet);
                }
                self.outputs
                    .push_back(Output::CloseTransport(TransportKind::Polling));
                self.emit(Event::Upgraded);
            }
            _ => {
                self.upgrade = Upgrade::Failed;
                self.resend_over_polling(pending);
                self.polling_started = true;
                self.outputs.push_back(Output::ResumePolling);
            }
        }
    }

    fn resend_over_polling(&mut self, packets: Vec<Packet>) {
        for packet in packets {
            self.transmit(TransportKind::Polling, packet);
        }
    }

    /// A timer started by [`Output::StartTimer`] fired. Timers that no longer matter
    /// (the probe succeeded or failed, the session ended, a ping timer reported twice)
    /// are ignored, so they need not be cancelled.
    ///
    /// ```
    /// use actix_engineio::protocol::{Connection, Handshake, Output, Timer, TransportKind};
    ///
    /// # let handshake = Handshake::parse(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#).unwrap();
    /// let mut conn = Connection::new(handshake, TransportKind::Polling, true);
    /// while conn.poll_output().is_some() {}
    /// conn.handle_timer(Timer::ProbeGrace); // the probe is slow: receive meanwhile
    /// assert_eq!(conn.poll_output(), Some(Output::ResumePolling));
    /// assert!(conn.is_probing());
    /// conn.handle_timer(Timer::Ping); // a v4 session never started one
    /// assert_eq!(conn.poll_output(), None);
    /// ```
    pub fn handle_timer(&mut self, timer: Timer) {
        match timer {
            Timer::Ping => self.ping_timer_fired(),
            Timer::FirstPingDue => self.first_ping_due(),
            Timer::ProbeGrace | Timer::ProbeTimeout => self.probe_timer_fired(timer),
        }
    }

    fn probe_timer_fired(&mut self, timer: Timer) {
        if self.is_closed() || self.upgrade != Upgrade::Probing {
            return;
        }
        match timer {
            Timer::ProbeGrace => self.start_polling(),
            Timer::ProbeTimeout => self.fail_upgrade(UpgradeError::Timeout),
            Timer::Ping | Timer::FirstPingDue => {}
        }
    }

    pub(super) fn start_probe(&mut self) {
        self.upgrade = Upgrade::Probing;
        self.outputs.push_back(Output::OpenProbe);
        self.outputs
            .push_back(Output::StartTimer(Timer::ProbeGrace, PROBE_GRACE));
        self.outputs
            .push_back(Output::StartTimer(Timer::ProbeTimeout, PROBE_TIMEOUT));
    }

    pub(super) fn fail_upgrade(&mut self, error: UpgradeError) {
        match self.upgrade {
            Upgrade::Probing => {
                self.upgrade = Upgrade::Failed;
                self.start_polling();
            }
            // Polling is still pausing and will hand back its queue; what was held
            // goes out over polling then, after it, so nothing is reordered.
            Upgrade::Pausing { broken: false } => self.upgrade = Upgrade::Pausing { broken: true },
            _ => return,
        }
        self.unwritten.websocket = 0;
        self.outputs
            .push_back(Output::CloseTransport(TransportKind::WebSocket));
        self.emit(Event::UpgradeFailed(error));
    }

    /// Whether a probe websocket exists beside the active polling transport.
    pub(super) fn upgrade_transport_open(&self) -> bool {
        self.active == TransportKind::Polling
            && matches!(self.upgrade, Upgrade::Probing | Upgrade::Pausing { .. })
    }

    /// The probe websocket stopped before the switch: the upgrade failed.
    pub(super) fn handle_probe_end(&mut self, end: TransportEnd) {
        let cause = match end {
            TransportEnd::ServerClosed | TransportEnd::Closed => {
                TransportError::ConnectionLost("closed during the probe".into())
            }
            TransportEnd::Error(cause) => cause,
        };
        self.fail_upgrade(UpgradeError::Transport(cause));
    }
}
