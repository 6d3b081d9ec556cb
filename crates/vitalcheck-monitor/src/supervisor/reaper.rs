//! Reaping orphans, for a supervisor running as PID 1 (or as a child subreaper).
//!
//! Processes that lose their parent are re-parented to PID 1 (or to the nearest
//! subreaper); when they exit they stay zombies until it waits for them. The catch: tokio
//! waits for the children it spawned (the supervised child, exec probes) by pid, and a
//! global `waitpid(-1)` would steal their exit status (tokio then sees `ECHILD`).
//!
//! So the reaper never waits for "any child". It lists this process's children from
//! `/proc/self/task/*/children`, keeps those in state `Z` (zombie), skips the pids it is
//! told are owned (the supervised child), and waits for each remaining zombie by its own
//! pid with `WNOHANG`, once it has been a zombie at two scans at least [`MIN_AGE`]
//! apart: tokio reaps its own children on the same SIGCHLD within milliseconds, so a
//! zombie that lasts is an orphan nobody else will wait for. Scans run on every SIGCHLD
//! and every [`MIN_AGE`].

use rustix::process::{Pid, WaitOptions, waitpid};
use std::collections::HashMap;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use super::Snapshot;
use tokio::time::Instant;

/// A zombie is reaped once it has been one for this long.
pub(crate) const MIN_AGE: Duration = Duration::from_millis(500);

/// Reaps orphaned zombies until the process exits.
#[derive(Debug)]
pub struct Reaper {
    owned: watch::Receiver<Snapshot>,
    seen: HashMap<i32, Instant>,
    reaped: u64,
}

impl Reaper {
    /// A reaper that leaves alone the supervised child (the pid in `owned`).
    pub fn new(owned: watch::Receiver<Snapshot>) -> Reaper {
        Reaper { owned, seen: HashMap::new(), reaped: 0 }
    }

    /// Makes this process a child subreaper (orphans of its descendants come to it, as
    /// they would to PID 1). Not needed when it is PID 1.
    pub fn become_subreaper() -> std::io::Result<()> {
        rustix::process::set_child_subreaper(Some(rustix::process::getpid())).map_err(Into::into)
    }

    /// Runs forever: scans on SIGCHLD and every 500 ms. `on_reap` gets each reaped
    /// pid and the running total.
    pub async fn run(mut self, mut on_reap: impl FnMut(i32, u64)) -> std::io::Result<()> {
        let mut sigchld = signal(SignalKind::child())?;
        let mut tick = tokio::time::interval(MIN_AGE);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = sigchld.recv() => {}
                _ = tick.tick() => {}
            }
            for (pid, total) in self.scan(Instant::now()) {
                on_reap(pid, total);
            }
        }
    }

    /// One scan at `now`: reaps the zombies old enough; returns each pid with the running
    /// total.
    pub fn scan(&mut self, now: Instant) -> Vec<(i32, u64)> {
        let owned = self.owned.borrow().pid;
        let zombies: Vec<i32> = children()
            .into_iter()
            .filter(|&pid| owned.is_none_or(|own| i64::from(own) != i64::from(pid)))
            .filter(|&pid| is_zombie(pid))
            .collect();
        self.seen.retain(|pid, _| zombies.contains(pid));
        let mut reaped = Vec::new();
        for pid in zombies {
            let first = *self.seen.entry(pid).or_insert(now);
            if now.saturating_duration_since(first) < MIN_AGE {
                continue;
            }
            if let Some(raw) = Pid::from_raw(pid)
                && let Ok(Some(_)) = waitpid(Some(raw), WaitOptions::NOHANG)
            {
                self.seen.remove(&pid);
                self.reaped += 1;
                reaped.push((pid, self.reaped));
            }
        }
        reaped
    }
}

/// This process's children, from every thread's `children` file.
fn children() -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return Vec::new() };
    let mut pids = Vec::new();
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            pids.extend(text.split_ascii_whitespace().filter_map(|p| p.parse::<i32>().ok()));
        }
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Whether `/proc/PID/stat` says `Z`. The state follows the last `)` (the name may hold one).
fn is_zombie(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
}
