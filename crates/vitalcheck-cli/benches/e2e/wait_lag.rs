//! Measurement 2: the lag from a server coming up to `vitalcheck wait` exiting, and the
//! CPU time the waiting costs per attempt.

use crate::process::{Exit, cpu_time, threads, wait_unreaped};
use crate::server::Server;
use crate::stats::{Summary, ms, summarize};
use crate::{BIN, Kind, Options};
use rustix::process::Pid;
use std::net::{Ipv4Addr, TcpListener};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The `wait` child is killed if it has not exited this long after the server is up.
const WAIT_EXIT_LIMIT: Duration = Duration::from_secs(5);
/// Tries per wait round (new port each time) before the round is given up.
const WAIT_TRIES: usize = 5;
/// The retry delay while the connection is refused (DESIGN: "every initial delay").
const PENDING_DELAY: Duration = Duration::from_millis(200);
/// Allowed on top of [`PENDING_DELAY`] in the lag budget.
const LAG_SLACK: Duration = Duration::from_millis(5);
/// The budget on the CPU time per attempt, in microseconds.
const CPU_PER_ATTEMPT_BUDGET_US: f64 = 1000.0;

/// One completed wait round.
struct Round {
    /// How long after the start of `wait` the server came up.
    delay: Duration,
    /// From `listen` returning to the child exiting.
    lag: Duration,
    /// The `attempts` of the JSON report, if it could be read.
    attempts: Option<u64>,
    /// The child's CPU time, if it could be read.
    cpu: Option<Duration>,
}

/// Why a wait round did not complete.
enum RoundError {
    /// Try again with a new port.
    Retry(String),
    /// Pointless to go on (the binary misbehaves).
    Abort(String),
}

/// All the rounds of the measurement.
struct Rounds {
    /// The completed rounds.
    done: Vec<Round>,
    /// The most threads seen in a child.
    max_threads: u32,
    /// Whether the measurement was stopped by a [`RoundError::Abort`].
    aborted: bool,
}

/// Runs the wait rounds, printing a row per round and the summary, and returns the
/// budget lines (lag, then CPU per attempt).
pub(crate) fn wait_lag(options: &Options) -> Vec<String> {
    let kind = options.kind;
    println!(
        "2. wait lag: `vitalcheck wait -o json {}`, server up 1.0-2.5 s after the start",
        kind.target(0).replace(":0", ":PORT")
    );
    println!(
        "   {:>5} {:>9} {:>9} {:>9} {:>11} {:>13}",
        "round", "up after", "lag ms", "attempts", "cpu ms", "cpu/attempt us"
    );
    let rounds = run_rounds(kind, options.rounds);
    if rounds.max_threads > 1 {
        println!("   note: the child had {} threads; the CPU figure covers its main thread only", rounds.max_threads);
    }

    let lags: Vec<Duration> = rounds.done.iter().map(|r| r.lag).collect();
    let Some(lag) = summarize(&lags) else {
        let why = if rounds.aborted { "aborted" } else { "no round completed" };
        return vec![format!("wait lag ({}): not measured ({why})", kind.name())];
    };
    vec![lag_line(kind, &lag, lags.len()), cpu_line(kind, &rounds.done)]
}

/// Runs `count` rounds, each tried up to [`WAIT_TRIES`] times, printing a row per
/// completed round; stops at the first [`RoundError::Abort`].
fn run_rounds(kind: Kind, count: usize) -> Rounds {
    let mut rounds = Rounds { done: Vec::new(), max_threads: 0, aborted: false };
    'rounds: for round in 0..count {
        let delay = round_delay(round);
        for tried in 1..=WAIT_TRIES {
            match wait_round(kind, delay, &mut rounds.max_threads) {
                Ok(r) => {
                    print_round(round, &r);
                    rounds.done.push(r);
                    continue 'rounds;
                }
                Err(RoundError::Retry(why)) => println!("   round {} try {tried}: {why}; retrying", round + 1),
                Err(RoundError::Abort(why)) => {
                    println!("   round {}: {why}", round + 1);
                    println!("   stopping the wait-lag measurement");
                    rounds.aborted = true;
                    break 'rounds;
                }
            }
        }
        println!("   round {}: gave up after {WAIT_TRIES} tries", round + 1);
    }
    rounds
}

/// Prints the table row of the completed round `round` (from 0).
fn print_round(round: usize, r: &Round) {
    println!(
        "   {:>5} {:>8.2}s {:>9.1} {:>9} {:>11} {:>13}",
        round + 1,
        r.delay.as_secs_f64(),
        ms(r.lag),
        r.attempts.map_or("?".into(), |a| a.to_string()),
        r.cpu.map_or("?".into(), |c| format!("{:.3}", ms(c))),
        per_attempt_us(r).map_or("?".into(), |us| format!("{us:.0}"))
    );
}

