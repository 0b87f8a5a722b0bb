//! WKT-lines conversion: coordinates against PROJ, round trips within 1 mm with every other byte
//! identical, every geometry type, ids, EWKT, encodings, empty and malformed files, failing
//! points, atomic outputs.
#![cfg(feature = "formats")]

mod common;
use common::scratch::Scratch;
use common::template::Template;
use common::{conversion::convert, crs};
use geounify::convert::{self, wkt, ConvertError, ConvertOptions, TextEncoding};
use geounify::{Heights, Registry, Transformer};
use proptest::prelude::*;

/// Every geometry type, ids with each separator, Chinese ids, EWKT, comments, blank lines, a BOM,
/// CRLF and LF, no final newline. `@` = coordinate slots as x y pairs; `{srid}` is the EWKT code;
/// the M values (`7`, `8.25`) are not slots: they must come through unchanged.
const DOC: &str = "\u{FEFF}# survey points, 2024\r\n\
POINT (@ @)\r\n\
天安门\tPOINT(@  @)\r\n\
A-17;SRID={srid};point m (@ @ 7)\n\
\n\
路口,1, LINESTRING (@ @,@ @)\n\
poly\tPOLYGON ((@ @, @ @, @ @, @ @), (@ @, @ @, @ @, @ @))\n\
mp1\tMULTIPOINT (@ @, @ @)\n\
mp2\tMULTIPOINT ((@ @), EMPTY, (@ @))\n\
mls\tMULTILINESTRING ((@ @, @ @), EMPTY)\n\
mpoly\tMULTIPOLYGON (((@ @, @ @, @ @, @ @)), EMPTY)\n\
gc\tGEOMETRYCOLLECTION (POINT (@ @), GEOMETRYCOLLECTION (LINESTRING (@ @, @ @)), POINT EMPTY)\n\
zm\tPOINT ZM (@ @ 0 8.25)\n\
empty\tPOLYGON EMPTY";

fn doc(srid: u32) -> Template {
    Template::new(DOC.replace("{srid}", &srid.to_string()).as_bytes())
}

/// `n` longitude/latitude pairs in Beijing; the first is the crate's PROJ-checked vector.
fn lonlat(n: usize) -> Vec<f64> {
    let mut v = vec![116.404, 39.915];
    for i in 1..n {
        v.push(116.2 + 0.01 * i as f64);
        v.push(39.8 + 0.007 * i as f64);
    }
    v
}

fn metres(a: &[f64], b: &[f64]) -> f64 {
    let k = 6_371_000.0_f64.to_radians();
    ((a[0] - b[0]) * k * a[1].to_radians().cos()).hypot((a[1] - b[1]) * k)
}

/// The `zm` line's z (`0`) is not a slot: between these two CRSs (one datum) a height passes
/// unchanged, so it must come back as `0`.
#[test]
fn every_geometry_type_round_trips_with_other_bytes_identical() {
    let dir = Scratch::new("rt");
    let (a, b, c) = (dir.path("a.wkt"), dir.path("b.wkt"), dir.path("c.wkt"));
    let input = lonlat(doc(4326).slots() / 2);
    std::fs::write(&a, doc(4326).fill(&input)).unwrap();
    let report =
        convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &Default::default()).unwrap();
    assert_eq!((report.features, report.written, report.empty), (12, 12, 1));
    assert_eq!(report.vertices, 27);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let projected = doc(4548).numbers(&std::fs::read(&b).unwrap());
    // PROJ 9 `cs2cs EPSG:4326 EPSG:4548` (axis order swapped to E, N) gives 449042.047441,
    // 4420261.219997 for (116.404, 39.915), the crate-level doctest's vector; 1e-6 m is PROJ's
    // printed resolution.
    assert!((projected[0] - 449_042.047_441).abs() < 1e-6, "{}", projected[0]);
    assert!((projected[1] - 4_420_261.219_997).abs() < 1e-6, "{}", projected[1]);
    let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
    for (p, q) in input.chunks(2).zip(projected.chunks(2)) {
        let (e, n) = t.transform_xy(p[0], p[1]).unwrap();
        assert_eq!([e, n], q);
    }
    convert(&b, &c, &crs("EPSG:4548"), &crs("EPSG:4326"), &Default::default()).unwrap();
    let back = doc(4326).numbers(&std::fs::read(&c).unwrap());
    let worst = input.chunks(2).zip(back.chunks(2)).map(|(p, q)| metres(p, q)).fold(0.0, f64::max);
    // Measured: 1.4e-9 m (27 points); the contract is 1 mm.
    assert!(worst < 1e-3, "round trip moved a point by {worst} m");
}

