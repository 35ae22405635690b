//! The engineioxide echo server, in a process of its own (`serve`), and the guard that
//! starts it from the benchmark and kills it by PID when the benchmark ends.
//!
//! For the soak, the server can also print every text message it receives
//! (`--log-received`: one `R <text>` line each, after the `PORTS` line) and take shorter
//! heartbeat settings, so that a stalled connection is noticed in seconds.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use engineioxide::config::EngineIoConfig;
use engineioxide::handler::EngineIoHandler;
use engineioxide::service::EngineIoService;
use engineioxide::{DisconnectReason, Socket, Str};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;

use crate::common::{raise_nofile, BenchResult, MAX_MESSAGE};

/// Packets engineioxide may queue per session before `emit` fails: large, so a
/// pipelined client that reads slower than it writes never loses an echo.
const MAX_BUFFER_SIZE: usize = 10_000_000;

/// The listen backlog, so a batch of concurrent connects is not dropped.
const BACKLOG: u32 = 4096;

/// Sessions open right now.
static OPEN: AtomicI64 = AtomicI64::new(0);

/// What receives the server's output lines after its `PORTS` line.
pub type LineSink = Box<dyn FnMut(&str) + std::marker::Send>;

/// How `serve` runs.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ServeOptions {
    /// Print `R <text>` for every text message received.
    #[arg(long)]
    pub log_received: bool,
    /// The ping interval, in milliseconds (engineioxide's default when absent).
    #[arg(long)]
    pub ping_interval_ms: Option<u64>,
    /// The ping timeout, in milliseconds (engineioxide's default when absent).
    #[arg(long)]
    pub ping_timeout_ms: Option<u64>,
}

impl ServeOptions {
    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if self.log_received {
            args.push("--log-received".to_owned());
        }
        if let Some(ms) = self.ping_interval_ms {
            args.extend(["--ping-interval-ms".to_owned(), ms.to_string()]);
        }
        if let Some(ms) = self.ping_timeout_ms {
            args.extend(["--ping-timeout-ms".to_owned(), ms.to_string()]);
        }
        args
    }
}

#[derive(Debug)]
struct Echo {
    log_received: bool,
}

impl EngineIoHandler for Echo {
    type Data = ();

    fn on_connect(self: Arc<Self>, _: Arc<Socket<()>>) {
        OPEN.fetch_add(1, Ordering::Relaxed);
    }

    fn on_disconnect(&self, _: Arc<Socket<()>>, _: DisconnectReason) {
        OPEN.fetch_sub(1, Ordering::Relaxed);
    }

    fn on_message(self: &Arc<Self>, msg: Str, socket: Arc<Socket<()>>) {
        if self.log_received {
            // One write per line: the soak reads whole lines.
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "R {msg}");
        }
        if let Err(e) = socket.emit(msg) {
            eprintln!(
                "[echo server] {}: cannot echo a text message: {e}",
                socket.id
            );
        }
    }

    fn on_binary(self: &Arc<Self>, data: Bytes, socket: Arc<Socket<()>>) {
        if let Err(e) = socket.emit_binary(data) {
            eprintln!(
                "[echo server] {}: cannot echo a binary message: {e}",
                socket.id
            );
        }
    }
}

