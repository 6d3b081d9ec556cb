//! The built-in component checks against real peers: loopback listeners, an axum server,
//! the real PostgreSQL and Redis on 127.0.0.1, the real file system and /proc. Each is
//! also run through a `Registry` to show it plugs in.
//!
//! PostgreSQL (127.0.0.1:5432, user postgres, trust auth, database `test`) and Redis
//! (127.0.0.1:6379) run on every machine and in CI; these tests do not skip when they are
//! down, they fail.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod support;

use serde_json::Value;
use std::time::Duration;
use vitalcheck::Status;
use vitalcheck::checks::{DiskSpaceCheck, MemoryCheck, Threshold};
use vitalcheck::registry::{Check, ComponentHealth, Registry};

/// A password that must never show up in a message or metadata.
#[cfg(any(feature = "postgres", feature = "redis", feature = "probes"))]
const SECRET: &str = "hunter2-do-not-show";

fn meta(health: &ComponentHealth) -> &Value {
    health.metadata.as_ref().expect("metadata")
}

fn message(health: &ComponentHealth) -> &str {
    health.message.as_deref().expect("message")
}

/// Runs `check` alone in a registry and returns its report's status and message.
async fn via_registry(check: impl Check) -> (Status, String) {
    let mut registry = Registry::new();
    registry.register("it", check).timeout(Duration::from_secs(5));
    let mut reports = registry.run_all().await;
    let report = reports.pop().expect("one report");
    (report.status, report.message.unwrap_or_default())
}

// ----- tcp -------------------------------------------------------------------------------

#[cfg(feature = "probes")]
mod tcp {
    use super::*;
    use vitalcheck::checks::TcpCheck;

    #[tokio::test]
    async fn healthy_when_a_listener_accepts() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let check = TcpCheck::new(&addr.to_string()).unwrap();
        let health = check.check().await;
        assert_eq!(health.status, Status::Healthy, "{health:?}");
        assert_eq!(meta(&health)["address"], format!("tcp://{addr}"));
        assert!(meta(&health)["latency_ms"].as_f64().unwrap() >= 0.0);
        assert_eq!(via_registry(check).await.0, Status::Healthy);
    }

    #[tokio::test]
    async fn unhealthy_with_kind_and_detail_on_a_closed_port() {
        let port = support::free_port();
        let check = TcpCheck::new(&format!("tcp://127.0.0.1:{port}")).unwrap();
        let health = check.check().await;
        assert_eq!(health.status, Status::Unhealthy);
        let text = message(&health);
        assert!(text.starts_with(&format!("tcp://127.0.0.1:{port}: connection refused")), "{text}");
        assert_eq!(meta(&health)["error_kind"], "refused");
        let (status, text) = via_registry(check).await;
        assert_eq!(status, Status::Unhealthy);
        assert!(text.contains("connection refused"), "{text}");
    }

    #[tokio::test]
    async fn degraded_when_slower_than_the_limit() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let check = TcpCheck::new(&addr.to_string()).unwrap().degraded_after(Duration::ZERO);
        let health = check.check().await;
        assert_eq!(health.status, Status::Degraded, "{health:?}");
        assert!(message(&health).starts_with("connecting took"), "{health:?}");
    }

    #[test]
    fn only_tcp_targets() {
        let err = TcpCheck::new("http://127.0.0.1:80/").unwrap_err();
        assert!(err.to_string().contains("expected host:port for a TCP check"), "{err}");
    }
}

// ----- http ------------------------------------------------------------------------------

#[cfg(feature = "probes")]
mod http {
    use super::*;
    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::get;
    use vitalcheck::checks::HttpCheck;
    use vitalcheck::probe::{BodyExpectation, HttpProbe, ProbeContext};

