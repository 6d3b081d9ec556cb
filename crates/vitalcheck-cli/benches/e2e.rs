//! End-to-end benchmark of the `vitalcheck` binary, against servers on 127.0.0.1.
//!
//! It measures the two CLI budgets of DESIGN.md ("Budgets"):
//!
//! 1. **check vs curl**: the wall time of a whole `vitalcheck check URL` process against a
//!    ready local HTTP/1.1 server, next to `curl -fsS -o /dev/null URL` on the same server
//!    (run alternately, after warm-up runs). Prints min / median / p90 and the ratio of
//!    the medians (budget: within 1.5x of curl). Without curl, curl's column is skipped.
//! 2. **wait lag**: `vitalcheck wait -o json URL` is started on a free port with nothing
//!    listening; 1.0-2.5 s later (varied deterministically per round) the server binds the
//!    port. The lag is from `listen` returning to the child process exiting (budget: under
//!    the pending 200 ms retry delay + 5 ms). The child's CPU time (user+sys, read from
//!    `/proc/PID/schedstat` of the exited, not yet reaped child; the binary runs on one
//!    thread) is divided by the `attempts` of its JSON report, per round and over all
//!    rounds (budget: under 1 ms per attempt, judged on the overall figure; it includes
//!    process start-up). `-q` is not passed: it would silence the JSON report too.
//!
//! The figures are printed as a table with a budget line per measurement; nothing is
//! asserted (a benchmark prints, it does not fail on numbers). Every loop is bounded in
//! count and in time, and every child process is killed if it outlives its bound.
//!
//! Run (release profile):
//!
//! ```text
//! cargo bench -p vitalcheck-cli --bench e2e
//! cargo bench -p vitalcheck-cli --bench e2e -- --kind tcp --runs 50 --rounds 3
//! ```
//!
//! Flags (after `--`):
//!
//! - `--runs N`: processes per tool in the check-vs-curl measurement (default 200).
//! - `--rounds R`: rounds of the wait-lag measurement (default 10).
//! - `--kind http|tcp`: the target vitalcheck probes, `http://127.0.0.1:PORT/` or
//!   `tcp://127.0.0.1:PORT` (default http). curl always speaks HTTP to the same server.

use rustix::process::{Pid, Signal, WaitId, WaitIdOptions, kill_process, waitid};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_vitalcheck");
const WARMUP_RUNS: usize = 5;
/// Upper bound on the whole check-vs-curl measurement.
const CHECK_TIME_LIMIT: Duration = Duration::from_secs(180);
/// A single `check` or `curl` process is killed after this long.
const PROCESS_TIME_LIMIT: Duration = Duration::from_secs(10);
/// The `wait` child is killed if it has not exited this long after the server is up.
const WAIT_EXIT_LIMIT: Duration = Duration::from_secs(5);
/// Tries per wait round (new port each time) before the round is given up.
const WAIT_TRIES: usize = 5;
/// The retry delay while the connection is refused (DESIGN: "every initial delay").
const PENDING_DELAY: Duration = Duration::from_millis(200);
const LAG_SLACK: Duration = Duration::from_millis(5);
const CHECK_RATIO_BUDGET: f64 = 1.5;
const CPU_PER_ATTEMPT_BUDGET_US: f64 = 1000.0;
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Http,
    Tcp,
}

