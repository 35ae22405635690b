//! The HTTP client of a session: TLS roots, certificate checks, the client certificate
//! of mutual TLS, HTTP/1.1 only, and the proxy its connections go through.
//!
//! Websockets cannot be tunnelled over HTTP/2 by awc, so ALPN offers `http/1.1` only.

use std::cell::RefCell;
use std::time::Duration;

use actix_rt::net::ActixStream;
use actix_service::Service;
use actix_tls::connect::{ConnectError, ConnectInfo, Connection};
use awc::http::Uri;

use super::proxy::ProxyConnector;
use crate::config::{ProxyUrl, TlsOptions};
use crate::error::ConfigError;

/// Clients kept per thread, the oldest dropped first.
const MAX_CACHED_CLIENTS: usize = 8;

/// What a cached client was built for.
type ClientKey = (TlsOptions, Duration, Option<ProxyUrl>);

thread_local! {
    /// Clients already built on this thread, by settings: sessions share a connection
    /// pool and do not reload root certificates each time.
    static CLIENTS: RefCell<Vec<(ClientKey, awc::Client)>> = const { RefCell::new(Vec::new()) };
}

/// A client for `tls` (through `proxy`, if given), shared with earlier sessions of this
/// thread that used the same settings.
pub(crate) fn client(
    tls: &TlsOptions,
    connect_timeout: Duration,
    proxy: Option<&ProxyUrl>,
) -> Result<awc::Client, ConfigError> {
    let key: ClientKey = (tls.clone(), connect_timeout, proxy.cloned());
    let cached = CLIENTS.with_borrow(|clients| {
        clients
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, client)| client.clone())
    });
    if let Some(client) = cached {
        return Ok(client);
    }
    let connector = awc::Connector::new().limit(0).timeout(connect_timeout);
    // Through a proxy, every connection (pooled polling ones and websockets alike) is a
    // tunnel that awc then treats as a connection to the server, TLS included.
    let client = match proxy {
        None => finish(connector, tls)?,
        Some(proxy) => finish(connector.connector(ProxyConnector::new(proxy.clone())), tls)?,
    };
    CLIENTS.with_borrow_mut(|clients| {
        // A few settings are common; many different ones would only grow the cache.
        if clients.len() == MAX_CACHED_CLIENTS {
            clients.remove(0);
        }
        clients.push((key, client.clone()));
    });
    Ok(client)
}

/// Adds TLS to `connector` and builds the client.
fn finish<S, Io>(connector: awc::Connector<S>, tls: &TlsOptions) -> Result<awc::Client, ConfigError>
where
    S: Service<ConnectInfo<Uri>, Response = Connection<Uri, Io>, Error = ConnectError>
        + Clone
        + 'static,
    Io: ActixStream + std::fmt::Debug + 'static,
{
    #[cfg(feature = "rustls")]
    let connector = connector.rustls_0_23(rustls_tls::config(tls)?);
    #[cfg(all(feature = "openssl", not(feature = "rustls")))]
    let connector = connector.openssl(openssl_tls::connector(tls)?);
    #[cfg(not(any(feature = "rustls", feature = "openssl")))]
    no_tls(tls)?;
    Ok(awc::Client::builder()
        .connector(connector)
        .disable_timeout()
        .disable_redirects()
        .finish())
}

/// Without a TLS feature only plain `http`/`ws` work; extra CA certificates make no sense.
#[cfg(not(any(feature = "rustls", feature = "openssl")))]
fn no_tls(tls: &TlsOptions) -> Result<(), ConfigError> {
    if tls.ca_pem.is_empty() && tls.client_identity.is_none() {
        Ok(())
    } else {
        Err(ConfigError::Tls(
            "built without TLS: enable the rustls or openssl feature".into(),
        ))
    }
}

#[cfg(feature = "rustls")]
mod rustls_tls {
    use std::sync::Arc;

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
    use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

    use super::{ConfigError, TlsOptions};
    use crate::config::ClientIdentity;

