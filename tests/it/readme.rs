//! The README's whole programs do what its text says: each is an example file, copied
//! into the README word for word (checked here), and run here against every peer.

use std::process::{Command, Output};

use crate::support::examples::example;
use crate::support::peers::{all_peers, start_peers};

fn readme() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    std::fs::read_to_string(path).expect("README.md")
}

fn source(name: &str) -> String {
    let path = format!("{}/examples/{name}.rs", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs example `name` with `url`; its output as lines.
fn run(name: &str, url: &str) -> (Output, Vec<String>) {
    let output = Command::new(example(name))
        .arg(url)
        .output()
        .unwrap_or_else(|e| panic!("cannot run example {name}: {e}"));
    let lines = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    (output, lines)
}

#[test]
fn readme_programs_are_the_example_files() {
    let readme = readme();
    for name in ["hello", "hello_actor"] {
        let block = format!("```rust,no_run\n{}```", source(name));
        assert!(
            readme.contains(&block),
            "README.md does not show examples/{name}.rs as it is: copy the file into its block"
        );
    }
}

/// "prints the connection, the echo of `hello`, and `disconnected from server: client
/// disconnect`".
#[test]
fn hello_prints_the_connection_the_echo_and_a_client_disconnect() {
    for peer in start_peers(&all_peers(), Default::default()) {
        let (output, lines) = run("hello", &peer.url());
        let label = format!("[{} peer] examples/hello", peer.kind());
        assert!(output.status.success(), "{label}: {output:?}");
        assert_eq!(
            lines,
            [
                "connection established",
                "message received with Text(\"hello\")",
                "disconnected from server: client disconnect",
            ],
            "{label}"
        );
    }
}

/// "prints the three echoes, then `session ended: client disconnect`".
#[test]
fn hello_actor_prints_the_three_echoes_then_a_client_disconnect() {
    for peer in start_peers(&all_peers(), Default::default()) {
        let (output, lines) = run("hello_actor", &peer.url());
        let label = format!("[{} peer] examples/hello_actor", peer.kind());
        assert!(output.status.success(), "{label}: {output:?}");
        assert_eq!(
            lines,
            [
                "received Text(\"hello\")",
                "received Binary(b\"\\x01\\x02\\x03\")",
                "received Text(\"[1,2,3]\")",
                "session ended: client disconnect",
            ],
            "{label}"
        );
    }
}
