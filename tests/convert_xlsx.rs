//! Excel `.xlsx` point tables: EPSG:4490 → EPSG:4547 against PROJ's vectors
//! (`tests/data/proj_vectors.csv`, 1 µm), round trips A → B → A (1e-11°), every entry but the
//! sheet byte-identical and every byte of the sheet but the coordinate cells kept, Chinese
//! headers above a title row, text-cell coordinates, formulas, bad input (not a zip, a zip
//! that is not a workbook, an empty sheet, a cell that is not a number: clear error with the
//! cell, nothing left behind), `skip_invalid`, and conversions into and from other formats with
//! typed attributes. Workbooks are written by `rust_xlsxwriter` and read back by `calamine`.
#![cfg(feature = "formats")]

mod common;
use calamine::{Data, Reader as _, Xlsx};
use common::conversion::{convert, convert_skipping};
use common::crs;
use common::scratch::Scratch;
use geounify::convert::{ConvertError, ConvertOptions};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use std::io::Read;
use std::path::Path;

/// PROJ 9.6's EPSG:4490 → EPSG:4547 vectors from `tests/data/proj_vectors.csv`: (lon, lat,
/// easting, northing).
fn proj_vectors() -> Vec<[f64; 4]> {
    let text = std::fs::read_to_string("tests/data/proj_vectors.csv").unwrap();
    let rows: Vec<[f64; 4]> = text
        .lines()
        .filter(|l| l.starts_with("zone,EPSG:4490,EPSG:4547,"))
        .map(|l| {
            let v: Vec<f64> = l.split(',').skip(3).map(|x| x.parse().unwrap()).collect();
            [v[0], v[1], v[2], v[3]]
        })
        .collect();
    assert!(rows.len() >= 5, "PROJ vectors for EPSG:4490 → EPSG:4547");
    rows
}

/// A survey workbook: sheet `控制点` with a merged title row, the header `点号, 编码, 经度,
/// 纬度, 高程, 备注, 倍` on row 2, one row per vector (the third one's longitude and latitude
/// as text cells), styled numbers, a formula column, column widths; a second sheet `说明`
/// with text and a formula.
fn survey_workbook(path: &Path, vectors: &[[f64; 4]]) {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let fixed = Format::new().set_num_format("0.000000000");
    let ws = wb.add_worksheet();
    ws.set_name("控制点").unwrap();
    ws.merge_range(0, 0, 0, 6, "某市控制点成果表（CGCS2000）", &bold).unwrap();
    for (c, h) in ["点号", "编码", "经度", "纬度", "高程", "备注", "倍"].iter().enumerate()
    {
        ws.write_string_with_format(1, c as u16, *h, &bold).unwrap();
    }
    ws.set_column_width(0, 14).unwrap();
    ws.set_column_width(2, 18).unwrap();
    for (i, v) in vectors.iter().enumerate() {
        let r = 2 + i as u32;
        ws.write_string(r, 0, format!("GP{:02}", i + 1)).unwrap();
        ws.write_number(r, 1, 101.0 + i as f64).unwrap();
        if i == 2 {
            ws.write_string(r, 2, format!(" {} ", v[0])).unwrap();
            ws.write_string(r, 3, v[1].to_string()).unwrap();
        } else {
            ws.write_number_with_format(r, 2, v[0], &fixed).unwrap();
            ws.write_number(r, 3, v[1]).unwrap();
        }
        if i % 2 == 0 {
            ws.write_number(r, 4, 12.5 + i as f64).unwrap();
        }
        ws.write_string(r, 5, "水准点 & <旧>").unwrap();
        ws.write_formula(r, 6, format!("=B{}*2", r + 1).as_str()).unwrap();
    }
    let notes = wb.add_worksheet();
    notes.set_name("说明").unwrap();
    notes.write_string(0, 0, "坐标系：CGCS2000").unwrap();
    notes.write_formula(1, 0, "=COUNTA(控制点!A:A)").unwrap();
    wb.save(path).unwrap();
}

/// Every cell of the first sheet, by (row, column), 0-based.
fn cells(path: &Path) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = calamine::open_workbook(path).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let (r0, c0) = range.start().unwrap();
    assert_eq!((r0, c0), (0, 0));
    range.rows().map(|r| r.to_vec()).collect()
}

