//! When a lost session is opened again, and after how long: the [`ReconnectPolicy`], the
//! exponential backoff with jitter it gives, and the hook that may change the request
//! before each attempt. Plain data and arithmetic; the session actor carries it out.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use awc::http::header::{HeaderName, HeaderValue};

use super::parse::{parse_header, RedactedQuery};

/// Whether and how a session opens again after it is lost, with python-socketio's
/// defaults: 1 s, doubling up to 5 s, each delay randomized by half of it either way, and
/// no limit on attempts.
///
/// Reconnection is off unless a builder is given a policy
/// ([`reconnect`](crate::builder::Builder::reconnect)). A session is lost when its
/// transport fails, its pings stop, or the server closes it (unless
/// [`after_server_disconnect(false)`](Self::after_server_disconnect)); never when the
/// application closes it.
///
/// ```
/// use std::time::Duration;
/// use actix_engineio::ReconnectPolicy;
///
/// let policy = ReconnectPolicy::default()
///     .initial_delay(Duration::from_millis(500))
///     .max_delay(Duration::from_secs(30))
///     .max_attempts(Some(10))
///     .retry_first_connect(true);
/// ```
#[derive(Clone)]
pub struct ReconnectPolicy {
    pub(crate) initial_delay: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) multiplier: f64,
    pub(crate) randomization: f64,
    pub(crate) max_attempts: Option<u32>,
    pub(crate) retry_first_connect: bool,
    pub(crate) after_server_disconnect: bool,
    pub(crate) hold_messages: bool,
    pub(crate) hook: Option<Hook>,
}

/// What is called before each attempt.
pub(crate) type Hook = Arc<dyn Fn(&mut ReconnectAttempt) + Send + Sync>;

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
            multiplier: 2.0,
            randomization: 0.5,
            max_attempts: None,
            retry_first_connect: false,
            after_server_disconnect: true,
            hold_messages: false,
            hook: None,
        }
    }
}

impl fmt::Debug for ReconnectPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReconnectPolicy")
            .field("initial_delay", &self.initial_delay)
            .field("max_delay", &self.max_delay)
            .field("multiplier", &self.multiplier)
            .field("randomization", &self.randomization)
            .field("max_attempts", &self.max_attempts)
            .field("retry_first_connect", &self.retry_first_connect)
            .field("after_server_disconnect", &self.after_server_disconnect)
            .field("hold_messages", &self.hold_messages)
            .field("hook", &self.hook.is_some())
            .finish()
    }
}

