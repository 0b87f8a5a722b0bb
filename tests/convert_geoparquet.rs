//! GeoParquet conversion: files GeoPandas/pyarrow wrote (`tests/data/geoparquet/`, made by its
//! `make.py`, versions in `versions.txt`) converted by geounify and read back with the parquet
//! crate and a WKB point decoder written here: coordinates against pyproj (PROJ 9.5) within
//! 1 µm / 1e-11°, GCJ-02 against the independent `coordtransform` crate (1e-11°), attributes,
//! row groups and key-value metadata kept, `geo`'s crs and bbox rewritten, round trips through
//! GeoPackage and GeoJSON, empty, malformed and failing input; and, when a Python with
//! geopandas is found, the outputs read back by GeoPandas.
#![cfg(feature = "geoparquet")]

mod common;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use common::conversion::{convert as convert_with, convert_skipping as convert};
use common::crs;
use common::scratch::Scratch;
use geounify::convert::{ConvertError, ConvertOptions};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/geoparquet").join(name)
}

/// A file read whole: its batches, key-value metadata, `geo` and row-group count.
struct Read {
    batches: Vec<RecordBatch>,
    kv: Vec<(String, String)>,
    geo: serde_json::Value,
    row_groups: usize,
}

fn read(path: &Path) -> Read {
    let b = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap()).unwrap();
    let md = b.metadata().clone();
    let kv: Vec<(String, String)> = md
        .file_metadata()
        .key_value_metadata()
        .map(|kv| kv.iter().map(|k| (k.key.clone(), k.value.clone().unwrap_or_default())).collect())
        .unwrap_or_default();
    let geo = kv.iter().find(|(k, _)| k == "geo").map(|(_, v)| serde_json::from_str(v).unwrap());
    let batches = b.build().unwrap().map(|b| b.unwrap()).collect();
    Read { batches, kv, geo: geo.unwrap_or_default(), row_groups: md.num_row_groups() }
}

/// Every row's point (`None` for a null geometry) of WKB column `name`, decoded here: byte
/// order, type 1 (or 1001 with z), x, y[, z].
fn points(r: &Read, name: &str) -> Vec<Option<[f64; 3]>> {
    let mut out = Vec::new();
    for b in &r.batches {
        let a = b.column_by_name(name).unwrap();
        let a = a.as_binary::<i32>();
        for i in 0..a.len() {
            if a.is_null(i) {
                out.push(None);
                continue;
            }
            let w = a.value(i);
            assert_eq!(w[0], 1, "little-endian WKB");
            let t = u32::from_le_bytes(w[1..5].try_into().unwrap());
            let f = |k: usize| f64::from_le_bytes(w[5 + 8 * k..13 + 8 * k].try_into().unwrap());
            match t {
                1 => out.push(Some([f(0), f(1), 0.0])),
                1001 => out.push(Some([f(0), f(1), f(2)])),
                other => panic!("type {other}"),
            }
        }
    }
    out
}

/// The reference: id, lon, lat, easting, northing from pyproj.
fn reference() -> Vec<(i64, [f64; 4])> {
    std::fs::read_to_string(data("points_4490_to_4547.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            let n = |i: usize| v[i].parse::<f64>().unwrap();
            (v[0].parse().unwrap(), [n(1), n(2), n(3), n(4)])
        })
        .collect()
}

fn column_i64(r: &Read, name: &str) -> Vec<Option<i64>> {
    r.batches
        .iter()
        .flat_map(|b| {
            let a = b.column_by_name(name).unwrap().as_primitive::<Int64Type>().clone();
            (0..a.len()).map(move |i| (!a.is_null(i)).then(|| a.value(i))).collect::<Vec<_>>()
        })
        .collect()
}

