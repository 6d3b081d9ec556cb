//! [`SqliteStore`]: the default [`Store`], one SQLite file in WAL mode.
//!
//! One writer thread owns the read-write connection and drains a bounded queue, writing
//! queued batches in one transaction (statements prepared once, `prepare_cached`). Reads
//! use separate read-only connections from a small pool, so they never wait for the
//! writer (WAL readers see the last committed state).
//!
//! # Durability
//! The file runs with `journal_mode=WAL` and `synchronous=NORMAL`. An [`Ack`] resolves after
//! the commit has been written to the WAL file: from then on the batch survives the
//! process being killed (`kill -9`, a panic, an OOM kill). A power loss or an OS crash may
//! lose the last commits before the WAL is synced at a checkpoint, but never corrupts the
//! database. This is the trade measured in CRATES.md: `synchronous=FULL` costs an fsync
//! per commit.
//!
//! # Reading beside a running writer
//! [`SqliteStore::open_read_only`] opens the file another process (`vitalcheck run`) is
//! writing: no writer thread, no migration, and writes are refused with
//! [`StoreError::ReadOnly`]. It reads what the writer has committed, as its own readers do.

mod outbox;
mod probes;
mod queries;
mod schema;
mod writer;

use super::{
    Ack, Batch, Enqueue, HistoryQuery, NumberedTransition, OutboxRow, OutboxUpdate, PruneStats, ResultRow, StateRow,
    StatusCounts, Store, StoreError, TransitionRow,
};
use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;
use writer::{Command, Grouping, OutboxWrite};

/// Tuning for a [`SqliteStore`]; [`SqliteOptions::default`] suits the engine.
///
/// Defaults: queue of 64 batches, commit at 10,000 rows or 2 ms after the first queued
/// batch, busy timeout 5 s, 4 idle read connections kept, prune chunks of 5,000 rows,
/// a 32 MiB writer page cache, a WAL checkpoint every 10,000 pages (about 40 MiB).
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// How many batches may wait for the writer before [`Store::record`] blocks.
    pub queue_capacity: usize,
    /// The writer commits once queued batches hold this many rows.
    pub max_rows_per_commit: usize,
    /// The writer commits at the latest this long after the first batch of a group.
    pub linger: Duration,
    /// How long a connection waits for a lock held by another process.
    pub busy_timeout: Duration,
    /// How many idle read-only connections are kept for reuse.
    pub max_idle_readers: usize,
    /// How many rows [`Store::prune`] deletes per transaction.
    pub prune_chunk: usize,
    /// The writer's page cache, in KiB (`PRAGMA cache_size`).
    pub cache_kib: u32,
    /// Checkpoint the WAL into the database once it holds this many pages
    /// (`PRAGMA wal_autocheckpoint`; pages are 4 KiB).
    pub wal_autocheckpoint_pages: u32,
}

impl Default for SqliteOptions {
    fn default() -> SqliteOptions {
        SqliteOptions {
            queue_capacity: 64,
            max_rows_per_commit: 10_000,
            linger: Duration::from_millis(2),
            busy_timeout: Duration::from_secs(5),
            max_idle_readers: 4,
            prune_chunk: 5_000,
            cache_kib: 32 * 1024,
            wal_autocheckpoint_pages: 10_000,
        }
    }
}

