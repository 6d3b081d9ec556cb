//! The SQLite store on real files in temp dirs: the conformance suite, restarts, concurrent
//! writers, readers beside a held write lock, shutdown, a corrupt row. Read-only stores
//! are in `sqlite_read_only.rs`.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod store;

use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{probe_state, result, state, store_suite, transition, ts};
use vitalcheck::Status;
use vitalcheck_monitor::store::{Batch, HistoryQuery, SqliteOptions, SqliteStore, Store, StoreError};

fn integrity(path: &Path) -> String {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap()
}

#[test]
fn conformance_suite_on_a_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = SqliteStore::open(&path).unwrap();
    store_suite(&store);
    store.shutdown().unwrap();
    assert_eq!(integrity(&path), "ok");
}

#[test]
fn conformance_suite_with_one_row_commits_and_tiny_prune_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions {
        queue_capacity: 1,
        max_rows_per_commit: 1,
        linger: Duration::ZERO,
        max_idle_readers: 0,
        prune_chunk: 4,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(dir.path().join("store.db"), options).unwrap();
    store_suite(&store);
}

#[test]
fn restart_brings_back_states_transitions_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("restart.db");
    let at = ts(1_700_000_000, 0);
    let mut api = state("api", "unhealthy", at, 3, 0);
    api.probes = vec![probe_state("liveness", "unhealthy", at, 3), probe_state("readiness", "healthy", at, 0)];
    let batch = Batch {
        results: (0..100)
            .map(|i| result("api", ts(1_700_000_000 + i, 0), Status::Healthy).with_probe("liveness"))
            .collect(),
        states: vec![api, state("db", "healthy", at, 0, 12)],
        transitions: vec![transition("api", "healthy", "unhealthy", at)],
    };
    {
        let store = SqliteStore::open(&path).unwrap();
        // Not waited on: shutdown (here, drop) must still write it.
        let _ack = store.record(batch.clone()).unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.load_states().unwrap(), [batch.states[0].clone(), batch.states[1].clone()]);
    assert_eq!(store.history(&HistoryQuery::new("api")).unwrap(), batch.results);
    assert_eq!(store.transitions(None, at, 10).unwrap(), batch.transitions);
}

#[test]
fn creates_missing_parent_directories() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/c/vitalcheck.db");
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.path(), path);
    assert!(path.is_file());
}

#[test]
fn a_file_where_the_directory_should_be_is_a_create_dir_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("taken"), b"").unwrap();
    let err = SqliteStore::open(dir.path().join("taken/store.db")).unwrap_err();
    assert!(matches!(err, StoreError::CreateDir { .. }), "{err:?}");
}

#[test]
fn writes_after_shutdown_are_refused_and_reads_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("s.db")).unwrap();
    store.record(Batch::from_results(vec![result("x", ts(1, 0), Status::Healthy)])).unwrap().wait().unwrap();
    store.shutdown().unwrap();
    store.shutdown().unwrap();
    let err = store.record(Batch::default()).unwrap_err();
    assert!(matches!(err, StoreError::Closed), "{err:?}");
    assert_eq!(store.history(&HistoryQuery::new("x")).unwrap().len(), 1);
}

#[test]
fn concurrent_writers_are_all_acknowledged_and_grouped() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("c.db")).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for i in 0..50 {
                    let row = result(&format!("t{t}"), ts(1_700_000_000 + i, 0), Status::Healthy);
                    store.record(Batch::from_results(vec![row])).unwrap().wait().unwrap();
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    for t in 0..8 {
        assert_eq!(store.history(&HistoryQuery::new(format!("t{t}"))).unwrap().len(), 50);
    }
}

