//! The format table: every file format geounify converts, in one place (issue 13's backbone,
//! first step).
//!
//! A [`Format`] row says what a format is called, which file names it takes and which files of
//! a set it reads beside the main one, and holds its entry points: the conversion, the sample
//! the sanity check reads, the CRS the file declares, its signature check ([`sniff`]) and its
//! feature reader and writer for conversions between formats ([`cross`]; every format has both). [`convert_file`] and
//! [`declared::read`] dispatch through the row; nothing else matches on the format to pick
//! code. Adding a format is its module (one file) plus one [`FileFormat`] variant and one row
//! here.
//!
//! Extensions that look like a supported format but are another ([`REFUSED`], e.g. MapInfo
//! `.tab`, a binary table set, not tab-separated text) are refused with the reason instead of
//! being misread.
//!
//! [`convert_file`]: super::convert_file
//! [`declared::read`]: super::declared::read

use super::atomic::folder_of;
use super::declared::{self, DeclaredCrs};
use super::features::{FeatureReader, FeatureWriter, Schema};
use super::sniff::{self, Sniffed};
use super::{
    cass, cross, csv, dxf, fgb, geojson, geoparquet, gpkg, gpx, kml, kmz, mif, shapefile, wkt,
    xlsx, ConvertError, ConvertReport, FileFormat, Job,
};
use std::path::{Path, PathBuf};

/// A format's sample reader: up to `max` coordinates `[x, y, z]` from the start of the input.
pub(crate) type SampleFn = fn(&Job<'_>, usize) -> Result<Vec<[f64; 3]>, ConvertError>;

/// One file format: its names and its entry points.
#[derive(Debug)]
pub struct Format {
    /// The format.
    pub format: FileFormat,
    /// A short name for messages and lineage records, e.g. `"csv"`, `"geojson"`.
    pub name: &'static str,
    /// The extensions it is known by (lower case, without the dot; matched case-insensitively),
    /// listed in messages.
    pub extensions: &'static [&'static str],
    /// Rarer spellings also taken, not listed in messages.
    pub also_accepted: &'static [&'static str],
    /// The extensions of the other files of a set read beside the main file (a Shapefile's
    /// `.shx`, `.dbf`, `.prj`, `.cpg`); empty for a single-file format.
    pub set_members: &'static [&'static str],
    /// The extensions (the main one included) of every file an output set owns beside its
    /// main file: written, or removed as stale when the set is replaced (a Shapefile's indexes
    /// too); empty for a single-file format. See [`AtomicSet`](super::atomic::AtomicSet).
    pub set_family: &'static [&'static str],
    /// Converts `job.input` into `job.output` (the shared checks already done).
    pub(crate) convert: fn(&Job<'_>) -> Result<ConvertReport, ConvertError>,
    /// Up to `max` coordinates `[x, y, z]` from the start of the input, for the sanity check.
    pub(crate) sample: SampleFn,
    /// The CRSs a regular file of this format declares (see [`declared::read`]).
    pub(crate) declared: fn(&Path) -> Result<Vec<DeclaredCrs>, ConvertError>,
    /// Whether a file's first bytes carry the format's signature (see [`sniff`]).
    pub(crate) sniff: fn(&[u8]) -> Sniffed,
    /// Reads the input as features, for conversions into other formats ([`cross`]); `None`: the
    /// format converts only into itself.
    pub(crate) read: Option<ReadFn>,
    /// Writes features into the output, for conversions from other formats ([`cross`]); `None`:
    /// the format is written only from itself.
    pub(crate) write: Option<WriteFn>,
}

/// A format's feature reader for conversions between formats (see [`cross`]).
pub(crate) type ReadFn = for<'a> fn(&Job<'a>) -> Result<Box<dyn FeatureReader + 'a>, ConvertError>;

