//! Waiting through the public API against real loopback listeners.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod support;

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use vitalcheck::probe::ErrorKind;
use vitalcheck::wait::{GiveUpReason, HealthPoller, WaitError, poll_health, wait_all, wait_any};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn poll_health_returns_at_once_when_up() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!("tcp://{}", listener.local_addr().unwrap());
    let obs = poll_health(&target, 3, 10, 1.5).await.unwrap();
    assert!(obs.detail.contains("connected"), "{}", obs.detail);
}

#[tokio::test]
async fn works_with_anyhow() {
    async fn start(target: &str) -> anyhow::Result<()> {
        poll_health(target, 2, 1, 1.0).await?;
        Ok(())
    }
    let err = start(&format!("127.0.0.1:{}", free_port())).await.unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("gave up on tcp://127.0.0.1:") && text.contains("after 2 attempts"), "{text}");
    assert!(text.contains("connection refused"), "{text}");
}

#[tokio::test]
async fn target_coming_up_part_way_is_seen() {
    let port = free_port();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let poller = HealthPoller::new(format!("127.0.0.1:{port}"))
        .initial_delay(Duration::from_millis(20))
        .max_attempts(500)
        .on_attempt(move |a| {
            let _ = tx.send((a.number, a.outcome.as_ref().err().map(|e| e.kind())));
        });
    let wait = tokio::spawn(poller.poll());
    // Two refused attempts, then listen.
    for n in 1..=2 {
        assert_eq!(rx.recv().await.unwrap(), (n, Some(ErrorKind::Refused)));
    }
    let _listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let obs = wait.await.unwrap().unwrap();
    assert!(obs.detail.contains(&port.to_string()), "{}", obs.detail);
    let mut last = (0, None);
    while let Ok(seen) = rx.try_recv() {
        last = seen;
    }
    assert_eq!(last.1, None, "the last attempt was healthy");
    assert!(last.0 >= 3);
}

#[tokio::test]
async fn wait_all_reports_every_target_that_gave_up() {
    let up = TcpListener::bind("127.0.0.1:0").unwrap();
    let (down1, down2) = (free_port(), free_port());
    let poller = |t: String| HealthPoller::new(t).max_attempts(2).initial_delay(Duration::from_millis(1));
    let err = wait_all(vec![
        poller(format!("tcp://{}", up.local_addr().unwrap())),
        poller(format!("127.0.0.1:{down1}")),
        poller(format!("127.0.0.1:{down2}")),
    ])
    .await
    .unwrap_err();
    let WaitError::Several(errors) = &err else { panic!("expected two errors: {err}") };
    assert_eq!(errors.len(), 2);
    assert!(errors[0].to_string().contains(&down1.to_string()));
    assert!(errors[1].to_string().contains(&down2.to_string()));
    let WaitError::GaveUp(g) = &errors[0] else { panic!() };
    assert_eq!((g.attempts, g.reason), (2, GiveUpReason::Attempts));
}

#[tokio::test]
async fn wait_all_returns_observations_in_order() {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    let obs = wait_all(vec![
        HealthPoller::new(format!("tcp://{}", a.local_addr().unwrap())),
        HealthPoller::new(format!("tcp://{}", b.local_addr().unwrap())),
    ])
    .await
    .unwrap();
    assert!(obs[0].detail.contains(&a.local_addr().unwrap().port().to_string()));
    assert!(obs[1].detail.contains(&b.local_addr().unwrap().port().to_string()));
}

#[tokio::test]
async fn wait_any_returns_the_healthy_one_and_cancels_the_rest() {
    let up = TcpListener::bind("127.0.0.1:0").unwrap();
    let down = free_port();
    let (index, _) = wait_any(vec![
        HealthPoller::new(format!("127.0.0.1:{down}")).deadline(Duration::from_secs(60)),
        HealthPoller::new(format!("tcp://{}", up.local_addr().unwrap())),
    ])
    .await
    .unwrap();
    assert_eq!(index, 1);
}

#[tokio::test]
async fn wait_any_fails_when_none_is_healthy() {
    let err = wait_any(vec![
        HealthPoller::new(format!("127.0.0.1:{}", free_port())).max_attempts(1),
        HealthPoller::new("exec:false").max_attempts(1),
    ])
    .await
    .unwrap_err();
    let WaitError::Several(errors) = err else { panic!() };
    assert_eq!(errors[1].last_error_kind(), Some(ErrorKind::Exit(1)));
}

#[tokio::test]
async fn one_connection_serves_every_attempt_of_a_wait() {
    let requests = Arc::new(AtomicUsize::new(0));
    let seen = requests.clone();
    let router = axum::Router::new().route(
        "/health",
        axum::routing::get(move || {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            async move { if n < 2 { axum::http::StatusCode::SERVICE_UNAVAILABLE } else { axum::http::StatusCode::OK } }
        }),
    );
    let (addr, connections) = support::serve_counting(router).await;
    let url = format!("http://{addr}/health");
    let obs = HealthPoller::new(&url).initial_delay(Duration::from_millis(1)).max_attempts(5).poll().await.unwrap();
    assert_eq!(obs.http_status, Some(200));
    assert_eq!(requests.load(Ordering::SeqCst), 3);
    assert_eq!(connections.load(Ordering::SeqCst), 1, "the attempts shared one connection");

    // Opting out opens one connection per attempt.
    requests.store(0, Ordering::SeqCst);
    connections.store(0, Ordering::SeqCst);
    HealthPoller::new(&url).keep_alive(false).initial_delay(Duration::from_millis(1)).poll().await.unwrap();
    assert_eq!(connections.load(Ordering::SeqCst), 3);
}
