//! `[alerts]` and `[[notifiers]]` as written, and their validation into the types of
//! `notify.rs`: defaults, the fields each kind needs and refuses, groups that exist, URLs,
//! header names; errors about secret values never quote them.

use super::duration;
use super::effective::CommandView;
use super::error::{ConfigError, FieldPath};
use super::notify::{
    AlertStatus, AlertsConfig, CaFile, NotifierConfig, NotifierKind, NotifierView, RouteConfig, Secret, SecretUrl,
};
use super::validate::Ctx;
use serde::Deserialize;
use std::collections::BTreeMap;
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
    ca: Option<String>,
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
        let ca = match &entry.ca {
            None => None,
            Some(written) => Some(ca_file(ctx, written, &kind, &at.key("ca"))?),
        };
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
        out.push(NotifierConfig { name: entry.name.clone(), kind, route, ca, view });
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
                headers.push((key.clone(), Secret::new(v.value)));
            }
            let secret = match &raw.secret {
                None => None,
                Some(written) => {
                    let v = ctx.string(&at.key("secret"), written)?;
                    if v.value.is_empty() {
                        return Err(ctx.error(&at.key("secret"), "must not be empty"));
                    }
                    view.secret = Some(shown(written, "***".into(), v.from_env));
                    Some(Secret::new(v.value))
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

/// `ca`: a PEM file of CA certificates for an `https://` receiver (a relative path is
/// taken from the config file's directory), read now so that a missing file is a config
/// error.
fn ca_file(ctx: &Ctx<'_>, written: &str, kind: &NotifierKind, at: &FieldPath) -> Result<CaFile, ConfigError> {
    let https = match kind {
        NotifierKind::Webhook { url, .. } | NotifierKind::Slack { url } | NotifierKind::Discord { url } => {
            url.expose().scheme() == "https"
        }
        _ => return Err(ctx.error(at, "not used by kind = \"command\"")),
    };
    if !https {
        return Err(ctx.error(at, "only used with an https:// url"));
    }
    let path = std::path::PathBuf::from(ctx.string(at, written)?.value);
    let path = match std::path::Path::new(ctx.file).parent() {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path,
    };
    let pem = std::fs::read(&path).map_err(|e| ctx.error(at, format!("cannot read {}: {e}", path.display())))?;
    if !pem.windows(CERTIFICATE.len()).any(|w| w == CERTIFICATE) {
        let message = format!("{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path.display());
        return Err(ctx.error(at, message));
    }
    Ok(CaFile::new(path, pem))
}

const CERTIFICATE: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// An `http://` or `https://` URL; the error never quotes it (it may hold a token).
fn url(ctx: &Ctx<'_>, written: &str, at: &FieldPath) -> Result<SecretUrl, ConfigError> {
    let value = ctx.string(at, written)?.value;
    let url = Url::parse(value.trim()).map_err(|e| {
        secret_error(ctx, at, format!("not a URL ({e}); expected http://HOST/PATH or https://HOST/PATH"))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(secret_error(ctx, at, "expected an http:// or https:// URL with a host"));
    }
    Ok(SecretUrl::new(url))
}
