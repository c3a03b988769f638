//! All SQL. The rest of the server talks to the database only through [`Store`].
//!
//! Owns the connection pool, migrations and every query. Must not know HTTP or the webhook
//! wire format: bodies arrive here already serialised, and rows leave as plain structs that
//! other modules turn into `protocol` types.

mod campaigns;
mod deliveries;
mod endpoints;
mod entries;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::ConnectOptions as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use campaigns::CampaignCache;
pub use campaigns::{CampaignRecord, EntryMethodRecord, NewCampaign, NewEntryMethod};
pub use deliveries::{
    AttemptOutcome, Claim, ClaimedDelivery, DeliveryNext, DisableRule, DisabledEndpoint,
    DisabledReason, FinishedAttempt, Recorded, Released,
};
pub use endpoints::{EndpointRecord, ManagedEndpoint};
pub use entries::{
    ContestantRecord, FRAUD_COUNT_CAP, FRAUD_HOURLY_COUNT_CAP, FraudCounts, FraudCountsQuery,
    NewContestant, NewDelivery, NewEntry, StoredEntry,
};
pub use writer::{EntryWriter, WriteTx};

/// How long a connection waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid database URL: {0}")]
    InvalidUrl(#[source] sqlx::Error),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// A statement on the entry writer's own connection failed.
    #[error("database write failed: {0}")]
    Write(#[from] rusqlite::Error),
    #[error("the entry writer thread could not start: {0}")]
    WriterThread(#[source] std::io::Error),
    /// The entry writer opens the database file a second time, so it needs one.
    #[error("the database must be a file, not in memory")]
    InMemoryDatabase,
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A row holds something the code never writes (a hand edit, or a bug).
    #[error("unexpected data in column {column}: {value:?}")]
    Corrupt { column: &'static str, value: String },
    /// The group commit this write was part of failed (the cause is logged once, by the
    /// writer), or the writer has stopped: nothing of it was kept.
    #[error("the entry could not be committed")]
    NotCommitted,
}

/// The database: a pool of SQLite connections for reads and most writes, and the entry
/// writer's own connection for the entry write path.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    writer: EntryWriter,
    campaigns: Arc<CampaignCache>,
}

impl Store {
    /// Opens (creating if missing) the database at `url` and brings its schema up to date.
    ///
    /// WAL lets readers work beside the writer; `synchronous=FULL` makes every commit durable
    /// before the entry is acknowledged. Starts the [`EntryWriter`] once the schema is current.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url).map_err(StoreError::InvalidUrl)?;
        if in_memory(&options) {
            return Err(StoreError::InMemoryDatabase);
        }
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let writer = EntryWriter::start(options.get_filename())?;
        Ok(Self {
            pool,
            writer,
            campaigns: Arc::default(),
        })
    }

    /// The entry writer, for the entry write path.
    pub fn writer(&self) -> &EntryWriter {
        &self.writer
    }

    /// The pool, for tests that count rows.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection (on shutdown), after the writes already queued for the entry
    /// writer have committed.
    pub async fn close(&self) {
        self.writer.stop().await;
        self.pool.close().await;
    }
}

/// Whether `options` name an in-memory database (`sqlite::memory:`, `mode=memory`).
fn in_memory(options: &SqliteConnectOptions) -> bool {
    options
        .to_url_lossy()
        .query_pairs()
        .any(|(name, value)| name == "mode" && value == "memory")
}

/// Reads a non-negative count column as `u32`.
fn to_u32(column: &'static str, value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt {
        column,
        value: value.to_string(),
    })
}