#[test]
fn gcj02_and_city_grid_round_trips() {
    let dir = Scratch::new("city");
    let (a, b, c) = (dir.path("a.wkt"), dir.path("b.wkt"), dir.path("c.wkt"));
    // GCJ02 → EPSG:4490 → GCJ02: the SRID prefix is dropped going to GCJ02 (no EPSG code).
    let template = Template::new(b"1\tPOINT (@ @)\n2\tLINESTRING (@ @, @ @)\n");
    let input = lonlat(3);
    std::fs::write(&a, template.fill(&input)).unwrap();
    convert(&a, &b, &crs("GCJ02"), &crs("EPSG:4490"), &Default::default()).unwrap();
    convert(&b, &c, &crs("EPSG:4490"), &crs("GCJ02"), &Default::default()).unwrap();
    let mid = template.numbers(&std::fs::read(&b).unwrap());
    assert!(metres(&input, &mid) > 100.0, "GCJ-02 offsets are hundreds of metres");
    let back = template.numbers(&std::fs::read(&c).unwrap());
    let worst = input.chunks(2).zip(back.chunks(2)).map(|(p, q)| metres(p, q)).fold(0.0, f64::max);
    // Measured: 4.3e-9 m; contract 1 mm.
    assert!(worst < 1e-3, "GCJ02 round trip moved a point by {worst} m");

    // city:old-grid → EPSG:4548 → city:old-grid in 3D (POINT Z): a 2D round trip across a datum
    // shift does not close (heights taken as 0 on each source datum, ~2 mm here); one with the
    // heights said to be ellipsoidal does.
    let mut registry = Registry::new();
    registry.load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml")).unwrap();
    let old = registry.lookup("city:old-grid").unwrap();
    let to_old = registry.transformer("EPSG:4326", "city:old-grid").unwrap();
    let grid: Vec<f64> = input
        .chunks(2)
        .flat_map(|p| {
            let [e, n, h] = to_old.transform([p[0], p[1], 20.0]).unwrap();
            [e, n, h]
        })
        .collect();
    let template =
        Template::new("老城\tPOINT Z (@ @ @)\n新区;LINESTRING Z (@ @ @, @ @ @)".as_bytes());
    std::fs::write(&a, template.fill(&grid)).unwrap();
    let d = dir.path("d.wkt");
    std::fs::remove_file(&b).unwrap();
    let ellipsoidal = ConvertOptions { heights: Heights::Ellipsoidal, ..Default::default() };
    convert(&a, &b, &old, &crs("EPSG:4548"), &ellipsoidal).unwrap();
    convert(&b, &d, &crs("EPSG:4548"), &old, &ellipsoidal).unwrap();
    let back = template.numbers(&std::fs::read(&d).unwrap());
    let worst = grid
        .chunks(3)
        .zip(back.chunks(3))
        .map(|(p, q)| (p[0] - q[0]).hypot(p[1] - q[1]).max((p[2] - q[2]).abs()))
        .fold(0.0, f64::max);
    // Measured: 1.9e-9 m; contract 1 mm.
    assert!(worst < 1e-3, "old-grid round trip moved a point by {worst} m");
    // As elevations (the default) the heights come back as written and each leg gives the 2D
    // transformer's plane coordinates.
    std::fs::remove_file(&b).unwrap();
    std::fs::remove_file(&d).unwrap();
    convert(&a, &b, &old, &crs("EPSG:4548"), &Default::default()).unwrap();
    convert(&b, &d, &crs("EPSG:4548"), &old, &Default::default()).unwrap();
    let (mid, back) = (
        template.numbers(&std::fs::read(&b).unwrap()),
        template.numbers(&std::fs::read(&d).unwrap()),
    );
    let there = registry.transformer("city:old-grid", "EPSG:4548").unwrap();
    let home = registry.transformer("EPSG:4548", "city:old-grid").unwrap();
    for ((p, m), q) in grid.chunks(3).zip(mid.chunks(3)).zip(back.chunks(3)) {
        let (x, y) = there.transform_xy(p[0], p[1]).unwrap();
        assert_eq!([x, y, p[2]], m);
        let (x, y) = home.transform_xy(m[0], m[1]).unwrap();
        assert_eq!([x, y, p[2]], q);
    }
}

