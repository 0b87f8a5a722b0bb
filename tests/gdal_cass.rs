//! South CASS point files against GDAL (feature `gdal-interop`; `.ci/run` installs gdal-bin).
//! GDAL has no CASS driver, but its CSV driver reads such a file (a `.csv` copy) with the open
//! options `HEADERS=NO`, `X_POSSIBLE_NAMES=field_3` (Y, the easting) and
//! `Y_POSSIBLE_NAMES=field_4` (X, the northing): `ogr2ogr -t_srs` (PROJ) converts it, and our
//! `geounify convert` of the `.dat` must give the same coordinates within 1 µm (within half the
//! written step plus 1e-11° for millimetre input written as 9-decimal degrees), and GDAL reads
//! our output back with the same points and fields.
#![cfg(feature = "gdal-interop")]

mod common;

use common::cli::run_in;
use common::gdal;
use common::scratch::Scratch;
use std::path::Path;

/// GDAL's reading of the CASS file `dat` (through a `.csv` copy), converted to `to` if given:
/// for each point its x, y and the fields id, code, H as GDAL reads them.
fn gdal_points(dat: &Path, to: Option<&str>) -> Vec<(f64, f64, String)> {
    let copy = dat.with_extension("gdal.csv");
    std::fs::copy(dat, &copy).unwrap();
    let mut args = vec![
        "-f",
        "CSV",
        "-lco",
        "GEOMETRY=AS_XY",
        "-oo",
        "HEADERS=NO",
        "-oo",
        "X_POSSIBLE_NAMES=field_3",
        "-oo",
        "Y_POSSIBLE_NAMES=field_4",
        "-oo",
        "KEEP_GEOM_COLUMNS=NO",
    ];
    if let Some(to) = to {
        args.extend(["-s_srs", "EPSG:4490", "-t_srs", to]);
    }
    args.extend(["/vsistdout/", copy.to_str().unwrap()]);
    let csv = gdal::run("ogr2ogr", &args);
    std::fs::remove_file(&copy).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("X,Y,field_1,field_2,field_5"), "{csv}");
    lines
        .map(|l| {
            let (x, rest) = l.split_once(',').unwrap();
            let (y, fields) = rest.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap(), fields.replace('"', ""))
        })
        .collect()
}

/// Points near Shenzhen on CGCS2000, longitude/latitude with 11 decimals (0.001 mm), Chinese
/// ids and codes, CRLF, a blank line, an empty code and a missing H.
const DEGREES: &str = "K1,控制点,114.05123456789,22.55123456789,12.345\r\n\
路口2,,114.10000000000,22.60000000000\r\n\
\r\n\
3,房角,114.19876543210,22.61987654321,1.500\r\n";

#[test]
fn cgcs2000_degrees_to_gauss_kruger_as_ogr2ogr_converts_them() {
    let dir = Scratch::new("gdal-cass");
    let input = dir.write("in.dat", DEGREES);
    let ours = dir.path("ours.dat");
    let args = ["convert", "--from", "EPSG:4490", "--to", "EPSG:4547", "in.dat", "-o", "ours.dat"];
    let (code, stderr) = run_in(&args, &dir.0);
    assert_eq!(code, 0, "{stderr}");
    let theirs = gdal_points(&input, Some("EPSG:4547"));
    // GDAL reads our output (metres) back: the same points and fields.
    let back = gdal_points(&ours, None);
    assert_eq!(theirs.len(), 3);
    assert_eq!(back.len(), 3);
    for (t, b) in theirs.iter().zip(&back) {
        // 11 decimals of a degree are written as 7 decimals of a metre (0.1 µm).
        assert!((t.0 - b.0).abs() < 1e-6 && (t.1 - b.1).abs() < 1e-6, "{t:?} vs ours {b:?}");
        assert_eq!(t.2, b.2, "id, code and H as GDAL reads them");
    }
    assert_eq!(back[0].2, "K1,控制点,12.345");
    assert_eq!(back[1].2, "路口2,,");
    let text = std::fs::read_to_string(&ours).unwrap();
    assert_eq!(text.matches("\r\n").count(), 4, "CRLF and the blank line kept: {text}");
}

#[test]
fn gauss_kruger_millimetres_to_cgcs2000_degrees_as_ogr2ogr_converts_them() {
    let dir = Scratch::new("gdal-cass-back");
    let input = dir.write(
        "in.dat",
        "1,,505269.902,2494841.799,12.345\n2,KZD,510282.217,2500244.536\n3,,520561.484,2502469.662,1\n",
    );
    let (code, stderr) = run_in(
        &["convert", "--from", "EPSG:4547", "--to", "EPSG:4490", "in.dat", "-o", "ours.dat"],
        &dir.0,
    );
    assert_eq!(code, 0, "{stderr}");
    // GDAL converts the same file from EPSG:4547 (its .csv copy read as above).
    let copy = dir.path("in.csv");
    std::fs::copy(&input, &copy).unwrap();
    let csv = gdal::run(
        "ogr2ogr",
        &[
            "-f",
            "CSV",
            "-lco",
            "GEOMETRY=AS_XY",
            "-lco",
            "SEPARATOR=COMMA",
            "-oo",
            "HEADERS=NO",
            "-oo",
            "X_POSSIBLE_NAMES=field_3",
            "-oo",
            "Y_POSSIBLE_NAMES=field_4",
            "-oo",
            "KEEP_GEOM_COLUMNS=NO",
            "-s_srs",
            "EPSG:4547",
            "-t_srs",
            "EPSG:4490",
            "/vsistdout/",
            copy.to_str().unwrap(),
        ],
    );
    let theirs: Vec<[f64; 2]> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            [f[0].parse().unwrap(), f[1].parse().unwrap()]
        })
        .collect();
    let ours = gdal_points(&dir.path("ours.dat"), None);
    assert_eq!(theirs.len(), 3);
    assert_eq!(ours.len(), 3);
    for (t, o) in theirs.iter().zip(&ours) {
        // Millimetres are written as 9 decimals of a degree: within half that step (and GDAL's
        // 15 significant digits, ~1e-13°) of PROJ's value.
        let tolerance = 0.5e-9 + 1e-11;
        assert!((t[0] - o.0).abs() <= tolerance && (t[1] - o.1).abs() <= tolerance, "{t:?} {o:?}");
    }
    assert_eq!(ours[1].2, "2,KZD,");
    let text = std::fs::read_to_string(dir.path("ours.dat")).unwrap();
    let first: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert_eq!(first[2].split_once('.').unwrap().1.len(), 9, "{text}");
    assert_eq!(first[4], "12.345", "the elevation copied");
}
