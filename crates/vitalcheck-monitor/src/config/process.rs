//! A target's `process` table: the process `vitalcheck run` starts and keeps alive,
//! restarting it when the target's startup or liveness probe fails its threshold or when
//! it exits (see [`crate::supervisor`]).
//!
//! ```toml
//! [[targets]]
//! name = "api"
//! target = "http://127.0.0.1:8080/healthz"
//! process = { command = ["./api", "--port", "8080"], restart = "always", grace = "10s" }
//! ```

use super::duration;
use super::error::{ConfigError, FieldPath};
use super::validate::Ctx;
use crate::supervisor::{RestartConfig, RestartPolicy};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use vitalcheck::backoff::Backoff;

/// The default grace period between SIGTERM and SIGKILL.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// `process = { ... }` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProcess {
    #[serde(default)]
    command: Vec<String>,
    restart: Option<String>,
    #[serde(default, deserialize_with = "duration::optional")]
    grace: Option<Duration>,
    #[serde(default, deserialize_with = "duration::optional")]
    backoff_initial: Option<Duration>,
    #[serde(default, deserialize_with = "duration::optional")]
    backoff_max: Option<Duration>,
    #[serde(default, deserialize_with = "duration::optional")]
    backoff_reset: Option<Duration>,
    max_restarts: Option<u32>,
}

/// The process a target owns, validated; defaults as `vitalcheck supervise`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ProcessConfig {
    /// The program and its arguments (no shell).
    pub command: Vec<String>,
    /// Policy, backoff (10 s doubling to 5 min), reset (10 min), limit (none).
    pub restart: RestartConfig,
    /// Between SIGTERM and SIGKILL (10 s).
    pub grace: Duration,
}

/// Checks `raw` (at `at`, the `process` key) and applies the defaults.
pub(crate) fn build(ctx: &Ctx<'_>, raw: &RawProcess, at: &FieldPath) -> Result<ProcessConfig, ConfigError> {
    if raw.command.first().is_none_or(String::is_empty) {
        return Err(ctx.error(
            &at.key("command"),
            "expected a non-empty list of strings: the program and its arguments, e.g. [\"./api\", \"--port\", \"8080\"]",
        ));
    }
    let defaults = RestartConfig::default();
    let policy = match &raw.restart {
        None => defaults.policy,
        Some(name) => name.parse::<RestartPolicy>().map_err(|e| ctx.error(&at.key("restart"), e.to_string()))?,
    };
    let initial = raw.backoff_initial.unwrap_or(defaults.backoff.initial_delay());
    let max = raw.backoff_max.unwrap_or(defaults.backoff.max_delay());
    if initial > max {
        return Err(ctx.error(
            &at.key("backoff_initial"),
            format!("{} is above backoff_max ({})", duration::format(initial), duration::format(max)),
        ));
    }
    Ok(ProcessConfig {
        command: raw.command.clone(),
        restart: RestartConfig {
            policy,
            backoff: Backoff::exponential(initial, 2.0).with_max_delay(max),
            reset_after: raw.backoff_reset.unwrap_or(defaults.reset_after),
            max_restarts: raw.max_restarts,
        },
        grace: raw.grace.unwrap_or(DEFAULT_GRACE),
    })
}

/// The effective `process` table (every default written out).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ProcessView {
    command: Vec<String>,
    restart: &'static str,
    grace: String,
    backoff_initial: String,
    backoff_max: String,
    backoff_reset: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_restarts: Option<u32>,
}

impl From<&ProcessConfig> for ProcessView {
    fn from(p: &ProcessConfig) -> Self {
        ProcessView {
            command: p.command.clone(),
            restart: p.restart.policy.as_str(),
            grace: duration::format(p.grace),
            backoff_initial: duration::format(p.restart.backoff.initial_delay()),
            backoff_max: duration::format(p.restart.backoff.max_delay()),
            backoff_reset: duration::format(p.restart.reset_after),
            max_restarts: p.restart.max_restarts,
        }
    }
}
