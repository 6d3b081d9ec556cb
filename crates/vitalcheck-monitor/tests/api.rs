//! The JSON API (`api::router`) over a real engine, a real SQLite store and loopback
//! servers, spoken to with raw HTTP/1.1: status codes, JSON shapes, filters, errors, the
//! bearer token, and that no secret of a target ever comes out. Every answer is checked
//! against the OpenAPI document the server serves (`api/openapi.rs`).

#![allow(clippy::unwrap_used)]

#[path = "api/openapi.rs"]
mod openapi;
mod support;

use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use support::{FlipServer, config, wait_for};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vitalcheck::state::TargetStatus;
use vitalcheck_monitor::api::{ApiState, ReloadFn, router};
use vitalcheck_monitor::engine::{Engine, EngineOptions, ReloadReport};
use vitalcheck_monitor::store::{SqliteStore, Store};

const TOKEN: &str = "a-test-token-0123456789";
const PASSWORD: &str = "s3cr3t-pw-in-url";
const HEADER_SECRET: &str = "hdr-secret-value";

/// One answer: status, headers (lowercased names) and the body.
struct Answer {
    status: u16,
    headers: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Sends one request (`Connection: close`) and reads the whole answer.
async fn request(addr: SocketAddr, method: &str, path: &str, auth: Option<&str>) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = auth.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    let req =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_string(&mut raw)).await.unwrap().unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let headers = head.to_ascii_lowercase();
    let content_type = headers.lines().find_map(|l| l.strip_prefix("content-type: ")).unwrap_or_default();
    openapi::check(method, path, status, content_type, body);
    Answer { status, headers, body: body.to_owned() }
}

async fn get(addr: SocketAddr, path: &str) -> Answer {
    request(addr, "GET", path, None).await
}

/// A target probed every 50 ms.
fn target(name: &str, url: &str, extra: &str) -> String {
    format!(
        "[[targets]]\nname = \"{name}\"\ntarget = \"{url}\"\ninterval = \"50ms\"\ntimeout = \"50ms\"\nfailure_threshold = 2\n{extra}\n"
    )
}

/// The API over an engine watching `web` (group `pool`, tag `edge`) and `db` (a URL with
/// a password, an Authorization header), both healthy once this returns.
struct Fixture {
    addr: SocketAddr,
    engine: Arc<Engine>,
    state: ApiState,
    web: FlipServer,
    _db: FlipServer,
    _dir: tempfile::TempDir,
}

async fn start(server: &str, reload: Option<ReloadFn>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let web = FlipServer::start(200).await;
    let db = FlipServer::start(200).await;
    let secret_url = format!("http://admin:{PASSWORD}@{}/health", db.addr);
    let text = format!(
        "{server}\n[[groups]]\nname = \"pool\"\n{}\
         [[targets]]\nname = \"db\"\ninterval = \"50ms\"\ntimeout = \"50ms\"\n\
         [targets.http]\nurl = \"{secret_url}\"\nheaders = {{ Authorization = \"Bearer {HEADER_SECRET}\" }}\n",
        target("web", &web.url(), "group = \"pool\"\ntags = [\"edge\"]"),
    );
    let config = config(&text, dir.path());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("vc.db")).unwrap());
    let options = EngineOptions { flush_interval: Duration::from_millis(50), ..EngineOptions::default() };
    let engine = Arc::new(Engine::start(&config, Arc::clone(&store), options).await.unwrap());
    let mut events = engine.subscribe();
    wait_for(&mut events, "web", TargetStatus::Healthy).await;
    let db_up = engine.target("db").is_some_and(|t| t.snapshot.status == TargetStatus::Healthy);
    if !db_up {
        wait_for(&mut events, "db", TargetStatus::Healthy).await;
    }
    let state = ApiState::new(Arc::clone(&engine), store, config.server.clone(), reload);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Fixture { addr, engine, state, web, _db: db, _dir: dir }
}

