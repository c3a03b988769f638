//! Webhook endpoints: the operator's (kept in step with the settings, `managed_by`) and the
//! ones people manage through the admin API (a workspace's, with their settings, soft
//! delete and secret rotation); and their health as delivery left it: `enabled`, and when
//! delivery disabled one, why (`disabled_reason`) and when (`disabled_at`).
//!
//! `enabled` is what ingest and the claims read. It is kept equal to: `active` (the person's
//! choice), not deleted, and not disabled by delivery. Every write here bumps `version`, so a
//! delivery worker holding an endpoint in memory knows to read it again.

use super::campaigns::parse_column;
use super::{BeginWrite, DisabledReason, Store, StoreError, to_u32, with_pool};
use protocol::ids::{CampaignKey, EndpointId};
use protocol::payload::EventType;

/// An endpoint as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointRecord {
    pub id: i64,
    pub public_id: EndpointId,
    /// `None`: an operator's endpoint (settings, demo), which takes every campaign.
    pub workspace_id: Option<i64>,
    pub managed_by: Option<String>,
    pub name: String,
    pub description: String,
    /// The URL template, as written (credentials included).
    pub url: String,
    /// The request settings' JSON (`outbound::EndpointSpec`); `None`: a JSON POST to `url`.
    pub spec: Option<String>,
    /// `whsec_…`.
    pub secret: String,
    /// The secret before the last rotation, and until when (unix ms) it also signs.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    pub events: Vec<EventType>,
    /// Row ids of the campaigns it takes; `None`: all.
    pub campaign_ids: Option<Vec<i64>>,
    /// The person's choice (status `active`).
    pub active: bool,
    /// Whether deliveries are queued and sent: active, not deleted, not disabled.
    pub enabled: bool,
    /// Why delivery disabled it, if it did (a removed setting leaves this empty).
    pub disabled_reason: Option<DisabledReason>,
    /// Unix milliseconds, when delivery disabled it.
    pub disabled_at: Option<i64>,
    /// Failed attempts since the last success.
    pub n_consecutive_failures: u32,
    pub auth_connector_id: Option<i64>,
    pub strict_order: bool,
    /// Seconds after each failure; `None`: the default schedule.
    pub retry_schedule: Option<Vec<u32>>,
    pub max_attempts: Option<u32>,
    pub rate_limit_per_second: Option<u32>,
    pub max_concurrency: Option<u32>,
    /// Deliveries per request: 1 without batching.
    pub batch_max: u32,
    /// The audience filter's JSON (`audience::Filter`); `None`: every event.
    pub audience: Option<String>,
    /// The data-source settings' JSON (`endpoints::DataSourceSettings`); `None`: not one.
    pub data_source: Option<String>,
    pub deleted_at: Option<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An endpoint the server keeps in step with its settings, found again by `managed_by`.
#[derive(Debug, Clone)]
pub struct ManagedEndpoint<'a> {
    /// `settings` or `demo`.
    pub managed_by: &'a str,
    /// Used only when the endpoint is created.
    pub public_id: &'a EndpointId,
    pub url: &'a str,
    pub secret: &'a str,
    pub events: &'a [EventType],
    pub now: i64,
}

/// A workspace endpoint's settings, as saved by the admin API (already checked).
#[derive(Debug, Clone)]
pub struct EndpointSettings<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub url: &'a str,
    pub spec: &'a str,
    pub events: &'a [EventType],
    pub campaign_ids: Option<&'a [i64]>,
    pub active: bool,
    pub auth_connector_id: Option<i64>,
    pub strict_order: bool,
    pub retry_schedule: Option<&'a [u32]>,
    pub max_attempts: Option<u32>,
    pub rate_limit_per_second: Option<u32>,
    pub max_concurrency: Option<u32>,
    pub batch_max: u32,
    pub audience: Option<&'a str>,
    pub data_source: Option<&'a str>,
}

/// What [`Store::endpoint_attempt_stats`] counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttemptStats {
    pub attempts: u64,
    pub successes: u64,
}

