//! Alerts of the real `vitalcheck run`: a loopback target goes down, the webhook receiver
//! refuses the deliveries, the process is killed with SIGKILL while the alert is pending,
//! a restart delivers it exactly once (not zero, not two). Secrets of the notifier never
//! appear in `config check`, the log, the API, `/metrics` or the database.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use support::*;

const PATH_SECRET: &str = "PATHSECRET0123";
const HMAC_SECRET: &str = "hmac-secret-xyz-0123";
const HEADER_SECRET: &str = "header-secret-abc-0123";

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Got {
    accepted: bool,
    delivery: String,
    body: Value,
}

/// A webhook receiver on a std thread: 503 until `accept` is set, then 200.
struct Hook {
    addr: SocketAddr,
    accept: Arc<AtomicBool>,
    got: Arc<Mutex<Vec<Got>>>,
}

impl Hook {
    fn start() -> Hook {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accept = Arc::new(AtomicBool::new(false));
        let got = Arc::new(Mutex::new(Vec::new()));
        let (a, g) = (Arc::clone(&accept), Arc::clone(&got));
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (a, g) = (Arc::clone(&a), Arc::clone(&g));
                thread::spawn(move || serve(stream, &a, &g));
            }
        });
        Hook { addr, accept, got }
    }

    fn url(&self) -> String {
        format!("http://{}/hooks/{PATH_SECRET}", self.addr)
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    fn accepted(&self) -> Vec<Got> {
        self.got().into_iter().filter(|g| g.accepted).collect()
    }
}

fn serve(stream: TcpStream, accept: &AtomicBool, got: &Mutex<Vec<Got>>) {
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut reader = BufReader::new(stream);
    let (mut length, mut delivery) = (0usize, String::new());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "x-vitalcheck-delivery" => delivery = value.trim().to_string(),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let accepted = accept.load(Ordering::SeqCst);
    got.lock().unwrap().push(Got { accepted, delivery, body: serde_json::from_slice(&body).unwrap_or(Value::Null) });
    let status = if accepted { "200 OK" } else { "503 Service Unavailable" };
    let mut stream = reader.into_inner();
    let _ = stream.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes());
}

fn config(hook: &Hook, target: &str) -> String {
    format!(
        "[defaults]\ninterval = \"100ms\"\ntimeout = \"100ms\"\nfailure_threshold = 2\n\n\
         [alerts]\ngroup_wait = \"200ms\"\nretry_initial = \"200ms\"\nretry_max = \"300ms\"\n\n\
         [[notifiers]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"{}\"\nsecret = \"{HMAC_SECRET}\"\n\
         headers = {{ X-Api-Key = \"{HEADER_SECRET}\" }}\n\n\
         [[targets]]\nname = \"api\"\ntarget = \"{target}\"\n",
        hook.url()
    )
}

fn get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    raw
}

fn database_bytes(setup: &Setup) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(setup.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("vc.db") {
            all.extend(std::fs::read(path).unwrap_or_default());
        }
    }
    all
}

fn assert_no_secret(what: &str, haystack: &[u8]) {
    for secret in [PATH_SECRET, HMAC_SECRET, HEADER_SECRET] {
        assert!(!haystack.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} appears in {what}");
    }
}

#[test]
fn a_pending_alert_survives_kill_9_and_arrives_exactly_once() {
    let server = Flip::new(200);
    let hook = Hook::start();
    let setup = Setup::new(&config(&hook, &server.url()));
    let mut run = Running::start_logging(&setup.config(), "trace");
    run.wait_reaches("api", "healthy");

    server.set(503);
    run.wait_transition("api", "healthy", "unhealthy");
    // The receiver refuses: the alert stays pending, retried.
    let refused = poll("two refused deliveries", || (hook.got().len() >= 2).then(|| hook.got()));
    assert!(refused.iter().all(|g| !g.accepted));
    let id = refused[0].delivery.clone();
    assert!(refused.iter().all(|g| g.delivery == id), "{refused:?}");
    assert_eq!(refused[0].body["status"], "firing");
    run.wait_for("a retry in the log", |e| text(&e["message"]) == "alerts: delivery failed; will retry");
    let killed = run.kill();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&killed), Some(9));
    let log_before = run.log.join("\n");
    drop(run);

    hook.accept.store(true, Ordering::SeqCst);
    let mut run = Running::start_logging(&setup.config(), "trace");
    let delivered = poll("the delivery after the restart", || hook.accepted().first().cloned());
    assert_eq!(delivered.delivery, id, "the pending message, not a new one");
    assert_eq!(delivered.body, refused[0].body);
    assert_eq!(delivered.body["events"][0]["target"], "api");
    assert_eq!(delivered.body["events"][0]["to"], "unhealthy");

    // The API and /metrics of the running instance.
    let listening = run.wait_for("the listening line", |e| text(&e["message"]).starts_with("listening on http://"));
    let addr: SocketAddr = text(&listening["address"]).parse().unwrap();
    let wanted = r#"vitalcheck_notifications_total{notifier="ops",result="delivered"} 1"#;
    let metrics =
        poll("the delivery counted in /metrics", || Some(get(addr, "/metrics")).filter(|m| m.contains(wanted)));
    assert!(!metrics.contains(r#"result="retried""#), "this process's attempts all succeeded: {metrics}");
    for path in ["/api/v1/targets", "/api/v1/targets/api", "/api/v1/status", "/metrics", "/"] {
        let answer = get(addr, path);
        assert!(answer.starts_with("HTTP/1.1 200"), "{path}: {answer}");
        assert_no_secret(path, answer.as_bytes());
    }

    // Recovery: the resolved message is the next one accepted; the firing one came once.
    server.set(200);
    let accepted = poll("the resolved message", || {
        let accepted = hook.accepted();
        accepted.iter().any(|g| g.body["status"] == "resolved").then_some(accepted)
    });
    assert_eq!(accepted.len(), 2, "{accepted:?}");
    assert_eq!(accepted.iter().filter(|g| g.delivery == id).count(), 1, "delivered exactly once");
    assert_eq!(accepted[1].body["events"][0]["change"], "resolved");

    let exit = run.terminate();
    assert!(exit.success());
    let log = format!("{log_before}\n{}", run.log.join("\n"));
    assert!(log.contains("alerts: delivered"), "the delivery is logged");
    assert_no_secret("the log", log.as_bytes());
    assert_no_secret("the database", &database_bytes(&setup));
}

#[test]
fn config_check_shows_notifiers_without_their_secrets() {
    let hook = Hook::start();
    let setup = Setup::new(&config(&hook, "http://127.0.0.1:9/health"));
    for args in [&["config", "check"][..], &["config", "check", "-o", "json"][..]] {
        let out = vitalcheck().args(args).arg(setup.config()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(shown.contains("webhook") && shown.contains("***"), "{shown}");
        assert!(shown.contains(&format!("http://{}/***", hook.addr)), "{shown}");
        assert_no_secret("config check", &out.stdout);
    }
}
