//! The table's logic without I/O: results in, states, transitions, rows and reloads out.

use super::clock::since_epoch;
use super::messages::{self, Messages};
use super::plan::Slot;
use super::plan::job_id;
use super::restore;
use super::table::Table;
use crate::config::Config;
use crate::history::{HistoryConfig, SharedHistoryConfig};
use crate::scheduler::JobId;
use crate::store::StateRow;
use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use vitalcheck::probe::{ErrorKind, Observation, ProbeError};
use vitalcheck::state::TargetStatus;

fn config(text: &str) -> Config {
    Config::parse_with_env(text, "t.toml", |v| (v == "HOME").then(|| "/nonexistent".into())).unwrap()
}

fn history() -> SharedHistoryConfig {
    HistoryConfig::default().validate().unwrap()
}

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).unwrap()
}

fn ok() -> Result<Observation, ProbeError> {
    Ok(Observation::healthy(Duration::from_millis(3), "HTTP 200"))
}

fn refused() -> Result<Observation, ProbeError> {
    Err(ProbeError::new(ErrorKind::Refused, "tcp://127.0.0.1:1", "nothing listening")
        .with_elapsed(Duration::from_micros(90)))
}

const TWO: &str = r#"
[[groups]]
name = "pool"
[[targets]]
name = "a"
target = "tcp://127.0.0.1:1"
group = "pool"
failure_threshold = 2
[[targets]]
name = "b"
target = "tcp://127.0.0.1:2"
group = "pool"
"#;

fn build(text: &str) -> Table {
    Table::build(&config(text), Table::default(), &HashMap::new(), &history(), t(0)).0
}

#[test]
fn results_drive_state_history_rows_and_transitions() {
    let mut table = build(TWO);
    let a = JobId::new("a");
    let first = table.apply(&a, t(1), ok()).unwrap();
    let event = first.transition.unwrap();
    assert_eq!((event.from, event.to), (TargetStatus::Unknown, TargetStatus::Healthy));
    assert_eq!(&*event.reason, "1 success after start: HTTP 200", "no `liveness probe:` prefix on a single probe");
    assert_eq!(event.group.as_deref(), Some("pool"));
    assert_eq!(first.row.probe, None);
    assert!(first.regated.is_none());

    let blip = table.apply(&a, t(2), refused()).unwrap();
    assert!(blip.transition.is_none(), "one failure below the threshold of 2");
    assert_eq!(blip.row.error_kind.as_deref(), Some("refused"));
    assert_eq!(blip.row.detail, "connection refused: nothing listening");
    assert_eq!(blip.row.latency_us, 90);
    let down = table.apply(&a, t(3), refused()).unwrap().transition.unwrap();
    assert_eq!(down.to, TargetStatus::Unhealthy);
    assert_eq!(&*down.reason, "2 consecutive failures: connection refused: nothing listening");
    assert_eq!(down.at, t(3));

    let detail = table.get("a").unwrap().detail(t(4));
    assert_eq!(detail.recent.len(), 3);
    assert_eq!(detail.last_failure.unwrap().at, t(3));
    assert_eq!(detail.probes[0].consecutive_failures, 2);
    assert!(table.apply(&JobId::new("gone"), t(5), ok()).is_none());

    let rows = table.take_dirty_states(t(6));
    assert_eq!(rows.len(), 1, "only `a` changed");
    assert_eq!(rows[0].status, "unhealthy");
    assert_eq!(rows[0].consecutive_failures, 2);
    assert_eq!(rows[0].last_error.as_deref(), Some("connection refused: nothing listening"));
    assert!(table.take_dirty_states(t(7)).is_empty());
}

#[test]
fn groups_list_members_in_config_order() {
    let mut table = build(TWO);
    table.apply(&JobId::new("b"), t(1), ok());
    let members: Vec<_> = table.group("pool").unwrap().map(|v| (v.name.to_string(), v.status)).collect();
    assert_eq!(members, [("a".into(), TargetStatus::Unknown), ("b".into(), TargetStatus::Healthy)]);
    assert!(table.group("other").is_none());
}

