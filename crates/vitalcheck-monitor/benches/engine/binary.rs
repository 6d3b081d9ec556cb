//! Mode `binary`: the steady goal measured on the real `vitalcheck run` (a release build
//! of `vitalcheck-cli`), not on an engine inside this process: the same generated config
//! (plus `[server] listen = "127.0.0.1:0"`, so the API, `/metrics` and the status page are
//! served as in production, and optionally `[history] results`), the same server child.
//!
//! The run's RSS and CPU come from `/proc/PID` (sampled every second; the peak is its
//! `VmHWM`, reset at the window's start); "keeps up" is judged from its store after it has
//! stopped on SIGTERM, with the same scan as `steady` ([`Gaps`]). Its JSON log on stderr is
//! drained on a thread (the start line marks `Engine::start` done; every first transition
//! is logged at info level, so the first interval writes one line per target, as a real
//! run does).

use crate::measure::{self, mb, thousands};
use crate::server::ServerProcess;
use crate::steady::Gaps;
use crate::workload::Workload;
use crate::{Goal, Options};
use jiff::Timestamp;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use vitalcheck_monitor::store::{SqliteStore, Store};

/// The release binary `cargo build --release -p vitalcheck-cli` makes.
pub(crate) fn default_binary() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/vitalcheck")
}

/// What one binary run does.
pub(crate) struct Spec {
    pub(crate) binary: PathBuf,
    pub(crate) targets: usize,
    pub(crate) interval: Duration,
    pub(crate) secs: u64,
    /// `[history] results`, when set.
    pub(crate) history_results: Option<u32>,
}

