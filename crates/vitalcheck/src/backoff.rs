//! [`Backoff`]: how long to wait before asking again. Pure: no clock, no I/O, seedable.
//!
//! `delay(n) = min(initial * multiplier^n, max_delay)` for the n-th retry (from 0), then
//! jitter, which never takes a delay above the cap (unlike adding jitter after capping).
//!
//! ```
//! use std::time::Duration;
//! use vitalcheck::Backoff;
//!
//! let delays: Vec<Duration> = Backoff::exponential(Duration::from_millis(100), 2.0)
//!     .with_max_delay(Duration::from_millis(500))
//!     .with_max_attempts(5)
//!     .iter()
//!     .collect();
//! let ms: Vec<u128> = delays.iter().map(Duration::as_millis).collect();
//! assert_eq!(ms, [100, 200, 400, 500]); // 5 attempts, 4 waits between them
//! ```

use std::fmt;
use std::time::Duration;

/// How the delay grows from one retry to the next.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Strategy {
    /// `initial * multiplier^n`.
    Exponential {
        /// Factor per retry, at least 1.
        multiplier: f64,
    },
    /// `initial + step * n`.
    Linear {
        /// Added per retry.
        step: Duration,
    },
    /// Always `initial`.
    Constant,
}

/// Randomness added to each delay so that many waiters do not retry in lockstep
/// (definitions from the AWS Architecture Blog, "Exponential Backoff And Jitter").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Jitter {
    /// The delay as computed.
    #[default]
    None,
    /// Uniform in `[0, delay]`.
    Full,
    /// Uniform in `[delay / 2, delay]`.
    Equal,
}

impl std::str::FromStr for Jitter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Jitter::None),
            "full" => Ok(Jitter::Full),
            "equal" => Ok(Jitter::Equal),
            _ => Err(format!("unknown jitter {s:?}; expected none, full or equal")),
        }
    }
}

/// A retry schedule. Build with [`exponential`](Self::exponential),
/// [`linear`](Self::linear), [`constant`](Self::constant) or a preset, adjust with the
/// `with_*` methods (all `const`), check with [`validate`](Self::validate), and iterate with
/// [`iter`](Self::iter).
///
/// Presets ([`FAST`](Self::FAST), [`NORMAL`](Self::NORMAL), [`SLOW`](Self::SLOW)) and the
/// [`Default`] (`NORMAL`): exponential, no jitter, a 30 s cap.
///
/// | preset | attempts | initial | multiplier |
/// |---|---|---|---|
/// | `FAST` | 10 | 100 ms | 1.2 |
/// | `NORMAL` | 30 | 200 ms | 1.5 |
/// | `SLOW` | 50 | 500 ms | 1.3 |
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    strategy: Strategy,
    initial: Duration,
    max_delay: Duration,
    max_attempts: Option<u32>,
    jitter: Jitter,
    seed: Option<u64>,
}

/// The default cap on a single delay.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(30);

impl Default for Backoff {
    fn default() -> Self {
        Backoff::NORMAL
    }
}

impl Backoff {
    /// 10 attempts, 100 ms, x1.2.
    pub const FAST: Backoff = Backoff::exponential(Duration::from_millis(100), 1.2).with_max_attempts(10);
    /// 30 attempts, 200 ms, x1.5.
    pub const NORMAL: Backoff = Backoff::exponential(Duration::from_millis(200), 1.5).with_max_attempts(30);
    /// 50 attempts, 500 ms, x1.3.
    pub const SLOW: Backoff = Backoff::exponential(Duration::from_millis(500), 1.3).with_max_attempts(50);

    const fn new(strategy: Strategy, initial: Duration) -> Backoff {
        Backoff {
            strategy,
            initial,
            max_delay: DEFAULT_MAX_DELAY,
            max_attempts: None,
            jitter: Jitter::None,
            seed: None,
        }
    }

    /// `initial * multiplier^n`, capped at 30 s, no attempt limit.
    pub const fn exponential(initial: Duration, multiplier: f64) -> Backoff {
        Backoff::new(Strategy::Exponential { multiplier }, initial)
    }

    /// `initial + step * n`, capped at 30 s, no attempt limit.
    pub const fn linear(initial: Duration, step: Duration) -> Backoff {
        Backoff::new(Strategy::Linear { step }, initial)
    }

    /// Always `delay` (capped at 30 s), no attempt limit.
    pub const fn constant(delay: Duration) -> Backoff {
        Backoff::new(Strategy::Constant, delay)
    }

    /// A preset by name: `fast`, `normal` or `slow`.
    pub fn preset(name: &str) -> Option<Backoff> {
        match name.to_ascii_lowercase().as_str() {
            "fast" => Some(Backoff::FAST),
            "normal" => Some(Backoff::NORMAL),
            "slow" => Some(Backoff::SLOW),
            _ => None,
        }
    }

    /// Sets the first delay.
    pub const fn with_initial_delay(mut self, initial: Duration) -> Self {
        self.initial = initial;
        self
    }

