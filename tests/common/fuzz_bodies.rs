//! The bodies of the fuzz targets, shared by the cargo-fuzz crate (`fuzz/fuzz_targets/*.rs`
//! include this file with `#[path]`) and by `tests/fuzz_replay.rs`, which replays every committed
//! input (`fuzz/corpus/<target>/*`, `fuzz/regressions/<target>/*`) under plain `cargo test`.
//!
//! Each body takes arbitrary bytes and panics only when a property of the library fails: the
//! library itself must never panic, and each body states what else it checks.
#![allow(dead_code)]

use geounify::convert::{self, ConvertOptions, NoProgress};
use geounify::crs_file::Format;
use geounify::estimate::{self, ControlPoint, Model, Options, Outliers, PointColumns};
use geounify::ops::HelmertConvention;
use geounify::{catalogue, Crs, Heights, Registry, Transformer};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The example city's CRS file (datum shifts, planar grids, a polynomial grid).
const CITY_TOML: &str = include_str!("../../data/crs/city.toml");

/// The names of the targets, as directories under `fuzz/corpus` and `fuzz/regressions`.
pub const TARGETS: [&str; 10] = [
    "crs_id",
    "crs_file_toml",
    "crs_file_json",
    "control_points",
    "csv",
    "geojson",
    "wkt",
    "shapefile",
    "gpkg",
    "transformer",
];

/// Runs the body of `target` on `data`.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "crs_id" => crs_id(data),
        "crs_file_toml" => crs_file(data, Format::Toml),
        "crs_file_json" => crs_file(data, Format::Json),
        "control_points" => control_points(data),
        "csv" => csv(data),
        "geojson" => geojson(data),
        "wkt" => wkt(data),
        "shapefile" => shapefile(data),
        "gpkg" => gpkg(data),
        "transformer" => transformer(data),
        _ => panic!("unknown fuzz target {target}"),
    }
}

/// The built-in catalogue plus the city CRS file.
fn city() -> &'static Registry {
    static CITY: OnceLock<Registry> = OnceLock::new();
    CITY.get_or_init(|| {
        let mut r = Registry::new();
        r.load_str(CITY_TOML, "city.toml", Format::Toml).expect("data/crs/city.toml loads");
        r
    })
}

/// An id: the catalogue and a registry with user CRSs agree, and whatever is found carries an id
/// that looks itself up again.
pub fn crs_id(data: &[u8]) {
    let Ok(id) = std::str::from_utf8(data) else { return };
    let built_in = catalogue::lookup(id);
    let registry = city().lookup(id);
    if let Ok(crs) = &built_in {
        let again = catalogue::lookup(crs.id()).expect("a found CRS's id looks up");
        assert_eq!(again.id(), crs.id());
        assert_eq!(registry.as_ref().map(Crs::id).ok(), Some(crs.id()));
    }
    if let Ok(crs) = &registry {
        assert_eq!(city().lookup(crs.id()).expect("a found CRS's id looks up").id(), crs.id());
    }
}

/// CRS-file text: loads whole or not at all (a failed load leaves the registry as it was), and
/// every loaded CRS builds a transformer to and from CGCS2000 or fails cleanly.
pub fn crs_file(data: &[u8], format: Format) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut registry = Registry::new();
    match registry.load_str(text, "fuzz", format) {
        Ok(()) => {
            let crss: Vec<Crs> = registry.user_crss().to_vec();
            let cgcs = catalogue::lookup("EPSG:4490").unwrap();
            for crs in crss.iter().take(8) {
                if let Ok(t) = Transformer::new(crs, &cgcs) {
                    let _ = t.transform([116.4, 39.9, 50.0]);
                    let _ = t.inverse().transform([116.4, 39.9, 50.0]);
                }
            }
        }
        Err(_) => assert!(registry.user_crss().is_empty(), "a failed load added CRSs"),
    }
}

