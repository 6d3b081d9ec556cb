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

use super::duration;
use super::effective::CommandView;
use super::error::{ConfigError, FieldPath};
use super::validate::Ctx;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use url::Url;

/// `[alerts]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlerts {
    #[serde(default, deserialize_with = "duration::optional")]
    group_wait: Option<Duration>,
    repeat_interval: Option<String>,
    #[serde(default, deserialize_with = "duration::optional")]
    timeout: Option<Duration>,
    #[serde(default, deserialize_with = "duration::optional")]
    retry_initial: Option<Duration>,
    #[serde(default, deserialize_with = "duration::optional")]
    retry_max: Option<Duration>,
    max_attempts: Option<u32>,
}

/// One `[[notifiers]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNotifier {
    name: String,
    kind: RawKind,
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    secret: Option<String>,
    command: Option<Vec<String>>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    statuses: Option<Vec<AlertStatus>>,
    send_resolved: Option<bool>,
}

/// `kind = "webhook" | "slack" | "discord" | "command"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawKind {
    Webhook,
    Slack,
    Discord,
    Command,
}

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
    view: NotifierView,
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
        NotifierConfig { name: name.into(), kind, route, view }
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
struct NotifierView {
    url: Option<String>,
    headers: BTreeMap<String, String>,
    secret: Option<String>,
    command: Option<CommandView>,
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
        groups: n.route.groups.clone(),
        tags: n.route.tags.clone(),
        statuses: n.route.statuses.clone(),
        send_resolved: n.route.send_resolved,
    }
}

/// Validates `[alerts]`.
pub(crate) fn alerts(ctx: &Ctx<'_>, raw: &RawAlerts, at: &FieldPath) -> Result<AlertsConfig, ConfigError> {
    let d = AlertsConfig::default();
    for (name, value) in [("timeout", raw.timeout), ("retry_initial", raw.retry_initial), ("retry_max", raw.retry_max)]
    {
        if value == Some(Duration::ZERO) {
            return Err(ctx.error(&at.key(name), "must be greater than zero"));
        }
    }
    if raw.max_attempts == Some(0) {
        return Err(ctx.error(&at.key("max_attempts"), "must be at least 1"));
    }
    let repeat_interval = match raw.repeat_interval.as_deref().map(str::trim) {
        None => d.repeat_interval,
        Some("off") => None,
        Some(text) => match duration::parse(text) {
            Ok(value) if value > Duration::ZERO => Some(value),
            Ok(_) => return Err(ctx.error(&at.key("repeat_interval"), "must be greater than zero, or \"off\"")),
            Err(e) => return Err(ctx.error(&at.key("repeat_interval"), format!("{e}, or \"off\""))),
        },
    };
    let retry_initial = raw.retry_initial.unwrap_or(d.retry_initial);
    let retry_max = raw.retry_max.unwrap_or(d.retry_max);
    if retry_max < retry_initial {
        let message = format!(
            "{} is shorter than retry_initial {}",
            duration::format(retry_max),
            duration::format(retry_initial)
        );
        return Err(ctx.error(&at.key(if raw.retry_max.is_some() { "retry_max" } else { "retry_initial" }), message));
    }
    Ok(AlertsConfig {
        group_wait: raw.group_wait.unwrap_or(d.group_wait),
        repeat_interval,
        timeout: raw.timeout.unwrap_or(d.timeout),
        retry_initial,
        retry_max,
        max_attempts: raw.max_attempts.unwrap_or(d.max_attempts),
    })
}

/// Validates every `[[notifiers]]` entry; `groups` are the defined group names.
pub(crate) fn notifiers(
    ctx: &Ctx<'_>,
    raw: &[RawNotifier],
    groups: &[&str],
) -> Result<Vec<NotifierConfig>, ConfigError> {
    let mut out: Vec<NotifierConfig> = Vec::with_capacity(raw.len());
    for (i, entry) in raw.iter().enumerate() {
        let at = FieldPath::root().key("notifiers").index(i);
        if entry.name.trim().is_empty() || entry.name.chars().any(char::is_control) {
            return Err(ctx.error(&at.key("name"), "must not be empty or hold control characters"));
        }
        if let Some(first) = out.iter().position(|n| n.name == entry.name) {
            let message = format!("duplicate notifier name {:?} (see notifiers[{first}])", entry.name);
            return Err(ctx.error(&at.key("name"), message));
        }
        let (kind, view) = kind(ctx, entry, &at)?;
        for (j, group) in entry.groups.iter().enumerate() {
            if !groups.contains(&group.as_str()) {
                let message = format!("unknown group {group:?}; define it in [[groups]]");
                return Err(ctx.error(&at.key("groups").index(j), message));
            }
        }
        let statuses = entry.statuses.clone().unwrap_or_else(|| RouteConfig::default().statuses);
        if statuses.is_empty() {
            return Err(ctx.error(&at.key("statuses"), "must list at least one of \"unhealthy\", \"degraded\""));
        }
        let route = RouteConfig {
            groups: entry.groups.clone(),
            tags: entry.tags.clone(),
            statuses,
            send_resolved: entry.send_resolved.unwrap_or(true),
        };
        out.push(NotifierConfig { name: entry.name.clone(), kind, route, view });
    }
    Ok(out)
}

