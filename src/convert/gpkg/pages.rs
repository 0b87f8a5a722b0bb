//! The page-level fast path of GeoPackage conversion: the input's pages read, and written to the
//! copy once each with the geometry blobs converted inside them, without SQLite.
//!
//! Converting a geometry never changes its blob's length: the WKB is rewritten in place and the
//! GeoPackage header's `srs_id` and envelope have fixed sizes. So the database's structure never
//! changes, only bytes inside cells do. This path walks each feature table's B-tree in the input
//! itself (SQLite file format, <https://www.sqlite.org/fileformat2.html>: table interior pages
//! `0x05`, table leaf pages `0x0D`, cells of payload size, rowid and record, overflow chains),
//! reading runs of pages in one call ([`READ_AHEAD`]). Whole leaf pages (with their cells'
//! overflow pages) make a batch; each batch's blobs are converted where they lie in its pages
//! (a blob spread over overflow pages in a copy, put back) through the same
//! [`runner::in_place`](super::super::runner) batch with the same
//! [`gather_blob`](super::gather_blob) / [`finish_blob`](super::finish_blob) as the SQL path
//! (so the same bytes), and its pages are written to the copy, while the next batch is read. The
//! R-tree index keeps its structure: its `_node` table's node images are walked the same way and
//! their boxes recomputed (leaf cells from the converted envelopes, rounded to `f32` outward as
//! SQLite's `rtree` module rounds on insert; interior cells the union of their child node's
//! cells). Every page not written so (interior pages, other tables, the catalogue) is then copied
//! as it is. SQLite itself only reads the catalogue first, in a read transaction held on the
//! input until every page is read (so no other process commits to the input meanwhile), and does
//! the small metadata updates on the copy at the end (`gpkg_spatial_ref_sys`,
//! `gpkg_geometry_columns`, `gpkg_contents`), the SQL path's own code. An input with a
//! write-ahead log is first copied whole (`VACUUM INTO`) and that copy is read and written.
//!
//! Memory: two batches at most (the one converted and the one read), each up to [`BATCH_ROWS`]
//! rows or [`BATCH_BYTES`] of blobs plus the rest of its last leaf page (a leaf page holds at
//! most about ten rows with overflow pages, whatever its size), and the read-ahead buffer.
//!
//! Anything this path does not take **declines** it, and the caller runs the SQL path on a fresh
//! copy, so reports, messages and failure behaviour are exactly the SQL path's: a WAL-mode file,
//! reserved bytes at the end of pages, a `WITHOUT ROWID` table, a `CHECK` constraint, a
//! generated column, an index involving the geometry column (or an expression or partial index
//! on the table), a row key that is not the rowid, an R-tree that is not GeoPackage's 2D `rtree`,
//! an R-tree entry without a converted envelope (or a converted envelope without an entry), a
//! geometry that is not a blob or NULL, a malformed page (cells that overlap included), a page
//! met twice (a cycle), a tree deeper than [`MAX_DEPTH`], rowids outside their parent page's
//! keys or leaves at different depths, a record whose header and length disagree (in any
//! column: SQLite reads them all when the SQL path rewrites the row), a damaged page of the
//! R-tree's `_rowid` or `_parent` table (walked, not changed: the SQL path drops them, and
//! SQLite reads them then), an input locked by a writer, and any
//! point that fails or any malformed geometry (the SQL path then reports it, or with
//! `skip_invalid` deletes the row).

use super::{
    choose_target_srs, declared_warning, feature_tables, finish_blob, finish_table, gather_blob,
    private_copy_settings, quote, read_lock, register_functions, restore_triggers, row_key,
    rtree_index, set_triggers_aside, target_srs, CHUNK, CHUNK_BYTES,
};
use crate::convert::wkb::{Envelope, Summary, WkbError};
use crate::convert::{ConvertError, ConvertReport, Job, Tally};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::fs::File;
use std::path::Path;

/// The deepest B-tree walked (SQLite's own trees of a few billion rows are about 10 deep).
pub(crate) const MAX_DEPTH: usize = 64;

/// The deepest R-tree taken (SQLite's `rtree` module refuses deeper ones too).
const RTREE_MAX_DEPTH: u16 = 40;

/// Rows converted together at most.
const BATCH_ROWS: usize = 8_192;

/// Bytes of geometry converted together at most (plus the rest of a leaf page). Small batches
/// measured fastest (1 MiB against 2, 4 and 8 MiB): the memory of the two batches is reused
/// rather than faulted in again, and the first read and the last conversion, which nothing
/// overlaps, are short.
const BATCH_BYTES: usize = 1 << 20;

/// The most bytes read in one call (pages read ahead).
const READ_AHEAD: usize = 256 << 10;

/// The largest R-tree (`_node` pages) held in memory while its boxes are recomputed.
const MAX_RTREE_BYTES: u64 = 256 << 20;

/// Why the page-level path declined (for tests and debugging; the caller runs the SQL path).
#[derive(Debug)]
pub(crate) struct Decline(pub(crate) String);

type Result<T> = std::result::Result<T, Decline>;

fn no<T>(why: impl Into<String>) -> Result<T> {
    Err(Decline(why.into()))
}

impl From<std::io::Error> for Decline {
    fn from(e: std::io::Error) -> Self {
        Decline(format!("I/O: {e}"))
    }
}

impl From<ConvertError> for Decline {
    fn from(e: ConvertError) -> Self {
        Decline(e.to_string())
    }
}

impl From<rusqlite::Error> for Decline {
    fn from(e: rusqlite::Error) -> Self {
        Decline(format!("SQLite: {e}"))
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(unix)]
fn write_at(file: &File, buf: &[u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, at)
}

#[cfg(not(unix))]
fn read_at(mut file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek};
    file.seek(std::io::SeekFrom::Start(at))?;
    file.read_exact(buf)
}

#[cfg(not(unix))]
fn write_at(mut file: &File, buf: &[u8], at: u64) -> std::io::Result<()> {
    use std::io::{Seek, Write};
    file.seek(std::io::SeekFrom::Start(at))?;
    file.write_all(buf)
}

