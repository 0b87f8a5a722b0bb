//! Conversions between formats against GDAL (feature `gdal-interop`): GDAL reads every output
//! geounify writes from another format (GeoPackage, Shapefile, GeoJSON, GeoJSON sequence, CSV)
//! with the features, attribute values and CRS of `ogr2ogr -t_srs`'s own conversion and
//! coordinates within 1 µm of it (EPSG:4490 → EPSG:4547); and files GDAL writes in each format
//! convert into another format as `ogr2ogr -t_srs` converts them.
#![cfg(feature = "gdal-interop")]

mod common;

use common::cli::run_in;
use common::gdal;
use common::scratch::Scratch;
use std::path::Path;

/// Points with heights on CGCS2000 near Beijing: Chinese text, integers, reals, codes with
/// leading zeros, empty values, a feature without geometry.
const POINTS: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"名称":"天安门","人口":3,"比例":0.5,"编号":"007","备注":"含,逗号"},"geometry":{"type":"Point","coordinates":[116.397,39.908,44.5]}},
{"type":"Feature","properties":{"名称":"故宫","人口":12,"比例":1.25,"编号":"010","备注":null},"geometry":{"type":"Point","coordinates":[116.403,39.924,43]}},
{"type":"Feature","properties":{"名称":"空","人口":null,"比例":null,"编号":null,"备注":null},"geometry":null},
{"type":"Feature","properties":{"名称":"西单","人口":-7,"比例":2.75,"编号":"011","备注":"引号\"在内"},"geometry":{"type":"Point","coordinates":[116.374,39.913,50.25]}}]}"#;

/// Polygons (one with a hole, one multi) without heights.
const POLYGONS: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"名称":"地块一","面积":12.5},"geometry":{"type":"Polygon","coordinates":[[[116.3,39.9],[116.31,39.9],[116.31,39.91],[116.3,39.91],[116.3,39.9]],[[116.302,39.902],[116.302,39.905],[116.305,39.905],[116.302,39.902]]]}},
{"type":"Feature","properties":{"名称":"地块二","面积":7},"geometry":{"type":"MultiPolygon","coordinates":[[[[116.4,39.9],[116.41,39.9],[116.41,39.91],[116.4,39.9]]],[[[116.5,39.9],[116.51,39.9],[116.51,39.91],[116.5,39.9]]]]}}]}"#;

/// GDAL's reading of `path` as CSV rows (WKT first); a CSV written by geounify is read with its
/// x/y/z (or wkt) columns as the geometry.
fn rows(path: &Path) -> Vec<String> {
    let p = path.to_str().unwrap();
    let text = if p.ends_with(".csv") {
        gdal::run(
            "ogr2ogr",
            &[
                "-f",
                "CSV",
                "-lco",
                "GEOMETRY=AS_WKT",
                "-oo",
                "X_POSSIBLE_NAMES=x",
                "-oo",
                "Y_POSSIBLE_NAMES=y",
                "-oo",
                "Z_POSSIBLE_NAMES=z",
                "-oo",
                "KEEP_GEOM_COLUMNS=NO",
                "-oo",
                "AUTODETECT_TYPE=YES",
                "/vsistdout/",
                p,
            ],
        )
    } else {
        gdal::read_as_csv(path)
    };
    text.lines().skip(1).map(str::to_string).collect()
}

/// The attributes of a GDAL CSV row: what follows the WKT (a quoted first field, or an empty
/// one for a feature without geometry).
fn attributes(row: &str) -> &str {
    if row.starts_with('"') {
        row.splitn(3, '"').nth(2).unwrap_or("")
    } else {
        row
    }
}

