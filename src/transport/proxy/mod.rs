//! HTTP proxies: every connection of a session that goes through a proxy is an HTTP
//! `CONNECT` tunnel, `http` polling included (one code path for every transport, and
//! the proxy sees only `host:port`, never a request, a cookie or a token in a URL).
//!
//! [`ProxyConnector`] replaces awc's TCP connector: it dials the proxy, asks for a
//! tunnel to the server, and hands the tunnelled stream to awc, which pools it as a
//! connection to the server and does TLS on top of it for `https` and `wss`, with the
//! certificate checks of any other connection. The bytes of the exchange are in [`head`].

mod head;

use std::io;
use std::sync::Arc;

use actix_rt::net::TcpStream;
use actix_service::Service;
use actix_tls::connect::{ConnectError, ConnectInfo, Connection};
use awc::http::Uri;
use futures::future::LocalBoxFuture;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::config::ProxyUrl;
use crate::protocol::ProxyError;

/// An awc connector whose every connection is a tunnel through `proxy`. awc bounds a
/// connection's opening, this exchange included, by its connect timeout.
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    proxy: Arc<ProxyUrl>,
}

impl ProxyConnector {
    pub fn new(proxy: ProxyUrl) -> Self {
        ProxyConnector {
            proxy: Arc::new(proxy),
        }
    }
}

impl Service<ConnectInfo<Uri>> for ProxyConnector {
    type Response = Connection<Uri, TcpStream>;
    type Error = ConnectError;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_service::always_ready!();

    fn call(&self, request: ConnectInfo<Uri>) -> Self::Future {
        let proxy = self.proxy.clone();
        let target = head::authority(request.hostname(), request.port());
        let uri = request.request().clone();
        Box::pin(async move {
            let stream = tunnel(&proxy, &target).await.map_err(|e| {
                // awc keeps the `io::Error` whole: `transport::http` finds the
                // `ProxyError` in it again.
                ConnectError::Io(io::Error::other(e))
            })?;
            Ok(Connection::new(uri, stream))
        })
    }
}

/// The `ProxyError` a failed request carries, if a proxy tunnel is what failed.
pub(crate) fn proxy_error(error: &io::Error) -> Option<ProxyError> {
    error.get_ref()?.downcast_ref::<ProxyError>().cloned()
}

/// Opens a tunnel to `target` through `proxy`.
async fn tunnel(proxy: &ProxyUrl, target: &str) -> Result<TcpStream, ProxyError> {
    let shown = proxy.to_string();
    let bad = |reason: String| ProxyError::BadResponse {
        proxy: shown.clone(),
        reason,
    };
    let mut stream = TcpStream::connect((proxy.host(), proxy.port()))
        .await
        .map_err(|e| ProxyError::Unreachable {
            proxy: shown.clone(),
            reason: e.to_string(),
        })?;
    // Small writes must not wait for an acknowledgement (the tunnel carries polls).
    let _ = stream.set_nodelay(true);
    let request = head::connect_request(target, proxy.authorization().as_deref());
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| bad(format!("cannot send CONNECT: {e}")))?;
    // One byte at a time: whatever follows the head is the server's, and must stay in
    // the socket for awc (a proxy answers CONNECT with a few dozen bytes, once).
    let mut answer = Vec::with_capacity(128);
    let mut byte = [0u8; 1];
    while !head::is_complete(&answer) {
        if answer.len() == head::MAX_HEAD {
            return Err(bad(format!(
                "answer head longer than {} bytes",
                head::MAX_HEAD
            )));
        }
        match stream.read(&mut byte).await {
            Ok(0) => return Err(bad("closed the connection before answering CONNECT".into())),
            Ok(_) => answer.push(byte[0]),
            Err(e) => return Err(bad(format!("cannot read the answer to CONNECT: {e}"))),
        }
    }
    match head::status(&answer).map_err(bad)? {
        200..=299 => Ok(stream),
        // 401 too: the server is not reached yet, so it is the proxy's (tinyproxy's
        // answer to wrong credentials).
        status @ (401 | 407) => Err(ProxyError::AuthenticationRequired {
            proxy: shown,
            status,
            credentials_sent: proxy.has_credentials(),
        }),
        status => Err(ProxyError::Refused {
            proxy: shown,
            target: target.to_owned(),
            status,
        }),
    }
}