/// Starts writing `len` bytes of `file` from `at` to the disk without waiting (Linux), so that
/// the final sync waits for less: a hint, whose failure changes nothing.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File, at: u64, len: usize) {
    use std::os::fd::AsRawFd;
    let (Ok(at), Ok(len)) = (i64::try_from(at), i64::try_from(len)) else { return };
    // SAFETY: a valid open descriptor; the call reads no memory of ours.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), at, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_: &File, _: u64, _: usize) {}

/// The database: pages read from `from` (the input, or the copy itself), written to `to` (the
/// copy).
struct Db {
    from: File,
    to: File,
    page_size: usize,
    /// Usable bytes of a page (the page size: pages with reserved bytes are declined).
    usable: usize,
    page_count: u32,
}

impl Db {
    fn open(from: &Path, to: &Path) -> Result<Db> {
        let file = File::open(from)?;
        let mut h = [0u8; 100];
        read_at(&file, &mut h, 0)?;
        if &h[..16] != b"SQLite format 3\0" {
            return no("not an SQLite 3 file");
        }
        let page_size = match u16::from_be_bytes([h[16], h[17]]) {
            1 => 65_536,
            n => usize::from(n),
        };
        if !(512..=65_536).contains(&page_size) || !page_size.is_power_of_two() {
            return no(format!("page size {page_size}"));
        }
        if h[18] != 1 || h[19] != 1 {
            return no("not a rollback-journal database (WAL mode)");
        }
        if h[20] != 0 {
            return no("pages with reserved bytes");
        }
        let len = file.metadata()?.len();
        let size = page_size as u64;
        if !len.is_multiple_of(size) {
            return no("the file is not a whole number of pages");
        }
        let Ok(page_count) = u32::try_from(len / size) else { return no("too many pages") };
        // The header's page count, when valid (its change counter matches the one stamped with
        // the version), must agree with the file's size.
        let valid = h[24..28] == h[92..96];
        if valid && u32::from_be_bytes([h[28], h[29], h[30], h[31]]) != page_count {
            return no("the header's page count differs from the file's size");
        }
        let to = std::fs::OpenOptions::new().write(true).open(to)?;
        Ok(Db { from: file, to, page_size, usable: page_size, page_count })
    }

    /// Page `page`, through `ahead`: on a miss, the pages from `page` on are read in one call
    /// (a table's pages mostly lie in order).
    fn page<'b>(&self, ahead: &'b mut Ahead, page: u32) -> Result<&'b [u8]> {
        if page == 0 || page > self.page_count {
            return no(format!("page {page} is beyond the file"));
        }
        let size = self.page_size;
        if !(ahead.first..ahead.first + ahead.pages).contains(&page) {
            let room = (READ_AHEAD / size).max(1) as u32;
            let pages = room.min(self.page_count - page + 1);
            ahead.buf.resize(pages as usize * size, 0);
            read_at(&self.from, &mut ahead.buf, u64::from(page - 1) * size as u64)?;
            (ahead.first, ahead.pages) = (page, pages);
        }
        let at = (page - ahead.first) as usize * size;
        Ok(&ahead.buf[at..at + size])
    }

    /// Writes `buf`, whole pages, from page `first` on (nothing if `buf` is empty).
    fn write_run(&self, first: u32, buf: &[u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let pages = buf.len() / self.page_size;
        let last = u64::from(first) + pages as u64 - 1;
        if first == 0
            || last > u64::from(self.page_count)
            || !buf.len().is_multiple_of(self.page_size)
        {
            return no(format!("pages {first}..={last} cannot be written"));
        }
        let at = u64::from(first - 1) * self.page_size as u64;
        write_at(&self.to, buf, at)?;
        start_writeback(&self.to, at, buf.len());
        Ok(())
    }
}

impl Db {
    /// Copies every page not in `written` from `from` to `to` (in runs of up to
    /// [`READ_AHEAD`] bytes).
    fn copy_rest(&self, written: &Pages) -> Result<()> {
        let size = self.page_size;
        let mut buf = Vec::new();
        let mut page = 1;
        while page <= self.page_count {
            if written.has(page) {
                page += 1;
                continue;
            }
            let room = (READ_AHEAD / size).max(1) as u32;
            let mut end = page;
            while end <= self.page_count && end - page < room && !written.has(end) {
                end += 1;
            }
            buf.resize((end - page) as usize * size, 0);
            read_at(&self.from, &mut buf, u64::from(page - 1) * size as u64)?;
            self.write_run(page, &buf)?;
            page = end;
        }
        Ok(())
    }
}

/// Pages read ahead: `pages` pages from page `first` on, in `buf`. A page is read once (a
/// second meeting is declined, see [`Seen`]), so a page written back since it was read ahead is
/// never taken from here.
#[derive(Default)]
struct Ahead {
    first: u32,
    pages: u32,
    buf: Vec<u8>,
}

/// A set of pages.
struct Pages(Vec<u64>);

impl Pages {
    fn new(db: &Db) -> Pages {
        Pages(vec![0; db.page_count as usize / 64 + 1])
    }

    fn has(&self, page: u32) -> bool {
        self.0.get(page as usize / 64).is_some_and(|w| w & (1 << (page % 64)) != 0)
    }

    /// Adds `page`; whether it was new.
    fn add(&mut self, page: u32) -> bool {
        match self.0.get_mut(page as usize / 64) {
            Some(w) if *w & (1 << (page % 64)) == 0 => {
                *w |= 1 << (page % 64);
                true
            }
            _ => false,
        }
    }
}

/// The pages met so far (each page belongs to one place: a second meeting is a cycle).
struct Seen(Pages);

impl Seen {
    fn new(db: &Db) -> Seen {
        Seen(Pages::new(db))
    }

    fn visit(&mut self, page: u32) -> Result<()> {
        if self.0.add(page) {
            Ok(())
        } else {
            no(format!("page {page} met twice"))
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Result<usize> {
    match b.get(at..at + 2) {
        Some(s) => Ok(usize::from(u16::from_be_bytes([s[0], s[1]]))),
        None => no("a page ends inside a field"),
    }
}

fn u32_at(b: &[u8], at: usize) -> Result<u32> {
    match b.get(at..at + 4) {
        Some(s) => Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]])),
        None => no("a page ends inside a field"),
    }
}

