//! GeoPackage in conversions between formats.
//!
//! **Writing** (OGC 12-128r18, GeoPackage 1.3): a new SQLite file with the application id
//! `GPKG` and the mandatory tables — `gpkg_spatial_ref_sys` (the undefined cartesian and
//! geographic rows −1 and 0, EPSG:4326, and the target: its EPSG code as `srs_id` with its WKT
//! 1 definition, or a private id from 100000 for a CRS without one; `undefined` with a warning
//! when WKT cannot express it), `gpkg_contents` (the table's extent) and
//! `gpkg_geometry_columns` (the geometry type, `GEOMETRY` when there are several, and `z`) — and
//! one feature table named after the output file (`roads.gpkg` → `roads`): `fid INTEGER PRIMARY
//! KEY AUTOINCREMENT`, the geometry column `geom`, then one column per field, typed `INTEGER`,
//! `REAL`, `TEXT`, `BOOLEAN` or `DATE`. A field named like the key or the geometry column, or
//! like an earlier field (SQLite names ignore ASCII case), is renamed with a `_2`, `_3`, ...
//! suffix and a warning. Geometries are GeoPackage binary: little-endian header with the
//! `srs_id` and the xy (or xyz) envelope, the empty flag for an empty geometry, then ISO WKB; a
//! feature without geometry has `NULL`. No spatial index (R-tree) is written (an optional
//! extension; GDAL and QGIS read the table without it). The whole file is written in one
//! transaction into a temporary file renamed only on success.
//!
//! **Reading**: a GeoPackage with exactly one feature table (more: refused, naming them; there
//! is no option to pick one yet); its columns other than the key and the geometry column are
//! the fields, typed by their declared type (`INTEGER`, `INT`, `TINYINT`, `SMALLINT`,
//! `MEDIUMINT` → integer, `BOOLEAN` → boolean, `REAL`, `DOUBLE`, `FLOAT` → real, `DATE` → date,
//! anything else text; `BLOB` columns are not carried, with a warning). SQLite stores any value
//! in any column, so a first pass also reads every cell and widens a field to hold the cells it
//! has, with a warning (a real in an `INTEGER` column: real; text in a numeric column, or a
//! boolean column holding other integers than 0 and 1, or a date column holding other text than
//! `YYYY-MM-DD`: text); a blob in a column of another type cannot be held and is written as
//! null, with a warning counting them and naming the first `fid`. Rows are read in the key's
//! order, in pages (bounded memory). M values are dropped with a warning; curve types are
//! refused with their name.

use super::super::atomic::AtomicFile;
use super::super::features::{
    is_date, Feature, FeatureReader, FeatureWriter, Field, FieldType, Geometry, GeometryKind, Read,
    Schema, Shape, Value,
};
use super::super::gpkg::{
    blob_header, damaged_tree, feature_tables, quote, refuse_hot_journal, row_key, sql_error,
    target_srs, WRITER_WAIT,
};
use super::super::wkb::{Envelope, TypeCode};
use super::super::{ConvertError, ConvertReport, Job};
use crate::catalogue;
use rusqlite::types::ValueRef;
use rusqlite::{params_from_iter, Connection, OpenFlags};
use std::collections::VecDeque;
use std::path::PathBuf;

/// Rows read per page.
const PAGE: i64 = 1024;

