//! The configs the runs load: generated TOML text, parsed the way `vitalcheck run` parses a
//! file (`Config::parse_with_env`), and the engine started on it with a fresh SQLite store.

use crate::measure::{mb, thousands};
use crate::server::address;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vitalcheck_monitor::config::Config;
use vitalcheck_monitor::engine::{Engine, EngineOptions};
use vitalcheck_monitor::store::{SqliteStore, Store};

/// What a generated config holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Workload {
    /// `t0` ... `t{targets-1}`, target `i` at `http://{address(i % addrs)}:{port}/t/{i}`.
    pub(crate) targets: usize,
    /// `g0` ... `g{groups-1}`, target `i` in group `i % groups`; none when 0.
    pub(crate) groups: usize,
    pub(crate) addrs: usize,
    pub(crate) port: u16,
    /// `[defaults] interval`.
    pub(crate) interval: Duration,
    /// `[defaults] timeout`.
    pub(crate) timeout: Duration,
}

/// The name of target `i`.
pub(crate) fn target_name(i: usize) -> String {
    format!("t{i}")
}

/// The index of a target named by [`target_name`].
pub(crate) fn target_index(name: &str) -> Option<usize> {
    name.strip_prefix('t')?.parse().ok()
}

/// The name of group `g`.
pub(crate) fn group_name(g: usize) -> String {
    format!("g{g}")
}

impl Workload {
    /// The config text, with the store at `db`.
    pub(crate) fn toml(&self, db: &Path) -> String {
        let mut text = String::with_capacity(256 + self.groups * 24 + self.targets * 96);
        // A JSON string is a valid TOML basic string.
        let path = serde_json::to_string(&db.to_string_lossy()).unwrap_or_default();
        let _ = writeln!(text, "[storage]\npath = {path}\n");
        let _ = writeln!(
            text,
            "[defaults]\ninterval = \"{}ms\"\ntimeout = \"{}ms\"\n",
            self.interval.as_millis(),
            self.timeout.as_millis()
        );
        for g in 0..self.groups {
            let _ = writeln!(text, "[[groups]]\nname = \"{}\"\n", group_name(g));
        }
        for i in 0..self.targets {
            let _ = writeln!(text, "[[targets]]\nname = \"{}\"", target_name(i));
            if self.groups > 0 {
                let _ = writeln!(text, "group = \"{}\"", group_name(i % self.groups));
            }
            let _ = writeln!(text, "target = \"http://{}:{}/t/{i}\"\n", address(i % self.addrs), self.port);
        }
        text
    }

    /// Generates, parses and prints the figures of the config (store at `db`).
    pub(crate) fn config(&self, db: &Path, quiet: bool) -> Result<Config, String> {
        let text = self.toml(db);
        let t = Instant::now();
        let config = Config::parse_with_env(&text, "bench.toml", |_| None).map_err(|e| e.to_string())?;
        let parsed = t.elapsed();
        if config.targets.len() != self.targets {
            return Err(format!("the config has {} targets, not {}", config.targets.len(), self.targets));
        }
        if !quiet {
            println!(
                "  config: {} targets, {} of TOML, Config::parse_with_env {:.3} s ({:.1} us a target)",
                thousands(self.targets as u64),
                mb(text.len() as u64),
                parsed.as_secs_f64(),
                parsed.as_secs_f64() * 1e6 / self.targets.max(1) as f64
            );
        }
        Ok(config)
    }
}

/// A fresh SQLite store at `db`.
pub(crate) fn open_store(db: &Path) -> Result<Arc<SqliteStore>, String> {
    SqliteStore::open(db).map(Arc::new).map_err(|e| format!("cannot open the store: {e}"))
}

/// Starts the engine on `config` with `store`; returns it and how long `start` took.
pub(crate) async fn start(
    config: &Config,
    store: &Arc<SqliteStore>,
    options: EngineOptions,
) -> Result<(Engine, Duration), String> {
    let t = Instant::now();
    let store: Arc<dyn Store> = store.clone();
    let engine = Engine::start(config, store, options).await.map_err(|e| format!("the engine did not start: {e}"))?;
    Ok((engine, t.elapsed()))
}
