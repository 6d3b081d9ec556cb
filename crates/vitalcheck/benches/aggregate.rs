//! Benchmark: aggregating 1,000 registered component checks that answer at once.
//! DESIGN.md budget: under 2 ms per aggregation on the 2-core machine.
//!
//! Run with `cargo bench -p vitalcheck --bench aggregate`. It times
//! `HealthService::check(Full)` (the checks, the report, the lifecycle and gates) and
//! `Registry::run_all` alone, each called from a task on a multi-thread tokio runtime as
//! a request handler would, and prints the mean, median and p99 per call.

use std::time::{Duration, Instant};
use vitalcheck::HealthService;
use vitalcheck::lifecycle::Lifecycle;
use vitalcheck::registry::{ComponentHealth, Registry};
use vitalcheck::service::CheckType;

const CHECKS: usize = 1_000;
const WARMUP: usize = 50;
const MAX_CALLS: usize = 2_000;
const MAX_TIME: Duration = Duration::from_secs(3);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let mut registry = Registry::new();
    for i in 0..CHECKS {
        registry.register(format!("check-{i}"), || async { ComponentHealth::healthy() });
    }
    let health = HealthService::new(registry, Lifecycle::new());
    health.lifecycle().mark_running();
    let workers = runtime.metrics().num_workers();
    println!("aggregate: {CHECKS} checks answering at once, multi-thread runtime with {workers} workers");

    let service = health.clone();
    let full = runtime
        .block_on(runtime.spawn(async move {
            time_calls(|| async {
                let answer = service.check(CheckType::Full).await;
                assert!(answer.ok && answer.report.components.len() == CHECKS);
            })
            .await
        }))
        .expect("bench task");
    print_line("HealthService::check(Full)", &full);

    let run_all = runtime
        .block_on(runtime.spawn(async move {
            time_calls(|| async {
                assert_eq!(health.registry().run_all().await.len(), CHECKS);
            })
            .await
        }))
        .expect("bench task");
    print_line("Registry::run_all", &run_all);
}

/// Calls `call` after a warm-up until `MAX_CALLS` calls or `MAX_TIME`; returns each
/// call's time, sorted.
async fn time_calls<F, Fut>(call: F) -> Vec<Duration>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..WARMUP {
        call().await;
    }
    let start = Instant::now();
    let mut times = Vec::with_capacity(MAX_CALLS);
    while times.len() < MAX_CALLS && start.elapsed() < MAX_TIME {
        let t = Instant::now();
        call().await;
        times.push(t.elapsed());
    }
    times.sort_unstable();
    times
}

fn print_line(what: &str, sorted: &[Duration]) {
    let n = sorted.len();
    let mean = sorted.iter().sum::<Duration>() / n as u32;
    let median = sorted[n / 2];
    let p99 = sorted[(n * 99 / 100).min(n - 1)];
    let verdict = if median < Duration::from_millis(2) { "within" } else { "OVER" };
    println!(
        "{what:<28} {n:>5} calls  mean {:>7.3} ms  median {:>7.3} ms  p99 {:>7.3} ms  ({verdict} the 2 ms budget)",
        ms(mean),
        ms(median),
        ms(p99)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
