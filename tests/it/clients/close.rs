//! `disconnect()` and the actor API's `Close` answer only once the server has the close:
//! so a program may stop right after. Each case runs in an actix `System` of its own that
//! is dropped the moment the answer comes, with its runtime, its tasks and its sockets;
//! a close still on its way would then reach the server as a broken transport, which
//! python, rust and node (over polling) log differently from a clean close.

use actix_engineio::{AsyncClient, Close};

use super::blocking::each_case;
use super::common::{assert_clean_close_blocking, connect_async, label, settle_async};
use super::record::Record;
use crate::support::client::{within, Client, ALL_MODES, DEADLINE};
use crate::support::peers::{all_peers, start_peers, PeerOptions};

#[test]
fn async_disconnect_has_reached_the_server_when_it_returns_even_if_the_runtime_stops_at_once() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    each_case(&peers, &ALL_MODES, |peer, mode| {
        let l = label(
            peer,
            mode,
            "AsyncClient, its System dropped after disconnect()",
        );
        let sid = actix_rt::System::new().block_on(async {
            let (client, record) = (AsyncClient::new(), Record::default());
            record.handle_async(&client);
            let sid = connect_async(&client, peer, mode, &l).await;
            settle_async(&client, &record, mode, &l).await;
            within(format!("{l}: disconnect()"), DEADLINE, client.disconnect()).await;
            sid
        });
        // The System is gone: whatever it had not done yet will never be done.
        assert_clean_close_blocking(peer, &l, &sid);
    });
}

#[test]
fn actor_close_has_reached_the_server_when_it_answers_even_if_the_runtime_stops_at_once() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    each_case(&peers, &ALL_MODES, |peer, mode| {
        let l = label(peer, mode, "actor API, its System dropped after Close");
        let sid = actix_rt::System::new().block_on(async {
            let c = Client::connect(l.clone(), mode.builder(&peer.url())).await;
            c.settle(mode).await;
            within(format!("{l}: send(Close)"), DEADLINE, c.session.send(Close))
                .await
                .unwrap_or_else(|e| panic!("{l}: Close: {e}"));
            c.sid.clone()
        });
        assert_clean_close_blocking(peer, &l, &sid);
    });
}
