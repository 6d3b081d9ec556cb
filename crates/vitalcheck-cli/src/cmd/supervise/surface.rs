//! Where `vitalcheck supervise` reports CMD's state: `/livez` `/readyz` `/health` on
//! `--listen`, the IPC health protocol on `--ipc`, and systemd's notify socket.

use super::say;
use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use vitalcheck::HealthService;
use vitalcheck::lifecycle::Lifecycle;
use vitalcheck::registry::{ComponentHealth, Registry};
use vitalcheck::serve::ipc::IpcServer;
use vitalcheck_monitor::supervisor::{Notifier, Snapshot};

/// The running surfaces; [`stop`](Self::stop) ends them.
pub(super) struct Surfaces {
    ipc: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl Surfaces {
    /// Binds `--listen` and `--ipc` (an error if either cannot be), and starts telling
    /// systemd when `$NOTIFY_SOCKET` is set.
    pub(super) async fn start(
        listen: Option<SocketAddr>,
        ipc: Option<PathBuf>,
        snapshot: watch::Receiver<Snapshot>,
    ) -> Result<Surfaces> {
        let health = health_service(&snapshot);
        if let Some(addr) = listen {
            let listener =
                tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
            let bound = listener.local_addr().context("the bound address")?;
            say(&format!("listening on http://{bound}"));
            let router = vitalcheck::serve::http::router::<()>(health.clone());
            tokio::spawn(async move {
                if let Err(err) =
                    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await
                {
                    say(&format!("HTTP server stopped: {err}"));
                }
            });
        }
        let ipc = match ipc {
            Some(path) => {
                let server = IpcServer::bind(&path, health)
                    .await
                    .with_context(|| format!("cannot serve the IPC socket {}", path.display()))?;
                say(&format!("IPC health socket at {}", path.display()));
                let (stop, stopped) = oneshot::channel::<()>();
                let task = tokio::spawn(server.serve(async move {
                    let _ = stopped.await;
                }));
                Some((stop, task))
            }
            None => None,
        };
        match Notifier::from_env() {
            Ok(Some(notifier)) => {
                tokio::spawn(notify(notifier, snapshot));
            }
            Ok(None) => {}
            Err(err) => say(&format!("cannot reach $NOTIFY_SOCKET: {err}")),
        }
        Ok(Surfaces { ipc })
    }

    /// Stops the IPC server (its socket file is removed).
    pub(super) async fn stop(self) {
        if let Some((stop, task)) = self.ipc {
            let _ = stop.send(());
            let _ = task.await;
        }
    }
}

/// A service whose liveness is CMD's (check `child`, tagged `live`) and whose readiness
/// is CMD's readiness (check `ready`).
fn health_service(snapshot: &watch::Receiver<Snapshot>) -> HealthService {
    let mut registry = Registry::new();
    let live = snapshot.clone();
    registry
        .register("child", move || {
            let now = live.borrow().clone();
            async move {
                match (now.pid, now.live) {
                    (Some(pid), true) => ComponentHealth::healthy().with_message(format!("pid {pid}")),
                    (Some(pid), false) => ComponentHealth::unhealthy(format!("pid {pid}: liveness failing")),
                    (None, _) => ComponentHealth::unhealthy(match now.last_cause {
                        Some(cause) => format!("not running: {cause}"),
                        None => "not running".to_owned(),
                    }),
                }
                .with_metadata(serde_json::json!({ "restarts": now.restarts }))
            }
        })
        .tags(["live"]);
    let ready = snapshot.clone();
    registry
        .register("ready", move || {
            let now = ready.borrow().clone();
            async move {
                if now.ready {
                    ComponentHealth::healthy().with_message(format!("child {}, restarts: {}", now.status, now.restarts))
                } else {
                    ComponentHealth::unhealthy(format!("child {}, restarts: {}", now.status, now.restarts))
                }
                .with_metadata(serde_json::json!({ "restarts": now.restarts }))
            }
        })
        .tags(["ready"]);
    let lifecycle = Lifecycle::new();
    lifecycle.mark_running();
    HealthService::new(registry, lifecycle)
}

/// `READY=1` when CMD becomes ready, `STATUS=` on every change, `WATCHDOG=1` every half
/// `$WATCHDOG_USEC` while CMD is live.
async fn notify(notifier: Notifier, mut snapshot: watch::Receiver<Snapshot>) {
    let mut watchdog = notifier.watchdog_interval().map(tokio::time::interval);
    let mut was_ready = false;
    loop {
        let now = snapshot.borrow_and_update().clone();
        if now.ready && !was_ready {
            let _ = notifier.send("READY=1\nSTATUS=child ready");
        } else if !now.ready {
            let _ = notifier.status(&format!("child {} (restarts: {})", now.status, now.restarts));
        }
        was_ready = now.ready;
        let tick = async {
            match watchdog.as_mut() {
                Some(interval) => {
                    interval.tick().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = snapshot.changed() => if changed.is_err() { return },
            () = tick => {
                if snapshot.borrow().live {
                    let _ = notifier.send("WATCHDOG=1");
                }
            }
        }
    }
}
