//! `vitalcheck status` and `vitalcheck history`, the real binary over a store filled
//! through the library: tables, JSON shapes, exit codes, windows, filters, errors.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use assert_cmd::Command;
use jiff::{SignedDuration, Timestamp};
use predicates::prelude::*;
use std::path::PathBuf;
use vitalcheck::Status;
use vitalcheck_monitor::store::{Batch, ResultRow, SqliteStore, StateRow, Store, TransitionRow};

fn vitalcheck() -> Command {
    let mut cmd = Command::cargo_bin("vitalcheck").expect("binary built");
    cmd.env_remove("VITALCHECK_CONFIG");
    cmd
}

/// `minutes` before now.
fn ago(minutes: i64) -> Timestamp {
    Timestamp::now().checked_sub(SignedDuration::from_mins(minutes)).unwrap()
}

/// The one place a `StateRow` is built.
fn state(target: &str, status: &str, since: Timestamp, failures: u32, last_error: Option<&str>) -> StateRow {
    StateRow {
        target: target.into(),
        status: status.into(),
        since,
        consecutive_failures: failures,
        consecutive_successes: if failures == 0 { 7 } else { 0 },
        last_error: last_error.map(String::from),
        updated_at: Timestamp::now(),
        probes: Vec::new(),
    }
}

fn result(target: &str, minutes_ago: i64, status: Status, error: Option<(&str, &str)>) -> ResultRow {
    let mut row = ResultRow::new(target, ago(minutes_ago), status, 1_500);
    if let Some((kind, detail)) = error {
        row.error_kind = Some(kind.into());
        row.detail = detail.into();
    }
    row
}

/// A directory with `vitalcheck.toml` (targets api, db, cache; db and cache in group
/// `backends`) whose store is `vitalcheck.db` beside it.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let config = r#"
[storage]
path = "vitalcheck.db"

[[groups]]
name = "backends"

[[targets]]
name = "api"
target = "tcp://127.0.0.1:1"

[[targets]]
name = "db"
group = "backends"
target = "tcp://127.0.0.1:2"

[[targets]]
name = "cache"
group = "backends"
target = "tcp://127.0.0.1:3"
"#;
        std::fs::write(dir.path().join("vitalcheck.toml"), config).unwrap();
        Setup { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("vitalcheck.toml")
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("vitalcheck.db")
    }

    /// Writes `batch` to the store and closes it.
    fn record(&self, batch: Batch) {
        let store = SqliteStore::open(self.db()).unwrap();
        store.record(batch).unwrap().wait().unwrap();
        store.shutdown().unwrap();
    }

    /// api healthy for 2 h (3 of 4 results up), db degraded, `old` stored but no longer in
    /// the config; cache never probed.
    fn healthy(&self) {
        let results = vec![
            result("api", 200, Status::Healthy, None),
            result("api", 30, Status::Unhealthy, Some(("refused", "connection refused"))),
            result("api", 20, Status::Healthy, None),
            result("api", 10, Status::Healthy, None),
            result("db", 5, Status::Degraded, None),
        ];
        let states = vec![
            state("api", "healthy", ago(120), 0, None),
            state("db", "degraded", ago(5), 0, None),
            state("old", "unhealthy", ago(600), 3, Some("gone")),
        ];
        self.record(Batch { results, states, transitions: Vec::new() });
    }

    fn status(&self) -> Command {
        let mut cmd = vitalcheck();
        cmd.arg("status").arg("-c").arg(self.config());
        cmd
    }

    fn history(&self, target: &str) -> Command {
        let mut cmd = vitalcheck();
        cmd.args(["history", target, "-c"]).arg(self.config());
        cmd
    }
}

fn stdout(cmd: &mut Command, code: i32) -> String {
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(code), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn json(cmd: &mut Command, code: i32) -> serde_json::Value {
    serde_json::from_str(&stdout(cmd.args(["-o", "json"]), code)).unwrap()
}

#[test]
fn status_lists_config_targets_in_order_and_exits_1_while_one_is_unknown() {
    let setup = Setup::new();
    setup.healthy();
    let text = stdout(&mut setup.status(), 1);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0], "NAME   STATUS    SINCE   UPTIME 24H  LAST ERROR");
    assert_eq!(lines[1], "api    healthy   2h ago      75.00%");
    assert_eq!(lines[2], "db     degraded  5m ago     100.00%");
    assert_eq!(lines[3], "cache  unknown   -                -");
    assert!(!text.contains("old"), "stored targets no longer in the config are left out");
}

