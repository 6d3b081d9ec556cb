//! The response-time sparkline: recent latencies as the points of an inline SVG polygon
//! (the line and the area under it), scaled from zero to the highest, so small jitter stays small.

use crate::history::Sample;
use std::fmt::Write;
use std::time::Duration;
use vitalcheck::Status;

/// The SVG's width in user units (the element stretches to its box).
pub(super) const WIDTH: f64 = 120.0;
/// The SVG's height in user units.
pub(super) const HEIGHT: f64 = 32.0;
/// How far outside the view box the polygon closes (past the stroke's width).
const OUTSIDE: f64 = 3.0;

/// A sparkline ready to draw.
#[derive(Debug, PartialEq)]
pub(super) struct Sparkline {
    /// `x,y x,y ...` of the line, closed below the bottom edge for `<polygon points>`:
    /// the closing edges lie outside the view box, so one stroked and filled polygon draws
    /// both the line and the area under it (half the bytes of a polyline and a polygon).
    pub(super) points: String,
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
    let y = |latency: &Duration| HEIGHT - 1.0 - (latency.as_secs_f64() / top) * (HEIGHT - 2.0);
    let (first, below) = (y(&up[0]), HEIGHT + OUTSIDE);
    let mut points = String::with_capacity(up.len() * 10 + 40);
    let _ = write!(points, "{},{below} {},{first:.1}", -OUTSIDE, -OUTSIDE);
    for (i, latency) in up.iter().enumerate() {
        let _ = write!(points, " {:.1},{:.1}", i as f64 * step, y(latency));
    }
    let right = WIDTH + OUTSIDE;
    let _ = write!(points, " {right},{:.1} {right},{below}", y(&last));
    Some(Sparkline { points, max, last })
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
        assert_eq!(s.points, "-3,35 -3,16.0 0.0,16.0 60.0,1.0 120.0,23.5 123,23.5 123,35");
        assert_eq!((s.max, s.last), (Duration::from_millis(20), Duration::from_millis(5)));
    }

    #[test]
    fn needs_two_up_samples() {
        assert_eq!(sparkline(&[]), None);
        assert_eq!(sparkline(&[sample(Status::Healthy, 3)]), None);
        assert_eq!(sparkline(&[sample(Status::Unhealthy, 3), sample(Status::Unhealthy, 3)]), None);
    }
}
