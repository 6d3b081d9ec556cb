//! The HTTP health surface served on loopback and called over real HTTP/1.1: lifecycle,
//! timeouts, panics, gates, the health+json report, caching headers, the details policy,
//! HEAD, and the library's own http probe against `/readyz`.

#![cfg(feature = "server")]
#![allow(clippy::unwrap_used)]

use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use vitalcheck::HealthService;
use vitalcheck::Status;
use vitalcheck::lifecycle::Lifecycle;
use vitalcheck::registry::{ComponentHealth, Registry};
use vitalcheck::report::health_json::{CONTENT_TYPE, HealthResponse};
use vitalcheck::serve::http::{RouterOptions, router, router_with};
use vitalcheck::serve::{BearerToken, Details};

/// Serves `app` on 127.0.0.1:0 with connect info (callers are seen as loopback).
async fn serve_local(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    addr
}

/// Serves `app` on 127.0.0.1:0 without connect info (callers' addresses are unknown).
async fn serve_anonymous(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 exchange on a fresh connection (`Connection: close`, read to the end).
async fn call(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines.map(|l| l.split_once(": ").unwrap()).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Reply { status, headers, body: body.to_string() }
}

async fn get(addr: SocketAddr, path: &str) -> Reply {
    call(addr, "GET", path, &[]).await
}

fn healthy_service() -> HealthService {
    let mut registry = Registry::new();
    registry.register("ping", || async { ComponentHealth::healthy() }).tags(["live"]);
    registry.register("db", || async { ComponentHealth::healthy() }).tags(["ready"]);
    HealthService::new(registry, Lifecycle::new())
}

#[tokio::test]
async fn starting_is_alive_but_not_ready_until_running() {
    let health = healthy_service();
    let addr = serve_local(router(health.clone())).await;
    let ready = get(addr, "/readyz").await;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.body, "[-]lifecycle starting\n[+]db ok\nreadyz check failed\n");
    assert_eq!(ready.header("content-type"), Some("text/plain; charset=utf-8"));
    let live = get(addr, "/livez").await;
    assert_eq!((live.status, live.body.as_str()), (200, "ok"));

    health.lifecycle().mark_running();
    let ready = get(addr, "/readyz").await;
    assert_eq!((ready.status, ready.body.as_str()), (200, "ok"));
    let verbose = get(addr, "/readyz?verbose").await;
    assert_eq!((verbose.status, verbose.body.as_str()), (200, "[+]lifecycle running\n[+]db ok\nreadyz check passed\n"));
    let verbose = get(addr, "/livez?verbose=1").await;
    assert_eq!(verbose.body, "[+]ping ok\nlivez check passed\n");
}

#[tokio::test]
async fn a_slow_check_fails_with_its_timeout_and_a_panic_stays_in_its_check() {
    let mut registry = Registry::new();
    registry.register("db", || async { ComponentHealth::healthy() });
    registry
        .register("slow", || async { std::future::pending::<ComponentHealth>().await })
        .timeout(Duration::from_millis(100));
    registry.register("boom", || async { panic!("wires crossed") }).tags(["live"]);
    let health = HealthService::new(registry, Lifecycle::new());
    health.lifecycle().mark_running();
    let addr = serve_local(router(health)).await;

    let ready = get(addr, "/readyz?verbose").await;
    assert_eq!(ready.status, 503);
    assert_eq!(
        ready.body,
        "[+]lifecycle running\n[+]db ok\n[-]slow failed: timed out after 100ms\nreadyz check failed\n"
    );
    let live = get(addr, "/livez?verbose").await;
    assert_eq!(live.status, 503);
    assert_eq!(live.body, "[-]boom failed: the check panicked: wires crossed\nlivez check failed\n");
    // The server is still there after the panic.
    assert_eq!(get(addr, "/livez").await.status, 503);
}

#[tokio::test]
async fn draining_flips_readyz_while_livez_stays_up() {
    let health = healthy_service();
    let addr = serve_local(router(health.clone())).await;
    health.lifecycle().mark_running();
    assert_eq!(get(addr, "/readyz").await.status, 200);
    health.lifecycle().start_draining();
    let ready = get(addr, "/readyz?verbose").await;
    assert_eq!((ready.status, ready.body.as_str()), (503, "[-]lifecycle draining\n[+]db ok\nreadyz check failed\n"));
    let live = get(addr, "/livez").await;
    assert_eq!((live.status, live.body.as_str()), (200, "ok"));
}

