//! The http probe against real loopback servers: well-behaved axum apps and raw TCP peers
//! that misbehave on purpose.

#![allow(clippy::unwrap_used)]

mod support;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Redirect;
use axum::routing::get;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;
use tokio::io::AsyncWriteExt;
use vitalcheck::probe::{
    BodyExpectation, ErrorKind, HttpMethod, HttpProbe, Observation, Phase, ProbeContext, ProbeError, StatusSet, Target,
};

const SHORT: Duration = Duration::from_millis(300);
const LONG: Duration = Duration::from_secs(10);

async fn probe_in(
    ctx: &ProbeContext,
    url: &str,
    timeout: Duration,
    configure: impl FnOnce(&mut HttpProbe),
) -> Result<Observation, ProbeError> {
    let mut target: Target = url.parse().expect("target");
    match &mut target {
        Target::Http(p) => configure(p),
        other => panic!("{url} is not http: {other}"),
    }
    target.probe(ctx, timeout).await
}

async fn probe(
    url: &str,
    timeout: Duration,
    configure: impl FnOnce(&mut HttpProbe),
) -> Result<Observation, ProbeError> {
    probe_in(&ProbeContext::new(), url, timeout, configure).await
}

fn expect_err(result: Result<Observation, ProbeError>) -> ProbeError {
    match result {
        Ok(obs) => panic!("expected an error, got {obs:?}"),
        Err(e) => e,
    }
}

