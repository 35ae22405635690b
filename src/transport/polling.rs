//! The long-polling transport: a loop of GETs to receive, POSTs to send, at most one
//! of each in flight (the "HTTP long-polling" transport of Engine.IO), in the payload
//! format of the session's protocol version.

use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, SpawnHandle, WrapFuture,
};

use super::http::{refusal_of_v4, Http, PollingUrls};
use super::{
    AbortTransport, CloseTransport, PausePolling, PauseReading, ResumePolling, ResumeReading,
    SessionLink, Transmit, TransportEventKind, WrittenCounter,
};
use bytes::Bytes;

use crate::protocol::{
    polling, polling_v3, Handshake, Packet, ProtocolError, ProtocolVersion, TransportEnd,
    TransportError,
};

/// Added to `pingInterval + pingTimeout` for a poll's timeout: the server answers a
/// poll at least every `pingInterval`, with a ping.
const POLL_TIMEOUT_MARGIN: Duration = Duration::from_secs(5);

/// Opens a polling session: the handshake GET, and any packets that came with it.
pub(crate) async fn handshake(http: Rc<Http>) -> Result<(Handshake, Vec<Packet>), TransportError> {
    let version = http.version();
    let body = http
        .get(&http.handshake_url(), http.config().request_timeout)
        .await
        .map_err(|e| refusal_of_v4(version, e))?;
    let decoded = decode(version, body.clone());
    let mut packets = match decoded {
        Ok(packets) => packets.into_iter(),
        Err(error) => return Err(mismatch(version, &body).unwrap_or(error).into()),
    };
    match packets.next() {
        Some(Packet::Open(handshake)) => Ok((*handshake, packets.collect())),
        other => Err(mismatch(version, &body)
            .unwrap_or_else(|| {
                ProtocolError::InvalidHandshake(format!(
                    "expected an open packet, got {:?}",
                    other.map(|p| p.packet_type())
                ))
            })
            .into()),
    }
}

/// Decodes a response body in the payload format of `version`: v4 text, or any v3
/// payload (text or binary, whatever the content type says).
fn decode(version: ProtocolVersion, body: Bytes) -> Result<Vec<Packet>, ProtocolError> {
    match version {
        ProtocolVersion::V4 => polling::decode(body),
        ProtocolVersion::V3 => polling_v3::decode(body),
    }
}

/// The error of a v4 handshake whose body is not a v4 handshake but decodes as a v3 one:
/// the server speaks Engine.IO v3 only (it ignored `EIO=4`). `None` otherwise.
fn mismatch(version: ProtocolVersion, body: &Bytes) -> Option<ProtocolError> {
    if version != ProtocolVersion::V4 {
        return None;
    }
    let v3 = polling_v3::decode(body.clone()).ok()?;
    matches!(v3.first(), Some(Packet::Open(_)))
        .then(|| ProtocolError::ServerSpeaksV3("it answered with a v3 handshake".into()))
}

/// The transport actor of one polling session.
pub(crate) struct PollingTransport {
    http: Rc<Http>,
    urls: Rc<PollingUrls>,
    session: SessionLink,
    /// The payload format of polls and POSTs.
    version: ProtocolVersion,
    max_payload: usize,
    poll_timeout: Duration,
    /// Packets not yet in a POST, in order.
    queue: VecDeque<Packet>,
    /// The GET in flight.
    poll: Option<SpawnHandle>,
    /// Whether a POST is in flight.
    posting: bool,
    /// Whether the receive loop runs.
    receiving: bool,
    pause: Pause,
    /// Closing: flush the queue, report [`TransportEnd::Closed`], then stop; nothing
    /// else is reported.
    closing: bool,
    /// The session asked to stop reading: no new poll until it asks again.
    reading_held: bool,
    written: WrittenCounter,
}

/// Where a pause for the upgrade stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pause {
    Off,
    /// Waiting for the requests in flight to finish.
    Requested,
    /// Reported to the session; nothing is sent until resumed or closed.
    Paused,
}

impl PollingTransport {
    pub fn new(http: Rc<Http>, handshake: &Handshake, session: SessionLink) -> Self {
        PollingTransport {
            urls: Rc::new(http.polling_urls(&handshake.sid)),
            written: WrittenCounter::new(http.config().send_buffer),
            version: http.version(),
            http,
            session,
            max_payload: handshake.max_payload_bytes(),
            poll_timeout: handshake.heartbeat_deadline() + POLL_TIMEOUT_MARGIN,
            queue: VecDeque::new(),
            poll: None,
            posting: false,
            receiving: false,
            pause: Pause::Off,
            closing: false,
            reading_held: false,
        }
    }

    fn report(&self, kind: TransportEventKind) {
        if !self.closing {
            self.session.report(kind);
        }
    }

    /// Ends with `error`, handing back what was never posted.
    fn fail(&mut self, error: TransportError, ctx: &mut Context<Self>) {
        self.session.give_back(self.queue.drain(..));
        self.report(TransportEventKind::Ended(TransportEnd::Error(error)));
        self.closing = true;
        ctx.stop();
    }

