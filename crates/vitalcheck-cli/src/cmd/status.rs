//! `vitalcheck status`: the state of each target, from the running `vitalcheck run`'s
//! API when there is one (`GET /api/v1/status`), else as it last stored it.
//!
//! Also where the store is found, for `status`, `history` and `reload` alike: `-c FILE`
//! (its `[storage] path`) or `--db PATH` ([`StoreArgs`], [`open_store`]).

use crate::api_client::{ApiClientError, get_json};
use crate::instance::running_api;
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use vitalcheck_monitor::config::Config;
use vitalcheck_monitor::store::{SqliteStore, StateRow, Store};

/// The environment variable naming the config when `-c` is not given.
pub(crate) const CONFIG_ENV: &str = "VITALCHECK_CONFIG";
/// The config read when neither `-c`, `--db` nor `$VITALCHECK_CONFIG` say otherwise.
const DEFAULT_CONFIG: &str = "vitalcheck.toml";
/// Longest last error shown in the table, in characters (JSON has it whole).
const ERROR_WIDTH: usize = 60;

const EXAMPLES: &str = "\
Examples:
  vitalcheck status
  vitalcheck status -c /etc/vitalcheck.toml --group proxies
  vitalcheck status --db /var/lib/vitalcheck/vitalcheck.db -o json | jq '.targets[].status'

Output (text): one line per target, in config order:
  NAME   STATUS     SINCE   UPTIME 24H  LAST ERROR
  api    healthy    2h ago      99.95%
  db     unhealthy  3m ago      97.10%  refused: connection refused
  cache  unknown    -                -

SINCE is how long the target has had its status; UPTIME 24H counts degraded results as up
(- when there are none); LAST ERROR is cut at 60 characters. A target of the config that
has no stored state yet is unknown; stored targets no longer in the config are left out
(with --db, every stored target is listed).

Output (JSON, -o json): one document on stdout:
  {\"targets\": [{\"name\": \"api\", \"status\": \"healthy\", \"since\": \"2025-01-01T10:00:00Z\",
    \"consecutive_failures\": 0, \"consecutive_successes\": 120, \"last_error\": null,
    \"uptime_24h\": 0.9995, \"group\": null}]}
  since is RFC 3339 (null when unknown); uptime_24h is a fraction from 0 to 1 (null
  when there were no results); group comes from the config (null with --db).

Where it reads: while a `vitalcheck run` on the same database serves its API, status
asks it (GET /api/v1/status at the address the instance published beside the database:
the live state, uptime from its history); otherwise, or when the API does not answer
within 2 s (a note says so), it reads the store, which works while `run` writes.
--source api|store chooses one (api fails with exit 2 when there is no API to ask).
The JSON document says which: \"source\": \"api\" or \"store\".

Exit status:
  0 every listed target is healthy or degraded
  1 a listed target is unhealthy, starting or unknown
  2 bad usage, an unknown target or group, a bad config, or no store";

/// Show the state of each target as `vitalcheck run` last stored it.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct StatusArgs {
    /// Only these targets (names from the config) [default: all]
    #[arg(value_name = "TARGET")]
    targets: Vec<String>,

    /// Only the targets of this group (needs the config).
    #[arg(short, long, value_name = "GROUP")]
    group: Option<String>,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    output: Format,

    /// Where to read: the running instance's API, falling back to the store (auto), or
    /// only one of them.
    #[arg(long, value_enum, default_value_t = Source::Auto)]
    source: Source,

    #[command(flatten)]
    store: StoreArgs,
}

/// Output format of `status` and `history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// An aligned table for people.
    Text,
    /// One JSON document on stdout (its shape is below).
    Json,
}

/// Where `status` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Source {
    /// The API of a running instance, else the store.
    Auto,
    /// Only the API of a running instance.
    Api,
    /// Only the store.
    Store,
}

/// How long `status` waits for a running instance's API.
const API_TIMEOUT: Duration = Duration::from_secs(2);

/// A failure already reported on stderr: the command ends with this exit status.
#[derive(Debug)]
pub(crate) struct Reported(pub(crate) ExitCode);

/// Prints `value` as pretty JSON on stdout.
pub(crate) fn print_json(value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    writeln!(std::io::stdout().lock(), "{text}")?;
    Ok(())
}

/// Where the store is; shared by `status`, `history` and `reload`.
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// The config of `vitalcheck run`; its [storage] path is the database
    /// [default: $VITALCHECK_CONFIG, else vitalcheck.toml]
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,

    /// The SQLite database itself, instead of a config (then target groups are unknown).
    #[arg(long, value_name = "PATH", conflicts_with = "config")]
    db: Option<PathBuf>,
}

