use super::*;
use std::sync::atomic::{AtomicU32, Ordering};

fn counter() -> Arc<AtomicU32> {
    Arc::new(AtomicU32::new(0))
}

#[tokio::test(start_paused = true)]
async fn checks_run_concurrently() {
    let mut r = Registry::new();
    for name in ["a", "b", "c"] {
        r.register(name, || async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            ComponentHealth::healthy()
        });
    }
    let start = Instant::now();
    let reports = r.run_all().await;
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    let names: Vec<_> = reports.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"], "registration order");
}

#[tokio::test(start_paused = true)]
async fn a_slow_check_times_out_as_unhealthy() {
    let mut r = Registry::new();
    r.register("slow", || async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        ComponentHealth::healthy()
    })
    .timeout(Duration::from_millis(50));
    r.register("fast", || async { ComponentHealth::healthy() });
    let reports = r.run_all().await;
    assert_eq!(reports[0].status, Status::Unhealthy);
    assert_eq!(reports[0].message.as_deref(), Some("timed out after 50ms"));
    assert_eq!(reports[0].latency, Duration::from_millis(50));
    assert_eq!(reports[1].status, Status::Healthy);
}

#[tokio::test]
async fn a_panicking_check_is_unhealthy_and_harmless() {
    let mut r = Registry::new();
    r.register("boom", || async {
        if true {
            panic!("boom at startup");
        }
        ComponentHealth::healthy()
    });
    r.register("fine", || async { ComponentHealth::healthy() });
    let reports = r.run_all().await;
    assert_eq!(reports[0].status, Status::Unhealthy);
    assert_eq!(reports[0].message.as_deref(), Some("the check panicked: boom at startup"));
    assert_eq!(reports[1].status, Status::Healthy);
    // The registry still works afterwards.
    assert_eq!(r.run_all().await.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn retries_ride_out_transient_failures() {
    let calls = counter();
    let seen = calls.clone();
    let mut r = Registry::new();
    r.register("flaky", move || {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        async move { if n < 2 { ComponentHealth::unhealthy("not yet") } else { ComponentHealth::healthy() } }
    })
    .retries(2, Backoff::constant(Duration::from_millis(10)));
    let report = &r.run_all().await[0];
    assert_eq!(report.status, Status::Healthy);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(report.latency, Duration::from_millis(20));
}

#[tokio::test(start_paused = true)]
async fn retries_give_up_with_the_last_message() {
    let mut r = Registry::new();
    r.register("down", || async { ComponentHealth::unhealthy("refused") })
        .retries(1, Backoff::constant(Duration::ZERO));
    let report = &r.run_all().await[0];
    assert_eq!((report.status, report.message.as_deref()), (Status::Unhealthy, Some("refused")));
}

#[tokio::test(start_paused = true)]
async fn cache_serves_young_results_and_shares_a_run() {
    let calls = counter();
    let seen = calls.clone();
    let mut r = Registry::new();
    r.register("db", move || {
        seen.fetch_add(1, Ordering::SeqCst);
        async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            ComponentHealth::healthy()
        }
    })
    .cache_ttl(Duration::from_secs(1));
    let (a, b) = tokio::join!(r.run_all(), r.run_all());
    assert_eq!(calls.load(Ordering::SeqCst), 1, "concurrent callers share one run");
    assert_eq!(a, b);
    r.run_all().await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    tokio::time::advance(Duration::from_secs(2)).await;
    r.run_all().await;
    assert_eq!(calls.load(Ordering::SeqCst), 2, "stale result runs again");
}

#[tokio::test]
async fn tags_select_and_disabled_checks_do_not_run() {
    let mut r = Registry::new();
    r.register("ping", || async { ComponentHealth::healthy() }).tags(["live"]);
    r.register("db", || async { ComponentHealth::healthy() }).tags(["ready", "storage"]);
    r.register("off", || async { ComponentHealth::healthy() }).tags(["ready"]).enabled(false);
    let names = |reports: Vec<ComponentReport>| reports.into_iter().map(|r| r.name).collect::<Vec<_>>();
    assert_eq!(names(r.run_tagged("live").await), ["ping"]);
    assert_eq!(names(r.run_tagged("ready").await), ["db"]);
    assert_eq!(names(r.run_all().await), ["ping", "db"]);
    assert_eq!(r.run_tagged("ready").await[0].tags, ["ready", "storage"]);
}

#[tokio::test]
async fn registering_a_name_again_replaces_it() {
    let mut r = Registry::new();
    r.register("db", || async { ComponentHealth::unhealthy("old") });
    r.register("db", || async { ComponentHealth::healthy().with_metadata(serde_json::json!({"pool": 4})) });
    let reports = r.run_all().await;
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].status, Status::Healthy);
    assert_eq!(reports[0].metadata, Some(serde_json::json!({"pool": 4})));
}

#[tokio::test]
async fn non_critical_flag_reaches_the_report() {
    let mut r = Registry::new();
    r.register("cache", || async { ComponentHealth::unhealthy("down") }).critical(false);
    let reports = r.run_all().await;
    assert!(!reports[0].critical);
    assert_eq!(crate::report::overall(&reports), Status::Degraded);
}

#[test]
fn from_result_maps_errors_to_unhealthy() {
    assert_eq!(ComponentHealth::from_result::<String>(Ok(())).status, Status::Healthy);
    let h = ComponentHealth::from_result(Err("refused"));
    assert_eq!((h.status, h.message.as_deref()), (Status::Unhealthy, Some("refused")));
}

#[tokio::test]
async fn a_check_that_panics_after_waiting_is_contained_too() {
    let mut r = Registry::new();
    r.register("late", || async {
        tokio::task::yield_now().await;
        if true {
            panic!("late boom");
        }
        ComponentHealth::healthy()
    });
    r.register("fine", || async { ComponentHealth::healthy() });
    let reports = r.run_all().await;
    assert_eq!(reports[0].message.as_deref(), Some("the check panicked: late boom"));
    assert_eq!(reports[1].status, Status::Healthy);
}