/// A control-point file: byte 0 picks the model, the rest is the file. Parsing errors or
/// succeeds; the estimate then errors or gives finite parameters, residuals and statistics.
pub fn control_points(data: &[u8]) {
    let Some((&selector, file)) = data.split_first() else { return };
    let model = match selector % 6 {
        0 => Model::Helmert4,
        1 => Model::Affine6,
        2 => Model::Poly2,
        3 => Model::Helmert3,
        4 => Model::Helmert7(HelmertConvention::PositionVector),
        _ => Model::Helmert7(HelmertConvention::CoordinateFrame),
    };
    let columns = match (model.is_planar(), selector & 0x40 != 0) {
        (true, _) => PointColumns::Planar,
        (false, false) => PointColumns::Geocentric,
        (false, true) => PointColumns::Either,
    };
    let Ok(text) = estimate::control_points_text(file.to_vec()) else { return };
    let Ok(rows) = estimate::parse_control_points(&text, columns) else { return };
    for row in &rows {
        assert!(row.source.iter().chain(&row.target).all(|v| v.is_finite()));
        assert!(!row.id.is_empty());
    }
    let points: Vec<ControlPoint> = rows
        .into_iter()
        .map(|r| ControlPoint { id: r.id, source: r.source, target: r.target })
        .collect();
    let outliers = match selector >> 4 & 3 {
        0 => Outliers::Remove,
        1 => Outliers::FlagOnly,
        _ => Outliers::Off,
    };
    let options = Options { outliers, ..Options::default() };
    if let Ok(e) = estimate::estimate(model, &points, &options) {
        for (name, value, _) in e.parameters.values() {
            assert!(value.is_finite(), "parameter {name} is not finite");
        }
        assert!(e.rmse.is_finite(), "rmse not finite");
        assert!(e.sigma0.is_none_or(f64::is_finite), "sigma0 not finite");
        for r in &e.residuals {
            assert!(r.norm.is_finite(), "residual of {} not finite", r.id);
        }
    }
}

/// The conversion options and the transformer a converter input is run with, from its first
/// byte: bit 0 skip invalid, bit 1 parallel, bits 2-3 the pair.
fn convert_setup(flags: u8) -> Option<(Crs, Crs, Transformer, ConvertOptions)> {
    let (from, to) = match flags >> 2 & 3 {
        0 => ("EPSG:4326", "EPSG:4548"),
        1 => ("GCJ02", "EPSG:4326"),
        2 => ("city:old-grid", "EPSG:4490"),
        _ => ("EPSG:4548", "BD09"),
    };
    let source = city().lookup(from).ok()?;
    let target = city().lookup(to).ok()?;
    let t = Transformer::new(&source, &target).ok()?;
    let options = ConvertOptions {
        skip_invalid: flags & 1 != 0,
        parallel: flags & 2 != 0,
        force: true,
        ..ConvertOptions::default()
    };
    Some((source, target, t, options))
}

/// CSV/TSV bytes (byte 0: options, bit 4 TSV) through `csv::convert_reader`: errors or converts,
/// never panics; a complete conversion has as many lines out as records in... only checked for
/// well-formedness: the output is UTF-8 when the input is.
pub fn csv(data: &[u8]) {
    let Some((&flags, input)) = data.split_first() else { return };
    let Some((_, _, t, options)) = convert_setup(flags) else { return };
    let delimiter = if flags & 0x10 != 0 { b'\t' } else { b',' };
    let mut out = Vec::new();
    if convert::csv::convert_reader(input, &mut out, delimiter, &t, &options).is_ok()
        && std::str::from_utf8(input).is_ok()
    {
        assert!(std::str::from_utf8(&out).is_ok(), "UTF-8 CSV converted to non-UTF-8");
    }
}

