//! Conversions between formats (issue 13 item 2): every pair of CSV, TSV, GeoJSON, GeoJSON
//! sequence, GeoPackage and Shapefile converts with its attributes (Chinese text, integers,
//! reals, empty values) and heights; the coordinates are those of the same-format conversion
//! bit for bit; A → B → A gives A's features back. Outputs are read here by readers independent
//! of geounify's (a CSV splitter, serde_json, rusqlite with a WKB walker, the `shapefile`
//! crate). Also: lines and polygons (through a CSV's wkt column too), the refusals (mixed types in a Shapefile, unsupported
//! pairs, clashing names, --precision into the same format), malformed input with nothing left
//! behind, failures with and without `skip_invalid`, output precision.
#![cfg(feature = "formats")]

mod common;
use common::conversion::convert;
use common::crs;
use common::scratch::Scratch;
use geounify::convert::{ConvertError, ConvertOptions};
use std::path::Path;

/// A point table on CGCS2000 (EPSG:4490): Chinese text, an integer column, a real column, a
/// text column of codes with leading zeros, a text column with a delimiter and a quote, empty
/// cells, a row without geometry; heights on every point with a geometry.
const SOURCE_3D: &str = "名称,lon,lat,h,人口,比例,编号,备注\n\
天安门,116.397,39.908,44.5,3,0.5,007,\"含,逗号\"\n\
故宫,116.403,39.924,43,12,1.25,010,\n\
空行,,,,,,,\n\
西单,116.374,39.913,50.25,-7,2,011,\"引号\"\"在内\"\n";

/// The same without heights.
const SOURCE_2D: &str = "名称,lon,lat,人口,比例,编号,备注\n\
天安门,116.397,39.908,3,0.5,007,\"含,逗号\"\n\
故宫,116.403,39.924,12,1.25,010,\n\
空行,,,,,,\n\
西单,116.374,39.913,-7,2,011,\"引号\"\"在内\"\n";

const FIELDS: [&str; 5] = ["名称", "人口", "比例", "编号", "备注"];

const FORMATS: [&str; 6] = ["csv", "tsv", "geojson", "geojsonl", "gpkg", "shp"];

/// A feature as read back: its coordinates in order (x, y[, z] per position) and its
/// attributes by [`FIELDS`] as text (null and empty as "", numbers in Rust's shortest form).
#[derive(Debug, Clone, PartialEq)]
struct Row {
    coords: Vec<f64>,
    attrs: Vec<String>,
}

/// RFC 4180 fields of one line (no line breaks inside quotes in these tests).
fn split(line: &str, d: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == d && !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn number_text(v: f64) -> String {
    format!("{v}")
}

fn read_csv(path: &Path, d: char) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = split(lines.next().unwrap(), d);
    let col = |n: &str| header.iter().position(|h| h == n);
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let cells = split(l, d);
            let mut coords = Vec::new();
            for n in ["x", "y", "z", "lon", "lat", "h"] {
                if let Some(v) = col(n).and_then(|i| cells[i].parse::<f64>().ok()) {
                    coords.push(v);
                }
            }
            if let Some(i) = col("wkt") {
                coords.extend(numbers(&cells[i]));
            }
            let attrs = FIELDS
                .iter()
                .map(|f| col(f).map(|i| cells[i].clone()).unwrap_or_default())
                .collect();
            Row { coords, attrs }
        })
        .collect()
}

fn numbers(text: &str) -> Vec<f64> {
    text.split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E' | '+')))
        .filter_map(|t| t.parse().ok())
        .collect()
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => number_text(i as f64),
            None => number_text(n.as_f64().unwrap()),
        },
        other => other.to_string(),
    }
}

fn flatten(v: &serde_json::Value, out: &mut Vec<f64>) {
    match v {
        serde_json::Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        serde_json::Value::Number(n) => out.push(n.as_f64().unwrap()),
        _ => {}
    }
}

fn json_row(f: &serde_json::Value) -> Row {
    let mut coords = Vec::new();
    flatten(&f["geometry"]["coordinates"], &mut coords);
    let attrs = FIELDS.iter().map(|n| json_text(&f["properties"][*n])).collect();
    Row { coords, attrs }
}

