//! The conformance suite every [`Store`] must pass (STYLE.md, practice 9).
//!
//! `store_suite(&store)` runs every section against one fresh store. Sections use their
//! own target names and time ranges, so they do not see each other's rows (except the
//! scan's "everything since" section, which only checks order and counts there).
//!
//! `store_suite_with_reader(&store, &reader)` writes through `store` and reads everything
//! back through `reader`: a second handle on the same data (for SQLite, a store opened
//! read-only on the same file while `store` is still open and writing).

use jiff::Timestamp;
use vitalcheck::Status;
use vitalcheck_monitor::store::{
    Batch, Enqueue, HistoryQuery, Order, OutboxUpdate, ProbeStateRow, PruneStats, ResultRow, StateRow, StatusCounts,
    Store, TransitionRow,
};

/// Runs every section of the suite against `store`, which must be empty.
pub(crate) fn store_suite(store: &dyn Store) {
    store_suite_with_reader(store, store);
}

/// Runs every section, writing (and pruning) through `store` and reading through `reader`,
/// which must see `store`'s data. Both must start empty.
pub(crate) fn store_suite_with_reader(store: &dyn Store, reader: &dyn Store) {
    let s = Split { store, reader };
    empty_store_reads_nothing(s);
    history_in_order_with_since_until_limit(s);
    results_keep_their_probe(s);
    scan_results_of_every_target_oldest_first(s);
    states_upsert_and_load(s);
    states_keep_each_probes_part(s);
    transitions_by_target_and_since(s);
    status_counts_by_target(s);
    a_rejected_batch_writes_nothing(s);
    prune_deletes_only_old_rows(s);
    outbox_cursors_messages_and_outcomes(s);
}

/// The store written through and the store read through (the same one, or two handles).
#[derive(Clone, Copy)]
struct Split<'a> {
    store: &'a dyn Store,
    reader: &'a dyn Store,
}

/// A timestamp `secs` seconds plus `micros` microseconds after the epoch.
pub(crate) fn ts(secs: i64, micros: i64) -> Timestamp {
    Timestamp::from_microsecond(secs * 1_000_000 + micros).expect("timestamp in range")
}

/// A result of `target` at `at`, with a detail naming it so rows can be told apart.
pub(crate) fn result(target: &str, at: Timestamp, status: Status) -> ResultRow {
    ResultRow {
        target: target.to_owned(),
        at,
        status,
        latency_us: 1_000 + at.as_microsecond().unsigned_abs() % 1_000,
        error_kind: (status == Status::Unhealthy).then(|| "refused".to_owned()),
        detail: format!("{target} at {at}"),
        probe: None,
    }
}

/// A state row of `target`.
pub(crate) fn state(target: &str, status: &str, since: Timestamp, failures: u32, successes: u32) -> StateRow {
    StateRow {
        target: target.to_owned(),
        status: status.to_owned(),
        since,
        consecutive_failures: failures,
        consecutive_successes: successes,
        last_error: (failures > 0).then(|| "connection refused".to_owned()),
        updated_at: since,
        probes: Vec::new(),
    }
}

/// One probe's part of a state: `kind`, healthy since `since` after a start at `since - 30 s`.
pub(crate) fn probe_state(kind: &str, status: &str, since: Timestamp, failures: u32) -> ProbeStateRow {
    ProbeStateRow {
        kind: kind.to_owned(),
        status: status.to_owned(),
        consecutive_failures: failures,
        consecutive_successes: u32::from(failures == 0) * 5,
        since,
        started_at: since - jiff::SignedDuration::from_secs(30),
        start_period_over: kind != "startup" || failures == 0,
    }
}

/// A transition of `target`.
pub(crate) fn transition(target: &str, from: &str, to: &str, at: Timestamp) -> TransitionRow {
    TransitionRow {
        target: target.to_owned(),
        from: from.to_owned(),
        to: to.to_owned(),
        reason: format!("{from}->{to}"),
        at,
    }
}

