//! From websocket frames to packets: messages put together from their fragments, and
//! a codec that refuses a frame from its header, before its payload is read, when it
//! announces more than the limit (actix-http's own codec buffers the whole frame
//! first, so a hostile header could make it wait for, or hold, any size).

use std::time::Instant;

use actix_codec::{Decoder, Encoder};
use actix_http::ws::{
    Codec, Frame as WsFrame, Item, Message as WsMessage, OpCode, Parser, ProtocolError,
};
use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

use super::deflate::compress::THRESHOLD;
use super::deflate::{Agreed, DeflateError, PerMessageDeflate, RSV1};
use super::outgoing::{write_frame, MaskKeys, WsOut};
use crate::protocol::{
    frame, Frame, Packet, ProtocolError as EioProtocolError, ProtocolVersion, TransportError,
};

/// Turns data frames into packets of protocol `version`, putting fragmented messages
/// together, within `limit` bytes per message.
pub(crate) struct Reassembly {
    version: ProtocolVersion,
    limit: usize,
    /// A fragmented message being put together: whether text, and its data so far.
    fragments: Option<(bool, BytesMut)>,
}

impl Reassembly {
    pub fn new(version: ProtocolVersion, limit: usize) -> Self {
        Reassembly {
            version,
            limit,
            fragments: None,
        }
    }

    /// The packet a data frame completes, if it completes one; `None` for a fragment
    /// that is not the last, and for control frames (which are not data).
    pub fn push(&mut self, frame: WsFrame) -> Option<Result<Packet, TransportError>> {
        match frame {
            WsFrame::Text(data) => Some(decode_text(self.version, data)),
            WsFrame::Binary(data) => Some(decode_binary(self.version, data)),
            WsFrame::Continuation(item) => self.continuation(item),
            WsFrame::Ping(_) | WsFrame::Pong(_) | WsFrame::Close(_) => None,
        }
    }

    fn continuation(&mut self, item: Item) -> Option<Result<Packet, TransportError>> {
        let (data, last) = match item {
            Item::FirstText(data) | Item::FirstBinary(data) if self.fragments.is_some() => {
                let _ = data;
                return Some(Err(TransportError::WebSocket(
                    "a new fragmented message started before the last one ended".into(),
                )));
            }
            Item::FirstText(data) => {
                self.fragments = Some((true, BytesMut::new()));
                (data, false)
            }
            Item::FirstBinary(data) => {
                self.fragments = Some((false, BytesMut::new()));
                (data, false)
            }
            Item::Continue(data) => (data, false),
            Item::Last(data) => (data, true),
        };
        let Some((_, so_far)) = self.fragments.as_mut() else {
            return Some(Err(TransportError::WebSocket(
                "continuation frame without a first fragment".into(),
            )));
        };
        if so_far.len() + data.len() > self.limit {
            return Some(Err(TransportError::FrameTooLarge { limit: self.limit }));
        }
        so_far.extend_from_slice(&data);
        if !last {
            return None;
        }
        let (text, data) = self.fragments.take()?;
        let data = data.freeze();
        Some(if text {
            decode_text(self.version, data)
        } else {
            decode_binary(self.version, data)
        })
    }
}

/// actix-http's websocket codec, with the size of each frame checked from its header,
/// and permessage-deflate when the server accepted it. actix-http refuses any frame
/// with a reserved bit set; under permessage-deflate this codec takes RSV1 off each
/// frame's header before actix-http reads it, and inflates what it marked.
pub(crate) struct LimitedCodec {
    inner: Codec,
    limit: usize,
    /// Boxed: a socket without the extension (most) pays one pointer for it.
    deflate: Option<Box<PerMessageDeflate>>,
    /// RSV1 of the frame whose header is at the front of the read buffer, once taken off.
    frame_rsv1: Option<bool>,
    /// The masking keys of the frames this codec writes itself.
    masks: MaskKeys,
}