fn read_geojson(path: &Path) -> Vec<Row> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["features"].as_array().unwrap().iter().map(json_row).collect()
}

fn read_geojsonl(path: &Path) -> Vec<Row> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| json_row(&serde_json::from_str(l).unwrap()))
        .collect()
}

/// The coordinates of a GeoPackage blob, by an independent walk of its header and WKB.
fn blob_coords(b: &[u8]) -> Vec<f64> {
    assert_eq!(&b[..2], b"GP");
    let envelope = match (b[3] >> 1) & 7 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        _ => 64,
    };
    let mut out = Vec::new();
    let mut at = 8 + envelope;
    wkb_walk(b, &mut at, &mut out);
    assert_eq!(at, b.len(), "the WKB fills the blob");
    out
}

fn wkb_walk(b: &[u8], at: &mut usize, out: &mut Vec<f64>) {
    let little = b[*at] == 1;
    let u32_at = |i: usize| {
        let a = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let code = u32_at(*at + 1);
    *at += 5;
    let dims = if code / 1000 == 1 { 3 } else { 2 };
    let doubles = |n: usize, at: &mut usize, out: &mut Vec<f64>| {
        for _ in 0..n {
            let a: [u8; 8] = b[*at..*at + 8].try_into().unwrap();
            out.push(if little { f64::from_le_bytes(a) } else { f64::from_be_bytes(a) });
            *at += 8;
        }
    };
    match code % 1000 {
        1 => doubles(dims, at, out),
        2 => {
            let n = u32_at(*at) as usize;
            *at += 4;
            doubles(n * dims, at, out);
        }
        3 => {
            let rings = u32_at(*at) as usize;
            *at += 4;
            for _ in 0..rings {
                let n = u32_at(*at) as usize;
                *at += 4;
                doubles(n * dims, at, out);
            }
        }
        _ => {
            let parts = u32_at(*at) as usize;
            *at += 4;
            for _ in 0..parts {
                wkb_walk(b, at, out);
            }
        }
    }
}

fn read_gpkg(path: &Path) -> Vec<Row> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let table: String =
        conn.query_row("SELECT table_name FROM gpkg_geometry_columns", [], |r| r.get(0)).unwrap();
    let cols: Vec<String> = FIELDS.iter().map(|f| format!("\"{f}\"")).collect();
    let sql = format!("SELECT geom, {} FROM \"{table}\" ORDER BY fid", cols.join(", "));
    let mut stmt = conn.prepare(&sql).unwrap();
    let rows = stmt
        .query_map([], |r| {
            let coords = match r.get_ref(0)? {
                rusqlite::types::ValueRef::Blob(b) => blob_coords(b),
                _ => Vec::new(),
            };
            let mut attrs = Vec::new();
            for i in 1..=FIELDS.len() {
                attrs.push(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => String::new(),
                    rusqlite::types::ValueRef::Integer(v) => number_text(v as f64),
                    rusqlite::types::ValueRef::Real(v) => number_text(v),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8(t.to_vec()).unwrap(),
                    rusqlite::types::ValueRef::Blob(_) => panic!("a blob attribute"),
                });
            }
            Ok(Row { coords, attrs })
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn shape_coords(shape: &shapefile::Shape) -> Vec<f64> {
    use shapefile::Shape as S;
    let mut out = Vec::new();
    match shape {
        S::NullShape => {}
        S::Point(p) => out.extend([p.x, p.y]),
        S::PointZ(p) => out.extend([p.x, p.y, p.z]),
        S::Polyline(l) => l.parts().iter().flatten().for_each(|p| out.extend([p.x, p.y])),
        S::PolylineZ(l) => l.parts().iter().flatten().for_each(|p| out.extend([p.x, p.y, p.z])),
        S::Polygon(p) => {
            p.rings().iter().flat_map(|r| r.points()).for_each(|p| out.extend([p.x, p.y]))
        }
        other => panic!("unexpected shape {other}"),
    }
    out
}

fn read_shp(path: &Path) -> Vec<Row> {
    shapefile::read(path)
        .unwrap()
        .into_iter()
        .map(|(shape, record)| {
            let attrs = FIELDS
                .iter()
                .map(|f| match record.get(f) {
                    Some(shapefile::dbase::FieldValue::Character(s)) => {
                        s.clone().unwrap_or_default()
                    }
                    Some(shapefile::dbase::FieldValue::Numeric(n)) => {
                        n.map(number_text).unwrap_or_default()
                    }
                    None => String::new(),
                    Some(other) => format!("{other:?}"),
                })
                .collect();
            Row { coords: shape_coords(&shape), attrs }
        })
        .collect()
}

fn read_any(path: &Path) -> Vec<Row> {
    match path.extension().unwrap().to_str().unwrap() {
        "csv" => read_csv(path, ','),
        "tsv" => read_csv(path, '\t'),
        "geojson" => read_geojson(path),
        "geojsonl" => read_geojsonl(path),
        "gpkg" => read_gpkg(path),
        "shp" => read_shp(path),
        e => panic!("{e}"),
    }
}

/// `source` (a CSV on EPSG:4490) in `format`, still on EPSG:4490 (the identity conversion: the
/// pipeline is empty, so the numbers are the source's).
fn input_in(dir: &Scratch, source: &Path, format: &str) -> std::path::PathBuf {
    if format == "csv" {
        return source.to_path_buf();
    }
    let path = dir.path(&format!("in.{format}"));
    let g = crs("EPSG:4490");
    convert(source, &path, &g, &g, &ConvertOptions::default()).unwrap();
    path
}

fn every_pair(source_text: &str, name: &str) {
    let dir = Scratch::new(name);
    let source = dir.write("source.csv", source_text);
    let (g, p) = (crs("EPSG:4490"), crs("EPSG:4547"));
    // The reference: the same-format conversion of the source.
    let same = dir.path("same.csv");
    convert(&source, &same, &g, &p, &ConvertOptions::default()).unwrap();
    let expected = read_csv(&same, ',');
    let source_rows = read_csv(&source, ',');
    assert_eq!(expected.len(), 4);
    for a in FORMATS {
        let input = input_in(&dir, &source, a);
        let original = read_any(&input);
        assert_eq!(original, source_rows, "{a}: the source in {a}");
        for b in FORMATS.iter().filter(|b| **b != a) {
            let out = dir.path(&format!("{a}-to.{b}"));
            let report = convert(&input, &out, &g, &p, &ConvertOptions::default())
                .unwrap_or_else(|e| panic!("{a} → {b}: {e}"));
            assert_eq!((report.features, report.written, report.empty), (4, 4, 1), "{a} → {b}");
            let got = read_any(&out);
            // Bit for bit the same-format conversion's coordinates, the same attributes.
            assert_eq!(got, expected, "{a} → {b}");
            // And back: A's features.
            let back = dir.path(&format!("{a}-to-{b}-back.{a}"));
            convert(&out, &back, &p, &g, &ConvertOptions::default())
                .unwrap_or_else(|e| panic!("{a} → {b} → {a}: {e}"));
            let again = read_any(&back);
            assert_eq!(again.len(), original.len());
            for (x, y) in again.iter().zip(&original) {
                assert_eq!(x.attrs, y.attrs, "{a} → {b} → {a}");
                assert_eq!(x.coords.len(), y.coords.len(), "{a} → {b} → {a}");
                for (u, v) in x.coords.iter().zip(&y.coords) {
                    assert!((u - v).abs() < 1e-9, "{a} → {b} → {a}: {u} vs {v}");
                }
            }
        }
    }
}

#[test]
fn every_pair_keeps_attributes_heights_and_the_same_format_coordinates() {
    every_pair(SOURCE_3D, "pairs-3d");
}

#[test]
fn every_pair_keeps_2d_data_2d() {
    every_pair(SOURCE_2D, "pairs-2d");
}

/// Lines and polygons (with a hole, and a multipolygon) on EPSG:4490.
const SHAPES: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"名称":"地块一","面积":12.5},"geometry":{"type":"Polygon","coordinates":[[[116.3,39.9],[116.3,39.91],[116.31,39.91],[116.31,39.9],[116.3,39.9]],[[116.302,39.902],[116.305,39.902],[116.305,39.905],[116.302,39.902]]]}},
{"type":"Feature","properties":{"名称":"地块二","面积":null},"geometry":{"type":"MultiPolygon","coordinates":[[[[116.4,39.9],[116.4,39.91],[116.41,39.91],[116.4,39.9]]],[[[116.5,39.9],[116.5,39.91],[116.51,39.91],[116.5,39.9]]]]}}
]}"#;

