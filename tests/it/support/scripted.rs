//! A scripted HTTP and websocket server on 127.0.0.1, for what real servers never do on
//! demand: a malformed packet, a missing ping, a wrong probe answer, a slow probe, an
//! endless body, a body cut short, raw bytes on a websocket ([`WsConn::write_raw`]).
//! Each test scripts the answer to every request; the server logs them
//! (unless started with [`Scripted::start_unlogged`]). Below complete responses, a
//! [`Reply::Wire`] writes raw bytes piece by piece and then serves on, closes or resets the
//! connection; [`WsConn::send_frame`], [`WsConn::send_raw`] and
//! [`WsConn::reset`] do the same for websockets. The chaos server (`support::chaos`) is
//! built on these.
//!
//! ```ignore
//! let server = Scripted::start(|request| async move {
//!     if request.is_websocket() {
//!         Reply::websocket(|mut ws| async move {
//!             ws.send_text(&open_packet("s1", &[], 25_000, 20_000)).await;
//!             ws.send_text("9bad").await;
//!         })
//!     } else {
//!         Reply::text(404, "")
//!     }
//! });
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

use super::net::{is_websocket_upgrade, query_param};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Handler = Arc<dyn Fn(ScriptedRequest) -> BoxFuture<Reply> + Send + Sync>;
type WsScript = Box<dyn FnOnce(WsConn) -> BoxFuture<()> + Send>;

/// One request the scripted server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptedRequest {
    pub method: String,
    /// Path and query, e.g. `/engine.io/?EIO=4&transport=polling`.
    pub url: String,
    /// Names in lowercase, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ScriptedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn query(&self, name: &str) -> Option<String> {
        query_param(&self.url, name)
    }

    pub fn is_websocket(&self) -> bool {
        is_websocket_upgrade(self.header("upgrade"))
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How the server answers one request.
pub enum Reply {
    /// A complete response.
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// A chunked response that never ends (until the client goes away).
    Endless,
    /// No answer at all; the connection stays open.
    Hang,
    /// These bytes as they are (a response head and part of a body, say), then
    /// nothing more; the connection stays open.
    Raw(Vec<u8>),
    /// These bytes as they are, then the connection closes: a response cut short.
    Cut(Vec<u8>),
    /// Accept the websocket and run the script on it.
    WebSocket(WsScript),
    /// These bytes, written piece by piece, each after its delay (a response split across
    /// TCP segments, a chunked body, a body cut short, two responses in one go), then
    /// `then` with the connection.
    Wire {
        pieces: Vec<(Duration, Vec<u8>)>,
        then: Then,
    },
}

/// What the server does with a connection after a [`Reply::Wire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// Goes on serving requests on it (keep-alive).
    Serve,
    /// Closes it (FIN).
    Close,
    /// Resets it (RST: a zero linger, then close).
    Reset,
}

impl Reply {
    pub fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply::Http {
            status,
            headers: vec![("content-type".into(), "text/plain; charset=UTF-8".into())],
            body: body.into().into_bytes(),
        }
    }

    pub fn websocket<F, Fut>(script: F) -> Reply
    where
        F: FnOnce(WsConn) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Reply::WebSocket(Box::new(move |ws| Box::pin(script(ws))))
    }
}

/// The text of an open packet: `0{"sid":…}`, with a `maxPayload` of 1,000,000.
pub fn open_packet(sid: &str, upgrades: &[&str], ping_interval: u64, ping_timeout: u64) -> String {
    open_packet_with(sid, upgrades, ping_interval, ping_timeout, 1_000_000)
}

/// The text of an open packet with every field chosen.
pub fn open_packet_with(
    sid: &str,
    upgrades: &[&str],
    ping_interval: u64,
    ping_timeout: u64,
    max_payload: usize,
) -> String {
    format!(
        "0{}",
        serde_json::json!({
            "sid": sid,
            "upgrades": upgrades,
            "pingInterval": ping_interval,
            "pingTimeout": ping_timeout,
            "maxPayload": max_payload,
        })
    )
}

/// The server side of one websocket.
pub struct WsConn {
    inner: WebSocketStream<TcpStream>,
}

impl WsConn {
    pub async fn send_text(&mut self, text: &str) {
        let _ = self.inner.send(WsMessage::text(text)).await;
    }

    pub async fn send_binary(&mut self, data: &[u8]) {
        let _ = self.inner.send(WsMessage::binary(data.to_vec())).await;
    }

    pub async fn send(&mut self, message: WsMessage) {
        let _ = self.inner.send(message).await;
    }

    /// Writes `bytes` on the socket as they are, after every message sent before: a
    /// frame header announcing a payload that never comes, say. Fails once the client
    /// has gone.
    pub async fn write_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.inner.flush().await.map_err(std::io::Error::other)?;
        self.inner.get_mut().write_all(bytes).await
    }

    /// Writes one frame as it is: a fragment (`is_final` false, or a continuation), a
    /// frame with reserved bits set, a control frame with any payload.
    pub async fn send_frame(&mut self, frame: Frame) {
        let _ = self.inner.send(WsMessage::Frame(frame)).await;
    }

    /// Writes bytes straight to the socket, after what was queued before (a frame header
    /// announcing more than will ever come, garbage).
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        let _ = self.write_raw(bytes).await;
    }

    /// Drops the connection with a TCP reset (RST) instead of a close frame.
    pub fn reset(self) {
        let _ = self.inner.get_ref().set_zero_linger();
    }

    /// The next data or close message, `None` when the connection is gone.
    pub async fn recv(&mut self) -> Option<WsMessage> {
        loop {
            match self.inner.next().await? {
                Ok(WsMessage::Ping(_)) | Ok(WsMessage::Pong(_)) => continue,
                Ok(message) => return Some(message),
                Err(_) => return None,
            }
        }
    }

    /// The next text message, `None` when the connection is gone or closed.
    pub async fn recv_text(&mut self) -> Option<String> {
        match self.recv().await? {
            WsMessage::Text(text) => Some(text.to_string()),
            WsMessage::Close(_) => None,
            other => Some(format!("{other:?}")),
        }
    }

    /// Echoes engine.io messages (text `4…` and binary) until the client goes away.
    pub async fn echo(&mut self) {
        while let Some(message) = self.recv().await {
            match message {
                WsMessage::Text(text) if text.starts_with('4') => self.send_text(&text).await,
                WsMessage::Binary(data) => self.send_binary(&data).await,
                WsMessage::Close(_) => return,
                _ => {}
            }
        }
    }
}

