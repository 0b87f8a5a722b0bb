//! Declared CRSs (issue 11, item 2): the CRS each format declares (Shapefile `.prj`, GeoJSON
//! `crs` member, GeoPackage `gpkg_spatial_ref_sys`, EWKT `SRID=`) is read and compared with the
//! source CRS by parameters: a match converts, a contradiction is refused with a message naming
//! the file, what it declares and the source CRS, and nothing is written (`force` converts with
//! a warning); a declaration that cannot be identified is a warning; without `--from` the CLI
//! takes the source CRS from the declaration.

mod common;
use common::cli::run_in as run;
use common::crs;
use common::scratch::Scratch;
use geounify::convert::declared::{self, DeclaredCrs, Match};
use geounify::convert::{
    convert_file, declared_crs, ConvertError, ConvertOptions, ConvertReport, NoProgress,
};
use geounify::{Registry, Transformer};
use std::path::Path;

/// The `.prj` GDAL and ArcGIS write for EPSG:4548 (ESRI WKT 1, no authority). ogr2ogr is not
/// installed where these tests were written; this is the text of ESRI's projection engine for
/// WKID 4548 as GDAL writes it (`ogr2ogr -a_srs EPSG:4548 out.shp in.shp`, GDAL ≥ 3 with
/// `-lco` defaults), which also appears verbatim in many published `.prj` files.
const GDAL_PRJ_4548: &str = "PROJCS[\"CGCS2000_3_Degree_GK_CM_117E\",GEOGCS[\"GCS_China_Geodetic_Coordinate_System_2000\",DATUM[\"D_China_2000\",SPHEROID[\"CGCS2000\",6378137.0,298.257222101]],PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]],PROJECTION[\"Gauss_Kruger\"],PARAMETER[\"False_Easting\",500000.0],PARAMETER[\"False_Northing\",0.0],PARAMETER[\"Central_Meridian\",117.0],PARAMETER[\"Scale_Factor\",1.0],PARAMETER[\"Latitude_Of_Origin\",0.0],UNIT[\"Meter\",1.0]]";

/// A Lambert projection on a made-up ellipsoid: readable, but no CRS geounify knows.
const LAMBERT_PRJ: &str = "PROJCS[\"Some_Lambert\",GEOGCS[\"GCS_Other\",DATUM[\"D_Other\",SPHEROID[\"Other\",6378000.0,300.0]],PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]],PROJECTION[\"Lambert_Conformal_Conic\"],PARAMETER[\"Central_Meridian\",105.0],UNIT[\"Meter\",1.0]]";

fn convert(
    input: &Path,
    output: &Path,
    from: &str,
    force: bool,
) -> Result<ConvertReport, ConvertError> {
    let options = ConvertOptions { force, ..ConvertOptions::default() };
    convert_file(input, output, &crs(from), &crs("EPSG:4326"), &options, &NoProgress)
}

/// Points near Tianjin (117.2°E) in `id`.
fn points(id: &str) -> Vec<(f64, f64)> {
    let t = Transformer::from_ids("EPSG:4326", id).unwrap();
    [(117.2, 39.1), (117.21, 39.12), (117.19, 39.08)]
        .iter()
        .map(|&(x, y)| t.transform_xy(x, y).unwrap())
        .collect()
}

/// Asserts that `result` is the refusal of a declaration contradicting `from`, with `message`.
fn assert_refused(result: Result<ConvertReport, ConvertError>, message: &str) {
    match result {
        Err(e @ ConvertError::DeclaredCrsMismatch { .. }) => assert_eq!(e.to_string(), message),
        other => panic!("expected a declared-CRS mismatch, got {other:?}"),
    }
}

// ---- Shapefile ---------------------------------------------------------------------------