const LINES: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"名称":"长安街"},"geometry":{"type":"LineString","coordinates":[[116.3,39.9,40],[116.4,39.91,41.5]]}},
{"type":"Feature","properties":{"名称":"环路"},"geometry":{"type":"MultiLineString","coordinates":[[[116.3,39.9,1],[116.4,39.91,2]],[[116.5,39.9,3],[116.6,39.91,4]]]}}
]}"#;

fn geometries(path: &Path) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["features"].as_array().unwrap().iter().map(|f| f["geometry"].clone()).collect()
}

/// Compares two GeoJSON geometries: same type and structure, numbers within `tol`.
fn same_geometry(a: &serde_json::Value, b: &serde_json::Value, tol: f64) {
    assert_eq!(a["type"], b["type"], "{a}\n{b}");
    fn walk(a: &serde_json::Value, b: &serde_json::Value, tol: f64) {
        match (a, b) {
            (serde_json::Value::Array(x), serde_json::Value::Array(y)) => {
                assert_eq!(x.len(), y.len(), "{a}\n{b}");
                x.iter().zip(y).for_each(|(u, v)| walk(u, v, tol));
            }
            (serde_json::Value::Number(x), serde_json::Value::Number(y)) => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                assert!((x - y).abs() <= tol, "{x} vs {y}");
            }
            _ => panic!("{a} vs {b}"),
        }
    }
    walk(&a["coordinates"], &b["coordinates"], tol);
}

