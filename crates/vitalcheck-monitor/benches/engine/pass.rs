//! Goal 1, one pass: every target probed once, all at the start (`spread: false`), at most
//! `concurrency` at a time; the time from `Engine::start` until the engine has taken in
//! every result.

use crate::measure::{self, ms, thousands};
use crate::server::ServerProcess;
use crate::workload::{self, Workload};
use crate::{Goal, Options};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use vitalcheck::state::TargetStatus;
use vitalcheck_monitor::engine::EngineOptions;
use vitalcheck_monitor::store::Store;

/// A pass is given up after this long.
const PASS_LIMIT: Duration = Duration::from_secs(120);

/// One round's figures.
struct Round {
    start: Duration,
    wall: Duration,
    results: u64,
    failed: usize,
    cpu: Duration,
    server_cpu: Option<Duration>,
}

pub(crate) async fn run(server: &ServerProcess, options: &Options) -> Result<Vec<Goal>, String> {
    let n = options.pass_targets;
    let workload = Workload {
        targets: n,
        groups: 0,
        addrs: server.addrs,
        port: server.port,
        interval: Duration::from_secs(3600),
        timeout: Duration::from_secs(10),
    };
    println!(
        "\n== pass: {} http targets once (interval 1 h, spread off), concurrency {}, {} rounds ==",
        thousands(n as u64),
        thousands(options.concurrency as u64),
        options.rounds
    );
    let mut rounds = Vec::new();
    for round in 0..options.rounds {
        let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
        let db = dir.path().join("bench.db");
        let config = workload.config(&db, round > 0)?;
        let store = workload::open_store(&db)?;
        let engine_options =
            EngineOptions { spread: false, concurrency: options.concurrency, ..EngineOptions::default() };
        let threads0 = measure::thread_times();
        let machine0 = measure::machine_time();
        let (cpu0, server0, t0) = (measure::cpu_time(), server.cpu_time(), Instant::now());
        let (engine, start) = workload::start(&config, &store, engine_options).await?;
        // Poll every millisecond until every result is in (bounded).
        while engine.metrics().results < n as u64 && t0.elapsed() < PASS_LIMIT {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let wall = t0.elapsed();
        let cpu = measure::cpu_time() - cpu0;
        let server_cpu = server.cpu_time().zip(server0).map(|(b, a)| b.saturating_sub(a));
        let threads = measure::thread_breakdown(&threads0, &measure::thread_times(), cpu);
        let machine = measure::machine_cores(machine0, measure::machine_time(), wall);
        let metrics = engine.metrics();
        let snapshot = engine.snapshot();
        let failed: Vec<_> = snapshot.iter().filter(|t| t.last.as_ref().is_none_or(|l| l.failed())).collect();
        let latency = measure::Stats::of(snapshot.iter().filter_map(|t| t.last.as_ref()).map(|l| l.latency).collect());
        let healthy = snapshot.iter().filter(|t| t.status == TargetStatus::Healthy).count();
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for t in &failed {
            *kinds.entry(t.last.as_ref().and_then(|l| l.error_kind).unwrap_or("no result")).or_default() += 1;
        }
        println!(
            "  round {}: {} results in {} ({:.0} probes/s; Engine::start {}), {} healthy, {} failed {kinds:?}; \
             lag max {}; CPU {:.3} s = {:.1} us a probe (server {})",
            round + 1,
            thousands(metrics.results),
            ms(wall),
            metrics.results as f64 / wall.as_secs_f64(),
            ms(start),
            thousands(healthy as u64),
            failed.len(),
            ms(metrics.scheduler.lag_max),
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1e6 / metrics.results.max(1) as f64,
            server_cpu.map_or("?".into(), |c| format!("{:.1} us a probe", c.as_secs_f64() * 1e6 / n.max(1) as f64)),
        );
        let threads: Vec<String> = threads.iter().map(|(name, t)| format!("{name} {:.3} s", t.as_secs_f64())).collect();
        println!(
            "    CPU by thread: {}; whole machine {machine:.2} cores busy; probe latency {latency}",
            threads.join(", ")
        );
        if let Some(example) = failed.first().and_then(|t| t.last.as_ref()) {
            println!("    e.g. {}", example.message);
        }
        rounds.push(Round { start, wall, results: metrics.results, failed: failed.len(), cpu, server_cpu });
        drop(snapshot);
        engine.shutdown().await;
        store.shutdown().map_err(|e| format!("store shutdown: {e}"))?;
    }
    Ok(summarize(n, options, &rounds))
}

fn summarize(n: usize, options: &Options, rounds: &[Round]) -> Vec<Goal> {
    let mut walls: Vec<Duration> = rounds.iter().map(|r| r.wall).collect();
    walls.sort();
    let median = walls.get(walls.len() / 2).copied().unwrap_or_default();
    let best = walls.first().copied().unwrap_or_default();
    let worst = walls.last().copied().unwrap_or_default();
    let results: u64 = rounds.iter().map(|r| r.results).sum();
    let failed: usize = rounds.iter().map(|r| r.failed).sum();
    let cpu: Duration = rounds.iter().map(|r| r.cpu).sum();
    let server: Option<Duration> = rounds.iter().map(|r| r.server_cpu).sum();
    let start: Duration = rounds.iter().map(|r| r.start).sum::<Duration>() / rounds.len().max(1) as u32;
    println!(
        "  pass wall: median {} (best {}, worst {}) over {} rounds; {:.0} probes/s at the median; Engine::start {} \
         on average",
        ms(median),
        ms(best),
        ms(worst),
        rounds.len(),
        n as f64 / median.as_secs_f64(),
        ms(start)
    );
    println!(
        "  CPU per probe over all rounds: engine process {:.1} us, server process {} {}",
        cpu.as_secs_f64() * 1e6 / results.max(1) as f64,
        server.map_or("?".into(), |s| format!("{:.1} us", s.as_secs_f64() * 1e6 / results.max(1) as f64)),
        crate::reference::shown(),
    );
    let what = format!("pass: {} targets, concurrency {}", thousands(n as u64), thousands(options.concurrency as u64));
    vec![
        Goal::new(
            &what,
            format!(
                "{:.3} s median of {} ({:.0} probes/s)",
                median.as_secs_f64(),
                rounds.len(),
                n as f64 / median.as_secs_f64()
            ),
            "under 2 s",
            median < Duration::from_secs(2) && results == (n * rounds.len()) as u64,
        ),
        Goal::new("pass: failed probes", format!("{failed} of {}", thousands(results)), "0", failed == 0),
    ]
    .into_iter()
    .chain(crate::reference::goal("pass: CPU per probe", cpu / u32::try_from(results.max(1)).unwrap_or(u32::MAX)))
    .collect()
}
