//! What the engine counts for `/metrics` beyond its plain counters: probe results by group
//! and probe kind (statuses, error kinds, a duration histogram), transitions by group and
//! status, and [`Engine::gauges`], each target's few figures copied out for a scrape.
//!
//! Bounded by the config: one [`ProbeSeries`] per (group, kind), never per target. The
//! control loop records a whole batch of results under one lock; recording a result is two
//! hash lookups and a few additions, with no allocation once its series exists.

use super::Engine;
use super::view::{ProbeSeries, TargetGauges, TransitionCount};
use crate::scheduler::Histogram;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use vitalcheck::Status;
use vitalcheck::state::TargetStatus;

/// Probe results and transitions since start, behind the engine's counters' mutex.
#[derive(Debug, Default)]
pub(crate) struct ProbeStats {
    index: HashMap<(Option<Arc<str>>, Arc<str>), usize>,
    series: Vec<ProbeSeries>,
    transitions: HashMap<(Option<Arc<str>>, TargetStatus), u64>,
}

/// One probe result as the statistics see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seen<'a> {
    pub(crate) group: Option<&'a Arc<str>>,
    pub(crate) kind: &'a Arc<str>,
    pub(crate) status: Status,
    pub(crate) duration: Duration,
    /// [`ErrorKind::name`](vitalcheck::probe::ErrorKind::name) when the probe failed.
    pub(crate) error: Option<&'static str>,
}

impl ProbeStats {
    /// Locks `stats`, also after a panic elsewhere (the numbers stay usable).
    pub(crate) fn lock(stats: &Mutex<ProbeStats>) -> MutexGuard<'_, ProbeStats> {
        stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one probe result.
    pub(crate) fn record(&mut self, seen: Seen<'_>) {
        let key = (seen.group.cloned(), Arc::clone(seen.kind));
        let index = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                self.series.push(ProbeSeries {
                    group: key.0.clone(),
                    kind: Arc::clone(&key.1),
                    healthy: 0,
                    degraded: 0,
                    unhealthy: 0,
                    errors: Vec::new(),
                    duration: Histogram::default(),
                });
                self.index.insert(key, self.series.len() - 1);
                self.series.len() - 1
            }
        };
        let series = &mut self.series[index];
        match seen.status {
            Status::Healthy => series.healthy += 1,
            Status::Degraded => series.degraded += 1,
            Status::Unhealthy => series.unhealthy += 1,
        }
        if let Some(error) = seen.error {
            match series.errors.iter_mut().find(|(name, _)| *name == error) {
                Some((_, n)) => *n += 1,
                None => series.errors.push((error, 1)),
            }
        }
        series.duration.observe(seen.duration);
    }

    /// Counts one transition of a target of `group` to `to`.
    pub(crate) fn transition(&mut self, group: Option<&Arc<str>>, to: TargetStatus) {
        *self.transitions.entry((group.cloned(), to)).or_default() += 1;
    }

    /// [`series`](Self::series) and [`transitions`](Self::transitions) at one moment.
    pub(crate) fn copy(&self) -> (Vec<ProbeSeries>, Vec<TransitionCount>) {
        (self.series(), self.transitions())
    }

    /// Every series, sorted by group (none first), then kind.
    pub(crate) fn series(&self) -> Vec<ProbeSeries> {
        let mut series = self.series.clone();
        series.sort_by(|a, b| (&a.group, &a.kind).cmp(&(&b.group, &b.kind)));
        series
    }

    /// The transition counts, sorted by group (none first), then status.
    pub(crate) fn transitions(&self) -> Vec<TransitionCount> {
        let mut counts: Vec<TransitionCount> = self
            .transitions
            .iter()
            .map(|((group, to), &count)| TransitionCount { group: group.clone(), to: *to, count })
            .collect();
        counts.sort_by(|a, b| (&a.group, a.to.as_str()).cmp(&(&b.group, b.to.as_str())));
        counts
    }
}

impl Engine {
    /// Every target's figures for a metrics scrape, in config order: status, the most
    /// failures in a row of its probes, its latest probe's duration. A few words per
    /// target (two shared names), copied under the read lock; the caller formats them
    /// after the lock is released.
    pub fn gauges(&self) -> Vec<TargetGauges> {
        let table = self.shared.read();
        table
            .targets()
            .map(|t| (t.entry, t.view))
            .map(|(entry, view)| TargetGauges {
                name: Arc::clone(&view.name),
                group: view.group.clone(),
                status: view.status,
                paused: view.paused,
                consecutive_failures: entry
                    .slots
                    .iter()
                    .filter_map(|p| entry.state.probe(p.slot.kind()))
                    .map(|probe| probe.consecutive_failures())
                    .max()
                    .unwrap_or(0),
                last_duration: view.last.as_ref().map(|l| l.latency),
                restarts: entry.restarts,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_counted_per_group_and_kind_with_their_error_kinds() {
        let (pool, http, tcp) = (Arc::<str>::from("pool"), Arc::<str>::from("http"), Arc::<str>::from("tcp"));
        let mut stats = ProbeStats::default();
        let seen =
            |group, kind, status, ms, error| Seen { group, kind, status, duration: Duration::from_millis(ms), error };
        stats.record(seen(Some(&pool), &http, Status::Healthy, 3, None));
        stats.record(seen(Some(&pool), &http, Status::Unhealthy, 40, Some("refused")));
        stats.record(seen(Some(&pool), &http, Status::Unhealthy, 50, Some("timeout")));
        stats.record(seen(Some(&pool), &http, Status::Unhealthy, 2, Some("refused")));
        stats.record(seen(None, &tcp, Status::Degraded, 1, None));
        let series = stats.series();
        assert_eq!(series.len(), 2);
        let (none, pooled) = (&series[0], &series[1]);
        assert_eq!((none.group.as_deref(), &*none.kind, none.degraded), (None, "tcp", 1));
        assert_eq!((pooled.healthy, pooled.degraded, pooled.unhealthy), (1, 0, 3));
        assert_eq!(pooled.errors, [("refused", 2), ("timeout", 1)]);
        assert_eq!(pooled.duration.count(), 4);
        assert_eq!(pooled.duration.sum, Duration::from_millis(95));

        stats.transition(Some(&pool), TargetStatus::Unhealthy);
        stats.transition(Some(&pool), TargetStatus::Unhealthy);
        stats.transition(None, TargetStatus::Healthy);
        let counts: Vec<_> = stats.transitions().into_iter().map(|t| (t.group, t.to, t.count)).collect();
        assert_eq!(counts, [(None, TargetStatus::Healthy, 1), (Some(pool), TargetStatus::Unhealthy, 2)]);
    }
}
