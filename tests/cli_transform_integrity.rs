//! `geounify transform` never converts silently wrong or dies (issue 11, items 3 and 6): the
//! sanity check on the first lines with `--force`, `--axis-order north_east`, `--precision`,
//! the 64 MiB line cap, and very long CRS ids in `crs list`, `crs info`, `estimate`,
//! `transform` and `convert`.

mod common;

use common::cli::{run, run_with, Run};
use common::scratch::Scratch;
use std::io::Write;

fn transform(from: &str, to: &str, extra: &[&str], input: &[u8]) -> Run {
    let mut args = vec!["transform", "--from", from, "--to", to];
    args.extend_from_slice(extra);
    run(&args, input)
}

// ---------------------------------------------------------------------------------------------
// Very long and multi-byte CRS ids

/// A CRS file with one geographic CRS on CGCS2000 with id `id` (and the name `name`).
fn crs_file_with_id(scratch: &Scratch, id: &str, name: &str) -> String {
    let toml = format!("[[crs]]\nid = \"{id}\"\nname = \"{name}\"\ndatum = \"CGCS2000\"\n");
    scratch.write("long.toml", toml).to_str().unwrap().to_string()
}

/// `crs list` with a 65,536-character id (ASCII, and 3-byte UTF-8) panicked ("Formatting
/// argument out of range": the id column width went into a `format!` width, limited to 65,535).
/// Now: exit 0, the id written whole, the catalogue's lines laid out exactly as without it.
#[test]
fn crs_list_with_a_65536_character_id() {
    let scratch = Scratch::new("long-id-list");
    let plain = run(&["crs", "list"], b"");
    assert_eq!((plain.code, plain.stderr.as_str()), (0, ""));
    let plain = plain.stdout_text();
    assert!(plain.starts_with("EPSG:4326   WGS 84  [aliases: WGS84, WGS 84]\n"), "{plain}");
    for long in ["a".repeat(65_536), "城".repeat(65_536)] {
        let file = crs_file_with_id(&scratch, &long, "Long");
        let r = run(&["--crs-file", &file, "crs", "list"], b"");
        assert_eq!((r.code, r.stderr.as_str()), (0, ""));
        let out = r.stdout_text();
        assert_eq!(out, format!("{plain}{long}  Long\n"));
    }
}

/// Multi-byte ids are aligned by terminal columns (a CJK character counts two), not by bytes:
/// before the fix the column was padded to the id's byte length.
#[test]
fn crs_list_aligns_chinese_ids_by_columns() {
    let scratch = Scratch::new("cjk-id-list");
    // 城市:旧网格: 5 wide characters and a colon, 11 columns (16 bytes); catalogue ids are at
    // most 10 characters wide.
    let file = crs_file_with_id(&scratch, "城市:旧网格", "Old grid");
    let r = run(&["--crs-file", &file, "crs", "list"], b"");
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let out = r.stdout_text();
    assert!(out.starts_with("EPSG:4326    WGS 84  [aliases: WGS84, WGS 84]\n"), "{out}");
    assert!(out.ends_with("\n城市:旧网格  Old grid\n"), "{out}");
}

/// `estimate` with a 65,536-character point id panicked the same way (the residual table's id
/// column); now the table is printed, the long id whole in its own row.
#[test]
fn estimate_with_a_65536_character_point_id() {
    for long in ["p".repeat(65_536), "点".repeat(65_536)] {
        let scratch = Scratch::new("long-id-estimate");
        let points = format!(
            "id,x1,y1,x2,y2\n{long},0,0,10,20\np2,100,0,110,20\np3,0,100,10,120\n\
             p4,100,100,110,120\n"
        );
        let path = scratch.write("points.csv", points);
        let r = run(&["estimate", "--model", "helmert4", path.to_str().unwrap()], b"");
        assert_eq!(r.code, 0, "{}", r.stderr);
        let out = r.stdout_text();
        assert!(out.contains("\n  id        dE        dN      norm       w  status\n"), "{out}");
        assert!(out.contains(&format!("\n  {long}    0.0000    0.0000    0.0000")), "{out}");
        assert!(out.contains("\n  p2    0.0000    0.0000    0.0000"), "{out}");
    }
}

