//! The `tcp` probe: connect; optionally send bytes and expect a reply prefix.
//!
//! The connection goes through the shared resolver and happy-eyeballs connect (so
//! `localhost` finds a server on `::1` or `127.0.0.1`). With [`TcpProbe::send`] set, the
//! bytes are written once connected; with [`TcpProbe::expect`] set, the reply is read until
//! it holds at least that many bytes and must start with them. Reading is bounded: a few
//! bytes more than the expectation are ever buffered, whatever the peer sends.

use super::connect::connect_tcp;
use super::{ErrorKind, Observation, Phase, Phases, ProbeError};
use std::fmt;
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

/// Bytes read beyond the expectation in one read, so a mismatch shows a little more of the
/// reply than the expected length.
const READ_SLACK: usize = 64;

/// At most this many bytes of expected / received data are shown in a message.
const SHOW_LIMIT: usize = 64;

/// Options of a TCP probe.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TcpProbe {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Bytes to send once connected.
    pub send: Option<Vec<u8>>,
    /// The reply must start with these bytes.
    pub expect: Option<Vec<u8>>,
}

impl TcpProbe {
    /// A connect-only probe of `host:port`.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        TcpProbe { host: host.into(), port, send: None, expect: None }
    }

    /// Sends `bytes` once connected.
    ///
    /// ```
    /// use vitalcheck::probe::TcpProbe;
    /// let probe = TcpProbe::new("127.0.0.1", 6379).with_send("PING\r\n").with_expect("+PONG");
    /// assert_eq!(probe.send.as_deref(), Some(&b"PING\r\n"[..]));
    /// ```
    pub fn with_send(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.send = Some(bytes.into());
        self
    }

    /// Requires the reply to start with `bytes`.
    pub fn with_expect(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.expect = Some(bytes.into());
        self
    }

    pub(crate) async fn run(&self, deadline: Instant) -> Result<Observation, ProbeError> {
        let start = Instant::now();
        let shown = self.to_string();
        let connected = connect_tcp(&self.host, self.port, deadline, &shown).await?;
        let mut phases = Phases { dns: connected.dns, connect: Some(connected.connect), ..Phases::default() };
        let mut stream = connected.stream;
        let peer = match stream.peer_addr() {
            Ok(addr) => addr.to_string(),
            Err(_) => format!("{}:{}", self.host, self.port),
        };
        let mut detail = format!("connected to {peer}");

        let exchange_start = Instant::now();
        if let Some(send) = &self.send {
            self.send_all(&mut stream, send, &peer, deadline).await?;
            if self.expect.is_none() {
                detail.push_str(&format!(", sent {} bytes", send.len()));
            }
        }
        if let Some(expect) = &self.expect {
            let first_byte = self.read_expected(&mut stream, expect, &peer, deadline, exchange_start).await?;
            phases.first_byte = first_byte;
            detail.push_str(", reply matched");
        }
        Ok(Observation::healthy(start.elapsed(), detail).with_phases(phases))
    }

    /// Writes `bytes` before `deadline`.
    async fn send_all(
        &self,
        stream: &mut TcpStream,
        bytes: &[u8],
        peer: &str,
        deadline: Instant,
    ) -> Result<(), ProbeError> {
        match timeout_at(deadline, stream.write_all(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                let (kind, what) = io_kind(&e);
                Err(ProbeError::new(kind, self.to_string(), format!("{what} while sending to {peer}")).with_source(e))
            }
            Err(_) => Err(ProbeError::new(
                ErrorKind::Timeout(Phase::FirstByte),
                self.to_string(),
                format!("{peer} did not take the {} bytes to send", bytes.len()),
            )),
        }
    }

    /// Reads until the reply holds `expect.len()` bytes (or mismatches, ends, or the deadline
    /// passes) and checks it starts with `expect`. Returns the time to the first byte.
    async fn read_expected(
        &self,
        stream: &mut TcpStream,
        expect: &[u8],
        peer: &str,
        deadline: Instant,
        exchange_start: Instant,
    ) -> Result<Option<std::time::Duration>, ProbeError> {
        let mut buf = vec![0u8; expect.len() + READ_SLACK];
        let mut filled = 0;
        let mut first_byte = None;
        while filled < expect.len() {
            let n = match timeout_at(deadline, stream.read(&mut buf[filled..])).await {
                Ok(Ok(n)) => n,
                Ok(Err(e)) => {
                    let (kind, what) = io_kind(&e);
                    return Err(ProbeError::new(
                        kind,
                        self.to_string(),
                        format!("{what} after {filled} bytes of the reply from {peer}"),
                    )
                    .with_source(e));
                }
                Err(_) => {
                    let detail = if filled == 0 {
                        format!("no reply from {peer}")
                    } else {
                        format!(
                            "reply from {peer} incomplete: got {filled} of {} bytes, {}",
                            expect.len(),
                            show(&buf[..filled])
                        )
                    };
                    return Err(ProbeError::new(ErrorKind::Timeout(Phase::FirstByte), self.to_string(), detail));
                }
            };
            if n == 0 {
                let detail = if filled == 0 {
                    format!("{peer} closed the connection without a reply")
                } else {
                    format!("{peer} closed after {filled} bytes, {}", show(&buf[..filled]))
                };
                return Err(ProbeError::new(ErrorKind::Protocol, self.to_string(), detail));
            }
            if first_byte.is_none() {
                first_byte = Some(exchange_start.elapsed());
            }
            filled += n;
            let common = filled.min(expect.len());
            if buf[..common] != expect[..common] {
                return Err(ProbeError::new(
                    ErrorKind::Expectation,
                    self.to_string(),
                    format!("expected reply starting with {}, got {}", show(expect), show(&buf[..filled])),
                ));
            }
        }
        Ok(first_byte)
    }
}

