//! CASS, MIF and DXF between formats against GDAL (feature `gdal-interop`): GDAL reads the MIF
//! and DXF geounify writes from another format, with the coordinates of `ogr2ogr -t_srs`'s own
//! conversion of the same input within 1 µm (EPSG:4490 → EPSG:4547) and the attributes (MIF)
//! and layers (DXF); and MIF and DXF inputs (a MIF GDAL wrote, a GBK DXF) and a CASS file (GDAL
//! reads the same points as CSV) convert into GeoJSON as `ogr2ogr -t_srs` converts them, within
//! 1e-11° (EPSG:4547 → EPSG:4490).
#![cfg(feature = "gdal-interop")]

mod common;

use common::cli::run_in;
use common::gdal;
use common::scratch::Scratch;
use std::path::Path;

/// Points, a line and a polygon with a hole on CGCS2000 near Shenzhen, Chinese attributes.
const SOURCE: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"layer":"控制点","名称":"路口","n":1},"geometry":{"type":"Point","coordinates":[114.05,22.55]}},
{"type":"Feature","properties":{"layer":"道路","名称":"深南大道","n":2},"geometry":{"type":"LineString","coordinates":[[114.0,22.5],[114.1,22.6],[114.2,22.62]]}},
{"type":"Feature","properties":{"layer":"地块","名称":"地块, \"甲\"","n":3},"geometry":{"type":"Polygon","coordinates":[[[114.0,22.5],[114.01,22.5],[114.01,22.51],[114.0,22.5]],[[114.002,22.502],[114.003,22.502],[114.003,22.503],[114.002,22.502]]]}}]}"#;

fn geounify(dir: &Scratch, args: &[&str]) {
    let (code, stderr) = run_in(args, &dir.0);
    assert_eq!(code, 0, "{args:?}: {stderr}");
}

/// GDAL's rows of `path`: (the numbers of the WKT geometry, the rest of the row).
fn rows(path: &Path) -> Vec<(Vec<f64>, String)> {
    gdal::read_as_csv(path)
        .lines()
        .skip(1)
        .map(|row| match row.strip_prefix('"') {
            Some(rest) => {
                let end = rest.find('"').unwrap();
                (gdal::numbers(&rest[..end]), rest[end + 1..].to_string())
            }
            None => (Vec::new(), row.to_string()),
        })
        .collect()
}

fn close(what: &str, ours: &[f64], theirs: &[f64], tolerance: f64) {
    assert_eq!(ours.len(), theirs.len(), "{what}: {ours:?} vs {theirs:?}");
    for (a, b) in ours.iter().zip(theirs) {
        assert!((a - b).abs() <= tolerance, "{what}: {a} vs {b}");
    }
}

#[test]
fn gdal_reads_our_mif_and_dxf_as_ogr2ogr_converts_the_source() {
    let dir = Scratch::new("gdal-cross-survey-out");
    let src = dir.write("src.geojson", SOURCE);
    let theirs = dir.path("theirs.gpkg");
    let (s, t) = (src.to_str().unwrap(), theirs.to_str().unwrap());
    gdal::run("ogr2ogr", &["-s_srs", "EPSG:4490", "-t_srs", "EPSG:4547", t, s]);
    let theirs = rows(&theirs);
    for ext in ["mif", "dxf"] {
        let ours = dir.path(&format!("ours.{ext}"));
        let o = ours.to_str().unwrap();
        geounify(&dir, &["convert", "--from", "EPSG:4490", "--to", "EPSG:4547", s, "-o", o]);
        let ours_rows = rows(&ours);
        // DXF has no polygon with holes: each ring is a closed polyline (one entity each).
        let theirs_coords: Vec<f64> = theirs.iter().flat_map(|r| r.0.clone()).collect();
        let ours_coords: Vec<f64> = ours_rows.iter().flat_map(|r| r.0.clone()).collect();
        close(ext, &ours_coords, &theirs_coords, 1e-6);
        for (name, (_, rest)) in ["控制点", "道路", "地块"].iter().zip(&ours_rows) {
            assert!(rest.contains(name), "{ext}: {rest}");
        }
        if ext == "mif" {
            assert_eq!(ours_rows.len(), 3);
            assert!(ours_rows[2].1.contains("地块, \"\"甲\"\""), "{}", ours_rows[2].1);
            assert_eq!(gdal::declared_epsg(&ours).as_deref(), Some("EPSG:4547"));
        }
    }
}

#[test]
fn mif_dxf_and_cass_inputs_convert_as_ogr2ogr_converts_them() {
    let dir = Scratch::new("gdal-cross-survey-in");
    // A MIF GDAL wrote (tests/data/gdal), in EPSG:4547.
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gdal");
    let mif = dir.path("m.mif");
    std::fs::copy(data.join("cgcs2000_gbk_4547.mif"), &mif).unwrap();
    std::fs::copy(data.join("cgcs2000_gbk_4547.mid"), mif.with_extension("mid")).unwrap();
    // A DXF (R2000, ANSI_936) and a CASS file in EPSG:4547; GDAL reads the CASS points as CSV.
    let dxf = dir.write(
        "d.dxf",
        "  0\nSECTION\n  2\nENTITIES\n  0\nPOINT\n  8\n0\n 10\n500100.5\n 20\n2500100.25\n 30\n0\n\
         \x20 0\nLWPOLYLINE\n  8\n0\n 90\n3\n 70\n0\n 10\n500000\n 20\n2500000\n 10\n500010.125\n \
         20\n2500000\n 10\n500010\n 20\n2500010.5\n  0\nLINE\n  8\n0\n 10\n500000\n 20\n2500000\n \
         30\n0\n 11\n500005\n 21\n2500005\n 31\n0\n  0\nENDSEC\n  0\nEOF\n",
    );
    let cass = dir.write("p.dat", "K1,KZD,500123.456,2500123.456\r\n2,,500130.002,2500150.118\r\n");
    let csv = dir
        .write("p.csv", "id,code,x,y\nK1,KZD,500123.456,2500123.456\n2,,500130.002,2500150.118\n");
    for (input, gdal_input) in [(&mif, &mif), (&dxf, &dxf), (&cass, &csv)] {
        let name = input.file_name().unwrap().to_str().unwrap().to_string();
        let ours = dir.path(&format!("ours_{name}.geojson"));
        let theirs = dir.path(&format!("theirs_{name}.geojson"));
        let (i, o) = (input.to_str().unwrap(), ours.to_str().unwrap());
        geounify(&dir, &["convert", "--from", "EPSG:4547", "--to", "EPSG:4490", i, "-o", o]);
        let mut args = vec!["-s_srs", "EPSG:4547", "-t_srs", "EPSG:4490"];
        if gdal_input.extension().unwrap() == "csv" {
            args.extend(["-oo", "X_POSSIBLE_NAMES=x", "-oo", "Y_POSSIBLE_NAMES=y"]);
        }
        args.extend([theirs.to_str().unwrap(), gdal_input.to_str().unwrap()]);
        gdal::run("ogr2ogr", &args);
        let ours: Vec<f64> = rows(&ours).into_iter().flat_map(|r| r.0).collect();
        let mut theirs: Vec<f64> = rows(&theirs).into_iter().flat_map(|r| r.0).collect();
        if name == "d.dxf" {
            // GDAL makes a POINT or LINE with a 30 group 3D at z = 0; geounify reads a DXF
            // geometry as 3D only when a z is not 0 (no coordinate here is 0).
            theirs.retain(|v| *v != 0.0);
        }
        close(&name, &ours, &theirs, 1e-11);
    }
}
