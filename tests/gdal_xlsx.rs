//! Excel `.xlsx` against GDAL 3.6's XLSX driver (feature `gdal-interop`): a workbook GDAL writes
//! (`ogr2ogr -f XLSX`) is converted by geounify — into a workbook and into GeoJSON — as
//! `ogr2ogr -t_srs` (PROJ) converts the same points, within 1 µm; GDAL reads the workbooks
//! geounify writes, with their columns, types and values.
#![cfg(feature = "gdal-interop")]

mod common;

use common::cli::run_in;
use common::gdal;
use common::scratch::Scratch;

/// Points on CGCS2000 (EPSG:4490) in Guangdong and Anhui, with Chinese names.
const POINTS: &str = "name,lon,lat,code\n\
路口,114.05,22.55,1\n\
控制点B,113.35259,22.58717,2\n\
水准点C,114.807851,31.996778,3\n\
D,113.40487322255349,24.750099633090578,4\n";

/// `ogr2ogr -t_srs EPSG:4547` of `csv`'s lon/lat points: (easting, northing) per row.
fn gdal_reference(dir: &Scratch, csv: &std::path::Path) -> Vec<(f64, f64)> {
    let out = gdal::run(
        "ogr2ogr",
        &[
            "-f",
            "CSV",
            "-lco",
            "GEOMETRY=AS_XY",
            "-s_srs",
            "EPSG:4490",
            "-t_srs",
            "EPSG:4547",
            "-oo",
            "X_POSSIBLE_NAMES=lon",
            "-oo",
            "Y_POSSIBLE_NAMES=lat",
            "/vsistdout/",
            csv.to_str().unwrap(),
        ],
    );
    let _ = dir;
    out.lines()
        .skip(1)
        .map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            (v[0].parse().unwrap(), v[1].parse().unwrap())
        })
        .collect()
}

/// GDAL writes the points as numeric cells (`AUTODETECT_TYPE=YES`) or, by default, as text
/// cells (and then reads its own header row as data: `Field1, ...`).
#[test]
fn a_workbook_gdal_writes_converts_as_ogr2ogr_converts_it() {
    workbook_from_gdal("numbers", &["-oo", "AUTODETECT_TYPE=YES"]);
    workbook_from_gdal("text", &[]);
}

fn workbook_from_gdal(name: &str, open: &[&str]) {
    let dir = Scratch::new(&format!("gdal-xlsx-in-{name}"));
    let csv = dir.write("pts.csv", POINTS);
    let input = dir.path("pts.xlsx");
    let mut args = vec!["-f", "XLSX"];
    args.extend_from_slice(open);
    args.extend([input.to_str().unwrap(), csv.to_str().unwrap()]);
    gdal::run("ogr2ogr", &args);
    let reference = gdal_reference(&dir, &csv);
    assert_eq!(reference.len(), 4);

    // Into a workbook: GDAL reads ours back, the same columns with converted lon/lat.
    let ours = dir.path("ours.xlsx");
    let args = ["convert", "--from", "EPSG:4490", "--to", "EPSG:4547"];
    let (code, stderr) = run_in(
        &[&args[..], &[input.to_str().unwrap(), "-o", ours.to_str().unwrap()]].concat(),
        &dir.0,
    );
    assert_eq!(code, 0, "{stderr}");
    let text = gdal::read_as_csv(&ours);
    let at = text.lines().position(|l| l == "name,lon,lat,code").expect("the header");
    let rows: Vec<&str> = text.lines().skip(at).collect();
    assert_eq!(rows.len(), 5, "{text}");
    for (row, (e, n)) in rows[1..].iter().zip(&reference) {
        let cells: Vec<&str> = row.split(',').map(|c| c.trim_matches('"')).collect();
        let (x, y): (f64, f64) = (cells[1].parse().unwrap(), cells[2].parse().unwrap());
        assert!((x - e).abs() < 1e-6 && (y - n).abs() < 1e-6, "{row} vs GDAL's {e} {n}");
    }
    assert!(rows[1].starts_with("路口,"), "{text}");

    // Into GeoJSON: GDAL reads the points where ogr2ogr puts them.
    let geojson = dir.path("ours.geojson");
    let (code, stderr) = run_in(
        &[&args[..], &[input.to_str().unwrap(), "-o", geojson.to_str().unwrap()]].concat(),
        &dir.0,
    );
    assert_eq!(code, 0, "{stderr}");
    let text = gdal::read_as_csv(&geojson);
    for (row, (e, n)) in text.lines().skip(1).zip(&reference) {
        let v = gdal::numbers(row);
        assert!((v[0] - e).abs() < 1e-6 && (v[1] - n).abs() < 1e-6, "{row} vs GDAL's {e} {n}");
    }
    assert_eq!(gdal::declared_epsg(&geojson).as_deref(), Some("EPSG:4547"));
}

#[test]
fn gdal_reads_the_workbooks_geounify_writes() {
    let dir = Scratch::new("gdal-xlsx-out");
    let csv = dir.write("pts.csv", POINTS);
    let reference = gdal_reference(&dir, &csv);
    // CSV → xlsx between formats: columns x, y, then the attributes with their types.
    let ours = dir.path("ours.xlsx");
    let (code, stderr) = run_in(
        &[
            "convert",
            "--from",
            "EPSG:4490",
            "--to",
            "EPSG:4547",
            csv.to_str().unwrap(),
            "-o",
            ours.to_str().unwrap(),
        ],
        &dir.0,
    );
    assert_eq!(code, 0, "{stderr}");
    let text = gdal::read_as_csv(&ours);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "x,y,name,code", "{text}");
    assert_eq!(rows.len(), 5, "{text}");
    for (row, (e, n)) in rows[1..].iter().zip(&reference) {
        let cells: Vec<&str> = row.split(',').collect();
        let (x, y): (f64, f64) = (cells[0].parse().unwrap(), cells[1].parse().unwrap());
        assert!((x - e).abs() < 1e-6 && (y - n).abs() < 1e-6, "{row} vs GDAL's {e} {n}");
    }
    // GDAL's CSV driver quotes the values of its Integer fields.
    assert!(rows[1].ends_with(",路口,\"1\""), "{text}");
    let info = gdal::run("ogrinfo", &["-ro", "-so", "-al", ours.to_str().unwrap()]);
    assert!(info.contains("Feature Count: 4"), "{info}");
    assert!(info.contains("x: Real") && info.contains("name: String"), "{info}");
    assert!(info.contains("code: Integer"), "{info}");
}
