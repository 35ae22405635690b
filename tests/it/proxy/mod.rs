//! HTTP proxies, against a real one: Debian's `tinyproxy`, started by each test on a
//! loopback port ([`crate::support::tinyproxy`]). Every connection of a proxied session is
//! a `CONNECT` tunnel, so the proxy's log of the `CONNECT` requests it took proves the
//! traffic went through it.
//!
//! * [`echo`]: echo in every mode (websocket, polling, polling upgraded) against every
//!   peer through the proxy, each mode's tunnels in the proxy's log;
//! * [`auth`]: a proxy that requires Basic authentication: the right credentials work,
//!   none or wrong ones are a 407 error naming proxy authentication, the password never
//!   in the error;
//! * [`refused`]: a proxy that is not there (a closed port), one that denies the client
//!   (403) and one that cannot reach the server (500): a clear error, well before the
//!   request timeout;
//! * [`broken`]: a proxy that never answers (the request timeout), one that answers
//!   something else than HTTP or hangs up, unusable proxy URLs and a proxy beside a custom
//!   `http_client` (configuration errors, nothing sent);
//! * [`tls`]: `https` and `wss` through the tunnel to the TLS node peer, the certificate
//!   verified (a certificate the client does not trust is still refused).
//!
//! The environment's proxies (`HTTP_PROXY`, `NO_PROXY`, ...) are tested through the pure
//! resolution (`src/config/proxy.rs`) and, end to end, through the `eio` binary with the
//! variables set on the child (`tests/it/cli/proxy.rs`): this process's environment is
//! never changed, its tests run in parallel.

mod auth;
mod broken;
mod echo;
mod refused;
mod tls;

use actix_engineio::{ConnectError, ProxyError, SessionBuilder, TransportError};

use crate::support::peers::Peer;
use crate::tls::{connect_expecting_failure, FAILURE_DEADLINE, REQUEST_TIMEOUT};

/// Connects `builder`, which must fail with a proxy error (within the TLS suite's
/// failure deadline, with its request timeout).
async fn proxy_failure(builder: SessionBuilder, what: &str) -> ProxyError {
    match connect_expecting_failure(builder, what).await {
        Err(ConnectError::Transport(TransportError::Proxy(error))) => error,
        Err(other) => panic!("{what}: expected Transport(Proxy(_)), got {other:?} ({other})"),
        Ok(_) => panic!("{what}: connected"),
    }
}

/// Nothing of the session reached the server: the proxy stopped it.
fn assert_untouched(peer: &Peer, what: &str) {
    assert!(
        peer.requests().is_empty(),
        "{what}: requests reached the server: {:?}",
        peer.requests()
    );
}
