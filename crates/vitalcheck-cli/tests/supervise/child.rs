//! The test program `vitalcheck supervise` runs: this test binary again, in child mode.
//!
//! Set by environment (inherited through `vitalcheck supervise`):
//! * `VC_LOG`: file to append lines to: `start PID UNIX_MS`, `signal NAME`,
//!   `request PATH hung=BOOL`, `grandchild PID`, `handlers`.
//! * `VC_PORT`: serve HTTP on 127.0.0.1:PORT. `GET /hang`: from now on every request
//!   hangs. `GET /exit/N`: exit with N. Anything else: `200 ok`.
//! * `VC_MODE`, comma separated: `crash=N` (exit with N at once), `ignore-term` (log SIGTERM
//!   and go on, logging `alive UNIX_MS` every 20 ms from then on, so a test can tell how
//!   long it lived after the signal), `grandchild` (start `sleep 1000` in the same process group),
//!   `term-code=N` (exit with N on SIGTERM or SIGINT; default 0).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

static HUNG: AtomicBool = AtomicBool::new(false);

/// Appends one line to `$VC_LOG`.
pub(crate) fn log(line: &str) {
    let Ok(path) = std::env::var("VC_LOG") else { return };
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open VC_LOG");
    writeln!(file, "{line}").expect("write VC_LOG");
}

fn unix_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_millis()
}

fn mode(name: &str) -> Option<String> {
    let modes = std::env::var("VC_MODE").unwrap_or_default();
    modes.split(',').find_map(|m| {
        let (key, value) = m.split_once('=').unwrap_or((m, ""));
        (key == name).then(|| value.to_owned())
    })
}

/// The child program; never returns.
pub(crate) fn main() -> ! {
    log(&format!("start {} {}", std::process::id(), unix_ms()));
    if let Some(code) = mode("crash") {
        std::process::exit(code.parse().expect("crash=N"));
    }
    if mode("grandchild").is_some() {
        // Left running on purpose: it must be gone after a restart without our help.
        #[allow(clippy::zombie_processes)]
        let grandchild = std::process::Command::new("sleep").arg("1000").spawn().expect("spawn sleep");
        log(&format!("grandchild {}", grandchild.id()));
    }
    if let Ok(port) = std::env::var("VC_PORT") {
        let listener = TcpListener::bind(("127.0.0.1", port.parse::<u16>().expect("VC_PORT"))).expect("bind VC_PORT");
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || serve(stream));
            }
        });
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(signals())
}

async fn signals() -> ! {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("TERM");
    let mut int = signal(SignalKind::interrupt()).expect("INT");
    let mut hup = signal(SignalKind::hangup()).expect("HUP");
    let mut usr1 = signal(SignalKind::user_defined1()).expect("USR1");
    let mut usr2 = signal(SignalKind::user_defined2()).expect("USR2");
    log("handlers");
    let term_code: i32 = mode("term-code").map_or(0, |c| c.parse().expect("term-code=N"));
    loop {
        let (name, stop) = tokio::select! {
            _ = term.recv() => ("TERM", true),
            _ = int.recv() => ("INT", true),
            _ = hup.recv() => ("HUP", false),
            _ = usr1.recv() => ("USR1", false),
            _ = usr2.recv() => ("USR2", false),
        };
        log(&format!("signal {name}"));
        if stop && mode("ignore-term").is_none() {
            std::process::exit(term_code);
        }
        if stop {
            log(&format!("ignored {name} {}", unix_ms()));
            std::thread::spawn(|| {
                loop {
                    std::thread::sleep(Duration::from_millis(20));
                    log(&format!("alive {}", unix_ms()));
                }
            });
        }
    }
}

fn serve(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let hung = HUNG.load(Ordering::SeqCst);
    log(&format!("request {path} hung={hung}"));
    if hung {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    if path == "/hang" {
        HUNG.store(true, Ordering::SeqCst);
    }
    if let Some(code) = path.strip_prefix("/exit/") {
        std::process::exit(code.parse().expect("/exit/N"));
    }
    let mut stream = stream;
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
}