/// GeoJSON bytes (byte 0: options, bit 4 newline-delimited) through `geojson::convert_str`
/// and the streaming readers: a successful conversion is valid JSON (each line, for sequences),
/// and the in-memory and streaming paths agree.
pub fn geojson(data: &[u8]) {
    let Some((&flags, input)) = data.split_first() else { return };
    let Some((_, _, t, options)) = convert_setup(flags) else { return };
    if flags & 0x10 != 0 {
        let mut out = Vec::new();
        if convert::geojson::convert_seq_reader(input, &mut out, &t, &options).is_ok() {
            let text = std::str::from_utf8(&out).expect("GeoJSON sequence output is UTF-8");
            // An empty record (a lone RS, RFC 8142) is passed through as it is.
            // The output keeps the input's byte-order mark.
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            let records = text.lines().map(|l| l.trim_start_matches('\u{1e}'));
            for line in records.filter(|l| !l.trim().is_empty()) {
                serde_json::from_str::<serde_json::Value>(line)
                    .expect("each GeoJSON sequence output line is JSON");
            }
        }
        return;
    }
    // An input of nothing but whitespace (after a byte-order mark) is an error since issue 11
    // (src/convert/geojson/mod.rs, "Empty files"), so the blank branch below only guards against
    // a regression; any success is a JSON value.
    let body = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let blank = body.iter().all(u8::is_ascii_whitespace);
    let check = |out: &[u8], what: &str| {
        if blank {
            let out = out.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(out);
            assert!(out.iter().all(u8::is_ascii_whitespace), "{what}: blank input, output not");
        } else {
            // A byte-order mark is kept as it was (documented), then a JSON value follows.
            let out = out.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(out);
            serde_json::from_slice::<serde_json::Value>(out)
                .unwrap_or_else(|e| panic!("{what}: output is not JSON: {e}"));
        }
    };
    let mut streamed = Vec::new();
    let stream = convert::geojson::convert_reader(input, &mut streamed, &t, &options);
    if let Ok(text) = std::str::from_utf8(input) {
        let memory = convert::geojson::convert_str(text, &t, &options);
        assert_eq!(memory.is_ok(), stream.is_ok(), "convert_str and convert_reader disagree");
        if let Ok((json, _)) = memory {
            check(json.as_bytes(), "convert_str");
        }
    }
    if stream.is_ok() {
        check(&streamed, "convert_reader");
    }
    geojson_file_agrees(input, flags);
}

