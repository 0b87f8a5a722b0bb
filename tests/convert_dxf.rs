//! DXF conversion: a CASS-style drawing in a city grid (GBK names, CRLF) converted to EPSG:4548
//! and back within 1 mm with every other byte identical and the BLOCKS section untouched; radii,
//! angles and vectors checked against the transformer's own map of nearby points; a drawing GDAL
//! wrote (tests/data/gdal) keeping every byte but its coordinates; every entity type, mirrored
//! OCS, refused entities with and without `skip_invalid`, malformed and binary files (clear
//! error with the line, nothing written).
#![cfg(feature = "formats")]

mod common;
use common::scratch::Scratch;
use common::template::Template;
use common::{conversion::convert, crs};
use geounify::convert::{text, ConvertError, ConvertOptions, TextEncoding};
use geounify::{Heights, Registry, Transformer};

/// A DXF document from `(code, value)` pairs: codes right-aligned in 3 columns as AutoCAD
/// writes them, values GBK-encoded (as a Chinese CAD program with `$DWGCODEPAGE` ANSI_936
/// writes them), lines ended by `eol`. `@` values are template slots.
fn dxf(pairs: &[(i32, &str)], eol: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for (code, value) in pairs {
        out.extend_from_slice(format!("{code:>3}{eol}").as_bytes());
        out.extend_from_slice(&text::encode(value, TextEncoding::Gbk).unwrap());
        out.extend_from_slice(eol.as_bytes());
    }
    out
}

fn city() -> Registry {
    let mut registry = Registry::new();
    registry.load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample/city.toml")).unwrap();
    registry
}

/// A CASS-style drawing: header with code page and extents, a layer table with GBK names, a
/// block definition (a control-point symbol, block-local coordinates), and in model space a
/// point with CASS's feature code in XDATA, a text, a block reference, a closed polyline at an
/// elevation, a circle (a manhole) and an arc.
fn cass() -> Vec<(i32, &'static str)> {
    vec![
        (999, "CASS 9.0 测试"),
        (0, "SECTION"),
        (2, "HEADER"),
        (9, "$ACADVER"),
        (1, "AC1015"),
        (9, "$DWGCODEPAGE"),
        (3, "ANSI_936"),
        (9, "$INSBASE"),
        (10, "0.0"),
        (20, "0.0"),
        (30, "0.0"),
        (9, "$EXTMIN"),
        (10, "@"),
        (20, "@"),
        (30, "0.0"),
        (9, "$EXTMAX"),
        (10, "@"),
        (20, "@"),
        (30, "50.0"),
        (9, "$LIMMIN"),
        (10, "0.0"),
        (20, "0.0"),
        (0, "ENDSEC"),
        (0, "SECTION"),
        (2, "TABLES"),
        (0, "TABLE"),
        (2, "LAYER"),
        (70, "2"),
        (0, "LAYER"),
        (2, "控制点"),
        (70, "0"),
        (62, "1"),
        (6, "CONTINUOUS"),
        (0, "LAYER"),
        (2, "道路"),
        (70, "0"),
        (62, "3"),
        (6, "CONTINUOUS"),
        (0, "ENDTAB"),
        (0, "ENDSEC"),
        (0, "SECTION"),
        (2, "BLOCKS"),
        (0, "BLOCK"),
        (8, "0"),
        (2, "GC113"),
        (70, "0"),
        (10, "0.0"),
        (20, "0.0"),
        (30, "0.0"),
        (3, "GC113"),
        (0, "CIRCLE"),
        (8, "0"),
        (10, "0.0"),
        (20, "0.0"),
        (30, "0.0"),
        (40, "1.0"),
        (0, "POINT"),
        (8, "0"),
        (10, "0.5"),
        (20, "0.5"),
        (30, "0.0"),
        (0, "ENDBLK"),
        (8, "0"),
        (0, "ENDSEC"),
        (0, "SECTION"),
        (2, "ENTITIES"),
        (0, "POINT"),
        (5, "2F"),
        (8, "控制点"),
        (10, "@"),
        (20, "@"),
        (30, "@"),
        (1001, "SOUTH"),
        (1000, "131800"),
        (0, "TEXT"),
        (5, "30"),
        (8, "注记"),
        (10, "@"),
        (20, "@"),
        (30, "@"),
        (40, "2.0"),
        (1, "图根点A1"),
        (50, "@"),
        (0, "INSERT"),
        (5, "31"),
        (8, "控制点"),
        (2, "GC113"),
        (10, "@"),
        (20, "@"),
        (30, "@"),
        (41, "1.0"),
        (42, "1.0"),
        (43, "1.0"),
        (50, "@"),
        (0, "LWPOLYLINE"),
        (5, "32"),
        (8, "道路"),
        (90, "3"),
        (70, "1"),
        (38, "@"),
        (10, "@"),
        (20, "@"),
        (10, "@"),
        (20, "@"),
        (10, "@"),
        (20, "@"),
        (0, "CIRCLE"),
        (5, "33"),
        (8, "井"),
        (10, "@"),
        (20, "@"),
        (30, "@"),
        (40, "@"),
        (0, "ARC"),
        (5, "34"),
        (8, "道路"),
        (10, "@"),
        (20, "@"),
        (30, "@"),
        (40, "@"),
        (50, "@"),
        (51, "@"),
        (0, "ENDSEC"),
        (0, "SECTION"),
        (2, "OBJECTS"),
        (0, "DICTIONARY"),
        (5, "C"),
        (0, "ENDSEC"),
        (0, "EOF"),
    ]
}