fn app() -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route(
            "/json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], r#"{"status":"ok","count":3}"#) }),
        )
        .route("/500", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route("/503", get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down") }))
        .route("/r1", get(|| async { Redirect::to("/r2") }))
        .route("/r2", get(|| async { Redirect::permanent("r3") }))
        .route("/r3", get(|| async { Redirect::temporary("/health") }))
        .route("/loop-a", get(|| async { Redirect::to("/loop-b") }))
        .route("/loop-b", get(|| async { Redirect::to("/loop-a") }))
        .route("/n/{k}", get(|Path(k): Path<u32>| async move { Redirect::to(&format!("/n/{}", k + 1)) }))
}

#[tokio::test]
async fn healthy_200_with_phases() {
    let addr = serve(app()).await;
    let obs = probe(&format!("http://{addr}/health"), LONG, |_| {}).await.expect("healthy");
    assert_eq!(obs.detail, "200 OK");
    assert_eq!(obs.http_status, Some(200));
    assert_eq!(obs.phases.dns, None, "IP literal needs no lookup");
    assert!(obs.phases.connect.is_some() && obs.phases.first_byte.is_some() && obs.phases.body.is_some());
    assert_eq!(obs.phases.tls, None);
}

#[tokio::test]
async fn server_errors_are_status() {
    let addr = serve(app()).await;
    for code in [500, 503] {
        let url = format!("http://{addr}/{code}");
        let err = expect_err(probe(&url, LONG, |_| {}).await);
        assert_eq!(err.kind(), ErrorKind::Status(code), "{err}");
        assert!(err.to_string().starts_with(&url), "{err}");
        assert!(err.to_string().contains("accepted: 200-299"), "{err}");
    }
    let obs = probe(&format!("http://{addr}/503"), LONG, |p| p.accept = "200-299,503".parse().unwrap()).await;
    assert_eq!(obs.expect("503 accepted").http_status, Some(503));
}

#[tokio::test]
async fn nothing_listening_is_refused() {
    let err = expect_err(probe(&format!("http://127.0.0.1:{}/", free_port()), LONG, |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
}

#[tokio::test]
async fn silent_server_times_out_at_first_byte() {
    let addr = serve_raw(|mut s| async move {
        read_head(&mut s).await;
        hold(&mut s).await;
    })
    .await;
    let err = expect_err(probe(&format!("http://{addr}/"), SHORT, |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Timeout(Phase::FirstByte), "{err}");
    assert!(err.elapsed() < Duration::from_secs(3), "{:?}", err.elapsed());
}

#[tokio::test]
async fn trickling_body_times_out_in_body() {
    let addr = serve_raw(|mut s| async move {
        read_head(&mut s).await;
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789").await;
        hold(&mut s).await;
    })
    .await;
    let err = expect_err(probe(&format!("http://{addr}/"), SHORT, |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Timeout(Phase::Body), "{err}");
}

#[tokio::test]
async fn closed_mid_response_is_protocol() {
    for response in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"[..],
        b"HTTP/1.1 200 OK\r\nContent-",
        b"",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
    ] {
        let addr = serve_raw(move |s| answer_raw(s, response)).await;
        let err = expect_err(probe(&format!("http://{addr}/"), LONG, |_| {}).await);
        assert_eq!(err.kind(), ErrorKind::Protocol, "{:?}: {err}", String::from_utf8_lossy(response));
    }
}

#[tokio::test]
async fn garbage_is_protocol() {
    let addr = serve_raw(|s| answer_raw(s, b"SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02garbage\r\n\r\n")).await;
    let err = expect_err(probe(&format!("http://{addr}/"), LONG, |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
}

#[tokio::test]
async fn redirect_chain_is_followed() {
    let addr = serve(app()).await;
    let obs = probe(&format!("http://{addr}/r1"), LONG, |_| {}).await.expect("followed");
    assert_eq!(obs.detail, "200 OK, after 3 redirects");
    assert_eq!(obs.http_status, Some(200));
}

#[tokio::test]
async fn redirect_loop_and_too_many_are_protocol() {
    let addr = serve(app()).await;
    let err = expect_err(probe(&format!("http://{addr}/loop-a"), LONG, |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    let want = format!("redirect loop: http://{addr}/loop-a -> http://{addr}/loop-b -> http://{addr}/loop-a");
    assert!(err.to_string().ends_with(&want), "{err}");

    let err = expect_err(probe(&format!("http://{addr}/n/0"), LONG, |_| {}).await);
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.to_string().ends_with("too many redirects (10)"), "{err}");
    let err = expect_err(probe(&format!("http://{addr}/n/0"), LONG, |p| p.max_redirects = 2).await);
    assert!(err.to_string().ends_with("too many redirects (2)"), "{err}");
}

#[tokio::test]
async fn redirects_off_judges_the_3xx() {
    let addr = serve(app()).await;
    let url = format!("http://{addr}/loop-a");
    let err = expect_err(probe(&url, LONG, |p| p.max_redirects = 0).await);
    assert_eq!(err.kind(), ErrorKind::Status(303), "{err}");
    let obs = probe(&url, LONG, |p| {
        p.max_redirects = 0;
        p.accept = StatusSet::monitoring();
    })
    .await
    .expect("3xx accepted");
    assert_eq!(obs.http_status, Some(303));
}

#[tokio::test]
async fn redirect_status_302_not_followed_when_off() {
    let addr = serve_raw(|s| answer_raw(s, b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n")).await;
    let err = expect_err(probe(&format!("http://{addr}/"), LONG, |p| p.max_redirects = 0).await);
    assert_eq!(err.kind(), ErrorKind::Status(302), "{err}");
}

#[tokio::test]
async fn credentials_do_not_follow_a_redirect_to_another_host() {
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let record = |State(seen): State<Arc<Mutex<Vec<Option<String>>>>>, headers: HeaderMap| async move {
        let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
        seen.lock().unwrap().push(auth);
        "ok"
    };
    let port = Arc::new(std::sync::OnceLock::<u16>::new());
    let p2 = Arc::clone(&port);
    let router = Router::new()
        .route("/final", get(record))
        .route("/same", get(|| async { Redirect::to("/final") }))
        .route(
            "/other",
            get(move || async move { Redirect::to(&format!("http://localhost:{}/final", p2.get().unwrap())) }),
        )
        .with_state(Arc::clone(&seen));
    let addr = serve(router).await;
    port.set(addr.port()).unwrap();
    for path in ["same", "other"] {
        probe(&format!("http://{addr}/{path}"), LONG, |p| {
            p.headers = HttpProbe::new(p.url.clone()).header("Authorization", "Bearer s3cret").unwrap().headers;
        })
        .await
        .expect(path);
    }
    assert_eq!(*seen.lock().unwrap(), vec![Some("Bearer s3cret".to_string()), None]);
}

#[tokio::test]
async fn huge_body_is_capped_and_returns_quickly() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n";
    let addr = serve_raw(move |s| stream_forever(s, head, false)).await;
    let obs = probe(&format!("http://{addr}/"), LONG, |_| {}).await.expect("healthy");
    assert_eq!(obs.detail, "200 OK, body truncated at 1 MiB");
    assert!(obs.latency < Duration::from_secs(5), "{:?}", obs.latency);
}

#[tokio::test]
async fn endless_chunked_body_is_capped() {
    let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let addr = serve_raw(move |s| stream_forever(s, head, true)).await;
    let obs = probe(&format!("http://{addr}/"), LONG, |p| {
        p.body_limit = 100_000;
        p.expect.push(BodyExpectation::contains("xxx"));
    })
    .await
    .expect("healthy");
    assert_eq!(obs.detail, "200 OK, body truncated at 100000 bytes");
    let err =
        expect_err(probe(&format!("http://{addr}/"), LONG, |p| p.expect.push(BodyExpectation::contains("y"))).await);
    assert_eq!(err.kind(), ErrorKind::Expectation, "{err}");
    assert!(err.to_string().ends_with(", body truncated at 1 MiB"), "{err}");
}

#[tokio::test]
async fn localhost_reaches_an_ipv6_only_listener() {
    let Ok(listener) = tokio::net::TcpListener::bind("[::1]:0").await else {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    };
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app()).await });
    let obs = probe(&format!("http://localhost:{port}/health"), LONG, |_| {}).await.expect("healthy over ::1");
    assert_eq!(obs.http_status, Some(200));
}

#[tokio::test]
async fn self_signed_tls_needs_insecure() {
    let addr = serve_tls_self_signed().await;
    for host in ["127.0.0.1".to_string(), "localhost".to_string()] {
        let url = format!("https://{host}:{}/", addr.port());
        let err = expect_err(probe(&url, LONG, |_| {}).await);
        assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
        let obs = probe(&url, LONG, |p| p.insecure = true).await.expect("insecure accepts it");
        assert_eq!(obs.detail, "200 OK");
        assert!(obs.phases.tls.is_some());
    }
}

#[tokio::test]
async fn http2_over_tls_with_keep_alive() {
    let router = Router::new().route("/v", get(|version: axum::http::Version| async move { format!("{version:?}") }));
    let (addr, accepted) = serve_tls_router(router).await;
    let url = format!("https://localhost:{}/v", addr.port());
    let ctx = ProbeContext::new();
    for _ in 0..3 {
        let obs = probe_in(&ctx, &url, LONG, |p| {
            p.insecure = true;
            p.keep_alive = true;
            p.expect.push(BodyExpectation::contains("HTTP/2.0"));
        })
        .await
        .expect("healthy over h2");
        assert_eq!(obs.detail, "200 OK");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn silent_tls_server_times_out_in_tls() {
    let addr = serve_raw(|mut s| async move { hold(&mut s).await }).await;
    let err = expect_err(probe(&format!("https://{addr}/"), SHORT, |p| p.insecure = true).await);
    assert_eq!(err.kind(), ErrorKind::Timeout(Phase::Tls), "{err}");
}

#[tokio::test]
async fn keep_alive_follows_same_origin_redirects_on_one_connection() {
    let (addr, accepted) = serve_counting(app()).await;
    let ctx = ProbeContext::new();
    for _ in 0..2 {
        let obs = probe_in(&ctx, &format!("http://{addr}/r1"), LONG, |p| p.keep_alive = true).await.expect("healthy");
        assert_eq!(obs.detail, "200 OK, after 3 redirects");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn tls_to_a_plain_http_server_is_tls_error() {
    let addr = serve(app()).await;
    let err = expect_err(probe(&format!("https://{addr}/health"), LONG, |p| p.insecure = true).await);
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
}

#[tokio::test]
async fn custom_headers_user_agent_and_host_are_sent() {
    let seen: Arc<Mutex<Option<HeaderMap>>> = Arc::default();
    let router = Router::new()
        .route(
            "/",
            get(|State(seen): State<Arc<Mutex<Option<HeaderMap>>>>, headers: HeaderMap| async move {
                *seen.lock().unwrap() = Some(headers);
                "ok"
            }),
        )
        .with_state(Arc::clone(&seen));
    let addr = serve(router).await;
    let url = format!("http://{addr}/");
    probe(&url, LONG, |p| *p = p.clone().header("X-Probe", "yes").unwrap()).await.expect("healthy");
    let headers = seen.lock().unwrap().take().expect("request seen");
    assert_eq!(headers["x-probe"], "yes");
    assert_eq!(headers[header::HOST], addr.to_string());
    assert!(headers[header::USER_AGENT].to_str().unwrap().starts_with("vitalcheck/"));
}

#[tokio::test]
async fn head_reads_no_body() {
    let addr = serve(app()).await;
    let obs = probe(&format!("http://{addr}/health"), LONG, |p| p.method = HttpMethod::Head).await.expect("healthy");
    assert_eq!(obs.detail, "200 OK");
    assert_eq!(obs.phases.body, None);
}

#[tokio::test]
async fn body_expectations() {
    let addr = serve(app()).await;
    let url = format!("http://{addr}/json");
    let passing = [
        BodyExpectation::contains("\"ok\""),
        BodyExpectation::regex(r#""count":\s*\d+"#).unwrap(),
        BodyExpectation::json("/status == ok").unwrap(),
        BodyExpectation::json("/count == 3").unwrap(),
        BodyExpectation::json("/count").unwrap(),
    ];
    for e in passing {
        let shown = e.to_string();
        probe(&url, LONG, |p| p.expect.push(e)).await.unwrap_or_else(|err| panic!("{shown}: {err}"));
    }
    let failing = [
        (BodyExpectation::contains("DOWN"), "body does not contain \"DOWN\""),
        (BodyExpectation::regex("^<html>").unwrap(), "body does not match /^<html>/"),
        (BodyExpectation::json("/status == \"down\"").unwrap(), "expected /status == \"down\", found \"ok\""),
        (BodyExpectation::json("/missing").unwrap(), "JSON has no value at /missing"),
    ];
    for (e, want) in failing {
        let err = expect_err(probe(&url, LONG, |p| p.expect.push(e)).await);
        assert_eq!(err.kind(), ErrorKind::Expectation, "{err}");
        assert!(err.to_string().contains(want), "{err}");
    }
    let err = expect_err(
        probe(&format!("http://{addr}/health"), LONG, |p| p.expect.push(BodyExpectation::json("/a").unwrap())).await,
    );
    assert_eq!(err.kind(), ErrorKind::Expectation, "{err}");
    assert!(err.to_string().contains("not JSON"), "{err}");
}

#[tokio::test]
async fn keep_alive_reuses_one_connection() {
    let (addr, accepted) = serve_counting(app()).await;
    let url = format!("http://{addr}/health");
    let ctx = ProbeContext::new();
    for _ in 0..3 {
        let obs = probe_in(&ctx, &url, LONG, |p| p.keep_alive = true).await.expect("healthy");
        assert_eq!(obs.detail, "200 OK");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    assert_eq!(ctx.http().idle_connections(), 1);

    let (addr, accepted) = serve_counting(app()).await;
    let url = format!("http://{addr}/health");
    for _ in 0..3 {
        probe_in(&ctx, &url, LONG, |_| {}).await.expect("healthy");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn stale_kept_connection_is_replaced() {
    // Answers once per connection, then closes it (without saying so).
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    let addr = serve_raw(move |s| {
        count.fetch_add(1, Ordering::SeqCst);
        answer_raw(s, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    })
    .await;
    let ctx = ProbeContext::new();
    for _ in 0..2 {
        probe_in(&ctx, &format!("http://{addr}/"), LONG, |p| p.keep_alive = true).await.expect("healthy");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn password_never_in_error_messages() {
    let addr = serve(app()).await;
    for url in [
        format!("http://bob:hunter2@127.0.0.1:{}/", free_port()),
        format!("http://bob:hunter2@{addr}/500?token=tok3n"),
        format!("http://bob:hunter2@{addr}/loop-a?token=tok3n"),
    ] {
        let err = expect_err(probe(&url, LONG, |_| {}).await);
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains("hunter2") && !shown.contains("tok3n"), "{shown}");
            assert!(shown.contains("bob:***@"), "{shown}");
        }
    }
}