/// An SQLite varint at `at`: its value and length (1 to 9 bytes, big-endian groups of 7 bits,
/// the ninth byte whole).
fn varint(b: &[u8], at: usize) -> Result<(u64, usize)> {
    let mut v = 0u64;
    for i in 0..9 {
        let Some(&byte) = b.get(at + i) else { return no("a varint runs past its page") };
        if i == 8 {
            return Ok(((v << 8) | u64::from(byte), 9));
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Ok((v, i + 1));
        }
    }
    no("a varint runs past its page")
}

/// Where the B-tree header of `page` starts (page 1 holds the 100-byte file header first).
fn header_at(page: u32) -> usize {
    if page == 1 {
        100
    } else {
        0
    }
}

/// The rowids a subtree of a table B-tree may hold: above `above`, up to `upto` (its parents'
/// keys: SQLite finds a row by them, so a row outside them cannot be found by its rowid).
#[derive(Debug, Clone, Copy, Default)]
struct Bounds {
    above: Option<i64>,
    upto: Option<i64>,
}

impl Bounds {
    fn holds(&self, rowid: i64) -> bool {
        self.above.is_none_or(|a| rowid > a) && self.upto.is_none_or(|u| rowid <= u)
    }
}

/// The leaf pages of a table B-tree, in rowid order, read as they are reached.
struct Leaves<'a> {
    db: &'a Db,
    /// Pages still to visit (the next on top) with their depth and the rowids they may hold.
    stack: Vec<(u32, usize, Bounds)>,
    /// The depth of the first leaf: every leaf of a B-tree is at the same depth.
    leaf_depth: Option<usize>,
    /// The rowids the leaf last returned may hold (its cells are checked against them).
    bounds: Bounds,
    /// The last rowid read: each must be above it (the tree's rows in rowid order).
    last: Option<i64>,
    /// The tree's pages read ahead (also its cells' overflow pages).
    ahead: Ahead,
}

impl<'a> Leaves<'a> {
    fn new(db: &'a Db, root: u32) -> Leaves<'a> {
        Leaves {
            db,
            stack: vec![(root, 0, Bounds::default())],
            leaf_depth: None,
            bounds: Bounds::default(),
            last: None,
            ahead: Ahead::default(),
        }
    }

    /// The next leaf page, appended to `batch`: its offset there.
    fn next(&mut self, seen: &mut Seen, batch: &mut Batch) -> Result<Option<usize>> {
        while let Some((page, depth, bounds)) = self.stack.pop() {
            if depth > MAX_DEPTH {
                return no("the B-tree is too deep");
            }
            if page == 1 {
                return no("page 1 inside a table's B-tree");
            }
            seen.visit(page)?;
            let buf = self.db.page(&mut self.ahead, page)?;
            let h = header_at(page);
            match buf.get(h) {
                Some(0x0D) => {
                    // The cell pointer array within the page (its readers index the batch's
                    // buffer, which goes on with the next page).
                    if h + 8 + 2 * u16_at(buf, h + 3)? > buf.len() {
                        return no(format!("page {page}: more cells than bytes"));
                    }
                    if *self.leaf_depth.get_or_insert(depth) != depth {
                        return no(format!("page {page}: a leaf at another depth"));
                    }
                    self.bounds = bounds;
                    return Ok(Some(batch.push(page, buf)));
                }
                Some(0x05) => {
                    // Child i holds the rowids above key i - 1 up to key i; the right child
                    // those above the last key. The keys rise within their page's bounds.
                    let cells = u16_at(buf, h + 3)?;
                    let mut children = Vec::with_capacity(cells + 1);
                    let mut above = bounds.above;
                    for i in 0..cells {
                        let at = u16_at(buf, h + 12 + 2 * i)?;
                        let (key, _) = varint(buf, at + 4)?;
                        let key = key as i64;
                        if !(Bounds { above, upto: bounds.upto }).holds(key) {
                            return no(format!("page {page}: keys out of order"));
                        }
                        children.push((
                            u32_at(buf, at)?,
                            depth + 1,
                            Bounds { above, upto: Some(key) },
                        ));
                        above = Some(key);
                    }
                    children.push((
                        u32_at(buf, h + 8)?,
                        depth + 1,
                        Bounds { above, upto: bounds.upto },
                    ));
                    self.stack.extend(children.into_iter().rev());
                }
                _ => return no(format!("page {page} is not a table B-tree page")),
            }
        }
        Ok(None)
    }

    /// The leaf cell at `ptr` in the leaf at `leaf` of `batch`: its rowid and where the value
    /// of `column` lies (see [`record_blob`] for `alias`); its overflow pages are appended to
    /// `batch`. Called for every cell of every leaf, in order: a rowid not above the one before
    /// or outside its leaf's bounds is declined.
    fn cell(
        &mut self,
        seen: &mut Seen,
        batch: &mut Batch,
        (leaf, ptr): (usize, usize),
        (column, alias): (usize, Option<usize>),
    ) -> Result<(i64, Place)> {
        let u = self.db.usable;
        let page = batch.buf.get(leaf..leaf + u).unwrap_or_default();
        let (size, n1) = varint(page, ptr)?;
        let (rowid, n2) = varint(page, ptr + n1)?;
        let rowid = rowid as i64;
        if self.last.is_some_and(|l| rowid <= l) || !self.bounds.holds(rowid) {
            return no("rowids out of order");
        }
        self.last = Some(rowid);
        let start = ptr + n1 + n2;
        let Ok(p) = usize::try_from(size) else { return no("a payload too large") };
        if p > 1 << 31 {
            return no("a payload too large");
        }
        // Local part of a table leaf cell's payload (file format §1.6, "Cell Payload Overflow
        // Pages"): all of it up to X = U - 35; else K = M + (P - M) mod (U - 4) if K <= X, else M.
        let x = u - 35;
        let m = (u - 12) * 32 / 255 - 23;
        let local = if p <= x {
            p
        } else {
            let k = m + (p - m) % (u - 4);
            if k <= x {
                k
            } else {
                m
            }
        };
        let Some(bytes) = page.get(start..start + local) else { return no("a cell past its page") };
        if local == p {
            // The whole record in the leaf: the blob is converted where it lies.
            let place = match record_blob(bytes, column, alias)? {
                None => Place::Null,
                Some((at, len)) => Place::Local { at: leaf + start + at, len },
            };
            return Ok((rowid, place));
        }
        let mut payload = Vec::with_capacity(p);
        payload.extend_from_slice(bytes);
        let mut segs = vec![Seg { at: leaf + start, len: local }];
        let mut next = u32_at(page, start + local)?;
        let mut left = p - local;
        while left > 0 {
            if next == 0 {
                return no("an overflow chain ends early");
            }
            seen.visit(next)?;
            let at = batch.push(next, self.db.page(&mut self.ahead, next)?);
            let take = left.min(u - 4);
            let over = &batch.buf[at..at + u];
            payload.extend_from_slice(&over[4..4 + take]);
            segs.push(Seg { at: at + 4, len: take });
            left -= take;
            next = u32_at(over, 0)?;
        }
        let place = match record_blob(&payload, column, alias)? {
            None => Place::Null,
            Some((at, len)) => {
                Place::Spread { blob: payload[at..at + len].to_vec(), segs: narrow(&segs, at, len) }
            }
        };
        Ok((rowid, place))
    }
}

/// A run of payload bytes in a batch's buffer: `buf[at..at + len]`.
#[derive(Debug, Clone, Copy)]
struct Seg {
    at: usize,
    len: usize,
}

/// Where a value (a geometry blob, an R-tree node's image) lies in a batch.
enum Place {
    /// NULL.
    Null,
    /// In its leaf page: `buf[at..at + len]`, converted there.
    Local { at: usize, len: usize },
    /// Across overflow pages: a copy, put back through `segs`.
    Spread { blob: Vec<u8>, segs: Vec<Seg> },
}

/// Pages read together (leaf pages and their cells' overflow pages) and the rows in them: no
/// page is shared with another batch, so a batch is converted and written back while the next
/// is read.
#[derive(Default)]
struct Batch {
    /// The pages, one after another in the order read, [`Db::page_size`] bytes each.
    buf: Vec<u8>,
    /// Their page numbers.
    pages: Vec<u32>,
    /// The rows (rowid order) and where their value lies.
    rows: Vec<(i64, Place)>,
}

impl Batch {
    /// Appends `page` (its bytes `bytes`); its offset in `buf`.
    fn push(&mut self, page: u32, bytes: &[u8]) -> usize {
        let at = self.buf.len();
        self.buf.extend_from_slice(bytes);
        self.pages.push(page);
        at
    }

