//! KMZ files: a zip archive holding KML (`doc.kml`, sometimes more `.kml` files) and the images,
//! models and other files it refers to.
//!
//! Every entry whose name ends in `.kml` (in any case) is converted as [KML](super::kml) is,
//! streamed out of the archive and into the new one (never held whole): its name, position,
//! modification time and Unix permissions kept, compressed again with its own method (stored
//! or deflate). Every other entry (images, icons, models, folders) is copied raw: its
//! compressed bytes, header fields and comment untouched, never decompressed. The archive
//! comment is kept. The entries keep their order.
//!
//! Failures name the entry (`doc.kml, line 12, Placemark 5: ...`), malformed KML the entry's
//! path inside the archive (`a.kmz/doc.kml: line 3: ...`). An input that is not a zip archive,
//! an archive without a `.kml` entry, or a KML entry compressed with a method other than stored
//! or deflate is a [`ConvertError::Malformed`]; nothing is written.
//!
//! The CRS rule is KML's: longitude/latitude, no declared CRS (the GCJ-02 trap).
//!
//! Progress counts bytes of the archive, whose size is the total: a copied entry its compressed
//! size, a KML entry its decompressed bytes scaled to its compressed size, the headers at the end.

use super::{kml, ConvertError, ConvertReport, Job, Progress, MAX_FAILURES};
use std::fs::File;
use std::io::{BufReader, Read, Seek, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

/// Whether the entry name `name` is a KML document.
fn is_kml(name: &[u8]) -> bool {
    name.len() > 4
        && name.get(name.len() - 4..).is_some_and(|ext| ext.eq_ignore_ascii_case(b".kml"))
}

fn open_archive(path: &Path) -> Result<ZipArchive<BufReader<File>>, ConvertError> {
    let file = super::open_regular(path)?;
    ZipArchive::new(BufReader::new(file)).map_err(|e| match e {
        ZipError::Io(source) => ConvertError::Io { path: path.to_path_buf(), source },
        e => malformed(path, "archive", format!("not a KMZ (zip) archive: {e}")),
    })
}

fn malformed(path: &Path, location: &str, message: String) -> ConvertError {
    ConvertError::Malformed { path: path.to_path_buf(), location: location.into(), message }
}

/// A read error of entry `name`.
fn entry_error(path: &Path, name: &str, e: ZipError) -> ConvertError {
    match e {
        ZipError::Io(source) => ConvertError::Io { path: path.to_path_buf(), source },
        e => malformed(path, &format!("entry {name}"), e.to_string()),
    }
}

/// The names (raw bytes) of the archive's entries, in order.
fn names<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    path: &Path,
) -> Result<Vec<Vec<u8>>, ConvertError> {
    (0..archive.len())
        .map(|i| {
            archive
                .by_index_raw(i)
                .map(|f| f.name_raw().to_vec())
                .map_err(|e| entry_error(path, &format!("#{}", i + 1), e))
        })
        .collect()
}

