//! The transport's codec: [`LimitedCodec`]'s frames, decoded a burst at a time. Every
//! frame the read buffer holds whole comes out of one `decode`, up to [`BURST_BYTES`]
//! of payload, so the socket's stream (its lock, the gate, the actor's stream handler)
//! is polled once per read rather than once per frame. A single frame (a sequential
//! exchange) costs no allocation.
//!
//! The budget keeps the gate meaningful: a read of compressed frames can inflate to
//! far more than it holds (64 KiB of repetitive text deflates to a few dozen bytes),
//! and what one decode yields reaches the session whether or not it has stopped
//! reading.

use actix_codec::{Decoder, Encoder};
use actix_http::ws::{Frame as WsFrame, ProtocolError};
use bytes::BytesMut;

use super::frames::LimitedCodec;
use super::outgoing::WsOut;

/// The payload bytes after which a decode yields no more frames; the rest wait in the
/// read buffer for the next decode, after the gate is checked again. The actor's
/// stream handler takes up to 16 decodes before it looks at its mailbox (where the
/// word to stop reading arrives): about 1 MiB, plus one frame each. Room for 3,800
/// frames of a 16-byte message.
pub(crate) const BURST_BYTES: usize = 64 * 1024;

/// The frames of one decode, in order.
#[derive(Debug)]
pub(crate) enum Frames {
    One(WsFrame),
    Many(Vec<WsFrame>),
}

impl IntoIterator for Frames {
    type Item = WsFrame;
    type IntoIter = FramesIter;

    fn into_iter(self) -> FramesIter {
        match self {
            Frames::One(frame) => FramesIter::One(Some(frame)),
            Frames::Many(frames) => FramesIter::Many(frames.into_iter()),
        }
    }
}

/// The frames of a [`Frames`], in order.
pub(crate) enum FramesIter {
    One(Option<WsFrame>),
    Many(std::vec::IntoIter<WsFrame>),
}

impl Iterator for FramesIter {
    type Item = WsFrame;

    fn next(&mut self) -> Option<WsFrame> {
        match self {
            FramesIter::One(frame) => frame.take(),
            FramesIter::Many(frames) => frames.next(),
        }
    }
}

/// [`LimitedCodec`], whose frames come out in bursts (see the module's docs).
pub(crate) struct BurstCodec {
    inner: LimitedCodec,
    /// An error met after frames that came out first: the next decode's answer.
    error: Option<ProtocolError>,
}

impl BurstCodec {
    pub fn new(inner: LimitedCodec) -> Self {
        BurstCodec { inner, error: None }
    }

    /// The next whole frame, or `None`; an error is kept for the next decode.
    fn next_frame(&mut self, src: &mut BytesMut) -> Option<WsFrame> {
        match self.inner.decode(src) {
            Ok(frame) => frame,
            Err(error) => {
                self.error = Some(error);
                None
            }
        }
    }
}

impl Decoder for BurstCodec {
    type Item = Frames;
    type Error = ProtocolError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frames>, ProtocolError> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        let Some(first) = self.inner.decode(src)? else {
            return Ok(None);
        };
        if payload_len(&first) >= BURST_BYTES {
            return Ok(Some(Frames::One(first)));
        }
        let Some(second) = self.next_frame(src) else {
            return Ok(Some(Frames::One(first)));
        };
        let mut bytes = payload_len(&first) + payload_len(&second);
        let mut frames = vec![first, second];
        while self.error.is_none() && bytes < BURST_BYTES {
            match self.next_frame(src) {
                Some(frame) => {
                    bytes += payload_len(&frame);
                    frames.push(frame);
                }
                None => break,
            }
        }
        Ok(Some(Frames::Many(frames)))
    }
}

