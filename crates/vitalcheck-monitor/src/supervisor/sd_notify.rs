//! systemd's notify protocol: `READY=1`, `WATCHDOG=1`, `STATUS=...` as datagrams to the
//! socket named by `$NOTIFY_SOCKET` (a path, or `@name` for an abstract socket).

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::Duration;

/// A connection to systemd's notify socket.
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    watchdog: Option<Duration>,
}

impl Notifier {
    /// From `$NOTIFY_SOCKET` and `$WATCHDOG_USEC` (`None` when not run by systemd with
    /// `Type=notify`). `WATCHDOG_PID`, when set, must be this process.
    pub fn from_env() -> io::Result<Option<Notifier>> {
        let Some(path) = std::env::var_os("NOTIFY_SOCKET") else { return Ok(None) };
        let socket = UnixDatagram::unbound()?;
        let bytes = path.as_encoded_bytes();
        if let Some(name) = bytes.strip_prefix(b"@") {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            socket.connect_addr(&addr)?;
        } else {
            socket.connect(PathBuf::from(path))?;
        }
        let for_us = std::env::var("WATCHDOG_PID").ok().is_none_or(|p| p == std::process::id().to_string());
        let watchdog = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|&usec| usec > 0 && for_us)
            .map(Duration::from_micros);
        Ok(Some(Notifier { socket, watchdog }))
    }

    /// How often to send `WATCHDOG=1`: half of `$WATCHDOG_USEC`, if set.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.map(|w| w / 2)
    }

    /// Sends one message, e.g. `READY=1\nSTATUS=child ready`. Newlines in a status value
    /// are replaced by spaces by [`status`](Self::status).
    pub fn send(&self, message: &str) -> io::Result<()> {
        self.socket.send(message.as_bytes()).map(drop)
    }

    /// `STATUS=text`.
    pub fn status(&self, text: &str) -> io::Result<()> {
        self.send(&format!("STATUS={}", text.replace('\n', " ")))
    }
}
