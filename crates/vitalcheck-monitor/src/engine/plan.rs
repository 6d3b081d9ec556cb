//! From config to jobs: which probes a target runs (its slots), the scheduler job of each,
//! and what a job probes (its [`JobSpec`]).
//!
//! A target with neither a `liveness` nor a `readiness` probe runs its own probe, which the
//! state machine treats as its liveness probe ([`Slot::Own`]); otherwise it runs the ones
//! configured. A `startup` probe comes first either way.

use crate::config::{ProbeConfig, TargetConfig, Timing};
use crate::scheduler::{Job, JobId};
use std::sync::Arc;
use std::time::Duration;
use vitalcheck::probe::Target;
use vitalcheck::state::ProbeKind;

/// Which of a target's probes a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Slot {
    /// The target's own probe, when it has no liveness or readiness probe.
    Own,
    /// The startup probe.
    Startup,
    /// The liveness probe.
    Liveness,
    /// The readiness probe.
    Readiness,
}

impl Slot {
    /// The state machine's probe kind for this slot.
    pub(crate) fn kind(self) -> ProbeKind {
        match self {
            Slot::Own | Slot::Liveness => ProbeKind::Liveness,
            Slot::Startup => ProbeKind::Startup,
            Slot::Readiness => ProbeKind::Readiness,
        }
    }

    /// The probe kind as users see it: `None` for a target's own single probe.
    pub(crate) fn shown(self) -> Option<ProbeKind> {
        (self != Slot::Own).then(|| self.kind())
    }

    /// The name stored in `ProbeStateRow::kind`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Slot::Own => "own",
            other => other.kind().as_str(),
        }
    }

    /// The slot stored under `name`.
    pub(crate) fn from_name(name: &str) -> Option<Slot> {
        [Slot::Own, Slot::Startup, Slot::Liveness, Slot::Readiness].into_iter().find(|s| s.name() == name)
    }
}

/// One probe of one target, as the probe function runs it.
#[derive(Debug)]
pub(crate) struct JobSpec {
    /// What to probe.
    pub(crate) target: Target,
    /// Its timeout.
    pub(crate) timeout: Duration,
}

/// One slot of a target: its job id, timing and what it probes.
#[derive(Debug, Clone)]
pub(crate) struct SlotPlan {
    /// Which probe.
    pub(crate) slot: Slot,
    /// The scheduler's name for it.
    pub(crate) job: JobId,
    /// When it runs.
    pub(crate) timing: Timing,
    /// What it probes.
    pub(crate) spec: Arc<JobSpec>,
    /// What it probes, as displayed (secrets redacted).
    pub(crate) shown: Arc<str>,
}

impl SlotPlan {
    /// The scheduler job.
    pub(crate) fn job(&self) -> Job {
        let t = &self.timing;
        Job {
            id: self.job.clone(),
            kind: Arc::from(self.spec.target.kind_name()),
            interval: t.interval,
            timeout: t.timeout,
        }
    }
}

/// The job id of `slot` of target `name`: the name itself for the own probe, else the
/// name, a U+001F separator (names cannot hold control characters) and the kind.
pub(crate) fn job_id(name: &str, slot: Slot) -> JobId {
    match slot {
        Slot::Own => JobId::new(name),
        other => JobId::from(format!("{name}\u{1f}{}", other.name())),
    }
}

/// The slots of a target, startup first.
pub(crate) fn slots(target: &TargetConfig) -> Vec<SlotPlan> {
    let mut out = Vec::with_capacity(2);
    let mut push = |slot: Slot, probe: &ProbeConfig| {
        out.push(SlotPlan {
            slot,
            job: job_id(&target.name, slot),
            timing: probe.timing,
            shown: Arc::from(probe.target.to_string()),
            spec: Arc::new(JobSpec { target: probe.target.clone(), timeout: probe.timing.timeout }),
        });
    };
    if let Some(startup) = &target.startup {
        push(Slot::Startup, startup);
    }
    match (&target.liveness, &target.readiness) {
        (None, None) => push(Slot::Own, &target.probe),
        (liveness, readiness) => {
            if let Some(p) = liveness {
                push(Slot::Liveness, p);
            }
            if let Some(p) = readiness {
                push(Slot::Readiness, p);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn config(text: &str) -> Config {
        Config::parse_with_env(text, "t.toml", |v| (v == "HOME").then(|| "/nonexistent".into())).unwrap()
    }

    #[test]
    fn own_probe_alone_is_the_liveness_slot_named_as_the_target() {
        let c = config("[[targets]]\nname = \"api\"\ntarget = \"tcp://127.0.0.1:1\"\n");
        let plan = slots(&c.targets[0]);
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].slot, Slot::Own);
        assert_eq!(plan[0].job.as_str(), "api");
        assert_eq!(plan[0].job().kind.as_ref(), "tcp");
        assert_eq!(Slot::Own.kind(), ProbeKind::Liveness);
        assert_eq!(Slot::Own.shown(), None);
    }

    #[test]
    fn startup_then_configured_probes() {
        let c = config(
            "[[targets]]\nname = \"db\"\ntarget = \"tcp://127.0.0.1:1\"\n[targets.startup]\n[targets.readiness]\ninterval = \"2s\"\ntimeout = \"1s\"\n",
        );
        let plan = slots(&c.targets[0]);
        let got: Vec<_> = plan.iter().map(|p| (p.slot, p.job.as_str().to_owned())).collect();
        assert_eq!(
            got,
            [(Slot::Startup, "db\u{1f}startup".to_owned()), (Slot::Readiness, "db\u{1f}readiness".to_owned())]
        );
        assert_eq!(plan[1].job().interval, Duration::from_secs(2));
    }

    #[test]
    fn slot_names_round_trip() {
        for slot in [Slot::Own, Slot::Startup, Slot::Liveness, Slot::Readiness] {
            assert_eq!(Slot::from_name(slot.name()), Some(slot));
        }
        assert_eq!(Slot::from_name("bogus"), None);
    }
}