/// The SQLite [`Store`]: results, states and transitions in one file.
///
/// [`SqliteStore::open`] creates the file and its parent directories if needed and
/// migrates the schema; [`SqliteStore::open_read_only`] only reads an existing file.
/// Dropping the store (or [`Store::shutdown`]) writes everything still queued.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    options: SqliteOptions,
    /// Opened with [`SqliteStore::open_read_only`]: no writer, writes refused.
    read_only: bool,
    queue: RwLock<Option<SyncSender<Command>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(path, SqliteOptions::default())
    }

    /// Opens (or creates) the database at `path`: creates missing parent directories,
    /// sets WAL and `synchronous=NORMAL`, migrates the schema and starts the writer thread.
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir { path: dir.to_path_buf(), source })?;
        }
        let mut conn = Connection::open(&path).map_err(|e| StoreError::db("open", e))?;
        schema::configure_writer(&conn, &options)?;
        schema::migrate(&mut conn)?;
        let (tx, rx) = mpsc::sync_channel(options.queue_capacity.max(1));
        let grouping = Grouping { max_rows: options.max_rows_per_commit.max(1), linger: options.linger };
        let writer = std::thread::Builder::new()
            .name("vitalcheck-store-writer".into())
            .spawn(move || writer::run(conn, rx, grouping))
            .map_err(|e| StoreError::db("start writer thread", e))?;
        Ok(SqliteStore {
            path,
            options,
            read_only: false,
            queue: RwLock::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// Opens the existing database at `path` for reading only, for `vitalcheck status` and
    /// `history` while `vitalcheck run` writes the same file.
    ///
    /// Writes nothing to the database file, migrates nothing and starts no writer thread.
    /// It does create SQLite's `-wal` and `-shm` files beside the database when they are
    /// missing (a file closed cleanly): a WAL reader needs them, and it leaves them behind
    /// (empty of changes) for the next writer to use.
    ///
    /// Reads work as in a store opened with [`SqliteStore::open`] and see every commit of
    /// the writer; [`Store::record`] and [`Store::prune`] fail with
    /// [`StoreError::ReadOnly`]; [`Store::shutdown`] has nothing to do.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no file at `path`;
    /// [`StoreError::SchemaTooNew`] or [`StoreError::SchemaTooOld`] when its schema is not
    /// the one this build writes (a read-only store cannot upgrade it);
    /// [`StoreError::Database`] when SQLite cannot open or read it.
    ///
    /// ```
    /// use vitalcheck::Status;
    /// use vitalcheck_monitor::store::{Batch, HistoryQuery, ResultRow, SqliteStore, Store, StoreError};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("vitalcheck.db");
    /// assert!(matches!(SqliteStore::open_read_only(&path), Err(StoreError::NotFound { .. })));
    ///
    /// let writer = SqliteStore::open(&path)?; // `vitalcheck run`
    /// let at = jiff::Timestamp::from_second(1_700_000_000)?;
    /// let row = ResultRow::new("api", at, Status::Healthy, 900).with_probe("liveness");
    /// writer.record(Batch::from_results(vec![row.clone()]))?.wait()?;
    ///
    /// let reader = SqliteStore::open_read_only(&path)?; // `vitalcheck history`
    /// assert_eq!(reader.history(&HistoryQuery::new("api"))?, [row]);
    /// assert!(matches!(reader.record(Batch::default()), Err(StoreError::ReadOnly { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Err(e) = std::fs::metadata(&path)
            && e.kind() == std::io::ErrorKind::NotFound
        {
            return Err(StoreError::NotFound { path });
        }
        let store = SqliteStore {
            path,
            options: SqliteOptions::default(),
            read_only: true,
            queue: RwLock::new(None),
            writer: Mutex::new(None),
            readers: Mutex::new(Vec::new()),
        };
        let conn = store.open_reader()?;
        let found = schema::version(&conn)?;
        if found > schema::LATEST {
            return Err(StoreError::SchemaTooNew { found, supported: schema::LATEST });
        }
        if found < schema::LATEST {
            return Err(StoreError::SchemaTooOld { path: store.path.clone(), found, supported: schema::LATEST });
        }
        store.readers.lock().unwrap_or_else(PoisonError::into_inner).push(conn);
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on a read-only connection from the pool (opening one if none is idle).
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let idle = self.readers.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open_reader()?,
        };
        let result = f(&conn);
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if readers.len() < self.options.max_idle_readers {
            readers.push(conn);
        }
        result
    }

    fn open_reader(&self) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(|e| StoreError::db("open reader", e))?;
        conn.busy_timeout(self.options.busy_timeout).map_err(|e| StoreError::db("open reader", e))?;
        Ok(conn)
    }

    /// Sends `command` to the writer; blocks while the queue is full.
    fn send(&self, command: Command) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly { path: self.path.clone() });
        }
        let queue = self.queue.read().unwrap_or_else(PoisonError::into_inner);
        let sender = queue.as_ref().ok_or(StoreError::Closed)?;
        sender.send(command).map_err(|_| StoreError::WriterGone)
    }

    /// Sends an outbox change to the writer and waits for its commit.
    fn outbox_write(&self, write: OutboxWrite) -> Result<Vec<i64>, StoreError> {
        let (reply, answer) = mpsc::channel();
        self.send(Command::Outbox(write, reply))?;
        answer.recv().map_err(|_| StoreError::WriterGone)?
    }
}

