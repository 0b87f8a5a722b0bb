//! The lineage record of an exchange (`lineage.json`): for each output, where it came from
//! (path and SHA-256 of every input file), the source and target CRS ids, the steps applied
//! (operation names and directions, never parameter values), counts of features and vertices,
//! failures with their locations, the tool version and the time. It is the record a receiving
//! department checks: `sha256sum` of the inputs and outputs must match it.

use super::{ConvertReport, FileFormat};
use crate::crs::Crs;
use crate::ops::Operation;
use crate::transformer::{Heights, Transformer};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{self, Read};
use std::path::Path;

/// The SHA-256 of a file, lowercase hex. A path that is not a regular file (a FIFO, which
/// would block with no writer, or a device such as `/dev/urandom`, which never ends) is an
/// `InvalidInput` error "not a regular file", checked before it is opened.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
    }
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The files that make up an input or output of `format` at `path` (a Shapefile is several:
/// `.shp`, `.shx`, `.dbf`, `.prj`, `.cpg`, those that exist).
pub fn files_of(path: &Path, format: FileFormat) -> Vec<std::path::PathBuf> {
    super::format::of(format).input_files(path)
}

/// `[{"path", "sha256"}]` for `files`, paths shown relative to `base` when inside it.
pub fn hashed(files: &[std::path::PathBuf], base: &Path) -> io::Result<Value> {
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        out.push(json!({ "path": shown(f, base), "sha256": sha256_file(f)? }));
    }
    Ok(Value::Array(out))
}

/// `path` relative to `base` if it is inside it, else as given; `/` separators.
pub fn shown(path: &Path, base: &Path) -> String {
    let p = path.strip_prefix(base).unwrap_or(path);
    p.to_string_lossy().replace('\\', "/")
}

/// The steps of `transformer` as `[{"operation", "direction"}]`: names only, never values.
pub fn steps(transformer: &Transformer) -> Value {
    Value::Array(
        transformer
            .steps()
            .iter()
            .map(|s| {
                json!({
                    "operation": s.op.name(),
                    "direction": if s.inverse { "inverse" } else { "forward" },
                })
            })
            .collect(),
    )
}

/// What happened to the z values, in words: `"elevations, copied unchanged"` between 2D CRSs,
/// else `"ellipsoidal heights, converted"`.
pub fn heights(source: &Crs, target: &Crs, heights: Heights) -> &'static str {
    if !source.is_3d() && !target.is_3d() && heights == Heights::Elevation {
        "elevations, copied unchanged"
    } else {
        "ellipsoidal heights, converted"
    }
}

/// The counts and failures of a report.
pub fn counts(report: &ConvertReport) -> Value {
    json!({
        "features": report.features,
        "written": report.written,
        "vertices": report.vertices,
        "empty": report.empty,
    })
}

/// The current time (or `SOURCE_DATE_EPOCH`, for reproducible records) as RFC 3339 UTC,
/// e.g. `2026-11-27T14:30:05Z`.
pub fn timestamp() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        });
    rfc3339(seconds)
}

/// Seconds since 1970 as RFC 3339 UTC (proleptic Gregorian; Howard Hinnant's civil-from-days).
fn rfc3339(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_786_205), "2026-11-27T13:30:05Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn sha256_of_a_file() {
        let p = std::env::temp_dir().join(format!("geounify-sha-{}", std::process::id()));
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        std::fs::remove_file(&p).unwrap();
    }
}
