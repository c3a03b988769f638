//! Webhook endpoints, and their health as delivery left it: `enabled`, and when delivery
//! disabled one, why (`disabled_reason`) and when (`disabled_at`).

use super::campaigns::parse_column;
use super::{DisabledReason, Store, StoreError, to_u32, with_pool};
use protocol::ids::EndpointId;
use protocol::payload::EventType;

/// An endpoint as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointRecord {
    pub id: i64,
    pub public_id: EndpointId,
    pub url: String,
    /// `whsec_…`.
    pub secret: String,
    pub events: Vec<EventType>,
    pub enabled: bool,
    /// Why delivery disabled it, if it did (a removed setting leaves this empty).
    pub disabled_reason: Option<DisabledReason>,
    /// Unix milliseconds, when delivery disabled it.
    pub disabled_at: Option<i64>,
    /// Failed attempts since the last success.
    pub n_consecutive_failures: u32,
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

/// The columns [`EndpointRow`] reads.
macro_rules! endpoint_columns {
    () => {
        "id, public_id, url, secret, events, enabled, disabled_reason, disabled_at, n_consecutive_failures"
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
        let events: Vec<&str> = endpoint.events.iter().map(|event| event.as_str()).collect();
        let events = serde_json::Value::from(events).to_string();
        let sql = concat!(
            "INSERT INTO endpoints (public_id, url, secret, events, enabled, managed_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, TRUE, $5, $6, $6)
             ON CONFLICT (managed_by) DO UPDATE SET
                 url = excluded.url,
                 secret = excluded.secret,
                 events = excluded.events,
                 enabled = TRUE,
                 disabled_reason = NULL,
                 disabled_at = NULL,
                 n_consecutive_failures = 0,
                 failing_since = NULL,
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
            sqlx::query("UPDATE endpoints SET enabled = FALSE, updated_at = $1 WHERE managed_by = $2 AND enabled")
                .bind(now)
                .bind(managed_by)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn endpoint(&self, id: i64) -> Result<Option<EndpointRecord>, StoreError> {
        let row: Option<EndpointRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!("SELECT ", endpoint_columns!(), " FROM endpoints WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(EndpointRow::into_record).transpose()
    }
}

/// `endpoints` as read.
#[derive(Debug, sqlx::FromRow)]
struct EndpointRow {
    id: i64,
    public_id: String,
    url: String,
    secret: String,
    events: String,
    enabled: bool,
    disabled_reason: Option<String>,
    disabled_at: Option<i64>,
    n_consecutive_failures: i64,
}

impl EndpointRow {
    fn into_record(self) -> Result<EndpointRecord, StoreError> {
        let names: Vec<String> =
            serde_json::from_str(&self.events).map_err(|_| StoreError::Corrupt {
                column: "events",
                value: self.events.clone(),
            })?;
        Ok(EndpointRecord {
            id: self.id,
            public_id: parse_column("public_id", self.public_id, EndpointId::parse)?,
            url: self.url,
            secret: self.secret,
            events: names
                .into_iter()
                .map(|name| parse_column("events", name, EventType::parse))
                .collect::<Result<_, _>>()?,
            enabled: self.enabled,
            disabled_reason: self
                .disabled_reason
                .map(|reason| parse_column("disabled_reason", reason, DisabledReason::parse))
                .transpose()?,
            disabled_at: self.disabled_at,
            n_consecutive_failures: to_u32("n_consecutive_failures", self.n_consecutive_failures)?,
        })
    }
}
