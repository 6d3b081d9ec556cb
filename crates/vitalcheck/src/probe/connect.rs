//! Resolve a host and open a TCP connection to it, racing addresses (happy eyeballs).
//!
//! `localhost` (and `*.localhost`, RFC 6761) resolves to `::1` and `127.0.0.1` without a
//! lookup, so a server listening on only one of them is found: waiting forever on
//! `localhost` -> `::1` is the most common complaint about other wait tools. Other names
//! go through the system resolver (`/etc/hosts`, nsswitch), as the target's own clients do.

use super::{ErrorKind, Phase, ProbeError};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until, timeout_at};

/// How long to wait on one address before also trying the next (RFC 8305 suggests 250 ms).
const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// A connected stream and what it took.
#[derive(Debug)]
pub(crate) struct Connected {
    pub(crate) stream: TcpStream,
    pub(crate) dns: Option<Duration>,
    pub(crate) connect: Duration,
}

/// Resolves `host` and connects to `port` on it before `deadline`. `shown` names the target
/// in errors. Errors: `Dns`, `Timeout(Dns)`, `Refused`, `Timeout(Connect)`, `Io`.
pub(crate) async fn connect_tcp(
    host: &str,
    port: u16,
    deadline: Instant,
    shown: &str,
) -> Result<Connected, ProbeError> {
    let (addrs, dns) = resolve(host, port, deadline, shown).await?;
    let connect_start = Instant::now();
    let stream = race(&addrs, deadline, shown).await?;
    let _ = stream.set_nodelay(true);
    Ok(Connected { stream, dns, connect: connect_start.elapsed() })
}

/// The addresses for `host`, in the order to try them, and the time the lookup took (None
/// when no lookup was needed).
pub(crate) async fn resolve(
    host: &str,
    port: u16,
    deadline: Instant,
    shown: &str,
) -> Result<(Vec<SocketAddr>, Option<Duration>), ProbeError> {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok((vec![SocketAddr::new(ip, port)], None));
    }
    let lower = bare.trim_end_matches('.').to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        let addrs = vec![
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
        ];
        return Ok((addrs, None));
    }
    let start = Instant::now();
    let lookup = tokio::net::lookup_host((bare.to_string(), port));
    let found = match timeout_at(deadline, lookup).await {
        Err(_) => {
            return Err(ProbeError::new(
                ErrorKind::Timeout(Phase::Dns),
                shown,
                format!("no answer resolving {bare:?}"),
            ));
        }
        Ok(Err(e)) => {
            return Err(ProbeError::new(ErrorKind::Dns, shown, format!("cannot resolve {bare:?}")).with_source(e));
        }
        Ok(Ok(found)) => found,
    };
    let addrs = interleave_families(found.collect());
    if addrs.is_empty() {
        return Err(ProbeError::new(ErrorKind::Dns, shown, format!("{bare:?} has no addresses")));
    }
    Ok((addrs, Some(start.elapsed())))
}

/// Alternates address families, starting with the family of the first answer (RFC 8305 §4).
fn interleave_families(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let Some(first) = addrs.first() else { return addrs };
    let first_is_v6 = first.is_ipv6();
    let (mut preferred, mut other): (Vec<_>, Vec<_>) = addrs.into_iter().partition(|a| a.is_ipv6() == first_is_v6);
    preferred.dedup();
    other.dedup();
    let mut out = Vec::with_capacity(preferred.len() + other.len());
    let (mut p, mut o) = (preferred.into_iter(), other.into_iter());
    loop {
        match (p.next(), o.next()) {
            (None, None) => break,
            (a, b) => out.extend(a.into_iter().chain(b)),
        }
    }
    out
}

