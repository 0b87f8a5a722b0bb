//! `geounify convert` and `geounify unify`, run as a user runs them: exit status, stderr
//! reports, files written or not.

mod common;
use common::cli::{run_in as run, spawn_in_until};
use common::scratch::Scratch;
use std::process::Command;

const CITY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml");

#[test]
fn convert_writes_the_output_and_summarises_on_stderr() {
    let d = Scratch::new("ok");
    d.write("in.csv", "id,lon,lat\n1,116.404,39.915\n2,,\n");
    let (code, err) =
        run(&["convert", "--from", "WGS84", "--to", "EPSG:4548", "in.csv", "-o", "out.csv"], &d.0);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "geounify: in.csv: 2 features (1 vertices, 1 without geometry) → out.csv\n");
    // The library's result, shortest round-trip digits (within 10 nm of cs2cs: tests/exchange.rs).
    let (e, n) = geounify::Transformer::from_ids("WGS84", "EPSG:4548")
        .unwrap()
        .transform_xy(116.404, 39.915)
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(d.0.join("out.csv")).unwrap(),
        format!("id,lon,lat\n1,{e},{n}\n2,,\n")
    );
    assert_eq!(
        d.listing(),
        ["in.csv", "out.csv"],
        "no temporary file left, no progress bar when piped"
    );
}

#[test]
fn implausible_data_stops_unless_forced() {
    let d = Scratch::new("sanity");
    d.write("in.csv", "x,y\n39448688.9,4418598.0\n39449000.0,4418700.0\n");
    let (code, err) =
        run(&["convert", "--from", "EPSG:4548", "--to", "WGS84", "in.csv", "-o", "out.csv"], &d.0);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "geounify: in.csv: eastings carry a zone prefix (39) but EPSG:4548 has none (typical x \
         39449000); values look like CGCS2000 / 3-degree Gauss-Kruger zone 39 (EPSG:4527) (use \
         --force to convert anyway)\n"
    );
    assert_eq!(d.listing(), ["in.csv"]);
    let (code, err) =
        run(&["convert", "--from", "EPSG:4527", "--to", "WGS84", "in.csv", "-o", "out.csv"], &d.0);
    assert_eq!(code, 0, "{err}");
    let (code, _) = run(
        &[
            "convert",
            "--from",
            "EPSG:4548",
            "--to",
            "WGS84",
            "--force",
            "in.csv",
            "-o",
            "forced.csv",
        ],
        &d.0,
    );
    // Forced: converted as declared (far east of the zone, but a valid projection input).
    assert!(code == 0 || code == 1);
}

#[test]
fn failed_points_are_listed_and_nothing_is_written_unless_skipped() {
    let d = Scratch::new("fail");
    d.write("in.csv", "x,y\n116.4,39.9\n116.5,95\n116.6,39.8\n116.7,abc\n");
    let (code, err) =
        run(&["convert", "--from", "WGS84", "--to", "EPSG:4548", "in.csv", "-o", "out.csv"], &d.0);
    assert_eq!(code, 1);
    assert!(err.starts_with("geounify: in.csv: 2 feature(s) could not be converted, nothing written; first: line 3: "), "{err}");
    assert!(err.contains("\ngeounify:   line 3: latitude 95° is beyond ±90°\n"), "{err}");
    assert!(err.contains("\ngeounify:   line 5: "), "{err}");
    assert_eq!(d.listing(), ["in.csv"]);
    let (code, err) = run(
        &[
            "convert",
            "--from",
            "WGS84",
            "--to",
            "EPSG:4548",
            "--skip-invalid",
            "in.csv",
            "-o",
            "out.csv",
        ],
        &d.0,
    );
    assert_eq!(code, 1, "features left out are still a non-zero exit");
    assert!(err.contains("2 features left out (--skip-invalid):\ngeounify:   line 3: "), "{err}");
    assert_eq!(std::fs::read_to_string(d.0.join("out.csv")).unwrap().lines().count(), 3);
}

