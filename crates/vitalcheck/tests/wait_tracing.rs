//! With the `tracing` feature, every wait attempt and the outcome are logged.
#![cfg(feature = "tracing")]
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use vitalcheck::wait::HealthPoller;

/// Collects every event as "LEVEL message k=v k=v".
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<String>>>);

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={:?}", field.name(), value));
    }
}

impl Subscriber for Collect {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = Line(event.metadata().level().to_string());
        event.record(&mut line);
        self.0.lock().unwrap().push(line.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test]
async fn attempts_and_outcomes_are_logged() {
    let collect = Collect::default();
    let _guard = tracing::subscriber::set_default(collect.clone());
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let poller = HealthPoller::new(format!("127.0.0.1:{port}")).max_attempts(2).initial_delay(Duration::from_millis(5));
    assert!(poller.poll().await.is_err());
    let up = TcpListener::bind("127.0.0.1:0").unwrap();
    HealthPoller::new(format!("tcp://{}", up.local_addr().unwrap())).poll().await.unwrap();

    let lines = collect.0.lock().unwrap().clone();
    assert_eq!(lines.len(), 4, "{lines:#?}");
    assert!(lines[0].starts_with("DEBUG") && lines[0].contains("attempt=1") && lines[0].contains("kind=\"refused\""));
    assert!(lines[0].contains("next_delay_ms=5"), "{}", lines[0]);
    assert!(lines[1].contains("attempt=2") && !lines[1].contains("next_delay_ms"), "{}", lines[1]);
    assert!(lines[2].starts_with("WARN") && lines[2].contains("gave up") && lines[2].contains("attempts=2"));
    assert!(lines[3].starts_with("INFO") && lines[3].contains("healthy") && lines[3].contains("attempt=1"));
}
