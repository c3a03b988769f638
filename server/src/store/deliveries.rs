//! The delivery queue: claiming due deliveries with a lease, handing new ones to this
//! process's dispatcher already leased, and recording attempts.
//!
//! A claim sets `lease_until` on a batch of deliveries in one statement; while it is in the
//! future no other worker takes them. A worker that dies mid-send loses nothing: the lease runs
//! out and the delivery is due again. Attempts are recorded a batch per transaction, together
//! with each endpoint's run of consecutive failures, which may disable the endpoint.
//!
//! The hand-off ([`Store::hand_off_deliveries`]): while a dispatcher runs in this process, a
//! delivery written due now (not held, to an endpoint without strict ordering that the
//! dispatcher has room for) is written with its lease already taken, in the entry's own
//! transaction, and handed to the dispatcher in memory once that transaction has committed.
//! So one durable commit, the entry's, stands between an entry and its webhook. The lease is
//! the same as a claim's: if this process dies before recording the attempt, the delivery is
//! claimed again when it runs out.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use protocol::ids::{EndpointId, MessageId};
use rusqlite::OptionalExtension as _;
use tokio::sync::mpsc;
use tracing::error;

use super::campaigns::parse_column;
use super::{
    BeginWrite, EntryPath, PgWriteTx, Store, StoreError, WriteTx, run_ready, to_u32, with_pool,
};

/// A delivery a worker holds the lease on, with what it needs to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub webhook_id: MessageId,
    pub endpoint_id: i64,
    pub event_type: String,
    pub body: String,
    /// Tries before this one.
    pub n_attempts: u32,
    /// The lease this worker holds; recording the attempt checks it is still ours.
    pub lease_until: i64,
    /// When it fell due (unix ms); claims are ordered by it.
    pub due_at: i64,
    /// The endpoint's `version` when claimed: its settings as the worker must send them.
    pub endpoint_version: i64,
}

/// What one try brought back.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptOutcome {
    /// Unix milliseconds.
    pub started_at: i64,
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    /// Why no response came back (`timeout`, `connect`, …), when none did.
    pub error_kind: Option<&'static str>,
    pub response_snippet: String,
    /// The request sent (JSON, credentials redacted, body cut), if one was built. For a
    /// batch, only the first delivery's attempt keeps it.
    pub request: Option<String>,
    /// Deliveries the request carried.
    pub batch_size: u32,
    /// For a batch: the delivery whose attempt holds the request.
    pub batch_delivery_id: Option<i64>,
}

/// What becomes of a delivery after a try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryNext {
    Delivered {
        at: i64,
    },
    /// Try again at this unix-millisecond time.
    RetryAt(i64),
    /// Too many failures: stop trying.
    GiveUp,
}

/// What [`Store::claim_due_deliveries`] may take.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// Unix milliseconds: deliveries due by then, whose lease (if any) ran out by then.
    pub now: i64,
    pub lease_until: i64,
    /// Most deliveries to claim.
    pub limit: u32,
    /// Requests one endpoint may have in flight at once, unless it sets its own
    /// (`max_concurrency`).
    pub per_endpoint: u32,
    /// Rounds of an endpoint's concurrency claimed ahead (the cap is concurrency × rounds ×
    /// deliveries per request; one request's worth under strict ordering).
    pub rounds: u32,
    /// Deliveries already being sent, by endpoint id.
    pub in_flight: &'a [(i64, u32)],
}

/// One finished try to record.
#[derive(Debug, Clone, Copy)]
pub struct FinishedAttempt<'a> {
    pub delivery: &'a ClaimedDelivery,
    pub outcome: &'a AttemptOutcome,
    pub next: DeliveryNext,
    /// Disable the endpoint at once for this reason (it answered 410 Gone).
    pub disable_endpoint: Option<DisabledReason>,
}

/// When an endpoint that keeps failing is disabled: after at least `after_failures`
/// consecutive failed attempts, the first of which started at least `after_ms` ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisableRule {
    pub after_failures: u32,
    pub after_ms: i64,
}

/// Why delivery disabled an endpoint (`endpoints.disabled_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisabledReason {
    /// It answered `410 Gone`.
    Gone,
    /// It failed for longer than the [`DisableRule`] allows.
    Failing,
}

impl DisabledReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gone => "gone",
            Self::Failing => "failing",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "gone" => Some(Self::Gone),
            "failing" => Some(Self::Failing),
            _ => None,
        }
    }
}

/// An endpoint [`Store::record_attempts`] disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisabledEndpoint {
    pub endpoint_id: i64,
    pub public_id: EndpointId,
    pub url: String,
    pub reason: DisabledReason,
    pub n_consecutive_failures: u32,
    pub failing_since: Option<i64>,
}

/// What [`Store::record_attempts`] did besides recording.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Deliveries whose lease ran out while they were sent (another worker owns them now);
    /// their attempts are recorded all the same.
    pub lease_lost: Vec<i64>,
    pub disabled: Vec<DisabledEndpoint>,
}

/// One endpoint's failures within a batch of attempts.
#[derive(Debug, Clone, Copy, Default)]
struct FailureRun {
    /// A success came first: the stored run is replaced rather than extended.
    reset: bool,
    n_failures: u32,
    first_failure_at: Option<i64>,
}

/// What [`Store::release_held_deliveries`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Released {
    /// Held deliveries now pending (sent by the next claims).
    pub released: u64,
    /// Held `subscriber.created` deliveries of disqualified entries, now `cancelled`.
    pub cancelled: u64,
    /// Held `entry.disqualified` deliveries of entries that were not disqualified, deleted.
    pub dropped: u64,
}

