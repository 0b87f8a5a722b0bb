//! The sample city exchange (`data/sample/`, made by `examples/make_sample.rs`): the files are
//! what `data/sample/README.md` says they are, and each dataset, converted by the library to
//! EPSG:4548 with the manifest's settings, lands on the true geometry the generator started from
//! (`truth_epsg4548.geojson`).
//!
//! Tolerances. The brief's acceptance is 5 cm; what the files allow is far tighter. The datasets
//! were made from the truth by geounify in the inverse direction (corrected so that the 2D
//! forward conversion reproduces the truth to 1e-8 m: see `Inverse` in `examples/make_sample.rs`;
//! the plain inverse is 2.1 mm off across the datum shift) and rounded: the CSV to 1 mm in
//! the old grid (≤ 0.71 mm per point, the grid's scale is 1 + 12.5 ppm), the GeoJSON to 1e-8°
//! (≤ 0.5e-8° per axis: ≤ 0.43 mm east, ≤ 0.56 mm north at 39.9°N), the Shapefile not at all
//! (binary doubles). So every test asserts **1 mm** (the rounding bound plus the float noise of
//! two long chains of steps, 1e-8 m). These are round trips through our own maths (the maths
//! itself is checked against PROJ in `proj_vectors.rs` / `crs_file_vectors.rs`); one part has
//! an outside reference here: the GCJ-02 file against the `coordtransform` crate.
#![cfg(feature = "formats")]

use geounify::convert::{convert_file, ConvertOptions, NoProgress, TextEncoding};
use geounify::{Crs, Registry, Transformer};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How far a converted point may be from the truth, metres (see the module docs).
const TOLERANCE_M: f64 = 0.001;
/// The brief's acceptance, metres.
const ACCEPTANCE_M: f64 = 0.05;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample").join(name)
}

/// A scratch folder under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("geounify-sample-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn registry() -> Registry {
    let mut r = Registry::new();
    r.load_file(sample("city.toml")).unwrap();
    r
}

