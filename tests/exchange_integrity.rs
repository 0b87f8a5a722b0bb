//! Exchange integrity (issue 11, item 4, and the stale `.prj` of item 2): `unify` checks the
//! whole manifest before writing anything, keeps its outputs inside the output folder and away
//! from every file it reads, never leaves a previous output or a `lineage.json` that does not
//! describe the files beside it (even after SIGKILL), and a Shapefile set is replaced as a unit
//! (temporary folder, journal, stale sidecars removed, leftovers of a killed run recovered).

mod common;
use common::cli::{spawn_in_until, BIN};
use common::scratch::{listing as names, Scratch};
use geounify::convert::atomic::recover_leftovers;
use geounify::convert::exchange::{read_manifest, run, Dataset, ExchangeError};
use geounify::convert::lineage::sha256_file;
use geounify::convert::{convert_file, ConvertError, ConvertOptions, NoProgress, Progress};
use geounify::Registry;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample");

fn no_progress(_: &Dataset) -> Box<dyn Progress> {
    Box::new(NoProgress)
}

/// Every file under `dir` (recursively, relative names) with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.path().strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if e.file_type().unwrap().is_dir() {
                out.insert(format!("{name}/"), Vec::new());
                walk(root, &e.path(), out);
            } else {
                out.insert(name, std::fs::read(e.path()).unwrap_or_default());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Runs the manifest `text` (written as `exchange.toml` in `dir`), which must be refused as a
/// whole with nothing written; the problems listed.
fn refused(dir: &Scratch, text: &str) -> Vec<String> {
    refused_named(dir, "exchange.toml", text)
}

/// [`refused`] with the manifest written as `name`.
fn refused_named(dir: &Scratch, name: &str, text: &str) -> Vec<String> {
    let path = dir.write(name, text);
    let manifest = read_manifest(&path).unwrap();
    let before = snapshot(&dir.0);
    let result = run(&manifest, &Registry::new(), &no_progress);
    let after = snapshot(&dir.0);
    let names = |s: &BTreeMap<String, Vec<u8>>| s.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&after), names(&before), "nothing written for a refused manifest");
    assert!(after == before, "nothing changed for a refused manifest");
    match result {
        Err(ExchangeError::Invalid { path: p, problems }) => {
            assert_eq!(p, path);
            problems
        }
        other => panic!("expected a refused manifest, got {other:?}"),
    }
}

const POI: &str = "id,lon,lat\n1,116.404,39.915\n2,116.41,39.92\n";

