//! WKT lines: one geometry per line, `WKT` or `id<sep>WKT`.
//!
//! **Lines.** A line that starts (after spaces) with a geometry keyword has no id; otherwise the
//! id is everything before the first tab, `;` or `,` that is followed (after optional spaces) by
//! a keyword or by an EWKT `SRID=n;` prefix. Keywords, case-insensitive: `POINT`, `LINESTRING`,
//! `POLYGON`, `MULTIPOINT`, `MULTILINESTRING`, `MULTIPOLYGON`, `GEOMETRYCOLLECTION`, each with an
//! optional `Z`, `M` or `ZM` tag (separate or attached: `POINT Z`, `POINTZ`) and `EMPTY` for the
//! whole geometry or any part of it. `MULTIPOINT` takes points with or without their own
//! parentheses. Blank lines and lines starting with `#` are copied unchanged and are not
//! features.
//!
//! **Coordinates.** Every byte except the coordinate numbers is copied (the id, spaces,
//! keyword spelling, line endings, a UTF-8 byte-order mark). A tuple has 2 numbers (XY), 3 with
//! `Z` (XYZ, converted in 3D) or with `M` (XYM: M is a measure, copied unchanged, and the point
//! is converted in 2D), 4 with `ZM`; without a tag every tuple of a geometry must have the same
//! count as its first (3 = XYZ, 4 = XYZM). Converted numbers are written in the shortest form
//! that reads back exactly ([`Number`]).
//!
//! **EWKT.** An `SRID=n;` prefix gets the target CRS's EPSG code; if the target has none, the
//! prefix is removed and the report says so. An SRID that is not the source's EPSG code is
//! reported as a warning (the data may not be in the declared source CRS).
//!
//! **Empty input.** A file with nothing but whitespace (or a byte-order mark) is a
//! [`ConvertError::Malformed`] at `line 1` ("the file is empty"), never an empty output; a file of
//! comment lines only is a valid file with no features.
//!
//! **Errors.** A line whose syntax is wrong (unbalanced parentheses, unknown keyword, a tuple
//! with the wrong number of numbers, text after the geometry) is a [`ConvertError::Malformed`]
//! at `line N`, even with [`ConvertOptions::skip_invalid`]: `skip_invalid` is about points that
//! cannot be converted (they fail their line; with `skip_invalid` the line is left out and listed
//! as `line N` or `line N (id "A-17")`).
//!
//! **Encodings.** UTF-8 (ids may be Chinese) or, with [`ConvertOptions::encoding`], GBK or
//! GB 18030: the separators (tab, `;`, `,`) and line endings are below 0x40 and so never part of
//! a multi-byte character in these encodings; ids are copied as bytes. The geometry itself is
//! ASCII.
//!
//! **Memory.** Lines are read in chunks of at most 65 536 lines or 16 MiB, converted (in parallel
//! with [`ConvertOptions::parallel`]) and written in order; a line may be at most 64 MiB long.

use super::features::{Coord, Geometry, Shape};
use super::runner::{self, Outcome, Parsed, Rec};
use super::text::{self, Number};
use super::Tally;
use super::{ConvertError, ConvertOptions, ConvertReport, Job, NoProgress, Progress, TextEncoding};
use crate::crs::Crs;
use crate::transformer::Transformer;
use std::io::{BufRead, BufReader, Write};
use std::ops::Range;
use std::path::Path;

/// Lines per chunk.
const CHUNK_LINES: usize = 65_536;
/// Bytes per chunk (a chunk ends after the line that crosses this).
const CHUNK_BYTES: usize = 16 << 20;
/// The longest line accepted.
const MAX_LINE: u64 = super::MAX_RECORD_BYTES;
/// The deepest nesting of geometry collections accepted.
const MAX_DEPTH: usize = 32;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Geometry keywords (uppercase).
const KEYWORDS: [&str; 7] = [
    "POINT",
    "LINESTRING",
    "POLYGON",
    "MULTIPOINT",
    "MULTILINESTRING",
    "MULTIPOLYGON",
    "GEOMETRYCOLLECTION",
];

/// Converts `job.input` to `job.output`, through a temporary file renamed only on success.
pub fn convert_file(job: &Job<'_>) -> Result<ConvertReport, ConvertError> {
    let ctx = Context {
        transformer: job.transformer,
        options: job.options,
        srid: Srid::of(job.source, job.target),
        input: job.input,
        output: job.output,
        declared_source: None,
    };
    super::through_temporary(job, |file, out| {
        run(BufReader::with_capacity(1 << 20, file), out, &ctx, job.progress)
    })
}

/// Converts WKT lines read from `input` (in `source`) into `output` (in `target`) with
/// `transformer` (`source` → `target`), for in-memory use; as for files (see the module
/// documentation). `source` and `target` give the EWKT `SRID=` codes. Errors name the path
/// `<stream>`. As [`convert_file`](super::convert_file) does for files, the `SRID=` of the
/// first geometry line is the input's declared CRS: one that contradicts `source` is
/// [`ConvertError::DeclaredCrsMismatch`] (before that line is written) unless
/// [`ConvertOptions::force`] (then a warning).
///
/// On an error `output` may hold part of the result and must be discarded (files converted with
/// [`convert_file`](super::convert_file) are never left half-written). `report.outputs` is empty.
pub fn convert_reader<R: BufRead, W: Write>(
    input: R,
    mut output: W,
    source: &Crs,
    target: &Crs,
    transformer: &Transformer,
    options: &ConvertOptions,
) -> Result<ConvertReport, ConvertError> {
    let stream = Path::new("<stream>");
    let ctx = Context {
        transformer,
        options,
        srid: Srid::of(source, target),
        input: stream,
        output: stream,
        declared_source: Some(source),
    };
    let report = run(input, &mut output, &ctx, &NoProgress)?;
    output.flush().map_err(|source| ConvertError::Io { path: stream.to_path_buf(), source })?;
    Ok(report)
}

