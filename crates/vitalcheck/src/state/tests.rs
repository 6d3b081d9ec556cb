use super::*;
use Status::{Degraded as D, Healthy as H, Unhealthy as U};
use proptest::collection::vec;
use proptest::prelude::{any, prop_assert, prop_assert_eq, proptest};
use proptest::strategy::Strategy as _;

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Feeds `results` at `10 s * i` to a fresh probe started at 0; returns the transitions.
fn run(th: Thresholds, results: &[Status], reason: &str) -> Vec<Option<Transition>> {
    let mut p = ProbeState::new(th, Duration::ZERO);
    results.iter().enumerate().map(|(i, r)| p.observe(*r, reason, secs(10 * i as u64))).collect()
}

fn reasons(th: Thresholds, results: &[Status], reason: &str) -> Vec<String> {
    run(th, results, reason).into_iter().flatten().map(|t| format!("{}->{} {}", t.from, t.to, t.reason)).collect()
}

/// The reference model: the status after `results`, read off the whole history rather than
/// from counters. The latest index where a run meets a threshold decides; a failure counts
/// unless no success came before it and it is inside the start period.
fn reference(th: Thresholds, started_at: Duration, results: &[(Status, Duration)]) -> TargetStatus {
    if results.is_empty() {
        return TargetStatus::Unknown;
    }
    let (f, s) = (th.failure_threshold.max(1) as usize, th.success_threshold.max(1) as usize);
    let first_success = results.iter().position(|(r, _)| *r != U);
    let grace_end = started_at.checked_add(th.start_period);
    let counted = |k: usize| {
        let in_grace = first_success.is_none_or(|fs| k < fs) && grace_end.is_none_or(|end| results[k].1 < end);
        results[k].0 == U && !in_grace
    };
    for j in (0..results.len()).rev() {
        if (0..=j).rev().take_while(|&k| counted(k)).count() >= f {
            return TargetStatus::Unhealthy;
        }
        if results[..=j].iter().rev().take_while(|(r, _)| *r != U).count() >= s {
            let last_success = results.iter().rev().find(|(r, _)| *r != U).map(|(r, _)| *r);
            return last_success.map_or(TargetStatus::Starting, TargetStatus::from);
        }
    }
    TargetStatus::Starting
}

/// Runs `results` through a probe and checks every step against the reference.
fn check_against_reference(th: Thresholds, started_at: Duration, results: &[(Status, Duration)]) {
    let mut p = ProbeState::new(th, started_at);
    let mut since = started_at;
    for i in 0..results.len() {
        let before = reference(th, started_at, &results[..i]);
        let after = reference(th, started_at, &results[..=i]);
        let (r, now) = results[i];
        let t = p.observe(r, "x", now);
        let ctx = || format!("{th:?} {results:?} step {i}");
        assert_eq!(p.status(), after, "{}", ctx());
        match t {
            Some(t) => {
                assert_eq!((t.from, t.to, t.at), (before, after, now), "{}", ctx());
                since = now;
            }
            None => assert_eq!(before, after, "{}", ctx()),
        }
        assert_eq!(p.since(), since, "{}", ctx());
    }
}

