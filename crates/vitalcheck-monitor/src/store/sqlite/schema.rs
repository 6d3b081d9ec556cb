//! Connection settings and the schema, versioned by `PRAGMA user_version`.
//!
//! Each migration step runs in its own transaction together with the `user_version`
//! bump, so a crash mid-migration leaves the previous version intact, and running the
//! migrations again is a no-op. Steps are only ever appended, never edited.

use crate::store::{SqliteOptions, StoreError};
use rusqlite::{Connection, TransactionBehavior};

/// Migration steps; step `i` takes the schema from version `i` to `i + 1`.
///
/// Times are unix microseconds (`*_us`). `results.status` is 0 healthy, 1 degraded,
/// 2 unhealthy. Targets are named once in `targets`; the other tables refer to its id.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: targets, results, states.
    "CREATE TABLE IF NOT EXISTS targets (
         id   INTEGER PRIMARY KEY,
         name TEXT NOT NULL UNIQUE
     );
     CREATE TABLE IF NOT EXISTS results (
         target_id  INTEGER NOT NULL REFERENCES targets(id),
         at_us      INTEGER NOT NULL,
         status     INTEGER NOT NULL CHECK (status IN (0, 1, 2)),
         latency_us INTEGER NOT NULL,
         error_kind TEXT,
         detail     TEXT NOT NULL DEFAULT ''
     );
     CREATE INDEX IF NOT EXISTS results_target_at ON results(target_id, at_us);
     CREATE TABLE IF NOT EXISTS states (
         target_id             INTEGER PRIMARY KEY REFERENCES targets(id),
         status                TEXT NOT NULL CHECK (status IN ('unknown', 'starting', 'healthy', 'degraded', 'unhealthy')),
         since_us              INTEGER NOT NULL,
         consecutive_failures  INTEGER NOT NULL,
         consecutive_successes INTEGER NOT NULL,
         last_error            TEXT,
         updated_us            INTEGER NOT NULL
     );",
    // 2: transitions, and an index on result time for retention pruning.
    "CREATE TABLE IF NOT EXISTS transitions (
         id          INTEGER PRIMARY KEY,
         target_id   INTEGER NOT NULL REFERENCES targets(id),
         from_status TEXT NOT NULL CHECK (from_status IN ('unknown', 'starting', 'healthy', 'degraded', 'unhealthy')),
         to_status   TEXT NOT NULL CHECK (to_status IN ('unknown', 'starting', 'healthy', 'degraded', 'unhealthy')),
         reason      TEXT NOT NULL,
         at_us       INTEGER NOT NULL
     );
     CREATE INDEX IF NOT EXISTS transitions_at ON transitions(at_us);
     CREATE INDEX IF NOT EXISTS transitions_target_at ON transitions(target_id, at_us);
     CREATE INDEX IF NOT EXISTS results_at ON results(at_us);",
    // 3: which probe produced a result (NULL: the target's own), and each probe's state as
    // a JSON array (see `sqlite/probes.rs`).
    "ALTER TABLE results ADD COLUMN probe TEXT;
     ALTER TABLE states ADD COLUMN probes TEXT NOT NULL DEFAULT '[]';",
    // 4: the alert outbox (messages owed to notifiers: the payload only, never a URL,
    // header or secret) and each notifier's cursor in `transitions` (see `sqlite/outbox.rs`).
    "CREATE TABLE IF NOT EXISTS outbox (
         id              INTEGER PRIMARY KEY,
         notifier        TEXT NOT NULL,
         payload         TEXT NOT NULL,
         created_us      INTEGER NOT NULL,
         attempts        INTEGER NOT NULL DEFAULT 0,
         next_attempt_us INTEGER NOT NULL,
         state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
         done_us         INTEGER,
         last_error      TEXT
     );
     CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(state, next_attempt_us);
     CREATE TABLE IF NOT EXISTS notify_cursors (
         notifier           TEXT PRIMARY KEY,
         last_transition_id INTEGER NOT NULL
     );",
];

/// The schema version this build writes.
pub(crate) const LATEST: i64 = MIGRATIONS.len() as i64;