fn number(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        Data::String(s) => s.trim().parse().unwrap(),
        other => panic!("not a number: {other:?}"),
    }
}

/// The raw entries of a zip: name, CRC, compressed bytes.
fn raw_entries(path: &Path) -> Vec<(String, u32, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut e = zip.by_index_raw(i).unwrap();
            let (name, crc) = (String::from_utf8_lossy(e.name_raw()).into_owned(), e.crc32());
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).unwrap();
            (name, crc, bytes)
        })
        .collect()
}

/// The decompressed entry `name`.
fn entry_text(path: &Path, name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut text = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut text).unwrap();
    text
}

/// The sheet XML cut into cells (`<c …>…</c>` or `<c …/>`, with their reference) and the text
/// between them.
fn pieces(xml: &str) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find("<c ") {
        out.push((None, rest[..i].to_string()));
        let cell = &rest[i..];
        let open_end = cell.find('>').unwrap();
        let end = if cell[..=open_end].ends_with("/>") {
            open_end + 1
        } else {
            cell.find("</c>").unwrap() + 4
        };
        let r = cell.split("r=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        out.push((Some(r), cell[..end].to_string()));
        rest = &cell[end..];
    }
    out.push((None, rest.to_string()));
    out
}

fn metres(a: f64, b: f64) -> f64 {
    (a - b).abs()
}

#[test]
fn cgcs2000_to_gauss_kruger_matches_proj_and_keeps_every_other_byte() {
    let dir = Scratch::new("xlsx-proj");
    let vectors = proj_vectors();
    let input = dir.path("控制点.xlsx");
    survey_workbook(&input, &vectors);
    let before = std::fs::read(&input).unwrap();
    let output = dir.path("out.xlsx");
    let report =
        convert(&input, &output, &crs("EPSG:4490"), &crs("EPSG:4547"), &Default::default())
            .unwrap();
    assert_eq!(std::fs::read(&input).unwrap(), before, "the input is never modified");
    assert_eq!(
        (report.features, report.written, report.empty),
        (vectors.len() as u64, vectors.len() as u64, 0)
    );
    assert!(
        report.warnings.iter().any(|w| w.contains("formulas (first: cell G3)")),
        "{:?}",
        report.warnings
    );

    // The coordinates: PROJ's within 1 µm; the heights (elevations) unchanged.
    let out = cells(&output);
    for (i, v) in vectors.iter().enumerate() {
        let row = &out[2 + i];
        assert!(metres(number(&row[2]), v[2]) < 1e-6, "row {}: {:?} vs {v:?}", i + 3, row);
        assert!(metres(number(&row[3]), v[3]) < 1e-6, "row {}: {:?} vs {v:?}", i + 3, row);
        if i % 2 == 0 {
            assert_eq!(number(&row[4]), 12.5 + i as f64);
        }
        assert_eq!(row[0], Data::String(format!("GP{:02}", i + 1)));
    }
    // The text-cell coordinates stay text cells.
    assert!(matches!(out[4][2], Data::String(_)), "{:?}", out[4][2]);

    // Every entry but the sheet: raw bytes, CRC and order identical.
    let (a, b) = (raw_entries(&input), raw_entries(&output));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.0, y.0, "entry order");
        if x.0 != "xl/worksheets/sheet1.xml" {
            assert_eq!(x, y, "entry {} copied raw", x.0);
        }
    }
    // In the sheet, every byte but the coordinate cells of the data rows.
    let (sa, sb) = (
        pieces(&entry_text(&input, "xl/worksheets/sheet1.xml")),
        pieces(&entry_text(&output, "xl/worksheets/sheet1.xml")),
    );
    assert_eq!(sa.len(), sb.len());
    let mut changed = 0;
    for (x, y) in sa.iter().zip(&sb) {
        let coordinate = x.0.as_deref().is_some_and(|r| {
            (r.starts_with('C') || r.starts_with('D')) && r[1..].parse::<u32>().unwrap() >= 3
        });
        if coordinate {
            changed += 1;
            assert_eq!(x.0, y.0);
            // The style attribute is kept.
            assert_eq!(x.1.contains(" s=\""), y.1.contains(" s=\""), "{}\n{}", x.1, y.1);
        } else {
            assert_eq!(x, y);
        }
    }
    assert_eq!(changed, 2 * vectors.len());
    assert!(sb.iter().any(|(r, c)| r.as_deref() == Some("C5") && c.contains("t=\"inlineStr\"")));
    assert_eq!(dir.listing(), ["out.xlsx", "控制点.xlsx"]);
}