/// The writer of a GeoPackage output (see the module docs).
pub(crate) fn writer(
    job: &Job<'_>,
    schema: &Schema,
) -> Result<Box<dyn FeatureWriter>, ConvertError> {
    let path = job.output.to_path_buf();
    let err = |e| sql_error(&path, e);
    let file = AtomicFile::create(job.output)
        .map_err(|source| ConvertError::Io { path: path.clone(), source })?;
    let conn = Connection::open_with_flags(
        file.temp_path(),
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    // The temporary file is discarded on any error: no journal needed.
    conn.query_row("PRAGMA journal_mode = OFF", [], |r| r.get::<_, String>(0)).map_err(err)?;
    conn.execute_batch(
        "PRAGMA application_id = 1196444487; PRAGMA user_version = 10300;
         CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL
           PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
           definition TEXT NOT NULL, description TEXT);
         CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT
           NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT
           NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE,
           max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY
           (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
         CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT
           NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL,
           m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
           CONSTRAINT uk_gc_table_name UNIQUE (table_name), CONSTRAINT fk_gc_tn FOREIGN KEY
           (table_name) REFERENCES gpkg_contents(table_name), CONSTRAINT fk_gc_srs FOREIGN KEY
           (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
         INSERT INTO gpkg_spatial_ref_sys VALUES
           ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian SRS'),
           ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic SRS');
         BEGIN;",
    )
    .map_err(err)?;
    let wgs84 = catalogue::lookup("EPSG:4326").ok().and_then(|c| c.to_wkt().ok());
    conn.execute(
        "INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326, ?1, \
         'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')",
        [wgs84.as_deref().unwrap_or("undefined")],
    )
    .map_err(err)?;
    let mut warnings = Vec::new();
    if let Some(w) = super::precision_unused(job, "GeoPackage") {
        warnings.push(w);
    }
    let srs_id = target_srs(&conn, job.target, &path, &mut warnings)?;
    let table = job
        .output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "features".into());
    // Column names: the key, the geometry, the fields, none equal ignoring ASCII case.
    let mut taken: Vec<String> = Vec::new();
    let mut unique = |wanted: &str, warnings: &mut Vec<String>, field: bool| -> String {
        let mut name = wanted.to_string();
        let mut k = 1;
        while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
            k += 1;
            name = format!("{wanted}_{k}");
        }
        if field && name != wanted {
            warnings.push(format!(
                "field '{wanted}' is written as column '{name}' (the name is taken in the \
                 table; GeoPackage column names ignore case)"
            ));
        }
        taken.push(name.clone());
        name
    };
    let field_names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    let reserve = |base: &str| {
        let mut name = base.to_string();
        let mut k = 1;
        while field_names.iter().any(|f| f.eq_ignore_ascii_case(&name)) {
            k += 1;
            name = format!("{base}_{k}");
        }
        name
    };
    let fid = reserve("fid");
    let geom = reserve("geom");
    let fid = unique(&fid, &mut warnings, false);
    let geom = unique(&geom, &mut warnings, false);
    let columns: Vec<String> =
        schema.fields.iter().map(|f| unique(&f.name, &mut warnings, true)).collect();
    let kind = match schema.kinds.as_slice() {
        [one] => one.name().to_ascii_uppercase(),
        _ => "GEOMETRY".to_string(),
    };
    let mut ddl = format!(
        "CREATE TABLE {} ({} INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, {} {kind}",
        quote(&table),
        quote(&fid),
        quote(&geom)
    );
    for (name, f) in columns.iter().zip(&schema.fields) {
        let t = match f.kind {
            FieldType::Integer => "INTEGER",
            FieldType::Real => "REAL",
            FieldType::Text => "TEXT",
            FieldType::Boolean => "BOOLEAN",
            FieldType::Date => "DATE",
        };
        ddl.push_str(&format!(", {} {t}", quote(name)));
    }
    ddl.push(')');
    conn.execute_batch(&ddl).map_err(err)?;
    let mut insert = format!("INSERT INTO {} ({}", quote(&table), quote(&geom));
    for c in &columns {
        insert.push_str(", ");
        insert.push_str(&quote(c));
    }
    insert.push_str(") VALUES (?");
    insert.push_str(&", ?".repeat(columns.len()));
    insert.push(')');
    Ok(Box::new(Writer {
        conn: Some(conn),
        file: Some(file),
        path,
        table,
        geom,
        kind,
        has_z: schema.has_z,
        srs_id,
        insert,
        envelope: Envelope::default(),
        warnings,
    }))
}

