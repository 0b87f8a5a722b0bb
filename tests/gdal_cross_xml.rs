//! GPX and KML in conversions between formats against GDAL (feature `gdal-interop`): the same
//! KML / GPX converted into GeoJSON in a projected EPSG CRS by `ogr2ogr -s_srs EPSG:4326 -t_srs
//! EPSG:4547` and by geounify agree on every coordinate within 1 µm (and heights exactly); GDAL
//! reads the KML, KMZ and GPX geounify writes with their features, names (Chinese) and
//! coordinates (within 1e-11°).
#![cfg(feature = "gdal-interop")]

mod common;

use common::conversion::convert_skipping;
use common::crs;
use common::gdal;
use common::scratch::Scratch;
use serde_json::Value as Json;
use std::path::Path;

/// A KML on WGS84 near Beijing: a point with an altitude, a line, a polygon with a hole, a
/// multi-polygon, Chinese names and ExtendedData.
const KML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>天安门</name><ExtendedData><Data name="kind"><value>景点</value></Data></ExtendedData><Point><coordinates>116.404,39.915,44.5</coordinates></Point></Placemark>
<Placemark><name>长安街</name><LineString><coordinates>116.3,39.9 116.31,39.91 116.32,39.9</coordinates></LineString></Placemark>
<Placemark><name>地块</name><Polygon><outerBoundaryIs><LinearRing><coordinates>116,39 116.1,39 116.1,39.1 116,39</coordinates></LinearRing></outerBoundaryIs><innerBoundaryIs><LinearRing><coordinates>116.02,39.02 116.05,39.02 116.05,39.05 116.02,39.02</coordinates></LinearRing></innerBoundaryIs></Polygon></Placemark>
<Placemark><name>两块</name><MultiGeometry><Polygon><outerBoundaryIs><LinearRing><coordinates>116.2,39.2 116.3,39.2 116.3,39.3 116.2,39.2</coordinates></LinearRing></outerBoundaryIs></Polygon><Polygon><outerBoundaryIs><LinearRing><coordinates>116.4,39.4 116.5,39.4 116.5,39.5 116.4,39.4</coordinates></LinearRing></outerBoundaryIs></Polygon></MultiGeometry></Placemark>
</Document></kml>
"#;

/// A GPX on WGS84: waypoints with and without `ele`, a track with heights and two segments.
const GPX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
<wpt lat="39.915" lon="116.404"><ele>44.5</ele><name>天安门</name></wpt>
<wpt lat="31.1774276" lon="121.5272106"><ele>4.25</ele><name>上海</name></wpt>
<trk><name>轨迹</name><trkseg><trkpt lat="39.9" lon="116.3"><ele>50</ele></trkpt><trkpt lat="39.91" lon="116.31"><ele>51.5</ele></trkpt></trkseg><trkseg><trkpt lat="39.92" lon="116.32"><ele>52</ele></trkpt></trkseg></trk>
</gpx>
"#;

