//! Goal 2, steady monitoring: every target probed once an interval (spread over it), for
//! a measured window that starts one interval after `Engine::start` returned (so every
//! target has had its first probe). Then, optionally, goal 3 on the same running engine.
//!
//! "Keeps up" is judged from the store after shutdown: for every target, the gaps between
//! the start times of its probes in the window (the one before the window included) and
//! from its last probe to the window's end must stay within the interval + 10%
//! (DESIGN.md's budget), with no slot skipped by the scheduler in the window.

use crate::measure::{self, mb, ms, thousands};
use crate::server::ServerProcess;
use crate::workload::{self, Workload, target_index};
use crate::{Goal, Options, snapshot};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::time::Instant as TokioInstant;
use vitalcheck::Status;
use vitalcheck_monitor::engine::{Engine, EngineMetrics, EngineOptions};
use vitalcheck_monitor::store::Store;

/// Memory budget of the steady goal (DESIGN.md: under 300 MB RSS), in bytes.
const MEMORY_BUDGET: u64 = 300_000_000;

/// What a steady run does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    pub(crate) targets: usize,
    pub(crate) groups: usize,
    pub(crate) interval: Duration,
    /// The measured window; 0 measures nothing (a warm engine for the snapshot goal).
    pub(crate) secs: u64,
    /// Time the snapshot reads on the running engine after the window.
    pub(crate) snapshot: bool,
}

/// One reading of the engine and the processes.
struct Reading {
    at: Instant,
    ts: Timestamp,
    metrics: EngineMetrics,
    cpu: Duration,
    threads: std::collections::HashMap<u32, (String, Duration)>,
    server_cpu: Option<Duration>,
    machine: (Duration, Duration),
}

impl Reading {
    fn take(engine: &Engine, server: &ServerProcess) -> Reading {
        Reading {
            at: Instant::now(),
            ts: Timestamp::now(),
            metrics: engine.metrics(),
            cpu: measure::cpu_time(),
            threads: measure::thread_times(),
            server_cpu: server.cpu_time(),
            machine: measure::machine_time(),
        }
    }
}

pub(crate) async fn run(server: &ServerProcess, options: &Options, spec: Spec) -> Result<Vec<Goal>, String> {
    let n = spec.targets;
    let timeout = spec.interval.min(Duration::from_secs(5));
    let workload = Workload {
        targets: n,
        groups: spec.groups,
        addrs: server.addrs,
        port: server.port,
        interval: spec.interval,
        timeout,
    };
    println!(
        "\n== steady: {} http targets over {} addresses, {} groups, interval {:?} (spread), timeout {timeout:?}, \
         concurrency {}, runtime {}; measured for {} s after the first interval ==",
        thousands(n as u64),
        thousands(server.addrs.min(n) as u64),
        spec.groups,
        spec.interval,
        thousands(options.concurrency as u64),
        options.runtime.name(),
        spec.secs
    );
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let db = dir.path().join("bench.db");
    let mut memory = Phases::default();
    memory.before_parse = measure::memory().rss;
    let peak_resets = measure::reset_peak();
    let config = workload.config(&db, false)?;
    let heap_config = measure::heap();
    let parsed = measure::memory();
    (memory.parse_peak, memory.after_parse) = (parsed.hwm, parsed.rss);
    measure::reset_peak();
    let store = workload::open_store(&db)?;
    let engine_options = EngineOptions { spread: true, concurrency: options.concurrency, ..EngineOptions::default() };
    let (engine, start) = workload::start(&config, &store, engine_options).await?;
    let started = Instant::now();
    let with_config = measure::memory();
    let heap_with_config = measure::heap();
    drop(config);
    let after_start = measure::memory();
    let heap_engine = measure::heap();
    (memory.start_peak, memory.after_start) = (with_config.hwm, after_start.rss);
    println!(
        "  Engine::start {}; RSS before the config {}, after parsing it {} (peak {}), after Engine::start {} \
         (peak during start {}), after dropping the config {}",
        ms(start),
        mb(memory.before_parse),
        mb(memory.after_parse),
        if peak_resets { mb(memory.parse_peak) } else { "?".into() },
        mb(with_config.rss),
        if peak_resets { mb(memory.start_peak) } else { "?".into() },
        mb(memory.after_start),
    );
    println!(
        "  heap in use: {} with the config parsed, {} with the config and the engine, {} with the engine alone",
        mb(heap_config),
        mb(heap_with_config),
        mb(heap_engine)
    );

    // Warm-up: the first interval, in which every target gets its first probe.
    let w0 = started + spec.interval;
    sample(&engine, server, started, w0, &mut 0).await;
    let first = Reading::take(&engine, server);
    println!(
        "  first interval done: {} results, {} transitions, skipped {}, lag max {}",
        thousands(first.metrics.results),
        thousands(first.metrics.transitions),
        first.metrics.scheduler.skipped,
        ms(first.metrics.scheduler.lag_max)
    );

    let mut goals = Vec::new();
    let mut window = None;
    if spec.secs > 0 {
        measure::reset_peak();
        let mut peak_rss = 0;
        sample(&engine, server, first.at, first.at + Duration::from_secs(spec.secs), &mut peak_rss).await;
        let last = Reading::take(&engine, server);
        memory.window_peak = if peak_resets { measure::memory().hwm } else { peak_rss };
        memory.window_sampled = peak_rss;
        window = Some((first, last));
    }
    let mut read_goals = Vec::new();
    if spec.snapshot {
        read_goals = snapshot::run(&engine, n, spec.groups, options.snapshots).await;
    }
    let t = Instant::now();
    let report = engine.shutdown().await;
    let end = engine.metrics();
    println!(
        "  shutdown: {} ({} probes finished, {} aborted); store: {} rows written in {} batches, {} store errors",
        ms(t.elapsed()),
        report.completed,
        report.aborted,
        thousands(end.rows_written),
        thousands(end.batches_written),
        end.store_errors
    );
    if let Some((first, last)) = window {
        goals.extend(judge(&spec, store.as_ref(), &first, &last, &memory, &end)?);
    }
    store.shutdown().map_err(|e| format!("store shutdown: {e}"))?;
    drop(engine);
    goals.extend(read_goals);
    Ok(goals)
}

