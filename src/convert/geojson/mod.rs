//! GeoJSON (RFC 7946, with GDAL's `crs` member for other CRSs) and newline-delimited GeoJSON
//! (one Feature or geometry per line; RFC 8142 record separators accepted and kept).
//!
//! **Streamed**: a FeatureCollection's `features` array is read one feature at a time and
//! converted in chunks of [`CHUNK`] features or [`CHUNK_BYTES`] of text (in parallel, order kept, with
//! [`ConvertOptions::parallel`]), so memory is bounded by the chunk, never the file. A top-level
//! Feature or bare Geometry is read whole (it is one feature).
//!
//! **What is kept**: every member other than `coordinates`, `bbox` and the top-level `crs` is
//! copied as its exact input text (numbers, escapes, Chinese text, nested objects), in input
//! order, at every level (collection, feature, geometry, foreign members). Positions with more
//! than 3 elements keep the extra elements unchanged; a third element is converted as the
//! ellipsoidal height (3D), otherwise the conversion is 2D. Converted numbers are written in the
//! shortest form that reads back exactly ([`Number`]), so an unchanged coordinate keeps its
//! value (`116.40` is written `116.4`). Whitespace between members is normalised: each object is
//! written compactly, a collection with one feature per line.
//!
//! **Recomputed**: every `bbox` member (collection, feature, geometry) from the converted
//! positions, 6 numbers if the input's had 6 and the data has heights, else 4; a `bbox` of an
//! object with no positions is dropped. The top-level `bbox` of a collection usually precedes the
//! features: [`convert_file`] and [`convert_str`] reserve a fixed-width space for it and write it
//! there at the end; [`convert_reader`], whose output cannot seek, moves it after `features` and
//! adds a warning.
//!
//! **`crs`**: for an EPSG:4326 target any `crs` member is dropped (RFC 7946). Otherwise the
//! top-level object gets GDAL's `{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4548"}}`
//! (replacing an existing one in place, or before `features`/`geometry`), or the target's
//! geounify id when it has no EPSG code; a warning says RFC 7946 expects WGS84. NDJSON records
//! only have an existing `crs` member replaced (or dropped).
//!
//! **Declared CRS.** [`convert_file`](super::convert_file) compares the top-level `crs` member
//! with the source CRS before converting ([`declared`](super::declared)). The in-memory
//! [`convert_str`] and [`convert_reader`] do the same when they meet the member: a
//! contradiction is [`ConvertError::DeclaredCrsMismatch`] (naming `<stream>`) unless
//! [`ConvertOptions::force`] (then a warning); a declaration that cannot be decided is a
//! warning. They know the source CRS only by the transformer's
//! [`source_id`](Transformer::source_id), so they compare with the catalogue's CRS of that id;
//! for a CRS the catalogue does not have (one from a CRS file) only a `crs` naming that very id
//! agrees, anything else is a warning ("not checked"). A `crs` member after `features` is met
//! after the features were written: [`convert_reader`]'s output then holds part of the
//! document, to be discarded on the error (as for any error). [`convert_seq_reader`] reads no
//! declaration (newline-delimited GeoJSON has none).
//!
//! **Empty files** (nothing but whitespace, or a byte-order mark; for newline-delimited GeoJSON
//! nothing but blank lines) are a [`ConvertError::Malformed`] at `line 1` ("the file is empty"),
//! never an empty output. A FeatureCollection with no features is not empty: it converts.
//!
//! **Hostile input.** One feature of a collection (counted with the separators before it: the
//! `,` and whitespace, or `:[` for the first), one NDJSON line (without its line ending), a
//! top-level Feature or geometry document, and the collection's members outside `features` may
//! each hold at most [`MAX_RECORD_BYTES`](super::MAX_RECORD_BYTES) (64 MiB) of text: more is
//! `Malformed` at `feature N` / `line N` / `top level`, refused before more than that is held in
//! memory (the parser reads through a guard that stops it at the limit).
//! GeometryCollections may nest at most [`MAX_COLLECTION_DEPTH`] deep (`Malformed` beyond). Other
//! JSON nesting (arrays and objects in `properties`, foreign members, a position) is never
//! walked recursively: it is copied as text however deep (serde_json skips raw values with an
//! explicit stack, not its 128-level recursion), and a `coordinates` array deeper than its
//! geometry type allows is `Malformed` ("... is not a number in position ...").
//!
//! **Speed.** A file's FeatureCollection is read by a fast path: a structural scanner
//! (`scan.rs`) cuts each value out a block at a time, serde_json validates it from a slice, and it
//! is converted through exactly the calls the streaming parser makes (same chunks, same
//! output). Anything the fast path does not take (bad JSON, a value near the record cap, a
//! document that is not a collection, text after it) discards its output and converts the file
//! again with the streaming parser, which gives the error with its line and column; the
//! in-memory APIs always stream. The positions of each part of [`CHUNK`] go through one
//! [`Transformer::transform_slice`] (placeholders in the text, filled after the batch).
//!
//! A point that cannot be converted fails its feature (see [`super`]); with a top-level Feature
//! or bare Geometry there is no collection to leave it out of, so it fails the file even with
//! [`ConvertOptions::skip_invalid`].

mod object;
pub(crate) mod scan;

pub use self::object::MAX_COLLECTION_DEPTH;

use self::object::{
    bbox_is_3d, key_name, kind_of, parse_members, string_value, type_of, Batch, Bounds, Converted,
    CrsMember, Kind, ObjectError, Positions,
};
use super::atomic::AtomicFile;
use super::Tally;
use super::{
    ConvertError, ConvertOptions, ConvertReport, Failure, FileFormat, Job, Progress, TextEncoding,
};
use crate::catalogue;
use crate::crs::Crs;
use crate::ops::Xyz;
use crate::transformer::Transformer;
use rayon::prelude::*;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::cell::Cell;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{mpsc, Arc};

#[cfg(doc)]
use super::text::Number;

/// Features converted together (in parallel with [`ConvertOptions::parallel`]): at most this
/// many, and fewer when they reach [`CHUNK_BYTES`] of JSON text.
pub const CHUNK: usize = 4096;

/// A chunk is also cut once its features hold this many bytes of JSON text, so that memory
/// stays bounded whatever the feature size (a chunk in flight and the one being read, each held
/// as text and as converted output).
pub const CHUNK_BYTES: usize = 4 << 20;

/// Bytes reserved for a top-level `bbox` member written at the end: `,"bbox":` and 6 numbers of
/// at most 26 characters each with their commas and brackets need 171.
const BBOX_RESERVED: usize = 192;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The longest feature (or NDJSON line) read into memory, [`super::MAX_RECORD_BYTES`].
const MAX_RECORD: u64 = super::MAX_RECORD_BYTES;

/// The buffer between the input and the JSON parser.
const GUARD_BUFFER: usize = 64 << 10;

/// How much of the input the JSON parser may take before the current record is too long.
#[derive(Debug)]
struct Guard {
    /// A new record starts (set by the visitors, applied by the reader at its next read).
    reset: Cell<bool>,
    /// The limit was reached.
    over: Cell<bool>,
}

impl Guard {
    fn new() -> Rc<Self> {
        Rc::new(Self { reset: Cell::new(false), over: Cell::new(false) })
    }

    /// A new record starts: it may take [`MAX_RECORD`] bytes, with the separators before it.
    fn reset(&self) {
        self.reset.set(true);
    }
}

/// The parser's buffered reader, which stops with an error once the current record has taken
/// [`MAX_RECORD`] bytes: serde_json holds the record being read (a raw feature) in a buffer, which
/// so never grows past [`MAX_RECORD`] bytes (nor doubles to twice that). The parser reads one
/// byte at a time, so the count is exact.
struct Guarded<R> {
    inner: R,
    buffer: Box<[u8]>,
    at: usize,
    filled: usize,
    /// Bytes taken before `buffer`'s contents.
    base: u64,
    /// The current record may take bytes up to this offset.
    limit: u64,
    guard: Rc<Guard>,
}