struct Writer {
    conn: Option<Connection>,
    file: Option<AtomicFile>,
    path: PathBuf,
    table: String,
    geom: String,
    kind: String,
    has_z: bool,
    srs_id: i64,
    insert: String,
    envelope: Envelope,
    warnings: Vec<String>,
}

/// A GeoPackage geometry blob: header (little-endian, `srs_id`, envelope xy or xyz, empty flag)
/// and ISO WKB; the geometry's envelope.
fn blob(g: &Geometry, srs_id: i32) -> (Vec<u8>, Envelope) {
    let mut e = Envelope::default();
    g.shape.for_each(&mut |c| {
        if !(c[0].is_nan() && c[1].is_nan()) {
            e.add(c[0], c[1], g.has_z.then_some(c[2]), None);
        }
    });
    let empty = e.x.is_none();
    let envelope_kind: u8 = if empty {
        0
    } else if g.has_z {
        2
    } else {
        1
    };
    let mut b = vec![b'G', b'P', 0, 1 | (envelope_kind << 1) | if empty { 0x10 } else { 0 }];
    b.extend(srs_id.to_le_bytes());
    if let (Some(x), Some(y)) = (e.x, e.y) {
        for v in [x.0, x.1, y.0, y.1] {
            b.extend(v.to_le_bytes());
        }
        if let (true, Some(z)) = (g.has_z, e.z) {
            b.extend(z.0.to_le_bytes());
            b.extend(z.1.to_le_bytes());
        }
    }
    super::wkb::write_wkb(g, &mut b);
    (b, e)
}

impl FeatureWriter for Writer {
    fn write(&mut self, features: &[Feature]) -> Result<(), ConvertError> {
        let path = &self.path;
        let err = |e| sql_error(path, e);
        let Some(conn) = self.conn.as_ref() else { return Ok(()) };
        let srs = i32::try_from(self.srs_id).unwrap_or(0);
        let mut stmt = conn.prepare_cached(&self.insert).map_err(err)?;
        for f in features {
            let mut values: Vec<rusqlite::types::Value> =
                Vec::with_capacity(f.attributes.len() + 1);
            values.push(match &f.geometry {
                Some(g) => {
                    let (b, e) = blob(g, srs);
                    self.envelope.extend(&e);
                    rusqlite::types::Value::Blob(b)
                }
                None => rusqlite::types::Value::Null,
            });
            for v in &f.attributes {
                values.push(match v {
                    Value::Null => rusqlite::types::Value::Null,
                    Value::Integer(i) => rusqlite::types::Value::Integer(*i),
                    Value::Real(r) => rusqlite::types::Value::Real(*r),
                    Value::Boolean(b) => rusqlite::types::Value::Integer(i64::from(*b)),
                    Value::Text(t) | Value::Date(t) => rusqlite::types::Value::Text(t.clone()),
                });
            }
            stmt.execute(params_from_iter(values)).map_err(err)?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>, report: &mut ConvertReport) -> Result<(), ConvertError> {
        let path = self.path.clone();
        let err = |e| sql_error(&path, e);
        let (Some(conn), Some(file)) = (self.conn.take(), self.file.take()) else {
            return Ok(());
        };
        let (x, y) = (self.envelope.x, self.envelope.y);
        conn.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, \
             min_y, max_x, max_y, srs_id) VALUES (?1, 'features', ?1, '', ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![
                self.table,
                x.map(|x| x.0),
                y.map(|y| y.0),
                x.map(|x| x.1),
                y.map(|y| y.1),
                self.srs_id
            ],
        )
        .map_err(err)?;
        conn.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?1, ?2, ?3, ?4, ?5, 0)",
            rusqlite::params![self.table, self.geom, self.kind, self.srs_id, i64::from(self.has_z)],
        )
        .map_err(err)?;
        conn.execute_batch("COMMIT").map_err(err)?;
        conn.close().map_err(|(_, e)| err(e))?;
        report.warnings.append(&mut self.warnings);
        report.outputs.push(file.commit().map_err(|source| ConvertError::Io { path, source })?);
        Ok(())
    }
}