/// The kind-specific fields: required ones present, others absent.
fn kind(ctx: &Ctx<'_>, raw: &RawNotifier, at: &FieldPath) -> Result<(NotifierKind, NotifierView), ConfigError> {
    let name = match raw.kind {
        RawKind::Webhook => "webhook",
        RawKind::Slack => "slack",
        RawKind::Discord => "discord",
        RawKind::Command => "command",
    };
    let not_for = |field: &str| ctx.error(&at.key(field), format!("not used by kind = \"{name}\""));
    if raw.kind != RawKind::Webhook {
        if !raw.headers.is_empty() {
            return Err(not_for("headers"));
        }
        if raw.secret.is_some() {
            return Err(not_for("secret"));
        }
    }
    if raw.kind == RawKind::Command {
        if raw.url.is_some() {
            return Err(not_for("url"));
        }
        let Some(written) = &raw.command else {
            return Err(ctx.error(at, "kind = \"command\" needs `command`, an array: program, then arguments"));
        };
        if written.first().is_none_or(|p| p.trim().is_empty()) {
            return Err(ctx.error(&at.key("command"), "must name a program: [\"/path/to/program\", \"arg\", ...]"));
        }
        let argv = written
            .iter()
            .enumerate()
            .map(|(i, arg)| ctx.string(&at.key("command").index(i), arg).map(|e| e.value))
            .collect::<Result<Vec<_>, _>>()?;
        let view = NotifierView { command: Some(CommandView::Argv(written.clone())), ..NotifierView::default() };
        return Ok((NotifierKind::Command { argv }, view));
    }
    if raw.command.is_some() {
        return Err(not_for("command"));
    }
    let Some(written) = &raw.url else {
        return Err(ctx.error(at, format!("kind = \"{name}\" needs `url`")));
    };
    let url = url(ctx, written, &at.key("url"))?;
    let mut view =
        NotifierView { url: Some(shown(written, url.shown(), from_env(written))), ..NotifierView::default() };
    let kind = match raw.kind {
        RawKind::Slack => NotifierKind::Slack { url },
        RawKind::Discord => NotifierKind::Discord { url },
        _ => {
            let mut headers = Vec::with_capacity(raw.headers.len());
            for (key, value) in &raw.headers {
                let path = at.key("headers").key(key);
                if http_header_name_invalid(key) {
                    return Err(secret_error(ctx, &path, "not a valid HTTP header name"));
                }
                let v = ctx.string(&path, value)?;
                if v.value.chars().any(|c| c.is_control()) {
                    return Err(secret_error(ctx, &path, "must not contain control characters"));
                }
                view.headers.insert(key.clone(), shown(value, "***".into(), v.from_env));
                headers.push((key.clone(), Secret(v.value)));
            }
            let secret = match &raw.secret {
                None => None,
                Some(written) => {
                    let v = ctx.string(&at.key("secret"), written)?;
                    if v.value.is_empty() {
                        return Err(ctx.error(&at.key("secret"), "must not be empty"));
                    }
                    view.secret = Some(shown(written, "***".into(), v.from_env));
                    Some(Secret(v.value))
                }
            };
            NotifierKind::Webhook { url, headers, secret }
        }
    };
    Ok((kind, view))
}

fn from_env(written: &str) -> bool {
    written.contains("${")
}

/// As written when it came from `${VAR}`, else `redacted`.
fn shown(written: &str, redacted: String, from_env: bool) -> String {
    if from_env { written.to_string() } else { redacted }
}

fn http_header_name_invalid(name: &str) -> bool {
    name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// An error about a field whose value is secret: placed (file, line, column, field) but
/// without the snippet, which would quote the value (errors of a reload are logged).
fn secret_error(ctx: &Ctx<'_>, at: &FieldPath, message: impl Into<String>) -> ConfigError {
    let mut err = ctx.error(at, message);
    err.snippet = None;
    err
}

/// An `http://` or `https://` URL; the error never quotes it (it may hold a token).
fn url(ctx: &Ctx<'_>, written: &str, at: &FieldPath) -> Result<SecretUrl, ConfigError> {
    let value = ctx.string(at, written)?.value;
    let url = Url::parse(value.trim()).map_err(|e| {
        secret_error(ctx, at, format!("not a URL ({e}); expected http://HOST/PATH or https://HOST/PATH"))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(secret_error(ctx, at, "expected an http:// or https:// URL with a host"));
    }
    Ok(SecretUrl(url))
}
