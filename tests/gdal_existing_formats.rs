//! The formats geounify converted before issue 13, against GDAL (feature `gdal-interop`; GDAL's
//! `ogr2ogr`, which `.ci/run` installs): files GDAL writes are converted by `geounify convert`
//! without `--from` (the CRS they declare), and GDAL reads our outputs back with the same
//! features, attributes and CRS, and the coordinates its own `ogr2ogr -t_srs` (PROJ) gives
//! within 1 µm.
#![cfg(feature = "gdal-interop")]

mod common;

use common::cli::run_in;
use common::gdal;
use common::scratch::Scratch;

/// A point, a line and a polygon on CGCS2000 (EPSG:4490) near Shenzhen, with a Chinese name.
const FEATURES: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"路口","n":1},"geometry":{"type":"Point","coordinates":[114.05,22.55]}},
{"type":"Feature","properties":{"name":"road","n":2},"geometry":{"type":"LineString","coordinates":[[114.0,22.5],[114.1,22.6],[114.2,22.62]]}},
{"type":"Feature","properties":{"name":"parcel","n":3},"geometry":{"type":"Polygon","coordinates":[[[114.0,22.5],[114.01,22.5],[114.01,22.51],[114.0,22.5]]]}}]}"#;

/// The line alone (a Shapefile holds one geometry type).
const LINE: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"道路","n":2},"geometry":{"type":"LineString","coordinates":[[114.0,22.5],[114.1,22.6],[114.2,22.62]]}}]}"#;

/// GDAL writes `name` (EPSG:4490) from `source`; geounify and GDAL each convert it to
/// EPSG:4547; GDAL reads both outputs: same rows, same attributes, coordinates within 1 µm,
/// and our output declares EPSG:4547 to GDAL.
fn agrees_with_gdal(name: &str, source: &str, extra: &[&str]) {
    let dir = Scratch::new(&format!("gdal-{name}"));
    let src = dir.write("src.geojson", source);
    let input = dir.path(name);
    let mut args = vec!["-a_srs", "EPSG:4490"];
    args.extend_from_slice(extra);
    args.extend([input.to_str().unwrap(), src.to_str().unwrap()]);
    gdal::run("ogr2ogr", &args);

    let ours = dir.path(&format!("ours-{name}"));
    let (code, stderr) = run_in(
        &["convert", "--to", "EPSG:4547", input.to_str().unwrap(), "-o", ours.to_str().unwrap()],
        &dir.0,
    );
    assert_eq!(code, 0, "{stderr}");
    let theirs = dir.path(&format!("gdal-{name}"));
    gdal::run(
        "ogr2ogr",
        &["-t_srs", "EPSG:4547", theirs.to_str().unwrap(), input.to_str().unwrap()],
    );

    let (ours_csv, theirs_csv) = (gdal::read_as_csv(&ours), gdal::read_as_csv(&theirs));
    let (ours_rows, theirs_rows): (Vec<&str>, Vec<&str>) =
        (ours_csv.lines().collect(), theirs_csv.lines().collect());
    assert_eq!(ours_rows.len(), theirs_rows.len(), "{ours_csv}\n{theirs_csv}");
    for (a, b) in ours_rows.iter().zip(&theirs_rows) {
        // Attributes: everything after the WKT's closing quote.
        assert_eq!(a.rsplit_once('"').map(|x| x.1), b.rsplit_once('"').map(|x| x.1), "{a}\n{b}");
        let (na, nb) = (gdal::numbers(a), gdal::numbers(b));
        assert_eq!(na.len(), nb.len(), "{a}\n{b}");
        for (x, y) in na.iter().zip(&nb) {
            assert!((x - y).abs() < 1e-6, "{name}: {x} vs GDAL's {y}\n{a}\n{b}");
        }
    }
    assert!(ours_csv.contains(if name.ends_with(".shp") { "道路" } else { "路口" }));
    let declared = if name.ends_with(".shp") { ours.with_extension("prj") } else { ours.clone() };
    assert_eq!(gdal::declared_epsg(&declared).as_deref(), Some("EPSG:4547"), "{name}");
}

#[test]
fn a_shapefile_gdal_writes_converts_as_gdal_converts_it() {
    agrees_with_gdal("a.shp", LINE, &["-lco", "ENCODING=UTF-8"]);
}

#[test]
fn a_geopackage_gdal_writes_converts_as_gdal_converts_it() {
    agrees_with_gdal("a.gpkg", FEATURES, &[]);
}

#[test]
fn a_geojson_gdal_writes_converts_as_gdal_converts_it() {
    agrees_with_gdal("a.geojson", FEATURES, &[]);
}
