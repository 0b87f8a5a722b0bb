//! Conversions between formats (`convert a.shp -o b.geojson`): the input format's reader turns
//! the input into [`Feature`]s of the common model ([`features`](super::features)), each chunk's
//! points go through [`Transformer::transform_slice`](crate::Transformer::transform_slice)
//! once, and the output format's writer writes them.
//!
//! One file per format, each with its reader and writer, so that a format's two directions and
//! their rules sit together and stay apart from the byte-preserving same-format converters
//! (which never go through this model): [`geojson`] (GeoJSON and newline-delimited GeoJSON),
//! [`csv`] (CSV / TSV), [`gpkg`] (GeoPackage), [`shapefile`] (Shapefile sets), [`xlsx`] (Excel
//! point tables), [`gpx`] (GPX), [`kml`] (KML and KMZ), [`fgb`] (FlatGeobuf), [`cass`] (CASS
//! `.dat`), [`mif`] (MapInfo MIF/MID), [`dxf`] (DXF), [`wkt`] (WKT lines); [`wkb`] holds
//! the well-known binary and text forms the binary formats and CSV share. A format plugs in
//! through its `read` / `write` entries in the format table ([`format::FORMATS`]).
//!
//! Everything else is the same as for a conversion into the same format: the sanity check and
//! the declared-CRS check (done by [`convert_file`](super::convert_file) before), failures
//! ([`ConvertOptions::skip_invalid`](super::ConvertOptions::skip_invalid) leaves the feature out
//! and lists it; without it nothing is written), atomic outputs (a temporary file or set renamed
//! only on success).
//!
//! **Precision.** [`ConvertOptions::precision`](super::ConvertOptions::precision) = N writes the
//! coordinates of text outputs (GeoJSON, CSV) with N decimals for metres and N + 6 for degrees
//! (as `geounify transform --precision`); without it the shortest form that reads back exactly.
//! Binary outputs (GeoPackage, Shapefile) store the `f64` values themselves.
//!
//! [`format::FORMATS`]: super::format::FORMATS

pub mod cass;
pub mod csv;
pub mod dxf;
pub mod fgb;
pub mod geojson;
pub mod geoparquet;
pub mod gpkg;
pub mod gpx;
pub mod kml;
pub mod mif;
pub mod shapefile;
pub mod wkb;
pub mod wkt;
pub mod xlsx;

use super::atomic::AtomicFile;
use super::features::{Feature, Read};
use super::format::{Format, ReadFn, WriteFn};
use super::text::{degree_decimals, Fixed, Number};
use super::{ConvertError, ConvertReport, Failure, Job, Tally};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Features converted together: a chunk ends at this many features or [`CHUNK_VERTICES`]
/// positions, whichever comes first (one feature is always taken whole).
pub const CHUNK: usize = 4096;
/// Positions per chunk (see [`CHUNK`]).
pub const CHUNK_VERTICES: usize = 1 << 20;