fn crs(id: &str) -> Crs {
    registry().lookup(id).unwrap()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn xy(v: &Value) -> [f64; 2] {
    [v[0].as_f64().unwrap(), v[1].as_f64().unwrap()]
}

fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// The truth, per layer: point features by 编号, road lines in file order (name, vertices).
struct Truth {
    points: HashMap<String, [f64; 2]>,
    roads: Vec<(String, Vec<[f64; 2]>)>,
}

fn truth() -> Truth {
    let doc = json(&sample("truth_epsg4548.geojson"));
    assert_eq!(doc["crs"]["properties"]["name"], "urn:ogc:def:crs:EPSG::4548");
    let mut t = Truth { points: HashMap::new(), roads: Vec::new() };
    for f in doc["features"].as_array().unwrap() {
        let g = &f["geometry"];
        match f["properties"]["layer"].as_str().unwrap() {
            "roads" => t.roads.push((
                f["properties"]["名称"].as_str().unwrap().to_string(),
                g["coordinates"].as_array().unwrap().iter().map(xy).collect(),
            )),
            _ => {
                let id = f["properties"]["编号"].as_str().unwrap().to_string();
                assert!(t.points.insert(id, xy(&g["coordinates"])).is_none());
            }
        }
    }
    t
}

/// Checks the largest distance and prints it (the report quotes it).
fn check(what: &str, worst: f64, count: usize) {
    println!("{what}: {count} points, largest distance from the truth {:.6} mm", worst * 1e3);
    assert!(worst < ACCEPTANCE_M, "{what}: {worst} m");
    assert!(worst < TOLERANCE_M, "{what}: {worst} m");
}

#[test]
fn sample_city_toml_defines_the_same_crss_as_data_crs_city_toml() {
    let mut full = Registry::new();
    full.load_file(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/crs/city.toml")).unwrap();
    let sample = registry();
    for id in ["city:old-grid", "city:bj54-gk117"] {
        assert_eq!(sample.user_crs(id), full.user_crs(id), "{id}");
        assert!(sample.user_crs(id).is_some(), "{id}");
    }
    assert_eq!(sample.user_crss().len(), 2);
}

#[test]
fn manifest_names_files_and_crss_that_exist() {
    let text = std::fs::read_to_string(sample("exchange.toml")).unwrap();
    let table = toml::de::DeTable::parse(&text).unwrap();
    let table = table.get_ref();
    let str_of = |t: &toml::de::DeTable<'_>, key: &str| -> String {
        t.get(key).unwrap().get_ref().as_str().unwrap().to_string()
    };
    assert_eq!(str_of(table, "target"), "EPSG:4548");
    assert_eq!(str_of(table, "output"), "out");
    let registry = registry();
    let datasets = table.get("dataset").unwrap().get_ref().as_array().unwrap();
    let mut seen = Vec::new();
    for d in datasets {
        let d = d.get_ref().as_table().unwrap();
        let path = str_of(d, "path");
        assert!(sample(&path).is_file(), "{path}");
        registry.lookup(&str_of(d, "crs")).unwrap();
        seen.push(path);
    }
    assert_eq!(seen, ["parcels_old_grid.csv", "roads_bj54.shp", "poi_gcj02.geojson"]);
}

#[test]
fn parcels_are_a_gbk_csv_in_the_old_grid_and_land_on_the_truth() {
    let bytes = std::fs::read(sample("parcels_old_grid.csv")).unwrap();
    assert!(std::str::from_utf8(&bytes).is_err(), "the file is GBK, not UTF-8");
    let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(&bytes);
    assert!(!had_errors);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("编号,名称,用途,E,N"));
    assert_eq!(lines.clone().count(), 32);
    assert!(lines.all(|l| l.contains("号地块")));

    let dir = Scratch::new("parcels");
    let out = dir.path("parcels_old_grid.csv");
    let options = ConvertOptions {
        x_col: Some("E".into()),
        y_col: Some("N".into()),
        encoding: Some(TextEncoding::Gbk),
        ..ConvertOptions::default()
    };
    let report = convert_file(
        &sample("parcels_old_grid.csv"),
        &out,
        &crs("city:old-grid"),
        &crs("EPSG:4548"),
        &options,
        &NoProgress,
    )
    .unwrap();
    assert_eq!((report.features, report.written), (32, 32));

    let truth = truth();
    let written = std::fs::read(&out).unwrap();
    let (text, _, bad) = encoding_rs::GBK.decode(&written);
    assert!(!bad);
    let mut worst: f64 = 0.0;
    let mut n = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert!(f[1].contains("地块"), "Chinese text kept: {line}");
        let got = [f[3].parse().unwrap(), f[4].parse().unwrap()];
        worst = worst.max(distance(got, truth.points[f[0]]));
        n += 1;
    }
    assert_eq!(n, 32);
    check("parcels (old grid → EPSG:4548)", worst, n);
}

/// The road names in the `.dbf`, decoded from GBK (fields NAME C 40, CLASS C 20, WIDTH N 4).
fn dbf_names(bytes: &[u8]) -> Vec<String> {
    let count = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    let header = u16::from_le_bytes(bytes[8..10].try_into().unwrap()) as usize;
    let record = u16::from_le_bytes(bytes[10..12].try_into().unwrap()) as usize;
    assert_eq!(&bytes[32..36], b"NAME");
    assert_eq!(bytes[32 + 16], 40);
    (0..count)
        .map(|i| {
            let start = header + i * record + 1;
            let (name, _, bad) = encoding_rs::GBK.decode(&bytes[start..start + 40]);
            assert!(!bad);
            name.trim_end().to_string()
        })
        .collect()
}