/// The README's example point in the old city grid.
const E0: f64 = -88_388.937;
const N0: f64 = 227_900.556;

/// The slot values of [`cass`], in document order.
fn cass_values() -> Vec<f64> {
    let (e, n) = (E0, N0);
    vec![
        e,
        n - 35.0,
        e + 80.0,
        n + 70.0, // $EXTMIN, $EXTMAX
        e,
        n,
        43.5, // POINT
        e + 3.0,
        n + 2.0,
        43.5,
        30.0, // TEXT, rotation
        e + 10.0,
        n + 5.0,
        44.0,
        45.0, // INSERT, rotation
        42.0,
        e + 20.0,
        n,
        e + 80.0,
        n + 10.0,
        e + 60.0,
        n + 70.0, // LWPOLYLINE
        e + 30.0,
        n + 30.0,
        41.0,
        2.5, // CIRCLE
        e + 40.0,
        n - 20.0,
        40.0,
        15.0,
        10.0,
        120.0, // ARC
    ]
}

fn dir(deg: f64) -> [f64; 2] {
    [deg.to_radians().cos(), deg.to_radians().sin()]
}

#[test]
fn a_cass_drawing_in_the_city_grid_converts_and_round_trips_with_other_bytes_identical() {
    let scratch = Scratch::new("cass");
    let template = Template::new(&dxf(&cass(), "\r\n"));
    let input = cass_values();
    assert_eq!(template.slots(), input.len());
    let (a, b, c) = (scratch.path("a.dxf"), scratch.path("b.dxf"), scratch.path("c.dxf"));
    std::fs::write(&a, template.fill(&input)).unwrap();
    let registry = city();
    let grid = registry.lookup("city:old-grid").unwrap();
    let target = crs("EPSG:4548");

    // Heights as elevations (the default): z copied, the plane the 2D transformer's.
    let report = convert(&a, &b, &grid, &target, &ConvertOptions::default()).unwrap();
    assert_eq!((report.features, report.written, report.empty, report.vertices), (6, 6, 0, 8));
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // Every byte but the slots is the input's: GBK names and text, CRLF, the XDATA, the
    // TABLES, the BLOCKS section (block-local coordinates) and the OBJECTS.
    let out = template.numbers(&std::fs::read(&b).unwrap());
    let t = Transformer::new(&grid, &target).unwrap();
    let map = |x: f64, y: f64| -> [f64; 2] {
        let (x, y) = t.transform_xy(x, y).unwrap();
        [x, y]
    };
    // Points: exactly the transformer's, heights unchanged.
    for (at, has_z) in [(4, true), (7, true), (11, true), (16, false), (18, false), (20, false)] {
        assert_eq!([out[at], out[at + 1]], map(input[at], input[at + 1]), "slot {at}");
        if has_z {
            assert_eq!(out[at + 2], input[at + 2]);
        }
    }
    for at in [22, 26] {
        assert_eq!([out[at], out[at + 1]], map(input[at], input[at + 1]), "slot {at}");
    }
    assert_eq!((out[15], out[24], out[28]), (42.0, 41.0, 40.0), "elevations copied");
    // $EXTMIN/$EXTMAX: the box of the converted corners.
    let corners =
        [[input[0], input[1]], [input[2], input[1]], [input[0], input[3]], [input[2], input[3]]]
            .map(|p| map(p[0], p[1]));
    let lo = |k: usize| corners.iter().map(|c| c[k]).fold(f64::INFINITY, f64::min);
    let hi = |k: usize| corners.iter().map(|c| c[k]).fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(&out[..4], &[lo(0), lo(1), hi(0), hi(1)]);
    // Text and block rotations follow the ground: a point 10 m along the old direction lands
    // along the new one (the grid is rotated 1.5° and Gauss-Krüger adds the convergence).
    for (at, angle) in [(7, 10), (11, 14)] {
        let q = dir(input[angle]);
        let p = map(input[at] - q[0], input[at + 1] - q[1]);
        let ahead = map(input[at] + q[0], input[at + 1] + q[1]);
        let seen = (ahead[1] - p[1]).atan2(ahead[0] - p[0]).to_degrees();
        assert!((seen - out[angle]).abs() < 1e-6, "{seen} vs {}", out[angle]);
        assert!((out[angle] - input[angle]).abs() > 1.0, "rotated by the grid's 1.5°");
    }
    // The circle's radius is the distance of its mapped rim from its mapped centre (1 µm).
    let centre = map(input[22], input[23]);
    for q in [[1.0, 0.0], [0.0, 1.0], dir(37.0)] {
        let rim = map(input[22] + 2.5 * q[0], input[23] + 2.5 * q[1]);
        let r = (rim[0] - centre[0]).hypot(rim[1] - centre[1]);
        assert!((r - out[25]).abs() < 1e-6, "{r} vs {}", out[25]);
    }
    // The arc's end points are where the transformer puts the old ones (0.1 mm).
    let c_new = [out[26], out[27]];
    for (old, new) in [(input[30], out[30]), (input[31], out[31])] {
        let q = dir(old);
        let want = map(input[26] + 15.0 * q[0], input[27] + 15.0 * q[1]);
        let q = dir(new);
        let got = [c_new[0] + out[29] * q[0], c_new[1] + out[29] * q[1]];
        assert!((want[0] - got[0]).hypot(want[1] - got[1]) < 1e-4, "{want:?} vs {got:?}");
    }

    // Heights said to be ellipsoidal: the drawing goes to EPSG:4548 and back within 1 mm, 1e-7°
    // and 1 µm of radius (a 2D round trip across a datum shift cannot close: see
    // tests/convert_csv.rs).
    let ellipsoidal = ConvertOptions { heights: Heights::Ellipsoidal, ..Default::default() };
    std::fs::remove_file(&b).unwrap();
    convert(&a, &b, &grid, &target, &ellipsoidal).unwrap();
    convert(&b, &c, &target, &grid, &ellipsoidal).unwrap();
    let back = template.numbers(&std::fs::read(&c).unwrap());
    let there = template.numbers(&std::fs::read(&b).unwrap());
    assert!((there[6] - 43.5).abs() > 1.0, "the height went through the datum shift");
    for (k, (p, q)) in input.iter().zip(&back).enumerate().skip(4) {
        let tolerance = match k {
            10 | 14 | 30 | 31 => 1e-7, // degrees
            25 | 29 => 1e-6,           // radii
            _ => 1e-3,
        };
        assert!((p - q).abs() < tolerance, "slot {k}: {p} came back as {q}");
    }
    // The extents of the way back hold the converted corners (a rotated box grows).
    assert!(back[0] <= input[0] && back[1] <= input[1] && back[2] >= input[2]);
}

