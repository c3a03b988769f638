//! What operators ask of the database: whether it answers (`/readyz`) and how much is queued
//! (`/metrics`).

use super::{Store, StoreError, with_pool};
use crate::metrics::QueueDepth;

/// Why the store is not ready.
#[derive(Debug, thiserror::Error)]
pub enum ReadinessError {
    #[error("the database pool is closed")]
    Closed,
    #[error("the database did not answer: {0}")]
    Database(#[source] sqlx::Error),
    #[error("the entry writer has stopped")]
    WriterStopped,
}

impl Store {
    /// Runs `SELECT 1` on the pool and, on SQLite, on the entry writer's connection (after the
    /// writes queued before it).
    pub async fn check_ready(&self) -> Result<(), ReadinessError> {
        with_pool!(&self.pool, pool => {
            if pool.is_closed() {
                return Err(ReadinessError::Closed);
            }
            sqlx::query("SELECT 1")
                .execute(pool)
                .await
                .map_err(|error| match error {
                    sqlx::Error::PoolClosed => ReadinessError::Closed,
                    error => ReadinessError::Database(error),
                })?;
        });
        if let Some(writer) = &self.writer {
            match writer.ping().await {
                Ok(()) => {}
                Err(StoreError::Query(error)) => return Err(ReadinessError::Database(error)),
                Err(_) => return Err(ReadinessError::WriterStopped),
            }
        }
        Ok(())
    }

    /// Deliveries waiting (pending and held) and endpoints by state, over the whole database
    /// (every server sharing it). Counts rows through the `deliveries_due` index.
    pub async fn queue_depth(&self) -> Result<QueueDepth, StoreError> {
        with_pool!(&self.pool, pool => {
            let (pending, held, endpoints_enabled, endpoints_disabled): (i64, i64, i64, i64) =
                sqlx::query_as(
                    "SELECT
                       (SELECT COUNT(*) FROM deliveries WHERE status = 'pending'),
                       (SELECT COUNT(*) FROM deliveries WHERE status = 'held'),
                       (SELECT COUNT(*) FROM endpoints WHERE enabled),
                       (SELECT COUNT(*) FROM endpoints WHERE NOT enabled)",
                )
                .fetch_one(pool)
                .await?;
            Ok(QueueDepth {
                pending,
                held,
                endpoints_enabled,
                endpoints_disabled,
            })
        })
    }
}
