//! The engine against real loopback servers and a real SQLite file: transitions reach
//! subscribers and the store, state and history survive a restart, startup gating,
//! reload, pause and run-now.

#![allow(clippy::unwrap_used)]
#![cfg(feature = "sqlite")]

mod support;

use jiff::Timestamp;
use std::sync::Arc;
use std::time::Duration;
use support::{FlipServer, config, wait_for};
use vitalcheck::state::TargetStatus;
use vitalcheck_monitor::engine::{Engine, EngineOptions};
use vitalcheck_monitor::store::{Batch, HistoryQuery, ResultRow, SqliteStore, Store};

fn options() -> EngineOptions {
    EngineOptions { flush_interval: Duration::from_millis(50), ..EngineOptions::default() }
}

/// A target probed every 50 ms, unhealthy after 2 failures unless `extra` says otherwise.
fn target(name: &str, url: &str, extra: &str) -> String {
    let threshold = if extra.contains("failure_threshold") { "" } else { "failure_threshold = 2\n" };
    format!(
        "[[targets]]\nname = \"{name}\"\ntarget = \"{url}\"\ninterval = \"50ms\"\ntimeout = \"50ms\"\n{threshold}{extra}\n"
    )
}

async fn open(dir: &std::path::Path) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open(dir.join("vc.db")).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flipping_server_makes_transitions_in_events_pool_and_store() {
    let dir = tempfile::tempdir().unwrap();
    let good = FlipServer::start(200).await;
    let flaky = FlipServer::start(200).await;
    let text = format!(
        "[[groups]]\nname = \"pool\"\n{}{}",
        target("good", &good.url(), "group = \"pool\""),
        target("flaky", &flaky.url(), "group = \"pool\"")
    );
    let config = config(&text, dir.path());
    let store = open(dir.path()).await;
    let engine = Engine::start(&config, store.clone(), options()).await.unwrap();
    let mut events = engine.subscribe();
    wait_for(&mut events, "flaky", TargetStatus::Healthy).await;
    let mut healthy = engine.healthy_members("pool").unwrap();
    healthy.sort();
    // "good" may still be on its way up; "flaky" is a member to use now.
    assert!(healthy.iter().any(|m| &**m == "flaky"));

    flaky.set(503);
    let down = wait_for(&mut events, "flaky", TargetStatus::Unhealthy).await;
    assert_eq!(down.from, TargetStatus::Healthy);
    assert_eq!(down.group.as_deref(), Some("pool"));
    assert!(down.reason.starts_with("2 consecutive failures: HTTP status 503"), "{}", down.reason);
    assert!(!engine.healthy_members("pool").unwrap().iter().any(|m| &**m == "flaky"));
    let detail = engine.target("flaky").unwrap();
    assert_eq!(detail.snapshot.status, TargetStatus::Unhealthy);
    assert_eq!(detail.last_failure.as_ref().unwrap().error_kind, Some("status"));
    assert!(!detail.recent.is_empty());

    flaky.set(200);
    let up = wait_for(&mut events, "flaky", TargetStatus::Healthy).await;
    assert_eq!(up.from, TargetStatus::Unhealthy);
    assert!(engine.healthy_members("pool").unwrap().iter().any(|m| &**m == "flaky"));
    assert_eq!(engine.healthy_members("nope"), None);

    engine.shutdown().await;
    let metrics = engine.metrics();
    assert_eq!(metrics.store_errors, 0);
    assert!(metrics.rows_written > 0);
    let transitions = store.transitions(Some("flaky"), Timestamp::UNIX_EPOCH, 100).unwrap();
    let path: Vec<(&str, &str)> = transitions.iter().map(|t| (t.from.as_str(), t.to.as_str())).collect();
    assert!(path.ends_with(&[("healthy", "unhealthy"), ("unhealthy", "healthy")]), "{path:?}");
    let results = store.history(&HistoryQuery::new("flaky")).unwrap();
    assert!(results.iter().any(|r| r.error_kind.as_deref() == Some("status")));
    assert_eq!(results.iter().filter(|r| r.probe.is_some()).count(), 0, "a single probe has no probe kind");
    let states = store.load_states().unwrap();
    let flaky_state = states.iter().find(|s| s.target == "flaky").unwrap();
    assert_eq!(flaky_state.status, "healthy");
    assert_eq!(flaky_state.probes.len(), 1);
    store.shutdown().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_continues_state_and_history_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let server = FlipServer::start(503).await;
    let config = config(&target("api", &server.url(), "failure_threshold = 100"), dir.path());
    let store = open(dir.path()).await;
    let engine = Engine::start(&config, store.clone(), options()).await.unwrap();
    let mut events = engine.subscribe();
    wait_for(&mut events, "api", TargetStatus::Starting).await;
    // Let a few failures count, then stop: shutdown takes in every answered probe.
    server.wait_hits(3).await;
    engine.shutdown().await;
    let before = engine.target("api").unwrap();
    assert!(before.probes[0].consecutive_failures >= 3);
    drop(engine);

    let engine = Engine::start(&config, store.clone(), options()).await.unwrap();
    let after = engine.target("api").unwrap();
    assert_eq!(after.snapshot.status, TargetStatus::Starting);
    assert_eq!(after.snapshot.since, before.snapshot.since);
    assert!(after.probes[0].consecutive_failures >= before.probes[0].consecutive_failures);
    assert!(
        after.recent.len() >= before.recent.len(),
        "history restored: {} < {}",
        after.recent.len(),
        before.recent.len()
    );
    assert_eq!(after.snapshot.last.as_ref().unwrap().error_kind, Some("status"));
    engine.shutdown().await;
    store.shutdown().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_probe_gates_readiness() {
    let dir = tempfile::tempdir().unwrap();
    let boot = FlipServer::start(503).await;
    let ready = FlipServer::start(200).await;
    let extra =
        format!("[targets.startup]\ntarget = \"{}\"\n[targets.readiness]\ntarget = \"{}\"\n", boot.url(), ready.url());
    let config = config(&target("svc", &ready.url(), &extra), dir.path());
    let store = open(dir.path()).await;
    let engine = Engine::start(&config, store.clone(), options()).await.unwrap();
    let mut events = engine.subscribe();
    wait_for(&mut events, "svc", TargetStatus::Starting).await;
    assert_eq!(ready.hits(), 0, "readiness must not run before startup succeeds");
    boot.set(200);
    let up = wait_for(&mut events, "svc", TargetStatus::Healthy).await;
    assert!(up.reason.starts_with("readiness probe: "), "{}", up.reason);
    let boot_hits = boot.hits();
    ready.wait_hits(3).await;
    assert!(boot.hits() <= boot_hits + 1, "the startup probe stops once it succeeded");
    engine.shutdown().await;
    let results = store.history(&HistoryQuery::new("svc")).unwrap();
    let kinds: Vec<&str> = results.iter().map(|r| r.probe.as_deref().unwrap()).collect();
    let first_ready = kinds.iter().position(|k| *k == "readiness").unwrap();
    assert!(kinds[..first_ready].iter().all(|k| *k == "startup"));
    let state = store.load_states().unwrap().into_iter().find(|s| s.target == "svc").unwrap();
    let mut probe_kinds: Vec<&str> = state.probes.iter().map(|p| p.kind.as_str()).collect();
    probe_kinds.sort_unstable();
    assert_eq!(probe_kinds, ["readiness", "startup"]);
    store.shutdown().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_adds_and_removes_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let server = FlipServer::start(200).await;
    let first =
        config(&format!("{}{}", target("keep", &server.url(), ""), target("drop", &server.url(), "")), dir.path());
    let store = open(dir.path()).await;
    let engine = Engine::start(&first, store.clone(), options()).await.unwrap();
    let mut events = engine.subscribe();
    wait_for(&mut events, "keep", TargetStatus::Healthy).await;
    let kept_since = engine.target("keep").unwrap().snapshot.since;

    let second = config(
        &format!("{}{}", target("keep", &server.url(), "failure_threshold = 5"), target("new", &server.url(), "")),
        dir.path(),
    );
    let report = engine.reload(&second).await.unwrap();
    assert_eq!((report.added, report.removed, report.kept, report.reset), (1, 1, 1, 0));
    let names: Vec<String> = engine.snapshot().iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, ["keep", "new"]);
    let keep = engine.target("keep").unwrap();
    assert_eq!(keep.snapshot.status, TargetStatus::Healthy);
    assert_eq!(keep.snapshot.since, kept_since, "unchanged targets keep their state");
    wait_for(&mut events, "new", TargetStatus::Healthy).await;
    assert!(engine.target("drop").is_none());
    engine.shutdown().await;
    let dropped = store.history(&HistoryQuery::new("drop")).unwrap();
    let reloaded_at = keep.snapshot.last.unwrap().at;
    assert!(dropped.iter().all(|r| r.at <= reloaded_at), "a removed target is no longer probed");
    store.shutdown().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_stops_probes_and_run_now_probes_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = FlipServer::start(200).await;
    let text = "[[targets]]\nname = \"slow\"\ntarget = \"URL\"\ninterval = \"1h\"\n".replace("URL", &server.url());
    let config = config(&text, dir.path());
    let store = open(dir.path()).await;
    let engine = Engine::start(&config, store.clone(), EngineOptions { spread: false, ..options() }).await.unwrap();
    let mut events = engine.subscribe();
    wait_for(&mut events, "slow", TargetStatus::Healthy).await;
    assert!(engine.pause("slow").await.unwrap());
    assert!(engine.snapshot()[0].paused);
    assert!(engine.healthy_members("none").is_none());
    let hits = server.hits();
    assert!(engine.run_now("slow").await.unwrap());
    server.wait_hits(hits + 1).await;
    assert!(engine.resume("slow").await.unwrap());
    assert!(!engine.snapshot()[0].paused);
    assert!(!engine.pause("unknown").await.unwrap());
    assert!(!engine.run_now("unknown").await.unwrap());
    engine.shutdown().await;
    store.shutdown().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_older_than_the_retention_are_pruned_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let server = FlipServer::start(200).await;
    let text = format!("[[targets]]\nname = \"api\"\ntarget = \"{}\"\ninterval = \"1h\"\n", server.url());
    let config = config(&text, dir.path());
    let store = open(dir.path()).await;
    let now = Timestamp::now();
    let old = now - jiff::SignedDuration::from_hours(49);
    let recent = now - jiff::SignedDuration::from_hours(1);
    let rows = vec![
        ResultRow::new("api", old, vitalcheck::Status::Healthy, 10),
        ResultRow::new("api", recent, vitalcheck::Status::Healthy, 20),
    ];
    let written = store.clone();
    tokio::task::spawn_blocking(move || written.record(Batch::from_results(rows)).unwrap().wait())
        .await
        .unwrap()
        .unwrap();
    let options = EngineOptions { retention: Some(Duration::from_secs(48 * 3600)), ..options() };
    let engine = Engine::start(&config, store.clone(), options).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut ticks = tokio::time::interval(Duration::from_millis(10));
    while engine.metrics().prunes == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no prune within 20 s");
        ticks.tick().await;
    }
    assert_eq!(engine.metrics().pruned_rows, 1);
    engine.shutdown().await;
    let kept = store.history(&HistoryQuery::new("api").with_until(now)).unwrap();
    assert_eq!(kept.iter().map(|r| r.latency_us).collect::<Vec<_>>(), [20]);
    store.shutdown().unwrap();
}
