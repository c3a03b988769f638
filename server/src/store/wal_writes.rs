//! A VFS for the entry writer's connection that joins the writes a commit makes to the WAL
//! file into one.
//!
//! SQLite appends each page a commit changed to the WAL as a frame: a 24-byte header, then
//! the page, each with its own `pwrite`. Profiled under the ingest benchmark, those calls were
//! a quarter of the entry writer thread's time, most of it the cost of a call (and of each
//! file page a call touches), not of the bytes. Here the WAL file's writes wait in memory
//! while they follow one another, and go to the file in writes of 64 KiB: a commit's frames
//! are a few `pwrite`s instead of two per page.
//!
//! They go to the file as soon as a commit's last frame (the one whose header gives the
//! database's size) has come, and before anything reads, syncs, sizes, truncates or closes
//! the file. That is what makes it safe at any `synchronous` setting: SQLite writes a
//! commit's frames, then publishes the commit in the wal-index (`walFrames`: the frames,
//! then `walIndexAppend` and `walIndexWriteHdr`), so every frame another connection may read
//! is in the file first; and a failed write fails the commit before it is published.
//!
//! Every other file (the database, its shared memory) is SQLite's own default VFS's, as are
//! all calls but those named above. SQLite's C interfaces, used as documented at
//! <https://sqlite.org/vfs.html> and <https://sqlite.org/c3ref/io_methods.html>; the WAL's
//! format at <https://sqlite.org/fileformat2.html#walformat>.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_int, c_void};
use std::ptr;
use std::sync::OnceLock;

use rusqlite::ffi;

/// The name connections open the database with to use this VFS.
pub(super) const NAME: &CStr = c"hookline-wal-writes";

/// Most bytes held back before they are written anyway.
const MOST_HELD: usize = 8 << 20;

/// Most bytes one call of the default VFS's `xWrite` is given: the unix VFS passes at most
/// 128 KiB less one byte to one `pwrite` (`seekAndWriteFd`), and answers a longer write with
/// `SQLITE_FULL`.
const MOST_AT_ONCE: usize = 64 << 10;

/// Registers the VFS (once per process); `false` if SQLite refused it, and connections
/// should open with the default.
pub(super) fn register() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    // Finding the default VFS starts SQLite up, after which it takes no process-wide settings.
    super::page_cache::configure();
    *REGISTERED.get_or_init(|| {
        // SAFETY: `sqlite3_vfs_find(NULL)` returns the default VFS, which SQLite keeps for the
        // life of the process; the copy made of it is leaked, so it lives as long, as
        // `sqlite3_vfs_register` requires.
        unsafe {
            let inner = ffi::sqlite3_vfs_find(ptr::null());
            if inner.is_null() {
                return false;
            }
            let mut vfs: ffi::sqlite3_vfs = ptr::read(inner);
            vfs.pNext = ptr::null_mut();
            vfs.zName = NAME.as_ptr();
            vfs.pAppData = inner.cast::<c_void>();
            vfs.szOsFile =
                c_int::try_from(inner_offset()).unwrap_or(c_int::MAX) + (*inner).szOsFile;
            vfs.xOpen = Some(open);
            let vfs = Box::leak(Box::new(vfs));
            ffi::sqlite3_vfs_register(vfs, 0) == ffi::SQLITE_OK
        }
    })
}

/// The WAL file's own header, at its start.
const WAL_HEADER: i64 = 32;

/// Each frame's header, before its page.
const FRAME_HEADER: usize = 24;

/// Writes held back: `bytes` belong at `start` in the file, one after the other.
#[derive(Debug, Default)]
struct Held {
    start: i64,
    bytes: Vec<u8>,
    /// The last write held was the header of a commit's last frame: its page comes next.
    commit_page_next: bool,
}

impl Held {
    /// Whether a write at `offset` continues what is held (nothing held: it starts anew).
    fn continues(&self, offset: i64) -> bool {
        self.bytes.is_empty()
            || i64::try_from(self.bytes.len()).is_ok_and(|len| self.start + len == offset)
    }

