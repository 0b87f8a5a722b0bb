//! The ordered parallel chunk runner the record-based formats convert through (issue 13's
//! backbone): records are read into a chunk (bounded in records and bytes), the chunk is cut
//! into parts converted in parallel (with [`ConvertOptions::parallel`]) — each part parsed,
//! its points transformed in one batch by [`Transformer::transform_slice`], its text written —
//! and the parts are merged in input order: counted, failures tallied with their line, text
//! written up to the first record that fails the conversion.
//!
//! A format brings two things: a [`RecordSource`] that cuts its input into records (the
//! [`Lines`] source here for one-record-per-line formats; CSV's own for quoted newlines), and a
//! [`RecordFormat`] that parses one record into its points and writes it back with the
//! converted points. Everything else — chunking, parallelism, order, the batch path, failure
//! locations, [`ConvertOptions::skip_invalid`], progress — is here, once.
//!
//! Points without a height are passed to the batch with z = 0 and written back without it: the
//! plane result is then that of [`Transformer::transform_xy`], bit for bit, and the height rule
//! ([`Heights`](crate::transformer::Heights)) is the transformer's.

use super::text;
use super::{ConvertError, ConvertOptions, ConvertReport, Failure, Progress, Tally};
use crate::transformer::Transformer;
use rayon::prelude::*;
use std::io::{BufRead, Write};
use std::ops::Range;
use std::path::Path;

/// A record in a chunk's bytes: `start..end` is the whole record with its line ending,
/// `start..body_end` without it; `line` is the physical line where it starts (1-based).
#[derive(Debug, Clone)]
pub(crate) struct Rec {
    pub(crate) start: usize,
    pub(crate) body_end: usize,
    pub(crate) end: usize,
    pub(crate) line: u64,
}

impl Rec {
    /// The record without its line ending.
    pub(crate) fn body(&self) -> Range<usize> {
        self.start..self.body_end
    }
}

/// Cuts an input into records.
pub(crate) trait RecordSource {
    /// Appends the next record to `buf`; `None` at the end of the input. Errors: I/O, a record
    /// over the format's cap (`Malformed` naming its line).
    fn next_record(&mut self, buf: &mut Vec<u8>) -> Result<Option<Rec>, ConvertError>;
}

/// How large a chunk may grow: it ends after the record that reaches either limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Records per chunk.
    pub(crate) records: usize,
    /// Bytes per chunk.
    pub(crate) bytes: usize,
}

/// Records converted together by one parallel task.
const PART_RECORDS: usize = 4096;

/// What parsing one record found.
pub(crate) enum Parsed<T> {
    /// Copied unchanged and not a feature (a blank line, a comment).
    Pass,
    /// A feature with `points` points pushed to the batch (0 for a feature without geometry,
    /// copied unchanged), and what writing it back needs.
    Feature { item: T, points: usize },
    /// A feature whose values cannot be read (e.g. a coordinate that is not a number): it fails
    /// like a point that cannot be converted, with this reason.
    Failed(String),
    /// The input is not valid in its format here: the conversion stops with this message.
    Malformed(String),
    /// As [`Parsed::Malformed`], at this line of the record rather than its first (a record of
    /// many lines, e.g. a DXF entity with its vertices).
    MalformedAt(u64, String),
}

/// A record that parsed but cannot be written (e.g. a DXF entity whose converted shape the
/// format cannot hold): it fails like a point that cannot be converted. The item comes back so
/// that the failure can be labelled ([`RecordFormat::label`]).
pub(crate) struct WriteFailure<T> {
    /// The record's item, as [`RecordFormat::try_write`] was given it.
    pub(crate) item: T,
    /// Why the record cannot be written.
    pub(crate) reason: String,
}

