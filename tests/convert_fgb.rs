//! FlatGeobuf conversion: files GDAL wrote (`tests/data/gdal/`, commands in its README)
//! converted by geounify and checked with an independent FlatGeobuf walker written below (not
//! geounify's reader): coordinates against GDAL's own `ogr2ogr -t_srs` (PROJ) within 1 µm,
//! every byte other than the coordinates kept, the packed R-tree valid as the specification
//! lays it out, round trips, conversions into and from other formats, bad and empty input.
#![cfg(feature = "formats")]

mod common;
use common::conversion::{convert as convert_with, convert_skipping as convert};
use common::crs;
use common::scratch::Scratch;
use geounify::convert::{ConvertError, ConvertOptions};
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gdal").join(name)
}

// ---- An independent FlatGeobuf walker -------------------------------------------------------

fn u16_at(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]) as usize
}
fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}
fn f64_at(b: &[u8], at: usize) -> f64 {
    f64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// A field's position in the table at `t`, if set.
fn field(b: &[u8], t: usize, id: usize) -> Option<usize> {
    let vt = (t as i64 - i32::from_le_bytes(b[t..t + 4].try_into().unwrap()) as i64) as usize;
    let len = u16_at(b, vt);
    (4 + 2 * id < len).then(|| u16_at(b, vt + 4 + 2 * id)).filter(|o| *o != 0).map(|o| t + o)
}
fn target(b: &[u8], t: usize, id: usize) -> Option<usize> {
    field(b, t, id).map(|p| p + u32_at(b, p))
}
/// A vector field: first element's position, length.
fn vector(b: &[u8], t: usize, id: usize) -> Option<(usize, usize)> {
    target(b, t, id).map(|v| (v + 4, u32_at(b, v)))
}

/// What the walker reads of a file.
struct Fgb {
    bytes: Vec<u8>,
    /// Where the features start.
    features_at: usize,
    features_count: u64,
    node_size: u16,
    envelope: Option<Vec<f64>>,
    crs_code: Option<i32>,
    column_names: Vec<String>,
    /// Each feature: its byte range (size prefix included), its coordinate ranges (xy, z
    /// arrays, in the order they appear), its coordinates as x y [z] per point, its properties.
    features: Vec<Walked>,
}

struct Walked {
    range: std::ops::Range<usize>,
    arrays: Vec<std::ops::Range<usize>>,
    coords: Vec<f64>,
    properties: Vec<u8>,
}

fn geometry(b: &[u8], g: usize, w: &mut Walked) {
    if let Some((xy, n)) = vector(b, g, 1) {
        w.arrays.push(xy..xy + 8 * n);
        let z = vector(b, g, 2);
        if let Some((z, zn)) = z {
            w.arrays.push(z..z + 8 * zn);
        }
        for i in 0..n / 2 {
            w.coords.push(f64_at(b, xy + 16 * i));
            w.coords.push(f64_at(b, xy + 16 * i + 8));
            if let Some((z, _)) = z {
                w.coords.push(f64_at(b, z + 8 * i));
            }
        }
    }
    if let Some((parts, n)) = vector(b, g, 7) {
        for i in 0..n {
            let p = parts + 4 * i;
            geometry(b, p + u32_at(b, p), w);
        }
    }
}

fn walk(path: &Path) -> Fgb {
    let bytes = std::fs::read(path).unwrap();
    let b = &bytes[..];
    assert_eq!(&b[..7], b"fgb\x03fgb", "{}", path.display());
    let hb = &b[12..12 + u32_at(b, 8)];
    let h = u32_at(hb, 0);
    let count = field(hb, h, 8).map_or(0, |p| u64::from_le_bytes(hb[p..p + 8].try_into().unwrap()));
    let node_size = field(hb, h, 9).map_or(16, |p| u16_at(hb, p)) as u16;
    let envelope = vector(hb, h, 1).map(|(at, n)| (0..n).map(|i| f64_at(hb, at + 8 * i)).collect());
    let crs_code = target(hb, h, 10).and_then(|c| {
        field(hb, c, 1).map(|p| i32::from_le_bytes(hb[p..p + 4].try_into().unwrap()))
    });
    let mut column_names = Vec::new();
    if let Some((cols, n)) = vector(hb, h, 7) {
        for i in 0..n {
            let p = cols + 4 * i;
            let c = p + u32_at(hb, p);
            let (s, len) = vector(hb, c, 0).unwrap();
            column_names.push(String::from_utf8(hb[s..s + len].to_vec()).unwrap());
        }
    }
    let mut at = 12 + hb.len();
    if node_size > 0 && count > 0 {
        at += 40 * nodes(count, node_size) as usize;
    }
    let features_at = at;
    let mut features = Vec::new();
    while at < b.len() {
        let len = u32_at(b, at);
        let fb = &b[at + 4..at + 4 + len];
        let root = u32_at(fb, 0);
        let mut w = Walked {
            range: at..at + 4 + len,
            arrays: Vec::new(),
            coords: Vec::new(),
            properties: Vec::new(),
        };
        if let Some(g) = target(fb, root, 0) {
            geometry(fb, g, &mut w);
        }
        w.arrays = w.arrays.iter().map(|r| r.start + at + 4..r.end + at + 4).collect();
        if let Some((p, n)) = vector(fb, root, 1) {
            w.properties = fb[p..p + n].to_vec();
        }
        features.push(w);
        at += 4 + len;
    }
    Fgb {
        features_at,
        features_count: count,
        node_size,
        envelope,
        crs_code,
        column_names,
        features,
        bytes,
    }
}

/// The node count of a packed R-tree (the specification's level bounds).
fn nodes(n: u64, size: u16) -> u64 {
    let (mut k, mut total) = (n, n);
    loop {
        k = k.div_ceil(u64::from(size));
        total += k;
        if k == 1 {
            return total;
        }
    }
}

/// Checks the index of `f`: root box = envelope = union of the leaves; each leaf's offset is its
/// feature's; every parent's box is the union of its children (offset = its first child).
fn check_index(f: &Fgb) {
    let n = f.features.len() as u64;
    assert_eq!(f.features_count, n);
    let total = nodes(n, f.node_size) as usize;
    let at = f.features_at - 40 * total;
    let node = |i: usize| {
        let p = at + 40 * i;
        let v: Vec<f64> = (0..4).map(|k| f64_at(&f.bytes, p + 8 * k)).collect();
        (v, u64::from_le_bytes(f.bytes[p + 32..p + 40].try_into().unwrap()))
    };
    let leaf0 = total - n as usize;
    for (k, w) in f.features.iter().enumerate() {
        let (_, off) = node(leaf0 + k);
        assert_eq!(off as usize, w.range.start - f.features_at, "leaf {k}");
        let dim = if w.coords.len() % 3 == 0 && w.coords.len() % 2 != 0 { 3 } else { 2 };
        let _ = dim;
    }
    // Parents: the level bounds, leaves first.
    let mut bounds = vec![];
    let (mut k, mut end) = (n as usize, total);
    loop {
        bounds.push((end - k, end));
        end -= k;
        if k == 1 {
            break;
        }
        k = k.div_ceil(f.node_size as usize);
    }
    for level in 0..bounds.len() - 1 {
        let (start, stop) = bounds[level];
        let mut parent = bounds[level + 1].0;
        let mut pos = start;
        while pos < stop {
            let (pb, poff) = node(parent);
            assert_eq!(poff as usize, pos, "parent {parent} points at its first child");
            let mut u = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
            for c in pos..(pos + f.node_size as usize).min(stop) {
                let (cb, _) = node(c);
                u = [u[0].min(cb[0]), u[1].min(cb[1]), u[2].max(cb[2]), u[3].max(cb[3])];
            }
            assert_eq!(pb, u.to_vec(), "parent {parent}");
            pos += f.node_size as usize;
            parent += 1;
        }
    }
    let (root, _) = node(0);
    assert_eq!(Some(root), f.envelope.clone());
}

/// The numbers of the WKT column (the first, quoted) of each row of a GDAL CSV, and the row.
fn gdal_rows(csv: &str) -> Vec<(Vec<f64>, String)> {
    csv.lines()
        .skip(1)
        .map(|l| {
            let wkt = &l[1..l[1..].find('"').unwrap() + 1];
            let nums = wkt
                .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap())
                .collect();
            (nums, l.to_string())
        })
        .collect()
}

