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
