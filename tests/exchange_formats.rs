//! Exchanges whose outputs are in another format than their inputs (issue 13, item 6): a
//! manifest's `format` converts every dataset into one format, and a dataset's `output` may name
//! another format. Each output is exactly what `convert` writes for the same pair (bytes for
//! GeoJSON; geometries and attributes for GeoPackage, whose `gpkg_contents` carries a time);
//! unknown formats and outputs that contradict `format` are refused
//! with the rest of the manifest's problems, before anything is written.

mod common;
use common::scratch::Scratch;
use geounify::convert::exchange::{read_manifest, run, Dataset, ExchangeError};
use geounify::convert::{convert_file, ConvertOptions, NoProgress, Progress};
use geounify::Registry;
use rusqlite::Connection;
use serde_json::Value;
use std::path::Path;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample");

fn no_progress(_: &Dataset) -> Box<dyn Progress> {
    Box::new(NoProgress)
}

/// The sample's three datasets and its CRS file, copied into `dir`.
fn sample_into(dir: &Scratch) {
    for name in [
        "city.toml",
        "parcels_old_grid.csv",
        "roads_bj54.shp",
        "roads_bj54.shx",
        "roads_bj54.dbf",
        "roads_bj54.cpg",
        "poi_gcj02.geojson",
    ] {
        std::fs::copy(Path::new(SAMPLE).join(name), dir.path(name)).unwrap();
    }
}

/// The sample's datasets as manifest text, with `format` (if any) at the top.
fn manifest(format: Option<&str>) -> String {
    let format = format.map(|f| format!("format = \"{f}\"\n")).unwrap_or_default();
    format!(
        "target = \"EPSG:4548\"\noutput = \"out\"\ncrs_files = [\"city.toml\"]\n{format}\
         [[dataset]]\npath = \"parcels_old_grid.csv\"\ncrs = \"city:old-grid\"\n\
         x_col = \"E\"\ny_col = \"N\"\nencoding = \"gbk\"\n\
         [[dataset]]\npath = \"roads_bj54.shp\"\ncrs = \"city:bj54-gk117\"\n\
         [[dataset]]\npath = \"poi_gcj02.geojson\"\ncrs = \"GCJ02\"\n"
    )
}

/// `convert` of `input` (in `dir`) from `from` into `output` (in `dir/ref`), as the exchange
/// would convert it (the same options).
fn reference(dir: &Scratch, input: &str, from: &str, output: &str, options: ConvertOptions) {
    let mut registry = Registry::new();
    registry.load_file(dir.path("city.toml")).unwrap();
    let source = registry.lookup(from).unwrap();
    let target = registry.lookup("EPSG:4548").unwrap();
    std::fs::create_dir_all(dir.path("ref")).unwrap();
    let options = ConvertOptions { parallel: true, ..options };
    convert_file(
        &dir.path(input),
        &dir.path("ref").join(output),
        &source,
        &target,
        &options,
        &NoProgress,
    )
    .unwrap();
}

fn parcels_options() -> ConvertOptions {
    ConvertOptions {
        x_col: Some("E".into()),
        y_col: Some("N".into()),
        encoding: geounify::convert::TextEncoding::parse("gbk"),
        ..ConvertOptions::default()
    }
}

fn lineage(dir: &Scratch) -> Value {
    serde_json::from_slice(&std::fs::read(dir.path("out/lineage.json")).unwrap()).unwrap()
}

#[test]
fn a_manifest_format_converts_every_dataset_into_it_as_convert_does() {
    let d = Scratch::new("format-geojson");
    sample_into(&d);
    let path = d.write("exchange.toml", manifest(Some("GeoJSON")));
    let m = read_manifest(&path).unwrap();
    let report = run(&m, &Registry::new(), &no_progress).unwrap();
    assert!(report.is_complete());
    for (input, from, output, options) in [
        ("parcels_old_grid.csv", "city:old-grid", "parcels_old_grid.geojson", parcels_options()),
        ("roads_bj54.shp", "city:bj54-gk117", "roads_bj54.geojson", ConvertOptions::default()),
        ("poi_gcj02.geojson", "GCJ02", "poi_gcj02.geojson", ConvertOptions::default()),
    ] {
        reference(&d, input, from, output, options);
        let ours = std::fs::read(d.path("out").join(output)).unwrap();
        let theirs = std::fs::read(d.path("ref").join(output)).unwrap();
        assert!(ours == theirs, "{output}: the exchange wrote other bytes than convert");
    }
    let l = lineage(&d);
    let formats: Vec<(Value, Value)> = l["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["format"].clone(), r["output_format"].clone()))
        .collect();
    assert_eq!(
        formats,
        [
            (Value::from("csv"), Value::from("geojson")),
            (Value::from("shapefile"), Value::from("geojson")),
            // The same format: no `output_format`.
            (Value::from("geojson"), Value::Null),
        ]
    );
}

/// The geometry blobs and attribute rows of the one feature table of a GeoPackage, in `fid`
/// order (the blobs carry the converted coordinates as stored `f64`s).
fn gpkg_rows(path: &Path) -> Vec<Vec<rusqlite::types::Value>> {
    let conn = Connection::open(path).unwrap();
    let table: String = conn
        .query_row("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\" ORDER BY 1")).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| (0..n).map(|i| r.get(i)).collect::<Result<Vec<_>, _>>())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_geopackage_exchange_has_the_rows_convert_writes() {
    let d = Scratch::new("format-gpkg");
    sample_into(&d);
    let path = d.write("exchange.toml", manifest(Some("gpkg")));
    let report = run(&read_manifest(&path).unwrap(), &Registry::new(), &no_progress).unwrap();
    assert!(report.is_complete());
    let mut listing = common::scratch::listing(&d.path("out"));
    listing.sort();
    assert_eq!(
        listing,
        ["lineage.json", "parcels_old_grid.gpkg", "poi_gcj02.gpkg", "roads_bj54.gpkg"]
    );
    for (input, from, output, options) in [
        ("parcels_old_grid.csv", "city:old-grid", "parcels_old_grid.gpkg", parcels_options()),
        ("roads_bj54.shp", "city:bj54-gk117", "roads_bj54.gpkg", ConvertOptions::default()),
        ("poi_gcj02.geojson", "GCJ02", "poi_gcj02.gpkg", ConvertOptions::default()),
    ] {
        reference(&d, input, from, output, options);
        let ours = gpkg_rows(&d.path("out").join(output));
        assert!(!ours.is_empty(), "{output}");
        assert_eq!(ours, gpkg_rows(&d.path("ref").join(output)), "{output}");
    }
}

