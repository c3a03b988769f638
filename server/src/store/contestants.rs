//! Contestants and entries as the admin API shows them: lists with filters and cursors,
//! one contestant with their entries, deleting a contestant with everything about them, and
//! overriding an entry's fraud verdict. Every admin query is scoped to one workspace.
//!
//! Also a contestant as the public API shows them to themselves (their status, the session of
//! a replayed answer), found by their session token's hash or an entry of theirs.

use std::collections::BTreeMap;

use protocol::ids::{CampaignKey, ContestantId, EntryId, EntryMethodId};
use serde_json::Value;

use super::campaigns::{parse_column, parse_json};
use super::entries::{CompletionRow, ContestantColumns, sql};
use super::{BeginWrite, Completion, ContestantRecord, Store, StoreError, to_u32, with_pool};
use crate::fraud::Decision;

/// A contestant as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ContestantRow {
    pub id: i64,
    pub campaign_key: CampaignKey,
    pub email: String,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub details: BTreeMap<String, Value>,
    pub actions_completed: u32,
    pub total_entries: u32,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An entry as stored, with its contestant's email and name and its method's action.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRow {
    pub id: EntryId,
    pub campaign_key: CampaignKey,
    pub contestant_id: i64,
    pub email: String,
    pub name: String,
    pub entry_method_id: EntryMethodId,
    pub method_type: String,
    pub action: String,
    pub value: String,
    pub worth: u32,
    pub landing_url: String,
    pub referring_url: String,
    pub client_ip: Option<String>,
    pub consent_text: Option<String>,
    pub fraud_score: u32,
    pub fraud_reasons: Vec<String>,
    pub verdict: Decision,
    pub original_verdict: Option<Decision>,
    pub verdict_overridden_at: Option<i64>,
    pub created_at: i64,
    pub details: BTreeMap<String, Value>,
    pub first_name: String,
    pub last_name: String,
}

/// Which entries [`Store::workspace_entries`] lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryFilter {
    pub campaign_id: Option<i64>,
    pub entry_method_id: Option<i64>,
    pub verdict: Option<Decision>,
    /// Unix ms, inclusive.
    pub since: Option<i64>,
    /// Unix ms, exclusive.
    pub until: Option<i64>,
    /// Part of the email or name, any case.
    pub search: Option<String>,
    /// Entries with a row id below this (the cursor of the previous page).
    pub before: Option<i64>,
}

/// What became of the deliveries of an entry whose verdict a person changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VerdictChanged {
    /// Unsent `subscriber.created` deliveries now cancelled (the entry is disqualified now).
    pub cancelled: u64,
    /// Cancelled `subscriber.created` deliveries due again (the entry is no longer
    /// disqualified).
    pub restored: u64,
}

/// The columns [`EntryDbRow`] reads, from `entries e`, `contestants c`, `entry_methods m`
/// and `campaigns k`.
macro_rules! entry_columns {
    () => {
        "e.id, k.campaign_key, e.contestant_id, c.email, c.name, c.first_name, c.last_name, c.details,
         e.entry_method_id, m.method_type, m.action, e.entry_value, e.worth, e.landing_url,
         e.referring_url, e.client_ip, e.consent_text, e.fraud_score, e.fraud_reasons, e.verdict,
         e.original_verdict, e.verdict_overridden_at, e.created_at"
    };
}

macro_rules! entry_joins {
    () => {
        " FROM entries e
          JOIN contestants c ON c.id = e.contestant_id
          JOIN entry_methods m ON m.id = e.entry_method_id
          JOIN campaigns k ON k.id = e.campaign_id "
    };
}

