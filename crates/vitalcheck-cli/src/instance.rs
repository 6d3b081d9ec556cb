//! One `vitalcheck run` per database: a lock file beside the database, and how other
//! commands find the running instance (`reload` signals it).
//!
//! `vitalcheck run` holds `<db>.pid` (the database's full file name plus `.pid`) open with an
//! exclusive `flock` for as long as it runs, with its pid written inside. The kernel drops
//! the lock when the process exits, however it exits, so a leftover file whose lock nobody
//! holds is stale and never counts as a running instance. When the instance serves its
//! API, a second line `api ADDR` says where (`status` asks it there).
//!
//! flock locks belong to an open file description, not to a process: a second open of the
//! same file in the same process conflicts like another process would.

use rustix::fs::{FlockOperation, flock};
use rustix::io::Errno;
use rustix::process::{Pid, Signal, kill_process};
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often [`InstanceLock::acquire`] tries again while the lock is busy: a `status` or
/// `reload` testing the lock holds it (shared) for an instant, which must not be taken
/// for a running instance. Waits 1, 2, 4, ... ms between tries (about 60 ms in all).
const BUSY_RETRIES: u32 = 6;

/// How the lock file's second line names the API's address.
const API_PREFIX: &str = "api ";

/// Why the lock could not be taken, read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum InstanceError {
    /// Another process holds the lock of this database.
    #[error("another `vitalcheck run` ({}) is using {}", pid_text(*.pid), .db.display())]
    AlreadyRunning {
        /// The pid written in the lock file, when it could be read.
        pid: Option<i32>,
        /// The database.
        db: PathBuf,
    },
    /// Nobody holds the lock of this database.
    #[error("no `vitalcheck run` is running with {} (nothing holds the lock {})", .db.display(), lock_path(.db).display())]
    NotRunning {
        /// The database.
        db: PathBuf,
    },
    /// The lock file is held but does not hold a pid.
    #[error("the lock file {} is held but holds no pid: {content:?}", .path.display())]
    BadPid {
        /// The lock file.
        path: PathBuf,
        /// What it holds (at most 64 bytes of it).
        content: String,
    },
    /// The lock file could not be opened, locked, read or written.
    #[error("cannot {op} {}", .path.display())]
    Io {
        /// What was being done (`"open"`, `"lock"`, `"write"`...).
        op: &'static str,
        /// The lock file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The signal could not be sent.
    #[error("cannot send SIGHUP to `vitalcheck run` (pid {pid})")]
    Signal {
        /// The process.
        pid: i32,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

/// `pid 1234`, or `pid unknown`.
fn pid_text(pid: Option<i32>) -> String {
    pid.map_or_else(|| "pid unknown".to_string(), |pid| format!("pid {pid}"))
}

/// The lock file of database `db`: its full file name with `.pid` appended.
pub(crate) fn lock_path(db: &Path) -> PathBuf {
    let mut name = OsString::from(db.as_os_str());
    name.push(".pid");
    PathBuf::from(name)
}

/// Makes an [`InstanceError::Io`] about `path` from an I/O error.
fn io_err(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> InstanceError + use<> {
    let path = path.to_path_buf();
    move |source| InstanceError::Io { op, path, source }
}

/// The lock of a running instance: held until dropped, which removes the lock file.
#[derive(Debug)]
pub(crate) struct InstanceLock {
    file: File,
    path: PathBuf,
}

impl InstanceLock {
    /// Takes the lock of database `db` (creating `<db>.pid`) and writes this process's pid
    /// into it; fails with [`InstanceError::AlreadyRunning`] when another holds it.
    pub(crate) fn acquire(db: &Path) -> Result<InstanceLock, InstanceError> {
        let path = lock_path(db);
        loop {
            let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path);
            let file = file.map_err(io_err("open", &path))?;
            if !lock_with_retries(&file, &path)? {
                return Err(InstanceError::AlreadyRunning { pid: read_pid(&path).ok(), db: db.to_path_buf() });
            }
            // The previous holder may have removed the file between our open and our lock:
            // then we hold a lock on a file nobody else will open. Start over.
            if same_file(&file, &path) {
                let mut lock = InstanceLock { file, path };
                lock.write_pid()?;
                return Ok(lock);
            }
        }
    }

    /// The lock file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn write_pid(&mut self) -> Result<(), InstanceError> {
        self.write(&format!("{}\n", std::process::id()))
    }

    /// Adds the address the API listens on (a second line, `api ADDR`), so `status` can
    /// find the running instance's API even when `[server] listen` picked a free port.
    pub(crate) fn publish_api(&mut self, addr: SocketAddr) -> Result<(), InstanceError> {
        self.write(&format!("{}\n{API_PREFIX}{addr}\n", std::process::id()))
    }

    fn write(&mut self, text: &str) -> Result<(), InstanceError> {
        self.file.set_len(0).map_err(io_err("write", &self.path))?;
        self.file.write_all_at(text.as_bytes(), 0).map_err(io_err("write", &self.path))
    }
}

impl Drop for InstanceLock {
    /// Removes the file while still holding the lock, then closes it (releasing the lock).
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Tries the exclusive lock, again a few times while it is busy; `false` when still busy.
fn lock_with_retries(file: &File, path: &Path) -> Result<bool, InstanceError> {
    for attempt in 0..=BUSY_RETRIES {
        match flock(file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(true),
            Err(Errno::WOULDBLOCK) if attempt < BUSY_RETRIES => {
                std::thread::sleep(Duration::from_millis(1 << attempt));
            }
            Err(Errno::WOULDBLOCK) => return Ok(false),
            Err(errno) => return Err(io_err("lock", path)(errno.into())),
        }
    }
    Ok(false)
}

/// Whether the open `file` is still the one at `path`.
fn same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// The pid written in lock file `path`.
fn read_pid(path: &Path) -> Result<i32, InstanceError> {
    let mut text = String::new();
    File::open(path).and_then(|mut f| f.read_to_string(&mut text)).map_err(io_err("read", path))?;
    match text.lines().next().unwrap_or_default().trim().parse::<i32>() {
        Ok(pid) if pid > 0 => Ok(pid),
        _ => {
            let content = text.chars().take(64).collect();
            Err(InstanceError::BadPid { path: path.to_path_buf(), content })
        }
    }
}

/// The pid of the `vitalcheck run` using database `db`: `Some` only when `<db>.pid` exists
/// and its lock is held; `None` when there is no file or the file is stale.
pub(crate) fn running_pid(db: &Path) -> Result<Option<i32>, InstanceError> {
    let path = lock_path(db);
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("open", &path)(e)),
    };
    match flock(&file, FlockOperation::NonBlockingLockShared) {
        // Nobody holds it: stale. Closing `file` releases our shared lock at once.
        Ok(()) => Ok(None),
        Err(Errno::WOULDBLOCK) => read_pid(&path).map(Some),
        Err(errno) => Err(io_err("lock", &path)(errno.into())),
    }
}