fn assert_close(ours: &[f64], theirs: &[f64], tol: f64, what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: {ours:?} vs {theirs:?}");
    for (a, b) in ours.iter().zip(theirs) {
        assert!((a - b).abs() <= tol, "{what}: {a} vs {b} (tolerance {tol})");
    }
}

// ---- Same format ----------------------------------------------------------------------------

#[test]
fn gdal_files_convert_as_ogr2ogr_converts_them_and_keep_every_other_byte() {
    let dir = Scratch::new("fgb-gdal");
    for (input, reference) in [
        ("cgcs2000.fgb", "cgcs2000_4547.csv"),
        ("cgcs2000_noindex.fgb", "cgcs2000_4547.csv"),
        ("cgcs2000_3d.fgb", "cgcs2000_3d_4547.csv"),
    ] {
        let out = dir.path(&format!("out-{input}"));
        let report = convert(&data(input), &out, &crs("EPSG:4490"), &crs("EPSG:4547"), false)
            .unwrap_or_else(|e| panic!("{input}: {e}"));
        let (a, b) = (walk(&data(input)), walk(&out));
        assert_eq!(report.features, a.features.len() as u64);
        assert_eq!(b.crs_code, Some(4547));
        assert_eq!(a.column_names, b.column_names);
        // GDAL's reference rows are in the input's order; match them by the id column.
        let reference = std::fs::read_to_string(data(reference)).unwrap();
        let rows = gdal_rows(&reference);
        assert_eq!(rows.len(), b.features.len(), "{input}");
        let mut ids: Vec<i64> = Vec::new();
        for (wa, wb) in a.features.iter().zip(&b.features) {
            // Same feature size, same properties, every byte outside the coordinates equal.
            let (da, db) = (a.features_at, b.features_at);
            assert_eq!(wa.range.start - da, wb.range.start - db, "{input}: feature offsets kept");
            assert_eq!(wa.range.len(), wb.range.len(), "{input}: feature sizes kept");
            assert_eq!(wa.properties, wb.properties, "{input}: properties bytes");
            let mut mask = vec![false; b.bytes.len()];
            for r in &wb.arrays {
                mask[r.clone()].iter_mut().for_each(|m| *m = true);
            }
            for (i, j) in wa.range.clone().zip(wb.range.clone()) {
                if !mask[j] {
                    assert_eq!(a.bytes[i], b.bytes[j], "{input}: byte {i} outside the coordinates");
                }
            }
            // The id: column 0, a 32-bit integer.
            ids.push(i64::from(i32::from_le_bytes(wb.properties[2..6].try_into().unwrap())));
        }
        for (wb, id) in b.features.iter().zip(&ids) {
            let (theirs, row) =
                rows.iter().find(|(_, r)| r.contains(&format!("\"{id}\""))).unwrap();
            assert_close(&wb.coords, theirs, 1e-6, &format!("{input}: {row}"));
        }
        if a.node_size > 0 && !input.contains("noindex") {
            check_index(&b);
        } else {
            assert_eq!(b.features_at, 12 + u32_at(&b.bytes, 8), "no index added");
        }
        let env = b.envelope.clone().unwrap();
        let xs: Vec<f64> = b
            .features
            .iter()
            .flat_map(|w| {
                let d = if input.contains("3d") { 3 } else { 2 };
                w.coords.chunks(d).map(|c| c[0]).collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(env[0], xs.iter().cloned().fold(f64::INFINITY, f64::min));
        assert_eq!(env[2], xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max));
    }
    // The z of the 3D file (elevations, EPSG:4490 → EPSG:4547 both 2D) is copied.
    let b = walk(&dir.path("out-cgcs2000_3d.fgb"));
    assert_eq!(b.features[0].coords[2], 43.5);
}

#[test]
fn a_round_trip_returns_the_coordinates() {
    let dir = Scratch::new("fgb-round-trip");
    let there = dir.path("there.fgb");
    let back = dir.path("back.fgb");
    convert(&data("cgcs2000.fgb"), &there, &crs("EPSG:4490"), &crs("EPSG:4547"), false).unwrap();
    convert(&there, &back, &crs("EPSG:4547"), &crs("EPSG:4490"), false).unwrap();
    let (a, c) = (walk(&data("cgcs2000.fgb")), walk(&back));
    assert_eq!(c.crs_code, Some(4490));
    for (wa, wc) in a.features.iter().zip(&c.features) {
        assert_close(&wc.coords, &wa.coords, 1e-11, "4490 → 4547 → 4490");
        assert_eq!(wa.properties, wc.properties);
    }
    check_index(&c);
}

#[test]
fn a_target_without_an_epsg_code_is_described_in_the_header() {
    let dir = Scratch::new("fgb-gcj");
    let out = dir.path("gcj.fgb");
    convert(&data("cgcs2000_noindex.fgb"), &out, &crs("EPSG:4490"), &crs("GCJ02"), false).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("GCJ02"), "the geounify id as code_string");
    assert_eq!(walk(&out).crs_code, Some(0));
    // Declared back: the conversion from it without --from names GCJ-02.
    let registry = geounify::Registry::new();
    let declared = geounify::convert::declared_crs(&out, &registry).unwrap();
    assert_eq!(declared.map(|c| c.id().to_string()).as_deref(), Some("GCJ02"));
}