/// Where new due deliveries go, leased, while a dispatcher runs in this process. Shared by
/// every clone of a [`Store`] and by its write transactions.
#[derive(Debug, Default)]
pub(super) struct Handoff {
    dispatcher: Mutex<Option<Arc<Dispatcher>>>,
}

/// A registered dispatcher, as the write transactions see it.
#[derive(Debug)]
struct Dispatcher {
    lease_ms: i64,
    sender: mpsc::UnboundedSender<Vec<ClaimedDelivery>>,
    busy: Arc<BusyEndpoints>,
}

/// What the dispatcher has no room for now: deliveries to these endpoints are written
/// unleased and wait for a claim, like any backlog, instead of piling up in memory. A hint:
/// a delivery handed off all the same is given back by the dispatcher.
#[derive(Debug, Default)]
pub struct BusyEndpoints {
    endpoints: Mutex<HashSet<i64>>,
    /// The dispatcher has as much outstanding as it takes, over all endpoints.
    all: AtomicBool,
}

impl BusyEndpoints {
    /// Marks `endpoint_id` as at its cap, or not.
    pub fn set(&self, endpoint_id: i64, busy: bool) {
        let mut endpoints = self
            .endpoints
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if busy {
            endpoints.insert(endpoint_id);
        } else {
            endpoints.remove(&endpoint_id);
        }
    }

    /// Marks the dispatcher as full, or not, whatever the endpoint.
    pub fn set_all(&self, busy: bool) {
        self.all.store(busy, Ordering::Relaxed);
    }

    fn takes(&self, endpoint_id: i64) -> bool {
        !self.all.load(Ordering::Relaxed)
            && !self
                .endpoints
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(&endpoint_id)
    }
}

/// The dispatcher's end of the hand-off: the deliveries of each committed transaction, leased.
#[derive(Debug)]
pub struct HandedOff {
    receiver: mpsc::UnboundedReceiver<Vec<ClaimedDelivery>>,
    busy: Arc<BusyEndpoints>,
}

impl HandedOff {
    /// The next committed transaction's deliveries; `None` once another dispatcher took over.
    pub async fn recv(&mut self) -> Option<Vec<ClaimedDelivery>> {
        self.receiver.recv().await
    }

    /// Where the dispatcher says which endpoints it has no room for.
    pub fn busy(&self) -> Arc<BusyEndpoints> {
        Arc::clone(&self.busy)
    }

    /// Ends the hand-off: nothing more is leased for it, and what was handed off but not yet
    /// received comes back (release its leases).
    pub fn close(&mut self) -> Vec<ClaimedDelivery> {
        self.receiver.close();
        let mut left = Vec::new();
        while let Ok(deliveries) = self.receiver.try_recv() {
            left.extend(deliveries);
        }
        left
    }
}

impl Handoff {
    /// The leases a new write transaction may give out.
    pub(super) fn leases(&self) -> Leases {
        let dispatcher = self
            .dispatcher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|dispatcher| !dispatcher.sender.is_closed())
            .map(Arc::clone);
        Leases {
            dispatcher,
            leased: Vec::new(),
            at_savepoint: 0,
        }
    }
}

/// The deliveries one write transaction leased for the dispatcher, held until it commits.
#[derive(Debug, Default)]
pub struct Leases {
    dispatcher: Option<Arc<Dispatcher>>,
    leased: Vec<ClaimedDelivery>,
    /// `leased.len()` at the entry's savepoint: rolling back to it takes back what followed.
    at_savepoint: usize,
}

impl Leases {
    /// `lease_until` for a delivery to `endpoint_id` written due at `now`, or `None` to leave
    /// it to the claims (no dispatcher, or it has no room for that endpoint). The insert
    /// still leaves it unleased when the endpoint keeps strict order.
    pub(super) fn lease_until(&self, endpoint_id: i64, now: i64) -> Option<i64> {
        self.dispatcher
            .as_ref()
            .filter(|dispatcher| dispatcher.busy.takes(endpoint_id))
            .map(|dispatcher| now.saturating_add(dispatcher.lease_ms))
    }

    /// A delivery written with its lease: handed off at the commit.
    pub(super) fn leased(&mut self, delivery: ClaimedDelivery) {
        self.leased.push(delivery);
    }

    pub(super) fn savepoint(&mut self) {
        self.at_savepoint = self.leased.len();
    }

    pub(super) fn rollback_to_savepoint(&mut self) {
        self.leased.truncate(self.at_savepoint);
    }

    /// After the commit: hands the leased deliveries to the dispatcher. Those it can no longer
    /// take (it stopped meanwhile) come back, for their leases to be released.
    pub(super) fn hand_off(self) -> Vec<ClaimedDelivery> {
        match (self.dispatcher, self.leased.is_empty()) {
            (Some(dispatcher), false) => match dispatcher.sender.send(self.leased) {
                Ok(()) => Vec::new(),
                Err(unsent) => unsent.0,
            },
            (_, _) => self.leased,
        }
    }
}

/// Gives up leases, so the deliveries are due again at once; only where the lease is still
/// the one given (`lease_until` unchanged). Parameters: id, lease until.
pub(super) const RELEASE_LEASE: &str =
    "UPDATE deliveries SET lease_until = NULL WHERE id = $1 AND lease_until = $2";