#[test]
fn round_trip_through_gauss_kruger_returns_the_degrees() {
    let dir = Scratch::new("xlsx-round");
    let vectors = proj_vectors();
    let a = dir.path("a.xlsx");
    survey_workbook(&a, &vectors);
    let (b, c) = (dir.path("b.xlsx"), dir.path("c.xlsx"));
    convert(&a, &b, &crs("EPSG:4490"), &crs("EPSG:4547"), &Default::default()).unwrap();
    convert(&b, &c, &crs("EPSG:4547"), &crs("EPSG:4490"), &Default::default()).unwrap();
    let (ca, cc) = (cells(&a), cells(&c));
    for i in 0..vectors.len() {
        for col in [2, 3] {
            let (x, y) = (number(&ca[2 + i][col]), number(&cc[2 + i][col]));
            assert!((x - y).abs() < 1e-11, "row {} col {col}: {x} vs {y}", i + 3);
        }
    }
}

#[test]
fn survey_axis_names_with_columns_named_and_the_sheet_choice() {
    let dir = Scratch::new("xlsx-axes");
    let vectors = proj_vectors();
    // Chinese survey order: X = northing, Y = easting, H. Gauss-Krüger → CGCS2000.
    let input = dir.path("成果.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["点名", "X", "Y", "H"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (i, v) in vectors.iter().enumerate() {
        let r = 1 + i as u32;
        ws.write_string(r, 0, "点").unwrap();
        ws.write_number(r, 1, v[3]).unwrap();
        ws.write_number(r, 2, v[2]).unwrap();
        ws.write_number(r, 3, 45.25).unwrap();
    }
    wb.save(&input).unwrap();
    let options = ConvertOptions {
        x_col: Some("Y".into()),
        y_col: Some("X".into()),
        ..ConvertOptions::default()
    };
    let output = dir.path("out.xlsx");
    convert(&input, &output, &crs("EPSG:4547"), &crs("EPSG:4490"), &options).unwrap();
    let out = cells(&output);
    for (i, v) in vectors.iter().enumerate() {
        assert!((number(&out[1 + i][2]) - v[0]).abs() < 1e-11);
        assert!((number(&out[1 + i][1]) - v[1]).abs() < 1e-11);
        assert_eq!(number(&out[1 + i][3]), 45.25, "an elevation is copied");
    }

    // No coordinate columns on the first sheet: refused, naming the sheets.
    let other = dir.path("other.xlsx");
    let mut wb = Workbook::new();
    wb.add_worksheet().set_name("封面").unwrap().write_string(0, 0, "目录").unwrap();
    let pts = wb.add_worksheet();
    pts.set_name("点").unwrap();
    pts.write_string(0, 0, "经度").unwrap();
    pts.write_string(0, 1, "纬度").unwrap();
    wb.save(&other).unwrap();
    let err = convert(
        &other,
        &dir.path("o.xlsx"),
        &crs("EPSG:4490"),
        &crs("EPSG:4547"),
        &Default::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("sheet '封面'") && err.contains("'封面', '点'") && err.contains("no x column"),
        "{err}"
    );
    assert!(!dir.path("o.xlsx").exists());
}

