//! GeoPackage fixtures built with SQLite directly, independently of geounify: the mandatory
//! tables of OGC 12-128r18, spatial reference rows, GDAL's R-tree triggers, and reading a
//! table's geometries back. Feature tables and blobs stay in the test files (each needs its own
//! columns and geometry types).

use rusqlite::{params, Connection};
use std::path::{Path, PathBuf};

/// The keys of the mandatory tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keys {
    /// As the specification writes them: primary keys on `gpkg_contents` and
    /// `gpkg_geometry_columns`, a unique `identifier`, and the foreign keys to
    /// `gpkg_spatial_ref_sys` (declared only: SQLite enforces none unless asked).
    Spec,
    /// No primary key or unique constraint on `gpkg_contents` / `gpkg_geometry_columns`: a file
    /// that can list one table twice (as some writers' files do).
    None,
}

/// Creates the GeoPackage `path` (application id and version, the tables
/// `gpkg_spatial_ref_sys`, `gpkg_contents`, `gpkg_geometry_columns` and `gpkg_extensions` of
/// OGC 12-128r18 §1.1.2, §1.1.3, §2.1.5, and the two undefined spatial reference rows, srs_id
/// -1 and 0) and returns the open connection. Panics on any SQLite error (a broken fixture).
pub fn create(path: &Path, keys: Keys) -> Connection {
    let (pk_contents, unique_identifier, pk_columns, fk_contents, fk_columns) = match keys {
        Keys::Spec => (
            " PRIMARY KEY",
            " UNIQUE",
            ", CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
           CONSTRAINT uk_gc_table_name UNIQUE (table_name)",
            ", CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES
           gpkg_spatial_ref_sys(srs_id)",
            ", CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES
           gpkg_contents(table_name), CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES
           gpkg_spatial_ref_sys (srs_id)",
        ),
        Keys::None => ("", "", "", "", ""),
    };
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA application_id = 1196444487; PRAGMA user_version = 10400;
         CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL
           PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
           definition TEXT NOT NULL, description TEXT);
         CREATE TABLE gpkg_contents (table_name TEXT NOT NULL{pk_contents}, data_type TEXT NOT
           NULL, identifier TEXT{unique_identifier}, description TEXT DEFAULT '', last_change
           DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE,
           min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER{fk_contents});
         CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT
           NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL,
           m TINYINT NOT NULL{pk_columns}{fk_columns});
         CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT
           NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE
           (table_name, column_name, extension_name));
         INSERT INTO gpkg_spatial_ref_sys VALUES
           ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian'),
           ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic');"
    ))
    .unwrap();
    conn
}

/// Adds the spatial reference row `srs_id` (its name, organization, the organization's code
/// and its definition, WKT or `undefined`; no description); a row already there with that
/// srs_id is kept as it is.
pub fn add_srs(
    conn: &Connection,
    name: &str,
    srs_id: i32,
    organization: &str,
    organization_coordsys_id: i32,
    definition: &str,
) {
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
        params![name, srs_id, organization, organization_coordsys_id, definition],
    )
    .unwrap();
}

/// The names of GDAL's R-tree triggers (GDAL 3.x, OGC 12-128r18 annex F.3), each
/// `rtree_<table>_geom_<name>`.
pub const RTREE_TRIGGERS: [&str; 7] =
    ["insert", "update6", "update7", "update2", "update5", "update4", "delete"];

/// The triggers that keep `rtree_<t>_geom` in step with `t`.geom (primary key `fid`) for a
/// row whose fid does not change: every one of [`RTREE_TRIGGERS`] but `update5` and `update4`.
pub const RTREE_TRIGGERS_SAME_FID: [&str; 5] =
    ["insert", "update6", "update7", "update2", "delete"];

