//! WKT lines in conversions between formats (issue 13, item 2, for the last format that
//! converted only into itself): `.wkt` files read into GeoJSON, GeoPackage, CSV with their ids,
//! coordinates bit for bit those of the same-format conversion; any dataset written as WKT
//! lines with its id and an EWKT `SRID=` that a conversion reads back as the declared CRS.
#![cfg(feature = "formats")]

mod common;
use common::conversion::convert;
use common::crs;
use common::scratch::Scratch;
use geounify::convert::{ConvertOptions, TextEncoding};
use serde_json::Value;

/// The numbers of a WKT text, in order (SRID prefixes left out).
fn wkt_numbers(text: &str) -> Vec<f64> {
    let mut out = Vec::new();
    for line in text.lines() {
        let geometry = match line.find(|c: char| c.is_ascii_uppercase()) {
            Some(i) => &line[i..],
            None => continue,
        };
        let geometry = geometry.split_once(';').map_or(geometry, |(_, g)| g);
        out.extend(
            geometry
                .split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E' | '+')))
                .filter_map(|t| t.parse::<f64>().ok()),
        );
    }
    out
}

fn flatten(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Number(n) => out.push(n.as_f64().unwrap()),
        Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        _ => {}
    }
}

const LINES: &str = "# 道路与地块\n\
路口1\tSRID=4490;POINT Z (116.4 39.9 44.5)\n\
\n\
道路2\tLINESTRING Z (116.4 39.9 1, 116.41 39.91 2)\n\
地块3\tPOLYGON Z ((116.4 39.9 0, 116.5 39.9 0, 116.5 40 0, 116.4 39.9 0))\n\
地块4\tMULTIPOLYGON Z (((116.4 39.9 0, 116.5 39.9 0, 116.5 40 0, 116.4 39.9 0)), EMPTY)\n";