    /// Empty, keeping the memory.
    fn clear(&mut self) {
        self.buf.clear();
        self.pages.clear();
        self.rows.clear();
    }

    /// Writes `bytes` over the value at `place` (as long as it).
    fn put(&mut self, place: &Place, bytes: &[u8]) -> Result<()> {
        let segs = match place {
            Place::Null => return Ok(()),
            Place::Local { at, len } => &[Seg { at: *at, len: *len }][..],
            Place::Spread { segs, .. } => segs,
        };
        let mut from = 0;
        for s in segs {
            let (Some(src), Some(dst)) =
                (bytes.get(from..from + s.len), self.buf.get_mut(s.at..s.at + s.len))
            else {
                return no("a value outside its pages");
            };
            dst.copy_from_slice(src);
            from += s.len;
        }
        Ok(())
    }

    /// Writes the pages back, runs of consecutive pages (as SQLite mostly lays a table's
    /// leaves out) in one call each.
    fn write(&self, db: &Db) -> Result<()> {
        let size = db.page_size;
        let mut first = 0;
        for i in 1..=self.pages.len() {
            let run_goes_on = self.pages.get(i).is_some_and(|&p| p == self.pages[i - 1] + 1);
            if !run_goes_on {
                db.write_run(self.pages[first], &self.buf[first * size..i * size])?;
                first = i;
            }
        }
        Ok(())
    }
}

/// The part of the payload `range` covers, as runs in the buffer (`segs` covers the payload).
fn narrow(segs: &[Seg], start: usize, len: usize) -> Vec<Seg> {
    let end = start + len;
    let mut out = Vec::new();
    let mut at = 0;
    for s in segs {
        let (lo, hi) = (start.max(at), end.min(at + s.len));
        if lo < hi {
            out.push(Seg { at: s.at + (lo - at), len: hi - lo });
        }
        at += s.len;
    }
    out
}

/// The value of column `column` in `record` as a blob range (`Some(start, len)`) or NULL
/// (`None`); `alias` (a rowid alias column) must be stored as NULL, as SQLite stores one.
fn record_blob(
    record: &[u8],
    column: usize,
    alias: Option<usize>,
) -> Result<Option<(usize, usize)>> {
    let (header_len, n) = varint(record, 0)?;
    let Ok(header_len) = usize::try_from(header_len) else { return no("a record header") };
    if header_len > record.len() {
        return no("a record header past its payload");
    }
    let (mut at, mut offset) = (n, header_len);
    let mut i = 0;
    let mut found = None;
    // Every column's serial type, as SQLite reads them when it rewrites the row (the SQL path):
    // a header whose last varint runs past it, a reserved type, or values that do not end where
    // the payload ends are a damaged record (SQLite: "database disk image is malformed"), and
    // this path declines it.
    let end = column.max(alias.unwrap_or(0));
    while at < header_len {
        let (t, n) = varint(record, at)?;
        at += n;
        let size = match t {
            0 | 8 | 9 => 0,
            1..=4 => t as usize,
            5 => 6,
            6 | 7 => 8,
            10 | 11 => return no("a reserved serial type"),
            t => usize::try_from((t - 12) / 2).unwrap_or(usize::MAX),
        };
        if Some(i) == alias && t != 0 {
            return no("the row key is stored in the record: not the rowid");
        }
        if i == column {
            found = Some(match t {
                0 => None,
                t if t >= 12 && t % 2 == 0 => match offset.checked_add(size) {
                    Some(end) if end <= record.len() => Some((offset, size)),
                    _ => return no("a blob past its record"),
                },
                _ => return no("the geometry is not a blob"),
            });
        }
        offset = offset.saturating_add(size);
        i += 1;
    }
    if at != header_len || offset != record.len() {
        return no("a damaged record (its values and its length disagree)");
    }
    if i <= end {
        return no("a record without the geometry or row key column");
    }
    found.map_or_else(|| no("a record without the geometry column"), Ok)
}

/// What the catalogue says of one feature table's geometry column.
struct Plan {
    table: String,
    column: String,
    old_srs: i64,
    /// Root page of the table's B-tree.
    root: u32,
    /// The geometry's position in the record.
    geometry: usize,
    /// The position of the rowid alias column (the `fid`), if any.
    alias: Option<usize>,
    /// The root page of the R-tree's `_node` table, if the column has an index.
    rtree: Option<u32>,
    /// The root pages of the R-tree's `_rowid` and `_parent` tables (none without an index).
    rtree_maps: Vec<u32>,
}

/// The root page and SQL text of the table `name`.
fn table_entry(conn: &Connection, name: &str) -> Result<(u32, String)> {
    let row: Option<(i64, Option<String>)> = conn
        .query_row(
            "SELECT rootpage, sql FROM sqlite_master WHERE type = 'table' AND name = ?1 \
             COLLATE NOCASE",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        Some((root, Some(sql))) => match u32::try_from(root) {
            Ok(root) if root > 1 => Ok((root, sql)),
            _ => no(format!("table {name}: root page {root}")),
        },
        _ => no(format!("no table {name}")),
    }
}

/// The columns of a table: (name, declared type, pk position), declining hidden (generated)
/// columns, which change the record's positions or would go stale.
fn columns(conn: &Connection, table: &str) -> Result<Vec<(String, String, i64)>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_xinfo({})", quote(table)))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        if r.get::<_, i64>(6)? != 0 {
            return no(format!("table {table}: a generated or hidden column"));
        }
        out.push((r.get(1)?, r.get(2)?, r.get(5)?));
    }
    Ok(out)
}

