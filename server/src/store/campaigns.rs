//! Campaigns and their entry methods.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use protocol::campaign::{CampaignStatus, CampaignType, EntryMethodType};
use protocol::ids::{CampaignKey, EntryMethodId};
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use super::{Store, StoreError, to_u32};
use crate::fraud::FraudLevel;

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
        let row = sqlx::query(
            "SELECT id, campaign_key, name, campaign_type, status, description, consent_text,
                    fraud_level, hold_window_ms
             FROM campaigns WHERE campaign_key = $1",
        )
        .bind(key.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get("id")?;
        let methods = sqlx::query(
            "SELECT id, method_type, action, worth, mandatory
             FROM entry_methods WHERE campaign_id = $1 ORDER BY position, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(CampaignRecord {
            id,
            key: parse_column(
                "campaign_key",
                row.try_get("campaign_key")?,
                CampaignKey::parse,
            )?,
            name: row.try_get("name")?,
            campaign_type: parse_column(
                "campaign_type",
                row.try_get("campaign_type")?,
                CampaignType::parse,
            )?,
            status: parse_column("status", row.try_get("status")?, CampaignStatus::parse)?,
            description: row.try_get("description")?,
            consent_text: row.try_get("consent_text")?,
            entry_methods: methods
                .iter()
                .map(entry_method_from_row)
                .collect::<Result<_, _>>()?,
            fraud_level: parse_column(
                "fraud_level",
                row.try_get("fraud_level")?,
                FraudLevel::parse,
            )?,
            hold_window_ms: row.try_get("hold_window_ms")?,
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
        let updated = sqlx::query(
            "UPDATE campaigns SET fraud_level = $1, hold_window_ms = $2 WHERE campaign_key = $3",
        )
        .bind(fraud_level.as_str())
        .bind(hold_window_ms.max(0))
        .bind(key.as_str())
        .execute(&self.pool)
        .await?;
        self.campaigns.clear();
        Ok(updated.rows_affected() == 1)
    }

    /// Creates `campaign` unless one with its key exists. Returns whether it was created.
    pub async fn insert_campaign_if_absent(
        &self,
        campaign: &NewCampaign,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
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
        let Some(campaign_id) = inserted else {
            return Ok(false);
        };
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
        tx.commit().await?;
        self.campaigns.clear();
        Ok(true)
    }
}

fn entry_method_from_row(row: &SqliteRow) -> Result<EntryMethodRecord, StoreError> {
    Ok(EntryMethodRecord {
        id: EntryMethodId(row.try_get("id")?),
        method_type: parse_column(
            "method_type",
            row.try_get("method_type")?,
            EntryMethodType::parse,
        )?,
        action: row.try_get("action")?,
        worth: to_u32("worth", row.try_get("worth")?)?,
        mandatory: row.try_get("mandatory")?,
    })
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