    /// Holds `data`, written at `offset`; `true` if what is held must be written now: it ends
    /// a commit (its last frame's page), or it has grown to [`MOST_HELD`].
    fn add(&mut self, offset: i64, data: &[u8]) -> bool {
        if self.bytes.is_empty() {
            self.start = offset;
        }
        self.bytes.extend_from_slice(data);
        let commit_ends = std::mem::replace(
            &mut self.commit_page_next,
            is_commit_frame_header(offset, data),
        );
        commit_ends || self.bytes.len() >= MOST_HELD
    }
}

/// Whether `data`, written at `offset`, is the header of a commit's last frame: a frame
/// header (24 bytes, past the WAL's header) whose second field, the database's size in pages
/// after the commit, is not 0 (it is 0 in every other frame).
fn is_commit_frame_header(offset: i64, data: &[u8]) -> bool {
    offset >= WAL_HEADER
        && data.len() == FRAME_HEADER
        && data.get(4..8).is_some_and(|size| size != [0; 4])
}

/// A file of this VFS: SQLite's `sqlite3_file` first (its methods), then what is held back;
/// the default VFS's file lies at [`inner_offset`].
#[repr(C)]
struct File {
    base: ffi::sqlite3_file,
    held: Held,
}

/// Where the default VFS's file lies in one of ours (8-byte aligned).
const fn inner_offset() -> usize {
    size_of::<File>().next_multiple_of(8)
}

/// The default VFS's file within `file`.
///
/// # Safety
/// `file` is one SQLite allocated for this VFS (`szOsFile` bytes).
unsafe fn inner(file: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    // SAFETY: the allocation is `inner_offset()` plus the default VFS's `szOsFile` bytes.
    unsafe { file.cast::<u8>().add(inner_offset()).cast() }
}

/// The default VFS's methods of its file within `file`.
///
/// # Safety
/// `file` is open (its inner file's `pMethods` set).
unsafe fn methods(file: *mut ffi::sqlite3_file) -> &'static ffi::sqlite3_io_methods {
    // SAFETY: an open inner file's methods are the default VFS's static table.
    unsafe { &*(*inner(file)).pMethods }
}

/// Writes what `file` holds back, if anything.
///
/// # Safety
/// `file` is an open WAL file of this VFS.
unsafe fn write_held(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as documented; the held bytes are ours, the inner file SQLite's.
    unsafe {
        let held = &mut (*file.cast::<File>()).held;
        if held.bytes.is_empty() {
            return ffi::SQLITE_OK;
        }
        let Some(write) = methods(file).xWrite else {
            return ffi::SQLITE_IOERR_WRITE;
        };
        let mut offset = held.start;
        let mut written = ffi::SQLITE_OK;
        for chunk in held.bytes.chunks(MOST_AT_ONCE) {
            let Ok(amount) = c_int::try_from(chunk.len()) else {
                written = ffi::SQLITE_IOERR_WRITE;
                break;
            };
            written = write(inner(file), chunk.as_ptr().cast(), amount, offset);
            if written != ffi::SQLITE_OK {
                break;
            }
            offset += i64::from(amount);
        }
        held.bytes.clear();
        written
    }
}

/// `xOpen`: the default VFS's file, wrapped for a WAL file.
unsafe extern "C" fn open(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    // SAFETY: SQLite calls this as `xOpen`, with `file` of this VFS's `szOsFile` bytes;
    // `pAppData` is the default VFS (see `register`).
    unsafe {
        let default = (*vfs).pAppData.cast::<ffi::sqlite3_vfs>();
        let Some(default_open) = (*default).xOpen else {
            return ffi::SQLITE_CANTOPEN;
        };
        if flags & ffi::SQLITE_OPEN_WAL == 0 {
            // Any other file is the default VFS's own, at the start of the allocation.
            return default_open(default, name, file, flags, out_flags);
        }
        (*file).pMethods = ptr::null();
        let opened = default_open(default, name, inner(file), flags, out_flags);
        if opened != ffi::SQLITE_OK {
            return opened;
        }
        ptr::write(
            ptr::addr_of_mut!((*file.cast::<File>()).held),
            Held::default(),
        );
        (*file).pMethods = &WAL_METHODS;
        ffi::SQLITE_OK
    }
}

