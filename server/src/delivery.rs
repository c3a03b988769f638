//! Webhook delivery: claiming due deliveries, signing and sending them, recording every
//! attempt, and scheduling retries (1, 2, 4, 8 minutes, then hourly, with jitter; longer when
//! the endpoint's `Retry-After` asks, up to a day). Success is any 2xx.
//!
//! Endpoint health: a `410 Gone` answer disables the endpoint at once (reason `gone`); a run of
//! failed attempts as long as [`DeliveryLimits`] allows disables it (reason `failing`); a
//! success ends the run. A disabled endpoint's pending deliveries are left `pending` and are
//! not claimed (nor are new ones queued) until it is enabled again; each disabling is logged.
//!
//! [`DeliveryWorker::try_next`] does one step with a clock passed in, so tests drive it;
//! [`spawn_background`] runs the same parts with the real clock, woken by new entries: a
//! dispatcher claims due deliveries in batches and sends them concurrently (at most
//! `concurrency` at once, and `concurrency_per_endpoint` per endpoint, so one slow endpoint
//! cannot hold every sender), and a recorder writes the outcomes a batch per transaction. Must
//! not block the request path: ingest only queues rows and notifies. A failed send is data
//! (an attempt row), not an error; only the database can make a step fail.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use protocol::payload::EVENT_TYPE_HEADER;
use protocol::signature::{SigningSecret, signature_header};
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use tokio::sync::{Notify, Semaphore, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tracing::{error, info, warn};

use crate::clock;
use crate::config::{DeliveryLimits, DeliveryTimeouts};
use crate::destination::{DestinationError, Destinations};
use crate::metrics::{Metrics, TryOutcome};
use crate::store::{
    AttemptOutcome, Claim, ClaimedDelivery, DeliveryNext, DisableRule, DisabledReason,
    FinishedAttempt, Store, StoreError,
};

/// Tries before a delivery is given up (about a day and a half of retries).
pub const MAX_ATTEMPTS: u32 = 40;
/// How long a claim keeps other workers away: longer than the rounds of sends the background
/// loop claims ahead for one endpoint ([`ROUNDS_CLAIMED`] × the 15 s default try timeout)
/// take. Also how long deliveries claimed by a crashed server wait before another takes them.
const LEASE_MS: i64 = 120_000;
/// Rounds of an endpoint's sends (its concurrency cap each) the background loop claims at
/// most: one sending and the next ones ready, so its pipeline does not drain while a claim
/// commits, and each claim commits many deliveries at once.
const ROUNDS_CLAIMED: u32 = 4;
/// Most deliveries one claim statement takes.
const MAX_CLAIM: u32 = 128;
/// Most outcomes written in one transaction.
const MAX_RECORD_BATCH: usize = 256;
/// The longest `Retry-After` honoured; a longer one waits this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Longest wait between looks at the queue while sends are in flight.
const MAX_BUSY_WAIT: Duration = Duration::from_secs(1);
/// Most of a response body read and kept as the attempt's snippet; the rest is never read.
const MAX_RESPONSE_BYTES: usize = 4096;
/// Longest idle wait between looks at the queue, whatever it says.
const MAX_IDLE_WAIT: Duration = Duration::from_secs(300);
/// Wait after a database error before trying again.
const ERROR_BACKOFF: Duration = Duration::from_secs(5);

/// What one step of the worker did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Sent a delivery and the endpoint answered 2xx.
    Delivered,
    /// Sent a delivery and it failed; a retry is scheduled (or, after [`MAX_ATTEMPTS`], not).
    Failed,
    /// Nothing was due.
    Idle,
}