#[test]
fn lines_and_polygons_round_trip_through_geopackage_shapefile_and_csv() {
    let dir = Scratch::new("shapes");
    let (g, p) = (crs("EPSG:4490"), crs("EPSG:4547"));
    for (name, text) in [("polygons", SHAPES), ("lines", LINES)] {
        let src = dir.write(&format!("{name}.geojson"), text);
        let same = dir.path(&format!("{name}-same.geojson"));
        convert(&src, &same, &g, &p, &ConvertOptions::default()).unwrap();
        for via in ["gpkg", "shp", "csv"] {
            let mid = dir.path(&format!("{name}.{via}"));
            convert(&src, &mid, &g, &p, &ConvertOptions::default()).unwrap();
            // Into GeoJSON again on the target: the same-format conversion's geometries,
            // exactly (Shapefile polygon rings come back in the format's orientation).
            let out = dir.path(&format!("{name}-{via}.geojson"));
            convert(&mid, &out, &p, &p, &ConvertOptions::default()).unwrap();
            let (want, got) = (geometries(&same), geometries(&out));
            assert_eq!(want.len(), got.len());
            for (w, o) in want.iter().zip(&got) {
                if via == "shp" && name == "polygons" {
                    assert_eq!(w["type"], o["type"]);
                    let (mut a, mut b) = (Vec::new(), Vec::new());
                    flatten(&w["coordinates"], &mut a);
                    flatten(&o["coordinates"], &mut b);
                    a.sort_by(f64::total_cmp);
                    b.sort_by(f64::total_cmp);
                    assert_eq!(a, b, "the same positions");
                } else {
                    same_geometry(w, o, 0.0);
                }
            }
        }
    }
    // The polygon's exterior is clockwise in the Shapefile and its hole counter-clockwise.
    let shapes = shapefile::read_shapes(dir.path("polygons.shp")).unwrap();
    let shapefile::Shape::Polygon(first) = &shapes[0] else { panic!("{}", shapes[0]) };
    assert!(matches!(first.rings()[0], shapefile::PolygonRing::Outer(_)));
    assert!(matches!(first.rings()[1], shapefile::PolygonRing::Inner(_)));
}

