//! GeoJSON and newline-delimited GeoJSON conversion: every geometry type, foreign members,
//! properties kept byte for byte, 3D, bbox and crs members, streaming, errors, round trips.
#![cfg(feature = "formats")]

mod common;
use common::scratch::Scratch;
use common::{conversion::convert, crs};
use geounify::convert::geojson::{convert_reader, convert_seq_reader, convert_str};
use geounify::convert::{ConvertError, ConvertOptions};
use geounify::{Heights, Registry, Transformer};
use proptest::prelude::*;
use serde_json::Value;
use std::path::Path;

fn city() -> Registry {
    let mut registry = Registry::new();
    registry.load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml")).unwrap();
    registry
}

fn options() -> ConvertOptions {
    ConvertOptions::default()
}

/// `text` with every `coordinates` and `bbox` value replaced by `#`, and the `crs` member
/// removed: what must be byte-identical between an input and its conversion.
fn mask(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    loop {
        let next = ["\"coordinates\":", "\"bbox\":", ",\"crs\":", "\"crs\":"]
            .iter()
            .filter_map(|k| rest.find(k).map(|i| (i, *k)))
            .min();
        let Some((i, key)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..i]);
        let after = &rest[i + key.len()..];
        let end = value_end(after);
        if key.contains("crs") {
            let mut tail = &after[end..];
            if !key.starts_with(',') {
                tail = tail.strip_prefix(',').unwrap_or(tail);
            }
            rest = tail;
        } else {
            out.push_str(key);
            out.push('#');
            // The padding of a top-level bbox written in its reserved space.
            rest = after[end..].trim_start_matches(' ');
        }
    }
}

/// The length of the JSON value (an array, object or scalar) at the start of `text`.
fn value_end(text: &str) -> usize {
    let mut depth = 0;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            ',' if depth == 0 => return i,
            _ => {}
        }
    }
    text.len()
}

/// Every position of a document, in order (number elements only), read from the text with
/// Rust's exact `f64` parser (serde_json's default float parsing may be 1 ulp off).
fn positions(text: &str) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    for (i, key) in text.match_indices("\"coordinates\":") {
        let rest = &text[i + key.len()..];
        let value = &rest[..value_end(rest)];
        let (mut current, mut token, mut in_string) = (Vec::new(), String::new(), false);
        for c in value.chars() {
            if in_string {
                in_string = c != '"';
                continue;
            }
            match c {
                '"' => in_string = true,
                '[' => {
                    current.clear();
                    token.clear();
                }
                ',' | ']' => {
                    if let Ok(v) = token.trim().parse::<f64>() {
                        current.push(v);
                    }
                    token.clear();
                    if c == ']' && !current.is_empty() {
                        out.push(std::mem::take(&mut current));
                    }
                }
                _ => token.push(c),
            }
        }
    }
    out
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// A FeatureCollection with every geometry type, written the way geounify writes (compact
/// objects, one feature per line), so that a round trip must give back the same bytes apart
/// from coordinates. Positions are around `(x0, y0)` with steps `d`.
fn all_types(x0: f64, y0: f64, d: f64) -> String {
    let p = |i: u32| format!("[{},{}]", x0 + d * f64::from(i), y0 + d * f64::from(i * i % 7));
    let p3 = |i: u32| {
        format!("[{},{},{}]", x0 + d * f64::from(i), y0 - d * f64::from(i), 40.5 + f64::from(i))
    };
    let ring = format!("[{},{},{},{}]", p(0), p(1), p(3), p(0));
    let hole = format!("[{},{},{},{}]", p(4), p(5), p(6), p(4));
    let features = [
        format!(
            r#"{{"type":"Feature","id":"A-17","properties":{{"名称":"北京市\u5e02 \"引号\"","面积":1.2345678901234567890123,"n":100000000000000000000001,"e":1E-400,"nested":{{"a":[1,2.50,{{"b":null}}],"t":true}}}},"geometry":{{"type":"Point","coordinates":{}}}}}"#,
            p(1)
        ),
        format!(
            r#"{{"type":"Feature","id":17,"bbox":[0,0,0,0],"properties":{{}},"geometry":{{"type":"MultiPoint","coordinates":[{},{}]}},"foreign":{{"x":[1.0]}}}}"#,
            p(2),
            p(3)
        ),
        format!(
            r#"{{"type":"Feature","properties":{{"k":"v"}},"geometry":{{"type":"LineString","bbox":[1,2,3,4],"coordinates":[{},{},{}],"geometry_foreign":"g"}}}}"#,
            p(1),
            p(2),
            p(4)
        ),
        format!(
            r#"{{"type":"Feature","properties":null,"geometry":{{"type":"MultiLineString","coordinates":[[{},{}],[{},{}]]}}}}"#,
            p(1),
            p(2),
            p(3),
            p(4)
        ),
        format!(
            r#"{{"type":"Feature","properties":{{"hole":true}},"geometry":{{"type":"Polygon","coordinates":[{ring},{hole}]}}}}"#
        ),
        format!(
            r#"{{"type":"Feature","properties":{{"z":"3D"}},"bbox":[0,0,0,0,0,0],"geometry":{{"type":"MultiPolygon","coordinates":[[[{},{},{},{}]],[]]}}}}"#,
            p3(0),
            p3(1),
            p3(2),
            p3(0)
        ),
        format!(
            r#"{{"type":"Feature","properties":{{"extra":"m"}},"geometry":{{"type":"LineString","coordinates":[[{},{},7,"m",1.50],[{},{},8,null]]}}}}"#,
            x0,
            y0,
            x0 + d,
            y0 + d
        ),
        format!(
            r#"{{"type":"Feature","properties":{{"gc":1}},"geometry":{{"type":"GeometryCollection","geometries":[{{"type":"Point","coordinates":{}}},{{"type":"GeometryCollection","geometries":[{{"type":"LineString","coordinates":[{},{}]}},{{"type":"Point","coordinates":[]}}]}}]}}}}"#,
            p(5),
            p(6),
            p(7)
        ),
        r#"{"type":"Feature","id":"null-geom","properties":{"空":""},"geometry":null}"#.to_string(),
        r#"{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[]}}"#
            .to_string(),
    ];
    format!(
        "{{\"type\":\"FeatureCollection\",\"name\":\"测试\",\"bbox\":[0,0,0,0],\"features\":[\n{}\n],\"foreign_after\":{{\"a\":\"b\"}}}}\n",
        features.join(",\n")
    )
}

