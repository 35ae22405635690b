//! The permessage-deflate offer the client makes and the server's answer to it
//! (RFC 7692 section 7.1), as text: no I/O.
//!
//! The offer is the bare `permessage-deflate`. The deflate backend (flate2 on
//! miniz_oxide) always compresses with a 32 KiB window, so the client cannot honour a
//! `client_max_window_bits` below 15 and does not offer the parameter; the RFC then
//! forbids the server to answer with it. It inflates with a 32 KiB window, which reads
//! whatever smaller window `server_max_window_bits` restricts the server to, so every
//! value of that parameter is accepted.

use std::fmt;

/// The value of the `Sec-WebSocket-Extensions` header the client sends.
pub(crate) const OFFER: &str = "permessage-deflate";

/// The extension's name.
const NAME: &str = "permessage-deflate";

/// What the server agreed to: how each side uses its compression context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Agreed {
    /// The server starts each message with a fresh context: the client may forget
    /// its inflate state between messages.
    pub server_no_context_takeover: bool,
    /// The client must start each message it sends with a fresh context.
    pub client_no_context_takeover: bool,
    /// The largest window the server compresses with, in bits (8 to 15; 15 when the
    /// server did not say).
    pub server_max_window_bits: u8,
}

/// Why the server's answer cannot be used: the connection fails (RFC 6455 9.1: a
/// client fails the connection when the server answers with what it did not offer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadAnswer(String);

impl fmt::Display for BadAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the server's Sec-WebSocket-Extensions answer {}", self.0)
    }
}

fn bad(why: impl Into<String>) -> BadAnswer {
    BadAnswer(why.into())
}

/// Reads the server's `Sec-WebSocket-Extensions` headers (each may list several
/// extensions, comma-separated). `Ok(None)`: no extension, the socket is uncompressed.
/// `offered`: whether the client offered permessage-deflate at all.
pub(crate) fn answer<'a>(
    headers: impl IntoIterator<Item = &'a str>,
    offered: bool,
) -> Result<Option<Agreed>, BadAnswer> {
    let mut agreed = None;
    for header in headers {
        for extension in split_outside_quotes(header, ',') {
            let mut parts = split_outside_quotes(extension, ';').into_iter();
            let name = parts.next().unwrap_or_default();
            if name.is_empty() {
                continue;
            }
            if !name.eq_ignore_ascii_case(NAME) {
                return Err(bad(format!("names {name:?}, which was not offered")));
            }
            if !offered {
                return Err(bad("accepts permessage-deflate, which was not offered"));
            }
            if agreed.is_some() {
                return Err(bad("accepts permessage-deflate twice"));
            }
            agreed = Some(parameters(parts)?);
        }
    }
    Ok(agreed)
}

/// The parameters of the one permessage-deflate the server accepted.
fn parameters<'a>(parts: impl Iterator<Item = &'a str>) -> Result<Agreed, BadAnswer> {
    let mut agreed = Agreed {
        server_max_window_bits: 15,
        ..Agreed::default()
    };
    let mut seen: Vec<String> = Vec::new();
    for part in parts {
        let (key, value) = match part.split_once('=') {
            Some((key, value)) => (key.trim(), Some(unquote(value.trim()))),
            None => (part.trim(), None),
        };
        let key = key.to_ascii_lowercase();
        if seen.contains(&key) {
            return Err(bad(format!("repeats {key}")));
        }
        match (key.as_str(), value) {
            ("server_no_context_takeover", None) => agreed.server_no_context_takeover = true,
            ("client_no_context_takeover", None) => agreed.client_no_context_takeover = true,
            ("server_max_window_bits", Some(bits)) => {
                agreed.server_max_window_bits = bits
                    .parse()
                    .ok()
                    .filter(|bits| (8..=15).contains(bits))
                    .ok_or_else(|| bad(format!("has server_max_window_bits={bits}")))?;
            }
            ("client_max_window_bits", _) => {
                return Err(bad(
                    "sets client_max_window_bits, which was not offered (this client \
                     compresses with a 32 KiB window only)",
                ))
            }
            (key, value) => {
                let shown = match value {
                    Some(value) => format!("{key}={value}"),
                    None => key.to_owned(),
                };
                return Err(bad(format!(
                    "has the parameter {shown:?}, which permessage-deflate does not define so"
                )));
            }
        }
        seen.push(key);
    }
    Ok(agreed)
}

/// `"10"` as `10`: RFC 7692 allows a quoted value.
fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// The trimmed pieces of `text` between `separator`s, quoted strings kept whole.
fn split_outside_quotes(text: &str, separator: char) -> Vec<&str> {
    let mut pieces = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (at, c) in text.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == separator && !quoted {
            pieces.push(text[start..at].trim());
            start = at + c.len_utf8();
        }
    }
    pieces.push(text[start..].trim());
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(header: &str) -> Result<Option<Agreed>, BadAnswer> {
        answer([header], true)
    }

    #[test]
    fn no_answer_means_no_compression() {
        assert_eq!(answer([], true), Ok(None));
        assert_eq!(one(""), Ok(None));
    }

    #[test]
    fn the_bare_answer_takes_over_both_contexts() {
        let agreed = one("permessage-deflate").unwrap().unwrap();
        assert_eq!(
            agreed,
            Agreed {
                server_no_context_takeover: false,
                client_no_context_takeover: false,
                server_max_window_bits: 15,
            }
        );
        // Case and spaces do not matter.
        assert_eq!(one(" PerMessage-Deflate ").unwrap(), Some(agreed));
    }

    #[test]
    fn every_parameter_the_client_can_honour_is_read() {
        let agreed = one(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=\"10\"",
        )
        .unwrap()
        .unwrap();
        assert!(agreed.server_no_context_takeover);
        assert!(agreed.client_no_context_takeover);
        assert_eq!(agreed.server_max_window_bits, 10);
        for bits in 8..=15 {
            let header = format!("permessage-deflate; server_max_window_bits={bits}");
            assert_eq!(one(&header).unwrap().unwrap().server_max_window_bits, bits);
        }
    }

    #[test]
    fn what_was_not_offered_is_refused() {
        for header in [
            "permessage-deflate; client_max_window_bits=10",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; mystery",
            "permessage-deflate, permessage-deflate",
            "x-webkit-deflate-frame",
            "permessage-deflate, x-other",
        ] {
            assert!(one(header).is_err(), "{header}");
        }
        // Accepting what the client did not offer at all.
        assert!(answer(["permessage-deflate"], false).is_err());
        let error = one("permessage-deflate; client_max_window_bits=9").unwrap_err();
        assert!(
            error.to_string().contains("client_max_window_bits"),
            "{error}"
        );
    }

    #[test]
    fn several_headers_are_read_together() {
        assert!(answer(["permessage-deflate", "permessage-deflate"], true).is_err());
        assert!(answer(["", "permessage-deflate"], true).unwrap().is_some());
    }
}
