//! Flags shared by `wait` and `check`: which targets, and how to probe them.

use crate::duration::parse_duration;
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use std::time::Duration;
use vitalcheck::probe::{BodyExpectation, HttpMethod, IpcMode, StatusSet, Target};
use vitalcheck::service::CheckType;

/// HTTP method for http(s) targets.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Method {
    Get,
    Head,
}

/// The question asked of a unix socket speaking the IPC health protocol.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CheckTypeArg {
    /// Is the process alive?
    Liveness,
    /// Should it receive traffic?
    Readiness,
    /// Everything.
    Full,
}

impl From<CheckTypeArg> for CheckType {
    fn from(arg: CheckTypeArg) -> Self {
        match arg {
            CheckTypeArg::Liveness => CheckType::Liveness,
            CheckTypeArg::Readiness => CheckType::Readiness,
            CheckTypeArg::Full => CheckType::Full,
        }
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// One line per target for people.
    Text,
    /// One JSON document on stdout (see the README for the schema).
    Json,
}

/// Targets and probe options.
#[derive(Debug, Args)]
pub(crate) struct ProbeArgs {
    /// Targets: http://HOST[:PORT]/PATH, https://..., tcp://HOST:PORT or HOST:PORT,
    /// unix:///PATH.sock, exec:COMMAND, proxy+http://HOST:PORT?url=TEST_URL,
    /// proxy+socks5[h]://..., grpc://HOST:PORT[/SERVICE] or grpcs://... (when built with
    /// gRPC support).
    #[arg(value_name = "TARGET")]
    pub(crate) targets: Vec<String>,

    /// Also probe this command (split like a shell would, but run without a shell);
    /// healthy when it exits 0. Repeatable.
    #[arg(long = "exec", value_name = "CMD")]
    pub(crate) exec: Vec<String>,

    /// Accepted HTTP statuses, e.g. 200-399,404 or 2xx [default: 200-299]
    #[arg(long, value_name = "LIST")]
    pub(crate) status: Option<String>,

    /// Extra HTTP request header, "Name: value". Repeatable. Values are never printed.
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub(crate) headers: Vec<String>,

    /// HTTP method.
    #[arg(long, value_enum, default_value_t = Method::Get)]
    pub(crate) method: Method,

    /// The HTTP body must contain this text.
    #[arg(long, value_name = "TEXT")]
    pub(crate) expect_body: Option<String>,

    /// The HTTP body must match this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub(crate) expect_regex: Option<String>,

    /// The HTTP body must be JSON with this pointer, optionally equal to a value:
    /// '/status' or '/status == "ok"'.
    #[arg(long, value_name = "POINTER[==VALUE]")]
    pub(crate) expect_json: Option<String>,

    /// Accept any TLS certificate (self-signed, expired, wrong host); https:// and grpcs://.
    #[arg(short = 'k', long)]
    pub(crate) insecure: bool,

    /// Do not follow HTTP redirects (a 3xx is then judged by --status).
    #[arg(long)]
    pub(crate) no_redirects: bool,

    /// Ask unix:// targets this question in the IPC health protocol; they must answer it.
    /// Without it, a unix socket that speaks the protocol is asked readiness, and one that
    /// does not is healthy when it accepts the connection.
    #[arg(long, value_enum, value_name = "TYPE")]
    pub(crate) check_type: Option<CheckTypeArg>,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Text)]
    pub(crate) output: OutputFormat,

    /// Print nothing; the exit code says it all.
    #[arg(short, long, conflicts_with = "verbose")]
    pub(crate) quiet: bool,

    /// Print every attempt, not only the outcome.
    #[arg(short, long)]
    pub(crate) verbose: bool,
}