fn check_against_pyproj(out: &Read) {
    let pts = points(out, "geometry");
    let ids = column_i64(out, "id");
    let reference = reference();
    assert_eq!(pts.len(), 10);
    for (id, p) in ids.iter().zip(&pts) {
        let id = id.unwrap();
        match reference.iter().find(|(i, _)| *i == id) {
            Some((_, r)) => {
                let p = p.unwrap();
                assert!(
                    (p[0] - r[2]).abs() < 1e-6 && (p[1] - r[3]).abs() < 1e-6,
                    "id {id}: {p:?} vs {r:?}"
                );
            }
            None => assert!(p.is_none(), "id {id} has no geometry in the input"),
        }
    }
}

#[test]
fn geopandas_points_convert_as_pyproj_does_and_keep_everything_else() {
    let s = Scratch::new("gp_points");
    let out = s.path("out.parquet");
    let input = data("points_4490.parquet");
    let report = convert(&input, &out, &crs("EPSG:4490"), &crs("EPSG:4547"), false).unwrap();
    assert_eq!((report.features, report.written, report.vertices, report.empty), (10, 10, 9, 1));
    let (a, b) = (read(&input), read(&out));
    check_against_pyproj(&b);
    // Row groups (4 + 4 + 2 rows) and every other column kept, row order too.
    assert_eq!(b.row_groups, 3);
    assert_eq!(a.batches.iter().map(|x| x.num_rows()).sum::<usize>(), 10);
    for name in ["id", "名称", "value", "flag", "day", "small"] {
        let ca: Vec<_> =
            a.batches.iter().map(|x| x.column_by_name(name).unwrap().to_data()).collect();
        let cb: Vec<_> =
            b.batches.iter().map(|x| x.column_by_name(name).unwrap().to_data()).collect();
        let concat = |v: &[arrow_array::ArrayRef]| {
            arrow_select::concat::concat(&v.iter().map(|x| x.as_ref()).collect::<Vec<_>>()).unwrap()
        };
        let ca = concat(&ca.into_iter().map(arrow_array::make_array).collect::<Vec<_>>());
        let cb = concat(&cb.into_iter().map(arrow_array::make_array).collect::<Vec<_>>());
        assert_eq!(ca.to_data(), cb.to_data(), "column {name}");
    }
    // Key-value metadata other than geo kept (GeoPandas's pandas entry).
    let pandas = |r: &Read| r.kv.iter().find(|(k, _)| k == "pandas").map(|(_, v)| v.clone());
    assert_eq!(pandas(&a), pandas(&b));
    // geo: crs EPSG:4547 as PROJJSON, bbox from the converted points, types kept.
    let col = &b.geo["columns"]["geometry"];
    assert_eq!(col["crs"]["id"]["authority"], "EPSG");
    assert_eq!(col["crs"]["id"]["code"], 4547);
    assert_eq!(col["crs"]["type"], "ProjectedCRS");
    assert_eq!(col["geometry_types"], serde_json::json!(["Point"]));
    let pts: Vec<[f64; 3]> = points(&b, "geometry").into_iter().flatten().collect();
    let min = |k: usize| pts.iter().map(|p| p[k]).fold(f64::INFINITY, f64::min);
    let max = |k: usize| pts.iter().map(|p| p[k]).fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(col["bbox"], serde_json::json!([min(0), min(1), max(0), max(1)]));
    assert_eq!(b.geo["primary_column"], a.geo["primary_column"]);
    assert_eq!(b.geo["version"], a.geo["version"]);
}

#[test]
fn the_declared_crs_is_read_and_a_contradicting_source_is_refused() {
    let input = data("points_4490.parquet");
    let registry = geounify::Registry::new();
    let declared = geounify::convert::declared_crs(&input, &registry).unwrap().unwrap();
    assert_eq!(declared.id(), "EPSG:4490");
    let s = Scratch::new("gp_declared");
    let out = s.path("out.parquet");
    let e = convert(&input, &out, &crs("EPSG:4214"), &crs("EPSG:4547"), false).unwrap_err();
    assert!(matches!(e, ConvertError::DeclaredCrsMismatch { .. }), "{e}");
    assert!(s.listing().is_empty());
}