/// The kind of an I/O error on an established connection: the peer resetting or closing
/// it is a protocol failure; anything else is `Io`.
fn io_kind(e: &io::Error) -> (ErrorKind, &'static str) {
    match e.kind() {
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => (ErrorKind::Protocol, "connection reset"),
        io::ErrorKind::BrokenPipe => (ErrorKind::Protocol, "connection closed"),
        _ => (ErrorKind::Io, "I/O error"),
    }
}

/// `bytes` quoted with non-printable bytes escaped, truncated to [`SHOW_LIMIT`] bytes.
fn show(bytes: &[u8]) -> String {
    let cut = bytes.len().min(SHOW_LIMIT);
    let more = if bytes.len() > cut { "…" } else { "" };
    format!("\"{}\"{more}", bytes[..cut].escape_ascii())
}

impl fmt::Display for TcpProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "tcp://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "tcp://{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_escapes_and_truncates() {
        assert_eq!(show(b"+PONG\r\n"), r#""+PONG\r\n""#);
        assert_eq!(show(b"a\"b\x00"), r#""a\"b\x00""#);
        let long = vec![b'x'; 100];
        assert_eq!(show(&long), format!("\"{}\"…", "x".repeat(SHOW_LIMIT)));
    }

    #[test]
    fn builders_set_send_and_expect() {
        let p = TcpProbe::new("::1", 6379).with_send(&b"PING\r\n"[..]).with_expect("+PONG");
        assert_eq!(p.send, Some(b"PING\r\n".to_vec()));
        assert_eq!(p.expect, Some(b"+PONG".to_vec()));
        assert_eq!(p.to_string(), "tcp://[::1]:6379");
    }

    #[tokio::test]
    async fn stops_reading_once_the_expectation_is_met() {
        use tokio::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let peer = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            // Far more than the expectation: the probe reads only what it needs.
            let _ = s.write_all(&vec![b'+'; 1 << 20]).await;
        });
        let probe = TcpProbe::new("127.0.0.1", port).with_expect("++");
        let obs = probe.run(Instant::now() + std::time::Duration::from_secs(5)).await.expect("healthy");
        assert!(obs.detail.ends_with(", reply matched"), "{}", obs.detail);
        assert!(obs.phases.first_byte.is_some());
        drop(peer);
    }
}