#[test]
fn bad_workbooks_are_refused_with_nothing_left_behind() {
    let dir = Scratch::new("xlsx-bad");
    let to = |name: &str| dir.path(&format!("out-{name}"));
    let run = |input: &Path, out: &Path| {
        convert(input, out, &crs("EPSG:4490"), &crs("EPSG:4547"), &Default::default())
    };
    // Not a zip.
    let text = dir.write("text.xlsx", "点号,经度,纬度\n1,114,22\n");
    let err = run(&text, &to("a.xlsx")).unwrap_err();
    assert!(matches!(err, ConvertError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("not an Excel workbook"), "{err}");
    // Empty file.
    let empty = dir.write("empty.xlsx", "");
    let err = run(&empty, &to("b.xlsx")).unwrap_err().to_string();
    assert!(err.contains("not an Excel workbook"), "{err}");
    // A zip that is not a workbook.
    let zipped = dir.path("zipped.xlsx");
    {
        let mut w = zip::ZipWriter::new(std::fs::File::create(&zipped).unwrap());
        w.start_file("readme.txt", zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut w, b"hello").unwrap();
        w.finish().unwrap();
    }
    let err = run(&zipped, &to("c.xlsx")).unwrap_err().to_string();
    assert!(err.contains("a zip archive but not an Excel workbook"), "{err}");
    // An empty sheet.
    let blank = dir.path("blank.xlsx");
    let mut wb = Workbook::new();
    wb.add_worksheet();
    wb.save(&blank).unwrap();
    let err = run(&blank, &to("d.xlsx")).unwrap_err().to_string();
    assert!(err.contains("sheet 'Sheet1'") && err.contains("the sheet is empty"), "{err}");
    // Into another format too.
    let err = run(&blank, &to("d.geojson")).unwrap_err().to_string();
    assert!(err.contains("the sheet is empty"), "{err}");
    // A formula in a coordinate cell.
    let formula = dir.path("formula.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_row(0, 0, ["lon", "lat"]).unwrap();
    ws.write_row(1, 0, [114.0, 22.5]).unwrap();
    ws.write_number(2, 0, 114.1).unwrap();
    ws.write_formula(2, 1, "=B2+0.01").unwrap();
    wb.save(&formula).unwrap();
    let err = run(&formula, &to("e.xlsx")).unwrap_err().to_string();
    assert!(err.contains("cell B3 (y column 'lat') holds a formula"), "{err}");
    let mut listing = dir.listing();
    listing.retain(|n| n.starts_with("out-"));
    assert!(listing.is_empty(), "{listing:?}");
}

/// `lon, lat, name` rows; row 4 (the third point) has `lat` = `abc` (a text cell).
fn with_bad_cell(path: &Path) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_row(0, 0, ["lon", "lat", "name"]).unwrap();
    for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
        let r = 1 + i as u32;
        ws.write_number(r, 0, 114.0 + i as f64 * 0.01).unwrap();
        if i == 2 {
            ws.write_string(r, 1, "abc").unwrap();
        } else {
            ws.write_number(r, 1, 22.5).unwrap();
        }
        ws.write_string(r, 2, *name).unwrap();
    }
    wb.save(path).unwrap();
}

#[test]
fn a_cell_that_is_not_a_number_fails_with_its_cell_or_is_skipped() {
    let dir = Scratch::new("xlsx-fail");
    let input = dir.path("in.xlsx");
    with_bad_cell(&input);
    for out in ["out.xlsx", "out.geojson"] {
        let output = dir.path(out);
        let err = convert_skipping(&input, &output, &crs("EPSG:4490"), &crs("EPSG:4547"), false)
            .unwrap_err();
        let ConvertError::PointsFailed { failures, total, .. } = &err else { panic!("{err}") };
        assert_eq!(*total, 1);
        assert_eq!(failures[0].location, "sheet 'Sheet1', row 4", "{out}");
        assert!(failures[0].reason.contains("cell B4 (y column 'lat')"), "{:?}", failures[0]);
        assert!(failures[0].reason.contains("'abc' is not a number"), "{:?}", failures[0]);
        assert!(!output.exists());
    }
    let output = dir.path("out.xlsx");
    let report =
        convert_skipping(&input, &output, &crs("EPSG:4490"), &crs("EPSG:4547"), true).unwrap();
    assert_eq!((report.features, report.written), (4, 3));
    assert_eq!(report.skipped[0].location, "sheet 'Sheet1', row 4");
    let out = cells(&output);
    let names: Vec<String> = out.iter().map(|r| r[2].to_string()).collect();
    assert_eq!(names, ["name", "a", "b", "", "d"], "the failed row is left out (a blank row)");
    assert!(number(&out[1][0]) > 1e5);
}

