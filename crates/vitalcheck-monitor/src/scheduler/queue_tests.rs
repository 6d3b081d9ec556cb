//! Ready-queue tests: the driver takes the permit before it spawns, so an overloaded
//! scheduler queues due jobs (one entry per job) instead of piling up waiting tasks.
//! Paused tokio time, probes held at a gate the test opens one at a time.

use super::tests::{SEC, config, drain, job, ok, sleeping, starts_of};
use super::*;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;

/// A probe that waits at a gate (a semaphore without permits) and records, in order, the
/// job of every probe future it creates.
struct Gated {
    probe: ProbeFn,
    gate: Arc<Semaphore>,
    calls: Arc<Mutex<Vec<String>>>,
}

impl Gated {
    fn new() -> Self {
        let gate = Arc::new(Semaphore::new(0));
        let calls = Arc::new(Mutex::new(Vec::new()));
        let (g, c) = (Arc::clone(&gate), Arc::clone(&calls));
        let probe = probe_fn(move |id: JobId| {
            c.lock().expect("lock").push(id.as_str().to_owned());
            let g = Arc::clone(&g);
            async move {
                g.acquire().await.expect("the gate stays open").forget();
                ok()
            }
        });
        Gated { probe, gate, calls }
    }

    /// Lets `n` waiting probes finish.
    fn release(&self, n: usize) {
        self.gate.add_permits(n);
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("lock").clone()
    }
}

/// Lets every task run until all wait (paused time moves on by 1 ms).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// Tasks alive on this runtime: the driver plus the probe tasks (the test body is not a task).
fn tasks_alive() -> usize {
    tokio::runtime::Handle::current().metrics().num_alive_tasks()
}

fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|&n| n.to_owned()).collect()
}

fn one_at_a_time(n: usize) -> SchedulerConfig {
    SchedulerConfig { concurrency: n, ..config(false) }
}

#[tokio::test(start_paused = true)]
async fn due_jobs_without_a_permit_wait_in_the_queue_not_in_tasks() {
    let gated = Gated::new();
    let jobs: Vec<Job> = (0..50).map(|i| job(&format!("j{i:02}"), 60 * SEC)).collect();
    let (sched, mut rx) = Scheduler::start(jobs, Arc::clone(&gated.probe), one_at_a_time(2));
    settle().await;
    assert_eq!(gated.calls(), names(&["j00", "j01"]), "only two probe futures were ever created");
    let m = sched.metrics();
    assert_eq!((m.in_flight, m.queued, m.started, m.skipped), (2, 48, 2, 0), "{m:?}");
    assert_eq!(tasks_alive(), 1 + 2, "the driver and two probe tasks, no task waits for a permit");
    for k in 2..50 {
        gated.release(1);
        settle().await;
        let calls = gated.calls();
        assert_eq!(calls.len(), k + 1, "one finished, one more started");
        assert_eq!(calls[k], format!("j{k:02}"), "in queue order");
        assert_eq!(sched.metrics().queued, 49 - k as u64);
        assert_eq!(sched.metrics().in_flight, 2);
    }
    gated.release(2);
    settle().await;
    let results = drain(&mut rx);
    assert_eq!(results.len(), 50);
    let last = results.iter().find(|r| r.job.as_str() == "j49").expect("j49 ran");
    assert_eq!(last.started_at - last.scheduled_at, Duration::from_millis(48), "the wait in the queue is lag");
    let m = sched.metrics();
    assert_eq!((m.in_flight, m.queued, m.started, m.finished, m.skipped), (0, 0, 50, 50, 0), "{m:?}");
    assert_eq!(m.lag_max, Duration::from_millis(48));
}

