//! A target's `process` table under the engine (what `vitalcheck run` does): a real
//! child (`sh` then `sleep`), a real exec probe, a real SQLite file. The process is
//! restarted when the target turns unhealthy and when it exits; each restart is a
//! transition in the event stream and the store; a stop ends it within its grace period.

#![allow(clippy::unwrap_used)]
#![cfg(feature = "sqlite")]

mod support;

use jiff::Timestamp;
use std::sync::Arc;
use std::time::Duration;
use support::{config, wait_for};
use tokio::sync::watch;
use vitalcheck::state::TargetStatus;
use vitalcheck_monitor::engine::{Engine, EngineOptions};
use vitalcheck_monitor::store::{SqliteStore, Store};
use vitalcheck_monitor::supervisor::{Outcome, own};

fn options() -> EngineOptions {
    EngineOptions { flush_interval: Duration::from_millis(50), ..EngineOptions::default() }
}

fn pids(path: &std::path::Path) -> Vec<u32> {
    std::fs::read_to_string(path).unwrap_or_default().lines().filter_map(|l| l.trim().parse().ok()).collect()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unhealthy_or_exited_process_is_restarted_and_the_restart_is_a_stored_transition() {
    let dir = tempfile::tempdir().unwrap();
    let (up, pid_file, exit_file) = (dir.path().join("up"), dir.path().join("pids"), dir.path().join("exit"));
    std::fs::write(&up, "").unwrap();
    // The process records its pid, then sleeps until `exit` appears, then exits 3.
    let script = format!(
        "echo $$ >> {pids}; while [ ! -e {exit} ]; do sleep 0.05; done; rm {exit}; exit 3",
        pids = pid_file.display(),
        exit = exit_file.display()
    );
    let text = format!(
        "[[targets]]\nname = \"app\"\ntarget = \"exec:test -e {up}\"\ninterval = \"100ms\"\ntimeout = \"100ms\"\n\
         failure_threshold = 2\nprocess = {{ command = [\"sh\", \"-c\", {script:?}], backoff_initial = \"50ms\", \
         grace = \"2s\" }}\n",
        up = up.display(),
    );
    let config = config(&text, dir.path());
    let process = config.targets[0].process.clone().unwrap();
    assert_eq!(process.command[0], "sh");
    let store = Arc::new(SqliteStore::open(dir.path().join("vc.db")).unwrap());
    let engine = Arc::new(Engine::start(&config, store.clone(), options()).await.unwrap());
    let mut events = engine.subscribe();
    let (stop, stopped) = watch::channel(false);
    let owner = tokio::spawn(own(Arc::clone(&engine), "app".to_owned(), process, stopped));
    wait_for(&mut events, "app", TargetStatus::Healthy).await;

    // Unhealthy (the probe fails twice): stopped, restarted, the state starts over.
    std::fs::remove_file(&up).unwrap();
    wait_for(&mut events, "app", TargetStatus::Unhealthy).await;
    let restarted = wait_for(&mut events, "app", TargetStatus::Unknown).await;
    assert_eq!(restarted.from, TargetStatus::Unhealthy);
    assert!(
        restarted
            .reason
            .starts_with("restarted (restart 1 since reset, 1 in total): unhealthy: 2 consecutive failures"),
        "{}",
        restarted.reason
    );
    std::fs::write(&up, "").unwrap();
    wait_for(&mut events, "app", TargetStatus::Healthy).await;
    let first = pids(&pid_file);
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(!alive(first[0]), "the unhealthy process is still running");

    // It exits: restarted as well (on-failure, code 3).
    std::fs::write(&exit_file, "").unwrap();
    let restarted = wait_for(&mut events, "app", TargetStatus::Unknown).await;
    assert_eq!(restarted.from, TargetStatus::Healthy);
    assert!(
        restarted.reason.starts_with("restarted (restart 2 since reset, 2 in total): exited with code 3"),
        "{}",
        restarted.reason
    );
    wait_for(&mut events, "app", TargetStatus::Healthy).await;
    let all = pids(&pid_file);
    assert_eq!(all.len(), 3, "{all:?}");

    // Stop: SIGTERM to its group (sh dies of it: 143).
    stop.send(true).unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(20), owner).await.unwrap().unwrap().unwrap();
    assert_eq!(outcome, Outcome::Stopped { code: 143 });
    assert!(!alive(all[2]));

    engine.shutdown().await;
    let rows = store.transitions(Some("app"), Timestamp::UNIX_EPOCH, 100).unwrap();
    let reasons: Vec<&str> = rows.iter().filter(|t| t.to == "unknown").map(|t| t.reason.as_str()).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons.iter().all(|r| r.starts_with("restarted (")), "{reasons:?}");
    assert!(engine.metrics().transitions >= 6);
}

