//! The cookies of one session, so that cookie-sticky load balancers keep it on one
//! server: parsed with the `cookie` crate, bounded in number and size, and dropped once
//! expired.

use std::time::{Duration, SystemTime};

use cookie::{Cookie, Expiration};

/// The most cookies a jar keeps; the oldest goes first to make room.
pub(crate) const MAX_COOKIES: usize = 50;

/// The longest cookie kept, name and value together (RFC 6265's "at least 4096").
pub(crate) const MAX_COOKIE_BYTES: usize = 4096;

/// The most bytes of cookies in all, so that the `Cookie` header stays small.
pub(crate) const MAX_JAR_BYTES: usize = 16 * 1024;

/// Cookies set by the server's responses, sent back on every later request.
///
/// A session talks to one host and one path, so domain and path attributes do not
/// narrow anything here; `Max-Age` and `Expires` do: an expired cookie is removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct CookieJar {
    /// In the order first set.
    cookies: Vec<Stored>,
}

#[derive(Clone, PartialEq, Eq)]
struct Stored {
    name: String,
    value: String,
    /// When it expires, if it does before the session ends.
    expires: Option<SystemTime>,
}

/// A cookie's value is a credential: only its name is shown.
impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stored")
            .field("name", &self.name)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl Stored {
    fn len(&self) -> usize {
        self.name.len() + self.value.len()
    }

    fn expired(&self, now: SystemTime) -> bool {
        self.expires.is_some_and(|at| at <= now)
    }
}

impl CookieJar {
    /// Records one `Set-Cookie` header value; malformed ones, and cookies larger than
    /// [`MAX_COOKIE_BYTES`], are ignored.
    pub fn store(&mut self, set_cookie: &str) {
        self.store_at(set_cookie, SystemTime::now());
    }

    fn store_at(&mut self, set_cookie: &str, now: SystemTime) {
        let Ok(cookie) = Cookie::parse(set_cookie) else {
            return;
        };
        let (name, value) = (cookie.name().trim(), cookie.value().trim());
        if name.is_empty() || name.len() + value.len() > MAX_COOKIE_BYTES {
            return;
        }
        self.cookies.retain(|stored| stored.name != name);
        let stored = Stored {
            name: name.to_owned(),
            value: value.to_owned(),
            expires: expiry(&cookie, now),
        };
        if stored.expired(now) {
            return;
        }
        self.cookies.push(stored);
        self.make_room();
    }

    /// Drops the oldest cookies while the jar is over its bounds.
    fn make_room(&mut self) {
        let mut bytes: usize = self.cookies.iter().map(Stored::len).sum();
        while self.cookies.len() > MAX_COOKIES || bytes > MAX_JAR_BYTES {
            bytes -= self.cookies.remove(0).len();
        }
    }

    /// The `Cookie` header value for the next request, if any cookie is set.
    pub fn header(&mut self) -> Option<String> {
        self.header_at(SystemTime::now())
    }

    fn header_at(&mut self, now: SystemTime) -> Option<String> {
        self.cookies.retain(|stored| !stored.expired(now));
        if self.cookies.is_empty() {
            return None;
        }
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|stored| format!("{}={}", stored.name, stored.value))
            .collect();
        Some(pairs.join("; "))
    }
}

/// When `cookie` expires: `Max-Age` counts from `now` and wins over `Expires`.
fn expiry(cookie: &Cookie<'_>, now: SystemTime) -> Option<SystemTime> {
    if let Some(max_age) = cookie.max_age() {
        let seconds = max_age.whole_seconds();
        return Some(match u64::try_from(seconds) {
            Ok(seconds) => now + Duration::from_secs(seconds),
            Err(_) => SystemTime::UNIX_EPOCH,
        });
    }
    match cookie.expires()? {
        Expiration::DateTime(at) => {
            let seconds = u64::try_from(at.unix_timestamp()).unwrap_or(0);
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
        }
        Expiration::Session => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_name_and_value_only() {
        let mut jar = CookieJar::default();
        jar.store("io=abc123; Path=/; HttpOnly; SameSite=Lax");
        jar.store("AWSALB=xyz==; Expires=Tue, 01 Dec 2126 00:00:00 GMT; Path=/");
        assert_eq!(jar.header().as_deref(), Some("io=abc123; AWSALB=xyz=="));
    }

    #[test]
    fn later_values_replace_earlier_ones() {
        let mut jar = CookieJar::default();
        jar.store("a=1");
        jar.store("b=2");
        jar.store("a=3");
        assert_eq!(jar.header().as_deref(), Some("b=2; a=3"));
    }

    #[test]
    fn max_age_zero_removes() {
        let mut jar = CookieJar::default();
        jar.store("a=1");
        jar.store("a=; Max-Age=0");
        assert_eq!(jar.header(), None);
    }

    #[test]
    fn expires_in_the_past_removes() {
        let mut jar = CookieJar::default();
        jar.store("a=1");
        jar.store("a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(jar.header(), None);
    }

    #[test]
    fn cookies_expire_while_the_session_runs() {
        let mut jar = CookieJar::default();
        let now = SystemTime::now();
        jar.store_at("short=1; Max-Age=60", now);
        jar.store_at("long=2", now);
        assert_eq!(jar.header_at(now).as_deref(), Some("short=1; long=2"));
        let later = now + Duration::from_secs(61);
        assert_eq!(jar.header_at(later).as_deref(), Some("long=2"));
    }

    #[test]
    fn a_flood_of_cookies_stays_within_the_bounds() {
        let mut jar = CookieJar::default();
        for i in 0..10_000 {
            jar.store(&format!("c{i}={}", "v".repeat(100)));
        }
        let header = jar.header().unwrap_or_default();
        assert!(
            header.len() <= MAX_JAR_BYTES + 2 * MAX_COOKIES,
            "{}",
            header.len()
        );
        assert!(jar.cookies.len() <= MAX_COOKIES);
        assert!(
            header.ends_with(&format!("c9999={}", "v".repeat(100))),
            "the newest stays"
        );
        jar.store(&format!("huge={}", "x".repeat(MAX_COOKIE_BYTES)));
        assert!(!jar.header().unwrap_or_default().contains("huge="));
    }

    #[test]
    fn malformed_headers_are_ignored() {
        let mut jar = CookieJar::default();
        for bad in ["", "novalue", "=v", "; a=b"] {
            jar.store(bad);
        }
        assert_eq!(jar.header(), None);
    }
}
