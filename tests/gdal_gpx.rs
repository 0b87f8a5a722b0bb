//! GPX against GDAL (feature `gdal-interop`): GPX files GDAL's `ogr2ogr -f GPX` writes, holding
//! GCJ-02 coordinates (the trap: a Chinese app's export in a WGS84 format), are converted by
//! `geounify convert --from GCJ02 --to EPSG:4326` to the published WGS84 values; GDAL reads our
//! outputs back with the same layers, feature counts, names and elevations, and the
//! coordinates we wrote.
#![cfg(feature = "gdal-interop")]

mod common;

use common::cli::run_in;
use common::gdal;
use common::scratch::Scratch;
use std::path::Path;

/// (WGS84 lon, lat, GCJ-02 lon, lat), degrees: the published values `tests/ops_webmaps.rs`
/// checks the operation against (the brief's vector and eviltransform's Shanghai, Shenzhen,
/// Beijing).
const PUBLISHED: [(f64, f64, f64, f64); 4] = [
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
];

/// GDAL's CSV prints 15 significant digits: 1e-12° at 116° (half a unit of the last digit is
/// 5e-13°).
const CSV_DIGITS: f64 = 1e-12;

/// `ogr2ogr -f GPX name` from the GeoJSON `source`, in `dir`.
fn gdal_writes(dir: &Scratch, name: &str, source: &str) -> std::path::PathBuf {
    let src = dir.write(&format!("{name}.geojson"), source);
    let out = dir.path(name);
    gdal::run("ogr2ogr", &["-f", "GPX", out.to_str().unwrap(), src.to_str().unwrap()]);
    out
}

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

/// The layers GDAL reads from a GPX file and their feature counts (`ogrinfo -so -al`).
fn layer_counts(path: &Path) -> Vec<(String, u64)> {
    let info = gdal::run("ogrinfo", &["-ro", "-so", "-al", path.to_str().unwrap()]);
    let mut out = Vec::new();
    let mut layer = String::new();
    for line in info.lines() {
        if let Some(name) = line.strip_prefix("Layer name: ") {
            layer = name.trim().to_string();
        }
        if let Some(n) = line.strip_prefix("Feature Count: ") {
            out.push((layer.clone(), n.trim().parse().unwrap()));
        }
    }
    out
}

/// The rows of GDAL's CSV reading of `path` that hold a point (waypoints, route and track
/// points): (the numbers of the WKT, the rest of the row).
fn rows(path: &Path) -> Vec<(Vec<f64>, String)> {
    gdal::read_as_csv(path)
        .lines()
        .filter(|l| l.starts_with("\"POINT"))
        .map(|l| {
            let (wkt, rest) = l[1..].split_once('"').unwrap();
            (gdal::numbers(wkt), rest.to_string())
        })
        .collect()
}

/// The `lat` / `lon` attribute values of every `wpt`, `rtept`, `trkpt` in our GPX output, as
/// (lon, lat).
fn written_points(path: &Path) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(path).unwrap();
    let attr = |tag: &str, name: &str| -> f64 {
        let start = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        let len = tag[start..].find('"').unwrap();
        tag[start..start + len].parse().unwrap()
    };
    text.split('<')
        .filter(|t| t.starts_with("wpt ") || t.starts_with("rtept ") || t.starts_with("trkpt "))
        .map(|t| (attr(t, "lon"), attr(t, "lat")))
        .collect()
}