#[cfg(feature = "cli")]
#[test]
fn the_cli_converts_a_survey_drawing_with_the_city_crs_file() {
    let scratch = Scratch::new("cli");
    let template = Template::new(&dxf(&cass(), "\r\n"));
    std::fs::write(scratch.path("survey.dxf"), template.fill(&cass_values())).unwrap();
    let city_file = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample/city.toml");
    let (code, stderr) = common::cli::run_in(
        &[
            "convert",
            "--crs-file",
            city_file,
            "--from",
            "city:old-grid",
            "--to",
            "EPSG:4548",
            "survey.dxf",
            "-o",
            "survey_4548.dxf",
        ],
        &scratch.0,
    );
    assert_eq!(code, 0, "{stderr}");
    let out = template.numbers(&std::fs::read(scratch.path("survey_4548.dxf")).unwrap());
    let t = city().transformer("city:old-grid", "EPSG:4548").unwrap();
    assert_eq!((out[4], out[5]), t.transform_xy(E0, N0).unwrap());
}

/// The GDAL-written fixture as a template: the values of its converted pairs (entity points,
/// `$EXTMIN`/`$EXTMAX`, the MTEXT rotation) replaced by slots; everything else literal.
fn gdal_template(bytes: &[u8]) -> (Template, Vec<f64>, Vec<&'static str>) {
    let text = std::str::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    assert_eq!(lines.len() % 2, 0);
    let (mut out, mut values, mut roles) = (String::new(), Vec::new(), Vec::new());
    let (mut section, mut var, mut entity) = ("", "", "");
    for pair in lines.chunks(2) {
        let (code, value) = (pair[0].trim(), pair[1].trim());
        out.push_str(pair[0]);
        let slot = match (section, code) {
            ("HEADER", "10" | "20") if var == "$EXTMIN" || var == "$EXTMAX" => Some("extent"),
            ("ENTITIES", "10" | "20") if entity != "POLYLINE" && value != "0" => Some("point"),
            ("ENTITIES", "30") if entity != "POLYLINE" && value != "0" => Some("z"),
            ("ENTITIES", "50") if entity == "MTEXT" => Some("angle"),
            _ => None,
        };
        match slot {
            Some(role) => {
                values.push(value.parse().unwrap());
                roles.push(role);
                out.push_str(&pair[1].replacen(value, "@", 1));
            }
            None => out.push_str(pair[1]),
        }
        match code {
            "2" if section.is_empty() || section == "?" => section = leak(value),
            "0" if value == "SECTION" => section = "?",
            "0" if value == "ENDSEC" => section = "",
            "0" => entity = leak(value),
            "9" => var = leak(value),
            _ => {}
        }
    }
    (Template::new(out.as_bytes()), values, roles)
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// `tests/data/gdal/cgcs2000.dxf` (GDAL 3.6's DXF writer, its R2004 header template; an MTEXT
/// label, a 3D point, an LWPOLYLINE, a 3D POLYLINE, a HATCH with a hole) converted EPSG:4490 →
/// EPSG:4547: every byte but the converted values is the input's, every point the
/// transformer's (which tests/proj_vectors.rs checks against PROJ; tests/gdal_dxf.rs compares
/// with ogr2ogr itself).
#[test]
fn a_drawing_gdal_wrote_keeps_every_byte_but_its_coordinates() {
    let scratch = Scratch::new("gdal");
    let input = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gdal/cgcs2000.dxf");
    let (template, values, roles) = gdal_template(&std::fs::read(input).unwrap());
    let out_path = scratch.path("out.dxf");
    let report = convert(
        std::path::Path::new(input),
        &out_path,
        &crs("EPSG:4490"),
        &crs("EPSG:4547"),
        &ConvertOptions::default(),
    )
    .unwrap();
    assert_eq!((report.features, report.vertices), (5, 15));
    let out = template.numbers(&std::fs::read(&out_path).unwrap());
    let t = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
    let mut k = 0;
    while k < values.len() {
        match roles[k] {
            "point" => {
                let (x, y) = t.transform_xy(values[k], values[k + 1]).unwrap();
                assert_eq!([out[k], out[k + 1]], [x, y], "slot {k}");
                k += 2;
            }
            "z" => {
                assert_eq!(out[k], values[k]);
                k += 1;
            }
            "angle" => {
                // 30° in the degree plane, through the local Jacobian (degrees → metres is not
                // conformal): the direction of a point 1e-4° along it.
                let q = dir(values[k]);
                let (px, py) = (values[k + 1], values[k + 2]);
                let (x0, y0) = t.transform_xy(px, py).unwrap();
                let (x1, y1) = t.transform_xy(px + 1e-4 * q[0], py + 1e-4 * q[1]).unwrap();
                let seen = (y1 - y0).atan2(x1 - x0).to_degrees();
                assert!((seen - out[k]).abs() < 1e-4, "{seen} vs {}", out[k]);
                k += 1;
            }
            _ => k += 1, // extents: the next test's subject
        }
    }
    assert_eq!(roles.iter().filter(|r| **r == "angle").count(), 1);
}

/// Every supported entity type in one drawing (LF line endings, unpadded codes), converted
/// EPSG:4547 → EPSG:4548 (the neighbouring zone: a real rotation, the convergence difference):
/// each point the transformer's, vectors and angles following the ground, the polyface face
/// record, the POLYLINE's dummy point and everything else unchanged, a `50` added to a text
/// that had none.
#[test]
fn every_entity_type_mirrored_ocs_and_added_rotations() {
    let scratch = Scratch::new("types");
    let (x0, y0) = (440_000.0, 2_500_000.0); // in EPSG:4547 near 113.4E 22.6N
    let pt = |dx: f64, dy: f64| [format!("{}", x0 + dx), format!("{}", y0 + dy)];
    let mut pairs: Vec<(i32, String)> = Vec::new();
    let mut push = |code: i32, v: &str| pairs.push((code, v.to_string()));
    push(0, "SECTION");
    push(2, "ENTITIES");
    let add_point = |push: &mut dyn FnMut(i32, &str), code: i32, dx: f64, dy: f64| {
        let [x, y] = pt(dx, dy);
        push(code, &x);
        push(code + 10, &y);
    };
    // A mirrored arc (extrusion 0,0,-1): OCS x = -world x.
    push(0, "ARC");
    push(5, "A1");
    let [x, y] = pt(100.0, 50.0);
    push(10, &format!("-{x}"));
    push(20, &y);
    push(30, "0");
    push(40, "20");
    push(50, "30");
    push(51, "150");
    push(210, "0");
    push(220, "0");
    push(230, "-1");
    // A text without a rotation.
    push(0, "TEXT");
    push(5, "A2");
    add_point(&mut push, 10, 10.0, 10.0);
    push(40, "2");
    push(1, "门牌");
    push(7, "STANDARD");
    // A 2D POLYLINE at elevation 12 with two VERTEX and a SEQEND.
    push(0, "POLYLINE");
    push(5, "A3");
    push(66, "1");
    push(10, "0");
    push(20, "0");
    push(30, "12");
    push(70, "0");
    for d in [0.0, 30.0] {
        push(0, "VERTEX");
        add_point(&mut push, 10, d, -d);
        push(30, "0");
    }
    push(0, "SEQEND");
    // A polyface mesh: one vertex and one face record (its 10/20/30 are 0 and must stay).
    push(0, "POLYLINE");
    push(5, "A4");
    push(10, "0");
    push(20, "0");
    push(30, "0");
    push(70, "64");
    push(0, "VERTEX");
    add_point(&mut push, 10, 5.0, 5.0);
    push(30, "7");
    push(70, "192");
    push(0, "VERTEX");
    push(10, "0");
    push(20, "0");
    push(30, "0");
    push(70, "128");
    push(71, "1");
    push(0, "SEQEND");
    // An ELLIPSE: major axis 40 m along x (relative to the centre).
    push(0, "ELLIPSE");
    push(5, "A5");
    add_point(&mut push, 10, -50.0, 20.0);
    push(11, "40");
    push(21, "0");
    push(31, "0");
    push(40, "0.5");
    push(41, "0");
    push(42, "6.283185307179586");
    // MTEXT with its x-axis direction.
    push(0, "MTEXT");
    push(5, "A6");
    add_point(&mut push, 10, 0.0, 80.0);
    push(1, "说明");
    push(11, "1");
    push(21, "0");
    push(31, "0");
    // INSERT with an ATTRIB and SEQEND.
    push(0, "INSERT");
    push(5, "A7");
    push(66, "1");
    push(2, "BLK");
    add_point(&mut push, 10, 60.0, 60.0);
    push(50, "90");
    push(0, "ATTRIB");
    push(5, "A8");
    add_point(&mut push, 10, 61.0, 61.0);
    push(40, "1");
    push(1, "17");
    push(50, "0");
    push(2, "NO");
    push(70, "0");
    push(0, "SEQEND");
    // HATCH: a line-edge triangle, an arc-edge path, a seed point.
    push(0, "HATCH");
    push(5, "A9");
    push(10, "0");
    push(20, "0");
    push(30, "0");
    push(210, "0");
    push(220, "0");
    push(230, "1");
    push(2, "SOLID");
    push(70, "1");
    push(71, "0");
    push(91, "2");
    push(92, "1");
    push(93, "3");
    for (a, b) in [((0.0, 0.0), (10.0, 0.0)), ((10.0, 0.0), (0.0, 10.0)), ((0.0, 10.0), (0.0, 0.0))]
    {
        push(72, "1");
        add_point(&mut push, 10, a.0 - 200.0, a.1);
        add_point(&mut push, 11, b.0 - 200.0, b.1);
    }
    push(97, "0");
    push(92, "1");
    push(93, "1");
    push(72, "2");
    add_point(&mut push, 10, -150.0, 0.0);
    push(40, "5");
    push(50, "0");
    push(51, "360");
    push(73, "1");
    push(97, "0");
    push(75, "0");
    push(76, "1");
    push(98, "1");
    add_point(&mut push, 10, -198.0, 2.0);
    // SPLINE, 3DFACE, SOLID, XLINE, LINE.
    push(0, "SPLINE");
    push(5, "AA");
    push(12, "1");
    push(22, "0");
    push(32, "0");
    add_point(&mut push, 10, 0.0, -100.0);
    push(30, "0");
    add_point(&mut push, 10, 10.0, -90.0);
    push(30, "0");
    push(0, "3DFACE");
    push(5, "AB");
    for (k, d) in [0.0, 1.0, 2.0, 3.0].into_iter().enumerate() {
        add_point(&mut push, 10 + k as i32, d, -d);
        push(30 + k as i32, "1.5");
    }
    push(0, "SOLID");
    push(5, "AC");
    for k in 0..4 {
        add_point(&mut push, 10 + k, 3.0 * k as f64, 1.0);
    }
    push(0, "XLINE");
    push(5, "AD");
    add_point(&mut push, 10, 1.0, 1.0);
    push(11, "0");
    push(21, "1");
    push(31, "0");
    push(0, "LINE");
    push(5, "AE");
    add_point(&mut push, 10, 0.0, 0.0);
    add_point(&mut push, 11, 100.0, 100.0);
    push(0, "ENDSEC");
    push(0, "EOF");
    let doc: Vec<u8> = pairs.iter().flat_map(|(c, v)| format!("{c}\n{v}\n").into_bytes()).collect();
    let a = scratch.write("a.dxf", &doc);
    let b = scratch.path("b.dxf");
    let report =
        convert(&a, &b, &crs("EPSG:4547"), &crs("EPSG:4548"), &ConvertOptions::default()).unwrap();
    assert_eq!(report.features, 13, "{report:?}");
    let out = read_pairs(&std::fs::read(&b).unwrap());
    let t = Transformer::from_ids("EPSG:4547", "EPSG:4548").unwrap();
    let map = |x: f64, y: f64| -> [f64; 2] {
        let (x, y) = t.transform_xy(x, y).unwrap();
        [x, y]
    };
    let num = |s: &str| s.parse::<f64>().unwrap();
    // The output has the input's pairs but one added `50`, after the TEXT's string.
    let text_at = out.iter().position(|p| p.1 == "门牌").unwrap();
    assert_eq!(out[text_at + 1].0, 50);
    let mut theirs = out.clone();
    theirs.remove(text_at + 1);
    assert_eq!(theirs.len(), pairs.len());
    let mut entity = String::new();
    let mut hatch_elevation_seen = false;
    for (i, ((code, old), (code2, new))) in pairs.iter().zip(&theirs).enumerate() {
        assert_eq!(code, code2);
        if *code == 0 {
            entity = old.clone();
        }
        let next_y = || (num(&pairs[i + 1].1), num(&theirs[i + 1].1));
        match (entity.as_str(), code) {
            ("POLYLINE", 10 | 20 | 30) | ("LINE" | "SPLINE", 30) => assert_eq!(old, new),
            ("VERTEX", 10) if old == "0" => assert_eq!(new, "0"), // the face record
            ("HATCH", 10) if !hatch_elevation_seen => {
                hatch_elevation_seen = true;
                assert_eq!(old, new);
            }
            ("ARC", 10) => {
                // Mirrored OCS: world x = -OCS x.
                let (y, y2) = next_y();
                assert_eq!([-num(new), y2], map(-num(old), y));
            }
            (_, 10..=13)
                if !["MTEXT", "XLINE", "ELLIPSE", "SPLINE"].contains(&entity.as_str())
                    || *code == 10 =>
            {
                let (y, y2) = next_y();
                assert_eq!([num(new), y2], map(num(old), y), "{entity} {code} at pair {i}");
            }
            (_, 30..=33) | (_, 38) => assert_eq!(old, new, "heights copied"),
            _ => {}
        }
    }
    let find = |e: &str, code: i32| -> f64 {
        let at = theirs.iter().position(|p| p.1 == e).unwrap();
        num(&theirs[at..].iter().find(|p| p.0 == code).unwrap().1)
    };
    let find_in = |e: &str, code: i32| -> f64 {
        let at = pairs.iter().position(|p| p.1 == e).unwrap();
        num(&pairs[at..].iter().find(|p| p.0 == code).unwrap().1)
    };
    // The ground direction of the local x axis, through the transformer.
    let ground = |x: f64, y: f64, q: [f64; 2]| -> f64 {
        let (p, r) = (map(x - q[0], y - q[1]), map(x + q[0], y + q[1]));
        (r[1] - p[1]).atan2(r[0] - p[0]).to_degrees()
    };
    let rot = ground(x0 + 10.0, y0 + 10.0, [1.0, 0.0]);
    assert!(rot.abs() > 0.5, "zone 38 → 39 turns the grid by the convergence: {rot}°");
    assert!((out[text_at + 1].1.parse::<f64>().unwrap() - rot.rem_euclid(360.0)).abs() < 1e-6);
    // The mirrored arc's end points land where the transformer puts the old ones (0.1 mm).
    let (cx, cy, r) = (-find_in("A1", 10), find_in("A1", 20), 20.0);
    let (ncx, ncy, nr) = (-find("A1", 10), find("A1", 20), find("A1", 40));
    for (old, new) in [(find_in("A1", 50), find("A1", 50)), (find_in("A1", 51), find("A1", 51))] {
        // OCS angle θ is world angle 180° − θ.
        let q = dir(180.0 - old);
        let want = map(cx + r * q[0], cy + r * q[1]);
        let q = dir(180.0 - new);
        let got = [ncx + nr * q[0], ncy + nr * q[1]];
        assert!((want[0] - got[0]).hypot(want[1] - got[1]) < 1e-4, "{want:?} vs {got:?}");
    }
    // The ellipse's major axis end point follows the ground (0.1 mm over 40 m).
    let (ex, ey) = (find_in("A5", 10), find_in("A5", 20));
    let want = map(ex + 40.0, ey);
    let got = [find("A5", 10) + find("A5", 11), find("A5", 20) + find("A5", 21)];
    assert!((want[0] - got[0]).hypot(want[1] - got[1]) < 1e-4, "{want:?} vs {got:?}");
    // MTEXT, XLINE and SPLINE directions: rotated, unit length kept.
    for (e, code, q) in [("A6", 11, [1.0, 0.0]), ("AD", 11, [0.0, 1.0]), ("AA", 12, [1.0, 0.0])] {
        let (vx, vy) = (find(e, code), find(e, code + 10));
        assert!((vx.hypot(vy) - 1.0).abs() < 1e-12);
        let at = (find_in(e, 10), find_in(e, 20));
        assert!((vy.atan2(vx).to_degrees() - ground(at.0, at.1, q)).abs() < 1e-6, "{e}");
    }
    // INSERT 90° + the rotation; its ATTRIB 0° + the rotation.
    assert!((find("A7", 50) - ground(x0 + 60.0, y0 + 60.0, [0.0, 1.0])).abs() < 1e-6);
    assert!(
        (find("A8", 50) - ground(x0 + 61.0, y0 + 61.0, [1.0, 0.0]).rem_euclid(360.0)).abs() < 1e-6
    );
    // The hatch's arc edge: a full circle, radius scaled, centre mapped.
    let k = {
        let (p, r) = (map(x0 - 152.5, y0), map(x0 - 147.5, y0));
        (r[0] - p[0]).hypot(r[1] - p[1]) / 5.0
    };
    assert!((find("A9", 40) - 5.0 * k).abs() < 1e-8);
}

/// The pairs of a DXF document (LF).
fn read_pairs(bytes: &[u8]) -> Vec<(i32, String)> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    lines.chunks(2).map(|p| (p[0].trim().parse().unwrap(), p[1].to_string())).collect()
}

