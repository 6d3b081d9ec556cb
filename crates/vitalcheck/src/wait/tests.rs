//! The wait loop's schedule, driven by a scripted probe under paused time.

use super::*;
use crate::Backoff;
use crate::probe::{ErrorKind, Phase};
use std::sync::Mutex;

const MS: Duration = Duration::from_millis(1);

/// A probe that answers from a script: each entry is (how long it takes, error kind or
/// None for healthy). Records the timeout it was given.
struct Script {
    steps: Mutex<Vec<(Duration, Option<ErrorKind>)>>,
    timeouts: Mutex<Vec<Duration>>,
}

impl Script {
    fn new(steps: Vec<(Duration, Option<ErrorKind>)>) -> Arc<Self> {
        let mut steps = steps;
        steps.reverse();
        Arc::new(Script { steps: Mutex::new(steps), timeouts: Mutex::new(Vec::new()) })
    }

    fn failing(kind: ErrorKind) -> Arc<Self> {
        Self::new(vec![(Duration::ZERO, Some(kind)); 10_000])
    }

    async fn probe(&self, timeout: Duration) -> Result<Observation, ProbeError> {
        self.timeouts.lock().unwrap().push(timeout);
        let (took, kind) = self.steps.lock().unwrap().pop().expect("script ran out");
        let took = took.min(timeout);
        tokio::time::sleep(took).await;
        match kind {
            None => Ok(Observation::healthy(took, "ok")),
            Some(kind) => Err(ProbeError::new(kind, "scripted://t", "scripted failure")),
        }
    }
}

use std::sync::Arc;

/// Runs `poller` against `script`; returns the result and each attempt's (start, next delay).
async fn run(
    poller: HealthPoller,
    script: &Arc<Script>,
) -> (Result<Observation, WaitError>, Vec<(Duration, Option<Duration>)>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let poller = poller.on_attempt(move |a| sink.lock().unwrap().push((a.started, a.next_delay)));
    let result = poller.run("scripted://t", |timeout| script.probe(timeout)).await;
    let seen = seen.lock().unwrap().clone();
    (result, seen)
}

fn starts(seen: &[(Duration, Option<Duration>)]) -> Vec<u128> {
    seen.iter().map(|(s, _)| s.as_millis()).collect()
}

#[tokio::test(start_paused = true)]
async fn normal_schedule_is_exact() {
    let refused = Some(ErrorKind::Refused);
    let script = Script::new(vec![(Duration::ZERO, refused); 4].into_iter().chain([(Duration::ZERO, None)]).collect());
    let (result, seen) = run(HealthPoller::new("tcp://t:1"), &script).await;
    assert!(result.is_ok());
    assert_eq!(starts(&seen), [0, 200, 500, 950, 1625]);
    assert_eq!(seen.last().unwrap().1, None, "no delay after the healthy attempt");
}

#[tokio::test(start_paused = true)]
async fn probe_time_adds_to_the_schedule() {
    let slow = Some(ErrorKind::Timeout(Phase::FirstByte));
    let script = Script::new(vec![(100 * MS, slow), (100 * MS, slow), (Duration::ZERO, None)]);
    let (_, seen) = run(HealthPoller::new("tcp://t:1"), &script).await;
    assert_eq!(starts(&seen), [0, 300, 700]);
}

#[tokio::test(start_paused = true)]
async fn gives_up_after_max_attempts_with_a_clear_error() {
    let script = Script::failing(ErrorKind::Status(503));
    let poller = HealthPoller::new("tcp://t:1").max_attempts(3).initial_delay(100 * MS).backoff_multiplier(2.0);
    let (result, seen) = run(poller, &script).await;
    assert_eq!(starts(&seen), [0, 100, 300]);
    let WaitError::GaveUp(g) = result.unwrap_err() else { panic!("expected GaveUp") };
    assert_eq!(g.attempts, 3);
    assert_eq!(g.reason, GiveUpReason::Attempts);
    assert_eq!(g.elapsed, 300 * MS);
    assert_eq!(g.records.len(), 3);
    assert_eq!(
        g.to_string(),
        "gave up on scripted://t after 3 attempts in 0.3s (attempt limit reached); last error: HTTP status 503: scripted failure"
    );
}

#[tokio::test(start_paused = true)]
async fn deadline_replaces_the_attempt_count() {
    let script = Script::failing(ErrorKind::Refused);
    let poller = HealthPoller::new("tcp://t:1").preset(Backoff::constant(200 * MS)).deadline(Duration::from_secs(1));
    let (result, seen) = run(poller, &script).await;
    assert_eq!(starts(&seen), [0, 200, 400, 600, 800]);
    let WaitError::GaveUp(g) = result.unwrap_err() else { panic!() };
    assert_eq!(g.reason, GiveUpReason::Deadline);
    assert_eq!(g.elapsed, 800 * MS, "stops once the next attempt cannot start in time");
}

