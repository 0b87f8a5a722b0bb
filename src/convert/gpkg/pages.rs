//! The page-level fast path of GeoPackage conversion: the geometry blobs rewritten inside the
//! copy's pages, without SQLite.
//!
//! Converting a geometry never changes its blob's length: the WKB is rewritten in place and the
//! GeoPackage header's `srs_id` and envelope have fixed sizes. So the database's structure never
//! changes, only bytes inside cells do. This path walks each feature table's B-tree in the copy
//! itself (SQLite file format, <https://www.sqlite.org/fileformat2.html>: table interior pages
//! `0x05`, table leaf pages `0x0D`, cells of payload size, rowid and record, overflow chains),
//! converts each chunk of blobs through the same [`runner::in_place`](super::super::runner)
//! batch, with the same [`gather_row`](super::gather_row) / [`scatter_row`](super::scatter_row)
//! as the SQL path (so the same bytes), and writes the changed pages back. The R-tree index
//! keeps its structure: its `_node` table's node images are walked the same way and their boxes
//! recomputed (leaf cells from the converted envelopes, rounded to `f32` outward as SQLite's
//! `rtree` module rounds on insert; interior cells the union of their child node's cells).
//! SQLite itself only reads the metadata first and does the small metadata updates at the end
//! (`gpkg_spatial_ref_sys`, `gpkg_geometry_columns`, `gpkg_contents`), the SQL path's own code.
//!
//! Anything this path does not take **declines** it, and the caller runs the SQL path on a fresh
//! copy, so reports, messages and failure behaviour are exactly the SQL path's: a WAL-mode file,
//! reserved bytes at the end of pages, a `WITHOUT ROWID` table, a `CHECK` constraint, a
//! generated column, an index involving the geometry column (or an expression or partial index
//! on the table), a row key that is not the rowid, an R-tree that is not GeoPackage's 2D `rtree`,
//! an R-tree entry without a converted envelope (or a converted envelope without an entry), a
//! geometry that is not a blob or NULL, a malformed page, a page met twice (a cycle), a tree
//! deeper than [`MAX_DEPTH`], and any point that fails or any malformed geometry (the SQL path
//! then reports it, or with `skip_invalid` deletes the row).

use super::{
    choose_target_srs, declared_warning, feature_tables, finish_table, gather_row,
    private_copy_settings, quote, register_functions, restore_triggers, row_key, rtree_index,
    scatter_row, set_triggers_aside, target_srs, Row, CHUNK, CHUNK_BYTES,
};
use crate::convert::wkb::Envelope;
use crate::convert::{ConvertError, ConvertReport, Job, Tally};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::fs::File;
use std::path::Path;

/// The deepest B-tree walked (SQLite's own trees of a few billion rows are about 10 deep).
pub(crate) const MAX_DEPTH: usize = 64;

/// The deepest R-tree taken (SQLite's `rtree` module refuses deeper ones too).
const RTREE_MAX_DEPTH: u16 = 40;

/// Rows converted together at most (two runner parts: both cores busy).
const BATCH_ROWS: usize = 8_192;

/// Bytes of geometry converted together at most (plus one row).
const BATCH_BYTES: usize = 8 << 20;

/// The most bytes written in one call (a run of consecutive pages).
const WRITE_RUN: usize = 4 << 20;

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

/// The copy, opened for page reads and writes.
struct Db {
    file: File,
    page_size: usize,
    /// Usable bytes of a page (the page size: pages with reserved bytes are declined).
    usable: usize,
    page_count: u32,
}

impl Db {
    fn open(path: &Path) -> Result<Db> {
        let file = std::fs::OpenOptions::new().read(true).write(true).open(path)?;
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
        Ok(Db { file, page_size, usable: page_size, page_count })
    }

    fn read(&self, page: u32) -> Result<Vec<u8>> {
        if page == 0 || page > self.page_count {
            return no(format!("page {page} is beyond the file"));
        }
        let mut buf = vec![0u8; self.page_size];
        read_at(&self.file, &mut buf, u64::from(page - 1) * self.page_size as u64)?;
        Ok(buf)
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
        write_at(&self.file, buf, u64::from(first - 1) * self.page_size as u64)?;
        Ok(())
    }
}

/// The pages met so far (each page belongs to one place: a second meeting is a cycle).
struct Seen(Vec<u64>);

impl Seen {
    fn new(db: &Db) -> Seen {
        Seen(vec![0; db.page_count as usize / 64 + 1])
    }

