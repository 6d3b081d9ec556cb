//! `vitalcheck run -c FILE`: monitor every target of the config in the foreground.

mod processes;
mod reload;
mod serve;

use crate::instance::InstanceLock;
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use processes::Processes;
use reload::Reloader;
use serve::Server;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{Signal, SignalKind, signal};
use vitalcheck_monitor::config::Config;
use vitalcheck_monitor::engine::{Engine, EngineOptions};
use vitalcheck_monitor::notify::{Dispatcher, DispatcherOptions};
use vitalcheck_monitor::store::{SqliteStore, Store};

const HELP: &str = "\
Examples:
  vitalcheck run -c vitalcheck.toml
  RUST_LOG=debug vitalcheck run -c vitalcheck.toml --log-format json

Each target is probed on its interval (first probes spread over the interval); a run
of answers changes its state as Docker and Kubernetes probes do (failure_threshold,
success_threshold, start_period, startup / liveness / readiness). Every change of
state is logged (info) and, with every result, written to the SQLite store named in
[storage] (default: $XDG_DATA_HOME/vitalcheck/vitalcheck.db). A restart, even after
kill -9, continues from what the store holds.

While it runs:
  vitalcheck status -c FILE            the state of every target (reads the store)
  vitalcheck history TARGET -c FILE    one target's recent results
  vitalcheck reload -c FILE            validate FILE, then make `run` reload it
                                       (kill -HUP works too); added targets start,
                                       removed ones stop, the others keep their state
  SIGTERM or Ctrl-C                    stop: running probes finish (up to --grace),
                                       everything is written, exit 0

HTTP ([server] listen, default 127.0.0.1:9755; \"off\" serves nothing; the bound
address is logged as `listening on http://ADDR`):
  GET  /api/v1/targets[?group=&tag=&status=]   GET /api/v1/targets/NAME[/history]
  GET  /api/v1/groups/NAME[/healthy]           GET /api/v1/events (SSE)
  GET  /livez   GET /readyz
  GET  /  (status page)   GET /badge/NAME.svg   GET /badge/group/NAME.svg
  POST /api/v1/targets/NAME/{pause,resume,probe}, POST /api/v1/reload
       (Authorization: Bearer [server] token)

Alerts ([alerts], [[notifiers]]: webhook, slack, discord, command): a target turning
unhealthy, and recovering, is sent to the notifiers whose groups / tags / statuses
match; transitions within [alerts] group_wait go out as one message, targets still
down are repeated every repeat_interval, failed deliveries retry with backoff. Messages
wait in the store's outbox, so a restart (even kill -9) neither loses nor repeats one
(a receiver may see one again only if killed between its 2xx and the mark; drop it by
the X-Vitalcheck-Delivery header). Notifier URLs, headers and secrets are never logged.

