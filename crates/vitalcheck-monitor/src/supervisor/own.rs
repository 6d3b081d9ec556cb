//! A target's process owned by the engine (`vitalcheck run`, a `process` table).
//!
//! The engine already probes the target and runs its state machine; [`own`] starts the
//! process and watches the engine's transitions for the target: a transition to
//! `Unhealthy` that does not come from the readiness probe (so startup, liveness, or the
//! target's own probe standing in for liveness) stops the process (SIGTERM to its group,
//! SIGKILL after the grace period); an exit ends it too. Then [`RestartTracker`] decides,
//! as for `vitalcheck supervise`. A restart calls [`Engine::restarted`], so the state
//! starts over and the transition (reason `restarted (...)`) is logged, stored, counted
//! in `/metrics`, sent on the event stream and to the alerts like any other.

use super::{Cause, Child, Decision, Ended, Outcome, RestartTracker, SupervisorError};
use crate::config::ProcessConfig;
use crate::engine::{Engine, TransitionEvent};
use rustix::process::Signal;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;
use vitalcheck::state::TargetStatus;

/// How one run of the owned process ended.
enum Life {
    Ended(Ended, Cause),
    Stopped(i32),
}

/// Keeps target `name`'s process alive until `stop` turns true (then stops it within the
/// grace period), the policy says no restart, or the limit is reached.
pub async fn own(
    engine: Arc<Engine>,
    name: String,
    process: ProcessConfig,
    mut stop: watch::Receiver<bool>,
) -> Result<Outcome, SupervisorError> {
    let mut tracker = RestartTracker::new(process.restart);
    let epoch = Instant::now();
    let mut transitions = engine.subscribe();
    loop {
        let (ended, cause) = match life(&name, &process, &mut tracker, epoch, &mut transitions, &mut stop).await? {
            Life::Stopped(code) => return Ok(Outcome::Stopped { code }),
            Life::Ended(ended, cause) => (ended, cause),
        };
        match tracker.ended(ended, epoch.elapsed()) {
            Decision::Exit { code } => {
                tracing::warn!(target = %name, %cause, code, "process ended; not restarting (restart policy)");
                return Ok(Outcome::Exited { code });
            }
            Decision::GiveUp { restarts, code } => {
                tracing::error!(target = %name, %cause, restarts, "process: giving up (max_restarts)");
                return Ok(Outcome::GaveUp { restarts, code });
            }
            Decision::Restart { delay, attempt } => {
                let total = tracker.total();
                tracing::warn!(target = %name, %cause, ?delay, attempt, total, "process: restarting");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = stopped(&mut stop) => return Ok(Outcome::Stopped { code: ended.code }),
                }
                let reason = format!("restarted (restart {attempt} since reset, {total} in total): {cause}");
                // A target a reload removed: `stop` is on its way (false is fine).
                let _ = engine.restarted(&name, &reason).await;
            }
        }
    }
}

async fn life(
    name: &str,
    process: &ProcessConfig,
    tracker: &mut RestartTracker,
    epoch: Instant,
    transitions: &mut broadcast::Receiver<TransitionEvent>,
    stop: &mut watch::Receiver<bool>,
) -> Result<Life, SupervisorError> {
    // Transitions queued while the process was down (its probes failing during the
    // backoff) belong to the previous run: `Engine::restarted` has reset the state since.
    *transitions = transitions.resubscribe();
    let mut child = match Child::spawn(&process.command) {
        Ok(child) => child,
        Err(err) => {
            tracing::error!(target = %name, error = %err, "process: cannot start");
            return Ok(Life::Ended(Ended { code: 127, unhealthy: false }, Cause::Spawn { error: err.to_string() }));
        }
    };
    tracing::info!(target = %name, pid = child.pid(), "process started");
    tracker.down();
    loop {
        tokio::select! {
            code = child.wait() => {
                let code = code?;
                child.kill_leftovers();
                return Ok(Life::Ended(Ended { code, unhealthy: false }, Cause::Exited { code }));
            }
            _ = stopped(stop) => {
                let stopped = child.stop(Signal::TERM, process.grace).await?;
                tracing::info!(target = %name, code = stopped.code, killed = stopped.killed, "process stopped");
                return Ok(Life::Stopped(stopped.code));
            }
            event = transitions.recv() => match event {
                Ok(event) if &*event.target == name => {
                    if event.to.is_up() {
                        tracker.up(epoch.elapsed());
                    } else {
                        tracker.down();
                    }
                    if event.to == TargetStatus::Unhealthy && !event.reason.starts_with("readiness probe:") {
                        let stopped = child.stop(Signal::TERM, process.grace).await?;
                        if stopped.killed {
                            tracing::warn!(target = %name, grace = ?process.grace, "process ignored SIGTERM: killed");
                        }
                        let cause = Cause::Unhealthy { reason: event.reason.to_string() };
                        return Ok(Life::Ended(Ended { code: stopped.code, unhealthy: true }, cause));
                    }
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                // The engine is gone: nothing decides any more.
                Err(broadcast::error::RecvError::Closed) => {
                    let stopped = child.stop(Signal::TERM, process.grace).await?;
                    return Ok(Life::Stopped(stopped.code));
                }
            },
        }
    }
}

/// Completes once `stop` is true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
