//! [`Target`]: one thing to probe, parsed from a URL-like string.

use super::{ExecProbe, HttpProbe, IpcMode, ProxyProbe, TcpProbe, UnixProbe};
use crate::redact::redact_str;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use url::Url;

/// One thing to probe, with the options of its kind.
///
/// Parsed from a string ([`FromStr`]):
///
/// | input | kind |
/// |---|---|
/// | `http://host[:port]/path`, `https://…` | [`HttpProbe`] |
/// | `tcp://host:port`, `host:port`, `[::1]:port` | [`TcpProbe`] |
/// | `unix:///run/app.sock[?check=liveness\|readiness\|full\|none]` | [`UnixProbe`] (IPC protocol: see [`IpcMode`](super::IpcMode)) |
/// | `exec:pg_isready -h db` | [`ExecProbe`] (argv split with shell-words rules, no shell) |
/// | `proxy+http://[u:p@]host:port[?url=TEST_URL]`, `proxy+socks5://…`, `proxy+socks5h://…` | [`ProxyProbe`] (fetch the test URL through the proxy) |
/// | `grpc://host:port[/service]`, `grpcs://…` | `GrpcProbe` (feature `grpc`; without it, an error saying so) |
///
/// ```
/// use vitalcheck::probe::Target;
/// let t: Target = "db.internal:5432".parse().unwrap();
/// assert_eq!(t.to_string(), "tcp://db.internal:5432");
/// let err = "ftp://files".parse::<Target>().unwrap_err();
/// assert!(err.to_string().contains("\"ftp://files\""));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Target {
    /// An HTTP or HTTPS endpoint.
    Http(HttpProbe),
    /// A TCP port.
    Tcp(TcpProbe),
    /// A command to run.
    Exec(ExecProbe),
    /// A Unix-domain socket.
    Unix(UnixProbe),
    /// An HTTP or SOCKS5 proxy, checked by fetching a test URL through it.
    Proxy(ProxyProbe),
    /// A gRPC server's `grpc.health.v1` health service.
    #[cfg(feature = "grpc")]
    Grpc(super::GrpcProbe),
}

impl Target {
    /// The kind's name: `http`, `tcp`, `exec`, `unix`, `proxy` or `grpc`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Target::Http(_) => "http",
            Target::Tcp(_) => "tcp",
            Target::Exec(_) => "exec",
            Target::Unix(_) => "unix",
            Target::Proxy(_) => "proxy",
            #[cfg(feature = "grpc")]
            Target::Grpc(_) => "grpc",
        }
    }

    /// An exec target from a command line, split with shell-words rules (no shell).
    pub fn exec(command: &str) -> Result<Target, TargetError> {
        let argv = shell_words::split(command)
            .map_err(|e| TargetError::new(command, format!("cannot split the command: {e}")))?;
        if argv.is_empty() {
            return Err(TargetError::new(command, "the command is empty; expected a program and its arguments"));
        }
        Ok(Target::Exec(ExecProbe::new(argv)))
    }
}

/// A target string that could not be parsed. `Display` quotes the input (secrets redacted)
/// and says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid target {input:?}: {reason}")]
pub struct TargetError {
    input: String,
    reason: String,
}

impl TargetError {
    pub(crate) fn new(input: &str, reason: impl Into<String>) -> Self {
        TargetError { input: redact_str(input), reason: reason.into() }
    }

    /// The input, as quoted in the message (secrets redacted).
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Why it was rejected.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

#[cfg(not(feature = "grpc"))]
const EXPECTED: &str = "expected http://HOST[:PORT]/PATH, https://…, tcp://HOST:PORT, HOST:PORT, unix:///PATH, \
     exec:COMMAND or proxy+SCHEME://HOST:PORT[?url=TEST_URL]";
#[cfg(feature = "grpc")]
const EXPECTED: &str = "expected http://HOST[:PORT]/PATH, https://…, tcp://HOST:PORT, HOST:PORT, unix:///PATH, \
     exec:COMMAND, proxy+SCHEME://HOST:PORT[?url=TEST_URL] or grpc://HOST:PORT[/SERVICE]";

impl FromStr for Target {
    type Err = TargetError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let s = input.trim();
        if s.is_empty() {
            return Err(TargetError::new(input, format!("the target is empty; {EXPECTED}")));
        }
        if let Some(command) = s.strip_prefix("exec:") {
            return Target::exec(command);
        }
        if let Some(rest) = s.get(..6).filter(|p| p.eq_ignore_ascii_case("proxy+")).and(s.get(6..)) {
            return ProxyProbe::parse(input, rest).map(Target::Proxy);
        }
        if let Some((scheme, rest)) = s.split_once("://") {
            return match scheme.to_ascii_lowercase().as_str() {
                "http" | "https" => parse_http(input, s),
                "tcp" => parse_host_port(input, rest),
                "unix" => parse_unix(input, rest),
                "grpc" => parse_grpc(input, rest, false),
                "grpcs" => parse_grpc(input, rest, true),
                other => Err(TargetError::new(input, format!("unsupported scheme {other:?}; {EXPECTED}"))),
            };
        }
        parse_host_port(input, s)
    }
}

