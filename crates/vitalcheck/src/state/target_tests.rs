use super::*;
use ProbeKind::{Liveness as L, Readiness as R, Startup as S};
use Status::{Degraded as D, Healthy as H, Unhealthy as U};
use TargetStatus as T;
use proptest::collection::vec;
use proptest::prelude::{any, prop_assert, prop_assert_eq, proptest};
use proptest::strategy::Strategy as _;

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn full() -> TargetState {
    TargetState::new(Duration::ZERO)
        .with_startup(Thresholds::new(3, 1))
        .with_liveness(Thresholds::DOCKER)
        .with_readiness(Thresholds::new(1, 1))
}

fn describe(t: &Option<Transition>) -> Option<String> {
    t.as_ref().map(|t| format!("{}->{} {}", t.from, t.to, t.reason))
}

#[test]
fn startup_gates_the_other_probes() {
    let mut t = full();
    assert_eq!((t.status(), t.probes_to_run()), (T::Unknown, &[S][..]));
    // Liveness and readiness results are ignored until startup succeeds.
    assert_eq!(t.observe(L, U, "down", secs(1)), Observed::default());
    assert_eq!(t.observe(R, H, "ok", secs(1)), Observed::default());
    assert_eq!(t.probe(L).map(ProbeState::status), Some(T::Unknown));
    let o = t.observe(S, U, "refused", secs(2));
    assert_eq!(
        describe(&o.target).as_deref(),
        Some("unknown->starting startup probe: 1 of 3 failures before unhealthy: refused")
    );
    let o = t.observe(S, H, "ok", secs(3));
    assert_eq!(describe(&o.probe).as_deref(), Some("starting->healthy 1 success after start: ok"));
    assert_eq!(o.target, None); // still Starting: liveness and readiness have no result yet
    assert_eq!(t.probes_to_run(), &[L, R]);
    // Startup never runs again.
    assert_eq!(t.observe(S, U, "late", secs(4)), Observed::default());
    assert_eq!(t.observe(L, H, "ok", secs(5)).target, None);
    let o = t.observe(R, H, "ready", secs(6));
    assert_eq!(describe(&o.target).as_deref(), Some("starting->healthy readiness probe: 1 success after start: ready"));
    assert_eq!((t.status(), t.since()), (T::Healthy, secs(6)));
}

#[test]
fn startup_failure_is_a_liveness_failure() {
    let mut t = full();
    assert!(!t.observe(S, U, "refused", secs(1)).restart);
    assert!(!t.observe(S, U, "refused", secs(2)).restart);
    let o = t.observe(S, U, "refused", secs(3));
    assert!(o.restart && t.needs_restart());
    assert_eq!(
        describe(&o.target).as_deref(),
        Some("starting->unhealthy startup probe: 3 consecutive failures: refused")
    );
    assert_eq!(t.probes_to_run(), &[S]); // a target nobody restarts can still come up
    assert!(!t.observe(S, U, "refused", secs(4)).restart); // asked once, not on every failure
    let back = t.restarted(secs(10));
    assert_eq!(describe(&back).as_deref(), Some("unhealthy->unknown restarted"));
    assert!(!t.needs_restart());
    assert_eq!(t.probe(S).map(|p| (p.status(), p.started_at())), Some((T::Unknown, secs(10))));
    assert_eq!(t.restarted(secs(11)), None);
}

#[test]
fn startup_start_period_and_recovery_without_restart() {
    let mut t = TargetState::new(secs(100))
        .with_startup(Thresholds::new(1, 1).with_start_period(secs(30)))
        .with_liveness(Thresholds::new(1, 1));
    for at in [100, 110, 129] {
        assert!(!t.observe(S, U, "booting", secs(at)).restart);
    }
    assert_eq!(t.status(), T::Starting);
    assert!(t.observe(S, U, "booting", secs(130)).restart);
    assert_eq!(t.status(), T::Unhealthy);
    let o = t.observe(S, H, "up", secs(140));
    assert_eq!(describe(&o.target).as_deref(), Some("unhealthy->starting startup probe: 1 success: up"));
    assert!(!t.needs_restart());
    assert_eq!(t.observe(L, D, "slow", secs(150)).target.map(|t| t.to), Some(T::Degraded));
}

