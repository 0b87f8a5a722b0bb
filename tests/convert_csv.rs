//! CSV / TSV conversion: coordinates against PROJ, round trips within 1 mm with every other byte
//! identical, encodings, empty and malformed files, failing points, atomic outputs.
#![cfg(feature = "formats")]

mod common;
use common::scratch::Scratch;
use common::template::Template;
use common::{conversion::convert, crs};
use geounify::convert::{csv, ConvertError, ConvertOptions, TextEncoding};
use geounify::{Heights, Registry, Transformer};
use proptest::prelude::*;

/// A CSV with a BOM, CRLF, quoted and Chinese fields, embedded newline, delimiter and quotes,
/// spaces and quotes around coordinates, an empty-geometry row, a blank line and no final
/// newline. `@` = coordinate slots (x, y per row).
const DOC: &[u8] = "\u{FEFF}编号,名称,\"经度\",纬度,备注\r\n\
1,\"天安门, \"\"东\"\"\",@,@,普通\r\n\
2,路口,\"@\", @ ,\"两行\r\n备注\"\r\n\
3,无坐标,,,空\r\n\
\r\n\
4,末行,@,@,\"\""
    .as_bytes();

/// Longitude/latitude in Beijing; the first is the crate's PROJ-checked vector.
const LONLAT: [f64; 6] = [116.404, 39.915, 116.3912757, 39.9067563, 116.5, 40.05];

/// Metres between two lon/lat points (small differences; spherical approximation is ample at
/// the millimetre level).
fn metres(a: [f64; 2], b: [f64; 2]) -> f64 {
    let k = 6_371_000.0_f64.to_radians();
    let dx = (a[0] - b[0]) * k * a[1].to_radians().cos();
    let dy = (a[1] - b[1]) * k;
    dx.hypot(dy)
}

fn pairs(v: &[f64]) -> Vec<[f64; 2]> {
    v.chunks(2).map(|c| [c[0], c[1]]).collect()
}

#[test]
fn wgs84_to_cgcs2000_gk_matches_proj_and_round_trips_with_other_bytes_identical() {
    let dir = Scratch::new("rt4326");
    let template = Template::new(DOC);
    let (a, b, c) = (dir.path("a.csv"), dir.path("b.csv"), dir.path("c.csv"));
    std::fs::write(&a, template.fill(&LONLAT)).unwrap();
    let report =
        convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &Default::default()).unwrap();
    assert_eq!((report.features, report.written, report.vertices, report.empty), (4, 4, 3, 1));
    assert_eq!(report.outputs, vec![b.clone()]);
    let projected = template.numbers(&std::fs::read(&b).unwrap());
    // PROJ 9 `cs2cs EPSG:4326 EPSG:4548` (axis order swapped to E, N) gives 449042.047441,
    // 4420261.219997 for (116.404, 39.915) — the crate-level doctest's vector; PROJ prints 6
    // decimals, so 1e-6 m is the reference's own resolution.
    assert!((projected[0] - 449_042.047_441).abs() < 1e-6, "{}", projected[0]);
    assert!((projected[1] - 4_420_261.219_997).abs() < 1e-6, "{}", projected[1]);
    // The same numbers as the transformer, written in the shortest round-trip form.
    let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
    for (p, q) in pairs(&LONLAT).iter().zip(pairs(&projected)) {
        let (e, n) = t.transform_xy(p[0], p[1]).unwrap();
        assert_eq!((e, n), (q[0], q[1]));
    }
    convert(&b, &c, &crs("EPSG:4548"), &crs("EPSG:4326"), &Default::default()).unwrap();
    let back = template.numbers(&std::fs::read(&c).unwrap());
    let worst =
        pairs(&LONLAT).iter().zip(pairs(&back)).map(|(p, q)| metres(*p, q)).fold(0.0, f64::max);
    // Measured: 7.9e-10 m (Gauss-Krüger forward/inverse); the contract is 1 mm.
    assert!(worst < 1e-3, "round trip moved a point by {worst} m");
}

