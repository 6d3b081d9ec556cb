//! The `exec` probe: run a command; exit 0 is healthy.
//!
//! The command runs without a shell, with stdin from `/dev/null` and stdout and stderr
//! captured up to [`ExecProbe::output_limit`] bytes each (the rest is read and dropped, so
//! the command never blocks on a full pipe). It leads its own process group: on timeout the
//! whole group is killed (grandchildren included), and when the command exits whatever it
//! left running in its group is killed too, so background children neither leak nor hold
//! the output pipes open.

use super::{ErrorKind, Observation, Phase, ProbeError};
use rustix::process::{Pid, Signal, kill_process_group};
use std::fmt;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep_until, timeout_at};

/// The default of [`ExecProbe::output_limit`]: 4 KiB.
pub const DEFAULT_OUTPUT_LIMIT: usize = 4096;

/// After the command exits, how long its output pipes may stay open (held by a process
/// that left its group) before the probe stops reading them.
const PIPE_GRACE: Duration = Duration::from_millis(100);

/// After killing the group on timeout, how long to wait for the command to be reaped.
const REAP_GRACE: Duration = Duration::from_secs(1);

/// At most this many characters of an output line are shown in a message.
const LINE_LIMIT: usize = 200;

/// Options of an exec probe.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecProbe {
    /// The program and its arguments (no shell).
    pub argv: Vec<String>,
    /// At most this many bytes of stdout and stderr are kept for the detail. Default: 4 KiB.
    pub output_limit: usize,
}

impl ExecProbe {
    /// A probe running `argv`.
    pub fn new(argv: Vec<String>) -> Self {
        ExecProbe { argv, output_limit: DEFAULT_OUTPUT_LIMIT }
    }

    /// Keeps at most `limit` bytes of stdout and of stderr.
    pub fn with_output_limit(mut self, limit: usize) -> Self {
        self.output_limit = limit;
        self
    }

    pub(crate) async fn run(&self, deadline: Instant) -> Result<Observation, ProbeError> {
        let start = Instant::now();
        let Some((program, args)) = self.argv.split_first() else {
            return Err(ProbeError::new(ErrorKind::Io, self.to_string(), "the command is empty"));
        };
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| self.spawn_error(program, e))?;
        // The child leads its own group, so its pid is the group id.
        let group = child.id().and_then(|id| i32::try_from(id).ok()).and_then(Pid::from_raw);

        let mut stdout = Capture::new(self.output_limit);
        let mut stderr = Capture::new(self.output_limit);
        let mut out_pipe = child.stdout.take();
        let mut err_pipe = child.stderr.take();
        let mut out_buf = [0u8; 8192];
        let mut err_buf = [0u8; 8192];
        let mut status: Option<ExitStatus> = None;
        let mut read_until = deadline;

        while status.is_none() || out_pipe.is_some() || err_pipe.is_some() {
            tokio::select! {
                n = read_some(&mut out_pipe, &mut out_buf), if out_pipe.is_some() => match n {
                    Ok(n) if n > 0 => stdout.push(&out_buf[..n]),
                    _ => out_pipe = None,
                },
                n = read_some(&mut err_pipe, &mut err_buf), if err_pipe.is_some() => match n {
                    Ok(n) if n > 0 => stderr.push(&err_buf[..n]),
                    _ => err_pipe = None,
                },
                exited = child.wait(), if status.is_none() => match exited {
                    Ok(exited) => {
                        status = Some(exited);
                        // Whatever the command left running in its group must not outlive it.
                        kill_group(group);
                        read_until = deadline.min(Instant::now() + PIPE_GRACE);
                    }
                    Err(e) => {
                        kill_group(group);
                        return Err(ProbeError::new(ErrorKind::Io, self.to_string(), "cannot wait for the command")
                            .with_source(e));
                    }
                },
                () = sleep_until(read_until) => {
                    if status.is_some() {
                        // Something that left the group still holds the pipes: stop reading.
                        break;
                    }
                    return Err(self.timed_out(child, group, start, deadline, &stdout, &stderr).await);
                }
            }
        }

        let Some(status) = status else {
            return Err(ProbeError::new(ErrorKind::Io, self.to_string(), "the command did not finish"));
        };
        self.judge(status, start.elapsed(), &stdout, &stderr)
    }

    /// The observation or error for a command that exited with `status`.
    fn judge(
        &self,
        status: ExitStatus,
        elapsed: Duration,
        stdout: &Capture,
        stderr: &Capture,
    ) -> Result<Observation, ProbeError> {
        if status.success() {
            let detail = match stdout.first_line() {
                Some(line) => format!("exit 0: {line}"),
                None => "exit 0".to_string(),
            };
            return Ok(Observation::healthy(elapsed, detail));
        }
        let (code, what) = match (status.code(), status.signal()) {
            (Some(code), _) => (code, format!("exit {code}")),
            (None, Some(signal)) => (128 + signal, format!("killed by signal {signal}")),
            (None, None) => (-1, "ended without an exit code".to_string()),
        };
        let detail = with_output(what, stdout, stderr);
        Err(ProbeError::new(ErrorKind::Exit(code), self.to_string(), detail))
    }

    /// Kills the group of a command that ran out of time, reaps it, and builds the error.
    async fn timed_out(
        &self,
        mut child: Child,
        group: Option<Pid>,
        start: Instant,
        deadline: Instant,
        stdout: &Capture,
        stderr: &Capture,
    ) -> ProbeError {
        kill_group(group);
        // Also the child itself, in case its group could not be signalled.
        let _ = child.start_kill();
        // Reap it now rather than leave it to the runtime; SIGKILL makes this quick.
        let _ = timeout_at(Instant::now() + REAP_GRACE, child.wait()).await;
        let ran = deadline.saturating_duration_since(start);
        let what = format!("still running after {ran:?}; killed its process group");
        ProbeError::new(ErrorKind::Timeout(Phase::Exec), self.to_string(), with_output(what, stdout, stderr))
    }

    /// The error for a command that could not be started.
    fn spawn_error(&self, program: &str, e: io::Error) -> ProbeError {
        let why = match e.kind() {
            io::ErrorKind::NotFound => "not found".to_string(),
            io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        ProbeError::new(ErrorKind::Io, self.to_string(), format!("cannot run {program:?}: {why}")).with_source(e)
    }
}

