//! The proxy probe against real loopback proxies written here: a minimal HTTP forward proxy
//! (absolute-form GET and CONNECT, optionally requiring Basic credentials) and a minimal
//! SOCKS5 server (no authentication, or user name and password), in front of a loopback
//! origin. A pool of three of each kind: good, refusing, requiring credentials.

#![allow(clippy::unwrap_used)]

mod support;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt, copy_bidirectional};
use tokio::net::TcpStream;
use vitalcheck::probe::{ErrorKind, Observation, Phase, ProbeContext, ProbeError, ProxyProbe, Target};

const LONG: Duration = Duration::from_secs(10);
const SHORT: Duration = Duration::from_millis(300);
/// The proxies' password; it must never show up in any message.
const PASSWORD: &str = "s3cret-pw";
/// `Basic base64("user:s3cret-pw")`.
const BASIC: &str = "Basic dXNlcjpzM2NyZXQtcHc=";

async fn origin() -> SocketAddr {
    let router = Router::new()
        .route("/ok", get(|| async { "hello through the proxy" }))
        .route("/teapot", get(|| async { (StatusCode::IM_A_TEAPOT, "short and stout") }));
    serve(router).await
}

/// A forward proxy: absolute-form GET (forwarded with `Connection: close`) and CONNECT.
/// With `require_auth`, anything without the right `Proxy-Authorization` gets 407.
async fn http_proxy(require_auth: bool) -> SocketAddr {
    serve_raw(move |mut client| async move {
        let head = read_head(&mut client).await;
        let mut words = head.split_whitespace();
        let (method, target) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
        let authorized = head.lines().any(|l| {
            l.split_once(':').is_some_and(|(k, v)| k.eq_ignore_ascii_case("proxy-authorization") && v.trim() == BASIC)
        });
        if require_auth && !authorized {
            let answer = "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"t\"\r\n\
                          Content-Length: 0\r\nConnection: close\r\n\r\n";
            let _ = client.write_all(answer.as_bytes()).await;
            return;
        }
        if method == "CONNECT" {
            let Ok(mut upstream) = TcpStream::connect(target).await else {
                let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n").await;
                return;
            };
            let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
            let _ = copy_bidirectional(&mut client, &mut upstream).await;
            return;
        }
        let rest = target.strip_prefix("http://").unwrap();
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let mut upstream = TcpStream::connect(authority).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
        upstream.write_all(request.as_bytes()).await.unwrap();
        let _ = tokio::io::copy(&mut upstream, &mut client).await;
    })
    .await
}

/// A SOCKS5 server; with `require_auth`, only user name and password (`user`, [`PASSWORD`])
/// are accepted. Records each requested destination as `ip:port` or `name:port`.
async fn socks5_proxy(require_auth: bool) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let addr = serve_raw(move |mut client| {
        let log = Arc::clone(&log);
        async move {
            let _ = socks5_session(&mut client, require_auth, log).await;
        }
    })
    .await;
    (addr, seen)
}