impl ProbeArgs {
    /// The targets to probe, with the HTTP options applied to the http(s) ones.
    pub(crate) fn build_targets(&self) -> Result<Vec<Target>> {
        let mut targets = Vec::with_capacity(self.targets.len() + self.exec.len());
        for raw in &self.targets {
            targets.push(raw.parse::<Target>()?);
        }
        for command in &self.exec {
            targets.push(Target::exec(command)?);
        }
        if targets.is_empty() {
            bail!("no targets given: name at least one TARGET or --exec CMD (see --help)");
        }
        let http = self.http_options()?;
        let mut any_http = false;
        for target in &mut targets {
            if let Target::Http(probe) = target {
                any_http = true;
                http.apply(probe);
            }
            #[cfg(feature = "grpc")]
            if let Target::Grpc(probe) = target {
                probe.insecure = self.insecure;
            }
        }
        if self.insecure && !any_http && !targets.iter().any(is_grpcs) {
            bail!("--insecure applies to https:// and grpcs:// targets, and none was given");
        }
        if !any_http && http.is_set_besides_insecure() {
            bail!(
                "--status, --header, --method, --expect-* and --no-redirects apply to http(s) targets, and none was given"
            );
        }
        self.apply_check_type(&mut targets)?;
        Ok(targets)
    }

    /// Applies `--check-type` to the unix targets; an error if there is none.
    fn apply_check_type(&self, targets: &mut [Target]) -> Result<()> {
        let Some(check_type) = self.check_type else { return Ok(()) };
        let mut any_unix = false;
        for target in targets {
            if let Target::Unix(probe) = target {
                any_unix = true;
                probe.ipc = IpcMode::Required(check_type.into());
            }
        }
        if !any_unix {
            bail!("--check-type applies to unix:// targets, and none was given");
        }
        Ok(())
    }

    fn http_options(&self) -> Result<HttpOptions> {
        let mut headers = http::HeaderMap::new();
        for (index, raw) in self.headers.iter().enumerate() {
            // Without a colon there is no telling name from secret: quote neither.
            let (name, value) = raw.split_once(':').with_context(|| {
                format!(
                    "invalid --header (number {}): expected \"Name: value\" (not shown: it may hold a secret)",
                    index + 1
                )
            })?;
            let name = http::HeaderName::from_bytes(name.trim().as_bytes())
                .with_context(|| format!("invalid --header name {:?}", name.trim()))?;
            let mut value = http::HeaderValue::from_str(value.trim())
                .with_context(|| format!("invalid --header value for {name}: control characters are not allowed"))?;
            value.set_sensitive(true);
            headers.append(name, value);
        }
        let mut expect = Vec::new();
        if let Some(text) = &self.expect_body {
            expect.push(BodyExpectation::contains(text));
        }
        if let Some(pattern) = &self.expect_regex {
            expect.push(BodyExpectation::regex(pattern)?);
        }
        if let Some(spec) = &self.expect_json {
            expect.push(BodyExpectation::json(spec)?);
        }
        let accept = self.status.as_deref().map(str::parse::<StatusSet>).transpose()?;
        Ok(HttpOptions {
            headers,
            accept,
            expect,
            method: match self.method {
                Method::Get => HttpMethod::Get,
                Method::Head => HttpMethod::Head,
            },
            insecure: self.insecure,
            no_redirects: self.no_redirects,
        })
    }
}

struct HttpOptions {
    headers: http::HeaderMap,
    accept: Option<StatusSet>,
    expect: Vec<BodyExpectation>,
    method: HttpMethod,
    insecure: bool,
    no_redirects: bool,
}

impl HttpOptions {
    /// Whether any HTTP-only flag is set (`--insecure` also applies to grpcs://).
    fn is_set_besides_insecure(&self) -> bool {
        !self.headers.is_empty()
            || self.accept.is_some()
            || !self.expect.is_empty()
            || self.method != HttpMethod::Get
            || self.no_redirects
    }

    fn apply(&self, probe: &mut vitalcheck::probe::HttpProbe) {
        probe.headers.extend(self.headers.clone());
        if let Some(accept) = &self.accept {
            probe.accept = accept.clone();
        }
        probe.expect.extend(self.expect.iter().cloned());
        probe.method = self.method;
        probe.insecure = self.insecure;
        if self.no_redirects {
            probe.max_redirects = 0;
        }
    }
}

/// Whether `target` is a grpcs:// target (always false when built without gRPC).
fn is_grpcs(target: &Target) -> bool {
    #[cfg(feature = "grpc")]
    if let Target::Grpc(probe) = target {
        return probe.tls;
    }
    let _ = target;
    false
}

/// Parses a duration flag (clap value parser).
pub(crate) fn duration_arg(s: &str) -> Result<Duration, String> {
    parse_duration(s)
}
