//! The format table's sniff entry (issue 13, item 5): a file named for one format that holds
//! another's binary signature is refused before anything reads it, saying what it holds and
//! which name it needs; a file with an unknown extension is told what its content looks like.
#![cfg(feature = "formats")]

mod common;
use common::conversion::convert;
use common::crs;
use common::scratch::Scratch;
use geounify::convert::{ConvertError, ConvertOptions};

#[test]
fn a_geopackage_named_geojson_is_refused_saying_what_it_is() {
    let dir = Scratch::new("sniff-mismatch");
    let g = crs("EPSG:4490");
    let src = dir.write("p.csv", "lon,lat\n116.4,39.9\n");
    let gpkg = dir.path("p.gpkg");
    convert(&src, &gpkg, &g, &g, &ConvertOptions::default()).unwrap();
    let wrong = dir.path("roads.geojson");
    std::fs::copy(&gpkg, &wrong).unwrap();
    let before = std::fs::read(&wrong).unwrap();
    let err =
        convert(&wrong, &dir.path("out.geojson"), &g, &g, &ConvertOptions::default()).unwrap_err();
    match &err {
        ConvertError::Options { path, message } => {
            assert_eq!(path, &wrong);
            assert_eq!(
                message,
                "the file is not geojson: its content is a SQLite 3 database (a GeoPackage?) \
                 (gpkg); name it .gpkg (or convert the right file)"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(!dir.path("out.geojson").exists());
    assert_eq!(std::fs::read(&wrong).unwrap(), before, "the input is not modified");
    // Named right, it converts.
    convert(&gpkg, &dir.path("out.geojson"), &g, &g, &ConvertOptions::default()).unwrap();
}

#[test]
fn an_unknown_extension_is_told_what_the_content_looks_like() {
    let dir = Scratch::new("sniff-hint");
    let g = crs("EPSG:4490");
    let txt = dir.write(
        "export.txt",
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{},\
         \"geometry\":{\"type\":\"Point\",\"coordinates\":[116.4,39.9]}}]}",
    );
    let err = convert(&txt, &dir.path("out.geojson"), &g, &g, &ConvertOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{}: unknown format (supported: .csv, ", txt.display()))
            && err.ends_with("); its content looks like geojson (name it .geojson)"),
        "{err}"
    );
}