/// The reader of a GeoPackage input (see the module docs).
pub(crate) fn reader<'a>(job: &Job<'a>) -> Result<Box<dyn FeatureReader + 'a>, ConvertError> {
    let path = job.input.to_path_buf();
    let err = |e| sql_error(&path, e);
    refuse_hot_journal(&path)?;
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    // One read transaction for the whole read (rolled back when the reader is dropped): the
    // first pass and the pages after it see one committed state, a commit under way is waited
    // for. Damaged cells are found as their page is read, the same way on every run.
    conn.busy_timeout(WRITER_WAIT).map_err(err)?;
    conn.execute_batch("PRAGMA cell_size_check = ON; BEGIN").map_err(err)?;
    let tables = feature_tables(&conn, &path)?;
    let (table, geom) = match tables.as_slice() {
        [(t, g, _)] => (t.clone(), g.clone()),
        [] => {
            return Err(ConvertError::Options {
                path,
                message: "the GeoPackage has no feature table: nothing to convert".into(),
            })
        }
        many => {
            let names: Vec<&str> = many.iter().map(|t| t.0.as_str()).collect();
            return Err(ConvertError::Options {
                path: path.clone(),
                message: format!(
                    "the GeoPackage has {} feature tables ({}); a conversion into another \
                     format takes one: convert it into a GeoPackage, or split it first (e.g. \
                     ogr2ogr one.gpkg all.gpkg {})",
                    many.len(),
                    names.join(", "),
                    names.first().copied().unwrap_or_default()
                ),
            });
        }
    };
    let key = row_key(&conn, &path, &table)?;
    let mut schema = Schema::default();
    let mut columns = Vec::new();
    let mut warnings = Vec::new();
    {
        let mut stmt =
            conn.prepare(&format!("PRAGMA table_info({})", quote(&table))).map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let name: String = r.get(1).map_err(err)?;
            let declared: String = r.get(2).map_err(err)?;
            if name.eq_ignore_ascii_case(&geom) || quote(&name) == key {
                continue;
            }
            let t = declared.to_ascii_uppercase();
            let kind = match t.split('(').next().unwrap_or("").trim() {
                "INTEGER" | "INT" | "TINYINT" | "SMALLINT" | "MEDIUMINT" | "BIGINT" => {
                    FieldType::Integer
                }
                "BOOLEAN" => FieldType::Boolean,
                "REAL" | "DOUBLE" | "FLOAT" => FieldType::Real,
                "DATE" => FieldType::Date,
                "BLOB" => {
                    warnings.push(format!("column {name} (BLOB) is not carried"));
                    continue;
                }
                _ => FieldType::Text,
            };
            columns.push(quote(&name));
            schema.fields.push(Field { name, kind });
        }
    }
    // First pass: the geometry types (from each blob's WKB header), and each column's type
    // widened to hold every cell it has (SQLite stores any value in any column).
    let mut seen: Vec<Option<FieldType>> = vec![None; columns.len()];
    let mut blobs: Vec<(u64, i64)> = vec![(0, 0); columns.len()]; // count, first fid
    let mut rows_total = 0u64;
    {
        let mut sql = format!("SELECT {key}, {}", quote(&geom));
        for c in &columns {
            sql.push_str(", ");
            sql.push_str(c);
        }
        sql.push_str(&format!(" FROM {}", quote(&table)));
        let mut stmt = conn.prepare(&sql).map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            rows_total += 1;
            if let ValueRef::Blob(b) = r.get_ref(1).map_err(err)? {
                if let Some((kind, z)) = wkb_kind(b) {
                    if !schema.kinds.contains(&kind) {
                        schema.kinds.push(kind);
                    }
                    schema.has_z |= z;
                }
            }
            for (i, f) in schema.fields.iter().enumerate() {
                let cell = match r.get_ref(i + 2).map_err(err)? {
                    ValueRef::Null => continue,
                    ValueRef::Integer(0 | 1) if f.kind == FieldType::Boolean => FieldType::Boolean,
                    ValueRef::Integer(_) => FieldType::Integer,
                    ValueRef::Real(_) => FieldType::Real,
                    ValueRef::Text(t) if f.kind == FieldType::Date && is_date(t) => FieldType::Date,
                    ValueRef::Text(_) => FieldType::Text,
                    ValueRef::Blob(_) => {
                        if blobs[i].0 == 0 {
                            blobs[i].1 = r.get(0).map_err(err)?;
                        }
                        blobs[i].0 += 1;
                        continue;
                    }
                };
                seen[i] = Some(seen[i].map_or(cell, |s| s.unify(cell)));
            }
        }
    }
    for ((f, seen), (n, fid)) in schema.fields.iter_mut().zip(&seen).zip(&blobs) {
        let declared = f.kind;
        f.kind = seen.map_or(declared, |s| declared.unify(s));
        if f.kind != declared {
            warnings.push(format!(
                "column {} is declared {} but holds {} values: it is carried as {}",
                f.name,
                declared.name(),
                seen.map_or("other", FieldType::name),
                f.kind.name()
            ));
        }
        if *n > 0 {
            warnings.push(format!(
                "column {}: {n} cell(s) hold binary data (a BLOB; the first at fid {fid}), which \
                 a {} field cannot hold: they are written as null",
                f.name,
                f.kind.name()
            ));
        }
    }
    let mut select = format!("SELECT {key}, {}", quote(&geom));
    for c in &columns {
        select.push_str(", ");
        select.push_str(c);
    }
    select.push_str(&format!(" FROM {}", quote(&table)));
    let select_first = format!("{select} ORDER BY {key} LIMIT {PAGE}");
    let select = format!("{select} WHERE {key} > ?1 ORDER BY {key} LIMIT {PAGE}");
    let file_len = std::fs::metadata(&path).map_or(0, |m| m.len());
    Ok(Box::new(Reader {
        conn,
        path,
        table,
        select_first,
        select,
        schema,
        last: None,
        done: false,
        page: VecDeque::new(),
        warnings,
        m_dropped: 0,
        rows_read: 0,
        rows_total,
        file_len,
    }))
}

