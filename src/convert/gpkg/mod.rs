//! GeoPackage (OGC 12-128r18): every feature table's geometries converted, everything else kept.
//!
//! The input is copied beside the output under a temporary name (SQLite's `VACUUM INTO` when the
//! input has a write-ahead log with unmerged pages, so none of its data is lost; else inside an
//! SQLite read transaction on the input (`read_lock`), so that no commit lands half in the copy),
//! the copy is changed in one transaction, and renamed over the output only if everything
//! succeeded. The input is only ever opened read-only. An input with a hot rollback journal beside
//! it (`<input>-journal` with a journal header: a writer crashed or is writing) is refused as
//! [`ConvertError::Malformed`] (location `database`): its main file may hold half a transaction,
//! and rolling the journal back would modify the input. A write-ahead log (`<input>-wal`) is read
//! through SQLite, read-only: its committed pages are in the output, and the input and its log are
//! left as they are (SQLite may create or update the shared-memory index `<input>-shm`, as for any
//! reader).
//!
//! In that transaction:
//! - every trigger of the database is set aside (dropped) first and recreated from its exact SQL
//!   text at the end, in its order: no trigger runs on the user's data during the conversion
//!   (audit tables, `updated_at` stamps, cascades, GDAL's feature-count triggers);
//! - every table of `gpkg_geometry_columns`: each row's geometry blob (GeoPackage binary header,
//!   then standard WKB in either byte order, see [`wkb`]) is converted in place —
//!   x/y (and z where the geometry has z; m unchanged), the header's `srs_id` set to the target's
//!   and its envelope recomputed in the same kind (xy, xyz, xym, xyzm; an empty geometry gets
//!   NaN). NULL geometries and empty geometries stay as they are (apart from `srs_id`). Rows are
//!   read in chunks of [`CHUNK`] by rowid and converted in parallel when
//!   [`parallel`](super::ConvertOptions::parallel) is set. A column listed more than once in
//!   `gpkg_geometry_columns` (in another case, or a duplicate row) is converted once, and every
//!   listing gets the target's `srs_id`;
//! - `gpkg_spatial_ref_sys` gets the target, if not there yet: `srs_id` = its EPSG code
//!   (organization `EPSG`), or for a CRS without one the first free id ≥ 100000 with
//!   organization `geounify` and the target's id as `srs_name`; `definition` is the target's
//!   WKT 1 ([`Crs::to_wkt`](crate::crs::Crs::to_wkt)) or `undefined` with a warning (GCJ-02,
//!   BD-09, ...). `gpkg_geometry_columns.srs_id`, `gpkg_contents.srs_id` and the contents'
//!   bounding box (`min_x` … `max_y`, NULL for a table without coordinates) are updated, and
//!   `gpkg_contents.last_change` set to now, as the specification asks of a changed table;
//! - each feature table's R-tree spatial index (`rtree_<table>_<column>`) is emptied and refilled
//!   once, with the envelopes computed while converting (instead of row by row through its
//!   triggers), so it matches the output even when the input had lost the index's triggers;
//! - the `ST_*` functions GeoPackage triggers call (`ST_IsEmpty`, `ST_MinX`, `ST_MaxX`,
//!   `ST_MinY`, `ST_MaxY`, `ST_GeometryType`, `ST_SRID`) are registered on the connection,
//!   implemented on the GeoPackage blob (for anything else in the schema that calls them).
//!
//! Attribute tables, tiles, extensions' tables and every non-geometry column are untouched.
//!
//! **Two ways, one result.** Converting a geometry never changes its blob's length, so the
//! database's structure never changes: the page-level fast path (`gpkg/pages.rs`) reads the input's
//! B-tree pages itself (SQLite file format, under an SQLite read transaction on the input, so no
//! writer commits meanwhile), writes each page to the copy once (the feature tables' pages with
//! their blobs converted, the R-tree's with its boxes recomputed in its existing structure, every
//! other page as it is), and lets SQLite do only the metadata updates above. It declines anything
//! it does not take — a WAL-mode file, a `WITHOUT ROWID` table, a `CHECK` constraint, a generated
//! column, an index on the geometry, a row key that is not the rowid, an R-tree that is not
//! GeoPackage's or does not index exactly the rows above, any malformed or damaged page or geometry
//! (the full list in `pages.rs`), any point that fails — and then the SQL path described above runs
//! on a fresh copy, so reports, messages and failures are always the SQL path's. Both write the
//! same rows byte for byte and the same R-tree entries (tests compare them).
//!
//! A row with a point that cannot be converted fails the conversion (nothing written); with
//! [`skip_invalid`](super::ConvertOptions::skip_invalid) the row is **deleted from the output**
//! (never left unconverted) and listed as `table T, fid N`; it has no R-tree entry, and GDAL's
//! `gpkg_ogr_contents.feature_count` of the table is lowered by the rows left out (no trigger
//! fires for the delete). A blob that is not a GeoPackage geometry — or whose declared counts
//! exceed its bytes, or that nests collections deeper than [`wkb::MAX_DEPTH`] — is
//! [`ConvertError::Malformed`] at `table T, fid N` (counts are checked against the bytes left
//! before anything is allocated).

use super::atomic::AtomicFile;
use super::wkb::{self, read_f64, write_f64, Envelope, Summary, WkbError};
use super::Tally;
use super::{ConvertError, ConvertReport, Failure, Job};
use crate::crs::Crs;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::path::Path;

mod pages;

/// Rows converted per chunk (at most).
pub const CHUNK: usize = 16_384;

/// Geometry bytes read per chunk (at most, plus one row): a chunk ends at [`CHUNK`] rows or once
/// its blobs reach this size, so a table of large geometries does not hold 16,384 of them in
/// memory at once (one row is always read whole, whatever its size).
pub const CHUNK_BYTES: u64 = 16 << 20;

/// The first `srs_id` given to a target CRS without an EPSG code.
pub const FIRST_PRIVATE_SRS_ID: i64 = 100_000;

