//! Exchanges (`geounify unify`): manifests, outputs, and a lineage record whose hashes and
//! counts verify against the files.
#![cfg(feature = "formats")]

mod common;
use common::scratch::Scratch;
use geounify::convert::exchange::{read_manifest, run, Dataset};
use geounify::convert::lineage::sha256_file;
use geounify::convert::{NoProgress, Progress};
use geounify::Registry;
use serde_json::Value;
use std::path::{Path, PathBuf};

const CITY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml");

fn no_progress(_: &Dataset) -> Box<dyn Progress> {
    Box::new(NoProgress)
}

/// A small exchange: WGS84 points (CSV, Chinese text), GCJ-02 roads (GeoJSON), old-grid points
/// (WKT), a dataset that fails, into EPSG:4548.
fn write_exchange(dir: &Path, with_failure: bool) -> PathBuf {
    std::fs::write(
        dir.join("poi.csv"),
        "id,lon,lat,名称\n1,116.404,39.915,天安门\n2,116.41,39.92,\"a, b\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("roads.geojson"),
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":7,"properties":{"名称":"长安街"},"geometry":{"type":"LineString","coordinates":[[116.40,39.90],[116.41,39.91],[116.42,39.905]]}}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("grid.wkt"),
        "A\tPOINT (-88388.937 227900.556)\nB\tPOINT (-88000 228000)\n",
    )
    .unwrap();
    let mut manifest = format!(
        "target = \"EPSG:4548\"\noutput = \"out\"\ncrs_files = [\"{CITY}\"]\n\n\
         [[dataset]]\npath = \"poi.csv\"\ncrs = \"WGS84\"\n\n\
         [[dataset]]\npath = \"roads.geojson\"\ncrs = \"GCJ02\"\n\n\
         [[dataset]]\npath = \"grid.wkt\"\ncrs = \"city:old-grid\"\noutput = \"grid_cgcs2000.wkt\"\n"
    );
    if with_failure {
        std::fs::write(dir.join("bad.csv"), "x,y\n116.4,39.9\n116.5,95.0\n").unwrap();
        manifest.push_str("\n[[dataset]]\npath = \"bad.csv\"\ncrs = \"WGS84\"\n");
    }
    let path = dir.join("exchange.toml");
    std::fs::write(&path, manifest).unwrap();
    path
}

#[test]
fn an_exchange_writes_every_output_and_a_lineage_that_verifies() {
    let dir = Scratch::new("ok");
    let manifest = read_manifest(&write_exchange(&dir.0, false)).unwrap();
    assert_eq!(manifest.datasets.len(), 3);
    let report = run(&manifest, &Registry::new(), &no_progress).unwrap();
    assert!(report.is_complete());
    let lineage: Value =
        serde_json::from_str(&std::fs::read_to_string(&report.lineage).unwrap()).unwrap();
    assert_eq!(lineage["tool"]["name"], "geounify");
    assert_eq!(lineage["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(lineage["target_crs"]["id"], "EPSG:4548");
    assert_eq!(lineage["manifest"]["sha256"], sha256_file(&manifest.path).unwrap());
    assert_eq!(lineage["crs_files"][0]["sha256"], sha256_file(Path::new(CITY)).unwrap());
    let datasets = lineage["datasets"].as_array().unwrap();
    let expected = [
        ("poi.csv", "WGS84", 2, 2),
        ("roads.geojson", "GCJ02", 1, 3),
        ("grid.wkt", "city:old-grid", 2, 2),
    ];
    for (record, (input, crs, features, vertices)) in datasets.iter().zip(expected) {
        assert_eq!(record["status"], "converted", "{record}");
        assert_eq!(record["input"]["path"], input);
        assert_eq!(record["source_crs"], crs);
        assert_eq!(record["target_crs"], "EPSG:4548");
        assert_eq!(record["counts"]["features"], features);
        assert_eq!(record["counts"]["vertices"], vertices);
        // Every hash in the record is the file's.
        for file in record["input"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .chain(record["outputs"].as_array().unwrap())
        {
            let path = dir.0.join(file["path"].as_str().unwrap());
            assert_eq!(file["sha256"], sha256_file(&path).unwrap(), "{}", path.display());
        }
        // Steps are named, never valued.
        let steps = record["steps"].as_array().unwrap();
        assert!(!steps.is_empty());
        for step in steps {
            assert_eq!(step.as_object().unwrap().len(), 2, "{step}");
        }
    }
    assert_eq!(datasets[2]["outputs"][0]["path"], "out/grid_cgcs2000.wkt");
    let methods: Vec<&str> = datasets[2]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        ["helmert4", "gauss-kruger", "geocentric", "helmert", "geocentric", "gauss-kruger"]
    );
    // No parameter value of the city file appears in the record. SHA-256 digests are left out
    // of the search: a digest is random hex, which can hold "5400" by chance (it did, for
    // the hash of a CRS file's path-dependent manifest in one checkout).
    fn without_digests(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("sha256");
                m.values_mut().for_each(without_digests);
            }
            Value::Array(items) => items.iter_mut().for_each(without_digests),
            _ => {}
        }
    }
    let mut record: Value =
        serde_json::from_str(&std::fs::read_to_string(&report.lineage).unwrap()).unwrap();
    without_digests(&mut record);
    let text = record.to_string();
    for value in ["421337", "4201112", "131.2", "5400"] {
        assert!(!text.contains(value), "{value} in lineage");
    }
    // The converted values are the library's, to the last digit (shortest round-trip form).
    let out = std::fs::read_to_string(dir.0.join("out/poi.csv")).unwrap();
    let t = geounify::Transformer::from_ids("WGS84", "EPSG:4548").unwrap();
    let (e1, n1) = t.transform_xy(116.404, 39.915).unwrap();
    let (e2, n2) = t.transform_xy(116.41, 39.92).unwrap();
    assert_eq!(out, format!("id,lon,lat,名称\n1,{e1},{n1},天安门\n2,{e2},{n2},\"a, b\"\n"));
    // and within 10 nm of PROJ (`cs2cs -f %.9f EPSG:4326 EPSG:4548`, PROJ 9.1.1).
    assert!((e1 - 449_042.047_441_022).abs() < 1e-8 && (n1 - 4_420_261.219_996_822).abs() < 1e-8);
    assert!((e2 - 449_558.718_755_870).abs() < 1e-8 && (n2 - 4_420_812.983_546_196).abs() < 1e-8);
}