#[test]
fn liveness_failure_asks_for_a_restart_readiness_failure_does_not() {
    let mut t =
        TargetState::new(Duration::ZERO).with_liveness(Thresholds::new(2, 1)).with_readiness(Thresholds::new(1, 1));
    assert_eq!(t.probes_to_run(), &[L, R]);
    t.observe(L, H, "", secs(1));
    t.observe(R, H, "", secs(1));
    assert_eq!(t.status(), T::Healthy);
    let o = t.observe(R, U, "queue full", secs(2));
    assert!(!o.restart && !t.needs_restart());
    assert_eq!(describe(&o.target).as_deref(), Some("healthy->unhealthy readiness probe: 1 failure: queue full"));
    t.observe(R, H, "", secs(3));
    assert!(t.observe(L, U, "", secs(4)).probe.is_none()); // one blip: liveness threshold is 2
    let o = t.observe(L, U, "deadlock", secs(5));
    assert!(o.restart && t.needs_restart());
    assert_eq!(
        describe(&o.target).as_deref(),
        Some("healthy->unhealthy liveness probe: 2 consecutive failures: deadlock")
    );
}

fn probe_in(status: T) -> ProbeState {
    let snapshot = ProbeSnapshot {
        status,
        consecutive_failures: 0,
        consecutive_successes: 0,
        since: Duration::ZERO,
        started_at: Duration::ZERO,
        start_period_over: true,
    };
    ProbeState::restore(Thresholds::DOCKER, snapshot)
}

#[test]
fn overall_status_combines_liveness_and_readiness() {
    use T::{Degraded as Dg, Healthy as Hy, Starting as St, Unhealthy as Uh, Unknown as Un};
    let table = [
        (Some(Hy), Some(Hy), Hy),
        (Some(Hy), Some(Dg), Dg),
        (Some(Dg), Some(Hy), Dg),
        (Some(Uh), Some(Hy), Uh),
        (Some(Hy), Some(Uh), Uh),
        (Some(Dg), Some(Uh), Uh),
        (Some(Hy), Some(Un), St),
        (Some(Un), Some(Dg), St),
        (Some(St), Some(Hy), St),
        (Some(St), Some(Uh), Uh),
        (Some(Uh), Some(Un), Uh),
        (Some(Un), Some(Un), Un),
        (Some(Dg), None, Dg),
        (None, Some(Uh), Uh),
        (Some(Un), None, Un),
        (None, None, Un),
    ];
    for (l, r, want) in table {
        let t = TargetState::restore(None, l.map(probe_in), r.map(probe_in), Duration::ZERO);
        assert_eq!(t.status(), want, "liveness {l:?} readiness {r:?}");
    }
    // Startup pending: its status; done with nothing after it: its status too.
    let startup = |s| TargetState::restore(Some(probe_in(s)), Some(probe_in(Hy)), None, Duration::ZERO);
    assert_eq!(startup(St).status(), St);
    assert_eq!(startup(Uh).status(), Uh);
    assert_eq!(startup(Dg).status(), Hy);
    let only = TargetState::restore(Some(probe_in(Dg)), None, None, Duration::ZERO);
    assert_eq!((only.status(), only.probes_to_run()), (Dg, &[][..]));
    // A succeeded startup counts as a result: liveness not yet known means Starting.
    assert_eq!(TargetState::restore(Some(probe_in(Hy)), Some(probe_in(Un)), None, Duration::ZERO).status(), St);
}

#[test]
fn probe_kind_names() {
    assert_eq!(L.to_string(), "liveness");
    assert_eq!(serde_json::to_string(&S).unwrap(), "\"startup\"");
    assert_eq!(serde_json::from_str::<ProbeKind>("\"readiness\"").unwrap(), R);
}

fn event() -> impl proptest::strategy::Strategy<Value = (ProbeKind, Status, Duration)> {
    (0u8..3, 0u8..3, any::<u32>())
        .prop_map(|(k, r, t)| ([S, L, R][usize::from(k)], [H, D, U][usize::from(r)], secs(t.into())))
}

proptest! {
    #[test]
    fn target_transitions_are_consistent(events in vec(event(), 0..40), with_startup in any::<bool>()) {
        let mut t = TargetState::new(Duration::ZERO).with_liveness(Thresholds::new(2, 1)).with_readiness(Thresholds::new(1, 2));
        if with_startup { t = t.with_startup(Thresholds::new(2, 1)); }
        for (kind, result, now) in events {
            let (before, due) = (t.clone(), t.probes_to_run());
            let o = t.observe(kind, result, "r", now);
            if !due.contains(&kind) {
                prop_assert_eq!(&t, &before);
                prop_assert_eq!(&o, &Observed::default());
                continue;
            }
            if let Some(change) = &o.target {
                prop_assert!(change.from == before.status() && change.to == t.status() && change.from != change.to);
                prop_assert!(o.probe.is_some() && change.at == now && t.since() == now);
            } else {
                prop_assert_eq!(t.status(), before.status());
            }
            prop_assert!(!o.restart || (t.needs_restart() && kind != R));
        }
    }
}
