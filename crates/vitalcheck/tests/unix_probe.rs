//! The unix probe against real Unix-domain sockets, through the public API.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::time::Duration;
use tokio::net::UnixListener;
use vitalcheck::probe::{ErrorKind, ProbeContext, Target};

const TIMEOUT: Duration = Duration::from_secs(10);

fn target(path: &std::path::Path) -> Target {
    format!("unix://{}", path.display()).parse().expect("valid target")
}

#[tokio::test]
async fn connects_to_a_listener() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("app.sock");
    let _listener = UnixListener::bind(&path).expect("bind");
    let obs = target(&path).probe(&ProbeContext::new(), TIMEOUT).await.expect("healthy");
    assert_eq!(obs.detail, "connected");
    assert!(obs.phases.connect.is_some());
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
