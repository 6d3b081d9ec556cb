//! gRPC health: `grpc.health.v1.Health` (Check and Watch) answered from a [`HealthService`].
//!
//! Add [`health_server`] to a tonic `Server` next to your own services. The service name
//! in a request chooses the question:
//!
//! | service name | answers | `SERVING` when |
//! |---|---|---|
//! | `""` (empty: the whole server) | readiness | [`CheckType::Readiness`] is ok: Running, gates pass, no critical ready check Unhealthy |
//! | `"readiness"` | readiness | as above |
//! | `"liveness"` | liveness | [`CheckType::Liveness`] is ok |
//! | the name of a registered, enabled check | that check alone | the check is not Unhealthy |
//! | anything else | `Check` fails with `NOT_FOUND`; `Watch` sends `SERVICE_UNKNOWN` and stays open | |
//!
//! `liveness` and `readiness` are reserved: a registered check of that name is not
//! reachable by name over gRPC. Every `Check` runs the checks it needs (the registry's
//! caching applies). `Watch` sends the status at once and then whenever it changes: it
//! asks again every [`watch interval`](GrpcHealth::with_watch_interval) (default 1 s)
//! and at once on each [`Lifecycle`](crate::lifecycle::Lifecycle) change, so
//! `mark_running` or `start_draining` reaches watchers without waiting for the interval.
//!
//! ```no_run
//! use vitalcheck::{HealthService, lifecycle::Lifecycle, registry::{ComponentHealth, Registry}};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut registry = Registry::new();
//! registry.register("db", || async { ComponentHealth::healthy() });
//! let health = HealthService::new(registry, Lifecycle::new());
//! health.lifecycle().mark_running();
//! tonic::transport::Server::builder()
//!     .add_service(vitalcheck::serve::grpc::health_server(health))
//!     // .add_service(your own services)
//!     .serve("127.0.0.1:50051".parse()?)
//!     .await?;
//! # Ok(())
//! # }
//! ```

use crate::service::CheckType;
use crate::{HealthService, Status};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, interval_at};
use tokio_stream::wrappers::ReceiverStream;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

/// How often a `Watch` asks the [`HealthService`] again by default.
pub const DEFAULT_WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// The shortest watch interval (shorter ones are raised to it).
const MIN_WATCH_INTERVAL: Duration = Duration::from_millis(10);

/// Messages a `Watch` may have queued for a slow client before it waits.
const WATCH_BUFFER: usize = 4;

/// The `grpc.health.v1.Health` service over a [`HealthService`]. Cheap to clone.
///
/// Usually built by [`health_server`]; use this type to change the watch interval.
#[derive(Debug, Clone)]
pub struct GrpcHealth {
    health: HealthService,
    watch_interval: Duration,
}

/// What a service name asks.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Subject {
    /// One of the service's questions (the empty name, `liveness`, `readiness`).
    Question(CheckType),
    /// One registered check, by name.
    Check(String),
}

impl GrpcHealth {
    /// The gRPC health service over `health`, watching every [`DEFAULT_WATCH_INTERVAL`].
    pub fn new(health: HealthService) -> Self {
        GrpcHealth { health, watch_interval: DEFAULT_WATCH_INTERVAL }
    }

    /// Sets how often a `Watch` asks again (at least 10 ms). Lifecycle changes are sent
    /// at once whatever the interval.
    pub fn with_watch_interval(mut self, interval: Duration) -> Self {
        self.watch_interval = interval.max(MIN_WATCH_INTERVAL);
        self
    }

    /// The tonic service to add to a `Server`.
    pub fn into_server(self) -> HealthServer<GrpcHealth> {
        HealthServer::new(self)
    }

    /// The status of `service` now, or `None` when no such service is known (see the
    /// module docs for the names).
    pub async fn status(&self, service: &str) -> Option<ServingStatus> {
        let subject = self.resolve(service)?;
        Some(self.status_of(&subject).await)
    }

    fn resolve(&self, service: &str) -> Option<Subject> {
        match service {
            "" | "readiness" => Some(Subject::Question(CheckType::Readiness)),
            "liveness" => Some(Subject::Question(CheckType::Liveness)),
            name => {
                let known = self.health.registry().specs().any(|spec| spec.enabled && spec.name == name);
                known.then(|| Subject::Check(name.to_string()))
            }
        }
    }

