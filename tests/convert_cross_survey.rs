//! Conversions between formats for the survey formats: CASS point files, MapInfo MIF/MID and
//! DXF, into and out of GeoJSON, CSV, GeoPackage and Shapefile. Checked: the coordinates of a
//! cross conversion are those of the same-format conversion of the same input, bit for bit
//! (MIF, DXF; for CASS, whose same-format output keeps the input's decimals, those of the
//! transformer itself); A → B → A round trips give A's coordinates and attributes back
//! exactly (Chinese text in GBK where the format uses it); refusals name the feature (DXF
//! entity type and handle, MIF object) and leave nothing behind; dropped attributes are named
//! in a warning.
#![cfg(feature = "formats")]

mod common;
use common::conversion::convert;
use common::crs;
use common::scratch::Scratch;
use geounify::convert::{text, ConvertOptions, TextEncoding};
use serde_json::Value;
use std::path::Path;

fn gbk(s: &str) -> Vec<u8> {
    text::encode(s, TextEncoding::Gbk).unwrap().into_owned()
}

fn options() -> ConvertOptions {
    ConvertOptions::default()
}

fn gbk_options() -> ConvertOptions {
    ConvertOptions { encoding: Some(TextEncoding::Gbk), ..ConvertOptions::default() }
}

/// The features of a GeoJSON file geounify wrote (one feature a line), each with its
/// coordinates re-read from their text (serde_json's default float parsing can be 1 ulp off)
/// under the key `"numbers"`.
fn geojson(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut features = v["features"].as_array().unwrap().clone();
    let lines: Vec<&str> =
        text.lines().filter(|l| l.starts_with("{\"type\":\"Feature\"")).collect();
    assert_eq!(lines.len(), features.len());
    for (f, line) in features.iter_mut().zip(lines) {
        let numbers: Vec<Value> = match line.split_once("\"coordinates\":") {
            Some((_, rest)) => {
                let end = rest.find('}').unwrap();
                rest[..end]
                    .split(['[', ']', ','])
                    .filter(|t| !t.is_empty())
                    .map(|t| Value::String(t.to_string()))
                    .collect()
            }
            None => Vec::new(),
        };
        f["numbers"] = Value::Array(numbers);
    }
    features
}

/// Every number of a feature's coordinates, in order, parsed from its text by Rust.
fn coords(f: &Value) -> Vec<f64> {
    f["numbers"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().parse().unwrap()).collect()
}

/// A CASS file in GBK: ids and codes in Chinese, heights on two of three points.
fn cass_gbk() -> Vec<u8> {
    let mut out = gbk("控制点1,KZD,500123.456,3400123.456,12.300\r\n");
    out.extend(gbk("2,房角,500130.002,3400150.118\r\n"));
    out.extend(gbk("点3,,500140.5,3400160.25,8.5\r\n"));
    out
}

#[test]
fn cass_to_geojson_matches_the_transformer_and_carries_id_code_and_height() {
    let dir = Scratch::new("cross-survey-cass");
    let input = dir.write("pts.dat", cass_gbk());
    let out = dir.path("pts.geojson");
    let (from, to) = (crs("EPSG:4547"), crs("EPSG:4490"));
    let report = convert(&input, &out, &from, &to, &gbk_options()).unwrap();
    assert_eq!((report.features, report.vertices), (3, 3));
    let features = geojson(&out);
    let t = geounify::Transformer::new(&from, &to).unwrap();
    let inputs = [
        [500123.456, 3400123.456, 12.3],
        [500130.002, 3400150.118, 0.0],
        [500140.5, 3400160.25, 8.5],
    ];
    for (f, p) in features.iter().zip(inputs) {
        let q = t.transform(p).unwrap();
        let c = coords(f);
        assert_eq!(c[0].to_bits(), q[0].to_bits(), "x bit for bit");
        assert_eq!(c[1].to_bits(), q[1].to_bits(), "y bit for bit");
        if p[2] != 0.0 {
            assert_eq!(c[2], p[2], "H is an elevation: copied");
        } else {
            assert_eq!(c.len(), 2, "no H: a 2D point");
        }
    }
    assert_eq!(features[0]["properties"]["id"], "控制点1");
    assert_eq!(features[1]["properties"]["code"], "房角");
    assert_eq!(features[2]["properties"]["code"], Value::Null);
}