#[test]
fn usage_errors_exit_2() {
    let d = Scratch::new("usage");
    d.write("in.csv", "x,y\n116.4,39.9\n");
    d.write("in.txt", "116.4 39.9\n");
    let cases: [(&[&str], &str); 4] = [
        (
            &["convert", "--from", "WGS84", "--to", "EPSG:4548", "in.csv", "-o", "in.csv"],
            "the output would overwrite the input",
        ),
        (
            &["convert", "--from", "WGS84", "--to", "EPSG:4548", "in.txt", "-o", "out.txt"],
            "unknown format",
        ),
        (
            &["convert", "--from", "WGS84", "--to", "nope", "in.csv", "-o", "out.csv"],
            "unknown CRS id 'nope'",
        ),
        (
            &[
                "convert",
                "--from",
                "WGS84",
                "--to",
                "EPSG:4548",
                "--encoding",
                "latin1",
                "in.csv",
                "-o",
                "out.csv",
            ],
            "unknown encoding 'latin1'",
        ),
    ];
    for (args, want) in cases {
        let (code, err) = run(args, &d.0);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert_eq!(d.listing(), ["in.csv", "in.txt"]);
}

#[test]
fn unify_converts_an_exchange_with_a_city_grid() {
    let d = Scratch::new("unify");
    d.write("grid.csv", "名称,E,N\n甲,-88388.937,227900.556\n");
    d.write("poi.geojson", r#"{"type":"Feature","properties":{"n":1},"geometry":{"type":"Point","coordinates":[116.41,39.91]}}"#);
    d.write(
        "exchange.toml",
        format!(
            "target = \"EPSG:4548\"\noutput = \"out\"\ncrs_files = [\"{CITY}\"]\n\
             [[dataset]]\npath = \"grid.csv\"\ncrs = \"city:old-grid\"\nx_col = \"E\"\ny_col = \"N\"\n\
             [[dataset]]\npath = \"poi.geojson\"\ncrs = \"GCJ02\"\n"
        ),
    );
    let (code, err) = run(&["unify", "exchange.toml"], &d.0);
    assert_eq!(code, 0, "{err}");
    assert!(err.ends_with("geounify: lineage: out/lineage.json\n"), "{err}");
    let out = std::fs::read_to_string(d.0.join("out/grid.csv")).unwrap();
    let mut fields = out.lines().nth(1).unwrap().split(',');
    assert_eq!(fields.next(), Some("甲"));
    let e: f64 = fields.next().unwrap().parse().unwrap();
    let n: f64 = fields.next().unwrap().parse().unwrap();
    // The README's example point: city:old-grid (-88388.937, 227900.556) → EPSG:4548.
    assert!((e - 448_688.857).abs() < 0.01 && (n - 4_418_598.003).abs() < 0.01, "{e} {n}");
    // The --crs-file option and the manifest's crs_files may not define the same ids twice.
    let (code, err) = run(&["--crs-file", CITY, "unify", "exchange.toml"], &d.0);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already defined"), "{err}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_leaves_neither_output_nor_temporary_file() {
    let d = Scratch::new("sigint");
    common::points::csv(&d.path("big.csv"), 2_000_000);
    std::fs::write(d.0.join("out.csv"), "an existing output\n").unwrap();
    // Wait until the conversion is writing its temporary file, then interrupt it.
    let args = ["convert", "--from", "WGS84", "--to", "EPSG:4548", "big.csv", "-o", "out.csv"];
    let mut child = spawn_in_until(&args, &d.0, "its temporary file appeared", || {
        d.listing().iter().any(|n| n.starts_with(".out.csv.geounify-"))
    });
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(d.listing(), ["big.csv", "out.csv"], "temporary file removed");
    assert_eq!(std::fs::read_to_string(d.0.join("out.csv")).unwrap(), "an existing output\n");
}

#[test]
fn a_mapinfo_tab_file_is_refused_not_read_as_tab_separated_text() {
    // A MapInfo TAB header (text, but only the header of a binary set); before, `.tab` was
    // taken as TSV and failed later with a confusing column error, or converted a text file
    // the user meant as MapInfo.
    let d = Scratch::new("mapinfo-tab");
    d.write(
        "parcels.tab",
        "!table\n!version 300\n!charset WindowsSimpChinese\n\nDefinition Table\n",
    );
    d.write("parcels.dat", "binary attributes");
    let before = d.listing();
    let (code, err) = run(
        &["convert", "--from", "EPSG:4490", "--to", "EPSG:4548", "parcels.tab", "-o", "out.tab"],
        &d.0,
    );
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err,
        "geounify: parcels.tab: MapInfo TAB is not supported: a .tab file is the header of a \
         binary table set (.tab, .dat, .map, .id), not tab-separated text; export it to \
         GeoPackage or Shapefile first (e.g. ogr2ogr out.gpkg in.tab), or name a tab-separated \
         text file .tsv\n"
    );
    assert_eq!(d.listing(), before, "nothing written");
    // In a unify manifest, the same reason, before anything is converted.
    d.write("m.toml", "target = \"EPSG:4548\"\noutput = \"out\"\n[[dataset]]\npath = \"parcels.tab\"\ncrs = \"EPSG:4490\"\n");
    let (code, err) = run(&["unify", "m.toml"], &d.0);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("dataset 1 (parcels.tab): MapInfo TAB is not supported"), "{err}");
    assert!(!d.path("out").exists());
}
