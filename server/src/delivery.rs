//! Webhook delivery: claiming due deliveries, building each request from the endpoint's
//! current settings (`outbound`), signing and sending it, recording every attempt with the
//! request it sent, and scheduling retries (the endpoint's schedule, by default 1, 2, 4, 8
//! minutes, then hourly, with jitter; longer when the endpoint's `Retry-After` asks, up to a
//! day). Success is any 2xx.
//!
//! Endpoint health: a `410 Gone` answer disables the endpoint at once (reason `gone`); a run of
//! failed attempts as long as [`DeliveryLimits`] allows disables it (reason `failing`); a
//! success ends the run. A disabled or inactive endpoint's pending deliveries are left
//! `pending` and are not claimed (nor are new ones queued) until it is enabled again; each
//! disabling is logged. A deleted endpoint's are cancelled when it is deleted.
//!
//! Per endpoint: strict ordering (the claim takes only the head of its queue, one request at
//! a time, so a failing first delivery holds the rest back until it succeeds or is given
//! up), batching (up to `batching.max_events` of its claimed deliveries in one request, each
//! recorded as part of that attempt), a concurrency cap and a rate limit ([`RateGate`]).
//!
//! [`DeliveryWorker::try_next`] does one step with a clock passed in, so tests drive it;
//! [`spawn_background`] runs the same parts with the real clock: a dispatcher takes the
//! deliveries handed to it as their entries commit (written already leased to it, so no claim
//! stands between an entry and its webhook), claims the rest in batches, and sends them
//! concurrently (at most `concurrency` at once, and each endpoint's cap); a recorder writes
//! the outcomes a batch per transaction, off the path. Must not block the request path:
//! ingest only writes rows, hands them over and notifies. A failed send is data (an attempt
//! row), not an error; only the database can make a step fail.

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant, UNIX_EPOCH};

use protocol::admin::webhooks::TestOutcome;
use protocol::ids::MessageId;
use protocol::payload::EventType;
use rand::distr::{Alphanumeric, SampleString as _};
use reqwest::header::RETRY_AFTER;
use sha2::{Digest as _, Sha256};
use tokio::sync::{Notify, Semaphore, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tracing::{error, info, warn};

use crate::clock;
use crate::config::{DeliveryLimits, DeliveryTimeouts, Egress};
use crate::destination::{DestinationError, Destinations};
use crate::endpoints::{Sendable, request_record};
use crate::metrics::{Metrics, TryOutcome};
use crate::outbound::{self, CompiledEndpoint, OutboundEvent, OutboundRequest};
use crate::secrets::MasterKey;
use crate::store::{
    AttemptOutcome, BusyEndpoints, Claim, ClaimedDelivery, DeliveryNext, DisableRule,
    DisabledReason, FinishedAttempt, HandedOff, Store, StoreError,
};

/// Tries before a delivery is given up (about a day and a half of retries), unless the
/// endpoint sets its own.
pub const MAX_ATTEMPTS: u32 = 40;
/// Rounds of an endpoint's sends (its concurrency cap each) the background loop claims at
/// most: one sending and the next ones ready, so its pipeline does not drain while a claim
/// commits, and each claim commits many deliveries at once.
const ROUNDS_CLAIMED: u32 = 4;
/// Most deliveries one claim statement takes.
const MAX_CLAIM: u32 = 128;
/// Most outcomes written in one transaction.
const MAX_RECORD_BATCH: usize = 256;
/// How long the recorder gathers outcomes before writing them: one durable commit records
/// many tries, and the entry writer stays free for entries. Losing them to a crash only
/// means sending those deliveries again (at least once); a strictly ordered endpoint's
/// outcome is written at once, since the rest of its queue waits for it.
const RECORD_WINDOW: Duration = Duration::from_millis(50);
/// The longest `Retry-After` honoured; a longer one waits this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Longest wait between looks at the queue while sends are in flight.
const MAX_BUSY_WAIT: Duration = Duration::from_secs(1);
/// Most of a response body read and kept as the attempt's snippet; the rest is never read.
const MAX_RESPONSE_BYTES: usize = 4096;
/// Longest idle wait between looks at the queue, whatever it says.
const MAX_IDLE_WAIT: Duration = Duration::from_secs(300);
/// Shortest idle wait, so a queue whose due rows cannot be claimed is not spun on.
const MIN_IDLE_WAIT: Duration = Duration::from_millis(5);
/// Wait after a database error before trying again.
const ERROR_BACKOFF: Duration = Duration::from_secs(5);

/// What one step of the worker did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Sent a delivery (or a batch) and the endpoint answered 2xx.
    Delivered,
    /// Sent a delivery and it failed; a retry is scheduled (or, after the endpoint's most
    /// attempts, not).
    Failed,
    /// Nothing was due.
    Idle,
}

/// When an endpoint's failed deliveries are tried again, and how often at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    /// Seconds after the 1st, 2nd, … failure; the last repeats. Never empty.
    seconds: Vec<u32>,
    max_attempts: u32,
}

impl Default for RetrySchedule {
    /// eSputnik's: 1, 2, 4, 8 minutes, then hourly; 40 tries.
    fn default() -> Self {
        Self {
            seconds: Self::DEFAULT_SECONDS.to_vec(),
            max_attempts: MAX_ATTEMPTS,
        }
    }
}

impl RetrySchedule {
    pub const DEFAULT_SECONDS: [u32; 5] = [60, 120, 240, 480, 3600];

    /// An endpoint's schedule: its own waits and most attempts, or the defaults.
    pub fn from_settings(seconds: Option<&[u32]>, max_attempts: Option<u32>) -> Self {
        let default = Self::default();
        Self {
            seconds: seconds
                .filter(|seconds| !seconds.is_empty())
                .map_or(default.seconds, <[u32]>::to_vec),
            max_attempts: max_attempts.unwrap_or(default.max_attempts).max(1),
        }
    }

    /// The delay before the next try after `n_failed_attempts` failures. `jitter` in
    /// `-1.0..=1.0` moves it by up to ±10% so that many deliveries failing together do not
    /// retry together.
    pub fn delay(&self, n_failed_attempts: u32, jitter: f64) -> Duration {
        let index = (n_failed_attempts.max(1) as usize - 1).min(self.seconds.len() - 1);
        Duration::from_secs(u64::from(self.seconds[index]))
            .mul_f64(1.0 + 0.1 * jitter.clamp(-1.0, 1.0))
    }

    pub fn seconds(&self) -> Vec<u32> {
        self.seconds.clone()
    }

    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
}

/// The default schedule's delay after `n_failed_attempts` failures: 1, 2, 4, 8 minutes,
/// then every hour, ±10% by `jitter`.
pub fn retry_delay(n_failed_attempts: u32, jitter: f64) -> Duration {
    RetrySchedule::default().delay(n_failed_attempts, jitter)
}