#[test]
fn geoarrow_native_points_convert_like_wkb() {
    let s = Scratch::new("gp_native");
    let out = s.path("out.parquet");
    let input = data("points_4490_geoarrow.parquet");
    convert(&input, &out, &crs("EPSG:4490"), &crs("EPSG:4547"), false).unwrap();
    let r = read(&out);
    assert_eq!(r.geo["columns"]["geometry"]["encoding"], "point");
    let ids = column_i64(&r, "id");
    let reference = reference();
    let mut seen = 0;
    for b in &r.batches {
        let g = b.column_by_name("geometry").unwrap().as_struct();
        let x = g.column(0).as_primitive::<Float64Type>();
        let y = g.column(1).as_primitive::<Float64Type>();
        for i in 0..g.len() {
            let id = ids[seen].unwrap();
            seen += 1;
            if let Some((_, r)) = reference.iter().find(|(k, _)| *k == id) {
                assert!((x.value(i) - r[2]).abs() < 1e-6 && (y.value(i) - r[3]).abs() < 1e-6);
            }
        }
    }
    assert_eq!(seen, 10);
}

#[test]
fn lines_and_polygons_with_heights_convert_as_pyproj_does() {
    let s = Scratch::new("gp_shapes");
    let out = s.path("out.parquet");
    convert(&data("shapes_4547.parquet"), &out, &crs("EPSG:4547"), &crs("EPSG:4490"), false)
        .unwrap();
    let r = read(&out);
    let a = r.batches[0].column_by_name("geometry").unwrap().as_binary::<i32>().clone();
    let reference = std::fs::read_to_string(data("shapes_4547_to_4490.csv")).unwrap();
    let mut checked = 0;
    for line in reference.lines().skip(1) {
        let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        let (row, vertex) = (v[0] as usize, v[1] as usize);
        // Read the row's coordinates with geounify's own WKB reader (checked elsewhere against
        // GDAL) and compare the numbers with pyproj.
        let mut coords = Vec::new();
        geounify::wkb::coordinates(a.value(row), usize::MAX, &mut coords).unwrap();
        let c = coords[vertex];
        assert!((c[0] - v[4]).abs() < 1e-11 && (c[1] - v[5]).abs() < 1e-11, "{line}: {c:?}");
        checked += 1;
    }
    assert_eq!(checked, 14);
    // The 3D line keeps its heights (elevations copied between 2D CRSs).
    let mut coords = Vec::new();
    geounify::wkb::coordinates(a.value(2), usize::MAX, &mut coords).unwrap();
    assert_eq!((coords[0][2], coords[1][2]), (12.5, 13.5));
    assert_eq!(
        r.geo["columns"]["geometry"]["geometry_types"],
        read(&data("shapes_4547.parquet")).geo["columns"]["geometry"]["geometry_types"]
    );
}

#[test]
fn round_trips_through_geopackage_and_geojson_keep_attributes_and_coordinates() {
    for via in ["gpkg", "geojson"] {
        let s = Scratch::new(&format!("gp_trip_{via}"));
        let mid = s.path(&format!("mid.{via}"));
        let back = s.path("back.parquet");
        let input = data("points_4490.parquet");
        convert(&input, &mid, &crs("EPSG:4490"), &crs("EPSG:4547"), false).unwrap();
        convert(&mid, &back, &crs("EPSG:4547"), &crs("EPSG:4490"), false).unwrap();
        let (a, b) = (read(&input), read(&back));
        let (pa, pb) = (points(&a, "geometry"), points(&b, "geometry"));
        assert_eq!(pa.len(), pb.len());
        for (p, q) in pa.iter().zip(&pb) {
            match (p, q) {
                (Some(p), Some(q)) => {
                    assert!((p[0] - q[0]).abs() < 1e-11 && (p[1] - q[1]).abs() < 1e-11, "{via}")
                }
                (None, None) => {}
                other => panic!("{via}: {other:?}"),
            }
        }
        assert_eq!(column_i64(&a, "id"), column_i64(&b, "id"), "{via}");
        let text = |r: &Read| -> Vec<Option<String>> {
            r.batches
                .iter()
                .flat_map(|x| {
                    let c = x.column_by_name("名称").unwrap();
                    let c = arrow_cast_text(c.as_ref());
                    c
                })
                .collect()
        };
        assert_eq!(text(&a), text(&b), "{via}");
        assert_eq!(b.geo["columns"]["geometry"]["crs"]["id"]["code"], 4490);
        assert_eq!(b.geo["version"], "1.1.0");
    }
}

