//! The file as written: serde types mirroring `vitalcheck.toml`, one struct per table.
//!
//! Every struct denies unknown fields (the error lists the expected ones) and nothing is
//! flattened (a flattened struct lets a misspelt key through; CRATES.md). Every field is
//! optional here: defaults are applied in one place, `validate.rs`.

use super::duration;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub(crate) defaults: RawTiming,
    #[serde(default)]
    pub(crate) storage: RawStorage,
    #[serde(default)]
    pub(crate) history: RawHistory,
    #[serde(default)]
    pub(crate) server: super::server::RawServer,
    #[serde(default)]
    pub(crate) groups: Vec<RawGroup>,
    #[serde(default)]
    pub(crate) targets: Vec<RawTarget>,
    #[serde(default)]
    pub(crate) alerts: super::notify_check::RawAlerts,
    #[serde(default)]
    pub(crate) notifiers: Vec<super::notify_check::RawNotifier>,
}

/// `[defaults]`, and the timing fields every group, target and probe may set.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTiming {
    #[serde(default, deserialize_with = "duration::optional")]
    pub(crate) interval: Option<Duration>,
    #[serde(default, deserialize_with = "duration::optional")]
    pub(crate) timeout: Option<Duration>,
    pub(crate) failure_threshold: Option<u32>,
    pub(crate) success_threshold: Option<u32>,
    #[serde(default, deserialize_with = "duration::optional")]
    pub(crate) start_period: Option<Duration>,
}

/// `[storage]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStorage {
    pub(crate) path: Option<String>,
    #[serde(default, deserialize_with = "duration::optional")]
    pub(crate) retention: Option<Duration>,
}

/// `[history]`: what each target keeps in memory.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHistory {
    pub(crate) results: Option<u32>,
}

/// One `[[groups]]` entry: a name and the timing its members default to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGroup {
    pub(crate) name: String,
    #[serde(default, deserialize_with = "duration::optional")]
    pub(crate) interval: Option<Duration>,
    #[serde(default, deserialize_with = "duration::optional")]
    pub(crate) timeout: Option<Duration>,
    pub(crate) failure_threshold: Option<u32>,
    pub(crate) success_threshold: Option<u32>,
    #[serde(default, deserialize_with = "duration::optional")]
    pub(crate) start_period: Option<Duration>,
}

/// One `[[targets]]` entry: its own probe (the same fields as [`RawProbe`]), plus identity
/// and the optional startup / liveness / readiness probes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTarget {
    pub(crate) name: String,
    pub(crate) target: Option<String>,
    pub(crate) http: Option<RawHttp>,
    pub(crate) tcp: Option<RawTcp>,
    pub(crate) exec: Option<RawExec>,
    pub(crate) unix: Option<RawUnix>,
    #[serde(default, deserialize_with = "duration::optional")]
    pub(crate) interval: Option<Duration>,
    #[serde(default, deserialize_with = "duration::optional")]
    pub(crate) timeout: Option<Duration>,
    pub(crate) failure_threshold: Option<u32>,
    pub(crate) success_threshold: Option<u32>,
    #[serde(default, deserialize_with = "duration::optional")]
    pub(crate) start_period: Option<Duration>,
    pub(crate) startup: Option<RawProbe>,
    pub(crate) liveness: Option<RawProbe>,
    pub(crate) readiness: Option<RawProbe>,
    pub(crate) group: Option<String>,
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    pub(crate) critical: Option<bool>,
    /// The process `vitalcheck run` owns for this target (`config/process.rs`).
    pub(crate) process: Option<super::process::RawProcess>,
}

/// A probe definition: what to probe (a target string or one kind table; neither means
/// "the target's own") and its timing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProbe {
    pub(crate) target: Option<String>,
    pub(crate) http: Option<RawHttp>,
    pub(crate) tcp: Option<RawTcp>,
    pub(crate) exec: Option<RawExec>,
    pub(crate) unix: Option<RawUnix>,
    #[serde(default, deserialize_with = "duration::optional")]
    pub(crate) interval: Option<Duration>,
    #[serde(default, deserialize_with = "duration::optional")]
    pub(crate) timeout: Option<Duration>,
    pub(crate) failure_threshold: Option<u32>,
    pub(crate) success_threshold: Option<u32>,
    #[serde(default, deserialize_with = "duration::optional")]
    pub(crate) start_period: Option<Duration>,
}

