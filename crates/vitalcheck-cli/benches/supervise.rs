//! `vitalcheck supervise`'s figures, over the real binary:
//!
//! 1. **idle**: its own CPU time and memory while it watches a child that is fine:
//!    `--liveness` and `--readiness` `tcp://127.0.0.1:PORT` every `--interval` (default
//!    1 s; this harness accepts on PORT), child `sleep 3600`. After 2 s to settle, reads
//!    `/proc/PID/stat` (utime + stime) and `/proc/PID/status` (VmRSS, VmHWM) before and
//!    after a window (default 30 s): CPU % of one core, CPU per probe, memory.
//! 2. **recovery**: the time from a hang to the restarted child being ready again. The
//!    liveness target is an HTTP server in this harness; a "hang" makes it hold every
//!    request without answering until supervise reports the next `started pid` (the
//!    restarted child "fixed" it). Per round: from setting the hang to the `ready` line
//!    after the restart. Flags: interval 200 ms, timeout 200 ms, failure threshold 3,
//!    backoff 100 ms, so the expected figure is about 3 x (200 + 200) ms + 100 ms + one
//!    interval to the first probe of the new child.
//!
//! Nothing is asserted: a benchmark prints. Every wait is bounded.
//!
//! ```text
//! cargo bench -p vitalcheck-cli --bench supervise                  # release
//! cargo bench -p vitalcheck-cli --bench supervise --profile dev    # no release build
//! cargo bench -p vitalcheck-cli --bench supervise -- --secs 60 --interval 100ms --rounds 10
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let secs: u64 = flag("--secs").and_then(|s| s.parse().ok()).unwrap_or(30);
    let rounds: usize = flag("--rounds").and_then(|s| s.parse().ok()).unwrap_or(5);
    let interval = flag("--interval").unwrap_or_else(|| "1s".to_owned());
    idle(secs, &interval);
    recovery(rounds);
}

fn idle(secs: u64, interval: &str) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let accepted = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&accepted);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream);
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    let target = format!("tcp://127.0.0.1:{port}");
    let mut child = supervise(&["--liveness", &target, "--readiness", &target, "--interval", interval], false);
    let pid = child.id();
    std::thread::sleep(Duration::from_secs(2));
    let (cpu0, probes0, t0) = (cpu_ticks(pid), accepted.load(Ordering::Relaxed), Instant::now());
    std::thread::sleep(Duration::from_secs(secs));
    let (cpu1, probes1, elapsed) = (cpu_ticks(pid), accepted.load(Ordering::Relaxed), t0.elapsed());
    let (rss, hwm) = (status_kb(pid, "VmRSS:"), status_kb(pid, "VmHWM:"));
    stop(&mut child);

    let hz = rustix::param::clock_ticks_per_second() as f64;
    let cpu_secs = (cpu1 - cpu0) as f64 / hz;
    let probes = probes1 - probes0;
    println!("idle: liveness + readiness every {interval}, window {elapsed:.1?}:");
    println!("  CPU: {:.3} s = {:.3} % of one core", cpu_secs, 100.0 * cpu_secs / elapsed.as_secs_f64());
    if probes > 0 {
        println!("  probes: {probes}, {:.0} us of the process's CPU per probe", 1e6 * cpu_secs / probes as f64);
    }
    println!("  memory: RSS {rss} KiB, peak RSS {hwm} KiB (clock tick {:.0} ms)", 1000.0 / hz);
}

fn recovery(rounds: usize) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hung = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&hung);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let flag = Arc::clone(&flag);
            std::thread::spawn(move || answer(stream, &flag));
        }
    });
    let target = format!("http://127.0.0.1:{port}/");
    let flags = [
        "--liveness",
        &target,
        "--interval",
        "200ms",
        "--timeout",
        "200ms",
        "--failure-threshold",
        "3",
        "--backoff-initial",
        "100ms",
        // Constant: the delay would double every round (no reset within 10 min).
        "--backoff-max",
        "100ms",
    ];
    let mut child = supervise(&flags, true);
    let lines = lines_of(&mut child);
    let wait = |needle: &str| loop {
        let line = lines.recv_timeout(Duration::from_secs(30)).expect("a supervise line in time");
        if line.contains(needle) {
            return;
        }
    };
    wait("ready");
    let mut figures = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t0 = Instant::now();
        hung.store(true, Ordering::SeqCst);
        wait("started pid");
        hung.store(false, Ordering::SeqCst);
        wait("ready");
        figures.push(t0.elapsed());
    }
    stop(&mut child);
    figures.sort();
    println!(
        "recovery: hang -> restarted child ready (interval 200ms, timeout 200ms, 3 failures, backoff 100ms), {rounds} rounds:"
    );
    println!("  min {:?}, median {:?}, max {:?}", figures[0], figures[figures.len() / 2], figures[figures.len() - 1]);
}

/// Answers 200, or while `hung` holds the request unanswered until it is cleared.
fn answer(mut stream: std::net::TcpStream, hung: &AtomicBool) {
    let mut buf = [0u8; 1024];
    let _ = stream.read(&mut buf);
    let deadline = Instant::now() + Duration::from_secs(30);
    while hung.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
}

fn supervise(flags: &[&str], stderr: bool) -> Child {
    Command::new(env!("CARGO_BIN_EXE_vitalcheck"))
        .arg("supervise")
        .args(flags)
        .args(["--grace", "1s", "--", "sleep", "3600"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(if stderr { Stdio::piped() } else { Stdio::null() })
        .spawn()
        .expect("spawn vitalcheck supervise")
}

fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

fn stop(child: &mut Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
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
