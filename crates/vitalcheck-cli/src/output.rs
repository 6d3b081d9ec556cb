//! What `wait` and `check` print: one line per target for people, or one JSON document.
//!
//! The JSON schema is documented in the README ("JSON output") and is stable: fields are
//! only ever added.

use serde::Serialize;
use std::time::Duration;
use vitalcheck::probe::{Observation, ProbeError};

/// The whole JSON document.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// Whether the command succeeded (all healthy, or any with `--any`).
    pub(crate) healthy: bool,
    /// Wall time of the command, in milliseconds.
    pub(crate) elapsed_ms: f64,
    /// One entry per target, in the order given.
    pub(crate) targets: Vec<TargetReport>,
}

/// One target's outcome.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TargetReport {
    /// The target as displayed (secrets redacted).
    pub(crate) target: String,
    /// `http`, `tcp`, `exec` or `unix`.
    pub(crate) kind: &'static str,
    /// `healthy`, `degraded`, `unhealthy`, or `unknown` (not probed to the end, e.g.
    /// cancelled once another target answered with `--any`).
    pub(crate) status: &'static str,
    /// Whether the target ended healthy.
    pub(crate) healthy: bool,
    /// Probes made.
    pub(crate) attempts: u32,
    /// Latency of the last probe, in milliseconds.
    pub(crate) latency_ms: Option<f64>,
    /// Per-phase latencies of the last healthy probe, in milliseconds.
    pub(crate) phases: Option<Phases>,
    /// The final HTTP status, for http targets that answered.
    pub(crate) http_status: Option<u16>,
    /// A short human summary of the last probe.
    pub(crate) detail: String,
    /// Why the last probe failed, if it did.
    pub(crate) error: Option<ErrorReport>,
}

/// Per-phase latencies in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Phases {
    pub(crate) dns_ms: Option<f64>,
    pub(crate) connect_ms: Option<f64>,
    pub(crate) tls_ms: Option<f64>,
    pub(crate) first_byte_ms: Option<f64>,
    pub(crate) body_ms: Option<f64>,
}

/// A probe error for machines.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ErrorReport {
    /// `refused`, `timeout`, `dns`, `tls`, `status`, `protocol`, `expectation`, `exit`, `io`.
    pub(crate) kind: &'static str,
    /// For timeouts: `dns`, `connect`, `tls`, `first_byte`, `body` or `exec`.
    pub(crate) phase: Option<&'static str>,
    /// For `status`: the HTTP status.
    pub(crate) http_status: Option<u16>,
    /// For `exit`: the exit code (128 + N when killed by signal N).
    pub(crate) exit_code: Option<i32>,
    /// The full message.
    pub(crate) message: String,
}

/// Milliseconds rounded to the microsecond.
pub(crate) use vitalcheck::duration::millis as ms;

fn opt_ms(d: Option<Duration>) -> Option<f64> {
    d.map(ms)
}

impl TargetReport {
    /// A target not probed to the end.
    pub(crate) fn pending(target: String, kind: &'static str) -> Self {
        TargetReport {
            target,
            kind,
            status: "unknown",
            healthy: false,
            attempts: 0,
            latency_ms: None,
            phases: None,
            http_status: None,
            detail: String::new(),
            error: None,
        }
    }

    /// Records the outcome of a probe.
    pub(crate) fn record(&mut self, outcome: &Result<Observation, ProbeError>) {
        self.attempts += 1;
        match outcome {
            Ok(obs) => {
                self.status = obs.status.as_str();
                self.healthy = true;
                self.latency_ms = Some(ms(obs.latency));
                self.phases = Some(Phases {
                    dns_ms: opt_ms(obs.phases.dns),
                    connect_ms: opt_ms(obs.phases.connect),
                    tls_ms: opt_ms(obs.phases.tls),
                    first_byte_ms: opt_ms(obs.phases.first_byte),
                    body_ms: opt_ms(obs.phases.body),
                });
                self.http_status = obs.http_status;
                self.detail = obs.detail.clone();
                self.error = None;
            }
            Err(err) => {
                let kind = err.kind();
                self.status = "unhealthy";
                self.healthy = false;
                self.latency_ms = Some(ms(err.elapsed()));
                self.phases = None;
                self.http_status = match kind {
                    vitalcheck::probe::ErrorKind::Status(code) => Some(code),
                    _ => None,
                };
                self.detail = err.detail().to_string();
                self.error = Some(ErrorReport {
                    kind: kind.name(),
                    phase: kind.phase().map(phase_name),
                    http_status: self.http_status,
                    exit_code: match kind {
                        vitalcheck::probe::ErrorKind::Exit(code) => Some(code),
                        _ => None,
                    },
                    message: err.to_string(),
                });
            }
        }
    }
}

fn phase_name(phase: vitalcheck::probe::Phase) -> &'static str {
    use vitalcheck::probe::Phase;
    match phase {
        Phase::Dns => "dns",
        Phase::Connect => "connect",
        Phase::Tls => "tls",
        Phase::FirstByte => "first_byte",
        Phase::Body => "body",
        Phase::Exec => "exec",
        _ => "other",
    }
}

/// A duration for people: `850us`, `3.2ms`, `1.25s`, `2m05s`.
pub(crate) fn human(d: Duration) -> String {
    let micros = d.as_micros();
    if micros < 1000 {
        format!("{micros}us")
    } else if micros < 10_000 {
        format!("{:.1}ms", d.as_secs_f64() * 1e3)
    } else if micros < 1_000_000 {
        format!("{}ms", d.as_millis())
    } else if d.as_secs() < 60 {
        format!("{:.2}s", d.as_secs_f64())
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// Prints the JSON document on stdout.
pub(crate) fn print_json(report: &Report) {
    match serde_json::to_string_pretty(report) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("vitalcheck: cannot write JSON: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_micros(850)), "850us");
        assert_eq!(human(Duration::from_micros(3210)), "3.2ms");
        assert_eq!(human(Duration::from_millis(250)), "250ms");
        assert_eq!(human(Duration::from_millis(1250)), "1.25s");
        assert_eq!(human(Duration::from_secs(125)), "2m05s");
    }
}
