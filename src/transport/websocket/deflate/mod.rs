//! permessage-deflate (RFC 7692) on the websocket transport, as pure bytes in and
//! bytes out: the offer and the server's answer ([`negotiate`]), the compression of
//! sent messages ([`compress`]) and the bounded inflation of received ones
//! ([`inflate`]), and here the frame-level rules that tie them to the codec: RSV1 on
//! the first frame of a compressed message only, never on control frames.
//!
//! The zlib state is costly (312 KiB to deflate with flate2's miniz_oxide backend,
//! 42 KiB to inflate, measured) and many sessions only ever exchange pings: each side
//! is allocated on the first message that needs it, not at the handshake. The deflate
//! side is dropped again once it has not been used for [`DEFLATE_IDLE`]: a sender may
//! start afresh at any message boundary (the receiver's window only holds more than the
//! next message refers to), so an idle session keeps the inflate side alone. The
//! inflate side must stay while the server takes its context over; when it does not
//! (`server_no_context_takeover`), it is dropped after each message.

pub(crate) mod compress;
pub(crate) mod inflate;
pub(crate) mod negotiate;
#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use actix_http::ws::{Frame as WsFrame, Item};
use bytes::Bytes;

use self::compress::{Deflater, THRESHOLD};
use self::inflate::{InflateError, Inflater};
pub(crate) use self::negotiate::Agreed;

/// How long the deflate state is kept unused before it is dropped. Long enough that a
/// burst of messages, or a conversation, keeps its context; short enough that a session
/// gone quiet gives its 312 KiB back by the server's next ping or so.
pub(crate) const DEFLATE_IDLE: Duration = Duration::from_secs(30);

/// The RSV1 bit of a frame's first byte: set on the first frame of a compressed message.
pub(crate) const RSV1: u8 = 0x40;

/// Why a received frame cannot be read under permessage-deflate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DeflateError {
    #[error("the message inflates past the limit")]
    TooLarge,
    #[error("permessage-deflate: {0}")]
    Invalid(String),
}

impl From<InflateError> for DeflateError {
    fn from(error: InflateError) -> Self {
        match error {
            InflateError::TooLarge => DeflateError::TooLarge,
            InflateError::Corrupt(why) => DeflateError::Invalid(why),
        }
    }
}

/// The compression state of one socket whose server accepted permessage-deflate.
pub(crate) struct PerMessageDeflate {
    agreed: Agreed,
    /// Allocated with the first message worth compressing, with when it was last used.
    deflater: Option<(Deflater, Instant)>,
    /// Allocated with the first compressed message received.
    inflater: Option<Inflater>,
    /// Whether the message being received (a fragmented one) is compressed.
    receiving_compressed: bool,
}

impl PerMessageDeflate {
    pub fn new(agreed: Agreed) -> Self {
        PerMessageDeflate {
            agreed,
            deflater: None,
            inflater: None,
            receiving_compressed: false,
        }
    }

    /// Whether the zlib state of each side is allocated: (deflate, inflate).
    #[cfg(test)]
    pub fn allocated(&self) -> (bool, bool) {
        (self.deflater.is_some(), self.inflater.is_some())
    }

    /// The payload to send for a data message, and whether it is compressed (RSV1):
    /// messages shorter than [`THRESHOLD`] go as they are.
    pub fn outgoing(&mut self, message: &[u8], now: Instant) -> Option<Vec<u8>> {
        if message.len() < THRESHOLD {
            return None;
        }
        let no_takeover = self.agreed.client_no_context_takeover;
        let (deflater, used) = self
            .deflater
            .get_or_insert_with(|| (Deflater::new(no_takeover), now));
        *used = now;
        Some(deflater.compress(message))
    }

    /// Drops the deflate state if it has not been used for [`DEFLATE_IDLE`] by `now`.
    pub fn release_idle(&mut self, now: Instant) {
        if let Some((_, used)) = &self.deflater {
            if now.saturating_duration_since(*used) >= DEFLATE_IDLE {
                self.deflater = None;
            }
        }
    }

    /// A frame as read with its RSV1 bit cleared (`rsv1` says whether it was set),
    /// with its payload inflated when its message is compressed; `limit` bounds each
    /// whole message once inflated.
    pub fn incoming(
        &mut self,
        frame: WsFrame,
        rsv1: bool,
        limit: usize,
    ) -> Result<WsFrame, DeflateError> {
        let invalid = |why: &str| Err(DeflateError::Invalid(why.into()));
        Ok(match frame {
            WsFrame::Ping(_) | WsFrame::Pong(_) | WsFrame::Close(_) if rsv1 => {
                return invalid("RSV1 set on a control frame");
            }
            WsFrame::Ping(_) | WsFrame::Pong(_) | WsFrame::Close(_) => frame,
            WsFrame::Text(data) if rsv1 => WsFrame::Text(self.inflate(&data, true, limit)?),
            WsFrame::Binary(data) if rsv1 => WsFrame::Binary(self.inflate(&data, true, limit)?),
            WsFrame::Text(_) | WsFrame::Binary(_) => frame,
            WsFrame::Continuation(item) => {
                let (kind, data, last) = match item {
                    Item::FirstText(data) => (Some(true), data, false),
                    Item::FirstBinary(data) => (Some(false), data, false),
                    Item::Continue(data) => (None, data, false),
                    Item::Last(data) => (None, data, true),
                };
                if kind.is_some() {
                    self.receiving_compressed = rsv1;
                } else if rsv1 {
                    return invalid("RSV1 set on a continuation frame");
                }
                let data = if self.receiving_compressed {
                    self.inflate(&data, last, limit)?
                } else {
                    data
                };
                if last {
                    self.receiving_compressed = false;
                }
                WsFrame::Continuation(match (kind, last) {
                    (Some(true), _) => Item::FirstText(data),
                    (Some(false), _) => Item::FirstBinary(data),
                    (None, false) => Item::Continue(data),
                    (None, true) => Item::Last(data),
                })
            }
        })
    }

    fn inflate(&mut self, data: &[u8], last: bool, limit: usize) -> Result<Bytes, DeflateError> {
        let inflater = self.inflater.get_or_insert_with(Inflater::new);
        let out = inflater.inflate(data, last, limit)?;
        if last && self.agreed.server_no_context_takeover {
            // Nothing to keep for the next message.
            self.inflater = None;
        }
        Ok(Bytes::from(out))
    }
}
