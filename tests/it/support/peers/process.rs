//! The node and python peers (v4 and v3): a child process each, whose stdout carries the JSON event log
//! (`{"event":"listening","port":N}` first) and whose stderr is echoed into the test output.
//!
//! Process peers are started with `--exit-with-stdin` and a piped stdin held by
//! [`ProcessPeer`], so they also exit when the test process dies without running `Drop`.
//!
//! With [`PeerOptions::tls`] the certificate chain and key are written to a temporary
//! directory of their own (`cert.pem`, `key.pem`, owner-only) handed to the server as
//! `--tls-cert` and `--tls-key`; the [`ProcessPeer`] owns it and removes it once the process
//! is reaped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::install::{self, peers_dir};
use super::{EventLog, PeerEvent, PeerKind, PeerOptions};
use crate::support::pki::TempDir;

/// How long [`ProcessPeer::spawn`] waits for a peer to report its port (installation
/// excluded).
const START_DEADLINE: Duration = Duration::from_secs(60);

/// A running node or python peer process.
pub struct ProcessPeer {
    child: Child,
    /// Held open: the peer exits when it is closed (`--exit-with-stdin`).
    stdin: Option<ChildStdin>,
    readers: Vec<JoinHandle<()>>,
    /// The PEM files of [`PeerOptions::tls`]; removed when the process peer is dropped,
    /// after [`ProcessPeer::kill`] has reaped the process.
    tls_files: Option<TempDir>,
}

/// Whether every thread of process `pid` is in the stopped state (`T` in
/// `/proc/PID/task/TID/stat`); `None` when the process is gone.
fn all_threads_stopped(pid: u32) -> Option<bool> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    for task in tasks {
        let stat = std::fs::read_to_string(task.ok()?.path().join("stat")).ok()?;
        // `pid (comm) S ...`: the state follows the last `)` (comm may hold one).
        let state = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
        if state != 'T' {
            return Some(false);
        }
    }
    Some(true)
}

