//! The `geounify` binary, run as a user runs it: stdin piped in, exact stdout bytes, stderr
//! messages and exit status checked.

mod common;
use common::cli::{run, spawn, Run};
use std::io::{BufRead, BufReader, Read, Write};
use std::time::{Duration, Instant};

fn transform(from: &str, to: &str, input: &[u8]) -> Run {
    run(&["transform", "--from", from, "--to", to], input)
}

/// The numbers at the start of each converted output line.
fn numbers(line: &str) -> Vec<f64> {
    line.split_whitespace().map_while(|t| t.parse().ok()).collect()
}

#[test]
fn identity_keeps_digits_comments_blank_lines_trailing_text_z_and_crlf() {
    // EPSG:4326 → EPSG:4490 is the identity (WGS84 and CGCS2000 are the same frame): every
    // number must come back with exactly the input's (shortest-form) digits.
    let input = b"# Beijing points\n\
                  \n\
                  \x20  # indented comment\r\n\
                  116.404 39.915\n\
                  116.404\t39.915   Tian'anmen  gate \n\
                  116.404 39.915 43.5\n\
                  116.404 39.915 43.5 \xe5\xa4\xa9\xe5\x9d\x9b z kept, name kept\n\
                  116.404 39.915 nan is text, not z\n\
                  \x20 116.404 39.915\r\n\
                  116.404 39.915 12\r\n\
                  -0 -0.0 0\n\
                  1e300 1e-8 -0.0000001\n\
                  100000000000000000000000 0.10000000000000001 name\n\
                  116.4040 +39.915000\n\
                  \t\x20\n\
                  1 2";
    let expected = b"# Beijing points\n\
                     \n\
                     \x20  # indented comment\r\n\
                     116.404 39.915\n\
                     116.404 39.915   Tian'anmen  gate \n\
                     116.404 39.915 43.5\n\
                     116.404 39.915 43.5 \xe5\xa4\xa9\xe5\x9d\x9b z kept, name kept\n\
                     116.404 39.915 nan is text, not z\n\
                     116.404 39.915\r\n\
                     116.404 39.915 12\r\n\
                     -0 -0 0\n\
                     1e300 1e-8 -0.0000001\n\
                     1e23 0.1 name\n\
                     116.404 39.915\n\
                     \t\x20\n\
                     1 2";
    let r = transform("EPSG:4326", "EPSG:4490", input);
    assert_eq!(r.stderr, "");
    assert_eq!(r.code, 0);
    assert_eq!(String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(expected));
    assert_eq!(r.stdout, expected);
}

#[test]
fn aliases_and_ids_are_case_insensitive() {
    let r = transform("wgs84", "cgcs2000", b"116.404 39.915\n");
    assert_eq!((r.code, r.stdout_text().as_str(), r.stderr.as_str()), (0, "116.404 39.915\n", ""));
    let r = transform("epsg:4326", "Epsg:4490", b"116.404 39.915\n");
    assert_eq!((r.code, r.stdout_text().as_str(), r.stderr.as_str()), (0, "116.404 39.915\n", ""));
}

#[test]
fn bad_lines_are_reported_with_their_line_number_and_the_rest_is_converted() {
    let input = b"# header\n\
                  116.404 39.915 a\n\
                  \n\
                  116.4 95 too far north\r\n\
                  abc 39.9\n\
                  116.4\n\
                  116.4,39.9\n\
                  116.4 1e999\n\
                  \xff\xfe 39.9 not UTF-8\n\
                  # comment with \xff passes\n\
                  116.406 39.917 GBK name \xcc\xec\xb0\xb2\xc3\xc5 kept\n\
                  116.405 39.916 b";
    let expected = b"# header\n\
                     116.404 39.915 a\n\
                     \n\
                     # error: 116.4 95 too far north\r\n\
                     # error: abc 39.9\n\
                     # error: 116.4\n\
                     # error: 116.4,39.9\n\
                     # error: 116.4 1e999\n\
                     # error: \xff\xfe 39.9 not UTF-8\n\
                     # comment with \xff passes\n\
                     116.406 39.917 GBK name \xcc\xec\xb0\xb2\xc3\xc5 kept\n\
                     116.405 39.916 b";
    let r = transform("EPSG:4326", "EPSG:4490", input);
    assert_eq!(String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(expected));
    assert_eq!(r.stdout, expected);
    assert_eq!(
        r.stderr,
        "line 4: latitude 95° is beyond ±90°\n\
         line 5: x 'abc' is not a number\n\
         line 6: expected `x y [z]`, found only one number\n\
         line 7: x '116.4,39.9' is not a number (separate the coordinates with spaces or tabs)\n\
         line 8: y '1e999' is too large for a 64-bit float\n\
         line 9: x '\u{FFFD}\u{FFFD}' is not a number\n\
         geounify: 6 lines could not be converted\n"
    );
    assert_eq!(r.code, 1);
}

