//! The IPC health server on real Unix sockets in temp dirs, asked by raw clients and by
//! `IpcClient`.

#![cfg(all(feature = "ipc", feature = "probes"))]
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use vitalcheck::HealthService;
use vitalcheck::ipc_client::{IpcClient, IpcClientError};
use vitalcheck::lifecycle::Lifecycle;
use vitalcheck::probe::{ErrorKind, ProbeContext, Target};
use vitalcheck::registry::{ComponentHealth, Registry};
use vitalcheck::serve::ipc::{IpcServer, IpcServerError};
use vitalcheck::service::CheckType;

/// A service with a live check, a ready check and an untagged one.
fn service() -> HealthService {
    let mut registry = Registry::new();
    registry.register("ping", || async { ComponentHealth::healthy() }).tags(["live"]);
    registry.register("db", || async { ComponentHealth::healthy() }).tags(["ready"]);
    registry.register("disk", || async { ComponentHealth::healthy() });
    HealthService::new(registry, Lifecycle::new()).with_info("version", "1.0")
}

/// A server running on a task; stop it with `stop`.
struct Running {
    _dir: tempfile::TempDir,
    path: PathBuf,
    stop: oneshot::Sender<()>,
    done: JoinHandle<()>,
}

impl Running {
    async fn stop(self) -> PathBuf {
        self.stop.send(()).unwrap();
        self.done.await.unwrap();
        self.path
    }
}

async fn start(health: HealthService) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sock");
    let server = IpcServer::bind(&path, health).await.unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(server.serve(async move {
        let _ = stopped.await;
    }));
    Running { _dir: dir, path, stop, done }
}

/// A raw client: send lines, read answer lines as JSON.
struct Raw(BufReader<UnixStream>);

impl Raw {
    async fn connect(path: &Path) -> Raw {
        Raw(BufReader::new(UnixStream::connect(path).await.unwrap()))
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.0.get_mut().write_all(bytes).await.unwrap();
    }

    async fn answer(&mut self) -> serde_json::Value {
        let mut line = String::new();
        assert!(self.0.read_line(&mut line).await.unwrap() > 0, "connection closed");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
    }
}

#[tokio::test]
async fn answers_follow_the_lifecycle() {
    let health = service();
    let server = start(health.clone()).await;
    let mut client = IpcClient::connect(&server.path).await.unwrap();
    let live = client.check(CheckType::Liveness).await.unwrap();
    assert!(live.ok);
    let names: Vec<_> = live.report.as_ref().unwrap().components.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, ["ping"]);
    let ready = client.check(CheckType::Readiness).await.unwrap();
    assert!(!ready.ok, "still starting");
    assert_eq!(ready.report.as_ref().unwrap().components.len(), 2);
    assert!(client.check(CheckType::Full).await.unwrap().ok);
    health.lifecycle().mark_running();
    let ready = client.check(CheckType::Readiness).await.unwrap();
    assert!(ready.ok && ready.report.as_ref().unwrap().ready);
    assert_eq!(ready.report.unwrap().extra["version"], "1.0");
    health.lifecycle().start_draining();
    assert!(!client.check(CheckType::Readiness).await.unwrap().ok, "draining");
    assert!(client.check(CheckType::Liveness).await.unwrap().ok, "draining is alive");
    server.stop().await;
}