/// A drawing with entities that cannot be converted: each is a failure naming its line, type
/// and handle; nothing is written. With `skip_invalid` they are left out and listed; the paper
/// space entity is copied.
#[test]
fn refused_entities_fail_with_their_line_and_handle_or_are_left_out() {
    let scratch = Scratch::new("refused");
    let doc = dxf(
        &[
            (0, "SECTION"),
            (2, "ENTITIES"),
            (0, "LINE"),
            (5, "10"),
            (10, "440000"),
            (20, "2500000"),
            (11, "440010"),
            (21, "2500010"),
            (0, "DIMENSION"), // line 17
            (5, "2F"),
            (2, "*D1"),
            (10, "440000"),
            (20, "2500000"),
            (0, "CIRCLE"), // line 27
            (5, "30"),
            (10, "1"),
            (20, "2"),
            (40, "1"),
            (210, "0.6"),
            (220, "0"),
            (230, "0.8"),
            (0, "HATCH"), // line 43
            (5, "31"),
            (91, "1"),
            (92, "1"),
            (93, "1"),
            (72, "4"),
            (0, "LINE"),
            (5, "32"),
            (67, "1"),
            (10, "5"),
            (20, "5"),
            (11, "6"),
            (21, "6"),
            (0, "ENDSEC"),
            (0, "EOF"),
        ],
        "\n",
    );
    let a = scratch.write("a.dxf", &doc);
    let b = scratch.path("b.dxf");
    let (from, to) = (crs("EPSG:4547"), crs("EPSG:4548"));
    let err = convert(&a, &b, &from, &to, &ConvertOptions::default()).unwrap_err();
    let ConvertError::PointsFailed { failures, total, .. } = &err else { panic!("{err}") };
    assert_eq!(*total, 3);
    assert_eq!(failures[0].location, "line 17, DIMENSION handle 2F");
    assert!(failures[0].reason.contains("anonymous block"), "{}", failures[0].reason);
    assert_eq!(failures[1].location, "line 27, CIRCLE handle 30");
    assert!(failures[1].reason.contains("plane of extrusion (0.6, 0, 0.8)"));
    assert_eq!(failures[2].location, "line 43, HATCH handle 31");
    assert!(failures[2].reason.contains("spline edges"));
    assert_eq!(scratch.listing(), ["a.dxf"], "nothing written");

    let skipping = ConvertOptions { skip_invalid: true, ..Default::default() };
    let report = convert(&a, &b, &from, &to, &skipping).unwrap();
    assert_eq!((report.features, report.written, report.empty), (5, 2, 1));
    assert_eq!(report.skipped.len(), 3);
    assert!(report.warnings.iter().any(|w| w.contains("1 paper-space entities")), "{report:?}");
    let out = String::from_utf8(std::fs::read(&b).unwrap()).unwrap();
    assert!(!out.contains("DIMENSION") && !out.contains("HATCH") && !out.contains("CIRCLE"));
    assert!(out.contains("  5\n32\n 67\n1\n 10\n5\n 20\n5\n 11\n6\n 21\n6\n"), "paper space kept");

    // A circle into degrees: the map is not conformal there, so the circle is refused.
    let doc = dxf(
        &[
            (0, "SECTION"),
            (2, "ENTITIES"),
            (0, "CIRCLE"),
            (5, "1"),
            (10, "440000"),
            (20, "2500000"),
            (40, "5"),
            (0, "ENDSEC"),
            (0, "EOF"),
        ],
        "\n",
    );
    let a = scratch.write("c.dxf", &doc);
    let err = convert(&a, &scratch.path("d.dxf"), &from, &crs("EPSG:4490"), &Default::default())
        .unwrap_err();
    let ConvertError::PointsFailed { failures, .. } = &err else { panic!("{err}") };
    assert!(failures[0].reason.contains("not conformal"), "{}", failures[0].reason);
}

