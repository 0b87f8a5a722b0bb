//! DXF against GDAL (feature `gdal-interop`; GDAL's `ogr2ogr`, which `.ci/run` installs): a
//! drawing GDAL writes (its full R2004 header template; points, an MTEXT label, polylines 2D
//! and 3D, a hatched polygon with a hole) is converted EPSG:4490 → EPSG:4547 by `geounify
//! convert` and by `ogr2ogr -t_srs` (PROJ); GDAL reads both back with the same entities and
//! layers, coordinates within 1 µm.
#![cfg(feature = "gdal-interop")]

mod common;

use common::cli::run_in;
use common::gdal;
use common::scratch::Scratch;

/// Features on CGCS2000 (EPSG:4490) near Shenzhen, each on its layer (GDAL's DXF writer takes
/// the `Layer` field); the first is a text label (an MTEXT).
const FEATURES: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"Layer":"label","OGR_STYLE":"LABEL(f:\"Arial\",t:\"A1\",a:30,s:2g)"},"geometry":{"type":"Point","coordinates":[114.05,22.55]}},
{"type":"Feature","properties":{"Layer":"control"},"geometry":{"type":"Point","coordinates":[114.02,22.52,12.5]}},
{"type":"Feature","properties":{"Layer":"road"},"geometry":{"type":"LineString","coordinates":[[114.0,22.5],[114.1,22.6],[114.2,22.62]]}},
{"type":"Feature","properties":{"Layer":"road3d"},"geometry":{"type":"LineString","coordinates":[[114.0,22.5,3],[114.1,22.6,4.5]]}},
{"type":"Feature","properties":{"Layer":"parcel"},"geometry":{"type":"Polygon","coordinates":[[[114.0,22.5],[114.01,22.5],[114.01,22.51],[114.0,22.5]],[[114.002,22.502],[114.004,22.502],[114.004,22.504],[114.002,22.502]]]}},
{"type":"Feature","properties":{"Layer":"parcel"},"geometry":{"type":"MultiPolygon","coordinates":[[[[113.9,22.4],[113.91,22.4],[113.91,22.41],[113.9,22.4]]],[[[113.95,22.45],[113.96,22.45],[113.96,22.46],[113.95,22.45]]]]}}]}"#;

/// The attribute columns of a row (everything after the WKT, the first quoted field).
fn attributes(row: &str) -> &str {
    row.splitn(3, '"').nth(2).unwrap_or("")
}

/// The layer column (the first after the WKT).
fn layer(row: &str) -> &str {
    attributes(row).trim_start_matches(',').split(',').next().unwrap_or("")
}

#[test]
fn a_drawing_gdal_writes_converts_as_gdal_converts_it() {
    let dir = Scratch::new("gdal-dxf");
    let src = dir.write("src.geojson", FEATURES);
    let input = dir.path("a.dxf");
    gdal::run("ogr2ogr", &["-f", "DXF", input.to_str().unwrap(), src.to_str().unwrap()]);

    let ours = dir.path("ours.dxf");
    let (code, stderr) = run_in(
        &[
            "convert",
            "--from",
            "EPSG:4490",
            "--to",
            "EPSG:4547",
            input.to_str().unwrap(),
            "-o",
            ours.to_str().unwrap(),
        ],
        &dir.0,
    );
    assert_eq!(code, 0, "{stderr}");
    let theirs = dir.path("gdal.dxf");
    gdal::run(
        "ogr2ogr",
        &[
            "-f",
            "DXF",
            "-s_srs",
            "EPSG:4490",
            "-t_srs",
            "EPSG:4547",
            theirs.to_str().unwrap(),
            input.to_str().unwrap(),
        ],
    );

    let (input_csv, ours_csv, theirs_csv) =
        (gdal::read_as_csv(&input), gdal::read_as_csv(&ours), gdal::read_as_csv(&theirs));
    let rows = |s: &str| s.lines().map(str::to_string).collect::<Vec<_>>();
    let (input_rows, ours_rows, theirs_rows) =
        (rows(&input_csv), rows(&ours_csv), rows(&theirs_csv));
    // GDAL reads our output with the entities and attributes of the input (handles, layers,
    // subclasses, text: we copy them), and as many as its own conversion.
    assert_eq!(ours_rows.len(), 8, "{ours_csv}"); // the header and 7 entities (a hatch per polygon)
    assert_eq!(ours_rows.len(), input_rows.len());
    assert_eq!(ours_rows.len(), theirs_rows.len(), "{ours_csv}\n{theirs_csv}");
    for (a, b) in ours_rows.iter().zip(&input_rows) {
        assert_eq!(attributes(a), attributes(b), "{a}\n{b}");
    }
    let mut compared = 0;
    for (a, b) in ours_rows.iter().zip(&theirs_rows).skip(1) {
        assert_eq!(layer(a), layer(b), "{a}\n{b}");
        let (na, nb) = (
            gdal::numbers(a.split('"').nth(1).unwrap()),
            gdal::numbers(b.split('"').nth(1).unwrap()),
        );
        assert_eq!(na.len(), nb.len(), "{a}\n{b}");
        for (x, y) in na.iter().zip(&nb) {
            assert!((x - y).abs() < 1e-6, "{x} vs GDAL's {y}\n{a}\n{b}");
            compared += 1;
        }
    }
    assert!(compared >= 40, "{compared} numbers compared");
    // The layers GDAL lists are the input's.
    let layers = |csv: &str| {
        let mut l: Vec<String> = rows(csv).iter().skip(1).map(|r| layer(r).to_string()).collect();
        l.sort();
        l.dedup();
        l
    };
    assert_eq!(layers(&ours_csv), ["control", "label", "parcel", "road", "road3d"]);
}
