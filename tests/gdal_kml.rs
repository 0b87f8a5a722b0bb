//! KML and KMZ against GDAL (feature `gdal-interop`): KML files GDAL's `ogr2ogr -f KML` writes
//! (GDAL 3.6's KML driver) and KMZ files its LIBKML driver writes (when GDAL has it), holding GCJ-02 coordinates (the trap: a Chinese
//! app's export in a WGS84 format), are converted by `geounify convert --from GCJ02 --to
//! EPSG:4326` to the published WGS84 values; GDAL reads our outputs back with the same
//! features, names, attributes and altitudes, and the coordinates we wrote.
#![cfg(feature = "gdal-interop")]

mod common;

use common::cli::run_in;
use common::gdal;
use common::scratch::Scratch;
use std::path::Path;

/// (WGS84 lon, lat, GCJ-02 lon, lat), degrees: the published values `tests/ops_webmaps.rs`
/// checks the operation against.
const PUBLISHED: [(f64, f64, f64, f64); 4] = [
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
];

/// GDAL's CSV (and its KML writer) print 15 significant digits: 1e-12° at 116° (half a unit
/// of the last digit is 5e-13°).
const GDAL_DIGITS: f64 = 1e-12;

/// `geounify convert --from from --to to input -o output` in `dir`; stderr.
fn geounify(dir: &Scratch, from: &str, to: &str, input: &Path, output: &Path) -> String {
    let (code, stderr) = run_in(
        &[
            "convert",
            "--from",
            from,
            "--to",
            to,
            input.to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
        ],
        &dir.0,
    );
    assert_eq!(code, 0, "{stderr}");
    stderr
}

/// GDAL's CSV reading of `path`: per row, (the numbers of the WKT, the rest of the row).
fn rows(path: &Path) -> Vec<(Vec<f64>, String)> {
    gdal::read_as_csv(path)
        .lines()
        .skip(1)
        .map(|l| {
            let (wkt, rest) = l[1..].split_once('"').unwrap();
            (gdal::numbers(wkt), rest.to_string())
        })
        .collect()
}

/// Every number inside the `<coordinates>` elements of `path`, in order.
fn written(path: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(path).unwrap();
    text.split("<coordinates>")
        .skip(1)
        .flat_map(|t| {
            t.split("</coordinates>")
                .next()
                .unwrap()
                .split([',', ' ', '\n', '\t'])
                .filter_map(|n| if n.is_empty() { None } else { Some(n.parse::<f64>().unwrap()) })
        })
        .collect()
}