impl ProcessPeer {
    /// Runs the node or python peer and waits for it to report its port.
    pub fn spawn(kind: PeerKind, opts: &PeerOptions, log: Arc<EventLog>) -> (ProcessPeer, u16) {
        let dir = peers_dir().join(kind.to_string());
        let mut cmd = match kind {
            PeerKind::Node | PeerKind::Node3 => {
                let mut c = Command::new("node");
                c.arg("server.js");
                c
            }
            PeerKind::Python | PeerKind::Python3 => {
                let mut c = Command::new(dir.join(".venv").join("bin").join("python"));
                c.arg("-u").arg("server.py");
                c
            }
            PeerKind::Rust => unreachable!("the rust peer runs in-process"),
        };
        cmd.args(opts.to_args());
        let tls_files = opts.tls.as_ref().map(|identity| {
            let files = TempDir::new(&format!("{kind}-peer-tls"));
            let cert = files.write("cert.pem", identity.cert_chain_pem.as_bytes());
            let key = files.write("key.pem", identity.key_pem.as_bytes());
            cmd.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
            if let Some(ca) = &opts.require_client_cert {
                let ca = files.write("client-ca.pem", ca.as_bytes());
                cmd.arg("--client-ca").arg(ca);
            }
            files
        });
        cmd.current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "{kind} peer: cannot run {cmd:?} in {}: {e}\n{}",
                dir.display(),
                install::offline_hint(kind)
            )
        });

        let port_slot: Arc<(Mutex<Option<u16>>, Condvar)> = Arc::default();
        let stderr_buf: Arc<Mutex<String>> = Arc::default();

        let stdout = child.stdout.take().expect("piped stdout");
        let out_reader = {
            let port_slot = port_slot.clone();
            std::thread::Builder::new()
                .name(format!("{kind}-peer-stdout"))
                .spawn(move || {
                    for line in BufReader::new(stdout).lines() {
                        let Ok(line) = line else { break };
                        let parsed = serde_json::from_str::<serde_json::Value>(&line)
                            .map_err(|e| e.to_string())
                            .and_then(|v| {
                                if v.get("event").and_then(|e| e.as_str()) == Some("listening") {
                                    if let Some(p) = v.get("port").and_then(|p| p.as_u64()) {
                                        *port_slot.0.lock().unwrap() = Some(p as u16);
                                        port_slot.1.notify_all();
                                    }
                                }
                                PeerEvent::from_json(&v)
                            });
                        match parsed {
                            Ok(Some(event)) => log.push(event),
                            Ok(None) => {}
                            Err(e) => {
                                eprintln!("[{kind} peer stdout] {line}   (not an event: {e})")
                            }
                        }
                    }
                    // wake a start() still waiting for the port
                    port_slot.1.notify_all();
                })
                .expect("spawn stdout reader")
        };

        let stderr = child.stderr.take().expect("piped stderr");
        let err_reader = {
            let stderr_buf = stderr_buf.clone();
            std::thread::Builder::new()
                .name(format!("{kind}-peer-stderr"))
                .spawn(move || {
                    let mut reader = BufReader::new(stderr);
                    let mut line = String::new();
                    loop {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => break,
                            Ok(_) => {
                                eprint!("[{kind} peer] {line}");
                                stderr_buf.lock().unwrap().push_str(&line);
                            }
                        }
                    }
                })
                .expect("spawn stderr reader")
        };

        let stdin = child.stdin.take();
        let mut process = ProcessPeer {
            child,
            stdin,
            readers: vec![out_reader, err_reader],
            tls_files,
        };

        // Wait for {"event":"listening","port":N}, the process's death or the deadline.
        let deadline = Instant::now() + START_DEADLINE;
        let mut failure = None;
        {
            let mut port = port_slot.0.lock().unwrap();
            while port.is_none() {
                if let Ok(Some(status)) = process.child.try_wait() {
                    failure = Some(format!("exited with {status} before listening"));
                    break;
                }
                let now = Instant::now();
                if now >= deadline {
                    failure = Some(format!("did not report its port within {START_DEADLINE:?}"));
                    break;
                }
                let wait = (deadline - now).min(Duration::from_millis(100));
                port = port_slot.1.wait_timeout(port, wait).unwrap().0;
            }
            if let (None, Some(p)) = (&failure, *port) {
                return (process, p);
            }
        }
        process.kill();
        let stderr = stderr_buf.lock().unwrap().clone();
        panic!(
            "{kind} peer failed to start: {}\ncommand: {cmd:?}\n--- stderr ---\n{stderr}",
            failure.unwrap_or_default()
        );
    }

    /// Sends `sig` to the process; `false` when it is gone.
    pub fn signal(&self, sig: libc::c_int) -> bool {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: plain syscall on the PID of our own, not yet reaped, child.
        unsafe { libc::kill(pid, sig) == 0 }
    }

    /// The directory holding the TLS certificate and key files, while the process runs.
    pub fn tls_files(&self) -> Option<&Path> {
        self.tls_files.as_ref().map(TempDir::path)
    }

    /// SIGSTOP, then waits until every thread of the process has stopped: `kill` only
    /// queues the signal, and a test that freezes a peer to stage a race must know that
    /// nothing more is read or answered from then on. `false` when the process is gone
    /// or does not stop within 10 s.
    pub fn stop(&self) -> bool {
        if !self.signal(libc::SIGSTOP) {
            return false;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match all_threads_stopped(self.child.id()) {
                Some(true) => return true,
                Some(false) => std::thread::sleep(Duration::from_millis(1)),
                None => return false,
            }
        }
        false
    }

    /// SIGKILL, reap, join the reader threads (which end with the pipes), and remove the
    /// TLS files.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        drop(self.stdin.take());
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        drop(self.tls_files.take());
    }
}