#[test]
fn into_and_from_other_formats_with_typed_attributes() {
    let dir = Scratch::new("xlsx-cross");
    let vectors = proj_vectors();
    let input = dir.path("pts.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_row(0, 0, ["点号", "经度", "纬度", "编码", "高度差", "有效", "日期", "备注"]).unwrap();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (i, v) in vectors.iter().take(4).enumerate() {
        let r = 1 + i as u32;
        ws.write_string(r, 0, format!("GP{i}")).unwrap();
        ws.write_number(r, 1, v[0]).unwrap();
        ws.write_number(r, 2, v[1]).unwrap();
        ws.write_number(r, 3, 100 + i as i32).unwrap();
        ws.write_number(r, 4, 0.25 + i as f64).unwrap();
        ws.write_boolean(r, 5, i % 2 == 0).unwrap();
        let d = ExcelDateTime::from_ymd(2024, 5, 1 + i as u8).unwrap();
        ws.write_datetime_with_format(r, 6, &d, &date).unwrap();
        if i != 1 {
            ws.write_string(r, 7, "中文 \"引号\"").unwrap();
        }
    }
    // A row without coordinates: a feature without geometry.
    ws.write_string(5, 0, "无坐标").unwrap();
    wb.save(&input).unwrap();

    let geojson = dir.path("pts.geojson");
    let report =
        convert(&input, &geojson, &crs("EPSG:4490"), &crs("EPSG:4547"), &Default::default())
            .unwrap();
    assert_eq!((report.features, report.empty), (5, 1));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&geojson).unwrap()).unwrap();
    let features = doc["features"].as_array().unwrap();
    let p = &features[0]["properties"];
    assert_eq!(p["点号"], "GP0");
    assert_eq!(p["编码"], 100, "an integer");
    assert_eq!(p["高度差"], 0.25, "a real");
    assert_eq!(p["有效"], true, "a boolean");
    assert_eq!(p["日期"], "2024-05-01", "a date");
    assert_eq!(p["备注"], "中文 \"引号\"");
    assert!(features[1]["properties"]["备注"].is_null());
    assert!(features[4]["geometry"].is_null());
    for (i, v) in vectors.iter().take(4).enumerate() {
        let c = &features[i]["geometry"]["coordinates"];
        assert!(metres(c[0].as_f64().unwrap(), v[2]) < 1e-6);
        assert!(metres(c[1].as_f64().unwrap(), v[3]) < 1e-6);
    }

    // Back: GeoJSON → xlsx (EPSG:4547 → EPSG:4490), the degrees again and the types.
    let back = dir.path("back.xlsx");
    convert(&geojson, &back, &crs("EPSG:4547"), &crs("EPSG:4490"), &Default::default()).unwrap();
    let out = cells(&back);
    assert_eq!(
        out[0].iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        ["x", "y", "点号", "编码", "高度差", "有效", "日期", "备注"]
    );
    for (i, v) in vectors.iter().take(4).enumerate() {
        assert!((number(&out[1 + i][0]) - v[0]).abs() < 1e-11);
        assert!((number(&out[1 + i][1]) - v[1]).abs() < 1e-11);
        assert_eq!(number(&out[1 + i][3]), 100.0 + i as f64);
        assert_eq!(out[1 + i][5], Data::Bool(i % 2 == 0));
        // GeoJSON has no date type: the date came back as its text.
        assert_eq!(out[1 + i][6], Data::String(format!("2024-05-0{}", i + 1)));
    }
    assert_eq!(out[5][0], Data::Empty);
    assert_eq!(out[5][2], Data::String("无坐标".into()));

    // xlsx → CSV and GeoPackage → xlsx: the same rows.
    let csv = dir.path("pts.csv");
    convert(&input, &csv, &crs("EPSG:4490"), &crs("EPSG:4490"), &Default::default()).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("x,y,点号,编码,高度差,有效,日期,备注\n"), "{text}");
    let gpkg = dir.path("pts.gpkg");
    convert(&input, &gpkg, &crs("EPSG:4490"), &crs("EPSG:4547"), &Default::default()).unwrap();
    let again = dir.path("again.xlsx");
    convert(&gpkg, &again, &crs("EPSG:4547"), &crs("EPSG:4547"), &Default::default()).unwrap();
    let g = cells(&again);
    for (i, v) in vectors.iter().take(4).enumerate() {
        assert!(metres(number(&g[1 + i][0]), v[2]) < 1e-6);
        assert!(metres(number(&g[1 + i][1]), v[3]) < 1e-6);
        // A GeoPackage DATE: a date cell again.
        let Data::DateTime(d) = &g[1 + i][6] else { panic!("{:?}", g[1 + i][6]) };
        assert_eq!(d.to_ymd_hms_milli(), (2024, 5, 1 + i as u8, 0, 0, 0, 0));
        assert_eq!(g[1 + i][5], Data::Bool(i % 2 == 0));
    }
}