const GATED: &str = r#"
[[targets]]
name = "svc"
target = "tcp://127.0.0.1:1"
[targets.startup]
failure_threshold = 2
[targets.liveness]
[targets.readiness]
"#;

#[test]
fn startup_success_regates_to_liveness_and_readiness() {
    let mut table = build(GATED);
    let due: Vec<JobId> = table.due_jobs().into_iter().map(|j| j.id).collect();
    assert_eq!(due, [job_id("svc", Slot::Startup)]);
    let ignored = table.apply(&job_id("svc", Slot::Readiness), t(1), ok()).unwrap();
    assert!(ignored.transition.is_none(), "readiness is not due before startup");
    let up = table.apply(&job_id("svc", Slot::Startup), t(2), ok()).unwrap();
    assert_eq!(up.regated.as_deref(), Some("svc"));
    assert_eq!(up.row.probe.as_deref(), Some("startup"));
    let due: Vec<JobId> = table.due_jobs().into_iter().map(|j| j.id).collect();
    assert_eq!(due, [job_id("svc", Slot::Liveness), job_id("svc", Slot::Readiness)]);
    table.apply(&job_id("svc", Slot::Liveness), t(3), ok());
    let ready = table.apply(&job_id("svc", Slot::Readiness), t(3), ok()).unwrap().transition.unwrap();
    assert_eq!(ready.to, TargetStatus::Healthy);
    assert!(ready.reason.starts_with("readiness probe: "), "{}", ready.reason);
}

#[test]
fn state_rows_restore_every_probe() {
    let mut table = build(GATED);
    table.apply(&job_id("svc", Slot::Startup), t(1), ok());
    table.apply(&job_id("svc", Slot::Liveness), t(2), refused());
    let row = table.take_dirty_states(t(3)).pop().unwrap();
    assert_eq!(row.probes.len(), 3);
    let entry = table.get("svc").unwrap().entry;
    let restored = restore::from_row(&row, &entry.slots).unwrap();
    assert_eq!(restored, entry.state);
    // Stored at start: the next engine continues from the row.
    let stored: HashMap<String, StateRow> = [(row.target.clone(), row)].into();
    let (again, report) = Table::build(&config(GATED), Table::default(), &stored, &history(), t(10));
    assert_eq!(again.get("svc").unwrap().entry.state, entry.state);
    assert_eq!(report.added, 1);
}

#[test]
fn a_row_that_does_not_fit_the_slots_starts_over() {
    let mut table = build(TWO);
    table.apply(&JobId::new("a"), t(1), ok());
    let mut row = table.take_dirty_states(t(2)).pop().unwrap();
    let gated = build(GATED.replace("svc", "a").as_str());
    assert!(restore::from_row(&row, &gated.get("a").unwrap().entry.slots).is_none());
    row.probes.clear();
    let single = table.get("a").unwrap().entry;
    let legacy = restore::from_row(&row, &single.slots).unwrap();
    assert_eq!(legacy.status(), TargetStatus::Healthy, "rows without probes restore a single probe");
    row.status = "bogus".into();
    assert!(restore::from_row(&row, &single.slots).is_none());
}

