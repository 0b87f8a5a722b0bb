//! File conversion (feature `formats`): whole datasets from one CRS to another, every feature,
//! attribute and digit kept, with a report of what was done.
//!
//! One file per format, each streaming where the format allows:
//! - [`csv`]: CSV / TSV with coordinate columns (UTF-8, with or without BOM, or GBK / GB18030);
//! - [`geojson`]: GeoJSON (RFC 7946 and GDAL's `crs` member) and newline-delimited GeoJSON;
//! - [`wkt`]: one WKT geometry per line, with an optional leading id column;
//! - [`shapefile`]: `.shp` / `.shx` / `.dbf` / `.prj` / `.cpg` sets;
//! - [`gpkg`]: GeoPackage (SQLite) feature tables;
//! - [`cass`]: South CASS / total-station point files (`.dat`, `id,code,Y(east),X(north),H`);
//! - [`mif`]: MapInfo Interchange Format `.mif` / `.mid` sets;
//! - [`gpx`]: GPX waypoints, routes and tracks;
//! - [`kml`]: KML coordinates, tracks and overlay boxes (both through a shared byte-level XML
//!   scanner), and [`kmz`]: zipped KML;
//! - [`dxf`]: ASCII DXF drawings (entities in model space);
//! - [`fgb`]: FlatGeobuf (header, packed R-tree index, features).
//! - [`xlsx`]: Excel workbooks holding a point table (coordinate columns as in CSV).
//! - [`geoparquet`]: GeoParquet (WKB and GeoArrow geometry columns, through the Arrow kernel).
//!
//! Into another format (`roads.shp` → `roads.geojson`), [`cross`] carries the features through
//! the common feature model of [`features`]: geometries with their heights and typed attributes.
//!
//! [`declared`] reads the CRS each format declares (Shapefile `.prj`, GeoJSON `crs` member,
//! GeoPackage `gpkg_spatial_ref_sys`, EWKT `SRID=`); [`convert_file`] refuses a declaration that
//! contradicts the source CRS ([`ConvertError::DeclaredCrsMismatch`], `force` overrides) and
//! [`declared_crs`] gives the declared CRS to a conversion without an explicit source.
//!
//! [`convert_file`] picks the format from the file name, refuses an output that is the input,
//! checks that the data can belong to the declared source CRS ([`sanity`]), converts into
//! temporary files beside the outputs and renames them only on success ([`atomic`]), so a
//! failure never leaves a half-written output or touches an existing one.
//!
//! A point that cannot be converted fails the whole file (nothing is written) and every failure
//! is reported with its location; with [`ConvertOptions::skip_invalid`] the features holding such
//! points are left out of the output and listed in the report instead. Nothing is ever dropped
//! or altered silently.

pub mod atomic;
pub mod cass;
pub mod cross;
pub mod csv;
pub mod declared;
pub mod dxf;
pub mod exchange;
pub mod features;
pub mod fgb;
pub mod format;
pub mod geojson;
pub mod geoparquet;
pub mod gpkg;
pub mod gpx;
pub mod kml;
pub mod kmz;
pub mod lineage;
pub mod mif;
pub(crate) mod runner;
pub mod sanity;
pub mod shapefile;
pub mod sniff;
pub mod text;
pub use crate::wkb;
pub mod wkt;
pub mod xlsx;
pub(crate) mod xml;

use crate::crs::{Crs, CrsKind};
use crate::error::BuildError;
use crate::transformer::{Heights, Transformer};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// A file format geounify converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated values (`.csv`).
    Csv,
    /// Tab-separated values (`.tsv`).
    Tsv,
    /// GeoJSON (`.geojson`, `.json`).
    GeoJson,
    /// Newline-delimited GeoJSON (`.geojsonl`, `.geojsons`, `.ndjson`, `.jsonl`).
    GeoJsonSeq,
    /// One WKT geometry per line (`.wkt`), optionally after an id column.
    Wkt,
    /// ESRI Shapefile (`.shp` with `.shx`, `.dbf`, optional `.prj`, `.cpg`).
    Shapefile,
    /// OGC GeoPackage (`.gpkg`).
    GeoPackage,
    /// South CASS point file (`.dat`): headerless lines `id,code,Y(east),X(north)[,H]`.
    Cass,
    /// MapInfo Interchange Format (`.mif` with its `.mid`).
    Mif,
    /// GPS Exchange Format (`.gpx`), GPX 1.0 and 1.1.
    Gpx,
    /// Keyhole Markup Language (`.kml`), KML 2.2.
    Kml,
    /// Zipped KML (`.kmz`).
    Kmz,
    /// ASCII DXF drawings (`.dxf`), as CAD and survey software (CASS) write them.
    Dxf,
    /// FlatGeobuf (`.fgb`), format version 3, with or without its packed R-tree index.
    FlatGeobuf,
    /// Excel workbooks (`.xlsx`): a point table on the first sheet.
    Xlsx,
    /// GeoParquet (`.parquet`, `.geoparquet`): Apache Parquet with `geo` metadata (feature
    /// `geoparquet`).
    GeoParquet,
}