    pub(super) fn config(tls: &TlsOptions) -> Result<Arc<ClientConfig>, ConfigError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| ConfigError::Tls(e.to_string()))?;
        // Parsed even when unused, so that a bad CA is reported either way.
        let roots = roots(&tls.ca_pem)?;
        let builder = if tls.verify {
            builder.with_root_certificates(roots)
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
        };
        let mut config = match &tls.client_identity {
            None => builder.with_no_client_auth(),
            Some(identity) => {
                let (chain, key) = client_identity(identity)?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| ConfigError::Tls(format!("bad client certificate or key: {e}")))?
            }
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// The client's certificate chain and private key, from their PEM.
    fn client_identity(
        identity: &ClientIdentity,
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), ConfigError> {
        let chain = CertificateDer::pem_slice_iter(&identity.cert_chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ConfigError::Tls(format!("bad client certificate: {e}")))?;
        if chain.is_empty() {
            return Err(ConfigError::Tls(
                "no certificate in the client certificate PEM".into(),
            ));
        }
        // The parser's error never quotes the key.
        let key = PrivateKeyDer::from_pem_slice(&identity.key_pem)
            .map_err(|e| ConfigError::Tls(format!("bad client key: {e}")))?;
        Ok((chain, key))
    }

    fn roots(extra_pem: &[Vec<u8>]) -> Result<RootCertStore, ConfigError> {
        let mut roots = RootCertStore::empty();
        #[cfg(feature = "webpki-roots")]
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        #[cfg(feature = "native-roots")]
        for cert in rustls_native_certs::load_native_certs().certs {
            // A system root rustls cannot parse is skipped, as browsers do.
            let _ = roots.add(cert);
        }
        for pem in extra_pem {
            let mut found = false;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert =
                    cert.map_err(|e| ConfigError::Tls(format!("bad CA certificate: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| ConfigError::Tls(format!("bad CA certificate: {e}")))?;
                found = true;
            }
            if !found {
                return Err(ConfigError::Tls("no certificate in the CA PEM".into()));
            }
        }
        Ok(roots)
    }

    /// What `ssl_verify(false)` asks for: any certificate is accepted, but the
    /// handshake signatures are still checked so the connection is well formed.
    #[derive(Debug)]
    struct AcceptAnyCertificate(Arc<CryptoProvider>);

    impl ServerCertVerifier for AcceptAnyCertificate {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
}

#[cfg(all(feature = "openssl", not(feature = "rustls")))]
mod openssl_tls {
    use openssl::pkey::PKey;
    use openssl::ssl::{SslConnector, SslConnectorBuilder, SslMethod, SslVerifyMode};
    use openssl::x509::X509;

    use super::{ConfigError, TlsOptions};
    use crate::config::ClientIdentity;

    pub(super) fn connector(tls: &TlsOptions) -> Result<SslConnector, ConfigError> {
        let err = |e: openssl::error::ErrorStack| ConfigError::Tls(e.to_string());
        let mut builder = SslConnector::builder(SslMethod::tls()).map_err(err)?;
        if !tls.verify {
            builder.set_verify(SslVerifyMode::NONE);
        }
        for pem in &tls.ca_pem {
            let certs = X509::stack_from_pem(pem).map_err(err)?;
            if certs.is_empty() {
                return Err(ConfigError::Tls("no certificate in the CA PEM".into()));
            }
            for cert in certs {
                builder.cert_store_mut().add_cert(cert).map_err(err)?;
            }
        }
        if let Some(identity) = &tls.client_identity {
            client_identity(&mut builder, identity)?;
        }
        builder.set_alpn_protos(b"\x08http/1.1").map_err(err)?;
        Ok(builder.build())
    }

    /// Shows the client's certificate chain (leaf first) and proves its key.
    fn client_identity(
        builder: &mut SslConnectorBuilder,
        identity: &ClientIdentity,
    ) -> Result<(), ConfigError> {
        let err = |what: &str, e: openssl::error::ErrorStack| {
            ConfigError::Tls(format!("bad client {what}: {e}"))
        };
        let mut chain = X509::stack_from_pem(&identity.cert_chain_pem)
            .map_err(|e| err("certificate", e))?
            .into_iter();
        let leaf = chain.next().ok_or_else(|| {
            ConfigError::Tls("no certificate in the client certificate PEM".into())
        })?;
        builder
            .set_certificate(&leaf)
            .map_err(|e| err("certificate", e))?;
        for cert in chain {
            builder
                .add_extra_chain_cert(cert)
                .map_err(|e| err("certificate chain", e))?;
        }
        let key = PKey::private_key_from_pem(&identity.key_pem).map_err(|e| err("key", e))?;
        builder.set_private_key(&key).map_err(|e| err("key", e))?;
        builder
            .check_private_key()
            .map_err(|e| err("key (it does not match the certificate)", e))
    }
}
