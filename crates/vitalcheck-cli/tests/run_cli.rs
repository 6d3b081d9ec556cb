//! `vitalcheck run` as a real process, end to end: loopback servers and proxies it probes
//! every 100 ms, its JSON log read line by line (bounded waits on the lines that matter,
//! no fixed sleeps), signals (SIGTERM, SIGHUP, SIGKILL), then the SQLite store it wrote
//! (read-only, as `status` and `history` read it) and `status` / `history` themselves,
//! while it runs and after.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod support;

use jiff::Timestamp;
use predicates::prelude::*;
use rustix::process::Signal;
use std::collections::BTreeSet;
use support::*;
use vitalcheck_monitor::store::{HistoryQuery, ResultRow, SqliteStore, StateRow, Store, TransitionRow};

/// Every probe every 100 ms, each with 100 ms to answer.
const FAST: &str = "[defaults]\ninterval = \"100ms\"\ntimeout = \"100ms\"\nfailure_threshold = 2\n\n";

/// A `[[targets]]` entry.
fn target(name: &str, target: &str) -> String {
    format!("[[targets]]\nname = \"{name}\"\ntarget = \"{target}\"\n\n")
}

/// The store of `setup`, opened read-only (as `status` opens it beside a running `run`).
fn store(setup: &Setup) -> SqliteStore {
    SqliteStore::open_read_only(setup.db()).unwrap()
}

fn results(setup: &Setup, name: &str) -> Vec<ResultRow> {
    store(setup).history(&HistoryQuery::new(name)).unwrap()
}

fn transitions(setup: &Setup, name: &str) -> Vec<TransitionRow> {
    store(setup).transitions(Some(name), Timestamp::UNIX_EPOCH, 1000).unwrap()
}

fn state(setup: &Setup, name: &str) -> Option<StateRow> {
    store(setup).load_states().unwrap().into_iter().find(|s| s.target == name)
}

/// Whether the first transition, and only that one, is from `unknown`: the target never
/// started over.
fn first_from_unknown(rows: &[TransitionRow]) -> bool {
    rows.first().is_some_and(|t| t.from == "unknown") && rows.iter().skip(1).all(|t| t.from != "unknown")
}

/// `(from, to)` of each transition.
fn steps(rows: &[TransitionRow]) -> Vec<(&str, &str)> {
    rows.iter().map(|t| (t.from.as_str(), t.to.as_str())).collect()
}

/// Polls the store until `name` has a stored state with `status` (the engine writes
/// about every second); returns it.
fn wait_state(setup: &Setup, name: &str, status: &str) -> StateRow {
    poll(&format!("{name} stored as {status}"), || {
        if !setup.db().exists() {
            return None;
        }
        state(setup, name).filter(|s| s.status == status)
    })
}

