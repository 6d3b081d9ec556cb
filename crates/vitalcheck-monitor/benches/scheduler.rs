//! Scheduler benchmark (prints figures; `cargo bench -p vitalcheck-monitor --bench scheduler`).
//!
//! 1. Steady state: 100,000 jobs, an instant probe, 10 s interval, 30 s of real time:
//!    runs per job, CPU time (utime + stime from /proc/self/stat), RSS (VmRSS).
//! 2. One pass: 10,000 jobs at concurrency 1,000, each probe a 50 ms tokio sleep: wall time.
//! 3. Overload: 100,000 jobs at 10 s (10,000 probes/s due), concurrency 1,000, each probe a
//!    200 ms tokio sleep (5,000 probes/s possible), 20 s: results/s, skips, the ready queue,
//!    tasks alive, lag, heap in use and RSS.
//!
//! Name scenarios (`one-pass`, `steady`, `overload`) after `--` to run only those.

#![allow(missing_docs)]

use std::time::{Duration, Instant};
use vitalcheck::probe::Observation;
use vitalcheck_monitor::scheduler::{Job, Scheduler, SchedulerConfig, probe_fn};

/// Counts the heap in use (the system allocator underneath, as before).
#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

fn heap_mib() -> f64 {
    ALLOCATOR.allocated() as f64 / (1024.0 * 1024.0)
}

/// User + system CPU time of this process.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat are utime and stime; after the name they are 11 and 12.
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    let hz = rustix::param::clock_ticks_per_second().max(1);
    Duration::from_secs_f64(ticks as f64 / hz as f64)
}

/// Resident set size in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn jobs(n: usize, interval: Duration) -> Vec<Job> {
    (0..n).map(|i| Job::new(format!("t{i}"), "http", interval, Duration::from_secs(5))).collect()
}

async fn steady(n: usize, interval: Duration, run_for: Duration) {
    let rss_before = rss_mib();
    let probe = probe_fn(|_| async { Ok(Observation::healthy(Duration::ZERO, "ok")) });
    let (sched, mut rx) = Scheduler::start(jobs(n, interval), probe, SchedulerConfig::default());
    let (cpu0, wall0) = (cpu_time(), Instant::now());
    let mut runs = vec![0u32; n];
    let deadline = tokio::time::Instant::now() + run_for;
    let mut peak_rss = rss_mib();
    let mut checked = Instant::now();
    while let Ok(Some(result)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        if let Some(i) = result.job.as_str().strip_prefix('t').and_then(|s| s.parse::<usize>().ok()) {
            runs[i] += 1;
        }
        if checked.elapsed() > Duration::from_secs(1) {
            peak_rss = peak_rss.max(rss_mib());
            checked = Instant::now();
        }
    }
    let (cpu, wall) = (cpu_time() - cpu0, wall0.elapsed());
    let m = sched.metrics();
    let expected = (run_for.as_secs_f64() / interval.as_secs_f64()).floor() as u32;
    let (min, max) = (runs.iter().min().copied().unwrap_or(0), runs.iter().max().copied().unwrap_or(0));
    let total: u64 = runs.iter().map(|&r| u64::from(r)).sum();
    println!("steady: {n} jobs, interval {interval:?}, {wall:.1?} wall");
    println!("  runs per job: min {min} max {max} (expected {expected}), total {total}");
    println!("  started {} skipped {} lag mean {:?} max {:?}", m.started, m.skipped, m.lag_mean(), m.lag_max);
    println!(
        "  CPU {cpu:.2?} = {:.3} cores; RSS before {rss_before:.1} MiB, peak {peak_rss:.1} MiB",
        cpu.as_secs_f64() / wall.as_secs_f64()
    );
    sched.shutdown(Duration::from_secs(5)).await;
}

