//! The entry writer: one OS thread that owns one synchronous SQLite connection and runs each
//! write handed to it as one transaction.
//!
//! sqlx runs every statement on a per-connection worker thread, one channel round trip (two
//! thread switches) per statement; a group of entries is thousands of statements. Here a
//! whole group runs on the thread that owns the connection, so the only hand-offs are the
//! group going in and its outcome coming back. Reads stay on the sqlx pool beside it (WAL).
//!
//! Owns the writer thread, its connection and the transaction boundaries (`BEGIN IMMEDIATE`,
//! `COMMIT`, `ROLLBACK`); the statements themselves live with their tables ([`WriteTx`]'s
//! entry methods are in `entries.rs`). Must not run anything but short synchronous database
//! work on its thread: every write waits behind the one before it.

use std::cell::{OnceCell, RefCell, RefMut};
use std::ffi::c_int;
use std::future::Future;
use std::net::IpAddr;
use std::ops::{Deref, DerefMut};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::pin::pin;
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Statement, Transaction, TransactionBehavior};
use tokio::sync::oneshot;
use tracing::{error, info, warn};

use super::addresses::{Addresses, Pending};
use super::deliveries::{Handoff, Leases, release_leases_on};
use super::{BUSY_TIMEOUT, StoreError};

/// Prepared statements kept per connection by rusqlite's cache (the writes off the entry path);
/// more than they use.
const STATEMENT_CACHE_CAPACITY: usize = 32;

/// Statements [`Statements`] keeps; more than the entry path uses (any beyond are prepared
/// at each use).
const KEPT_STATEMENTS: usize = 32;

/// The writer connection's lookaside slots (`page_cache::give_lookaside`): 1,000 of SQLite's
/// default 1,200 bytes, 1.2 MB, so its statements' records and keys seldom need `malloc`.
/// Under callgrind the writer's instructions per entry fell 127.9k → 123.3k.
const WRITER_LOOKASIDE: (c_int, c_int) = (1_200, 1_000);

/// The writer connection's page cache, in KiB (a negative `cache_size` counts KiB).
const WRITER_CACHE_KIB: i64 = -32 * 1024;

/// WAL pages (4 KiB each) past which a commit of the writer checkpoints itself (SQLite's
/// default is 1,000). Only such a checkpoint, with the writer waiting, lets the WAL start
/// over (the checkpointer's, beside a busy writer, never catches up with it). Each holds the
/// entries behind it up: at 16,000 pages (every half second under the ingest benchmark's
/// load) they made its p99 latency 20 ms, at 64,000 12 to 14 ms.
///
/// What such a checkpoint copies is each page the WAL holds once, its latest version: most
/// are leaves of the indexes over random values (emails, addresses), each written again and
/// again. Once the database is large (past a million entries) a WAL of 64,000 pages held
/// each such leaf about twice, and the writer's checkpoints took a fifth to a quarter of its
/// time (a third of the run's wall time with their syncs). A WAL four times as long holds
/// each about four times more often, so its checkpoint copies far fewer pages per entry. In
/// five alternating pairs of 90 s ingest benchmark runs, 256,000 against 64,000: 20,222,
/// 18,307, 20,485, 19,206 and 19,524 entries/s against 17,360, 17,896, 17,273, 16,954 and
/// 17,380 (the last 10 s: 14,243–18,310/s against 12,778–15,732); over 30 s 6–10% more,
/// over 10 s 1–4% less (the WAL file is still growing then; that each commit making the
/// file longer is what costs is a guess, not measured). The
/// longest answer, one waiting for such a checkpoint, is 0.6–0.7 s instead of 0.4–0.5 s (about
/// once every 4 s under that load; p99 the same). The WAL file grows to about 1 GiB under
/// a sustained load and stays that long until the server stops (SQLite removes it then).
const WRITER_AUTOCHECKPOINT_PAGES: i64 = 256_000;