fn parse_http(input: &str, s: &str) -> Result<Target, TargetError> {
    let url = Url::parse(s).map_err(|e| TargetError::new(input, format!("not a valid URL: {e}")))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(TargetError::new(input, "the URL has no host"));
    }
    Ok(Target::Http(HttpProbe::new(url)))
}

fn parse_host_port(input: &str, s: &str) -> Result<Target, TargetError> {
    let (host, port) = host_and_port(input, s.trim_end_matches('/'))?;
    Ok(Target::Tcp(TcpProbe::new(host, port)))
}

/// `HOST:PORT` or `[IPV6]:PORT` -> the host (IPv6 without brackets) and the port.
fn host_and_port<'a>(input: &str, s: &'a str) -> Result<(&'a str, u16), TargetError> {
    let Some((host, port)) = s.rsplit_once(':') else {
        return Err(TargetError::new(input, format!("missing port; {EXPECTED}")));
    };
    let bracketed = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    if host.is_empty() {
        return Err(TargetError::new(input, "missing host before the port"));
    }
    let host = match bracketed {
        Some(ip) if ip.parse::<std::net::Ipv6Addr>().is_ok() => ip,
        Some(_) => return Err(TargetError::new(input, "brackets must hold an IPv6 address, like [::1]:5432")),
        None if host.contains(':') => {
            return Err(TargetError::new(input, "an IPv6 address must be written in brackets, like [::1]:5432"));
        }
        None => host,
    };
    if host.contains(['/', '@', ' ', '?', '#']) {
        return Err(TargetError::new(input, format!("{host:?} is not a host name; {EXPECTED}")));
    }
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| TargetError::new(input, format!("port {port:?} is not a number from 1 to 65535")))?;
    Ok((host, port))
}

/// `grpc://HOST:PORT[/SERVICE]`: everything after the first `/` is the service name.
#[cfg(feature = "grpc")]
fn parse_grpc(input: &str, rest: &str, tls: bool) -> Result<Target, TargetError> {
    let (host_port, service) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = host_and_port(input, host_port)?;
    Ok(Target::Grpc(super::GrpcProbe::new(host, port).with_service(service).with_tls(tls)))
}

#[cfg(not(feature = "grpc"))]
fn parse_grpc(input: &str, _rest: &str, _tls: bool) -> Result<Target, TargetError> {
    Err(TargetError::new(input, "built without gRPC support (enable the `grpc` feature)"))
}

fn parse_unix(input: &str, rest: &str) -> Result<Target, TargetError> {
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if path.is_empty() {
        return Err(TargetError::new(input, "missing socket path; expected unix:///path/to.sock"));
    }
    let mut probe = UnixProbe::new(PathBuf::from(path));
    if let Some(query) = query {
        probe.ipc = parse_unix_query(input, query)?;
    }
    Ok(Target::Unix(probe))
}

