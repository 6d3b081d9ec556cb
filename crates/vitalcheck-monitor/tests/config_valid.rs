//! Valid configs parse to the expected typed values; `${VAR}` interpolation; the effective
//! config (defaults applied, secrets redacted) and its round trip.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::path::{Path, PathBuf};
use std::time::Duration;
use vitalcheck::probe::{HttpMethod, IpcMode, Target};
use vitalcheck::service::CheckType;
use vitalcheck_monitor::config::{Config, Thresholds, Timing};

const PREFIX: &str = "VC_CFG_TEST_";

/// A test environment: `HOME`, and a few variables under a prefix no one else uses.
fn env(name: &str) -> Option<String> {
    match name.strip_prefix(PREFIX) {
        Some("TOKEN") => Some("s3cret-token".into()),
        Some("PASSWORD") => Some("hunter2".into()),
        Some("HOST") => Some("127.0.0.9".into()),
        Some(_) => None,
        None => (name == "HOME").then(|| "/home/test".into()),
    }
}

fn parse(text: &str) -> Config {
    Config::parse_with_env(text, "vitalcheck.toml", env).unwrap_or_else(|e| panic!("{e}"))
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/vitalcheck.toml")
}

#[test]
fn the_example_file_loads_with_its_layers_applied() {
    let text = std::fs::read_to_string(example()).unwrap();
    let config = Config::parse_with_env(&text, "examples/vitalcheck.toml", env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.defaults, Timing::default());
    assert_eq!(config.storage.retention, secs(30 * 86_400));
    assert_eq!(config.storage.path, Path::new("/home/test/.local/share/vitalcheck/vitalcheck.db"));
    assert_eq!(config.history, vitalcheck_monitor::history::HistoryConfig::default());
    let names: Vec<&str> = config.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["api", "api-deep", "app", "redis", "proxy-1", "proxy-2", "proxy-3", "disk", "app-socket"]);
    let members: Vec<&str> = config.members("proxies").map(|t| t.name.as_str()).collect();
    assert_eq!(members, ["proxy-1", "proxy-2", "proxy-3"]);

    let proxy1 = &config.target("proxy-1").unwrap().probe;
    let pool = Thresholds { failure_threshold: 2, ..Thresholds::default() };
    assert_eq!(proxy1.timing, Timing { interval: secs(5), timeout: secs(2), thresholds: pool });
    assert_eq!(config.target("proxy-3").unwrap().probe.timing.interval, secs(10));
    assert_eq!(config.target("api").unwrap().probe.timing, Timing::default());

    let Target::Http(api) = &config.target("api").unwrap().probe.target else { panic!("api is http") };
    assert_eq!(api.accept.to_string(), "200-399");
    let deep = config.target("api-deep").unwrap();
    assert!(!deep.critical);
    assert_eq!(deep.tags, ["web", "deep"]);
    let Target::Http(deep) = &deep.probe.target else { panic!("api-deep is http") };
    assert_eq!((deep.accept.to_string().as_str(), deep.max_redirects, deep.method), ("200-299", 0, HttpMethod::Get));
    assert_eq!(deep.expect.len(), 1);
    assert_eq!(deep.headers.get("accept").unwrap(), "application/json");

    let Target::Exec(disk) = &config.target("disk").unwrap().probe.target else { panic!("disk is exec") };
    assert_eq!(disk.argv, ["test", "-w", "/tmp"]);
    let Target::Tcp(redis) = &config.target("redis").unwrap().probe.target else { panic!("redis is tcp") };
    assert_eq!((redis.send.as_deref(), redis.expect.as_deref()), (Some(&b"PING\r\n"[..]), Some(&b"+PONG"[..])));
    let Target::Unix(sock) = &config.target("app-socket").unwrap().probe.target else { panic!("unix") };
    assert_eq!(sock.ipc, IpcMode::Required(CheckType::Readiness));
}

#[test]
fn startup_liveness_readiness_inherit_from_the_target() {
    let text = std::fs::read_to_string(example()).unwrap();
    let config = Config::parse_with_env(&text, "vitalcheck.toml", env).unwrap();
    let app = config.target("app").unwrap();
    assert_eq!(app.probe.timing.thresholds.start_period, secs(20));
    let startup = app.startup.as_ref().unwrap();
    assert_eq!(startup.target.to_string(), "http://127.0.0.1:8081/livez");
    assert_eq!(startup.timing.interval, secs(1));
    assert_eq!(
        startup.timing.thresholds,
        Thresholds { failure_threshold: 30, success_threshold: 1, start_period: secs(20) }
    );
    let readiness = app.readiness.as_ref().unwrap();
    assert_eq!(readiness.target.to_string(), "http://127.0.0.1:8081/readyz");
    assert_eq!((readiness.timing.interval, readiness.timing.timeout), (secs(5), secs(2)));
    assert!(app.liveness.is_none());
}

