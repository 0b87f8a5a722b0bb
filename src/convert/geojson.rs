//! (geojson: being written.)

use super::{ConvertError, ConvertReport, Job};

/// Converts `job.input` to `job.output`.
pub fn convert_file(job: &Job<'_>) -> Result<ConvertReport, ConvertError> {
    Err(ConvertError::Options { path: job.input.to_path_buf(), message: "geojson: not yet".into() })
}

/// Up to `max` coordinates from the start of the input, for the sanity check.
pub(crate) fn sample(job: &Job<'_>, max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
    let _ = max;
    Err(ConvertError::Options { path: job.input.to_path_buf(), message: "geojson: not yet".into() })
}
