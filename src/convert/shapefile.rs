//! ESRI Shapefiles (ESRI Shapefile Technical Description, July 1998): a `.shp` with its `.shx`
//! index and `.dbf` attribute table, optionally a `.prj` and a `.cpg`.
//!
//! Coordinates live only in the `.shp`, so only the `.shp` is rewritten, at the binary level:
//! each record's X/Y (and Z for the Z types) converted, its bounding box and Z range
//! recomputed, everything else (record numbers, part indices, part types, M values) copied.
//! Record sizes do not change, so the `.shx` index is the input's with a new header bounding box.
//! The file headers get the converted data's bounding box and Z range (M range kept).
//!
//! - The `.dbf` and `.cpg` are copied byte for byte: attribute tables in GBK (or any code page)
//!   are kept exactly; they are never decoded.
//! - A `.prj` is written for the target (WKT 1 as GDAL writes it, see
//!   [`Crs::to_wkt`](crate::crs::Crs::to_wkt)); a target that WKT cannot express (GCJ-02, BD-09,
//!   a city grid on an expanded ellipsoid) gets no `.prj` and a warning.
//! - Spatial indexes and metadata beside the set (`.sbn`, `.sbx`, `.qix`, `.shp.xml`, ...) would
//!   describe the old coordinates: they are not copied and each gets a warning.
//! - The output set is written into a temporary folder beside it and moved into place as a
//!   unit ([`AtomicSet`]); files of an older set at the output's name that the new set lacks
//!   (a `.prj` when the target has no WKT form, `.cpg`, `.qix`, `.sbn`, `.shp.xml`, ...) are
//!   removed in the same commit, so a reconverted set never keeps a stale sidecar. What a kill
//!   can leave, and how the next run cleans it, is described there.
//! - A record with a point that cannot be converted fails the conversion (nothing written), or
//!   with [`skip_invalid`](super::ConvertOptions::skip_invalid) is **written as a null shape**
//!   (shape type 0): dropping the record would misalign the `.dbf`, whose rows pair with the
//!   records by position, and rewriting the `.dbf` is what this converter avoids. The record's
//!   attributes stay; the report lists it as skipped. The `.shx` then records the shorter record.
//! - Validation: header magic 9994 and version 1000, file lengths as declared, record lengths
//!   within the file, one shape type per file (plus null), sizes as the shape type requires,
//!   part indices in range, a `.shx` present whose entries match the records; otherwise
//!   [`ConvertError::Malformed`] at `record N` (1-based) and nothing written.
//! - An empty Shapefile (header only) converts to an empty Shapefile.
//!
//! Records are read in chunks of [`CHUNK`] (bounded memory) and converted in parallel when
//! [`parallel`](super::ConvertOptions::parallel) is set, written in order.

use super::atomic::AtomicSet;
use super::wkb::Envelope;
use super::Tally;
use super::{ConvertError, ConvertReport, Failure, Job};
use crate::error::PointError;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Records converted per chunk.
pub const CHUNK: usize = 65_536;

/// Record content held per chunk, in bytes (64 MiB): a chunk ends at [`CHUNK`] records or once
/// this much is read, so memory stays bounded by the largest record plus this, whatever the
/// records' sizes.
pub const CHUNK_BYTES: usize = 64 << 20;

const HEADER_LEN: usize = 100;
const FILE_CODE: i32 = 9994;
const VERSION: i32 = 1000;
/// Sidecars that describe the old coordinates and are not copied.
const STALE: [&str; 11] =
    ["sbn", "sbx", "qix", "fbn", "fbx", "ain", "aih", "atx", "ixs", "mxs", "shp.xml"];
/// Every file of an output set: written (`shp` ... `cpg`) or, left from an older set at the
/// output's name, removed when the new set is committed ([`AtomicSet`]), so that no old sidecar
/// (a `.prj` of another CRS, an index of the old coordinates) stays beside the new set.
pub(crate) const SET_FAMILY: [&str; 16] = [
    "shp", "shx", "dbf", "prj", "cpg", "sbn", "sbx", "qix", "fbn", "fbx", "ain", "aih", "atx",
    "ixs", "mxs", "shp.xml",
];

