//! The vitalcheck engine: many targets on schedules, the probe state machine, history and
//! supervision. Built over several issues; today it holds the persistence layer.
//!
//! * [`store`]: the [`store::Store`] trait and its SQLite implementation (feature `sqlite`,
//!   on by default): probe results, target states and transitions that survive restarts.
//!
//! # Optional features
//! * `sqlite` (default): [`store::SqliteStore`], on rusqlite with SQLite bundled.

pub use vitalcheck;

pub mod store;
