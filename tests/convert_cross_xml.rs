//! GPX and KML/KMZ in conversions between formats: round trips A → B → A that give back the
//! bytes (the identity pipeline EPSG:4326 ↔ EPSG:4490, one frame, so every coordinate must come
//! back bit for bit), the GCJ-02 trap undone against the published GCJ-02 values (1e-11°, the
//! exact inverse's contract is 1e-12°), attributes and Chinese names kept, heights as z, GPX
//! into GeoPackage, refusals (polygons into GPX, projected targets) naming the feature or CRS
//! with nothing left behind, malformed and empty input.
#![cfg(feature = "formats")]

mod common;
use common::conversion::{convert, convert_skipping};
use common::crs;
use common::scratch::Scratch;
use geounify::convert::{ConvertError, ConvertOptions};

/// (WGS84 lon, lat, GCJ-02 lon, lat), degrees: the published values `tests/ops_webmaps.rs`
/// checks the operation against.
const PUBLISHED: [(f64, f64, f64, f64); 2] = [
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
];

/// A GPX in the form the writer writes, so that GPX → GeoJSON → GPX must give it back byte for
/// byte: waypoints (one with `ele`, names in Chinese, an entity, an extension field), a route,
/// a track with heights and two segments.
const GPX: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" \
creator=\"geounify\" xmlns=\"http://www.topografix.com/GPX/1/1\" \
xmlns:ogr=\"http://osgeo.org/gdal\">\n\
<wpt lat=\"39.915\" lon=\"116.404\"><ele>44.5</ele><name>天安门 &amp; 广场</name><desc>城楼</desc><extensions><ogr:类别>景点</ogr:类别></extensions></wpt>\n\
<wpt lat=\"31.1774276\" lon=\"121.5272106\"><ele>4</ele><name>上海</name></wpt>\n\
<rte><name>路线一</name><rtept lat=\"39.9\" lon=\"116.3\"><ele>50</ele></rtept><rtept lat=\"39.91\" lon=\"116.31\"><ele>51.25</ele></rtept></rte>\n\
<trk><name>轨迹</name><desc>早晨</desc><trkseg><trkpt lat=\"39.9\" lon=\"116.3\"><ele>1</ele></trkpt><trkpt lat=\"39.91\" lon=\"116.31\"><ele>2</ele></trkpt></trkseg><trkseg><trkpt lat=\"39.92\" lon=\"116.32\"><ele>3</ele></trkpt></trkseg></trk>\n\
</gpx>\n";