/// One record-based format, as the runner converts it.
pub(crate) trait RecordFormat: Sync {
    /// What writing a parsed record back needs (e.g. where its numbers are).
    type Item;
    /// What the merge learns of a converted record besides its count (e.g. an EWKT SRID).
    type Note: Send;
    /// Working memory reused by one task's parses (e.g. field ranges).
    type Scratch: Default;

    /// Parses `rec` of `bytes`, pushing its points `[x, y, z]` (z = 0 without a height) to
    /// `points`.
    fn parse(
        &self,
        scratch: &mut Self::Scratch,
        bytes: &[u8],
        rec: &Rec,
        points: &mut Vec<[f64; 3]>,
    ) -> Parsed<Self::Item>;

    /// Appends `rec` with its points replaced by `converted` (as many as it pushed) to `out`.
    fn write(
        &self,
        bytes: &[u8],
        rec: &Rec,
        item: Self::Item,
        converted: &[[f64; 3]],
        out: &mut Vec<u8>,
    ) -> Self::Note;

    /// As [`write`](Self::write), for a format whose records can fail to be written after
    /// their points converted (what it appended to `out` before failing is discarded): the
    /// runner calls this,
    /// and an error fails the record like a point that cannot be converted (its location,
    /// [`ConvertOptions::skip_invalid`], the text before it kept). By default it calls `write`,
    /// which cannot fail.
    fn try_write(
        &self,
        bytes: &[u8],
        rec: &Rec,
        item: Self::Item,
        converted: &[[f64; 3]],
        out: &mut Vec<u8>,
    ) -> Result<Self::Note, WriteFailure<Self::Item>> {
        Ok(self.write(bytes, rec, item, converted, out))
    }

    /// How many vertices a converted record counts in [`ConvertReport::vertices`], of the
    /// `pushed` points it pushed (by default all; fewer for a format that pushes helper points,
    /// e.g. DXF's probes of a local frame).
    fn vertices(&self, _note: &Self::Note, pushed: usize) -> u64 {
        pushed as u64
    }

    /// What a failure's location says after `line N`, e.g. ` (id "A-17")`; nothing by default.
    fn label(&self, _bytes: &[u8], _rec: &Rec, _item: &Self::Item) -> String {
        String::new()
    }
}

/// What became of one record, as the merge sees it.
pub(crate) enum Outcome<N> {
    /// Copied, not a feature.
    Pass,
    /// Written with its `vertices` converted (0: a feature without geometry, copied).
    Converted { vertices: u64, note: N },
    /// Not written: a point cannot be converted (or a value read). `label` follows `line N`.
    Failed { label: String, reason: String },
    /// Bad syntax: the conversion stops.
    Malformed(String),
}

/// Consecutive records converted: their output text, and for each record its outcome and where
/// its text starts in `text`.
struct Part<N> {
    text: Vec<u8>,
    outcomes: Vec<Outcome<N>>,
    starts: Vec<usize>,
    /// The part's first [`Parsed::MalformedAt`]: its index in the part and its line.
    malformed_at: Option<(usize, u64)>,
}

/// Where a conversion reads from and writes to, and how.
pub(crate) struct Run<'a> {
    pub(crate) transformer: &'a Transformer,
    pub(crate) options: &'a ConvertOptions,
    /// The input's name in errors and failures.
    pub(crate) input: &'a Path,
    /// The output's name in errors.
    pub(crate) output: &'a Path,
    pub(crate) progress: &'a dyn Progress,
    pub(crate) limits: Limits,
}

