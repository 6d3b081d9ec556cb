//! Restart decisions: the policy, the CrashLoopBackOff schedule, its reset and the limit.
//!
//! Pure: no clock, no I/O. Time comes in as a [`Duration`] since an epoch the caller
//! keeps, as in [`vitalcheck::state`].

use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use vitalcheck::backoff::Backoff;

/// When an ended child is started again (Docker's and Kubernetes' restart policies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RestartPolicy {
    /// Whatever the reason, also after a clean exit (Kubernetes `Always`).
    Always,
    /// After a non-zero exit, a signal or a failed liveness probe, not after exit 0.
    OnFailure,
    /// Never: the supervisor exits with the child's code.
    Never,
}

impl RestartPolicy {
    /// `always`, `on-failure` or `never`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Always => "always",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Never => "never",
        }
    }
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A restart policy name that is not `always`, `on-failure` or `never`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown restart policy {0:?}: expected always, on-failure or never")]
pub struct UnknownPolicy(pub String);

impl FromStr for RestartPolicy {
    type Err = UnknownPolicy;
    fn from_str(s: &str) -> Result<Self, UnknownPolicy> {
        match s {
            "always" => Ok(RestartPolicy::Always),
            "on-failure" | "on_failure" => Ok(RestartPolicy::OnFailure),
            "never" | "no" => Ok(RestartPolicy::Never),
            other => Err(UnknownPolicy(other.to_owned())),
        }
    }
}

/// How one run of the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    /// Its exit code, or 128 + the signal that ended it (as a shell reports it).
    pub code: i32,
    /// The supervisor stopped it because its startup or liveness probe failed.
    pub unhealthy: bool,
}

impl Ended {
    /// A non-zero code, or stopped for failing a probe.
    pub const fn is_failure(&self) -> bool {
        self.unhealthy || self.code != 0
    }
}

/// The restart settings; [`Default`] follows the kubelet: restart on failure, 10 s
/// doubling to 5 min, reset after 10 min up, no limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RestartConfig {
    /// Which endings are restarted.
    pub policy: RestartPolicy,
    /// Delay before restart `n` (0-based, counted since the last reset):
    /// [`Backoff::base_delay`]`(n)`.
    pub backoff: Backoff,
    /// A child up (healthy) this long before it ends starts the schedule over.
    pub reset_after: Duration,
    /// Give up after this many restarts since the last reset.
    pub max_restarts: Option<u32>,
}

/// The kubelet's CrashLoopBackOff: 10 s, doubling, at most 5 min.
pub const CRASH_LOOP_BACKOFF: Backoff =
    Backoff::exponential(Duration::from_secs(10), 2.0).with_max_delay(Duration::from_secs(300));

impl Default for RestartConfig {
    fn default() -> Self {
        RestartConfig {
            policy: RestartPolicy::OnFailure,
            backoff: CRASH_LOOP_BACKOFF,
            reset_after: Duration::from_secs(600),
            max_restarts: None,
        }
    }
}

/// What to do after the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Start it again after `delay`; `attempt` counts restarts since the last reset (1-based).
    Restart {
        /// How long to wait first.
        delay: Duration,
        /// Restarts since the last reset, this one included.
        attempt: u32,
    },
    /// The policy says no restart: exit with the child's code.
    Exit {
        /// The child's code.
        code: i32,
    },
    /// `max_restarts` reached: stop trying.
    GiveUp {
        /// Restarts made since the last reset.
        restarts: u32,
        /// The last child's code.
        code: i32,
    },
}

/// Counts restarts and decides the next one.
#[derive(Debug, Clone)]
pub struct RestartTracker {
    config: RestartConfig,
    consecutive: u32,
    total: u64,
    up_since: Option<Duration>,
}

impl RestartTracker {
    /// A tracker with no restarts yet.
    pub const fn new(config: RestartConfig) -> Self {
        RestartTracker { config, consecutive: 0, total: 0, up_since: None }
    }

    /// The child became healthy at `now` (kept if it already was).
    pub fn up(&mut self, now: Duration) {
        self.up_since.get_or_insert(now);
    }

    /// The child is no longer healthy.
    pub fn down(&mut self) {
        self.up_since = None;
    }

    /// Restarts since the last reset.
    pub const fn consecutive(&self) -> u32 {
        self.consecutive
    }

    /// Restarts since the tracker was made.
    pub const fn total(&self) -> u64 {
        self.total
    }

    /// The child ended at `now`: restart (after which delay), exit, or give up.
    pub fn ended(&mut self, ended: Ended, now: Duration) -> Decision {
        if let Some(since) = self.up_since.take()
            && now.saturating_sub(since) >= self.config.reset_after
        {
            self.consecutive = 0;
        }
        let restart = match self.config.policy {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => ended.is_failure(),
            RestartPolicy::Never => false,
        };
        if !restart {
            return Decision::Exit { code: ended.code };
        }
        if self.config.max_restarts.is_some_and(|max| self.consecutive >= max) {
            return Decision::GiveUp { restarts: self.consecutive, code: ended.code };
        }
        let delay = self.config.backoff.base_delay(self.consecutive);
        self.consecutive = self.consecutive.saturating_add(1);
        self.total = self.total.saturating_add(1);
        Decision::Restart { delay, attempt: self.consecutive }
    }
}

#[cfg(test)]
mod tests;
