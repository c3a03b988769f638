//! SQLite's process-wide settings, made once before its first connection opens: no memory
//! statistics, and a page cache that skips a full scan at every commit.
//!
//! The scan: when a B-tree page splits, SQLite puts the new pages in ascending order by
//! swapping two of them through a spare page number, the one just past the 1 GiB lock byte
//! (262,145 with 4 KiB pages). Its page cache (`pcache1`) remembers that number as the highest
//! it has held, so at the end of every write transaction, when it drops the pages past the end
//! of the database, it believes they could be anywhere and walks its whole hash table: every
//! page cached, about 8,000 with the entry writer's 32 MiB. Profiled under the ingest
//! benchmark, that walk was 9% of the entry writer thread's time. This wraps SQLite's own
//! cache and keeps the highest page number really held, not counting that transient one, so
//! the truncation is passed on only when some page can lie at or past its limit (the database
//! shrank, or the cache is being cleared).
//!
//! Memory statistics make every allocation of every connection take one global mutex; nothing
//! here reads them.
//!
//! And one connection's setting, [`give_lookaside`]: more of SQLite's own small allocations
//! for the entry writer.
//!
//! One of the server's two unsafe modules (with `wal_writes`): SQLite's C interfaces, called as documented at
//! <https://sqlite.org/c3ref/pcache_methods2.html> and <https://sqlite.org/c3ref/config.html>.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_uint};
use std::sync::OnceLock;

use rusqlite::ffi;
use tracing::warn;

/// The byte SQLite locks at 1 GiB (its `PENDING_BYTE`); the page after it serves the swap.
const PENDING_BYTE: c_uint = 0x4000_0000;

/// SQLite's own page cache, whose calls the wrapper passes on.
static INNER: OnceLock<Methods> = OnceLock::new();

struct Methods(ffi::sqlite3_pcache_methods2);

// SAFETY: SQLite's page cache methods are called from any thread (they lock what they share);
// `pArg` is theirs, passed back to them untouched.
unsafe impl Send for Methods {}
// SAFETY: as above; nothing here writes the methods after they are set.
unsafe impl Sync for Methods {}

/// One cache (SQLite makes one per connection and database), around SQLite's own.
struct Cache {
    inner: *mut ffi::sqlite3_pcache,
    /// The page number `balance_nonroot` swaps through, for this cache's page size.
    swap_key: c_uint,
    /// No page is cached under a higher number (but, for a moment, `swap_key`).
    highest: c_uint,
}

/// Makes the settings, once per process, before SQLite's first connection. Should SQLite
/// already be in use (something opened a connection before), it refuses them and keeps its
/// defaults: slower commits, nothing worse.
pub(super) fn configure() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        // SAFETY: `sqlite3_config` takes these arguments for these options, and is called
        // before any connection opens: the store is the only user of SQLite in the process,
        // and this runs once, before the store's first connection.
        let refused = unsafe {
            let mut inner: ffi::sqlite3_pcache_methods2 = std::mem::zeroed();
            let got = ffi::sqlite3_config(ffi::SQLITE_CONFIG_GETPCACHE2, &raw mut inner);
            if got != ffi::SQLITE_OK {
                Some(got)
            } else {
                let inner = &INNER.get_or_init(|| Methods(inner)).0;
                let wrapped = ffi::sqlite3_pcache_methods2 {
                    iVersion: 1,
                    pArg: inner.pArg,
                    xInit: inner.xInit,
                    xShutdown: inner.xShutdown,
                    xCreate: Some(create),
                    xCachesize: Some(cache_size),
                    xPagecount: Some(page_count),
                    xFetch: Some(fetch),
                    xUnpin: Some(unpin),
                    xRekey: Some(rekey),
                    xTruncate: Some(truncate),
                    xDestroy: Some(destroy),
                    xShrink: Some(shrink),
                };
                // SQLite copies the methods.
                let set = ffi::sqlite3_config(ffi::SQLITE_CONFIG_PCACHE2, &raw const wrapped);
                let off: c_int = 0;
                let quiet = ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, off);
                [set, quiet]
                    .into_iter()
                    .find(|&code| code != ffi::SQLITE_OK)
            }
        };
        if let Some(code) = refused {
            warn!(
                code,
                "SQLite was in use before its settings could be made; its defaults stay"
            );
        }
    });
}

/// Gives `connection` `slots` lookaside slots of `slot_size` bytes: SQLite's allocator of
/// its own, a free list per connection, which serves each allocation that fits one while a
/// slot is free (its default is 40 slots of 1,200 bytes and smaller ones beside them). Each
/// statement SQLite runs frees its registers' buffers when it ends and allocates them again
/// at its next run, a record or key each, a few dozen per entry the writer writes: past the
/// default they came from the C library's `malloc`, 4% of the writer's instructions.
///
/// Must come before the connection's first statement (lookaside memory in use makes SQLite
/// refuse); on refusal the connection keeps SQLite's default and this says why.
pub(super) fn give_lookaside(
    connection: &rusqlite::Connection,
    slot_size: c_int,
    slots: c_int,
) -> Result<(), c_int> {
    // SAFETY: the handle is the open connection's, used on this thread only for this call;
    // a null buffer asks SQLite to allocate the slots itself, and these arguments are the
    // option's (https://sqlite.org/c3ref/c_dbconfig_defensive.html#sqlitedbconfiglookaside).
    let code = unsafe {
        ffi::sqlite3_db_config(
            connection.handle(),
            ffi::SQLITE_DBCONFIG_LOOKASIDE,
            std::ptr::null_mut::<std::ffi::c_void>(),
            slot_size,
            slots,
        )
    };
    if code == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(code)
    }
}

