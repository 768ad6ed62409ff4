//! TLS for WS-Management on port 16993: rustls with the ring provider.
//!
//! [`Trust`] says which server certificates are believed: the certificates of one CA PEM file
//! (a lab or enterprise CA), the operating system's store, or — for labs only, and named so
//! that nobody picks it by accident — any certificate at all. [`client_config`] turns it into
//! a rustls client configuration; [`Connector::tls`](crate::client::Connector::tls) wraps that
//! for the [`Client`](crate::client::Client).

use std::path::PathBuf;
use std::sync::Arc;

use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{self, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// Which server certificates a client trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Certificates issued by the CA(s) in this PEM file.
    CaFile(PathBuf),
    /// The operating system's root store.
    SystemRoots,
    /// Any certificate, unverified (the handshake signatures are still checked). Labs only.
    InsecureAcceptAnyCertificate,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The CA file could not be read.
    #[error("cannot read the CA file {path}: {source}")]
    ReadCa {
        /// The file.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The CA file holds no usable certificate.
    #[error("the CA file {0} holds no usable PEM certificate")]
    NoCertificates(String),
    /// The system store is empty or unreadable.
    #[error("no usable system root certificates: {0}")]
    NoSystemRoots(String),
    /// rustls refused the configuration.
    #[error("TLS configuration refused: {0}")]
    Config(#[from] rustls::Error),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots_from_pem(path: &PathBuf) -> Result<RootCertStore, TlsError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| TlsError::ReadCa {
        path: shown.clone(),
        source,
    })?;
    let mut roots = RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut std::io::BufReader::new(file)) {
        let cert = cert.map_err(|source| TlsError::ReadCa {
            path: shown.clone(),
            source,
        })?;
        roots.add(cert).map_err(|_| TlsError::NoCertificates(shown.clone()))?;
    }
    if roots.is_empty() {
        return Err(TlsError::NoCertificates(shown));
    }
    Ok(roots)
}

fn system_roots() -> Result<RootCertStore, TlsError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found
            .errors
            .first()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "the store is empty".into());
        return Err(TlsError::NoSystemRoots(why));
    }
    Ok(roots)
}

/// A rustls client configuration for `trust` (TLS 1.2 and 1.3, no client certificate).
pub fn client_config(trust: &Trust) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let config = match trust {
        Trust::CaFile(path) => builder.with_root_certificates(roots_from_pem(path)?),
        Trust::SystemRoots => builder.with_root_certificates(system_roots()?),
        Trust::InsecureAcceptAnyCertificate => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider))),
    }
    .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The name the certificate is checked against: a DNS name, or an IP address literal.
pub fn server_name(host: &str) -> Option<ServerName<'static>> {
    ServerName::try_from(host.to_owned()).ok()
}

/// Accepts any server certificate; still checks that the handshake was signed by its key.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_sources_fail_in_plain_words() {
        let e = client_config(&Trust::CaFile("/nonexistent/ca.pem".into())).unwrap_err();
        assert!(
            e.to_string().contains("cannot read the CA file /nonexistent/ca.pem"),
            "{e}"
        );
        let empty = std::env::temp_dir().join(format!("amt-tls-empty-{}.pem", std::process::id()));
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = client_config(&Trust::CaFile(empty.clone())).unwrap_err();
        assert!(matches!(e, TlsError::NoCertificates(_)), "{e}");
        let _ = std::fs::remove_file(empty);
        assert!(client_config(&Trust::InsecureAcceptAnyCertificate).is_ok());
        assert!(server_name("127.1.0.1").is_some());
        assert!(server_name("amt1.example.test").is_some());
        assert!(server_name("not a name").is_none());
    }
}
