//! CRS files: a city's ellipsoids, datums and CRSs declared in TOML (or JSON with the same
//! structure), loaded into a [`Registry`](crate::Registry).
//!
//! (Being written.)

#[allow(dead_code)] // TEMPORARY: used once the loader lands
mod json;
mod tree;

use std::fmt;

/// Why a CRS file was refused: the file, the line and the field, and what is wrong. The message
/// never quotes a parameter value (cities often keep them confidential); it names ids and
/// fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrsFileError {
    /// The file as given (or the origin name passed to [`Registry::load_str`](crate::Registry::load_str)).
    pub file: String,
    /// Line, from 1, where known.
    pub line: Option<u32>,
    /// The field, as a path such as `crs[2].planar.theta`, where there is one.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CrsFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for CrsFileError {}

/// Loads `path` into `registry` (stub).
pub(crate) fn load_file(
    _registry: &mut crate::Registry,
    path: &std::path::Path,
) -> Result<(), CrsFileError> {
    Err(CrsFileError {
        file: path.display().to_string(),
        line: None,
        field: None,
        message: "CRS files are not read yet".to_string(),
    })
}
