//! Auth connectors: a workspace's credentials (Basic, Bearer, API key) that its endpoints
//! share. The credentials arrive here already encrypted (`secrets`); this module never sees
//! them in the clear.

use super::campaigns::parse_column;
use super::{BeginWrite, Store, StoreError, with_pool};
use protocol::ids::{AuthConnectorId, EndpointId};

/// A connector as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConnectorRecord {
    pub id: i64,
    pub public_id: AuthConnectorId,
    pub workspace_id: i64,
    pub name: String,
    /// `basic`, `bearer` or `api_key`.
    pub kind: String,
    /// Basic only ('' otherwise).
    pub username: String,
    /// API key only ('' otherwise).
    pub header_name: String,
    /// `v1:…`, bound to `public_id`.
    pub secret: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A connector to create or the new state of one.
#[derive(Debug, Clone, Copy)]
pub struct ConnectorWrite<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub username: &'a str,
    pub header_name: &'a str,
    pub secret: &'a str,
}

/// Why a connector could not be deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteConnector {
    Deleted,
    NotFound,
    /// These endpoints (not deleted) use it.
    InUse(Vec<EndpointId>),
}

const COLUMNS: &str = "id, public_id, workspace_id, name, kind, username, header_name, secret, created_at, updated_at";

impl Store {
    pub async fn insert_auth_connector(
        &self,
        workspace_id: i64,
        public_id: &AuthConnectorId,
        connector: &ConnectorWrite<'_>,
        now: i64,
    ) -> Result<AuthConnectorRecord, StoreError> {
        let row: ConnectorRow = with_pool!(&self.pool, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "INSERT INTO auth_connectors (public_id, workspace_id, name, kind, username, header_name, secret, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {COLUMNS}"
            )))
            .bind(public_id.as_str())
            .bind(workspace_id)
            .bind(connector.name)
            .bind(connector.kind)
            .bind(connector.username)
            .bind(connector.header_name)
            .bind(connector.secret)
            .bind(now)
            .fetch_one(pool)
            .await?
        });
        row.into_record()
    }

    /// Connector `public_id` of workspace `workspace_id`.
    pub async fn workspace_auth_connector(
        &self,
        workspace_id: i64,
        public_id: &str,
    ) -> Result<Option<AuthConnectorRecord>, StoreError> {
        let row: Option<ConnectorRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM auth_connectors WHERE public_id = $1 AND workspace_id = $2"
            )))
            .bind(public_id)
            .bind(workspace_id)
            .fetch_optional(pool)
            .await?
        });
        row.map(ConnectorRow::into_record).transpose()
    }

    /// Connector row `id`, whoever owns it.
    pub async fn auth_connector(&self, id: i64) -> Result<Option<AuthConnectorRecord>, StoreError> {
        let row: Option<ConnectorRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM auth_connectors WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(ConnectorRow::into_record).transpose()
    }

    /// The workspace's connectors, newest first, before row id `before`.
    pub async fn workspace_auth_connectors(
        &self,
        workspace_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuthConnectorRecord>, StoreError> {
        let rows: Vec<ConnectorRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM auth_connectors WHERE workspace_id = $1 AND id < $2
                 ORDER BY id DESC LIMIT $3"
            )))
            .bind(workspace_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ConnectorRow::into_record).collect()
    }

    /// Replaces connector `id`'s name and credentials; bumps the version of every endpoint
    /// using it, so delivery reads the new credentials.
    pub async fn update_auth_connector(
        &self,
        id: i64,
        connector: &ConnectorWrite<'_>,
        now: i64,
    ) -> Result<AuthConnectorRecord, StoreError> {
        with_pool!(&self.pool, pool => {
            let mut tx = pool.begin_write().await?;
            let row: ConnectorRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE auth_connectors SET name = $1, username = $2, header_name = $3, secret = $4, updated_at = $5
                 WHERE id = $6 RETURNING {COLUMNS}"
            )))
            .bind(connector.name)
            .bind(connector.username)
            .bind(connector.header_name)
            .bind(connector.secret)
            .bind(now)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("UPDATE endpoints SET version = version + 1 WHERE auth_connector_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            row.into_record()
        })
    }

    /// Endpoints (not deleted) that use connector `id`.
    pub async fn auth_connector_endpoints(&self, id: i64) -> Result<Vec<EndpointId>, StoreError> {
        let ids: Vec<String> = with_pool!(&self.pool, pool => {
            sqlx::query_scalar(
                "SELECT public_id FROM endpoints WHERE auth_connector_id = $1 AND deleted_at IS NULL ORDER BY id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        ids.into_iter()
            .map(|id| parse_column("public_id", id, EndpointId::parse))
            .collect()
    }

    /// Deletes connector `id` unless an endpoint that is not deleted uses it. Deleted
    /// endpoints that used it lose it (restored, they send without it).
    pub async fn delete_auth_connector(
        &self,
        workspace_id: i64,
        id: i64,
    ) -> Result<DeleteConnector, StoreError> {
        let users = self.auth_connector_endpoints(id).await?;
        if !users.is_empty() {
            return Ok(DeleteConnector::InUse(users));
        }
        with_pool!(&self.pool, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE endpoints SET auth_connector_id = NULL, version = version + 1
                 WHERE auth_connector_id = $1 AND deleted_at IS NOT NULL",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            // Checked again inside the transaction, in case an endpoint took it meanwhile.
            let deleted = sqlx::query(
                "DELETE FROM auth_connectors WHERE id = $1 AND workspace_id = $2
                   AND NOT EXISTS (SELECT 1 FROM endpoints WHERE auth_connector_id = $1)",
            )
            .bind(id)
            .bind(workspace_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(if deleted == 0 {
                DeleteConnector::NotFound
            } else {
                DeleteConnector::Deleted
            })
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
struct ConnectorRow {
    id: i64,
    public_id: String,
    workspace_id: i64,
    name: String,
    kind: String,
    username: String,
    header_name: String,
    secret: String,
    created_at: i64,
    updated_at: i64,
}

impl ConnectorRow {
    fn into_record(self) -> Result<AuthConnectorRecord, StoreError> {
        Ok(AuthConnectorRecord {
            id: self.id,
            public_id: parse_column("public_id", self.public_id, AuthConnectorId::parse)?,
            workspace_id: self.workspace_id,
            name: self.name,
            kind: self.kind,
            username: self.username,
            header_name: self.header_name,
            secret: self.secret,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}
