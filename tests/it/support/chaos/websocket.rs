//! The websocket half of the chaos server: websocket-only sessions (the open packet
//! first), the upgrade probe (`2probe` answered right, wrong, twice, or not at all), and
//! the session's websocket once it is the active transport: one step every few ms,
//! each a few frames drawn from the session's websocket stream.

use std::time::Instant;

use futures::FutureExt;

use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{CloseFrame, Frame};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::ledger::{Cause, Class};
use super::model::{self, Seen};
use super::plan::{Delivery, FinalAct, Probe};
use super::polling::{lock, text_reply, Shared};
use super::rng::Rng;
use super::state::{Msg, State};
use crate::support::client::Mode;
use crate::support::scripted::{Reply, ScriptedRequest, Then, WsConn};

/// One thing to write on a websocket.
#[derive(Debug)]
enum Out {
    Text(String),
    Binary(Vec<u8>),
    Frame(Frame),
    Raw(Vec<u8>),
    Close(Option<u16>),
    Reset,
    Fin,
    /// Write nothing more; read until the client goes.
    Mute,
}

impl Out {
    /// A few characters saying what it is, for the trace.
    fn short(&self) -> String {
        match self {
            Out::Text(text) => format!("{:.12?}", text),
            Out::Binary(data) => format!("bin({})", data.len()),
            Out::Frame(frame) => format!(
                "{:?}{}",
                frame.header().opcode,
                if frame.header().is_final { "" } else { "…" }
            ),
            Out::Raw(bytes) => format!("raw({})", bytes.len()),
            Out::Close(code) => format!("close({code:?})"),
            Out::Reset => "reset".into(),
            Out::Fin => "fin".into(),
            Out::Mute => "mute".into(),
        }
    }
}

