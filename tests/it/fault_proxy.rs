//! The fault proxy itself ([`crate::support::fault_proxy`]): against a small echo server,
//! then in front of a real Engine.IO peer.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::support::fault_proxy::FaultProxy;
use crate::support::peers::{Peer, PeerKind, PeerOptions};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Echoes every connection back until EOF, one thread per connection.
struct Echo {
    port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Echo {
    fn start() -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").expect("echo: bind");
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopped) = (accepted.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(SeqCst) {
                    return;
                }
                let Ok(mut conn) = conn else { continue };
                count.fetch_add(1, SeqCst);
                std::thread::spawn(move || {
                    let mut back = conn.try_clone().expect("echo: clone");
                    let _ = std::io::copy(&mut conn, &mut back);
                    let _ = back.shutdown(Shutdown::Write);
                });
            }
        });
        Echo {
            port,
            accepted,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, SeqCst);
        // wakes the blocking accept so the thread sees `stop`
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn connect(proxy: &FaultProxy) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", proxy.port())).expect("connect to the proxy");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// Sends `data` and reads the same number of bytes back.
fn round_trip(stream: &mut TcpStream, data: &[u8]) -> Vec<u8> {
    stream.write_all(data).unwrap();
    let mut back = vec![0; data.len()];
    stream.read_exact(&mut back).expect("echo back");
    back
}

/// The connection was closed under the client: EOF or a reset, not data or a timeout.
fn assert_closed(stream: &mut TcpStream, what: &str) {
    let mut buf = [0; 16];
    match stream.read(&mut buf) {
        Ok(0) => {}
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
            ) => {}
        other => panic!("{what}: connection still open: {other:?}"),
    }
}

fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: not within {TIMEOUT:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn forwards_both_ways_and_counts() {
    let echo = Echo::start();
    let proxy = FaultProxy::start(echo.port);
    assert_eq!(proxy.url(), format!("http://127.0.0.1:{}", proxy.port()));
    let mut a = connect(&proxy);
    assert_eq!(round_trip(&mut a, b"hello"), b"hello");
    let mut b = connect(&proxy);
    assert_eq!(round_trip(&mut b, b"world!"), b"world!");
    assert_eq!(proxy.connections_accepted(), 2);
    assert_eq!(proxy.connections_open(), 2);
    assert_eq!(proxy.bytes_up(), 11);
    assert_eq!(proxy.bytes_down(), 11);

    // a half-close travels through: the echo server ends its side, the client reads EOF
    a.shutdown(Shutdown::Write).unwrap();
    assert_eq!(a.read(&mut [0; 8]).unwrap(), 0);
    drop(a);
    eventually("one connection left", || proxy.connections_open() == 1);
    drop(b);
    eventually("no connection left", || proxy.connections_open() == 0);
    assert_eq!(echo.accepted.load(SeqCst), 2);
}

#[test]
fn cut_closes_live_connections_and_new_ones_work() {
    let echo = Echo::start();
    let proxy = FaultProxy::start(echo.port);
    let mut a = connect(&proxy);
    let mut b = connect(&proxy);
    round_trip(&mut a, b"a");
    round_trip(&mut b, b"b");
    proxy.cut();
    // synchronous: the sockets are closed when `cut` returns
    assert_eq!(proxy.connections_open(), 0);
    assert_closed(&mut a, "a after cut");
    assert_closed(&mut b, "b after cut");

    let mut c = connect(&proxy);
    assert_eq!(round_trip(&mut c, b"again"), b"again");
    assert_eq!(proxy.connections_accepted(), 3);
    assert_eq!(proxy.connections_open(), 1);
}

#[test]
fn stall_holds_data_until_resume() {
    let echo = Echo::start();
    let proxy = FaultProxy::start(echo.port);
    let mut live = connect(&proxy);
    round_trip(&mut live, b"before");
    proxy.stall();
    live.write_all(b"held").unwrap();
    // a connection made while stalled is accepted, and held too
    let mut late = connect(&proxy);
    late.write_all(b"late").unwrap();

    // Asserting absence: the one place a short timeout is right.
    for stream in [&mut live, &mut late] {
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let err = stream
            .read(&mut [0; 8])
            .expect_err("data went through a stall");
        assert!(
            matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            "{err}"
        );
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    }
    assert_eq!(proxy.bytes_up(), 6, "bytes released while stalled");
    eventually("both connections open", || proxy.connections_open() == 2);

    proxy.resume();
    let mut back = [0; 4];
    live.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"held");
    late.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"late");
    assert_eq!(round_trip(&mut live, b"after"), b"after");
}