/// A server that flips healthy -> failing -> healthy: each change is logged, stored as a
/// transition with its reason, the results keep the error kind, and `status` sees it while
/// `run` runs and after. SIGTERM stops it with exit 0 after writing everything.
#[test]
fn transitions_of_a_flipping_server_are_logged_and_stored() {
    let server = Flip::new(200);
    let setup = Setup::new(&format!("{FAST}{}", target("web", &server.url())));
    let mut run = setup.run();

    let up = run.wait_reaches("web", "healthy");
    assert_eq!(up["level"], "INFO");
    assert_eq!(up["reason"], "1 success after start: 200 OK", "{up}");
    // `status` reads the store while `run` writes it.
    let healthy = wait_state(&setup, "web", "healthy");
    let (code, doc) = setup.status(&[]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["targets"][0]["name"], "web");
    assert_eq!(doc["targets"][0]["status"], "healthy");
    assert_eq!(doc["targets"][0]["since"].as_str().unwrap().parse::<Timestamp>().unwrap(), healthy.since);

    server.set(503);
    let down = run.wait_transition("web", "healthy", "unhealthy");
    let reason = text(&down["reason"]);
    assert!(reason.starts_with("2 consecutive failures: HTTP status 503"), "{reason}");
    let unhealthy = wait_state(&setup, "web", "unhealthy");
    assert!(unhealthy.last_error.as_deref().unwrap().contains("HTTP status 503"), "{unhealthy:?}");
    let (code, doc) = setup.status(&[]);
    assert_eq!((code, &doc["targets"][0]["status"]), (1, &"unhealthy".into()), "{doc}");

    server.set(200);
    let again = run.wait_transition("web", "unhealthy", "healthy");
    assert_eq!(again["reason"], "1 success: 200 OK");

    let status = run.terminate();
    assert!(status.success(), "{status:?}; stderr:\n{}", run.stderr());
    let events = run.events();
    let last = events.last().unwrap();
    assert_eq!(last["message"], "vitalcheck run stopped", "{}", run.stderr());
    assert_eq!(last["store_errors"], 0);
    assert!(last["results"].as_u64().unwrap() >= 4, "{last}");
    assert_eq!(events[events.len() - 2]["message"], "SIGTERM: stopping");
    assert!(!setup.dir.path().join("vc.db.pid").exists(), "the lock file is removed");
    assert!(!setup.dir.path().join("vc.db-wal").exists(), "a clean close checkpoints the WAL");

    // The store holds what was logged, nothing more.
    // (Normally exactly unknown -> healthy -> unhealthy -> healthy; a first probe slowed
    // down past its timeout by a loaded machine may add a `starting` in front.)
    let all = transitions(&setup, "web");
    let stored: Vec<(String, String, String)> =
        all.iter().map(|t| (t.from.clone(), t.to.clone(), t.reason.clone())).collect();
    assert_eq!(stored, run.transitions("web"));
    let flips = [("healthy", "unhealthy"), ("unhealthy", "healthy")];
    assert!(first_from_unknown(&all) && steps(&all).ends_with(&flips), "{all:?}");
    let stored = &all[all.len() - 3..];
    assert_eq!(steps(stored)[0].1, "healthy", "{all:?}");
    assert!(stored[1].reason.contains("HTTP status 503"), "{:?}", stored[1]);
    let rows = results(&setup, "web");
    let failed: Vec<&ResultRow> = rows.iter().filter(|r| r.status == vitalcheck::Status::Unhealthy).collect();
    assert!(failed.iter().all(|r| r.error_kind.is_some()), "{failed:?}");
    let answered_503: Vec<&&ResultRow> = failed.iter().filter(|r| r.error_kind.as_deref() == Some("status")).collect();
    assert!(answered_503.len() >= 2, "{rows:?}");
    assert!(answered_503.iter().all(|r| r.detail.starts_with("HTTP status 503")), "{answered_503:?}");
    assert!(rows.windows(2).all(|w| w[0].at <= w[1].at), "oldest first");
    // Each transition happened at the result that caused it.
    for t in stored {
        assert!(rows.iter().any(|r| r.at == t.at), "no result at {t:?}");
    }
    assert_eq!(state(&setup, "web").unwrap().since, stored[2].at);
    assert_eq!(state(&setup, "web").unwrap().consecutive_failures, 0);

    // And `status` after the process is gone.
    let (code, doc) = setup.status(&[]);
    assert_eq!(code, 0, "{doc}");
    let web = &doc["targets"][0];
    assert_eq!(web["status"], "healthy");
    assert_eq!(web["since"].as_str().unwrap().parse::<Timestamp>().unwrap(), stored[2].at);
    let uptime = web["uptime_24h"].as_f64().unwrap();
    assert!(uptime > 0.0 && uptime < 1.0, "{web}");
}

const PASSWORD: &str = "s3cret";
const WRONG_PASSWORD: &str = "n0t-it";
/// `Basic base64("user:s3cret")`, and the base64 alone.
const BASIC: &str = "Basic dXNlcjpzM2NyZXQ=";
const BASIC_B64: &str = "dXNlcjpzM2NyZXQ";

/// Fails if any secret of the proxy pool is in `text` (said as `what`).
fn assert_no_secret(what: &str, text: &[u8]) {
    for secret in [PASSWORD, WRONG_PASSWORD, BASIC_B64] {
        let found = text.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "{secret:?} appears in {what}:\n{}", String::from_utf8_lossy(text));
    }
}