/// The delay an endpoint asked for with `Retry-After` (delta-seconds or an HTTP-date), seen
/// at `now` (unix ms); `None` when the value is neither. A date in the past asks for no delay.
pub fn parse_retry_after(value: &str, now: i64) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        // More digits than fit are still "a long time".
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let now = UNIX_EPOCH + Duration::from_millis(u64::try_from(now).unwrap_or(0));
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// What becomes of a delivery after its try number `n_attempts` (1 for the first) failed or
/// succeeded, at `now`: delivered, retried after the `schedule`'s delay or the endpoint's
/// `retry_after` (capped at [`MAX_RETRY_AFTER`]) whichever is later, or given up after the
/// schedule's most attempts.
pub fn next_after(
    succeeded: bool,
    n_attempts: u32,
    retry_after: Option<Duration>,
    now: i64,
    jitter: f64,
    schedule: &RetrySchedule,
) -> DeliveryNext {
    if succeeded {
        return DeliveryNext::Delivered { at: now };
    }
    if n_attempts >= schedule.max_attempts {
        return DeliveryNext::GiveUp;
    }
    let delay = schedule
        .delay(n_attempts, jitter)
        .max(retry_after.unwrap_or_default().min(MAX_RETRY_AFTER));
    DeliveryNext::RetryAt(now.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)))
}

/// An endpoint's rate limit: requests spaced at least `1 / per_second` apart. Pure: the
/// caller passes the time (microseconds on any monotonic clock) and waits what it is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateGate {
    interval_us: i64,
    next_free_us: i64,
}

impl RateGate {
    pub fn new(per_second: u32) -> Self {
        Self {
            interval_us: 1_000_000 / i64::from(per_second.max(1)),
            next_free_us: i64::MIN,
        }
    }

    /// Takes the next free slot at or after `now_us`; how long to wait for it.
    pub fn reserve(&mut self, now_us: i64) -> Duration {
        let at = self.next_free_us.max(now_us);
        self.next_free_us = at.saturating_add(self.interval_us);
        Duration::from_micros(u64::try_from(at - now_us).unwrap_or(0))
    }
}

/// Microseconds on the process's monotonic clock, for [`RateGate`].
fn monotonic_us() -> i64 {
    static START: LazyLock<Instant> = LazyLock::new(Instant::now);
    i64::try_from(START.elapsed().as_micros()).unwrap_or(i64::MAX)
}

/// An endpoint as a worker holds it: what to send with, and its rate gate.
#[derive(Debug)]
pub struct Runtime {
    pub sendable: Sendable,
    gate: Option<Mutex<RateGate>>,
}

impl Runtime {
    /// Deliveries one request carries.
    fn max_events(&self) -> usize {
        self.sendable
            .compiled
            .as_ref()
            .map_or(1, CompiledEndpoint::max_events)
    }

    fn strict(&self) -> bool {
        self.sendable.record.strict_order
    }
}

/// Sends due deliveries, one request per [`DeliveryWorker::try_next`], or many at once in the
/// background ([`spawn_background`]).
#[derive(Debug, Clone)]
pub struct DeliveryWorker {
    store: Store,
    /// One client for every send, so connections to a host are kept alive and reused.
    client: reqwest::Client,
    destinations: Destinations,
    limits: DeliveryLimits,
    metrics: Arc<Metrics>,
    master_key: Arc<MasterKey>,
    /// `HOOKLINE_ALLOW_HTTP_WEBHOOKS`: workspace endpoints may use `http://`.
    allow_http: bool,
    /// Requests go through the operator's proxy (`HOOKLINE_WEBHOOK_PROXY`).
    proxied: bool,
    /// Endpoints by row id, as of the version last claimed.
    endpoints: Arc<Mutex<HashMap<i64, Arc<Runtime>>>>,
}

/// A try that has been made, waiting to be recorded.
#[derive(Debug)]
struct Finished {
    delivery: ClaimedDelivery,
    outcome: AttemptOutcome,
    next: DeliveryNext,
    disable_endpoint: Option<DisabledReason>,
    /// Its endpoint keeps strict order: the dispatcher is woken once it is recorded.
    strict: bool,
}

impl Finished {
    fn step(&self) -> Step {
        match self.next {
            DeliveryNext::Delivered { .. } => Step::Delivered,
            _ => Step::Failed,
        }
    }
}

/// What one HTTP request brought back.
#[derive(Debug, Clone)]
pub struct Sent {
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    /// Why no response came back, when none did.
    pub error_kind: Option<&'static str>,
    /// The response's first bytes, or what went wrong.
    pub snippet: String,
    pub retry_after: Option<Duration>,
}

impl Sent {
    fn succeeded(&self) -> bool {
        self.status_code
            .is_some_and(|status| (200..300).contains(&status))
    }
}

