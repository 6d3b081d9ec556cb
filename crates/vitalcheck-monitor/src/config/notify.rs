//! `[alerts]` and `[[notifiers]]`: who is told when a target goes down or recovers.
//!
//! ```toml
//! [alerts]
//! group_wait = "10s"        # transitions within this window go out as one message
//! repeat_interval = "4h"    # remind about targets still down ("off": never)
//! timeout = "10s"           # one delivery attempt
//! retry_initial = "1s"      # failed deliveries retry with exponential backoff...
//! retry_max = "5m"          # ...capped here...
//! max_attempts = 20         # ...until given up
//!
//! [[notifiers]]
//! name = "ops"
//! kind = "webhook"                                # webhook | slack | discord | command
//! url = "https://hooks.example.com/vitalcheck"
//! headers = { X-Api-Key = "${OPS_KEY}" }
//! secret = "${OPS_HMAC_SECRET}"                   # X-Vitalcheck-Signature: sha256=<hex>
//! groups = ["proxies"]                            # routing: any of these groups (empty: all)
//! tags = ["prod"]                                 # and any of these tags (empty: all)
//! statuses = ["unhealthy"]                        # what fires (also "degraded")
//! send_resolved = true
//! ```
//!
//! Every notifier value is secret except its name, kind, routing and command: URLs are
//! shown as `scheme://host:port/***`, header values and the HMAC secret as `***`, unless
//! they were written with `${VAR}` references (then shown as written, never expanded).
//!
//! This file holds the typed config and how it is shown; `notify_check.rs` the file's
//! raw form and its validation.

use super::duration;
use super::effective::CommandView;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// A status that can fire an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    /// The target answers but not well (or a non-critical probe failed).
    Degraded,
    /// The target is down (after `failure_threshold`).
    Unhealthy,
}

impl AlertStatus {
    /// The status as stored in transitions (`degraded`, `unhealthy`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Degraded => "degraded",
            AlertStatus::Unhealthy => "unhealthy",
        }
    }
}

/// `[alerts]`: grouping, reminders and delivery retries, shared by every notifier.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AlertsConfig {
    /// Transitions routed to a notifier within this long of the first are sent as one
    /// message (Alertmanager's `group_wait`). Default: 10 s.
    pub group_wait: Duration,
    /// A reminder for targets still firing this long after the last message about them;
    /// `None` (`"off"`): never. Default: 4 h.
    pub repeat_interval: Option<Duration>,
    /// One delivery attempt (HTTP exchange or command). Default: 10 s.
    pub timeout: Duration,
    /// The first retry delay of a failed delivery; it doubles (with jitter) each time.
    /// Default: 1 s.
    pub retry_initial: Duration,
    /// The longest retry delay. Default: 5 min.
    pub retry_max: Duration,
    /// Attempts before a message is given up (logged as an error). Default: 20.
    pub max_attempts: u32,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            group_wait: Duration::from_secs(10),
            repeat_interval: Some(Duration::from_secs(4 * 3600)),
            timeout: Duration::from_secs(10),
            retry_initial: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
            max_attempts: 20,
        }
    }
}

/// A value that must never be shown: `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A secret from its value (for embedding programs and tests).
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A notifier's URL: the value is secret (Slack and Discord URLs hold the token in the path).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(Url);

impl SecretUrl {
    /// A URL (for embedding programs and tests).
    pub fn new(url: Url) -> Self {
        SecretUrl(url)
    }

    /// The URL, for the one place that sends to it.
    pub fn expose(&self) -> &Url {
        &self.0
    }

    /// `scheme://host:port/***`: what may be shown.
    pub fn shown(&self) -> String {
        let host = self.0.host_str().unwrap_or_default();
        match self.0.port_or_known_default() {
            Some(port) => format!("{}://{host}:{port}/***", self.0.scheme()),
            None => format!("{}://{host}/***", self.0.scheme()),
        }
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

/// One `[[notifiers]]` entry, validated.
///
/// `Debug` shows it as the effective config does (secrets redacted).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NotifierConfig {
    /// Unique among notifiers; names its outbox cursor, so renaming one starts it afresh.
    pub name: String,
    /// Where and how messages go.
    pub kind: NotifierKind,
    /// Which transitions it gets.
    pub route: RouteConfig,
    /// Certificates an https receiver may chain to besides the public roots (`ca`).
    pub ca: Option<CaFile>,
    pub(crate) view: NotifierView,
}

/// A PEM file of CA certificates (`ca = "..."`) that a notifier's https receiver may
/// chain to, besides the public (webpki) roots: a private CA. Read with the config, so a
/// missing or empty file is a config error; `Debug` shows the path.
#[derive(Clone, PartialEq, Eq)]
pub struct CaFile {
    path: PathBuf,
    pem: Arc<[u8]>,
}

impl CaFile {
    /// A CA file read from `path` with contents `pem` (checked by the caller).
    pub fn new(path: PathBuf, pem: Vec<u8>) -> Self {
        CaFile { path, pem: pem.into() }
    }

    /// Where it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The PEM text.
    pub fn pem(&self) -> &[u8] {
        &self.pem
    }
}

impl fmt::Debug for CaFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaFile({})", self.path.display())
    }
}