/// The plan of `table`.`column`, or why the page-level path does not take it.
fn plan(
    conn: &Connection,
    path: &Path,
    (table, column, old_srs): &(String, String, i64),
) -> Result<Plan> {
    let (root, sql) = table_entry(conn, table)?;
    let words = sql.to_ascii_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
    if words.contains("without rowid") || words.contains("check(") || words.contains("check (") {
        return no(format!("table {table}: WITHOUT ROWID or a CHECK constraint"));
    }
    let cols = columns(conn, table)?;
    let Some(geometry) = cols.iter().position(|c| c.0.eq_ignore_ascii_case(column)) else {
        return no(format!("table {table}: no column {column}"));
    };
    let key = row_key(conn, path, table)?;
    let alias = cols.iter().position(|c| quote(&c.0) == key && c.2 > 0);
    if alias.is_none() && !["rowid", "_rowid_", "oid"].contains(&key.as_str()) {
        return no(format!("table {table}: the row key is not the rowid"));
    }
    if alias == Some(geometry) {
        return no(format!("table {table}: the geometry is the row key"));
    }
    let mut indexes = Vec::new();
    {
        let mut stmt = conn.prepare(&format!("PRAGMA index_list({})", quote(table)))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            if r.get::<_, i64>(4)? != 0 {
                return no(format!("table {table}: a partial index"));
            }
            indexes.push(r.get::<_, String>(1)?);
        }
    }
    for index in indexes {
        let mut stmt = conn.prepare(&format!("PRAGMA index_xinfo({})", quote(&index)))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let name: Option<String> = r.get(2)?;
            if r.get::<_, i64>(1)? == -2 || name.is_some_and(|n| n.eq_ignore_ascii_case(column)) {
                return no(format!("table {table}: index {index} involves the geometry"));
            }
        }
    }
    let mut rtree_maps = Vec::new();
    let rtree = match rtree_index(conn, path, table, column)? {
        None => None,
        Some((name, sql)) => {
            let compact: String =
                sql.to_ascii_lowercase().chars().filter(|c| !c.is_whitespace()).collect();
            let args = compact
                .split_once("usingrtree(")
                .and_then(|(_, rest)| rest.strip_suffix(')'))
                .map(|a| a.split(',').count());
            if args != Some(5) {
                return no(format!("{name}: not a 2D rtree of 5 columns"));
            }
            let node = format!("{name}_node");
            let (node_root, _) = table_entry(conn, &node)?;
            let cols = columns(conn, &node)?;
            let layout = cols.len() == 2
                && cols[0].0.eq_ignore_ascii_case("nodeno")
                && cols[0].1.eq_ignore_ascii_case("INTEGER")
                && cols[0].2 == 1
                && cols[1].0.eq_ignore_ascii_case("data");
            if !layout {
                return no(format!("{node}: an unknown layout"));
            }
            for map in ["rowid", "parent"] {
                rtree_maps.push(table_entry(conn, &format!("{name}_{map}"))?.0);
            }
            Some(node_root)
        }
    };
    Ok(Plan {
        table: table.clone(),
        column: column.clone(),
        old_srs: *old_srs,
        root,
        geometry,
        alias,
        rtree,
        rtree_maps,
    })
}

/// `f32` at or below `d`, as SQLite's `rtree` module rounds a box's minimum on insert: the
/// nearest `f32`, and if that is above `d`, `d` scaled towards −∞ by 2⁻²³ first.
fn round_down(d: f64) -> f32 {
    let f = d as f32;
    if f64::from(f) > d {
        let scale = if d < 0.0 { 1.0 + 1.0 / 8_388_608.0 } else { 1.0 - 1.0 / 8_388_608.0 };
        (d * scale) as f32
    } else {
        f
    }
}

/// `f32` at or above `d`, as SQLite's `rtree` module rounds a box's maximum on insert.
fn round_up(d: f64) -> f32 {
    let f = d as f32;
    if f64::from(f) < d {
        let scale = if d < 0.0 { 1.0 - 1.0 / 8_388_608.0 } else { 1.0 + 1.0 / 8_388_608.0 };
        (d * scale) as f32
    } else {
        f
    }
}

/// A converted table's totals.
#[derive(Default)]
struct Totals {
    features: u64,
    vertices: u64,
    empty: u64,
    envelope: Envelope,
    /// (rowid, [min x, max x, min y, max y]) of each row the R-tree indexes, in rowid order.
    boxes: Vec<(i64, [f32; 4])>,
}

/// A row as the runner converts it: its blob where it lies in the batch.
struct Item<'a> {
    rowid: i64,
    blob: Option<&'a mut [u8]>,
    outcome: Option<std::result::Result<Summary, WkbError>>,
}

