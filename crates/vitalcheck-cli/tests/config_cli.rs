//! `vitalcheck config check`: exit codes, the effective config on stdout (TOML and JSON),
//! errors on stderr, and no secret in either.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn vitalcheck() -> Command {
    let mut cmd = Command::cargo_bin("vitalcheck").expect("binary built");
    cmd.env("HOME", "/home/test").env_remove("XDG_DATA_HOME");
    cmd
}

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

#[test]
fn the_example_is_valid_and_printed_with_defaults() {
    vitalcheck()
        .args(["config", "check"])
        .arg(repo_file("examples/vitalcheck.toml"))
        .assert()
        .code(0)
        .stderr("")
        .stdout(predicate::str::contains("[[targets]]\nname = \"proxy-1\"\ngroup = \"proxies\""))
        .stdout(predicate::str::contains("path = \"/home/test/.local/share/vitalcheck/vitalcheck.db\""))
        .stdout(predicate::str::contains("[targets.exec]\ncommand = [\"test\", \"-w\", \"/tmp\"]"));
}

#[test]
fn json_output_is_one_document() {
    let out = vitalcheck()
        .args(["config", "check", "-o", "json"])
        .arg(repo_file("examples/vitalcheck.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["targets"].as_array().unwrap().len(), 9);
    assert_eq!(doc["groups"][0]["interval"], "5s");
    assert_eq!(doc["targets"][4]["timeout"], "2s");
    assert_eq!(doc["targets"][1]["http"]["status"], "200-299");
}

#[test]
fn an_invalid_config_exits_2_with_the_error_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vitalcheck.toml");
    std::fs::write(&file, "[[targets]]\nname = \"db\"\ntarget = \"127.0.0.1:5432\"\ninterval = \"0s\"\n").unwrap();
    let expected = format!(
        "error: {}:4:12: targets[0].interval: must be greater than zero\n  |\n4 | interval = \"0s\"\n  |            ^^^^\n",
        file.display()
    );
    vitalcheck().args(["config", "check"]).arg(&file).assert().code(2).stdout("").stderr(expected);
}

#[test]
fn a_missing_file_or_variable_exits_2() {
    vitalcheck()
        .args(["config", "check", "/nonexistent/vitalcheck.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: /nonexistent/vitalcheck.toml: cannot read the file: "));
    vitalcheck()
        .args(["config", "check"])
        .arg(repo_file("crates/vitalcheck-monitor/tests/config/invalid-missing-env.toml"))
        .env_remove("VC_TEST_MISSING_TOKEN")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "invalid-missing-env.toml:6:29: targets[0].http.headers.Authorization: environment variable \
             VC_TEST_MISSING_TOKEN is not set",
        ));
}

#[test]
fn secrets_are_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vitalcheck.toml");
    std::fs::write(
        &file,
        r#"
[[targets]]
name = "api"
[targets.http]
url = "http://ops:literal-pass@127.0.0.1:8080/health?api_key=literal-key"
headers = { Authorization = "Bearer ${VC_CLI_TEST_TOKEN}", Cookie = "session=literal-cookie" }

[[targets]]
name = "check"
[targets.exec]
command = "check-db --password ${VC_CLI_TEST_TOKEN}"
"#,
    )
    .unwrap();
    for format in ["toml", "json"] {
        let out = vitalcheck()
            .args(["config", "check", "-o", format])
            .arg(&file)
            .env("VC_CLI_TEST_TOKEN", "env-secret")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let shown = String::from_utf8(out.stdout).unwrap();
        for secret in ["literal-pass", "literal-key", "env-secret", "literal-cookie"] {
            assert!(!shown.contains(secret), "{secret} printed as {format}:\n{shown}");
        }
        assert!(shown.contains("http://ops:***@127.0.0.1:8080/health?api_key=***"), "{shown}");
        assert!(shown.contains("Bearer ${VC_CLI_TEST_TOKEN}"), "{shown}");
        assert!(shown.contains("check-db --password ${VC_CLI_TEST_TOKEN}"), "{shown}");
    }
}