    fn visit(&mut self, page: u32) -> Result<()> {
        let (word, bit) = (page as usize / 64, page % 64);
        match self.0.get_mut(word) {
            Some(w) if *w & (1 << bit) == 0 => {
                *w |= 1 << bit;
                Ok(())
            }
            _ => no(format!("page {page} met twice")),
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

/// The leaf pages of a table B-tree, in rowid order, read as they are reached.
struct Leaves<'a> {
    db: &'a Db,
    /// Pages still to visit (the next on top) with their depth.
    stack: Vec<(u32, usize)>,
}

impl<'a> Leaves<'a> {
    fn new(db: &'a Db, root: u32) -> Leaves<'a> {
        Leaves { db, stack: vec![(root, 0)] }
    }

    /// The next leaf page: its number and bytes.
    fn next(&mut self, seen: &mut Seen) -> Result<Option<(u32, Vec<u8>)>> {
        while let Some((page, depth)) = self.stack.pop() {
            if depth > MAX_DEPTH {
                return no("the B-tree is too deep");
            }
            if page == 1 {
                return no("page 1 inside a table's B-tree");
            }
            seen.visit(page)?;
            let buf = self.db.read(page)?;
            let h = header_at(page);
            match buf.get(h) {
                Some(0x0D) => return Ok(Some((page, buf))),
                Some(0x05) => {
                    let cells = u16_at(&buf, h + 3)?;
                    self.stack.push((u32_at(&buf, h + 8)?, depth + 1));
                    for i in (0..cells).rev() {
                        let at = u16_at(&buf, h + 12 + 2 * i)?;
                        self.stack.push((u32_at(&buf, at)?, depth + 1));
                    }
                }
                _ => return no(format!("page {page} is not a table B-tree page")),
            }
        }
        Ok(None)
    }
}

/// A run of a cell's payload bytes in a held page: `pages[slot]`, bytes `at..at + len`.
#[derive(Debug, Clone, Copy)]
struct Seg {
    slot: usize,
    at: usize,
    len: usize,
}

/// The pages a chunk holds (leaf and overflow pages), written back once changed.
#[derive(Default)]
struct Held {
    pages: Vec<(u32, Vec<u8>)>,
}

impl Held {
    /// Writes `bytes` over the payload range `segs` describes.
    fn put(&mut self, segs: &[Seg], bytes: &[u8]) -> Result<()> {
        let mut from = 0;
        for s in segs {
            let (Some(src), Some((_, page))) =
                (bytes.get(from..from + s.len), self.pages.get_mut(s.slot))
            else {
                return no("a payload range outside its pages");
            };
            let Some(dst) = page.get_mut(s.at..s.at + s.len) else {
                return no("a payload range outside its page");
            };
            dst.copy_from_slice(src);
            from += s.len;
        }
        Ok(())
    }

    /// Writes the held pages back, runs of consecutive pages (as SQLite mostly lays a table's
    /// leaves out) in one write each, up to [`WRITE_RUN`] bytes.
    fn write(&self, db: &Db) -> Result<()> {
        let mut order: Vec<&(u32, Vec<u8>)> = self.pages.iter().collect();
        order.sort_by_key(|p| p.0);
        order.dedup_by_key(|p| p.0);
        let mut run: Vec<u8> = Vec::new();
        let mut first = 0u32;
        let mut next = 0u32;
        for (page, buf) in order {
            if run.is_empty() || *page != next || run.len() >= WRITE_RUN {
                db.write_run(first, &run)?;
                run.clear();
                first = *page;
            }
            run.extend_from_slice(buf);
            next = page.saturating_add(1);
        }
        db.write_run(first, &run)
    }
}

/// The part of the payload `range` covers, as runs in held pages (`segs` covers the payload).
fn narrow(segs: &[Seg], start: usize, len: usize) -> Vec<Seg> {
    let end = start + len;
    let mut out = Vec::new();
    let mut at = 0;
    for s in segs {
        let (lo, hi) = (start.max(at), end.min(at + s.len));
        if lo < hi {
            out.push(Seg { slot: s.slot, at: s.at + (lo - at), len: hi - lo });
        }
        at += s.len;
    }
    out
}

/// A leaf cell of a table B-tree: its rowid, whole payload (the record), and where the payload
/// lies in the held pages (the leaf at `slot`, then its overflow pages, which are added).
fn leaf_cell(
    db: &Db,
    held: &mut Held,
    slot: usize,
    at: usize,
    seen: &mut Seen,
) -> Result<(i64, Vec<u8>, Vec<Seg>)> {
    let Some((_, leaf)) = held.pages.get(slot) else { return no("no leaf") };
    let (size, n1) = varint(leaf, at)?;
    let (rowid, n2) = varint(leaf, at + n1)?;
    let start = at + n1 + n2;
    let Ok(p) = usize::try_from(size) else { return no("a payload too large") };
    if p > 1 << 31 {
        return no("a payload too large");
    }
    // Local part of a table leaf cell's payload (file format §1.6, "Cell Payload Overflow
    // Pages"): all of it up to X = U - 35; else K = M + (P - M) mod (U - 4) if K <= X, else M.
    let u = db.usable;
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
    let Some(bytes) = leaf.get(start..start + local) else { return no("a cell past its page") };
    let mut payload = Vec::with_capacity(p);
    payload.extend_from_slice(bytes);
    let mut segs = vec![Seg { slot, at: start, len: local }];
    if local < p {
        let mut next = u32_at(leaf, start + local)?;
        let mut left = p - local;
        while left > 0 {
            if next == 0 {
                return no("an overflow chain ends early");
            }
            seen.visit(next)?;
            let buf = db.read(next)?;
            let take = left.min(u - 4);
            let Some(bytes) = buf.get(4..4 + take) else { return no("an overflow page short") };
            payload.extend_from_slice(bytes);
            let following = u32_at(&buf, 0)?;
            held.pages.push((next, buf));
            segs.push(Seg { slot: held.pages.len() - 1, at: 4, len: take });
            left -= take;
            next = following;
        }
    }
    Ok((rowid as i64, payload, segs))
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
    // Up to the later of the geometry and the alias column: both are checked.
    let end = column.max(alias.unwrap_or(0));
    while at < header_len && i <= end {
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

/// Converts one chunk of rows: the batch, the totals, the blobs written into their pages, the
/// pages written back (and let go: the caller keeps the leaf it is reading).
fn flush(
    db: &Db,
    job: &Job<'_>,
    srs_id: i32,
    held: &mut Held,
    rows: &mut Vec<(Row, Vec<Seg>)>,
    totals: &mut Totals,
) -> Result<()> {
    let mut batch: Vec<Row> = Vec::with_capacity(rows.len());
    let mut places = Vec::with_capacity(rows.len());
    for (row, segs) in rows.drain(..) {
        batch.push(row);
        places.push(segs);
    }
    super::super::runner::in_place(
        job.transformer,
        job.options.parallel,
        &mut batch,
        gather_row,
        |r, converted| scatter_row(r, converted, srs_id),
    );
    for (row, segs) in batch.iter().zip(&places) {
        totals.features += 1;
        match &row.outcome {
            None => totals.empty += 1,
            Some(Ok(summary)) => {
                totals.vertices += summary.vertices;
                if summary.is_empty() {
                    totals.empty += 1;
                }
                totals.envelope.extend(&summary.envelope);
                let Some(blob) = &row.blob else { return no("a converted row without a blob") };
                held.put(segs, blob)?;
                // The rows the SQL path indexes (see `convert_table`).
                let flagged_empty = blob.get(3).is_some_and(|f| f & 0x10 != 0);
                let env = &summary.envelope;
                if let (Some((x0, x1)), Some((y0, y1)), false) = (env.x, env.y, flagged_empty) {
                    if ![x0, x1, y0, y1].iter().any(|v| v.is_nan()) {
                        let b = [round_down(x0), round_up(x1), round_down(y0), round_up(y1)];
                        totals.boxes.push((row.rowid, b));
                    }
                }
            }
            Some(Err(_)) => return no(format!("fid {}: the geometry fails", row.rowid)),
        }
    }
    held.write(db)
}

/// Converts the geometry column of `plan` in place; its totals. Rows are converted in batches
/// of [`BATCH_ROWS`] rows or [`BATCH_BYTES`] of blobs (smaller than the SQL path's chunks: the
/// memory is reused instead of grown, which measured faster); progress is reported as the SQL
/// path reports it, per chunk of [`CHUNK`] rows or [`CHUNK_BYTES`] of blobs (NULL counted as 8
/// bytes), and a last empty one, as the SQL path's last read.
fn convert_column(
    db: &Db,
    job: &Job<'_>,
    plan: &Plan,
    srs_id: i32,
    seen: &mut Seen,
) -> Result<Totals> {
    let mut leaves = Leaves::new(db, plan.root);
    let mut totals = Totals::default();
    let mut held = Held::default();
    let mut rows: Vec<(Row, Vec<Seg>)> = Vec::new();
    let (mut read, mut bytes, mut batch) = (0usize, 0u64, 0usize);
    let mut last: Option<i64> = None;
    while let Some((page, buf)) = leaves.next(seen)? {
        let cells = u16_at(&buf, 3)?;
        held.pages.push((page, buf));
        let mut slot = held.pages.len() - 1;
        for i in 0..cells {
            let Some((_, leaf)) = held.pages.get(slot) else { return no("no leaf") };
            let at = u16_at(leaf, 8 + 2 * i)?;
            let (rowid, record, segs) = leaf_cell(db, &mut held, slot, at, seen)?;
            if last.is_some_and(|l| rowid <= l) {
                return no("rowids out of order");
            }
            last = Some(rowid);
            match record_blob(&record, plan.geometry, plan.alias)? {
                None => {
                    bytes += 8;
                    rows.push((Row { rowid, blob: None, outcome: None }, Vec::new()));
                }
                Some((start, len)) => {
                    let Some(blob) = record.get(start..start + len) else {
                        return no("a blob past its record");
                    };
                    bytes += len as u64;
                    batch += len;
                    let row = Row { rowid, blob: Some(blob.to_vec()), outcome: None };
                    rows.push((row, narrow(&segs, start, len)));
                }
            }
            read += 1;
            if read >= CHUNK || bytes >= CHUNK_BYTES {
                job.progress.advance(bytes);
                (read, bytes) = (0, 0);
            }
            if rows.len() >= BATCH_ROWS || batch >= BATCH_BYTES {
                flush(db, job, srs_id, &mut held, &mut rows, &mut totals)?;
                batch = 0;
                // Only the leaf being read stays held (its rows so far are written).
                let current = std::mem::take(&mut held.pages[slot]);
                held.pages.clear();
                held.pages.push(current);
                slot = 0;
            }
        }
    }
    if !rows.is_empty() {
        flush(db, job, srs_id, &mut held, &mut rows, &mut totals)?;
    }
    if read > 0 {
        job.progress.advance(bytes);
    }
    job.progress.advance(0);
    Ok(totals)
}

/// An R-tree node: its image (the `data` blob) and where it lies in the held pages.
struct Node {
    data: Vec<u8>,
    segs: Vec<Seg>,
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

/// Recomputes the boxes of the R-tree whose `_node` table's root is `root` from `boxes`, keeping
/// its structure, and writes its pages back.
fn fix_rtree(db: &Db, root: u32, boxes: &[(i64, [f32; 4])], seen: &mut Seen) -> Result<()> {
    let mut leaves = Leaves::new(db, root);
    let mut held = Held::default();
    let mut nodes = Vec::new();
    let mut index = std::collections::HashMap::new();
    while let Some((page, buf)) = leaves.next(seen)? {
        let cells = u16_at(&buf, 3)?;
        held.pages.push((page, buf));
        let slot = held.pages.len() - 1;
        if held.pages.len() as u64 * db.page_size as u64 > MAX_RTREE_BYTES {
            return no("the R-tree is too large to hold");
        }
        for i in 0..cells {
            let at = u16_at(&held.pages[slot].1, 8 + 2 * i)?;
            let (nodeno, record, segs) = leaf_cell(db, &mut held, slot, at, seen)?;
            let Some((start, len)) = record_blob(&record, 1, Some(0))? else {
                return no(format!("R-tree node {nodeno} without data"));
            };
            index.insert(nodeno, nodes.len());
            nodes.push(Node {
                data: record[start..start + len].to_vec(),
                segs: narrow(&segs, start, len),
            });
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
        held.put(&node.segs, &node.data)?;
    }
    held.write(db)
}

/// Converts the copy at `temp` on the page level, or declines (see the module docs); the report
/// is the SQL path's for the same input.
pub(super) fn convert(job: &Job<'_>, temp: &Path) -> Result<ConvertReport> {
    let path = job.input;
    let db = Db::open(temp)?;
    // The catalogue, read first (read-only; nothing written yet).
    let (tables, plans, srs_id) = {
        let conn = Connection::open_with_flags(
            temp,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let tables = feature_tables(&conn, path)?;
        let srs_id = choose_target_srs(&conn, job.target, path, &mut Vec::new(), false)?;
        let plans = tables.iter().map(|t| plan(&conn, path, t)).collect::<Result<Vec<_>>>()?;
        conn.close().map_err(|(_, e)| e)?;
        (tables, plans, srs_id)
    };
    let Ok(blob_srs_id) = i32::try_from(srs_id) else { return no("srs_id beyond i32") };
    let mut converted = Vec::with_capacity(plans.len());
    // One set for every tree: a page met twice, in any of them, is declined (two trees sharing
    // a page is a damaged file; a table listed with two geometry columns goes the SQL way).
    let mut seen = Seen::new(&db);
    for plan in &plans {
        let totals = convert_column(&db, job, plan, blob_srs_id, &mut seen)?;
        if let Some(root) = plan.rtree {
            fix_rtree(&db, root, &totals.boxes, &mut seen)?;
        }
        converted.push(totals);
    }
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
    }

    #[test]
    fn narrow_cuts_runs() {
        let segs = [Seg { slot: 0, at: 10, len: 5 }, Seg { slot: 1, at: 4, len: 10 }];
        let n = narrow(&segs, 3, 6);
        assert_eq!((n[0].slot, n[0].at, n[0].len), (0, 13, 2));
        assert_eq!((n[1].slot, n[1].at, n[1].len), (1, 4, 4));
    }
}
