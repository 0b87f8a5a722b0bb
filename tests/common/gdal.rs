//! GDAL's command-line tools as an outside reader and writer (feature `gdal-interop`; Debian's
//! `gdal-bin`, which `.ci/run` installs). Every runner panics if the tool cannot start or
//! fails, with its stderr: a file GDAL cannot read is the test's failure.

use std::path::Path;
use std::process::Command;

/// Runs `tool args` (e.g. `ogr2ogr`), panicking with its stderr unless it succeeds; its stdout.
pub fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} starts (install gdal-bin): {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("GDAL's stdout is UTF-8")
}

/// The features GDAL reads from `path` (every layer), as CSV text with the geometry as WKT in
/// the first column, written by `ogr2ogr -f CSV /vsistdout/`.
pub fn read_as_csv(path: &Path) -> String {
    run("ogr2ogr", &["-f", "CSV", "-lco", "GEOMETRY=AS_WKT", "/vsistdout/", path.to_str().unwrap()])
}

/// The feature count GDAL reports for the first layer of `path` (`ogrinfo -so -al`).
pub fn feature_count(path: &Path) -> u64 {
    let info = run("ogrinfo", &["-ro", "-so", "-al", path.to_str().unwrap()]);
    let line = info
        .lines()
        .find_map(|l| l.strip_prefix("Feature Count: "))
        .unwrap_or_else(|| panic!("ogrinfo reports a feature count:\n{info}"));
    line.trim().parse().unwrap()
}

/// Every number in `text` that parses as `f64` after splitting on anything that is not part of
/// a number (digits, `.`, `-`, `+`, `e`, `E`), in order: for comparing coordinates GDAL writes
/// with ours, wherever they sit in its WKT.
pub fn numbers(text: &str) -> Vec<f64> {
    text.split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .filter_map(|t| t.parse().ok())
        .collect()
}

/// The EPSG code GDAL identifies the CRS `path` declares as (`gdalsrsinfo -e`), e.g.
/// `"EPSG:4547"`; `None` if it identifies none.
pub fn declared_epsg(path: &Path) -> Option<String> {
    let info = run("gdalsrsinfo", &["-e", path.to_str().unwrap()]);
    info.lines().find(|l| l.starts_with("EPSG:")).map(|l| l.trim().to_string())
}
