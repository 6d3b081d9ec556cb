//! Engine benchmark: the real [`Engine`](vitalcheck_monitor::engine::Engine) with a real
//! SQLite store (in a temp dir) probing real HTTP servers on loopback, against the engine
//! budgets of DESIGN.md (issue 5). It prints figures and a summary with PASS / MISS per
//! goal; it asserts nothing.
//!
//! 1. **pass**: 10,000 HTTP targets probed once (interval 1 h, `spread: false`) at
//!    concurrency 1,000: the time from `Engine::start` until `metrics().results` reaches
//!    10,000 (polled every millisecond), probes/s, failed probes, CPU per probe. Goal:
//!    under 2 s. Repeated `--rounds` times with a fresh engine and store; the median is
//!    judged.
//! 2. **steady**: 100,000 HTTP targets at a 10 s interval (spread on), measured for
//!    `--secs` (60) seconds that start one interval after `Engine::start` returned.
//!    Goals: keeps up (from the store: for every target, no gap between two probe starts,
//!    or from the last one to the window's end, over the interval + 10%; no skipped slot),
//!    under 1 CPU core for the engine process (`CLOCK_PROCESS_CPUTIME_ID` over the wall
//!    time, with a per-thread breakdown from `/proc/self/task`), under 300 MB peak RSS in
//!    the window (`VmHWM`, reset at the window's start through `/proc/self/clear_refs`; the
//!    peaks while parsing the config and in `Engine::start` are printed too), no failed
//!    probe, no store error. The whole machine's busy CPU (`/proc/stat`) is printed beside
//!    the engine's and the server's, and a warning when other processes were busy before
//!    the start.
//! 3. **snapshot**: with 100,000 targets in 100 groups loaded and probing, 250
//!    `engine.snapshot()` calls (p50/p99/max; goal p99 under 10 ms), then 1,000 each of
//!    `target(name)`, `healthy_members(group)` and `group(group)`.
//!
//! 4. **binary**: goal 2 on the real `vitalcheck run` (a release build, `--binary`, by
//!    default `target/release/vitalcheck`) as a child process, API on: RSS and CPU from
//!    `/proc`, keeps-up from its store after SIGTERM (`binary.rs`). Build it first:
//!    `cargo build --release -p vitalcheck-cli`.
//!
//! The engine runs on a current-thread tokio runtime, as in `vitalcheck run` (the SQLite
//! writer has its own thread); `--runtime multi` uses a 2-worker multi-thread runtime.
//!
//! **The server** runs in a child process (this binary again, with
//! `VITALCHECK_BENCH_SERVER=1`), so its CPU is not the engine's: it listens on one port
//! on `--addrs` (1,000) loopback addresses 127.0.A.B and answers `200 ok` with
//! `Connection: close`; target `i` is `http://127.0.A.B:PORT/t/i` on address `i % addrs`.
//! Each probe opens a fresh connection (the http probe's default, `keep_alive = false`).
//! The child is killed when the bench ends (also on a panic) and exits by itself when its
//! stdin closes or after a time limit. Both processes raise their open-files soft limit
//! to the hard limit and warn when it is below what the run needs.
//!
//! Run (release profile, as `cargo bench` builds):
//!
//! ```text
//! cargo bench -p vitalcheck-monitor --bench engine                  # quick: see below
//! cargo bench -p vitalcheck-monitor --bench engine -- pass
//! cargo bench -p vitalcheck-monitor --bench engine -- steady        # 100,000 targets, 10 s, 60 s
//! cargo bench -p vitalcheck-monitor --bench engine -- snapshot
//! cargo bench -p vitalcheck-monitor --bench engine -- all           # pass, then steady + snapshot on one engine
//! cargo bench -p vitalcheck-monitor --bench engine -- steady --runtime multi --secs 30
//! cargo build --release -p vitalcheck-cli && \
//!   cargo bench -p vitalcheck-monitor --bench engine -- binary   # the real `vitalcheck run`
//! cargo bench -p vitalcheck-monitor --bench engine -- binary --history-results 20
//! ```
//!
//! With no mode (`quick`): pass (3 rounds), a short steady (10,000 targets at a 1 s
//! interval for 20 s: the same 10,000 probes/s), and snapshot (100,000 targets at 10 s,
//! read after the first interval).
//!
//! Flags (after `--`; `--flag value` or `--flag=value`):
//!
//! - `--targets N`: in `pass`, the targets of the pass (10,000); otherwise the targets of
//!   steady and snapshot (100,000).
//! - `--secs N`: the measured steady window (60).
//! - `--interval S`: the steady interval in seconds, fractions allowed (10).
//! - `--concurrency N`: the engine's concurrency (1,000).
//! - `--rounds N`: rounds of the pass (3).
//! - `--snapshots N`: timed `snapshot()` calls (250).
//! - `--addrs N`: loopback addresses the server listens on (1,000).
//! - `--runtime current|multi`: the engine's runtime (current).
//! - `--server-workers N`: the server's runtime workers (2).
//! - `--binary PATH`: in `binary`, the `vitalcheck` executable (`target/release/vitalcheck`).
//! - `--history-results N`: in `binary`, `[history] results` in the config (default: unset, 100).