/// `stem.shp` / `.shx` (points of `id`), and `stem.prj` with `prj` if given.
fn shapefile(dir: &Scratch, stem: &str, id: &str, prj: Option<&str>) -> std::path::PathBuf {
    let path = dir.path(&format!("{stem}.shp"));
    let mut w = shapefile::ShapeWriter::from_path(&path).unwrap();
    for (x, y) in points(id) {
        w.write_shape(&shapefile::Point::new(x, y)).unwrap();
    }
    drop(w);
    if let Some(prj) = prj {
        dir.write(&format!("{stem}.prj"), prj);
    }
    path
}

#[test]
fn shapefile_gdal_prj_is_identified_and_checked() {
    let dir = Scratch::new("shp");
    let input = shapefile(&dir, "roads", "EPSG:4548", Some(GDAL_PRJ_4548));
    let before = dir.listing();

    // Matching: converts, no warning about the declaration.
    let out = dir.path("ok.shp");
    let report = convert(&input, &out, "EPSG:4548", false).unwrap();
    assert_eq!(report.written, 3);
    assert!(report.warnings.iter().all(|w| !w.contains("roads.prj")), "{report:?}");

    // Contradicting (CM 114E): refused, nothing written.
    let bad = dir.path("bad.shp");
    let listing = dir.listing();
    assert_refused(
        convert(&input, &bad, "EPSG:4547", false),
        &format!(
            "{}: roads.prj declares \"CGCS2000_3_Degree_GK_CM_117E\", which contradicts the source \
             CRS EPSG:4547: the file's central meridian is 117°, EPSG:4547's is 114° (use --force \
             to convert anyway)",
            input.display()
        ),
    );
    assert_eq!(dir.listing(), listing, "nothing written");
    // The zone-prefixed CRS with the same meridian contradicts too (false easting).
    assert_refused(
        convert(&input, &bad, "EPSG:4527", false),
        &format!(
            "{}: roads.prj declares \"CGCS2000_3_Degree_GK_CM_117E\", which contradicts the source \
             CRS EPSG:4527: the file's false easting is 500000 m, EPSG:4527's is 39500000 m (use \
             --force to convert anyway)",
            input.display()
        ),
    );

    // The same data without its .prj converts as EPSG:4547: the sanity check cannot tell the
    // zones apart (CM 117E data read as CM 114E lands inside CM 114E's area), so before the
    // declaration was read this contradiction converted silently, 3° off.
    let bare = shapefile(&dir, "bare", "EPSG:4548", None);
    assert_eq!(convert(&bare, &dir.path("bare_out.shp"), "EPSG:4547", false).unwrap().written, 3);

    // Without --from: identified as EPSG:4548.
    assert_eq!(declared_crs(&input, &Registry::new()).unwrap().unwrap().id(), "EPSG:4548");
    // The input set is untouched.
    let after = dir.listing();
    assert!(before.iter().all(|n| after.contains(n)));
}

#[test]
fn shapefile_force_converts_a_contradiction_with_a_warning() {
    let dir = Scratch::new("shp-force");
    // Data really in EPSG:4548, declared as EPSG:4548, converted as if CM 114E with --force.
    let input = shapefile(&dir, "a", "EPSG:4548", Some(&crs("EPSG:4548").to_wkt().unwrap()));
    let out = dir.path("out.shp");
    let report = convert(&input, &out, "EPSG:4547", true).unwrap();
    assert_eq!(report.written, 3);
    assert_eq!(
        report.warnings[0],
        "a.prj declares EPSG:4548, which contradicts the source CRS EPSG:4547: the file's central \
         meridian is 117°, EPSG:4547's is 114°; converted as EPSG:4547 (--force)"
    );
    assert!(out.exists());
}