/// The largest horizontal distance (metres) and height difference between two sets of
/// geographic positions (degrees, small distances: local flat-earth metres).
fn max_error_geographic(a: &[Vec<f64>], b: &[Vec<f64>]) -> (f64, f64) {
    assert_eq!(a.len(), b.len());
    let (mut horizontal, mut vertical) = (0.0f64, 0.0f64);
    for (p, q) in a.iter().zip(b) {
        assert_eq!(p.len(), q.len());
        let m = 111_320.0;
        let dx = (p[0] - q[0]) * m * p[1].to_radians().cos();
        let dy = (p[1] - q[1]) * m;
        horizontal = horizontal.max(dx.hypot(dy));
        if p.len() > 2 {
            vertical = vertical.max((p[2] - q[2]).abs());
        }
        for (u, v) in p.iter().zip(q).skip(3) {
            assert_eq!(u, v, "extra elements unchanged");
        }
    }
    (horizontal, vertical)
}

#[test]
fn round_trip_4326_4548_4326_keeps_everything_within_a_millimetre() {
    let dir = Scratch::new("rt4548");
    let (a, b, c) = (dir.path("a.geojson"), dir.path("b.geojson"), dir.path("c.geojson"));
    let input = all_types(116.391_234_567_89, 39.907_654_321, 0.013_7);
    std::fs::write(&a, &input).unwrap();
    let r1 = convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &options()).unwrap();
    assert_eq!((r1.features, r1.written, r1.empty), (10, 10, 2));
    assert_eq!(r1.outputs, vec![b.clone()]);
    assert!(r1.warnings.iter().any(|w| w.contains("RFC 7946")), "{:?}", r1.warnings);
    let middle = read(&b);
    // GDAL's crs member, before "features"; the top-level bbox written in place.
    assert!(
        middle.starts_with("{\"type\":\"FeatureCollection\",\"name\":\"测试\",\"bbox\":[4"),
        "{middle}"
    );
    assert!(middle.contains(
        ",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::4548\"}},\"features\":["
    ));
    let r2 = convert(&b, &c, &crs("EPSG:4548"), &crs("EPSG:4326"), &options()).unwrap();
    assert!(r2.warnings.is_empty(), "{:?}", r2.warnings);
    assert_eq!(r1.vertices, r2.vertices);
    let output = read(&c);
    // Everything but coordinates and bbox is byte-identical, including whitespace (the input is
    // written in geounify's layout) and the padding of the top-level bbox.
    assert_eq!(mask(&output), mask(&input));
    let (horizontal, vertical) = max_error_geographic(&positions(&input), &positions(&output));
    // Gauss-Krüger forward + inverse on the same ellipsoid: measured ~1e-9 m; 1 mm is the
    // contract.
    assert!(horizontal < 1e-3 && vertical < 1e-3, "{horizontal} m, {vertical} m");
    eprintln!("4326→4548→4326: max horizontal {horizontal:e} m, vertical {vertical:e} m");
}

