//! `vitalcheck`: wait for services to be healthy, check them, and watch many.
//!
//! A thin binary over the `vitalcheck` library: parse flags (clap), dispatch to
//! `cmd/<subcommand>.rs`, map the outcome to an exit code.

mod api_client;
mod cmd;
mod duration;
mod instance;
mod output;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mimalloc: `run` allocates per probe, and measured 15% less CPU a probe with it than
/// with glibc's malloc (`cargo bench -p vitalcheck-monitor --bench engine -- steady`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ABOUT: &str = "Health checks for services: wait until they are up, check them once, watch many (run), or keep a process alive (supervise).";

/// The long help; `$grpc` is the line for grpc:// targets, when built with them.
macro_rules! long_about {
    ($grpc:literal) => {
        concat!(
            "\
Health checks for services: wait until they are up, check them once, watch many
with `vitalcheck run -c vitalcheck.toml` (state and history kept in SQLite), or keep
a process alive with `vitalcheck supervise --liveness TARGET -- CMD`.

Targets are written the same way everywhere:
  http://HOST[:PORT]/PATH   https://...   an HTTP request; 2xx is healthy by default
  tcp://HOST:PORT  or  HOST:PORT         a TCP connect
  unix:///PATH.sock                      a Unix-socket connect; a socket speaking the
                                         IPC health protocol is asked readiness
                                         (--check-type, or ?check=liveness|full|none)
  exec:COMMAND  or  --exec COMMAND       a command run without a shell; exit 0 is healthy
  proxy+http://[USER:PASS@]HOST:PORT?url=TEST_URL
  proxy+socks5://...  proxy+socks5h://...
                                         fetch TEST_URL through an HTTP or SOCKS5 proxy
                                         (socks5h: the proxy resolves the test host);
                                         2xx-3xx is healthy
",
            $grpc,
            "
Failures say exactly what went wrong: refused (nothing listening), timeout (and in
which phase: dns, connect, tls, first byte, body, exec), dns, tls, HTTP status,
protocol (garbage, closed mid-response, redirect loop), expectation, exit code.
Passwords and tokens in URLs are never printed."
        )
    };
}

#[cfg(feature = "grpc")]
const LONG_ABOUT: &str = long_about!(
    "  grpc://HOST:PORT[/SERVICE]  grpcs://...\n                                          a gRPC health Check; SERVING is healthy\n"
);
#[cfg(not(feature = "grpc"))]
const LONG_ABOUT: &str = long_about!("");

#[derive(Debug, Parser)]
#[command(name = "vitalcheck", version, about = ABOUT, long_about = LONG_ABOUT, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Block until targets are healthy, then optionally run a command.
    Wait(cmd::wait::WaitArgs),
    /// Probe each target once and report status, latency and error kind.
    Check(cmd::check::CheckArgs),
    /// Monitor every target of a config file, keeping state and history in a store.
    Run(cmd::run::RunArgs),
    /// Work with vitalcheck.toml, the config of `vitalcheck run`.
    Config(cmd::config::ConfigArgs),
    /// Show the state of each target as `vitalcheck run` last stored it.
    Status(cmd::status::StatusArgs),
    /// Show one target's stored results and state changes over a time window.
    History(cmd::history::HistoryArgs),
    /// Validate the config, then make the running `vitalcheck run` reload it (SIGHUP).
    Reload(cmd::reload::ReloadArgs),
    /// Run a command and keep it alive: probes, restarts with backoff, signals, PID 1.
    Supervise(cmd::supervise::SuperviseArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("vitalcheck: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Wait(args) => cmd::wait::run(args).await,
            Command::Check(args) => cmd::check::run(args).await,
            Command::Run(args) => cmd::run::run(args).await,
            Command::Config(args) => cmd::config::run(args),
            Command::Status(args) => cmd::status::run(args).await,
            Command::History(args) => cmd::history::run(args),
            Command::Reload(args) => cmd::reload::run(args),
            Command::Supervise(args) => cmd::supervise::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("vitalcheck: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().filter_map(|e| e.downcast_ref::<std::io::Error>()).any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
