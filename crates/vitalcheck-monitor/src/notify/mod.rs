//! Alerts (feature `notify`): transitions -> routed, grouped messages -> webhook, Slack,
//! Discord or command notifiers, delivered through an outbox in the store.
//!
//! * [`route`]: which notifier gets which transition (groups, tags, statuses); pure.
//! * [`group`]: the grouping window and the repeat interval; pure, time passed in.
//! * [`payload`]: the documented JSON message and its chat text.
//! * `sign.rs`: the HMAC-SHA256 signature of webhook bodies.
//! * `webhook.rs`, `slack.rs`, `discord.rs`, `command.rs`: one file per notifier kind;
//!   `http.rs` the one HTTP client they share.
//! * `deliver.rs`: one attempt under the timeout, and the retry schedule ([`retry_delay`]).
//! * `dispatcher.rs`: the task joining them to the store; `attempt.rs` one notifier's
//!   due messages, delivered in order.
//!
//! # Delivery guarantees
//! The engine writes every transition to the store before it acknowledges it; the
//! dispatcher reads them from there (not from the in-memory event stream), so a
//! transition survives a crash before its alert is made. A message is written to the
//! outbox together with the notifier's new cursor, in one transaction: after a restart
//! nothing is made twice and nothing is skipped. A message is marked delivered after the
//! receiver's 2xx (or the command's exit status 0). A crash between that answer and the
//! mark sends it once more after the restart: every request carries
//! `X-Vitalcheck-Delivery: <outbox id>` (`VITALCHECK_DELIVERY` for commands), the same on
//! every attempt, so a receiver that remembers the ids it has seen drops the duplicate.
//!
//! ```no_run
//! # async fn demo(config: vitalcheck_monitor::config::Config, store: std::sync::Arc<dyn vitalcheck_monitor::store::Store>) -> Result<(), Box<dyn std::error::Error>> {
//! use vitalcheck_monitor::notify::{Dispatcher, DispatcherOptions};
//! let dispatcher = Dispatcher::start(store, &config, DispatcherOptions::default()).await?;
//! // ... the engine runs, writing transitions to the same store ...
//! dispatcher.shutdown(std::time::Duration::from_secs(5)).await;
//! # Ok(()) }
//! ```

mod attempt;
mod command;
mod deliver;
mod discord;
mod dispatcher;
pub mod group;
mod http;
pub mod payload;
pub mod route;
mod sign;
mod slack;
mod webhook;

pub use deliver::retry_delay;
pub use sign::{SIGNATURE_HEADER, TIMESTAMP_HEADER, signature};

use crate::config::Config;
use crate::store::{Store, StoreError};
use dispatcher::{Control, Settings, Task};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The header naming the outbox message, the same on every attempt.
pub const DELIVERY_HEADER: &str = "x-vitalcheck-delivery";

/// Why the dispatcher could not start or go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A message could not be encoded.
    #[error("alerts: cannot encode a message: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Settings of the dispatcher task itself.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DispatcherOptions {
    /// How often the store is read for new transitions (the engine writes them at least
    /// every second). Default: 500 ms.
    pub poll: Duration,
}

impl Default for DispatcherOptions {
    fn default() -> Self {
        DispatcherOptions { poll: Duration::from_millis(500) }
    }
}

/// Delivery outcomes per notifier, for `/metrics` and tests.
#[derive(Debug, Default)]
pub struct NotifyStats {
    counts: Mutex<BTreeMap<(String, &'static str), u64>>,
}

impl NotifyStats {
    fn count(&self, notifier: &str, result: &'static str) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        *counts.entry((notifier.to_string(), result)).or_insert(0) += 1;
    }

    /// `(notifier, result, count)`, result one of `delivered`, `retried` (an attempt
    /// failed, another follows), `failed` (given up), `dropped` (notifier removed).
    pub fn snapshot(&self) -> Vec<(String, &'static str, u64)> {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.iter().map(|((n, r), c)| (n.clone(), *r, *c)).collect()
    }
}

/// The running dispatcher: one task; [`reload`](Self::reload) and
/// [`shutdown`](Self::shutdown) talk to it.
#[derive(Debug)]
pub struct Dispatcher {
    control: Mutex<Option<mpsc::Sender<Control>>>,
    task: tokio::sync::Mutex<Option<JoinHandle<()>>>,
    stats: Arc<NotifyStats>,
}

impl Dispatcher {
    /// Loads the notifiers' cursors and starts the task. A notifier seen for the first
    /// time starts after the newest stored transition (it does not replay the past).
    pub async fn start(
        store: Arc<dyn Store>,
        config: &Config,
        options: DispatcherOptions,
    ) -> Result<Dispatcher, NotifyError> {
        let stats = Arc::new(NotifyStats::default());
        let task = Task::load(store, Settings::of(config), Arc::clone(&stats), options.poll).await?;
        let (control, rx) = mpsc::channel(4);
        let task = tokio::spawn(task.run(rx));
        Ok(Dispatcher { control: Mutex::new(Some(control)), task: tokio::sync::Mutex::new(Some(task)), stats })
    }

    /// Takes the notifiers, `[alerts]` and targets' groups and tags of a reloaded config;
    /// returns once they apply (the step under way finishes first). Notifiers added start
    /// at the newest transition, removed ones have their pending messages dropped, the
    /// others keep their windows, firing targets and position. A no-op once stopped.
    pub async fn reload(&self, config: &Config) {
        let control = self.control.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(control) = control {
            let (applied, done) = tokio::sync::oneshot::channel();
            if control.send(Control::Reload(Box::new(Settings::of(config)), applied)).await.is_ok() {
                let _ = done.await;
            }
        }
    }

    /// Delivery counts so far.
    pub fn stats(&self) -> Arc<NotifyStats> {
        Arc::clone(&self.stats)
    }

    /// Stops: the delivery in flight may finish within `grace`, then the task is
    /// stopped. Undelivered messages stay in the outbox for the next start.
    /// Idempotent.
    pub async fn shutdown(&self, grace: Duration) {
        drop(self.control.lock().unwrap_or_else(PoisonError::into_inner).take());
        let Some(mut task) = self.task.lock().await.take() else { return };
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            task.abort();
            let _ = task.await;
        }
    }
}