fn shape_type_name(t: i32) -> Option<&'static str> {
    Some(match t {
        0 => "Null",
        1 => "Point",
        3 => "PolyLine",
        5 => "Polygon",
        8 => "MultiPoint",
        11 => "PointZ",
        13 => "PolyLineZ",
        15 => "PolygonZ",
        18 => "MultiPointZ",
        21 => "PointM",
        23 => "PolyLineM",
        25 => "PolygonM",
        28 => "MultiPointM",
        31 => "MultiPatch",
        _ => return None,
    })
}

fn has_z(t: i32) -> bool {
    matches!(t, 11 | 13 | 15 | 18 | 31)
}

/// The files of a Shapefile set found beside the `.shp`.
#[derive(Debug, Default)]
struct Sidecars {
    shx: Option<PathBuf>,
    dbf: Option<PathBuf>,
    cpg: Option<PathBuf>,
    stale: Vec<PathBuf>,
}

/// Finds `stem.ext` files beside `shp`, the extension compared case-insensitively.
fn sidecars(shp: &Path) -> io::Result<Sidecars> {
    let mut found = Sidecars::default();
    let Some(stem) = shp.file_stem().and_then(|s| s.to_str()) else {
        return Ok(found);
    };
    let folder = match shp.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let prefix = format!("{stem}.");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix)))
        .collect();
    entries.sort(); // deterministic; upper-case names sort first, so prefer lower-case below
    for path in entries {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let ext = name[prefix.len()..].to_ascii_lowercase();
        let lower = name[prefix.len()..].chars().all(|c| !c.is_ascii_uppercase());
        let slot = match ext.as_str() {
            "shx" => &mut found.shx,
            "dbf" => &mut found.dbf,
            "cpg" => &mut found.cpg,
            e if STALE.contains(&e) => {
                found.stale.push(path);
                continue;
            }
            _ => continue,
        };
        if slot.is_none() || lower {
            *slot = Some(path);
        }
    }
    Ok(found)
}

/// Refuses an output set one of whose names (`stem.<ext>`, `ext` of [`SET_FAMILY`] in any
/// case, beside `output`) is taken by a folder: the set's commit could neither rename a new
/// file over it nor remove it as stale, and would stop half way. [`ConvertError::Io`] naming
/// the folder, before anything is written (also before an interrupted commit is completed).
pub(crate) fn refuse_folders_in_the_set(output: &Path) -> Result<(), ConvertError> {
    let mut folders = match super::format::set_siblings(output, &SET_FAMILY) {
        Ok(names) => names.into_iter().filter(|p| p.symlink_metadata().is_ok_and(|m| m.is_dir())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(ConvertError::Io { path: super::atomic::folder_of(output), source })
        }
    };
    match folders.next() {
        // the first in name order
        Some(path) => Err(ConvertError::Io {
            path,
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                "a folder has the name of a file of the output set; move it away (nothing was \
                 written)",
            ),
        }),
        None => Ok(()),
    }
}

/// `output` with the extension `ext`, upper-case if the output's `.SHP` is.
pub(crate) fn output_sibling(output: &Path, ext: &str) -> PathBuf {
    let upper = output.extension().and_then(|e| e.to_str()).is_some_and(|e| e == "SHP");
    output.with_extension(if upper { ext.to_ascii_uppercase() } else { ext.to_string() })
}

fn be_i32(b: &[u8], at: usize) -> i32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    i32::from_be_bytes(a)
}

fn le_i32(b: &[u8], at: usize) -> i32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    i32::from_le_bytes(a)
}

fn le_f64(b: &[u8], at: usize) -> f64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        a.copy_from_slice(s);
    }
    f64::from_le_bytes(a)
}

fn put_f64(b: &mut [u8], at: usize, v: f64) {
    if let Some(s) = b.get_mut(at..at + 8) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// Checks a `.shp` / `.shx` header against the file's size; its shape type.
fn check_header(header: &[u8; HEADER_LEN], size: u64) -> Result<i32, String> {
    if be_i32(header, 0) != FILE_CODE {
        return Err(format!("file code {} (a Shapefile has 9994)", be_i32(header, 0)));
    }
    if le_i32(header, 28) != VERSION {
        return Err(format!("version {} (a Shapefile has 1000)", le_i32(header, 28)));
    }
    let declared = u64::try_from(be_i32(header, 24)).unwrap_or(0) * 2;
    if declared != size {
        return Err(format!("the header declares {declared} bytes but the file has {size}"));
    }
    let t = le_i32(header, 32);
    if shape_type_name(t).is_none() {
        return Err(format!("unknown shape type {t}"));
    }
    Ok(t)
}

/// Where a record's coordinates are (byte offsets in the record content).
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// Number of points.
    n: usize,
    /// First X.
    points: usize,
    /// First Z, if the shape has Z.
    z: Option<usize>,
    /// The bounding box (Xmin, Ymin, Xmax, Ymax), for multi-point shapes.
    bbox: Option<usize>,
    /// The Z range (Zmin, Zmax).
    z_range: Option<usize>,
}

