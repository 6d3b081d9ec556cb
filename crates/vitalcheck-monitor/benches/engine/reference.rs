//! The yardstick: what `curl --parallel` spends per request against the same server, on
//! this machine, measured at the start of the run (DESIGN.md's budget for the CPU of one
//! HTTP probe on a fresh connection is 1.5 times that).
//!
//! curl gets `REQUESTS` URLs spread over the server's addresses (so every request opens a
//! fresh connection, as the server answers `Connection: close`), 100 at a time. Its CPU
//! is read from this process's `cutime + cstime` (`/proc/self/stat`), which gain a
//! child's user and system time once it has been waited for; the server child is not
//! waited for before the end, so the difference is curl's alone.

use crate::server::{ServerProcess, address};
use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Requests curl makes.
const REQUESTS: usize = 5_000;

/// curl's CPU per request on this machine, or why it could not be measured.
pub(crate) fn curl_per_request(server: &ServerProcess) -> Result<Duration, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let file = dir.path().join("urls.curl");
    let mut config = String::new();
    for i in 0..REQUESTS {
        let url = format!("http://{}:{}/t/{i}", address(i % server.addrs), server.port);
        let _ = writeln!(config, "url = \"{url}\"\noutput = \"/dev/null\"");
    }
    std::fs::write(&file, config).map_err(|e| format!("write {}: {e}", file.display()))?;
    let before = children_cpu().ok_or("cannot read /proc/self/stat")?;
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--fail", "--parallel", "--parallel-max", "100"])
        .args(["--write-out", "%{http_code}\\n", "--config"])
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("curl: {e}"))?;
    let spent = children_cpu().ok_or("cannot read /proc/self/stat")?.saturating_sub(before);
    let ok = String::from_utf8_lossy(&output.stdout).lines().filter(|l| *l == "200").count();
    if !output.status.success() || ok != REQUESTS {
        let err = String::from_utf8_lossy(&output.stderr);
        return Err(format!("curl: {}, {ok} of {REQUESTS} answered 200: {}", output.status, err.trim()));
    }
    Ok(spent / REQUESTS as u32)
}

/// User + system time of this process's waited-for children (fields 16 and 17 of
/// `/proc/self/stat`, clock ticks).
fn children_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 16 and 17 of stat are cutime and cstime; after the name they are 13 and 14.
    let ticks = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    let hz = rustix::param::clock_ticks_per_second().max(1);
    Some(Duration::from_secs_f64(ticks as f64 / hz as f64))
}

/// curl's figure, once measured.
static CURL: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

/// Measures curl against `server` and prints the figure (or why there is none).
pub(crate) fn measure(server: &ServerProcess) {
    match curl_per_request(server) {
        Ok(per_request) => {
            println!(
                "reference: curl --parallel (100 at a time, {} requests, fresh connections) spends {:.1} us of CPU \
                 a request on this machine",
                crate::measure::thousands(REQUESTS as u64),
                per_request.as_secs_f64() * 1e6
            );
            let _ = CURL.set(per_request);
        }
        Err(e) => println!("reference: curl not measured ({e}); the CPU-per-probe goal is not judged"),
    }
}

/// `(curl --parallel on this machine: 190.2 us)`, for the CPU lines.
pub(crate) fn shown() -> String {
    CURL.get().map_or("(curl --parallel: not measured)".into(), |c| {
        format!("(curl --parallel on this machine: {:.1} us)", c.as_secs_f64() * 1e6)
    })
}

/// The goal on the CPU of one probe: within 1.5 times curl's (DESIGN.md). `None` when
/// curl was not measured.
pub(crate) fn goal(what: &str, per_probe: Duration) -> Option<crate::Goal> {
    let curl = *CURL.get()?;
    let ratio = per_probe.as_secs_f64() / curl.as_secs_f64().max(1e-9);
    Some(crate::Goal::new(
        what,
        format!(
            "{:.1} us a probe = {ratio:.2} x curl ({:.1} us)",
            per_probe.as_secs_f64() * 1e6,
            curl.as_secs_f64() * 1e6
        ),
        "within 1.5 x curl --parallel",
        ratio <= 1.5,
    ))
}