/// The fixed part of a GeoPackage geometry blob's header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlobHeader {
    little: bool,
    pub(crate) empty: bool,
    envelope_kind: u8,
    srs_id: i32,
    pub(crate) wkb_at: usize,
}

/// Parses a GeoPackage binary header (`GP`, version, flags, srs_id, envelope).
pub(crate) fn blob_header(b: &[u8]) -> Result<BlobHeader, String> {
    if b.len() < 8 || &b[0..2] != b"GP" {
        return Err("not a GeoPackage geometry (no \"GP\" header)".into());
    }
    if b[2] != 0 {
        return Err(format!("GeoPackage binary version {} (only version 1, coded 0)", b[2]));
    }
    let flags = b[3];
    if flags & 0x20 != 0 {
        return Err("an extended GeoPackage geometry (not standard WKB) cannot be converted".into());
    }
    let envelope_kind = (flags >> 1) & 0x07;
    let envelope_len = match envelope_kind {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        k => return Err(format!("envelope indicator {k} (0 to 4 are defined)")),
    };
    let little = flags & 1 == 1;
    let raw = [b[4], b[5], b[6], b[7]];
    let srs_id = if little { i32::from_le_bytes(raw) } else { i32::from_be_bytes(raw) };
    let wkb_at = 8 + envelope_len;
    if b.len() < wkb_at {
        return Err("the geometry ends inside its header".into());
    }
    Ok(BlobHeader { little, empty: flags & 0x10 != 0, envelope_kind, srs_id, wkb_at })
}

/// A blob's WKB error with its offset from the blob's start.
fn in_blob(e: WkbError, wkb_at: usize) -> WkbError {
    match e {
        WkbError::Malformed { offset, message } => {
            WkbError::Malformed { offset: offset + wkb_at, message }
        }
        e => e,
    }
}

/// Pushes the coordinates of a row's geometry blob for the batch transform; whether it has any
/// to convert (a NULL geometry has none; a malformed blob gets its error as the outcome).
fn gather_row(r: &mut Row, points: &mut Vec<[f64; 3]>) -> bool {
    let Some(blob) = r.blob.as_ref() else { return false };
    match gather_blob(blob, points) {
        Ok(()) => true,
        Err(e) => {
            r.outcome = Some(Err(e));
            false
        }
    }
}

/// Pushes the coordinates of a geometry blob for the batch transform.
fn gather_blob(blob: &[u8], points: &mut Vec<[f64; 3]>) -> Result<(), WkbError> {
    let h = blob_header(blob).map_err(|message| WkbError::Malformed { offset: 0, message })?;
    wkb::gather(&blob[h.wkb_at..], points).map_err(|e| in_blob(e, h.wkb_at))
}

/// Writes a row's converted coordinates into its blob, with `srs_id` and the envelope, or
/// records its point's error.
fn scatter_row(r: &mut Row, converted: Result<&[[f64; 3]], crate::error::PointError>, srs_id: i32) {
    let Some(blob) = r.blob.as_mut() else { return };
    r.outcome = Some(match converted {
        Ok(c) => finish_blob(blob, c, srs_id),
        Err(e) => Err(WkbError::Point(e)),
    });
}

/// Converts one geometry blob in place, as the batch of [`gather_row`] and [`scatter_row`]
/// does (the unit tests' entry point).
#[cfg(test)]
fn convert_blob(
    blob: &mut [u8],
    transformer: &crate::Transformer,
    srs_id: i32,
) -> Result<Summary, WkbError> {
    let mut row = Row { rowid: 0, blob: Some(blob.to_vec()), outcome: None };
    super::runner::in_place(
        transformer,
        false,
        std::slice::from_mut(&mut row),
        gather_row,
        |r, c| scatter_row(r, c, srs_id),
    );
    if let Some(b) = &row.blob {
        blob.copy_from_slice(b);
    }
    row.outcome.unwrap_or_else(|| Err(WkbError::Malformed { offset: 0, message: "no blob".into() }))
}

/// Puts a blob's converted coordinates (as [`gather_row`] pushed them, transformed), its new
/// `srs_id` and envelope.
fn finish_blob(blob: &mut [u8], converted: &[[f64; 3]], srs_id: i32) -> Result<Summary, WkbError> {
    let h = blob_header(blob).map_err(|message| WkbError::Malformed { offset: 0, message })?;
    let summary =
        wkb::scatter(&mut blob[h.wkb_at..], converted).map_err(|e| in_blob(e, h.wkb_at))?;
    let id = if h.little { srs_id.to_le_bytes() } else { srs_id.to_be_bytes() };
    blob[4..8].copy_from_slice(&id);
    let env = &summary.envelope;
    let nan = (f64::NAN, f64::NAN);
    let mut put = |at: usize, range: (f64, f64)| {
        write_f64(blob, 8 + at, h.little, range.0);
        write_f64(blob, 8 + at + 8, h.little, range.1);
    };
    if h.envelope_kind >= 1 {
        put(0, env.x.unwrap_or(nan));
        put(16, env.y.unwrap_or(nan));
    }
    // Z and M ranges only where the geometry has them (else the input's bytes stay);
    // an empty geometry has NaN throughout.
    let empty = summary.is_empty();
    match h.envelope_kind {
        2 => {
            if let Some(z) = env.z.or(empty.then_some(nan)) {
                put(32, z);
            }
        }
        3 => {
            if let Some(m) = env.m.or(empty.then_some(nan)) {
                put(32, m);
            }
        }
        4 => {
            if let Some(z) = env.z.or(empty.then_some(nan)) {
                put(32, z);
            }
            if let Some(m) = env.m.or(empty.then_some(nan)) {
                put(48, m);
            }
        }
        _ => {}
    }
    Ok(summary)
}

