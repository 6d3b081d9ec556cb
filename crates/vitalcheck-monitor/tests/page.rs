//! The status page (`GET /`) and the badges (`GET /badge/...`) over a real engine, a real
//! SQLite store and loopback servers, spoken to with raw HTTP/1.1: every target with its
//! status, groups, uptime, the bar and sparkline, the last error in words, hostile names
//! rendered as text, public mode hiding addresses, and badges with the right colours.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use support::{FlipServer, config, wait_for};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vitalcheck::state::TargetStatus;
use vitalcheck_monitor::api::{ApiState, router};
use vitalcheck_monitor::engine::{Engine, EngineOptions};
use vitalcheck_monitor::store::{SqliteStore, Store};

const PASSWORD: &str = "pw-in-the-url-0123";
const HOSTILE: &str = "<script>alert(\"owned\")</script>";
const HOSTILE_GROUP: &str = "<img src=x onerror=alert(1)>";

/// One answer: status, headers (lowercased) and body.
struct Answer {
    status: u16,
    headers: String,
    body: String,
}

async fn get(addr: SocketAddr, path: &str) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_string(&mut raw)).await.unwrap().unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Answer { status, headers: head.to_ascii_lowercase(), body: body.to_owned() }
}

/// A target probed every 100 ms, unhealthy after 2 failures.
fn target(name: &str, url: &str, extra: &str) -> String {
    format!(
        "[[targets]]\nname = {name:?}\ntarget = \"{url}\"\ninterval = \"100ms\"\ntimeout = \"100ms\"\nfailure_threshold = 2\n{extra}\n"
    )
}

/// An engine watching group `pool` (`web`: healthy, `flaky`: answers 500), `db` (a URL
/// with a password), `closed` (nothing listening) and a target with a hostile name in a
/// group with a hostile name; served on a loopback port once every target has settled.
struct Fixture {
    addr: SocketAddr,
    /// `web`, `flaky`, `db`.
    servers: [FlipServer; 3],
    engine: Arc<Engine>,
    _dir: tempfile::TempDir,
}