#[test]
fn ewkt_srid_is_replaced_or_dropped_with_a_warning() {
    let t = Transformer::from_ids("EPSG:4326", "GCJ02").unwrap();
    let mut out = Vec::new();
    let report = wkt::convert_reader(
        &b"7;SRID=4326;POINT (116.404 39.915)\nSRID=4490;POINT EMPTY\n"[..],
        &mut out,
        &crs("EPSG:4326"),
        &crs("GCJ02"),
        &t,
        &Default::default(),
    )
    .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with("7;POINT (116.41"), "{out}");
    assert!(out.ends_with("\nPOINT EMPTY\n"), "{out}");
    assert_eq!(report.warnings.len(), 2, "{:?}", report.warnings);
    assert!(report
        .warnings
        .iter()
        .any(|w| w.contains("line 2: SRID=4490 but the source CRS is EPSG:4326")));
    assert!(report.warnings.iter().any(|w| w.contains("2 EWKT SRID= prefix(es) removed")));
}

#[test]
fn gbk_ids_are_copied_as_bytes() {
    let dir = Scratch::new("gbk");
    let text = "天安门\tPOINT (@ @)\n# 注释\n东单；, POINT (@ @)\n";
    let gbk = convert::text::encode(text, TextEncoding::Gbk).unwrap().into_owned();
    let template = Template::new(&gbk);
    let (a, b) = (dir.path("a.wkt"), dir.path("b.wkt"));
    std::fs::write(&a, template.fill(&lonlat(2))).unwrap();
    let options = ConvertOptions { encoding: Some(TextEncoding::Gbk), ..Default::default() };
    convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &options).unwrap();
    let out = template.numbers(&std::fs::read(&b).unwrap());
    assert!((out[0] - 449_042.047_441).abs() < 1e-6);
}

#[test]
fn empty_and_comment_only_files() {
    let dir = Scratch::new("empty");
    let (a, b) = (dir.path("a.wkt"), dir.path("b.wkt"));
    // An empty file is an error, nothing written (issue 11; it used to convert to an empty
    // output); a file of comments is a valid file with no features.
    std::fs::write(&a, "").unwrap();
    let e = convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with(
            "a.wkt: line 1: the file is empty (only whitespace, no WKT line): nothing to convert"
        ),
        "{e}"
    );
    assert!(!b.exists());
    let text = "# nothing yet\r\n\r\n";
    std::fs::write(&a, text).unwrap();
    let report =
        convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &Default::default()).unwrap();
    assert_eq!(std::fs::read(&b).unwrap(), text.as_bytes());
    assert_eq!(report.features, 0);
}

#[test]
fn malformed_lines_write_nothing_even_with_skip_invalid() {
    let dir = Scratch::new("malformed");
    let (a, b) = (dir.path("a.wkt"), dir.path("b.wkt"));
    let cases = [
        ("POINT (116.4 39.9)\nPOINT (116.4 39.9\n", "line 2: expected ')'"),
        (
            "1\tPOINT Z (116.4 39.9)\n",
            "line 1: the coordinate at column 12 has 2 number(s); expected Z: 3",
        ),
        ("LINESTRING (116.4 39.9, 116.5 40 5)\n", "as the geometry's first"),
        ("# c\nA-17 POINT (116.4 39.9)\n", "line 2: no WKT geometry"),
        ("CIRCLE (1 2)\n", "no WKT geometry"),
        ("POINT (116.4 39.9) extra\n", "unexpected text after the geometry"),
        ("MULTIPOINT ((116.4 39.9), (116.5 40.0)\n", "expected ',' or ')'"),
    ];
    for (text, expected) in cases {
        std::fs::write(&a, text).unwrap();
        let options = ConvertOptions { skip_invalid: true, force: true, ..Default::default() };
        let err = convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &options)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{err}");
        assert_eq!(dir.listing(), ["a.wkt"], "nothing written for {text:?}");
    }
    let err = convert(&a, &a, &crs("EPSG:4326"), &crs("EPSG:4548"), &Default::default());
    assert!(matches!(err, Err(ConvertError::SameFile { .. })));
}