impl FileFormat {
    /// The format of `path`, by its extension (case-insensitive; see [`format::from_path`]).
    pub fn from_path(path: &Path) -> Option<Self> {
        format::from_path(path).map(|f| f.format)
    }

    /// A short name for messages and lineage records, e.g. `"csv"`, `"geojson"`.
    pub fn name(self) -> &'static str {
        format::of(self).name
    }
}

/// A text encoding of CSV, TSV, WKT files and Shapefile attribute tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 (a leading byte-order mark is accepted and kept).
    Utf8,
    /// GBK (code page 936), as many government files are written.
    Gbk,
    /// GB 18030 (a superset of GBK).
    Gb18030,
}

impl TextEncoding {
    /// Parses `utf-8`, `utf8`, `gbk`, `cp936`, `gb18030`, `gb2312` (read as GBK, its superset),
    /// case-insensitively.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Some(TextEncoding::Utf8),
            "gbk" | "cp936" | "gb2312" | "936" => Some(TextEncoding::Gbk),
            "gb18030" | "gb-18030" => Some(TextEncoding::Gb18030),
            _ => None,
        }
    }
}

/// Options of a conversion. `Default` is: columns detected, encoding UTF-8 (or the
/// Shapefile's `.cpg`), failures stop the conversion, sanity checks on, parallel.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertOptions {
    /// CSV/TSV and Excel `.xlsx`: the x column (easting or longitude), by header name; `None` detects it from
    /// common names (lon, lng, longitude, x, easting, 经度, ...).
    pub x_col: Option<String>,
    /// CSV/TSV and `.xlsx`: the y column (northing or latitude); `None` detects it.
    pub y_col: Option<String>,
    /// CSV/TSV and `.xlsx`: the z column (a height; see `heights`), if any; `None` detects `z`, `h`,
    /// `height`, `elevation`, `高程` only if present.
    pub z_col: Option<String>,
    /// Text encoding of the input (the output is written in the same encoding); `None` = UTF-8,
    /// or a Shapefile's `.cpg`.
    pub encoding: Option<TextEncoding>,
    /// Leave features with points that cannot be converted out of the output (each is listed in
    /// the report) instead of failing the whole file.
    pub skip_invalid: bool,
    /// Convert even if the sanity check says the data cannot belong to the source CRS.
    pub force: bool,
    /// Transform in parallel chunks (order kept).
    pub parallel: bool,
    /// What the z values of 2D CRSs are: elevations (default; copied unchanged between 2D
    /// CRSs, the plane result independent of them) or ellipsoidal heights (converted through
    /// the datum shift). See [`Transformer`].
    pub heights: Heights,
    /// Conversions between formats ([`cross`]): the coordinates of text outputs (GeoJSON, CSV)
    /// with this many decimals for metres (and heights) and 6 more for degrees, as `geounify
    /// transform --precision`; `None` (default): the shortest form that reads back exactly.
    /// A conversion into the same format keeps the input's digits and refuses it.
    pub precision: Option<u8>,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        Self {
            x_col: None,
            y_col: None,
            z_col: None,
            encoding: None,
            skip_invalid: false,
            force: false,
            parallel: true,
            heights: Heights::Elevation,
            precision: None,
        }
    }
}

/// Progress of a conversion, in bytes of input read; the CLI draws a bar with it.
/// [`convert_file`] calls `start` and `finish`; the formats call `advance` as they read.
pub trait Progress: Sync {
    /// The conversion starts; `total` bytes of input, if known.
    fn start(&self, total: Option<u64>);
    /// `bytes` more bytes of input have been read.
    fn advance(&self, bytes: u64);
    /// The conversion is over (successfully or not).
    fn finish(&self);
}

