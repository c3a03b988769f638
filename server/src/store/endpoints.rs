//! Webhook endpoints.

use protocol::ids::EndpointId;
use protocol::payload::EventType;
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use super::campaigns::parse_column;
use super::{Store, StoreError};

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

impl Store {
    pub async fn managed_endpoint(
        &self,
        managed_by: &str,
    ) -> Result<Option<EndpointRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, public_id, url, secret, events, enabled FROM endpoints WHERE managed_by = $1",
        )
        .bind(managed_by)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(endpoint_from_row).transpose()
    }

    /// Creates or updates (and enables) the endpoint managed by `endpoint.managed_by`.
    pub async fn save_managed_endpoint(
        &self,
        endpoint: &ManagedEndpoint<'_>,
    ) -> Result<EndpointRecord, StoreError> {
        let events: Vec<&str> = endpoint.events.iter().map(|event| event.as_str()).collect();
        let events = serde_json::Value::from(events).to_string();
        let row = sqlx::query(
            "INSERT INTO endpoints (public_id, url, secret, events, enabled, managed_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, TRUE, $5, $6, $6)
             ON CONFLICT (managed_by) DO UPDATE SET
                 url = excluded.url,
                 secret = excluded.secret,
                 events = excluded.events,
                 enabled = TRUE,
                 updated_at = excluded.updated_at
             RETURNING id, public_id, url, secret, events, enabled",
        )
        .bind(endpoint.public_id.as_str())
        .bind(endpoint.url)
        .bind(endpoint.secret)
        .bind(events)
        .bind(endpoint.managed_by)
        .bind(endpoint.now)
        .fetch_one(&self.pool)
        .await?;
        endpoint_from_row(&row)
    }

    /// Disables the endpoint managed by `managed_by`, if there is one (its setting was removed).
    /// Its pending deliveries wait until it is enabled again.
    pub async fn disable_managed_endpoint(
        &self,
        managed_by: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE endpoints SET enabled = FALSE, updated_at = $1 WHERE managed_by = $2 AND enabled")
            .bind(now)
            .bind(managed_by)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn endpoint(&self, id: i64) -> Result<Option<EndpointRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, public_id, url, secret, events, enabled FROM endpoints WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(endpoint_from_row).transpose()
    }
}

fn endpoint_from_row(row: &SqliteRow) -> Result<EndpointRecord, StoreError> {
    let events: String = row.try_get("events")?;
    let names: Vec<String> = serde_json::from_str(&events).map_err(|_| StoreError::Corrupt {
        column: "events",
        value: events.clone(),
    })?;
    Ok(EndpointRecord {
        id: row.try_get("id")?,
        public_id: parse_column("public_id", row.try_get("public_id")?, EndpointId::parse)?,
        url: row.try_get("url")?,
        secret: row.try_get("secret")?,
        events: names
            .into_iter()
            .map(|name| parse_column("events", name, EventType::parse))
            .collect::<Result<_, _>>()?,
        enabled: row.try_get("enabled")?,
    })
}
