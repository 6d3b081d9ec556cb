//! `vitalcheck wait`: block until targets are healthy, then optionally run a command.

use super::probe_args::{OutputFormat, ProbeArgs, duration_arg};
use crate::output::{self, Report, TargetReport, human};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use vitalcheck::probe::ProbeContext;
use vitalcheck::wait::{Attempt, HealthPoller, WaitError, wait_all, wait_any};
use vitalcheck::{Backoff, Jitter};

const EXAMPLES: &str = "\
Examples:
  # Wait up to 60s for Postgres and an HTTP health endpoint, then start the app
  vitalcheck wait db:5432 http://localhost:8080/healthz -- ./server --port 9000

  # Fail fast in CI: 10 attempts on the 'fast' schedule, print every attempt
  vitalcheck wait --preset fast -v https://api.internal/ready

  # JSON health with a field check, custom header, and a 2-minute deadline
  vitalcheck wait --timeout 2m -H 'Authorization: Bearer $TOKEN' \\
      --expect-json '/status == \"UP\"' http://app:8080/actuator/health

  # A command as a target (no shell): healthy when it exits 0
  vitalcheck wait --exec 'pg_isready -h db -U app'

Schedule:
  Without --attempts or --preset, waits until --timeout (60s). While nothing listens
  (connection refused) it retries every --initial-delay (200ms); once the target
  answers badly or slowly, delays grow by --multiplier up to --max-delay (1s).
  With --attempts or --preset, the exponential schedule is followed exactly
  (normal: 30 attempts, 200ms, x1.5, 30s cap).

Exit status:
  0 all targets healthy (with -- CMD: CMD's own exit status)
  1 gave up: a target was not healthy in time
  2 bad usage: unknown flag, bad target, bad option";

/// Backoff presets.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Preset {
    /// 10 attempts, 100ms, x1.2
    Fast,
    /// 30 attempts, 200ms, x1.5
    Normal,
    /// 50 attempts, 500ms, x1.3
    Slow,
}

/// Jitter kinds.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum JitterArg {
    /// Delays as computed
    None,
    /// Uniform in [0, delay]
    Full,
    /// Uniform in [delay/2, delay]
    Equal,
}

/// Block until every TARGET is healthy (or any, with --any), then run CMD if given.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct WaitArgs {
    #[command(flatten)]
    probe: ProbeArgs,

    /// Give up after this long overall, e.g. 30s, 2m [default: 60s unless --attempts or
    /// --preset is given]
    #[arg(short = 't', long, value_parser = duration_arg, value_name = "DURATION")]
    timeout: Option<Duration>,

    /// Give up after this many attempts per target (exponential schedule).
    #[arg(short = 'n', long, value_name = "N")]
    attempts: Option<u32>,

    /// A ready-made schedule.
    #[arg(long, value_enum)]
    preset: Option<Preset>,

    /// Delay before the first retry [default: 200ms, or the preset's]
    #[arg(long, value_parser = duration_arg, value_name = "DURATION")]
    initial_delay: Option<Duration>,

    /// Each delay is this many times the previous one [default: 1.5, or the preset's]
    #[arg(long, value_name = "FACTOR")]
    multiplier: Option<f64>,

    /// Longest delay between attempts [default: 1s; 30s with --attempts or --preset]
    #[arg(long, value_parser = duration_arg, value_name = "DURATION")]
    max_delay: Option<Duration>,

    /// Randomize delays so many waiters do not retry in lockstep.
    #[arg(long, value_enum, default_value_t = JitterArg::None)]
    jitter: JitterArg,

    /// Time one probe may take.
    #[arg(long, value_parser = duration_arg, value_name = "DURATION", default_value = "5s")]
    request_timeout: Duration,

    /// Succeed as soon as any one target is healthy.
    #[arg(long)]
    any: bool,

    /// Command to run once healthy; it replaces vitalcheck (same PID, signals, exit code).
    #[arg(last = true, value_name = "CMD")]
    command: Vec<String>,
}

impl WaitArgs {
    /// The schedule from the flags, and whether the wait runs until a deadline.
    fn schedule(&self) -> Result<(Backoff, Option<Duration>, bool)> {
        let deadline_mode = self.attempts.is_none() && self.preset.is_none();
        let mut backoff = match self.preset {
            Some(Preset::Fast) => Backoff::FAST,
            Some(Preset::Normal) => Backoff::NORMAL,
            Some(Preset::Slow) => Backoff::SLOW,
            None if deadline_mode => Backoff::NORMAL.without_max_attempts().with_max_delay(Duration::from_secs(1)),
            None => Backoff::NORMAL,
        };
        if let Some(n) = self.attempts {
            backoff = backoff.with_max_attempts(n);
        }
        if let Some(d) = self.initial_delay {
            backoff = backoff.with_initial_delay(d);
        }
        if let Some(m) = self.multiplier {
            backoff = backoff.with_multiplier(m);
        }
        if let Some(d) = self.max_delay {
            backoff = backoff.with_max_delay(d);
        } else if backoff.initial_delay() > backoff.max_delay() {
            backoff = backoff.with_max_delay(backoff.initial_delay());
        }
        backoff = backoff.with_jitter(match self.jitter {
            JitterArg::None => Jitter::None,
            JitterArg::Full => Jitter::Full,
            JitterArg::Equal => Jitter::Equal,
        });
        backoff.validate().context("invalid schedule")?;
        let deadline = if deadline_mode { Some(self.timeout.unwrap_or(Duration::from_secs(60))) } else { self.timeout };
        Ok((backoff, deadline, deadline_mode))
    }
}