/// Up to `max` coordinates `[x, y, z]` (z = 0 without Z) from the first lines, for the sanity
/// check; malformed lines are passed over (the conversion reports them).
pub(crate) fn sample(job: &Job<'_>, max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
    let file = super::open_regular(job.input)?;
    let mut reader = BufReader::new(file);
    let mut samples = Vec::new();
    let mut buf = Vec::new();
    let mut first = true;
    while samples.len() < max {
        buf.clear();
        let n = text::read_line_bounded(&mut reader, &mut buf, MAX_LINE)
            .map_err(|source| ConvertError::Io { path: job.input.to_path_buf(), source })?;
        if n == 0 {
            break;
        }
        let mut body = strip_line_ending(&buf);
        if first {
            body = body.strip_prefix(UTF8_BOM).unwrap_or(body);
            first = false;
        }
        if let Ok(Some(parsed)) = parse_line(body) {
            for t in &parsed.tuples {
                if samples.len() < max {
                    samples.push([
                        t.values[0],
                        t.values[1],
                        if t.has_z { t.values[2] } else { 0.0 },
                    ]);
                }
            }
        }
    }
    Ok(samples)
}

/// The EWKT `SRID=n;` of the first geometry line, with its line number (1-based), for
/// [`declared`](super::declared); `None` if that line has none, or no line parses before the
/// end (the conversion reports malformed lines).
pub(crate) fn first_srid(path: &Path) -> Result<Option<(u64, u32)>, ConvertError> {
    let io = |source| ConvertError::Io { path: path.to_path_buf(), source };
    use std::io::Read as _;
    let mut reader = BufReader::new(std::fs::File::open(path).map_err(io)?);
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = (&mut reader).take(MAX_LINE).read_until(b'\n', &mut buf).map_err(io)?;
        if n == 0 {
            return Ok(None);
        }
        line += 1;
        let mut body = strip_line_ending(&buf);
        if line == 1 {
            body = body.strip_prefix(UTF8_BOM).unwrap_or(body);
        }
        match parse_line(body) {
            Ok(None) => continue,
            Ok(Some(parsed)) => return Ok(parsed.srid.map(|s| (line, s.value))),
            Err(_) => return Ok(None),
        }
    }
}

/// The EPSG codes for `SRID=` prefixes.
#[derive(Debug, Clone, Copy)]
struct Srid {
    source: Option<u32>,
    target: Option<u32>,
}

impl Srid {
    fn of(source: &Crs, target: &Crs) -> Self {
        Self { source: source.epsg(), target: target.epsg() }
    }
}

/// Everything a conversion run needs.
struct Context<'a> {
    transformer: &'a Transformer,
    options: &'a ConvertOptions,
    srid: Srid,
    input: &'a Path,
    output: &'a Path,
    /// [`convert_reader`]: check the first geometry line's `SRID=` against this source CRS
    /// (files were checked by `convert_file` before).
    declared_source: Option<&'a Crs>,
}

fn strip_line_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The conversion proper.
fn run<R: BufRead, W: Write + ?Sized>(
    input: R,
    output: &mut W,
    ctx: &Context<'_>,
    progress: &dyn Progress,
) -> Result<ConvertReport, ConvertError> {
    let encoding = ctx.options.encoding.unwrap_or(TextEncoding::Utf8);
    let mut report = ConvertReport::default();
    let mut tally = Tally::default();
    let mut dropped_srids: u64 = 0;
    let mut srid_mismatch_warned = false;
    // The first geometry line was met (its SRID= is the declaration, checked for streams).
    let mut first_geometry = false;
    let mut lines = runner::Lines::new(input, MAX_LINE, ctx.input);
    let run = runner::Run {
        transformer: ctx.transformer,
        options: ctx.options,
        input: ctx.input,
        output: ctx.output,
        progress,
        limits: runner::Limits { records: CHUNK_LINES, bytes: CHUNK_BYTES },
    };
    let format = WktLines { target_srid: ctx.srid.target, encoding };
    let observe = |rec: &Rec, outcome: &Outcome<Option<u32>>, report: &mut ConvertReport| {
        let srid = match outcome {
            Outcome::Converted { note, .. } => *note,
            Outcome::Failed { .. } => {
                first_geometry = true;
                return Ok(());
            }
            Outcome::Pass | Outcome::Malformed(_) => return Ok(()),
        };
        if !std::mem::replace(&mut first_geometry, true) {
            if let (Some(source), Some(code)) = (ctx.declared_source, srid) {
                let origin = format!("line {} (SRID={code})", rec.line);
                let d = super::declared::DeclaredCrs::from_epsg(code, &origin);
                let notes =
                    super::judge_declarations(ctx.input, vec![d], source, ctx.options.force)?;
                report.warnings.extend(notes);
            }
        }
        if let Some(n) = srid {
            if ctx.srid.target.is_none() {
                dropped_srids += 1;
            }
            if ctx.srid.source.is_some_and(|s| s != n) && !srid_mismatch_warned {
                srid_mismatch_warned = true;
                report.warnings.push(format!(
                    "line {}: SRID={n} but the source CRS is EPSG:{}; check that the data is in \
                     the declared source CRS",
                    rec.line,
                    ctx.srid.source.unwrap_or_default()
                ));
            }
        }
        Ok(())
    };
    run.records(&format, &mut lines, output, &mut report, &mut tally, observe)?;
    if !lines.seen_content() {
        // Nothing but whitespace: an empty output would pass for a successful conversion.
        return Err(ConvertError::Malformed {
            path: ctx.input.to_path_buf(),
            location: "line 1".into(),
            message: "the file is empty (only whitespace, no WKT line): nothing to convert".into(),
        });
    }
    tally.finish(&mut report, ctx.input)?;
    if dropped_srids > 0 {
        report.warnings.push(format!(
            "{dropped_srids} EWKT SRID= prefix(es) removed: the target CRS has no EPSG code"
        ));
    }
    Ok(report)
}

