//! A small client of a running `vitalcheck run`'s API: one `GET` on a fresh loopback
//! connection, the JSON answer decoded. Used by `status`, which asks the running instance
//! before it falls back to the store.

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;

/// The largest answer read (100,000 status lines take about 30 MB).
const BODY_LIMIT: usize = 512 << 20;

/// Why the API gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiClientError {
    /// No answer within the time allowed.
    #[error("no answer from http://{addr} within {timeout:?}")]
    Timeout { addr: SocketAddr, timeout: Duration },
    /// The connection or the exchange failed.
    #[error("http://{addr}{path}: {what}")]
    Failed { addr: SocketAddr, path: String, what: String },
    /// An answer other than 200, with the API's error text.
    #[error("http://{addr}{path} answered {status}: {message}")]
    Status { addr: SocketAddr, path: String, status: u16, message: String },
}

/// `GET path` on `addr`, decoded from JSON; everything within `timeout`.
pub(crate) async fn get_json<T: DeserializeOwned>(
    addr: SocketAddr,
    path: &str,
    timeout: Duration,
) -> Result<T, ApiClientError> {
    tokio::time::timeout(timeout, get(addr, path)).await.map_err(|_| ApiClientError::Timeout { addr, timeout })?
}

async fn get<T: DeserializeOwned>(addr: SocketAddr, path: &str) -> Result<T, ApiClientError> {
    let failed = |what: String| ApiClientError::Failed { addr, path: path.to_owned(), what };
    let stream = TcpStream::connect(addr).await.map_err(|e| failed(format!("cannot connect: {e}")))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| failed(e.to_string()))?;
    let driver = tokio::spawn(connection);
    let request = http::Request::get(path)
        .header(http::header::HOST, addr.to_string())
        .header(http::header::ACCEPT, "application/json")
        .body(Empty::<Bytes>::new())
        .map_err(|e| failed(e.to_string()))?;
    let response = sender.send_request(request).await.map_err(|e| failed(e.to_string()))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), BODY_LIMIT).collect().await;
    driver.abort();
    let body = body.map_err(|e| failed(format!("cannot read the answer: {e}")))?.to_bytes();
    if !status.is_success() {
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
        return Err(ApiClientError::Status { addr, path: path.to_owned(), status: status.as_u16(), message });
    }
    serde_json::from_slice(&body).map_err(|e| failed(format!("not the expected JSON: {e}")))
}
