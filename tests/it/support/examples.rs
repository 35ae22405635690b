//! The crate's example binaries, for tests that run them as child processes: built once
//! per test run (`cargo build --examples`, same profile as this test binary) when any is
//! missing or older than the test binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::SystemTime;

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The example binaries' folder, `target/<profile>/examples`.
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // …/target/<profile>/deps/it-xxxx → …/target/<profile>
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary is in target/<profile>/deps")
        .join("examples")
}

/// The binary of example `name`, built first if needed.
pub fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let binary = examples_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    BUILT.get_or_init(|| {
        let test = std::env::current_exe().ok().and_then(|exe| mtime(&exe));
        if mtime(&binary)
            .zip(test)
            .is_some_and(|(bin, test)| bin >= test)
        {
            return;
        }
        build_examples();
    });
    assert!(
        binary.exists(),
        "{} does not exist (run `cargo build --examples`)",
        binary.display()
    );
    binary
}

fn build_examples() {
    let mut cmd = Command::new(option_env!("CARGO").unwrap_or("cargo"));
    cmd.args(["build", "--examples", "--manifest-path"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"));
    let profile = examples_dir()
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str().map(str::to_owned));
    match profile.as_deref() {
        Some("debug") | None => {}
        Some("release") => {
            cmd.arg("--release");
        }
        Some(other) => {
            cmd.args(["--profile", other]);
        }
    }
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed: {status}");
}