async fn start(server: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (web, flaky, db) = (FlipServer::start(200).await, FlipServer::start(500).await, FlipServer::start(200).await);
    let text = format!(
        "{server}\n[[groups]]\nname = \"pool\"\n[[groups]]\nname = {HOSTILE_GROUP:?}\n{}{}{}{}{}",
        target("web", &web.url(), "group = \"pool\""),
        target("flaky", &flaky.url(), "group = \"pool\""),
        target("db", &format!("http://admin:{PASSWORD}@{}/health", db.addr), ""),
        target("closed", "tcp://127.0.0.1:1", ""),
        target(HOSTILE, &db.url(), &format!("group = {HOSTILE_GROUP:?}")),
    );
    let config = config(&text, dir.path());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("vc.db")).unwrap());
    let options = EngineOptions { flush_interval: Duration::from_millis(50), ..EngineOptions::default() };
    let engine = Arc::new(Engine::start(&config, Arc::clone(&store), options).await.unwrap());
    let mut events = engine.subscribe();
    for (name, status) in [
        ("web", TargetStatus::Healthy),
        ("db", TargetStatus::Healthy),
        (HOSTILE, TargetStatus::Healthy),
        ("flaky", TargetStatus::Unhealthy),
        ("closed", TargetStatus::Unhealthy),
    ] {
        if engine.target(name).is_none_or(|t| t.snapshot.status != status) {
            wait_for(&mut events, name, status).await;
        }
    }
    // Enough up results for a sparkline: two after the first.
    web.wait_hits(web.hits() + 2).await;
    let state = ApiState::new(Arc::clone(&engine), store, config.server.clone(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(state);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Fixture { addr, servers: [web, flaky, db], engine, _dir: dir }
}

/// The `<li>` of the target whose escaped name is `name`.
fn card<'a>(page: &'a str, name: &str) -> &'a str {
    let start = page.find(&format!("data-target=\"{name}\"")).unwrap_or_else(|| panic!("no {name} in {page}"));
    let end = start + page[start..].find("</li>").unwrap();
    &page[start..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_every_target_with_its_status() {
    let f = start("").await;
    let page = get(f.addr, "/").await;
    assert_eq!(page.status, 200);
    for header in ["content-type: text/html; charset=utf-8", "cache-control: no-cache", "content-security-policy:"] {
        assert!(page.headers.contains(header), "{header} in {}", page.headers);
    }
    let body = &page.body;
    assert!(body.starts_with("<!DOCTYPE html>"), "{body}");
    assert!(body.contains("Partial outage"), "banner");
    for (name, status, words) in [
        ("web", "healthy", ">Healthy<"),
        ("flaky", "unhealthy", ">Unhealthy<"),
        ("db", "healthy", ">Healthy<"),
        ("closed", "unhealthy", ">Unhealthy<"),
    ] {
        let card = card(body, name);
        assert!(card.contains(&format!("data-status=\"{status}\"")), "{name}: {card}");
        assert!(card.contains(&format!("class=\"pill s-{status}\"{words}")), "{name}: status in words: {card}");
        // The bar always has 90 cells: results, then empty ones while history is short.
        let bar = &card[card.find("class=\"bar\"").unwrap()..card.find("class=\"scale\"").unwrap()];
        assert_eq!(bar.matches("<span").count(), 90, "{name}: {bar}");
        assert!(bar.contains("aria-label=\"Last "), "{name}");
    }
    // Groups: `pool` with its members before the targets without a group.
    let pool = body.find("data-group=\"pool\"").unwrap();
    assert!(pool < body.find("data-target=\"web\"").unwrap());
    assert!(body.find("data-target=\"flaky\"").unwrap() < body.find(">Targets</h2>").unwrap());
    assert!(body[pool..].contains("class=\"pill s-degraded\">Degraded<"), "pool: one of two up");

    let web = card(body, "web");
    assert!(web.contains("<dt>1 h</dt><dd>100%</dd>"), "{web}");
    assert!(web.contains("class=\"h\" title=\""), "{web}");
    assert!(web.contains("<polygon points=\"-3,35 "), "sparkline: {web}");
    assert!(!web.contains("class=\"error"), "{web}");
    let flaky = card(body, "flaky");
    assert!(flaky.contains("class=\"u\" title=\""), "{flaky}");
    assert!(flaky.contains("<dt>1 h</dt><dd>0.00%</dd>"), "{flaky}");
    assert!(flaky.contains("Failing: ") && flaky.contains("500"), "the error in words: {flaky}");
    let closed = card(body, "closed");
    assert!(closed.contains("connection refused") && closed.contains("127.0.0.1:1"), "{closed}");
    // Not public: what is probed is shown, redacted.
    let db = card(body, "db");
    assert!(db.contains("class=\"addr\"") && db.contains("127.0.0.1"), "{db}");
    assert!(!body.contains(PASSWORD));

    // Recovered: the error stays, in the past tense.
    let mut events = f.engine.subscribe();
    f.servers[1].set(200);
    wait_for(&mut events, "flaky", TargetStatus::Healthy).await;
    let page = get(f.addr, "/").await.body;
    let flaky = card(&page, "flaky");
    assert!(flaky.contains("class=\"pill s-healthy\">Healthy<"), "{flaky}");
    assert!(flaky.contains("<p class=\"error past\"") && flaky.contains(" ago: ") && flaky.contains("500"), "{flaky}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_render_as_text() {
    let f = start("").await;
    let body = get(f.addr, "/").await.body;
    assert_eq!(body.matches("<script").count(), 1, "only the page's own script: {body}");
    assert!(!body.contains("<img"), "{body}");
    assert!(body.contains("&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;"), "{body}");
    assert!(body.contains("&lt;img src=x onerror=alert(1)&gt;"), "{body}");
    let badge = get(f.addr, "/badge/%3Cscript%3Ealert(%22owned%22)%3C%2Fscript%3E.svg").await;
    assert_eq!(badge.status, 200, "{}", badge.body);
    assert!(!badge.body.contains("<script") && badge.body.contains("&lt;script&gt;"), "{}", badge.body);
    let label = get(f.addr, "/badge/web.svg?label=%3Cb%3Eup%3C%2Fb%3E").await.body;
    assert!(!label.contains("<b>") && label.contains("&lt;b&gt;up&lt;/b&gt;"), "{label}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_mode_shows_names_only() {
    let f = start("[server]\npublic = true").await;
    let body = get(f.addr, "/").await.body;
    for name in ["web", "flaky", "db", "closed"] {
        assert!(body.contains(&format!("data-target=\"{name}\"")), "{name}");
    }
    assert!(!body.contains("class=\"addr\""), "{body}");
    assert!(!body.contains("127.0.0.1") && !body.contains("/health") && !body.contains(PASSWORD), "{body}");
    // Errors by their kind only: probe messages name addresses.
    assert!(card(&body, "closed").contains("Failing: connection refused</p>"), "{body}");
    assert!(card(&body, "flaky").contains("Failing: unexpected HTTP status</p>"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn badges_for_targets_and_groups() {
    let f = start("").await;
    for (path, text, color) in [
        ("/badge/web.svg", ">healthy</text>", "#4c1"),
        ("/badge/flaky.svg", ">unhealthy</text>", "#e05d44"),
        ("/badge/group/pool.svg", ">degraded</text>", "#dfb317"),
    ] {
        let badge = get(f.addr, path).await;
        assert_eq!(badge.status, 200, "{path}");
        assert!(badge.headers.contains("content-type: image/svg+xml"), "{path}: {}", badge.headers);
        assert!(badge.headers.contains("cache-control: no-cache"), "{path}: {}", badge.headers);
        assert!(badge.body.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{path}: {}", badge.body);
        assert!(
            badge.body.contains(text) && badge.body.contains(&format!("fill=\"{color}\"")),
            "{path}: {}",
            badge.body
        );
    }
    let web = get(f.addr, "/badge/web.svg").await.body;
    assert!(web.contains("<title>web: healthy</title>"), "{web}");
    let labelled = get(f.addr, "/badge/web.svg?label=api").await.body;
    assert!(labelled.contains("<title>api: healthy</title>"), "{labelled}");
    for path in ["/badge/nope.svg", "/badge/group/nope.svg", "/badge/web", "/badge/group/web.svg"] {
        let missing = get(f.addr, path).await;
        assert_eq!(missing.status, 404, "{path}");
        assert!(missing.body.contains(">not found</text>"), "{path}: {}", missing.body);
    }
}