impl<R: Read> Guarded<R> {
    fn new(inner: R, guard: Rc<Guard>) -> Self {
        let buffer = vec![0; GUARD_BUFFER].into_boxed_slice();
        Self { inner, buffer, at: 0, filled: 0, base: 0, limit: MAX_RECORD, guard }
    }
}

impl<R: Read> Read for Guarded<R> {
    #[inline]
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.at == self.filled {
            self.base += self.filled as u64;
            self.filled = loop {
                match self.inner.read(&mut self.buffer) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            self.at = 0;
            if self.filled == 0 {
                return Ok(0);
            }
        }
        let taken = self.base + self.at as u64;
        if self.guard.reset.get() {
            self.guard.reset.set(false);
            self.limit = taken + MAX_RECORD;
        }
        if taken >= self.limit {
            self.guard.over.set(true);
            return Err(io::Error::other(format!("a record longer than {} MiB", MAX_RECORD >> 20)));
        }
        if out.len() == 1 {
            // serde_json's byte-at-a-time reads.
            out[0] = self.buffer[self.at];
            self.at += 1;
            return Ok(1);
        }
        let room = usize::try_from(self.limit - taken).unwrap_or(usize::MAX);
        let n = out.len().min(self.filled - self.at).min(room);
        out[..n].copy_from_slice(&self.buffer[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Converts `job.input` (GeoJSON, or newline-delimited GeoJSON by its extension) to
/// `job.output`, through a temporary file renamed only on success.
pub fn convert_file(job: &Job<'_>) -> Result<ConvertReport, ConvertError> {
    check_encoding(job)?;
    let target = Target::new(job.target.id(), job.target.epsg());
    let seq = FileFormat::from_path(job.input) == Some(FileFormat::GeoJsonSeq);
    // The fast path first (module docs, "Speed"); on anything it does not take, its output is
    // discarded and the file is converted again by the exact streaming parser.
    if !seq {
        if let Some(report) = convert_once(job, &target, Reading::Fast)? {
            return Ok(report);
        }
    }
    let reading = if seq { Reading::Sequence } else { Reading::Document };
    convert_once(job, &target, reading)?.ok_or_else(|| ConvertError::Io {
        path: job.input.to_path_buf(),
        source: io::Error::other("the streaming parser gave no result"),
    })
}

/// How [`convert_once`] reads a file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// The fast path of a document ([`Run::document_fast`]).
    Fast,
    /// The streaming parser of a document ([`Run::document`]).
    Document,
    /// Newline-delimited GeoJSON ([`Run::sequence`]).
    Sequence,
}

/// One conversion of `job.input` into a temporary file beside `job.output`, renamed over it on
/// success; `Ok(None)` if the fast path did not take the file (the temporary file is removed).
fn convert_once(
    job: &Job<'_>,
    target: &Target,
    reading: Reading,
) -> Result<Option<ConvertReport>, ConvertError> {
    let io_out = |source| ConvertError::Io { path: job.output.to_path_buf(), source };
    let input = open(job.input)?;
    let mut file = AtomicFile::create(job.output).map_err(io_out)?;
    let seq = reading == Reading::Sequence;
    let sink = Seekable(file.writer());
    let mut run = Run::new(job.input, job.output, sink, job.transformer, job.options, target, seq);
    // The progress counter sits below the buffer, so it only sees refills (a document's parser
    // reads through its own length-guarded buffer above this one).
    let input = BufReader::with_capacity(
        1 << 20,
        ProgressRead { inner: input.into_inner(), progress: job.progress, pending: 0 },
    );
    match reading {
        Reading::Fast => {
            if !run.document_fast(input)? {
                return Ok(None);
            }
        }
        Reading::Document => run.document(input)?,
        Reading::Sequence => run.sequence(input)?,
    }
    let mut report = run.finish()?;
    report.outputs.push(file.commit().map_err(io_out)?);
    Ok(Some(report))
}

/// Converts a GeoJSON document read from `input` (a FeatureCollection is streamed feature by
/// feature) and writes it to `output`. Errors name the path `<stream>`.
///
/// The output cannot seek back, so a top-level `bbox` that precedes `features` is written after
/// them instead (with a warning). On an error the output may hold a partial document (the
/// file-based [`convert_file`](super::convert_file) never leaves one): write to a buffer or a
/// temporary file if that matters.
///
/// The `crs` member names the transformer's target by its EPSG code when the built-in catalogue
/// gives it one, else by its id (a CRS-file CRS such as `city:old-grid`). The input's own `crs`
/// member is checked against the source CRS first: a contradiction is
/// [`ConvertError::DeclaredCrsMismatch`] unless [`ConvertOptions::force`] (see the module docs,
/// "Declared CRS").
pub fn convert_reader<R: BufRead, W: Write>(
    input: R,
    output: W,
    transformer: &Transformer,
    options: &ConvertOptions,
) -> Result<ConvertReport, ConvertError> {
    let target = Target::from_transformer(transformer);
    let path = Path::new("<stream>");
    let mut run = Run::new(path, path, Streamed(output), transformer, options, &target, false);
    run.declared_source = Some(stream_source(transformer));
    run.document(input)?;
    run.finish()
}

/// The source CRS the in-memory APIs check a `crs` member against: the catalogue's CRS of the
/// transformer's source id, or `Err(id)` if the catalogue has no such id.
fn stream_source(transformer: &Transformer) -> Result<Crs, String> {
    catalogue::lookup(transformer.source_id()).map_err(|_| transformer.source_id().to_string())
}

/// Converts newline-delimited GeoJSON (one Feature or geometry per line) read from `input` and
/// writes it to `output`; like [`convert_reader`] otherwise.
pub fn convert_seq_reader<R: BufRead, W: Write>(
    input: R,
    output: W,
    transformer: &Transformer,
    options: &ConvertOptions,
) -> Result<ConvertReport, ConvertError> {
    let target = Target::from_transformer(transformer);
    let path = Path::new("<stream>");
    let mut run = Run::new(path, path, Streamed(output), transformer, options, &target, true);
    run.sequence(input)?;
    run.finish()
}

/// Converts one GeoJSON document held in memory (FeatureCollection, Feature or Geometry); the
/// converted document and the report. Errors name the path `<stream>`. A top-level `crs` member
/// that contradicts the source CRS is [`ConvertError::DeclaredCrsMismatch`] unless
/// [`ConvertOptions::force`] (see the module docs, "Declared CRS").
pub fn convert_str(
    text: &str,
    transformer: &Transformer,
    options: &ConvertOptions,
) -> Result<(String, ConvertReport), ConvertError> {
    let target = Target::from_transformer(transformer);
    let path = Path::new("<stream>");
    let mut buffer = io::Cursor::new(Vec::with_capacity(text.len() + text.len() / 4));
    let mut run = Run::new(path, path, Seekable(&mut buffer), transformer, options, &target, false);
    run.declared_source = Some(stream_source(transformer));
    run.document(text.as_bytes())?;
    let report = run.finish()?;
    let text = String::from_utf8(buffer.into_inner()).map_err(|_| ConvertError::Malformed {
        path: path.to_path_buf(),
        location: "output".into(),
        message: "not UTF-8".into(),
    })?;
    Ok((text, report))
}

/// Up to `max` coordinates `[x, y, z]` from the start of the input (z = 0 when absent), for the
/// sanity check; reads only as far as needed.
pub(crate) fn sample(job: &Job<'_>, max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
    check_encoding(job)?;
    let input = open(job.input)?;
    let target = Target::new(job.target.id(), job.target.epsg());
    let seq = FileFormat::from_path(job.input) == Some(FileFormat::GeoJsonSeq);
    let mut run = Run::new(
        job.input,
        job.output,
        Streamed(io::sink()),
        job.transformer,
        job.options,
        &target,
        seq,
    );
    run.samples = Some((Vec::new(), max));
    if max > 0 {
        if seq {
            run.sequence(input)?;
        } else {
            run.document(input)?;
        }
    }
    Ok(run.samples.map(|(s, _)| s).unwrap_or_default())
}

/// JSON is UTF-8 (RFC 8259 §8.1): a GBK or GB 18030 option is refused rather than ignored.
fn check_encoding(job: &Job<'_>) -> Result<(), ConvertError> {
    match job.options.encoding {
        None | Some(TextEncoding::Utf8) => Ok(()),
        Some(_) => Err(ConvertError::Options {
            path: job.input.to_path_buf(),
            message: "GeoJSON is always UTF-8 (RFC 8259); a GBK / GB 18030 encoding does not apply"
                .into(),
        }),
    }
}

fn open(path: &Path) -> Result<BufReader<File>, ConvertError> {
    super::open_regular(path).map(|f| BufReader::with_capacity(1 << 20, f))
}

/// What the target CRS means for the `crs` member, and the warnings it brings.
struct Target {
    document: CrsMember,
    record: CrsMember,
    warnings: Vec<String>,
}

impl Target {
    fn new(id: &str, epsg: Option<u32>) -> Self {
        if epsg == Some(4326) {
            return Self { document: CrsMember::Drop, record: CrsMember::Drop, warnings: vec![] };
        }
        let mut warnings = vec![format!(
            "RFC 7946 GeoJSON expects WGS84 longitude/latitude (EPSG:4326); the output is in {id} \
             and says so in a \"crs\" member (as GDAL writes it), which some software ignores"
        )];
        let name = match epsg {
            Some(code) => format!("urn:ogc:def:crs:EPSG::{code}"),
            None => {
                warnings.push(format!(
                    "{id} has no EPSG code: the \"crs\" member names it by its geounify id, which \
                     other software will not recognise"
                ));
                id.to_string()
            }
        };
        let value = format!(
            "{{\"type\":\"name\",\"properties\":{{\"name\":{}}}}}",
            serde_json::Value::String(name)
        );
        Self {
            document: CrsMember::Write(value.clone()),
            record: CrsMember::Replace(value),
            warnings,
        }
    }

    fn from_transformer(transformer: &Transformer) -> Self {
        let id = transformer.target_id();
        let epsg = catalogue::lookup(id).ok().and_then(|crs| crs.epsg());
        Self::new(id, epsg)
    }
}

/// Where the output goes: a stream, or a seekable file or buffer (the top-level `bbox` can then
/// be written in place at the end).
trait Sink: Write {
    fn can_patch(&self) -> bool;
    fn patch(&mut self, at: u64, bytes: &[u8]) -> io::Result<()>;
}

struct Streamed<W>(W);

impl<W: Write> Write for Streamed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write> Sink for Streamed<W> {
    fn can_patch(&self) -> bool {
        false
    }
    fn patch(&mut self, _at: u64, _bytes: &[u8]) -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "the output cannot seek"))
    }
}