impl Run<'_> {
    /// Converts every record of `source` through `format` into `output`, in order, counting
    /// into `report` and `tally`. `observe` sees each outcome first, in input order (for what a
    /// format checks across records, e.g. the first EWKT SRID); its error stops the conversion.
    /// The caller ends with [`Tally::finish`].
    pub(crate) fn records<F, S, W>(
        &self,
        format: &F,
        source: &mut S,
        output: &mut W,
        report: &mut ConvertReport,
        tally: &mut Tally,
        mut observe: impl FnMut(&Rec, &Outcome<F::Note>, &mut ConvertReport) -> Result<(), ConvertError>,
    ) -> Result<(), ConvertError>
    where
        F: RecordFormat,
        S: RecordSource,
        W: Write + ?Sized,
    {
        let io_out = |source| ConvertError::Io { path: self.output.to_path_buf(), source };
        let mut bytes = Vec::new();
        let mut recs: Vec<Rec> = Vec::new();
        loop {
            bytes.clear();
            recs.clear();
            let mut more = true;
            while recs.len() < self.limits.records && bytes.len() < self.limits.bytes {
                match source.next_record(&mut bytes)? {
                    Some(rec) => recs.push(rec),
                    None => {
                        more = false;
                        break;
                    }
                }
            }
            if recs.is_empty() {
                break;
            }
            let convert = |part: &[Rec]| convert_part(format, self.transformer, &bytes, part);
            let (parts, size): (Vec<Part<F::Note>>, usize) = if self.options.parallel {
                let size = part_len(recs.len(), rayon::current_num_threads());
                (recs.par_chunks(size).map(convert).collect(), size)
            } else {
                (recs.chunks(PART_RECORDS).map(convert).collect(), PART_RECORDS)
            };
            for (part, part_recs) in parts.into_iter().zip(recs.chunks(size)) {
                // The part's text up to the first record that fails the conversion is written
                // (failed records have no text); after it, nothing.
                let mut written_to = if tally.failed() { Some(0) } else { None };
                for (k, ((rec, outcome), &text_start)) in
                    part_recs.iter().zip(part.outcomes).zip(&part.starts).enumerate()
                {
                    // A stop writes the text before this record first, as a record-by-record
                    // writer would have (a stream's output then shows how far it got).
                    let stop = |e: ConvertError, output: &mut W| {
                        let end = written_to.unwrap_or(text_start);
                        output.write_all(&part.text[..end]).map_err(io_out)?;
                        Err(e)
                    };
                    if let Err(e) = observe(rec, &outcome, report) {
                        return stop(e, output);
                    }
                    match outcome {
                        Outcome::Pass => {}
                        Outcome::Converted { vertices, .. } => {
                            report.features += 1;
                            report.vertices += vertices;
                            report.empty += u64::from(vertices == 0);
                        }
                        Outcome::Failed { label, reason } => {
                            report.features += 1;
                            let location = format!("line {}{label}", rec.line);
                            tally.record(
                                report,
                                self.options.skip_invalid,
                                Failure { location, reason },
                            );
                            if tally.failed() && written_to.is_none() {
                                written_to = Some(text_start);
                            }
                        }
                        Outcome::Malformed(message) => {
                            let line = match part.malformed_at {
                                Some((i, line)) if i == k => line,
                                _ => rec.line,
                            };
                            let e = ConvertError::Malformed {
                                path: self.input.to_path_buf(),
                                location: format!("line {line}"),
                                message,
                            };
                            return stop(e, output);
                        }
                    }
                }
                let end = written_to.unwrap_or(part.text.len());
                output.write_all(&part.text[..end]).map_err(io_out)?;
            }
            self.progress.advance(bytes.len() as u64);
            if !more {
                break;
            }
        }
        Ok(())
    }
}