/// Where a notifier sends. `Debug` hides URLs' paths, header values, the secret and
/// command arguments (they may come from `${VAR}` secrets).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotifierKind {
    /// `POST url` with the JSON payload, custom headers and an optional HMAC signature.
    Webhook {
        /// The receiver.
        url: SecretUrl,
        /// Extra headers, values secret.
        headers: Vec<(String, Secret)>,
        /// The HMAC-SHA256 key of `X-Vitalcheck-Signature`.
        secret: Option<Secret>,
    },
    /// A Slack incoming webhook (`{"text": ...}`).
    Slack {
        /// The webhook URL (secret).
        url: SecretUrl,
    },
    /// A Discord webhook (`{"content": ...}`).
    Discord {
        /// The webhook URL (secret).
        url: SecretUrl,
    },
    /// A program run with the JSON payload on stdin; exit status 0 means delivered.
    Command {
        /// Program and arguments (no shell).
        argv: Vec<String>,
    },
}

/// Which transitions a notifier gets (all conditions must hold).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouteConfig {
    /// The target's group is one of these; empty: any target.
    pub groups: Vec<String>,
    /// The target has one of these tags; empty: any target.
    pub tags: Vec<String>,
    /// Statuses that fire. Default: `unhealthy`.
    pub statuses: Vec<AlertStatus>,
    /// Also send a message when a firing target recovers. Default: true.
    pub send_resolved: bool,
}

impl NotifierConfig {
    /// A notifier (for embedding programs and tests).
    pub fn new(name: impl Into<String>, kind: NotifierKind, route: RouteConfig) -> Self {
        let view = NotifierView::of(&kind);
        NotifierConfig { name: name.into(), kind, route, ca: None, view }
    }

    /// The kind's name: `webhook`, `slack`, `discord` or `command`.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            NotifierKind::Webhook { .. } => "webhook",
            NotifierKind::Slack { .. } => "slack",
            NotifierKind::Discord { .. } => "discord",
            NotifierKind::Command { .. } => "command",
        }
    }
}

impl fmt::Debug for NotifierConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifierConfig")
            .field("name", &self.name)
            .field("kind", &self.kind_name())
            .field("shown", &self.view)
            .field("route", &self.route)
            .field("ca", &self.ca)
            .finish()
    }
}

impl fmt::Debug for NotifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotifierKind::Webhook { url, headers, secret } => f
                .debug_struct("Webhook")
                .field("url", url)
                .field("headers", &headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>())
                .field("secret", &secret.as_ref().map(|_| "***"))
                .finish(),
            NotifierKind::Slack { url } => f.debug_struct("Slack").field("url", url).finish(),
            NotifierKind::Discord { url } => f.debug_struct("Discord").field("url", url).finish(),
            NotifierKind::Command { argv } => f
                .debug_struct("Command")
                .field("program", &argv.first())
                .field("args", &argv.len().saturating_sub(1))
                .finish(),
        }
    }
}

impl Default for RouteConfig {
    fn default() -> Self {
        RouteConfig {
            groups: Vec::new(),
            tags: Vec::new(),
            statuses: vec![AlertStatus::Unhealthy],
            send_resolved: true,
        }
    }
}

/// The secret-bearing fields as the effective config shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NotifierView {
    pub(crate) url: Option<String>,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) secret: Option<String>,
    pub(crate) command: Option<CommandView>,
}

impl NotifierView {
    fn of(kind: &NotifierKind) -> Self {
        match kind {
            NotifierKind::Webhook { url, headers, secret } => NotifierView {
                url: Some(url.shown()),
                headers: headers.iter().map(|(k, _)| (k.clone(), "***".into())).collect(),
                secret: secret.as_ref().map(|_| "***".into()),
                command: None,
            },
            NotifierKind::Slack { url } | NotifierKind::Discord { url } => {
                NotifierView { url: Some(url.shown()), ..NotifierView::default() }
            }
            NotifierKind::Command { argv } => {
                NotifierView { command: Some(CommandView::Argv(argv.clone())), ..NotifierView::default() }
            }
        }
    }
}

/// `[alerts]` as the effective config prints it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AlertsView {
    group_wait: String,
    repeat_interval: String,
    timeout: String,
    retry_initial: String,
    retry_max: String,
    max_attempts: u32,
}

/// A `[[notifiers]]` entry as the effective config prints it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct NotifierEntryView {
    name: String,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<CommandView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ca: Option<String>,
    groups: Vec<String>,
    tags: Vec<String>,
    statuses: Vec<AlertStatus>,
    send_resolved: bool,
}

/// How `[alerts]` is shown.
pub(crate) fn alerts_view(a: &AlertsConfig) -> AlertsView {
    AlertsView {
        group_wait: duration::format(a.group_wait),
        repeat_interval: a.repeat_interval.map_or_else(|| "off".into(), duration::format),
        timeout: duration::format(a.timeout),
        retry_initial: duration::format(a.retry_initial),
        retry_max: duration::format(a.retry_max),
        max_attempts: a.max_attempts,
    }
}

/// How a notifier is shown (secrets redacted).
pub(crate) fn notifier_view(n: &NotifierConfig) -> NotifierEntryView {
    let v = n.view.clone();
    NotifierEntryView {
        name: n.name.clone(),
        kind: n.kind_name(),
        url: v.url,
        headers: v.headers,
        secret: v.secret,
        command: v.command,
        ca: n.ca.as_ref().map(|ca| ca.path.display().to_string().replace("${", "$${")),
        groups: n.route.groups.clone(),
        tags: n.route.tags.clone(),
        statuses: n.route.statuses.clone(),
        send_resolved: n.route.send_resolved,
    }
}
