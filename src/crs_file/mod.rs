//! CRS files: a city's ellipsoids, datums and CRSs declared in TOML (or JSON with the same
//! structure), loaded into a [`Registry`](crate::Registry) with
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

use crate::crs::Crs;
use crate::datum::Datum;
use crate::ellipsoid::Ellipsoid;
use crate::error::{CrsError, RegistryError};
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

/// What a CRS file is loaded into: the definitions its entries may name, and where they are
/// added. [`Registry`](crate::Registry) is the implementation; the trait keeps this module
/// independent of it (the registry calls the loader, the loader does not know the registry).
/// A load works on a clone and replaces the original only when the whole file is in.
pub(crate) trait Definitions: Clone {
    /// A CRS by id (a user one, else the catalogue's).
    fn lookup(&self, id: &str) -> Result<Crs, CrsError>;
    /// A datum by id (a user one, else built in).
    fn datum(&self, id: &str) -> Option<Datum>;
    /// An ellipsoid by id (a user one, else built in).
    fn ellipsoid(&self, id: &str) -> Option<Ellipsoid>;
    /// How many user CRSs are defined already (all files together are capped).
    fn user_crs_count(&self) -> usize;
    /// Adds a CRS; refused if its id is taken.
    fn add_crs(&mut self, crs: Crs) -> Result<(), RegistryError>;
    /// Adds a datum; refused if its id is taken.
    fn add_datum(&mut self, datum: Datum) -> Result<(), RegistryError>;
    /// Adds an ellipsoid under `id`; refused if the id is taken.
    fn add_ellipsoid(&mut self, id: &str, ellipsoid: Ellipsoid) -> Result<(), RegistryError>;
}

/// Loads `path` into `registry`, whole or not at all.
///
/// Only a regular file (or a symbolic link to one) of at most [`MAX_FILE_BYTES`] is read: a
/// directory, a device (`/dev/zero`, `/dev/urandom`), a FIFO or a socket is refused before it
/// is opened (opening a FIFO would wait for a writer; a device never ends), and the read stops
/// past the cap even if the file grows meanwhile.
pub(crate) fn load_file<D: Definitions>(registry: &mut D, path: &Path) -> Result<(), CrsFileError> {
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

/// The most entries (`ellipsoid`, `datum` and `crs` together) one CRS file may hold: 5,000.
/// A city's file holds tens. Each entry loaded takes memory (up to ~10 KB for a local grid on a
/// base chain 8 deep: every CRS holds a copy of its base chain; the registry is copied while a
/// file loads, so that a refusal changes nothing), and the largest accepted file must load
/// within a 200 MB address space (`ulimit -v 200000`; measured: 10,000 such entries peak at
/// ~115 MB resident, 5,000 at about half). More is refused before the file is parsed, the
/// count named; a registry also holds at most this many CRSs from all its files together.
pub const MAX_ENTRIES: usize = 5_000;

/// The most values (keys, array elements, tables and table headers) one CRS file may hold:
/// 100,000, twenty per entry at [`MAX_ENTRIES`] (a projected entry with a name and an area
/// has about 25, a local grid 13). Bounds the memory of the document tree whatever the file's
/// shape, at up to ~500 bytes per value while parsing (measured: 200,000 keys in one table
/// peak at ~100 MB resident, and abort under `ulimit -v 200000` with long keys); one array of
/// a million numbers is refused like a million entries. Counted by a linear scan before the
/// file is parsed.
pub const MAX_VALUES: usize = 100_000;

/// What a linear scan of CRS-file text counts, before the file is parsed: entries (TOML `[[…]]`
/// headers and inline tables directly in a top-level array; JSON objects directly in a
/// top-level array) and values (every `=` / `:`, `,` between array elements, `[` and `{`
/// outside strings and comments, and each table header). For well-formed text both are at least the parsed
/// document's counts of entries and values; malformed text is counted as far as it goes (the
/// parser refuses it afterwards).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    entries: usize,
    values: usize,
}