/// Where the API of the `vitalcheck run` using database `db` can be reached: `Some`
/// only when that instance runs and serves one (a wildcard address as loopback).
pub(crate) fn running_api(db: &Path) -> Result<Option<SocketAddr>, InstanceError> {
    if running_pid(db)?.is_none() {
        return Ok(None);
    }
    let path = lock_path(db);
    let text = std::fs::read_to_string(&path).map_err(io_err("read", &path))?;
    let addr = text.lines().find_map(|l| l.strip_prefix(API_PREFIX)).and_then(|a| a.trim().parse::<SocketAddr>().ok());
    Ok(addr.map(|mut addr| {
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() { Ipv4Addr::LOCALHOST.into() } else { Ipv6Addr::LOCALHOST.into() });
        }
        addr
    }))
}

/// Sends SIGHUP to the `vitalcheck run` using database `db` (it then reloads its config);
/// returns its pid, or [`InstanceError::NotRunning`].
pub(crate) fn reload(db: &Path) -> Result<i32, InstanceError> {
    let pid = running_pid(db)?.ok_or_else(|| InstanceError::NotRunning { db: db.to_path_buf() })?;
    let bad_pid = || InstanceError::BadPid { path: lock_path(db), content: pid.to_string() };
    let target = Pid::from_raw(pid).ok_or_else(bad_pid)?;
    kill_process(target, Signal::HUP).map_err(|errno| InstanceError::Signal { pid, source: errno.into() })?;
    Ok(pid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::sync::mpsc;

    fn own_pid() -> i32 {
        i32::try_from(std::process::id()).unwrap()
    }

    #[test]
    fn the_lock_file_appends_pid_to_the_full_name() {
        assert_eq!(lock_path(Path::new("/x/vitalcheck.db")), Path::new("/x/vitalcheck.db.pid"));
    }

    #[test]
    fn a_second_acquire_fails_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("vitalcheck.db");
        let first = InstanceLock::acquire(&db).unwrap();
        assert_eq!(std::fs::read_to_string(first.path()).unwrap(), format!("{}\n", own_pid()));
        let err = InstanceLock::acquire(&db).unwrap_err();
        assert!(matches!(&err, InstanceError::AlreadyRunning { pid: Some(p), .. } if *p == own_pid()), "{err:?}");
        let expected = format!("another `vitalcheck run` (pid {}) is using {}", own_pid(), db.display());
        assert_eq!(err.to_string(), expected);
        drop(first);
        assert!(!lock_path(&db).exists(), "dropping removes the lock file");
        let again = InstanceLock::acquire(&db).unwrap();
        drop(again);
    }

    #[test]
    fn running_pid_needs_a_held_lock() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("vitalcheck.db");
        assert_eq!(running_pid(&db).unwrap(), None, "no file");
        std::fs::write(lock_path(&db), "12345\n").unwrap();
        assert_eq!(running_pid(&db).unwrap(), None, "a stale file");
        let lock = InstanceLock::acquire(&db).unwrap();
        assert_eq!(running_pid(&db).unwrap(), Some(own_pid()));
        assert!(InstanceLock::acquire(&db).is_err(), "checking released its shared lock, ours still holds");
        drop(lock);
        assert_eq!(running_pid(&db).unwrap(), None);
    }

    #[test]
    fn a_held_lock_without_a_pid_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("vitalcheck.db");
        let lock = InstanceLock::acquire(&db).unwrap();
        std::fs::write(lock.path(), "garbage").unwrap();
        assert!(matches!(running_pid(&db), Err(InstanceError::BadPid { .. })));
    }

    #[test]
    fn reload_without_an_instance_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("vitalcheck.db");
        let err = reload(&db).unwrap_err();
        assert!(matches!(err, InstanceError::NotRunning { .. }), "{err:?}");
        assert!(err.to_string().contains("vitalcheck.db.pid"), "{err}");
    }

    /// Kills and reaps the child when a test fails before handing it on.
    struct KillOnDrop(Option<std::process::Child>);

    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            if let Some(mut child) = self.0.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    /// The lock is held by this test; the pid inside is a child shell's, which marks a file
    /// when it gets SIGHUP.
    #[test]
    fn reload_sends_sighup_to_the_pid_in_the_held_lock() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("vitalcheck.db");
        let mark = dir.path().join("got-hup");
        let script = r#"trap 'touch "$MARK"; exit 0' HUP; echo ready; while :; do sleep 0.05; done"#;
        let mut child =
            Command::new("sh").args(["-c", script]).env("MARK", &mark).stdout(Stdio::piped()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let child_pid = i32::try_from(child.id()).unwrap();
        let mut guard = KillOnDrop(Some(child));
        let mut ready = String::new();
        BufReader::new(stdout).read_line(&mut ready).unwrap();
        assert_eq!(ready, "ready\n", "the trap is set");

        let lock = InstanceLock::acquire(&db).unwrap();
        std::fs::write(lock.path(), format!("{child_pid}\n")).unwrap();
        assert_eq!(reload(&db).unwrap(), child_pid);

        let mut child = guard.0.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(child.wait()));
        let Ok(status) = rx.recv_timeout(Duration::from_secs(10)) else {
            let _ = kill_process(Pid::from_raw(child_pid).unwrap(), Signal::KILL);
            panic!("the child did not exit after SIGHUP");
        };
        assert!(status.unwrap().success());
        assert!(mark.exists(), "the child ran its HUP trap");
    }
}