#[test]
fn cass_round_trips_through_geopackage_shapefile_and_csv_in_gbk() {
    let dir = Scratch::new("cross-survey-cass-rt");
    let input = dir.write("pts.dat", cass_gbk());
    let c = crs("EPSG:4547");
    for ext in ["gpkg", "shp", "csv", "geojson"] {
        let mid = dir.path(&format!("pts.{ext}"));
        convert(&input, &mid, &c, &c, &gbk_options()).unwrap();
        let back = dir.path(&format!("back_{ext}.dat"));
        let report = convert(&mid, &back, &c, &c, &options()).unwrap();
        assert_eq!(report.features, 3, "{ext}");
        let expected =
            "控制点1,KZD,500123.456,3400123.456,12.3\r\n2,房角,500130.002,3400150.118\r\n\
                        点3,,500140.5,3400160.25,8.5\r\n";
        // A Shapefile holds one type (PointZ here): its 2D point comes back at z 0.
        let expected_here = if ext == "shp" {
            expected.replace("3400150.118\r", "3400150.118,0\r")
        } else {
            expected.to_string()
        };
        assert_eq!(std::fs::read_to_string(&back).unwrap(), expected_here, "{ext}: values back");
        if ext == "gpkg" {
            // Written in GBK when asked, as CASS writes it.
            let gbk_back = dir.path("back_gbk.dat");
            convert(&mid, &gbk_back, &c, &c, &gbk_options()).unwrap();
            assert_eq!(std::fs::read(&gbk_back).unwrap(), gbk(expected));
        }
    }
}