fn record(s: Split<'_>, batch: Batch) {
    s.store.record(batch).expect("queued").wait().expect("committed");
}

/// Every result `reader` scans at or after `since`, and the count it returned.
fn scan(reader: &dyn Store, since: Timestamp) -> (Vec<ResultRow>, u64) {
    let mut rows = Vec::new();
    let visited = reader.scan_results(since, &mut |row| rows.push(row)).expect("scanned");
    (rows, visited)
}

fn empty_store_reads_nothing(s: Split<'_>) {
    assert!(s.reader.load_states().unwrap().is_empty());
    assert!(s.reader.history(&HistoryQuery::new("nobody")).unwrap().is_empty());
    assert!(s.reader.transitions(None, Timestamp::UNIX_EPOCH, 10).unwrap().is_empty());
    assert_eq!(s.reader.status_counts("nobody", Timestamp::UNIX_EPOCH).unwrap(), StatusCounts::default());
    assert_eq!(scan(s.reader, Timestamp::UNIX_EPOCH), (Vec::new(), 0));
    record(s, Batch::default());
}

fn history_in_order_with_since_until_limit(s: Split<'_>) {
    let base = 1_700_000_000;
    // Written out of order, in three batches, with another target interleaved and two
    // rows at the same microsecond (kept in write order).
    let rows: Vec<ResultRow> = [5, 1, 3, 0, 2, 4, 4, 6]
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let mut row =
                result("hist-a", ts(base + s, 7), if s % 3 == 0 { Status::Unhealthy } else { Status::Healthy });
            row.detail = format!("row {i}");
            row
        })
        .collect();
    record(s, Batch::from_results(rows[..3].to_vec()));
    record(s, Batch::from_results(vec![result("hist-b", ts(base + 2, 0), Status::Healthy)]));
    record(s, Batch::from_results(rows[3..6].to_vec()));
    record(s, Batch::from_results(rows[6..].to_vec()));

    let mut expected = rows.clone();
    expected.sort_by_key(|row| row.at); // stable: equal times keep write order
    let all = s.reader.history(&HistoryQuery::new("hist-a")).unwrap();
    assert_eq!(all, expected, "all rows, oldest first, every field round-trips");

    let window = HistoryQuery::new("hist-a").with_since(ts(base + 2, 7)).with_until(ts(base + 5, 7));
    let got: Vec<Timestamp> = s.reader.history(&window).unwrap().iter().map(|r| r.at).collect();
    assert_eq!(
        got,
        [ts(base + 2, 7), ts(base + 3, 7), ts(base + 4, 7), ts(base + 4, 7)],
        "since inclusive, until exclusive"
    );

    let first_two = s.reader.history(&window.clone().with_limit(2)).unwrap();
    assert_eq!(first_two, expected[2..4]);
    let newest = s.reader.history(&HistoryQuery::new("hist-a").with_order(Order::NewestFirst).with_limit(3)).unwrap();
    let mut tail = expected[5..].to_vec();
    tail.reverse();
    assert_eq!(newest, tail, "newest first takes the last rows");
    assert!(s.reader.history(&HistoryQuery::new("hist-a").with_limit(0)).unwrap().is_empty());
    assert_eq!(s.reader.history(&HistoryQuery::new("hist-b")).unwrap().len(), 1);
}

fn results_keep_their_probe(s: Split<'_>) {
    let at = |i: i64| ts(1_710_000_000 + i, 0);
    let rows = vec![
        result("probe-a", at(0), Status::Healthy),
        result("probe-a", at(1), Status::Unhealthy).with_probe("startup"),
        result("probe-a", at(2), Status::Healthy).with_probe("liveness"),
        result("probe-a", at(2), Status::Degraded).with_probe("readiness"),
    ];
    assert_eq!(rows[1].probe.as_deref(), Some("startup"));
    record(s, Batch::from_results(rows.clone()));
    assert_eq!(s.reader.history(&HistoryQuery::new("probe-a")).unwrap(), rows, "history keeps the probe");
    let newest = s.reader.history(&HistoryQuery::new("probe-a").with_order(Order::NewestFirst)).unwrap();
    assert_eq!(newest[0].probe.as_deref(), Some("readiness"));
    let (scanned, _) = scan(s.reader, at(0));
    let scanned: Vec<ResultRow> = scanned.into_iter().filter(|row| row.target == "probe-a").collect();
    assert_eq!(scanned, rows, "scan_results keeps the probe");
}

