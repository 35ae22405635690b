//! Compressing sent messages (RFC 7692 7.2.1), and which are worth it.

use flate2::{Compress, Compression, FlushCompress};

use super::inflate::TAIL;

/// Messages shorter than this go out uncompressed (RSV1 clear). Measured (see the
/// `threshold_is_where_compression_starts_to_pay` test): a one-character packet (ping
/// `2`, pong `3`, upgrade `5`, noop `6`) always deflates to 3 bytes, and Engine.IO's
/// other short packets (`2probe`, `4hello`) to 4 at best, saving two bytes at most
/// and costing two when the context has not seen them. A 16-byte chat message comes
/// out at 6 bytes once the context is warm (18 cold), and larger ones better still.
pub(crate) const THRESHOLD: usize = 16;

/// The deflate side of a socket: one raw-deflate stream whose window carries over
/// from message to message unless the server asked for `client_no_context_takeover`.
pub(crate) struct Deflater {
    stream: Compress,
    /// Start each message afresh.
    no_context_takeover: bool,
}

impl Deflater {
    pub fn new(no_context_takeover: bool) -> Self {
        Deflater {
            // Level 3: on 1 KiB chat-like JSON messages with miniz_oxide, 13.6 µs a
            // message for 17.5 % of the size, where zlib's default level 6 takes
            // 35.5 µs for 16.3 % and level 1 10.2 µs for 25.4 % (measured, release).
            stream: Compress::new(Compression::new(3), false),
            no_context_takeover,
        }
    }

    /// `message` compressed, as the payload of a frame with RSV1 set: the sync flush's
    /// trailing `00 00 ff ff` removed.
    pub fn compress(&mut self, message: &[u8]) -> Vec<u8> {
        let mut out = self.compress_unterminated(message);
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if self.no_context_takeover {
            self.stream.reset();
        }
        out
    }

    /// `message` compressed and sync-flushed (byte-aligned, trailer kept).
    pub(super) fn compress_unterminated(&mut self, message: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(message.len() / 2 + 64);
        let start = self.stream.total_in();
        loop {
            let read = usize::try_from(self.stream.total_in() - start).unwrap_or(message.len());
            let rest = message.get(read..).unwrap_or_default();
            // Compressing into memory cannot fail: flate2 reports buffer errors only
            // when no progress is possible, which spare capacity rules out.
            let _ = self
                .stream
                .compress_vec(rest, &mut out, FlushCompress::Sync);
            let done = self.stream.total_in() - start == message.len() as u64;
            // Done once the input is in and the flush fitted with room to spare.
            if done && out.len() < out.capacity() {
                return out;
            }
            out.reserve(out.capacity().max(64));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::websocket::deflate::inflate::Inflater;

    #[test]
    fn a_message_compresses_and_inflates_back() {
        let mut deflater = Deflater::new(false);
        let mut inflater = Inflater::new();
        for message in [&b""[..], b"4hello", &[b'x'; 100_000][..]] {
            let compressed = deflater.compress(message);
            assert!(!compressed.ends_with(&TAIL));
            assert_eq!(
                inflater.inflate(&compressed, true, 1 << 20).unwrap(),
                message
            );
        }
    }

    #[test]
    fn without_context_takeover_each_message_stands_alone() {
        let mut deflater = Deflater::new(true);
        let first = deflater.compress(b"4{\"event\":\"chat\",\"text\":\"hello there\"}");
        let second = deflater.compress(b"4{\"event\":\"chat\",\"text\":\"hello there\"}");
        assert_eq!(first, second);
        let mut fresh = Inflater::new();
        assert!(fresh.inflate(&second, true, 1024).is_ok());
    }

    /// Chat-like JSON of `len` bytes: `4{"u":N,"t":"…"}`.
    fn chat(i: usize, len: usize) -> String {
        let mut text = format!("4{{\"u\":{},\"t\":\"", i % 7);
        while text.len() < len.saturating_sub(2) {
            text.push(char::from(b'a' + ((i * 31 + text.len() * 7) % 26) as u8));
        }
        text.push_str("\"}");
        text
    }

    /// The sizes the threshold was chosen from (printed with `--nocapture`), and the
    /// facts it rests on: Engine.IO's own short packets never come out much smaller,
    /// a single character never smaller at all; from the threshold on, chat-like
    /// messages come out at a fraction of their size once the context is warm.
    #[test]
    fn threshold_is_where_compression_starts_to_pay() {
        for len in [16, 20, 24, 32, 48, 64, 128] {
            let mut warm = Deflater::new(false);
            for i in 0..50 {
                warm.compress(chat(i, len).as_bytes());
            }
            let first = Deflater::new(false)
                .compress(chat(1000, len).as_bytes())
                .len();
            let later = warm.compress(chat(1000, len).as_bytes()).len();
            eprintln!("{len}-byte chat: {first} compressed alone, {later} after 50 others");
            if len >= THRESHOLD {
                assert!(later * 2 <= len, "{len}: {later}");
            }
        }
        for packet in ["2", "3", "5", "6", "4hi", "2probe", "3probe", "4hello"] {
            let mut warm = Deflater::new(false);
            let sizes: Vec<usize> = (0..20)
                .map(|_| warm.compress(packet.as_bytes()).len())
                .collect();
            eprintln!("{packet:?} sent 20 times: {sizes:?} bytes compressed");
            // Never more than two bytes saved, a single character never any.
            assert!(sizes
                .iter()
                .all(|&size| size + 2 >= packet.len() && size > 1));
            assert!(packet.len() < THRESHOLD);
        }
        let mut deflater = Deflater::new(false);
        let mut total = (0, 0);
        for i in 0..200 {
            let message = chat(i, 1024);
            total.0 += message.len();
            total.1 += deflater.compress(message.as_bytes()).len();
        }
        eprintln!(
            "200 1-KiB chat messages: {} bytes, {} compressed",
            total.0, total.1
        );
        assert!(total.1 * 2 < total.0);
    }
}
