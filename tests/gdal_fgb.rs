//! FlatGeobuf against GDAL (feature `gdal-interop`): files GDAL writes (with and without its
//! packed R-tree) are converted by `geounify convert` without `--from` (the header's CRS), and
//! GDAL reads our outputs back with the same features, attributes and CRS, the coordinates its
//! own `ogr2ogr -t_srs` (PROJ) gives within 1 µm, and spatial filters (`ogrinfo -spat`, which
//! walks our index) finding the same features as in GDAL's own converted file.
#![cfg(feature = "gdal-interop")]

mod common;

use common::cli::run_in;
use common::gdal;
use common::scratch::Scratch;
use std::collections::BTreeMap;
use std::path::Path;

/// Every simple-feature type on CGCS2000 near Beijing, Chinese names, an id column.
const FEATURES: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id":1,"name":"天安门","h":1.5},"geometry":{"type":"Point","coordinates":[116.3975,39.9087]}},
{"type":"Feature","properties":{"id":2,"name":"长安街","h":2.25},"geometry":{"type":"LineString","coordinates":[[116.35,39.907],[116.40,39.908],[116.45,39.909]]}},
{"type":"Feature","properties":{"id":3,"name":"地块","h":null},"geometry":{"type":"Polygon","coordinates":[[[116.30,39.80],[116.32,39.80],[116.32,39.82],[116.30,39.80]],[[116.305,39.803],[116.31,39.803],[116.31,39.808],[116.305,39.803]]]}},
{"type":"Feature","properties":{"id":4,"name":"两块","h":4.0},"geometry":{"type":"MultiPolygon","coordinates":[[[[116.5,40.0],[116.51,40.0],[116.51,40.01],[116.5,40.0]]],[[[116.6,40.1],[116.61,40.1],[116.61,40.11],[116.6,40.1]]]]}},
{"type":"Feature","properties":{"id":5,"name":"线组","h":5.5},"geometry":{"type":"MultiLineString","coordinates":[[[116.1,39.5],[116.2,39.6]],[[116.3,39.7],[116.4,39.75]]]}},
{"type":"Feature","properties":{"id":6,"name":"点组","h":6.0},"geometry":{"type":"MultiPoint","coordinates":[[116.7,39.6],[116.8,39.65]]}}
]}"#;

/// GDAL's rows of `path` by their id (the first number after the WKT).
fn rows_by_id(path: &Path) -> BTreeMap<String, String> {
    let csv = gdal::read_as_csv(path);
    csv.lines()
        .skip(1)
        .map(|l| {
            let after = l.rsplit_once(")\"").map_or("", |x| x.1);
            let id = after.split(',').nth(1).unwrap_or("").trim_matches('"').to_string();
            (id, l.to_string())
        })
        .collect()
}

fn compare(ours: &Path, theirs: &Path) {
    let (a, b) = (rows_by_id(ours), rows_by_id(theirs));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (id, ra) in &a {
        let rb = &b[id];
        assert_eq!(ra.rsplit_once(")\"").map(|x| x.1), rb.rsplit_once(")\"").map(|x| x.1));
        let wkt = |r: &str| r.rsplit_once(")\"").map_or(String::new(), |x| x.0.to_string());
        let (na, nb) = (gdal::numbers(&wkt(ra)), gdal::numbers(&wkt(rb)));
        assert_eq!(na.len(), nb.len(), "{ra}\n{rb}");
        for (x, y) in na.iter().zip(&nb) {
            assert!((x - y).abs() < 1e-6, "{x} vs GDAL's {y}\n{ra}\n{rb}");
        }
    }
}

/// The ids `ogrinfo -spat` finds in `path`.
fn found(path: &Path, window: [f64; 4]) -> Vec<String> {
    let w: Vec<String> = window.iter().map(|v| v.to_string()).collect();
    let mut args = vec!["-ro", "-q", "-al", "-spat"];
    args.extend(w.iter().map(String::as_str));
    args.push(path.to_str().unwrap());
    let out = gdal::run("ogrinfo", &args);
    let mut ids: Vec<String> = out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("id (Integer) = "))
        .map(str::to_string)
        .collect();
    ids.sort();
    ids
}

fn gdal_writes_we_convert(index: bool) {
    let dir = Scratch::new(&format!("gdal-fgb-{index}"));
    let src = dir.write("src.geojson", FEATURES);
    let input = dir.path("a.fgb");
    let mut args = vec!["-a_srs", "EPSG:4490"];
    if !index {
        args.extend(["-lco", "SPATIAL_INDEX=NO"]);
    }
    args.extend([input.to_str().unwrap(), src.to_str().unwrap()]);
    gdal::run("ogr2ogr", &args);

    let ours = dir.path("ours.fgb");
    let (code, stderr) = run_in(
        &["convert", "--to", "EPSG:4547", input.to_str().unwrap(), "-o", ours.to_str().unwrap()],
        &dir.0,
    );
    assert_eq!(code, 0, "{stderr}");
    let theirs = dir.path("gdal.fgb");
    gdal::run(
        "ogr2ogr",
        &["-t_srs", "EPSG:4547", theirs.to_str().unwrap(), input.to_str().unwrap()],
    );
    compare(&ours, &theirs);
    assert_eq!(gdal::feature_count(&ours), 6);
    assert_eq!(gdal::declared_epsg(&ours).as_deref(), Some("EPSG:4547"));
    let info = gdal::run("ogrinfo", &["-ro", "-so", "-al", ours.to_str().unwrap()]);
    assert!(info.contains("name: String") && info.contains("h: Real"), "{info}");
    // Spatial filters: windows around a feature each, one around several, one around none.
    for window in [
        [704_000.0, 4_421_000.0, 706_000.0, 4_423_000.0],
        [696_000.0, 4_409_000.0, 699_000.0, 4_413_000.0],
        [680_000.0, 4_370_000.0, 745_000.0, 4_450_000.0],
        [713_000.0, 4_432_000.0, 714_000.0, 4_433_000.0],
        [100.0, 100.0, 200.0, 200.0],
    ] {
        assert_eq!(found(&ours, window), found(&theirs, window), "{window:?}");
    }
    assert_eq!(found(&ours, [704_000.0, 4_421_000.0, 706_000.0, 4_423_000.0]), ["1", "2"]);
    assert_eq!(found(&ours, [680_000.0, 4_370_000.0, 745_000.0, 4_450_000.0]).len(), 6);
}