#[test]
fn gcj02_and_city_grid_round_trips() {
    let dir = Scratch::new("rtcity");
    let template = Template::new(DOC);
    // GCJ02 → EPSG:4490 → GCJ02 (the inverse is iterative).
    let (a, b, c) = (dir.path("a.csv"), dir.path("b.csv"), dir.path("c.csv"));
    std::fs::write(&a, template.fill(&LONLAT)).unwrap();
    convert(&a, &b, &crs("GCJ02"), &crs("EPSG:4490"), &Default::default()).unwrap();
    let mid = template.numbers(&std::fs::read(&b).unwrap());
    // GCJ-02 offsets are a few hundred metres in Beijing: the file really changed.
    assert!(metres([LONLAT[0], LONLAT[1]], [mid[0], mid[1]]) > 100.0);
    convert(&b, &c, &crs("EPSG:4490"), &crs("GCJ02"), &Default::default()).unwrap();
    let back = template.numbers(&std::fs::read(&c).unwrap());
    let worst =
        pairs(&LONLAT).iter().zip(pairs(&back)).map(|(p, q)| metres(*p, q)).fold(0.0, f64::max);
    // Measured: 4.3e-9 m (the GCJ-02 inverse iterates to its tolerance); contract 1 mm.
    assert!(worst < 1e-3, "GCJ02 round trip moved a point by {worst} m");

    // city:old-grid → EPSG:4548 → city:old-grid, with the example city's CRS file. The file has
    // a height column (高程). Said to be ellipsoidal, heights go through the datum shift and the
    // 3D round trip closes. As elevations (the default) each conversion copies them and takes
    // the plane position at height 0 on its source datum, as PROJ does for 2D CRSs: that
    // round trip misses by ~2.1 mm with this city's parameters (the ellipsoidal height of a
    // point at 0 changes by ~217 m, which the rotation turns into millimetres), so it is not
    // the 1 mm contract; each leg is checked against the transformer instead.
    let mut registry = Registry::new();
    registry.load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml")).unwrap();
    let old = registry.lookup("city:old-grid").unwrap();
    let to_old = registry.transformer("EPSG:4326", "city:old-grid").unwrap();
    let grid: Vec<f64> = pairs(&LONLAT)
        .iter()
        .flat_map(|p| {
            let (e, n) = to_old.transform_xy(p[0], p[1]).unwrap();
            [e, n, 43.5]
        })
        .collect();
    let template3 = Template::new(
        "点号,X,Y,高程,备注\r\nA1,@,@,@,\"旧城, 东\"\r\nA2,@,@,@,\r\nA3,@,@,@,末".as_bytes(),
    );
    std::fs::write(&a, template3.fill(&grid)).unwrap();
    let (d, e) = (dir.path("d.csv"), dir.path("e.csv"));
    let ellipsoidal = ConvertOptions { heights: Heights::Ellipsoidal, ..Default::default() };
    convert(&a, &d, &old, &crs("EPSG:4548"), &ellipsoidal).unwrap();
    convert(&d, &e, &crs("EPSG:4548"), &old, &ellipsoidal).unwrap();
    let back = template3.numbers(&std::fs::read(&e).unwrap());
    let worst = grid
        .chunks(3)
        .zip(back.chunks(3))
        .map(|(p, q)| (p[0] - q[0]).hypot(p[1] - q[1]).max((p[2] - q[2]).abs()))
        .fold(0.0, f64::max);
    // Measured: 4.7e-9 m (Helmert inverted through geocentric coordinates); contract 1 mm.
    assert!(worst < 1e-3, "old-grid round trip moved a point by {worst} m");
    // As elevations: 高程 comes back as written, the plane is the 2D transformer's.
    let t = registry.transformer("city:old-grid", "EPSG:4548").unwrap();
    let back_t = registry.transformer("EPSG:4548", "city:old-grid").unwrap();
    convert(&a, &d, &old, &crs("EPSG:4548"), &Default::default()).unwrap();
    convert(&d, &e, &crs("EPSG:4548"), &old, &Default::default()).unwrap();
    let (there, back) = (
        template3.numbers(&std::fs::read(&d).unwrap()),
        template3.numbers(&std::fs::read(&e).unwrap()),
    );
    for ((p, q), r) in grid.chunks(3).zip(there.chunks(3)).zip(back.chunks(3)) {
        let (x, y) = t.transform_xy(p[0], p[1]).unwrap();
        assert_eq!([x, y, 43.5], q);
        let (x, y) = back_t.transform_xy(q[0], q[1]).unwrap();
        assert_eq!([x, y, 43.5], r);
    }
    assert!(std::fs::read_to_string(&e).unwrap().contains(",43.5,"));

    // In 2D the file holds exactly what the transformer gives (the format adds nothing).
    let template2 = Template::new(b"x,y\n@,@\n@,@\n@,@\n");
    let flat: Vec<f64> = grid.chunks(3).flat_map(|p| [p[0], p[1]]).collect();
    std::fs::write(&a, template2.fill(&flat)).unwrap();
    convert(&a, &d, &old, &crs("EPSG:4548"), &Default::default()).unwrap();
    let out = template2.numbers(&std::fs::read(&d).unwrap());
    let t = registry.transformer("city:old-grid", "EPSG:4548").unwrap();
    for (p, q) in pairs(&flat).iter().zip(pairs(&out)) {
        let (x, y) = t.transform_xy(p[0], p[1]).unwrap();
        assert_eq!([x, y], q);
    }
}