/// The worker could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("failed to build the webhook HTTP client: {0}")]
pub struct ClientError(#[from] reqwest::Error);

/// The `webhook-id` of a request carrying `deliveries`: the delivery's own for one; for a
/// batch, one derived from all of theirs, so the same batch tried again has the same id.
fn request_webhook_id(deliveries: &[ClaimedDelivery]) -> MessageId {
    match deliveries {
        [one] => one.webhook_id.clone(),
        many => {
            let mut hash = Sha256::new();
            for delivery in many {
                hash.update(delivery.webhook_id.as_str().as_bytes());
                hash.update(b"\n");
            }
            let digest = hash.finalize();
            let hex: String = digest[..12]
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect();
            MessageId::from_suffix(&format!("batch_{hex}"))
        }
    }
}

impl DeliveryWorker {
    /// A worker whose client connects only where `destinations` allows: names are resolved
    /// by it (so the checked address is the one connected to), redirects are not followed
    /// (a 3xx is a failure), and every try is bounded by `timeouts`. No proxy is used but
    /// the operator's (`egress`): through one, the proxy connects, so each destination is
    /// resolved and checked before the request is handed to it. Connections leave from
    /// `egress`'s source address, if set. Each try is counted in `metrics`. Connector
    /// credentials are decrypted with `master_key`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Store,
        destinations: Destinations,
        timeouts: DeliveryTimeouts,
        limits: DeliveryLimits,
        metrics: Arc<Metrics>,
        master_key: Arc<MasterKey>,
        allow_http: bool,
        egress: &Egress,
    ) -> Result<Self, ClientError> {
        // Errs only when a provider is already installed (another worker, a test): that is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut client = reqwest::Client::builder()
            .user_agent(outbound::USER_AGENT)
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(usize::try_from(limits.concurrency).unwrap_or(usize::MAX))
            .local_address(egress.source_address);
        client = match &egress.proxy {
            // The only name this client resolves is the proxy's, which the operator chose.
            Some(proxy) => client.proxy(reqwest::Proxy::all(proxy.as_str())?),
            None => client.dns_resolver(destinations.clone()).no_proxy(),
        };
        let client = client.build()?;
        Ok(Self {
            proxied: egress.proxy.is_some(),
            store,
            client,
            destinations,
            limits,
            metrics,
            master_key,
            allow_http,
            endpoints: Arc::default(),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn destinations(&self) -> &Destinations {
        &self.destinations
    }

    pub fn master_key(&self) -> &MasterKey {
        &self.master_key
    }

    /// How long a claim lasts (`HOOKLINE_DELIVERY_LEASE`), in milliseconds.
    fn lease_ms(&self) -> i64 {
        i64::try_from(self.limits.lease.as_millis()).unwrap_or(i64::MAX)
    }

    /// Whether workspace endpoints may use `http://`.
    pub fn allow_http(&self) -> bool {
        self.allow_http
    }

    /// Endpoint `endpoint_id` as of `version` (read again when it changed).
    async fn runtime(&self, endpoint_id: i64, version: i64) -> Result<Arc<Runtime>, StoreError> {
        if let Some(runtime) = self
            .endpoints
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&endpoint_id)
            && runtime.sendable.record.version == version
        {
            return Ok(Arc::clone(runtime));
        }
        let record = self
            .store
            .endpoint(endpoint_id)
            .await?
            .ok_or(StoreError::Corrupt {
                column: "deliveries.endpoint_id",
                value: endpoint_id.to_string(),
            })?;
        let sendable = self.sendable(record).await?;
        let runtime = Arc::new(Runtime {
            gate: sendable
                .record
                .rate_limit_per_second
                .map(|rate| Mutex::new(RateGate::new(rate))),
            sendable,
        });
        self.endpoints
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(endpoint_id, Arc::clone(&runtime));
        Ok(runtime)
    }

    /// `record` ready to send to, with this worker's key and policy.
    pub async fn sendable(
        &self,
        record: crate::store::EndpointRecord,
    ) -> Result<Sendable, StoreError> {
        Sendable::load(&self.store, &self.master_key, record, self.allow_http).await
    }

    /// Claims the deliveries due longest at `now` (unix ms) for one endpoint (one, or a
    /// batch's worth), sends them as one request and records the attempt. Held deliveries
    /// due first become pending (or are cancelled) by their entry's verdict.
    pub async fn try_next(&self, now: i64) -> Result<Step, StoreError> {
        self.release_held(now).await?;
        let claimed = self
            .store
            .claim_due_deliveries(&Claim {
                now,
                lease_until: now + self.lease_ms(),
                limit: MAX_CLAIM,
                per_endpoint: 1,
                rounds: 1,
                in_flight: &[],
            })
            .await?;
        let Some(first) = claimed.first() else {
            return Ok(Step::Idle);
        };
        let runtime = self
            .runtime(first.endpoint_id, first.endpoint_version)
            .await?;
        let endpoint_id = first.endpoint_id;
        let (mut mine, mut others): (Vec<_>, Vec<_>) = claimed
            .into_iter()
            .partition(|delivery| delivery.endpoint_id == endpoint_id);
        in_sending_order(&runtime, &mut mine);
        others.extend(mine.split_off(runtime.max_events().min(mine.len())));
        self.store.release_leases(&others).await?;
        let finished = self.attempt(&runtime, mine, now).await;
        let step = finished.first().map_or(Step::Idle, Finished::step);
        self.record(&finished, now).await?;
        Ok(step)
    }

    async fn release_held(&self, now: i64) -> Result<(), StoreError> {
        let settled = self.store.release_held_deliveries(now).await?;
        if settled.cancelled + settled.dropped > 0 {
            info!(
                cancelled = settled.cancelled,
                dropped = settled.dropped,
                released = settled.released,
                "held deliveries settled by the fraud verdict"
            );
        }
        Ok(())
    }

    /// Sends claimed `deliveries` of one endpoint as one request at `now` and decides what
    /// follows for each; logs the attempt.
    async fn attempt(
        &self,
        runtime: &Runtime,
        deliveries: Vec<ClaimedDelivery>,
        now: i64,
    ) -> Vec<Finished> {
        let (sent, request) = self.send_deliveries(runtime, &deliveries, now).await;
        let succeeded = sent.succeeded();
        let status = sent
            .status_code
            .map_or_else(|| "none".to_owned(), |code| code.to_string());
        let url = &runtime.sendable.record.public_id;
        let batch_size = u32::try_from(deliveries.len()).unwrap_or(u32::MAX);
        if succeeded {
            info!(webhook_id = %deliveries[0].webhook_id, endpoint = %url, status = %status, latency_ms = sent.latency_ms, batch_size, "webhook delivered");
        } else {
            warn!(
                webhook_id = %deliveries[0].webhook_id, endpoint = %url, status = %status,
                error_kind = sent.error_kind.unwrap_or(""), latency_ms = sent.latency_ms,
                attempt = deliveries[0].n_attempts + 1, retry_after_s = sent.retry_after.map(|delay| delay.as_secs()),
                batch_size, "webhook delivery failed"
            );
        }
        let counted = match (succeeded, sent.status_code) {
            (true, _) => TryOutcome::Delivered,
            (false, Some(status)) => TryOutcome::Failed(status),
            (false, None) => TryOutcome::Error(sent.error_kind.unwrap_or("request")),
        };
        let latency = Duration::from_millis(u64::try_from(sent.latency_ms).unwrap_or(0));
        self.metrics.delivery_attempted(counted, latency);
        let disable_endpoint = (sent.status_code == Some(410)).then_some(DisabledReason::Gone);
        let leader = (deliveries.len() > 1).then(|| deliveries[0].id);
        let jitter = rand::random_range(-1.0..=1.0);
        deliveries
            .into_iter()
            .enumerate()
            .map(|(index, delivery)| {
                let next = next_after(
                    succeeded,
                    delivery.n_attempts + 1,
                    sent.retry_after,
                    now + if succeeded { sent.latency_ms } else { 0 },
                    jitter,
                    &runtime.sendable.schedule,
                );
                if next == DeliveryNext::GiveUp {
                    self.metrics.delivery_given_up();
                }
                Finished {
                    outcome: AttemptOutcome {
                        started_at: now,
                        status_code: sent.status_code,
                        latency_ms: sent.latency_ms,
                        error_kind: sent.error_kind,
                        response_snippet: sent.snippet.clone(),
                        request: if index == 0 { request.clone() } else { None },
                        batch_size,
                        batch_delivery_id: leader.filter(|_| index > 0),
                    },
                    delivery,
                    next,
                    disable_endpoint,
                    strict: runtime.strict(),
                }
            })
            .collect()
    }

    /// Builds and sends the request for `deliveries`; what came back, and the request as
    /// recorded (JSON), if one was built.
    async fn send_deliveries(
        &self,
        runtime: &Runtime,
        deliveries: &[ClaimedDelivery],
        now: i64,
    ) -> (Sent, Option<String>) {
        let failed = |kind: &'static str, detail: String| Sent {
            status_code: None,
            latency_ms: 0,
            error_kind: Some(kind),
            snippet: detail,
            retry_after: None,
        };
        let sendable = &runtime.sendable;
        let compiled = match &sendable.compiled {
            Ok(compiled) => compiled,
            Err(problem) => return (failed("invalid_settings", problem.clone()), None),
        };
        let secrets = match sendable.signing_secrets(now) {
            Ok(secrets) => secrets,
            Err(problem) => return (failed("invalid_secret", problem), None),
        };
        let mut events = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            let Some(event_type) = EventType::parse(&delivery.event_type) else {
                return (
                    failed(
                        "request",
                        format!("unknown event type {}", delivery.event_type),
                    ),
                    None,
                );
            };
            events.push(OutboundEvent {
                event_type,
                body: &delivery.body,
            });
        }
        let request = match compiled.build(
            &request_webhook_id(deliveries),
            &events,
            &secrets,
            now.div_euclid(1000),
        ) {
            Ok(request) => request,
            Err(error) => return (failed("build", error.to_string()), None),
        };
        let recorded = recorded_request(&request, deliveries);
        let sent = self.send_request(&request, sendable.https_only, now).await;
        (sent, recorded)
    }

    /// Sends one built request where the address rules allow. Never fails: what happened is
    /// in the answer.
    pub async fn send_request(
        &self,
        request: &OutboundRequest,
        https_only: bool,
        now: i64,
    ) -> Sent {
        let started = Instant::now();
        let failed = |error_kind: &'static str, snippet: String| Sent {
            status_code: None,
            latency_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            error_kind: Some(error_kind),
            snippet,
            retry_after: None,
        };
        let url = match reqwest::Url::parse(&request.url) {
            Ok(url) => url,
            Err(error) => return failed("request", format!("invalid URL: {error}")),
        };
        if https_only && url.scheme() != "https" {
            return failed(
                INSECURE_URL,
                "the operator does not allow http:// webhooks (HOOKLINE_ALLOW_HTTP_WEBHOOKS)"
                    .into(),
            );
        }
        // A host written as an IP address is connected to without the resolver: check it here.
        // Through a proxy, the proxy resolves names: resolve and check them here first.
        let checked = match self.destinations.check_literal(&url) {
            Ok(Some(host)) if self.proxied => self.destinations.resolve(host).await.map(|_| ()),
            Ok(_) => Ok(()),
            Err(error) => Err(error),
        };
        if let Err(error) = checked {
            let kind = if error.blocked().is_some() {
                BLOCKED_ADDRESS
            } else if self.proxied {
                "connect"
            } else {
                "request"
            };
            return failed(kind, error.to_string());
        }
        let method = match request.method {
            outbound::Method::Post => reqwest::Method::POST,
            outbound::Method::Put => reqwest::Method::PUT,
            outbound::Method::Patch => reqwest::Method::PATCH,
            outbound::Method::Get => reqwest::Method::GET,
        };
        let mut builder = self.client.request(method, url);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if request.method != outbound::Method::Get {
            builder = builder.body(request.body.clone());
        }
        let mut response = match builder.send().await {
            Ok(response) => response,
            Err(error) => {
                if let Some(refused) = destination_error(&error) {
                    let kind = if refused.blocked().is_some() {
                        BLOCKED_ADDRESS
                    } else {
                        "connect"
                    };
                    return failed(kind, refused.to_string());
                }
                let kind = if error.is_timeout() {
                    "timeout"
                } else if error.is_connect() {
                    "connect"
                } else {
                    "request"
                };
                return failed(kind, error_chain(&error));
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, now));
        let mut body = Vec::new();
        while body.len() < MAX_RESPONSE_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => body
                    .extend_from_slice(&chunk[..chunk.len().min(MAX_RESPONSE_BYTES - body.len())]),
                Ok(None) => break,
                // The status already decides the outcome; a broken body only shortens the snippet.
                Err(_) => break,
            }
        }
        Sent {
            status_code: Some(status),
            latency_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            error_kind: None,
            snippet: String::from_utf8_lossy(&body).into_owned(),
            retry_after,
        }
    }

    /// A test request to `endpoint`: `event` with `body` (the sample payload, or a real
    /// entry's), under a fresh `webhook-id`, signed with the endpoint's secrets at `now`.
    /// Nothing is recorded.
    pub async fn send_test(
        &self,
        endpoint: &Sendable,
        compiled: &CompiledEndpoint,
        event: EventType,
        body: &str,
        now: i64,
    ) -> TestOutcome {
        let failed = |kind: &str, error: String| TestOutcome {
            succeeded: false,
            status_code: None,
            latency_ms: 0,
            response_snippet: String::new(),
            error_kind: Some(kind.to_owned()),
            error: Some(error),
            request: None,
        };
        let secrets = match endpoint.signing_secrets(now) {
            Ok(secrets) => secrets,
            Err(error) => return failed("invalid_secret", error),
        };
        let webhook_id = MessageId::from_suffix(&format!(
            "test_{}",
            Alphanumeric.sample_string(&mut rand::rng(), 20)
        ));
        let request = match compiled.build(
            &webhook_id,
            &[OutboundEvent {
                event_type: event,
                body,
            }],
            &secrets,
            now.div_euclid(1000),
        ) {
            Ok(request) => request,
            Err(error) => return failed("build", error.to_string()),
        };
        let sent = self.send_request(&request, endpoint.https_only, now).await;
        TestOutcome {
            succeeded: sent.succeeded(),
            status_code: sent.status_code,
            latency_ms: u64::try_from(sent.latency_ms).unwrap_or(0),
            response_snippet: if sent.status_code.is_some() {
                sent.snippet.clone()
            } else {
                String::new()
            },
            error_kind: sent.error_kind.map(str::to_owned),
            error: sent.status_code.is_none().then_some(sent.snippet),
            request: Some(request_record(&request)),
        }
    }

    /// Records finished tries in one transaction and logs what came of them.
    async fn record(&self, finished: &[Finished], now: i64) -> Result<(), StoreError> {
        let attempts: Vec<FinishedAttempt<'_>> = finished
            .iter()
            .map(|finished| FinishedAttempt {
                delivery: &finished.delivery,
                outcome: &finished.outcome,
                next: finished.next,
                disable_endpoint: finished.disable_endpoint,
            })
            .collect();
        let rule = DisableRule {
            after_failures: self.limits.disable_after_failures,
            after_ms: i64::try_from(self.limits.disable_after.as_millis()).unwrap_or(i64::MAX),
        };
        let recorded = self.store.record_attempts(&attempts, rule, now).await?;
        for delivery_id in recorded.lease_lost {
            warn!(
                delivery_id,
                "the delivery's lease ran out while sending; another worker owns it now"
            );
        }
        for endpoint in recorded.disabled {
            self.metrics.endpoint_disabled(endpoint.reason.as_str());
            error!(
                endpoint = %endpoint.public_id, url = %endpoint.url, reason = endpoint.reason.as_str(),
                consecutive_failures = endpoint.n_consecutive_failures, failing_since = endpoint.failing_since,
                "webhook endpoint disabled; its pending deliveries wait until it is enabled again"
            );
        }
        Ok(())
    }

    /// When the next pending delivery falls due, if any is pending.
    pub async fn next_due_at(&self) -> Result<Option<i64>, StoreError> {
        self.store.next_due_at().await
    }
}

