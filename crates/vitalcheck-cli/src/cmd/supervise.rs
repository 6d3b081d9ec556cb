//! `vitalcheck supervise -- CMD`: start CMD, probe it, restart it when it dies or hangs.

mod surface;

use crate::duration::parse_duration;
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::mpsc;
use vitalcheck::backoff::Backoff;
use vitalcheck::probe::Target;
use vitalcheck::state::Thresholds;
use vitalcheck_monitor::supervisor::{
    Event, Outcome, ProbeSpec, Reaper, RestartConfig, RestartPolicy, Signals, Supervisor, SupervisorConfig,
};

const HELP: &str = "\
Starts CMD (no shell) as the leader of its own process group, passes its stdout and
stderr through, and keeps it alive:
  * --startup TARGET runs alone until it succeeds (--startup-threshold failures allowed,
    one every --interval); then --liveness and --readiness run every --interval.
  * startup or liveness failing --failure-threshold times in a row (after the start
    period) restarts CMD: SIGTERM to its group, SIGKILL after --grace.
  * readiness is reported (/readyz, the IPC socket, systemd READY=1), never acted on.
  * an exit is handled by --restart; restarts wait 10s, 20s, 40s ... 5m (the kubelet's
    CrashLoopBackOff), back to 10s once CMD was up for --backoff-reset; after
    --max-restarts restarts in a row it gives up.
  * SIGTERM and SIGINT stop CMD (the same signal to its group, SIGKILL after --grace)
    and exit with its code; SIGHUP, SIGUSR1 and SIGUSR2 are passed on to CMD.
  * orphans re-parented to vitalcheck (as PID 1, or as the child subreaper it makes
    itself) are reaped.
Every start, probe failure, restart (with the probe, its error and the count) and exit
is logged on stderr, prefixed `vitalcheck supervise:`.

TARGET is any target of `vitalcheck check`: http://..., tcp://HOST:PORT, unix:///PATH,
exec:COMMAND.

Examples:
  vitalcheck supervise --liveness http://127.0.0.1:8080/healthz -- ./server --port 8080
  vitalcheck supervise --startup tcp://127.0.0.1:5432 --startup-threshold 60 \\
      --liveness exec:'pg_isready -h 127.0.0.1' --restart always -- postgres -D /data

  # Dockerfile: vitalcheck as PID 1 (reaps zombies, forwards signals, docker stop works)
  ENTRYPOINT [\"vitalcheck\", \"supervise\", \"--liveness\", \"http://127.0.0.1:8080/livez\", \"--\"]
  CMD [\"/app/server\"]

  # systemd: Type=notify gets READY=1 once CMD is ready, WATCHDOG=1 while it is live
  [Service]
  Type=notify
  NotifyAccess=main
  WatchdogSec=30s
  ExecStart=/usr/bin/vitalcheck supervise --readiness http://127.0.0.1:8080/readyz \\
      --liveness http://127.0.0.1:8080/livez -- /usr/bin/app

  # CMD's state for others: /livez and /readyz over HTTP, or the IPC health protocol
  vitalcheck supervise --listen 127.0.0.1:9090 --ipc /run/app.health.sock \\
      --readiness http://127.0.0.1:8080/readyz -- ./app
  vitalcheck check http://127.0.0.1:9090/readyz unix:///run/app.health.sock

Exit status:
  CMD's code (128+N after signal N) when it is not restarted, or when vitalcheck was
  stopped by SIGTERM or SIGINT;
  CMD's last code (1 if that was 0) after giving up at --max-restarts;
  2 bad usage (unknown flag, bad target, no CMD), or --listen / --ipc cannot be bound.";

/// `--restart`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum RestartArg {
    /// After any exit, also exit 0.
    Always,
    /// After a non-zero exit, a signal, or a failed startup / liveness probe.
    OnFailure,
    /// Never: exit with CMD's code.
    Never,
}

/// Run a command and keep it alive: probes, restarts with backoff, signals, PID 1.
#[derive(Debug, Args)]
#[command(after_long_help = HELP)]
pub(crate) struct SuperviseArgs {
    /// Probe that must succeed first; until then liveness and readiness do not run.
    #[arg(long, value_name = "TARGET")]
    startup: Option<String>,

    /// Probe whose failure (--failure-threshold in a row) restarts CMD.
    #[arg(long, value_name = "TARGET")]
    liveness: Option<String>,

    /// Probe that says whether CMD is ready; reported, never acted on.
    #[arg(long, value_name = "TARGET")]
    readiness: Option<String>,

    /// Time between probes; the first comes one interval after the start.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = positive_duration)]
    interval: Duration,

    /// Time one probe may take.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = positive_duration)]
    timeout: Duration,

    /// Consecutive liveness or readiness failures that count.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    failure_threshold: u32,

    /// Consecutive successes that bring a probe back up.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    success_threshold: u32,

    /// Consecutive startup failures that restart CMD.
    #[arg(long, value_name = "N", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    startup_threshold: u32,

    /// From each start, probe failures do not count for this long (unless one succeeds).
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    start_period: Duration,

    /// Which exits are restarted.
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = RestartArg::OnFailure)]
    restart: RestartArg,

    /// Between SIGTERM and SIGKILL when stopping CMD.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    grace: Duration,

    /// Give up after this many restarts in a row (the count resets with --backoff-reset).
    #[arg(long, value_name = "N")]
    max_restarts: Option<u32>,

    /// The first restart delay; each next one doubles.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    backoff_initial: Duration,

    /// The longest restart delay.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    backoff_max: Duration,

    /// Up (ready) this long, CMD's next restart starts from --backoff-initial again.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    backoff_reset: Duration,

    /// Serve CMD's state as /livez and /readyz (and /health) on this address.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,

    /// Answer the IPC health protocol about CMD on this Unix socket.
    #[arg(long, value_name = "PATH")]
    ipc: Option<PathBuf>,

    /// The command and its arguments, after `--`.
    #[arg(required = true, last = true, value_name = "CMD")]
    command: Vec<String>,
}

