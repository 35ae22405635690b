//! The parts of a session that exist once it is open: the state machine, the
//! heartbeat and transport actors, and the packets on their way to the transports.

use actix::Addr;

use crate::heartbeat::Heartbeat;
use crate::protocol::{Connection, Packet, TransportKind};
use crate::transport::polling::PollingTransport;
use crate::transport::websocket::WebSocketTransport;
use crate::transport::{
    AbortTransport, CloseTransport, PausePolling, PauseReading, ResumePolling, ResumeReading,
    Transmit,
};

pub(super) struct Open {
    pub conn: Connection,
    pub heartbeat: Addr<Heartbeat>,
    pub polling: Option<Addr<PollingTransport>>,
    pub websocket: Option<Addr<WebSocketTransport>>,
    outbox: Outbox,
}

/// Packets on their way to a transport, gathered until the mailbox is drained.
#[derive(Default)]
struct Outbox {
    polling: Vec<Packet>,
    websocket: Vec<Packet>,
    /// Whether a flush is scheduled.
    scheduled: bool,
}

impl Open {
    pub fn new(
        conn: Connection,
        heartbeat: Addr<Heartbeat>,
        polling: Option<Addr<PollingTransport>>,
        websocket: Option<Addr<WebSocketTransport>>,
    ) -> Self {
        Open {
            conn,
            heartbeat,
            polling,
            websocket,
            outbox: Outbox::default(),
        }
    }

    /// Gathers a packet for `transport`. Returns whether a flush must be scheduled
    /// (the first packet since the last flush).
    pub fn gather(&mut self, transport: TransportKind, packet: Packet) -> bool {
        let outbox = &mut self.outbox;
        match transport {
            TransportKind::Polling => outbox.polling.push(packet),
            TransportKind::WebSocket => outbox.websocket.push(packet),
        }
        !std::mem::replace(&mut outbox.scheduled, true)
    }

    /// Hands the gathered packets to their transports, in order. Called before any
    /// other command to a transport, so commands never overtake packets.
    pub fn flush_outbox(&mut self) {
        let outbox = &mut self.outbox;
        outbox.scheduled = false;
        if !outbox.polling.is_empty() {
            let packets = std::mem::take(&mut outbox.polling);
            if let Some(polling) = &self.polling {
                polling.do_send(Transmit(packets));
            }
        }
        if !outbox.websocket.is_empty() {
            let packets = std::mem::take(&mut outbox.websocket);
            if let Some(websocket) = &self.websocket {
                websocket.do_send(Transmit(packets));
            }
        }
    }

    pub fn resume_polling(&mut self) {
        self.flush_outbox();
        if let Some(polling) = &self.polling {
            polling.do_send(ResumePolling);
        }
    }

    pub fn pause_polling(&mut self) {
        self.flush_outbox();
        if let Some(polling) = &self.polling {
            polling.do_send(PausePolling);
        }
    }

    /// Sends what is gathered, then tells the transport to finish and stop.
    pub fn close_transport(&mut self, transport: TransportKind) {
        self.flush_outbox();
        match transport {
            TransportKind::Polling => {
                if let Some(polling) = self.polling.take() {
                    polling.do_send(CloseTransport);
                }
            }
            TransportKind::WebSocket => {
                if let Some(websocket) = self.websocket.take() {
                    websocket.do_send(CloseTransport);
                }
            }
        }
    }

    /// Stops the transport at once; what was gathered for it is dropped.
    pub fn abort_transport(&mut self, transport: TransportKind) {
        match transport {
            TransportKind::Polling => {
                self.outbox.polling.clear();
                if let Some(polling) = self.polling.take() {
                    polling.do_send(AbortTransport);
                }
            }
            TransportKind::WebSocket => {
                self.outbox.websocket.clear();
                if let Some(websocket) = self.websocket.take() {
                    websocket.do_send(AbortTransport);
                }
            }
        }
    }

    pub fn pause_reading(&self) {
        if let Some(polling) = &self.polling {
            polling.do_send(PauseReading);
        }
        if let Some(websocket) = &self.websocket {
            websocket.do_send(PauseReading);
        }
    }

    pub fn resume_reading(&self) {
        if let Some(polling) = &self.polling {
            polling.do_send(ResumeReading);
        }
        if let Some(websocket) = &self.websocket {
            websocket.do_send(ResumeReading);
        }
    }

    /// The transport actor stopped by itself; it is gone.
    pub fn forget_transport(&mut self, transport: TransportKind) {
        match transport {
            TransportKind::Polling => self.polling = None,
            TransportKind::WebSocket => self.websocket = None,
        }
    }
}