/// Sends SIGKILL to the process group, if known. A group that is already gone is fine.
fn kill_group(group: Option<Pid>) {
    if let Some(group) = group {
        let _ = kill_process_group(group, Signal::KILL);
    }
}

/// Reads from the pipe if it is still open (callers guard on `is_some`).
async fn read_some<R: AsyncRead + Unpin>(pipe: &mut Option<R>, buf: &mut [u8]) -> io::Result<usize> {
    match pipe {
        Some(pipe) => pipe.read(buf).await,
        None => Ok(0),
    }
}

/// `what`, followed by the last line of stderr (or of stdout when stderr is empty).
fn with_output(what: String, stdout: &Capture, stderr: &Capture) -> String {
    match stderr.last_line().map(|l| ("stderr", l)).or_else(|| stdout.last_line().map(|l| ("stdout", l))) {
        Some((name, line)) => format!("{what}; {name}: {line}"),
        None => what,
    }
}

/// The first `limit` bytes of a stream, and how many bytes it had in all.
#[derive(Debug)]
struct Capture {
    kept: Vec<u8>,
    limit: usize,
    total: u64,
}

impl Capture {
    fn new(limit: usize) -> Self {
        Capture { kept: Vec::new(), limit, total: 0 }
    }

    fn push(&mut self, bytes: &[u8]) {
        let room = self.limit.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.total = self.total.saturating_add(bytes.len() as u64);
    }

    fn truncated(&self) -> bool {
        self.total > self.kept.len() as u64
    }

    /// The kept bytes as text (lossy UTF-8).
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.kept).into_owned()
    }

    /// The first non-blank line, trimmed and shortened.
    fn first_line(&self) -> Option<String> {
        self.text().lines().map(str::trim).find(|l| !l.is_empty()).map(shorten)
    }

    /// The last non-blank line of what was kept, trimmed and shortened; marked when the
    /// output went on beyond the limit.
    fn last_line(&self) -> Option<String> {
        let text = self.text();
        let line = text.lines().map(str::trim).rfind(|l| !l.is_empty()).map(shorten)?;
        Some(if self.truncated() { format!("{line} (output truncated at {} bytes)", self.limit) } else { line })
    }
}

/// `line` cut to [`LINE_LIMIT`] characters.
fn shorten(line: &str) -> String {
    match line.char_indices().nth(LINE_LIMIT) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

impl fmt::Display for ExecProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exec:{}", shell_words::join(&self.argv))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_keeps_only_the_limit() {
        let mut c = Capture::new(5);
        c.push(b"abc");
        c.push(b"defgh");
        assert_eq!(c.kept, b"abcde");
        assert_eq!(c.total, 8);
        assert!(c.truncated());
        assert_eq!(c.last_line().as_deref(), Some("abcde (output truncated at 5 bytes)"));
    }

    #[test]
    fn lines_are_trimmed_lossy_and_short() {
        let mut c = Capture::new(4096);
        c.push(b"\n  first \xff\nsecond\n\n  last  \n\n");
        assert_eq!(c.first_line().as_deref(), Some("first \u{fffd}"));
        assert_eq!(c.last_line().as_deref(), Some("last"));
        let long = "x".repeat(LINE_LIMIT + 10);
        assert_eq!(shorten(&long), format!("{}…", "x".repeat(LINE_LIMIT)));
        assert_eq!(Capture::new(10).first_line(), None);
    }

    #[test]
    fn output_prefers_stderr() {
        let mut out = Capture::new(100);
        let mut err = Capture::new(100);
        out.push(b"out\n");
        assert_eq!(with_output("exit 1".into(), &out, &err), "exit 1; stdout: out");
        err.push(b"err\n");
        assert_eq!(with_output("exit 1".into(), &out, &err), "exit 1; stderr: err");
    }

    #[tokio::test]
    async fn empty_argv_is_io() {
        let err = ExecProbe::new(Vec::new()).run(Instant::now() + Duration::from_secs(1)).await.expect_err("fails");
        assert_eq!(err.kind(), ErrorKind::Io);
    }

    #[tokio::test]
    async fn killed_by_signal_is_128_plus_n() {
        let probe = ExecProbe::new(vec!["sh".into(), "-c".into(), "kill -TERM $$".into()]);
        let err = probe.run(Instant::now() + Duration::from_secs(10)).await.expect_err("fails");
        assert_eq!(err.kind(), ErrorKind::Exit(128 + 15), "{err}");
        assert!(err.detail().contains("killed by signal 15"), "{err}");
    }
}