/// Releases the leases of `deliveries` on the SQLite writer's connection, in a transaction of
/// its own (after the one that leased them has committed).
pub(super) fn release_leases_on(connection: &rusqlite::Connection, deliveries: &[ClaimedDelivery]) {
    let released = (|| -> Result<(), rusqlite::Error> {
        let tx = rusqlite::Transaction::new_unchecked(
            connection,
            rusqlite::TransactionBehavior::Immediate,
        )?;
        {
            let mut statement = tx.prepare_cached(RELEASE_LEASE)?;
            for delivery in deliveries {
                statement.execute(rusqlite::params![delivery.id, delivery.lease_until])?;
            }
        }
        tx.commit()
    })();
    if let Err(cause) = released {
        // They are claimed again when their leases run out.
        error!(error = %cause, n = deliveries.len(), "failed to release the leases of deliveries not handed off");
    }
}

impl Store {
    /// Makes the caller this process's dispatcher: from now on, deliveries written due (and
    /// not to a strictly ordered endpoint, nor to one [`HandedOff::busy`] names) are leased
    /// for `lease` in the transaction that writes them and handed over once it commits. A
    /// later call replaces the earlier dispatcher, whose [`HandedOff::recv`] then ends.
    pub fn hand_off_deliveries(&self, lease: Duration) -> HandedOff {
        let (sender, receiver) = mpsc::unbounded_channel();
        let busy = Arc::new(BusyEndpoints::default());
        *self
            .handoff
            .dispatcher
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(Dispatcher {
            lease_ms: i64::try_from(lease.as_millis()).unwrap_or(i64::MAX),
            sender,
            busy: Arc::clone(&busy),
        }));
        HandedOff { receiver, busy }
    }

    /// Settles the held deliveries due at `now` by their entry's verdict as it stands now:
    /// `subscriber.created` is released unless the entry is disqualified (then it is
    /// cancelled), `entry.disqualified` is released only if it is (otherwise deleted: the
    /// event did not happen). Any other held event is released. One transaction, so a
    /// verdict is read once for all of an entry's held deliveries.
    pub async fn release_held_deliveries(&self, now: i64) -> Result<Released, StoreError> {
        with_pool!(&self.pool, pool => {
            // A read first, so the usual case (nothing to settle) takes no write lock.
            let any_due: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM deliveries WHERE status = 'held' AND next_attempt_at <= $1)",
            )
            .bind(now)
            .fetch_one(pool)
            .await?;
            if !any_due {
                return Ok(Released::default());
            }
            let mut tx = pool.begin_write().await?;
            let cancelled = sqlx::query(
                "UPDATE deliveries SET status = 'cancelled'
                 WHERE status = 'held' AND next_attempt_at <= $1 AND event_type = 'subscriber.created'
                   AND (SELECT e.verdict FROM entries e WHERE e.id = deliveries.entry_id) = 'disqualified'",
            )
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let dropped = sqlx::query(
                "DELETE FROM deliveries
                 WHERE status = 'held' AND next_attempt_at <= $1 AND event_type = 'entry.disqualified'
                   AND NOT COALESCE((SELECT e.verdict FROM entries e WHERE e.id = deliveries.entry_id) = 'disqualified', FALSE)",
            )
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let released = sqlx::query(
                "UPDATE deliveries SET status = 'pending' WHERE status = 'held' AND next_attempt_at <= $1",
            )
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(Released {
                released,
                cancelled,
                dropped,
            })
        })
    }

    /// Claims up to `limit` of the deliveries due longest at `now`, until `lease_until`, in
    /// one statement. An endpoint gets at most `per_endpoint` minus what `in_flight` says it
    /// already has (endpoint id, deliveries being sent), so a slow endpoint's backlog neither
    /// takes every slot nor hides the others: endpoints at their cap are skipped. The result
    /// is ordered by due time. On PostgreSQL, rows another process is claiming at the same
    /// moment are skipped (`FOR UPDATE SKIP LOCKED`), so several servers share one queue. On
    /// SQLite a read on the pool comes first, so that the usual case (nothing due that is not
    /// leased already) does not take the entry writer's turn.
    pub async fn claim_due_deliveries(
        &self,
        claim: &Claim<'_>,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let in_flight: serde_json::Map<String, serde_json::Value> = claim
            .in_flight
            .iter()
            .map(|&(endpoint_id, n)| (endpoint_id.to_string(), serde_json::Value::from(n)))
            .collect();
        let in_flight = serde_json::Value::Object(in_flight).to_string();
        let (now, lease_until, limit, per_endpoint, rounds) = (
            claim.now,
            claim.lease_until,
            i64::from(claim.limit),
            i64::from(claim.per_endpoint),
            i64::from(claim.rounds.max(1)),
        );
        // Enough candidates that a few busy endpoints at the front leave room for others.
        let candidates = limit * 4;
        let mut claimed: Vec<ClaimedDelivery> = match self.entry_path() {
            EntryPath::Sqlite(writer) => {
                if !self.any_claimable(now).await? {
                    return Ok(Vec::new());
                }
                writer
                    .write(move |tx| {
                        let mut statement = tx.tx.prepare_cached(SQLITE_CLAIM)?;
                        let rows = statement.query_map(
                            rusqlite::params![
                                now,
                                lease_until,
                                limit,
                                per_endpoint,
                                in_flight,
                                candidates,
                                rounds
                            ],
                            |row| {
                                Ok(ClaimedRow {
                                    id: row.get("id")?,
                                    webhook_id: row.get("webhook_id")?,
                                    endpoint_id: row.get("endpoint_id")?,
                                    event_type: row.get("event_type")?,
                                    body: row.get("body")?,
                                    n_attempts: row.get("n_attempts")?,
                                    lease_until: row.get("lease_until")?,
                                    next_attempt_at: row.get("next_attempt_at")?,
                                    endpoint_version: row.get("endpoint_version")?,
                                })
                            },
                        )?;
                        rows.map(|row| row?.into_claimed())
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .await?
            }
            EntryPath::Postgres(entries) => {
                let rows: Vec<ClaimedRow> = sqlx::query_as(POSTGRES_CLAIM)
                    .bind(now)
                    .bind(lease_until)
                    .bind(limit)
                    .bind(per_endpoint)
                    .bind(in_flight)
                    .bind(candidates)
                    .bind(rounds)
                    .fetch_all(entries.pool())
                    .await?;
                rows.into_iter()
                    .map(ClaimedRow::into_claimed)
                    .collect::<Result<_, _>>()?
            }
        };
        claimed.sort_by_key(|delivery| (delivery.due_at, delivery.id));
        Ok(claimed)
    }

    /// Gives up the leases of `deliveries` claimed (or handed off) but not sent, so they are
    /// due again at once. On SQLite through the entry writer, like every queue write.
    pub async fn release_leases(&self, deliveries: &[ClaimedDelivery]) -> Result<(), StoreError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        match self.entry_path() {
            EntryPath::Sqlite(writer) => {
                let leases: Vec<(i64, i64)> = deliveries
                    .iter()
                    .map(|delivery| (delivery.id, delivery.lease_until))
                    .collect();
                writer
                    .write(move |tx| {
                        let mut statement = tx.tx.prepare_cached(RELEASE_LEASE)?;
                        for (id, lease_until) in leases {
                            statement.execute(rusqlite::params![id, lease_until])?;
                        }
                        Ok(())
                    })
                    .await
            }
            EntryPath::Postgres(entries) => {
                let mut tx = entries.pool().begin_write().await?;
                for delivery in deliveries {
                    sqlx::query(RELEASE_LEASE)
                        .bind(delivery.id)
                        .bind(delivery.lease_until)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }
    }

    /// Records tries and what follows from each, releases their leases, and keeps each
    /// endpoint's run of consecutive failures, all in one transaction (one commit for a whole
    /// batch of sends). An endpoint is disabled when an attempt asks for it
    /// ([`FinishedAttempt::disable_endpoint`]), or when its run reaches `rule`. Attempts are
    /// applied in the order given.
    pub async fn record_attempts(
        &self,
        attempts: &[FinishedAttempt<'_>],
        rule: DisableRule,
        now: i64,
    ) -> Result<Recorded, StoreError> {
        if attempts.is_empty() {
            return Ok(Recorded::default());
        }
        let rows: Vec<AttemptRow> = attempts
            .iter()
            .map(|attempt| AttemptRow {
                delivery_id: attempt.delivery.id,
                endpoint_id: attempt.delivery.endpoint_id,
                lease_until: attempt.delivery.lease_until,
                outcome: attempt.outcome.clone(),
                next: attempt.next,
                disable_endpoint: attempt.disable_endpoint,
            })
            .collect();
        match self.entry_path() {
            EntryPath::Sqlite(writer) => {
                writer
                    .write(move |tx| run_ready(record_attempt_rows(tx, &rows, rule, now)))
                    .await
            }
            EntryPath::Postgres(entries) => {
                let mut tx = PgWriteTx::begin(entries).await?;
                let recorded = record_attempt_rows(&mut tx, &rows, rule, now).await?;
                tx.commit().await?;
                Ok(recorded)
            }
        }
    }

    /// Whether any delivery could be claimed at `now`: pending, due, not leased, to an
    /// enabled endpoint (strict ordering aside: the claim decides that).
    async fn any_claimable(&self, now: i64) -> Result<bool, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query_scalar(
                "SELECT EXISTS (
                     SELECT 1 FROM deliveries d JOIN endpoints ep ON ep.id = d.endpoint_id
                     WHERE d.status = 'pending' AND d.next_attempt_at <= $1
                       AND (d.lease_until IS NULL OR d.lease_until <= $1) AND ep.enabled
                 )",
            )
            .bind(now)
            .fetch_one(pool)
            .await?
        }))
    }

    /// When the next pending delivery falls due (or its lease runs out) or the next held one
    /// is to be settled, if any is pending or held. Under strict ordering only the head of an
    /// endpoint's queue counts: the rest wait for it, not for their own time.
    pub async fn next_due_at(&self) -> Result<Option<i64>, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query_scalar(
                "SELECT MIN(CASE WHEN d.lease_until IS NOT NULL AND d.lease_until > d.next_attempt_at
                                 THEN d.lease_until ELSE d.next_attempt_at END)
                 FROM deliveries d JOIN endpoints ep ON ep.id = d.endpoint_id
                 WHERE d.status IN ('pending', 'held') AND ep.enabled
                   AND (d.status = 'held' OR NOT ep.strict_order OR d.id = (
                       SELECT MIN(h.id) FROM deliveries h WHERE h.endpoint_id = d.endpoint_id AND h.status = 'pending'
                   ))",
            )
            .fetch_one(pool)
            .await?
        }))
    }
}