    /// Makes the schedule exponential with this multiplier.
    pub const fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.strategy = Strategy::Exponential { multiplier };
        self
    }

    /// Caps every delay (after jitter).
    pub const fn with_max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// Gives up after this many attempts (the iterator yields `attempts - 1` delays).
    pub const fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// Removes the attempt limit (something else, such as a deadline, must end the wait).
    pub const fn without_max_attempts(mut self) -> Self {
        self.max_attempts = None;
        self
    }

    /// Sets the jitter.
    pub const fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Seeds the jitter, for reproducible sequences.
    pub const fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The first delay.
    pub const fn initial_delay(&self) -> Duration {
        self.initial
    }

    /// The cap on every delay.
    pub const fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The attempt limit, if any.
    pub const fn max_attempts(&self) -> Option<u32> {
        self.max_attempts
    }

    /// The growth strategy.
    pub const fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// The jitter.
    pub const fn jitter(&self) -> Jitter {
        self.jitter
    }

    /// Checks for nonsense: a multiplier below 1 or not finite, a first delay above the
    /// cap, zero attempts.
    pub fn validate(&self) -> Result<(), BackoffError> {
        if let Strategy::Exponential { multiplier } = self.strategy
            && (!multiplier.is_finite() || multiplier < 1.0)
        {
            return Err(BackoffError::Multiplier(multiplier));
        }
        if self.initial > self.max_delay {
            return Err(BackoffError::InitialAboveMax { initial: self.initial, max_delay: self.max_delay });
        }
        if self.max_attempts == Some(0) {
            return Err(BackoffError::ZeroAttempts);
        }
        Ok(())
    }

    /// The delay before retry `n` (0 for the first retry), without jitter, capped.
    /// Saturates: never overflows, whatever `n` and the multiplier.
    pub fn base_delay(&self, n: u32) -> Duration {
        let raw = match self.strategy {
            Strategy::Constant => self.initial,
            Strategy::Linear { step } => {
                step.checked_mul(n).and_then(|s| self.initial.checked_add(s)).unwrap_or(Duration::MAX)
            }
            Strategy::Exponential { multiplier } => {
                let factor =
                    if multiplier.is_finite() && multiplier >= 1.0 { multiplier.powf(f64::from(n)) } else { 1.0 };
                let secs = self.initial.as_secs_f64() * factor;
                if secs >= self.max_delay.as_secs_f64() {
                    self.max_delay
                } else {
                    Duration::try_from_secs_f64(secs).unwrap_or(self.max_delay)
                }
            }
        };
        raw.min(self.max_delay)
    }

    /// The delay before retry `n` with jitter applied, drawing from `rng`.
    fn jittered_delay(&self, n: u32, rng: &mut fastrand::Rng) -> Duration {
        let base = self.base_delay(n);
        let nanos = u64::try_from(base.as_nanos()).unwrap_or(u64::MAX);
        match self.jitter {
            Jitter::None => base,
            Jitter::Full => Duration::from_nanos(rng.u64(0..=nanos)),
            Jitter::Equal => Duration::from_nanos(nanos - nanos / 2 + rng.u64(0..=nanos / 2)),
        }
    }

    /// The delays between attempts: `Some(delay)` means wait and try again, `None` means
    /// give up. Unlimited when there is no attempt limit.
    pub fn iter(&self) -> BackoffIter {
        let rng = match self.seed {
            Some(seed) => fastrand::Rng::with_seed(seed),
            None => fastrand::Rng::new(),
        };
        BackoffIter { backoff: *self, retry: 0, rng }
    }
}

impl IntoIterator for Backoff {
    type Item = Duration;
    type IntoIter = BackoffIter;
    fn into_iter(self) -> BackoffIter {
        self.iter()
    }
}

/// The iterator of [`Backoff::iter`].
#[derive(Debug, Clone)]
pub struct BackoffIter {
    backoff: Backoff,
    retry: u32,
    rng: fastrand::Rng,
}

impl BackoffIter {
    /// How many delays have been handed out.
    pub fn retries(&self) -> u32 {
        self.retry
    }
}

impl Iterator for BackoffIter {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.backoff.max_attempts.is_some_and(|max| self.retry.saturating_add(1) >= max) {
            return None;
        }
        let delay = self.backoff.jittered_delay(self.retry, &mut self.rng);
        self.retry = self.retry.saturating_add(1);
        Some(delay)
    }
}

/// A [`Backoff`] that makes no sense.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BackoffError {
    /// The multiplier is below 1 or not a finite number.
    #[error("backoff multiplier must be a number >= 1, got {0}")]
    Multiplier(f64),
    /// The first delay is longer than the cap.
    #[error("initial delay {initial:?} is longer than the max delay {max_delay:?}")]
    InitialAboveMax {
        /// The first delay.
        initial: Duration,
        /// The cap.
        max_delay: Duration,
    },
    /// Zero attempts would never probe at all.
    #[error("max attempts must be at least 1")]
    ZeroAttempts,
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Exponential { multiplier } => write!(f, "exponential x{multiplier}"),
            Strategy::Linear { step } => write!(f, "linear +{step:?}"),
            Strategy::Constant => f.write_str("constant"),
        }
    }
}

#[cfg(test)]
mod tests;
