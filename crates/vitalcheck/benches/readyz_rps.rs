//! Benchmark: requests per second of `/readyz` served by `vitalcheck::serve::http::router`
//! next to a bare axum handler returning 200, in the same run on the same machine.
//! DESIGN.md budget: the router reaches at least 80% of the bare handler's rate.
//!
//! Run with `cargo bench -p vitalcheck --bench readyz_rps`. Both servers run on one
//! multi-thread tokio runtime on 127.0.0.1, served with connect info (as the docs advise);
//! the load comes from a separate thread with its own runtime: `CONNECTIONS` keep-alive
//! HTTP/1.1 connections (hyper client), each sending one request after another for
//! `ROUND` (at most `MAX_PER_CONNECTION` requests). Rounds come in pairs, one per server,
//! back to back (which goes first alternates), so that other work on the machine weighs
//! on both alike; the verdict is the median of the pairs' ratios. `READYZ_CHECKS=N`
//! sets how many instant ready checks stand behind `/readyz` (default 3);
//! `READYZ_WORKERS=N` sets the server runtime's worker threads (default: one per core).

use axum::Router;
use axum::http::StatusCode;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use vitalcheck::HealthService;
use vitalcheck::lifecycle::Lifecycle;
use vitalcheck::registry::{ComponentHealth, Registry};

const CONNECTIONS: usize = 4;
const ROUND: Duration = Duration::from_millis(500);
const ROUNDS: usize = 16;
const MAX_PER_CONNECTION: usize = 500_000;
/// Ready checks behind `/readyz` unless `READYZ_CHECKS` says otherwise.
const DEFAULT_CHECKS: usize = 3;

fn main() {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = std::env::var("READYZ_WORKERS").ok().and_then(|v| v.parse().ok()) {
        builder.worker_threads(n);
    }
    let server = builder.enable_all().build().expect("server runtime");
    let workers = server.metrics().num_workers();
    let checks = std::env::var("READYZ_CHECKS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CHECKS);
    let (bare, embedded) = server.block_on(async { (serve(bare_app()).await, serve(embedded_app(checks)).await) });
    let client = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("client runtime");
        runtime.block_on(measure(bare, embedded))
    });
    let (bare_rps, embedded_rps) = client.join().expect("load generator");
    drop(server);

    println!(
        "readyz_rps: {CONNECTIONS} keep-alive connections, {ROUNDS} pairs of {:.1} s rounds, \
         server runtime with {workers} workers, client on its own thread",
        ROUND.as_secs_f64()
    );
    println!("  /readyz: {checks} ready checks answering at once (READYZ_CHECKS) + 1 queue-depth gate, Running");
    let ratios: Vec<f64> = embedded_rps.iter().zip(&bare_rps).map(|(e, b)| e / b).collect();
    let ratio = median(&ratios);
    print_side("bare axum handler (200)", &bare_rps);
    print_side("vitalcheck router /readyz", &embedded_rps);
    let verdict = if ratio >= 0.8 { "meets" } else { "MISSES" };
    let (low, high) = (ratios.iter().copied().fold(f64::MAX, f64::min), ratios.iter().copied().fold(0.0, f64::max));
    println!(
        "  ratio router/bare: median of pairs {:.1}% (pairs range {:.0}%-{:.0}%; {verdict} the 80% budget)",
        ratio * 100.0,
        low * 100.0,
        high * 100.0
    );
}

fn bare_app() -> Router {
    Router::new().route("/readyz", axum::routing::get(|| async { StatusCode::OK }))
}

fn embedded_app(checks: usize) -> Router {
    let mut registry = Registry::new();
    for i in 0..checks {
        registry.register(format!("check-{i}"), || async { ComponentHealth::healthy() }).tags(["ready"]);
    }
    let health = HealthService::new(registry, Lifecycle::new());
    health.lifecycle().gate_queue_depth("jobs", Arc::new(AtomicUsize::new(0)), 100);
    health.lifecycle().mark_running();
    Router::new().merge(vitalcheck::serve::http::router(health))
}

async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await });
    addr
}

/// Alternates rounds against the two servers; returns each side's rates.
async fn measure(bare: SocketAddr, embedded: SocketAddr) -> (Vec<f64>, Vec<f64>) {
    // Warm both up (connections, allocator, caches) before counting.
    round(bare, Duration::from_millis(300)).await;
    round(embedded, Duration::from_millis(300)).await;
    let (mut bare_rps, mut embedded_rps) = (Vec::new(), Vec::new());
    for i in 0..ROUNDS {
        // Swap the order every round so neither side always goes first.
        if i % 2 == 0 {
            bare_rps.push(round(bare, ROUND).await);
            embedded_rps.push(round(embedded, ROUND).await);
        } else {
            embedded_rps.push(round(embedded, ROUND).await);
            bare_rps.push(round(bare, ROUND).await);
        }
    }
    (bare_rps, embedded_rps)
}

/// One round: `CONNECTIONS` connections sending requests for `length`; returns requests/s.
async fn round(addr: SocketAddr, length: Duration) -> f64 {
    let start = Instant::now();
    let end = start + length;
    let tasks: Vec<_> = (0..CONNECTIONS).map(|_| tokio::spawn(connection(addr, end))).collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("connection task");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// One keep-alive connection sending `GET /readyz` until `end`; returns the count.
async fn connection(addr: SocketAddr, end: Instant) -> usize {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(conn);
    let mut count = 0;
    while count < MAX_PER_CONNECTION && Instant::now() < end {
        let request = hyper::Request::get("/readyz")
            .header(hyper::header::HOST, "127.0.0.1")
            .body(Empty::<Bytes>::new())
            .expect("request");
        sender.ready().await.expect("connection ready");
        let response = sender.send_request(request).await.expect("response");
        assert_eq!(response.status(), 200, "/readyz must answer 200 while measured");
        response.into_body().collect().await.expect("body");
        count += 1;
    }
    count
}

fn median(rates: &[f64]) -> f64 {
    let mut sorted = rates.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn print_side(what: &str, rates: &[f64]) {
    let rounds: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
    println!("  {what:<26} median {:>8.0} req/s  (rounds: {})", median(rates), rounds.join(", "));
}
