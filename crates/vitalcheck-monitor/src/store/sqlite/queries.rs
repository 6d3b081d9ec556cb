//! The SQL: writing one batch inside an open transaction, and the read queries.
//!
//! Every statement goes through `prepare_cached`, so each is compiled once per connection.

use super::probes;
use crate::store::{
    Batch, HistoryQuery, Order, ProbeStateRow, ResultRow, StateRow, StatusCounts, StoreError, TransitionRow,
};
use jiff::Timestamp;
use rusqlite::{Connection, Row, params};
use std::collections::HashMap;
use vitalcheck::Status;

/// Target name -> id, remembered by the writer across batches.
pub(super) type TargetIds = HashMap<String, i64>;

/// Writes every row of `batch` through `conn` (inside the caller's transaction).
pub(super) fn write_batch(conn: &Connection, ids: &mut TargetIds, batch: &Batch) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO results (target_id, at_us, status, latency_us, error_kind, detail, probe)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for row in &batch.results {
        let id = target_id(conn, ids, &row.target)?;
        let latency = i64::try_from(row.latency_us).unwrap_or(i64::MAX);
        let status = status_code(row.status);
        insert.execute(params![id, micros(row.at), status, latency, row.error_kind, row.detail, row.probe])?;
    }
    let mut upsert = conn.prepare_cached(
        "INSERT INTO states (target_id, status, since_us, consecutive_failures, consecutive_successes,
                             last_error, updated_us, probes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (target_id) DO UPDATE SET
             status = excluded.status, since_us = excluded.since_us,
             consecutive_failures = excluded.consecutive_failures,
             consecutive_successes = excluded.consecutive_successes,
             last_error = excluded.last_error, updated_us = excluded.updated_us, probes = excluded.probes",
    )?;
    for s in &batch.states {
        let id = target_id(conn, ids, &s.target)?;
        upsert.execute(params![
            id,
            s.status,
            micros(s.since),
            s.consecutive_failures,
            s.consecutive_successes,
            s.last_error,
            micros(s.updated_at),
            probes::encode(&s.probes)?
        ])?;
    }
    let mut transition = conn.prepare_cached(
        "INSERT INTO transitions (target_id, from_status, to_status, reason, at_us) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for t in &batch.transitions {
        let id = target_id(conn, ids, &t.target)?;
        transition.execute(params![id, t.from, t.to, t.reason, micros(t.at)])?;
    }
    Ok(())
}

/// The id of target `name`, created on first use.
fn target_id(conn: &Connection, ids: &mut TargetIds, name: &str) -> rusqlite::Result<i64> {
    if let Some(&id) = ids.get(name) {
        return Ok(id);
    }
    let id = conn
        .prepare_cached(
            "INSERT INTO targets (name) VALUES (?1)
             ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
        )?
        .query_row([name], |row| row.get(0))?;
    ids.insert(name.to_owned(), id);
    Ok(id)
}

/// Deletes up to `chunk` results and `chunk` transitions older than `older_than`;
/// returns how many of each went.
pub(super) fn prune_chunk(conn: &Connection, older_than: Timestamp, chunk: usize) -> rusqlite::Result<(u64, u64)> {
    let limit = i64::try_from(chunk).unwrap_or(i64::MAX);
    let results = conn
        .prepare_cached(
            "DELETE FROM results WHERE rowid IN
                 (SELECT rowid FROM results WHERE at_us < ?1 ORDER BY at_us LIMIT ?2)",
        )?
        .execute(params![micros(older_than), limit])?;
    let transitions = conn
        .prepare_cached(
            // The newest transition is kept whatever its age: SQLite hands out MAX(id) + 1
            // as the next id, and ids must only grow (the alert dispatcher's cursors).
            "DELETE FROM transitions WHERE id IN
                 (SELECT id FROM transitions WHERE at_us < ?1
                     AND id < (SELECT MAX(id) FROM transitions) ORDER BY at_us LIMIT ?2)",
        )?
        .execute(params![micros(older_than), limit])?;
    Ok((results as u64, transitions as u64))
}