/// What a probe definition says to probe, borrowed from a [`RawTarget`] or [`RawProbe`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawWhat<'a> {
    pub(crate) target: Option<&'a String>,
    pub(crate) http: Option<&'a RawHttp>,
    pub(crate) tcp: Option<&'a RawTcp>,
    pub(crate) exec: Option<&'a RawExec>,
    pub(crate) unix: Option<&'a RawUnix>,
}

macro_rules! what {
    ($ty:ty) => {
        impl $ty {
            /// What to probe.
            pub(crate) fn what(&self) -> RawWhat<'_> {
                RawWhat {
                    target: self.target.as_ref(),
                    http: self.http.as_ref(),
                    tcp: self.tcp.as_ref(),
                    exec: self.exec.as_ref(),
                    unix: self.unix.as_ref(),
                }
            }
        }
    };
}
what!(RawTarget);
what!(RawProbe);

macro_rules! timing {
    ($($ty:ty),*) => {$(
        impl $ty {
            /// The timing fields set here.
            pub(crate) fn timing(&self) -> RawTiming {
                RawTiming {
                    interval: self.interval,
                    timeout: self.timeout,
                    failure_threshold: self.failure_threshold,
                    success_threshold: self.success_threshold,
                    start_period: self.start_period,
                }
            }
        }
    )*};
}
timing!(RawGroup, RawTarget, RawProbe);

/// `[targets.http]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHttp {
    pub(crate) url: String,
    pub(crate) method: Option<RawMethod>,
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "status_text")]
    pub(crate) status: Option<String>,
    pub(crate) expect_body: Option<String>,
    pub(crate) expect_regex: Option<String>,
    pub(crate) expect_json: Option<String>,
    pub(crate) insecure: Option<bool>,
    pub(crate) max_redirects: Option<u32>,
    pub(crate) keep_alive: Option<bool>,
}

/// `method = "GET" | "HEAD"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum RawMethod {
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "HEAD")]
    Head,
}

/// `[targets.tcp]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTcp {
    pub(crate) address: String,
    pub(crate) send: Option<String>,
    pub(crate) expect: Option<String>,
}

/// `[targets.exec]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExec {
    #[serde(deserialize_with = "command")]
    pub(crate) command: RawCommand,
}

/// A command: one string split with shell-words rules, or the argv as an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawCommand {
    /// `command = "pg_isready -h db"`.
    Line(String),
    /// `command = ["pg_isready", "-h", "db"]`.
    Argv(Vec<String>),
}

/// `[targets.unix]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUnix {
    pub(crate) path: String,
    pub(crate) check_type: Option<RawCheckType>,
}

/// `check_type`: which IPC question a unix probe asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawCheckType {
    /// Ask readiness if the socket speaks the protocol; connecting is enough otherwise.
    Auto,
    /// Connect only.
    None,
    /// Ask liveness; the socket must answer in the protocol.
    Liveness,
    /// Ask readiness; the socket must answer in the protocol.
    Readiness,
    /// Ask for the full report; the socket must answer in the protocol.
    Full,
}

/// `status = 200` or `status = "200-399,404"`.
fn status_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    struct StatusVisitor;
    impl Visitor<'_> for StatusVisitor {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(r#"a status code or a list like "200-399,404""#)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    deserializer.deserialize_any(StatusVisitor).map(Some)
}

/// `command = "..."` or `command = ["...", ...]`.
fn command<'de, D: Deserializer<'de>>(deserializer: D) -> Result<RawCommand, D::Error> {
    struct CommandVisitor;
    impl<'de> Visitor<'de> for CommandVisitor {
        type Value = RawCommand;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a command line string or an array of strings (program, then arguments)")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<RawCommand, E> {
            Ok(RawCommand::Line(v.to_string()))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawCommand, A::Error> {
            let mut argv = Vec::new();
            while let Some(arg) = seq.next_element::<String>()? {
                argv.push(arg);
            }
            Ok(RawCommand::Argv(argv))
        }
    }
    deserializer.deserialize_any(CommandVisitor)
}