/// Converts a batch: the rows through the runner, the totals, the pages written back; the
/// batch is given back for its memory.
fn flush(
    db: &Db,
    job: &Job<'_>,
    srs_id: i32,
    mut batch: Batch,
    totals: &mut Totals,
) -> Result<Batch> {
    let Batch { buf, rows, .. } = &mut batch;
    // Each row's blob as its own slice: the local ones cut from the buffer in offset order
    // (overlapping cells are a damaged page), the spread ones their copies.
    let rowids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut slices: Vec<Option<&mut [u8]>> = Vec::with_capacity(rows.len());
    let mut local = Vec::new();
    for (i, (_, place)) in rows.iter_mut().enumerate() {
        slices.push(match place {
            Place::Null => None,
            Place::Local { at, len } => {
                local.push((*at, *len, i));
                None
            }
            Place::Spread { blob, .. } => Some(&mut blob[..]),
        });
    }
    local.sort_unstable();
    let (mut rest, mut base) = (&mut buf[..], 0);
    for (at, len, i) in local {
        let Some(skip) = at.checked_sub(base) else { return no("cells overlap") };
        if skip + len > rest.len() {
            return no("a cell past its page");
        }
        let (mine, tail) = std::mem::take(&mut rest)[skip..].split_at_mut(len);
        slices[i] = Some(mine);
        (rest, base) = (tail, at + len);
    }
    let mut items: Vec<Item<'_>> = rowids
        .into_iter()
        .zip(slices)
        .map(|(rowid, blob)| Item { rowid, blob, outcome: None })
        .collect();
    super::super::runner::in_place(
        job.transformer,
        job.options.parallel,
        &mut items,
        |it, points| {
            let Some(blob) = it.blob.as_deref() else { return false };
            match gather_blob(blob, points) {
                Ok(()) => true,
                Err(e) => {
                    it.outcome = Some(Err(e));
                    false
                }
            }
        },
        |it, converted| {
            let Some(blob) = it.blob.as_deref_mut() else { return };
            it.outcome = Some(match converted {
                Ok(c) => finish_blob(blob, c, srs_id),
                Err(e) => Err(WkbError::Point(e)),
            });
        },
    );
    for it in &items {
        totals.features += 1;
        match &it.outcome {
            None => totals.empty += 1,
            Some(Ok(summary)) => {
                totals.vertices += summary.vertices;
                if summary.is_empty() {
                    totals.empty += 1;
                }
                totals.envelope.extend(&summary.envelope);
                // The rows the SQL path indexes (see `convert_table`).
                let flagged_empty =
                    it.blob.as_ref().and_then(|b| b.get(3)).is_some_and(|f| f & 0x10 != 0);
                let env = &summary.envelope;
                if let (Some((x0, x1)), Some((y0, y1)), false) = (env.x, env.y, flagged_empty) {
                    if ![x0, x1, y0, y1].iter().any(|v| v.is_nan()) {
                        let b = [round_down(x0), round_up(x1), round_down(y0), round_up(y1)];
                        totals.boxes.push((it.rowid, b));
                    }
                }
            }
            Some(Err(_)) => return no(format!("fid {}: the geometry fails", it.rowid)),
        }
    }
    drop(items);
    // The spread blobs, converted in their copies, put back into their pages.
    let rows = std::mem::take(&mut batch.rows);
    for (_, place) in &rows {
        if let Place::Spread { blob, .. } = place {
            batch.put(place, blob)?;
        }
    }
    batch.rows = rows;
    batch.write(db)?;
    Ok(batch)
}

/// Reads a feature table's rows in batches of whole leaf pages, reporting progress as the SQL
/// path does: per chunk of [`CHUNK`] rows or [`CHUNK_BYTES`] of blobs (NULL counted as 8
/// bytes), and a last empty one, as the SQL path's last read.
struct Reader<'a> {
    leaves: Leaves<'a>,
    plan: &'a Plan,
    /// Rows and bytes read since progress was last reported.
    read: usize,
    bytes: u64,
}

impl<'a> Reader<'a> {
    fn new(db: &'a Db, plan: &'a Plan) -> Reader<'a> {
        Reader { leaves: Leaves::new(db, plan.root), plan, read: 0, bytes: 0 }
    }

    /// The next batch (in `out`'s memory): whole leaves, until [`BATCH_ROWS`] rows or
    /// [`BATCH_BYTES`] of blobs are reached; `None` at the end (progress then reported to its
    /// end).
    fn batch(&mut self, job: &Job<'_>, seen: &mut Seen, mut out: Batch) -> Result<Option<Batch>> {
        out.clear();
        out.buf.reserve(BATCH_BYTES + BATCH_BYTES / 2);
        let mut blobs = 0usize;
        let wanted = (self.plan.geometry, self.plan.alias);
        while out.rows.len() < BATCH_ROWS && blobs < BATCH_BYTES {
            let Some(leaf) = self.leaves.next(seen, &mut out)? else { break };
            for i in 0..u16_at(&out.buf, leaf + 3)? {
                let ptr = u16_at(&out.buf, leaf + 8 + 2 * i)?;
                let (rowid, place) = self.leaves.cell(seen, &mut out, (leaf, ptr), wanted)?;
                let len = match &place {
                    Place::Null => 8,
                    Place::Local { len, .. } => *len,
                    Place::Spread { blob, .. } => blob.len(),
                };
                self.bytes += len as u64;
                if !matches!(place, Place::Null) {
                    blobs += len;
                }
                out.rows.push((rowid, place));
                self.read += 1;
                if self.read >= CHUNK || self.bytes >= CHUNK_BYTES {
                    job.progress.advance(self.bytes);
                    (self.read, self.bytes) = (0, 0);
                }
            }
        }
        if out.pages.is_empty() {
            if self.read > 0 {
                job.progress.advance(self.bytes);
                (self.read, self.bytes) = (0, 0);
            }
            job.progress.advance(0);
            return Ok(None);
        }
        Ok(Some(out))
    }
}

