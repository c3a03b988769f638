//! Campaigns and their entry methods.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{Store, StoreError, to_u32, with_pool};
use crate::fraud::FraudLevel;
use protocol::campaign::{CampaignStatus, CampaignType, EntryMethodType};
use protocol::ids::{CampaignKey, EntryMethodId};

/// A campaign as stored, with its entry methods in display order.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignRecord {
    pub id: i64,
    pub key: CampaignKey,
    pub name: String,
    pub campaign_type: CampaignType,
    pub status: CampaignStatus,
    pub description: String,
    pub consent_text: String,
    pub entry_methods: Vec<EntryMethodRecord>,
    pub fraud_level: FraudLevel,
    /// How long `subscriber.created` waits for the fraud verdict, in milliseconds.
    pub hold_window_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EntryMethodRecord {
    pub id: EntryMethodId,
    pub method_type: EntryMethodType,
    pub action: String,
    pub worth: u32,
    pub mandatory: bool,
}

/// A campaign to create.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub key: CampaignKey,
    pub name: String,
    pub campaign_type: CampaignType,
    pub status: CampaignStatus,
    pub description: String,
    pub consent_text: String,
    pub entry_methods: Vec<NewEntryMethod>,
}

#[derive(Debug, Clone)]
pub struct NewEntryMethod {
    pub method_type: EntryMethodType,
    pub action: String,
    pub worth: u32,
    pub mandatory: bool,
}

/// How long [`Store::recent_campaign_by_key`] may answer from memory (unix ms).
const CAMPAIGN_CACHE_MS: i64 = 1_000;
/// Campaigns remembered before expired ones are dropped.
const CAMPAIGN_CACHE_SIZE: usize = 1_024;

/// Campaigns recently read, by key, with when they were read (unix ms). Cleared by every
/// campaign write through [`Store`].
#[derive(Debug, Default)]
pub(super) struct CampaignCache(Mutex<HashMap<String, (i64, CampaignRecord)>>);

impl CampaignCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, (i64, CampaignRecord)>> {
        // A panic while holding the lock leaves the map whole (every change is one call).
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn clear(&self) {
        self.lock().clear();
    }
}

fn fresh(read_at: i64, now: i64) -> bool {
    (0..CAMPAIGN_CACHE_MS).contains(&now.saturating_sub(read_at))
}

impl Store {
    /// [`Self::campaign_by_key`], answered from memory if read less than a second before `now`
    /// (unix ms). For the entry path, which reads the campaign on every request: a change
    /// made through this `Store` shows at once, one made by another process within a second.
    pub async fn recent_campaign_by_key(
        &self,
        key: &CampaignKey,
        now: i64,
    ) -> Result<Option<CampaignRecord>, StoreError> {
        if let Some((read_at, campaign)) = self.campaigns.lock().get(key.as_str())
            && fresh(*read_at, now)
        {
            return Ok(Some(campaign.clone()));
        }
        let campaign = self.campaign_by_key(key).await?;
        if let Some(campaign) = &campaign {
            let mut cached = self.campaigns.lock();
            if cached.len() >= CAMPAIGN_CACHE_SIZE {
                cached.retain(|_, (read_at, _)| fresh(*read_at, now));
            }
            cached.insert(key.as_str().to_owned(), (now, campaign.clone()));
        }
        Ok(campaign)
    }

