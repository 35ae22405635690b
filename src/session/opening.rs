//! The handshake of a new session: over which transports, in which order (the first of
//! `transports`, all of them with `try_all_transports`, a remembered websocket first with
//! `remember_upgrade`), and the error when none opens.

use std::future::Future;
use std::rc::Rc;

use super::Opened;
use crate::config::ClientConfig;
use crate::protocol::{TransportError, TransportKind};
use crate::transport::http::Http;
use crate::transport::{polling, websocket};

/// Tries each transport of the opening order until one opens. A websocket that fails is
/// remembered as failed; one that opens is remembered by the session once it is open.
pub(super) fn open(
    http: Rc<Http>,
    config: &ClientConfig,
) -> impl Future<Output = Result<Opened, TransportError>> + 'static {
    let order = config.opening.order(&config.transports);
    let opening = config.opening.clone();
    async move {
        let mut failures = Vec::new();
        for kind in order {
            let result = match kind {
                TransportKind::WebSocket => websocket::handshake(http.clone())
                    .await
                    .map(|(hs, framed)| Opened::WebSocket(hs, framed)),
                _ => polling::handshake(http.clone())
                    .await
                    .map(|(hs, trailing)| Opened::Polling(hs, trailing)),
            };
            match result {
                Ok(opened) => return Ok(opened),
                Err(error) => {
                    if kind == TransportKind::WebSocket {
                        opening.websocket_went(false);
                    }
                    failures.push((kind, error));
                }
            }
        }
        // One attempt: its own error, as without a fallback.
        Err(match failures.len() {
            1 => failures.remove(0).1,
            _ => TransportError::AllTransportsFailed(failures),
        })
    }
}
