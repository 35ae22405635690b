//! The upgrade with the real peers: it completes, messages sent around it arrive once in
//! order, it never happens when not allowed, and it survives a peer frozen during the probe.

use std::time::Duration;

use actix_engineio::{Session, TransportKind};
use futures::future::join_all;

use super::{polling_after, polling_count, upgrade_seq};
use crate::support::client::{assert_texts, peer_event, texts, wait_until, Client, DEADLINE};
use crate::support::fault_proxy::FaultProxy;
use crate::support::peers::{
    all_peers, any_of, is_polling, peer_closed, session_requests, start_peers, Peer, PeerEvent,
    PeerKind, PeerOptions,
};
use crate::support::wire::Wire;

/// A recording proxy in front of `peer`.
fn tap(peer: &Peer) -> FaultProxy {
    let proxy = FaultProxy::start(peer.port());
    proxy.record();
    proxy
}

/// Waits until `peer` has logged as many polling requests of the session as went through
/// `proxy` (its log may lag behind the wire), and checks it logged no more: the wire saw
/// every request the peer saw.
async fn peer_log_agrees(label: &str, peer: &Peer, proxy: &FaultProxy, sid: &str) {
    let on_wire = polling_count(&Wire::recorded(proxy), sid);
    let logged = || {
        session_requests(peer, sid)
            .iter()
            .filter(|r| is_polling(r))
            .count()
    };
    wait_until(DEADLINE, || logged() >= on_wire).await;
    assert_eq!(
        logged(),
        on_wire,
        "{label}: the peer logged {} polling requests of the session, the wire shows {on_wire}",
        logged()
    );
}

