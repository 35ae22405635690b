//! The `eio` example binary as a child process whose peak memory is measured. The test
//! binary's own peak (`VmHWM`) is shared by every test running in it; a child's is its
//! session's alone.
//!
//! The peak is the `VmHWM` line of the child's `/proc/<pid>/status`: the high-water mark
//! of the resident set of its address space, which exec made new. Not `ru_maxrss` from
//! `wait4(2)`: the kernel counts in it the address space the child had before its exec,
//! which, `Command` spawning with vfork, is the test process's own (the first version of
//! these tests measured 237 MiB that way for a process whose own peak was a few MiB).
//! `VmHWM` can only be read while the child lives, so `eio` runs with `--reconnect`: when
//! its session is lost, it prints the `disconnect` event, then `reconnecting`, and then
//! waits at least half a second before trying again; the test reads `VmHWM` on
//! `reconnecting` (a bound on everything the lost session took, since the mark never goes
//! down) and kills the child.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::examples::example;

/// A run of `eio`, up to its first `reconnecting` event.
pub struct Measured {
    /// The JSON events it printed (`--json`), in order, `reconnecting` last.
    pub events: Vec<Value>,
    pub stderr: String,
    /// The peak resident set, in bytes (`VmHWM`).
    pub peak_rss: u64,
    /// From the start to `reconnecting`.
    pub elapsed: Duration,
}

impl Measured {
    /// The events named `name` (`connect`, `message`, `disconnect`…).
    pub fn events_named(&self, name: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["event"] == name).collect()
    }
}

/// Runs `eio --json --reconnect ARGS` until its session is lost and it prints
/// `reconnecting`; then reads its peak memory and kills it. Fails after `deadline`.
pub fn run_eio_until_lost(args: &[&str], deadline: Duration) -> Measured {
    let mut child = Command::new(example("eio"))
        .args(["--json", "--reconnect"])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run eio {args:?}: {e}"));
    let started = Instant::now();
    let pid = child.id();
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let (lines, received) = mpsc::channel();
    let out_reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut events = Vec::new();
    let mut peak = None;
    while let Some(left) = deadline.checked_sub(started.elapsed()) {
        let Ok(line) = received.recv_timeout(left) else {
            break;
        };
        let Ok(event) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let lost = event["event"] == "reconnecting";
        events.push(event);
        if lost {
            // The child waits out its backoff: alive, so its status can be read.
            peak = Some(vm_hwm(pid));
            break;
        }
    }
    let elapsed = started.elapsed();
    // Not reaped yet, so the pid is still our child's.
    let _ = child.kill();
    let _ = child.wait();
    drop(received);
    let _ = out_reader.join();
    let stderr = err_reader.join().unwrap_or_default();
    let Some(peak_rss) = peak else {
        panic!(
            "eio {args:?} (pid {pid}): no reconnecting event within {deadline:?}: killed\n\
             events: {events:?}\nstderr: {stderr}"
        );
    };
    Measured {
        events,
        stderr,
        peak_rss,
        elapsed,
    }
}

/// `VmHWM` of process `pid`, in bytes.
fn vm_hwm(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/status: {e}"));
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no VmHWM in /proc/{pid}/status:\n{status}"));
    kib * 1024
}

/// `bytes` in MiB, for messages.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