/// The delay before the next try after `n_failed_attempts` failures: 1, 2, 4, 8 minutes,
/// then every hour. `jitter` in `-1.0..=1.0` moves it by up to ±10% so that many
/// deliveries failing together do not retry together.
pub fn retry_delay(n_failed_attempts: u32, jitter: f64) -> Duration {
    let minutes = match n_failed_attempts {
        0 | 1 => 1,
        2 => 2,
        3 => 4,
        4 => 8,
        _ => 60,
    };
    Duration::from_secs(minutes * 60).mul_f64(1.0 + 0.1 * jitter.clamp(-1.0, 1.0))
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
/// succeeded, at `now`: delivered, retried after [`retry_delay`] or the endpoint's
/// `retry_after` (capped at [`MAX_RETRY_AFTER`]) whichever is later, or given up.
pub fn next_after(
    succeeded: bool,
    n_attempts: u32,
    retry_after: Option<Duration>,
    now: i64,
    jitter: f64,
) -> DeliveryNext {
    if succeeded {
        return DeliveryNext::Delivered { at: now };
    }
    if n_attempts >= MAX_ATTEMPTS {
        return DeliveryNext::GiveUp;
    }
    let delay =
        retry_delay(n_attempts, jitter).max(retry_after.unwrap_or_default().min(MAX_RETRY_AFTER));
    DeliveryNext::RetryAt(now.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)))
}

/// Sends due deliveries, one per [`DeliveryWorker::try_next`], or many at once in the
/// background ([`spawn_background`]).
#[derive(Debug, Clone)]
pub struct DeliveryWorker {
    store: Store,
    /// One client for every send, so connections to a host are kept alive and reused.
    client: reqwest::Client,
    destinations: Destinations,
    limits: DeliveryLimits,
    metrics: Arc<Metrics>,
}

/// A try that has been made, waiting to be recorded.
#[derive(Debug)]
struct Finished {
    delivery: ClaimedDelivery,
    outcome: AttemptOutcome,
    next: DeliveryNext,
    disable_endpoint: Option<DisabledReason>,
}

impl Finished {
    fn step(&self) -> Step {
        match self.next {
            DeliveryNext::Delivered { .. } => Step::Delivered,
            _ => Step::Failed,
        }
    }
}

