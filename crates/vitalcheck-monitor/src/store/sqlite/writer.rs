//! The writer thread: it owns the read-write connection and drains a bounded queue.
//!
//! Batches that are queued together are committed together: after the first one arrives,
//! the writer keeps taking batches until they hold `max_rows` rows or `linger` has
//! passed, then writes them all in one transaction and resolves every ack. If that
//! transaction fails, each batch is retried in a transaction of its own, so one bad batch
//! fails alone and gets its own error. Pruning runs one bounded chunk per command, so
//! writes queued meanwhile are served between chunks.

use super::queries::{self, TargetIds};
use crate::store::StoreError;
use crate::store::ack::AckSender;
use crate::store::{Batch, Enqueue, OutboxUpdate, PruneStats};
use jiff::Timestamp;
use rusqlite::{Connection, TransactionBehavior};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// What callers ask the writer to do.
pub(super) enum Command {
    /// Write a batch, then resolve its ack.
    Write(Batch, AckSender),
    /// Delete one chunk of old rows and answer how many went.
    PruneChunk { older_than: Timestamp, chunk: usize, reply: Sender<Result<PruneStats, StoreError>> },
    /// Change the outbox in one transaction and answer the new row ids.
    Outbox(OutboxWrite, Sender<Result<Vec<i64>, StoreError>>),
}

/// A change to the outbox.
pub(super) enum OutboxWrite {
    /// Append messages and move cursors.
    Enqueue(Enqueue),
    /// Record a delivery attempt.
    Update(OutboxUpdate),
}

/// How the writer groups batches into transactions.
#[derive(Debug, Clone, Copy)]
pub(super) struct Grouping {
    /// Commit once the queued batches hold this many rows.
    pub(super) max_rows: usize,
    /// Commit at the latest this long after the first batch of a group arrived.
    pub(super) linger: Duration,
}

/// The writer's state: its connection and the target ids it has seen.
struct Writer {
    conn: Connection,
    ids: TargetIds,
}

/// Runs until every sender is dropped and the queue is empty, then closes the connection.
pub(super) fn run(conn: Connection, rx: Receiver<Command>, grouping: Grouping) {
    let mut writer = Writer { conn, ids: TargetIds::new() };
    let mut next = rx.recv().ok();
    while let Some(command) = next.take() {
        match command {
            Command::Write(batch, ack) => {
                let (group, after) = gather(&rx, (batch, ack), grouping);
                writer.commit(group);
                next = after;
            }
            Command::PruneChunk { older_than, chunk, reply } => {
                // The caller may have given up waiting; nothing to do then.
                let _ = reply.send(writer.prune_chunk(older_than, chunk));
            }
            Command::Outbox(write, reply) => {
                let _ = reply.send(writer.outbox(&write));
            }
        }
        if next.is_none() {
            next = rx.recv().ok();
        }
    }
}

/// Collects queued batches after `first` until the group is full or the linger is over.
/// Returns the group and a non-write command that ended it, if any.
fn gather(
    rx: &Receiver<Command>,
    first: (Batch, AckSender),
    grouping: Grouping,
) -> (Vec<(Batch, AckSender)>, Option<Command>) {
    let deadline = Instant::now() + grouping.linger;
    let mut rows = first.0.len();
    let mut group = vec![first];
    while rows < grouping.max_rows {
        let wait = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(Command::Write(batch, ack)) => {
                rows += batch.len();
                group.push((batch, ack));
            }
            Ok(other) => return (group, Some(other)),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
        }
    }
    (group, None)
}

impl Writer {
    /// Commits `group` in one transaction and resolves the acks.
    fn commit(&mut self, group: Vec<(Batch, AckSender)>) {
        let batches: Vec<&Batch> = group.iter().map(|(batch, _)| batch).collect();
        match self.write(&batches) {
            Ok(()) => group.into_iter().for_each(|(_, ack)| resolve(ack, Ok(()))),
            Err(err) if group.len() == 1 => {
                if let Some((_, ack)) = group.into_iter().next() {
                    resolve(ack, Err(err));
                }
            }
            Err(_) => {
                for (batch, ack) in group {
                    let result = self.write(&[&batch]);
                    resolve(ack, result);
                }
            }
        }
    }

    /// Writes `batches` in one transaction.
    fn write(&mut self, batches: &[&Batch]) -> Result<(), StoreError> {
        let db = |e| StoreError::db("write batch", e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let result = batches
            .iter()
            .try_for_each(|batch| queries::write_batch(&tx, &mut self.ids, batch))
            .and_then(|()| tx.commit());
        if result.is_err() {
            // Ids handed out inside the rolled-back transaction are gone again.
            self.ids.clear();
        }
        result.map_err(db)
    }

    /// Deletes one chunk of rows older than `older_than`, in its own transaction.
    fn prune_chunk(&mut self, older_than: Timestamp, chunk: usize) -> Result<PruneStats, StoreError> {
        let db = |e| StoreError::db("prune", e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let (results, transitions) = queries::prune_chunk(&tx, older_than, chunk).map_err(db)?;
        // Delivered and given-up alerts go with the results of their time.
        let limit = i64::try_from(chunk).unwrap_or(i64::MAX);
        super::outbox::prune_chunk(&tx, older_than.as_microsecond(), limit).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(PruneStats { results, transitions })
    }
}

impl Writer {
    /// Applies one outbox change in its own transaction.
    fn outbox(&mut self, write: &OutboxWrite) -> Result<Vec<i64>, StoreError> {
        let db = |e| StoreError::db("write the outbox", e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let ids = match write {
            OutboxWrite::Enqueue(entry) => super::outbox::enqueue(&tx, entry).map_err(db)?,
            OutboxWrite::Update(update) => super::outbox::update(&tx, update).map(|()| Vec::new()).map_err(db)?,
        };
        tx.commit().map_err(db)?;
        Ok(ids)
    }
}

/// Resolves an ack; a caller that dropped its `Ack` does not care.
fn resolve(ack: AckSender, result: Result<(), StoreError>) {
    let _ = ack.send(result);
}