/// A format's feature writer for conversions between formats, given the input's schema (see
/// [`cross`]).
pub(crate) type WriteFn = fn(&Job<'_>, &Schema) -> Result<Box<dyn FeatureWriter>, ConvertError>;

/// Every format, in [`FileFormat`]'s order (`FORMATS[f as usize].format == f`, checked by a
/// test).
pub static FORMATS: [Format; 16] = [
    Format {
        format: FileFormat::Csv,
        name: "csv",
        extensions: &["csv"],
        also_accepted: &[],
        set_members: &[],
        set_family: &[],
        convert: csv::convert_file,
        sample: csv::sample,
        declared: declares_nothing,
        sniff: sniff::none,
        read: Some(cross::csv::reader),
        write: Some(cross::csv::writer),
    },
    Format {
        format: FileFormat::Tsv,
        name: "tsv",
        extensions: &["tsv"],
        also_accepted: &[],
        set_members: &[],
        set_family: &[],
        convert: csv::convert_file,
        sample: csv::sample,
        declared: declares_nothing,
        sniff: sniff::none,
        read: Some(cross::csv::reader),
        write: Some(cross::csv::writer),
    },
    Format {
        format: FileFormat::GeoJson,
        name: "geojson",
        extensions: &["geojson", "json"],
        also_accepted: &[],
        set_members: &[],
        set_family: &[],
        convert: geojson::convert_file,
        sample: geojson::sample,
        declared: declared::geojson,
        sniff: sniff::geojson,
        read: Some(cross::geojson::reader),
        write: Some(cross::geojson::writer),
    },
    Format {
        format: FileFormat::GeoJsonSeq,
        name: "geojsonseq",
        extensions: &["geojsonl", "ndjson"],
        also_accepted: &["geojsons", "jsonl"],
        set_members: &[],
        set_family: &[],
        convert: geojson::convert_file,
        sample: geojson::sample,
        declared: declares_nothing,
        sniff: sniff::geojson_seq,
        read: Some(cross::geojson::reader),
        write: Some(cross::geojson::writer),
    },
    Format {
        format: FileFormat::Wkt,
        name: "wkt",
        extensions: &["wkt"],
        also_accepted: &[],
        set_members: &[],
        set_family: &[],
        convert: wkt::convert_file,
        sample: wkt::sample,
        declared: declared::ewkt_srid,
        sniff: sniff::wkt,
        read: Some(cross::wkt::reader),
        write: Some(cross::wkt::writer),
    },
    Format {
        format: FileFormat::Shapefile,
        name: "shapefile",
        extensions: &["shp"],
        also_accepted: &[],
        set_members: &["shx", "dbf", "prj", "cpg"],
        set_family: &shapefile::SET_FAMILY,
        convert: shapefile::convert_file,
        sample: shapefile::sample,
        declared: declared::prj,
        sniff: sniff::shapefile,
        read: Some(cross::shapefile::reader),
        write: Some(cross::shapefile::writer),
    },
    Format {
        format: FileFormat::GeoPackage,
        name: "gpkg",
        extensions: &["gpkg"],
        also_accepted: &[],
        set_members: &[],
        set_family: &[],
        convert: gpkg::convert_file,
        sample: gpkg::sample,
        declared: declared::gpkg,
        sniff: sniff::gpkg,
        read: Some(cross::gpkg::reader),
        write: Some(cross::gpkg::writer),
    },
    Format {
        format: FileFormat::Cass,
        name: "cass",
        extensions: &["dat"],
        also_accepted: &[],
        set_members: &[],
        set_family: &[],
        convert: cass::convert_file,
        sample: cass::sample,
        declared: declares_nothing,
        sniff: sniff::none,
        read: Some(cross::cass::reader),
        write: Some(cross::cass::writer),
    },
    Format {
        format: FileFormat::Mif,
        name: "mif",
        extensions: &["mif"],
        also_accepted: &[],
        set_members: &["mid"],
        set_family: &mif::SET_FAMILY,
        convert: mif::convert_file,
        sample: mif::sample,
        declared: mif::declared,
        sniff: sniff::mif,
        read: Some(cross::mif::reader),
        write: Some(cross::mif::writer),
    },
    Format {
        format: FileFormat::Gpx,
        name: "gpx",
        extensions: &["gpx"],
        also_accepted: &[],
        set_members: &[],
        set_family: &[],
        convert: gpx::convert_file,
        sample: gpx::sample,
        // WGS84 by definition, but Chinese apps write GCJ-02 into it: the file cannot tell
        // (see the gpx module), so the source must be given.
        declared: declares_nothing,
        sniff: sniff::gpx,
        read: Some(cross::gpx::reader),
        write: Some(cross::gpx::writer),
    },
    Format {
        format: FileFormat::Kml,
        name: "kml",
        extensions: &["kml"],
        also_accepted: &[],
        set_members: &[],
        set_family: &[],
        convert: kml::convert_file,
        sample: kml::sample,
        // WGS84 by definition, with the same GCJ-02 trap as GPX (see the kml module).
        declared: declares_nothing,
        sniff: sniff::kml,
        read: Some(cross::kml::reader),
        write: Some(cross::kml::writer),
    },
    Format {
        format: FileFormat::Kmz,
        name: "kmz",
        extensions: &["kmz"],
        also_accepted: &[],
        set_members: &[],
        set_family: &[],
        convert: kmz::convert_file,
        sample: kmz::sample,
        declared: declares_nothing,
        sniff: sniff::kmz,
        read: Some(cross::kml::reader),
        write: Some(cross::kml::writer),
    },
    Format {
        format: FileFormat::Dxf,
        name: "dxf",
        extensions: &["dxf"],
        also_accepted: &[],
        set_members: &[],
        set_family: &[],
        convert: dxf::convert_file,
        sample: dxf::sample,
        declared: declares_nothing,
        sniff: sniff::dxf,
        read: Some(cross::dxf::reader),
        write: Some(cross::dxf::writer),
    },
    Format {
        format: FileFormat::FlatGeobuf,
        name: "fgb",
        extensions: &["fgb"],
        also_accepted: &[],
        set_members: &[],
        set_family: &[],
        convert: fgb::convert_file,
        sample: fgb::sample,
        declared: fgb::declared,
        sniff: sniff::fgb,
        read: Some(cross::fgb::reader),
        write: Some(cross::fgb::writer),
    },
    Format {
        format: FileFormat::Xlsx,
        name: "xlsx",
        extensions: &["xlsx"],
        also_accepted: &[],
        set_members: &[],
        set_family: &[],
        convert: xlsx::convert_file,
        sample: xlsx::sample,
        declared: declares_nothing,
        sniff: sniff::xlsx,
        read: Some(cross::xlsx::reader),
        write: Some(cross::xlsx::writer),
    },
    Format {
        format: FileFormat::GeoParquet,
        name: "geoparquet",
        extensions: &["parquet"],
        also_accepted: &["geoparquet"],
        set_members: &[],
        set_family: &[],
        convert: geoparquet::convert_file,
        sample: geoparquet::sample,
        declared: geoparquet::declared,
        sniff: geoparquet::sniff,
        read: Some(cross::geoparquet::reader),
        write: Some(cross::geoparquet::writer),
    },
];

/// Extensions that name a format geounify does not read, with why and what to do instead.
pub static REFUSED: &[(&str, &str)] = &[
    (
        "tab",
        "MapInfo TAB is not supported: a .tab file is the header of a binary table set (.tab, \
     .dat, .map, .id), not tab-separated text; export it to GeoPackage or Shapefile first \
     (e.g. ogr2ogr out.gpkg in.tab), or name a tab-separated text file .tsv",
    ),
    (
        "dwg",
        "DWG is not supported: it is AutoCAD's binary drawing format; save the drawing as ASCII \
     DXF (.dxf) first",
    ),
];

impl Format {
    /// Whether the format is a set of files (a Shapefile) rather than one file.
    pub fn is_set(&self) -> bool {
        !self.set_family.is_empty()
    }

    /// Refuses a set whose member beside `main` (`stem.<member>`, extension in any case, links
    /// followed) is not a regular file — a FIFO (opening it would block forever with no
    /// writer), a device (`/dev/zero` never ends), a folder or a socket:
    /// [`ConvertError::Io`] naming that member, "not a regular file (a FIFO (named pipe)); only
    /// regular files are converted". Checked before anything is opened; nothing to check for a
    /// single-file format. A folder that cannot be listed is an `Io` error naming it.
    pub(crate) fn require_regular_members(&self, main: &Path) -> Result<(), ConvertError> {
        if self.set_members.is_empty() {
            return Ok(());
        }
        let found = set_siblings(main, self.set_members)
            .map_err(|source| ConvertError::Io { path: folder_of(main), source })?;
        for path in found {
            super::require_regular_file(&path)?;
        }
        Ok(())
    }

    /// The files of an input at `path`: the main file and the set members that exist (in the
    /// main file's case, else upper case).
    pub fn input_files(&self, path: &Path) -> Vec<PathBuf> {
        let mut files = vec![path.to_path_buf()];
        for ext in self.set_members {
            for candidate in [ext.to_string(), ext.to_ascii_uppercase()] {
                let p = path.with_extension(&candidate);
                if p.exists() && !files.contains(&p) {
                    files.push(p);
                    break;
                }
            }
        }
        files
    }
}

/// The files beside `main` named `<main's stem>.<ext>`, `ext` one of `exts` in any case (a
/// Shapefile's `roads.DBF` with `roads.shp`), as the user named `main` (its folder, its stem),
/// sorted so that the first in name order is the one reported. Names that are not UTF-8 never
/// match. Errors: the folder cannot be listed.
pub(crate) fn set_siblings(main: &Path, exts: &[&str]) -> std::io::Result<Vec<PathBuf>> {
    let Some(stem) = main.file_stem().and_then(|s| s.to_str()) else { return Ok(Vec::new()) };
    let prefix = format!("{stem}.");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder_of(main))? {
        let name = entry?.file_name();
        let Some(ext) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else { continue };
        if exts.iter().any(|e| e.eq_ignore_ascii_case(ext)) {
            found.push(main.with_file_name(&name));
        }
    }
    found.sort();
    Ok(found)
}