impl Kind {
    fn target(self, port: u16) -> String {
        match self {
            Kind::Http => format!("http://127.0.0.1:{port}/"),
            Kind::Tcp => format!("tcp://127.0.0.1:{port}"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Http => "http",
            Kind::Tcp => "tcp",
        }
    }
}

#[derive(Debug)]
struct Options {
    runs: usize,
    rounds: usize,
    kind: Kind,
}

const USAGE: &str = "usage: cargo bench -p vitalcheck-cli --bench e2e -- [--runs N] [--rounds R] [--kind http|tcp]";

fn parse_options() -> Result<Options, String> {
    let mut options = Options { runs: 200, rounds: 10, kind: Kind::Http };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = |name: &str| inline.clone().or_else(|| args.next()).ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            // `cargo bench` passes `--bench` to every bench binary.
            "--bench" => {}
            "--runs" => options.runs = parse_count("--runs", &value("--runs")?)?,
            "--rounds" => options.rounds = parse_count("--rounds", &value("--rounds")?)?,
            "--kind" => {
                options.kind = match value("--kind")?.as_str() {
                    "http" => Kind::Http,
                    "tcp" => Kind::Tcp,
                    other => return Err(format!("--kind must be http or tcp, not {other:?}")),
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

fn parse_count(name: &str, value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(n),
        _ => Err(format!("{name} must be a whole number from 1 to 100000, not {value:?}")),
    }
}

fn main() {
    let options = match parse_options() {
        Ok(options) => options,
        Err(err) => {
            eprintln!("e2e: {err}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    println!("vitalcheck e2e benchmark: {cores} cores, binary {BIN}");
    println!("target kind: {}, runs: {}, rounds: {}", options.kind.name(), options.runs, options.rounds);
    println!();

    let mut budget_lines = Vec::new();
    budget_lines.push(check_vs_curl(&options));
    println!();
    budget_lines.extend(wait_lag(&options));

    println!();
    println!("budgets (information only, nothing is asserted):");
    for line in budget_lines {
        println!("  {line}");
    }
}

// ---------------------------------------------------------------------------------------
// The HTTP server.

/// A tiny HTTP/1.1 server on a std thread: reads each request head, answers 200 "ok",
/// closes. Connections that send nothing (a TCP probe) get the answer too, which they
/// may never read.
struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(listener: TcpListener) -> Server {
        let addr = listener.local_addr().expect("local address of the listener");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::Builder::new()
            .name("e2e-server".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if flag.load(Ordering::Acquire) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        serve(stream);
                    }
                }
            })
            .expect("spawn the server thread");
        Server { addr, stop, thread: Some(thread) }
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_nodelay(true);
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    // Read the request head: up to the blank line, EOF, an error, or 16 KiB.
    while head.len() < 16 * 1024 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let _ = stream.write_all(RESPONSE);
    let _ = stream.flush();
}

// ---------------------------------------------------------------------------------------
// Statistics.

#[derive(Debug, Clone, Copy)]
struct Summary {
    min: Duration,
    median: Duration,
    p90: Duration,
    max: Duration,
}

fn summarize(samples: &[Duration]) -> Option<Summary> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = |p: f64| {
        // Nearest rank.
        let index = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[index]
    };
    Some(Summary { min: *sorted.first()?, median: rank(0.5), p90: rank(0.9), max: *sorted.last()? })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

// ---------------------------------------------------------------------------------------
// 1. check vs curl.

/// Runs a command with no output, killed after [`PROCESS_TIME_LIMIT`]; returns its wall
/// time (spawn to exit) and whether it succeeded.
fn time_process(program: &str, args: &[&str]) -> std::io::Result<(Duration, bool)> {
    let started = Instant::now();
    let mut child =
        Command::new(program).args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    let (status, exited) = wait_bounded(&mut child, PROCESS_TIME_LIMIT)?;
    Ok((exited.saturating_duration_since(started), status.success()))
}

/// Waits for `child`, killing it if it runs longer than `limit`; returns its status and
/// the instant it exited.
fn wait_bounded(child: &mut std::process::Child, limit: Duration) -> std::io::Result<(ExitStatus, Instant)> {
    let pid = Pid::from_child(child);
    let (cancel, cancelled) = mpsc::channel::<()>();
    let watchdog = thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = cancelled.recv_timeout(limit) {
            // The child is not reaped before this thread is joined, so the pid is still it.
            let _ = kill_process(pid, Signal::KILL);
        }
    });
    // Wait for the exit without reaping (the watchdog may still signal the pid).
    let exited = waitid(WaitId::Pid(pid), WaitIdOptions::EXITED | WaitIdOptions::NOWAIT);
    let at = Instant::now();
    drop(cancel);
    let _ = watchdog.join();
    exited?;
    Ok((child.wait()?, at))
}

fn check_vs_curl(options: &Options) -> String {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the check server on 127.0.0.1:0");
    let server = Server::start(listener);
    let url = format!("http://127.0.0.1:{}/", server.port());
    let target = options.kind.target(server.port());
    let check_args = ["check", target.as_str()];
    let curl_args = ["-fsS", "-o", "/dev/null", url.as_str()];

    println!("1. check vs curl: `vitalcheck check {target}` and `curl -fsS -o /dev/null {url}`");

    // Sanity runs (with output) so a failing tool is reported instead of timed.
    let vitalcheck_ok = match Command::new(BIN).args(check_args).stdin(Stdio::null()).output() {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            println!(
                "   vitalcheck check fails ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
            println!("   (skipping vitalcheck's column; try --kind tcp while the http probe is a placeholder)");
            false
        }
        Err(err) => {
            println!("   cannot run {BIN}: {err}; skipping vitalcheck's column");
            false
        }
    };
    let curl_ok = match Command::new("curl").args(curl_args).stdin(Stdio::null()).output() {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            println!(
                "   curl fails ({}): {}; skipping curl's column",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
            false
        }
        Err(err) if err.kind() == ErrorKind::NotFound => {
            println!("   curl is not installed; skipping curl's column");
            false
        }
        Err(err) => {
            println!("   cannot run curl: {err}; skipping curl's column");
            false
        }
    };
    let tools: Vec<(&str, &str, &[&str])> = [("vitalcheck", BIN, &check_args[..]), ("curl", "curl", &curl_args[..])]
        .into_iter()
        .zip([vitalcheck_ok, curl_ok])
        .filter_map(|(tool, ok)| ok.then_some(tool))
        .collect();
    if tools.is_empty() {
        return "check vs curl: not measured".into();
    }

    let started = Instant::now();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(options.runs); tools.len()];
    let mut failures = vec![0usize; tools.len()];
    let mut done = 0;
    for run in 0..WARMUP_RUNS + options.runs {
        if started.elapsed() > CHECK_TIME_LIMIT {
            println!("   stopped after {done} runs: over the {} s limit", CHECK_TIME_LIMIT.as_secs());
            break;
        }
        // Alternate which tool goes first, so neither always runs right after the other.
        for offset in 0..tools.len() {
            let index = (run + offset) % tools.len();
            let (_, program, args) = tools[index];
            match time_process(program, args) {
                Ok((elapsed, success)) if run >= WARMUP_RUNS => {
                    if success {
                        samples[index].push(elapsed);
                    } else {
                        failures[index] += 1;
                    }
                }
                Ok(_) => {}
                Err(err) => {
                    failures[index] += 1;
                    if failures[index] == 1 {
                        println!("   cannot run {program}: {err}");
                    }
                }
            }
        }
        if run >= WARMUP_RUNS {
            done += 1;
        }
    }