#[test]
fn unknown_formats_and_outputs_against_format_are_refused_before_anything_is_written() {
    let d = Scratch::new("format-refused");
    sample_into(&d);
    // An unknown format name is a manifest error, with its line.
    let path = d.write(
        "exchange.toml",
        manifest(Some("xls")).replace("output = \"out\"", "output = \"out\"\n"),
    );
    match read_manifest(&path) {
        Err(ExchangeError::Manifest { line, message, .. }) => {
            assert_eq!(line, Some(5));
            assert!(
                message.starts_with("`format`: unknown format 'xls' (one of: csv, tsv, geojson"),
                "{message}"
            );
        }
        other => panic!("expected a manifest error, got {other:?}"),
    }
    // An output that contradicts `format`, and an output with no format: two problems,
    // nothing written (every format of the table converts into every other, so no pair of
    // formats is refused today; `cross::entries` keeps that check for a format without one).
    let text = format!(
        "{}[[dataset]]\npath = \"poi_gcj02.geojson\"\ncrs = \"GCJ02\"\noutput = \"poi.csv\"\n\
         [[dataset]]\npath = \"poi_gcj02.geojson\"\ncrs = \"GCJ02\"\noutput = \"poi.txt\"\n",
        manifest(Some("wkt"))
    );
    let path = d.write("exchange.toml", text);
    let before = common::scratch::listing(&d.0);
    let problems = match run(&read_manifest(&path).unwrap(), &Registry::new(), &no_progress) {
        Err(ExchangeError::Invalid { problems, .. }) => problems,
        other => panic!("expected a refused manifest, got {other:?}"),
    };
    assert_eq!(common::scratch::listing(&d.0), before, "nothing written");
    assert_eq!(
        problems[0],
        "dataset 4 (poi_gcj02.geojson): output out/poi.csv is not a wkt file, the format the \
         manifest asks for"
    );
    assert!(
        problems[1]
            .starts_with("dataset 5 (poi_gcj02.geojson): output out/poi.txt: unknown format"),
        "{}",
        problems[1]
    );
    assert_eq!(problems.len(), 2, "{problems:#?}");
}

#[test]
fn a_failed_dataset_removes_its_earlier_output_in_the_output_format() {
    let d = Scratch::new("format-failed");
    sample_into(&d);
    // A first run writes roads as a Shapefile set from the GeoJSON of the points...
    let ok = "target = \"EPSG:4548\"\noutput = \"out\"\n\
              [[dataset]]\npath = \"poi_gcj02.geojson\"\ncrs = \"GCJ02\"\noutput = \"poi.shp\"\n";
    let path = d.write("exchange.toml", ok);
    assert!(run(&read_manifest(&path).unwrap(), &Registry::new(), &no_progress)
        .unwrap()
        .is_complete());
    let mut first = common::scratch::listing(&d.path("out"));
    first.sort();
    assert_eq!(first, ["lineage.json", "poi.cpg", "poi.dbf", "poi.prj", "poi.shp", "poi.shx"]);
    // ... then a dataset with that output fails (a coordinate that is not a number): the whole
    // set of the earlier output goes, and the lineage lists it.
    d.write("bad.csv", "id,lon,lat\n1,116.4,39.9\n2,east,39.9\n");
    let failing = "target = \"EPSG:4548\"\noutput = \"out\"\n\
                   [[dataset]]\npath = \"bad.csv\"\ncrs = \"WGS84\"\noutput = \"poi.shp\"\n";
    let path = d.write("exchange.toml", failing);
    let report = run(&read_manifest(&path).unwrap(), &Registry::new(), &no_progress).unwrap();
    assert!(report.datasets[0].result.is_err(), "{:?}", report.datasets[0].result);
    assert_eq!(common::scratch::listing(&d.path("out")), ["lineage.json"]);
    let l = lineage(&d);
    let removed = l["datasets"][0]["removed_previous_outputs"].as_array().unwrap().len();
    assert_eq!(removed, 5);
    assert_eq!(l["datasets"][0]["output_format"], "shapefile");
}
