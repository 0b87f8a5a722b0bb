//! The bad-input catalogue (issue 6): every kind of bad input the issue lists, each with the
//! exact error it gets and proof that nothing was written or lost — a [`Snapshot`] of the
//! folder before and after: no output appeared (or an existing output is byte-identical), no
//! hidden temporary `.NAME.geounify-*.tmp` is left, and the input's bytes are unchanged.
//!
//! The layer that decides is the layer tested: the [`Transformer`] for single points (and its
//! batch path, which must agree), the library's `convert_file` and stream converters for files,
//! `Registry::load_str` for CRS files, `estimate::estimate` for control points, and the
//! `geounify` binary where the CLI decides (exit status, stderr text, signals, process limits).
//!
//! Cases (test function → input → expected behaviour):
//!
//! - `coordinates_nan_inf_1e308` — NaN / ±inf in x, y or z → `PointError::NonFinite`; latitude
//!   1e308 → `LatitudeOutOfRange`; longitude ±1e308 → `LongitudeOutOfRange` (scalar and batch
//!   alike); easting 1e308 → `OutsideDomain("gauss-kruger inverse")`; a 1e308 m height through
//!   a projection passes unchanged. In a CSV, rows with `NaN`, `inf`, `1e999`, `1e308` fail by
//!   line (`line 3: x 'NaN' is not a number`, ...), `PointsFailed`, nothing written, an existing
//!   output kept; `1e999` in GeoJSON overflows to infinity: `feature 2: coordinate is NaN or
//!   infinite`.
//! - `latitude_beyond_90` — 90.000001°, −95° → `LatitudeOutOfRange { latitude_deg }`,
//!   "latitude -95° is beyond ±90°"; in a GeoJSON file `PointsFailed` at `feature 2`.
//! - `longitude_wrap` — what geounify does: a projection takes the longitude *difference* to its
//!   meridian modulo 360°, so 477° and −243° project as 117° (to 1 µm); ±180° are one meridian
//!   (Web Mercator x = ±20 037 508.34 m); 181° is 64° from a 117° meridian and converts; the
//!   inverse returns lon0 + Δλ, Δλ in [−180°, 180°] (477° comes back as 117°). Beyond ±10 radians
//!   (572.96°, PROJ's limit) `LongitudeOutOfRange` (837° is refused), except through an identity
//!   conversion (WGS84 → CGCS2000, no steps), which passes every finite value through unchanged
//!   (181°, 1e300°).
//! - `points_far_outside_a_zone` — more than 90° from the zone's meridian (lon 0°, 26°, −63° to
//!   EPSG:4548) → `OutsideDomain("gauss-kruger")`; within 90° (lon 30°) the projection is
//!   defined and converts; easting 5e7 m → `OutsideDomain("gauss-kruger inverse")`; a file whose
//!   eastings lie ≈ 2000 km outside its declared zone is stopped by the sanity check
//!   (`Implausible`, "... (use --force to convert anyway)"), nothing written.
//! - `empty_files_each_format` — a 0-byte file of every format is an error naming the file,
//!   nothing written (issue 11; before, the text formats converted to an empty output):
//!   .csv / .tsv → `Malformed` "line 1: the file is empty (no header line): nothing to convert";
//!   .geojson, .geojsonl, .wkt → `Malformed` "line 1: the file is empty (...)"; .gpkg →
//!   `Malformed` "database: no gpkg_geometry_columns table: not a GeoPackage"; a 0-byte .shp set
//!   → `Malformed` "header: 0 bytes, shorter than a header" (a header-only Shapefile:
//!   `convert_shapefile::empty_shapefile_converts_to_an_empty_one`). Whitespace-only files and
//!   files with no features: `hostile_input::empty_inputs_are_errors`.
//! - `geojson_truncated_and_invalid` — cut mid-feature, cut inside a coordinate array, trailing
//!   characters, a one-number position, an unknown geometry type, a string coordinate, a CSV
//!   named .geojson → `Malformed` naming the line and column (or the feature and what is wrong:
//!   "feature 1: Point coordinates: a position needs at least 2 numbers, found [116.4]"), an
//!   existing output kept byte for byte; CLI exit 1 with the message.
//! - `csv_missing_and_extra_fields` — a row ending before the y column → `PointsFailed`,
//!   "line 3: the row has 2 field(s) but the y column 'lat' is field 3", nothing written; extra
//!   fields are copied byte for byte and a row ending before the (optional) z column converts in
//!   2D: nothing lost.
//! - `wrong_encoding` — GBK read as UTF-8 → `Malformed` at line 1 (the header cannot be
//!   decoded); UTF-8 read as GBK → `Options` "no x column found in the header: '鍚嶇О', ...;
//!   name the columns with --x-col and --y-col"; invalid UTF-8 in GeoJSON → `Malformed` at line
//!   2; `encoding = Gbk` for GeoJSON → `Options` ("GeoJSON is always UTF-8").
//! - `mixed_2d_3d` — GeoJSON `[x,y]` and `[x,y,z]` in one geometry: each position keeps its own
//!   dimension; WKT `LINESTRING (1 2, 3 4 5)` → `Malformed` "line 1: the coordinate at column 25
//!   has 3 number(s); expected 2 numbers, as the geometry's first coordinate"; a CSV z column
//!   partly empty: rows with z convert in 3D (new height through a datum shift), rows without in
//!   2D (height 0 on the source datum) with the z cell left empty.
//! - `unknown_crs_ids_library` — `EPSG:99999`, `""`, `nope` → `CrsError::Unknown { id }`,
//!   `BuildError::UnknownCrs`, "unknown CRS id 'nope' (try `geounify crs list`)".
//! - `unknown_crs_ids_cli` — `transform`, `convert`, `crs info` with `nope` → exit 2, "unknown
//!   CRS id 'nope'", nothing written (`cli_convert::usage_errors_exit_2` covers `convert --to`).
//! - `crs_file_cycles_and_missing_fields` — "city.toml:7: crs[b].base: cycle between base
//!   entries: a → b → a"; "crs[c].datum", "datum[d].ellipsoid", "crs[e].projection.method":
//!   "missing required field", each with its line; no parameter value quoted; nothing loaded;
//!   CLI `--crs-file` exit 2 with the same message, nothing written.
//! - `degenerate_control_points` — collinear (affine6, helmert7) → `Degenerate`; a repeated
//!   source → `DuplicateSource { id, first }`; a repeated id → `DuplicateId`; 2 points for
//!   affine6 → `TooFewPoints { needed: 3, got: 2 }`; NaN → `NonFinite { id }`.
//! - `output_equal_to_input` — the same path, `dir/./a.csv`, `dir/sub/../a.csv`, a symlink to
//!   the input (either way round), CLI `./a.csv` vs `a.csv` → `SameFile` / exit 2 "the output
//!   would overwrite the input"; a Shapefile's same stem in the same folder (`ROADS.shp`,
//!   `roads.SHP`, `./roads.shp`) → `SameFile`. A hard link to the input is allowed: the output
//!   is renamed over the link's name, so the input's bytes are untouched.
//! - `unwritable_output_folder` — we run as root, so permission bits (chmod 0555) would not stop
//!   the write; the folders are unwritable for reasons root cannot override: a parent that is a
//!   regular file (ENOTDIR), a folder under /proc (no new files there), a missing folder →
//!   `Io` naming the output; CLI exit 2 "geounify: file/out.csv: ...".
//! - `disk_full_stream_apis` — the CSV, GeoJSON and WKT stream converters writing into a
//!   `Write` that fails with `StorageFull` (ENOSPC) after 0, 1, 4096, 100 000 bytes →
//!   `ConvertError::Io` of kind `StorageFull` (a stream's partial output is documented).
//! - `disk_full_cli_each_format` — `geounify convert` of every format (CSV, GeoJSON, GeoJSON
//!   sequence, WKT, Shapefile, GeoPackage) under `RLIMIT_FSIZE` = 64 KiB with SIGXFSZ ignored:
//!   writes fail with EFBIG, the same error path as a full disk → exit 2, "geounify: out.X: File
//!   too large (os error 27)", an existing output byte-identical, no temporary left. `-o
//!   /dev/full` is refused before anything is opened (no extension: unknown format), so it does
//!   not exercise this path.
//! - `sigkill_mid_conversion` — SIGKILL while `geounify convert` writes: the existing output is
//!   intact; the one hidden temporary `.out.csv.geounify-<pid>-<n>.tmp` remains (documented in
//!   `convert::atomic`: a killed process cannot clean up).
//! - SIGINT mid-conversion — `cli_convert::ctrl_c_leaves_neither_output_nor_temporary_file`:
//!   exit 130, no temporary, the existing output intact.
#![cfg(feature = "cli")]