fn scan_results_of_every_target_oldest_first(s: Split<'_>) {
    // After every other section's rows, so a scan from `at(0)` sees only these.
    let at = |i: i64, us: i64| ts(2_000_000_000 + i, us);
    let batches = [
        vec![result("scan-b", at(3, 0), Status::Healthy), result("scan-a", at(1, 5), Status::Healthy)],
        vec![result("scan-c", at(0, 0), Status::Unhealthy), result("scan-a", at(3, 0), Status::Degraded)],
        vec![result("scan-c", at(1, 5), Status::Healthy).with_probe("liveness")],
        vec![result("scan-a", at(5, 0), Status::Healthy), result("scan-b", at(0, 0), Status::Healthy)],
    ];
    for batch in &batches {
        record(s, Batch::from_results(batch.clone()));
    }
    let mut expected: Vec<ResultRow> = batches.concat();
    expected.sort_by_key(|row| row.at); // stable: rows at the same time keep write order

    let (all, visited) = scan(s.reader, at(0, 0));
    assert_eq!(all, expected, "every target, oldest first, same times in write order");
    assert_eq!(visited, 7);
    let (from, visited) = scan(s.reader, at(1, 5));
    assert_eq!(from, expected[2..], "since is inclusive");
    assert_eq!(visited, 5);
    assert_eq!(scan(s.reader, at(5, 1)), (Vec::new(), 0), "nothing after the last row");

    let (everything, visited) = scan(s.reader, Timestamp::UNIX_EPOCH);
    assert_eq!(visited, everything.len() as u64, "the count is what was handed over");
    assert!(everything.windows(2).all(|w| w[0].at <= w[1].at), "oldest first across all sections' rows");
    assert!(everything.ends_with(&expected));
}

fn states_upsert_and_load(s: Split<'_>) {
    let t0 = ts(1_700_000_100, 0);
    let batch = Batch {
        states: vec![state("state-b", "starting", t0, 0, 0), state("state-a", "healthy", t0, 0, 4)],
        ..Batch::default()
    };
    record(s, batch);
    let later = state("state-a", "unhealthy", ts(1_700_000_200, 1), 3, 0);
    // The last row for a target in a batch wins.
    let batch = Batch { states: vec![state("state-a", "degraded", t0, 1, 0), later.clone()], ..Batch::default() };
    record(s, batch);

    let states: Vec<StateRow> =
        s.reader.load_states().unwrap().into_iter().filter(|st| st.target.starts_with("state-")).collect();
    assert_eq!(states, [later, state("state-b", "starting", t0, 0, 0)], "one row per target, by name");
}

fn states_keep_each_probes_part(s: Split<'_>) {
    let t0 = ts(1_700_000_400, 250);
    let all_three = vec![
        probe_state("startup", "healthy", t0, 0),
        probe_state("liveness", "unhealthy", ts(1_700_000_401, 9), 3),
        probe_state("readiness", "starting", t0, 0),
    ];
    let mut a = state("probes-a", "unhealthy", t0, 3, 0);
    a.probes = all_three;
    let mut b = state("probes-b", "healthy", t0, 0, 5);
    b.probes = vec![probe_state("own", "healthy", t0, 0)];
    record(s, Batch { states: vec![a.clone(), b.clone()], ..Batch::default() });
    let load = || -> Vec<StateRow> {
        s.reader.load_states().unwrap().into_iter().filter(|st| st.target.starts_with("probes-")).collect()
    };
    assert_eq!(load(), [a.clone(), b.clone()], "every probe's part round-trips");

    // An upsert replaces the whole list.
    a.probes = vec![probe_state("liveness", "healthy", ts(1_700_000_500, 0), 0)];
    b.probes.clear();
    record(s, Batch { states: vec![a.clone(), b.clone()], ..Batch::default() });
    assert_eq!(load(), [a, b]);
}

