//! All SQL. The rest of the server talks to the database only through [`Store`].
//!
//! Two databases sit behind the one boundary: SQLite (the default, embedded, WAL) and
//! PostgreSQL (chosen by a `postgres://` URL; several server processes may share one). Most
//! queries are one SQL text run on either pool ([`with_pool!`]) and read into `FromRow` row
//! structs that decode the same on both, since every integer column is BIGINT-sized. Where
//! the two differ (the entry write path, claiming deliveries) each has its own code.
//!
//! Owns the connection pools, migrations and every query. Must not know HTTP or the webhook
//! wire format: bodies arrive here already serialised, and rows leave as plain structs that
//! other modules turn into `protocol` types.

mod addresses;
mod answers;
mod campaigns;
mod connectors;
mod contestants;
mod deliveries;
mod endpoints;
mod entries;
mod health;
mod history;
mod jobs;
mod page_cache;
mod postgres;
mod streams;
mod uploads;
mod wal_writes;
mod workspaces;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::ConnectOptions as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use answers::AnswerDelivery;
use campaigns::CampaignCache;
pub use campaigns::{CampaignRecord, EntryMethodRecord, KeyTaken, NewCampaign, NewEntryMethod};
pub use connectors::{AuthConnectorRecord, ConnectorWrite, DeleteConnector};
pub use contestants::{ContestantRow, EntryFilter, EntryRow, VerdictChanged};
pub use deliveries::{
    AttemptOutcome, BusyEndpoints, Claim, ClaimedDelivery, DeliveryNext, DisableRule,
    DisabledEndpoint, DisabledReason, FinishedAttempt, HandedOff, Recorded, Released,
};
pub use endpoints::{AttemptStats, EndpointRecord, EndpointSettings, ManagedEndpoint};
pub use entries::{
    Completion, ContestantRecord, EntryWrites, FraudAsk, FraudCounts, FraudCountsQuery, FraudRead,
    GivenReward, GroupKey, NewContestant, NewCredit, NewDelivery, NewEntry, NewReward,
    ReferrerRecord, StoredEntry, SubscribedEndpoint, token_hash,
};
pub use health::ReadinessError;
pub use history::{AttemptRecord, DeliveryFilter, DeliveryRecord, EntryAnswerRow};
pub use jobs::{
    EntryBodyQuery, EntryBodyRow, JobCounts, JobDelivery, JobPage, JobRecord, NewJob, PageWritten,
};
pub use postgres::{PgEntries, PgWriteTx};
pub use streams::{ConversionRow, NewConversion, NewStream, RecentEntry, Stored, StreamRecord};
pub use uploads::{CouponCounts, UploadRow};
pub use workspaces::{API_KEY_PREFIX, ApiKeyRecord, Authenticated, CreatedApiKey, WorkspaceRecord};
pub use writer::{EntryWriter, WriteTx, run_ready};

/// How long a connection waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections in the PostgreSQL pool: requests, the entry writers and the delivery loop.
const POSTGRES_CONNECTIONS: u32 = 24;

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid database URL: {0}")]
    InvalidUrl(#[source] sqlx::Error),
    #[error("unsupported database URL {0:?}: expected sqlite:// or postgres://")]
    UnsupportedUrl(String),
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
    /// Another transaction wrote the same contestant between what an entry read before
    /// writing and its first write (PostgreSQL, where several groups commit at once): what it
    /// checked no longer holds, so its writes are undone and it is tried again.
    #[error("the contestant was written by another transaction meanwhile")]
    Contended,
    /// An entry of a group written without savepoints failed after it began writing: only
    /// the whole transaction can be undone. The group is then written again, each entry in a
    /// savepoint of its own.
    #[error("the group must be written again entry by entry")]
    GroupUndone,
}