/// Validates a record's content for a file of shape type `file_type`; `None` for a null shape.
fn layout(c: &[u8], file_type: i32) -> Result<Option<Layout>, String> {
    if c.len() < 4 {
        return Err(format!("content of {} bytes has no shape type", c.len()));
    }
    let t = le_i32(c, 0);
    if t == 0 {
        return Ok(None);
    }
    if t != file_type {
        let name = |t| shape_type_name(t).map_or_else(|| format!("unknown ({t})"), String::from);
        return Err(format!("shape type {} in a file of type {}", name(t), name(file_type)));
    }
    let size_error = |expected: &str| {
        format!("a {} record of {} bytes (expected {expected})", name_of(t), c.len())
    };
    let count = |at: usize, what: &str| -> Result<usize, String> {
        let v = le_i32(c, at);
        usize::try_from(v).map_err(|_| format!("negative number of {what} ({v})"))
    };
    match t {
        1 | 21 => {
            let want = if t == 1 { 20 } else { 28 };
            if c.len() != want {
                return Err(size_error(&want.to_string()));
            }
            Ok(Some(Layout { n: 1, points: 4, z: None, bbox: None, z_range: None }))
        }
        11 => {
            if c.len() != 28 && c.len() != 36 {
                return Err(size_error("28 or 36"));
            }
            Ok(Some(Layout { n: 1, points: 4, z: Some(20), bbox: None, z_range: None }))
        }
        _ => {
            let multipoint = matches!(t, 8 | 18 | 28);
            let header = if multipoint { 40 } else { 44 };
            if c.len() < header {
                return Err(size_error(&format!("at least {header}")));
            }
            let (parts, n) = if multipoint {
                (0, count(36, "points")?)
            } else {
                (count(36, "parts")?, count(40, "points")?)
            };
            let part_bytes = parts.checked_mul(if t == 31 { 8 } else { 4 });
            let points = part_bytes.and_then(|p| p.checked_add(header));
            let base = points.and_then(|p| n.checked_mul(16).and_then(|b| b.checked_add(p)));
            let (Some(points), Some(base)) = (points, base) else {
                return Err(size_error("a size that fits"));
            };
            let zm = n.checked_mul(8).and_then(|b| b.checked_add(16)).unwrap_or(usize::MAX);
            let sizes: Vec<usize> = match t {
                3 | 5 | 8 => vec![base],
                23 | 25 | 28 => vec![base, base.saturating_add(zm)],
                _ => vec![base.saturating_add(zm), base.saturating_add(zm).saturating_add(zm)],
            };
            if !sizes.contains(&c.len()) {
                let list: Vec<String> = sizes.iter().map(|s| s.to_string()).collect();
                return Err(size_error(&list.join(" or ")));
            }
            for i in 0..parts {
                let index = le_i32(c, header + 4 * i);
                if index < 0 || (index as usize >= n && n > 0) || n == 0 {
                    return Err(format!("part {} starts at point {index} of {n}", i + 1));
                }
                if t == 31 {
                    let kind = le_i32(c, header + 4 * parts + 4 * i);
                    if !(0..=5).contains(&kind) {
                        return Err(format!("part {} has unknown part type {kind}", i + 1));
                    }
                }
            }
            let z = has_z(t).then_some(base);
            Ok(Some(Layout { n, points, z: z.map(|b| b + 16), bbox: Some(4), z_range: z }))
        }
    }
}

fn name_of(t: i32) -> &'static str {
    shape_type_name(t).unwrap_or("unknown")
}

/// What became of one record.
#[derive(Debug)]
enum Outcome {
    /// Converted (or a null / empty shape passed through): vertices and the extent.
    Converted { vertices: u64, envelope: Envelope },
    /// A point could not be converted.
    Failed(PointError),
    /// The record is malformed.
    Malformed(String),
}