#[test]
fn a_manifest_with_problems_is_refused_whole_with_every_problem_listed() {
    let d = Scratch::new("problems");
    d.write("poi.csv", POI);
    d.write("notes.txt", "not geodata\n");
    std::fs::create_dir(d.path("folder.csv")).unwrap();
    d.write("roads.geojson", r#"{"type":"FeatureCollection","features":[]}"#);
    let problems = refused(
        &d,
        "target = \"EPSG:4548\"\noutput = \"out\"\n\
         [[dataset]]\npath = \"poi.csv\"\ncrs = \"WGS84\"\n\
         [[dataset]]\npath = \"poi.csv\"\ncrs = \"nope\"\noutput = \"poi2.csv\"\n\
         [[dataset]]\npath = \"notes.txt\"\ncrs = \"WGS84\"\n\
         [[dataset]]\npath = \"missing.csv\"\ncrs = \"WGS84\"\n\
         [[dataset]]\npath = \"folder.csv\"\ncrs = \"WGS84\"\n\
         [[dataset]]\npath = \"poi.csv\"\ncrs = \"BJ54\"\noutput = \"poi3.csv\"\n\
         [[dataset]]\npath = \"poi.csv\"\ncrs = \"WGS84\"\noutput = \"poi.txt\"\n",
    );
    assert_eq!(problems.len(), 6, "{problems:#?}");
    assert_eq!(problems[0], "dataset 2 (poi.csv): unknown CRS id 'nope' (try `geounify crs list`)");
    assert_eq!(
        problems[1],
        "dataset 3 (notes.txt): unknown format (supported: .csv, .tsv, .geojson, .json, \
         .geojsonl, .ndjson, .wkt, .shp, .gpkg, .dat, .mif, .gpx, .kml, .kmz, .dxf, .fgb, \
         .xlsx, .parquet)"
    );
    assert!(problems[2].starts_with("dataset 4 (missing.csv): cannot read the input: "));
    assert_eq!(problems[3], "dataset 5 (folder.csv): the input is not a regular file");
    assert!(
        problems[4].starts_with("dataset 6 (poi.csv): BJ54 → EPSG:4548: ")
            && problems[4].contains("no parameters"),
        "{}",
        problems[4]
    );
    // Between formats since issue 13: an output is refused for its own format only.
    assert!(
        problems[5].starts_with(
            "dataset 7 (poi.csv): output out/poi.txt: unknown format (supported: .csv, "
        ),
        "{}",
        problems[5]
    );
    // An unknown target is one more problem, listed with the datasets'.
    let problems = refused(
        &d,
        "target = \"EPSG:9\"\noutput = \"out\"\n[[dataset]]\npath = \"missing.csv\"\ncrs = \"WGS84\"\n",
    );
    assert_eq!(problems[0], "target: unknown CRS id 'EPSG:9' (try `geounify crs list`)");
    assert_eq!(problems.len(), 2, "{problems:#?}");
}

#[test]
fn outputs_are_confined_to_the_output_folder() {
    let d = Scratch::new("confined");
    d.write("poi.csv", POI);
    std::fs::create_dir(d.path("out")).unwrap();
    let escape = d.path("escape.csv");
    let problems = refused(
        &d,
        &format!(
            "target = \"EPSG:4548\"\noutput = \"out\"\n\
             [[dataset]]\npath = \"poi.csv\"\ncrs = \"WGS84\"\noutput = \"../escape.csv\"\n\
             [[dataset]]\npath = \"poi.csv\"\ncrs = \"WGS84\"\noutput = \"{}\"\n\
             [[dataset]]\npath = \"poi.csv\"\ncrs = \"WGS84\"\noutput = \"sub/poi.csv\"\n\
             [[dataset]]\npath = \"..\"\ncrs = \"WGS84\"\n",
            escape.display()
        ),
    );
    let why = "is not a file name in the output folder (no absolute paths, folders or ..)";
    assert_eq!(problems[0], format!("dataset 1 (poi.csv): output out/../escape.csv {why}"));
    assert_eq!(problems[1], format!("dataset 2 (poi.csv): output escape.csv {why}"));
    assert_eq!(problems[2], format!("dataset 3 (poi.csv): output out/sub/poi.csv {why}"));
    // `path = ".."` has no file name to derive an output from: its output is the folder.
    assert_eq!(problems[5], format!("dataset 4 (..): output out {why}"));
    assert_eq!(problems.len(), 6, "{problems:#?}");
    assert!(!escape.exists());
}

#[test]
fn outputs_never_clash_with_the_lineage_each_other_or_anything_the_exchange_reads() {
    let d = Scratch::new("clash");
    d.write("poi.csv", POI);
    d.write("POI2.CSV", POI);
    d.write("roads.geojson", r#"{"type":"FeatureCollection","features":[]}"#);
    for f in ["roads_bj54.shp", "roads_bj54.shx", "roads_bj54.dbf", "roads_bj54.cpg"] {
        std::fs::copy(Path::new(SAMPLE).join(f), d.path(f)).unwrap();
    }
    let city = Path::new(SAMPLE).join("city.toml");
    // The lineage, case-insensitively; two outputs differing only in case.
    let problems = refused(
        &d,
        "target = \"EPSG:4548\"\noutput = \"out\"\n\
         [[dataset]]\npath = \"roads.geojson\"\ncrs = \"WGS84\"\noutput = \"Lineage.JSON\"\n\
         [[dataset]]\npath = \"poi.csv\"\ncrs = \"WGS84\"\n\
         [[dataset]]\npath = \"POI2.CSV\"\ncrs = \"WGS84\"\noutput = \"POI.csv\"\n",
    );
    assert_eq!(
        problems,
        [
            "dataset 1 (roads.geojson): output out/Lineage.JSON would overwrite the exchange's \
             lineage.json",
            "dataset 3 (POI2.CSV): output out/POI.csv clashes with the output of dataset 2 \
             (poi.csv; names are compared ignoring case)",
        ]
    );
    // Shapefile sets clash through their sidecars too: a.shp and A.SHP are one set.
    let problems = refused(
        &d,
        &format!(
            "target = \"EPSG:4548\"\noutput = \"out\"\ncrs_files = [\"{}\"]\n\
             [[dataset]]\npath = \"roads_bj54.shp\"\ncrs = \"city:bj54-gk117\"\n\
             [[dataset]]\npath = \"roads_bj54.shp\"\ncrs = \"city:bj54-gk117\"\noutput = \"ROADS_BJ54.SHP\"\n",
            city.display()
        ),
    );
    assert_eq!(
        problems,
        ["dataset 2 (roads_bj54.shp): output out/ROADS_BJ54.SHP clashes with the output of \
          dataset 1 (roads_bj54.shp; names are compared ignoring case)"]
    );
    // The output folder is the inputs' folder: an output over an input (or its set), or over
    // the manifest or a CRS file, is refused. Resolved paths: `out/..` is the folder too.
    std::fs::create_dir(d.path("out")).unwrap();
    std::fs::copy(&city, d.path("city.json")).unwrap(); // only its name matters here
    let problems = refused(
        &d,
        "target = \"EPSG:4548\"\noutput = \"out/..\"\ncrs_files = []\n\
         [[dataset]]\npath = \"poi.csv\"\ncrs = \"WGS84\"\n\
         [[dataset]]\npath = \"roads.geojson\"\ncrs = \"WGS84\"\noutput = \"exchange.json\"\n\
         [[dataset]]\npath = \"roads.geojson\"\ncrs = \"WGS84\"\noutput = \"roads2.geojson\"\n",
    );
    assert_eq!(
        problems,
        ["dataset 1 (poi.csv): output out/../poi.csv would overwrite input poi.csv of dataset 1"]
    );
    // Through a folder that does not exist yet (created by the run, then `..` is this folder).
    let problems = refused(
        &d,
        "target = \"EPSG:4548\"\noutput = \"not-yet/..\"\n\
         [[dataset]]\npath = \"poi.csv\"\ncrs = \"WGS84\"\n",
    );
    assert_eq!(
        problems,
        ["dataset 1 (poi.csv): output not-yet/../poi.csv would overwrite input poi.csv of \
          dataset 1"]
    );
    // A Shapefile output whose set would overwrite the input set (another spelling of it, the
    // folder reached another way), a GeoJSON output over a CRS file, a CSV over an input whose
    // name differs in case, a GeoJSON output over the manifest.
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.json"), d.path("city.json"))
        .unwrap();
    let problems = refused_named(
        &d,
        "exchange.geojson",
        "target = \"EPSG:4548\"\noutput = \".\"\ncrs_files = [\"city.json\"]\n\
         [[dataset]]\npath = \"out/../roads_bj54.shp\"\ncrs = \"city:bj54-gk117\"\noutput = \"Roads_BJ54.shp\"\n\
         [[dataset]]\npath = \"roads.geojson\"\ncrs = \"WGS84\"\noutput = \"CITY.json\"\n\
         [[dataset]]\npath = \"POI2.CSV\"\ncrs = \"WGS84\"\noutput = \"poi2.csv\"\n\
         [[dataset]]\npath = \"roads.geojson\"\ncrs = \"WGS84\"\noutput = \"Exchange.geojson\"\n",
    );
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(
        problems[0].starts_with(
            "dataset 1 (out/../roads_bj54.shp): output Roads_BJ54.shp would overwrite input "
        ) && problems[0].ends_with(" of dataset 1"),
        "{problems:#?}"
    );
    assert_eq!(
        problems[1..],
        [
            "dataset 2 (roads.geojson): output CITY.json would overwrite CRS file city.json",
            "dataset 3 (POI2.CSV): output poi2.csv would overwrite input POI2.CSV of dataset 3",
            "dataset 4 (roads.geojson): output Exchange.geojson would overwrite the manifest",
        ]
    );
    // A hard link to an input under another name in the output folder.
    #[cfg(unix)]
    {
        std::fs::hard_link(d.path("poi.csv"), d.path("out/linked.csv")).unwrap();
        let problems = refused(
            &d,
            "target = \"EPSG:4548\"\noutput = \"out\"\n\
             [[dataset]]\npath = \"poi.csv\"\ncrs = \"WGS84\"\noutput = \"linked.csv\"\n",
        );
        assert_eq!(
            problems,
            ["dataset 1 (poi.csv): output out/linked.csv would overwrite input poi.csv of \
              dataset 1"]
        );
    }
}

#[test]
fn the_cli_refuses_a_bad_manifest_with_every_problem_and_exit_2() {
    let d = Scratch::new("cli-refused");
    d.write("poi.csv", POI);
    d.write(
        "exchange.toml",
        "target = \"EPSG:4548\"\noutput = \"out\"\n\
         [[dataset]]\npath = \"poi.csv\"\ncrs = \"nope\"\n\
         [[dataset]]\npath = \"poi.csv\"\ncrs = \"WGS84\"\noutput = \"../poi.csv\"\n",
    );
    let out =
        Command::new(BIN).args(["unify", "exchange.toml"]).current_dir(&d.0).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "geounify: exchange.toml: the exchange was not run, nothing written; 2 problem(s):\n  \
         dataset 1 (poi.csv): unknown CRS id 'nope' (try `geounify crs list`)\n  \
         dataset 2 (poi.csv): output out/../poi.csv is not a file name in the output folder \
         (no absolute paths, folders or ..)\n"
    );
    assert_eq!(d.listing(), ["exchange.toml", "poi.csv"]);
}

/// The lineage of `dir/out`, parsed.
fn lineage_of(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("out/lineage.json")).unwrap()).unwrap()
}

