use super::*;

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

const CRASH: Ended = Ended { code: 1, unhealthy: false };
const CLEAN: Ended = Ended { code: 0, unhealthy: false };
const HUNG: Ended = Ended { code: 143, unhealthy: true };

fn tracker(policy: RestartPolicy) -> RestartTracker {
    RestartTracker::new(RestartConfig { policy, ..RestartConfig::default() })
}

#[test]
fn policies_against_every_ending() {
    let table = [
        (RestartPolicy::Always, CLEAN, true),
        (RestartPolicy::Always, CRASH, true),
        (RestartPolicy::Always, HUNG, true),
        (RestartPolicy::OnFailure, CLEAN, false),
        (RestartPolicy::OnFailure, CRASH, true),
        (RestartPolicy::OnFailure, HUNG, true),
        (RestartPolicy::OnFailure, Ended { code: 0, unhealthy: true }, true),
        (RestartPolicy::Never, CLEAN, false),
        (RestartPolicy::Never, CRASH, false),
        (RestartPolicy::Never, HUNG, false),
    ];
    for (policy, ended, restarts) in table {
        let decision = tracker(policy).ended(ended, secs(0));
        match decision {
            Decision::Restart { attempt, .. } => assert!(restarts && attempt == 1, "{policy} {ended:?}"),
            Decision::Exit { code } => assert!(!restarts && code == ended.code, "{policy} {ended:?}"),
            Decision::GiveUp { .. } => panic!("no limit set, yet gave up: {policy} {ended:?}"),
        }
    }
}

#[test]
fn crash_loop_backoff_doubles_from_10s_to_5min() {
    let mut t = tracker(RestartPolicy::Always);
    let delays: Vec<u64> = (0..9)
        .map(|i| match t.ended(CRASH, secs(i)) {
            Decision::Restart { delay, .. } => delay.as_secs(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(delays, [10, 20, 40, 80, 160, 300, 300, 300, 300]);
    assert_eq!((t.consecutive(), t.total()), (9, 9));
}

#[test]
fn up_long_enough_resets_the_schedule() {
    let mut t = tracker(RestartPolicy::Always);
    for _ in 0..3 {
        t.ended(CRASH, secs(0));
    }
    // Up for 9m59s: not reset, the 4th delay is 80 s.
    t.up(secs(1_000));
    assert_eq!(t.ended(CRASH, secs(1_599)), Decision::Restart { delay: secs(80), attempt: 4 });
    // Up for exactly 10 min: reset, back to 10 s.
    t.up(secs(2_000));
    t.up(secs(2_100)); // a second `up` keeps the first time
    assert_eq!(t.ended(CRASH, secs(2_600)), Decision::Restart { delay: secs(10), attempt: 1 });
    // Up, then down again: the up time no longer counts.
    t.up(secs(3_000));
    t.down();
    assert_eq!(t.ended(CRASH, secs(9_000)), Decision::Restart { delay: secs(20), attempt: 2 });
    assert_eq!(t.total(), 6);
}

#[test]
fn gives_up_after_max_restarts_since_the_last_reset() {
    let config = RestartConfig {
        policy: RestartPolicy::OnFailure,
        backoff: Backoff::constant(secs(1)),
        reset_after: secs(60),
        max_restarts: Some(2),
    };
    let mut t = RestartTracker::new(config);
    assert!(matches!(t.ended(CRASH, secs(0)), Decision::Restart { attempt: 1, .. }));
    assert!(matches!(t.ended(HUNG, secs(1)), Decision::Restart { attempt: 2, .. }));
    assert_eq!(t.ended(CRASH, secs(2)), Decision::GiveUp { restarts: 2, code: 1 });
    // A clean exit is not restarted, so it is an exit, not giving up.
    assert_eq!(t.ended(CLEAN, secs(3)), Decision::Exit { code: 0 });
    // After a reset the budget is whole again.
    t.up(secs(10));
    assert!(matches!(t.ended(CRASH, secs(70)), Decision::Restart { attempt: 1, .. }));
    // max_restarts 0: the first failure gives up.
    let mut none = RestartTracker::new(RestartConfig { max_restarts: Some(0), ..config });
    assert_eq!(none.ended(CRASH, secs(0)), Decision::GiveUp { restarts: 0, code: 1 });
}

#[test]
fn policy_names_round_trip() {
    for policy in [RestartPolicy::Always, RestartPolicy::OnFailure, RestartPolicy::Never] {
        assert_eq!(policy.as_str().parse::<RestartPolicy>(), Ok(policy));
    }
    let err = "sometimes".parse::<RestartPolicy>().unwrap_err();
    assert_eq!(err.to_string(), "unknown restart policy \"sometimes\": expected always, on-failure or never");
}

#[test]
fn time_going_backwards_does_not_reset_or_panic() {
    let mut t = tracker(RestartPolicy::Always);
    t.ended(CRASH, secs(100));
    t.up(secs(5_000));
    assert_eq!(t.ended(CRASH, secs(10)), Decision::Restart { delay: secs(20), attempt: 2 });
}