/// The 2D envelope of a blob for the `ST_Min*` / `ST_Max*` functions: the header's if it has
/// one, else computed from the WKB; `None` when empty.
fn blob_xy_envelope(b: &[u8]) -> Result<Option<[f64; 4]>, String> {
    let h = blob_header(b)?;
    if h.envelope_kind >= 1 {
        let v = [0, 8, 16, 24].map(|k| read_f64(b, 8 + k, h.little));
        return Ok(if v.iter().any(|v| v.is_nan()) { None } else { Some(v) });
    }
    let s = wkb::summary(&b[h.wkb_at..]).map_err(|e| e.to_string())?;
    Ok(s.envelope.x.zip(s.envelope.y).map(|(x, y)| [x.0, x.1, y.0, y.1]))
}

/// Registers the SQL functions the GeoPackage R-tree and geometry-type triggers call.
fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let user = |m: String| rusqlite::Error::UserFunctionError(m.into());
    for (name, k) in [("ST_MinX", 0usize), ("ST_MaxX", 1), ("ST_MinY", 2), ("ST_MaxY", 3)] {
        conn.create_scalar_function(name, 1, flags, move |ctx| match ctx.get_raw(0) {
            ValueRef::Blob(b) => Ok(blob_xy_envelope(b).map_err(user)?.map(|e| e[k])),
            _ => Ok(None),
        })?;
    }
    conn.create_scalar_function("ST_IsEmpty", 1, flags, move |ctx| match ctx.get_raw(0) {
        ValueRef::Blob(b) => {
            let h = blob_header(b).map_err(user)?;
            let empty = h.empty
                || wkb::summary(&b[h.wkb_at..]).map_err(|e| user(e.to_string()))?.is_empty();
            Ok(Some(empty))
        }
        _ => Ok(None),
    })?;
    conn.create_scalar_function("ST_SRID", 1, flags, move |ctx| match ctx.get_raw(0) {
        ValueRef::Blob(b) => Ok(Some(blob_header(b).map_err(user)?.srs_id)),
        _ => Ok(None),
    })?;
    conn.create_scalar_function("ST_GeometryType", 1, flags, move |ctx| match ctx.get_raw(0) {
        ValueRef::Blob(b) => {
            let h = blob_header(b).map_err(user)?;
            let s = wkb::summary(&b[h.wkb_at..]).map_err(|e| user(e.to_string()))?;
            Ok(Some(wkb::type_name(s.geometry_type)))
        }
        _ => Ok(None),
    })?;
    Ok(())
}

/// The message of a malformed geometry blob; `offset` from the start of the blob.
fn geometry_message(offset: usize, message: &str) -> String {
    format!("invalid geometry at byte {offset}: {message}")
}

/// An SQL identifier in double quotes.
pub(crate) fn quote(id: &str) -> String {
    format!("\"{}\"", id.replace('"', "\"\""))
}

/// The SQL expression naming a feature table's row key: its INTEGER PRIMARY KEY column (the
/// GeoPackage `fid`, an alias of SQLite's rowid), else the first of `rowid`, `_rowid_`, `oid`
/// that no user column shadows (a user column named `rowid` would otherwise be read and updated
/// in its place). A table where all three are shadowed is refused.
pub(crate) fn row_key(conn: &Connection, path: &Path, table: &str) -> Result<String, ConvertError> {
    let err = |e| sql_error(path, e);
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote(table))).map_err(err)?;
    let mut columns: Vec<(String, String, i64)> = Vec::new();
    let mut rows = stmt.query([]).map_err(err)?;
    while let Some(r) = rows.next().map_err(err)? {
        columns.push((r.get(1).map_err(err)?, r.get(2).map_err(err)?, r.get(5).map_err(err)?));
    }
    let keys: Vec<&(String, String, i64)> = columns.iter().filter(|c| c.2 > 0).collect();
    if let [(name, kind, _)] = keys.as_slice() {
        if kind.eq_ignore_ascii_case("INTEGER") {
            return Ok(quote(name));
        }
    }
    ["rowid", "_rowid_", "oid"]
        .into_iter()
        .find(|alias| !columns.iter().any(|c| c.0.eq_ignore_ascii_case(alias)))
        .map(str::to_string)
        .ok_or_else(|| ConvertError::Malformed {
            path: path.to_path_buf(),
            location: format!("table {table}"),
            message: "no integer primary key, and columns named rowid, _rowid_ and oid hide \
                      SQLite's row id: the rows cannot be addressed"
                .into(),
        })
}

/// A table of `path` whose rows are not all where their keys lead (a damaged B-tree: a search by
/// key misses rows a scan finds), at `location`.
pub(crate) fn damaged_tree(path: &Path, location: String) -> ConvertError {
    ConvertError::Malformed {
        path: path.to_path_buf(),
        location,
        message: "a row is not where its key leads: the table's B-tree is damaged (database \
                  disk image is malformed)"
            .into(),
    }
}

/// A SQLite error as a [`ConvertError`] about `path`: a file that is not (or no longer) a
/// database is malformed, anything else an I/O error.
pub(crate) fn sql_error(path: &Path, e: rusqlite::Error) -> ConvertError {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    match e.sqlite_error_code() {
        Some(NotADatabase | DatabaseCorrupt) => ConvertError::Malformed {
            path: path.to_path_buf(),
            location: "database".into(),
            message: e.to_string(),
        },
        _ => ConvertError::Io { path: path.to_path_buf(), source: std::io::Error::other(e) },
    }
}

/// A feature table: (table, geometry column, srs_id) from `gpkg_geometry_columns`.
pub(crate) type FeatureTable = (String, String, i64);

pub(crate) fn feature_tables(
    conn: &Connection,
    path: &Path,
) -> Result<Vec<FeatureTable>, ConvertError> {
    let exists: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') \
             AND name = 'gpkg_geometry_columns'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| sql_error(path, e))?;
    if exists.is_none() {
        return Err(ConvertError::Malformed {
            path: path.to_path_buf(),
            location: "database".into(),
            message: "no gpkg_geometry_columns table: not a GeoPackage".into(),
        });
    }
    let mut stmt = conn
        .prepare("SELECT table_name, column_name, srs_id FROM gpkg_geometry_columns")
        .map_err(|e| sql_error(path, e))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .and_then(|rows| rows.collect::<Result<Vec<FeatureTable>, _>>())
        .map_err(|e| sql_error(path, e))?;
    Ok(distinct_columns(rows))
}

