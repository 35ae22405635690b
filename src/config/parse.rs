//! Settings given as text, checked (header names and values, transport names), and
//! shown back with their secrets hidden.

use std::fmt;

use awc::http::header::{self, HeaderName, HeaderValue};

use crate::protocol::{is_secret_param, TransportKind, REDACTED};

/// A header as given by the user; credentials are marked sensitive so that `Debug`
/// output and logs do not show them.
pub(crate) fn parse_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let name = HeaderName::try_from(name).map_err(|e| e.to_string())?;
    let mut value = HeaderValue::try_from(value).map_err(|e| e.to_string())?;
    value.set_sensitive(is_secret_header(&name));
    Ok((name, value))
}

/// Whether a header carries credentials and must not be shown.
pub(crate) fn is_secret_header(name: &HeaderName) -> bool {
    let secret = [
        header::AUTHORIZATION,
        header::PROXY_AUTHORIZATION,
        header::COOKIE,
        header::SET_COOKIE,
    ];
    secret.contains(name) || is_secret_param(name.as_str(), "")
}

/// Headers given as text, for `Debug` output: credential values are replaced by
/// `<redacted>`.
pub(crate) struct RedactedHeaders<'a>(pub &'a [(String, String)]);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.0.iter().map(|(name, value)| {
            let secret = HeaderName::try_from(name.as_str()).map_or(true, |n| is_secret_header(&n));
            (name, if secret { REDACTED } else { value.as_str() })
        });
        f.debug_list().entries(shown).finish()
    }
}

pub(crate) fn parse_transports<I>(transports: I) -> Result<Vec<TransportKind>, String>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let mut list = Vec::new();
    for name in transports {
        let kind: TransportKind = name.as_ref().trim().parse()?;
        if list.contains(&kind) {
            return Err(format!("{kind} is listed twice"));
        }
        list.push(kind);
    }
    if list.is_empty() {
        return Err("the list is empty".into());
    }
    Ok(list)
}

/// Query parameters for `Debug` output: values that are or look like credentials
/// are replaced by `<redacted>`.
pub(crate) struct RedactedQuery<'a>(pub &'a [(String, String)]);

impl fmt::Debug for RedactedQuery<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.0.iter().map(|(name, value)| {
            let value = if is_secret_param(name, value) {
                REDACTED
            } else {
                value.as_str()
            };
            (name, value)
        });
        f.debug_list().entries(shown).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_parse_names_and_kinds() {
        assert_eq!(
            parse_transports(["websocket", "polling"]),
            Ok(vec![TransportKind::WebSocket, TransportKind::Polling])
        );
        assert_eq!(
            parse_transports([TransportKind::Polling]),
            Ok(vec![TransportKind::Polling])
        );
        assert!(parse_transports(Vec::<&str>::new()).is_err());
        assert!(parse_transports(["polling", "polling"]).is_err());
        assert!(parse_transports(["carrier-pigeon"]).is_err());
    }

    #[test]
    fn credentials_are_hidden_from_debug_output() {
        let (_, value) = parse_header("Authorization", "Bearer hunter2").unwrap();
        assert!(!format!("{value:?}").contains("hunter2"));
        let query = [
            ("token".to_owned(), "hunter2".to_owned()),
            ("room".to_owned(), "lobby".to_owned()),
        ];
        let shown = format!("{:?}", RedactedQuery(&query));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("lobby"), "{shown}");
    }
}
