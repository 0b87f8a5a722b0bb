//! GeoPackage's page-level fast path (`convert::gpkg::pages`) against the SQL path and GDAL
//! (feature `gdal-interop`): GeoPackages GDAL writes (EPSG:4490) are converted to EPSG:4547 both
//! ways; the fast path must have run, and its output must equal the SQL path's — every table's
//! rows byte for byte (`gpkg_contents.last_change` apart: the time of the run), the schema, the
//! R-tree's entries (the SQL path inserts them; equal `f32` boxes per rowid) —, pass SQLite's
//! `PRAGMA integrity_check` and `rtreecheck`, be read by GDAL with the coordinates of its own
//! `ogr2ogr -t_srs` (PROJ) within 1 µm. Files the fast path must decline (a failed point, a WAL
//! file, a `WITHOUT ROWID` table, an index on the geometry) go the SQL way with the SQL path's
//! exact report or error.
#![cfg(feature = "gdal-interop")]

mod common;

use common::gdal;
use common::gpkg;
use common::scratch::Scratch;
use geounify::convert::gpkg::Route;
use geounify::convert::{ConvertError, ConvertOptions, ConvertReport};
use rusqlite::Connection;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Features near Shenzhen (EPSG:4490): a point with a Chinese name, a line, a polygon with a
/// hole, a multipolygon, a row without geometry, and a 5,000-vertex polygon (its blob spans
/// overflow pages at every page size).
fn features() -> String {
    let mut big = String::new();
    for k in 0..5000 {
        let a = k as f64 / 5000.0 * std::f64::consts::TAU;
        let _ = write!(big, "[{},{}],", 114.1 + 0.05 * a.cos(), 22.6 + 0.05 * a.sin());
    }
    let _ = write!(big, "[{},{}]", 114.15, 22.6);
    format!(
        r#"{{"type":"FeatureCollection","features":[
{{"type":"Feature","properties":{{"name":"路口","n":1}},"geometry":{{"type":"Point","coordinates":[114.05,22.55]}}}},
{{"type":"Feature","properties":{{"name":"road","n":2}},"geometry":{{"type":"LineString","coordinates":[[114.0,22.5],[114.1,22.6],[114.2,22.62]]}}}},
{{"type":"Feature","properties":{{"name":"parcel","n":3}},"geometry":{{"type":"Polygon","coordinates":[[[114.0,22.5],[114.01,22.5],[114.01,22.51],[114.0,22.5]],[[114.002,22.502],[114.003,22.502],[114.003,22.503],[114.002,22.502]]]}}}},
{{"type":"Feature","properties":{{"name":"两块","n":4}},"geometry":{{"type":"MultiPolygon","coordinates":[[[[113.9,22.4],[113.91,22.4],[113.91,22.41],[113.9,22.4]]],[[[113.95,22.45],[113.96,22.45],[113.96,22.46],[113.95,22.45]]]]}}}},
{{"type":"Feature","properties":{{"name":"none","n":5}},"geometry":null}},
{{"type":"Feature","properties":{{"name":"big","n":6}},"geometry":{{"type":"Polygon","coordinates":[[{big}]]}}}}]}}"#
    )
}

