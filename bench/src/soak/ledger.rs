//! The soak's accounts: for every session, which messages the client had accepted,
//! which came back as `Undelivered`, which the server received and which echoes the
//! client got, one bit per message, so that the books stay small beside what they
//! measure (1.1 M messages take about 140 KiB per account).
//!
//! A message that is neither received by the server nor given back was either in
//! flight when a fault broke its connection (accepted during the fault's window: from
//! the message before the fault until the session reconnected, or the fault was long
//! over), which no Engine.IO client can know about, or lost by the client, which must
//! never happen.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// A growable set of message numbers.
#[derive(Default)]
struct Bits(Vec<u64>);

impl Bits {
    /// Sets bit `n`; whether it was set already.
    fn set(&mut self, n: u64) -> bool {
        let (word, bit) = ((n / 64) as usize, n % 64);
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        let was = self.0[word] & (1 << bit) != 0;
        self.0[word] |= 1 << bit;
        was
    }

    fn count(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// How many of `self` are in none of `others`, and within `within` when given.
    fn count_outside(&self, others: &[&Bits], within: Option<&Bits>) -> u64 {
        let word = |bits: &Bits, i: usize| bits.0.get(i).copied().unwrap_or(0);
        (0..self.0.len())
            .map(|i| {
                let covered = others.iter().fold(0, |acc, o| acc | word(o, i));
                let mask = within.map_or(u64::MAX, |w| word(w, i));
                u64::from((self.0[i] & !covered & mask).count_ones())
            })
            .sum()
    }

    fn bytes(&self) -> usize {
        self.0.capacity() * 8
    }
}

/// One session's accounts.
#[derive(Default)]
struct Book {
    accepted: Bits,
    /// Accepted during a fault's window.
    at_risk: Bits,
    window_open: bool,
    last_accepted: Option<u64>,
    undelivered: Bits,
    server: Bits,
    echoed: Bits,
    refused: u64,
    server_duplicates: u64,
    echo_duplicates: u64,
    /// Echoes that arrived after one with a higher number.
    reordered: u64,
    last_echo: Option<u64>,
}

/// Totals over every session.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    pub accepted: u64,
    pub refused: u64,
    pub undelivered: u64,
    pub server: u64,
    pub echoed: u64,
    /// Accepted outside any fault's window, never received by the server and never
    /// given back: lost by the client.
    pub lost: u64,
    /// Accepted during a fault's window, never received by the server and never given
    /// back: in flight when the fault broke the connection.
    pub lost_in_flight: u64,
    /// Received by the server (or echoed) more than once.
    pub duplicated: u64,
    pub reordered: u64,
    /// Received by the server, echo never seen by the client.
    pub echoes_missing: u64,
    /// Memory the books take.
    pub ledger_bytes: usize,
}

/// The accounts of every session, shared by the sessions, the server's reader and the
/// reporter.
pub struct Ledger(Vec<Mutex<Book>>);

fn lock(book: &Mutex<Book>) -> MutexGuard<'_, Book> {
    book.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Ledger {
    pub fn new(sessions: usize) -> Ledger {
        Ledger((0..sessions).map(|_| Mutex::default()).collect())
    }

    fn book(&self, session: usize) -> Option<MutexGuard<'_, Book>> {
        self.0.get(session).map(lock)
    }

    /// The text of message `seq` of `session`.
    pub fn text(session: usize, seq: u64) -> String {
        format!("s{session}:{seq}")
    }

    /// The session and number of a message's text.
    pub fn parse(text: &str) -> Option<(usize, u64)> {
        let (session, seq) = text.strip_prefix('s')?.split_once(':')?;
        Some((session.parse().ok()?, seq.parse().ok()?))
    }

    pub fn accepted(&self, session: usize, seq: u64) {
        if let Some(mut book) = self.book(session) {
            book.accepted.set(seq);
            book.last_accepted = Some(seq);
            if book.window_open {
                book.at_risk.set(seq);
            }
        }
    }

    /// A fault starts: every session's window opens, from its last accepted message on.
    pub fn open_windows(&self) {
        for book in &self.0 {
            let mut book = lock(book);
            book.window_open = true;
            if let Some(last) = book.last_accepted {
                book.at_risk.set(last);
            }
        }
    }

    /// Session `session` is open again after a fault.
    pub fn close_window(&self, session: usize) {
        if let Some(mut book) = self.book(session) {
            book.window_open = false;
        }
    }

    /// The fault is long over: sessions it did not break are out of its window.
    pub fn close_windows(&self) {
        for book in &self.0 {
            lock(book).window_open = false;
        }
    }

    pub fn refused(&self, session: usize) {
        if let Some(mut book) = self.book(session) {
            book.refused += 1;
        }
    }

    pub fn undelivered(&self, text: &str) {
        if let Some((session, seq)) = Self::parse(text) {
            if let Some(mut book) = self.book(session) {
                book.undelivered.set(seq);
            }
        }
    }

    /// A line of the server's `--log-received` output.
    pub fn server_line(&self, line: &str) {
        let Some((session, seq)) = line.strip_prefix("R ").and_then(Self::parse) else {
            return;
        };
        if let Some(mut book) = self.book(session) {
            if book.server.set(seq) {
                book.server_duplicates += 1;
            }
        }
    }

    pub fn echoed(&self, text: &str) {
        let Some((session, seq)) = Self::parse(text) else {
            return;
        };
        if let Some(mut book) = self.book(session) {
            if book.echoed.set(seq) {
                book.echo_duplicates += 1;
            }
            if book.last_echo.is_some_and(|last| last > seq) {
                book.reordered += 1;
            }
            book.last_echo = Some(book.last_echo.map_or(seq, |last| last.max(seq)));
        }
    }

    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for book in &self.0 {
            let b = lock(book);
            t.accepted += b.accepted.count();
            t.refused += b.refused;
            t.undelivered += b.undelivered.count();
            t.server += b.server.count();
            t.echoed += b.echoed.count();
            let accounted = [&b.server, &b.undelivered];
            let unaccounted = b.accepted.count_outside(&accounted, None);
            let in_flight = b.accepted.count_outside(&accounted, Some(&b.at_risk));
            t.lost_in_flight += in_flight;
            t.lost += unaccounted - in_flight;
            t.duplicated += b.server_duplicates + b.echo_duplicates;
            t.reordered += b.reordered;
            t.echoes_missing += b.server.count_outside(&[&b.echoed], None);
            t.ledger_bytes += [
                &b.accepted,
                &b.at_risk,
                &b.undelivered,
                &b.server,
                &b.echoed,
            ]
            .iter()
            .map(|bits| bits.bytes())
            .sum::<usize>();
        }
        t
    }
}