async fn one_pass(n: usize, concurrency: usize, probe_time: Duration) {
    let probe = probe_fn(move |_| async move {
        tokio::time::sleep(probe_time).await;
        Ok(Observation::healthy(probe_time, "ok"))
    });
    let config = SchedulerConfig { concurrency, channel_capacity: n, spread: false };
    let wall0 = Instant::now();
    let (sched, mut rx) = Scheduler::start(jobs(n, Duration::from_secs(3600)), probe, config);
    for _ in 0..n {
        if rx.recv().await.is_none() {
            break;
        }
    }
    let wall = wall0.elapsed();
    let ideal = probe_time * (n / concurrency) as u32;
    println!(
        "one pass: {n} jobs, concurrency {concurrency}, probe {probe_time:?}: {wall:.3?} (ideal {ideal:?}, budget 2 s)"
    );
    println!("  lag max {:?}", sched.metrics().lag_max);
    sched.shutdown(Duration::from_secs(5)).await;
}

async fn overload(n: usize, interval: Duration, concurrency: usize, probe_time: Duration, run_for: Duration) {
    let (heap_before, rss_before) = (heap_mib(), rss_mib());
    let probe = probe_fn(move |_| async move {
        tokio::time::sleep(probe_time).await;
        Ok(Observation::healthy(probe_time, "ok"))
    });
    let config = SchedulerConfig { concurrency, ..SchedulerConfig::default() };
    let (sched, mut rx) = Scheduler::start(jobs(n, interval), probe, config);
    let runtime = tokio::runtime::Handle::current().metrics();
    let (wall0, deadline) = (Instant::now(), tokio::time::Instant::now() + run_for);
    let (mut results, mut peak_heap, mut peak_rss, mut peak_tasks, mut peak_queued) = (0u64, 0f64, 0f64, 0, 0);
    let mut checked = Instant::now();
    while let Ok(Some(_)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        results += 1;
        if checked.elapsed() > Duration::from_millis(250) {
            peak_heap = peak_heap.max(heap_mib());
            peak_rss = peak_rss.max(rss_mib());
            peak_tasks = peak_tasks.max(runtime.num_alive_tasks());
            peak_queued = peak_queued.max(sched.metrics().queued);
            checked = Instant::now();
        }
    }
    let wall = wall0.elapsed();
    let m = sched.metrics();
    let capacity = concurrency as f64 / probe_time.as_secs_f64();
    println!(
        "overload: {n} jobs, interval {interval:?} ({:.0} due/s), concurrency {concurrency}, probe {probe_time:?} \
         ({capacity:.0}/s possible), {wall:.1?} wall",
        n as f64 / interval.as_secs_f64()
    );
    println!("  results {:.0}/s, started {} skipped {}", results as f64 / wall.as_secs_f64(), m.started, m.skipped);
    println!("  peak: queued {peak_queued}, tasks alive {peak_tasks}; lag mean {:?} max {:?}", m.lag_mean(), m.lag_max);
    println!(
        "  heap before {heap_before:.1} MiB, peak {peak_heap:.1} MiB; RSS before {rss_before:.1} MiB, peak {peak_rss:.1} MiB"
    );
    sched.shutdown(Duration::from_secs(5)).await;
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let named: Vec<&str> = args.iter().map(String::as_str).filter(|a| !a.starts_with('-')).collect();
    let run = |scenario: &str| named.is_empty() || named.contains(&scenario);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_time().build().expect("runtime");
    runtime.block_on(async {
        if run("one-pass") {
            one_pass(10_000, 1_000, Duration::from_millis(50)).await;
        }
        if run("steady") {
            let run_for = if quick { Duration::from_secs(3) } else { Duration::from_secs(30) };
            steady(100_000, Duration::from_secs(10), run_for).await;
        }
        if run("overload") {
            let run_for = if quick { Duration::from_secs(5) } else { Duration::from_secs(20) };
            overload(100_000, Duration::from_secs(10), 1_000, Duration::from_millis(200), run_for).await;
        }
    });
}