/// The WAL file's methods: the default VFS's, but for those that hold writes back or must
/// write them first.
static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

/// Calls the default VFS's method `$method` on the inner file, with `$args`; `$missing` if it
/// has none.
macro_rules! pass_on {
    ($file:expr, $method:ident, $missing:expr $(, $args:expr)*) => {
        // SAFETY: SQLite calls these on an open WAL file of this VFS.
        unsafe {
            match methods($file).$method {
                Some(method) => method(inner($file) $(, $args)*),
                None => $missing,
            }
        }
    };
}

/// [`pass_on!`], once what the file holds back is written (its error, if that fails).
macro_rules! after_writing {
    ($file:expr, $method:ident, $missing:expr $(, $args:expr)*) => {{
        // SAFETY: SQLite calls these on an open WAL file of this VFS.
        let written = unsafe { write_held($file) };
        if written != ffi::SQLITE_OK {
            return written;
        }
        pass_on!($file, $method, $missing $(, $args)*)
    }};
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes an open file once; `held` was written by `open`.
    let written = unsafe { write_held(file) };
    let closed = pass_on!(file, xClose, ffi::SQLITE_OK);
    // SAFETY: as above; nothing reads `held` after this.
    unsafe { ptr::drop_in_place(ptr::addr_of_mut!((*file.cast::<File>()).held)) };
    if written == ffi::SQLITE_OK {
        closed
    } else {
        written
    }
}

unsafe extern "C" fn read(
    file: *mut ffi::sqlite3_file,
    buffer: *mut c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    after_writing!(file, xRead, ffi::SQLITE_IOERR_READ, buffer, amount, offset)
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    let Ok(length) = usize::try_from(amount) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    // SAFETY: an open WAL file of this VFS; SQLite's `data` holds `amount` bytes.
    unsafe {
        if !(*file.cast::<File>()).held.continues(offset) {
            let written = write_held(file);
            if written != ffi::SQLITE_OK {
                return written;
            }
        }
        let data = std::slice::from_raw_parts(data.cast::<u8>(), length);
        if (*file.cast::<File>()).held.add(offset, data) {
            return write_held(file);
        }
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    after_writing!(file, xTruncate, ffi::SQLITE_IOERR_TRUNCATE, size)
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    after_writing!(file, xSync, ffi::SQLITE_IOERR_FSYNC, flags)
}

unsafe extern "C" fn file_size(file: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    after_writing!(file, xFileSize, ffi::SQLITE_IOERR_FSTAT, size)
}

unsafe extern "C" fn lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    pass_on!(file, xLock, ffi::SQLITE_IOERR_LOCK, level)
}

unsafe extern "C" fn unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    pass_on!(file, xUnlock, ffi::SQLITE_IOERR_UNLOCK, level)
}

unsafe extern "C" fn check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    pass_on!(
        file,
        xCheckReservedLock,
        ffi::SQLITE_IOERR_CHECKRESERVEDLOCK,
        out
    )
}

unsafe extern "C" fn file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    // What a file control does to the file is not known here: the held writes go first.
    after_writing!(file, xFileControl, ffi::SQLITE_NOTFOUND, op, arg)
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    pass_on!(file, xSectorSize, 4096)
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    pass_on!(file, xDeviceCharacteristics, 0)
}

unsafe extern "C" fn shm_map(
    file: *mut ffi::sqlite3_file,
    region: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    pass_on!(
        file,
        xShmMap,
        ffi::SQLITE_IOERR_SHMMAP,
        region,
        size,
        extend,
        out
    )
}

unsafe extern "C" fn shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    pass_on!(file, xShmLock, ffi::SQLITE_IOERR_SHMLOCK, offset, n, flags)
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    pass_on!(file, xShmBarrier, ())
}

unsafe extern "C" fn shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    pass_on!(file, xShmUnmap, ffi::SQLITE_OK, delete)
}

unsafe extern "C" fn fetch(
    file: *mut ffi::sqlite3_file,
    offset: i64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    after_writing!(file, xFetch, ffi::SQLITE_OK, offset, amount, out)
}

