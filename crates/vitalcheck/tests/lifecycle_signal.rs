//! `Lifecycle::drain_on_signal` with a real SIGTERM sent to this test process.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::time::Duration;
use vitalcheck::lifecycle::Lifecycle;
use vitalcheck::report::LifecycleState;

#[tokio::test(start_paused = true)]
async fn sigterm_drains_for_the_period_then_stops() {
    let lifecycle = Lifecycle::new();
    lifecycle.mark_running();
    let mut states = lifecycle.subscribe();
    let mut drain = Box::pin(lifecycle.drain_on_signal(Duration::from_secs(5)));
    // Poll once so the signal handlers are installed before the signal is sent.
    assert!(tokio::time::timeout(Duration::ZERO, &mut drain).await.is_err());
    assert_eq!(lifecycle.state(), LifecycleState::Running);

    rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::TERM).unwrap();
    let waiter = tokio::spawn(async move {
        states.changed().await.unwrap();
        let first = *states.borrow();
        let at = tokio::time::Instant::now();
        states.changed().await.unwrap();
        (first, *states.borrow(), at.elapsed())
    });
    drain.await;
    let (first, last, draining_for) = waiter.await.unwrap();
    assert_eq!((first, last), (LifecycleState::Draining, LifecycleState::Stopped));
    assert_eq!(draining_for, Duration::from_secs(5));
    assert!(!lifecycle.is_ready());
}
