//! The real `vitalcheck` binary: exit codes, output, the `-- CMD` hand-over, usage errors.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use assert_cmd::Command;
use predicates::prelude::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::Stdio;
use std::thread;

fn vitalcheck() -> Command {
    Command::cargo_bin("vitalcheck").expect("binary built")
}

/// A port with nothing listening on it (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// An HTTP server on a thread answering every request with `status` and `body`, serving
/// at most `max` connections.
fn http_server(status: &'static str, body: &'static str, max: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || serve(listener, status, body, max));
    addr
}

fn serve(listener: TcpListener, status: &'static str, body: &'static str, max: usize) {
    for stream in listener.incoming().take(max) {
        let Ok(mut stream) = stream else { continue };
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        let reply = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        let _ = stream.write_all(reply.as_bytes());
    }
}

#[test]
fn check_healthy_tcp_exits_0() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    vitalcheck().args(["check", &format!("127.0.0.1:{port}")]).assert().success().stdout(
        predicate::str::starts_with("healthy").and(predicate::str::contains(format!("tcp://127.0.0.1:{port}"))),
    );
}

#[test]
fn check_refused_exits_1_and_says_why() {
    let port = free_port();
    vitalcheck()
        .args(["check", &format!("tcp://127.0.0.1:{port}")])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("connection refused: nothing listening on 127.0.0.1"));
}

#[test]
fn check_any_succeeds_if_one_is_healthy() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let up = listener.local_addr().unwrap().port();
    let down = free_port();
    vitalcheck().args(["check", "--any", &format!("127.0.0.1:{up}"), &format!("127.0.0.1:{down}")]).assert().success();
    vitalcheck().args(["check", &format!("127.0.0.1:{up}"), &format!("127.0.0.1:{down}")]).assert().code(1);
}

#[test]
fn check_json_is_documented_shape() {
    let down = free_port();
    let out = vitalcheck()
        .args(["check", "-o", "json", "--exec", "sh -c 'exit 3'", &format!("127.0.0.1:{down}")])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).expect("stdout is JSON");
    assert_eq!(doc["healthy"], false);
    assert!(doc["elapsed_ms"].as_f64().is_some());
    let targets = doc["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    assert_eq!(targets[0]["kind"], "tcp");
    assert_eq!(targets[0]["status"], "unhealthy");
    assert_eq!(targets[0]["error"]["kind"], "refused");
    assert_eq!(targets[1]["target"], "exec:sh -c 'exit 3'");
    assert_eq!(targets[1]["error"]["kind"], "exit");
    assert_eq!(targets[1]["error"]["exit_code"], 3);
    assert_eq!(targets[1]["attempts"], 1);
}

#[test]
fn check_http_with_status_and_body_expectations() {
    let addr = http_server("200 OK", r#"{"status":"UP"}"#, 3);
    let url = format!("http://{addr}/health");
    vitalcheck().args(["check", &url, "--expect-json", r#"/status == "UP""#]).assert().success();
    vitalcheck()
        .args(["check", &url, "--expect-body", "DOWN"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("expectation failed"));
    vitalcheck()
        .args(["check", &url, "-o", "json", "--expect-json", "/status == \"DOWN\""])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(r#""kind": "expectation""#));
}

#[test]
fn check_http_503_is_a_status_error_unless_accepted() {
    let addr = http_server("503 Service Unavailable", "busy", 2);
    let url = format!("http://{addr}/");
    vitalcheck().args(["check", &url]).assert().code(1).stdout(predicate::str::contains("HTTP status 503"));
    vitalcheck().args(["check", "--status", "200-299,503", &url]).assert().success();
}

#[test]
fn secrets_in_urls_are_never_printed() {
    let down = free_port();
    let url = format!("http://admin:hunter2@127.0.0.1:{down}/h?token=abc123");
    for args in [vec!["check", url.as_str()], vec!["check", "-o", "json", url.as_str()]] {
        let out = vitalcheck().args(&args).assert().code(1).get_output().clone();
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!all.contains("hunter2") && !all.contains("abc123"), "{all}");
        assert!(all.contains("admin:***@"), "{all}");
    }
    let out = vitalcheck().args(["wait", "-n", "1", &url]).assert().code(1).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("hunter2") && stderr.contains("gave up"), "{stderr}");
}

#[test]
fn header_values_never_printed_even_when_malformed() {
    vitalcheck()
        .args(["check", "-H", "Authorization s3cret", "http://127.0.0.1:1/"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected \"Name: value\"").and(predicate::str::contains("s3cret").not()));
}

#[test]
fn wait_hands_over_to_the_command_with_its_exit_code() {
    vitalcheck()
        .args(["wait", "--exec", "true", "--", "sh", "-c", "echo handed-over; exit 7"])
        .assert()
        .code(7)
        .stdout("handed-over\n");
}

#[test]
fn wait_never_runs_the_command_when_giving_up() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let down = free_port();
    vitalcheck()
        .args(["wait", "-n", "2", "--initial-delay", "10ms", &format!("127.0.0.1:{down}"), "--"])
        .arg("touch")
        .arg(&marker)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("gave up on tcp://127.0.0.1").and(predicate::str::contains("after 2 attempts")),
        );
    assert!(!marker.exists());
}

#[test]
fn wait_deadline_gives_up_with_exit_1() {
    let down = free_port();
    vitalcheck()
        .args(["wait", "--timeout", "500ms", &format!("127.0.0.1:{down}")])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("deadline reached"));
}