/// The positions of every feature's geometry in a GeoJSON file, feature by feature.
fn positions(path: &Path) -> Vec<Vec<Vec<f64>>> {
    let json: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    fn walk(v: &Json, out: &mut Vec<Vec<f64>>) {
        match v {
            Json::Array(items) if items.first().is_some_and(Json::is_number) => {
                out.push(items.iter().map(|n| n.as_f64().unwrap()).collect())
            }
            Json::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    json["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut out = Vec::new();
            walk(&f["geometry"]["coordinates"], &mut out);
            out
        })
        .collect()
}

/// Asserts the two lists of positions agree: x and y within `tolerance`, as many; z exactly
/// where both have it (GDAL reads a GPX's `ele` as a field, not as z).
fn agree(ours: &[Vec<Vec<f64>>], gdal: &[Vec<Vec<f64>>], tolerance: f64) {
    assert_eq!(ours.len(), gdal.len(), "features");
    for (k, (a, b)) in ours.iter().zip(gdal).enumerate() {
        assert_eq!(a.len(), b.len(), "feature {k}: positions");
        for (p, q) in a.iter().zip(b) {
            assert!(
                (p[0] - q[0]).abs() < tolerance && (p[1] - q[1]).abs() < tolerance,
                "{p:?} {q:?}"
            );
            if let (Some(z), Some(w)) = (p.get(2), q.get(2)) {
                assert_eq!(z, w, "heights are copied");
            }
        }
    }
}

#[test]
fn kml_into_projected_geojson_agrees_with_ogr2ogr() {
    let dir = Scratch::new("gdal-cross-kml");
    let input = dir.write("a.kml", KML);
    let theirs = dir.path("gdal.geojson");
    let ours = dir.path("ours.geojson");
    let (i, t) = (input.to_str().unwrap(), theirs.to_str().unwrap());
    gdal::run("ogr2ogr", &["-f", "GeoJSON", "-s_srs", "EPSG:4326", "-t_srs", "EPSG:4547", t, i]);
    convert_skipping(&input, &ours, &crs("EPSG:4326"), &crs("EPSG:4547"), false).unwrap();
    agree(&positions(&ours), &positions(&theirs), 1e-6);
}

#[test]
fn gpx_into_projected_geojson_agrees_with_ogr2ogr() {
    let dir = Scratch::new("gdal-cross-gpx");
    let input = dir.write("a.gpx", GPX);
    let ours = dir.path("ours.geojson");
    convert_skipping(&input, &ours, &crs("EPSG:4326"), &crs("EPSG:4547"), false).unwrap();
    let ours = positions(&ours);
    // GDAL reads GPX as layers: waypoints, then tracks (ele as z in both).
    let mut theirs = Vec::new();
    for layer in ["waypoints", "tracks"] {
        let path = dir.path(&format!("gdal-{layer}.geojson"));
        gdal::run(
            "ogr2ogr",
            &[
                "-f",
                "GeoJSON",
                "-s_srs",
                "EPSG:4326",
                "-t_srs",
                "EPSG:4547",
                path.to_str().unwrap(),
                input.to_str().unwrap(),
                layer,
            ],
        );
        theirs.extend(positions(&path));
    }
    agree(&ours, &theirs, 1e-6);
    // The heights: ours as z, GDAL's as the waypoints' ele field.
    let json: Json =
        serde_json::from_str(&std::fs::read_to_string(dir.path("gdal-waypoints.geojson")).unwrap())
            .unwrap();
    let ele: Vec<f64> = json["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["ele"].as_f64().unwrap())
        .collect();
    assert_eq!(ele, [ours[0][0][2], ours[1][0][2]]);
    assert_eq!(ele, [44.5, 4.25]);
}

/// The features GDAL reads from layer `layer` of `path`, as CSV with WKT first.
fn layer_csv(path: &Path, layer: &str) -> String {
    let p = path.to_str().unwrap();
    gdal::run("ogr2ogr", &["-f", "CSV", "-lco", "GEOMETRY=AS_WKT", "/vsistdout/", p, layer])
}

/// GDAL reads our KML, KMZ and GPX: as many features, the names, the coordinates.
#[test]
fn gdal_reads_the_kml_kmz_and_gpx_geounify_writes() {
    let dir = Scratch::new("gdal-cross-xml-out");
    let input = dir.write(
        "a.geojson",
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"天安门","人口":3},"geometry":{"type":"Point","coordinates":[116.404,39.915,44.5]}},
{"type":"Feature","properties":{"name":"故宫","人口":12},"geometry":{"type":"Point","coordinates":[116.397,39.918,43]}},
{"type":"Feature","properties":{"name":"长安街","人口":null},"geometry":{"type":"LineString","coordinates":[[116.3,39.9,1],[116.31,39.91,2]]}}]}"#,
    );
    for out in ["b.kml", "b.kmz", "b.gpx"] {
        let path = dir.path(out);
        convert_skipping(&input, &path, &crs("EPSG:4326"), &crs("EPSG:4490"), false).unwrap();
        if out == "b.gpx" {
            let waypoints = layer_csv(&path, "waypoints");
            // GDAL reads ele as a field and our <extensions> as ogr_ fields.
            assert!(
                waypoints.contains("\"POINT (116.404 39.915)\",44.5,,,,天安门,"),
                "{waypoints}"
            );
            assert!(waypoints.contains("\"POINT (116.397 39.918)\",43,,,,故宫,"), "{waypoints}");
            assert!(waypoints.contains("ogr_人口") && waypoints.contains("\"12\""), "{waypoints}");
            let routes = layer_csv(&path, "routes");
            assert!(routes.contains("116.3 39.9") && routes.contains("116.31 39.91"), "{routes}");
            assert!(routes.contains("长安街"), "{routes}");
            continue;
        }
        assert_eq!(gdal::feature_count(&path), 3, "{out}");
        let csv = gdal::read_as_csv(&path);
        for expected in [
            "POINT Z (116.404 39.915 44.5)",
            "POINT Z (116.397 39.918 43)",
            "LINESTRING Z (116.3 39.9 1,116.31 39.91 2)",
            "天安门",
            "故宫",
            "长安街",
        ] {
            assert!(csv.contains(expected), "{out}: {expected} in {csv}");
        }
        let numbers = gdal::numbers(&csv);
        for v in [116.404, 39.915, 116.31, 39.91] {
            assert!(numbers.iter().any(|n| (n - v).abs() < 1e-11), "{out}: {v}");
        }
    }
}
