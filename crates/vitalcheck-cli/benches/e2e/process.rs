//! Child processes: timing them under a time limit, waiting for them without reaping,
//! and reading their CPU time and thread count from `/proc`.

use rustix::io::Errno;
use rustix::process::{Pid, Signal, WaitId, WaitIdOptions, kill_process, waitid};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A single `check` or `curl` process is killed after this long.
const PROCESS_TIME_LIMIT: Duration = Duration::from_secs(10);

/// How a child process ended, as seen by [`wait_unreaped`].
pub(crate) struct Exit {
    /// What `waitid` returned (an error means the exit was not observed).
    pub(crate) result: Result<(), Errno>,
    /// The instant `waitid` returned: when the child exited.
    pub(crate) at: Instant,
    /// Whether the watchdog killed the child for outliving its limit.
    pub(crate) killed: bool,
}

/// Blocks until process `pid` exits, killing it if it runs longer than `limit`. The child
/// is not reaped, so its pid stays its own (the watchdog may still signal it) and its
/// `/proc` entry stays readable until the caller reaps it.
pub(crate) fn wait_unreaped(pid: Pid, limit: Duration) -> Exit {
    let (cancel, cancelled) = mpsc::channel::<()>();
    let watchdog = thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = cancelled.recv_timeout(limit) {
            // The child is not reaped before this thread is joined, so the pid is still it.
            let _ = kill_process(pid, Signal::KILL);
            true
        } else {
            false
        }
    });
    let result = waitid(WaitId::Pid(pid), WaitIdOptions::EXITED | WaitIdOptions::NOWAIT).map(|_| ());
    let at = Instant::now();
    drop(cancel);
    let killed = watchdog.join().unwrap_or(false);
    Exit { result, at, killed }
}

/// Runs a command with no output, killed after [`PROCESS_TIME_LIMIT`]; returns its wall
/// time (spawn to exit) and whether it succeeded.
pub(crate) fn time_process(program: &str, args: &[&str]) -> std::io::Result<(Duration, bool)> {
    let started = Instant::now();
    let mut child =
        Command::new(program).args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    let (status, exited) = wait_bounded(&mut child, PROCESS_TIME_LIMIT)?;
    Ok((exited.saturating_duration_since(started), status.success()))
}

/// Waits for `child`, killing it if it runs longer than `limit`; returns its status and
/// the instant it exited.
fn wait_bounded(child: &mut Child, limit: Duration) -> std::io::Result<(ExitStatus, Instant)> {
    let exit = wait_unreaped(Pid::from_child(child), limit);
    exit.result?;
    Ok((child.wait()?, exit.at))
}

/// The CPU time (user+sys) a process has used, in nanoseconds: the first field of
/// `/proc/PID/schedstat` (the main thread; still readable while the child is a zombie).
pub(crate) fn cpu_time(pid: Pid) -> Option<Duration> {
    let text = std::fs::read_to_string(format!("/proc/{}/schedstat", pid.as_raw_nonzero())).ok()?;
    let ns = text.split_whitespace().next()?.parse::<u64>().ok()?;
    Some(Duration::from_nanos(ns))
}

/// The number of threads of a running process, from `/proc/PID/status`.
pub(crate) fn threads(pid: Pid) -> Option<u32> {
    let text = std::fs::read_to_string(format!("/proc/{}/status", pid.as_raw_nonzero())).ok()?;
    text.lines().find_map(|line| line.strip_prefix("Threads:")).and_then(|n| n.trim().parse().ok())
}