/// Pushes the points of one record's content (`[x, y, z]`, z = 0 without a height); whether it
/// has points to convert (else its outcome is set: a null shape, or malformed).
fn gather_record(r: &mut Record, file_type: i32, points: &mut Vec<[f64; 3]>) -> bool {
    let layout = match layout(&r.content, file_type) {
        Ok(Some(l)) => l,
        Ok(None) => {
            r.outcome = Some(Outcome::Converted { vertices: 0, envelope: Envelope::default() });
            return false;
        }
        Err(message) => {
            r.outcome = Some(Outcome::Malformed(message));
            return false;
        }
    };
    let c = &r.content;
    for i in 0..layout.n {
        let at = layout.points + 16 * i;
        let z = layout.z.map_or(0.0, |z_at| le_f64(c, z_at + 8 * i));
        points.push([le_f64(c, at), le_f64(c, at + 8), z]);
    }
    true
}

/// Writes one record's `converted` points (those [`gather_record`] pushed) into its content,
/// with its box and z range, or records its failure.
fn scatter_record(r: &mut Record, file_type: i32, converted: Result<&[[f64; 3]], PointError>) {
    let converted = match converted {
        Ok(c) => c,
        Err(e) => {
            r.outcome = Some(Outcome::Failed(e));
            return;
        }
    };
    let layout = match layout(&r.content, file_type) {
        Ok(Some(l)) => l,
        _ => {
            r.outcome = Some(Outcome::Malformed("the record changed while converted".into()));
            return;
        }
    };
    let c = &mut r.content;
    let mut envelope = Envelope::default();
    for (i, &[x, y, z]) in converted.iter().enumerate().take(layout.n) {
        let at = layout.points + 16 * i;
        put_f64(c, at, x);
        put_f64(c, at + 8, y);
        let z = layout.z.map(|z_at| {
            put_f64(c, z_at + 8 * i, z);
            z
        });
        envelope.add(x, y, z, None);
    }
    if let (Some(at), Some((x0, x1)), Some((y0, y1))) = (layout.bbox, envelope.x, envelope.y) {
        for (k, v) in [x0, y0, x1, y1].into_iter().enumerate() {
            put_f64(c, at + 8 * k, v);
        }
    }
    if let (Some(at), Some((z0, z1))) = (layout.z_range, envelope.z) {
        put_f64(c, at, z0);
        put_f64(c, at + 8, z1);
    }
    r.outcome = Some(Outcome::Converted { vertices: layout.n as u64, envelope });
}

/// One record as read.
struct Record {
    number: [u8; 4],
    content: Vec<u8>,
    outcome: Option<Outcome>,
}

/// Reads a `.shp` record by record, checking each against the `.shx`.
struct ShpReader {
    shp: BufReader<File>,
    shx: BufReader<File>,
    shp_size: u64,
    shx_entries: u64,
    pos: u64,
    read: u64,
}

impl ShpReader {
    /// The next record (1-based index `self.read` after the call), or `None` at the end.
    fn next(&mut self) -> Result<Option<Record>, (String, String)> {
        let location = format!("record {}", self.read + 1);
        if self.pos == self.shp_size {
            return Ok(None);
        }
        let io_err = |e: io::Error| (location.clone(), format!("cannot read: {e}"));
        if self.shp_size - self.pos < 8 {
            return Err((location, "truncated record header".into()));
        }
        let mut head = [0u8; 8];
        self.shp.read_exact(&mut head).map_err(io_err)?;
        let words = be_i32(&head, 4);
        let len = u64::try_from(words)
            .map_err(|_| (location.clone(), format!("negative content length ({words} words)")))?
            * 2;
        if len > self.shp_size - self.pos - 8 {
            return Err((
                location,
                format!(
                    "content of {len} bytes runs past the end of the file ({} bytes left)",
                    self.shp_size - self.pos - 8
                ),
            ));
        }
        // The length is now known to be within the file; still, a file of gigabytes can declare
        // a record of gigabytes: its buffer is reserved fallibly, so a lack of memory is this
        // record's error, never an abort.
        let mut content = Vec::new();
        if usize::try_from(len).map_or(true, |len| content.try_reserve_exact(len).is_err()) {
            return Err((location, format!("content of {len} bytes does not fit in memory")));
        }
        content.resize(len as usize, 0);
        self.shp.read_exact(&mut content).map_err(io_err)?;
        if self.read >= self.shx_entries {
            return Err((location, format!("the .shx has only {} entries", self.shx_entries)));
        }
        let mut entry = [0u8; 8];
        self.shx.read_exact(&mut entry).map_err(io_err)?;
        let (offset, length) = (be_i32(&entry, 0), be_i32(&entry, 4));
        if i64::from(offset) * 2 != self.pos as i64 || length != words {
            return Err((
                location,
                format!(
                    "the .shx entry (offset {}, length {}) does not match the record \
                     (offset {}, length {len})",
                    i64::from(offset) * 2,
                    i64::from(length) * 2,
                    self.pos
                ),
            ));
        }
        self.pos += 8 + len;
        self.read += 1;
        Ok(Some(Record { number: [head[0], head[1], head[2], head[3]], content, outcome: None }))
    }
}