#[test]
fn csv_output_of_lines_is_a_wkt_column() {
    let dir = Scratch::new("wkt-column");
    let src = dir.write("lines.geojson", LINES);
    let out = dir.path("lines.csv");
    let g = crs("EPSG:4490");
    convert(&src, &out, &g, &g, &ConvertOptions::default()).unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "wkt,名称\n\"LINESTRING Z (116.3 39.9 40,116.4 39.91 41.5)\",长安街\n\
         \"MULTILINESTRING Z ((116.3 39.9 1,116.4 39.91 2),(116.5 39.9 3,116.6 39.91 4))\",环路\n"
    );
}

#[test]
fn a_shapefile_refuses_a_second_geometry_type_naming_the_feature() {
    let dir = Scratch::new("mixed");
    let src = dir.write(
        "mixed.geojson",
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"n":1},"geometry":{"type":"Point","coordinates":[116.3,39.9]}},
{"type":"Feature","properties":{"n":2},"geometry":{"type":"LineString","coordinates":[[116.3,39.9],[116.4,39.9]]}}]}"#,
    );
    let before = dir.listing();
    let g = crs("EPSG:4490");
    let err = convert(&src, &dir.path("out.shp"), &g, &g, &ConvertOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConvertError::Options { .. }), "{text}");
    assert!(text.contains("feature 2 is a LineString but the first geometry is a Point"), "{text}");
    assert_eq!(dir.listing(), before, "nothing left behind");
}

#[test]
fn dbf_names_are_cut_to_10_bytes_and_made_unique_with_warnings() {
    let dir = Scratch::new("dbf-names");
    let src = dir.write(
        "names.geojson",
        r#"{"type":"Feature","properties":{"面积很长的字段名称":1,"面积很长的别的":2},"geometry":{"type":"Point","coordinates":[116.3,39.9]}}"#,
    );
    let g = crs("EPSG:4490");
    let out = dir.path("names.shp");
    let report = convert(&src, &out, &g, &g, &ConvertOptions::default()).unwrap();
    let w = report.warnings.join("\n");
    assert!(w.contains("'面积很长的字段名称' is written as '面积很'"), "{w}");
    assert!(w.contains("'面积很长的别的' is written as '面积_2'"), "{w}");
    let (_, record) = shapefile::read(&out).unwrap().pop().unwrap();
    assert_eq!(record.get("面积很"), Some(&shapefile::dbase::FieldValue::Numeric(Some(1.0))));
    assert_eq!(record.get("面积_2"), Some(&shapefile::dbase::FieldValue::Numeric(Some(2.0))));
    assert_eq!(std::fs::read_to_string(dir.path("names.cpg")).unwrap(), "UTF-8");
    assert!(std::fs::read_to_string(dir.path("names.prj")).unwrap().starts_with("GEOGCS["));
}

#[test]
fn precision_writes_fixed_decimals_and_is_refused_into_the_same_format() {
    let dir = Scratch::new("precision");
    let src = dir.write("p.csv", SOURCE_3D);
    let (g, p) = (crs("EPSG:4490"), crs("EPSG:4547"));
    let options = ConvertOptions { precision: Some(3), ..ConvertOptions::default() };
    let out = dir.path("p.geojsonl");
    convert(&src, &out, &g, &p, &options).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let first = text.lines().next().unwrap();
    // Metres to the millimetre, heights too.
    assert!(first.contains("\"coordinates\":[704974.208,4422065.547,44.500]"), "{first}");
    // Degrees: 3 + 6 decimals.
    let deg = dir.path("p-deg.geojsonl");
    convert(&src, &deg, &g, &g, &options).unwrap();
    let first = std::fs::read_to_string(&deg).unwrap();
    assert!(first.contains("[116.397000000,39.908000000,44.500]"), "{first}");
    let err = convert(&src, &dir.path("same.csv"), &g, &p, &options).unwrap_err().to_string();
    assert!(err.contains("--precision 3 applies to conversions between formats"), "{err}");
    assert!(!dir.path("same.csv").exists());
}

