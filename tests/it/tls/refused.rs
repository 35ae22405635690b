//! Certificates that do not verify are refused at connect time, before any HTTP request:
//! an unknown issuer (default roots, or another CA), a wrong host name (even with the CA);
//! sessions that trust more do not weaken later ones; plain HTTP to a TLS server is a lost
//! connection. Every refusal is checked for its exact error, and to arrive well before the
//! request timeout.

use actix_engineio::{
    Close, ConnectError, DisconnectReason, Payload, Send, Session, TransportError,
};

use super::{
    assert_certificate_refused, connect_expecting_failure, label, refused, tls_peers,
    UNKNOWN_ISSUER, WRONG_NAME,
};
use crate::support::client::Events;
use crate::support::pki::TestCa;

#[actix_rt::test]
async fn unknown_issuer_is_refused_with_default_roots() {
    let ca = TestCa::new("an unknown CA");
    for peer in &tls_peers(ca.localhost_identity()) {
        refused(
            peer,
            Session::builder(peer.url()).transports(["polling"]),
            UNKNOWN_ISSUER,
            "polling without the CA",
        )
        .await;
        refused(
            peer,
            Session::builder(peer.url()).transports(["websocket"]),
            UNKNOWN_ISSUER,
            "websocket without the CA",
        )
        .await;
        refused(
            peer,
            Session::builder(peer.url()),
            UNKNOWN_ISSUER,
            "default transports without the CA",
        )
        .await;
    }
}

#[actix_rt::test]
async fn a_different_ca_does_not_help() {
    let ca = TestCa::new("the server's CA");
    let other = TestCa::new("another CA");
    for peer in &tls_peers(ca.localhost_identity()) {
        refused(
            peer,
            Session::builder(peer.url())
                .transports(["polling"])
                .ca_certificate_pem(other.pem()),
            UNKNOWN_ISSUER,
            "polling trusting another CA",
        )
        .await;
        refused(
            peer,
            Session::builder(peer.url())
                .transports(["websocket"])
                .ca_certificate_pem(other.pem()),
            UNKNOWN_ISSUER,
            "websocket trusting another CA",
        )
        .await;
    }
}

#[actix_rt::test]
async fn wrong_host_name_is_refused_even_with_the_ca() {
    let ca = TestCa::new("actix-engineio test CA");
    for peer in &tls_peers(ca.server_identity(&["example.com"])) {
        refused(
            peer,
            Session::builder(peer.url())
                .transports(["polling"])
                .ca_certificate_pem(ca.pem()),
            WRONG_NAME,
            "polling, certificate for example.com",
        )
        .await;
        refused(
            peer,
            Session::builder(peer.url())
                .transports(["websocket"])
                .ca_certificate_pem(ca.pem()),
            WRONG_NAME,
            "websocket, certificate for example.com",
        )
        .await;
        // `localhost` is not in the certificate either.
        let url = peer.url().replace("127.0.0.1", "localhost");
        refused(
            peer,
            Session::builder(url)
                .transports(["polling"])
                .ca_certificate_pem(ca.pem()),
            WRONG_NAME,
            "polling to localhost, certificate for example.com",
        )
        .await;
    }
}

/// Sessions of one thread share HTTP clients (and their connection pools) by TLS settings:
/// an insecure or CA-trusting session, even still open, must not let a later verifying
/// session reuse its connections.
#[actix_rt::test]
async fn earlier_sessions_do_not_weaken_verification() {
    let ca = TestCa::new("actix-engineio test CA");
    for peer in &tls_peers(ca.localhost_identity()) {
        let l = label(peer);
        let insecure = Events::default();
        let insecure_session = insecure
            .subscribe(Session::builder(peer.url()).ssl_verify(false))
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{l}: insecure session: {e:?}"));
        insecure_session
            .send(Send::text("a"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(insecure.messages(1).await, [Payload::from("a")], "{l}");

        let trusted = Events::default();
        let trusted_session = trusted
            .subscribe(
                Session::builder(peer.url())
                    .transports(["polling"])
                    .ca_certificate_pem(ca.pem()),
            )
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{l}: session trusting the CA: {e:?}"));
        trusted_session
            .send(Send::text("b"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(trusted.messages(1).await, [Payload::from("b")], "{l}");

        for transports in ["polling", "websocket"] {
            let what = format!("{l} {transports} with default roots while others are open");
            let result = connect_expecting_failure(
                Session::builder(peer.url()).transports([transports]),
                &what,
            )
            .await;
            assert_certificate_refused(result, UNKNOWN_ISSUER, &what);
        }

        insecure_session.send(Close).await.unwrap();
        trusted_session.send(Close).await.unwrap();
        assert_eq!(
            insecure.disconnect().await,
            DisconnectReason::ClientDisconnect,
            "{l}"
        );
        assert_eq!(
            trusted.disconnect().await,
            DisconnectReason::ClientDisconnect,
            "{l}"
        );

        // And once they are closed, too.
        let what = format!("{l} polling after the others closed");
        let result =
            connect_expecting_failure(Session::builder(peer.url()).transports(["polling"]), &what)
                .await;
        assert_certificate_refused(result, UNKNOWN_ISSUER, &what);
    }
}

/// A TLS server does not speak plain HTTP: a `http://` connect to it is answered by the
/// server closing the connection, which the client reports as a lost connection at once,
/// not as a timeout nor as success.
#[actix_rt::test]
async fn plain_http_to_a_tls_peer_is_a_lost_connection() {
    let ca = TestCa::new("actix-engineio test CA");
    for peer in &tls_peers(ca.localhost_identity()) {
        let url = peer.url().replacen("https://", "http://", 1);
        for transports in ["polling", "websocket"] {
            let what = format!("{} plain http, {transports}", label(peer));
            let result =
                connect_expecting_failure(Session::builder(&url).transports([transports]), &what)
                    .await;
            match result {
                Err(ConnectError::Transport(TransportError::ConnectionLost(cause))) => {
                    assert!(!cause.is_empty(), "{what}: empty cause");
                }
                Err(other) => {
                    panic!("{what}: expected Transport(ConnectionLost(_)), got {other:?}")
                }
                Ok(_) => panic!("{what}: connected over plain http to a TLS server"),
            }
            assert!(
                peer.requests().is_empty(),
                "{what}: a request reached the engine.io server: {:?}",
                peer.requests()
            );
        }
    }
}