/// Connects to the first address that answers: starts the next attempt when the previous
/// one fails or after [`ATTEMPT_DELAY`], whichever comes first.
async fn race(addrs: &[SocketAddr], deadline: Instant, shown: &str) -> Result<TcpStream, ProbeError> {
    if let [addr] = addrs {
        // Nothing to race: connect in place, without a task (most targets, and every
        // probe of a monitor, have one address).
        return match tokio::time::timeout_at(deadline, TcpStream::connect(*addr)).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(e)) => Err(connect_failed(vec![(*addr, e)], shown)),
            Err(_) => {
                Err(ProbeError::new(ErrorKind::Timeout(Phase::Connect), shown, format!("no connection to {addr}")))
            }
        };
    }
    let mut attempts: JoinSet<(SocketAddr, io::Result<TcpStream>)> = JoinSet::new();
    let mut next = 0;
    let mut failures: Vec<(SocketAddr, io::Error)> = Vec::new();
    let mut next_start = Instant::now();
    loop {
        if next < addrs.len() && (attempts.is_empty() || Instant::now() >= next_start) {
            let addr = addrs[next];
            attempts.spawn(async move { (addr, TcpStream::connect(addr).await) });
            next += 1;
            next_start = Instant::now() + ATTEMPT_DELAY;
        }
        tokio::select! {
            joined = attempts.join_next(), if !attempts.is_empty() => match joined {
                Some(Ok((_, Ok(stream)))) => return Ok(stream),
                Some(Ok((addr, Err(e)))) => {
                    failures.push((addr, e));
                    if attempts.is_empty() && next >= addrs.len() {
                        return Err(connect_failed(failures, shown));
                    }
                    // A failure starts the next attempt at once.
                    next_start = Instant::now();
                }
                Some(Err(join_err)) => {
                    return Err(ProbeError::new(ErrorKind::Io, shown, "connect task failed").with_source(join_err));
                }
                None => {}
            },
            () = sleep_until(next_start), if next < addrs.len() => {}
            () = sleep_until(deadline) => {
                let tried: Vec<String> = addrs[..next].iter().map(ToString::to_string).collect();
                return Err(ProbeError::new(
                    ErrorKind::Timeout(Phase::Connect),
                    shown,
                    format!("no connection to {}", tried.join(" or ")),
                ));
            }
        }
    }
}

/// The error for a connect in which every address failed: `Refused` if any address refused
/// (nothing listening there), otherwise the kind of the last failure.
fn connect_failed(failures: Vec<(SocketAddr, io::Error)>, shown: &str) -> ProbeError {
    let refused = failures.iter().any(|(_, e)| e.kind() == io::ErrorKind::ConnectionRefused);
    let addrs: Vec<String> = failures.iter().map(|(a, _)| a.to_string()).collect();
    let addrs = addrs.join(" or ");
    let last = failures.into_iter().last().map(|(_, e)| e);
    let (kind, detail) = if refused {
        (ErrorKind::Refused, format!("nothing listening on {addrs}"))
    } else if last.as_ref().is_some_and(|e| e.kind() == io::ErrorKind::TimedOut) {
        (ErrorKind::Timeout(Phase::Connect), format!("no connection to {addrs}"))
    } else {
        (ErrorKind::Io, format!("cannot connect to {addrs}"))
    };
    let err = ProbeError::new(kind, shown, detail);
    match last {
        Some(e) => err.with_source(e),
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn interleaves_starting_with_first_family() {
        let got = interleave_families(vec![sa("[::1]:1"), sa("[::2]:1"), sa("127.0.0.1:1"), sa("10.0.0.1:1")]);
        assert_eq!(got, vec![sa("[::1]:1"), sa("127.0.0.1:1"), sa("[::2]:1"), sa("10.0.0.1:1")]);
    }

    #[tokio::test]
    async fn localhost_needs_no_lookup_and_tries_both_families() {
        let (addrs, dns) = resolve("localhost", 80, Instant::now() + Duration::from_secs(1), "t").await.unwrap();
        assert_eq!(dns, None);
        assert_eq!(addrs, vec![sa("[::1]:80"), sa("127.0.0.1:80")]);
    }

    #[tokio::test]
    async fn reaches_ipv4_only_listener_through_localhost() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = connect_tcp("localhost", port, Instant::now() + Duration::from_secs(5), "t").await.unwrap();
        assert_eq!(got.stream.peer_addr().unwrap(), sa(&format!("127.0.0.1:{port}")));
    }

    #[tokio::test]
    async fn refused_when_nothing_listens() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let err = connect_tcp("127.0.0.1", port, Instant::now() + Duration::from_secs(5), "t").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Refused);
        assert!(err.to_string().contains(&format!("nothing listening on 127.0.0.1:{port}")), "{err}");
    }

    #[tokio::test]
    async fn unresolvable_name_is_dns() {
        let err =
            connect_tcp("no-such-host.invalid", 80, Instant::now() + Duration::from_secs(5), "t").await.unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Dns | ErrorKind::Timeout(Phase::Dns)), "{err}");
    }
}