/// WKT lines, as the runner converts them: a line's tuples are its points (XYM and tuples
/// without Z with height 0, their M copied), the note is its EWKT SRID.
struct WktLines {
    /// The target's EPSG code for `SRID=` prefixes (`None`: prefixes are removed).
    target_srid: Option<u32>,
    encoding: TextEncoding,
}

impl WktLines {
    /// A line's body without a UTF-8 byte-order mark on line 1, and the mark's length.
    fn body<'b>(bytes: &'b [u8], rec: &Rec) -> (&'b [u8], usize) {
        let body = &bytes[rec.body()];
        match body.strip_prefix(UTF8_BOM) {
            Some(rest) if rec.line == 1 => (rest, UTF8_BOM.len()),
            _ => (body, 0),
        }
    }
}

impl runner::RecordFormat for WktLines {
    type Item = Line;
    type Note = Option<u32>;
    type Scratch = ();

    fn parse(
        &self,
        _: &mut (),
        bytes: &[u8],
        rec: &Rec,
        points: &mut Vec<[f64; 3]>,
    ) -> Parsed<Line> {
        let (body, _) = Self::body(bytes, rec);
        match parse_line(body) {
            Ok(Some(line)) => {
                for t in &line.tuples {
                    let z = if t.has_z { t.values[2] } else { 0.0 };
                    points.push([t.values[0], t.values[1], z]);
                }
                let n = line.tuples.len();
                Parsed::Feature { item: line, points: n }
            }
            Ok(None) => Parsed::Pass,
            Err(message) => Parsed::Malformed(message),
        }
    }

    fn write(
        &self,
        bytes: &[u8],
        rec: &Rec,
        line: Line,
        converted: &[[f64; 3]],
        out: &mut Vec<u8>,
    ) -> Option<u32> {
        let raw = &bytes[rec.start..rec.end];
        let (_, offset) = Self::body(bytes, rec);
        let mut at = 0;
        if let Some(s) = &line.srid {
            match self.target_srid {
                Some(t) => {
                    out.extend_from_slice(&raw[..s.digits.start + offset]);
                    out.extend_from_slice(t.to_string().as_bytes());
                    at = s.digits.end + offset;
                }
                None => {
                    out.extend_from_slice(&raw[..s.whole.start + offset]);
                    at = s.whole.end + offset;
                }
            }
        }
        for (t, q) in line.tuples.iter().zip(converted) {
            let n = if t.has_z { 3 } else { 2 };
            for (r, &v) in t.ranges.iter().zip(q).take(n) {
                out.extend_from_slice(&raw[at..r.start + offset]);
                Number(v).push_to(out);
                at = r.end + offset;
            }
        }
        out.extend_from_slice(&raw[at..]);
        line.srid.map(|s| s.value)
    }

    fn label(&self, bytes: &[u8], rec: &Rec, line: &Line) -> String {
        let (body, _) = Self::body(bytes, rec);
        match &line.id {
            Some(r) => format!(" (id \"{}\")", shown(&body[r.clone()], self.encoding)),
            None => String::new(),
        }
    }
}

/// An id for a message: decoded (lossily), trimmed, at most 40 characters.
fn shown(bytes: &[u8], encoding: TextEncoding) -> String {
    let text = match text::decode(bytes, encoding) {
        Ok(t) => t.into_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    };
    let text = text.trim();
    let mut out: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// One coordinate tuple: its values and their byte ranges in the line body.
#[derive(Debug, Clone, PartialEq)]
struct Tuple {
    values: [f64; 4],
    ranges: [Range<usize>; 4],
    /// Whether the third number is a height (XYZ, XYZM) rather than a measure (XYM).
    has_z: bool,
}

/// An EWKT `SRID=n;` prefix: the whole prefix, its digits and their value.
#[derive(Debug, Clone, PartialEq)]
struct SridPrefix {
    whole: Range<usize>,
    digits: Range<usize>,
    value: u32,
}

/// A parsed line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    /// The id column's bytes in the line body, if the line has one (the geometry starts after
    /// the separator that follows it).
    pub(crate) id: Option<Range<usize>>,
    srid: Option<SridPrefix>,
    tuples: Vec<Tuple>,
}

