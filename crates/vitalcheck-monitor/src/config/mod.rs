//! `vitalcheck.toml` -> a validated, typed [`Config`] for `vitalcheck run`.
//!
//! The file (a commented example ships as `examples/vitalcheck.toml`):
//!
//! ```toml
//! [defaults]                      # every field optional; these are the built-in values
//! interval = "30s"
//! timeout = "10s"
//! failure_threshold = 3
//! success_threshold = 1
//! start_period = "0s"
//!
//! [storage]                       # default: $XDG_DATA_HOME/vitalcheck/vitalcheck.db
//! path = "/var/lib/vitalcheck/vitalcheck.db"
//! retention = "30d"
//!
//! [history]                       # kept in memory per target (read at start)
//! results = 100                   # the last results: 8 bytes each
//!
//! [server]                        # the HTTP API, /metrics and the status page
//! listen = "127.0.0.1:9755"       # the default (loopback); "off" serves nothing
//! token = "${VITALCHECK_TOKEN}"   # bearer token for admin actions
//! public = false                  # true hides what is probed on the status page
//!
//! [[groups]]                      # a pool; its timing overrides [defaults] for members
//! name = "proxies"
//! interval = "5s"
//! timeout = "2s"
//!
//! [[targets]]
//! name = "api"
//! target = "http://127.0.0.1:8080/health"   # any target string, or one table below
//!
//! [[targets]]
//! name = "proxy-1"
//! group = "proxies"
//! tags = ["eu"]
//! critical = false
//! [targets.http]
//! url = "http://127.0.0.1:3128/"
//! headers = { Authorization = "Bearer ${PROXY_TOKEN}" }
//! status = "200-399"
//! [targets.readiness]             # also startup / liveness; each may set its own
//! interval = "2s"                 # target or table, timing and thresholds
//! ```
//!
//! Layers, most specific last: built-in (Docker's defaults) -> `[defaults]` -> the
//! target's group -> the target -> its `startup` / `liveness` / `readiness` table. A
//! probe table without a target or kind table probes the target's own.
//!
//! Strings that say what to probe (and `storage.path`) may hold `${VAR}` references to
//! environment variables (`$${` for a literal `${`); the effective config shows them
//! unexpanded. Every mistake is a [`ConfigError`] naming file, line, column and field.

mod duration;
mod effective;
mod env;
mod error;
mod notify;
mod notify_check;
mod probe;
mod process;
mod raw;
mod server;
mod validate;

pub use effective::EffectiveConfig;
pub use error::ConfigError;
pub use notify::{AlertStatus, AlertsConfig, CaFile, NotifierConfig, NotifierKind, RouteConfig, Secret, SecretUrl};
pub use process::{DEFAULT_GRACE, ProcessConfig};
pub use server::{DEFAULT_LISTEN, MIN_TOKEN_LEN, ServerConfig, Token};

use crate::history::HistoryConfig;
use error::FieldPath;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vitalcheck::probe::Target;

/// A validated config: every default applied, every target parsed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The file it was read from, as named.
    pub file: String,
    /// `[defaults]` over the built-in defaults.
    pub defaults: Timing,
    /// Where results are stored and for how long.
    pub storage: Storage,
    /// What each target keeps in memory (`[history]`); the engine reads it at start
    /// ([`EngineOptions::history`](crate::engine::EngineOptions::history)).
    pub history: HistoryConfig,
    /// Where the HTTP API, `/metrics` and the status page listen.
    pub server: ServerConfig,
    /// The groups, in file order, each with the timing its members start from.
    pub groups: Vec<Group>,
    /// The targets, in file order; names are unique.
    pub targets: Vec<TargetConfig>,
    /// `[alerts]`: grouping window, reminders, delivery retries.
    pub alerts: AlertsConfig,
    /// `[[notifiers]]`, in file order; names are unique.
    pub notifiers: Vec<NotifierConfig>,
}

/// When a probe runs and how its answers are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Time between the starts of two probes. Default: 30 s.
    pub interval: Duration,
    /// Time one probe may take; never longer than the interval. Default: 10 s, or the
    /// interval when that is shorter.
    pub timeout: Duration,
    /// How many answers in a row change the state.
    pub thresholds: Thresholds,
}

impl Default for Timing {
    /// Docker's defaults: every 30 s, 10 s timeout, and [`Thresholds::default`].
    fn default() -> Self {
        Timing {
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            thresholds: Thresholds::default(),
        }
    }
}

/// How many answers in a row turn a target unhealthy or healthy again, and the grace
/// period at start: the state machine's own type.
pub use vitalcheck::state::Thresholds;

/// `[storage]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storage {
    /// The SQLite file. A relative path in the file is taken from the config file's
    /// directory. Default: `$XDG_DATA_HOME/vitalcheck/vitalcheck.db`, else
    /// `~/.local/share/vitalcheck/vitalcheck.db`.
    pub path: PathBuf,
    /// How long results are kept. Default: 30 days.
    pub retention: Duration,
}