/// A string column (Utf8 or LargeUtf8) as texts.
fn arrow_cast_text(a: &dyn Array) -> Vec<Option<String>> {
    (0..a.len())
        .map(|i| {
            if a.is_null(i) {
                None
            } else if let Some(s) = a.as_string_opt::<i32>() {
                Some(s.value(i).to_string())
            } else {
                Some(a.as_string::<i64>().value(i).to_string())
            }
        })
        .collect()
}

#[test]
fn an_empty_file_converts_to_an_empty_file() {
    let s = Scratch::new("gp_empty");
    let out = s.path("out.parquet");
    let report =
        convert(&data("empty_4490.parquet"), &out, &crs("EPSG:4490"), &crs("EPSG:4547"), false)
            .unwrap();
    assert_eq!(report.features, 0);
    let r = read(&out);
    assert_eq!(r.batches.iter().map(|b| b.num_rows()).sum::<usize>(), 0);
    assert_eq!(r.geo["columns"]["geometry"]["crs"]["id"]["code"], 4547);
    assert!(r.geo["columns"]["geometry"].get("bbox").is_none());
}

#[test]
fn malformed_and_non_geo_parquet_are_refused_and_nothing_is_left() {
    let s = Scratch::new("gp_bad");
    let whole = std::fs::read(data("points_4490.parquet")).unwrap();
    let cut = s.write("cut.parquet", &whole[..whole.len() - 100]);
    let junk = s.write("junk.parquet", b"PAR1 this is not parquet PAR1");
    for input in [&cut, &junk] {
        let out = s.path("out.parquet");
        let e = convert(input, &out, &crs("EPSG:4490"), &crs("EPSG:4547"), true).unwrap_err();
        assert!(matches!(e, ConvertError::Malformed { .. }), "{e}");
        assert!(!out.exists());
    }
    // A GeoPackage named .parquet is refused by its signature.
    let gpkg = s.path("x.gpkg");
    convert(&data("points_4490.parquet"), &gpkg, &crs("EPSG:4490"), &crs("EPSG:4547"), false)
        .unwrap();
    let named = s.path("gpkg.parquet");
    std::fs::copy(&gpkg, &named).unwrap();
    let e = convert(&named, &s.path("o.parquet"), &crs("EPSG:4490"), &crs("EPSG:4547"), false)
        .unwrap_err();
    assert!(e.to_string().contains("SQLite"), "{e}");
    let mut l = s.listing();
    l.sort();
    assert_eq!(l, ["cut.parquet", "gpkg.parquet", "junk.parquet", "x.gpkg"]);
}

#[test]
fn a_gcj02_target_is_written_with_the_marked_crs_and_read_back_as_gcj02() {
    let s = Scratch::new("gp_gcj");
    let out = s.path("gcj.parquet");
    let input = data("points_4490.parquet");
    let report = convert(&input, &out, &crs("EPSG:4490"), &crs("GCJ02"), false).unwrap();
    assert!(
        report.warnings.iter().any(|w| w.contains("marked placeholder")),
        "{:?}",
        report.warnings
    );
    let r = read(&out);
    let c = &r.geo["columns"]["geometry"]["crs"];
    assert_eq!(c["id"]["authority"], "GEOUNIFY");
    assert_eq!(c["id"]["code"], "GCJ02");
    assert!(c["datum"]["name"].as_str().unwrap().contains("not a datum"));
    assert!(!c.is_null());
    // The numbers: the independent coordtransform crate (CGCS2000 = WGS84 in geounify).
    for (p, q) in points(&read(&input), "geometry").iter().zip(points(&r, "geometry")) {
        let (Some(p), Some(q)) = (p, q) else { continue };
        let theirs = coordtransform::wgs84_to_gcj02_in_mainland(p[0], p[1]);
        assert!((q[0] - theirs.0).abs() < 1e-11 && (q[1] - theirs.1).abs() < 1e-11);
    }
    let registry = geounify::Registry::new();
    assert_eq!(geounify::convert::declared_crs(&out, &registry).unwrap().unwrap().id(), "GCJ02");
}

