//! Benchmark: the status page for 1,000 targets (issue 6). The store is seeded with 90
//! results per target (a few failures among them), the engine restores them at start, and
//! `GET /` is asked over loopback, one connection per request, as a browser refresh does:
//! prints p50 / p99 / max of the whole answer (engine reads, rendering, transfer) and the
//! page's size.
//!
//! Run with `cargo bench -p vitalcheck-monitor --all-features --bench page`
//! (`-- --requests N` to change the count, 200 by default).

use jiff::Timestamp;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vitalcheck::Status;
use vitalcheck_monitor::api::{ApiState, router};
use vitalcheck_monitor::config::Config;
use vitalcheck_monitor::engine::{Engine, EngineOptions};
use vitalcheck_monitor::store::{Batch, ResultRow, SqliteStore, Store};

const TARGETS: usize = 1_000;
const RESULTS: usize = 90;
const GROUPS: usize = 20;
/// Targets 0..GROUPED are spread over the groups; the rest have none.
const GROUPED: usize = 800;

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> BenchResult<()> {
    let requests = std::env::args()
        .skip_while(|a| a != "--requests")
        .nth(1)
        .map(|n| n.parse::<usize>())
        .transpose()?
        .unwrap_or(200);
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("vc.db"))?);
    // Outside the runtime: an `Ack` blocks.
    seed(store.as_ref(), Timestamp::now())?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(run(requests, dir.path(), store))
}

fn name(i: usize) -> String {
    format!("service-{i:04}")
}

/// 90 results a minute apart per target, ending now; every 31st (shifted per target)
/// failed, latencies between 1 and 60 ms.
fn seed(store: &dyn Store, now: Timestamp) -> BenchResult<()> {
    for chunk in (0..TARGETS).collect::<Vec<_>>().chunks(100) {
        let mut rows = Vec::with_capacity(chunk.len() * RESULTS);
        for &t in chunk {
            for r in 0..RESULTS {
                let at = now - Duration::from_secs(60 * (RESULTS - r) as u64);
                let failed = (r + t) % 31 == 0;
                let latency_us = 1_000 + ((t * 7_919 + r * 104_729) % 59_000) as u64;
                let mut row =
                    ResultRow::new(name(t), at, if failed { Status::Unhealthy } else { Status::Healthy }, latency_us);
                if failed {
                    row.error_kind = Some("refused".into());
                    row.detail = "connection refused: nothing listening on 127.0.0.1:1".into();
                }
                rows.push(row);
            }
        }
        store.record(Batch::from_results(rows))?.wait()?;
    }
    Ok(())
}

fn config(dir: &std::path::Path) -> BenchResult<Config> {
    let mut text = String::from("[storage]\npath = \"vc.db\"\n");
    for g in 0..GROUPS {
        text.push_str(&format!("[[groups]]\nname = \"group-{g:02}\"\n"));
    }
    for t in 0..TARGETS {
        // Probed hourly: the bench reads the restored history, it does not probe.
        text.push_str(&format!(
            "[[targets]]\nname = \"{}\"\ntarget = \"tcp://127.0.0.1:1\"\ninterval = \"1h\"\n",
            name(t)
        ));
        if t < GROUPED {
            text.push_str(&format!("group = \"group-{:02}\"\n", t % GROUPS));
        }
    }
    let file = dir.join("vitalcheck.toml");
    std::fs::write(&file, &text)?;
    Ok(Config::parse_with_env(&text, &file.to_string_lossy(), |_| None)?)
}

/// `GET /` on a fresh connection: the time to the last byte, and the body's size.
async fn get_page(addr: SocketAddr) -> BenchResult<(Duration, usize)> {
    let start = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut raw)).await??;
    let elapsed = start.elapsed();
    if !raw.starts_with(b"HTTP/1.1 200") {
        return Err(format!("GET / answered {}", String::from_utf8_lossy(&raw[..raw.len().min(200)])).into());
    }
    Ok((elapsed, raw.len()))
}

async fn run(requests: usize, dir: &std::path::Path, store: Arc<dyn Store>) -> BenchResult<()> {
    let config = config(dir)?;
    let engine = Arc::new(Engine::start(&config, Arc::clone(&store), EngineOptions::default()).await?);
    let restored = engine.target(&name(0)).map_or(0, |t| t.recent.len());
    if restored < RESULTS {
        return Err(format!("the engine restored {restored} results of {}, expected {RESULTS}", name(0)).into());
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = router(ApiState::new(Arc::clone(&engine), store, config.server.clone(), None));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    for _ in 0..5 {
        get_page(addr).await?;
    }
    let mut times = Vec::with_capacity(requests);
    let mut size = 0;
    for _ in 0..requests {
        let (elapsed, bytes) = get_page(addr).await?;
        times.push(elapsed);
        size = bytes;
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    println!(
        "GET / with {TARGETS} targets ({GROUPS} groups, {RESULTS} results each), {requests} requests: \
         p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; page {:.0} KB",
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
        size as f64 / 1024.0,
    );
    server.abort();
    engine.shutdown().await;
    Ok(())
}
