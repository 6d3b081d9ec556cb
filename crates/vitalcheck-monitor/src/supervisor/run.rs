//! The supervision loop: one child's life at a time, then the restart decision.

use super::{
    Cause, Child, Decision, Ended, Event, Outcome, ProbeSpec, Received, RestartTracker, Snapshot, SupervisorConfig,
    SupervisorError,
};
use rustix::process::Signal;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until};
use vitalcheck::Status;
use vitalcheck::probe::ProbeContext;
use vitalcheck::state::{ProbeKind, TargetState};

/// One probe's answer.
type ProbeOutcome = Result<vitalcheck::probe::Observation, vitalcheck::probe::ProbeError>;

/// How one life of the child ended.
enum Life {
    /// It ended (by itself or stopped for a failed probe): ask the policy.
    Ended(Ended, Cause),
    /// A stop signal came: exit with the child's code.
    Stopped(i32),
}

pub(super) struct Run {
    config: SupervisorConfig,
    events: mpsc::UnboundedSender<Event>,
    snapshot: watch::Sender<Snapshot>,
    control: mpsc::Receiver<Received>,
    control_open: bool,
    tracker: RestartTracker,
    ctx: ProbeContext,
    epoch: Instant,
}

impl Run {
    pub(super) fn new(
        config: SupervisorConfig,
        events: mpsc::UnboundedSender<Event>,
        snapshot: watch::Sender<Snapshot>,
        control: mpsc::Receiver<Received>,
    ) -> Run {
        let tracker = RestartTracker::new(config.restart);
        Run {
            config,
            events,
            snapshot,
            control,
            control_open: true,
            tracker,
            ctx: ProbeContext::new(),
            epoch: Instant::now(),
        }
    }

    pub(super) async fn supervise(mut self) -> Result<Outcome, SupervisorError> {
        loop {
            let (ended, cause) = match self.life().await? {
                Life::Stopped(code) => return Ok(Outcome::Stopped { code }),
                Life::Ended(ended, cause) => (ended, cause),
            };
            let was_ready = self.snapshot.borrow().ready;
            self.snapshot.send_modify(|s| {
                s.pid = None;
                s.live = false;
                s.ready = false;
            });
            if was_ready {
                self.emit(Event::Ready(false));
            }
            match self.tracker.ended(ended, self.now()) {
                Decision::Exit { code } => {
                    self.emit(Event::Exited { cause, code });
                    return Ok(Outcome::Exited { code });
                }
                Decision::GiveUp { restarts, code } => {
                    self.emit(Event::GaveUp { cause, restarts });
                    return Ok(Outcome::GaveUp { restarts, code });
                }
                Decision::Restart { delay, attempt } => {
                    let total = self.tracker.total();
                    self.snapshot.send_modify(|s| {
                        s.restarts = total;
                        s.last_cause = Some(cause.to_string());
                    });
                    self.emit(Event::Restarting { cause, delay, attempt, total });
                    if let Some(code) = self.back_off(delay, ended.code).await {
                        return Ok(Outcome::Stopped { code });
                    }
                }
            }
        }
    }

    /// Waits `delay`; a stop signal meanwhile ends supervision (`Some(code)`).
    async fn back_off(&mut self, delay: Duration, code: i32) -> Option<i32> {
        let until = Instant::now() + delay;
        loop {
            tokio::select! {
                () = sleep_until(until) => return None,
                received = next_control(&mut self.control, &mut self.control_open) => {
                    if let Received::Stop(_) = received {
                        self.emit(Event::Stopping { reason: format!("signal {} while waiting to restart", received.name()) });
                        return Some(code);
                    }
                }
            }
        }
    }

    /// Starts the child and watches it until it ends or is stopped.
    async fn life(&mut self) -> Result<Life, SupervisorError> {
        let mut child = match Child::spawn(&self.config.command) {
            Ok(child) => child,
            Err(err) => {
                let cause = Cause::Spawn { error: err.to_string() };
                return Ok(Life::Ended(Ended { code: 127, unhealthy: false }, cause));
            }
        };
        self.emit(Event::Started { pid: child.pid(), restarts: self.tracker.total() });
        let mut state = self.fresh_state();
        let first = Instant::now();
        let mut next: [Option<Instant>; 3] = [ProbeKind::Startup, ProbeKind::Liveness, ProbeKind::Readiness]
            .map(|kind| self.spec(kind).map(|spec| first + spec.interval));
        self.tracker.down();
        self.publish(&state, Some(child.pid()));
        loop {
            let probe = self.next_probe(&state, &next);
            tokio::select! {
                code = child.wait() => {
                    let code = code?;
                    child.kill_leftovers();
                    return Ok(Life::Ended(Ended { code, unhealthy: false }, Cause::Exited { code }));
                }
                received = next_control(&mut self.control, &mut self.control_open) => match received {
                    Received::Stop(signal) => {
                        self.emit(Event::Stopping { reason: format!("signal {}", received.name()) });
                        let stopped = self.stop(&mut child, signal).await?;
                        return Ok(Life::Stopped(stopped));
                    }
                    Received::Forward(signal) => {
                        // The child may have just exited: its wait arm reports that.
                        let _ = child.signal(signal);
                        self.emit(Event::Forwarded { signal: received.name() });
                    }
                },
                (kind, result) = probe => {
                    next[index(kind)] = self.spec(kind).map(|spec| Instant::now() + spec.interval);
                    if let Some(cause) = self.observe(&mut state, kind, result, child.pid()) {
                        self.emit(Event::Stopping { reason: cause.to_string() });
                        let code = self.stop(&mut child, Signal::TERM).await?;
                        return Ok(Life::Ended(Ended { code, unhealthy: true }, cause));
                    }
                }
            }
        }
    }

