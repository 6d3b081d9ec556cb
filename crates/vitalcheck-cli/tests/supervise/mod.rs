//! Running the real `vitalcheck supervise` over the test program ([`child`]).

pub(crate) mod child;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Every wait in these tests is bounded by this.
pub(crate) const BOUND: Duration = Duration::from_secs(30);

/// A free loopback port.
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// The argv that runs this test binary as the child program.
pub(crate) fn child_argv() -> Vec<String> {
    let exe = std::env::current_exe().expect("current exe");
    vec![exe.display().to_string(), "child_program".into(), "--exact".into(), "--nocapture".into()]
}

/// `vitalcheck supervise` running, its stderr read line by line.
pub(crate) struct Supervise {
    process: Child,
    lines: mpsc::Receiver<String>,
    /// Every stderr line read so far.
    pub(crate) seen: Vec<String>,
    /// The child program's log.
    pub(crate) log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Supervise {
    /// Starts `vitalcheck supervise FLAGS -- <child program>` with the child's `VC_*` env.
    pub(crate) fn start(flags: &[&str], env: &[(&str, &str)]) -> Supervise {
        Self::start_with(flags, env, child_argv(), |_| {})
    }

    /// Like [`start`](Self::start) with any command and a hook on the `Command`.
    pub(crate) fn start_with(
        flags: &[&str],
        env: &[(&str, &str)],
        argv: Vec<String>,
        hook: impl FnOnce(&mut Command),
    ) -> Supervise {
        let mut args: Vec<String> = vec!["supervise".into()];
        args.extend(flags.iter().map(|f| (*f).to_owned()));
        args.push("--".into());
        args.extend(argv);
        Self::spawn(args, env, hook)
    }

    /// `vitalcheck ARGS` (any subcommand) with the child's `VC_*` env.
    pub(crate) fn spawn(args: Vec<String>, env: &[(&str, &str)], hook: impl FnOnce(&mut Command)) -> Supervise {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("child.log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_vitalcheck"));
        command.args(args);
        command.env("VC_CHILD", "1").env("VC_LOG", &log).envs(env.iter().copied());
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        hook(&mut command);
        let mut process = command.spawn().expect("spawn vitalcheck supervise");
        let stderr = process.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[supervise] {line}");
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Supervise { process, lines, seen: Vec::new(), log, _dir: dir }
    }

    /// The pid of `vitalcheck supervise`.
    pub(crate) fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Waits for a stderr line containing `needle`; returns it and when it was read.
    pub(crate) fn wait_for(&mut self, needle: &str) -> (String, Instant) {
        let deadline = Instant::now() + BOUND;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return (line, Instant::now());
                    }
                }
                Err(_) => panic!("no line with {needle:?} within {BOUND:?}; seen:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// Lines of the child's log.
    pub(crate) fn child_log(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log).unwrap_or_default().lines().map(str::to_owned).collect()
    }

    /// Waits until the child's log has a line containing `needle`.
    pub(crate) fn wait_log(&self, needle: &str) -> String {
        poll(|| self.child_log().into_iter().find(|l| l.contains(needle)), &format!("child log line {needle:?}"))
    }

    /// Sends `signal` to `vitalcheck supervise`.
    pub(crate) fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(i32::try_from(self.pid()).expect("pid")).expect("pid");
        rustix::process::kill_process(pid, signal).expect("kill");
    }

    /// Waits for it to exit (bounded); the rest of stderr is kept in `seen`.
    pub(crate) fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + BOUND;
        loop {
            if let Some(status) = self.process.try_wait().expect("try_wait") {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
                    self.seen.push(line);
                }
                return status;
            }
            assert!(Instant::now() < deadline, "vitalcheck supervise did not exit; seen:\n{}", self.seen.join("\n"));
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Supervise {
    fn drop(&mut self) {
        if let Ok(None) = self.process.try_wait() {
            // TERM stops the child too (grace from the test's flags); then make sure.
            self.signal(rustix::process::Signal::TERM);
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.process.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.process.kill();
            let _ = self.process.wait();
        }
    }
}

/// Polls `f` until it gives `Some` (bounded).
pub(crate) fn poll<T>(mut f: impl FnMut() -> Option<T>, what: &str) -> T {
    let deadline = Instant::now() + BOUND;
    loop {
        if let Some(value) = f() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One HTTP/1.1 GET on loopback: (status, body). `None` if the connection fails.
pub(crate) fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Some((status, body))
}

/// Whether a process exists and is not a zombie.
pub(crate) fn alive(pid: u32) -> bool {
    std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| !rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

/// The children of `pid` (all its threads), from /proc.
pub(crate) fn children_of(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Vec::new() };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|text| text.split_whitespace().filter_map(|p| p.parse().ok()).collect::<Vec<u32>>())
        .collect()
}

/// Whether `pid` is a zombie.
pub(crate) fn zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}