/// How often the checkpointer copies the WAL into the database file. Under load the writer's
/// own checkpoints copy most of it; the checkpointer keeps the WAL short when they do not
/// come (light load) and copies what is left when the writer stops. More often costs more
/// than it saves: each round writes every page changed since the last (the pages at random
/// places in the indexes, again and again) and syncs the database file, whose sync the next
/// commits' syncs then wait behind. In two alternating pairs of 60 s ingest benchmark runs,
/// every 2 s against every 50 ms: 16,472 and 18,651 entries/s, p99 8.0 and 6.8 ms, against
/// 16,149 and 17,254/s, p99 9.7 and 8.8 ms; the checkpointer 1 µs per entry against 8.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);

/// A write for the thread: runs against its connection (with the statements kept on it, and
/// the entries' addresses) and sends its own answer.
type Work = Box<
    dyn for<'s, 'conn> FnOnce(&'conn Connection, &'s Statements<'conn>, &'s RefCell<Addresses>)
        + Send,
>;

enum Message {
    Write(Work),
    /// Finish what was queued before, close the connection, then answer.
    Stop(oneshot::Sender<()>),
}

/// The handle to the writer thread. Cloning shares the thread; it ends when every handle is
/// gone or [`Self::stop`] is called, after the writes queued before.
#[derive(Debug, Clone)]
pub struct EntryWriter {
    messages: mpsc::Sender<Message>,
    /// Where the deliveries its transactions lease go once they commit.
    handoff: Arc<Handoff>,
}

impl EntryWriter {
    /// Opens `path` with the pool's settings (WAL, `synchronous=FULL`, busy timeout, foreign
    /// keys) and starts the thread. The schema must already be migrated.
    pub(super) fn start(path: &Path, handoff: Arc<Handoff>) -> Result<Self, StoreError> {
        let connection = open(path, Role::Writer)?;
        let loading = std::time::Instant::now();
        let addresses = Addresses::load(&connection)?;
        info!(
            addresses = addresses.len(),
            ms = loading.elapsed().as_millis(),
            "the entry writer read the entries' addresses"
        );
        let checkpoints = open(path, Role::Checkpointer)?;
        let (messages, received) = mpsc::channel();
        let (keep_checkpointing, checkpointing) = mpsc::channel::<()>();
        thread::Builder::new()
            .name("hookline-checkpoint".to_owned())
            .spawn(move || checkpoint(checkpoints, checkpointing))
            .map_err(StoreError::WriterThread)?;
        thread::Builder::new()
            .name("hookline-entry-writer".to_owned())
            .spawn(move || {
                run(connection, addresses, received);
                // The checkpointer stops with the writer, after a last checkpoint.
                drop(keep_checkpointing);
            })
            .map_err(StoreError::WriterThread)?;
        Ok(Self { messages, handoff })
    }