#[test]
fn gdal_waypoints_in_gcj02_convert_to_the_published_wgs84_values() {
    let dir = Scratch::new("gdal-gpx-wpt");
    let features: Vec<String> = PUBLISHED
        .iter()
        .zip(["天安门", "上海", "深圳", "北京站"])
        .map(|(v, name)| {
            format!(
                r#"{{"type":"Feature","properties":{{"name":"{name}","ele":{}}},"geometry":{{"type":"Point","coordinates":[{},{}]}}}}"#,
                v.0, v.2, v.3
            )
        })
        .collect();
    let source = format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","));
    let input = gdal_writes(&dir, "pois.gpx", &source);
    let output = dir.path("pois_wgs84.gpx");
    geounify(&dir, "GCJ02", "EPSG:4326", &input, &output);

    assert_eq!(layer_counts(&output), layer_counts(&input));
    let (before, after) = (rows(&input), rows(&output));
    assert_eq!(after.len(), 4);
    for ((b, a), v) in before.iter().zip(&after).zip(&PUBLISHED) {
        // Names and elevations (the rest of the row) as GDAL reads them from its own file.
        assert_eq!(a.1, b.1);
        assert!((a.0[0] - v.0).abs() < CSV_DIGITS && (a.0[1] - v.1).abs() < CSV_DIGITS, "{a:?}");
    }
    // What we wrote is the published value to the GCJ-02 contract (1e-12°), and GDAL reads
    // what we wrote.
    for ((lon, lat), (a, v)) in
        written_points(&output).into_iter().zip(after.iter().zip(&PUBLISHED))
    {
        assert!((lon - v.0).abs() < 1e-12 && (lat - v.1).abs() < 1e-12, "{lon} {lat}");
        assert!((a.0[0] - lon).abs() < CSV_DIGITS && (a.0[1] - lat).abs() < CSV_DIGITS);
    }
    // GDAL's bounds, with its reserved padding, are rewritten in place.
    let text = std::fs::read_to_string(&output).unwrap();
    assert!(text.contains("<metadata><bounds minlat=\"22.543847"), "{text}");
}

#[test]
fn gdal_tracks_round_trip_and_read_back() {
    let dir = Scratch::new("gdal-gpx-trk");
    let source = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"骑行轨迹"},"geometry":{"type":"MultiLineString","coordinates":[[[116.30,39.90,50],[116.31,39.91,51.5],[116.32,39.92,52]],[[116.40,39.95,60]]]}},
{"type":"Feature","properties":{"name":"第二条"},"geometry":{"type":"MultiLineString","coordinates":[[[113.9171764808363,22.540796131694766,3]]]}}]}"#;
    let input = gdal_writes(&dir, "track.gpx", source);
    let wgs = dir.path("track_wgs84.gpx");
    geounify(&dir, "GCJ02", "EPSG:4326", &input, &wgs);
    let back = dir.path("track_gcj02.gpx");
    let stderr = geounify(&dir, "EPSG:4326", "GCJ02", &wgs, &back);
    assert!(stderr.contains("WGS84 by definition"), "{stderr}");

    assert_eq!(layer_counts(&wgs), layer_counts(&input));
    let tracks = layer_counts(&wgs);
    assert!(tracks.contains(&("tracks".to_string(), 2)), "{tracks:?}");
    assert!(tracks.contains(&("track_points".to_string(), 5)), "{tracks:?}");
    // GDAL reads the coordinates we wrote, and the elevations it wrote (copied).
    let ours = written_points(&wgs);
    let (read, read_input) = (rows(&wgs), rows(&input));
    assert_eq!(read.len(), ours.len());
    for ((p, r), i) in ours.iter().zip(&read).zip(&read_input) {
        assert!((r.0[0] - p.0).abs() < CSV_DIGITS && (r.0[1] - p.1).abs() < CSV_DIGITS);
        assert_eq!(r.1, i.1, "elevations and other fields as GDAL wrote them");
    }
    // The Shenzhen point is the published one.
    let last = ours.last().unwrap();
    assert!((last.0 - PUBLISHED[2].0).abs() < 1e-12 && (last.1 - PUBLISHED[2].1).abs() < 1e-12);
    // GCJ-02 → WGS84 → GCJ-02 closes to 1e-12° (forward(inverse(g)) = g).
    for (a, b) in written_points(&back).iter().zip(written_points(&input)) {
        assert!((a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12, "{a:?} {b:?}");
    }
}