/// Opens and checks the `.shp` and `.shx`; the reader, the `.shp` header and the file type.
fn open(
    job: &Job<'_>,
    shx: Option<&Path>,
) -> Result<(ShpReader, [u8; HEADER_LEN], i32), ConvertError> {
    let input = job.input;
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ConvertError::Io { path, source }
    };
    let malformed = |path: &Path, location: &str, message: String| ConvertError::Malformed {
        path: path.to_path_buf(),
        location: location.into(),
        message,
    };
    let mut shp = BufReader::with_capacity(1 << 20, File::open(input).map_err(io_error(input))?);
    let shp_size = shp.get_ref().metadata().map_err(io_error(input))?.len();
    let mut header = [0u8; HEADER_LEN];
    if shp_size < HEADER_LEN as u64 {
        return Err(malformed(input, "header", format!("{shp_size} bytes, shorter than a header")));
    }
    shp.read_exact(&mut header).map_err(io_error(input))?;
    let file_type = check_header(&header, shp_size).map_err(|m| malformed(input, "header", m))?;
    let Some(shx_path) = shx else {
        return Err(malformed(input, "header", "no .shx index beside the .shp".into()));
    };
    let mut shx = BufReader::new(File::open(shx_path).map_err(io_error(shx_path))?);
    let shx_size = shx.get_ref().metadata().map_err(io_error(shx_path))?.len();
    let mut shx_header = [0u8; HEADER_LEN];
    if shx_size < HEADER_LEN as u64 || !(shx_size - HEADER_LEN as u64).is_multiple_of(8) {
        return Err(malformed(shx_path, "header", format!("{shx_size} bytes is no .shx size")));
    }
    shx.read_exact(&mut shx_header).map_err(io_error(shx_path))?;
    let shx_type =
        check_header(&shx_header, shx_size).map_err(|m| malformed(shx_path, "header", m))?;
    if shx_type != file_type {
        return Err(malformed(
            shx_path,
            "header",
            format!("shape type {} but the .shp has {}", name_of(shx_type), name_of(file_type)),
        ));
    }
    let reader = ShpReader {
        shp,
        shx,
        shp_size,
        shx_entries: (shx_size - HEADER_LEN as u64) / 8,
        pos: HEADER_LEN as u64,
        read: 0,
    };
    Ok((reader, header, file_type))
}

