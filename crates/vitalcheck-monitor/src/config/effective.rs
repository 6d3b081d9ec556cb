//! The effective config: what `vitalcheck config check` prints. Every default is filled in,
//! and nothing secret is shown:
//!
//! * strings are shown as written, so `${VAR}` references stay unexpanded and no value
//!   taken from the environment is ever printed;
//! * passwords and secret-looking query values (`token`, `api_key`, ...) in URLs are `***`;
//! * values of sensitive headers (`Authorization`, `Cookie`, any name holding `token`,
//!   `secret`, `key`, `auth`, `password` or `session`) are `***` unless they are written
//!   with `${VAR}` references.
//!
//! A target string (`target = "..."`) is shown as one, normalized; a kind table is shown
//! with all its options. The output is a valid config file that loads to the same config.

use super::duration;
use super::{Config, ProbeConfig, TargetConfig, Timing};
use serde::Serialize;
use std::collections::BTreeMap;

/// The config with defaults applied and secrets redacted, ready to print as TOML
/// ([`to_toml`](Self::to_toml)) or to serialize otherwise (JSON). Made by
/// [`Config::effective`].
#[derive(Debug, Clone, Serialize)]
pub struct EffectiveConfig {
    defaults: TimingView,
    storage: StorageView,
    history: HistoryView,
    server: ServerView,
    groups: Vec<GroupView>,
    targets: Vec<TargetView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alerts: Option<super::notify::AlertsView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notifiers: Vec<super::notify::NotifierEntryView>,
}

impl EffectiveConfig {
    /// The effective config as a TOML document.
    pub fn to_toml(&self) -> String {
        // Serializing plain strings, numbers, booleans, arrays and tables cannot fail.
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot render the config as TOML: {e}\n"))
    }
}

#[derive(Debug, Clone, Serialize)]
struct TimingView {
    interval: String,
    timeout: String,
    failure_threshold: u32,
    success_threshold: u32,
    start_period: String,
}

impl From<&Timing> for TimingView {
    fn from(t: &Timing) -> Self {
        TimingView {
            interval: duration::format(t.interval),
            timeout: duration::format(t.timeout),
            failure_threshold: t.thresholds.failure_threshold,
            success_threshold: t.thresholds.success_threshold,
            start_period: duration::format(t.thresholds.start_period),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct ServerView {
    listen: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    public: bool,
}

#[derive(Debug, Clone, Serialize)]
struct HistoryView {
    results: usize,
}

#[derive(Debug, Clone, Serialize)]
struct StorageView {
    path: String,
    retention: String,
}

#[derive(Debug, Clone, Serialize)]
struct GroupView {
    name: String,
    interval: String,
    timeout: String,
    failure_threshold: u32,
    success_threshold: u32,
    start_period: String,
}

#[derive(Debug, Clone, Serialize)]
struct TargetView {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    tags: Vec<String>,
    critical: bool,
    interval: String,
    timeout: String,
    failure_threshold: u32,
    success_threshold: u32,
    start_period: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http: Option<HttpView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tcp: Option<TcpView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exec: Option<ExecView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unix: Option<UnixView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    startup: Option<ProbeView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    liveness: Option<ProbeView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    readiness: Option<ProbeView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    process: Option<super::process::ProcessView>,
}

/// A startup, liveness or readiness probe, fully resolved.
#[derive(Debug, Clone, Serialize)]
struct ProbeView {
    interval: String,
    timeout: String,
    failure_threshold: u32,
    success_threshold: u32,
    start_period: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http: Option<HttpView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tcp: Option<TcpView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exec: Option<ExecView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unix: Option<UnixView>,
}

/// What a probe probes, as shown: a target string or one kind table (redacted).
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct WhatView {
    pub(crate) target: Option<String>,
    pub(crate) http: Option<HttpView>,
    pub(crate) tcp: Option<TcpView>,
    pub(crate) exec: Option<ExecView>,
    pub(crate) unix: Option<UnixView>,
}

/// `[targets.http]` as shown.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct HttpView {
    pub(crate) url: String,
    pub(crate) method: &'static str,
    pub(crate) status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expect_body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expect_regex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expect_json: Option<String>,
    pub(crate) insecure: bool,
    pub(crate) max_redirects: u32,
    pub(crate) keep_alive: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) headers: BTreeMap<String, String>,
}

/// `[targets.tcp]` as shown.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TcpView {
    pub(crate) address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) send: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expect: Option<String>,
}

/// `[targets.exec]` as shown: the command as written (a line or an argv array).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ExecView {
    pub(crate) command: CommandView,
}

/// A command line or an argv array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub(crate) enum CommandView {
    /// As one string.
    Line(String),
    /// As an array.
    Argv(Vec<String>),
}

/// `[targets.unix]` as shown.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct UnixView {
    pub(crate) path: String,
    pub(crate) check_type: &'static str,
}

/// Whether a header's value is secret by its name.
pub(crate) fn is_sensitive_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(lower.as_str(), "authorization" | "proxy-authorization" | "cookie")
        || ["token", "secret", "key", "auth", "password", "session"].iter().any(|word| lower.contains(word))
}

impl EffectiveConfig {
    pub(crate) fn new(config: &Config) -> Self {
        EffectiveConfig {
            defaults: TimingView::from(&config.defaults),
            storage: StorageView {
                path: config.storage.path.display().to_string().replace("${", "$${"),
                retention: duration::format(config.storage.retention),
            },
            history: HistoryView { results: config.history.results },
            server: ServerView {
                listen: config.server.listen.map_or_else(|| "off".to_string(), |a| a.to_string()),
                token: config.server.token.as_ref().map(super::server::Token::shown),
                public: config.server.public,
            },
            groups: config.groups.iter().map(|g| group_view(&g.name, &g.timing)).collect(),
            targets: config.targets.iter().map(target_view).collect(),
            alerts: (!config.notifiers.is_empty() || config.alerts != super::AlertsConfig::default())
                .then(|| super::notify::alerts_view(&config.alerts)),
            notifiers: config.notifiers.iter().map(super::notify::notifier_view).collect(),
        }
    }
}

fn group_view(name: &str, timing: &Timing) -> GroupView {
    let t = TimingView::from(timing);
    GroupView {
        name: name.to_string(),
        interval: t.interval,
        timeout: t.timeout,
        failure_threshold: t.failure_threshold,
        success_threshold: t.success_threshold,
        start_period: t.start_period,
    }
}

fn probe_view(probe: &ProbeConfig) -> ProbeView {
    let t = TimingView::from(&probe.timing);
    let what = probe.view.clone();
    ProbeView {
        interval: t.interval,
        timeout: t.timeout,
        failure_threshold: t.failure_threshold,
        success_threshold: t.success_threshold,
        start_period: t.start_period,
        target: what.target,
        http: what.http,
        tcp: what.tcp,
        exec: what.exec,
        unix: what.unix,
    }
}

fn target_view(target: &TargetConfig) -> TargetView {
    let p = probe_view(&target.probe);
    TargetView {
        name: target.name.clone(),
        group: target.group.clone(),
        tags: target.tags.clone(),
        critical: target.critical,
        interval: p.interval,
        timeout: p.timeout,
        failure_threshold: p.failure_threshold,
        success_threshold: p.success_threshold,
        start_period: p.start_period,
        target: p.target,
        http: p.http,
        tcp: p.tcp,
        exec: p.exec,
        unix: p.unix,
        startup: target.startup.as_deref().map(probe_view),
        liveness: target.liveness.as_deref().map(probe_view),
        readiness: target.readiness.as_deref().map(probe_view),
        process: target.process.as_ref().map(Into::into),
    }
}