#[tokio::test]
async fn a_failing_gate_shows_in_verbose() {
    let health = healthy_service();
    let depth = Arc::new(AtomicUsize::new(250));
    health.lifecycle().gate_queue_depth("jobs", depth.clone(), 100);
    health.lifecycle().mark_running();
    let addr = serve_local(router(health)).await;
    let ready = get(addr, "/readyz?verbose").await;
    assert_eq!(ready.status, 503);
    assert!(
        ready.body.contains("\n[-]gate jobs: queue depth 250 is over 100\nreadyz check failed\n"),
        "{}",
        ready.body
    );
    assert_eq!(get(addr, "/livez").await.status, 200, "gates are about readiness only");
    depth.store(3, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(get(addr, "/readyz").await.status, 200);
}

fn service_with(db: ComponentHealth, cache: ComponentHealth) -> HealthService {
    let mut registry = Registry::new();
    registry.register("db", move || {
        let db = db.clone();
        async move { db }
    });
    registry
        .register("cache", move || {
            let cache = cache.clone();
            async move { cache }
        })
        .critical(false);
    let health = HealthService::new(registry, Lifecycle::new()).with_info("version", "1.4.2");
    health.lifecycle().mark_running();
    health
}

#[tokio::test]
async fn health_serves_the_full_report_as_health_json() {
    let degraded = service_with(ComponentHealth::healthy(), ComponentHealth::unhealthy("evicting"));
    let addr = serve_local(router(degraded)).await;
    let reply = get(addr, "/health").await;
    assert_eq!(reply.status, 200, "a non-critical failure only warns");
    assert_eq!(reply.header("content-type"), Some(CONTENT_TYPE));
    let parsed = HealthResponse::parse(&reply.body).unwrap();
    assert_eq!(parsed.status, Status::Degraded);
    assert_eq!(parsed.ready, Some(true));
    assert_eq!(parsed.extra["version"], "1.4.2");
    assert_eq!(parsed.checks["cache"][0].status, Status::Unhealthy);
    assert_eq!(parsed.checks["cache"][0].output.as_deref(), Some("evicting"), "loopback sees details");

    let failing = service_with(ComponentHealth::unhealthy("refused"), ComponentHealth::healthy());
    let addr = serve_local(router(failing)).await;
    let reply = get(addr, "/health").await;
    assert_eq!(reply.status, 503);
    let parsed = HealthResponse::parse(&reply.body).unwrap();
    assert_eq!((parsed.status, parsed.ready), (Status::Unhealthy, Some(false)));
}

#[tokio::test]
async fn every_response_is_no_store_and_head_works() {
    let health = healthy_service();
    let addr = serve_local(router(health.clone())).await;
    for path in ["/livez", "/readyz", "/readyz?verbose", "/health"] {
        let reply = get(addr, path).await;
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{path}: {reply:?}");
    }
    let head = call(addr, "HEAD", "/readyz", &[]).await;
    assert_eq!((head.status, head.body.as_str()), (503, ""));
    assert_eq!(head.header("cache-control"), Some("no-store"));
    health.lifecycle().mark_running();
    let head = call(addr, "HEAD", "/readyz", &[]).await;
    assert_eq!((head.status, head.body.as_str()), (200, ""));
    let head = call(addr, "HEAD", "/health", &[]).await;
    assert_eq!((head.status, head.header("content-type")), (200, Some(CONTENT_TYPE)));
    let post = call(addr, "POST", "/livez", &[("Content-Length", "0")]).await;
    assert_eq!((post.status, post.header("cache-control")), (405, Some("no-store")));
}

fn failing_db_with_gate() -> HealthService {
    let health = service_with(ComponentHealth::unhealthy("refused by 10.0.0.5:5432"), ComponentHealth::healthy());
    health.lifecycle().add_gate("warmup", || Err("cache cold".into()));
    health
}

fn assert_details_hidden(verbose: &Reply, report: &Reply) {
    assert_eq!(verbose.body, "[+]lifecycle running\n[-]db failed\n[+]cache ok\n[-]gate warmup\nreadyz check failed\n");
    let parsed = HealthResponse::parse(&report.body).unwrap();
    assert_eq!(parsed.checks["db"][0].status, Status::Unhealthy, "statuses are always shown");
    assert_eq!(parsed.checks["db"][0].output, None);
    assert_eq!(parsed.output.as_deref(), Some("failing gates: warmup"));
    assert!(!report.body.contains("10.0.0.5") && !report.body.contains("cache cold"), "{}", report.body);
}

#[tokio::test]
async fn details_are_hidden_from_unknown_callers_by_default() {
    let addr = serve_anonymous(router(failing_db_with_gate())).await;
    assert_details_hidden(&get(addr, "/readyz?verbose").await, &get(addr, "/health").await);
}

#[tokio::test]
async fn details_need_the_token_when_the_policy_asks_for_it() {
    let options = RouterOptions::new().details(Details::BearerToken(BearerToken::new("t0ken-42")));
    let addr = serve_local(router_with(failing_db_with_gate(), options)).await;
    assert_details_hidden(&get(addr, "/readyz?verbose").await, &get(addr, "/health").await);
    let wrong = [("Authorization", "Bearer t0ken-43")];
    assert_details_hidden(
        &call(addr, "GET", "/readyz?verbose", &wrong).await,
        &call(addr, "GET", "/health", &wrong).await,
    );

    let auth = [("Authorization", "Bearer t0ken-42")];
    let verbose = call(addr, "GET", "/readyz?verbose", &auth).await;
    assert!(verbose.body.contains("[-]db failed: refused by 10.0.0.5:5432\n"), "{}", verbose.body);
    assert!(verbose.body.contains("[-]gate warmup: cache cold\n"), "{}", verbose.body);
    let report = call(addr, "GET", "/health", &auth).await;
    let parsed = HealthResponse::parse(&report.body).unwrap();
    assert_eq!(parsed.checks["db"][0].output.as_deref(), Some("refused by 10.0.0.5:5432"));
    assert_eq!(parsed.output.as_deref(), Some("warmup: cache cold"));
    for reply in [&verbose, &report] {
        assert!(!reply.body.contains("t0ken") && reply.headers.iter().all(|(_, v)| !v.contains("t0ken")));
    }
    let quiet = call(addr, "GET", "/readyz", &auth).await;
    assert!(quiet.body.contains("[-]db failed\n"), "without ?verbose no message: {}", quiet.body);
}

#[tokio::test]
async fn loopback_or_token_shows_details_to_either() {
    let options = RouterOptions::new().details(Details::LoopbackOrToken(BearerToken::new("t0ken-42")));
    let local = serve_local(router_with(failing_db_with_gate(), options.clone())).await;
    assert!(get(local, "/readyz?verbose").await.body.contains("[-]db failed: refused"));
    let anonymous = serve_anonymous(router_with(failing_db_with_gate(), options)).await;
    assert_eq!(get(anonymous, "/readyz?verbose").await.body.lines().nth(1), Some("[-]db failed"));
    let auth = [("Authorization", "bearer t0ken-42")];
    assert!(call(anonymous, "GET", "/readyz?verbose", &auth).await.body.contains("[-]db failed: refused"));
}

#[tokio::test]
async fn merges_into_an_app_with_its_own_state() {
    #[derive(Clone)]
    struct AppState(&'static str);
    let app = Router::new()
        .route("/", axum::routing::get(|axum::extract::State(s): axum::extract::State<AppState>| async move { s.0 }))
        .merge(router(healthy_service()))
        .with_state(AppState("hello"));
    let addr = serve_local(app).await;
    assert_eq!(get(addr, "/").await.body, "hello");
    assert_eq!(get(addr, "/livez").await.body, "ok");
}

#[cfg(feature = "probes")]
#[tokio::test]
async fn the_http_probe_sees_readyz_turn_ready() {
    use vitalcheck::probe::{ErrorKind, ProbeContext, Target};
    let health = healthy_service();
    let addr = serve_local(router(health.clone())).await;
    let target: Target = format!("http://{addr}/readyz").parse().unwrap();
    let ctx = ProbeContext::new();
    let err = target.probe(&ctx, Duration::from_secs(10)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Status(503));
    health.lifecycle().mark_running();
    let obs = target.probe(&ctx, Duration::from_secs(10)).await.unwrap();
    assert_eq!((obs.status, obs.http_status), (Status::Healthy, Some(200)));
}
