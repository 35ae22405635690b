//! Running the `eio` binary (built by [`example`] when needed): [`Eio`] is one running
//! child (killed on drop), [`Finished`] a finished run with the assertions the tests make
//! on its output and exit status.
//!
//! Every run names its API: [`Eio::spawn`] and [`run`] put `--api <api>` first on the
//! command line; [`run_raw`] runs the arguments as given (no `--api`: the default, or the
//! test's own), for the cases that are about the command line itself. A failure message
//! starts with the run's label, `[api async, node peer]`, then the command line.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::api::Api;
use crate::support::examples::example;
use crate::support::peers::{Peer, PeerRequest};

/// How long one run of the binary may take before it is killed.
const RUN_DEADLINE: Duration = Duration::from_secs(60);

/// How long to wait for one expected line of output.
const LINE_DEADLINE: Duration = Duration::from_secs(30);

/// A running `eio`. Dropping it kills the process if it still runs.
pub struct Eio {
    api: Option<Api>,
    args: Vec<String>,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    started: Instant,
}

/// A finished run of `eio`.
#[derive(Debug)]
pub struct Finished {
    /// The API of `--api`; `None` when the test gave the command line as is.
    api: Option<Api>,
    /// What the test was doing (peer kind, mode), for failure messages.
    context: String,
    args: Vec<String>,
    status: ExitStatus,
    pub stdout: Vec<String>,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Eio {
    /// Runs `eio --api API ARGS` with stdin from /dev/null.
    pub fn spawn(api: Api, args: &[&str]) -> Eio {
        Eio::spawn_with(Some(api), args, false, &[])
    }

    /// Runs `eio --api API ARGS` with a pipe as stdin, to write to and close.
    pub fn spawn_piped(api: Api, args: &[&str]) -> Eio {
        Eio::spawn_with(Some(api), args, true, &[])
    }

    /// Runs with `env` added to the environment, to `eio`'s own only.
    fn spawn_with(api: Option<Api>, args: &[&str], piped_stdin: bool, env: &[(&str, &str)]) -> Eio {
        let mut full: Vec<String> = Vec::with_capacity(args.len() + 2);
        if let Some(api) = api {
            full.extend(["--api".to_string(), api.name().to_string()]);
        }
        full.extend(args.iter().map(|a| a.to_string()));
        let args = full;
        let mut child = Command::new(example("eio"))
            .args(&args)
            // EIO_CLI_LOG=actix_engineio=trace shows the client's log in failure messages.
            .env(
                "RUST_LOG",
                std::env::var("EIO_CLI_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .envs(env.iter().copied())
            .stdin(if piped_stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run eio {args:?}: {e}"));
        let started = Instant::now();
        let (tx, lines) = mpsc::channel();
        let stdout: Arc<Mutex<Vec<String>>> = Arc::default();
        let stderr: Arc<Mutex<String>> = Arc::default();
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        let out_reader = {
            let stdout = stdout.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    stdout.lock().unwrap().push(line.clone());
                    let _ = tx.send(line);
                }
            })
        };
        let err_reader = {
            let stderr = stderr.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(err);
                let mut line = String::new();
                while matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
                    stderr.lock().unwrap().push_str(&line);
                    line.clear();
                }
            })
        };
        Eio {
            api,
            args,
            stdin: child.stdin.take(),
            child,
            lines,
            stdout,
            stderr,
            readers: vec![out_reader, err_reader],
            started,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `[api async]`, or `[no --api added]`.
    fn label(&self) -> String {
        match self.api {
            Some(api) => format!("[api {api}]"),
            None => "[no --api added]".to_string(),
        }
    }

    /// Waits for the next stdout line that parses as JSON and matches `pred`, skipping others.
    pub fn wait_json(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + LINE_DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Ok(value) = serde_json::from_str::<Value>(&line) {
                        if pred(&value) {
                            return value;
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{} eio {:?} (pid {}): no {what} within {LINE_DEADLINE:?}\nstdout: {:?}\nstderr: {}",
                    self.label(),
                    self.args,
                    self.pid(),
                    self.stdout.lock().unwrap(),
                    self.stderr.lock().unwrap()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "{} eio {:?}: stdout closed before {what}\nstdout: {:?}\nstderr: {}",
                    self.label(),
                    self.args,
                    self.stdout.lock().unwrap(),
                    self.stderr.lock().unwrap()
                ),
            }
        }
    }

    pub fn write_stdin(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("eio started with a piped stdin");
        stdin
            .write_all(text.as_bytes())
            .expect("write to eio's stdin");
        stdin.flush().expect("flush eio's stdin");
    }

    /// Sends SIGINT to the process, as Ctrl-C in a terminal does.
    pub fn interrupt(&self) {
        let pid = libc::pid_t::try_from(self.pid()).expect("a pid fits pid_t");
        // SAFETY: kill(2) with the PID of our own child, which has not been reaped (`self`
        // owns it), so the PID cannot name another process.
        let sent = unsafe { libc::kill(pid, libc::SIGINT) };
        assert_eq!(
            sent,
            0,
            "{} kill -INT {pid}: {}",
            self.label(),
            std::io::Error::last_os_error()
        );
    }

    pub fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// Waits for the process to exit; kills it and fails the test after `deadline`.
    fn finish_within(mut self, deadline: Duration) -> Finished {
        let status = loop {
            match self.child.try_wait().expect("try_wait") {
                Some(status) => break status,
                None if self.started.elapsed() > deadline => {
                    let pid = self.pid();
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    self.join_readers();
                    panic!(
                        "{} eio {:?} (pid {pid}) still running after {deadline:?}: killed\nstdout: {:?}\nstderr: {}",
                        self.label(),
                        self.args,
                        self.stdout.lock().unwrap(),
                        self.stderr.lock().unwrap()
                    );
                }
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        let elapsed = self.started.elapsed();
        self.close_stdin();
        self.join_readers();
        Finished {
            api: self.api,
            context: String::new(),
            args: self.args.clone(),
            status,
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: self.stderr.lock().unwrap().clone(),
            elapsed,
        }
    }

    pub fn finish(self) -> Finished {
        self.finish_within(RUN_DEADLINE)
    }

    fn join_readers(&mut self) {
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }
}

impl Drop for Eio {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `eio --api API ARGS` to its end.
pub fn run(api: Api, args: &[&str]) -> Finished {
    Eio::spawn(api, args).finish()
}

/// Runs `eio ARGS` to its end, with no `--api` added.
pub fn run_raw(args: &[&str]) -> Finished {
    Eio::spawn_with(None, args, false, &[]).finish()
}

/// Runs `eio --api API ARGS` to its end with `env` added to its environment (the test
/// process's own is never changed: its tests run in parallel).
pub fn run_with_env(api: Api, args: &[&str], env: &[(&str, &str)]) -> Finished {
    Eio::spawn_with(Some(api), args, false, env).finish()
}

impl Finished {
    /// Names what the test was doing in failure messages.
    pub fn context(mut self, context: impl std::fmt::Display) -> Finished {
        self.context = context.to_string();
        self
    }

    /// The signal that ended the process, if one did.
    pub fn signal(&self) -> Option<i32> {
        std::os::unix::process::ExitStatusExt::signal(&self.status)
    }

    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Every stdout line, parsed as JSON; fails on a line that is not.
    fn json(&self) -> Vec<Value> {
        self.stdout
            .iter()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{self}: stdout line {line:?} is not JSON: {e}"))
            })
            .collect()
    }

    /// The JSON events, each `sid` replaced by `"<sid>"`: what two runs can be compared by.
    pub fn events_without_sid(&self) -> Vec<Value> {
        self.json()
            .into_iter()
            .map(|mut v| {
                if let Some(sid) = v.get_mut("sid") {
                    *sid = json!("<sid>");
                }
                v
            })
            .collect()
    }

    /// The JSON events without `upgrade` lines.
    fn events_without_upgrade(&self) -> Vec<Value> {
        self.json()
            .into_iter()
            .filter(|v| v["event"] != "upgrade")
            .collect()
    }

    pub fn upgrades(&self) -> Vec<Value> {
        self.json()
            .into_iter()
            .filter(|v| v["event"] == "upgrade" || v["event"] == "upgrade_error")
            .collect()
    }

    /// The sid of the (first) connect line.
    pub fn sid(&self) -> String {
        let json = self.json();
        let connect = json.first().unwrap_or_else(|| panic!("{self}: no output"));
        assert_eq!(connect["event"], "connect", "{self}");
        connect["sid"]
            .as_str()
            .unwrap_or_else(|| panic!("{self}: connect without a string sid"))
            .to_string()
    }

    pub fn assert_code(&self, code: i32) {
        assert_eq!(self.code(), Some(code), "{self}");
    }

    /// Exit 0, a connect line over `transport` first and a client-disconnect line last,
    /// with `messages` between them (in order, upgrade lines aside), and nothing else.
    pub fn assert_session(&self, transport: &str, messages: &[Value], reason: &str) {
        self.assert_code(0);
        let sid = self.sid();
        assert!(!sid.is_empty(), "{self}");
        let mut expected = vec![json!({"event": "connect", "sid": sid, "transport": transport})];
        expected.extend(messages.iter().cloned());
        expected.push(json!({"event": "disconnect", "reason": reason, "detail": null}));
        assert_eq!(self.events_without_upgrade(), expected, "{self}");
        for upgrade in self.upgrades() {
            assert_eq!(
                upgrade,
                json!({"event": "upgrade", "transport": "websocket"}),
                "{self}"
            );
        }
        assert!(self.upgrades().len() <= 1, "{self}");
    }
}