/// Runs `vitalcheck wait`.
pub(crate) async fn run(args: WaitArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let targets = args.probe.build_targets()?;
    let (backoff, deadline, deadline_mode) = args.schedule()?;
    let ctx = ProbeContext::new();
    let reports: Arc<Mutex<Vec<TargetReport>>> =
        Arc::new(Mutex::new(targets.iter().map(|t| TargetReport::pending(t.to_string(), t.kind_name())).collect()));
    let printer =
        Printer { text: args.probe.output == OutputFormat::Text && !args.probe.quiet, verbose: args.probe.verbose };
    let pollers: Vec<HealthPoller> = targets
        .into_iter()
        .enumerate()
        .map(|(index, target)| {
            let shown = target.to_string();
            let reports = reports.clone();
            let mut poller = HealthPoller::for_target(target)
                .context(ctx.clone())
                .preset(backoff)
                .timeout(args.request_timeout)
                .retry_refused_quickly(deadline_mode)
                .on_attempt(move |attempt| {
                    reports.lock().unwrap_or_else(PoisonError::into_inner)[index].record(&attempt.outcome);
                    printer.attempt(&shown, attempt);
                });
            if let Some(deadline) = deadline {
                poller = poller.deadline(deadline);
            }
            poller
        })
        .collect();

    let outcome = if args.any { wait_any(pollers).await.map(|_| ()) } else { wait_all(pollers).await.map(|_| ()) };
    if let Err(err) = &outcome {
        if err.is_usage() {
            return Err(anyhow::Error::msg(err.to_string()));
        }
        printer.gave_up(err);
    }
    if args.probe.output == OutputFormat::Json && !args.probe.quiet {
        let targets = reports.lock().unwrap_or_else(PoisonError::into_inner).clone();
        output::print_json(&Report { healthy: outcome.is_ok(), elapsed_ms: output::ms(started.elapsed()), targets });
    }
    if outcome.is_err() {
        return Ok(ExitCode::from(1));
    }
    if args.command.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let err = exec(&args.command);
    eprintln!("vitalcheck: cannot run {:?}: {err}", args.command[0]);
    // The shell's convention: 127 when the command is not found, 126 when it cannot run.
    Ok(ExitCode::from(if err.kind() == std::io::ErrorKind::NotFound { 127 } else { 126 }))
}

/// Replaces this process with `command` (same PID, so signals and the exit status are the
/// command's own); returns only on failure.
fn exec(command: &[String]) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    std::process::Command::new(&command[0]).args(&command[1..]).exec()
}

/// Prints human progress lines on stderr.
#[derive(Debug, Clone, Copy)]
struct Printer {
    text: bool,
    verbose: bool,
}

impl Printer {
    fn attempt(&self, target: &str, attempt: &Attempt) {
        if !self.text {
            return;
        }
        match (&attempt.outcome, attempt.next_delay) {
            (Ok(obs), _) => eprintln!(
                "ready: {target}: {} in {} (attempt {}, after {})",
                obs.detail,
                human(obs.latency),
                attempt.number,
                human(attempt.started + attempt.duration)
            ),
            (Err(err), Some(delay)) if self.verbose => eprintln!(
                "waiting: {target}: attempt {}: {}{}; next attempt in {}",
                attempt.number,
                err.kind(),
                detail_suffix(err.detail()),
                human(delay)
            ),
            _ => {}
        }
    }

    fn gave_up(&self, err: &WaitError) {
        if !self.text {
            return;
        }
        match err {
            WaitError::Several(all) => all.iter().for_each(|e| eprintln!("{e}")),
            other => eprintln!("{other}"),
        }
    }
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() { String::new() } else { format!(": {detail}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        wait: WaitArgs,
    }

    fn parse(args: &[&str]) -> WaitArgs {
        Cli::try_parse_from(std::iter::once("wait").chain(args.iter().copied())).unwrap().wait
    }

    #[test]
    fn default_schedule_is_deadline_mode_with_one_second_cap() {
        let (backoff, deadline, deadline_mode) = parse(&["db:5432"]).schedule().unwrap();
        assert!(deadline_mode);
        assert_eq!(deadline, Some(Duration::from_secs(60)));
        assert_eq!(backoff.max_delay(), Duration::from_secs(1));
        assert_eq!(backoff.max_attempts(), None);
    }

    #[test]
    fn preset_and_attempts_follow_the_library_schedule() {
        let (backoff, deadline, mode) = parse(&["--preset", "fast", "db:5432"]).schedule().unwrap();
        assert_eq!((backoff, deadline, mode), (Backoff::FAST, None, false));
        let (backoff, _, _) = parse(&["-n", "5", "db:5432"]).schedule().unwrap();
        assert_eq!(backoff, Backoff::NORMAL.with_max_attempts(5));
    }

    #[test]
    fn nonsense_schedule_is_rejected() {
        let err = parse(&["--multiplier", "0.5", "db:5432"]).schedule().unwrap_err();
        assert!(format!("{err:#}").contains("multiplier must be a number >= 1"), "{err:#}");
    }

    #[test]
    fn targets_and_exec_are_combined() {
        let args = parse(&["db:5432", "--exec", "true"]);
        let names: Vec<String> = args.probe.build_targets().unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(names, ["tcp://db:5432", "exec:true"]);
    }
}