#[tokio::test(start_paused = true)]
async fn a_job_removed_while_queued_never_runs() {
    let gated = Gated::new();
    let jobs = [job("blocker", 60 * SEC), job("a", 60 * SEC), job("b", 60 * SEC)];
    let (sched, mut rx) = Scheduler::start(jobs, Arc::clone(&gated.probe), one_at_a_time(1));
    settle().await;
    assert_eq!(sched.metrics().queued, 2);
    assert_eq!(sched.remove(vec!["a".into(), "b".into()]).await, Ok(2));
    // `a` comes back while its old entry still waits: the new job is idle and queues anew.
    let report = sched.add(vec![job("a", 60 * SEC)]).await.expect("open");
    assert_eq!(report.added, 1);
    settle().await;
    assert_eq!(sched.metrics().queued, 3, "two stale entries and the new one");
    gated.release(1);
    settle().await;
    assert_eq!(gated.calls(), names(&["blocker", "a"]), "the stale entries were dropped, the new one ran");
    assert_eq!(sched.metrics().queued, 0);
    gated.release(1);
    settle().await;
    let results = drain(&mut rx);
    assert_eq!(starts_of(&results, "a").len(), 1, "once, not twice");
    assert!(starts_of(&results, "b").is_empty());
    assert_eq!(sched.metrics().skipped, 0);
}

#[tokio::test(start_paused = true)]
async fn a_job_paused_while_queued_never_runs_and_is_idle_again() {
    let gated = Gated::new();
    let t0 = Instant::now();
    let jobs = [job("blocker", 60 * SEC), job("a", 60 * SEC)];
    let (sched, mut rx) = Scheduler::start(jobs, Arc::clone(&gated.probe), one_at_a_time(1));
    settle().await;
    assert_eq!(sched.pause("a".into()).await, Ok(true));
    gated.release(1);
    settle().await;
    assert_eq!(gated.calls(), names(&["blocker"]), "the paused entry was dropped");
    assert_eq!(sched.metrics().queued, 0);
    // Dropped means idle: `run_now` (which works on a paused job) is accepted and runs at once.
    assert_eq!(sched.run_now("a".into()).await, Ok(true));
    settle().await;
    assert_eq!(gated.calls(), names(&["blocker", "a"]));
    gated.release(1);
    assert_eq!(sched.resume("a".into()).await, Ok(true));
    tokio::time::sleep(60 * SEC).await;
    gated.release(2);
    settle().await;
    let results = drain(&mut rx);
    let slots: Vec<Instant> = results.iter().filter(|r| r.job.as_str() == "a").map(|r| r.scheduled_at).collect();
    assert_eq!(slots.len(), 2);
    assert_eq!(slots[1], t0 + 60 * SEC, "back on its grid once resumed");
    assert_eq!(sched.metrics().skipped, 0);
}

#[tokio::test(start_paused = true)]
async fn a_job_replaced_while_queued_runs_only_on_its_new_schedule() {
    let gated = Gated::new();
    let jobs = [job("blocker", 60 * SEC), job("a", 60 * SEC)];
    let (sched, mut rx) = Scheduler::start(jobs, Arc::clone(&gated.probe), one_at_a_time(1));
    settle().await;
    let changed_at = Instant::now();
    let report = sched.add(vec![job("a", 30 * SEC)]).await.expect("open");
    assert_eq!(report.changed, 1);
    settle().await;
    assert_eq!(sched.metrics().skipped, 1, "its new first slot found it still queued");
    gated.release(1);
    settle().await;
    assert_eq!(gated.calls(), names(&["blocker"]), "the old entry was dropped");
    tokio::time::sleep(30 * SEC).await;
    gated.release(1);
    settle().await;
    let a: Vec<ProbeResult> = drain(&mut rx).into_iter().filter(|r| r.job.as_str() == "a").collect();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].scheduled_at, changed_at + 30 * SEC, "the new grid");
}

#[tokio::test(start_paused = true)]
async fn run_now_goes_before_the_queued_jobs() {
    let gated = Gated::new();
    let (sched, mut rx) = Scheduler::start([job("x", 60 * SEC)], Arc::clone(&gated.probe), one_at_a_time(1));
    settle().await;
    gated.release(1);
    settle().await;
    assert_eq!(drain(&mut rx).len(), 1, "x ran and is idle");
    let more = vec![job("blocker", 60 * SEC), job("j1", 60 * SEC), job("j2", 60 * SEC), job("j3", 60 * SEC)];
    sched.add(more).await.expect("open");
    settle().await;
    assert_eq!(sched.metrics().queued, 3);
    assert_eq!(sched.run_now("j2".into()).await, Ok(false), "already queued");
    assert_eq!(sched.run_now("blocker".into()).await, Ok(false), "running");
    assert_eq!(sched.run_now("x".into()).await, Ok(true));
    assert_eq!(sched.metrics().queued, 4);
    for _ in 0..4 {
        gated.release(1);
        settle().await;
    }
    assert_eq!(gated.calls(), names(&["x", "blocker", "x", "j1", "j2", "j3"]));
    assert_eq!(sched.metrics().skipped, 0);
}

