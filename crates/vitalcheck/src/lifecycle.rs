//! [`Lifecycle`]: where a service is in its life (Starting -> Running -> Draining ->
//! Stopped), and the readiness gates that must pass for it to take traffic.
//!
//! Readiness is false while Starting, Draining or Stopped, and while any gate fails. For
//! a graceful shutdown, [`Lifecycle::drain_on_signal`] turns SIGTERM (or SIGINT) into
//! Draining, keeps answering not-ready for the drain period so load balancers stop
//! sending traffic, then marks the service Stopped and returns, for the caller to shut
//! its server down.
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::AtomicUsize;
//! use vitalcheck::lifecycle::Lifecycle;
//! use vitalcheck::report::LifecycleState;
//!
//! let lifecycle = Lifecycle::new();
//! let queue = Arc::new(AtomicUsize::new(0));
//! lifecycle.gate_queue_depth("jobs", queue.clone(), 100);
//! assert!(!lifecycle.is_ready()); // still Starting
//! lifecycle.mark_running();
//! assert!(lifecycle.is_ready());
//! queue.store(250, std::sync::atomic::Ordering::Relaxed);
//! assert_eq!(lifecycle.failing_gates(), ["jobs: queue depth 250 is over 100"]);
//! lifecycle.start_draining();
//! assert_eq!(lifecycle.state(), LifecycleState::Draining);
//! ```

use crate::report::LifecycleState;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

type GateFn = Box<dyn Fn() -> Result<(), String> + Send + Sync>;

struct Gate {
    name: String,
    check: GateFn,
}

struct Inner {
    state: watch::Sender<LifecycleState>,
    /// The state's [`rank`], kept beside the channel so that reading it (every readiness
    /// question) takes no lock that the other threads asking contend for.
    current: AtomicU8,
    gates: RwLock<Vec<Gate>>,
    started: Instant,
}

/// The lifecycle of a service and its readiness gates. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Lifecycle {
    inner: Arc<Inner>,
}

impl fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lifecycle").field("state", &self.state()).field("failing_gates", &self.failing_gates()).finish()
    }
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle::new()
    }
}

impl Lifecycle {
    /// A lifecycle in Starting, with no gates; uptime counts from now.
    pub fn new() -> Self {
        let (state, _) = watch::channel(LifecycleState::Starting);
        let current = AtomicU8::new(rank(LifecycleState::Starting));
        Lifecycle { inner: Arc::new(Inner { state, current, gates: RwLock::new(Vec::new()), started: Instant::now() }) }
    }

    /// The current state.
    pub fn state(&self) -> LifecycleState {
        of_rank(self.inner.current.load(Ordering::Acquire))
    }

    /// Time since [`new`](Self::new).
    pub fn uptime(&self) -> Duration {
        self.inner.started.elapsed()
    }

    /// A receiver that sees every change of state.
    pub fn subscribe(&self) -> watch::Receiver<LifecycleState> {
        self.inner.state.subscribe()
    }

    /// Starting -> Running. Returns whether the state changed (it never goes back).
    pub fn mark_running(&self) -> bool {
        self.advance(LifecycleState::Running)
    }

    /// Starting or Running -> Draining.
    pub fn start_draining(&self) -> bool {
        self.advance(LifecycleState::Draining)
    }

    /// Any state -> Stopped.
    pub fn mark_stopped(&self) -> bool {
        self.advance(LifecycleState::Stopped)
    }

    fn advance(&self, to: LifecycleState) -> bool {
        self.inner.state.send_if_modified(|state| {
            let forward = rank(to) > rank(*state);
            if forward {
                *state = to;
                self.inner.current.store(rank(to), Ordering::Release);
            }
            forward
        })
    }

    /// Adds a readiness gate: `check` returns `Err(why)` while the service must not take
    /// traffic. Gates run on every readiness question, so keep them cheap.
    pub fn add_gate(&self, name: impl Into<String>, check: impl Fn() -> Result<(), String> + Send + Sync + 'static) {
        let gate = Gate { name: name.into(), check: Box::new(check) };
        self.inner.gates.write().unwrap_or_else(PoisonError::into_inner).push(gate);
    }

    /// A gate that fails while `depth` is over `max` (a backlog the service cannot absorb).
    pub fn gate_queue_depth(&self, name: impl Into<String>, depth: Arc<AtomicUsize>, max: usize) {
        self.add_gate(name, move || {
            let now = depth.load(Ordering::Relaxed);
            if now > max { Err(format!("queue depth {now} is over {max}")) } else { Ok(()) }
        });
    }