/// Lookaside slots in use on `connection` while it holds 300 prepared statements, each
/// taking slots for its program, as many as it can get: with SQLite's default, fewer than
/// a hundred in all.
#[cfg(test)]
pub(super) fn lookaside_in_use_by_statements(connection: &rusqlite::Connection) -> c_int {
    let held: Vec<_> = (0..300)
        .map(|n| {
            connection
                .prepare(&format!("SELECT {n}"))
                .expect("prepared")
        })
        .collect();
    let (mut current, mut highest) = (0, 0);
    // SAFETY: the open connection's handle, and two integers for SQLite to write.
    let code = unsafe {
        ffi::sqlite3_db_status(
            connection.handle(),
            ffi::SQLITE_DBSTATUS_LOOKASIDE_USED,
            &raw mut current,
            &raw mut highest,
            0,
        )
    };
    assert_eq!(code, ffi::SQLITE_OK);
    drop(held);
    current
}

fn inner() -> &'static ffi::sqlite3_pcache_methods2 {
    &INNER
        .get()
        .expect("the wrapper is installed only after INNER is set")
        .0
}

/// The wrapper behind a cache pointer SQLite holds.
///
/// # Safety
///
/// `cache` came from [`create`] and was not yet given to [`destroy`]; SQLite calls one cache
/// from one thread at a time.
unsafe fn cache<'a>(cache: *mut ffi::sqlite3_pcache) -> &'a mut Cache {
    // SAFETY: as the caller promises.
    unsafe { &mut *cache.cast::<Cache>() }
}

unsafe extern "C" fn create(
    page_size: c_int,
    extra: c_int,
    purgeable: c_int,
) -> *mut ffi::sqlite3_pcache {
    let Some(make) = inner().xCreate else {
        return std::ptr::null_mut();
    };
    // SAFETY: SQLite's own cache, called as SQLite calls it.
    let made = unsafe { make(page_size, extra, purgeable) };
    if made.is_null() {
        return made;
    }
    let page_size = c_uint::try_from(page_size).unwrap_or(1).max(1);
    Box::into_raw(Box::new(Cache {
        inner: made,
        swap_key: PENDING_BYTE / page_size + 1,
        highest: 0,
    }))
    .cast()
}

unsafe extern "C" fn cache_size(this: *mut ffi::sqlite3_pcache, pages: c_int) {
    if let Some(call) = inner().xCachesize {
        // SAFETY: `this` is SQLite's, from `create`; the inner call gets the inner cache.
        unsafe { call(cache(this).inner, pages) }
    }
}

unsafe extern "C" fn page_count(this: *mut ffi::sqlite3_pcache) -> c_int {
    match inner().xPagecount {
        // SAFETY: as in `cache_size`.
        Some(call) => unsafe { call(cache(this).inner) },
        None => 0,
    }
}

unsafe extern "C" fn fetch(
    this: *mut ffi::sqlite3_pcache,
    key: c_uint,
    create: c_int,
) -> *mut ffi::sqlite3_pcache_page {
    let Some(call) = inner().xFetch else {
        return std::ptr::null_mut();
    };
    // SAFETY: as in `cache_size`.
    let this = unsafe { cache(this) };
    // SAFETY: as in `cache_size`.
    let page = unsafe { call(this.inner, key, create) };
    if !page.is_null() {
        this.held(key);
    }
    page
}

unsafe extern "C" fn unpin(
    this: *mut ffi::sqlite3_pcache,
    page: *mut ffi::sqlite3_pcache_page,
    discard: c_int,
) {
    if let Some(call) = inner().xUnpin {
        // SAFETY: as in `cache_size`.
        unsafe { call(cache(this).inner, page, discard) }
    }
}

unsafe extern "C" fn rekey(
    this: *mut ffi::sqlite3_pcache,
    page: *mut ffi::sqlite3_pcache_page,
    old: c_uint,
    new: c_uint,
) {
    if let Some(call) = inner().xRekey {
        // SAFETY: as in `cache_size`.
        let this = unsafe { cache(this) };
        // SAFETY: as in `cache_size`.
        unsafe { call(this.inner, page, old, new) };
        this.held(new);
    }
}

unsafe extern "C" fn truncate(this: *mut ffi::sqlite3_pcache, limit: c_uint) {
    // SAFETY: as in `cache_size`.
    let this = unsafe { cache(this) };
    if limit > this.highest {
        // No page is held at `limit` or past it: nothing to drop.
        return;
    }
    if let Some(call) = inner().xTruncate {
        // SAFETY: as in `cache_size`.
        unsafe { call(this.inner, limit) };
    }
    this.highest = limit.saturating_sub(1);
}