/// The request as an attempt records it (JSON of a [`protocol::admin::webhooks::RequestRecord`]).
/// A body that is the delivery's own frozen body (a single JSON or text delivery, the usual
/// case) is not stored twice: it is left empty and marked [`SAME_BODY`], and the history
/// fills it in from the delivery.
fn recorded_request(request: &OutboundRequest, deliveries: &[ClaimedDelivery]) -> Option<String> {
    let mut record = request_record(request);
    let same = matches!(deliveries, [one] if one.body == request.body);
    if same {
        record.body.clear();
    }
    let mut value = serde_json::to_value(&record).ok()?;
    if same && let Some(object) = value.as_object_mut() {
        object.insert(SAME_BODY.to_owned(), serde_json::Value::Bool(true));
    }
    Some(value.to_string())
}

/// The key of a recorded request whose body is its delivery's.
pub const SAME_BODY: &str = "body_is_delivery_body";

/// Deliveries of one endpoint in the order they go: by id under strict ordering (the order
/// they were made), else by due time.
fn in_sending_order(runtime: &Runtime, deliveries: &mut [ClaimedDelivery]) {
    if runtime.strict() {
        deliveries.sort_by_key(|delivery| delivery.id);
    } else {
        deliveries.sort_by_key(|delivery| (delivery.due_at, delivery.id));
    }
}

