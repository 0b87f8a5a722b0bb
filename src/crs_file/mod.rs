//! CRS files: a city's ellipsoids, datums and CRSs declared in TOML (or JSON with the same
//! structure), loaded into a [`Registry`] with
//! [`Registry::load_file`](crate::Registry::load_file) or
//! [`Registry::load_str`](crate::Registry::load_str).
//!
//! The format is documented, with every field, in `data/crs/README.md` and the commented
//! examples beside it. In short:
//!
//! ```toml
//! [[ellipsoid]]                 # optional; built-ins: grs80 (= cgcs2000), wgs84, krassovsky, iag1975
//! id = "my-ell"
//! a = 6378140.0
//! rf = 298.257
//!
//! [[datum]]
//! id = "bj54-city"
//! ellipsoid = "krassovsky"
//! to_cgcs2000 = { method = "helmert7", convention = "coordinate_frame", tx = -12.7, ty = 131.2, tz = 47.6, rx = 0.41, ry = -0.16, rz = 1.05, s = -2.7 }
//!
//! [[crs]]
//! id = "city:bj54-gk117"
//! datum = "bj54-city"
//! projection = { method = "gauss-kruger", lon0 = 117.0, k0 = 1.0, x0 = 500000.0, y0 = 0.0 }
//!
//! [[crs]]
//! id = "city:old-grid"
//! base = "city:bj54-gk117"
//! planar = { method = "helmert4", dx = -421337.25, dy = -4201112.5, theta = 5400.0, s = 12.5 }
//! ```
//!
//! A file is loaded whole or not at all. Every refusal ([`CrsFileError`]) names the file, the
//! line and the field, and never quotes a value: parameter values are often confidential.

mod json;
mod schema;
pub(crate) mod toml;
pub(crate) mod tree;

use crate::registry::Registry;
use std::fmt;
use std::path::Path;

/// Why a CRS file was refused: the file, the line and the field, and what is wrong. The message
/// never quotes a parameter value (cities often keep them confidential); it names ids and
/// fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrsFileError {
    /// The file as given (or the origin passed to
    /// [`Registry::load_str`](crate::Registry::load_str)).
    pub file: String,
    /// Line, from 1, where known.
    pub line: Option<u32>,
    /// The field, as a path such as `crs[city:old-grid].planar.theta` (`crs[#3]` for an entry
    /// without a usable id), where there is one.
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

/// The syntax of a CRS file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// TOML (the usual form).
    Toml,
    /// JSON with the same structure (top-level object with `ellipsoid`, `datum` and `crs`
    /// arrays of objects).
    Json,
}

impl Format {
    /// The format of a file: JSON if its name ends in `.json` (any case), TOML if in `.toml`;
    /// otherwise JSON if the text starts with `{`, else TOML.
    pub fn detect(path: &Path, text: &str) -> Self {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("json") => Format::Json,
            Some("toml") => Format::Toml,
            _ if text.trim_start_matches('\u{feff}').trim_start().starts_with('{') => Format::Json,
            _ => Format::Toml,
        }
    }
}

/// The largest CRS file read, in bytes (16 MiB): a city's file is a few kilobytes; a larger one
/// is refused before reading, with the file named.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Loads `path` into `registry`, whole or not at all.
///
/// Only a regular file (or a symbolic link to one) of at most [`MAX_FILE_BYTES`] is read: a
/// directory, a device (`/dev/zero`, `/dev/urandom`), a FIFO or a socket is refused before it
/// is opened (opening a FIFO would wait for a writer; a device never ends), and the read stops
/// past the cap even if the file grows meanwhile.
pub(crate) fn load_file(registry: &mut Registry, path: &Path) -> Result<(), CrsFileError> {
    let file = path.display().to_string();
    let refuse =
        |message: String| CrsFileError { file: file.clone(), line: None, field: None, message };
    let cannot_read = |error: std::io::Error| refuse(format!("cannot read: {error}"));
    let too_large = || {
        refuse(format!(
            "is larger than {} MiB; a CRS file holds a city's definitions, a few kilobytes",
            MAX_FILE_BYTES >> 20
        ))
    };
    let metadata = std::fs::metadata(path).map_err(cannot_read)?;
    if !metadata.is_file() {
        return Err(refuse(format!(
            "is not a regular file ({}); give the path of a CRS file (TOML or JSON)",
            file_kind(&metadata.file_type())
        )));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    {
        use std::io::Read;
        let handle = std::fs::File::open(path).map_err(cannot_read)?;
        handle.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(cannot_read)?;
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| refuse("is not UTF-8 text (save CRS files as UTF-8)".to_string()))?;
    load_str(registry, &text, &file, Format::detect(path, &text))
}

/// A file type in words, for the refusal of anything but a regular file.
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// Loads `text` (named `origin` in errors) into `registry`, whole or not at all.
pub(crate) fn load_str(
    registry: &mut Registry,
    text: &str,
    origin: &str,
    format: Format,
) -> Result<(), CrsFileError> {
    let root = match format {
        Format::Toml => toml::parse(text),
        Format::Json => json::parse(text),
    }
    .map_err(|e| CrsFileError {
        file: origin.to_string(),
        line: Some(e.pos.line),
        field: None,
        message: format!("column {}: {}", e.pos.column, e.message),
    })?;
    let mut updated = registry.clone();
    schema::load(&mut updated, origin, &root)?;
    *registry = updated;
    Ok(())
}