/// How many deliveries an endpoint may have claimed at once (parameters: ?4 the server's
/// per-endpoint concurrency, ?7 rounds claimed ahead): one request's worth under strict
/// ordering; else its concurrency × rounds × deliveries per request, and no more than ten
/// seconds of its rate limit.
macro_rules! endpoint_cap {
    ($per_endpoint:literal, $rounds:literal) => {
        concat!(
            "CASE WHEN ep.strict_order THEN ep.batch_max
                  WHEN ep.rate_limit_per_second IS NOT NULL
                       AND ep.rate_limit_per_second * 10 < COALESCE(ep.max_concurrency, ",
            $per_endpoint,
            ") * ",
            $rounds,
            "
                  THEN ep.rate_limit_per_second * 10 * ep.batch_max
                  ELSE COALESCE(ep.max_concurrency, ",
            $per_endpoint,
            ") * ",
            $rounds,
            " * ep.batch_max END"
        )
    };
}

/// The claim on SQLite: `json_each` reads the in-flight counts; the writer thread is the only
/// writer, so no row locks are needed. Parameters: now, lease until, limit, per-endpoint
/// concurrency, in-flight JSON (`{"endpoint id": n}`), candidates, rounds.
///
/// Under strict ordering a delivery is taken only if every earlier pending delivery of its
/// endpoint is taken with it (is among the candidates, so due and not leased) and nothing of
/// the endpoint is in flight: the claimed ones are the head of its queue, in order.
const SQLITE_CLAIM: &str = concat!(
    "UPDATE deliveries SET lease_until = ?2
     WHERE id IN (
         WITH busy AS (
             SELECT CAST(key AS INTEGER) AS endpoint_id, value AS n FROM json_each(?5)
         ),
         due AS (
             SELECT d.id, d.endpoint_id, d.next_attempt_at, ep.strict_order,
                    CASE WHEN ep.strict_order THEN 0 ELSE d.next_attempt_at END AS order_key,
                    ", endpoint_cap!("?4", "?7"), " AS cap,
                    COALESCE(busy.n, 0) AS busy
             FROM deliveries d JOIN endpoints ep ON ep.id = d.endpoint_id
                  LEFT JOIN busy ON busy.endpoint_id = d.endpoint_id
             WHERE d.status = 'pending' AND d.next_attempt_at <= ?1
               AND (d.lease_until IS NULL OR d.lease_until <= ?1) AND ep.enabled
               AND COALESCE(busy.n, 0) < ", endpoint_cap!("?4", "?7"), "
             ORDER BY d.next_attempt_at, d.id
             LIMIT ?6
         ),
         ranked AS (
             SELECT due.*, ROW_NUMBER() OVER (PARTITION BY due.endpoint_id ORDER BY due.order_key, due.id) AS rank
             FROM due
         )
         SELECT ranked.id FROM ranked
         WHERE ranked.rank + ranked.busy <= ranked.cap
           AND (NOT ranked.strict_order OR (ranked.busy = 0 AND NOT EXISTS (
               SELECT 1 FROM deliveries e
               WHERE e.endpoint_id = ranked.endpoint_id AND e.status = 'pending' AND e.id < ranked.id
                 AND e.id NOT IN (SELECT id FROM due)
           )))
         ORDER BY ranked.next_attempt_at, ranked.id
         LIMIT ?3
     )
     RETURNING id, webhook_id, endpoint_id, event_type, body, n_attempts, lease_until, next_attempt_at,
               (SELECT ep.version FROM endpoints ep WHERE ep.id = deliveries.endpoint_id) AS endpoint_version"
);

/// The claim on PostgreSQL, with the same parameters: candidates are locked with `SKIP
/// LOCKED`, so concurrent claims (other processes) take different rows, and the lease is set
/// before the statement's row locks are released at its commit. Under strict ordering an
/// earlier delivery another process has locked is not among the candidates, so nothing after
/// it is taken either.
const POSTGRES_CLAIM: &str = concat!(
    "WITH candidates AS (
         SELECT d.id, d.endpoint_id, d.next_attempt_at
         FROM deliveries d JOIN endpoints ep ON ep.id = d.endpoint_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= $1
           AND (d.lease_until IS NULL OR d.lease_until <= $1) AND ep.enabled
         ORDER BY d.next_attempt_at, d.id
         LIMIT $6
         FOR UPDATE OF d SKIP LOCKED
     ),
     busy AS (
         SELECT key::BIGINT AS endpoint_id, value::BIGINT AS n FROM jsonb_each_text($5::jsonb)
     ),
     ranked AS (
         SELECT c.id, c.endpoint_id, c.next_attempt_at, ep.strict_order, COALESCE(busy.n, 0) AS busy,
                ", endpoint_cap!("$4", "$7"), " AS cap,
                ROW_NUMBER() OVER (PARTITION BY c.endpoint_id
                                   ORDER BY CASE WHEN ep.strict_order THEN 0 ELSE c.next_attempt_at END, c.id) AS rank
         FROM candidates c JOIN endpoints ep ON ep.id = c.endpoint_id
              LEFT JOIN busy ON busy.endpoint_id = c.endpoint_id
     ),
     chosen AS (
         SELECT r.id FROM ranked r
         WHERE r.rank + r.busy <= r.cap
           AND (NOT r.strict_order OR (r.busy = 0 AND NOT EXISTS (
               SELECT 1 FROM deliveries e
               WHERE e.endpoint_id = r.endpoint_id AND e.status = 'pending' AND e.id < r.id
                 AND e.id NOT IN (SELECT id FROM candidates)
           )))
         ORDER BY r.next_attempt_at, r.id LIMIT $3
     )
     UPDATE deliveries d SET lease_until = $2
     FROM chosen, endpoints ep
     WHERE d.id = chosen.id AND ep.id = d.endpoint_id
     RETURNING d.id, d.webhook_id, d.endpoint_id, d.event_type, d.body, d.n_attempts, d.lease_until,
               d.next_attempt_at, ep.version AS endpoint_version"
);

/// A claimed delivery as read.
#[derive(Debug, sqlx::FromRow)]
struct ClaimedRow {
    id: i64,
    webhook_id: String,
    endpoint_id: i64,
    event_type: String,
    body: String,
    n_attempts: i64,
    lease_until: i64,
    next_attempt_at: i64,
    endpoint_version: i64,
}

impl ClaimedRow {
    fn into_claimed(self) -> Result<ClaimedDelivery, StoreError> {
        Ok(ClaimedDelivery {
            id: self.id,
            webhook_id: parse_column("webhook_id", self.webhook_id, MessageId::parse)?,
            endpoint_id: self.endpoint_id,
            event_type: self.event_type,
            body: self.body,
            n_attempts: to_u32("n_attempts", self.n_attempts)?,
            lease_until: self.lease_until,
            due_at: self.next_attempt_at,
            endpoint_version: self.endpoint_version,
        })
    }
}

/// An attempt to record, owned, to be moved to the writer thread.
#[derive(Debug)]
struct AttemptRow {
    delivery_id: i64,
    endpoint_id: i64,
    lease_until: i64,
    outcome: AttemptOutcome,
    next: DeliveryNext,
    disable_endpoint: Option<DisabledReason>,
}

/// What [`record_attempt_rows`] writes, one implementation per database over the same SQL
/// (placeholders in order of first appearance, as in `entries::sql`).
#[allow(async_fn_in_trait)]
trait AttemptWrites {
    async fn insert_attempts(&mut self, rows: &[AttemptRow]) -> Result<(), StoreError>;
    /// Applies each row's change where the lease is still the one it was sent under; the
    /// ids of the deliveries whose lease was no longer theirs.
    async fn update_deliveries(&mut self, rows: &[AttemptRow]) -> Result<Vec<i64>, StoreError>;
    async fn extend_run(&mut self, endpoint_id: i64, run: &FailureRun) -> Result<(), StoreError>;
    /// Disables the endpoint if `reason` allows it now; what it was, if it was.
    async fn disable(
        &mut self,
        endpoint_id: i64,
        reason: DisabledReason,
        rule: DisableRule,
        now: i64,
    ) -> Result<Option<DisabledRow>, StoreError>;
}

/// A delivery's new status after a try.
#[derive(Debug, Clone, Copy)]
struct DeliveryChange {
    status: &'static str,
    next_attempt_at: Option<i64>,
    delivered_at: Option<i64>,
}

impl DeliveryChange {
    fn after(next: DeliveryNext) -> Self {
        match next {
            DeliveryNext::Delivered { at } => Self {
                status: "delivered",
                next_attempt_at: None,
                delivered_at: Some(at),
            },
            DeliveryNext::RetryAt(at) => Self {
                status: "pending",
                next_attempt_at: Some(at),
                delivered_at: None,
            },
            DeliveryNext::GiveUp => Self {
                status: "failed",
                next_attempt_at: None,
                delivered_at: None,
            },
        }
    }
}

/// An endpoint as [`AttemptWrites::disable`] left it.
#[derive(Debug, sqlx::FromRow)]
struct DisabledRow {
    public_id: String,
    url: String,
    n_consecutive_failures: i64,
    failing_since: Option<i64>,
}

pub(super) mod attempt_sql {
    pub const INSERT: &str = "INSERT INTO attempts (delivery_id, started_at, status_code, latency_ms, error_kind, response_snippet,
                               request, batch_size, batch_delivery_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    pub const UPDATE_DELIVERY: &str = "UPDATE deliveries SET
             status = $1,
             n_attempts = n_attempts + 1,
             next_attempt_at = COALESCE($2, next_attempt_at),
             delivered_at = $3,
             lease_until = NULL
         WHERE id = $4 AND lease_until = $5";
    /// Parameters: reset, failures, first failure at, endpoint id.
    pub const EXTEND_RUN: &str = "UPDATE endpoints SET
             n_consecutive_failures = CASE WHEN $1 THEN $2 ELSE n_consecutive_failures + $2 END,
             failing_since = CASE WHEN $1 THEN $3 ELSE COALESCE(failing_since, $3) END
         WHERE id = $4 AND NOT ($1 AND $2 = 0 AND n_consecutive_failures = 0)";
    /// `failing` only once the run is long enough in both count and time. Parameters:
    /// reason, now, endpoint id, failures, milliseconds.
    pub const DISABLE: &str = "UPDATE endpoints SET enabled = FALSE, disabled_reason = $1, disabled_at = $2, updated_at = $2
         WHERE id = $3 AND enabled
           AND ($1 <> 'failing' OR (n_consecutive_failures >= $4 AND failing_since <= $2 - $5))
         RETURNING public_id, url, n_consecutive_failures, failing_since";

    /// Every statement above, for the test of their placeholders.
    #[cfg(test)]
    pub fn all() -> Vec<&'static str> {
        vec![INSERT, UPDATE_DELIVERY, EXTEND_RUN, DISABLE]
    }
}