impl SuperviseArgs {
    fn config(&self) -> Result<SupervisorConfig> {
        let thresholds =
            Thresholds::new(self.failure_threshold, self.success_threshold).with_start_period(self.start_period);
        let spec = |raw: &Option<String>, thresholds: Thresholds| -> Result<Option<ProbeSpec>> {
            raw.as_deref()
                .map(|raw| {
                    let target = raw.parse::<Target>()?;
                    Ok(ProbeSpec { target, interval: self.interval, timeout: self.timeout, thresholds })
                })
                .transpose()
        };
        let backoff = Backoff::exponential(self.backoff_initial, 2.0).with_max_delay(self.backoff_max);
        backoff.validate().context("--backoff-initial must not be above --backoff-max")?;
        if self.command.first().is_none_or(String::is_empty) {
            bail!("no command given: vitalcheck supervise [OPTIONS] -- CMD [ARGS]");
        }
        Ok(SupervisorConfig {
            command: self.command.clone(),
            startup: spec(&self.startup, thresholds.with_failure_threshold(self.startup_threshold))?,
            liveness: spec(&self.liveness, thresholds)?,
            readiness: spec(&self.readiness, thresholds)?,
            restart: RestartConfig {
                policy: match self.restart {
                    RestartArg::Always => RestartPolicy::Always,
                    RestartArg::OnFailure => RestartPolicy::OnFailure,
                    RestartArg::Never => RestartPolicy::Never,
                },
                backoff,
                reset_after: self.backoff_reset,
                max_restarts: self.max_restarts,
            },
            grace: self.grace,
        })
    }
}

/// Runs `vitalcheck supervise`.
pub(crate) async fn run(args: SuperviseArgs) -> Result<ExitCode> {
    let config = args.config()?;
    let mut supervisor = Supervisor::new(config);
    let Some(mut events) = supervisor.events() else { bail!("the supervisor's events were taken") };
    let snapshot = supervisor.subscribe();
    let surfaces = surface::Surfaces::start(args.listen, args.ipc.clone(), snapshot.clone()).await?;

    let mut signals = Signals::install().context("cannot install signal handlers")?;
    let (control, control_rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            if control.send(signals.recv().await).await.is_err() {
                return;
            }
        }
    });

    if std::process::id() == 1 {
        say("running as PID 1: reaping orphans");
    } else if let Err(err) = Reaper::become_subreaper() {
        say(&format!("cannot become a child subreaper ({err}); orphans of CMD are not reaped"));
    }
    let reaped = supervisor.event_sender();
    let reaper = Reaper::new(snapshot.clone());
    tokio::spawn(async move {
        let _ = reaper.run(|pid, total| drop(reaped.send(Event::Reaped { pid, total }))).await;
    });

    let run = supervisor.run(control_rx);
    tokio::pin!(run);
    let outcome = loop {
        tokio::select! {
            outcome = &mut run => break outcome?,
            Some(event) = events.recv() => say(&event.to_string()),
        }
    };
    while let Ok(event) = events.try_recv() {
        say(&event.to_string());
    }
    surfaces.stop().await;
    if let Outcome::GaveUp { restarts, .. } = outcome {
        say(&format!("gave up: CMD did not stay up after {restarts} restarts (--max-restarts)"));
    }
    Ok(ExitCode::from(u8::try_from(outcome.exit_code()).unwrap_or(1)))
}

/// One line on stderr.
pub(super) fn say(line: &str) {
    eprintln!("vitalcheck supervise: {line}");
}

fn positive_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() { Err(format!("{s:?} must be more than 0")) } else { Ok(d) }
}