#[test]
fn tsv_with_height_converts_in_3d_and_keeps_empty_heights() {
    let dir = Scratch::new("tsv");
    let template = Template::new(b"name\tlon\tlat\th\tnote\nA\t@\t@\t@\tx\nB\t@\t@\t\ty\n");
    let input = [116.404, 39.915, 50.0, 116.5, 40.05];
    let (a, b) = (dir.path("a.tsv"), dir.path("b.tsv"));
    std::fs::write(&a, template.fill(&input)).unwrap();
    let mut registry = Registry::new();
    registry.load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml")).unwrap();
    let (wgs84, bj54) = (crs("EPSG:4326"), registry.lookup("city:bj54-gk117").unwrap());
    // Said to be ellipsoidal, the height goes through the datum shift with the point.
    let ellipsoidal = ConvertOptions { heights: Heights::Ellipsoidal, ..Default::default() };
    convert(&a, &b, &wgs84, &bj54, &ellipsoidal).unwrap();
    let out = template.numbers(&std::fs::read(&b).unwrap());
    let t = Transformer::with_heights(&wgs84, &bj54, Heights::Ellipsoidal).unwrap();
    assert_eq!(t.transform([116.404, 39.915, 50.0]).unwrap().to_vec(), out[..3].to_vec());
    let (e, n) = t.transform_xy(116.5, 40.05).unwrap();
    assert_eq!([e, n], [out[3], out[4]]);
    assert!((out[2] - 50.0).abs() > 0.1, "the height changed across datums: {}", out[2]);
    // As elevations (the default) it is copied, and the plane is that of the point without it.
    convert(&a, &b, &wgs84, &bj54, &Default::default()).unwrap();
    let out = template.numbers(&std::fs::read(&b).unwrap());
    let t = Transformer::new(&wgs84, &bj54).unwrap();
    let (e0, n0) = t.transform_xy(116.404, 39.915).unwrap();
    assert_eq!([e0, n0, 50.0], out[..3]);
    assert_eq!(t.transform_xy(116.5, 40.05).unwrap(), (out[3], out[4]));
    assert!(std::fs::read_to_string(&b).unwrap().contains("\t50\t"), "the cell as written");
}

