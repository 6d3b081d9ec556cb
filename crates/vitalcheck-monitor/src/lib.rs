//! The vitalcheck engine: many targets on schedules, the probe state machine, history and
//! supervision.
//!
//! * [`config`]: `vitalcheck.toml` -> a validated, typed [`config::Config`], with errors
//!   that name the file, line, column and field.
//! * [`history`]: bounded per-target history: the last N results, uptime over 1 h / 24 h
//!   / 7 d / 30 d, latency percentiles and a moving average, in memory fixed by config.
//! * [`engine`]: joins them: the scheduler runs the probes, the state machine and the
//!   history take the results, the store keeps them; snapshots, groups' healthy members,
//!   a stream of transitions, reload.
//! * [`scheduler`]: every target on its interval: spread first runs, no drift, a global
//!   concurrency limit, a timeout on every probe; add, remove, pause, run now, shutdown.
//! * [`supervisor`]: keeps one process alive (`vitalcheck supervise`): probes, restart
//!   policy with CrashLoopBackOff, signals, reaping as PID 1, sd_notify.
//! * [`store`]: the [`store::Store`] trait and its SQLite implementation (feature `sqlite`,
//!   on by default): probe results, target states and transitions that survive restarts.
//!
//! # Optional features
//! * `sqlite` (default): [`store::SqliteStore`], on rusqlite with SQLite bundled.
//! * `api`: `api::router`, the HTTP API, `/metrics`, the status page and badges that
//!   `vitalcheck run` serves.
//! * `notify`: `notify::Dispatcher`, alerts to webhook, Slack, Discord and command
//!   notifiers through an outbox in the store.

#![deny(missing_docs)]

pub use vitalcheck;

#[cfg(feature = "api")]
pub mod api;
pub mod config;
pub mod engine;
pub mod history;
mod micros;
#[cfg(feature = "notify")]
pub mod notify;
pub mod scheduler;
pub mod store;
pub mod supervisor;
pub mod when;
