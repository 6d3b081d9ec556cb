//! Benchmark: the in-memory history of `vitalcheck-monitor` (DESIGN.md budget: 100,000
//! targets under 300 MB RSS; history memory bounded by configuration, flat over time).
//!
//! Run with `cargo bench -p vitalcheck-monitor --bench history`. Prints ns per
//! `record()`, bytes per target (`size_of::<History>()` + heap) and the total for
//! 100,000 targets, and the time of `uptime()` and of the percentiles.

use jiff::Timestamp;
use std::hint::black_box;
use std::time::{Duration, Instant};
use vitalcheck::Status;
use vitalcheck_monitor::history::{DAY, HOUR, History, HistoryConfig, MONTH, WEEK};

const TARGETS: usize = 100_000;
const RECORDS: u64 = 2_000_000;
const QUERIES: u64 = 200_000;

fn main() {
    let config = HistoryConfig::default().validate().expect("default config");
    let t0 = Timestamp::from_second(1_735_689_600).expect("timestamp");
    let status = |i: u64| if i.is_multiple_of(17) { Status::Unhealthy } else { Status::Healthy };
    let latency = |i: u64| Duration::from_micros(1_000 + (i * 7_919) % 50_000);

    // record(): one target, a result every 10 s for ~231 days.
    let mut history = History::new(&config);
    let start = Instant::now();
    for i in 0..RECORDS {
        history.record(black_box(t0 + Duration::from_secs(i * 10)), status(i), latency(i));
    }
    let per_record = start.elapsed().as_nanos() as f64 / RECORDS as f64;
    println!("record(): {per_record:.1} ns per call ({RECORDS} results, one every 10 s)");

    // Memory: 100,000 targets, each full.
    let start = Instant::now();
    let mut all: Vec<History> = (0..TARGETS).map(|_| History::new(&config)).collect();
    for (t, h) in all.iter_mut().enumerate() {
        for i in 0..config.results as u64 {
            h.record(t0 + Duration::from_secs(i * 30 + t as u64 % 30), status(i), latency(i));
        }
    }
    let fill = start.elapsed();
    let per_target = all[0].memory_bytes();
    let total: usize = all.iter().map(History::memory_bytes).sum();
    println!(
        "memory: {per_target} bytes per target ({} inline + {} heap, {} results, {} buckets); \
         {TARGETS} targets: {:.1} MB (filled in {fill:.2?})",
        std::mem::size_of::<History>(),
        all[0].heap_bytes(),
        config.results,
        config.tiers.iter().map(|t| t.buckets).sum::<u32>(),
        total as f64 / 1e6,
    );
    drop(all);

    // Queries on the long-running history.
    let now = t0 + Duration::from_secs(RECORDS * 10);
    for (name, window) in [("1h", HOUR), ("24h", DAY), ("7d", WEEK), ("30d", MONTH)] {
        let start = Instant::now();
        let mut sum = 0.0;
        for i in 0..QUERIES {
            sum += black_box(&history).uptime(window, now + Duration::from_secs(i % 60)).unwrap_or(0.0);
        }
        let ns = start.elapsed().as_nanos() as f64 / QUERIES as f64;
        println!("uptime({name}): {ns:.1} ns per call (mean {:.4})", sum / QUERIES as f64);
    }
    let start = Instant::now();
    for _ in 0..QUERIES / 10 {
        black_box(black_box(&history).latency_percentiles());
    }
    let ns = start.elapsed().as_nanos() as f64 / (QUERIES / 10) as f64;
    println!("latency_percentiles() over {} results: {ns:.0} ns per call", history.len());
    let start = Instant::now();
    for _ in 0..QUERIES {
        black_box(black_box(&history).latency_ema());
    }
    let ns = start.elapsed().as_nanos() as f64 / QUERIES as f64;
    println!("latency_ema(): {ns:.1} ns per call");
}