/// A `[[groups]]` entry: a pool of targets (proxies, replicas).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Group {
    /// Unique among groups.
    pub name: String,
    /// The timing its members start from (`[defaults]` with the group's own settings).
    pub timing: Timing,
}

/// A `[[targets]]` entry.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TargetConfig {
    /// Unique among targets.
    pub name: String,
    /// The target's own probe: its health when no liveness or readiness probe is given.
    pub probe: ProbeConfig,
    /// Runs first; until it succeeds the other probes do not run. (Boxed, as the other
    /// two: most targets have none, and a config of 100,000 targets is held in memory
    /// while it loads.)
    pub startup: Option<Box<ProbeConfig>>,
    /// Whether the target is alive.
    pub liveness: Option<Box<ProbeConfig>>,
    /// Whether the target should receive traffic.
    pub readiness: Option<Box<ProbeConfig>>,
    /// The group it belongs to (defined in `[[groups]]`).
    pub group: Option<String>,
    /// Free-form labels.
    pub tags: Vec<String>,
    /// Whether its Unhealthy counts as Unhealthy overall (else as Degraded). Default: true.
    pub critical: bool,
    /// The process `vitalcheck run` starts and restarts for this target, if any.
    pub process: Option<ProcessConfig>,
}

/// One probe of a target: what to probe, with its options applied, and when.
///
/// `Debug` shows the probe as the effective config does (secrets redacted).
#[derive(Clone)]
#[non_exhaustive]
pub struct ProbeConfig {
    /// What to probe. HTTP targets accept 200-399 unless `status` says otherwise.
    pub target: Target,
    /// When it runs and how its answers count.
    pub timing: Timing,
    view: effective::WhatView,
}

impl fmt::Debug for ProbeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeConfig").field("target", &self.view).field("timing", &self.timing).finish()
    }
}

impl Config {
    /// Reads and validates the file at `path`, with `${VAR}` from the process environment.
    /// Errors name the file as `path` is written.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::unplaced(&file, &FieldPath::root(), format!("cannot read the file: {e}")))?;
        Config::parse(&text, &file)
    }

    /// Validates `text`, read from `file_name` (used in errors and to place a relative
    /// storage path), with `${VAR}` from the process environment.
    pub fn parse(text: &str, file_name: &str) -> Result<Config, ConfigError> {
        Config::parse_with_env(text, file_name, |name| std::env::var(name).ok())
    }

    /// Like [`parse`](Self::parse), reading variables (for `${VAR}` and the XDG storage
    /// default) through `lookup`.
    ///
    /// ```
    /// use vitalcheck_monitor::config::Config;
    /// let text = r#"
    /// [[targets]]
    /// name = "api"
    /// target = "http://127.0.0.1:8080/health"
    /// interval = "5s"
    /// "#;
    /// let config = Config::parse_with_env(text, "vitalcheck.toml", |v| (v == "HOME").then(|| "/home/me".into()))?;
    /// assert_eq!(config.targets[0].probe.timing.interval, std::time::Duration::from_secs(5));
    /// assert_eq!(config.storage.path.to_str(), Some("/home/me/.local/share/vitalcheck/vitalcheck.db"));
    /// let err = Config::parse_with_env("[defaults]\ninterval = \"0s\"\n", "v.toml", |_| None).unwrap_err();
    /// assert_eq!(err.headline(), "v.toml:2:12: defaults.interval: must be greater than zero");
    /// # Ok::<(), vitalcheck_monitor::config::ConfigError>(())
    /// ```
    pub fn parse_with_env(
        text: &str,
        file_name: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let root = FieldPath::root();
        let doc = toml::de::DeTable::parse(text).map_err(|e| match e.span() {
            Some(span) => ConfigError::at(file_name, text, span, &root, e.message()),
            None => ConfigError::unplaced(file_name, &root, e.message()),
        })?;
        // The document is consumed here: errors that need a place parse the text again.
        let deserializer = toml::de::Deserializer::from(doc);
        let raw: raw::RawConfig = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let path = FieldPath::from_serde(e.path());
            let span = e.inner().span().unwrap_or_else(|| path.locate_in(text));
            ConfigError::at(file_name, text, span, &path, plain_types(e.inner().message()))
        })?;
        let ctx = validate::Ctx { file: file_name, text, lookup: &lookup };
        validate::validate(raw, &ctx)
    }

    /// The config as `vitalcheck config check` prints it: defaults applied, secrets
    /// redacted.
    pub fn effective(&self) -> EffectiveConfig {
        EffectiveConfig::new(self)
    }

    /// The target named `name`.
    pub fn target(&self, name: &str) -> Option<&TargetConfig> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// The members of group `group`, in file order.
    pub fn members<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a TargetConfig> + 'a {
        self.targets.iter().filter(move |t| t.group.as_deref() == Some(group))
    }
}

/// serde's type names, said for people: `expected u32` -> `expected a whole number`.
fn plain_types(message: &str) -> String {
    message.replace("expected u32", "expected a whole number").replace("expected u16", "expected a whole number")
}
