//! Shared by the `vitalcheck run` end-to-end tests: the real `run` process with its JSON
//! log read line by line, bounded waits, and loopback peers on plain std threads (an HTTP
//! server whose status can be flipped, an HTTP forward proxy, a SOCKS5 proxy).

#![allow(dead_code)] // each test file uses the part it needs

use rustix::process::{Pid, Signal, kill_process};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// The `[server]` table of test configs: the API on a free loopback port.
pub(crate) const LISTEN: &str = "[server]\nlisten = \"127.0.0.1:0\"\n";

/// The longest any one wait for the process, a log line or the store may take.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// The `vitalcheck` binary, for one command run to completion (assert_cmd).
pub(crate) fn vitalcheck() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("vitalcheck").expect("binary built");
    cmd.env_remove("VITALCHECK_CONFIG").env_remove("RUST_LOG");
    cmd
}

/// A port with nothing listening on it (bound, then released).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Calls `probe` until it gives `Some`, at most [`WAIT`]; panics naming `what`.
pub(crate) fn poll<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "gave up after {WAIT:?} waiting for {what}");
        thread::sleep(Duration::from_millis(25));
    }
}

/// `vitalcheck run --log-format json -c CONFIG` as a child process; its stderr is read on
/// a thread, line by line, into a channel. Killed (SIGKILL) and reaped when dropped, so a
/// failing test leaks no process.
pub(crate) struct Running {
    child: Child,
    lines: Receiver<String>,
    /// Every stderr line read so far, in order.
    pub(crate) log: Vec<String>,
    /// Indices in `log` of the lines a wait has returned (each is returned once).
    taken: BTreeSet<usize>,
    /// Whether stderr reached its end (the process exited).
    closed: bool,
}

impl Running {
    /// Starts it (logging at info) and waits for its start line.
    pub(crate) fn start(config: &Path) -> Running {
        Running::start_logging(config, "info")
    }

    /// Starts it with `RUST_LOG=rust_log` and waits for its start line.
    pub(crate) fn start_logging(config: &Path, rust_log: &str) -> Running {
        let mut running = Running::spawn(config, rust_log);
        running.wait_for("the start line", |e| e["message"] == "vitalcheck run started");
        running
    }

    /// Starts it with `RUST_LOG=rust_log`, without waiting for anything.
    pub(crate) fn spawn(config: &Path, rust_log: &str) -> Running {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("vitalcheck"))
            .args(["run", "--log-format", "json", "-c"])
            .arg(config)
            .env_remove("VITALCHECK_CONFIG")
            .env("RUST_LOG", rust_log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Running { child, lines, log: Vec::new(), taken: BTreeSet::new(), closed: false }
    }