/// Every hash the lineage at `dir/out/lineage.json` records (manifest, inputs, outputs)
/// checked against the file on disk; the number of files checked.
fn assert_lineage_verifies(dir: &Path) -> usize {
    let lineage = lineage_of(dir);
    let mut files = vec![&lineage["manifest"]];
    for d in lineage["datasets"].as_array().unwrap() {
        files.extend(d["input"]["files"].as_array().unwrap());
        files.extend(d["outputs"].as_array().unwrap());
    }
    for f in &files {
        let path = dir.join(f["path"].as_str().unwrap());
        let now = sha256_file(&path).unwrap_or_else(|e| format!("{}: {e}", path.display()));
        assert_eq!(f["sha256"], now, "lineage.json does not describe {}", path.display());
    }
    files.len()
}

#[test]
fn a_failed_dataset_leaves_no_previous_output() {
    let d = Scratch::new("stale-output");
    d.write("poi.csv", POI);
    for f in ["roads_bj54.shp", "roads_bj54.shx", "roads_bj54.dbf", "roads_bj54.cpg"] {
        std::fs::copy(Path::new(SAMPLE).join(f), d.path(f)).unwrap();
    }
    let manifest = |roads_crs: &str| {
        format!(
            "target = \"EPSG:4548\"\noutput = \"out\"\ncrs_files = [\"{SAMPLE}/city.toml\"]\n\
             [[dataset]]\npath = \"poi.csv\"\ncrs = \"WGS84\"\n\
             [[dataset]]\npath = \"roads_bj54.shp\"\ncrs = \"{roads_crs}\"\n"
        )
    };
    let path = d.write("exchange.toml", manifest("city:bj54-gk117"));
    let report = run(&read_manifest(&path).unwrap(), &Registry::new(), &no_progress).unwrap();
    assert!(report.is_complete());
    d.write("out/roads_bj54.qix", "an index a viewer built over the converted roads");
    let set = ["roads_bj54.cpg", "roads_bj54.dbf", "roads_bj54.prj", "roads_bj54.qix"];
    let set = [&set[..], &["roads_bj54.shp", "roads_bj54.shx"]].concat();
    // Second run: a point beyond ±90° in the CSV, and the roads declared in a CRS they cannot
    // belong to (the sanity check refuses them). Both datasets fail.
    d.write("poi.csv", "id,lon,lat\n1,116.404,39.915\n2,116.41,95\n");
    let path = d.write("exchange.toml", manifest("EPSG:4326"));
    let report = run(&read_manifest(&path).unwrap(), &Registry::new(), &no_progress).unwrap();
    assert!(report.datasets.iter().all(|o| o.result.is_err()));
    assert_eq!(report.datasets[0].removed, [d.path("out/poi.csv")]);
    assert_eq!(report.datasets[1].removed.len(), 6);
    assert_eq!(names(&d.path("out")), ["lineage.json"], "no output of the earlier run is left");
    let lineage = lineage_of(&d.0);
    let poi = &lineage["datasets"][0];
    assert_eq!(poi["status"], "failed");
    assert_eq!(poi["outputs"], serde_json::json!([]));
    assert_eq!(poi["removed_previous_outputs"], serde_json::json!(["out/poi.csv"]));
    let roads = &lineage["datasets"][1];
    assert_eq!(roads["status"], "failed");
    assert!(roads["error"].as_str().unwrap().contains("--force"), "{roads}");
    let mut removed: Vec<&str> = roads["removed_previous_outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().strip_prefix("out/").unwrap())
        .collect();
    removed.sort_unstable();
    assert_eq!(removed, set);
    assert_lineage_verifies(&d.0);
}

#[cfg(unix)]
#[test]
fn a_kill_mid_exchange_never_leaves_a_lineage_describing_other_files() {
    let d = Scratch::new("sigkill");
    d.write("a.csv", POI);
    let manifest = |datasets: &[&str]| {
        let mut m = String::from("target = \"EPSG:4548\"\noutput = \"out\"\n");
        for p in datasets {
            m.push_str(&format!("[[dataset]]\npath = \"{p}\"\ncrs = \"WGS84\"\n"));
        }
        m
    };
    d.write("exchange.toml", manifest(&["a.csv"]));
    let status = Command::new(BIN).args(["unify", "exchange.toml"]).current_dir(&d.0).output();
    assert_eq!(status.unwrap().status.code(), Some(0));
    assert_lineage_verifies(&d.0);
    // Second run: a.csv changed (converted first, quickly), then a large dataset, killed while
    // it is written.
    d.write("a.csv", "id,lon,lat\n1,116.5,39.8\n");
    common::points::csv(&d.path("big.csv"), 2_000_000);
    d.write("exchange.toml", manifest(&["a.csv", "big.csv"]));
    let writing_big = || {
        std::fs::read_dir(d.path("out"))
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().starts_with(".big.csv.geounify-"))
    };
    let mut child =
        spawn_in_until(&["unify", "exchange.toml"], &d.0, "big.csv was being written", writing_big);
    child.kill().unwrap(); // SIGKILL: no handler runs
    let status = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
    // a.csv's new output is in place; a lineage, if any, must describe it.
    if d.path("out/lineage.json").exists() {
        assert_lineage_verifies(&d.0);
    }
    assert!(!d.path("out/lineage.json").exists(), "the old lineage was removed before converting");
    // Run again to the end: the lineage describes the files.
    let out = Command::new(BIN).args(["unify", "exchange.toml"]).current_dir(&d.0).output();
    assert_eq!(out.unwrap().status.code(), Some(0));
    assert_eq!(assert_lineage_verifies(&d.0), 5); // manifest, 2 inputs, 2 outputs
}

