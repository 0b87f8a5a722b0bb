//! MapInfo MIF/MID sets: a set GDAL wrote (GBK) converted as GDAL's own `ogr2ogr -t_srs`
//! converted it (committed references, 1 µm) and back, every object type and clause with every
//! other byte identical, the CoordSys written for the target (datum 33 for CGCS2000, NonEarth
//! with bounds for a city grid) and read as the declared CRS, malformed files refused by line
//! with nothing left behind, failing points.
#![cfg(feature = "formats")]

mod common;
use common::conversion::convert;
use common::crs;
use common::scratch::Scratch;
use common::template::Template;
use geounify::convert::{declared_crs, text, ConvertError, ConvertOptions, TextEncoding};
use geounify::{Registry, Transformer};
use std::path::{Path, PathBuf};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gdal");

/// Copies the fixture set `stem` into `dir` as `name.mif` / `name.mid`; the `.mif`.
fn fixture(dir: &Scratch, stem: &str, name: &str) -> PathBuf {
    for ext in ["mif", "mid"] {
        std::fs::copy(format!("{FIXTURES}/{stem}.{ext}"), dir.path(&format!("{name}.{ext}")))
            .unwrap();
    }
    dir.path(&format!("{name}.mif"))
}

/// The numbers of a MIF's data section (after the `Data` line), in order, and its header.
fn data_numbers(mif: &Path) -> (Vec<u8>, Vec<f64>) {
    let bytes = std::fs::read(mif).unwrap();
    let at = bytes.windows(6).position(|w| w == b"\nData\n" || w == b"\nData\r").unwrap() + 1;
    let (header, data) = bytes.split_at(at);
    let text = String::from_utf8_lossy(data);
    let numbers = text
        .split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E')))
        .filter_map(|t| t.parse::<f64>().ok())
        .collect();
    (header.to_vec(), numbers)
}

fn numbers_in(text: &str) -> Vec<f64> {
    text.split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E')))
        .filter_map(|t| t.parse::<f64>().ok())
        .collect()
}

