//! `geounify convert` and `geounify unify`: whole files and whole exchanges, a thin layer over
//! `geounify::convert`.

use crate::{progress, report, EXIT_OK, EXIT_SOME_LINES_FAILED, EXIT_USAGE};
use clap::Args;
use geounify::convert::exchange::{self, Dataset};
use geounify::convert::{
    convert_file, declared_crs, ConvertError, ConvertOptions, ConvertReport, FileFormat,
    TextEncoding,
};
use geounify::{Heights, Registry};
use std::path::PathBuf;

/// The long help of `geounify convert`.
pub(crate) const LONG_ABOUT: &str = concat!(
    "\
Convert a whole file from one CRS to another, keeping every feature, attribute and digit other
than the converted coordinates. The format is taken from the file name; into the same format
every byte other than the coordinates is kept:
  .csv .tsv          coordinate columns from --x-col/--y-col[/--z-col], or detected from the
                     header (lon/lng/longitude/x/easting/经度, lat/latitude/y/northing/纬度,
                     z/h/height/elevation/高程); UTF-8 (BOM kept), or --encoding gbk|gb18030
  .geojson .json     GeoJSON, streamed; the `crs` member GDAL uses is written for a target
                     other than EPSG:4326 (RFC 7946 expects WGS84: a warning says so)
  .geojsonl .ndjson  newline-delimited GeoJSON
  .wkt               one WKT geometry per line, optionally after an id and a tab , or ;
  .shp               Shapefile set (.shp .shx .dbf .prj .cpg); .dbf copied byte for byte,
                     .prj written for the target
  .gpkg              GeoPackage: every feature table, its srs and envelopes, R-tree indexes
  .dat               South CASS point file, no header: id,code,Y(east),X(north)[,H]; each
                     value keeps its decimals (metres n -> degrees n+6); binary .dat refused
  .mif               MapInfo MIF/MID set: every coordinate pair (Center, Label too) converted,
                     .mid copied byte for byte, CoordSys written for the target (CGCS2000 as
                     datum 33); Rect/Ellipse/Arc/Text boxes by their corners, with a warning
  .xlsx              Excel point table on the first sheet: columns as for CSV (the header is
                     the first of the first 16 rows naming them); only the coordinate cells'
                     values change, every other part of the workbook is copied

Between formats (e.g. convert a.shp -o b.geojson; every format above into every other) the
features are carried with their
attributes (integer, real, text, boolean, date) and heights, the output declares the target
CRS in its own way (.prj, GeoJSON \"crs\", gpkg srs). A CSV output has x,y[,z] columns for
points, else a wkt column; a Shapefile output holds one geometry type. --precision N writes the
coordinates of text outputs with N decimals for metres, N + 6 for degrees.

The CRS the input declares (Shapefile .prj, GeoJSON \"crs\" member, GeoPackage
gpkg_spatial_ref_sys, EWKT SRID=, MapInfo CoordSys) is compared with --from by its parameters
(ellipsoid, projection, central meridian, false easting, scale, units): a contradiction stops
the conversion (exit 2; --force converts anyway, with a warning), a declaration that cannot be
identified or decided is a warning. Without --from, the declared CRS is used; a file that declares none needs
--from.

Before converting, a sample of the data is checked against the source CRS: degrees declared as
metres (or the reverse), swapped axes, a missing or wrong zone prefix, points far outside the
area of use stop the conversion with what the data looks like instead (--force converts
anyway).

",
    heights_help!(),
    "
The output is written to a temporary file beside it and renamed only on success: a failure
never leaves a half-written output or touches an existing one; the input is never modified.
A feature with a point that cannot be converted fails the conversion (each is reported with its
location, nothing is written), or with --skip-invalid is left out and listed.",
);

/// Arguments of `geounify convert`.
#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// Source CRS id (built-in or from a --crs-file). Without it, the CRS the input declares
    /// (.prj, GeoJSON "crs", GeoPackage srs, EWKT SRID=) is used.
    #[arg(long, value_name = "ID")]
    from: Option<String>,
    /// Target CRS id.
    #[arg(long, value_name = "ID")]
    to: String,
    /// The input file.
    #[arg(value_name = "INPUT")]
    input: PathBuf,
    /// The output file (its extension gives its format).
    #[arg(short, long, value_name = "OUTPUT")]
    output: PathBuf,
    /// CSV/TSV/XLSX: the x column (easting or longitude), by header name.
    #[arg(long, value_name = "NAME")]
    x_col: Option<String>,
    /// CSV/TSV/XLSX: the y column (northing or latitude).
    #[arg(long, value_name = "NAME")]
    y_col: Option<String>,
    /// CSV/TSV/XLSX: the z column (a height: an elevation unless --ellipsoidal-heights), if any.
    #[arg(long, value_name = "NAME")]
    z_col: Option<String>,
    /// Text encoding of CSV/TSV/WKT input: utf-8 (default), gbk, gb18030. The output keeps it.
    #[arg(long, value_name = "NAME")]
    encoding: Option<String>,
    /// Leave out features with points that cannot be converted (listed on stderr) instead of
    /// failing.
    #[arg(long)]
    skip_invalid: bool,
    /// Convert even if the sanity check says the data cannot belong to the source CRS.
    #[arg(long)]
    force: bool,
    /// z values are ellipsoidal heights on the source CRS's datum (converted with the point
    /// through the datum shift), not elevations (the default: copied unchanged between 2D
    /// CRSs). Also allows converting between a 2D and a 3D CRS.
    #[arg(long)]
    ellipsoidal_heights: bool,
    /// Conversions between formats: write the coordinates of a text output (GeoJSON, CSV) with
    /// N decimal places for metres (and z), N + 6 for degrees. Default: the shortest form that
    /// reads back exactly.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=12))]
    precision: Option<u8>,
}