// ---- Shapefile sets replaced as a unit -------------------------------------------------------

/// The sample roads set (Beijing 1954 city GK, GBK attributes) copied into `dir` as `in.*`, and
/// a registry with the sample city CRSs.
fn roads(dir: &Scratch) -> (PathBuf, Registry) {
    for ext in ["shp", "shx", "dbf", "cpg"] {
        std::fs::copy(
            Path::new(SAMPLE).join(format!("roads_bj54.{ext}")),
            dir.path(&format!("in.{ext}")),
        )
        .unwrap();
    }
    let mut registry = Registry::new();
    registry.load_file(Path::new(SAMPLE).join("city.toml")).unwrap();
    (dir.path("in.shp"), registry)
}

fn convert_roads(
    registry: &Registry,
    input: &Path,
    output: &Path,
    to: &str,
) -> Result<geounify::convert::ConvertReport, ConvertError> {
    let (from, to) = (registry.lookup("city:bj54-gk117").unwrap(), registry.lookup(to).unwrap());
    convert_file(input, output, &from, &to, &ConvertOptions::default(), &NoProgress)
}

#[test]
fn reconverting_a_shapefile_leaves_no_stale_prj_or_index() {
    let d = Scratch::new("stale-prj");
    let (input, registry) = roads(&d);
    let output = d.path("out.shp");
    convert_roads(&registry, &input, &output, "EPSG:4548").unwrap();
    assert!(d.path("out.prj").exists());
    // Sidecars a GIS adds to the converted set: indexes and metadata of its coordinates.
    for ext in ["qix", "sbn", "sbx", "shp.xml", "CPG"] {
        d.write(&format!("out.{ext}"), "describes the EPSG:4548 coordinates");
    }
    // Into GCJ-02, which has no WKT form: the new set has no .prj, so the old one must go (it
    // would declare EPSG:4548 over GCJ-02 coordinates), and so must the old indexes.
    let report = convert_roads(&registry, &input, &output, "GCJ02").unwrap();
    assert!(report.warnings.iter().any(|w| w.starts_with("no .prj written: ")), "{report:?}");
    assert_eq!(
        names(&d.0),
        ["in.cpg", "in.dbf", "in.shp", "in.shx", "out.cpg", "out.dbf", "out.shp", "out.shx"]
    );
    // The set is the new conversion: GCJ-02 longitudes and latitudes, not metres.
    let shp = std::fs::read(&output).unwrap();
    let xmin = f64::from_le_bytes(shp[36..44].try_into().unwrap());
    assert!((115.0..118.0).contains(&xmin), "{xmin}");
    assert_eq!(std::fs::read(d.path("out.dbf")).unwrap(), std::fs::read(d.path("in.dbf")).unwrap());
}