mod common;
use common::cli::{run_in as run, spawn_in_until, BIN};
use common::crs;
use common::scratch::Scratch;
use geounify::convert::{self, convert_file, ConvertError, ConvertOptions, NoProgress};
use geounify::estimate::{self, ControlPoint, EstimateError, Model};
use geounify::{BuildError, CrsError, Heights, PointError, Registry, Transformer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

// ---- helpers ---------------------------------------------------------------------------------

/// Every file of a folder with its bytes: taken before a refused operation, compared after.
#[derive(Debug, PartialEq)]
struct Snapshot(BTreeMap<String, Vec<u8>>);

impl Snapshot {
    fn of(dir: &Path) -> Self {
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let bytes = if entry.file_type().unwrap().is_file() {
                std::fs::read(entry.path()).unwrap()
            } else {
                b"<not a regular file>".to_vec()
            };
            files.insert(name, bytes);
        }
        Snapshot(files)
    }

    /// Asserts that `dir` holds exactly the same files with the same bytes (no output, no
    /// temporary, inputs and old outputs untouched).
    fn assert_unchanged(&self, dir: &Path, case: &str) {
        let now = Snapshot::of(dir);
        let names = |s: &Snapshot| s.0.keys().cloned().collect::<Vec<_>>();
        assert_eq!(names(&now), names(self), "{case}: files written or removed");
        for (name, bytes) in &self.0 {
            assert!(now.0[name] == *bytes, "{case}: {name} changed");
        }
    }
}

/// `convert_file` with default options (sanity check on).
fn lib_convert(
    input: &Path,
    output: &Path,
    from: &str,
    to: &str,
) -> Result<convert::ConvertReport, ConvertError> {
    convert_file(input, output, &crs(from), &crs(to), &ConvertOptions::default(), &NoProgress)
}

/// The error's text and the malformed location, if it is `Malformed`.
fn malformed(result: Result<convert::ConvertReport, ConvertError>) -> String {
    match result {
        Err(e @ ConvertError::Malformed { .. }) => e.to_string(),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

fn wgs84_to_4548() -> Transformer {
    Transformer::from_ids("WGS84", "EPSG:4548").unwrap()
}

// ---- coordinates -----------------------------------------------------------------------------

#[test]
fn coordinates_nan_inf_1e308() {
    let t = wgs84_to_4548();
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(t.transform([bad, 39.9, 0.0]), Err(PointError::NonFinite));
        assert_eq!(t.transform([116.4, bad, 0.0]), Err(PointError::NonFinite));
        assert_eq!(t.transform([116.4, 39.9, bad]), Err(PointError::NonFinite));
    }
    assert_eq!(
        t.transform([116.4, 1e308, 0.0]),
        Err(PointError::LatitudeOutOfRange { latitude_deg: 1e308 })
    );
    // 1e308° of longitude: its radians are finite but every digit of the angle is lost, and
    // the projection returned a finite, arbitrary point (6 907 778 E, 9 249 600 N) before the
    // input check refused longitudes beyond 10 radians (PROJ's limit). The batch path agrees.
    let far = PointError::LongitudeOutOfRange { longitude_deg: 1e308 };
    assert_eq!(t.transform([1e308, 39.9, 0.0]), Err(far));
    assert_eq!(
        PointError::LongitudeOutOfRange { longitude_deg: -600.0 }.to_string(),
        "longitude -600° is beyond ±572.96° (10 radians)"
    );
    let mut batch = [[1e308, 39.9], [116.4, 39.9], [-1e308, 39.9]];
    let report = t.transform_slice(&mut batch);
    let failed: Vec<(usize, PointError)> =
        report.failures.iter().map(|f| (f.index, f.error)).collect();
    assert_eq!(failed, [(0, far), (2, PointError::LongitudeOutOfRange { longitude_deg: -1e308 })]);
    assert!(batch[0][0].is_nan() && batch[1][0].is_finite());
    // A 1e308 m easting / height on the inverse.
    let inv = t.inverse();
    assert!(matches!(
        inv.transform([1e308, 4_420_000.0, 0.0]),
        Err(PointError::OutsideDomain { operation: "gauss-kruger inverse" })
    ));
    // A projection does not touch the height: 1e308 m passes through exactly.
    assert_eq!(inv.transform([449_042.0, 4_420_261.0, 1e308]).unwrap()[2], 1e308);

    // In files: every bad row fails with its line; nothing written.
    let d = Scratch::new("nonfinite");
    d.write(
        "in.csv",
        "id,lon,lat\n1,116.4,39.9\n2,NaN,39.9\n3,116.4,inf\n4,1e999,39.9\n5,1e308,39.9\n",
    );
    d.write("out.csv", "old output\n");
    let before = Snapshot::of(&d.0);
    match lib_convert(&d.path("in.csv"), &d.path("out.csv"), "WGS84", "EPSG:4548") {
        Err(ConvertError::PointsFailed { failures, total, .. }) => {
            assert_eq!(total, 4, "{failures:?}");
            let lines: Vec<&str> = failures.iter().map(|f| f.location.as_str()).collect();
            assert_eq!(lines, ["line 3", "line 4", "line 5", "line 6"]);
            assert_eq!(failures[0].reason, "x 'NaN' is not a number");
            assert_eq!(failures[1].reason, "y 'inf' is not a number");
            assert_eq!(failures[2].reason, "x '1e999' is not a number");
            assert!(failures[3].reason.starts_with("longitude 1000"), "{}", failures[3].reason);
            assert!(failures[3].reason.ends_with("000° is beyond ±572.96° (10 radians)"));
        }
        other => panic!("{other:?}"),
    }
    before.assert_unchanged(&d.0, "csv non-finite");

    // GeoJSON has no NaN; 1e999 overflows to infinity: the feature fails by its number.
    d.write(
        "in.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":[\n\
         {\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[116.4,39.9]}},\n\
         {\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[1e999,39.9]}}\n]}\n",
    );
    let before = Snapshot::of(&d.0);
    match lib_convert(&d.path("in.geojson"), &d.path("out.geojson"), "WGS84", "EPSG:4548") {
        Err(ConvertError::PointsFailed { failures, total: 1, .. }) => {
            assert_eq!(failures[0].location, "feature 2");
            assert_eq!(failures[0].reason, "coordinate is NaN or infinite");
        }
        other => panic!("{other:?}"),
    }
    before.assert_unchanged(&d.0, "geojson 1e999");
}

