//! The limit: awc with engine.io frames written and read by hand, no session layer, on
//! an actix `System` like this crate. Websocket: open
//! `ws://…/engine.io/?EIO=4&transport=websocket`, read the `0{…}` open frame, send
//! `4<payload>` text frames, read the echoes, answer `2` with `3`. Polling (for the
//! polling scenarios): one GET loop, one POST in flight that carries everything queued
//! up to `maxPayload` (no packet cap).

use std::time::{Duration, Instant};

use actix_codec::Framed;
use awc::ws::{Codec, Frame, Message};
use awc::BoxedSocket;
use bytes::Bytes;
use bytestring::ByteString;
use futures::channel::mpsc;
use futures::future::{join_all, try_join};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;

use crate::common::{
    batches, rss_kib, trim_heap, BenchResult, Job, Kind, Latencies, Measurement, Payloads,
    Stopwatch, EIO_PATH, MAX_MESSAGE,
};

type Ws = Framed<BoxedSocket, Codec>;

/// The fields of the open packet used here.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Open {
    sid: String,
    max_payload: usize,
}

pub fn run(job: Job) -> BenchResult<Measurement> {
    actix_rt::System::new().block_on(run_job(job))
}

async fn run_job(job: Job) -> BenchResult<Measurement> {
    let s = &job.scenario;
    let client = http_client();
    let base = job.base.as_str();
    let mut m = Measurement::default();
    let p = Payloads::new(s.size);
    match s.kind {
        Kind::WsSeq => {
            let mut ws = ws_session(&client, base).await?;
            let mut lat = Latencies::with_capacity(s.count);
            let sw = Stopwatch::start();
            for i in 0..s.count {
                let t = Instant::now();
                ws_send(&mut ws, p.make_prefixed(i, "4")).await?;
                let echo = ws_next_message(&mut ws).await?;
                p.check(i, &echo)?;
                lat.push(t.elapsed());
            }
            sw.finish_messages(&mut m, s.count);
            lat.record(&mut m);
            let _ = ws.close().await;
        }
        Kind::WsPipe => {
            let ws = ws_session(&client, base).await?;
            let sw = Stopwatch::start();
            ws_pipelined(ws, &p, s.count).await?;
            sw.finish_messages(&mut m, s.count);
        }
        Kind::PollSeq => {
            let mut poll = Polling::open(&client, base).await?;
            let mut lat = Latencies::with_capacity(s.count);
            let sw = Stopwatch::start();
            for i in 0..s.count {
                let t = Instant::now();
                poll.send(p.make_prefixed(i, "4"))?;
                let echo = poll.next_message(i).await?;
                p.check(i, &echo)?;
                lat.push(t.elapsed());
            }
            sw.finish_messages(&mut m, s.count);
            lat.record(&mut m);
            poll.close().await;
        }
        Kind::PollPipe => {
            let mut poll = Polling::open(&client, base).await?;
            let sw = Stopwatch::start();
            for i in 0..s.count {
                poll.send(p.make_prefixed(i, "4"))?;
            }
            for i in 0..s.count {
                let echo = poll.next_message(i).await?;
                p.check(i, &echo)?;
            }
            sw.finish_messages(&mut m, s.count);
            poll.close().await;
        }
        Kind::Upgrade => {
            let mut lat = Latencies::with_capacity(s.sessions);
            for n in 0..s.sessions {
                let t = Instant::now();
                let mut ws = upgraded(&client, base)
                    .await
                    .map_err(|e| format!("session {n}: {e}"))?;
                lat.push(t.elapsed());
                let _ = ws.close().await;
            }
            lat.record(&mut m);
        }
        Kind::Idle => {
            let warm = ws_session(&client, base).await?;
            let warm = actix_rt::spawn(idle_reader(warm));
            settle().await;
            let before = rss_kib()?;
            let t = Instant::now();
            let sockets = open_many(&client, base, s.sessions, s.batch).await?;
            let readers: Vec<_> = sockets
                .into_iter()
                .map(|ws| actix_rt::spawn(idle_reader(ws)))
                .collect();
            let open_secs = t.elapsed().as_secs_f64();
            settle().await;
            let after = rss_kib()?;
            m.set("sessions", s.sessions as f64)
                .set("batch", s.batch as f64)
                .set("open_secs", open_secs)
                .set("rss_before_mib", before / 1024.0)
                .set("rss_after_mib", after / 1024.0)
                .set("kib_per_session", (after - before) / s.sessions as f64);
            for r in readers {
                r.abort();
            }
            warm.abort();
        }
        Kind::Many => {
            let t = Instant::now();
            let sockets = open_many(&client, base, s.sessions, s.batch).await?;
            m.set("open_secs", t.elapsed().as_secs_f64());
            let sw = Stopwatch::start();
            let results =
                join_all(sockets.into_iter().map(|ws| ws_pipelined(ws, &p, s.count))).await;
            sw.finish_messages(&mut m, s.sessions * s.count);
            m.set("sessions", s.sessions as f64);
            if let Some((i, Err(e))) = results.iter().enumerate().find(|(_, r)| r.is_err()) {
                return Err(format!("session {i}: {e}"));
            }
        }
    }
    Ok(m)
}

