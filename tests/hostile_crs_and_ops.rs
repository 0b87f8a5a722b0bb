//! Issue 11, hostile input to CRS files and Shapefiles, and item 7 (no wrong branches): CRS
//! files that are huge, deeply chained, devices or FIFOs, or full of very long ids; Shapefiles
//! whose declared sizes are allocation bombs; GCJ-02 at the edges of its box and near the poles,
//! Gauss-Krüger inverse over the pole, and poly2 grids that fold.

mod common;

use common::scratch::Scratch;
use geounify::crs_file::Format;
use geounify::{CrsFileError, Registry};
use std::fmt::Write as _;

/// `n` CRS entries, each a projected CRS (`base = None`) or a local grid on the previous one.
fn chain_file(n: usize, chained: bool) -> String {
    let mut text = String::from(
        "[[crs]]\nid = \"city:g0\"\ndatum = \"CGCS2000\"\n\
         projection = { method = \"gauss-kruger\", lon0 = 117.0 }\n\n",
    );
    for i in 1..n {
        if chained {
            let _ = write!(
                text,
                "[[crs]]\nid = \"city:g{i}\"\nbase = \"city:g{}\"\n\
                 planar = {{ method = \"helmert4\", dx = 1.0, dy = 2.0, theta = 0.0, s = 0.0 }}\n\n",
                i - 1
            );
        } else {
            let _ = write!(
                text,
                "[[crs]]\nid = \"city:g{i}\"\ndatum = \"CGCS2000\"\n\
                 projection = {{ method = \"gauss-kruger\", lon0 = 117.0 }}\n\n"
            );
        }
    }
    text
}

fn load(text: &str) -> Result<Registry, CrsFileError> {
    let mut r = Registry::new();
    r.load_str(text, "t.toml", Format::Toml).map(|()| r)
}

/// 40,000 entries load, and the last is found: positions are no longer recounted from the start
/// of the file for every key (4,000 entries took 20 s that way), ids are found by hash, not by
/// scanning. (A structural proof of the position bound is the unit test
/// `crs_file::toml::tests::positions_do_not_rescan_the_file`; timing is not tested here.)
#[test]
fn forty_thousand_crs_entries_load() {
    let r = load(&chain_file(40_000, false)).unwrap();
    assert_eq!(r.user_crss().len(), 40_000);
    assert_eq!(r.lookup("CITY:G39999").unwrap().id(), "city:g39999");
    assert!(r.transformer("city:g39999", "EPSG:4490").is_ok());
}

/// A base chain of 16 local grids loads; the 17th level is refused naming its line and field
/// (the cap bounds memory: every CRS holds a copy of its base chain).
#[test]
fn base_chains_are_capped_at_sixteen_local_grids() {
    let r = load(&chain_file(17, true)).unwrap();
    let t = r.transformer("city:g16", "city:g0").unwrap();
    let [x, y, _] = t.transform([0.0, 0.0, 0.0]).unwrap();
    assert!((x + 16.0).abs() < 1e-9 && (y + 32.0).abs() < 1e-9, "{x} {y}");

    let e = load(&chain_file(18, true)).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("crs[city:g17].base"), "{e}");
    assert_eq!(e.line, Some(17 * 5 + 3), "{e}");
    assert!(e.message.contains("more than 16 local grids"), "{e}");

    // Also across files: a second file may not stack a 17th level on the first's 16.
    let mut r = load(&chain_file(17, true)).unwrap();
    let more = "[[crs]]\nid = \"more\"\nbase = \"city:g16\"\n\
                planar = { method = \"helmert4\", dx = 1.0, dy = 2.0, theta = 0.0, s = 0.0 }\n";
    let e = r.load_str(more, "more.toml", Format::Toml).unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (Some(3), Some("crs[more].base")), "{e}");
}

/// A 20,000-entry chain (written in reverse order, so each entry's base comes later) is refused
/// at the 17th level, without walking it quadratically or overflowing the stack.
#[test]
fn a_very_long_base_chain_is_refused_not_overflowed() {
    let n = 20_000;
    let mut text = String::new();
    for i in (1..n).rev() {
        let _ = write!(
            text,
            "[[crs]]\nid = \"g{i}\"\nbase = \"g{}\"\n\
             planar = {{ method = \"helmert4\", dx = 1.0, dy = 2.0, theta = 0.0, s = 0.0 }}\n",
            i - 1
        );
    }
    text.push_str(
        "[[crs]]\nid = \"g0\"\ndatum = \"CGCS2000\"\nprojection = { method = \"gauss-kruger\", lon0 = 117.0 }\n",
    );
    let e = load(&text).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("crs[g17].base"), "{e}");
    assert!(e.message.contains("more than 16 local grids"), "{e}");
    // A cycle through 20,000 entries is named shortly.
    let cyclic = text.replace("id = \"g0\"\ndatum = \"CGCS2000\"\nprojection = { method = \"gauss-kruger\", lon0 = 117.0 }", &format!("id = \"g0\"\nbase = \"g{}\"\nplanar = {{ method = \"helmert4\", dx = 1.0, dy = 2.0, theta = 0.0, s = 0.0 }}", n - 1));
    let e = load(&cyclic).unwrap_err();
    assert!(e.message.starts_with("cycle between base entries: "), "{e}");
    assert!(e.message.len() < 200, "{}", e.message.len());
}