/// A running scripted server; dropping it stops it and closes every connection.
pub struct Scripted {
    port: u16,
    requests: Arc<Mutex<Vec<ScriptedRequest>>>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Scripted {
    /// Starts the server; `handler` scripts the answer to each request.
    pub fn start<F, Fut>(handler: F) -> Scripted
    where
        F: Fn(ScriptedRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Reply> + Send + 'static,
    {
        Scripted::start_with(handler, true)
    }

    /// Starts the server without keeping a log of the requests ([`Scripted::requests`]
    /// stays empty): for servers that answer many thousands of them.
    pub fn start_unlogged<F, Fut>(handler: F) -> Scripted
    where
        F: Fn(ScriptedRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Reply> + Send + 'static,
    {
        Scripted::start_with(handler, false)
    }

    fn start_with<F, Fut>(handler: F, logged: bool) -> Scripted
    where
        F: Fn(ScriptedRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Reply> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |request| Box::pin(handler(request)));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let (shutdown, shutdown_rx) = oneshot::channel();
        let log = requests.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("tokio runtime");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let _ = port_tx.send(listener.local_addr().expect("addr").port());
                let log = logged.then_some(log);
                tokio::select! {
                    _ = accept_loop(listener, handler, log) => {}
                    _ = shutdown_rx => {}
                }
            });
            runtime.shutdown_timeout(Duration::from_millis(100));
        });
        let port = port_rx.recv().expect("scripted server port");
        Scripted {
            port,
            requests,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<ScriptedRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    handler: Handler,
    log: Option<Arc<Mutex<Vec<ScriptedRequest>>>>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        // Without it an answer can wait ~40 ms for the client's delayed ACK.
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(stream, handler.clone(), log.clone()));
    }
}

/// Serves one keep-alive connection until it closes or becomes a websocket.
async fn serve(stream: TcpStream, handler: Handler, log: Option<Arc<Mutex<Vec<ScriptedRequest>>>>) {
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader).await {
        if let Some(log) = &log {
            log.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(request.clone());
        }
        let key = request.header("sec-websocket-key").map(str::to_owned);
        match handler(request).await {
            Reply::Http {
                status,
                headers,
                body,
            } => {
                let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                let mut response = head.into_bytes();
                response.extend_from_slice(&body);
                if reader.get_mut().write_all(&response).await.is_err() {
                    return;
                }
            }
            Reply::Endless => {
                let stream = reader.get_mut();
                let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/plain\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("{:x}\r\n{}\r\n", 16 * 1024, "4".repeat(16 * 1024));
                while stream.write_all(chunk.as_bytes()).await.is_ok() {}
                return;
            }
            Reply::Raw(bytes) => {
                if reader.get_mut().write_all(&bytes).await.is_err() {
                    return;
                }
                let mut buf = [0u8; 1024];
                while matches!(reader.read(&mut buf).await, Ok(n) if n > 0) {}
                return;
            }
            Reply::Cut(bytes) => {
                let _ = reader.get_mut().write_all(&bytes).await;
                let _ = reader.get_mut().shutdown().await;
                return;
            }
            Reply::Wire { pieces, then } => {
                for (delay, piece) in pieces {
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    if reader.get_mut().write_all(&piece).await.is_err() {
                        return;
                    }
                }
                match then {
                    Then::Serve => {}
                    Then::Close => {
                        let _ = reader.get_mut().shutdown().await;
                        return;
                    }
                    Then::Reset => {
                        let _ = reader.get_ref().set_zero_linger();
                        return;
                    }
                }
            }
            Reply::Hang => {
                // Wait until the client goes away.
                let mut buf = [0u8; 1024];
                while matches!(reader.read(&mut buf).await, Ok(n) if n > 0) {}
                return;
            }
            Reply::WebSocket(script) => {
                let Some(key) = key else { return };
                let accept = derive_accept_key(key.as_bytes());
                let head = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {accept}\r\n\r\n"
                );
                let mut stream = reader.into_inner();
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let config = WebSocketConfig::default()
                    .max_message_size(None)
                    .max_frame_size(None);
                let inner =
                    WebSocketStream::from_raw_socket(stream, Role::Server, Some(config)).await;
                script(WsConn { inner }).await;
                return;
            }
        }
    }
}

/// Reads one HTTP/1.1 request with a `content-length` body; `None` at end of stream.
async fn read_request(reader: &mut BufReader<TcpStream>) -> Option<ScriptedRequest> {
    let mut line = String::new();
    if reader.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let url = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.ok()?;
    Some(ScriptedRequest {
        method,
        url,
        headers,
        body,
    })
}
