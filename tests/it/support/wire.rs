//! What went over the wire between clients and a server, as a recording
//! [`FaultProxy`](super::fault_proxy::FaultProxy) saw it: the HTTP requests and responses
//! (bodies de-chunked, compression kept so a test can check it) and the websocket messages
//! of every connection, in the order the proxy read them, each tied to its Engine.IO
//! session; and the Engine.IO packets of a session either way, over polling and websocket.
//!
//! The peers log the requests they receive, not bodies, responses or frames: this is how
//! a test sees what a server really answered (`Content-Encoding: gzip`, a ping) and what
//! the client really sent (the packets of a POST, a pong, `5` on the websocket).
//!
//! ```ignore
//! let proxy = FaultProxy::start(peer.port());
//! proxy.record();
//! let client = Client::connect(label, Session::builder(proxy.url())).await;
//! // ...
//! let wire = Wire::recorded(&proxy);
//! let pongs = wire.packets(&client.sid).iter().filter(|p| p.from_client && p.text == "3").count();
//! ```

use std::collections::HashMap;
use std::io::Read;

use base64::Engine as _;
use flate2::read::{DeflateDecoder, GzDecoder, ZlibDecoder};

use super::fault_proxy::{Chunk, FaultProxy};
use super::net::{is_websocket_upgrade, query_param};

/// One HTTP message or websocket message that went through.
#[derive(Debug, Clone)]
pub struct Item {
    /// The index of the chunk its first byte came in: the order the proxy read things.
    /// Across connections it orders causally related things (a request before its answer,
    /// an answer before what the client sent because of it), not unrelated ones.
    pub seq: usize,
    pub conn: u64,
    /// The Engine.IO session it belongs to: the `sid` of a request (or, for the
    /// handshake, of its answer's open packet), of the request a response answers, of the
    /// websocket's upgrade request or open packet.
    pub sid: Option<String>,
    pub what: What,
}

#[derive(Debug, Clone)]
pub enum What {
    Request(Http),
    Response(Http),
    /// A whole websocket message (fragments joined) or control frame.
    Frame {
        from_client: bool,
        opcode: u8,
        payload: Vec<u8>,
    },
}

/// An HTTP request or response: its start line, headers (names lowercase) and body
/// (de-chunked; still compressed if it was).
#[derive(Debug, Clone)]
pub struct Http {
    pub start: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Http {
    /// Every value of header `name`, joined with `", "`.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// The method of a request.
    pub fn method(&self) -> &str {
        self.start.split(' ').next().unwrap_or_default()
    }

    /// The path and query of a request.
    pub fn url(&self) -> &str {
        self.start.split(' ').nth(1).unwrap_or_default()
    }

    /// The status of a response.
    pub fn status(&self) -> u16 {
        let code = self.start.split(' ').nth(1).unwrap_or_default();
        code.parse().unwrap_or_default()
    }

    pub fn query(&self, name: &str) -> Option<String> {
        query_param(self.url(), name)
    }

    pub fn is_websocket(&self) -> bool {
        is_websocket_upgrade(self.header("upgrade").as_deref())
    }

    /// Whether this is a polling GET or POST (not a websocket upgrade request).
    pub fn is_polling(&self) -> bool {
        !self.is_websocket() && matches!(self.method(), "GET" | "POST")
    }

    /// The body as sent, decompressed per `Content-Encoding` (gzip, or deflate: zlib or
    /// raw). Panics on a body that does not decode: the test is then told why.
    pub fn decoded_body(&self) -> Vec<u8> {
        let encoding = self.header("content-encoding").unwrap_or_default();
        let mut out = Vec::new();
        let result = match encoding.trim().to_ascii_lowercase().as_str() {
            "" | "identity" => return self.body.clone(),
            "gzip" => GzDecoder::new(&self.body[..]).read_to_end(&mut out),
            "deflate" => ZlibDecoder::new(&self.body[..])
                .read_to_end(&mut out)
                .or_else(|_| {
                    out.clear();
                    DeflateDecoder::new(&self.body[..]).read_to_end(&mut out)
                }),
            other => panic!("wire: unknown content-encoding {other:?}"),
        };
        result.unwrap_or_else(|e| panic!("wire: a {encoding} body does not decode: {e}"));
        out
    }
}

/// An Engine.IO packet of a session, as encoded on the wire (`4hello`, `2`, `3probe`; a
/// binary websocket message as `b<base64>`, as over polling).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The [`Item::seq`] of the POST, poll answer or websocket message carrying it.
    pub seq: usize,
    pub from_client: bool,
    pub over_websocket: bool,
    pub text: String,
}

/// Everything a recording proxy forwarded, parsed; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct Wire {
    pub items: Vec<Item>,
}