#[test]
fn a_leftover_set_folder_without_journal_is_removed_by_the_next_conversion() {
    let d = Scratch::new("leftover");
    let (input, registry) = roads(&d);
    // A conversion killed while writing (pid 4294967 is beyond any pid_max): part of a set.
    let leftover = d.path(".out.shp.geounify-4294967-0.set");
    std::fs::create_dir(&leftover).unwrap();
    std::fs::write(leftover.join("out.shp"), b"half a shapefile").unwrap();
    let report = convert_roads(&registry, &input, &d.path("out.shp"), "EPSG:4548").unwrap();
    assert_eq!(
        report.warnings[0],
        format!("{}: removed the unfinished output of an interrupted run", leftover.display())
    );
    assert_eq!(
        names(&d.0),
        [
            "in.cpg", "in.dbf", "in.shp", "in.shx", "out.cpg", "out.dbf", "out.prj", "out.shp",
            "out.shx"
        ]
    );
}

#[test]
fn an_interrupted_commit_is_completed_from_its_journal() {
    let d = Scratch::new("journal");
    let (input, registry) = roads(&d);
    // The old set (EPSG:4548, with .prj) and an index over it.
    let output = d.path("out.shp");
    convert_roads(&registry, &input, &output, "EPSG:4548").unwrap();
    d.write("out.qix", "old index");
    // The new set (GCJ-02, no .prj), made aside.
    std::fs::create_dir(d.path("new")).unwrap();
    convert_roads(&registry, &input, &d.path("new/out.shp"), "GCJ02").unwrap();
    let new: BTreeMap<String, Vec<u8>> = snapshot(&d.path("new"));
    // A commit killed after its journal and the first rename: the .shp is new, the rest old.
    let leftover = d.path(".out.shp.geounify-4294967-3.set");
    std::fs::create_dir(&leftover).unwrap();
    std::fs::rename(d.path("new/out.shp"), &output).unwrap();
    for ext in ["shx", "dbf", "cpg"] {
        std::fs::rename(d.path(&format!("new/out.{ext}")), leftover.join(format!("out.{ext}")))
            .unwrap();
    }
    let journal = "rename out.shp\nrename out.shx\nrename out.dbf\nrename out.cpg\n\
                   remove out.prj\nremove out.qix\n";
    std::fs::write(leftover.join("COMMIT"), journal).unwrap();
    let family = ["shp", "shx", "dbf", "prj", "cpg", "qix"];
    let messages = recover_leftovers(&output, &family).unwrap();
    assert_eq!(
        messages,
        [format!(
            "{}: completed the replacement of the out.shp set that an interrupted run had begun",
            leftover.display()
        )]
    );
    // The whole new set, nothing of the old one.
    let now: BTreeMap<String, Vec<u8>> =
        snapshot(&d.0).into_iter().filter(|(n, _)| n.starts_with("out.")).collect();
    assert_eq!(now, new);
    assert!(!leftover.exists());

    // A journal naming anything but the set's own files is refused, nothing done.
    std::fs::create_dir(&leftover).unwrap();
    std::fs::write(leftover.join("COMMIT"), "remove in.shp\nrename ../../x.shp\n").unwrap();
    let e = recover_leftovers(&output, &family).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: not a geounify journal line: \"remove in.shp\"",
            leftover.join("COMMIT").display()
        )
    );
    assert!(d.path("in.shp").exists() && leftover.join("COMMIT").exists());
    // convert refuses to write over it, naming it.
    let e = convert_roads(&registry, &input, &output, "EPSG:4548").unwrap_err();
    assert!(e.to_string().contains("not a geounify journal line"), "{e}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_set_folder_of_a_running_process_is_refused() {
    let d = Scratch::new("running");
    let (input, registry) = roads(&d);
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let folder = d.path(&format!(".out.shp.geounify-{}-0.set", sleeper.id()));
    std::fs::create_dir(&folder).unwrap();
    let result = convert_roads(&registry, &input, &d.path("out.shp"), "EPSG:4548");
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    let e = result.unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{}: {}: process {} is still writing this output (remove the folder if it is not)",
            d.path("out.shp").display(),
            folder.display(),
            sleeper.id()
        )
    );
    assert!(!d.path("out.shp").exists() && folder.exists());
}

