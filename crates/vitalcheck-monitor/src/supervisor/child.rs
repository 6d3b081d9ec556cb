//! The supervised process: spawned as the leader of its own process group, with stdin,
//! stdout and stderr inherited; signalled as a group; stopped with TERM, then KILL after a
//! grace period.

use rustix::process::{Pid, Signal, kill_process, kill_process_group};
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;
use tokio::process::Command;

/// The child could not be started.
#[derive(Debug, thiserror::Error)]
#[error("cannot start {program:?}: {source}")]
pub struct SpawnError {
    /// The program that was to run.
    pub program: String,
    /// Why not.
    #[source]
    pub source: io::Error,
}

/// A running child, leader of its own process group.
#[derive(Debug)]
pub struct Child {
    inner: tokio::process::Child,
    pid: Pid,
}

/// How a stop went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// The child's code (128 + signal when a signal ended it).
    pub code: i32,
    /// The grace period ran out and the group was killed.
    pub killed: bool,
}

impl Child {
    /// Starts `argv` in its own process group (no shell). Killed if dropped.
    pub fn spawn(argv: &[String]) -> Result<Child, SpawnError> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| SpawnError { program: String::new(), source: io::Error::other("the command is empty") })?;
        let inner = Command::new(program)
            .args(args)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| SpawnError { program: program.clone(), source })?;
        let pid = inner
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .and_then(Pid::from_raw)
            .ok_or_else(|| SpawnError { program: program.clone(), source: io::Error::other("the child has no pid") })?;
        Ok(Child { inner, pid })
    }

    /// The child's pid (also its process group id).
    pub fn pid(&self) -> u32 {
        self.pid.as_raw_nonzero().get().unsigned_abs()
    }

    /// Waits for the child to exit (cancel safe) and returns its code.
    pub async fn wait(&mut self) -> io::Result<i32> {
        self.inner.wait().await.map(code_of)
    }

    /// Sends `signal` to the child only.
    pub fn signal(&self, signal: Signal) -> io::Result<()> {
        kill_process(self.pid, signal).map_err(io::Error::from)
    }

    /// Sends `signal` to the child's whole process group. A group already gone is fine.
    pub fn signal_group(&self, signal: Signal) -> io::Result<()> {
        match kill_process_group(self.pid, signal) {
            Ok(()) | Err(rustix::io::Errno::SRCH) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Sends `signal` to the group, waits up to `grace` for the child to exit, then kills
    /// the group. Whatever is left in the group afterwards (grandchildren) is killed too.
    pub async fn stop(&mut self, signal: Signal, grace: Duration) -> io::Result<Stopped> {
        self.signal_group(signal)?;
        let stopped = match tokio::time::timeout(grace, self.inner.wait()).await {
            Ok(status) => Stopped { code: code_of(status?), killed: false },
            Err(_) => {
                self.signal_group(Signal::KILL)?;
                Stopped { code: code_of(self.inner.wait().await?), killed: true }
            }
        };
        self.kill_leftovers();
        Ok(stopped)
    }

    /// After the leader exited: kills what it left running in its group.
    pub fn kill_leftovers(&self) {
        // Errors other than "no such group" cannot happen for our own group; nothing to do.
        let _ = self.signal_group(Signal::KILL);
    }
}

/// An exit status as a shell reports it: the code, or 128 + the signal.
pub fn code_of(status: ExitStatus) -> i32 {
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}
