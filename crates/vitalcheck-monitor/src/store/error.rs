//! [`StoreError`]: everything a store can fail with.

use std::error::Error as StdError;
use std::path::PathBuf;

/// Why a store operation failed.
///
/// `Display` prints this level only; the underlying database error is in `source()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The directory that should hold the database could not be created.
    #[error("store: cannot create directory {path}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// The database reported an error while doing `op`.
    #[error("store: {op} failed")]
    Database {
        /// What the store was doing (`"open"`, `"migrate"`, `"write batch"`, `"read history"`...).
        op: &'static str,
        /// The database's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The database was written by a newer vitalcheck with a schema this one does not know.
    #[error("store: schema version {found} is newer than the newest this build knows ({supported})")]
    SchemaTooNew {
        /// `PRAGMA user_version` of the file.
        found: i64,
        /// The newest schema version this build can use.
        supported: i64,
    },
    /// The database is older than this build's schema and the store was opened read-only,
    /// so it cannot upgrade it.
    #[error(
        "store: schema version {found} of {path} is older than this build's {supported}; \
         run `vitalcheck run` once to upgrade it"
    )]
    SchemaTooOld {
        /// The database file.
        path: PathBuf,
        /// `PRAGMA user_version` of the file.
        found: i64,
        /// The schema version this build reads.
        supported: i64,
    },
    /// A read-only open found no database file.
    #[error("store: no store exists at {path} yet (has `vitalcheck run` run with this config?)")]
    NotFound {
        /// Where the database file should be.
        path: PathBuf,
    },
    /// A write or a prune on a store opened read-only.
    #[error("store: {path} is open read-only; writes are refused")]
    ReadOnly {
        /// The database file.
        path: PathBuf,
    },
    /// A stored value cannot be read back (the file was changed outside vitalcheck).
    #[error("store: the stored {what} of target {target:?} cannot be read")]
    Corrupt {
        /// The target whose row it is.
        target: String,
        /// What was being read (e.g. `"probe states"`).
        what: &'static str,
        /// Why it could not be read.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// A value given to the store cannot be stored (e.g. a timestamp outside SQLite's range).
    #[error("store: invalid {what}")]
    Invalid {
        /// Which value.
        what: String,
    },
    /// The store was shut down; no more writes are accepted.
    #[error("store: shut down, writes are no longer accepted")]
    Closed,
    /// The writer stopped without answering (it panicked or its thread is gone).
    #[error("store: the writer stopped without acknowledging")]
    WriterGone,
}

impl StoreError {
    /// Wraps a database error with what the store was doing.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn db(op: &'static str, source: impl StdError + Send + Sync + 'static) -> StoreError {
        StoreError::Database { op, source: Box::new(source) }
    }
}
