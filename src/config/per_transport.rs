//! Settings of one transport only: the headers of the polling requests alone, those of
//! the websocket handshake alone, and the websocket subprotocols (Node's
//! `transportOptions` and `protocols`).

use awc::http::header::{HeaderName, HeaderValue};

/// What applies to one transport and not the other.
#[derive(Debug, Clone, Default)]
pub(crate) struct PerTransport {
    /// Headers of the polling requests only (handshake, polls, POSTs).
    pub polling_headers: Vec<(HeaderName, HeaderValue)>,
    /// Headers of the websocket handshake only (a websocket-only session's, the upgrade's).
    pub websocket_headers: Vec<(HeaderName, HeaderValue)>,
    /// The subprotocols offered in the websocket handshake, in order of preference.
    pub websocket_protocols: Vec<String>,
}

/// A websocket subprotocol must be an HTTP token (RFC 6455 section 4.1): awc builds its
/// header without checking, and panics on a value that is not valid HTTP.
pub(crate) fn check_subprotocol(protocol: &str) -> Result<(), String> {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if !protocol.is_empty() && protocol.bytes().all(tchar) {
        Ok(())
    } else {
        Err(format!("subprotocol {protocol:?} is not an HTTP token"))
    }
}

#[cfg(test)]
mod tests {
    use super::check_subprotocol;

    #[test]
    fn subprotocols_are_tokens() {
        for good in ["chat", "v2.chat", "mqtt", "x-custom_1"] {
            assert_eq!(check_subprotocol(good), Ok(()), "{good}");
        }
        for bad in ["", "a b", "a,b", "line\nbreak", "é", "\"q\""] {
            assert!(check_subprotocol(bad).is_err(), "{bad:?}");
        }
    }
}