#[test]
fn wkt_lines_convert_into_other_formats_with_their_ids_and_the_same_coordinates() {
    let dir = Scratch::new("cross-wkt-read");
    let (g, p) = (crs("EPSG:4490"), crs("EPSG:4547"));
    let src = dir.write("s.wkt", LINES);
    convert(&src, &dir.path("same.wkt"), &g, &p, &ConvertOptions::default()).unwrap();
    let expected = wkt_numbers(&std::fs::read_to_string(dir.path("same.wkt")).unwrap());
    let out = dir.path("s.geojson");
    let report = convert(&src, &out, &g, &p, &ConvertOptions::default()).unwrap();
    assert_eq!(report.features, 4);
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let features = doc["features"].as_array().unwrap();
    let ids: Vec<&str> = features.iter().map(|f| f["properties"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["路口1", "道路2", "地块3", "地块4"]);
    let mut ours = Vec::new();
    for f in features {
        flatten(&f["geometry"]["coordinates"], &mut ours);
    }
    assert_eq!(ours.len(), expected.len());
    for (a, b) in ours.iter().zip(&expected) {
        assert_eq!(a.to_bits(), b.to_bits(), "{a} {b}");
    }
    // Into a GeoPackage and back into WKT lines: the same numbers again, and the ids.
    let gpkg = dir.path("s.gpkg");
    convert(&src, &gpkg, &g, &p, &ConvertOptions::default()).unwrap();
    let back = dir.path("back.wkt");
    convert(&gpkg, &back, &p, &p, &ConvertOptions::default()).unwrap();
    let text = std::fs::read_to_string(&back).unwrap();
    let first: Vec<&str> = text.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(first, ["路口1", "道路2", "地块3", "地块4"]);
    assert!(text.lines().all(|l| l.contains("\tSRID=4547;")), "{text}");
    let again = wkt_numbers(&text);
    assert_eq!(again.len(), expected.len());
    for (a, b) in again.iter().zip(&expected) {
        assert_eq!(a.to_bits(), b.to_bits(), "{a} {b}");
    }
    // The written SRID is the declared CRS a same-format conversion reads back (no --from).
    let declared = geounify::convert::declared::read(&back).unwrap();
    assert_eq!(declared.len(), 1, "{declared:?}");
}

#[test]
fn any_dataset_is_written_as_wkt_lines_with_its_id_and_the_rest_named() {
    let dir = Scratch::new("cross-wkt-write");
    let g = crs("EPSG:4490");
    let src = dir.write(
        "p.geojson",
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"ID":"A-1","名称":"天安门","n":3},"geometry":{"type":"Point","coordinates":[116.397,39.908]}},
{"type":"Feature","properties":{"ID":null,"名称":"无","n":4},"geometry":null},
{"type":"Feature","properties":{"ID":"A-3","名称":"线","n":5},"geometry":{"type":"LineString","coordinates":[[116.4,39.9],[116.5,40]]}}
]}"#,
    );
    let out = dir.path("p.wkt");
    let report = convert(&src, &out, &g, &g, &ConvertOptions::default()).unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "A-1\tSRID=4490;POINT (116.397 39.908)\n\
         \tSRID=4490;POINT EMPTY\n\
         A-3\tSRID=4490;LINESTRING (116.4 39.9,116.5 40)\n"
    );
    assert!(
        report.warnings.iter().any(|w| {
            w
            == "WKT lines hold a geometry and an id only: the attribute(s) 名称, n are not carried"
        }),
        "{:?}",
        report.warnings
    );
    // Read back: the empty point is a feature without geometry, the null id null again.
    let back = dir.path("back.geojson");
    let r = convert(&out, &back, &g, &g, &ConvertOptions::default()).unwrap();
    assert_eq!((r.features, r.empty), (3, 1));
    let doc: Value = serde_json::from_slice(&std::fs::read(&back).unwrap()).unwrap();
    assert!(doc["features"][1]["geometry"].is_null());
    assert!(doc["features"][1]["properties"]["id"].is_null());
    // An id with a tab stops the conversion, naming the feature; nothing is left behind.
    let tab = dir.write(
        "tab.geojson",
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"a\tb"},"geometry":{"type":"Point","coordinates":[116.4,39.9]}}]}"#,
    );
    let err = convert(&tab, &dir.path("tab.wkt"), &g, &g, &ConvertOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("feature 1: its id 'a\tb' holds a tab or a line break"), "{err}");
    assert!(!dir.path("tab.wkt").exists());
}

#[test]
fn a_line_that_is_not_wkt_or_names_another_srid_fails_with_its_line_and_gbk_ids_read() {
    let dir = Scratch::new("cross-wkt-fail");
    let g = crs("EPSG:4490");
    let mut bytes =
        b"1\tPOINT (116.4 39.9)\n2\tPOINT (116.4\n3\tSRID=4326;POINT (116 39)\n".to_vec();
    bytes.extend(b"\xb5\xc0\xc2\xb7\tPOINT (116.5 39.9)\n"); // 道路 in GBK
    let src = dir.write("f.wkt", bytes);
    let options = ConvertOptions {
        skip_invalid: true,
        encoding: Some(TextEncoding::Gbk),
        ..ConvertOptions::default()
    };
    let out = dir.path("f.geojson");
    let report = convert(&src, &out, &g, &g, &options).unwrap();
    let skipped: Vec<(&str, &str)> =
        report.skipped.iter().map(|f| (f.location.as_str(), f.reason.as_str())).collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(skipped[0].0, "line 2");
    assert_eq!(
        skipped[1],
        ("line 3", "SRID=4326 says EPSG:4326, but the source CRS (--from) is EPSG:4490")
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let ids: Vec<&str> = doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["1", "道路"]);
    // Without skip_invalid nothing is written.
    let options = ConvertOptions { encoding: Some(TextEncoding::Gbk), ..ConvertOptions::default() };
    assert!(convert(&src, &dir.path("g.geojson"), &g, &g, &options).is_err());
    assert!(!dir.path("g.geojson").exists());
}