fn transitions_by_target_and_since(s: Split<'_>) {
    let at = |s: i64| ts(1_800_000_000 + s, 0);
    let batch = Batch {
        transitions: vec![
            transition("tr-a", "unknown", "starting", at(0)),
            transition("tr-b", "unknown", "healthy", at(1)),
            transition("tr-a", "starting", "healthy", at(2)),
            transition("tr-a", "healthy", "unhealthy", at(3)),
        ],
        ..Batch::default()
    };
    record(s, batch.clone());
    let all = s.reader.transitions(None, at(0), 100).unwrap();
    assert_eq!(all, batch.transitions, "every target, oldest first");
    let a = s.reader.transitions(Some("tr-a"), at(1), 100).unwrap();
    assert_eq!(a, [batch.transitions[2].clone(), batch.transitions[3].clone()]);
    assert_eq!(s.reader.transitions(None, at(0), 2).unwrap(), batch.transitions[..2]);
    assert!(s.reader.transitions(Some("tr-none"), at(0), 100).unwrap().is_empty());
}

fn status_counts_by_target(s: Split<'_>) {
    let at = |s: i64| ts(1_750_000_000 + s, 0);
    let statuses = [Status::Healthy, Status::Healthy, Status::Degraded, Status::Unhealthy, Status::Healthy];
    let rows = statuses.iter().enumerate().map(|(i, &st)| result("count-a", at(i as i64), st)).collect();
    record(s, Batch::from_results(rows));
    record(s, Batch::from_results(vec![result("count-b", at(0), Status::Unhealthy)]));
    let counts = s.reader.status_counts("count-a", at(0)).unwrap();
    assert_eq!(counts, StatusCounts { healthy: 3, degraded: 1, unhealthy: 1 });
    assert_eq!(counts.uptime(), Some(0.8));
    let recent = s.reader.status_counts("count-a", at(3)).unwrap();
    assert_eq!(recent, StatusCounts { healthy: 1, degraded: 0, unhealthy: 1 });
}

fn a_rejected_batch_writes_nothing(s: Split<'_>) {
    let at = ts(1_700_000_300, 0);
    let batch = Batch {
        results: vec![result("atomic-a", at, Status::Healthy)],
        states: vec![state("atomic-a", "sideways", at, 0, 1)],
        ..Batch::default()
    };
    let err = s.store.record(batch).unwrap().wait();
    assert!(err.is_err(), "a state outside the five names is rejected: {err:?}");
    assert!(s.reader.history(&HistoryQuery::new("atomic-a")).unwrap().is_empty(), "no part of it is written");
    // The store keeps working afterwards.
    record(s, Batch::from_results(vec![result("atomic-a", at, Status::Healthy)]));
    assert_eq!(s.reader.history(&HistoryQuery::new("atomic-a")).unwrap().len(), 1);
}

fn prune_deletes_only_old_rows(s: Split<'_>) {
    // Far in the past, so no other section's rows are older than the cut.
    let at = |s: i64| ts(1_000_000_000 + s, 0);
    let old: Vec<ResultRow> = (0..25).map(|i| result("prune-a", at(i), Status::Healthy)).collect();
    let kept = result("prune-a", at(100), Status::Degraded);
    let batch = Batch {
        results: [old, vec![kept.clone()]].concat(),
        states: vec![state("prune-a", "degraded", at(0), 1, 0)],
        transitions: vec![
            transition("prune-a", "healthy", "degraded", at(1)),
            transition("prune-a", "degraded", "healthy", at(100)),
        ],
    };
    record(s, batch);
    let stats = s.store.prune(at(50)).unwrap();
    assert_eq!(stats, PruneStats { results: 25, transitions: 1 });
    assert_eq!(s.reader.history(&HistoryQuery::new("prune-a")).unwrap(), [kept]);
    assert_eq!(s.reader.transitions(Some("prune-a"), at(0), 10).unwrap().len(), 1);
    assert!(s.reader.load_states().unwrap().iter().any(|st| st.target == "prune-a"), "states are kept");
    assert_eq!(s.store.prune(at(50)).unwrap(), PruneStats::default(), "nothing left to prune");
}