#[test]
fn unknown_crs_id_fails_with_exit_2_before_reading_input() {
    for (from, to) in [("EPSG:9999999", "EPSG:4326"), ("EPSG:4326", "nope")] {
        // stdin stays open and empty: had the binary started reading, it would wait forever.
        let mut child = spawn(&["transform", "--from", from, "--to", to]);
        let _stdin = child.stdin.take();
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait().expect("waiting works") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("geounify read stdin although the CRS id {from} or {to} is unknown");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        child.stderr.take().expect("piped").read_to_string(&mut stderr).expect("UTF-8");
        let mut stdout = Vec::new();
        child.stdout.take().expect("piped").read_to_end(&mut stdout).expect("readable");
        assert_eq!(status.code(), Some(2));
        assert!(stdout.is_empty());
        let bad = if from == "EPSG:4326" { to } else { from };
        assert_eq!(stderr, format!("geounify: unknown CRS id '{bad}' (try `geounify crs list`)\n"));
    }
}

#[test]
fn usage_errors_exit_2() {
    let r = run(&["transform", "--from", "EPSG:4326"], b"");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--to"), "{}", r.stderr);
    let r = run(&["crs", "info"], b"");
    assert_eq!(r.code, 2);
    let r = run(&["frobnicate"], b"");
    assert_eq!(r.code, 2);
}

#[test]
fn help_documents_exit_status_and_failed_lines() {
    let r = run(&["transform", "--help"], b"");
    assert_eq!(r.code, 0);
    let help = r.stdout_text();
    for needle in
        ["# error: ", "line N: <reason>", "shortest", "CRLF", "0  success", "1  some", "2  usage"]
    {
        assert!(help.contains(needle), "transform --help lacks {needle:?}:\n{help}");
    }
    let help = run(&["--help"], b"").stdout_text();
    assert!(help.contains("Exit status:"), "{help}");
}

#[test]
fn gcj02_published_vector() {
    // Published GCJ-02 test vector (the one every GCJ-02 library checks, e.g. eviltransform,
    // coordtransform): WGS84 (116.404, 39.915) → GCJ-02 (116.41024449916938, 39.91640428150164).
    // 1e-9° (0.1 mm) allows for the last-bit differences of sin/cos between implementations.
    let r = transform("EPSG:4326", "GCJ02", b"116.404 39.915 Tian'anmen\n");
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let out = r.stdout_text();
    assert!(out.ends_with(" Tian'anmen\n"), "{out:?}");
    let v = numbers(&out);
    assert_eq!(v.len(), 2, "{out:?}");
    assert!((v[0] - 116.41024449916938).abs() < 1e-9, "{out:?}");
    assert!((v[1] - 39.91640428150164).abs() < 1e-9, "{out:?}");
}

#[test]
fn cgcs2000_gauss_kruger_cm114_against_proj() {
    // References from PROJ 9.5.1 via pyproj 3.7.2:
    //   Transformer.from_crs("EPSG:4490", "EPSG:4547", always_xy=True).transform(lon, lat[, h])
    // (EPSG:4326 as source gives the same numbers: PROJ uses a no-op "ballpark" WGS84→CGCS2000
    // offset, as geounify treats the two as one frame). PROJ's tmerc (Poder/Engsager) is accurate
    // to well below 1e-6 m within a 3° zone, so 1e-6 m is a real check of our Gauss-Krüger.
    let input = b"114.3055 30.5928 Wuhan\n113.264385 23.129112 50 Guangzhou\r\n";
    let r = transform("EPSG:4326", "EPSG:4547", input);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let out = r.stdout_text();
    let lines: Vec<&str> = out.split_inclusive('\n').collect();
    assert_eq!(lines.len(), 2, "{out:?}");
    assert!(lines[0].ends_with(" Wuhan\n") && lines[1].ends_with(" Guangzhou\r\n"), "{out:?}");
    let expected: [&[f64]; 2] =
        [&[529299.8603174951, 3385869.453411797], &[424653.3632131318, 2559026.076079207, 50.0]];
    for (line, expected) in lines.iter().zip(expected) {
        let v = numbers(line);
        assert_eq!(v.len(), expected.len(), "{line:?}");
        for (got, want) in v.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{line:?}: {got} vs {want}");
        }
    }
}

