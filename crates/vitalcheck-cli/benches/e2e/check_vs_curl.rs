//! Measurement 1: the wall time of whole `vitalcheck check` processes next to `curl`
//! processes against the same ready server.

use crate::process::time_process;
use crate::server::Server;
use crate::stats::{ms, summarize};
use crate::{BIN, Kind, Options};
use std::io::ErrorKind;
use std::net::{Ipv4Addr, TcpListener};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Untimed runs per tool before the timed ones.
const WARMUP_RUNS: usize = 5;
/// Upper bound on the whole check-vs-curl measurement.
const CHECK_TIME_LIMIT: Duration = Duration::from_secs(180);
/// The budget: vitalcheck's median within this factor of curl's.
const CHECK_RATIO_BUDGET: f64 = 1.5;

/// A tool to time: its name in the table, the program to run and its arguments.
type Tool<'a> = (&'a str, &'a str, &'a [&'a str]);

/// The timed runs, per tool (indexed like the tools).
struct Timings {
    /// Wall times of the successful runs.
    samples: Vec<Vec<Duration>>,
    /// Runs that failed or could not be started.
    failures: Vec<usize>,
}

/// Times `vitalcheck check` and `curl` against a local server, prints the table and the
/// ratio of the medians, and returns the budget line.
pub(crate) fn check_vs_curl(options: &Options) -> String {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the check server on 127.0.0.1:0");
    let server = Server::start(listener);
    let url = format!("http://127.0.0.1:{}/", server.port());
    let target = options.kind.target(server.port());
    let check_args = ["check", target.as_str()];
    let curl_args = ["-fsS", "-o", "/dev/null", url.as_str()];

    println!("1. check vs curl: `vitalcheck check {target}` and `curl -fsS -o /dev/null {url}`");

    // Sanity runs (with output) so a failing tool is reported instead of timed.
    let vitalcheck_ok = vitalcheck_works(&check_args);
    let curl_ok = curl_works(&curl_args);
    let tools: Vec<Tool> = [("vitalcheck", BIN, &check_args[..]), ("curl", "curl", &curl_args[..])]
        .into_iter()
        .zip([vitalcheck_ok, curl_ok])
        .filter_map(|(tool, ok)| ok.then_some(tool))
        .collect();
    if tools.is_empty() {
        return "check vs curl: not measured".into();
    }

    let timings = measure(&tools, options.runs);
    let medians = print_table(&tools, &timings);
    ratio_line(options.kind, &medians)
}

/// Runs `vitalcheck check` once with its output captured; prints why and returns false if
/// it fails.
fn vitalcheck_works(check_args: &[&str]) -> bool {
    match Command::new(BIN).args(check_args).stdin(Stdio::null()).output() {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            println!(
                "   vitalcheck check fails ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
            println!("   (skipping vitalcheck's column; try --kind tcp while the http probe is a placeholder)");
            false
        }
        Err(err) => {
            println!("   cannot run {BIN}: {err}; skipping vitalcheck's column");
            false
        }
    }
}

/// Runs `curl` once with its output captured; prints why and returns false if it fails or
/// is not installed.
fn curl_works(curl_args: &[&str]) -> bool {
    match Command::new("curl").args(curl_args).stdin(Stdio::null()).output() {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            println!(
                "   curl fails ({}): {}; skipping curl's column",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
            false
        }
        Err(err) if err.kind() == ErrorKind::NotFound => {
            println!("   curl is not installed; skipping curl's column");
            false
        }
        Err(err) => {
            println!("   cannot run curl: {err}; skipping curl's column");
            false
        }
    }
}

/// Runs every tool [`WARMUP_RUNS`] + `runs` times, alternating which goes first, and
/// records the timed runs; stops early past [`CHECK_TIME_LIMIT`].
fn measure(tools: &[Tool], runs: usize) -> Timings {
    let started = Instant::now();
    let mut timings = Timings { samples: vec![Vec::with_capacity(runs); tools.len()], failures: vec![0; tools.len()] };
    let mut done = 0;
    for run in 0..WARMUP_RUNS + runs {
        if started.elapsed() > CHECK_TIME_LIMIT {
            println!("   stopped after {done} runs: over the {} s limit", CHECK_TIME_LIMIT.as_secs());
            break;
        }
        // Alternate which tool goes first, so neither always runs right after the other.
        for offset in 0..tools.len() {
            let index = (run + offset) % tools.len();
            time_once(&mut timings, index, tools[index], run >= WARMUP_RUNS);
        }
        if run >= WARMUP_RUNS {
            done += 1;
        }
    }
    timings
}

/// Runs tool `index` once; records its time (if `timed`) or its failure in `timings`.
fn time_once(timings: &mut Timings, index: usize, (_, program, args): Tool, timed: bool) {
    match time_process(program, args) {
        Ok((elapsed, success)) if timed => {
            if success {
                timings.samples[index].push(elapsed);
            } else {
                timings.failures[index] += 1;
            }
        }
        Ok(_) => {}
        Err(err) => {
            timings.failures[index] += 1;
            if timings.failures[index] == 1 {
                println!("   cannot run {program}: {err}");
            }
        }
    }
}

/// Prints the table (a row per tool) and returns each measured tool's median.
fn print_table<'a>(tools: &[Tool<'a>], timings: &Timings) -> Vec<(&'a str, Duration)> {
    println!(
        "   {:<12} {:>6} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "tool", "runs", "min ms", "median", "p90", "max", "failed"
    );
    let mut medians = Vec::new();
    for (index, (name, _, _)) in tools.iter().enumerate() {
        let samples = &timings.samples[index];
        match summarize(samples) {
            Some(s) => {
                println!(
                    "   {:<12} {:>6} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>6}",
                    name,
                    samples.len(),
                    ms(s.min),
                    ms(s.median),
                    ms(s.p90),
                    ms(s.max),
                    timings.failures[index]
                );
                medians.push((*name, s.median));
            }
            None => println!("   {:<12} {:>6} {:>9}", name, 0, "-"),
        }
    }
    medians
}

/// Prints the ratio of vitalcheck's median to curl's and returns the budget line.
fn ratio_line(kind: Kind, medians: &[(&str, Duration)]) -> String {
    let vc = medians.iter().find(|(n, _)| *n == "vitalcheck").map(|(_, d)| *d);
    let curl = medians.iter().find(|(n, _)| *n == "curl").map(|(_, d)| *d);
    match (vc, curl) {
        (Some(vc), Some(curl)) if !curl.is_zero() => {
            let ratio = vc.as_secs_f64() / curl.as_secs_f64();
            println!("   ratio vitalcheck/curl (medians): {ratio:.2}x");
            let verdict = if ratio <= CHECK_RATIO_BUDGET { "within budget" } else { "over budget" };
            format!(
                "check vs curl ({}): {ratio:.2}x of curl (median {:.3} ms vs {:.3} ms; budget <= {CHECK_RATIO_BUDGET}x): {verdict}",
                kind.name(),
                ms(vc),
                ms(curl)
            )
        }
        _ => "check vs curl: no ratio (a column is missing)".into(),
    }
}
