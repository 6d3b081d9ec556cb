//! Alerts end to end inside one process: a real engine probing loopback servers that
//! flip, a real SQLite file, the dispatcher, and loopback webhook receivers (axum) that
//! refuse the first deliveries; a real child process for the command notifier.

#![allow(clippy::unwrap_used)]
#![cfg(all(feature = "notify", feature = "sqlite"))]

mod support;

use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::{FlipServer, config, wait_for};
use tokio::sync::mpsc;
use vitalcheck::state::TargetStatus;
use vitalcheck_monitor::engine::{Engine, EngineOptions};
use vitalcheck_monitor::notify::{Dispatcher, DispatcherOptions, signature};
use vitalcheck_monitor::store::{SqliteStore, Store};

const HMAC_SECRET: &str = "hmac-secret-0123456789";
const HEADER_SECRET: &str = "header-secret-abcdef";
const PATH_SECRET: &str = "T000PATHSECRET";

/// One request a receiver got, and what it answered.
#[derive(Debug)]
struct Received {
    answered: u16,
    headers: HeaderMap,
    raw: Vec<u8>,
    body: Value,
}

/// A webhook receiver on 127.0.0.1 that answers 503 to the first `refuse` requests, then
/// 200; every request goes to the channel.
struct Receiver {
    addr: std::net::SocketAddr,
    rx: mpsc::UnboundedReceiver<Received>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(refuse: usize) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        let seen = Arc::new(AtomicUsize::new(0));
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (tx, seen) = (tx.clone(), Arc::clone(&seen));
            async move {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let status = if n < refuse { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
                let raw = body.to_vec();
                let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
                let _ = tx.send(Received { answered: status.as_u16(), headers, raw, body });
                status
            }
        });
        let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { addr, rx, task }
    }

    fn url(&self) -> String {
        format!("http://{}/hook/{PATH_SECRET}", self.addr)
    }

    /// The next request; panics after 20 s.
    async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(20), self.rx.recv())
            .await
            .expect("a request within 20 s")
            .expect("receiver running")
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn target(name: &str, url: &str) -> String {
    format!(
        "[[targets]]\nname = \"{name}\"\ntarget = \"{url}\"\ninterval = \"50ms\"\ntimeout = \"50ms\"\n\
         failure_threshold = 2\ntags = [\"prod\"]\n"
    )
}

fn engine_options() -> EngineOptions {
    EngineOptions { flush_interval: Duration::from_millis(50), ..EngineOptions::default() }
}

fn fast() -> DispatcherOptions {
    let mut o = DispatcherOptions::default();
    o.poll = Duration::from_millis(50);
    o
}

/// Waits until every target in `names` is healthy (whatever order they get there in).
async fn all_healthy(engine: &Engine, names: &[&str]) {
    let mut events = engine.subscribe();
    let wait = async {
        while !names.iter().all(|n| engine.target(n).is_some_and(|t| t.snapshot.status == TargetStatus::Healthy)) {
            let _ = events.recv().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), wait).await.expect("targets healthy within 20 s");
}

/// An engine over a fresh SQLite store in `dir` with `config`, the targets `healthy` up,
/// and a dispatcher started after that (fast retries); `events` subscribed before.
struct Running {
    store: Arc<dyn Store>,
    engine: Engine,
    events: tokio::sync::broadcast::Receiver<vitalcheck_monitor::engine::TransitionEvent>,
    dispatcher: Dispatcher,
}

async fn running(config: &vitalcheck_monitor::config::Config, dir: &std::path::Path, healthy: &[&str]) -> Running {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.join("vc.db")).unwrap());
    let engine = Engine::start(config, Arc::clone(&store), engine_options()).await.unwrap();
    let events = engine.subscribe();
    all_healthy(&engine, healthy).await;
    let dispatcher = Dispatcher::start(Arc::clone(&store), config, fast()).await.unwrap();
    Running { store, engine, events, dispatcher }
}

fn header<'a>(r: &'a Received, name: &str) -> &'a str {
    r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("no {name} header"))
}

