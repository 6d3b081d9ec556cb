//! The vitalcheck engine: many targets on schedules, the probe state machine, history and
//! supervision.
//!
//! * [`config`]: `vitalcheck.toml` -> a validated, typed [`config::Config`], with errors
//!   that name the file, line, column and field.
//! * [`history`]: bounded per-target history: the last N results, uptime over 1 h / 24 h
//!   / 7 d / 30 d, latency percentiles and a moving average, in memory fixed by config.

#![deny(missing_docs)]

pub mod config;
pub mod history;

pub use vitalcheck;
