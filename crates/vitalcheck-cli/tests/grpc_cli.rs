//! `vitalcheck check` and `wait` on grpc:// targets, against a tonic server serving
//! `vitalcheck::serve::grpc` on a background thread with its own runtime.

#![cfg(feature = "grpc")]
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use assert_cmd::Command;
use predicates::prelude::*;
use std::net::SocketAddr;
use std::thread;
use std::time::Duration;
use tokio_stream::wrappers::TcpListenerStream;
use vitalcheck::HealthService;
use vitalcheck::lifecycle::Lifecycle;
use vitalcheck::registry::Registry;
use vitalcheck::serve::grpc::health_server;

fn vitalcheck() -> Command {
    Command::cargo_bin("vitalcheck").expect("binary built")
}

/// Serves gRPC health on 127.0.0.1:0 from a thread; the lifecycle turns Running after
/// `running_after` (never when `None`).
fn grpc_server(running_after: Option<Duration>) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let health = HealthService::new(Registry::new(), Lifecycle::new());
            if let Some(delay) = running_after {
                let lifecycle = health.lifecycle().clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    lifecycle.mark_running();
                });
            }
            let incoming = TcpListenerStream::new(tokio::net::TcpListener::from_std(listener).unwrap());
            let server = tonic::transport::Server::builder().add_service(health_server(health));
            server.serve_with_incoming(incoming).await.unwrap();
        });
    });
    addr
}

#[test]
fn check_serving_exits_0() {
    let addr = grpc_server(Some(Duration::ZERO));
    // The server flips to Running on its own thread; wait for it rather than race it.
    vitalcheck().args(["wait", "--timeout", "10s", &format!("grpc://{addr}")]).assert().success();
    vitalcheck().args(["check", &format!("grpc://{addr}")]).assert().success().stdout(
        predicate::str::starts_with("healthy").and(predicate::str::contains(format!("grpc://{addr}  SERVING"))),
    );
}

#[test]
fn check_not_serving_exits_1_with_the_status() {
    let addr = grpc_server(None);
    vitalcheck().args(["check", "-o", "json", &format!("grpc://{addr}/readiness")]).assert().code(1).stdout(
        predicate::str::contains("\"kind\": \"grpc\"")
            .and(predicate::str::contains("\"kind\": \"expectation\""))
            .and(predicate::str::contains("status NOT_SERVING")),
    );
}

#[test]
fn wait_returns_once_the_server_serves() {
    let addr = grpc_server(Some(Duration::from_millis(300)));
    vitalcheck().args(["wait", "--timeout", "20s", &format!("grpc://{addr}"), "--", "true"]).assert().success();
}

#[test]
fn check_closed_port_is_refused() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    vitalcheck()
        .args(["check", &format!("grpc://127.0.0.1:{port}")])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("connection refused"));
}

#[test]
fn insecure_applies_to_grpcs_only() {
    vitalcheck()
        .args(["check", "-k", "grpc://127.0.0.1:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--insecure applies to https:// and grpcs:// targets"));
    // Accepted for grpcs://; nothing listens, so the probe itself fails.
    vitalcheck().args(["check", "-k", "grpcs://127.0.0.1:1"]).assert().code(1);
}
