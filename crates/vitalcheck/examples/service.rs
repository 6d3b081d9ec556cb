//! A small axum service that reports its own health: PostgreSQL and Redis checks, a
//! liveness check, a queue-depth readiness gate, `/livez` `/readyz` `/health` on HTTP, the
//! same answers on a Unix socket, and a graceful drain on SIGTERM.
//!
//! ```text
//! cargo run -p vitalcheck --example service --features postgres,redis
//! curl -s localhost:8080/readyz?verbose        # [+]db ok, [+]cache ok, readyz check passed
//! curl -s localhost:8080/health | jq .status   # "pass"
//! curl -s -X POST localhost:8080/jobs?n=500    # queue 500 jobs: /readyz turns 503
//! vitalcheck check unix:///tmp/vitalcheck-example.sock
//! ```
//!
//! Settings come from the environment: `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), `REDIS_URL` (default
//! `redis://127.0.0.1:6379`), `PORT` (8080), `HEALTH_SOCKET`
//! (`/tmp/vitalcheck-example.sock`), `MAX_QUEUE` (100), and `APP_HEALTH_*` for the
//! registry (`APP_HEALTH_TIMEOUT=1s`, `APP_HEALTH_CHECK_CACHE_ENABLED=false`, ...).

use axum::extract::{Query, State};
use axum::routing::{get, post};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use vitalcheck::checks::{PostgresCheck, RedisCheck};
use vitalcheck::registry::{ComponentHealth, Registry, RegistryConfig};
use vitalcheck::serve::ipc::IpcServer;
use vitalcheck::{HealthService, lifecycle::Lifecycle};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let database_url = env_or("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test");
    let redis_url = env_or("REDIS_URL", "redis://127.0.0.1:6379");
    let port: u16 = env_or("PORT", "8080").parse()?;
    let socket = env_or("HEALTH_SOCKET", "/tmp/vitalcheck-example.sock");
    let max_queue: usize = env_or("MAX_QUEUE", "100").parse()?;

    // The checks: the database is critical for readiness; the cache only degrades.
    let mut registry = Registry::new();
    registry.register("self", || async { ComponentHealth::healthy() }).tags(["live"]);
    registry.register("db", PostgresCheck::new(&database_url)?).tags(["ready"]);
    registry
        .register("cache", RedisCheck::new(&redis_url)?)
        .tags(["ready"])
        .critical(false)
        .cache_ttl(Duration::from_secs(2));
    RegistryConfig::from_env("APP_HEALTH")?.apply(&mut registry)?;

    // Readiness also needs a queue the service can keep up with.
    let lifecycle = Lifecycle::new();
    let queue = Arc::new(AtomicUsize::new(0));
    lifecycle.gate_queue_depth("jobs", queue.clone(), max_queue);
    let health = HealthService::new(registry, lifecycle.clone()).with_info("version", env!("CARGO_PKG_VERSION"));

    let app = axum::Router::new()
        .route("/", get(|| async { "hello from the example service\n" }))
        .route("/jobs", post(enqueue))
        .with_state(queue)
        .merge(vitalcheck::serve::http::router(health.clone()));

    let ipc = IpcServer::bind(&socket, health.clone()).await?;
    let (stop_ipc, ipc_stopped) = tokio::sync::oneshot::channel::<()>();
    let ipc_task = tokio::spawn(ipc.serve(async move {
        let _ = ipc_stopped.await;
    }));

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{} and unix://{socket}", listener.local_addr()?);
    lifecycle.mark_running();
    let drain = lifecycle.clone();
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move { drain.drain_on_signal(Duration::from_secs(5)).await })
        .await?;
    let _ = stop_ipc.send(());
    ipc_task.await?;
    println!("stopped");
    Ok(())
}

/// `POST /jobs?n=N` adds N jobs to the (pretend) queue; `POST /jobs?n=0` empties it.
async fn enqueue(State(queue): State<Arc<AtomicUsize>>, Query(params): Query<HashMap<String, usize>>) -> String {
    let n = params.get("n").copied().unwrap_or(1);
    let depth = if n == 0 {
        queue.store(0, Ordering::Relaxed);
        0
    } else {
        queue.fetch_add(n, Ordering::Relaxed) + n
    };
    format!("queue depth {depth}\n")
}
