//! Inbound streams and the conversions they receive, and the recent activity social proof
//! shows (conversions and entries).

use protocol::payload::EventType;

use super::campaigns::parse_json;
use super::entries::SubscribedEndpoint;
use super::{BeginWrite, Store, StoreError, with_pool};
use crate::audience::Filter;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRecord {
    pub id: i64,
    pub workspace_id: i64,
    pub public_id: String,
    pub name: String,
    pub stream_key: String,
    pub signing_secret: Option<String>,
    pub campaign_keys: Vec<String>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A stream to create, or what one becomes.
#[derive(Debug, Clone)]
pub struct NewStream<'a> {
    pub workspace_id: i64,
    pub public_id: &'a str,
    pub name: &'a str,
    pub stream_key: &'a str,
    pub signing_secret: Option<&'a str>,
    pub campaign_keys: &'a [String],
    pub enabled: bool,
    pub now: i64,
}

/// A conversion to store, its fields already parsed and checked.
#[derive(Debug, Clone)]
pub struct NewConversion {
    pub stream_id: i64,
    pub workspace_id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub occurred_at: i64,
    pub ip: Option<String>,
    pub guid: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub country_code: Option<String>,
    pub state: Option<String>,
    pub state_code: Option<String>,
    pub product_name: Option<String>,
    pub product_link: Option<String>,
    pub product_image: Option<String>,
    pub total: Option<String>,
    pub currency: Option<String>,
    pub products: serde_json::Value,
    pub raw: serde_json::Value,
    pub body_format: &'static str,
    /// The sender's `webhook-id`: the same one again is the same conversion.
    pub webhook_id: Option<String>,
    pub received_at: i64,
}

/// A conversion as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ConversionRow {
    pub id: i64,
    pub stream_id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub occurred_at: i64,
    pub ip: Option<String>,
    pub guid: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub country_code: Option<String>,
    pub state: Option<String>,
    pub state_code: Option<String>,
    pub product_name: Option<String>,
    pub product_link: Option<String>,
    pub product_image: Option<String>,
    pub total: Option<String>,
    pub currency: Option<String>,
    pub products: String,
    pub raw: String,
    pub received_at: i64,
}

/// Whether a conversion was stored now or had been before (same `webhook-id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Created(i64),
    Existing(i64),
}

/// A recent entry, for social proof: who (first name, last name) and when.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RecentEntry {
    pub id: i64,
    pub campaign_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub created_at: i64,
}

macro_rules! stream_columns {
    () => {
        "id, workspace_id, public_id, name, stream_key, signing_secret, campaign_keys, enabled, created_at, updated_at"
    };
}

macro_rules! conversion_columns {
    () => {
        "id, stream_id, email, first_name, last_name, occurred_at, ip, guid, city, country, country_code,
         state, state_code, product_name, product_link, product_image, total, currency, products, raw,
         received_at"
    };
}