/// A GeoParquet file with one point on the far side of the earth from the 114°E zone (written by geounify from GeoJSON, with
/// `force` past the sanity check).
fn with_a_bad_point(s: &Scratch) -> PathBuf {
    let json = s.write(
        "bad.geojson",
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"n":1},"geometry":{"type":"Point","coordinates":[114.1,30.5]}},
{"type":"Feature","properties":{"n":2},"geometry":{"type":"Point","coordinates":[-66.0,30.0]}},
{"type":"Feature","properties":{"n":3},"geometry":{"type":"Point","coordinates":[114.3,31.5]}}]}"#,
    );
    let p = s.path("bad.parquet");
    let o = ConvertOptions { force: true, ..ConvertOptions::default() };
    convert_with(&json, &p, &crs("EPSG:4490"), &crs("EPSG:4490"), &o).unwrap();
    p
}

#[test]
fn failing_rows_are_located_and_skip_invalid_drops_the_whole_row() {
    let s = Scratch::new("gp_skip");
    let input = with_a_bad_point(&s);
    let out = s.path("out.parquet");
    let force = ConvertOptions { force: true, ..ConvertOptions::default() };
    let e = convert_with(&input, &out, &crs("EPSG:4490"), &crs("EPSG:4547"), &force).unwrap_err();
    match e {
        ConvertError::PointsFailed { failures, total, .. } => {
            assert_eq!(total, 1);
            assert_eq!(failures[0].location, "row group 0, row 1");
        }
        other => panic!("{other}"),
    }
    assert!(!out.exists());
    let skip = ConvertOptions { force: true, skip_invalid: true, ..ConvertOptions::default() };
    let report = convert_with(&input, &out, &crs("EPSG:4490"), &crs("EPSG:4547"), &skip).unwrap();
    assert_eq!((report.features, report.written), (3, 2));
    assert_eq!(report.skipped[0].location, "row group 0, row 1");
    let r = read(&out);
    assert_eq!(column_i64(&r, "n"), [Some(1), Some(3)]);
    assert_eq!(points(&r, "geometry").len(), 2);
}