    /// Runs `work` in one transaction on the writer thread: `BEGIN IMMEDIATE`, `work`, then
    /// `COMMIT` if it returned `Ok` (durable when this returns), `ROLLBACK` if it returned
    /// `Err`. [`StoreError::NotCommitted`] if the writer has stopped or `work` panicked.
    /// Deliveries `work` leased are handed to the dispatcher right after the commit.
    pub async fn write<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut WriteTx<'_, '_>) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (answer, answered) = oneshot::channel();
        let handoff = Arc::clone(&self.handoff);
        let work: Work = Box::new(move |connection, statements, addresses| {
            // The caller may have gone away; what was written stays written.
            let _ = answer.send(transaction(
                connection, statements, addresses, &handoff, work,
            ));
        });
        self.messages
            .send(Message::Write(work))
            .map_err(|_| StoreError::NotCommitted)?;
        answered.await.map_err(|_| StoreError::NotCommitted)?
    }

    /// Whether the thread is running and its connection answers: `SELECT 1` on it, after the
    /// writes queued before. [`StoreError::NotCommitted`] if the writer has stopped.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let (answer, answered) = oneshot::channel();
        let work: Work = Box::new(move |connection, _, _| {
            let answered = connection
                .query_row("SELECT 1", [], |row| row.get::<_, i64>(0))
                .map(|_| ())
                .map_err(StoreError::from);
            // The caller may have gone away (it gave up waiting): nothing to undo.
            let _ = answer.send(answered);
        });
        self.messages
            .send(Message::Write(work))
            .map_err(|_| StoreError::NotCommitted)?;
        answered.await.map_err(|_| StoreError::NotCommitted)?
    }

    /// Takes contestant `contestant_id` out of what the writer keeps of the campaign's
    /// `addresses` (`store/addresses.rs`), after the writes queued before: they were deleted.
    /// Nothing to do if the writer has stopped (it reads them afresh when it starts).
    pub async fn forget(&self, campaign_id: i64, addresses: Vec<IpAddr>, contestant_id: i64) {
        let (answer, answered) = oneshot::channel();
        let work: Work = Box::new(move |_, _, kept| {
            kept.borrow_mut()
                .forget(campaign_id, &addresses, contestant_id);
            let _ = answer.send(());
        });
        if self.messages.send(Message::Write(work)).is_ok() {
            let _ = answered.await;
        }
    }

    /// Lets the writes queued so far finish, then closes the connection and ends the thread.
    /// Writes asked for afterwards get [`StoreError::NotCommitted`].
    pub async fn stop(&self) {
        let (done, stopped) = oneshot::channel();
        if self.messages.send(Message::Stop(done)).is_ok() {
            // Errs only if the thread ended meanwhile (another `stop`): it is stopped either way.
            let _ = stopped.await;
        }
    }
}

/// One write's transaction, on the writer thread. Only the writer creates it.
#[derive(Debug)]
pub struct WriteTx<'s, 'conn> {
    pub(super) tx: Transaction<'conn>,
    /// The statements kept on the writer's connection.
    statements: &'s Statements<'conn>,
    /// Deliveries written leased to the dispatcher, handed off at the commit.
    pub(super) leases: Leases,
    /// The committed entries' addresses, for the fraud filter's counts.
    pub(super) addresses: &'s RefCell<Addresses>,
    /// The addresses of the entries this transaction inserted, added to them at the commit.
    pub(super) inserted: Pending,
}

impl<'conn> WriteTx<'_, 'conn> {
    /// The prepared statement for `sql`, kept on the writer's connection from its first use:
    /// for the statements of the entry path, run for every entry. (rusqlite's own cache,
    /// `prepare_cached`, hashes a statement's whole text twice at every use: 2.3% of the
    /// writer's samples under the ingest benchmark.)
    pub(super) fn statement(
        &self,
        sql: &'static str,
    ) -> Result<KeptStatement<'_, 'conn>, StoreError> {
        Ok(self.statements.get(sql)?)
    }

    /// Marks the start of one entry's writes, so they can be undone alone.
    pub fn savepoint(&mut self) -> Result<(), StoreError> {
        self.tx.prepare_cached("SAVEPOINT entry")?.execute([])?;
        self.leases.savepoint();
        self.inserted.savepoint();
        Ok(())
    }

    /// Keeps the writes since [`Self::savepoint`] (they still need the commit).
    pub fn release_savepoint(&mut self) -> Result<(), StoreError> {
        self.tx.prepare_cached("RELEASE entry")?.execute([])?;
        Ok(())
    }

    /// Undoes the writes since [`Self::savepoint`]; the rest of the transaction stays.
    pub fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        self.tx.prepare_cached("ROLLBACK TO entry")?.execute([])?;
        self.tx.prepare_cached("RELEASE entry")?.execute([])?;
        self.leases.rollback_to_savepoint();
        self.inserted.rollback_to_savepoint();
        Ok(())
    }
}

/// The statements the writer thread keeps prepared on its connection, each found by where
/// its text is: the entry path's texts are constants, so each is at one place for as long
/// as the program runs. Dropped (finalized) before the connection closes.
#[derive(Debug)]
pub struct Statements<'conn> {
    connection: &'conn Connection,
    /// Each place, once taken: the text's address and length, and its statement.
    kept: [OnceCell<Kept<'conn>>; KEPT_STATEMENTS],
}