/// A KML in the form the writer writes: name, description with markup, ExtendedData, every
/// geometry type, a Placemark without geometry.
const KML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kml \
xmlns=\"http://www.opengis.net/kml/2.2\">\n<Document>\n\
<Placemark><name>天安门</name><description>&lt;p&gt;城楼&lt;/p&gt;</description><ExtendedData><Data name=\"类别\"><value>景点</value></Data><Data name=\"编号\"><value>007</value></Data></ExtendedData><Point><coordinates>116.404,39.915,44.5</coordinates></Point></Placemark>\n\
<Placemark><name>长安街</name><LineString><coordinates>116.3,39.9,1 116.31,39.91,2</coordinates></LineString></Placemark>\n\
<Placemark><name>地块</name><Polygon><outerBoundaryIs><LinearRing><coordinates>116,39 116.1,39 116.1,39.1 116,39</coordinates></LinearRing></outerBoundaryIs><innerBoundaryIs><LinearRing><coordinates>116.02,39.02 116.05,39.02 116.05,39.05 116.02,39.02</coordinates></LinearRing></innerBoundaryIs></Polygon></Placemark>\n\
<Placemark><name>多点</name><MultiGeometry><Point><coordinates>116,39</coordinates></Point><Point><coordinates>116.5,39.5</coordinates></Point></MultiGeometry></Placemark>\n\
<Placemark><name>多线</name><MultiGeometry><LineString><coordinates>116,39 116.1,39.1</coordinates></LineString><LineString><coordinates>116.2,39.2 116.3,39.3</coordinates></LineString></MultiGeometry></Placemark>\n\
<Placemark><name>多面</name><MultiGeometry><Polygon><outerBoundaryIs><LinearRing><coordinates>116,39 116.1,39 116.1,39.1 116,39</coordinates></LinearRing></outerBoundaryIs></Polygon><Polygon><outerBoundaryIs><LinearRing><coordinates>117,39 117.1,39 117.1,39.1 117,39</coordinates></LinearRing></outerBoundaryIs></Polygon></MultiGeometry></Placemark>\n\
<Placemark><name>集合</name><MultiGeometry><Point><coordinates>116,39</coordinates></Point><LineString><coordinates>116,39 116.1,39.1</coordinates></LineString></MultiGeometry></Placemark>\n\
<Placemark><name>无</name></Placemark>\n\
</Document>\n</kml>\n";

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn gpx_through_geojson_and_geopackage_comes_back_byte_for_byte() {
    let dir = Scratch::new("cross-xml-gpx");
    let input = dir.write("a.gpx", GPX);
    let options = ConvertOptions::default();
    for middle in ["b.geojson", "b.gpkg", "b.kml"] {
        let b = dir.path(middle);
        let back = dir.path(&format!("back-{middle}.gpx"));
        let report = convert(&input, &b, &crs("EPSG:4326"), &crs("EPSG:4490"), &options).unwrap();
        assert_eq!((report.features, report.written, report.vertices), (4, 4, 7), "{middle}");
        convert(&b, &back, &crs("EPSG:4490"), &crs("EPSG:4326"), &options).unwrap();
        if middle == "b.kml" {
            // KML has no route/track distinction nor desc: the positions and names survive.
            let text = read(&back);
            assert!(text.contains("<name>天安门 &amp; 广场</name>"), "{text}");
            assert!(text.contains("<trkpt lat=\"39.92\" lon=\"116.32\"><ele>3</ele></trkpt>"));
            continue;
        }
        assert_eq!(read(&back), GPX, "through {middle}");
    }
    // What GeoJSON holds: the mapping.
    let geojson = read(&dir.path("b.geojson"));
    assert!(geojson.contains(
        r#"{"type":"Feature","properties":{"name":"天安门 & 广场","desc":"城楼","类别":"景点"},"geometry":{"type":"Point","coordinates":[116.404,39.915,44.5]}}"#
    ), "{geojson}");
    assert!(geojson.contains(
        r#""geometry":{"type":"LineString","coordinates":[[116.3,39.9,50],[116.31,39.91,51.25]]}"#
    ));
    assert!(geojson.contains(r#""geometry":{"type":"MultiLineString","coordinates":[[[116.3,39.9,1],[116.31,39.91,2]],[[116.32,39.92,3]]]}"#));
}

#[test]
fn kml_through_geojson_geopackage_and_kmz_comes_back_byte_for_byte() {
    let dir = Scratch::new("cross-xml-kml");
    let input = dir.write("a.kml", KML);
    let options = ConvertOptions::default();
    for middle in ["b.geojson", "b.gpkg", "b.kmz"] {
        let b = dir.path(middle);
        let back = dir.path(&format!("back-{middle}.kml"));
        let report = convert(&input, &b, &crs("EPSG:4326"), &crs("EPSG:4490"), &options).unwrap();
        assert_eq!((report.features, report.written, report.empty), (8, 8, 1), "{middle}");
        convert(&b, &back, &crs("EPSG:4490"), &crs("EPSG:4326"), &options).unwrap();
        assert_eq!(read(&back), KML, "through {middle}");
    }
    let geojson = read(&dir.path("b.geojson"));
    assert!(geojson.contains(
        r#"{"type":"Feature","properties":{"name":"天安门","description":"<p>城楼</p>","类别":"景点","编号":"007"},"geometry":{"type":"Point","coordinates":[116.404,39.915,44.5]}}"#
    ), "{geojson}");
    for kind in
        ["\"MultiPoint\"", "\"MultiLineString\"", "\"MultiPolygon\"", "\"GeometryCollection\""]
    {
        assert!(geojson.contains(kind), "{kind}: {geojson}");
    }
}

/// The GCJ-02 trap undone on the way into another format: the published pairs, 1e-11°.
#[test]
fn gcj02_gpx_and_kml_into_wgs84_geojson_match_the_published_values() {
    let dir = Scratch::new("cross-xml-gcj");
    let mut gpx = String::from("<gpx version=\"1.1\">");
    let mut kml = String::from("<kml><Document>");
    for (_, _, glon, glat) in PUBLISHED {
        gpx.push_str(&format!("<wpt lat=\"{glat}\" lon=\"{glon}\"/>"));
        kml.push_str(&format!(
            "<Placemark><Point><coordinates>{glon},{glat}</coordinates></Point></Placemark>"
        ));
    }
    gpx.push_str("</gpx>");
    kml.push_str("</Document></kml>");
    for (name, text) in [("a.gpx", gpx), ("a.kml", kml)] {
        let input = dir.write(name, text);
        let out = dir.path(&format!("{name}.geojson"));
        convert_skipping(&input, &out, &crs("GCJ02"), &crs("EPSG:4326"), false).unwrap();
        let json: serde_json::Value = serde_json::from_str(&read(&out)).unwrap();
        for (f, (lon, lat, _, _)) in json["features"].as_array().unwrap().iter().zip(PUBLISHED) {
            let c = &f["geometry"]["coordinates"];
            let (x, y) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
            assert!((x - lon).abs() < 1e-11 && (y - lat).abs() < 1e-11, "{name}: {x} {y}");
        }
        // And back into the same format in GCJ-02: the published GCJ-02 values again.
        let back = dir.path(&format!("back-{name}"));
        let report =
            convert_skipping(&out, &back, &crs("EPSG:4326"), &crs("GCJ02"), false).unwrap();
        assert!(
            report.warnings.iter().any(|w| w.contains("WGS84 by definition")),
            "{:?}",
            report.warnings
        );
        let numbers: Vec<f64> = read(&back)
            .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .filter_map(|t| t.parse().ok())
            .collect();
        for (_, _, glon, glat) in PUBLISHED {
            for v in [glon, glat] {
                assert!(
                    numbers.iter().any(|n| (n - v).abs() < 1e-11),
                    "{name}: {v} in {numbers:?}"
                );
            }
        }
    }
}

#[test]
fn geojson_into_gpx_refuses_polygons_naming_the_feature_and_leaves_nothing() {
    let dir = Scratch::new("cross-xml-refuse");
    let input = dir.write(
        "a.geojson",
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"名称":"点"},"geometry":{"type":"Point","coordinates":[116.4,39.9]}},
{"type":"Feature","properties":{"名称":"面"},"geometry":{"type":"Polygon","coordinates":[[[116,39],[116.1,39],[116.1,39.1],[116,39]]]}}]}"#,
    );
    let output = dir.path("b.gpx");
    let err =
        convert_skipping(&input, &output, &crs("EPSG:4326"), &crs("EPSG:4326"), false).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConvertError::Options { .. }), "{text}");
    assert!(text.contains("feature 2 is a Polygon, which cannot be written in GPX"), "{text}");
    assert_eq!(dir.listing(), ["a.geojson"]);

    // A projected target cannot be written in GPX or KML; a projected input cannot be read.
    for out in ["b.gpx", "b.kml", "b.kmz"] {
        let err =
            convert_skipping(&input, &dir.path(out), &crs("EPSG:4326"), &crs("EPSG:4547"), false)
                .unwrap_err()
                .to_string();
        assert!(err.contains("the target CRS EPSG:4547 is not"), "{err}");
    }
    let gpx = dir.write("c.gpx", "<gpx><wpt lat=\"1\" lon=\"2\"/></gpx>");
    let err =
        convert_skipping(&gpx, &dir.path("c.geojson"), &crs("EPSG:4547"), &crs("EPSG:4326"), false)
            .unwrap_err()
            .to_string();
    assert!(err.contains("the source CRS EPSG:4547 is not"), "{err}");
    assert_eq!(dir.listing(), ["a.geojson", "c.gpx"]);
}