unsafe extern "C" fn destroy(this: *mut ffi::sqlite3_pcache) {
    // SAFETY: `this` came from `create` (`Box::into_raw`) and SQLite destroys it once.
    let this = unsafe { Box::from_raw(this.cast::<Cache>()) };
    if let Some(call) = inner().xDestroy {
        // SAFETY: the inner cache, destroyed once, with its wrapper.
        unsafe { call(this.inner) }
    }
}

unsafe extern "C" fn shrink(this: *mut ffi::sqlite3_pcache) {
    if let Some(call) = inner().xShrink {
        // SAFETY: as in `cache_size`.
        unsafe { call(cache(this).inner) }
    }
}

impl Cache {
    /// A page is now cached under `key`.
    fn held(&mut self, key: c_uint) {
        // The swap's page number is held only inside one balance, never across a truncation.
        if key != self.swap_key {
            self.highest = self.highest.max(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache as SQLite's pager uses it, through the wrapper.
    struct Pager(*mut ffi::sqlite3_pcache);

    impl Pager {
        fn new() -> Self {
            configure();
            // SAFETY: SQLite set up (its page cache is, by `sqlite3_initialize`), then the
            // wrapper's own functions, called as SQLite would.
            Self(unsafe {
                assert_eq!(ffi::sqlite3_initialize(), ffi::SQLITE_OK);
                let made = create(4096, 64, 1);
                // Room for unpinned pages to stay.
                cache_size(made, 100);
                made
            })
        }

        fn fetch(&self, key: c_uint) -> *mut ffi::sqlite3_pcache_page {
            // SAFETY: as above; 2: create the page if missing.
            unsafe { fetch(self.0, key, 2) }
        }

        fn cached(&self, key: c_uint) -> bool {
            // SAFETY: as above; 0: only look.
            !unsafe { fetch(self.0, key, 0) }.is_null()
        }

        fn unpin(&self, page: *mut ffi::sqlite3_pcache_page) {
            // SAFETY: as above.
            unsafe { unpin(self.0, page, 0) }
        }

        fn truncate(&self, limit: c_uint) {
            // SAFETY: as above.
            unsafe { truncate(self.0, limit) }
        }

        fn highest(&self) -> c_uint {
            // SAFETY: as above.
            unsafe { cache(self.0) }.highest
        }
    }

    impl Drop for Pager {
        fn drop(&mut self) {
            // SAFETY: as above, once.
            unsafe { destroy(self.0) }
        }
    }

    /// With 1,000 slots given, statements held at once take far more of them than SQLite's
    /// default has.
    #[test]
    fn a_connection_given_lookaside_serves_more_allocations_from_it() {
        configure();
        let in_use_with = |given: Option<(c_int, c_int)>| {
            let connection = rusqlite::Connection::open_in_memory().expect("a database");
            if let Some((slot_size, slots)) = given {
                assert_eq!(give_lookaside(&connection, slot_size, slots), Ok(()));
            }
            lookaside_in_use_by_statements(&connection)
        };
        let default = in_use_with(None);
        let given = in_use_with(Some((1_200, 1_000)));
        assert!(default < 200, "{default} slots in use by default");
        assert!(given > 500, "{given} slots in use with 1,000 given");
    }

    /// While SQLite holds lookaside memory, it refuses to change the slots.
    #[test]
    fn lookaside_in_use_cannot_be_changed() {
        configure();
        let connection = rusqlite::Connection::open_in_memory().expect("a database");
        let held = connection.prepare("SELECT 1").expect("prepared");
        assert_eq!(
            give_lookaside(&connection, 1_200, 1_000),
            Err(ffi::SQLITE_BUSY)
        );
        drop(held);
    }

    #[test]
    fn a_swap_through_the_spare_page_number_leaves_nothing_to_truncate() {
        let pager = Pager::new();
        let pages: Vec<_> = (1..=3).map(|key| pager.fetch(key)).collect();
        assert!(pages.iter().all(|page| !page.is_null()));
        // balance_nonroot's swap of pages 2 and 3, through the spare number.
        let swap = PENDING_BYTE / 4096 + 1;
        // SAFETY: pinned pages of this cache, moved as SQLite moves them.
        unsafe {
            rekey(pager.0, pages[1], 2, swap);
            rekey(pager.0, pages[2], 3, 2);
            rekey(pager.0, pages[1], swap, 3);
        }
        assert_eq!(pager.highest(), 3);
        for page in pages {
            pager.unpin(page);
        }
        pager.truncate(4);
        assert!(pager.cached(3));
    }

    #[test]
    fn pages_at_or_past_the_limit_are_dropped() {
        let pager = Pager::new();
        for key in 1..=5 {
            let page = pager.fetch(key);
            assert!(!page.is_null());
            pager.unpin(page);
        }
        pager.truncate(3);
        assert!(pager.cached(2));
        assert!(!pager.cached(3));
        assert!(!pager.cached(5));
        assert_eq!(pager.highest(), 2);
        // Clearing the cache drops everything.
        pager.truncate(1);
        assert!(!pager.cached(1));
    }
}