    async fn server() -> std::net::SocketAddr {
        let router = Router::new()
            .route("/ok", get(|| async { "status: UP" }))
            .route("/down", get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "status: DOWN") }));
        support::serve(router).await
    }

    #[tokio::test]
    async fn healthy_on_200() {
        let addr = server().await;
        let check = HttpCheck::new(&format!("http://{addr}/ok")).unwrap().with_context(ProbeContext::new());
        let health = check.check().await;
        assert_eq!(health.status, Status::Healthy, "{health:?}");
        assert_eq!(meta(&health)["status"], 200);
        assert_eq!(via_registry(check).await.0, Status::Healthy);
    }

    #[tokio::test]
    async fn unhealthy_on_503_with_the_url_redacted() {
        let addr = server().await;
        let check = HttpCheck::new(&format!("http://app:{SECRET}@{addr}/down")).unwrap();
        let health = check.check().await;
        assert_eq!(health.status, Status::Unhealthy);
        let text = message(&health);
        assert!(text.starts_with(&format!("http://app:***@{addr}/down: HTTP status 503")), "{text}");
        assert_eq!(meta(&health)["status"], 503);
        assert_eq!(meta(&health)["error_kind"], "status");
        assert!(!meta(&health).to_string().contains(SECRET));
        let (status, text) = via_registry(check).await;
        assert_eq!(status, Status::Unhealthy);
        assert!(!text.contains(SECRET), "{text}");
    }

    #[tokio::test]
    async fn accepted_statuses_and_expectations_come_from_the_probe() {
        let addr = server().await;
        let mut probe = HttpProbe::new(format!("http://{addr}/down").parse().unwrap());
        probe.accept = "200,503".parse().unwrap();
        probe.expect.push(BodyExpectation::contains("DOWN"));
        assert_eq!(HttpCheck::from_probe(probe.clone()).check().await.status, Status::Healthy);

        probe.expect = vec![BodyExpectation::contains("UP")];
        let health = HttpCheck::from_probe(probe).check().await;
        assert_eq!(health.status, Status::Unhealthy);
        assert_eq!(meta(&health)["error_kind"], "expectation");
    }
}

// ----- disk ------------------------------------------------------------------------------

#[tokio::test]
async fn disk_levels_force_each_status() {
    let dir = tempfile::tempdir().unwrap();
    let none = Threshold::Bytes(0);
    let all = Threshold::Bytes(u64::MAX);

    let healthy = DiskSpaceCheck::new(dir.path()).degraded_below(none).unhealthy_below(none);
    let health = healthy.check().await;
    assert_eq!(health.status, Status::Healthy, "{health:?}");
    let m = meta(&health);
    assert!(m["total_bytes"].as_u64().unwrap() > 0, "{m}");
    assert!(m["free_bytes"].as_u64().unwrap() <= m["total_bytes"].as_u64().unwrap(), "{m}");
    assert!((0.0..=100.0).contains(&m["free_percent"].as_f64().unwrap()), "{m}");
    assert_eq!(m["path"], dir.path().display().to_string());

    let degraded = DiskSpaceCheck::new(dir.path()).degraded_below(all).unhealthy_below(none);
    let health = degraded.check().await;
    assert_eq!(health.status, Status::Degraded);
    assert!(message(&health).contains("below the degraded level"), "{health:?}");

    let unhealthy = DiskSpaceCheck::new(dir.path()).unhealthy_below(all);
    let health = unhealthy.check().await;
    assert_eq!(health.status, Status::Unhealthy);
    assert!(message(&health).contains("below the unhealthy level"), "{health:?}");

    let by_percent = DiskSpaceCheck::new(dir.path()).unhealthy_below(Threshold::Percent(100.1));
    assert_eq!(by_percent.check().await.status, Status::Unhealthy);

    assert_eq!(via_registry(healthy).await.0, Status::Healthy);
    assert_eq!(via_registry(degraded).await.0, Status::Degraded);
    assert_eq!(via_registry(unhealthy).await.0, Status::Unhealthy);
}

#[tokio::test]
async fn disk_on_a_missing_path_is_unhealthy() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("not-there");
    let health = DiskSpaceCheck::new(&missing).check().await;
    assert_eq!(health.status, Status::Unhealthy);
    assert!(message(&health).starts_with(&format!("cannot read free space of {}", missing.display())), "{health:?}");
}