Processes (a target's `process = { command = [...] }`): `run` starts the command and
restarts it when the target turns unhealthy (not by its readiness probe) or it exits,
with the restart policy and backoff of `vitalcheck supervise`; each restart is a
transition to unknown (stored, in /metrics, sent to the alerts). A reload starts,
stops and restarts processes whose table was added, removed or changed; SIGTERM stops
them first, each within its grace.

Logs go to stderr; RUST_LOG sets the level (default info), e.g.
RUST_LOG=vitalcheck_monitor=debug. Target passwords and tokens are never logged.

Exit status:
  0 stopped by SIGTERM or SIGINT
  2 bad config, store error, [server] listen cannot be bound, or another
    `vitalcheck run` uses the same store";

/// `vitalcheck run`.
#[derive(Debug, Args)]
#[command(after_long_help = HELP)]
pub(crate) struct RunArgs {
    /// The config file.
    #[arg(short, long, value_name = "FILE", default_value = "vitalcheck.toml", env = "VITALCHECK_CONFIG")]
    config: PathBuf,

    /// The most probes that run at once, over all targets.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: u32,

    /// How long running probes may finish when stopping.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = crate::duration::parse_duration)]
    grace: Duration,

    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line.
    Json,
}

/// Runs `vitalcheck run` until SIGTERM or SIGINT.
pub(crate) async fn run(args: RunArgs) -> Result<ExitCode> {
    init_logging(args.log_format)?;
    // Before anything else: from the moment the instance lock publishes the pid, a
    // `vitalcheck reload` may send SIGHUP, and the default action would kill the process.
    // Signals that arrive while starting are acted on once the engine runs.
    let signals = Signals::listen()?;
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(2));
        }
    };
    let db = config.storage.path.clone();
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut lock = InstanceLock::acquire(&db)?;
    let store = Arc::new(SqliteStore::open(&db).with_context(|| format!("cannot open the store {}", db.display()))?);
    let listener = match config.server.listen {
        Some(addr) => match serve::bind(addr).await {
            Ok(listener) => Some(listener),
            Err(err) => {
                eprintln!("error: {err}");
                return Ok(ExitCode::from(2));
            }
        },
        None => None,
    };
    if let Some(addr) = listener.as_ref().and_then(|l| l.local_addr().ok()) {
        lock.publish_api(addr)?;
    }
    let options = EngineOptions {
        concurrency: args.concurrency as usize,
        shutdown_grace: args.grace,
        history: config.history.clone(),
        ..EngineOptions::default()
    };
    let engine = Arc::new(Engine::start(&config, store.clone(), options).await.context("cannot start the engine")?);
    let store_handle: Arc<dyn Store> = store.clone();
    let dispatcher = Arc::new(
        Dispatcher::start(store_handle, &config, DispatcherOptions::default())
            .await
            .context("cannot start the alert dispatcher")?,
    );
    let processes = Arc::new(Processes::start(&engine, &config).await);
    let reloader = Arc::new(Reloader::new(
        Arc::clone(&engine),
        Arc::clone(&dispatcher),
        Arc::clone(&processes),
        args.config.clone(),
        &config,
    ));
    let server = listener.map(|listener| {
        let store: Arc<dyn Store> = store.clone();
        let alerts = dispatcher.stats();
        Server::start(listener, Arc::clone(&engine), store, config.server.clone(), Arc::clone(&reloader), alerts)
    });
    tracing::info!(
        targets = config.targets.len(),
        notifiers = config.notifiers.len(),
        config = %args.config.display(),
        store = %db.display(),
        lock = %lock.path().display(),
        "vitalcheck run started"
    );
    // The engine holds what it needs; the parsed config of 100,000 targets is hundreds of
    // MB that would otherwise stay allocated until the process stops.
    drop(config);
    signals.serve(&reloader).await;
    // Owned processes stop first (each within its grace period), so their last
    // transitions still reach the store.
    processes.stop().await;
    let draining = server.map(Server::drain);
    let report = engine.shutdown().await;
    // After the engine's last flush; what is not delivered within the grace stays in the
    // outbox for the next start.
    dispatcher.shutdown(args.grace).await;
    if let Some(draining) = draining {
        draining.finish(args.grace).await;
    }
    let metrics = engine.metrics();
    tokio::task::spawn_blocking(move || store.shutdown()).await?.context("cannot close the store")?;
    tracing::info!(
        results = metrics.results,
        rows_written = metrics.rows_written,
        store_errors = metrics.store_errors,
        aborted_probes = report.aborted,
        "vitalcheck run stopped"
    );
    Ok(ExitCode::SUCCESS)
}

/// The signals `run` acts on.
struct Signals {
    hangup: Signal,
    terminate: Signal,
    interrupt: Signal,
}

impl Signals {
    fn listen() -> Result<Signals> {
        Ok(Signals {
            hangup: signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?,
            terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
        })
    }

    /// Reloads on SIGHUP; returns on SIGTERM or SIGINT.
    async fn serve(mut self, reloader: &Reloader) {
        loop {
            tokio::select! {
                _ = self.hangup.recv() => {
                    // The outcome is logged.
                    let _ = reloader.reload("SIGHUP").await;
                }
                _ = self.terminate.recv() => {
                    tracing::info!("SIGTERM: stopping");
                    return;
                }
                _ = self.interrupt.recv() => {
                    tracing::info!("SIGINT: stopping");
                    return;
                }
            }
        }
    }
}

/// Logs to stderr, filtered by RUST_LOG (default `info`).
fn init_logging(format: LogFormat) -> Result<()> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new("info"))?;
    let colors = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colors);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("cannot install the logger: {e}"))
}