struct Seekable<W>(W);

impl<W: Write> Write for Seekable<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write + Seek> Sink for Seekable<W> {
    fn can_patch(&self) -> bool {
        true
    }
    fn patch(&mut self, at: u64, bytes: &[u8]) -> io::Result<()> {
        let end = self.0.stream_position()?;
        self.0.seek(SeekFrom::Start(at))?;
        self.0.write_all(bytes)?;
        self.0.seek(SeekFrom::Start(end))?;
        Ok(())
    }
}

/// Reports bytes read to a [`Progress`] (in steps of 1 MiB).
struct ProgressRead<'p, R> {
    inner: R,
    progress: &'p dyn Progress,
    pending: u64,
}

impl<R> ProgressRead<'_, R> {
    fn count(&mut self, n: usize) {
        self.pending += n as u64;
        if self.pending >= 1 << 20 {
            self.progress.advance(self.pending);
            self.pending = 0;
        }
    }
}

impl<R> Drop for ProgressRead<'_, R> {
    fn drop(&mut self) {
        if self.pending > 0 {
            self.progress.advance(self.pending);
        }
    }
}

impl<R: Read> Read for ProgressRead<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for ProgressRead<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
        self.count(amt);
    }
}

/// The state of one conversion (or sampling).
struct Run<'a, S: Sink> {
    input: PathBuf,
    output: PathBuf,
    sink: S,
    /// Bytes written so far.
    pos: u64,
    transformer: &'a Transformer,
    options: &'a ConvertOptions,
    target: &'a Target,
    seq: bool,
    report: ConvertReport,
    tally: Tally,
    /// Sampling instead of converting: the samples and how many are wanted.
    samples: Option<(Vec<Xyz>, usize)>,
    /// An error raised inside a serde visitor, which can only return serde errors.
    error: Option<ConvertError>,
    /// Sampling has all it needs (the visitor stopped).
    done: bool,
    // The top-level collection being written.
    first_member: bool,
    crs_written: bool,
    features_written: u64,
    bounds: Bounds,
    /// A reserved space for the top-level bbox: offset, 6 numbers, whether it is the first
    /// member.
    bbox_slot: Option<(u64, bool, bool)>,
    /// A top-level bbox to write after `features` (the output cannot seek): 6 numbers.
    bbox_deferred: Option<bool>,
    /// The chunk of features being converted in the background while the next one is read.
    pending: Option<mpsc::Receiver<Vec<FeatureResult>>>,
    /// The transformer, shared with the background conversions.
    shared: Option<Arc<Transformer>>,
    /// The length guard of the document being read.
    guard: Option<Rc<Guard>>,
    /// Inside the `features` array: the features read from it so far.
    features_read: Option<u64>,
    /// A record (or a line that is not blank) was seen: the input is not empty.
    seen: bool,
    /// The in-memory APIs: compare a top-level `crs` member with the source CRS (the
    /// catalogue's CRS of the transformer's source id, or that id when the catalogue does not
    /// have it). `None` for files, whose declaration `convert_file` checked before.
    declared_source: Option<Result<Crs, String>>,
}

/// A feature converted: its id (for messages) and its text, or why not.
type FeatureResult = (Option<String>, Result<Converted, ObjectError>);

/// Objects converted together through one batch transform.
const PART_OBJECTS: usize = 1024;

/// Converts features of a collection (for the parallel path), through one batch transform.
fn convert_features(t: &Transformer, raws: &[Box<RawValue>]) -> Vec<FeatureResult> {
    let mut batch = Batch::default();
    let mut walked: Vec<(Option<String>, Walked)> = raws
        .iter()
        .map(|raw| match walk(&mut batch, raw.get(), None) {
            Ok((id, walked)) => (id, walked),
            Err(e) => (None, (Err(ObjectError::Malformed(serde_message(&e))), 0..0)),
        })
        .collect();
    settle(t, &mut batch, walked.iter_mut().map(|(_, w)| w));
    walked.into_iter().map(|(id, (result, _))| (id, result)).collect()
}

/// An object walked into a batch: its text with placeholders (or why not), and the span of its
/// positions in the batch.
type Walked = (Result<Converted, ObjectError>, Range<usize>);

/// Walks the object `text` into `batch` (its positions collected, its text with placeholders);
/// its id and the walk. Errors: `text` is not a JSON object.
fn walk(
    batch: &mut Batch,
    text: &str,
    top: Option<&CrsMember>,
) -> Result<(Option<String>, Walked), serde_json::Error> {
    let members = parse_members(text)?;
    let id = object::id_of(&members.0);
    let first = batch.points.len();
    let result = object::convert_object(&members.0, top, &mut Positions::Batch(batch));
    Ok((id, (result, first..batch.points.len())))
}

