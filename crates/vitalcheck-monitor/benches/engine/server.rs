//! The loopback HTTP server the engine probes, in a child process (this bench binary run
//! again with `VITALCHECK_BENCH_SERVER=1`), so its CPU time is not counted as the engine's.
//!
//! * It listens on one port on `N` loopback addresses 127.0.A.B ([`address`]; Linux routes
//!   all of 127.0.0.0/8 to `lo`, so they need no setup), never on a wildcard or a
//!   non-loopback address. The first address binds port 0; the others bind the port it
//!   got; if one of them is taken, all start over on a new port (at most 20 times).
//! * Every connection: read the request head (at most 8 KiB, 5 s), answer `200` with a
//!   2-byte body and `Connection: close`, close. A multi-thread tokio runtime with a few
//!   workers (default 2).
//! * It prints `port N` on stdout once every listener is bound, and exits when its stdin
//!   closes (the parent exited, however it ended) or after its time limit.
//!
//! [`ServerProcess`] is the parent's side: spawn, wait for the port, check one request,
//! kill the child on drop (also when the bench panics).

use crate::measure;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};

/// Set (to `1`) in the child's environment: run as the server.
pub(crate) const SERVER_ENV: &str = "VITALCHECK_BENCH_SERVER";
const ADDRS_ENV: &str = "VITALCHECK_BENCH_SERVER_ADDRS";
const WORKERS_ENV: &str = "VITALCHECK_BENCH_SERVER_WORKERS";
const MAX_SECS_ENV: &str = "VITALCHECK_BENCH_SERVER_MAX_SECS";

/// The most loopback addresses [`address`] hands out.
pub(crate) const MAX_ADDRS: usize = 250 * 250;

/// The answer to every request.
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

/// Pending connections per listener.
const BACKLOG: u32 = 1024;

/// Address `i` of the server: 127.0.1.1, ..., 127.0.1.250, 127.0.2.1, ... (i < [`MAX_ADDRS`]).
pub(crate) fn address(i: usize) -> Ipv4Addr {
    let i = i % MAX_ADDRS;
    Ipv4Addr::new(127, 0, (1 + i / 250) as u8, (1 + i % 250) as u8)
}

/// Whether this process was started as the server.
pub(crate) fn is_server() -> bool {
    std::env::var_os(SERVER_ENV).is_some_and(|v| v == "1")
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The child's `main`.
pub(crate) fn serve_main() -> ExitCode {
    let addrs = usize::try_from(env_number(ADDRS_ENV, 1000)).unwrap_or(1000).clamp(1, MAX_ADDRS);
    let workers = usize::try_from(env_number(WORKERS_ENV, 2)).unwrap_or(2).max(1);
    let max_secs = env_number(MAX_SECS_ENV, 3600);
    measure::raise_nofile(addrs as u64 + 4096, "bench server");
    // Exit when the parent closes our stdin (it exited, normally or not).
    thread::spawn(|| {
        let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
        std::process::exit(0);
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bench server: cannot build the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let (port, listeners) = match bind_all(addrs) {
            Ok(bound) => bound,
            Err(e) => {
                eprintln!("bench server: {e}");
                return ExitCode::FAILURE;
            }
        };
        for listener in listeners {
            tokio::spawn(accept_loop(listener));
        }
        let mut stdout = io::stdout().lock();
        if writeln!(stdout, "port {port}").and_then(|()| stdout.flush()).is_err() {
            return ExitCode::FAILURE;
        }
        drop(stdout);
        tokio::time::sleep(Duration::from_secs(max_secs)).await;
        eprintln!("bench server: time limit of {max_secs} s reached, exiting");
        ExitCode::SUCCESS
    })
}

/// Listens on `addrs` loopback addresses, all on one port; returns the port.
fn bind_all(addrs: usize) -> io::Result<(u16, Vec<TcpListener>)> {
    for _ in 0..20 {
        let first = listen(address(0), 0)?;
        let port = first.local_addr()?.port();
        let mut listeners = Vec::with_capacity(addrs);
        listeners.push(first);
        let mut taken = false;
        for i in 1..addrs {
            match listen(address(i), port) {
                Ok(listener) => listeners.push(listener),
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                    taken = true;
                    break;
                }
                Err(e) => return Err(io::Error::new(e.kind(), format!("cannot listen on {}:{port}: {e}", address(i)))),
            }
        }
        if !taken {
            return Ok((port, listeners));
        }
    }
    Err(io::Error::new(io::ErrorKind::AddrInUse, "no port free on every address after 20 tries"))
}