/// A pool of proxies in one group: good, refusing, needing credentials (given right, and
/// given wrong) and a SOCKS5 one with credentials. Each reaches its state with the right
/// error kind, and the password shows up nowhere: not in the log (even at trace level),
/// `status`, `history`, nor in the database's bytes.
#[test]
fn a_proxy_pool_reaches_its_states_and_never_shows_the_password() {
    let origin = Flip::new(200);
    let (good, auth, socks, refusing) =
        (http_proxy(None), http_proxy(Some(BASIC)), socks5_proxy("user", PASSWORD), free_port());
    let test = format!("url=http://{}/", origin.addr);
    let members = [
        ("good", format!("proxy+http://{good}?{test}")),
        ("refusing", format!("proxy+http://127.0.0.1:{refusing}?{test}")),
        ("creds", format!("proxy+http://user:{PASSWORD}@{auth}?{test}")),
        ("wrong", format!("proxy+http://user:{WRONG_PASSWORD}@{auth}?{test}")),
        ("socks", format!("proxy+socks5h://user:{PASSWORD}@{socks}?{test}")),
    ];
    let mut config = format!("{FAST}[[groups]]\nname = \"proxies\"\ninterval = \"100ms\"\ntimeout = \"100ms\"\n\n");
    for (name, url) in &members {
        config.push_str(&format!("[[targets]]\nname = \"{name}\"\ngroup = \"proxies\"\ntarget = \"{url}\"\n\n"));
    }
    // Not a proxy, but a password all the same: Basic credentials of an http target.
    config.push_str(&target("site", &format!("http://user:{PASSWORD}@{}/", origin.addr)));
    let setup = Setup::new(&config);
    // Everything it logs, at the most verbose level.
    let mut run = Running::start_logging(&setup.config(), "trace");
    for (name, to) in [
        ("good", "healthy"),
        ("refusing", "unhealthy"),
        ("creds", "healthy"),
        ("wrong", "unhealthy"),
        ("socks", "healthy"),
    ] {
        let event = run.wait_reaches(name, to);
        assert_no_secret("a transition line", event.to_string().as_bytes());
    }
    run.wait_reaches("site", "healthy");
    let refused = run.transitions("refusing").pop().unwrap().2;
    assert!(refused.starts_with("2 consecutive failures: connection refused"), "{refused}");
    let wrong = run.transitions("wrong").pop().unwrap().2;
    assert!(wrong.starts_with("2 consecutive failures: HTTP status 407"), "{wrong}");

    // `status` of the group, once every member is stored.
    let expected = [
        ("good", "healthy"),
        ("refusing", "unhealthy"),
        ("creds", "healthy"),
        ("wrong", "unhealthy"),
        ("socks", "healthy"),
    ]
    .map(|(n, s)| (n.to_string(), s.to_string()));
    let doc = poll("every member stored in its state", || {
        let (_, doc) = setup.status(&["--group", "proxies", "--source", "store"]);
        let shown: Vec<(String, String)> =
            doc["targets"].as_array().unwrap().iter().map(|t| (text(&t["name"]), text(&t["status"]))).collect();
        (shown == expected).then_some(doc)
    });
    assert!(doc["targets"].as_array().unwrap().iter().all(|t| t["group"] == "proxies"));
    let out = setup.cmd("status", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_no_secret("status", &[out.stdout, out.stderr].concat());
    assert_no_secret("status -o json", doc.to_string().as_bytes());

    // Error kinds as `history` shows them.
    let kinds = |name: &str| -> BTreeSet<String> {
        setup.history(name)["results"].as_array().unwrap().iter().map(|r| r["error_kind"].to_string()).collect()
    };
    assert!(kinds("refusing").contains("\"refused\""), "{:?}", kinds("refusing"));
    assert!(!kinds("refusing").contains("null"), "never up");
    assert!(kinds("wrong").contains("\"status\""), "{:?}", kinds("wrong"));
    assert!(!kinds("wrong").contains("null"), "never up");
    assert!(kinds("creds").contains("null"), "{:?}", kinds("creds"));
    for name in members.iter().map(|(name, _)| *name).chain(["site"]) {
        let out = setup.cmd("history", &[name, "--since", "1h"]).output().unwrap();
        assert!(out.status.success());
        assert_no_secret("history", &[out.stdout, out.stderr].concat());
        let doc = setup.history(name);
        assert!(!doc["results"].as_array().unwrap().is_empty(), "{name}: {doc}");
        assert_no_secret("history -o json", doc.to_string().as_bytes());
    }
    // The database while it is being written (its WAL too).
    for file in ["vc.db", "vc.db-wal"] {
        if let Ok(bytes) = std::fs::read(setup.dir.path().join(file)) {
            assert_no_secret(file, &bytes);
        }
    }

    assert!(run.terminate().success(), "{}", run.stderr());
    assert_no_secret("stderr", run.stderr().as_bytes());
    let mut files = 0;
    for file in ["vc.db", "vc.db-wal", "vc.db-shm"] {
        if let Ok(bytes) = std::fs::read(setup.dir.path().join(file)) {
            files += 1;
            assert_no_secret(file, &bytes);
        }
    }
    assert!(files >= 1);
    let rows = results(&setup, "socks");
    assert!(rows.iter().any(|r| r.detail.contains("via SOCKS5 proxy")), "{rows:?}");
}

/// Reload by `vitalcheck reload` and by `kill -HUP`: added targets start, removed ones
/// stop, the others keep their state; a broken config is refused by `reload` (exit 2,
/// nothing signalled) and, signalled directly, logged while the running config is kept.
#[test]
fn reload_adds_and_removes_targets_and_keeps_the_others() {
    let server = Flip::new(200);
    let url = server.url();
    let setup = Setup::new(&format!("{FAST}{}{}", target("a", &url), target("b", &url)));
    let mut run = setup.run();
    run.wait_reaches("a", "healthy");
    run.wait_reaches("b", "healthy");
    wait_state(&setup, "a", "healthy");

    setup.write(&format!("{FAST}{}{}", target("a", &url), target("c", &url)));
    let expected = format!("sent SIGHUP to vitalcheck run (pid {}); it reloads ", run.pid());
    let before_reload = Timestamp::now();
    setup.cmd("reload", &[]).assert().code(0).stdout(predicate::str::starts_with(expected));
    let reloaded = run.wait_for("the reload line", |e| text(&e["message"]).starts_with("SIGHUP: reloaded"));
    let counts = |e: &serde_json::Value| [&e["added"], &e["removed"], &e["reset"], &e["kept"]].map(|v| v.as_u64());
    assert_eq!(counts(&reloaded), [Some(1), Some(1), Some(0), Some(1)], "{reloaded}");
    let reloaded_at = Timestamp::now();
    run.wait_reaches("c", "healthy");

    // A broken config: `reload` says why and signals nothing.
    setup.write(&format!("{FAST}[[targets]]\nname = \"d\"\ntarget = \"http://127.0.0.1:80/\"\ninterval = \"0s\"\n"));
    let file = setup.config().display().to_string();
    setup.cmd("reload", &[]).assert().code(2).stdout("").stderr(predicate::str::starts_with(format!(
        "error: {file}:12:12: targets[0].interval: must be greater than zero"
    )));
    // Signalled anyway: logged, the running config kept.
    run.signal(Signal::HUP);
    let refused = run.wait_for("the reload error", |e| e["level"] == "ERROR");
    assert_eq!(refused["message"], "SIGHUP: the config has an error; keeping the running config");
    assert!(text(&refused["error"]).starts_with(&format!("{file}:12:12:")), "{refused}");

    // `kill -HUP` with a good config reloads like `vitalcheck reload`.
    setup.write(&format!("{FAST}{}{}{}", target("a", &url), target("c", &url), target("d", &url)));
    run.signal(Signal::HUP);
    let reloaded = run.wait_for("the second reload", |e| text(&e["message"]).starts_with("SIGHUP: reloaded"));
    assert_eq!(counts(&reloaded), [Some(1), Some(0), Some(0), Some(2)], "{reloaded}");
    run.wait_reaches("d", "healthy");
    let sighups: Vec<String> =
        run.events().iter().map(|e| text(&e["message"])).filter(|m| m.starts_with("SIGHUP")).collect();
    assert_eq!(sighups.len(), 3, "one line per signal, none from the refused `reload`: {sighups:?}");

    assert!(run.terminate().success(), "{}", run.stderr());
    let a = transitions(&setup, "a");
    assert!(first_from_unknown(&a), "a kept its state over both reloads: {a:?}");
    assert_eq!(run.transitions("a").len(), a.len());
    let c = transitions(&setup, "c");
    assert!(first_from_unknown(&c) && c[0].at > before_reload, "c started at the reload: {c:?}");
    let b = results(&setup, "b");
    assert!(!b.is_empty());
    assert!(b.iter().all(|r| r.at < reloaded_at), "b stopped at the reload: {:?}", b.last());
    let (code, doc) = setup.status(&[]);
    assert_eq!(code, 0, "{doc}");
    let names: Vec<String> = doc["targets"].as_array().unwrap().iter().map(|t| text(&t["name"])).collect();
    assert_eq!(names, ["a", "c", "d"]);
    let out = vitalcheck().args(["status", "-o", "json", "--db"]).arg(setup.db()).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stored: Vec<String> = doc["targets"].as_array().unwrap().iter().map(|t| text(&t["name"])).collect();
    assert_eq!(stored, ["a", "b", "c", "d"], "a removed target's rows stay");
}

/// `kill -9` while a target is unhealthy: the restart continues from the store (no
/// transition from unknown, the same `since`, the old results in `history`) and the target
/// recovers from there. A second `run` on the same store is refused meanwhile.
#[test]
fn after_kill_9_a_restart_continues_from_the_store() {
    let server = Flip::new(503);
    let setup = Setup::new(&format!("{FAST}{}", target("flaky", &server.url())));
    let mut run = setup.run();
    run.wait_transition("flaky", "unknown", "starting");
    run.wait_transition("flaky", "starting", "unhealthy");
    let before = poll("5 stored results and the unhealthy state", || {
        let count = results(&setup, "flaky").len();
        let state = state(&setup, "flaky").filter(|s| s.status == "unhealthy")?;
        (count >= 5).then_some(state)
    });
    let status_before = setup.status_of("flaky");
    assert_eq!(status_before["status"], "unhealthy");
    assert_eq!(status_before["since"].as_str().unwrap().parse::<Timestamp>().unwrap(), before.since);

    let killed = run.kill();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&killed), Some(9));
    let stored_before = results(&setup, "flaky");
    assert!(stored_before.len() >= 5);
    assert!(setup.dir.path().join("vc.db.pid").exists(), "kill -9 leaves the lock file behind");

    let mut run = setup.run();
    // A second instance on the same store is refused.
    setup
        .cmd("run", &[])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("another `vitalcheck run` (pid {}) is using", run.pid())));
    // New results come in (and are stored) while no transition is logged.
    poll("5 more stored results after the restart", || {
        (results(&setup, "flaky").len() >= stored_before.len() + 5).then_some(())
    });
    assert_eq!(run.transitions("flaky"), [], "the state came back from the store");
    let after = setup.status_of("flaky");
    assert_eq!(after["status"], "unhealthy", "{after}");
    assert_eq!(after["since"], status_before["since"], "the same since as before the kill");
    assert!(
        after["consecutive_failures"].as_u64().unwrap() > before.consecutive_failures.into(),
        "failures go on counting: {after} after {before:?}"
    );
    let history = setup.history("flaky");
    let shown: BTreeSet<Timestamp> =
        history["results"].as_array().unwrap().iter().map(|r| r["at"].as_str().unwrap().parse().unwrap()).collect();
    assert!(stored_before.iter().all(|r| shown.contains(&r.at)), "history keeps the results from before the kill");

    server.set(200);
    let up = run.wait_transition("flaky", "unhealthy", "healthy");
    assert_eq!(up["reason"], "1 success: 200 OK");
    assert!(run.terminate().success(), "{}", run.stderr());
    assert_eq!(
        steps(&transitions(&setup, "flaky")),
        [("unknown", "starting"), ("starting", "unhealthy"), ("unhealthy", "healthy")]
    );
}