#[test]
fn heights_are_z_and_a_mix_fails_its_feature() {
    let dir = Scratch::new("cross-xml-heights");
    let gpx = dir.write(
        "a.gpx",
        "<gpx>\n<trk><name>好</name><trkseg><trkpt lat=\"39.9\" lon=\"116.3\"/></trkseg></trk>\n\
         <trk><name>坏</name><trkseg><trkpt lat=\"39.9\" lon=\"116.3\"><ele>1</ele></trkpt><trkpt lat=\"39.91\" lon=\"116.31\"/></trkseg></trk>\n\
         <wpt lat=\"95\" lon=\"116\"/>\n</gpx>",
    );
    let out = dir.path("a.geojson");
    let err =
        convert_skipping(&gpx, &out, &crs("EPSG:4326"), &crs("EPSG:4490"), false).unwrap_err();
    let ConvertError::PointsFailed { failures, .. } = err else { panic!("{err}") };
    let listed: Vec<String> =
        failures.iter().map(|f| format!("{}: {}", f.location, f.reason)).collect();
    assert_eq!(
        listed,
        [
            "line 3, trk 2: 1 of its 2 points have <ele> and the others none: a height cannot be invented or dropped",
            "line 4, wpt 1: line 4: lat 95 is beyond ±90°",
        ]
    );
    assert!(!out.exists());
    let report = convert_skipping(&gpx, &out, &crs("EPSG:4326"), &crs("EPSG:4490"), true).unwrap();
    assert_eq!((report.features, report.written), (3, 1));
    assert!(read(&out).contains("\"name\":\"好\""));

    let kml = dir.write(
        "a.kml",
        "<kml><Placemark><LineString><coordinates>116,39,1 116.1,39.1</coordinates></LineString></Placemark></kml>",
    );
    let err =
        convert_skipping(&kml, &dir.path("k.geojson"), &crs("EPSG:4326"), &crs("EPSG:4490"), false)
            .unwrap_err()
            .to_string();
    assert!(err.contains("line 1, Placemark 1: tuples with and without an altitude"), "{err}");
}