#[test]
fn a_failing_dataset_is_recorded_and_the_others_still_convert() {
    let dir = Scratch::new("fail");
    let manifest = read_manifest(&write_exchange(&dir.0, true)).unwrap();
    let report = run(&manifest, &Registry::new(), &no_progress).unwrap();
    assert!(!report.is_complete());
    let lineage: Value =
        serde_json::from_str(&std::fs::read_to_string(&report.lineage).unwrap()).unwrap();
    let bad = &lineage["datasets"][3];
    assert_eq!(bad["status"], "failed");
    assert_eq!(bad["failures"][0]["location"], "line 3");
    assert!(bad["failures"][0]["reason"].as_str().unwrap().contains("95"), "{bad}");
    assert_eq!(bad["outputs"], serde_json::json!([]));
    assert!(!dir.0.join("out/bad.csv").exists(), "nothing written for a failed dataset");
    assert!(dir.0.join("out/poi.csv").exists());
}

#[test]
fn manifest_errors_name_the_line() {
    let dir = Scratch::new("manifest");
    let check = |text: &str, want: &str| {
        let p = dir.0.join("m.toml");
        std::fs::write(&p, text).unwrap();
        let e = read_manifest(&p).unwrap_err().to_string();
        assert!(e.ends_with(want), "{e}");
    };
    check("target = \"EPSG:4548\"\noutput = \"o\"\n[[dataset]]\npath = \"a.csv\"\ncrs = \"WGS84\"\ncolour = 1\n", "m.toml:6: unknown key `colour`; expected one of: path, crs, output, x_col, y_col, z_col, encoding, skip_invalid, force, heights");
    check("target = \"EPSG:4548\"\noutput = \"o\"\n[[dataset]]\npath = \"a.csv\"\ncrs = \"WGS84\"\nheights = \"orthometric\"\n", "m.toml:6: `heights` must be \"elevation\" or \"ellipsoidal\", not \"orthometric\"");
    check(
        "target = \"EPSG:4548\"\noutput = \"o\"\n[[dataset]]\npath = \"a.csv\"\n",
        "m.toml:3: dataset: missing `crs`",
    );
    check(
        "output = \"o\"\n[[dataset]]\npath = \"a.csv\"\ncrs = \"WGS84\"\n",
        "m.toml:1: missing `target`",
    );
    check("target = \"EPSG:4548\"\noutput = \"o\"\n", "m.toml: no [[dataset]] entries");
    check("target = \"EPSG:4548\"\noutput = \"o\"\n[[dataset]]\npath = \"a.csv\"\ncrs = \"WGS84\"\nencoding = \"latin1\"\n", "m.toml:3: dataset a.csv: unknown encoding 'latin1' (utf-8, gbk, gb18030)");
    let e = {
        let p = dir.0.join("m.toml");
        std::fs::write(&p, "target = \"EPSG:4548\"\noutput = \"o\"\n[[dataset]]\npath = \"a.csv\"\ncrs = \"WGS84\"\n[[dataset]]\npath = \"b/a.csv\"\ncrs = \"WGS84\"\n").unwrap();
        read_manifest(&p).unwrap_err().to_string()
    };
    assert!(e.contains("m.toml:6: two datasets would write"), "{e}");
}

#[test]
fn the_sample_exchange_converts_with_verified_hashes_and_counts() {
    // The README's main job, into a scratch folder instead of data/sample/out.
    let dir = Scratch::new("sample");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample/exchange.toml");
    let mut manifest = read_manifest(&sample).unwrap();
    manifest.output = dir.0.clone();
    for d in &mut manifest.datasets {
        d.output = dir.path(d.output.file_name().unwrap().to_str().unwrap());
    }
    let report = run(&manifest, &Registry::new(), &no_progress).unwrap();
    assert!(report.is_complete());
    let lineage: Value =
        serde_json::from_str(&std::fs::read_to_string(&report.lineage).unwrap()).unwrap();
    let counts: Vec<(u64, u64)> = lineage["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (d["counts"]["written"].as_u64().unwrap(), d["counts"]["vertices"].as_u64().unwrap())
        })
        .collect();
    // data/sample/README.md: 32 parcels, 6 roads of 48 vertices, 15 points of interest.
    assert_eq!(counts, [(32, 32), (6, 48), (15, 15)]);
    let base = sample.parent().unwrap();
    for d in lineage["datasets"].as_array().unwrap() {
        for f in d["input"]["files"].as_array().unwrap() {
            let path = base.join(f["path"].as_str().unwrap());
            assert_eq!(f["sha256"], sha256_file(&path).unwrap(), "{}", path.display());
        }
        for f in d["outputs"].as_array().unwrap() {
            // Outputs outside the manifest's folder are recorded with their full path.
            let path = PathBuf::from(f["path"].as_str().unwrap());
            assert_eq!(f["sha256"], sha256_file(&path).unwrap(), "{}", path.display());
        }
    }
}