    println!(
        "   {:<12} {:>6} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "tool", "runs", "min ms", "median", "p90", "max", "failed"
    );
    let mut medians = Vec::new();
    for (index, (name, _, _)) in tools.iter().enumerate() {
        match summarize(&samples[index]) {
            Some(s) => {
                println!(
                    "   {:<12} {:>6} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>6}",
                    name,
                    samples[index].len(),
                    ms(s.min),
                    ms(s.median),
                    ms(s.p90),
                    ms(s.max),
                    failures[index]
                );
                medians.push((*name, s.median));
            }
            None => println!("   {:<12} {:>6} {:>9}", name, 0, "-"),
        }
    }
    let vc = medians.iter().find(|(n, _)| *n == "vitalcheck").map(|(_, d)| *d);
    let curl = medians.iter().find(|(n, _)| *n == "curl").map(|(_, d)| *d);
    match (vc, curl) {
        (Some(vc), Some(curl)) if !curl.is_zero() => {
            let ratio = vc.as_secs_f64() / curl.as_secs_f64();
            println!("   ratio vitalcheck/curl (medians): {ratio:.2}x");
            let verdict = if ratio <= CHECK_RATIO_BUDGET { "within budget" } else { "over budget" };
            format!(
                "check vs curl ({}): {ratio:.2}x of curl (median {:.3} ms vs {:.3} ms; budget <= {CHECK_RATIO_BUDGET}x): {verdict}",
                options.kind.name(),
                ms(vc),
                ms(curl)
            )
        }
        _ => "check vs curl: no ratio (a column is missing)".into(),
    }
}

// ---------------------------------------------------------------------------------------
// 2. wait lag.

/// One completed wait round.
struct Round {
    delay: Duration,
    lag: Duration,
    attempts: Option<u64>,
    cpu: Option<Duration>,
}

enum RoundError {
    /// Try again with a new port.
    Retry(String),
    /// Pointless to go on (the binary misbehaves).
    Abort(String),
}

