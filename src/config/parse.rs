//! Settings given as text, checked: header names and values, transport names.

use awc::http::header::{self, HeaderName, HeaderValue};

use crate::protocol::TransportKind;

/// A header as given by the user; credentials are marked sensitive so that `Debug`
/// output and logs do not show them.
pub(crate) fn parse_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let name = HeaderName::try_from(name).map_err(|e| e.to_string())?;
    let mut value = HeaderValue::try_from(value).map_err(|e| e.to_string())?;
    let secret = [
        header::AUTHORIZATION,
        header::PROXY_AUTHORIZATION,
        header::COOKIE,
    ];
    value.set_sensitive(secret.contains(&name));
    Ok((name, value))
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
}