// ----- memory ----------------------------------------------------------------------------

#[tokio::test]
async fn memory_levels_force_each_status() {
    let plain = MemoryCheck::new();
    let health = plain.check().await;
    assert_eq!(health.status, Status::Healthy, "{health:?}");
    let m = meta(&health);
    assert!(m["rss_bytes"].as_u64().unwrap() > 0, "{m}");

    let healthy = MemoryCheck::new()
        .rss_degraded_above(u64::MAX)
        .rss_unhealthy_above(u64::MAX)
        .available_degraded_below(Threshold::Bytes(0))
        .available_unhealthy_below(Threshold::Bytes(0));
    let health = healthy.check().await;
    assert_eq!(health.status, Status::Healthy, "{health:?}");
    let m = meta(&health);
    assert!(m["available_bytes"].as_u64().unwrap() <= m["total_bytes"].as_u64().unwrap(), "{m}");

    let rss_degraded = MemoryCheck::new().rss_degraded_above(1);
    let health = rss_degraded.check().await;
    assert_eq!(health.status, Status::Degraded);
    assert!(message(&health).starts_with("RSS above the degraded level"), "{health:?}");

    let rss_unhealthy = MemoryCheck::new().rss_degraded_above(1).rss_unhealthy_above(1);
    assert_eq!(rss_unhealthy.check().await.status, Status::Unhealthy);

    let low_available = MemoryCheck::new().available_degraded_below(Threshold::Bytes(u64::MAX));
    assert_eq!(low_available.check().await.status, Status::Degraded);
    let no_available = MemoryCheck::new().available_unhealthy_below(Threshold::Percent(100.1));
    let health = no_available.check().await;
    assert_eq!(health.status, Status::Unhealthy);
    assert!(message(&health).contains("available memory below the unhealthy level"), "{health:?}");

    assert_eq!(via_registry(healthy).await.0, Status::Healthy);
    assert_eq!(via_registry(rss_degraded).await.0, Status::Degraded);
    assert_eq!(via_registry(no_available).await.0, Status::Unhealthy);
}

// ----- postgres --------------------------------------------------------------------------

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use std::sync::Arc;
    use vitalcheck::checks::PostgresCheck;

    const LOCAL: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test";

    #[tokio::test]
    async fn healthy_against_the_real_server() {
        let check = PostgresCheck::new(LOCAL).unwrap();
        let health = check.check().await;
        assert_eq!(health.status, Status::Healthy, "{health:?}");
        assert!(message(&health).starts_with("SELECT 1 in "), "{health:?}");
        let m = meta(&health);
        assert!(m["server_version"].as_str().is_some_and(|v| v.chars().next().unwrap().is_ascii_digit()), "{m}");
        assert!(m["query_ms"].as_f64().is_some() && m["connect_ms"].as_f64().is_some(), "{m}");
        assert_eq!(m["target"], "postgres://postgres@127.0.0.1:5432/test");
        assert_eq!(via_registry(check).await.0, Status::Healthy);
    }

    #[tokio::test]
    async fn degraded_when_select_1_is_slower_than_the_limit() {
        let check = PostgresCheck::new(LOCAL).unwrap().degraded_after(Duration::ZERO);
        let health = check.check().await;
        assert_eq!(health.status, Status::Degraded, "{health:?}");
        assert!(message(&health).starts_with("SELECT 1 took"), "{health:?}");
    }

    #[tokio::test]
    async fn unhealthy_on_a_closed_port_without_the_password() {
        let port = support::free_port();
        let url = format!("postgres://postgres:{SECRET}@127.0.0.1:{port}/test");
        let check = PostgresCheck::new(&url).unwrap();
        let health = check.check().await;
        assert_eq!(health.status, Status::Unhealthy);
        let text = message(&health);
        assert!(text.starts_with(&format!("postgres://postgres@127.0.0.1:{port}/test: cannot connect")), "{text}");
        assert!(text.to_lowercase().contains("refused"), "{text}");
        assert!(!text.contains(SECRET) && !meta(&health).to_string().contains(SECRET), "{health:?}");
        let (status, text) = via_registry(check).await;
        assert_eq!(status, Status::Unhealthy);
        assert!(!text.contains(SECRET), "{text}");
    }

    #[tokio::test]
    async fn unhealthy_with_the_server_s_reason() {
        let check = PostgresCheck::new("host=127.0.0.1 user=postgres dbname=vitalcheck_no_such_db").unwrap();
        let health = check.check().await;
        assert_eq!(health.status, Status::Unhealthy);
        assert!(message(&health).contains("does not exist"), "{health:?}");
    }

    #[tokio::test]
    async fn over_a_provided_client() {
        let (client, connection) = tokio_postgres::connect(LOCAL, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        let client = Arc::new(client);
        let check = PostgresCheck::with_client(move || {
            let client = Arc::clone(&client);
            async move { Ok::<_, std::convert::Infallible>(client) }
        })
        .with_target_name("orders-db");
        let health = check.check().await;
        assert_eq!(health.status, Status::Healthy, "{health:?}");
        assert_eq!(meta(&health)["target"], "orders-db");
        assert_eq!(via_registry(check).await.0, Status::Healthy);

        let failing = PostgresCheck::with_client(|| async { Err::<Arc<tokio_postgres::Client>, _>("pool exhausted") });
        let health = failing.check().await;
        assert_eq!(health.status, Status::Unhealthy);
        assert_eq!(message(&health), "postgres (provided client): cannot get a client: pool exhausted");
    }
}