#[test]
fn converted_coordinates_match_proj_vectors() {
    // PROJ 9.6.2 (tests/data/proj_vectors.csv, "zone,EPSG:4490,EPSG:4548" rows): the transformer
    // agrees with PROJ to well under a micrometre; the file path must not lose any of it (the
    // numbers are written in shortest round-trip form), so the tolerance is 1 µm.
    let vectors = [
        (116.25805597456257, 41.78133323832381, 438319.1747608348, 4627615.408161993),
        (118.1186473194032, 47.543123647930265, 584213.3730203622, 5268235.963922962),
        (117.16123354816084, 35.93449624758556, 514549.42990275053, 3978286.4930449156),
    ];
    let coords: Vec<String> = vectors.iter().map(|v| format!("[{},{}]", v.0, v.1)).collect();
    let doc = format!(
        r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"LineString","coordinates":[{}]}}}}"#,
        coords.join(",")
    );
    let t = Transformer::from_ids("EPSG:4490", "EPSG:4548").unwrap();
    let (out, report) = convert_str(&doc, &t, &options()).unwrap();
    assert_eq!(report.vertices, 3);
    for (p, v) in positions(&out).iter().zip(vectors) {
        assert!((p[0] - v.2).abs() < 1e-6 && (p[1] - v.3).abs() < 1e-6, "{p:?} vs {v:?}");
    }
}

