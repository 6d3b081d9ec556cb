//! Raw config -> typed, validated [`Config`]. Defaults are applied here and nowhere else:
//! built-in (Docker's) -> `[defaults]` -> the target's group -> the target -> its
//! startup / liveness / readiness probe. The first mistake found is returned.

use super::env::interpolate;
use super::error::{ConfigError, FieldPath};
use super::raw::{RawConfig, RawGroup, RawHistory, RawStorage, RawTarget, RawTiming};
use super::{Config, Group, ProbeConfig, Storage, TargetConfig, Thresholds, Timing, duration, probe};
use crate::history::HistoryConfig;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long results are kept when `[storage] retention` is not set.
const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 86_400);

/// What validation needs besides the raw config: where it came from, to place errors, and
/// how to read environment variables.
pub(crate) struct Ctx<'a> {
    pub(crate) file: &'a str,
    pub(crate) text: &'a str,
    pub(crate) lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Ctx<'_> {
    /// An error about the field at `path`, placed where the file sets it.
    pub(crate) fn error(&self, path: &FieldPath, message: impl Into<String>) -> ConfigError {
        ConfigError::at(self.file, self.text, path.locate_in(self.text), path, message)
    }

    /// The string value at `path` with `${VAR}` references replaced.
    pub(crate) fn string(&self, path: &FieldPath, raw: &str) -> Result<super::env::Interpolated, ConfigError> {
        interpolate(raw, self.lookup).map_err(|e| self.error(path, e.to_string()))
    }
}

/// A value and the layer that set it (0: built in, 1: `[defaults]`, 2: group, 3: target,
/// 4: startup / liveness / readiness), with where it was written.
#[derive(Debug, Clone)]
struct Src<T> {
    value: T,
    rank: u8,
    at: Option<FieldPath>,
}

/// Timing being resolved through the layers.
#[derive(Debug, Clone)]
struct Layered {
    interval: Src<Duration>,
    timeout: Src<Duration>,
    failure_threshold: u32,
    success_threshold: u32,
    start_period: Duration,
}

impl Layered {
    fn builtin() -> Self {
        let d = Timing::default();
        let builtin = |value| Src { value, rank: 0, at: None };
        Layered {
            interval: builtin(d.interval),
            timeout: builtin(d.timeout),
            failure_threshold: d.thresholds.failure_threshold,
            success_threshold: d.thresholds.success_threshold,
            start_period: d.thresholds.start_period,
        }
    }

    /// The fields `raw` (written at `at`, layer `rank`) sets override these.
    fn apply(&self, raw: &RawTiming, rank: u8, at: &FieldPath) -> Self {
        let mut next = self.clone();
        if let Some(value) = raw.interval {
            next.interval = Src { value, rank, at: Some(at.key("interval")) };
        }
        if let Some(value) = raw.timeout {
            next.timeout = Src { value, rank, at: Some(at.key("timeout")) };
        }
        next.failure_threshold = raw.failure_threshold.unwrap_or(next.failure_threshold);
        next.success_threshold = raw.success_threshold.unwrap_or(next.success_threshold);
        next.start_period = raw.start_period.unwrap_or(next.start_period);
        next
    }

    /// Checks that the timeout fits in the interval; the error points at whichever of the
    /// two was set more specifically.
    ///
    /// A timeout nobody set (the built-in 10 s) shrinks to a shorter interval instead.
    fn check(&self, ctx: &Ctx<'_>) -> Result<Timing, ConfigError> {
        let interval = &self.interval;
        let timeout = match &self.timeout {
            t if t.rank == 0 => &Src { value: t.value.min(interval.value), rank: 0, at: None },
            t => t,
        };
        if timeout.value > interval.value {
            let (i, t) = (duration::format(interval.value), duration::format(timeout.value));
            let source = |s: &Src<Duration>| match &s.at {
                Some(at) => format!("set at {at}"),
                None => "the built-in default".to_string(),
            };
            let (at, message) = if timeout.rank >= interval.rank {
                (&timeout.at, format!("timeout {t} is longer than the interval {i} ({})", source(interval)))
            } else {
                (&interval.at, format!("interval {i} is shorter than the timeout {t} ({})", source(timeout)))
            };
            return Err(ctx.error(at.as_ref().unwrap_or(&FieldPath::root()), message));
        }
        Ok(Timing {
            interval: interval.value,
            timeout: timeout.value,
            thresholds: Thresholds {
                failure_threshold: self.failure_threshold,
                success_threshold: self.success_threshold,
                start_period: self.start_period,
            },
        })
    }
}

