//! Secrets kept out of logs and `Debug` output: passwords in URLs and query values
//! that name or look like credentials.
//!
//! Engine.IO servers commonly authenticate with a token in the query string
//! (`?token=…`), so a URL is never printed as given.

use url::Url;

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Parameter names (or parts of names) that carry credentials.
const SECRET_NAMES: &[&str] = &[
    "token",
    "key",
    "secret",
    "pass",
    "pwd",
    "auth",
    "sig",
    "jwt",
    "session",
    "credential",
    "ticket",
    "code",
    "nonce",
];

/// Parameters of the protocol itself, printed as they are: they are needed to read a
/// log and are not credentials of the user's.
const PROTOCOL_NAMES: &[&str] = &["EIO", "transport", "sid", "t", "b64"];

/// A value this long, made only of token characters, is taken for a token whatever
/// its parameter's name.
const TOKEN_LEN: usize = 16;

/// Whether a query parameter's value should be hidden: its name says it is a
/// credential, or the value looks like one (long, opaque, with letters and digits).
///
/// ```
/// use actix_engineio::protocol::is_secret_param;
///
/// assert!(is_secret_param("access_token", "abc"));
/// assert!(is_secret_param("x", "eyJhbGciOiJIUzI1NiJ9abc123"));
/// assert!(!is_secret_param("room", "lobby"));
/// assert!(!is_secret_param("transport", "polling"));
/// ```
pub fn is_secret_param(name: &str, value: &str) -> bool {
    if PROTOCOL_NAMES.contains(&name) {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    SECRET_NAMES.iter().any(|secret| lower.contains(secret)) || looks_like_token(value)
}

fn looks_like_token(value: &str) -> bool {
    let token_char = |c: char| c.is_ascii_alphanumeric() || "-_.~+/=%".contains(c);
    value.len() >= TOKEN_LEN
        && value.chars().all(token_char)
        && value.chars().any(|c| c.is_ascii_digit())
        && value.chars().any(|c| c.is_ascii_alphabetic())
}

/// A URL fit for a log line: its password and secret query values replaced by
/// [`REDACTED`]. Text that is not a URL keeps only what comes before `?` and `@`.
///
/// ```
/// use actix_engineio::protocol::redact_url;
///
/// assert_eq!(
///     redact_url("https://user:hunter2@example.com/engine.io/?token=abc&room=lobby&EIO=4"),
///     "https://user:<redacted>@example.com/engine.io/?token=<redacted>&room=lobby&EIO=4"
/// );
/// assert_eq!(redact_url("not a url?token=abc"), "not a url?<redacted>");
/// ```
pub fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(parsed) => redact_parsed(parsed),
        Err(_) => redact_text(url),
    }
}

fn redact_parsed(mut url: Url) -> String {
    if url.password().is_some() {
        // Fails only for URLs that cannot have credentials, which have none to hide.
        let _ = url.set_password(Some(REDACTED));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let shown = if is_secret_param(&name, &value) {
                    REDACTED.to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), shown)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    // The serializer percent-encodes the marker; a reader wants it plain.
    url.to_string().replace("%3Credacted%3E", REDACTED)
}

fn redact_text(text: &str) -> String {
    let end = text.find('?').unwrap_or(text.len());
    let mut shown = text[..end].to_owned();
    if let Some(at) = shown.rfind('@') {
        let start = shown.find("://").map_or(0, |i| i + 3);
        shown.replace_range(start..at, REDACTED);
    }
    if end < text.len() {
        shown.push('?');
        shown.push_str(REDACTED);
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_and_token_values_are_hidden() {
        let url = "http://h/engine.io/?apiKey=k&Session=s&room=lobby&id=AbC123dEf456GhI789";
        assert_eq!(
            redact_url(url),
            "http://h/engine.io/?apiKey=<redacted>&Session=<redacted>&room=lobby&id=<redacted>"
        );
    }

    #[test]
    fn protocol_parameters_stay_readable() {
        let url =
            "http://h/engine.io/?EIO=4&transport=polling&sid=AbC123dEf456GhI789&t=P1x2y3z4w5v6u7t8";
        assert_eq!(redact_url(url), url);
    }

    #[test]
    fn a_url_without_secrets_is_unchanged() {
        let url = "ws://127.0.0.1:3000/socket.io/?room=lobby";
        assert_eq!(redact_url(url), url);
    }

    #[test]
    fn text_that_is_not_a_url_loses_credentials_and_query() {
        assert_eq!(
            redact_url("ftp//u:p@host?x=1"),
            "<redacted>@host?<redacted>"
        );
        assert_eq!(redact_url("://u:p@host"), "://<redacted>@host");
        assert_eq!(redact_url(""), "");
    }

    #[test]
    fn short_or_plain_values_are_not_tokens() {
        assert!(!looks_like_token("lobby"));
        assert!(!looks_like_token("abcdefghijklmnopqrstuvwxyz"));
        assert!(!looks_like_token("1234567890123456789"));
        assert!(looks_like_token("a1b2c3d4e5f6g7h8"));
    }
}
