//! The code leftovers of issue 11: Shapefile sidecars that are FIFOs/devices/folders, stale
//! sidecars when `convert` reconverts into an existing Shapefile, temporary files left by a
//! killed run, declared CRSs checked by the in-memory APIs, and CRS files too large for memory.

mod common;
use common::cli::run_guarded;
use common::scratch::{listing, mkfifo, Scratch};
use geounify::convert::{convert_file, ConvertError, ConvertOptions, NoProgress};
use geounify::Registry;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample");

/// Runs the CLI in `cwd` (a hang fails the test); exit status and stderr.
fn run_cli(args: &[&str], cwd: &Path) -> (std::process::ExitStatus, String) {
    run_guarded(args, cwd, false)
}

/// [`run_cli`] under `ulimit -v 200000`.
fn run_cli_limited(args: &[&str], cwd: &Path) -> (std::process::ExitStatus, String) {
    run_guarded(args, cwd, true)
}

/// The sample roads set copied into `dir` as `in.{shp,shx,dbf,cpg}`, and `city.toml` (its CRS,
/// `city:bj54-gk117`).
fn roads(dir: &Scratch) -> PathBuf {
    for ext in ["shp", "shx", "dbf", "cpg"] {
        std::fs::copy(
            Path::new(SAMPLE).join(format!("roads_bj54.{ext}")),
            dir.path(&format!("in.{ext}")),
        )
        .unwrap();
    }
    std::fs::copy(Path::new(SAMPLE).join("city.toml"), dir.path("city.toml")).unwrap();
    dir.path("in.shp")
}

fn city_registry(dir: &Scratch) -> Registry {
    let mut registry = Registry::new();
    registry.load_file(dir.path("city.toml")).unwrap();
    registry
}

// ---- 1. Shapefile sidecars that are not regular files ----------------------------------------

