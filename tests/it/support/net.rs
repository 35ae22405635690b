//! Network helpers shared by several test modules:
//! * [`Untouched`] and [`refused_url`]: addresses for the cases where the client must not
//!   connect at all (bad arguments, unusable TLS settings) or cannot (nothing listens);
//! * [`query_param`] and [`is_websocket_upgrade`]: reading a request, the same way for the
//!   peers' logs and the scripted server;
//! * [`kernel_queues`]: the bytes the kernel holds on the loopback connections to a port.

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

/// The bytes the kernel holds, on every established loopback connection to port `port`
/// (client and server ends alike), that were written and not yet read by the other side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelQueues {
    /// Written by clients, not yet read by the server: in the clients' send queues
    /// (unsent or unacknowledged) and in the server's receive queues.
    pub to_server: usize,
    /// Written by the server, not yet read by its clients.
    pub to_clients: usize,
}

/// Reads [`KernelQueues`] for port `port` from `/proc/net/tcp` (Linux; IPv4, which is
/// all the tests use: everything listens on 127.0.0.1). On loopback a byte written is
/// either in the writer's send queue or in the reader's receive queue, so these sums are
/// exactly what was written and is not yet read.
pub fn kernel_queues(port: u16) -> KernelQueues {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
    let mut queues = KernelQueues::default();
    for line in table.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(local), Some(remote), Some(&state), Some(tx_rx)) = (
            fields.get(1).and_then(|a| hex_port(a)),
            fields.get(2).and_then(|a| hex_port(a)),
            fields.get(3),
            fields.get(4),
        ) else {
            continue;
        };
        // 01: established. A listening socket's rx_queue is its accept backlog.
        if state != "01" {
            continue;
        }
        let (tx, rx) = tx_rx.split_once(':').expect("tx_queue:rx_queue");
        let (tx, rx) = (hex(tx), hex(rx));
        if remote == port {
            queues.to_server += tx;
            queues.to_clients += rx;
        }
        if local == port {
            queues.to_server += rx;
            queues.to_clients += tx;
        }
    }
    queues
}

/// The port of a `/proc/net/tcp` address, `0100007F:1F90`.
fn hex_port(address: &str) -> Option<u16> {
    u16::from_str_radix(address.split_once(':')?.1, 16).ok()
}

fn hex(field: &str) -> usize {
    usize::from_str_radix(field, 16).expect("a hex queue size")
}
