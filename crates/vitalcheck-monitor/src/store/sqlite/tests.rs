//! Unit tests of the SQLite store's internals: upgrading an older file (and a read-only
//! store refusing to), the scan's query plan, grouping, and a failing batch inside a group.

use super::*;
use crate::store::{ResultRow, StateRow};
use vitalcheck::Status;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(secs).unwrap()
}

fn state(target: &str, status: &str) -> StateRow {
    StateRow {
        target: target.into(),
        status: status.into(),
        since: at(1),
        consecutive_failures: 0,
        consecutive_successes: 1,
        last_error: None,
        updated_at: at(1),
        probes: Vec::new(),
    }
}

#[test]
fn opening_a_version_one_file_upgrades_it_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        schema::migrate_to(&mut conn, 1).unwrap();
        conn.execute_batch(
            "INSERT INTO targets (name) VALUES ('api');
             INSERT INTO results (target_id, at_us, status, latency_us) VALUES (1, 1000000, 1, 42);
             INSERT INTO states VALUES (1, 'degraded', 1000000, 0, 1, NULL, 1000000);",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let conn = Connection::open(&path).unwrap();
    assert_eq!(schema::version(&conn).unwrap(), schema::LATEST);
    let rows = store.history(&HistoryQuery::new("api")).unwrap();
    assert_eq!(rows, [ResultRow::new("api", at(1), Status::Degraded, 42)]);
    assert_eq!(store.load_states().unwrap()[0].status, "degraded");
    store.record(Batch { transitions: Vec::new(), ..Batch::default() }).unwrap().wait().unwrap();
    drop(store);
    // Opening again is a no-op for the schema.
    SqliteStore::open(&path).unwrap();
    assert_eq!(schema::version(&conn).unwrap(), schema::LATEST);
}

#[test]
fn opening_a_version_two_file_upgrades_it_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        schema::migrate_to(&mut conn, 2).unwrap();
        conn.execute_batch(
            "INSERT INTO targets (name) VALUES ('api');
             INSERT INTO results (target_id, at_us, status, latency_us, error_kind, detail)
                 VALUES (1, 1000000, 2, 42, 'refused', 'connection refused');
             INSERT INTO states VALUES (1, 'unhealthy', 1000000, 3, 0, 'connection refused', 1000000);
             INSERT INTO transitions (target_id, from_status, to_status, reason, at_us)
                 VALUES (1, 'healthy', 'unhealthy', '3 consecutive failures', 1000000);",
        )
        .unwrap();
    }
    // A read-only store cannot upgrade it, and says what to do.
    let err = SqliteStore::open_read_only(&path).unwrap_err();
    assert!(matches!(err, StoreError::SchemaTooOld { found: 2, supported: schema::LATEST, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "store: schema version 2 of {} is older than this build's {}; run `vitalcheck run` once to upgrade it",
            path.display(),
            schema::LATEST
        )
    );

    let store = SqliteStore::open(&path).unwrap();
    let mut expected = ResultRow::new("api", at(1), Status::Unhealthy, 42);
    expected.error_kind = Some("refused".into());
    expected.detail = "connection refused".into();
    assert_eq!(store.history(&HistoryQuery::new("api")).unwrap(), [expected.clone()]);
    let mut scanned = Vec::new();
    assert_eq!(store.scan_results(at(0), &mut |row| scanned.push(row)).unwrap(), 1);
    assert_eq!(scanned, [expected]);
    let states = store.load_states().unwrap();
    assert_eq!((states[0].consecutive_failures, states[0].probes.as_slice()), (3, &[][..]));
    assert_eq!(store.transitions(None, at(0), 10).unwrap().len(), 1);
    store.shutdown().unwrap();
    // Upgraded, so a read-only store opens it now.
    let reader = SqliteStore::open_read_only(&path).unwrap();
    assert_eq!(reader.load_states().unwrap(), states);
}

#[test]
fn the_scan_streams_through_the_time_index_without_sorting() {
    let mut conn = Connection::open_in_memory().unwrap();
    schema::migrate(&mut conn).unwrap();
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {}", queries::SCAN)).unwrap();
    let plan: Vec<String> =
        stmt.query_map([0], |row| row.get::<_, String>(3)).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(plan.len(), 2, "{plan:?}");
    assert!(plan[0].contains("r USING INDEX results_at"), "{plan:?}");
    assert!(plan[1].contains("t USING INTEGER PRIMARY KEY"), "{plan:?}");
    assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "no sort step: {plan:?}");
}

#[test]
fn a_file_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    Connection::open(&path).unwrap().pragma_update(None, "user_version", schema::LATEST + 5).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::SchemaTooNew { .. }), "{err:?}");
    let err = SqliteStore::open_read_only(&path).unwrap_err();
    assert!(matches!(err, StoreError::SchemaTooNew { .. }), "{err:?}");
}

#[test]
fn a_bad_batch_in_a_group_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    // A long linger: the three batches below land in one group.
    let options = SqliteOptions { linger: Duration::from_millis(300), ..SqliteOptions::default() };
    let store = SqliteStore::open_with(dir.path().join("g.db"), options).unwrap();
    let good = |name: &str| Batch {
        results: vec![ResultRow::new(name, at(2), Status::Healthy, 7)],
        states: vec![state(name, "healthy")],
        ..Batch::default()
    };
    let bad = Batch {
        results: vec![ResultRow::new("bad", at(2), Status::Healthy, 7)],
        states: vec![state("bad", "purple")],
        ..Batch::default()
    };
    let acks = [store.record(good("one")).unwrap(), store.record(bad).unwrap(), store.record(good("two")).unwrap()];
    let results: Vec<bool> = acks.into_iter().map(|ack| ack.wait().is_ok()).collect();
    assert_eq!(results, [true, false, true]);
    let names: Vec<String> = store.load_states().unwrap().into_iter().map(|s| s.target).collect();
    assert_eq!(names, ["one", "two"]);
    assert!(store.history(&HistoryQuery::new("bad")).unwrap().is_empty());
    // Target ids handed out in the failed group were forgotten; new writes still work.
    store.record(good("three")).unwrap().wait().unwrap();
    assert_eq!(store.history(&HistoryQuery::new("one")).unwrap().len(), 1);
    assert_eq!(store.history(&HistoryQuery::new("three")).unwrap().len(), 1);
}

#[test]
fn the_error_names_what_failed() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("e.db")).unwrap();
    let err =
        store.record(Batch { states: vec![state("x", "purple")], ..Batch::default() }).unwrap().wait().unwrap_err();
    assert_eq!(err.to_string(), "store: write batch failed");
    assert!(std::error::Error::source(&err).is_some_and(|s| s.to_string().contains("CHECK constraint failed")));
}
