//! Keeping one process alive: start it, probe it, restart it when it dies or hangs.
//!
//! Built on the same pieces as `watch`: [`vitalcheck::probe::Target`] probes,
//! [`vitalcheck::state::TargetState`] (startup, liveness and readiness probes with
//! thresholds and a start period) and [`vitalcheck::backoff::Backoff`] (the restart
//! schedule). Anchors: the kubelet (probes, CrashLoopBackOff), Docker restart policies,
//! supervisord, systemd `Restart=` and watchdog, tini as PID 1.
//!
//! * [`policy`]: pure restart decisions (policy, backoff, reset, limit).
//! * [`Child`]: the process, leader of its own group; TERM then KILL after a grace period.
//! * [`Supervisor`]: the loop joining them; reports [`Event`]s on a channel and the
//!   current [`Snapshot`] on a `watch` channel, and takes [`Received`] signals on another.
//! * [`Signals`]: TERM and INT stop, HUP, USR1 and USR2 are forwarded.
//! * [`Reaper`]: reaps orphans when running as PID 1 or as a subreaper.
//! * [`Notifier`]: systemd's `READY=1` / `WATCHDOG=1`.
//! * [`own`]: the same for a target's `process` table under `vitalcheck run`, acting on
//!   the engine's transitions instead of probing itself.
//!
//! # Semantics
//! * Probes start one interval after the child; only the startup probe runs until it
//!   succeeds. Startup or liveness failing its threshold stops the child: the signal (TERM)
//!   to its process group, SIGKILL after the grace period. Readiness is reported only.
//! * Whenever the child's leader exits, whatever is left in its group is killed.
//! * After a run ends, [`RestartTracker`] decides: restart after a delay, exit with the
//!   child's code, or give up.

mod child;
mod event;
mod own;
pub mod policy;
mod reaper;
mod run;
mod sd_notify;
mod signals;

pub use child::{Child, SpawnError, Stopped, code_of};
pub use event::{Cause, Event, Snapshot};
pub use own::own;
pub use policy::{Decision, Ended, RestartConfig, RestartPolicy, RestartTracker};
pub use reaper::Reaper;
pub use sd_notify::Notifier;
pub use signals::{Received, Signals};

use std::time::Duration;
use tokio::sync::{mpsc, watch};
use vitalcheck::probe::Target;
use vitalcheck::state::Thresholds;

/// One probe of the child: what to ask, how often, and when it flips.
#[derive(Debug, Clone)]
pub struct ProbeSpec {
    /// The target probed.
    pub target: Target,
    /// Time between probes (the first one comes one interval after the start).
    pub interval: Duration,
    /// Time one probe may take.
    pub timeout: Duration,
    /// Failure and success thresholds, start period.
    pub thresholds: Thresholds,
}

/// What to run and how to keep it alive.
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// The program and its arguments (no shell).
    pub command: Vec<String>,
    /// Runs alone until it succeeds; failing its threshold restarts the child.
    pub startup: Option<ProbeSpec>,
    /// Failing its threshold restarts the child.
    pub liveness: Option<ProbeSpec>,
    /// Reported (`/readyz`, `READY=1`), never acted on.
    pub readiness: Option<ProbeSpec>,
    /// When and how fast to restart.
    pub restart: RestartConfig,
    /// Between TERM and KILL.
    pub grace: Duration,
}

/// How supervision ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The child ended and the policy says no restart.
    Exited {
        /// The child's code.
        code: i32,
    },
    /// Stopped on a signal (TERM, INT).
    Stopped {
        /// The child's code.
        code: i32,
    },
    /// Too many restarts.
    GaveUp {
        /// Restarts since the last reset.
        restarts: u32,
        /// The last child's code.
        code: i32,
    },
}

impl Outcome {
    /// The code for the supervisor to exit with: the child's, or on giving up the last
    /// child's when not 0, else 1.
    pub fn exit_code(&self) -> i32 {
        match *self {
            Outcome::Exited { code } | Outcome::Stopped { code } => code,
            Outcome::GaveUp { code, .. } => {
                if code == 0 {
                    1
                } else {
                    code
                }
            }
        }
    }
}

/// A supervisor error: only I/O on the child itself (spawn failures are restarted).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SupervisorError {
    /// Waiting for or signalling the child failed.
    #[error("supervising the child: {0}")]
    Io(#[from] std::io::Error),
}

/// Supervises one child; build, take the channels you need, then [`run`](Self::run).
#[derive(Debug)]
pub struct Supervisor {
    config: SupervisorConfig,
    events: mpsc::UnboundedSender<Event>,
    events_rx: Option<mpsc::UnboundedReceiver<Event>>,
    snapshot: watch::Sender<Snapshot>,
}

impl Supervisor {
    /// A supervisor for `config`.
    pub fn new(config: SupervisorConfig) -> Supervisor {
        let (events, events_rx) = mpsc::unbounded_channel();
        Supervisor { config, events, events_rx: Some(events_rx), snapshot: watch::Sender::new(Snapshot::default()) }
    }

    /// The events, in order (once; later calls get `None`).
    pub fn events(&mut self) -> Option<mpsc::UnboundedReceiver<Event>> {
        self.events_rx.take()
    }

    /// A sender for events from outside the loop (e.g. the reaper's), into the same stream.
    pub fn event_sender(&self) -> mpsc::UnboundedSender<Event> {
        self.events.clone()
    }

    /// The current state, updated as it changes.
    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.snapshot.subscribe()
    }

    /// Runs until the policy says stop, the limit is reached, or `control` asks to stop.
    /// `control` also carries signals to forward. Dropping its sender is not a stop.
    pub async fn run(self, control: mpsc::Receiver<Received>) -> Result<Outcome, SupervisorError> {
        run::Run::new(self.config, self.events, self.snapshot, control).supervise().await
    }
}
