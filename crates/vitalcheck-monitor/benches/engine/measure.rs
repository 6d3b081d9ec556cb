//! Figures about processes: CPU time (this process, each of its threads, the server
//! child), resident memory and its peak, the open-files limit; latency summaries and
//! number formatting.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// Bytes the program holds on the heap now (allocated and not freed), as counted by the
/// bench's global allocator: what the data structures take, before the allocator's own
/// overhead and the pages it keeps (RSS shows those).
pub(crate) fn heap() -> u64 {
    crate::ALLOCATOR.allocated() as u64
}

/// CPU time (user + system) of this whole process, every thread included, also the ones
/// that have exited: `CLOCK_PROCESS_CPUTIME_ID` (nanoseconds, the same sum as utime + stime
/// of `/proc/self/stat` without its 10 ms ticks).
pub(crate) fn cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(u64::try_from(t.tv_sec).unwrap_or(0), u32::try_from(t.tv_nsec).unwrap_or(0))
}

/// utime + stime of process `pid` from `/proc/PID/stat` (clock ticks; exited threads
/// included).
pub(crate) fn cpu_time_of(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat are utime and stime; after the name they are 11 and 12.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let hz = rustix::param::clock_ticks_per_second().max(1);
    Some(Duration::from_secs_f64(ticks as f64 / hz as f64))
}

/// CPU time of each live thread of this process, by thread id: its name (`comm`) and its
/// time on CPU (`/proc/self/task/TID/schedstat`, nanoseconds).
pub(crate) fn thread_times() -> HashMap<u32, (String, Duration)> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else { return out };
    let main = std::process::id();
    for entry in dir.flatten() {
        let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let path = entry.path();
        let name = if tid == main {
            "main thread (runtime)".to_owned()
        } else {
            std::fs::read_to_string(path.join("comm")).map(|s| s.trim().to_owned()).unwrap_or_default()
        };
        let ns = std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
            .unwrap_or(0);
        out.insert(tid, (name, Duration::from_nanos(ns)));
    }
    out
}

/// CPU used between two [`thread_times`] readings, summed by thread name, largest first;
/// what the live threads do not explain of `total` (threads that exited in between) is
/// its own line.
pub(crate) fn thread_breakdown(
    before: &HashMap<u32, (String, Duration)>,
    after: &HashMap<u32, (String, Duration)>,
    total: Duration,
) -> Vec<(String, Duration)> {
    let mut by_name: BTreeMap<String, Duration> = BTreeMap::new();
    for (tid, (name, t)) in after {
        let start = before.get(tid).map_or(Duration::ZERO, |(_, t0)| *t0);
        *by_name.entry(name.clone()).or_default() += t.saturating_sub(start);
    }
    let explained: Duration = by_name.values().sum();
    let mut lines: Vec<(String, Duration)> = by_name.into_iter().filter(|(_, t)| !t.is_zero()).collect();
    lines.sort_by_key(|line| std::cmp::Reverse(line.1));
    let rest = total.saturating_sub(explained);
    if rest > Duration::from_millis(1) {
        lines.push(("(threads that exited)".to_owned(), rest));
    }
    lines
}

/// Resident memory now (`VmRSS`) and its peak over the process's life (`VmHWM`), in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Memory {
    pub(crate) rss: u64,
    pub(crate) hwm: u64,
}

/// This process's [`Memory`], from `/proc/self/status`.
pub(crate) fn memory() -> Memory {
    memory_at("/proc/self/status")
}

/// Process `pid`'s [`Memory`], from `/proc/PID/status` (zeros once it is gone).
pub(crate) fn memory_of(pid: u32) -> Memory {
    memory_at(&format!("/proc/{pid}/status"))
}

fn memory_at(path: &str) -> Memory {
    let status = std::fs::read_to_string(path).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024)
    };
    Memory { rss: field("VmRSS:"), hwm: field("VmHWM:") }
}

/// Raises this process's open-files soft limit to its hard limit; prints a warning naming
/// `who` when the result is still below `needed`. Returns the soft limit now.
pub(crate) fn raise_nofile(needed: u64, who: &str) -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            eprintln!("{who}: cannot raise the open-files limit to the hard limit: {e}");
        }
    }
    let now = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    if now < needed {
        eprintln!(
            "{who}: WARNING: the open-files limit is {now}, below the {needed} this run needs; raise the hard \
             limit (`ulimit -Hn {needed}` as root) or lower --concurrency / --addrs, else expect failed probes"
        );
    }
    now
}

/// min / p50 / p99 / max of a set of durations (nearest rank).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stats {
    pub(crate) n: usize,
    pub(crate) min: Duration,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    pub(crate) max: Duration,
}

impl Stats {
    pub(crate) fn of(mut times: Vec<Duration>) -> Stats {
        if times.is_empty() {
            return Stats::default();
        }
        times.sort();
        let at = |p: f64| times[(((times.len() as f64) * p).ceil() as usize).clamp(1, times.len()) - 1];
        Stats { n: times.len(), min: times[0], p50: at(0.50), p99: at(0.99), max: times[times.len() - 1] }
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "n={} min {} p50 {} p99 {} max {}", self.n, ms(self.min), ms(self.p50), ms(self.p99), ms(self.max))
    }
}

/// A duration in milliseconds with 3 decimals: `1.234 ms`.
pub(crate) fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// Bytes in decimal megabytes: `123.4 MB`.
pub(crate) fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// An integer with thousands separators: `100,000`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// CPU time of the whole machine from the first line of `/proc/stat`: (busy, all), where
/// busy is user + nice + system + irq + softirq + steal and all adds idle and iowait.
pub(crate) fn machine_time() -> (Duration, Duration) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("cpu "))
        .map(|rest| rest.split_whitespace().filter_map(|f| f.parse().ok()).collect())
        .unwrap_or_default();
    let get = |i: usize| fields.get(i).copied().unwrap_or(0);
    let busy = get(0) + get(1) + get(2) + get(5) + get(6) + get(7);
    let all = busy + get(3) + get(4);
    let hz = rustix::param::clock_ticks_per_second().max(1) as f64;
    (Duration::from_secs_f64(busy as f64 / hz), Duration::from_secs_f64(all as f64 / hz))
}

/// Cores the whole machine kept busy between two [`machine_time`] readings over `wall`.
pub(crate) fn machine_cores(before: (Duration, Duration), after: (Duration, Duration), wall: Duration) -> f64 {
    after.0.saturating_sub(before.0).as_secs_f64() / wall.as_secs_f64().max(1e-9)
}

/// Samples the machine for `over` and warns when other processes keep it busy: their CPU
/// competes with the engine and the server, and the figures come out worse than they are.
pub(crate) fn warn_if_busy(over: Duration) {
    let before = machine_time();
    std::thread::sleep(over);
    let cores = machine_cores(before, machine_time(), over);
    if cores > 0.2 {
        println!(
            "WARNING: before the start, other processes kept {cores:.2} cores busy; the figures below share the \
             machine with them"
        );
    } else {
        println!("machine before the start: {cores:.2} cores busy (quiet)");
    }
}

/// Resets this process's `VmHWM` to its current RSS (`5` into `/proc/self/clear_refs`), so
/// the next [`memory`] reading gives the peak since now; false if the kernel refused.
pub(crate) fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// [`reset_peak`] for process `pid` (needs the right to write its `clear_refs`).
pub(crate) fn reset_peak_of(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}