/// Counts the entries and values of `text` (see [`Counts`]), without building anything.
fn count(text: &str, format: Format) -> Counts {
    let b = text.as_bytes();
    let mut c = Counts::default();
    // Open `[` and `{` (TOML: inside values; headers are skipped whole), and whether each of
    // the first 256 is an array (a `,` separates values there, key-value pairs in a table,
    // whose `=` / `:` is counted already); deeper is taken as arrays (the parsers refuse such
    // nesting anyway).
    let mut depth = 0usize;
    let mut arrays: Vec<bool> = Vec::new();
    // Where an entry's `{` is: inside the top-level array (TOML: a key's array value).
    let entry_depth = if format == Format::Json { 2 } else { 1 };
    let mut at_line_start = true;
    let mut i = 0;
    while i < b.len() {
        let ch = b[i];
        match (format, ch) {
            (_, b'\n') => {
                at_line_start = true;
                i += 1;
                continue;
            }
            (_, b' ' | b'\t' | b'\r') => {
                i += 1;
                continue;
            }
            (Format::Toml, b'#') => {
                i = line_end(b, i);
                continue;
            }
            (Format::Toml, b'[') if at_line_start && depth == 0 => {
                // A table header `[name]` or `[[name]]` (an entry), skipped to the line's end.
                if b.get(i + 1) == Some(&b'[') {
                    c.entries += 1;
                }
                c.values += 1;
                i = line_end(b, i);
                continue;
            }
            (Format::Toml, b'"' | b'\'') => {
                i = skip_toml_string(b, i);
                at_line_start = false;
                continue;
            }
            (Format::Json, b'"') => {
                i = skip_string(b, i + 1, b'"', true);
                at_line_start = false;
                continue;
            }
            (Format::Toml, b'=') | (Format::Json, b':') => c.values += 1,
            (_, b',') if depth > arrays.len() || arrays.last() == Some(&true) => c.values += 1,
            (_, b'[' | b'{') => {
                c.values += 1;
                if ch == b'{' && depth == entry_depth {
                    c.entries += 1;
                }
                if depth == arrays.len() && arrays.len() < 256 {
                    arrays.push(ch == b'[');
                }
                depth += 1;
            }
            (_, b']' | b'}') => {
                if depth > 0 && depth == arrays.len() {
                    arrays.pop();
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
        at_line_start = false;
        i += 1;
    }
    c
}

/// The index of the line end at or after `i` (or the text's end).
fn line_end(b: &[u8], i: usize) -> usize {
    b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| i + p)
}

/// The index after the TOML string that opens at `b[i]` (`"`, `'`, `"""` or `'''`).
fn skip_toml_string(b: &[u8], i: usize) -> usize {
    let q = b[i];
    if b.get(i + 1) != Some(&q) || b.get(i + 2) != Some(&q) {
        return skip_string(b, i + 1, q, q == b'"');
    }
    // Multi-line: ends at the first run of three quotes (up to two more belong to it).
    let mut j = i + 3;
    while j < b.len() {
        if q == b'"' && b[j] == b'\\' {
            j += 2;
        } else if b[j] == q && b.get(j + 1) == Some(&q) && b.get(j + 2) == Some(&q) {
            j += 3;
            while j < b.len() && b[j] == q {
                j += 1;
            }
            return j;
        } else {
            j += 1;
        }
    }
    j
}

/// The index after a one-line string whose content starts at `j`, closed by `q` (backslash
/// escapes if `escapes`); an unterminated string ends at the line's end (the parser refuses
/// it).
fn skip_string(b: &[u8], mut j: usize, q: u8, escapes: bool) -> usize {
    while j < b.len() {
        match b[j] {
            b'\\' if escapes => j += 2,
            b'\n' => return j,
            c if c == q => return j + 1,
            _ => j += 1,
        }
    }
    j
}

/// Refuses text with more than [`MAX_ENTRIES`] entries or [`MAX_VALUES`] values, before it is
/// parsed (see [`count`]).
fn check_size(text: &str, origin: &str, format: Format) -> Result<(), CrsFileError> {
    let c = count(text, format);
    let refuse = |message: String| CrsFileError {
        file: origin.to_string(),
        line: None,
        field: None,
        message,
    };
    if c.entries > MAX_ENTRIES {
        return Err(refuse(entries_message(c.entries)));
    }
    if c.values > MAX_VALUES {
        return Err(refuse(format!(
            "holds {} values (keys, array elements, tables); a CRS file may hold at most \
             {MAX_VALUES} (a city's definitions have a few hundred); not loaded",
            c.values
        )));
    }
    Ok(())
}

/// The refusal of a file with `n` entries, more than [`MAX_ENTRIES`].
fn entries_message(n: usize) -> String {
    format!(
        "holds {n} entries (ellipsoid, datum and crs together); a CRS file may hold at most \
         {MAX_ENTRIES} (a city's definitions are a few dozen); not loaded"
    )
}

/// Loads `text` (named `origin` in errors) into `registry`, whole or not at all. A text with
/// more than [`MAX_ENTRIES`] entries or [`MAX_VALUES`] values is refused before it is parsed,
/// the count in the message, so memory stays bounded whatever the text.
pub(crate) fn load_str<D: Definitions>(
    registry: &mut D,
    text: &str,
    origin: &str,
    format: Format,
) -> Result<(), CrsFileError> {
    check_size(text, origin, format)?;
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
    // The parsed count, exactly (the scan's bounds it only for well-formed text).
    if let tree::Value::Table(top) = &root.value {
        let entries: usize = top
            .iter()
            .filter(|e| matches!(e.key.as_str(), "ellipsoid" | "datum" | "crs"))
            .map(|e| match &e.node.value {
                tree::Value::Array(items) => items.len(),
                _ => 1,
            })
            .sum();
        if entries > MAX_ENTRIES {
            return Err(CrsFileError {
                file: origin.to_string(),
                line: None,
                field: None,
                message: entries_message(entries),
            });
        }
        // The registry as a whole (several CRS files, e.g. a manifest's list) is bounded too.
        let crss = top
            .iter()
            .filter(|e| e.key == "crs")
            .map(|e| match &e.node.value {
                tree::Value::Array(items) => items.len(),
                _ => 1,
            })
            .sum::<usize>();
        let already = registry.user_crs_count();
        if already + crss > MAX_ENTRIES {
            return Err(CrsFileError {
                file: origin.to_string(),
                line: None,
                field: None,
                message: format!(
                    "its {crss} CRS entries and the {already} CRSs already loaded from other CRS \
                     files make more than {MAX_ENTRIES}, the most one registry holds; not loaded"
                ),
            });
        }
    }
    let mut updated = registry.clone();
    schema::load(&mut updated, origin, &root)?;
    *registry = updated;
    Ok(())
}
