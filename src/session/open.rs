//! The parts of a session that exist once it is open: the state machine, the
//! heartbeat and transport actors, and the packets on their way to the transports.

use std::future::Future;

use actix::Addr;
use futures::future::{join_all, LocalBoxFuture};
use futures::FutureExt;

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
    /// The answers of the transports aborted: what they never wrote.
    aborted: Vec<LocalBoxFuture<'static, Vec<Packet>>>,
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
            aborted: Vec::new(),
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

    /// Stops the transport at once. The packets it had not started to write, then those
    /// gathered for it, are kept for [`take_aborted`](Self::take_aborted).
    pub fn abort_transport(&mut self, transport: TransportKind) {
        let (gathered, answer) = match transport {
            TransportKind::Polling => (
                std::mem::take(&mut self.outbox.polling),
                self.polling
                    .take()
                    .map(|polling| polling.send(AbortTransport).boxed_local()),
            ),
            TransportKind::WebSocket => (
                std::mem::take(&mut self.outbox.websocket),
                self.websocket
                    .take()
                    .map(|websocket| websocket.send(AbortTransport).boxed_local()),
            ),
        };
        self.aborted.push(
            async move {
                let mut unwritten = match answer {
                    // A transport that stopped by itself has already reported its end.
                    Some(answer) => answer.await.unwrap_or_default(),
                    None => Vec::new(),
                };
                unwritten.extend(gathered);
                unwritten
            }
            .boxed_local(),
        );
    }

    /// What the aborted transports never wrote, each transport's packets in order (a
    /// session writes its messages on one transport at a time); `None` when none was.
    pub fn take_aborted(&mut self) -> Option<impl Future<Output = Vec<Packet>>> {
        if self.aborted.is_empty() {
            return None;
        }
        let aborted = std::mem::take(&mut self.aborted);
        Some(join_all(aborted).map(|each| each.concat()))
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