#[tokio::test(start_paused = true)]
async fn shutdown_drops_queued_jobs_and_drains_running_ones() {
    let jobs: Vec<Job> = (0..3).map(|i| job(&format!("j{i}"), 60 * SEC)).collect();
    let (sched, mut rx) = Scheduler::start(jobs, sleeping(3 * SEC), one_at_a_time(1));
    settle().await;
    assert_eq!(sched.metrics().queued, 2);
    let report = sched.shutdown(10 * SEC).await;
    assert_eq!(report, ShutdownReport { completed: 1, aborted: 0 }, "queued jobs never started");
    assert_eq!(sched.metrics().queued, 0);
    assert_eq!(sched.metrics().started, 1);
    assert!(rx.recv().await.is_some());
    assert!(rx.recv().await.is_none(), "then the channel closes");
}

#[tokio::test(start_paused = true)]
async fn overload_skips_slots_and_starves_no_job() {
    const JOBS: usize = 1000;
    let (alive, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (a, p) = (Arc::clone(&alive), Arc::clone(&peak));
    let probe = probe_fn(move |_| {
        p.fetch_max(a.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
        let a = Arc::clone(&a);
        async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            a.fetch_sub(1, Ordering::SeqCst);
            ok()
        }
    });
    let t0 = Instant::now();
    // Due: 1,000 probes/s. Capacity: 10 at a time of 0.5 s each, 20 probes/s.
    let jobs: Vec<Job> = (0..JOBS).map(|i| job(&format!("t{i}"), SEC)).collect();
    let (sched, mut rx) = Scheduler::start(jobs, probe, one_at_a_time(10));
    let mut runs = vec![Vec::new(); JOBS];
    let (mut max_queued, mut max_tasks) = (0, 0);
    for _ in 0..2000 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        max_queued = max_queued.max(sched.metrics().queued);
        max_tasks = max_tasks.max(tasks_alive());
        for r in drain(&mut rx) {
            let i: usize = r.job.as_str()[1..].parse().expect("t<number>");
            runs[i].push(r.started_at - t0);
        }
    }
    tokio::time::sleep(Duration::from_millis(50)).await; // t0 + 200.05 s: 201 slots per job
    let m = sched.metrics();
    assert!(peak.load(Ordering::SeqCst) <= 10, "no more probe futures than permits");
    assert!(max_tasks <= 1 + 10, "the driver and at most one task per permit: {max_tasks}");
    assert!(max_queued <= JOBS as u64, "at most one entry per job: {max_queued}");
    assert!(m.skipped > 190_000, "most slots are skipped: {m:?}");
    assert_eq!(m.started + m.skipped + m.queued, 201 * JOBS as u64, "every slot started, skipped or waits: {m:?}");
    // 400 rounds of 10 done, the 401st running: the permits never idle.
    assert_eq!((m.started, m.finished, m.in_flight), (4_010, 4_000, 10), "{m:?}");
    let fewest = runs.iter().map(Vec::len).min().unwrap_or(0);
    assert!(fewest >= 3, "every job keeps getting probes: {fewest}");
    let late = runs.iter().filter(|r| r.last().is_none_or(|&at| at < 140 * SEC)).count();
    assert_eq!(late, 0, "every job ran in the last 60 s");
    // The longest wait is the whole queue ahead: 990 jobs at 20 probes/s, 49.5 s.
    assert!(m.lag_max <= 50 * SEC, "lag is bounded by the queue, it does not grow: {m:?}");
}
