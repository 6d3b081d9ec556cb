use super::*;
use proptest::prelude::{Just, any, prop_assert, prop_assert_eq, prop_oneof, proptest};
use proptest::strategy::Strategy as _;

const MS: Duration = Duration::from_millis(1);

fn ms(v: &[Duration]) -> Vec<u128> {
    v.iter().map(Duration::as_millis).collect()
}

#[test]
fn exponential_exact_sequence_with_cap() {
    let b = Backoff::exponential(100 * MS, 2.0).with_max_delay(1000 * MS).with_max_attempts(7);
    assert_eq!(ms(&b.iter().collect::<Vec<_>>()), [100, 200, 400, 800, 1000, 1000]);
}

#[test]
fn linear_and_constant() {
    let lin = Backoff::linear(100 * MS, 50 * MS).with_max_attempts(4);
    assert_eq!(ms(&lin.iter().collect::<Vec<_>>()), [100, 150, 200]);
    let c = Backoff::constant(300 * MS).with_max_attempts(3);
    assert_eq!(ms(&c.iter().collect::<Vec<_>>()), [300, 300]);
}

#[test]
fn presets_match_the_design() {
    assert_eq!(Backoff::FAST.max_attempts(), Some(10));
    assert_eq!(Backoff::FAST.initial_delay(), 100 * MS);
    assert_eq!(Backoff::FAST.strategy(), Strategy::Exponential { multiplier: 1.2 });
    assert_eq!(Backoff::NORMAL.max_attempts(), Some(30));
    assert_eq!(Backoff::NORMAL.strategy(), Strategy::Exponential { multiplier: 1.5 });
    assert_eq!(Backoff::SLOW.max_attempts(), Some(50));
    assert_eq!(Backoff::SLOW.initial_delay(), 500 * MS);
    assert_eq!(Backoff::default(), Backoff::NORMAL);
    assert_eq!(Backoff::preset("Slow"), Some(Backoff::SLOW));
    assert_eq!(Backoff::preset("warp"), None);
    // normal: 200, 300, 450, 675 ms...
    assert_eq!(ms(&Backoff::NORMAL.iter().take(4).collect::<Vec<_>>()), [200, 300, 450, 675]);
    assert_eq!(Backoff::NORMAL.iter().count(), 29);
}

#[test]
fn validation_rejects_nonsense() {
    assert_eq!(Backoff::exponential(MS, 0.5).validate(), Err(BackoffError::Multiplier(0.5)));
    assert!(Backoff::exponential(MS, f64::NAN).validate().is_err());
    assert!(Backoff::exponential(MS, f64::INFINITY).validate().is_err());
    assert!(matches!(Backoff::constant(Duration::from_secs(60)).validate(), Err(BackoffError::InitialAboveMax { .. })));
    assert_eq!(Backoff::NORMAL.with_max_attempts(0).validate(), Err(BackoffError::ZeroAttempts));
    assert_eq!(Backoff::NORMAL.validate(), Ok(()));
}

#[test]
fn single_attempt_never_waits() {
    assert_eq!(Backoff::NORMAL.with_max_attempts(1).iter().next(), None);
}

#[test]
fn unlimited_keeps_going_at_the_cap() {
    let b = Backoff::exponential(MS, 2.0).with_max_delay(10 * MS);
    assert_eq!(b.iter().nth(10_000), Some(10 * MS));
}

#[test]
fn seeded_jitter_is_reproducible() {
    let b = Backoff::NORMAL.with_jitter(Jitter::Full).with_seed(7);
    let a: Vec<_> = b.iter().collect();
    let c: Vec<_> = b.iter().collect();
    assert_eq!(a, c);
    assert_ne!(a, Backoff::NORMAL.iter().collect::<Vec<_>>());
}

#[test]
fn jitter_parses() {
    assert_eq!("FULL".parse::<Jitter>(), Ok(Jitter::Full));
    assert!("some".parse::<Jitter>().unwrap_err().contains("expected none, full or equal"));
}

fn strategy() -> impl proptest::strategy::Strategy<Value = super::Strategy> {
    prop_oneof![
        (1.0f64..1000.0).prop_map(|multiplier| super::Strategy::Exponential { multiplier }),
        (0u64..10_000_000).prop_map(|ms| super::Strategy::Linear { step: Duration::from_millis(ms) }),
        Just(super::Strategy::Constant),
    ]
}

fn jitter() -> impl proptest::strategy::Strategy<Value = Jitter> {
    prop_oneof![Just(Jitter::None), Just(Jitter::Full), Just(Jitter::Equal)]
}

fn backoff() -> impl proptest::strategy::Strategy<Value = Backoff> {
    (strategy(), 0u64..60_000, 0u64..600_000, jitter(), any::<u64>()).prop_map(|(s, initial, extra, j, seed)| {
        Backoff::new(s, Duration::from_millis(initial))
            .with_max_delay(Duration::from_millis(initial + extra))
            .with_jitter(j)
            .with_seed(seed)
    })
}

proptest! {
    #[test]
    fn never_above_the_cap(b in backoff(), n in 0u32..20_000) {
        prop_assert!(b.base_delay(n) <= b.max_delay());
        let mut rng = fastrand::Rng::with_seed(n.into());
        prop_assert!(b.jittered_delay(n, &mut rng) <= b.max_delay());
    }

    #[test]
    fn monotone_without_jitter(b in backoff(), n in 0u32..20_000) {
        prop_assert!(b.base_delay(n) <= b.base_delay(n + 1));
    }

    #[test]
    fn jitter_within_bounds(b in backoff(), n in 0u32..20_000, seed in any::<u64>()) {
        let base = b.base_delay(n);
        let mut rng = fastrand::Rng::with_seed(seed);
        let d = b.jittered_delay(n, &mut rng);
        match b.jitter() {
            Jitter::None => prop_assert_eq!(d, base),
            Jitter::Full => prop_assert!(d <= base),
            Jitter::Equal => prop_assert!(d >= base / 2 && d <= base),
        }
    }

    #[test]
    fn first_delay_is_initial(b in backoff()) {
        prop_assert_eq!(b.base_delay(0), b.initial_delay().min(b.max_delay()));
    }

    #[test]
    fn attempts_limit_the_delays(b in backoff(), attempts in 1u32..200) {
        prop_assert_eq!(b.with_max_attempts(attempts).iter().count() as u32, attempts - 1);
    }
}

#[test]
fn no_overflow_at_extremes() {
    let b = Backoff::exponential(Duration::from_secs(1), 1000.0).with_max_delay(Duration::from_secs(30));
    assert_eq!(b.base_delay(10_000), Duration::from_secs(30));
    assert_eq!(b.base_delay(u32::MAX), Duration::from_secs(30));
    let l = Backoff::linear(Duration::from_secs(1), Duration::MAX).with_max_delay(Duration::from_secs(30));
    assert_eq!(l.base_delay(10_000), Duration::from_secs(30));
    let wide =
        Backoff::exponential(Duration::from_secs(1), 2.0).with_max_delay(Duration::MAX).with_jitter(Jitter::Equal);
    let mut rng = fastrand::Rng::with_seed(1);
    assert!(wide.jittered_delay(10_000, &mut rng) <= Duration::MAX);
}