/// A kept statement: where its text is (address, length), and the statement.
type Kept<'conn> = ((usize, usize), RefCell<Statement<'conn>>);

/// A statement [`WriteTx::statement`] gives: kept, or prepared for one use.
#[derive(Debug)]
pub(super) enum KeptStatement<'s, 'conn> {
    Kept(RefMut<'s, Statement<'conn>>),
    Once(Statement<'conn>),
}

impl<'conn> Deref for KeptStatement<'_, 'conn> {
    type Target = Statement<'conn>;

    fn deref(&self) -> &Self::Target {
        match self {
            Self::Kept(statement) => statement,
            Self::Once(statement) => statement,
        }
    }
}

impl DerefMut for KeptStatement<'_, '_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Self::Kept(statement) => statement,
            Self::Once(statement) => statement,
        }
    }
}

impl<'conn> Statements<'conn> {
    fn new(connection: &'conn Connection) -> Self {
        Self {
            connection,
            kept: std::array::from_fn(|_| OnceCell::new()),
        }
    }

    /// The kept statement for `sql`, prepared at its first use. Prepared for this use only
    /// when every place is taken, or when it is in use already (run again while its rows are
    /// read).
    fn get(&self, sql: &'static str) -> rusqlite::Result<KeptStatement<'_, 'conn>> {
        let key = (sql.as_ptr() as usize, sql.len());
        for place in &self.kept {
            let (text, statement) = match place.get() {
                Some(kept) => kept,
                None => {
                    let prepared = RefCell::new(self.connection.prepare(sql)?);
                    place.get_or_init(|| (key, prepared))
                }
            };
            if *text == key {
                return match statement.try_borrow_mut() {
                    Ok(statement) => Ok(KeptStatement::Kept(statement)),
                    Err(_) => self.once(sql),
                };
            }
        }
        self.once(sql)
    }

    /// `sql` prepared for one use.
    fn once(&self, sql: &str) -> rusqlite::Result<KeptStatement<'_, 'conn>> {
        Ok(KeptStatement::Once(self.connection.prepare(sql)?))
    }
}

/// What a connection of this module is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The entry writer: a commit's frames go to the WAL in a few writes of 64 KiB
    /// ([`super::wal_writes`]), and SQLite allocates from [`WRITER_LOOKASIDE`].
    Writer,
    /// The checkpointer: SQLite's default VFS and allocations.
    Checkpointer,
}

fn open(path: &Path, role: Role) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = if role == Role::Writer && super::wal_writes::register() {
        Connection::open_with_flags_and_vfs(path, flags, super::wal_writes::NAME)?
    } else {
        Connection::open_with_flags(path, flags)?
    };
    if role == Role::Writer {
        let (slot_size, slots) = WRITER_LOOKASIDE;
        if let Err(code) = super::page_cache::give_lookaside(&connection, slot_size, slots) {
            warn!(
                code,
                "SQLite kept its default lookaside for the entry writer"
            );
        }
    }
    connection.busy_timeout(BUSY_TIMEOUT)?;
    let journal_mode: String =
        connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !journal_mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt {
            column: "journal_mode",
            value: journal_mode,
        });
    }
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", true)?;
    // A savepoint's undo pages (the statement journal) stay in memory, not in a temporary
    // file written page by page.
    connection.pragma_update(None, "temp_store", "MEMORY")?;
    // Pages the write path touches stay cached across groups (SQLite's default is 2 MiB,
    // less than the indexes an entry writes into; each miss is a read from the file).
    connection.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
    // The checkpointer thread copies the WAL into the database file; the writer does it only
    // should the WAL grow past this (then little is left to copy).
    connection.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    Ok(connection)
}

