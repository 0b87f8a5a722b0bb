//! Hostile text input (issue 11, item 6, the file and format part): what a hostile (or just
//! unlucky) input file does to `convert`, library and CLI.
//!
//! - `deep_nesting_never_overflows_the_stack` — GeoJSON GeometryCollections 3,000 deep (through
//!   `convert_str`, `convert_reader`, NDJSON and files), 100,000-deep arrays and objects in
//!   `properties` and in `coordinates`, WKT `GEOMETRYCOLLECTION(` 100,000 deep: all run on a
//!   256 KiB thread stack; GeometryCollections deeper than 32 are `Malformed` ("feature 1:
//!   GeometryCollections nested deeper than 32"), 32 deep convert; deep JSON in properties is
//!   copied byte for byte; a too-deep position is `Malformed`.
//! - `deep_nesting_in_the_cli` — the same inputs through the binary (its main thread): exit 1
//!   with the message, never a signal.
//! - `one_record_is_at_most_64_mib` — an NDJSON line, a GeoJSON feature, a top-level Feature
//!   document, a WKT line and a CSV record of 64 MiB + 1 byte → `Malformed` naming the line or
//!   feature ("a line longer than 64 MiB", "a feature longer than 64 MiB ..."); a GeoJSON
//!   feature of 64 MiB with the separator before it, and an NDJSON line of exactly 64 MiB,
//!   convert.
//! - `fifos_and_devices_are_refused` — a FIFO (with a writer waiting on it) as the input of every
//!   format, `/dev/urandom`, `/dev/zero`, `/dev/null` through symlinks named `x.wkt`, `x.csv`,
//!   `x.geojson`, and a folder named `x.csv` → `Io` "not a regular file (...)" before anything
//!   is read; nothing written; the CLI exits 2 at once.
//! - `unify_with_a_fifo_dataset_returns` — a FIFO as a dataset of an exchange: the dataset
//!   fails with "not a regular file", and hashing it for the lineage does not open it (no hang).
//! - `empty_inputs_are_errors` — 0 bytes, whitespace only, a byte-order mark only (and blank
//!   lines only for NDJSON) in every text format → `Malformed` at `line 1` "the file is empty
//!   ..." naming the file, nothing written; a CSV header alone, a WKT file of comments and an
//!   empty FeatureCollection are valid files with no features and convert.
//! - `bounded_memory_under_ulimit` — the CLI under `RLIMIT_AS` = 200,000 KiB on the long
//!   records, a deep nest and a normal 500,000-point file of each text format: an exit status
//!   with a message (or success), never SIGABRT / SIGSEGV.
#![cfg(feature = "cli")]

mod common;
use common::cli::run_guarded;
use common::crs;
use common::scratch::{listing, Scratch};
use geounify::convert::{
    self, convert_file, ConvertError, ConvertOptions, NoProgress, MAX_RECORD_BYTES,
};
use geounify::Transformer;
use std::io::{BufWriter, Read, Write};
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;

/// A thread stack far smaller than the 2 MiB default (and the main thread's 8 MiB): passing
/// on it shows that no recursion grows with the input.
const SMALL_STACK: usize = 256 << 10;

fn t() -> Transformer {
    Transformer::from_ids("WGS84", "EPSG:4548").unwrap()
}

/// `convert_file` WGS84 → EPSG:4548 with default options.
fn lib_convert(input: &Path, output: &Path) -> Result<convert::ConvertReport, ConvertError> {
    let options = ConvertOptions::default();
    convert_file(input, output, &crs("WGS84"), &crs("EPSG:4548"), &options, &NoProgress)
}

/// Runs `f` on a thread with a [`SMALL_STACK`].
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(SMALL_STACK).spawn(f).unwrap().join().unwrap()
}