    /// Starts the next GET when the loop runs and none is in flight.
    fn poll_next(&mut self, ctx: &mut Context<Self>) {
        let idle = self.receiving && self.pause == Pause::Off && !self.reading_held;
        if !idle || self.closing || self.poll.is_some() {
            return;
        }
        let http = self.http.clone();
        let url = self.urls.poll();
        let timeout = self.poll_timeout;
        let version = self.version;
        let request = async move {
            let body = http.get(&url, timeout).await?;
            Ok::<_, TransportError>(decode(version, body)?)
        };
        let handle = ctx.spawn(request.into_actor(self).map(|result, act, ctx| {
            act.poll = None;
            if act.closing {
                return act.stop_when_idle(ctx);
            }
            match result {
                Ok(packets) => {
                    // After the server's close, a poll would only get 400 "Session ID unknown".
                    if packets.contains(&Packet::Close) {
                        act.receiving = false;
                    }
                    if !packets.is_empty() {
                        act.report(TransportEventKind::Packets(packets));
                    }
                    act.check_paused();
                    act.poll_next(ctx);
                }
                Err(error) => act.fail(error, ctx),
            }
        }));
        self.poll = Some(handle);
    }

    /// Sends the next batch when nothing is posting, unless paused.
    fn post_next(&mut self, ctx: &mut Context<Self>) {
        if self.posting || (self.pause != Pause::Off && !self.closing) {
            return;
        }
        let max_packets = self.http.config().max_packets_per_post;
        let (queue, max_payload) = (&mut self.queue, self.max_payload);
        let batch = match self.version {
            ProtocolVersion::V4 => polling::take_batch(queue, max_payload, max_packets)
                .map(|batch| (Bytes::from(batch.body), batch.wire_len)),
            ProtocolVersion::V3 => polling_v3::take_batch(queue, max_payload, max_packets)
                .map(|batch| (batch.body, batch.wire_len)),
        };
        let Some((body, written)) = batch else {
            return self.stop_when_idle(ctx);
        };
        self.posting = true;
        let http = self.http.clone();
        let url = self.urls.post();
        let request = async move { http.post(url?, body).await };
        ctx.spawn(request.into_actor(self).map(move |result, act, ctx| {
            act.posting = false;
            match result {
                Ok(()) => {
                    if let Some(written) = act.written.add(written) {
                        act.report(TransportEventKind::Written(written));
                    }
                    act.check_paused();
                    act.post_next(ctx);
                }
                Err(_) if act.closing => act.closed(ctx),
                Err(error) => act.fail(error, ctx),
            }
        }));
    }

    /// Once closing, reports the close done when nothing is left to send: the server
    /// has the close packet. A poll in flight is left to finish, so that the server
    /// does not see a broken request; the server answers it once it has the close, or
    /// within the timeout.
    fn stop_when_idle(&mut self, ctx: &mut Context<Self>) {
        if !self.closing || self.posting || !self.queue.is_empty() {
            return;
        }
        self.closed(ctx);
    }

    /// The close is done (or failed): tells the session, then stops once no poll is
    /// in flight.
    fn closed(&mut self, ctx: &mut Context<Self>) {
        self.session
            .report(TransportEventKind::Ended(TransportEnd::Closed));
        if self.poll.is_none() {
            ctx.stop();
        } else {
            ctx.run_later(self.http.config().request_timeout, |_, ctx| ctx.stop());
        }
    }

    /// Reports the pause once nothing is in flight.
    fn check_paused(&mut self) {
        if self.pause == Pause::Requested && self.poll.is_none() && !self.posting {
            self.pause = Pause::Paused;
            self.session.give_back(self.queue.drain(..));
            self.report(TransportEventKind::Paused);
        }
    }
}

impl Actor for PollingTransport {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        crate::diagnostics::actor_started();
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        crate::diagnostics::actor_stopped();
    }
}

impl Handler<Transmit> for PollingTransport {
    type Result = ();

    fn handle(&mut self, Transmit(packets): Transmit, ctx: &mut Context<Self>) {
        self.queue.extend(packets);
        self.post_next(ctx);
    }
}

impl Handler<ResumePolling> for PollingTransport {
    type Result = ();

    fn handle(&mut self, _: ResumePolling, ctx: &mut Context<Self>) {
        self.receiving = true;
        self.pause = Pause::Off;
        self.poll_next(ctx);
        self.post_next(ctx);
    }
}

impl Handler<PausePolling> for PollingTransport {
    type Result = ();

    fn handle(&mut self, _: PausePolling, _: &mut Context<Self>) {
        self.pause = Pause::Requested;
        self.check_paused();
    }
}

impl Handler<CloseTransport> for PollingTransport {
    type Result = ();

    fn handle(&mut self, _: CloseTransport, ctx: &mut Context<Self>) {
        // Whatever is queued goes out, paused or not; nothing is reported anymore.
        self.closing = true;
        self.pause = Pause::Off;
        self.post_next(ctx);
    }
}

impl Handler<AbortTransport> for PollingTransport {
    type Result = ();

    fn handle(&mut self, _: AbortTransport, ctx: &mut Context<Self>) {
        // Stopping drops the requests in flight, and with them their connections; what
        // is in no POST yet was never sent.
        self.session.give_back(self.queue.drain(..));
        self.closing = true;
        ctx.stop();
    }
}

impl Handler<PauseReading> for PollingTransport {
    type Result = ();

    fn handle(&mut self, _: PauseReading, _: &mut Context<Self>) {
        self.reading_held = true;
    }
}

impl Handler<ResumeReading> for PollingTransport {
    type Result = ();

    fn handle(&mut self, _: ResumeReading, ctx: &mut Context<Self>) {
        self.reading_held = false;
        self.poll_next(ctx);
    }
}