    /// A gate that fails until `loaded` reaches `min` (models, caches, shards loaded).
    pub fn gate_min_loaded(&self, name: impl Into<String>, loaded: Arc<AtomicUsize>, min: usize) {
        self.add_gate(name, move || {
            let now = loaded.load(Ordering::Relaxed);
            if now < min { Err(format!("{now} of {min} resources loaded")) } else { Ok(()) }
        });
    }

    /// The gates that fail now, as `name: why`.
    pub fn failing_gates(&self) -> Vec<String> {
        let gates = self.inner.gates.read().unwrap_or_else(PoisonError::into_inner);
        gates.iter().filter_map(|g| (g.check)().err().map(|why| format!("{}: {why}", g.name))).collect()
    }

    /// Running and every gate passes (component checks are the caller's part).
    pub fn is_ready(&self) -> bool {
        self.state() == LifecycleState::Running && self.failing_gates().is_empty()
    }

    /// Waits for `signal`, then drains: Draining for `drain_period` (readiness answers
    /// not-ready, liveness still alive), then Stopped. Returns when Stopped.
    pub async fn drain_when(&self, signal: impl Future<Output = ()>, drain_period: Duration) {
        signal.await;
        self.start_draining();
        tokio::time::sleep(drain_period).await;
        self.mark_stopped();
    }

    /// [`drain_when`](Self::drain_when) SIGTERM or SIGINT arrives (Unix). Use it as the
    /// shutdown signal of your server:
    ///
    /// ```no_run
    /// # async fn demo(app: axum::Router, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    /// let lifecycle = vitalcheck::lifecycle::Lifecycle::new();
    /// let drain = lifecycle.clone();
    /// lifecycle.mark_running();
    /// axum::serve(listener, app)
    ///     .with_graceful_shutdown(async move { drain.drain_on_signal(std::time::Duration::from_secs(5)).await })
    ///     .await
    /// # }
    /// ```
    #[cfg(unix)]
    pub async fn drain_on_signal(&self, drain_period: Duration) {
        use tokio::signal::unix::{SignalKind, signal};
        let signals = async {
            match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = int.recv() => {},
                    }
                }
                // Without signal handling there is nothing to wait for but the end.
                _ => std::future::pending::<()>().await,
            }
        };
        self.drain_when(signals, drain_period).await;
    }
}

const fn of_rank(rank: u8) -> LifecycleState {
    match rank {
        0 => LifecycleState::Starting,
        1 => LifecycleState::Running,
        2 => LifecycleState::Draining,
        _ => LifecycleState::Stopped,
    }
}

const fn rank(state: LifecycleState) -> u8 {
    match state {
        LifecycleState::Starting => 0,
        LifecycleState::Running => 1,
        LifecycleState::Draining => 2,
        LifecycleState::Stopped => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_forward_only() {
        let l = Lifecycle::new();
        assert_eq!(l.state(), LifecycleState::Starting);
        assert!(l.mark_running());
        assert!(!l.mark_running());
        assert!(l.start_draining());
        assert!(!l.mark_running(), "no way back from draining");
        assert_eq!(l.state(), LifecycleState::Draining);
        assert!(l.mark_stopped());
        assert!(!l.start_draining());
    }

    #[test]
    fn ready_needs_running_and_gates() {
        let l = Lifecycle::new();
        let loaded = Arc::new(AtomicUsize::new(1));
        l.gate_min_loaded("models", loaded.clone(), 3);
        l.add_gate("custom", || Ok(()));
        l.mark_running();
        assert_eq!(l.failing_gates(), ["models: 1 of 3 resources loaded"]);
        assert!(!l.is_ready());
        loaded.store(3, Ordering::Relaxed);
        assert!(l.is_ready());
        l.start_draining();
        assert!(!l.is_ready());
    }

    #[tokio::test(start_paused = true)]
    async fn drain_holds_not_ready_for_the_period_then_stops() {
        let l = Lifecycle::new();
        l.mark_running();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let mut states = l.subscribe();
        let drain = tokio::spawn({
            let l = l.clone();
            async move { l.drain_when(async { rx.await.unwrap_or(()) }, Duration::from_secs(5)).await }
        });
        tx.send(()).unwrap();
        states.changed().await.unwrap();
        assert_eq!(*states.borrow(), LifecycleState::Draining);
        let start = tokio::time::Instant::now();
        states.changed().await.unwrap();
        assert_eq!(*states.borrow(), LifecycleState::Stopped);
        assert_eq!(start.elapsed(), Duration::from_secs(5));
        drain.await.unwrap();
    }
}