/// A Python with geopandas: `GEOUNIFY_PYTHON`, the worktree's `.venv`, or `python3`. A
/// `GEOUNIFY_PYTHON` that is set must have them (CI sets it: the read-back test never skips
/// there).
fn python() -> Option<PathBuf> {
    let works = |p: &Path| {
        std::process::Command::new(p)
            .args(["-c", "import geopandas, pyarrow"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if let Some(p) = std::env::var_os("GEOUNIFY_PYTHON").map(PathBuf::from) {
        assert!(works(&p), "GEOUNIFY_PYTHON={} has no geopandas and pyarrow", p.display());
        return Some(p);
    }
    let candidates =
        [Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"), PathBuf::from("python3")];
    candidates.into_iter().find(|p| works(p))
}

#[test]
fn geopandas_reads_our_outputs_back() {
    let Some(py) = python() else {
        eprintln!("skipped: no Python with geopandas and pyarrow (set GEOUNIFY_PYTHON)");
        return;
    };
    let s = Scratch::new("gp_python");
    let same = s.path("same.parquet");
    let cross = s.path("cross.parquet");
    convert(&data("points_4490.parquet"), &same, &crs("EPSG:4490"), &crs("EPSG:4547"), false)
        .unwrap();
    let mid = s.path("mid.gpkg");
    convert(&data("points_4490.parquet"), &mid, &crs("EPSG:4490"), &crs("EPSG:4490"), false)
        .unwrap();
    convert(&mid, &cross, &crs("EPSG:4490"), &crs("EPSG:4547"), false).unwrap();
    let script = r#"
import sys, geopandas as gpd
for p in sys.argv[1:]:
    d = gpd.read_parquet(p)
    print(p.rsplit("/", 1)[-1], d.crs.to_epsg(), len(d))
    for i, g in zip(d["id"], d.geometry):
        print(i, d.loc[d["id"] == i, "名称"].iloc[0], "" if g is None else f"{g.x!r} {g.y!r}")
"#;
    let o = std::process::Command::new(py)
        .arg("-c")
        .arg(script)
        .arg(&same)
        .arg(&cross)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let reference = reference();
    let mut lines = text.lines();
    for file in ["same.parquet", "cross.parquet"] {
        assert_eq!(lines.next().unwrap(), format!("{file} 4547 10"));
        for _ in 0..10 {
            let l: Vec<&str> = lines.next().unwrap().split(' ').collect();
            let id: i64 = l[0].parse().unwrap();
            match reference.iter().find(|(k, _)| *k == id) {
                Some((_, r)) => {
                    let (x, y): (f64, f64) = (l[2].parse().unwrap(), l[3].parse().unwrap());
                    assert!((x - r[2]).abs() < 1e-6 && (y - r[3]).abs() < 1e-6, "{file} {id}");
                }
                None => assert_eq!(l[2], "", "{file} {id}"),
            }
        }
    }
}

#[test]
fn a_codec_this_build_does_not_read_and_a_plain_parquet_file_are_refused_clearly() {
    let s = Scratch::new("gp_codec");
    let out = s.path("out.parquet");
    let e = convert(
        &data("points_4490_zstd.parquet"),
        &out,
        &crs("EPSG:4490"),
        &crs("EPSG:4547"),
        false,
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, ConvertError::Malformed { .. }), "{text}");
    assert!(text.contains("row group 0: its pages are compressed with zstd"), "{text}");
    assert!(!out.exists());
    // Parquet without `geo` metadata: not GeoParquet.
    let plain = s.path("plain.parquet");
    let ids = arrow_array::Int64Array::from(vec![1, 2, 3]);
    let batch = RecordBatch::try_from_iter([("id", std::sync::Arc::new(ids) as _)]).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&plain).unwrap(),
        batch.schema(),
        None,
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let e = convert(&plain, &out, &crs("EPSG:4490"), &crs("EPSG:4547"), false).unwrap_err();
    assert!(e.to_string().contains("is not GeoParquet"), "{e}");
    assert!(!out.exists());
}

#[test]
fn a_bbox_covering_is_recomputed_from_the_converted_points() {
    let s = Scratch::new("gp_covering");
    let out = s.path("out.parquet");
    let input = data("points_4490_covering.parquet");
    convert(&input, &out, &crs("EPSG:4490"), &crs("EPSG:4547"), false).unwrap();
    let r = read(&out);
    assert_eq!(r.row_groups, 3);
    check_against_pyproj(&r);
    assert_eq!(
        r.geo["columns"]["geometry"]["covering"],
        read(&input).geo["columns"]["geometry"]["covering"]
    );
    let pts = points(&r, "geometry");
    let mut k = 0;
    for b in &r.batches {
        let bbox = b.column_by_name("bbox").unwrap().as_struct();
        let f =
            |name: &str| bbox.column_by_name(name).unwrap().as_primitive::<Float64Type>().clone();
        let (x0, y0, x1, y1) = (f("xmin"), f("ymin"), f("xmax"), f("ymax"));
        for i in 0..bbox.len() {
            match pts[k] {
                Some(p) => {
                    assert_eq!(
                        [x0.value(i), y0.value(i), x1.value(i), y1.value(i)],
                        [p[0], p[1], p[0], p[1]]
                    );
                }
                None => assert!(x0.is_null(i) && y1.is_null(i)),
            }
            k += 1;
        }
    }
    assert_eq!(k, 10);
}
