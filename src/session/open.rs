//! The parts of a session that exist once it is open: the state machine, the
//! heartbeat and transport actors, and the packets on their way to the transports.

use std::future::Future;

use actix::Addr;
use futures::future::{join_all, LocalBoxFuture};
use futures::FutureExt;

use crate::heartbeat::Heartbeat;
use crate::protocol::{Connection, Packet, Payload, TransportKind};
use crate::transport::polling::PollingTransport;
use crate::transport::websocket::WebSocketTransport;
use crate::transport::{
    AbortTransport, CloseTransport, GivenBack, PausePolling, PauseReading, ResumePolling,
    ResumeReading, Transmit,
};

pub(super) struct Open {
    pub conn: Connection,
    pub heartbeat: Addr<Heartbeat>,
    pub polling: Option<Addr<PollingTransport>>,
    pub websocket: Option<Addr<WebSocketTransport>>,
    outbox: Outbox,
    /// What the polling and the websocket transport gave back, in that order.
    given_back: [GivenBack; 2],
    /// The aborted transports' answers: once in, all they never wrote is given back.
    aborted: Vec<LocalBoxFuture<'static, ()>>,
    /// Why the transports are not reading (a bit per [`ReadHold`]); they read when none.
    read_holds: u8,
}

/// Who holds the transports' reading back, each letting go on its own.
#[derive(Debug, Clone, Copy)]
pub(super) enum ReadHold {
    /// The client's channel is full.
    Client = 1,
    /// Actor subscribers have too much unhandled in their mailboxes.
    Subscribers = 2,
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
        given_back: [GivenBack; 2],
    ) -> Self {
        Open {
            conn,
            heartbeat,
            polling,
            websocket,
            outbox: Outbox::default(),
            given_back,
            aborted: Vec::new(),
            read_holds: 0,
        }
    }

    /// Where `transport` gives back what it will never send.
    pub fn given_back(&self, transport: TransportKind) -> &GivenBack {
        match transport {
            TransportKind::Polling => &self.given_back[0],
            TransportKind::WebSocket => &self.given_back[1],
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
        // A transport that has ended never sends them: they are given back after what
        // it gave back itself.
        if !outbox.polling.is_empty() {
            let packets = std::mem::take(&mut outbox.polling);
            match &self.polling {
                Some(polling) => polling.do_send(Transmit(packets)),
                None => self.given_back[0].give(packets),
            }
        }
        if !outbox.websocket.is_empty() {
            let packets = std::mem::take(&mut outbox.websocket);
            match &self.websocket {
                Some(websocket) => websocket.do_send(Transmit(packets)),
                None => self.given_back[1].give(packets),
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

    /// Stops the transport at once. What it had not started to write, then what was
    /// gathered for it, is given back once it has answered (see
    /// [`take_aborted`](Self::take_aborted)).
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
        let given_back = self.given_back(transport).clone();
        self.aborted.push(
            async move {
                if let Some(answer) = answer {
                    // A transport already stopped gave back what it had at its end.
                    let _ = answer.await;
                }
                given_back.give(gathered);
            }
            .boxed_local(),
        );
    }

    /// Done once every aborted transport has answered; `None` when none was aborted.
    pub fn take_aborted(&mut self) -> Option<impl Future<Output = ()>> {
        if self.aborted.is_empty() {
            return None;
        }
        Some(join_all(std::mem::take(&mut self.aborted)).map(drop))
    }

    /// The messages the connection's transports were given and will never send, in order
    /// (a session writes its messages on one transport at a time).
    pub fn take_unsent(&self) -> Vec<Payload> {
        self.given_back
            .iter()
            .flat_map(GivenBack::take)
            .filter_map(Packet::into_message)
            .collect()
    }

    /// Stops the transports' reading for `hold`, unless something holds it already.
    pub fn hold_reading(&mut self, hold: ReadHold) {
        let before = self.read_holds;
        self.read_holds |= hold as u8;
        if before == 0 {
            self.pause_reading();
        }
    }

    /// Lets go of `hold`: the transports read again once nothing holds them.
    pub fn release_reading(&mut self, hold: ReadHold) {
        if self.read_holds & hold as u8 == 0 {
            return;
        }
        self.read_holds &= !(hold as u8);
        if self.read_holds == 0 {
            self.resume_reading();
        }
    }

    /// A websocket that became the session's transport (the upgrade completed) reads
    /// only if nothing holds the reading back: the holds were made while it probed.
    pub fn upgraded(&self) {
        if let (true, Some(websocket)) = (self.read_holds != 0, &self.websocket) {
            websocket.do_send(PauseReading);
        }
    }

    fn pause_reading(&self) {
        if let Some(polling) = &self.polling {
            polling.do_send(PauseReading);
        }
        // A websocket still probing must read the server's answer to the probe; it is
        // held once the upgrade completes (`upgraded`).
        if let Some(websocket) = &self.websocket {
            if self.conn.transport() == TransportKind::WebSocket {
                websocket.do_send(PauseReading);
            }
        }
    }

    fn resume_reading(&self) {
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
