//! [`HealthService`]: the registry and the lifecycle together, answering the three
//! questions every health surface (HTTP, IPC, gRPC) asks.
//!
//! | question | checks run | ok when |
//! |---|---|---|
//! | [`Liveness`](CheckType::Liveness) | tagged `live` | none critical is Unhealthy |
//! | [`Readiness`](CheckType::Readiness) | tagged `ready`, and untagged ones | Running, every gate passes, none critical is Unhealthy |
//! | [`Full`](CheckType::Full) | all | none critical is Unhealthy |
//!
//! ```
//! use vitalcheck::{HealthService, lifecycle::Lifecycle, registry::{ComponentHealth, Registry}};
//! use vitalcheck::service::CheckType;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mut registry = Registry::new();
//! registry.register("db", || async { ComponentHealth::healthy() }).tags(["ready"]);
//! let health = HealthService::new(registry, Lifecycle::new()).with_info("version", "1.4.2");
//! assert!(!health.check(CheckType::Readiness).await.ok); // still Starting
//! health.lifecycle().mark_running();
//! let answer = health.check(CheckType::Readiness).await;
//! assert!(answer.ok && answer.report.ready);
//! assert!(health.check(CheckType::Liveness).await.ok);
//! # }
//! ```

use crate::Status;
use crate::lifecycle::Lifecycle;
use crate::registry::{CheckSpec, Outcome, Registry};
use crate::report::{ComponentReport, HealthReport, LifecycleState};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Which question is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckType {
    /// Is the process alive (not wedged)? Restart it if not.
    Liveness,
    /// Should it receive traffic now?
    Readiness,
    /// Everything, for people and dashboards.
    Full,
}

impl CheckType {
    /// `liveness`, `readiness` or `full`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CheckType::Liveness => "liveness",
            CheckType::Readiness => "readiness",
            CheckType::Full => "full",
        }
    }
}

impl std::str::FromStr for CheckType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "liveness" | "live" => Ok(CheckType::Liveness),
            "readiness" | "ready" => Ok(CheckType::Readiness),
            "full" => Ok(CheckType::Full),
            _ => Err(format!("unknown check type {s:?}; expected liveness, readiness or full")),
        }
    }
}

/// The answer to one question: whether it is ok, and the report behind it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Answer {
    /// The question.
    pub check_type: CheckType,
    /// Whether the answer is yes (see the table in the module docs).
    pub ok: bool,
    /// The report of the checks run.
    pub report: HealthReport,
}

/// A registry and a lifecycle, shared by every surface. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HealthService {
    registry: Arc<Registry>,
    lifecycle: Lifecycle,
    info: Arc<serde_json::Map<String, serde_json::Value>>,
}

impl HealthService {
    /// A service over `registry` and `lifecycle`.
    pub fn new(registry: Registry, lifecycle: Lifecycle) -> Self {
        HealthService { registry: Arc::new(registry), lifecycle, info: Arc::new(serde_json::Map::new()) }
    }

    /// Adds a top-level field to every report (`version`, `releaseId`, `serviceId`, ...).
    pub fn with_info(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        Arc::make_mut(&mut self.info).insert(key.into(), value.into());
        self
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The lifecycle.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// Runs the checks `check_type` asks for and answers it.
    pub async fn check(&self, check_type: CheckType) -> Answer {
        let brief = self.brief(check_type).await;
        // The verdict is the brief's: one rule for every surface.
        let (check_type, ok) = (brief.check_type, brief.ok);
        let now = jiff::Timestamp::now();
        let components = brief.components.into_iter().map(|(spec, outcome)| outcome.into_report(spec, now)).collect();
        let mut report = HealthReport::new(components, brief.lifecycle, self.lifecycle.uptime());
        report.failing_gates = brief.failing_gates;
        let readiness_unhealthy = overall_of_readiness(&report) == Status::Unhealthy;
        report.ready = report.accepting_requests && report.failing_gates.is_empty() && !readiness_unhealthy;
        report.extra = (*self.info).clone();
        Answer { check_type, ok, report }
    }
}

/// A light answer: the verdict and what the plain-text surfaces show, without a
/// [`HealthReport`] (no memory sample, no copies of names and tags).
#[derive(Debug)]
pub(crate) struct Brief<'a> {
    /// The question.
    pub(crate) check_type: CheckType,
    /// Whether the answer is yes; the same as [`Answer::ok`].
    pub(crate) ok: bool,
    /// The lifecycle state.
    pub(crate) lifecycle: LifecycleState,
    /// Readiness gates that do not pass, as `name: why`.
    pub(crate) failing_gates: Vec<String>,
    /// Each check run, in registration order, with what it found.
    pub(crate) components: Vec<(&'a CheckSpec, Outcome)>,
}

impl HealthService {
    /// Runs the checks `check_type` asks for and answers it briefly (see [`Brief`]).
    pub(crate) async fn brief(&self, check_type: CheckType) -> Brief<'_> {
        let components = match check_type {
            CheckType::Liveness => self.registry.outcomes_where(|spec| spec.has_tag("live")).await,
            CheckType::Readiness => self.registry.outcomes_where(in_readiness).await,
            CheckType::Full => self.registry.outcomes_where(|_| true).await,
        };
        let lifecycle = self.lifecycle.state();
        let failing_gates = self.lifecycle.failing_gates();
        let worst = |only_readiness: bool| {
            let counted = components.iter().filter(|(spec, _)| !only_readiness || in_readiness(spec));
            counted.map(|(spec, outcome)| outcome.effective_status(spec)).max().unwrap_or(Status::Healthy)
        };
        let ok = match check_type {
            CheckType::Readiness => {
                lifecycle == LifecycleState::Running && failing_gates.is_empty() && worst(true) != Status::Unhealthy
            }
            CheckType::Liveness | CheckType::Full => worst(false) != Status::Unhealthy,
        };
        Brief { check_type, ok, lifecycle, failing_gates, components }
    }
}

