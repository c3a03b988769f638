//! Prometheus metrics: every metric the server keeps, and rendering them as OpenMetrics text.
//!
//! One [`Metrics`] per [`crate::Application`] (not a process-wide registry), so each test sees
//! only its own server's counts. Recording is a few atomic operations behind a read lock:
//! cheap enough for every request of the ingest path.
//!
//! Owns metric names, labels, help texts and buckets. Label values come only from bounded
//! sets (route templates, status classes, error codes, enum names), never from what a client
//! sends. Must not do IO: the gauges read from the database are set by the caller before
//! [`Metrics::render`].

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use protocol::campaign::EntryMethodType;

/// Request latency buckets (seconds): ingest answers in a millisecond or so; a slow one is
/// a problem at 100 ms.
const HTTP_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Webhook try buckets (seconds), up to the 15 s default timeout.
const DELIVERY_BUCKETS: [f64; 13] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0,
];

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: String,
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EntryTypeLabel {
    entry_type: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    outcome: &'static str,
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

/// The server's metrics. Share it behind an `Arc`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: HistogramFamily<RouteLabel>,
    http_in_flight: Gauge,
    entries_accepted: Family<EntryTypeLabel, Counter>,
    entries_replayed: Counter,
    entries_refused: Family<CodeLabel, Counter>,
    delivery_attempts: Family<AttemptLabels, Counter>,
    delivery_duration: HistogramFamily<OutcomeLabel>,
    deliveries_given_up: Counter,
    endpoints_disabled: Family<ReasonLabel, Counter>,
    deliveries_queued: Family<StateLabel, Gauge>,
    endpoints: Family<StateLabel, Gauge>,
}

/// How many deliveries and endpoints the database holds, by state (read when scraped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueDepth {
    pub pending: i64,
    pub held: i64,
    pub endpoints_enabled: i64,
    pub endpoints_disabled: i64,
}