fn targets_of(events: &Value) -> Vec<String> {
    let mut names: Vec<String> =
        events.as_array().unwrap().iter().map(|e| e["target"].as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

/// Everything SQLite wrote for `dir/vc.db` (database, WAL), as bytes.
fn database_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("vc.db") {
            all.extend(std::fs::read(path).unwrap());
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_groups_retries_signs_and_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (FlipServer::start(200).await, FlipServer::start(200).await);
    let mut hook = Receiver::start(2).await;
    let text = format!(
        "[alerts]\ngroup_wait = \"2s\"\nretry_initial = \"100ms\"\nretry_max = \"200ms\"\n\
         [[notifiers]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"{}\"\nsecret = \"{HMAC_SECRET}\"\n\
         headers = {{ X-Api-Key = \"{HEADER_SECRET}\" }}\ntags = [\"prod\"]\n{}{}",
        hook.url(),
        target("a", &a.url()),
        target("b", &b.url()),
    );
    let config = config(&text, dir.path());
    let Running { store, engine, dispatcher, .. } = running(&config, dir.path(), &["a", "b"]).await;

    a.set(503);
    b.set(503);
    // Two refused attempts, then the accepted one: the same message each time.
    let first = hook.next().await;
    let second = hook.next().await;
    let third = hook.next().await;
    assert_eq!([first.answered, second.answered, third.answered], [503, 503, 200]);
    let id = header(&first, "x-vitalcheck-delivery");
    assert_eq!(header(&second, "x-vitalcheck-delivery"), id);
    assert_eq!(header(&third, "x-vitalcheck-delivery"), id);
    assert_eq!(first.body, third.body);
    // Both targets went down within the window: one message.
    let body = &third.body;
    assert_eq!((body["version"].as_u64(), body["notifier"].as_str()), (Some(1), Some("ops")));
    assert_eq!((body["kind"].as_str(), body["status"].as_str()), (Some("alert"), Some("firing")));
    assert_eq!(targets_of(&body["events"]), ["a", "b"]);
    assert_eq!(targets_of(&body["firing"]), ["a", "b"]);
    for e in body["events"].as_array().unwrap() {
        assert_eq!(
            (e["from"].as_str(), e["to"].as_str(), e["change"].as_str()),
            (Some("healthy"), Some("unhealthy"), Some("firing"))
        );
        assert_eq!(e["tags"], serde_json::json!(["prod"]));
    }
    // Custom header and a signature a receiver can check.
    assert_eq!(header(&third, "x-api-key"), HEADER_SECRET);
    let ts: i64 = header(&third, "x-vitalcheck-timestamp").parse().unwrap();
    assert_eq!(header(&third, "x-vitalcheck-signature"), signature(HMAC_SECRET.as_bytes(), ts, &third.raw));

    // Recovery of both: one resolved message.
    a.set(200);
    b.set(200);
    let resolved = hook.next().await;
    assert_eq!(resolved.answered, 200);
    assert_ne!(header(&resolved, "x-vitalcheck-delivery"), id);
    assert_eq!((resolved.body["kind"].as_str(), resolved.body["status"].as_str()), (Some("alert"), Some("resolved")));
    assert_eq!(targets_of(&resolved.body["events"]), ["a", "b"]);
    assert!(resolved.body["events"].as_array().unwrap().iter().all(|e| e["change"] == "resolved"));
    assert_eq!(resolved.body["firing"], serde_json::json!([]));

    let stats = dispatcher.stats();
    // The task finishes its step (recording the last outcome) before it stops.
    dispatcher.shutdown(Duration::from_secs(5)).await;
    let counts = stats.snapshot();
    assert!(counts.contains(&("ops".to_string(), "delivered", 2)), "{counts:?}");
    assert!(counts.contains(&("ops".to_string(), "retried", 2)), "{counts:?}");
    engine.shutdown().await;
    assert!(store.pending_outbox(10).unwrap().is_empty(), "both delivered");
    store.shutdown().unwrap();
    let bytes = database_bytes(dir.path());
    assert!(contains(&bytes, "\"notifier\":\"ops\""), "the outbox holds the payloads");
    for secret in [HMAC_SECRET, HEADER_SECRET, PATH_SECRET] {
        assert!(!contains(&bytes, secret), "{secret} is in the database");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signature_covers_timestamp_and_body() {
    let dir = tempfile::tempdir().unwrap();
    let a = FlipServer::start(200).await;
    let mut hook = Receiver::start(0).await;
    let text = format!(
        "[alerts]\ngroup_wait = \"100ms\"\n[[notifiers]]\nname = \"signed\"\nkind = \"webhook\"\nurl = \"{}\"\n\
         secret = \"{HMAC_SECRET}\"\n{}",
        hook.url(),
        target("a", &a.url()),
    );
    let config = config(&text, dir.path());
    let Running { engine, dispatcher, .. } = running(&config, dir.path(), &["a"]).await;
    a.set(503);
    let got = hook.next().await;
    let ts: i64 = header(&got, "x-vitalcheck-timestamp").parse().unwrap();
    let now = jiff::Timestamp::now().as_second();
    assert!((now - 60..=now).contains(&ts), "a current timestamp: {ts}");
    let sig = header(&got, "x-vitalcheck-signature");
    assert_eq!(sig, signature(HMAC_SECRET.as_bytes(), ts, &got.raw));
    assert_ne!(sig, signature(b"another secret", ts, &got.raw));
    assert_ne!(sig, signature(HMAC_SECRET.as_bytes(), ts + 1, &got.raw), "the timestamp is signed");
    dispatcher.shutdown(Duration::from_secs(5)).await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_still_down_is_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let a = FlipServer::start(200).await;
    let mut hook = Receiver::start(0).await;
    let text = format!(
        "[alerts]\ngroup_wait = \"100ms\"\nrepeat_interval = \"1s\"\n\
         [[notifiers]]\nname = \"chat\"\nkind = \"webhook\"\nurl = \"{}\"\n{}",
        hook.url(),
        target("a", &a.url()),
    );
    let config = config(&text, dir.path());
    let Running { engine, dispatcher, .. } = running(&config, dir.path(), &["a"]).await;
    a.set(503);
    let alert = hook.next().await;
    assert_eq!(alert.body["kind"], "alert");
    for _ in 0..2 {
        let reminder = hook.next().await;
        assert_eq!(
            (reminder.body["kind"].as_str(), reminder.body["status"].as_str()),
            (Some("repeat"), Some("firing"))
        );
        assert_eq!(reminder.body["events"], serde_json::json!([]));
        assert_eq!(targets_of(&reminder.body["firing"]), ["a"]);
        assert_eq!(reminder.body["firing"][0]["since"], alert.body["firing"][0]["since"]);
    }
    dispatcher.shutdown(Duration::from_secs(5)).await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_and_discord_get_their_own_shapes_and_routing_skips_others() {
    let dir = tempfile::tempdir().unwrap();
    let (a, other) = (FlipServer::start(200).await, FlipServer::start(200).await);
    let mut slack = Receiver::start(0).await;
    let mut discord = Receiver::start(0).await;
    let text = format!(
        "[alerts]\ngroup_wait = \"100ms\"\n[[groups]]\nname = \"pool\"\n\
         [[notifiers]]\nname = \"s\"\nkind = \"slack\"\nurl = \"{}\"\ngroups = [\"pool\"]\n\
         [[notifiers]]\nname = \"d\"\nkind = \"discord\"\nurl = \"{}\"\ngroups = [\"pool\"]\n\
         {}group = \"pool\"\n{}",
        slack.url(),
        discord.url(),
        target("a", &a.url()),
        target("other", &other.url()),
    );
    let config = config(&text, dir.path());
    let Running { engine, mut events, dispatcher, .. } = running(&config, dir.path(), &["a", "other"]).await;
    // "other" is in no group: neither notifier hears about it.
    other.set(503);
    wait_for(&mut events, "other", TargetStatus::Unhealthy).await;
    a.set(503);
    let s = slack.next().await;
    let text = s.body["text"].as_str().unwrap();
    assert!(text.starts_with("[vitalcheck] 1 firing, 0 resolved: a unhealthy"), "{text}");
    assert!(text.contains("FIRING a: healthy -> unhealthy"), "{text}");
    assert!(!text.contains("other"), "{text}");
    let d = discord.next().await;
    let content = d.body["content"].as_str().unwrap();
    assert!(content.starts_with("[vitalcheck] 1 firing"), "{content}");
    assert_eq!(d.body["allowed_mentions"], serde_json::json!({"parse": []}));
    dispatcher.shutdown(Duration::from_secs(5)).await;
    engine.shutdown().await;
}

/// A target whose process was restarted comes back through `unknown`: that resolves its
/// alert (and ends its reminders) as a direct recovery would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_target_coming_back_is_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let a = FlipServer::start(200).await;
    let mut hook = Receiver::start(0).await;
    let text = format!(
        "[alerts]\ngroup_wait = \"100ms\"\nrepeat_interval = \"1h\"\n\
         [[notifiers]]\nname = \"chat\"\nkind = \"webhook\"\nurl = \"{}\"\n{}",
        hook.url(),
        target("a", &a.url()),
    );
    let config = config(&text, dir.path());
    let Running { engine, mut events, dispatcher, .. } = running(&config, dir.path(), &["a"]).await;
    a.set(503);
    let alert = hook.next().await;
    assert_eq!((alert.body["kind"].as_str(), alert.body["status"].as_str()), (Some("alert"), Some("firing")));
    // What `supervisor::own` does after restarting the target's process.
    a.set(200);
    assert!(engine.restarted("a", "restarted (liveness probe failed)").await.unwrap());
    wait_for(&mut events, "a", TargetStatus::Healthy).await;
    let resolved = hook.next().await;
    assert_eq!((resolved.body["kind"].as_str(), resolved.body["status"].as_str()), (Some("alert"), Some("resolved")));
    let event = &resolved.body["events"][0];
    // Straight up from `unknown`, or through `starting` when a probe that was still in
    // flight at the restart failed.
    assert!(matches!(event["from"].as_str(), Some("unknown" | "starting")), "{event}");
    assert_eq!(event["change"].as_str(), Some("resolved"));
    assert_eq!(resolved.body["firing"], serde_json::json!([]));
    dispatcher.shutdown(Duration::from_secs(5)).await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_gets_the_json_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let a = FlipServer::start(200).await;
    let out = dir.path().join("alert.json");
    let text = format!(
        "[alerts]\ngroup_wait = \"100ms\"\n[[notifiers]]\nname = \"script\"\nkind = \"command\"\n\
         command = [\"sh\", \"-c\", \"cat > \\\"$1.tmp\\\" && echo $VITALCHECK_DELIVERY > \\\"$1.id\\\" && mv \\\"$1.tmp\\\" \\\"$1\\\"\", \"sh\", \"{}\"]\n{}",
        out.display(),
        target("a", &a.url()),
    );
    let config = config(&text, dir.path());
    let Running { engine, mut events, dispatcher, .. } = running(&config, dir.path(), &["a"]).await;
    a.set(503);
    wait_for(&mut events, "a", TargetStatus::Unhealthy).await;
    // The command renames its file into place when done; wait for that (bounded).
    let wait = async {
        while !out.exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), wait).await.expect("the command ran within 20 s");
    let body: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!((body["notifier"].as_str(), body["kind"].as_str()), (Some("script"), Some("alert")));
    assert_eq!(targets_of(&body["events"]), ["a"]);
    let id = std::fs::read_to_string(dir.path().join("alert.json.id")).unwrap();
    assert!(id.trim().parse::<i64>().unwrap() > 0, "{id:?}");
    dispatcher.shutdown(Duration::from_secs(5)).await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_neither_loses_nor_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let a = FlipServer::start(200).await;
    // Refuses everything until the dispatcher is restarted.
    let mut refusing = Receiver::start(usize::MAX).await;
    let text = |url: &str| {
        format!(
            "[alerts]\ngroup_wait = \"100ms\"\nretry_initial = \"100ms\"\nretry_max = \"100ms\"\n\
             [[notifiers]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"{url}\"\n{}",
            target("a", &a.url()),
        )
    };
    let config = config(&text(&refusing.url()), dir.path());
    let Running { store, engine, dispatcher, .. } = running(&config, dir.path(), &["a"]).await;
    a.set(503);
    let refused = refusing.next().await;
    assert_eq!(refused.answered, 503);
    let id = header(&refused, "x-vitalcheck-delivery").to_string();
    dispatcher.shutdown(Duration::from_secs(5)).await;

    // A new receiver (the URL changed in the config) and a new dispatcher on the same store.
    let mut hook = Receiver::start(0).await;
    let config = support::config(&text(&hook.url()), dir.path());
    let dispatcher = Dispatcher::start(Arc::clone(&store), &config, fast()).await.unwrap();
    let delivered = hook.next().await;
    assert_eq!(delivered.answered, 200);
    assert_eq!(header(&delivered, "x-vitalcheck-delivery"), id, "the same message, not a new one");
    assert_eq!(delivered.body, refused.body);
    // The next message is the resolution: nothing came twice in between.
    a.set(200);
    let next = hook.next().await;
    assert_eq!(next.body["status"], "resolved");
    assert_ne!(header(&next, "x-vitalcheck-delivery"), id);
    dispatcher.shutdown(Duration::from_secs(5)).await;
    engine.shutdown().await;
    assert!(store.pending_outbox(10).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_receivers_must_present_a_trusted_certificate() {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (handshakes, mut outcomes) = mpsc::unbounded_channel();
    let tls = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let _ = handshakes.send(acceptor.accept(stream).await.is_ok());
        }
    });

    let dir = tempfile::tempdir().unwrap();
    let a = FlipServer::start(200).await;
    let text = format!(
        "[alerts]\ngroup_wait = \"100ms\"\nretry_initial = \"100ms\"\nretry_max = \"100ms\"\n\
         [[notifiers]]\nname = \"tls\"\nkind = \"webhook\"\nurl = \"https://{addr}/hook/{PATH_SECRET}\"\n{}",
        target("a", &a.url()),
    );
    let config = config(&text, dir.path());
    let Running { store, engine, dispatcher, .. } = running(&config, dir.path(), &["a"]).await;
    a.set(503);
    // The client speaks TLS and refuses the self-signed certificate, twice (a retry).
    for _ in 0..2 {
        let ok = tokio::time::timeout(Duration::from_secs(20), outcomes.recv()).await.unwrap().unwrap();
        assert!(!ok, "the handshake must fail: the certificate is not trusted");
    }
    let stats = dispatcher.stats();
    dispatcher.shutdown(Duration::from_secs(5)).await;
    let counts = stats.snapshot();
    assert!(!counts.iter().any(|(_, result, _)| *result == "delivered"), "{counts:?}");
    assert!(counts.iter().any(|(n, result, c)| n == "tls" && *result == "retried" && *c >= 1), "{counts:?}");
    let pending = store.pending_outbox(10).unwrap();
    assert_eq!(pending.len(), 1, "still pending for the next attempt");
    assert!(pending[0].attempts >= 1);
    engine.shutdown().await;
    tls.abort();
}

/// An https receiver whose certificate is signed by a private CA gets the alert once the
/// notifier names that CA in `ca` (its relative path taken from the config's directory).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_receiver_under_a_private_ca_gets_the_alert_with_ca() {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A private CA and a certificate for 127.0.0.1 that it signs.
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().signed_by(&leaf_key, &issuer).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone(), ca_cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Answers 200 to one request per connection and hands over the request's body.
    let (bodies, mut received) = mpsc::unbounded_channel();
    let tls = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let Ok(mut stream) = acceptor.accept(stream).await else { continue };
            let mut raw = Vec::new();
            let mut buf = [0u8; 4096];
            let body = loop {
                let Ok(n) = stream.read(&mut buf).await else { break None };
                if n == 0 {
                    break None;
                }
                raw.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&raw).to_string();
                let Some((head, body)) = text.split_once("\r\n\r\n") else { continue };
                let length: usize = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                if body.len() >= length {
                    break Some(body.to_owned());
                }
            };
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
            let _ = stream.shutdown().await;
            if let Some(body) = body {
                let _ = bodies.send(body);
            }
        }
    });

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("private-ca.pem"), ca_cert.pem()).unwrap();
    let a = FlipServer::start(200).await;
    let text = format!(
        "[alerts]\ngroup_wait = \"100ms\"\n\
         [[notifiers]]\nname = \"tls\"\nkind = \"webhook\"\nurl = \"https://{addr}/hook\"\nca = \"private-ca.pem\"\n{}",
        target("a", &a.url()),
    );
    let config = config(&text, dir.path());
    let Running { engine, dispatcher, .. } = running(&config, dir.path(), &["a"]).await;
    a.set(503);
    let body = tokio::time::timeout(Duration::from_secs(20), received.recv()).await.unwrap().unwrap();
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((body["kind"].as_str(), body["status"].as_str()), (Some("alert"), Some("firing")));
    assert_eq!(targets_of(&body["events"]), ["a"]);
    let stats = dispatcher.stats();
    dispatcher.shutdown(Duration::from_secs(5)).await;
    let counts = stats.snapshot();
    assert!(counts.iter().any(|(n, result, c)| n == "tls" && *result == "delivered" && *c == 1), "{counts:?}");
    engine.shutdown().await;
    tls.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_adds_and_removes_notifiers() {
    let dir = tempfile::tempdir().unwrap();
    let a = FlipServer::start(200).await;
    let mut one = Receiver::start(0).await;
    let mut two = Receiver::start(0).await;
    let notifier = |name: &str, r: &Receiver| {
        format!("[[notifiers]]\nname = \"{name}\"\nkind = \"webhook\"\nurl = \"{}\"\n", r.url())
    };
    let text = |notifiers: &str| format!("[alerts]\ngroup_wait = \"100ms\"\n{notifiers}{}", target("a", &a.url()));
    let config = config(&text(&notifier("one", &one)), dir.path());
    let Running { engine, mut events, dispatcher, .. } = running(&config, dir.path(), &["a"]).await;
    a.set(503);
    assert_eq!(one.next().await.body["status"], "firing");

    // "two" joins (from now on), "one" stays.
    let both = support::config(&text(&format!("{}{}", notifier("one", &one), notifier("two", &two))), dir.path());
    dispatcher.reload(&both).await;
    a.set(200);
    wait_for(&mut events, "a", TargetStatus::Healthy).await;
    assert_eq!(one.next().await.body["status"], "resolved");
    let first_for_two = two.next().await;
    assert_eq!(first_for_two.body["status"], "resolved", "two starts at the reload: no replay of the firing");
    assert_eq!(first_for_two.body["notifier"], "two");

    // "one" leaves: the next alert goes to "two" only.
    dispatcher.reload(&support::config(&text(&notifier("two", &two)), dir.path())).await;
    a.set(503);
    assert_eq!(two.next().await.body["status"], "firing");
    assert!(one.rx.try_recv().is_err(), "nothing for the removed notifier");

    // "one" comes back: it starts now, without replaying the firing it missed.
    dispatcher.reload(&both).await;
    a.set(200);
    assert_eq!(two.next().await.body["status"], "resolved");
    let back = one.next().await;
    assert_eq!(back.body["status"], "resolved", "{:?}", back.body);
    let changes: Vec<&Value> = back.body["events"].as_array().unwrap().iter().map(|e| &e["change"]).collect();
    assert_eq!(changes, ["resolved"], "only what happened since it came back");
    let stats = dispatcher.stats();
    dispatcher.shutdown(Duration::from_secs(5)).await;
    assert!(one.rx.try_recv().is_err(), "nothing else for it");
    let counts = stats.snapshot();
    assert!(counts.contains(&("one".to_string(), "delivered", 3)), "{counts:?}");
    engine.shutdown().await;
}