#[test]
fn shapefile_sidecars_that_are_not_regular_files_are_refused() {
    let d = Scratch::new("leftover-sidecars");
    let input = roads(&d);
    let registry = city_registry(&d);
    let from = registry.lookup("city:bj54-gk117").unwrap();
    let to = registry.lookup("EPSG:4548").unwrap();
    for ext in ["shx", "dbf", "prj", "cpg", "DBF"] {
        for kind in ["a FIFO (named pipe)", "a device", "a folder"] {
            let sidecar = d.path(&format!("in.{ext}"));
            let saved = d.path("saved");
            if sidecar.exists() {
                std::fs::rename(&sidecar, &saved).unwrap();
            }
            if ext == "DBF" {
                // An upper-case twin beside the regular in.dbf is refused as well.
                std::fs::copy(Path::new(SAMPLE).join("roads_bj54.dbf"), d.path("in.dbf")).unwrap();
            }
            match kind {
                "a FIFO (named pipe)" => mkfifo(&sidecar),
                "a device" => std::os::unix::fs::symlink("/dev/zero", &sidecar).unwrap(),
                _ => std::fs::create_dir(&sidecar).unwrap(),
            }
            let before = listing(&d.0);
            let expected = format!(
                "{}: not a regular file ({kind}); only regular files are converted",
                sidecar.display()
            );
            // The library.
            let e = convert_file(
                &input,
                &d.path("out.shp"),
                &from,
                &to,
                &ConvertOptions::default(),
                &NoProgress,
            )
            .unwrap_err();
            assert!(matches!(e, ConvertError::Io { .. }), "in.{ext} {kind}: {e:?}");
            assert_eq!(e.to_string(), expected, "in.{ext} {kind}");
            // --force skips the sanity sample: the converter refuses it too.
            let force = ConvertOptions { force: true, ..ConvertOptions::default() };
            let e = convert_file(&input, &d.path("out.shp"), &from, &to, &force, &NoProgress)
                .unwrap_err();
            assert_eq!(e.to_string(), expected, "in.{ext} {kind} --force");
            // The CLI, with and without --from (the declaration is read first then).
            let mut args = vec!["convert", "in.shp", "--output", "out.shp", "--to", "EPSG:4548"];
            args.extend(["--crs-file", "city.toml"]);
            let (status, err) = run_cli(&args, &d.0);
            assert_eq!(status.code(), Some(2), "in.{ext} {kind}: {err}");
            let expected_cli = format!(
                "geounify: {}: not a regular file ({kind}); only regular files are converted\n",
                Path::new("in.shp").with_extension(ext).display()
            );
            if ext == "prj" {
                assert_eq!(err, expected_cli, "in.{ext} {kind} without --from");
            }
            args.extend(["--from", "city:bj54-gk117"]);
            let (status, err) = run_cli(&args, &d.0);
            assert_eq!(status.code(), Some(2), "in.{ext} {kind}: {err}");
            assert_eq!(err, expected_cli, "in.{ext} {kind}");
            assert_eq!(listing(&d.0), before, "nothing written");
            // unify: the manifest check lists it, nothing is converted.
            d.write(
                "exchange.toml",
                "target = \"EPSG:4548\"\noutput = \"out\"\ncrs_files = [\"city.toml\"]\n\
                 [[dataset]]\npath = \"in.shp\"\ncrs = \"city:bj54-gk117\"\n",
            );
            let (status, err) = run_cli(&["unify", "exchange.toml"], &d.0);
            assert_eq!(status.code(), Some(2), "unify in.{ext} {kind}: {err}");
            assert!(
                err.contains(&format!(
                    "  dataset 1 (in.shp): in.{ext}: not a regular file ({kind}); only regular \
                     files are converted"
                )),
                "unify in.{ext} {kind}: {err}"
            );
            assert!(!d.path("out").exists(), "unify in.{ext} {kind}: nothing written");
            std::fs::remove_file(d.path("exchange.toml")).unwrap();
            // Restore the set.
            if kind == "a folder" {
                std::fs::remove_dir(&sidecar).unwrap();
            } else {
                std::fs::remove_file(&sidecar).unwrap();
            }
            if saved.exists() {
                std::fs::rename(&saved, &sidecar).unwrap();
            }
            if ext == "DBF" {
                std::fs::remove_file(d.path("in.dbf")).ok();
                std::fs::copy(Path::new(SAMPLE).join("roads_bj54.dbf"), d.path("in.dbf")).unwrap();
            }
        }
    }
    // The set converts once its sidecars are files again.
    let (status, err) = run_cli(
        &[
            "convert",
            "in.shp",
            "--output",
            "out.shp",
            "--from",
            "city:bj54-gk117",
            "--to",
            "EPSG:4548",
            "--crs-file",
            "city.toml",
        ],
        &d.0,
    );
    assert_eq!(status.code(), Some(0), "{err}");
}

// ---- 2. convert into an existing Shapefile: no stale sidecar ---------------------------------

/// `geounify convert in.shp --output out.shp` in `d`, from `city:bj54-gk117` to `to`.
fn convert_roads(d: &Scratch, to: &str) -> (std::process::ExitStatus, String) {
    let args = [
        "convert",
        "in.shp",
        "--output",
        "out.shp",
        "--from",
        "city:bj54-gk117",
        "--to",
        to,
        "--crs-file",
        "city.toml",
    ];
    run_cli(&args, &d.0)
}

