//! The status page in a real browser: the real `vitalcheck run` serves it (so the test
//! covers the binary's wiring too, not only the router), with 90 minutes of history seeded
//! into its store, and headless Chromium loads it: `--dump-dom` must hold every target
//! with its status, and `--screenshot` must give a real PNG, at desktop and phone width;
//! the console stays empty (no script error, no Content-Security-Policy violation).
//!
//! Chromium is Debian's `chromium` (`.ci/run` installs it; `$CHROMIUM` overrides the
//! path). Under `CI=true` a missing browser fails the test; elsewhere it is skipped with a
//! message. With `VITALCHECK_PAGE_SCREENSHOTS=DIR` the screenshots are copied to DIR (how
//! `docs/status-page.png` is made).

#![allow(clippy::unwrap_used)]

mod support;

use jiff::Timestamp;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::*;
use vitalcheck::Status;
use vitalcheck_monitor::store::{Batch, ResultRow, SqliteStore, Store};

/// How long one browser run may take.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

/// The flags issue 6 names, plus quieter ones for a container.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
];

/// The browser, or `None` outside CI when there is none (CI must have it).
fn chromium() -> Option<PathBuf> {
    let candidates = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].map(PathBuf::from));
    let found = candidates.into_iter().find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but no chromium: install Debian's `chromium` (.ci/run does) or set CHROMIUM"
        );
        eprintln!("SKIPPED: no chromium found (install Debian's `chromium` or set CHROMIUM); CI runs this test");
    }
    found
}

/// A browser process (its own process group), killed with all its helpers on drop.
struct Browser {
    child: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id())
            && let Some(group) = rustix::process::Pid::from_raw(pid)
        {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a browser run printed.
struct Output {
    stdout: String,
    /// The page's console messages (script errors, Content-Security-Policy violations),
    /// from Chromium's log on stderr.
    console: Vec<String>,
}

/// Runs chromium on `url` with `args` and a fresh profile, within [`BROWSER_TIMEOUT`].
fn browse(chromium: &Path, url: &str, args: &[String]) -> Output {
    use std::os::unix::process::CommandExt;
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium)
        .args(FLAGS)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--enable-logging=stderr")
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let (mut stdout, mut stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let browser = Browser { child };
    let (tx, rx) = mpsc::channel();
    let err_tx = tx.clone();
    std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        let _ = tx.send((true, out));
    });
    std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stderr.read_to_string(&mut out);
        let _ = err_tx.send((false, out));
    });
    let (mut stdout, mut log) = (String::new(), String::new());
    for _ in 0..2 {
        let (is_stdout, text) =
            rx.recv_timeout(BROWSER_TIMEOUT).unwrap_or_else(|_| panic!("chromium on {url} took over 60 s"));
        *(if is_stdout { &mut stdout } else { &mut log }) = text;
    }
    drop(browser);
    let console = log.lines().filter(|l| l.contains(":CONSOLE")).map(str::to_owned).collect();
    Output { stdout, console }
}

/// Width and height of a PNG, checking its signature.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 24 && bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

/// Saves a screenshot of `url` at `width` x `height` and checks it.
fn screenshot(chromium: &Path, url: &str, width: u32, height: u32, dir: &Path, file: &str) -> PathBuf {
    let path = dir.join(file);
    let args = [format!("--screenshot={}", path.display()), format!("--window-size={width},{height}")];
    let console = browse(chromium, url, &args).console;
    assert!(console.is_empty(), "{file}: console messages: {console:#?}");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", path.display()));
    assert_eq!(png_size(&bytes), (width, height), "{file}");
    // A blank page compresses to a few KB; this one has colour everywhere.
    assert!(bytes.len() > 20_000, "{file}: only {} bytes", bytes.len());
    if let Some(out) = std::env::var_os("VITALCHECK_PAGE_SCREENSHOTS") {
        std::fs::copy(&path, Path::new(&out).join(file)).unwrap();
    }
    path
}

/// The watched targets: (name, group, healthy now).
const TARGETS: [(&str, Option<&str>, bool); 5] = [
    ("api-eu", Some("api"), true),
    ("api-us", Some("api"), false),
    ("postgres", Some("databases"), true),
    ("redis", Some("databases"), true),
    ("website", None, true),
];

