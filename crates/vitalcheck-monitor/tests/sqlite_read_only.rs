//! [`SqliteStore::open_read_only`]: what `vitalcheck status` and `history` use while
//! `vitalcheck run` writes the same file. The conformance suite read back through a
//! read-only store, a writer in another process, refused writes, missing files, and a file
//! closed cleanly (no `-wal` / `-shm` left).
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[allow(dead_code, reason = "shared with sqlite_store.rs, which runs the plain `store_suite`")]
mod store;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use store::{result, state, store_suite_with_reader, ts};
use vitalcheck::Status;
use vitalcheck_monitor::store::{Batch, HistoryQuery, SqliteStore, Store, StoreError};

const CHILD_ENV: &str = "VITALCHECK_READ_ONLY_WRITER_DB";

/// `path` with `suffix` appended to its file name (`-wal`, `-shm`).
fn side_file(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[test]
fn conformance_suite_read_through_a_read_only_store_while_the_writer_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let writer = SqliteStore::open(&path).unwrap();
    let reader = SqliteStore::open_read_only(&path).unwrap();
    assert_eq!(reader.path(), path);
    store_suite_with_reader(&writer, &reader);
}

/// The child for `a_read_only_store_follows_a_writer_in_another_process`: writes batch `n`
/// (ten results at second `n`), prints `ACK n`, and waits for a line before the next one;
/// stops when stdin closes.
#[test]
fn read_only_writer_child() {
    let Some(path) = std::env::var_os(CHILD_ENV) else { return };
    let store = SqliteStore::open(path).unwrap();
    let mut out = std::io::stdout().lock();
    let mut lines = std::io::stdin().lock().lines();
    for n in 0..100 {
        let rows = (0..10).map(|i| result("child", ts(1_700_000_000 + n, i), Status::Healthy)).collect();
        let batch = Batch {
            results: rows,
            states: vec![state("child", "healthy", ts(n, 0), 0, n as u32 + 1)],
            ..Batch::default()
        };
        store.record(batch).unwrap().wait().unwrap();
        writeln!(out, "ACK {n}").unwrap();
        out.flush().unwrap();
        if !matches!(lines.next(), Some(Ok(_))) {
            break;
        }
    }
    store.shutdown().unwrap();
}

#[test]
fn a_read_only_store_follows_a_writer_in_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["read_only_writer_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut to_child = child.stdin.take().unwrap();
    // libtest may print `test read_only_writer_child ... ` on the line before the child's
    // first output, so the number is taken from wherever `ACK ` is.
    let mut acks = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| line.split("ACK ").nth(1).and_then(|n| n.trim().parse::<u32>().ok()));
    assert_eq!(acks.next(), Some(0));
    // Opened after the writer's first commit, while the writer keeps the file open.
    let reader = SqliteStore::open_read_only(&path).unwrap();
    for n in 0..5u32 {
        if n > 0 {
            writeln!(to_child, "next").unwrap();
            assert_eq!(acks.next(), Some(n));
        }
        let rows = reader.history(&HistoryQuery::new("child")).unwrap();
        assert_eq!(rows.len(), 10 * (n as usize + 1), "every committed batch, no more");
        assert_eq!(reader.load_states().unwrap()[0].consecutive_successes, n + 1);
        let mut scanned = 0;
        assert_eq!(reader.scan_results(ts(0, 0), &mut |_| scanned += 1).unwrap(), 10 * (u64::from(n) + 1));
    }
    drop(to_child); // the writer shuts down
    assert!(child.wait().unwrap().success());
    assert_eq!(reader.history(&HistoryQuery::new("child")).unwrap().len(), 50, "still readable after the writer left");
}

#[test]
fn writes_on_a_read_only_store_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.db");
    let writer = SqliteStore::open(&path).unwrap();
    writer.record(Batch::from_results(vec![result("x", ts(1, 0), Status::Healthy)])).unwrap().wait().unwrap();
    let reader = SqliteStore::open_read_only(&path).unwrap();

    let err = reader.record(Batch::from_results(vec![result("x", ts(2, 0), Status::Healthy)])).unwrap_err();
    assert!(matches!(&err, StoreError::ReadOnly { path: p } if *p == path), "{err:?}");
    assert_eq!(err.to_string(), format!("store: {} is open read-only; writes are refused", path.display()));
    assert!(matches!(reader.prune(ts(10, 0)), Err(StoreError::ReadOnly { .. })));
    reader.shutdown().unwrap();
    reader.shutdown().unwrap();
    assert!(matches!(reader.record(Batch::default()), Err(StoreError::ReadOnly { .. })), "still read-only, not closed");
    assert_eq!(reader.history(&HistoryQuery::new("x")).unwrap().len(), 1, "reads work after shutdown");
    assert_eq!(writer.history(&HistoryQuery::new("x")).unwrap().len(), 1, "nothing was written");
}

#[test]
fn a_missing_store_is_an_error_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    for path in [dir.path().join("vitalcheck.db"), dir.path().join("data/sub/vitalcheck.db")] {
        let err = SqliteStore::open_read_only(&path).unwrap_err();
        assert!(matches!(&err, StoreError::NotFound { path: p } if *p == path), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("store: no store exists at {} yet (has `vitalcheck run` run with this config?)", path.display())
        );
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file, directory, -wal or -shm created");
}

#[test]
fn a_file_that_is_not_a_database_is_a_database_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "not a database, but long enough to have a header of a hundred bytes or so. ".repeat(4))
        .unwrap();
    let err = SqliteStore::open_read_only(&path).unwrap_err();
    assert!(matches!(err, StoreError::Database { .. }), "{err:?}");
}

#[test]
fn a_cleanly_closed_file_without_wal_opens_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("closed.db");
    let writer = SqliteStore::open(&path).unwrap();
    let rows: Vec<_> = (0..20).map(|i| result("api", ts(1_700_000_000 + i, 0), Status::Healthy)).collect();
    writer.record(Batch::from_results(rows.clone())).unwrap().wait().unwrap();
    assert_eq!(writer.history(&HistoryQuery::new("api")).unwrap().len(), 20); // a pooled reader
    drop(writer);
    // Shutdown closed the pooled readers before the writer, so the writer's close
    // checkpointed the WAL and removed both side files.
    assert!(!side_file(&path, "-wal").exists() && !side_file(&path, "-shm").exists());
    let before = std::fs::read(&path).unwrap();

    let reader = SqliteStore::open_read_only(&path).unwrap();
    assert_eq!(reader.history(&HistoryQuery::new("api")).unwrap(), rows);
    let mut scanned = 0;
    reader.scan_results(ts(0, 0), &mut |_| scanned += 1).unwrap();
    assert_eq!(scanned, 20);
    drop(reader);
    assert_eq!(std::fs::read(&path).unwrap(), before, "the database file is unchanged");
    // A WAL reader needs the shared-memory index, so SQLite created the side files again;
    // a read-only connection cannot checkpoint, so it leaves them, the WAL empty.
    assert!(side_file(&path, "-shm").exists());
    assert_eq!(std::fs::metadata(side_file(&path, "-wal")).unwrap().len(), 0);

    // And a writer can still open it afterwards.
    let writer = SqliteStore::open(&path).unwrap();
    assert_eq!(writer.history(&HistoryQuery::new("api")).unwrap().len(), 20);
}