#[test]
fn cli_convert_into_an_existing_shapefile_leaves_no_stale_sidecar() {
    let d = Scratch::new("leftover-stale");
    roads(&d);
    let convert = |to: &str| {
        let (status, err) = convert_roads(&d, to);
        assert_eq!(status.code(), Some(0), "{err}");
        err
    };
    convert("EPSG:4548");
    let wkt = |id: &str| Registry::new().lookup(id).unwrap().to_wkt().unwrap();
    assert_eq!(std::fs::read_to_string(d.path("out.prj")).unwrap(), wkt("EPSG:4548"));
    // A GIS built a spatial index over the EPSG:4548 coordinates, and an upper-case twin of
    // the .prj and another index exist too.
    d.write("out.qix", "index of the EPSG:4548 coordinates");
    d.write("out.PRJ", wkt("EPSG:4548"));
    d.write("out.sbn", "another index");
    convert("EPSG:4326");
    // The .prj says the new CRS; the indexes and the twin .prj of the old set are gone.
    assert_eq!(std::fs::read_to_string(d.path("out.prj")).unwrap(), wkt("EPSG:4326"));
    assert_eq!(
        listing(&d.0),
        [
            "city.toml",
            "in.cpg",
            "in.dbf",
            "in.shp",
            "in.shx",
            "out.cpg",
            "out.dbf",
            "out.prj",
            "out.shp",
            "out.shx"
        ]
    );
    let shp = std::fs::read(d.path("out.shp")).unwrap();
    let xmin = f64::from_le_bytes(shp[36..44].try_into().unwrap());
    assert!((115.0..118.0).contains(&xmin), "degrees now: {xmin}");
    // Into GCJ-02 (no WKT form): no .prj at all, never the old one.
    d.write("out.qix", "index of the EPSG:4326 coordinates");
    let err = convert("GCJ02");
    assert!(err.contains("warning: no .prj written: "), "{err}");
    assert_eq!(
        listing(&d.0),
        [
            "city.toml",
            "in.cpg",
            "in.dbf",
            "in.shp",
            "in.shx",
            "out.cpg",
            "out.dbf",
            "out.shp",
            "out.shx"
        ]
    );
}

#[test]
fn a_folder_named_like_a_file_of_the_output_set_is_refused_before_anything_is_written() {
    // Before: the commit renamed .shp/.shx/.dbf and then failed on the folder out.prj ("out.shp:
    // Is a directory"), leaving a half-replaced set and a journal every later run failed on.
    let d = Scratch::new("leftover-set-folder");
    roads(&d);
    let convert = |to: &str| convert_roads(&d, to);
    let (status, err) = convert("EPSG:4548");
    assert_eq!(status.code(), Some(0), "{err}");
    let old_shp = std::fs::read(d.path("out.shp")).unwrap();
    for name in ["out.prj", "out.QIX"] {
        let _ = std::fs::remove_file(d.path(name));
        std::fs::create_dir(d.path(name)).unwrap();
        let before = listing(&d.0);
        let (status, err) = convert("EPSG:4326");
        assert_eq!(status.code(), Some(2), "{err}");
        assert_eq!(
            err,
            format!(
                "geounify: {name}: a folder has the name of a file of the output set; move it \
                 away (nothing was written)\n"
            )
        );
        assert_eq!(listing(&d.0), before, "no set folder, nothing replaced");
        assert_eq!(std::fs::read(d.path("out.shp")).unwrap(), old_shp);
        std::fs::remove_dir(d.path(name)).unwrap();
    }
    let (status, err) = convert("EPSG:4326");
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(
        listing(&d.0),
        [
            "city.toml",
            "in.cpg",
            "in.dbf",
            "in.shp",
            "in.shx",
            "out.cpg",
            "out.dbf",
            "out.prj",
            "out.shp",
            "out.shx"
        ]
    );
}

// ---- 3. temporary files left by a killed run --------------------------------------------------

/// A pid no process has (beyond any `pid_max`): the writer of a leftover was killed.
const DEAD: u32 = 4_294_967;