#[test]
fn the_effective_config_prints_the_process_with_its_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        "[[targets]]\nname = \"api\"\ntarget = \"tcp://127.0.0.1:1\"\nprocess = { command = [\"./api\", \"-v\"] }\n",
        dir.path(),
    );
    let shown = config.effective().to_toml();
    for line in [
        "command = [\"./api\", \"-v\"]",
        "restart = \"on-failure\"",
        "grace = \"10s\"",
        "backoff_initial = \"10s\"",
        "backoff_max = \"5m\"",
        "backoff_reset = \"10m\"",
    ] {
        assert!(shown.contains(line), "{line} missing in\n{shown}");
    }
    // And it reads back the same.
    let again = vitalcheck_monitor::config::Config::parse_with_env(&shown, "effective.toml", |_| None).unwrap();
    assert_eq!(again.targets[0].process, config.targets[0].process);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_during_the_backoff_do_not_stop_the_next_process() {
    let dir = tempfile::tempdir().unwrap();
    let (up, pid_file, exit_file) = (dir.path().join("up"), dir.path().join("pids"), dir.path().join("exit"));
    // Healthy while it runs (it creates `up`); when it exits it removes `up`, so the
    // target turns unhealthy during the 500 ms backoff, before the next start.
    let script = format!(
        "echo $$ >> {pids}; touch {up}; while [ ! -e {exit} ]; do sleep 0.05; done; rm {exit} {up}; exit 3",
        pids = pid_file.display(),
        up = up.display(),
        exit = exit_file.display()
    );
    let text = format!(
        "[[targets]]\nname = \"app\"\ntarget = \"exec:test -e {up}\"\ninterval = \"100ms\"\ntimeout = \"100ms\"\n\
         failure_threshold = 2\nprocess = {{ command = [\"sh\", \"-c\", {script:?}], backoff_initial = \"500ms\", \
         grace = \"2s\" }}\n",
        up = up.display(),
    );
    let config = config(&text, dir.path());
    let process = config.targets[0].process.clone().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("vc.db")).unwrap());
    let engine = Arc::new(Engine::start(&config, store.clone(), options()).await.unwrap());
    let mut events = engine.subscribe();
    let (stop, stopped) = watch::channel(false);
    let owner = tokio::spawn(own(Arc::clone(&engine), "app".to_owned(), process, stopped));
    wait_for(&mut events, "app", TargetStatus::Healthy).await;

    std::fs::write(&exit_file, "").unwrap();
    // Down while waiting to restart ...
    let down = wait_for(&mut events, "app", TargetStatus::Unhealthy).await;
    assert!(down.reason.starts_with("2 consecutive failures"), "{}", down.reason);
    // ... then one restart, and the new process comes up and stays.
    let restarted = wait_for(&mut events, "app", TargetStatus::Unknown).await;
    assert!(
        restarted.reason.starts_with("restarted (restart 1 since reset, 1 in total): exited with code 3"),
        "{}",
        restarted.reason
    );
    let up_again = wait_for(&mut events, "app", TargetStatus::Healthy).await;
    assert!(up_again.at >= restarted.at);
    assert_eq!(pids(&pid_file).len(), 2, "the restarted process was stopped by a stale transition");

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(20), owner).await.unwrap().unwrap().unwrap();
    engine.shutdown().await;
    let rows = store.transitions(Some("app"), Timestamp::UNIX_EPOCH, 100).unwrap();
    let restarts = rows.iter().filter(|t| t.reason.starts_with("restarted (")).count();
    assert_eq!(restarts, 1, "{rows:#?}");
}