/// Checks the values one table sets: no zero interval or timeout, no zero threshold.
fn check_values(ctx: &Ctx<'_>, raw: &RawTiming, at: &FieldPath) -> Result<(), ConfigError> {
    for (name, value) in [("interval", raw.interval), ("timeout", raw.timeout)] {
        if value == Some(Duration::ZERO) {
            return Err(ctx.error(&at.key(name), "must be greater than zero"));
        }
    }
    for (name, value) in [("failure_threshold", raw.failure_threshold), ("success_threshold", raw.success_threshold)] {
        if value == Some(0) {
            return Err(ctx.error(&at.key(name), "must be at least 1"));
        }
    }
    Ok(())
}

/// Validates `raw` and applies every default.
pub(crate) fn validate(raw: RawConfig, ctx: &Ctx<'_>) -> Result<Config, ConfigError> {
    let root = FieldPath::root();
    let defaults_at = root.key("defaults");
    check_values(ctx, &raw.defaults, &defaults_at)?;
    let defaults = Layered::builtin().apply(&raw.defaults, 1, &defaults_at);
    let storage = storage(ctx, &raw.storage, &root.key("storage"))?;
    let history = history(ctx, &raw.history, &root.key("history"))?;
    let server = super::server::server(ctx, &raw.server, &root.key("server"))?;
    let groups = groups(ctx, &raw.groups, &defaults)?;
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut targets = Vec::with_capacity(raw.targets.len());
    for (i, target) in raw.targets.iter().enumerate() {
        let at = root.key("targets").index(i);
        check_name(ctx, &target.name, &at.key("name"))?;
        if let Some(first) = names.insert(&target.name, i) {
            let line = ctx.error(&root.key("targets").index(first).key("name"), "").line.unwrap_or(0);
            let message =
                format!("duplicate target name {:?} (first used by targets[{first}], line {line})", target.name);
            return Err(ctx.error(&at.key("name"), message));
        }
        targets.push(target_config(ctx, target, &at, &defaults, &groups)?);
    }
    let alerts = super::notify_check::alerts(ctx, &raw.alerts, &root.key("alerts"))?;
    let group_names: Vec<&str> = groups.iter().map(|(g, _)| g.name.as_str()).collect();
    let notifiers = super::notify_check::notifiers(ctx, &raw.notifiers, &group_names)?;
    Ok(Config {
        file: ctx.file.to_string(),
        defaults: defaults.check(ctx)?,
        storage,
        history,
        server,
        groups: groups.into_iter().map(|(group, _)| group).collect(),
        targets,
        alerts,
        notifiers,
    })
}

fn check_name(ctx: &Ctx<'_>, name: &str, at: &FieldPath) -> Result<(), ConfigError> {
    if name.trim().is_empty() {
        return Err(ctx.error(at, "must not be empty"));
    }
    if name.chars().any(char::is_control) {
        return Err(ctx.error(at, "must not contain control characters"));
    }
    Ok(())
}

fn storage(ctx: &Ctx<'_>, raw: &RawStorage, at: &FieldPath) -> Result<Storage, ConfigError> {
    let path = match &raw.path {
        Some(path) => {
            let path = PathBuf::from(ctx.string(&at.key("path"), path)?.value);
            match Path::new(ctx.file).parent() {
                Some(dir) if path.is_relative() => dir.join(path),
                _ => path,
            }
        }
        None => default_storage_path(ctx.lookup).ok_or_else(|| {
            let message = "not set, and neither XDG_DATA_HOME nor HOME is set to place it under";
            ConfigError::unplaced(ctx.file, &at.key("path"), message)
        })?,
    };
    if raw.retention == Some(Duration::ZERO) {
        return Err(ctx.error(&at.key("retention"), "must be greater than zero"));
    }
    Ok(Storage { path, retention: raw.retention.unwrap_or(DEFAULT_RETENTION) })
}

/// The most results `[history] results` may keep per target (800 KB each).
pub(crate) const MAX_HISTORY_RESULTS: u32 = 100_000;