#[tokio::test(start_paused = true)]
async fn deadline_without_preset_is_unlimited() {
    let script = Script::failing(ErrorKind::Refused);
    let poller =
        HealthPoller::new("tcp://t:1").max_delay(MS * 100).initial_delay(MS * 100).deadline(Duration::from_secs(10));
    let (_, seen) = run(poller, &script).await;
    assert!(seen.len() > 30, "more than the default 30 attempts: {}", seen.len());
}

#[tokio::test(start_paused = true)]
async fn explicit_attempts_beat_the_deadline() {
    let script = Script::failing(ErrorKind::Refused);
    let poller = HealthPoller::new("tcp://t:1").deadline(Duration::from_secs(60)).max_attempts(2);
    let (result, seen) = run(poller, &script).await;
    assert_eq!(seen.len(), 2);
    assert_eq!(result.unwrap_err().last_error_kind(), Some(ErrorKind::Refused));
}

#[tokio::test(start_paused = true)]
async fn probe_timeout_is_bounded_by_the_deadline() {
    let script = Script::failing(ErrorKind::Timeout(Phase::FirstByte));
    let poller = HealthPoller::new("tcp://t:1")
        .preset(Backoff::constant(100 * MS))
        .timeout(Duration::from_secs(5))
        .deadline(Duration::from_millis(1500));
    let _ = run(poller, &script).await;
    let timeouts = script.timeouts.lock().unwrap().clone();
    assert_eq!(timeouts[0], Duration::from_millis(1500));
    assert!(timeouts.iter().all(|t| *t <= Duration::from_millis(1500)));
}

#[tokio::test(start_paused = true)]
async fn refused_retries_quickly_then_backs_off_when_answering_badly() {
    let refused = (Duration::ZERO, Some(ErrorKind::Refused));
    let bad = (Duration::ZERO, Some(ErrorKind::Status(503)));
    let script = Script::new(vec![refused, refused, refused, bad, bad, bad, (Duration::ZERO, None)]);
    let poller = HealthPoller::new("tcp://t:1")
        .retry_refused_quickly(true)
        .max_delay(Duration::from_secs(1))
        .deadline(Duration::from_secs(60));
    let (_, seen) = run(poller, &script).await;
    let delays: Vec<u128> = seen.iter().filter_map(|(_, d)| d.map(|d| d.as_millis())).collect();
    assert_eq!(delays, [200, 200, 200, 200, 300, 450]);
}

#[tokio::test(start_paused = true)]
async fn records_are_bounded() {
    let script = Script::failing(ErrorKind::Refused);
    let poller = HealthPoller::new("tcp://t:1").preset(Backoff::constant(MS).with_max_attempts(500));
    let (result, _) = run(poller, &script).await;
    let WaitError::GaveUp(g) = result.unwrap_err() else { panic!() };
    assert_eq!(g.attempts, 500);
    assert_eq!(g.records.len(), GaveUp::MAX_RECORDS);
    assert_eq!(g.records.last().unwrap().number, 500);
}

#[tokio::test]
async fn bad_settings_are_usage_errors() {
    let err = poll_health("ftp://x", 3, 10, 1.5).await.unwrap_err();
    assert!(matches!(err, WaitError::InvalidTarget(_)) && err.is_usage(), "{err}");
    let err = HealthPoller::new("tcp://db:5432").header("X-A", "b").poll().await.unwrap_err();
    assert!(err.to_string().contains("apply to http(s) targets only"), "{err}");
    let err = HealthPoller::new("http://h/").header("bad name", "v").poll().await.unwrap_err();
    assert!(err.to_string().contains("invalid header name"), "{err}");
    let err = HealthPoller::new("http://h/").backoff_multiplier(0.5).poll().await.unwrap_err();
    assert!(matches!(err, WaitError::InvalidBackoff(_)), "{err}");
    let err = HealthPoller::new("http://h/").max_attempts(0).poll().await.unwrap_err();
    assert!(err.is_usage(), "{err}");
}

#[test]
fn debug_never_shows_header_values() {
    let poller = HealthPoller::new("http://h/").header("Authorization", "Bearer s3cret");
    let shown = format!("{poller:?}");
    assert!(shown.contains("Authorization") && !shown.contains("s3cret"), "{shown}");
}