// ----- redis -----------------------------------------------------------------------------

#[cfg(feature = "redis")]
mod redis {
    use super::*;
    use vitalcheck::checks::RedisCheck;

    #[tokio::test]
    async fn healthy_against_the_real_server() {
        let check = RedisCheck::new("redis://127.0.0.1:6379").unwrap();
        let health = check.check().await;
        assert_eq!(health.status, Status::Healthy, "{health:?}");
        assert!(message(&health).starts_with("PONG in "), "{health:?}");
        assert_eq!(meta(&health)["url"], "redis://127.0.0.1:6379");
        assert_eq!(via_registry(check).await.0, Status::Healthy);
    }

    #[tokio::test]
    async fn degraded_when_slower_than_the_limit() {
        let check = RedisCheck::new("redis://127.0.0.1:6379/0").unwrap().degraded_after(Duration::ZERO);
        assert_eq!(check.check().await.status, Status::Degraded);
    }

    #[tokio::test]
    async fn unhealthy_on_a_closed_port_without_the_password() {
        let port = support::free_port();
        let check = RedisCheck::new(&format!("redis://:{SECRET}@127.0.0.1:{port}")).unwrap();
        let health = check.check().await;
        assert_eq!(health.status, Status::Unhealthy);
        let text = message(&health);
        assert!(text.starts_with(&format!("redis://:***@127.0.0.1:{port}: cannot connect")), "{text}");
        assert!(text.to_lowercase().contains("refused"), "{text}");
        assert!(!text.contains(SECRET) && !meta(&health).to_string().contains(SECRET), "{health:?}");
        let (status, text) = via_registry(check).await;
        assert_eq!(status, Status::Unhealthy);
        assert!(!text.contains(SECRET), "{text}");
    }

    #[tokio::test]
    async fn a_rejected_auth_does_not_show_the_password() {
        // No such ACL user on the local server: AUTH fails (WRONGPASS).
        let check = RedisCheck::new(&format!("redis://vitalcheck-nobody:{SECRET}@127.0.0.1:6379")).unwrap();
        let health = check.check().await;
        assert_eq!(health.status, Status::Unhealthy, "{health:?}");
        let text = message(&health);
        assert!(text.starts_with("redis://vitalcheck-nobody:***@127.0.0.1:6379: "), "{text}");
        assert!(text.to_lowercase().contains("authentication failed"), "{text}");
        assert!(!text.contains(SECRET), "{text}");
    }
}