impl Wire {
    /// What went through `proxy` since its [`record`](FaultProxy::record), parsed.
    pub fn recorded(proxy: &FaultProxy) -> Wire {
        Wire::parse(&proxy.recorded())
    }

    /// Parses recorded chunks. What is incomplete at the end of a stream (a body half
    /// forwarded) is left out.
    pub fn parse(chunks: &[Chunk]) -> Wire {
        let mut streams: HashMap<(u64, bool), Stream> = HashMap::new();
        for (seq, chunk) in chunks.iter().enumerate() {
            let stream = streams.entry((chunk.conn, chunk.up)).or_default();
            stream.starts.push((stream.bytes.len(), seq));
            stream.bytes.extend_from_slice(&chunk.bytes);
        }
        let mut items = Vec::new();
        let mut conns: Vec<u64> = streams.keys().map(|(conn, _)| *conn).collect();
        conns.sort_unstable();
        conns.dedup();
        for conn in conns {
            let up = streams.remove(&(conn, true)).unwrap_or_default();
            let down = streams.remove(&(conn, false)).unwrap_or_default();
            items.extend(connection_items(conn, &up, &down));
        }
        items.sort_by_key(|item| (item.seq, item.conn));
        Wire { items }
    }

    /// The items of session `sid`, in order.
    pub fn of(&self, sid: &str) -> impl Iterator<Item = &Item> + '_ {
        let sid = sid.to_owned();
        self.items
            .iter()
            .filter(move |i| i.sid.as_deref() == Some(sid.as_str()))
    }

    /// The requests of session `sid` (its handshake included), in order.
    pub fn requests(&self, sid: &str) -> Vec<(usize, &Http)> {
        self.of(sid)
            .filter_map(|i| match &i.what {
                What::Request(http) => Some((i.seq, http)),
                _ => None,
            })
            .collect()
    }

    /// Every request of session `sid` with the response that answered it, if one did.
    pub fn exchanges(&self, sid: &str) -> Vec<Exchange<'_>> {
        let mut exchanges: Vec<(u64, Exchange<'_>)> = Vec::new();
        for item in self.of(sid) {
            match &item.what {
                What::Request(request) => exchanges.push((
                    item.conn,
                    Exchange {
                        seq: item.seq,
                        request,
                        response: None,
                    },
                )),
                // HTTP/1.1: a connection's answers come in the order of its requests.
                What::Response(response) => {
                    let unanswered = exchanges
                        .iter_mut()
                        .find(|(conn, e)| *conn == item.conn && e.response.is_none());
                    if let Some((_, exchange)) = unanswered {
                        exchange.response = Some((item.seq, response));
                    }
                }
                What::Frame { .. } => {}
            }
        }
        exchanges.into_iter().map(|(_, e)| e).collect()
    }

    /// The Engine.IO packets of session `sid` either way, in order: those POSTed and
    /// those in the answers to its polls (the handshake's open packet included), and
    /// its websocket messages.
    pub fn packets(&self, sid: &str) -> Vec<Packet> {
        let mut packets = Vec::new();
        for exchange in self.exchanges(sid) {
            let request = exchange.request;
            match (request.method(), exchange.response) {
                ("POST", _) => {
                    polling_packets(exchange.seq, true, request.decoded_body(), &mut packets)
                }
                ("GET", Some((seq, answer)))
                    if !request.is_websocket() && answer.status() == 200 =>
                {
                    polling_packets(seq, false, answer.decoded_body(), &mut packets)
                }
                _ => {}
            }
        }
        for item in self.of(sid) {
            if let What::Frame {
                from_client,
                opcode,
                payload,
            } = &item.what
            {
                let text = match opcode {
                    1 => String::from_utf8_lossy(payload).into_owned(),
                    2 => format!(
                        "b{}",
                        base64::engine::general_purpose::STANDARD.encode(payload)
                    ),
                    _ => continue,
                };
                packets.push(Packet {
                    seq: item.seq,
                    from_client: *from_client,
                    over_websocket: true,
                    text,
                });
            }
        }
        packets.sort_by_key(|p| p.seq);
        packets
    }

    /// How many pings of the server the client of session `sid` answered: `2` packets
    /// to it, each followed by a `3` from it before the next `2`.
    pub fn pings_answered(&self, sid: &str) -> usize {
        let (mut answered, mut pending) = (0, false);
        for packet in self.packets(sid) {
            match (packet.from_client, packet.text.as_str()) {
                (false, "2") => pending = true,
                (true, "3") if pending => {
                    answered += 1;
                    pending = false;
                }
                _ => {}
            }
        }
        answered
    }
}

