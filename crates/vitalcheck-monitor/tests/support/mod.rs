//! Shared by the engine tests: a loopback HTTP server whose answer can be flipped, configs,
//! and waiting for transitions with a bound.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use vitalcheck::state::TargetStatus;
use vitalcheck_monitor::config::Config;
use vitalcheck_monitor::engine::TransitionEvent;

/// A server on 127.0.0.1 answering every request with the current status code.
pub(crate) struct FlipServer {
    pub(crate) addr: std::net::SocketAddr,
    status: Arc<AtomicU16>,
    hits: watch::Receiver<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl FlipServer {
    pub(crate) async fn start(status: u16) -> FlipServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let code = Arc::new(AtomicU16::new(status));
        let (counter, hits) = watch::channel(0u64);
        let (c, h) = (Arc::clone(&code), Arc::new(counter));
        let app = axum::Router::new().fallback(move || {
            let (c, h) = (Arc::clone(&c), Arc::clone(&h));
            async move {
                h.send_modify(|n| *n += 1);
                let code = axum::http::StatusCode::from_u16(c.load(Ordering::Relaxed)).unwrap();
                (code, "state")
            }
        });
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FlipServer { addr, status: code, hits, task }
    }

    pub(crate) fn set(&self, status: u16) {
        self.status.store(status, Ordering::Relaxed);
    }

    pub(crate) fn hits(&self) -> u64 {
        *self.hits.borrow()
    }

    /// Waits until the server has answered at least `n` requests; panics after 20 s.
    pub(crate) async fn wait_hits(&self, n: u64) {
        let mut hits = self.hits.clone();
        tokio::time::timeout(Duration::from_secs(20), hits.wait_for(|&h| h >= n))
            .await
            .unwrap_or_else(|_| panic!("fewer than {n} requests within 20 s"))
            .unwrap();
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}/health", self.addr)
    }
}

impl Drop for FlipServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Parses a config text (no environment) written to `dir`, storing in `dir/vc.db`.
pub(crate) fn config(text: &str, dir: &std::path::Path) -> Config {
    let text = &format!("[storage]\npath = \"vc.db\"\n{text}");
    let file = dir.join("vitalcheck.toml");
    std::fs::write(&file, text).unwrap();
    Config::parse_with_env(text, file.to_str().unwrap(), |_| None).unwrap()
}

/// The next transition of `target` to `to`, skipping others; panics after 20 s.
pub(crate) async fn wait_for(
    events: &mut broadcast::Receiver<TransitionEvent>,
    target: &str,
    to: TargetStatus,
) -> TransitionEvent {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(e) if &*e.target == target && e.to == to => return e,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("event stream closed"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .unwrap_or_else(|_| panic!("no transition of {target} to {to} within 20 s"))
}
