//! The unix probe against real Unix-domain sockets, through the public API.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixListener;
use vitalcheck::probe::{ErrorKind, Phase, ProbeContext, Target};

const TIMEOUT: Duration = Duration::from_secs(10);

fn target(path: &std::path::Path) -> Target {
    format!("unix://{}", path.display()).parse().expect("valid target")
}

#[tokio::test]
async fn connects_to_a_listener() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("app.sock");
    let _listener = UnixListener::bind(&path).expect("bind");
    let target: Target = format!("unix://{}?check=none", path.display()).parse().unwrap();
    let obs = target.probe(&ProbeContext::new(), TIMEOUT).await.expect("healthy");
    assert_eq!(obs.detail, "connected");
    assert!(obs.phases.connect.is_some());
}

#[tokio::test]
async fn a_silent_socket_is_healthy_by_default_and_times_out_when_the_protocol_is_required() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("app.sock");
    let _listener = UnixListener::bind(&path).expect("bind"); // accepts (backlog), never answers
    let obs = target(&path).probe(&ProbeContext::new(), TIMEOUT).await.expect("healthy");
    assert_eq!(obs.detail, "connected (no IPC answer within 500ms)");
    let required: Target = format!("unix://{}?check=readiness", path.display()).parse().unwrap();
    let err = required.probe(&ProbeContext::new(), Duration::from_millis(200)).await.expect_err("fails");
    assert_eq!(err.kind(), ErrorKind::Timeout(Phase::FirstByte), "{err}");
    assert_eq!(err.detail(), "no answer to readiness");
}

#[tokio::test]
async fn a_socket_speaking_something_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("other.sock");
    let listener = UnixListener::bind(&path).expect("bind");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream.write_all(b"-ERR unknown command\r\n").await;
        }
    });
    let obs = target(&path).probe(&ProbeContext::new(), TIMEOUT).await.expect("healthy");
    assert_eq!(obs.detail, "connected (not an IPC health socket: it said \"-ERR unknown command\")");
    let required: Target = format!("unix://{}?check=liveness", path.display()).parse().unwrap();
    let err = required.probe(&ProbeContext::new(), TIMEOUT).await.expect_err("fails");
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.detail().starts_with("not an IPC health socket"), "{err}");
}

#[tokio::test]
async fn a_socket_that_closes_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("closing.sock");
    let listener = UnixListener::bind(&path).expect("bind");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    });
    let obs = target(&path).probe(&ProbeContext::new(), TIMEOUT).await.expect("healthy");
    assert!(obs.detail.starts_with("connected (closed"), "{}", obs.detail);
}

#[tokio::test]
async fn missing_socket_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("missing.sock");
    let err = target(&path).probe(&ProbeContext::new(), TIMEOUT).await.expect_err("fails");
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    assert!(err.detail().contains(&format!("no socket at {}", path.display())), "{err}");
    assert!(err.to_string().starts_with(&format!("unix://{}: ", path.display())), "{err}");
}

#[tokio::test]
async fn stale_socket_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).expect("bind"));
    assert!(path.exists(), "the socket file stays after the listener is gone");
    let err = target(&path).probe(&ProbeContext::new(), TIMEOUT).await.expect_err("fails");
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    assert!(err.detail().contains("nothing listening on"), "{err}");
}