/// No progress reporting.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _total: Option<u64>) {}
    fn advance(&self, _bytes: u64) {}
    fn finish(&self) {}
}

/// A feature (row, record, line) that could not be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Where it is, in the input's own terms: `line 12`, `feature 5 (id "A-17")`,
    /// `record 3`, `table parcels, fid 42`.
    pub location: String,
    /// Why, e.g. `latitude 95° is beyond ±90°`.
    pub reason: String,
}

/// What a conversion did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConvertReport {
    /// Features (rows, records, lines with a geometry) read.
    pub features: u64,
    /// Features written (features − skipped).
    pub written: u64,
    /// Coordinate tuples converted.
    pub vertices: u64,
    /// Features with no geometry (null / empty), passed through unchanged.
    pub empty: u64,
    /// Features left out because a point could not be converted (only with `skip_invalid`).
    pub skipped: Vec<Failure>,
    /// Every file written, final paths.
    pub outputs: Vec<PathBuf>,
    /// Things the user should know that did not stop the conversion (e.g. RFC 7946 expects
    /// WGS84 in GeoJSON).
    pub warnings: Vec<String>,
}

/// Why a file could not be converted. Nothing was written.
#[derive(Debug, Error)]
pub enum ConvertError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The input is not valid in its format.
    #[error("{path}: {location}: {message}")]
    Malformed {
        /// The input.
        path: PathBuf,
        /// Where, e.g. `line 3`, `byte 1024`, `record 7`.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// The file's extension names no supported format (or one that is refused, e.g. MapInfo
    /// `.tab`: see [`format::REFUSED`]).
    #[error("{}: {}", .path.display(), format::unknown(.path))]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The options do not fit the file (e.g. a coordinate column that is not in the header).
    #[error("{path}: {message}")]
    Options {
        /// The input.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The output path is the input path (or another file of the same Shapefile set).
    #[error("{path}: the output would overwrite the input")]
    SameFile {
        /// The path.
        path: PathBuf,
    },
    /// The data cannot belong to the declared source CRS (see [`sanity`]); `force` converts
    /// anyway.
    #[error("{path}: {finding} (use --force to convert anyway)")]
    Implausible {
        /// The input.
        path: PathBuf,
        /// What is wrong and what the data looks like instead.
        finding: sanity::Finding,
    },
    /// Points could not be converted; nothing was written. `skip_invalid` leaves their features
    /// out instead.
    #[error("{path}: {} feature(s) could not be converted, nothing written; first: {}: {}", failures.len(), failures.first().map_or("", |f| f.location.as_str()), failures.first().map_or("", |f| f.reason.as_str()))]
    PointsFailed {
        /// The input.
        path: PathBuf,
        /// Every failure (at most [`MAX_FAILURES`] are kept; `total` counts them all).
        failures: Vec<Failure>,
        /// How many features failed in all.
        total: u64,
    },
    /// The file declares a CRS (Shapefile `.prj`, GeoJSON `crs` member, GeoPackage
    /// `gpkg_spatial_ref_sys`, EWKT `SRID=`) that contradicts the source CRS it was to be
    /// converted from (see [`declared`]); `force` converts anyway, with a warning.
    #[error("{path}: {origin} declares {declared}, which contradicts the source CRS {from}: {reason} (use --force to convert anyway)")]
    DeclaredCrsMismatch {
        /// The input.
        path: PathBuf,
        /// Where the declaration is, e.g. `roads.prj`.
        origin: String,
        /// What it declares, e.g. `EPSG:4547` or the WKT's name.
        declared: String,
        /// The source CRS's id.
        from: String,
        /// The parameter that differs, with both values.
        reason: String,
    },
    /// No transformer between the two CRSs.
    #[error(transparent)]
    Build(#[from] BuildError),
}

/// At most this many failures are kept in reports (the count is always exact).
pub const MAX_FAILURES: usize = 1000;

/// The longest single record any text format reads into memory, in bytes: a CSV record, a WKT
/// line, a newline-delimited GeoJSON line, a GeoJSON feature (64 MiB). A longer one is a
/// [`ConvertError::Malformed`] naming its line or feature, refused before it is held whole.
pub const MAX_RECORD_BYTES: u64 = 64 << 20;

/// Refuses an input that is not a regular file (a FIFO, a character or block device, a folder,
/// a socket), following symbolic links: such an input could block forever (a FIFO with no
/// writer), never end (`/dev/urandom`) or be consumed by the sanity check's sample before the
/// conversion reads it again. Checked before anything opens it; `Io` naming the file.
pub(crate) fn require_regular_file(path: &Path) -> Result<(), ConvertError> {
    let meta =
        std::fs::metadata(path).map_err(|source| ConvertError::Io { path: path.into(), source })?;
    if meta.is_file() {
        return Ok(());
    }
    use std::os::unix::fs::FileTypeExt as _;
    let t = meta.file_type();
    let what = if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    };
    Err(ConvertError::Io {
        path: path.into(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a regular file ({what}); only regular files are converted"),
        ),
    })
}

/// Opens an input checked by [`require_regular_file`], and checks the opened file again (it may
/// have been replaced in between).
pub(crate) fn open_regular(path: &Path) -> Result<std::fs::File, ConvertError> {
    require_regular_file(path)?;
    let io = |source| ConvertError::Io { path: path.into(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    if !file.metadata().map_err(io)?.is_file() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file; only regular files are converted",
        )));
    }
    Ok(file)
}

