//! Damaged files of every format: one byte of a file this library wrote (of any member of a
//! Shapefile or MIF/MID set) set to 0x00, 0xFF or a random value, then converted into its own
//! format and into GeoJSON. Whatever the damage, a conversion returns (no panic, no hang over a
//! minute): converted, or an error with no output left; and the input is never changed.
//!
//! Each format's file is written from points and from lines and polygons (where it holds
//! them), 60 cases each by default; `DAMAGE_CASES` and `DAMAGE_SEED` run more or others (500
//! cases under each of seeds 1, 2 and 3 passed when it was written; the counts of conversions
//! done and refused are printed with `--nocapture`).
#![cfg(feature = "formats")]

mod common;
use common::crs;
use common::rng::Rng;
use common::scratch::Scratch;
use geounify::convert::{convert_file, ConvertOptions, NoProgress};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Points with text, integer and real attributes.
fn points() -> String {
    let features: Vec<String> = (0..40)
        .map(|k| {
            format!(
                r#"{{"type":"Feature","properties":{{"name":"p{k}","k":{k},"w":{}}},"geometry":{{"type":"Point","coordinates":[{},{}]}}}}"#,
                k as f64 * 0.5,
                116.3 + k as f64 * 1e-3,
                39.9 + (k % 7) as f64 * 1e-3
            )
        })
        .collect();
    format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","))
}

/// Lines and polygons (one with a hole) besides points.
fn shapes() -> String {
    let mut features = Vec::new();
    for k in 0..20 {
        let (x, y) = (116.3 + k as f64 * 1e-2, 39.9 + (k % 5) as f64 * 1e-2);
        let line: Vec<String> = (0..8)
            .map(|i| format!("[{},{}]", x + i as f64 * 1e-3, y + (i % 3) as f64 * 1e-3))
            .collect();
        features.push(format!(
            r#"{{"type":"Feature","properties":{{"name":"l{k}","k":{k}}},"geometry":{{"type":"LineString","coordinates":[{}]}}}}"#,
            line.join(",")
        ));
        let d = 5e-3;
        let hole = if k % 2 == 0 {
            format!(
                ",[[{},{}],[{},{}],[{},{}],[{},{}]]",
                x + 1e-3,
                y + 1e-3,
                x + 2e-3,
                y + 1e-3,
                x + 2e-3,
                y + 2e-3,
                x + 1e-3,
                y + 1e-3
            )
        } else {
            String::new()
        };
        features.push(format!(
            r#"{{"type":"Feature","properties":{{"name":"a{k}","k":{k}}},"geometry":{{"type":"Polygon","coordinates":[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]{hole}]}}}}"#,
            x + d,
            x + d,
            y + d,
            y + d
        ));
    }
    format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","))
}

/// The files of the set `path` (the path itself and its members beside it).
fn members(path: &Path) -> Vec<PathBuf> {
    let sidecars: &[&str] = match path.extension().and_then(|e| e.to_str()) {
        Some("shp") => &["shx", "dbf", "prj", "cpg"],
        Some("mif") => &["mid"],
        _ => &[],
    };
    std::iter::once(path.to_path_buf())
        .chain(sidecars.iter().map(|e| path.with_extension(e)).filter(|p| p.exists()))
        .collect()
}

/// Converts `input` into `output` on another thread, from EPSG:4326 to EPSG:4548 (to CGCS2000
/// longitude/latitude, EPSG:4490, for GPX, KML and KMZ, which hold only degrees); `None` if it
/// did not return within a minute, `Some(Err(message))` if it panicked, else whether it
/// converted.
fn convert_bounded(input: &Path, output: &Path) -> Option<Result<bool, String>> {
    let degrees = ["gpx", "kml", "kmz"]
        .iter()
        .any(|e| [input, output].iter().any(|p| p.extension().is_some_and(|x| x == *e)));
    let target = if degrees { "EPSG:4490" } else { "EPSG:4548" };
    let (input, output) = (input.to_path_buf(), output.to_path_buf());
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(|| {
            let (from, to) = (crs("EPSG:4326"), crs(target));
            let options = ConvertOptions::default();
            convert_file(&input, &output, &from, &to, &options, &NoProgress).is_ok()
        });
        let _ = send.send(result.map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        }));
    });
    receive.recv_timeout(Duration::from_secs(60)).ok()
}

