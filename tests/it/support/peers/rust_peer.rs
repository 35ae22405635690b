//! The Rust peer: `engineioxide` 0.17 served by hyper 1, in this process, on its own std thread
//! with its own tokio runtime (so it works under `#[test]` and `#[actix_rt::test]` alike).
//!
//! Every HTTP request goes through a small hyper service wrapper that logs it as a
//! [`PeerEvent::Request`] (and adds the sticky cookie when [`PeerOptions::cookie`] is set)
//! before handing it, unchanged, to engineioxide's `EngineIoService`.
//!
//! With [`PeerOptions::tls`] set, every connection is a TLS one (tokio-rustls, ring provider,
//! ALPN `http/1.1`); a failed TLS handshake just drops that connection.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use engineioxide::config::EngineIoConfig;
use engineioxide::handler::EngineIoHandler;
use engineioxide::service::EngineIoService;
use engineioxide::{DisconnectReason, Socket, Str, TransportType};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, SET_COOKIE};
use hyper::service::Service as _;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

use super::{EventLog, PeerEvent, PeerMessage, PeerOptions, PeerRequest, TlsIdentity};

/// engineioxide's default (128 packets) makes `emit` fail under load; the echo must never drop.
const MAX_BUFFER_SIZE: usize = 1_000_000;

fn transport_name(t: TransportType) -> String {
    match t {
        TransportType::Polling => "polling",
        TransportType::Websocket => "websocket",
    }
    .to_string()
}

/// Echoes every message; `close-me` closes the session from the server side.
#[derive(Debug)]
struct EchoHandler {
    log: Arc<EventLog>,
}

impl EngineIoHandler for EchoHandler {
    type Data = ();

    fn on_connect(self: Arc<Self>, socket: Arc<Socket<()>>) {
        self.log.push(PeerEvent::Connect {
            sid: socket.id.to_string(),
            transport: transport_name(socket.transport_type()),
        });
    }

    fn on_disconnect(&self, socket: Arc<Socket<()>>, reason: DisconnectReason) {
        self.log.push(PeerEvent::Close {
            sid: socket.id.to_string(),
            reason: format!("{reason:?}"),
        });
    }

    fn on_message(self: &Arc<Self>, msg: Str, socket: Arc<Socket<()>>) {
        self.log.push(PeerEvent::Message(PeerMessage::text(
            &socket.id.to_string(),
            &msg,
        )));
        if &*msg == "close-me" {
            socket.close(DisconnectReason::ClosingServer);
        } else if let Err(e) = socket.emit(msg) {
            eprintln!("[rust peer] {}: cannot echo text message: {e}", socket.id);
        }
    }

    fn on_binary(self: &Arc<Self>, data: Bytes, socket: Arc<Socket<()>>) {
        self.log.push(PeerEvent::Message(PeerMessage::binary(
            &socket.id.to_string(),
            &data,
        )));
        if let Err(e) = socket.emit_binary(data) {
            eprintln!("[rust peer] {}: cannot echo binary message: {e}", socket.id);
        }
    }
}

fn config(opts: &PeerOptions) -> EngineIoConfig {
    let max_message = usize::try_from(opts.max_payload).unwrap_or(usize::MAX);
    let builder = EngineIoConfig::builder()
        .req_path(opts.path.clone())
        .ping_interval(opts.ping_interval)
        .ping_timeout(opts.ping_timeout)
        .max_payload(opts.max_payload)
        .max_buffer_size(MAX_BUFFER_SIZE)
        // Like node and python, max-payload also bounds a websocket message.
        .ws_max_message_size(max_message)
        .ws_max_frame_size(max_message);
    let polling = opts.transports.contains(&"polling");
    let websocket = opts.transports.contains(&"websocket");
    let builder = match (polling, websocket) {
        (true, true) => builder.transports([TransportType::Polling, TransportType::Websocket]),
        (true, false) => builder.transports([TransportType::Polling]),
        (false, true) => builder.transports([TransportType::Websocket]),
        (false, false) => panic!("rust peer: no transport allowed in {:?}", opts.transports),
    };
    builder.build()
}

fn log_request(log: &EventLog, req: &Request<Incoming>) {
    let mut headers = std::collections::BTreeMap::<String, String>::new();
    for (name, value) in req.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_ascii_lowercase())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let url = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| req.uri().to_string());
    log.push(PeerEvent::Request(PeerRequest {
        method: req.method().as_str().to_string(),
        url,
        headers,
    }));
}