/// A bad config: exit 2 with the file:line:col error, and no database or lock file.
#[test]
fn a_bad_config_exits_2_and_creates_no_database() {
    let setup = Setup::new("[[targets]]\nname = \"db\"\ntarget = \"127.0.0.1:5432\"\ninterval = \"0s\"\n");
    let file = setup.config().display().to_string();
    let expected = format!(
        "error: {file}:7:12: targets[0].interval: must be greater than zero\n  |\n7 | interval = \"0s\"\n  |            ^^^^\n"
    );
    setup.cmd("run", &[]).assert().code(2).stdout("").stderr(expected);
    setup.write_raw(
        "[storage]\npath = \"vc.db\"\n[[targets]]\nname = \"api\"\ntarget = \"http://127.0.0.1:8080/health\n",
    );
    setup
        .cmd("run", &["--log-format", "json"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(format!("error: {file}:5:39: invalid basic string")));
    let left: Vec<_> = std::fs::read_dir(setup.dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["vitalcheck.toml"], "no database, no lock file");
}

/// Holds the write lock of a new, empty store at `setup.db()`: a `vitalcheck run` starting
/// on it waits (SQLite's busy timeout, 5 s) in its schema migration, after it took the
/// instance lock and wrote its pid, until the returned connection rolls back.
fn hold_store(setup: &Setup) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(setup.db()).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).unwrap();
    assert_eq!(mode, "wal");
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    conn
}