impl LimitedCodec {
    /// A client codec for frames of at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        LimitedCodec {
            inner: Codec::new().max_size(limit).client_mode(),
            limit,
            deflate: None,
            frame_rsv1: None,
            masks: MaskKeys::new(),
        }
    }

    /// The same, compressing as `agreed` with the server (`None`: uncompressed).
    pub fn with_deflate(mut self, agreed: Option<Agreed>) -> Self {
        self.deflate = agreed.map(|agreed| Box::new(PerMessageDeflate::new(agreed)));
        self
    }

    /// Whether the zlib state of each side is allocated: (deflate, inflate).
    #[cfg(test)]
    pub fn deflate_allocated(&self) -> Option<(bool, bool)> {
        self.deflate.as_deref().map(PerMessageDeflate::allocated)
    }

    /// Takes RSV1 off the header at the front of `src`, once per frame: whether it was
    /// set, or `None` until the frame's first byte has arrived.
    fn take_rsv1(&mut self, src: &mut BytesMut) -> Option<bool> {
        if self.frame_rsv1.is_none() {
            let len = src.len();
            let first = src.first_mut()?;
            // An HTTP response's `H` has RSV1 set (and is no valid frame): it stays
            // for `HttpAfterUpgrade` to read once its status line has arrived.
            if *first == b'H' && len < 12 {
                return None;
            }
            self.frame_rsv1 = Some(*first & RSV1 != 0);
            *first &= !RSV1;
        }
        self.frame_rsv1
    }
}

impl Decoder for LimitedCodec {
    type Item = WsFrame;
    type Error = ProtocolError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<WsFrame>, ProtocolError> {
        if let Some(refusal) = HttpAfterUpgrade::parse(src) {
            return Err(ProtocolError::Io(std::io::Error::other(refusal)));
        }
        if announced_len(src).is_some_and(|len| len > self.limit as u64) {
            return Err(ProtocolError::Overflow);
        }
        if self.deflate.is_none() {
            return self.inner.decode(src);
        }
        let Some(rsv1) = self.take_rsv1(src) else {
            return Ok(None);
        };
        let Some(frame) = self.inner.decode(src)? else {
            return Ok(None);
        };
        self.frame_rsv1 = None;
        let Some(deflate) = self.deflate.as_mut() else {
            return Ok(Some(frame));
        };
        // Each frame read (the server's pings at least) is a moment to give back the
        // deflate state of a session that has stopped sending.
        deflate.release_idle(Instant::now());
        match deflate.incoming(frame, rsv1, self.limit) {
            Ok(frame) => Ok(Some(frame)),
            Err(DeflateError::TooLarge) => Err(ProtocolError::Overflow),
            Err(invalid) => Err(ProtocolError::Io(std::io::Error::other(invalid))),
        }
    }
}

impl Encoder<WsMessage> for LimitedCodec {
    type Error = ProtocolError;

    fn encode(&mut self, item: WsMessage, dst: &mut BytesMut) -> Result<(), ProtocolError> {
        let Some(deflate) = self.deflate.as_mut() else {
            return self.inner.encode(item, dst);
        };
        let (data, opcode) = match &item {
            WsMessage::Text(text) => (&text.as_bytes()[..], OpCode::Text),
            WsMessage::Binary(data) => (&data[..], OpCode::Binary),
            // Control frames are never compressed; this client sends no fragments.
            _ => return self.inner.encode(item, dst),
        };
        let Some(compressed) = deflate.outgoing(data, Instant::now()) else {
            return self.inner.encode(item, dst);
        };
        let start = dst.len();
        Parser::write_message(dst, compressed, opcode, true, true);
        dst[start] |= RSV1;
        Ok(())
    }
}

impl Encoder<WsOut> for LimitedCodec {
    type Error = ProtocolError;

    fn encode(&mut self, item: WsOut, dst: &mut BytesMut) -> Result<(), ProtocolError> {
        match item {
            WsOut::Packets(packets, version) => packets
                .iter()
                .try_for_each(|packet| self.encode_packet(version, packet, dst)),
            WsOut::Message(message) => self.encode(message, dst),
        }
    }
}

impl LimitedCodec {
    /// Writes `packet`'s frame into `dst`, straight from the packet's data.
    fn encode_packet(
        &mut self,
        version: ProtocolVersion,
        packet: &Packet,
        dst: &mut BytesMut,
    ) -> Result<(), ProtocolError> {
        // A message permessage-deflate would compress goes the way of any message.
        let parts = frame::parts_for(version, packet)
            .filter(|parts| self.deflate.is_none() || parts.len() < THRESHOLD);
        let Some(parts) = parts else {
            let message = match frame::encode_for(version, packet) {
                Frame::Text(text) => WsMessage::Text(text),
                Frame::Binary(data) => WsMessage::Binary(data),
            };
            return self.encode(message, dst);
        };
        let opcode = if parts.text {
            OpCode::Text
        } else {
            OpCode::Binary
        };
        write_frame(dst, opcode, parts, self.masks.next());
        Ok(())
    }
}