/// A request and the response that answered it, if one did.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// The request's [`Item::seq`].
    pub seq: usize,
    pub request: &'a Http,
    /// The response and its [`Item::seq`].
    pub response: Option<(usize, &'a Http)>,
}

/// The packets of a polling body (`\x1e`-separated), appended to `packets`.
fn polling_packets(seq: usize, from_client: bool, body: Vec<u8>, packets: &mut Vec<Packet>) {
    let body = String::from_utf8(body).expect("wire: a polling body is not UTF-8");
    for text in body.split('\x1e').filter(|t| !t.is_empty()) {
        packets.push(Packet {
            seq,
            from_client,
            over_websocket: false,
            text: text.to_owned(),
        });
    }
}

/// One direction of one connection: its bytes, and where each chunk began.
#[derive(Default)]
struct Stream {
    bytes: Vec<u8>,
    /// (offset in `bytes`, chunk index), ascending.
    starts: Vec<(usize, usize)>,
}

impl Stream {
    /// The index of the chunk holding byte `offset`.
    fn seq_at(&self, offset: usize) -> usize {
        let i = self.starts.partition_point(|(start, _)| *start <= offset);
        self.starts[i.saturating_sub(1)].1
    }
}

/// The items of one connection, with their sessions.
fn connection_items(conn: u64, up: &Stream, down: &Stream) -> Vec<Item> {
    let requests = http_messages(up, true);
    let responses = http_messages(down, false);
    let mut items = Vec::new();
    let mut ws_sid = None;
    for (i, (seq, request)) in requests.messages.iter().enumerate() {
        let answer = responses.messages.get(i);
        let sid = request
            .query("sid")
            .or_else(|| answer.and_then(|(_, res)| open_packet_sid(&res.decoded_body())));
        if request.is_websocket() {
            ws_sid = sid.clone();
        }
        items.push(item(
            *seq,
            conn,
            sid.clone(),
            What::Request(request.clone()),
        ));
        if let Some((seq, response)) = answer {
            items.push(item(*seq, conn, sid, What::Response(response.clone())));
        }
    }
    let mut frames = ws_messages(up, requests.end, true);
    frames.extend(ws_messages(down, responses.end, false));
    frames.sort_by_key(|(seq, _)| *seq);
    // Websocket only: the session is named by the open packet the server sends first.
    if ws_sid.is_none() {
        ws_sid = frames.iter().find_map(|(_, frame)| match frame {
            What::Frame {
                from_client: false,
                payload,
                ..
            } => open_packet_sid(payload),
            _ => None,
        });
        for item in items.iter_mut().filter(|i| i.sid.is_none()) {
            item.sid.clone_from(&ws_sid);
        }
    }
    for (seq, frame) in frames {
        items.push(item(seq, conn, ws_sid.clone(), frame));
    }
    items
}

fn item(seq: usize, conn: u64, sid: Option<String>, what: What) -> Item {
    Item {
        seq,
        conn,
        sid,
        what,
    }
}

/// The sid of an open packet, `0{"sid":...}`.
fn open_packet_sid(body: &[u8]) -> Option<String> {
    let json = body.strip_prefix(b"0")?;
    let value: serde_json::Value = serde_json::from_slice(json).ok()?;
    Some(value.get("sid")?.as_str()?.to_owned())
}

/// The complete HTTP messages at the start of a stream, and where they end: at the end of
/// the stream, or where a websocket begins (after an upgrade request or a `101`).
struct HttpMessages {
    messages: Vec<(usize, Http)>,
    end: Option<usize>,
}

fn http_messages(stream: &Stream, requests: bool) -> HttpMessages {
    let bytes = &stream.bytes;
    let mut messages = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let Some((http, next)) = http_message(&bytes[at..], requests) else {
            return HttpMessages {
                messages,
                end: None,
            };
        };
        let upgraded = if requests {
            http.is_websocket()
        } else {
            http.status() == 101
        };
        messages.push((stream.seq_at(at), http));
        at += next;
        if upgraded {
            return HttpMessages {
                messages,
                end: Some(at),
            };
        }
    }
    HttpMessages {
        messages,
        end: None,
    }
}

/// One HTTP message at the start of `bytes` and its length; `None` while incomplete.
fn http_message(bytes: &[u8], request: bool) -> Option<(Http, usize)> {
    let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&bytes[..head_end]).expect("wire: an HTTP head is not UTF-8");
    let mut lines = head.split("\r\n");
    let start = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut http = Http {
        start,
        headers,
        body: Vec::new(),
    };
    let rest = &bytes[head_end + 4..];
    let chunked = http
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    let length = http
        .header("content-length")
        .and_then(|l| l.trim().parse::<usize>().ok());
    let no_body = !request && matches!(http.status(), 100..=199 | 204 | 304);
    let body_len = if no_body {
        0
    } else if chunked {
        let (body, used) = dechunk(rest)?;
        http.body = body;
        return Some((http, head_end + 4 + used));
    } else if let Some(length) = length {
        length
    } else if request {
        0
    } else {
        // Delimited by the end of the connection: whatever is there.
        rest.len()
    };
    http.body = rest.get(..body_len)?.to_vec();
    Some((http, head_end + 4 + body_len))
}