#[test]
fn latitude_beyond_90() {
    let t = wgs84_to_4548();
    assert_eq!(
        t.transform([116.4, 90.000_001, 0.0]),
        Err(PointError::LatitudeOutOfRange { latitude_deg: 90.000_001 })
    );
    assert_eq!(
        t.transform([116.4, -95.0, 0.0]),
        Err(PointError::LatitudeOutOfRange { latitude_deg: -95.0 })
    );
    assert_eq!(
        PointError::LatitudeOutOfRange { latitude_deg: -95.0 }.to_string(),
        "latitude -95° is beyond ±90°"
    );
    let d = Scratch::new("lat");
    d.write(
        "in.geojson",
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","id":"ok","properties":{},"geometry":{"type":"Point","coordinates":[116.4,39.9]}},
{"type":"Feature","id":"north","properties":{},"geometry":{"type":"Point","coordinates":[116.4,95]}}
]}"#,
    );
    d.write("out.geojson", "old output");
    let before = Snapshot::of(&d.0);
    match lib_convert(&d.path("in.geojson"), &d.path("out.geojson"), "WGS84", "EPSG:4548") {
        Err(ConvertError::PointsFailed { failures, total: 1, .. }) => {
            assert!(failures[0].location.contains("feature 2"), "{failures:?}");
            assert_eq!(failures[0].reason, "latitude 95° is beyond ±90°");
        }
        other => panic!("{other:?}"),
    }
    before.assert_unchanged(&d.0, "latitude 95");
}

#[test]
fn longitude_wrap() {
    let t = wgs84_to_4548();
    let at = |lon: f64| t.transform([lon, 39.9, 0.0]).unwrap();
    let base = at(117.0);
    // The longitude difference to the central meridian is taken modulo 360°.
    for lon in [477.0, -243.0] {
        let p = at(lon);
        assert!((p[0] - base[0]).abs() < 1e-6 && (p[1] - base[1]).abs() < 1e-6, "{lon}: {p:?}");
    }
    // Beyond 10 radians (572.96°) a longitude is refused, not wrapped.
    assert_eq!(
        t.transform([117.0 + 720.0, 39.9, 0.0]),
        Err(PointError::LongitudeOutOfRange { longitude_deg: 837.0 })
    );
    // ±180° are one meridian: Web Mercator gives x = ∓π·a, both finite.
    let wm = Transformer::from_ids("WGS84", "EPSG:3857").unwrap();
    let east = wm.transform([180.0, 0.0, 0.0]).unwrap();
    let west = wm.transform([-180.0, 0.0, 0.0]).unwrap();
    assert!((east[0].abs() - 20_037_508.342_789_244).abs() < 1e-6, "{east:?}");
    assert!((west[0].abs() - 20_037_508.342_789_244).abs() < 1e-6, "{west:?}");
    // 181° to a 117° zone: 64° from the meridian, inside the projection's domain.
    assert!(t.transform([181.0, 39.9, 0.0]).is_ok());
    // Geographic → geographic on one frame (an identity, no steps): every finite longitude
    // passes through as given, even beyond the 10-radian limit (nothing is computed with it).
    let same_frame = Transformer::from_ids("WGS84", "CGCS2000").unwrap();
    assert!(same_frame.steps().is_empty());
    for lon in [181.0, -180.0, 1e300] {
        assert_eq!(same_frame.transform([lon, 39.9, 0.0]).unwrap()[0], lon);
        let mut batch = [[lon, 39.9]];
        assert!(same_frame.transform_slice(&mut batch).is_complete());
        assert_eq!(batch[0][0], lon);
    }
    // The inverse of a projection returns lon0 + Δλ, Δλ in (−180°, 180°].
    let back = t.inverse().transform(at(477.0)).unwrap();
    assert!((back[0] - 117.0).abs() < 1e-9, "{back:?}");
}

