//! The HTTP side of `vitalcheck run`: bind `[server] listen` before the engine starts,
//! serve the monitor's API router, and stop gracefully (readiness goes 503 first).

use super::reload::Reloader;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use vitalcheck_monitor::api::{ApiState, ReloadFn, router};
use vitalcheck_monitor::config::ServerConfig;
use vitalcheck_monitor::engine::Engine;
use vitalcheck_monitor::notify::NotifyStats;
use vitalcheck_monitor::store::Store;

/// Binds `addr`; the error names the address.
pub(super) async fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))
}

/// The running server.
pub(super) struct Server {
    state: ApiState,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Server {
    /// Serves the API on `listener` (logging the bound address); `POST /api/v1/reload`
    /// goes through `reloader`, as SIGHUP does.
    pub(super) fn start(
        listener: TcpListener,
        engine: Arc<Engine>,
        store: Arc<dyn Store>,
        server: ServerConfig,
        reloader: Arc<Reloader>,
        alerts: Arc<NotifyStats>,
    ) -> Server {
        let reload: ReloadFn = Arc::new(move || {
            let reloader = Arc::clone(&reloader);
            Box::pin(async move { reloader.reload("API").await })
        });
        let state = ApiState::new(engine, store, server, Some(reload)).with_notify_stats(alerts);
        match listener.local_addr() {
            Ok(addr) => tracing::info!(address = %addr, "listening on http://{addr}"),
            Err(err) => tracing::warn!(error = %err, "listening, but the bound address is unknown"),
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let app = router(state.clone());
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(err) = serve.await {
                tracing::error!(error = %err, "the HTTP server failed");
            }
        });
        Server { state, stop, task }
    }

    /// `/readyz` answers 503 from now on, and no new connection is accepted.
    pub(super) fn drain(self) -> Draining {
        self.state.set_draining();
        let _ = self.stop.send(());
        Draining { task: self.task }
    }
}

/// A server that stops once its open connections end.
pub(super) struct Draining {
    task: JoinHandle<()>,
}

impl Draining {
    /// Waits for open connections to finish, at most `grace`; then drops them.
    pub(super) async fn finish(self, grace: Duration) {
        let abort = self.task.abort_handle();
        if tokio::time::timeout(grace, self.task).await.is_err() {
            tracing::warn!("HTTP connections still open after {grace:?}: closing them");
            abort.abort();
        }
    }
}
