//! Numbers and times in words for the status page: uptime percentages that never round
//! up to 100 %, latencies with a fitting unit, ages (`3h 12m`) and UTC times.

use jiff::Timestamp;
use std::time::Duration;

/// An uptime fraction as a percentage: `100%` only when nothing failed, otherwise two
/// decimals rounded down (`0.99999` is `99.99%`, never `100.00%`); `-` without data.
pub(super) fn percent(fraction: Option<f64>) -> String {
    match fraction {
        None => "-".to_owned(),
        Some(f) if f >= 1.0 => "100%".to_owned(),
        Some(f) => format!("{:.2}%", (f.max(0.0) * 10_000.0).floor() / 100.0),
    }
}

/// A latency with a unit that fits: `850 µs`, `12.3 ms`, `340 ms`, `1.25 s`.
pub(super) fn latency(d: Duration) -> String {
    let micros = d.as_micros();
    match micros {
        0..1_000 => format!("{micros} µs"),
        1_000..100_000 => format!("{:.1} ms", micros as f64 / 1_000.0),
        100_000..1_000_000 => format!("{} ms", micros / 1_000),
        _ => format!("{:.2} s", d.as_secs_f64()),
    }
}

/// How long from `then` to `now`, in the two largest units: `12s`, `3m 20s`, `42m`,
/// `2h 5m`, `3d 4h` (seconds only below ten minutes). A `then` after `now` (clocks) counts as `0s`.
pub(super) fn age(now: Timestamp, then: Timestamp) -> String {
    let secs = u64::try_from(now.as_second().saturating_sub(then.as_second())).unwrap_or(0);
    let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) if s == 0 || m >= 10 => format!("{m}m"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// A time to the second in UTC: `2026-12-04 20:31:05 UTC`.
pub(super) fn utc(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A time in UTC as short as is clear next to `now` (the page says its times are UTC):
/// `20:31:05` on the same day, `Dec 03 20:31:05` before.
pub(super) fn short_time(now: Timestamp, at: Timestamp) -> String {
    let (day, secs) = (at.as_second().div_euclid(86_400), at.as_second().rem_euclid(86_400));
    if day == now.as_second().div_euclid(86_400) {
        // By hand: this runs for each of the 90,000 cells of a 1,000-target page.
        format!("{:02}:{:02}:{:02}", secs / 3_600, secs / 60 % 60, secs % 60)
    } else {
        at.strftime("%b %d %H:%M:%S").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_never_round_up_to_full() {
        assert_eq!(percent(None), "-");
        assert_eq!(percent(Some(1.0)), "100%");
        assert_eq!(percent(Some(0.99999)), "99.99%");
        assert_eq!(percent(Some(0.5)), "50.00%");
        assert_eq!(percent(Some(0.0)), "0.00%");
    }

    #[test]
    fn latencies_and_ages_read_naturally() {
        assert_eq!(latency(Duration::from_micros(850)), "850 µs");
        assert_eq!(latency(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(latency(Duration::from_micros(340_000)), "340 ms");
        assert_eq!(latency(Duration::from_millis(1_250)), "1.25 s");
        let t = Timestamp::from_second(1_800_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let later = |s: i64| Timestamp::from_second(t.as_second() + s).unwrap_or(t);
        assert_eq!(age(later(12), t), "12s");
        assert_eq!(age(later(180), t), "3m");
        assert_eq!(age(later(200), t), "3m 20s");
        assert_eq!(age(later(2_523), t), "42m");
        assert_eq!(age(later(7_500), t), "2h 5m");
        assert_eq!(age(later(3 * 86_400 + 4 * 3_600 + 9), t), "3d 4h");
        assert_eq!(age(t, later(5)), "0s");
        assert_eq!(utc(t), "2027-01-15 08:00:00 UTC");
        assert_eq!(short_time(later(60), t), "08:00:00");
        assert_eq!(short_time(later(3_723), later(3_723)), "09:02:03");
        assert_eq!(short_time(later(86_400), t), "Jan 15 08:00:00");
    }
}