/// An awc client like the one this crate builds: no pool limit, no request timeout.
fn http_client() -> awc::Client {
    awc::Client::builder()
        .connector(awc::Connector::new().limit(0))
        .disable_timeout()
        .finish()
}

fn ws_base(base: &str) -> String {
    base.replacen("http://", "ws://", 1)
}

async fn ws_connect(client: &awc::Client, url: String) -> BenchResult<Ws> {
    let (_, ws) = client
        .ws(url)
        .max_frame_size(MAX_MESSAGE + 1)
        .connect()
        .await
        .map_err(|e| format!("websocket: {e}"))?;
    Ok(ws)
}

/// A websocket-only session: opens the socket and reads the open packet.
async fn ws_session(client: &awc::Client, base: &str) -> BenchResult<Ws> {
    let url = format!("{}{EIO_PATH}?EIO=4&transport=websocket", ws_base(base));
    let mut ws = ws_connect(client, url).await?;
    match ws.next().await {
        Some(Ok(Frame::Text(open))) if open.first() == Some(&b'0') => Ok(ws),
        other => Err(format!("expected the open packet, got {other:?}")),
    }
}

async fn ws_send(ws: &mut Ws, text: String) -> BenchResult<()> {
    ws.send(Message::Text(ByteString::from(text)))
        .await
        .map_err(|e| format!("websocket send: {e}"))
}

/// The next message's payload; answers pings on the way.
async fn ws_next_message(ws: &mut Ws) -> BenchResult<Bytes> {
    loop {
        match ws.next().await {
            Some(Ok(Frame::Text(data))) => match data.first() {
                Some(b'4') => return Ok(data.slice(1..)),
                Some(b'2') => ws_send(ws, "3".into()).await?,
                _ => {}
            },
            Some(Ok(Frame::Binary(data))) => return Ok(data),
            Some(Ok(Frame::Ping(data))) => ws
                .send(Message::Pong(data))
                .await
                .map_err(|e| format!("websocket send: {e}"))?,
            Some(Ok(Frame::Close(reason))) => return Err(format!("server closed: {reason:?}")),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(format!("websocket: {e}")),
            None => return Err("the socket closed".into()),
        }
    }
}