#[test]
fn gbk_files_keep_their_bytes_and_bad_headers_are_reported() {
    let dir = Scratch::new("gbk");
    // "名称,经度,纬度\n天安门,@,@\n" in GBK (encoded by encoding_rs through the crate).
    let text = "名称,经度,纬度\n天安门\u{3000}东,@,@\n";
    let gbk = geounify::convert::text::encode(text, TextEncoding::Gbk).unwrap().into_owned();
    let template = Template::new(&gbk);
    let (a, b) = (dir.path("a.csv"), dir.path("b.csv"));
    std::fs::write(&a, template.fill(&LONLAT[..2])).unwrap();
    let gbk_options = ConvertOptions { encoding: Some(TextEncoding::Gbk), ..Default::default() };
    convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &gbk_options).unwrap();
    let out = template.numbers(&std::fs::read(&b).unwrap());
    assert!((out[0] - 449_042.047_441).abs() < 1e-6);
    // Read as GB 18030 (a superset) it works too.
    let options = ConvertOptions { encoding: Some(TextEncoding::Gb18030), ..Default::default() };
    std::fs::remove_file(&b).unwrap();
    convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &options).unwrap();
    // Read as UTF-8, the GBK header is an error naming line 1, and nothing is written.
    std::fs::remove_file(&b).unwrap();
    let err = convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &Default::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 1") && err.contains("UTF-8") && err.contains("--encoding"), "{err}");
    assert_eq!(dir.listing(), ["a.csv"]);
}

#[test]
fn empty_and_header_only_files() {
    let dir = Scratch::new("empty");
    let (a, b) = (dir.path("a.csv"), dir.path("b.csv"));
    // An empty file is an error, nothing written (issue 11; it used to convert to an empty
    // output with a warning).
    std::fs::write(&a, b"").unwrap();
    let e = convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &Default::default())
        .unwrap_err()
        .to_string();
    assert!(e.ends_with("a.csv: line 1: the file is empty (no header line): nothing to convert"));
    assert!(!b.exists());
    std::fs::write(&a, "\u{FEFF}lon,lat\r\n").unwrap();
    let report =
        convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &Default::default()).unwrap();
    assert_eq!(std::fs::read(&b).unwrap(), "\u{FEFF}lon,lat\r\n".as_bytes());
    assert_eq!((report.features, report.written), (0, 0));
}

#[test]
fn malformed_files_and_bad_columns_write_nothing() {
    let dir = Scratch::new("malformed");
    let (a, b) = (dir.path("a.csv"), dir.path("b.csv"));
    let cases: [(&str, &str); 4] = [
        (
            "lon,lat,note\n116.4,39.9,\"open\n116.5,40.0,x\n",
            "line 2: a quoted field is never closed",
        ),
        ("lon,x,lat\n116.4,1,39.9\n", "more than one possible x column ('lon', 'x')"),
        ("a,b\n1,2\n", "no x column found in the header: 'a', 'b'"),
        ("lon,lat\n116.4,39.9\n", "--y-col 'northing' is not a column"),
    ];
    for (text, expected) in cases {
        std::fs::write(&a, text).unwrap();
        let options = ConvertOptions {
            y_col: expected.contains("northing").then(|| "northing".to_string()),
            ..Default::default()
        };
        let err = convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &options)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{err}");
        assert_eq!(dir.listing(), ["a.csv"], "nothing written for {text:?}");
    }
    // Refused: the output is the input.
    let err = convert(&a, &a, &crs("EPSG:4326"), &crs("EPSG:4548"), &Default::default());
    assert!(matches!(err, Err(ConvertError::SameFile { .. })));
    assert_eq!(std::fs::read(&a).unwrap(), b"lon,lat\n116.4,39.9\n");
}