/// The error text, which must be `Malformed`.
fn malformed<T: std::fmt::Debug>(result: Result<T, ConvertError>) -> String {
    match result {
        Err(e @ ConvertError::Malformed { .. }) => e.to_string(),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// A Point inside `levels` nested GeometryCollections.
fn nested_collections(levels: usize) -> String {
    let mut text = String::new();
    for _ in 0..levels {
        text.push_str(r#"{"type":"GeometryCollection","geometries":["#);
    }
    text.push_str(r#"{"type":"Point","coordinates":[116.4,39.9]}"#);
    for _ in 0..levels {
        text.push_str("]}");
    }
    text
}

/// A Feature with `geometry`.
fn feature(geometry: &str) -> String {
    format!(r#"{{"type":"Feature","properties":{{"n":1}},"geometry":{geometry}}}"#)
}

// ---- nesting ---------------------------------------------------------------------------------

#[test]
fn deep_nesting_never_overflows_the_stack() {
    on_small_stack(|| {
        let t = t();
        let options = ConvertOptions::default();
        let sequential = ConvertOptions { parallel: false, ..ConvertOptions::default() };
        let deep = nested_collections(3000);
        // A bare geometry document and a Feature, through the in-memory and streaming APIs.
        for doc in [deep.clone(), feature(&deep)] {
            let e = malformed(convert::geojson::convert_str(&doc, &t, &options));
            assert_eq!(e, "<stream>: feature 1: GeometryCollections nested deeper than 32");
            let mut out = Vec::new();
            let e =
                malformed(convert::geojson::convert_reader(doc.as_bytes(), &mut out, &t, &options));
            assert_eq!(e, "<stream>: feature 1: GeometryCollections nested deeper than 32");
        }
        // In a collection (parallel and sequential) and in a sequence: named by feature / line.
        let ok = feature(r#"{"type":"Point","coordinates":[116.4,39.9]}"#);
        let collection =
            format!(r#"{{"type":"FeatureCollection","features":[{ok},{}]}}"#, feature(&deep));
        for o in [&options, &sequential] {
            let e = malformed(convert::geojson::convert_str(&collection, &t, o));
            assert_eq!(e, "<stream>: feature 2: GeometryCollections nested deeper than 32");
        }
        let lines = format!("{ok}\n{ok}\n{}\n", feature(&deep));
        for o in [&options, &sequential] {
            let mut out = Vec::new();
            let e =
                malformed(convert::geojson::convert_seq_reader(lines.as_bytes(), &mut out, &t, o));
            assert_eq!(e, "<stream>: line 3: GeometryCollections nested deeper than 32");
        }
        // 32 levels is the deepest accepted, and converts.
        let (out, report) =
            convert::geojson::convert_str(&nested_collections(32), &t, &options).unwrap();
        assert_eq!((report.features, report.vertices), (1, 1));
        assert_eq!(out.matches("GeometryCollection").count(), 32);
        let e = malformed(convert::geojson::convert_str(&nested_collections(33), &t, &options));
        assert!(e.ends_with("nested deeper than 32"), "{e}");

        // 100,000-deep arrays and objects in properties: copied byte for byte (never walked).
        let arrays = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let objects = format!("{}1{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
        for deep_value in [&arrays, &objects] {
            let doc = format!(
                r#"{{"type":"Feature","properties":{{"deep":{deep_value}}},"geometry":{{"type":"Point","coordinates":[116.4,39.9]}}}}"#
            );
            let (out, report) = convert::geojson::convert_str(&doc, &t, &options).unwrap();
            assert_eq!(report.vertices, 1);
            assert!(out.contains(&format!(r#""properties":{{"deep":{deep_value}}}"#)));
        }
        // 100,000-deep arrays as coordinates: not a position.
        let doc = feature(&format!(r#"{{"type":"Point","coordinates":[{arrays}]}}"#));
        let e = malformed(convert::geojson::convert_str(&doc, &t, &options));
        assert_eq!(
            e,
            format!(
                "<stream>: feature 1: Point coordinates: a position needs at least 2 numbers, \
                 found {}…",
                "[".repeat(60)
            )
        );
        let doc = feature(&format!(r#"{{"type":"MultiPolygon","coordinates":{arrays}}}"#));
        let e = malformed(convert::geojson::convert_str(&doc, &t, &options));
        assert!(e.contains("MultiPolygon coordinates: "), "{}", &e[..200.min(e.len())]);

        // WKT: GEOMETRYCOLLECTION( 100,000 deep.
        let wkt = format!(
            "GEOMETRYCOLLECTION({}POINT (116.4 39.9){}\n",
            "GEOMETRYCOLLECTION(".repeat(99_999),
            ")".repeat(100_000)
        );
        let (s, target) = (crs("WGS84"), crs("EPSG:4548"));
        let mut out = Vec::new();
        let e = malformed(convert::wkt::convert_reader(
            wkt.as_bytes(),
            &mut out,
            &s,
            &target,
            &t,
            &options,
        ));
        assert_eq!(e, "<stream>: line 1: geometry collections nested deeper than 32");
    });
}

#[test]
fn deep_nesting_in_the_cli() {
    let d = Scratch::new("hostile-nest-cli");
    d.write("deep.geojson", feature(&nested_collections(3000)));
    d.write("deep.geojsonl", format!("{}\n", feature(&nested_collections(100_000))));
    d.write(
        "deep.wkt",
        format!(
            "{}POINT (116.4 39.9){}\n",
            "GEOMETRYCOLLECTION(".repeat(100_000),
            ")".repeat(100_000)
        ),
    );
    for (input, expected) in [
        ("deep.geojson", "feature 1: GeometryCollections nested deeper than 32"),
        ("deep.geojsonl", "line 1: GeometryCollections nested deeper than 32"),
        ("deep.wkt", "line 1: geometry collections nested deeper than 32"),
    ] {
        let output = input.replace("deep", "out");
        let before = listing(&d.0);
        let args = ["convert", "--from", "WGS84", "--to", "EPSG:4548", input, "-o", &output];
        let (status, err) = run_guarded(&args, &d.0, false);
        assert_eq!(status.code(), Some(1), "{input}: {status:?} {err}");
        assert_eq!(err, format!("geounify: {input}: {expected}\n"));
        assert_eq!(listing(&d.0), before, "{input}: nothing written");
    }
}

// ---- record length ---------------------------------------------------------------------------

/// Writes `parts` to `path` through a buffer (never the whole file in memory).
fn write_parts(path: &Path, parts: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    parts(&mut w).unwrap();
    w.flush().unwrap();
}

/// Writes `n` bytes of `b`.
fn fill(w: &mut dyn Write, b: u8, mut n: u64) -> std::io::Result<()> {
    let block = [b; 1 << 16];
    while n > 0 {
        let k = n.min(block.len() as u64) as usize;
        w.write_all(&block[..k])?;
        n -= k as u64;
    }
    Ok(())
}

/// Writes a Feature whose JSON text is exactly `len` bytes (its padding is in a property).
fn padded_feature(w: &mut dyn Write, len: u64) -> std::io::Result<()> {
    let head = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[116.4,39.9]},"properties":{"pad":""#;
    let tail = r#""}}"#;
    w.write_all(head.as_bytes())?;
    fill(w, b'x', len - (head.len() + tail.len()) as u64)?;
    w.write_all(tail.as_bytes())
}

/// The hostile long-record files, written into `d`: (name, expected message after the name).
fn long_record_files(d: &Scratch) -> Vec<(&'static str, String)> {
    let max = MAX_RECORD_BYTES;
    assert_eq!(max, 64 << 20);
    let ok = feature(r#"{"type":"Point","coordinates":[116.4,39.9]}"#);
    // NDJSON: line 2 has 64 MiB + 1 byte before its newline.
    write_parts(&d.path("long.geojsonl"), |w| {
        writeln!(w, "{ok}")?;
        padded_feature(w, max + 1)?;
        writeln!(w)
    });
    // GeoJSON: feature 2 has 64 MiB + 1 byte.
    write_parts(&d.path("long.geojson"), |w| {
        write!(w, r#"{{"type":"FeatureCollection","features":[{ok},"#)?;
        padded_feature(w, max + 1)?;
        write!(w, "]}}")
    });
    // GeoJSON: a top-level Feature of 64 MiB + 1 byte, with no collection to stream.
    write_parts(&d.path("top.geojson"), |w| padded_feature(w, max + 1));
    // WKT: line 2 is 64 MiB + 1 byte of id.
    write_parts(&d.path("long.wkt"), |w| {
        writeln!(w, "POINT (116.4 39.9)")?;
        fill(w, b'7', max + 1)?;
        writeln!(w, "\tPOINT (116.4 39.9)")
    });
    // CSV: record 2 is 64 MiB + 1 byte of a quoted field.
    write_parts(&d.path("long.csv"), |w| {
        write!(w, "lon,lat,note\n116.4,39.9,\"")?;
        fill(w, b'x', max + 1)?;
        writeln!(w, "\"")
    });
    vec![
        ("long.geojsonl", "line 2: a line longer than 64 MiB".to_string()),
        (
            "long.geojson",
            "feature 2: a feature longer than 64 MiB (with the separators before it)".to_string(),
        ),
        (
            "top.geojson",
            "top level: more than 64 MiB of JSON outside the \"features\" array (a Feature or a \
             geometry document, or the collection's other members, is read whole)"
                .to_string(),
        ),
        ("long.wkt", "line 2: a line longer than 64 MiB".to_string()),
        ("long.csv", "line 2: a record longer than 64 MiB".to_string()),
    ]
}

#[test]
fn one_record_is_at_most_64_mib() {
    let d = Scratch::new("hostile-long");
    for (name, expected) in long_record_files(&d) {
        let input = d.path(name);
        let before = listing(&d.0);
        let e = malformed(lib_convert(&input, &d.path(&format!("out-{name}"))));
        assert_eq!(e, format!("{}: {expected}", input.display()), "{name}");
        assert_eq!(listing(&d.0), before, "{name}: nothing written");
        std::fs::remove_file(&input).unwrap();
    }
    // Exactly 64 MiB is allowed: a GeoJSON feature (with its separator) and an NDJSON line.
    let ok = feature(r#"{"type":"Point","coordinates":[116.4,39.9]}"#);
    write_parts(&d.path("max.geojson"), |w| {
        // The budget of a feature includes the separators before it: here the one `,`.
        write!(w, r#"{{"type":"FeatureCollection","features":[{ok},"#)?;
        padded_feature(w, MAX_RECORD_BYTES - 1)?;
        write!(w, ",{ok}]}}")
    });
    let report = lib_convert(&d.path("max.geojson"), &d.path("out-max.geojson")).unwrap();
    assert_eq!((report.features, report.vertices), (3, 3));
    std::fs::remove_file(d.path("max.geojson")).unwrap();
    std::fs::remove_file(d.path("out-max.geojson")).unwrap();
    write_parts(&d.path("max.geojsonl"), |w| {
        writeln!(w, "{ok}")?;
        padded_feature(w, MAX_RECORD_BYTES)?;
        writeln!(w)
    });
    let report = lib_convert(&d.path("max.geojsonl"), &d.path("out-max.geojsonl")).unwrap();
    assert_eq!((report.features, report.vertices), (2, 2));
}

// ---- FIFOs and devices -----------------------------------------------------------------------

/// Every format's input name.
const NAMES: [&str; 7] = ["x.csv", "x.tsv", "x.geojson", "x.geojsonl", "x.wkt", "x.shp", "x.gpkg"];

#[test]
fn fifos_and_devices_are_refused() {
    let d = Scratch::new("hostile-fifo");
    for name in NAMES {
        let fifo = d.fifo(name);
        // A writer waits on the FIFO with data, as `cat data > x.csv` would.
        let path = fifo.clone();
        let writer = std::thread::spawn(move || {
            if let Ok(mut w) = std::fs::OpenOptions::new().write(true).open(&path) {
                let _ = w.write_all(b"lon,lat\n116.4,39.9\n");
            }
        });
        let output = d.path(&name.replace("x.", "out."));
        let e = lib_convert(&fifo, &output).unwrap_err();
        assert!(matches!(e, ConvertError::Io { .. }), "{name}: {e:?}");
        assert_eq!(
            e.to_string(),
            format!(
                "{}: not a regular file (a FIFO (named pipe)); only regular files are converted",
                fifo.display()
            )
        );
        // Nothing read it: release the writer by reading its data here.
        let mut data = Vec::new();
        std::fs::File::open(&fifo).unwrap().read_to_end(&mut data).unwrap();
        writer.join().unwrap();
        assert_eq!(data, b"lon,lat\n116.4,39.9\n", "{name}: the data was left unread");
        assert!(!output.exists());
    }
    // Devices through symlinks with a format's extension, and a folder.
    let devices = [
        ("u.wkt", "/dev/urandom"),
        ("z.csv", "/dev/zero"),
        ("n.geojson", "/dev/null"),
        ("z.geojsonl", "/dev/zero"),
    ];
    for (name, device) in devices {
        std::os::unix::fs::symlink(device, d.path(name)).unwrap();
        let e = lib_convert(&d.path(name), &d.path(&format!("out-{name}"))).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: not a regular file (a device); only regular files are converted",
                d.path(name).display()
            )
        );
    }
    std::fs::create_dir(d.path("folder.csv")).unwrap();
    let e = lib_convert(&d.path("folder.csv"), &d.path("out-folder.csv")).unwrap_err();
    assert!(
        e.to_string().ends_with(
            "folder.csv: not a regular file (a folder); only regular files are converted"
        ),
        "{e}"
    );
    // The CLI returns at once with exit 2 (an input it cannot read); nothing is written.
    let before = listing(&d.0);
    for name in ["u.wkt", "z.csv", "x.geojson", "x.wkt"] {
        let args = ["convert", "--from", "WGS84", "--to", "EPSG:4548", name, "-o", "o.wkt"];
        let args = if name.ends_with(".wkt") {
            args
        } else {
            let mut a = args;
            a[7] = if name.ends_with(".csv") { "o.csv" } else { "o.geojson" };
            a
        };
        let (status, err) = run_guarded(&args, &d.0, false);
        assert_eq!(status.code(), Some(2), "{name}: {err}");
        assert!(err.starts_with(&format!("geounify: {name}: not a regular file (")), "{err}");
    }
    assert_eq!(listing(&d.0), before);
}

#[test]
fn unify_with_a_fifo_dataset_returns() {
    // `unify` converts through `convert_file` (which refuses the FIFO) and then hashes the
    // dataset's files for the lineage: the hash must not open the FIFO either (it would block).
    let d = Scratch::new("hostile-unify-fifo");
    d.fifo("pipe.csv");
    d.write("ok.csv", "lon,lat\n116.4,39.9\n");
    d.write(
        "exchange.toml",
        "target = \"EPSG:4548\"\noutput = \"out\"\n\n[[dataset]]\npath = \"ok.csv\"\n\
         crs = \"WGS84\"\n\n[[dataset]]\npath = \"pipe.csv\"\ncrs = \"WGS84\"\n",
    );
    let (status, err) = run_guarded(&["unify", "exchange.toml"], &d.0, false);
    assert_eq!(status.signal(), None, "{err}");
    assert_ne!(status.code(), Some(0), "{err}");
    // The manifest check refuses the dataset before anything is converted or hashed.
    assert!(err.contains("dataset 2 (pipe.csv): the input is not a regular file"), "{err}");
    assert!(!d.0.join("out").join("lineage.json").exists(), "{err}");
}

// ---- empty input -----------------------------------------------------------------------------

#[test]
fn empty_inputs_are_errors() {
    let d = Scratch::new("hostile-empty");
    let expected = |name: &str| match name.rsplit('.').next().unwrap() {
        "csv" | "tsv" => "line 1: the file is empty (no header line): nothing to convert",
        "geojson" => "line 1: the file is empty (no GeoJSON object): nothing to convert",
        "geojsonl" => {
            "line 1: the file is empty (no GeoJSON record, only blank lines): nothing to convert"
        }
        _ => "line 1: the file is empty (only whitespace, no WKT line): nothing to convert",
    };
    let cases: [(&str, &[u8]); 12] = [
        ("a.csv", b""),
        ("b.csv", b"\xEF\xBB\xBF"),
        ("a.tsv", b""),
        ("a.geojson", b""),
        ("b.geojson", b" \r\n\t\n"),
        ("c.geojson", b"\xEF\xBB\xBF\n"),
        ("a.geojsonl", b""),
        ("b.geojsonl", b"\n\r\n  \n"),
        ("c.geojsonl", b"\x1e\n\x1e\n"),
        ("a.wkt", b""),
        ("b.wkt", b"\n \n\r\n"),
        ("c.wkt", b"\xEF\xBB\xBF"),
    ];
    for (name, bytes) in cases {
        let input = d.write(name, bytes);
        let before = listing(&d.0);
        let e = malformed(lib_convert(&input, &d.path(&format!("out-{name}"))));
        assert_eq!(e, format!("{}: {}", input.display(), expected(name)), "{name}");
        assert_eq!(listing(&d.0), before, "{name}: nothing written");
    }
    // Through the CLI: exit 1, the message, nothing written.
    let before = listing(&d.0);
    let (status, err) = run_guarded(
        &["convert", "--from", "WGS84", "--to", "EPSG:4548", "a.csv", "-o", "o.csv"],
        &d.0,
        false,
    );
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(err, format!("geounify: a.csv: {}\n", expected("a.csv")));
    assert_eq!(listing(&d.0), before);
    // Valid files with no features are not empty input: they convert, to themselves.
    for (name, text) in [
        ("h.csv", "lon,lat\n"),
        ("h.wkt", "# nothing yet\n"),
        ("h.geojson", r#"{"type":"FeatureCollection","features":[]}"#),
    ] {
        let input = d.write(name, text);
        let output = d.path(&format!("out-{name}"));
        let report = lib_convert(&input, &output).unwrap();
        assert_eq!((report.features, report.written), (0, 0), "{name}");
        let out = std::fs::read_to_string(&output).unwrap();
        if name.ends_with(".geojson") {
            assert!(out.contains(r#""features":[]"#), "{out}");
        } else {
            assert_eq!(out, text);
        }
    }
}

// ---- memory under ulimit -v ------------------------------------------------------------------

#[test]
fn bounded_memory_under_ulimit() {
    let d = Scratch::new("hostile-ulimit");
    let mut cases: Vec<(String, Option<String>)> = long_record_files(&d)
        .into_iter()
        .map(|(name, message)| (name.to_string(), Some(format!("geounify: {name}: {message}\n"))))
        .collect();
    d.write("deep.geojson", feature(&nested_collections(3000)));
    cases.push((
        "deep.geojson".into(),
        Some(
            "geounify: deep.geojson: feature 1: GeometryCollections nested deeper than 32\n".into(),
        ),
    ));
    // Normal large files: 500,000 points in each text format.
    let n = 500_000u32;
    let point = |i: u32| (115.5 + f64::from(i % 1000) * 0.002, 39.5 + f64::from(i / 1000) * 0.001);
    write_parts(&d.path("big.csv"), |w| {
        writeln!(w, "id,lon,lat")?;
        (0..n).try_for_each(|i| writeln!(w, "{i},{},{}", point(i).0, point(i).1))
    });
    write_parts(&d.path("big.wkt"), |w| {
        (0..n).try_for_each(|i| writeln!(w, "{i}\tPOINT ({} {})", point(i).0, point(i).1))
    });
    let f = |i: u32| {
        format!(
            r#"{{"type":"Feature","id":{i},"properties":{{"名":"第{i}号"}},"geometry":{{"type":"Point","coordinates":[{},{}]}}}}"#,
            point(i).0,
            point(i).1
        )
    };
    write_parts(&d.path("big.geojson"), |w| {
        write!(w, r#"{{"type":"FeatureCollection","features":["#)?;
        (0..n).try_for_each(|i| write!(w, "{}\n{}", if i == 0 { "" } else { "," }, f(i)))?;
        write!(w, "]}}")
    });
    write_parts(&d.path("big.geojsonl"), |w| (0..n).try_for_each(|i| writeln!(w, "{}", f(i))));
    for name in ["big.csv", "big.wkt", "big.geojson", "big.geojsonl"] {
        cases.push((name.into(), None));
    }
    for (name, expected) in cases {
        let output = format!("out-{name}");
        let args = ["convert", "--from", "WGS84", "--to", "EPSG:4548", &name, "-o", &output];
        let (status, err) = run_guarded(&args, &d.0, true);
        assert_eq!(status.signal(), None, "{name}: killed by a signal: {err}");
        match expected {
            Some(message) => {
                assert_eq!(status.code(), Some(1), "{name}: {err}");
                assert_eq!(err, message, "{name}");
                assert!(!d.path(&output).exists());
            }
            None => {
                assert_eq!(status.code(), Some(0), "{name}: {err}");
                assert!(d.path(&output).exists());
                std::fs::remove_file(d.path(&output)).unwrap();
            }
        }
        std::fs::remove_file(d.path(&name)).unwrap();
    }
}