/// The worker could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("failed to build the webhook HTTP client: {0}")]
pub struct ClientError(#[from] reqwest::Error);

impl DeliveryWorker {
    /// A worker whose client connects only where `destinations` allows: names are resolved
    /// by it (so the checked address is the one connected to), redirects are not followed
    /// (a 3xx is a failure), no proxy is used, and every try is bounded by `timeouts`. Each
    /// try is counted in `metrics`.
    pub fn new(
        store: Store,
        destinations: Destinations,
        timeouts: DeliveryTimeouts,
        limits: DeliveryLimits,
        metrics: Arc<Metrics>,
    ) -> Result<Self, ClientError> {
        // Errs only when a provider is already installed (another worker, a test): that is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(concat!("Hookline-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(destinations.clone())
            .no_proxy()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(usize::try_from(limits.concurrency).unwrap_or(usize::MAX))
            .build()?;
        Ok(Self {
            store,
            client,
            destinations,
            limits,
            metrics,
        })
    }

    /// Claims the delivery due longest at `now` (unix ms), sends it and records the attempt.
    /// Held deliveries due first become pending (or are cancelled) by their entry's verdict.
    pub async fn try_next(&self, now: i64) -> Result<Step, StoreError> {
        self.release_held(now).await?;
        let claimed = self
            .store
            .claim_due_deliveries(&Claim {
                now,
                lease_until: now + LEASE_MS,
                limit: 1,
                per_endpoint: self.limits.concurrency_per_endpoint,
                in_flight: &[],
            })
            .await?;
        let Some(delivery) = claimed.into_iter().next() else {
            return Ok(Step::Idle);
        };
        let finished = self.attempt(delivery, now).await;
        let step = finished.step();
        self.record(&[finished], now).await?;
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

    /// Sends a claimed delivery at `now` and decides what follows; logs the attempt.
    async fn attempt(&self, delivery: ClaimedDelivery, now: i64) -> Finished {
        let (outcome, retry_after) = self.send(&delivery, now).await;
        let succeeded = outcome
            .status_code
            .is_some_and(|status| (200..300).contains(&status));
        let n_attempts = delivery.n_attempts + 1;
        let next = next_after(
            succeeded,
            n_attempts,
            retry_after,
            now + if succeeded { outcome.latency_ms } else { 0 },
            rand::random_range(-1.0..=1.0),
        );
        let status = outcome
            .status_code
            .map_or_else(|| "none".to_owned(), |code| code.to_string());
        if succeeded {
            info!(webhook_id = %delivery.webhook_id, url = %delivery.endpoint_url, status = %status, latency_ms = outcome.latency_ms, "webhook delivered");
        } else {
            warn!(
                webhook_id = %delivery.webhook_id, url = %delivery.endpoint_url, status = %status,
                error_kind = outcome.error_kind.unwrap_or(""), latency_ms = outcome.latency_ms,
                attempt = n_attempts, retry_after_s = retry_after.map(|delay| delay.as_secs()),
                next = ?next, "webhook delivery failed"
            );
        }
        let counted = match (succeeded, outcome.status_code) {
            (true, _) => TryOutcome::Delivered,
            (false, Some(status)) => TryOutcome::Failed(status),
            (false, None) => TryOutcome::Error(outcome.error_kind.unwrap_or("request")),
        };
        let latency = Duration::from_millis(u64::try_from(outcome.latency_ms).unwrap_or(0));
        self.metrics.delivery_attempted(counted, latency);
        if next == DeliveryNext::GiveUp {
            self.metrics.delivery_given_up();
        }
        let disable_endpoint = (outcome.status_code == Some(410)).then_some(DisabledReason::Gone);
        Finished {
            delivery,
            outcome,
            next,
            disable_endpoint,
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

    /// One signed POST, and the delay its answer asked for (`Retry-After`). Never fails: what
    /// happened is in the outcome.
    async fn send(
        &self,
        delivery: &ClaimedDelivery,
        now: i64,
    ) -> (AttemptOutcome, Option<Duration>) {
        let started = Instant::now();
        let outcome = |status_code: Option<u16>,
                       error_kind: Option<&'static str>,
                       snippet: String| AttemptOutcome {
            started_at: now,
            status_code,
            latency_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            error_kind,
            response_snippet: snippet,
        };
        let failed =
            |status_code, error_kind, snippet| (outcome(status_code, error_kind, snippet), None);
        let secret = match SigningSecret::parse(&delivery.endpoint_secret) {
            Ok(secret) => secret,
            Err(error) => return failed(None, Some("invalid_secret"), error.to_string()),
        };
        // A host written as an IP address is connected to without the resolver: check it here.
        let url = match reqwest::Url::parse(&delivery.endpoint_url) {
            Ok(url) => url,
            Err(error) => return failed(None, Some("request"), format!("invalid URL: {error}")),
        };
        if let Err(error) = self.destinations.check_literal(&url) {
            let kind = if error.blocked().is_some() {
                BLOCKED_ADDRESS
            } else {
                "request"
            };
            return failed(None, Some(kind), error.to_string());
        }
        let timestamp = now.div_euclid(1000);
        let signature = signature_header(
            &[secret],
            delivery.webhook_id.as_str(),
            timestamp,
            delivery.body.as_bytes(),
        );
        let request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header("webhook-id", delivery.webhook_id.as_str())
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .header(EVENT_TYPE_HEADER, &delivery.event_type)
            .body(delivery.body.clone());
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                if let Some(refused) = destination_error(&error) {
                    let kind = if refused.blocked().is_some() {
                        BLOCKED_ADDRESS
                    } else {
                        "connect"
                    };
                    return failed(None, Some(kind), refused.to_string());
                }
                let kind = if error.is_timeout() {
                    "timeout"
                } else if error.is_connect() {
                    "connect"
                } else {
                    "request"
                };
                return failed(None, Some(kind), error_chain(&error));
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
        let outcome = outcome(
            Some(status),
            None,
            String::from_utf8_lossy(&body).into_owned(),
        );
        (outcome, retry_after)
    }
}

/// `error_kind` of an attempt refused by the destination rules: nothing was sent. It is
/// retried like any failure, since what a name resolves to, and the operator's allow-list,
/// can change before the next try.
pub const BLOCKED_ADDRESS: &str = "blocked_address";

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

/// Starts the background delivery: a dispatcher that claims due deliveries in batches and
/// sends them concurrently, and a recorder that writes their outcomes a batch per
/// transaction. When nothing is due the dispatcher sleeps until `wake` is notified or the
/// next delivery falls due. Once `shutdown` turns true it claims nothing more, lets the sends
/// it has claimed finish, and the recorder writes them before both end.
pub fn spawn_background(
    worker: DeliveryWorker,
    wake: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let (finished_sender, finished) = mpsc::channel(MAX_RECORD_BATCH * 4);
    vec![
        tokio::spawn(dispatch(worker.clone(), wake, shutdown, finished_sender)),
        tokio::spawn(record_loop(worker, finished)),
    ]
}

/// The dispatcher's view of what it has claimed and not yet handed to the recorder.
#[derive(Debug)]
struct Outstanding {
    /// Claimed, by endpoint: sending or waiting for the endpoint's turn.
    by_endpoint: HashMap<i64, (u32, Arc<Semaphore>)>,
    total: u32,
}

async fn dispatch(
    worker: DeliveryWorker,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
    finished: mpsc::Sender<Finished>,
) {
    let limits = worker.limits;
    let claim_per_endpoint = limits
        .concurrency_per_endpoint
        .saturating_mul(ROUNDS_CLAIMED);
    let max_outstanding = limits.concurrency.saturating_mul(ROUNDS_CLAIMED);
    // Claim again once half of an endpoint's claimed rounds are done (or on news).
    let claim_after = claim_per_endpoint / 2;
    let senders = Arc::new(Semaphore::new(
        usize::try_from(limits.concurrency).unwrap_or(usize::MAX),
    ));
    let mut outstanding = Outstanding {
        by_endpoint: HashMap::new(),
        total: 0,
    };
    let mut sending: JoinSet<i64> = JoinSet::new();
    // Sends finished since the last claim; a claim for each one would commit once per send.
    let mut finished_since_claim = claim_after;
    let mut woken_up = true;
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Registered before looking at the queue, so an entry committed meanwhile still wakes us.
        let woken = wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let now = clock::now_millis();
        let room = max_outstanding
            .saturating_sub(outstanding.total)
            .min(MAX_CLAIM);
        let worth_claiming =
            woken_up || outstanding.total == 0 || finished_since_claim >= claim_after;
        let mut wait = MAX_BUSY_WAIT;
        if room > 0 && worth_claiming {
            finished_since_claim = 0;
            match claim(&worker, &outstanding, now, room, claim_per_endpoint).await {
                Ok(batch) => {
                    for delivery in batch {
                        let endpoint = outstanding
                            .by_endpoint
                            .entry(delivery.endpoint_id)
                            .or_insert_with(|| {
                                let cap = usize::try_from(limits.concurrency_per_endpoint)
                                    .unwrap_or(usize::MAX);
                                (0, Arc::new(Semaphore::new(cap)))
                            });
                        endpoint.0 += 1;
                        outstanding.total += 1;
                        sending.spawn(send_in_turn(
                            worker.clone(),
                            delivery,
                            Arc::clone(&endpoint.1),
                            Arc::clone(&senders),
                            finished.clone(),
                        ));
                    }
                    if outstanding.total == 0 {
                        wait = idle_wait(&worker).await;
                    }
                }
                Err(error) => {
                    error!(%error, "delivery worker could not read the queue");
                    wait = ERROR_BACKOFF;
                }
            }
        }
        woken_up = false;
        tokio::select! {
            () = &mut woken => woken_up = true,
            () = tokio::time::sleep(wait) => woken_up = true,
            Some(done) = sending.join_next(), if !sending.is_empty() => {
                let mut done = Some(done);
                while let Some(result) = done {
                    settle(&mut outstanding, result);
                    finished_since_claim += 1;
                    done = sending.try_join_next();
                }
            }
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    while let Some(result) = sending.join_next().await {
        settle(&mut outstanding, result);
    }
}

/// Claims what may be claimed at `now` given what is outstanding.
async fn claim(
    worker: &DeliveryWorker,
    outstanding: &Outstanding,
    now: i64,
    limit: u32,
    per_endpoint: u32,
) -> Result<Vec<ClaimedDelivery>, StoreError> {
    worker.release_held(now).await?;
    let in_flight: Vec<(i64, u32)> = outstanding
        .by_endpoint
        .iter()
        .map(|(&endpoint_id, &(n, _))| (endpoint_id, n))
        .collect();
    worker
        .store
        .claim_due_deliveries(&Claim {
            now,
            lease_until: now + LEASE_MS,
            limit,
            per_endpoint,
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
                .min(MAX_IDLE_WAIT)
        }
        Ok(None) => MAX_IDLE_WAIT,
        Err(error) => {
            error!(%error, "delivery worker could not read the queue");
            ERROR_BACKOFF
        }
    }
}

/// Counts a claimed delivery as handed over (or lost with its task, whose lease then runs out).
fn settle(outstanding: &mut Outstanding, result: Result<i64, tokio::task::JoinError>) {
    let endpoint_id = match result {
        Ok(endpoint_id) => endpoint_id,
        Err(error) => {
            // The lease runs out and the delivery is claimed again; the count is rebuilt below.
            error!(%error, "a webhook send task ended abnormally");
            outstanding.total = outstanding.total.saturating_sub(1);
            return;
        }
    };
    outstanding.total = outstanding.total.saturating_sub(1);
    if let Some(endpoint) = outstanding.by_endpoint.get_mut(&endpoint_id) {
        endpoint.0 = endpoint.0.saturating_sub(1);
        if endpoint.0 == 0 {
            outstanding.by_endpoint.remove(&endpoint_id);
        }
    }
}

/// Waits for the endpoint's turn and a free sender, sends, and hands the outcome to the
/// recorder. Returns the endpoint's id.
async fn send_in_turn(
    worker: DeliveryWorker,
    delivery: ClaimedDelivery,
    endpoint_turn: Arc<Semaphore>,
    senders: Arc<Semaphore>,
    recorder: mpsc::Sender<Finished>,
) -> i64 {
    let endpoint_id = delivery.endpoint_id;
    // The semaphores are never closed, so acquiring fails only if that changes; send anyway.
    let _turn = endpoint_turn.acquire_owned().await.ok();
    let _sender = senders.acquire_owned().await.ok();
    let finished = worker.attempt(delivery, clock::now_millis()).await;
    if recorder.send(finished).await.is_err() {
        // Only after the recorder has stopped; the lease runs out and the delivery is retried.
        warn!("the delivery recorder has stopped; an attempt was not recorded");
    }
    endpoint_id
}

/// Writes finished tries as they come, everything waiting in one transaction.
async fn record_loop(worker: DeliveryWorker, mut finished: mpsc::Receiver<Finished>) {
    let mut batch = Vec::with_capacity(MAX_RECORD_BATCH);
    while finished.recv_many(&mut batch, MAX_RECORD_BATCH).await > 0 {
        if let Err(error) = worker.record(&batch, clock::now_millis()).await {
            // At least once: the leases run out and these deliveries are sent again.
            error!(%error, n_attempts = batch.len(), "failed to record webhook attempts");
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
        assert_eq!(at(next_after(false, 1, None, 0, 0.0)), 60_000);
        assert_eq!(at(next_after(false, 3, minute, 0, 0.0)), 240_000);
        assert_eq!(
            at(next_after(false, 1, Some(Duration::from_secs(600)), 0, 0.0)),
            600_000
        );
        assert_eq!(
            at(next_after(
                false,
                1,
                Some(Duration::from_secs(u64::MAX)),
                0,
                0.0
            )),
            86_400_000
        );
        assert_eq!(
            next_after(false, MAX_ATTEMPTS, minute, 0, 0.0),
            DeliveryNext::GiveUp
        );
        assert_eq!(
            next_after(true, 7, minute, 5, 0.0),
            DeliveryNext::Delivered { at: 5 }
        );
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