/// The feature tables with each (table, column) once: SQLite names are ASCII case-insensitive,
/// so `parcels` / `PARCELS` listed twice (or a duplicate row in a file without the primary key)
/// name one column, which must be converted once, not twice. The first listing is kept.
fn distinct_columns(rows: Vec<FeatureTable>) -> Vec<FeatureTable> {
    let mut seen = std::collections::HashSet::new();
    rows.into_iter()
        .filter(|(t, c, _)| seen.insert((t.to_ascii_lowercase(), c.to_ascii_lowercase())))
        .collect()
}

/// The first 8 bytes of a rollback journal's header (SQLite file format, "the rollback journal").
const JOURNAL_MAGIC: [u8; 8] = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7];

/// Refuses an input with a hot rollback journal beside it (`<input>-journal` starting with
/// the journal header): a writer crashed (or is still writing) in the middle of a transaction,
/// so the main file may hold half of it. A copy of the main file alone would be inconsistent,
/// and opening the input with SQLite would roll the journal back, i.e. modify the input, which
/// geounify never does. A journal with a zeroed header (`journal_mode = PERSIST`) or an empty one
/// (`TRUNCATE`) holds no transaction and is ignored.
pub(crate) fn refuse_hot_journal(input: &Path) -> Result<(), ConvertError> {
    use std::io::Read;
    let mut journal = input.as_os_str().to_owned();
    journal.push("-journal");
    let journal = std::path::PathBuf::from(journal);
    let mut head = [0u8; 8];
    let hot = std::fs::File::open(&journal).and_then(|mut f| f.read_exact(&mut head)).is_ok()
        && head == JOURNAL_MAGIC;
    if hot {
        return Err(ConvertError::Malformed {
            path: input.to_path_buf(),
            location: "database".into(),
            message: format!(
                "a hot rollback journal lies beside it ({}): a program writing the file crashed \
                 or is still writing, and the file may hold half a transaction. geounify does \
                 not modify its input: let that program finish, or open the file once with \
                 SQLite (e.g. sqlite3 FILE \"PRAGMA integrity_check\") to roll the \
                 transaction back, then convert again",
                journal.display()
            ),
        });
    }
    Ok(())
}

/// Copies the database `input` to `temp` (an empty file beside `output`); a read error names
/// the input, a write error (e.g. a full disk) the output.
fn copy_database(input: &Path, temp: &Path, output: &Path) -> Result<(), ConvertError> {
    if wal_pending(input) {
        let conn = Connection::open_with_flags(input, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| sql_error(input, e))?;
        let target = temp.to_string_lossy();
        conn.execute("VACUUM INTO ?1", [target.as_ref()]).map_err(|e| sql_error(input, e))?;
        Ok(())
    } else {
        use std::io::{Read, Write};
        let io_in = |source| ConvertError::Io { path: input.to_path_buf(), source };
        let io_out = |source| ConvertError::Io { path: output.to_path_buf(), source };
        // Held until the copy is made (dropped at the end of this block, after `from`).
        let _lock = read_lock(input).ok();
        let mut from = std::fs::File::open(input).map_err(io_in)?;
        let mut to = std::fs::File::options().write(true).open(temp).map_err(io_out)?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_in(e)),
            };
            to.write_all(&buf[..n]).map_err(io_out)?;
        }
    }
}

/// How long reading the input waits for a writer's commit to it to end.
pub(crate) const WRITER_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A read transaction on the rollback-journal database `input`, so that no other process
/// commits to it while its bytes are read (a copy taken during a commit could hold half of
/// it); a commit under way is waited for, up to [`WRITER_WAIT`]. An error says why SQLite
/// cannot take one: not an SQLite file, not a rollback-journal one (a WAL-mode file is left
/// alone: a reader would create its `-wal` and `-shm` files beside it), or a writer holding it
/// longer. The SQL path then copies the input as it is, as before, and SQLite says what is
/// wrong with the copy when it opens it.
pub(super) fn read_lock(input: &Path) -> Result<Connection, String> {
    use std::io::Read;
    let mut header = [0u8; 20];
    std::fs::File::open(input)
        .and_then(|mut f| f.read_exact(&mut header))
        .map_err(|e| format!("I/O: {e}"))?;
    if &header[..16] != b"SQLite format 3\0" {
        return Err("not an SQLite 3 file".into());
    }
    if header[18] != 1 || header[19] != 1 {
        return Err("not a rollback-journal database (WAL mode)".into());
    }
    let sqlite = |e: rusqlite::Error| format!("SQLite: {e}");
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(input, flags).map_err(sqlite)?;
    conn.busy_timeout(WRITER_WAIT).map_err(sqlite)?;
    conn.execute_batch("PRAGMA cell_size_check = ON; BEGIN").map_err(sqlite)?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())).map_err(sqlite)?;
    Ok(conn)
}

/// Whether `input` has a write-ahead log holding pages (a non-empty `-wal` file beside it).
fn wal_pending(input: &Path) -> bool {
    let mut wal = input.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0)
}

/// The target's `srs_id` in `gpkg_spatial_ref_sys`, inserting the row if needed.
pub(crate) fn target_srs(
    conn: &Connection,
    target: &Crs,
    path: &Path,
    warnings: &mut Vec<String>,
) -> Result<i64, ConvertError> {
    choose_target_srs(conn, target, path, warnings, true)
}

