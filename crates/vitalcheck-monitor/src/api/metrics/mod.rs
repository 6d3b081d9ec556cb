//! `GET /metrics`: the engine in the Prometheus / OpenMetrics text format
//! (`application/openmetrics-text; version=1.0.0; charset=utf-8`), encoded by
//! prometheus-client from the engine's own state at scrape time: two
//! [`Collector`](prometheus_client::collector::Collector)s read it when Prometheus asks,
//! so no second copy of the per-target series is kept. Encoding runs on the blocking pool.
//!
//! Labels are the target's name and group only (both bounded by the config), the probe
//! kind, a status or an error kind: never a URL, a query string, a header or a secret.
//! Targets and series without a group carry no `group` label.
//!
//! Per target (`targets.rs`), one sample each, labels `target`, `group`:
//!
//! | series | type | value |
//! |---|---|---|
//! | `vitalcheck_target_up` | gauge | 1 while Healthy or Degraded, else 0 (blackbox_exporter's `probe_success`) |
//! | `vitalcheck_target_status` | gauge | 0 unknown, 1 starting, 2 healthy, 3 degraded, 4 unhealthy |
//! | `vitalcheck_target_consecutive_failures` | gauge | the most failures in a row of any of its probes |
//! | `vitalcheck_target_last_probe_duration_seconds` | gauge | its latest probe's duration (targets probed at least once; blackbox's `probe_duration_seconds`) |
//! | `vitalcheck_target_process_restarts_total` | counter | restarts of its process since `vitalcheck run` started (targets with a `process` table only) |
//! | `vitalcheck_targets{group,status}` | gauge | targets per group and status (every status, 0 included) |
//!
//! The engine (`engine.rs`), since it started:
//!
//! | series | type | labels |
//! |---|---|---|
//! | `vitalcheck_probes_total` | counter | `group`, `kind` (`http`, `tcp`, ...), `result` (`healthy`, `degraded`, `unhealthy`) |
//! | `vitalcheck_probe_errors_total` | counter | `group`, `kind`, `error_kind` (`refused`, `timeout`, `dns`, `tls`, `status`, `protocol`, `expectation`, `exit`, `io`) |
//! | `vitalcheck_probe_duration_seconds` | histogram | `group`, `kind` |
//! | `vitalcheck_transitions_total` | counter | `group`, `to` (the status entered) |
//! | `vitalcheck_scheduler_lag_seconds` | histogram | how late each probe started after its slot (ready-queue wait included) |
//! | `vitalcheck_scheduler_in_flight_probes` | gauge | probes running now |
//! | `vitalcheck_scheduler_queued_probes` | gauge | due probes waiting for a concurrency permit |
//! | `vitalcheck_scheduler_skipped_slots_total` | counter | slots not run (the job still busy, or the driver late) |
//! | `vitalcheck_scheduler_timeouts_total` | counter | probes stopped by their timeout |
//! | `vitalcheck_store_write_duration_seconds` | histogram | per batch, hand-over to commit |
//! | `vitalcheck_store_backlog_rows` | gauge | rows collected and not yet acknowledged by the store |
//! | `vitalcheck_store_batches_written_total`, `vitalcheck_store_rows_written_total` | counter | acknowledged by the store |
//! | `vitalcheck_store_errors_total` | counter | batches the store failed to write |
//! | `vitalcheck_store_pruned_rows_total` | counter | rows deleted by retention |
//!
//! The alert dispatcher (`notify.rs`, feature `notify`, when `vitalcheck run` runs one):
//!
//! | series | type | labels |
//! |---|---|---|
//! | `vitalcheck_notifications_total` | counter | `notifier` (its name), `result` (`delivered`, `retried`: an attempt failed and another follows, `failed`: given up, `dropped`: its notifier was removed) |
//!
//! Histograms share the buckets of [`DURATION_BOUNDS_US`](crate::scheduler::DURATION_BOUNDS_US)
//! (1 ms to 60 s).

mod engine;
#[cfg(feature = "notify")]
mod notify;
mod targets;

use super::ApiState;
use crate::engine::Engine;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::{EncodeLabelSet, LabelSetEncoder};
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// The content type of the answer: OpenMetrics text 1.0.0.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The prefix of every series name.
const PREFIX: &str = "vitalcheck";

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<ApiState>) -> Response {
    let engine = Arc::clone(&state.engine);
    #[cfg(feature = "notify")]
    let notify = state.notify.clone();
    #[cfg(not(feature = "notify"))]
    let notify = None;
    match tokio::task::spawn_blocking(move || render(engine, notify)).await {
        Ok(Ok(text)) => {
            ([(header::CONTENT_TYPE, CONTENT_TYPE), (header::CACHE_CONTROL, "no-store")], text).into_response()
        }
        Ok(Err(_)) | Err(_) => {
            tracing::error!("/metrics: encoding failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "cannot encode the metrics\n").into_response()
        }
    }
}

/// The whole exposition, `# EOF` included.
pub(crate) fn render(engine: Arc<Engine>, notify: Option<NotifyStatsRef>) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::with_prefix(PREFIX);
    registry.register_collector(Box::new(targets::Targets::new(Arc::clone(&engine))));
    registry.register_collector(Box::new(engine::EngineHealth::new(engine)));
    #[cfg(feature = "notify")]
    if let Some(stats) = notify {
        registry.register_collector(Box::new(notify::Notifications::new(stats)));
    }
    #[cfg(not(feature = "notify"))]
    let _: Option<NotifyStatsRef> = notify;
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)?;
    Ok(text)
}

/// The dispatcher's counts (feature `notify`), else nothing.
#[cfg(feature = "notify")]
pub(crate) type NotifyStatsRef = Arc<crate::notify::NotifyStats>;
/// The dispatcher's counts (feature `notify`), else nothing.
#[cfg(not(feature = "notify"))]
pub(crate) type NotifyStatsRef = std::convert::Infallible;

/// A label set of borrowed pairs; a `group` of `None` is left out.
struct Labels<'a, const N: usize> {
    group: Option<&'a str>,
    pairs: [(&'static str, &'a str); N],
}

impl<'a, const N: usize> Labels<'a, N> {
    fn new(group: Option<&'a str>, pairs: [(&'static str, &'a str); N]) -> Self {
        Labels { group, pairs }
    }
}

impl<const N: usize> EncodeLabelSet for Labels<'_, N> {
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) -> Result<(), std::fmt::Error> {
        self.pairs.encode(encoder)?;
        match self.group {
            Some(group) => [("group", group)].encode(encoder),
            None => Ok(()),
        }
    }
}