#[test]
fn reload_keeps_resets_adds_and_removes() {
    let mut table = build(TWO);
    table.apply(&JobId::new("a"), t(1), ok());
    table.apply(&JobId::new("b"), t(1), ok());
    let since_a = table.get("a").unwrap().entry.state.since();
    let next = r#"
[[targets]]
name = "a"
target = "tcp://127.0.0.1:9"
failure_threshold = 1
[[targets]]
name = "c"
target = "tcp://127.0.0.1:3"
"#;
    let gated_b = GATED.replace("svc", "b");
    let text = format!("{next}{gated_b}");
    let (mut table, report) = Table::build(&config(&text), table, &HashMap::new(), &history(), t(5));
    assert_eq!((report.added, report.removed, report.reset, report.kept), (1, 0, 1, 1));
    let a = table.get("a").unwrap();
    assert_eq!(a.entry.state.since(), since_a);
    assert_eq!(a.entry.history.len(), 1, "history kept");
    assert!(a.view.group.is_none(), "group follows the new config");
    assert_eq!(&*a.entry.slots[0].shown, "tcp://127.0.0.1:9");
    // The new threshold of 1 applies at once.
    let down = table.apply(&JobId::new("a"), t(6), refused()).unwrap().transition.unwrap();
    assert_eq!(down.to, TargetStatus::Unhealthy);
    let b = table.get("b").unwrap().entry;
    assert_eq!(b.state.status(), TargetStatus::Unknown, "b changed shape: starts over");
    assert_eq!(b.state.since(), since_epoch(t(5)));
    assert_eq!(b.history.len(), 1, "but keeps its history");
    let (table, report) = Table::build(&config(next), table, &HashMap::new(), &history(), t(7));
    assert_eq!((report.added, report.removed, report.kept), (0, 1, 2));
    assert!(table.get("b").is_none());
}

#[test]
fn replay_restores_history_and_last_results() {
    let mut table = build(TWO);
    let mut row = crate::store::ResultRow::new("a", t(1), vitalcheck::Status::Unhealthy, 250);
    row.error_kind = Some("timeout".into());
    row.detail = "timed out (connect)".into();
    table.replay(&row);
    table.replay(&crate::store::ResultRow::new("a", t(2), vitalcheck::Status::Healthy, 100));
    table.replay(&crate::store::ResultRow::new("unknown", t(2), vitalcheck::Status::Healthy, 100));
    let detail = table.get("a").unwrap().detail(t(3));
    assert_eq!(detail.recent.len(), 2);
    assert_eq!(detail.last_failure.unwrap().error_kind, Some("timeout"));
    assert_eq!(detail.snapshot.last.unwrap().latency, Duration::from_micros(100));
}

/// The column's status, paused flag and latest message of `name`.
fn shown(table: &Table, name: &str) -> (TargetStatus, bool, Option<String>) {
    let view = table.get(name).unwrap().view;
    (view.status, view.paused, view.last.as_ref().map(|l| l.message.to_string()))
}

#[test]
fn view_column_follows_results_and_pauses() {
    let mut table = build(TWO);
    table.assert_in_step();
    assert_eq!(shown(&table, "a"), (TargetStatus::Unknown, false, None));
    table.apply(&JobId::new("a"), t(1), ok());
    table.apply(&JobId::new("b"), t(1), refused());
    table.assert_in_step();
    assert_eq!(shown(&table, "a"), (TargetStatus::Healthy, false, Some("HTTP 200".into())));
    let b = table.get("b").unwrap();
    assert_eq!(b.view.last.as_ref().unwrap().error_kind, Some("refused"));
    assert_eq!(b.entry.last_failure.as_deref(), b.view.last.as_ref(), "the failure is the latest result");

    assert_eq!(table.set_paused("a", true), Some(vec![JobId::new("a")]));
    assert_eq!(table.set_paused("nope", true), None);
    assert!(shown(&table, "a").1);
    assert_eq!(table.paused_jobs(), [JobId::new("a")]);
    let members: Vec<bool> = table.group("pool").unwrap().map(|v| v.paused).collect();
    assert_eq!(members, [true, false]);
    // A result of a paused target (probing when it was paused) still shows.
    table.apply(&JobId::new("a"), t(2), refused());
    table.assert_in_step();
    let a = table.get("a").unwrap().view;
    assert!(a.paused);
    assert_eq!(a.last.as_ref().unwrap().at, t(2));
    table.set_paused("a", false);
    assert!(table.paused_jobs().is_empty());

    let column: Vec<_> = table.views().iter().map(|v| (v.name.to_string(), v.status)).collect();
    assert_eq!(column, [("a".into(), TargetStatus::Healthy), ("b".into(), TargetStatus::Starting)]);
}

