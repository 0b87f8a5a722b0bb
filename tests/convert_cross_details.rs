//! Details of conversions between formats found in review (issue 13): a GeoPackage cell of
//! another storage class than its column's declared type (SQLite stores any value in any
//! column) is carried in a field widened to hold it, never turned into null or another type
//! without a word; the progress bar moves during a conversion between formats and ends at the
//! input's size; a CSV `wkt` cell takes the same WKT as `.wkt` files (`POINTZ`, EWKT `SRID=`).
#![cfg(feature = "formats")]

mod common;
use common::conversion::convert;
use common::crs;
use common::scratch::Scratch;
use geounify::convert::{convert_file, ConvertOptions, Progress};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

fn features(path: &Path) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["features"].as_array().unwrap().clone()
}

#[test]
fn geopackage_cells_of_another_type_widen_their_field_and_blobs_are_reported() {
    let dir = Scratch::new("gpkg-cells");
    let g = crs("EPSG:4490");
    let src = dir.write(
        "p.csv",
        "lon,lat,num,r,flag,day\n116.4,39.9,1,0.5,1,2024-01-05\n116.5,39.8,2,1.5,0,2024-02-29\n",
    );
    let gpkg = dir.path("p.gpkg");
    convert(&src, &gpkg, &g, &g, &ConvertOptions::default()).unwrap();
    let conn = rusqlite::Connection::open(&gpkg).unwrap();
    // The writer typed n INTEGER, r REAL, flag INTEGER, day TEXT; declare flag BOOLEAN and day
    // DATE as other writers do, then store cells of other classes.
    conn.execute_batch(
        "PRAGMA writable_schema = ON;
         UPDATE sqlite_master SET sql = replace(replace(sql, '\"flag\" INTEGER', '\"flag\" BOOLEAN'),
           '\"day\" TEXT', '\"day\" DATE') WHERE name = 'p';
         PRAGMA writable_schema = OFF;",
    )
    .unwrap();
    drop(conn);
    let conn = rusqlite::Connection::open(&gpkg).unwrap();
    let declared: Vec<(String, String)> = conn
        .prepare("SELECT name, type FROM pragma_table_info('p')")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(declared.contains(&("flag".into(), "BOOLEAN".into())), "{declared:?}");
    assert!(declared.contains(&("day".into(), "DATE".into())), "{declared:?}");
    // A real in the INTEGER column, text in the REAL column, a blob in the DATE column.
    conn.execute_batch("UPDATE p SET num = 2.5, r = 'about 1', day = x'00ff' WHERE fid = 2;")
        .unwrap();
    let classes: (String, String, String) = conn
        .query_row("SELECT typeof(num), typeof(r), typeof(day) FROM p WHERE fid = 2", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(classes, ("real".into(), "text".into(), "blob".into()));
    drop(conn);
    let out = dir.path("p.geojson");
    let report = convert(&gpkg, &out, &g, &g, &ConvertOptions::default()).unwrap();
    let props: Vec<Value> = features(&out).iter().map(|f| f["properties"].clone()).collect();
    assert_eq!(
        props,
        [
            json!({"num": 1, "r": "0.5", "flag": true, "day": "2024-01-05"}),
            json!({"num": 2.5, "r": "about 1", "flag": false, "day": null}),
        ]
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w
                == "column num is declared integer but holds real values: it is carried as real"),
        "{:?}",
        report.warnings
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w == "column r is declared real but holds text values: it is carried as text"),
        "{:?}",
        report.warnings
    );
    assert!(
        report.warnings.iter().any(|w| w
            == "column day: 1 cell(s) hold binary data (a BLOB; the first at fid 2), which a \
                date field cannot hold: they are written as null"),
        "{:?}",
        report.warnings
    );
    // A boolean column with a 2 is carried as text "2" / "1", not as true.
    let conn = rusqlite::Connection::open(&gpkg).unwrap();
    conn.execute_batch("UPDATE p SET flag = 2 WHERE fid = 2;").unwrap();
    drop(conn);
    let out2 = dir.path("p2.geojson");
    convert(&gpkg, &out2, &g, &g, &ConvertOptions::default()).unwrap();
    let flags: Vec<Value> =
        features(&out2).iter().map(|f| f["properties"]["flag"].clone()).collect();
    assert_eq!(flags, [json!("1"), json!("2")]);
}

/// Records the progress calls.
#[derive(Default)]
struct Recorder {
    total: Mutex<Option<u64>>,
    done: AtomicU64,
    calls: AtomicU64,
}