/// The checkpointer thread: every [`CHECKPOINT_EVERY`], copies the pages the WAL holds into
/// the database file (a `PASSIVE` checkpoint: beside the writer, never waiting for it).
/// Pages written again and again (the growing end of each table and index) are copied once
/// per round. Ends when the writer does (`stopped` disconnects), after one last round.
fn checkpoint(connection: Connection, stopped: mpsc::Receiver<()>) {
    loop {
        let last = matches!(
            stopped.recv_timeout(CHECKPOINT_EVERY),
            Err(mpsc::RecvTimeoutError::Disconnected)
        );
        let done = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            row.get::<_, i64>(0)
        });
        match done {
            // Another connection (another server process, or the pool's) is checkpointing.
            Err(cause) if cause.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {}
            Err(cause) => {
                error!(error = %cause, "a WAL checkpoint failed; the next one tries again")
            }
            Ok(_) => {}
        }
        if last {
            break;
        }
    }
    if let Err((_, cause)) = connection.close() {
        error!(error = %cause, "the checkpointer's connection did not close cleanly");
    }
}

/// The thread: runs each write in turn until stopped or every handle is gone.
fn run(connection: Connection, addresses: Addresses, messages: mpsc::Receiver<Message>) {
    let mut stopped = None;
    let mut statements = Statements::new(&connection);
    let addresses = RefCell::new(addresses);
    while let Ok(message) = messages.recv() {
        match message {
            Message::Write(work) => {
                // A panicking write loses only itself: its transaction is rolled back as it
                // unwinds and its caller gets `NotCommitted`; the thread goes on, with its
                // statements prepared afresh (one may have been left part-way through).
                if catch_unwind(AssertUnwindSafe(|| {
                    work(&connection, &statements, &addresses)
                }))
                .is_err()
                {
                    error!("a write panicked on the entry writer thread; it was rolled back");
                    statements = Statements::new(&connection);
                }
            }
            Message::Stop(done) => {
                stopped = Some(done);
                break;
            }
        }
    }
    // Finalized before the connection closes (else it could not).
    drop(statements);
    // Writes queued after a stop are dropped unrun: their callers get `NotCommitted`.
    drop(messages);
    if let Err((_, cause)) = connection.close() {
        error!(error = %cause, "the entry writer's connection did not close cleanly");
    }
    if let Some(done) = stopped {
        // Errs only if `stop`'s caller went away; nothing is waiting then.
        let _ = done.send(());
    }
}

/// `BEGIN IMMEDIATE`, `work`, `COMMIT`, then the hand-off of what it leased; dropping the
/// transaction on `Err` rolls it back (and nothing is handed off).
fn transaction<'conn, R>(
    connection: &'conn Connection,
    statements: &Statements<'conn>,
    addresses: &RefCell<Addresses>,
    handoff: &Handoff,
    work: impl FnOnce(&mut WriteTx<'_, 'conn>) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    let (done, leases, inserted) = {
        // Unchecked: only in that it takes the connection shared (the writer's thread runs one
        // transaction at a time).
        let tx = Transaction::new_unchecked(connection, TransactionBehavior::Immediate)?;
        // What another process wrote since (none can meanwhile: this holds the write lock).
        addresses.borrow_mut().catch_up(connection)?;
        let mut tx = WriteTx {
            tx,
            statements,
            leases: handoff.leases(),
            addresses,
            inserted: Pending::default(),
        };
        let done = work(&mut tx)?;
        let WriteTx {
            tx,
            leases,
            inserted,
            ..
        } = tx;
        tx.commit()?;
        (done, leases, inserted)
    };
    inserted.committed(&mut addresses.borrow_mut());
    let unsent = leases.hand_off();
    if !unsent.is_empty() {
        release_leases_on(connection, &unsent);
    }
    Ok(done)
}

/// Runs a future that never waits to completion, on the calling thread.
///
/// The entry write path is written once, as `async` code over [`super::EntryWrites`], for
/// both databases. On SQLite its statements are synchronous calls on the writer thread, so
/// the future it makes is ready at its first poll; this polls it that once.
///
/// # Panics
///
/// If the future is not ready at once, which would mean an `await` on something that waits
/// crept into the SQLite path: a bug, caught by every test that writes an entry.
pub fn run_ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a SQLite write waited; the writer thread cannot wait"),
    }
}

