//! One `POST` of a JSON body over a fresh connection: http or https (rustls with the ring
//! provider and the webpki roots, plus the notifier's `ca` certificates when it has some),
//! HTTP/1.1, hyper's client connection. Errors name what failed, never the URL (it may
//! hold a token).

use crate::config::CaFile;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::sync::{Arc, OnceLock};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use url::Url;

/// How much of an answer is read (and dropped).
const BODY_LIMIT: usize = 64 * 1024;

/// Sends `body` to `url` with `headers`; `Ok` on a 2xx answer, else what went wrong.
pub(crate) async fn post(
    url: &Url,
    ca: Option<&CaFile>,
    headers: &[(String, String)],
    body: Bytes,
) -> Result<u16, String> {
    let host = url.host_str().ok_or("the URL has no host")?.trim_start_matches('[').trim_end_matches(']');
    let port = url.port_or_known_default().unwrap_or(80);
    let stream = TcpStream::connect((host, port)).await.map_err(|e| format!("cannot connect: {}", e.kind()))?;
    if url.scheme() == "https" {
        let config = match ca {
            None => tls_config()?,
            Some(ca) => tls_config_with(ca)?,
        };
        let name = rustls_pki_types::ServerName::try_from(host.to_string()).map_err(|_| "not a TLS server name")?;
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, stream)
            .await
            .map_err(|e| format!("TLS handshake failed: {e}"))?;
        exchange(tls, url, headers, body).await
    } else {
        exchange(stream, url, headers, body).await
    }
}

async fn exchange<S>(io: S, url: &Url, headers: &[(String, String)], body: Bytes) -> Result<u16, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(io)).await.map_err(|e| format!("HTTP handshake: {e}"))?;
    let driver = tokio::spawn(connection);
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let authority = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let mut request = http::Request::post(path)
        .header(http::header::HOST, authority)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::USER_AGENT, concat!("vitalcheck/", env!("CARGO_PKG_VERSION")));
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request.body(Full::new(body)).map_err(|_| "invalid request header".to_string())?;
    let response = sender.send_request(request).await.map_err(|e| format!("no answer: {e}"));
    let result = match response {
        Ok(response) => {
            let status = response.status();
            // Read (a bounded part of) the answer so the exchange completes cleanly.
            let _ = Limited::new(response.into_body(), BODY_LIMIT).collect().await;
            if status.is_success() { Ok(status.as_u16()) } else { Err(format!("answered HTTP {}", status.as_u16())) }
        }
        Err(e) => Err(e),
    };
    driver.abort();
    result
}

/// The shared client configuration: ring provider, webpki roots, built once.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG.get_or_init(|| client_config(webpki_roots())).clone()
}

/// A configuration that also trusts the certificates of `ca`; built for each delivery
/// (alerts are rare).
fn tls_config_with(ca: &CaFile) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = webpki_roots();
    let mut added = 0;
    for cert in CertificateDer::pem_slice_iter(ca.pem()) {
        let cert = cert.map_err(|e| format!("the CA file {} cannot be read: {e}", ca.path().display()))?;
        roots.add(cert).map_err(|e| format!("the CA file {} holds a bad certificate: {e}", ca.path().display()))?;
        added += 1;
    }
    if added == 0 {
        return Err(format!("the CA file {} holds no certificate", ca.path().display()));
    }
    client_config(roots)
}

fn webpki_roots() -> rustls::RootCertStore {
    rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }
}

fn client_config(roots: rustls::RootCertStore) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
        .map_err(|e| format!("cannot build the TLS configuration: {e}"))
}