impl ReconnectPolicy {
    /// The delay before the first attempt (default 1 s).
    ///
    /// ```
    /// let policy = actix_engineio::ReconnectPolicy::default()
    ///     .initial_delay(std::time::Duration::from_millis(200));
    /// ```
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// The longest delay, before randomization (default 5 s).
    ///
    /// ```
    /// let policy = actix_engineio::ReconnectPolicy::default()
    ///     .max_delay(std::time::Duration::from_secs(60));
    /// ```
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// How much longer each delay is than the one before (default 2; at least 1).
    ///
    /// ```
    /// let policy = actix_engineio::ReconnectPolicy::default().multiplier(1.5);
    /// ```
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = if multiplier.is_finite() {
            multiplier.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// How much each delay is randomized, as a fraction of it either way (default
    /// 0.5: a 2 s delay becomes 1 to 3 s), so that many clients of a restarted server do
    /// not all come back at once. Between 0 and 1.
    ///
    /// ```
    /// let exact = actix_engineio::ReconnectPolicy::default().randomization(0.0);
    /// ```
    pub fn randomization(mut self, fraction: f64) -> Self {
        self.randomization = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// How many attempts in a row before giving up (default `None`: never give up).
    /// When they run out, the final [`Disconnect`](crate::Disconnect) says so
    /// ([`DisconnectReason::ReconnectFailed`](crate::DisconnectReason::ReconnectFailed)).
    ///
    /// ```
    /// let policy = actix_engineio::ReconnectPolicy::default().max_attempts(Some(5));
    /// ```
    pub fn max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Whether a first `connect` that fails is retried too (default `false`: it fails).
    /// With it, `connect` returns once a session opens, or with the last error once the
    /// attempts run out.
    ///
    /// ```
    /// let policy = actix_engineio::ReconnectPolicy::default().retry_first_connect(true);
    /// ```
    pub fn retry_first_connect(mut self, retry: bool) -> Self {
        self.retry_first_connect = retry;
        self
    }

    /// Whether a session the server closed is opened again (default `true`). Turn it
    /// off for servers that close sessions on purpose.
    ///
    /// ```
    /// let policy = actix_engineio::ReconnectPolicy::default().after_server_disconnect(false);
    /// ```
    pub fn after_server_disconnect(mut self, reconnect: bool) -> Self {
        self.after_server_disconnect = reconnect;
        self
    }

    /// What happens to messages sent while no session is open: held in the bounded send
    /// queue and sent, in order, once the next session opens (`true`), or refused at
    /// once with the message given back (`false`, the default). Hold them when they stay
    /// meaningful on a new session; the server cannot tell them from messages of the old.
    ///
    /// ```
    /// let policy = actix_engineio::ReconnectPolicy::default().hold_messages(true);
    /// ```
    pub fn hold_messages(mut self, hold: bool) -> Self {
        self.hold_messages = hold;
        self
    }

    /// Calls `hook` before each attempt, once its delay has passed: it may change the
    /// headers and query of the attempt (a fresh token, say) or stop the retries.
    ///
    /// ```
    /// use actix_engineio::{ReconnectAttempt, ReconnectPolicy};
    ///
    /// fn fresh_token() -> String { "t0k3n".into() }
    ///
    /// let policy = ReconnectPolicy::default().before_attempt(|attempt: &mut ReconnectAttempt| {
    ///     attempt.set_header("Authorization", format!("Bearer {}", fresh_token()));
    ///     if attempt.number() > 20 {
    ///         attempt.give_up();
    ///     }
    /// });
    /// ```
    pub fn before_attempt<F>(mut self, hook: F) -> Self
    where
        F: Fn(&mut ReconnectAttempt) + Send + Sync + 'static,
    {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// The delay before attempt `attempt` (1 for the first), given a random number in
    /// `[0, 1)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_engineio::ReconnectPolicy;
    ///
    /// let policy = ReconnectPolicy::default();
    /// assert_eq!(policy.delay(1, 0.5), Duration::from_secs(1)); // the middle of 0.5..1.5 s
    /// assert_eq!(policy.delay(3, 0.5), Duration::from_secs(4));
    /// assert_eq!(policy.delay(10, 0.5), Duration::from_secs(5)); // capped
    /// assert_eq!(policy.delay(1, 0.0), Duration::from_millis(500));
    /// ```
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let growth = self
            .multiplier
            .powi(attempt.saturating_sub(1).min(1024) as i32);
        let base = (self.initial_delay.as_secs_f64() * growth).min(self.max_delay.as_secs_f64());
        let jitter = self.randomization * (2.0 * random.clamp(0.0, 1.0) - 1.0);
        Duration::try_from_secs_f64(base * (1.0 + jitter)).unwrap_or(self.max_delay)
    }

    /// Whether attempt `attempt` may be made.
    pub(crate) fn allows(&self, attempt: u32) -> bool {
        self.max_attempts.is_none_or(|max| attempt <= max)
    }
}

/// A random number in `[0, 1)`, for the jitter: hashing with the standard library's
/// randomly seeded hasher is random enough to spread clients apart.
pub(crate) fn random_fraction() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// One reconnection attempt, as the [`before_attempt`](ReconnectPolicy::before_attempt)
/// hook sees it: which attempt it is, and the changes it makes.
///
/// ```
/// use actix_engineio::ReconnectAttempt;
///
/// fn refresh(attempt: &mut ReconnectAttempt) {
///     attempt.set_query("token", "new");
/// }
/// ```
pub struct ReconnectAttempt {
    number: u32,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) give_up: bool,
    pub(crate) error: Option<String>,
}

/// Headers print as `Sensitive` when they carry credentials, query values that are or
/// look like tokens as `<redacted>`.
impl fmt::Debug for ReconnectAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReconnectAttempt")
            .field("number", &self.number)
            .field("headers", &self.headers)
            .field("query", &RedactedQuery(&self.query))
            .field("give_up", &self.give_up)
            .field("error", &self.error)
            .finish()
    }
}

