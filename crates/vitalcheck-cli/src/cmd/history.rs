//! `vitalcheck history TARGET`: one target's stored results and state changes over a time
//! window, oldest first.

use super::status::{Format, Located, Reported, StoreArgs, one_line, open_store, print_json, unknown_name};
use crate::output::{human, ms};
use anyhow::{Context, Result, bail};
use clap::Args;
use jiff::Timestamp;
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;
use vitalcheck_monitor::store::{HistoryQuery, Order, ResultRow, SqliteStore, Store, TransitionRow};
use vitalcheck_monitor::when::When;

/// Longest error or detail shown on a line, in characters (JSON has it whole).
const DETAIL_WIDTH: usize = 200;

const EXAMPLES: &str = "\
Examples:
  vitalcheck history api
  vitalcheck history api --since 7d --limit 50
  vitalcheck history db --since 2025-01-01T10:00:00Z --until 2025-01-01T11:00:00Z -o json

Output (text): results oldest first, each state change on its own line where it happened:
  TIME                      STATUS     LATENCY  ERROR/DETAIL
  2025-01-01T10:00:00.000Z  healthy      1.2ms  200 OK
  2025-01-01T10:00:30.000Z  unhealthy    312us  refused: connection refused
  2025-01-01T10:00:30.000Z  -> unhealthy (was healthy): 3 consecutive failures: connection refused

Times are RFC 3339 in UTC. Of a window holding more than --limit results the newest are
shown, with a note on stderr. An empty window says so and exits 0.

