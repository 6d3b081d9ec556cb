//! Hands batches to the store, one at a time, and counts what it acknowledged, how long
//! each took (hand-over to commit) and the rows still waiting for an answer.
//!
//! [`Store::record`] may block while the store's queue is full, so it runs on the blocking
//! pool; the task then waits for the commit before it takes the next batch. The channel
//! in front of it is short, so a store that falls behind slows the control loop, whose
//! results channel fills, and the scheduler skips slots (counted) instead of memory
//! growing.

use super::Counters;
use crate::store::{Batch, Store, StoreError};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;
use tokio::sync::mpsc;

/// Writes every batch received until the channel closes.
pub(crate) async fn run(store: Arc<dyn Store>, mut batches: mpsc::Receiver<Batch>, counters: Arc<Counters>) {
    while let Some(batch) = batches.recv().await {
        let rows = batch.len() as u64;
        let store = Arc::clone(&store);
        let started = Instant::now();
        let written = match tokio::task::spawn_blocking(move || store.record(batch)).await {
            Ok(Ok(ack)) => ack.committed().await,
            Ok(Err(err)) => Err(err),
            Err(_) => Err(StoreError::WriterGone),
        };
        counters.store_write.observe(started.elapsed());
        counters.store_backlog.fetch_sub(rows, Relaxed);
        match written {
            Ok(()) => {
                counters.batches_written.fetch_add(1, Relaxed);
                counters.rows_written.fetch_add(rows, Relaxed);
            }
            Err(err) => {
                counters.store_errors.fetch_add(1, Relaxed);
                tracing::error!(rows, error = %error_chain(&err), "store: a batch was not written");
            }
        }
    }
}

/// Prunes rows older than the retention, on the blocking pool; counts and logs the outcome.
pub(crate) async fn prune(store: Arc<dyn Store>, older_than: jiff::Timestamp, counters: Arc<Counters>) {
    match tokio::task::spawn_blocking(move || store.prune(older_than)).await {
        Ok(Ok(stats)) => {
            counters.prunes.fetch_add(1, Relaxed);
            counters.pruned_rows.fetch_add(stats.results + stats.transitions, Relaxed);
            if stats.results + stats.transitions > 0 {
                tracing::info!(results = stats.results, transitions = stats.transitions, %older_than, "store: pruned");
            }
        }
        Ok(Err(err)) => tracing::error!(error = %error_chain(&err), "store: pruning failed"),
        Err(_) => tracing::error!("store: pruning panicked"),
    }
}

/// An error with its sources: `store: write batch failed: disk I/O error`.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