    /// A state machine for a child started now, with the configured probes.
    fn fresh_state(&self) -> TargetState {
        let mut state = TargetState::new(self.now());
        for (kind, spec) in self.specs() {
            state = match kind {
                ProbeKind::Startup => state.with_startup(spec.thresholds),
                ProbeKind::Liveness => state.with_liveness(spec.thresholds),
                ProbeKind::Readiness => state.with_readiness(spec.thresholds),
            };
        }
        state
    }

    /// The earliest due probe, run when its time comes (never, if none is due).
    fn next_probe(
        &self,
        state: &TargetState,
        next: &[Option<Instant>; 3],
    ) -> impl Future<Output = (ProbeKind, ProbeOutcome)> + use<> {
        let due = state
            .probes_to_run()
            .iter()
            .filter_map(|&kind| next[index(kind)].map(|at| (kind, at)))
            .min_by_key(|&(_, at)| at)
            .and_then(|(kind, at)| self.spec(kind).cloned().map(|spec| (kind, at, spec)));
        let ctx = self.ctx.clone();
        async move {
            match due {
                Some((kind, at, spec)) => {
                    sleep_until(at).await;
                    (kind, spec.target.probe(&ctx, spec.timeout).await)
                }
                None => std::future::pending().await,
            }
        }
    }

    /// Feeds one probe result to the state machine; `Some(cause)` when it asks for a restart.
    fn observe(&mut self, state: &mut TargetState, kind: ProbeKind, result: ProbeOutcome, pid: u32) -> Option<Cause> {
        let (status, reason) = match &result {
            Ok(obs) => (obs.status, obs.detail.clone()),
            Err(err) => (Status::Unhealthy, err.to_string()),
        };
        let observed = state.observe(kind, status, &reason, self.now());
        let failures = state.probe(kind).map_or(0, |p| p.consecutive_failures());
        if status == Status::Unhealthy {
            self.emit(Event::ProbeFailed { kind, error: reason.clone(), failures });
        }
        if let Some(transition) = observed.probe {
            self.emit(Event::Probe { kind, transition });
        }
        self.publish(state, Some(pid));
        observed.restart.then_some(Cause::Probe { kind, error: reason, failures })
    }

    /// Stops the child with `signal`, KILL after the grace period; its code.
    async fn stop(&mut self, child: &mut Child, signal: Signal) -> Result<i32, SupervisorError> {
        let stopped = child.stop(signal, self.config.grace).await?;
        if stopped.killed {
            self.emit(Event::Killed { grace: self.config.grace });
        }
        Ok(stopped.code)
    }

    /// Updates the snapshot (and the reset clock) from the state machine.
    fn publish(&mut self, state: &TargetState, pid: Option<u32>) {
        let probed = self.specs().next().is_some();
        let live = pid.is_some() && !state.needs_restart();
        let ready = pid.is_some() && (!probed || state.status().is_up());
        if ready {
            self.tracker.up(self.now());
        } else {
            self.tracker.down();
        }
        let was_ready = self.snapshot.borrow().ready;
        self.snapshot.send_modify(|s| {
            s.pid = pid;
            s.live = live;
            s.ready = ready;
            s.status = state.status();
        });
        if ready != was_ready {
            self.emit(Event::Ready(ready));
        }
    }

    fn specs(&self) -> impl Iterator<Item = (ProbeKind, &ProbeSpec)> {
        [
            (ProbeKind::Startup, self.config.startup.as_ref()),
            (ProbeKind::Liveness, self.config.liveness.as_ref()),
            (ProbeKind::Readiness, self.config.readiness.as_ref()),
        ]
        .into_iter()
        .filter_map(|(kind, spec)| spec.map(|s| (kind, s)))
    }

    fn spec(&self, kind: ProbeKind) -> Option<&ProbeSpec> {
        match kind {
            ProbeKind::Startup => self.config.startup.as_ref(),
            ProbeKind::Liveness => self.config.liveness.as_ref(),
            ProbeKind::Readiness => self.config.readiness.as_ref(),
        }
    }

    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    fn emit(&self, event: Event) {
        // Nobody listening is fine.
        let _ = self.events.send(event);
    }
}

const fn index(kind: ProbeKind) -> usize {
    match kind {
        ProbeKind::Startup => 0,
        ProbeKind::Liveness => 1,
        ProbeKind::Readiness => 2,
    }
}

/// The next control message; once every sender is gone, never.
async fn next_control(control: &mut mpsc::Receiver<Received>, open: &mut bool) -> Received {
    if *open {
        match control.recv().await {
            Some(received) => return received,
            None => *open = false,
        }
    }
    std::future::pending().await
}