#[test]
fn unsupported_pairs_and_clashing_names_are_refused_clearly() {
    let dir = Scratch::new("refused");
    let g = crs("EPSG:4490");
    // Every format of the table converts into every other since WKT lines did (issue 13):
    // `.wkt` into GeoJSON is no longer refused.
    let wkt = dir.write("a.wkt", "POINT (116.3 39.9)\n");
    convert(&wkt, &dir.path("a.geojson"), &g, &g, &ConvertOptions::default()).unwrap();
    let src = dir.write(
        "x.geojson",
        r#"{"type":"Feature","properties":{"X":1},"geometry":{"type":"Point","coordinates":[116.3,39.9]}}"#,
    );
    let err = convert(&src, &dir.path("x.csv"), &g, &g, &ConvertOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("the attribute 'X' has the name of a coordinate column"), "{err}");
    assert_eq!(dir.listing(), ["a.geojson", "a.wkt", "x.geojson"]);
}

#[test]
fn malformed_and_empty_inputs_give_clear_errors_and_leave_nothing() {
    let dir = Scratch::new("malformed");
    let g = crs("EPSG:4490");
    let cases: [(&str, &[u8], &str, &str); 4] = [
        (
            "cut.geojson",
            br#"{"type":"FeatureCollection","features":[{"type":"Feature","#,
            "out.shp",
            "feature 1",
        ),
        ("empty.csv", b"", "out.gpkg", "the file is empty"),
        (
            "bad.geojsonl",
            b"{\"type\":\"Feature\",\"properties\":{},\"geometry\":null}\n{oops\n",
            "out.csv",
            "line 2",
        ),
        (
            "notgpkg.gpkg",
            b"not a database at all, just text long enough to be read",
            "out.geojson",
            "notgpkg.gpkg",
        ),
    ];
    for (name, bytes, out, expected) in cases {
        let src = dir.write(name, bytes);
        let before = dir.listing();
        let options = ConvertOptions { force: true, ..ConvertOptions::default() };
        let err = convert(&src, &dir.path(out), &g, &g, &options).unwrap_err().to_string();
        assert!(err.contains(expected), "{name}: {err}");
        assert_eq!(dir.listing(), before, "{name}: nothing left behind");
    }
}

#[test]
fn failed_points_fail_the_file_or_are_left_out_and_listed() {
    let dir = Scratch::new("failures");
    let src = dir.write(
        "f.csv",
        "名称,lon,lat\n好,116.3,39.9\n坏,116.3,95\n不是数,abc,39.9\n好二,116.4,39.9\n",
    );
    let (g, p) = (crs("EPSG:4490"), crs("EPSG:4547"));
    let options = ConvertOptions { force: true, ..ConvertOptions::default() };
    for out in ["f.geojson", "f.gpkg", "f.shp"] {
        let err = convert(&src, &dir.path(out), &g, &p, &options).unwrap_err();
        let ConvertError::PointsFailed { failures, total, .. } = &err else { panic!("{err}") };
        assert_eq!(*total, 2);
        assert_eq!(failures[0].location, "line 3");
        assert_eq!(failures[1].location, "line 4");
        assert_eq!(failures[1].reason, "x 'abc' is not a number");
        assert_eq!(dir.listing(), ["f.csv"], "{out}: nothing written");
        let skip = ConvertOptions { skip_invalid: true, ..options.clone() };
        let report = convert(&src, &dir.path(out), &g, &p, &skip).unwrap();
        assert_eq!((report.features, report.written, report.skipped.len()), (4, 2, 2));
        let names: Vec<String> =
            read_any(&dir.path(out)).into_iter().map(|r| r.attrs[0].clone()).collect();
        assert_eq!(names, ["好", "好二"], "{out}");
        for f in ["f.geojson", "f.gpkg", "f.shp", "f.shx", "f.dbf", "f.cpg", "f.prj"] {
            let _ = std::fs::remove_file(dir.path(f));
        }
    }
}