/// Parses a line body: `Ok(None)` for a blank or comment line, `Err(message)` if malformed.
pub(crate) fn parse_line(body: &[u8]) -> Result<Option<Line>, String> {
    let lead = body.iter().take_while(|b| is_space(**b)).count();
    if lead == body.len() || body[lead] == b'#' {
        return Ok(None);
    }
    // The first separator followed by a geometry keyword, if any.
    let sep = body
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b, b'\t' | b';' | b','))
        .map(|(i, _)| i)
        .find(|&i| {
            let after = i + 1 + body[i + 1..].iter().take_while(|b| is_space(**b)).count();
            starts_geometry(body, after)
        });
    if starts_geometry(body, lead) {
        // No id, unless the line only looks like it starts with a keyword (an id such as
        // `Point A;POINT (1 2)`): then the id form is tried, and the first error reported.
        match parse_geometry(body, None, lead) {
            Ok(line) => Ok(Some(line)),
            Err(first) => match sep.filter(|_| !starts_with_srid(&body[lead..])) {
                Some(sep) => {
                    parse_geometry(body, Some(0..sep), sep + 1).map(Some).map_err(|_| first)
                }
                None => Err(first),
            },
        }
    } else {
        let sep = sep.ok_or_else(|| {
            "no WKT geometry: expected `WKT` or `id<tab, ; or ,>WKT` with a keyword such as \
             POINT or POLYGON"
                .to_string()
        })?;
        parse_geometry(body, Some(0..sep), sep + 1).map(Some)
    }
}

/// A coordinate tuple of a WKT cell (a CSV `wkt` column): `[x, y, z]` (z = 0 without a height),
/// the byte ranges of its x, y and (with a height) z in the cell, and whether it has a height.
pub(crate) type CellTuple = ([f64; 3], [Range<usize>; 3], bool);

/// The coordinate tuples of the WKT geometry that fills `cell` (leading and trailing spaces
/// allowed), as a same-format CSV conversion rewrites them in place: `Ok(None)` for a blank
/// cell (no geometry); `Err(message)` if it is not WKT, or has an EWKT `SRID=` prefix (a CSV
/// cell keeps no CRS of its own here: the prefix would be left naming the source's).
pub(crate) fn cell_tuples(cell: &[u8]) -> Result<Option<Vec<CellTuple>>, String> {
    if cell.iter().all(|b| is_space(*b)) {
        return Ok(None);
    }
    let line = parse_geometry(cell, None, 0)?;
    if line.srid.is_some() {
        return Err("an EWKT SRID= prefix in a CSV cell is not converted; remove it".into());
    }
    let tuples = line
        .tuples
        .into_iter()
        .map(|t| {
            let z = if t.has_z { t.values[2] } else { 0.0 };
            let [x, y, third, _] = t.ranges;
            ([t.values[0], t.values[1], z], [x, y, if t.has_z { third } else { 0..0 }], t.has_z)
        })
        .collect();
    Ok(Some(tuples))
}

/// Parses the geometry (with an optional `SRID=n;` prefix) that starts at byte `start` and must
/// fill the rest of the line.
fn parse_geometry(body: &[u8], id: Option<Range<usize>>, start: usize) -> Result<Line, String> {
    let mut p = Parser { s: body, i: start, tuples: Vec::new(), marks: None };
    p.spaces();
    let srid = p.srid()?;
    p.spaces();
    let mut slot = None;
    p.geometry(None, &mut slot, 0)?;
    p.spaces();
    if p.i < body.len() {
        return Err(format!("unexpected text after the geometry at column {}", p.i + 1));
    }
    Ok(Line { id, srid, tuples: p.tuples })
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r')
}

/// Whether `bytes` start with `SRID=` (any case).
fn starts_with_srid(bytes: &[u8]) -> bool {
    bytes.len() >= 5 && bytes[..5].eq_ignore_ascii_case(b"SRID=")
}

/// Whether a geometry (keyword or `SRID=`) starts at `at`.
pub(crate) fn starts_geometry(s: &[u8], at: usize) -> bool {
    let rest = &s[at.min(s.len())..];
    if starts_with_srid(rest) {
        return true;
    }
    let word: Vec<u8> =
        rest.iter().take_while(|b| b.is_ascii_alphabetic()).map(u8::to_ascii_uppercase).collect();
    let after = rest.get(word.len()).copied();
    if after.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return false;
    }
    std::str::from_utf8(&word).ok().and_then(split_keyword).is_some()
}

/// A dimension tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Z,
    M,
    Zm,
}

impl Tag {
    fn parse(word: &str) -> Option<Tag> {
        match word {
            "Z" => Some(Tag::Z),
            "M" => Some(Tag::M),
            "ZM" => Some(Tag::Zm),
            _ => None,
        }
    }
}

/// `word` (uppercase) as a keyword with an optional attached tag (`POINTZ`).
fn split_keyword(word: &str) -> Option<(usize, Option<Tag>)> {
    let k = KEYWORDS.iter().position(|k| *k == word);
    if let Some(k) = k {
        return Some((k, None));
    }
    for suffix in ["ZM", "Z", "M"] {
        if let Some(stem) = word.strip_suffix(suffix) {
            if let Some(k) = KEYWORDS.iter().position(|k| *k == stem) {
                return Some((k, Tag::parse(suffix)));
            }
        }
    }
    None
}

/// A recursive-descent WKT parser over a line's bytes.
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    tuples: Vec<Tuple>,
    /// The structure met, for building shapes ([`read_geometry`]); `None` when only the tuples
    /// are wanted (a same-format conversion).
    marks: Option<Vec<Mark>>,
}