#[test]
fn our_own_prj_round_trips() {
    // A Shapefile geounify wrote (4326 → 4548) declares what it was written in.
    let dir = Scratch::new("shp-own");
    let input = shapefile(&dir, "wgs", "EPSG:4326", None);
    let out = dir.path("gk.shp");
    convert_file(
        &input,
        &out,
        &crs("EPSG:4326"),
        &crs("EPSG:4548"),
        &ConvertOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(declared_crs(&out, &Registry::new()).unwrap().unwrap().id(), "EPSG:4548");
    // Every catalogue CRS with a WKT form: its WKT, with and without the authority, agrees.
    for c in geounify::catalogue::all() {
        if let Ok(wkt) = c.to_wkt() {
            assert_eq!(
                DeclaredCrs::from_wkt(&wkt, "x.prj").matches(&c),
                Match::Agrees,
                "{}",
                c.id()
            );
        }
    }
}

#[test]
fn unidentifiable_prj_is_a_warning_not_a_refusal() {
    let dir = Scratch::new("shp-unknown");
    let input = shapefile(&dir, "odd", "EPSG:4548", Some("this is not WKT"));
    let report = convert(&input, &dir.path("o.shp"), "EPSG:4548", false).unwrap();
    assert_eq!(report.written, 3);
    assert_eq!(
        report.warnings[0],
        "odd.prj declares a CRS geounify cannot identify (not WKT: expected '[' after this at \
         byte 6); not checked"
    );
    // A readable WKT of an unknown projection contradicts a Gauss-Krüger source.
    let input = shapefile(&dir, "lcc", "EPSG:4548", Some(LAMBERT_PRJ));
    let err = convert(&input, &dir.path("l.shp"), "EPSG:4548", false).unwrap_err();
    assert!(err.to_string().contains("the file's ellipsoid has a = 6378000 m, 1/f = 300"), "{err}");
    // Without --from it cannot be identified: an error naming the file.
    let err = declared_crs(&input, &Registry::new()).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "{}: lcc.prj declares \"Some_Lambert\", which geounify cannot identify: no CRS of \
             geounify's catalogue or CRS files has its parameters",
            input.display()
        )),
        "{err}"
    );
}

// ---- GeoJSON -----------------------------------------------------------------------------

