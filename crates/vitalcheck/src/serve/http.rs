//! The HTTP health surface: an axum [`Router`] serving
//!
//! | route | answers | 200 when | else |
//! |---|---|---|---|
//! | `GET /livez` | [`Liveness`](CheckType::Liveness), plain text | no critical `live` check is Unhealthy | 503 |
//! | `GET /readyz` | [`Readiness`](CheckType::Readiness), plain text | Running, every gate passes, no critical readiness check is Unhealthy | 503 |
//! | `GET /health` | [`Full`](CheckType::Full), `application/health+json` | status `pass` or `warn` | 503 (`fail`) |
//!
//! HEAD works on each, and every response carries `Cache-Control: no-store`. The plain
//! text follows the Kubernetes API server: `ok` when the answer is yes; otherwise, or with
//! `?verbose`, one line per check, then a line per failing gate, then the verdict:
//!
//! ```text
//! [+]lifecycle running
//! [+]ping ok
//! [-]db failed: connection refused
//! [+]cache degraded: 3 of 4 nodes
//! [-]gate jobs: queue depth 250 is over 100
//! readyz check failed
//! ```
//!
//! Messages, check output and metadata are shown only to callers the [`Details`] policy
//! allows (loopback by default); others get `[-]db failed` and a report without
//! `output`/`metadata`. Without `?verbose` messages are never shown.
//!
//! ```
//! use vitalcheck::serve::http::{RouterOptions, router_with};
//! use vitalcheck::serve::{BearerToken, Details};
//! use vitalcheck::{HealthService, lifecycle::Lifecycle, registry::Registry};
//!
//! let health = HealthService::new(Registry::new(), Lifecycle::new());
//! let options = RouterOptions::new().details(Details::LoopbackOrToken(BearerToken::new("s3cret")));
//! let app: axum::Router = axum::Router::new().merge(router_with(health, options));
//! ```

use super::Details;
use crate::Status;
use crate::report::LifecycleState;
use crate::report::health_json::{CONTENT_TYPE as HEALTH_JSON, HealthResponse};
use crate::service::{Brief, CheckType, HealthService};
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;

/// How the router answers: who sees details. Built with [`new`](Self::new) and setters.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RouterOptions {
    /// Who may see check messages and metadata (default: [`Details::LoopbackOnly`]).
    pub details: Details,
}

impl RouterOptions {
    /// The defaults: details for loopback callers only.
    pub fn new() -> Self {
        RouterOptions::default()
    }

    /// Sets who may see check messages and metadata.
    pub fn details(mut self, details: Details) -> Self {
        self.details = details;
        self
    }
}

struct Shared {
    health: HealthService,
    options: RouterOptions,
}

/// The `/livez`, `/readyz` and `/health` routes over `health`, with the default
/// [`RouterOptions`]. Merge it into your app; it fits a router of any state type.
pub fn router<S>(health: HealthService) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router_with(health, RouterOptions::default())
}

/// Like [`router`], with `options`.
pub fn router_with<S>(health: HealthService, options: RouterOptions) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let shared = Arc::new(Shared { health, options });
    Router::new()
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/health", get(full))
        .layer(axum::middleware::map_response(no_store))
        .with_state(shared)
}

async fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn livez(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let verbose = wants_verbose(request.uri().query());
    let details = verbose && may_see_details(&shared.options.details, &request);
    plain(&shared, CheckType::Liveness, verbose, details).await
}

async fn readyz(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let verbose = wants_verbose(request.uri().query());
    let details = verbose && may_see_details(&shared.options.details, &request);
    plain(&shared, CheckType::Readiness, verbose, details).await
}

async fn full(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let details = may_see_details(&shared.options.details, &request);
    let answer = shared.health.check(CheckType::Full).await;
    let mut body = HealthResponse::from_report_with(&answer.report, details);
    if !details && !answer.report.failing_gates.is_empty() {
        let names: Vec<&str> = answer.report.failing_gates.iter().map(|g| split_gate(g).0).collect();
        body.output = Some(format!("failing gates: {}", names.join(", ")));
    }
    (status_of(answer.ok), [(header::CONTENT_TYPE, HEALTH_JSON)], body.to_json()).into_response()
}

/// The plain-text answer; `details` only matters with `verbose`. It needs only the
/// verdict and the lines, so it asks for a [`Brief`] rather than a full report.
async fn plain(shared: &Shared, check_type: CheckType, verbose: bool, details: bool) -> Response {
    let brief = shared.health.brief(check_type).await;
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8")),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    ];
    if brief.ok && !verbose {
        return (StatusCode::OK, headers, "ok").into_response();
    }
    (status_of(brief.ok), headers, render_lines(&brief, details)).into_response()
}

fn status_of(ok: bool) -> StatusCode {
    if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }
}