#[test]
fn failing_points_fail_the_file_or_are_skipped() {
    let dir = Scratch::new("fail");
    let (a, b) = (dir.path("a.csv"), dir.path("b.csv"));
    let text =
        "id,lon,lat\r\n1,116.4,39.9\r\n2,116.4,95\r\n3,abc,39.9\r\n4,116.4,\r\n5,116.5,40\r\n";
    std::fs::write(&a, text).unwrap();
    std::fs::write(&b, b"existing").unwrap();
    // `force`: the lead's sanity check may rightly object to latitude 95 before converting.
    let options = ConvertOptions { force: true, ..Default::default() };
    let err = convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &options).unwrap_err();
    let ConvertError::PointsFailed { failures, total, .. } = err else { panic!("{err}") };
    assert_eq!(total, 3);
    let shown: Vec<String> =
        failures.iter().map(|f| format!("{}: {}", f.location, f.reason)).collect();
    assert_eq!(
        shown,
        [
            "line 3: latitude 95° is beyond ±90°",
            "line 4: x 'abc' is not a number",
            "line 5: y is empty but x is not"
        ]
    );
    assert_eq!(std::fs::read(&b).unwrap(), b"existing", "the existing output is untouched");
    assert_eq!(dir.listing(), ["a.csv", "b.csv"]);

    let options = ConvertOptions { skip_invalid: true, ..options };
    let report = convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &options).unwrap();
    assert_eq!((report.features, report.written, report.skipped.len()), (5, 2, 3));
    assert_eq!(report.skipped[1].location, "line 4");
    let out = String::from_utf8(std::fs::read(&b).unwrap()).unwrap();
    let ids: Vec<&str> = out.lines().map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(ids, ["id", "1", "5"]);
    assert!(out.ends_with("\r\n"));
}

#[test]
fn convert_reader_in_memory_and_serial_equals_parallel() {
    let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
    let mut text = String::from("lon,lat,seq\n");
    for i in 0..70_000 {
        // More rows than one chunk, so chunk boundaries are crossed.
        text.push_str(&format!("{},{},{i}\n", 116.0 + i as f64 * 1e-5, 39.0 + i as f64 * 1e-5));
    }
    let mut parallel = Vec::new();
    let report =
        csv::convert_reader(text.as_bytes(), &mut parallel, b',', &t, &Default::default()).unwrap();
    assert_eq!(report.vertices, 70_000);
    let mut serial = Vec::new();
    let options = ConvertOptions { parallel: false, ..Default::default() };
    csv::convert_reader(text.as_bytes(), &mut serial, b',', &t, &options).unwrap();
    assert_eq!(parallel, serial);
    let last = String::from_utf8(parallel).unwrap().lines().last().unwrap().to_string();
    assert!(last.ends_with(",69999"), "{last}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Random bytes never panic, whatever the options.
    #[test]
    fn random_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        prefix in prop::sample::select(vec!["", "lon,lat\n", "x\ty\tz\n", "\"lon\",\"lat\",h\r\n"]),
        tab in any::<bool>(),
        gbk in any::<bool>(),
        skip in any::<bool>(),
    ) {
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        let mut input = prefix.as_bytes().to_vec();
        input.extend_from_slice(&bytes);
        let options = ConvertOptions {
            skip_invalid: skip,
            encoding: gbk.then_some(TextEncoding::Gbk),
            ..Default::default()
        };
        let _ = csv::convert_reader(&input[..], Vec::new(), if tab { b'\t' } else { b',' }, &t, &options);
    }
}

