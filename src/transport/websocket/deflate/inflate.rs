//! Inflating received messages within a bound, a piece at a time: a message that
//! would inflate past the limit is refused as soon as it passes it, never inflated
//! whole first.

use std::fmt;

use flate2::{Decompress, FlushDecompress, Status};

/// What RFC 7692 (7.2.2) has the receiver append to each message before inflating
/// it: the end of the empty stored block a sync flush writes, which the sender strips.
pub(crate) const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// How much is inflated in one step: the most the output can pass the limit by
/// before it is refused is one byte, since each step is given room only to the limit
/// and one byte beyond.
const STEP: usize = 16 * 1024;

/// Why a message could not be inflated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InflateError {
    /// It inflates to more than the limit.
    TooLarge,
    /// It is not valid deflate data.
    Corrupt(String),
}

impl fmt::Display for InflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InflateError::TooLarge => f.write_str("the message inflates past the limit"),
            InflateError::Corrupt(why) => write!(f, "invalid deflate data: {why}"),
        }
    }
}

/// The inflate side of a socket: one raw-deflate stream whose window carries over
/// from message to message (context takeover) unless it is reset.
pub(crate) struct Inflater {
    stream: Decompress,
    /// Bytes inflated so far of the message being received.
    produced: usize,
}

impl Inflater {
    pub fn new() -> Self {
        Inflater {
            // Raw deflate (no zlib header) with the largest window, which reads any
            // smaller one.
            stream: Decompress::new(false),
            produced: 0,
        }
    }

    /// Inflates `input`, the next piece of a compressed message (a frame's payload),
    /// and, when `last`, ends the message (its [`TAIL`] is appended). What it inflates
    /// to is returned; the message as a whole may inflate to at most `limit` bytes.
    pub fn inflate(
        &mut self,
        input: &[u8],
        last: bool,
        limit: usize,
    ) -> Result<Vec<u8>, InflateError> {
        let mut out = Vec::new();
        let mut step = [0u8; STEP];
        self.feed(input, limit, &mut step, &mut out)?;
        if last {
            self.feed(&TAIL, limit, &mut step, &mut out)?;
            self.produced = 0;
        }
        Ok(out)
    }

    fn feed(
        &mut self,
        mut input: &[u8],
        limit: usize,
        step: &mut [u8; STEP],
        out: &mut Vec<u8>,
    ) -> Result<(), InflateError> {
        loop {
            // Room to the limit and one byte beyond, to see the limit passed.
            let room = (limit - self.produced.min(limit))
                .saturating_add(1)
                .min(STEP);
            let (read_before, made_before) = (self.stream.total_in(), self.stream.total_out());
            let status = self
                .stream
                .decompress(input, &mut step[..room], FlushDecompress::Sync)
                .map_err(|e| InflateError::Corrupt(e.to_string()))?;
            let read = usize::try_from(self.stream.total_in() - read_before).unwrap_or(usize::MAX);
            let made = usize::try_from(self.stream.total_out() - made_before).unwrap_or(usize::MAX);
            self.produced = self.produced.saturating_add(made);
            if self.produced > limit {
                return Err(InflateError::TooLarge);
            }
            out.extend_from_slice(&step[..made]);
            input = input.get(read..).unwrap_or_default();
            if status == Status::StreamEnd {
                // A block with BFINAL set ended the stream (RFC 7692 7.2.3.3): the next
                // message starts a new one. Its window cannot be carried over with this
                // backend, so a server that refers back to it fails as corrupt data.
                self.stream.reset(false);
                if !input.is_empty() && input != TAIL {
                    continue;
                }
                return Ok(());
            }
            if input.is_empty() && made < room {
                return Ok(());
            }
            if read == 0 && made == 0 {
                return Err(InflateError::Corrupt(
                    "the inflater makes no progress".into(),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::websocket::deflate::compress::Deflater;

    /// 200 MiB of zeros as one compressed message, made without compressing 200 MiB:
    /// the first MiB, then the compressed form of a MiB of zeros after zeros, which
    /// is the same bytes each time.
    pub(crate) fn bomb(mib: usize) -> Vec<u8> {
        let mut deflater = Deflater::new(false);
        let zeros = vec![0u8; 1 << 20];
        let mut bomb = deflater.compress_unterminated(&zeros);
        let again = deflater.compress_unterminated(&zeros);
        assert_eq!(again, deflater.compress_unterminated(&zeros));
        for _ in 1..mib {
            bomb.extend_from_slice(&again);
        }
        bomb
    }

    #[test]
    fn the_bomb_is_what_it_claims() {
        let bomb = bomb(4);
        let mut inflater = Inflater::new();
        let out = inflater.inflate(&bomb, true, 8 << 20).unwrap();
        assert_eq!(out.len(), 4 << 20);
        assert!(out.iter().all(|&b| b == 0));
    }

    #[test]
    fn a_bomb_is_refused_as_soon_as_it_passes_the_limit() {
        let bomb = bomb(200);
        assert!(bomb.len() < 1 << 20, "{} bytes compressed", bomb.len());
        let limit = 1 << 20;
        let mut inflater = Inflater::new();
        // Fed in the pieces a fragmented message would bring.
        let mut result = Ok(Vec::new());
        let mut inflated = 0;
        for piece in bomb.chunks(16 * 1024) {
            result = inflater.inflate(piece, false, limit);
            match &result {
                Ok(out) => inflated += out.len(),
                Err(_) => break,
            }
            assert!(inflated <= limit);
        }
        assert_eq!(result, Err(InflateError::TooLarge));
        // It stopped right past the limit: one byte beyond, not the whole bomb.
        assert_eq!(inflater.produced, limit + 1);
    }

    #[test]
    fn a_message_of_exactly_the_limit_passes() {
        let data = vec![7u8; 5000];
        let mut deflater = Deflater::new(false);
        let compressed = deflater.compress(&data);
        let mut inflater = Inflater::new();
        assert_eq!(inflater.inflate(&compressed, true, 5000).unwrap(), data);
        let compressed = deflater.compress(&data);
        let mut fresh = Inflater::new();
        // Context taken over: the fresh inflater has not seen the first message, which
        // the second one refers back to.
        assert_ne!(
            fresh.inflate(&compressed, true, 5000).ok(),
            Some(data.clone())
        );
        assert_eq!(
            inflater.inflate(&compressed, true, 4999),
            Err(InflateError::TooLarge)
        );
    }

    #[test]
    fn garbage_is_corrupt_not_a_panic() {
        let mut inflater = Inflater::new();
        let result = inflater.inflate(&[0xff; 64], true, 1 << 20);
        assert!(
            matches!(result, Err(InflateError::Corrupt(_))),
            "{result:?}"
        );
    }
}