#[test]
fn view_column_follows_reloads() {
    let mut table = build(TWO);
    table.apply(&JobId::new("a"), t(1), ok());
    table.apply(&JobId::new("b"), t(1), ok());
    table.set_paused("a", true);
    // a: kept (new group, not critical); b: reset (now gated); c: added; the group goes.
    let text = format!(
        "[[groups]]\nname = \"new\"\n[[targets]]\nname = \"a\"\ntarget = \"tcp://127.0.0.1:1\"\ngroup = \"new\"\ncritical = false\n\
         [[targets]]\nname = \"c\"\ntarget = \"tcp://127.0.0.1:3\"\n{}",
        GATED.replace("svc", "b")
    );
    let (mut table, report) = Table::build(&config(&text), table, &HashMap::new(), &history(), t(5));
    assert_eq!((report.added, report.removed, report.reset, report.kept), (1, 0, 1, 1));
    table.assert_in_step();
    let names: Vec<&str> = table.views().iter().map(|v| &*v.name).collect();
    assert_eq!(names, ["a", "c", "b"], "config order");
    let a = table.get("a").unwrap().view;
    assert_eq!((a.status, a.paused, a.critical), (TargetStatus::Healthy, true, false), "kept, still paused");
    assert_eq!(a.group.as_deref(), Some("new"));
    assert_eq!(a.last.as_ref().unwrap().at, t(1));
    let b = table.get("b").unwrap().view;
    assert_eq!((b.status, b.since), (TargetStatus::Unknown, t(5)), "reset: starts over");
    assert_eq!(b.last.as_ref().unwrap().at, t(1), "but shows its latest result");
    assert_eq!(shown(&table, "c"), (TargetStatus::Unknown, false, None));
    assert_eq!(table.paused_jobs(), [JobId::new("a")]);
    assert!(table.group("pool").is_none());
    assert_eq!(table.group("new").unwrap().count(), 1);
    // Results after the reload land on the right rows of the column.
    table.apply(&job_id("b", Slot::Startup), t(6), ok());
    table.apply(&JobId::new("c"), t(6), refused());
    table.assert_in_step();
    assert_eq!(shown(&table, "c").2.as_deref(), Some("connection refused: nothing listening"));

    let (table, report) = Table::build(&config(TWO), table, &HashMap::new(), &history(), t(7));
    assert_eq!((report.added, report.removed, report.kept, report.reset), (0, 1, 1, 1));
    table.assert_in_step();
    assert!(table.get("c").is_none());
    assert_eq!(table.views().len(), 2);
    let members: Vec<&str> = table.group("pool").unwrap().map(|v| &*v.name).collect();
    assert_eq!(members, ["a", "b"]);
}

#[test]
fn view_column_follows_a_restart() {
    let mut table = build(GATED);
    table.apply(&job_id("svc", Slot::Startup), t(1), ok());
    table.apply(&job_id("svc", Slot::Liveness), t(2), ok());
    table.apply(&job_id("svc", Slot::Readiness), t(2), ok());
    let rows = table.take_dirty_states(t(3));
    let before = table.get("svc").unwrap().view.clone();
    assert_eq!(before.status, TargetStatus::Healthy);
    let stored: HashMap<String, StateRow> = rows.into_iter().map(|r| (r.target.clone(), r)).collect();
    let (mut again, _) = Table::build(&config(GATED), Table::default(), &stored, &history(), t(10));
    again.assert_in_step();
    let view = again.get("svc").unwrap().view;
    assert_eq!((view.status, view.since), (before.status, before.since), "continues from the stored state");
    assert!(view.last.is_none());
    let mut row = crate::store::ResultRow::new("svc", t(2), vitalcheck::Status::Healthy, 3000);
    row.detail = "HTTP 200".into();
    row.probe = Some("readiness".into());
    again.replay(&row);
    again.assert_in_step();
    let last = again.get("svc").unwrap().view.last.clone().unwrap();
    assert_eq!(last, before.last.unwrap(), "the replayed result shows as before the restart");
}