#[test]
fn a_minimal_file_gets_the_docker_defaults() {
    let config = parse("[[targets]]\nname = \"db\"\ntarget = \"db.internal:5432\"\n");
    let db = &config.targets[0];
    assert_eq!(db.probe.timing, Timing { interval: secs(30), timeout: secs(10), thresholds: Thresholds::default() });
    assert_eq!(
        db.probe.timing.thresholds,
        Thresholds { failure_threshold: 3, success_threshold: 1, start_period: Duration::ZERO }
    );
    assert!(db.critical && db.tags.is_empty() && db.group.is_none());
    assert!(db.startup.is_none() && db.liveness.is_none() && db.readiness.is_none());
    assert!(parse("").targets.is_empty());
}

#[test]
fn the_default_timeout_shrinks_to_a_shorter_interval() {
    let config = parse("[[targets]]\nname = \"db\"\ntarget = \"db:5432\"\ninterval = \"2s\"\n");
    assert_eq!((config.targets[0].probe.timing.interval, config.targets[0].probe.timing.timeout), (secs(2), secs(2)));
}

#[test]
fn storage_path_follows_xdg_or_the_file() {
    let xdg = |name: &str| match name {
        "XDG_DATA_HOME" => Some("/data".to_string()),
        "HOME" => Some("/home/x".to_string()),
        _ => None,
    };
    let config = Config::parse_with_env("", "v.toml", xdg).unwrap();
    assert_eq!(config.storage.path, Path::new("/data/vitalcheck/vitalcheck.db"));
    let relative_xdg = |name: &str| if name == "XDG_DATA_HOME" { Some("rel".into()) } else { env(name) };
    let config = Config::parse_with_env("", "v.toml", relative_xdg).unwrap();
    assert_eq!(config.storage.path, Path::new("/home/test/.local/share/vitalcheck/vitalcheck.db"));
    let config = Config::parse_with_env("[storage]\npath = \"state/vc.db\"\n", "/etc/vc/v.toml", env).unwrap();
    assert_eq!(config.storage.path, Path::new("/etc/vc/state/vc.db"));
    let err = Config::parse_with_env("", "v.toml", |_| None).unwrap_err();
    assert_eq!(
        err.headline(),
        "v.toml: storage.path: not set, and neither XDG_DATA_HOME nor HOME is set to place it under"
    );
}

const WITH_SECRETS: &str = r#"
[[targets]]
name = "api"
[targets.http]
url = "http://bob:${VC_CFG_TEST_PASSWORD}@${VC_CFG_TEST_HOST}:8080/health?token=literal-token"
headers = { Authorization = "Bearer ${VC_CFG_TEST_TOKEN}", X-Api-Key = "literal-key", Accept = "text/plain" }
expect_body = "costs $${PRICE}"

[[targets]]
name = "db"
target = "postgres-check"
[targets.exec]
command = ["pg_isready", "--password=${VC_CFG_TEST_PASSWORD}"]

[[targets]]
name = "literal"
target = "https://admin:plain-pass@127.0.0.1/x"
"#;

#[test]
fn env_references_are_substituted_through_the_lookup() {
    let text = WITH_SECRETS.replace("target = \"postgres-check\"\n", "");
    let config = parse(&text);
    let Target::Http(api) = &config.targets[0].probe.target else { panic!("http") };
    assert_eq!(api.url.host_str(), Some("127.0.0.9"));
    assert_eq!(api.url.password(), Some("hunter2"));
    assert_eq!(api.headers.get("authorization").unwrap(), "Bearer s3cret-token");
    assert_eq!(format!("{:?}", api.expect[0]), "Contains(\"costs ${PRICE}\")");
    let Target::Exec(db) = &config.targets[1].probe.target else { panic!("exec") };
    assert_eq!(db.argv, ["pg_isready", "--password=hunter2"]);
}