impl Store for SqliteStore {
    fn record(&self, batch: Batch) -> Result<Ack, StoreError> {
        let (tx, ack) = Ack::pending();
        self.send(Command::Write(batch, tx))?;
        Ok(ack)
    }

    fn load_states(&self) -> Result<Vec<StateRow>, StoreError> {
        self.read(queries::load_states)
    }

    fn history(&self, query: &HistoryQuery) -> Result<Vec<ResultRow>, StoreError> {
        self.read(|conn| queries::history(conn, query))
    }

    fn scan_results(&self, since: Timestamp, each: &mut dyn FnMut(ResultRow)) -> Result<u64, StoreError> {
        self.read(|conn| queries::scan_results(conn, since, each))
    }

    fn transitions(
        &self,
        target: Option<&str>,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<TransitionRow>, StoreError> {
        self.read(|conn| queries::transitions(conn, target, since, limit))
    }

    fn status_counts(&self, target: &str, since: Timestamp) -> Result<StatusCounts, StoreError> {
        self.read(|conn| queries::status_counts(conn, target, since))
    }

    fn prune(&self, older_than: Timestamp) -> Result<PruneStats, StoreError> {
        let chunk = self.options.prune_chunk.max(1);
        let mut total = PruneStats::default();
        loop {
            let (reply, answer) = mpsc::channel();
            self.send(Command::PruneChunk { older_than, chunk, reply })?;
            let step = answer.recv().map_err(|_| StoreError::WriterGone)??;
            total.results += step.results;
            total.transitions += step.transitions;
            if step.results < chunk as u64 && step.transitions < chunk as u64 {
                return Ok(total);
            }
        }
    }

    fn transitions_after(&self, after: i64, limit: usize) -> Result<Vec<NumberedTransition>, StoreError> {
        self.read(|conn| outbox::transitions_after(conn, after, limit))
    }

    fn last_transition_id(&self) -> Result<i64, StoreError> {
        self.read(outbox::last_transition_id)
    }

    fn notify_cursors(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.read(outbox::cursors)
    }

    fn enqueue(&self, entry: Enqueue) -> Result<Vec<i64>, StoreError> {
        self.outbox_write(OutboxWrite::Enqueue(entry))
    }

    fn pending_outbox(&self, limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
        self.read(|conn| outbox::pending(conn, limit))
    }

    fn update_outbox(&self, update: OutboxUpdate) -> Result<(), StoreError> {
        self.outbox_write(OutboxWrite::Update(update)).map(drop)
    }

    fn shutdown(&self) -> Result<(), StoreError> {
        // Idle readers go first, so that the writer's connection is the last one of this
        // process: closing it then checkpoints the WAL and removes it (if no other process
        // has the file open). Later reads open new readers.
        self.readers.lock().unwrap_or_else(PoisonError::into_inner).clear();
        // Dropping the only sender lets the writer finish the queue and stop.
        drop(self.queue.write().unwrap_or_else(PoisonError::into_inner).take());
        let handle = self.writer.lock().unwrap_or_else(PoisonError::into_inner).take();
        match handle {
            Some(handle) => handle.join().map_err(|_| StoreError::WriterGone),
            None => Ok(()),
        }
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; call `shutdown` to see them.
        let _ = self.shutdown();
    }
}

#[cfg(test)]
mod tests;