/// Reads the engine every second until `until`, printing a line every 10 s; keeps the
/// peak RSS.
async fn sample(engine: &Engine, server: &ServerProcess, from: Instant, until: Instant, peak_rss: &mut u64) {
    let mut previous = Reading::take(engine, server);
    let mut tick = from;
    while Instant::now() < until {
        tick = (tick + Duration::from_secs(1)).min(until);
        tokio::time::sleep_until(TokioInstant::from_std(tick)).await;
        *peak_rss = (*peak_rss).max(measure::memory().rss);
        let now = Instant::now();
        if now.duration_since(previous.at) >= Duration::from_secs(10) || now >= until {
            let reading = Reading::take(engine, server);
            let wall = reading.at.duration_since(previous.at).as_secs_f64();
            let (m0, m1) = (&previous.metrics, &reading.metrics);
            let server_cores = reading
                .server_cpu
                .zip(previous.server_cpu)
                .map_or("?".into(), |(b, a)| format!("{:.2}", b.saturating_sub(a).as_secs_f64() / wall));
            println!(
                "    t+{:>5.1} s: {:>7.0} results/s, skipped +{}, timed out +{}, in flight {}, queued {}, lag max {}, \
                 CPU {:.2} cores (server {server_cores}, machine {:.2}), RSS {} (heap {})",
                now.duration_since(from).as_secs_f64(),
                (m1.results - m0.results) as f64 / wall,
                m1.scheduler.skipped - m0.scheduler.skipped,
                m1.scheduler.timed_out - m0.scheduler.timed_out,
                m1.scheduler.in_flight,
                m1.scheduler.queued,
                ms(m1.scheduler.lag_max),
                (reading.cpu - previous.cpu).as_secs_f64() / wall,
                measure::machine_cores(previous.machine, reading.machine, reading.at.duration_since(previous.at)),
                mb(measure::memory().rss),
                mb(measure::heap()),
            );
            previous = reading;
        }
    }
}

/// Resident memory at the steps of a run, in bytes; peaks are `VmHWM` reset at the
/// step's start (when the kernel allows it).
#[derive(Debug, Clone, Copy, Default)]
struct Phases {
    before_parse: u64,
    parse_peak: u64,
    after_parse: u64,
    start_peak: u64,
    after_start: u64,
    window_peak: u64,
    window_sampled: u64,
}

/// A target's probes as the store has them.
#[derive(Debug, Clone, Copy, Default)]
struct PerTarget {
    last: Option<Timestamp>,
    in_window: u32,
    max_gap: f64,
}