/// The file path (its fast path, and the streaming parser it falls back on) against
/// `convert_str`: when both convert, the same bytes; without a `crs` member (which the file path
/// checks against the CRS's definition and `convert_str` by id), the same success or failure.
fn geojson_file_agrees(input: &[u8], flags: u8) {
    let Ok(text) = std::str::from_utf8(input) else { return };
    let Some((source, target, t, options)) = convert_setup(flags) else { return };
    let dir = scratch("geojson");
    let (path, out) = (dir.join("in.geojson"), dir.join("out.geojson"));
    std::fs::write(&path, input).expect("scratch input");
    let file = convert::convert_file(&path, &out, &source, &target, &options, &NoProgress);
    let memory = convert::geojson::convert_str(text, &t, &options);
    if !text.contains("crs") {
        assert_eq!(file.is_ok(), memory.is_ok(), "convert_file and convert_str disagree");
    }
    if let (Ok(_), Ok((json, _))) = (&file, &memory) {
        let written = std::fs::read_to_string(&out).expect("output written");
        assert!(written == *json, "convert_file and convert_str wrote different bytes");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// WKT lines through `wkt::convert_reader`: errors or converts, never panics.
pub fn wkt(data: &[u8]) {
    let Some((&flags, input)) = data.split_first() else { return };
    let Some((source, target, t, options)) = convert_setup(flags) else { return };
    let mut out = Vec::new();
    let _ = convert::wkt::convert_reader(input, &mut out, &source, &target, &t, &options);
}

/// A fresh scratch folder for one file-based run.
fn scratch(target: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "geounify-fuzz-{target}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// `convert::convert_file(input → output)`: no panic; on an error the output does not exist and
/// no temporary file is left beside it; the input files are unchanged.
fn convert_files(dir: &Path, input: &Path, output: &Path, flags: u8) {
    let Some((source, target, _, options)) = convert_setup(flags) else { return };
    let before: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    let result = convert::convert_file(input, output, &source, &target, &options, &NoProgress);
    for (path, bytes) in &before {
        assert!(std::fs::read(path).unwrap() == *bytes, "input {} changed", path.display());
    }
    if result.is_err() {
        let left: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| !before.iter().any(|(b, _)| b == p))
            .map(|p| p.display().to_string())
            .collect();
        assert!(left.is_empty(), "a failed conversion left {left:?}");
    }
}

/// Shapefile: byte 0 options, bytes 1-4 and 5-8 the lengths (little-endian u32) of the `.shx`
/// and `.dbf` that follow; the rest is the `.shp`. Missing parts are simply not written.
pub fn shapefile(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else { return };
    let (shx, dbf, shp) = match rest {
        [a, b, c, d, e, f, g, h, tail @ ..] => {
            let lx = u32::from_le_bytes([*a, *b, *c, *d]) as usize;
            let ld = u32::from_le_bytes([*e, *f, *g, *h]) as usize;
            let lx = lx.min(tail.len());
            let ld = ld.min(tail.len() - lx);
            (&tail[..lx], &tail[lx..lx + ld], &tail[lx + ld..])
        }
        _ => (&[][..], &[][..], rest),
    };
    let dir = scratch("shp");
    let input = dir.join("in.shp");
    std::fs::write(&input, shp).unwrap();
    if !shx.is_empty() {
        std::fs::write(dir.join("in.shx"), shx).unwrap();
    }
    if !dbf.is_empty() {
        std::fs::write(dir.join("in.dbf"), dbf).unwrap();
    }
    convert_files(&dir, &input, &dir.join("out.shp"), flags);
    let _ = std::fs::remove_dir_all(&dir);
}

/// GeoPackage: byte 0 options, the rest the `.gpkg` file.
pub fn gpkg(data: &[u8]) {
    let Some((&flags, file)) = data.split_first() else { return };
    let dir = scratch("gpkg");
    let input = dir.join("in.gpkg");
    std::fs::write(&input, file).unwrap();
    convert_files(&dir, &input, &dir.join("out.gpkg"), flags);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The pairs the transformer target runs, `(source, target, round-trip box)`. The box is
/// `[west, south, east, north]` in the source's own coordinates (degrees or metres) where the
/// pair is inside both CRSs' areas of use (with a margin) and its round trip must close.
pub const PAIRS: [(&str, &str, [f64; 4]); 10] = [
    ("EPSG:4326", "EPSG:4490", [73.0, 3.0, 135.0, 54.0]),
    ("EPSG:4490", "EPSG:4548", [115.0, 22.0, 119.0, 52.0]),
    ("EPSG:4326", "GCJ02", [73.0, 3.0, 135.0, 54.0]),
    ("GCJ02", "BD09", [73.0, 3.0, 135.0, 54.0]),
    ("EPSG:4326", "BD09MC", [73.0, 3.0, 135.0, 54.0]),
    ("city:bj54-geog", "EPSG:4326", [115.9, 39.5, 117.2, 40.4]),
    ("city:bj54-gk117", "EPSG:4490", [420_000.0, 4_380_000.0, 510_000.0, 4_470_000.0]),
    ("city:old-grid", "EPSG:4548", [-40_000.0, -40_000.0, 40_000.0, 40_000.0]),
    ("city:poly-grid", "EPSG:4326", [-20_000.0, -20_000.0, 20_000.0, 20_000.0]),
    ("EPSG:3857", "EPSG:4326", [8.2e6, 4.0e5, 1.5e7, 7.1e6]),
];

/// A built pair: forward and inverse with heights ellipsoidal (converted with the point), the
/// forward with heights as elevations (the default: copied), and the round-trip box.
struct Built {
    forward: Transformer,
    inverse: Transformer,
    elevation: Transformer,
    area: [f64; 4],
}

/// Built transformers of [`PAIRS`], `None` where one does not build.
fn pair(index: usize) -> Option<&'static Built> {
    static BUILT: OnceLock<Vec<Option<Built>>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            PAIRS
                .iter()
                .map(|(from, to, area)| {
                    let registry = city();
                    let (source, target) = (registry.lookup(from).ok()?, registry.lookup(to).ok()?);
                    let forward =
                        Transformer::with_heights(&source, &target, Heights::Ellipsoidal).ok()?;
                    let elevation = Transformer::new(&source, &target).ok()?;
                    let inverse = forward.inverse();
                    Some(Built { forward, inverse, elevation, area: *area })
                })
                .collect()
        })
        .get(index)?
        .as_ref()
}

/// Whether pair `index` of [`PAIRS`] builds.
pub fn pair_builds(index: usize) -> bool {
    pair(index).is_some()
}

/// Whether the round trip of `p` must close: inside the pair's box, heights within ±10 km.
fn closes(area: &[f64; 4], p: [f64; 3]) -> bool {
    (area[0]..=area[2]).contains(&p[0])
        && (area[1]..=area[3]).contains(&p[1])
        && (-10_000.0..=10_000.0).contains(&p[2])
}

