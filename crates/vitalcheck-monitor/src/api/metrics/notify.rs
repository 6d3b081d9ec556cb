//! `vitalcheck_notifications_total{notifier,result}`: the alert dispatcher's delivery
//! outcomes, read from its counts at each scrape. Labels are the notifier's name (bounded
//! by the config) and the result: never a URL, header or secret.

use crate::notify::NotifyStats;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use std::sync::Arc;

/// Reads the dispatcher's counts at each scrape.
#[derive(Debug)]
pub(super) struct Notifications {
    stats: Arc<NotifyStats>,
}

impl Notifications {
    pub(super) fn new(stats: Arc<NotifyStats>) -> Self {
        Notifications { stats }
    }
}

impl Collector for Notifications {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let help = "Alert delivery attempts, by notifier and result (delivered, retried, failed, dropped).";
        let mut metric = encoder.encode_descriptor("notifications", help, None, MetricType::Counter)?;
        for (notifier, result, n) in self.stats.snapshot() {
            let labels = [("notifier", notifier.as_str()), ("result", result)];
            metric.encode_family(&labels)?.encode_counter::<NoLabelSet, _, u64>(&n, None)?;
        }
        Ok(())
    }
}