/// `error_kind` of an attempt refused by the destination rules: nothing was sent. It is
/// retried like any failure, since what a name resolves to, and the operator's allow-list,
/// can change before the next try.
pub const BLOCKED_ADDRESS: &str = "blocked_address";
/// `error_kind` of an attempt to a workspace endpoint's `http://` URL while the operator
/// does not allow them: nothing was sent.
pub const INSECURE_URL: &str = "insecure_url";

/// The resolver's verdict somewhere among the causes of a failed send, if it gave one.
fn destination_error<'e>(
    error: &'e (dyn std::error::Error + 'static),
) -> Option<&'e DestinationError> {
    let mut source = Some(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<DestinationError>() {
            return Some(refused);
        }
        source = cause.source();
    }
    None
}

/// The error and its causes, on one line, for the attempt record.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Starts the background delivery: a dispatcher and a recorder.
///
/// The dispatcher sends deliveries as they are handed off (written already leased to it in
/// the transaction that made them, see [`Store::hand_off_deliveries`]: the entry's own commit
/// is the only one before its webhooks go), and claims the rest in batches: retries falling
/// due, held deliveries released, strictly ordered endpoints, backlogs, and what other
/// processes left. It sends concurrently, at most `concurrency` requests at once and each
/// endpoint's own cap. The recorder writes outcomes a batch per transaction, after the sends.
///
/// With nothing to do the dispatcher sleeps until something is handed off, `wake` is
/// notified, or the next delivery falls due. Once `shutdown` turns true it takes nothing
/// more, gives back what was handed off but not started, lets the sends under way finish,
/// and the recorder writes them before both end.
pub fn spawn_background(
    worker: DeliveryWorker,
    wake: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let (finished_sender, finished) = mpsc::channel(MAX_RECORD_BATCH * 4);
    let handed_off = worker.store.hand_off_deliveries(worker.limits.lease);
    vec![
        tokio::spawn(dispatch(
            worker.clone(),
            Arc::clone(&wake),
            shutdown,
            handed_off,
            finished_sender,
        )),
        tokio::spawn(record_loop(worker, finished, wake)),
    ]
}

/// What the dispatcher holds for one endpoint.
#[derive(Debug)]
struct EndpointLoad {
    /// Deliveries claimed or handed off and not yet recorded (sending, or waiting for the
    /// endpoint's turn).
    n: u32,
    /// The most it holds for this endpoint ([`endpoint_cap`]).
    cap: u32,
    /// The endpoint's requests in flight at once.
    turns: Arc<Semaphore>,
}

/// The dispatcher's view of what it holds: claimed or handed off, not yet handed to the
/// recorder.
#[derive(Debug)]
struct Outstanding {
    by_endpoint: HashMap<i64, EndpointLoad>,
    total: u32,
    /// The most it holds over all endpoints.
    max_total: u32,
    /// What each send task carries: its endpoint and number of deliveries.
    tasks: HashMap<tokio::task::Id, (i64, u32)>,
    /// Told which endpoints (or all) it has no room for, so they are not handed off.
    busy: Arc<BusyEndpoints>,
}

impl Outstanding {
    fn room(&self) -> u32 {
        self.max_total.saturating_sub(self.total)
    }

    /// Whether some endpoint holds all it may: a claim may have left its backlog behind.
    fn any_endpoint_full(&self) -> bool {
        self.by_endpoint.values().any(|load| load.n >= load.cap)
    }

    /// Counts `n` more deliveries for `endpoint_id`.
    fn add(&mut self, endpoint_id: i64, n: u32, cap: u32, concurrency: u32) -> Arc<Semaphore> {
        let load = self
            .by_endpoint
            .entry(endpoint_id)
            .or_insert_with(|| EndpointLoad {
                n: 0,
                cap,
                turns: Arc::new(Semaphore::new(
                    usize::try_from(concurrency).unwrap_or(usize::MAX),
                )),
            });
        load.cap = cap;
        load.n += n;
        self.total += n;
        if load.n >= load.cap {
            self.busy.set(endpoint_id, true);
        }
        if self.total >= self.max_total {
            self.busy.set_all(true);
        }
        Arc::clone(&load.turns)
    }