/// A step of a geometry's structure, in the order the parser meets it (see [`Build`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// A geometry (its index in [`KEYWORDS`]) starts; its content follows, then [`Mark::End`].
    Geometry(usize),
    /// An `EMPTY` geometry (its index in [`KEYWORDS`]).
    Empty(usize),
    /// A part (ring, line, polygon) starts; its content follows, then [`Mark::End`].
    Part,
    /// An `EMPTY` part (or point of a multipoint).
    EmptyPart,
    /// The next tuple.
    Tuple,
    /// The end of a geometry or part.
    End,
}

impl Parser<'_> {
    /// Notes a step of the structure, if it is being recorded.
    fn mark(&mut self, m: Mark) {
        if let Some(marks) = &mut self.marks {
            marks.push(m);
        }
    }

    fn spaces(&mut self) {
        // A line never holds '\n'; a CSV cell's WKT may (quoted line breaks).
        while self.i < self.s.len() && (is_space(self.s[self.i]) || self.s[self.i] == b'\n') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn column(&self) -> usize {
        self.i + 1
    }

    /// An optional `SRID=n;` prefix.
    fn srid(&mut self) -> Result<Option<SridPrefix>, String> {
        let rest = &self.s[self.i..];
        if !(rest.len() >= 5 && rest[..5].eq_ignore_ascii_case(b"SRID=")) {
            return Ok(None);
        }
        let start = self.i;
        self.i += 5;
        let digits_start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        let digits = digits_start..self.i;
        let value = std::str::from_utf8(&self.s[digits.clone()])
            .ok()
            .and_then(|d| d.parse::<u32>().ok())
            .ok_or_else(|| format!("SRID= needs a number at column {}", digits_start + 1))?;
        if self.peek() != Some(b';') {
            return Err(format!("expected ';' after SRID={value} at column {}", self.column()));
        }
        self.i += 1;
        Ok(Some(SridPrefix { whole: start..self.i, digits, value }))
    }

    /// An ASCII word, uppercase (empty if none).
    fn word(&mut self) -> String {
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
            self.i += 1;
        }
        self.s[start..self.i].iter().map(|b| b.to_ascii_uppercase() as char).collect()
    }

    /// Consumes `EMPTY` if it comes next.
    fn empty(&mut self) -> bool {
        let save = self.i;
        self.spaces();
        if self.word() == "EMPTY" {
            true
        } else {
            self.i = save;
            false
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), String> {
        self.spaces();
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at column {}{}", b as char, self.column(), self.found()))
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            None => " (the line ends)".into(),
            Some(b) if b.is_ascii_graphic() => format!(" (found '{}')", b as char),
            Some(b) => format!(" (found byte 0x{b:02X})"),
        }
    }

    /// `(` item {`,` item} `)`.
    fn list(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<(), String>,
    ) -> Result<(), String> {
        self.expect(b'(')?;
        loop {
            item(self)?;
            self.spaces();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b')') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => {
                    return Err(format!(
                        "expected ',' or ')' at column {}{}",
                        self.column(),
                        self.found()
                    ))
                }
            }
        }
    }

    /// A tagged or untagged geometry; `inherited` is an enclosing collection's tag, `slot` the
    /// tuple size shared by untagged geometries.
    fn geometry(
        &mut self,
        inherited: Option<Tag>,
        slot: &mut Option<usize>,
        depth: usize,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("geometry collections nested deeper than {MAX_DEPTH}"));
        }
        self.spaces();
        let at = self.column();
        let word = self.word();
        let (kind, attached) = split_keyword(&word).ok_or_else(|| {
            if word.is_empty() {
                format!("expected a geometry keyword at column {at}{}", self.found())
            } else {
                format!("unknown geometry keyword '{word}' at column {at}")
            }
        })?;
        let mut tag = attached;
        if tag.is_none() {
            let save = self.i;
            self.spaces();
            let w = self.word();
            match Tag::parse(&w) {
                Some(t) => tag = Some(t),
                None => self.i = save,
            }
        }
        let tag = tag.or(inherited);
        let mut own = None;
        let slot = match tag {
            Some(_) => &mut own,
            None => slot,
        };
        if self.empty() {
            self.mark(Mark::Empty(kind));
            return Ok(());
        }
        self.mark(Mark::Geometry(kind));
        let mut dims = Dims { tag, slot };
        match KEYWORDS[kind] {
            "POINT" => {
                self.expect(b'(')?;
                self.tuple(&mut dims)?;
                self.expect(b')')
            }
            "LINESTRING" => self.coords(&mut dims),
            "POLYGON" => self.parts(&mut dims, |p, d| p.coords(d)),
            "MULTIPOINT" => self.list(|p| {
                if p.empty() {
                    p.mark(Mark::EmptyPart);
                    return Ok(());
                }
                p.spaces();
                if p.peek() == Some(b'(') {
                    p.i += 1;
                    p.tuple(&mut dims)?;
                    p.expect(b')')
                } else {
                    p.tuple(&mut dims)
                }
            }),
            "MULTILINESTRING" => self.parts(&mut dims, |p, d| p.coords(d)),
            "MULTIPOLYGON" => self.parts(&mut dims, |p, d| p.parts(d, |p, d| p.coords(d))),
            _ => {
                let (tag, slot) = (dims.tag, dims.slot);
                self.list(|p| p.geometry(tag, slot, depth + 1))
            }
        }?;
        self.mark(Mark::End);
        Ok(())
    }

    /// `(` part {`,` part} `)` where each part is `EMPTY` or `part`.
    fn parts(
        &mut self,
        dims: &mut Dims<'_>,
        mut part: impl FnMut(&mut Self, &mut Dims<'_>) -> Result<(), String>,
    ) -> Result<(), String> {
        self.list(|p| {
            if p.empty() {
                p.mark(Mark::EmptyPart);
                return Ok(());
            }
            p.mark(Mark::Part);
            part(p, dims)?;
            p.mark(Mark::End);
            Ok(())
        })
    }

    /// `(` tuple {`,` tuple} `)`.
    fn coords(&mut self, dims: &mut Dims<'_>) -> Result<(), String> {
        self.list(|p| p.tuple(dims))
    }

    /// 2 to 4 numbers separated by spaces.
    fn tuple(&mut self, dims: &mut Dims<'_>) -> Result<(), String> {
        let at = {
            self.spaces();
            self.column()
        };
        let mut values = [0.0; 4];
        let mut ranges: [Range<usize>; 4] = [0..0, 0..0, 0..0, 0..0];
        let mut n = 0;
        loop {
            self.spaces();
            let start = self.i;
            while self.peek().is_some_and(|b| {
                b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E')
            }) {
                self.i += 1;
            }
            if start == self.i {
                break;
            }
            let token = &self.s[start..self.i];
            let value = std::str::from_utf8(token)
                .ok()
                .and_then(text::parse_coordinate)
                .ok_or_else(|| {
                    format!(
                        "'{}' at column {} is not a finite number",
                        String::from_utf8_lossy(token),
                        start + 1
                    )
                })?;
            if n == 4 {
                return Err(format!("more than 4 numbers in the coordinate at column {at}"));
            }
            values[n] = value;
            ranges[n] = start..self.i;
            n += 1;
        }
        if n == 0 {
            return Err(format!("expected a coordinate at column {at}{}", self.found()));
        }
        let expected = match dims.tag {
            Some(Tag::Z) | Some(Tag::M) => 3,
            Some(Tag::Zm) => 4,
            None => *dims.slot.get_or_insert(n),
        };
        if n != expected || !(2..=4).contains(&n) {
            let what = match dims.tag {
                Some(Tag::Z) => "Z: 3 numbers (x y z)".to_string(),
                Some(Tag::M) => "M: 3 numbers (x y m)".to_string(),
                Some(Tag::Zm) => "ZM: 4 numbers (x y z m)".to_string(),
                None if (2..=4).contains(&expected) => {
                    format!("{expected} numbers, as the geometry's first coordinate")
                }
                None => "2 to 4 numbers".to_string(),
            };
            return Err(format!(
                "the coordinate at column {at} has {n} number(s); expected {what}"
            ));
        }
        let has_z = n == 4 || (n == 3 && dims.tag != Some(Tag::M));
        self.tuples.push(Tuple { values, ranges, has_z });
        self.mark(Mark::Tuple);
        Ok(())
    }
}