/// The fields of CSV text (RFC 4180, one line), unquoted.
fn fields(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// The coordinates of a GDAL CSV row's WKT.
fn coordinates(row: &str) -> Vec<f64> {
    if !row.starts_with('"') {
        return Vec::new();
    }
    gdal::numbers(row.split('"').nth(1).unwrap())
}

/// Rows of `ours` and `theirs` agree: as many, the same attributes, coordinates within 1 µm
/// (sorted, so that ring orientation and order do not matter for polygons).
fn agree(what: &str, ours: &[String], theirs: &[String]) {
    assert_eq!(ours.len(), theirs.len(), "{what}:\n{ours:#?}\n{theirs:#?}");
    for (a, b) in ours.iter().zip(theirs) {
        let (fa, fb) = (fields(attributes(a)), fields(attributes(b)));
        assert_eq!(fa.len(), fb.len(), "{what}:\n{a}\n{b}");
        for (u, v) in fa.iter().zip(&fb) {
            // Numbers by value: GDAL writes a Shapefile real with its field's 15 decimals.
            match (u.parse::<f64>(), v.parse::<f64>()) {
                (Ok(x), Ok(y)) => assert_eq!(x, y, "{what}:\n{a}\n{b}"),
                _ => assert_eq!(u, v, "{what}:\n{a}\n{b}"),
            }
        }
        let (mut x, mut y) = (coordinates(a), coordinates(b));
        assert_eq!(x.len(), y.len(), "{what}:\n{a}\n{b}");
        x.sort_by(f64::total_cmp);
        y.sort_by(f64::total_cmp);
        for (u, v) in x.iter().zip(&y) {
            assert!((u - v).abs() < 1e-6, "{what}: {u} vs GDAL's {v}\n{a}\n{b}");
        }
    }
}

fn geounify(dir: &Scratch, args: &[&str]) {
    let (code, stderr) = run_in(args, &dir.0);
    assert_eq!(code, 0, "{args:?}: {stderr}");
}

#[test]
fn gdal_reads_every_output_as_ogr2ogr_converts() {
    for (name, source, outputs) in [
        ("points", POINTS, &["gpkg", "shp", "geojson", "geojsonl", "csv"][..]),
        ("polygons", POLYGONS, &["gpkg", "shp", "geojson", "csv"][..]),
    ] {
        let dir = Scratch::new(&format!("gdal-cross-{name}"));
        let src = dir.write("src.geojson", source);
        let theirs = dir.path("theirs.gpkg");
        gdal::run(
            "ogr2ogr",
            &[
                "-s_srs",
                "EPSG:4490",
                "-t_srs",
                "EPSG:4547",
                theirs.to_str().unwrap(),
                src.to_str().unwrap(),
            ],
        );
        let theirs_rows = rows(&theirs);
        for ext in outputs {
            let ours = dir.path(&format!("ours.{ext}"));
            geounify(
                &dir,
                &[
                    "convert",
                    "--from",
                    "EPSG:4490",
                    "--to",
                    "EPSG:4547",
                    src.to_str().unwrap(),
                    "-o",
                    ours.to_str().unwrap(),
                ],
            );
            assert_eq!(gdal::feature_count(&ours), theirs_rows.len() as u64, "{name}.{ext}");
            agree(&format!("{name} → {ext}"), &rows(&ours), &theirs_rows);
            if matches!(*ext, "gpkg" | "shp" | "geojson") {
                let declared = if *ext == "shp" { ours.with_extension("prj") } else { ours };
                assert_eq!(
                    gdal::declared_epsg(&declared).as_deref(),
                    Some("EPSG:4547"),
                    "{name}.{ext}"
                );
            }
        }
    }
}

#[test]
fn files_gdal_writes_convert_into_other_formats_as_ogr2ogr_converts_them() {
    let dir = Scratch::new("gdal-cross-inputs");
    let src = dir.write("src.geojson", POINTS);
    let theirs = dir.path("theirs.geojson");
    gdal::run(
        "ogr2ogr",
        &[
            "-s_srs",
            "EPSG:4490",
            "-t_srs",
            "EPSG:4547",
            theirs.to_str().unwrap(),
            src.to_str().unwrap(),
        ],
    );
    let theirs_rows = rows(&theirs);
    for (input, extra) in [
        ("in.gpkg", &[][..]),
        ("in.shp", &["-lco", "ENCODING=UTF-8"][..]),
        ("in.csv", &["-lco", "GEOMETRY=AS_XYZ"][..]),
    ] {
        let path = dir.path(input);
        let mut args = vec!["-a_srs", "EPSG:4490"];
        args.extend_from_slice(extra);
        args.extend([path.to_str().unwrap(), src.to_str().unwrap()]);
        gdal::run("ogr2ogr", &args);
        for out in ["ours.gpkg", "ours.geojson"] {
            let ours = dir.path(out);
            let _ = std::fs::remove_file(&ours);
            geounify(
                &dir,
                &[
                    "convert",
                    "--from",
                    "EPSG:4490",
                    "--to",
                    "EPSG:4547",
                    path.to_str().unwrap(),
                    "-o",
                    ours.to_str().unwrap(),
                ],
            );
            agree(&format!("{input} → {out}"), &rows(&ours), &theirs_rows);
        }
    }
}