/// `crs info`, `transform --from` and `convert --from` with the long id work (they did not
/// panic before either: kept as a regression check). The multi-byte id is 40,000 characters
/// (120,000 bytes): Linux refuses a single argument over 128 KiB before geounify starts.
#[test]
fn crs_info_transform_and_convert_with_a_65536_character_id() {
    let scratch = Scratch::new("long-id-others");
    for long in ["a".repeat(65_536), "城".repeat(40_000)] {
        let file = crs_file_with_id(&scratch, &long, "Long");
        let r = run(&["--crs-file", &file, "crs", "info", &long], b"");
        assert_eq!((r.code, r.stderr.as_str()), (0, ""));
        assert!(r.stdout_text().starts_with(&format!("id:          {long}\nname:        Long\n")));
        let r = run(
            &["--crs-file", &file, "transform", "--from", &long, "--to", "EPSG:4490"],
            b"116.404 39.915\n",
        );
        assert_eq!(
            (r.code, r.stdout_text().as_str(), r.stderr.as_str()),
            (0, "116.404 39.915\n", "")
        );
        let input = scratch.write("in.csv", "lon,lat\n116.404,39.915\n");
        let output = scratch.path("out.csv");
        let r = run(
            &[
                "--crs-file",
                &file,
                "convert",
                "--from",
                &long,
                "--to",
                "EPSG:4490",
                input.to_str().unwrap(),
                "-o",
                output.to_str().unwrap(),
            ],
            b"",
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(std::fs::read_to_string(&output).unwrap(), "lon,lat\n116.404,39.915\n");
    }
}

// ---------------------------------------------------------------------------------------------
// The sanity check of `transform`, and --force

/// Survey-ordered points (X = northing, Y = easting) near Beijing, CGCS2000 / CM 117E.
const SURVEY: &[u8] = b"# X Y H name\n4418598.0 448688.9 50 a\n4420000 450000 b\n";
/// The same points in the default order (easting, northing).
const EAST_NORTH: &[u8] = b"# X Y H name\n448688.9 4418598.0 50 a\n450000 4420000 b\n";

/// Each kind of implausible input is refused before anything is written: exit 2, empty stdout,
/// the reason and the remedy on stderr. Before: converted silently (exit 0, metres or
/// kilometres off, or nonsense).
#[test]
fn implausible_first_lines_are_refused_with_exit_2_and_no_output() {
    let cases: [(&str, &[u8], &str); 6] = [
        (
            "EPSG:4548",
            SURVEY,
            "geounify: standard input: x holds northings and y eastings (typical x 4420000, y \
             450000): easting and northing look swapped (survey tables write X = north, Y = \
             east) (checked: the first 2 coordinate lines); nothing converted: the lines fit \
             EPSG:4548 with --axis-order north_east (first number northing or latitude): use \
             it, or use --force to convert anyway\n",
        ),
        (
            "EPSG:4548",
            b"39448688.9 4418598.0\n",
            "geounify: standard input: eastings carry a zone prefix (39) but EPSG:4548 has none \
             (typical x 39448688.9); values look like CGCS2000 / 3-degree Gauss-Kruger zone 39 \
             (EPSG:4527) (checked: the first coordinate line); nothing converted: use --force \
             to convert anyway\n",
        ),
        (
            "EPSG:4527",
            b"448688.9 4418598.0\n",
            "geounify: standard input: eastings lack the zone prefix (39) that EPSG:4527 expects \
             (typical x 448688.9); values look like CGCS2000 / 3-degree Gauss-Kruger CM 117E \
             (EPSG:4548) (checked: the first coordinate line); nothing converted: use --force \
             to convert anyway\n",
        ),
        (
            "EPSG:4548",
            b"116.4 39.9\n",
            "geounify: standard input: values look like degrees (typical x 116.4, y 39.9), but \
             EPSG:4548 is in metres; values look like longitude, latitude: declare a geographic \
             CRS (checked: the first coordinate line); nothing converted: use --force to \
             convert anyway\n",
        ),
        (
            "EPSG:4490",
            b"39.9 116.4 Beijing\n31.2 121.5 Shanghai\n",
            "geounify: standard input: x holds latitudes and y longitudes (typical x 39.9, y \
             121.5): latitude and longitude look swapped (checked: the first 2 coordinate \
             lines); nothing converted: the lines fit EPSG:4490 with --axis-order north_east \
             (first number northing or latitude): use it, or use --force to convert anyway\n",
        ),
        (
            "GCJ02",
            b"2.35 48.85 Paris\n",
            "geounify: standard input: 1 of 1 sampled points lie more than 2\u{b0} outside the \
             area of use of GCJ02 (China: the box in which the GCJ-02 offset is applied: \
             longitude 72.004\u{2013}137.8347, latitude 0.8293\u{2013}55.8271) (checked: the \
             first coordinate line); nothing converted: use --force to convert anyway\n",
        ),
    ];
    for (from, input, expected) in cases {
        let r = transform(from, "EPSG:4490", &[], input);
        assert_eq!(r.stderr, expected, "{from}");
        assert_eq!(r.code, 2, "{from}");
        assert!(r.stdout.is_empty(), "{from}: {:?}", r.stdout_text());
    }
}

/// --axis-order north_east with east-north data: refused, pointing back to the default order.
#[test]
fn north_east_declared_for_east_north_data_is_refused() {
    let r = transform("EPSG:4548", "EPSG:4490", &["--axis-order", "north_east"], EAST_NORTH);
    assert_eq!(
        r.stderr,
        "geounify: standard input (read with --axis-order north_east; below, x = easting or \
         longitude): x holds northings and y eastings (typical x 4420000, y 450000): easting \
         and northing look swapped (survey tables write X = north, Y = east) (checked: the \
         first 2 coordinate lines); nothing converted: the lines fit EPSG:4548 in the default \
         axis order east_north (first number easting or longitude): leave out --axis-order \
         north_east, or use --force to convert anyway\n"
    );
    assert_eq!((r.code, r.stdout.len()), (2, 0));
}

/// --force converts the refused lines exactly as the library does (the check changes nothing
/// else).
#[test]
fn force_converts_anyway() {
    let t = geounify::Transformer::from_ids("EPSG:4548", "EPSG:4490").unwrap();
    let show = |v: f64| geounify::convert::text::Number(v).to_string();
    let [x, y, z] = t.transform([4_418_598.0, 448_688.9, 50.0]).unwrap();
    let (x2, y2) = t.transform_xy(4_420_000.0, 450_000.0).unwrap();
    let expected = format!(
        "# X Y H name\n{} {} {} a\n{} {} b\n",
        show(x),
        show(y),
        show(z),
        show(x2),
        show(y2)
    );
    let r = transform("EPSG:4548", "EPSG:4490", &["--force"], SURVEY);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(r.stdout_text(), expected);
}

/// The check sees the first 1000 coordinate lines (comments, blank and unreadable lines do not
/// count) and needs more than half of them to show a problem: 500 swapped lines of 1000 pass,
/// 501 do not; lines after the first 1000 are not checked.
#[test]
fn the_check_needs_a_majority_of_the_first_1000_coordinate_lines() {
    let good = "448688.9 4418598.0\n";
    let swapped = "4418598.0 448688.9\n";
    let text = |swapped_lines: usize, then: &str| {
        let mut t = String::from("# header\n\nnot a point\n");
        t.push_str(&swapped.repeat(swapped_lines));
        t.push_str(&good.repeat(1000 - swapped_lines));
        t.push_str(&then.repeat(3000));
        t
    };
    let r = transform("EPSG:4548", "EPSG:4490", &[], text(500, swapped).as_bytes());
    assert_eq!(r.code, 1, "{}", r.stderr); // only the unreadable line 3 failed
    assert_eq!(
        r.stderr,
        "line 3: x 'not' is not a number\ngeounify: 1 line could not be converted\n"
    );
    assert_eq!(r.stdout_text().lines().count(), 4003);
    let r = transform("EPSG:4548", "EPSG:4490", &[], text(501, good).as_bytes());
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("easting and northing look swapped")
            && r.stderr.contains("(checked: the first 1000 coordinate lines)"),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// --axis-order north_east

/// A survey-ordered file converts to the same points as the same file in east-north order:
/// each output line is the other's with its first two numbers swapped (latitude first for the
/// geographic target), text and z kept. Before: the option did not exist (exit 2).
#[test]
fn survey_order_converts_to_the_same_points_as_the_swapped_file() {
    let ne = transform("EPSG:4548", "EPSG:4490", &["--axis-order", "north_east"], SURVEY);
    assert_eq!((ne.code, ne.stderr.as_str()), (0, ""));
    let en = transform("EPSG:4548", "EPSG:4490", &[], EAST_NORTH);
    assert_eq!((en.code, en.stderr.as_str()), (0, ""));
    let swap_first_two = |text: &str| -> String {
        text.split_inclusive('\n')
            .map(|line| {
                if line.starts_with('#') {
                    return line.to_string();
                }
                let (a, rest) = line.split_once(' ').unwrap();
                let (b, rest) = rest.split_once(' ').unwrap();
                format!("{b} {a} {rest}")
            })
            .collect()
    };
    assert_eq!(ne.stdout_text(), swap_first_two(&en.stdout_text()));
    assert!(ne.stdout_text().starts_with("# X Y H name\n39.89999999"), "{}", ne.stdout_text());
}

/// north_east both ways (projected → geographic → projected) gives the survey numbers back
/// within 1e-6 m; geographic → geographic in latitude-longitude order reproduces the published
/// GCJ-02 vector (WGS84 39.915 N 116.404 E → GCJ-02 39.91640428150164, 116.41024449916938).
#[test]
fn north_east_round_trip_and_latitude_first_for_degrees() {
    let ne = ["--axis-order", "north_east"];
    let there = transform("EPSG:4548", "EPSG:4490", &ne, SURVEY);
    assert_eq!((there.code, there.stderr.as_str()), (0, ""));
    let back = transform("EPSG:4490", "EPSG:4548", &ne, &there.stdout);
    assert_eq!((back.code, back.stderr.as_str()), (0, ""));
    let original = String::from_utf8(SURVEY.to_vec()).unwrap();
    for (a, b) in original.lines().zip(back.stdout_text().lines()).skip(1) {
        let num =
            |l: &str| -> Vec<f64> { l.split_whitespace().map_while(|t| t.parse().ok()).collect() };
        let (va, vb) = (num(a), num(b));
        assert_eq!(va.len(), vb.len());
        assert!((va[0] - vb[0]).abs() < 1e-6 && (va[1] - vb[1]).abs() < 1e-6, "{a} / {b}");
        assert_eq!(a.split_whitespace().last(), b.split_whitespace().last());
    }
    let r = transform("EPSG:4326", "GCJ02", &ne, b"39.915 116.404 Tian'anmen\n");
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let out = r.stdout_text();
    let v: Vec<f64> = out.split_whitespace().take(2).map(|t| t.parse().unwrap()).collect();
    assert!((v[0] - 39.91640428150164).abs() < 1e-9, "{out}");
    assert!((v[1] - 116.41024449916938).abs() < 1e-9, "{out}");
    assert!(out.ends_with(" Tian'anmen\n"));
}

// ---------------------------------------------------------------------------------------------
// --precision

/// N decimals for metres, N + 6 for degrees, z in metres; zero without a sign; comments and
/// failed lines untouched. Before: the option did not exist (exit 2).
#[test]
fn precision_writes_fixed_decimals_by_unit() {
    let input = b"# Beijing\n116.4 39.9 50 name\n116.4 95 north of the pole\r\n121.5 31.2";
    let r = transform("EPSG:4490", "EPSG:4548", &["--precision", "3", "--force"], input);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout_text(),
        "# Beijing\n448688.856 4418598.001 50.000 name\n# error: 116.4 95 north of the pole\r\n\
         929075.361 3461888.369"
    );
    let r = transform("EPSG:4490", "EPSG:4548", &["--precision", "0"], b"116.4 39.9 50 name\n");
    assert_eq!((r.code, r.stdout_text().as_str()), (0, "448689 4418598 50 name\n"));
    // Degrees: 3 + 6 = 9 decimals; z metres: 3.
    let r = transform(
        "EPSG:4548",
        "EPSG:4490",
        &["--precision", "3"],
        b"448688.856 4418598.001 50 name\n",
    );
    assert_eq!((r.code, r.stdout_text().as_str()), (0, "116.400000003 39.899999998 50.000 name\n"));
    // Rounding of the exact value; -0.0004 m to 3 decimals is written 0.000, not -0.000.
    let r = transform(
        "EPSG:4326",
        "EPSG:4490",
        &["--precision", "3"],
        b"116.4040004999 39.9150005 -0.0004 name\n",
    );
    assert_eq!((r.code, r.stdout_text().as_str()), (0, "116.404000500 39.915000500 0.000 name\n"));
    // With north_east: the same numbers, latitude first.
    let r = transform(
        "EPSG:4548",
        "EPSG:4490",
        &["--precision", "3", "--axis-order", "north_east"],
        b"4418598.001 448688.856 50 name\n",
    );
    assert_eq!((r.code, r.stdout_text().as_str()), (0, "39.899999998 116.400000003 50.000 name\n"));
    // Out of range: a usage error before reading anything.
    let r = transform("EPSG:4490", "EPSG:4548", &["--precision", "13"], b"116.4 39.9\n");
    assert_eq!((r.code, r.stdout.len()), (2, 0));
    assert!(r.stderr.contains("13 is not in 0..=12"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------------------------
// The 64 MiB line cap

const MIB64: usize = 64 << 20;

/// Streams `head`, then a comment line of `len` bytes (without its line ending), then `tail`.
fn long_line_input(
    head: &'static [u8],
    len: usize,
    tail: &'static [u8],
) -> impl FnOnce(&mut dyn Write) + Send {
    move |stdin: &mut dyn Write| {
        let chunk = vec![b'x'; 1 << 20];
        let mut go = || -> std::io::Result<()> {
            stdin.write_all(head)?;
            stdin.write_all(b"#")?;
            let mut left = len - 1;
            while left > 0 {
                let n = left.min(chunk.len());
                stdin.write_all(&chunk[..n])?;
                left -= n;
            }
            stdin.write_all(tail)
        };
        let _ = go(); // the binary may stop reading at the cap
    }
}

/// A line of 64 MiB + 1 bytes stops the conversion there: the lines before it are written,
/// the error names the line, exit 2, and the binary reads no more than the cap and a block of
/// it. Before: the whole line was buffered however long (unbounded memory), exit 0.
#[test]
fn a_line_over_64_mib_stops_with_its_line_number() {
    let args = ["transform", "--from", "EPSG:4326", "--to", "EPSG:4490"];
    let r = run_with(&args, long_line_input(b"116.404 39.915 a\n", MIB64 + 1, b"\n116.4 39.9 b\n"));
    assert_eq!(r.stdout_text(), "116.404 39.915 a\n");
    assert_eq!(
        r.stderr,
        "geounify: standard input, line 2: longer than 64 MiB, the limit for one line; stopped \
         there (the lines before it were converted)\n"
    );
    assert_eq!(r.code, 2);
    // The first line, without a line ending after it, at the end of the input.
    let r = run_with(&args, long_line_input(b"", MIB64 + 1, b""));
    assert_eq!((r.code, r.stdout.len()), (2, 0));
    assert!(r.stderr.contains("standard input, line 1: longer than 64 MiB"), "{}", r.stderr);
}

/// The reading is bounded: of a 512 MiB line the binary reads (and the writer gets into the
/// pipe) at most the cap plus a few MiB (a 512 KiB block, the pipe buffer, the writer's 1 MiB
/// chunk) before it stops; the writer then sees the pipe closed. Before: it read all 512 MiB.
#[test]
fn an_endless_line_is_not_read_beyond_the_cap() {
    let written = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = written.clone();
    let args = ["transform", "--from", "EPSG:4326", "--to", "EPSG:4490"];
    let r = run_with(&args, move |stdin| {
        let chunk = vec![b'7'; 1 << 20];
        for _ in 0..512 {
            if stdin.write_all(&chunk).is_err() {
                return;
            }
            counter.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
        }
    });
    assert_eq!((r.code, r.stdout.len()), (2, 0));
    assert!(r.stderr.contains("standard input, line 1: longer than 64 MiB"), "{}", r.stderr);
    let written = written.load(std::sync::atomic::Ordering::Relaxed);
    assert!(written <= MIB64 + (4 << 20), "{written} bytes accepted");
}

/// Exactly 64 MiB (CRLF not counted) is allowed: the comment is copied unchanged.
#[test]
fn a_line_of_exactly_64_mib_is_converted() {
    let args = ["transform", "--from", "EPSG:4326", "--to", "EPSG:4490"];
    let r = run_with(&args, long_line_input(b"116.404 39.915 a\n", MIB64, b"\r\n116.4 39.9 b\n"));
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(r.stdout.len(), 17 + MIB64 + 2 + 13);
    assert!(r.stdout.starts_with(b"116.404 39.915 a\n#xxx"));
    assert!(r.stdout.ends_with(b"xxx\r\n116.4 39.9 b\n"));
}

/// `transform --help` documents the new options and rules.
#[test]
fn help_documents_the_check_axis_order_precision_and_line_cap() {
    let r = run(&["transform", "--help"], b"");
    assert_eq!(r.code, 0);
    let help = r.stdout_text();
    for needle in [
        "--axis-order <AXIS_ORDER>",
        "north_east",
        "latitude first",
        "--precision <N>",
        "N + 6 for degrees",
        "ties",
        "--force",
        "Sanity check",
        "64 MiB",
        "the first lines fail the sanity check",
    ] {
        assert!(help.contains(needle), "transform --help lacks {needle:?}:\n{help}");
    }
}
