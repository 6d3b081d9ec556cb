use super::health_json::HealthResponse;
use super::*;
use proptest::prelude::{Just, prop_assert, prop_assert_eq, prop_oneof, proptest};

fn component(name: &str, status: Status, critical: bool) -> ComponentReport {
    ComponentReport::new(name, status, Duration::from_millis(1)).critical(critical)
}

#[test]
fn empty_is_healthy() {
    assert_eq!(overall(&[]), Status::Healthy);
}

#[test]
fn worst_critical_wins_non_critical_only_degrades() {
    use Status::*;
    let cases = [
        (vec![(Healthy, true), (Degraded, true)], Degraded),
        (vec![(Healthy, true), (Unhealthy, true)], Unhealthy),
        (vec![(Healthy, true), (Unhealthy, false)], Degraded),
        (vec![(Degraded, false), (Healthy, true)], Degraded),
        (vec![(Unhealthy, false), (Unhealthy, true)], Unhealthy),
    ];
    for (parts, expected) in cases {
        let reports: Vec<_> = parts.iter().map(|(s, c)| component("x", *s, *c)).collect();
        assert_eq!(overall(&reports), expected, "{parts:?}");
    }
}

#[test]
fn report_ready_only_when_running_and_not_unhealthy() {
    let healthy = || vec![component("db", Status::Healthy, true)];
    assert!(HealthReport::new(healthy(), LifecycleState::Running, Duration::ZERO).ready);
    assert!(!HealthReport::new(healthy(), LifecycleState::Draining, Duration::ZERO).ready);
    let sick = vec![component("db", Status::Unhealthy, true)];
    assert!(!HealthReport::new(sick, LifecycleState::Running, Duration::ZERO).ready);
}

#[test]
fn health_json_round_trip_and_shape() {
    let mut report = HealthReport::new(
        vec![
            component("db", Status::Healthy, true),
            component("cache", Status::Unhealthy, false).message("connection refused"),
        ],
        LifecycleState::Running,
        Duration::from_secs(90),
    );
    report.extra.insert("version".into(), serde_json::json!("1.2.3"));
    let text = HealthResponse::from_report(&report).to_json();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["status"], "warn");
    assert_eq!(value["version"], "1.2.3");
    assert_eq!(value["checks"]["cache"][0]["status"], "fail");
    assert_eq!(value["checks"]["cache"][0]["output"], "connection refused");
    assert_eq!(value["checks"]["db"][0]["observedUnit"], "ms");
    assert_eq!(value["uptimeSeconds"], 90.0);
    let back = HealthResponse::parse(&text).unwrap();
    assert_eq!(back.status, Status::Degraded);
    assert_eq!(back.ready, Some(true));
    assert_eq!(back.checks.len(), 2);
    assert_eq!(back.extra["version"], "1.2.3");
}

#[test]
fn details_can_be_left_out() {
    let report = HealthReport::new(
        vec![component("db", Status::Unhealthy, true).message("password authentication failed")],
        LifecycleState::Running,
        Duration::ZERO,
    );
    let text = HealthResponse::from_report_with(&report, false).to_json();
    assert!(!text.contains("password"), "{text}");
    assert!(text.contains(r#""status":"fail""#), "{text}");
}

#[test]
fn parses_foreign_documents_with_aliases() {
    let text = r#"{"status":"UP","serviceId":"x","checks":{"disk:free":[{"status":"down","componentType":"system"}]}}"#;
    let parsed = HealthResponse::parse(text).unwrap();
    assert_eq!(parsed.status, Status::Healthy);
    assert_eq!(parsed.checks["disk:free"][0].status, Status::Unhealthy);
    assert_eq!(parsed.checks["disk:free"][0].extra["componentType"], "system");
    let err = HealthResponse::parse(r#"{"status":"maybe"}"#).unwrap_err();
    assert!(err.to_string().contains("expected pass, warn or fail"), "{err}");
}

fn status() -> impl proptest::strategy::Strategy<Value = Status> {
    prop_oneof![Just(Status::Healthy), Just(Status::Degraded), Just(Status::Unhealthy)]
}

proptest! {
    #[test]
    fn overall_is_the_worst_effective_status(parts in proptest::collection::vec((status(), proptest::bool::ANY), 0..50)) {
        let reports: Vec<_> = parts.iter().map(|(s, c)| component("x", *s, *c)).collect();
        let got = overall(&reports);
        for r in &reports {
            prop_assert!(r.effective_status() <= got);
        }
        prop_assert_eq!(got == Status::Unhealthy, parts.iter().any(|(s, c)| *s == Status::Unhealthy && *c));
        prop_assert_eq!(got == Status::Healthy, parts.iter().all(|(s, _)| *s == Status::Healthy));
    }

    #[test]
    fn order_does_not_matter(mut parts in proptest::collection::vec((status(), proptest::bool::ANY), 0..20)) {
        let before = overall(&parts.iter().map(|(s, c)| component("x", *s, *c)).collect::<Vec<_>>());
        parts.reverse();
        let after = overall(&parts.iter().map(|(s, c)| component("x", *s, *c)).collect::<Vec<_>>());
        prop_assert_eq!(before, after);
    }
}