/// The features of one conversion that could not be converted: left out and listed in
/// [`ConvertReport::skipped`] with `skip_invalid`, else failing the conversion. At most
/// [`MAX_FAILURES`] of each are kept; all are counted.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    failures: Vec<Failure>,
    failed: u64,
    skipped: u64,
}

impl Tally {
    /// Records a feature that could not be converted: left out if `skip_invalid`, else a
    /// failure of the conversion.
    pub(crate) fn record(&mut self, report: &mut ConvertReport, skip_invalid: bool, f: Failure) {
        if skip_invalid {
            self.skipped += 1;
            if report.skipped.len() < MAX_FAILURES {
                report.skipped.push(f);
            }
        } else {
            self.failed += 1;
            if self.failures.len() < MAX_FAILURES {
                self.failures.push(f);
            }
        }
    }

    /// Whether a feature has failed the conversion (output need not be written any more).
    pub(crate) fn failed(&self) -> bool {
        self.failed > 0
    }

    /// Ends the conversion of `input`: [`ConvertError::PointsFailed`] if a feature failed, else
    /// the report's `written` count and, past [`MAX_FAILURES`], a warning with the full count.
    pub(crate) fn finish(
        self,
        report: &mut ConvertReport,
        input: &Path,
    ) -> Result<(), ConvertError> {
        if self.failed > 0 {
            return Err(ConvertError::PointsFailed {
                path: input.to_path_buf(),
                failures: self.failures,
                total: self.failed,
            });
        }
        report.written = report.features - self.skipped;
        if self.skipped > report.skipped.len() as u64 {
            report.warnings.push(format!(
                "{} features were left out; only the first {MAX_FAILURES} are listed",
                self.skipped
            ));
        }
        Ok(())
    }
}

/// Everything a format's converter needs.
pub struct Job<'a> {
    /// The input file.
    pub input: &'a Path,
    /// The final output file (the converter writes to temporary files beside it).
    pub output: &'a Path,
    /// The source CRS.
    pub source: &'a Crs,
    /// The target CRS.
    pub target: &'a Crs,
    /// `source` → `target`.
    pub transformer: &'a Transformer,
    /// Options.
    pub options: &'a ConvertOptions,
    /// Progress sink.
    pub progress: &'a dyn Progress,
}