#[test]
fn one_damaged_byte_never_panics_hangs_or_leaves_an_output() {
    let dir = Scratch::new("damaged-inputs");
    let sources = [("points", points()), ("shapes", shapes())];
    for (name, text) in &sources {
        std::fs::write(dir.path(&format!("{name}.geojson")), text).unwrap();
    }
    let cases: usize =
        std::env::var("DAMAGE_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let seed: u64 = std::env::var("DAMAGE_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(7);
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut problems = Vec::new();
    for ext in [
        "csv", "tsv", "geojson", "geojsonl", "wkt", "shp", "gpkg", "dat", "mif", "gpx", "kml",
        "kmz", "dxf", "fgb", "xlsx",
    ] {
        let mut damaged_any = false;
        for (name, _) in &sources {
            // The file as this library writes it, from the points and from the shapes where the
            // format holds them (GPX no polygons, CASS points only), if it converts undamaged.
            let clean = dir.path(&format!("clean-{name}.{ext}"));
            let wgs84 = crs("EPSG:4326");
            let options = ConvertOptions::default();
            let source = dir.path(&format!("{name}.geojson"));
            let written = convert_file(&source, &clean, &wgs84, &wgs84, &options, &NoProgress)
                .is_ok()
                && [ext, "geojson"].iter().all(|out| {
                    let output = dir.path(&format!("clean-out.{out}"));
                    let ok = convert_bounded(&clean, &output) == Some(Ok(true));
                    members(&output).iter().for_each(|f| drop(std::fs::remove_file(f)));
                    ok
                });
            if !written {
                continue;
            }
            damaged_any = true;
            let files = members(&clean);
            let originals: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
            let mut outcomes = [0usize; 2];
            for case in 0..cases {
                let m = rng.below(files.len());
                let at = rng.below(originals[m].len());
                let value = match rng.below(3) {
                    0 => 0x00,
                    1 => 0xff,
                    _ => rng.next() as u8,
                };
                let stem = format!("d{case}");
                let damaged: Vec<PathBuf> = files
                    .iter()
                    .map(|f| {
                        dir.path(&format!("{stem}.{}", f.extension().unwrap().to_str().unwrap()))
                    })
                    .collect();
                for (k, (path, bytes)) in damaged.iter().zip(&originals).enumerate() {
                    let mut bytes = bytes.clone();
                    if k == m {
                        bytes[at] = value;
                    }
                    std::fs::write(path, &bytes).unwrap();
                }
                let what = format!(
                    "{ext} of {name}, case {case}: byte {at} of {} set to {value:#04x}",
                    damaged[m].display()
                );
                let before: Vec<Vec<u8>> =
                    damaged.iter().map(|f| std::fs::read(f).unwrap()).collect();
                for out_ext in [ext, "geojson"] {
                    let output = dir.path(&format!("out-{stem}.{out_ext}"));
                    match convert_bounded(&damaged[0], &output) {
                        None => {
                            problems.push(format!("{what} -> {out_ext}: no return within a minute"))
                        }
                        Some(Err(panic)) => {
                            problems.push(format!("{what} -> {out_ext}: panicked: {panic}"))
                        }
                        Some(Ok(ok)) => {
                            outcomes[usize::from(ok)] += 1;
                            if !ok && output.exists() {
                                problems.push(format!(
                                    "{what} -> {out_ext}: failed, but left an output"
                                ));
                            }
                        }
                    }
                    for f in members(&output) {
                        let _ = std::fs::remove_file(f);
                    }
                }
                let after: Vec<Vec<u8>> =
                    damaged.iter().map(|f| std::fs::read(f).unwrap()).collect();
                if after != before {
                    problems.push(format!("{what}: the input changed"));
                }
                for f in &damaged {
                    std::fs::remove_file(f).unwrap();
                }
            }
            eprintln!("{ext} of {name}: {} conversions done, {} refused", outcomes[1], outcomes[0]);
        }
        assert!(damaged_any, "{ext}: no file written that converts undamaged");
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
