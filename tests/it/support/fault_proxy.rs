//! A TCP proxy that misbehaves on command, for reconnection and delivery tests.
//!
//! [`FaultProxy::start`] listens on `127.0.0.1:0` and forwards every connection to
//! `127.0.0.1:<target>` both ways, for long-polling (many short and long-held connections)
//! and websockets (one long connection) alike. On command it plays a bad network: `cut`,
//! `stall`/`resume`, `refuse`/`accept_again`, `slow`/`fast`, `retarget`.
//!
//! The API is synchronous, for plain `#[test]`s and `#[actix_rt::test]`s alike: the proxy
//! runs on its own thread with its own current-thread tokio runtime, and every command has
//! taken effect when it returns (`cut` returns once the sockets are closed, `refuse` once
//! the listener is). Dropping the proxy resets every connection and joins its thread.
//!
//! It can also tap the wire: after [`FaultProxy::record`], every chunk forwarded either
//! way is kept, in the order the proxy read them ([`FaultProxy::recorded`]); the tests'
//! `support::wire` parses them into the HTTP requests, responses and websocket messages
//! that went through: what the server really answered (its compression, say) and what the
//! client really sent (its POST bodies), which the peers' own logs do not show.
//!
//! Port reuse: `refuse` closes the listener but keeps the port: a second socket, bound to
//! the same port with `SO_REUSEADDR` and never listening, holds it. On Linux such a bound
//! socket keeps the port out of every ephemeral allocation (`bind(0)` and `connect`), and a
//! socket that is not listening gets no connections, so connects are refused and
//! `accept_again` re-binds the same port. Where the platform does not allow that second
//! bind, there is no reservation, and `accept_again` retries the bind for a while (another
//! socket could take the port in between; it then panics and says so).

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::{oneshot, watch};

/// Dropped by a task once its sockets are closed: a waiting command counts on it ending
/// (the receiver sees "disconnected" when every clone is gone), not on any message.
type Ack = mpsc::Sender<()>;

/// Bytes the proxy forwarded in one read, on connection `conn` (numbered from 0 in the
/// order accepted): from the client (`up`) or from the server.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub conn: u64,
    pub up: bool,
    pub bytes: Vec<u8>,
}

/// State shared by the test-facing handle and the proxy's tasks.
#[derive(Default)]
struct Shared {
    target: AtomicU16,
    stalled: watch::Sender<bool>,
    delay_nanos: AtomicU64,
    /// The kill switch of every open connection, by id.
    conns: Mutex<HashMap<u64, oneshot::Sender<Ack>>>,
    accepted: AtomicU64,
    open: AtomicUsize,
    up: AtomicU64,
    down: AtomicU64,
    /// Set: the next chunk forwarded to a client sets `held` (see
    /// [`FaultProxy::hold_requests_after_the_next_answer`]).
    hold_after_answer: AtomicBool,
    /// Nothing is forwarded from clients to the server while set.
    held: watch::Sender<bool>,
    /// Every chunk forwarded while recording, in the order read; `None`: not recording.
    recorded: Mutex<Option<Vec<Chunk>>>,
}

/// A panic elsewhere must not stop the proxy: the guarded data stays consistent anyway.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The running proxy; see the module docs.
pub struct FaultProxy {
    port: u16,
    shared: Arc<Shared>,
    rt: Handle,
    /// Holds the port while nothing listens on it (see the module docs), if allowed.
    _reserve: Option<TcpSocket>,
    /// Stops the accept task; `None` while refusing.
    accepting: Mutex<Option<oneshot::Sender<Ack>>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listens on an ephemeral port of `127.0.0.1` and forwards to `127.0.0.1:target_port`.
    pub fn start(target_port: u16) -> FaultProxy {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("fault proxy: build tokio runtime");
        let handle = rt.handle().clone();
        let (reserve, listener) = match reserved_listener(&handle) {
            Ok((reserve, listener)) => (Some(reserve), listener),
            Err(_) => (
                None,
                listen(&handle, 0).expect("fault proxy: listen on 127.0.0.1:0"),
            ),
        };
        let port = listener
            .local_addr()
            .expect("fault proxy: local_addr")
            .port();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("fault-proxy-{port}"))
            // Dropping the runtime at the end drops every task and the sockets it holds.
            .spawn(move || rt.block_on(stopped).unwrap_or_default())
            .expect("fault proxy: spawn thread");
        let proxy = FaultProxy {
            port,
            shared: Arc::new(Shared {
                target: AtomicU16::new(target_port),
                ..Shared::default()
            }),
            rt: handle,
            _reserve: reserve,
            accepting: Mutex::new(None),
            stop: Some(stop),
            thread: Some(thread),
        };
        *lock(&proxy.accepting) = Some(proxy.spawn_accept(listener));
        proxy
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// New connections go to `127.0.0.1:port`; open ones keep their server.
    pub fn retarget(&self, port: u16) {
        self.shared.target.store(port, SeqCst);
    }

