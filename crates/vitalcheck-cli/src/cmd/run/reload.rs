//! Reloading the config of a running `vitalcheck run`: one path for SIGHUP and
//! `POST /api/v1/reload`.

use super::processes::Processes;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Mutex;
use vitalcheck_monitor::api::ReloadOutcome;
use vitalcheck_monitor::config::{Config, ServerConfig, Storage};
use vitalcheck_monitor::engine::Engine;
use vitalcheck_monitor::history::HistoryConfig;
use vitalcheck_monitor::notify::Dispatcher;

/// What a reload compares the new config with; one reload at a time.
pub(super) struct Reloader {
    engine: Arc<Engine>,
    /// Takes the reloaded `[alerts]` and `[[notifiers]]`.
    dispatcher: Arc<Dispatcher>,
    /// Takes the reloaded `process` tables.
    processes: Arc<Processes>,
    file: PathBuf,
    running: Mutex<(Storage, ServerConfig)>,
    /// `[history]` as the engine started with it (changing it takes a restart).
    history: HistoryConfig,
}

impl Reloader {
    pub(super) fn new(
        engine: Arc<Engine>,
        dispatcher: Arc<Dispatcher>,
        processes: Arc<Processes>,
        file: PathBuf,
        config: &Config,
    ) -> Reloader {
        let running = Mutex::new((config.storage.clone(), config.server.clone()));
        Reloader { engine, dispatcher, processes, file, running, history: config.history.clone() }
    }

    /// Reads the config again and applies it; a bad file, or one that moves the store, is
    /// logged (prefixed with `cause`: `SIGHUP`, `API`) and the running config kept.
    pub(super) async fn reload(&self, cause: &str) -> ReloadOutcome {
        let mut running = self.running.lock().await;
        let (storage, server) = &mut *running;
        let config = match Config::load(&self.file) {
            Ok(config) => config,
            Err(err) => {
                tracing::error!(error = %err, "{cause}: the config has an error; keeping the running config");
                return Err(format!("the config has an error; keeping the running config: {err}"));
            }
        };
        if config.storage.path != storage.path {
            tracing::error!(
                running = %storage.path.display(),
                new = %config.storage.path.display(),
                "{cause}: [storage] path changed: moving the store takes a restart; keeping the running config"
            );
            return Err("[storage] path changed: moving the store takes a restart; keeping the running config".into());
        }
        if config.storage.retention != storage.retention {
            tracing::warn!(
                running = ?storage.retention,
                new = ?config.storage.retention,
                "{cause}: [storage] retention changed: it takes effect after a restart"
            );
        }
        if config.history != self.history {
            tracing::warn!(
                running = self.history.results,
                new = config.history.results,
                "{cause}: [history] changed: it takes effect after a restart"
            );
        }
        if config.server != *server {
            tracing::warn!("{cause}: [server] changed: it takes effect after a restart");
        }
        let outcome = match self.engine.reload(&config).await {
            Ok(report) => {
                self.dispatcher.reload(&config).await;
                self.processes.apply(&config).await;
                tracing::info!(
                    added = report.added,
                    removed = report.removed,
                    reset = report.reset,
                    kept = report.kept,
                    "{cause}: reloaded {}",
                    self.file.display()
                );
                Ok(report)
            }
            Err(err) => {
                tracing::error!(error = %err, "{cause}: reload failed");
                Err(format!("reload failed: {err}"))
            }
        };
        *storage = config.storage;
        outcome
    }
}
