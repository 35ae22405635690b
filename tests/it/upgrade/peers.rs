//! The upgrade with the real peers: it completes, messages sent around it arrive once in
//! order, it never happens when not allowed, and it survives a peer frozen during the probe.

use std::time::Duration;

use actix_engineio::{Session, TransportKind};

use super::SETTLE;
use crate::support::client::{assert_texts, sleep, texts, Client, DEADLINE};
use crate::support::peers::{
    all_peers, any_of, is_polling, peer_closed, session_requests, start_peers, PeerEvent, PeerKind,
    PeerOptions,
};

// ---------------------------------------------------------------------------------------
// real peers

/// The default transports upgrade with every peer: `Connect` says polling, then
/// `Upgrade::Completed(WebSocket)`; messages echo afterwards; the peer saw exactly one
/// websocket request for the sid and no polling request of the session after the upgrade.
#[actix_rt::test]
async fn upgrade_completes_with_every_peer() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        let label = format!("[{} peer]", peer.kind());
        let client = Client::connect(label.clone(), Session::builder(peer.url())).await;
        assert_eq!(
            client.transport,
            TransportKind::Polling,
            "{label}: Connect must report polling"
        );
        client.upgraded().await;

        client.echo_all(&texts("after-upgrade-", 10)).await;
        // Let the peer's log catch up with whatever polling happened before the upgrade.
        sleep(Duration::from_millis(500)).await;
        let polling_before = session_requests(peer, &client.sid)
            .iter()
            .filter(|r| is_polling(r))
            .count();
        client.echo_all(&texts("later-", 10)).await;
        sleep(SETTLE).await;
        client.assert_alive();

        let requests = session_requests(peer, &client.sid);
        let websockets: Vec<_> = requests.iter().filter(|r| r.is_websocket()).collect();
        assert_eq!(
            websockets.len(),
            1,
            "{label}: expected exactly one websocket request with sid {}: {websockets:#?}",
            client.sid
        );
        assert_eq!(
            websockets[0].query("transport").as_deref(),
            Some("websocket"),
            "{label}: the upgrade request's transport"
        );
        assert_eq!(
            peer.requests().iter().filter(|r| r.is_websocket()).count(),
            1,
            "{label}: only the upgrade opened a websocket"
        );
        let polling_after = requests.iter().filter(|r| is_polling(r)).count();
        assert_eq!(
            polling_after, polling_before,
            "{label}: polling requests of the session went on after the upgrade: {:#?}",
            &requests
        );

        // node logs the moment it receives `5`: nothing of the session polls after it.
        if peer.kind() == PeerKind::Node {
            let events = peer.events();
            let upgraded_at = events
                .iter()
                .position(|e| matches!(e, PeerEvent::Upgrade { sid, transport } if *sid == client.sid && transport == "websocket"))
                .unwrap_or_else(|| panic!("{label}: node logged no upgrade of {}", client.sid));
            let late: Vec<_> = events[upgraded_at..]
                .iter()
                .filter(|e| matches!(e, PeerEvent::Request(r) if is_polling(r) && r.query("sid").as_deref() == Some(client.sid.as_str())))
                .collect();
            assert!(
                late.is_empty(),
                "{label}: polling requests after node saw `5`: {late:#?}"
            );
        }
        assert_eq!(
            peer_closed(peer, &client.sid),
            None,
            "{label}: the peer closed the session"
        );
    }
}

/// Messages sent while the probe is under way (right after `connect()` returns), while
/// polling pauses, and after the upgrade all arrive once each, in order, with every peer.
#[actix_rt::test]
async fn messages_sent_during_the_upgrade_arrive_once_in_order() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        let label = format!("[{} peer]", peer.kind());
        let client = Client::connect(label.clone(), Session::builder(peer.url())).await;
        let mut expected = Vec::new();

        // At once: the probe is in progress now.
        let burst = texts("burst-", 200);
        client.send_all(&burst).await;
        expected.extend(burst);
        // Right after, spread over the probe, the grace period and the switch.
        for i in 0..100 {
            let pair = [format!("spread-{i}-a"), format!("spread-{i}-b")];
            client.send_all(&pair).await;
            expected.extend(pair);
            sleep(Duration::from_millis(10)).await;
        }
        client.upgraded().await;
        let after = texts("after-", 100);
        client.send_all(&after).await;
        expected.extend(after);

        let got = client
            .wait_messages(expected.len(), Duration::from_secs(30))
            .await;
        client.assert_alive();
        assert_texts(&label, &got, &expected);
        // Nothing arrives twice, late.
        sleep(Duration::from_millis(500)).await;
        assert_texts(&label, &client.events.received(), &expected);
    }
}