    /// Counts `n` deliveries of `endpoint_id` as handed to the recorder (or lost with their
    /// task: their leases run out).
    fn remove(&mut self, endpoint_id: i64, n: u32) {
        if self.total >= self.max_total && self.total.saturating_sub(n) < self.max_total {
            self.busy.set_all(false);
        }
        self.total = self.total.saturating_sub(n);
        if let Some(load) = self.by_endpoint.get_mut(&endpoint_id) {
            let was_full = load.n >= load.cap;
            load.n = load.n.saturating_sub(n);
            if was_full && load.n < load.cap {
                self.busy.set(endpoint_id, false);
            }
            if load.n == 0 {
                self.by_endpoint.remove(&endpoint_id);
            }
        }
    }
}

/// How many deliveries the dispatcher holds for an endpoint at most, claimed or handed off:
/// one request's worth under strict ordering; else its concurrency × the rounds claimed
/// ahead × the deliveries a request carries, and no more than ten seconds of its rate limit.
/// The claim's SQL (`endpoint_cap!` in the store) computes the same.
fn endpoint_cap(runtime: &Runtime, per_endpoint: u32) -> u32 {
    let record = &runtime.sendable.record;
    let batch = record.batch_max.max(1);
    if record.strict_order {
        return batch;
    }
    let rounds = record
        .max_concurrency
        .unwrap_or(per_endpoint)
        .saturating_mul(ROUNDS_CLAIMED);
    match record.rate_limit_per_second {
        Some(rate) if rate.saturating_mul(10) < rounds => rate.saturating_mul(10),
        _ => rounds,
    }
    .saturating_mul(batch)
}