#[test]
fn gdal_kml_in_gcj02_converts_to_the_published_values_and_reads_back() {
    let dir = Scratch::new("gdal-kml");
    let points: Vec<String> = PUBLISHED
        .iter()
        .zip(["天安门", "上海", "深圳", "北京站"])
        .map(|(v, name)| {
            format!(
                r#"{{"type":"Feature","properties":{{"name":"{name}","kind":"poi"}},"geometry":{{"type":"Point","coordinates":[{},{}]}}}}"#,
                v.2, v.3
            )
        })
        .collect();
    let source = format!(
        r#"{{"type":"FeatureCollection","features":[{},
{{"type":"Feature","properties":{{"name":"线","kind":"road"}},"geometry":{{"type":"LineString","coordinates":[[116.3,39.9,50],[116.31,39.91,51.5],[116.32,39.92,52]]}}}},
{{"type":"Feature","properties":{{"name":"面","kind":"park"}},"geometry":{{"type":"Polygon","coordinates":[[[116.3,39.9],[116.31,39.9],[116.31,39.91],[116.3,39.9]],[[116.302,39.902],[116.303,39.902],[116.303,39.903],[116.302,39.902]]]}}}}]}}"#,
        points.join(",")
    );
    let src = dir.write("src.geojson", &source);
    let input = dir.path("pois.kml");
    gdal::run("ogr2ogr", &["-f", "KML", input.to_str().unwrap(), src.to_str().unwrap()]);

    let output = dir.path("pois_wgs84.kml");
    geounify(&dir, "GCJ02", "EPSG:4326", &input, &output);
    assert_eq!(gdal::feature_count(&output), gdal::feature_count(&input));
    assert_eq!(gdal::feature_count(&output), 6);

    let (before, after) = (rows(&input), rows(&output));
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a.1, b.1, "names and attributes as GDAL reads them from its own file");
        assert_eq!(a.0.len(), b.0.len(), "same geometry, altitudes included");
    }
    // GDAL wrote the GCJ-02 values to 15 significant digits (≤ 5e-13°); the exact inverse
    // carries that through with a factor near 1, within the 1e-12° contract: 2e-12°.
    for (a, v) in after.iter().zip(&PUBLISHED) {
        assert!((a.0[0] - v.0).abs() < 2e-12 && (a.0[1] - v.1).abs() < 2e-12, "{a:?} vs {v:?}");
    }
    // GDAL reads what we wrote (to its 15 digits), altitudes copied.
    let ours = written(&output);
    let read: Vec<f64> = after.iter().flat_map(|r| r.0.iter().copied()).collect();
    assert_eq!(ours.len(), read.len());
    for (o, r) in ours.iter().zip(&read) {
        assert!((o - r).abs() < GDAL_DIGITS, "{o} vs GDAL's {r}");
    }
    assert_eq!(after[4].0[2], 50.0);

    // GCJ-02 → WGS84 → GCJ-02 closes to 1e-12° on GDAL's values.
    let back = dir.path("pois_gcj02.kml");
    geounify(&dir, "EPSG:4326", "GCJ02", &output, &back);
    for (a, b) in written(&back).iter().zip(written(&input)) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

/// Whether this GDAL has the LIBKML driver (the only one that writes KMZ).
fn has_libkml() -> bool {
    gdal::run("ogr2ogr", &["--formats"]).contains("LIBKML")
}

#[test]
fn gdal_kmz_converts_and_reads_back() {
    if !has_libkml() {
        eprintln!("GDAL without LIBKML: no KMZ writer, test skipped");
        return;
    }
    let dir = Scratch::new("gdal-kmz");
    let source = format!(
        r#"{{"type":"FeatureCollection","features":[
{{"type":"Feature","properties":{{"name":"天安门"}},"geometry":{{"type":"Point","coordinates":[{},{}]}}}},
{{"type":"Feature","properties":{{"name":"线"}},"geometry":{{"type":"LineString","coordinates":[[{},{},50],[116.31,39.91,51.5]]}}}},
{{"type":"Feature","properties":{{"name":"面"}},"geometry":{{"type":"Polygon","coordinates":[[[116.3,39.9],[116.31,39.9],[116.31,39.91],[116.3,39.91],[116.3,39.9]]]}}}}]}}"#,
        PUBLISHED[0].2, PUBLISHED[0].3, PUBLISHED[2].2, PUBLISHED[2].3
    );
    let src = dir.write("src.geojson", &source);
    let input = dir.path("map.kmz");
    gdal::run("ogr2ogr", &["-f", "LIBKML", input.to_str().unwrap(), src.to_str().unwrap()]);
    let output = dir.path("map_wgs84.kmz");
    geounify(&dir, "GCJ02", "EPSG:4326", &input, &output);

    assert_eq!(gdal::feature_count(&output), 3);
    let (before, after) = (rows(&input), rows(&output));
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a.1, b.1, "names as GDAL reads them from its own file");
        assert_eq!(a.0.len(), b.0.len());
    }
    // LIBKML writes 15 significant digits (≤ 5e-13°): 2e-12° as for KML.
    for (a, v) in [(&after[0].0[..2], PUBLISHED[0]), (&after[1].0[..2], PUBLISHED[2])] {
        assert!((a[0] - v.0).abs() < 2e-12 && (a[1] - v.1).abs() < 2e-12, "{a:?} vs {v:?}");
    }
    assert_eq!(after[1].0[2], 50.0, "the altitude is copied");
}