fn history(ctx: &Ctx<'_>, raw: &RawHistory, at: &FieldPath) -> Result<HistoryConfig, ConfigError> {
    let mut history = HistoryConfig::default();
    if let Some(results) = raw.results {
        if !(1..=MAX_HISTORY_RESULTS).contains(&results) {
            let message = format!(
                "must be between 1 and {MAX_HISTORY_RESULTS} (8 bytes a result per target in memory), got {results}"
            );
            return Err(ctx.error(&at.key("results"), message));
        }
        history.results = results as usize;
    }
    Ok(history)
}

/// `$XDG_DATA_HOME/vitalcheck/vitalcheck.db`, or `$HOME/.local/share/vitalcheck/vitalcheck.db`
/// (the XDG rule: a relative `XDG_DATA_HOME` is ignored).
pub(crate) fn default_storage_path(lookup: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let data_home = lookup("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| lookup("HOME").filter(|h| !h.is_empty()).map(|h| Path::new(&h).join(".local/share")))?;
    Some(data_home.join("vitalcheck").join("vitalcheck.db"))
}

/// The groups, each with the layered timing its members start from.
fn groups(ctx: &Ctx<'_>, raw: &[RawGroup], defaults: &Layered) -> Result<Vec<(Group, Layered)>, ConfigError> {
    let mut out: Vec<(Group, Layered)> = Vec::with_capacity(raw.len());
    for (i, group) in raw.iter().enumerate() {
        let at = FieldPath::root().key("groups").index(i);
        check_name(ctx, &group.name, &at.key("name"))?;
        if let Some(first) = out.iter().position(|(g, _)| g.name == group.name) {
            return Err(
                ctx.error(&at.key("name"), format!("duplicate group name {:?} (see groups[{first}])", group.name))
            );
        }
        let timing = group.timing();
        check_values(ctx, &timing, &at)?;
        let layered = defaults.apply(&timing, 2, &at);
        out.push((Group { name: group.name.clone(), timing: layered.check(ctx)? }, layered));
    }
    Ok(out)
}

fn target_config(
    ctx: &Ctx<'_>,
    raw: &RawTarget,
    at: &FieldPath,
    defaults: &Layered,
    groups: &[(Group, Layered)],
) -> Result<TargetConfig, ConfigError> {
    let base = match &raw.group {
        None => defaults,
        Some(name) => match groups.iter().find(|(g, _)| &g.name == name) {
            Some((_, layered)) => layered,
            None => return Err(ctx.error(&at.key("group"), unknown_group(name, groups))),
        },
    };
    let timing = raw.timing();
    check_values(ctx, &timing, at)?;
    let layered = base.apply(&timing, 3, at);
    let (target, view) = probe::build(ctx, raw.what(), at)?.ok_or_else(|| ctx.error(at, probe::nothing_to_probe()))?;
    let main = ProbeConfig { target, timing: layered.check(ctx)?, view };
    let mut sub = [None, None, None];
    for (slot, (name, probe)) in
        sub.iter_mut().zip([("startup", &raw.startup), ("liveness", &raw.liveness), ("readiness", &raw.readiness)])
    {
        let Some(probe) = probe else { continue };
        let at = at.key(name);
        let timing = probe.timing();
        check_values(ctx, &timing, &at)?;
        let timing = layered.apply(&timing, 4, &at).check(ctx)?;
        let (target, view) =
            probe::build(ctx, probe.what(), &at)?.unwrap_or_else(|| (main.target.clone(), main.view.clone()));
        *slot = Some(Box::new(ProbeConfig { target, timing, view }));
    }
    let [startup, liveness, readiness] = sub;
    Ok(TargetConfig {
        name: raw.name.clone(),
        probe: main,
        startup,
        liveness,
        readiness,
        group: raw.group.clone(),
        tags: raw.tags.clone(),
        critical: raw.critical.unwrap_or(true),
        process: raw.process.as_ref().map(|p| super::process::build(ctx, p, &at.key("process"))).transpose()?,
    })
}

fn unknown_group(name: &str, groups: &[(Group, Layered)]) -> String {
    if groups.is_empty() {
        return format!("unknown group {name:?}; no [[groups]] are defined");
    }
    let known: Vec<String> = groups.iter().map(|(g, _)| format!("{:?}", g.name)).collect();
    format!("unknown group {name:?}; expected one of {}", known.join(", "))
}
