//! The tcp probe against real loopback sockets, through the public API.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use vitalcheck::probe::{ErrorKind, Phase, ProbeContext, ProbeError, Target, TcpProbe};

const TIMEOUT: Duration = Duration::from_secs(10);

async fn probe(target: &Target, timeout: Duration) -> Result<vitalcheck::probe::Observation, ProbeError> {
    target.probe(&ProbeContext::new(), timeout).await
}

fn parse(s: &str) -> Target {
    s.parse().expect("valid target")
}

/// A tcp target with send/expect set.
fn exchange(port: u16, send: &str, expect: &str) -> Target {
    Target::Tcp(TcpProbe::new("127.0.0.1", port).with_send(send).with_expect(expect))
}

/// A peer that accepts one connection, reads `want` bytes, then writes `reply` and closes.
async fn scripted_peer(want: usize, reply: &'static [u8]) -> (u16, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        let mut got = vec![0u8; want];
        s.read_exact(&mut got).await.expect("read request");
        s.write_all(reply).await.expect("write reply");
        got
    });
    (port, task)
}

#[tokio::test]
async fn connects_to_a_listener() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let obs = probe(&parse(&format!("tcp://127.0.0.1:{port}")), TIMEOUT).await.expect("healthy");
    assert_eq!(obs.detail, format!("connected to 127.0.0.1:{port}"));
    assert!(obs.phases.connect.is_some());
    assert_eq!(obs.phases.dns, None);
    assert_eq!(obs.phases.first_byte, None);
}

#[tokio::test]
async fn refused_when_nothing_listens() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let err = probe(&parse(&format!("127.0.0.1:{port}")), TIMEOUT).await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    assert!(err.to_string().starts_with(&format!("tcp://127.0.0.1:{port}: ")), "{err}");
}

#[tokio::test]
async fn send_and_matching_reply() {
    let (port, peer) = scripted_peer(6, b"+PONG\r\n").await;
    let obs = probe(&exchange(port, "PING\r\n", "+PONG"), TIMEOUT).await.expect("healthy");
    assert_eq!(obs.detail, format!("connected to 127.0.0.1:{port}, reply matched"));
    assert!(obs.phases.first_byte.is_some());
    assert_eq!(peer.await.expect("peer"), b"PING\r\n");
}

#[tokio::test]
async fn mismatching_reply_is_expectation() {
    let (port, _peer) = scripted_peer(6, b"-ERR auth required\r\n").await;
    let err = probe(&exchange(port, "PING\r\n", "+PONG"), TIMEOUT).await.expect_err("mismatch");
    assert_eq!(err.kind(), ErrorKind::Expectation, "{err}");
    assert!(err.detail().starts_with(r#"expected reply starting with "+PONG", got "-ERR"#), "{err}");
    assert!(err.to_string().starts_with(&format!("tcp://127.0.0.1:{port}: ")), "{err}");
}

#[tokio::test]
async fn peer_closing_early_is_protocol() {
    let (port, _peer) = scripted_peer(6, b"+PO").await;
    let err = probe(&exchange(port, "PING\r\n", "+PONG"), TIMEOUT).await.expect_err("closed early");
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.detail().contains("closed after 3 bytes"), "{err}");
}

#[tokio::test]
async fn peer_that_never_answers_times_out_in_first_byte() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (release, hold) = tokio::sync::oneshot::channel::<()>();
    let peer = tokio::spawn(async move {
        let (_conn, _) = listener.accept().await.expect("accept");
        // Keep the connection open, silent, until the test is done.
        let _ = hold.await;
    });
    let timeout = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let err = probe(&exchange(port, "PING\r\n", "+PONG"), timeout).await.expect_err("timeout");
    assert_eq!(err.kind(), ErrorKind::Timeout(Phase::FirstByte), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(err.elapsed() >= timeout, "{:?}", err.elapsed());
    let _ = release.send(());
    peer.await.expect("peer");
}

#[tokio::test]
async fn ipv6_literal() {
    let Ok(listener) = TcpListener::bind("[::1]:0").await else {
        eprintln!("skipped: no IPv6 loopback here");
        return;
    };
    let port = listener.local_addr().expect("addr").port();
    let obs = probe(&parse(&format!("tcp://[::1]:{port}")), TIMEOUT).await.expect("healthy");
    assert_eq!(obs.detail, format!("connected to [::1]:{port}"));
}

#[tokio::test]
async fn localhost_reaches_an_ipv6_only_listener() {
    let Ok(listener) = TcpListener::bind("[::1]:0").await else {
        eprintln!("skipped: no IPv6 loopback here");
        return;
    };
    let port = listener.local_addr().expect("addr").port();
    let obs = probe(&parse(&format!("localhost:{port}")), TIMEOUT).await.expect("healthy");
    assert_eq!(obs.detail, format!("connected to [::1]:{port}"));
}