/// Converts the Shapefile set `job.input` (`.shp` + `.shx` + `.dbf`, optional `.prj`, `.cpg`)
/// into the set named by `job.output` (see the module docs).
pub fn convert_file(job: &Job<'_>) -> Result<ConvertReport, ConvertError> {
    let input = job.input;
    let io_in = |source| ConvertError::Io { path: input.to_path_buf(), source };
    super::format::of(super::FileFormat::Shapefile).require_regular_members(input)?;
    let found = sidecars(input).map_err(io_in)?;
    let (mut reader, in_header, file_type) = open(job, found.shx.as_deref())?;
    let mut report = ConvertReport::default();

    let out_shp = job.output.to_path_buf();
    let out_shx = output_sibling(job.output, "shx");
    let io_out = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ConvertError::Io { path, source }
    };
    refuse_folders_in_the_set(job.output)?;
    // A set folder left by an interrupted run into this output: removed, or its commit
    // completed (see `AtomicSet`), before anything is written.
    let recovered =
        super::atomic::recover_leftovers(job.output, &SET_FAMILY).map_err(io_out(job.output))?;
    report.warnings.extend(recovered);
    let mut set = AtomicSet::new(job.output, &SET_FAMILY).map_err(io_out(job.output))?;
    let shp_i = set.create(&out_shp).map_err(io_out(&out_shp))?;
    let shx_i = set.create(&out_shx).map_err(io_out(&out_shx))?;
    set.file(shp_i).writer().write_all(&[0u8; HEADER_LEN]).map_err(io_out(&out_shp))?;
    set.file(shx_i).writer().write_all(&[0u8; HEADER_LEN]).map_err(io_out(&out_shx))?;

    let mut tally = Tally::default();
    let mut out_pos = HEADER_LEN as u64;
    let mut envelope = Envelope::default();
    let mut chunk: Vec<Record> = Vec::with_capacity(CHUNK.min(1024));
    let mut first_index = 1u64;
    loop {
        chunk.clear();
        let before = reader.pos;
        let mut chunk_bytes = 0usize;
        while chunk.len() < CHUNK && chunk_bytes < CHUNK_BYTES {
            match reader.next() {
                Ok(Some(r)) => {
                    chunk_bytes += r.content.len();
                    chunk.push(r);
                }
                Ok(None) => break,
                Err((location, message)) => {
                    return Err(ConvertError::Malformed {
                        path: input.to_path_buf(),
                        location,
                        message,
                    });
                }
            }
        }
        job.progress.advance(reader.pos - before);
        if chunk.is_empty() {
            break;
        }
        super::runner::in_place(
            job.transformer,
            job.options.parallel,
            &mut chunk,
            |r, points| gather_record(r, file_type, points),
            |r, converted| scatter_record(r, file_type, converted),
        );
        for (k, record) in chunk.iter_mut().enumerate() {
            let location = format!("record {}", first_index + k as u64);
            report.features += 1;
            let null_shape = [0u8; 4];
            let outcome =
                record.outcome.take().unwrap_or(Outcome::Malformed("not processed".into()));
            let content: &[u8] = match outcome {
                Outcome::Converted { vertices, envelope: e } => {
                    report.vertices += vertices;
                    if vertices == 0 {
                        report.empty += 1;
                    }
                    envelope.extend(&e);
                    &record.content
                }
                Outcome::Malformed(message) => {
                    return Err(ConvertError::Malformed {
                        path: input.to_path_buf(),
                        location,
                        message,
                    });
                }
                Outcome::Failed(e) => {
                    let skip = job.options.skip_invalid;
                    let reason =
                        if skip { format!("{e}; written as a null shape") } else { e.to_string() };
                    tally.record(&mut report, skip, Failure { location, reason });
                    if !skip {
                        continue;
                    }
                    &null_shape
                }
            };
            if tally.failed() {
                continue; // nothing will be written; keep checking the rest
            }
            let words = (content.len() / 2) as i32;
            let w = set.file(shp_i).writer();
            w.write_all(&record.number)
                .and_then(|_| w.write_all(&words.to_be_bytes()))
                .and_then(|_| w.write_all(content))
                .map_err(io_out(&out_shp))?;
            let w = set.file(shx_i).writer();
            w.write_all(&((out_pos / 2) as i32).to_be_bytes())
                .and_then(|_| w.write_all(&words.to_be_bytes()))
                .map_err(io_out(&out_shx))?;
            out_pos += 8 + content.len() as u64;
        }
        first_index += chunk.len() as u64;
    }
    if reader.read != reader.shx_entries {
        return Err(ConvertError::Malformed {
            path: found.shx.clone().unwrap_or_default(),
            location: format!("entry {}", reader.read + 1),
            message: format!(
                "the .shx has {} entries but the .shp has {} records",
                reader.shx_entries, reader.read
            ),
        });
    }
    tally.finish(&mut report, input)?;

    // Headers: the input's, with the new lengths, bounding box and (Z types) Z range.
    let mut header = in_header;
    let (x, y) = (envelope.x.unwrap_or((0.0, 0.0)), envelope.y.unwrap_or((0.0, 0.0)));
    for (k, v) in [x.0, y.0, x.1, y.1].into_iter().enumerate() {
        put_f64(&mut header, 36 + 8 * k, v);
    }
    if has_z(file_type) {
        let z = envelope.z.unwrap_or((0.0, 0.0));
        put_f64(&mut header, 68, z.0);
        put_f64(&mut header, 76, z.1);
    }
    let write_header = |set: &mut AtomicSet, i: usize, bytes: u64, path: &Path| {
        let mut h = header;
        h[24..28].copy_from_slice(&((bytes / 2) as i32).to_be_bytes());
        let w = set.file(i).writer();
        w.seek(SeekFrom::Start(0))
            .and_then(|_| w.write_all(&h))
            .and_then(|_| w.seek(SeekFrom::End(0)).map(|_| ()))
            .map_err(io_out(path))
    };
    write_header(&mut set, shp_i, out_pos, &out_shp)?;
    write_header(&mut set, shx_i, HEADER_LEN as u64 + 8 * report.features, &out_shx)?;

    // Attributes and code page, byte for byte.
    for (from, ext) in [(&found.dbf, "dbf"), (&found.cpg, "cpg")] {
        match from {
            Some(from) => {
                let to = output_sibling(job.output, ext);
                let i = set.create(&to).map_err(io_out(&to))?;
                let mut src = File::open(from).map_err(io_out(from))?;
                io::copy(&mut src, set.file(i).writer()).map_err(io_out(&to))?;
                if ext == "dbf" {
                    check_dbf_rows(from, report.features, &mut report.warnings);
                }
            }
            None if ext == "dbf" => report.warnings.push(format!(
                "{}: no .dbf beside the .shp; the output has no attribute table",
                input.display()
            )),
            None => {}
        }
    }
    match job.target.to_wkt() {
        Ok(wkt) => {
            let to = output_sibling(job.output, "prj");
            let i = set.create(&to).map_err(io_out(&to))?;
            set.file(i).writer().write_all(wkt.as_bytes()).map_err(io_out(&to))?;
        }
        Err(e) => report.warnings.push(format!("no .prj written: {e}")),
    }
    for stale in &found.stale {
        report.warnings.push(format!(
            "{} not copied: it describes the unconverted coordinates (rebuild it if needed)",
            stale.display()
        ));
    }
    report.outputs = set.commit().map_err(io_out(job.output))?;
    Ok(report)
}

