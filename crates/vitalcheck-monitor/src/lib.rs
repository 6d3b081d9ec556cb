//! The vitalcheck engine: many targets on schedules, the probe state machine, history and
//! supervision. Built over several issues; today it holds the configuration and the
//! persistence layer.
//!
//! * [`config`]: `vitalcheck.toml` -> a validated, typed [`config::Config`], with errors
//!   that name the file, line, column and field.
//! * [`store`]: the [`store::Store`] trait and its SQLite implementation (feature `sqlite`,
//!   on by default): probe results, target states and transitions that survive restarts.
//!
//! # Optional features
//! * `sqlite` (default): [`store::SqliteStore`], on rusqlite with SQLite bundled.

#![deny(missing_docs)]

pub use vitalcheck;

pub mod config;
pub mod store;
