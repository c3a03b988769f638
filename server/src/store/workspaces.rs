//! Workspaces and their API keys. A key is stored only as its SHA-256 hash; the key itself
//! is returned once, when it is made.

use protocol::ids::{ApiKeyId, WorkspaceId};
use rand::distr::{Alphanumeric, SampleString as _};
use sha2::{Digest as _, Sha256};

use super::campaigns::parse_column;
use super::{BeginWrite, Store, StoreError, with_pool};

/// What every API key starts with, so a leaked one is easy to recognise (and to scan for).
pub const API_KEY_PREFIX: &str = "hlk_";
/// Random characters after the prefix: 24 alphanumerics, about 143 bits.
const API_KEY_RANDOM_LEN: usize = 24;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceRecord {
    pub id: i64,
    pub public_id: WorkspaceId,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: i64,
    pub workspace_id: i64,
    pub public_id: ApiKeyId,
    pub name: String,
    /// The key's last four characters.
    pub token_hint: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A key just made: the record, and the key itself, which is not stored and cannot be shown
/// again.
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    pub record: ApiKeyRecord,
    pub key: String,
}

/// The workspace a valid, unrevoked key acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub workspace: WorkspaceRecord,
    pub key_id: i64,
}

impl Store {
    /// Whether any workspace exists (first-run setup is open only while none does).
    pub async fn any_workspace(&self) -> Result<bool, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM workspaces)")
                .fetch_one(pool)
                .await?
        }))
    }

    /// Creates a workspace with its first API key. With `only_if_first`, does nothing and
    /// returns `None` if a workspace exists already (first-run setup, safe against two setups
    /// at once on PostgreSQL by a lock on the table). The first workspace also adopts the
    /// campaigns made before workspaces existed (the demo campaign).
    pub async fn create_workspace(
        &self,
        name: &str,
        key_name: &str,
        only_if_first: bool,
        now: i64,
    ) -> Result<Option<(WorkspaceRecord, CreatedApiKey)>, StoreError> {
        let public_id = WorkspaceId::from_suffix(&random_suffix(16));
        let (key, token_hash, token_hint) = new_key();
        let key_public_id = ApiKeyId::from_suffix(&random_suffix(16));
        let created = with_pool!(&self.pool, pool => {
            let mut tx = pool.begin_write().await?;
            if self.is_postgres() {
                sqlx::query("LOCK TABLE workspaces IN EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
            }
            let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM workspaces)")
                .fetch_one(&mut *tx)
                .await?;
            if only_if_first && exists {
                return Ok(None);
            }
            let workspace_id: i64 = sqlx::query_scalar(
                "INSERT INTO workspaces (public_id, name, created_at) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(public_id.as_str())
            .bind(name)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let key_id: i64 = sqlx::query_scalar(
                "INSERT INTO api_keys (workspace_id, public_id, name, token_hash, token_hint, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(workspace_id)
            .bind(key_public_id.as_str())
            .bind(key_name)
            .bind(&token_hash)
            .bind(&token_hint)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            if !exists {
                sqlx::query("UPDATE campaigns SET workspace_id = $1 WHERE workspace_id IS NULL")
                    .bind(workspace_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            (workspace_id, key_id)
        });
        self.campaigns.clear();
        let (workspace_id, key_id) = created;
        Ok(Some((
            WorkspaceRecord {
                id: workspace_id,
                public_id,
                name: name.to_owned(),
                created_at: now,
            },
            CreatedApiKey {
                record: ApiKeyRecord {
                    id: key_id,
                    workspace_id,
                    public_id: key_public_id,
                    name: key_name.to_owned(),
                    token_hint,
                    created_at: now,
                    last_used_at: None,
                    revoked_at: None,
                },
                key,
            },
        )))
    }

    pub async fn rename_workspace(&self, workspace_id: i64, name: &str) -> Result<(), StoreError> {
        with_pool!(&self.pool, pool => {
            sqlx::query("UPDATE workspaces SET name = $1 WHERE id = $2")
                .bind(name)
                .bind(workspace_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The workspace `key` acts for, if it is a key that exists and is not revoked. Marks the
    /// key used at `now` (at most once a minute, so reads stay reads).
    pub async fn authenticate(
        &self,
        key: &str,
        now: i64,
    ) -> Result<Option<Authenticated>, StoreError> {
        if !key.starts_with(API_KEY_PREFIX) {
            return Ok(None);
        }
        let row: Option<AuthRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT k.id AS key_id, k.last_used_at, w.id, w.public_id, w.name, w.created_at
                 FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id
                 WHERE k.token_hash = $1 AND k.revoked_at IS NULL",
            )
            .bind(hash_key(key))
            .fetch_optional(pool)
            .await?
        });
        let Some(row) = row else { return Ok(None) };
        if row.last_used_at.is_none_or(|used| now - used > 60_000) {
            with_pool!(&self.pool, pool => {
                sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(row.key_id)
                    .execute(pool)
                    .await?;
            });
        }
        Ok(Some(Authenticated {
            key_id: row.key_id,
            workspace: WorkspaceRecord {
                id: row.id,
                public_id: parse_column("public_id", row.public_id, WorkspaceId::parse)?,
                name: row.name,
                created_at: row.created_at,
            },
        }))
    }

    /// Signs in to the console with `key`: a new session token (the cookie's value; only its
    /// hash is kept) valid until `expires_at`, or `None` if the key is not valid.
    pub async fn create_console_session(
        &self,
        key: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<Option<String>, StoreError> {
        let Some(caller) = self.authenticate(key, now).await? else {
            return Ok(None);
        };
        let token = random_suffix(32);
        with_pool!(&self.pool, pool => {
            sqlx::query(
                "INSERT INTO console_sessions (token_hash, api_key_id, created_at, expires_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(hash_key(&token))
            .bind(caller.key_id)
            .bind(now)
            .bind(expires_at)
            .execute(pool)
            .await?;
        });
        Ok(Some(token))
    }

    /// The workspace a console session acts for, if the session has not expired or been
    /// ended and its API key is still valid.
    pub async fn console_session(
        &self,
        token: &str,
        now: i64,
    ) -> Result<Option<Authenticated>, StoreError> {
        let row: Option<AuthRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT k.id AS key_id, k.last_used_at, w.id, w.public_id, w.name, w.created_at
                 FROM console_sessions s
                 JOIN api_keys k ON k.id = s.api_key_id
                 JOIN workspaces w ON w.id = k.workspace_id
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND k.revoked_at IS NULL",
            )
            .bind(hash_key(token))
            .bind(now)
            .fetch_optional(pool)
            .await?
        });
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Authenticated {
            key_id: row.key_id,
            workspace: WorkspaceRecord {
                id: row.id,
                public_id: parse_column("public_id", row.public_id, WorkspaceId::parse)?,
                name: row.name,
                created_at: row.created_at,
            },
        }))
    }

    /// Ends a console session (signing out), and forgets sessions that have expired.
    pub async fn end_console_session(&self, token: &str, now: i64) -> Result<(), StoreError> {
        with_pool!(&self.pool, pool => {
            sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1 OR expires_at <= $2")
                .bind(hash_key(token))
                .bind(now)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn create_api_key(
        &self,
        workspace_id: i64,
        name: &str,
        now: i64,
    ) -> Result<CreatedApiKey, StoreError> {
        let (key, token_hash, token_hint) = new_key();
        let public_id = ApiKeyId::from_suffix(&random_suffix(16));
        let id: i64 = with_pool!(&self.pool, pool => {
            sqlx::query_scalar(
                "INSERT INTO api_keys (workspace_id, public_id, name, token_hash, token_hint, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(workspace_id)
            .bind(public_id.as_str())
            .bind(name)
            .bind(&token_hash)
            .bind(&token_hint)
            .bind(now)
            .fetch_one(pool)
            .await?
        });
        Ok(CreatedApiKey {
            record: ApiKeyRecord {
                id,
                workspace_id,
                public_id,
                name: name.to_owned(),
                token_hint,
                created_at: now,
                last_used_at: None,
                revoked_at: None,
            },
            key,
        })
    }

    /// The workspace's keys, newest first, revoked ones included.
    pub async fn api_keys(&self, workspace_id: i64) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let rows: Vec<ApiKeyRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT id, workspace_id, public_id, name, token_hint, created_at, last_used_at, revoked_at
                 FROM api_keys WHERE workspace_id = $1 ORDER BY id DESC",
            )
            .bind(workspace_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ApiKeyRow::into_record).collect()
    }

    /// Revokes the workspace's key `public_id`. Returns whether such a key exists (revoking
    /// twice is fine).
    pub async fn revoke_api_key(
        &self,
        workspace_id: i64,
        public_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let found = with_pool!(&self.pool, pool => {
            sqlx::query(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1)
                 WHERE workspace_id = $2 AND public_id = $3",
            )
            .bind(now)
            .bind(workspace_id)
            .bind(public_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(found == 1)
    }
}

#[derive(Debug, sqlx::FromRow)]
struct AuthRow {
    key_id: i64,
    last_used_at: Option<i64>,
    id: i64,
    public_id: String,
    name: String,
    created_at: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct ApiKeyRow {
    id: i64,
    workspace_id: i64,
    public_id: String,
    name: String,
    token_hint: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl ApiKeyRow {
    fn into_record(self) -> Result<ApiKeyRecord, StoreError> {
        Ok(ApiKeyRecord {
            id: self.id,
            workspace_id: self.workspace_id,
            public_id: parse_column("public_id", self.public_id, ApiKeyId::parse)?,
            name: self.name,
            token_hint: self.token_hint,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
        })
    }
}

fn random_suffix(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

/// A fresh key, its hash and its hint.
fn new_key() -> (String, String, String) {
    let key = format!("{API_KEY_PREFIX}{}", random_suffix(API_KEY_RANDOM_LEN));
    let hint = key[key.len() - 4..].to_owned();
    let hash = hash_key(&key);
    (key, hash, hint)
}

fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