/// The transformer on arbitrary f64: byte 0 picks the pair (bit 7: scale the next three u64
/// into the pair's round-trip box instead of reading them as f64 bits). Checks, with heights
/// ellipsoidal:
/// - `transform` and the batch pipeline `transform_slice` agree bit for bit (value or error);
/// - an `Ok` result is finite in all three coordinates;
/// - inside the pair's box (see [`closes`]) the inverse brings an `Ok` result back to within
///   1e-11° (angular source axes) or 1e-6 m (metric axes and heights) of the input;
///
/// and with heights as elevations (the default), see [`elevation`].
pub fn transformer(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Some(built) = pair(selector as usize % PAIRS.len()) else { return };
    let (t, inverse, area) = (&built.forward, &built.inverse, &built.area);
    let mut words = [0u64; 3];
    for (k, w) in words.iter_mut().enumerate() {
        let mut b = [0u8; 8];
        for (j, byte) in b.iter_mut().enumerate() {
            *byte = rest.get(k * 8 + j).copied().unwrap_or(0);
        }
        *w = u64::from_le_bytes(b);
    }
    let p: [f64; 3] = if selector & 0x80 != 0 {
        let unit = |w: u64| (w >> 11) as f64 / (1u64 << 53) as f64;
        [
            area[0] + unit(words[0]) * (area[2] - area[0]),
            area[1] + unit(words[1]) * (area[3] - area[1]),
            -10_000.0 + unit(words[2]) * 20_000.0,
        ]
    } else {
        words.map(f64::from_bits)
    };
    elevation(built, p);
    if let Ok(q) = same_in_batch(t, p) {
        if closes(area, p) {
            let back = inverse
                .transform(q)
                .unwrap_or_else(|e| panic!("inverse failed inside the area: {p:?} -> {q:?}: {e}"));
            let angular = t.source_is_angular();
            let tol = if angular { 1e-11 } else { 1e-6 };
            for k in 0..2 {
                assert!(
                    (back[k] - p[k]).abs() <= tol,
                    "round trip {p:?} -> {q:?} -> {back:?} off by {:e} in axis {k}",
                    back[k] - p[k]
                );
            }
            assert!((back[2] - p[2]).abs() <= 1e-6, "height round trip {p:?} -> {back:?}");
        }
    }
}

/// `t.transform(p)`, checked to agree bit for bit with the batch pipeline (value or error)
/// and, if `Ok`, to be finite.
fn same_in_batch(t: &Transformer, p: [f64; 3]) -> Result<[f64; 3], geounify::PointError> {
    let single = t.transform(p);
    let mut batch = [p];
    let report = t.transform_slice(&mut batch);
    match single {
        Ok(q) => {
            assert!(report.is_complete(), "batch failed where transform succeeded: {p:?}");
            assert_eq!(q.map(f64::to_bits), batch[0].map(f64::to_bits), "batch differs: {p:?}");
            assert!(q.iter().all(|v| v.is_finite()), "Ok but not finite: {p:?} -> {q:?}");
        }
        Err(e) => {
            let failure = report.failures.first().expect("batch succeeded where transform failed");
            assert_eq!(failure.error, e, "batch error differs: {p:?}");
            assert!(batch[0].iter().all(|v| v.is_nan()), "a failed batch point is not NaN");
        }
    }
    single
}

/// Heights as elevations: batch and one-point agree bit for bit; an `Ok` result keeps the input
/// height bit for bit, and its plane coordinates are exactly those of the point at height 0
/// (the ellipsoidal transformer's at z = 0), so a z never moves a point.
fn elevation(built: &Built, p: [f64; 3]) {
    let flat = built.forward.transform([p[0], p[1], 0.0]);
    match same_in_batch(&built.elevation, p) {
        Ok(q) => {
            assert_eq!(q[2].to_bits(), p[2].to_bits(), "the height is copied: {p:?} -> {q:?}");
            let flat = flat.unwrap_or_else(|e| panic!("{p:?}: ok with z, not at height 0: {e}"));
            assert_eq!([q[0], q[1]].map(f64::to_bits), [flat[0], flat[1]].map(f64::to_bits));
        }
        Err(e) => {
            // Only a bad height can fail where the point at height 0 converts.
            if flat.is_ok() {
                assert!(!p[2].is_finite(), "{p:?} fails only with its z: {e}");
            }
        }
    }
}

/// Whether a transformer's source takes angles (for the round-trip tolerance).
trait SourceAngular {
    fn source_is_angular(&self) -> bool;
}

impl SourceAngular for Transformer {
    fn source_is_angular(&self) -> bool {
        city().lookup(self.source_id()).map(|c| c.is_angular()).unwrap_or(false)
    }
}
