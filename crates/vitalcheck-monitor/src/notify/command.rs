//! The command notifier: the program runs (no shell) with the JSON payload on stdin and
//! `VITALCHECK_DELIVERY=<outbox id>` in its environment; exit status 0 means delivered.
//! Its stdout and stderr are discarded. On timeout the child is killed.

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
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start the command: {}", e.kind()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A program that exits without reading is judged by its exit status alone.
        let _ = stdin.write_all(payload.as_bytes()).await;
        let _ = stdin.shutdown().await;
    }
    let status = child.wait().await.map_err(|e| format!("cannot wait for the command: {}", e.kind()))?;
    if status.success() { Ok(()) } else { Err(format!("the command failed ({status})")) }
}