Output (JSON, -o json): one document on stdout:
  {\"target\": \"api\", \"since\": \"...\", \"until\": null, \"truncated\": false,
   \"results\": [{\"at\": \"...\", \"status\": \"healthy\", \"latency_ms\": 1.2,
                \"error_kind\": null, \"detail\": \"200 OK\", \"probe\": null}],
   \"transitions\": [{\"at\": \"...\", \"from\": \"healthy\", \"to\": \"unhealthy\", \"reason\": \"...\"}]}

Exit status:
  0 the history was shown (whatever the target's health)
  2 bad usage, an unknown target, a bad config, or no store";

/// Show one target's stored results and state changes over a time window.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct HistoryArgs {
    /// The target's name (as in the config).
    #[arg(value_name = "TARGET")]
    target: String,

    /// Start of the window: a duration back from now (30m, 1h, 7d) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN", value_parser = when_arg, default_value = "1h")]
    since: When,

    /// End of the window (exclusive), in the same forms [default: now]
    #[arg(long, value_name = "WHEN", value_parser = when_arg)]
    until: Option<When>,

    /// Show at most this many results (the newest of the window).
    #[arg(short = 'n', long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    limit: u32,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    output: Format,

    #[command(flatten)]
    store: StoreArgs,
}

/// Parses `--since` / `--until`: an RFC 3339 time, or a duration (`30m`, `1h30m`, `7d`, a
/// bare number of seconds; a day is 24 hours).
fn when_arg(input: &str) -> Result<When, String> {
    When::parse(input).map_err(|e| e.to_string())
}

/// What the JSON holds.
#[derive(Debug, Serialize)]
struct HistoryDoc {
    /// The target's name.
    target: String,
    /// The window's start.
    since: Timestamp,
    /// The window's end (exclusive), none for now.
    until: Option<Timestamp>,
    /// Whether results (or transitions) of the window were left out (`--limit`).
    truncated: bool,
    /// Results, oldest first.
    results: Vec<ResultDoc>,
    /// Changes of state, oldest first.
    transitions: Vec<TransitionDoc>,
}

/// One result in the JSON.
#[derive(Debug, Serialize)]
struct ResultDoc {
    /// When the probe started.
    at: Timestamp,
    /// `healthy`, `degraded` or `unhealthy`.
    status: &'static str,
    /// How long the probe took.
    latency_ms: f64,
    /// The error's kind (`refused`, `timeout`, ...), when it failed.
    error_kind: Option<String>,
    /// What the probe said.
    detail: String,
    /// Which of the target's probes: `startup`, `liveness`, `readiness`; null for its own.
    probe: Option<String>,
}

/// One change of state in the JSON.
#[derive(Debug, Serialize)]
struct TransitionDoc {
    /// When it happened.
    at: Timestamp,
    /// The state before.
    from: String,
    /// The state after.
    to: String,
    /// Why.
    reason: String,
}

/// Runs `vitalcheck history`.
pub(crate) fn run(args: HistoryArgs) -> Result<ExitCode> {
    let located = match args.store.locate() {
        Ok(located) => located,
        Err(Reported(code)) => return Ok(code),
    };
    let store = open_store(&located.db)?;
    check_known(&args.target, &located, &store)?;
    let now = Timestamp::now();
    let since = args.since.resolve(now)?;
    let until = args.until.map(|u| u.resolve(now)).transpose()?;
    if let Some(until) = until.filter(|until| *until <= since) {
        bail!("--until {until} is not after --since {since}");
    }
    let limit = usize::try_from(args.limit).unwrap_or(usize::MAX);
    let (results, transitions, truncated) = read_window(&store, &args.target, since, until, limit)?;
    if truncated {
        eprintln!(
            "note: showing the newest {limit} results of the window; narrow it with --since/--until or raise --limit"
        );
    }
    match args.output {
        Format::Json => print_json(&HistoryDoc {
            target: args.target,
            since,
            until,
            truncated,
            results: results.into_iter().map(result_doc).collect(),
            transitions: transitions.into_iter().map(transition_doc).collect(),
        })?,
        Format::Text if results.is_empty() && transitions.is_empty() => {
            let end = until.map_or_else(|| "now".to_string(), |u| u.to_string());
            println!("no results for {} from {since} to {end}", args.target);
        }
        Format::Text => print_text(&results, &transitions)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Fails unless `target` is in the config or the store.
fn check_known(target: &str, located: &Located, store: &SqliteStore) -> Result<()> {
    let states = store.load_states().context("cannot read the stored states")?;
    let mut known: Vec<&str> = located.config.iter().flat_map(|c| c.targets.iter().map(|t| t.name.as_str())).collect();
    for state in &states {
        if !known.contains(&state.target.as_str()) {
            known.push(&state.target);
        }
    }
    if known.contains(&target) { Ok(()) } else { Err(unknown_name("target", target, &known)) }
}

/// The newest `limit` results in `[since, until)`, oldest first, the transitions among them,
/// and whether results (or transitions) were left out.
fn read_window(
    store: &SqliteStore,
    target: &str,
    since: Timestamp,
    until: Option<Timestamp>,
    limit: usize,
) -> Result<(Vec<ResultRow>, Vec<TransitionRow>, bool)> {
    let mut query = HistoryQuery::new(target).with_since(since).with_order(Order::NewestFirst);
    query = query.with_limit(limit.saturating_add(1));
    if let Some(until) = until {
        query = query.with_until(until);
    }
    let mut results = store.history(&query).context("cannot read the stored results")?;
    let mut truncated = results.len() > limit;
    results.truncate(limit);
    results.reverse();
    // When results were left out, so are the transitions before the first one shown.
    let from = if truncated { results.first().map_or(since, |r| r.at) } else { since };
    let mut transitions =
        store.transitions(Some(target), from, limit.saturating_add(1)).context("cannot read the stored transitions")?;
    transitions.retain(|t| until.is_none_or(|until| t.at < until));
    truncated |= transitions.len() > limit;
    transitions.truncate(limit);
    Ok((results, transitions, truncated))
}

/// A stored result as the JSON shows it.
fn result_doc(row: ResultRow) -> ResultDoc {
    ResultDoc {
        at: row.at,
        status: row.status.as_str(),
        latency_ms: ms(Duration::from_micros(row.latency_us)),
        error_kind: row.error_kind,
        detail: row.detail,
        probe: row.probe,
    }
}

/// A stored transition as the JSON shows it.
fn transition_doc(row: TransitionRow) -> TransitionDoc {
    TransitionDoc { at: row.at, from: row.from, to: row.to, reason: row.reason }
}

/// Results and transitions merged by time (a transition after the result at its time).
fn print_text(results: &[ResultRow], transitions: &[TransitionRow]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<24}  {:<9}  {:>7}  ERROR/DETAIL", "TIME", "STATUS", "LATENCY")?;
    let mut transitions = transitions.iter().peekable();
    for row in results {
        while let Some(t) = transitions.next_if(|t| t.at < row.at) {
            writeln!(out, "{}", transition_line(t))?;
        }
        let latency = human(Duration::from_micros(row.latency_us));
        let line = format!("{:.3}  {:<9}  {latency:>7}  {}", row.at, row.status.as_str(), detail(row));
        writeln!(out, "{}", line.trim_end())?;
    }
    for t in transitions {
        writeln!(out, "{}", transition_line(t))?;
    }
    Ok(())
}

/// `TIME  -> TO (was FROM): REASON`.
fn transition_line(t: &TransitionRow) -> String {
    let reason = one_line(&t.reason, DETAIL_WIDTH);
    format!("{:.3}  -> {} (was {}): {reason}", t.at, t.to, t.from)
}

/// The detail (which, for a failure, starts with what went wrong: `connection refused:
/// ...`), or the error kind when there is none; prefixed with the probe (`[readiness]`)
/// for targets with several; on one line.
fn detail(row: &ResultRow) -> String {
    let text = match (&row.error_kind, row.detail.is_empty()) {
        (Some(kind), true) => kind.clone(),
        _ => row.detail.clone(),
    };
    let text = match &row.probe {
        Some(probe) => format!("[{probe}] {text}"),
        None => text,
    };
    one_line(&text, DETAIL_WIDTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_takes_durations_days_and_times() {
        let now = Timestamp::from_second(10 * 86_400).unwrap();
        let at = |s: &str| when_arg(s).unwrap().resolve(now).unwrap().as_second();
        assert_eq!(at("1h"), 10 * 86_400 - 3600);
        assert_eq!(at("30m"), 10 * 86_400 - 1800);
        assert_eq!(at("7d"), 3 * 86_400);
        assert_eq!(at("1d12h"), 10 * 86_400 - 36 * 3600);
        assert_eq!(at("90"), 10 * 86_400 - 90);
        assert_eq!(at("1970-01-02T00:00:00Z"), 86_400);
        let err = when_arg("yesterday").unwrap_err();
        assert!(err.contains("\"yesterday\"") && err.contains("7d") && err.contains("RFC 3339"), "{err}");
        assert!(when_arg("-1h").is_err());
    }

    #[test]
    fn details_name_the_error_kind() {
        let at = Timestamp::UNIX_EPOCH;
        let mut row = ResultRow::new("api", at, vitalcheck::Status::Unhealthy, 10);
        row.error_kind = Some("refused".into());
        assert_eq!(detail(&row), "refused");
        row.detail = "connection refused\non 127.0.0.1".into();
        assert_eq!(detail(&row), "connection refused on 127.0.0.1");
        row.probe = Some("readiness".into());
        assert_eq!(detail(&row), "[readiness] connection refused on 127.0.0.1");
    }
}