    pub(crate) fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap()
    }

    pub(crate) fn signal(&self, signal: Signal) {
        kill_process(Pid::from_raw(self.pid()).unwrap(), signal).unwrap();
    }

    /// The next line, at most until `deadline`; `None` at the end of stderr.
    fn next_line(&mut self, deadline: Instant, what: &str) -> Option<String> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(line) => {
                self.log.push(line.clone());
                Some(line)
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.closed = true;
                None
            }
            Err(RecvTimeoutError::Timeout) => {
                panic!("no {what} within {WAIT:?}; stderr so far:\n{}", self.log.join("\n"))
            }
        }
    }

    /// The first line (parsed as JSON) matching `wanted` that no wait returned yet: one
    /// read already, else the next ones read until one matches, at most [`WAIT`]. Panics if
    /// the process exits first.
    pub(crate) fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let matches = |line: &str| serde_json::from_str::<Value>(line).ok().filter(|e| wanted(e));
        for (i, line) in self.log.iter().enumerate() {
            if !self.taken.contains(&i)
                && let Some(event) = matches(line)
            {
                self.taken.insert(i);
                return event;
            }
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let Some(line) = self.next_line(deadline, what) else {
                let status = self.child.wait();
                panic!("the process ended ({status:?}) before {what}; stderr:\n{}", self.log.join("\n"));
            };
            if let Some(event) = matches(&line) {
                self.taken.insert(self.log.len() - 1);
                return event;
            }
        }
    }

    /// Waits for the transition of `name` from `from` to `to`; returns its log line.
    pub(crate) fn wait_transition(&mut self, name: &str, from: &str, to: &str) -> Value {
        let what = format!("the transition of {name} {from} -> {to}");
        self.wait_for(&what, |e| {
            e["message"] == "transition" && e["name"] == name && e["from"] == from && e["to"] == to
        })
    }

    /// Waits for a transition of `name` to `to`, from whatever state; returns its log line.
    /// (A first probe that is slow under load may take a target through `starting`.)
    pub(crate) fn wait_reaches(&mut self, name: &str, to: &str) -> Value {
        let what = format!("a transition of {name} to {to}");
        self.wait_for(&what, |e| e["message"] == "transition" && e["name"] == name && e["to"] == to)
    }

    /// The log lines read so far, parsed (lines that are not JSON left out).
    pub(crate) fn events(&self) -> Vec<Value> {
        self.log.iter().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// The transitions of `name` logged so far, as `(from, to, reason)`.
    pub(crate) fn transitions(&self, name: &str) -> Vec<(String, String, String)> {
        self.events()
            .into_iter()
            .filter(|e| e["message"] == "transition" && e["name"] == name)
            .map(|e| (text(&e["from"]), text(&e["to"]), text(&e["reason"])))
            .collect()
    }

    /// Reads stderr to its end (at most [`WAIT`]), then reaps the process.
    pub(crate) fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        while !self.closed {
            self.next_line(deadline, "end of stderr");
        }
        self.child.wait().unwrap()
    }

    /// SIGTERM, then [`wait_exit`](Self::wait_exit).
    pub(crate) fn terminate(&mut self) -> ExitStatus {
        self.signal(Signal::TERM);
        self.wait_exit()
    }

    /// SIGKILL, then reaps it.
    pub(crate) fn kill(&mut self) -> ExitStatus {
        self.child.kill().unwrap();
        self.wait_exit()
    }

    /// The whole stderr read so far.
    pub(crate) fn stderr(&self) -> String {
        self.log.join("\n")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // After a wait this sends nothing (std knows the process is gone).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A JSON string's text (empty when not a string).
pub(crate) fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// A temporary directory with a config file in it; its store is `vc.db` beside it.
pub(crate) struct Setup {
    pub(crate) dir: tempfile::TempDir,
}

impl Setup {
    /// A directory with `vitalcheck.toml` holding `config` (its `[storage]` added).
    pub(crate) fn new(config: &str) -> Setup {
        let setup = Setup { dir: tempfile::tempdir().unwrap() };
        setup.write(config);
        setup
    }

    /// Replaces the config with `config` plus the `[storage]` table and, at the end (so
    /// the lines of `config` keep their numbers), a `[server]` on a port of its own (tests
    /// run several `vitalcheck run` at once).
    pub(crate) fn write(&self, config: &str) {
        std::fs::write(self.config(), format!("[storage]\npath = \"vc.db\"\n\n{config}\n{LISTEN}")).unwrap();
    }

    /// Replaces the config file with exactly `text`.
    pub(crate) fn write_raw(&self, text: &str) {
        std::fs::write(self.config(), text).unwrap();
    }

    pub(crate) fn config(&self) -> PathBuf {
        self.dir.path().join("vitalcheck.toml")
    }

    pub(crate) fn db(&self) -> PathBuf {
        self.dir.path().join("vc.db")
    }

    pub(crate) fn run(&self) -> Running {
        Running::start(&self.config())
    }

    /// `vitalcheck SUBCOMMAND -c CONFIG ARGS...`.
    pub(crate) fn cmd(&self, subcommand: &str, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = vitalcheck();
        cmd.arg(subcommand).arg("-c").arg(self.config()).args(args);
        cmd
    }

    /// `vitalcheck status -c CONFIG -o json ARGS...`: the exit code and the document.
    pub(crate) fn status(&self, args: &[&str]) -> (i32, Value) {
        let out = self.cmd("status", &[&["-o", "json"], args].concat()).output().unwrap();
        let doc = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("status -o json: {e}; stderr: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code().unwrap(), doc)
    }

    /// The status document's entry for `name`.
    pub(crate) fn status_of(&self, name: &str) -> Value {
        let (_, doc) = self.status(&[name]);
        doc["targets"][0].clone()
    }

    /// `vitalcheck history NAME -c CONFIG -o json --since 1h`.
    pub(crate) fn history(&self, name: &str) -> Value {
        let out = self.cmd("history", &[name, "-o", "json", "--since", "1h"]).output().unwrap();
        assert!(out.status.success(), "history {name}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// A loopback HTTP/1.1 server answering every request with the status it holds now
/// (`Connection: close`, one thread per connection).
pub(crate) struct Flip {
    pub(crate) addr: SocketAddr,
    status: Arc<AtomicU16>,
}

impl Flip {
    pub(crate) fn new(status: u16) -> Flip {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let status = Arc::new(AtomicU16::new(status));
        let shared = Arc::clone(&status);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let status = Arc::clone(&shared);
                thread::spawn(move || answer(stream, status.load(Ordering::SeqCst)));
            }
        });
        Flip { addr, status }
    }

    pub(crate) fn set(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}/health", self.addr)
    }
}

fn answer(mut stream: TcpStream, status: u16) {
    read_head(&mut stream);
    let reason = match status {
        200 => "OK",
        503 => "Service Unavailable",
        _ => "Other",
    };
    let body = if status == 200 { "ok" } else { "down" };
    let reply =
        format!("HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    let _ = stream.write_all(reply.as_bytes());
}

/// Reads a request or response head (up to the blank line).
fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Runs `handle` on every connection to a fresh 127.0.0.1 listener, one thread each.
fn serve(handle: impl Fn(TcpStream) + Send + Sync + Copy + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || handle(stream));
        }
    });
    addr
}