/// Whether a check takes part in readiness: tagged `ready`, or not tagged at all.
fn in_readiness(spec: &CheckSpec) -> bool {
    spec.tags.is_empty() || spec.has_tag("ready")
}

/// [`overall`](crate::report::overall) of the components that take part in readiness, without copying them.
fn overall_of_readiness(report: &HealthReport) -> Status {
    report
        .components
        .iter()
        .filter(|c| c.tags.is_empty() || c.tags.iter().any(|t| t == "ready"))
        .map(ComponentReport::effective_status)
        .max()
        .unwrap_or(Status::Healthy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::ComponentHealth;

    fn service() -> HealthService {
        let mut r = Registry::new();
        r.register("ping", || async { ComponentHealth::healthy() }).tags(["live"]);
        r.register("db", || async { ComponentHealth::unhealthy("refused") }).tags(["ready"]);
        r.register("cache", || async { ComponentHealth::unhealthy("down") }).critical(false);
        r.register("reports", || async { ComponentHealth::healthy() }).tags(["batch"]);
        HealthService::new(r, Lifecycle::new())
    }

    fn names(answer: &Answer) -> Vec<&str> {
        answer.report.components.iter().map(|c| c.name.as_str()).collect()
    }

    #[tokio::test]
    async fn each_question_runs_its_checks() {
        let s = service();
        s.lifecycle().mark_running();
        let live = s.check(CheckType::Liveness).await;
        assert_eq!(names(&live), ["ping"]);
        assert!(live.ok, "a failing database does not make the process dead");
        let ready = s.check(CheckType::Readiness).await;
        assert_eq!(names(&ready), ["db", "cache"]);
        assert!(!ready.ok && !ready.report.ready);
        let full = s.check(CheckType::Full).await;
        assert_eq!(names(&full), ["ping", "db", "cache", "reports"]);
        assert!(!full.ok);
        assert_eq!(full.report.status, Status::Unhealthy);
    }

    #[tokio::test]
    async fn readiness_follows_lifecycle_and_gates() {
        let mut r = Registry::new();
        r.register("db", || async { ComponentHealth::healthy() });
        let s = HealthService::new(r, Lifecycle::new()).with_info("version", "2.0");
        assert!(!s.check(CheckType::Readiness).await.ok, "starting");
        s.lifecycle().mark_running();
        assert!(s.check(CheckType::Readiness).await.ok);
        s.lifecycle().add_gate("warmup", || Err("cache cold".into()));
        let answer = s.check(CheckType::Readiness).await;
        assert!(!answer.ok);
        assert_eq!(answer.report.failing_gates, ["warmup: cache cold"]);
        assert_eq!(answer.report.extra["version"], "2.0");
        s.lifecycle().start_draining();
        assert!(s.check(CheckType::Liveness).await.ok, "draining is still alive");
    }

    #[test]
    fn check_type_parses() {
        assert_eq!("ready".parse::<CheckType>(), Ok(CheckType::Readiness));
        assert!("deep".parse::<CheckType>().unwrap_err().contains("expected liveness, readiness or full"));
    }
}