/// Malformed and foreign files: a clear error with the line; nothing written.
#[test]
fn malformed_binary_and_empty_files_are_refused_with_the_line() {
    let scratch = Scratch::new("malformed");
    let head = "  0\nSECTION\n  2\nENTITIES\n  0\nLINE\n";
    let cases: &[(&str, &[u8], &str, &str)] = &[
        ("empty", b"", "line 1", "empty"),
        ("odd", format!("{head} 10\n").as_bytes().to_vec().leak(), "line 7", "odd number"),
        (
            "letters",
            format!("{head} 10\nabc\n 20\n1\n  0\nENDSEC\n  0\nEOF\n").as_bytes().to_vec().leak(),
            "line 8",
            "value 'abc' is not a number",
        ),
        (
            "no-y",
            format!("{head} 10\n1\n 30\n1\n  0\nENDSEC\n  0\nEOF\n").as_bytes().to_vec().leak(),
            "line 7",
            "not followed by group 20",
        ),
        (
            "truncated",
            format!("{head} 10\n1\n 20\n2\n").as_bytes().to_vec().leak(),
            "line 11",
            "not closed",
        ),
        ("no-eof", b"  0\nSECTION\n  2\nHEADER\n  0\nENDSEC\n", "line 7", "without 0/EOF"),
        ("code", b"  0\nSECTION\n  x\nHEADER\n", "line 3", "not an integer"),
        ("binary", b"AutoCAD Binary DXF\r\n\x1a\x00\x00\x00", "line 1", "binary DXF"),
        ("dwg", b"AC1032\x00\x00\x00\x00", "line 1", "a DWG drawing"),
        ("top", b"  0\nLINE\n", "line 1", "expected 0/SECTION"),
        (
            "long",
            [&b"  0\nSECTION\n  2\n"[..], &vec![b'A'; 2 << 20]].concat().leak(),
            "line 4",
            "a line longer than 1 MiB",
        ),
    ];
    let (from, to) = (crs("EPSG:4547"), crs("EPSG:4548"));
    for (name, bytes, line, message) in cases {
        let input = scratch.write(&format!("{name}.dxf"), bytes);
        let output = scratch.path(&format!("{name}-out.dxf"));
        let options = ConvertOptions { force: true, ..Default::default() };
        let err = convert(&input, &output, &from, &to, &options).unwrap_err();
        let ConvertError::Malformed { location, message: m, .. } = &err else {
            panic!("{name}: {err}")
        };
        assert_eq!(location, line, "{name}: {err}");
        assert!(m.contains(message), "{name}: {err}");
        assert!(!output.exists(), "{name}: nothing written");
    }
    assert!(scratch.listing().iter().all(|n| !n.contains("-out")), "{:?}", scratch.listing());
    // A .dwg is refused by its name.
    let dwg = scratch.write("a.dwg", b"AC1032");
    let err = convert(&dwg, &scratch.path("b.dwg"), &from, &to, &Default::default()).unwrap_err();
    assert!(err.to_string().contains("DWG is not supported"), "{err}");
}

