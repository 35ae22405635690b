//! The cookies of one session, so that cookie-sticky load balancers keep it on one server.

/// Cookies set by the server's responses, sent back on every later request.
///
/// A session talks to one host and one path, so domain and path attributes do not
/// narrow anything here; `Max-Age=0` (or negative) removes a cookie.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct CookieJar {
    /// Name and value, in the order first set.
    cookies: Vec<(String, String)>,
}

impl CookieJar {
    /// Records one `Set-Cookie` header value; malformed ones are ignored.
    pub fn store(&mut self, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else {
            return;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            return;
        }
        let expired = parts.any(|attr| {
            attr.split_once('=').is_some_and(|(key, v)| {
                key.trim().eq_ignore_ascii_case("max-age")
                    && v.trim().parse::<i64>().is_ok_and(|age| age <= 0)
            })
        });
        self.cookies.retain(|(n, _)| n != name);
        if !expired {
            self.cookies.push((name.to_owned(), value.to_owned()));
        }
    }

    /// The `Cookie` header value for the next request, if any cookie is set.
    pub fn header(&self) -> Option<String> {
        if self.cookies.is_empty() {
            return None;
        }
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        Some(pairs.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_name_and_value_only() {
        let mut jar = CookieJar::default();
        jar.store("io=abc123; Path=/; HttpOnly; SameSite=Lax");
        jar.store("AWSALB=xyz==; Expires=Tue, 01 Dec 2026 00:00:00 GMT; Path=/");
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
    fn malformed_headers_are_ignored() {
        let mut jar = CookieJar::default();
        for bad in ["", "novalue", "=v", "; a=b"] {
            jar.store(bad);
        }
        assert_eq!(jar.header(), None);
    }
}