/// The columns [`EndpointRow`] reads.
macro_rules! endpoint_columns {
    () => {
        "id, public_id, workspace_id, managed_by, name, description, url, spec, secret,
         previous_secret, previous_secret_expires_at, events, campaign_ids, active, enabled,
         disabled_reason, disabled_at, n_consecutive_failures, auth_connector_id, strict_order,
         retry_schedule, max_attempts, rate_limit_per_second, max_concurrency, batch_max,
         audience, data_source, deleted_at, version, created_at, updated_at"
    };
}

impl Store {
    pub async fn managed_endpoint(
        &self,
        managed_by: &str,
    ) -> Result<Option<EndpointRecord>, StoreError> {
        let row: Option<EndpointRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!("SELECT ", endpoint_columns!(), " FROM endpoints WHERE managed_by = $1"))
                .bind(managed_by)
                .fetch_optional(pool)
                .await?
        });
        row.map(EndpointRow::into_record).transpose()
    }

    /// Creates or updates (and enables) the endpoint managed by `endpoint.managed_by`. The
    /// settings are the operator's word, so an endpoint delivery had disabled (see
    /// [`EndpointRecord::disabled_reason`]) is enabled again with a fresh failure count.
    pub async fn save_managed_endpoint(
        &self,
        endpoint: &ManagedEndpoint<'_>,
    ) -> Result<EndpointRecord, StoreError> {
        let events = events_json(endpoint.events);
        let sql = concat!(
            "INSERT INTO endpoints (public_id, url, secret, events, enabled, managed_by, name, created_at, updated_at)
             VALUES ($1, $2, $3, $4, TRUE, $5, $5, $6, $6)
             ON CONFLICT (managed_by) DO UPDATE SET
                 url = excluded.url,
                 secret = excluded.secret,
                 events = excluded.events,
                 enabled = TRUE,
                 active = TRUE,
                 disabled_reason = NULL,
                 disabled_at = NULL,
                 n_consecutive_failures = 0,
                 failing_since = NULL,
                 version = endpoints.version + 1,
                 updated_at = excluded.updated_at
             RETURNING ",
            endpoint_columns!()
        );
        let row: EndpointRow = with_pool!(&self.pool, pool => {
            sqlx::query_as(sql)
                .bind(endpoint.public_id.as_str())
                .bind(endpoint.url)
                .bind(endpoint.secret)
                .bind(&events)
                .bind(endpoint.managed_by)
                .bind(endpoint.now)
                .fetch_one(pool)
                .await?
        });
        row.into_record()
    }

    /// Disables the endpoint managed by `managed_by`, if there is one (its setting was removed).
    /// Its pending deliveries wait until it is enabled again.
    pub async fn disable_managed_endpoint(
        &self,
        managed_by: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        with_pool!(&self.pool, pool => {
            sqlx::query("UPDATE endpoints SET enabled = FALSE, active = FALSE, version = version + 1, updated_at = $1
                         WHERE managed_by = $2 AND enabled")
                .bind(now)
                .bind(managed_by)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Endpoint row `id`, whoever owns it (deleted ones too).
    pub async fn endpoint(&self, id: i64) -> Result<Option<EndpointRecord>, StoreError> {
        let row: Option<EndpointRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!("SELECT ", endpoint_columns!(), " FROM endpoints WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(EndpointRow::into_record).transpose()
    }

    /// Endpoint `public_id` if it belongs to workspace `workspace_id` (deleted ones too).
    pub async fn workspace_endpoint(
        &self,
        workspace_id: i64,
        public_id: &str,
    ) -> Result<Option<EndpointRecord>, StoreError> {
        let row: Option<EndpointRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!(
                "SELECT ", endpoint_columns!(), " FROM endpoints WHERE public_id = $1 AND workspace_id = $2"
            ))
            .bind(public_id)
            .bind(workspace_id)
            .fetch_optional(pool)
            .await?
        });
        row.map(EndpointRow::into_record).transpose()
    }

    /// Up to `limit` of the workspace's endpoints (the deleted ones if `deleted`), newest
    /// first, before row id `before`.
    pub async fn workspace_endpoints(
        &self,
        workspace_id: i64,
        deleted: bool,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<EndpointRecord>, StoreError> {
        let rows: Vec<EndpointRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!(
                "SELECT ", endpoint_columns!(),
                " FROM endpoints WHERE workspace_id = $1 AND (deleted_at IS NOT NULL) = $2 AND id < $3
                  ORDER BY id DESC LIMIT $4"
            ))
            .bind(workspace_id)
            .bind(deleted)
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(EndpointRow::into_record).collect()
    }

    /// Creates a workspace endpoint with signing secret `secret`.
    pub async fn insert_endpoint(
        &self,
        workspace_id: i64,
        public_id: &EndpointId,
        secret: &str,
        settings: &EndpointSettings<'_>,
        now: i64,
    ) -> Result<EndpointRecord, StoreError> {
        let sql = concat!(
            "INSERT INTO endpoints (public_id, workspace_id, secret, name, description, url, spec, events,
                                    campaign_ids, active, enabled, auth_connector_id, strict_order,
                                    retry_schedule, max_attempts, rate_limit_per_second, max_concurrency,
                                    batch_max, created_at, updated_at, audience, data_source)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18,
                     $19, $20)
             RETURNING ",
            endpoint_columns!()
        );
        let s = settings;
        let row: EndpointRow = with_pool!(&self.pool, pool => {
            sqlx::query_as(sql)
                .bind(public_id.as_str())
                .bind(workspace_id)
                .bind(secret)
                .bind(s.name)
                .bind(s.description)
                .bind(s.url)
                .bind(s.spec)
                .bind(events_json(s.events))
                .bind(s.campaign_ids.map(ids_json))
                .bind(s.active)
                .bind(s.auth_connector_id)
                .bind(s.strict_order)
                .bind(s.retry_schedule.map(numbers_json))
                .bind(s.max_attempts.map(i64::from))
                .bind(s.rate_limit_per_second.map(i64::from))
                .bind(s.max_concurrency.map(i64::from))
                .bind(i64::from(s.batch_max))
                .bind(now)
                .bind(s.audience)
                .bind(s.data_source)
                .fetch_one(pool)
                .await?
        });
        row.into_record()
    }

    /// Replaces workspace endpoint `id`'s settings. `reenable` (the person set it active)
    /// also ends a disabling by delivery and its failure count. `None` if there is no such
    /// endpoint (or it is deleted).
    pub async fn update_endpoint(
        &self,
        id: i64,
        settings: &EndpointSettings<'_>,
        reenable: bool,
        now: i64,
    ) -> Result<Option<EndpointRecord>, StoreError> {
        let sql = concat!(
            "UPDATE endpoints SET name = $1, description = $2, url = $3, spec = $4, events = $5,
                 campaign_ids = $6, active = $7, auth_connector_id = $8, strict_order = $9,
                 retry_schedule = $10, max_attempts = $11, rate_limit_per_second = $12,
                 max_concurrency = $13, batch_max = $14,
                 disabled_reason = CASE WHEN $15 THEN NULL ELSE disabled_reason END,
                 disabled_at = CASE WHEN $15 THEN NULL ELSE disabled_at END,
                 n_consecutive_failures = CASE WHEN $15 THEN 0 ELSE n_consecutive_failures END,
                 failing_since = CASE WHEN $15 THEN NULL ELSE failing_since END,
                 enabled = ($7 AND (CASE WHEN $15 THEN NULL ELSE disabled_reason END) IS NULL),
                 version = version + 1, updated_at = $16, audience = $18, data_source = $19
             WHERE id = $17 AND deleted_at IS NULL
             RETURNING ",
            endpoint_columns!()
        );
        let s = settings;
        let row: Option<EndpointRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(sql)
                .bind(s.name)
                .bind(s.description)
                .bind(s.url)
                .bind(s.spec)
                .bind(events_json(s.events))
                .bind(s.campaign_ids.map(ids_json))
                .bind(s.active)
                .bind(s.auth_connector_id)
                .bind(s.strict_order)
                .bind(s.retry_schedule.map(numbers_json))
                .bind(s.max_attempts.map(i64::from))
                .bind(s.rate_limit_per_second.map(i64::from))
                .bind(s.max_concurrency.map(i64::from))
                .bind(i64::from(s.batch_max))
                .bind(reenable)
                .bind(now)
                .bind(id)
                .bind(s.audience)
                .bind(s.data_source)
                .fetch_optional(pool)
                .await?
        });
        row.map(EndpointRow::into_record).transpose()
    }

    /// Soft-deletes endpoint `id`: it stops taking and sending deliveries, and its pending
    /// and held ones are cancelled (restoring it does not bring them back; `retry` can).
    /// Returns how many were cancelled, `None` if it was not there or already deleted.
    pub async fn delete_endpoint(&self, id: i64, now: i64) -> Result<Option<u64>, StoreError> {
        with_pool!(&self.pool, pool => {
            let mut tx = pool.begin_write().await?;
            let deleted = sqlx::query(
                "UPDATE endpoints SET deleted_at = $1, enabled = FALSE, version = version + 1, updated_at = $1
                 WHERE id = $2 AND deleted_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if deleted == 0 {
                return Ok(None);
            }
            let cancelled = sqlx::query(
                "UPDATE deliveries SET status = 'cancelled', lease_until = NULL
                 WHERE endpoint_id = $1 AND status IN ('pending', 'held')",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(Some(cancelled))
        })
    }

    /// Brings deleted endpoint `id` back as it was (enabled if it was active and not disabled
    /// by delivery). `None` if it was not deleted.
    pub async fn restore_endpoint(
        &self,
        id: i64,
        now: i64,
    ) -> Result<Option<EndpointRecord>, StoreError> {
        let row: Option<EndpointRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!(
                "UPDATE endpoints SET deleted_at = NULL, enabled = (active AND disabled_reason IS NULL),
                     version = version + 1, updated_at = $1
                 WHERE id = $2 AND deleted_at IS NOT NULL
                 RETURNING ", endpoint_columns!()
            ))
            .bind(now)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(EndpointRow::into_record).transpose()
    }

    /// Makes `secret` endpoint `id`'s signing secret; the one it had signs too until
    /// `previous_expires_at` (unix ms; `None` or the past: not at all).
    pub async fn rotate_endpoint_secret(
        &self,
        id: i64,
        secret: &str,
        previous_expires_at: Option<i64>,
        now: i64,
    ) -> Result<Option<EndpointRecord>, StoreError> {
        let row: Option<EndpointRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!(
                "UPDATE endpoints SET previous_secret = CASE WHEN $1 IS NULL THEN NULL ELSE secret END,
                     previous_secret_expires_at = $1, secret = $2, version = version + 1, updated_at = $3
                 WHERE id = $4 AND deleted_at IS NULL
                 RETURNING ", endpoint_columns!()
            ))
            .bind(previous_expires_at)
            .bind(secret)
            .bind(now)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(EndpointRow::into_record).transpose()
    }

    /// Every campaign of workspace `workspace_id`: row id and key.
    pub async fn workspace_campaign_keys(
        &self,
        workspace_id: i64,
    ) -> Result<Vec<(i64, CampaignKey)>, StoreError> {
        let rows: Vec<(i64, String)> = with_pool!(&self.pool, pool => {
            sqlx::query_as("SELECT id, campaign_key FROM campaigns WHERE workspace_id = $1 ORDER BY id")
                .bind(workspace_id)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|(id, key)| Ok((id, parse_column("campaign_key", key, CampaignKey::parse)?)))
            .collect()
    }

    /// Attempts to endpoint `id` started at or after `since`, and how many got a 2xx.
    pub async fn endpoint_attempt_stats(
        &self,
        id: i64,
        since: i64,
    ) -> Result<AttemptStats, StoreError> {
        let (attempts, successes): (i64, Option<i64>) = with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT COUNT(*), SUM(CASE WHEN a.status_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END)
                 FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
                 WHERE d.endpoint_id = $1 AND a.started_at >= $2",
            )
            .bind(id)
            .bind(since)
            .fetch_one(pool)
            .await?
        });
        Ok(AttemptStats {
            attempts: u64::try_from(attempts).unwrap_or(0),
            successes: u64::try_from(successes.unwrap_or(0)).unwrap_or(0),
        })
    }
}

