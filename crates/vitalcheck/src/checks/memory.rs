//! [`MemoryCheck`]: is this process using too much memory, or the system running out?

use super::{Threshold, human_bytes, percent};
use crate::Status;
use crate::registry::{Check, CheckFuture, ComponentHealth};
use serde_json::json;

/// Memory levels: this process's resident set size (RSS) above a limit, and optionally
/// the system's available memory (`MemAvailable` in `/proc/meminfo`) below a level.
///
/// With no levels set the check is always Healthy and only reports the figures. Where
/// a figure cannot be read (not Linux), its levels are not judged and the message says so.
///
/// Metadata: `rss_bytes`, and with `/proc/meminfo`: `available_bytes`, `total_bytes`,
/// `available_percent`.
///
/// ```
/// use vitalcheck::checks::{MemoryCheck, Threshold};
///
/// let check = MemoryCheck::new()
///     .rss_degraded_above(768 << 20)
///     .rss_unhealthy_above(1 << 30)
///     .available_degraded_below(Threshold::Percent(10.0))
///     .available_unhealthy_below(Threshold::Bytes(256 << 20));
/// # let _ = check;
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryCheck {
    rss_degraded_above: Option<u64>,
    rss_unhealthy_above: Option<u64>,
    available_degraded_below: Option<Threshold>,
    available_unhealthy_below: Option<Threshold>,
}

/// The figures one run reads.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Figures {
    rss: Option<u64>,
    /// (available, total) system memory in bytes.
    system: Option<(u64, u64)>,
}

impl MemoryCheck {
    /// A check with no levels (always Healthy; reports the figures).
    pub fn new() -> Self {
        Self::default()
    }

    /// Degraded when this process's RSS is above `bytes`.
    pub fn rss_degraded_above(mut self, bytes: u64) -> Self {
        self.rss_degraded_above = Some(bytes);
        self
    }

    /// Unhealthy when this process's RSS is above `bytes`.
    pub fn rss_unhealthy_above(mut self, bytes: u64) -> Self {
        self.rss_unhealthy_above = Some(bytes);
        self
    }

    /// Degraded when the system's available memory is below `level`.
    pub fn available_degraded_below(mut self, level: Threshold) -> Self {
        self.available_degraded_below = Some(level);
        self
    }

    /// Unhealthy when the system's available memory is below `level`.
    pub fn available_unhealthy_below(mut self, level: Threshold) -> Self {
        self.available_unhealthy_below = Some(level);
        self
    }

    fn wants_system(&self) -> bool {
        self.available_degraded_below.is_some() || self.available_unhealthy_below.is_some()
    }

    async fn run(&self) -> ComponentHealth {
        let figures = Figures { rss: crate::report::resident_memory_bytes(), system: system_memory() };
        self.judge(figures)
    }

    fn judge(&self, figures: Figures) -> ComponentHealth {
        let mut status = Status::Healthy;
        let mut problems = Vec::new();
        let mut parts = Vec::new();
        let mut metadata = serde_json::Map::new();
        let mut raise = |to: Status, why: String| {
            status = status.max(to);
            problems.push(why);
        };

        match figures.rss {
            Some(rss) => {
                metadata.insert("rss_bytes".into(), json!(rss));
                parts.push(format!("RSS {}", human_bytes(rss)));
                if let Some(limit) = self.rss_unhealthy_above.filter(|l| rss > *l) {
                    raise(Status::Unhealthy, format!("RSS above the unhealthy level {}", human_bytes(limit)));
                } else if let Some(limit) = self.rss_degraded_above.filter(|l| rss > *l) {
                    raise(Status::Degraded, format!("RSS above the degraded level {}", human_bytes(limit)));
                }
            }
            None => parts.push("RSS unknown on this platform".to_string()),
        }

        match figures.system {
            Some((available, total)) => {
                let available_percent = percent(available, total);
                metadata.insert("available_bytes".into(), json!(available));
                metadata.insert("total_bytes".into(), json!(total));
                metadata.insert("available_percent".into(), json!((available_percent * 100.0).round() / 100.0));
                parts.push(format!(
                    "{} of {} available ({available_percent:.1}%)",
                    human_bytes(available),
                    human_bytes(total)
                ));
                if let Some(level) = self.available_unhealthy_below.filter(|l| l.is_below(available, total)) {
                    raise(Status::Unhealthy, format!("available memory below the unhealthy level {level}"));
                } else if let Some(level) = self.available_degraded_below.filter(|l| l.is_below(available, total)) {
                    raise(Status::Degraded, format!("available memory below the degraded level {level}"));
                }
            }
            None if self.wants_system() => parts.push("available memory unknown on this platform".to_string()),
            None => {}
        }

        let mut message = parts.join(", ");
        if !problems.is_empty() {
            message = format!("{}: {message}", problems.join("; "));
        }
        ComponentHealth { status, message: Some(message), metadata: Some(metadata.into()) }
    }
}

impl Check for MemoryCheck {
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(self.run())
    }
}

/// (MemAvailable, MemTotal) in bytes from `/proc/meminfo`, or None.
fn system_memory() -> Option<(u64, u64)> {
    parse_meminfo(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

fn parse_meminfo(text: &str) -> Option<(u64, u64)> {
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.split(':').next() == Some(name))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib.saturating_mul(1024))
    };
    Some((field("MemAvailable")?, field("MemTotal")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn meminfo_is_parsed_in_bytes() {
        let text = "MemTotal:       2048 kB\nMemFree:  10 kB\nMemAvailable:   1024 kB\n";
        assert_eq!(parse_meminfo(text), Some((1024 * 1024, 2048 * 1024)));
        assert_eq!(parse_meminfo("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn rss_levels() {
        let check = MemoryCheck::new().rss_degraded_above(100 * MIB).rss_unhealthy_above(200 * MIB);
        let at = |rss| check.judge(Figures { rss: Some(rss), system: None }).status;
        assert_eq!(at(50 * MIB), Status::Healthy);
        assert_eq!(at(150 * MIB), Status::Degraded);
        assert_eq!(at(250 * MIB), Status::Unhealthy);
    }

    #[test]
    fn the_worst_level_wins_and_both_problems_are_named() {
        let check = MemoryCheck::new().rss_degraded_above(MIB).available_unhealthy_below(Threshold::Percent(20.0));
        let health = check.judge(Figures { rss: Some(2 * MIB), system: Some((10 * MIB, 100 * MIB)) });
        assert_eq!(health.status, Status::Unhealthy);
        let message = health.message.unwrap();
        assert!(message.starts_with("RSS above the degraded level 1.0 MiB; available memory below"), "{message}");
        assert_eq!(health.metadata.unwrap()["available_percent"], 10.0);
    }

    #[test]
    fn unknown_figures_are_not_judged() {
        let check = MemoryCheck::new().rss_unhealthy_above(1).available_unhealthy_below(Threshold::Bytes(u64::MAX));
        let health = check.judge(Figures::default());
        assert_eq!(health.status, Status::Healthy);
        assert_eq!(
            health.message.as_deref(),
            Some("RSS unknown on this platform, available memory unknown on this platform")
        );
    }
}
