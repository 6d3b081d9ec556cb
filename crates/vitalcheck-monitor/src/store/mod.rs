//! Persistence: the [`Store`] trait the engine writes results, states and transitions
//! through, the plain row types it speaks, and the SQLite implementation ([`SqliteStore`],
//! feature `sqlite`, on by default).
//!
//! Scope: this module keeps what the engine saw so that a restart (or a `kill -9`) loses
//! nothing that was acknowledged, and answers the few queries the engine, the CLI and the
//! API need (current states, one target's history, every result since a time for rebuilding
//! the in-memory history, transitions, uptime counts). It does not aggregate percentiles or
//! keep in-memory rings; that is `history`'s job.
//!
//! # Writing
//! Writes go in a [`Batch`] (results, state upserts and transitions of one pass). A batch
//! is applied atomically, in one transaction, possibly together with other queued batches.
//! [`Store::record`] queues the batch and returns an [`Ack`]; the ack resolves only after
//! the transaction holding the batch has committed, or with the error that stopped it.
//!
//! # Blocking
//! The trait is synchronous so that it stays object safe and usable from any thread:
//! * [`Store::record`] returns at once unless the write queue is full (back-pressure), in
//!   which case it blocks until the writer catches up.
//! * [`Ack::wait`] blocks until the commit; [`Ack::committed`] is the async form.
//! * The read methods and [`Store::prune`] / [`Store::shutdown`] block for the duration of
//!   their work (milliseconds for reads). From async code call them in
//!   `tokio::task::spawn_blocking`.
//!
//! Handles are passed around as `Arc<dyn Store>`; there is no global store.
//!
//! ```
//! # #[cfg(feature = "sqlite")] {
//! use vitalcheck::Status;
//! use vitalcheck_monitor::store::{Batch, HistoryQuery, ResultRow, SqliteStore, Store};
//!
//! let dir = tempfile::tempdir()?;
//! let store = SqliteStore::open(dir.path().join("data/vitalcheck.db"))?;
//! let at = jiff::Timestamp::from_second(1_700_000_000)?;
//! let row = ResultRow::new("api", at, Status::Healthy, 1_250);
//! store.record(Batch::from_results(vec![row]))?.wait()?; // durable from here on
//! let rows = store.history(&HistoryQuery::new("api"))?;
//! assert_eq!(rows.len(), 1);
//! store.shutdown()?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ack;
mod error;
mod outbox;
mod rows;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use ack::Ack;
pub use error::StoreError;
pub use outbox::{Enqueue, NumberedTransition, OutboxRow, OutboxUpdate};
pub use rows::{
    Batch, HistoryQuery, Order, ProbeStateRow, PruneStats, ResultRow, StateRow, StatusCounts, TransitionRow,
};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteOptions, SqliteStore};

use jiff::Timestamp;
use std::fmt;

/// What the engine needs from persistent storage; nothing more.
///
/// Implementations must apply each [`Batch`] atomically, resolve its [`Ack`] only once the
/// batch is durable, and propagate every error (nothing is only logged). Every store runs
/// the same conformance suite (`tests/store/mod.rs`).
pub trait Store: Send + Sync + fmt::Debug {
    /// Queues `batch` for writing and returns the acknowledgement to wait on.
    ///
    /// Blocks only while the write queue is full. Fails at once with
    /// [`StoreError::Closed`] after [`Store::shutdown`].
    fn record(&self, batch: Batch) -> Result<Ack, StoreError>;

    /// The last known state of every target, ordered by target name. Blocks.
    fn load_states(&self) -> Result<Vec<StateRow>, StoreError>;

    /// One target's results within the query's time range, in the query's order. Blocks.
    fn history(&self, query: &HistoryQuery) -> Result<Vec<ResultRow>, StoreError>;

    /// Every result at or after `since`, of all targets, oldest first, handed to `each` one
    /// at a time without collecting them (the engine rebuilds its in-memory history with it on
    /// start). Returns how many rows were visited. Blocks.
    ///
    /// Results at the same time come in the order they were written. The scan reads one
    /// consistent snapshot and does not hold up writes; keep `each` quick all the same, as
    /// the snapshot is held until the scan ends (for SQLite: the write-ahead log cannot be
    /// checkpointed past it meanwhile).
    fn scan_results(&self, since: Timestamp, each: &mut dyn FnMut(ResultRow)) -> Result<u64, StoreError>;

    /// Transitions at or after `since` (of one target, or of all when `target` is `None`),
    /// oldest first, at most `limit`. Blocks.
    fn transitions(
        &self,
        target: Option<&str>,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<TransitionRow>, StoreError>;

    /// How many of `target`'s results at or after `since` had each status. Blocks.
    fn status_counts(&self, target: &str, since: Timestamp) -> Result<StatusCounts, StoreError>;

    /// Deletes results, transitions (all but the newest, so that transition ids keep
    /// growing) and finished outbox messages older than `older_than`, in bounded chunks so that
    /// queued writes are not held up for long. States are kept. Blocks until done.
    fn prune(&self, older_than: Timestamp) -> Result<PruneStats, StoreError>;

    /// Transitions with an id above `after`, oldest (lowest id) first, at most `limit`:
    /// how the alert dispatcher reads the stream from its cursor. Blocks.
    fn transitions_after(&self, after: i64, limit: usize) -> Result<Vec<NumberedTransition>, StoreError>;

    /// The id of the newest transition, 0 when there is none (a new notifier starts
    /// there rather than replaying the past). Blocks.
    fn last_transition_id(&self) -> Result<i64, StoreError>;

    /// Each notifier's cursor: the id of the last transition it has taken. Blocks.
    fn notify_cursors(&self) -> Result<Vec<(String, i64)>, StoreError>;

    /// Appends outbox messages and moves notifier cursors in one transaction (a cursor
    /// never moves back); returns the messages' ids once committed. Blocks.
    fn enqueue(&self, entry: Enqueue) -> Result<Vec<i64>, StoreError>;

    /// Messages not yet delivered nor given up, the earliest due first, at most `limit`.
    /// Blocks.
    fn pending_outbox(&self, limit: usize) -> Result<Vec<OutboxRow>, StoreError>;

    /// Records a delivery attempt's outcome; durable when it returns. Blocks.
    fn update_outbox(&self, update: OutboxUpdate) -> Result<(), StoreError>;

    /// Writes everything queued, then stops accepting writes. Reads keep working.
    /// Idempotent. Blocks until the queue is drained.
    fn shutdown(&self) -> Result<(), StoreError>;
}