/// Whether the request belongs to an existing session (has a `sid` query parameter).
fn has_sid(req: &Request<Incoming>) -> bool {
    let query = req.uri().query().unwrap_or("");
    url::form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "sid")
}

/// A unique-enough sticky cookie value (the handshake response body is not inspected, so the
/// value is not the sid as with node and python).
fn cookie_value() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("rs{nanos:x}{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A TLS acceptor for `identity`; panics on an unusable certificate or key.
fn tls_acceptor(identity: &TlsIdentity) -> TlsAcceptor {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_slice_iter(identity.cert_chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .expect("rust peer: TLS certificate chain PEM");
    assert!(
        !chain.is_empty(),
        "rust peer: no certificate in the TLS chain PEM"
    );
    let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes())
        .expect("rust peer: TLS private key PEM");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("rust peer: TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("rust peer: TLS certificate and key");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    TlsAcceptor::from(Arc::new(config))
}

/// The running in-process server.
pub struct RustPeer {
    port: u16,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RustPeer {
    /// Binds 127.0.0.1:0 (or [`PeerOptions::port`]) right away (so the port is known and
    /// connections queue in the backlog) and serves it from a new thread.
    pub fn start(opts: &PeerOptions, log: Arc<EventLog>) -> RustPeer {
        let listener = bind(opts.port.unwrap_or(0));
        listener
            .set_nonblocking(true)
            .expect("rust peer: set_nonblocking");
        let port = listener.local_addr().expect("rust peer: local_addr").port();
        let config = config(opts);
        let cookie = opts.cookie.clone();
        let tls = opts.tls.as_ref().map(tls_acceptor);
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();

        let thread = std::thread::Builder::new()
            .name(format!("rust-peer-{port}"))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("rust-peer-worker")
                    .enable_all()
                    .build()
                    .expect("rust peer: tokio runtime");
                rt.block_on(serve(listener, config, cookie, tls, log, shutdown_rx));
                // Dropping every task drops every connection: an abrupt end, like a SIGKILL.
                rt.shutdown_timeout(Duration::from_secs(2));
            })
            .expect("rust peer: spawn thread");

        RustPeer {
            port,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops accepting, drops every connection and joins the server thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RustPeer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Binds `127.0.0.1:port`. A given port is retried for a while: the server killed on it
/// may still hold it for a moment (std sets `SO_REUSEADDR`, so sockets in `TIME_WAIT` do
/// not count).
fn bind(port: u16) -> std::net::TcpListener {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(listener) => return listener,
            Err(e) if port != 0 && std::time::Instant::now() < deadline => {
                log::debug!("rust peer: bind {port}: {e}; retrying");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("rust peer: bind 127.0.0.1:{port}: {e}"),
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    config: EngineIoConfig,
    cookie: Option<String>,
    tls: Option<TlsAcceptor>,
    log: Arc<EventLog>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("rust peer: listener");
    let engine = EngineIoService::with_config(Arc::new(EchoHandler { log: log.clone() }), config);
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    eprintln!("[rust peer] accept: {e}");
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let engine = engine.clone();
        let log = log.clone();
        let cookie = cookie.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, engine, cookie, log).await,
                Some(acceptor) => {
                    // A refused certificate or a plain-HTTP client: drop the connection.
                    if let Ok(stream) = acceptor.accept(stream).await {
                        serve_connection(stream, engine, cookie, log).await;
                    }
                }
            }
        });
    }
}

/// Serves one HTTP/1.1 connection (plain or TLS), with upgrades, until it closes.
async fn serve_connection<S, H>(
    stream: S,
    engine: EngineIoService<H>,
    cookie: Option<String>,
    log: Arc<EventLog>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: EngineIoHandler,
{
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        log_request(&log, &req);
        let set_cookie = match &cookie {
            Some(name) if !has_sid(&req) => Some(
                HeaderValue::from_str(&format!(
                    "{name}={}; Path=/; HttpOnly; SameSite=Lax",
                    cookie_value()
                ))
                .expect("cookie header value"),
            ),
            _ => None,
        };
        let response = engine.call(req);
        async move {
            let mut response = response.await?;
            if let Some(value) = set_cookie {
                response.headers_mut().append(SET_COOKIE, value);
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
}
