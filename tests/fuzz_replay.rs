//! The fuzz targets' smoke pass for CI: every committed input under `fuzz/corpus/<target>/` (a
//! small, minimised seed corpus) and `fuzz/regressions/<target>/` (inputs that once found a bug)
//! is run through the same body the fuzzer runs (`tests/common/fuzz_bodies.rs`), under plain
//! `cargo test`: no nightly, no cargo-fuzz. See fuzz/README.md for fuzzing locally.
#![cfg(feature = "formats")]

#[path = "common/fuzz_bodies.rs"]
mod fuzz_bodies;

use std::path::PathBuf;

/// The committed inputs of `target`, sorted.
fn inputs(target: &str) -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for kind in ["corpus", "regressions"] {
        let Ok(dir) = std::fs::read_dir(root.join(kind).join(target)) else { continue };
        files.extend(
            dir.map(|e| e.unwrap().path()).filter(|p| {
                p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with('.')
            }),
        );
    }
    files.sort();
    files
}

/// Runs every committed input of `target`; each file is named if it fails.
fn replay(target: &str) {
    let files = inputs(target);
    assert!(!files.is_empty(), "no committed inputs for fuzz target {target}");
    for path in files {
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| fuzz_bodies::run(target, &data));
        assert!(outcome.is_ok(), "fuzz input {} fails", path.display());
    }
}

macro_rules! replay_tests {
    ($($name:ident),*) => {$(
        #[test]
        fn $name() {
            replay(stringify!($name));
        }
    )*};
}

replay_tests!(
    crs_id,
    crs_file_toml,
    crs_file_json,
    control_points,
    csv,
    geojson,
    wkt,
    shapefile,
    gpkg,
    transformer
);

/// Every target has a test above.
#[test]
fn every_target_is_replayed() {
    assert_eq!(fuzz_bodies::TARGETS.len(), 10);
}

/// The transformer body on points spread over each pair's round-trip box, and on special
/// values: the properties hold without the fuzzer too.
#[test]
fn transformer_grid_and_special_values() {
    for pair in 0..fuzz_bodies::PAIRS.len() as u8 {
        for i in 0..64u64 {
            let mut data = vec![pair | 0x80];
            for w in [i * 0x0400_0000_0000_0000 / 8, (i % 8) << 60, (i * 7 % 16) << 60] {
                data.extend_from_slice(&w.to_le_bytes());
            }
            fuzz_bodies::run("transformer", &data);
        }
        for v in [f64::NAN, f64::INFINITY, -f64::INFINITY, 1e308, -1e308, 0.0, 91.0, 181.0] {
            let mut data = vec![pair];
            for w in [v, 39.9, v] {
                data.extend_from_slice(&w.to_bits().to_le_bytes());
            }
            fuzz_bodies::run("transformer", &data);
        }
    }
}

/// Every pair of the transformer target builds (else the target would skip it silently).
#[test]
fn every_transformer_pair_builds() {
    for (i, (from, to, _)) in fuzz_bodies::PAIRS.iter().enumerate() {
        assert!(fuzz_bodies::pair_builds(i), "{from} -> {to} does not build");
    }
}