/// The allocator of `vitalcheck run` (so the figures are the binary's), counting the bytes
/// in use (see [`measure::heap`]).
#[global_allocator]
static ALLOCATOR: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

mod binary;
mod measure;
mod pass;
mod reference;
mod server;
mod snapshot;
mod steady;
mod workload;

use measure::thousands;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Quick,
    Pass,
    Steady,
    Snapshot,
    All,
    Binary,
}

/// The engine's runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Runtime {
    /// `new_current_thread`, as `vitalcheck run`.
    Current,
    /// `new_multi_thread` with 2 workers.
    Multi,
}

impl Runtime {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Runtime::Current => "current-thread",
            Runtime::Multi => "multi-thread (2 workers)",
        }
    }
}

/// The command line (see the crate documentation).
#[derive(Debug, Clone)]
pub(crate) struct Options {
    mode: Mode,
    pub(crate) pass_targets: usize,
    targets: usize,
    secs: Option<u64>,
    interval: Option<Duration>,
    pub(crate) concurrency: usize,
    pub(crate) rounds: usize,
    pub(crate) snapshots: usize,
    addrs: usize,
    pub(crate) runtime: Runtime,
    server_workers: usize,
    binary: Option<std::path::PathBuf>,
    history_results: Option<u32>,
}

const USAGE: &str = "usage: cargo bench -p vitalcheck-monitor --bench engine -- [pass|steady|snapshot|all] \
[--targets N] [--secs N] [--interval S] [--concurrency N] [--rounds N] [--snapshots N] [--addrs N] \
[--runtime current|multi] [--server-workers N] [binary [--binary PATH] [--history-results N]]";

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        mode: Mode::Quick,
        pass_targets: 10_000,
        targets: 100_000,
        secs: None,
        interval: None,
        concurrency: 1000,
        rounds: 3,
        snapshots: 250,
        addrs: 1000,
        runtime: Runtime::Current,
        server_workers: 2,
        binary: None,
        history_results: None,
    };
    let mut targets = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = |name: &str| inline.clone().or_else(|| args.next()).ok_or(format!("{name} needs a value"));
        let count = |name: &str, v: String| match v.replace(['_', ','], "").parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{name} must be a positive whole number, not {v:?}")),
        };
        match flag.as_str() {
            // `cargo bench` passes `--bench` to every bench binary.
            "--bench" => {}
            "pass" => options.mode = Mode::Pass,
            "steady" => options.mode = Mode::Steady,
            "snapshot" => options.mode = Mode::Snapshot,
            "all" => options.mode = Mode::All,
            "binary" => options.mode = Mode::Binary,
            "--binary" => options.binary = Some(value("--binary")?.into()),
            "--history-results" => {
                let n = count("--history-results", value("--history-results")?)?;
                options.history_results = Some(u32::try_from(n).map_err(|_| "--history-results is too large")?);
            }
            "quick" => options.mode = Mode::Quick,
            "--targets" => targets = Some(count("--targets", value("--targets")?)?),
            "--secs" => options.secs = Some(count("--secs", value("--secs")?)? as u64),
            "--interval" => {
                let v = value("--interval")?;
                let secs: f64 = v.trim_end_matches('s').parse().map_err(|_| format!("--interval: bad number {v:?}"))?;
                if !(0.001..=86_400.0).contains(&secs) {
                    return Err(format!("--interval must be between 0.001 and 86400 seconds, not {v}"));
                }
                options.interval = Some(Duration::from_secs_f64(secs));
            }
            "--concurrency" => options.concurrency = count("--concurrency", value("--concurrency")?)?,
            "--rounds" => options.rounds = count("--rounds", value("--rounds")?)?.min(100),
            "--snapshots" => options.snapshots = count("--snapshots", value("--snapshots")?)?.min(100_000),
            "--addrs" => options.addrs = count("--addrs", value("--addrs")?)?.min(server::MAX_ADDRS),
            "--server-workers" => options.server_workers = count("--server-workers", value("--server-workers")?)?,
            "--runtime" => {
                options.runtime = match value("--runtime")?.as_str() {
                    "current" => Runtime::Current,
                    "multi" => Runtime::Multi,
                    other => return Err(format!("--runtime must be current or multi, not {other:?}")),
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if let Some(n) = targets {
        if options.mode == Mode::Pass {
            options.pass_targets = n;
        } else {
            options.targets = n;
        }
    }
    Ok(options)
}

/// One goal's line in the summary.
pub(crate) struct Goal {
    what: String,
    figure: String,
    budget: String,
    met: bool,
}

impl Goal {
    pub(crate) fn new(what: &str, figure: String, budget: &str, met: bool) -> Goal {
        Goal { what: what.to_owned(), figure, budget: budget.to_owned(), met }
    }
}

fn main() -> ExitCode {
    if server::is_server() {
        return server::serve_main();
    }
    let options = match parse_options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    measure::raise_nofile(options.concurrency as u64 + 512, "engine bench");
    let runtime = match options.runtime {
        Runtime::Current => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        Runtime::Multi => tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build(),
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot build the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&options)) {
        Ok(goals) => {
            print_summary(&options, &goals);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("engine bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: &Options) -> Result<Vec<Goal>, String> {
    let (steady_secs, steady_interval, steady_targets) = match options.mode {
        Mode::Quick => (
            options.secs.unwrap_or(20),
            options.interval.unwrap_or(Duration::from_secs(1)),
            if options.targets == 100_000 { 10_000 } else { options.targets },
        ),
        _ => (options.secs.unwrap_or(60), options.interval.unwrap_or(Duration::from_secs(10)), options.targets),
    };
    // The server lives at most this long (it also exits when this process does).
    let limit = 600 + steady_secs + 3 * steady_interval.as_secs() + 150 * options.rounds as u64;
    let t = Instant::now();
    let server = server::ServerProcess::spawn(options.addrs, options.server_workers, limit)?;
    println!(
        "engine bench: server pid {} on 127.0.1.1 ... {} port {} ({} addresses, {} workers, ready in {:.0} ms); \
         engine runtime {}; {} CPUs",
        server.pid(),
        server::address(options.addrs - 1),
        server.port,
        thousands(options.addrs as u64),
        options.server_workers,
        t.elapsed().as_secs_f64() * 1e3,
        options.runtime.name(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    measure::warn_if_busy(Duration::from_secs(1));
    reference::measure(&server);
    let mut goals = Vec::new();
    let spec = |targets, interval, secs, snapshot| steady::Spec { targets, groups: 100, interval, secs, snapshot };
    let snapshot_alone = spec(options.targets, options.interval.unwrap_or(Duration::from_secs(10)), 0, true);
    match options.mode {
        Mode::Quick => {
            goals.extend(pass::run(&server, options).await?);
            goals.extend(
                steady::run(&server, options, spec(steady_targets, steady_interval, steady_secs, false)).await?,
            );
            goals.extend(steady::run(&server, options, snapshot_alone).await?);
        }
        Mode::Pass => goals.extend(pass::run(&server, options).await?),
        Mode::Steady => {
            goals.extend(
                steady::run(&server, options, spec(steady_targets, steady_interval, steady_secs, false)).await?,
            );
        }
        Mode::Snapshot => goals.extend(steady::run(&server, options, snapshot_alone).await?),
        Mode::Binary => {
            let spec = binary::Spec {
                binary: options.binary.clone().unwrap_or_else(binary::default_binary),
                targets: steady_targets,
                interval: steady_interval,
                secs: steady_secs,
                history_results: options.history_results,
            };
            goals.extend(binary::run(&server, options, &spec)?);
        }
        Mode::All => {
            goals.extend(pass::run(&server, options).await?);
            goals
                .extend(steady::run(&server, options, spec(steady_targets, steady_interval, steady_secs, true)).await?);
        }
    }
    drop(server);
    Ok(goals)
}

fn print_summary(options: &Options, goals: &[Goal]) {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("\n== summary: engine runtime {}, {cpus} CPUs ==", options.runtime.name());
    let what = goals.iter().map(|g| g.what.len()).max().unwrap_or(0);
    let figure = goals.iter().map(|g| g.figure.len()).max().unwrap_or(0);
    for g in goals {
        println!(
            "{:<what$}  {:<figure$}  {} (goal: {})",
            g.what,
            g.figure,
            if g.met { "PASS" } else { "MISS" },
            g.budget
        );
    }
}
