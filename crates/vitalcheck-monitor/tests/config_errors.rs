//! Golden tests: every `tests/config/invalid-*.toml` maps to its exact error (file, line,
//! column, dotted path, message) in one table.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::path::{Path, PathBuf};
use vitalcheck_monitor::config::{Config, ConfigError};

/// Only `HOME` is set: no `${VAR}` in these files resolves.
fn env(name: &str) -> Option<String> {
    (name == "HOME").then(|| "/home/test".to_string())
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config")
}

fn error_of(name: &str) -> ConfigError {
    let text = std::fs::read_to_string(dir().join(name)).unwrap();
    match Config::parse_with_env(&text, name, env) {
        Ok(config) => panic!("{name} was accepted: {config:?}"),
        Err(err) => err,
    }
}

const GOLDEN: &[(&str, &str)] = &[
    ("invalid-syntax.toml", "invalid-syntax.toml:3:39: invalid basic string, expected `\"`"),
    (
        "invalid-unknown-field.toml",
        "invalid-unknown-field.toml:4:1: targets[0].timout: unknown field `timout`, expected one of `name`, `target`, \
         `http`, `tcp`, `exec`, `unix`, `interval`, `timeout`, `failure_threshold`, `success_threshold`, \
         `start_period`, `startup`, `liveness`, `readiness`, `group`, `tags`, `critical`, `process`",
    ),
    (
        "invalid-process-empty-command.toml",
        "invalid-process-empty-command.toml:5:11: targets[0].process.command: expected a non-empty list of strings: \
         the program and its arguments, e.g. [\"./api\", \"--port\", \"8080\"]",
    ),
    (
        "invalid-process-bad-restart.toml",
        "invalid-process-bad-restart.toml:6:11: targets[0].process.restart: unknown restart policy \"sometimes\": \
         expected always, on-failure or never",
    ),
    (
        "invalid-unknown-table.toml",
        "invalid-unknown-table.toml:1:2: defualts: unknown field `defualts`, expected one of `defaults`, `storage`, \
         `history`, `server`, `groups`, `targets`, `alerts`, `notifiers`",
    ),
    (
        "invalid-unknown-http-field.toml",
        "invalid-unknown-http-field.toml:6:1: targets[0].http.expect_status: unknown field `expect_status`, expected \
         one of `url`, `method`, `headers`, `status`, `expect_body`, `expect_regex`, `expect_json`, `insecure`, \
         `max_redirects`, `keep_alive`",
    ),
    (
        "invalid-wrong-type.toml",
        "invalid-wrong-type.toml:2:21: defaults.failure_threshold: invalid type: string \"3\", expected a whole number",
    ),
    (
        "invalid-bad-duration.toml",
        "invalid-bad-duration.toml:4:12: targets[0].interval: invalid duration \"5 parsecs\": expected a duration \
         like \"500ms\", \"30s\", \"1m30s\", \"2h\" or \"30d\"",
    ),
    (
        "invalid-bare-number-duration.toml",
        "invalid-bare-number-duration.toml:3:11: groups[0].timeout: invalid type: integer `30`, expected a duration \
         like \"500ms\", \"30s\", \"1m30s\", \"2h\" or \"30d\"",
    ),
    (
        "invalid-bad-target.toml",
        "invalid-bad-target.toml:3:10: targets[0].target: invalid target \"ftp://files.internal/\": unsupported \
         scheme \"ftp\"; expected http://HOST[:PORT]/PATH, https://…, tcp://HOST:PORT, HOST:PORT, unix:///PATH",
    ),
    (
        "invalid-bad-port.toml",
        "invalid-bad-port.toml:5:11: targets[0].tcp.address: invalid target \"db.internal:99999\": port \"99999\" is \
         not a number from 1 to 65535",
    ),
    (
        "invalid-secret-in-bad-url.toml",
        "invalid-secret-in-bad-url.toml:3:10: targets[0].target: invalid target \
         \"http://admin:***@127.0.0.1:99999/health\": not a valid URL: invalid port number",
    ),
    (
        "invalid-duplicate-name.toml",
        "invalid-duplicate-name.toml:10:8: targets[2].name: duplicate target name \"api\" (first used by targets[0], \
         line 2)",
    ),
    (
        "invalid-duplicate-group.toml",
        "invalid-duplicate-group.toml:5:8: groups[1].name: duplicate group name \"proxies\" (see groups[0])",
    ),
    ("invalid-missing-name.toml", "invalid-missing-name.toml:1:1: targets[0]: missing field `name`"),
    ("invalid-zero-interval.toml", "invalid-zero-interval.toml:8:12: targets[1].interval: must be greater than zero"),
    (
        "invalid-zero-threshold.toml",
        "invalid-zero-threshold.toml:6:21: targets[0].readiness.failure_threshold: must be at least 1",
    ),
    (
        "invalid-timeout-longer.toml",
        "invalid-timeout-longer.toml:10:11: targets[0].timeout: timeout 8s is longer than the interval 5s (set at \
         groups[0].interval)",
    ),
    (
        "invalid-interval-shorter.toml",
        "invalid-interval-shorter.toml:7:12: targets[0].interval: interval 2s is shorter than the timeout 10s (set \
         at defaults.timeout)",
    ),
    (
        "invalid-probe-timeout-longer.toml",
        "invalid-probe-timeout-longer.toml:7:11: targets[0].readiness.timeout: timeout 45s is longer than the \
         interval 30s (the built-in default)",
    ),
    (
        "invalid-unknown-group.toml",
        "invalid-unknown-group.toml:6:9: targets[0].group: unknown group \"proxy\"; expected one of \"proxies\"",
    ),
    (
        "invalid-both-target-and-table.toml",
        "invalid-both-target-and-table.toml:5:1: targets[0].http: both `target` and `http` are set; a probe takes a \
         target string or one table (http, tcp, exec or unix)",
    ),
    (
        "invalid-neither.toml",
        "invalid-neither.toml:5:1: targets[1]: nothing to probe: set `target = \"...\"` or one table (http, tcp, exec \
         or unix)",
    ),
    (
        "invalid-missing-env.toml",
        "invalid-missing-env.toml:6:29: targets[0].http.headers.Authorization: environment variable \
         VC_TEST_MISSING_TOKEN is not set",
    ),
    (
        "invalid-bad-status.toml",
        "invalid-bad-status.toml:6:10: targets[0].http.status: invalid status list \"2xx,600\": \"600\" is not an \
         HTTP status from 100 to 599; expected codes, ranges or classes separated by commas, like 200-399,404 or 2xx",
    ),
    (
        "invalid-bad-method.toml",
        "invalid-bad-method.toml:6:10: targets[0].http.method: unknown variant `POST`, expected `GET` or `HEAD`",
    ),
    (
        "invalid-empty-command.toml",
        "invalid-empty-command.toml:5:11: targets[0].exec.command: the command is empty; expected a program and its \
         arguments",
    ),
    (
        "invalid-bad-check-type.toml",
        "invalid-bad-check-type.toml:6:14: targets[0].unix.check_type: unknown variant `deep`, expected one of \
         `auto`, `none`, `liveness`, `readiness`, `full`",
    ),
    (
        "invalid-bad-listen.toml",
        "invalid-bad-listen.toml:2:10: server.listen: \"localhost:80\" is not an address to listen on; expected \
         IP:PORT such as \"127.0.0.1:9755\" or \"[::1]:9755\", or \"off\"",
    ),
    (
        "invalid-history-field.toml",
        "invalid-history-field.toml:2:1: history.result: unknown field `result`, expected `results`",
    ),
    (
        "invalid-history-results.toml",
        "invalid-history-results.toml:2:11: history.results: must be between 1 and 100000 (8 bytes a result per \
         target in memory), got 0",
    ),
    (
        "invalid-short-token.toml",
        "invalid-short-token.toml:2:9: server.token: must be at least 16 characters long (a guessable token protects \
         nothing)",
    ),
    (
        "invalid-notifier-kind.toml",
        "invalid-notifier-kind.toml:3:8: notifiers[0].kind: unknown variant `email`, expected one of `webhook`, \
         `slack`, `discord`, `command`",
    ),
    (
        "invalid-notifier-unknown-field.toml",
        "invalid-notifier-unknown-field.toml:5:1: notifiers[0].secrett: unknown field `secrett`, expected one of \
         `name`, `kind`, `url`, `headers`, `secret`, `ca`, `command`, `groups`, `tags`, `statuses`, `send_resolved`",
    ),
    (
        "invalid-notifier-missing-url.toml",
        "invalid-notifier-missing-url.toml:1:1: notifiers[0]: kind = \"slack\" needs `url`",
    ),
    (
        "invalid-notifier-field-for-kind.toml",
        "invalid-notifier-field-for-kind.toml:5:10: notifiers[0].secret: not used by kind = \"slack\"",
    ),
    (
        "invalid-notifier-url.toml",
        "invalid-notifier-url.toml:4:7: notifiers[0].url: expected an http:// or https:// URL with a host",
    ),
    (
        "invalid-notifier-ca-missing.toml",
        "invalid-notifier-ca-missing.toml:5:6: notifiers[0].ca: cannot read no-such-ca.pem: No such file or directory (os \
         error 2)",
    ),
    (
        "invalid-notifier-ca-http.toml",
        "invalid-notifier-ca-http.toml:5:6: notifiers[0].ca: only used with an https:// url",
    ),
    (
        "invalid-notifier-ca-empty.toml",
        "invalid-notifier-ca-empty.toml:5:6: notifiers[0].ca: tests/config/invalid-notifier-ca-empty.toml holds no PEM \
         certificate (-----BEGIN CERTIFICATE-----)",
    ),
    (
        "invalid-notifier-url-secret.toml",
        "invalid-notifier-url-secret.toml:4:7: notifiers[0].url: expected an http:// or https:// URL with a host",
    ),
    (
        "invalid-notifier-status.toml",
        "invalid-notifier-status.toml:5:13: notifiers[0].statuses[0]: unknown variant `down`, expected `degraded` or \
         `unhealthy`",
    ),
    (
        "invalid-duplicate-notifier.toml",
        "invalid-duplicate-notifier.toml:7:8: notifiers[1].name: duplicate notifier name \"ops\" (see notifiers[0])",
    ),
    (
        "invalid-repeat-interval.toml",
        "invalid-repeat-interval.toml:2:19: alerts.repeat_interval: invalid duration \"sometimes\": expected a \
         duration like \"500ms\", \"30s\", \"1m30s\", \"2h\" or \"30d\", or \"off\"",
    ),
];

