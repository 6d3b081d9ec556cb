//! The per-target series (`vitalcheck_target_*`) and the count of targets per group and
//! status, from one [`Engine::gauges`] copy taken when Prometheus scrapes.

use super::Labels;
use crate::engine::{Engine, TargetGauges};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeGaugeValue, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;
use std::collections::BTreeMap;
use std::sync::Arc;
use vitalcheck::state::TargetStatus;

/// The statuses in the order of their `vitalcheck_target_status` code (0 to 4).
const STATUSES: [TargetStatus; 5] = [
    TargetStatus::Unknown,
    TargetStatus::Starting,
    TargetStatus::Healthy,
    TargetStatus::Degraded,
    TargetStatus::Unhealthy,
];

/// The `vitalcheck_target_status` code of a status.
fn code(status: TargetStatus) -> u32 {
    match status {
        TargetStatus::Unknown => 0,
        TargetStatus::Starting => 1,
        TargetStatus::Healthy => 2,
        TargetStatus::Degraded => 3,
        TargetStatus::Unhealthy => 4,
    }
}

/// Reads every target's figures from the engine at each scrape.
#[derive(Debug)]
pub(super) struct Targets {
    engine: Arc<Engine>,
}

impl Targets {
    pub(super) fn new(engine: Arc<Engine>) -> Self {
        Targets { engine }
    }
}

/// Writes one gauge sample per target that `value` gives one for.
fn per_target<V: EncodeGaugeValue>(
    mut metric: MetricEncoder<'_>,
    targets: &[TargetGauges],
    value: impl Fn(&TargetGauges) -> Option<V>,
) -> Result<(), std::fmt::Error> {
    for t in targets {
        if let Some(v) = value(t) {
            let labels = Labels::new(t.group.as_deref(), [("target", &*t.name)]);
            metric.encode_family(&labels)?.encode_gauge(&v)?;
        }
    }
    Ok(())
}

impl Collector for Targets {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let targets = self.engine.gauges();
        let gauge = MetricType::Gauge;

        let help = "1 while the target is up (healthy or degraded), else 0.";
        let metric = encoder.encode_descriptor("target_up", help, None, gauge)?;
        per_target(metric, &targets, |t| Some(u32::from(t.status.is_up())))?;

        let help = "The target's status: 0 unknown, 1 starting, 2 healthy, 3 degraded, 4 unhealthy.";
        let metric = encoder.encode_descriptor("target_status", help, None, gauge)?;
        per_target(metric, &targets, |t| Some(code(t.status)))?;

        let help = "The most consecutive failures of any of the target's probes.";
        let metric = encoder.encode_descriptor("target_consecutive_failures", help, None, gauge)?;
        per_target(metric, &targets, |t| Some(t.consecutive_failures))?;

        let help = "How long the target's latest probe took.";
        let metric = encoder.encode_descriptor("target_last_probe_duration", help, Some(&Unit::Seconds), gauge)?;
        per_target(metric, &targets, |t| t.last_duration.map(|d| d.as_secs_f64()))?;

        let help = "Restarts of the target's process (a `process` table) since vitalcheck run started.";
        let mut metric = encoder.encode_descriptor("target_process_restarts", help, None, MetricType::Counter)?;
        for t in &targets {
            if let Some(n) = t.restarts {
                let labels = Labels::new(t.group.as_deref(), [("target", &*t.name)]);
                metric.encode_family(&labels)?.encode_counter::<NoLabelSet, _, u64>(&u64::from(n), None)?;
            }
        }

        let mut counts: BTreeMap<Option<&str>, [u64; 5]> = BTreeMap::new();
        let groups = self.engine.groups();
        for group in &groups {
            counts.insert(Some(group), [0; 5]);
        }
        for t in &targets {
            counts.entry(t.group.as_deref()).or_default()[code(t.status) as usize] += 1;
        }
        let help = "Targets per group and status.";
        let mut metric = encoder.encode_descriptor("targets", help, None, gauge)?;
        for (group, by_status) in &counts {
            for (status, n) in STATUSES.iter().zip(by_status) {
                let labels = Labels::new(*group, [("status", status.as_str())]);
                metric.encode_family(&labels)?.encode_gauge(n)?;
            }
        }
        Ok(())
    }
}