    /// Resets every open connection (RST to both sides) and returns once they are closed.
    /// New connections are accepted as before.
    pub fn cut(&self) {
        let kills = std::mem::take(&mut *lock(&self.shared.conns));
        let (ack, closed) = mpsc::channel();
        for kill in kills.into_values() {
            // A task that already ended drops the ack with the failed send.
            let _ = kill.send(ack.clone());
        }
        drop(ack);
        let _ = closed.recv();
    }

    /// Holds every byte, both ways, on every current and future connection until
    /// [`resume`](Self::resume). Connections stay open and are still accepted.
    pub fn stall(&self) {
        self.shared.stalled.send_replace(true);
    }

    pub fn resume(&self) {
        self.shared.stalled.send_replace(false);
    }

    /// Closes the listener, so connects fail with `ConnectionRefused`, and cuts every open
    /// connection. The port stays this proxy's; see [`accept_again`](Self::accept_again).
    pub fn refuse(&self) {
        if let Some(stop) = lock(&self.accepting).take() {
            let (ack, closed) = mpsc::channel();
            let _ = stop.send(ack);
            let _ = closed.recv();
        }
        // After the listener, so no connection slips in between.
        self.cut();
    }

    /// Listens again, on the same port, after [`refuse`](Self::refuse).
    pub fn accept_again(&self) {
        let mut accepting = lock(&self.accepting);
        if accepting.is_some() {
            return;
        }
        // Only needed without a reservation: wait for whoever took the port to let it go.
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match listen(&self.rt, self.port) {
                Ok(listener) => break listener,
                Err(e) if Instant::now() < deadline => {
                    log::debug!("fault proxy: re-bind {}: {e}; retrying", self.port);
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!(
                    "fault proxy: cannot listen on port {} again (taken by another socket \
                     while refusing?): {e}",
                    self.port
                ),
            }
        };
        *accepting = Some(self.spawn_accept(listener));
    }

    /// Once the next bytes from the server have been forwarded (the answer to a request
    /// in flight, say a handshake), holds every byte from clients, on every connection,
    /// until [`release_held`](Self::release_held); answers still flow. So a test lets a
    /// handshake through and stops whatever the client sends next (a probe websocket's
    /// request, on a new or a reused connection) before it reaches the server, without
    /// racing the client: the hold is on before the client has the answer.
    pub fn hold_requests_after_the_next_answer(&self) {
        self.shared.hold_after_answer.store(true, SeqCst);
    }

    /// Lets held bytes go on (see
    /// [`hold_requests_after_the_next_answer`](Self::hold_requests_after_the_next_answer)).
    pub fn release_held(&self) {
        self.shared.held.send_replace(false);
    }

    /// Delays every forwarded chunk, both ways, by `delay` (chunks stay in order).
    pub fn slow(&self, delay: Duration) {
        let nanos = u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX);
        self.shared.delay_nanos.store(nanos, SeqCst);
    }

    pub fn fast(&self) {
        self.shared.delay_nanos.store(0, SeqCst);
    }

    /// Connections accepted since the start.
    pub fn connections_accepted(&self) -> u64 {
        self.shared.accepted.load(SeqCst)
    }

    /// Connections accepted and not yet closed.
    pub fn connections_open(&self) -> usize {
        self.shared.open.load(SeqCst)
    }

    /// Bytes forwarded from clients to the server (counted as they are released to it).
    pub fn bytes_up(&self) -> u64 {
        self.shared.up.load(SeqCst)
    }

    /// Bytes forwarded from the server to clients.
    pub fn bytes_down(&self) -> u64 {
        self.shared.down.load(SeqCst)
    }

    /// Keeps every chunk forwarded from now on, both ways (see
    /// [`recorded`](Self::recorded)).
    pub fn record(&self) {
        lock(&self.shared.recorded).get_or_insert_with(Vec::new);
    }

    /// Every chunk forwarded since [`record`](Self::record), in the order read.
    pub fn recorded(&self) -> Vec<Chunk> {
        let chunks = lock(&self.shared.recorded);
        chunks.clone().expect("recorded() without record()")
    }

    fn spawn_accept(&self, listener: TcpListener) -> oneshot::Sender<Ack> {
        let (stop, stopped) = oneshot::channel();
        self.rt
            .spawn(accept_loop(listener, self.shared.clone(), stopped));
        stop
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.refuse();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A socket bound to an ephemeral port but not listening (the reservation), and a listener
/// on the same port.
fn reserved_listener(rt: &Handle) -> io::Result<(TcpSocket, TcpListener)> {
    let reserve = TcpSocket::new_v4()?;
    reserve.set_reuseaddr(true)?;
    reserve.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    let listener = listen(rt, reserve.local_addr()?.port())?;
    Ok((reserve, listener))
}

fn listen(rt: &Handle, port: u16) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
    // Listening registers the socket with the proxy's runtime, also from a test's runtime.
    let _in_proxy_runtime = rt.enter();
    socket.listen(1024)
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: oneshot::Receiver<Ack>) {
    let ack = loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            ack = &mut stop => break ack.ok(),
        };
        let Ok((client, _)) = accepted else {
            // Out of file descriptors or an aborted handshake: pause rather than spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let id = shared.accepted.fetch_add(1, SeqCst);
        shared.open.fetch_add(1, SeqCst);
        let (kill, killed) = oneshot::channel();
        lock(&shared.conns).insert(id, kill);
        let shared = shared.clone();
        tokio::spawn(async move {
            let ack = connection(id, client, &shared, killed).await;
            lock(&shared.conns).remove(&id);
            shared.open.fetch_sub(1, SeqCst);
            // Only now may `cut` return: the sockets are closed and the count is down.
            drop(ack);
        });
    };
    // The refused state starts once the listener is closed, before `refuse` returns.
    drop(listener);
    drop(ack);
}