/// Transforms the positions of `batch` in one [`Transformer::transform_slice`] and settles each
/// walked object, in batch order: failed with its first position that cannot be converted (as
/// converting position by position would have stopped there, before a structure error met
/// later in the same object), else its placeholders filled.
fn settle<'w>(t: &Transformer, batch: &mut Batch, walked: impl Iterator<Item = &'w mut Walked>) {
    let report = t.transform_slice(&mut batch.points);
    let mut failures = report.failures.into_iter().peekable();
    for (result, span) in walked {
        let failed = failures.next_if(|f| f.index < span.end);
        while failures.next_if(|f| f.index < span.end).is_some() {}
        if let Some(f) = failed {
            *result = Err(ObjectError::Point(f.error));
        } else if let Ok(c) = result {
            let (text, bounds) = object::fill(&c.text, &batch.points, &batch.has_z, span.start);
            c.text = text;
            c.bounds = bounds;
        }
    }
}

/// Stops a visitor with `error` kept in the run.
fn stop<S: Sink, E: de::Error>(run: &mut Run<'_, S>, error: ConvertError) -> E {
    run.error = Some(error);
    E::custom("geounify: stopped")
}

impl<'a, S: Sink> Run<'a, S> {
    fn new(
        input: &Path,
        output: &Path,
        sink: S,
        transformer: &'a Transformer,
        options: &'a ConvertOptions,
        target: &'a Target,
        seq: bool,
    ) -> Self {
        Self {
            input: input.to_path_buf(),
            output: output.to_path_buf(),
            sink,
            pos: 0,
            transformer,
            options,
            target,
            seq,
            report: ConvertReport::default(),
            tally: Tally::default(),
            samples: None,
            error: None,
            done: false,
            first_member: true,
            crs_written: false,
            features_written: 0,
            bounds: Bounds::default(),
            bbox_slot: None,
            bbox_deferred: None,
            pending: None,
            shared: None,
            guard: None,
            features_read: None,
            seen: false,
            declared_source: None,
        }
    }