/// Writes, in `dir`, the leftovers of a killed run into `name` (ours: removed by the next run)
/// and files that only look like them (not ours: never touched); the paths of each.
fn plant_leftovers(dir: &Path, name: &str) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let ours = vec![
        dir.join(format!(".{name}.geounify-{DEAD}-0.tmp")),
        dir.join(format!(".{name}.geounify-{DEAD}-17.tmp-journal")),
    ];
    for p in &ours {
        std::fs::write(p, b"half an output").unwrap();
    }
    let upper = name.to_uppercase();
    let not_ours = vec![
        dir.join(format!(".{name}.geounify-x{DEAD}-1.tmp")),
        dir.join(format!(".{name}.geounify-{DEAD}-1.tmp.bak")),
        dir.join(format!(".{name}.geounify-{DEAD}.tmp")),
        dir.join(format!(".other.csv.geounify-{DEAD}-1.tmp")),
        dir.join(format!("{name}.geounify-{DEAD}-1.tmp")),
        dir.join(format!(".{upper}.geounify-{DEAD}-1.tmp")),
        dir.join(format!(".{name}.geounify-{DEAD}-2.tmp-foo")),
        dir.join("precious.txt"),
    ];
    for p in &not_ours {
        std::fs::write(p, b"someone else's").unwrap();
    }
    // A folder and a link with our names are not ours either (we only ever write files).
    let folder = dir.join(format!(".{name}.geounify-{DEAD}-3.tmp"));
    std::fs::create_dir(&folder).unwrap();
    let link = dir.join(format!(".{name}.geounify-{DEAD}-4.tmp"));
    std::os::unix::fs::symlink(dir.join("precious.txt"), &link).unwrap();
    let mut not_ours = not_ours;
    not_ours.extend([folder, link]);
    (ours, not_ours)
}

fn assert_untouched(not_ours: &[PathBuf]) {
    for p in not_ours {
        let meta = p.symlink_metadata().unwrap_or_else(|_| panic!("{} removed", p.display()));
        if meta.is_file() {
            assert_eq!(std::fs::read(p).unwrap(), b"someone else's", "{}", p.display());
        }
    }
}

#[test]
fn temporaries_left_by_a_killed_convert_are_removed_by_the_next_run() {
    let d = Scratch::new("leftover-tmp");
    d.write("in.csv", "id,lon,lat\n1,116.404,39.915\n");
    let (ours, not_ours) = plant_leftovers(&d.0, "out.csv");
    // A temporary file of a process that is still running (this test) is left alone.
    let running = d.path(&format!(".out.csv.geounify-{}-5.tmp", std::process::id()));
    std::fs::write(&running, b"being written").unwrap();
    // A refused conversion changes nothing, leftovers included.
    let args = ["convert", "in.csv", "--output", "out.csv", "--from", "EPSG:4548", "--to", "WGS84"];
    let before = listing(&d.0);
    let (status, _) = run_cli(&args, &d.0);
    assert_eq!(status.code(), Some(1));
    assert_eq!(listing(&d.0), before);
    let args = ["convert", "in.csv", "--output", "out.csv", "--from", "WGS84", "--to", "EPSG:4548"];
    let (status, err) = run_cli(&args, &d.0);
    assert_eq!(status.code(), Some(0), "{err}");
    for p in &ours {
        assert!(!p.exists(), "{} left", p.display());
        let shown = Path::new(p.file_name().unwrap()).display().to_string();
        assert!(
            err.contains(&format!(
                "warning: {shown}: removed the temporary file of an interrupted run (process \
                 {DEAD})\n"
            )),
            "{err}"
        );
    }
    assert!(
        err.contains(&format!(
            "warning: .out.csv.geounify-{0}-5.tmp: left alone: process {0}, which wrote it, is \
             still running\n",
            std::process::id()
        )),
        "{err}"
    );
    assert_eq!(std::fs::read(&running).unwrap(), b"being written");
    assert_untouched(&not_ours);
    assert!(d.path("out.csv").exists());

    // The library reports them first in the report's warnings.
    let gpkg = Scratch::new("leftover-tmp-geojson");
    let (ours, not_ours) = plant_leftovers(&gpkg.0, "out.geojson");
    let input = gpkg.write(
        "in.geojson",
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[116.404,39.915]}}]}"#,
    );
    let registry = Registry::new();
    let (from, to) = (registry.lookup("WGS84").unwrap(), registry.lookup("EPSG:4548").unwrap());
    let output = gpkg.path("out.geojson");
    let report =
        convert_file(&input, &output, &from, &to, &ConvertOptions::default(), &NoProgress).unwrap();
    let expected: Vec<String> = ours
        .iter()
        .map(|p| {
            format!(
                "{}: removed the temporary file of an interrupted run (process {DEAD})",
                p.display()
            )
        })
        .collect();
    assert_eq!(report.warnings[..2], expected, "{report:?}");
    assert_untouched(&not_ours);
}