/// A websocket request: a websocket-only session (no sid) or the upgrade probe.
pub fn accept(state: &Shared, req: &ScriptedRequest) -> Reply {
    let mut guard = lock(state);
    let s = &mut *guard;
    let Some(sid) = req.query("sid") else {
        if s.plan.mode != Mode::WebSocket {
            s.ledger
                .violation("a websocket without sid in a polling session");
        }
        if s.ledger.handshake_at.is_some() {
            s.ledger.violation("a second websocket handshake");
        }
        s.ledger
            .note(format!("websocket handshake {:?}", s.plan.delivery));
        return match s.plan.delivery {
            Delivery::Status(status) => text_reply(status, "refused"),
            Delivery::Reset => reset(),
            Delivery::Hang => Reply::Hang,
            _ => {
                let state = state.clone();
                Reply::websocket(move |ws| super::guarded(session(state, ws)).map(drop))
            }
        };
    };
    if sid != s.plan.sid {
        s.ledger
            .violation(format!("probe for sid {sid:?}, not {:?}", s.plan.sid));
    }
    if !s.opened || !s.plan.upgrade_offered {
        s.ledger.violation("a probe without an upgrade on offer");
    }
    if s.closed_in_handshake {
        s.ledger
            .violation("a probe after the close packet of the handshake body");
    }
    if std::mem::replace(&mut s.probe_opened, true) {
        s.ledger.violation("a second probe");
    }
    s.ledger
        .note(format!("probe websocket, will answer {:?}", s.plan.probe));
    match s.plan.probe {
        Probe::Refused => text_reply(400, r#"{"code":3,"message":"Bad request"}"#),
        Probe::Reset => reset(),
        _ => {
            let state = state.clone();
            Reply::websocket(move |ws| super::guarded(probe(state, ws)).map(drop))
        }
    }
}

fn reset() -> Reply {
    Reply::Wire {
        pieces: Vec::new(),
        then: Then::Reset,
    }
}

/// Text in `n` fragments (split anywhere, UTF-8 sequences included).
fn fragments(rng: &mut Rng, text: bool, data: &[u8]) -> Vec<Out> {
    let mut cuts: Vec<usize> = (0..rng.usize(1, 3))
        .map(|_| rng.usize(0, data.len()))
        .collect();
    cuts.sort_unstable();
    let mut outs = Vec::new();
    let mut from = 0;
    let first = OpCode::Data(if text { Data::Text } else { Data::Binary });
    for (i, cut) in cuts.into_iter().chain([data.len()]).enumerate() {
        let opcode = if i == 0 {
            first
        } else {
            OpCode::Data(Data::Continue)
        };
        let last = cut == data.len();
        outs.push(Out::Frame(Frame::message(
            data[from..cut].to_vec(),
            opcode,
            last,
        )));
        if !last && rng.chance(20) {
            outs.push(Out::Frame(Frame::ping(b"in between".to_vec())));
        }
        from = cut;
        if last {
            break;
        }
    }
    outs
}

/// Writes `outs`; `None` once the socket is given up (reset, or dropped without a
/// close frame).
async fn write_all(mut ws: WsConn, outs: Vec<Out>, muted: &mut bool) -> Option<WsConn> {
    for out in outs {
        match out {
            Out::Reset => {
                ws.reset();
                return None;
            }
            Out::Fin => return None,
            other => write(&mut ws, other, muted).await,
        }
    }
    Some(ws)
}

/// A websocket-only session: the open packet as the plan delivers it, then the loop.
async fn session(state: Shared, ws: WsConn) {
    let (plan, mut rng) = {
        let s = lock(&state);
        (s.plan.clone(), Rng::stream(s.plan.seed, "handshake"))
    };
    let open = plan.open_packet();
    let outs = match plan.delivery {
        Delivery::Split => fragments(&mut rng, true, open.as_bytes()),
        Delivery::Dressed => vec![
            Out::Frame(Frame::ping(b"hello".to_vec())),
            Out::Frame(Frame::pong(b"unasked".to_vec())),
            Out::Text(open),
        ],
        Delivery::Cut => vec![Out::Close(Some(1000))],
        Delivery::NotOpenFirst => vec![
            Out::Text(format!("4m{}.0:first", plan.seed)),
            Out::Text(open),
        ],
        Delivery::Empty => vec![Out::Binary(open.into_bytes())],
        Delivery::NotUtf8 => {
            let mut data = open.into_bytes();
            data.insert(1, 0xff);
            vec![Out::Frame(Frame::message(
                data,
                OpCode::Data(Data::Text),
                true,
            ))]
        }
        _ => vec![Out::Text(open)],
    };
    let mut muted = false;
    let Some(mut ws) = write_all(ws, outs, &mut muted).await else {
        return;
    };
    {
        let mut s = lock(&state);
        if plan.expect_connect {
            s.opened = true;
            s.ledger.handshake_at = Some(Instant::now());
        } else if plan.delivery == Delivery::NotOpenFirst {
            let first = Seen::Message(format!("m{}.0:first", plan.seed).as_str().into());
            s.ledger.log_forbidden(&[first], "before the open packet");
        }
    }
    if !plan.expect_connect {
        while ws.recv().await.is_some() {}
        return;
    }
    let mut outs = Vec::new();
    {
        let mut s = lock(&state);
        for record in &plan.trailing {
            log_message(
                &mut s,
                true,
                record.as_bytes(),
                Class::Ordered,
                "trailing frame",
            );
            outs.push(Out::Text(record.clone()));
        }
    }
    let Some(ws) = write_all(ws, outs, &mut muted).await else {
        return;
    };
    active(state, ws, muted).await;
}

/// Writes one thing (not a reset or a drop: see [`write_all`]).
async fn write(ws: &mut WsConn, out: Out, muted: &mut bool) {
    match out {
        Out::Text(text) => ws.send_text(&text).await,
        Out::Binary(data) => ws.send_binary(&data).await,
        Out::Frame(frame) => ws.send_frame(frame).await,
        Out::Raw(bytes) => {
            ws.send_raw(&bytes).await;
            *muted = true;
        }
        Out::Close(code) => {
            let frame = code.map(|code| CloseFrame {
                code: CloseCode::from(code),
                reason: "chaos".into(),
            });
            ws.send(WsMessage::Close(frame)).await;
            *muted = true;
        }
        Out::Reset | Out::Fin => unreachable!("handled by write_all"),
        Out::Mute => *muted = true,
    }
}

/// Logs one websocket message as the client must see it, `class` if nothing ended the
/// stream before; ends the stream when it is too large, malformed or a close.
fn log_message(s: &mut State, text: bool, data: &[u8], class: Class, via: &'static str) {
    let limit = s.plan.max_frame_size.unwrap_or(usize::MAX);
    let seen = model::frame(text, data);
    let live = class == Class::Ordered;
    if data.len() > limit {
        s.ledger.log_forbidden(&[seen], via);
        if live {
            s.kill_stream(Cause::FrameTooLarge, "a message above max_frame_size");
        } else {
            // On the probe, behind `3probe`: the client may already have sent `5` and
            // made this socket its transport when it reads the frame, which then ends
            // the session.
            s.ledger.cause(Cause::FrameTooLarge);
        }
        return;
    }
    let class = if live && s.stream_dead {
        Class::Forbidden
    } else {
        class
    };
    match &seen {
        Seen::Invalid(why) if live => s.kill_stream(Cause::Malformed, why),
        Seen::Ping(data) if !live => s.ledger.log_stray_ping(data),
        Seen::Close if !live => {}
        _ => {
            if s.ledger.log_packets(&[seen], class, live, via) && live {
                s.stream_dead = true;
            }
        }
    }
}

/// The probe: `2probe` from the client, the plan's answer, then `5` and the loop.
async fn probe(state: Shared, mut ws: WsConn) {
    let (plan, mut rng, finished) = {
        let s = lock(&state);
        (s.plan.clone(), s.probe_rng.clone(), s.finished.subscribe())
    };
    match tokio::time::timeout(plan.request_timeout * 3, ws.recv()).await {
        Ok(Some(WsMessage::Text(text))) if text.as_str() == "2probe" => {}
        Ok(Some(WsMessage::Close(_)) | None) | Err(_) => return,
        Ok(Some(other)) => {
            lock(&state)
                .ledger
                .violation(format!("{other:?} instead of 2probe"));
            return;
        }
    }
    let mut outs = Vec::new();
    let mut answered = true;
    {
        let mut s = lock(&state);
        match plan.probe {
            Probe::Normal => {
                if rng.chance(30) {
                    outs.push(Out::Text("6".into()));
                }
                if rng.chance(20) {
                    outs.push(Out::Frame(Frame::ping(b"probe?".to_vec())));
                }
                outs.push(Out::Text("3probe".into()));
            }
            Probe::Fragmented => outs.extend(fragments(&mut rng, true, b"3probe")),
            Probe::Twice => outs.extend([Out::Text("3probe".into()), Out::Text("3probe".into())]),
            Probe::Chatty => {
                outs.push(Out::Text("3probe".into()));
                for _ in 0..rng.usize(1, 3) {
                    let binary = rng.chance(30);
                    let msg = s.message(&mut rng, binary, None);
                    let (text, data) = match &msg {
                        Msg::Text(text) => (true, format!("4{text}").into_bytes()),
                        Msg::Binary(data) => (false, data.clone()),
                    };
                    log_message(&mut s, text, &data, Class::Loose, "probe before 5");
                    outs.push(if text {
                        Out::Text(String::from_utf8(data).unwrap_or_default())
                    } else {
                        Out::Binary(data)
                    });
                    if rng.chance(40) {
                        s.ledger.log_stray_ping("");
                        outs.push(Out::Text("2".into()));
                    }
                }
            }
            Probe::Wrong(text) => {
                answered = false;
                log_message(
                    &mut s,
                    true,
                    text.as_bytes(),
                    Class::Forbidden,
                    "probe answer",
                );
                outs.push(Out::Text(text.into()));
            }
            Probe::Binary => {
                answered = false;
                log_message(&mut s, false, b"3probe", Class::Forbidden, "probe answer");
                outs.push(Out::Binary(b"3probe".to_vec()));
            }
            Probe::CloseFrame => {
                answered = false;
                outs.push(Out::Close(Some(1000)));
            }
            Probe::Silent | Probe::Refused | Probe::Reset => answered = false,
        }
        if answered {
            s.ledger.note("3probe");
            let _ = s.probe_answered.send(true);
        }
    }
    let mut muted = false;
    tokio::time::sleep(rng.millis(0, 20)).await;
    let Some(mut ws) = write_all(ws, outs, &mut muted).await else {
        return;
    };
    let mut finished = finished;
    loop {
        let message = tokio::select! {
            message = ws.recv() => message,
            _ = finished.wait_for(|done| *done) => return,
        };
        let mut s = lock(&state);
        match message {
            Some(WsMessage::Text(text)) if text.as_str() == "5" && answered => {
                s.upgraded = true;
                s.ledger.note("5: upgraded");
                break;
            }
            Some(WsMessage::Close(_)) | None => return,
            Some(other) => s
                .ledger
                .violation(format!("{other:?} on the probe before 5")),
        }
    }
    lock(&state).ws_rng = rng;
    active(state, ws, muted).await;
}

/// The session's websocket: steps until the script ends, the client's frames read and
/// checked meanwhile.
async fn active(state: Shared, mut ws: WsConn, mut muted: bool) {
    let mut finished = lock(&state).finished.subscribe();
    let mut next = Instant::now();
    loop {
        let step = tokio::time::sleep_until(next.into());
        let message = tokio::select! {
            message = ws.recv() => Some(message),
            _ = step, if !muted => None,
            _ = finished.wait_for(|done| *done) => return,
        };
        match message {
            Some(None) | Some(Some(WsMessage::Close(_))) => return,
            Some(Some(WsMessage::Text(text))) => {
                super::client_packet(&mut lock(&state), text.as_str(), "websocket")
            }
            Some(Some(WsMessage::Binary(data))) => {
                lock(&state).ledger.received.push(data.to_vec().into())
            }
            Some(Some(_)) => {}
            None => {
                let (outs, delay) = {
                    let mut s = lock(&state);
                    let mut rng = s.ws_rng.clone();
                    let outs = step_outs(&mut s, &mut rng);
                    let delay = match rng.below(100) {
                        0..=69 => rng.millis(0, 15),
                        70..=94 => rng.millis(15, 60),
                        _ => rng.millis(60, 250),
                    };
                    s.ws_rng = rng;
                    (outs, delay)
                };
                ws = match write_all(ws, outs, &mut muted).await {
                    Some(ws) => ws,
                    None => return,
                };
                next = Instant::now() + delay;
            }
        }
    }
}

/// One step of the active websocket: what to write, logged as the client will see it.
fn step_outs(s: &mut State, rng: &mut Rng) -> Vec<Out> {
    if s.doomed {
        return vec![Out::Mute];
    }
    if s.step() {
        return final_outs(s, rng);
    }
    let mut outs = Vec::new();
    if (s.ping_due() && rng.chance(96)) || rng.chance(5) {
        let data = if rng.chance(25) {
            rng.text(5)
        } else {
            String::new()
        };
        let text = format!("2{data}");
        log_message(s, true, text.as_bytes(), Class::Ordered, "websocket");
        outs.push(Out::Text(text));
    }
    let limit = s.plan.max_frame_size;
    for _ in 0..rng.weighted(&[(40, 0), (40, 1), (20, 2)]) {
        let binary = rng.chance(35);
        let (text, data) = match s.message(rng, binary, limit) {
            Msg::Text(text) => (true, format!("4{text}").into_bytes()),
            Msg::Binary(data) => (false, data),
        };
        log_message(s, text, &data, Class::Ordered, "websocket");
        if rng.chance(15) {
            outs.extend(fragments(rng, text, &data));
        } else if text {
            let frame = Frame::message(data, OpCode::Data(Data::Text), true);
            outs.push(Out::Frame(frame));
        } else {
            outs.push(Out::Binary(data));
        }
    }
    match rng.below(20) {
        0 => {
            let ignored = *rng.pick(&[
                "6",
                "5",
                "3",
                "3probe",
                "0{\"sid\":\"other\",\"pingInterval\":5,\"pingTimeout\":5}",
            ]);
            outs.push(Out::Text(ignored.into()));
        }
        1 => {
            let size = rng.usize(0, 20);
            outs.push(Out::Frame(Frame::ping(rng.bytes(size))));
        }
        2 => outs.push(Out::Frame(Frame::pong(b"unasked".to_vec()))),
        3 => {
            let text = format!("4sep{}.{}\x1e{}", s.plan.seed, rng.next_u64(), rng.text(8));
            log_message(s, true, text.as_bytes(), Class::Ordered, "websocket");
            outs.push(Out::Text(text));
        }
        _ => {}
    }
    if rng.chance_in_1000(if s.plan.calm { 5 } else { 45 }) {
        outs.push(hostile(s, rng));
    }
    let summary: Vec<String> = outs.iter().map(Out::short).collect();
    s.ledger
        .note(format!("websocket step: {}", summary.join(" ")));
    outs
}

/// Something that ends the session: a bad packet or frame, a close, a cut.
fn hostile(s: &mut State, rng: &mut Rng) -> Out {
    let text = |s: &mut State, t: &str| {
        log_message(s, true, t.as_bytes(), Class::Ordered, "websocket");
        Out::Text(t.to_owned())
    };
    match rng.below(13) {
        0 => text(s, "7x"),
        1 => text(s, ""),
        2 => text(s, "1"),
        3 => text(s, "bQUJD"),
        4 => {
            let data = vec![b'4', 0xc3, 0x28];
            log_message(s, true, &data, Class::Ordered, "websocket");
            Out::Frame(Frame::message(data, OpCode::Data(Data::Text), true))
        }
        5 => {
            s.kill_stream(Cause::BadFrame, "a continuation without a first fragment");
            Out::Frame(Frame::message(
                b"orphan".to_vec(),
                OpCode::Data(Data::Continue),
                true,
            ))
        }
        6 => {
            let mut frame = Frame::message(b"4rsv".to_vec(), OpCode::Data(Data::Text), true);
            frame.header_mut().rsv1 = true;
            s.kill_stream(Cause::BadFrame, "a frame with RSV1 set");
            Out::Frame(frame)
        }
        7 => {
            s.kill_stream(Cause::FrameTooLarge, "a header announcing 1 TiB");
            Out::Raw(vec![0x82, 127, 0, 0, 1, 0, 0, 0, 0, 0])
        }
        8 => {
            s.kill_stream(Cause::BadFrame, "a reserved opcode");
            Out::Raw(vec![0x83, 1, b'x'])
        }
        9 => {
            s.kill_stream(Cause::Lost, "a reset");
            Out::Reset
        }
        10 => {
            s.kill_stream(Cause::Lost, "closed without a close frame");
            Out::Fin
        }
        11 => {
            let code = *rng.pick(&[4000, 1011, 1002, 3000]);
            s.kill_stream(Cause::CloseCode(code), "a close frame");
            Out::Close(Some(code))
        }
        _ => match s.plan.max_frame_size {
            Some(limit) => {
                let size = limit + rng.usize(1, 64);
                let data = vec![b'x'; size];
                log_message(s, false, &data, Class::Ordered, "websocket");
                Out::Binary(data)
            }
            None => text(s, "0{"),
        },
    }
}

/// The final act, over websocket.
fn final_outs(s: &mut State, rng: &mut Rng) -> Vec<Out> {
    match s.plan.final_act {
        FinalAct::ClosePacket | FinalAct::KeepAlive => {
            log_message(s, true, b"1", Class::Ordered, "websocket");
            let then = match rng.below(3) {
                0 => Out::Close(Some(1000)),
                1 => {
                    // Closing a socket with unread data in it makes the kernel send a
                    // reset, which may reach the client before it reads the `1`.
                    s.ledger.cause(Cause::Lost);
                    Out::Fin
                }
                _ => Out::Mute,
            };
            s.ledger.note(format!("final: \"1\" then {}", then.short()));
            vec![Out::Text("1".into()), then]
        }
        FinalAct::CloseFrame(code) => {
            match code {
                Some(1000) | Some(1001) | None => s.kill_stream(Cause::Close, "a close frame"),
                Some(code) => s.kill_stream(Cause::CloseCode(code), "a close frame"),
            }
            vec![Out::Close(code)]
        }
        FinalAct::Reset => {
            s.kill_stream(Cause::Lost, "a reset");
            vec![Out::Reset]
        }
        FinalAct::Fin => {
            s.kill_stream(Cause::Lost, "closed without a close frame");
            vec![Out::Fin]
        }
        FinalAct::Silence => vec![Out::Mute],
        FinalAct::SessionUnknown => {
            s.kill_stream(Cause::CloseCode(4000), "a close frame");
            vec![Out::Close(Some(4000))]
        }
    }
}