/// Prints the window's figures and judges the steady goals.
fn judge(
    spec: &Spec,
    store: &dyn Store,
    first: &Reading,
    last: &Reading,
    memory: &Phases,
    end: &EngineMetrics,
) -> Result<Vec<Goal>, String> {
    let n = spec.targets;
    let wall = last.at.duration_since(first.at);
    let (m0, m1) = (&first.metrics, &last.metrics);
    let results = m1.results - m0.results;
    let per_target = (wall.as_secs_f64() / spec.interval.as_secs_f64()).round() as u64;
    let expected = per_target * n as u64;
    let skipped = m1.scheduler.skipped - m0.scheduler.skipped;
    let started = m1.scheduler.started - m0.scheduler.started;
    let timed_out = m1.scheduler.timed_out - m0.scheduler.timed_out;
    let lag_mean =
        (m1.scheduler.lag_total - m0.scheduler.lag_total) / u32::try_from(started.max(1)).unwrap_or(u32::MAX);
    println!("  window {:.1} s:", wall.as_secs_f64());
    println!(
        "    results {} (expected {} = {} x {per_target}), {:.0}/s; started {}, skipped {skipped}, timed out \
         {timed_out}; lag mean {} in the window, max {} since start",
        thousands(results),
        thousands(expected),
        thousands(n as u64),
        results as f64 / wall.as_secs_f64(),
        thousands(started),
        ms(lag_mean),
        ms(m1.scheduler.lag_max)
    );

    // Per target, from the store.
    let gaps = Gaps::scan(store, n, spec.interval, first.ts, last.ts)?;
    gaps.print(per_target);
    let Gaps { over, never, failed, largest_gap, .. } = gaps;

    // CPU and memory.
    let cpu = last.cpu - first.cpu;
    let cores = cpu.as_secs_f64() / wall.as_secs_f64();
    let per_probe = cpu.as_secs_f64() * 1e6 / results.max(1) as f64;
    println!(
        "    CPU, engine process: {:.2} s = {cores:.3} cores, {per_probe:.1} us a probe {}",
        cpu.as_secs_f64(),
        crate::reference::shown()
    );
    for (name, t) in measure::thread_breakdown(&first.threads, &last.threads, cpu) {
        println!("      {name:<24} {:>7.2} s = {:.3} cores", t.as_secs_f64(), t.as_secs_f64() / wall.as_secs_f64());
    }
    let server = last.server_cpu.zip(first.server_cpu).map_or(Duration::ZERO, |(b, a)| b.saturating_sub(a));
    println!(
        "    CPU, server process (not counted): {:.3} cores, {:.1} us a request",
        server.as_secs_f64() / wall.as_secs_f64(),
        server.as_secs_f64() * 1e6 / results.max(1) as f64
    );
    let machine = measure::machine_cores(first.machine, last.machine, wall);
    println!(
        "    CPU, whole machine: {machine:.3} cores busy; other processes and the kernel's own threads {:.3} cores",
        (machine - cores - server.as_secs_f64() / wall.as_secs_f64()).max(0.0)
    );
    let lifetime = memory.parse_peak.max(memory.start_peak).max(memory.window_peak);
    println!(
        "    memory: peak RSS in the window {} (VmHWM reset at its start; sampled each second: {}); peak over the \
         process's life {} (config parsing {}, Engine::start {})",
        mb(memory.window_peak),
        mb(memory.window_sampled),
        mb(lifetime),
        mb(memory.parse_peak),
        mb(memory.start_peak)
    );

    let keeps_up = skipped == 0 && over == 0 && never == 0;
    // What the full rate would take at the cost measured per probe: whether 1 core can
    // keep up at all on this machine.
    let rate = n as f64 / spec.interval.as_secs_f64();
    let needed = per_probe * 1e-6 * rate;
    println!("    at {per_probe:.1} us a probe, {rate:.0} probes/s would take {needed:.2} cores");
    let what = |s: &str| format!("steady ({} @ {:?}): {s}", thousands(n as u64), spec.interval);
    let per_probe_cpu = Duration::from_secs_f64(per_probe * 1e-6);
    let mut goals = vec![
        Goal::new(
            &what("keeps up"),
            format!(
                "largest gap {largest_gap:.2} s, skipped {skipped}, {} of {} results",
                thousands(results),
                thousands(expected)
            ),
            "every target each interval + 10%",
            keeps_up,
        ),
        Goal::new(
            &what("CPU, engine process"),
            format!("{cores:.3} cores ({per_probe:.1} us a probe; the full rate would take {needed:.2})"),
            "under 1 core",
            cores < 1.0,
        ),
        Goal::new(
            &what("peak RSS"),
            format!("{} in the window ({} with config parsing)", mb(memory.window_peak), mb(lifetime)),
            "under 300 MB",
            memory.window_peak < MEMORY_BUDGET,
        ),
        Goal::new(
            &what("failed probes, store errors"),
            format!("{failed} failed (timed out {timed_out}), {} store errors", end.store_errors),
            "0",
            failed == 0 && end.store_errors == 0,
        ),
    ];
    goals.extend(crate::reference::goal(&what("CPU per probe"), per_probe_cpu));
    Ok(goals)
}

