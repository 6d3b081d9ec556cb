//! The supervisor library over real child processes (`sh`, `sleep`): restart schedule
//! under paused time, a liveness failure, stop and forward through the control channel.

use rustix::process::Signal;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use vitalcheck::backoff::Backoff;
use vitalcheck::probe::Target;
use vitalcheck::state::{ProbeKind, Thresholds};
use vitalcheck_monitor::supervisor::{
    Cause, Event, Outcome, ProbeSpec, Received, RestartConfig, RestartPolicy, Supervisor, SupervisorConfig,
};

fn config(command: &[&str], restart: RestartConfig) -> SupervisorConfig {
    SupervisorConfig {
        command: command.iter().map(|s| (*s).to_owned()).collect(),
        startup: None,
        liveness: None,
        readiness: None,
        restart,
        grace: Duration::from_secs(5),
    }
}

/// Runs to the end, collecting every event with the (tokio) time it was received.
async fn run_all(mut supervisor: Supervisor) -> (Outcome, Vec<(Event, Instant)>) {
    let mut events = supervisor.events().expect("events");
    let (_control, control_rx) = mpsc::channel(1);
    let run = tokio::spawn(supervisor.run(control_rx));
    let mut seen = Vec::new();
    while let Some(event) = events.recv().await {
        seen.push((event, Instant::now()));
    }
    (run.await.expect("join").expect("run"), seen)
}

#[tokio::test(start_paused = true)]
async fn a_crash_loop_waits_exactly_the_backoff_then_gives_up() {
    let restart = RestartConfig {
        policy: RestartPolicy::OnFailure,
        backoff: Backoff::exponential(Duration::from_secs(10), 2.0).with_max_delay(Duration::from_secs(40)),
        reset_after: Duration::from_secs(600),
        max_restarts: Some(4),
    };
    let (outcome, events) = run_all(Supervisor::new(config(&["sh", "-c", "exit 3"], restart))).await;
    assert_eq!(outcome, Outcome::GaveUp { restarts: 4, code: 3 });
    assert_eq!(outcome.exit_code(), 3);
    let starts: Vec<Instant> =
        events.iter().filter(|(e, _)| matches!(e, Event::Started { .. })).map(|(_, at)| *at).collect();
    let gaps: Vec<u64> = starts.windows(2).map(|w| (w[1] - w[0]).as_secs()).collect();
    // The paused clock moves only by the timers: the gaps are the schedule itself.
    assert_eq!(gaps, [10, 20, 40, 40]);
    let restarts: Vec<(u32, u64)> = events
        .iter()
        .filter_map(|(e, _)| match e {
            Event::Restarting { cause: Cause::Exited { code: 3 }, attempt, total, .. } => Some((*attempt, *total)),
            _ => None,
        })
        .collect();
    assert_eq!(restarts, [(1, 1), (2, 2), (3, 3), (4, 4)]);
    assert!(matches!(events.last(), Some((Event::GaveUp { restarts: 4, .. }, _))));
}

#[tokio::test]
async fn never_exits_with_the_childs_code_and_always_restarts_a_clean_exit() {
    let never = RestartConfig { policy: RestartPolicy::Never, ..RestartConfig::default() };
    let (outcome, _) = run_all(Supervisor::new(config(&["sh", "-c", "exit 7"], never))).await;
    assert_eq!(outcome, Outcome::Exited { code: 7 });

    let always = RestartConfig {
        policy: RestartPolicy::Always,
        backoff: Backoff::constant(Duration::from_millis(1)),
        max_restarts: Some(2),
        ..RestartConfig::default()
    };
    let (outcome, events) = run_all(Supervisor::new(config(&["true"], always))).await;
    assert_eq!(outcome, Outcome::GaveUp { restarts: 2, code: 0 });
    assert_eq!(outcome.exit_code(), 1, "giving up after clean exits is still a failure");
    assert_eq!(events.iter().filter(|(e, _)| matches!(e, Event::Started { .. })).count(), 3);
}

/// The next event, bounded.
async fn next(events: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    tokio::time::timeout(Duration::from_secs(30), events.recv()).await.expect("an event in time").expect("open")
}

#[tokio::test]
async fn a_failing_liveness_probe_restarts_and_a_stop_ends_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let alive = dir.path().join("alive");
    std::fs::write(&alive, "").expect("write");
    let mut config = config(
        &["sleep", "60"],
        RestartConfig { backoff: Backoff::constant(Duration::from_millis(10)), ..RestartConfig::default() },
    );
    config.liveness = Some(ProbeSpec {
        target: Target::exec(&format!("test -e {}", alive.display())).expect("target"),
        interval: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
        thresholds: Thresholds::new(2, 1),
    });
    let mut supervisor = Supervisor::new(config);
    let mut events = supervisor.events().expect("events");
    let snapshot = supervisor.subscribe();
    let (control, control_rx) = mpsc::channel(4);
    let run = tokio::spawn(supervisor.run(control_rx));
    while next(&mut events).await != Event::Ready(true) {}
    let first = snapshot.borrow().pid.expect("running");
    assert!(snapshot.borrow().live);
    std::fs::remove_file(&alive).expect("remove");
    let cause = loop {
        if let Event::Restarting { cause, attempt: 1, .. } = next(&mut events).await {
            break cause;
        }
    };
    match cause {
        Cause::Probe { kind: ProbeKind::Liveness, failures: 2, error } => assert!(error.contains("exit"), "{error}"),
        other => panic!("{other:?}"),
    }
    std::fs::write(&alive, "").expect("write");
    while !matches!(next(&mut events).await, Event::Started { restarts: 1, .. }) {}
    while next(&mut events).await != Event::Ready(true) {}
    let second = snapshot.borrow().pid.expect("running");
    assert_ne!(first, second);
    assert_eq!(snapshot.borrow().restarts, 1);
    control.send(Received::Forward(Signal::USR1)).await.expect("send");
    // sleep dies of SIGUSR1 (default action): the supervisor reports it and restarts it.
    while !matches!(next(&mut events).await, Event::Restarting { cause: Cause::Exited { code: 138 }, .. }) {}
    while !matches!(next(&mut events).await, Event::Started { .. }) {}
    control.send(Received::Stop(Signal::TERM)).await.expect("send");
    let outcome = run.await.expect("join").expect("run");
    assert_eq!(outcome, Outcome::Stopped { code: 128 + 15 });
}
