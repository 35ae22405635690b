// An engineioxide echo server on 127.0.0.1, so the examples run with no server of
// your own. It echoes every message; the text `close-me` makes it close the session.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use engineioxide::config::EngineIoConfig;
use engineioxide::handler::EngineIoHandler;
use engineioxide::service::EngineIoService;
use engineioxide::{DisconnectReason, Socket, Str};
use hyper_util::rt::TokioIo;

#[derive(Debug)]
struct Echo;

impl EngineIoHandler for Echo {
    type Data = ();

    fn on_connect(self: Arc<Self>, _: Arc<Socket<()>>) {}

    fn on_disconnect(&self, _: Arc<Socket<()>>, _: DisconnectReason) {}

    fn on_message(self: &Arc<Self>, msg: Str, socket: Arc<Socket<()>>) {
        if &*msg == "close-me" {
            socket.close(DisconnectReason::ClosingServer);
        } else {
            let _ = socket.emit(msg);
        }
    }

    fn on_binary(self: &Arc<Self>, data: Bytes, socket: Arc<Socket<()>>) {
        let _ = socket.emit_binary(data);
    }
}

/// Starts the server on its own thread and tokio runtime; returns its URL.
/// It runs until the process exits.
pub fn start() -> String {
    let (tx, rx) = std::sync::mpsc::channel::<SocketAddr>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind 127.0.0.1");
            let _ = tx.send(listener.local_addr().expect("local address"));
            let config = EngineIoConfig::builder().max_buffer_size(100_000).build();
            let service = EngineIoService::with_config(Arc::new(Echo), config);
            while let Ok((stream, _)) = listener.accept().await {
                let service = service.clone();
                tokio::spawn(async move {
                    let http = hyper::server::conn::http1::Builder::new();
                    let _ = http
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades()
                        .await;
                });
            }
        });
    });
    let addr = rx.recv().expect("embedded server address");
    format!("http://{addr}")
}
