//! The SOCKS5 client handshake (RFC 1928), with user name and password authentication
//! (RFC 1929). Every read has a fixed, small size.
//!
//! Errors: a peer that does not speak SOCKS5 or closes mid-handshake is `Protocol`;
//! credentials rejected, or required but not given, are `Expectation`; a `CONNECT` reply
//! other than success is `Protocol` with the reply's name.

use super::super::connect::resolve;
use super::super::{ErrorKind, ProbeError};
use super::Credentials;
use super::tunnel::io_error;
use std::net::IpAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const USER_PASS: u8 = 2;
const NO_ACCEPTABLE: u8 = 0xff;

/// Where the tunnel should go: an address, or a name for the proxy to resolve.
#[derive(Debug)]
pub(super) enum Dest {
    Ip(IpAddr, u16),
    Name(String, u16),
}

impl Dest {
    /// `host:port` as sent: IP literals as addresses; names as names with `remote_dns`
    /// (socks5h), otherwise resolved here (first address).
    pub(super) async fn new(
        host: &str,
        port: u16,
        remote_dns: bool,
        deadline: Instant,
        shown: &str,
    ) -> Result<Self, ProbeError> {
        let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(Dest::Ip(ip, port));
        }
        if remote_dns {
            if bare.len() > 255 {
                return Err(ProbeError::new(ErrorKind::Protocol, shown, "the test host name is too long for SOCKS5"));
            }
            return Ok(Dest::Name(bare.to_string(), port));
        }
        let (addrs, _) = resolve(bare, port, deadline, shown).await?;
        let addr = addrs[0]; // resolve() never returns an empty list.
        Ok(Dest::Ip(addr.ip(), port))
    }

    /// ATYP, address and port of a request.
    fn encode(&self, out: &mut Vec<u8>) {
        let port = match self {
            Dest::Ip(IpAddr::V4(ip), port) => {
                out.push(1);
                out.extend_from_slice(&ip.octets());
                port
            }
            Dest::Ip(IpAddr::V6(ip), port) => {
                out.push(4);
                out.extend_from_slice(&ip.octets());
                port
            }
            Dest::Name(name, port) => {
                out.push(3);
                out.push(name.len() as u8); // checked in new(): at most 255
                out.extend_from_slice(name.as_bytes());
                port
            }
        };
        out.extend_from_slice(&port.to_be_bytes());
    }
}

/// Greets the proxy, authenticates if it asks, and asks for a tunnel to `dest`.
pub(super) async fn connect(
    stream: &mut TcpStream,
    dest: &Dest,
    credentials: Option<&Credentials>,
    shown: &str,
) -> Result<(), ProbeError> {
    let protocol = |detail: &str| ProbeError::new(ErrorKind::Protocol, shown, detail.to_string());
    let greeting: &[u8] =
        if credentials.is_some() { &[VERSION, 2, NO_AUTH, USER_PASS] } else { &[VERSION, 1, NO_AUTH] };
    stream.write_all(greeting).await.map_err(|e| io_error(e, "the SOCKS5 greeting", shown))?;
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice).await.map_err(|e| io_error(e, "the SOCKS5 greeting", shown))?;
    if choice[0] != VERSION {
        return Err(protocol("the proxy does not speak SOCKS5"));
    }
    match (choice[1], credentials) {
        (NO_AUTH, _) => {}
        (USER_PASS, Some(credentials)) => authenticate(stream, credentials, shown).await?,
        (NO_ACCEPTABLE, None) => {
            let detail = "the SOCKS5 proxy requires authentication (no credentials given)";
            return Err(ProbeError::new(ErrorKind::Expectation, shown, detail));
        }
        (NO_ACCEPTABLE, Some(_)) => {
            let detail = "the SOCKS5 proxy accepts neither no authentication nor user name and password";
            return Err(ProbeError::new(ErrorKind::Expectation, shown, detail));
        }
        (other, _) => return Err(protocol(&format!("the SOCKS5 proxy chose a method not offered ({other})"))),
    }
    request(stream, dest, shown).await
}

/// RFC 1929: user name and password; any status other than 0 is a rejection.
async fn authenticate(stream: &mut TcpStream, credentials: &Credentials, shown: &str) -> Result<(), ProbeError> {
    let (Ok(user_len), Ok(pass_len)) = (u8::try_from(credentials.user.len()), u8::try_from(credentials.password.len()))
    else {
        let detail = "SOCKS5 user names and passwords are at most 255 bytes";
        return Err(ProbeError::new(ErrorKind::Expectation, shown, detail));
    };
    let mut msg = vec![1, user_len];
    msg.extend_from_slice(&credentials.user);
    msg.push(pass_len);
    msg.extend_from_slice(&credentials.password);
    let what = "SOCKS5 authentication";
    stream.write_all(&msg).await.map_err(|e| io_error(e, what, shown))?;
    let mut status = [0u8; 2];
    stream.read_exact(&mut status).await.map_err(|e| io_error(e, what, shown))?;
    if status[1] != 0 {
        return Err(ProbeError::new(ErrorKind::Expectation, shown, "SOCKS5 authentication rejected"));
    }
    Ok(())
}

/// The `CONNECT` request and its reply (whose bound address is read and ignored).
async fn request(stream: &mut TcpStream, dest: &Dest, shown: &str) -> Result<(), ProbeError> {
    let what = "the SOCKS5 CONNECT";
    let mut msg = vec![VERSION, 1, 0];
    dest.encode(&mut msg);
    stream.write_all(&msg).await.map_err(|e| io_error(e, what, shown))?;
    let mut head = [0u8; 4];
    stream.read_exact(&mut head).await.map_err(|e| io_error(e, what, shown))?;
    if head[0] != VERSION {
        return Err(ProbeError::new(ErrorKind::Protocol, shown, "the proxy's CONNECT reply is not SOCKS5"));
    }
    if head[1] != 0 {
        let detail = format!("SOCKS5 CONNECT failed: {} (reply {})", reply_name(head[1]), head[1]);
        return Err(ProbeError::new(ErrorKind::Protocol, shown, detail));
    }
    let addr_len = match head[3] {
        1 => 4,
        4 => 16,
        3 => {
            let mut len = [0u8; 1];
            stream.read_exact(&mut len).await.map_err(|e| io_error(e, what, shown))?;
            usize::from(len[0])
        }
        _ => return Err(ProbeError::new(ErrorKind::Protocol, shown, "bad address type in the SOCKS5 reply")),
    };
    let mut rest = [0u8; 257];
    stream.read_exact(&mut rest[..addr_len + 2]).await.map_err(|e| io_error(e, what, shown))?;
    Ok(())
}

/// The name of a SOCKS5 reply code (RFC 1928 §6).
fn reply_name(code: u8) -> &'static str {
    match code {
        1 => "general failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown reply",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_destinations() {
        let mut out = Vec::new();
        Dest::Name("h.example".into(), 80).encode(&mut out);
        assert_eq!(out, b"\x03\x09h.example\x00\x50");
        out.clear();
        Dest::Ip("127.0.0.1".parse().unwrap(), 443).encode(&mut out);
        assert_eq!(out, [1, 127, 0, 0, 1, 1, 187]);
    }

    #[test]
    fn reply_names() {
        assert_eq!(reply_name(5), "connection refused");
        assert_eq!(reply_name(99), "unknown reply");
    }
}