#[test]
fn cass_output_refuses_lines_and_names_dropped_attributes() {
    let dir = Scratch::new("cross-survey-cass-refuse");
    let line = dir.write(
        "l.geojson",
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"a"},"geometry":{"type":"Point","coordinates":[500001,3400002]}},
{"type":"Feature","properties":{"name":"b"},"geometry":{"type":"LineString","coordinates":[[500001,3400002],[500003,3400004]]}}]}"#,
    );
    let out = dir.path("l.dat");
    let c = crs("EPSG:4547");
    let e = convert(&line, &out, &c, &c, &options()).unwrap_err().to_string();
    assert!(
        e.contains("feature 2") && e.contains("points only") && e.contains("LineString"),
        "{e}"
    );
    assert!(!out.exists(), "nothing left behind");
    let points = dir.write(
        "p.geojson",
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"甲","高程":5},"geometry":{"type":"Point","coordinates":[500001,3400002]}}]}"#,
    );
    let report = convert(&points, &out, &c, &c, &options()).unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "甲,,500001,3400002\r\n",
        "the id from `name`"
    );
    assert!(
        report.warnings.iter().any(|w| w.contains("高程") && w.contains("not carried")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn an_empty_cass_file_is_refused_with_nothing_written() {
    let dir = Scratch::new("cross-survey-cass-empty");
    let input = dir.write("e.dat", "\r\n  \r\n");
    let out = dir.path("e.geojson");
    let c = crs("EPSG:4547");
    let e = convert(&input, &out, &c, &c, &options()).unwrap_err().to_string();
    assert!(e.contains("no point lines"), "{e}");
    assert!(!out.exists());
}

/// A MIF/MID set in GBK on CGCS2000 / 3-degree Gauss-Krüger 114°E: every readable object type.
fn mif_set(dir: &Scratch) -> std::path::PathBuf {
    let mif = "Version 300\nCharset \"WindowsSimpChinese\"\nDelimiter \",\"\n\
               CoordSys Earth Projection 8, 33, \"m\", 114, 0, 1, 500000, 0\n\
               Columns 4\n  名称 Char(20)\n  编号 Integer\n  面积 Float\n  日期 Date\nData\n\n\
               Point 500100.125 2500200.5\n    Symbol (35,0,12)\n\
               Pline 3\n500000 2500000\n500010.5 2500020.25\n500030 2500015\n    Pen (1,2,0)\n\
               Region 2\n  4\n500000 2500000\n500100 2500000\n500100 2500100\n500000 2500100\n\
               \x20 4\n500040 2500040\n500060 2500040\n500060 2500060\n500040 2500060\n    Brush (2,16777215,16777215)\n    Center 500050 2500050\n\
               Pline Multiple 2\n  2\n500000 2500000\n500001 2500001\n  2\n500002 2500002\n500003 2500003\n\
               Multipoint 2\n500005 2500005 500006 2500006\n\
               None\n";
    let mid = "\"路口\",1,2.5,20240131\n\"深南大道\",2,0,\n\"地块, \"\"甲\"\"\",3,1,\n\"河流\",4,,\n\"点群\",5,1,\n\"无几何\",6,,\n";
    dir.write("a.mid", gbk(mid));
    dir.write("a.mif", gbk(mif))
}

/// The coordinate numbers of the objects of a `.mif` (after `Data`), in order, clause points
/// (`Center`) left out.
fn mif_numbers(path: &Path) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let data = text.split("\nData\n").nth(1).unwrap();
    let mut out = Vec::new();
    for line in data.lines() {
        let t = line.trim();
        if t.starts_with("Pen")
            || t.starts_with("Brush")
            || t.starts_with("Symbol")
            || t.starts_with("Center")
        {
            continue;
        }
        let words: Vec<&str> = t.split_whitespace().collect();
        // A count line (one integer) or a keyword line with counts: pairs only.
        if words.len() >= 2 && words.iter().all(|w| w.parse::<f64>().is_ok()) {
            out.extend(words.iter().map(|w| w.parse::<f64>().unwrap()));
        } else if words.first().is_some_and(|w| w.eq_ignore_ascii_case("point")) {
            out.extend(words[1..].iter().map(|w| w.parse::<f64>().unwrap()));
        }
    }
    out
}

#[test]
fn mif_to_geojson_matches_the_same_format_conversion_and_carries_the_mid() {
    let dir = Scratch::new("cross-survey-mif");
    let input = mif_set(&dir);
    let (from, to) = (crs("EPSG:4547"), crs("EPSG:4490"));
    let same = dir.path("same.mif");
    convert(&input, &same, &from, &to, &options()).unwrap();
    let out = dir.path("a.geojson");
    let report = convert(&input, &out, &from, &to, &options()).unwrap();
    assert_eq!((report.features, report.empty), (6, 1));
    assert!(report.warnings.iter().any(|w| w.contains("Center or Label")), "{:?}", report.warnings);
    let features = geojson(&out);
    let ours: Vec<f64> = features
        .iter()
        .flat_map(|f| {
            let mut c = coords(f);
            if f["geometry"]["type"] == "Polygon" {
                // Rings are closed in the model: drop each ring's repeated last point.
                let rings = f["geometry"]["coordinates"].as_array().unwrap();
                let all = std::mem::take(&mut c);
                let mut at = 0;
                for r in rings {
                    let n = 2 * r.as_array().unwrap().len();
                    c.extend_from_slice(&all[at..at + n - 2]);
                    at += n;
                }
            }
            c
        })
        .collect();
    let same = mif_numbers(&same);
    assert_eq!(ours.len(), same.len());
    for (a, b) in ours.iter().zip(&same) {
        assert_eq!(a.to_bits(), b.to_bits(), "{a} vs {b}: bit for bit");
    }
    let kinds: Vec<&str> =
        features.iter().map(|f| f["geometry"]["type"].as_str().unwrap_or("null")).collect();
    assert_eq!(kinds, ["Point", "LineString", "Polygon", "MultiLineString", "MultiPoint", "null"]);
    assert_eq!(features[2]["geometry"]["coordinates"].as_array().unwrap().len(), 2, "a hole");
    let p = &features[0]["properties"];
    assert_eq!(
        (p["名称"].as_str(), p["编号"].as_i64(), p["面积"].as_f64(), p["日期"].as_str()),
        (Some("路口"), Some(1), Some(2.5), Some("2024-01-31"))
    );
    assert_eq!(features[2]["properties"]["名称"], "地块, \"甲\"");
    assert_eq!(features[3]["properties"]["面积"], Value::Null);
}

#[test]
fn mif_round_trips_through_geopackage_and_geojson() {
    let dir = Scratch::new("cross-survey-mif-rt");
    let input = mif_set(&dir);
    let c = crs("EPSG:4547");
    for ext in ["gpkg", "geojson"] {
        let mid = dir.path(&format!("a.{ext}"));
        convert(&input, &mid, &c, &c, &options()).unwrap();
        let back = dir.path(&format!("back_{ext}.mif"));
        convert(&mid, &back, &c, &c, &options()).unwrap();
        // Read both sets as features (GeoJSON) and compare.
        let (g1, g2) =
            (dir.path(&format!("g1_{ext}.geojson")), dir.path(&format!("g2_{ext}.geojson")));
        convert(&input, &g1, &c, &c, &options()).unwrap();
        convert(&back, &g2, &c, &c, &options()).unwrap();
        assert_eq!(geojson(&g1), geojson(&g2), "{ext}: geometries and attributes back");
        let mid_text =
            text::decode(&std::fs::read(back.with_extension("mid")).unwrap(), TextEncoding::Gbk)
                .unwrap()
                .into_owned();
        assert!(mid_text.starts_with("\"路口\",1,2.5,"), "{mid_text}");
    }
}

#[test]
fn mif_curves_and_text_are_refused_by_object() {
    let dir = Scratch::new("cross-survey-mif-refuse");
    dir.write("c.mid", "1\n2\n3\n");
    let input = dir.write(
        "c.mif",
        "Version 300\nColumns 1\n  n Integer\nData\nPoint 500001 3400002\nEllipse 500000 3400000 500010 3400010\nText \"注记\"\n 500001 3400001 500005 3400005\n",
    );
    let out = dir.path("c.geojson");
    let c = crs("EPSG:4547");
    let e = convert(&input, &out, &c, &c, &options()).unwrap_err().to_string();
    assert!(e.contains("line 6 (object 2, Ellipse)") && e.contains("curve"), "{e}");
    assert!(!out.exists());
    let skip = ConvertOptions { skip_invalid: true, ..options() };
    let report = convert(&input, &out, &c, &c, &skip).unwrap();
    assert_eq!(report.written, 1);
    assert!(
        report.skipped[1].location.contains("Text") && report.skipped[1].reason.contains("label")
    );
}

/// A DXF drawing in GBK (R2000, code page ANSI_936): a 3D point on a Chinese layer, a closed
/// LWPOLYLINE, a 3D POLYLINE, a LINE, a TEXT and an INSERT, a circle.
fn dxf_drawing(circle: bool) -> Vec<u8> {
    let mut pairs: Vec<(i32, &str)> = vec![
        (0, "SECTION"),
        (2, "HEADER"),
        (9, "$ACADVER"),
        (1, "AC1015"),
        (9, "$DWGCODEPAGE"),
        (3, "ANSI_936"),
        (0, "ENDSEC"),
        (0, "SECTION"),
        (2, "ENTITIES"),
        (0, "POINT"),
        (5, "2A"),
        (8, "控制点"),
        (10, "500100.5"),
        (20, "3400100.25"),
        (30, "12.5"),
        (0, "LWPOLYLINE"),
        (5, "2B"),
        (8, "房屋"),
        (90, "3"),
        (70, "1"),
        (10, "500000"),
        (20, "3400000"),
        (10, "500010.125"),
        (20, "3400000"),
        (10, "500010"),
        (20, "3400010.5"),
        (0, "POLYLINE"),
        (5, "2C"),
        (8, "等高线"),
        (66, "1"),
        (10, "0"),
        (20, "0"),
        (30, "0"),
        (70, "8"),
        (0, "VERTEX"),
        (5, "2D"),
        (8, "等高线"),
        (10, "500001"),
        (20, "3400001"),
        (30, "10"),
        (70, "32"),
        (0, "VERTEX"),
        (5, "2E"),
        (8, "等高线"),
        (10, "500002"),
        (20, "3400003"),
        (30, "10.5"),
        (70, "32"),
        (0, "SEQEND"),
        (5, "2F"),
        (8, "等高线"),
        (0, "LINE"),
        (5, "30"),
        (8, "0"),
        (10, "500000"),
        (20, "3400000"),
        (30, "0"),
        (11, "500005"),
        (21, "3400005"),
        (31, "0"),
        (0, "TEXT"),
        (5, "31"),
        (8, "注记"),
        (10, "500001"),
        (20, "3400002"),
        (30, "0"),
        (40, "2.5"),
        (1, "学校"),
        (0, "INSERT"),
        (5, "32"),
        (8, "0"),
        (2, "GC001"),
        (10, "500003"),
        (20, "3400004"),
        (30, "0"),
    ];
    if circle {
        pairs.extend([
            (0, "CIRCLE"),
            (5, "3F"),
            (8, "0"),
            (10, "500000"),
            (20, "3400000"),
            (30, "0"),
            (40, "5"),
        ]);
    }
    pairs.extend([(0, "ENDSEC"), (0, "EOF")]);
    let mut out = Vec::new();
    for (code, value) in pairs {
        out.extend(format!("{code:>3}\r\n").as_bytes());
        out.extend(gbk(value));
        out.extend(b"\r\n");
    }
    out
}

/// The x/y numbers of model-space entity coordinates in a DXF (groups 10/20/11/21 after the
/// ENTITIES section starts; POLYLINE's own 0,0 left out), in order.
fn dxf_numbers(path: &Path) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| l.trim() == "ENTITIES").unwrap();
    let mut out = Vec::new();
    let mut kind = "";
    for pair in lines[start + 1..].chunks(2) {
        let (code, value) = (pair[0].trim(), pair.get(1).map_or("", |v| v.trim()));
        if code == "0" {
            kind = value;
        }
        if matches!(code, "10" | "20" | "11" | "21") && kind != "POLYLINE" {
            out.push(value.parse::<f64>().unwrap());
        }
    }
    out
}

