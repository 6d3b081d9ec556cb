//! `GET /metrics` over real HTTP against a real engine, a real SQLite store and loopback
//! servers that flip, the answer parsed by a Prometheus text-format parser
//! (prometheus-parse): values follow the targets (up flips after the failure threshold,
//! counters count, transitions and error kinds are labelled), every documented family is
//! there, the content type is OpenMetrics, and no secret of a target's URL or headers
//! comes out.

#![allow(clippy::unwrap_used)]

mod support;

use prometheus_parse::{Scrape, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use support::{FlipServer, config, wait_for};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::broadcast;
use vitalcheck::state::TargetStatus;
use vitalcheck_monitor::api::{ApiState, router};
use vitalcheck_monitor::engine::{Engine, EngineOptions, TransitionEvent};
use vitalcheck_monitor::store::{SqliteStore, Store};

const PASSWORD: &str = "pw-in-url-9f3a";
const QUERY_TOKEN: &str = "query-token-77c1";
const HEADER_SECRET: &str = "hdr-secret-5e2b";

/// Every family the README and the module doc list (counters without `_total`).
const FAMILIES: &[&str] = &[
    "vitalcheck_target_up",
    "vitalcheck_target_status",
    "vitalcheck_target_consecutive_failures",
    "vitalcheck_target_last_probe_duration_seconds",
    "vitalcheck_target_process_restarts",
    "vitalcheck_targets",
    "vitalcheck_probes",
    "vitalcheck_probe_errors",
    "vitalcheck_probe_duration_seconds",
    "vitalcheck_transitions",
    "vitalcheck_scheduler_lag_seconds",
    "vitalcheck_scheduler_in_flight_probes",
    "vitalcheck_scheduler_queued_probes",
    "vitalcheck_scheduler_skipped_slots",
    "vitalcheck_scheduler_timeouts",
    "vitalcheck_store_write_duration_seconds",
    "vitalcheck_store_backlog_rows",
    "vitalcheck_store_batches_written",
    "vitalcheck_store_rows_written",
    "vitalcheck_store_errors",
    "vitalcheck_store_pruned_rows",
];

/// One answer: status, head (lowercased) and body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

async fn get(addr: SocketAddr, path: &str) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_string(&mut raw)).await.unwrap().unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Answer { status, head: head.to_ascii_lowercase(), body: body.to_owned() }
}

/// A parsed scrape, with lookups by name and exact label set.
struct Metrics {
    text: String,
    scrape: Scrape,
}

impl Metrics {
    async fn fetch(addr: SocketAddr) -> Metrics {
        let answer = get(addr, "/metrics").await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let scrape = Scrape::parse(answer.body.lines().map(|l| Ok(l.to_owned()))).unwrap();
        Metrics { text: answer.body, scrape }
    }

    /// The value of the sample `name{labels}` (exactly those labels), if there is one.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let sample = self.scrape.samples.iter().find(|s| {
            s.metric == name && s.labels.len() == labels.len() && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v))
        })?;
        match sample.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => Some(v),
            Value::Histogram(_) | Value::Summary(_) => None,
        }
    }

    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels).unwrap_or_else(|| panic!("no {name}{labels:?} in\n{}", self.text))
    }
}

/// The engine watching `web` (group `pool`, flips), `db` (a password, a token in the
/// query and an Authorization header) and `gone` (nothing listens), served on loopback.
struct Fixture {
    addr: SocketAddr,
    events: broadcast::Receiver<TransitionEvent>,
    web: FlipServer,
    _db: FlipServer,
    _engine: Arc<Engine>,
    _dir: tempfile::TempDir,
}

