//! The delivery history a workspace sees: its deliveries with their latest outcome, each
//! delivery's attempts with the request they sent, and manual retries.

use super::{Store, StoreError, to_u32, with_pool};

/// Which of its deliveries a workspace lists.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub endpoint_id: Option<i64>,
    pub event_type: Option<String>,
    pub entry_id: Option<i64>,
    /// Made by this job (row id).
    pub job_id: Option<i64>,
    /// `delivered`, `failed` (given up or cancelled) or `pending` (pending or held).
    pub outcome: Option<String>,
    /// Created at or after (unix ms).
    pub since: Option<i64>,
    /// Created before (unix ms).
    pub until: Option<i64>,
    /// Row ids below this (the cursor).
    pub before: Option<i64>,
}

/// A delivery as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryRecord {
    pub id: i64,
    pub webhook_id: String,
    pub endpoint_public_id: String,
    pub event_type: String,
    pub entry_id: Option<i64>,
    pub status: String,
    pub n_attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
    pub last_status_code: Option<i64>,
    pub last_error_kind: Option<String>,
    /// `job_…` of the job that made it, if one did.
    pub job_public_id: Option<String>,
}

/// One attempt, with the request it sent (found on the batch's first delivery for a batch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub id: i64,
    pub started_at: i64,
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    pub error_kind: Option<String>,
    pub response_snippet: String,
    pub request: Option<String>,
    pub batch_size: u32,
}

/// A receiver's latest answer to one delivery of an entry, for the entry's page.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EntryAnswerRow {
    pub entry_id: i64,
    pub endpoint_name: String,
    pub event_type: String,
    pub n_attempts: i64,
    pub last_status_code: Option<i64>,
}

macro_rules! delivery_columns {
    () => {
        "d.id, d.webhook_id, ep.public_id AS endpoint_public_id, d.event_type, d.entry_id, d.status,
         d.n_attempts, d.next_attempt_at, d.created_at, d.delivered_at,
         (SELECT a.status_code FROM attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1) AS last_status_code,
         (SELECT a.error_kind FROM attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1) AS last_error_kind,
         j.public_id AS job_public_id
         FROM deliveries d JOIN endpoints ep ON ep.id = d.endpoint_id LEFT JOIN jobs j ON j.id = d.job_id "
    };
}

