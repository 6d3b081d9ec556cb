//! The idle cost of `vitalcheck supervise`: its own CPU time and memory while it watches
//! a child that is fine.
//!
//! Starts `vitalcheck supervise --liveness tcp://127.0.0.1:PORT --readiness
//! tcp://127.0.0.1:PORT --interval 1s -- sleep 3600` (this harness accepts on PORT), lets
//! it settle for 2 s, then reads `/proc/PID/stat` (utime + stime) and `/proc/PID/status`
//! (VmRSS, VmHWM) before and after a window (default 30 s), and prints CPU % of one core,
//! CPU time per probe, and memory. Nothing is asserted: a benchmark prints.
//!
//! ```text
//! cargo bench -p vitalcheck-cli --bench supervise_idle                  # release
//! cargo bench -p vitalcheck-cli --bench supervise_idle --profile dev    # no release build
//! cargo bench -p vitalcheck-cli --bench supervise_idle -- --secs 60 --interval 100ms
//! ```

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let secs: u64 = flag("--secs").and_then(|s| s.parse().ok()).unwrap_or(30);
    let interval = flag("--interval").unwrap_or_else(|| "1s".to_owned());

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = std::sync::Arc::clone(&accepted);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream);
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let target = format!("tcp://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vitalcheck"))
        .args(["supervise", "--liveness", &target, "--readiness", &target, "--interval", &interval, "--grace", "1s"])
        .args(["--", "sleep", "3600"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn vitalcheck supervise");
    let pid = child.id();
    std::thread::sleep(Duration::from_secs(2));
    let (cpu0, probes0, t0) = (cpu_ticks(pid), accepted.load(std::sync::atomic::Ordering::Relaxed), Instant::now());
    std::thread::sleep(Duration::from_secs(secs));
    let (cpu1, probes1, elapsed) = (cpu_ticks(pid), accepted.load(std::sync::atomic::Ordering::Relaxed), t0.elapsed());
    let (rss, hwm) = (status_kb(pid, "VmRSS:"), status_kb(pid, "VmHWM:"));
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let _ = child.wait();

    let hz = rustix::param::clock_ticks_per_second() as f64;
    let cpu_secs = (cpu1 - cpu0) as f64 / hz;
    let probes = probes1 - probes0;
    println!("vitalcheck supervise, idle child, liveness + readiness every {interval}, window {elapsed:.1?}:");
    println!("  CPU: {:.3} s = {:.3} % of one core", cpu_secs, 100.0 * cpu_secs / elapsed.as_secs_f64());
    if probes > 0 {
        println!(
            "  probes: {probes}, {:.1} us CPU each (all of the process's CPU divided by probes)",
            1e6 * cpu_secs / probes as f64
        );
    }
    println!("  memory: RSS {rss} KiB, peak RSS {hwm} KiB");
    println!("  (clock tick resolution: {:.0} ms)", 1000.0 / hz);
}

/// utime + stime of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let rest = stat.rsplit_once(')').expect("stat format").1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

/// A `kB` line of `/proc/PID/status`.
fn status_kb(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
