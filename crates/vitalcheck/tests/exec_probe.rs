//! The exec probe running real processes, through the public API.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use rustix::process::{Pid, test_kill_process};
use std::path::Path;
use std::time::{Duration, Instant};
use vitalcheck::probe::{ErrorKind, ExecProbe, Observation, Phase, ProbeContext, ProbeError, Target};

const TIMEOUT: Duration = Duration::from_secs(10);

async fn probe(target: &Target, timeout: Duration) -> Result<Observation, ProbeError> {
    target.probe(&ProbeContext::new(), timeout).await
}

fn exec(command: &str) -> Target {
    Target::exec(command).expect("valid command")
}

/// `sh -c SCRIPT` as a target (no shell is involved in running `sh` itself).
fn sh(script: &str) -> Target {
    Target::Exec(ExecProbe::new(vec!["sh".into(), "-c".into(), script.into()]))
}

/// Whether `pid` is gone: no such process, or a zombie waiting for init to reap it.
fn is_gone(pid: i32) -> bool {
    let Some(pid_) = Pid::from_raw(pid) else { return true };
    if test_kill_process(pid_).is_err() {
        return true;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name: "PID (comm) S ...".
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

/// Polls (up to 2 s, every 10 ms) until `pid` is gone; init reaps orphans asynchronously.
async fn wait_gone(pid: i32) -> bool {
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        if is_gone(pid) {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Reads the pid written to `path` by the command under test.
fn read_pid(path: &Path) -> i32 {
    let text = std::fs::read_to_string(path).expect("pid file");
    text.trim().parse().expect("a pid")
}

#[tokio::test]
async fn true_is_healthy() {
    let obs = probe(&exec("true"), TIMEOUT).await.expect("healthy");
    assert_eq!(obs.detail, "exit 0");
}

#[tokio::test]
async fn false_is_exit_1() {
    let err = probe(&exec("false"), TIMEOUT).await.expect_err("fails");
    assert_eq!(err.kind(), ErrorKind::Exit(1), "{err}");
    assert!(err.to_string().starts_with("exec:false: "), "{err}");
}

#[tokio::test]
async fn exit_code_is_passed_on() {
    let err = probe(&exec("sh -c 'exit 3'"), TIMEOUT).await.expect_err("fails");
    assert_eq!(err.kind(), ErrorKind::Exit(3), "{err}");
}

#[tokio::test]
async fn output_lands_in_the_detail() {
    let obs = probe(&sh("echo accepting connections; echo more"), TIMEOUT).await.expect("healthy");
    assert_eq!(obs.detail, "exit 0: accepting connections");

    let err = probe(&sh("echo progress; echo 'db is down' >&2; exit 2"), TIMEOUT).await.expect_err("fails");
    assert_eq!(err.kind(), ErrorKind::Exit(2));
    assert!(err.detail().contains("stderr: db is down"), "{err}");

    let err = probe(&sh("echo first; echo last line; exit 1"), TIMEOUT).await.expect_err("fails");
    assert!(err.detail().contains("stdout: last line"), "{err}");
}

#[tokio::test]
async fn large_output_is_capped_and_does_not_hang() {
    let started = Instant::now();
    let script = "yes 0123456789 | head -c 10000000; yes err | head -c 10000000 >&2; exit 1";
    let target = Target::Exec(ExecProbe::new(vec!["sh".into(), "-c".into(), script.into()]).with_output_limit(1000));
    let err = probe(&target, TIMEOUT).await.expect_err("fails");
    assert_eq!(err.kind(), ErrorKind::Exit(1), "{err}");
    assert!(err.detail().contains("output truncated at 1000 bytes"), "{err}");
    assert!(err.detail().len() < 500, "{err}");
    assert!(started.elapsed() < TIMEOUT, "took {:?}", started.elapsed());
}

#[tokio::test]
async fn program_not_found_is_io() {
    let err = probe(&exec("vitalcheck-no-such-program --flag"), TIMEOUT).await.expect_err("fails");
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert!(err.detail().contains(r#"cannot run "vitalcheck-no-such-program": not found"#), "{err}");
}

#[tokio::test]
async fn not_executable_is_io() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("script");
    std::fs::write(&path, "#!/bin/sh\nexit 0\n").expect("write");
    let path = path.to_str().expect("utf-8 path").to_string();
    let err = probe(&Target::Exec(ExecProbe::new(vec![path.clone()])), TIMEOUT).await.expect_err("fails");
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert!(err.detail().contains("permission denied"), "{err}");
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("pid");
    let script = format!("echo started; sleep 30 & echo $! > '{}'; wait", pid_file.display());
    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = probe(&sh(&script), timeout).await.expect_err("times out");
    assert_eq!(err.kind(), ErrorKind::Timeout(Phase::Exec), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(err.detail().contains("stdout: started"), "{err}");
    let grandchild = read_pid(&pid_file);
    assert!(wait_gone(grandchild).await, "background sleep {grandchild} still running");
}

#[tokio::test]
async fn background_children_are_killed_when_the_command_exits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("pid");
    // The background sleep inherits stdout: without the group kill, reading to EOF would hang.
    let script = format!("sleep 30 & echo $! > '{}'; echo ok", pid_file.display());
    let started = Instant::now();
    let obs = probe(&sh(&script), TIMEOUT).await.expect("healthy");
    assert_eq!(obs.detail, "exit 0: ok");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    let background = read_pid(&pid_file);
    assert!(wait_gone(background).await, "background sleep {background} still running");
}
