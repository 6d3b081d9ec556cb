//! The processes of targets with a `process` table, each kept alive by
//! `supervisor::own`; a reload starts the new ones, stops the removed ones and restarts
//! those whose table changed (the old process is gone before the new one starts).

use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;
use vitalcheck_monitor::config::{Config, ProcessConfig};
use vitalcheck_monitor::engine::Engine;

/// Every owned process, by target name; one change at a time.
pub(super) struct Processes {
    engine: Arc<Engine>,
    owned: Mutex<Owned>,
}

#[derive(Default)]
struct Owned {
    running: HashMap<String, Owner>,
    /// Owners told to stop by a reload, still stopping.
    stopping: Vec<JoinHandle<()>>,
}

/// One target's owner task.
struct Owner {
    process: ProcessConfig,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// What a reload changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct ProcessChanges {
    pub(super) started: usize,
    pub(super) stopped: usize,
    pub(super) restarted: usize,
}

impl ProcessChanges {
    fn any(&self) -> bool {
        self.started + self.stopped + self.restarted > 0
    }
}

impl Processes {
    /// Starts the process of every target of `config` that has one.
    pub(super) async fn start(engine: &Arc<Engine>, config: &Config) -> Processes {
        let processes = Processes { engine: Arc::clone(engine), owned: Mutex::default() };
        processes.apply(config).await;
        processes
    }

    /// Makes the owned processes those of `config`; logs and returns what changed.
    pub(super) async fn apply(&self, config: &Config) -> ProcessChanges {
        let wanted: HashMap<&str, &ProcessConfig> =
            config.targets.iter().filter_map(|t| Some((t.name.as_str(), t.process.as_ref()?))).collect();
        let mut owned = self.owned.lock().await;
        let mut changes = ProcessChanges::default();
        let gone: Vec<String> = owned
            .running
            .iter()
            .filter(|(name, owner)| wanted.get(name.as_str()).is_none_or(|p| **p != owner.process))
            .map(|(name, _)| name.clone())
            .collect();
        let mut previous: HashMap<String, JoinHandle<()>> = HashMap::new();
        for name in gone {
            if let Some(owner) = owned.running.remove(&name) {
                let _ = owner.stop.send(true);
                if wanted.contains_key(name.as_str()) {
                    changes.restarted += 1;
                    previous.insert(name, owner.task);
                } else {
                    changes.stopped += 1;
                    owned.stopping.push(owner.task);
                }
            }
        }
        for (name, process) in wanted {
            if owned.running.contains_key(name) {
                continue;
            }
            let after = previous.remove(name);
            if after.is_none() {
                changes.started += 1;
            }
            let owner = self.spawn(name.to_owned(), process.clone(), after);
            owned.running.insert(name.to_owned(), owner);
        }
        owned.stopping.retain(|task| !task.is_finished());
        if changes.any() {
            tracing::info!(
                started = changes.started,
                stopped = changes.stopped,
                restarted = changes.restarted,
                "processes changed"
            );
        }
        changes
    }

    /// The owner of `name`'s process; it starts once `after` (the owner of the process it
    /// replaces) has ended.
    fn spawn(&self, name: String, process: ProcessConfig, after: Option<JoinHandle<()>>) -> Owner {
        let (stop, stopped) = watch::channel(false);
        let engine = Arc::clone(&self.engine);
        let config = process.clone();
        let task = tokio::spawn(async move {
            if let Some(previous) = after {
                let _ = previous.await;
            }
            if *stopped.borrow() {
                return;
            }
            match vitalcheck_monitor::supervisor::own(engine, name.clone(), config, stopped).await {
                Ok(outcome) => tracing::info!(target = %name, code = outcome.exit_code(), "process supervision ended"),
                Err(err) => tracing::error!(target = %name, error = %err, "process supervision failed"),
            }
        });
        Owner { process, stop, task }
    }

    /// Stops every process (each within its grace period) and waits for them.
    pub(super) async fn stop(&self) {
        let mut owned = self.owned.lock().await;
        let running: Vec<Owner> = owned.running.drain().map(|(_, owner)| owner).collect();
        for owner in &running {
            let _ = owner.stop.send(true);
        }
        for task in running.into_iter().map(|o| o.task).chain(owned.stopping.drain(..)) {
            let _ = task.await;
        }
    }
}