/// The delay before the server comes up in round `round`: 1.0-2.5 s, spread by the
/// golden ratio so consecutive rounds differ (deterministic, no RNG).
fn round_delay(round: usize) -> Duration {
    let fraction = ((round as f64 + 1.0) * 0.618_033_988_75).fract();
    Duration::from_secs_f64(1.0 + 1.5 * fraction)
}

/// A port nothing listens on (for now): bind 127.0.0.1:0, note the port, drop it.
fn reserve_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}

/// The CPU time (user+sys) a process has used, in nanoseconds: the first field of
/// `/proc/PID/schedstat` (the main thread; still readable while the child is a zombie).
fn cpu_time(pid: Pid) -> Option<Duration> {
    let text = std::fs::read_to_string(format!("/proc/{}/schedstat", pid.as_raw_nonzero())).ok()?;
    let ns = text.split_whitespace().next()?.parse::<u64>().ok()?;
    Some(Duration::from_nanos(ns))
}

fn threads(pid: Pid) -> Option<u32> {
    let text = std::fs::read_to_string(format!("/proc/{}/status", pid.as_raw_nonzero())).ok()?;
    text.lines().find_map(|line| line.strip_prefix("Threads:")).and_then(|n| n.trim().parse().ok())
}

fn attempts_from_json(stdout: &[u8]) -> Option<u64> {
    let report: serde_json::Value = serde_json::from_slice(stdout).ok()?;
    report.get("targets")?.get(0)?.get("attempts")?.as_u64()
}

