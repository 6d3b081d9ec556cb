//! `vitalcheck check`: probe each target once, concurrently, and report.

use super::probe_args::{OutputFormat, ProbeArgs, duration_arg};
use crate::output::{self, Report, TargetReport, human};
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use vitalcheck::probe::{Observation, ProbeContext, ProbeError};

const EXAMPLES: &str = "\
Examples:
  vitalcheck check http://localhost:8080/healthz
  vitalcheck check -o json db:5432 redis:6379 https://example.com
  vitalcheck check --status 200-399,404 --expect-body ok http://127.0.0.1:9000/

Output (text): one line per target on stdout:
  STATUS  LATENCY  TARGET  DETAIL
  healthy     2.1ms  http://localhost:8080/healthz  200 OK
  unhealthy  312us  tcp://db:5432  connection refused: nothing listening on 10.0.0.5:5432

Exit status:
  0 all targets healthy (any one, with --any)
  1 a target is not healthy
  2 bad usage: unknown flag, bad target, bad option";

/// Probe each TARGET once, concurrently, and print status, latency and error kind.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    probe: ProbeArgs,

    /// Time each probe may take.
    #[arg(short = 't', long, value_parser = duration_arg, value_name = "DURATION", default_value = "5s")]
    timeout: Duration,

    /// Succeed if any one target is healthy.
    #[arg(long)]
    any: bool,
}

/// Runs `vitalcheck check`.
pub(crate) async fn run(args: CheckArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let targets = args.probe.build_targets()?;
    let ctx = ProbeContext::new();
    let mut outcomes: Vec<Option<Result<Observation, ProbeError>>> = vec![None; targets.len()];
    if let [only] = targets.as_slice() {
        // One target: no task to spawn.
        outcomes[0] = Some(only.probe(&ctx, args.timeout).await);
    } else {
        let mut set = JoinSet::new();
        for (index, target) in targets.iter().cloned().enumerate() {
            let ctx = ctx.clone();
            set.spawn(async move { (index, target.probe(&ctx, args.timeout).await) });
        }
        while let Some(joined) = set.join_next().await {
            let (index, outcome) = joined?;
            outcomes[index] = Some(outcome);
        }
    }
    let reports: Vec<TargetReport> = targets
        .iter()
        .zip(&outcomes)
        .map(|(target, outcome)| {
            let mut report = TargetReport::pending(target.to_string(), target.kind_name());
            if let Some(outcome) = outcome {
                report.record(outcome);
            }
            report
        })
        .collect();
    let healthy_count = reports.iter().filter(|r| r.healthy).count();
    let healthy = if args.any { healthy_count > 0 } else { healthy_count == reports.len() };
    if !args.probe.quiet {
        match args.probe.output {
            OutputFormat::Json => {
                output::print_json(&Report { healthy, elapsed_ms: output::ms(started.elapsed()), targets: reports })
            }
            OutputFormat::Text => print_text(&targets, &outcomes),
        }
    }
    Ok(if healthy { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_text(targets: &[vitalcheck::probe::Target], outcomes: &[Option<Result<Observation, ProbeError>>]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let width = targets.iter().map(|t| t.to_string().len()).max().unwrap_or(0);
    for (target, outcome) in targets.iter().zip(outcomes) {
        let line = match outcome {
            Some(Ok(obs)) => {
                format!("{:<9}  {:>7}  {:<width$}  {}", obs.status.as_str(), human(obs.latency), target, obs.detail)
            }
            Some(Err(err)) => {
                let detail = if err.detail().is_empty() { String::new() } else { format!(": {}", err.detail()) };
                format!("{:<9}  {:>7}  {:<width$}  {}{detail}", "unhealthy", human(err.elapsed()), target, err.kind())
            }
            None => format!("{:<9}  {:>7}  {target}", "unknown", "-"),
        };
        // A closed stdout (`| head`) is not an error worth reporting.
        if writeln!(out, "{}", line.trim_end()).is_err() {
            return;
        }
    }
}