/// Starts `geounify convert` of `big.shp` into `out.shp` and waits until its set folder
/// appears (the set being written); the child and the folder's name.
#[cfg(unix)]
fn convert_until_writing(d: &Scratch) -> (std::process::Child, String) {
    let args = ["convert", "--from", "WGS84", "--to", "EPSG:4548", "big.shp", "-o", "out.shp"];
    let mut folder = None;
    let child = spawn_in_until(&args, &d.0, "its set folder appeared", || {
        folder = d
            .listing()
            .into_iter()
            .find(|n| n.starts_with(".out.shp.geounify-") && n.ends_with(".set"));
        folder.is_some()
    });
    (child, folder.unwrap())
}

#[cfg(unix)]
#[test]
fn a_killed_shapefile_conversion_leaves_the_old_set_and_a_folder_the_next_run_removes() {
    let d = Scratch::new("set-kill");
    common::points::shapefile(&d.0, "big", 2_000_000);
    // The old set: its own .prj and an index.
    d.write("out.shp", "old shp");
    d.write("out.shx", "old shx");
    d.write("out.prj", "old prj");
    d.write("out.qix", "old index");
    let (mut child, folder) = convert_until_writing(&d);
    child.kill().unwrap(); // SIGKILL: no handler runs
    let status = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
    // The old set untouched (the kill came before the commit's journal), and the folder.
    for (name, bytes) in [
        ("out.shp", "old shp"),
        ("out.shx", "old shx"),
        ("out.prj", "old prj"),
        ("out.qix", "old index"),
    ] {
        assert_eq!(std::fs::read_to_string(d.path(name)).unwrap(), bytes);
    }
    assert!(!d.path(&folder).join("COMMIT").exists());
    // The next run into the same output removes the folder and says so.
    common::points::shapefile(&d.0, "big", 3);
    let out = Command::new(BIN)
        .args(["convert", "--from", "WGS84", "--to", "EPSG:4548", "big.shp", "-o", "out.shp"])
        .current_dir(&d.0)
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{err}");
    let warning = format!(
        "geounify: warning: {folder}: removed the unfinished output of an interrupted run\n"
    );
    assert!(err.contains(&warning), "{err}");
    assert_eq!(d.listing(), ["big.shp", "big.shx", "out.prj", "out.shp", "out.shx"]);
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_shapefile_conversion_removes_its_set_folder() {
    let d = Scratch::new("set-ctrl-c");
    common::points::shapefile(&d.0, "big", 2_000_000);
    d.write("out.shp", "old shp");
    let (child, folder) = convert_until_writing(&d);
    let pid = i32::try_from(child.id()).unwrap();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let status = child.wait_with_output().unwrap().status;
    assert_eq!(status.code(), Some(130));
    assert!(!d.path(&folder).exists());
    assert_eq!(d.listing(), ["big.shp", "big.shx", "out.shp"]);
    assert_eq!(std::fs::read_to_string(d.path("out.shp")).unwrap(), "old shp");
}

#[test]
fn the_cli_says_which_earlier_outputs_a_failed_dataset_removed() {
    let d = Scratch::new("cli-removed");
    d.write("poi.csv", POI);
    d.write(
        "exchange.toml",
        "target = \"EPSG:4548\"\noutput = \"out\"\n[[dataset]]\npath = \"poi.csv\"\ncrs = \"WGS84\"\n",
    );
    let unify = || Command::new(BIN).args(["unify", "exchange.toml"]).current_dir(&d.0).output();
    assert_eq!(unify().unwrap().status.code(), Some(0));
    d.write("poi.csv", "id,lon,lat\n1,116.41,95\n");
    let out = unify().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.ends_with(
            "geounify: poi.csv: removed out/poi.csv, an earlier run's output\n\
             geounify: lineage: out/lineage.json\n"
        ),
        "{err}"
    );
    assert_eq!(names(&d.path("out")), ["lineage.json"]);
}
