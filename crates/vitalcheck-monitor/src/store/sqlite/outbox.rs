//! The outbox's SQL: cursors, appending messages, delivery outcomes, pending rows.

use super::queries::{micros, timestamp};
use crate::store::{Enqueue, NumberedTransition, OutboxRow, OutboxUpdate, StoreError, TransitionRow};
use rusqlite::{Connection, params};

/// Transitions with an id above `after`, by id, at most `limit`.
pub(super) fn transitions_after(
    conn: &Connection,
    after: i64,
    limit: usize,
) -> Result<Vec<NumberedTransition>, StoreError> {
    let db = |e| StoreError::db("read transitions", e);
    let mut stmt = conn
        .prepare_cached(
            "SELECT x.id, t.name, x.from_status, x.to_status, x.reason, x.at_us
             FROM transitions x JOIN targets t ON t.id = x.target_id WHERE x.id > ?1 ORDER BY x.id LIMIT ?2",
        )
        .map_err(db)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![after, limit], |row| {
            Ok(NumberedTransition {
                id: row.get(0)?,
                row: TransitionRow {
                    target: row.get(1)?,
                    from: row.get(2)?,
                    to: row.get(3)?,
                    reason: row.get(4)?,
                    at: timestamp(row, 5)?,
                },
            })
        })
        .map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}

/// The highest transition id, 0 when there is none.
pub(super) fn last_transition_id(conn: &Connection) -> Result<i64, StoreError> {
    conn.query_row("SELECT COALESCE(MAX(id), 0) FROM transitions", [], |row| row.get(0))
        .map_err(|e| StoreError::db("read transitions", e))
}

/// Every notifier's cursor.
pub(super) fn cursors(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let db = |e| StoreError::db("read notifier cursors", e);
    let mut stmt =
        conn.prepare_cached("SELECT notifier, last_transition_id FROM notify_cursors ORDER BY notifier").map_err(db)?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}

/// Pending rows, the earliest due first, at most `limit`.
pub(super) fn pending(conn: &Connection, limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
    let db = |e| StoreError::db("read the outbox", e);
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, notifier, payload, created_us, attempts, next_attempt_us FROM outbox
             WHERE state = 'pending' ORDER BY next_attempt_us, id LIMIT ?1",
        )
        .map_err(db)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![limit], |row| {
            Ok(OutboxRow {
                id: row.get(0)?,
                notifier: row.get(1)?,
                payload: row.get(2)?,
                created: timestamp(row, 3)?,
                attempts: row.get(4)?,
                next_attempt: timestamp(row, 5)?,
            })
        })
        .map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}

/// Appends the messages and moves the cursors (inside the caller's transaction); the new ids.
pub(super) fn enqueue(conn: &Connection, entry: &Enqueue) -> rusqlite::Result<Vec<i64>> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO outbox (notifier, payload, created_us, next_attempt_us) VALUES (?1, ?2, ?3, ?3)",
    )?;
    let mut ids = Vec::with_capacity(entry.messages.len());
    for (notifier, payload) in &entry.messages {
        insert.execute(params![notifier, payload, micros(entry.at)])?;
        ids.push(conn.last_insert_rowid());
    }
    let mut cursor = conn.prepare_cached(
        "INSERT INTO notify_cursors (notifier, last_transition_id) VALUES (?1, ?2)
         ON CONFLICT (notifier) DO UPDATE SET last_transition_id = MAX(last_transition_id, excluded.last_transition_id)",
    )?;
    for (notifier, id) in &entry.cursors {
        cursor.execute(params![notifier, id])?;
    }
    Ok(ids)
}

/// Records one delivery attempt's outcome (inside the caller's transaction).
pub(super) fn update(conn: &Connection, update: &OutboxUpdate) -> rusqlite::Result<()> {
    match update {
        OutboxUpdate::Delivered { id, at } => conn
            .prepare_cached(
                "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, done_us = ?2, last_error = NULL
                 WHERE id = ?1",
            )?
            .execute(params![id, micros(*at)]),
        OutboxUpdate::Retry { id, attempts, next_attempt, error } => conn
            .prepare_cached("UPDATE outbox SET attempts = ?2, next_attempt_us = ?3, last_error = ?4 WHERE id = ?1")?
            .execute(params![id, attempts, micros(*next_attempt), error]),
        OutboxUpdate::Failed { id, attempts, at, error } => conn
            .prepare_cached(
                "UPDATE outbox SET state = 'failed', attempts = ?2, done_us = ?3, last_error = ?4 WHERE id = ?1",
            )?
            .execute(params![id, attempts, micros(*at), error]),
    }
    .map(drop)
}

/// Deletes up to `chunk` delivered or given-up rows finished before `older_than_us`.
pub(super) fn prune_chunk(conn: &Connection, older_than_us: i64, chunk: i64) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "DELETE FROM outbox WHERE id IN
             (SELECT id FROM outbox WHERE state != 'pending' AND done_us < ?1 ORDER BY id LIMIT ?2)",
    )?
    .execute(params![older_than_us, chunk])
}