/// A geometry read from WKT text as a shape (conversions between formats: a CSV `wkt` cell).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WktGeometry {
    /// The geometry; `None` for a top-level `POINT EMPTY` (a feature without geometry).
    pub(crate) geometry: Option<Geometry>,
    /// The EWKT `SRID=n;` prefix's number, if any.
    pub(crate) srid: Option<u32>,
    /// Whether positions had m values (not part of the model: dropped).
    pub(crate) m: bool,
}

/// Reads WKT or EWKT text (the whole of `text` but surrounding white space) with the parser of
/// `.wkt` files, so it takes the same text: keywords in any case, `Z` / `M` / `ZM` tags attached
/// (`POINTZ`) or not, untagged 3- and 4-number tuples, `EMPTY` anywhere, a `SRID=n;` prefix.
/// Positions with and without z in one geometry are refused (the model's geometry has heights
/// or not as a whole); m values are dropped and reported in [`WktGeometry::m`]. An `EMPTY`
/// point inside a geometry is kept as an empty point (NaN x and y, as the other readers hold
/// it). Errors: the first thing that is not WKT, with its column.
pub(crate) fn read_geometry(text: &str) -> Result<WktGeometry, String> {
    let s = text.as_bytes();
    let mut p = Parser { s, i: 0, tuples: Vec::new(), marks: Some(Vec::new()) };
    p.spaces();
    let srid = p.srid()?.map(|s| s.value);
    p.spaces();
    p.geometry(None, &mut None, 0)?;
    p.spaces();
    if p.i < s.len() {
        return Err(format!("unexpected text after the geometry at column {}", p.i + 1));
    }
    let has_z = p.tuples.first().is_some_and(|t| t.has_z);
    if p.tuples.iter().any(|t| t.has_z != has_z) {
        return Err("positions with and without z in one geometry".into());
    }
    let m = p.tuples.iter().any(|t| {
        let numbers = t.ranges.iter().filter(|r| !r.is_empty()).count();
        numbers > 2 + usize::from(t.has_z)
    });
    let marks = p.marks.unwrap_or_default();
    let mut b = Build { marks: &marks, at: 0, tuples: &p.tuples, next: 0 };
    let geometry = match marks.first() {
        Some(Mark::Empty(0)) => None,
        _ => {
            let shape = b.shape().ok_or("the geometry's structure could not be rebuilt")?;
            Some(Geometry { shape, has_z })
        }
    };
    Ok(WktGeometry { geometry, srid, m })
}

/// Builds a shape from a successful parse's [`Mark`]s and tuples (`None` only if they do not
/// match, which a parse that succeeded never gives).
struct Build<'a> {
    marks: &'a [Mark],
    at: usize,
    tuples: &'a [Tuple],
    next: usize,
}

/// An empty point, as the feature model holds one inside a geometry.
const EMPTY_POINT: Coord = [f64::NAN, f64::NAN, 0.0];