    /// Checks the top-level `crs` member's value `text` against the source CRS (the in-memory
    /// APIs only, see the module docs): `Err` for a contradiction without `force`, warnings
    /// otherwise.
    fn check_crs_member(&mut self, text: &str) -> Result<(), ConvertError> {
        let Some(source) = &self.declared_source else { return Ok(()) };
        let Some(d) = super::declared::from_crs_member(text, "the \"crs\" member") else {
            return Ok(());
        };
        let warnings = match source {
            Ok(source) => {
                super::judge_declarations(&self.input, vec![d], source, self.options.force)?
            }
            Err(id) if d.describe().trim_matches('"').eq_ignore_ascii_case(id) => Vec::new(),
            Err(id) => vec![format!(
                "{} declares {}; not checked: the source CRS {id} is not in the built-in \
                 catalogue (convert_file checks it against the CRS's definition)",
                d.origin,
                d.describe()
            )],
        };
        self.report.warnings.extend(warnings);
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), ConvertError> {
        if self.tally.failed() {
            return Ok(()); // nothing will be kept: spare the writes
        }
        self.sink
            .write_all(bytes)
            .map_err(|source| ConvertError::Io { path: self.output.clone(), source })?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    fn malformed(&self, location: String, message: String) -> ConvertError {
        ConvertError::Malformed { path: self.input.clone(), location, message }
    }

    /// The record being read is longer than [`MAX_RECORD`].
    fn too_long(&self) -> ConvertError {
        match self.features_read {
            Some(n) => self.malformed(
                format!("feature {}", n + 1),
                format!(
                    "a feature longer than {} MiB (with the separators before it)",
                    MAX_RECORD >> 20
                ),
            ),
            None => self.malformed(
                "top level".into(),
                format!(
                    "more than {} MiB of JSON outside the \"features\" array (a Feature or a \
                     geometry document, or the collection's other members, is read whole)",
                    MAX_RECORD >> 20
                ),
            ),
        }
    }

    /// A new record starts: it gets the whole length budget.
    fn reset_guard(&self) {
        if let Some(g) = &self.guard {
            g.reset();
        }
    }

    fn io_in(&self, source: io::Error) -> ConvertError {
        ConvertError::Io { path: self.input.clone(), source }
    }

    /// The report, or `PointsFailed` if points failed without `skip_invalid`.
    fn finish(mut self) -> Result<ConvertReport, ConvertError> {
        let tally = std::mem::take(&mut self.tally);
        tally.finish(&mut self.report, &self.input)?;
        if let Some((at, six, first)) = self.bbox_slot {
            let text = match self.bounds.to_json(six) {
                Some(b) if first => format!("\"bbox\":{b},"),
                Some(b) => format!(",\"bbox\":{b}"),
                None => String::new(),
            };
            let mut region = text.into_bytes();
            if region.len() > BBOX_RESERVED {
                region.clear(); // cannot happen (see BBOX_RESERVED); never overwrite data
            }
            region.resize(BBOX_RESERVED, b' ');
            self.sink
                .patch(at, &region)
                .map_err(|source| ConvertError::Io { path: self.output.clone(), source })?;
        }
        self.sink
            .flush()
            .map_err(|source| ConvertError::Io { path: self.output.clone(), source })?;
        self.report.warnings.extend(self.target.warnings.iter().cloned());
        Ok(self.report)
    }

    /// Converts (or samples) a whole object; `Err` only for what stops the conversion.
    fn convert_text(
        &mut self,
        text: &str,
        top: bool,
    ) -> (Option<String>, Result<Converted, ObjectError>) {
        let crs = if top {
            Some(if self.seq { &self.target.record } else { &self.target.document })
        } else {
            None
        };
        let members = match parse_members(text) {
            Ok(m) => m,
            Err(e) => return (None, Err(ObjectError::Malformed(serde_message(&e)))),
        };
        let id = object::id_of(&members.0);
        let result = match &mut self.samples {
            Some((samples, max)) => {
                let max = *max;
                let mut take = |p: Xyz, _z: bool| {
                    if samples.len() < max {
                        samples.push(p);
                    }
                    Ok(p)
                };
                object::convert_object(&members.0, crs, &mut Positions::Each(&mut take))
            }
            None => {
                let mut batch = Batch::default();
                let mut walked = (
                    object::convert_object(&members.0, crs, &mut Positions::Batch(&mut batch)),
                    0..batch.points.len(),
                );
                settle(self.transformer, &mut batch, std::iter::once(&mut walked));
                walked.0
            }
        };
        (id, result)
    }

    /// Records the outcome of one feature at `location`; writes `prefix`, its text and `suffix`
    /// if it was converted.
    fn record(
        &mut self,
        location: String,
        result: Result<Converted, ObjectError>,
        prefix: &[u8],
        suffix: &[u8],
    ) -> Result<(), ConvertError> {
        self.report.features += 1;
        match result {
            Ok(c) => {
                self.write(prefix)?;
                self.write(c.text.as_bytes())?;
                self.write(suffix)?;
                self.report.written += 1;
                self.report.vertices += c.vertices;
                if c.vertices == 0 {
                    self.report.empty += 1;
                }
                self.bounds.merge(&c.bounds);
                Ok(())
            }
            Err(ObjectError::Point(e)) => {
                let failure = Failure { location, reason: e.to_string() };
                self.tally.record(&mut self.report, self.options.skip_invalid, failure);
                Ok(())
            }
            Err(ObjectError::Malformed(message)) => Err(self.malformed(location, message)),
        }
    }

    fn sampled_enough(&self) -> bool {
        self.samples.as_ref().is_some_and(|(s, max)| s.len() >= *max)
    }

    // ----- GeoJSON documents -----------------------------------------------------------------

    fn document<R: BufRead>(&mut self, mut input: R) -> Result<(), ConvertError> {
        // A byte-order mark is kept; leading whitespace is skipped (and counted for locations).
        let (mut lines, mut column) = (0u64, 0u64);
        let mut bom = false;
        loop {
            let buf = input.fill_buf().map_err(|e| self.io_in(e))?;
            if buf.is_empty() {
                // Nothing but whitespace: an empty output would pass for a conversion.
                return Err(self.malformed(
                    "line 1".into(),
                    "the file is empty (no GeoJSON object): nothing to convert".into(),
                ));
            }
            if !bom && lines == 0 && column == 0 && buf.starts_with(BOM) {
                bom = true;
                input.consume(BOM.len());
                continue;
            }
            let ws = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
            for &b in &buf[..ws] {
                if b == b'\n' {
                    lines += 1;
                    column = 0;
                } else {
                    column += 1;
                }
            }
            let more = ws < buf.len();
            input.consume(ws);
            if more {
                break;
            }
        }
        if bom {
            self.write(BOM)?;
        }
        let at = |e: &serde_json::Error| {
            let line = e.line() as u64 + lines;
            let col = e.column() as u64 + if e.line() == 1 { column } else { 0 };
            format!("line {line}, column {col}")
        };
        let guard = Guard::new();
        self.guard = Some(Rc::clone(&guard));
        let input = Guarded::new(input, Rc::clone(&guard));
        let mut de = serde_json::Deserializer::from_reader(input);
        let top = match de::Deserializer::deserialize_map(&mut de, TopVisitor { run: self }) {
            Ok(top) => top,
            Err(_) if self.done => return Ok(()),
            Err(e) => {
                return Err(match self.error.take() {
                    Some(error) => error,
                    None if guard.over.get() => self.too_long(),
                    None => match e.classify() {
                        serde_json::error::Category::Io => self.io_in(e.into()),
                        _ => self.malformed(at(&e), serde_message(&e)),
                    },
                })
            }
        };
        if let Err(e) = de.end() {
            if guard.over.get() {
                return Err(self.too_long());
            }
            return Err(self.malformed(at(&e), serde_message(&e)));
        }
        let Some(members) = top else { return Ok(()) };
        // A Feature or a Geometry: one object, converted in memory.
        let members: Vec<(&RawValue, &RawValue)> =
            members.iter().map(|(k, v)| (&**k, &**v)).collect();
        if let Some(Kind::FeatureCollection) = type_of(&members).as_deref().and_then(kind_of) {
            return Err(
                self.malformed("line 1".into(), "a FeatureCollection without \"features\"".into())
            );
        }
        if let Some((_, crs)) = members.iter().find(|(k, _)| key_name(k) == "crs") {
            self.check_crs_member(crs.get())?;
        }
        let text = object_text(&members);
        let (id, result) = self.convert_text(&text, true);
        let location = feature_location(1, id.as_deref());
        if let Err(ObjectError::Point(e)) = result {
            // No collection to leave the feature out of: the file fails even with skip_invalid.
            self.report.features += 1;
            let failure = Failure { location, reason: e.to_string() };
            self.tally.record(&mut self.report, false, failure);
            return Ok(());
        }
        self.record(location, result, b"", b"\n")
    }

    /// The fast path of a file (see [`scan`]): a FeatureCollection whose values are cut out
    /// by the scanner and validated from slices, then converted exactly as
    /// [`document`](Self::document) converts them (the same members, chunks and calls, so the
    /// same output). `Ok(false)` for anything else — not a collection, JSON the scanner or
    /// serde_json does not take, a value near the record cap, text after the document — after
    /// which the output written so far is to be discarded and the file converted by
    /// [`document`](Self::document), which reports any error with its line and column.
    fn document_fast<R: BufRead>(&mut self, mut input: R) -> Result<bool, ConvertError> {
        let bom = input.fill_buf().map_err(|e| self.io_in(e))?.starts_with(BOM);
        if bom {
            input.consume(BOM.len());
        }
        let mut s = scan::Scanner::new(input);
        // Values and their separators stay well inside the streaming parser's record cap, so
        // that a value it would refuse is never taken here.
        let cap = usize::try_from(MAX_RECORD).unwrap_or(usize::MAX) / 2;
        let io = |run: &Self, e| run.io_in(e);
        if s.skip_ws().map_err(|e| io(self, e))? != Some(b'{') {
            return Ok(false);
        }
        s.bump();
        if bom {
            self.write(BOM)?;
        }
        let mut pending: Pending = Vec::new();
        let mut type_name: Option<String> = None;
        let mut collection = false;
        let mut outside = 0usize;
        let mut text = Vec::new();
        let mut first = true;
        loop {
            let next = s.skip_ws().map_err(|e| io(self, e))?;
            if first && next == Some(b'}') {
                return Ok(false); // `{}`: not a collection
            }
            first = false;
            if next != Some(b'"') {
                return Ok(false);
            }
            text.clear();
            if !s.value(&mut text, cap).map_err(|e| io(self, e))? {
                return Ok(false);
            }
            let Some(key) = raw_value(&mut text) else { return Ok(false) };
            if s.skip_ws().map_err(|e| io(self, e))? != Some(b':') {
                return Ok(false);
            }
            s.bump();
            let name = key_name(&key);
            if !collection
                && name == "features"
                && type_name.as_deref().is_none_or(|t| t == "FeatureCollection")
            {
                if s.skip_ws().map_err(|e| io(self, e))? != Some(b'[') {
                    return Ok(false);
                }
                s.bump();
                collection = true;
                self.begin_collection(&pending, &key)?;
                pending = Vec::new();
                outside = 0;
                if !self.features_fast(&mut s, cap)? {
                    return Ok(false);
                }
                self.end_features()?;
            } else {
                if !s.value(&mut text, cap).map_err(|e| io(self, e))? {
                    return Ok(false);
                }
                let Some(value) = raw_value(&mut text) else { return Ok(false) };
                outside += key.get().len() + value.get().len() + 64;
                if outside > cap {
                    return Ok(false);
                }
                if collection {
                    self.after_features(&key, &value)?;
                } else {
                    if name == "type" {
                        type_name = string_value(&value);
                    }
                    pending.push((key, value));
                }
            }
            match s.skip_ws().map_err(|e| io(self, e))? {
                Some(b',') => s.bump(),
                Some(b'}') => {
                    s.bump();
                    break;
                }
                _ => return Ok(false),
            }
        }
        if !collection || s.skip_ws().map_err(|e| io(self, e))?.is_some() {
            return Ok(false);
        }
        self.write(b"}\n")?;
        Ok(true)
    }

    /// The `features` array after its `[`, for [`document_fast`](Self::document_fast):
    /// features cut out, validated and converted in the chunks the streaming path makes.
    fn features_fast<R: BufRead>(
        &mut self,
        s: &mut scan::Scanner<R>,
        cap: usize,
    ) -> Result<bool, ConvertError> {
        let mut chunk = Vec::with_capacity(CHUNK);
        let mut bytes = 0;
        let mut text = Vec::new();
        if s.skip_ws().map_err(|e| self.io_in(e))? == Some(b']') {
            s.bump();
        } else {
            loop {
                text.clear();
                if !s.value(&mut text, cap).map_err(|e| self.io_in(e))? {
                    return Ok(false);
                }
                let Some(raw) = raw_value(&mut text) else { return Ok(false) };
                bytes += raw.get().len();
                chunk.push(raw);
                if chunk.len() >= CHUNK || bytes >= CHUNK_BYTES {
                    bytes = 0;
                    self.features(&mut chunk)?;
                }
                match s.skip_ws().map_err(|e| self.io_in(e))? {
                    Some(b',') => s.bump(),
                    Some(b']') => {
                        s.bump();
                        break;
                    }
                    _ => return Ok(false),
                }
            }
        }
        self.features(&mut chunk)?;
        self.drain()?;
        Ok(true)
    }

    /// The members of a collection up to `features`: writes `{`, them, and `"features":[`.
    fn begin_collection(
        &mut self,
        pending: &[(Box<RawValue>, Box<RawValue>)],
        features_key: &RawValue,
    ) -> Result<(), ConvertError> {
        // The declared CRS is checked before anything is written.
        for (key, value) in pending {
            if key_name(key) == "crs" {
                self.check_crs_member(value.get())?;
            }
        }
        self.write(b"{")?;
        for (key, value) in pending {
            match key_name(key).as_ref() {
                "crs" => self.write_crs(key.get())?,
                "bbox" => {
                    let six = bbox_is_3d(value);
                    if self.sink.can_patch() {
                        let first = self.first_member;
                        self.bbox_slot = Some((self.pos, six, first));
                        self.write(&[b' '; BBOX_RESERVED])?;
                        // As the first member the slot holds `"bbox":[...],`: the next member
                        // then needs no comma.
                        self.first_member = first;
                    } else {
                        self.bbox_deferred = Some(six);
                        self.report.warnings.push(
                            "the top-level \"bbox\" was moved after \"features\" (the output \
                             cannot seek back to write it before them)"
                                .into(),
                        );
                    }
                }
                _ => self.member(key.get(), value.get())?,
            }
        }
        self.write_crs("\"crs\"")?;
        self.member(features_key.get(), "[")
    }

    /// Writes the target's `crs` member (under `key`) unless written or dropped.
    fn write_crs(&mut self, key: &str) -> Result<(), ConvertError> {
        if let CrsMember::Write(value) = &self.target.document {
            if !self.crs_written {
                self.crs_written = true;
                let value = value.clone();
                self.member(key, &value)?;
            }
        }
        Ok(())
    }

    fn member(&mut self, key: &str, value: &str) -> Result<(), ConvertError> {
        if !self.first_member {
            self.write(b",")?;
        }
        self.first_member = false;
        self.write(key.as_bytes())?;
        self.write(b":")?;
        self.write(value.as_bytes())
    }

    /// Converts and writes a chunk of features (empties it). In parallel, the chunk is converted
    /// in the background (rayon) while the caller reads the next one; its features are written
    /// at the next call or at [`drain`](Self::drain), in order.
    fn features(&mut self, chunk: &mut Vec<Box<RawValue>>) -> Result<(), ConvertError> {
        if self.samples.is_none() && self.options.parallel && chunk.len() > 1 {
            let raws = std::mem::replace(chunk, Vec::with_capacity(chunk.capacity()));
            let transformer = self.transformer;
            let t = Arc::clone(self.shared.get_or_insert_with(|| Arc::new(transformer.clone())));
            let (done, results) = mpsc::sync_channel(1);
            rayon::spawn(move || {
                let converted = raws
                    .par_chunks(PART_OBJECTS)
                    .flat_map_iter(|part| convert_features(&t, part))
                    .collect();
                // The receiver is gone only if the conversion stopped: nothing to do then.
                let _ = done.send(converted);
            });
            let previous = self.pending.replace(results);
            return match previous {
                Some(results) => self.record_chunk(&results),
                None => Ok(()),
            };
        }
        self.drain()?;
        let mut results = Vec::with_capacity(chunk.len());
        for raw in chunk.iter() {
            results.push(self.convert_text(raw.get(), false));
            if self.sampled_enough() {
                break;
            }
        }
        chunk.clear();
        self.record_results(results)
    }

    /// Writes the features of the chunk converted in the background, if any.
    fn drain(&mut self) -> Result<(), ConvertError> {
        match self.pending.take() {
            Some(results) => self.record_chunk(&results),
            None => Ok(()),
        }
    }

    /// Waits for a chunk converted in the background and writes its features.
    fn record_chunk(
        &mut self,
        results: &mpsc::Receiver<Vec<FeatureResult>>,
    ) -> Result<(), ConvertError> {
        let results = results.recv().map_err(|_| ConvertError::Io {
            path: self.output.clone(),
            source: io::Error::other("a background conversion stopped"),
        })?;
        self.record_results(results)
    }

    /// Records and writes converted features, in order.
    fn record_results(&mut self, results: Vec<FeatureResult>) -> Result<(), ConvertError> {
        let base = self.report.features;
        for (i, (id, result)) in results.into_iter().enumerate() {
            let location = feature_location(base + i as u64 + 1, id.as_deref());
            let prefix: &[u8] = if self.features_written == 0 { b"\n" } else { b",\n" };
            let written = self.report.written;
            self.record(location, result, prefix, b"")?;
            self.features_written += self.report.written - written;
        }
        Ok(())
    }

    /// `]` after the features, and a deferred bbox.
    fn end_features(&mut self) -> Result<(), ConvertError> {
        self.write(if self.features_written > 0 { b"\n]" } else { b"]" })?;
        if let Some(six) = self.bbox_deferred.take() {
            if let Some(b) = self.bounds.to_json(six) {
                self.member("\"bbox\"", &b)?;
            }
        }
        Ok(())
    }

    /// A member after `features`.
    fn after_features(&mut self, key: &RawValue, value: &RawValue) -> Result<(), ConvertError> {
        match key_name(key).as_ref() {
            "features" => {
                Err(self.malformed("top level".into(), "a second \"features\" member".into()))
            }
            "crs" => {
                self.check_crs_member(value.get())?;
                self.write_crs(key.get())
            }
            "bbox" => match self.bounds.to_json(bbox_is_3d(value)) {
                Some(b) => self.member(key.get(), &b),
                None => Ok(()),
            },
            _ => self.member(key.get(), value.get()),
        }
    }

    // ----- Newline-delimited GeoJSON ---------------------------------------------------------

    fn sequence<R: BufRead>(&mut self, mut input: R) -> Result<(), ConvertError> {
        let mut line_no = 0u64;
        let mut chunk: Vec<(u64, Vec<u8>)> = Vec::with_capacity(CHUNK);
        let mut bytes = 0;
        loop {
            let mut line = Vec::new();
            let n = super::text::read_line_bounded(&mut input, &mut line, MAX_RECORD + 1)
                .map_err(|e| self.io_in(e))?;
            if n > 0 {
                line_no += 1;
                if n as u64 > MAX_RECORD && line.last() != Some(&b'\n') {
                    return Err(self.malformed(
                        format!("line {line_no}"),
                        format!("a line longer than {} MiB", MAX_RECORD >> 20),
                    ));
                }
                bytes += line.len();
                chunk.push((line_no, line));
            }
            if n == 0 || chunk.len() == CHUNK || bytes >= CHUNK_BYTES {
                bytes = 0;
                self.lines(&mut chunk)?;
                if n == 0 && !self.seen {
                    // Nothing but blank lines: an empty output would pass for a conversion.
                    return Err(self.malformed(
                        "line 1".into(),
                        "the file is empty (no GeoJSON record, only blank lines): nothing to \
                         convert"
                            .into(),
                    ));
                }
                if n == 0 || self.sampled_enough() {
                    return Ok(());
                }
            }
        }
    }

    fn lines(&mut self, chunk: &mut Vec<(u64, Vec<u8>)>) -> Result<(), ConvertError> {
        let outcomes: Vec<Line> = if self.samples.is_none() && self.options.parallel {
            let (t, record) = (self.transformer, &self.target.record);
            chunk
                .par_chunks(PART_OBJECTS)
                .flat_map_iter(|part| {
                    let mut batch = Batch::default();
                    let mut lines: Vec<(Line, Range<usize>)> = part
                        .iter()
                        .map(|(n, bytes)| {
                            let mut span = 0..0;
                            let line = split_line(*n, bytes, |text| {
                                let (_, (result, s)) = walk(&mut batch, text, Some(record))?;
                                span = s;
                                Ok(result)
                            });
                            (line, span)
                        })
                        .collect();
                    // Only records take part; their spans are in batch order.
                    let mut records: Vec<Walked> = Vec::new();
                    for (line, span) in &mut lines {
                        if let Line::Record { result, .. } = line {
                            let r = std::mem::replace(result, Ok(Converted::default()));
                            records.push((r, span.clone()));
                        }
                    }
                    settle(t, &mut batch, records.iter_mut());
                    let mut settled = records.into_iter();
                    lines.into_iter().map(move |(mut line, _)| {
                        if let Line::Record { result, .. } = &mut line {
                            if let Some((r, _)) = settled.next() {
                                *result = r;
                            }
                        }
                        line
                    })
                })
                .collect()
        } else {
            let mut out = Vec::with_capacity(chunk.len());
            for (n, bytes) in chunk.iter() {
                out.push(split_line(*n, bytes, |text| {
                    // Parse errors are reported with their column; structure errors by line.
                    parse_members(text)?;
                    Ok(self.convert_text(text, true).1)
                }));
                if self.sampled_enough() {
                    break;
                }
            }
            out
        };
        chunk.clear();
        for line in outcomes {
            self.seen |= !matches!(line, Line::Blank(_));
            match line {
                Line::Blank(bytes) => self.write(&bytes)?,
                Line::Record { n, bom, rs, ending, result } => {
                    let prefix: &[u8] = match (bom, rs) {
                        (true, _) => BOM,
                        (false, true) => b"\x1e",
                        (false, false) => b"",
                    };
                    self.record(format!("line {n}"), result, prefix, ending.as_bytes())?;
                }
                Line::Bad { n, column, message } => {
                    let location = match column {
                        Some(c) => format!("line {n}, column {c}"),
                        None => format!("line {n}"),
                    };
                    return Err(self.malformed(location, message));
                }
            }
        }
        Ok(())
    }
}

/// One line of newline-delimited GeoJSON.
enum Line {
    /// Nothing but whitespace (or a lone record separator): kept as it is.
    Blank(Vec<u8>),
    /// A record.
    Record {
        n: u64,
        bom: bool,
        rs: bool,
        ending: &'static str,
        result: Result<Converted, ObjectError>,
    },
    /// Not JSON.
    Bad { n: u64, column: Option<u64>, message: String },
}

type LineResult = Result<Result<Converted, ObjectError>, serde_json::Error>;

fn split_line(n: u64, bytes: &[u8], convert: impl FnOnce(&str) -> LineResult) -> Line {
    let (content, ending) = if let Some(c) = bytes.strip_suffix(b"\r\n") {
        (c, "\r\n")
    } else if let Some(c) = bytes.strip_suffix(b"\n") {
        (c, "\n")
    } else {
        (bytes, "")
    };
    let (content, rs) = match content.strip_prefix(b"\x1e") {
        Some(c) => (c, true),
        None => (content, false),
    };
    let (content, bom) = match content.strip_prefix(BOM) {
        Some(c) if n == 1 && !rs => (c, true),
        _ => (content, false),
    };
    if content.iter().all(u8::is_ascii_whitespace) {
        return Line::Blank(bytes.to_vec());
    }
    let offset = u64::from(rs) + 3 * u64::from(bom);
    let text = match std::str::from_utf8(content) {
        Ok(t) => t,
        Err(e) => {
            return Line::Bad {
                n,
                column: Some(e.valid_up_to() as u64 + 1 + offset),
                message: "not UTF-8 (RFC 8259 requires JSON text in UTF-8)".into(),
            }
        }
    };
    match convert(text) {
        Ok(result) => Line::Record { n, bom, rs, ending, result },
        Err(e) => {
            Line::Bad { n, column: Some(e.column() as u64 + offset), message: serde_message(&e) }
        }
    }
}

/// The JSON value `text` (taken), validated; `None` if it is not UTF-8 or not one valid JSON
/// value.
fn raw_value(text: &mut Vec<u8>) -> Option<Box<RawValue>> {
    let text = String::from_utf8(std::mem::take(text)).ok()?;
    RawValue::from_string(text).ok()
}

/// `feature 5` or `feature 5 (id "A-17")`.
fn feature_location(n: u64, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("feature {n} (id {id})"),
        None => format!("feature {n}"),
    }
}

