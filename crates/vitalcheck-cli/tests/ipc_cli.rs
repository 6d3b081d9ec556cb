//! `vitalcheck check` and `wait` against a real IPC health server (the library's
//! `IpcServer`, on its own thread and runtime).

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use assert_cmd::Command;
use predicates::prelude::*;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;
use std::thread;
use tokio::sync::oneshot;
use vitalcheck::HealthService;
use vitalcheck::lifecycle::Lifecycle;
use vitalcheck::registry::{ComponentHealth, Registry};
use vitalcheck::serve::ipc::IpcServer;

fn vitalcheck() -> Command {
    Command::cargo_bin("vitalcheck").expect("binary built")
}

/// An IPC server on a thread; stops and removes its socket when dropped.
struct Server {
    _dir: tempfile::TempDir,
    path: PathBuf,
    health: HealthService,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.sock");
        let mut registry = Registry::new();
        registry.register("db", || async { ComponentHealth::healthy() }).tags(["ready"]);
        let health = HealthService::new(registry, Lifecycle::new());
        let (stop, stopped) = oneshot::channel::<()>();
        let (bound, is_bound) = std::sync::mpsc::channel();
        let (service, socket) = (health.clone(), path.clone());
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let server = IpcServer::bind(&socket, service).await.unwrap();
                bound.send(()).unwrap();
                server
                    .serve(async move {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        is_bound.recv().unwrap();
        Server { _dir: dir, path, health, stop: Some(stop), thread: Some(thread) }
    }

    fn target(&self) -> String {
        format!("unix://{}", self.path.display())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.take().map(|stop| stop.send(()));
        let _ = self.thread.take().map(thread::JoinHandle::join);
    }
}

#[test]
fn check_follows_readiness() {
    let server = Server::start();
    vitalcheck()
        .args(["check", &server.target()])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("expectation failed: readiness: not ok (status healthy; lifecycle starting)"));
    server.health.lifecycle().mark_running();
    vitalcheck()
        .args(["check", &server.target()])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("healthy").and(predicate::str::contains("readiness ok (status healthy)")));
}

#[test]
fn check_type_liveness_while_starting() {
    let server = Server::start();
    let out = vitalcheck()
        .args(["check", "-o", "json", "--check-type", "liveness", &server.target()])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["healthy"], true);
    let target = &report["targets"][0];
    assert_eq!(target["kind"], "unix");
    assert_eq!(target["target"], format!("{}?check=liveness", server.target()));
    assert_eq!(target["detail"], "liveness ok (status healthy)");
    vitalcheck()
        .args(["check", "-o", "json", "--check-type", "full", &server.target()])
        .assert()
        .success()
        .stdout(predicate::str::contains("full ok"));
}

#[test]
fn check_type_needs_a_unix_target() {
    vitalcheck()
        .args(["check", "--check-type", "full", "127.0.0.1:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--check-type applies to unix:// targets, and none was given"));
    vitalcheck().args(["check", "--check-type", "deep", "unix:///x.sock"]).assert().code(2);
}

#[test]
fn wait_until_the_service_is_ready() {
    let server = Server::start();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("vitalcheck"))
        .args(["wait", "-v", "--timeout", "30s", &server.target()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    assert!(
        line.starts_with("waiting:") && line.contains("readiness: not ok (status healthy; lifecycle starting)"),
        "{line}"
    );
    server.health.lifecycle().mark_running();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let last = rest.last().unwrap();
    assert!(last.starts_with("ready:") && last.contains("readiness ok"), "{rest:?}");
    assert!(child.wait().unwrap().success());
}
