//! [`DiskSpaceCheck`]: is there room left on a file system?

use super::{Threshold, human_bytes, percent};
use crate::registry::{Check, CheckFuture, ComponentHealth};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Free space on the file system holding a path, from `statvfs(2)`: Unhealthy below one
/// level, Degraded below another, Healthy above both.
///
/// "Free" is the space available to an unprivileged process (`f_bavail`), which is what
/// the service can still write. Defaults: Degraded below 10%, Unhealthy below 5%.
///
/// Metadata: `path`, `free_bytes`, `total_bytes`, `free_percent`.
///
/// ```
/// use vitalcheck::checks::{DiskSpaceCheck, Threshold};
///
/// let check = DiskSpaceCheck::new("/var/lib/app")
///     .degraded_below(Threshold::Percent(15.0))
///     .unhealthy_below(Threshold::Bytes(1 << 30));
/// assert_eq!(check.path(), std::path::Path::new("/var/lib/app"));
/// ```
#[derive(Debug, Clone)]
pub struct DiskSpaceCheck {
    path: PathBuf,
    degraded_below: Option<Threshold>,
    unhealthy_below: Option<Threshold>,
}

impl DiskSpaceCheck {
    /// A check of the file system holding `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        DiskSpaceCheck {
            path: path.into(),
            degraded_below: Some(Threshold::Percent(10.0)),
            unhealthy_below: Some(Threshold::Percent(5.0)),
        }
    }

    /// Degraded when free space is below `level`.
    pub fn degraded_below(mut self, level: Threshold) -> Self {
        self.degraded_below = Some(level);
        self
    }

    /// Unhealthy when free space is below `level`.
    pub fn unhealthy_below(mut self, level: Threshold) -> Self {
        self.unhealthy_below = Some(level);
        self
    }

    /// Never Degraded for lack of space.
    pub fn no_degraded_level(mut self) -> Self {
        self.degraded_below = None;
        self
    }

    /// Never Unhealthy for lack of space (a path that cannot be read still is).
    pub fn no_unhealthy_level(mut self) -> Self {
        self.unhealthy_below = None;
        self
    }

    /// The path whose file system is checked.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn run(&self) -> ComponentHealth {
        let path = self.path.clone();
        // statvfs can block (network file systems); keep it off the async workers.
        let stat = tokio::task::spawn_blocking(move || rustix::fs::statvfs(&path)).await;
        let stat = match stat {
            Ok(Ok(stat)) => stat,
            Ok(Err(errno)) => {
                let err = std::io::Error::from(errno);
                return ComponentHealth::unhealthy(format!("cannot read free space of {}: {err}", self.path.display()));
            }
            Err(_) => return ComponentHealth::unhealthy("the free-space lookup did not finish"),
        };
        let free = stat.f_bavail.saturating_mul(stat.f_frsize);
        let total = stat.f_blocks.saturating_mul(stat.f_frsize);
        self.judge(free, total)
    }

    fn judge(&self, free: u64, total: u64) -> ComponentHealth {
        let free_percent = percent(free, total);
        let metadata = json!({
            "path": self.path.display().to_string(),
            "free_bytes": free,
            "total_bytes": total,
            "free_percent": (free_percent * 100.0).round() / 100.0,
        });
        let summary = format!(
            "{} free of {} ({free_percent:.1}%) at {}",
            human_bytes(free),
            human_bytes(total),
            self.path.display()
        );
        let health = if let Some(level) = self.unhealthy_below.filter(|l| l.is_below(free, total)) {
            ComponentHealth::unhealthy(format!("{summary}: below the unhealthy level {level}"))
        } else if let Some(level) = self.degraded_below.filter(|l| l.is_below(free, total)) {
            ComponentHealth::degraded(format!("{summary}: below the degraded level {level}"))
        } else {
            ComponentHealth::healthy().with_message(summary)
        };
        health.with_metadata(metadata)
    }
}

impl Check for DiskSpaceCheck {
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(self.run())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    #[test]
    fn levels_decide_the_status() {
        let check = DiskSpaceCheck::new("/data");
        assert_eq!(check.judge(50, 100).status, Status::Healthy);
        assert_eq!(check.judge(9, 100).status, Status::Degraded);
        let low = check.judge(4, 100);
        assert_eq!(low.status, Status::Unhealthy);
        assert_eq!(low.message.as_deref(), Some("4 B free of 100 B (4.0%) at /data: below the unhealthy level 5%"));
        let meta = low.metadata.unwrap();
        assert_eq!(meta["free_bytes"], 4);
        assert_eq!(meta["total_bytes"], 100);
        assert_eq!(meta["free_percent"], 4.0);
    }

    #[test]
    fn levels_can_be_turned_off() {
        let check = DiskSpaceCheck::new("/data").no_degraded_level().no_unhealthy_level();
        assert_eq!(check.judge(0, 100).status, Status::Healthy);
    }
}