#[test]
fn dxf_to_geojson_matches_the_same_format_conversion_with_layer_handle_and_text() {
    let dir = Scratch::new("cross-survey-dxf");
    let input = dir.write("d.dxf", dxf_drawing(false));
    let (from, to) = (crs("EPSG:4547"), crs("EPSG:4490"));
    let same = dir.path("same.dxf");
    convert(&input, &same, &from, &to, &options()).unwrap();
    let out = dir.path("d.geojson");
    let report = convert(&input, &out, &from, &to, &options()).unwrap();
    assert_eq!(report.features, 6);
    let features = geojson(&out);
    let mut ours = Vec::new();
    for f in &features {
        let g = &f["geometry"];
        let dims = if g["type"] == "Point" {
            coords(f).len()
        } else {
            g["coordinates"].as_array().map_or(2, |a| {
                let first = if g["type"] == "Polygon" { &a[0][0] } else { &a[0] };
                first.as_array().unwrap().len()
            })
        };
        let mut c = coords(f);
        if g["type"] == "Polygon" {
            c.truncate(c.len() - dims); // the closing point
        }
        for p in c.chunks(dims) {
            ours.extend([p[0], p[1]]);
        }
    }
    let same = dxf_numbers(&same);
    assert_eq!(ours.len(), same.len());
    for (a, b) in ours.iter().zip(&same) {
        assert_eq!(a.to_bits(), b.to_bits(), "{a} vs {b}: bit for bit");
    }
    let p = |i: usize, k: &str| features[i]["properties"][k].clone();
    assert_eq!(
        (p(0, "layer"), p(0, "handle"), p(0, "entity")),
        ("控制点".into(), "2A".into(), "POINT".into())
    );
    assert_eq!(coords(&features[0])[2], 12.5, "z kept");
    assert_eq!(features[1]["geometry"]["type"], "Polygon", "a closed LWPOLYLINE");
    assert_eq!(coords(&features[2])[5], 10.5, "3D polyline z");
    assert_eq!(
        features[3]["geometry"]["coordinates"].as_array().unwrap()[0].as_array().unwrap().len(),
        2,
        "a LINE at z 0 is 2D"
    );
    assert_eq!((p(4, "text"), p(5, "block")), ("学校".into(), "GC001".into()));
}