#[test]
fn roads_are_a_shapefile_in_beijing_1954_with_gbk_names_and_land_on_the_truth() {
    let truth = truth();
    let dbf = std::fs::read(sample("roads_bj54.dbf")).unwrap();
    assert_eq!(dbf[29], 0x4D, "language driver: code page 936 (GBK)");
    assert_eq!(std::fs::read_to_string(sample("roads_bj54.cpg")).unwrap().trim(), "GBK");
    let names: Vec<String> = truth.roads.iter().map(|r| r.0.clone()).collect();
    assert_eq!(dbf_names(&dbf), names);
    assert_eq!(names.len(), 6);

    let dir = Scratch::new("roads");
    let out = dir.path("roads_bj54.shp");
    let report = convert_file(
        &sample("roads_bj54.shp"),
        &out,
        &crs("city:bj54-gk117"),
        &crs("EPSG:4548"),
        &ConvertOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(report.features, 6);
    assert_eq!(std::fs::read(dir.path("roads_bj54.dbf")).unwrap(), dbf, "attributes kept");

    let shapes = shapefile::read_shapes_as::<_, shapefile::Polyline>(&out).unwrap();
    assert_eq!(shapes.len(), truth.roads.len());
    let (mut worst, mut n) = (0.0_f64, 0);
    for (line, (name, want)) in shapes.iter().zip(&truth.roads) {
        assert_eq!(line.parts().len(), 1, "{name}");
        let got = &line.parts()[0];
        assert_eq!(got.len(), want.len(), "{name}");
        for (p, w) in got.iter().zip(want) {
            worst = worst.max(distance([p.x, p.y], *w));
            n += 1;
        }
    }
    check("roads (Beijing 1954 GK 117E → EPSG:4548)", worst, n);
}

#[test]
fn pois_are_gcj02_geojson_with_chinese_names_and_land_on_the_truth() {
    let truth = truth();
    let input = json(&sample("poi_gcj02.geojson"));
    let features = input["features"].as_array().unwrap();
    assert_eq!(features.len(), 15);

    // Outside reference: the file's GCJ-02 positions against the `coordtransform` crate's
    // independent implementation of the published formula, applied to the truth in WGS84
    // (= CGCS2000 here). Tolerance 1e-8° each way: the file's 8-decimal rounding (0.5e-8°)
    // plus the two implementations' float differences (~1e-12°).
    let to_wgs84 = Transformer::from_ids("EPSG:4548", "EPSG:4326").unwrap();
    for f in features {
        let name = f["properties"]["名称"].as_str().unwrap();
        assert!(name.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{name}");
        let t = truth.points[f["properties"]["编号"].as_str().unwrap()];
        let (lon, lat) = to_wgs84.transform_xy(t[0], t[1]).unwrap();
        let (glon, glat) = coordtransform::wgs84_to_gcj02(lon, lat);
        let got = xy(&f["geometry"]["coordinates"]);
        assert!((got[0] - glon).abs() < 1e-8 && (got[1] - glat).abs() < 1e-8, "{name}");
    }

    let dir = Scratch::new("poi");
    let out = dir.path("poi_gcj02.geojson");
    convert_file(
        &sample("poi_gcj02.geojson"),
        &out,
        &crs("GCJ02"),
        &crs("EPSG:4548"),
        &ConvertOptions::default(),
        &NoProgress,
    )
    .unwrap();
    let output = json(&out);
    assert_eq!(output["crs"]["properties"]["name"], "urn:ogc:def:crs:EPSG::4548");
    let mut worst: f64 = 0.0;
    let converted = output["features"].as_array().unwrap();
    for (f, g) in converted.iter().zip(features) {
        assert_eq!(f["properties"], g["properties"], "properties kept");
        let t = truth.points[f["properties"]["编号"].as_str().unwrap()];
        worst = worst.max(distance(xy(&f["geometry"]["coordinates"]), t));
    }
    assert_eq!(converted.len(), 15);
    check("points of interest (GCJ-02 → EPSG:4548)", worst, converted.len());
}
