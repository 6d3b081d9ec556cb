//! Delivery attempts of one notifier's due messages, in order: each attempt logged,
//! counted and its outcome recorded in the store before the next.

use super::NotifyError;
use super::NotifyStats;
use super::deliver::{deliver, retry_delay};
use super::dispatcher::blocking;
use crate::config::{AlertsConfig, NotifierConfig};
use crate::store::{OutboxRow, OutboxUpdate, Store};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::Duration;

/// What one notifier's attempts need; `notifier` is `None` when it is no longer configured.
pub(super) struct Attempts {
    pub(super) store: Arc<dyn Store>,
    pub(super) notifier: Option<NotifierConfig>,
    pub(super) alerts: AlertsConfig,
    pub(super) stats: Arc<NotifyStats>,
}

impl Attempts {
    /// Attempts `rows` one after the other, recording each outcome. Stops at the first
    /// failed attempt: the receiver is likely down for the others too, which wait for the
    /// next step (so a step takes at most one `timeout` per notifier).
    pub(super) async fn run(self, rows: Vec<OutboxRow>) -> Result<(), NotifyError> {
        for row in rows {
            let update = self.attempt(&row).await;
            let failed =
                matches!(update, OutboxUpdate::Retry { .. } | OutboxUpdate::Failed { .. }) && self.notifier.is_some();
            blocking(&self.store, move |s| s.update_outbox(update)).await?;
            if failed {
                break;
            }
        }
        Ok(())
    }

    /// One attempt at `row`, logged and counted; the outcome to record.
    async fn attempt(&self, row: &OutboxRow) -> OutboxUpdate {
        let attempts = row.attempts.saturating_add(1);
        let Some(notifier) = &self.notifier else {
            tracing::warn!(notifier = %row.notifier, delivery = row.id, "alerts: notifier no longer configured; message dropped");
            self.stats.count(&row.notifier, "dropped");
            let error = "the notifier is no longer configured".to_string();
            return OutboxUpdate::Failed { id: row.id, attempts: row.attempts, at: Timestamp::now(), error };
        };
        let result = deliver(notifier, row.id, &row.payload, self.alerts.timeout).await;
        let now = Timestamp::now();
        let Err(error) = result else {
            tracing::info!(notifier = %row.notifier, kind = notifier.kind_name(), delivery = row.id, attempts, "alerts: delivered");
            self.stats.count(&row.notifier, "delivered");
            return OutboxUpdate::Delivered { id: row.id, at: now };
        };
        match retry_delay(&self.alerts, row.id, attempts) {
            Some(delay) => {
                tracing::warn!(notifier = %row.notifier, delivery = row.id, attempts, %error, retry_in = ?delay, "alerts: delivery failed; will retry");
                self.stats.count(&row.notifier, "retried");
                OutboxUpdate::Retry { id: row.id, attempts, next_attempt: after(now, delay), error }
            }
            None => {
                tracing::error!(notifier = %row.notifier, delivery = row.id, attempts, %error, "alerts: delivery failed; giving up");
                self.stats.count(&row.notifier, "failed");
                OutboxUpdate::Failed { id: row.id, attempts, at: now, error }
            }
        }
    }
}

fn after(now: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d).ok().and_then(|d| now.checked_add(d).ok()).unwrap_or(Timestamp::MAX)
}