#[test]
fn sample_file_converts_completely() {
    let input = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/data/points_wgs84.txt"))
        .expect("data/points_wgs84.txt exists");
    let r = transform("EPSG:4326", "EPSG:4548", &input);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let text = String::from_utf8(input).expect("the sample is UTF-8");
    let out = r.stdout_text();
    assert_eq!(out.lines().count(), text.lines().count());
    for (line_in, line_out) in text.lines().zip(out.lines()) {
        let t = line_in.trim_start();
        if t.is_empty() || t.starts_with('#') {
            assert_eq!(line_in, line_out);
        } else {
            // CGCS2000 3° GK CM 117E, Beijing/Tianjin: eastings 300–600 km, northings 4300–4500 km.
            let v = numbers(line_out);
            assert!(
                (300e3..600e3).contains(&v[0]) && (4300e3..4500e3).contains(&v[1]),
                "{line_out}"
            );
            let rest_in = line_in.split_whitespace().skip(v.len()).collect::<Vec<_>>();
            let rest_out = line_out.split_whitespace().skip(v.len()).collect::<Vec<_>>();
            assert_eq!(rest_in, rest_out);
        }
    }
}

#[test]
fn closed_stdout_ends_quietly() {
    // `geounify transform ... | head -1`: the reader goes away after the first line.
    let mut child = spawn(&["transform", "--from", "EPSG:4326", "--to", "EPSG:4490"]);
    let mut stdin = child.stdin.take().expect("piped");
    let writer = std::thread::spawn(move || {
        let line = b"116.404 39.915 a point with some text after it to fill the pipes faster\n";
        for _ in 0..200_000 {
            if stdin.write_all(line).is_err() {
                break; // the binary has exited
            }
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("one line");
    assert!(first.starts_with("116.404 39.915 a point"), "{first:?}");
    drop(stdout);
    let mut stderr = String::new();
    child.stderr.take().expect("piped").read_to_string(&mut stderr).expect("UTF-8");
    let status = child.wait().expect("exits");
    writer.join().expect("writer thread does not panic");
    assert_eq!(stderr, "");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn crs_list_shows_the_catalogue() {
    let r = run(&["crs", "list"], b"");
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let out = r.stdout_text();
    let ids: Vec<&str> = out.lines().filter_map(|l| l.split_whitespace().next()).collect();
    let catalogue: Vec<String> =
        geounify::catalogue::all().iter().map(|c| c.id().to_string()).collect();
    assert_eq!(ids, catalogue, "one line per CRS, in catalogue order");
    for id in ["EPSG:4326", "EPSG:4490", "EPSG:4547", "EPSG:4548", "GCJ02", "BD09"] {
        assert!(ids.contains(&id), "crs list lacks {id}:\n{out}");
    }
    let wgs84 = out.lines().find(|l| l.starts_with("EPSG:4326 ")).expect("EPSG:4326 listed");
    assert!(wgs84.contains("WGS 84") && wgs84.contains("WGS84"), "{wgs84}");
    let gk = out.lines().find(|l| l.starts_with("EPSG:4547 ")).expect("EPSG:4547 listed");
    assert!(gk.contains("114"), "{gk}");
}

#[test]
fn crs_info_describes_one_crs() {
    let r = run(&["crs", "info", "epsg:4547"], b"");
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let out = r.stdout_text();
    for needle in [
        "id:          EPSG:4547\n",
        "EPSG code:   4547\n",
        "kind:        projected, Gauss-Krüger\n",
        "central meridian 114°, latitude of origin 0°, scale factor 1, false easting 500000 m, \
         false northing 0 m\n",
        "axes:        x = easting (metres), y = northing (metres)",
        "ellipsoid:   GRS 1980, a = 6378137 m, 1/f = 298.257222101\n",
        "area of use: ",
    ] {
        assert!(out.contains(needle), "crs info lacks {needle:?}:\n{out}");
    }
    // WKT and PROJ string exactly as the library writes them (or its reason why not).
    let crs = geounify::catalogue::lookup("EPSG:4547").expect("in the catalogue");
    match crs.to_proj_string() {
        Ok(proj) => {
            assert!(proj.contains("+lon_0=114"), "{proj}");
            assert!(out.contains(&format!("PROJ string: {proj}\n")), "{out}");
        }
        Err(e) => assert!(out.contains(&format!("PROJ string: none: {e}\n")), "{out}"),
    }
    match crs.to_wkt() {
        Ok(wkt) => assert!(out.contains(&format!("WKT:\n{}\n", wkt.trim_end())), "{out}"),
        Err(e) => assert!(out.contains(&format!("WKT:         none: {e}\n")), "{out}"),
    }

    let out = run(&["crs", "info", "GCJ02"], b"").stdout_text();
    assert!(out.contains("WKT:         none: GCJ02 cannot be written as WKT"), "{out}");
    assert!(out.contains("PROJ string: none: GCJ02 cannot be written as PROJ string"), "{out}");

    let r = run(&["crs", "info", "EPSG:0"], b"");
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert_eq!(r.stderr, "geounify: unknown CRS id 'EPSG:0' (try `geounify crs list`)\n");
}

const CITY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml");

#[test]
fn crs_files_add_ids_to_every_command() {
    let out = run(
        &["--crs-file", CITY, "transform", "--from", "WGS84", "--to", "city:old-grid"],
        b"116.4 39.9 P1\n",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The library's own result, to the last digit (the CLI is a thin layer).
    let mut registry = geounify::Registry::new();
    registry.load_file(CITY).unwrap();
    let (e, n) =
        registry.transformer("WGS84", "city:old-grid").unwrap().transform_xy(116.4, 39.9).unwrap();
    assert_eq!(out.stdout_text(), format!("{e} {n} P1\n"));
    // The flag may come after the subcommand, and is repeatable.
    let out = run(&["crs", "list", "--crs-file", CITY, "--crs-file", CITY], b"");
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("city.toml:17: datum[bj54-city].id: datum id 'bj54-city' is already defined"),
        "{}",
        out.stderr
    );
    let out = run(&["crs", "list", "--crs-file", CITY], b"");
    assert_eq!(out.code, 0);
    assert!(out.stdout_text().contains("\ncity:old-grid  "), "{}", out.stdout_text());
}

#[test]
fn a_bad_crs_file_stops_before_any_input_is_read_and_quotes_no_value() {
    let dir = std::env::temp_dir().join(format!("geounify-cli-crs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[[crs]]\nid = \"g\"\nbase = \"EPSG:4548\"\nplanar = { method = \"helmert4\", dx = 1.2468, dy = 2.2468, theta = 3.2468e9, s = 4.2468 }\n",
    )
    .unwrap();
    let out = run(
        &["--crs-file", bad.to_str().unwrap(), "transform", "--from", "WGS84", "--to", "g"],
        b"116.4 39.9\n",
    );
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty());
    assert_eq!(
        out.stderr,
        format!(
            "geounify: {}:4: crs[g].planar.theta: out of range: arc-seconds within one turn \
             (±1 296 000)\n",
            bad.display()
        )
    );
    assert!(!out.stderr.contains("2468"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn crs_info_hides_a_file_crs_values_unless_asked() {
    let out = run(&["--crs-file", CITY, "crs", "info", "city:bj54-gk117"], b"");
    assert_eq!(out.code, 0);
    let text = out.stdout_text();
    assert!(
        text.contains("Helmert (coordinate frame) (from a CRS file; values not shown"),
        "{text}"
    );
    for value in ["131.2", "47.6", "500000", "+towgs84", "TOWGS84"] {
        assert!(!text.contains(value), "{value} shown:\n{text}");
    }
    let out =
        run(&["--crs-file", CITY, "crs", "info", "city:bj54-gk117", "--show-parameters"], b"");
    let text = out.stdout_text();
    assert!(text.contains("ty = 131.2 m") && text.contains("+towgs84="), "{text}");
    // Built-in CRSs are public: always shown.
    let text = run(&["crs", "info", "EPSG:4548"], b"").stdout_text();
    assert!(text.contains("false easting 500000 m"), "{text}");
}