/// Waits until `run` holds the instance lock (its pid is in `vc.db.pid`).
fn wait_locked(setup: &Setup, run: &Running) {
    let lock = setup.dir.path().join("vc.db.pid");
    let pid = run.pid().to_string();
    poll("the pid in the lock file", || {
        std::fs::read_to_string(&lock).ok().filter(|text| text.trim() == pid).map(drop)
    });
}

/// `vitalcheck reload` while `run` is still starting (it holds the instance lock, so
/// `reload` signals it) must not kill it.
#[test]
fn reload_while_run_is_starting_does_not_kill_it() {
    let server = Flip::new(200);
    let setup = Setup::new(&format!("{FAST}{}", target("web", &server.url())));
    let held = hold_store(&setup);
    let mut run = Running::spawn(&setup.config(), "info");
    wait_locked(&setup, &run);
    let expected = format!("sent SIGHUP to vitalcheck run (pid {}); it reloads ", run.pid());
    setup.cmd("reload", &[]).assert().code(0).stdout(predicate::str::starts_with(expected));
    held.execute_batch("ROLLBACK").unwrap();
    drop(held);
    run.wait_for("the start line", |e| e["message"] == "vitalcheck run started");
    run.wait_reaches("web", "healthy");
    let status = run.terminate();
    assert!(status.success(), "{status:?}; stderr:\n{}", run.stderr());
}