#[test]
fn wait_json_reports_attempts() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = vitalcheck().args(["wait", "-o", "json", &format!("127.0.0.1:{port}")]).assert().success();
    let doc: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(doc["healthy"], true);
    assert_eq!(doc["targets"][0]["attempts"], 1);
    assert_eq!(doc["targets"][0]["status"], "healthy");
}

#[test]
fn wait_sees_a_target_that_comes_up_part_way() {
    let port = free_port();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("vitalcheck"))
        .args(["wait", "-v", "--timeout", "30s", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    // Two refused attempts, then start listening.
    for _ in 0..2 {
        let line = lines.next().unwrap().unwrap();
        assert!(line.starts_with("waiting:") && line.contains("connection refused"), "{line}");
    }
    let _listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.last().is_some_and(|l| l.starts_with("ready:")), "{rest:?}");
    assert!(child.wait().unwrap().success());
}

#[test]
fn usage_errors_exit_2_with_a_clear_message() {
    vitalcheck().args(["wait", "--bogus"]).assert().code(2).stderr(predicate::str::contains("unexpected argument"));
    vitalcheck().args(["wait"]).assert().code(2).stderr(predicate::str::contains("no targets given"));
    vitalcheck()
        .args(["check", "ftp://files"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid target \"ftp://files\": unsupported scheme"));
    vitalcheck()
        .args(["wait", "--timeout", "soon", "db:5432"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("\"soon\" is not a duration"));
    vitalcheck()
        .args(["check", "--status", "200-", "http://127.0.0.1:1/"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid status list"));
    vitalcheck()
        .args(["check", "--status", "200", "db:5432"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("apply to http(s) targets"));
}

#[test]
fn help_teaches_examples_and_exit_codes() {
    vitalcheck()
        .args(["wait", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:").and(predicate::str::contains("Exit status:")));
    vitalcheck().arg("--help").assert().success().stdout(predicate::str::contains("unix:///PATH.sock"));
    vitalcheck().arg("--version").assert().success().stdout(predicate::str::starts_with("vitalcheck "));
}

#[test]
fn quiet_prints_nothing() {
    let down = free_port();
    vitalcheck().args(["check", "-q", &format!("127.0.0.1:{down}")]).assert().code(1).stdout("").stderr("");
}

#[test]
fn wait_command_not_found_exits_127() {
    vitalcheck()
        .args(["wait", "--exec", "true", "--", "no-such-command-vitalcheck"])
        .assert()
        .code(127)
        .stderr(predicate::str::contains("cannot run \"no-such-command-vitalcheck\""));
}

#[test]
fn wait_any_succeeds_on_the_first_healthy_target() {
    let up = TcpListener::bind("127.0.0.1:0").unwrap();
    let down = free_port();
    vitalcheck()
        .args(["wait", "--any", &format!("127.0.0.1:{down}"), &format!("tcp://{}", up.local_addr().unwrap())])
        .assert()
        .success()
        .stderr(predicate::str::contains("ready: tcp://127.0.0.1"));
}

#[test]
fn check_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sock");
    let target = format!("unix://{}", path.display());
    vitalcheck().args(["check", &target]).assert().code(1).stdout(predicate::str::contains("no socket at"));
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    vitalcheck().args(["check", &target]).assert().success().stdout(predicate::str::starts_with("healthy"));
}

#[test]
fn check_head_request() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        // A HEAD answer announces a body it does not send.
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n");
        String::from_utf8_lossy(&head).into_owned()
    });
    vitalcheck().args(["check", "--method", "head", &format!("http://{addr}/x")]).assert().success();
    assert!(server.join().unwrap().starts_with("HEAD /x HTTP/1.1"));
}