#[test]
fn refuse_then_accept_again_on_the_same_port() {
    let echo = Echo::start();
    let proxy = FaultProxy::start(echo.port);
    let port = proxy.port();
    for round in 0..3 {
        let mut live = connect(&proxy);
        round_trip(&mut live, b"x");
        proxy.refuse();
        assert_closed(&mut live, "live connection after refuse");
        assert_eq!(proxy.connections_open(), 0);
        let err = TcpStream::connect(("127.0.0.1", port)).expect_err("connect while refusing");
        assert_eq!(
            err.kind(),
            ErrorKind::ConnectionRefused,
            "round {round}: {err}"
        );

        proxy.accept_again();
        assert_eq!(proxy.port(), port);
        let mut again = connect(&proxy);
        assert_eq!(round_trip(&mut again, b"back"), b"back", "round {round}");
    }
    assert_eq!(proxy.connections_accepted(), 6);
}

#[test]
fn slow_delivers_everything_in_order() {
    let echo = Echo::start();
    let proxy = FaultProxy::start(echo.port);
    let delay = Duration::from_millis(20);
    proxy.slow(delay);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut stream = connect(&proxy);
    let mut writer = stream.try_clone().unwrap();
    let sent = data.clone();
    let started = Instant::now();
    // writes from another thread: the echo cannot be read back in one go
    let write = std::thread::spawn(move || {
        for chunk in sent.chunks(7_000) {
            writer.write_all(chunk).unwrap();
        }
    });
    let mut back = vec![0; data.len()];
    stream.read_exact(&mut back).unwrap();
    write.join().unwrap();
    assert!(back == data, "echo differs from what was sent");
    // at least one chunk up and one down, each delayed
    assert!(started.elapsed() >= 2 * delay, "{:?}", started.elapsed());
    assert_eq!(proxy.bytes_up(), data.len() as u64);
    assert_eq!(proxy.bytes_down(), data.len() as u64);

    proxy.fast();
    assert_eq!(round_trip(&mut stream, b"quick"), b"quick");
}

#[test]
fn retarget_sends_new_connections_elsewhere() {
    let first = Echo::start();
    let second = Echo::start();
    let proxy = FaultProxy::start(first.port);
    let mut old = connect(&proxy);
    round_trip(&mut old, b"1");
    proxy.retarget(second.port);
    let mut new = connect(&proxy);
    round_trip(&mut new, b"2");
    // the open connection keeps its server
    round_trip(&mut old, b"3");
    assert_eq!(first.accepted.load(SeqCst), 1);
    assert_eq!(second.accepted.load(SeqCst), 1);
}

#[test]
fn a_dead_target_resets_the_client() {
    let echo = Echo::start();
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let proxy = FaultProxy::start(dead_port);
    let mut stream = connect(&proxy);
    assert_closed(&mut stream, "connection to a dead target");
    eventually("closed connection", || proxy.connections_open() == 0);
    proxy.retarget(echo.port);
    assert_eq!(round_trip(&mut connect(&proxy), b"ok"), b"ok");
}

#[test]
fn drop_closes_everything() {
    let echo = Echo::start();
    let proxy = FaultProxy::start(echo.port);
    let mut live = connect(&proxy);
    round_trip(&mut live, b"x");
    proxy.stall();
    drop(proxy);
    assert_closed(&mut live, "connection after drop");
}

/// Through a real peer, and from inside an actix runtime: the handshake of HTTP
/// long-polling arrives whole.
#[actix_rt::test]
async fn polling_handshake_through_the_proxy() {
    let peer = Peer::start(PeerKind::Rust, PeerOptions::default());
    let proxy = FaultProxy::start(peer.port());
    let mut stream = connect(&proxy);
    let request = format!(
        "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
         Connection: close\r\n\r\n",
        proxy.port()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    let raw = String::from_utf8_lossy(&raw);
    let (head, mut body) = raw.split_once("\r\n\r\n").expect("end of response head");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        // skip the first chunk's size line
        body = body.split_once("\r\n").map_or(body, |(_, rest)| rest);
    }
    assert!(body.starts_with("0{"), "handshake body: {body}");
    assert_eq!(proxy.connections_accepted(), 1);
    assert_eq!(proxy.bytes_up(), request.len() as u64);
    assert_eq!(proxy.bytes_down(), raw.len() as u64);
}