/// Warns when the `.dbf` declares a different number of rows than the `.shp` has records, or a
/// size (header length + rows × row length) its file does not have. Only the 12-byte header is
/// read: the `.dbf` is copied byte for byte, never loaded, so its declared sizes allocate
/// nothing.
fn check_dbf_rows(dbf: &Path, records: u64, warnings: &mut Vec<String>) {
    let mut head = [0u8; 12];
    let Ok(mut file) = File::open(dbf) else { return };
    let size = file.metadata().map_or(0, |m| m.len());
    if file.read_exact(&mut head).is_err() {
        warnings.push(format!(
            "{}: {size} bytes, shorter than a dBASE header (copied unchanged)",
            dbf.display()
        ));
        return;
    }
    let rows = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    if u64::from(rows) != records {
        warnings.push(format!(
            "{}: {rows} rows for {records} shapes (copied unchanged)",
            dbf.display()
        ));
    }
    let header_len = u64::from(u16::from_le_bytes([head[8], head[9]]));
    let row_len = u64::from(u16::from_le_bytes([head[10], head[11]]));
    let declared = header_len + u64::from(rows) * row_len;
    if header_len < 33 || declared > size {
        warnings.push(format!(
            "{}: the header declares {declared} bytes ({rows} rows of {row_len} bytes after a \
             header of {header_len}) but the file has {size} (copied unchanged)",
            dbf.display()
        ));
    }
}

/// Up to `max` coordinates `[x, y, z]` (z = 0 without Z) from the first records of the `.shp`.
pub(crate) fn sample(job: &Job<'_>, max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
    super::format::of(super::FileFormat::Shapefile).require_regular_members(job.input)?;
    let found = sidecars(job.input)
        .map_err(|source| ConvertError::Io { path: job.input.to_path_buf(), source })?;
    let (mut reader, _, file_type) = open(job, found.shx.as_deref())?;
    let mut out = Vec::new();
    while out.len() < max {
        let record = match reader.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err((location, message)) => {
                return Err(ConvertError::Malformed {
                    path: job.input.to_path_buf(),
                    location,
                    message,
                });
            }
        };
        let c = &record.content;
        let layout = layout(c, file_type).map_err(|message| ConvertError::Malformed {
            path: job.input.to_path_buf(),
            location: format!("record {}", reader.read),
            message,
        })?;
        if let Some(l) = layout {
            for i in 0..l.n.min(max - out.len()) {
                let at = l.points + 16 * i;
                let z = l.z.map_or(0.0, |z| le_f64(c, z + 8 * i));
                out.push([le_f64(c, at), le_f64(c, at + 8), z]);
            }
        }
    }
    Ok(out)
}

