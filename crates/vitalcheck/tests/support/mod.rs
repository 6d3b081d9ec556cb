//! Test peers for the probe tests: axum servers for well-behaved answers and raw TCP
//! listeners that script hostile ones. Everything listens on loopback, port 0.
#![allow(dead_code, unreachable_pub)]

use axum::Router;
use axum::serve::ListenerExt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Serves `router` on 127.0.0.1:0; returns the address.
pub async fn serve(router: Router) -> SocketAddr {
    serve_counting(router).await.0
}

/// Serves `router` on 127.0.0.1:0 and counts accepted connections.
pub async fn serve_counting(router: Router) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    let listener = listener.tap_io(move |_io| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    tokio::spawn(async move { axum::serve(listener, router).await });
    (addr, count)
}

/// Accepts connections on `listener` and runs `handler` on each.
pub fn serve_raw_on<F, Fut>(listener: TcpListener, handler: F)
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(handler(stream));
        }
    });
}

/// A raw TCP peer on 127.0.0.1:0 running `handler` on each connection.
pub async fn serve_raw<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    serve_raw_on(listener, handler);
    addr
}

/// Reads a request head (up to the blank line); returns it as text.
pub async fn read_head<S: AsyncReadExt + Unpin>(stream: &mut S) -> String {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Keeps the connection open until the client closes it.
pub async fn hold<S: AsyncReadExt + Unpin>(stream: &mut S) {
    let mut buf = [0u8; 1024];
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

/// Reads the request, writes `response` and closes.
pub async fn answer_raw(mut stream: TcpStream, response: &'static [u8]) {
    read_head(&mut stream).await;
    let _ = stream.write_all(response).await;
    let _ = stream.shutdown().await;
}

/// Writes 64 KiB chunks until the client goes away: a body that never ends unless the
/// client stops reading. `chunked` frames each write as a chunk.
pub async fn stream_forever(mut stream: TcpStream, head: &'static [u8], chunked: bool) {
    read_head(&mut stream).await;
    if stream.write_all(head).await.is_err() {
        return;
    }
    let data = vec![b'x'; 64 * 1024];
    let mut frame = Vec::new();
    if chunked {
        frame.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    }
    frame.extend_from_slice(&data);
    if chunked {
        frame.extend_from_slice(b"\r\n");
    }
    while stream.write_all(&frame).await.is_ok() {}
}

/// A free port with nothing listening on it.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("local addr").port()
}

/// A rustls server configuration with a fresh self-signed certificate for `localhost` and
/// 127.0.0.1, offering the `alpn` protocols.
pub fn self_signed_config(alpn: &[&[u8]]) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()]).expect("cert");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("server config");
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// A raw TLS server on 127.0.0.1:0 (self-signed, no ALPN) answering every request
/// `200 OK` with body `secure` over HTTP/1.1.
pub async fn serve_tls_self_signed() -> SocketAddr {
    let acceptor = tokio_rustls::TlsAcceptor::from(self_signed_config(&[]));
    serve_raw(move |stream| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(mut tls) = acceptor.accept(stream).await else { return };
            read_head(&mut tls).await;
            let response = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecure";
            let _ = tls.write_all(response).await;
            let _ = tls.shutdown().await;
        }
    })
    .await
}

/// A TLS listener for axum: accepts TCP, then the TLS handshake (failed handshakes skipped).
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    accepted: Arc<AtomicUsize>,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else { continue };
            if let Ok(tls) = self.acceptor.accept(stream).await {
                self.accepted.fetch_add(1, Ordering::SeqCst);
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

/// Serves `router` over TLS (self-signed, ALPN h2 and http/1.1) on 127.0.0.1:0; counts
/// TLS connections.
pub async fn serve_tls_router(router: Router) -> (SocketAddr, Arc<AtomicUsize>) {
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = tcp.local_addr().expect("local addr");
    let accepted = Arc::new(AtomicUsize::new(0));
    let acceptor = tokio_rustls::TlsAcceptor::from(self_signed_config(&[b"h2", b"http/1.1"]));
    let listener = TlsListener { tcp, acceptor, accepted: Arc::clone(&accepted) };
    tokio::spawn(async move { axum::serve(listener, router).await });
    (addr, accepted)
}
