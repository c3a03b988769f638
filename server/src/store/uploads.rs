//! Files contestants upload for `upload` entry methods, and Reward campaigns' coupon pools.
//! Files live in the database (so every server process behind a load balancer has them);
//! they are small images, capped by the uploads route.

use super::{BeginWrite, Store, StoreError, with_pool};

/// A stored upload.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UploadRow {
    pub campaign_id: i64,
    pub content_type: String,
    pub data: Vec<u8>,
    pub created_at: i64,
}

/// A campaign's coupon pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CouponCounts {
    pub available: u64,
    pub assigned: u64,
}

impl Store {
    pub async fn insert_upload(
        &self,
        public_id: &str,
        campaign_id: i64,
        content_type: &str,
        data: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        let size = i64::try_from(data.len()).unwrap_or(i64::MAX);
        with_pool!(&self.pool, pool => {
            sqlx::query(
                "INSERT INTO uploads (public_id, campaign_id, content_type, size, data, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(public_id)
            .bind(campaign_id)
            .bind(content_type)
            .bind(size)
            .bind(data)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn upload(&self, public_id: &str) -> Result<Option<UploadRow>, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT campaign_id, content_type, data, created_at FROM uploads WHERE public_id = $1",
            )
            .bind(public_id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// The campaign and content type of upload `public_id`, without its bytes: what an entry
    /// citing it needs.
    pub async fn upload_info(&self, public_id: &str) -> Result<Option<(i64, String)>, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT campaign_id, content_type FROM uploads WHERE public_id = $1",
            )
            .bind(public_id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Adds `codes` to campaign `campaign_id`'s pool; codes already in it are skipped.
    /// Returns how many were added.
    pub async fn add_coupons(
        &self,
        campaign_id: i64,
        codes: &[String],
        now: i64,
    ) -> Result<u64, StoreError> {
        with_pool!(&self.pool, pool => {
            let mut tx = pool.begin_write().await?;
            let mut added = 0;
            for code in codes {
                added += sqlx::query(
                    "INSERT INTO coupons (campaign_id, code, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (campaign_id, code) DO NOTHING",
                )
                .bind(campaign_id)
                .bind(code)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            Ok(added)
        })
    }

    pub async fn coupon_counts(&self, campaign_id: i64) -> Result<CouponCounts, StoreError> {
        let (available, assigned): (i64, i64) = with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT COUNT(*) FILTER (WHERE contestant_id IS NULL),
                        COUNT(*) FILTER (WHERE contestant_id IS NOT NULL)
                 FROM coupons WHERE campaign_id = $1",
            )
            .bind(campaign_id)
            .fetch_one(pool)
            .await?
        });
        Ok(CouponCounts {
            available: u64::try_from(available).unwrap_or(0),
            assigned: u64::try_from(assigned).unwrap_or(0),
        })
    }
}