/// Converts the records `recs` of `bytes`: parses them, transforms their points in one batch,
/// writes their text.
fn convert_part<F: RecordFormat>(
    format: &F,
    transformer: &Transformer,
    bytes: &[u8],
    recs: &[Rec],
) -> Part<F::Note> {
    let mut points: Vec<[f64; 3]> = Vec::with_capacity(recs.len());
    let mut scratch = F::Scratch::default();
    let parsed: Vec<(Parsed<F::Item>, usize)> = recs
        .iter()
        .map(|rec| {
            let first = points.len();
            (format.parse(&mut scratch, bytes, rec, &mut points), first)
        })
        .collect();
    let batch = transformer.transform_slice(&mut points);
    let mut failures = batch.failures.into_iter().peekable();
    let size = recs.last().map_or(0, |r| r.end) - recs.first().map_or(0, |r| r.start);
    let mut part = Part {
        text: Vec::with_capacity(size + size / 4),
        outcomes: Vec::with_capacity(recs.len()),
        starts: Vec::with_capacity(recs.len()),
        malformed_at: None,
    };
    for (rec, (parsed, first)) in recs.iter().zip(parsed) {
        part.starts.push(part.text.len());
        let outcome = match parsed {
            Parsed::Pass => {
                part.text.extend_from_slice(&bytes[rec.start..rec.end]);
                Outcome::Pass
            }
            Parsed::Failed(reason) => Outcome::Failed { label: String::new(), reason },
            Parsed::Malformed(message) => Outcome::Malformed(message),
            Parsed::MalformedAt(line, message) => {
                part.malformed_at.get_or_insert((part.outcomes.len(), line));
                Outcome::Malformed(message)
            }
            Parsed::Feature { item, points: n } => {
                let end = first + n;
                // The record's first failed point, and none of its others, is reported.
                let failed = failures.next_if(|f| f.index < end);
                while failures.next_if(|f| f.index < end).is_some() {}
                match failed {
                    Some(f) => Outcome::Failed {
                        label: format.label(bytes, rec, &item),
                        reason: f.error.to_string(),
                    },
                    None => {
                        let at = part.text.len();
                        match format.try_write(
                            bytes,
                            rec,
                            item,
                            &points[first..end],
                            &mut part.text,
                        ) {
                            Ok(note) => {
                                Outcome::Converted { vertices: format.vertices(&note, n), note }
                            }
                            Err(WriteFailure { item, reason }) => {
                                part.text.truncate(at);
                                Outcome::Failed { label: format.label(bytes, rec, &item), reason }
                            }
                        }
                    }
                }
            }
        };
        part.outcomes.push(outcome);
    }
    part
}

/// One record per line (`\n` or `\r\n`, kept), each at most `max` bytes: WKT lines, CASS point
/// lines. Tracks whether any line holds more than whitespace (a UTF-8 byte-order mark on the
/// first line does not count), for the formats that refuse an empty file.
pub(crate) struct Lines<'p, R> {
    input: R,
    line: u64,
    max: u64,
    path: &'p Path,
    content: bool,
}

impl<'p, R: BufRead> Lines<'p, R> {
    /// Lines of `input` (named `path` in errors), each at most `max` bytes.
    pub(crate) fn new(input: R, max: u64, path: &'p Path) -> Self {
        Self { input, line: 0, max, path, content: false }
    }

    /// Whether a line read so far holds more than whitespace.
    pub(crate) fn seen_content(&self) -> bool {
        self.content
    }
}

impl<R: BufRead> RecordSource for Lines<'_, R> {
    fn next_record(&mut self, buf: &mut Vec<u8>) -> Result<Option<Rec>, ConvertError> {
        let start = buf.len();
        let n = text::read_line_bounded(&mut self.input, buf, self.max)
            .map_err(|source| ConvertError::Io { path: self.path.to_path_buf(), source })?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        if n as u64 >= self.max && buf.last() != Some(&b'\n') {
            return Err(ConvertError::Malformed {
                path: self.path.to_path_buf(),
                location: format!("line {}", self.line),
                message: format!("a line longer than {} MiB", self.max >> 20),
            });
        }
        let line = &buf[start..];
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        let body_end = start + body.len();
        if !self.content {
            let body = if self.line == 1 {
                body.strip_prefix(text::UTF8_BOM).unwrap_or(body)
            } else {
                body
            };
            self.content = !body.iter().all(u8::is_ascii_whitespace);
        }
        Ok(Some(Rec { start, body_end, end: buf.len(), line: self.line }))
    }
}

