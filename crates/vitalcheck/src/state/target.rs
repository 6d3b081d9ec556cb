//! [`TargetState`]: a target's `startup`, `liveness` and `readiness` probes, combined.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

use super::{ProbeState, TargetStatus, Thresholds, Transition};
use crate::Status;

/// Which of a target's probes a result belongs to (Kubernetes' three kinds).
/// Serialized in lowercase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeKind {
    /// Runs first and alone, until it succeeds; failing counts as a liveness failure.
    Startup,
    /// Is the target alive? Unhealthy means it needs a restart.
    Liveness,
    /// Should the target get work? Unhealthy means not ready, no restart.
    Readiness,
}

impl ProbeKind {
    /// The lowercase name: `startup`, `liveness` or `readiness`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProbeKind::Startup => "startup",
            ProbeKind::Liveness => "liveness",
            ProbeKind::Readiness => "readiness",
        }
    }
}

impl fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one result did to a [`TargetState`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Observed {
    /// The probe's own transition, if its status changed.
    pub probe: Option<Transition>,
    /// The target's overall transition, if its status changed. Its reason is the probe's,
    /// prefixed with the probe kind: `liveness probe: 3 consecutive failures: timeout`.
    pub target: Option<Transition>,
    /// This result just turned the startup or liveness probe `Unhealthy`: the supervisor
    /// should restart the target (then call [`TargetState::restarted`]).
    pub restart: bool,
}

/// A target's probes and its overall status.
///
/// * Gating: while a `startup` probe is configured and has not succeeded (reached
///   `Healthy` or `Degraded`), it is the only probe due; afterwards it never runs again and
///   `liveness` and `readiness` are due. Results for a probe that is not due (or not
///   configured) are ignored.
/// * Startup failing `failure_threshold` times makes the target `Unhealthy` and asks for a
///   restart ([`Observed::restart`], [`needs_restart`](Self::needs_restart)), like a
///   liveness failure. The startup probe stays due, so a target that is not restarted
///   can still come up.
/// * The overall status: while startup is pending, the startup probe's status. Then the
///   worst of `liveness` and `readiness` (those configured) in the order `Healthy <
///   Degraded < Starting < Unhealthy`, where a probe still `Unknown` counts as `Starting`
///   once any probe of the target has a result. So `Unhealthy` if either is, not up until
///   both are, and `Degraded` if either is. With neither configured, the startup probe's
///   status; with no probes at all, `Unknown`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetState {
    startup: Option<ProbeState>,
    liveness: Option<ProbeState>,
    readiness: Option<ProbeState>,
    status: TargetStatus,
    since: Duration,
    started_at: Duration,
}

const STARTUP: &[ProbeKind] = &[ProbeKind::Startup];
const BOTH: &[ProbeKind] = &[ProbeKind::Liveness, ProbeKind::Readiness];
const LIVENESS: &[ProbeKind] = &[ProbeKind::Liveness];
const READINESS: &[ProbeKind] = &[ProbeKind::Readiness];

impl TargetState {
    /// A target started at `started_at`, with no probes yet: add them with the `with_*`
    /// methods. Every probe's start period runs from `started_at`.
    pub fn new(started_at: Duration) -> TargetState {
        TargetState {
            startup: None,
            liveness: None,
            readiness: None,
            status: TargetStatus::Unknown,
            since: started_at,
            started_at,
        }
    }

    /// Adds (or replaces) the startup probe.
    pub fn with_startup(mut self, thresholds: Thresholds) -> Self {
        self.startup = Some(ProbeState::new(thresholds, self.started_at));
        self.status = self.combined();
        self
    }

    /// Adds (or replaces) the liveness probe.
    pub fn with_liveness(mut self, thresholds: Thresholds) -> Self {
        self.liveness = Some(ProbeState::new(thresholds, self.started_at));
        self.status = self.combined();
        self
    }

    /// Adds (or replaces) the readiness probe.
    pub fn with_readiness(mut self, thresholds: Thresholds) -> Self {
        self.readiness = Some(ProbeState::new(thresholds, self.started_at));
        self.status = self.combined();
        self
    }

    /// A target that continues from restored probes (see [`ProbeState::restore`]), its
    /// status unchanged `since` then. The overall status is recomputed from the probes.
    pub fn restore(
        startup: Option<ProbeState>,
        liveness: Option<ProbeState>,
        readiness: Option<ProbeState>,
        since: Duration,
    ) -> TargetState {
        let started_at =
            [&startup, &liveness, &readiness].into_iter().flatten().map(ProbeState::started_at).min().unwrap_or(since);
        let mut target = TargetState { startup, liveness, readiness, status: TargetStatus::Unknown, since, started_at };
        target.status = target.combined();
        target
    }