/// Converts `job.input` into `job.output` through a temporary file renamed only on success.
pub(crate) fn convert_file(job: &Job<'_>) -> Result<ConvertReport, ConvertError> {
    let warnings = kml::check(job)?;
    let mut archive = open_archive(job.input)?;
    let entries = names(&mut archive, job.input)?;
    if !entries.iter().any(|n| is_kml(n)) {
        return Err(malformed(job.input, "archive", "no .kml entry in the archive".into()));
    }
    super::through_temporary(job, |_, out| {
        let io_out = |source| ConvertError::Io { path: job.output.to_path_buf(), source };
        let zip_out =
            |e: ZipError| io_out(std::io::Error::other(format!("writing the archive: {e}")));
        let mut writer = ZipWriter::new(&mut *out);
        let mut report = ConvertReport::default();
        // Progress counts bytes of the archive (its size is the total): a KML entry's
        // decompressed bytes are scaled to its compressed size.
        let mut counted = 0u64;
        for (i, raw_name) in entries.iter().enumerate() {
            let shown = String::from_utf8_lossy(raw_name).into_owned();
            if !is_kml(raw_name) {
                let entry =
                    archive.by_index_raw(i).map_err(|e| entry_error(job.input, &shown, e))?;
                let compressed = entry.compressed_size();
                writer.raw_copy_file(entry).map_err(zip_out)?;
                job.progress.advance(compressed);
                counted += compressed;
                continue;
            }
            let entry = archive.by_index(i).map_err(|e| entry_error(job.input, &shown, e))?;
            let name = std::str::from_utf8(raw_name).map_err(|_| {
                malformed(
                    job.input,
                    &format!("entry {shown}"),
                    "a KML entry name that is not UTF-8".into(),
                )
            })?;
            let method = match entry.compression() {
                CompressionMethod::Stored => CompressionMethod::Stored,
                _ => CompressionMethod::Deflated,
            };
            let mut options = SimpleFileOptions::default()
                .compression_method(method)
                .large_file(entry.size() >= 1 << 31);
            if let Some(time) = entry.last_modified() {
                options = options.last_modified_time(time);
            }
            if let Some(mode) = entry.unix_mode() {
                options = options.unix_permissions(mode);
            }
            writer.start_file(name, options).map_err(zip_out)?;
            let path = job.input.join(name);
            let scaled = Scaled::new(job.progress, entry.compressed_size(), entry.size());
            let entry_job = Job { progress: &scaled, ..*job };
            let part = kml::run(&entry_job, entry, &mut writer, &path, &format!("{name}, "))?;
            counted += scaled.finish();
            add(&mut report, part);
        }
        // The headers and the central directory: the rest of the archive's size.
        if let Ok(meta) = file_len(job.input) {
            job.progress.advance(meta.saturating_sub(counted));
        }
        writer.set_raw_comment(archive.comment().into()).map_err(zip_out)?;
        writer.finish().map_err(zip_out)?.flush().map_err(io_out)?;
        report.warnings.splice(0..0, warnings);
        Ok(report)
    })
}

/// Up to `max` coordinates `[lon, lat, alt or 0]` from the first KML entry, for the sanity
/// check.
pub(crate) fn sample(job: &Job<'_>, max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
    super::xml::check_input(job, "KML")?;
    let mut archive = open_archive(job.input)?;
    let entries = names(&mut archive, job.input)?;
    let Some(i) = entries.iter().position(|n| is_kml(n)) else { return Ok(Vec::new()) };
    let shown = String::from_utf8_lossy(entries.get(i).map_or(&[][..], |n| n)).into_owned();
    let entry = archive.by_index(i).map_err(|e| entry_error(job.input, &shown, e))?;
    kml::sample_from(entry, &job.input.join(&shown), max)
}

/// The size of the file at `path`.
fn file_len(path: &Path) -> std::io::Result<u64> {
    std::fs::metadata(path).map(|m| m.len())
}

/// The progress of one KML entry in bytes of the archive: its decompressed bytes read, scaled
/// to its compressed size (so the count never passes the archive's size, the total).
struct Scaled<'a> {
    inner: &'a dyn Progress,
    compressed: u64,
    size: u64,
    read: AtomicU64,
    reported: AtomicU64,
}

impl<'a> Scaled<'a> {
    fn new(inner: &'a dyn Progress, compressed: u64, size: u64) -> Self {
        Self { inner, compressed, size, read: AtomicU64::new(0), reported: AtomicU64::new(0) }
    }

    /// Reports the rest of the entry's compressed size; the compressed size.
    fn finish(&self) -> u64 {
        let reported = self.reported.swap(self.compressed, Ordering::Relaxed);
        self.inner.advance(self.compressed.saturating_sub(reported));
        self.compressed
    }
}

impl Progress for Scaled<'_> {
    fn start(&self, _: Option<u64>) {}

    fn advance(&self, bytes: u64) {
        let read = self.read.fetch_add(bytes, Ordering::Relaxed).saturating_add(bytes);
        let scaled = if self.size == 0 {
            self.compressed
        } else {
            let share = u128::from(read.min(self.size)) * u128::from(self.compressed);
            u64::try_from(share / u128::from(self.size)).unwrap_or(self.compressed)
        };
        let before = self.reported.fetch_max(scaled, Ordering::Relaxed);
        self.inner.advance(scaled.saturating_sub(before));
    }

    fn finish(&self) {}
}

/// Adds the report of one KML entry to the archive's.
fn add(report: &mut ConvertReport, part: ConvertReport) {
    report.features += part.features;
    report.written += part.written;
    report.vertices += part.vertices;
    report.empty += part.empty;
    let room = MAX_FAILURES.saturating_sub(report.skipped.len());
    report.skipped.extend(part.skipped.into_iter().take(room));
    report.warnings.extend(part.warnings);
}