/// SIGTERM while `run` is still starting stops it gracefully too (exit 0).
#[test]
fn sigterm_while_run_is_starting_exits_0() {
    let server = Flip::new(200);
    let setup = Setup::new(&format!("{FAST}{}", target("web", &server.url())));
    let held = hold_store(&setup);
    let mut run = Running::spawn(&setup.config(), "info");
    wait_locked(&setup, &run);
    run.signal(Signal::TERM);
    held.execute_batch("ROLLBACK").unwrap();
    drop(held);
    let status = run.wait_exit();
    assert!(status.success(), "{status:?}; stderr:\n{}", run.stderr());
    assert!(!setup.dir.path().join("vc.db.pid").exists(), "the lock file is removed");
}

/// A reload cannot move the store (the running process keeps writing the one it opened):
/// a config whose `[storage] path` changed must not be taken silently, or `status` and
/// `reload` with that config look at a store nobody writes.
#[test]
fn a_reload_that_moves_the_store_is_not_taken_silently() {
    let server = Flip::new(200);
    let setup = Setup::new(&format!("{FAST}{}", target("web", &server.url())));
    let mut run = setup.run();
    run.wait_reaches("web", "healthy");
    setup.write_raw(&format!("[storage]\npath = \"moved.db\"\n{LISTEN}\n{FAST}{}", target("web", &server.url())));
    run.signal(Signal::HUP);
    let answer = run.wait_for("the reload's answer", |e| {
        text(&e["message"]).starts_with("SIGHUP") || e["level"] == "WARN" || e["level"] == "ERROR"
    });
    assert_ne!(answer["level"], "INFO", "a moved store is said, not reloaded silently: {answer}");
    assert!(answer.to_string().contains("storage"), "{answer}");
    assert!(run.terminate().success(), "{}", run.stderr());
}
