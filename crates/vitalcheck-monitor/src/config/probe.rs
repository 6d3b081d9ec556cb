//! What a probe probes: a target string or one kind table -> a [`Target`] with its options
//! applied, and the redacted [`WhatView`] of it that the effective config shows.

use super::effective::{CommandView, ExecView, HttpView, TcpView, UnixView, WhatView, is_sensitive_header};
use super::error::{ConfigError, FieldPath};
use super::raw::{RawCheckType, RawCommand, RawExec, RawHttp, RawMethod, RawTcp, RawUnix, RawWhat};
use super::validate::Ctx;
use std::path::PathBuf;
use vitalcheck::probe::{BodyExpectation, ExecProbe, HttpMethod, IpcMode, StatusSet, Target, UnixProbe};
use vitalcheck::redact::redact_str;
use vitalcheck::service::CheckType;

/// The kinds, in the order their tables are named in messages.
const KINDS: &str = "http, tcp, exec or unix";

/// Builds what `what` (at `at`) says to probe; `None` when it says nothing.
pub(crate) fn build(
    ctx: &Ctx<'_>,
    what: RawWhat<'_>,
    at: &FieldPath,
) -> Result<Option<(Target, WhatView)>, ConfigError> {
    let set: Vec<&str> = [
        ("target", what.target.is_some()),
        ("http", what.http.is_some()),
        ("tcp", what.tcp.is_some()),
        ("exec", what.exec.is_some()),
        ("unix", what.unix.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    if let [first, second, ..] = set.as_slice() {
        return Err(ctx.error(
            &at.key(second),
            format!("both `{first}` and `{second}` are set; a probe takes a target string or one table ({KINDS})"),
        ));
    }
    let built = if let Some(text) = what.target {
        target_string(ctx, text, &at.key("target"))?
    } else if let Some(http) = what.http {
        http_table(ctx, http, &at.key("http"))?
    } else if let Some(tcp) = what.tcp {
        tcp_table(ctx, tcp, &at.key("tcp"))?
    } else if let Some(exec) = what.exec {
        exec_table(ctx, exec, &at.key("exec"))?
    } else if let Some(unix) = what.unix {
        unix_table(ctx, unix, &at.key("unix"))?
    } else {
        return Ok(None);
    };
    Ok(Some(built))
}

/// The message when a target has nothing to probe.
pub(crate) fn nothing_to_probe() -> String {
    format!("nothing to probe: set `target = \"...\"` or one table ({KINDS})")
}

/// Parses a target string; quotes it as written (redacted) when it fails.
fn parse_target(ctx: &Ctx<'_>, raw: &str, at: &FieldPath) -> Result<Target, ConfigError> {
    let value = ctx.string(at, raw)?;
    value.value.parse::<Target>().map_err(|e| {
        let shown = if value.from_env { redact_str(raw) } else { e.input().to_string() };
        ctx.error(at, format!("invalid target {shown:?}: {}", e.reason()))
    })
}

/// Shows a string as written (so `${VAR}` stays unexpanded) with a URL's password and
/// secret-looking query values hidden. A template is not parsed as a URL (that would
/// rewrite its `${VAR}`s), so it is redacted as text.
pub(crate) fn shown(raw: &str) -> String {
    if !raw.contains("${") {
        return redact_str(raw);
    }
    let (head, query) = match raw.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (raw, None),
    };
    let mut out = mask_password(head);
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, value)) if is_secret_param(key) && !value.contains("${") => format!("{key}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

/// `scheme://user:PASSWORD@` -> `scheme://user:***@`, unless the password is a `${VAR}`.
fn mask_password(text: &str) -> String {
    let Some(start) = text.find("://").map(|i| i + 3) else { return text.to_string() };
    let authority_end = text[start..].find('/').map_or(text.len(), |i| start + i);
    let authority = &text[start..authority_end];
    match (authority.find(':'), authority.rfind('@')) {
        (Some(colon), Some(at)) if colon < at && !authority[colon + 1..at].contains("${") => {
            format!("{}{}***{}", &text[..start], &authority[..=colon], &text[start + at..])
        }
        _ => text.to_string(),
    }
}

fn is_secret_param(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    ["token", "key", "secret", "password", "passwd", "pwd", "auth", "sig"].iter().any(|word| lower.contains(word))
}

fn target_string(ctx: &Ctx<'_>, raw: &str, at: &FieldPath) -> Result<(Target, WhatView), ConfigError> {
    let mut target = parse_target(ctx, raw, at)?;
    if let Target::Http(http) = &mut target {
        // Monitors accept redirects as healthy; `wait` keeps the library's 2xx.
        http.accept = StatusSet::monitoring();
    }
    let shown = if raw.contains("${") { shown(raw) } else { target.to_string().replace("${", "$${") };
    Ok((target, WhatView { target: Some(shown), ..WhatView::default() }))
}

fn http_table(ctx: &Ctx<'_>, raw: &RawHttp, at: &FieldPath) -> Result<(Target, WhatView), ConfigError> {
    let url_at = at.key("url");
    let Target::Http(mut probe) = parse_target(ctx, &raw.url, &url_at)? else {
        return Err(ctx.error(&url_at, "expected an http:// or https:// URL"));
    };
    probe.accept = StatusSet::monitoring();
    if let Some(status) = &raw.status {
        probe.accept = status.parse().map_err(|e| ctx.error(&at.key("status"), format!("{e}")))?;
    }
    probe.method = match raw.method {
        Some(RawMethod::Head) => HttpMethod::Head,
        Some(RawMethod::Get) | None => HttpMethod::Get,
    };
    let mut headers = std::collections::BTreeMap::new();
    for (name, value) in &raw.headers {
        let value_at = at.key("headers").key(name);
        let expanded = ctx.string(&value_at, value)?;
        probe = probe.header(name, &expanded.value).map_err(|e| ctx.error(&value_at, e.to_string()))?;
        let masked = is_sensitive_header(name) && !value.contains("${");
        headers.insert(name.clone(), if masked { "***".to_string() } else { value.clone() });
    }
    if let Some(text) = &raw.expect_body {
        probe.expect.push(BodyExpectation::contains(ctx.string(&at.key("expect_body"), text)?.value));
    }
    if let Some(pattern) = &raw.expect_regex {
        let at = at.key("expect_regex");
        let pattern = ctx.string(&at, pattern)?.value;
        probe.expect.push(BodyExpectation::regex(&pattern).map_err(|e| ctx.error(&at, e.to_string()))?);
    }
    if let Some(spec) = &raw.expect_json {
        let at = at.key("expect_json");
        let spec = ctx.string(&at, spec)?.value;
        probe.expect.push(BodyExpectation::json(&spec).map_err(|e| ctx.error(&at, e.to_string()))?);
    }
    probe.insecure = raw.insecure.unwrap_or(false);
    probe.keep_alive = raw.keep_alive.unwrap_or(false);
    probe.max_redirects = raw.max_redirects.unwrap_or(probe.max_redirects);
    let view = HttpView {
        url: shown(&raw.url),
        method: if probe.method == HttpMethod::Head { "HEAD" } else { "GET" },
        status: probe.accept.to_string(),
        expect_body: raw.expect_body.clone(),
        expect_regex: raw.expect_regex.clone(),
        expect_json: raw.expect_json.clone(),
        insecure: probe.insecure,
        max_redirects: probe.max_redirects,
        keep_alive: probe.keep_alive,
        headers,
    };
    Ok((Target::Http(probe), WhatView { http: Some(view), ..WhatView::default() }))
}

fn tcp_table(ctx: &Ctx<'_>, raw: &RawTcp, at: &FieldPath) -> Result<(Target, WhatView), ConfigError> {
    let address_at = at.key("address");
    let Target::Tcp(mut probe) = parse_target(ctx, &raw.address, &address_at)? else {
        return Err(ctx.error(&address_at, "expected HOST:PORT or tcp://HOST:PORT"));
    };
    if let Some(send) = &raw.send {
        probe.send = Some(ctx.string(&at.key("send"), send)?.value.into_bytes());
    }
    if let Some(expect) = &raw.expect {
        probe.expect = Some(ctx.string(&at.key("expect"), expect)?.value.into_bytes());
    }
    let view = TcpView { address: shown(&raw.address), send: raw.send.clone(), expect: raw.expect.clone() };
    Ok((Target::Tcp(probe), WhatView { tcp: Some(view), ..WhatView::default() }))
}

fn exec_table(ctx: &Ctx<'_>, raw: &RawExec, at: &FieldPath) -> Result<(Target, WhatView), ConfigError> {
    let command_at = at.key("command");
    let (target, view) = match &raw.command {
        RawCommand::Line(line) => {
            let expanded = ctx.string(&command_at, line)?;
            let target = Target::exec(&expanded.value).map_err(|e| ctx.error(&command_at, e.reason().to_string()))?;
            (target, CommandView::Line(line.clone()))
        }
        RawCommand::Argv(argv) => {
            if argv.is_empty() {
                return Err(ctx.error(&command_at, "the command is empty; expected a program and its arguments"));
            }
            let expanded = argv
                .iter()
                .enumerate()
                .map(|(i, arg)| ctx.string(&command_at.index(i), arg).map(|e| e.value))
                .collect::<Result<Vec<_>, _>>()?;
            (Target::Exec(ExecProbe::new(expanded)), CommandView::Argv(argv.clone()))
        }
    };
    Ok((target, WhatView { exec: Some(ExecView { command: view }), ..WhatView::default() }))
}

fn unix_table(ctx: &Ctx<'_>, raw: &RawUnix, at: &FieldPath) -> Result<(Target, WhatView), ConfigError> {
    let path_at = at.key("path");
    let path = ctx.string(&path_at, &raw.path)?.value;
    if path.is_empty() {
        return Err(ctx.error(&path_at, "the socket path is empty"));
    }
    let check = raw.check_type.unwrap_or(RawCheckType::Auto);
    let (ipc, name) = match check {
        RawCheckType::Auto => (IpcMode::Auto(CheckType::Readiness), "auto"),
        RawCheckType::None => (IpcMode::Off, "none"),
        RawCheckType::Liveness => (IpcMode::Required(CheckType::Liveness), "liveness"),
        RawCheckType::Readiness => (IpcMode::Required(CheckType::Readiness), "readiness"),
        RawCheckType::Full => (IpcMode::Required(CheckType::Full), "full"),
    };
    let probe = UnixProbe::new(PathBuf::from(path)).with_ipc(ipc);
    let view = UnixView { path: raw.path.clone(), check_type: name };
    Ok((Target::Unix(probe), WhatView { unix: Some(view), ..WhatView::default() }))
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn templates_are_redacted_as_text() {
        assert_eq!(shown("http://u:pw@${HOST}/x?token=abc&page=2"), "http://u:***@${HOST}/x?token=***&page=2");
        assert_eq!(shown("http://u:${PASS}@h/?api_key=${KEY}"), "http://u:${PASS}@h/?api_key=${KEY}");
        assert_eq!(shown("http://u:pw@h/"), "http://u:***@h/");
        assert_eq!(shown("plain ${X}"), "plain ${X}");
    }
}