fn wait_round(kind: Kind, delay: Duration, max_threads: &mut u32) -> Result<Round, RoundError> {
    let port = reserve_port().map_err(|e| RoundError::Retry(format!("cannot reserve a port: {e}")))?;
    let target = kind.target(port);
    let mut child = Command::new(BIN)
        .args(["wait", "-o", "json", target.as_str()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| RoundError::Abort(format!("cannot run {BIN}: {e}")))?;
    let pid = Pid::from_child(&child);

    thread::sleep(delay);
    if let Some(n) = threads(pid) {
        *max_threads = (*max_threads).max(n);
    }
    // Did it exit before anything listened? (A self-connect on an ephemeral port can look
    // healthy; anything else means the binary is not waiting as it should.)
    if let Ok(Some(_)) = child.try_wait() {
        let out = child.wait_with_output().map_err(|e| RoundError::Abort(format!("reading the child: {e}")))?;
        let text =
            format!("{}{}", String::from_utf8_lossy(&out.stdout).trim(), String::from_utf8_lossy(&out.stderr).trim());
        return Err(if out.status.success() {
            RoundError::Retry(format!("`wait` exited healthy before the server was up on port {port}: {text}"))
        } else {
            RoundError::Abort(format!("`wait` exited ({}) before the server was up: {text}", out.status))
        });
    }

    let listener = match TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
        Ok(listener) => listener,
        Err(err) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(RoundError::Retry(format!("port {port} was taken meanwhile ({err})")));
        }
    };
    // `TcpListener::bind` returns once `listen` has: the port answers from here on.
    let bound = Instant::now();
    let server = Server::start(listener);

    // Block until the child exits, without reaping it, so its CPU time can still be read.
    let (cancel, cancelled) = mpsc::channel::<()>();
    let watchdog = thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = cancelled.recv_timeout(WAIT_EXIT_LIMIT) {
            let _ = kill_process(pid, Signal::KILL);
            true
        } else {
            false
        }
    });
    let exited = waitid(WaitId::Pid(pid), WaitIdOptions::EXITED | WaitIdOptions::NOWAIT);
    let exit = Instant::now();
    drop(cancel);
    let killed = watchdog.join().unwrap_or(false);
    let cpu = cpu_time(pid);
    drop(server);
    let out = child.wait_with_output().map_err(|e| RoundError::Abort(format!("reaping the child: {e}")))?;
    if let Err(err) = exited {
        return Err(RoundError::Abort(format!("waitid failed: {err}")));
    }
    if killed {
        return Err(RoundError::Abort(format!(
            "`wait {target}` did not exit within {} s of the server answering (killed); stderr: {}",
            WAIT_EXIT_LIMIT.as_secs(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    if !out.status.success() {
        return Err(RoundError::Abort(format!(
            "`wait {target}` failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(Round { delay, lag: exit.saturating_duration_since(bound), attempts: attempts_from_json(&out.stdout), cpu })
}

fn wait_lag(options: &Options) -> Vec<String> {
    let kind = options.kind;
    println!(
        "2. wait lag: `vitalcheck wait -o json {}`, server up 1.0-2.5 s after the start",
        kind.target(0).replace(":0", ":PORT")
    );
    println!(
        "   {:>5} {:>9} {:>9} {:>9} {:>11} {:>13}",
        "round", "up after", "lag ms", "attempts", "cpu ms", "cpu/attempt us"
    );
    let mut rounds: Vec<Round> = Vec::new();
    let mut max_threads = 0;
    let mut aborted = false;
    'rounds: for round in 0..options.rounds {
        let delay = round_delay(round);
        for tried in 1..=WAIT_TRIES {
            match wait_round(kind, delay, &mut max_threads) {
                Ok(r) => {
                    let per_attempt = per_attempt_us(&r);
                    println!(
                        "   {:>5} {:>8.2}s {:>9.1} {:>9} {:>11} {:>13}",
                        round + 1,
                        r.delay.as_secs_f64(),
                        ms(r.lag),
                        r.attempts.map_or("?".into(), |a| a.to_string()),
                        r.cpu.map_or("?".into(), |c| format!("{:.3}", ms(c))),
                        per_attempt.map_or("?".into(), |us| format!("{us:.0}"))
                    );
                    rounds.push(r);
                    continue 'rounds;
                }
                Err(RoundError::Retry(why)) => println!("   round {} try {tried}: {why}; retrying", round + 1),
                Err(RoundError::Abort(why)) => {
                    println!("   round {}: {why}", round + 1);
                    println!("   stopping the wait-lag measurement");
                    aborted = true;
                    break 'rounds;
                }
            }
        }
        println!("   round {}: gave up after {WAIT_TRIES} tries", round + 1);
    }
    if max_threads > 1 {
        println!("   note: the child had {max_threads} threads; the CPU figure covers its main thread only");
    }

    let lags: Vec<Duration> = rounds.iter().map(|r| r.lag).collect();
    let Some(lag) = summarize(&lags) else {
        let why = if aborted { "aborted" } else { "no round completed" };
        return vec![format!("wait lag ({}): not measured ({why})", kind.name())];
    };
    let lag_budget = PENDING_DELAY + LAG_SLACK;
    println!(
        "   lag over {} rounds: min {:.1} ms, median {:.1} ms, max {:.1} ms",
        lags.len(),
        ms(lag.min),
        ms(lag.median),
        ms(lag.max)
    );
    let mut lines = vec![format!(
        "wait lag ({}): max {:.1} ms, median {:.1} ms (budget < {:.0} ms): {}",
        kind.name(),
        ms(lag.max),
        ms(lag.median),
        ms(lag_budget),
        if lag.max < lag_budget { "within budget" } else { "over budget" }
    )];

    // CPU per attempt over all rounds: total CPU / total attempts.
    let measured: Vec<(Duration, u64)> =
        rounds.iter().filter_map(|r| Some((r.cpu?, r.attempts?))).filter(|(_, a)| *a > 0).collect();
    let total_cpu: Duration = measured.iter().map(|(c, _)| *c).sum();
    let total_attempts: u64 = measured.iter().map(|(_, a)| *a).sum();
    let worst = rounds.iter().filter_map(per_attempt_us).fold(f64::NAN, f64::max);
    if total_attempts > 0 {
        let mean = total_cpu.as_secs_f64() * 1e6 / total_attempts as f64;
        println!(
            "   cpu per attempt: {mean:.0} us overall ({:.3} ms / {total_attempts} attempts), worst round {worst:.0} us",
            ms(total_cpu)
        );
        lines.push(format!(
            "wait cpu ({}): {mean:.0} us per attempt overall, worst round {worst:.0} us (budget < {CPU_PER_ATTEMPT_BUDGET_US:.0} us): {}",
            kind.name(),
            if mean < CPU_PER_ATTEMPT_BUDGET_US { "within budget" } else { "over budget" }
        ));
    } else {
        lines.push(format!("wait cpu ({}): not measured (no CPU time or attempts count)", kind.name()));
    }
    lines
}

fn per_attempt_us(round: &Round) -> Option<f64> {
    let attempts = round.attempts.filter(|a| *a > 0)?;
    Some(round.cpu?.as_secs_f64() * 1e6 / attempts as f64)
}