/// The kind and z flag of a GeoPackage blob's geometry (`None`: empty or unreadable; such a
/// row is reported when read).
fn wkb_kind(b: &[u8]) -> Option<(GeometryKind, bool)> {
    let h = blob_header(b).ok()?;
    if h.empty {
        return None;
    }
    let w = b.get(h.wkb_at..h.wkb_at + 5)?;
    let raw = [w[1], w[2], w[3], w[4]];
    let code = if w[0] == 1 { u32::from_le_bytes(raw) } else { u32::from_be_bytes(raw) };
    let TypeCode { base, z, .. } = TypeCode::of(code)?;
    let kind = GeometryKind::from_wkb_code(base)?;
    Some((kind, z))
}

struct Reader {
    conn: Connection,
    path: PathBuf,
    table: String,
    /// The first page of rows, and the next after the last row key read (`last`).
    select_first: String,
    select: String,
    schema: Schema,
    last: Option<i64>,
    done: bool,
    page: VecDeque<Read>,
    warnings: Vec<String>,
    m_dropped: u64,
    /// Rows read so far, of `rows_total`, for the progress bar in bytes of `file_len`.
    rows_read: u64,
    rows_total: u64,
    file_len: u64,
}

impl Reader {
    fn fill(&mut self) -> Result<(), ConvertError> {
        let path = self.path.clone();
        let err = |e| sql_error(&path, e);
        let (sql, args) = match self.last {
            None => (&self.select_first, vec![]),
            Some(last) => (&self.select, vec![last]),
        };
        let mut stmt = self.conn.prepare_cached(sql).map_err(err)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args)).map_err(err)?;
        let mut n = 0;
        while let Some(r) = rows.next().map_err(err)? {
            n += 1;
            let fid: i64 = r.get(0).map_err(err)?;
            let location = format!("table {}, fid {fid}", self.table);
            // A damaged B-tree can give keys again or backwards (a read that never ends).
            if self.last.is_some_and(|last| fid <= last) {
                return Err(damaged_tree(&path, location));
            }
            self.last = Some(fid);
            let malformed = |message: String| ConvertError::Malformed {
                path: path.clone(),
                location: location.clone(),
                message,
            };
            let geometry = match r.get_ref(1).map_err(err)? {
                ValueRef::Blob(b) => {
                    let h = blob_header(b).map_err(&malformed)?;
                    if h.empty {
                        None
                    } else {
                        let mut m = false;
                        let g = super::wkb::read_wkb(b.get(h.wkb_at..).unwrap_or_default(), &mut m)
                            .map_err(|e| malformed(format!("invalid geometry: {e}")))?;
                        self.m_dropped += u64::from(m);
                        // POINT EMPTY without the header's empty flag: NaN x and y.
                        match g.shape {
                            Shape::Point(c) if c[0].is_nan() && c[1].is_nan() => None,
                            _ => Some(g),
                        }
                    }
                }
                ValueRef::Null => None,
                _ => return Err(malformed("the geometry column holds no blob".into())),
            };
            let mut attributes = Vec::with_capacity(self.schema.fields.len());
            for (i, f) in self.schema.fields.iter().enumerate() {
                // Each cell as its own type, then as the field's (widened in the first pass to
                // hold every cell, see `reader`).
                let v = match r.get_ref(i + 2).map_err(err)? {
                    ValueRef::Null | ValueRef::Blob(_) => Value::Null,
                    ValueRef::Integer(v) if f.kind == FieldType::Boolean => Value::Boolean(v != 0),
                    ValueRef::Integer(v) => Value::Integer(v),
                    ValueRef::Real(v) => Value::Real(v),
                    ValueRef::Text(t) => {
                        let t = std::str::from_utf8(t).map_err(|e| {
                            malformed(format!("column {}: text that is not UTF-8: {e}", f.name))
                        })?;
                        match f.kind {
                            FieldType::Date => Value::Date(t.to_string()),
                            _ => Value::Text(t.to_string()),
                        }
                    }
                };
                attributes.push(f.kind.coerce(v));
            }
            self.rows_read += 1;
            self.page.push_back(Ok(Feature { location, geometry, attributes }));
        }
        if n < PAGE {
            self.done = true;
            // Every row the first pass counted (a scan, leaf by leaf) must have been found by
            // key: in a damaged B-tree a parent's key can lead past rows, which would be lost.
            if self.rows_read != self.rows_total {
                return Err(damaged_tree(&path, format!("table {}", self.table)));
            }
        }
        Ok(())
    }
}

impl FeatureReader for Reader {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn next(&mut self) -> Result<Option<Read>, ConvertError> {
        if self.page.is_empty() && !self.done {
            self.fill()?;
        }
        Ok(self.page.pop_front())
    }

    fn consumed(&self) -> u64 {
        let share = self.rows_read as f64 / self.rows_total.max(1) as f64;
        (self.file_len as f64 * share.min(1.0)) as u64
    }

    fn warnings(&mut self) -> Vec<String> {
        let mut w = std::mem::take(&mut self.warnings);
        if self.m_dropped > 0 {
            w.push(format!("{} geometries had m values; they are dropped", self.m_dropped));
        }
        w
    }
}