impl std::fmt::Display for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.api {
            Some(api) => write!(f, "[api {api}")?,
            None => write!(f, "[no --api added")?,
        }
        if !self.context.is_empty() {
            write!(f, ", {}", self.context)?;
        }
        write!(
            f,
            "] eio {:?}: {} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args,
            self.status,
            self.elapsed,
            self.stdout.join("\n"),
            self.stderr
        )
    }
}

/// The transport a session of `--transports TRANSPORTS` opens on: the first one.
pub fn opened_on(transports: &str) -> &'static str {
    if transports.starts_with("websocket") {
        "websocket"
    } else {
        "polling"
    }
}

pub fn text(t: &str) -> Value {
    json!({"event": "message", "text": t})
}

pub fn binary(hex: &str) -> Value {
    json!({"event": "message", "binary": hex})
}

pub fn websocket_requests(peer: &Peer) -> Vec<PeerRequest> {
    peer.requests()
        .into_iter()
        .filter(|r| r.is_websocket())
        .collect()
}

pub fn assert_cannot_connect(out: &Finished) {
    out.assert_code(1);
    assert!(
        !out.stdout.iter().any(|l| l.contains("\"connect\"")),
        "connect line printed: {out}"
    );
    assert!(out.stderr.contains("eio:"), "no error on stderr: {out}");
}