#[test]
fn every_invalid_file_gives_its_exact_error() {
    let mut failures = Vec::new();
    for (name, expected) in GOLDEN {
        let got = error_of(name).headline();
        // The target parser's list of schemes grows with the `grpc` feature (and proxy+).
        let got = got
            .replace(", exec:COMMAND, proxy+SCHEME://HOST:PORT[?url=TEST_URL] or grpc://HOST:PORT[/SERVICE]", "")
            .replace(", exec:COMMAND or proxy+SCHEME://HOST:PORT[?url=TEST_URL]", "")
            .replace(", exec:COMMAND or grpc://HOST:PORT[/SERVICE]", "")
            .replace(" or exec:COMMAND", "");
        if got != *expected {
            failures.push(format!("{name}\n  expected: {expected}\n       got: {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_invalid_file_is_in_the_table() {
    for entry in std::fs::read_dir(dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.starts_with("invalid-") {
            assert!(GOLDEN.iter().any(|(n, _)| *n == name), "{name} has no expected error in GOLDEN");
        }
    }
}

#[test]
fn errors_show_the_line_with_the_spot_marked() {
    assert_eq!(
        error_of("invalid-duplicate-name.toml").to_string(),
        "invalid-duplicate-name.toml:10:8: targets[2].name: duplicate target name \"api\" (first used by targets[0], \
         line 2)\n   |\n10 | name = \"api\"\n   |        ^^^^^"
    );
    assert_eq!(
        error_of("invalid-zero-interval.toml").to_string(),
        "invalid-zero-interval.toml:8:12: targets[1].interval: must be greater than zero\n  |\n8 | interval = \"0s\"\n  \
         |            ^^^^"
    );
}

#[test]
fn a_literal_password_is_masked_in_the_snippet() {
    let shown = error_of("invalid-secret-in-bad-url.toml").to_string();
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("\"http://admin:*******@127.0.0.1:99999/health\""), "{shown}");
}

#[test]
fn an_unreadable_file_names_it() {
    let err = Config::load("/nonexistent/vitalcheck.toml").unwrap_err();
    assert!(err.headline().starts_with("/nonexistent/vitalcheck.toml: cannot read the file: "), "{err}");
    assert_eq!((err.line, err.column), (None, None));
}

#[test]
fn a_notifier_url_is_never_quoted_in_an_error() {
    let err = error_of("invalid-notifier-url-secret.toml");
    assert_eq!((err.line, err.column, err.snippet.as_deref()), (Some(4), Some(7), None));
    assert!(!err.to_string().contains("slack-url-secret"), "{err}");
}
