//! What operators and their machines call: `/readyz`, `/metrics`, and the middleware that
//! counts every request.
//!
//! `/healthz` (in `mod.rs`) says the process serves; `/readyz` says it should be sent traffic:
//! the database answers and the server is not shutting down. `/metrics` renders
//! [`crate::metrics::Metrics`], behind a bearer token when one is set.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{MatchedPath, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use axum::response::IntoResponse;
use pin_project_lite::pin_project;
use serde_json::json;
use tokio::sync::watch;
use tower::{Layer, Service};
use tracing::warn;

use crate::config::MetricsToken;
use crate::metrics::{InFlight, Metrics, status_class};
use crate::store::{ReadinessError, Store};

/// How long `/readyz` waits for the database before calling it unready.
const READY_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest first path segment used as a route label for a request that matched no route.
const MAX_PREFIX_LABEL: usize = 32;

/// What `/readyz` and `/metrics` need.
#[derive(Debug, Clone)]
pub struct OpsState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub metrics_token: Option<MetricsToken>,
    /// Turns true once the server has been told to stop.
    pub draining: watch::Receiver<bool>,
}

/// `GET /readyz`: 200 `{"status":"ready"}` when the database answers a trivial query (and on
/// SQLite the entry writer does too); 503 with a reason otherwise, or while shutting down.
pub async fn readyz(State(ops): State<OpsState>) -> impl IntoResponse {
    if *ops.draining.borrow() {
        return not_ready("shutting_down", None);
    }
    match tokio::time::timeout(READY_TIMEOUT, ops.store.check_ready()).await {
        Ok(Ok(())) => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Ok(Err(error)) => {
            warn!(%error, "not ready: the database check failed");
            not_ready("not_ready", Some(reason(&error)))
        }
        Err(_) => {
            warn!(
                timeout_s = READY_TIMEOUT.as_secs(),
                "not ready: the database did not answer in time"
            );
            not_ready(
                "not_ready",
                Some("the database did not answer in time".to_owned()),
            )
        }
    }
}

/// What a caller of `/readyz` is told: enough to know where to look, without the database's
/// own error text (which the log has).
fn reason(error: &ReadinessError) -> String {
    match error {
        ReadinessError::Closed => "the database is closed".to_owned(),
        ReadinessError::Database(_) => "the database did not answer".to_owned(),
        ReadinessError::WriterStopped => "the entry writer has stopped".to_owned(),
    }
}

fn not_ready(status: &str, reason: Option<String>) -> (StatusCode, Json<serde_json::Value>) {
    let mut body = json!({"status": status});
    if let Some(reason) = reason {
        body["reason"] = reason.into();
    }
    (StatusCode::SERVICE_UNAVAILABLE, Json(body))
}

