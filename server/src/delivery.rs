//! Webhook delivery: claiming due deliveries, signing and sending them, recording every
//! attempt, and scheduling retries (1, 2, 4, 8 minutes, then hourly, with jitter).
//!
//! [`DeliveryWorker::try_next`] does one step with a clock passed in, so tests drive it;
//! [`spawn_background`] runs it with the real clock, woken by new entries. Must not block
//! the request path: ingest only queues rows and notifies. A failed send is data (an attempt
//! row), not an error; only the database can make a step fail.

use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::payload::EVENT_TYPE_HEADER;
use protocol::signature::{SigningSecret, signature_header};
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::clock;
use crate::config::DeliveryTimeouts;
use crate::destination::{DestinationError, Destinations};
use crate::store::{AttemptOutcome, ClaimedDelivery, DeliveryNext, Store, StoreError};

/// Tries before a delivery is given up (about a day and a half of retries).
pub const MAX_ATTEMPTS: u32 = 40;
/// How long a claim keeps other workers away; longer than any one try can take.
const LEASE_MS: i64 = 60_000;
/// Most of a response body read and kept as the attempt's snippet; the rest is never read.
const MAX_RESPONSE_BYTES: usize = 4096;
/// How many deliveries the background loop sends at once.
const CONCURRENT_SENDERS: usize = 4;
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

/// Sends due deliveries, one per [`DeliveryWorker::try_next`].
#[derive(Debug, Clone)]
pub struct DeliveryWorker {
    store: Store,
    client: reqwest::Client,
    destinations: Destinations,
}

/// The worker could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("failed to build the webhook HTTP client: {0}")]
pub struct ClientError(#[from] reqwest::Error);

impl DeliveryWorker {
    /// A worker whose client connects only where `destinations` allows: names are resolved
    /// by it (so the checked address is the one connected to), redirects are not followed
    /// (a 3xx is a failure), no proxy is used, and every try is bounded by `timeouts`.
    pub fn new(
        store: Store,
        destinations: Destinations,
        timeouts: DeliveryTimeouts,
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
            .build()?;
        Ok(Self {
            store,
            client,
            destinations,
        })
    }

    /// Claims the delivery due longest at `now` (unix ms), sends it and records the attempt.
    /// Held deliveries due first become pending (or are cancelled) by their entry's verdict.
    pub async fn try_next(&self, now: i64) -> Result<Step, StoreError> {
        let settled = self.store.release_held_deliveries(now).await?;
        if settled.cancelled + settled.dropped > 0 {
            info!(
                cancelled = settled.cancelled,
                dropped = settled.dropped,
                released = settled.released,
                "held deliveries settled by the fraud verdict"
            );
        }
        let Some(delivery) = self.store.claim_due_delivery(now, now + LEASE_MS).await? else {
            return Ok(Step::Idle);
        };
        let outcome = self.send(&delivery, now).await;
        let succeeded = outcome
            .status_code
            .is_some_and(|status| (200..300).contains(&status));
        let n_failed_attempts = delivery.n_attempts + 1;
        let next = if succeeded {
            DeliveryNext::Delivered {
                at: now + outcome.latency_ms,
            }
        } else if n_failed_attempts >= MAX_ATTEMPTS {
            DeliveryNext::GiveUp
        } else {
            let delay = retry_delay(n_failed_attempts, rand::random_range(-1.0..=1.0));
            DeliveryNext::RetryAt(now + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2))
        };
        let status = outcome
            .status_code
            .map_or_else(|| "none".to_owned(), |code| code.to_string());
        if succeeded {
            info!(webhook_id = %delivery.webhook_id, url = %delivery.endpoint_url, status = %status, latency_ms = outcome.latency_ms, "webhook delivered");
        } else {
            warn!(
                webhook_id = %delivery.webhook_id, url = %delivery.endpoint_url, status = %status,
                error_kind = outcome.error_kind.unwrap_or(""), latency_ms = outcome.latency_ms,
                attempt = n_failed_attempts, next = ?next, "webhook delivery failed"
            );
        }
        if !self.store.record_attempt(&delivery, &outcome, next).await? {
            warn!(webhook_id = %delivery.webhook_id, "the delivery's lease ran out while sending; another worker owns it now");
        }
        Ok(if succeeded {
            Step::Delivered
        } else {
            Step::Failed
        })
    }

    /// When the next pending delivery falls due, if any is pending.
    pub async fn next_due_at(&self) -> Result<Option<i64>, StoreError> {
        self.store.next_due_at().await
    }

    /// One signed POST. Never fails: what happened is in the outcome.
    async fn send(&self, delivery: &ClaimedDelivery, now: i64) -> AttemptOutcome {
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
        let secret = match SigningSecret::parse(&delivery.endpoint_secret) {
            Ok(secret) => secret,
            Err(error) => return outcome(None, Some("invalid_secret"), error.to_string()),
        };
        // A host written as an IP address is connected to without the resolver: check it here.
        let url = match reqwest::Url::parse(&delivery.endpoint_url) {
            Ok(url) => url,
            Err(error) => return outcome(None, Some("request"), format!("invalid URL: {error}")),
        };
        if let Err(error) = self.destinations.check_literal(&url) {
            let kind = if error.blocked().is_some() {
                BLOCKED_ADDRESS
            } else {
                "request"
            };
            return outcome(None, Some(kind), error.to_string());
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
                    return outcome(None, Some(kind), refused.to_string());
                }
                let kind = if error.is_timeout() {
                    "timeout"
                } else if error.is_connect() {
                    "connect"
                } else {
                    "request"
                };
                return outcome(None, Some(kind), error_chain(&error));
            }
        };
        let status = response.status().as_u16();
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
        outcome(
            Some(status),
            None,
            String::from_utf8_lossy(&body).into_owned(),
        )
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

/// Starts the background loops: each sends due deliveries one after another and, when
/// nothing is due, sleeps until `wake` is notified or the next delivery falls due. They stop
/// between sends once `shutdown` turns true (an in-flight send is finished first).
pub fn spawn_background(
    worker: DeliveryWorker,
    wake: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    (0..CONCURRENT_SENDERS)
        .map(|_| {
            tokio::spawn(run_loop(
                worker.clone(),
                Arc::clone(&wake),
                shutdown.clone(),
            ))
        })
        .collect()
}

async fn run_loop(worker: DeliveryWorker, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        // Registered before looking at the queue, so an entry committed meanwhile still wakes us.
        let woken = wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let wait = match worker.try_next(clock::now_millis()).await {
            Ok(Step::Delivered | Step::Failed) => continue,
            Ok(Step::Idle) => match worker.next_due_at().await {
                Ok(Some(due)) => {
                    Duration::from_millis(u64::try_from(due - clock::now_millis()).unwrap_or(0))
                        .min(MAX_IDLE_WAIT)
                }
                Ok(None) => MAX_IDLE_WAIT,
                Err(error) => {
                    error!(%error, "delivery worker could not read the queue");
                    ERROR_BACKOFF
                }
            },
            Err(error) => {
                error!(%error, "delivery worker could not read the queue");
                ERROR_BACKOFF
            }
        };
        tokio::select! {
            () = &mut woken => {}
            () = tokio::time::sleep(wait) => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
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

    #[test]
    fn jitter_moves_the_delay_by_at_most_ten_percent() {
        check(1, 1.0, 66.0);
        check(1, -1.0, 54.0);
        check(5, 0.5, 3780.0);
        check(4, 7.0, 528.0);
        check(4, -7.0, 432.0);
    }
}