#[test]
fn temporaries_left_by_a_killed_unify_are_removed_by_the_next_run() {
    let d = Scratch::new("leftover-tmp-unify");
    d.write("poi.csv", "id,lon,lat\n1,116.404,39.915\n");
    d.write("bad.csv", "id,lon,lat\n1,116.404,95\n");
    std::fs::create_dir(d.path("out")).unwrap();
    let out = d.path("out");
    // A unify killed while writing poi.csv's output, bad.csv's (earlier, when it converted)
    // and lineage.json.
    let (ours_poi, not_ours) = plant_leftovers(&out, "poi.csv");
    let bad_tmp = out.join(format!(".bad.csv.geounify-{DEAD}-1.tmp"));
    let lineage_tmp = out.join(format!(".lineage.json.geounify-{DEAD}-2.tmp"));
    std::fs::write(&bad_tmp, b"half").unwrap();
    std::fs::write(&lineage_tmp, b"{\"half\":").unwrap();
    d.write(
        "exchange.toml",
        "target = \"EPSG:4548\"\noutput = \"out\"\n\
         [[dataset]]\npath = \"poi.csv\"\ncrs = \"WGS84\"\n\
         [[dataset]]\npath = \"bad.csv\"\ncrs = \"WGS84\"\nforce = true\n",
    );
    let (status, err) = run_cli(&["unify", "exchange.toml"], &d.0);
    assert_eq!(status.code(), Some(1), "bad.csv fails: {err}");
    for p in ours_poi.iter().chain([&bad_tmp, &lineage_tmp]) {
        assert!(!p.exists(), "{} left: {err}", p.display());
        assert!(
            err.contains(&format!(
                "warning: {}: removed the temporary file of an interrupted run (process {DEAD})\n",
                Path::new("out").join(p.file_name().unwrap()).display()
            )),
            "{}: {err}",
            p.display()
        );
    }
    assert_untouched(&not_ours);
    let lineage: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("lineage.json")).unwrap()).unwrap();
    assert_eq!(lineage["datasets"][0]["status"], "converted");
    assert_eq!(lineage["datasets"][1]["status"], "failed");
}

// ---- 4. the in-memory APIs check declared CRSs ------------------------------------------------

const CRS_4548: &str = r#"{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4548"}}"#;
const CONTRADICTION: &str = "<stream>: the \"crs\" member declares EPSG:4548, which contradicts \
     the source CRS EPSG:4547: the file's central meridian is 117°, EPSG:4547's is 114° (use \
     --force to convert anyway)";

fn point_feature() -> &'static str {
    r#"{"type":"Feature","properties":{"name":"a"},"geometry":{"type":"Point","coordinates":[500000,4400000]}}"#
}