impl AttemptWrites for WriteTx<'_, '_> {
    async fn insert_attempts(&mut self, rows: &[AttemptRow]) -> Result<(), StoreError> {
        let mut statement = self.tx.prepare_cached(attempt_sql::INSERT)?;
        for row in rows {
            let outcome = &row.outcome;
            statement.execute(rusqlite::params![
                row.delivery_id,
                outcome.started_at,
                outcome.status_code.map(i64::from),
                outcome.latency_ms,
                outcome.error_kind,
                outcome.response_snippet,
                outcome.request,
                i64::from(outcome.batch_size),
                outcome.batch_delivery_id,
            ])?;
        }
        Ok(())
    }

    async fn update_deliveries(&mut self, rows: &[AttemptRow]) -> Result<Vec<i64>, StoreError> {
        let mut statement = self.tx.prepare_cached(attempt_sql::UPDATE_DELIVERY)?;
        let mut lease_lost = Vec::new();
        for row in rows {
            let change = DeliveryChange::after(row.next);
            let updated = statement.execute(rusqlite::params![
                change.status,
                change.next_attempt_at,
                change.delivered_at,
                row.delivery_id,
                row.lease_until,
            ])?;
            if updated != 1 {
                lease_lost.push(row.delivery_id);
            }
        }
        Ok(lease_lost)
    }