#[test]
fn exhaustive_sequences_up_to_six_match_the_reference() {
    let all = [H, D, U];
    let mut checked = 0;
    for (f, s) in [(1, 1), (3, 1), (2, 2), (1, 3), (3, 2)] {
        for start_period in [Duration::ZERO, secs(25)] {
            let th = Thresholds::new(f, s).with_start_period(start_period);
            for len in 0..=6u32 {
                for code in 0..3usize.pow(len) {
                    let seq: Vec<_> = (0..len as usize)
                        .map(|i| (all[code / 3usize.pow(i as u32) % 3], secs(10 * i as u64)))
                        .collect();
                    check_against_reference(th, Duration::ZERO, &seq);
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 1093 * 10);
}

#[test]
fn docker_defaults_and_validation() {
    assert_eq!(Thresholds::default(), Thresholds::DOCKER);
    assert_eq!((Thresholds::DOCKER.failure_threshold, Thresholds::DOCKER.success_threshold), (3, 1));
    assert_eq!(Thresholds::DOCKER.start_period, Duration::ZERO);
    assert_eq!(Thresholds::DOCKER.validate(), Ok(()));
    assert_eq!(Thresholds::new(0, 1).validate(), Err(ThresholdsError::ZeroFailureThreshold));
    assert_eq!(Thresholds::DOCKER.with_success_threshold(0).validate(), Err(ThresholdsError::ZeroSuccessThreshold));
    assert_eq!(ThresholdsError::ZeroFailureThreshold.to_string(), "failure_threshold must be at least 1");
    let th = Thresholds::DOCKER.with_failure_threshold(5).with_start_period(secs(9));
    assert_eq!(th, Thresholds { failure_threshold: 5, success_threshold: 1, start_period: secs(9) });
}

#[test]
fn zero_thresholds_act_as_one() {
    assert_eq!(
        reasons(Thresholds::new(0, 0), &[U, H], "r"),
        ["unknown->unhealthy 1 failure: r", "unhealthy->healthy 1 success: r"]
    );
}

#[test]
fn reasons_for_failures() {
    assert_eq!(
        reasons(Thresholds::DOCKER, &[U, U, U, U], "connection refused"),
        [
            "unknown->starting 1 of 3 failures before unhealthy: connection refused",
            "starting->unhealthy 3 consecutive failures: connection refused",
        ]
    );
    assert_eq!(reasons(Thresholds::new(1, 1), &[U], "timeout"), ["unknown->unhealthy 1 failure: timeout"]);
    assert_eq!(
        reasons(Thresholds::new(2, 1), &[H, U, U], ""),
        ["unknown->healthy 1 success after start", "healthy->unhealthy 2 consecutive failures"]
    );
}

#[test]
fn reasons_for_successes() {
    assert_eq!(reasons(Thresholds::DOCKER, &[H], "200 OK"), ["unknown->healthy 1 success after start: 200 OK"]);
    assert_eq!(
        reasons(Thresholds::new(1, 2), &[H, H, U, H, H], "ok"),
        [
            "unknown->starting 1 of 2 successes before healthy: ok",
            "starting->healthy 2 consecutive successes after start: ok",
            "healthy->unhealthy 1 failure: ok",
            "unhealthy->healthy 2 consecutive successes: ok",
        ]
    );
    assert_eq!(
        reasons(Thresholds::new(1, 1), &[U, D], "slow"),
        ["unknown->unhealthy 1 failure: slow", "unhealthy->degraded 1 success: slow"]
    );
}

#[test]
fn degraded_counts_as_success_and_follows_the_latest_result() {
    assert_eq!(
        reasons(Thresholds::new(3, 2), &[D, D, H, U, D, U, U, U, D, H], "r"),
        [
            "unknown->starting 1 of 2 successes before healthy: r",
            "starting->degraded 2 consecutive successes after start: r",
            "degraded->healthy healthy: r",
            "healthy->degraded degraded: r",
            "degraded->unhealthy 3 consecutive failures: r",
            "unhealthy->healthy 2 consecutive successes: r",
        ]
    );
}

#[test]
fn start_period_failures_do_not_count_and_first_success_ends_it() {
    let th = Thresholds::new(1, 1).with_start_period(secs(25));
    // Results at 0, 10, 20 s are inside the start period; 30 s is not.
    assert_eq!(
        reasons(th, &[U, U, U, U], "refused"),
        ["unknown->starting failure in start period: refused", "starting->unhealthy 1 failure: refused"]
    );
    assert_eq!(
        reasons(th, &[U, H, U], "r"),
        [
            "unknown->starting failure in start period: r",
            "starting->healthy 1 success after start: r",
            "healthy->unhealthy 1 failure: r"
        ]
    );
    let mut p = ProbeState::new(th.with_success_threshold(2), secs(100));
    assert!(p.in_start_period(secs(124)) && !p.in_start_period(secs(125)));
    p.observe(H, "", secs(101));
    assert!(p.start_period_over() && !p.in_start_period(secs(102)));
    assert_eq!(p.status(), TargetStatus::Starting);
    assert_eq!(p.observe(U, "down", secs(102)).map(|t| t.to), Some(TargetStatus::Unhealthy));
}

#[test]
fn a_start_period_past_the_end_of_time_never_ends_by_time() {
    let mut p = ProbeState::new(Thresholds::new(1, 1).with_start_period(Duration::MAX), secs(5));
    assert!(p.observe(U, "", Duration::MAX).is_some_and(|t| t.to == TargetStatus::Starting));
    assert_eq!(p.consecutive_failures(), 0);
}

#[test]
fn status_names_and_serde() {
    assert_eq!(TargetStatus::Starting.to_string(), "starting");
    assert_eq!(serde_json::to_string(&TargetStatus::Unhealthy).unwrap(), "\"unhealthy\"");
    assert_eq!(serde_json::from_str::<TargetStatus>("\"unknown\"").unwrap(), TargetStatus::Unknown);
    assert_eq!(TargetStatus::Degraded.status(), Some(Status::Degraded));
    assert_eq!(TargetStatus::Starting.status(), None);
    assert!(TargetStatus::Healthy.is_up() && !TargetStatus::Starting.is_up());
    let t = Transition { from: TargetStatus::Healthy, to: TargetStatus::Unhealthy, reason: "r".into(), at: secs(3) };
    let json = serde_json::to_string(&t).unwrap();
    assert_eq!(json, r#"{"from":"healthy","to":"unhealthy","reason":"r","at":{"secs":3,"nanos":0}}"#);
    assert_eq!(serde_json::from_str::<Transition>(&json).unwrap(), t);
}

#[test]
fn restore_continues_where_it_left_off() {
    let mut p = ProbeState::new(Thresholds::DOCKER, secs(1));
    p.observe(H, "", secs(2));
    p.observe(U, "", secs(3));
    p.observe(U, "", secs(4));
    let stored = serde_json::to_string(&p.snapshot()).unwrap();
    let mut q = ProbeState::restore(Thresholds::DOCKER, serde_json::from_str(&stored).unwrap());
    assert_eq!(q, p);
    assert_eq!(
        (q.status(), q.consecutive_failures(), q.since(), q.started_at()),
        (TargetStatus::Healthy, 2, secs(2), secs(1))
    );
    assert_eq!(q.observe(U, "refused", secs(5)).map(|t| t.reason), Some("3 consecutive failures: refused".into()));
}

fn status() -> impl proptest::strategy::Strategy<Value = Status> {
    (0u8..3).prop_map(|i| [H, D, U][usize::from(i)])
}

fn thresholds() -> impl proptest::strategy::Strategy<Value = Thresholds> {
    (1u32..6, 1u32..5, 0u64..100).prop_map(|(f, s, sp)| Thresholds::new(f, s).with_start_period(secs(sp)))
}

/// Results at arbitrary times, in any order, up to the end of time.
fn anytime_results() -> impl proptest::strategy::Strategy<Value = Vec<(Status, Duration)>> {
    vec((status(), any::<u64>(), 0u32..1_000_000_000).prop_map(|(r, s, n)| (r, Duration::new(s, n))), 0..30)
}

/// Results at increasing times (steps of 0 to 40 s from 0).
fn monotone_results() -> impl proptest::strategy::Strategy<Value = Vec<(Status, Duration)>> {
    vec((status(), 0u64..40), 0..30).prop_map(|v| {
        let mut t = 0;
        v.into_iter()
            .map(|(r, step)| {
                t += step;
                (r, secs(t))
            })
            .collect()
    })
}

fn feed(p: &mut ProbeState, results: &[(Status, Duration)]) -> Vec<Option<Transition>> {
    results.iter().map(|(r, t)| p.observe(*r, "r", *t)).collect()
}

proptest! {
    #[test]
    fn matches_the_reference_on_longer_runs(th in thresholds(), results in monotone_results()) {
        check_against_reference(th, Duration::ZERO, &results);
    }

    #[test]
    fn failure_runs_below_the_threshold_never_flip_an_up_target(
        f in 2u32..8, s in 1u32..4, runs in vec((0u32..16, status()), 0..20), later in any::<u64>(),
    ) {
        let mut p = ProbeState::new(Thresholds::new(f, s), Duration::ZERO);
        for _ in 0..s { p.observe(H, "", Duration::ZERO); }
        prop_assert_eq!(p.status(), TargetStatus::Healthy);
        for (len, level) in runs {
            let success = if level == U { H } else { level };
            for _ in 0..len % f {
                prop_assert!(p.observe(U, "blip", secs(later)).is_none());
            }
            p.observe(success, "", secs(later));
            prop_assert!(p.status().is_up());
        }
    }

    #[test]
    fn failure_threshold_failures_always_flip(th in thresholds(), prefix in anytime_results()) {
        let mut p = ProbeState::new(th, Duration::ZERO);
        feed(&mut p, &prefix);
        for _ in 0..th.failure_threshold {
            p.observe(U, "", th.start_period);
        }
        prop_assert_eq!(p.status(), TargetStatus::Unhealthy);
    }

    #[test]
    fn success_threshold_successes_always_recover(th in thresholds(), prefix in anytime_results(), last in status()) {
        let mut p = ProbeState::new(th, Duration::ZERO);
        feed(&mut p, &prefix);
        let last = if last == U { D } else { last };
        for _ in 1..th.success_threshold { p.observe(H, "", secs(7)); }
        p.observe(last, "", secs(7));
        prop_assert_eq!(p.status(), TargetStatus::from(last));
    }

    #[test]
    fn transitions_only_on_a_change(th in thresholds(), start in any::<u64>(), results in anytime_results()) {
        let mut p = ProbeState::new(th, secs(start));
        for (r, now) in &results {
            let before = p.status();
            match p.observe(*r, "r", *now) {
                Some(t) => {
                    prop_assert!(t.from == before && t.to == p.status() && t.from != t.to);
                    prop_assert_eq!((t.at, p.since()), (*now, *now));
                }
                None => prop_assert_eq!(p.status(), before),
            }
            prop_assert!(p.status() != TargetStatus::Unknown);
        }
    }

    #[test]
    fn pure_same_inputs_same_outputs(th in thresholds(), start in any::<u64>(), results in anytime_results()) {
        let (mut a, mut b) = (ProbeState::new(th, secs(start)), ProbeState::new(th, secs(start)));
        prop_assert_eq!(feed(&mut a, &results), feed(&mut b, &results));
        prop_assert_eq!(a, b);
    }

    #[test]
    fn snapshot_and_restore_change_nothing(th in thresholds(), results in anytime_results(), cut in any::<usize>()) {
        let cut = if results.is_empty() { 0 } else { cut % results.len() };
        let mut a = ProbeState::new(th, secs(3));
        feed(&mut a, &results[..cut]);
        let mut b = ProbeState::restore(th, a.snapshot());
        prop_assert_eq!(feed(&mut a, &results[cut..]), feed(&mut b, &results[cut..]));
        prop_assert_eq!(a.snapshot(), b.snapshot());
    }
}