#[test]
fn chunks_of_many_rows_convert_in_order() {
    let dir = Scratch::new("xlsx-chunks");
    let input = dir.path("many.xlsx");
    let n = 70_000u32;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet_with_constant_memory().unwrap();
    ws.write_row(0, 0, ["id", "lon", "lat"]).unwrap();
    for i in 0..n {
        ws.write_number(1 + i, 0, i as f64).unwrap();
        ws.write_number(1 + i, 1, 113.0 + f64::from(i) * 1e-5).unwrap();
        ws.write_number(1 + i, 2, 22.0 + f64::from(i) * 1e-5).unwrap();
    }
    wb.save(&input).unwrap();
    let (a, b) = (dir.path("par.xlsx"), dir.path("ser.xlsx"));
    let report =
        convert(&input, &a, &crs("EPSG:4490"), &crs("EPSG:4547"), &Default::default()).unwrap();
    assert_eq!(report.written, u64::from(n));
    let serial = ConvertOptions { parallel: false, ..ConvertOptions::default() };
    convert(&input, &b, &crs("EPSG:4490"), &crs("EPSG:4547"), &serial).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let out = cells(&a);
    let t = geounify::Transformer::new(&crs("EPSG:4490"), &crs("EPSG:4547")).unwrap();
    for i in [0usize, 65_535, 65_536, 69_999] {
        assert_eq!(number(&out[1 + i][0]), i as f64);
        let p = t.transform([113.0 + i as f64 * 1e-5, 22.0 + i as f64 * 1e-5, 0.0]).unwrap();
        assert_eq!((number(&out[1 + i][1]), number(&out[1 + i][2])), (p[0], p[1]));
    }
}

#[test]
fn a_sheet_of_wkt_geometries_reads_back_into_other_formats() {
    // Lines and polygons go into a workbook as a `wkt` column (this library's writer, and
    // GDAL's). Was: that workbook could not be read back at all ("no x column found").
    let dir = Scratch::new("xlsx-wkt");
    let source = dir.path("in.geojson");
    std::fs::write(
        &source,
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"road","lanes":2},"geometry":{"type":"LineString","coordinates":[[116.3,39.9,50],[116.31,39.91,60]]}},
{"type":"Feature","properties":{"name":"park","lanes":null},"geometry":{"type":"Polygon","coordinates":[[[116.3,39.9],[116.31,39.9],[116.31,39.91],[116.3,39.9]],[[116.302,39.902],[116.304,39.902],[116.304,39.904],[116.302,39.902]]]}},
{"type":"Feature","properties":{"name":"none","lanes":1},"geometry":null}]}"#,
    )
    .unwrap();
    let (wgs84, gk) = (crs("EPSG:4326"), crs("EPSG:4548"));
    let book = dir.path("shapes.xlsx");
    convert(&source, &book, &wgs84, &wgs84, &ConvertOptions::default()).unwrap();
    // Into GeoJSON through the workbook: what a direct conversion writes, byte for byte.
    let (via, direct) = (dir.path("via.geojson"), dir.path("direct.geojson"));
    let report = convert(&book, &via, &wgs84, &gk, &ConvertOptions::default()).unwrap();
    assert_eq!((report.features, report.vertices, report.empty), (3, 10, 1));
    convert(&source, &direct, &wgs84, &gk, &ConvertOptions::default()).unwrap();
    assert_eq!(std::fs::read_to_string(&via).unwrap(), std::fs::read_to_string(&direct).unwrap());
    // A cell whose SRID= is not the source's fails its row, naming the sheet and row.
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "wkt").unwrap();
    sheet.write_string(0, 1, "name").unwrap();
    sheet.write_string(1, 0, "SRID=4490;POINT (116.3 39.9)").unwrap();
    sheet.write_string(1, 1, "a").unwrap();
    let other = dir.path("srid.xlsx");
    workbook.save(&other).unwrap();
    let e = convert(&other, &via, &wgs84, &gk, &ConvertOptions::default()).unwrap_err();
    let e = e.to_string();
    assert!(e.contains("row 2: wkt: SRID=4490 says EPSG:4490, but the source CRS"), "{e}");
}