/// serde_json's message without its ` at line L column C`.
fn serde_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).map_or(text.clone(), str::to_string)
}

/// An object's text from its members.
fn object_text(members: &[(&RawValue, &RawValue)]) -> String {
    let mut text = String::from("{");
    for (i, (k, v)) in members.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(k.get());
        text.push(':');
        text.push_str(v.get());
    }
    text.push('}');
    text
}

/// The top-level object's visitor: streams a FeatureCollection; returns the members of any
/// other object (a Feature or a Geometry) to convert in memory.
struct TopVisitor<'r, 'a, S: Sink> {
    run: &'r mut Run<'a, S>,
}

type Pending = Vec<(Box<RawValue>, Box<RawValue>)>;

impl<'de, S: Sink> Visitor<'de> for TopVisitor<'_, '_, S> {
    type Value = Option<Pending>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a GeoJSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let run = self.run;
        let mut pending: Pending = Vec::new();
        let mut type_name: Option<String> = None;
        let mut collection = false;
        while let Some(key) = map.next_key::<Box<RawValue>>()? {
            let name = key_name(&key);
            if collection {
                let value: Box<RawValue> = map.next_value()?;
                if let Err(e) = run.after_features(&key, &value) {
                    return Err(stop(run, e));
                }
            } else if name == "features"
                && type_name.as_deref().is_none_or(|t| t == "FeatureCollection")
            {
                collection = true;
                if let Err(e) = run.begin_collection(&pending, &key) {
                    return Err(stop(run, e));
                }
                pending = Vec::new();
                run.reset_guard();
                run.features_read = Some(0);
                map.next_value_seed(FeaturesSeed { run: &mut *run })?;
                run.features_read = None;
                run.reset_guard();
                if let Err(e) = run.end_features() {
                    return Err(stop(run, e));
                }
            } else {
                let is_type = name == "type";
                let value: Box<RawValue> = map.next_value()?;
                if is_type {
                    type_name = string_value(&value);
                }
                pending.push((key, value));
            }
        }
        if !collection {
            return Ok(Some(pending));
        }
        if let Err(e) = run.write(b"}\n") {
            return Err(stop(run, e));
        }
        Ok(None)
    }
}

