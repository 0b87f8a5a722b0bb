//! `geounify transform` never converts silently wrong or dies (issue 11, items 3 and 6): the
//! sanity check on the first lines with `--force`, `--axis-order north_east`, `--precision`,
//! the 64 MiB line cap, and very long CRS ids in `crs list`, `crs info`, `estimate`,
//! `transform` and `convert`.

mod common;

use common::scratch::Scratch;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_geounify");

/// What one run of the binary produced.
struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn out(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }
}

/// Runs `geounify args`, with stdin fed by `feed` from a thread (so a large input streams and
/// cannot deadlock against a full stdout pipe; a write error means the binary stopped reading).
fn run_with(args: &[&str], feed: impl FnOnce(&mut dyn Write) + Send + 'static) -> Run {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the geounify binary starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || feed(&mut stdin));
    let output = child.wait_with_output().expect("the geounify binary runs");
    writer.join().expect("the stdin writer thread does not panic");
    Run {
        code: output.status.code().expect("exited normally, not by a signal (no panic abort)"),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn run(args: &[&str], input: &[u8]) -> Run {
    let input = input.to_vec();
    run_with(args, move |stdin| {
        let _ = stdin.write_all(&input);
    })
}

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
    let plain = plain.out();
    assert!(plain.starts_with("EPSG:4326   WGS 84  [aliases: WGS84, WGS 84]\n"), "{plain}");
    for long in ["a".repeat(65_536), "城".repeat(65_536)] {
        let file = crs_file_with_id(&scratch, &long, "Long");
        let r = run(&["--crs-file", &file, "crs", "list"], b"");
        assert_eq!((r.code, r.stderr.as_str()), (0, ""));
        let out = r.out();
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
    let out = r.out();
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
        let out = r.out();
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
        assert!(r.out().starts_with(&format!("id:          {long}\nname:        Long\n")));
        let r = run(
            &["--crs-file", &file, "transform", "--from", &long, "--to", "EPSG:4490"],
            b"116.404 39.915\n",
        );
        assert_eq!((r.code, r.out().as_str(), r.stderr.as_str()), (0, "116.404 39.915\n", ""));
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