fn geojson(id: &str, crs_member: Option<&str>, crs_last: bool) -> String {
    let features: Vec<String> = points(id)
        .iter()
        .map(|(x, y)| {
            format!(r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"Point","coordinates":[{x},{y}]}}}}"#)
        })
        .collect();
    let features = format!(r#""features":[{}]"#, features.join(","));
    match (crs_member, crs_last) {
        (None, _) => format!(r#"{{"type":"FeatureCollection",{features}}}"#),
        (Some(c), false) => format!(r#"{{"type":"FeatureCollection","crs":{c},{features}}}"#),
        (Some(c), true) => format!(r#"{{"type":"FeatureCollection",{features},"crs":{c}}}"#),
    }
}

#[test]
fn geojson_crs_member_is_read_in_every_form() {
    let dir = Scratch::new("geojson");
    let forms = [
        r#"{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4548"}}"#,
        r#"{"type":"name","properties":{"name":"EPSG:4548"}}"#,
        r#"{"type":"name","properties":{"name":"http://www.opengis.net/def/crs/EPSG/0/4548"}}"#,
        r#"{"type":"EPSG","properties":{"code":4548}}"#,
    ];
    for (k, form) in forms.iter().enumerate() {
        for last in [false, true] {
            let input =
                dir.write(&format!("in{k}{last}.geojson"), geojson("EPSG:4548", Some(form), last));
            let out = dir.path(&format!("out{k}{last}.geojson"));
            assert_eq!(convert(&input, &out, "EPSG:4548", false).unwrap().written, 3);
            assert_eq!(declared_crs(&input, &Registry::new()).unwrap().unwrap().id(), "EPSG:4548");
            let bad = dir.path("bad.geojson");
            assert_refused(
                convert(&input, &bad, "EPSG:4547", false),
                &format!(
                    "{}: the \"crs\" member declares EPSG:4548, which contradicts the source CRS \
                     EPSG:4547: the file's central meridian is 117°, EPSG:4547's is 114° (use \
                     --force to convert anyway)",
                    input.display()
                ),
            );
            assert!(!bad.exists());
        }
    }
    // CRS84 declares WGS84 longitude/latitude: projected --from contradicts it.
    let input = dir.write(
        "crs84.geojson",
        geojson(
            "EPSG:4548",
            Some(r#"{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}}"#),
            false,
        ),
    );
    let err = convert(&input, &dir.path("x.geojson"), "EPSG:4548", false).unwrap_err();
    assert!(
        err.to_string().contains(
            "declares EPSG:4326, which contradicts the source CRS EPSG:4548: the file declares \
             longitude/latitude in degrees, EPSG:4548 is projected coordinates in metres"
        ),
        "{err}"
    );
}

#[test]
fn geojson_without_crs_declares_nothing_and_unknown_names_warn() {
    let dir = Scratch::new("geojson-none");
    let input = dir.write("none.geojson", geojson("EPSG:4548", None, false));
    assert!(declared_crs(&input, &Registry::new()).unwrap().is_none());
    let r = convert(&input, &dir.path("o.geojson"), "EPSG:4548", false).unwrap();
    assert!(r.warnings.iter().all(|w| !w.contains("declares")), "{r:?}");

    let input = dir.write(
        "odd.geojson",
        geojson(
            "EPSG:4548",
            Some(r#"{"type":"name","properties":{"name":"my-local-grid"}}"#),
            false,
        ),
    );
    let r = convert(&input, &dir.path("o2.geojson"), "EPSG:4548", false).unwrap();
    assert_eq!(
        r.warnings[0],
        "the \"crs\" member names \"my-local-grid\", which is not EPSG:4548 and not an EPSG \
         code; not checked"
    );
    let err = declared_crs(&input, &Registry::new()).unwrap_err();
    assert!(err.to_string().contains("which geounify cannot identify"), "{err}");
}

#[test]
fn geojson_deeply_nested_features_before_crs_are_skipped_without_recursion() {
    // 100 000 nested arrays before the crs member: skipped by counting, no stack overflow.
    let dir = Scratch::new("geojson-deep");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let text = format!(
        r#"{{"type":"FeatureCollection","x":{deep},"crs":{{"type":"name","properties":{{"name":"EPSG:4548"}}}},"features":[]}}"#
    );
    let input = dir.write("deep.geojson", text);
    let found = declared::read(&input).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].epsg(), Some(4548));
}

// ---- WKT lines ---------------------------------------------------------------------------

#[test]
fn ewkt_srid_is_the_declaration() {
    let dir = Scratch::new("wkt");
    let lines: String = points("EPSG:4548")
        .iter()
        .enumerate()
        .map(|(i, (x, y))| format!("{i};SRID=4548;POINT ({x} {y})\n"))
        .collect();
    let input = dir.write("in.wkt", format!("# parcels\n{lines}"));
    assert_eq!(convert(&input, &dir.path("o.wkt"), "EPSG:4548", false).unwrap().written, 3);
    assert_eq!(declared_crs(&input, &Registry::new()).unwrap().unwrap().id(), "EPSG:4548");
    let bad = dir.path("bad.wkt");
    assert_refused(
        convert(&input, &bad, "EPSG:4547", false),
        &format!(
            "{}: line 2 (SRID=4548) declares EPSG:4548, which contradicts the source CRS \
             EPSG:4547: the file's central meridian is 117°, EPSG:4547's is 114° (use --force to \
             convert anyway)",
            input.display()
        ),
    );
    assert!(!bad.exists());
    // Lines without SRID= declare nothing.
    let plain = dir.write("plain.wkt", "POINT (1 2)\nSRID=4548;POINT (3 4)\n");
    assert!(declared_crs(&plain, &Registry::new()).unwrap().is_none());
}

// ---- GeoPackage --------------------------------------------------------------------------

/// A minimal GeoPackage with one feature table `t` of points of `id`, on `srs_id` described by
/// (organization, organization_coordsys_id, definition).
fn gpkg(path: &Path, id: &str, srs_id: i32, org: &str, org_id: i32, definition: &str) {
    let conn = common::gpkg::create(path, common::gpkg::Keys::Spec);
    conn.execute_batch(
        "CREATE TABLE t (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom GEOMETRY, name TEXT);",
    )
    .unwrap();
    common::gpkg::add_srs(&conn, "the srs", srs_id, org, org_id, definition);
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('t', \
         'features', 't', ?1)",
        [srs_id],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO gpkg_geometry_columns VALUES ('t', 'geom', 'POINT', ?1, 0, 0)",
        [srs_id],
    )
    .unwrap();
    for (x, y) in points(id) {
        let mut blob = b"GP\x00\x01".to_vec();
        blob.extend(srs_id.to_le_bytes());
        blob.push(1);
        blob.extend(1u32.to_le_bytes());
        blob.extend(x.to_le_bytes());
        blob.extend(y.to_le_bytes());
        conn.execute("INSERT INTO t (geom, name) VALUES (?1, 'p')", [blob]).unwrap();
    }
}

#[test]
fn geopackage_srs_is_read_by_code_and_by_definition() {
    let dir = Scratch::new("gpkg");
    // By organization and code.
    let input = dir.path("epsg.gpkg");
    gpkg(&input, "EPSG:4548", 4548, "EPSG", 4548, "undefined");
    assert_eq!(convert(&input, &dir.path("o.gpkg"), "EPSG:4548", false).unwrap().written, 3);
    assert_eq!(declared_crs(&input, &Registry::new()).unwrap().unwrap().id(), "EPSG:4548");
    let bad = dir.path("bad.gpkg");
    assert_refused(
        convert(&input, &bad, "EPSG:4547", false),
        &format!(
            "{}: gpkg_spatial_ref_sys srs_id 4548 (table t) declares EPSG:4548, which contradicts \
             the source CRS EPSG:4547: the file's central meridian is 117°, EPSG:4547's is 114° \
             (use --force to convert anyway)",
            input.display()
        ),
    );
    assert!(!bad.exists());
    let forced = convert(&input, &bad, "EPSG:4547", true).unwrap();
    assert!(forced.warnings[0].ends_with("converted as EPSG:4547 (--force)"), "{forced:?}");

    // A private srs_id with only an ESRI definition: identified by its parameters.
    let input = dir.path("esri.gpkg");
    gpkg(&input, "EPSG:4548", 100_000, "ESRI", 100_000, GDAL_PRJ_4548);
    assert_eq!(convert(&input, &dir.path("o2.gpkg"), "EPSG:4548", false).unwrap().written, 3);
    assert_eq!(declared_crs(&input, &Registry::new()).unwrap().unwrap().id(), "EPSG:4548");
    assert!(matches!(
        convert(&input, &dir.path("o3.gpkg"), "EPSG:4547", false),
        Err(ConvertError::DeclaredCrsMismatch { .. })
    ));

    // A private srs without a definition, named by its srs_name only: a warning.
    let input = dir.path("undefined.gpkg");
    gpkg(&input, "EPSG:4548", 7, "NONE", 7, "undefined");
    let r = convert(&input, &dir.path("o4.gpkg"), "EPSG:4548", false).unwrap();
    assert!(r.warnings.iter().any(|w| w.contains("srs_id 7")), "{r:?}");
}

// ---- CLI ---------------------------------------------------------------------------------

#[test]
fn cli_takes_from_out_of_the_declaration_and_refuses_contradictions() {
    let dir = Scratch::new("cli");
    shapefile(&dir, "roads", "EPSG:4548", Some(GDAL_PRJ_4548));

    // No --from: the .prj's CRS.
    let (code, err) = run(&["convert", "--to", "EPSG:4326", "roads.shp", "-o", "wgs.shp"], &dir.0);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.starts_with("geounify: roads.shp: no --from: converting from EPSG:4548, the CRS the file declares\n"),
        "{err}"
    );
    assert!(dir.path("wgs.shp").exists());

    // Contradicting --from: exit 2, the message, nothing written.
    let listing = dir.listing();
    let (code, err) = run(
        &["convert", "--from", "EPSG:4547", "--to", "EPSG:4326", "roads.shp", "-o", "bad.shp"],
        &dir.0,
    );
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err,
        "geounify: roads.shp: roads.prj declares \"CGCS2000_3_Degree_GK_CM_117E\", which \
         contradicts the source CRS EPSG:4547: the file's central meridian is 117°, EPSG:4547's \
         is 114° (use --force to convert anyway)\n"
    );
    assert_eq!(dir.listing(), listing);

    // --force: converted, with the warning.
    let (code, err) = run(
        &[
            "convert",
            "--from",
            "EPSG:4547",
            "--to",
            "EPSG:4326",
            "--force",
            "roads.shp",
            "-o",
            "forced.shp",
        ],
        &dir.0,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(
            "warning: roads.prj declares \"CGCS2000_3_Degree_GK_CM_117E\", which contradicts"
        ),
        "{err}"
    );

    // Every format without --from: GeoJSON, WKT, GeoPackage.
    dir.write(
        "a.geojson",
        geojson(
            "EPSG:4548",
            Some(r#"{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4548"}}"#),
            false,
        ),
    );
    dir.write("a.wkt", "SRID=4548;POINT (517270 4328400)\n");
    gpkg(&dir.path("a.gpkg"), "EPSG:4548", 4548, "EPSG", 4548, "undefined");
    for (input, output) in [("a.geojson", "b.geojson"), ("a.wkt", "b.wkt"), ("a.gpkg", "b.gpkg")] {
        let (code, err) = run(&["convert", "--to", "EPSG:4326", input, "-o", output], &dir.0);
        assert_eq!(code, 0, "{input}: {err}");
        assert!(err.contains("converting from EPSG:4548"), "{input}: {err}");
    }

    // Nothing declared and no --from: a usage error, exit 2, nothing written.
    dir.write("p.csv", "x,y\n517270,4328400\n");
    let (code, err) = run(&["convert", "--to", "EPSG:4326", "p.csv", "-o", "q.csv"], &dir.0);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "geounify: p.csv: the file declares no CRS (no .prj, GeoJSON \"crs\" member, GeoPackage \
         srs or EWKT SRID=): give the source CRS with --from\n"
    );
    assert!(!dir.path("q.csv").exists());
}