impl Build<'_> {
    fn mark(&mut self) -> Option<Mark> {
        let m = self.marks.get(self.at).copied();
        self.at += 1;
        m
    }

    fn tuple(&mut self) -> Option<Coord> {
        let t = self.tuples.get(self.next)?;
        self.next += 1;
        Some([t.values[0], t.values[1], if t.has_z { t.values[2] } else { 0.0 }])
    }

    /// Tuples (or empty points) up to the [`Mark::End`].
    fn coords(&mut self) -> Option<Vec<Coord>> {
        let mut out = Vec::new();
        loop {
            match self.mark()? {
                Mark::Tuple => out.push(self.tuple()?),
                Mark::EmptyPart => out.push(EMPTY_POINT),
                Mark::End => return Some(out),
                _ => return None,
            }
        }
    }

    /// Parts up to the [`Mark::End`], each built by `part`.
    fn parts<T: Default>(&mut self, part: fn(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let mut out = Vec::new();
        loop {
            match self.mark()? {
                Mark::Part => out.push(part(self)?),
                Mark::EmptyPart => out.push(T::default()),
                Mark::End => return Some(out),
                _ => return None,
            }
        }
    }

    fn shape(&mut self) -> Option<Shape> {
        let (kind, empty) = match self.mark()? {
            Mark::Geometry(k) => (k, false),
            Mark::Empty(k) => (k, true),
            _ => return None,
        };
        let keyword = *KEYWORDS.get(kind)?;
        if empty {
            return Some(match keyword {
                "POINT" => Shape::Point(EMPTY_POINT),
                "LINESTRING" => Shape::LineString(Vec::new()),
                "POLYGON" => Shape::Polygon(Vec::new()),
                "MULTIPOINT" => Shape::MultiPoint(Vec::new()),
                "MULTILINESTRING" => Shape::MultiLineString(Vec::new()),
                "MULTIPOLYGON" => Shape::MultiPolygon(Vec::new()),
                _ => Shape::GeometryCollection(Vec::new()),
            });
        }
        Some(match keyword {
            "POINT" => match self.coords()?.as_slice() {
                [c] => Shape::Point(*c),
                _ => return None,
            },
            "LINESTRING" => Shape::LineString(self.coords()?),
            "POLYGON" => Shape::Polygon(self.parts(Self::coords)?),
            "MULTIPOINT" => Shape::MultiPoint(self.coords()?),
            "MULTILINESTRING" => Shape::MultiLineString(self.parts(Self::coords)?),
            "MULTIPOLYGON" => Shape::MultiPolygon(self.parts(|b| b.parts(Self::coords))?),
            _ => {
                let mut members = Vec::new();
                while self.marks.get(self.at)? != &Mark::End {
                    members.push(self.shape()?);
                }
                self.at += 1;
                Shape::GeometryCollection(members)
            }
        })
    }
}