    async fn extend_run(&mut self, endpoint_id: i64, run: &FailureRun) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(attempt_sql::EXTEND_RUN)?
            .execute(rusqlite::params![
                run.reset,
                i64::from(run.n_failures),
                run.first_failure_at,
                endpoint_id,
            ])?;
        Ok(())
    }

    async fn disable(
        &mut self,
        endpoint_id: i64,
        reason: DisabledReason,
        rule: DisableRule,
        now: i64,
    ) -> Result<Option<DisabledRow>, StoreError> {
        Ok(self
            .tx
            .prepare_cached(attempt_sql::DISABLE)?
            .query_row(
                rusqlite::params![
                    reason.as_str(),
                    now,
                    endpoint_id,
                    i64::from(rule.after_failures),
                    rule.after_ms,
                ],
                |row| {
                    Ok(DisabledRow {
                        public_id: row.get("public_id")?,
                        url: row.get("url")?,
                        n_consecutive_failures: row.get("n_consecutive_failures")?,
                        failing_since: row.get("failing_since")?,
                    })
                },
            )
            .optional()?)
    }
}

/// Attempts recorded on PostgreSQL: each batch in two statements over arrays, not two round
/// trips per attempt.
impl AttemptWrites for PgWriteTx {
    async fn insert_attempts(&mut self, rows: &[AttemptRow]) -> Result<(), StoreError> {
        let column = |value: fn(&AttemptRow) -> Option<i64>| -> Vec<Option<i64>> {
            rows.iter().map(value).collect()
        };
        sqlx::query(
            "INSERT INTO attempts (delivery_id, started_at, status_code, latency_ms, error_kind,
                                   response_snippet, request, batch_size, batch_delivery_id)
             SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BIGINT[], $4::BIGINT[], $5::TEXT[],
                                  $6::TEXT[], $7::TEXT[], $8::BIGINT[], $9::BIGINT[])",
        )
        .bind(column(|row| Some(row.delivery_id)))
        .bind(column(|row| Some(row.outcome.started_at)))
        .bind(column(|row| row.outcome.status_code.map(i64::from)))
        .bind(column(|row| Some(row.outcome.latency_ms)))
        .bind(
            rows.iter()
                .map(|row| row.outcome.error_kind)
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|row| row.outcome.response_snippet.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|row| row.outcome.request.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(column(|row| Some(i64::from(row.outcome.batch_size))))
        .bind(column(|row| row.outcome.batch_delivery_id))
        .execute(self.connection())
        .await?;
        Ok(())
    }

    async fn update_deliveries(&mut self, rows: &[AttemptRow]) -> Result<Vec<i64>, StoreError> {
        let changes: Vec<DeliveryChange> = rows
            .iter()
            .map(|row| DeliveryChange::after(row.next))
            .collect();
        let updated: HashSet<i64> = sqlx::query_scalar(
            "UPDATE deliveries d SET
                 status = u.status,
                 n_attempts = d.n_attempts + 1,
                 next_attempt_at = COALESCE(u.next_attempt_at, d.next_attempt_at),
                 delivered_at = u.delivered_at,
                 lease_until = NULL
             FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::BIGINT[], $4::BIGINT[], $5::BIGINT[])
                  AS u (status, next_attempt_at, delivered_at, id, lease_until)
             WHERE d.id = u.id AND d.lease_until = u.lease_until
             RETURNING d.id",
        )
        .bind(
            changes
                .iter()
                .map(|change| change.status)
                .collect::<Vec<_>>(),
        )
        .bind(
            changes
                .iter()
                .map(|change| change.next_attempt_at)
                .collect::<Vec<_>>(),
        )
        .bind(
            changes
                .iter()
                .map(|change| change.delivered_at)
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|row| row.delivery_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|row| row.lease_until).collect::<Vec<_>>())
        .fetch_all(self.connection())
        .await?
        .into_iter()
        .collect();
        Ok(rows
            .iter()
            .map(|row| row.delivery_id)
            .filter(|id| !updated.contains(id))
            .collect())
    }

    async fn extend_run(&mut self, endpoint_id: i64, run: &FailureRun) -> Result<(), StoreError> {
        sqlx::query(attempt_sql::EXTEND_RUN)
            .bind(run.reset)
            .bind(i64::from(run.n_failures))
            .bind(run.first_failure_at)
            .bind(endpoint_id)
            .execute(self.connection())
            .await?;
        Ok(())
    }

    async fn disable(
        &mut self,
        endpoint_id: i64,
        reason: DisabledReason,
        rule: DisableRule,
        now: i64,
    ) -> Result<Option<DisabledRow>, StoreError> {
        Ok(sqlx::query_as(attempt_sql::DISABLE)
            .bind(reason.as_str())
            .bind(now)
            .bind(endpoint_id)
            .bind(i64::from(rule.after_failures))
            .bind(rule.after_ms)
            .fetch_optional(self.connection())
            .await?)
    }
}