/// A chunked body at the start of `bytes` and the bytes it took; `None` while incomplete.
fn dechunk(bytes: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let line_end = at + bytes[at..].windows(2).position(|w| w == b"\r\n")?;
        let line = std::str::from_utf8(&bytes[at..line_end]).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        at = line_end + 2;
        if size == 0 {
            // Trailers, then an empty line.
            loop {
                let end = at + bytes[at..].windows(2).position(|w| w == b"\r\n")?;
                let empty = end == at;
                at = end + 2;
                if empty {
                    return Some((body, at));
                }
            }
        }
        body.extend_from_slice(bytes.get(at..at + size)?);
        at += size + 2;
    }
}

/// The websocket messages of a stream from offset `from` on (fragments joined; control
/// frames as they come), each with the seq of its first frame. A message compressed with
/// permessage-deflate (RSV1 on its first frame) is inflated, its context carried over from
/// the stream's earlier messages (a sender that starts afresh reads the same).
fn ws_messages(stream: &Stream, from: Option<usize>, from_client: bool) -> Vec<(usize, What)> {
    let Some(mut at) = from else {
        return Vec::new();
    };
    let bytes = &stream.bytes;
    let mut out = Vec::new();
    let mut inflater = flate2::Decompress::new(false);
    // (seq of the first frame, opcode, compressed, data so far)
    let mut partial: Option<(usize, u8, bool, Vec<u8>)> = None;
    while let Some((fin, rsv1, opcode, payload, used)) = ws_frame(&bytes[at..]) {
        let seq = stream.seq_at(at);
        at += used;
        let (seq, opcode, compressed, payload) = match (opcode, partial.take()) {
            // A continuation.
            (0, Some((first, op, compressed, mut data))) => {
                data.extend_from_slice(&payload);
                (first, op, compressed, data)
            }
            (0, None) => continue,
            // A control frame, possibly between fragments.
            (8..=15, pending) => {
                partial = pending;
                (seq, opcode, false, payload)
            }
            (_, _) => (seq, opcode, rsv1, payload),
        };
        if fin || opcode >= 8 {
            let payload = if compressed {
                inflate(&mut inflater, &payload)
            } else {
                payload
            };
            out.push((
                seq,
                What::Frame {
                    from_client,
                    opcode,
                    payload,
                },
            ));
        } else {
            partial = Some((seq, opcode, compressed, payload));
        }
    }
    out
}

/// A permessage-deflate message inflated (RFC 7692 7.2.2: its payload, then `00 00 ff ff`);
/// as much as inflates if it is corrupt.
fn inflate(stream: &mut flate2::Decompress, payload: &[u8]) -> Vec<u8> {
    let mut input = payload.to_vec();
    input.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
    let mut out = Vec::with_capacity(input.len() * 4 + 1024);
    let start = stream.total_in();
    loop {
        let read = (stream.total_in() - start) as usize;
        let flush = flate2::FlushDecompress::Sync;
        if stream
            .decompress_vec(&input[read..], &mut out, flush)
            .is_err()
        {
            return out;
        }
        if (stream.total_in() - start) as usize == input.len() && out.len() < out.capacity() {
            return out;
        }
        out.reserve(out.capacity());
    }
}

/// One websocket frame at the start of `bytes`: (FIN, RSV1, opcode, unmasked payload,
/// bytes taken); `None` while incomplete.
fn ws_frame(bytes: &[u8]) -> Option<(bool, bool, u8, Vec<u8>, usize)> {
    let (b0, b1) = (*bytes.first()?, *bytes.get(1)?);
    let masked = b1 & 0x80 != 0;
    let (len, mut at) = match b1 & 0x7f {
        126 => (
            u16::from_be_bytes(bytes.get(2..4)?.try_into().ok()?) as usize,
            4,
        ),
        127 => (
            usize::try_from(u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?)).ok()?,
            10,
        ),
        n => (n as usize, 2),
    };
    let mask = if masked {
        let key: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(key)
    } else {
        None
    };
    let mut payload = bytes.get(at..at + len)?.to_vec();
    if let Some(key) = mask {
        for (i, byte) in payload.iter_mut().enumerate() {
            *byte ^= key[i % 4];
        }
    }
    Some((b0 & 0x80 != 0, b0 & 0x40 != 0, b0 & 0x0f, payload, at + len))
}