/// The target's `srs_id` as [`target_srs`] chooses it; the row is inserted only if `insert`
/// (the page-level path asks first, without writing, and inserts in its last step).
fn choose_target_srs(
    conn: &Connection,
    target: &Crs,
    path: &Path,
    warnings: &mut Vec<String>,
    insert_row: bool,
) -> Result<i64, ConvertError> {
    let err = |e| sql_error(path, e);
    let definition = match target.to_wkt() {
        Ok(wkt) => wkt,
        Err(e) => {
            warnings.push(format!("gpkg_spatial_ref_sys: definition 'undefined': {e}"));
            "undefined".to_string()
        }
    };
    let mut columns = Vec::new();
    {
        let mut stmt = conn.prepare("PRAGMA table_info(gpkg_spatial_ref_sys)").map_err(err)?;
        let names = stmt.query_map([], |r| r.get::<_, String>(1)).map_err(err)?;
        for n in names {
            columns.push(n.map_err(err)?.to_ascii_lowercase());
        }
    }
    if columns.is_empty() {
        return Err(ConvertError::Malformed {
            path: path.to_path_buf(),
            location: "database".into(),
            message: "no gpkg_spatial_ref_sys table: not a GeoPackage".into(),
        });
    }
    let insert = |srs_id: i64, name: &str, org: &str, org_id: i64| -> Result<(), ConvertError> {
        if !insert_row {
            return Ok(());
        }
        let extra = if columns.iter().any(|c| c == "definition_12_063") {
            ", definition_12_063) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'undefined')"
        } else {
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        };
        let sql = format!(
            "INSERT INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, \
             organization_coordsys_id, definition, description{extra}"
        );
        conn.execute(&sql, params![name, srs_id, org, org_id, definition, target.name()])
            .map(|_| ())
            .map_err(err)
    };
    if let Some(code) = target.epsg() {
        let code = i64::from(code);
        let row = srs_identity(conn, code).map_err(err)?;
        match row {
            None => {
                insert(code, target.name(), "EPSG", code)?;
                return Ok(code);
            }
            Some((org, id)) if org.eq_ignore_ascii_case("EPSG") && id == code => return Ok(code),
            Some(_) => warnings.push(format!(
                "gpkg_spatial_ref_sys: srs_id {code} is taken by another CRS; {} gets a \
                 private id",
                target.id()
            )),
        }
    }
    let existing: Option<i64> = conn
        .query_row(
            "SELECT srs_id FROM gpkg_spatial_ref_sys WHERE organization = 'geounify' \
             AND srs_name = ?1",
            [target.id()],
            |r| r.get(0),
        )
        .optional()
        .map_err(err)?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let max: Option<i64> = conn
        .query_row("SELECT max(srs_id) FROM gpkg_spatial_ref_sys", [], |r| r.get(0))
        .map_err(err)?;
    let id = max.map_or(FIRST_PRIVATE_SRS_ID, |m| m.saturating_add(1).max(FIRST_PRIVATE_SRS_ID));
    insert(id, target.id(), "geounify", id)?;
    Ok(id)
}

/// A trigger of the database: (name, SQL text as stored in `sqlite_master`).
type Trigger = (String, String);

/// Drops every trigger of the copy, returning them (in creation order) for
/// [`restore_triggers`]: no trigger may run on the user's data during the conversion (audit
/// tables, `updated_at` stamps, cascades would record or change things the user never did; the
/// R-tree triggers would update the index row by row, see [`rtree_index`]).
fn set_triggers_aside(conn: &Connection, path: &Path) -> Result<Vec<Trigger>, ConvertError> {
    let err = |e| sql_error(path, e);
    let triggers: Vec<Trigger> = {
        let mut stmt = conn
            .prepare(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql NOT NULL \
                 ORDER BY rowid",
            )
            .map_err(err)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)?
    };
    for (name, _) in &triggers {
        conn.execute(&format!("DROP TRIGGER {}", quote(name)), []).map_err(err)?;
    }
    Ok(triggers)
}

/// Recreates the triggers [`set_triggers_aside`] dropped, from their exact SQL text, in their
/// order. Each text must be one statement (rusqlite refuses a text with more).
fn restore_triggers(
    conn: &Connection,
    path: &Path,
    triggers: &[Trigger],
) -> Result<(), ConvertError> {
    for (name, sql) in triggers {
        conn.execute(sql, []).map_err(|e| ConvertError::Malformed {
            path: path.to_path_buf(),
            location: format!("trigger {name}"),
            message: format!("its definition cannot be recreated: {e}"),
        })?;
    }
    Ok(())
}

