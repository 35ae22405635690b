//! Installs what the process peers need, on their first start: `npm ci` in
//! `tests/peers/node` and `tests/peers/node3`, a venv with `pip install -r requirements.txt`
//! in `tests/peers/python/.venv` and `tests/peers/python3/.venv`.
//!
//! Installs run under an exclusive `flock` on `tests/peers/.install.lock`, so parallel tests
//! (and a concurrent `tests/peers/setup.sh`) install once. A marker file holding a copy of
//! the lock file (`node_modules/.actix-engineio-installed`, `.venv/.actix-engineio-installed`)
//! is written only after a successful install; a missing or stale marker means reinstall.
//! A failed install panics, naming the peer: a test must fail, not skip, when a peer it was
//! asked to run cannot be had. `EIO_TEST_PEERS` (see [`super::select`]) is how to ask for
//! fewer peers.

use std::fs::{self, OpenOptions};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::PeerKind;

/// `tests/peers`: the process peers' sources, lock files and installs.
pub fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("peers")
}

const MARKER: &str = ".actix-engineio-installed";

/// Installs a process peer's dependencies unless a valid marker says they are.
/// Once per process and kind; across threads and processes under an exclusive file lock.
pub fn ensure_installed(kind: PeerKind) {
    static NODE: OnceLock<()> = OnceLock::new();
    static PYTHON: OnceLock<()> = OnceLock::new();
    static NODE3: OnceLock<()> = OnceLock::new();
    static PYTHON3: OnceLock<()> = OnceLock::new();
    let once = match kind {
        PeerKind::Node => &NODE,
        PeerKind::Python => &PYTHON,
        PeerKind::Node3 => &NODE3,
        PeerKind::Python3 => &PYTHON3,
        PeerKind::Rust => return,
    };
    once.get_or_init(|| {
        let lock_path = peers_dir().join(".install.lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", lock_path.display()));
        // flock(2) directly rather than `File::lock` (Rust 1.89) to keep to the crate's MSRV;
        // it is the same lock that `flock(1)` takes in tests/peers/setup.sh.
        // SAFETY: a plain syscall on a file descriptor owned by `lock`, which outlives it.
        let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
        if rc != 0 {
            panic!(
                "cannot lock {}: {}",
                lock_path.display(),
                std::io::Error::last_os_error()
            );
        }
        match kind {
            PeerKind::Node | PeerKind::Node3 => install_node(kind),
            PeerKind::Python | PeerKind::Python3 => install_python(kind),
            PeerKind::Rust => {}
        }
        drop(lock); // closing the file releases the lock
    });
}

/// `true` when `marker` exists and holds exactly the bytes of `lockfile`.
fn marker_is_current(marker: &Path, lockfile: &Path) -> bool {
    match (fs::read(marker), fs::read(lockfile)) {
        (Ok(m), Ok(l)) => m == l,
        _ => false,
    }
}

/// Runs one install step of the `kind` peer; a failure panics with the step's output and
/// the way to run the suite without that peer (offline, or without npm or PyPI).
fn run_install_step(kind: PeerKind, what: &str, cmd: &mut Command) {
    eprintln!("[peers] installing the {kind} peer: {what}: {cmd:?}");
    let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| {
        panic!(
            "cannot install the {kind} test peer: cannot run {cmd:?} ({what}): {e}\n{}",
            offline_hint(kind)
        )
    });
    if !out.status.success() {
        panic!(
            "cannot install the {kind} test peer: {what}: {cmd:?} exited with {}\n\
             --- stdout ---\n{}\n--- stderr ---\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            offline_hint(kind)
        );
    }
}

/// What to do when the `kind` peer cannot be installed or run: where its dependencies come
/// from, how to retry, and how to run the suite without it.
pub fn offline_hint(kind: PeerKind) -> String {
    let needs = match kind {
        PeerKind::Node | PeerKind::Node3 => {
            "`node` and `npm` on PATH and the npm registry (`npm ci`)"
        }
        PeerKind::Python | PeerKind::Python3 => {
            "`python3` with `venv` on PATH and PyPI (`pip install`)"
        }
        PeerKind::Rust => "nothing: it runs in-process",
    };
    format!(
        "The {kind} peer needs {needs}. Retry the install by hand with \
         `bash tests/peers/setup.sh {kind}`, or run the suite against the in-process Rust \
         peer only: `EIO_TEST_PEERS=rust cargo test` (see tests/peers/README.md)."
    )
}

/// `npm ci` in the folder of the node or node3 peer.
fn install_node(kind: PeerKind) {
    let dir = peers_dir().join(kind.name());
    let lockfile = dir.join("package-lock.json");
    let modules = dir.join("node_modules");
    let marker = modules.join(MARKER);
    if marker_is_current(&marker, &lockfile) {
        return;
    }
    if modules.exists() {
        fs::remove_dir_all(&modules)
            .unwrap_or_else(|e| panic!("cannot remove {}: {e}", modules.display()));
    }
    run_install_step(
        kind,
        "node peer dependencies (engine.io)",
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir),
    );
    fs::copy(&lockfile, &marker)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", marker.display()));
}

/// The venv of the python or python3 peer, with its pinned requirements.
fn install_python(kind: PeerKind) {
    let dir = peers_dir().join(kind.name());
    let requirements = dir.join("requirements.txt");
    let venv = dir.join(".venv");
    let marker = venv.join(MARKER);
    if marker_is_current(&marker, &requirements) {
        return;
    }
    if venv.exists() {
        fs::remove_dir_all(&venv)
            .unwrap_or_else(|e| panic!("cannot remove {}: {e}", venv.display()));
    }
    run_install_step(
        kind,
        "python peer venv",
        Command::new("python3")
            .args(["-m", "venv", ".venv"])
            .current_dir(&dir),
    );
    run_install_step(
        kind,
        "python peer dependencies (python-engineio, aiohttp)",
        Command::new(venv.join("bin").join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "-r",
                "requirements.txt",
            ])
            .current_dir(&dir),
    );
    fs::copy(&requirements, &marker)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", marker.display()));
}
