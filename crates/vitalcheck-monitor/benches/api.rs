//! API benchmark: `GET /api/v1/targets` and `GET /metrics` with 100,000 targets loaded,
//! served by `api::router` on 127.0.0.1 the way `vitalcheck run` serves it (engine and
//! server on one current-thread tokio runtime, a real SQLite store in a temp dir).
//!
//! Every target points at a closed loopback port and is probed once at the start
//! (interval 1 h, `spread: false`), so each has a status, a failure count and a latest
//! duration, and the engine is idle while the requests run: the figures are the cost of
//! serving, not of probing. A client on its own thread sends the requests one at a time
//! (HTTP/1.1, a fresh connection each, read to the last byte) and prints p50 / p99 / max
//! and the size of the answer. It prints figures and asserts nothing.
//!
//! ```text
//! cargo bench -p vitalcheck-monitor --bench api --features api
//! cargo bench -p vitalcheck-monitor --bench api --features api -- --targets 10000 --requests 100
//! ```

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vitalcheck_monitor::api::{ApiState, router};
use vitalcheck_monitor::config::Config;
use vitalcheck_monitor::engine::{Engine, EngineOptions};
use vitalcheck_monitor::store::{SqliteStore, Store};

/// Groups the targets are spread over (target `i` in group `i % GROUPS`).
const GROUPS: usize = 100;

/// The value of `--name N` or `--name=N` among the arguments, else `default`.
fn flag(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    let long = format!("--{name}");
    for (i, arg) in args.iter().enumerate() {
        let value = match arg.strip_prefix(&long) {
            Some("") => args.get(i + 1).map(String::as_str),
            Some(rest) => rest.strip_prefix('='),
            None => None,
        };
        if let Some(n) = value.and_then(|v| v.replace('_', "").parse().ok()) {
            return n;
        }
    }
    default
}

/// `targets` targets at `closed` (refused), probed once an hour, in [`GROUPS`] groups.
fn config_text(targets: usize, closed: SocketAddr, db: &std::path::Path) -> String {
    let mut text = String::with_capacity(targets * 96);
    let path = serde_json::to_string(&db.to_string_lossy()).unwrap();
    let _ = writeln!(text, "[storage]\npath = {path}\n");
    let _ = writeln!(text, "[defaults]\ninterval = \"1h\"\ntimeout = \"2s\"\n");
    for g in 0..GROUPS {
        let _ = writeln!(text, "[[groups]]\nname = \"g{g}\"\n");
    }
    for i in 0..targets {
        let _ = writeln!(
            text,
            "[[targets]]\nname = \"t{i}\"\ngroup = \"g{}\"\ntarget = \"http://{closed}/t/{i}\"\n",
            i % GROUPS
        );
    }
    text
}

/// One GET with a fresh connection: the time to the last byte and the body's size.
fn fetch(addr: SocketAddr, path: &str) -> (Duration, usize) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::with_capacity(1 << 20);
    stream.read_to_end(&mut raw).unwrap();
    let elapsed = started.elapsed();
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(raw.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&raw[..head_end]));
    (elapsed, raw.len() - head_end)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Nearest-rank percentile of sorted times.
fn at(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Times `requests` GETs of `path` after one untimed warm-up; prints and returns the line.
fn measure(addr: SocketAddr, path: &str, requests: usize) -> String {
    let (first, size) = fetch(addr, path);
    let mut times: Vec<Duration> = (0..requests).map(|_| fetch(addr, path).0).collect();
    times.sort();
    let line = format!(
        "GET {path:<16} p50 {:>9}  p99 {:>9}  max {:>9}  (first {}, n={requests}, body {:.1} MB)",
        ms(at(&times, 0.50)),
        ms(at(&times, 0.99)),
        ms(times[times.len() - 1]),
        ms(first),
        size as f64 / 1e6
    );
    println!("  {line}");
    line
}

async fn run(targets: usize, requests: usize) {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let text = config_text(targets, closed, &dir.path().join("vc.db"));
    let config = Config::parse_with_env(&text, "bench.toml", |_| None).unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("vc.db")).unwrap());
    let options = EngineOptions { spread: false, ..EngineOptions::default() };
    let t = Instant::now();
    let engine = Arc::new(Engine::start(&config, Arc::clone(&store), options).await.unwrap());
    while engine.metrics().results < targets as u64 && t.elapsed() < Duration::from_secs(300) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let m = engine.metrics();
    println!(
        "== api: {targets} targets in {GROUPS} groups, each probed once (refused) in {:.1} s: {} results ==",
        t.elapsed().as_secs_f64(),
        m.results
    );
    let state = ApiState::new(Arc::clone(&engine), Arc::clone(&store), config.server.clone(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });

    let t = Instant::now();
    let gauges = engine.gauges().len();
    println!("  engine.gauges() ({gauges} targets, the copy a scrape starts with): {}", ms(t.elapsed()));
    let client = std::thread::spawn(move || {
        let targets = measure(addr, "/api/v1/targets", requests);
        let metrics = measure(addr, "/metrics", requests);
        (targets, metrics)
    });
    while !client.is_finished() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    client.join().unwrap();
    let m2 = engine.metrics();
    println!(
        "  the engine meanwhile: {} results, {} skipped slots, {} store errors",
        m2.results - m.results,
        m2.scheduler.skipped,
        m2.store_errors
    );
    engine.shutdown().await;
    tokio::task::spawn_blocking(move || store.shutdown()).await.unwrap().unwrap();
}

fn main() {
    let targets = flag("targets", 100_000);
    let requests = flag("requests", 50).max(1);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(run(targets, requests));
}