/// What a frame carries, as far as the burst's budget is concerned.
fn payload_len(frame: &WsFrame) -> usize {
    use actix_http::ws::Item;
    match frame {
        WsFrame::Text(data) | WsFrame::Binary(data) | WsFrame::Ping(data) | WsFrame::Pong(data) => {
            data.len()
        }
        WsFrame::Continuation(
            Item::FirstText(data)
            | Item::FirstBinary(data)
            | Item::Continue(data)
            | Item::Last(data),
        ) => data.len(),
        WsFrame::Close(_) => 0,
    }
}

impl Encoder<WsOut> for BurstCodec {
    type Error = ProtocolError;

    fn encode(&mut self, item: WsOut, dst: &mut BytesMut) -> Result<(), ProtocolError> {
        self.inner.encode(item, dst)
    }
}

#[cfg(test)]
mod tests {
    use actix_http::ws::{OpCode, Parser};
    use bytes::Bytes;

    use super::*;

    /// A frame as a server writes it (unmasked).
    fn server_frame(opcode: OpCode, payload: &[u8]) -> BytesMut {
        let mut out = BytesMut::new();
        Parser::write_message(&mut out, payload, opcode, true, false);
        out
    }

    fn texts(frames: Frames) -> Vec<Bytes> {
        frames
            .into_iter()
            .map(|frame| match frame {
                WsFrame::Text(data) => data,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn every_whole_frame_read_comes_out_in_one_decode_and_in_order() {
        let mut codec = BurstCodec::new(LimitedCodec::new(1024));
        let mut src = BytesMut::new();
        for text in ["4a", "4b", "4c"] {
            src.extend_from_slice(&server_frame(OpCode::Text, text.as_bytes()));
        }
        // The start of a fourth frame stays for the next read.
        let fourth = server_frame(OpCode::Text, b"4d");
        src.extend_from_slice(&fourth[..2]);
        let frames = codec.decode(&mut src).unwrap().unwrap();
        assert!(matches!(frames, Frames::Many(_)));
        assert_eq!(texts(frames), ["4a", "4b", "4c"]);
        assert!(codec.decode(&mut src).unwrap().is_none());
        src.extend_from_slice(&fourth[2..]);
        // A lone frame needs no vector.
        let frames = codec.decode(&mut src).unwrap().unwrap();
        assert!(matches!(frames, Frames::One(_)));
        assert_eq!(texts(frames), ["4d"]);
    }

    #[test]
    fn a_decode_stops_once_its_frames_carry_the_burst_budget() {
        let mut codec = BurstCodec::new(LimitedCodec::new(BURST_BYTES));
        let big = vec![b'x'; BURST_BYTES / 4];
        let mut src = BytesMut::new();
        for _ in 0..6 {
            src.extend_from_slice(&server_frame(OpCode::Text, &big));
        }
        let first = texts(codec.decode(&mut src).unwrap().unwrap());
        assert_eq!(first.len(), 4, "four quarters fill the budget");
        let rest = texts(codec.decode(&mut src).unwrap().unwrap());
        assert_eq!(rest.len(), 2, "the rest on the next decode");
        assert!(src.is_empty());
    }

    #[test]
    fn frames_before_an_error_come_out_first_then_the_error() {
        let mut codec = BurstCodec::new(LimitedCodec::new(8));
        let mut src = server_frame(OpCode::Text, b"4a");
        src.extend_from_slice(&server_frame(OpCode::Text, b"4b"));
        // Past the limit, refused from its header.
        src.extend_from_slice(&server_frame(OpCode::Text, b"4 too long"));
        let frames = codec.decode(&mut src).unwrap().unwrap();
        assert_eq!(texts(frames), ["4a", "4b"]);
        assert!(matches!(
            codec.decode(&mut src),
            Err(ProtocolError::Overflow)
        ));
        // An error as the second frame: the first still comes out alone.
        let mut codec = BurstCodec::new(LimitedCodec::new(8));
        let mut src = server_frame(OpCode::Text, b"4a");
        src.extend_from_slice(&server_frame(OpCode::Text, b"4 too long"));
        assert_eq!(texts(codec.decode(&mut src).unwrap().unwrap()), ["4a"]);
        assert!(codec.decode(&mut src).is_err());
    }
}
