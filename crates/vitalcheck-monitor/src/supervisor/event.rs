//! What a supervisor reports: [`Event`]s as they happen and the current [`Snapshot`].

use std::fmt;
use std::time::Duration;
use vitalcheck::state::{ProbeKind, TargetStatus, Transition};

/// Why a child's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// It exited by itself.
    Exited {
        /// Its code (128 + signal when a signal ended it).
        code: i32,
    },
    /// Its startup or liveness probe failed its threshold, so the supervisor stopped it.
    Probe {
        /// Which probe.
        kind: ProbeKind,
        /// The last probe error.
        error: String,
        /// Consecutive failures.
        failures: u32,
    },
    /// The engine saw its target turn unhealthy (startup, liveness or its own probe).
    Unhealthy {
        /// The transition's reason.
        reason: String,
    },
    /// It could not be started.
    Spawn {
        /// Why.
        error: String,
    },
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Exited { code } => write!(f, "exited with code {code}"),
            Cause::Probe { kind, error, failures: 1 } => write!(f, "{kind} probe failed once (last: {error})"),
            Cause::Probe { kind, error, failures } => {
                write!(f, "{kind} probe failed {failures} times in a row (last: {error})")
            }
            Cause::Unhealthy { reason } => write!(f, "unhealthy: {reason}"),
            Cause::Spawn { error } => write!(f, "{error}"),
        }
    }
}

/// Something that happened to the supervised child.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A child was started.
    Started {
        /// Its pid.
        pid: u32,
        /// Restarts so far.
        restarts: u64,
    },
    /// One probe changed status (the state machine's transition).
    Probe {
        /// Which probe.
        kind: ProbeKind,
        /// The change.
        transition: Transition,
    },
    /// A probe failed once (below or at its threshold).
    ProbeFailed {
        /// Which probe.
        kind: ProbeKind,
        /// The error.
        error: String,
        /// Consecutive failures, this one included.
        failures: u32,
    },
    /// The child became ready (all probes up), or stopped being ready.
    Ready(bool),
    /// The child is being stopped: for a failed probe, or on a signal.
    Stopping {
        /// Why (`liveness probe failed ...`, `signal TERM`).
        reason: String,
    },
    /// The grace period ran out: the group got SIGKILL.
    Killed {
        /// The grace period.
        grace: Duration,
    },
    /// A signal was passed on to the child.
    Forwarded {
        /// Its name.
        signal: &'static str,
    },
    /// The child will be started again.
    Restarting {
        /// Why it ended.
        cause: Cause,
        /// The wait before the restart.
        delay: Duration,
        /// Restarts since the last reset, this one included.
        attempt: u32,
        /// Restarts since the supervisor started, this one included.
        total: u64,
    },
    /// The policy says no restart.
    Exited {
        /// Why it ended.
        cause: Cause,
        /// The supervisor's exit code.
        code: i32,
    },
    /// The restart limit was reached.
    GaveUp {
        /// Why the last run ended.
        cause: Cause,
        /// Restarts made since the last reset.
        restarts: u32,
    },
    /// An orphaned process was reaped.
    Reaped {
        /// Its pid.
        pid: i32,
        /// Orphans reaped so far.
        total: u64,
    },
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Started { pid, restarts } => write!(f, "started pid {pid} (restarts so far: {restarts})"),
            Event::Probe { kind, transition } => {
                write!(f, "{kind} probe {} -> {}: {}", transition.from, transition.to, transition.reason)
            }
            Event::ProbeFailed { kind, error, failures } => {
                write!(f, "{kind} probe failed ({failures} in a row): {error}")
            }
            Event::Ready(true) => f.write_str("ready"),
            Event::Ready(false) => f.write_str("not ready"),
            Event::Stopping { reason } => write!(f, "stopping the child: {reason}"),
            Event::Killed { grace } => write!(f, "still running after the {grace:?} grace period: killed (SIGKILL)"),
            Event::Forwarded { signal } => write!(f, "forwarded SIG{signal} to the child"),
            Event::Restarting { cause, delay, attempt, total } => {
                write!(f, "restarting in {delay:?}: {cause} (restart {attempt} since reset, {total} in total)")
            }
            Event::Exited { cause, code } => write!(f, "child {cause}; not restarting (exit {code})"),
            Event::GaveUp { cause, restarts } => {
                write!(f, "giving up after {restarts} restarts: the child {cause}")
            }
            Event::Reaped { pid, total } => write!(f, "reaped orphan pid {pid} ({total} so far)"),
        }
    }
}

/// The supervised child now: what `/livez`, `/readyz`, the IPC socket and systemd see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The running child's pid, if one runs.
    pub pid: Option<u32>,
    /// Running, and neither startup nor liveness has failed its threshold.
    pub live: bool,
    /// Running, and every configured probe is up (just running, without probes).
    pub ready: bool,
    /// The state machine's overall status of the current child.
    pub status: TargetStatus,
    /// Restarts since the supervisor started.
    pub restarts: u64,
    /// Why the last restart happened.
    pub last_cause: Option<String>,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot { pid: None, live: false, ready: false, status: TargetStatus::Unknown, restarts: 0, last_cause: None }
    }
}