/// `check=liveness|readiness|full` (the socket must speak the IPC protocol) or `check=none`.
fn parse_unix_query(input: &str, query: &str) -> Result<IpcMode, TargetError> {
    const EXPECTED_CHECK: &str = "expected ?check=liveness, readiness, full or none";
    let Some(value) = query.strip_prefix("check=") else {
        return Err(TargetError::new(input, format!("unknown query {query:?}; {EXPECTED_CHECK}")));
    };
    if value == "none" {
        return Ok(IpcMode::Off);
    }
    value
        .parse()
        .map(IpcMode::Required)
        .map_err(|_| TargetError::new(input, format!("unknown check {value:?}; {EXPECTED_CHECK}")))
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Http(p) => fmt::Display::fmt(p, f),
            Target::Tcp(p) => fmt::Display::fmt(p, f),
            Target::Exec(p) => fmt::Display::fmt(p, f),
            Target::Unix(p) => fmt::Display::fmt(p, f),
            Target::Proxy(p) => fmt::Display::fmt(p, f),
            #[cfg(feature = "grpc")]
            Target::Grpc(p) => fmt::Display::fmt(p, f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Target {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn reject(s: &str) -> String {
        match s.parse::<Target>() {
            Ok(t) => panic!("{s} parsed as {t}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn http_and_https() {
        assert!(matches!(parse("http://127.0.0.1:8080/health"), Target::Http(_)));
        assert!(matches!(parse("HTTPS://example.com"), Target::Http(_)));
        assert_eq!(parse("http://localhost:3000/x?y=1").to_string(), "http://localhost:3000/x?y=1");
    }

    #[test]
    fn http_password_redacted_in_display() {
        assert_eq!(parse("http://u:pw@h/").to_string(), "http://u:***@h/");
    }

    #[test]
    fn tcp_forms() {
        for (input, shown) in [
            ("tcp://db:5432", "tcp://db:5432"),
            ("db:5432", "tcp://db:5432"),
            ("127.0.0.1:6379", "tcp://127.0.0.1:6379"),
            ("[::1]:80", "tcp://[::1]:80"),
            ("tcp://[::1]:80/", "tcp://[::1]:80"),
        ] {
            assert_eq!(parse(input).to_string(), shown, "{input}");
        }
    }

    #[test]
    fn unix_and_exec() {
        assert_eq!(parse("unix:///run/app.sock").to_string(), "unix:///run/app.sock");
        for shown in ["unix:///run/app.sock?check=full", "unix:///a.sock?check=none", "unix:///a.sock?check=liveness"] {
            assert_eq!(parse(shown).to_string(), shown);
        }
        let Target::Unix(u) = parse("unix:///a.sock?check=ready") else { panic!() };
        assert_eq!(u.ipc, IpcMode::Required(crate::service::CheckType::Readiness));
        let Target::Exec(e) = parse("exec:pg_isready -h 'my db'") else { panic!() };
        assert_eq!(e.argv, ["pg_isready", "-h", "my db"]);
    }

    #[test]
    fn errors_quote_input_and_say_what_was_expected() {
        let e = reject("ftp://x");
        assert!(e.starts_with("invalid target \"ftp://x\": unsupported scheme \"ftp\""), "{e}");
        assert!(e.contains("expected http://"), "{e}");
        assert!(reject("localhost").contains("missing port"));
        assert!(reject("db:99999").contains("port \"99999\" is not a number from 1 to 65535"));
        assert!(reject("db:0").contains("port \"0\""));
        assert!(reject(":80").contains("missing host"));
        assert!(reject("::1:80").contains("brackets"));
        assert!(reject("").contains("empty"));
        assert!(reject("exec:").contains("empty"));
        assert!(reject("exec:echo 'unclosed").contains("cannot split"));
        assert!(reject("unix://").contains("missing socket path"));
        assert!(reject("unix:///a.sock?check=deep").contains("unknown check \"deep\"; expected ?check=liveness"));
        assert!(reject("unix:///a.sock?mode=x").contains("unknown query \"mode=x\""));
        assert!(reject("http://").contains("not a valid URL"));
    }

    #[cfg(feature = "grpc")]
    #[test]
    fn grpc_forms() {
        for (input, shown) in [
            ("grpc://127.0.0.1:50051", "grpc://127.0.0.1:50051"),
            ("grpc://h:1/", "grpc://h:1"),
            ("GRPC://[::1]:9/my.pkg.Svc", "grpc://[::1]:9/my.pkg.Svc"),
            ("grpcs://api.example.com:443/a/b", "grpcs://api.example.com:443/a/b"),
        ] {
            let target = parse(input);
            assert_eq!((target.to_string().as_str(), target.kind_name()), (shown, "grpc"), "{input}");
        }
        let Target::Grpc(p) = parse("grpcs://[::1]:9/x") else { panic!() };
        assert_eq!((p.host.as_str(), p.port, p.service.as_str(), p.tls), ("::1", 9, "x", true));
        assert!(reject("grpc://h").contains("missing port"));
        assert!(reject("grpc://u@h:1").contains("is not a host name"));
        let e = reject("grpc://u:hunter2@h:1");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[cfg(not(feature = "grpc"))]
    #[test]
    fn grpc_needs_the_feature() {
        assert!(reject("grpc://h:1").contains("built without gRPC support"));
    }

    #[test]
    fn error_redacts_password() {
        let e = reject("http://u:hunter2@h:99999/");
        assert!(!e.contains("hunter2"), "{e}");
    }
}