#[test]
fn a_target_that_says_the_same_keeps_its_arc() {
    let mut table = build(TWO);
    let message = |table: &Table, name: &str| Arc::clone(&table.get(name).unwrap().view.last.as_ref().unwrap().message);
    table.apply(&JobId::new("a"), t(1), ok());
    let first = message(&table, "a");
    table.apply(&JobId::new("a"), t(2), ok());
    assert!(Arc::ptr_eq(&first, &message(&table, "a")), "the same target says the same again");
    table.apply(&JobId::new("a"), t(3), refused());
    let failed = message(&table, "a");
    assert_eq!(&*failed, "connection refused: nothing listening");
    let failure = Arc::clone(&table.get("a").unwrap().entry.last_failure.as_ref().unwrap().message);
    assert!(Arc::ptr_eq(&failed, &failure), "the latest failure shares it too");
    table.apply(&JobId::new("a"), t(4), refused());
    assert!(Arc::ptr_eq(&failed, &message(&table, "a")));
    let mut row = crate::store::ResultRow::new("a", t(5), vitalcheck::Status::Unhealthy, 100);
    row.detail = "connection refused: nothing listening".into();
    table.replay(&row);
    assert!(Arc::ptr_eq(&failed, &message(&table, "a")), "replayed results too");
    // Kept across a reload.
    let (mut table, _) = Table::build(&config(TWO), table, &HashMap::new(), &history(), t(6));
    table.apply(&JobId::new("a"), t(7), refused());
    assert!(Arc::ptr_eq(&failed, &message(&table, "a")));
}

#[test]
fn targets_that_say_the_same_share_one_arc() {
    let mut table = build(TWO);
    let message = |table: &Table, name: &str| Arc::clone(&table.get(name).unwrap().view.last.as_ref().unwrap().message);
    table.apply(&JobId::new("a"), t(1), ok());
    let first = message(&table, "a");
    table.apply(&JobId::new("b"), t(1), ok());
    assert!(Arc::ptr_eq(&first, &message(&table, "b")), "another target says the same");
    table.apply(&JobId::new("a"), t(2), refused());
    table.apply(&JobId::new("a"), t(3), ok());
    assert!(Arc::ptr_eq(&first, &message(&table, "a")), "back to the shared text after a failure");
    let mut row = crate::store::ResultRow::new("b", t(4), vitalcheck::Status::Unhealthy, 100);
    row.detail = "connection refused: nothing listening".into();
    table.replay(&row);
    let failed = Arc::clone(&table.get("a").unwrap().entry.last_failure.as_ref().unwrap().message);
    assert!(Arc::ptr_eq(&failed, &message(&table, "b")), "replayed results share too");
    assert_eq!(table.shared_messages(), 2);
    let (mut table, _) = Table::build(&config(TWO), table, &HashMap::new(), &history(), t(5));
    table.apply(&JobId::new("b"), t(6), ok());
    assert!(Arc::ptr_eq(&first, &message(&table, "b")), "shared across a reload");
}

#[test]
fn shared_messages_stay_bounded() {
    let mut messages = Messages::default();
    let mut kept = Vec::new();
    for i in 0..3 * messages::CAPACITY {
        let text = format!("connected to 10.0.{}.{}:22", i / 256, i % 256);
        let first = messages.share(None, &text);
        assert!(messages.len() <= messages::CAPACITY);
        let again = messages.share(Some(&first), &text);
        assert!(Arc::ptr_eq(&first, &again), "reused by its target past the cap");
        kept.push(first);
    }
    // Texts that several targets show survive making room; one-off texts do not.
    let hot: Vec<Arc<str>> = (0..3).map(|_| messages.share(None, "HTTP 200")).collect();
    assert!(hot.iter().all(|m| Arc::ptr_eq(m, &hot[0])));
    for i in 0..2 * messages::CAPACITY {
        messages.share(None, &format!("one-off {i}"));
        assert!(messages.len() <= messages::CAPACITY);
    }
    assert!(Arc::ptr_eq(&messages.share(None, "HTTP 200"), &hot[0]));
}
