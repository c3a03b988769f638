//! The delivery queue: claiming due deliveries with a lease, and recording attempts.
//!
//! A claim sets `lease_until`; while it is in the future no other worker takes the delivery.
//! A worker that dies mid-send loses nothing: the lease runs out and the delivery is due again.

use protocol::ids::MessageId;
use sqlx::Row as _;

use super::campaigns::parse_column;
use super::{Store, StoreError, to_u32};

/// A delivery a worker holds the lease on, with what it needs to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub webhook_id: MessageId,
    pub event_type: String,
    pub body: String,
    /// Tries before this one.
    pub n_attempts: u32,
    /// The lease this worker holds; recording the attempt checks it is still ours.
    pub lease_until: i64,
    pub endpoint_url: String,
    pub endpoint_secret: String,
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

impl Store {
    /// Settles the held deliveries due at `now` by their entry's verdict as it stands now:
    /// `subscriber.created` is released unless the entry is disqualified (then it is
    /// cancelled), `entry.disqualified` is released only if it is (otherwise deleted: the
    /// event did not happen). Any other held event is released. One transaction, so a
    /// verdict is read once for all of an entry's held deliveries.
    pub async fn release_held_deliveries(&self, now: i64) -> Result<Released, StoreError> {
        let mut tx = self.pool.begin().await?;
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
    }

    /// Claims the delivery that has been due longest, if any, until `lease_until`.
    pub async fn claim_due_delivery(
        &self,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<ClaimedDelivery>, StoreError> {
        let claimed = sqlx::query(
            "UPDATE deliveries SET lease_until = $2
             WHERE id = (
                 SELECT d.id FROM deliveries d JOIN endpoints ep ON ep.id = d.endpoint_id
                 WHERE d.status = 'pending' AND d.next_attempt_at <= $1
                   AND (d.lease_until IS NULL OR d.lease_until <= $1) AND ep.enabled
                 ORDER BY d.next_attempt_at, d.id
                 LIMIT 1
             )
             RETURNING id, webhook_id, endpoint_id, event_type, body, n_attempts, lease_until",
        )
        .bind(now)
        .bind(lease_until)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = claimed else { return Ok(None) };
        let endpoint_id: i64 = row.try_get("endpoint_id")?;
        let endpoint = sqlx::query("SELECT url, secret FROM endpoints WHERE id = $1")
            .bind(endpoint_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(Some(ClaimedDelivery {
            id: row.try_get("id")?,
            webhook_id: parse_column("webhook_id", row.try_get("webhook_id")?, MessageId::parse)?,
            event_type: row.try_get("event_type")?,
            body: row.try_get("body")?,
            n_attempts: to_u32("n_attempts", row.try_get("n_attempts")?)?,
            lease_until: row.try_get("lease_until")?,
            endpoint_url: endpoint.try_get("url")?,
            endpoint_secret: endpoint.try_get("secret")?,
        }))
    }

    /// Records a try and what follows from it, and releases the lease. Returns false if the
    /// lease had been lost meanwhile (another worker took over): the attempt is still recorded.
    pub async fn record_attempt(
        &self,
        delivery: &ClaimedDelivery,
        outcome: &AttemptOutcome,
        next: DeliveryNext,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO attempts (delivery_id, started_at, status_code, latency_ms, error_kind, response_snippet)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(delivery.id)
        .bind(outcome.started_at)
        .bind(outcome.status_code.map(i64::from))
        .bind(outcome.latency_ms)
        .bind(outcome.error_kind)
        .bind(&outcome.response_snippet)
        .execute(&mut *tx)
        .await?;
        let (status, next_attempt_at, delivered_at) = match next {
            DeliveryNext::Delivered { at } => ("delivered", None, Some(at)),
            DeliveryNext::RetryAt(at) => ("pending", Some(at), None),
            DeliveryNext::GiveUp => ("failed", None, None),
        };
        let updated = sqlx::query(
            "UPDATE deliveries SET
                 status = $1,
                 n_attempts = n_attempts + 1,
                 next_attempt_at = COALESCE($2, next_attempt_at),
                 delivered_at = $3,
                 lease_until = NULL
             WHERE id = $4 AND lease_until = $5",
        )
        .bind(status)
        .bind(next_attempt_at)
        .bind(delivered_at)
        .bind(delivery.id)
        .bind(delivery.lease_until)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(updated.rows_affected() == 1)
    }

    /// When the next pending delivery falls due (or its lease runs out) or the next held one
    /// is to be settled, if any is pending or held.
    pub async fn next_due_at(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(CASE WHEN d.lease_until IS NOT NULL AND d.lease_until > d.next_attempt_at
                             THEN d.lease_until ELSE d.next_attempt_at END)
             FROM deliveries d JOIN endpoints ep ON ep.id = d.endpoint_id
             WHERE d.status IN ('pending', 'held') AND ep.enabled",
        )
        .fetch_one(&self.pool)
        .await?)
    }
}