/// The dimension of the tuples being parsed: a tag, or the size shared by untagged tuples.
struct Dims<'s> {
    tag: Option<Tag>,
    slot: &'s mut Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(line: &str) -> Vec<(usize, bool)> {
        let parsed = parse_line(line.as_bytes()).unwrap().unwrap();
        parsed
            .tuples
            .iter()
            .map(|t| (t.ranges.iter().filter(|r| !r.is_empty()).count(), t.has_z))
            .collect()
    }

    fn shape_of(text: &str) -> Option<Geometry> {
        read_geometry(text).unwrap().geometry
    }

    #[test]
    fn geometries_are_built_from_the_same_parse() {
        let g = shape_of("polygon((0.5 0, 1 0,0.5 0))").unwrap();
        assert_eq!(
            g,
            Geometry {
                shape: Shape::Polygon(vec![vec![
                    [0.5, 0.0, 0.0],
                    [1.0, 0.0, 0.0],
                    [0.5, 0.0, 0.0]
                ]]),
                has_z: false
            }
        );
        let c = shape_of("GEOMETRYCOLLECTION Z (POINT Z (1 2 3), MULTIPOINT ((1 2 3), (4 5 6)))")
            .unwrap();
        assert!(c.has_z && c.shape.vertices() == 3);
        // What the `.wkt` files take, cells take: attached tags, EWKT, line breaks.
        let w = read_geometry("SRID=4547;POINTZ(500000 4000000\n12.5)").unwrap();
        assert_eq!(w.srid, Some(4547));
        assert_eq!(
            w.geometry,
            Some(Geometry { shape: Shape::Point([500000.0, 4000000.0, 12.5]), has_z: true })
        );
        assert_eq!(shape_of("POINT EMPTY"), None);
        assert_eq!(shape_of("LINESTRING EMPTY").unwrap().shape, Shape::LineString(vec![]));
        // Empty parts and points inside stay where they were.
        let mp = shape_of("MULTIPOINT (EMPTY, (1 2))").unwrap();
        let Shape::MultiPoint(points) = &mp.shape else { panic!("{mp:?}") };
        assert!(points[0][0].is_nan() && points[1] == [1.0, 2.0, 0.0]);
        let mpg = shape_of("MULTIPOLYGON (EMPTY, ((0 0, 1 0, 0 1, 0 0), EMPTY))").unwrap();
        let Shape::MultiPolygon(polygons) = &mpg.shape else { panic!("{mpg:?}") };
        assert_eq!(polygons.len(), 2);
        assert!(polygons[0].is_empty() && polygons[1].len() == 2 && polygons[1][1].is_empty());
        let gc = shape_of("GEOMETRYCOLLECTION (POINT EMPTY, LINESTRING (1 2, 3 4))").unwrap();
        let Shape::GeometryCollection(members) = &gc.shape else { panic!("{gc:?}") };
        assert!(matches!(members[0], Shape::Point(c) if c[0].is_nan()));
        assert_eq!(members[1], Shape::LineString(vec![[1.0, 2.0, 0.0], [3.0, 4.0, 0.0]]));
        // M values are dropped and said; z must be all or nothing.
        let m = read_geometry("POINT M (1 2 3)").unwrap();
        assert!(
            m.m && m.geometry.unwrap()
                == Geometry { shape: Shape::Point([1.0, 2.0, 0.0]), has_z: false }
        );
        let zm = read_geometry("LINESTRING ZM (1 2 3 4, 5 6 7 8)").unwrap();
        assert!(zm.m && zm.geometry.unwrap().has_z);
        for bad in [
            "POINT (1 2, 3 4)",
            "LINESTRING (1 2, 3 4 5)",
            "CIRCULARSTRING (1 2, 3 4)",
            "GEOMETRYCOLLECTION (POINT Z (1 2 3), POINT (1 2))",
            "POINT (1 2) x",
            "SRID=x;POINT (1 2)",
        ] {
            assert!(read_geometry(bad).is_err(), "{bad}");
        }
        assert_eq!(
            read_geometry("GEOMETRYCOLLECTION (POINT Z (1 2 3), POINT (1 2))").unwrap_err(),
            "positions with and without z in one geometry"
        );
    }

    #[test]
    fn every_geometry_type_parses() {
        assert_eq!(counts("POINT (1 2)"), [(2, false)]);
        assert_eq!(counts("point z(1 2 3)"), [(3, true)]);
        assert_eq!(counts("POINTM (1 2 3)"), [(3, false)]);
        assert_eq!(counts("POINT ZM (1 2 3 4)"), [(4, true)]);
        assert_eq!(counts("POINT (1 2 3)"), [(3, true)]);
        assert_eq!(counts("LINESTRING (1 2, 3 4)").len(), 2);
        assert_eq!(counts("POLYGON ((0 0, 1 0, 1 1, 0 0), (0.1 0.1, 0.2 0.1, 0.1 0.1))").len(), 7);
        assert_eq!(counts("MULTIPOINT (1 2, 3 4)").len(), 2);
        assert_eq!(counts("MULTIPOINT ((1 2), EMPTY, (3 4))").len(), 2);
        assert_eq!(counts("MULTILINESTRING ((1 2, 3 4), EMPTY)").len(), 2);
        assert_eq!(counts("MULTIPOLYGON (((0 0, 1 0, 0 0)), EMPTY, ((5 5, 6 5, 5 5)))").len(), 6);
        assert_eq!(
            counts("GEOMETRYCOLLECTION (POINT (1 2), GEOMETRYCOLLECTION (LINESTRING (1 2, 3 4)), POINT EMPTY)").len(),
            3
        );
        assert_eq!(
            counts("GEOMETRYCOLLECTION Z (POINT (1 2 3), POINT M (1 2 9))"),
            [(3, true), (3, false)]
        );
        assert!(counts("POLYGON EMPTY").is_empty());
        assert_eq!(counts("SRID=4326;POINT(1 2)").len(), 1);
    }

    #[test]
    fn ids_and_separators() {
        let line = "A-17\tPOINT (1 2)";
        let p = parse_line(line.as_bytes()).unwrap().unwrap();
        assert_eq!(&line[p.id.unwrap()], "A-17");
        let line = "路,口; 1;  MULTIPOINT (1 2)";
        let p = parse_line(line.as_bytes()).unwrap().unwrap();
        assert_eq!(&line[p.id.unwrap()], "路,口; 1");
        let line = "Point A;POINT (1 2)";
        let p = parse_line(line.as_bytes()).unwrap().unwrap();
        assert_eq!(&line[p.id.unwrap()], "Point A");
        let line = "7,SRID=4490;POINT (1 2)";
        let p = parse_line(line.as_bytes()).unwrap().unwrap();
        assert_eq!(&line[p.id.unwrap()], "7");
        assert_eq!(p.srid.unwrap().value, 4490);
        assert_eq!(parse_line(b"   ").unwrap(), None);
        assert_eq!(parse_line(b"# comment").unwrap(), None);
    }

    #[test]
    fn malformed_lines_say_why() {
        let err = |s: &str| parse_line(s.as_bytes()).unwrap_err();
        assert!(err("POINT (1 2").contains("expected ')'"), "{}", err("POINT (1 2"));
        assert!(err("POINT Z (1 2)").contains("expected Z: 3"));
        assert!(err("LINESTRING (1 2, 3 4 5)").contains("as the geometry's first"));
        assert!(err("POINTS (1 2)").contains("no WKT geometry"));
        assert!(err("POINT (1 2) x").contains("unexpected text"));
        assert!(err("POINT (1 2 3 4 5)").contains("more than 4"));
        assert!(err("POINT (1 nan)").contains("expected 2 to 4"), "{}", err("POINT (1 nan)"));
        assert!(err("POINT (1 1e999)").contains("not a finite number"));
        assert!(err("SRID=x;POINT (1 2)").contains("SRID="));
        let deep = format!("{}POINT (1 2){}", "GEOMETRYCOLLECTION (".repeat(40), ")".repeat(40));
        assert!(err(&deep).contains("nested deeper"));
    }
}