#[test]
fn geojson_in_memory_apis_refuse_a_contradicting_crs_member() {
    use geounify::convert::geojson::{convert_reader, convert_str};
    use geounify::Transformer;
    let t = Transformer::from_ids("EPSG:4547", "EPSG:4326").unwrap();
    let options = ConvertOptions::default();
    let before = format!(
        r#"{{"type":"FeatureCollection","crs":{CRS_4548},"features":[{}]}}"#,
        point_feature()
    );
    let after = format!(
        r#"{{"type":"FeatureCollection","features":[{}],"crs":{CRS_4548}}}"#,
        point_feature()
    );
    let feature = format!(
        r#"{{"type":"Feature","crs":{CRS_4548},"properties":{{}},"geometry":{{"type":"Point","coordinates":[500000,4400000]}}}}"#
    );
    for doc in [&before, &after, &feature] {
        // convert_str: refused, as convert_file refuses the same file.
        let e = convert_str(doc, &t, &options).unwrap_err();
        assert!(matches!(e, ConvertError::DeclaredCrsMismatch { .. }), "{doc}: {e:?}");
        assert_eq!(e.to_string(), CONTRADICTION, "{doc}");
        // convert_reader: refused; when the crs member comes first, before anything is written.
        let mut out = Vec::new();
        let e = convert_reader(doc.as_bytes(), &mut out, &t, &options).unwrap_err();
        assert_eq!(e.to_string(), CONTRADICTION, "{doc}");
        if !std::ptr::eq(doc, &after) {
            assert!(out.is_empty(), "{doc}: {}", String::from_utf8_lossy(&out));
        }
        // force: converted as EPSG:4547, with the contradiction as a warning.
        let force = ConvertOptions { force: true, ..ConvertOptions::default() };
        let (text, report) = convert_str(doc, &t, &force).unwrap();
        assert_eq!(
            report.warnings[0],
            "the \"crs\" member declares EPSG:4548, which contradicts the source CRS EPSG:4547: \
             the file's central meridian is 117°, EPSG:4547's is 114°; converted as EPSG:4547 \
             (--force)"
        );
        assert!(
            text.contains("[114.00000000") && text.contains(",39.7340495"),
            "converted from CM 114°: {text}"
        );
    }
    // A declaration that agrees converts with no warning about it; one that cannot be read is
    // a warning.
    let agrees = before.replace("4548", "4547");
    let (text, report) = convert_str(&agrees, &t, &options).unwrap();
    assert!(text.contains("[114.00000000") && text.contains(",39.7340495"), "{text}");
    assert!(report.warnings.iter().all(|w| !w.contains("declares")), "{report:?}");
    let odd = before.replace(CRS_4548, r#"{"type":"link","properties":{}}"#);
    let (_, report) = convert_str(&odd, &t, &options).unwrap();
    assert!(
        report.warnings.contains(
            &"the \"crs\" member declares a CRS geounify cannot identify (neither a CRS name nor \
              an EPSG code); not checked"
                .to_string()
        ),
        "{report:?}"
    );
    // A source from a CRS file (not in the catalogue): a crs member naming it agrees; another
    // cannot be compared and is a warning, never a silent pass.
    let mut registry = Registry::new();
    registry.load_file(Path::new(SAMPLE).join("city.toml")).unwrap();
    let city = registry.transformer("city:bj54-gk117", "EPSG:4326").unwrap();
    let named =
        before.replace(CRS_4548, r#"{"type":"name","properties":{"name":"city:bj54-gk117"}}"#);
    let (_, report) = convert_str(&named, &city, &options).unwrap();
    assert!(report.warnings.iter().all(|w| !w.contains("crs\" member")), "{report:?}");
    let (_, report) = convert_str(&before, &city, &options).unwrap();
    assert!(
        report.warnings.contains(
            &"the \"crs\" member declares EPSG:4548; not checked: the source CRS city:bj54-gk117 \
              is not in the built-in catalogue (convert_file checks it against the CRS's \
              definition)"
                .to_string()
        ),
        "{report:?}"
    );
}

#[test]
fn wkt_convert_reader_refuses_a_contradicting_srid() {
    use geounify::convert::wkt::convert_reader;
    let registry = Registry::new();
    let (from, to) = (registry.lookup("EPSG:4547").unwrap(), registry.lookup("EPSG:4326").unwrap());
    let t = geounify::Transformer::new(&from, &to).unwrap();
    let text = "# survey points\nSRID=4548;POINT (500000 4400000)\nPOINT (500100 4400100)\n";
    let mut out = Vec::new();
    let e = convert_reader(text.as_bytes(), &mut out, &from, &to, &t, &ConvertOptions::default())
        .unwrap_err();
    assert!(matches!(e, ConvertError::DeclaredCrsMismatch { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "<stream>: line 2 (SRID=4548) declares EPSG:4548, which contradicts the source CRS \
         EPSG:4547: the file's central meridian is 117°, EPSG:4547's is 114° (use --force to \
         convert anyway)"
    );
    assert_eq!(String::from_utf8(out).unwrap(), "# survey points\n", "no geometry written");
    // force: converted, with the warning first.
    let force = ConvertOptions { force: true, ..ConvertOptions::default() };
    let mut out = Vec::new();
    let report = convert_reader(text.as_bytes(), &mut out, &from, &to, &t, &force).unwrap();
    assert_eq!(
        report.warnings[0],
        "line 2 (SRID=4548) declares EPSG:4548, which contradicts the source CRS EPSG:4547: the \
         file's central meridian is 117°, EPSG:4547's is 114°; converted as EPSG:4547 (--force)"
    );
    assert_eq!(report.written, 2);
    // The source's own SRID agrees.
    let mut out = Vec::new();
    let ok = text.replace("4548", "4547");
    let report =
        convert_reader(ok.as_bytes(), &mut out, &from, &to, &t, &ConvertOptions::default())
            .unwrap();
    assert_eq!(report.written, 2);
    assert!(report.warnings.iter().all(|w| !w.contains("declares")), "{report:?}");
}

// ---- 5. CRS files too large for memory --------------------------------------------------------

/// A TOML CRS file of `n` entries: a projected base, a chain of 7 local grids on it, then
/// local grids with a name and an area on the 7th (8 deep: each holds a copy of its base
/// chain, the most memory an entry can take).
fn deep_entries(n: usize) -> String {
    use std::fmt::Write as _;
    let mut text = String::from(
        "# [[crs]] and { in comments and strings are not entries\n\
         [[crs]]\nid = \"city:g0\"\nname = \"base [[crs]] {x = 1}\"\ndatum = \"CGCS2000\"\n\
         projection = { method = \"gauss-kruger\", lon0 = 117.0 }\n\n",
    );
    for i in 1..8.min(n) {
        let _ = write!(
            text,
            "[[crs]]\nid = \"city:g{i}\"\nbase = \"city:g{}\"\n\
             planar = {{ method = \"helmert4\", dx = 1.0, dy = 2.0, theta = 0.0, s = 0.0 }}\n\n",
            i - 1
        );
    }
    for i in 8..n {
        let _ = write!(
            text,
            "[[crs]]\nid = \"city:x{i}\"\nname = \"grid {i} of the district [[crs]], {{ }}\"\n\
             base = \"city:g7\"\n\
             area = {{ name = \"district {i}\", west = 115.9, south = 39.5, east = 117.2, north = 40.4 }}\n\
             planar = {{ method = \"helmert4\", dx = 1.0, dy = 2.0, theta = 0.0, s = 0.0 }}\n\n"
        );
    }
    text
}

#[test]
fn crs_files_too_large_for_memory_are_refused_with_a_count_not_an_abort() {
    use geounify::crs_file::Format;
    let d = Scratch::new("leftover-crs-memory");
    // 16 MiB (the file cap) of the smallest entries: ~390,000 of them would need ~650 MB.
    let mut small = String::new();
    let mut i = 0;
    loop {
        let entry = format!("[[crs]]\nid = \"g{i}\"\ndatum = \"CGCS2000\"\n\n");
        if small.len() + entry.len() > 16 << 20 {
            break;
        }
        small.push_str(&entry);
        i += 1;
    }
    let entries = i;
    d.write("small.toml", &small);
    let (status, err) = run_cli_limited(&["crs", "list", "--crs-file", "small.toml"], &d.0);
    assert_eq!(status.signal(), None, "{err}");
    assert_eq!(status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        format!(
            "geounify: small.toml: holds {entries} entries (ellipsoid, datum and crs together); a \
             CRS file may hold at most 5000 (a city's definitions are a few dozen); not loaded\n"
        )
    );
    // The same in JSON.
    let json = format!(
        "{{\"crs\":[{}]}}",
        (0..entries)
            .map(|i| format!("{{\"id\":\"g{i}\",\"datum\":\"CGCS2000\"}}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    d.write("small.json", &json);
    let (status, err) = run_cli_limited(&["crs", "list", "--crs-file", "small.json"], &d.0);
    assert_eq!((status.signal(), status.code()), (None, Some(2)), "{err}");
    assert!(err.starts_with(&format!("geounify: small.json: holds {entries} entries")), "{err}");
    // Few entries but 200,000 long keys (16 MiB): refused by its number of values.
    let mut keys = String::from("[[crs]]\nid = \"a\"\n");
    for k in 0..200_000 {
        keys.push_str(&format!("k{k}{} = \"{}\"\n", "x".repeat(50), "y".repeat(10)));
    }
    assert!(keys.len() < 16 << 20);
    d.write("keys.toml", &keys);
    let (status, err) = run_cli_limited(&["crs", "list", "--crs-file", "keys.toml"], &d.0);
    assert_eq!((status.signal(), status.code()), (None, Some(2)), "{err}");
    assert_eq!(
        err,
        "geounify: keys.toml: holds 200002 values (keys, array elements, tables); a CRS file may \
         hold at most 100000 (a city's definitions have a few hundred); not loaded\n"
    );
    // At the cap, the heaviest entries still load within the limit; one more is refused.
    d.write("cap.toml", deep_entries(5_000));
    let (status, err) = run_cli_limited(&["crs", "list", "--crs-file", "cap.toml"], &d.0);
    assert_eq!((status.signal(), status.code()), (None, Some(0)), "{err}");
    let mut registry = Registry::new();
    registry.load_str(&deep_entries(5_000), "cap.toml", Format::Toml).unwrap();
    assert_eq!(registry.user_crss().len(), 5_000);
    assert!(registry.transformer("city:x4999", "EPSG:4490").is_ok());
    let e = Registry::new().load_str(&deep_entries(5_001), "over.toml", Format::Toml).unwrap_err();
    assert_eq!(
        e.to_string(),
        "over.toml: holds 5001 entries (ellipsoid, datum and crs together); a CRS file may hold \
         at most 5000 (a city's definitions are a few dozen); not loaded"
    );
    assert_eq!((e.line, e.field), (None, None));
    // Inline tables in a top-level array are entries too.
    let inline = format!(
        "crs = [{}]\n",
        (0..5_001)
            .map(|i| format!("{{ id = \"g{i}\", datum = \"CGCS2000\" }}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let e = Registry::new().load_str(&inline, "inline.toml", Format::Toml).unwrap_err();
    assert!(e.message.starts_with("holds 5001 entries"), "{e}");
    // Several files add up: a registry holds at most 5,000 CRSs; the refused file changes
    // nothing.
    let mut registry = Registry::new();
    registry.load_str(&deep_entries(3_000), "a.toml", Format::Toml).unwrap();
    let second = deep_entries(2_001).replace("city:", "other:");
    let e = registry.load_str(&second, "b.toml", Format::Toml).unwrap_err();
    assert_eq!(
        e.to_string(),
        "b.toml: its 2001 CRS entries and the 3000 CRSs already loaded from other CRS files make \
         more than 5000, the most one registry holds; not loaded"
    );
    assert_eq!(registry.user_crss().len(), 3_000);
    registry
        .load_str(&deep_entries(2_000).replace("city:", "other:"), "b.toml", Format::Toml)
        .unwrap();
    assert_eq!(registry.user_crss().len(), 5_000);
}