#[test]
fn the_declared_crs_is_read_from_the_header() {
    let registry = geounify::Registry::new();
    let d = geounify::convert::declared_crs(&data("cgcs2000.fgb"), &registry).unwrap();
    assert_eq!(d.map(|c| c.id().to_string()).as_deref(), Some("EPSG:4490"));
    let err = convert(
        &data("cgcs2000.fgb"),
        &std::env::temp_dir().join("never-written.fgb"),
        &crs("EPSG:4547"),
        &crs("EPSG:4490"),
        false,
    )
    .unwrap_err();
    assert!(matches!(err, ConvertError::DeclaredCrsMismatch { .. }), "{err}");
}

#[test]
fn a_failed_point_fails_the_file_or_with_skip_invalid_leaves_its_feature_out() {
    let dir = Scratch::new("fgb-skip");
    // GDAL's indexed file with the second feature's first latitude patched to 95°.
    let mut bytes = std::fs::read(data("cgcs2000.fgb")).unwrap();
    let at = walk(&data("cgcs2000.fgb")).features[1].arrays[0].start + 8;
    bytes[at..at + 8].copy_from_slice(&95f64.to_le_bytes());
    let fgb = dir.write("src.fgb", &bytes);
    let force = ConvertOptions { force: true, ..ConvertOptions::default() };
    let out = dir.path("out.fgb");
    let err = convert_with(&fgb, &out, &crs("EPSG:4490"), &crs("EPSG:4547"), &force).unwrap_err();
    match err {
        ConvertError::PointsFailed { failures, total, .. } => {
            assert_eq!(total, 1);
            assert_eq!(failures[0].location, "feature 2");
        }
        e => panic!("{e}"),
    }
    assert!(!out.exists());
    assert_eq!(dir.listing(), ["src.fgb"]);
    let skip = ConvertOptions { force: true, skip_invalid: true, ..ConvertOptions::default() };
    let report = convert_with(&fgb, &out, &crs("EPSG:4490"), &crs("EPSG:4547"), &skip).unwrap();
    assert_eq!((report.features, report.written, report.skipped.len()), (6, 5, 1));
    let w = walk(&out);
    assert_eq!(w.features.len(), 5);
    check_index(&w);
    assert_eq!(dir.listing(), ["out.fgb", "src.fgb"]);
}