#[tokio::test]
async fn wire_form_and_bad_lines_keep_the_connection() {
    let server = start(service()).await;
    let mut raw = Raw::connect(&server.path).await;
    raw.send(b"this is not json\n{\"type\":\"ping\"}\n{\"type\":\"health_check\",\"check_type\":\"deep\"}\n").await;
    for expected in ["malformed JSON", "unknown type \"ping\"", "invalid health_check"] {
        let answer = raw.answer().await;
        assert_eq!(answer["type"], "error");
        assert!(answer["message"].as_str().unwrap().contains(expected), "{answer}");
    }
    raw.send(&vec![b'x'; 100 * 1024]).await;
    raw.send(b"\n\n{\"type\":\"health_check\",\"check_type\":\"liveness\"}\r\n").await;
    let answer = raw.answer().await;
    assert_eq!(answer["type"], "error");
    assert!(answer["message"].as_str().unwrap().contains("longer than 65536 bytes"), "{answer}");
    let answer = raw.answer().await;
    assert_eq!(answer["type"], "health_response", "the empty line is skipped, the request answered");
    assert_eq!((answer["check_type"].as_str(), answer["ok"].as_bool()), (Some("liveness"), Some(true)));
    assert_eq!(answer["report"]["components"][0]["name"], "ping");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_at_once() {
    let health = service();
    health.lifecycle().mark_running();
    let server = start(health).await;
    let mut clients = tokio::task::JoinSet::new();
    for n in 0..50 {
        let path = server.path.clone();
        clients.spawn(async move {
            let mut client = IpcClient::connect(&path).await.unwrap();
            for i in 0..5 {
                let check_type = [CheckType::Liveness, CheckType::Readiness, CheckType::Full][(n + i) % 3];
                let answer = client.check(check_type).await.unwrap();
                assert!(answer.ok && answer.check_type == check_type);
            }
        });
    }
    let mut finished = 0;
    while let Some(joined) = clients.join_next().await {
        joined.unwrap();
        finished += 1;
    }
    assert_eq!(finished, 50);
    server.stop().await;
}

#[tokio::test]
async fn stale_socket_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap()); // a crashed run's file
    let server = IpcServer::bind(&path, service()).await.unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(server.serve(async move {
        let _ = stopped.await;
    }));
    assert!(IpcClient::connect(&path).await.unwrap().check(CheckType::Liveness).await.unwrap().ok);
    stop.send(()).unwrap();
    done.await.unwrap();
}

#[tokio::test]
async fn a_live_socket_is_not_stolen() {
    let server = start(service()).await;
    let err = IpcServer::bind(&server.path, service()).await.unwrap_err();
    assert!(matches!(err, IpcServerError::AddrInUse { .. }), "{err:?}");
    assert!(err.to_string().contains("another server is listening on this socket"), "{err}");
    let mut client = IpcClient::connect(&server.path).await.unwrap();
    assert!(client.check(CheckType::Liveness).await.unwrap().ok, "the first server still answers");
    server.stop().await;
}

#[tokio::test]
async fn a_regular_file_is_never_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sock");
    std::fs::write(&path, "precious").unwrap();
    let err = IpcServer::bind(&path, service()).await.unwrap_err();
    assert!(matches!(err, IpcServerError::NotASocket { .. }), "{err:?}");
    assert!(err.to_string().ends_with("exists and is not a socket; refusing to replace it"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
}

#[tokio::test]
async fn mode_is_0600_by_default_and_configurable() {
    let server = start(service()).await;
    let meta = std::fs::metadata(&server.path).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    server.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("group.sock");
    let _server = IpcServer::bind(&path, service()).await.unwrap().mode(0o660).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o660);
}

#[tokio::test]
async fn shutdown_closes_connections_and_removes_the_socket() {
    let server = start(service()).await;
    let mut idle = Raw::connect(&server.path).await;
    let mut client = IpcClient::connect(&server.path).await.unwrap();
    assert!(client.check(CheckType::Liveness).await.unwrap().ok);
    let path = server.stop().await;
    assert!(!path.exists(), "socket file removed");
    let mut line = String::new();
    assert_eq!(idle.0.read_line(&mut line).await.unwrap(), 0, "idle connection closed");
    let err = client.check(CheckType::Liveness).await.unwrap_err();
    assert!(matches!(err, IpcClientError::Closed { .. } | IpcClientError::Io { .. }), "{err:?}");
    let err = IpcClient::connect(&path).await.unwrap_err();
    assert!(err.to_string().starts_with(&format!("I/O error on {}", path.display())), "{err}");
}