#[test]
fn a_geopackage_with_two_feature_tables_is_refused_naming_them() {
    let dir = Scratch::new("two-tables");
    let g = crs("EPSG:4490");
    let src = dir.write("p.csv", SOURCE_2D);
    let one = dir.path("a.gpkg");
    convert(&src, &one, &g, &g, &ConvertOptions::default()).unwrap();
    let conn = rusqlite::Connection::open(&one).unwrap();
    conn.execute_batch(
        "CREATE TABLE b (fid INTEGER PRIMARY KEY, geom POINT);
         INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('b', 'features', 'b', 4490);
         INSERT INTO gpkg_geometry_columns VALUES ('b', 'geom', 'POINT', 4490, 0, 0);",
    )
    .unwrap();
    drop(conn);
    let err = convert(&one, &dir.path("a.geojson"), &g, &g, &ConvertOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("the GeoPackage has 2 feature tables (a, b)"), "{err}");
}

#[test]
fn declared_crs_of_each_output_is_the_target() {
    let dir = Scratch::new("declared");
    let src = dir.write("p.csv", SOURCE_2D);
    let (g, p) = (crs("EPSG:4490"), crs("EPSG:4547"));
    let registry = geounify::Registry::new();
    for out in ["p.geojson", "p.gpkg", "p.shp"] {
        let path = dir.path(out);
        convert(&src, &path, &g, &p, &ConvertOptions::default()).unwrap();
        let declared = geounify::convert::declared_crs(&path, &registry).unwrap().unwrap();
        assert_eq!(declared.id(), "EPSG:4547", "{out}");
    }
}

/// A dBASE III table with one text field `name` (bytes as given) of `width`, one row.
fn dbf(name: &[u8], width: u8, value: &[u8], language_driver: u8) -> Vec<u8> {
    let mut d = vec![0u8; 32];
    d[0] = 3;
    d[4] = 1; // one row
    d[8..10].copy_from_slice(&(32u16 + 32 + 1).to_le_bytes());
    d[10..12].copy_from_slice(&(1 + u16::from(width)).to_le_bytes());
    d[29] = language_driver;
    let mut field = [0u8; 32];
    field[..name.len()].copy_from_slice(name);
    field[11] = b'C';
    field[16] = width;
    d.extend_from_slice(&field);
    d.push(0x0D);
    d.push(b' ');
    let mut cell = value.to_vec();
    cell.resize(usize::from(width), b' ');
    d.extend_from_slice(&cell);
    d.push(0x1A);
    d
}