    async fn status_of(&self, subject: &Subject) -> ServingStatus {
        let serving = match subject {
            Subject::Question(question) => self.health.check(*question).await.ok,
            Subject::Check(name) => {
                let reports = self.health.registry().run_where(|spec| spec.name == *name).await;
                !reports.is_empty() && reports.iter().all(|r| r.status != Status::Unhealthy)
            }
        };
        if serving { ServingStatus::Serving } else { ServingStatus::NotServing }
    }
}

/// The `grpc.health.v1.Health` service over `health`, ready to add to a tonic `Server`.
/// See the [module docs](self) for what each service name answers.
pub fn health_server(health: HealthService) -> HealthServer<GrpcHealth> {
    GrpcHealth::new(health).into_server()
}

fn response(status: ServingStatus) -> HealthCheckResponse {
    HealthCheckResponse { status: status.into() }
}

#[tonic::async_trait]
impl Health for GrpcHealth {
    async fn check(
        &self,
        request: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<HealthCheckResponse>, tonic::Status> {
        let service = &request.get_ref().service;
        match self.status(service).await {
            Some(status) => Ok(tonic::Response::new(response(status))),
            None => Err(tonic::Status::not_found(format!("unknown service {service:?}"))),
        }
    }

    type WatchStream = ReceiverStream<Result<HealthCheckResponse, tonic::Status>>;

    async fn watch(
        &self,
        request: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<Self::WatchStream>, tonic::Status> {
        let subject = self.resolve(&request.get_ref().service);
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);
        tokio::spawn(watch(self.clone(), subject, tx));
        Ok(tonic::Response::new(ReceiverStream::new(rx)))
    }
}

type WatchSender = mpsc::Sender<Result<HealthCheckResponse, tonic::Status>>;

/// Feeds one `Watch` call until the client goes away: the status now, then each change.
async fn watch(grpc: GrpcHealth, subject: Option<Subject>, tx: WatchSender) {
    let Some(subject) = subject else {
        // The registry does not change after setup: an unknown name stays unknown, but
        // the call stays open, as the protocol asks.
        if tx.send(Ok(response(ServingStatus::ServiceUnknown))).await.is_ok() {
            tx.closed().await;
        }
        return;
    };
    // Subscribe before the first answer, so no change after it is missed.
    let mut states = grpc.health.lifecycle().subscribe();
    let mut ticks = interval_at(Instant::now() + grpc.watch_interval, grpc.watch_interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last = None;
    loop {
        let status = tokio::select! {
            status = grpc.status_of(&subject) => status,
            () = tx.closed() => return,
        };
        if last != Some(status) {
            if tx.send(Ok(response(status))).await.is_err() {
                return;
            }
            last = Some(status);
        }
        tokio::select! {
            _ = ticks.tick() => {}
            Ok(()) = states.changed() => {}
            () = tx.closed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::Lifecycle;
    use crate::registry::{ComponentHealth, Registry};

    fn grpc() -> GrpcHealth {
        let mut registry = Registry::new();
        registry.register("db", || async { ComponentHealth::healthy() });
        registry.register("cache", || async { ComponentHealth::unhealthy("down") }).critical(false);
        registry.register("old", || async { ComponentHealth::healthy() }).enabled(false);
        GrpcHealth::new(HealthService::new(registry, Lifecycle::new()))
    }

    #[tokio::test]
    async fn names_map_to_questions_and_checks() {
        let g = grpc();
        assert_eq!(g.status("").await, Some(ServingStatus::NotServing), "starting");
        assert_eq!(g.status("liveness").await, Some(ServingStatus::Serving));
        g.health.lifecycle().mark_running();
        assert_eq!(g.status("").await, Some(ServingStatus::Serving), "a non-critical failure");
        assert_eq!(g.status("readiness").await, Some(ServingStatus::Serving));
        assert_eq!(g.status("db").await, Some(ServingStatus::Serving));
        assert_eq!(g.status("cache").await, Some(ServingStatus::NotServing));
        assert_eq!(g.status("old").await, None, "disabled checks are not served");
        assert_eq!(g.status("nope").await, None);
    }

    #[test]
    fn watch_interval_has_a_floor() {
        assert_eq!(grpc().with_watch_interval(Duration::ZERO).watch_interval, MIN_WATCH_INTERVAL);
    }
}