/// The R-tree spatial index of `table`.`column` (`rtree_<table>_<column>`, an SQLite `rtree`
/// virtual table, OGC 12-128r18 §F.3), if the file has one: its name as created and its SQL
/// text. A table of that name that is not an R-tree is not an index and is left alone.
fn rtree_index(
    conn: &Connection,
    path: &Path,
    table: &str,
    column: &str,
) -> Result<Option<(String, String)>, ConvertError> {
    let row: Option<(String, Option<String>)> = conn
        .query_row(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name = ?1 \
             COLLATE NOCASE",
            [format!("rtree_{table}_{column}")],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(|e| sql_error(path, e))?;
    Ok(row.and_then(|(name, sql)| {
        let sql = sql?;
        let lower = sql.to_ascii_lowercase();
        let words: Vec<&str> = lower.split_whitespace().collect();
        let is_rtree = words.starts_with(&["create", "virtual", "table"])
            && words.windows(2).any(|w| w[0] == "using" && w[1].starts_with("rtree"));
        is_rtree.then_some((name, sql))
    }))
}

/// One row as read.
struct Row {
    rowid: i64,
    blob: Option<Vec<u8>>,
    outcome: Option<Result<Summary, WkbError>>,
}

/// Converts one feature table's geometry column; its converted envelope and the number of rows
/// deleted (left out with `skip_invalid`).
///
/// The table's R-tree index (if any, see [`rtree_index`]) is emptied first (dropped and created
/// again from its own SQL text: deleting a million entries one by one took minutes) and refilled
/// with one entry per converted row, from the envelope computed while converting (the values GDAL's
/// triggers would have written: x and y ranges of a non-empty geometry, keyed by the row key;
/// NULL, empty geometries and envelopes with a NaN are not indexed). The triggers are set
/// aside by the caller, so this is the only maintenance the index gets.
fn convert_table(
    conn: &Connection,
    job: &Job<'_>,
    (table, column): (&str, &str),
    srs_id: i32,
    report: &mut ConvertReport,
    tally: &mut Tally,
) -> Result<(Envelope, u64), ConvertError> {
    let path = job.input;
    let err = |e| sql_error(path, e);
    let (t, c) = (quote(table), quote(column));
    let k = row_key(conn, path, table)?;
    let rtree = rtree_index(conn, path, table, column)?;
    if let Some((name, sql)) = &rtree {
        conn.execute(&format!("DROP TABLE {}", quote(name)), []).map_err(err)?;
        conn.execute(sql, []).map_err(err)?;
    }
    let index = rtree.map(|r| format!("INSERT INTO {} VALUES (?1, ?2, ?3, ?4, ?5)", quote(&r.0)));
    let mut deleted = 0u64;
    let mut envelope = Envelope::default();
    let mut last: Option<i64> = None;
    let select_first = format!("SELECT {k}, {c} FROM {t} ORDER BY {k} LIMIT {CHUNK}");
    let select_next = format!("SELECT {k}, {c} FROM {t} WHERE {k} > ?1 ORDER BY {k} LIMIT {CHUNK}");
    let update = format!("UPDATE {t} SET {c} = ?1 WHERE {k} = ?2");
    let delete = format!("DELETE FROM {t} WHERE {k} = ?1");
    // Rows are read in row key order, a chunk after the last key read, and written back by
    // their key. In a damaged B-tree (a parent page's key changed) a row can lie where a
    // search by its key does not find it: it would be skipped or not written back, and left
    // unconverted in an output that declares the target CRS. So the rows read are counted
    // against the table's rows (counted leaf by leaf), and each write must find its row.
    let rows_in_table: i64 =
        conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0)).map_err(err)?;
    let mut rows_read = 0i64;
    let damaged = |location: String| damaged_tree(path, location);
    loop {
        let mut rows: Vec<Row> = Vec::new();
        let mut bytes = 0u64;
        {
            let (sql, args) = match last {
                None => (&select_first, vec![]),
                Some(id) => (&select_next, vec![id]),
            };
            let mut stmt = conn.prepare_cached(sql).map_err(err)?;
            let mut cursor = stmt.query(rusqlite::params_from_iter(args)).map_err(err)?;
            while let Some(r) = cursor.next().map_err(err)? {
                let rowid: i64 = r.get(0).map_err(err)?;
                let blob = match r.get_ref(1).map_err(err)? {
                    ValueRef::Null => None,
                    ValueRef::Blob(b) => Some(b.to_vec()),
                    other => {
                        return Err(ConvertError::Malformed {
                            path: path.to_path_buf(),
                            location: format!("table {table}, fid {rowid}"),
                            message: format!(
                                "the geometry is {}, not a GeoPackage geometry blob",
                                other.data_type().to_string().to_uppercase()
                            ),
                        });
                    }
                };
                bytes += blob.as_ref().map_or(8, |b| b.len() as u64);
                rows_read += 1;
                rows.push(Row { rowid, blob, outcome: None });
                if bytes >= CHUNK_BYTES {
                    break;
                }
            }
        }
        job.progress.advance(bytes);
        // A damaged file can return row ids out of order or repeated (found by fuzzing: the
        // same chunk again and again, a conversion that never ends); refuse it.
        let mut previous = last;
        for r in &rows {
            if previous.is_some_and(|p| r.rowid <= p) {
                return Err(ConvertError::Malformed {
                    path: path.to_path_buf(),
                    location: format!("table {table}, fid {}", r.rowid),
                    message: "the row ids are repeated or out of order: the file is damaged".into(),
                });
            }
            previous = Some(r.rowid);
        }
        let Some(end) = rows.last().map(|r| r.rowid) else { break };
        last = Some(end);
        super::runner::in_place(
            job.transformer,
            job.options.parallel,
            &mut rows,
            gather_row,
            |r, converted| scatter_row(r, converted, srs_id),
        );
        // Prepared once per chunk, not looked up in the statement cache row by row.
        let mut update_row = conn.prepare_cached(&update).map_err(err)?;
        let mut index_row = match &index {
            Some(sql) => Some(conn.prepare_cached(sql).map_err(err)?),
            None => None,
        };
        for row in rows {
            report.features += 1;
            let location = format!("table {table}, fid {}", row.rowid);
            match row.outcome {
                None => report.empty += 1, // NULL geometry
                Some(Ok(summary)) => {
                    report.vertices += summary.vertices;
                    if summary.is_empty() {
                        report.empty += 1;
                    }
                    envelope.extend(&summary.envelope);
                    if !tally.failed() {
                        if update_row.execute(params![row.blob, row.rowid]).map_err(err)? != 1 {
                            return Err(damaged(location));
                        }
                        let flagged_empty = row.blob.as_ref().is_some_and(|b| b[3] & 0x10 != 0);
                        let env = &summary.envelope;
                        if let (Some(stmt), Some((x0, x1)), Some((y0, y1)), false) =
                            (index_row.as_mut(), env.x, env.y, flagged_empty)
                        {
                            if ![x0, x1, y0, y1].iter().any(|v| v.is_nan()) {
                                stmt.execute(params![row.rowid, x0, x1, y0, y1]).map_err(err)?;
                            }
                        }
                    }
                }
                Some(Err(WkbError::Malformed { offset, message })) => {
                    return Err(ConvertError::Malformed {
                        path: path.to_path_buf(),
                        location,
                        message: geometry_message(offset, &message),
                    });
                }
                Some(Err(WkbError::Point(e))) => {
                    let skip = job.options.skip_invalid;
                    let reason = if skip {
                        let mut stmt = conn.prepare_cached(&delete).map_err(err)?;
                        if stmt.execute([row.rowid]).map_err(err)? != 1 {
                            return Err(damaged(location));
                        }
                        deleted += 1;
                        format!("{e}; row left out of the output")
                    } else {
                        e.to_string()
                    };
                    tally.record(report, skip, Failure { location, reason });
                }
            }
        }
    }
    if rows_read != rows_in_table {
        return Err(damaged(format!("table {table}")));
    }
    Ok((envelope, deleted))
}