fn names(list: &Value) -> Vec<String> {
    list["targets"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_endpoints_answer_json_with_filters_and_errors() {
    let f = start("", None).await;
    assert_eq!(get(f.addr, "/livez").await.status, 200);
    assert_eq!(get(f.addr, "/readyz").await.status, 200);

    let all = get(f.addr, "/api/v1/targets").await;
    assert_eq!(all.status, 200);
    assert!(all.headers.contains("content-type: application/json"), "{}", all.headers);
    assert_eq!(names(&all.json()), ["web", "db"]);
    let first = &all.json()["targets"][0];
    for field in ["name", "group", "status", "since", "critical", "paused", "last"] {
        assert!(first.get(field).is_some(), "no {field} in {first}");
    }
    assert_eq!(names(&get(f.addr, "/api/v1/targets?group=pool").await.json()), ["web"]);
    assert_eq!(names(&get(f.addr, "/api/v1/targets?tag=edge").await.json()), ["web"]);
    assert_eq!(names(&get(f.addr, "/api/v1/targets?status=healthy").await.json()), ["web", "db"]);
    assert!(names(&get(f.addr, "/api/v1/targets?status=unhealthy").await.json()).is_empty());
    let bad = get(f.addr, "/api/v1/targets?status=sick").await;
    assert_eq!(bad.status, 400);
    let error = bad.json()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("status") && error.contains("\"sick\"") && error.contains("healthy, degraded"), "{error}");

    let lines = get(f.addr, "/api/v1/status").await.json();
    assert_eq!(names(&lines), ["web", "db"]);
    let web = &lines["targets"][0];
    assert_eq!(
        (web["status"].as_str(), web["group"].as_str(), web["last_error"].is_null()),
        (Some("healthy"), Some("pool"), true)
    );
    assert!(web["consecutive_successes"].as_u64().unwrap() >= 1, "{web}");
    assert_eq!(web["uptime"]["hour"], 1.0);
    assert_eq!(names(&get(f.addr, "/api/v1/status?tag=edge").await.json()), ["web"]);
    assert_eq!(names(&get(f.addr, "/api/v1/status?group=pool&status=unhealthy").await.json()), Vec::<String>::new());

    let web = get(f.addr, "/api/v1/targets/web").await;
    assert_eq!(web.status, 200);
    let web = web.json();
    assert_eq!(web["name"], "web");
    assert_eq!(web["tags"], serde_json::json!(["edge"]));
    assert!(web["probes"].is_array() && web["recent"].is_array() && web["uptime"].is_object(), "{web}");
    let missing = get(f.addr, "/api/v1/targets/nope").await;
    assert_eq!(missing.status, 404);
    assert!(missing.json()["error"].as_str().unwrap().contains("\"nope\""));

    let group = get(f.addr, "/api/v1/groups/pool").await;
    assert_eq!(group.status, 200);
    assert_eq!(group.json()["group"], "pool");
    assert_eq!(group.json()["members"][0]["name"], "web");
    let healthy = get(f.addr, "/api/v1/groups/pool/healthy").await;
    assert_eq!(healthy.json()["healthy"], serde_json::json!(["web"]));
    assert_eq!(get(f.addr, "/api/v1/groups/nope").await.status, 404);
    assert_eq!(get(f.addr, "/api/v1/groups/nope/healthy").await.status, 404);

    // The store gets results within a flush or two: poll with a bound.
    let mut history = Value::Null;
    for _ in 0..200 {
        history = get(f.addr, "/api/v1/targets/web/history?since=1h&limit=2").await.json();
        if history["truncated"] == true {
            break;
        }
        f.web.wait_hits(f.web.hits() + 1).await;
    }
    assert_eq!(history["results"].as_array().unwrap().len(), 2, "{history}");
    assert_eq!(history["truncated"], true);
    assert_eq!(history["results"][0]["target"], "web");
    let (a, b) = (history["results"][0]["at"].as_str().unwrap(), history["results"][1]["at"].as_str().unwrap());
    assert!(a <= b, "oldest first: {a} then {b}");
    let since = "2000-01-01T00:00:00Z";
    let until = get(f.addr, &format!("/api/v1/targets/web/history?since={since}&until=2000-01-02T00:00:00Z")).await;
    assert_eq!(until.status, 200);
    assert_eq!(until.json()["results"], serde_json::json!([]));
    for (query, param) in
        [("since=soon", "since"), ("until=later", "until"), ("limit=0", "limit"), ("limit=x", "limit")]
    {
        let bad = get(f.addr, &format!("/api/v1/targets/web/history?{query}")).await;
        assert_eq!(bad.status, 400, "{query}");
        assert!(bad.json()["error"].as_str().unwrap().contains(param), "{query}: {}", bad.body);
    }
    let capped = get(f.addr, "/api/v1/targets/web/history?limit=999999").await;
    assert_eq!(capped.json()["limit"], 10_000);
    assert_eq!(get(f.addr, "/api/v1/targets/nope/history").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_any_response() {
    let f = start(&format!("[server]\ntoken = \"{TOKEN}\""), None).await;
    let bearer = format!("Bearer {TOKEN}");
    let mut bodies = Vec::new();
    for path in [
        "/api/v1/targets",
        "/api/v1/targets/db",
        "/api/v1/targets/db/history",
        "/api/v1/groups/pool",
        "/api/v1/targets/nope",
    ] {
        bodies.push(get(f.addr, path).await.body);
    }
    for path in ["/api/v1/targets/db/pause", "/api/v1/targets/db/resume", "/api/v1/targets/db/probe"] {
        bodies.push(request(f.addr, "POST", path, Some(&bearer)).await.body);
        bodies.push(request(f.addr, "POST", path, Some("Bearer wrong-token-wrong-token")).await.body);
    }
    let detail = get(f.addr, "/api/v1/targets/db").await.json();
    assert!(detail["probes"][0]["target"].as_str().unwrap().contains("127.0.0.1"), "{detail}");
    for body in bodies {
        assert!(!body.contains(PASSWORD) && !body.contains(HEADER_SECRET) && !body.contains(TOKEN), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_actions_need_the_bearer_token() {
    let reload: ReloadFn = Arc::new(|| Box::pin(async { Ok(ReloadReport { kept: 2, ..ReloadReport::default() }) }));
    let f = start(&format!("[server]\ntoken = \"{TOKEN}\""), Some(reload)).await;
    let bearer = format!("Bearer {TOKEN}");
    for auth in [None, Some("Bearer wrong-token-0123456789"), Some("Basic YWRtaW46YWRtaW4="), Some(TOKEN)] {
        let denied = request(f.addr, "POST", "/api/v1/targets/web/pause", auth).await;
        assert_eq!(denied.status, 401, "{auth:?}");
        assert!(denied.headers.contains("www-authenticate: bearer"), "{}", denied.headers);
        assert!(denied.json()["error"].is_string());
    }
    assert!(!f.engine.target("web").unwrap().snapshot.paused);

    let paused = request(f.addr, "POST", "/api/v1/targets/web/pause", Some(&bearer)).await;
    assert_eq!(paused.status, 200, "{}", paused.body);
    assert_eq!(get(f.addr, "/api/v1/targets/web").await.json()["paused"], true);
    let resumed = request(f.addr, "POST", "/api/v1/targets/web/resume", Some(&bearer)).await;
    assert_eq!(resumed.status, 200);
    assert_eq!(get(f.addr, "/api/v1/targets/web").await.json()["paused"], false);

    let hits = f.web.hits();
    assert_eq!(request(f.addr, "POST", "/api/v1/targets/web/probe", Some(&bearer)).await.status, 200);
    f.web.wait_hits(hits + 1).await;
    for action in ["pause", "resume", "probe"] {
        let path = format!("/api/v1/targets/nope/{action}");
        assert_eq!(request(f.addr, "POST", &path, Some(&bearer)).await.status, 404, "{action}");
    }

    assert_eq!(request(f.addr, "POST", "/api/v1/reload", None).await.status, 401);
    let reloaded = request(f.addr, "POST", "/api/v1/reload", Some(&bearer)).await;
    assert_eq!(reloaded.status, 200, "{}", reloaded.body);
    assert_eq!(reloaded.json()["reloaded"]["kept"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_admin_is_401_and_without_reload_501() {
    let f = start("", None).await;
    let denied = request(f.addr, "POST", "/api/v1/targets/web/pause", Some("Bearer anything-at-all-here")).await;
    assert_eq!(denied.status, 401);
    assert!(denied.headers.contains("www-authenticate: bearer"));
    assert!(denied.json()["error"].as_str().unwrap().contains("token"));

    let f = start(&format!("[server]\ntoken = \"{TOKEN}\""), None).await;
    let none = request(f.addr, "POST", "/api/v1/reload", Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(none.status, 501);
    assert!(none.json()["error"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_draining() {
    let f = start("", None).await;
    assert_eq!(get(f.addr, "/readyz").await.status, 200);
    f.state.set_draining();
    let draining = get(f.addr, "/readyz").await;
    assert_eq!(draining.status, 503);
    assert_eq!(draining.json()["status"], "shutting down");
    assert_eq!(get(f.addr, "/livez").await.status, 200);
}

/// Reads from `stream` into `seen` until `want(seen)`; panics after 20 s or at its end.
async fn read_until(stream: &mut tokio::net::TcpStream, seen: &mut String, want: impl Fn(&str) -> bool) {
    let mut buf = [0u8; 4096];
    let wait = async {
        while !want(seen) {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the stream ended: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    };
    if tokio::time::timeout(Duration::from_secs(20), wait).await.is_err() {
        panic!("not within 20 s: {seen}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_stream_a_transition_as_server_sent_events() {
    let f = start("", None).await;
    let mut stream = tokio::net::TcpStream::connect(f.addr).await.unwrap();
    let req = format!("GET /api/v1/events HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n", f.addr);
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut seen = String::new();
    // The head arrives once the handler has subscribed: only then flip the server.
    read_until(&mut stream, &mut seen, |s| s.contains("\r\n\r\n")).await;
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    assert!(seen.to_ascii_lowercase().contains("content-type: text/event-stream"), "{seen}");
    f.web.set(503);
    read_until(&mut stream, &mut seen, |s| s.contains("\"to\":\"unhealthy\"")).await;
    let line = seen.lines().find(|l| l.contains("\"to\":\"unhealthy\"")).unwrap();
    let event: Value = serde_json::from_str(line.strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(event["target"], "web");
    assert_eq!(event["group"], "pool");
    assert_eq!(event["from"], "healthy");
    openapi::check_schema("Transition", &event);
    assert!(seen.contains("event: transition"), "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_served_and_every_operation_answers_as_documented() {
    let reload: ReloadFn = Arc::new(|| Box::pin(async { Err("line 3: no".to_owned()) }));
    let f = start(&format!("[server]\ntoken = \"{TOKEN}\""), Some(reload)).await;
    let served = get(f.addr, "/api/v1/openapi.json").await;
    assert_eq!(served.status, 200);
    assert_eq!(&served.json(), openapi::document());

    let bearer = format!("Bearer {TOKEN}");
    let calls: [(&str, &str, Option<&str>); 28] = [
        ("GET", "/api/v1/status?tag=edge", None),
        ("GET", "/api/v1/status?status=sick", None),
        ("GET", "/api/v1/targets?group=pool&status=healthy", None),
        ("GET", "/api/v1/targets?status=nope", None),
        ("GET", "/api/v1/targets/db", None),
        ("GET", "/api/v1/targets/nope", None),
        ("GET", "/api/v1/targets/web/history?since=2000-01-01T00:00:00Z&limit=5", None),
        ("GET", "/api/v1/targets/web/history?limit=none", None),
        ("GET", "/api/v1/groups/pool", None),
        ("GET", "/api/v1/groups/pool/healthy", None),
        ("GET", "/api/v1/groups/nope/healthy", None),
        ("POST", "/api/v1/targets/web/pause", Some(&bearer)),
        ("POST", "/api/v1/targets/web/resume", Some(&bearer)),
        ("POST", "/api/v1/targets/web/probe", Some(&bearer)),
        ("POST", "/api/v1/targets/web/probe", None),
        ("POST", "/api/v1/targets/nope/pause", Some(&bearer)),
        ("POST", "/api/v1/reload", Some(&bearer)),
        ("POST", "/api/v1/reload", None),
        ("GET", "/livez", None),
        ("GET", "/readyz", None),
        ("GET", "/api/v1/openapi.json", None),
        ("GET", "/metrics", None),
        ("GET", "/", None),
        ("GET", "/badge/web.svg?label=site", None),
        ("GET", "/badge/nope.svg", None),
        ("GET", "/badge/web", None),
        ("GET", "/badge/group/pool.svg", None),
        ("GET", "/badge/group/nope.svg", None),
    ];
    let mut answered = std::collections::BTreeSet::new();
    for (method, path, auth) in calls {
        // `request` checks the answer against the document.
        let answer = request(f.addr, method, path, auth).await;
        answered.insert((method.to_owned(), openapi::template_of(path).unwrap().to_owned(), answer.status));
    }
    assert!(answered.contains(&("POST".into(), "/api/v1/reload".into(), 422)), "{answered:?}");
    // The event stream is checked in `events_stream_a_transition_as_server_sent_events`.
    for (method, template) in openapi::operations() {
        if template == "/api/v1/events" {
            continue;
        }
        assert!(answered.iter().any(|(m, t, _)| *m == method && *t == template), "{method} {template} not exercised");
    }
}