/// Checks that nothing of session `sid` polled after the client's `5`, once later
/// messages have echoed (so the session went on after the upgrade, on the server too).
fn assert_no_polling_after_the_upgrade(label: &str, wire: &Wire, sid: &str) {
    let upgraded_at = upgrade_seq(label, wire, sid);
    let late = polling_after(wire, sid, upgraded_at);
    assert!(
        late.is_empty(),
        "{label}: polling requests after `5`: {late:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// real peers

/// The default transports upgrade with every peer: `Connect` says polling, then
/// `Upgrade::Completed(WebSocket)`; messages echo afterwards; the peer saw exactly one
/// websocket request for the sid, and no polling request of the session went out after
/// the client's `5` (on the wire, for every peer; node also logs the `5` itself).
#[actix_rt::test]
async fn upgrade_completes_with_every_peer() {
    let peers = start_peers(&all_peers(), PeerOptions::default());
    for peer in &peers {
        let label = format!("[{} peer]", peer.kind());
        let proxy = tap(peer);
        let client = Client::connect(label.clone(), Session::builder(proxy.url())).await;
        assert_eq!(
            client.transport,
            TransportKind::Polling,
            "{label}: Connect must report polling"
        );
        client.upgraded().await;

        client.echo_all(&texts("after-upgrade-", 10)).await;
        client.echo_all(&texts("later-", 10)).await;
        client.assert_alive();

        assert_no_polling_after_the_upgrade(&label, &Wire::recorded(&proxy), &client.sid);
        peer_log_agrees(&label, peer, &proxy, &client.sid).await;
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
        // Then pairs, each awaited, until ten pairs after the upgrade (or a thousand
        // pairs): spread over the probe, the pause and the switch, however long each
        // takes here.
        let mut after_upgrade = 0;
        for i in 0..1000 {
            let pair = [format!("spread-{i}-a"), format!("spread-{i}-b")];
            client.send_all(&pair).await;
            expected.extend(pair);
            if client.upgrade_event().is_some() {
                after_upgrade += 1;
                if after_upgrade == 10 {
                    break;
                }
            }
            // Let the session's transports run between pairs.
            actix_rt::task::yield_now().await;
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
        // Nothing arrives twice, late: a last echo comes right after the others.
        expected.push("last".into());
        client.send("last").await;
        let got = client
            .wait_messages(expected.len(), Duration::from_secs(30))
            .await;
        assert_texts(&label, &got, &expected);
    }
}

/// `.upgrade(false)` and `.transports(["polling"])` never open a websocket, not even once
/// the server has pinged (every 2 s: later than a probe would have gone, right after the
/// handshake, or after PROBE_GRACE).
#[actix_rt::test]
async fn no_websocket_without_upgrade() {
    let options = PeerOptions {
        ping_interval: Duration::from_secs(2),
        ..PeerOptions::default()
    };
    let peers = start_peers(&all_peers(), options);
    let cases = peers
        .iter()
        .flat_map(|peer| [(peer, "upgrade(false)"), (peer, "transports([polling])")]);
    // All at once: the wait for a ping is shared.
    join_all(cases.map(|(peer, mode)| async move {
        let label = format!("[{} peer, {mode}]", peer.kind());
        let proxy = tap(peer);
        let builder = match mode {
            "upgrade(false)" => Session::builder(proxy.url()).upgrade(false),
            _ => Session::builder(proxy.url()).transports(["polling"]),
        };
        let client = Client::connect(label.clone(), builder).await;
        assert_eq!(client.transport, TransportKind::Polling, "{label}");
        client.echo_all(&texts("m", 5)).await;
        let pinged = || Wire::recorded(&proxy).pings_answered(&client.sid) >= 1;
        assert!(
            wait_until(DEADLINE, pinged).await,
            "{label}: no ping answered within {DEADLINE:?}"
        );
        client.echo_all(&texts("n", 5)).await;
        client.assert_alive();
        let websockets: Vec<String> = Wire::recorded(&proxy)
            .items
            .iter()
            .filter_map(|item| match &item.what {
                crate::support::wire::What::Request(r) if r.is_websocket() => Some(r.start.clone()),
                _ => None,
            })
            .collect();
        assert!(
            websockets.is_empty(),
            "{label}: a websocket was requested: {websockets:#?}"
        );
        let logged: Vec<_> = session_requests(peer, &client.sid)
            .into_iter()
            .filter(|r| r.is_websocket())
            .collect();
        assert!(
            logged.is_empty(),
            "{label}: the peer logged a websocket: {logged:#?}"
        );
        assert_eq!(
            client.upgrade_event(),
            None,
            "{label}: no upgrade event expected"
        );
        client.close().await;
    }))
    .await;
}

// ---------------------------------------------------------------------------------------
// real peers: a slow probe

/// The slow-probe path with real servers: the peer is frozen (SIGSTOP) right after the
/// handshake, before the probe's request reaches it (a proxy holds what the client sends
/// after the handshake until then), so the probe stays pending:
/// PROBE_GRACE passes, the client polls (a GET) and POSTs its messages meanwhile, and the
/// peer answers nothing; then it resumes. Checked on the wire (through a recording
/// proxy) and in the peer's log: what was requested while the peer was frozen, that
/// nothing was answered then, that the upgrade then completes, every message arrives
/// once, in order, and nothing of the session polls after the client's `5`.
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
        let proxy = tap(peer);
        // The handshake goes through; the probe's request, sent right after it, is held
        // until the peer is frozen, so it reaches a frozen peer.
        proxy.hold_requests_after_the_next_answer();
        let client = Client::connect(label.clone(), Session::builder(proxy.url())).await;
        let frozen = peer
            .freeze()
            .unwrap_or_else(|| panic!("{label}: cannot freeze the peer"));
        proxy.release_held();
        let sid = client.sid.clone();
        assert_eq!(
            client.upgrade_event(),
            None,
            "{label}: the upgrade was over before the peer froze"
        );

        let mut expected = texts("frozen-", 20);
        client.send_all(&expected).await;
        // The probe has no answer within PROBE_GRACE: the client polls meanwhile.
        let polled = || {
            Wire::recorded(&proxy)
                .requests(&sid)
                .iter()
                .any(|(_, r)| r.method() == "GET" && r.is_polling() && r.query("sid").is_some())
        };
        assert!(
            wait_until(DEADLINE, polled).await,
            "{label}: no poll while the probe was pending"
        );
        let more = texts("still-frozen-", 20);
        client.send_all(&more).await;
        expected.extend(more);

        let during = Wire::recorded(&proxy);
        assert_eq!(
            client.upgrade_event(),
            None,
            "{label}: the upgrade completed while the peer was frozen"
        );
        frozen.resume();
        let asked = assert_frozen_wire(&label, &during, &sid);

        client.upgraded().await;
        let after = texts("after-", 20);
        client.send_all(&after).await;
        expected.extend(after);
        let got = client.wait_messages(expected.len(), DEADLINE).await;
        client.assert_alive();
        assert_texts(&label, &got, &expected);

        // The peer handled, once resumed, every request made while it was frozen.
        for start in &asked {
            let url = start.split(' ').nth(1).unwrap_or_default();
            let logged = |e: &PeerEvent| matches!(e, PeerEvent::Request(r) if r.url == url);
            assert!(
                peer_event(peer, logged).await.is_some(),
                "{label}: the peer never logged {start:?}, made while it was frozen"
            );
        }

        client.echo_all(&texts("later-", 10)).await;
        client.assert_alive();
        let wire = Wire::recorded(&proxy);
        assert_no_polling_after_the_upgrade(&label, &wire, &sid);
        peer_log_agrees(&label, peer, &proxy, &sid).await;
        let websockets = session_requests(peer, &sid)
            .iter()
            .filter(|r| r.is_websocket())
            .count();
        assert_eq!(websockets, 1, "{label}: websocket requests");
        eprintln!(
            "{label}: requests of the session: {:?}",
            wire.requests(&sid)
                .iter()
                .map(|(_, r)| if r.is_websocket() { "WS" } else { r.method() })
                .collect::<Vec<_>>()
        );
    }
}

/// What the wire shows of a session while its peer was frozen right after the handshake:
/// the probe's websocket request, a POST starting with the first message and a poll,
/// none of them answered, and no `3probe`. Returns those requests' start lines.
fn assert_frozen_wire(label: &str, during: &Wire, sid: &str) -> Vec<String> {
    let exchanges = during.exchanges(sid);
    let (handshake, asked) = exchanges
        .split_first()
        .unwrap_or_else(|| panic!("{label}: no request on the wire"));
    assert!(
        handshake.response.is_some() && handshake.request.query("sid").is_none(),
        "{label}: the handshake, answered before the freeze, comes first: {:?}",
        handshake.request.start
    );
    let answered: Vec<&str> = asked
        .iter()
        .filter(|e| e.response.is_some())
        .map(|e| e.request.start.as_str())
        .collect();
    assert!(
        answered.is_empty(),
        "{label}: answered while the peer was frozen: {answered:?}"
    );
    let has =
        |pred: &dyn Fn(&crate::support::wire::Http) -> bool| asked.iter().any(|e| pred(e.request));
    assert!(
        has(&|r| r.is_websocket()),
        "{label}: the probe's websocket was not requested during the freeze"
    );
    assert!(
        has(&|r| r.method() == "GET" && r.is_polling()),
        "{label}: no poll during the freeze"
    );
    let posted: Vec<String> = during
        .packets(sid)
        .into_iter()
        .filter(|p| p.from_client && !p.over_websocket)
        .map(|p| p.text)
        .collect();
    assert_eq!(
        posted.first().map(String::as_str),
        Some("4frozen-0"),
        "{label}: the first message was not POSTed during the freeze: {posted:?}"
    );
    let probe_answered = during
        .packets(sid)
        .iter()
        .any(|p| !p.from_client && p.text == "3probe");
    assert!(!probe_answered, "{label}: `3probe` came while frozen");
    eprintln!(
        "{label}: requested while the peer was frozen: {:?}",
        asked.iter().map(|e| &e.request.start).collect::<Vec<_>>()
    );
    asked.iter().map(|e| e.request.start.clone()).collect()
}
