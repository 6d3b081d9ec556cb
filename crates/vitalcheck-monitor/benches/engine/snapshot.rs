//! Goal 3, reads with every target loaded, on a running engine: `snapshot()` (every
//! target), `target(name)` (one in full), `group(g)` and `healthy_members(g)`.
//!
//! `snapshot()` shares the engine's column (copy on write), so it is timed with one
//! pass over every target's status, as a status query makes, and the copy the engine
//! makes on its next change while a snapshot is held is timed apart.
//!
//! The reads run on the runtime's thread, as an API handler on `vitalcheck run`'s
//! current-thread runtime would, so probes wait while a read runs; a 10 ms pause between
//! two snapshots lets the engine catch up (its lag during the phase is printed).

use crate::Goal;
use crate::measure::{Stats, ms, thousands};
use crate::workload::{group_name, target_name};
use std::time::{Duration, Instant};
use vitalcheck_monitor::engine::Engine;

/// Calls of each of the small reads.
const READS: usize = 1000;

pub(crate) async fn run(engine: &Engine, targets: usize, groups: usize, rounds: usize) -> Vec<Goal> {
    println!(
        "\n== snapshot: reads with {} targets in {groups} groups loaded, the engine probing meanwhile ==",
        thousands(targets as u64)
    );
    let m0 = engine.metrics();
    let phase = Instant::now();
    drop(engine.snapshot()); // warm-up
    let (mut times, mut copies) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    let (mut len, mut up) = (0, 0);
    for _ in 0..rounds {
        // A status query: the snapshot, and one pass over it reading every status.
        let t = Instant::now();
        let snapshot = engine.snapshot();
        up = snapshot.iter().filter(|s| s.is_up()).count();
        times.push(t.elapsed());
        len = snapshot.len();
        // What the engine pays instead: its next change copies the column once while a
        // snapshot is alive (here the snapshot is dropped first, so this copy is the
        // same work measured apart).
        let t = Instant::now();
        let copy = snapshot.to_vec();
        copies.push(t.elapsed());
        drop(copy);
        drop(snapshot);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let snapshot = Stats::of(times);
    println!(
        "  engine.snapshot() + a pass over every status ({} targets, {} up): {snapshot}",
        thousands(len as u64),
        thousands(up as u64)
    );
    println!(
        "  copying the column (the engine's cost on its next change while a snapshot is held, \
         at most once per batch of results): {}",
        Stats::of(copies)
    );

    let mut rng = fastrand::Rng::with_seed(7);
    let mut times = Vec::with_capacity(READS);
    let (mut missing, mut recent) = (0, 0);
    for i in 0..READS {
        let name = target_name(rng.usize(..targets));
        let t = Instant::now();
        let detail = engine.target(&name);
        times.push(t.elapsed());
        match detail {
            Some(d) => recent += d.recent.len(),
            None => missing += 1,
        }
        if i % 100 == 99 {
            tokio::task::yield_now().await;
        }
    }
    let target = Stats::of(times);
    println!(
        "  engine.target(name) (a random target; {:.1} recent results on average, {missing} not found): {target}",
        recent as f64 / READS as f64
    );

    let mut goals = vec![Goal::new(
        &format!("snapshot() + a pass: {} targets", thousands(targets as u64)),
        format!("p99 {} (p50 {}, max {}, n={})", ms(snapshot.p99), ms(snapshot.p50), ms(snapshot.max), snapshot.n),
        "p99 under 10 ms",
        snapshot.p99 < Duration::from_millis(10) && len == targets,
    )];
    goals.push(Goal::new(
        "target(name)",
        format!("p99 {} (p50 {})", ms(target.p99), ms(target.p50)),
        "p99 under 10 ms",
        target.p99 < Duration::from_millis(10) && missing == 0,
    ));
    if groups > 0 {
        let (mut healthy, mut members) = (Vec::with_capacity(READS), Vec::with_capacity(READS));
        let (mut healthy_count, mut member_count) = (0, 0);
        for i in 0..READS {
            let group = group_name(rng.usize(..groups));
            let t = Instant::now();
            let names = engine.healthy_members(&group);
            healthy.push(t.elapsed());
            healthy_count += names.map_or(0, |v| v.len());
            let t = Instant::now();
            let list = engine.group(&group);
            members.push(t.elapsed());
            member_count += list.map_or(0, |v| v.len());
            if i % 100 == 99 {
                tokio::task::yield_now().await;
            }
        }
        let healthy = Stats::of(healthy);
        println!(
            "  engine.healthy_members(group) ({} up of {} members on average): {healthy}",
            healthy_count / READS,
            member_count / READS
        );
        println!("  engine.group(group): {}", Stats::of(members));
        goals.push(Goal::new(
            &format!("healthy_members(group): {} members", thousands((member_count / READS) as u64)),
            format!("p99 {} (p50 {})", ms(healthy.p99), ms(healthy.p50)),
            "p99 under 10 ms",
            healthy.p99 < Duration::from_millis(10),
        ));
    }
    let m1 = engine.metrics();
    println!(
        "  engine during the {:.1} s of reads: {} results, skipped +{}, lag max since start {}",
        phase.elapsed().as_secs_f64(),
        thousands(m1.results - m0.results),
        m1.scheduler.skipped - m0.scheduler.skipped,
        ms(m1.scheduler.lag_max)
    );
    goals
}
