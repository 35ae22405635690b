//! The `client` example (`examples/client.rs`, python-engineio's guide with the blocking
//! `Client`) as a child process: Ctrl-C (SIGINT) disconnects it cleanly, then ends it;
//! without `--stay` it disconnects cleanly before it exits on its own.
//!
//! The binary is `target/<profile>/examples/client`, built first (`cargo build --example
//! client`) when missing or older than this test binary, as `cli::harness` does for `eio`.
//! A child is killed by its PID if a test fails while it runs.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::common::{clean_close, is_clean_close, peer_close_blocking};
use crate::support::examples::example;
use crate::support::peers::{all_peers, peer_closed, start_peers, Peer, PeerOptions};

/// How long the child may take to print a line, or to exit once told to.
const CHILD_DEADLINE: Duration = Duration::from_secs(30);

/// A running `client` example; dropping it kills the process (by its PID) if it runs.
struct Example {
    label: String,
    child: Child,
    lines: Receiver<String>,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
}

impl Example {
    fn spawn(label: &str, args: &[&str]) -> Example {
        let mut child = Command::new(example("client"))
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{label}: cannot run the client example: {e}"));
        let (tx, lines) = mpsc::channel();
        let stdout: Arc<Mutex<Vec<String>>> = Arc::default();
        let stderr: Arc<Mutex<String>> = Arc::default();
        let (out, err) = (child.stdout.take(), child.stderr.take());
        let kept = stdout.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out.expect("stdout")).lines() {
                let Ok(line) = line else { break };
                kept.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(line.clone());
                let _ = tx.send(line);
            }
        });
        let kept = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err.expect("stderr")).lines() {
                let Ok(line) = line else { break };
                let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                kept.push_str(&line);
                kept.push('\n');
            }
        });
        Example {
            label: label.to_owned(),
            child,
            lines,
            stdout,
            stderr,
        }
    }

    /// What it printed so far, for failure messages.
    fn output(&self) -> String {
        format!(
            "\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .join("\n"),
            self.stderr.lock().unwrap_or_else(|e| e.into_inner())
        )
    }

    /// The next stdout line `pick` accepts, skipping the others.
    fn line<T>(&self, what: &str, pick: impl Fn(&str) -> Option<T>) -> T {
        let end = Instant::now() + CHILD_DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(found) = pick(&line) {
                        return found;
                    }
                }
                Err(_) => panic!(
                    "{}: no {what} within {CHILD_DEADLINE:?}{}",
                    self.label,
                    self.output()
                ),
            }
        }
    }

    fn interrupt(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill(2) on the PID of our own child, which has not been reaped yet.
        let sent = unsafe { libc::kill(pid, libc::SIGINT) };
        assert_eq!(sent, 0, "{}: kill(SIGINT) failed", self.label);
    }

    /// Waits for the child's end; fails the test (the child is then killed) after the
    /// deadline.
    fn exit(&mut self) -> ExitStatus {
        let end = Instant::now() + CHILD_DEADLINE;
        loop {
            match self.child.try_wait().expect("try_wait") {
                Some(status) => return status,
                None if Instant::now() > end => panic!(
                    "{}: still running {CHILD_DEADLINE:?} later{}",
                    self.label,
                    self.output()
                ),
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs the example against `peer` until it has its three echoes; gives it and its sid.
fn run_until_echoed(peer: &Peer, args: &[&str], l: &str) -> (Example, String) {
    let url = peer.url();
    let mut all = vec![url.as_str()];
    all.extend_from_slice(args);
    let example = Example::spawn(l, &all);
    let sid = example.line("`my sid is` line", |line| {
        line.strip_prefix("my sid is ").map(str::to_owned)
    });
    assert!(!sid.is_empty(), "{l}: an empty sid{}", example.output());
    for n in 1..=3 {
        let what = format!("`message received` line #{n}");
        example.line(&what, |line| {
            line.starts_with("message received").then_some(())
        });
    }
    (example, sid)
}

fn assert_peer_saw_a_clean_close(peer: &Peer, l: &str, sid: &str, example: &Example) {
    let reason = peer_close_blocking(peer, l, sid);
    assert!(
        is_clean_close(peer.kind(), &reason),
        "{l}: the peer logged the close of {sid} as {reason:?}, not a clean client close ({}){}",
        clean_close(peer.kind()),
        example.output()
    );
}

#[test]
fn ctrl_c_disconnects_the_blocking_client_cleanly_then_ends_the_program() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    std::thread::scope(|scope| {
        for peer in &peers {
            scope.spawn(move || {
                let l = format!(
                    "[{} peer, polling with upgrade, client example --stay]",
                    peer.kind()
                );
                let (mut example, sid) = run_until_echoed(peer, &["--stay"], &l);
                assert!(
                    peer_closed(peer, &sid).is_none(),
                    "{l}: the session ended before Ctrl-C{}",
                    example.output()
                );
                example.interrupt();
                let status = example.exit();
                assert!(
                    status.signal() == Some(libc::SIGINT) || status.success(),
                    "{l}: after SIGINT the example ended with {status}{}",
                    example.output()
                );
                assert_peer_saw_a_clean_close(peer, &l, &sid, &example);
            });
        }
    });
}

#[test]
fn client_example_disconnects_cleanly_before_it_exits() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    std::thread::scope(|scope| {
        for peer in &peers {
            scope.spawn(move || {
                let l = format!(
                    "[{} peer, polling with upgrade, client example]",
                    peer.kind()
                );
                let (mut example, sid) = run_until_echoed(peer, &[], &l);
                let status = example.exit();
                assert!(
                    status.success(),
                    "{l}: exited with {status}{}",
                    example.output()
                );
                assert_peer_saw_a_clean_close(peer, &l, &sid, &example);
            });
        }
    });
}