#[test]
fn the_effective_config_shows_defaults_and_no_secret() {
    let text = WITH_SECRETS.replace("target = \"postgres-check\"\n", "");
    let config = parse(&text);
    let shown = config.effective().to_toml();
    for secret in ["hunter2", "s3cret-token", "literal-token", "literal-key", "plain-pass"] {
        assert!(!shown.contains(secret), "{secret} shown in:\n{shown}");
    }
    for expected in [
        "url = \"http://bob:${VC_CFG_TEST_PASSWORD}@${VC_CFG_TEST_HOST}:8080/health?token=***\"",
        "Authorization = \"Bearer ${VC_CFG_TEST_TOKEN}\"",
        "X-Api-Key = \"***\"",
        "Accept = \"text/plain\"",
        "command = [\"pg_isready\", \"--password=${VC_CFG_TEST_PASSWORD}\"]",
        "target = \"https://admin:***@127.0.0.1/x\"",
        "status = \"200-399\"",
        "interval = \"30s\"",
        "failure_threshold = 3",
        "retention = \"30d\"",
        "[history]\nresults = 100",
    ] {
        assert!(shown.contains(expected), "{expected:?} missing from:\n{shown}");
    }
    let debug = format!("{config:?}");
    for secret in ["hunter2", "s3cret-token", "literal-key", "plain-pass"] {
        assert!(!debug.contains(secret), "{secret} in Debug: {debug}");
    }
}

#[test]
fn the_effective_config_loads_back_to_itself() {
    let text = std::fs::read_to_string(example()).unwrap();
    for source in [text, WITH_SECRETS.replace("target = \"postgres-check\"\n", "")] {
        let first = parse(&source).effective().to_toml();
        let second = parse(&first).effective().to_toml();
        assert_eq!(first, second);
    }
}

#[test]
fn the_server_section_defaults_to_loopback_and_hides_its_token() {
    let config = parse("");
    assert_eq!(config.server.listen, Some("127.0.0.1:9755".parse().unwrap()));
    assert!(config.server.token.is_none() && !config.server.public);

    let config = parse("[server]\nlisten = \"[::1]:0\"\ntoken = \"${VC_CFG_TEST_TOKEN}-and-more\"\npublic = true\n");
    assert_eq!(config.server.listen, Some("[::1]:0".parse().unwrap()));
    let token = config.server.token.as_ref().unwrap();
    assert!(token.matches("s3cret-token-and-more") && !token.matches("s3cret-token"));
    assert!(config.server.public);
    let shown = config.effective().to_toml();
    assert!(shown.contains("token = \"${VC_CFG_TEST_TOKEN}-and-more\""), "{shown}");
    assert!(!format!("{config:?}").contains("s3cret"));

    let literal = parse("[server]\nlisten = \"off\"\ntoken = \"a-literal-token-of-some-length\"\n");
    assert_eq!(literal.server.listen, None);
    let shown = literal.effective().to_toml();
    assert!(shown.contains("listen = \"off\"") && shown.contains("token = \"***\""), "{shown}");
    assert!(!shown.contains("a-literal-token") && !format!("{literal:?}").contains("a-literal-token"));
}

const WITH_NOTIFIERS: &str = r#"
[alerts]
group_wait = "30s"
repeat_interval = "off"
retry_max = "1m"

[[groups]]
name = "pool"

[[notifiers]]
name = "ops"
kind = "webhook"
url = "https://hooks.example.com/v1/literal-path-token?key=literal-query"
headers = { X-Api-Key = "literal-key", Authorization = "Bearer ${VC_CFG_TEST_TOKEN}" }
secret = "literal-hmac-secret"
groups = ["pool"]
tags = ["prod"]
statuses = ["unhealthy", "degraded"]

[[notifiers]]
name = "chat"
kind = "slack"
url = "https://hooks.slack.com/services/T000/B000/literal-slack-token"
send_resolved = false

[[notifiers]]
name = "discord"
kind = "discord"
url = "${VC_CFG_TEST_HOST}"

[[notifiers]]
name = "pager"
kind = "command"
command = ["/usr/local/bin/page", "--token=${VC_CFG_TEST_TOKEN}"]
"#;