/// Exit status of `geounify convert`.
pub(crate) fn run(registry: &Registry, args: &ConvertArgs) -> u8 {
    let encoding = match args.encoding.as_deref().map(|e| (e, TextEncoding::parse(e))) {
        None => None,
        Some((_, Some(e))) => Some(e),
        Some((name, None)) => {
            report(format_args!("unknown encoding '{name}' (utf-8, gbk, gb18030)"));
            return EXIT_USAGE;
        }
    };
    let target = match registry.lookup(&args.to) {
        Ok(t) => t,
        Err(e) => {
            report(e);
            return EXIT_USAGE;
        }
    };
    let source = match &args.from {
        Some(from) => match registry.lookup(from) {
            Ok(s) => s,
            Err(e) => {
                report(e);
                return EXIT_USAGE;
            }
        },
        None => match declared_crs(&args.input, registry) {
            Ok(Some(s)) => {
                report(format_args!(
                    "{}: no --from: converting from {}, the CRS the file declares",
                    args.input.display(),
                    s.id()
                ));
                s
            }
            Ok(None) if lonlat_by_definition(&args.input) => {
                report(format_args!(
                    "{}: GPX and KML (KMZ) coordinates are WGS84 longitude/latitude by definition, but \
                     Chinese map apps export GCJ-02 (or BD-09) coordinates in them and the file \
                     cannot say which: give the source CRS, --from EPSG:4326 for a GPS \
                     receiver's data or --from GCJ02 (--from BD09) for a Chinese app's export",
                    args.input.display()
                ));
                return EXIT_USAGE;
            }
            Ok(None) => {
                report(format_args!(
                    "{}: the file declares no CRS (no .prj, GeoJSON \"crs\" member, GeoPackage \
                     srs or EWKT SRID=): give the source CRS with --from",
                    args.input.display()
                ));
                return EXIT_USAGE;
            }
            Err(e) => {
                report(e);
                return EXIT_USAGE;
            }
        },
    };
    let options = ConvertOptions {
        x_col: args.x_col.clone(),
        y_col: args.y_col.clone(),
        z_col: args.z_col.clone(),
        encoding,
        skip_invalid: args.skip_invalid,
        force: args.force,
        parallel: true,
        heights: if args.ellipsoidal_heights { Heights::Ellipsoidal } else { Heights::Elevation },
        precision: args.precision,
    };
    let label = args.input.display().to_string();
    let bar = progress::for_file(&label);
    let result = convert_file(&args.input, &args.output, &source, &target, &options, bar.as_ref());
    match result {
        Ok(r) => {
            summarise(&label, &r);
            if r.skipped.is_empty() {
                EXIT_OK
            } else {
                EXIT_SOME_LINES_FAILED
            }
        }
        Err(e) => {
            failed(&e);
            exit_status(&e)
        }
    }
}

/// Reports a failed conversion: the error, and every failure with its location.
fn failed(error: &ConvertError) {
    report(error);
    if let ConvertError::PointsFailed { failures, total, .. } = error {
        for f in failures {
            report(format_args!("  {}: {}", f.location, f.reason));
        }
        if *total > failures.len() as u64 {
            report(format_args!("  ... and {} more", *total - failures.len() as u64));
        }
    }
}

/// Exit 1 for data that could not be converted (points, implausible or malformed data), 2 for
/// usage and I/O problems.
fn exit_status(error: &ConvertError) -> u8 {
    match error {
        ConvertError::PointsFailed { .. }
        | ConvertError::Implausible { .. }
        | ConvertError::Malformed { .. } => EXIT_SOME_LINES_FAILED,
        _ => EXIT_USAGE,
    }
}