/// Whether the query asks for `verbose` (present, with any value or none, as Kubernetes).
fn wants_verbose(query: Option<&str>) -> bool {
    query.is_some_and(|q| q.split('&').any(|pair| pair.split('=').next() == Some("verbose")))
}

fn may_see_details(policy: &Details, request: &Request) -> bool {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    let authorization = request.headers().get(header::AUTHORIZATION).map(HeaderValue::as_bytes);
    policy.allows(peer, authorization)
}

/// The Kubernetes-style lines of an answer; messages only with `details`.
fn render_lines(brief: &Brief<'_>, details: bool) -> String {
    let readiness = brief.check_type == CheckType::Readiness;
    let mut out = String::with_capacity(32 * (brief.components.len() + brief.failing_gates.len() + 2));
    if readiness {
        let running = brief.lifecycle == LifecycleState::Running;
        out.push_str(if running { "[+]lifecycle " } else { "[-]lifecycle " });
        out.push_str(brief.lifecycle.as_str());
        out.push('\n');
    }
    for (spec, outcome) in &brief.components {
        let line = match (outcome.health.status, spec.critical) {
            (Status::Healthy, _) => ("[+]", " ok"),
            (Status::Degraded, _) => ("[+]", " degraded"),
            (Status::Unhealthy, true) => ("[-]", " failed"),
            (Status::Unhealthy, false) => ("[+]", " failed (non-critical)"),
        };
        out.push_str(line.0);
        out.push_str(&one_line(&spec.name));
        out.push_str(line.1);
        push_message(&mut out, outcome.health.message.as_deref().filter(|_| details));
    }
    if readiness {
        for gate in &brief.failing_gates {
            let (name, why) = split_gate(gate);
            out.push_str("[-]gate ");
            out.push_str(&one_line(name));
            push_message(&mut out, why.filter(|_| details));
        }
    }
    out.push_str(if readiness { "readyz check " } else { "livez check " });
    out.push_str(if brief.ok { "passed\n" } else { "failed\n" });
    out
}

fn push_message(out: &mut String, message: Option<&str>) {
    if let Some(message) = message.filter(|m| !m.is_empty()) {
        out.push_str(": ");
        out.push_str(&one_line(message));
    }
    out.push('\n');
}

/// A failing gate as `(name, why)`; [`Lifecycle`](crate::lifecycle::Lifecycle) writes
/// them `name: why`.
fn split_gate(gate: &str) -> (&str, Option<&str>) {
    match gate.split_once(": ") {
        Some((name, why)) => (name, Some(why)),
        None => (gate, None),
    }
}

/// Text for one line: line breaks become spaces.
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['\n', '\r']) { text.replace(['\n', '\r'], " ").into() } else { text.into() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::Lifecycle;
    use crate::registry::{ComponentHealth, Registry};

    fn service(running: bool) -> HealthService {
        let mut r = Registry::new();
        r.register("ping", || async { ComponentHealth::healthy() }).tags(["live"]);
        r.register("db", || async { ComponentHealth::unhealthy("refused\nby 10.0.0.5") });
        r.register("cache", || async { ComponentHealth::unhealthy("down") }).critical(false);
        r.register("disk", || async { ComponentHealth::degraded("91% full") });
        let lifecycle = Lifecycle::new();
        lifecycle.add_gate("jobs", || Err("queue depth 250 is over 100".into()));
        if running {
            lifecycle.mark_running();
        }
        HealthService::new(r, lifecycle)
    }

    #[tokio::test]
    async fn readiness_lines_with_and_without_details() {
        let s = service(true);
        let a = s.brief(CheckType::Readiness).await;
        assert_eq!(
            render_lines(&a, true),
            "[+]lifecycle running\n[-]db failed: refused by 10.0.0.5\n[+]cache failed (non-critical): down\n\
             [+]disk degraded: 91% full\n[-]gate jobs: queue depth 250 is over 100\nreadyz check failed\n"
        );
        assert_eq!(
            render_lines(&a, false),
            "[+]lifecycle running\n[-]db failed\n[+]cache failed (non-critical)\n[+]disk degraded\n\
             [-]gate jobs\nreadyz check failed\n"
        );
    }

    #[tokio::test]
    async fn liveness_lines_leave_out_lifecycle_and_gates() {
        let s = service(false);
        let a = s.brief(CheckType::Liveness).await;
        assert_eq!(render_lines(&a, true), "[+]ping ok\nlivez check passed\n");
        let starting = s.brief(CheckType::Readiness).await;
        assert!(render_lines(&starting, false).starts_with("[-]lifecycle starting\n"));
    }

    #[test]
    fn verbose_query() {
        assert!(wants_verbose(Some("verbose")));
        assert!(wants_verbose(Some("a=1&verbose=true")));
        assert!(!wants_verbose(Some("verbosity=1")));
        assert!(!wants_verbose(None));
        assert_eq!(split_gate("a: b: c"), ("a", Some("b: c")));
        assert_eq!(split_gate("plain"), ("plain", None));
    }
}