/// Many small features (more leaf pages and R-tree nodes than one).
fn many(n: usize) -> String {
    let mut s = String::from(r#"{"type":"FeatureCollection","features":["#);
    for k in 0..n {
        let (x, y) = (113.0 + (k % 100) as f64 * 0.01, 22.0 + (k / 100) as f64 * 0.001);
        let _ = write!(
            s,
            r#"{}{{"type":"Feature","properties":{{"k":{k}}},"geometry":{{"type":"LineString","coordinates":[[{x},{y}],[{},{}]]}}}}"#,
            if k == 0 { "" } else { "," },
            x + 0.003,
            y + 0.0005
        );
    }
    s.push_str("]}");
    s
}

/// GDAL writes `geojson` as the GeoPackage `name` in `dir` (EPSG:4490), with `extra` options.
fn gdal_gpkg(dir: &Scratch, name: &str, geojson: &str, extra: &[&str]) -> PathBuf {
    let src = dir.write(&format!("{name}.geojson"), geojson);
    let out = dir.path(name);
    let mut args = vec!["-f", "GPKG", "-a_srs", "EPSG:4490"];
    args.extend_from_slice(extra);
    args.extend([out.to_str().unwrap(), src.to_str().unwrap()]);
    gdal::run("ogr2ogr", &args);
    out
}

/// Converts `input` to `output` (EPSG:4490 → EPSG:4547) asking for `route`.
fn convert(
    input: &Path,
    output: &Path,
    route: Route,
    skip_invalid: bool,
) -> Result<(ConvertReport, Route), ConvertError> {
    let options = ConvertOptions { skip_invalid, ..ConvertOptions::default() };
    gpkg::convert_by(input, output, ("EPSG:4490", "EPSG:4547"), &options, route)
}

/// The report without its output paths (the two runs write different files).
fn strip(mut r: ConvertReport) -> ConvertReport {
    r.outputs.clear();
    r
}

/// GDAL reads `ours` with the coordinates of its own `ogr2ogr -t_srs EPSG:4547` of `input`,
/// within 1 µm, and the same number of features.
fn agrees_with_gdal(dir: &Scratch, input: &Path, ours: &Path) {
    let theirs = dir.path("theirs.gpkg");
    let _ = std::fs::remove_file(&theirs);
    gdal::run(
        "ogr2ogr",
        &["-f", "GPKG", "-t_srs", "EPSG:4547", theirs.to_str().unwrap(), input.to_str().unwrap()],
    );
    let (a, b) = (gdal::read_as_csv(ours), gdal::read_as_csv(&theirs));
    let (na, nb) = (gdal::numbers(&a), gdal::numbers(&b));
    assert_eq!(na.len(), nb.len());
    for (x, y) in na.iter().zip(&nb) {
        assert!((x - y).abs() <= 1e-6, "{x} vs GDAL {y}");
    }
    assert_eq!(gdal::feature_count(ours), gdal::feature_count(&theirs));
}

/// Converts `input` both ways ([`gpkg::fast_path_equals_sql_path`]); the fast path's output,
/// which has R-trees.
fn fast_equals_sql(dir: &Scratch, input: &Path) -> PathBuf {
    let fast = gpkg::fast_path_equals_sql_path(input, &dir.0, "EPSG:4490", "EPSG:4547");
    assert!(gpkg::sqlite_checks(&fast) > 0, "R-trees");
    fast
}

#[test]
fn gdal_file_fast_path_equals_sql_path() {
    let dir = Scratch::new("fast-gdal");
    let input = gdal_gpkg(&dir, "in.gpkg", &features(), &[]);
    let fast = fast_equals_sql(&dir, &input);
    agrees_with_gdal(&dir, &input, &fast);
}

#[test]
fn many_rows_and_several_tables() {
    let dir = Scratch::new("fast-many");
    let input = gdal_gpkg(&dir, "in.gpkg", &many(20_000), &["-nln", "lines"]);
    let second = dir.write("second.geojson", features());
    gdal::run(
        "ogr2ogr",
        &[
            "-f",
            "GPKG",
            "-update",
            "-a_srs",
            "EPSG:4490",
            "-nln",
            "mixed",
            input.to_str().unwrap(),
            second.to_str().unwrap(),
        ],
    );
    let fast = fast_equals_sql(&dir, &input);
    agrees_with_gdal(&dir, &input, &fast);
}

/// The GDAL file copied into a database of another page size (`VACUUM INTO` after
/// `PRAGMA page_size`), checked by its header.
fn with_page_size(dir: &Scratch, input: &Path, size: u32) -> PathBuf {
    let out = dir.path(&format!("page{size}.gpkg"));
    let conn = Connection::open(input).unwrap();
    conn.execute_batch(&format!("PRAGMA page_size = {size}")).unwrap();
    conn.execute("VACUUM INTO ?1", [out.to_str().unwrap()]).unwrap();
    let head = std::fs::read(&out).unwrap();
    let raw = u16::from_be_bytes([head[16], head[17]]);
    assert_eq!(if raw == 1 { 65_536 } else { u32::from(raw) }, size, "page size taken");
    out
}

#[test]
fn page_sizes_1024_and_65536() {
    for size in [1024, 65_536] {
        let dir = Scratch::new(&format!("fast-page-{size}"));
        let gdal_file = gdal_gpkg(&dir, "in.gpkg", &features(), &[]);
        let extra = dir.write("many.geojson", many(3_000));
        gdal::run(
            "ogr2ogr",
            &[
                "-f",
                "GPKG",
                "-update",
                "-a_srs",
                "EPSG:4490",
                "-nln",
                "lines",
                gdal_file.to_str().unwrap(),
                extra.to_str().unwrap(),
            ],
        );
        let input = with_page_size(&dir, &gdal_file, size);
        let fast = fast_equals_sql(&dir, &input);
        agrees_with_gdal(&dir, &input, &fast);
    }
}

/// Converts `input` both ways when the fast path must decline (for a reason containing `why`):
/// the SQL path runs, and the result (report or error) equals the SQL path's own.
fn declines(dir: &Scratch, input: &Path, skip_invalid: bool, why: &str) {
    let (a, b) = (dir.path("a.gpkg"), dir.path("b.gpkg"));
    let fast = convert(input, &a, Route::Pages, skip_invalid);
    let sql = convert(input, &b, Route::Sql, skip_invalid);
    match (fast, sql) {
        (Ok((ra, route)), Ok((rb, _))) => {
            assert!(
                matches!(&route, Route::Declined(reason) if reason.contains(why)),
                "declined for {why}: {route:?}"
            );
            assert_eq!(strip(ra), strip(rb));
            assert_eq!(gpkg::contents(&a), gpkg::contents(&b));
        }
        (Err(ea), Err(eb)) => {
            assert_eq!(ea.to_string(), eb.to_string());
            assert!(!a.exists() && !b.exists());
        }
        (x, y) => panic!("{x:?} vs {y:?}"),
    }
}

#[test]
fn a_failed_point_goes_the_sql_way() {
    let dir = Scratch::new("fast-failed");
    let bad = features().replacen("[114.05,22.55]", "[114.05,95.0]", 1);
    let input = gdal_gpkg(&dir, "in.gpkg", &bad, &[]);
    declines(&dir, &input, false, "fid 1: the geometry fails");
    declines(&dir, &input, true, "fid 1: the geometry fails");
    let (report, _) = convert(&input, &dir.path("c.gpkg"), Route::Pages, true).unwrap();
    assert_eq!(report.skipped.len(), 1);
    assert!(report.skipped[0].location.ends_with("fid 1"), "{:?}", report.skipped);
}

#[test]
fn wal_without_rowid_and_geometry_index_go_the_sql_way() {
    let dir = Scratch::new("fast-declines");
    // WAL mode (header bytes 18 and 19 = 2; the log is merged and removed on close).
    let wal = gdal_gpkg(&dir, "wal.gpkg", &features(), &[]);
    let conn = Connection::open(&wal).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    drop(conn);
    assert_eq!(std::fs::read(&wal).unwrap()[18], 2);
    declines(&dir, &wal, false, "WAL");

    // A WITHOUT ROWID feature table next to GDAL's.
    let wr = gdal_gpkg(&dir, "wr.gpkg", &features(), &["-nln", "f"]);
    let conn = Connection::open(&wr).unwrap();
    conn.execute_batch(
        "CREATE TABLE w (fid INTEGER PRIMARY KEY, geom BLOB) WITHOUT ROWID;
         INSERT INTO w SELECT fid, geom FROM f;
         INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id)
           VALUES ('w', 'features', 'w', 4490);
         INSERT INTO gpkg_geometry_columns VALUES ('w', 'geom', 'GEOMETRY', 4490, 0, 0);",
    )
    .unwrap();
    drop(conn);
    declines(&dir, &wr, false, "WITHOUT ROWID");

    // An index on the geometry column.
    let ix = gdal_gpkg(&dir, "ix.gpkg", &features(), &["-nln", "f"]);
    Connection::open(&ix).unwrap().execute_batch("CREATE INDEX g ON f(geom)").unwrap();
    declines(&dir, &ix, false, "index g involves the geometry");
}