/// Forwards one connection until both sides close, one fails, or it is killed; returns the
/// killer's ack, to be dropped once the connection is accounted for.
async fn connection(
    id: u64,
    mut client: TcpStream,
    shared: &Shared,
    mut killed: oneshot::Receiver<Ack>,
) -> Option<Ack> {
    let target = (Ipv4Addr::LOCALHOST, shared.target.load(SeqCst));
    let mut server = tokio::select! {
        server = TcpStream::connect(target) => match server {
            Ok(server) => server,
            // The target is down: a reset is the nearest a proxy gets to "refused".
            Err(_) => return reset(client, None, None),
        },
        ack = &mut killed => return reset(client, None, ack.ok()),
    };
    let (killed, ack) = {
        let (client_read, client_write) = client.split();
        let (server_read, server_write) = server.split();
        let both = async {
            tokio::try_join!(
                pump(client_read, server_write, shared, (id, true)),
                pump(server_read, client_write, shared, (id, false)),
            )
        };
        tokio::select! {
            ended = both => (ended.is_err(), None),
            ack = &mut killed => (true, ack.ok()),
        }
    };
    if killed {
        // A failure on one side is passed on as a reset of the other, like a network would.
        return reset(client, Some(server), ack);
    }
    None
}

/// Closes abruptly: with a zero linger, the close sends RST instead of FIN.
fn reset(client: TcpStream, server: Option<TcpStream>, ack: Option<Ack>) -> Option<Ack> {
    for stream in std::iter::once(client).chain(server) {
        let _ = stream.set_zero_linger();
    }
    ack
}

/// Copies one direction (`up`: client to server) of connection `conn`, chunk by chunk,
/// honouring stall and delay; forwards EOF as a half-close so request/response exchanges
/// with `Connection: close` still work.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    shared: &Shared,
    (conn, up): (u64, bool),
) -> io::Result<()> {
    let count = if up { &shared.up } else { &shared.down };
    let mut stalled = shared.stalled.subscribe();
    let mut held = shared.held.subscribe();
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        // Holding after the read keeps at most one chunk per direction in the proxy.
        stalled
            .wait_for(|stalled| !*stalled)
            .await
            .map_err(io::Error::other)?;
        if up {
            held.wait_for(|held| !*held)
                .await
                .map_err(io::Error::other)?;
        } else if shared.hold_after_answer.swap(false, SeqCst) {
            // Before the client can have these bytes, so nothing it sends after them
            // gets through.
            shared.held.send_replace(true);
        }
        let delay = shared.delay_nanos.load(SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_nanos(delay)).await;
        }
        if n == 0 {
            return to.shutdown().await;
        }
        // Counted (and recorded) before the write so a test that has read the bytes sees
        // them counted.
        count.fetch_add(n as u64, SeqCst);
        if let Some(recorded) = lock(&shared.recorded).as_mut() {
            recorded.push(Chunk {
                conn,
                up,
                bytes: buf[..n].to_vec(),
            });
        }
        to.write_all(&buf[..n]).await?;
    }
}
