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

/// 5,000 entries (the most a file may hold since `crs_file::MAX_ENTRIES`; this test loaded
/// 40,000 before that cap) load, and the last is found: positions are no longer recounted from
/// the start of the file for every key (4,000 entries took 20 s that way), ids are found by
/// hash, not by scanning. (A structural proof of the position bound, on 40,000 entries, is the
/// unit test `crs_file::toml::tests::positions_do_not_rescan_the_file`; timing is not tested
/// here.)
#[test]
fn forty_thousand_crs_entries_load() {
    let r = load(&chain_file(5_000, false)).unwrap();
    assert_eq!(r.user_crss().len(), 5_000);
    assert_eq!(r.lookup("CITY:G4999").unwrap().id(), "city:g4999");
    assert!(r.transformer("city:g4999", "EPSG:4490").is_ok());
}

/// A base chain of 8 local grids loads; the 9th level is refused naming its line and field
/// (the cap bounds memory: every CRS holds a copy of its base chain).
#[test]
fn base_chains_are_capped_at_eight_local_grids() {
    let r = load(&chain_file(9, true)).unwrap();
    let t = r.transformer("city:g8", "city:g0").unwrap();
    let [x, y, _] = t.transform([0.0, 0.0, 0.0]).unwrap();
    assert!((x + 8.0).abs() < 1e-9 && (y + 16.0).abs() < 1e-9, "{x} {y}");

    let e = load(&chain_file(10, true)).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("crs[city:g9].base"), "{e}");
    assert_eq!(e.line, Some(9 * 5 + 3), "{e}");
    assert!(e.message.contains("more than 8 local grids"), "{e}");

    // Also across files: a second file may not stack a 9th level on the first's 8.
    let mut r = load(&chain_file(9, true)).unwrap();
    let more = "[[crs]]\nid = \"more\"\nbase = \"city:g8\"\n\
                planar = { method = \"helmert4\", dx = 1.0, dy = 2.0, theta = 0.0, s = 0.0 }\n";
    let e = r.load_str(more, "more.toml", Format::Toml).unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (Some(3), Some("crs[more].base")), "{e}");
}

