//! Certificates that do not verify are refused at connect time, before any HTTP request:
//! an unknown issuer (default roots, or another CA), a wrong host name (even with the CA);
//! sessions that trust more do not weaken later ones; plain HTTP to a TLS server fails.

use actix_engineio::{Close, DisconnectReason, Payload, Send, Session};

use super::{assert_certificate_refused, refused, tls_peer, UNKNOWN_ISSUER, WRONG_NAME};
use crate::support::client::{Events, DEADLINE};
use crate::support::pki::TestCa;

#[actix_rt::test]
async fn unknown_issuer_is_refused_with_default_roots() {
    let ca = TestCa::new("an unknown CA");
    let Some(peer) = tls_peer(ca.localhost_identity()) else {
        return;
    };
    refused(
        &peer,
        Session::builder(peer.url()).transports(["polling"]),
        UNKNOWN_ISSUER,
        "polling without the CA",
    )
    .await;
    refused(
        &peer,
        Session::builder(peer.url()).transports(["websocket"]),
        UNKNOWN_ISSUER,
        "websocket without the CA",
    )
    .await;
    refused(
        &peer,
        Session::builder(peer.url()),
        UNKNOWN_ISSUER,
        "default transports without the CA",
    )
    .await;
}

#[actix_rt::test]
async fn a_different_ca_does_not_help() {
    let ca = TestCa::new("the server's CA");
    let other = TestCa::new("another CA");
    let Some(peer) = tls_peer(ca.localhost_identity()) else {
        return;
    };
    refused(
        &peer,
        Session::builder(peer.url())
            .transports(["polling"])
            .ca_certificate_pem(other.pem()),
        UNKNOWN_ISSUER,
        "polling trusting another CA",
    )
    .await;
    refused(
        &peer,
        Session::builder(peer.url())
            .transports(["websocket"])
            .ca_certificate_pem(other.pem()),
        UNKNOWN_ISSUER,
        "websocket trusting another CA",
    )
    .await;
}

#[actix_rt::test]
async fn wrong_host_name_is_refused_even_with_the_ca() {
    let ca = TestCa::new("actix-engineio test CA");
    let Some(peer) = tls_peer(ca.server_identity(&["example.com"])) else {
        return;
    };
    refused(
        &peer,
        Session::builder(peer.url())
            .transports(["polling"])
            .ca_certificate_pem(ca.pem()),
        WRONG_NAME,
        "polling, certificate for example.com",
    )
    .await;
    refused(
        &peer,
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
        &peer,
        Session::builder(url)
            .transports(["polling"])
            .ca_certificate_pem(ca.pem()),
        WRONG_NAME,
        "polling to localhost, certificate for example.com",
    )
    .await;
}

/// Sessions of one thread share HTTP clients (and their connection pools) by TLS settings:
/// an insecure or CA-trusting session, even still open, must not let a later verifying
/// session reuse its connections.
#[actix_rt::test]
async fn earlier_sessions_do_not_weaken_verification() {
    let ca = TestCa::new("actix-engineio test CA");
    let Some(peer) = tls_peer(ca.localhost_identity()) else {
        return;
    };

    let insecure = Events::default();
    let insecure_session = insecure
        .subscribe(Session::builder(peer.url()).ssl_verify(false))
        .connect()
        .await
        .expect("insecure session");
    insecure_session
        .send(Send::text("a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(insecure.messages(1).await, [Payload::from("a")]);

    let trusted = Events::default();
    let trusted_session = trusted
        .subscribe(
            Session::builder(peer.url())
                .transports(["polling"])
                .ca_certificate_pem(ca.pem()),
        )
        .connect()
        .await
        .expect("session trusting the CA");
    trusted_session
        .send(Send::text("b"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(trusted.messages(1).await, [Payload::from("b")]);

    for transports in ["polling", "websocket"] {
        let result = Session::builder(peer.url())
            .transports([transports])
            .connect()
            .await;
        assert_certificate_refused(
            result,
            UNKNOWN_ISSUER,
            &format!("{transports} with default roots while others are open"),
        );
    }

    insecure_session.send(Close).await.unwrap();
    trusted_session.send(Close).await.unwrap();
    assert_eq!(
        insecure.disconnect().await,
        DisconnectReason::ClientDisconnect
    );
    assert_eq!(
        trusted.disconnect().await,
        DisconnectReason::ClientDisconnect
    );

    // And once they are closed, too.
    let result = Session::builder(peer.url())
        .transports(["polling"])
        .connect()
        .await;
    assert_certificate_refused(result, UNKNOWN_ISSUER, "polling after the others closed");
}

#[actix_rt::test]
async fn plain_http_client_to_tls_peer_fails_cleanly() {
    // The TLS peer does not speak plain HTTP: a connect to http:// fails (not hangs).
    let ca = TestCa::new("actix-engineio test CA");
    let Some(peer) = tls_peer(ca.localhost_identity()) else {
        return;
    };
    let url = peer.url().replacen("https://", "http://", 1);
    let started = std::time::Instant::now();
    let result = Session::builder(url)
        .transports(["polling"])
        .request_timeout(std::time::Duration::from_secs(5))
        .connect()
        .await;
    assert!(result.is_err(), "plain http to a TLS server connected");
    assert!(started.elapsed() < DEADLINE, "took {:?}", started.elapsed());
}