/// The store's location, and the config when it came from one.
#[derive(Debug)]
pub(crate) struct Located {
    /// The SQLite file.
    pub(crate) db: PathBuf,
    /// The config, unless `--db` was given.
    pub(crate) config: Option<Config>,
}

impl StoreArgs {
    /// Finds the database: `--db`, else the config's storage path. A bad config is
    /// printed as `config check` prints it and ends the command with exit status 2.
    pub(crate) fn locate(&self) -> Result<Located, Reported> {
        if let Some(db) = &self.db {
            return Ok(Located { db: db.clone(), config: None });
        }
        let config = load_config(&self.config_path())?;
        Ok(Located { db: config.storage.path.clone(), config: Some(config) })
    }

    /// `-c`, else `$VITALCHECK_CONFIG`, else `vitalcheck.toml`.
    pub(crate) fn config_path(&self) -> PathBuf {
        let from_env = std::env::var_os(CONFIG_ENV).filter(|v| !v.is_empty()).map(PathBuf::from);
        self.config.clone().or(from_env).unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG))
    }
}

/// Loads and validates the config at `path`; on error prints it exactly as
/// `vitalcheck config check` does (plus a hint when the file is missing).
pub(crate) fn load_config(path: &Path) -> Result<Config, Reported> {
    Config::load(path).map_err(|err| {
        eprintln!("error: {err}");
        if !path.exists() {
            eprintln!("hint: name the config with -c FILE (or ${CONFIG_ENV}), or the database with --db PATH");
        }
        Reported(ExitCode::from(2))
    })
}

/// Opens the store at `db` for reading; fails, naming the path, when there is no file
/// (it is never created here).
pub(crate) fn open_store(db: &Path) -> Result<SqliteStore> {
    // Read-only: never creates the file, never migrates it, never holds up `run`'s writer.
    Ok(SqliteStore::open_read_only(db)?)
}

/// An error for a name that is not known, listing the closest known ones (or some of them).
pub(crate) fn unknown_name(what: &str, name: &str, known: &[&str]) -> anyhow::Error {
    let mut close: Vec<(usize, &str)> =
        known.iter().map(|k| (edit_distance(name, k), *k)).filter(|(d, k)| is_close(*d, name, k)).collect();
    close.sort();
    let listed: Vec<&str> = close.iter().map(|(_, k)| *k).take(5).collect();
    if !listed.is_empty() {
        anyhow::anyhow!("unknown {what} {name:?}; did you mean: {}?", listed.join(", "))
    } else if known.is_empty() {
        anyhow::anyhow!("unknown {what} {name:?}: there are none")
    } else {
        let more = if known.len() > 10 { format!(" (and {} more)", known.len() - 10) } else { String::new() };
        let some: Vec<&str> = known.iter().copied().take(10).collect();
        anyhow::anyhow!("unknown {what} {name:?}; known: {}{more}", some.join(", "))
    }
}