// ---- Between formats ------------------------------------------------------------------------

#[test]
fn features_go_into_and_out_of_other_formats_with_their_attributes() {
    let dir = Scratch::new("fgb-cross");
    // fgb → GeoJSON (same CRS): every feature, Chinese text, the quoted comma, dates.
    let gj = dir.path("a.geojson");
    convert(&data("cgcs2000_noindex.fgb"), &gj, &crs("EPSG:4490"), &crs("EPSG:4490"), false)
        .unwrap();
    let text = std::fs::read_to_string(&gj).unwrap();
    for needle in [
        r#""name":"地块, \"甲\"""#,
        // GDAL writes DateTime values with a time: read as text, as written.
        r#""day":"2024-01-02T00:00:00""#,
        r#""h":null"#,
        r#""coordinates":[116.3975,39.9087]"#,
        "MultiPolygon",
        "MultiLineString",
        "MultiPoint",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
    // GeoJSON → fgb → GeoJSON gives the same document.
    let fgb = dir.path("b.fgb");
    convert(&gj, &fgb, &crs("EPSG:4490"), &crs("EPSG:4490"), false).unwrap();
    check_index(&walk(&fgb));
    let gj2 = dir.path("b.geojson");
    convert(&fgb, &gj2, &crs("EPSG:4490"), &crs("EPSG:4490"), false).unwrap();
    assert_eq!(std::fs::read_to_string(&gj2).unwrap(), text);
    // fgb (3D) → GeoPackage → fgb, converted to EPSG:4547 on the way: GDAL's numbers.
    let gpkg = dir.path("c.gpkg");
    convert(&data("cgcs2000_3d.fgb"), &gpkg, &crs("EPSG:4490"), &crs("EPSG:4547"), false).unwrap();
    let back = dir.path("c.fgb");
    convert(&gpkg, &back, &crs("EPSG:4547"), &crs("EPSG:4547"), false).unwrap();
    let w = walk(&back);
    assert_eq!(w.crs_code, Some(4547));
    let reference = std::fs::read_to_string(data("cgcs2000_3d_4547.csv")).unwrap();
    for (wf, (theirs, row)) in w.features.iter().zip(gdal_rows(&reference)) {
        assert_close(&wf.coords, &theirs, 1e-6, &row);
    }
    // Shapefile (one geometry type) ← fgb lines.
    let shp = dir.path("d.shp");
    let lines = dir.write(
        "lines.geojson",
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"名称":"路"},"geometry":{"type":"LineString","coordinates":[[116.35,39.907],[116.4,39.908]]}}]}"#,
    );
    let lf = dir.path("lines.fgb");
    convert(&lines, &lf, &crs("EPSG:4490"), &crs("EPSG:4490"), false).unwrap();
    convert(&lf, &shp, &crs("EPSG:4490"), &crs("EPSG:4547"), false).unwrap();
    let back = dir.path("e.fgb");
    convert(&shp, &back, &crs("EPSG:4547"), &crs("EPSG:4547"), false).unwrap();
    assert_close(
        &walk(&back).features[0].coords,
        &[700957.622771875, 4421847.60994656, 705230.773159003, 4422072.44106533],
        1e-6,
        "fgb → shp → fgb against GDAL",
    );
}