impl Progress for Recorder {
    fn start(&self, total: Option<u64>) {
        *self.total.lock().unwrap() = total;
    }
    fn advance(&self, bytes: u64) {
        self.done.fetch_add(bytes, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
    }
    fn finish(&self) {}
}

#[test]
fn the_progress_bar_moves_during_conversions_between_formats_and_ends_at_the_input_size() {
    let dir = Scratch::new("cross-progress");
    let g = crs("EPSG:4490");
    let mut text = String::from("id,lon,lat\n");
    for i in 0..40_000 {
        text.push_str(&format!("{i},{},{}\n", 116.0 + i as f64 * 1e-5, 39.0 + i as f64 * 1e-5));
    }
    let csv = dir.write("p.csv", text);
    // Every reader: CSV, then each output read again as input.
    let mut input = csv;
    for (ext, next) in [
        ("csv", "geojson"),
        ("geojson", "shp"),
        ("shp", "gpkg"),
        ("gpkg", "geojsonl"),
        ("geojsonl", "csv"),
    ] {
        let output = dir.path(&format!("from_{ext}.{next}"));
        let p = Recorder::default();
        convert_file(&input, &output, &g, &g, &ConvertOptions::default(), &p).unwrap();
        let size = std::fs::metadata(&input).unwrap().len();
        assert_eq!(*p.total.lock().unwrap(), Some(size), "{ext}");
        let done = p.done.load(Ordering::Relaxed);
        // Whole reads: the bytes of the input, or (GeoPackage) its rows' share of the file.
        assert_eq!(done, size, "{ext}: {done} of {size} bytes reported");
        // 40,000 features are 10 chunks of 4,096: the bar moved before the end.
        assert!(
            p.calls.load(Ordering::Relaxed) >= 3,
            "{ext}: {} calls",
            p.calls.load(Ordering::Relaxed)
        );
        input = output;
    }
}

#[test]
fn the_progress_bar_moves_for_the_readers_of_gpx_kml_fgb_mif_dxf_and_cass_too() {
    let dir = Scratch::new("cross-progress-more");
    let g = crs("EPSG:4490");
    let mut text = String::from("id,lon,lat\n");
    for i in 0..60_000 {
        text.push_str(&format!("{i},{},{}\n", 116.0 + i as f64 * 1e-5, 39.0 + i as f64 * 1e-5));
    }
    let mut input = dir.write("p.csv", text);
    // Each output read again as input: every one of these readers reports its bytes.
    for (ext, next) in [
        ("csv", "gpx"),
        ("gpx", "kml"),
        ("kml", "fgb"),
        ("fgb", "mif"),
        ("mif", "dxf"),
        ("dxf", "dat"),
        ("dat", "csv"),
    ] {
        let output = dir.path(&format!("from_{ext}.{next}"));
        let p = Recorder::default();
        convert_file(&input, &output, &g, &g, &ConvertOptions::default(), &p).unwrap();
        if ext == "csv" {
            input = output;
            continue;
        }
        let size = std::fs::metadata(&input).unwrap().len();
        assert!(size > (1 << 20) + 1000, "{ext}: {size} bytes, more than one 1 MiB read");
        assert_eq!(*p.total.lock().unwrap(), Some(size), "{ext}");
        let done = p.done.load(Ordering::Relaxed);
        assert_eq!(done, size, "{ext}: {done} of {size} bytes reported");
        // Read in 1 MiB blocks: the bar moved before the end.
        let calls = p.calls.load(Ordering::Relaxed);
        assert!(calls >= 2, "{ext}: {calls} calls");
        input = output;
    }
}

/// The numbers of a text, in order (for WKT).
fn numbers(text: &str) -> Vec<f64> {
    text.split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E' | '+')))
        .filter_map(|t| t.parse().ok())
        .collect()
}

fn flatten(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Number(n) => out.push(n.as_f64().unwrap()),
        Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        _ => {}
    }
}