/// A drawing of several chunks (5 MiB of POLYLINE/VERTEX/SEQEND groups, which chunks must not
/// split): every vertex the transformer's, every other byte kept; parallel and sequential
/// conversions write the same bytes.
#[test]
fn a_drawing_of_several_chunks_converts_every_vertex_in_order() {
    let scratch = Scratch::new("chunks");
    let group = dxf(
        &[
            (0, "POLYLINE"),
            (8, "等高线"),
            (66, "1"),
            (10, "0"),
            (20, "0"),
            (30, "0"),
            (70, "8"),
            (0, "VERTEX"),
            (10, "@"),
            (20, "@"),
            (30, "12.5"),
            (70, "32"),
            (0, "VERTEX"),
            (10, "@"),
            (20, "@"),
            (30, "13"),
            (70, "32"),
            (0, "SEQEND"),
        ],
        "\n",
    );
    let n = 5 * (1 << 20) / group.len() + 1;
    let mut doc = dxf(&[(0, "SECTION"), (2, "ENTITIES")], "\n");
    for _ in 0..n {
        doc.extend_from_slice(&group);
    }
    doc.extend(dxf(&[(0, "ENDSEC"), (0, "EOF")], "\n"));
    let template = Template::new(&doc);
    let values: Vec<f64> = (0..template.slots())
        .map(|i| if i % 2 == 0 { 440_000.0 + i as f64 } else { 2_500_000.0 + i as f64 })
        .collect();
    let a = scratch.write("a.dxf", template.fill(&values));
    let (b, c) = (scratch.path("b.dxf"), scratch.path("c.dxf"));
    let (from, to) = (crs("EPSG:4547"), crs("EPSG:4548"));
    let report = convert(&a, &b, &from, &to, &ConvertOptions::default()).unwrap();
    assert_eq!((report.features, report.vertices), (n as u64, 2 * n as u64));
    let sequential = ConvertOptions { parallel: false, ..Default::default() };
    convert(&a, &c, &from, &to, &sequential).unwrap();
    let out = std::fs::read(&b).unwrap();
    assert!(out == std::fs::read(&c).unwrap(), "parallel and sequential outputs differ");
    let numbers = template.numbers(&out);
    let t = Transformer::new(&from, &to).unwrap();
    for (p, q) in values.chunks(2).zip(numbers.chunks(2)) {
        let (x, y) = t.transform_xy(p[0], p[1]).unwrap();
        assert_eq!([x, y], q);
    }
}