impl Store {
    /// Up to `limit` of workspace `workspace_id`'s deliveries matching `filter`, newest first.
    pub async fn workspace_deliveries(
        &self,
        workspace_id: i64,
        filter: &DeliveryFilter,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!(
                "SELECT ", delivery_columns!(),
                "WHERE ep.workspace_id = $1 AND d.id < $2
                   AND ($3 IS NULL OR d.endpoint_id = $3)
                   AND ($4 IS NULL OR d.event_type = $4)
                   AND ($5 IS NULL OR d.entry_id = $5)
                   AND ($6 IS NULL
                        OR ($6 = 'delivered' AND d.status = 'delivered')
                        OR ($6 = 'failed' AND d.status IN ('failed', 'cancelled'))
                        OR ($6 = 'pending' AND d.status IN ('pending', 'held')))
                   AND ($7 IS NULL OR d.created_at >= $7)
                   AND ($8 IS NULL OR d.created_at < $8)
                   AND ($10 IS NULL OR d.job_id = $10)
                 ORDER BY d.id DESC LIMIT $9"
            ))
            .bind(workspace_id)
            .bind(filter.before.unwrap_or(i64::MAX))
            .bind(filter.endpoint_id)
            .bind(filter.event_type.as_deref())
            .bind(filter.entry_id)
            .bind(filter.outcome.as_deref())
            .bind(filter.since)
            .bind(filter.until)
            .bind(i64::from(limit))
            .bind(filter.job_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Delivery `id` of workspace `workspace_id`, with its frozen body.
    pub async fn workspace_delivery(
        &self,
        workspace_id: i64,
        id: i64,
    ) -> Result<Option<(DeliveryRecord, String)>, StoreError> {
        let found: Option<DeliveryRecord> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!("SELECT ", delivery_columns!(), "WHERE d.id = $1 AND ep.workspace_id = $2"))
                .bind(id)
                .bind(workspace_id)
                .fetch_optional(pool)
                .await?
        });
        let Some(delivery) = found else {
            return Ok(None);
        };
        let body: String = with_pool!(&self.pool, pool => {
            sqlx::query_scalar("SELECT body FROM deliveries WHERE id = $1")
                .bind(id)
                .fetch_one(pool)
                .await?
        });
        Ok(Some((delivery, body)))
    }

    /// The latest answer to every delivery of contestant `contestant_id`'s entries, oldest
    /// delivery first.
    pub async fn contestant_receiver_answers(
        &self,
        contestant_id: i64,
    ) -> Result<Vec<EntryAnswerRow>, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT d.entry_id, ep.name AS endpoint_name, d.event_type, d.n_attempts,
                        (SELECT a.status_code FROM attempts a WHERE a.delivery_id = d.id
                         ORDER BY a.id DESC LIMIT 1) AS last_status_code
                 FROM deliveries d JOIN entries e ON e.id = d.entry_id
                 JOIN endpoints ep ON ep.id = d.endpoint_id
                 WHERE e.contestant_id = $1 ORDER BY d.id",
            )
            .bind(contestant_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Delivery `id`'s attempts, oldest first.
    pub async fn delivery_attempts(&self, id: i64) -> Result<Vec<AttemptRecord>, StoreError> {
        type Row = (
            i64,
            i64,
            Option<i64>,
            i64,
            Option<String>,
            String,
            Option<String>,
            i64,
        );
        let rows: Vec<Row> = with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT a.id, a.started_at, a.status_code, a.latency_ms, a.error_kind, a.response_snippet,
                        COALESCE(a.request, (SELECT b.request FROM attempts b
                                             WHERE b.delivery_id = a.batch_delivery_id AND b.started_at = a.started_at
                                               AND b.request IS NOT NULL
                                             ORDER BY b.id LIMIT 1)) AS request,
                        a.batch_size
                 FROM attempts a WHERE a.delivery_id = $1 ORDER BY a.id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(
                |(id, started_at, status_code, latency_ms, error_kind, snippet, request, batch)| {
                    Ok(AttemptRecord {
                        id,
                        started_at,
                        status_code: status_code.and_then(|code| u16::try_from(code).ok()),
                        latency_ms,
                        error_kind,
                        response_snippet: snippet,
                        request,
                        batch_size: to_u32("batch_size", batch)?,
                    })
                },
            )
            .collect()
    }

    /// Makes delivery `id` of workspace `workspace_id` due at `now`, even if it was given up
    /// or cancelled; a delivered one is sent again. Its endpoint must not be deleted. `false`
    /// if there is no such delivery.
    pub async fn retry_delivery(
        &self,
        workspace_id: i64,
        id: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let updated = with_pool!(&self.pool, pool => {
            sqlx::query(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, lease_until = NULL
                 WHERE id = $2 AND endpoint_id IN (
                     SELECT id FROM endpoints WHERE workspace_id = $3 AND deleted_at IS NULL)",
            )
            .bind(now)
            .bind(id)
            .bind(workspace_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated > 0)
    }

    /// Makes every failed (given up) delivery of endpoint `endpoint_id` created at or after
    /// `since` due at `now`; how many.
    pub async fn retry_failed_deliveries(
        &self,
        endpoint_id: i64,
        since: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, lease_until = NULL
                 WHERE endpoint_id = $2 AND status = 'failed' AND created_at >= $3",
            )
            .bind(now)
            .bind(endpoint_id)
            .bind(since)
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }

    /// The webhook body most recently queued for entry `entry_id` of workspace
    /// `workspace_id`, if any delivery of it was made.
    pub async fn entry_webhook_body(
        &self,
        workspace_id: i64,
        entry_id: i64,
    ) -> Result<Option<String>, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query_scalar(
                "SELECT d.body FROM deliveries d JOIN entries e ON e.id = d.entry_id
                 JOIN campaigns c ON c.id = e.campaign_id
                 WHERE d.entry_id = $1 AND c.workspace_id = $2 ORDER BY d.id DESC LIMIT 1",
            )
            .bind(entry_id)
            .bind(workspace_id)
            .fetch_optional(pool)
            .await?
        }))
    }
}