/// Each target's probes in a window `[w0, w1)`, as the store has them: what "keeps up" is
/// judged from (also for the real binary, `binary.rs`).
pub(crate) struct Gaps {
    pub(crate) scanned: u64,
    scan_time: Duration,
    /// Results in the window, all targets.
    pub(crate) results: u64,
    min: u32,
    max: u32,
    below_expected: usize,
    pub(crate) largest_gap: f64,
    gap_budget: f64,
    /// Targets with a gap over the budget.
    pub(crate) over: usize,
    /// Targets without any probe.
    pub(crate) never: usize,
    pub(crate) failed: u64,
    failures: BTreeMap<String, u64>,
    latency: measure::Stats,
}

impl Gaps {
    /// Scans the results of targets `t0..t{n-1}` from one interval (+2 s) before `w0` on:
    /// for each target the largest gap between two probe starts in the window (the one
    /// before it included) and from its last probe to `w1`.
    pub(crate) fn scan(
        store: &dyn Store,
        n: usize,
        interval: Duration,
        w0: Timestamp,
        w1: Timestamp,
    ) -> Result<Gaps, String> {
        let scan_from = w0
            .checked_sub(SignedDuration::try_from(interval + Duration::from_secs(2)).unwrap_or_default())
            .map_err(|e| e.to_string())?;
        let mut targets = vec![PerTarget::default(); n];
        let mut failures: BTreeMap<String, u64> = BTreeMap::new();
        let mut latencies: Vec<Duration> = Vec::new();
        let t = Instant::now();
        let scanned = store
            .scan_results(scan_from, &mut |row| {
                let Some(target) = target_index(&row.target).and_then(|i| targets.get_mut(i)) else { return };
                if row.at >= w1 {
                    return;
                }
                if row.at >= w0 {
                    target.in_window += 1;
                    if let Some(previous) = target.last {
                        target.max_gap = target.max_gap.max(row.at.duration_since(previous).as_secs_f64());
                    }
                    if row.status == Status::Healthy {
                        latencies.push(Duration::from_micros(row.latency_us));
                    } else {
                        let kind = row.error_kind.clone().unwrap_or_else(|| row.status.to_string());
                        *failures.entry(kind).or_default() += 1;
                    }
                }
                target.last = Some(row.at);
            })
            .map_err(|e| format!("scanning the store: {e}"))?;
        let scan_time = t.elapsed();
        let mut never = 0;
        for target in &mut targets {
            match target.last {
                Some(last) => target.max_gap = target.max_gap.max(w1.duration_since(last).as_secs_f64()),
                None => never += 1,
            }
        }
        let wall = w1.duration_since(w0).as_secs_f64();
        let per_target = (wall / interval.as_secs_f64()).round() as u64;
        let gap_budget = interval.as_secs_f64() * 1.1;
        Ok(Gaps {
            scanned,
            scan_time,
            results: targets.iter().map(|t| u64::from(t.in_window)).sum(),
            min: targets.iter().map(|t| t.in_window).min().unwrap_or(0),
            max: targets.iter().map(|t| t.in_window).max().unwrap_or(0),
            below_expected: targets.iter().filter(|t| u64::from(t.in_window) < per_target).count(),
            largest_gap: targets.iter().map(|t| t.max_gap).fold(0.0, f64::max),
            gap_budget,
            over: targets.iter().filter(|t| t.max_gap > gap_budget).count(),
            never,
            failed: failures.values().sum(),
            failures,
            latency: measure::Stats::of(latencies),
        })
    }

    /// Prints the per-target lines (`per_target`: the probes each target should have had).
    pub(crate) fn print(&self, per_target: u64) {
        println!(
            "    per target (store scan of {} rows in {:.2} s): probes in the window min {} max {} (expected \
             {per_target}; {} targets below), largest gap {:.3} s (budget {:.1} s; {} targets over), {} never probed",
            thousands(self.scanned),
            self.scan_time.as_secs_f64(),
            self.min,
            self.max,
            self.below_expected,
            self.largest_gap,
            self.gap_budget,
            self.over,
            self.never
        );
        println!(
            "    failed probes in the window: {} {:?}; latency of the others: {}",
            self.failed, self.failures, self.latency
        );
    }
}