/// Settings for the one read-write connection: WAL, `synchronous=NORMAL`, a busy timeout.
///
/// With WAL and `NORMAL`, a commit is in the WAL file (in the OS page cache) when it
/// returns: it survives the process being killed; only a power loss or OS crash can
/// take back the last commits (the database itself stays consistent).
pub(crate) fn configure_writer(conn: &Connection, tuning: &SqliteOptions) -> Result<(), StoreError> {
    let db = |e| StoreError::db("configure", e);
    conn.busy_timeout(tuning.busy_timeout).map_err(db)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).map_err(db)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Invalid { what: format!("journal mode: SQLite kept {mode:?}, not WAL") });
    }
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(db)?;
    // A larger page cache and fewer, larger checkpoints: with many targets each batch
    // touches pages all over the (target, time) index (measured in benches/store.rs).
    conn.pragma_update(None, "cache_size", -i64::from(tuning.cache_kib)).map_err(db)?;
    conn.pragma_update(None, "wal_autocheckpoint", tuning.wal_autocheckpoint_pages).map_err(db)?;
    // After a checkpoint, shrink a WAL that grew past 64 MiB.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024).map_err(db)?;
    Ok(())
}

/// The schema version of the open database.
pub(crate) fn version(conn: &Connection) -> Result<i64, StoreError> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(|e| StoreError::db("read schema version", e))
}

/// Brings the schema up to [`LATEST`]; a no-op when it already is.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    migrate_to(conn, LATEST)
}

/// Brings the schema up to version `target` (tests use it to build older files).
pub(crate) fn migrate_to(conn: &mut Connection, target: i64) -> Result<(), StoreError> {
    let db = |e| StoreError::db("migrate", e);
    let found = version(conn)?;
    if found > LATEST {
        return Err(StoreError::SchemaTooNew { found, supported: LATEST });
    }
    for (step, sql) in (found..target).zip(MIGRATIONS.iter().skip(usize::try_from(found).unwrap_or(0))) {
        // IMMEDIATE: take the write lock first, so two processes opening the same new
        // file at once migrate one after the other.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        if version(&tx)? == step {
            tx.execute_batch(sql).map_err(db)?;
            tx.pragma_update(None, "user_version", step + 1).map_err(db)?;
        }
        tx.commit().map_err(db)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_names(conn: &Connection) -> Vec<String> {
        let mut stmt = conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").unwrap();
        stmt.query_map([], |row| row.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn migrates_an_empty_database_to_latest() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        assert_eq!(table_names(&conn), ["notify_cursors", "outbox", "results", "states", "targets", "transitions"]);
    }

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
    }

    #[test]
    fn upgrades_from_version_one_keeping_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 1).unwrap();
        assert_eq!(version(&conn).unwrap(), 1);
        assert_eq!(table_names(&conn), ["results", "states", "targets"]);
        conn.execute("INSERT INTO targets(name) VALUES ('api')", []).unwrap();
        conn.execute("INSERT INTO results(target_id, at_us, status, latency_us) VALUES (1, 5, 0, 9)", []).unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM results", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn upgrades_from_version_two_keeping_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 2).unwrap();
        assert_eq!(version(&conn).unwrap(), 2);
        conn.execute_batch(
            "INSERT INTO targets(name) VALUES ('api');
             INSERT INTO results(target_id, at_us, status, latency_us) VALUES (1, 5, 0, 9);
             INSERT INTO states VALUES (1, 'healthy', 5, 0, 1, NULL, 5);
             INSERT INTO transitions(target_id, from_status, to_status, reason, at_us)
                 VALUES (1, 'unknown', 'healthy', 'first success', 5);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        let count = |table: &str| -> i64 {
            conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).unwrap()
        };
        assert_eq!([count("results"), count("states"), count("transitions")], [1, 1, 1]);
        let probe: Option<String> = conn.query_row("SELECT probe FROM results", [], |r| r.get(0)).unwrap();
        assert_eq!(probe, None, "old results are the target's own probe");
        let probes: String = conn.query_row("SELECT probes FROM states", [], |r| r.get(0)).unwrap();
        assert_eq!(probes, "[]", "old states have no per-probe part");
    }

    #[test]
    fn upgrades_from_version_three_with_an_empty_outbox() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 3).unwrap();
        conn.execute_batch(
            "INSERT INTO targets(name) VALUES ('api');
             INSERT INTO transitions(target_id, from_status, to_status, reason, at_us)
                 VALUES (1, 'healthy', 'unhealthy', 'down', 5);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        let count = |table: &str| -> i64 {
            conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).unwrap()
        };
        assert_eq!([count("transitions"), count("outbox"), count("notify_cursors")], [1, 0, 0]);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", LATEST + 1).unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(
            matches!(err, StoreError::SchemaTooNew { found, supported } if found == LATEST + 1 && supported == LATEST)
        );
    }
}