async fn dispatch(
    worker: DeliveryWorker,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
    mut handed_off: HandedOff,
    finished: mpsc::Sender<Finished>,
) {
    let limits = worker.limits;
    // Claim again once half of an endpoint's claimed rounds are done (or on news).
    let claim_after = limits
        .concurrency_per_endpoint
        .saturating_mul(ROUNDS_CLAIMED)
        / 2;
    let senders = Arc::new(Semaphore::new(
        usize::try_from(limits.concurrency).unwrap_or(usize::MAX),
    ));
    let mut outstanding = Outstanding {
        by_endpoint: HashMap::new(),
        total: 0,
        max_total: limits.concurrency.saturating_mul(ROUNDS_CLAIMED),
        tasks: HashMap::new(),
        busy: handed_off.busy(),
    };
    let mut sending: JoinSet<(i64, u32)> = JoinSet::new();
    // Sends finished since the last claim; a claim for each one would commit once per send.
    let mut finished_since_claim = 0;
    // Look at the queue now: there may be work from before (a restart, another process).
    let mut look = true;
    // The last look found work, or left some endpoint full: more may wait behind it.
    let mut backlog = false;
    let mut next_look = Instant::now();
    let mut handing_off = true;
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Registered before looking at the queue, so news committed meanwhile still wakes us.
        let woken = wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        if backlog && (outstanding.total == 0 || finished_since_claim >= claim_after) {
            look = true;
        }
        let room = outstanding.room().min(MAX_CLAIM);
        if look && room > 0 {
            look = false;
            finished_since_claim = 0;
            let wait = match claim(&worker, &outstanding, clock::now_millis(), room).await {
                Ok(batch) => {
                    let found = !batch.is_empty();
                    match start_sends(
                        &worker,
                        batch,
                        &mut outstanding,
                        &mut sending,
                        &senders,
                        &finished,
                    )
                    .await
                    {
                        Err(error) => {
                            // The leases run out and these deliveries are claimed again.
                            error!(%error, "delivery worker could not read an endpoint");
                            ERROR_BACKOFF
                        }
                        Ok(()) => {
                            backlog = found || outstanding.any_endpoint_full();
                            if outstanding.total == 0 {
                                idle_wait(&worker).await
                            } else {
                                MAX_BUSY_WAIT
                            }
                        }
                    }
                }
                Err(error) => {
                    error!(%error, "delivery worker could not read the queue");
                    ERROR_BACKOFF
                }
            };
            next_look = Instant::now() + wait;
        }
        tokio::select! {
            () = &mut woken => look = true,
            // While a look waits for room, finished sends make it.
            () = tokio::time::sleep_until(next_look.into()), if !look => look = true,
            handed = handed_off.recv(), if handing_off => match handed {
                Some(deliveries) => {
                    // What it gave back waits in the queue: claim it as room comes.
                    if take_handed_off(&worker, deliveries, &mut outstanding, &mut sending, &senders, &finished).await {
                        look = true;
                        backlog = true;
                    }
                }
                // Another dispatcher took the hand-off over; this one goes on claiming.
                None => handing_off = false,
            },
            Some(done) = sending.join_next_with_id(), if !sending.is_empty() => {
                let mut done = Some(done);
                while let Some(result) = done {
                    settle(&mut outstanding, result);
                    finished_since_claim += 1;
                    done = sending.try_join_next_with_id();
                }
            }
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    let left = handed_off.close();
    if let Err(error) = worker.store.release_leases(&left).await {
        // They are claimed again when their leases run out.
        error!(%error, n = left.len(), "could not give back deliveries handed off at shutdown");
    }
    while let Some(result) = sending.join_next_with_id().await {
        settle(&mut outstanding, result);
    }
}

/// Starts the sends of deliveries handed off, as far as their endpoints' caps and the
/// dispatcher's allow; the rest go back to the queue (their leases released) for a claim.
/// Whether it gave any back.
async fn take_handed_off(
    worker: &DeliveryWorker,
    deliveries: Vec<ClaimedDelivery>,
    outstanding: &mut Outstanding,
    sending: &mut JoinSet<(i64, u32)>,
    senders: &Arc<Semaphore>,
    finished: &mpsc::Sender<Finished>,
) -> bool {
    let mut room: HashMap<i64, u32> = HashMap::new();
    let mut total_room = outstanding.room();
    let (mut taken, mut given_back) = (Vec::new(), Vec::new());
    for delivery in deliveries {
        let endpoint_room = match room.entry(delivery.endpoint_id) {
            MapEntry::Occupied(known) => known.into_mut(),
            MapEntry::Vacant(slot) => {
                let cap = match worker
                    .runtime(delivery.endpoint_id, delivery.endpoint_version)
                    .await
                {
                    Ok(runtime) => endpoint_cap(&runtime, worker.limits.concurrency_per_endpoint),
                    Err(error) => {
                        error!(%error, "delivery worker could not read an endpoint");
                        0
                    }
                };
                let held = outstanding
                    .by_endpoint
                    .get(&delivery.endpoint_id)
                    .map_or(0, |load| load.n);
                slot.insert(cap.saturating_sub(held))
            }
        };
        if *endpoint_room > 0 && total_room > 0 {
            *endpoint_room -= 1;
            total_room -= 1;
            taken.push(delivery);
        } else {
            given_back.push(delivery);
        }
    }
    if let Err(error) = start_sends(worker, taken, outstanding, sending, senders, finished).await {
        // The leases run out and these deliveries are claimed again.
        error!(%error, "delivery worker could not read an endpoint");
    }
    if let Err(error) = worker.store.release_leases(&given_back).await {
        // As above: claimed again when their leases run out.
        error!(%error, n = given_back.len(), "could not give back deliveries handed off");
    }
    !given_back.is_empty()
}

/// Groups deliveries by endpoint into requests (batches of its size, in its sending order)
/// and starts a send task for each.
async fn start_sends(
    worker: &DeliveryWorker,
    batch: Vec<ClaimedDelivery>,
    outstanding: &mut Outstanding,
    sending: &mut JoinSet<(i64, u32)>,
    senders: &Arc<Semaphore>,
    finished: &mpsc::Sender<Finished>,
) -> Result<(), StoreError> {
    let mut by_endpoint: Vec<(i64, Vec<ClaimedDelivery>)> = Vec::new();
    for delivery in batch {
        match by_endpoint
            .iter_mut()
            .find(|(endpoint_id, _)| *endpoint_id == delivery.endpoint_id)
        {
            Some((_, group)) => group.push(delivery),
            None => by_endpoint.push((delivery.endpoint_id, vec![delivery])),
        }
    }
    for (endpoint_id, mut group) in by_endpoint {
        let version = group.iter().map(|delivery| delivery.endpoint_version).max();
        let runtime = worker
            .runtime(endpoint_id, version.unwrap_or_default())
            .await?;
        in_sending_order(&runtime, &mut group);
        let concurrency = if runtime.strict() {
            1
        } else {
            runtime
                .sendable
                .record
                .max_concurrency
                .unwrap_or(worker.limits.concurrency_per_endpoint)
        };
        let cap = endpoint_cap(&runtime, worker.limits.concurrency_per_endpoint);
        let max_events = runtime.max_events().max(1);
        while !group.is_empty() {
            let rest = group.split_off(max_events.min(group.len()));
            let chunk = std::mem::replace(&mut group, rest);
            let n = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
            let turns = outstanding.add(endpoint_id, n, cap, concurrency);
            let task = sending.spawn(send_in_turn(
                worker.clone(),
                Arc::clone(&runtime),
                chunk,
                turns,
                Arc::clone(senders),
                finished.clone(),
            ));
            outstanding.tasks.insert(task.id(), (endpoint_id, n));
        }
    }
    Ok(())
}

/// Claims what may be claimed at `now` given what is outstanding.
async fn claim(
    worker: &DeliveryWorker,
    outstanding: &Outstanding,
    now: i64,
    limit: u32,
) -> Result<Vec<ClaimedDelivery>, StoreError> {
    worker.release_held(now).await?;
    let in_flight: Vec<(i64, u32)> = outstanding
        .by_endpoint
        .iter()
        .map(|(&endpoint_id, load)| (endpoint_id, load.n))
        .collect();
    worker
        .store
        .claim_due_deliveries(&Claim {
            now,
            lease_until: now + worker.lease_ms(),
            limit,
            per_endpoint: worker.limits.concurrency_per_endpoint,
            rounds: ROUNDS_CLAIMED,
            in_flight: &in_flight,
        })
        .await
}

/// How long to sleep with nothing claimed: until the next delivery falls due, at most
/// [`MAX_IDLE_WAIT`].
async fn idle_wait(worker: &DeliveryWorker) -> Duration {
    match worker.next_due_at().await {
        Ok(Some(due)) => {
            Duration::from_millis(u64::try_from(due - clock::now_millis()).unwrap_or(0))
                .clamp(MIN_IDLE_WAIT, MAX_IDLE_WAIT)
        }
        Ok(None) => MAX_IDLE_WAIT,
        Err(error) => {
            error!(%error, "delivery worker could not read the queue");
            ERROR_BACKOFF
        }
    }
}

/// Counts a send task's deliveries as handed over (or lost with its task, whose leases then
/// run out).
fn settle(
    outstanding: &mut Outstanding,
    result: Result<(tokio::task::Id, (i64, u32)), tokio::task::JoinError>,
) {
    let (task, carried) = match result {
        Ok((task, carried)) => (task, Some(carried)),
        Err(error) => {
            // The leases run out and the deliveries are claimed again.
            error!(%error, "a webhook send task ended abnormally");
            (error.id(), None)
        }
    };
    if let Some((endpoint_id, n)) = outstanding.tasks.remove(&task).or(carried) {
        outstanding.remove(endpoint_id, n);
    }
}

/// Waits for the endpoint's turn, its rate limit and a free sender, sends, and hands the
/// outcomes to the recorder. Returns the endpoint's id and how many deliveries it carried.
async fn send_in_turn(
    worker: DeliveryWorker,
    runtime: Arc<Runtime>,
    deliveries: Vec<ClaimedDelivery>,
    endpoint_turn: Arc<Semaphore>,
    senders: Arc<Semaphore>,
    recorder: mpsc::Sender<Finished>,
) -> (i64, u32) {
    let endpoint_id = deliveries
        .first()
        .map_or(0, |delivery| delivery.endpoint_id);
    let n = u32::try_from(deliveries.len()).unwrap_or(u32::MAX);
    // The semaphores are never closed, so acquiring fails only if that changes; send anyway.
    let _turn = endpoint_turn.acquire_owned().await.ok();
    if let Some(gate) = &runtime.gate {
        let wait = gate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reserve(monotonic_us());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
    let _sender = senders.acquire_owned().await.ok();
    for finished in worker
        .attempt(&runtime, deliveries, clock::now_millis())
        .await
    {
        if recorder.send(finished).await.is_err() {
            // Only after the recorder has stopped; the lease runs out and the delivery is retried.
            warn!("the delivery recorder has stopped; an attempt was not recorded");
        }
    }
    (endpoint_id, n)
}

/// Writes finished tries, those of each [`RECORD_WINDOW`] in one transaction. Wakes the
/// dispatcher after recording a strictly ordered endpoint's delivery (the next one of its
/// queue may go now) or a retry (it may fall due before the dispatcher would look again).
async fn record_loop(
    worker: DeliveryWorker,
    mut finished: mpsc::Receiver<Finished>,
    wake: Arc<Notify>,
) {
    let mut batch = Vec::with_capacity(MAX_RECORD_BATCH);
    while finished.recv_many(&mut batch, MAX_RECORD_BATCH).await > 0 {
        let window_ends = tokio::time::Instant::now() + RECORD_WINDOW;
        while batch.len() < MAX_RECORD_BATCH && !batch.iter().any(|finished| finished.strict) {
            let room = MAX_RECORD_BATCH - batch.len();
            let more = finished.recv_many(&mut batch, room);
            match tokio::time::timeout_at(window_ends, more).await {
                // Closed: the dispatcher has stopped, and this is the last batch.
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        if let Err(error) = worker.record(&batch, clock::now_millis()).await {
            // At least once: the leases run out and these deliveries are sent again.
            error!(%error, n_attempts = batch.len(), "failed to record webhook attempts");
        } else if batch
            .iter()
            .any(|finished| finished.strict || matches!(finished.next, DeliveryNext::RetryAt(_)))
        {
            wake.notify_waiters();
        }
        batch.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(n_failed_attempts: u32, jitter: f64, expected_seconds: f64) {
        let delay = retry_delay(n_failed_attempts, jitter);
        assert!(
            (delay.as_secs_f64() - expected_seconds).abs() < 1e-6,
            "retry_delay({n_failed_attempts}, {jitter}) = {delay:?}, expected {expected_seconds}s"
        );
    }

    #[test]
    fn retries_back_off_then_go_hourly() {
        check(1, 0.0, 60.0);
        check(2, 0.0, 120.0);
        check(3, 0.0, 240.0);
        check(4, 0.0, 480.0);
        check(5, 0.0, 3600.0);
        check(39, 0.0, 3600.0);
        check(0, 0.0, 60.0);
    }

    fn check_retry_after(value: &str, now: i64, expected: Option<u64>) {
        assert_eq!(
            parse_retry_after(value, now),
            expected.map(Duration::from_secs),
            "Retry-After: {value:?}"
        );
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        // 2015-10-21T07:28:00Z.
        let now = 1_445_412_480_000;
        check_retry_after("120", now, Some(120));
        check_retry_after(" 0 ", now, Some(0));
        check_retry_after("99999999999999999999999", now, Some(u64::MAX));
        check_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now, Some(120));
        check_retry_after("Wednesday, 21-Oct-15 07:30:00 GMT", now, Some(120));
        check_retry_after("Wed Oct 21 07:30:00 2015", now, Some(120));
        check_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now, Some(0));
        check_retry_after("-5", now, None);
        check_retry_after("1.5", now, None);
        check_retry_after("", now, None);
        check_retry_after("soon", now, None);
    }

    #[test]
    fn retry_after_can_only_lengthen_the_wait_up_to_a_day() {
        let at = |next| match next {
            DeliveryNext::RetryAt(at) => at,
            other => panic!("expected a retry, got {other:?}"),
        };
        let minute = Some(Duration::from_secs(60));
        assert_eq!(
            at(next_after(
                false,
                1,
                None,
                0,
                0.0,
                &RetrySchedule::default()
            )),
            60_000
        );
        assert_eq!(
            at(next_after(
                false,
                3,
                minute,
                0,
                0.0,
                &RetrySchedule::default()
            )),
            240_000
        );
        assert_eq!(
            at(next_after(
                false,
                1,
                Some(Duration::from_secs(600)),
                0,
                0.0,
                &RetrySchedule::default()
            )),
            600_000
        );
        assert_eq!(
            at(next_after(
                false,
                1,
                Some(Duration::from_secs(u64::MAX)),
                0,
                0.0,
                &RetrySchedule::default(),
            )),
            86_400_000
        );
        assert_eq!(
            next_after(
                false,
                MAX_ATTEMPTS,
                minute,
                0,
                0.0,
                &RetrySchedule::default()
            ),
            DeliveryNext::GiveUp
        );
        assert_eq!(
            next_after(true, 7, minute, 5, 0.0, &RetrySchedule::default()),
            DeliveryNext::Delivered { at: 5 }
        );
    }

    #[test]
    fn an_endpoint_schedule_repeats_its_last_wait_and_gives_up_at_its_most_attempts() {
        let schedule = RetrySchedule::from_settings(Some(&[5, 30]), Some(3));
        assert_eq!(schedule.delay(1, 0.0), Duration::from_secs(5));
        assert_eq!(schedule.delay(2, 0.0), Duration::from_secs(30));
        assert_eq!(schedule.delay(9, 0.0), Duration::from_secs(30));
        assert_eq!(
            next_after(false, 2, None, 1_000, 0.0, &schedule),
            DeliveryNext::RetryAt(31_000)
        );
        assert_eq!(
            next_after(false, 3, None, 1_000, 0.0, &schedule),
            DeliveryNext::GiveUp
        );
        let default = RetrySchedule::from_settings(None, None);
        assert_eq!(default, RetrySchedule::default());
        assert_eq!(default.seconds(), [60, 120, 240, 480, 3600]);
        assert_eq!(default.max_attempts(), MAX_ATTEMPTS);
        assert_eq!(
            RetrySchedule::from_settings(Some(&[]), Some(0)).max_attempts(),
            1
        );
    }

    #[test]
    fn a_rate_gate_spaces_requests() {
        let mut gate = RateGate::new(4);
        assert_eq!(gate.reserve(0), Duration::ZERO);
        assert_eq!(gate.reserve(0), Duration::from_millis(250));
        assert_eq!(gate.reserve(100_000), Duration::from_millis(400));
        // Idle for a while: the next one goes at once, and the spacing starts again.
        assert_eq!(gate.reserve(10_000_000), Duration::ZERO);
        assert_eq!(gate.reserve(10_000_000), Duration::from_millis(250));
    }

    #[test]
    fn a_batch_has_an_id_of_its_own_the_same_for_the_same_deliveries() {
        let delivery = |suffix: &str| ClaimedDelivery {
            id: 1,
            webhook_id: MessageId::from_suffix(suffix),
            endpoint_id: 1,
            event_type: "entry.created".into(),
            body: "{}".into(),
            n_attempts: 0,
            lease_until: 0,
            due_at: 0,
            endpoint_version: 0,
        };
        let one = [delivery("a")];
        assert_eq!(request_webhook_id(&one).as_str(), "msg_a");
        let two = [delivery("a"), delivery("b")];
        let id = request_webhook_id(&two);
        assert!(id.as_str().starts_with("msg_batch_"), "{id}");
        assert_eq!(request_webhook_id(&two), id);
        assert_ne!(request_webhook_id(&[delivery("a"), delivery("c")]), id);
    }

    #[test]
    fn jitter_moves_the_delay_by_at_most_ten_percent() {
        check(1, 1.0, 66.0);
        check(1, -1.0, 54.0);
        check(5, 0.5, 3780.0);
        check(4, 7.0, 528.0);
        check(4, -7.0, 432.0);
    }
}
