//! Scheduler tests: paused tokio time, scripted probe functions, no I/O.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use vitalcheck::probe::ErrorKind;

pub(super) const SEC: Duration = Duration::from_secs(1);

pub(super) fn ok() -> Result<Observation, ProbeError> {
    Ok(Observation::healthy(Duration::ZERO, "ok"))
}

/// A probe that takes `took` (paused time) for every job.
pub(super) fn sleeping(took: Duration) -> ProbeFn {
    probe_fn(move |_| async move {
        tokio::time::sleep(took).await;
        ok()
    })
}

pub(super) fn job(name: &str, interval: Duration) -> Job {
    Job::new(name, "http", interval, 5 * SEC)
}

pub(super) fn config(spread: bool) -> SchedulerConfig {
    SchedulerConfig { concurrency: 100, channel_capacity: 10_000, spread }
}

/// Everything received so far, without waiting.
pub(super) fn drain(rx: &mut mpsc::Receiver<ProbeResult>) -> Vec<ProbeResult> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

pub(super) fn starts_of(results: &[ProbeResult], name: &str) -> Vec<Instant> {
    results.iter().filter(|r| r.job.as_str() == name).map(|r| r.started_at).collect()
}

#[tokio::test(start_paused = true)]
async fn first_runs_spread_across_the_interval() {
    let t0 = Instant::now();
    let jobs: Vec<Job> = (0..1000).map(|i| job(&format!("target-{i}"), 10 * SEC)).collect();
    let (_sched, mut rx) = Scheduler::start(jobs, sleeping(Duration::ZERO), config(true));
    let mut buckets = [0usize; 10];
    for _ in 0..1000 {
        let r = rx.recv().await.expect("result");
        let at = r.started_at - t0;
        assert!(at < 10 * SEC, "first run at {at:?}");
        assert_eq!(r.started_at, r.scheduled_at);
        buckets[(at.as_secs()) as usize] += 1;
    }
    assert!(buckets.iter().all(|&n| (60..=140).contains(&n)), "uneven: {buckets:?}");
    // Deterministic: the same name gets the same offset.
    assert_eq!(driver::offset(&"a".into(), 10 * SEC), driver::offset(&"a".into(), 10 * SEC));
}

#[tokio::test(start_paused = true)]
async fn runs_on_an_exact_grid_without_drift() {
    let t0 = Instant::now();
    let (sched, mut rx) = Scheduler::start([job("api", 10 * SEC)], sleeping(3 * SEC), config(true));
    let mut starts = Vec::new();
    for _ in 0..6 {
        let r = rx.recv().await.expect("result");
        assert_eq!(r.finished_at - r.started_at, 3 * SEC);
        starts.push(r.started_at);
    }
    assert_eq!(starts[0], t0 + driver::offset(&"api".into(), 10 * SEC));
    for (k, at) in starts.iter().enumerate() {
        assert_eq!(*at, starts[0] + 10 * SEC * k as u32, "run {k}");
    }
    let m = sched.metrics();
    assert_eq!((m.started, m.finished, m.skipped, m.lag_max), (6, 6, 0, Duration::ZERO));
}