#[test]
fn dxf_curves_are_refused_naming_the_entity_and_its_handle() {
    let dir = Scratch::new("cross-survey-dxf-refuse");
    let input = dir.write("d.dxf", dxf_drawing(true));
    let out = dir.path("d.gpkg");
    let c = crs("EPSG:4547");
    let e = convert(&input, &out, &c, &c, &options()).unwrap_err().to_string();
    assert!(e.contains("CIRCLE handle 3F") && e.contains("not densified"), "{e}");
    assert!(!out.exists(), "nothing left behind");
    let skip = ConvertOptions { skip_invalid: true, ..options() };
    let report = convert(&input, &out, &c, &c, &skip).unwrap();
    assert_eq!((report.features, report.written), (7, 6));
}

#[test]
fn geojson_to_dxf_and_back_keeps_shapes_and_layers_and_names_dropped_fields() {
    let dir = Scratch::new("cross-survey-dxf-write");
    let input = dir.write(
        "s.geojson",
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"layer":"道路","name":"x"},"geometry":{"type":"LineString","coordinates":[[500000.125,3400000.5],[500010,3400020]]}},
{"type":"Feature","properties":{"layer":"房屋","name":"y"},"geometry":{"type":"Polygon","coordinates":[[[500000,3400000],[500010,3400000],[500010,3400010],[500000,3400000]]]}},
{"type":"Feature","properties":{"layer":null,"name":"z"},"geometry":{"type":"Point","coordinates":[500001,3400002,7.25]}},
{"type":"Feature","properties":{"layer":"a:b","name":"w"},"geometry":{"type":"LineString","coordinates":[[1,2,3],[4,5,6]]}}]}"#,
    );
    let c = crs("EPSG:4547");
    let out = dir.path("s.dxf");
    let report = convert(&input, &out, &c, &c, &options()).unwrap();
    assert!(
        report.warnings.iter().any(|w| w.contains("name") && w.contains("not carried")),
        "{:?}",
        report.warnings
    );
    assert!(report.warnings.iter().any(|w| w.contains("1 layer name")), "{:?}", report.warnings);
    let raw = std::fs::read(&out).unwrap();
    assert!(
        raw.windows(gbk("道路").len()).any(|w| w == gbk("道路").as_slice()),
        "layer names in GBK"
    );
    let back = dir.path("back.geojson");
    convert(&out, &back, &c, &c, &options()).unwrap();
    let f = geojson(&back);
    assert_eq!(f.len(), 4);
    assert_eq!(f[0]["properties"]["layer"], "道路");
    assert_eq!(coords(&f[0]), [500000.125, 3400000.5, 500010.0, 3400020.0]);
    assert_eq!(f[1]["geometry"]["type"], "Polygon");
    assert_eq!(
        coords(&f[1]),
        [500000.0, 3400000.0, 500010.0, 3400000.0, 500010.0, 3400010.0, 500000.0, 3400000.0]
    );
    assert_eq!(
        (f[2]["properties"]["layer"].as_str(), coords(&f[2])),
        (Some("0"), vec![500001.0, 3400002.0, 7.25])
    );
    assert_eq!(f[3]["properties"]["layer"], "a_b");
    assert_eq!(coords(&f[3]), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "a 3D polyline");
}