async fn socks5_session(c: &mut TcpStream, require_auth: bool, log: Arc<Mutex<Vec<String>>>) -> std::io::Result<()> {
    let mut greeting = [0u8; 2];
    c.read_exact(&mut greeting).await?;
    let mut methods = vec![0u8; usize::from(greeting[1])];
    c.read_exact(&mut methods).await?;
    let want = if require_auth { 2 } else { 0 };
    if !methods.contains(&want) {
        return c.write_all(&[5, 0xff]).await;
    }
    c.write_all(&[5, want]).await?;
    if require_auth {
        let user = read_field(c, 2).await?;
        let pass = read_field(c, 1).await?;
        let ok = user == b"user" && pass == PASSWORD.as_bytes();
        c.write_all(&[1, if ok { 0 } else { 1 }]).await?;
        if !ok {
            return Ok(());
        }
    }
    let mut head = [0u8; 4];
    c.read_exact(&mut head).await?;
    let host = match head[3] {
        1 => {
            let mut ip = [0u8; 4];
            c.read_exact(&mut ip).await?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => String::from_utf8(read_field(c, 1).await?).unwrap(),
        _ => return Ok(()),
    };
    let port = c.read_u16().await?;
    log.lock().unwrap().push(format!("{host}:{port}"));
    match TcpStream::connect((host.as_str(), port)).await {
        Ok(mut upstream) => {
            c.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
            copy_bidirectional(c, &mut upstream).await.map(drop)
        }
        Err(_) => c.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await,
    }
}

/// Reads `skip - 1` bytes, then a length byte and that many bytes.
async fn read_field(c: &mut TcpStream, skip: usize) -> std::io::Result<Vec<u8>> {
    let mut prefix = vec![0u8; skip];
    c.read_exact(&mut prefix).await?;
    let mut field = vec![0u8; usize::from(prefix[skip - 1])];
    c.read_exact(&mut field).await?;
    Ok(field)
}

async fn probe(target: &str, configure: impl FnOnce(&mut ProxyProbe)) -> Result<Observation, ProbeError> {
    probe_for(target, LONG, configure).await
}

async fn probe_for(
    target: &str,
    timeout: Duration,
    configure: impl FnOnce(&mut ProxyProbe),
) -> Result<Observation, ProbeError> {
    let mut parsed: Target = target.parse().unwrap();
    let Target::Proxy(p) = &mut parsed else { panic!("{target} is not a proxy target") };
    configure(p);
    assert!(!parsed.to_string().contains(PASSWORD), "{parsed}");
    parsed.probe(&ProbeContext::new(), timeout).await
}

/// The error, checked to never show the password.
fn failed(result: Result<Observation, ProbeError>) -> ProbeError {
    let err = result.unwrap_err();
    assert!(!err.to_string().contains(PASSWORD) && !format!("{err:?}").contains(PASSWORD), "{err:?}");
    err
}

#[tokio::test]
async fn http_proxy_pool_good_refusing_and_requiring_credentials() {
    let origin = origin().await;
    let test = format!("url=http://{origin}/ok");
    let (good, auth, refusing) = (http_proxy(false).await, http_proxy(true).await, free_port());

    let obs = probe(&format!("proxy+http://{good}?{test}"), |_| {}).await.unwrap();
    assert_eq!((obs.http_status, obs.detail.as_str()), (Some(200), "200 OK via HTTP proxy"));
    assert!(obs.phases.connect.is_some() && obs.phases.first_byte.is_some() && obs.phases.body.is_some());

    let err = failed(probe(&format!("proxy+http://127.0.0.1:{refusing}?{test}"), |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");

    let err = failed(probe(&format!("proxy+http://{auth}?{test}"), |_| {}).await);
    assert_eq!((err.kind(), err.detail()), (ErrorKind::Status(407), "proxy authentication required"));
    let err = failed(probe(&format!("proxy+http://user:wrong-{PASSWORD}@{auth}?{test}"), |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Status(407));

    let target = format!("proxy+http://user:{PASSWORD}@{auth}?{test}");
    let obs = probe(&target, |_| {}).await.unwrap();
    assert_eq!(obs.http_status, Some(200));
}

#[tokio::test]
async fn socks5_proxy_pool_good_refusing_and_requiring_credentials() {
    let origin = origin().await;
    let test = format!("url=http://{origin}/ok");
    let ((good, _), (auth, _), refusing) = (socks5_proxy(false).await, socks5_proxy(true).await, free_port());

    let obs = probe(&format!("proxy+socks5://{good}?{test}"), |_| {}).await.unwrap();
    assert_eq!((obs.http_status, obs.detail.as_str()), (Some(200), "200 OK via SOCKS5 proxy"));

    let err = failed(probe(&format!("proxy+socks5://127.0.0.1:{refusing}?{test}"), |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");

    let err = failed(probe(&format!("proxy+socks5://{auth}?{test}"), |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Expectation, "{err}");
    assert!(err.detail().contains("requires authentication"), "{err}");
    let err = failed(probe(&format!("proxy+socks5://user:x{PASSWORD}@{auth}?{test}"), |_| {}).await);
    assert_eq!((err.kind(), err.detail()), (ErrorKind::Expectation, "SOCKS5 authentication rejected"));

    let obs = probe(&format!("proxy+socks5h://user:{PASSWORD}@{auth}?{test}"), |_| {}).await.unwrap();
    assert_eq!(obs.http_status, Some(200));
}

#[tokio::test]
async fn socks5h_sends_the_name_socks5_resolves_it() {
    let origin = origin().await;
    let (proxy, seen) = socks5_proxy(false).await;
    let port = origin.port();
    probe(&format!("proxy+socks5h://{proxy}?url=http://localhost:{port}/ok"), |_| {}).await.unwrap();
    probe(&format!("proxy+socks5://{proxy}?url=http://127.0.0.1:{port}/ok"), |_| {}).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), [format!("localhost:{port}"), format!("127.0.0.1:{port}")]);
}

#[tokio::test]
async fn https_test_url_through_connect_and_socks5() {
    let tls = serve_tls_self_signed().await;
    let test = format!("url=https://{tls}/");
    let http = http_proxy(true).await;
    let obs = probe(&format!("proxy+http://user:{PASSWORD}@{http}?{test}"), |p| p.insecure = true).await.unwrap();
    assert_eq!(obs.http_status, Some(200));
    assert!(obs.phases.tls.is_some());
    let err = failed(probe(&format!("proxy+http://{http}?{test}"), |p| p.insecure = true).await);
    assert_eq!((err.kind(), err.detail()), (ErrorKind::Status(407), "proxy authentication required"));
    let err = failed(probe(&format!("proxy+http://user:{PASSWORD}@{http}?{test}"), |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Tls, "self-signed without insecure: {err}");

    let (socks, _) = socks5_proxy(false).await;
    let obs = probe(&format!("proxy+socks5://{socks}?{test}"), |p| p.insecure = true).await.unwrap();
    assert_eq!(obs.http_status, Some(200));
}

#[tokio::test]
async fn failures_behind_the_proxy() {
    let origin = origin().await;
    let (http, (socks, _)) = (http_proxy(false).await, socks5_proxy(false).await);
    let err = failed(probe(&format!("proxy+http://{http}?url=http://{origin}/teapot"), |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Status(418), "{err}");
    let teapot = format!("proxy+socks5://{socks}?url=http://{origin}/teapot");
    let ok = probe(&teapot, |p| p.accept = "418".parse().unwrap()).await.unwrap();
    assert_eq!(ok.http_status, Some(418));

    let closed = free_port();
    let err = failed(probe(&format!("proxy+socks5://{socks}?url=http://127.0.0.1:{closed}/"), |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert_eq!(err.detail(), "SOCKS5 CONNECT failed: connection refused (reply 5)");
    let err = failed(probe(&format!("proxy+http://{http}?url=https://127.0.0.1:{closed}/"), |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Status(502), "{err}");
}

#[tokio::test]
async fn silent_or_foreign_proxies() {
    let silent = serve_raw(|mut s| async move { hold(&mut s).await }).await;
    let test = "url=http://127.0.0.1:9/";
    let err = failed(probe_for(&format!("proxy+socks5://{silent}?{test}"), SHORT, |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Timeout(Phase::Connect), "{err}");
    let err = failed(probe_for(&format!("proxy+http://{silent}?{test}"), SHORT, |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Timeout(Phase::FirstByte), "{err}");

    let http_server = serve_raw(|mut s| async move {
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n").await;
    })
    .await;
    let err = failed(probe(&format!("proxy+socks5://{http_server}?{test}"), |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
}

#[test]
fn display_redacts_and_round_trips() {
    let shown = "proxy+socks5h://user:***@127.0.0.1:1080?url=http://127.0.0.1:8080/x?token=***";
    let target: Target =
        format!("proxy+socks5h://user:{PASSWORD}@127.0.0.1:1080?url=http://127.0.0.1:8080/x?token=abc")
            .parse()
            .unwrap();
    assert_eq!(target.to_string(), shown);
    assert!(!format!("{target:?}").contains(PASSWORD));
    let again: Target = target.to_string().parse().unwrap();
    assert_eq!(again.to_string(), shown);
    let err = format!("proxy+ftp://user:{PASSWORD}@h:1").parse::<Target>().unwrap_err().to_string();
    assert!(!err.contains(PASSWORD) && err.contains("unsupported proxy scheme"), "{err}");
}