#[test]
fn points_far_outside_a_zone() {
    let t = wgs84_to_4548();
    for lon in [0.0, 26.0, -63.0] {
        assert_eq!(
            t.transform([lon, 39.9, 0.0]),
            Err(PointError::OutsideDomain { operation: "gauss-kruger" }),
            "{lon}"
        );
    }
    // 87° from the meridian is still inside the projection's domain.
    assert!(t.transform([30.0, 39.9, 0.0]).is_ok());
    assert_eq!(
        t.inverse().transform([5e7, 4_420_000.0, 0.0]),
        Err(PointError::OutsideDomain { operation: "gauss-kruger inverse" })
    );
    // A file whose eastings lie far outside the declared zone (≈ 2000 km east of 117°E): the
    // sanity check stops it before anything is written.
    let d = Scratch::new("farzone");
    d.write("in.csv", "x,y\n2500000.0,4420000.0\n2500100.0,4420100.0\n");
    let before = Snapshot::of(&d.0);
    match lib_convert(&d.path("in.csv"), &d.path("out.csv"), "EPSG:4548", "WGS84") {
        Err(e @ ConvertError::Implausible { .. }) => {
            assert!(e.to_string().contains("(use --force to convert anyway)"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    before.assert_unchanged(&d.0, "far outside the zone");
}

// ---- files -----------------------------------------------------------------------------------

#[test]
fn empty_files_each_format() {
    // Every format: a 0-byte file is an error naming the file, nothing written (issue 11: the
    // text formats used to convert it to an empty output, which passed for a conversion).
    let cases: [(&str, &str); 6] = [
        ("in.csv", "line 1: the file is empty (no header line): nothing to convert"),
        ("in.tsv", "line 1: the file is empty (no header line): nothing to convert"),
        ("in.geojson", "line 1: the file is empty (no GeoJSON object): nothing to convert"),
        (
            "in.geojsonl",
            "line 1: the file is empty (no GeoJSON record, only blank lines): nothing to convert",
        ),
        ("in.wkt", "line 1: the file is empty (only whitespace, no WKT line): nothing to convert"),
        ("in.gpkg", "database: no gpkg_geometry_columns table: not a GeoPackage"),
    ];
    for (name, expected) in cases {
        let d = Scratch::new(&format!("empty-{name}"));
        d.write(name, "");
        let output = d.path(&name.replace("in.", "out."));
        let before = Snapshot::of(&d.0);
        let result = lib_convert(&d.path(name), &output, "WGS84", "EPSG:4548");
        assert_eq!(malformed(result), format!("{}: {expected}", d.path(name).display()));
        before.assert_unchanged(&d.0, name);
    }
    // A Shapefile set of three 0-byte files. (A header-only Shapefile converts to an empty
    // one: `convert_shapefile::empty_shapefile_converts_to_an_empty_one`.)
    let d = Scratch::new("empty-shp");
    for ext in ["shp", "shx", "dbf"] {
        d.write(&format!("in.{ext}"), "");
    }
    let before = Snapshot::of(&d.0);
    let text = malformed(lib_convert(&d.path("in.shp"), &d.path("out.shp"), "WGS84", "EPSG:4548"));
    assert!(text.ends_with("in.shp: header: 0 bytes, shorter than a header"), "{text}");
    before.assert_unchanged(&d.0, "empty shapefile");
}

#[test]
fn geojson_truncated_and_invalid() {
    let d = Scratch::new("badjson");
    let good = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"名":"甲"},"geometry":{"type":"Point","coordinates":[116.4,39.9]}},
{"type":"Feature","properties":{"名":"乙"},"geometry":{"type":"LineString","coordinates":[[116.4,39.9],[116.5,39.8]]}}
]}"#;
    d.write("out.geojson", "an existing output");
    let cut_mid_feature = &good[..good.find("LineString").unwrap() + 5];
    let cut_in_array = &good[..good.rfind("[[").unwrap() + 1];
    let cases: [(&str, String, &str); 7] = [
        ("cut mid-feature", cut_mid_feature.to_string(), "line 3"),
        ("cut in a coordinate array", cut_in_array.to_string(), "line 3"),
        ("trailing garbage", format!("{good}\n}}"), "line 5, column 1: trailing characters"),
        (
            "one-number position",
            good.replace("[116.4,39.9]}", "[116.4]}"),
            "feature 1: Point coordinates: a position needs at least 2 numbers, found [116.4]",
        ),
        ("unknown geometry type", good.replace("\"Point\"", "\"Pointe\""), "Pointe"),
        (
            "string coordinate",
            good.replace("[116.4,39.9]}", "[\"116.4\",39.9]}"),
            "feature 1: Point coordinates: \"116.4\" is not a number",
        ),
        ("not JSON at all", "id,lon,lat\n1,116.4,39.9\n".to_string(), "line 1"),
    ];
    for (case, text, want) in cases {
        d.write("in.geojson", &text);
        let before = Snapshot::of(&d.0);
        let message = malformed(lib_convert(
            &d.path("in.geojson"),
            &d.path("out.geojson"),
            "WGS84",
            "EPSG:4548",
        ));
        assert!(message.contains(want), "{case}: {message}");
        assert!(message.contains("in.geojson"), "{case}: {message}");
        before.assert_unchanged(&d.0, case);
    }
    // The CLI: exit 1 for a malformed file, the message on stderr.
    d.write("in.geojson", cut_mid_feature);
    let before = Snapshot::of(&d.0);
    let (code, err) = run(
        &["convert", "--from", "WGS84", "--to", "EPSG:4548", "in.geojson", "-o", "out.geojson"],
        &d.0,
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("geounify: in.geojson: line 3"), "{err}");
    before.assert_unchanged(&d.0, "cli truncated");
}

#[test]
fn csv_missing_and_extra_fields() {
    let d = Scratch::new("ragged");
    d.write("in.csv", "id,lon,lat,name\n1,116.4,39.9,a\n2,116.5\n3,116.6,39.7,c\n");
    let before = Snapshot::of(&d.0);
    match lib_convert(&d.path("in.csv"), &d.path("out.csv"), "WGS84", "EPSG:4548") {
        Err(ConvertError::PointsFailed { failures, total: 1, .. }) => {
            assert_eq!(failures[0].location, "line 3");
            assert_eq!(
                failures[0].reason,
                "the row has 2 field(s) but the y column 'lat' is field 3"
            );
        }
        other => panic!("{other:?}"),
    }
    before.assert_unchanged(&d.0, "missing field");

    // Extra fields, and a row that ends before the optional z column (and the name): kept.
    d.write(
        "in.csv",
        "id,lon,lat,h,name\n1,116.4,39.9,50,a,EXTRA,\"more, quoted\"\n2,116.5,39.8\n",
    );
    let before = std::fs::read(d.path("in.csv")).unwrap();
    let report = lib_convert(&d.path("in.csv"), &d.path("out.csv"), "WGS84", "EPSG:4548").unwrap();
    assert_eq!((report.features, report.written), (2, 2));
    let out = std::fs::read_to_string(d.path("out.csv")).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[1].ends_with(",a,EXTRA,\"more, quoted\""), "{out}");
    assert_eq!(lines[2].split(',').count(), 3, "{out}");
    assert_eq!(std::fs::read(d.path("in.csv")).unwrap(), before);
}