unsafe extern "C" fn unfetch(
    file: *mut ffi::sqlite3_file,
    offset: i64,
    page: *mut c_void,
) -> c_int {
    pass_on!(file, xUnfetch, ffi::SQLITE_OK, offset, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame header: the page number, then the database's size after a commit (0 if the
    /// frame ends none), then salts and checksums.
    fn frame_header(commit_size: u32) -> Vec<u8> {
        let mut header = vec![7_u8; FRAME_HEADER];
        header[4..8].copy_from_slice(&commit_size.to_be_bytes());
        header
    }

    #[test]
    fn writes_that_follow_one_another_are_held_together() {
        let mut held = Held::default();
        assert!(held.continues(32));
        assert!(!held.add(32, &frame_header(0)));
        assert!(held.continues(56));
        assert!(!held.add(56, &[2; 4096]));
        assert_eq!((held.start, held.bytes.len()), (32, 4120));
        // Anywhere else (a frame written again, the header at 0) is not a continuation.
        assert!(!held.continues(32));
        assert!(!held.continues(4152 + 1));
        assert!(held.continues(4152));
    }

    #[test]
    fn a_commits_last_page_asks_for_the_write() {
        let mut held = Held::default();
        // The WAL's own header (32 bytes at 0), a frame, then the commit's last frame.
        assert!(!held.add(0, &[3; 32]));
        assert!(!held.add(32, &frame_header(0)));
        assert!(!held.add(56, &[2; 4096]));
        assert!(!held.add(4152, &frame_header(12)));
        assert!(held.add(4176, &[2; 4096]));
        // What follows a commit is held again.
        held.bytes.clear();
        assert!(!held.add(8272, &frame_header(0)));
        assert!(!held.add(8296, &[2; 4096]));
    }

    /// Through the VFS: a commit at `synchronous=FULL` is read at once by another connection
    /// (its frames were written before it was published), and everything is there after the
    /// connection closes and the database is opened again.
    #[test]
    fn commits_are_read_by_others_at_once_and_kept() {
        commits_read_at_once_and_kept("FULL");
    }

    /// The same at `synchronous=NORMAL`, where no sync comes between a commit's frames and
    /// its publication: the frames go to the file as the commit's last one is written.
    #[test]
    fn commits_unsynced_are_read_by_others_at_once_and_kept() {
        commits_read_at_once_and_kept("NORMAL");
    }

    fn commits_read_at_once_and_kept(synchronous: &str) {
        assert!(register());
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("wal.db");
        let writer = rusqlite::Connection::open_with_flags_and_vfs(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_CREATE,
            NAME,
        )
        .expect("opens with the VFS");
        writer
            .execute_batch(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous};
                 CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
            ))
            .expect("set up");
        let reader = rusqlite::Connection::open(&path).expect("opens with the default VFS");
        for round in 0..50_i64 {
            let tx = writer.unchecked_transaction().expect("begins");
            // More than 128 KiB a commit: written in several calls.
            for n in 0..400_i64 {
                tx.execute(
                    "INSERT INTO t (v) VALUES (?1)",
                    [format!("{round}-{n}-{}", "x".repeat(400))],
                )
                .expect("inserts");
            }
            tx.commit().expect("commits");
            let (total, count, last): (i64, i64, String) = reader
                .query_row(
                    "SELECT (SELECT COUNT(*) FROM t), COUNT(*), MAX(v) FROM t WHERE v LIKE ?1",
                    [format!("{round}-%")],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .expect("reads the commit");
            assert_eq!(total, (round + 1) * 400);
            assert_eq!(count, 400);
            assert!(last.starts_with(&format!("{round}-99-")), "{last}");
        }
        drop(reader);
        drop(writer);
        let again = rusqlite::Connection::open(&path).expect("opens again");
        let (count, check): (i64, String) = again
            .query_row(
                "SELECT (SELECT COUNT(*) FROM t), (SELECT integrity_check FROM pragma_integrity_check)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("reads");
        assert_eq!((count, check.as_str()), (20_000, "ok"));
    }
}