/// `.upgrade(false)` and `.transports(["polling"])` never open a websocket.
#[actix_rt::test]
async fn no_websocket_without_upgrade() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        for (mode, builder) in [
            (
                "upgrade(false)",
                Session::builder(peer.url()).upgrade(false),
            ),
            (
                "transports([polling])",
                Session::builder(peer.url()).transports(["polling"]),
            ),
        ] {
            let label = format!("[{} peer, {mode}]", peer.kind());
            let first_request = peer.requests().len();
            let client = Client::connect(label.clone(), builder).await;
            assert_eq!(client.transport, TransportKind::Polling, "{label}");
            client.echo_all(&texts("m", 5)).await;
            sleep(SETTLE).await;
            client.echo_all(&texts("n", 5)).await;
            client.assert_alive();
            let websockets: Vec<_> = peer.requests()[first_request..]
                .iter()
                .filter(|r| r.is_websocket())
                .cloned()
                .collect();
            assert!(
                websockets.is_empty(),
                "{label}: a websocket was opened: {websockets:#?}"
            );
            assert_eq!(
                client.upgrade_event(),
                None,
                "{label}: no upgrade event expected"
            );
            client.session.do_send(actix_engineio::Close);
        }
    }
}

// ---------------------------------------------------------------------------------------
// real peers: a slow probe

/// The slow-probe path with real servers: the peer is frozen (SIGSTOP) right after the
/// handshake for longer than PROBE_GRACE, so the probe websocket is not answered in time,
/// polling starts, and messages are POSTed; then it resumes. The upgrade completes, every
/// message arrives once, in order, and nothing of the session polls after the upgrade.
/// Node and python only: the in-process Rust peer cannot be frozen.
#[actix_rt::test]
async fn upgrade_completes_after_a_frozen_peer_resumes() {
    let Some(kinds) = any_of(
        &[PeerKind::Node, PeerKind::Python],
        "SIGSTOP: the in-process rust peer cannot be frozen",
    ) else {
        return;
    };
    let peers = start_peers(&kinds, PeerOptions::default());
    for peer in &peers {
        let label = format!("[{} peer, frozen during the probe]", peer.kind());
        let client = Client::connect(label.clone(), Session::builder(peer.url())).await;
        assert!(peer.pause(), "{label}: cannot freeze the peer");
        let mut expected = texts("frozen-", 20);
        client.send_all(&expected).await;
        sleep(SETTLE).await;
        let more = texts("still-frozen-", 20);
        client.send_all(&more).await;
        expected.extend(more);
        assert!(peer.resume(), "{label}: cannot resume the peer");

        client.upgraded().await;
        let after = texts("after-", 20);
        client.send_all(&after).await;
        expected.extend(after);
        let got = client.wait_messages(expected.len(), DEADLINE).await;
        client.assert_alive();
        assert_texts(&label, &got, &expected);

        sleep(Duration::from_millis(500)).await;
        let polling_before = session_requests(peer, &client.sid)
            .iter()
            .filter(|r| is_polling(r))
            .count();
        client.echo_all(&texts("later-", 10)).await;
        sleep(SETTLE).await;
        client.assert_alive();
        assert_texts(
            &label,
            &client.events.received()[expected.len()..],
            &texts("later-", 10),
        );
        let requests = session_requests(peer, &client.sid);
        assert_eq!(
            requests.iter().filter(|r| r.is_websocket()).count(),
            1,
            "{label}: websocket requests"
        );
        assert_eq!(
            requests.iter().filter(|r| is_polling(r)).count(),
            polling_before,
            "{label}: polling went on after the upgrade: {requests:#?}"
        );
        eprintln!(
            "{label}: requests of the session: {:?}",
            requests
                .iter()
                .map(|r| if r.is_websocket() {
                    "WS".to_owned()
                } else {
                    r.method.clone()
                })
                .collect::<Vec<_>>()
        );
    }
}