// ---- Bad and empty input --------------------------------------------------------------------

fn refused(dir: &Scratch, name: &str, bytes: &[u8], expect: &str) {
    let input = dir.write(name, bytes);
    let out = dir.path(&format!("out-{name}"));
    let before = dir.listing();
    let force = ConvertOptions { force: true, ..ConvertOptions::default() };
    for out in [out.clone(), out.with_extension("geojson")] {
        let err = convert_with(&input, &out, &crs("EPSG:4490"), &crs("EPSG:4547"), &force)
            .expect_err(name);
        let msg = err.to_string();
        assert!(matches!(err, ConvertError::Malformed { .. }), "{name}: {msg}");
        assert!(msg.contains(expect), "{name}: {msg}");
        assert_eq!(dir.listing(), before, "{name}: nothing left behind");
    }
}

#[test]
fn bad_input_is_refused_clearly_with_nothing_left_behind() {
    let dir = Scratch::new("fgb-bad");
    let good = std::fs::read(data("cgcs2000.fgb")).unwrap();
    refused(&dir, "magic.fgb", b"PK\x03\x04 not a flatgeobuf at all", "not a FlatGeobuf file");
    let mut v2 = good.clone();
    v2[3] = 2;
    refused(&dir, "v2.fgb", &v2, "FlatGeobuf version 2");
    refused(&dir, "short.fgb", &good[..10], "too short");
    refused(&dir, "truncated.fgb", &good[..good.len() - 7], "feature 6");
    let mut huge_header = good.clone();
    huge_header[8..12].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    refused(&dir, "huge-header.fgb", &huge_header, "a header of 4294967280 bytes");
    // An absurd feature size in the first feature.
    let w = walk(&data("cgcs2000.fgb"));
    let mut huge_feature = good.clone();
    let at = w.features[0].range.start;
    huge_feature[at..at + 4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    refused(&dir, "huge-feature.fgb", &huge_feature, "feature 1");
    // A header vtable pointing outside the buffer.
    let mut bad_table = good.clone();
    bad_table[12..16].copy_from_slice(&0x7FFF_0000u32.to_le_bytes());
    refused(&dir, "bad-table.fgb", &bad_table, "header");
}

#[test]
fn an_absurd_feature_count_with_an_index_is_refused_before_any_allocation() {
    let dir = Scratch::new("fgb-count");
    let good = std::fs::read(data("cgcs2000.fgb")).unwrap();
    // features_count patched to 2^60 (found by the walker): the index would be exabytes.
    let hb = &good[12..12 + u32_at(&good, 8)];
    let p = field(hb, u32_at(hb, 0), 8).unwrap() + 12;
    let mut bomb = good.clone();
    bomb[p..p + 8].copy_from_slice(&(1u64 << 60).to_le_bytes());
    refused(&dir, "bomb.fgb", &bomb, "larger than the");
}

#[test]
fn an_empty_file_converts_to_an_empty_file() {
    let dir = Scratch::new("fgb-empty");
    let src = dir.write("empty.geojson", r#"{"type":"FeatureCollection","features":[]}"#);
    let fgb = dir.path("empty.fgb");
    convert(&src, &fgb, &crs("EPSG:4490"), &crs("EPSG:4490"), false).unwrap();
    let out = dir.path("out.fgb");
    let r = convert(&fgb, &out, &crs("EPSG:4490"), &crs("EPSG:4547"), false).unwrap();
    assert_eq!((r.features, r.written), (0, 0));
    let w = walk(&out);
    assert_eq!((w.features.len(), w.features_count, w.crs_code), (0, 0, Some(4547)));
    let back = dir.path("back.geojson");
    convert(&out, &back, &crs("EPSG:4547"), &crs("EPSG:4547"), false).unwrap();
    let text = std::fs::read_to_string(&back).unwrap();
    assert!(text.contains("\"features\":[") && !text.contains("Feature\""), "{text}");
}

#[test]
fn a_file_of_unknown_count_gets_its_count_and_no_index() {
    // GDAL's file without index, its count patched to 0 ("unknown") and its node size to 16: a
    // reader finds no index there (the count is 0), so the output, with the count known, must
    // say it has none.
    let dir = Scratch::new("fgb-unknown-count");
    let mut b = std::fs::read(data("cgcs2000_noindex.fgb")).unwrap();
    let hb = b[12..12 + u32_at(&b, 8)].to_vec();
    let root = u32_at(&hb, 0);
    let count = field(&hb, root, 8).unwrap() + 12;
    let node = field(&hb, root, 9).unwrap() + 12;
    b[count..count + 8].copy_from_slice(&0u64.to_le_bytes());
    b[node..node + 2].copy_from_slice(&16u16.to_le_bytes());
    let input = dir.write("unknown.fgb", &b);
    let out = dir.path("out.fgb");
    convert(&input, &out, &crs("EPSG:4490"), &crs("EPSG:4547"), false).unwrap();
    let w = walk(&out);
    assert_eq!((w.features_count, w.node_size, w.features.len()), (6, 0, 6));
    assert_eq!(w.features_at, 12 + u32_at(&w.bytes, 8));
}