#[test]
fn wrong_encoding() {
    let d = Scratch::new("encoding");
    // "经度,纬度" in GBK, read as UTF-8.
    let (gbk_header, _, _) = encoding_rs::GBK.encode("名称,经度,纬度\n甲,116.4,39.9\n");
    d.write("gbk.csv", &gbk_header);
    let before = Snapshot::of(&d.0);
    let text = malformed(lib_convert(&d.path("gbk.csv"), &d.path("out.csv"), "WGS84", "EPSG:4548"));
    assert!(text.contains("line 1"), "{text}");
    before.assert_unchanged(&d.0, "gbk as utf-8");
    // Read as GBK it converts.
    let options =
        ConvertOptions { encoding: Some(convert::TextEncoding::Gbk), ..ConvertOptions::default() };
    convert_file(
        &d.path("gbk.csv"),
        &d.path("out.csv"),
        &crs("WGS84"),
        &crs("EPSG:4548"),
        &options,
        &NoProgress,
    )
    .unwrap();
    std::fs::remove_file(d.path("out.csv")).unwrap();

    // UTF-8 read as GBK: the bytes decode, to other characters; the columns are not found.
    d.write("utf8.csv", "名称,经度,纬度\n甲,116.4,39.9\n");
    let before = Snapshot::of(&d.0);
    match convert_file(
        &d.path("utf8.csv"),
        &d.path("out.csv"),
        &crs("WGS84"),
        &crs("EPSG:4548"),
        &options,
        &NoProgress,
    ) {
        Err(e @ ConvertError::Options { .. }) => {
            let text = e.to_string();
            assert!(text.contains("utf8.csv: no x column found in the header: "), "{text}");
            assert!(text.contains("name the columns with --x-col and --y-col"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    before.assert_unchanged(&d.0, "utf-8 as gbk");

    // Invalid UTF-8 in GeoJSON (a GBK property value).
    let (gbk_value, _, _) = encoding_rs::GBK.encode("甲");
    let mut doc = b"{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":\"Feature\",\"properties\":{\"n\":\"".to_vec();
    doc.extend_from_slice(&gbk_value);
    doc.extend_from_slice(
        b"\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[116.4,39.9]}}\n]}\n",
    );
    d.write("in.geojson", &doc);
    let before = Snapshot::of(&d.0);
    let text =
        malformed(lib_convert(&d.path("in.geojson"), &d.path("out.geojson"), "WGS84", "EPSG:4548"));
    assert!(text.contains("line 2"), "{text}");
    before.assert_unchanged(&d.0, "invalid utf-8 in geojson");
    // GBK declared for GeoJSON: refused.
    match convert_file(
        &d.path("in.geojson"),
        &d.path("out.geojson"),
        &crs("WGS84"),
        &crs("EPSG:4548"),
        &options,
        &NoProgress,
    ) {
        Err(e @ ConvertError::Options { .. }) => assert!(e.to_string().contains("UTF-8"), "{e}"),
        other => panic!("{other:?}"),
    }
    before.assert_unchanged(&d.0, "gbk geojson");
}

#[test]
fn mixed_2d_3d() {
    let d = Scratch::new("mixed");
    d.write(
        "in.geojson",
        r#"{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[116.4,39.9],[116.5,39.8,50.0]]}}"#,
    );
    let report =
        lib_convert(&d.path("in.geojson"), &d.path("out.geojson"), "WGS84", "EPSG:4548").unwrap();
    assert_eq!(report.vertices, 2);
    let out: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path("out.geojson")).unwrap()).unwrap();
    let coords = out["geometry"]["coordinates"].as_array().unwrap();
    assert_eq!(coords[0].as_array().unwrap().len(), 2, "{out}");
    assert_eq!(coords[1].as_array().unwrap().len(), 3, "{out}");

    d.write("in.wkt", "LINESTRING (116.4 39.9, 116.5 39.8 50)\n");
    let before = Snapshot::of(&d.0);
    let text = malformed(lib_convert(&d.path("in.wkt"), &d.path("out.wkt"), "WGS84", "EPSG:4548"));
    assert!(
        text.ends_with(
            "in.wkt: line 1: the coordinate at column 25 has 3 number(s); expected 2 numbers, \
             as the geometry's first coordinate"
        ),
        "{text}"
    );
    before.assert_unchanged(&d.0, "mixed wkt");

    d.write("in.csv", "lon,lat,h\n116.4,39.9,50\n116.5,39.8,\n");
    lib_convert(&d.path("in.csv"), &d.path("out.csv"), "WGS84", "EPSG:4548").unwrap();
    let out = std::fs::read_to_string(d.path("out.csv")).unwrap();
    let rows: Vec<Vec<&str>> = out.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0][2], "50", "a projection keeps the height: {out}");
    assert_eq!(rows[1][2], "", "the empty z cell stays empty: {out}");

    // Through a datum shift the heights are elevations (the default): the row with z keeps
    // it unchanged and lands exactly where the row without z does (height 0 on the source
    // datum), whose z cell stays empty.
    let mut registry = Registry::new();
    registry.load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml")).unwrap();
    let (wgs84, city) = (crs("WGS84"), registry.lookup("city:bj54-geog").unwrap());
    d.write("in.csv", "lon,lat,h\n116.4,39.9,50\n116.4,39.9,\n");
    let rows = |options: &ConvertOptions| {
        convert_file(&d.path("in.csv"), &d.path("out.csv"), &wgs84, &city, options, &NoProgress)
            .unwrap();
        let out = std::fs::read_to_string(d.path("out.csv")).unwrap();
        assert!(out.ends_with(",\n"), "the empty z cell stays empty: {out}");
        out.lines()
            .skip(1)
            .map(|l| l.split(',').map(|v| v.parse().unwrap_or(f64::NAN)).collect())
            .collect::<Vec<Vec<f64>>>()
    };
    let elevation = rows(&ConvertOptions::default());
    let t = Transformer::new(&wgs84, &city).unwrap();
    let p2 = t.transform([116.4, 39.9, 0.0]).unwrap();
    assert_eq!(elevation[0], [p2[0], p2[1], 50.0], "the elevation is copied");
    assert_eq!(elevation[1][..2], p2[..2]);
    // Said to be ellipsoidal, the row with z converts in 3D (new height).
    let options = ConvertOptions { heights: Heights::Ellipsoidal, ..ConvertOptions::default() };
    let ellipsoidal = rows(&options);
    let t3 = Transformer::with_heights(&wgs84, &city, Heights::Ellipsoidal).unwrap();
    let p3 = t3.transform([116.4, 39.9, 50.0]).unwrap();
    assert_eq!(ellipsoidal[0], p3.to_vec());
    assert!((p3[2] - 50.0).abs() > 1.0, "the datum shift changes the height: {p3:?}");
    assert_eq!(ellipsoidal[1][..2], p2[..2]);
}