#[test]
fn status_exits_0_when_all_listed_are_up_and_1_when_one_is_unhealthy() {
    let setup = Setup::new();
    setup.healthy();
    setup.status().args(["api", "db"]).assert().code(0);
    setup.status().args(["--group", "backends"]).assert().code(1).stdout(predicate::str::contains("cache"));
    let text = stdout(setup.status().args(["db"]), 0);
    assert!(text.contains("db") && !text.contains("api"), "{text}");

    let error = format!("refused: {}", "x".repeat(100));
    setup.record(Batch { states: vec![state("api", "unhealthy", ago(3), 3, Some(&error))], ..Batch::default() });
    let text = stdout(setup.status().arg("api"), 1);
    assert!(text.contains("api   unhealthy  3m ago"), "{text}");
    assert!(text.contains(&format!("refused: {}...", "x".repeat(48))), "last errors are cut: {text}");
}

#[test]
fn status_json_has_every_field() {
    let setup = Setup::new();
    setup.healthy();
    let doc = json(&mut setup.status(), 1);
    let targets = doc["targets"].as_array().unwrap();
    let names: Vec<&str> = targets.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["api", "db", "cache"]);
    let api = &targets[0];
    let mut keys: Vec<&str> = api.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    let expected = [
        "consecutive_failures",
        "consecutive_successes",
        "group",
        "last_error",
        "name",
        "since",
        "status",
        "uptime_24h",
    ];
    assert_eq!(keys, expected);
    assert_eq!(api["status"], "healthy");
    assert_eq!(api["uptime_24h"], 0.75);
    assert_eq!(api["consecutive_successes"], 7);
    assert!(api["since"].as_str().unwrap().parse::<Timestamp>().is_ok(), "RFC 3339: {}", api["since"]);
    assert_eq!(targets[1]["group"], "backends");
    assert_eq!(targets[2]["status"], "unknown");
    assert_eq!(targets[2]["since"], serde_json::Value::Null);
    assert_eq!(targets[2]["uptime_24h"], serde_json::Value::Null);
}

#[test]
fn status_with_db_lists_every_stored_state() {
    let setup = Setup::new();
    setup.healthy();
    let doc = json(vitalcheck().arg("status").arg("--db").arg(setup.db()), 1);
    let names: Vec<&str> = doc["targets"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["api", "db", "old"]);
    assert_eq!(doc["targets"][2]["last_error"], "gone");
    assert_eq!(doc["targets"][0]["group"], serde_json::Value::Null);
    vitalcheck()
        .args(["status", "--group", "backends", "--db"])
        .arg(setup.db())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--group needs the config"));
}

#[test]
fn status_reads_while_a_writer_has_the_store_open() {
    let setup = Setup::new();
    let store = SqliteStore::open(setup.db()).unwrap();
    let states = vec![state("api", "healthy", ago(1), 0, None)];
    store.record(Batch { states, ..Batch::default() }).unwrap().wait().unwrap();
    setup.status().arg("api").assert().code(0);
    let states = vec![state("api", "unhealthy", ago(0), 3, Some("timeout"))];
    store.record(Batch { states, ..Batch::default() }).unwrap().wait().unwrap();
    setup.status().arg("api").assert().code(1).stdout(predicate::str::contains("timeout"));
    store.shutdown().unwrap();
}

#[test]
fn the_config_can_come_from_the_environment() {
    let setup = Setup::new();
    setup.healthy();
    vitalcheck().args(["status", "api"]).env("VITALCHECK_CONFIG", setup.config()).assert().code(0);
}

#[test]
fn unknown_targets_and_groups_exit_2_with_close_names() {
    let setup = Setup::new();
    setup.healthy();
    setup
        .status()
        .arg("apj")
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("unknown target \"apj\"; did you mean: api?"));
    setup
        .status()
        .args(["--group", "backend"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown group \"backend\"; did you mean: backends?"));
    setup
        .history("cach")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown target \"cach\"; did you mean: cache?"));
}