#[test]
fn failing_points_fail_the_file_or_their_lines_are_skipped() {
    let dir = Scratch::new("fail");
    let (a, b) = (dir.path("a.wkt"), dir.path("b.wkt"));
    let text = "ok\tPOINT (116.4 39.9)\nA-17\tLINESTRING (116.4 39.9, 116.4 95)\nPOINT (116.4 -91)\nlast;POINT (116.5 40)";
    std::fs::write(&a, text).unwrap();
    let options = ConvertOptions { force: true, ..Default::default() };
    let err = convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &options).unwrap_err();
    let ConvertError::PointsFailed { failures, total, .. } = err else { panic!("{err}") };
    assert_eq!(total, 2);
    assert_eq!(failures[0].location, "line 2 (id \"A-17\")");
    assert_eq!(failures[0].reason, "latitude 95° is beyond ±90°");
    assert_eq!(failures[1].location, "line 3");
    assert_eq!(dir.listing(), ["a.wkt"]);

    let options = ConvertOptions { skip_invalid: true, ..options };
    let report = convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &options).unwrap();
    assert_eq!(
        (report.features, report.written, report.skipped.len(), report.vertices),
        (4, 2, 2, 2)
    );
    let out = String::from_utf8(std::fs::read(&b).unwrap()).unwrap();
    let ids: Vec<&str> = out.lines().map(|l| l.split(['\t', ';']).next().unwrap()).collect();
    assert_eq!(ids, ["ok", "last"]);
    assert!(!out.ends_with('\n'), "the last line had no newline");
}

#[test]
fn serial_equals_parallel_across_chunks() {
    let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
    let mut text = String::new();
    for i in 0..70_000 {
        text.push_str(&format!(
            "{i}\tPOINT ({} {})\n",
            116.0 + i as f64 * 1e-5,
            39.0 + i as f64 * 1e-5
        ));
    }
    let (from, to) = (crs("EPSG:4326"), crs("EPSG:4548"));
    let mut parallel = Vec::new();
    let report =
        wkt::convert_reader(text.as_bytes(), &mut parallel, &from, &to, &t, &Default::default())
            .unwrap();
    assert_eq!(report.vertices, 70_000);
    let mut serial = Vec::new();
    let options = ConvertOptions { parallel: false, ..Default::default() };
    wkt::convert_reader(text.as_bytes(), &mut serial, &from, &to, &t, &options).unwrap();
    assert_eq!(parallel, serial);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Random bytes (after a plausible start) never panic.
    #[test]
    fn random_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
        prefix in prop::sample::select(vec!["", "POINT (", "1\tGEOMETRYCOLLECTION (", "SRID=4326;MULTIPOINT ((", "a;POLYGON Z (("]),
        skip in any::<bool>(),
    ) {
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        let mut input = prefix.as_bytes().to_vec();
        input.extend_from_slice(&bytes);
        let options = ConvertOptions { skip_invalid: skip, ..Default::default() };
        let _ = wkt::convert_reader(&input[..], Vec::new(), &crs("EPSG:4326"), &crs("EPSG:4548"), &t, &options);
    }

    /// Random WKT-ish text from the grammar's own tokens never panics.
    #[test]
    fn random_tokens_never_panic(tokens in proptest::collection::vec(
        prop::sample::select(vec!["POINT", "MULTIPOINT", "GEOMETRYCOLLECTION", "Z", "M", "ZM", "EMPTY", "(", ")", ",", " ", "1", "-2.5e3", "SRID=1;", "\t", ";"]), 0..40)) {
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        let input = tokens.concat();
        let _ = wkt::convert_reader(input.as_bytes(), Vec::new(), &crs("EPSG:4326"), &crs("EPSG:4548"), &t, &Default::default());
    }
}
