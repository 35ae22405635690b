//! The contenders from other languages: Node's `engine.io-client` 6.6 and python-engineio
//! 4.15's `AsyncClient`, each a small script in `bench/peers/` run with the test peers'
//! installs (`tests/peers/node/node_modules`, `tests/peers/python/.venv`), which
//! `tests/peers/setup.sh` makes exactly as the integration tests do.
//!
//! The `measure` child `exec`s the script, so the measurement is still a process of its
//! own (its RSS and CPU time are the script's) and dies with the benchmark. The script
//! gets the job as JSON and prints a `Measurement` as JSON, as every other contender.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{BenchResult, Contender, Job};

/// The repository's root (the benchmark is a workspace member one level down).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `node` or `python` for the contenders that run as scripts.
fn peer_of(contender: Contender) -> Option<&'static str> {
    match contender {
        Contender::Node => Some("node"),
        Contender::Python => Some("python"),
        _ => None,
    }
}

/// Installs (or finds up to date) what `contender` needs, with the peers' own setup
/// script; `Ok` for contenders that need nothing. The error says why it cannot run.
pub fn setup(contender: Contender) -> BenchResult<()> {
    let Some(peer) = peer_of(contender) else {
        return Ok(());
    };
    let root = repo_root();
    let out = Command::new("bash")
        .arg(root.join("tests/peers/setup.sh"))
        .arg(peer)
        .current_dir(&root)
        .output()
        .map_err(|e| format!("cannot run tests/peers/setup.sh {peer}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let tail: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = tail[tail.len().saturating_sub(3)..].join(" | ");
    Err(format!(
        "the {peer} peer is not available (bash tests/peers/setup.sh {peer} failed: {tail})"
    ))
}

/// Replaces this process with the contender's script; returns only on an error.
pub fn exec(job: &Job) -> BenchResult<()> {
    use std::os::unix::process::CommandExt;
    let root = repo_root();
    let json = serde_json::to_string(job).map_err(|e| e.to_string())?;
    let mut command = match job.contender {
        Contender::Node => {
            let modules = root.join("tests/peers/node/node_modules");
            if !modules.join("engine.io-client").is_dir() {
                return Err(format!(
                    "engine.io-client is not installed in {} (bash tests/peers/setup.sh node)",
                    modules.display()
                ));
            }
            let mut c = Command::new("node");
            // --expose-gc: the idle scenario collects garbage before reading RSS, as
            // the Rust contenders trim the heap.
            c.arg("--expose-gc")
                .arg(root.join("bench/peers/eio_client.js"))
                .env("NODE_PATH", modules);
            c
        }
        Contender::Python => {
            let python = root.join("tests/peers/python/.venv/bin/python");
            if !python.exists() {
                return Err(format!(
                    "{} is missing (bash tests/peers/setup.sh python)",
                    python.display()
                ));
            }
            let mut c = Command::new(python);
            c.arg(root.join("bench/peers/eio_client.py"));
            c
        }
        other => return Err(format!("{} is not a script contender", other.name())),
    };
    command.arg(json);
    let e = command.exec();
    Err(format!("cannot start {:?}: {e}", command.get_program()))
}