/// An HTTP response where a websocket frame was expected. Node `engine.io` 6 answers a
/// websocket it refuses (an unsupported `EIO`, say) with `101`, then writes its `400`
/// onto the upgraded socket; read as a frame, `H` has reserved bits set. Carried inside
/// actix's I/O error, and reported as the HTTP error it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HTTP {status} after the websocket upgrade: {body}")]
pub(crate) struct HttpAfterUpgrade {
    pub status: u16,
    pub body: String,
}

impl HttpAfterUpgrade {
    /// How much of the response is kept.
    const LIMIT: usize = 4096;

    /// The response at the start of `src`, if a frame's place holds one (`HTTP/1.x NNN`).
    fn parse(src: &[u8]) -> Option<Self> {
        let head = src.get(..12)?;
        if !head.starts_with(b"HTTP/1.") || head.get(8) != Some(&b' ') {
            return None;
        }
        let status = std::str::from_utf8(head.get(9..12)?).ok()?.parse().ok()?;
        let shown = &src[..src.len().min(Self::LIMIT)];
        let body = match shown.windows(4).position(|w| w == b"\r\n\r\n") {
            Some(end) => &shown[end + 4..],
            None => &[][..],
        };
        Some(HttpAfterUpgrade {
            status,
            body: String::from_utf8_lossy(body).into_owned(),
        })
    }
}

/// The payload length a frame header at the start of `src` announces (RFC 6455 5.2),
/// once enough of the header has arrived.
fn announced_len(src: &[u8]) -> Option<u64> {
    let short = u64::from(*src.get(1)? & 0x7f);
    match short {
        126 => Some(u64::from(u16::from_be_bytes(
            src.get(2..4)?.try_into().ok()?,
        ))),
        127 => Some(u64::from_be_bytes(src.get(2..10)?.try_into().ok()?)),
        len => Some(len),
    }
}

/// A text frame's packet; invalid UTF-8 is a protocol error.
fn decode_text(version: ProtocolVersion, data: Bytes) -> Result<Packet, TransportError> {
    let text = ByteString::try_from(data).map_err(|_| EioProtocolError::InvalidUtf8)?;
    Ok(frame::decode_for(version, Frame::Text(text))?)
}