// ---- CRS ids and CRS files -------------------------------------------------------------------

#[test]
fn unknown_crs_ids_library() {
    for id in ["EPSG:99999", "", "nope"] {
        assert_eq!(Registry::new().lookup(id), Err(CrsError::Unknown { id: id.to_string() }));
        assert_eq!(
            Transformer::from_ids("WGS84", id).unwrap_err(),
            BuildError::UnknownCrs(CrsError::Unknown { id: id.to_string() })
        );
    }
    assert_eq!(
        CrsError::Unknown { id: "nope".into() }.to_string(),
        "unknown CRS id 'nope' (try `geounify crs list`)"
    );
}

#[test]
fn unknown_crs_ids_cli() {
    let d = Scratch::new("unknowncli");
    d.write("in.csv", "lon,lat\n116.4,39.9\n");
    let before = Snapshot::of(&d.0);
    let cases: [&[&str]; 3] = [
        &["transform", "--from", "nope", "--to", "WGS84"],
        &["convert", "--from", "nope", "--to", "WGS84", "in.csv", "-o", "out.csv"],
        &["crs", "info", "nope"],
    ];
    for args in cases {
        let (code, err) = run(args, &d.0);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("unknown CRS id 'nope'"), "{args:?}: {err}");
    }
    before.assert_unchanged(&d.0, "unknown ids");
}

#[test]
fn crs_file_cycles_and_missing_fields() {
    use geounify::crs_file::Format;
    let secret = "12345.678";
    // Each refusal names the file, line, field path and what is wrong, never a value.
    let cases: [(&str, String, &str); 4] = [
        ("cycle", cases_cycle(secret), "city.toml:7: crs[b].base: cycle between base entries: a → b → a"),
        (
            "crs without datum",
            format!("[[crs]]\nid = \"c\"\nprojection = {{ method = \"gauss-kruger\", lon0 = 117.0, k0 = 1.0, x0 = {secret}, y0 = 0.0 }}\n"),
            "city.toml:1: crs[c].datum: missing required field",
        ),
        (
            "datum without ellipsoid",
            format!("[[datum]]\nid = \"d\"\nto_cgcs2000 = {{ method = \"helmert3\", tx = {secret}, ty = 0.0, tz = 0.0 }}\n"),
            "city.toml:1: datum[d].ellipsoid: missing required field",
        ),
        (
            "projection without method",
            format!("[[crs]]\nid = \"e\"\ndatum = \"CGCS2000\"\nprojection = {{ lon0 = 117.0, k0 = 1.0, x0 = {secret}, y0 = 0.0 }}\n"),
            "city.toml:4: crs[e].projection.method: missing required field",
        ),
    ];
    for (case, text, expected) in cases {
        let mut registry = Registry::new();
        let e = registry.load_str(&text, "city.toml", Format::Toml).unwrap_err();
        assert_eq!(e.to_string(), expected, "{case}");
        assert!(!e.to_string().contains(secret), "{case}: a parameter value quoted: {e}");
        assert!(registry.user_crss().is_empty(), "{case}: loaded in part");
        assert!(registry.datum("d").is_none(), "{case}: loaded in part");
    }
    // The CLI: exit 2 before anything else happens.
    let d = Scratch::new("crsfile");
    d.write("city.toml", cases_cycle(secret));
    d.write("in.csv", "lon,lat\n116.4,39.9\n");
    let before = Snapshot::of(&d.0);
    let (code, err) = run(
        &[
            "--crs-file",
            "city.toml",
            "convert",
            "--from",
            "WGS84",
            "--to",
            "a",
            "in.csv",
            "-o",
            "out.csv",
        ],
        &d.0,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("geounify: city.toml:"), "{err}");
    assert!(err.contains("cycle between base entries"), "{err}");
    assert!(!err.contains(secret), "{err}");
    before.assert_unchanged(&d.0, "cli crs file");
}

/// Two CRSs each based on the other; `secret` is a parameter value that must not be quoted.
fn cases_cycle(secret: &str) -> String {
    format!(
        "[[crs]]\nid = \"a\"\nbase = \"b\"\nplanar = {{ method = \"helmert4\", dx = {secret}, dy = 0.0, theta = 0.0, s = 0.0 }}\n\
         [[crs]]\nid = \"b\"\nbase = \"a\"\nplanar = {{ method = \"helmert4\", dx = 0.0, dy = 0.0, theta = 0.0, s = 0.0 }}\n"
    )
}

// ---- control points --------------------------------------------------------------------------

#[test]
fn degenerate_control_points() {
    let p = |id: &str, e: f64, n: f64| ControlPoint {
        id: id.into(),
        source: [e, n, 0.0],
        target: [e + 100.0, n - 50.0, 0.0],
    };
    let options = estimate::Options::default();
    let collinear =
        [p("A", 0.0, 0.0), p("B", 100.0, 100.0), p("C", 250.0, 250.0), p("D", 400.0, 400.0)];
    assert_eq!(
        estimate::estimate(Model::Affine6, &collinear, &options).unwrap_err(),
        EstimateError::Degenerate { model: "affine6" }
    );
    let duplicate = [p("A", 0.0, 0.0), p("B", 100.0, 0.0), p("C", 0.0, 0.0)];
    assert_eq!(
        estimate::estimate(Model::Helmert4, &duplicate, &options).unwrap_err(),
        EstimateError::DuplicateSource { id: "C".into(), first: "A".into() }
    );
    let same_id = [p("A", 0.0, 0.0), p("B", 100.0, 0.0), p("A", 0.0, 100.0)];
    assert_eq!(
        estimate::estimate(Model::Helmert4, &same_id, &options).unwrap_err(),
        EstimateError::DuplicateId { id: "A".into() }
    );
    assert_eq!(
        estimate::estimate(Model::Affine6, &[p("A", 0.0, 0.0), p("B", 1.0, 0.0)], &options)
            .unwrap_err(),
        EstimateError::TooFewPoints { model: "affine6", needed: 3, got: 2 }
    );
    let nan = [p("A", 0.0, 0.0), p("B", f64::NAN, 0.0), p("C", 0.0, 100.0)];
    assert_eq!(
        estimate::estimate(Model::Affine6, &nan, &options).unwrap_err(),
        EstimateError::NonFinite { id: "B".into() }
    );
    let helmert7_collinear: Vec<ControlPoint> = (0..4)
        .map(|i| {
            let x = -2_178_000.0 + f64::from(i) * 1000.0;
            ControlPoint {
                id: format!("P{i}"),
                source: [x, 4_388_000.0, 4_069_000.0],
                target: [x + 30.0, 4_388_100.0, 4_069_050.0],
            }
        })
        .collect();
    assert_eq!(
        estimate::estimate(
            Model::Helmert7(geounify::ops::HelmertConvention::PositionVector),
            &helmert7_collinear,
            &options
        )
        .unwrap_err(),
        EstimateError::Degenerate { model: "helmert7" }
    );
}