#[test]
fn gbk_csv_and_gbk_shapefile_tables_are_read_into_utf8_outputs() {
    let dir = Scratch::new("gbk");
    let g = crs("EPSG:4490");
    let (gbk, _, _) = encoding_rs::GBK.encode("名称,lon,lat\n天安门,116.397,39.908\n");
    let src = dir.write("gbk.csv", &gbk);
    let options = ConvertOptions {
        encoding: geounify::convert::TextEncoding::parse("gbk"),
        ..ConvertOptions::default()
    };
    let out = dir.path("gbk.geojson");
    convert(&src, &out, &g, &g, &options).unwrap();
    assert_eq!(read_geojson(&out)[0].attrs[0], "天安门");
    // A Shapefile whose .dbf is GBK: named by its .cpg, or by the language driver byte 0x4D.
    let utf8 = dir.write("p.csv", "名称,lon,lat\nx,116.397,39.908\n");
    let shp = dir.path("p.shp");
    convert(&utf8, &shp, &g, &g, &ConvertOptions::default()).unwrap();
    let (name, _, _) = encoding_rs::GBK.encode("名称");
    let (value, _, _) = encoding_rs::GBK.encode("天安门");
    for (cpg, driver) in [(Some("GBK"), 0), (Some("936"), 0), (None, 0x4D)] {
        std::fs::write(dir.path("p.dbf"), dbf(&name, 20, &value, driver)).unwrap();
        match cpg {
            Some(c) => std::fs::write(dir.path("p.cpg"), c).unwrap(),
            None => {
                let _ = std::fs::remove_file(dir.path("p.cpg"));
            }
        }
        let out = dir.path("from-shp.geojson");
        convert(&shp, &out, &g, &g, &ConvertOptions::default()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(v["features"][0]["properties"]["名称"], "天安门", "{cpg:?} {driver}");
    }
    // The same table read as UTF-8 (an explicit --encoding wins): a clear error naming it.
    let utf8_options = ConvertOptions {
        encoding: geounify::convert::TextEncoding::parse("utf-8"),
        ..ConvertOptions::default()
    };
    let err = convert(&shp, &dir.path("bad.geojson"), &g, &g, &utf8_options).unwrap_err();
    assert!(err.to_string().contains("record 1, field"), "{err}");
    assert!(!dir.path("bad.geojson").exists());
}

#[test]
fn a_repeated_csv_column_name_becomes_a_distinct_attribute() {
    let dir = Scratch::new("repeated");
    let src = dir.write("r.csv", "名称,lon,lat,名称\n甲,116.3,39.9,乙\n");
    let g = crs("EPSG:4490");
    let out = dir.path("r.geojson");
    let report = convert(&src, &out, &g, &g, &ConvertOptions::default()).unwrap();
    let w = report.warnings.join("\n");
    assert!(w.contains("its column 4 is the attribute '名称_2'"), "{w}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["features"][0]["properties"], serde_json::json!({"名称": "甲", "名称_2": "乙"}));
}

#[test]
fn an_empty_point_inside_a_collection_stays_empty_and_fails_nothing() {
    // A Point with no coordinates inside a GeometryCollection is held as NaN x and y; it is not
    // a point to transform (the transformer refuses non-finite values), so it stays empty.
    let dir = Scratch::new("empty-point");
    let src = dir.write(
        "c.geojson",
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"n":1},"geometry":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[]},{"type":"Point","coordinates":[116.3,39.9]}]}}]}"#,
    );
    let (from, to) = (crs("EPSG:4490"), crs("EPSG:4548"));
    let t = geounify::Transformer::new(&from, &to).unwrap();
    let (x, y) = t.transform_xy(116.3, 39.9).unwrap();
    let options = ConvertOptions::default();
    for out in ["c.gpkg", "c2.geojson"] {
        let report = convert(&src, &dir.path(out), &from, &to, &options)
            .unwrap_or_else(|e| panic!("{out}: {e}"));
        assert_eq!((report.features, report.written), (1, 1), "{out}");
    }
    // The GeoPackage read back into GeoJSON (same CRS: the coordinates unchanged).
    convert(&dir.path("c.gpkg"), &dir.path("c3.geojson"), &to, &to, &options).unwrap();
    for out in ["c2.geojson", "c3.geojson"] {
        let g = &geometries(&dir.path(out))[0];
        let parts = g["geometries"].as_array().unwrap();
        assert_eq!(parts[0]["coordinates"], serde_json::json!([]), "{out}");
        assert_eq!(parts[1]["coordinates"], serde_json::json!([x, y]), "{out}");
    }
}

#[test]
fn a_shapefile_refuses_more_fields_than_a_dbase_header_holds() {
    // 2,047 attributes: a header of 32 + 32 × 2047 + 1 bytes does not fit its 16-bit length
    // (it wrapped around and the table was corrupt).
    let dir = Scratch::new("many-fields");
    let props: Vec<String> = (0..2047).map(|i| format!("\"f{i}\":{i}")).collect();
    let src = dir.write(
        "wide.geojson",
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{{}}},"geometry":{{"type":"Point","coordinates":[116.3,39.9]}}}}]}}"#,
            props.join(",")
        ),
    );
    let before = dir.listing();
    let g = crs("EPSG:4490");
    let err = convert(&src, &dir.path("out.shp"), &g, &g, &ConvertOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConvertError::Options { .. }), "{text}");
    assert!(text.contains("2047 attributes"), "{text}");
    assert!(text.contains("do not fit a dBASE table"), "{text}");
    assert_eq!(dir.listing(), before, "nothing left behind");
}