/// Converts `job.input` (format `from`) into `job.output` (format `to`), the shared checks
/// already done.
pub(crate) fn convert(
    job: &Job<'_>,
    from: &Format,
    to: &Format,
) -> Result<ConvertReport, ConvertError> {
    let (read, write) = entries(from, to)
        .map_err(|message| ConvertError::Options { path: job.output.to_path_buf(), message })?;
    let mut reader = read(job)?;
    let mut writer = write(job, reader.schema())?;
    let mut report = ConvertReport::default();
    let mut tally = Tally::default();
    let mut chunk: Vec<Slot> = Vec::with_capacity(CHUNK);
    let mut ok: Vec<Feature> = Vec::with_capacity(CHUNK);
    // Each feature's positions, counted once as it is read.
    let mut counts: Vec<usize> = Vec::with_capacity(CHUNK);
    let mut reported = 0;
    loop {
        chunk.clear();
        counts.clear();
        let mut vertices = 0;
        let mut more = true;
        while chunk.len() < CHUNK && vertices < CHUNK_VERTICES {
            match reader.next()? {
                Some(read) => {
                    let n = read
                        .as_ref()
                        .map_or(0, |f| f.geometry.as_ref().map_or(0, |g| g.shape.vertices()));
                    vertices += n;
                    counts.push(n);
                    chunk.push(Slot::from(read));
                }
                None => {
                    more = false;
                    break;
                }
            }
        }
        transform_chunk(job, &mut chunk);
        ok.clear();
        for (slot, &n) in chunk.drain(..).zip(&counts) {
            report.features += 1;
            match slot {
                Slot::Converted(f) => {
                    report.vertices += n as u64;
                    report.empty += u64::from(n == 0);
                    if !tally.failed() {
                        ok.push(f);
                    }
                }
                Slot::Failed(failure) | Slot::Read(Err(failure)) => {
                    tally.record(&mut report, job.options.skip_invalid, failure)
                }
                Slot::Read(Ok(_)) => {} // not reached: transform_chunk settles every slot
            }
        }
        if !tally.failed() && !ok.is_empty() {
            writer.write(&ok)?;
        }
        let consumed = reader.consumed();
        if consumed > reported {
            job.progress.advance(consumed - reported);
            reported = consumed;
        }
        if !more {
            break;
        }
    }
    report.warnings.extend(reader.warnings());
    tally.finish(&mut report, job.input)?;
    writer.finish(&mut report)?;
    Ok(report)
}

/// The reader of `from` and the writer of `to`, or why `from` cannot be converted into `to`
/// (one of them takes no part in conversions between formats).
pub(crate) fn entries(from: &Format, to: &Format) -> Result<(ReadFn, WriteFn), String> {
    let unsupported = |what: &str, name: &str| {
        format!(
            "converting from {} to {} is not supported: {what} {name} in conversions between \
             formats (supported: {})",
            from.name,
            to.name,
            supported()
        )
    };
    let read = from.read.ok_or_else(|| unsupported("geounify does not read", from.name))?;
    let write = to.write.ok_or_else(|| unsupported("geounify does not write", to.name))?;
    Ok((read, write))
}

/// Appends `bytes` to the temporary file of a text output (CSV, CASS, WKT lines) at `path`.
pub(crate) fn append(file: &mut AtomicFile, path: &Path, bytes: &[u8]) -> Result<(), ConvertError> {
    file.writer()
        .write_all(bytes)
        .map_err(|source| ConvertError::Io { path: path.to_path_buf(), source })
}

/// Moves a text output's temporary file into place at `path`; its warnings and final path go
/// into `report`.
pub(crate) fn commit(
    file: AtomicFile,
    path: PathBuf,
    warnings: &mut Vec<String>,
    report: &mut ConvertReport,
) -> Result<(), ConvertError> {
    report.warnings.append(warnings);
    report.outputs.push(file.commit().map_err(|source| ConvertError::Io { path, source })?);
    Ok(())
}

/// The formats that take part in conversions between formats, for messages.
fn supported() -> String {
    let names: Vec<String> = super::format::FORMATS
        .iter()
        .filter(|f| f.read.is_some() && f.write.is_some())
        .map(|f| f.name.to_string())
        .collect();
    names.join(", ")
}

/// A feature of a chunk on its way through the transformer.
enum Slot {
    /// As read (or failed to read).
    Read(Read),
    /// Converted.
    Converted(Feature),
    /// A point could not be converted.
    Failed(Failure),
}

impl From<Read> for Slot {
    fn from(read: Read) -> Self {
        Slot::Read(read)
    }
}

/// An empty point inside a geometry (GeoJSON `[]` in a collection, WKB `POINT EMPTY` in a
/// multi-point), held as NaN x and y: left as it is, as the same-format converters leave it.
fn is_empty_point(c: &[f64; 3]) -> bool {
    c[0].is_nan() && c[1].is_nan()
}