/// An HTTP forward proxy for absolute-form GETs (forwarded with `Connection: close`).
/// With `basic` (the expected `Proxy-Authorization` value), anything else gets 407.
pub(crate) fn http_proxy(basic: Option<&'static str>) -> SocketAddr {
    serve(move |mut client| {
        let head = read_head(&mut client);
        let authorized = basic.is_none_or(|basic| {
            head.lines().any(|l| {
                l.split_once(':')
                    .is_some_and(|(k, v)| k.eq_ignore_ascii_case("proxy-authorization") && v.trim() == basic)
            })
        });
        if !authorized {
            let answer = "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"t\"\r\n\
                          Content-Length: 0\r\nConnection: close\r\n\r\n";
            let _ = client.write_all(answer.as_bytes());
            return;
        }
        let Some(rest) = head.split_whitespace().nth(1).and_then(|t| t.strip_prefix("http://")) else { return };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let Ok(mut upstream) = TcpStream::connect(authority) else {
            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return;
        };
        let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
        if upstream.write_all(request.as_bytes()).is_ok() {
            let _ = std::io::copy(&mut upstream, &mut client);
        }
    })
}

/// A SOCKS5 proxy (RFC 1928) accepting only user name and password (RFC 1929) `user` /
/// `password`, then relaying to the requested host.
pub(crate) fn socks5_proxy(user: &'static str, password: &'static str) -> SocketAddr {
    serve(move |mut client| {
        let _ = socks5_session(&mut client, user, password);
    })
}

fn socks5_session(c: &mut TcpStream, user: &str, password: &str) -> std::io::Result<()> {
    let mut greeting = [0u8; 2];
    c.read_exact(&mut greeting)?;
    let mut methods = vec![0u8; usize::from(greeting[1])];
    c.read_exact(&mut methods)?;
    if !methods.contains(&2) {
        return c.write_all(&[5, 0xff]);
    }
    c.write_all(&[5, 2])?;
    let given_user = read_field(c, 2)?;
    let given_password = read_field(c, 1)?;
    let ok = given_user == user.as_bytes() && given_password == password.as_bytes();
    c.write_all(&[1, if ok { 0 } else { 1 }])?;
    if !ok {
        return Ok(());
    }
    let mut head = [0u8; 4];
    c.read_exact(&mut head)?;
    let host = match head[3] {
        1 => {
            let mut ip = [0u8; 4];
            c.read_exact(&mut ip)?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => String::from_utf8_lossy(&read_field(c, 1)?).into_owned(),
        _ => return c.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0]),
    };
    let mut port = [0u8; 2];
    c.read_exact(&mut port)?;
    let Ok(mut upstream) = TcpStream::connect((host.as_str(), u16::from_be_bytes(port))) else {
        return c.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
    };
    c.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0])?;
    let (mut up_write, mut client_read) = (upstream.try_clone()?, c.try_clone()?);
    let forward = thread::spawn(move || {
        let _ = std::io::copy(&mut client_read, &mut up_write);
        let _ = up_write.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut upstream, c);
    let _ = c.shutdown(Shutdown::Both);
    let _ = forward.join();
    Ok(())
}

/// Reads `skip - 1` bytes, then a length byte and that many bytes.
fn read_field(c: &mut TcpStream, skip: usize) -> std::io::Result<Vec<u8>> {
    let mut prefix = vec![0u8; skip];
    c.read_exact(&mut prefix)?;
    let mut field = vec![0u8; usize::from(prefix[skip - 1])];
    c.read_exact(&mut field)?;
    Ok(field)
}
