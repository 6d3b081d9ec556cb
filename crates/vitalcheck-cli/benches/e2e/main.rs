//! End-to-end benchmark of the `vitalcheck` binary, against servers on 127.0.0.1.
//!
//! It measures the two CLI budgets of DESIGN.md ("Budgets"):
//!
//! 1. **check vs curl**: the wall time of a whole `vitalcheck check URL` process against a
//!    ready local HTTP/1.1 server, next to `curl -fsS -o /dev/null URL` on the same server
//!    (run alternately, after warm-up runs). Prints min / median / p90 and the ratio of
//!    the medians (budget: within 1.5x of curl). Without curl, curl's column is skipped.
//! 2. **wait lag**: `vitalcheck wait -o json URL` is started on a free port with nothing
//!    listening; 1.0-2.5 s later (varied deterministically per round) the server binds the
//!    port. The lag is from `listen` returning to the child process exiting (budget: under
//!    the pending 200 ms retry delay + 5 ms). The child's CPU time (user+sys, read from
//!    `/proc/PID/schedstat` of the exited, not yet reaped child; the binary runs on one
//!    thread) is divided by the `attempts` of its JSON report, per round and over all
//!    rounds (budget: under 1 ms per attempt, judged on the overall figure; it includes
//!    process start-up). `-q` is not passed: it would silence the JSON report too.
//!
//! The figures are printed as a table with a budget line per measurement; nothing is
//! asserted (a benchmark prints, it does not fail on numbers). Every loop is bounded in
//! count and in time, and every child process is killed if it outlives its bound.
//!
//! Run (release profile):
//!
//! ```text
//! cargo bench -p vitalcheck-cli --bench e2e
//! cargo bench -p vitalcheck-cli --bench e2e -- --kind tcp --runs 50 --rounds 3
//! ```
//!
//! Flags (after `--`):
//!
//! - `--runs N`: processes per tool in the check-vs-curl measurement (default 200).
//! - `--rounds R`: rounds of the wait-lag measurement (default 10).
//! - `--kind http|tcp`: the target vitalcheck probes, `http://127.0.0.1:PORT/` or
//!   `tcp://127.0.0.1:PORT` (default http). curl always speaks HTTP to the same server.

mod check_vs_curl;
mod process;
mod server;
mod stats;
mod wait_lag;

use check_vs_curl::check_vs_curl;
use std::thread;
use wait_lag::wait_lag;

/// The `vitalcheck` binary under test (built by Cargo for this bench).
const BIN: &str = env!("CARGO_BIN_EXE_vitalcheck");

/// The target vitalcheck probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `http://127.0.0.1:PORT/`.
    Http,
    /// `tcp://127.0.0.1:PORT`.
    Tcp,
}

impl Kind {
    /// The target URL for a server on 127.0.0.1:`port`.
    fn target(self, port: u16) -> String {
        match self {
            Kind::Http => format!("http://127.0.0.1:{port}/"),
            Kind::Tcp => format!("tcp://127.0.0.1:{port}"),
        }
    }

    /// The name of the kind, as given to `--kind`.
    fn name(self) -> &'static str {
        match self {
            Kind::Http => "http",
            Kind::Tcp => "tcp",
        }
    }
}

/// The command-line options (see the flags in the crate documentation).
#[derive(Debug)]
struct Options {
    /// Processes per tool in the check-vs-curl measurement.
    runs: usize,
    /// Rounds of the wait-lag measurement.
    rounds: usize,
    /// The target vitalcheck probes.
    kind: Kind,
}

/// The usage line printed by `--help` and after a bad argument.
const USAGE: &str = "usage: cargo bench -p vitalcheck-cli --bench e2e -- [--runs N] [--rounds R] [--kind http|tcp]";

/// Parses the arguments after `--` (`--flag value` or `--flag=value`); `--help` prints the
/// usage and exits.
fn parse_options() -> Result<Options, String> {
    let mut options = Options { runs: 200, rounds: 10, kind: Kind::Http };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = |name: &str| inline.clone().or_else(|| args.next()).ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            // `cargo bench` passes `--bench` to every bench binary.
            "--bench" => {}
            "--runs" => options.runs = parse_count("--runs", &value("--runs")?)?,
            "--rounds" => options.rounds = parse_count("--rounds", &value("--rounds")?)?,
            "--kind" => {
                options.kind = match value("--kind")?.as_str() {
                    "http" => Kind::Http,
                    "tcp" => Kind::Tcp,
                    other => return Err(format!("--kind must be http or tcp, not {other:?}")),
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

/// Parses the value of the count flag `name`: a whole number from 1 to 100000.
fn parse_count(name: &str, value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(n),
        _ => Err(format!("{name} must be a whole number from 1 to 100000, not {value:?}")),
    }
}

/// Parses the options, runs both measurements and prints the budget lines.
fn main() {
    let options = match parse_options() {
        Ok(options) => options,
        Err(err) => {
            eprintln!("e2e: {err}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    println!("vitalcheck e2e benchmark: {cores} cores, binary {BIN}");
    println!("target kind: {}, runs: {}, rounds: {}", options.kind.name(), options.runs, options.rounds);
    println!();

    let mut budget_lines = Vec::new();
    budget_lines.push(check_vs_curl(&options));
    println!();
    budget_lines.extend(wait_lag(&options));

    println!();
    println!("budgets (information only, nothing is asserted):");
    for line in budget_lines {
        println!("  {line}");
    }
}