fn line_of(mif: &Path, prefix: &str) -> String {
    let bytes = std::fs::read(mif).unwrap();
    String::from_utf8_lossy(&bytes)
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_set_gdal_wrote_converts_as_gdal_converts_it_and_back() {
    let dir = Scratch::new("mif-gdal");
    let input = fixture(&dir, "cgcs2000_gbk", "in");
    let ours = dir.path("ours.mif");
    let report =
        convert(&input, &ours, &crs("EPSG:4490"), &crs("EPSG:4547"), &Default::default()).unwrap();
    assert_eq!((report.features, report.written, report.empty), (5, 5, 1));
    assert_eq!(report.vertices, 1 + 3 + 8 + 4);
    assert_eq!(report.outputs, vec![ours.clone(), dir.path("ours.mid")]);
    // GDAL declared CGCS2000 as datum 104 (WGS 84): taken as the same frame, with a warning.
    assert!(
        report.warnings.iter().any(|w| w.contains("in.mif line 4 (CoordSys)")),
        "{:?}",
        report.warnings
    );

    // The attributes byte for byte, GBK included.
    assert_eq!(
        std::fs::read(dir.path("ours.mid")).unwrap(),
        std::fs::read(dir.path("in.mid")).unwrap()
    );
    let mid = text::decode(&std::fs::read(dir.path("ours.mid")).unwrap(), TextEncoding::Gbk)
        .unwrap()
        .into_owned();
    assert!(
        mid.starts_with("\"路口\",1,2.5\n\"深南大道\",2,\n\"地块, \"\"甲\"\"\",3,1\n"),
        "{mid}"
    );

    // The header: GDAL's, with the target's CoordSys (CGCS2000 as datum 33, GRS 80).
    let (header, numbers) = data_numbers(&ours);
    let (in_header, _) = data_numbers(&input);
    let expected = String::from_utf8_lossy(&in_header).replace(
        "CoordSys Earth Projection 1, 104",
        "CoordSys Earth Projection 8, 33, \"m\", 114, 0, 1, 500000, 0",
    );
    assert_eq!(String::from_utf8_lossy(&header), expected);

    // The coordinates as GDAL's ogr2ogr -t_srs EPSG:4547 (PROJ) gave them, within 1 µm; every
    // other number (counts, styles) equal.
    let (_, theirs) = data_numbers(&dir_fixture("cgcs2000_gbk_4547.mif"));
    assert_eq!(numbers.len(), theirs.len());
    for (a, b) in numbers.iter().zip(&theirs) {
        assert!((a - b).abs() < 1e-6, "{a} vs GDAL's {b}");
    }

    // Back to EPSG:4490: the original degrees within 1e-11° (measured: the Gauss-Krüger round
    // trip moves points by nanometres), and the declared CRSs identify as 4547 and 4490.
    let registry = Registry::new();
    assert_eq!(
        declared_crs(&ours, &registry).unwrap().map(|c| c.id().to_string()).as_deref(),
        Some("EPSG:4547")
    );
    let back = dir.path("back.mif");
    convert(&ours, &back, &crs("EPSG:4547"), &crs("EPSG:4490"), &Default::default()).unwrap();
    assert_eq!(line_of(&back, "CoordSys"), "CoordSys Earth Projection 1, 33");
    assert_eq!(
        declared_crs(&back, &registry).unwrap().map(|c| c.id().to_string()).as_deref(),
        Some("EPSG:4490")
    );
    let (_, original) = data_numbers(&input);
    let (_, returned) = data_numbers(&back);
    assert_eq!(original.len(), returned.len());
    for (a, b) in original.iter().zip(&returned) {
        assert!((a - b).abs() < 1e-11, "{a} came back as {b}");
    }
}

fn dir_fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

/// Every object type and coordinate clause, GBK text, CRLF, a column named `Data`, blank
/// lines. `@` = coordinate slots (x, y per pair).
const EVERY_OBJECT: &str = "Version 300\r\n\
Charset \"WindowsSimpChinese\"\r\n\
Delimiter \",\"\r\n\
CoordSys Earth Projection 1, 33\r\n\
Columns 2\r\n\
  名称 Char(20)\r\n\
  Data Char(10)\r\n\
Data\r\n\
\r\n\
Point @ @\r\n\
    Symbol (35,0,12)\r\n\
Line @ @ @ @\r\n\
    Pen (1,2,0)\r\n\
Pline Multiple 2\r\n\
  2\r\n\
@ @\r\n\
@ @\r\n\
  2\r\n\
@ @ @ @\r\n\
Region 1\r\n\
  4\r\n\
@ @\r\n\
@ @\r\n\
@ @\r\n\
@ @\r\n\
    Pen (1,2,0)\r\n\
    Brush (2,16777215,16777215)\r\n\
    Center @ @\r\n\
Text \"深南 \"\"大道\"\"\"\r\n\
    @ @ @ @\r\n\
    Font (\"宋体\",0,0,0)\r\n\
    Justify Center\r\n\
    Label Line Arrow @ @\r\n\
Rect @ @ @ @\r\n\
RoundRect @ @ @ @\r\n\
    0.002\r\n\
Ellipse @ @ @ @\r\n\
Arc @ @ @ @\r\n\
    0 90\r\n\
Multipoint 2 @ @ @ @\r\n\
COLLECTION 2\r\n\
Multipoint 1\r\n\
@ @\r\n\
Pline 2\r\n\
@ @ @ @\r\n\
    Pen (1,2,0)\r\n\
none\r\n\
\r\n";

/// Pairs near Shenzhen for the template's slots.
fn lonlat_pairs(n: usize) -> Vec<f64> {
    (0..n).flat_map(|i| [114.0 + 0.013 * i as f64, 22.5 + 0.007 * i as f64]).collect()
}

#[test]
fn every_object_and_clause_converts_with_every_other_byte_identical() {
    let dir = Scratch::new("mif-every");
    let gbk = text::encode(EVERY_OBJECT, TextEncoding::Gbk).unwrap().into_owned();
    let template = Template::new(&gbk);
    let input_numbers = lonlat_pairs(template.slots() / 2);
    let a = dir.write("a.mif", template.fill(&input_numbers));
    let mid = text::encode("\"点\",\"a\"\r\n\"线\",\"b\"\r\n\"多线\",\"c\"\r\n\"面\",\"d\"\r\n\"注记\",\"e\"\r\n\"矩形\",\"f\"\r\n\"圆角\",\"g\"\r\n\"椭圆\",\"h\"\r\n\"弧\",\"i\"\r\n\"多点\",\"j\"\r\n\"集合\",\"k\"\r\n\"空\",\"l\"\r\n", TextEncoding::Gbk).unwrap().into_owned();
    std::fs::write(dir.path("a.mid"), &mid).unwrap();
    let b = dir.path("b.mif");
    let report =
        convert(&a, &b, &crs("EPSG:4490"), &crs("EPSG:4547"), &Default::default()).unwrap();
    assert_eq!((report.features, report.empty), (12, 1));
    assert!(
        report.warnings.iter().any(|w| w.starts_with("5 Rect, RoundRect, Ellipse, Arc or Text")),
        "{:?}",
        report.warnings
    );
    assert_eq!(std::fs::read(dir.path("b.mid")).unwrap(), mid);
    // Every other byte identical (the template checks it), with the new CoordSys line.
    let out = std::fs::read(&b).unwrap();
    let expected_template = Template::new(
        &text::encode(
            &EVERY_OBJECT.replace(
                "CoordSys Earth Projection 1, 33",
                "CoordSys Earth Projection 8, 33, \"m\", 114, 0, 1, 500000, 0",
            ),
            TextEncoding::Gbk,
        )
        .unwrap(),
    );
    let converted = expected_template.numbers(&out);
    // Each pair exactly the transformer's (written in the shortest round-trip form).
    let t = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
    for (p, q) in input_numbers.chunks(2).zip(converted.chunks(2)) {
        let (e, n) = t.transform_xy(p[0], p[1]).unwrap();
        assert_eq!([e, n], q, "{p:?}");
    }
}

#[test]
fn a_city_grid_target_is_written_as_nonearth_with_the_datas_bounds() {
    let dir = Scratch::new("mif-city");
    let input = fixture(&dir, "cgcs2000_gbk", "in");
    let mut registry = Registry::new();
    registry.load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml")).unwrap();
    let grid = registry.lookup("city:old-grid").unwrap();
    let out = dir.path("grid.mif");
    let options = ConvertOptions { force: true, ..Default::default() }; // Shenzhen is far from the city
    let report = convert(&input, &out, &crs("EPSG:4490"), &grid, &options).unwrap();
    assert!(
        report.warnings.iter().any(|w| w.contains("written as CoordSys NonEarth")),
        "{:?}",
        report.warnings
    );
    let (_, numbers) = data_numbers(&out);
    let (_, original) = data_numbers(&input);
    let t = registry.transformer("EPSG:4490", "city:old-grid").unwrap();
    // The first object is the point: its pair is the transformer's.
    let (e, n) = t.transform_xy(original[0], original[1]).unwrap();
    assert_eq!([numbers[0], numbers[1]], [e, n]);
    let coordsys = line_of(&out, "CoordSys");
    assert!(coordsys.starts_with("CoordSys NonEarth Units \"m\" Bounds ("), "{coordsys}");
    let b = numbers_in(&coordsys);
    assert!(b[0] < e && e < b[2] && b[1] < n && n < b[3], "{coordsys} holds ({e}, {n})");
    // A NonEarth CoordSys declares no earth CRS: the way back needs --from.
    assert_eq!(declared_crs(&out, &registry).unwrap(), None);
    let back = dir.path("back.mif");
    convert(&out, &back, &grid, &crs("EPSG:4490"), &options).unwrap();
    assert_eq!(line_of(&back, "CoordSys"), "CoordSys Earth Projection 1, 33");
}

#[test]
fn the_declared_coordsys_is_compared_with_the_source() {
    let dir = Scratch::new("mif-declared");
    let text = "Version 300\nCharset \"Neutral\"\nDelimiter \",\"\n\
                CoordSys Earth Projection 8, 33, \"m\", 117, 0, 1, 500000, 0 Bounds (0, 0) (1000000, 10000000)\n\
                Columns 1\n  n Integer\nData\n\nPoint 450000 4400000\n";
    let a = dir.write("a.mif", text);
    dir.write("a.mid", "1\n");
    let b = dir.path("b.mif");
    let err =
        convert(&a, &b, &crs("EPSG:4547"), &crs("EPSG:4490"), &Default::default()).unwrap_err();
    assert!(matches!(err, ConvertError::DeclaredCrsMismatch { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("a.mif line 4 (CoordSys)") && message.contains("117"), "{message}");
    assert_eq!(dir.listing(), ["a.mid", "a.mif"]);
    // With the right source it converts; the old Bounds are dropped with a warning.
    let report =
        convert(&a, &b, &crs("EPSG:4548"), &crs("EPSG:4490"), &Default::default()).unwrap();
    assert!(report.warnings.iter().any(|w| w.contains("Bounds")), "{:?}", report.warnings);
    assert_eq!(line_of(&b, "CoordSys"), "CoordSys Earth Projection 1, 33");
    // Identified without --from: a Gauss-Krüger CM 117°E on GRS 80.
    let id = declared_crs(&a, &Registry::new()).unwrap().unwrap();
    assert!(["EPSG:4548", "EPSG:4509"].contains(&id.id()), "{}", id.id());
}

#[test]
fn malformed_sets_are_refused_by_line_with_nothing_left_behind() {
    let dir = Scratch::new("mif-bad");
    let header = "Version 300\nCharset \"Neutral\"\nDelimiter \",\"\nCoordSys Earth Projection 1, 104\nColumns 1\n  n Integer\nData\n";
    let cases: [(String, &str); 7] = [
        (String::new(), "line 1: the file is empty: not a MIF file (no header)"),
        ("lon,lat\n1,2\n".into(), "line 1: a MIF file starts with `Version`"),
        ("Version 300\nColumns 1\n  n Integer\n".into(), "line 3: the header has no `Data` line"),
        (format!("{header}Point 114 22\nBlob 1 2\n"), "line 9: 'Blob' is not a MIF object"),
        (
            format!("{header}Region 1\n  3\n114 22\n114.1 22\n"),
            "line 11: the file ends inside the Region object",
        ),
        (
            format!("{header}Pline 2\n114 22\n114.1 abc\n"),
            "line 10: Pline: a y coordinate expected, found 'abc'",
        ),
        (
            "Version 300\nTransform 1, 1, 0, 0\nColumns 0\nData\n".into(),
            "line 2: a `Transform` clause",
        ),
    ];
    std::fs::write(dir.path("out.mif"), "existing").unwrap();
    std::fs::write(dir.path("out.mid"), "existing").unwrap();
    for (text, expected) in cases {
        let a = dir.write("a.mif", &text);
        dir.write("a.mid", "1\n");
        let options = ConvertOptions { force: true, ..Default::default() };
        let err = convert(&a, &dir.path("out.mif"), &crs("EPSG:4326"), &crs("EPSG:4547"), &options)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{err}\nexpected: {expected}");
        assert_eq!(dir.listing(), ["a.mid", "a.mif", "out.mid", "out.mif"], "{text}");
        assert_eq!(std::fs::read(dir.path("out.mif")).unwrap(), b"existing");
    }
}

#[test]
fn failing_points_fail_their_object_or_become_none() {
    let dir = Scratch::new("mif-fail");
    let text = "Version 300\nCharset \"Neutral\"\nDelimiter \",\"\nCoordSys Earth Projection 1, 104\n\
                Columns 1\n  n Integer\nData\n\nPoint 114 22\n    Symbol (35,0,12)\nPoint 114 95\n    Symbol (35,0,12)\nPoint 114.1 22.1\n";
    let a = dir.write("a.mif", text);
    dir.write("a.mid", "1\n2\n3\n");
    let b = dir.path("b.mif");
    let options = ConvertOptions { force: true, ..Default::default() };
    let err = convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4547"), &options).unwrap_err();
    let ConvertError::PointsFailed { failures, .. } = err else { panic!("{err}") };
    assert_eq!(failures[0].location, "line 11 (object 2, Point)");
    assert!(failures[0].reason.contains("latitude 95"), "{}", failures[0].reason);
    assert_eq!(dir.listing(), ["a.mid", "a.mif"]);

    let options = ConvertOptions { skip_invalid: true, ..options };
    let report = convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4547"), &options).unwrap();
    assert_eq!((report.features, report.written, report.skipped.len()), (3, 2, 1));
    let out = std::fs::read_to_string(&b).unwrap();
    assert!(out.contains("    Symbol (35,0,12)\nNone\nPoint "), "{out}");
    assert_eq!(std::fs::read(dir.path("b.mid")).unwrap(), b"1\n2\n3\n");

    // No .mid: converted with a warning, the output has none either.
    std::fs::remove_file(dir.path("a.mid")).unwrap();
    std::fs::remove_file(dir.path("b.mid")).unwrap();
    let report = convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4547"), &options).unwrap();
    assert!(report.warnings.iter().any(|w| w.contains("no .mid")), "{:?}", report.warnings);
    assert_eq!(dir.listing(), ["a.mif", "b.mif"]);
}

#[test]
fn a_target_without_a_known_datum_shift_is_refused_before_anything_is_written() {
    let dir = Scratch::new("mif-noshift");
    let text =
        "Version 300\nCharset \"Neutral\"\nDelimiter \",\"\nColumns 0\nData\n\nPoint 117.5 39.9\n";
    let a = dir.write("a.mif", text);
    // Beijing 1954 as built in: no shift to WGS 84 is known, and a MapInfo datum states one.
    let err =
        convert(&a, &dir.path("b.mif"), &crs("EPSG:4214"), &crs("EPSG:2401"), &Default::default())
            .unwrap_err()
            .to_string();
    assert!(
        err.contains("EPSG:2401 cannot be written as a MapInfo CoordSys: its datum")
            && err.contains("has no known shift to WGS 84"),
        "{err}"
    );
    assert_eq!(dir.listing(), ["a.mif"]);
    // A file without CoordSys (longitude/latitude by MapInfo's rule) gets the target's before
    // `Columns`.
    let b = dir.path("c.mif");
    convert(
        &a,
        &b,
        &crs("EPSG:4490"),
        &crs("EPSG:4548"),
        &ConvertOptions { force: true, ..Default::default() },
    )
    .unwrap();
    let out = std::fs::read_to_string(&b).unwrap();
    assert!(out.starts_with("Version 300\nCharset \"Neutral\"\nDelimiter \",\"\nCoordSys Earth Projection 8, 33, \"m\", 117, 0, 1, 500000, 0\nColumns 0\nData\n\nPoint "), "{out}");
}
