//! The HTTP API of the real `vitalcheck run`: the bound address comes from its JSON log,
//! the API answers, `POST /api/v1/reload` with the token reloads as SIGHUP does, SIGTERM
//! still exits 0, and a listen address in use exits 2 naming it.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use support::*;

const TOKEN: &str = "cli-test-token-0123456789";

/// One request (`Connection: close`): the status code and the body as JSON.
fn request(addr: SocketAddr, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let req =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn config(targets: &str) -> String {
    format!(
        "[storage]\npath = \"vc.db\"\n[server]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n\
         [defaults]\ninterval = \"100ms\"\ntimeout = \"100ms\"\n{targets}"
    )
}

fn target(name: &str, url: &str) -> String {
    format!("[[targets]]\nname = \"{name}\"\ntarget = \"{url}\"\n")
}

#[test]
fn run_serves_the_api_and_reloads_through_it() {
    let server = Flip::new(200);
    let setup = Setup::new("");
    setup.write_raw(&config(&target("web", &server.url())));
    let mut run = setup.run();
    let listening = run.wait_for("the listening line", |e| text(&e["message"]).starts_with("listening on http://"));
    let addr: SocketAddr = text(&listening["address"]).parse().unwrap();
    assert_eq!(text(&listening["message"]), format!("listening on http://{addr}"));
    assert_ne!(addr.port(), 0);

    assert_eq!(request(addr, "GET", "/livez", None).0, 200);
    assert_eq!(request(addr, "GET", "/readyz", None).0, 200);
    let (status, list) = request(addr, "GET", "/api/v1/targets", None);
    assert_eq!(status, 200);
    assert_eq!(list["targets"][0]["name"], "web");

    assert_eq!(request(addr, "POST", "/api/v1/reload", None).0, 401);
    setup.write_raw(&config(&format!("{}{}", target("web", &server.url()), target("web2", &server.url()))));
    let (status, body) = request(addr, "POST", "/api/v1/reload", Some(TOKEN));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reloaded"]["added"], 1);
    assert_eq!(body["reloaded"]["kept"], 1);
    run.wait_for("the reload line", |e| text(&e["message"]).starts_with("API: reloaded"));
    let (_, list) = request(addr, "GET", "/api/v1/targets", None);
    assert_eq!(list["targets"].as_array().unwrap().len(), 2);

    setup.write_raw("[storage]\npath = \"vc.db\"\n[[targets]]\nname = \"x\"\n");
    let (status, body) = request(addr, "POST", "/api/v1/reload", Some(TOKEN));
    assert_eq!(status, 422, "{body}");
    assert!(text(&body["error"]).contains("keeping the running config"), "{body}");

    assert!(run.terminate().success());
    assert!(TcpStream::connect(addr).is_err(), "still listening after exit");
}

#[test]
fn a_listen_address_in_use_exits_2_naming_it() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let setup = Setup::new("");
    setup.write_raw(&format!(
        "[storage]\npath = \"vc.db\"\n[server]\nlisten = \"{addr}\"\n[[targets]]\nname = \"a\"\ntarget = \"tcp://127.0.0.1:1\"\n"
    ));
    let out = setup.cmd("run", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("cannot listen on {addr}")), "{stderr}");
}

#[test]
fn listen_off_serves_nothing() {
    let setup = Setup::new("");
    setup.write_raw(
        "[storage]\npath = \"vc.db\"\n[server]\nlisten = \"off\"\n[[targets]]\nname = \"a\"\ntarget = \"tcp://127.0.0.1:1\"\n",
    );
    let mut run = setup.run();
    assert!(!run.events().iter().any(|e| text(&e["message"]).starts_with("listening on")));
    assert!(run.terminate().success());
}

#[test]
fn status_asks_the_running_api_and_falls_back_to_the_store() {
    let (up, down) = (Flip::new(200), Flip::new(503));
    let setup = Setup::new("");
    let targets = format!(
        "{}{}group = \"pool\"\n[[groups]]\nname = \"pool\"\n",
        target("up", &up.url()),
        target("down", &down.url())
    );
    setup.write_raw(&config(&targets));
    let mut run = setup.run();
    run.wait_reaches("up", "healthy");
    run.wait_reaches("down", "unhealthy");

    // While `run` serves its API, status asks it: the live state, in config order.
    let (code, doc) = setup.status(&[]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(doc["source"], "api", "{doc}");
    let names: Vec<String> = doc["targets"].as_array().unwrap().iter().map(|t| text(&t["name"])).collect();
    assert_eq!(names, ["up", "down"]);
    let down_line = &doc["targets"][1];
    assert_eq!((text(&down_line["status"]), text(&down_line["group"])), ("unhealthy".into(), "pool".into()));
    assert!(text(&down_line["last_error"]).contains("503"), "{doc}");
    assert!(down_line["consecutive_failures"].as_u64().unwrap() >= 3, "{doc}");
    assert_eq!(doc["targets"][0]["uptime_24h"], 1.0, "{doc}");
    let (code, doc) = setup.status(&["--group", "pool"]);
    assert_eq!((code, doc["targets"].as_array().unwrap().len()), (1, 1), "{doc}");
    let (code, doc) = setup.status(&["up"]);
    assert_eq!((code, text(&doc["source"])), (0, "api".into()), "{doc}");
    let out = setup.cmd("status", &["nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown target \"nope\""));
    let (_, doc) = setup.status(&["--source", "store"]);
    assert_eq!(doc["source"], "store", "{doc}");
    // The table for people, from the API.
    let out = setup.cmd("status", &[]).output().unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("NAME") && table.contains("unhealthy") && table.contains("100.00%"), "{table}");

    // Once it stopped: the store, without a note (no instance to ask).
    assert!(run.terminate().success());
    let out = setup.cmd("status", &["-o", "json"]).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["source"], "store", "{doc}");
    assert_eq!(doc["targets"][1]["status"], "unhealthy", "{doc}");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = setup.cmd("status", &["--source", "api"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no running `vitalcheck run` serves an API"));
}

#[test]
fn run_keeps_as_many_recent_results_as_history_results_says() {
    let server = Flip::new(200);
    let setup = Setup::new("");
    setup.write_raw(&format!("[history]\nresults = 3\n{}", config(&target("web", &server.url()))));
    let mut run = setup.run();
    let listening = run.wait_for("the listening line", |e| text(&e["message"]).starts_with("listening on http://"));
    let addr: SocketAddr = text(&listening["address"]).parse().unwrap();
    // Once the store holds five results or more, the in-memory `recent` still holds 3.
    let recent = poll("five probes of web", || {
        let (status, detail) = request(addr, "GET", "/api/v1/targets/web/history?limit=100", None);
        assert_eq!(status, 200, "{detail}");
        (detail["results"].as_array()?.len() >= 5).then(|| request(addr, "GET", "/api/v1/targets/web", None).1)
    });
    assert_eq!(recent["recent"].as_array().unwrap().len(), 3, "{recent}");
    assert!(run.terminate().success());
}