    /// The probes due now: `[Startup]` while startup is pending, else the configured ones
    /// of `[Liveness, Readiness]` (possibly none).
    pub fn probes_to_run(&self) -> &'static [ProbeKind] {
        if self.startup_pending().is_some() {
            return STARTUP;
        }
        match (self.liveness.is_some(), self.readiness.is_some()) {
            (true, true) => BOTH,
            (true, false) => LIVENESS,
            (false, true) => READINESS,
            (false, false) => &[],
        }
    }

    /// Takes one result of probe `kind` at `now` (see [`ProbeState::observe`]). Ignored,
    /// with nothing reported, if that probe is not due.
    pub fn observe(&mut self, kind: ProbeKind, result: Status, reason: &str, now: Duration) -> Observed {
        if !self.probes_to_run().contains(&kind) {
            return Observed::default();
        }
        let Some(probe) = self.probe_mut(kind) else { return Observed::default() };
        let Some(change) = probe.observe(result, reason, now) else { return Observed::default() };
        let restart = change.to == TargetStatus::Unhealthy && kind != ProbeKind::Readiness;
        let to = self.combined();
        let target = (to != self.status).then(|| {
            let from = std::mem::replace(&mut self.status, to);
            self.since = now;
            Transition { from, to, reason: format!("{kind} probe: {}", change.reason), at: now }
        });
        Observed { probe: Some(change), target, restart }
    }

    /// The supervisor restarted the target at `now`: every probe starts over (`Unknown`,
    /// start periods from `now`, startup gating again). Returns the transition to
    /// `Unknown` (reason `restarted`), if the status was something else.
    pub fn restarted(&mut self, now: Duration) -> Option<Transition> {
        self.started_at = now;
        for probe in [&mut self.startup, &mut self.liveness, &mut self.readiness].into_iter().flatten() {
            *probe = ProbeState::new(probe.thresholds(), now);
        }
        let to = self.combined();
        if to == self.status {
            return None;
        }
        let from = std::mem::replace(&mut self.status, to);
        self.since = now;
        Some(Transition { from, to, reason: "restarted".to_owned(), at: now })
    }

    /// The startup probe (if still pending) or the liveness probe is `Unhealthy`: the
    /// target should be restarted.
    pub fn needs_restart(&self) -> bool {
        let unhealthy = |p: Option<&ProbeState>| p.is_some_and(|p| p.status() == TargetStatus::Unhealthy);
        unhealthy(self.startup_pending()) || unhealthy(self.liveness.as_ref())
    }

    /// The overall status.
    pub fn status(&self) -> TargetStatus {
        self.status
    }

    /// When the overall status last changed.
    pub fn since(&self) -> Duration {
        self.since
    }

    /// One probe's state, if configured.
    pub fn probe(&self, kind: ProbeKind) -> Option<&ProbeState> {
        match kind {
            ProbeKind::Startup => self.startup.as_ref(),
            ProbeKind::Liveness => self.liveness.as_ref(),
            ProbeKind::Readiness => self.readiness.as_ref(),
        }
    }

    fn probe_mut(&mut self, kind: ProbeKind) -> Option<&mut ProbeState> {
        match kind {
            ProbeKind::Startup => self.startup.as_mut(),
            ProbeKind::Liveness => self.liveness.as_mut(),
            ProbeKind::Readiness => self.readiness.as_mut(),
        }
    }

    /// The startup probe, if configured and not yet up.
    fn startup_pending(&self) -> Option<&ProbeState> {
        self.startup.as_ref().filter(|s| !s.status().is_up())
    }

    /// The overall status from the probes' (see the type doc).
    fn combined(&self) -> TargetStatus {
        if let Some(startup) = self.startup_pending() {
            return startup.status();
        }
        let running = [&self.liveness, &self.readiness].into_iter().flatten().map(ProbeState::status);
        let Some(worst) = running.max_by_key(|s| rank(*s)) else {
            return self.startup.as_ref().map_or(TargetStatus::Unknown, ProbeState::status);
        };
        let seen = [&self.startup, &self.liveness, &self.readiness]
            .into_iter()
            .flatten()
            .any(|p| p.status() != TargetStatus::Unknown);
        if worst == TargetStatus::Unknown && seen { TargetStatus::Starting } else { worst }
    }
}

/// The order used to combine liveness and readiness: `Unknown` ranks as `Starting`.
fn rank(status: TargetStatus) -> u8 {
    match status {
        TargetStatus::Healthy => 0,
        TargetStatus::Degraded => 1,
        TargetStatus::Unknown | TargetStatus::Starting => 2,
        TargetStatus::Unhealthy => 3,
    }
}