/// Creates GDAL's R-tree triggers `names` (from [`RTREE_TRIGGERS`]) on table `t`, geometry
/// column `geom`, primary key `fid`, verbatim in structure. They call `ST_IsEmpty`, `ST_MinX`,
/// ...: a connection without those functions can create them but not fire them. Panics on an
/// unknown name.
pub fn add_rtree_triggers(conn: &Connection, t: &str, names: &[&str]) {
    let sql = |name: &str| -> String {
        match name {
            "insert" => format!(
                "CREATE TRIGGER \"rtree_{t}_geom_insert\" AFTER INSERT ON \"{t}\" WHEN (new.\"geom\" NOT
           NULL AND NOT ST_IsEmpty(NEW.\"geom\")) BEGIN INSERT OR REPLACE INTO
           \"rtree_{t}_geom\" VALUES (NEW.\"fid\", ST_MinX(NEW.\"geom\"), ST_MaxX(NEW.\"geom\"),
           ST_MinY(NEW.\"geom\"), ST_MaxY(NEW.\"geom\")); END;"
            ),
            "update6" => format!(
                "CREATE TRIGGER \"rtree_{t}_geom_update6\" AFTER UPDATE OF \"geom\" ON \"{t}\" WHEN
           OLD.\"fid\" = NEW.\"fid\" AND (NEW.\"geom\" NOTNULL AND NOT ST_IsEmpty(NEW.\"geom\"))
           AND (OLD.\"geom\" NOTNULL AND NOT ST_IsEmpty(OLD.\"geom\")) BEGIN UPDATE
           \"rtree_{t}_geom\" SET minx = ST_MinX(NEW.\"geom\"), maxx = ST_MaxX(NEW.\"geom\"),
           miny = ST_MinY(NEW.\"geom\"), maxy = ST_MaxY(NEW.\"geom\") WHERE id = NEW.\"fid\";
           END;"
            ),
            "update7" => format!(
                "CREATE TRIGGER \"rtree_{t}_geom_update7\" AFTER UPDATE OF \"geom\" ON \"{t}\" WHEN
           OLD.\"fid\" = NEW.\"fid\" AND (NEW.\"geom\" NOTNULL AND NOT ST_IsEmpty(NEW.\"geom\"))
           AND (OLD.\"geom\" ISNULL OR ST_IsEmpty(OLD.\"geom\")) BEGIN INSERT INTO
           \"rtree_{t}_geom\" VALUES (NEW.\"fid\", ST_MinX(NEW.\"geom\"), ST_MaxX(NEW.\"geom\"),
           ST_MinY(NEW.\"geom\"), ST_MaxY(NEW.\"geom\")); END;"
            ),
            "update2" => format!(
                "CREATE TRIGGER \"rtree_{t}_geom_update2\" AFTER UPDATE OF \"geom\" ON \"{t}\" WHEN
           OLD.\"fid\" = NEW.\"fid\" AND (NEW.\"geom\" ISNULL OR ST_IsEmpty(NEW.\"geom\"))
           BEGIN DELETE FROM \"rtree_{t}_geom\" WHERE id = OLD.\"fid\"; END;"
            ),
            "update5" => format!(
                "CREATE TRIGGER \"rtree_{t}_geom_update5\" AFTER UPDATE ON \"{t}\" WHEN OLD.\"fid\" !=
           NEW.\"fid\" AND (NEW.\"geom\" NOTNULL AND NOT ST_IsEmpty(NEW.\"geom\")) BEGIN DELETE
           FROM \"rtree_{t}_geom\" WHERE id = OLD.\"fid\"; INSERT OR REPLACE INTO
           \"rtree_{t}_geom\" VALUES (NEW.\"fid\", ST_MinX(NEW.\"geom\"), ST_MaxX(NEW.\"geom\"),
           ST_MinY(NEW.\"geom\"), ST_MaxY(NEW.\"geom\")); END;"
            ),
            "update4" => format!(
                "CREATE TRIGGER \"rtree_{t}_geom_update4\" AFTER UPDATE ON \"{t}\" WHEN OLD.\"fid\" !=
           NEW.\"fid\" AND (NEW.\"geom\" ISNULL OR ST_IsEmpty(NEW.\"geom\")) BEGIN DELETE FROM
           \"rtree_{t}_geom\" WHERE id IN (OLD.\"fid\", NEW.\"fid\"); END;"
            ),
            "delete" => format!(
                "CREATE TRIGGER \"rtree_{t}_geom_delete\" AFTER DELETE ON \"{t}\" WHEN old.\"geom\" NOT
           NULL BEGIN DELETE FROM \"rtree_{t}_geom\" WHERE id = OLD.\"fid\"; END;"
            ),
            other => panic!("no GDAL R-tree trigger {other:?}"),
        }
    };
    let batch: String = names.iter().map(|name| sql(name)).collect::<Vec<_>>().join("\n");
    conn.execute_batch(&batch).unwrap();
}

/// Every (fid, geometry blob or NULL) of table `t`, in fid order.
pub fn geometries(conn: &Connection, t: &str) -> Vec<(i64, Option<Vec<u8>>)> {
    let mut s = conn.prepare(&format!("SELECT fid, geom FROM \"{t}\" ORDER BY fid")).unwrap();
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

/// Every row of every table of the GeoPackage `path` as text (the R-trees' shadow tables apart,
/// an R-tree read through its virtual table, by id; `gpkg_contents.last_change` shown as
/// `(now)`: the time of the run), and its schema sorted (the SQL path recreates the R-tree,
/// which moves its rows in `sqlite_master`).
pub fn contents(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut schema: Vec<String> = conn
        .prepare("SELECT type, name, tbl_name, quote(sql) FROM sqlite_master")
        .unwrap()
        .query_map([], |r| {
            Ok([0, 1, 2, 3].map(|k| r.get::<_, String>(k).unwrap_or_default()).join("|"))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    schema.sort();
    let tables: Vec<(String, String)> = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = schema;
    for (name, sql) in tables {
        let shadow = name.starts_with("rtree_")
            && ["_node", "_parent", "_rowid"].iter().any(|s| name.ends_with(s));
        if shadow || name.starts_with("sqlite_") {
            continue;
        }
        let by_first = sql.starts_with("CREATE VIRTUAL") || sql.contains("WITHOUT ROWID");
        let order = if by_first { "1" } else { "rowid" };
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{name}\" ORDER BY {order}")).unwrap();
        let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
        let rows = stmt
            .query_map([], |r| {
                Ok((0..names.len())
                    .map(|k| match r.get_ref(k).unwrap() {
                        _ if names[k] == "last_change" => "(now)".to_string(),
                        rusqlite::types::ValueRef::Null => "NULL".to_string(),
                        rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                        rusqlite::types::ValueRef::Real(f) => format!("{:?}", f.to_bits()),
                        rusqlite::types::ValueRef::Text(t) => {
                            format!("'{}'", String::from_utf8_lossy(t))
                        }
                        rusqlite::types::ValueRef::Blob(b) => format!("{b:02x?}"),
                    })
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap();
        out.extend(rows.map(|r| format!("{name}: {}", r.unwrap())));
    }
    out
}

/// SQLite's own checks of `path`: `PRAGMA integrity_check` and `rtreecheck` of each R-tree;
/// the number of R-trees.
pub fn sqlite_checks(path: &Path) -> usize {
    let conn = Connection::open(path).unwrap();
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok", "{}", path.display());
    let rtrees: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%rtree%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for name in &rtrees {
        let check: String = conn.query_row("SELECT rtreecheck(?1)", [name], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok", "{name}");
    }
    rtrees.len()
}

/// Converts `input` into `output` (`from` → `to`, with `options`) the way `route` asks: the
/// report and the way it went.
pub fn convert_by(
    input: &Path,
    output: &Path,
    (from, to): (&str, &str),
    options: &geounify::convert::ConvertOptions,
    route: geounify::convert::gpkg::Route,
) -> Result<
    (geounify::convert::ConvertReport, geounify::convert::gpkg::Route),
    geounify::convert::ConvertError,
> {
    use geounify::convert::{gpkg::convert_traced, Job, NoProgress};
    let (source, target) = (super::crs(from), super::crs(to));
    let transformer = geounify::Transformer::new(&source, &target).unwrap();
    let job = Job {
        input,
        output,
        source: &source,
        target: &target,
        transformer: &transformer,
        options,
        progress: &NoProgress,
    };
    convert_traced(&job, route)
}

/// Converts `input` (`from` → `to`) into `dir` both ways: the page-level fast path must run,
/// and its report and output equal the SQL path's ([`contents`]: every row byte for byte, the
/// R-trees' entries), and pass [`sqlite_checks`]; the fast path's output.
pub fn fast_path_equals_sql_path(input: &Path, dir: &Path, from: &str, to: &str) -> PathBuf {
    use geounify::convert::gpkg::Route;
    let options = geounify::convert::ConvertOptions::default();
    let run = |output: &Path, route| {
        let (mut report, ran) = convert_by(input, output, (from, to), &options, route).unwrap();
        report.outputs.clear();
        (report, ran)
    };
    let (fast, sql) = (dir.join("fast.gpkg"), dir.join("sql.gpkg"));
    let (a, ran) = run(&fast, Route::Pages);
    assert_eq!(ran, Route::Pages, "the fast path ran");
    let (b, ran) = run(&sql, Route::Sql);
    assert_eq!(ran, Route::Sql);
    assert_eq!(a, b);
    assert_eq!(contents(&fast), contents(&sql));
    sqlite_checks(&fast);
    fast
}