/// Every target's state, by name.
pub(super) fn load_states(conn: &Connection) -> Result<Vec<StateRow>, StoreError> {
    let db = |e| StoreError::db("read states", e);
    let mut stmt = conn
        .prepare_cached(
            "SELECT t.name, s.status, s.since_us, s.consecutive_failures, s.consecutive_successes,
                    s.last_error, s.updated_us, s.probes
             FROM states s JOIN targets t ON t.id = s.target_id ORDER BY t.name",
        )
        .map_err(db)?;
    let mut rows = stmt.query([]).map_err(db)?;
    let mut states = Vec::new();
    while let Some(row) = rows.next().map_err(db)? {
        let target: String = row.get(0).map_err(db)?;
        let json: String = row.get(7).map_err(db)?;
        let probes = probes::decode(&target, &json)?;
        states.push(state_row(row, target, probes).map_err(db)?);
    }
    Ok(states)
}

/// A state from the columns after `t.name` in [`load_states`].
fn state_row(row: &Row<'_>, target: String, probes: Vec<ProbeStateRow>) -> rusqlite::Result<StateRow> {
    Ok(StateRow {
        target,
        status: row.get(1)?,
        since: timestamp(row, 2)?,
        consecutive_failures: row.get(3)?,
        consecutive_successes: row.get(4)?,
        last_error: row.get(5)?,
        updated_at: timestamp(row, 6)?,
        probes,
    })
}

/// One target's results, as `query` asks.
pub(super) fn history(conn: &Connection, query: &HistoryQuery) -> Result<Vec<ResultRow>, StoreError> {
    let sql = match query.order {
        Order::OldestFirst => HISTORY_ASC,
        Order::NewestFirst => HISTORY_DESC,
    };
    let since = query.since.map_or(i64::MIN, micros);
    let until = query.until.map_or(i64::MAX, micros);
    let limit = query.limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
    let mut stmt = conn.prepare_cached(sql).map_err(|e| StoreError::db("read history", e))?;
    let rows = stmt.query_map(params![query.target, since, until, limit], |row| result_row(row, query.target.clone()));
    collect(rows, "read history")
}

const HISTORY_ASC: &str = "SELECT at_us, status, latency_us, error_kind, detail, probe FROM results
    WHERE target_id = (SELECT id FROM targets WHERE name = ?1) AND at_us >= ?2 AND at_us < ?3
    ORDER BY at_us, rowid LIMIT ?4";
const HISTORY_DESC: &str = "SELECT at_us, status, latency_us, error_kind, detail, probe FROM results
    WHERE target_id = (SELECT id FROM targets WHERE name = ?1) AND at_us >= ?2 AND at_us < ?3
    ORDER BY at_us DESC, rowid DESC LIMIT ?4";

/// Results at or after `since` of every target, oldest first (write order within one
/// time), each handed to `each` as it is read; returns how many there were.
///
/// `results` drives the loop through its `results_at` index, which already holds the
/// order (`CROSS JOIN` keeps SQLite from putting `targets` outside and sorting), so rows
/// stream from the statement instead of being sorted or collected first.
pub(super) fn scan_results(
    conn: &Connection,
    since: Timestamp,
    each: &mut dyn FnMut(ResultRow),
) -> Result<u64, StoreError> {
    let db = |e| StoreError::db("scan results", e);
    let mut stmt = conn.prepare_cached(SCAN).map_err(db)?;
    let mut rows = stmt.query([micros(since)]).map_err(db)?;
    let mut visited = 0;
    while let Some(row) = rows.next().map_err(db)? {
        let target = row.get(6).map_err(db)?;
        each(result_row(row, target).map_err(db)?);
        visited += 1;
    }
    Ok(visited)
}

pub(super) const SCAN: &str = "SELECT r.at_us, r.status, r.latency_us, r.error_kind, r.detail, r.probe, t.name
     FROM results r CROSS JOIN targets t ON t.id = r.target_id
     WHERE r.at_us >= ?1 ORDER BY r.at_us, r.rowid";