/// Converts the geometry column of `plan` in place; its totals. Rows are converted in batches
/// of whole leaf pages up to [`BATCH_ROWS`] rows or [`BATCH_BYTES`] of blobs (smaller than the
/// SQL path's chunks: the memory is reused instead of grown, which measured faster); with
/// `parallel`, each batch is converted and written back while the next is read.
fn convert_column(
    db: &Db,
    job: &Job<'_>,
    plan: &Plan,
    srs_id: i32,
    seen: &mut Seen,
    written: &mut Pages,
) -> Result<Totals> {
    let mut reader = Reader::new(db, plan);
    let mut totals = Totals::default();
    let mut spare = Batch::default();
    let mut next = reader.batch(job, seen, Batch::default())?;
    while let Some(batch) = next.take() {
        let empty = std::mem::take(&mut spare);
        let (done, read) = if job.options.parallel {
            rayon::join(
                || flush(db, job, srs_id, batch, &mut totals),
                || reader.batch(job, seen, empty),
            )
        } else {
            let done = flush(db, job, srs_id, batch, &mut totals);
            (done, reader.batch(job, seen, empty))
        };
        spare = done?;
        for &page in &spare.pages {
            written.add(page);
        }
        next = read?;
    }
    Ok(totals)
}

/// An R-tree node: its image (the `data` blob) and where it lies in the batch.
struct Node {
    data: Vec<u8>,
    place: Place,
}

/// The R-tree's nodes, indexed by node number, with their boxes recomputed.
struct Rtree<'a> {
    nodes: Vec<Node>,
    index: std::collections::HashMap<i64, usize>,
    visited: Vec<bool>,
    boxes: &'a [(i64, [f32; 4])],
    used: Vec<bool>,
}

impl Rtree<'_> {
    /// Recomputes node `id` (at `height` above the leaves) and returns its union, `None` when
    /// it has no cells (only the root of an empty tree may).
    fn fix(&mut self, id: i64, height: u16) -> Result<Option<[f32; 4]>> {
        let Some(&i) = self.index.get(&id) else { return no(format!("no R-tree node {id}")) };
        if std::mem::replace(&mut self.visited[i], true) {
            return no(format!("R-tree node {id} met twice"));
        }
        let data = &self.nodes[i].data;
        let count = u16_at(data, 2)?;
        if 4 + 24 * count > data.len() {
            return no(format!("R-tree node {id}: more cells than bytes"));
        }
        let ids: Vec<i64> = (0..count)
            .map(|c| {
                let at = 4 + 24 * c;
                let mut raw = [0u8; 8];
                raw.copy_from_slice(&data[at..at + 8]);
                i64::from_be_bytes(raw)
            })
            .collect();
        let mut cells = Vec::with_capacity(count);
        for child in ids {
            let b = if height == 0 {
                let Ok(k) = self.boxes.binary_search_by_key(&child, |e| e.0) else {
                    return no(format!("R-tree entry {child} without a converted envelope"));
                };
                if std::mem::replace(&mut self.used[k], true) {
                    return no(format!("R-tree entry {child} twice"));
                }
                self.boxes[k].1
            } else {
                match self.fix(child, height - 1)? {
                    Some(b) => b,
                    None => return no(format!("R-tree node {child} is empty")),
                }
            };
            cells.push(b);
        }
        let data = &mut self.nodes[i].data;
        let mut union: Option<[f32; 4]> = None;
        for (c, b) in cells.iter().enumerate() {
            let at = 4 + 24 * c + 8;
            for (k, v) in b.iter().enumerate() {
                data[at + 4 * k..at + 4 * k + 4].copy_from_slice(&v.to_bits().to_be_bytes());
            }
            union = Some(match union {
                None => *b,
                Some(u) => [u[0].min(b[0]), u[1].max(b[1]), u[2].min(b[2]), u[3].max(b[3])],
            });
        }
        Ok(union)
    }
}

/// Walks the table B-tree at `root` (an R-tree's `_rowid` or `_parent` table, `(key INTEGER
/// PRIMARY KEY, value)`) without changing it, and declines a damaged one: the SQL path drops
/// and recreates the R-tree, and SQLite reads these pages then (a damaged page is its "database
/// disk image is malformed"), while this path copies them as they are.
fn check_tree(db: &Db, root: u32, seen: &mut Seen) -> Result<()> {
    let mut leaves = Leaves::new(db, root);
    let mut batch = Batch::default();
    loop {
        batch.clear();
        let Some(leaf) = leaves.next(seen, &mut batch)? else { return Ok(()) };
        for i in 0..u16_at(&batch.buf, leaf + 3)? {
            let ptr = u16_at(&batch.buf, leaf + 8 + 2 * i)?;
            leaves.cell(seen, &mut batch, (leaf, ptr), (0, Some(0)))?;
        }
    }
}

/// Recomputes the boxes of the R-tree whose `_node` table's root is `root` from `boxes`, keeping
/// its structure, and writes its pages back.
fn fix_rtree(
    db: &Db,
    root: u32,
    boxes: &[(i64, [f32; 4])],
    seen: &mut Seen,
    written: &mut Pages,
) -> Result<()> {
    let mut leaves = Leaves::new(db, root);
    let mut batch = Batch::default();
    let mut nodes = Vec::new();
    let mut index = std::collections::HashMap::new();
    while let Some(leaf) = leaves.next(seen, &mut batch)? {
        if batch.buf.len() as u64 > MAX_RTREE_BYTES {
            return no("the R-tree is too large to hold");
        }
        for i in 0..u16_at(&batch.buf, leaf + 3)? {
            let ptr = u16_at(&batch.buf, leaf + 8 + 2 * i)?;
            // The `data` column; `nodeno` is the rowid.
            let (nodeno, place) = leaves.cell(seen, &mut batch, (leaf, ptr), (1, Some(0)))?;
            let data = match &place {
                Place::Null => return no(format!("R-tree node {nodeno} without data")),
                Place::Local { at, len } => batch.buf[*at..*at + *len].to_vec(),
                Place::Spread { blob, .. } => blob.clone(),
            };
            index.insert(nodeno, nodes.len());
            nodes.push(Node { data, place });
        }
    }
    let Some(first) = index.get(&1).and_then(|&i| nodes.get(i)) else {
        return no("no R-tree root node");
    };
    let depth = u16_at(&first.data, 0)?;
    if depth > RTREE_MAX_DEPTH as usize {
        return no("the R-tree is too deep");
    }
    let mut tree = Rtree {
        visited: vec![false; nodes.len()],
        nodes,
        index,
        boxes,
        used: vec![false; boxes.len()],
    };
    tree.fix(1, depth as u16)?;
    if tree.visited.contains(&false) {
        return no("R-tree nodes outside the tree");
    }
    if tree.used.contains(&false) {
        return no("converted envelopes without an R-tree entry");
    }
    for node in &tree.nodes {
        batch.put(&node.place, &node.data)?;
    }
    for &page in &batch.pages {
        written.add(page);
    }
    batch.write(db)
}