/// A binary frame's packet: the data as it is in v4, after its type byte `4` in v3.
fn decode_binary(version: ProtocolVersion, data: Bytes) -> Result<Packet, TransportError> {
    Ok(frame::decode_for(version, Frame::Binary(data))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(len: u64) -> Vec<u8> {
        // FIN + binary; server frames are not masked.
        let mut head = vec![0x82];
        match len {
            0..=125 => head.push(len as u8),
            126..=0xffff => {
                head.push(126);
                head.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                head.push(127);
                head.extend_from_slice(&len.to_be_bytes());
            }
        }
        head
    }

    #[test]
    fn a_header_announcing_too_much_is_refused_before_any_payload() {
        for len in [(1u64 << 32) + 5, 1 << 40, (1 << 63) - 1, 1025] {
            let mut codec = LimitedCodec::new(1024);
            let mut src = BytesMut::from(&header(len)[..]);
            assert!(
                matches!(codec.decode(&mut src), Err(ProtocolError::Overflow)),
                "{len}"
            );
        }
    }

    #[test]
    fn an_http_response_in_place_of_a_frame_is_read_as_one() {
        let mut codec = LimitedCodec::new(1024);
        let response =
            "HTTP/1.1 400 Bad Request\r\nContent-Length: 28\r\n\r\nUnsupported protocol version";
        let mut src = BytesMut::from(response);
        let Err(ProtocolError::Io(error)) = codec.decode(&mut src) else {
            panic!("an HTTP response decoded as a frame");
        };
        let refusal = error
            .get_ref()
            .and_then(|e| e.downcast_ref::<HttpAfterUpgrade>());
        assert_eq!(
            refusal,
            Some(&HttpAfterUpgrade {
                status: 400,
                body: "Unsupported protocol version".into()
            })
        );
        // Too short to tell yet: left to the frame decoder, which waits.
        assert!(HttpAfterUpgrade::parse(b"HTTP/1.1 4").is_none());
    }

    #[test]
    fn frames_within_the_limit_decode() {
        let mut codec = LimitedCodec::new(1024);
        let mut frame = header(3);
        frame.extend_from_slice(b"abc");
        let mut src = BytesMut::from(&frame[..]);
        assert!(matches!(codec.decode(&mut src), Ok(Some(WsFrame::Binary(data))) if data == "abc"));
        // A header that has not fully arrived waits, whatever it will say.
        let mut partial = BytesMut::from(&header(1 << 40)[..3]);
        assert!(matches!(codec.decode(&mut partial), Ok(None)));
    }

    /// Every frame a server reads from `dst`: (RSV1, opcode, unmasked payload).
    fn read_as_server(mut dst: BytesMut) -> Vec<(bool, OpCode, Vec<u8>)> {
        let mut frames = Vec::new();
        while !dst.is_empty() {
            let rsv1 = dst[0] & RSV1 != 0;
            dst[0] &= !RSV1;
            let (fin, opcode, payload) = Parser::parse(&mut dst, true, usize::MAX)
                .expect("a valid frame")
                .expect("a whole frame");
            assert!(fin);
            frames.push((
                rsv1,
                opcode,
                payload.map(|p| p.to_vec()).unwrap_or_default(),
            ));
        }
        frames
    }

    #[test]
    fn packets_written_in_place_are_the_frames_of_their_encoding() {
        let long = "x".repeat(THRESHOLD * 4);
        let packets = [
            Packet::text("hello"),
            Packet::text(""),
            Packet::binary(vec![1, 2, 3]),
            Packet::Pong("probe".into()),
            Packet::Upgrade,
            // Compressed when permessage-deflate is on: these take the encoded way.
            Packet::text(long.as_str()),
            Packet::binary(long.clone().into_bytes()),
        ];
        for version in [ProtocolVersion::V3, ProtocolVersion::V4] {
            let agreed = Agreed {
                server_max_window_bits: 15,
                ..Agreed::default()
            };
            for deflate in [None, Some(agreed)] {
                let (mut direct, mut encoded) = (
                    LimitedCodec::new(1 << 20).with_deflate(deflate),
                    LimitedCodec::new(1 << 20).with_deflate(deflate),
                );
                let (mut a, mut b) = (BytesMut::new(), BytesMut::new());
                direct
                    .encode(WsOut::Packets(packets.to_vec(), version), &mut a)
                    .unwrap();
                for packet in &packets {
                    let message = match frame::encode_for(version, packet) {
                        Frame::Text(text) => WsMessage::Text(text),
                        Frame::Binary(data) => WsMessage::Binary(data),
                    };
                    encoded.encode(message, &mut b).unwrap();
                }
                let (a, b) = (read_as_server(a), read_as_server(b));
                assert_eq!(a, b, "{version:?}, deflate {}", deflate.is_some());
                assert_eq!(a.len(), packets.len());
                let compressed = a.iter().filter(|(rsv1, _, _)| *rsv1).count();
                assert_eq!(compressed, if deflate.is_some() { 2 } else { 0 });
            }
        }
    }

    #[test]
    fn fragments_make_one_message_within_the_limit() {
        let mut messages = Reassembly::new(ProtocolVersion::V4, 8);
        assert!(messages
            .push(WsFrame::Continuation(Item::FirstText("4he".into())))
            .is_none());
        assert!(messages
            .push(WsFrame::Continuation(Item::Continue("ll".into())))
            .is_none());
        let done = messages.push(WsFrame::Continuation(Item::Last("o".into())));
        assert!(matches!(done, Some(Ok(packet)) if packet == Packet::text("hello")));
        messages.push(WsFrame::Continuation(Item::FirstBinary("12345".into())));
        let too_big = messages.push(WsFrame::Continuation(Item::Last("6789".into())));
        assert!(matches!(
            too_big,
            Some(Err(TransportError::FrameTooLarge { limit: 8 }))
        ));
    }
}