/// `GET /metrics`: the OpenMetrics text, with the queue gauges read from the database now.
pub async fn metrics(State(ops): State<OpsState>, headers: HeaderMap) -> axum::response::Response {
    if let Some(token) = &ops.metrics_token
        && !bearer_matches(&headers, token)
    {
        let body = protocol::entry::ApiError {
            code: "unauthorized".to_owned(),
            detail: "GET /metrics needs the header Authorization: Bearer <HOOKLINE_METRICS_TOKEN>."
                .to_owned(),
            field: None,
        };
        return (
            StatusCode::UNAUTHORIZED,
            [(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
            Json(body),
        )
            .into_response();
    }
    match ops.store.queue_depth().await {
        Ok(depth) => ops.metrics.set_queue_depth(depth),
        // The rest is still worth scraping; the gauges keep their last value.
        Err(error) => warn!(%error, "metrics: could not count the queued deliveries"),
    }
    (
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        ops.metrics.render(),
    )
        .into_response()
}

/// Whether the request carries `Authorization: Bearer <token>`, compared in constant time.
fn bearer_matches(headers: &HeaderMap, token: &MetricsToken) -> bool {
    let Some(given) = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (given, expected) = (given.trim().as_bytes(), token.as_str().as_bytes());
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0_u8, |differ, (a, b)| differ | (a ^ b))
            == 0
}

/// Counts every request in [`Metrics`]: method, route template, status class, latency.
#[derive(Debug, Clone)]
pub struct HttpMetricsLayer {
    metrics: Arc<Metrics>,
}

impl HttpMetricsLayer {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for HttpMetricsLayer {
    type Service = HttpMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpMetrics {
            inner,
            metrics: Arc::clone(&self.metrics),
        }
    }
}

/// The service [`HttpMetricsLayer`] wraps around each route.
#[derive(Debug, Clone)]
pub struct HttpMetrics<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, RequestBody, ResponseBody> Service<Request<RequestBody>> for HttpMetrics<S>
where
    S: Service<Request<RequestBody>, Response = Response<ResponseBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Counted<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<RequestBody>) -> Self::Future {
        let route = request.extensions().get::<MatchedPath>().cloned();
        // Only without a matched route, which is rare: the first segment, for nested services.
        let prefix = match route {
            Some(_) => None,
            None => prefix_label(request.uri().path()),
        };
        let method = method_label(request.method());
        let in_flight = self.metrics.request_started();
        Counted {
            inner: self.inner.call(request),
            metrics: Arc::clone(&self.metrics),
            route,
            prefix,
            method,
            started: Instant::now(),
            _in_flight: in_flight,
        }
    }
}

pin_project! {
    /// A request's response on its way, timed from its arrival.
    #[derive(Debug)]
    pub struct Counted<F> {
        #[pin]
        inner: F,
        metrics: Arc<Metrics>,
        route: Option<MatchedPath>,
        prefix: Option<String>,
        method: &'static str,
        started: Instant,
        _in_flight: InFlight,
    }
}

impl<F, ResponseBody, E> Future for Counted<F>
where
    F: Future<Output = Result<Response<ResponseBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let status = match &result {
            Ok(response) => response.status(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        // A matched route's template; else the nested service's prefix (`/widget/*`) if it
        // answered, since only those answer without a matched route; else `unmatched`.
        let route = match (this.route.as_ref(), this.prefix.as_deref()) {
            (Some(route), _) => route.as_str(),
            (None, Some(prefix)) if status != StatusCode::NOT_FOUND => prefix,
            _ => "unmatched",
        };
        this.metrics.request_finished(
            this.method,
            route,
            status_class(status.as_u16()),
            this.started.elapsed(),
        );
        Poll::Ready(result)
    }
}

/// `/{first segment}/*`, if that segment is a plain word.
fn prefix_label(path: &str) -> Option<String> {
    let first = path.trim_start_matches('/').split('/').next()?;
    let plain = !first.is_empty()
        && first.len() <= MAX_PREFIX_LABEL
        && first
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    plain.then(|| format!("/{first}/*"))
}

/// The method as a label: the standard ones by name, anything else `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_plain_first_segments() {
        assert_eq!(
            prefix_label("/widget/hookline.js").as_deref(),
            Some("/widget/*")
        );
        assert_eq!(prefix_label("/www").as_deref(), Some("/www/*"));
        assert_eq!(prefix_label("/"), None);
        assert_eq!(prefix_label("/%2e%2e/x"), None);
        assert_eq!(prefix_label(&format!("/{}", "a".repeat(40))), None);
    }

    #[test]
    fn bearer_tokens_must_match_exactly() {
        let token = MetricsToken::parse("s3cret").expect("a valid token");
        let headers = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                AUTHORIZATION,
                HeaderValue::from_str(value).expect("a valid header"),
            );
            headers
        };
        assert!(bearer_matches(&headers("Bearer s3cret"), &token));
        assert!(!bearer_matches(&headers("Bearer s3cret2"), &token));
        assert!(!bearer_matches(&headers("Bearer s3cre"), &token));
        assert!(!bearer_matches(&headers("Basic s3cret"), &token));
        assert!(!bearer_matches(&HeaderMap::new(), &token));
    }
}
