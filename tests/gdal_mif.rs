//! MapInfo MIF/MID against GDAL (feature `gdal-interop`; `.ci/run` installs gdal-bin): sets
//! GDAL writes (GBK attributes, CGCS2000 longitude/latitude and EPSG:4547) are converted by
//! `geounify convert` as GDAL's own `ogr2ogr -t_srs` (PROJ) converts them — within 1 µm in
//! metres, 1e-11° in degrees — and GDAL reads our output back with the same features and
//! attributes and recognises its CoordSys (`gdalsrsinfo -e`).
#![cfg(feature = "gdal-interop")]

mod common;

use common::cli::run_in;
use common::gdal;
use common::scratch::Scratch;

const SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gdal/mif_source.geojson");

/// GDAL's and our conversion of `input` (from `from`) to `to`, read by GDAL: same rows, same
/// attributes, numbers within `tolerance`.
fn agrees_with_gdal(dir: &Scratch, input: &str, from: &str, to: &str, tolerance: f64) {
    let (code, stderr) =
        run_in(&["convert", "--from", from, "--to", to, input, "-o", "ours.mif"], &dir.0);
    assert_eq!(code, 0, "{stderr}");
    gdal::run(
        "ogr2ogr",
        &[
            "-f",
            "MapInfo File",
            "-lco",
            "ENCODING=CP936",
            "-s_srs",
            from,
            "-t_srs",
            to,
            dir.path("theirs.mif").to_str().unwrap(),
            dir.path(input).to_str().unwrap(),
        ],
    );
    let (ours, theirs) =
        (gdal::read_as_csv(&dir.path("ours.mif")), gdal::read_as_csv(&dir.path("theirs.mif")));
    let (a_rows, b_rows): (Vec<&str>, Vec<&str>) =
        (ours.lines().collect(), theirs.lines().collect());
    assert_eq!(a_rows.len(), b_rows.len(), "{ours}\n{theirs}");
    assert_eq!(a_rows.len(), 6, "a header and 5 features: {ours}");
    for (a, b) in a_rows.iter().zip(&b_rows) {
        assert_eq!(a.rsplit_once('"').map(|x| x.1), b.rsplit_once('"').map(|x| x.1), "{a}\n{b}");
        let (na, nb) = (gdal::numbers(a), gdal::numbers(b));
        assert_eq!(na.len(), nb.len(), "{a}\n{b}");
        for (x, y) in na.iter().zip(&nb) {
            assert!((x - y).abs() <= tolerance, "{x} vs GDAL's {y}\n{a}\n{b}");
        }
    }
    assert!(
        ours.contains("深南大道") && ours.contains("地块, \"\"甲\"\""),
        "GBK attributes: {ours}"
    );
    assert_eq!(gdal::feature_count(&dir.path("ours.mif")), 5);
}

#[test]
fn cgcs2000_degrees_gdal_writes_convert_to_gauss_kruger_as_gdal_converts_them() {
    let dir = Scratch::new("gdal-mif");
    gdal::run(
        "ogr2ogr",
        &[
            "-f",
            "MapInfo File",
            "-lco",
            "ENCODING=CP936",
            "-a_srs",
            "EPSG:4490",
            dir.path("in.mif").to_str().unwrap(),
            SOURCE,
        ],
    );
    agrees_with_gdal(&dir, "in.mif", "EPSG:4490", "EPSG:4547", 1e-6);
    // GDAL identifies our CoordSys (CGCS2000 as MapInfo datum 33, GRS 80) as EPSG:4547; its
    // own (datum 104) it cannot.
    assert_eq!(gdal::declared_epsg(&dir.path("ours.mif")).as_deref(), Some("EPSG:4547"));
    assert_ne!(gdal::declared_epsg(&dir.path("theirs.mif")).as_deref(), Some("EPSG:4547"));
    // The attribute file is copied byte for byte.
    assert_eq!(
        std::fs::read(dir.path("ours.mid")).unwrap(),
        std::fs::read(dir.path("in.mid")).unwrap()
    );
}

#[test]
fn gauss_kruger_gdal_writes_converts_to_cgcs2000_degrees_as_gdal_converts_it() {
    let dir = Scratch::new("gdal-mif-back");
    gdal::run(
        "ogr2ogr",
        &[
            "-f",
            "MapInfo File",
            "-lco",
            "ENCODING=CP936",
            "-s_srs",
            "EPSG:4490",
            "-t_srs",
            "EPSG:4547",
            dir.path("in.mif").to_str().unwrap(),
            SOURCE,
        ],
    );
    agrees_with_gdal(&dir, "in.mif", "EPSG:4547", "EPSG:4490", 1e-11);
    // Geographic on GRS 80: GDAL lists every GRS 80 geographic CRS, CGCS2000 among them.
    let info = gdal::run("gdalsrsinfo", &["-e", dir.path("ours.mif").to_str().unwrap()]);
    assert!(info.lines().any(|l| l.trim() == "EPSG:4490"), "{info}");
}

#[test]
fn a_city_datums_seven_parameters_are_read_back_by_gdal() {
    let dir = Scratch::new("gdal-mif-city");
    gdal::run(
        "ogr2ogr",
        &[
            "-f",
            "MapInfo File",
            "-a_srs",
            "EPSG:4490",
            dir.path("in.mif").to_str().unwrap(),
            SOURCE,
        ],
    );
    let city = concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml");
    let args = [
        "--crs-file",
        city,
        "convert",
        "--from",
        "EPSG:4490",
        "--to",
        "city:bj54-gk117",
        "--force",
        "in.mif",
        "-o",
        "ours.mif",
    ];
    let (code, stderr) = run_in(&args, &dir.0);
    assert_eq!(code, 0, "{stderr}");
    // MapInfo's 7-parameter datum 9999 with the city's Beijing 1954 parameters (coordinate
    // frame rotations in city.toml: MapInfo's sign), read by GDAL as the position-vector
    // TOWGS84 geounify writes into a .prj.
    let proj = gdal::run("gdalsrsinfo", &["-o", "proj4", dir.path("ours.mif").to_str().unwrap()]);
    assert!(
        proj.contains("+ellps=krass +towgs84=-12.7,131.2,47.6,-0.41,0.16,-1.05,-2.7")
            && proj.contains("+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0"),
        "{proj}"
    );
}
