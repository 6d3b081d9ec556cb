//! The command notifier: the program runs (no shell) in its own process group, with the
//! JSON payload on stdin and `VITALCHECK_DELIVERY=<outbox id>` in its environment; exit
//! status 0 means delivered. Its stdout and stderr are discarded. When it exits, or when
//! the caller's timeout drops the delivery, the whole group is killed, so nothing it
//! started in the background outlives the delivery (as for exec probes).

use rustix::process::{Pid, Signal, kill_process_group};
use std::process::Stdio;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// Runs `argv` with `payload` on stdin; the caller bounds the time.
pub(crate) async fn send(argv: &[String], delivery: i64, payload: &str) -> Result<(), String> {
    let (program, args) = argv.split_first().ok_or("no program")?;
    let mut child = Command::new(program)
        .args(args)
        .env("VITALCHECK_DELIVERY", delivery.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start the command: {}", e.kind()))?;
    // The child leads its own group, so its pid is the group id.
    let _group = GroupGuard(child.id().and_then(|id| Pid::from_raw(id as i32)));
    if let Some(mut stdin) = child.stdin.take() {
        // A program that exits without reading is judged by its exit status alone.
        let _ = stdin.write_all(payload.as_bytes()).await;
        let _ = stdin.shutdown().await;
    }
    let status = child.wait().await.map_err(|e| format!("cannot wait for the command: {}", e.kind()))?;
    if status.success() { Ok(()) } else { Err(format!("the command failed ({status})")) }
}

/// Kills the process group when dropped: after the command exits, or when a timeout
/// drops the delivery. A group that is already gone is fine.
struct GroupGuard(Option<Pid>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(group) = self.0 {
            let _ = kill_process_group(group, Signal::KILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::send;
    use std::path::Path;
    use std::time::Duration;

    /// Whether process `pid` is still running (gone, or a zombie waiting for its parent,
    /// counts as not running).
    fn running(pid: &str) -> bool {
        match std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())) {
            Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
            Err(_) => false,
        }
    }

    async fn background_pid(file: &Path) -> String {
        for _ in 0..500 {
            if let Ok(pid) = std::fs::read_to_string(file)
                && !pid.trim().is_empty()
            {
                return pid;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the command did not write {}", file.display());
    }

    async fn gone(pid: &str) -> bool {
        for _ in 0..500 {
            if !running(pid) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    fn argv(script: &str, file: &Path) -> Vec<String> {
        ["sh", "-c", script, "sh"].iter().map(|s| s.to_string()).chain([file.display().to_string()]).collect()
    }

    #[tokio::test]
    async fn a_timed_out_command_leaves_nothing_running() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pid");
        let argv = argv("sleep 300 & echo $! > \"$1\"; wait", &file);
        let delivery = send(&argv, 1, "{}");
        let timed_out = tokio::time::timeout(Duration::from_millis(300), delivery).await;
        assert!(timed_out.is_err(), "the command should still be waiting: {timed_out:?}");
        let pid = background_pid(&file).await;
        assert!(gone(&pid).await, "the background sleep {pid} outlived the timed-out delivery");
    }

    #[tokio::test]
    async fn what_a_command_starts_in_the_background_ends_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pid");
        let argv = argv("sleep 300 </dev/null >/dev/null 2>&1 & echo $! > \"$1\"; cat >/dev/null", &file);
        assert_eq!(send(&argv, 1, "{}").await, Ok(()));
        let pid = background_pid(&file).await;
        assert!(gone(&pid).await, "the background sleep {pid} outlived the delivery");
        let failing: Vec<String> = ["sh", "-c", "exit 3"].iter().map(|s| s.to_string()).collect();
        assert!(send(&failing, 2, "").await.is_err_and(|e| e.contains("exit status: 3")));
    }
}
