//! The vitalcheck engine: many targets on schedules, the probe state machine, history and
//! supervision.
//!
//! * [`config`]: `vitalcheck.toml` -> a validated, typed [`config::Config`], with errors
//!   that name the file, line, column and field.

#![deny(missing_docs)]

pub mod config;

pub use vitalcheck;