impl ReconnectAttempt {
    pub(crate) fn new(number: u32) -> Self {
        ReconnectAttempt {
            number,
            headers: Vec::new(),
            query: Vec::new(),
            give_up: false,
            error: None,
        }
    }

    /// Which attempt this is: 1 for the first after a loss.
    ///
    /// ```
    /// # fn f(attempt: &actix_engineio::ReconnectAttempt) {
    /// if attempt.number() == 1 { println!("first try"); }
    /// # }
    /// ```
    pub fn number(&self) -> u32 {
        self.number
    }

    /// Sets header `name` to `value` for this attempt and the sessions after it,
    /// replacing a header of that name. A header that is not valid HTTP is ignored
    /// (and logged): the attempt goes on with the headers it had.
    ///
    /// ```
    /// # fn f(attempt: &mut actix_engineio::ReconnectAttempt) {
    /// attempt.set_header("Authorization", "Bearer fresh");
    /// # }
    /// ```
    pub fn set_header(&mut self, name: impl AsRef<str>, value: impl AsRef<str>) {
        match parse_header(name.as_ref(), value.as_ref()) {
            Ok(pair) => self.headers.push(pair),
            Err(reason) => self.error = Some(format!("header {:?}: {reason}", name.as_ref())),
        }
    }

    /// Sets query parameter `key` to `value`, replacing a parameter of that name.
    ///
    /// ```
    /// # fn f(attempt: &mut actix_engineio::ReconnectAttempt) {
    /// attempt.set_query("token", "fresh");
    /// # }
    /// ```
    pub fn set_query(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.query.push((key.into(), value.into()));
    }

    /// Stops the retries: the session ends for good, as a client disconnect.
    ///
    /// ```
    /// # fn f(attempt: &mut actix_engineio::ReconnectAttempt) {
    /// attempt.give_up();
    /// # }
    /// ```
    pub fn give_up(&mut self) {
        self.give_up = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_cap_and_stay_within_the_jitter() {
        let policy = ReconnectPolicy::default();
        let exact: Vec<_> = (1..=5).map(|n| policy.delay(n, 0.5).as_millis()).collect();
        assert_eq!(exact, [1000, 2000, 4000, 5000, 5000]);
        for n in 1..=6 {
            let low = policy.delay(n, 0.0).as_secs_f64();
            let high = policy.delay(n, 0.999_999).as_secs_f64();
            let middle = policy.delay(n, 0.5).as_secs_f64();
            assert!(
                (low - middle * 0.5).abs() < 1e-6,
                "attempt {n}: {low} vs {middle}"
            );
            assert!(
                (high - middle * 1.5).abs() < 1e-3,
                "attempt {n}: {high} vs {middle}"
            );
        }
    }

    #[test]
    fn huge_attempt_numbers_stay_at_the_cap() {
        let policy = ReconnectPolicy::default().randomization(0.0);
        assert_eq!(policy.delay(u32::MAX, 0.3), Duration::from_secs(5));
    }

    #[test]
    fn random_fractions_are_in_range_and_vary() {
        let samples: Vec<f64> = (0..100).map(|_| random_fraction()).collect();
        assert!(samples.iter().all(|x| (0.0..1.0).contains(x)));
        assert!(samples.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn attempts_are_limited_only_when_asked() {
        let policy = ReconnectPolicy::default();
        assert!(policy.allows(1_000_000));
        let policy = policy.max_attempts(Some(3));
        assert!(policy.allows(3) && !policy.allows(4));
    }
}