// ---- Generated input ---------------------------------------------------------------------

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Any text over the WKT alphabet (or a mutation of GDAL's .prj) is read without a panic
    /// and compared with a CRS as agreeing, contradicting or unknown.
    #[test]
    fn any_wkt_text_is_read_without_panic(
        text in "[A-Z_\\[\\]\\(\\),\"0-9.eE+ -]{0,300}",
        cut in 0usize..GDAL_PRJ_4548.len(),
        junk in "[\\[\\],\"0-9a-z]{0,8}",
    ) {
        let gk = crs("EPSG:4548");
        let _ = DeclaredCrs::from_wkt(&text, "x.prj").matches(&gk);
        let mutated = format!("{}{junk}{}", &GDAL_PRJ_4548[..cut], &GDAL_PRJ_4548[cut..]);
        let d = DeclaredCrs::from_wkt(&mutated, "x.prj");
        let _ = d.matches(&gk);
        let _ = d.identify(&Registry::new());
    }

    /// Any GeoJSON-like prefix is scanned for its crs member without a panic or a hang.
    #[test]
    fn any_geojson_text_is_scanned_without_panic(text in "[{}\\[\\]\",:a-z0-9\\\\ ]{0,200}") {
        let dir = Scratch::new("prop-geojson");
        let path = dir.write("p.geojson", format!("{{\"crs\"{text}"));
        let _ = declared::read(&path);
        let path = dir.write("q.geojson", &text);
        let _ = declared::read(&path);
    }
}