/// Converts `input` (in `source`) to `output` (in `target`); the formats are taken from the
/// file names. Into the same format, coordinates are rewritten in place and every other byte is
/// kept; into another format, the features go through the common feature model ([`cross`]:
/// attributes with their types, geometries with their heights).
pub fn convert_file(
    input: &Path,
    output: &Path,
    source: &Crs,
    target: &Crs,
    options: &ConvertOptions,
    progress: &dyn Progress,
) -> Result<ConvertReport, ConvertError> {
    let format = FileFormat::from_path(input)
        .ok_or_else(|| ConvertError::UnknownFormat { path: input.to_path_buf() })?;
    let out_format = FileFormat::from_path(output)
        .ok_or_else(|| ConvertError::UnknownFormat { path: output.to_path_buf() })?;
    if format == out_format {
        if let Some(n) = options.precision {
            return Err(ConvertError::Options {
                path: output.to_path_buf(),
                message: format!(
                    "--precision {n} applies to conversions between formats; a conversion into \
                     the same format ({}) writes converted numbers in the shortest form that \
                     reads back exactly and keeps every other byte",
                    format.name()
                ),
            });
        }
        atomic::refuse_same_file(input, output, format)?;
    } else {
        cross::refuse_same_path(input, output)?;
    }
    require_regular_file(input)?;
    // Geocentric X, Y, Z are three coordinates, not a position and an optional height: a
    // position without z would be read as Z = 0 (a point inside the earth) or written without
    // its Z. The formats here carry the height as optional, so geocentric is refused.
    for (crs, path) in [(source, input), (target, output)] {
        if matches!(crs.kind(), CrsKind::Geocentric) {
            return Err(ConvertError::Options {
                path: path.to_path_buf(),
                message: format!(
                    "{} is geocentric (X, Y, Z): files are converted between geographic and \
                     projected CRSs only (for 3D data use a geographic 3D CRS such as EPSG:4480 \
                     or EPSG:4979; `geounify transform` converts X Y Z lines)",
                    crs.id()
                ),
            });
        }
    }
    format::of(format).require_regular_members(input)?;
    if let Some(message) = sniff::mismatch(format::of(format), &sniff::head(input)) {
        return Err(ConvertError::Options { path: input.to_path_buf(), message });
    }
    let mut notes = check_declarations(input, source, options.force)?;
    let transformer = Transformer::with_heights(source, target, options.heights)?;
    let job = Job { input, output, source, target, transformer: &transformer, options, progress };
    if !options.force {
        let samples = sample(&job, format, sanity::SAMPLE_SIZE)?;
        if let Some(finding) = sanity::check(source, &samples) {
            return Err(ConvertError::Implausible { path: input.to_path_buf(), finding });
        }
    }
    progress.start(std::fs::metadata(input).map(|m| m.len()).ok());
    let result = if format == out_format {
        (format::of(format).convert)(&job)
    } else {
        cross::convert(&job, format::of(format), format::of(out_format))
    };
    progress.finish();
    let mut report = result?;
    // Temporary files of earlier runs into this output that were killed: removed once the new
    // output is in place (a refused or failed conversion changes nothing), and reported. The
    // output is committed: a failure here is a warning, not the conversion's failure.
    match leftover_temporaries(output, out_format) {
        Ok(messages) => notes.extend(messages),
        Err(e) => notes.push(format!("temporary files of interrupted runs not cleaned: {e}")),
    }
    report.warnings.splice(0..0, notes);
    Ok(report)
}

/// [`atomic::remove_leftover_temporaries`] for `output` (for a Shapefile, for each file of its
/// set, as older versions wrote one temporary file per member); the messages. Called after a
/// successful conversion, and by `unify` for a dataset that failed.
pub(crate) fn leftover_temporaries(
    output: &Path,
    format: FileFormat,
) -> Result<Vec<String>, ConvertError> {
    let io_out = |source| ConvertError::Io { path: output.to_path_buf(), source };
    let spec = format::of(format);
    if !spec.is_set() {
        return atomic::remove_leftover_temporaries(output).map_err(io_out);
    }
    let mut messages = Vec::new();
    for ext in spec.set_family {
        for ext in [ext.to_string(), ext.to_ascii_uppercase()] {
            messages.extend(
                atomic::remove_leftover_temporaries(&output.with_extension(ext)).map_err(io_out)?,
            );
        }
    }
    Ok(messages)
}

/// Compares every CRS `input` declares with `source` ([`declared::read`],
/// [`declared::DeclaredCrs::matches`]): a contradiction is [`ConvertError::DeclaredCrsMismatch`]
/// unless `force` (then a warning); a declaration that cannot be decided is a warning. The
/// warnings.
fn check_declarations(
    input: &Path,
    source: &Crs,
    force: bool,
) -> Result<Vec<String>, ConvertError> {
    let mut warnings = Vec::new();
    // A file whose declarations cannot be read is converted by its format's converter, which
    // reports the problem in its own terms if it is one; if it converts, the warning says the
    // declaration was not checked.
    let found = declared::read(input).unwrap_or_else(|e| {
        warnings.push(format!("the CRS the file declares could not be read ({e}); not checked"));
        Vec::new()
    });
    warnings.extend(judge_declarations(input, found, source, force)?);
    Ok(warnings)
}