#[test]
fn a_flatgeobuf_gdal_writes_with_its_index_converts_as_gdal_converts_it() {
    gdal_writes_we_convert(true);
}

#[test]
fn a_flatgeobuf_gdal_writes_without_an_index_converts_as_gdal_converts_it() {
    gdal_writes_we_convert(false);
}

#[test]
fn gdal_reads_what_we_write_from_other_formats() {
    let dir = Scratch::new("gdal-fgb-cross");
    let src = dir.write("src.geojson", FEATURES);
    let ours = dir.path("ours.fgb");
    let (code, stderr) = run_in(
        &[
            "convert",
            "--from",
            "EPSG:4490",
            "--to",
            "EPSG:4547",
            src.to_str().unwrap(),
            "-o",
            ours.to_str().unwrap(),
        ],
        &dir.0,
    );
    assert_eq!(code, 0, "{stderr}");
    let theirs = dir.path("gdal.fgb");
    gdal::run(
        "ogr2ogr",
        &[
            "-s_srs",
            "EPSG:4490",
            "-t_srs",
            "EPSG:4547",
            theirs.to_str().unwrap(),
            src.to_str().unwrap(),
        ],
    );
    let (a, b) = (rows_by_id(&ours), rows_by_id(&theirs));
    assert_eq!(a.len(), 6);
    // Integers are 64-bit in our output (the model's integers), 32-bit in GDAL's: values equal.
    for (id, ra) in &a {
        let wkt = |r: &str| r.rsplit_once(")\"").map_or(String::new(), |x| x.0.to_string());
        let (na, nb) = (gdal::numbers(&wkt(ra)), gdal::numbers(&wkt(&b[id])));
        assert_eq!(na.len(), nb.len());
        for (x, y) in na.iter().zip(&nb) {
            assert!((x - y).abs() < 1e-6, "{x} vs GDAL's {y}");
        }
    }
    assert!(a.values().any(|r| r.contains("天安门")));
    assert_eq!(gdal::declared_epsg(&ours).as_deref(), Some("EPSG:4547"));
    for window in [[704_000.0, 4_421_000.0, 706_000.0, 4_423_000.0], [0.0, 0.0, 1.0, 1.0]] {
        let ids = |p: &Path| {
            let w: Vec<String> = window.iter().map(|v| v.to_string()).collect();
            let mut args = vec!["-ro", "-q", "-al", "-spat"];
            args.extend(w.iter().map(String::as_str));
            args.push(p.to_str().unwrap());
            gdal::run("ogrinfo", &args).matches("OGRFeature").count()
        };
        assert_eq!(ids(&ours), ids(&theirs), "{window:?}");
    }
}

#[test]
fn gdal_reads_an_empty_file_and_one_with_features_left_out() {
    let dir = Scratch::new("gdal-fgb-empty");
    let src = dir.write("empty.geojson", r#"{"type":"FeatureCollection","features":[]}"#);
    let ours = dir.path("empty.fgb");
    let (code, stderr) = run_in(
        &[
            "convert",
            "--from",
            "EPSG:4490",
            "--to",
            "EPSG:4547",
            src.to_str().unwrap(),
            "-o",
            ours.to_str().unwrap(),
        ],
        &dir.0,
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(gdal::feature_count(&ours), 0);

    // A point GDAL writes at latitude 95°: left out with --skip-invalid, the index rebuilt for
    // the five features left.
    let bad = FEATURES.replace("[116.3975,39.9087]", "[116.3975,95.0]");
    let src = dir.write("bad.geojson", bad);
    let input = dir.path("bad.fgb");
    gdal::run("ogr2ogr", &["-a_srs", "EPSG:4490", input.to_str().unwrap(), src.to_str().unwrap()]);
    let out = dir.path("skipped.fgb");
    let (code, stderr) = run_in(
        &[
            "convert",
            "--to",
            "EPSG:4547",
            "--skip-invalid",
            "--force",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        &dir.0,
    );
    assert_eq!(code, 1, "features left out are a non-zero exit: {stderr}");
    assert!(stderr.contains("feature 3: latitude 95° is beyond ±90°"), "{stderr}");
    assert_eq!(gdal::feature_count(&out), 5);
    assert_eq!(found(&out, [680_000.0, 4_370_000.0, 745_000.0, 4_450_000.0]).len(), 5);
    assert_eq!(found(&out, [704_000.0, 4_421_000.0, 706_000.0, 4_423_000.0]), ["2"]);
}