/// Transforms the points of records held in memory (binary formats: Shapefile records,
/// GeoPackage geometry blobs), batched: the records are cut into parts converted in parallel
/// (with `parallel`); in each, `gather` pushes every record's points `[x, y, z]` (z = 0 without
/// a height) and says whether the record takes part (`false`: it settled its own outcome, e.g.
/// malformed or without geometry), the part's points go through
/// [`Transformer::transform_slice`] once, and `scatter` gets each taking part record's
/// converted points (as many as it pushed) or its first point's error.
pub(crate) fn in_place<T: Send>(
    transformer: &Transformer,
    parallel: bool,
    items: &mut [T],
    gather: impl Fn(&mut T, &mut Vec<[f64; 3]>) -> bool + Sync,
    scatter: impl Fn(&mut T, Result<&[[f64; 3]], crate::error::PointError>) + Sync,
) {
    let part = |items: &mut [T]| {
        // The thread's points buffer, reused from part to part (a fresh one per part is grown
        // and page-faulted in again each time).
        let mut points = POINTS.with(|p| std::mem::take(&mut *p.borrow_mut()));
        points.clear();
        let mut spans = Vec::with_capacity(items.len());
        for item in items.iter_mut() {
            let first = points.len();
            let takes_part = gather(item, &mut points);
            spans.push(takes_part.then_some(first..points.len()));
        }
        let batch = transformer.transform_slice(&mut points);
        let mut failures = batch.failures.into_iter().peekable();
        for (item, span) in items.iter_mut().zip(spans) {
            let Some(span) = span else { continue };
            let failed = failures.next_if(|f| f.index < span.end);
            while failures.next_if(|f| f.index < span.end).is_some() {}
            match failed {
                Some(f) => scatter(item, Err(f.error)),
                None => scatter(item, Ok(&points[span])),
            }
        }
        if points.capacity() <= KEEP_POINTS {
            POINTS.with(|p| *p.borrow_mut() = points);
        }
    };
    if parallel && items.len() > 1 {
        items.par_chunks_mut(part_len(items.len(), rayon::current_num_threads())).for_each(part);
    } else {
        items.chunks_mut(PART_RECORDS).for_each(part);
    }
}

/// The most points a thread keeps in its buffer between parts (24 MiB).
const KEEP_POINTS: usize = 1 << 20;