#[test]
fn round_trips_gcj02_and_a_city_grid() {
    let dir = Scratch::new("rtcity");
    // GCJ02 → EPSG:4490 → GCJ02: the GCJ-02 inverse is iterative (converges to ~1e-9°).
    let (a, b, c) = (dir.path("a.geojson"), dir.path("b.geojson"), dir.path("c.geojson"));
    let input = all_types(121.473_701, 31.230_416, 0.021);
    std::fs::write(&a, &input).unwrap();
    let r = convert(&a, &b, &crs("GCJ02"), &crs("EPSG:4490"), &options()).unwrap();
    assert!(read(&b).contains("urn:ogc:def:crs:EPSG::4490"));
    assert!(r.warnings.iter().any(|w| w.contains("RFC 7946")));
    let r = convert(&b, &c, &crs("EPSG:4490"), &crs("GCJ02"), &options()).unwrap();
    assert!(r.warnings.iter().any(|w| w.contains("no EPSG code")), "{:?}", r.warnings);
    let output = read(&c);
    assert!(output.contains(r#""crs":{"type":"name","properties":{"name":"GCJ02"}}"#));
    assert_eq!(mask(&output), mask(&input));
    let (h, v) = max_error_geographic(&positions(&input), &positions(&output));
    assert!(h < 1e-3 && v < 1e-3, "GCJ02 round trip: {h} m, {v} m");
    eprintln!("GCJ02→4490→GCJ02: max horizontal {h:e} m, vertical {v:e} m");

    // city:old-grid → EPSG:4548 → city:old-grid (Beijing 1954 Helmert shift, then a 4-parameter
    // planar grid). The input positions are made in the grid from WGS84 points near 116.9E 39.9N.
    let registry = city();
    let grid = registry.lookup("city:old-grid").unwrap();
    let to_grid = Transformer::new(&crs("EPSG:4326"), &grid).unwrap();
    let (x0, y0) = to_grid.transform_xy(116.9, 39.9).unwrap();
    let input = all_types(x0, y0, 731.25);
    let (a, b, c) = (dir.path("g.geojson"), dir.path("h.geojson"), dir.path("i.geojson"));
    std::fs::write(&a, &input).unwrap();
    // Heights said to be ellipsoidal go through the datum shift with the point.
    let ellipsoidal = ConvertOptions { heights: Heights::Ellipsoidal, ..options() };
    convert(&a, &b, &grid, &crs("EPSG:4548"), &ellipsoidal).unwrap();
    let r = convert(&b, &c, &crs("EPSG:4548"), &grid, &ellipsoidal).unwrap();
    assert!(r.warnings.iter().any(|w| w.contains("no EPSG code")));
    let output = read(&c);
    assert!(output.contains(r#""name":"city:old-grid""#));
    assert_eq!(mask(&output), mask(&input));
    // 3D positions (a height given) go back within 1 mm. 2D positions cannot: a 2D conversion
    // across datums takes the height as 0 on the source datum and drops the result, so the way
    // back starts from height 0 on CGCS2000, which is another point (the Beijing 1954 and
    // CGCS2000 ellipsoid normals differ by ~2e-5 rad here). That is the transformer's 2D
    // semantics, not the file path: the file gives exactly the Transformer's own round trip.
    let leg = |s: &geounify::Crs, t: &geounify::Crs, h| Transformer::with_heights(s, t, h).unwrap();
    let (there, back) = (
        leg(&grid, &crs("EPSG:4548"), Heights::Ellipsoidal),
        leg(&crs("EPSG:4548"), &grid, Heights::Ellipsoidal),
    );
    let (mut e3, mut e2, mut file_vs_direct) = (0.0f64, 0.0f64, 0.0f64);
    for (p, q) in positions(&input).iter().zip(positions(&output)) {
        let direct = if p.len() >= 3 {
            let r = back.transform(there.transform([p[0], p[1], p[2]]).unwrap()).unwrap();
            e3 = e3.max((p[0] - q[0]).hypot(p[1] - q[1])).max((p[2] - q[2]).abs());
            r
        } else {
            let (x, y) = there.transform_xy(p[0], p[1]).unwrap();
            let (x, y) = back.transform_xy(x, y).unwrap();
            e2 = e2.max((p[0] - q[0]).hypot(p[1] - q[1]));
            [x, y, 0.0]
        };
        file_vs_direct = file_vs_direct.max((direct[0] - q[0]).abs()).max((direct[1] - q[1]).abs());
    }
    assert_eq!(file_vs_direct, 0.0, "the file path adds nothing to the transformer's numbers");
    assert!(e3 < 1e-3, "city grid 3D round trip: {e3} m");
    // Measured 2.1 mm; bounded here by the ellipsoid-normal argument (< 5 mm).
    assert!(e2 < 5e-3, "city grid 2D round trip: {e2} m");
    eprintln!("city:old-grid→4548→city:old-grid: 3D max {e3:e} m, 2D max {e2:e} m");
    // As elevations (the default) every height comes back exactly as written and every
    // position, with or without a height, takes the 2D transformer's plane coordinates.
    convert(&a, &b, &grid, &crs("EPSG:4548"), &options()).unwrap();
    convert(&b, &c, &crs("EPSG:4548"), &grid, &options()).unwrap();
    let (there, back) = (
        leg(&grid, &crs("EPSG:4548"), Heights::Elevation),
        leg(&crs("EPSG:4548"), &grid, Heights::Elevation),
    );
    let mid = read(&b);
    let output = read(&c);
    assert_eq!(mask(&output), mask(&input));
    for ((p, m), q) in positions(&input).iter().zip(positions(&mid)).zip(positions(&output)) {
        assert_eq!(p.len(), q.len());
        let (x, y) = there.transform_xy(p[0], p[1]).unwrap();
        assert_eq!(m[..2], [x, y]);
        let (x, y) = back.transform_xy(m[0], m[1]).unwrap();
        assert_eq!(q[..2], [x, y]);
        assert_eq!(p[2..], q[2..], "the height is copied");
        assert_eq!(p[2..], m[2..], "the height is copied");
    }
}

#[test]
fn the_empty_pipeline_keeps_every_digit() {
    // EPSG:4326 → EPSG:4490 is no operation at all: shortest round-trip output gives back the
    // very digits of the input (which are in shortest form).
    let input = all_types(116.391_234_567_891_23, 39.907_654_321_012_3, 0.000_001_7);
    let t = Transformer::from_ids("EPSG:4326", "EPSG:4490").unwrap();
    assert!(t.steps().is_empty());
    let (out, report) = convert_str(&input, &t, &options()).unwrap();
    let crs = r#","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4490"}}"#;
    assert!(out.contains(crs));
    // Only the bboxes (recomputed) and the inserted crs differ.
    assert_eq!(mask(&out.replace(crs, "")), mask(&input));
    let coordinates = |s: &str| -> Vec<String> {
        s.match_indices("\"coordinates\":")
            .map(|(i, k)| {
                let rest = &s[i + k.len()..];
                rest[..value_end(rest)].to_string()
            })
            .collect()
    };
    assert_eq!(coordinates(&out), coordinates(&input));
    assert_eq!((report.vertices, report.empty), (27, 2));
}

#[test]
fn bboxes_are_recomputed_at_every_level() {
    let doc = r#"{"bbox":[0,0,0,0,0,0],"type":"FeatureCollection","features":[{"type":"Feature","bbox":[9,9,9,9],"geometry":{"type":"LineString","bbox":[1,1,1,1],"coordinates":[[116,39,10],[117,40,20]]},"properties":{}},{"type":"Feature","geometry":{"type":"Point","coordinates":[118,38]},"properties":{},"bbox":[0,0,0,0]}],"bbox":[5,5,5,5]}"#;
    let t = Transformer::from_ids("EPSG:4326", "EPSG:3857").unwrap();
    let p = |x: f64, y: f64, z: f64| t.transform([x, y, z]).unwrap();
    let (a, b) = (p(116.0, 39.0, 10.0), p(117.0, 40.0, 20.0));
    let (a, b) = ((a[0], a[1]), (b[0], b[1]));
    let c = t.transform_xy(118.0, 38.0).unwrap();
    let n = |v: f64| geounify::convert::text::Number(v).to_string();
    let (out, report) = convert_str(doc, &t, &options()).unwrap();
    let v = parse(&out);
    let bbox4 =
        |p: (f64, f64), q: (f64, f64)| format!("[{},{},{},{}]", n(p.0), n(p.1), n(q.0), n(q.1));
    // 3D positions: converted as 3D (Web Mercator keeps the height); the bbox of the input had
    // 4 numbers, so has the output's.
    let f0 = v["features"][0].to_string();
    assert!(out.contains(&format!("\"bbox\":{},\"coordinates\"", bbox4(a, b))), "{out}");
    assert!(out.contains(&format!("{{\"type\":\"Feature\",\"bbox\":{},", bbox4(a, b))), "{f0}");
    assert!(out.contains(&format!("\"properties\":{{}},\"bbox\":{}}}", bbox4(c, c))), "{out}");
    // The top-level one: 6 numbers, heights from the 3D positions; written in its reserved
    // space at the start (padded with spaces).
    let top = format!("[{},{},{},{},{},{}]", n(a.0), n(c.1), 10, n(c.0), n(b.1), 20);
    assert!(out.starts_with(&format!("{{\"bbox\":{top},")), "{out}");
    assert!(out.contains(&format!("],\"bbox\":[{},{},{},{}]}}", n(a.0), n(c.1), n(c.0), n(b.1))));
    assert_eq!(report.warnings.len(), 1, "RFC 7946 only: {:?}", report.warnings);

    // A stream cannot seek back: the bbox moves after "features", with a warning.
    let mut streamed = Vec::new();
    let report = convert_reader(doc.as_bytes(), &mut streamed, &t, &options()).unwrap();
    let streamed = String::from_utf8(streamed).unwrap();
    assert!(report.warnings.iter().any(|w| w.contains("moved after")), "{:?}", report.warnings);
    assert!(streamed.starts_with("{\"type\":\"FeatureCollection\",\"crs\":"), "{streamed}");
    assert!(streamed.contains(&format!("\n],\"bbox\":{top},\"bbox\":[")));
    assert_eq!(parse(&streamed)["features"], v["features"]);
}

#[test]
fn crs_member_replaced_dropped_or_added() {
    let with_crs = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[116.4,39.9]}}]}"#;
    // To EPSG:4326: dropped, no warning about the output. The declaration (WGS 84) is checked
    // against the source (CGCS2000) as convert_file checks it (issue 11 leftovers: the
    // in-memory APIs check declared CRSs too): one frame, a warning, not a refusal.
    let t = Transformer::from_ids("EPSG:4490", "EPSG:4326").unwrap();
    let (out, report) = convert_str(with_crs, &t, &options()).unwrap();
    assert!(!out.contains("crs"), "{out}");
    assert_eq!(
        report.warnings,
        ["the \"crs\" member declares WGS 84 on a = 6378137 m, 1/f = 298.257223563, EPSG:4490 is \
          on China 2000: geounify treats WGS 84 and CGCS2000 as one frame (they agree to a few \
          centimetres), so this is not a contradiction; converting as EPSG:4490"]
    );
    // To EPSG:4547: replaced in place.
    let t = Transformer::from_ids("EPSG:4326", "EPSG:4547").unwrap();
    let (out, _) = convert_str(with_crs, &t, &options()).unwrap();
    assert!(out.starts_with(r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4547"}},"features":["#), "{out}");
    assert_eq!(out.matches("\"crs\"").count(), 1);
    // A crs member after the features is replaced only once (it was written before them).
    let late = r#"{"type":"FeatureCollection","features":[],"crs":{"type":"name","properties":{"name":"x"}}}"#;
    let (out, report) = convert_str(late, &t, &options()).unwrap();
    assert_eq!(out, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::4547\"}},\"features\":[]}\n");
    assert_eq!((report.features, report.written), (0, 0));
    // Top-level Feature and bare Geometry documents get one too (before the geometry).
    let (out, report) =
        convert_str(r#"{"type":"Point","coordinates":[116.4,39.9],"x":1}"#, &t, &options())
            .unwrap();
    assert!(out.starts_with(r#"{"type":"Point","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4547"}},"coordinates":[7"#), "{out}");
    assert!(out.ends_with(",\"x\":1}\n"));
    assert_eq!((report.features, report.vertices), (1, 1));
    let feature = r#"{"type":"Feature","id":5,"properties":{"a":"甲"},"geometry":{"type":"Point","coordinates":[116.4,39.9,50]}}"#;
    let (out, _) = convert_str(feature, &t, &options()).unwrap();
    assert!(
        out.starts_with(r#"{"type":"Feature","id":5,"properties":{"a":"甲"},"crs":{"#),
        "{out}"
    );
    let v = parse(&out);
    assert_eq!(v["geometry"]["coordinates"].as_array().unwrap().len(), 3);
}

#[test]
fn newline_delimited_geojson() {
    let dir = Scratch::new("seq");
    let (a, b, c) = (dir.path("a.geojsonl"), dir.path("b.geojsonl"), dir.path("c.geojsonl"));
    let input = concat!(
        "\x1e{\"type\":\"Feature\",\"id\":\"一\",\"properties\":{\"v\":1.10},\"geometry\":{\"type\":\"Point\",\"coordinates\":[116.4,39.9]}}\n",
        "\n",
        "   \r\n",
        "{\"type\":\"Feature\",\"properties\":{},\"geometry\":null}\r\n",
        "{\"type\":\"Polygon\",\"coordinates\":[[[116,39],[117,39],[117,40],[116,39]]]}\n",
        "\x1e{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[116.1,39.1,12.5]}}",
    );
    std::fs::write(&a, input).unwrap();
    let r = convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &options()).unwrap();
    assert_eq!((r.features, r.written, r.empty, r.vertices), (4, 4, 1, 6));
    let middle = read(&b);
    assert_eq!(middle.lines().count(), input.lines().count());
    assert!(!middle.contains("crs"), "NDJSON records get no crs member added");
    let r = convert(&b, &c, &crs("EPSG:4548"), &crs("EPSG:4326"), &options()).unwrap();
    assert!(r.warnings.is_empty());
    let output = read(&c);
    assert_eq!(mask(&output), mask(input));
    let pos = |s: &str| -> Vec<Vec<f64>> {
        s.lines()
            .map(|l| l.trim_start_matches('\x1e'))
            .filter(|l| !l.trim().is_empty())
            .flat_map(positions)
            .collect()
    };
    let (h, v) = max_error_geographic(&pos(input), &pos(&output));
    assert!(h < 1e-3 && v < 1e-3, "{h} {v}");

    // Failures and malformed records are located by line.
    let bad = "{\"type\":\"Point\",\"coordinates\":[116,39]}\n\n{\"type\":\"Point\",\"coordinates\":[116,95]}\n";
    let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
    match convert_seq_reader(bad.as_bytes(), Vec::new(), &t, &options()) {
        Err(ConvertError::PointsFailed { failures, total, .. }) => {
            assert_eq!(total, 1);
            assert_eq!(failures[0].location, "line 3");
            assert_eq!(failures[0].reason, "latitude 95° is beyond ±90°");
        }
        other => panic!("{other:?}"),
    }
    let skip = ConvertOptions { skip_invalid: true, ..options() };
    let mut out = Vec::new();
    let r = convert_seq_reader(bad.as_bytes(), &mut out, &t, &skip).unwrap();
    assert_eq!((r.features, r.written, r.skipped.len()), (2, 1, 1));
    assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2, "the failed line is left out");
    match convert_seq_reader(
        "{}\n{\"type\":\"Point\",\"coordinates\":[1,2]\n".as_bytes(),
        Vec::new(),
        &t,
        &options(),
    ) {
        Err(ConvertError::Malformed { location, message, .. }) => {
            assert_eq!(location, "line 1");
            assert!(message.contains("GeoJSON \"type\""), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match convert_seq_reader("{\"type\":\"Point\",\"coordinates\":[116,39]}\n\x1e{\"type\":\"Point\",\"coordinates\":[1,2]\n".as_bytes(), Vec::new(), &t, &options()) {
        Err(ConvertError::Malformed { location, .. }) => assert_eq!(location, "line 2, column 36"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn failing_points_fail_the_file_or_are_skipped() {
    let dir = Scratch::new("fail");
    let input = dir.path("in.geojson");
    let output = dir.path("out.geojson");
    std::fs::write(&output, "old").unwrap();
    let doc = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","id":"A","properties":{},"geometry":{"type":"Point","coordinates":[116.4,39.9]}},
{"type":"Feature","id":"B","properties":{},"geometry":{"type":"LineString","coordinates":[[116.4,39.9],[116.4,95]]}},
{"type":"Feature","id":3,"properties":{},"geometry":{"type":"Point","coordinates":[116.4,-91]}},
{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[116.4,1e400]}}
]}"#;
    std::fs::write(&input, doc).unwrap();
    let force = ConvertOptions { force: true, ..options() };
    match convert(&input, &output, &crs("EPSG:4326"), &crs("EPSG:4548"), &force) {
        Err(ConvertError::PointsFailed { failures, total, .. }) => {
            assert_eq!(total, 3);
            let locations: Vec<&str> = failures.iter().map(|f| f.location.as_str()).collect();
            assert_eq!(locations, ["feature 2 (id \"B\")", "feature 3 (id 3)", "feature 4"]);
            assert_eq!(failures[2].reason, "coordinate is NaN or infinite");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(read(&output), "old", "nothing written");
    assert_eq!(dir.listing(), ["in.geojson", "out.geojson"], "no temporary file left");
    let skip = ConvertOptions { skip_invalid: true, ..force };
    let r = convert(&input, &output, &crs("EPSG:4326"), &crs("EPSG:4548"), &skip).unwrap();
    assert_eq!((r.features, r.written, r.skipped.len()), (4, 1, 3));
    let v = parse(&read(&output));
    assert_eq!(v["features"].as_array().unwrap().len(), 1);
    assert_eq!(v["features"][0]["id"], "A");
    // A top-level Feature has no collection to leave it out of: the file fails.
    let one = r#"{"type":"Feature","id":"X","properties":{},"geometry":{"type":"Point","coordinates":[1,95]}}"#;
    std::fs::write(&input, one).unwrap();
    match convert(&input, &output, &crs("EPSG:4326"), &crs("EPSG:4548"), &skip) {
        Err(ConvertError::PointsFailed { failures, .. }) => {
            assert_eq!(failures[0].location, "feature 1 (id \"X\")")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_documents_are_errors_and_write_nothing() {
    let dir = Scratch::new("malformed");
    let input = dir.path("in.geojson");
    let output = dir.path("out.geojson");
    let cases: &[(&str, &str, &str)] = &[
        // (document, location, part of the message)
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":null,"properties":{}},"#,
            "line 1, column 91",
            "EOF",
        ),
        (
            "{\"type\":\"FeatureCollection\",\n\"features\":[}",
            "line 2, column 13",
            "expected value",
        ),
        (
            r#"{"type":"FeatureCollection","features":[]} x"#,
            "line 1, column 44",
            "trailing characters",
        ),
        (r#"[1,2]"#, "line 1, column 1", "a GeoJSON object"),
        (
            r#"{"type":"FeatureCollection","features":{}}"#,
            "line 1, column 40",
            "an array of features",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"p","properties":{},"geometry":{"type":"Polygon","coordinates":[[116,39],[117,40]]}}]}"#,
            "feature 1 (id \"p\")",
            "Polygon coordinates: expected an array of positions, found [116,39]",
        ),
        (
            r#"{"type":"FeatureCollection","features":[null,{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[116]}}]}"#,
            "feature 1",
            "expected a JSON object",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[116]}}]}"#,
            "feature 1",
            "a position needs at least 2 numbers, found [116]",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"MultiPoint","coordinates":[[116,"39"]]}}]}"#,
            "feature 1",
            "\"39\" is not a number",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Hexagon","coordinates":[]}}]}"#,
            "feature 1",
            "unknown type \"Hexagon\"",
        ),
        (r#"{"type":"FeatureCollection","name":"x"}"#, "line 1", "without \"features\""),
        (r#"{"type":"Point","coordinates":[116,39,"h"]}"#, "feature 1", "\"h\" is not a number"),
    ];
    for (doc, location, message) in cases {
        std::fs::write(&input, doc).unwrap();
        let force = ConvertOptions { force: true, ..options() };
        match convert(&input, &output, &crs("EPSG:4326"), &crs("EPSG:4548"), &force) {
            Err(ConvertError::Malformed { location: l, message: m, .. }) => {
                assert_eq!(&l, location, "{doc}: {m}");
                assert!(m.contains(message), "{doc}: {m}");
            }
            other => panic!("{doc}: {other:?}"),
        }
        assert_eq!(dir.listing(), ["in.geojson"], "{doc}: no output, no temporary file");
    }
    // Not UTF-8 (GBK bytes): JSON text must be UTF-8.
    let gbk =
        b"{\"type\":\"Feature\",\"properties\":{\"n\":\"\xb3\xc7\xca\xd0\"},\"geometry\":null}";
    std::fs::write(&input, gbk).unwrap();
    let force = ConvertOptions { force: true, ..options() };
    let e = convert(&input, &output, &crs("EPSG:4326"), &crs("EPSG:4548"), &force).unwrap_err();
    assert!(matches!(e, ConvertError::Malformed { .. }), "{e}");
    assert_eq!(dir.listing(), ["in.geojson"]);
}

#[test]
fn empty_files_and_same_file() {
    let dir = Scratch::new("empty");
    let t = (crs("EPSG:4326"), crs("EPSG:4548"));
    // An empty file (nothing but whitespace or a byte-order mark) is an error, nothing written
    // (issue 11; it used to convert to an empty output).
    for (name, text) in
        [("a.geojson", ""), ("b.geojson", " \n"), ("c.geojsonl", ""), ("d.geojson", "\u{feff}")]
    {
        let input = dir.path(name);
        std::fs::write(&input, text).unwrap();
        let output = dir.path(&format!("out-{name}"));
        let e = convert(&input, &output, &t.0, &t.1, &options()).unwrap_err();
        assert!(matches!(e, ConvertError::Malformed { .. }), "{e}");
        assert!(e.to_string().contains(": line 1: the file is empty ("), "{e}");
        assert!(!output.exists());
    }
    let input = dir.path("e.geojson");
    std::fs::write(&input, r#"{"type":"FeatureCollection","features":[]}"#).unwrap();
    convert(&input, &dir.path("out-e.geojson"), &t.0, &t.1, &options()).unwrap();
    let out = read(&dir.path("out-e.geojson"));
    assert_eq!(parse(&out)["features"], Value::Array(vec![]));
    // A reserved top-level bbox with no positions to fill it stays blank (and valid JSON).
    let t4548 = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
    let doc = r#"{"bbox":[1,2,3,4],"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":null}]}"#;
    let (out, report) = convert_str(doc, &t4548, &options()).unwrap();
    assert_eq!(report.empty, 1);
    assert!(!out.contains("bbox"));
    assert_eq!(parse(&out)["features"][0]["geometry"], Value::Null);
    let twice = r#"{"type":"FeatureCollection","features":[],"features":[]}"#;
    assert!(matches!(convert_str(twice, &t4548, &options()), Err(ConvertError::Malformed { .. })));
    match convert(&input, &input, &t.0, &t.1, &options()) {
        Err(ConvertError::SameFile { .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_large_collection_is_streamed() {
    let dir = Scratch::new("large");
    let input = dir.path("big.geojson");
    let output = dir.path("big-4548.geojson");
    let n = 200_000u32;
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
        write!(w, "{{\"type\":\"FeatureCollection\",\"bbox\":[0,0,0,0],\"features\":[").unwrap();
        for i in 0..n {
            let sep = if i == 0 { "" } else { "," };
            let x = 115.5 + f64::from(i % 1000) * 0.002;
            let y = 39.5 + f64::from(i / 1000) * 0.004;
            write!(w, "{sep}\n{{\"type\":\"Feature\",\"id\":{i},\"properties\":{{\"名\":\"第{i}号\"}},\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{x},{y}]}}}}").unwrap();
        }
        writeln!(w, "\n]}}").unwrap();
    }
    let r = convert(&input, &output, &crs("EPSG:4326"), &crs("EPSG:4548"), &options()).unwrap();
    assert_eq!((r.features, r.written, r.vertices), (u64::from(n), u64::from(n), u64::from(n)));
    // The output is read line by line (one feature per line), not parsed whole.
    let text = read(&output);
    let mut lines = text.lines();
    let head = lines.next().unwrap();
    let at = head.find("\"bbox\":").unwrap() + 7;
    let bbox: Vec<f64> = serde_json::from_str(&head[at..at + value_end(&head[at..])]).unwrap();
    let (mut min_x, mut max_y, mut count) = (f64::INFINITY, f64::NEG_INFINITY, 0usize);
    for (i, line) in lines.take_while(|l| l.starts_with('{')).enumerate() {
        let f = parse(line.trim_end_matches(','));
        let p = positions(line);
        min_x = min_x.min(p[0][0]);
        max_y = max_y.max(p[0][1]);
        if i % 9973 == 0 {
            // Order and properties kept.
            assert_eq!(f["id"], i);
            assert_eq!(f["properties"]["名"], format!("第{i}号"));
        }
        count += 1;
    }
    assert_eq!(count, n as usize);
    assert_eq!((bbox[0], bbox[3]), (min_x, max_y));
}

#[test]
fn gbk_encoding_option_is_refused() {
    // RFC 8259: JSON exchanged between systems is UTF-8; a GBK option is a mistake to report.
    let dir = Scratch::new("gbk");
    let input = dir.path("in.geojson");
    std::fs::write(&input, r#"{"type":"FeatureCollection","features":[]}"#).unwrap();
    let gbk = ConvertOptions { encoding: Some(geounify::convert::TextEncoding::Gbk), ..options() };
    let e = convert(&input, &dir.path("out.geojson"), &crs("EPSG:4326"), &crs("EPSG:4548"), &gbk)
        .unwrap_err();
    assert!(matches!(e, ConvertError::Options { .. }), "{e}");
    assert_eq!(dir.listing(), ["in.geojson"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        let _ = convert_reader(&bytes[..], Vec::new(), &t, &options());
        let _ = convert_seq_reader(&bytes[..], Vec::new(), &t, &options());
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = convert_str(text, &t, &options());
        }
    }

    #[test]
    fn random_geojson_like_text_never_panics(
        parts in proptest::collection::vec(prop_oneof![
            Just("{"), Just("}"), Just("["), Just("]"), Just(","), Just(":"),
            Just("\"type\""), Just("\"Feature\""), Just("\"FeatureCollection\""), Just("\"features\""),
            Just("\"geometry\""), Just("\"coordinates\""), Just("\"Point\""), Just("\"Polygon\""),
            Just("\"GeometryCollection\""), Just("\"geometries\""), Just("\"bbox\""), Just("\"crs\""),
            Just("1"), Just("-95.5"), Just("1e400"), Just("null"), Just("\"x\""),
        ], 0..60)
    ) {
        let text: String = parts.concat();
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        let _ = convert_str(&text, &t, &options());
        let _ = convert_seq_reader(text.as_bytes(), Vec::new(), &t, &options());
    }

    #[test]
    fn points_round_trip_within_a_millimetre(
        points in proptest::collection::vec((114.0..120.0f64, 18.0..53.0f64, -100.0..5000.0f64), 1..20)
    ) {
        let coords: Vec<String> = points.iter().map(|(x, y, z)| format!("[{x},{y},{z}]")).collect();
        let doc = format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{}},"geometry":{{"type":"MultiPoint","coordinates":[{}]}}}}]}}"#,
            coords.join(",")
        );
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        let (there, _) = convert_str(&doc, &t, &options()).unwrap();
        let (back, _) = convert_str(&there, &t.inverse(), &options()).unwrap();
        let (h, v) = max_error_geographic(&positions(&doc), &positions(&back));
        prop_assert!(h < 1e-3 && v < 1e-3, "{} {}", h, v);
    }
}
