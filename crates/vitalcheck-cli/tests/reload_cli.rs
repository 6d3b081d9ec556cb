//! `vitalcheck reload`, the real binary: no instance (exit 1), a bad config (exit 2, no
//! signal), and SIGHUP delivered to the pid in a lock file this test holds.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use assert_cmd::Command;
use predicates::prelude::*;
use rustix::fs::{FlockOperation, flock};
use rustix::process::{Pid, Signal, kill_process};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

fn vitalcheck() -> Command {
    let mut cmd = Command::cargo_bin("vitalcheck").expect("binary built");
    cmd.env_remove("VITALCHECK_CONFIG");
    cmd
}

/// A valid config in `dir` whose store is `dir/vitalcheck.db`.
fn config(dir: &Path) -> PathBuf {
    let file = dir.join("vitalcheck.toml");
    std::fs::write(
        &file,
        "[storage]\npath = \"vitalcheck.db\"\n\n[[targets]]\nname = \"api\"\ntarget = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    file
}

/// The child, killed and reaped when dropped (also when a test fails).
struct Printer(Child);

impl Drop for Printer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A shell that prints `hup` / `usr1` for each signal it gets, its stdout lines on a channel.
fn signal_printer() -> (Printer, Receiver<String>) {
    let script = r#"trap 'echo hup' HUP; trap 'echo usr1' USR1; echo ready; while :; do sleep 0.05; done"#;
    let mut child = std::process::Command::new("sh").args(["-c", script]).stdout(Stdio::piped()).spawn().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let child = Printer(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    assert_eq!(next_line(&rx), "ready");
    (child, rx)
}

fn next_line(rx: &Receiver<String>) -> String {
    rx.recv_timeout(Duration::from_secs(10)).expect("a line from the child within 10 s")
}

fn pid_of(child: &Printer) -> i32 {
    i32::try_from(child.0.id()).unwrap()
}

#[test]
fn without_a_running_instance_reload_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = config(dir.path());
    let db = dir.path().join("vitalcheck.db");
    let expected = format!("no `vitalcheck run` is running with {}", db.display());
    vitalcheck()
        .args(["reload", "-c"])
        .arg(&file)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(expected));
    vitalcheck()
        .args(["reload", "--db"])
        .arg(&db)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!("nothing holds the lock {}.pid", db.display())));
    assert!(!db.exists(), "reload creates no store");
}

#[test]
fn a_bad_config_exits_2_with_the_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vitalcheck.toml");
    std::fs::write(&file, "[[targets]]\nname = \"db\"\ntarget = \"127.0.0.1:5432\"\ninterval = \"0s\"\n").unwrap();
    let expected = format!(
        "error: {}:4:12: targets[0].interval: must be greater than zero\n  |\n4 | interval = \"0s\"\n  |            ^^^^\n",
        file.display()
    );
    vitalcheck().args(["reload", "-c"]).arg(&file).assert().code(2).stdout("").stderr(expected);
}

/// The sequence of signals the child sees is exactly what was meant: none from a stale
/// lock file or a bad config, one per successful reload (USR1 from the test marks the
/// points in between).
#[test]
fn reload_signals_the_pid_in_the_held_lock_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let good = config(dir.path());
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[storage]\npath = \"vitalcheck.db\"\n[[targets]]\nname = \"api\"\n").unwrap();
    let db = dir.path().join("vitalcheck.db");
    let (child, lines) = signal_printer();
    let pid = pid_of(&child);
    let lock_path = dir.path().join("vitalcheck.db.pid");
    std::fs::write(&lock_path, format!("{pid}\n")).unwrap();
    let usr1 = || kill_process(Pid::from_raw(pid).unwrap(), Signal::USR1).unwrap();

    // Stale: the file names a live process, but nobody holds the lock.
    vitalcheck().args(["reload", "-c"]).arg(&good).assert().code(1);

    let lock = std::fs::File::open(&lock_path).unwrap();
    flock(&lock, FlockOperation::NonBlockingLockExclusive).unwrap();
    vitalcheck().args(["reload", "-c"]).arg(&bad).assert().code(2).stdout("");
    usr1();
    assert_eq!(next_line(&lines), "usr1", "no SIGHUP from the stale file or the bad config");

    let expected = format!("sent SIGHUP to vitalcheck run (pid {pid}); it reloads {}\n", good.display());
    vitalcheck().args(["reload", "-c"]).arg(&good).assert().code(0).stdout(expected).stderr("");
    assert_eq!(next_line(&lines), "hup");
    let expected = format!("sent SIGHUP to vitalcheck run (pid {pid}); it reloads the config it was started with\n");
    vitalcheck().args(["reload", "--db"]).arg(&db).assert().code(0).stdout(expected);
    assert_eq!(next_line(&lines), "hup");
    usr1();
    assert_eq!(next_line(&lines), "usr1", "one SIGHUP per reload");
}