#[cfg(test)]
mod tests {
    use super::{KEPT_STATEMENTS, KeptStatement, Statements};

    fn answer(statement: &mut KeptStatement<'_, '_>) -> i64 {
        statement
            .query_row([], |row| row.get(0))
            .expect("the statement runs")
    }

    /// A text is prepared once and its statement used again; while it is in use, or when
    /// every place is taken, a statement is prepared for one use, and runs all the same.
    #[test]
    fn statements_are_kept_by_their_text() {
        let connection = rusqlite::Connection::open_in_memory().expect("an in-memory database");
        let statements = Statements::new(&connection);
        let kept = |statement: &KeptStatement<'_, '_>| match statement {
            KeptStatement::Kept(kept) => Some((&raw const **kept).cast::<()>()),
            KeptStatement::Once(_) => None,
        };
        const ONE: &str = "SELECT 1";
        let mut first = statements.get(ONE).expect("prepared");
        let at = kept(&first).expect("kept");
        assert_eq!(answer(&mut first), 1);
        {
            // Asked again while in use.
            let mut again = statements.get(ONE).expect("prepared");
            assert_eq!(kept(&again), None);
            assert_eq!(answer(&mut again), 1);
        }
        drop(first);
        let mut later = statements.get(ONE).expect("prepared");
        assert_eq!(kept(&later), Some(at));
        assert_eq!(answer(&mut later), 1);
        drop(later);

        // Every other place taken by a text of its own; the next text is prepared each time.
        let texts: Vec<&'static str> = (2..=KEPT_STATEMENTS as i64 + 1)
            .map(|n| &*Box::leak(format!("SELECT {n}").into_boxed_str()))
            .collect();
        for (n, text) in (2..).zip(&texts) {
            let mut statement = statements.get(text).expect("prepared");
            assert_eq!(answer(&mut statement), n);
            let last = n == KEPT_STATEMENTS as i64 + 1;
            assert_eq!(kept(&statement).is_none(), last, "{text}");
        }
        assert!(kept(&statements.get(ONE).expect("prepared")).is_some());
    }

    /// The writer's connection allocates from its own lookaside slots, the checkpointer's
    /// from SQLite's default few.
    #[test]
    fn the_writer_connection_has_its_lookaside() {
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("lookaside.db");
        let in_use = |role| {
            let connection = super::open(&path, role).expect("opened");
            super::super::page_cache::lookaside_in_use_by_statements(&connection)
        };
        let writer = in_use(super::Role::Writer);
        let checkpointer = in_use(super::Role::Checkpointer);
        assert!(
            writer > 500,
            "{writer} slots in use on the writer's connection"
        );
        assert!(
            checkpointer < 200,
            "{checkpointer} slots in use on the checkpointer's"
        );
    }

    /// The bundled SQLite is built to sync with `fdatasync` (`.cargo/config.toml`), not
    /// `fsync`, which also writes the file's inode at every commit.
    #[test]
    fn sqlite_is_built_to_sync_with_fdatasync() {
        assert!(
            option_env!("LIBSQLITE3_FLAGS").is_some_and(|flags| flags
                .split_whitespace()
                .any(|flag| flag == "-DHAVE_FDATASYNC=1")),
            "LIBSQLITE3_FLAGS = {:?}",
            option_env!("LIBSQLITE3_FLAGS")
        );
    }

    /// Each connection has a page cache of its own, not one shared by all behind one
    /// process-wide mutex (`.cargo/config.toml` leaves out SQLite's memory management).
    #[test]
    fn sqlite_is_built_without_a_shared_page_cache() {
        let connection = rusqlite::Connection::open_in_memory().expect("an in-memory database");
        let options: Vec<String> = connection
            .prepare("PRAGMA compile_options")
            .and_then(|mut options| options.query_map([], |row| row.get(0))?.collect())
            .expect("SQLite's compile options");
        assert!(
            options.iter().any(|option| option == "THREADSAFE=1"),
            "{options:?}"
        );
        assert!(
            !options
                .iter()
                .any(|option| option == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
    }
}