/// Writes `count` messages back to back (and pongs when asked) while the echoes are
/// read and checked.
async fn ws_pipelined(ws: Ws, p: &Payloads, count: usize) -> BenchResult<()> {
    let (mut sink, mut stream) = ws.split();
    let (pong_tx, pong_rx) = mpsc::unbounded::<Message>();
    let writer = async {
        let data = futures::stream::iter(
            (0..count).map(|i| Ok(Message::Text(ByteString::from(p.make_prefixed(i, "4"))))),
        );
        let mut all = futures::stream::select(data, pong_rx.map(Ok));
        sink.send_all(&mut all)
            .await
            .map_err(|e| format!("websocket send: {e}"))?;
        let _ = sink.close().await;
        Ok::<_, String>(())
    };
    let reader = async move {
        let mut i = 0;
        while i < count {
            match stream.next().await {
                Some(Ok(Frame::Text(data))) => match data.first() {
                    Some(b'4') => {
                        p.check(i, &data[1..])?;
                        i += 1;
                    }
                    Some(b'2') => {
                        let _ = pong_tx.unbounded_send(Message::Text("3".into()));
                    }
                    _ => {}
                },
                Some(Ok(Frame::Close(reason))) => {
                    return Err(format!("server closed after {i} echoes: {reason:?}"))
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(format!("after {i} echoes: {e}")),
                None => return Err(format!("the socket closed after {i} echoes")),
            }
        }
        // Ends the writer's pong stream.
        drop(pong_tx);
        Ok(())
    };
    try_join(writer, reader).await.map(|_| ())
}

/// Reads an idle socket, answering pings, until it closes.
async fn idle_reader(mut ws: Ws) {
    while let Some(Ok(frame)) = ws.next().await {
        match frame {
            Frame::Text(data)
                if data.first() == Some(&b'2') && ws_send(&mut ws, "3".into()).await.is_err() =>
            {
                return
            }
            Frame::Close(_) => return,
            _ => {}
        }
    }
}

async fn open_many(
    client: &awc::Client,
    base: &str,
    n: usize,
    batch: usize,
) -> BenchResult<Vec<Ws>> {
    let mut sockets = Vec::with_capacity(n);
    for range in batches(n, batch) {
        let opened = join_all(range.map(|_| ws_session(client, base))).await;
        for ws in opened {
            sockets.push(ws.map_err(|e| format!("after {} sessions: {e}", sockets.len()))?);
        }
    }
    Ok(sockets)
}

/// Polling handshake, then the websocket probe and upgrade, by hand.
async fn upgraded(client: &awc::Client, base: &str) -> BenchResult<Ws> {
    let open = poll_handshake(client, base).await?;
    let url = format!(
        "{}{EIO_PATH}?EIO=4&transport=websocket&sid={}",
        ws_base(base),
        open.sid
    );
    let mut ws = ws_connect(client, url).await?;
    ws_send(&mut ws, "2probe".into()).await?;
    match ws.next().await {
        Some(Ok(Frame::Text(data))) if &data[..] == b"3probe" => {}
        other => return Err(format!("expected 3probe, got {other:?}")),
    }
    ws_send(&mut ws, "5".into()).await?;
    Ok(ws)
}

async fn poll_handshake(client: &awc::Client, base: &str) -> BenchResult<Open> {
    let url = format!("{base}{EIO_PATH}?EIO=4&transport=polling");
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let body = response
        .body()
        .limit(1 << 20)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let first = body.split(|b| *b == 0x1e).next().unwrap_or_default();
    match first.split_first() {
        Some((b'0', json)) => serde_json::from_slice(json).map_err(|e| format!("handshake: {e}")),
        _ => Err(format!(
            "handshake: expected an open packet, got {:?}",
            String::from_utf8_lossy(&body)
        )),
    }
}

enum PollEvent {
    Message(Bytes),
    End(String),
}

/// A polling session by hand: a GET loop task and a POST task.
struct Polling {
    out: mpsc::UnboundedSender<String>,
    events: mpsc::UnboundedReceiver<PollEvent>,
    getter: actix_rt::task::JoinHandle<()>,
    poster: actix_rt::task::JoinHandle<()>,
}

impl Polling {
    async fn open(client: &awc::Client, base: &str) -> BenchResult<Polling> {
        let open = poll_handshake(client, base).await?;
        let url = format!("{base}{EIO_PATH}?EIO=4&transport=polling&sid={}", open.sid);
        let (out, out_rx) = mpsc::unbounded::<String>();
        let (events_tx, events) = mpsc::unbounded::<PollEvent>();
        let getter = actix_rt::spawn(get_loop(
            client.clone(),
            url.clone(),
            out.clone(),
            events_tx.clone(),
        ));
        let poster = actix_rt::spawn(post_loop(
            client.clone(),
            url,
            open.max_payload,
            out_rx,
            events_tx,
        ));
        Ok(Polling {
            out,
            events,
            getter,
            poster,
        })
    }

    fn send(&self, packet: String) -> BenchResult<()> {
        self.out
            .unbounded_send(packet)
            .map_err(|_| "the POST loop ended".to_owned())
    }

    async fn next_message(&mut self, i: usize) -> BenchResult<Bytes> {
        match self.events.next().await {
            Some(PollEvent::Message(data)) => Ok(data),
            Some(PollEvent::End(e)) => Err(format!("after {i} echoes: {e}")),
            None => Err(format!("session ended after {i} echoes")),
        }
    }

    async fn close(self) {
        let _ = self.out.unbounded_send("1".into());
        self.out.close_channel();
        let _ = actix_rt::time::timeout(Duration::from_secs(2), self.poster).await;
        self.getter.abort();
    }
}

async fn get_loop(
    client: awc::Client,
    url: String,
    out: mpsc::UnboundedSender<String>,
    events: mpsc::UnboundedSender<PollEvent>,
) {
    let end = |e: String| {
        let _ = events.unbounded_send(PollEvent::End(e));
    };
    loop {
        let mut response = match client.get(url.as_str()).send().await {
            Ok(r) => r,
            Err(e) => return end(format!("GET: {e}")),
        };
        if !response.status().is_success() {
            return end(format!("GET: HTTP {}", response.status()));
        }
        let body = match response.body().limit(64 << 20).await {
            Ok(b) => b,
            Err(e) => return end(format!("GET body: {e}")),
        };
        for packet in body.split(|b| *b == 0x1e) {
            match packet.first() {
                Some(b'4') => {
                    let _ = events.unbounded_send(PollEvent::Message(body.slice_ref(&packet[1..])));
                }
                Some(b'2') => {
                    let _ = out.unbounded_send("3".into());
                }
                Some(b'1') => return end("the server closed the session".into()),
                _ => {}
            }
        }
    }
}

async fn post_loop(
    client: awc::Client,
    url: String,
    max_payload: usize,
    mut queue: mpsc::UnboundedReceiver<String>,
    events: mpsc::UnboundedSender<PollEvent>,
) {
    let mut carry: Option<String> = None;
    loop {
        let mut body = match carry.take() {
            Some(packet) => packet,
            None => match queue.next().await {
                Some(packet) => packet,
                None => return,
            },
        };
        while let Ok(packet) = queue.try_recv() {
            if body.len() + 1 + packet.len() > max_payload {
                carry = Some(packet);
                break;
            }
            body.push('\x1e');
            body.push_str(&packet);
        }
        let sent = client
            .post(url.as_str())
            .insert_header(("Content-Type", "text/plain;charset=UTF-8"))
            .send_body(body)
            .await;
        match sent {
            Ok(mut r) if r.status().is_success() => {
                let _ = r.body().await;
            }
            Ok(r) => {
                let _ = events.unbounded_send(PollEvent::End(format!("POST: HTTP {}", r.status())));
                return;
            }
            Err(e) => {
                let _ = events.unbounded_send(PollEvent::End(format!("POST: {e}")));
                return;
            }
        }
    }
}

async fn settle() {
    actix_rt::time::sleep(Duration::from_millis(500)).await;
    trim_heap();
}
