//! Sessions that verify, against every peer: with the test CA trusted (`ca_certificate_pem`
//! or `ca_file`) in every mode, to `localhost` by name, and with `ssl_verify(false)` whatever
//! the certificate.

use actix_engineio::{Close, DisconnectReason, Payload, Send, Session, TransportKind, Upgrade};

use super::{label, tls_peers, CaSource, Mode};
use crate::support::client::{peer_event, Events};
use crate::support::peers::{Peer, PeerEvent, TlsIdentity};
use crate::support::pki::{TempFile, TestCa};

/// Opens a session in `mode` trusting `ca` the `source` way, checks it echoes text and
/// binary (after the upgrade too, in upgrade mode), and closes it.
async fn echo_over_tls(peer: &Peer, ca: &TestCa, mode: Mode, source: CaSource) {
    let what = format!("{} {mode:?} with the CA from {source:?}", label(peer));
    let file;
    let builder = match source {
        CaSource::Pem => mode.builder(peer).ca_certificate_pem(ca.pem()),
        CaSource::File => {
            file = TempFile::new("ca", ca.pem().as_bytes());
            mode.builder(peer).ca_file(file.path())
        }
    };
    let events = Events::default();
    let session = events
        .subscribe(builder)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{what}: connect failed: {e:?}"));
    let connect = events.connect().expect("Connect before connect() returns");
    assert_eq!(connect.transport, mode.first_transport(), "{what}");
    let sid = connect.sid.clone();

    let mut expected = vec![
        Payload::from("hello over tls"),
        Payload::from(vec![0u8, 1, 0x1e, 0xff]),
    ];
    session
        .send(Send::text("hello over tls"))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{what}: send text: {e:?}"));
    session
        .send(Send::binary(vec![0u8, 1, 0x1e, 0xff]))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{what}: send binary: {e:?}"));
    let got = events.messages(2).await;
    assert_eq!(got, expected, "{what}: echoes; seen {:?}", events.all());

    if let Mode::Upgrade = mode {
        assert_eq!(
            events.upgrade().await,
            Upgrade::Completed(TransportKind::WebSocket),
            "{what}: seen {:?}",
            events.all()
        );
        session
            .send(Send::text("after upgrade"))
            .await
            .unwrap()
            .unwrap();
        session
            .send(Send::binary(vec![9u8; 3]))
            .await
            .unwrap()
            .unwrap();
        expected.push(Payload::from("after upgrade"));
        expected.push(Payload::from(vec![9u8; 3]));
        let got = events.messages(4).await;
        assert_eq!(
            got,
            expected,
            "{what}: echoes after the upgrade; seen {:?}",
            events.all()
        );
    }

    // The peer saw the session open on the transport the mode implies, and in upgrade mode
    // the websocket request of the upgrade (every request reached it over TLS: the peer
    // speaks nothing else).
    let opened = peer_event(
        peer,
        |e| matches!(e, PeerEvent::Connect { sid: s, .. } if *s == sid),
    )
    .await;
    assert_eq!(
        opened,
        Some(PeerEvent::Connect {
            sid: sid.clone(),
            transport: mode.first_transport().as_str().to_string(),
        }),
        "{what}: the peer's connect"
    );
    match mode {
        Mode::Polling => {
            let requests = peer.requests();
            assert!(
                !requests.iter().any(|r| r.is_websocket()),
                "{what}: a websocket request in polling mode: {requests:?}"
            );
        }
        Mode::Upgrade => {
            let upgrade = peer_event(peer, |e| {
                matches!(e, PeerEvent::Request(r)
                    if r.is_websocket() && r.query("sid").as_deref() == Some(sid.as_str()))
            })
            .await;
            assert!(
                upgrade.is_some(),
                "{what}: no upgrade request for {sid}: {:?}",
                peer.requests()
            );
        }
        Mode::WebSocket | Mode::WebSocketWssUrl => {}
    }

    session.send(Close).await.unwrap();
    assert_eq!(
        events.disconnect().await,
        DisconnectReason::ClientDisconnect,
        "{what}"
    );
    let closed = peer_event(
        peer,
        |e| matches!(e, PeerEvent::Close { sid: s, .. } if *s == sid),
    )
    .await;
    assert!(
        closed.is_some(),
        "{what}: the peer never saw the session {sid} close"
    );
}