/// `input: N features (M vertices) → output`, then warnings and left-out features.
fn summarise(label: &str, r: &ConvertReport) {
    let outputs: Vec<String> = r.outputs.iter().map(|p| p.display().to_string()).collect();
    report(format_args!(
        "{label}: {} features ({} vertices, {} without geometry) → {}",
        r.written,
        r.vertices,
        r.empty,
        outputs.join(", ")
    ));
    for w in &r.warnings {
        report(format_args!("warning: {w}"));
    }
    if !r.skipped.is_empty() {
        report(format_args!("{} features left out (--skip-invalid):", r.skipped.len()));
        for f in &r.skipped {
            report(format_args!("  {}: {}", f.location, f.reason));
        }
    }
}

/// Arguments of `geounify unify`.
#[derive(Debug, Args)]
pub(crate) struct UnifyArgs {
    /// The exchange manifest (TOML): a target CRS, an output folder and the datasets.
    #[arg(value_name = "EXCHANGE.toml")]
    manifest: PathBuf,
}

/// The long help of `geounify unify`.
pub(crate) const UNIFY_ABOUT: &str = "\
Convert every dataset of an exchange manifest into its one agreed CRS, into the output folder,
and write lineage.json there: for each output, the input files and their SHA-256, the source
and target CRS ids, the steps applied (operation names, never parameter values), counts of
features and vertices, failures with their locations, the tool version and the time.

Manifest (paths relative to it):
  target = \"EPSG:4548\"
  output = \"out\"
  crs_files = [\"city.toml\"]          # optional
  skip_invalid = false                # optional; force = false likewise
  heights = \"elevation\"               # optional: z values are elevations (copied between 2D
                                       # CRSs) or \"ellipsoidal\" (converted; see convert --help)
  format = \"gpkg\"                     # optional: every output in this format (a name or
                                       # extension); without it, each input's own format
  [[dataset]]
  path = \"parcels.csv\"
  crs = \"city:old-grid\"
  x_col = \"E\"                          # optional: x_col y_col z_col encoding skip_invalid force
                                       # heights output (file name in the output folder)

The whole manifest is checked first: every CRS id, datum parameters (and, for 3D CRSs, the
heights) to the target, every input (a regular file of a known format; a Shapefile's .shx,
.dbf, .prj and .cpg too), every output (a file name in the output folder, in a format its input converts into,
clashing neither with lineage.json, another output (ignoring case; a Shapefile with its whole
set) nor any file the exchange reads). Any problem: all are listed, nothing is
converted or written, exit status 2.

Each dataset is converted like `geounify convert` (sanity check, atomic output); a dataset that
fails is recorded as failed, its output from an earlier run removed (the lineage lists it), and
the others still go on. The previous lineage.json is removed before converting and the new one
written last: a lineage.json always describes the files beside it. Exit status 1 if any dataset
failed or left features out.";

/// Exit status of `geounify unify`.
pub(crate) fn unify(registry: &Registry, args: &UnifyArgs) -> u8 {
    let manifest = match exchange::read_manifest(&args.manifest) {
        Ok(m) => m,
        Err(e) => {
            report(e);
            return EXIT_USAGE;
        }
    };
    let bar = |d: &Dataset| progress::for_file(&d.path.display().to_string());
    let outcome = match exchange::run(&manifest, registry, &bar) {
        Ok(o) => o,
        Err(e) => {
            report(e);
            return EXIT_USAGE;
        }
    };
    for message in &outcome.cleaned {
        report(format_args!("warning: {message}"));
    }
    for d in &outcome.datasets {
        let label = d.dataset.path.display().to_string();
        match &d.result {
            Ok(r) => summarise(&label, r),
            Err(e) => {
                report(format_args!("{label}: FAILED: {e}"));
                for p in &d.removed {
                    report(format_args!(
                        "{label}: removed {}, an earlier run's output",
                        p.display()
                    ));
                }
            }
        }
    }
    report(format_args!("lineage: {}", outcome.lineage.display()));
    if outcome.is_complete() {
        EXIT_OK
    } else {
        EXIT_SOME_LINES_FAILED
    }
}

/// Whether `input`'s format holds WGS84 longitude/latitude by definition while declaring
/// nothing (GPX, KML), so that a missing --from gets the GCJ-02 trap explained.
fn lonlat_by_definition(input: &std::path::Path) -> bool {
    matches!(
        FileFormat::from_path(input),
        Some(FileFormat::Gpx | FileFormat::Kml | FileFormat::Kmz)
    )
}