/// What one webhook try came to, for [`Metrics::delivery_attempted`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryOutcome {
    /// The endpoint answered 2xx.
    Delivered,
    /// The endpoint answered with this (non-2xx) status.
    Failed(u16),
    /// No answer came; the attempt's `error_kind` (`timeout`, `connect`…).
    Error(&'static str),
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("hookline");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template and status class",
            http_requests.clone(),
        );
        let http_duration: HistogramFamily<RouteLabel> =
            Family::new_with_constructor(|| Histogram::new(HTTP_BUCKETS));
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its response's head, by route template",
            Unit::Seconds,
            http_duration.clone(),
        );
        let http_in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being handled",
            http_in_flight.clone(),
        );
        let entries_accepted = Family::<EntryTypeLabel, Counter>::default();
        registry.register(
            "entries_accepted",
            "New entries stored, by entry method type",
            entries_accepted.clone(),
        );
        let entries_replayed = Counter::default();
        registry.register(
            "entries_replayed",
            "Entries answered again because their idempotency key was seen before",
            entries_replayed.clone(),
        );
        let entries_refused = Family::<CodeLabel, Counter>::default();
        registry.register(
            "entries_refused",
            "Entries refused, by API error code",
            entries_refused.clone(),
        );
        let delivery_attempts = Family::<AttemptLabels, Counter>::default();
        registry.register(
            "delivery_attempts",
            "Webhook tries, by outcome (delivered, failed, error) and kind (status class or error kind)",
            delivery_attempts.clone(),
        );
        let delivery_duration: HistogramFamily<OutcomeLabel> =
            Family::new_with_constructor(|| Histogram::new(DELIVERY_BUCKETS));
        registry.register_with_unit(
            "delivery_duration",
            "Time of one webhook try, by outcome",
            Unit::Seconds,
            delivery_duration.clone(),
        );
        let deliveries_given_up = Counter::default();
        registry.register(
            "deliveries_given_up",
            "Deliveries that failed their last try",
            deliveries_given_up.clone(),
        );
        let endpoints_disabled = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "endpoints_disabled",
            "Webhook endpoints this process disabled, by reason (gone, failing)",
            endpoints_disabled.clone(),
        );
        let deliveries_queued = Family::<StateLabel, Gauge>::default();
        registry.register(
            "deliveries_queued",
            "Deliveries waiting in the database (every server sharing it), by state",
            deliveries_queued.clone(),
        );
        let endpoints = Family::<StateLabel, Gauge>::default();
        registry.register(
            "endpoints",
            "Webhook endpoints in the database, by state",
            endpoints.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            http_in_flight,
            entries_accepted,
            entries_replayed,
            entries_refused,
            delivery_attempts,
            delivery_duration,
            deliveries_given_up,
            endpoints_disabled,
            deliveries_queued,
            endpoints,
        }
    }

    /// Counts a request as in flight until the guard is dropped (answered or abandoned).
    pub fn request_started(&self) -> InFlight {
        self.http_in_flight.inc();
        InFlight(self.http_in_flight.clone())
    }

    /// Records an answered request: its method (one of the standard ones, else `other`), the
    /// route template it matched (`unmatched` if none), its status class and latency.
    pub fn request_finished(
        &self,
        method: &'static str,
        route: &str,
        status_class: &'static str,
        latency: Duration,
    ) {
        let route = route.to_owned();
        self.http_duration
            .get_or_create(&RouteLabel {
                route: route.clone(),
            })
            .observe(latency.as_secs_f64());
        self.http_requests
            .get_or_create(&HttpLabels {
                method,
                route,
                status: status_class,
            })
            .inc();
    }

    /// A new entry was stored for an entry method of type `entry_type`.
    pub fn entry_accepted(&self, entry_type: &str) {
        let entry_type =
            EntryMethodType::parse(entry_type).map_or("other", EntryMethodType::as_str);
        self.entries_accepted
            .get_or_create(&EntryTypeLabel { entry_type })
            .inc();
    }

    /// An entry was answered again for its idempotency key.
    pub fn entry_replayed(&self) {
        self.entries_replayed.inc();
    }

    /// An entry was refused with the API error `code`.
    pub fn entry_refused(&self, code: &'static str) {
        self.entries_refused
            .get_or_create(&CodeLabel { code })
            .inc();
    }

    /// A webhook try ended after `latency`.
    pub fn delivery_attempted(&self, outcome: TryOutcome, latency: Duration) {
        let labels = match outcome {
            TryOutcome::Delivered => AttemptLabels {
                outcome: "delivered",
                kind: "2xx",
            },
            TryOutcome::Failed(status) => AttemptLabels {
                outcome: "failed",
                kind: status_class(status),
            },
            TryOutcome::Error(kind) => AttemptLabels {
                outcome: "error",
                kind,
            },
        };
        self.delivery_duration
            .get_or_create(&OutcomeLabel {
                outcome: labels.outcome,
            })
            .observe(latency.as_secs_f64());
        self.delivery_attempts.get_or_create(&labels).inc();
    }

    /// A delivery failed its last try and will not be sent again.
    pub fn delivery_given_up(&self) {
        self.deliveries_given_up.inc();
    }

    /// Delivery disabled an endpoint, for `reason` (`gone`, `failing`).
    pub fn endpoint_disabled(&self, reason: &'static str) {
        self.endpoints_disabled
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// Sets the gauges read from the database.
    pub fn set_queue_depth(&self, depth: QueueDepth) {
        for (family, state, value) in [
            (&self.deliveries_queued, "pending", depth.pending),
            (&self.deliveries_queued, "held", depth.held),
            (&self.endpoints, "enabled", depth.endpoints_enabled),
            (&self.endpoints, "disabled", depth.endpoints_disabled),
        ] {
            family.get_or_create(&StateLabel { state }).set(value);
        }
    }

    /// Every metric in the OpenMetrics text format (which Prometheus reads), ending `# EOF`.
    pub fn render(&self) -> String {
        let mut text = String::with_capacity(8 * 1024);
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// `2xx`, `4xx`…: the label for a status code (`other` outside 100..=599).
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}

/// A request counted in `hookline_http_requests_in_flight`; dropping it ends the count.
#[derive(Debug)]
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_what_was_recorded() {
        let metrics = Metrics::new();
        {
            let _in_flight = metrics.request_started();
            metrics.request_finished(
                "POST",
                "/api/v1/public/campaigns/{key}/entries",
                "2xx",
                Duration::from_micros(700),
            );
        }
        metrics.entry_accepted("email_subscribe");
        metrics.entry_accepted("made_up");
        metrics.entry_refused("invalid_email");
        metrics.delivery_attempted(TryOutcome::Delivered, Duration::from_millis(20));
        metrics.delivery_attempted(TryOutcome::Failed(503), Duration::from_millis(20));
        metrics.delivery_attempted(TryOutcome::Error("timeout"), Duration::from_secs(15));
        metrics.set_queue_depth(QueueDepth {
            pending: 3,
            held: 1,
            endpoints_enabled: 2,
            endpoints_disabled: 0,
        });
        let text = metrics.render();
        for line in [
            r#"hookline_http_requests_total{method="POST",route="/api/v1/public/campaigns/{key}/entries",status="2xx"} 1"#,
            r#"hookline_http_request_duration_seconds_bucket{le="0.001",route="/api/v1/public/campaigns/{key}/entries"} 1"#,
            r#"hookline_http_request_duration_seconds_bucket{le="0.0005",route="/api/v1/public/campaigns/{key}/entries"} 0"#,
            "hookline_http_requests_in_flight 0",
            r#"hookline_entries_accepted_total{entry_type="email_subscribe"} 1"#,
            r#"hookline_entries_accepted_total{entry_type="other"} 1"#,
            r#"hookline_entries_refused_total{code="invalid_email"} 1"#,
            r#"hookline_delivery_attempts_total{outcome="delivered",kind="2xx"} 1"#,
            r#"hookline_delivery_attempts_total{outcome="failed",kind="5xx"} 1"#,
            r#"hookline_delivery_attempts_total{outcome="error",kind="timeout"} 1"#,
            r#"hookline_delivery_duration_seconds_count{outcome="error"} 1"#,
            r#"hookline_deliveries_queued{state="pending"} 3"#,
            r#"hookline_endpoints{state="enabled"} 2"#,
            "hookline_entries_replayed_total 0",
            "# EOF",
        ] {
            assert!(
                text.lines().any(|rendered| rendered == line),
                "missing {line:?} in:\n{text}"
            );
        }
    }

    #[test]
    fn status_classes() {
        for (status, class) in [
            (101, "1xx"),
            (204, "2xx"),
            (308, "3xx"),
            (410, "4xx"),
            (599, "5xx"),
            (600, "other"),
            (0, "other"),
        ] {
            assert_eq!(status_class(status), class, "{status}");
        }
    }
}