/// Lowers GDAL's `gpkg_ogr_contents.feature_count` of `table` by the `deleted` rows (what GDAL's
/// delete trigger does, set aside during the conversion); a NULL count (unknown) stays NULL, a
/// file without that table is left as it is.
fn feature_count_down(
    conn: &Connection,
    path: &Path,
    table: &str,
    deleted: u64,
) -> Result<(), ConvertError> {
    let err = |e| sql_error(path, e);
    let exists: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name = 'gpkg_ogr_contents' COLLATE NOCASE",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(err)?;
    if exists.is_some() {
        conn.execute(
            "UPDATE gpkg_ogr_contents SET feature_count = feature_count - ?1 \
             WHERE lower(table_name) = lower(?2) AND feature_count NOT NULL",
            params![i64::try_from(deleted).unwrap_or(i64::MAX), table],
        )
        .map_err(err)?;
    }
    Ok(())
}

/// Settings of the connection to the private temporary copy (nothing stored in the file): a
/// 64 MiB page cache (the default 2 MiB spilled dirty pages of the table and its R-tree to
/// disk again and again), and no rollback journal unless the copy is in WAL mode (kept as it
/// is). The copy is never rolled back and kept: any error discards the whole file, and it is
/// renamed over the output only after the commit, so a journal would only double the writes.
fn private_copy_settings(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("PRAGMA cache_size = -65536; PRAGMA cell_size_check = ON")?;
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        conn.query_row("PRAGMA journal_mode = OFF", [], |r| r.get::<_, String>(0))?;
    }
    Ok(())
}