/// A result from columns `at_us, status, latency_us, error_kind, detail, probe`.
fn result_row(row: &Row<'_>, target: String) -> rusqlite::Result<ResultRow> {
    Ok(ResultRow {
        target,
        at: timestamp(row, 0)?,
        status: status_from(row, 1)?,
        latency_us: u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
        error_kind: row.get(3)?,
        detail: row.get(4)?,
        probe: row.get(5)?,
    })
}

/// Transitions at or after `since`, of `target` or of all, oldest first.
pub(super) fn transitions(
    conn: &Connection,
    target: Option<&str>,
    since: Timestamp,
    limit: usize,
) -> Result<Vec<TransitionRow>, StoreError> {
    let columns = "SELECT t.name, x.from_status, x.to_status, x.reason, x.at_us
                   FROM transitions x JOIN targets t ON t.id = x.target_id";
    let sql = match target {
        Some(_) => format!("{columns} WHERE t.name = ?3 AND x.at_us >= ?1 ORDER BY x.at_us, x.id LIMIT ?2"),
        None => format!("{columns} WHERE x.at_us >= ?1 ORDER BY x.at_us, x.id LIMIT ?2"),
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(&sql).map_err(|e| StoreError::db("read transitions", e))?;
    let map = |row: &Row<'_>| {
        Ok(TransitionRow {
            target: row.get(0)?,
            from: row.get(1)?,
            to: row.get(2)?,
            reason: row.get(3)?,
            at: timestamp(row, 4)?,
        })
    };
    match target {
        Some(name) => collect(stmt.query_map(params![micros(since), limit, name], map), "read transitions"),
        None => collect(stmt.query_map(params![micros(since), limit], map), "read transitions"),
    }
}

/// How many of `target`'s results at or after `since` had each status.
pub(super) fn status_counts(conn: &Connection, target: &str, since: Timestamp) -> Result<StatusCounts, StoreError> {
    let db = |e| StoreError::db("read status counts", e);
    let mut stmt = conn
        .prepare_cached(
            "SELECT status, COUNT(*) FROM results
             WHERE target_id = (SELECT id FROM targets WHERE name = ?1) AND at_us >= ?2 GROUP BY status",
        )
        .map_err(db)?;
    let mut counts = StatusCounts::default();
    let mut rows = stmt.query(params![target, micros(since)]).map_err(db)?;
    while let Some(row) = rows.next().map_err(db)? {
        let n = u64::try_from(row.get::<_, i64>(1).map_err(db)?).unwrap_or(0);
        match status_from(row, 0).map_err(db)? {
            Status::Healthy => counts.healthy = n,
            Status::Degraded => counts.degraded = n,
            Status::Unhealthy => counts.unhealthy = n,
        }
    }
    Ok(counts)
}

fn collect<T>(
    rows: rusqlite::Result<impl Iterator<Item = rusqlite::Result<T>>>,
    op: &'static str,
) -> Result<Vec<T>, StoreError> {
    rows.and_then(|rows| rows.collect()).map_err(|e| StoreError::db(op, e))
}

pub(super) fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

pub(super) fn timestamp(row: &Row<'_>, idx: usize) -> rusqlite::Result<Timestamp> {
    let us: i64 = row.get(idx)?;
    Timestamp::from_microsecond(us)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Integer, Box::new(e)))
}

fn status_code(status: Status) -> i64 {
    match status {
        Status::Healthy => 0,
        Status::Degraded => 1,
        Status::Unhealthy => 2,
    }
}

fn status_from(row: &Row<'_>, idx: usize) -> rusqlite::Result<Status> {
    match row.get::<_, i64>(idx)? {
        0 => Ok(Status::Healthy),
        1 => Ok(Status::Degraded),
        2 => Ok(Status::Unhealthy),
        n => Err(rusqlite::Error::IntegralValueOutOfRange(idx, n)),
    }
}