/// The `serve` subcommand: binds 127.0.0.1:0 for engine.io and another port for the
/// session count, prints `PORTS <engine.io> <stats>`, and serves until killed.
pub fn serve(options: ServeOptions) -> ! {
    let (soft, hard) = raise_nofile();
    let runtime = tokio::runtime::Runtime::new().expect("echo server: tokio runtime");
    runtime.block_on(async move {
        let socket = tokio::net::TcpSocket::new_v4().expect("echo server: socket");
        socket
            .set_reuseaddr(true)
            .expect("echo server: SO_REUSEADDR");
        socket
            .bind(([127, 0, 0, 1], 0).into())
            .expect("echo server: bind");
        let listener = socket.listen(BACKLOG).expect("echo server: listen");
        let stats = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("echo server: bind stats");
        let port = listener.local_addr().expect("local address").port();
        let stats_port = stats.local_addr().expect("local address").port();
        println!("PORTS {port} {stats_port} NOFILE {soft} {hard}");
        std::io::stdout().flush().expect("echo server: stdout");

        tokio::spawn(async move {
            while let Ok((mut stream, _)) = stats.accept().await {
                let line = format!("{}\n", OPEN.load(Ordering::Relaxed));
                let _ = stream.write_all(line.as_bytes()).await;
            }
        });

        let mut config = EngineIoConfig::builder();
        if let Some(ms) = options.ping_interval_ms {
            config = config.ping_interval(Duration::from_millis(ms));
        }
        if let Some(ms) = options.ping_timeout_ms {
            config = config.ping_timeout(Duration::from_millis(ms));
        }
        let config = config
            .max_buffer_size(MAX_BUFFER_SIZE)
            .max_payload(MAX_MESSAGE as u64)
            .ws_max_message_size(MAX_MESSAGE)
            .ws_max_frame_size(MAX_MESSAGE)
            .build();
        let echo = Echo {
            log_received: options.log_received,
        };
        let service = EngineIoService::with_config(Arc::new(echo), config);
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // EMFILE and the like: say so, wait a little, go on.
                    eprintln!("[echo server] accept: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let service = service.clone();
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    })
}

/// The running echo server; killed (SIGKILL, by PID) when dropped, also on a panic.
pub struct ServerGuard {
    child: Child,
    pub port: u16,
    stats_port: u16,
    pub nofile: (u64, u64),
}

impl ServerGuard {
    pub fn start() -> BenchResult<ServerGuard> {
        Self::start_with(&ServeOptions::default(), None)
    }

    /// Starts a server with `options`; every line it prints after its `PORTS` line goes
    /// to `on_line`, on a thread of its own, until the server ends.
    pub fn start_with(
        options: &ServeOptions,
        on_line: Option<LineSink>,
    ) -> BenchResult<ServerGuard> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut command = Command::new(exe);
        command
            .arg("serve")
            .args(options.args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        crate::die_with_parent(&mut command);
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start the echo server: {e}"))?;
        let stdout = child.stdout.take().expect("piped stdout");
        // From here on the guard owns the child: an early return kills it.
        let mut guard = ServerGuard {
            child,
            port: 0,
            stats_port: 0,
            nofile: (0, 0),
        };
        let mut line = String::new();
        let mut stdout = BufReader::new(stdout);
        stdout
            .read_line(&mut line)
            .map_err(|e| format!("echo server: {e}"))?;
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["PORTS", port, stats, "NOFILE", soft, hard] => {
                guard.port = port.parse().map_err(|_| format!("bad line {line:?}"))?;
                guard.stats_port = stats.parse().map_err(|_| format!("bad line {line:?}"))?;
                guard.nofile = (soft.parse().unwrap_or(0), hard.parse().unwrap_or(0));
            }
            _ => return Err(format!("the echo server said {line:?}")),
        }
        if let Some(mut on_line) = on_line {
            std::thread::spawn(move || {
                for line in stdout.lines() {
                    let Ok(line) = line else { break };
                    on_line(&line);
                }
            });
        }
        Ok(guard)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Whether the server process is still alive.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sessions the server has open.
    pub fn open_sessions(&self) -> BenchResult<i64> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.stats_port))
            .map_err(|e| format!("echo server stats: {e}"))?;
        let mut text = String::new();
        stream
            .read_to_string(&mut text)
            .map_err(|e| format!("echo server stats: {e}"))?;
        text.trim()
            .parse()
            .map_err(|_| format!("echo server stats: {text:?}"))
    }

    /// Waits until the server has no session left, at most `limit`; returns how many remain.
    pub fn wait_quiet(&self, limit: Duration) -> i64 {
        let deadline = Instant::now() + limit;
        loop {
            let open = self.open_sessions().unwrap_or(-1);
            if open == 0 || Instant::now() >= deadline {
                return open;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