/// A table of geometries in a `wkt` column (as this library and GDAL write lines and polygons
/// to CSV), with a BOM, CRLF, a quoted attribute holding the delimiter, spaces inside a quoted
/// cell, a 3D line, an empty cell, `POINT EMPTY` and a multipolygon with a hole. `@` = number
/// slots; the line's heights (50, 60) are not slots: they stay as they are.
const WKT_DOC: &[u8] = "\u{FEFF}id,WKT,name\r\n\
1,\"POINT (@ @)\",a\r\n\
2,\"LINESTRING Z (@ @ 50,@ @ 60)\",\"b, c\"\r\n\
3,,empty\r\n\
4,\"  MULTIPOLYGON (((@ @,@ @,@ @,@ @),(@ @,@ @,@ @,@ @)))  \",d\r\n\
5,POINT EMPTY,e\r\n"
    .as_bytes();

#[test]
fn a_wkt_column_is_converted_in_place_with_every_other_byte_kept() {
    // Was: `no x column found in the header`, so a CSV of lines this library wrote could be
    // converted into other formats but not into CSV.
    let dir = Scratch::new("csv-wkt");
    let template = Template::new(WKT_DOC);
    let lonlat: Vec<f64> = (0..template.slots())
        .map(|k| if k % 2 == 0 { 116.3 + 0.01 * k as f64 } else { 39.9 + 0.003 * k as f64 })
        .collect();
    let (a, b) = (dir.path("a.csv"), dir.path("b.csv"));
    std::fs::write(&a, template.fill(&lonlat)).unwrap();
    let report =
        convert(&a, &b, &crs("EPSG:4326"), &crs("EPSG:4548"), &Default::default()).unwrap();
    assert_eq!((report.features, report.written, report.vertices, report.empty), (5, 5, 11, 2));
    // Every byte but the numbers in the slots is the input's (the heights included), and the
    // numbers are the transformer's, in the shortest round-trip form.
    let projected = template.numbers(&std::fs::read(&b).unwrap());
    let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
    for (p, q) in pairs(&lonlat).iter().zip(pairs(&projected)) {
        assert_eq!(t.transform_xy(p[0], p[1]).unwrap(), (q[0], q[1]));
    }
    // The same geometries as a conversion into GeoJSON reads from the file.
    let geojson = dir.path("b.geojson");
    convert(&a, &geojson, &crs("EPSG:4326"), &crs("EPSG:4548"), &Default::default()).unwrap();
    let text = std::fs::read_to_string(&geojson).unwrap();
    for q in &projected {
        assert!(text.contains(&q.to_string()), "{q} not in the GeoJSON");
    }
}

#[test]
fn a_bad_wkt_cell_fails_its_row_naming_it() {
    let dir = Scratch::new("csv-wkt-bad");
    let (a, b) = (dir.path("a.csv"), dir.path("b.csv"));
    let (from, to) = (crs("EPSG:4326"), crs("EPSG:4548"));
    std::fs::write(&a, "wkt,name\nPOINT (116.3 39.9),a\n\"SRID=4326;POINT (116.3 39.9)\",b\nPOINT (116.3 nord),c\n")
        .unwrap();
    let e = convert(&a, &b, &from, &to, &Default::default()).unwrap_err().to_string();
    assert!(e.contains("2 feature(s) could not be converted, nothing written"), "{e}");
    assert!(e.contains("line 3: wkt: an EWKT SRID= prefix in a CSV cell is not converted"), "{e}");
    assert!(!b.exists());
    // Left out with skip_invalid: the good row converts.
    let options = ConvertOptions { skip_invalid: true, ..ConvertOptions::default() };
    let report = convert(&a, &b, &from, &to, &options).unwrap();
    assert_eq!((report.features, report.written, report.skipped.len()), (3, 1, 2));
    let out = std::fs::read_to_string(&b).unwrap();
    assert_eq!(out.lines().count(), 2, "{out}");
    // Two `wkt` columns and no coordinate columns: refused as before, showing the header.
    std::fs::write(&a, "wkt,WKT\nPOINT (1 2),POINT (3 4)\n").unwrap();
    let e = convert(&a, &b, &from, &to, &Default::default()).unwrap_err().to_string();
    assert!(e.contains("no x column found in the header: 'wkt', 'WKT'"), "{e}");
}
