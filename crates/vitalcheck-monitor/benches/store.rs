//! SQLite store figures: commit time for batches of 10,000 results, rows per second, a
//! full `scan_results`, and read latencies on the resulting file. Prints one line per figure.
//!
//! `cargo bench -p vitalcheck-monitor --bench store` (release). Knobs: `STORE_BATCHES`
//! (timed batches, default 30), `STORE_TARGETS` (default 1,000).
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failed run

use jiff::Timestamp;
use std::time::{Duration, Instant};
use vitalcheck::Status;
use vitalcheck_monitor::store::{Batch, HistoryQuery, Order, ResultRow, SqliteStore, Store};

const ROWS: usize = 10_000;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Batch `n`: one result for each of `targets` targets, repeated to `ROWS` rows, one
/// second apart per round, so each target's history grows in time order.
fn batch(n: usize, targets: usize) -> Batch {
    let results = (0..ROWS)
        .map(|i| {
            let round = (n * ROWS + i) / targets;
            let at = Timestamp::from_second(1_700_000_000 + round as i64).unwrap();
            let status = if i % 17 == 0 { Status::Unhealthy } else { Status::Healthy };
            let mut row = ResultRow::new(format!("target-{}", i % targets), at, status, 1_000 + (i as u64 % 500));
            if status == Status::Unhealthy {
                row.error_kind = Some("refused".into());
                row.detail = "connection refused".into();
            }
            row
        })
        .collect();
    Batch::from_results(results)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn summary(label: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{label}: n={} min {:.2?} p50 {:.2?} p95 {:.2?} p99 {:.2?} max {:.2?}",
        times.len(),
        times[0],
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 0.99),
        times[times.len() - 1]
    );
}

fn main() {
    let batches = env("STORE_BATCHES", 30);
    let targets = env("STORE_TARGETS", 1_000);
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("bench.db")).unwrap();
    println!("store bench: {batches} batches of {ROWS} results over {targets} targets, WAL + synchronous=NORMAL");

    // Warm-up: the first batches create the targets and grow the file.
    for n in 0..2 {
        store.record(batch(n, targets)).unwrap().wait().unwrap();
    }
    let mut times = Vec::new();
    let started = Instant::now();
    for n in 2..2 + batches {
        let b = batch(n, targets);
        let t = Instant::now();
        store.record(b).unwrap().wait().unwrap();
        times.push(t.elapsed());
    }
    let waited: Duration = times.iter().sum();
    summary("batch of 10,000 rows, record -> ack (one at a time)", times);
    println!(
        "rows/s, one batch at a time: {:.0} (commit time only), {:.0} (including building batches)",
        (batches * ROWS) as f64 / waited.as_secs_f64(),
        (batches * ROWS) as f64 / started.elapsed().as_secs_f64()
    );

    // Pipelined: batches queued back to back, acks awaited at the end.
    let prepared: Vec<Batch> = (2 + batches..2 + 2 * batches).map(|n| batch(n, targets)).collect();
    let t = Instant::now();
    let acks: Vec<_> = prepared.into_iter().map(|b| store.record(b).unwrap()).collect();
    acks.into_iter().for_each(|ack| ack.wait().unwrap());
    let elapsed = t.elapsed();
    println!(
        "rows/s, {batches} batches queued at once: {:.0} ({elapsed:.2?} in all)",
        (batches * ROWS) as f64 / elapsed.as_secs_f64()
    );

    // A one-row batch pays the writer's linger (2 ms by default) waiting for company.
    let mut small = Vec::new();
    for i in 0..50 {
        let at = Timestamp::from_second(1_800_000_000 + i).unwrap();
        let t = Instant::now();
        store
            .record(Batch::from_results(vec![ResultRow::new("single", at, Status::Healthy, 1)]))
            .unwrap()
            .wait()
            .unwrap();
        small.push(t.elapsed());
    }
    summary("batch of 1 row, record -> ack", small);

    let total_rows = (2 + 2 * batches) * ROWS;
    reads(&store, targets, total_rows);
    let cut = Timestamp::from_second(1_700_000_000 + (total_rows / targets / 2) as i64).unwrap();
    let t = Instant::now();
    let pruned = store.prune(cut).unwrap();
    println!("prune half of {total_rows} rows: {} rows deleted in {:.2?}", pruned.results, t.elapsed());
    store.shutdown().unwrap();
}

/// Read latencies on a file holding `total_rows` results.
fn reads(store: &SqliteStore, targets: usize, total_rows: usize) {
    let per_target = total_rows / targets;
    let mut rng = fastrand::Rng::with_seed(7);
    let mut last_100 = Vec::new();
    let mut window = Vec::new();
    let mut counts = Vec::new();
    for _ in 0..2_000 {
        let target = format!("target-{}", rng.usize(..targets));
        let q = HistoryQuery::new(target.as_str()).with_order(Order::NewestFirst).with_limit(100);
        let t = Instant::now();
        assert_eq!(store.history(&q).unwrap().len(), 100.min(per_target));
        last_100.push(t.elapsed());

        let from = Timestamp::from_second(1_700_000_000 + rng.usize(..per_target / 2) as i64).unwrap();
        let q =
            HistoryQuery::new(target.as_str()).with_since(from).with_until(from + jiff::SignedDuration::from_secs(60));
        let t = Instant::now();
        store.history(&q).unwrap();
        window.push(t.elapsed());

        let t = Instant::now();
        store.status_counts(&target, Timestamp::from_second(1_700_000_000).unwrap()).unwrap();
        counts.push(t.elapsed());
    }
    // What the engine does on start: every stored result, oldest first, one at a time.
    let t = Instant::now();
    let mut latency_sum = 0u64;
    let scanned = store.scan_results(Timestamp::UNIX_EPOCH, &mut |row| latency_sum += row.latency_us).unwrap();
    let elapsed = t.elapsed();
    assert!(scanned as usize >= total_rows, "{scanned} rows scanned");
    println!(
        "scan_results over all {scanned} rows: {elapsed:.2?} ({:.0} rows/s; latency sum {latency_sum})",
        scanned as f64 / elapsed.as_secs_f64()
    );
    println!("history reads on {total_rows} rows ({per_target} per target):");
    summary("  history, newest 100 of one target", last_100);
    summary("  history, a 60 s window of one target", window);
    summary(&format!("  status_counts over all {per_target} results of one target"), counts);
}