async fn start() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let web = FlipServer::start(200).await;
    let db = FlipServer::start(200).await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let every = "interval = \"100ms\"\ntimeout = \"100ms\"\nfailure_threshold = 2\n";
    let text = format!(
        "[[groups]]\nname = \"pool\"\n\
         [[targets]]\nname = \"web\"\ngroup = \"pool\"\ntarget = \"{}\"\n{every}\
         [[targets]]\nname = \"gone\"\ntarget = \"http://{closed}/health\"\n{every}\
         [[targets]]\nname = \"db\"\n{every}[targets.http]\n\
         url = \"http://admin:{PASSWORD}@{}/health?token={QUERY_TOKEN}\"\n\
         headers = {{ Authorization = \"Bearer {HEADER_SECRET}\" }}\n",
        web.url(),
        db.addr,
    );
    let config = config(&text, dir.path());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("vc.db")).unwrap());
    let options = EngineOptions { flush_interval: Duration::from_millis(50), ..EngineOptions::default() };
    let engine = Arc::new(Engine::start(&config, Arc::clone(&store), options).await.unwrap());
    let events = engine.subscribe();
    let state = ApiState::new(Arc::clone(&engine), store, config.server.clone(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(state);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Fixture { addr, events, web, _db: db, _engine: engine, _dir: dir }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_follow_the_targets() {
    let mut f = start().await;
    wait_for(&mut f.events, "web", TargetStatus::Healthy).await;
    let web = [("target", "web"), ("group", "pool")];
    let pool_http = |result| [("group", "pool"), ("kind", "http"), ("result", result)];

    let m = Metrics::fetch(f.addr).await;
    assert_eq!(m.get("vitalcheck_target_up", &web), 1.0);
    assert_eq!(m.get("vitalcheck_target_status", &web), 2.0);
    assert_eq!(m.get("vitalcheck_target_consecutive_failures", &web), 0.0);
    let duration = m.get("vitalcheck_target_last_probe_duration_seconds", &web);
    assert!(duration > 0.0 && duration < 0.5, "{duration}");
    assert!(m.get("vitalcheck_probes_total", &pool_http("healthy")) >= 1.0);
    assert_eq!(m.get("vitalcheck_targets", &[("group", "pool"), ("status", "healthy")]), 1.0);
    assert!(m.get("vitalcheck_transitions_total", &[("group", "pool"), ("to", "healthy")]) >= 1.0);
    assert_eq!(m.value("vitalcheck_transitions_total", &[("group", "pool"), ("to", "unhealthy")]), None);
    for family in FAMILIES {
        assert!(m.scrape.docs.contains_key(*family), "no HELP of {family} in\n{}", m.text);
    }

    // Two failures in a row (the threshold) take it down. (A probe of a loaded machine
    // may have timed out before: counts are compared with this scrape's.)
    let before = m.get("vitalcheck_probes_total", &pool_http("unhealthy"));
    f.web.set(503);
    wait_for(&mut f.events, "web", TargetStatus::Unhealthy).await;
    let m = Metrics::fetch(f.addr).await;
    assert_eq!(m.get("vitalcheck_target_up", &web), 0.0);
    assert_eq!(m.get("vitalcheck_target_status", &web), 4.0);
    assert!(m.get("vitalcheck_target_consecutive_failures", &web) >= 2.0);
    let failed = m.get("vitalcheck_probes_total", &pool_http("unhealthy"));
    assert!(failed >= before + 2.0, "{failed} after {before}");
    let status_errors = [("group", "pool"), ("kind", "http"), ("error_kind", "status")];
    let status_errors = m.get("vitalcheck_probe_errors_total", &status_errors);
    assert!(status_errors >= 1.0 && status_errors <= failed, "{status_errors} of {failed}");
    assert_eq!(m.get("vitalcheck_transitions_total", &[("group", "pool"), ("to", "unhealthy")]), 1.0);
    assert_eq!(m.get("vitalcheck_targets", &[("group", "pool"), ("status", "unhealthy")]), 1.0);
    assert_eq!(m.get("vitalcheck_targets", &[("group", "pool"), ("status", "healthy")]), 0.0);
    // The histogram counts every result of its series, the same scrape's counters.
    let results: f64 =
        ["healthy", "degraded", "unhealthy"].iter().map(|r| m.get("vitalcheck_probes_total", &pool_http(r))).sum();
    let observed = m.get("vitalcheck_probe_duration_seconds_count", &[("group", "pool"), ("kind", "http")]);
    assert_eq!(observed, results);

    // And back up after one success (success_threshold 1).
    f.web.set(200);
    wait_for(&mut f.events, "web", TargetStatus::Healthy).await;
    let m = Metrics::fetch(f.addr).await;
    assert_eq!(m.get("vitalcheck_target_up", &web), 1.0);
    assert_eq!(m.get("vitalcheck_target_consecutive_failures", &web), 0.0);
    assert!(m.get("vitalcheck_transitions_total", &[("group", "pool"), ("to", "healthy")]) >= 2.0);
    assert!(m.get("vitalcheck_probes_total", &pool_http("unhealthy")) >= failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_the_engine_itself_are_counted() {
    let mut f = start().await;
    wait_for(&mut f.events, "gone", TargetStatus::Unhealthy).await;
    let gone = [("target", "gone")];
    let mut m = Metrics::fetch(f.addr).await;
    assert_eq!(m.get("vitalcheck_target_up", &gone), 0.0, "a target in no group has no group label");
    assert!(m.get("vitalcheck_probe_errors_total", &[("kind", "http"), ("error_kind", "refused")]) >= 2.0);
    // `gone`, and `db` too if the loaded machine made it time out twice in a row.
    assert!(m.get("vitalcheck_transitions_total", &[("to", "unhealthy")]) >= 1.0);
    assert!(m.get("vitalcheck_targets", &[("status", "unhealthy")]) >= 1.0);
    assert!(m.get("vitalcheck_scheduler_lag_seconds_count", &[]) >= 4.0);
    assert!(m.value("vitalcheck_scheduler_in_flight_probes", &[]).is_some());
    assert!(m.value("vitalcheck_scheduler_queued_probes", &[]).is_some());
    assert_eq!(m.get("vitalcheck_store_errors_total", &[]), 0.0);

    // The store acknowledges a batch within a few flushes (50 ms): scrape until then.
    for _ in 0..200 {
        if m.get("vitalcheck_store_batches_written_total", &[]) >= 1.0 {
            break;
        }
        f.web.wait_hits(f.web.hits() + 1).await;
        m = Metrics::fetch(f.addr).await;
    }
    let batches = m.get("vitalcheck_store_batches_written_total", &[]);
    assert!(batches >= 1.0, "{}", m.text);
    assert!(m.get("vitalcheck_store_rows_written_total", &[]) >= batches);
    assert!(m.get("vitalcheck_store_write_duration_seconds_count", &[]) >= batches);
    assert!(m.value("vitalcheck_store_backlog_rows", &[]).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openmetrics_content_type_and_no_secret() {
    let mut f = start().await;
    wait_for(&mut f.events, "db", TargetStatus::Healthy).await;
    let answer = get(f.addr, "/metrics").await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.head.contains("content-type: application/openmetrics-text; version=1.0.0; charset=utf-8"),
        "{}",
        answer.head
    );
    assert!(answer.body.ends_with("# EOF\n"), "{}", answer.body);
    let m = Metrics::fetch(f.addr).await;
    assert_eq!(m.get("vitalcheck_target_up", &[("target", "db")]), 1.0);
    for secret in [PASSWORD, QUERY_TOKEN, HEADER_SECRET, "admin", "http://", "/health"] {
        assert!(!m.text.contains(secret), "{secret} in\n{}", m.text);
    }
}

/// A target with a `process` table has a restart counter from the start (0), counting each
/// restart `vitalcheck run` makes (`Engine::restarted`, what `supervisor::own` calls);
/// other targets have none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_restarts_are_counted_per_target_that_owns_a_process() {
    let dir = tempfile::tempdir().unwrap();
    let web = FlipServer::start(200).await;
    let every = "interval = \"100ms\"\ntimeout = \"100ms\"\n";
    let text = format!(
        "[[targets]]\nname = \"app\"\ntarget = \"{url}\"\n{every}process = {{ command = [\"true\"] }}\n\
         [[targets]]\nname = \"web\"\ntarget = \"{url}\"\n{every}",
        url = web.url(),
    );
    let config = config(&text, dir.path());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("vc.db")).unwrap());
    let engine = Arc::new(Engine::start(&config, Arc::clone(&store), EngineOptions::default()).await.unwrap());
    let state = ApiState::new(Arc::clone(&engine), store, config.server.clone(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(state);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let name = "vitalcheck_target_process_restarts_total";
    let m = Metrics::fetch(addr).await;
    assert_eq!(m.get(name, &[("target", "app")]), 0.0);
    assert_eq!(m.value(name, &[("target", "web")]), None, "web owns no process");
    for _ in 0..2 {
        assert!(engine.restarted("app", "restarted (test)").await.unwrap());
    }
    assert_eq!(Metrics::fetch(addr).await.get(name, &[("target", "app")]), 2.0);
    // A reload keeps the count.
    assert!(engine.reload(&config).await.is_ok());
    assert_eq!(Metrics::fetch(addr).await.get(name, &[("target", "app")]), 2.0);
}