#[tokio::test]
async fn dropping_an_unserved_server_removes_its_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sock");
    let server = IpcServer::bind(&path, service()).await.unwrap().max_line(1024).max_connections(4);
    assert_eq!(server.path(), path);
    drop(server);
    assert!(!path.exists());
}

#[tokio::test]
async fn client_reports_server_errors_and_small_caps() {
    let server = start(service()).await;
    // A cap smaller than a report: the client says so.
    let mut client = IpcClient::connect(&server.path).await.unwrap().max_line(16);
    let err = client.check(CheckType::Full).await.unwrap_err();
    assert!(matches!(err, IpcClientError::TooLong { max: 16, .. }), "{err:?}");
    server.stop().await;
}

const TIMEOUT: Duration = Duration::from_secs(10);

fn unix(path: &Path) -> Target {
    format!("unix://{}", path.display()).parse().unwrap()
}

/// The unix probe through the public API, against the server: readiness follows the
/// lifecycle and the checks, with the reasons in the detail.
#[tokio::test]
async fn answers_of_the_ipc_server() {
    let (health, dir) = (db_service(), tempfile::tempdir().expect("tempdir"));
    let path = dir.path().join("app.sock");
    let server = IpcServer::bind(&path, health.clone()).await.expect("bind");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(server.serve(async move {
        let _ = stopped.await;
    }));
    let ctx = ProbeContext::new();

    let err = unix(&path).probe(&ctx, TIMEOUT).await.expect_err("starting");
    assert_eq!(err.kind(), ErrorKind::Expectation, "{err}");
    assert_eq!(err.detail(), "readiness: not ok (status unhealthy; lifecycle starting; db: refused)");
    health.lifecycle().mark_running();
    let err = unix(&path).probe(&ctx, TIMEOUT).await.expect_err("db still refused");
    assert_eq!(err.detail(), "readiness: not ok (status unhealthy; db: refused)");
    DB_UP.store(true, Ordering::SeqCst);
    let obs = unix(&path).probe(&ctx, TIMEOUT).await.expect("ready");
    assert_eq!(obs.detail, "readiness ok (status healthy)");
    assert!(obs.phases.first_byte.is_some());

    let live: Target = format!("unix://{}?check=liveness", path.display()).parse().unwrap();
    health.lifecycle().start_draining();
    assert_eq!(live.probe(&ctx, TIMEOUT).await.expect("alive").detail, "liveness ok (status healthy)");
    stop.send(()).expect("stop");
    done.await.expect("served");
}

static DB_UP: AtomicBool = AtomicBool::new(false);

fn db_service() -> HealthService {
    let mut registry = Registry::new();
    registry.register("db", || async {
        if DB_UP.load(Ordering::SeqCst) { ComponentHealth::healthy() } else { ComponentHealth::unhealthy("refused") }
    });
    HealthService::new(registry, Lifecycle::new())
}

/// The probe's auto rule rests on this: the first byte of an answer comes as soon as the
/// request is read, before a slow check finishes.
#[tokio::test]
async fn the_first_byte_comes_before_slow_checks_finish() {
    let release = std::sync::Arc::new(tokio::sync::Notify::new());
    let mut registry = Registry::new();
    let gate = std::sync::Arc::clone(&release);
    registry
        .register("slow", move || {
            let gate = std::sync::Arc::clone(&gate);
            async move {
                gate.notified().await;
                ComponentHealth::healthy()
            }
        })
        .tags(["live"])
        .timeout(Duration::from_secs(60));
    let server = start(HealthService::new(registry, Lifecycle::new())).await;
    let mut raw = Raw::connect(&server.path).await;
    raw.send(b"{\"type\":\"health_check\",\"check_type\":\"liveness\"}\n").await;
    let mut first = [0u8; 1];
    tokio::io::AsyncReadExt::read_exact(&mut raw.0, &mut first).await.unwrap();
    assert_eq!(&first, b" ", "sent while the check is still blocked");
    release.notify_one();
    let answer = raw.answer().await;
    assert_eq!((answer["type"].as_str(), answer["ok"].as_bool()), (Some("health_response"), Some(true)));
    server.stop().await;
}