async fn echo_both_ca_sources(mode: Mode) {
    let ca = TestCa::new("actix-engineio test CA");
    for peer in &tls_peers(ca.localhost_identity()) {
        echo_over_tls(peer, &ca, mode, CaSource::Pem).await;
        echo_over_tls(peer, &ca, mode, CaSource::File).await;
    }
}

#[actix_rt::test]
async fn trusted_ca_polling_only_echoes() {
    echo_both_ca_sources(Mode::Polling).await;
}

#[actix_rt::test]
async fn trusted_ca_websocket_only_echoes() {
    echo_both_ca_sources(Mode::WebSocket).await;
}

#[actix_rt::test]
async fn trusted_ca_websocket_only_from_wss_url_echoes() {
    echo_both_ca_sources(Mode::WebSocketWssUrl).await;
}

#[actix_rt::test]
async fn trusted_ca_polling_upgrades_to_websocket_and_echoes() {
    echo_both_ca_sources(Mode::Upgrade).await;
}

#[actix_rt::test]
async fn localhost_name_verifies() {
    let ca = TestCa::new("actix-engineio test CA");
    for peer in &tls_peers(ca.localhost_identity()) {
        let l = label(peer);
        let url = peer.url().replace("127.0.0.1", "localhost");
        let events = Events::default();
        let session = events
            .subscribe(
                Session::builder(url)
                    .transports(["websocket"])
                    .ca_certificate_pem(ca.pem()),
            )
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{l}: https://localhost with the CA: {e:?}"));
        session.send(Send::text("hi")).await.unwrap().unwrap();
        assert_eq!(events.messages(1).await, [Payload::from("hi")], "{l}");
        session.send(Close).await.unwrap();
        assert_eq!(
            events.disconnect().await,
            DisconnectReason::ClientDisconnect,
            "{l}"
        );
    }
}

/// `ssl_verify(false)` without any CA: connects and echoes in every mode, on every peer.
async fn insecure_echoes(identity: TlsIdentity) {
    for peer in &tls_peers(identity) {
        for mode in [
            Mode::Polling,
            Mode::WebSocket,
            Mode::WebSocketWssUrl,
            Mode::Upgrade,
        ] {
            let what = format!("{} {mode:?} with ssl_verify(false)", label(peer));
            let events = Events::default();
            let session = events
                .subscribe(mode.builder(peer).ssl_verify(false))
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{what}: {e:?}"));
            assert_eq!(
                events.connect().map(|c| c.transport),
                Some(mode.first_transport()),
                "{what}"
            );
            session.send(Send::text("insecure")).await.unwrap().unwrap();
            session
                .send(Send::binary(vec![7u8, 0, 7]))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                events.messages(2).await,
                [Payload::from("insecure"), Payload::from(vec![7u8, 0, 7])],
                "{what}: seen {:?}",
                events.all()
            );
            if let Mode::Upgrade = mode {
                assert_eq!(
                    events.upgrade().await,
                    Upgrade::Completed(TransportKind::WebSocket),
                    "{what}"
                );
            }
            session.send(Close).await.unwrap();
            assert_eq!(
                events.disconnect().await,
                DisconnectReason::ClientDisconnect,
                "{what}"
            );
        }
    }
}

#[actix_rt::test]
async fn ssl_verify_false_accepts_an_unknown_issuer() {
    insecure_echoes(TestCa::new("an unknown CA").localhost_identity()).await;
}

#[actix_rt::test]
async fn ssl_verify_false_accepts_a_wrong_host_name() {
    insecure_echoes(TestCa::new("an unknown CA").server_identity(&["example.com"])).await;
}