/// A 5,000-entry chain (written in reverse order, so each entry's base comes later) is refused
/// at the 9th level, without walking it quadratically or overflowing the stack. (20,000 before
/// `crs_file::MAX_ENTRIES` refused such a file by its size.)
#[test]
fn a_very_long_base_chain_is_refused_not_overflowed() {
    let n = 5_000;
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
    assert_eq!(e.field.as_deref(), Some("crs[g9].base"), "{e}");
    assert!(e.message.contains("more than 8 local grids"), "{e}");
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
    let fifo = s.fifo("city.toml");
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

// ---------------------------------------------------------------------------------------------
// Shapefile allocation bombs: every declared size is checked against the real file before
// anything is allocated from it.

use geounify::convert::{convert_file, ConvertError, ConvertOptions, NoProgress};

/// A `.shp` and `.shx` of shape type `shape_type` holding `records` (raw record contents), each
/// record's declared content length in words as given (`None`: the true one).
fn write_shp(s: &Scratch, stem: &str, shape_type: i32, records: &[(Vec<u8>, Option<i32>)]) {
    let header = |words: usize| {
        let mut h = vec![0u8; 100];
        h[0..4].copy_from_slice(&9994i32.to_be_bytes());
        h[24..28].copy_from_slice(&(words as i32).to_be_bytes());
        h[28..32].copy_from_slice(&1000i32.to_le_bytes());
        h[32..36].copy_from_slice(&shape_type.to_le_bytes());
        h
    };
    let mut body = Vec::new();
    let mut index = Vec::new();
    for (n, (content, words)) in records.iter().enumerate() {
        let words = words.unwrap_or((content.len() / 2) as i32);
        index.extend((((100 + body.len()) / 2) as i32).to_be_bytes());
        index.extend(words.to_be_bytes());
        body.extend((n as i32 + 1).to_be_bytes());
        body.extend(words.to_be_bytes());
        body.extend(content);
    }
    let mut shp = header((100 + body.len()) / 2);
    shp.extend(&body);
    let mut shx = header((100 + index.len()) / 2);
    shx.extend(&index);
    s.write(&format!("{stem}.shp"), shp);
    s.write(&format!("{stem}.shx"), shx);
}

fn convert_shp(s: &Scratch, stem: &str) -> Result<geounify::convert::ConvertReport, ConvertError> {
    let from = geounify::catalogue::lookup("EPSG:4326").unwrap();
    let to = geounify::catalogue::lookup("EPSG:4490").unwrap();
    let options = ConvertOptions { force: true, ..ConvertOptions::default() };
    convert_file(
        &s.path(&format!("{stem}.shp")),
        &s.path("out.shp"),
        &from,
        &to,
        &options,
        &NoProgress,
    )
}

fn malformed(result: Result<geounify::convert::ConvertReport, ConvertError>) -> (String, String) {
    match result {
        Err(ConvertError::Malformed { location, message, .. }) => (location, message),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// A Polygon record of 100 bytes claiming 2^31 − 1 points (and one claiming 2^31 − 1 parts):
/// refused by its size, naming the record, nothing allocated from the claim, nothing written.
#[test]
fn a_shapefile_record_claiming_two_billion_points_in_100_bytes_is_refused() {
    let s = Scratch::new("h6-shp-points");
    let polygon = |parts: i32, points: i32| {
        let mut c = 5i32.to_le_bytes().to_vec();
        c.extend([0u8; 32]);
        c.extend(parts.to_le_bytes());
        c.extend(points.to_le_bytes());
        c.extend(0i32.to_le_bytes());
        c.resize(100, 0);
        c
    };
    write_shp(&s, "bomb", 5, &[(polygon(1, 4), None), (polygon(1, i32::MAX), None)]);
    let (location, message) = malformed(convert_shp(&s, "bomb"));
    // The first record is itself malformed (4 points need 112 bytes); the point is the error.
    assert_eq!(
        (location.as_str(), message.as_str()),
        ("record 1", "a Polygon record of 100 bytes (expected 112)")
    );
    write_shp(&s, "bomb", 5, &[(polygon(1, i32::MAX), None)]);
    let (location, message) = malformed(convert_shp(&s, "bomb"));
    assert_eq!(location, "record 1");
    assert_eq!(message, "a Polygon record of 100 bytes (expected 34359738400)");
    write_shp(&s, "bomb", 5, &[(polygon(i32::MAX, 1), None)]);
    let (_, message) = malformed(convert_shp(&s, "bomb"));
    assert_eq!(message, "a Polygon record of 100 bytes (expected 8589934648)");
    // A record declaring 2^31 − 1 words of content in a file of a few hundred bytes.
    write_shp(&s, "bomb", 5, &[(polygon(1, 4), Some(i32::MAX))]);
    let (location, message) = malformed(convert_shp(&s, "bomb"));
    assert_eq!(location, "record 1");
    assert_eq!(
        message,
        "content of 4294967294 bytes runs past the end of the file (100 bytes left)"
    );
    assert_eq!(s.listing(), ["bomb.shp", "bomb.shx"], "nothing written");
}

/// A `.dbf` whose header declares more rows than its file holds is reported (it is copied byte
/// for byte and never loaded, so the declared size allocates nothing).
#[test]
fn a_dbf_declaring_more_rows_than_it_holds_is_reported() {
    let s = Scratch::new("h6-dbf");
    let mut c = 1i32.to_le_bytes().to_vec();
    c.extend(116.4f64.to_le_bytes());
    c.extend(39.9f64.to_le_bytes());
    write_shp(&s, "p", 1, &[(c, None)]);
    // dBASE III header: 0x03, date, rows = 2^31, header 65, row length 11, one C 10 field.
    let mut dbf = vec![0x03, 125, 1, 1];
    dbf.extend((1u32 << 31).to_le_bytes());
    dbf.extend(65u16.to_le_bytes());
    dbf.extend(11u16.to_le_bytes());
    dbf.extend([0u8; 20]);
    let mut field = [0u8; 32];
    field[..4].copy_from_slice(b"NAME");
    field[11] = b'C';
    field[16] = 10;
    dbf.extend(field);
    dbf.push(0x0D);
    dbf.extend(b" abcdefghij");
    dbf.push(0x1A);
    let dbf_path = s.write("p.dbf", &dbf);
    let report = convert_shp(&s, "p").unwrap();
    let d = dbf_path.display();
    assert!(
        report.warnings.contains(&format!("{d}: 2147483648 rows for 1 shapes (copied unchanged)")),
        "{:?}",
        report.warnings
    );
    assert!(
        report.warnings.contains(&format!("{d}: the header declares 23622320193 bytes (2147483648 rows of 11 bytes after a header of 65) but the file has 77 (copied unchanged)")),
        "{:?}",
        report.warnings
    );
    assert_eq!(std::fs::read(s.path("out.dbf")).unwrap(), dbf, "copied byte for byte");
}

/// A 1 GiB record (a sparse file: its length is real, its bytes are not written) under a
/// 400 MB address-space limit: the record's buffer cannot be had, and the conversion fails with
/// an error naming the record instead of the process aborting.
#[test]
fn a_record_larger_than_memory_is_an_error_not_an_abort() {
    let s = Scratch::new("h6-shp-huge");
    let len: u64 = 1 << 30;
    let mut header = vec![0u8; 100];
    header[0..4].copy_from_slice(&9994i32.to_be_bytes());
    header[28..32].copy_from_slice(&1000i32.to_le_bytes());
    header[32..36].copy_from_slice(&5i32.to_le_bytes());
    let mut shp = header.clone();
    shp[24..28].copy_from_slice(&(((108 + len) / 2) as i32).to_be_bytes());
    shp.extend(1i32.to_be_bytes());
    shp.extend(((len / 2) as i32).to_be_bytes());
    let shp_path = s.write("huge.shp", &shp);
    std::fs::OpenOptions::new().write(true).open(&shp_path).unwrap().set_len(108 + len).unwrap();
    let mut shx = header;
    shx[24..28].copy_from_slice(&(108i32 / 2).to_be_bytes());
    shx.extend(50i32.to_be_bytes());
    shx.extend(((len / 2) as i32).to_be_bytes());
    s.write("huge.shx", &shx);
    let bin = env!("CARGO_BIN_EXE_geounify");
    let script = format!(
        "ulimit -v 400000 && exec '{bin}' convert --from EPSG:4326 --to EPSG:4490 --force \
         --output '{}' '{}'",
        s.path("out.shp").display(),
        shp_path.display()
    );
    // One worker thread and few malloc arenas, so that the limit is about the record, not
    // about the machine's core count (each thread's stack and arena is address space).
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("RAYON_NUM_THREADS", "1")
        .env("MALLOC_ARENA_MAX", "2")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{:?} {stderr}", out.status);
    assert!(
        stderr.contains(&format!(
            "{}: record 1: content of 1073741824 bytes does not fit in memory",
            shp_path.display()
        )),
        "{stderr}"
    );
    assert_eq!(s.listing(), ["huge.shp", "huge.shx"], "nothing written");
}

// ---------------------------------------------------------------------------------------------
// Item 7: GCJ-02 at the edges of its box and near the poles.

use geounify::ops::gcj02::{gcj02_to_wgs84_deg, wgs84_to_gcj02_deg, MAX_OFFSET_DEG};
use geounify::ops::ChinaBounds;
use geounify::PointError;

const GCJ_OUTSIDE: PointError = PointError::OutsideDomain { operation: "gcj02" };

/// A WGS84 point just inside the usual box's east edge whose offset pushes it out: it was
/// converted to a GCJ-02 point outside the box, whose inverse is itself — a silent 1 km jump.
/// Now the forward refuses it.
#[test]
fn gcj02_forward_refuses_a_point_its_offset_pushes_out_of_the_box() {
    let b = ChinaBounds::UsualBox;
    let w = (137.834, 30.0);
    assert_eq!(wgs84_to_gcj02_deg(w.0, w.1, &b), Err(GCJ_OUTSIDE));
    // Where the image stays inside, the forward is unchanged and inverts exactly.
    let (lon, lat) = wgs84_to_gcj02_deg(137.82, 30.0, &b).unwrap();
    assert!(lon <= 137.8347 && lon > 137.82, "{lon}");
    let back = gcj02_to_wgs84_deg(lon, lat, &b).unwrap();
    assert!((back.0 - 137.82).abs() < 1e-12 && (back.1 - 30.0).abs() < 1e-12, "{back:?}");
}

/// Along every edge of the usual box, a dense walk across a 0.05° strip each way: each
/// direction is the identity composed with the other, or an error — never another point.
#[test]
fn gcj02_is_one_to_one_at_every_edge_of_the_box() {
    let b = ChinaBounds::UsualBox;
    let (w, e, s, n) = ChinaBounds::USUAL_BOX_DEG;
    let mut points = Vec::new();
    for i in 0..=200 {
        let across = -0.025 + 0.05 * f64::from(i) / 200.0;
        for j in 0..=40 {
            let along = f64::from(j) / 40.0;
            let lon = w + (e - w) * along;
            let lat = s + (n - s) * along;
            points.extend([
                (w + across, lat),
                (e + across, lat),
                (lon, s + across),
                (lon, n + across),
            ]);
        }
    }
    let (mut refused_forward, mut refused_inverse) = (0, 0);
    for &(lon, lat) in &points {
        match wgs84_to_gcj02_deg(lon, lat, &b) {
            Ok(g) => match gcj02_to_wgs84_deg(g.0, g.1, &b) {
                Ok(back) => assert!(
                    (back.0 - lon).abs() < 1e-11 && (back.1 - lat).abs() < 1e-11,
                    "{lon} {lat}"
                ),
                // Only a point or an image on an edge (to a rounding) can be refused back.
                Err(_) => {
                    let margin = |(x, y): (f64, f64)| {
                        (x - w).abs().min((x - e).abs()).min((y - s).abs()).min((y - n).abs())
                    };
                    let margin = margin(g).min(margin((lon, lat)));
                    assert!(margin < 1e-11, "{lon} {lat}: inverse refused {margin} from an edge");
                }
            },
            Err(error) => {
                assert_eq!(error, GCJ_OUTSIDE);
                refused_forward += 1;
            }
        }
        match gcj02_to_wgs84_deg(lon, lat, &b) {
            Ok(p) => {
                let again = wgs84_to_gcj02_deg(p.0, p.1, &b).unwrap();
                assert!(
                    (again.0 - lon).abs() < 1e-11 && (again.1 - lat).abs() < 1e-11,
                    "{lon} {lat}"
                );
            }
            Err(error) => {
                assert_eq!(error, GCJ_OUTSIDE);
                refused_inverse += 1;
            }
        }
    }
    // Both refusals occur (east and south edges: the offset points out of the box there).
    assert!(refused_forward > 0 && refused_inverse > 0, "{refused_forward} {refused_inverse}");
}

/// With `ChinaBounds::Everywhere` near the poles the formula's 1/cos φ gave longitudes of ~1e15°
/// as Ok: offsets beyond 1° are refused, both ways.
#[test]
fn gcj02_everywhere_near_the_poles_is_refused_not_a_huge_longitude() {
    let b = ChinaBounds::Everywhere;
    assert_eq!(MAX_OFFSET_DEG, 1.0);
    for lat in [90.0, 89.999_999_9, -89.999_999, 89.99] {
        assert_eq!(wgs84_to_gcj02_deg(116.0, lat, &b), Err(GCJ_OUTSIDE), "{lat}");
        let inverse = gcj02_to_wgs84_deg(116.0, lat, &b);
        assert!(
            matches!(inverse, Err(GCJ_OUTSIDE | PointError::NoConvergence { .. })),
            "{lat}: {inverse:?}"
        );
    }
    // Away from the poles Everywhere still converts (and inverts) far from China.
    let g = wgs84_to_gcj02_deg(2.35, 48.85, &b).unwrap();
    assert!((g.0 - 2.35).abs() < 1.0 && (g.0 - 2.35).abs() > 1e-3, "{g:?}");
    let back = gcj02_to_wgs84_deg(g.0, g.1, &b).unwrap();
    assert!((back.0 - 2.35).abs() < 1e-11 && (back.1 - 48.85).abs() < 1e-11);
}

// ---------------------------------------------------------------------------------------------
// Item 7: Gauss-Krüger inverse at and over the pole, and far eastings.

use geounify::ops::{GaussKruger, GaussKrugerParams, Operation};
use geounify::Ellipsoid;

fn gk(lon0: f64) -> GaussKruger {
    GaussKruger::new(
        &Ellipsoid::grs80(),
        GaussKrugerParams { lon0, lat0: 0.0, k0: 1.0, x0: 500_000.0, y0: 0.0 },
    )
    .unwrap()
}

const GK_OUTSIDE: PointError = PointError::OutsideDomain { operation: "gauss-kruger inverse" };

/// The GRS80 meridian arc from the equator to the pole, metres.
const POLE_NORTHING: f64 = 10_001_965.729;

/// A northing beyond the pole came back as longitude 297° (the 117° zone's opposite meridian)
/// and a northing wrapped past a full turn as an unrelated point; now both are refused, and
/// the pole itself still inverts to latitude 90°.
#[test]
fn gauss_kruger_inverse_over_the_pole_is_refused_not_the_opposite_meridian() {
    let zone = gk(117.0);
    let [_, lat, _] = zone.inverse([500_000.0, POLE_NORTHING, 0.0]).unwrap();
    assert!((lat.to_degrees() - 90.0).abs() < 1e-8, "{}", lat.to_degrees()); // 1 mm
    for n in [POLE_NORTHING + 1.0, 10_100_000.0, 15_000_000.0, 19_000_000.0, 2.0 * POLE_NORTHING] {
        for e in [500_000.0, 400_000.0, 1_500_000.0] {
            assert_eq!(zone.inverse([e, n, 0.0]), Err(GK_OUTSIDE), "{e} {n}");
            assert_eq!(zone.inverse([e, -n, 0.0]), Err(GK_OUTSIDE), "{e} -{n}");
        }
    }
    // Wrapped by a whole turn of ξ (4 × the pole's northing): was a point near the equator.
    assert_eq!(zone.inverse([500_000.0, 4.0 * POLE_NORTHING + 1000.0, 0.0]), Err(GK_OUTSIDE));
    assert_eq!(zone.inverse([500_000.0, 6.0e10, 0.0]), Err(GK_OUTSIDE));
}

/// Far eastings (up to the series' limit) at every northing: each inverse is refused or lies
/// within 90° of the central meridian, normalised to ±180°, and its forward gives the point
/// back (to 1 mm; far out the series is only approximate).
#[test]
fn gauss_kruger_inverse_stays_in_the_forward_domain() {
    for lon0 in [117.0, 177.0, -177.0] {
        let zone = gk(lon0);
        let mut inverted = 0;
        for i in -40..=40 {
            for k in -44..=44 {
                let e = 500_000.0 + f64::from(i) * 250_000.0;
                let n = f64::from(k) * 250_000.0;
                let Ok([lon, lat, _]) = zone.inverse([e, n, 0.0]) else { continue };
                inverted += 1;
                let (lon_d, lat_d) = (lon.to_degrees(), lat.to_degrees());
                assert!(lon_d.abs() <= 180.0 && lat_d.abs() <= 90.0, "{e} {n}: {lon_d} {lat_d}");
                let dl = (lon_d - lon0 + 540.0).rem_euclid(360.0) - 180.0;
                assert!(dl.abs() <= 90.0 + 1e-9, "{e} {n}: {lon_d} is {dl}° from {lon0}");
                if dl.abs() < 60.0 && lat_d.abs() < 89.0 {
                    let [e2, n2, _] = zone.forward([lon, lat, 0.0]).unwrap();
                    assert!((e2 - e).abs() < 1e-3 && (n2 - n).abs() < 1e-3, "{e} {n}");
                }
            }
        }
        assert!(inverted > 3000, "{inverted}");
    }
    // lon0 = 177°: a point 10° east comes back as −173°, not 187°.
    let zone = gk(177.0);
    let [e, n, _] = zone.forward([(-173.0f64).to_radians(), 0.5, 0.0]).unwrap();
    let [lon, _, _] = zone.inverse([e, n, 0.0]).unwrap();
    assert!((lon.to_degrees() + 173.0).abs() < 1e-9, "{}", lon.to_degrees());
}

// ---------------------------------------------------------------------------------------------
// Item 7: a poly2 grid that folds inside its area is refused at load; without an area, points
// beyond the fold are refused one by one.

/// A poly2 grid on the 117° E zone whose E' = u + 1.07531e-5·u² folds back at u ≈ −46.5 km
/// (E ≈ 453.5 km, about 116.45° E at 40° N); `area` is its `area` table or nothing.
fn folding_grid(area: &str) -> String {
    format!(
        "[[crs]]\nid = \"fold\"\nbase = \"EPSG:4548\"\n{area}\
         planar = {{ method = \"poly2\", e0 = 500000.0, n0 = 4420000.0, \
         a = [0.0, 1.0, 0.0, 1.07531e-5, 0.0, 0.0], b = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0] }}\n"
    )
}

#[test]
fn a_poly2_grid_folding_inside_its_area_is_refused_at_load() {
    let e =
        load(&folding_grid("area = { west = 116.0, south = 39.5, east = 117.5, north = 40.5 }\n"))
            .unwrap_err();
    let shown = e.to_string();
    assert_eq!((e.line, e.field.as_deref()), (Some(5), Some("crs[fold].planar")), "{shown}");
    assert!(e.message.starts_with("the poly2 map folds inside the CRS's area of use"), "{shown}");
    assert!(!shown.contains("7531") && !shown.contains("116"), "a value leaked: {shown}");
    // An area on the origin's side of the fold (and away from it) loads.
    let r =
        load(&folding_grid("area = { west = 116.7, south = 39.5, east = 117.3, north = 40.5 }\n"))
            .unwrap();
    let t = r.transformer("EPSG:4490", "fold").unwrap();
    let p = t.transform([116.9, 40.0, 0.0]).unwrap();
    let back = t.inverse().transform(p).unwrap();
    assert!((back[0] - 116.9).abs() < 1e-9 && (back[1] - 40.0).abs() < 1e-9, "{back:?}");
}

/// Without an area the grid loads; a point beyond the fold is refused (it converted to a value
/// whose inverse is another point, on the origin's side), with the reason.
#[test]
fn a_point_beyond_a_poly2_fold_is_refused_with_its_reason() {
    let r = load(&folding_grid("")).unwrap();
    let t = r.transformer("EPSG:4490", "fold").unwrap();
    let e = t.transform([116.0, 40.0, 0.0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "point is outside the domain of poly2 (beyond the fold of the grid, where it maps two \
         points to one)"
    );
    // On the origin's side points convert and come back.
    let p = t.transform([116.6, 40.0, 0.0]).unwrap();
    let back = t.inverse().transform(p).unwrap();
    assert!((back[0] - 116.6).abs() < 1e-9 && (back[1] - 40.0).abs() < 1e-9, "{back:?}");

    // Folded along both axes: beyond both folds the determinant has the origin's sign again
    // (another sheet), and that point converted to the image of a point near the origin.
    let both = folding_grid("")
        .replace("b = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]", "b = [0.0, 0.0, 1.0, 0.0, 0.0, 1.07531e-5]");
    let r = load(&both).unwrap();
    let t = r.transformer("EPSG:4548", "fold").unwrap();
    let e = t.transform([400_000.0, 4_320_000.0, 0.0]).unwrap_err();
    assert!(e.to_string().contains("beyond the fold of the grid"), "{e}");
    let p = t.transform([480_000.0, 4_400_000.0, 0.0]).unwrap();
    let back = t.inverse().transform(p).unwrap();
    assert!((back[0] - 480_000.0).abs() < 1e-6 && (back[1] - 4_400_000.0).abs() < 1e-6);
}
