//! Network helpers shared by several test modules:
//! * [`Untouched`] and [`refused_url`]: addresses for the cases where the client must not
//!   connect at all (bad arguments, unusable TLS settings) or cannot (nothing listens);
//! * [`query_param`] and [`is_websocket_upgrade`]: reading a request, the same way for the
//!   peers' logs and the scripted server.

use std::net::TcpListener;

/// A listener that nobody should connect to; [`Untouched::assert_untouched`] checks nobody
/// did. It never accepts, so a connection attempt would wait in its backlog, where
/// `accept` finds it.
pub struct Untouched(TcpListener);

impl Untouched {
    pub fn new() -> Untouched {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Untouched(listener)
    }

    fn port(&self) -> u16 {
        self.0.local_addr().unwrap().port()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// `https://127.0.0.1:PORT`, for TLS settings that must fail before any connection.
    pub fn https_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port())
    }

    /// Panics when a connection was made to the listener.
    pub fn assert_untouched(&self, what: &str) {
        match self.0.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Ok((_, from)) => panic!("{what}: a connection was made (from {from})"),
            Err(e) => panic!("{what}: accept: {e}"),
        }
    }
}

/// An `http://127.0.0.1:PORT` URL with nothing listening on the port (it was bound, then
/// released, so no other test holds it at that moment).
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// The first value of query parameter `name` in `url` (percent-decoded).
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Whether an `Upgrade` header value asks for a websocket.
pub fn is_websocket_upgrade(upgrade: Option<&str>) -> bool {
    upgrade.is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}