/// Prints the lag summary over `count` rounds and returns the lag budget line.
fn lag_line(kind: Kind, lag: &Summary, count: usize) -> String {
    let lag_budget = PENDING_DELAY + LAG_SLACK;
    println!(
        "   lag over {} rounds: min {:.1} ms, median {:.1} ms, max {:.1} ms",
        count,
        ms(lag.min),
        ms(lag.median),
        ms(lag.max)
    );
    format!(
        "wait lag ({}): max {:.1} ms, median {:.1} ms (budget < {:.0} ms): {}",
        kind.name(),
        ms(lag.max),
        ms(lag.median),
        ms(lag_budget),
        if lag.max < lag_budget { "within budget" } else { "over budget" }
    )
}

/// Prints the CPU per attempt over all rounds (total CPU / total attempts) and the worst
/// round, and returns the CPU budget line.
fn cpu_line(kind: Kind, rounds: &[Round]) -> String {
    let measured: Vec<(Duration, u64)> =
        rounds.iter().filter_map(|r| Some((r.cpu?, r.attempts?))).filter(|(_, a)| *a > 0).collect();
    let total_cpu: Duration = measured.iter().map(|(c, _)| *c).sum();
    let total_attempts: u64 = measured.iter().map(|(_, a)| *a).sum();
    let worst = rounds.iter().filter_map(per_attempt_us).fold(f64::NAN, f64::max);
    if total_attempts == 0 {
        return format!("wait cpu ({}): not measured (no CPU time or attempts count)", kind.name());
    }
    let mean = total_cpu.as_secs_f64() * 1e6 / total_attempts as f64;
    println!(
        "   cpu per attempt: {mean:.0} us overall ({:.3} ms / {total_attempts} attempts), worst round {worst:.0} us",
        ms(total_cpu)
    );
    format!(
        "wait cpu ({}): {mean:.0} us per attempt overall, worst round {worst:.0} us (budget < {CPU_PER_ATTEMPT_BUDGET_US:.0} us): {}",
        kind.name(),
        if mean < CPU_PER_ATTEMPT_BUDGET_US { "within budget" } else { "over budget" }
    )
}

/// The CPU time per attempt of a round, in microseconds, if both are known.
fn per_attempt_us(round: &Round) -> Option<f64> {
    let attempts = round.attempts.filter(|a| *a > 0)?;
    Some(round.cpu?.as_secs_f64() * 1e6 / attempts as f64)
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

/// The `attempts` of the first target in a `wait -o json` report.
fn attempts_from_json(stdout: &[u8]) -> Option<u64> {
    let report: serde_json::Value = serde_json::from_slice(stdout).ok()?;
    report.get("targets")?.get(0)?.get("attempts")?.as_u64()
}

/// One round: starts `wait` on a free port, brings the server up `delay` later, and
/// measures the lag to the child's exit and the child's CPU time. Notes the child's
/// thread count in `max_threads`.
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
    // Did it exit before anything listened?
    if let Ok(Some(_)) = child.try_wait() {
        return Err(exited_early(child, port));
    }
    let listener = bind_port(&mut child, port)?;
    // `TcpListener::bind` returns once `listen` has: the port answers from here on.
    let bound = Instant::now();
    let server = Server::start(listener);

    // Block until the child exits, without reaping it, so its CPU time can still be read.
    let exit = wait_unreaped(pid, WAIT_EXIT_LIMIT);
    let cpu = cpu_time(pid);
    drop(server);
    let out = child.wait_with_output().map_err(|e| RoundError::Abort(format!("reaping the child: {e}")))?;
    check_exit(&target, &exit, &out)?;
    Ok(Round { delay, lag: exit.at.saturating_duration_since(bound), attempts: attempts_from_json(&out.stdout), cpu })
}

/// The error for a child that exited before the server was up. A self-connect on an
/// ephemeral port can look healthy (retry); anything else means the binary is not waiting
/// as it should (abort).
fn exited_early(child: Child, port: u16) -> RoundError {
    let out = match child.wait_with_output() {
        Ok(out) => out,
        Err(e) => return RoundError::Abort(format!("reading the child: {e}")),
    };
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout).trim(), String::from_utf8_lossy(&out.stderr).trim());
    if out.status.success() {
        RoundError::Retry(format!("`wait` exited healthy before the server was up on port {port}: {text}"))
    } else {
        RoundError::Abort(format!("`wait` exited ({}) before the server was up: {text}", out.status))
    }
}

/// Binds the server's listener on `port`; if the port was taken meanwhile, kills and
/// reaps `child` and asks for a retry.
fn bind_port(child: &mut Child, port: u16) -> Result<TcpListener, RoundError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(|err| {
        let _ = child.kill();
        let _ = child.wait();
        RoundError::Retry(format!("port {port} was taken meanwhile ({err})"))
    })
}

/// Checks that the `wait {target}` child exited on its own and healthy.
fn check_exit(target: &str, exit: &Exit, out: &Output) -> Result<(), RoundError> {
    if let Err(err) = exit.result {
        return Err(RoundError::Abort(format!("waitid failed: {err}")));
    }
    if exit.killed {
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
    Ok(())
}
