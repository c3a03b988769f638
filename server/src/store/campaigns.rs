//! Campaigns and their entry methods.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use protocol::campaign::{CampaignStatus, CampaignType, EntryMethodType};
use protocol::ids::{CampaignKey, EntryMethodId};
use serde_json::Value;

use super::{BeginWrite, Store, StoreError, to_u32, with_pool};
use crate::fraud::FraudLevel;

/// A campaign as stored, with its entry methods (not the archived ones) in display order.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignRecord {
    pub id: i64,
    /// `None` for campaigns made before any workspace existed.
    pub workspace_id: Option<i64>,
    pub key: CampaignKey,
    pub name: String,
    pub campaign_type: CampaignType,
    pub status: CampaignStatus,
    pub description: String,
    pub consent_text: String,
    /// Unix ms: entries are taken from then (`None`: from the start).
    pub starts_at: Option<i64>,
    /// Unix ms: entries are taken until then (`None`: no end).
    pub ends_at: Option<i64>,
    /// Origins whose pages may post entries; empty: any.
    pub allowed_origins: Vec<String>,
    pub image_url: String,
    /// The campaign type's own settings, a JSON object.
    pub settings: Value,
    pub entry_methods: Vec<EntryMethodRecord>,
    pub fraud_level: FraudLevel,
    /// How long `subscriber.created` waits for the fraud verdict, in milliseconds.
    pub hold_window_ms: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EntryMethodRecord {
    pub id: EntryMethodId,
    pub method_type: EntryMethodType,
    pub action: String,
    pub worth: u32,
    pub mandatory: bool,
    /// May be done again each day (else once).
    pub daily: bool,
    /// The method type's own settings, a JSON object.
    pub config: Value,
    pub position: i64,
}

/// A campaign to create, or what an existing one becomes ([`Store::update_campaign`], which
/// leaves the entry methods alone).
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub workspace_id: Option<i64>,
    pub key: CampaignKey,
    pub name: String,
    pub campaign_type: CampaignType,
    pub status: CampaignStatus,
    pub description: String,
    pub consent_text: String,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub allowed_origins: Vec<String>,
    pub image_url: String,
    pub settings: Value,
    pub fraud_level: FraudLevel,
    pub hold_window_ms: i64,
    pub entry_methods: Vec<NewEntryMethod>,
}

impl NewCampaign {
    /// A running campaign with the usual defaults (standard fraud level, five-minute hold).
    pub fn new(key: CampaignKey, name: &str, campaign_type: CampaignType) -> Self {
        Self {
            workspace_id: None,
            key,
            name: name.to_owned(),
            campaign_type,
            status: CampaignStatus::Running,
            description: String::new(),
            consent_text: String::new(),
            starts_at: None,
            ends_at: None,
            allowed_origins: Vec::new(),
            image_url: String::new(),
            settings: Value::Object(serde_json::Map::new()),
            fraud_level: FraudLevel::Standard,
            hold_window_ms: 300_000,
            entry_methods: Vec::new(),
        }
    }
}

/// An entry method to add, or what one becomes ([`Store::update_entry_method`]).
#[derive(Debug, Clone)]
pub struct NewEntryMethod {
    pub method_type: EntryMethodType,
    pub action: String,
    pub worth: u32,
    pub mandatory: bool,
    pub daily: bool,
    pub config: Value,
}

impl NewEntryMethod {
    pub fn new(method_type: EntryMethodType, action: &str) -> Self {
        Self {
            method_type,
            action: action.to_owned(),
            worth: 1,
            mandatory: false,
            daily: false,
            config: Value::Object(serde_json::Map::new()),
        }
    }
}

/// Why a campaign could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyTaken;

/// How long [`Store::recent_campaign_by_key`] may answer from memory (unix ms).
const CAMPAIGN_CACHE_MS: i64 = 1_000;
/// Campaigns remembered before expired ones are dropped.
const CAMPAIGN_CACHE_SIZE: usize = 1_024;

/// Campaigns recently read, by key, with when they were read (unix ms). Cleared by every
/// campaign write through [`Store`].
#[derive(Debug, Default)]
pub(super) struct CampaignCache(Mutex<HashMap<String, (i64, Arc<CampaignRecord>)>>);