// ---- outputs ---------------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn output_equal_to_input() {
    let d = Scratch::new("same");
    std::fs::create_dir(d.path("sub")).unwrap();
    d.write("a.csv", "lon,lat\n116.4,39.9\n");
    std::os::unix::fs::symlink("a.csv", d.path("link.csv")).unwrap();
    let input = d.path("a.csv");
    let before = Snapshot::of(&d.0);
    let spellings: [PathBuf; 4] =
        [input.clone(), d.0.join("./a.csv"), d.0.join("sub/../a.csv"), d.path("link.csv")];
    for output in &spellings {
        match lib_convert(&input, output, "WGS84", "EPSG:4548") {
            Err(ConvertError::SameFile { path }) => assert_eq!(&path, output),
            other => panic!("{}: {other:?}", output.display()),
        }
        // And the other way round: the input given through the other spelling.
        assert!(matches!(
            lib_convert(output, &input, "WGS84", "EPSG:4548"),
            Err(ConvertError::SameFile { .. })
        ));
    }
    before.assert_unchanged(&d.0, "same file (library)");
    for (from, to) in [("./a.csv", "a.csv"), ("a.csv", "./a.csv"), ("a.csv", "link.csv")] {
        let (code, err) =
            run(&["convert", "--from", "WGS84", "--to", "EPSG:4548", from, "-o", to], &d.0);
        assert_eq!(code, 2, "{from} {to}: {err}");
        assert!(err.contains("the output would overwrite the input"), "{err}");
    }
    before.assert_unchanged(&d.0, "same file (cli)");

    // A Shapefile's other files: same stem, any case, any extension of the set.
    let s = Scratch::new("same-shp");
    for ext in ["shp", "shx", "dbf"] {
        s.write(&format!("roads.{ext}"), "not read: refused before");
    }
    let before = Snapshot::of(&s.0);
    for output in ["roads.shp", "ROADS.shp", "roads.SHP", "./roads.shp"] {
        match lib_convert(&s.path("roads.shp"), &s.0.join(output), "WGS84", "EPSG:4548") {
            Err(ConvertError::SameFile { .. }) => {}
            other => panic!("{output}: {other:?}"),
        }
    }
    before.assert_unchanged(&s.0, "shapefile same stem");

    // A hard link is another name of the same file: the output is renamed over that name, so
    // the input's bytes are untouched (and the link now names the converted file).
    let h = Scratch::new("same-hardlink");
    h.write("a.csv", "lon,lat\n116.4,39.9\n");
    std::fs::hard_link(h.path("a.csv"), h.path("b.csv")).unwrap();
    lib_convert(&h.path("a.csv"), &h.path("b.csv"), "WGS84", "EPSG:4548").unwrap();
    assert_eq!(std::fs::read_to_string(h.path("a.csv")).unwrap(), "lon,lat\n116.4,39.9\n");
    assert_ne!(std::fs::read_to_string(h.path("b.csv")).unwrap(), "lon,lat\n116.4,39.9\n");
}

#[test]
fn unwritable_output_folder() {
    // We run as root: permission bits (chmod 0555) do not stop root from writing, so the
    // folders here are unwritable for reasons root cannot override: a parent that is a regular
    // file (ENOTDIR), a folder under /proc (no new files there), a missing folder.
    let d = Scratch::new("unwritable");
    d.write("in.csv", "lon,lat\n116.4,39.9\n");
    d.write("file", "a regular file");
    let before = Snapshot::of(&d.0);
    for output in
        [d.path("file/out.csv"), PathBuf::from("/proc/geounify-out.csv"), d.path("missing/out.csv")]
    {
        match lib_convert(&d.path("in.csv"), &output, "WGS84", "EPSG:4548") {
            Err(ConvertError::Io { path, .. }) => assert_eq!(path, output),
            other => panic!("{}: {other:?}", output.display()),
        }
    }
    assert!(!Path::new("/proc/geounify-out.csv").exists());
    before.assert_unchanged(&d.0, "unwritable (library)");
    let (code, err) = run(
        &["convert", "--from", "WGS84", "--to", "EPSG:4548", "in.csv", "-o", "file/out.csv"],
        &d.0,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("geounify: file/out.csv: "), "{err}");
    before.assert_unchanged(&d.0, "unwritable (cli)");
}

// ---- disk full and kills ---------------------------------------------------------------------

/// A writer that accepts `room` bytes, then fails with `StorageFull` (ENOSPC).
struct FullDisk {
    room: usize,
}

impl std::io::Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::StorageFull));
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn storage_full(result: Result<convert::ConvertReport, ConvertError>, case: &str) {
    match result {
        Err(ConvertError::Io { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::StorageFull, "{case}")
        }
        other => panic!("{case}: {other:?}"),
    }
}

