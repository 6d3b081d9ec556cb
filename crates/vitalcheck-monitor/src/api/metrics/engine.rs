//! The engine's own series: probe results, error kinds, durations and transitions by group
//! (bounded by the config), the scheduler's and the store's health, from one
//! [`Engine::metrics`] read at each scrape.

use super::Labels;
use crate::engine::{Engine, EngineMetrics};
use crate::scheduler::Histogram;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;
use std::sync::Arc;

/// Reads the engine's counters at each scrape.
#[derive(Debug)]
pub(super) struct EngineHealth {
    engine: Arc<Engine>,
}

impl EngineHealth {
    pub(super) fn new(engine: Arc<Engine>) -> Self {
        EngineHealth { engine }
    }
}

/// One counter sample without labels.
fn counter(encoder: &mut DescriptorEncoder<'_>, name: &str, help: &str, v: u64) -> Result<(), std::fmt::Error> {
    encoder.encode_descriptor(name, help, None, MetricType::Counter)?.encode_counter::<NoLabelSet, _, u64>(&v, None)
}

/// One gauge sample without labels.
fn gauge(encoder: &mut DescriptorEncoder<'_>, name: &str, help: &str, v: u64) -> Result<(), std::fmt::Error> {
    encoder.encode_descriptor(name, help, None, MetricType::Gauge)?.encode_gauge(&v)
}

/// One histogram sample, in seconds.
fn histogram(metric: &mut MetricEncoder<'_>, h: &Histogram) -> Result<(), std::fmt::Error> {
    metric.encode_histogram::<NoLabelSet>(h.sum.as_secs_f64(), h.count(), &h.buckets(), None)
}

/// One histogram sample of a labelled family, in seconds.
fn labelled_histogram(
    metric: &mut MetricEncoder<'_>,
    labels: &impl EncodeLabelSet,
    h: &Histogram,
) -> Result<(), std::fmt::Error> {
    histogram(&mut metric.encode_family(labels)?, h)
}

fn probes(encoder: &mut DescriptorEncoder<'_>, m: &EngineMetrics) -> Result<(), std::fmt::Error> {
    let help = "Probe results, by group, probe kind and result.";
    let mut metric = encoder.encode_descriptor("probes", help, None, MetricType::Counter)?;
    for s in &m.probes {
        for (result, n) in [("healthy", s.healthy), ("degraded", s.degraded), ("unhealthy", s.unhealthy)] {
            let labels = Labels::new(s.group.as_deref(), [("kind", &*s.kind), ("result", result)]);
            metric.encode_family(&labels)?.encode_counter::<NoLabelSet, _, u64>(&n, None)?;
        }
    }
    let help = "Failed probes, by group, probe kind and error kind.";
    let mut metric = encoder.encode_descriptor("probe_errors", help, None, MetricType::Counter)?;
    for s in &m.probes {
        for &(error, n) in &s.errors {
            let labels = Labels::new(s.group.as_deref(), [("kind", &*s.kind), ("error_kind", error)]);
            metric.encode_family(&labels)?.encode_counter::<NoLabelSet, _, u64>(&n, None)?;
        }
    }
    let help = "How long probes took, by group and probe kind.";
    let seconds = Some(&Unit::Seconds);
    let mut metric = encoder.encode_descriptor("probe_duration", help, seconds, MetricType::Histogram)?;
    for s in &m.probes {
        labelled_histogram(&mut metric, &Labels::new(s.group.as_deref(), [("kind", &*s.kind)]), &s.duration)?;
    }
    let help = "Changes of target status, by group and the status entered.";
    let mut metric = encoder.encode_descriptor("transitions", help, None, MetricType::Counter)?;
    for t in &m.transitions_to {
        let labels = Labels::new(t.group.as_deref(), [("to", t.to.as_str())]);
        metric.encode_family(&labels)?.encode_counter::<NoLabelSet, _, u64>(&t.count, None)?;
    }
    Ok(())
}

fn scheduler(encoder: &mut DescriptorEncoder<'_>, m: &EngineMetrics) -> Result<(), std::fmt::Error> {
    let s = &m.scheduler;
    let help = "How late probes started after their scheduled time (the wait for a permit included).";
    let seconds = Some(&Unit::Seconds);
    histogram(&mut encoder.encode_descriptor("scheduler_lag", help, seconds, MetricType::Histogram)?, &s.lag)?;
    gauge(encoder, "scheduler_in_flight_probes", "Probes running now.", s.in_flight)?;
    let help = "Due probes waiting for a concurrency permit (the ready queue).";
    gauge(encoder, "scheduler_queued_probes", help, s.queued)?;
    let help = "Slots not run because the target's previous probe was still busy or the scheduler was late.";
    counter(encoder, "scheduler_skipped_slots", help, s.skipped)?;
    counter(encoder, "scheduler_timeouts", "Probes stopped by their timeout.", s.timed_out)
}

fn store(encoder: &mut DescriptorEncoder<'_>, m: &EngineMetrics) -> Result<(), std::fmt::Error> {
    let help = "How long the store took per batch, from hand-over to commit.";
    let seconds = Some(&Unit::Seconds);
    let mut metric = encoder.encode_descriptor("store_write_duration", help, seconds, MetricType::Histogram)?;
    histogram(&mut metric, &m.store_write)?;
    let help = "Rows collected for the store and not yet acknowledged (waiting, queued or being written).";
    gauge(encoder, "store_backlog_rows", help, m.store_backlog_rows)?;
    counter(encoder, "store_batches_written", "Batches the store acknowledged.", m.batches_written)?;
    counter(encoder, "store_rows_written", "Rows the store acknowledged.", m.rows_written)?;
    counter(encoder, "store_errors", "Batches the store failed to write.", m.store_errors)?;
    counter(encoder, "store_pruned_rows", "Rows deleted by the retention.", m.pruned_rows)
}

impl Collector for EngineHealth {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let m = self.engine.metrics();
        probes(&mut encoder, &m)?;
        scheduler(&mut encoder, &m)?;
        store(&mut encoder, &m)
    }
}
