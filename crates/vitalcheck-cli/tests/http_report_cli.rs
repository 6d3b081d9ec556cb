//! `vitalcheck check` and `wait` against the library's own HTTP health router (`/livez`,
//! `/readyz`, `/health`), served on a thread with its own runtime.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use assert_cmd::Command;
use predicates::prelude::*;
use std::net::SocketAddr;
use std::thread;
use tokio::sync::oneshot;
use vitalcheck::HealthService;
use vitalcheck::lifecycle::Lifecycle;
use vitalcheck::registry::{ComponentHealth, Registry};

fn vitalcheck() -> Command {
    Command::cargo_bin("vitalcheck").expect("binary built")
}

/// The router on 127.0.0.1:0 on a thread; stops when dropped.
struct Server {
    addr: SocketAddr,
    health: HealthService,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    fn start(db_healthy: bool) -> Server {
        let mut registry = Registry::new();
        registry.register("self", || async { ComponentHealth::healthy() }).tags(["live"]);
        registry
            .register("db", move || async move {
                if db_healthy { ComponentHealth::healthy() } else { ComponentHealth::unhealthy("connection refused") }
            })
            .tags(["ready"]);
        let health = HealthService::new(registry, Lifecycle::new());
        let (stop, stopped) = oneshot::channel::<()>();
        let (bound, is_bound) = std::sync::mpsc::channel();
        let service = health.clone();
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                bound.send(listener.local_addr().unwrap()).unwrap();
                let app = vitalcheck::serve::http::router::<()>(service);
                axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = is_bound.recv().unwrap();
        Server { addr, health, stop: Some(stop), thread: Some(thread) }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn readyz_follows_the_lifecycle_while_livez_stays_up() {
    let server = Server::start(true);
    vitalcheck()
        .args(["check", &server.url("/readyz"), &server.url("/livez")])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("HTTP status 503").and(predicate::str::contains("healthy")));
    server.health.lifecycle().mark_running();
    vitalcheck().args(["check", &server.url("/readyz"), &server.url("/livez")]).assert().success();
    server.health.lifecycle().start_draining();
    vitalcheck().args(["check", &server.url("/readyz")]).assert().code(1);
    vitalcheck().args(["check", &server.url("/livez")]).assert().success();
}

#[test]
fn health_json_can_be_checked_with_expectations() {
    let server = Server::start(false);
    server.health.lifecycle().mark_running();
    // A critical ready check fails: /health answers 503 with status "fail".
    vitalcheck()
        .args(["check", "--status", "200-599", "--expect-json", r#"/status == "fail""#, &server.url("/health")])
        .assert()
        .success();
    vitalcheck()
        .args(["check", "--expect-json", r#"/checks/db/0/status == "pass""#, "--status", "503", &server.url("/health")])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("expectation failed"));
}

#[test]
fn wait_returns_when_the_service_becomes_ready() {
    let server = Server::start(true);
    let url = server.url("/readyz");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("vitalcheck"))
        .args(["wait", "-v", "--timeout", "30s", &url])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stderr.take().unwrap()));
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("waiting:") && first.contains("HTTP status 503"), "{first}");
    server.health.lifecycle().mark_running();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.last().is_some_and(|l| l.starts_with("ready:")), "{rest:?}");
    assert!(child.wait().unwrap().success());
}