#[test]
fn an_empty_or_truncated_dxf_is_refused() {
    let dir = Scratch::new("cross-survey-dxf-bad");
    let c = crs("EPSG:4547");
    let empty = dir.write("e.dxf", "");
    let out = dir.path("e.geojson");
    let e = convert(&empty, &out, &c, &c, &options()).unwrap_err().to_string();
    assert!(e.contains("empty"), "{e}");
    let mut cut = dxf_drawing(false);
    cut.truncate(cut.len() - "  0\r\nENDSEC\r\n  0\r\nEOF\r\n".len());
    let cut = dir.write("t.dxf", cut);
    let e = convert(&cut, &out, &c, &c, &options()).unwrap_err().to_string();
    assert!(e.contains("not closed") || e.contains("truncated"), "{e}");
    assert!(!out.exists());
}

#[test]
fn features_without_attributes_get_a_fid_column_in_the_mid() {
    let dir = Scratch::new("cross-survey-mif-fid");
    let input = dir.write(
        "n.geojson",
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[500001,3400002]}},
{"type":"Feature","properties":{},"geometry":null}]}"#,
    );
    let out = dir.path("n.mif");
    let c = crs("EPSG:4547");
    convert(&input, &out, &c, &c, &options()).unwrap();
    let mif = std::fs::read_to_string(&out).unwrap();
    assert!(
        mif.contains("Columns 1\n  FID Integer\nData\n\nPoint 500001 3400002\nNone\n"),
        "{mif}"
    );
    assert_eq!(std::fs::read_to_string(out.with_extension("mid")).unwrap(), "1\n2\n");
}