/// 90 results a minute apart per target, ending a minute ago: steady latencies with some
/// noise, an incident 40 minutes ago on `api-us`, and its failures since 5 minutes ago.
fn seed(db: &Path) {
    let store = SqliteStore::open(db).unwrap();
    let now = Timestamp::now();
    let mut rows = Vec::new();
    for (t, (name, _, _)) in TARGETS.iter().enumerate() {
        for r in 0..90u64 {
            let at = now - Duration::from_secs(60 * (90 - r));
            let base = [900, 1_400, 150, 200, 2_100][t];
            let wave = ((r as f64 / 6.0 + t as f64).sin() + 1.0) * base as f64 * 0.15;
            let noise = (r * 7_919 + t as u64 * 104_729) % (base / 5);
            let failed = *name == "api-us" && ((48..53).contains(&r) || r >= 85);
            let latency = if failed { 5_000_000 } else { base + wave as u64 + noise };
            let mut row = ResultRow::new(*name, at, if failed { Status::Unhealthy } else { Status::Healthy }, latency);
            if failed {
                row.error_kind = Some("status".into());
                row.detail = "HTTP status 503".into();
            }
            rows.push(row);
        }
    }
    store.record(Batch::from_results(rows)).unwrap().wait().unwrap();
    store.shutdown().unwrap();
}

#[test]
fn the_status_page_renders_in_a_real_browser() {
    let Some(chromium) = chromium() else { return };
    let (up, down) = (Flip::new(200), Flip::new(503));
    let mut config = String::from("[defaults]\ninterval = \"1s\"\ntimeout = \"500ms\"\nfailure_threshold = 1\n");
    config.push_str("[[groups]]\nname = \"api\"\n[[groups]]\nname = \"databases\"\n");
    for (name, group, healthy) in TARGETS {
        let url = if name == "postgres" || name == "redis" {
            format!("tcp://{}", up.addr)
        } else {
            (if healthy { &up } else { &down }).url()
        };
        let group = group.map(|g| format!("group = \"{g}\"\n")).unwrap_or_default();
        config.push_str(&format!("[[targets]]\nname = \"{name}\"\ntarget = \"{url}\"\n{group}"));
    }
    let setup = Setup::new(&config);
    seed(&setup.db());
    let mut run = setup.run();
    let listening = run.wait_for("the listening line", |e| text(&e["message"]).starts_with("listening on http://"));
    let addr: SocketAddr = text(&listening["address"]).parse().unwrap();
    for (name, _, healthy) in TARGETS {
        run.wait_reaches(name, if healthy { "healthy" } else { "unhealthy" });
    }
    let url = format!("http://{addr}/");

    let Output { stdout: dom, console } = browse(&chromium, &url, &["--dump-dom".to_owned()]);
    // The inline style and script run under the page's Content-Security-Policy, and the
    // script has no error: nothing on the console.
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert!(dom.contains("<main id=\"page\">"), "{dom}");
    assert!(dom.contains("Partial outage"), "{dom}");
    for (name, _, healthy) in TARGETS {
        let (status, word) = if healthy { ("healthy", "Healthy") } else { ("unhealthy", "Unhealthy") };
        let at = dom.find(&format!("data-target=\"{name}\"")).unwrap_or_else(|| panic!("{name} not in {dom}"));
        let card = &dom[at..at + dom[at..].find("</li>").unwrap()];
        assert!(card.contains(&format!("data-status=\"{status}\"")), "{name}: {card}");
        assert!(card.contains(&format!("class=\"pill s-{status}\">{word}</span>")), "{name}: {card}");
        assert!(card.contains("<polygon points="), "{name}: no sparkline: {card}");
    }
    for group in ["api", "databases"] {
        assert!(dom.contains(&format!("data-group=\"{group}\"")), "{group}");
    }

    let shots = tempfile::tempdir().unwrap();
    screenshot(&chromium, &url, 1280, 900, shots.path(), "status-page.png");
    screenshot(&chromium, &url, 390, 844, shots.path(), "status-page-phone.png");
    assert!(run.terminate().success());
}
