//! gRPC health end to end: `serve::grpc::health_server` on a loopback tonic server, asked
//! by tonic's generated client and by the `grpc://` probe.

#![cfg(feature = "grpc")]
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod support;

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::Code;
use tonic::transport::{Channel, Server};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::health_server::HealthServer;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use vitalcheck::HealthService;
use vitalcheck::lifecycle::Lifecycle;
use vitalcheck::probe::{ErrorKind, Observation, Phase, ProbeContext, ProbeError, Target};
use vitalcheck::registry::{ComponentHealth, Registry};
use vitalcheck::serve::grpc::{GrpcHealth, health_server};

const TIMEOUT: Duration = Duration::from_secs(10);

/// A service with a healthy `db` and an unhealthy, non-critical `cache`; still Starting.
fn health() -> HealthService {
    let mut registry = Registry::new();
    registry.register("db", || async { ComponentHealth::healthy() });
    registry.register("cache", || async { ComponentHealth::unhealthy("down") }).critical(false);
    HealthService::new(registry, Lifecycle::new())
}

/// Serves `server` with tonic on 127.0.0.1:0.
async fn serve(server: HealthServer<GrpcHealth>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = TcpListenerStream::new(listener);
    tokio::spawn(Server::builder().add_service(server).serve_with_incoming(incoming));
    addr
}

async fn client(addr: SocketAddr) -> HealthClient<Channel> {
    let channel = Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
    HealthClient::new(channel)
}

async fn check(client: &mut HealthClient<Channel>, service: &str) -> Result<ServingStatus, tonic::Status> {
    let answer = client.check(HealthCheckRequest { service: service.into() }).await?;
    Ok(answer.into_inner().status())
}

async fn probe(target: &str) -> Result<Observation, ProbeError> {
    let target: Target = target.parse().unwrap();
    target.probe(&ProbeContext::new(), TIMEOUT).await
}

#[tokio::test]
async fn check_answers_readiness_liveness_and_checks() {
    let health = health();
    let mut client = client(serve(health_server(health.clone())).await).await;
    assert_eq!(check(&mut client, "").await.unwrap(), ServingStatus::NotServing, "starting");
    assert_eq!(check(&mut client, "readiness").await.unwrap(), ServingStatus::NotServing);
    assert_eq!(check(&mut client, "liveness").await.unwrap(), ServingStatus::Serving);
    health.lifecycle().mark_running();
    assert_eq!(check(&mut client, "").await.unwrap(), ServingStatus::Serving);
    assert_eq!(check(&mut client, "db").await.unwrap(), ServingStatus::Serving);
    assert_eq!(check(&mut client, "cache").await.unwrap(), ServingStatus::NotServing);
    let unknown = check(&mut client, "no.such.Service").await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
}

fn status_of(message: Option<Result<HealthCheckResponse, tonic::Status>>) -> ServingStatus {
    message.expect("the stream stays open").expect("a message, not an error").status()
}

#[tokio::test]
async fn watch_sends_each_lifecycle_change() {
    let health = health();
    // An interval far longer than the test: only the lifecycle can move the stream.
    let grpc = GrpcHealth::new(health.clone()).with_watch_interval(Duration::from_secs(3600));
    let mut client = client(serve(grpc.into_server()).await).await;
    let mut stream = client.watch(HealthCheckRequest { service: String::new() }).await.unwrap().into_inner();
    assert_eq!(status_of(stream.next().await), ServingStatus::NotServing);
    health.lifecycle().mark_running();
    assert_eq!(status_of(stream.next().await), ServingStatus::Serving);
    health.lifecycle().start_draining();
    assert_eq!(status_of(stream.next().await), ServingStatus::NotServing);
}

#[tokio::test]
async fn watch_polls_checks_and_keeps_unknown_services_open() {
    let mut client = client(serve(health_server(health())).await).await;
    let mut unknown = client.watch(HealthCheckRequest { service: "nope".into() }).await.unwrap().into_inner();
    assert_eq!(status_of(unknown.next().await), ServingStatus::ServiceUnknown);
    let next = tokio::time::timeout(Duration::from_millis(50), unknown.next()).await;
    assert!(next.is_err(), "the call stays open without further messages: {next:?}");
    let mut db = client.watch(HealthCheckRequest { service: "db".into() }).await.unwrap().into_inner();
    assert_eq!(status_of(db.next().await), ServingStatus::Serving);
}

#[tokio::test]
async fn probe_is_healthy_when_serving() {
    let health = health();
    health.lifecycle().mark_running();
    let addr = serve(health_server(health)).await;
    for target in [format!("grpc://{addr}"), format!("grpc://localhost:{}/db", addr.port())] {
        let obs = probe(&target).await.unwrap_or_else(|e| panic!("{target}: {e}"));
        assert_eq!(obs.detail, "SERVING");
        assert!(obs.phases.connect.is_some() && obs.phases.first_byte.is_some(), "{obs:?}");
    }
}

#[tokio::test]
async fn probe_not_serving_is_an_expectation_failure() {
    let addr = serve(health_server(health())).await; // still Starting
    let err = probe(&format!("grpc://{addr}")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Expectation, "{err}");
    assert_eq!(err.detail(), "status NOT_SERVING");
    assert_eq!(err.to_string(), format!("grpc://{addr}: expectation failed: status NOT_SERVING"));
    let err = probe(&format!("grpc://{addr}/cache")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Expectation, "{err}");
}

#[tokio::test]
async fn probe_unknown_service_is_protocol_with_the_code() {
    let addr = serve(health_server(health())).await;
    let err = probe(&format!("grpc://{addr}/no.such.Service")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.detail().starts_with("gRPC status NOT_FOUND"), "{err}");
}

#[tokio::test]
async fn probe_refused_on_a_closed_port() {
    let port = support::free_port();
    let err = probe(&format!("grpc://127.0.0.1:{port}")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
}

#[tokio::test]
async fn probe_of_an_http1_server_is_protocol() {
    let addr = support::serve_raw(|mut stream| async move {
        let _ = support::read_head(&mut stream).await;
        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
    })
    .await;
    let err = probe(&format!("grpc://{addr}")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
}

#[tokio::test]
async fn probe_of_a_silent_server_times_out_in_first_byte() {
    let addr = support::serve_raw(|stream| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(stream);
    })
    .await;
    let target: Target = format!("grpc://{addr}").parse().unwrap();
    let err = target.probe(&ProbeContext::new(), Duration::from_millis(300)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout(Phase::FirstByte), "{err}");
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn grpcs_with_a_self_signed_certificate_needs_insecure() {
    let health = health();
    health.lifecycle().mark_running();
    let router = axum::Router::new().fallback_service(health_server(health));
    let (addr, _) = support::serve_tls_router(router).await;
    let mut target: Target = format!("grpcs://localhost:{}", addr.port()).parse().unwrap();
    let err = target.probe(&ProbeContext::new(), TIMEOUT).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    let Target::Grpc(p) = &mut target else { panic!("{target}") };
    p.insecure = true;
    let obs = target.probe(&ProbeContext::new(), TIMEOUT).await.unwrap();
    assert_eq!(obs.detail, "SERVING");
    assert!(obs.phases.tls.is_some(), "{obs:?}");
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn grpcs_to_an_http1_tls_server_is_protocol() {
    let addr = support::serve_tls_self_signed().await;
    let mut target: Target = format!("grpcs://{addr}").parse().unwrap();
    let Target::Grpc(p) = &mut target else { panic!("{target}") };
    p.insecure = true;
    let err = target.probe(&ProbeContext::new(), TIMEOUT).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
}
