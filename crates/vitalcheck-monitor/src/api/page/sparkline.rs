//! The response-time sparkline: recent latencies as the points of an inline SVG polyline
//! (and the area under it), scaled from zero to the highest, so small jitter stays small.

use crate::history::Sample;
use std::fmt::Write;
use std::time::Duration;
use vitalcheck::Status;

/// The SVG's width in user units (the element stretches to its box).
pub(super) const WIDTH: f64 = 120.0;
/// The SVG's height in user units.
pub(super) const HEIGHT: f64 = 32.0;

/// A sparkline ready to draw.
#[derive(Debug, PartialEq)]
pub(super) struct Sparkline {
    /// `x,y x,y ...` for `<polyline points>`.
    pub(super) line: String,
    /// The same points closed along the bottom, for `<polygon points>`.
    pub(super) area: String,
    /// The highest latency shown (the top of the scale).
    pub(super) max: Duration,
    /// The latest latency shown.
    pub(super) last: Duration,
}

/// The sparkline of the latencies of `samples` (oldest first) that were up; `None` with
/// fewer than two (failed probes' latencies are timeouts and refusals, not response times).
pub(super) fn sparkline(samples: &[Sample]) -> Option<Sparkline> {
    let up: Vec<Duration> = samples.iter().filter(|s| s.status != Status::Unhealthy).map(|s| s.latency).collect();
    let (&last, &max) = (up.last()?, up.iter().max()?);
    if up.len() < 2 {
        return None;
    }
    let top = max.as_secs_f64().max(1e-6);
    let step = WIDTH / (up.len() - 1) as f64;
    let mut line = String::with_capacity(up.len() * 12);
    for (i, latency) in up.iter().enumerate() {
        let y = HEIGHT - 1.0 - (latency.as_secs_f64() / top) * (HEIGHT - 2.0);
        let sep = if i == 0 { "" } else { " " };
        let _ = write!(line, "{sep}{:.1},{y:.1}", i as f64 * step);
    }
    let area = format!("0,{HEIGHT} {line} {WIDTH},{HEIGHT}");
    Some(Sparkline { line, area, max, last })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn sample(status: Status, ms: u64) -> Sample {
        Sample { at: Timestamp::UNIX_EPOCH, status, latency: Duration::from_millis(ms) }
    }

    #[test]
    fn scales_up_latencies_from_zero_to_the_highest() {
        let samples = [
            sample(Status::Healthy, 10),
            sample(Status::Unhealthy, 5_000),
            sample(Status::Degraded, 20),
            sample(Status::Healthy, 5),
        ];
        let s = sparkline(&samples).unwrap_or_else(|| panic!("three up samples"));
        assert_eq!(s.line, "0.0,16.0 60.0,1.0 120.0,23.5");
        assert_eq!(s.area, format!("0,32 {} 120,32", s.line));
        assert_eq!((s.max, s.last), (Duration::from_millis(20), Duration::from_millis(5)));
    }

    #[test]
    fn needs_two_up_samples() {
        assert_eq!(sparkline(&[]), None);
        assert_eq!(sparkline(&[sample(Status::Healthy, 3)]), None);
        assert_eq!(sparkline(&[sample(Status::Unhealthy, 3), sample(Status::Unhealthy, 3)]), None);
    }
}