/// Whether `known` is worth suggesting for the mistyped `name`.
fn is_close(distance: usize, name: &str, known: &str) -> bool {
    distance <= (name.chars().count() / 3).max(1) || known.contains(name) || name.contains(known)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// One listed target: what the JSON holds, in this order.
#[derive(Debug, Serialize)]
struct TargetStatus {
    /// The target's name.
    name: String,
    /// `unknown`, `starting`, `healthy`, `degraded` or `unhealthy`.
    status: String,
    /// Since when it has had this status (none when unknown).
    since: Option<Timestamp>,
    /// Failures in a row.
    consecutive_failures: u32,
    /// Successes in a row.
    consecutive_successes: u32,
    /// The last error, when the last result failed.
    last_error: Option<String>,
    /// The share of results in the last 24 h that were up, from 0 to 1.
    uptime_24h: Option<f64>,
    /// The target's group, from the config.
    group: Option<String>,
}

impl TargetStatus {
    /// Whether this status lets the command exit 0.
    fn is_up(&self) -> bool {
        matches!(self.status.as_str(), "healthy" | "degraded")
    }
}

/// Runs `vitalcheck status`.
pub(crate) async fn run(args: StatusArgs) -> Result<ExitCode> {
    let located = match args.store.locate() {
        Ok(located) => located,
        Err(Reported(code)) => return Ok(code),
    };
    let from_api = match args.source {
        Source::Store => None,
        Source::Auto | Source::Api => match ask_api(&located.db).await {
            Ok(lines) => Some(lines),
            Err(why) if args.source == Source::Api => bail!("{why}"),
            Err(why) => {
                if why.is::<ApiClientError>() {
                    eprintln!("note: {why:#}; showing the stored states");
                }
                None
            }
        },
    };
    let (targets, source) = match from_api {
        Some(lines) => (from_lines(&args, located.config.as_ref(), lines)?, "api"),
        None => (from_store(&args, &located)?, "store"),
    };
    let code = if targets.iter().all(TargetStatus::is_up) { ExitCode::SUCCESS } else { ExitCode::from(1) };
    match args.output {
        Format::Json => print_json(&serde_json::json!({ "targets": targets, "source": source }))?,
        Format::Text if targets.is_empty() => eprintln!("no targets to show"),
        Format::Text => print_table(&targets, Timestamp::now())?,
    }
    Ok(code)
}

/// One line of `GET /api/v1/status`, as far as `status` shows it.
#[derive(Debug, Deserialize)]
struct ApiLine {
    name: String,
    group: Option<String>,
    status: String,
    since: Timestamp,
    consecutive_failures: u32,
    consecutive_successes: u32,
    last_error: Option<String>,
    uptime: ApiUptime,
}

#[derive(Debug, Deserialize)]
struct ApiUptime {
    day: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct ApiLines {
    targets: Vec<ApiLine>,
}

/// The status lines of the instance running on `db`, from its API. An error that is not
/// an [`ApiClientError`] means there is no API to ask (no instance, or one without API).
async fn ask_api(db: &Path) -> Result<Vec<ApiLine>> {
    let Some(addr) = running_api(db)? else {
        bail!("no running `vitalcheck run` serves an API for {}", db.display());
    };
    let lines: ApiLines = get_json(addr, "/api/v1/status", API_TIMEOUT).await?;
    Ok(lines.targets)
}

/// The listed targets from the API's lines, narrowed to the named targets and the group.
fn from_lines(args: &StatusArgs, config: Option<&Config>, lines: Vec<ApiLine>) -> Result<Vec<TargetStatus>> {
    let known: Vec<&str> = lines.iter().map(|l| l.name.as_str()).collect();
    if let Some(unknown) = args.targets.iter().find(|t| !known.contains(&t.as_str())) {
        return Err(unknown_name("target", unknown, &known));
    }
    if let Some(group) = &args.group {
        let in_config = config.is_some_and(|c| c.groups.iter().any(|g| &g.name == group));
        if !in_config && !lines.iter().any(|l| l.group.as_ref() == Some(group)) {
            let mut groups: Vec<&str> = lines.iter().filter_map(|l| l.group.as_deref()).collect();
            groups.sort_unstable();
            groups.dedup();
            return Err(unknown_name("group", group, &groups));
        }
    }
    let wanted = |l: &ApiLine| {
        args.group.as_ref().is_none_or(|g| l.group.as_ref() == Some(g))
            && (args.targets.is_empty() || args.targets.contains(&l.name))
    };
    Ok(lines
        .into_iter()
        .filter(wanted)
        .map(|l| TargetStatus {
            since: (l.status != "unknown").then_some(l.since),
            status: l.status,
            consecutive_failures: l.consecutive_failures,
            consecutive_successes: l.consecutive_successes,
            last_error: l.last_error,
            uptime_24h: l.uptime.day.map(|u| (u * 1e6).round() / 1e6),
            name: l.name,
            group: l.group,
        })
        .collect())
}

/// The listed targets from the store.
fn from_store(args: &StatusArgs, located: &Located) -> Result<Vec<TargetStatus>> {
    let store = open_store(&located.db)?;
    let states = store.load_states().context("cannot read the stored states")?;
    let listed = select(args, located.config.as_ref(), states)?;
    let now = Timestamp::now();
    let day_ago = now.checked_sub(SignedDuration::from_hours(24)).unwrap_or(Timestamp::MIN);
    let mut targets = Vec::with_capacity(listed.len());
    for (name, group, state) in listed {
        let counts = store.status_counts(&name, day_ago).context("cannot read the stored results")?;
        let state = state.as_ref();
        targets.push(TargetStatus {
            status: state.map_or_else(|| "unknown".to_string(), |s| s.status.clone()),
            since: state.map(|s| s.since),
            consecutive_failures: state.map_or(0, |s| s.consecutive_failures),
            consecutive_successes: state.map_or(0, |s| s.consecutive_successes),
            last_error: state.and_then(|s| s.last_error.clone()),
            uptime_24h: counts.uptime().map(|u| (u * 1e6).round() / 1e6),
            name,
            group,
        });
    }
    Ok(targets)
}

/// A listed target: name, group, stored state.
type Listed = (String, Option<String>, Option<StateRow>);

/// The targets to list: the config's (in its order) or every stored one, narrowed to the
/// named targets and the group.
fn select(args: &StatusArgs, config: Option<&Config>, states: Vec<StateRow>) -> Result<Vec<Listed>> {
    let mut by_name: std::collections::HashMap<String, StateRow> =
        states.into_iter().map(|s| (s.target.clone(), s)).collect();
    let mut all: Vec<Listed> = match config {
        Some(config) => {
            config.targets.iter().map(|t| (t.name.clone(), t.group.clone(), by_name.remove(&t.name))).collect()
        }
        None => {
            let mut all: Vec<Listed> = by_name.into_values().map(|s| (s.target.clone(), None, Some(s))).collect();
            all.sort_by(|a, b| a.0.cmp(&b.0));
            all
        }
    };
    let known: Vec<&str> = all.iter().map(|(name, _, _)| name.as_str()).collect();
    if let Some(unknown) = args.targets.iter().find(|t| !known.contains(&t.as_str())) {
        return Err(unknown_name("target", unknown, &known));
    }
    if let Some(group) = &args.group {
        let Some(config) = config else { bail!("--group needs the config (-c FILE): the store does not know groups") };
        if !config.groups.iter().any(|g| &g.name == group) {
            let groups: Vec<&str> = config.groups.iter().map(|g| g.name.as_str()).collect();
            return Err(unknown_name("group", group, &groups));
        }
        all.retain(|(_, g, _)| g.as_ref() == Some(group));
    }
    if !args.targets.is_empty() {
        all.retain(|(name, _, _)| args.targets.contains(name));
    }
    Ok(all)
}

/// The aligned table on stdout.
fn print_table(targets: &[TargetStatus], now: Timestamp) -> Result<()> {
    let header = ["NAME", "STATUS", "SINCE", "UPTIME 24H", "LAST ERROR"].map(String::from);
    let mut lines = vec![header];
    for t in targets {
        lines.push([
            t.name.clone(),
            t.status.clone(),
            t.since.map_or_else(|| "-".to_string(), |since| ago(since, now)),
            t.uptime_24h.map_or_else(|| "-".to_string(), |u| format!("{:.2}%", u * 100.0)),
            t.last_error.as_deref().map(|e| one_line(e, ERROR_WIDTH)).unwrap_or_default(),
        ]);
    }
    let width = |col: usize| lines.iter().map(|l| l[col].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2, w3) = (width(0), width(1), width(2), width(3));
    let mut out = std::io::stdout().lock();
    for [name, status, since, uptime, error] in &lines {
        let line = format!("{name:<w0$}  {status:<w1$}  {since:<w2$}  {uptime:>w3$}  {error}");
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// How long ago `then` was: `45s ago`, `3m ago`, `2h ago`, `5d ago` (whole units, rounded
/// down; hours up to 2 days).
pub(crate) fn ago(then: Timestamp, now: Timestamp) -> String {
    let secs = now.duration_since(then).as_secs().max(0);
    match secs {
        0..60 => format!("{secs}s ago"),
        60..3600 => format!("{}m ago", secs / 60),
        3600..172_800 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86_400),
    }
}

/// `text` on one line (control characters as spaces), cut to `max` characters with `...`.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max.saturating_sub(3)).collect();
    format!("{}...", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_whole_units() {
        let now = Timestamp::from_second(1_000_000).unwrap();
        let ago_secs = |s: i64| ago(Timestamp::from_second(1_000_000 - s).unwrap(), now);
        assert_eq!(ago_secs(-5), "0s ago", "a clock step back is not an age in the future");
        assert_eq!(ago_secs(45), "45s ago");
        assert_eq!(ago_secs(3 * 60 + 59), "3m ago");
        assert_eq!(ago_secs(2 * 3600), "2h ago");
        assert_eq!(ago_secs(47 * 3600), "47h ago");
        assert_eq!(ago_secs(5 * 86_400), "5d ago");
    }

    #[test]
    fn errors_are_flattened_and_cut() {
        assert_eq!(one_line("refused\nagain", 60), "refused again");
        assert_eq!(one_line("abcdefghij", 8), "abcde...");
        assert_eq!(one_line("ééééé", 5), "ééééé");
    }

    #[test]
    fn close_names_first_else_some_known_names() {
        let known = ["api", "api-2", "db", "cache"];
        let err = unknown_name("target", "apj", &known).to_string();
        assert_eq!(err, "unknown target \"apj\"; did you mean: api?");
        let err = unknown_name("target", "ap", &known).to_string();
        assert_eq!(err, "unknown target \"ap\"; did you mean: api, api-2?");
        let err = unknown_name("target", "zzzzzzzz", &known).to_string();
        assert_eq!(err, "unknown target \"zzzzzzzz\"; known: api, api-2, db, cache");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