// ---- Decisions: CRS-file CRSs, GCJ-02, local grids, WGS84 vs CGCS2000 ----------------------

fn city() -> Registry {
    let mut r = Registry::new();
    r.load_file(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml"))).unwrap();
    r
}

fn wkt_of(id: &str) -> DeclaredCrs {
    DeclaredCrs::from_wkt(&crs(id).to_wkt().unwrap(), "x.prj")
}

fn unknown(m: Match) -> String {
    match m {
        Match::Unknown(r) => r,
        m => panic!("expected unknown, got {m:?}"),
    }
}

fn contradicts(m: Match) -> String {
    match m {
        Match::Contradicts(r) => r,
        m => panic!("expected a contradiction, got {m:?}"),
    }
}

#[test]
fn crs_file_crss_are_compared_by_parameters() {
    let reg = city();
    let bj54_city = reg.lookup("city:bj54-gk117").unwrap();
    // EPSG's plain Beijing 1954 zone vs the city's Beijing 1954 realisation: same ellipsoid and
    // projection, not a contradiction that can be proved.
    assert_eq!(wkt_of("EPSG:2436").matches(&bj54_city), Match::Agrees);
    // Another ellipsoid is.
    assert_eq!(
        contradicts(wkt_of("EPSG:4548").matches(&bj54_city)),
        "the file's ellipsoid has a = 6378137 m, 1/f = 298.257222101; city:bj54-gk117's has a = \
         6378245 m, 1/f = 298.3"
    );
    // The city CRS's own WKT (with its TOWGS84) identifies it, not EPSG:2436.
    let own = DeclaredCrs::from_wkt(&bj54_city.to_wkt().unwrap(), "x.prj");
    assert_eq!(own.matches(&bj54_city), Match::Agrees);
    assert_eq!(own.identify(&reg).unwrap().id(), "city:bj54-gk117");
    // A declared TOWGS84 other than the source datum's: a warning, converted with --from's.
    let other = crs("EPSG:2436").to_wkt().unwrap().replace(
        "SPHEROID[\"Krassowsky 1940\",6378245,298.3,AUTHORITY[\"EPSG\",\"7024\"]]",
        "SPHEROID[\"Krassowsky 1940\",6378245,298.3],TOWGS84[15,-130,-50,0,0,0,0]",
    );
    let other = DeclaredCrs::from_wkt(&other, "x.prj");
    assert!(unknown(other.matches(&bj54_city))
        .starts_with("x.prj declares TOWGS84[15,-130,-50,0,0,0,0]"));
    // The ESRI 6-degree name picks the 6-degree zone with the same parameters.
    let esri_6 = GDAL_PRJ_4548.replace("CGCS2000_3_Degree_GK_CM_117E", "CGCS2000_GK_CM_117E");
    assert_eq!(DeclaredCrs::from_wkt(&esri_6, "x").identify(&reg).unwrap().id(), "EPSG:4509");
}

#[test]
fn web_map_systems_local_grids_and_one_frame_are_decided() {
    let reg = city();
    // GCJ-02 cannot be declared: data labelled WGS84 is not refused, but a warning says so.
    let r = unknown(wkt_of("EPSG:4326").matches(&crs("GCJ02")));
    assert!(r.contains("GCJ02 (GCJ-02) cannot be declared in a file"), "{r}");
    assert_eq!(
        contradicts(wkt_of("EPSG:4548").matches(&crs("GCJ02"))),
        "the file declares projected coordinates, GCJ02 is GCJ-02 longitude/latitude in degrees"
    );
    // A local grid is not expressible in WKT: a projected declaration is a warning, degrees a
    // contradiction.
    let grid = reg.lookup("city:old-grid").unwrap();
    assert!(unknown(wkt_of("EPSG:2436").matches(&grid)).contains("a local grid"));
    assert_eq!(
        contradicts(wkt_of("EPSG:4326").matches(&grid)),
        "the file declares longitude/latitude in degrees, city:old-grid is a local grid in metres"
    );
    // WGS84 declared, CGCS2000 given: one frame in geounify, a warning.
    let r = unknown(wkt_of("EPSG:4326").matches(&crs("EPSG:4490")));
    assert!(r.contains("geounify treats WGS 84 and CGCS2000 as one frame"), "{r}");
    // Beijing 1954 declared, Xi'an 1980 given: different ellipsoids.
    assert!(matches!(wkt_of("EPSG:2436").matches(&crs("EPSG:2384")), Match::Contradicts(_)));
}

#[test]
fn unify_refuses_a_dataset_whose_declaration_contradicts_the_manifest() {
    // unify converts each dataset through convert_file, so it gets the same check; the
    // manifest's `force = true` overrides it like --force.
    let dir = Scratch::new("unify");
    shapefile(&dir, "roads", "EPSG:4548", Some(GDAL_PRJ_4548));
    dir.write(
        "exchange.toml",
        "target = \"EPSG:4326\"\noutput = \"out\"\n[[dataset]]\npath = \"roads.shp\"\ncrs = \"EPSG:4547\"\n",
    );
    let (code, err) = run(&["unify", "exchange.toml"], &dir.0);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "roads.prj declares \"CGCS2000_3_Degree_GK_CM_117E\", which contradicts the source \
             CRS EPSG:4547: the file's central meridian is 117°, EPSG:4547's is 114°"
        ),
        "{err}"
    );
    assert!(!dir.path("out/roads.shp").exists());
    dir.write(
        "exchange.toml",
        "target = \"EPSG:4326\"\noutput = \"out\"\nforce = true\n[[dataset]]\npath = \"roads.shp\"\ncrs = \"EPSG:4547\"\n",
    );
    let (code, err) = run(&["unify", "exchange.toml"], &dir.0);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: roads.prj declares"), "{err}");
    assert!(dir.path("out/roads.shp").exists());
}