#[test]
fn csv_wkt_cells_take_what_wkt_files_take_and_convert_the_same() {
    let dir = Scratch::new("cross-wkt-cells");
    let (g, p) = (crs("EPSG:4490"), crs("EPSG:4547"));
    let shapes = [
        "SRID=4490;POINTZ(116.4 39.9 50)",
        "LINESTRINGZ(116.4 39.9 1, 116.5 40 2)",
        "MultiPolygon Z (((116.4 39.9 0, 116.5 39.9 0, 116.5 40 0, 116.4 39.9 0)))",
    ];
    // The same geometries as a `.wkt` file (the same-format conversion) and as CSV cells
    // (converted into GeoJSON): the same numbers, bit for bit.
    let wkt = dir.write("s.wkt", shapes.join("\n") + "\n");
    convert(&wkt, &dir.path("s_4547.wkt"), &g, &p, &ConvertOptions::default()).unwrap();
    let expected = numbers(
        &std::fs::read_to_string(dir.path("s_4547.wkt")).unwrap().replace("SRID=4547;", ""),
    );
    let mut csv = String::from("id,wkt\n");
    for (i, s) in shapes.iter().enumerate() {
        csv.push_str(&format!("{i},\"{s}\"\n"));
    }
    let src = dir.write("s.csv", csv);
    let out = dir.path("s.geojson");
    convert(&src, &out, &g, &p, &ConvertOptions::default()).unwrap();
    let mut ours = Vec::new();
    for f in features(&out) {
        flatten(&f["geometry"]["coordinates"], &mut ours);
    }
    assert_eq!(ours.len(), expected.len());
    for (a, b) in ours.iter().zip(&expected) {
        assert_eq!(a.to_bits(), b.to_bits(), "{a} {b}");
    }
    // An SRID that is not the source's fails its line, naming both.
    let bad = dir.write("bad.csv", "id,wkt\n1,SRID=4326;POINT(116 39)\n2,POINT(116 39)\n");
    let options = ConvertOptions { skip_invalid: true, ..ConvertOptions::default() };
    let report = convert(&bad, &dir.path("bad.geojson"), &g, &p, &options).unwrap();
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].location, "line 2");
    assert_eq!(
        report.skipped[0].reason,
        "wkt: SRID=4326 says EPSG:4326, but the source CRS (--from) is EPSG:4490"
    );
    assert_eq!(features(&dir.path("bad.geojson")).len(), 1);
}

#[test]
fn geojson_read_through_the_scanner_or_the_exact_parser_gives_the_same_features_and_errors() {
    let dir = Scratch::new("cross-geojson-fast");
    let g = crs("EPSG:4490");
    let mut features = Vec::new();
    for i in 0..5000 {
        features.push(format!(
            "{{\"type\":\"Feature\",\"properties\":{{\"名称\":\"点{i}\",\"n\":{i}}},\
             \"geometry\":{{\"type\":\"Point\",\"coordinates\":[{},{}]}}}}",
            116.0 + i as f64 * 1e-4,
            39.0 + i as f64 * 1e-4
        ));
    }
    let body = format!(
        "{{\"type\":\"FeatureCollection\",\"name\":\"p\",\"features\":[\n{}\n],\"extra\":{{\"a\":[1,2]}}}}\n",
        features.join(",\n")
    );
    // The same document with a byte-order mark (refused by the reader before).
    let plain = dir.write("plain.geojson", &body);
    let bom = dir.write("bom.geojson", format!("\u{feff}{body}"));
    convert(&plain, &dir.path("plain.csv"), &g, &g, &ConvertOptions::default()).unwrap();
    convert(&bom, &dir.path("bom.csv"), &g, &g, &ConvertOptions::default()).unwrap();
    let a = std::fs::read(dir.path("plain.csv")).unwrap();
    assert_eq!(a, std::fs::read(dir.path("bom.csv")).unwrap());
    assert_eq!(a.iter().filter(|b| **b == b'\n').count(), 5001);
    // A feature over half the record cap (33 MiB) after 4,000: the scanner stops there and the
    // exact parser goes on from it, each feature given once.
    let mut late = features.clone();
    let long = "长".repeat(11 << 20); // 33 MiB of UTF-8
    late[4000] = late[4000].replace("\"n\":4000", &format!("\"n\":4000,\"note\":\"{long}\""));
    let late_doc = dir.write(
        "late.geojson",
        format!("{{\"type\":\"FeatureCollection\",\"features\":[{}]}}\n", late.join(",")),
    );
    convert(&late_doc, &dir.path("late.csv"), &g, &g, &ConvertOptions::default()).unwrap();
    let text = std::fs::read_to_string(dir.path("late.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5001);
    assert!(lines[4001].ends_with(&format!(",4000,{long}")), "the long feature, once");
    assert!(lines[4002].contains(",点4001,4001,"), "{}", lines[4002]);
    // Invalid JSON in feature 3: the exact parser's message, with line and column (the sanity
    // check's sample reads it first).
    let mut broken = features[..5].to_vec();
    broken[2] = broken[2].replace("\"n\":2", "\"n\":2,,");
    let broken_doc = dir.write(
        "broken.geojson",
        format!("{{\"type\":\"FeatureCollection\",\"features\":[\n{}\n]}}", broken.join(",\n")),
    );
    let err = convert(&broken_doc, &dir.path("broken.csv"), &g, &g, &ConvertOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("broken.geojson: line 4, column 55: key must be a string"), "{err}");
    assert!(!dir.path("broken.csv").exists());
    // Text after the document.
    let after = dir.write("after.geojson", format!("{body}x"));
    let err = convert(&after, &dir.path("after.csv"), &g, &g, &ConvertOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("trailing characters"), "{err}");
}