/// Converts the copy at `temp` on the page level, or declines (see the module docs); the report
/// is the SQL path's for the same input.
pub(super) fn convert(job: &Job<'_>, source: &Path, temp: &Path) -> Result<ConvertReport> {
    let path = job.input;
    // The catalogue, read first (read-only: nothing is written to the source), in a read
    // transaction taken before anything else is read and held until every page is: no other
    // process commits to the input meanwhile (a commit under way is waited for).
    let catalogue = read_lock(source).map_err(Decline)?;
    let db = Db::open(source, temp)?;
    let tables = feature_tables(&catalogue, path)?;
    let srs_id = choose_target_srs(&catalogue, job.target, path, &mut Vec::new(), false)?;
    let plans = tables.iter().map(|t| plan(&catalogue, path, t)).collect::<Result<Vec<_>>>()?;
    let Ok(blob_srs_id) = i32::try_from(srs_id) else { return no("srs_id beyond i32") };
    let mut converted = Vec::with_capacity(plans.len());
    // One set for every tree: a page met twice, in any of them, is declined (two trees sharing
    // a page is a damaged file; a table listed with two geometry columns goes the SQL way).
    let mut seen = Seen::new(&db);
    let mut written = Pages::new(&db);
    for plan in &plans {
        let totals = convert_column(&db, job, plan, blob_srs_id, &mut seen, &mut written)?;
        if let Some(root) = plan.rtree {
            fix_rtree(&db, root, &totals.boxes, &mut seen, &mut written)?;
        }
        for &root in &plan.rtree_maps {
            check_tree(&db, root, &mut seen)?;
        }
        converted.push(totals);
    }
    if source != temp {
        db.copy_rest(&written)?;
    }
    catalogue.execute_batch("COMMIT")?;
    catalogue.close().map_err(|(_, e)| e)?;
    // No sync here: SQLite's commit below syncs the file (the pages written here with it).
    drop(db);
    // The metadata, as the SQL path writes it.
    let mut report = ConvertReport::default();
    let mut conn = Connection::open_with_flags(
        temp,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    register_functions(&conn)?;
    private_copy_settings(&conn)?;
    let tx = conn.transaction()?;
    let triggers = set_triggers_aside(&tx, path)?;
    if feature_tables(&tx, path)? != tables {
        return no("the feature tables changed");
    }
    if target_srs(&tx, job.target, path, &mut report.warnings)? != srs_id {
        return no("the target's srs_id changed");
    }
    for (plan, totals) in plans.iter().zip(&converted) {
        declared_warning(&tx, job, &plan.table, plan.old_srs, &mut report)?;
        report.features += totals.features;
        report.vertices += totals.vertices;
        report.empty += totals.empty;
        finish_table(&tx, path, (&plan.table, &plan.column), srs_id, &totals.envelope)?;
    }
    Tally::default().finish(&mut report, path)?;
    restore_triggers(&tx, path, &triggers)?;
    tx.commit()?;
    conn.close().map_err(|(_, e)| e)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        assert_eq!(varint(&[0x05], 0).unwrap(), (5, 1));
        assert_eq!(varint(&[0x81, 0x00], 0).unwrap(), (128, 2));
        assert_eq!(varint(&[0xff; 9], 0).unwrap(), (u64::MAX, 9));
        assert!(varint(&[0x81], 0).is_err());
    }

    #[test]
    fn rounding_is_outward() {
        // Normal numbers only: for an f32 subnormal, SQLite's 2⁻²³ nudge is below the spacing
        // and the rounding (copied as it is) may stay on the wrong side.
        for d in [0.1f64, -0.1, 449_042.047_441, -4_420_261.219_997, 3_000_000.123, 3.0] {
            assert!(f64::from(round_down(d)) <= d && f64::from(round_up(d)) >= d, "{d}");
        }
        assert_eq!(round_down(3.0), 3.0);
    }

    #[test]
    fn records() {
        // Header of 4 bytes: NULL (the alias), a 2-byte blob, an 8-bit integer; then the body.
        let record = [4, 0, 16, 1, 0xAB, 0xCD, 7];
        assert_eq!(record_blob(&record, 1, Some(0)).unwrap(), Some((4, 2)));
        // The key stored in the record (not a rowid alias), before or after the geometry.
        assert!(record_blob(&record, 1, Some(2)).is_err());
        assert!(record_blob(&[4, 1, 16, 0, 5, 0xAB, 0xCD], 1, Some(0)).is_err());
        // Not a blob; a column beyond the record.
        assert!(record_blob(&record, 2, None).is_err());
        assert!(record_blob(&record, 3, None).is_err());
        assert_eq!(record_blob(&[2, 0], 0, None).unwrap(), None);
        // Damaged after the geometry: the header's last varint runs past it (0x81 0x10), a
        // value runs past the record (an 8-byte integer with no bytes), a reserved type, bytes
        // after the last value (SQLite, too, reads such a record as damaged).
        assert!(record_blob(&[3, 0, 0x81, 0x10], 0, Some(0)).is_err());
        assert!(record_blob(&[4, 0, 16, 6, 0xAB, 0xCD], 1, Some(0)).is_err());
        assert!(record_blob(&[4, 0, 16, 10, 0xAB, 0xCD], 1, Some(0)).is_err());
        assert!(record_blob(&[3, 0, 16, 0xAB, 0xCD, 0], 1, Some(0)).is_err());
        // Fewer columns than the table (added later): the rest are their defaults.
        assert_eq!(record_blob(&[3, 0, 16, 0xAB, 0xCD], 1, Some(0)).unwrap(), Some((3, 2)));
    }

    #[test]
    fn narrow_cuts_runs() {
        let segs = [Seg { at: 10, len: 5 }, Seg { at: 4100, len: 10 }];
        let n = narrow(&segs, 3, 6);
        assert_eq!((n[0].at, n[0].len), (13, 2));
        assert_eq!((n[1].at, n[1].len), (4100, 4));
    }
}