#[test]
fn oversized_special_and_compound_prj_files() {
    let dir = Scratch::new("prj-odd");
    // Larger than 64 KiB: not read, a warning.
    let big = format!("{GDAL_PRJ_4548}{}", " ".repeat(70_000));
    let input = shapefile(&dir, "big", "EPSG:4548", Some(&big));
    let r = convert(&input, &dir.path("o.shp"), "EPSG:4548", false).unwrap();
    assert_eq!(
        r.warnings[0],
        "big.prj declares a CRS geounify cannot identify (70430 bytes, more than the 65536 a CRS \
         definition may have); not checked"
    );
    // ArcGIS's horizontal + VERTCS form: the horizontal CRS is read.
    let compound = format!(
        "{GDAL_PRJ_4548},VERTCS[\"Yellow_Sea_1985\",VDATUM[\"Yellow_Sea_1985\"],PARAMETER[\"Vertical_Shift\",0.0],PARAMETER[\"Direction\",1.0],UNIT[\"Meter\",1.0]]"
    );
    let input = shapefile(&dir, "vert", "EPSG:4548", Some(&compound));
    assert_eq!(declared_crs(&input, &Registry::new()).unwrap().unwrap().id(), "EPSG:4548");
    // A FIFO named .prj is not opened (it would block): the set is refused, naming it (issue 11
    // leftovers: every sidecar a conversion reads must be a regular file; was a warning).
    #[cfg(unix)]
    {
        let input = shapefile(&dir, "fifo", "EPSG:4548", None);
        dir.fifo("fifo.prj");
        let e = convert(&input, &dir.path("f.shp"), "EPSG:4548", false).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: not a regular file (a FIFO (named pipe)); only regular files are converted",
                dir.path("fifo.prj").display()
            )
        );
        assert!(!dir.path("f.shp").exists());
    }
}