fn events_json(events: &[EventType]) -> String {
    let names: Vec<&str> = events.iter().map(|event| event.as_str()).collect();
    serde_json::Value::from(names).to_string()
}

fn ids_json(ids: &[i64]) -> String {
    serde_json::Value::from(ids.to_vec()).to_string()
}

fn numbers_json(numbers: &[u32]) -> String {
    serde_json::Value::from(numbers.to_vec()).to_string()
}

/// A JSON array column read back.
pub(super) fn json_column<T: serde::de::DeserializeOwned>(
    column: &'static str,
    text: String,
) -> Result<T, StoreError> {
    serde_json::from_str(&text).map_err(|_| StoreError::Corrupt {
        column,
        value: text,
    })
}

fn optional_u32(column: &'static str, value: Option<i64>) -> Result<Option<u32>, StoreError> {
    value.map(|value| to_u32(column, value)).transpose()
}

/// `endpoints` as read.
#[derive(Debug, sqlx::FromRow)]
struct EndpointRow {
    id: i64,
    public_id: String,
    workspace_id: Option<i64>,
    managed_by: Option<String>,
    name: String,
    description: String,
    url: String,
    spec: Option<String>,
    secret: String,
    previous_secret: Option<String>,
    previous_secret_expires_at: Option<i64>,
    events: String,
    campaign_ids: Option<String>,
    active: bool,
    enabled: bool,
    disabled_reason: Option<String>,
    disabled_at: Option<i64>,
    n_consecutive_failures: i64,
    auth_connector_id: Option<i64>,
    strict_order: bool,
    retry_schedule: Option<String>,
    max_attempts: Option<i64>,
    rate_limit_per_second: Option<i64>,
    max_concurrency: Option<i64>,
    batch_max: i64,
    audience: Option<String>,
    data_source: Option<String>,
    deleted_at: Option<i64>,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl EndpointRow {
    fn into_record(self) -> Result<EndpointRecord, StoreError> {
        let names: Vec<String> = json_column("events", self.events)?;
        Ok(EndpointRecord {
            id: self.id,
            public_id: parse_column("public_id", self.public_id, EndpointId::parse)?,
            workspace_id: self.workspace_id,
            managed_by: self.managed_by,
            name: self.name,
            description: self.description,
            url: self.url,
            spec: self.spec,
            secret: self.secret,
            previous_secret: self.previous_secret,
            previous_secret_expires_at: self.previous_secret_expires_at,
            events: names
                .into_iter()
                .map(|name| parse_column("events", name, EventType::parse))
                .collect::<Result<_, _>>()?,
            campaign_ids: self
                .campaign_ids
                .map(|ids| json_column("campaign_ids", ids))
                .transpose()?,
            active: self.active,
            enabled: self.enabled,
            disabled_reason: self
                .disabled_reason
                .map(|reason| parse_column("disabled_reason", reason, DisabledReason::parse))
                .transpose()?,
            disabled_at: self.disabled_at,
            n_consecutive_failures: to_u32("n_consecutive_failures", self.n_consecutive_failures)?,
            auth_connector_id: self.auth_connector_id,
            strict_order: self.strict_order,
            retry_schedule: self
                .retry_schedule
                .map(|schedule| json_column("retry_schedule", schedule))
                .transpose()?,
            max_attempts: optional_u32("max_attempts", self.max_attempts)?,
            rate_limit_per_second: optional_u32(
                "rate_limit_per_second",
                self.rate_limit_per_second,
            )?,
            max_concurrency: optional_u32("max_concurrency", self.max_concurrency)?,
            batch_max: to_u32("batch_max", self.batch_max)?.max(1),
            audience: self.audience,
            data_source: self.data_source,
            deleted_at: self.deleted_at,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}