/// Compares declarations `found` in `input` with `source`: a contradiction is
/// [`ConvertError::DeclaredCrsMismatch`] naming `input` unless `force` (then a warning); a
/// declaration that cannot be decided is a warning. The warnings. Shared by
/// [`convert_file`] and the in-memory APIs ([`geojson::convert_str`],
/// [`geojson::convert_reader`], [`wkt::convert_reader`]), which name the input `<stream>`.
pub(crate) fn judge_declarations(
    input: &Path,
    found: Vec<declared::DeclaredCrs>,
    source: &Crs,
    force: bool,
) -> Result<Vec<String>, ConvertError> {
    let mut warnings = Vec::new();
    for d in found {
        match d.matches(source) {
            declared::Match::Agrees => {}
            declared::Match::Unknown(reason) => warnings.push(reason),
            declared::Match::Contradicts(reason) if force => warnings.push(format!(
                "{} declares {}, which contradicts the source CRS {}: {reason}; converted as {} \
                 (--force)",
                d.origin,
                d.describe(),
                source.id(),
                source.id()
            )),
            declared::Match::Contradicts(reason) => {
                return Err(ConvertError::DeclaredCrsMismatch {
                    path: input.to_path_buf(),
                    origin: d.origin.clone(),
                    declared: d.describe(),
                    from: source.id().to_string(),
                    reason,
                })
            }
        }
    }
    Ok(warnings)
}

/// The source CRS `input` declares, for a conversion without an explicit source CRS (the CLI's
/// `convert` without `--from`): `Ok(None)` if the file declares none (CSV/TSV, NDJSON, GeoJSON
/// without a `crs` member, Shapefile without `.prj`, WKT without `SRID=`, GeoPackage tables on
/// the undefined systems). EPSG codes and ids are resolved through `registry`, WKT without an
/// authority by its parameters (see [`declared::DeclaredCrs::identify`]).
///
/// Errors: [`ConvertError::Options`] naming the file if a declaration cannot be identified or
/// the declarations (GeoPackage tables) name different CRSs; I/O and database errors as in
/// [`declared::read`].
pub fn declared_crs(
    input: &Path,
    registry: &crate::registry::Registry,
) -> Result<Option<Crs>, ConvertError> {
    let mut found: Option<(Crs, String)> = None;
    for d in declared::read(input)? {
        let crs = d.identify(registry).map_err(|reason| ConvertError::Options {
            path: input.to_path_buf(),
            message: format!(
                "{} declares {}, which geounify cannot identify: {reason}; give the source CRS \
                 (--from)",
                d.origin,
                d.describe()
            ),
        })?;
        match &found {
            None => found = Some((crs, d.origin.clone())),
            Some((first, origin)) if first.id() != crs.id() => {
                return Err(ConvertError::Options {
                    path: input.to_path_buf(),
                    message: format!(
                        "{origin} declares {} but {} declares {}; give the source CRS (--from)",
                        first.id(),
                        d.origin,
                        crs.id()
                    ),
                })
            }
            Some(_) => {}
        }
    }
    Ok(found.map(|(crs, _)| crs))
}

/// Opens `job.input`, runs `convert` from it into a temporary file beside `job.output`, and
/// renames that over the output only if `convert` succeeded (the shared frame of the streaming
/// text formats).
pub(crate) fn through_temporary(
    job: &Job<'_>,
    convert: impl FnOnce(
        std::fs::File,
        &mut std::io::BufWriter<std::fs::File>,
    ) -> Result<ConvertReport, ConvertError>,
) -> Result<ConvertReport, ConvertError> {
    let io_out = |source| ConvertError::Io { path: job.output.to_path_buf(), source };
    let file = open_regular(job.input)?;
    let mut out = atomic::AtomicFile::create(job.output).map_err(io_out)?;
    let mut report = convert(file, out.writer())?;
    report.outputs.push(out.commit().map_err(io_out)?);
    Ok(report)
}

/// Up to `max` coordinates `[x, y, z]` from the start of the input, for the sanity check.
fn sample(job: &Job<'_>, format: FileFormat, max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
    (format::of(format).sample)(job, max)
}