#[test]
fn malformed_and_empty_inputs() {
    let dir = Scratch::new("cross-xml-bad");
    let empty = dir.write("e.gpx", "<?xml version=\"1.0\"?>\n<gpx version=\"1.1\"/>\n");
    let report = convert_skipping(
        &empty,
        &dir.path("e.geojson"),
        &crs("EPSG:4490"),
        &crs("EPSG:4326"),
        false,
    )
    .unwrap();
    assert_eq!(report.features, 0);
    assert_eq!(read(&dir.path("e.geojson")), "{\"type\":\"FeatureCollection\",\"features\":[]}\n");

    for (name, text, expected) in [
        (
            "b.kml",
            "<kml>\n<Placemark>\n</kml>",
            "line 3: </kml> closes <Placemark> opened at line 2",
        ),
        ("c.gpx", "<kml/>", "not a GPX file"),
        ("d.kml", "", "the file is empty"),
    ] {
        let input = dir.write(name, text);
        let out = dir.path(&format!("{name}.geojson"));
        let err = convert_skipping(&input, &out, &crs("EPSG:4326"), &crs("EPSG:4490"), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{name}: {err}");
        assert!(!out.exists());
    }
    let kmz = dir.write("f.kmz", b"PK not a zip");
    let err =
        convert_skipping(&kmz, &dir.path("f.geojson"), &crs("EPSG:4326"), &crs("EPSG:4490"), false)
            .unwrap_err()
            .to_string();
    assert!(err.contains("not a KMZ (zip) archive"), "{err}");
    let names: Vec<String> =
        dir.listing().into_iter().filter(|n| n.ends_with(".geojson")).collect();
    assert_eq!(names, ["e.geojson"]);
}
