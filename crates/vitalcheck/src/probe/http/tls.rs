//! TLS for `https://` targets: the shared rustls configurations and the handshake.
//!
//! Always built with the ring provider, explicitly: `ClientConfig::builder()` panics when
//! another crate in the build also enables aws-lc-rs.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::io;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use url::{Host, Url};

/// The ALPN protocols offered, best first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The root store: the OS store (honouring `SSL_CERT_FILE` / `SSL_CERT_DIR`), or the
/// compiled-in Mozilla roots when the OS store is empty (scratch or distroless images).
fn roots() -> RootCertStore {
    let mut store = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let _ = store.add_parsable_certificates(native.certs);
    if store.is_empty() {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    store
}

/// The verifying configuration (ALPN h2 + http/1.1, default session resumption).
pub(super) fn verifying_config() -> Result<Arc<ClientConfig>, rustls::Error> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots())
        .with_no_client_auth();
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The configuration for `insecure` probes: any certificate is accepted, but handshake
/// signatures are still verified.
pub(super) fn insecure_config() -> Result<Arc<ClientConfig>, rustls::Error> {
    let provider = provider();
    let verifier = AcceptAnyCert { algorithms: provider.signature_verification_algorithms };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// Runs the TLS handshake on `stream` for the host of `url` (SNI for names; IP literals are
/// checked against the certificate's IP addresses). Returns the stream and whether the
/// server chose HTTP/2.
pub(super) async fn handshake(
    config: Arc<ClientConfig>,
    url: &Url,
    stream: TcpStream,
) -> io::Result<(TlsStream<TcpStream>, bool)> {
    let name = match url.host() {
        Some(Host::Ipv4(ip)) => ServerName::from(std::net::IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => ServerName::from(std::net::IpAddr::V6(ip)),
        Some(Host::Domain(d)) => {
            ServerName::try_from(d.to_string()).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?
        }
        None => return Err(io::Error::new(io::ErrorKind::InvalidInput, "the URL has no host")),
    };
    let tls = TlsConnector::from(config).connect(name, stream).await?;
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    Ok((tls, h2))
}

/// A short detail for a failed handshake: the typed rustls error when there is one.
pub(super) fn describe(err: &io::Error) -> String {
    match err.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(tls) => format!("TLS handshake failed: {tls}"),
        None => match err.kind() {
            io::ErrorKind::UnexpectedEof => "the server closed the connection during the TLS handshake".into(),
            io::ErrorKind::InvalidInput => format!("cannot use the host name for TLS: {err}"),
            _ => format!("TLS handshake failed: {}", err.kind()),
        },
    }
}

/// Accepts any server certificate (`insecure = true`), still checking that the server
/// holds the key of the certificate it sent.
#[derive(Debug)]
struct AcceptAnyCert {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCert {
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
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