/// The row of `format`.
pub fn of(format: FileFormat) -> &'static Format {
    &FORMATS[format as usize]
}

/// The format of `path`, by its extension (case-insensitive); `None` for any other name,
/// including the [`REFUSED`] ones.
pub fn from_path(path: &Path) -> Option<&'static Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    FORMATS
        .iter()
        .find(|f| f.extensions.contains(&ext.as_str()) || f.also_accepted.contains(&ext.as_str()))
}

/// The format called `name`: its [`Format::name`] or one of its extensions (with or without the
/// dot), in any case, e.g. `"gpkg"`, `"GeoJSON"`, `".shp"`.
pub fn named(name: &str) -> Option<&'static Format> {
    let name = name.strip_prefix('.').unwrap_or(name).to_ascii_lowercase();
    let name = name.as_str();
    FORMATS
        .iter()
        .find(|f| f.name == name || f.extensions.contains(&name) || f.also_accepted.contains(&name))
}

/// The format names [`named`] takes, for messages: `csv, tsv, geojson, ...`.
pub fn names() -> String {
    FORMATS.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
}

/// Why `path` has no format: the reason of a [`REFUSED`] extension, else the list of the
/// supported extensions, e.g. `unknown format (supported: .csv, .tsv, ...)`, and what an
/// existing file's content looks like if a format's signature says (see [`sniff::hint`]).
pub fn unknown(path: &Path) -> String {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if let Some((_, reason)) = REFUSED.iter().find(|(e, _)| Some(*e) == ext.as_deref()) {
        return (*reason).to_string();
    }
    let listed: Vec<String> =
        FORMATS.iter().flat_map(|f| f.extensions).map(|e| format!(".{e}")).collect();
    format!("unknown format (supported: {}){}", listed.join(", "), sniff::hint(path))
}

