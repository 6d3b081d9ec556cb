//! `kill -9` mid-run loses nothing acknowledged (issue 5, item 6).
//!
//! The test re-runs its own executable as the child (`VITALCHECK_CRASH_DB` set, only the
//! `crash_child` test selected). The child writes batches as fast as it can and prints
//! `ACK n` once batch `n` is acknowledged. The parent SIGKILLs it mid-run, then opens the
//! file: every acknowledged batch must be there in full (first through a read-only store,
//! as `vitalcheck status` would see it, then read-write), and the database must pass
//! `PRAGMA integrity_check`.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use rusqlite::Connection;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use vitalcheck::Status;
use vitalcheck_monitor::store::{Batch, HistoryQuery, ProbeStateRow, ResultRow, SqliteStore, StateRow, Store};

const ENV: &str = "VITALCHECK_CRASH_DB";
const ROWS_PER_BATCH: i64 = 500;
const TARGETS: i64 = 10;

/// Batch `n`: `ROWS_PER_BATCH` results spread over `TARGETS` targets at times that say
/// which batch wrote them, and each target's state counting `n`.
fn batch(n: i64) -> Batch {
    let results = (0..ROWS_PER_BATCH)
        .map(|i| {
            let at = jiff::Timestamp::from_microsecond(n * ROWS_PER_BATCH + i).unwrap();
            ResultRow::new(format!("t{}", i % TARGETS), at, Status::Healthy, n as u64)
        })
        .collect();
    let states = (0..TARGETS)
        .map(|t| StateRow {
            target: format!("t{t}"),
            status: "healthy".into(),
            since: jiff::Timestamp::UNIX_EPOCH,
            consecutive_failures: 0,
            consecutive_successes: n as u32,
            last_error: None,
            updated_at: jiff::Timestamp::UNIX_EPOCH,
            probes: vec![ProbeStateRow {
                kind: "liveness".into(),
                status: "healthy".into(),
                consecutive_failures: 0,
                consecutive_successes: n as u32,
                since: jiff::Timestamp::UNIX_EPOCH,
                started_at: jiff::Timestamp::UNIX_EPOCH,
                start_period_over: true,
            }],
        })
        .collect();
    Batch { results, states, transitions: Vec::new() }
}

/// The child: does nothing unless started by `kill_9_mid_run_keeps_every_acknowledged_batch`.
#[test]
fn crash_child() {
    let Some(path) = std::env::var_os(ENV) else { return };
    let store = SqliteStore::open(path).unwrap();
    let mut out = std::io::stdout().lock();
    // Several batches in flight at once, so the kill lands amid queued and committing work.
    let mut pending = std::collections::VecDeque::new();
    // Bounded, so a child whose parent died stops by itself.
    for n in 0..2_000 {
        pending.push_back((n, store.record(batch(n)).unwrap()));
        if pending.len() >= 4 {
            let (done, ack) = pending.pop_front().unwrap();
            ack.wait().unwrap();
            writeln!(out, "ACK {done}").unwrap();
            out.flush().unwrap();
        }
    }
}

#[test]
fn kill_9_mid_run_keeps_every_acknowledged_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash/vitalcheck.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = Vec::new();
    while acked.len() < 40 {
        let line = lines.next().expect("child exited early").unwrap();
        if let Some(n) = line.strip_prefix("ACK ") {
            acked.push(n.parse::<i64>().unwrap());
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Acks printed before the kill may still sit in the pipe.
    for line in lines.map_while(Result::ok) {
        if let Some(n) = line.strip_prefix("ACK ").and_then(|n| n.parse().ok()) {
            acked.push(n);
        }
    }
    let last = *acked.iter().max().unwrap();

    // First read-only, before anything opens the file read-write (which would recover and
    // checkpoint the WAL the killed writer left behind): it must see the same.
    let reader = SqliteStore::open_read_only(&path).unwrap();
    let mut read_only_rows = vec![0; TARGETS as usize];
    let scanned = reader
        .scan_results(jiff::Timestamp::UNIX_EPOCH, &mut |row| {
            read_only_rows[row.target[1..].parse::<usize>().unwrap()] += 1;
        })
        .unwrap();
    assert!(scanned as i64 > last * ROWS_PER_BATCH, "read-only: {scanned} rows, batch {last} was acknowledged");
    let read_only_states = reader.load_states().unwrap();
    drop(reader);

    let conn = Connection::open(&path).unwrap();
    let check: String = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
    assert_eq!(check, "ok");
    drop(conn);

    let store = SqliteStore::open(&path).unwrap();
    let mut stored = 0;
    for t in 0..TARGETS {
        let rows = store.history(&HistoryQuery::new(format!("t{t}"))).unwrap();
        assert_eq!(rows.len(), read_only_rows[t as usize], "t{t}: the read-only store saw the same");
        // Batches commit whole and in order, so what is there is a prefix of batches,
        // covering at least every acknowledged one.
        let batches = rows.len() as i64 / (ROWS_PER_BATCH / TARGETS);
        assert_eq!(rows.len() as i64 % (ROWS_PER_BATCH / TARGETS), 0, "no half batch for t{t}");
        stored = batches;
        assert!(batches > last, "t{t}: {batches} batches stored, batch {last} was acknowledged");
        let expected: Vec<u64> =
            (0..batches).flat_map(|n| std::iter::repeat_n(n as u64, (ROWS_PER_BATCH / TARGETS) as usize)).collect();
        assert_eq!(rows.iter().map(|r| r.latency_us).collect::<Vec<_>>(), expected);
    }
    eprintln!("batch {last} was the last acknowledged; {stored} batches stored");
    let states = store.load_states().unwrap();
    assert_eq!(states.len() as i64, TARGETS);
    assert!(states.iter().all(|s| i64::from(s.consecutive_successes) >= last), "states as of the last ack");
    assert!(states.iter().all(|s| s.probes[0].consecutive_successes == s.consecutive_successes));
    assert_eq!(states, read_only_states, "the read-only store saw the same");
}
