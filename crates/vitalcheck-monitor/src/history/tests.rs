use super::*;
use proptest::prelude::*;

/// 2023-11-14T22:00:00Z, on the hour.
const T0: i64 = 1_699_999_200;

fn at(offset: i64) -> Timestamp {
    Timestamp::from_second(T0 + offset).expect("timestamp")
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn config(results: usize, tiers: Vec<Tier>) -> SharedHistoryConfig {
    HistoryConfig { results, ema_alpha: 0.2, tiers }.validate().expect("valid config")
}

/// 5 x 1 min, then 2 x 1 h.
fn small() -> History {
    History::new(&config(10, vec![Tier::new(HOUR, 2), Tier::new(Duration::from_secs(60), 5)]))
}

fn up(up: bool) -> Status {
    if up { Status::Healthy } else { Status::Unhealthy }
}

#[test]
fn ring_keeps_the_last_n_in_order() {
    let mut h = History::new(&config(3, HistoryConfig::default().tiers));
    assert!(h.is_empty() && h.last().is_none());
    let statuses = [Status::Healthy, Status::Degraded, Status::Unhealthy, Status::Healthy, Status::Degraded];
    for (i, status) in statuses.into_iter().enumerate() {
        h.record(at(i as i64 * 10), status, ms(i as u64 + 1));
    }
    let got: Vec<Sample> = h.results().collect();
    let want: Vec<Sample> =
        (2..5).map(|i| Sample { at: at(i * 10), status: statuses[i as usize], latency: ms(i as u64 + 1) }).collect();
    assert_eq!(got, want);
    assert_eq!(h.last(), Some(want[2]));
    assert_eq!(h.results().rev().collect::<Vec<_>>()[0], want[2]);
    assert_eq!((h.len(), h.recorded()), (3, 5));
}

#[test]
fn entries_pack_to_eight_bytes_and_saturate() {
    assert_eq!(std::mem::size_of::<Entry>(), 8);
    let e = Entry::new(T0, Status::Degraded, Duration::from_nanos(1_234_567_891));
    assert_eq!((e.at_second(), e.status(), e.latency_micros()), (T0, Status::Degraded, 1_234_567));
    let e = Entry::new(-5, Status::Unhealthy, Duration::from_secs(3_600));
    assert_eq!((e.at_second(), e.status(), e.latency_micros()), (0, Status::Unhealthy, ring::MAX_LATENCY_MICROS));
    let e = Entry::new(i64::MAX, Status::Healthy, Duration::ZERO);
    assert_eq!((e.at_second(), e.status(), e.latency_micros()), (i64::from(u32::MAX), Status::Healthy, 0));
}

#[test]
fn uptime_exact_over_minute_buckets_and_window_edges() {
    let mut h = small();
    assert_eq!(h.uptime(HOUR, at(0)), None);
    // minute 0: up, down; minute 1: up, up; minute 2: down.
    for (offset, ok) in [(0, true), (30, false), (60, true), (119, true), (120, false)] {
        h.record(at(offset), up(ok), ms(5));
    }
    let s = Duration::from_secs;
    assert_eq!(h.uptime(s(60), at(120)), Some(0.0));
    assert_eq!(h.uptime(s(1), at(179)), Some(0.0), "a window shorter than a bucket reads now's bucket");
    assert_eq!(h.uptime(s(120), at(120)), Some(2.0 / 3.0));
    assert_eq!(h.uptime(s(61), at(120)), Some(2.0 / 3.0), "⌈61 / 60⌉ = 2 buckets");
    assert_eq!(h.uptime(s(180), at(179)), Some(3.0 / 5.0));
    assert_eq!(h.uptime(s(300), at(120)), Some(3.0 / 5.0));
    // Now in minute 5: minute 0 is older than the window's edge, minutes 3 and 4 are empty.
    assert_eq!(h.uptime(s(300), at(359)), Some(2.0 / 3.0));
    assert_eq!(h.uptime(s(120), at(359)), None, "minutes 4 and 5 hold nothing");
    assert_eq!(h.uptime(Duration::ZERO, at(120)), None);
}

#[test]
fn uptime_rolls_over_buckets() {
    let mut h = small();
    for (offset, ok) in [(0, true), (30, false), (60, true), (119, true), (120, false)] {
        h.record(at(offset), up(ok), ms(5));
    }
    // Minute 5 reuses minute 0's slot: minute 0's counts are gone.
    h.record(at(300), up(true), ms(5));
    let s = Duration::from_secs;
    assert_eq!(h.uptime(s(300), at(300)), Some(3.0 / 4.0));
    assert_eq!(h.uptime(s(300), at(120)), Some(2.0 / 3.0), "a past `now` no longer sees minute 0");
    assert_eq!(h.uptime(s(60), at(300)), Some(1.0));
    // The hourly tier still has them all (window 1 h -> hour 0 only).
    assert_eq!(h.uptime(HOUR, at(300)), Some(4.0 / 6.0));
    // A jump past every minute bucket clears them; hour 1 starts fresh.
    h.record(at(3_600 + 10), up(false), ms(5));
    assert_eq!(h.uptime(s(300), at(3_610)), Some(0.0));
    assert_eq!(h.uptime(s(300), at(300)), None, "minute buckets of hour 0 are gone");
    assert_eq!(h.uptime(HOUR, at(3_610)), Some(0.0));
    assert_eq!(h.uptime(2 * HOUR, at(3_610)), Some(4.0 / 7.0));
    // Longer than every tier: clipped to the widest (2 h).
    assert_eq!(h.uptime(MONTH, at(3_610)), Some(4.0 / 7.0));
    // Two hours later hour 0 falls out; later still nothing is left.
    h.record(at(2 * 3_600), up(true), ms(5));
    assert_eq!(h.uptime(MONTH, at(2 * 3_600)), Some(1.0 / 2.0));
    assert_eq!(h.uptime(MONTH, at(10 * 3_600)), None);
}

#[test]
fn late_results_count_where_a_tier_still_covers_them() {
    let mut h = small();
    h.record(at(600), up(true), ms(5));
    h.record(at(590), up(false), ms(5)); // same minute tier range (minutes 6..10 kept)
    h.record(at(100), up(false), ms(5)); // minute 1: gone from the minute tier, in hour 0
    assert_eq!(h.uptime(Duration::from_secs(300), at(600)), Some(1.0 / 2.0));
    assert_eq!(h.uptime(HOUR, at(600)), Some(1.0 / 3.0));
    assert_eq!(h.last().map(|s| s.at), Some(at(100)), "the ring keeps arrival order");
}

#[test]
fn default_tiers_cover_the_standard_windows() {
    let config = HistoryConfig::default().validate().expect("default");
    let mut h = History::new(&config);
    // From midnight UTC, one result a minute for 31 days; down for 00:00 .. 00:09 each day.
    let midnight = -22 * 3_600;
    let feed = |h: &mut History, minutes: std::ops::Range<i64>| {
        for minute in minutes {
            h.record(at(midnight + minute * 60), up(minute % 1_440 >= 10), ms(20));
        }
    };
    feed(&mut h, 0..30 * 1_440 + 6);
    let now = at(midnight + 30 * 86_400 + 5 * 60); // 00:05 of day 30
    assert_eq!(h.uptime(HOUR, now), Some(50.0 / 56.0), "12 x 5 min: 23:10 .. 00:05, 6 down of 56");
    assert_eq!(h.uptime(DAY, now), Some(1_380.0 / 1_386.0), "01:00 of day 29 .. 00:05: 6 down of 1,386");
    feed(&mut h, 30 * 1_440 + 6..31 * 1_440);
    let now = at(midnight + (31 * 1_440 - 1) * 60); // 23:59 of day 30
    let u = h.uptimes(now);
    assert_eq!(u.hour, Some(1.0));
    assert_eq!(u.day, Some(1_430.0 / 1_440.0));
    assert_eq!(u.week, Some(1_430.0 / 1_440.0));
    assert_eq!(u.month, Some(1_430.0 / 1_440.0));
}

#[test]
fn ema_exact() {
    let mut h = History::new(&HistoryConfig { ema_alpha: 0.25, ..HistoryConfig::default() }.validate().expect("ok"));
    assert_eq!(h.latency_ema(), None);
    h.record(at(0), Status::Unhealthy, ms(9)); // down: ignored
    assert_eq!(h.latency_ema(), None);
    h.record(at(1), Status::Healthy, ms(1));
    assert_eq!(h.latency_ema(), Some(ms(1)));
    h.record(at(2), Status::Degraded, ms(2)); // 0.25 * 2 + 0.75 * 1
    assert_eq!(h.latency_ema(), Some(Duration::from_micros(1_250)));
    h.record(at(3), Status::Healthy, ms(3)); // 0.25 * 3 + 0.75 * 1.25
    assert_eq!(h.latency_ema(), Some(Duration::from_nanos(1_687_500)));
    h.record(at(4), Status::Unhealthy, ms(500));
    assert_eq!(h.latency_ema(), Some(Duration::from_nanos(1_687_500)));
}

#[test]
fn percentiles_small_cases() {
    let mut h = small();
    assert_eq!(h.latency_percentiles(), None);
    h.record(at(0), Status::Unhealthy, ms(1));
    assert_eq!(h.latency_percentiles(), None, "down results carry no latency");
    for n in [40, 10, 30, 20] {
        h.record(at(1), Status::Healthy, ms(n));
    }
    assert_eq!(h.latency_percentiles(), Some(Percentiles { p50: ms(20), p95: ms(40), p99: ms(40) }));
    assert_eq!(h.latency_percentile(0.0), Some(ms(10)));
    assert_eq!(h.latency_percentile(25.0), Some(ms(10)));
    assert_eq!(h.latency_percentile(26.0), Some(ms(20)));
    assert_eq!(h.latency_percentile(100.0), Some(ms(40)));
}

#[test]
fn memory_is_flat_over_a_million_results_in_sixty_days() {
    let config = HistoryConfig::default().validate().expect("default");
    let mut h = History::new(&config);
    let (heap, total) = (h.heap_bytes(), h.memory_bytes());
    assert_eq!(heap, 100 * 8 + 94 * 8);
    let step_ms = 60 * 86_400 * 1_000 / 1_000_000; // 5.184 s
    for i in 0..1_000_000u64 {
        let at = Timestamp::from_millisecond(T0 * 1_000 + (i * step_ms) as i64).expect("timestamp");
        h.record(at, up(i % 7 != 0), Duration::from_micros(i % 100_000));
        if i % 1_000 == 0 {
            assert_eq!((h.heap_bytes(), h.memory_bytes()), (heap, total), "after {i} results");
        }
    }
    assert_eq!((h.heap_bytes(), h.memory_bytes(), h.len()), (heap, total, 100));
    let now = at(60 * 86_400);
    let month = h.uptime(MONTH, now).expect("data");
    assert!((month - 6.0 / 7.0).abs() < 1e-3, "{month}");
}

#[test]
fn rebuild_restores_the_aggregates() {
    let config = HistoryConfig::default().validate().expect("default");
    let rows: Vec<(Timestamp, Status, Duration)> =
        (0..5_000).map(|i| (at(i * 37), up(i % 5 != 0), Duration::from_micros((i as u64 * 7_919) % 90_000))).collect();
    let mut live = History::new(&config);
    for &(t, s, l) in &rows {
        live.record(t, s, l);
    }
    let rebuilt = History::rebuild(&config, rows);
    let now = at(5_000 * 37);
    assert_eq!(rebuilt.results().collect::<Vec<_>>(), live.results().collect::<Vec<_>>());
    assert_eq!(rebuilt.uptimes(now), live.uptimes(now));
    assert_eq!(rebuilt.latency_percentiles(), live.latency_percentiles());
    assert_eq!(rebuilt.latency_ema(), live.latency_ema());
    assert_eq!(rebuilt.recorded(), 5_000);
}

#[test]
fn config_is_validated() {
    let base = HistoryConfig::default;
    let err = |c: HistoryConfig| c.validate().expect_err("invalid");
    assert_eq!(err(HistoryConfig { results: 0, ..base() }), HistoryConfigError::Results(0));
    assert_eq!(err(HistoryConfig { ema_alpha: 0.0, ..base() }), HistoryConfigError::Alpha(0.0));
    assert!(matches!(err(HistoryConfig { ema_alpha: f64::NAN, ..base() }), HistoryConfigError::Alpha(_)));
    assert_eq!(err(HistoryConfig { tiers: vec![], ..base() }), HistoryConfigError::NoTiers);
    let half = Duration::from_millis(1_500);
    assert_eq!(err(HistoryConfig { tiers: vec![Tier::new(half, 3)], ..base() }), HistoryConfigError::Width(half));
    assert_eq!(err(HistoryConfig { tiers: vec![Tier::new(HOUR, 0)], ..base() }), HistoryConfigError::Buckets(0));
    let sorted = HistoryConfig { tiers: vec![Tier::new(DAY, 3), Tier::new(HOUR, 2)], ..base() }.validate();
    assert_eq!(sorted.expect("valid").tiers, vec![Tier::new(HOUR, 2), Tier::new(DAY, 3)]);
}

proptest! {
    #[test]
    fn percentiles_match_a_sorted_vector(
        capacity in 1usize..64,
        results in prop::collection::vec((any::<bool>(), 0u32..=ring::MAX_LATENCY_MICROS), 0..200),
    ) {
        let mut h = History::new(&config(capacity, vec![Tier::new(HOUR, 1)]));
        for (i, &(ok, micros)) in results.iter().enumerate() {
            h.record(at(i as i64), up(ok), Duration::from_micros(u64::from(micros)));
        }
        let kept = &results[results.len().saturating_sub(capacity)..];
        let mut sorted: Vec<u64> = kept.iter().filter(|r| r.0).map(|r| u64::from(r.1)).collect();
        sorted.sort();
        let reference = |p: usize| {
            (!sorted.is_empty()).then(|| Duration::from_micros(sorted[((p * sorted.len()).div_ceil(100)).max(1) - 1]))
        };
        for p in 0..=100 {
            prop_assert_eq!(h.latency_percentile(p as f64), reference(p), "p{}", p);
        }
        let want = reference(50).map(|p50| Percentiles {
            p50,
            p95: reference(95).unwrap_or_default(),
            p99: reference(99).unwrap_or_default(),
        });
        prop_assert_eq!(h.latency_percentiles(), want);
    }

    #[test]
    fn uptime_matches_a_brute_force_count(
        steps in prop::collection::vec((0i64..400, any::<bool>()), 1..300),
        window in 1u64..4_000,
        after in 0i64..2_000,
    ) {
        let mut h = small();
        let (mut t, mut log) = (0, Vec::new());
        for &(step, ok) in &steps {
            t += step;
            h.record(at(t), up(ok), ms(1));
            log.push((t, ok));
        }
        let now = t + after;
        // The documented rule: the finest tier spanning the window (else the widest),
        // its ⌈window / width⌉ buckets ending with now's.
        let (width, buckets) = if window <= 300 { (60, 5) } else { (3_600, 2) };
        let n = window.div_ceil(width).min(buckets) as i64;
        let width = width as i64;
        let from = ((T0 + now).div_euclid(width) - n + 1) * width - T0;
        let inside: Vec<bool> = log.iter().filter(|&&(at, _)| at >= from && at <= now).map(|&(_, ok)| ok).collect();
        let want = (!inside.is_empty())
            .then(|| inside.iter().filter(|&&ok| ok).count() as f64 / inside.len() as f64);
        prop_assert_eq!(h.uptime(Duration::from_secs(window), at(now)), want);
    }
}