impl Store {
    pub async fn insert_stream(&self, new: &NewStream<'_>) -> Result<StreamRecord, StoreError> {
        let keys = serde_json::Value::from(new.campaign_keys.to_vec()).to_string();
        let row: StreamRow = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!(
                "INSERT INTO streams (workspace_id, public_id, name, stream_key, signing_secret, campaign_keys,
                                      enabled, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
                 RETURNING ", stream_columns!()
            ))
            .bind(new.workspace_id)
            .bind(new.public_id)
            .bind(new.name)
            .bind(new.stream_key)
            .bind(new.signing_secret)
            .bind(&keys)
            .bind(new.enabled)
            .bind(new.now)
            .fetch_one(pool)
            .await?
        });
        row.into_record()
    }

    /// Rewrites stream `id`'s name, secret, campaigns and status from `changed`.
    pub async fn update_stream(&self, id: i64, changed: &NewStream<'_>) -> Result<(), StoreError> {
        let keys = serde_json::Value::from(changed.campaign_keys.to_vec()).to_string();
        with_pool!(&self.pool, pool => {
            sqlx::query(
                "UPDATE streams SET name = $1, signing_secret = $2, campaign_keys = $3, enabled = $4,
                        updated_at = $5
                 WHERE id = $6",
            )
            .bind(changed.name)
            .bind(changed.signing_secret)
            .bind(&keys)
            .bind(changed.enabled)
            .bind(changed.now)
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The workspace's streams (not the deleted ones), newest first.
    pub async fn workspace_streams(
        &self,
        workspace_id: i64,
    ) -> Result<Vec<StreamRecord>, StoreError> {
        let rows: Vec<StreamRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!(
                "SELECT ", stream_columns!(),
                " FROM streams WHERE workspace_id = $1 AND deleted_at IS NULL ORDER BY id DESC"
            ))
            .bind(workspace_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(StreamRow::into_record).collect()
    }

    pub async fn workspace_stream(
        &self,
        workspace_id: i64,
        public_id: &str,
    ) -> Result<Option<StreamRecord>, StoreError> {
        let row: Option<StreamRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!(
                "SELECT ", stream_columns!(),
                " FROM streams WHERE workspace_id = $1 AND public_id = $2 AND deleted_at IS NULL"
            ))
            .bind(workspace_id)
            .bind(public_id)
            .fetch_optional(pool)
            .await?
        });
        row.map(StreamRow::into_record).transpose()
    }

    pub async fn stream_by_id(&self, id: i64) -> Result<Option<StreamRecord>, StoreError> {
        let row: Option<StreamRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!("SELECT ", stream_columns!(), " FROM streams WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(StreamRow::into_record).transpose()
    }

    /// Deletes stream `id` (kept for its conversions, but its URL stops working).
    pub async fn delete_stream(&self, id: i64, now: i64) -> Result<(), StoreError> {
        with_pool!(&self.pool, pool => {
            sqlx::query("UPDATE streams SET deleted_at = $1, enabled = FALSE WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The stream whose URL carries `stream_key`, unless it was deleted (a disabled one is
    /// returned, so the caller can say it is off).
    pub async fn stream_by_key(
        &self,
        stream_key: &str,
    ) -> Result<Option<StreamRecord>, StoreError> {
        let row: Option<StreamRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!(
                "SELECT ", stream_columns!(),
                " FROM streams WHERE stream_key = $1 AND deleted_at IS NULL"
            ))
            .bind(stream_key)
            .fetch_optional(pool)
            .await?
        });
        row.map(StreamRow::into_record).transpose()
    }

    /// Stores a conversion and one `conversion.received` delivery per endpoint of its
    /// workspace (or of the operator) subscribed to it, in one transaction. `body` makes the
    /// frozen webhook body from the new conversion's id; `webhook_id` makes each delivery's
    /// `webhook-id`. A conversion whose sender's `webhook-id` was seen before is not stored
    /// again (nor its deliveries).
    pub async fn insert_conversion(
        &self,
        new: &NewConversion,
        body: impl Fn(i64) -> String,
        webhook_id: impl Fn() -> String,
    ) -> Result<Stored, StoreError> {
        with_pool!(&self.pool, pool => {
            let mut tx = pool.begin_write().await?;
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO conversions (stream_id, email, first_name, last_name, occurred_at, ip, guid, city,
                                          country, country_code, state, state_code, product_name, product_link,
                                          product_image, total, currency, products, raw, body_format, webhook_id,
                                          received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                         $20, $21, $22)
                 ON CONFLICT (stream_id, webhook_id) DO NOTHING
                 RETURNING id",
            )
            .bind(new.stream_id)
            .bind(&new.email)
            .bind(&new.first_name)
            .bind(&new.last_name)
            .bind(new.occurred_at)
            .bind(&new.ip)
            .bind(&new.guid)
            .bind(&new.city)
            .bind(&new.country)
            .bind(&new.country_code)
            .bind(&new.state)
            .bind(&new.state_code)
            .bind(&new.product_name)
            .bind(&new.product_link)
            .bind(&new.product_image)
            .bind(&new.total)
            .bind(&new.currency)
            .bind(new.products.to_string())
            .bind(new.raw.to_string())
            .bind(new.body_format)
            .bind(&new.webhook_id)
            .bind(new.received_at)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(id) = inserted else {
                let existing: i64 = sqlx::query_scalar(
                    "SELECT id FROM conversions WHERE stream_id = $1 AND webhook_id = $2",
                )
                .bind(new.stream_id)
                .bind(&new.webhook_id)
                .fetch_one(&mut *tx)
                .await?;
                return Ok(Stored::Existing(existing));
            };
            // id, events, workspace, campaigns, audience.
            type Row = (i64, String, Option<i64>, Option<String>, Option<String>);
            let endpoints: Vec<Row> = sqlx::query_as(
                "SELECT id, events, workspace_id, campaign_ids, audience FROM endpoints
                 WHERE enabled AND (workspace_id = $1 OR workspace_id IS NULL) ORDER BY id",
            )
            .bind(new.workspace_id)
            .fetch_all(&mut *tx)
            .await?;
            let body = body(id);
            let body_value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            for (endpoint_id, events, workspace_id, campaign_ids, audience) in endpoints {
                // Conversions belong to no campaign: an endpoint's campaign list does not
                // apply to them, its event types do.
                let endpoint = SubscribedEndpoint::read(endpoint_id, &events, workspace_id, campaign_ids)?;
                if !endpoint.events.contains(&EventType::ConversionReceived) {
                    continue;
                }
                // Its audience (stored checked): a filter that does not read sends nothing.
                if let Some(audience) = audience
                    && !serde_json::from_str::<Filter>(&audience)
                        .is_ok_and(|filter| filter.matches(&body_value))
                {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO deliveries (webhook_id, endpoint_id, conversion_id, event_type, body, status,
                                             n_attempts, next_attempt_at, lease_until, created_at)
                     VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, NULL, $6)",
                )
                .bind(webhook_id())
                .bind(endpoint_id)
                .bind(id)
                .bind(EventType::ConversionReceived.as_str())
                .bind(&body)
                .bind(new.received_at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(Stored::Created(id))
        })
    }

    pub async fn conversion(&self, id: i64) -> Result<Option<ConversionRow>, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!("SELECT ", conversion_columns!(), " FROM conversions WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Up to `limit` conversions of stream `stream_id`, newest first, before row id `before`.
    pub async fn stream_conversions(
        &self,
        stream_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ConversionRow>, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!(
                "SELECT ", conversion_columns!(),
                " FROM conversions WHERE stream_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
            ))
            .bind(stream_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        }))
    }

    /// Conversions of stream `stream_id` received since `since` (unix ms).
    pub async fn stream_conversions_since(
        &self,
        stream_id: i64,
        since: i64,
    ) -> Result<u64, StoreError> {
        let count: i64 = with_pool!(&self.pool, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM conversions WHERE stream_id = $1 AND received_at >= $2",
            )
            .bind(stream_id)
            .bind(since)
            .fetch_one(pool)
            .await?
        });
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// The latest `limit` entries of campaign `campaign_id` since `since` (unix ms), newest
    /// first: each contestant's first entry (a person entering, not each of their actions),
    /// unless disqualified.
    pub async fn recent_entries(
        &self,
        campaign_id: i64,
        since: i64,
        limit: u32,
    ) -> Result<Vec<RecentEntry>, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT e.id, e.campaign_id, c.first_name, c.last_name, e.created_at
                 FROM entries e JOIN contestants c ON c.id = e.contestant_id
                 WHERE e.campaign_id = $1 AND e.created_at >= $2 AND e.verdict <> 'disqualified'
                   AND NOT EXISTS (SELECT 1 FROM entries earlier
                                   WHERE earlier.contestant_id = e.contestant_id AND earlier.id < e.id)
                 ORDER BY e.id DESC LIMIT $3",
            )
            .bind(campaign_id)
            .bind(since)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        }))
    }

    /// Entry `entry_id`, if it is one social proof shows: a contestant's first entry, not
    /// disqualified.
    pub async fn recent_entry(&self, entry_id: i64) -> Result<Option<RecentEntry>, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT e.id, e.campaign_id, c.first_name, c.last_name, e.created_at
                 FROM entries e JOIN contestants c ON c.id = e.contestant_id
                 WHERE e.id = $1 AND e.verdict <> 'disqualified'
                   AND NOT EXISTS (SELECT 1 FROM entries earlier
                                   WHERE earlier.contestant_id = e.contestant_id AND earlier.id < e.id)",
            )
            .bind(entry_id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Entries of campaign `campaign_id` made since `since` (unix ms).
    pub async fn entries_since(&self, campaign_id: i64, since: i64) -> Result<u64, StoreError> {
        let count: i64 = with_pool!(&self.pool, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM entries WHERE campaign_id = $1 AND created_at >= $2",
            )
            .bind(campaign_id)
            .bind(since)
            .fetch_one(pool)
            .await?
        });
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Whether `email` (normalised) is a contestant of campaign `campaign_id`.
    pub async fn is_contestant(&self, campaign_id: i64, email: &str) -> Result<bool, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM contestants WHERE campaign_id = $1 AND email = $2)",
            )
            .bind(campaign_id)
            .bind(email)
            .fetch_one(pool)
            .await?
        }))
    }
}

#[derive(Debug, sqlx::FromRow)]
struct StreamRow {
    id: i64,
    workspace_id: i64,
    public_id: String,
    name: String,
    stream_key: String,
    signing_secret: Option<String>,
    campaign_keys: String,
    enabled: bool,
    created_at: i64,
    updated_at: i64,
}

impl StreamRow {
    fn into_record(self) -> Result<StreamRecord, StoreError> {
        Ok(StreamRecord {
            id: self.id,
            workspace_id: self.workspace_id,
            public_id: self.public_id,
            name: self.name,
            stream_key: self.stream_key,
            signing_secret: self.signing_secret,
            campaign_keys: parse_json("campaign_keys", self.campaign_keys)?,
            enabled: self.enabled,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}