    pub async fn campaign_by_key(
        &self,
        key: &CampaignKey,
    ) -> Result<Option<CampaignRecord>, StoreError> {
        let row: Option<CampaignRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT id, campaign_key, name, campaign_type, status, description, consent_text,
                        fraud_level, hold_window_ms
                 FROM campaigns WHERE campaign_key = $1",
            )
            .bind(key.as_str())
            .fetch_optional(pool)
            .await?
        });
        let Some(row) = row else { return Ok(None) };
        let methods: Vec<EntryMethodRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT id, method_type, action, worth, mandatory
                 FROM entry_methods WHERE campaign_id = $1 ORDER BY position, id",
            )
            .bind(row.id)
            .fetch_all(pool)
            .await?
        });
        Ok(Some(CampaignRecord {
            id: row.id,
            key: parse_column("campaign_key", row.campaign_key, CampaignKey::parse)?,
            name: row.name,
            campaign_type: parse_column("campaign_type", row.campaign_type, CampaignType::parse)?,
            status: parse_column("status", row.status, CampaignStatus::parse)?,
            description: row.description,
            consent_text: row.consent_text,
            entry_methods: methods
                .into_iter()
                .map(EntryMethodRow::into_record)
                .collect::<Result<_, _>>()?,
            fraud_level: parse_column("fraud_level", row.fraud_level, FraudLevel::parse)?,
            hold_window_ms: row.hold_window_ms,
        }))
    }

    /// Sets how campaign `key` screens its entries. Returns whether the campaign exists.
    /// A negative hold window is stored as 0.
    pub async fn set_campaign_fraud_settings(
        &self,
        key: &CampaignKey,
        fraud_level: FraudLevel,
        hold_window_ms: i64,
    ) -> Result<bool, StoreError> {
        let updated = with_pool!(&self.pool, pool => {
            sqlx::query(
                "UPDATE campaigns SET fraud_level = $1, hold_window_ms = $2 WHERE campaign_key = $3",
            )
            .bind(fraud_level.as_str())
            .bind(hold_window_ms.max(0))
            .bind(key.as_str())
            .execute(pool)
            .await?
            .rows_affected()
        });
        self.campaigns.clear();
        Ok(updated == 1)
    }

    /// Creates `campaign` unless one with its key exists. Returns whether it was created.
    pub async fn insert_campaign_if_absent(
        &self,
        campaign: &NewCampaign,
        now: i64,
    ) -> Result<bool, StoreError> {
        let created = with_pool!(&self.pool, pool => {
            let mut tx = pool.begin().await?;
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO campaigns (campaign_key, name, campaign_type, status, description, consent_text, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (campaign_key) DO NOTHING
                 RETURNING id",
            )
            .bind(campaign.key.as_str())
            .bind(&campaign.name)
            .bind(campaign.campaign_type.as_str())
            .bind(campaign.status.as_str())
            .bind(&campaign.description)
            .bind(&campaign.consent_text)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(campaign_id) = inserted {
                for (position, method) in (0_i64..).zip(&campaign.entry_methods) {
                    sqlx::query(
                        "INSERT INTO entry_methods (campaign_id, method_type, action, worth, mandatory, position)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(campaign_id)
                    .bind(method.method_type.as_str())
                    .bind(&method.action)
                    .bind(i64::from(method.worth))
                    .bind(method.mandatory)
                    .bind(position)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            inserted.is_some()
        });
        if created {
            self.campaigns.clear();
        }
        Ok(created)
    }
}

/// `campaigns` as read.
#[derive(Debug, sqlx::FromRow)]
struct CampaignRow {
    id: i64,
    campaign_key: String,
    name: String,
    campaign_type: String,
    status: String,
    description: String,
    consent_text: String,
    fraud_level: String,
    hold_window_ms: i64,
}

/// `entry_methods` as read.
#[derive(Debug, sqlx::FromRow)]
struct EntryMethodRow {
    id: i64,
    method_type: String,
    action: String,
    worth: i64,
    mandatory: bool,
}

impl EntryMethodRow {
    fn into_record(self) -> Result<EntryMethodRecord, StoreError> {
        Ok(EntryMethodRecord {
            id: EntryMethodId(self.id),
            method_type: parse_column("method_type", self.method_type, EntryMethodType::parse)?,
            action: self.action,
            worth: to_u32("worth", self.worth)?,
            mandatory: self.mandatory,
        })
    }
}

/// Parses a text column with `parse`, reporting the column when the text is not understood.
pub(super) fn parse_column<T>(
    column: &'static str,
    text: String,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(&text).ok_or(StoreError::Corrupt {
        column,
        value: text,
    })
}