#[test]
fn reads_do_not_wait_for_a_held_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let store = SqliteStore::open(&path).unwrap();
    store.record(Batch::from_results(vec![result("r", ts(5, 0), Status::Healthy)])).unwrap().wait().unwrap();
    let other = Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE; INSERT INTO targets(name) VALUES ('held');").unwrap();
    let started = Instant::now();
    assert_eq!(store.history(&HistoryQuery::new("r")).unwrap().len(), 1);
    assert!(store.load_states().unwrap().is_empty());
    assert!(started.elapsed() < Duration::from_secs(1), "reads took {:?}", started.elapsed());
    other.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn acks_can_be_awaited() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("a.db")).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        let ack = store.record(Batch::from_results(vec![result("async", ts(9, 0), Status::Degraded)])).unwrap();
        ack.committed().await.unwrap();
    });
    assert_eq!(store.history(&HistoryQuery::new("async")).unwrap()[0].status, Status::Degraded);
}

#[test]
fn unreadable_probe_states_are_an_error_naming_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.db");
    let store = SqliteStore::open(&path).unwrap();
    let at = ts(1_700_000_000, 0);
    let batch = Batch {
        results: vec![result("api", at, Status::Healthy)],
        states: vec![state("api", "healthy", at, 0, 1), state("db", "healthy", at, 0, 1)],
        ..Batch::default()
    };
    store.record(batch).unwrap().wait().unwrap();
    let raw = Connection::open(&path).unwrap();
    raw.execute(
        "UPDATE states SET probes = '[{\"kind\": 7' WHERE target_id = (SELECT id FROM targets WHERE name = 'api')",
        [],
    )
    .unwrap();
    drop(raw);

    let reader = SqliteStore::open_read_only(&path).unwrap();
    for store in [&store, &reader] {
        let err = store.load_states().unwrap_err();
        assert!(matches!(&err, StoreError::Corrupt { target, .. } if target == "api"), "{err:?}");
        assert_eq!(err.to_string(), r#"store: the stored probe states of target "api" cannot be read"#);
        assert!(std::error::Error::source(&err).is_some_and(|e| e.to_string().contains("invalid type")), "{err:?}");
        // The other reads are not affected.
        assert_eq!(store.history(&HistoryQuery::new("api")).unwrap().len(), 1);
    }
}

#[test]
fn prune_deletes_finished_outbox_rows_and_keeps_pending_ones() {
    use vitalcheck_monitor::store::{Enqueue, OutboxUpdate};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vc.db");
    let store = SqliteStore::open(&path).unwrap();
    let message = |n: &str| ("ops".to_string(), format!("{{\"n\":\"{n}\"}}"));
    let ids = store
        .enqueue(Enqueue {
            messages: vec![message("old"), message("new"), message("pending")],
            cursors: vec![],
            at: ts(100, 0),
        })
        .unwrap();
    store.update_outbox(OutboxUpdate::Delivered { id: ids[0], at: ts(200, 0) }).unwrap();
    store.update_outbox(OutboxUpdate::Delivered { id: ids[1], at: ts(400, 0) }).unwrap();
    store.prune(ts(300, 0)).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut stmt = conn.prepare("SELECT id, state FROM outbox ORDER BY id").unwrap();
    let rows: Vec<(i64, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(rows, [(ids[1], "delivered".to_string()), (ids[2], "pending".to_string())]);
    assert_eq!(store.pending_outbox(10).unwrap().len(), 1);
}

#[test]
fn transition_ids_keep_growing_after_everything_is_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("vc.db")).unwrap();
    let old =
        vec![transition("a", "healthy", "unhealthy", ts(10, 0)), transition("a", "unhealthy", "healthy", ts(20, 0))];
    store.record(Batch { transitions: old, ..Batch::default() }).unwrap().wait().unwrap();
    let last = store.last_transition_id().unwrap();
    store.prune(ts(1_000, 0)).unwrap();
    let kept = store.transitions(None, ts(0, 0), 10).unwrap();
    assert_eq!(kept.len(), 1, "the newest is kept");
    assert_eq!(kept[0].at, ts(20, 0));
    let new = vec![transition("a", "healthy", "unhealthy", ts(2_000, 0))];
    store.record(Batch { transitions: new, ..Batch::default() }).unwrap().wait().unwrap();
    let after = store.transitions_after(last, 10).unwrap();
    assert_eq!(after.len(), 1);
    assert!(after[0].id > last, "a new transition is seen after a cursor at the old newest id");
}