/// A `.shp` read record by record for conversions between formats
/// ([`cross::shapefile`](super::cross::shapefile)), checked as for a same-format conversion
/// (headers, the `.shx`, record sizes and part indices).
pub(crate) struct Records {
    reader: ShpReader,
    file_type: i32,
    shx: Option<PathBuf>,
    /// The `.dbf` beside the `.shp`, if any.
    pub(crate) dbf: Option<PathBuf>,
    /// The `.cpg` beside the `.shp`, if any.
    pub(crate) cpg: Option<PathBuf>,
}

/// One record's shape: its type, the first point of each part, each point `[x, y, z]` (z = 0
/// without Z).
pub(crate) struct RecordShape {
    /// The record's shape type (the file's).
    pub(crate) shape_type: i32,
    /// The index of each part's first point (empty for points and multipoints).
    pub(crate) parts: Vec<usize>,
    /// The points.
    pub(crate) points: Vec<[f64; 3]>,
}

impl Records {
    /// Opens the set of `job.input`. Errors as [`convert_file`]'s.
    pub(crate) fn open(job: &Job<'_>) -> Result<Self, ConvertError> {
        super::format::of(super::FileFormat::Shapefile).require_regular_members(job.input)?;
        let found = sidecars(job.input)
            .map_err(|source| ConvertError::Io { path: job.input.to_path_buf(), source })?;
        let (reader, _, file_type) = open(job, found.shx.as_deref())?;
        Ok(Self { reader, file_type, shx: found.shx, dbf: found.dbf, cpg: found.cpg })
    }

    /// Bytes of the `.shp` read so far.
    pub(crate) fn consumed(&self) -> u64 {
        self.reader.pos
    }

    /// The file's shape type.
    pub(crate) fn file_type(&self) -> i32 {
        self.file_type
    }

    /// The next record: its number (1-based) and shape (`None`: a null shape); `None` at the
    /// end, after checking that the `.shx` has no more entries. Errors: `Malformed` at
    /// `record N`.
    pub(crate) fn next(
        &mut self,
        input: &Path,
    ) -> Result<Option<(u64, Option<RecordShape>)>, ConvertError> {
        let malformed = |location: String, message: String| ConvertError::Malformed {
            path: input.to_path_buf(),
            location,
            message,
        };
        let record = match self.reader.next() {
            Ok(Some(r)) => r,
            Ok(None) => {
                if self.reader.read != self.reader.shx_entries {
                    return Err(ConvertError::Malformed {
                        path: self.shx.clone().unwrap_or_default(),
                        location: format!("entry {}", self.reader.read + 1),
                        message: format!(
                            "the .shx has {} entries but the .shp has {} records",
                            self.reader.shx_entries, self.reader.read
                        ),
                    });
                }
                return Ok(None);
            }
            Err((location, message)) => return Err(malformed(location, message)),
        };
        let n = self.reader.read;
        let c = &record.content;
        let layout = layout(c, self.file_type)
            .map_err(|message| malformed(format!("record {n}"), message))?;
        let Some(l) = layout else { return Ok(Some((n, None))) };
        let points = (0..l.n)
            .map(|i| {
                let at = l.points + 16 * i;
                [le_f64(c, at), le_f64(c, at + 8), l.z.map_or(0.0, |z| le_f64(c, z + 8 * i))]
            })
            .collect();
        let parts = if matches!(self.file_type, 3 | 5 | 13 | 15 | 23 | 25 | 31) {
            let count = usize::try_from(le_i32(c, 36)).unwrap_or(0);
            (0..count).map(|i| usize::try_from(le_i32(c, 44 + 4 * i)).unwrap_or(0)).collect()
        } else {
            Vec::new()
        };
        Ok(Some((n, Some(RecordShape { shape_type: self.file_type, parts, points }))))
    }
}