/// `$INSBASE` away from the origin is converted as a point; an empty drawing's extents
/// (1e20, -1e20) are kept as written.
#[test]
fn header_insertion_base_is_converted_and_empty_extents_kept() {
    let scratch = Scratch::new("header");
    let template = Template::new(&dxf(
        &[
            (0, "SECTION"),
            (2, "HEADER"),
            (9, "$INSBASE"),
            (10, "@"),
            (20, "@"),
            (30, "7.5"),
            (9, "$EXTMIN"),
            (10, "1.000000000000000E+20"),
            (20, "1.000000000000000E+20"),
            (30, "1.000000000000000E+20"),
            (9, "$EXTMAX"),
            (10, "-1.000000000000000E+20"),
            (20, "-1.000000000000000E+20"),
            (30, "-1.000000000000000E+20"),
            (0, "ENDSEC"),
            (0, "SECTION"),
            (2, "ENTITIES"),
            (0, "MTEXT"),
            (10, "440000"),
            (20, "2500000"),
            (1, "x"),
            (101, "Embedded Object"),
            (10, "1"),
            (20, "0"),
            (0, "ENDSEC"),
            (0, "EOF"),
        ],
        "\r\n",
    ));
    let a = scratch.write("a.dxf", template.fill(&[440_100.0, 2_500_200.0]));
    let b = scratch.path("b.dxf");
    let (from, to) = (crs("EPSG:4547"), crs("EPSG:4548"));
    let skipping = ConvertOptions { skip_invalid: true, ..Default::default() };
    let report = convert(&a, &b, &from, &to, &skipping).unwrap();
    assert!(report.skipped[0].reason.contains("embedded object"), "{report:?}");
    let out = std::fs::read(&b).unwrap();
    let expected = Template::new(&dxf(
        &[
            (0, "SECTION"),
            (2, "HEADER"),
            (9, "$INSBASE"),
            (10, "@"),
            (20, "@"),
            (30, "7.5"),
            (9, "$EXTMIN"),
            (10, "1.000000000000000E+20"),
            (20, "1.000000000000000E+20"),
            (30, "1.000000000000000E+20"),
            (9, "$EXTMAX"),
            (10, "-1.000000000000000E+20"),
            (20, "-1.000000000000000E+20"),
            (30, "-1.000000000000000E+20"),
            (0, "ENDSEC"),
            (0, "SECTION"),
            (2, "ENTITIES"),
            (0, "ENDSEC"),
            (0, "EOF"),
        ],
        "\r\n",
    ));
    let base = expected.numbers(&out);
    let t = Transformer::new(&from, &to).unwrap();
    assert_eq!((base[0], base[1]), t.transform_xy(440_100.0, 2_500_200.0).unwrap());
}