async fn record_attempt_rows(
    tx: &mut impl AttemptWrites,
    rows: &[AttemptRow],
    rule: DisableRule,
    now: i64,
) -> Result<Recorded, StoreError> {
    let mut recorded = Recorded::default();
    let mut runs: Vec<(i64, FailureRun)> = Vec::new();
    let mut to_disable: Vec<(i64, DisabledReason)> = Vec::new();
    tx.insert_attempts(rows).await?;
    recorded.lease_lost = tx.update_deliveries(rows).await?;
    for row in rows {
        let index = match runs.iter().position(|(id, _)| *id == row.endpoint_id) {
            Some(index) => index,
            None => {
                runs.push((row.endpoint_id, FailureRun::default()));
                runs.len() - 1
            }
        };
        let run = &mut runs[index].1;
        if matches!(row.next, DeliveryNext::Delivered { .. }) {
            *run = FailureRun {
                reset: true,
                ..FailureRun::default()
            };
        } else {
            run.n_failures += 1;
            run.first_failure_at.get_or_insert(row.outcome.started_at);
        }
        if let Some(reason) = row.disable_endpoint {
            to_disable.push((row.endpoint_id, reason));
        }
    }
    for (endpoint_id, run) in &runs {
        tx.extend_run(*endpoint_id, run).await?;
        if run.n_failures > 0 {
            to_disable.push((*endpoint_id, DisabledReason::Failing));
        }
    }
    for (endpoint_id, reason) in to_disable {
        if let Some(disabled) = tx.disable(endpoint_id, reason, rule, now).await? {
            recorded.disabled.push(DisabledEndpoint {
                endpoint_id,
                public_id: parse_column("public_id", disabled.public_id, EndpointId::parse)?,
                url: disabled.url,
                reason,
                n_consecutive_failures: to_u32(
                    "n_consecutive_failures",
                    disabled.n_consecutive_failures,
                )?,
                failing_since: disabled.failing_since,
            });
        }
    }
    Ok(recorded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(id: i64) -> ClaimedDelivery {
        ClaimedDelivery {
            id,
            webhook_id: MessageId::from_suffix(&format!("d{id}")),
            endpoint_id: 1,
            event_type: "entry.created".into(),
            body: "{}".into(),
            n_attempts: 0,
            lease_until: 1_005,
            due_at: 5,
            endpoint_version: 0,
        }
    }

    fn registered(handoff: &Handoff) -> HandedOff {
        let (sender, receiver) = mpsc::unbounded_channel();
        let busy = Arc::new(BusyEndpoints::default());
        *handoff.dispatcher.lock().expect("not poisoned") = Some(Arc::new(Dispatcher {
            lease_ms: 1_000,
            sender,
            busy: Arc::clone(&busy),
        }));
        HandedOff { receiver, busy }
    }

    #[test]
    fn without_a_dispatcher_nothing_is_leased() {
        let leases = Handoff::default().leases();
        assert_eq!(leases.lease_until(1, 5), None);
        assert!(leases.hand_off().is_empty());
    }

    #[test]
    fn leases_follow_the_entries_savepoints_and_go_at_the_commit() {
        let handoff = Handoff::default();
        let mut handed_off = registered(&handoff);
        let mut leases = handoff.leases();
        assert_eq!(leases.lease_until(1, 5), Some(1_005));
        handed_off.busy().set(1, true);
        assert_eq!(leases.lease_until(1, 5), None, "no room for endpoint 1");
        assert_eq!(leases.lease_until(2, 5), Some(1_005));
        handed_off.busy().set(1, false);
        handed_off.busy().set_all(true);
        assert_eq!(leases.lease_until(2, 5), None, "no room at all");
        handed_off.busy().set_all(false);

        leases.savepoint();
        leases.leased(delivery(1));
        leases.savepoint();
        leases.leased(delivery(2));
        // The second entry failed: its delivery was never written.
        leases.rollback_to_savepoint();
        leases.savepoint();
        leases.leased(delivery(3));
        assert!(leases.hand_off().is_empty(), "all handed off");
        let got: Vec<i64> = handed_off
            .receiver
            .try_recv()
            .expect("one commit's deliveries were handed off")
            .iter()
            .map(|delivery| delivery.id)
            .collect();
        assert_eq!(got, [1, 3]);
    }

    #[test]
    fn a_stopped_dispatcher_gets_nothing_and_what_it_missed_comes_back() {
        let handoff = Handoff::default();
        let mut handed_off = registered(&handoff);
        let mut before = handoff.leases();
        before.leased(delivery(1));
        let mut during = handoff.leases();
        during.leased(delivery(2));
        assert!(before.hand_off().is_empty());
        let left: Vec<i64> = handed_off.close().iter().map(|d| d.id).collect();
        assert_eq!(left, [1], "handed off but not received: to release");
        let unsent: Vec<i64> = during.hand_off().iter().map(|d| d.id).collect();
        assert_eq!(unsent, [2], "leased as it stopped: to release");
        assert_eq!(handoff.leases().lease_until(1, 5), None);
    }
}
