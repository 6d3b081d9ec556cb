//! One delivery attempt through the right notifier kind, under the attempt timeout, and
//! the retry schedule of failed ones (pure).

use super::payload::Payload;
use super::{command, discord, slack, webhook};
use crate::config::{AlertsConfig, NotifierConfig, NotifierKind};
use std::time::Duration;
use vitalcheck::{Backoff, Jitter};

/// Sends outbox message `id` (`payload` as stored) through `notifier`, within `timeout`.
pub(crate) async fn deliver(
    notifier: &NotifierConfig,
    id: i64,
    payload: &str,
    timeout: Duration,
) -> Result<(), String> {
    let ca = notifier.ca.as_ref();
    let attempt = async {
        match &notifier.kind {
            NotifierKind::Webhook { url, headers, secret } => {
                webhook::send(url, ca, headers, secret.as_ref(), id, payload).await
            }
            NotifierKind::Slack { url } => slack::send(url, ca, id, &parse(payload)?).await,
            NotifierKind::Discord { url } => discord::send(url, ca, id, &parse(payload)?).await,
            NotifierKind::Command { argv } => command::send(argv, id, payload).await,
        }
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {timeout:?}")),
    }
}

fn parse(payload: &str) -> Result<Payload, String> {
    serde_json::from_str(payload).map_err(|e| format!("the stored message cannot be read: {e}"))
}

/// The wait before attempt `attempts + 1` of message `id`, after `attempts` failed ones;
/// `None` once `max_attempts` have been made. Exponential from `retry_initial` (doubling),
/// capped at `retry_max`, equal jitter seeded by the message id (so the schedule is the
/// same after a restart and differs between messages).
pub fn retry_delay(alerts: &AlertsConfig, id: i64, attempts: u32) -> Option<Duration> {
    let backoff = Backoff::exponential(alerts.retry_initial, 2.0)
        .with_max_delay(alerts.retry_max)
        .with_jitter(Jitter::Equal)
        .with_max_attempts(alerts.max_attempts)
        .with_seed(id.unsigned_abs());
    backoff.iter().nth(usize::try_from(attempts.checked_sub(1)?).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alerts(initial: u64, max: u64, attempts: u32) -> AlertsConfig {
        AlertsConfig {
            retry_initial: Duration::from_secs(initial),
            retry_max: Duration::from_secs(max),
            max_attempts: attempts,
            ..AlertsConfig::default()
        }
    }

    #[test]
    fn exponential_with_equal_jitter_capped_then_given_up() {
        let a = alerts(1, 30, 8);
        let delays: Vec<Option<Duration>> = (1..=9).map(|n| retry_delay(&a, 5, n)).collect();
        let bases = [1, 2, 4, 8, 16, 30, 30];
        for (n, base) in bases.iter().enumerate() {
            let d = delays[n].unwrap_or_else(|| panic!("attempt {} retries", n + 1));
            let base = Duration::from_secs(*base);
            assert!(d >= base / 2 && d <= base, "after attempt {}: {d:?} not in [{:?}, {base:?}]", n + 1, base / 2);
        }
        assert_eq!(delays[7], None, "8 attempts made: given up");
        assert_eq!(delays[8], None);
        assert_eq!(retry_delay(&a, 5, 0), None, "no attempt yet: nothing to retry");
    }

    #[test]
    fn the_schedule_is_stable_per_message() {
        let a = alerts(1, 300, 20);
        for n in 1..10 {
            assert_eq!(retry_delay(&a, 9, n), retry_delay(&a, 9, n));
        }
        let one: Vec<_> = (1..10).map(|n| retry_delay(&a, 1, n)).collect();
        let two: Vec<_> = (1..10).map(|n| retry_delay(&a, 2, n)).collect();
        assert_ne!(one, two, "messages do not retry in lockstep");
    }

    #[test]
    fn a_single_attempt_never_retries() {
        assert_eq!(retry_delay(&alerts(1, 1, 1), 1, 1), None);
    }
}
