//! A real HTTP proxy for the proxy tests: Debian's `tinyproxy`, one process per test, in
//! the foreground (`tinyproxy -d -c <conf>`) with its own configuration and log file in a
//! temporary directory, listening on a loopback ephemeral port, killed by PID on drop (and,
//! on Linux, by the kernel should the test process die first).
//!
//! The configuration allows `CONNECT` to every port (no `ConnectPort` line) and logs at
//! `Info`, so a test reads in [`Tinyproxy::log`] every request the proxy took
//! (`Request (file descriptor N): CONNECT 127.0.0.1:PORT HTTP/1.1`). Options:
//! [`ProxyOptions::basic_auth`] (the proxy answers 407 to a request without these
//! credentials) and [`ProxyOptions::deny_loopback`] (`Deny 127.0.0.1`: the proxy answers
//! 403 to every request from the tests).
//!
//! The port: an ephemeral port is reserved by binding port 0 and released for tinyproxy
//! to bind; another process may take it in between, and then tinyproxy exits ("Could not
//! create listening sockets") and the start is retried on a new port. The proxy is ready
//! when its log says `Accepting connections`.
//!
//! When `tinyproxy` is not on `PATH`, the first start runs `bash tests/peers/setup.sh
//! tinyproxy` (which installs it with apt-get, as root or with `sudo -n`); when that fails
//! the test fails, naming the way out, unless `EIO_TEST_PEERS` excludes both external peers
//! (node and python: the suite is run offline), in which case the test prints `skipped`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::peers::install::peers_dir;
use super::peers::select::skip;
use super::peers::{enabled, PeerKind};
use super::pki::TempDir;

/// How long a start may take before the proxy counts as broken.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// How many ports a start tries before giving up.
const START_ATTEMPTS: usize = 5;

/// How a [`Tinyproxy`] is configured.
#[derive(Debug, Clone, Default)]
pub struct ProxyOptions {
    /// `BasicAuth user password`: requests without these credentials get 407.
    pub basic_auth: Option<(String, String)>,
    /// `Deny 127.0.0.1`: every request from the tests gets 403.
    pub deny_loopback: bool,
}

/// A running tinyproxy.
pub struct Tinyproxy {
    child: Child,
    port: u16,
    log_file: PathBuf,
    /// Holds the configuration and the log; removed after the process is reaped.
    _dir: TempDir,
}

impl Tinyproxy {
    /// Starts a proxy, or returns `None` (after printing `skipped`) when tinyproxy is
    /// missing and `EIO_TEST_PEERS` runs the suite without external programs.
    pub fn start_or_skip(options: ProxyOptions) -> Option<Tinyproxy> {
        if !available() {
            skip("needs tinyproxy, not installed (the suite runs offline: EIO_TEST_PEERS)");
            return None;
        }
        Some(Tinyproxy::start(options))
    }

    /// Starts a proxy; panics when tinyproxy cannot be had or does not start.
    fn start(options: ProxyOptions) -> Tinyproxy {
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            match Tinyproxy::try_start(&options) {
                Ok(proxy) => return proxy,
                Err(why) => failures.push(why),
            }
        }
        panic!(
            "tinyproxy did not start in {START_ATTEMPTS} attempts:\n{}",
            failures.join("\n")
        );
    }

    fn try_start(options: &ProxyOptions) -> Result<Tinyproxy, String> {
        let port = free_port();
        let dir = TempDir::new("tinyproxy");
        let log_file = dir.path().join("tinyproxy.log");
        let mut conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 60\nMaxClients 100\nLogLevel Info\n\
             LogFile \"{}\"\n",
            log_file.display()
        );
        if let Some((user, password)) = &options.basic_auth {
            conf.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        if options.deny_loopback {
            conf.push_str("Deny 127.0.0.1\n");
        }
        let conf_file = dir.write("tinyproxy.conf", conf.as_bytes());
        let mut command = Command::new("tinyproxy");
        command
            .arg("-d")
            .arg("-c")
            .arg(&conf_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // Killed with the test process even when it dies without running `Drop` (the
        // signal comes when the thread that started it ends, and a test's proxy is
        // dropped before that anyway).
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::process::CommandExt;
            // SAFETY: prctl(2) only, async-signal-safe, between fork and exec.
            unsafe {
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot run tinyproxy: {e}"))?;
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let log = std::fs::read_to_string(&log_file).unwrap_or_default();
            if log.contains("Accepting connections") {
                return Ok(Tinyproxy {
                    child,
                    port,
                    log_file,
                    _dir: dir,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    use std::io::Read;
                    let _ = pipe.read_to_string(&mut stderr);
                }
                return Err(format!(
                    "port {port}: tinyproxy exited with {status}: {}{log}",
                    stderr.trim()
                ));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "port {port}: not accepting within {START_DEADLINE:?}: {log}"
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://USER:PASSWORD@127.0.0.1:PORT`.
    pub fn url_with(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@127.0.0.1:{}", self.port)
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Everything the proxy logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    /// The requests the proxy took, as their request lines (`CONNECT 127.0.0.1:4242 HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter_map(|line| line.split_once("): ").map(|(_, rest)| rest))
            .filter(|rest| {
                rest.starts_with("CONNECT ")
                    || rest.starts_with("GET ")
                    || rest.starts_with("POST ")
            })
            .map(str::to_owned)
            .collect()
    }

    /// How many tunnels to `127.0.0.1:port` the proxy was asked for.
    pub fn tunnels_to(&self, port: u16) -> usize {
        let line = format!("CONNECT 127.0.0.1:{port} ");
        self.requests()
            .iter()
            .filter(|r| r.starts_with(&line))
            .count()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An ephemeral loopback port nobody listened on a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("cannot reserve a port: {e}"))
}

/// Whether tinyproxy can be run: on `PATH`, or installed now by `tests/peers/setup.sh`
/// (once per process). `false` only when the suite runs without the external peers;
/// otherwise a missing tinyproxy that cannot be installed panics.
fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        if on_path() {
            return true;
        }
        if !enabled(PeerKind::Node) && !enabled(PeerKind::Python) {
            return false;
        }
        let setup = peers_dir().join("setup.sh");
        let out = Command::new("bash")
            .arg(&setup)
            .arg("tinyproxy")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", setup.display()));
        if !out.status.success() || !on_path() {
            panic!(
                "the proxy tests need tinyproxy, which is not installed and `bash {} tinyproxy` \
                 could not install it ({}):\n{}{}\nInstall it (`apt-get install tinyproxy`), or \
                 run the suite offline with EIO_TEST_PEERS=rust (see tests/peers/README.md).",
                setup.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
            );
        }
        true
    })
}

fn on_path() -> bool {
    Command::new("tinyproxy")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