fn cursor(reader: &dyn Store, notifier: &str) -> Option<i64> {
    reader.notify_cursors().unwrap().into_iter().find(|(n, _)| n == notifier).map(|(_, c)| c)
}

fn outbox_cursors_messages_and_outcomes(s: Split<'_>) {
    let at = |x: i64| ts(1_100_000_000 + x, 0);
    let before = s.reader.last_transition_id().unwrap();
    let transitions = vec![
        transition("outbox-a", "healthy", "unhealthy", at(1)),
        transition("outbox-a", "unhealthy", "healthy", at(2)),
    ];
    record(s, Batch { transitions, ..Batch::default() });
    let read = s.reader.transitions_after(before, 10).unwrap();
    assert_eq!(read.len(), 2);
    assert!(read[0].id > before && read[1].id > read[0].id, "ids grow");
    assert_eq!(
        (read[0].row.target.as_str(), read[0].row.to.as_str(), read[0].row.at),
        ("outbox-a", "unhealthy", at(1))
    );
    assert_eq!(s.reader.last_transition_id().unwrap(), read[1].id);
    assert_eq!(s.reader.transitions_after(read[0].id, 10).unwrap().len(), 1, "strictly after");
    assert_eq!(s.reader.transitions_after(before, 1).unwrap().len(), 1, "limit");

    assert_eq!(cursor(s.reader, "outbox-n"), None);
    let messages =
        vec![("outbox-n".to_string(), r#"{"m":1}"#.to_string()), ("outbox-n".to_string(), r#"{"m":2}"#.to_string())];
    let ids = s.store.enqueue(Enqueue { messages, cursors: vec![("outbox-n".into(), read[1].id)], at: at(3) }).unwrap();
    assert_eq!(ids.len(), 2);
    assert!(ids[1] > ids[0]);
    assert_eq!(cursor(s.reader, "outbox-n"), Some(read[1].id));
    s.store.enqueue(Enqueue { messages: vec![], cursors: vec![("outbox-n".into(), before)], at: at(3) }).unwrap();
    assert_eq!(cursor(s.reader, "outbox-n"), Some(read[1].id), "a cursor never moves back");

    let pending = |s: Split<'_>| -> Vec<_> {
        s.reader.pending_outbox(100).unwrap().into_iter().filter(|r| r.notifier == "outbox-n").collect()
    };
    let rows = pending(s);
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
    assert_eq!(
        (rows[0].payload.as_str(), rows[0].attempts, rows[0].created, rows[0].next_attempt),
        (r#"{"m":1}"#, 0, at(3), at(3))
    );

    let error = "answered HTTP 503".to_string();
    s.store
        .update_outbox(OutboxUpdate::Retry { id: ids[0], attempts: 1, next_attempt: at(10), error: error.clone() })
        .unwrap();
    let rows = pending(s);
    assert_eq!(
        rows.iter().map(|r| (r.id, r.attempts)).collect::<Vec<_>>(),
        [(ids[1], 0), (ids[0], 1)],
        "the earliest due first"
    );
    assert_eq!(rows[1].next_attempt, at(10));
    s.store.update_outbox(OutboxUpdate::Delivered { id: ids[1], at: at(4) }).unwrap();
    s.store.update_outbox(OutboxUpdate::Failed { id: ids[0], attempts: 2, at: at(11), error }).unwrap();
    assert!(pending(s).is_empty(), "delivered and given-up messages are no longer pending");
}