impl CampaignCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, (i64, Arc<CampaignRecord>)>> {
        // A panic while holding the lock leaves the map whole (every change is one call).
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn clear(&self) {
        self.lock().clear();
    }
}

fn fresh(read_at: i64, now: i64) -> bool {
    (0..CAMPAIGN_CACHE_MS).contains(&now.saturating_sub(read_at))
}

impl Store {
    /// [`Self::campaign_by_key`], answered from memory if read less than a second before `now`
    /// (unix ms). For the entry path, which reads the campaign on every request (twice: its
    /// CORS layer too), so it is shared, not copied: a change made through this `Store` shows
    /// at once, one made by another process within a second.
    pub async fn recent_campaign_by_key(
        &self,
        key: &CampaignKey,
        now: i64,
    ) -> Result<Option<Arc<CampaignRecord>>, StoreError> {
        if let Some((read_at, campaign)) = self.campaigns.lock().get(key.as_str())
            && fresh(*read_at, now)
        {
            return Ok(Some(Arc::clone(campaign)));
        }
        let campaign = self.campaign_by_key(key).await?.map(Arc::new);
        if let Some(campaign) = &campaign {
            let mut cached = self.campaigns.lock();
            if cached.len() >= CAMPAIGN_CACHE_SIZE {
                cached.retain(|_, (read_at, _)| fresh(*read_at, now));
            }
            cached.insert(key.as_str().to_owned(), (now, Arc::clone(campaign)));
        }
        Ok(campaign)
    }