/// Runs `f` on another thread and gives up after a minute, so a hang fails the test instead of
/// stopping the suite (the bound is a guard, not a measurement).
fn within_a_minute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(60)).expect("hung (no answer in a minute)")
}

fn load_path(path: std::path::PathBuf) -> CrsFileError {
    within_a_minute(move || Registry::new().load_file(path).unwrap_err())
}

/// Devices, FIFOs and directories are refused before being opened, naming the file; a file over
/// 16 MiB is refused before being read.
#[test]
fn a_crs_file_that_is_a_device_fifo_directory_or_huge_is_refused() {
    for device in ["/dev/zero", "/dev/urandom", "/dev/null"] {
        let e = load_path(device.into());
        assert_eq!(e.file, device);
        assert_eq!(e.to_string(), format!("{device}: is not a regular file (a device); give the path of a CRS file (TOML or JSON)"));
    }
    let s = Scratch::new("h6-crs-special");
    let fifo = s.path("city.toml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let e = load_path(fifo.clone());
    assert_eq!(
        e.message,
        "is not a regular file (a FIFO); give the path of a CRS file (TOML or JSON)"
    );
    assert_eq!(e.file, fifo.display().to_string());
    let e = load_path(s.0.clone());
    assert!(e.message.starts_with("is not a regular file (a directory)"), "{e}");

    let big = s.path("big.toml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(16 * 1024 * 1024 + 1).unwrap(); // sparse: nothing written
    let e = load_path(big.clone());
    assert_eq!(
        e.to_string(),
        format!(
            "{}: is larger than 16 MiB; a CRS file holds a city's definitions, a few kilobytes",
            big.display()
        )
    );
    // Exactly at the cap it is read (and refused for its content, not its size).
    f.set_len(16 * 1024 * 1024).unwrap();
    let e = load_path(big);
    assert!(!e.message.contains("larger"), "{e}");
}

/// A 65,536-character id (multi-byte characters) neither panics nor floods a message: ids are
/// shown by their first 64 characters and "…".
#[test]
fn very_long_ids_do_not_panic_and_are_shortened_in_messages() {
    let long = "城".repeat(65_536);
    let shown = format!("{}…", "城".repeat(64));
    let r = Registry::new();
    let e = r.lookup(&long).unwrap_err();
    assert_eq!(e.to_string(), format!("unknown CRS id '{shown}' (try `geounify crs list`)"));
    let e = r.transformer("EPSG:4490", &format!("EPSG:{long}")).unwrap_err();
    assert!(e.to_string().len() < 300, "{}", e.to_string().len());

    // In a CRS file: defined twice, unknown base, unknown datum.
    let entry = |base: &str| {
        format!(
            "[[crs]]\nid = \"{long}\"\nbase = \"{base}\"\n\
             planar = {{ method = \"helmert4\", dx = 1.0, dy = 2.0, theta = 0.0, s = 0.0 }}\n"
        )
    };
    let e = load(&(entry("EPSG:4547") + &entry("EPSG:4547"))).unwrap_err();
    assert_eq!(e.field, Some(format!("crs[{shown}].id")));
    assert_eq!(
        e.message,
        format!("CRS id '{shown}' is defined twice in this file (first on line 2)")
    );
    let e = load(&entry(&"郊".repeat(65_536))).unwrap_err();
    assert_eq!(e.message, format!("unknown CRS '{}…'", "郊".repeat(64)));
    let e = load(&format!("[[crs]]\nid = \"a\"\ndatum = \"{long}\"\n")).unwrap_err();
    assert!(e.message.starts_with(&format!("unknown datum '{shown}' (")), "{e}");
    // And the id itself, once defined, is looked up whole.
    let r = load(&entry("EPSG:4547")).unwrap();
    assert_eq!(r.lookup(&long).unwrap().id(), long);
}