#[test]
fn disk_full_stream_apis() {
    let t = wgs84_to_4548();
    let options = ConvertOptions::default();
    let mut csv = String::from("id,lon,lat\n");
    let mut json = String::from("{\"type\":\"FeatureCollection\",\"features\":[");
    let mut wkt = String::new();
    for i in 0..5000 {
        let (lon, lat) = (116.0 + f64::from(i) * 1e-4, 39.5 + f64::from(i) * 1e-4);
        csv.push_str(&format!("{i},{lon},{lat}\n"));
        if i > 0 {
            json.push(',');
        }
        json.push_str(&format!(
            "{{\"type\":\"Feature\",\"properties\":{{\"i\":{i}}},\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{lon},{lat}]}}}}"
        ));
        wkt.push_str(&format!("{i}\tPOINT ({lon} {lat})\n"));
    }
    json.push_str("]}");
    for room in [0, 1, 4096, 100_000] {
        storage_full(
            convert::csv::convert_reader(csv.as_bytes(), FullDisk { room }, b',', &t, &options),
            "csv",
        );
        storage_full(
            convert::geojson::convert_reader(json.as_bytes(), FullDisk { room }, &t, &options),
            "geojson",
        );
        storage_full(
            convert::wkt::convert_reader(
                wkt.as_bytes(),
                FullDisk { room },
                &crs("WGS84"),
                &crs("EPSG:4548"),
                &t,
                &options,
            ),
            "wkt",
        );
    }
}

/// A GeoPackage (the mandatory tables, one point feature table in EPSG:4326) of `n` points near
/// Beijing, built with SQLite directly.
fn point_geopackage(path: &Path, n: usize) {
    let conn = common::gpkg::create(path, common::gpkg::Keys::Spec);
    common::gpkg::add_srs(&conn, "WGS 84", 4326, "EPSG", 4326, "undefined");
    conn.execute_batch(
        "CREATE TABLE pts (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom GEOMETRY,
           name TEXT);
         INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id)
           VALUES ('pts', 'features', 'pts', 4326);
         INSERT INTO gpkg_geometry_columns VALUES ('pts', 'geom', 'POINT', 4326, 0, 0);",
    )
    .unwrap();
    conn.execute_batch("BEGIN").unwrap();
    for i in 0..n {
        // GeoPackage binary header: "GP", version 0, flags 1 (little-endian, no envelope),
        // srs_id; then a little-endian WKB Point.
        let mut blob = b"GP\x00\x01".to_vec();
        blob.extend(4326i32.to_le_bytes());
        blob.push(1);
        blob.extend(1u32.to_le_bytes());
        blob.extend((116.0 + i as f64 * 1e-5).to_le_bytes());
        blob.extend((39.5 + i as f64 * 1e-5).to_le_bytes());
        conn.execute(
            "INSERT INTO pts (geom, name) VALUES (?1, ?2)",
            rusqlite::params![blob, format!("点{i}")],
        )
        .unwrap();
    }
    conn.execute_batch("COMMIT").unwrap();
}

#[cfg(unix)]
#[test]
fn disk_full_cli_each_format() {
    use std::os::unix::process::CommandExt;
    let d = Scratch::new("diskfull");
    let n = 20_000;
    let mut csv = String::from("id,lon,lat\n");
    let mut seq = String::new();
    let mut wkt = String::new();
    for i in 0..n {
        let (lon, lat) = (116.0 + f64::from(i) * 1e-5, 39.5 + f64::from(i) * 1e-5);
        csv.push_str(&format!("{i},{lon},{lat}\n"));
        seq.push_str(&format!(
            "{{\"type\":\"Feature\",\"properties\":{{\"i\":{i}}},\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{lon},{lat}]}}}}\n"
        ));
        wkt.push_str(&format!("{i}\tPOINT ({lon} {lat})\n"));
    }
    d.write("in.csv", &csv);
    d.write(
        "in.geojson",
        format!(
            "{{\"type\":\"FeatureCollection\",\"features\":[{}]}}",
            seq.trim_end().replace('\n', ",")
        ),
    );
    d.write("in.geojsonl", &seq);
    d.write("in.wkt", &wkt);
    common::points::shapefile(&d.0, "in", n);
    point_geopackage(&d.path("in.gpkg"), n as usize);
    for out in ["out.csv", "out.geojson", "out.geojsonl", "out.wkt", "out.shp", "out.gpkg"] {
        d.write(out, "an existing output");
    }
    let before = Snapshot::of(&d.0);
    for (input, output) in [
        ("in.csv", "out.csv"),
        ("in.geojson", "out.geojson"),
        ("in.geojsonl", "out.geojsonl"),
        ("in.wkt", "out.wkt"),
        ("in.shp", "out.shp"),
        ("in.gpkg", "out.gpkg"),
    ] {
        let mut cmd = Command::new(BIN);
        cmd.args(["convert", "--from", "WGS84", "--to", "EPSG:4548", input, "-o", output])
            .current_dir(&d.0);
        // Files may grow to 64 KiB, then writes fail with EFBIG (SIGXFSZ ignored, so the
        // process sees the error instead of being killed): the error path of a full disk.
        unsafe {
            cmd.pre_exec(|| {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let limit = libc::rlimit { rlim_cur: 64 << 10, rlim_max: 64 << 10 };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{input}: {err}");
        assert_eq!(err, format!("geounify: {output}: File too large (os error 27)\n"), "{input}");
        before.assert_unchanged(&d.0, input);
    }
    // `/dev/full` as the output is refused before anything is opened (no extension: unknown
    // format), so it cannot stand in for a full disk here; the device is left alone.
    let (code, err) = run(
        &["convert", "--from", "WGS84", "--to", "EPSG:4548", "in.csv", "-o", "/dev/full"],
        &d.0,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("geounify: /dev/full: unknown format"), "{err}");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata("/dev/full").unwrap().file_type().is_char_device());
    before.assert_unchanged(&d.0, "/dev/full");
}

#[cfg(unix)]
#[test]
fn sigkill_mid_conversion() {
    let d = Scratch::new("sigkill");
    common::points::csv(&d.path("big.csv"), 2_000_000);
    d.write("out.csv", "an existing output\n");
    let before = Snapshot::of(&d.0);
    let temporary = |names: &[String]| {
        names.iter().filter(|n| n.starts_with(".out.csv.geounify-") && n.ends_with(".tmp")).count()
    };
    let args = ["convert", "--from", "WGS84", "--to", "EPSG:4548", "big.csv", "-o", "out.csv"];
    let mut child =
        spawn_in_until(&args, &d.0, "its temporary file appeared", || temporary(&d.listing()) > 0);
    child.kill().unwrap(); // SIGKILL: no handler runs
    let status = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGKILL));
    let listing = d.listing();
    assert_eq!(temporary(&listing), 1, "{listing:?}");
    assert_eq!(listing.len(), 3, "only the hidden temporary was added: {listing:?}");
    for name in listing.iter().filter(|n| n.starts_with('.')) {
        std::fs::remove_file(d.path(name)).unwrap();
    }
    before.assert_unchanged(&d.0, "sigkill");
}