    /// The campaign with `key`, whichever workspace it is in (the public API's view).
    pub async fn campaign_by_key(
        &self,
        key: &CampaignKey,
    ) -> Result<Option<CampaignRecord>, StoreError> {
        let row: Option<CampaignRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!("SELECT ", campaign_columns!(), " FROM campaigns WHERE campaign_key = $1"))
                .bind(key.as_str())
                .fetch_optional(pool)
                .await?
        });
        match row {
            Some(row) => Ok(Some(self.with_entry_methods(row).await?)),
            None => Ok(None),
        }
    }

    /// The campaign with row id `id`.
    pub async fn campaign_by_id(&self, id: i64) -> Result<Option<CampaignRecord>, StoreError> {
        let row: Option<CampaignRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!("SELECT ", campaign_columns!(), " FROM campaigns WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        match row {
            Some(row) => Ok(Some(self.with_entry_methods(row).await?)),
            None => Ok(None),
        }
    }

    /// The campaign with `key` if it belongs to workspace `workspace_id`.
    pub async fn workspace_campaign(
        &self,
        workspace_id: i64,
        key: &str,
    ) -> Result<Option<CampaignRecord>, StoreError> {
        let row: Option<CampaignRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!(
                "SELECT ", campaign_columns!(),
                " FROM campaigns WHERE campaign_key = $1 AND workspace_id = $2"
            ))
            .bind(key)
            .bind(workspace_id)
            .fetch_optional(pool)
            .await?
        });
        match row {
            Some(row) => Ok(Some(self.with_entry_methods(row).await?)),
            None => Ok(None),
        }
    }

    /// Up to `limit` of the workspace's campaigns, newest first, before campaign row id
    /// `before` (the cursor of the previous page).
    pub async fn workspace_campaigns(
        &self,
        workspace_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<CampaignRecord>, StoreError> {
        let rows: Vec<CampaignRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!(
                "SELECT ", campaign_columns!(),
                " FROM campaigns WHERE workspace_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
            ))
            .bind(workspace_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        let mut campaigns = Vec::with_capacity(rows.len());
        for row in rows {
            campaigns.push(self.with_entry_methods(row).await?);
        }
        Ok(campaigns)
    }

    async fn with_entry_methods(&self, row: CampaignRow) -> Result<CampaignRecord, StoreError> {
        let methods: Vec<EntryMethodRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT id, method_type, action, worth, mandatory, daily, config, position
                 FROM entry_methods WHERE campaign_id = $1 AND archived_at IS NULL
                 ORDER BY position, id",
            )
            .bind(row.id)
            .fetch_all(pool)
            .await?
        });
        row.into_record(
            methods
                .into_iter()
                .map(EntryMethodRow::into_record)
                .collect::<Result<_, _>>()?,
        )
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
        Ok(self.insert_campaign(campaign, now).await?.is_ok())
    }

    /// Creates `campaign` with its entry methods, in one transaction.
    pub async fn insert_campaign(
        &self,
        campaign: &NewCampaign,
        now: i64,
    ) -> Result<Result<CampaignRecord, KeyTaken>, StoreError> {
        let origins = Value::from(campaign.allowed_origins.clone()).to_string();
        let settings = campaign.settings.to_string();
        let created = with_pool!(&self.pool, pool => {
            let mut tx = pool.begin_write().await?;
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO campaigns (campaign_key, name, campaign_type, status, description, consent_text,
                                        created_at, workspace_id, starts_at, ends_at, allowed_origins, image_url,
                                        settings, fraud_level, hold_window_ms, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $7)
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
            .bind(campaign.workspace_id)
            .bind(campaign.starts_at)
            .bind(campaign.ends_at)
            .bind(&origins)
            .bind(&campaign.image_url)
            .bind(&settings)
            .bind(campaign.fraud_level.as_str())
            .bind(campaign.hold_window_ms.max(0))
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(campaign_id) = inserted {
                for (position, method) in (0_i64..).zip(&campaign.entry_methods) {
                    sqlx::query(
                        "INSERT INTO entry_methods (campaign_id, method_type, action, worth, mandatory, position, daily, config)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(campaign_id)
                    .bind(method.method_type.as_str())
                    .bind(&method.action)
                    .bind(i64::from(method.worth))
                    .bind(method.mandatory)
                    .bind(position)
                    .bind(method.daily)
                    .bind(method.config.to_string())
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            inserted
        });
        self.campaigns.clear();
        match created {
            Some(_) => Ok(Ok(self
                .campaign_by_key(&campaign.key)
                .await?
                .ok_or(StoreError::NotCommitted)?)),
            None => Ok(Err(KeyTaken)),
        }
    }

    /// Rewrites campaign `campaign_id`'s own fields (not its key, workspace or entry methods)
    /// from `changed`.
    pub async fn update_campaign(
        &self,
        campaign_id: i64,
        changed: &NewCampaign,
        now: i64,
    ) -> Result<(), StoreError> {
        let origins = Value::from(changed.allowed_origins.clone()).to_string();
        with_pool!(&self.pool, pool => {
            sqlx::query(
                "UPDATE campaigns SET name = $1, campaign_type = $2, status = $3, description = $4,
                        consent_text = $5, starts_at = $6, ends_at = $7, allowed_origins = $8,
                        image_url = $9, settings = $10, fraud_level = $11, hold_window_ms = $12,
                        updated_at = $13
                 WHERE id = $14",
            )
            .bind(&changed.name)
            .bind(changed.campaign_type.as_str())
            .bind(changed.status.as_str())
            .bind(&changed.description)
            .bind(&changed.consent_text)
            .bind(changed.starts_at)
            .bind(changed.ends_at)
            .bind(&origins)
            .bind(&changed.image_url)
            .bind(changed.settings.to_string())
            .bind(changed.fraud_level.as_str())
            .bind(changed.hold_window_ms.max(0))
            .bind(now)
            .bind(campaign_id)
            .execute(pool)
            .await?;
        });
        self.campaigns.clear();
        Ok(())
    }

    /// Adds an entry method at `position` (methods are shown in position order).
    pub async fn add_entry_method(
        &self,
        campaign_id: i64,
        method: &NewEntryMethod,
        position: i64,
        now: i64,
    ) -> Result<EntryMethodId, StoreError> {
        let id: i64 = with_pool!(&self.pool, pool => {
            let mut tx = pool.begin_write().await?;
            let id = sqlx::query_scalar(
                "INSERT INTO entry_methods (campaign_id, method_type, action, worth, mandatory, position, daily, config)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(campaign_id)
            .bind(method.method_type.as_str())
            .bind(&method.action)
            .bind(i64::from(method.worth))
            .bind(method.mandatory)
            .bind(position)
            .bind(method.daily)
            .bind(method.config.to_string())
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("UPDATE campaigns SET updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(campaign_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            id
        });
        self.campaigns.clear();
        Ok(EntryMethodId(id))
    }

    /// Rewrites entry method `method_id` of campaign `campaign_id`. Returns whether it exists.
    /// Its type stays: entries already made through it keep their meaning.
    pub async fn update_entry_method(
        &self,
        campaign_id: i64,
        method_id: EntryMethodId,
        method: &NewEntryMethod,
        position: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let updated = with_pool!(&self.pool, pool => {
            let mut tx = pool.begin_write().await?;
            let updated = sqlx::query(
                "UPDATE entry_methods SET action = $1, worth = $2, mandatory = $3, position = $4,
                        daily = $5, config = $6
                 WHERE id = $7 AND campaign_id = $8 AND archived_at IS NULL",
            )
            .bind(&method.action)
            .bind(i64::from(method.worth))
            .bind(method.mandatory)
            .bind(position)
            .bind(method.daily)
            .bind(method.config.to_string())
            .bind(method_id.0)
            .bind(campaign_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query("UPDATE campaigns SET updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(campaign_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            updated
        });
        self.campaigns.clear();
        Ok(updated == 1)
    }

    /// Removes entry method `method_id` from campaign `campaign_id` (kept, archived, for the
    /// entries made through it). Returns whether it was there.
    pub async fn archive_entry_method(
        &self,
        campaign_id: i64,
        method_id: EntryMethodId,
        now: i64,
    ) -> Result<bool, StoreError> {
        let archived = with_pool!(&self.pool, pool => {
            sqlx::query(
                "UPDATE entry_methods SET archived_at = $1
                 WHERE id = $2 AND campaign_id = $3 AND archived_at IS NULL",
            )
            .bind(now)
            .bind(method_id.0)
            .bind(campaign_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        self.campaigns.clear();
        Ok(archived == 1)
    }
}

/// The columns [`CampaignRow`] reads.
macro_rules! campaign_columns {
    () => {
        "id, workspace_id, campaign_key, name, campaign_type, status, description, consent_text,
         starts_at, ends_at, allowed_origins, image_url, settings, fraud_level, hold_window_ms,
         created_at, updated_at"
    };
}
use campaign_columns;

/// `campaigns` as read.
#[derive(Debug, sqlx::FromRow)]
struct CampaignRow {
    id: i64,
    workspace_id: Option<i64>,
    campaign_key: String,
    name: String,
    campaign_type: String,
    status: String,
    description: String,
    consent_text: String,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    allowed_origins: String,
    image_url: String,
    settings: String,
    fraud_level: String,
    hold_window_ms: i64,
    created_at: i64,
    updated_at: i64,
}

impl CampaignRow {
    fn into_record(
        self,
        entry_methods: Vec<EntryMethodRecord>,
    ) -> Result<CampaignRecord, StoreError> {
        Ok(CampaignRecord {
            id: self.id,
            workspace_id: self.workspace_id,
            key: parse_column("campaign_key", self.campaign_key, CampaignKey::parse)?,
            name: self.name,
            campaign_type: parse_column("campaign_type", self.campaign_type, CampaignType::parse)?,
            status: parse_column("status", self.status, CampaignStatus::parse)?,
            description: self.description,
            consent_text: self.consent_text,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            allowed_origins: parse_json("allowed_origins", self.allowed_origins)?,
            image_url: self.image_url,
            settings: parse_json("settings", self.settings)?,
            entry_methods,
            fraud_level: parse_column("fraud_level", self.fraud_level, FraudLevel::parse)?,
            hold_window_ms: self.hold_window_ms,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// `entry_methods` as read.
#[derive(Debug, sqlx::FromRow)]
struct EntryMethodRow {
    id: i64,
    method_type: String,
    action: String,
    worth: i64,
    mandatory: bool,
    daily: bool,
    config: String,
    position: i64,
}

impl EntryMethodRow {
    fn into_record(self) -> Result<EntryMethodRecord, StoreError> {
        Ok(EntryMethodRecord {
            id: EntryMethodId(self.id),
            method_type: parse_column("method_type", self.method_type, EntryMethodType::parse)?,
            action: self.action,
            worth: to_u32("worth", self.worth)?,
            mandatory: self.mandatory,
            daily: self.daily,
            config: parse_json("config", self.config)?,
            position: self.position,
        })
    }
}

/// Parses a JSON text column.
pub(super) fn parse_json<T: serde::de::DeserializeOwned>(
    column: &'static str,
    text: String,
) -> Result<T, StoreError> {
    serde_json::from_str(&text).map_err(|_| StoreError::Corrupt {
        column,
        value: text,
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