/// The `features` array, read one feature at a time and converted in chunks.
struct FeaturesSeed<'r, 'a, S: Sink> {
    run: &'r mut Run<'a, S>,
}

impl<'de, S: Sink> DeserializeSeed<'de> for FeaturesSeed<'_, '_, S> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, S: Sink> Visitor<'de> for FeaturesSeed<'_, '_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of features")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let run = self.run;
        let mut chunk = Vec::with_capacity(if run.samples.is_some() { 1 } else { CHUNK });
        let size = chunk.capacity();
        let mut bytes = 0;
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            if raw.get().len() as u64 > MAX_RECORD {
                let e = run.too_long();
                return Err(stop(run, e));
            }
            run.reset_guard();
            run.features_read = run.features_read.map(|n| n + 1);
            bytes += raw.get().len();
            chunk.push(raw);
            if chunk.len() >= size || bytes >= CHUNK_BYTES {
                bytes = 0;
                if let Err(e) = run.features(&mut chunk) {
                    return Err(stop(run, e));
                }
                if run.sampled_enough() {
                    run.done = true;
                    return Err(de::Error::custom("geounify: enough samples"));
                }
            }
        }
        if let Err(e) = run.features(&mut chunk).and_then(|()| run.drain()) {
            return Err(stop(run, e));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[derive(Default)]
    struct Counter {
        total: AtomicU64,
        read: AtomicU64,
        finished: AtomicU64,
    }

    impl Progress for Counter {
        fn start(&self, total: Option<u64>) {
            self.total.store(total.unwrap_or(0), Ordering::Relaxed);
        }
        fn advance(&self, bytes: u64) {
            self.read.fetch_add(bytes, Ordering::Relaxed);
        }
        fn finish(&self) {
            self.finished.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn records(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                format!(
                    r#"{{"type":"Feature","properties":{{"i":{i}}},"geometry":{{"type":"LineString","coordinates":[[116.{i},39.5],[116.5,39.{i},7]]}}}}"#
                )
            })
            .collect()
    }

    fn collection(n: usize) -> String {
        format!("{{\"type\":\"FeatureCollection\",\"features\":[{}]}}", records(n).join(",\n"))
    }

    #[test]
    fn sample_reads_the_first_positions_and_progress_counts_every_byte() {
        let dir =
            std::env::temp_dir().join(format!("geounify-geojson-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (source, target) =
            (catalogue::lookup("EPSG:4326").unwrap(), catalogue::lookup("EPSG:4548").unwrap());
        let transformer = Transformer::new(&source, &target).unwrap();
        let options = ConvertOptions::default();
        let counter = Counter::default();
        for (name, text) in [("a.geojson", collection(9)), ("b.geojsonl", records(9).join("\n"))] {
            let input = dir.join(name);
            std::fs::write(&input, &text).unwrap();
            let output = dir.join(format!("out-{name}"));
            let job = Job {
                input: &input,
                output: &output,
                source: &source,
                target: &target,
                transformer: &transformer,
                options: &options,
                progress: &counter,
            };
            let samples = sample(&job, 3).unwrap();
            assert_eq!(samples, vec![[116.0, 39.5, 0.0], [116.5, 39.0, 7.0], [116.1, 39.5, 0.0]]);
            assert_eq!(sample(&job, 100).unwrap().len(), 18);
            counter.read.store(0, Ordering::Relaxed);
            // Through the dispatcher, which starts and finishes the progress.
            let report =
                crate::convert::convert_file(&input, &output, &source, &target, &options, &counter)
                    .unwrap();
            assert_eq!((report.features, report.vertices), (9, 18), "{name}");
            let size = text.len() as u64;
            assert_eq!(counter.total.load(Ordering::Relaxed), size);
            assert_eq!(counter.read.load(Ordering::Relaxed), size, "{name}");
        }
        assert_eq!(counter.finished.load(Ordering::Relaxed), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn chunks_converted_in_the_background_keep_order_counts_and_failures() {
        // Several chunks in flight one after another, with failing features (latitude 95°) in
        // every chunk: the bytes, the counts and the failure locations of the sequential run.
        let features: Vec<String> = records(3 * CHUNK + 7)
            .into_iter()
            .enumerate()
            .map(|(i, f)| if i % 1000 == 999 { f.replace("39.5]", "95]") } else { f })
            .collect();
        let text =
            format!("{{\"type\":\"FeatureCollection\",\"features\":[{}]}}", features.join(",\n"));
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        for skip_invalid in [true, false] {
            let parallel = ConvertOptions { skip_invalid, ..ConvertOptions::default() };
            let sequential = ConvertOptions { parallel: false, ..parallel.clone() };
            match (convert_str(&text, &t, &parallel), convert_str(&text, &t, &sequential)) {
                (Ok((a, ra)), Ok((b, rb))) => {
                    assert!(skip_invalid);
                    assert_eq!(a, b);
                    assert_eq!(ra, rb);
                    assert_eq!(ra.skipped.len(), 12);
                }
                (Err(a), Err(b)) => {
                    assert!(!skip_invalid);
                    assert_eq!(a.to_string(), b.to_string());
                    assert!(a.to_string().contains("1000"), "{a}");
                }
                (a, b) => panic!("parallel {a:?}, sequential {b:?}"),
            }
        }
    }

    #[test]
    fn large_features_cut_chunks_by_bytes() {
        // Five features of ~1.9 MB each: chunks are cut by CHUNK_BYTES (every 3 features), not
        // by CHUNK; parallel and sequential give the same bytes and report, in the same order.
        let line: Vec<String> = (0..60_000)
            .map(|i| format!("[{:.9},{:.9}]", 116.0 + i as f64 * 1e-6, 39.0 + i as f64 * 1e-6))
            .collect();
        let feature = |id: usize| {
            format!(
                "{{\"type\":\"Feature\",\"id\":{id},\"properties\":null,\"geometry\":\
                 {{\"type\":\"LineString\",\"coordinates\":[{}]}}}}",
                line.join(",")
            )
        };
        assert!(feature(0).len() * 3 > CHUNK_BYTES && feature(0).len() * 2 < CHUNK_BYTES);
        let features: Vec<String> = (0..5).map(feature).collect();
        let text =
            format!("{{\"type\":\"FeatureCollection\",\"features\":[{}]}}", features.join(","));
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        let parallel = ConvertOptions::default();
        let sequential = ConvertOptions { parallel: false, ..ConvertOptions::default() };
        let (a, ra) = convert_str(&text, &t, &parallel).unwrap();
        let (b, rb) = convert_str(&text, &t, &sequential).unwrap();
        assert_eq!(a, b);
        assert_eq!(ra, rb);
        assert_eq!((ra.features, ra.vertices), (5, 300_000));
        let ids: Vec<usize> =
            a.match_indices("\"id\":").map(|(i, _)| a.as_bytes()[i + 5] as usize - 48).collect();
        assert_eq!(ids, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn parallel_and_sequential_give_the_same_bytes() {
        let text = collection(CHUNK + 7);
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        let parallel = ConvertOptions::default();
        let sequential = ConvertOptions { parallel: false, ..ConvertOptions::default() };
        let (a, ra) = convert_str(&text, &t, &parallel).unwrap();
        let (b, rb) = convert_str(&text, &t, &sequential).unwrap();
        assert_eq!(a, b);
        assert_eq!(ra, rb);
        let lines = records(CHUNK + 7).join("\r\n");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        convert_seq_reader(lines.as_bytes(), &mut a, &t, &parallel).unwrap();
        convert_seq_reader(lines.as_bytes(), &mut b, &t, &sequential).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn a_failed_position_before_a_structure_error_fails_the_feature_and_after_it_the_file() {
        // Position by position, the conversion stopped at the first failed position: the
        // batch keeps that order (a failure first fails the feature; a structure error first is
        // a malformed file), in parallel and not.
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        let feature = |coordinates: &str| {
            format!(
                r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"LineString","coordinates":{coordinates}}}}}"#
            )
        };
        let good = feature("[[117,40],[117.1,40.1]]");
        for parallel in [true, false] {
            let skip = ConvertOptions { skip_invalid: true, parallel, ..ConvertOptions::default() };
            let failed_first = feature(r#"[[117,95],["x",40]]"#);
            let text = format!(
                r#"{{"type":"FeatureCollection","features":[{good},{failed_first},{good}]}}"#
            );
            let (_, report) = convert_str(&text, &t, &skip).unwrap();
            assert_eq!((report.features, report.written), (3, 2));
            assert_eq!(report.skipped[0].location, "feature 2");
            let malformed_first = feature(r#"[["x",40],[117,95]]"#);
            let text = format!(
                r#"{{"type":"FeatureCollection","features":[{good},{malformed_first},{good}]}}"#
            );
            let e = convert_str(&text, &t, &skip).unwrap_err();
            assert!(
                matches!(e, ConvertError::Malformed { ref location, .. } if location == "feature 2"),
                "{e}"
            );
        }
    }
}