#[test]
fn a_missing_store_exits_2_naming_it_and_is_not_created() {
    let setup = Setup::new();
    for mut cmd in [setup.status(), setup.history("api")] {
        cmd.assert().code(2).stderr(predicate::str::contains(format!(
            "store: no store exists at {} yet (has `vitalcheck run` run with this config?)",
            setup.db().display()
        )));
    }
    let db = setup.dir.path().join("sub/other.db");
    vitalcheck().arg("status").arg("--db").arg(&db).assert().code(2);
    assert!(!setup.db().exists() && !db.exists() && !db.parent().unwrap().exists());
}

#[test]
fn a_bad_or_missing_config_exits_2_like_config_check() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vitalcheck.toml");
    std::fs::write(&file, "[[targets]]\nname = \"db\"\ntarget = \"127.0.0.1:5432\"\ninterval = \"0s\"\n").unwrap();
    let expected = format!("error: {}:4:12: targets[0].interval: must be greater than zero", file.display());
    vitalcheck().args(["status", "-c"]).arg(&file).assert().code(2).stderr(predicate::str::starts_with(expected));
    vitalcheck()
        .arg("status")
        .current_dir(dir.path().join(".."))
        .env("VITALCHECK_CONFIG", "/nonexistent/vitalcheck.toml")
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("/nonexistent/vitalcheck.toml: cannot read the file")
                .and(predicate::str::contains("hint: name the config with -c FILE")),
        );
    vitalcheck().args(["status", "-c", "a.toml", "--db", "b.db"]).assert().code(2);
}

#[test]
fn history_shows_the_window_oldest_first_with_transitions() {
    let setup = Setup::new();
    setup.healthy();
    let transition = TransitionRow {
        target: "api".into(),
        from: "healthy".into(),
        to: "unhealthy".into(),
        reason: "1 consecutive failure: connection refused".into(),
        at: ago(30),
    };
    setup.record(Batch { transitions: vec![transition], ..Batch::default() });
    let text = stdout(&mut setup.history("api"), 0);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert_eq!(lines[0], "TIME                      STATUS     LATENCY  ERROR/DETAIL");
    assert!(lines[1].ends_with("  unhealthy    1.5ms  connection refused"), "{text}");
    assert!(lines[2].ends_with("  -> unhealthy (was healthy): 1 consecutive failure: connection refused"), "{text}");
    assert!(lines[3].ends_with("  healthy      1.5ms"), "{text}");
    let first: Timestamp = lines[1][..24].parse().unwrap();
    let age = Timestamp::now().duration_since(first).as_secs();
    assert!((29 * 60..31 * 60).contains(&age), "RFC 3339 time of 30 minutes ago: {}", lines[1]);

    let doc = json(setup.history("api").args(["--since", "4h"]), 0);
    assert_eq!(doc["results"].as_array().unwrap().len(), 4);
    assert_eq!(doc["truncated"], false);
    assert_eq!(doc["results"][1]["error_kind"], "refused");
    assert_eq!(doc["results"][1]["latency_ms"], 1.5);
    assert_eq!(doc["transitions"][0]["to"], "unhealthy");
}

#[test]
fn history_since_until_and_limit_narrow_the_window() {
    let setup = Setup::new();
    setup.healthy();
    let count = |cmd: &mut Command| json(cmd, 0)["results"].as_array().unwrap().len();
    assert_eq!(count(setup.history("api").args(["--since", "25m"])), 2);
    assert_eq!(count(setup.history("api").args(["--since", "1d", "--until", "15m"])), 3);
    let since = ago(250).to_string();
    assert_eq!(count(setup.history("api").args(["--since", &since])), 4);

    let out = setup.history("api").args(["--since", "4h", "--limit", "1", "-o", "json"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["truncated"], true);
    assert_eq!(doc["results"].as_array().unwrap().len(), 1, "the newest one");
    assert!(String::from_utf8_lossy(&out.stderr).contains("showing the newest 1 results"));

    setup
        .history("api")
        .args(["--since", "1h", "--until", "2h"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not after --since"));
    setup.history("api").args(["--since", "yesterday"]).assert().code(2);
}

#[test]
fn an_empty_window_says_so_and_exits_0() {
    let setup = Setup::new();
    setup.healthy();
    setup.history("cache").assert().code(0).stdout(predicate::str::starts_with("no results for cache from "));
    setup.history("api").args(["--since", "5m"]).assert().code(0).stdout(predicate::str::contains("no results"));
}