impl Store {
    /// Contestant `id` if they are campaign `campaign_id`'s.
    pub async fn campaign_contestant(
        &self,
        campaign_id: i64,
        id: ContestantId,
    ) -> Result<Option<ContestantRecord>, StoreError> {
        let columns: Option<ContestantColumns> = with_pool!(&self.pool, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM contestants WHERE id = $1 AND campaign_id = $2",
                sql::CONTESTANT_COLUMNS
            )))
            .bind(id.0)
            .bind(campaign_id)
            .fetch_optional(pool)
            .await?
        });
        columns
            .map(ContestantColumns::into_stored_record)
            .transpose()
    }

    /// Contestant `id`, as the entry write path reads them.
    pub async fn contestant(
        &self,
        id: ContestantId,
    ) -> Result<Option<ContestantRecord>, StoreError> {
        let columns: Option<ContestantColumns> = with_pool!(&self.pool, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM contestants WHERE id = $1",
                sql::CONTESTANT_COLUMNS
            )))
            .bind(id.0)
            .fetch_optional(pool)
            .await?
        });
        columns
            .map(ContestantColumns::into_stored_record)
            .transpose()
    }

    /// What contestant `id` has done, per entry method.
    pub async fn completions(&self, id: ContestantId) -> Result<Vec<Completion>, StoreError> {
        let rows: Vec<CompletionRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(sql::COMPLETIONS)
                .bind(id.0)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(CompletionRow::into_completion)
            .collect()
    }

    /// Replaces contestant `id`'s session token (its hash), outside the entry write path: for
    /// a replayed answer whose post did not carry the current token.
    pub async fn set_token_hash(
        &self,
        id: ContestantId,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        with_pool!(&self.pool, pool => {
            sqlx::query(sql::SET_TOKEN_HASH)
                .bind(token_hash)
                .bind(id.0)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Up to `limit` contestants of campaign `campaign_id`, newest first, whose email or name
    /// contains `search` (any case), before row id `before`.
    pub async fn campaign_contestants(
        &self,
        campaign_id: i64,
        search: Option<&str>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ContestantRow>, StoreError> {
        let pattern = like_pattern(search);
        let rows: Vec<ContestantDbRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT c.id, k.campaign_key, c.email, c.name, c.first_name, c.last_name, c.details,
                        c.actions_completed, c.total_entries, c.created_at, c.updated_at
                 FROM contestants c JOIN campaigns k ON k.id = c.campaign_id
                 WHERE c.campaign_id = $1 AND c.id < $2
                   AND (LOWER(c.email) LIKE $3 OR LOWER(c.name) LIKE $3)
                 ORDER BY c.id DESC LIMIT $4",
            )
            .bind(campaign_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(&pattern)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ContestantDbRow::into_row).collect()
    }

    /// Contestant `id` if their campaign belongs to workspace `workspace_id`.
    pub async fn workspace_contestant(
        &self,
        workspace_id: i64,
        id: i64,
    ) -> Result<Option<ContestantRow>, StoreError> {
        let row: Option<ContestantDbRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT c.id, k.campaign_key, c.email, c.name, c.first_name, c.last_name, c.details,
                        c.actions_completed, c.total_entries, c.created_at, c.updated_at
                 FROM contestants c JOIN campaigns k ON k.id = c.campaign_id
                 WHERE c.id = $1 AND k.workspace_id = $2",
            )
            .bind(id)
            .bind(workspace_id)
            .fetch_optional(pool)
            .await?
        });
        row.map(ContestantDbRow::into_row).transpose()
    }

    /// Deletes contestant `id` of workspace `workspace_id` and everything about them: their
    /// entries, those entries' deliveries (sent or not) and attempts, the coupon they were
    /// given (it is not handed out again), their email in the referral credit they earned
    /// someone, and the link from the friends they referred. One transaction. Returns whether
    /// there was such a contestant.
    pub async fn delete_contestant(&self, workspace_id: i64, id: i64) -> Result<bool, StoreError> {
        let deleted = with_pool!(&self.pool, pool => {
            let mut tx = pool.begin_write().await?;
            // Their campaign, if they are the workspace's.
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT c.campaign_id FROM contestants c JOIN campaigns k ON k.id = c.campaign_id
                 WHERE c.id = $1 AND k.workspace_id = $2",
            )
            .bind(id)
            .bind(workspace_id)
            .fetch_optional(&mut *tx)
            .await?;
            // The entry writer's counts by address (SQLite: `store/addresses.rs`) leave them
            // out once they are deleted.
            let addresses: Vec<String> = if found.is_some() && self.writer.is_some() {
                sqlx::query_scalar(
                    "SELECT DISTINCT client_ip FROM entries
                     WHERE contestant_id = $1 AND client_ip IS NOT NULL",
                )
                .bind(id)
                .fetch_all(&mut *tx)
                .await?
            } else {
                Vec::new()
            };
            if found.is_some() {
                for statement in [
                    "DELETE FROM attempts WHERE delivery_id IN (
                         SELECT d.id FROM deliveries d JOIN entries e ON e.id = d.entry_id
                         WHERE e.contestant_id = $1)",
                    "DELETE FROM deliveries WHERE entry_id IN (SELECT id FROM entries WHERE contestant_id = $1)",
                    // The credit they earned their referrer is the referrer's entry, keyed by
                    // theirs.
                    "UPDATE entries SET entry_value = ''
                     WHERE contestant_id = (SELECT referred_by FROM contestants WHERE id = $1)
                       AND idempotency_key IN (
                         SELECT 'referral ' || id FROM entries WHERE contestant_id = $1)",
                    "DELETE FROM entries WHERE contestant_id = $1",
                    "DELETE FROM coupons WHERE contestant_id = $1",
                    "UPDATE contestants SET referred_by = NULL WHERE referred_by = $1",
                    "DELETE FROM contestants WHERE id = $1",
                ] {
                    sqlx::query(statement).bind(id).execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
            found.map(|campaign_id| (campaign_id, addresses))
        });
        if let (Some((campaign_id, addresses)), Some(writer)) = (&deleted, &self.writer) {
            // Texts that are no address are none the writer keeps.
            let addresses = addresses
                .iter()
                .filter_map(|text| text.parse().ok())
                .collect();
            writer.forget(*campaign_id, addresses, id).await;
        }
        Ok(deleted.is_some())
    }

    /// Up to `limit` entries of workspace `workspace_id` matching `filter`, newest first.
    pub async fn workspace_entries(
        &self,
        workspace_id: i64,
        filter: &EntryFilter,
        limit: u32,
    ) -> Result<Vec<EntryRow>, StoreError> {
        let pattern = like_pattern(filter.search.as_deref());
        let rows: Vec<EntryDbRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!(
                "SELECT ", entry_columns!(), entry_joins!(),
                "WHERE k.workspace_id = $1 AND e.id < $2
                   AND ($3 IS NULL OR e.campaign_id = $3)
                   AND ($4 IS NULL OR e.entry_method_id = $4)
                   AND ($5 IS NULL OR e.verdict = $5)
                   AND ($6 IS NULL OR e.created_at >= $6)
                   AND ($7 IS NULL OR e.created_at < $7)
                   AND (LOWER(c.email) LIKE $8 OR LOWER(c.name) LIKE $8)
                 ORDER BY e.id DESC LIMIT $9"
            ))
            .bind(workspace_id)
            .bind(filter.before.unwrap_or(i64::MAX))
            .bind(filter.campaign_id)
            .bind(filter.entry_method_id)
            .bind(filter.verdict.map(Decision::as_str))
            .bind(filter.since)
            .bind(filter.until)
            .bind(&pattern)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(EntryDbRow::into_row).collect()
    }

    /// Entries of contestant `contestant_id`, oldest first.
    pub async fn contestant_entries(
        &self,
        contestant_id: i64,
    ) -> Result<Vec<EntryRow>, StoreError> {
        let rows: Vec<EntryDbRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!(
                "SELECT ", entry_columns!(), entry_joins!(),
                "WHERE e.contestant_id = $1 ORDER BY e.id"
            ))
            .bind(contestant_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(EntryDbRow::into_row).collect()
    }

    /// Entry `id` if it belongs to workspace `workspace_id`.
    pub async fn workspace_entry(
        &self,
        workspace_id: i64,
        id: i64,
    ) -> Result<Option<EntryRow>, StoreError> {
        let row: Option<EntryDbRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!(
                "SELECT ", entry_columns!(), entry_joins!(),
                "WHERE e.id = $1 AND k.workspace_id = $2"
            ))
            .bind(id)
            .bind(workspace_id)
            .fetch_optional(pool)
            .await?
        });
        row.map(EntryDbRow::into_row).transpose()
    }

    /// Sets entry `id`'s verdict as a person decided, keeping the filter's own verdict the
    /// first time. Its unsent `subscriber.created` deliveries follow: cancelled when the entry
    /// is now disqualified, due again (if they were cancelled for it) when it no longer is.
    /// Held deliveries need nothing: they read the verdict when their hold ends. `None` if
    /// the workspace has no such entry.
    pub async fn override_verdict(
        &self,
        workspace_id: i64,
        id: i64,
        verdict: Decision,
        now: i64,
    ) -> Result<Option<VerdictChanged>, StoreError> {
        with_pool!(&self.pool, pool => {
            let mut tx = pool.begin_write().await?;
            let updated = sqlx::query(
                "UPDATE entries SET original_verdict = COALESCE(original_verdict, verdict),
                        verdict = $1, verdict_overridden_at = $2
                 WHERE id = $3 AND campaign_id IN (SELECT id FROM campaigns WHERE workspace_id = $4)",
            )
            .bind(verdict.as_str())
            .bind(now)
            .bind(id)
            .bind(workspace_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                return Ok(None);
            }
            let mut changed = VerdictChanged::default();
            if verdict == Decision::Disqualified {
                changed.cancelled = sqlx::query(
                    "UPDATE deliveries SET status = 'cancelled'
                     WHERE entry_id = $1 AND event_type = 'subscriber.created' AND status = 'pending'
                       AND n_attempts = 0",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            } else {
                changed.restored = sqlx::query(
                    "UPDATE deliveries SET status = 'pending', next_attempt_at = $1
                     WHERE entry_id = $2 AND event_type = 'subscriber.created' AND status = 'cancelled'",
                )
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            Ok(Some(changed))
        })
    }
}

/// A `LIKE` pattern matching text that contains `search` (lower-cased), or anything.
fn like_pattern(search: Option<&str>) -> String {
    match search.map(str::trim).filter(|search| !search.is_empty()) {
        Some(search) => {
            let escaped: String = search
                .to_lowercase()
                .chars()
                .filter(|c| !matches!(c, '%' | '_'))
                .collect();
            format!("%{escaped}%")
        }
        None => "%".to_owned(),
    }
}

#[derive(Debug, sqlx::FromRow)]
struct ContestantDbRow {
    id: i64,
    campaign_key: String,
    email: String,
    name: String,
    first_name: String,
    last_name: String,
    details: String,
    actions_completed: i64,
    total_entries: i64,
    created_at: i64,
    updated_at: i64,
}

impl ContestantDbRow {
    fn into_row(self) -> Result<ContestantRow, StoreError> {
        Ok(ContestantRow {
            id: self.id,
            campaign_key: parse_column("campaign_key", self.campaign_key, CampaignKey::parse)?,
            email: self.email,
            name: self.name,
            first_name: self.first_name,
            last_name: self.last_name,
            details: parse_json("details", self.details)?,
            actions_completed: to_u32("actions_completed", self.actions_completed)?,
            total_entries: to_u32("total_entries", self.total_entries)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
struct EntryDbRow {
    id: i64,
    campaign_key: String,
    contestant_id: i64,
    email: String,
    name: String,
    first_name: String,
    last_name: String,
    details: String,
    entry_method_id: i64,
    method_type: String,
    action: String,
    entry_value: String,
    worth: i64,
    landing_url: String,
    referring_url: String,
    client_ip: Option<String>,
    consent_text: Option<String>,
    fraud_score: i64,
    fraud_reasons: String,
    verdict: String,
    original_verdict: Option<String>,
    verdict_overridden_at: Option<i64>,
    created_at: i64,
}

impl EntryDbRow {
    fn into_row(self) -> Result<EntryRow, StoreError> {
        Ok(EntryRow {
            id: EntryId(self.id),
            campaign_key: parse_column("campaign_key", self.campaign_key, CampaignKey::parse)?,
            contestant_id: self.contestant_id,
            email: self.email,
            name: self.name,
            first_name: self.first_name,
            last_name: self.last_name,
            details: parse_json("details", self.details)?,
            entry_method_id: EntryMethodId(self.entry_method_id),
            method_type: self.method_type,
            action: self.action,
            value: self.entry_value,
            worth: to_u32("worth", self.worth)?,
            landing_url: self.landing_url,
            referring_url: self.referring_url,
            client_ip: self.client_ip,
            consent_text: self.consent_text,
            fraud_score: to_u32("fraud_score", self.fraud_score)?,
            fraud_reasons: parse_json("fraud_reasons", self.fraud_reasons)?,
            verdict: parse_column("verdict", self.verdict, Decision::parse)?,
            original_verdict: self
                .original_verdict
                .map(|verdict| parse_column("original_verdict", verdict, Decision::parse))
                .transpose()?,
            verdict_overridden_at: self.verdict_overridden_at,
            created_at: self.created_at,
        })
    }
}