/// `vitalcheck run` as a child; killed and reaped when dropped.
struct Run {
    child: Child,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary on the generated config and measures it.
pub(crate) fn run(server: &ServerProcess, options: &Options, spec: &Spec) -> Result<Vec<Goal>, String> {
    if !spec.binary.is_file() {
        return Err(format!(
            "{} not found: build it first (cargo build --release -p vitalcheck-cli) or pass --binary PATH",
            spec.binary.display()
        ));
    }
    let n = spec.targets;
    let timeout = spec.interval.min(Duration::from_secs(5));
    let workload =
        Workload { targets: n, groups: 100, addrs: server.addrs, port: server.port, interval: spec.interval, timeout };
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let db = dir.path().join("bench.db");
    let mut text = workload.toml(&db);
    text.push_str("\n[server]\nlisten = \"127.0.0.1:0\"\n");
    if let Some(results) = spec.history_results {
        text.push_str(&format!("\n[history]\nresults = {results}\n"));
    }
    let config = dir.path().join("bench.toml");
    std::fs::write(&config, &text).map_err(|e| format!("writing {}: {e}", config.display()))?;
    println!(
        "\n== binary: {} run -c ({} targets, {} of TOML, interval {:?}, timeout {timeout:?}, concurrency {}{}); \
         measured for {} s after the first interval ==",
        spec.binary.display(),
        thousands(n as u64),
        mb(text.len() as u64),
        spec.interval,
        thousands(options.concurrency as u64),
        spec.history_results.map(|r| format!(", [history] results = {r}")).unwrap_or_default(),
        spec.secs
    );

    let t = Instant::now();
    let child = Command::new(&spec.binary)
        .arg("run")
        .arg("-c")
        .arg(&config)
        .args(["--concurrency", &options.concurrency.to_string(), "--log-format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", spec.binary.display()))?;
    let mut run = Run { child };
    let pid = run.child.id();
    let started = wait_started(&mut run, Duration::from_secs(600))?;
    let start_peak = measure::memory_of(pid).hwm;
    println!(
        "  started in {:.2} s (config parsed, store opened, engine started); RSS now {}, peak so far {}",
        started.duration_since(t).as_secs_f64(),
        mb(measure::memory_of(pid).rss),
        mb(start_peak)
    );

    // Warm-up: every target gets its first probe.
    sleep_sampling(pid, started + spec.interval, &mut 0);
    let peak_resets = measure::reset_peak_of(pid);
    let (w0, at0) = (Timestamp::now(), Instant::now());
    let (cpu0, server0, machine0) = (measure::cpu_time_of(pid), server.cpu_time(), measure::machine_time());
    let mut sampled_peak = 0;
    sleep_sampling(pid, at0 + Duration::from_secs(spec.secs), &mut sampled_peak);
    let (w1, wall) = (Timestamp::now(), at0.elapsed());
    let (cpu1, server1, machine1) = (measure::cpu_time_of(pid), server.cpu_time(), measure::machine_time());
    let window_peak = if peak_resets { measure::memory_of(pid).hwm } else { sampled_peak };

    let t = Instant::now();
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid as i32).ok_or("no pid")?,
        rustix::process::Signal::TERM,
    )
    .map_err(|e| format!("SIGTERM: {e}"))?;
    let status = run.child.wait().map_err(|e| format!("waiting for the run: {e}"))?;
    println!("  SIGTERM -> exit in {:.2} s ({status})", t.elapsed().as_secs_f64());

    let store = SqliteStore::open_read_only(&db).map_err(|e| format!("cannot read the run's store: {e}"))?;
    let gaps = Gaps::scan(&store, n, spec.interval, w0, w1)?;
    let per_target = (wall.as_secs_f64() / spec.interval.as_secs_f64()).round() as u64;
    println!(
        "  window {:.1} s: {} results (expected {}), {:.0}/s",
        wall.as_secs_f64(),
        thousands(gaps.results),
        thousands(per_target * n as u64),
        gaps.results as f64 / wall.as_secs_f64()
    );
    gaps.print(per_target);
    let cpu = cpu1.zip(cpu0).map_or(Duration::ZERO, |(b, a)| b.saturating_sub(a));
    let cores = cpu.as_secs_f64() / wall.as_secs_f64();
    let per_probe = cpu.as_secs_f64() * 1e6 / gaps.results.max(1) as f64;
    let server_cpu = server1.zip(server0).map_or(Duration::ZERO, |(b, a)| b.saturating_sub(a));
    let machine = measure::machine_cores(machine0, machine1, wall);
    println!(
        "    CPU: vitalcheck run {cores:.3} cores ({per_probe:.1} us a probe, from /proc ticks); server (not \
         counted) {:.3} cores; whole machine {machine:.3} cores busy",
        server_cpu.as_secs_f64() / wall.as_secs_f64()
    );
    println!(
        "    memory: peak RSS in the window {} (sampled each second: {}); peak while starting {}",
        mb(window_peak),
        mb(sampled_peak),
        mb(start_peak)
    );
    store.shutdown().map_err(|e| format!("store shutdown: {e}"))?;

    let what = |s: &str| format!("binary ({} @ {:?}): {s}", thousands(n as u64), spec.interval);
    Ok(vec![
        Goal::new(
            &what("keeps up"),
            format!("largest gap {:.2} s, {} targets over, {} never probed", gaps.largest_gap, gaps.over, gaps.never),
            "every target each interval + 10%",
            gaps.over == 0 && gaps.never == 0,
        ),
        Goal::new(&what("CPU"), format!("{cores:.3} cores ({per_probe:.1} us a probe)"), "under 1 core", cores < 1.0),
        Goal::new(
            &what("peak RSS"),
            format!("{} in the window ({} while starting)", mb(window_peak), mb(start_peak)),
            "under 300 MB",
            window_peak < 300_000_000,
        ),
        Goal::new(&what("failed probes"), gaps.failed.to_string(), "0", gaps.failed == 0),
    ])
}

/// Drains the run's stderr on a thread until its start line; returns when it came.
fn wait_started(run: &mut Run, limit: Duration) -> Result<Instant, String> {
    let stderr = run.child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut said = Vec::new();
        let mut told = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if !told && line.contains("vitalcheck run started") {
                told = tx.send(Ok(Instant::now())).is_ok();
            } else if !told && said.len() < 20 {
                said.push(line);
            }
        }
        if !told {
            let _ = tx.send(Err(format!("the run ended before it started; it said:\n{}", said.join("\n"))));
        }
    });
    rx.recv_timeout(limit).map_err(|_| format!("no start line within {limit:?}"))?
}

/// Sleeps until `until`, reading the child's RSS every second (printed every 10 s), and
/// keeps the largest reading in `peak`.
fn sleep_sampling(pid: u32, until: Instant, peak: &mut u64) {
    let mut tick = 0u64;
    while Instant::now() < until {
        std::thread::sleep(Duration::from_secs(1).min(until.saturating_duration_since(Instant::now())));
        let memory = measure::memory_of(pid);
        *peak = (*peak).max(memory.rss);
        tick += 1;
        if tick.is_multiple_of(10) {
            println!("    RSS {} (peak so far {})", mb(memory.rss), mb(memory.hwm));
        }
    }
}
