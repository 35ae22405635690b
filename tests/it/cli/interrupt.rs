//! Ctrl-C (SIGINT) in the middle of a session, through each API: `eio` closes the session
//! cleanly, prints its `disconnect` event (`client disconnect`), then ends by SIGINT, as
//! an interrupted program does. The actor and async APIs do it with a Ctrl-C handler of
//! `eio`'s own; the blocking API with the client's `handle_sigint`, whose `wait` returns
//! only after the program's own handling of the signal (here the default: the end).

use libc::SIGINT;

use super::api::each_api;
use super::endings::{is_clean_client_close, PEER_CLOSE_DEADLINE};
use super::harness::Eio;
use crate::support::peers::{all_peers, Peer, PeerEvent, PeerOptions};

#[test]
fn ctrl_c_closes_cleanly_then_ends_by_sigint_through_every_api() {
    let kinds = all_peers();
    each_api(|api| {
        for &kind in &kinds {
            let peer = Peer::start(kind, PeerOptions::default());
            for transports in ["polling", "websocket"] {
                let eio = Eio::spawn_piped(
                    api,
                    &["--json", "--stdin", "--transports", transports, &peer.url()],
                );
                let connect = eio.wait_json("connect line", |v| v["event"] == "connect");
                eio.interrupt();
                let case = format!("[api {api}, {kind} peer, {transports}]");
                let out = eio.finish().context(&case);
                assert_eq!(
                    out.signal(),
                    Some(SIGINT),
                    "{case}: not ended by SIGINT\n{out}"
                );
                let events = out.events_without_sid();
                let last = events.last().cloned().unwrap_or_default();
                assert_eq!(last["event"], "disconnect", "{case}: last event\n{out}");
                assert_eq!(last["reason"], "client disconnect", "{case}\n{out}");
                let sid = connect["sid"].as_str().unwrap_or_default().to_owned();
                let closed = peer.wait_for(
                    PEER_CLOSE_DEADLINE,
                    |e| matches!(e, PeerEvent::Close { sid: s, .. } if *s == sid),
                );
                match closed {
                    Some(PeerEvent::Close { reason, .. }) => assert!(
                        is_clean_client_close(kind, &reason),
                        "{case}: the peer logged {reason:?}, not a clean client close"
                    ),
                    other => panic!("{case}: the peer logged no close: {other:?}"),
                }
            }
        }
    });
}
