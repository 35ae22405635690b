//! The `--api` option itself: `--help` lists it with its values and its default, and a
//! command line without it runs the session it runs with `--api actor`. (An unknown value
//! exits 2: [`super::exit_status`].)

use super::api::{Api, ALL_APIS};
use super::harness::{run, run_raw, text};
use crate::support::peers::{any_of, Peer, PeerKind, PeerOptions};

#[test]
fn help_lists_the_api_option_and_its_values() {
    for flag in ["--help", "-h"] {
        let out = run_raw(&[flag]).context(flag);
        out.assert_code(0);
        let help = out.stdout.join("\n");
        let line = out
            .stdout
            .iter()
            .position(|l| l.trim_start().starts_with("--api <API>"))
            .unwrap_or_else(|| panic!("no `--api <API>` option in the help: {out}"));
        // `--help` lists the values below the option, `-h` on its line.
        let option: String = out.stdout[line..]
            .iter()
            .take_while(|l| !l.trim_start().starts_with("--transports"))
            .map(|l| format!("{l}\n"))
            .collect();
        for api in ALL_APIS {
            assert!(
                option.contains(api.name()),
                "the help of --api does not name {api}:\n{option}\n{out}"
            );
        }
        assert!(
            option.contains("[default: actor]"),
            "the help of --api does not give its default:\n{option}\n{out}"
        );
        assert!(!help.is_empty() && out.stderr.is_empty(), "{out}");
    }
}

/// Without `--api`, the session is the one of `--api actor` (the default): same events,
/// same exit status.
#[test]
fn without_api_the_session_is_the_actors() {
    let Some(kinds) = any_of(&[PeerKind::Rust], "the peer this case is written for") else {
        return;
    };
    for kind in kinds {
        let peer = Peer::start(kind, PeerOptions::default());
        let url = peer.url();
        let args = ["--json", "--send", "plain", "--count", "1", &url];
        let default = run_raw(&args).context(format!("{kind} peer"));
        default.assert_session("polling", &[text("plain")], "client disconnect");
        let actor = run(Api::Actor, &args).context(format!("{kind} peer"));
        actor.assert_session("polling", &[text("plain")], "client disconnect");
    }
}