/// For the formats that declare no CRS (CSV, TSV, newline-delimited GeoJSON, CASS).
fn declares_nothing(_: &Path) -> Result<Vec<DeclaredCrs>, ConvertError> {
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_the_enums_order_and_every_name_is_taken_once() {
        for (i, f) in FORMATS.iter().enumerate() {
            assert_eq!(f.format as usize, i, "{}", f.name);
            assert_eq!(of(f.format).name, f.name);
        }
        let mut all: Vec<&str> = FORMATS
            .iter()
            .flat_map(|f| f.extensions.iter().chain(f.also_accepted))
            .copied()
            .collect();
        all.extend(REFUSED.iter().map(|(e, _)| *e));
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "an extension in two rows");
    }

    #[test]
    fn extensions_are_matched_ignoring_case_and_refused_ones_say_why() {
        assert_eq!(from_path(Path::new("a/B.GeoJSONL")).map(|f| f.name), Some("geojsonseq"));
        assert_eq!(from_path(Path::new("x.JSONL")).map(|f| f.name), Some("geojsonseq"));
        assert_eq!(
            from_path(Path::new("roads.SHP")).map(|f| f.format),
            Some(FileFormat::Shapefile)
        );
        assert!(from_path(Path::new("parcels.TAB")).is_none());
        assert!(unknown(Path::new("parcels.TAB")).starts_with("MapInfo TAB is not supported"));
        assert_eq!(
            unknown(Path::new("notes.txt")),
            "unknown format (supported: .csv, .tsv, .geojson, .json, .geojsonl, .ndjson, .wkt, \
             .shp, .gpkg, .dat, .mif, .gpx, .kml, .kmz, .dxf, .fgb, .xlsx, .parquet)"
        );
        assert!(from_path(Path::new("no-extension")).is_none());
    }

    #[test]
    fn formats_are_named_by_name_or_extension() {
        assert_eq!(named("GPKG").map(|f| f.format), Some(FileFormat::GeoPackage));
        assert_eq!(named(".shp").map(|f| f.format), Some(FileFormat::Shapefile));
        assert_eq!(named("json").map(|f| f.format), Some(FileFormat::GeoJson));
        assert_eq!(named("geojsonseq").map(|f| f.format), Some(FileFormat::GeoJsonSeq));
        assert!(named("tab").is_none());
        assert!(named("").is_none());
    }
}