#[test]
fn notifiers_are_typed_and_their_secrets_never_shown() {
    use vitalcheck_monitor::config::{AlertStatus, NotifierKind};
    // The discord URL comes from the environment: give it a URL.
    let text = WITH_NOTIFIERS
        .replace("${VC_CFG_TEST_HOST}", "https://${VC_CFG_TEST_HOST}/api/webhooks/1/${VC_CFG_TEST_TOKEN}");
    let config = parse(&text);
    assert_eq!(config.alerts.group_wait, secs(30));
    assert_eq!(config.alerts.repeat_interval, None);
    assert_eq!(config.alerts.retry_max, secs(60));
    assert_eq!(config.alerts.retry_initial, secs(1));
    assert_eq!(config.alerts.max_attempts, 20);
    let names: Vec<&str> = config.notifiers.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["ops", "chat", "discord", "pager"]);
    let ops = &config.notifiers[0];
    let NotifierKind::Webhook { url, headers, secret } = &ops.kind else { panic!("webhook") };
    assert_eq!(url.expose().path(), "/v1/literal-path-token");
    assert_eq!(secret.as_ref().unwrap().expose(), "literal-hmac-secret");
    let auth = headers.iter().find(|(k, _)| k == "Authorization").unwrap();
    assert_eq!(auth.1.expose(), "Bearer s3cret-token");
    assert_eq!(ops.route.statuses, [AlertStatus::Unhealthy, AlertStatus::Degraded]);
    assert_eq!(
        (ops.route.groups.as_slice(), ops.route.tags.as_slice()),
        (&["pool".to_string()][..], &["prod".to_string()][..])
    );
    assert!(ops.route.send_resolved && !config.notifiers[1].route.send_resolved);
    assert_eq!(config.notifiers[1].route.statuses, [AlertStatus::Unhealthy], "the default");
    let NotifierKind::Command { argv } = &config.notifiers[3].kind else { panic!("command") };
    assert_eq!(argv, &["/usr/local/bin/page", "--token=s3cret-token"]);

    let shown = config.effective().to_toml();
    let debug = format!("{config:?}");
    for secret in [
        "literal-path-token",
        "literal-query",
        "literal-key",
        "literal-hmac-secret",
        "literal-slack-token",
        "s3cret-token",
        "127.0.0.9",
    ] {
        assert!(!shown.contains(secret), "{secret} shown in:\n{shown}");
        assert!(!debug.contains(secret), "{secret} in Debug: {debug}");
    }
    for expected in [
        "url = \"https://hooks.example.com:443/***\"",
        "X-Api-Key = \"***\"",
        "Authorization = \"Bearer ${VC_CFG_TEST_TOKEN}\"",
        "secret = \"***\"",
        "url = \"https://hooks.slack.com:443/***\"",
        "url = \"https://${VC_CFG_TEST_HOST}/api/webhooks/1/${VC_CFG_TEST_TOKEN}\"",
        "command = [\"/usr/local/bin/page\", \"--token=${VC_CFG_TEST_TOKEN}\"]",
        "repeat_interval = \"off\"",
        "group_wait = \"30s\"",
    ] {
        assert!(shown.contains(expected), "{expected:?} missing from:\n{shown}");
    }
    let again = parse(&shown).effective().to_toml();
    assert_eq!(shown, again, "the effective config loads back to itself");
}

#[test]
fn without_notifiers_the_effective_config_has_no_alerts_section() {
    let shown = parse("").effective().to_toml();
    assert!(!shown.contains("[alerts]") && !shown.contains("notifiers"), "{shown}");
}

#[test]
fn history_results_bound_what_each_target_keeps_in_memory() {
    let config = parse("[history]\nresults = 20\n");
    assert_eq!(config.history.results, 20);
    // The rest of the history's shape keeps its defaults.
    let defaults = vitalcheck_monitor::history::HistoryConfig::default();
    assert_eq!(config.history.tiers, defaults.tiers);
    assert!(config.effective().to_toml().contains("[history]\nresults = 20\n"));
    assert_eq!(parse(&config.effective().to_toml()).history.results, 20);
}

#[test]
fn a_notifier_ca_is_read_with_the_config_and_shown_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    std::fs::write(dir.path().join("ca.pem"), pem).unwrap();
    let file = dir.path().join("vitalcheck.toml");
    let text =
        "[[notifiers]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"https://hooks.example.com/x\"\nca = \"ca.pem\"\n";
    let config = Config::parse_with_env(text, file.to_str().unwrap(), env).unwrap_or_else(|e| panic!("{e}"));
    let ca = config.notifiers[0].ca.as_ref().expect("a ca");
    assert_eq!(ca.path(), dir.path().join("ca.pem"));
    assert_eq!(ca.pem(), pem.as_bytes());
    let shown = config.effective().to_toml();
    assert!(shown.contains(&format!("ca = \"{}\"", dir.path().join("ca.pem").display())), "{shown}");
    let again = Config::parse_with_env(&shown, file.to_str().unwrap(), env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.effective().to_toml(), shown);

    let command = "[[notifiers]]\nname = \"x\"\nkind = \"command\"\ncommand = [\"true\"]\nca = \"ca.pem\"\n";
    let err = Config::parse_with_env(command, file.to_str().unwrap(), env).unwrap_err();
    assert!(err.to_string().contains("notifiers[0].ca: not used by kind = \"command\""), "{err}");
}