#[test]
fn a_drawing_with_a_byte_order_mark_passes_the_sanity_check_and_keeps_the_mark() {
    // The sanity check's sample reads the file before the conversion: it must pass over a
    // UTF-8 byte-order mark as the conversion does (it read "\u{feff}0" as a group code).
    let scratch = Scratch::new("bom");
    let body = dxf(
        &[
            (0, "SECTION"),
            (2, "ENTITIES"),
            (0, "POINT"),
            (10, "440000"),
            (20, "2500000"),
            (0, "ENDSEC"),
            (0, "EOF"),
        ],
        "\n",
    );
    let a = scratch.write("a.dxf", [b"\xEF\xBB\xBF".as_slice(), &body].concat());
    let b = scratch.path("b.dxf");
    let (from, to) = (crs("EPSG:4547"), crs("EPSG:4548"));
    let report = convert(&a, &b, &from, &to, &ConvertOptions::default()).unwrap();
    assert_eq!((report.features, report.vertices), (1, 1));
    let out = std::fs::read(&b).unwrap();
    assert!(out.starts_with(b"\xEF\xBB\xBF  0\nSECTION\n"), "{:?}", &out[..20]);
    let t = Transformer::new(&from, &to).unwrap();
    let (x, y) = t.transform_xy(440_000.0, 2_500_000.0).unwrap();
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains(&format!(" 10\n{}\n 20\n{}\n", text::Number(x), text::Number(y))),
        "{text}"
    );
}