/// The `(organization, organization_coordsys_id)` that `gpkg_spatial_ref_sys` gives `srs_id`,
/// if it lists it.
fn srs_identity(conn: &Connection, srs_id: i64) -> rusqlite::Result<Option<(String, i64)>> {
    conn.query_row(
        "SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys \
         WHERE srs_id = ?1",
        [srs_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Warns when `table` declares an EPSG CRS (`old_srs`) other than the job's source.
fn declared_warning(
    conn: &Connection,
    job: &Job<'_>,
    table: &str,
    old_srs: i64,
    report: &mut ConvertReport,
) -> Result<(), ConvertError> {
    let declared = srs_identity(conn, old_srs).map_err(|e| sql_error(job.input, e))?;
    if let (Some((org, code)), Some(source)) = (declared, job.source.epsg()) {
        if org.eq_ignore_ascii_case("EPSG") && code != i64::from(source) {
            report.warnings.push(format!(
                "table {table} declares EPSG:{code}; converted as {} as requested",
                job.source.id()
            ));
        }
    }
    Ok(())
}

/// The metadata of a converted column: every listing of it in `gpkg_geometry_columns` (a table
/// listed twice in another case) and its `gpkg_contents` row get the target's `srs_id`, the
/// contents its converted bounding box and `last_change` now.
fn finish_table(
    conn: &Connection,
    path: &Path,
    (table, column): (&str, &str),
    srs_id: i64,
    envelope: &Envelope,
) -> Result<(), ConvertError> {
    let err = |e| sql_error(path, e);
    conn.execute(
        "UPDATE gpkg_geometry_columns SET srs_id = ?1 WHERE table_name = ?2 COLLATE NOCASE \
         AND column_name = ?3 COLLATE NOCASE",
        params![srs_id, table, column],
    )
    .map_err(err)?;
    let (x, y) = (envelope.x, envelope.y);
    conn.execute(
        "UPDATE gpkg_contents SET srs_id = ?1, min_x = ?2, min_y = ?3, max_x = ?4, \
         max_y = ?5, last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
         WHERE table_name = ?6 COLLATE NOCASE",
        params![srs_id, x.map(|x| x.0), y.map(|y| y.0), x.map(|x| x.1), y.map(|y| y.1), table],
    )
    .map_err(err)?;
    Ok(())
}

/// Converts the GeoPackage `job.input` to `job.output` (see the module docs).
pub fn convert_file(job: &Job<'_>) -> Result<ConvertReport, ConvertError> {
    convert_traced(job, Route::Pages).map(|(report, _)| report)
}

/// Which way a conversion went (see [`convert_traced`]).
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The page-level fast path (see the module docs).
    Pages,
    /// The SQL path alone, as requested (every row read, updated and indexed through SQLite).
    Sql,
    /// The SQL path, after the page-level path declined, for this reason.
    Declined(String),
}

/// [`convert_file`], saying which way it went; any request but `Route::Pages` runs the SQL
/// path alone (for tests comparing the two paths' outputs; the outputs are the same).
#[doc(hidden)]
pub fn convert_traced(
    job: &Job<'_>,
    request: Route,
) -> Result<(ConvertReport, Route), ConvertError> {
    let out_err = |source| ConvertError::Io { path: job.output.to_path_buf(), source };
    refuse_hot_journal(job.input)?;
    let file = AtomicFile::create(job.output).map_err(out_err)?;
    if request == Route::Pages {
        // The page-level path reads the input's pages and writes the copy's (each page once);
        // an input with a write-ahead log is first copied whole with it (see `copy_database`).
        let copied = wal_pending(job.input);
        if copied {
            copy_database(job.input, file.temp_path(), job.output)?;
        }
        let source = if copied { file.temp_path() } else { job.input };
        let declined = match pages::convert(job, source, file.temp_path()) {
            Ok(mut report) => {
                report.outputs.push(file.commit().map_err(out_err)?);
                return Ok((report, Route::Pages));
            }
            Err(pages::Decline(reason)) => reason,
        };
        // Declined (possibly half way): the SQL path starts again from a fresh copy.
        std::fs::OpenOptions::new()
            .write(true)
            .open(file.temp_path())
            .and_then(|f| f.set_len(0))
            .map_err(out_err)?;
        copy_database(job.input, file.temp_path(), job.output)?;
        let mut report = convert_sql(job, file.temp_path())?;
        report.outputs.push(file.commit().map_err(out_err)?);
        return Ok((report, Route::Declined(declined)));
    }
    copy_database(job.input, file.temp_path(), job.output)?;
    let mut report = convert_sql(job, file.temp_path())?;
    report.outputs.push(file.commit().map_err(out_err)?);
    Ok((report, Route::Sql))
}

/// The SQL path: the copy at `temp` converted row by row through SQLite (see the module docs).
fn convert_sql(job: &Job<'_>, temp: &Path) -> Result<ConvertReport, ConvertError> {
    let mut report = ConvertReport::default();
    let mut conn = Connection::open_with_flags(
        temp,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sql_error(job.input, e))?;
    register_functions(&conn).map_err(|e| sql_error(job.input, e))?;
    private_copy_settings(&conn).map_err(|e| sql_error(job.output, e))?;
    let path = job.input;
    let err = |e| sql_error(path, e);
    let tx = conn.transaction().map_err(err)?;
    let triggers = set_triggers_aside(&tx, path)?;
    let tables = feature_tables(&tx, path)?;
    let srs_id = target_srs(&tx, job.target, path, &mut report.warnings)?;
    let blob_srs_id = i32::try_from(srs_id).map_err(|_| ConvertError::Malformed {
        path: path.to_path_buf(),
        location: "gpkg_spatial_ref_sys".into(),
        message: format!("srs_id {srs_id} does not fit a geometry header"),
    })?;
    let mut tally = Tally::default();
    for (table, column, old_srs) in &tables {
        declared_warning(&tx, job, table, *old_srs, &mut report)?;
        let (envelope, deleted) =
            convert_table(&tx, job, (table, column), blob_srs_id, &mut report, &mut tally)?;
        if tally.failed() {
            continue;
        }
        if deleted > 0 {
            feature_count_down(&tx, path, table, deleted)?;
        }
        finish_table(&tx, path, (table, column), srs_id, &envelope)?;
    }
    tally.finish(&mut report, path)?;
    restore_triggers(&tx, path, &triggers)?;
    tx.commit().map_err(err)?;
    conn.close().map_err(|(_, e)| sql_error(job.output, e))?;
    Ok(report)
}

/// Up to `max` coordinates `[x, y, z]` (z = 0 without z) from the first rows of the feature
/// tables. The input is opened read-only.
pub(crate) fn sample(job: &Job<'_>, max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
    let path = job.input;
    let err = |e| sql_error(path, e);
    refuse_hot_journal(path)?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    let mut out = Vec::new();
    for (table, column, _) in feature_tables(&conn, path)? {
        if out.len() >= max {
            break;
        }
        let k = row_key(&conn, path, &table)?;
        let sql = format!("SELECT {k}, {} FROM {} ORDER BY {k}", quote(&column), quote(&table));
        let mut stmt = conn.prepare(&sql).map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            if out.len() >= max {
                break;
            }
            if let ValueRef::Blob(b) = r.get_ref(1).map_err(err)? {
                let rowid: i64 = r.get(0).map_err(err)?;
                let malformed = |message: String| ConvertError::Malformed {
                    path: path.to_path_buf(),
                    location: format!("table {table}, fid {rowid}"),
                    message,
                };
                let h = blob_header(b).map_err(|m| malformed(geometry_message(0, &m)))?;
                wkb::coordinates(&b[h.wkb_at..], max - out.len(), &mut out).map_err(|e| {
                    malformed(match e {
                        WkbError::Malformed { offset, message } => {
                            geometry_message(h.wkb_at + offset, &message)
                        }
                        e => e.to_string(),
                    })
                })?;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Transformer;

    #[test]
    fn blob_header_and_envelope() {
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        // GP, version 0, flags: envelope xy (1 << 1) | little endian.
        let mut blob = vec![b'G', b'P', 0, 0b0000_0011];
        blob.extend(4326i32.to_le_bytes());
        for v in [116.404f64, 116.404, 39.915, 39.915] {
            blob.extend(v.to_le_bytes());
        }
        blob.extend([1, 1, 0, 0, 0]);
        blob.extend(116.404f64.to_le_bytes());
        blob.extend(39.915f64.to_le_bytes());
        let s = convert_blob(&mut blob, &t, 4548).unwrap();
        assert_eq!(s.vertices, 1);
        assert_eq!(blob_header(&blob).unwrap().srs_id, 4548);
        let e = blob_xy_envelope(&blob).unwrap().unwrap();
        // PROJ 9 (cs2cs EPSG:4326 EPSG:4548), as in the crate docs.
        assert!((e[0] - 449_042.047_441).abs() < 1e-6 && e[0] == e[1]);
        assert!((e[2] - 4_420_261.219_997).abs() < 1e-6 && e[2] == e[3]);
    }

    #[test]
    fn bad_headers() {
        assert!(blob_header(b"XP\0\0\0\0\0\0").is_err());
        assert!(blob_header(b"GP\x01\0\0\0\0\0").is_err());
        assert!(blob_header(b"GP\0\x0a\0\0\0\0").is_err()); // envelope 5
        assert!(blob_header(b"GP\0\x02\0\0\0\0").is_err()); // envelope missing
        assert!(blob_header(b"GP\0\x20\0\0\0\0").is_err()); // extended
    }

    proptest::proptest! {
        #[test]
        fn random_blobs_never_panic(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..120), flags in 0u8..=255) {
            let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
            let mut blob = vec![b'G', b'P', 0, flags];
            blob.extend(tail);
            let _ = blob_xy_envelope(&blob);
            let _ = convert_blob(&mut blob, &t, 1);
        }
    }
}