/// Transforms the points of a chunk's features through the batch path (one
/// `transform_slice` per part of the chunk, parts in parallel with `parallel`); a 2D geometry's
/// points go with z = 0 and get only x and y back.
fn transform_chunk(job: &Job<'_>, chunk: &mut [Slot]) {
    super::runner::in_place(
        job.transformer,
        job.options.parallel,
        chunk,
        |slot, points| match slot {
            Slot::Read(Ok(Feature { geometry: Some(g), .. })) => {
                let z = g.has_z;
                g.shape.for_each(&mut |c| {
                    if !is_empty_point(c) {
                        points.push([c[0], c[1], if z { c[2] } else { 0.0 }]);
                    }
                });
                true
            }
            Slot::Read(Ok(_)) => {
                // No geometry: converted as it is.
                if let Slot::Read(Ok(f)) = std::mem::replace(slot, Slot::Read(Ok(empty()))) {
                    *slot = Slot::Converted(f);
                }
                false
            }
            _ => false,
        },
        |slot, converted| {
            let Slot::Read(Ok(mut f)) = std::mem::replace(slot, Slot::Read(Ok(empty()))) else {
                return;
            };
            *slot = match converted {
                Ok(points) => {
                    if let Some(g) = f.geometry.as_mut() {
                        let z = g.has_z;
                        let mut next = points.iter();
                        g.shape.for_each_mut(&mut |c| {
                            if is_empty_point(c) {
                                return; // not transformed, kept empty
                            }
                            if let Some(p) = next.next() {
                                c[0] = p[0];
                                c[1] = p[1];
                                if z {
                                    c[2] = p[2];
                                }
                            }
                        });
                    }
                    Slot::Converted(f)
                }
                Err(e) => Slot::Failed(Failure { location: f.location, reason: e.to_string() }),
            };
        },
    );
}

fn empty() -> Feature {
    Feature { location: String::new(), geometry: None, attributes: Vec::new() }
}

/// How a text output writes coordinates: the shortest round-trip form, or fixed decimals
/// ([`ConvertOptions::precision`](super::ConvertOptions::precision): N for metres and heights,
/// N + 6 for degrees).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Digits {
    xy: Option<usize>,
    z: Option<usize>,
}

impl Digits {
    /// The form for `job`'s target and options.
    pub(crate) fn of(job: &Job<'_>) -> Self {
        let n = job.options.precision.map(usize::from);
        let xy = n.map(|n| if job.target.is_angular() { degree_decimals(n) } else { n });
        Self { xy, z: n }
    }

    /// Appends x or y.
    pub(crate) fn push_xy(self, out: &mut Vec<u8>, v: f64) {
        push(out, v, self.xy)
    }

    /// Appends a z.
    pub(crate) fn push_z(self, out: &mut Vec<u8>, v: f64) {
        push(out, v, self.z)
    }
}

fn push(out: &mut Vec<u8>, v: f64, decimals: Option<usize>) {
    match decimals {
        Some(d) => Fixed(v, d).push_to(out),
        None => Number(v).push_to(out),
    }
}

/// A warning for binary outputs given a precision (which they do not use).
pub(crate) fn precision_unused(job: &Job<'_>, format: &str) -> Option<String> {
    job.options.precision.map(|n| {
        format!(
            "--precision {n} is not used: {format} stores coordinates as binary numbers \
             (64-bit floating point), written exactly"
        )
    })
}

/// Refuses an output that is the input itself (a link to it, or the same path), for conversions
/// between formats: their extensions differ, so only a link can make them one file.
pub(crate) fn refuse_same_path(
    input: &std::path::Path,
    output: &std::path::Path,
) -> Result<(), ConvertError> {
    match (input.canonicalize(), output.canonicalize()) {
        (Ok(a), Ok(b)) if a == b => Err(ConvertError::SameFile { path: output.to_path_buf() }),
        _ => Ok(()),
    }
}