/// Which database a [`Store`] is on, with its pool.
#[derive(Debug, Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the store's pool ([`Pool`]), whichever database it is:
/// the body is compiled once per database, so one SQL text (with `$1` placeholders, which
/// both accept) and one `FromRow` struct serve both. Exported for tests that read rows.
#[macro_export]
macro_rules! with_pool {
    ($pool_of:expr, $pool:ident => $body:expr) => {
        match $pool_of {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}
pub use crate::with_pool;

/// Opening a transaction that will write, on either pool. On SQLite it is `BEGIN
/// IMMEDIATE`: a deferred transaction that reads first cannot take the write lock later
/// once another connection (the entry writer) has committed (`SQLITE_BUSY`, not waited
/// for); an immediate one waits its turn (busy timeout) before it reads. On PostgreSQL
/// row locks do that job, and it is a plain `BEGIN`.
pub(crate) trait BeginWrite {
    type Database: sqlx::Database;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

/// The database: a pool of connections for reads and most writes, and the entry write path
/// (SQLite: the entry writer's own connection; PostgreSQL: transactions on the pool).
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    /// SQLite only: every write that must not wait on the pool's locks goes through it.
    writer: Option<EntryWriter>,
    campaigns: Arc<CampaignCache>,
    /// This process's delivery dispatcher, if one runs: new due deliveries go to it leased.
    handoff: Arc<deliveries::Handoff>,
    /// PostgreSQL only: when this process last analysed the tables entries are written to.
    statistics: Arc<postgres::Statistics>,
}

/// Where the entry write path runs, for [`crate::ingest`].
#[derive(Debug, Clone, Copy)]
pub enum EntryPath<'a> {
    /// Each group runs on the writer thread, synchronously, in one transaction.
    Sqlite(&'a EntryWriter),
    /// Each group runs in one transaction on a pool connection; several at once.
    Postgres(PgEntries<'a>),
}

/// Whether a database URL names PostgreSQL (else it should be SQLite's).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Store {
    /// Opens the database at `url` (creating a SQLite file if missing) and brings its schema
    /// up to date.
    ///
    /// SQLite: WAL lets readers work beside the writer; `synchronous=FULL` makes every commit
    /// durable before the entry is acknowledged; the [`EntryWriter`] starts once the schema
    /// is current. PostgreSQL: its commits are durable by default (`synchronous_commit=on`).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if is_postgres_url(url) {
            return Self::connect_postgres(url).await;
        }
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        }
        page_cache::configure();
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
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        let handoff = Arc::default();
        let writer = EntryWriter::start(options.get_filename(), Arc::clone(&handoff))?;
        Ok(Self {
            pool: Pool::Sqlite(pool),
            writer: Some(writer),
            campaigns: Arc::default(),
            handoff,
            statistics: Arc::default(),
        })
    }

    async fn connect_postgres(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(StoreError::InvalidUrl)?;
        let pool = PgPoolOptions::new()
            .max_connections(POSTGRES_CONNECTIONS)
            .connect_with(options)
            .await?;
        // Several processes may start at once: the migrator takes an advisory lock.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self {
            pool: Pool::Postgres(pool),
            writer: None,
            campaigns: Arc::default(),
            handoff: Arc::default(),
            statistics: Arc::default(),
        })
    }

    /// Where entries are written.
    pub fn entry_path(&self) -> EntryPath<'_> {
        match (&self.pool, &self.writer) {
            (Pool::Postgres(pool), _) => {
                EntryPath::Postgres(PgEntries::new(pool, &self.handoff, &self.statistics))
            }
            (Pool::Sqlite(_), Some(writer)) => EntryPath::Sqlite(writer),
            (Pool::Sqlite(_), None) => unreachable!("a SQLite store always has its writer"),
        }
    }

    /// The pool, for tests that look at rows directly (through [`with_pool!`]-style matches).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Whether this store is on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.pool, Pool::Postgres(_))
    }

    /// Closes every connection (on shutdown), after the writes already queued for the entry
    /// writer have committed.
    pub async fn close(&self) {
        if let Some(writer) = &self.writer {
            writer.stop().await;
        }
        with_pool!(&self.pool, pool => pool.close().await);
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

#[cfg(test)]
mod tests {
    /// SQLite numbers `$1`-style names in order of first appearance, and the SQLite write path
    /// binds by position: each shared statement must name `$1`, `$2`, … first in that order.
    #[test]
    fn shared_statements_name_their_placeholders_in_order() {
        for statement in super::entries::sql::all()
            .into_iter()
            .chain(super::deliveries::attempt_sql::all())
        {
            let mut next = 1;
            let mut rest = statement;
            while let Some(at) = rest.find('$') {
                let digits: String = rest[at + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let number: usize = digits.parse().expect("`$` is followed by a number");
                assert!(
                    number <= next,
                    "${number} appears before ${next} in: {statement}"
                );
                if number == next {
                    next += 1;
                }
                rest = &rest[at + 1 + digits.len()..];
            }
        }
    }
}