thread_local! {
    /// The points buffer of [`in_place`]'s parts on this thread.
    static POINTS: std::cell::RefCell<Vec<[f64; 3]>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Records per parallel part of `len` records on `threads` threads: [`PARTS_PER_THREAD`] parts
/// per thread, so that the threads finish together (one part of [`PART_RECORDS`] and a short
/// remainder kept one thread busy alone), of [`MIN_PART_RECORDS`] to [`PART_RECORDS`] records.
fn part_len(len: usize, threads: usize) -> usize {
    len.div_ceil(threads.max(1) * PARTS_PER_THREAD).clamp(MIN_PART_RECORDS, PART_RECORDS)
}

/// Parallel parts per thread of one [`in_place`] call.
const PARTS_PER_THREAD: usize = 4;

/// The fewest records of a parallel part (a smaller part costs more to hand out than to do).
const MIN_PART_RECORDS: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;

    #[test]
    fn parts_are_even_and_bounded() {
        // Two threads, 4,900 records: eight parts of 613 (the last 609), not 4,096 and 804.
        assert_eq!(part_len(4_900, 2), 613);
        assert_eq!(part_len(100, 2), MIN_PART_RECORDS);
        assert_eq!(part_len(1_000_000, 2), PART_RECORDS);
        assert_eq!(part_len(10, 0), MIN_PART_RECORDS);
    }

    /// Lines `x y [tag]`; writing fails on the tag `unwritable`.
    struct Pairs;

    impl RecordFormat for Pairs {
        type Item = bool;
        type Note = ();
        type Scratch = ();

        fn parse(
            &self,
            _: &mut (),
            bytes: &[u8],
            rec: &Rec,
            points: &mut Vec<[f64; 3]>,
        ) -> Parsed<bool> {
            let text = String::from_utf8_lossy(&bytes[rec.body()]).into_owned();
            let words: Vec<&str> = text.split_whitespace().collect();
            match words.as_slice() {
                [] => Parsed::Pass,
                [x, y, rest @ ..] => match (x.parse(), y.parse()) {
                    (Ok(x), Ok(y)) => {
                        points.push([x, y, 0.0]);
                        Parsed::Feature { item: rest == ["unwritable"], points: 1 }
                    }
                    _ => Parsed::Failed("not numbers".into()),
                },
                _ => Parsed::MalformedAt(rec.line + 100, "one word".into()),
            }
        }

        fn write(&self, _: &[u8], _: &Rec, _: bool, _: &[[f64; 3]], _: &mut Vec<u8>) {
            unreachable!("the runner calls try_write")
        }

        fn try_write(
            &self,
            _: &[u8],
            _: &Rec,
            unwritable: bool,
            converted: &[[f64; 3]],
            out: &mut Vec<u8>,
        ) -> Result<(), WriteFailure<bool>> {
            for p in converted {
                out.extend_from_slice(format!("{:.3} {:.3}", p[0], p[1]).as_bytes());
            }
            if unwritable {
                return Err(WriteFailure { item: unwritable, reason: "cannot be written".into() });
            }
            out.push(b'\n');
            Ok(())
        }

        fn label(&self, _: &[u8], _: &Rec, item: &bool) -> String {
            format!(" (unwritable: {item})")
        }
    }

    fn run(input: &str, skip_invalid: bool) -> (Vec<u8>, Result<ConvertReport, ConvertError>) {
        let source = catalogue::lookup("EPSG:4547").unwrap();
        let transformer = Transformer::new(&source, &source).unwrap();
        let options = ConvertOptions { skip_invalid, ..ConvertOptions::default() };
        let run = Run {
            transformer: &transformer,
            options: &options,
            input: Path::new("in.txt"),
            output: Path::new("out.txt"),
            progress: &super::super::NoProgress,
            limits: Limits { records: 2, bytes: 1 << 20 },
        };
        let mut out = Vec::new();
        let mut report = ConvertReport::default();
        let mut tally = Tally::default();
        let mut lines = Lines::new(input.as_bytes(), 1 << 20, Path::new("in.txt"));
        let result = run
            .records(&Pairs, &mut lines, &mut out, &mut report, &mut tally, |_, _, _| Ok(()))
            .and_then(|()| tally.finish(&mut report, Path::new("in.txt")))
            .map(|()| report);
        (out, result)
    }

    #[test]
    fn a_failed_write_fails_its_record_with_its_location() {
        let input = "500000 3000000\n500001 3000001\n500002 3000002 unwritable\n500003 3000003\n";
        let (out, result) = run(input, false);
        let e = result.unwrap_err().to_string();
        assert!(e.contains("line 3 (unwritable: true): cannot be written"), "{e}");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "500000.000 3000000.000\n500001.000 3000001.000\n",
            "the output before the failed record is kept, nothing of it or after it"
        );

        let (out, result) = run(input, true);
        let report = result.unwrap();
        assert_eq!((report.features, report.written), (4, 3));
        assert_eq!(report.skipped[0].location, "line 3 (unwritable: true)");
        assert_eq!(report.skipped[0].reason, "cannot be written");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "500000.000 3000000.000\n500001.000 3000001.000\n500003.000 3000003.000\n",
            "skip_invalid leaves the record out, its partial text too"
        );
    }

    #[test]
    fn malformed_at_names_its_own_line() {
        let (_, result) = run("1 2\nword\n", false);
        let e = result.unwrap_err().to_string();
        assert!(e.contains("line 102: one word"), "{e}");
    }
}