fn listen(ip: Ipv4Addr, port: u16) -> io::Result<TcpListener> {
    assert!(ip.is_loopback(), "the bench server listens on loopback addresses only");
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from((ip, port)))?;
    socket.listen(BACKLOG)
}

/// Said once: accepting failed (most likely out of file descriptors).
static ACCEPT_FAILED: AtomicBool = AtomicBool::new(false);

async fn accept_loop(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(answer(stream));
            }
            Err(e) => {
                if !ACCEPT_FAILED.swap(true, Ordering::Relaxed) {
                    eprintln!("bench server: accept failed (said once): {e}");
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Reads the request head, answers, closes.
async fn answer(mut stream: tokio::net::TcpStream) {
    if let Ok(Ok(true)) = tokio::time::timeout(Duration::from_secs(5), read_head(&mut stream)).await {
        let _ = stream.write_all(RESPONSE).await;
    }
}

/// Reads up to the blank line that ends a request head; false on EOF or 8 KiB without one.
async fn read_head(stream: &mut tokio::net::TcpStream) -> io::Result<bool> {
    let mut head = [0u8; 8192];
    let mut len = 0;
    loop {
        let n = stream.read(&mut head[len..]).await?;
        if n == 0 {
            return Ok(false);
        }
        let from = len.saturating_sub(3);
        len += n;
        if head[from..len].windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(true);
        }
        if len == head.len() {
            return Ok(false);
        }
    }
}

/// The running server child. Dropping it kills the child and reaps it.
pub(crate) struct ServerProcess {
    child: Child,
    /// The port every address listens on.
    pub(crate) port: u16,
    /// How many addresses listen.
    pub(crate) addrs: usize,
}

impl ServerProcess {
    /// Starts the server on `addrs` addresses with `workers` runtime workers, living at
    /// most `max_secs`; waits (at most 60 s) for its port and checks one request.
    pub(crate) fn spawn(addrs: usize, workers: usize, max_secs: u64) -> Result<ServerProcess, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
        let mut child = Command::new(exe)
            .env(SERVER_ENV, "1")
            .env(ADDRS_ENV, addrs.to_string())
            .env(WORKERS_ENV, workers.to_string())
            .env(MAX_SECS_ENV, max_secs.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the server process: {e}"))?;
        let stdout = child.stdout.take();
        let mut server = ServerProcess { child, port: 0, addrs };
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            if let Some(stdout) = stdout {
                let _ = BufReader::new(stdout).read_line(&mut line);
            }
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).map_err(|_| "the server did not start within 60 s")?;
        server.port = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("the server did not start (it said {:?})", line.trim()))?;
        for i in [0, addrs - 1] {
            server.check(address(i)).map_err(|e| format!("the server does not answer on {}: {e}", address(i)))?;
        }
        Ok(server)
    }

    /// One request to the server on `ip`, answered 200.
    fn check(&self, ip: Ipv4Addr) -> io::Result<()> {
        let addr = SocketAddr::from((ip, self.port));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.write_all(format!("GET /check HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())?;
        let mut answer = Vec::new();
        stream.take(4096).read_to_end(&mut answer)?;
        if answer.starts_with(b"HTTP/1.1 200") {
            Ok(())
        } else {
            Err(io::Error::other(format!("unexpected answer {:?}", String::from_utf8_lossy(&answer))))
        }
    }

    /// The child's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The child's CPU time so far.
    pub(crate) fn cpu_time(&self) -> Option<Duration> {
        measure::cpu_time_of(self.pid())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