#[tokio::test(start_paused = true)]
async fn a_probe_longer_than_its_interval_skips_slots() {
    let probe = sleeping(25 * SEC);
    let jobs = [Job::new("slow", "http", 10 * SEC, 60 * SEC)];
    let (sched, mut rx) = Scheduler::start(jobs, probe, config(false));
    let mut starts = Vec::new();
    for _ in 0..3 {
        starts.push(rx.recv().await.expect("result").started_at);
    }
    // Runs at 0, 30, 60: the slots at 10, 20, 40, 50 are skipped, not queued.
    assert_eq!(starts[1] - starts[0], 30 * SEC);
    assert_eq!(starts[2] - starts[1], 30 * SEC);
    assert!(sched.metrics().skipped >= 4, "{:?}", sched.metrics());
    assert_eq!(sched.metrics().lag_max, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn the_concurrency_limit_holds() {
    let now = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (n, p) = (Arc::clone(&now), Arc::clone(&peak));
    let probe = probe_fn(move |_| {
        let (n, p) = (Arc::clone(&n), Arc::clone(&p));
        async move {
            let running = n.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(running, Ordering::SeqCst);
            tokio::time::sleep(SEC).await;
            n.fetch_sub(1, Ordering::SeqCst);
            ok()
        }
    });
    let t0 = Instant::now();
    let jobs: Vec<Job> = (0..5).map(|i| job(&format!("j{i}"), 60 * SEC)).collect();
    let cfg = SchedulerConfig { concurrency: 2, ..config(false) };
    let (sched, mut rx) = Scheduler::start(jobs, probe, cfg);
    let mut last = t0;
    for _ in 0..5 {
        last = last.max(rx.recv().await.expect("result").finished_at);
    }
    assert_eq!(peak.load(Ordering::SeqCst), 2);
    assert_eq!(last - t0, 3 * SEC, "5 one-second probes, 2 at a time");
    assert_eq!(sched.metrics().lag_max, 2 * SEC, "the last waited two rounds for a permit");
}

#[tokio::test(start_paused = true)]
async fn a_hanging_target_times_out_and_does_not_delay_a_fast_one() {
    let probe = probe_fn(|id: JobId| async move {
        if id.as_str() == "hang" {
            std::future::pending::<()>().await;
        }
        ok()
    });
    let jobs = [Job::new("hang", "http", 10 * SEC, 5 * SEC), Job::new("fast", "tcp", SEC, SEC)];
    let (sched, mut rx) = Scheduler::start(jobs, probe, config(false));
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_millis(15_500)).await;
    let results = drain(&mut rx);
    let fast = starts_of(&results, "fast");
    let expected: Vec<Instant> = (0..16).map(|k| t0 + SEC * k).collect();
    assert_eq!(fast, expected, "fast runs every second, undisturbed");
    let hang: Vec<&ProbeResult> = results.iter().filter(|r| r.job.as_str() == "hang").collect();
    assert_eq!(hang.len(), 2, "runs at 0 and 10, each cut at 5 s");
    for r in hang {
        assert_eq!(r.finished_at - r.started_at, 5 * SEC);
        let err = r.outcome.as_ref().expect_err("a timeout");
        assert!(matches!(err.kind(), ErrorKind::Timeout(_)), "{err:?}");
    }
    assert_eq!(sched.metrics().timed_out, 2);
}

#[tokio::test(start_paused = true)]
async fn add_remove_pause_resume_and_run_now() {
    let (sched, mut rx) = Scheduler::start([job("a", 10 * SEC)], sleeping(Duration::ZERO), config(false));
    let t0 = Instant::now();
    let report = sched.add(vec![job("b", 10 * SEC), job("a", 10 * SEC)]).await.expect("open");
    assert_eq!((report.added, report.unchanged), (1, 1));
    tokio::time::sleep(5 * SEC).await;
    assert_eq!(sched.remove(vec!["a".into(), "nope".into()]).await, Ok(1));
    assert_eq!(sched.pause("b".into()).await, Ok(true));
    tokio::time::sleep(30 * SEC).await; // t0 + 35
    let before = drain(&mut rx);
    assert_eq!(starts_of(&before, "a"), vec![t0], "a stops once removed");
    assert_eq!(starts_of(&before, "b"), vec![t0], "b runs no slot while paused");
    assert_eq!(sched.run_now("b".into()).await, Ok(true), "run_now works on a paused job");
    assert_eq!(sched.run_now("a".into()).await, Ok(false), "removed");
    assert_eq!(sched.resume("b".into()).await, Ok(true));
    tokio::time::sleep(20 * SEC).await; // t0 + 55
    let after = drain(&mut rx);
    let now_run = t0 + 35 * SEC;
    assert_eq!(starts_of(&after, "b"), vec![now_run, t0 + 40 * SEC, t0 + 50 * SEC], "back on its grid");
    assert_eq!(sched.metrics().skipped, 0);
}

#[tokio::test(start_paused = true)]
async fn reconcile_keeps_unchanged_schedules() {
    let jobs = vec![job("keep", 10 * SEC), job("change", 10 * SEC), job("drop", 10 * SEC)];
    let (sched, mut rx) = Scheduler::start(jobs, sleeping(Duration::ZERO), config(false));
    let t0 = Instant::now();
    tokio::time::sleep(3 * SEC).await;
    let new = vec![job("keep", 10 * SEC), job("change", 4 * SEC), job("new", 10 * SEC)];
    let report = sched.reconcile(new).await.expect("open");
    assert_eq!(report, ReconcileReport { added: 1, changed: 1, unchanged: 1, removed: 1 });
    tokio::time::sleep(9 * SEC).await; // t0 + 12
    let results = drain(&mut rx);
    let at = |s: u64| t0 + SEC * s as u32;
    assert_eq!(starts_of(&results, "keep"), vec![at(0), at(10)]);
    assert_eq!(starts_of(&results, "change"), vec![at(0), at(3), at(7), at(11)]);
    assert_eq!(starts_of(&results, "new"), vec![at(3)]);
    assert_eq!(starts_of(&results, "drop"), vec![at(0)]);
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_in_flight_probes() {
    let (sched, mut rx) = Scheduler::start([job("a", 10 * SEC)], sleeping(3 * SEC), config(false));
    let t0 = Instant::now();
    tokio::time::sleep(SEC).await;
    assert_eq!(sched.metrics().in_flight, 1);
    let report = sched.shutdown(10 * SEC).await;
    assert_eq!(report, ShutdownReport { completed: 1, aborted: 0 });
    assert_eq!(Instant::now() - t0, 3 * SEC);
    let r = rx.recv().await.expect("the in-flight result is delivered");
    assert!(r.outcome.is_ok());
    assert!(rx.recv().await.is_none(), "then the channel closes");
}

#[tokio::test(start_paused = true)]
async fn shutdown_aborts_what_outlives_the_grace_period() {
    let jobs = [Job::new("a", "exec", 10 * SEC, 60 * SEC)];
    let (sched, mut rx) = Scheduler::start(jobs, sleeping(30 * SEC), config(false));
    tokio::time::sleep(SEC).await;
    let handle_closed = sched.commands.clone();
    assert_eq!(sched.shutdown(2 * SEC).await, ShutdownReport { completed: 0, aborted: 1 });
    assert!(rx.recv().await.is_none());
    assert!(handle_closed.is_closed());
}

#[tokio::test(start_paused = true)]
async fn a_full_channel_skips_slots_instead_of_piling_up() {
    let cfg = SchedulerConfig { channel_capacity: 1, ..config(false) };
    let jobs: Vec<Job> = (0..3).map(|i| job(&format!("j{i}"), SEC)).collect();
    let (sched, mut rx) = Scheduler::start(jobs, sleeping(Duration::ZERO), cfg);
    tokio::time::sleep(Duration::from_millis(10_500)).await;
    let m = sched.metrics();
    // At most the channel's room plus one result per job: later slots are skipped.
    assert!(m.started <= 4, "{m:?}");
    assert_eq!(m.started + m.skipped, 33, "every slot either ran or was skipped: {m:?}");
    let received = drain(&mut rx).len();
    assert!(received <= 4, "nothing piled up: {received}");
    tokio::time::sleep(SEC).await;
    assert!(sched.metrics().started > m.started, "the schedule resumes once there is room");
}
