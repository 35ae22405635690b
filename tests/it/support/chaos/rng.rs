//! A small deterministic PRNG (splitmix64) and the draws the chaos server makes with it.
//! Each concern of a session draws from a stream of its own ([`Rng::stream`]), so what the
//! polling answers do does not shift what the websocket does when requests interleave
//! differently from one run to the next.

use std::time::Duration;

/// splitmix64 (Steele, Lea, Flood 2014): 64 bits of state, every seed good.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The stream `name` of `seed`: independent of the other streams of the same seed.
    pub fn stream(seed: u64, name: &str) -> Rng {
        // FNV-1a of the name, mixed into the seed.
        let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        let mut rng = Rng(seed ^ hash);
        rng.next_u64();
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    pub fn usize(&mut self, lo: usize, hi: usize) -> usize {
        self.range(lo as u64, hi as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// True `per_mille` times in a thousand.
    pub fn chance_in_1000(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// One of `items`, each as likely as its weight.
    pub fn weighted<T: Copy>(&mut self, items: &[(u64, T)]) -> T {
        let total: u64 = items.iter().map(|(w, _)| w).sum();
        let mut at = self.below(total);
        for (weight, item) in items {
            if at < *weight {
                return *item;
            }
            at -= weight;
        }
        items[items.len() - 1].1
    }

    pub fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(self.range(lo, hi))
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// Text of about `n` bytes from a mix of ASCII, accented, CJK and emoji characters
    /// (never the record separator).
    pub fn text(&mut self, n: usize) -> String {
        const PIECES: &[&str] = &[
            "a", "b", "z", "0", "7", " ", "-", "{", "\"", "\\", "é", "ß", "日本", "😀", "\t",
        ];
        let mut out = String::with_capacity(n + 4);
        while out.len() < n {
            let piece = *self.pick(PIECES);
            out.push_str(piece);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn streams_are_deterministic_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::stream(7, "get").next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::stream(7, "get").next_u64(),
            Rng::stream(7, "post").next_u64()
        );
        assert_ne!(
            Rng::stream(7, "get").next_u64(),
            Rng::stream(8, "get").next_u64()
        );
    }
}
