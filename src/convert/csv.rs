//! CSV and TSV files with coordinate columns.
//!
//! Only the contents of the coordinate fields change; every other byte is copied: the header,
//! the other fields with their quoting (embedded delimiters, doubled quotes, newlines), the
//! delimiter, the line endings (LF or CRLF, a missing final newline) and a UTF-8 (or GB 18030)
//! byte-order mark. Records are split into raw byte ranges by an RFC 4180 scanner (a `"` opens
//! a quoted field only as the field's first byte; `""` inside it is a quote; a record ends at an
//! LF outside quotes, a CR before it belongs to the line ending), never re-written by a CSV
//! writer. A coordinate field keeps its surrounding spaces and its quotes, if it had them.
//!
//! **Columns.** [`ConvertOptions::x_col`], `y_col`, `z_col` name them by header (exact match
//! first, then trimmed and case-insensitive); otherwise they are detected from common names,
//! trimmed and case-insensitive:
//! - x (easting or longitude): `lon`, `lng`, `long`, `longitude`, `x`, `easting`, `east`, `e`,
//!   `经度`, `东坐标`, `X坐标`;
//! - y (northing or latitude): `lat`, `latitude`, `y`, `northing`, `north`, `n`, `纬度`,
//!   `北坐标`, `Y坐标`;
//! - z (ellipsoidal height, only if present): `z`, `h`, `height`, `elevation`, `alt`,
//!   `altitude`, `高程`, `高度`.
//!
//! `x`/`X` is always the easting here. Chinese survey tables often call the *northing* X: such a
//! table must name its columns with `--x-col`/`--y-col`; detection never guesses the swap. Two
//! candidate columns for one role, or none, is a [`ConvertError::Options`] that shows the header.
//! A header (the first record) is required: an empty file (0 bytes, or only a byte-order mark)
//! is a [`ConvertError::Malformed`] at `line 1` ("the file is empty"), never an empty output; a
//! header alone is a valid table with no rows and converts to itself.
//!
//! **A `wkt` column.** With no coordinate columns named or found, a table with one column named
//! `wkt` (any case) holds its geometries there, as GDAL and conversions between formats write
//! lines and polygons: each cell's WKT is rewritten in place (its numbers only; the same parser
//! as [`wkt`](super::wkt) files), a blank cell or `EMPTY` has no geometry, and a cell that is
//! not WKT, or has an EWKT `SRID=` prefix, fails its row.
//!
//! **Rows.** A row whose x and y cells are both empty has no geometry: it is copied unchanged and
//! counted in [`ConvertReport::empty`]. A blank line is copied and not counted as a feature. A row
//! with one of x/y empty, a value that is not a finite number, or too few fields for the
//! coordinate columns fails (`line 7: x 'abc' is not a number`). With a z column, a row with a
//! z value converts in 3D and gets its new height; a row with an empty z cell (or that ends
//! before it) converts in 2D (height 0 on the source datum) and its z cell stays as it was.
//!
//! **Encodings.** UTF-8, GBK and GB 18030 are split on raw bytes: the delimiter (`,` 0x2C or tab
//! 0x09), the quote (0x22), CR and LF are below 0x30, while every byte of a multi-byte character
//! is ≥ 0x80 in UTF-8 and ≥ 0x81 (lead) / ≥ 0x40 (GBK trail) / 0x30–0x39 (GB 18030 four-byte
//! second and fourth) in the GB encodings, so none of them can be taken for a delimiter, quote or
//! line ending. The header is decoded to match column names (invalid bytes there are an error);
//! other fields are copied as bytes, so the output has the input's encoding.
//!
//! **Memory.** Records are read in chunks of at most 65 536 records or 16 MiB, transformed (in
//! parallel with [`ConvertOptions::parallel`]) and written in order; a record may be at most
//! 64 MiB long.

use super::runner::{self, Rec, RecordSource};
use super::text::{self, Number};
use super::Tally;
use super::{
    ConvertError, ConvertOptions, ConvertReport, FileFormat, Job, NoProgress, Progress,
    TextEncoding,
};
use crate::transformer::Transformer;
use std::borrow::Cow;
use std::io::{BufRead, BufReader, Write};
use std::ops::Range;
use std::path::Path;

/// Records per chunk.
const CHUNK_RECORDS: usize = 65_536;
/// Bytes per chunk (a chunk ends after the record that crosses this).
const CHUNK_BYTES: usize = 16 << 20;
/// The longest record accepted.
const MAX_RECORD: u64 = super::MAX_RECORD_BYTES;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
const GB18030_BOM: &[u8] = b"\x84\x31\x95\x33";

/// Candidate header names (lowercase) of the x column.
const X_NAMES: [&str; 11] =
    ["lon", "lng", "long", "longitude", "x", "easting", "east", "e", "经度", "东坐标", "x坐标"];
/// Candidate header names (lowercase) of the y column.
const Y_NAMES: [&str; 9] =
    ["lat", "latitude", "y", "northing", "north", "n", "纬度", "北坐标", "y坐标"];
/// Candidate header names (lowercase) of the z column.
const Z_NAMES: [&str; 8] = ["z", "h", "height", "elevation", "alt", "altitude", "高程", "高度"];

/// Converts `job.input` (`.csv`: comma-separated; `.tsv`: tab-separated) to
/// `job.output`, through a temporary file renamed only on success.
pub fn convert_file(job: &Job<'_>) -> Result<ConvertReport, ConvertError> {
    let delimiter = delimiter_of(job.input);
    let paths = Paths { input: job.input, output: job.output };
    super::through_temporary(job, |file, out| {
        let reader = BufReader::with_capacity(1 << 20, file);
        run(reader, out, delimiter, job.transformer, job.options, paths, job.progress)
    })
}

/// Converts CSV text read from `input` into `output` (in-memory use, e.g. a request body):
/// `delimiter` is `b','` for CSV or `b'\t'` for TSV; columns, encoding and failure handling as
/// for files (see the module documentation). Errors name the path `<stream>`.
///
/// On an error `output` may hold part of the result and must be discarded (files converted with
/// [`convert_file`](super::convert_file) are never left half-written). `report.outputs` is empty.
pub fn convert_reader<R: BufRead, W: Write>(
    input: R,
    mut output: W,
    delimiter: u8,
    transformer: &Transformer,
    options: &ConvertOptions,
) -> Result<ConvertReport, ConvertError> {
    let stream = Path::new("<stream>");
    let paths = Paths { input: stream, output: stream };
    let report = run(input, &mut output, delimiter, transformer, options, paths, &NoProgress)?;
    output.flush().map_err(|source| ConvertError::Io { path: stream.to_path_buf(), source })?;
    Ok(report)
}

/// Up to `max` coordinates `[x, y, z]` (z = 0 without a z value) from the first rows, for the
/// sanity check; rows without geometry or with bad values are passed over.
pub(crate) fn sample(job: &Job<'_>, max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
    let file = super::open_regular(job.input)?;
    let mut reader = Reader::new(BufReader::new(file), delimiter_of(job.input), job.input);
    let encoding = job.options.encoding.unwrap_or(TextEncoding::Utf8);
    reader.skip_bom(encoding)?;
    let mut buf = Vec::new();
    let Some(header) = reader.next_record(&mut buf)? else { return Ok(Vec::new()) };
    let columns = match Columns::resolve(
        &buf[header.body()],
        reader.delimiter,
        job.input,
        job.options,
        encoding,
    ) {
        Ok(c) => c,
        // A table with a `wkt` column instead (read by conversions into other formats).
        Err(e) => return super::cross::csv::wkt_sample(job, max).unwrap_or(Err(e)),
    };
    let mut samples = Vec::new();
    let mut fields = Vec::new();
    while samples.len() < max {
        buf.clear();
        let Some(rec) = reader.next_record(&mut buf)? else { break };
        if let Ok(Some(p)) =
            columns.parse(&buf[rec.body()], reader.delimiter, encoding, &mut fields)
        {
            samples.push([p.x, p.y, p.z.unwrap_or(0.0)]);
        }
    }
    Ok(samples)
}

/// `.tsv` → tab, anything else → comma.
fn delimiter_of(path: &Path) -> u8 {
    match FileFormat::from_path(path) {
        Some(FileFormat::Tsv) => b'\t',
        _ => b',',
    }
}

#[derive(Clone, Copy)]
struct Paths<'a> {
    input: &'a Path,
    output: &'a Path,
}

/// The conversion proper.
fn run<R: BufRead, W: Write + ?Sized>(
    input: R,
    output: &mut W,
    delimiter: u8,
    transformer: &Transformer,
    options: &ConvertOptions,
    paths: Paths<'_>,
    progress: &dyn Progress,
) -> Result<ConvertReport, ConvertError> {
    let io_out = |source| ConvertError::Io { path: paths.output.to_path_buf(), source };
    let encoding = options.encoding.unwrap_or(TextEncoding::Utf8);
    let mut reader = Reader::new(input, delimiter, paths.input);
    let mut report = ConvertReport::default();
    let bom = reader.skip_bom(encoding)?;
    output.write_all(bom).map_err(io_out)?;
    progress.advance(bom.len() as u64);

    let mut buf = Vec::new();
    let Some(header) = reader.next_record(&mut buf)? else {
        // Nothing at all (or only a byte-order mark): not a CSV file, and never an empty output
        // that would look like a successful conversion. A header alone is a valid, empty table.
        return Err(ConvertError::Malformed {
            path: paths.input.to_path_buf(),
            location: "line 1".into(),
            message: "the file is empty (no header line): nothing to convert".into(),
        });
    };
    let layout = Layout::resolve(&buf[header.body()], delimiter, paths.input, options, encoding)?;
    output.write_all(&buf).map_err(io_out)?;
    progress.advance(buf.len() as u64);

    let mut tally = Tally::default();
    let run = runner::Run {
        transformer,
        options,
        input: paths.input,
        output: paths.output,
        progress,
        limits: runner::Limits { records: CHUNK_RECORDS, bytes: CHUNK_BYTES },
    };
    let rows = Rows { layout: &layout, delimiter, encoding };
    run.records(&rows, &mut reader, output, &mut report, &mut tally, |_, _, _| Ok(()))?;
    tally.finish(&mut report, paths.input)?;
    Ok(report)
}

/// The data rows of a table, as the runner converts them.
struct Rows<'a> {
    layout: &'a Layout,
    delimiter: u8,
    encoding: TextEncoding,
}

/// Where a table's geometries are.
enum Layout {
    /// In coordinate columns.
    Points(Columns),
    /// As WKT in the column at this index (no coordinate columns named or found, and a column
    /// named `wkt`, as this library and GDAL write a table of lines or polygons).
    Wkt(usize),
}

impl Layout {
    /// The coordinate columns, else (none named or found) a `wkt` column; the coordinate
    /// columns' error if there is neither.
    fn resolve(
        header: &[u8],
        delimiter: u8,
        input: &Path,
        options: &ConvertOptions,
        encoding: TextEncoding,
    ) -> Result<Self, ConvertError> {
        match Columns::resolve(header, delimiter, input, options, encoding) {
            Ok(columns) => Ok(Layout::Points(columns)),
            Err(e @ ConvertError::Options { .. }) => {
                let names = header_names(header, delimiter, input, encoding)?;
                wkt_column(&names, options).map(Layout::Wkt).ok_or(e)
            }
            Err(e) => Err(e),
        }
    }
}

/// The one column named `wkt` (any case) among the header `names`, when no coordinate column
/// is named (`--x-col`, `--y-col`): where a table without coordinate columns holds its
/// geometries. Shared with the Excel formats.
pub(crate) fn wkt_column(names: &[String], options: &ConvertOptions) -> Option<usize> {
    let mut wkt = (0..names.len()).filter(|&i| names[i].trim().eq_ignore_ascii_case("wkt"));
    match (wkt.next(), wkt.next()) {
        (Some(i), None) if options.x_col.is_none() && options.y_col.is_none() => Some(i),
        _ => None,
    }
}

/// A row's coordinate fields, as written back.
enum RowItem {
    /// No geometry (copied).
    Empty,
    /// A point: its body-relative ranges (x, y, z) and the number of values written back (2,
    /// or 3 with a z value).
    Point([Range<usize>; 3], usize),
    /// A WKT cell's tuples (their ranges made body-relative; z written back if it has one).
    Wkt(Vec<super::wkt::CellTuple>),
}

impl runner::RecordFormat for Rows<'_> {
    type Item = RowItem;
    type Note = ();
    type Scratch = Vec<Range<usize>>;

    /// A blank line passes; a row without x and y is a feature without geometry; a row
    /// without z is converted with height 0 (as [`Transformer::transform_xy`]).
    fn parse(
        &self,
        fields: &mut Vec<Range<usize>>,
        bytes: &[u8],
        rec: &Rec,
        points: &mut Vec<[f64; 3]>,
    ) -> runner::Parsed<RowItem> {
        let body = &bytes[rec.body()];
        if body.is_empty() {
            return runner::Parsed::Pass;
        }
        let columns = match self.layout {
            Layout::Points(columns) => columns,
            Layout::Wkt(column) => return wkt_cell(body, *column, self.delimiter, fields, points),
        };
        match columns.parse(body, self.delimiter, self.encoding, fields) {
            Ok(Some(p)) => {
                points.push([p.x, p.y, p.z.unwrap_or(0.0)]);
                let count = if p.z.is_some() { 3 } else { 2 };
                runner::Parsed::Feature { item: RowItem::Point(p.ranges, count), points: 1 }
            }
            Ok(None) => runner::Parsed::Feature { item: RowItem::Empty, points: 0 },
            Err(reason) => runner::Parsed::Failed(reason),
        }
    }

    fn write(
        &self,
        bytes: &[u8],
        rec: &Rec,
        item: RowItem,
        converted: &[[f64; 3]],
        out: &mut Vec<u8>,
    ) {
        let raw = &bytes[rec.start..rec.end];
        match (item, converted.first()) {
            (RowItem::Point(ranges, count), Some(&values)) => {
                write_replaced(out, raw, ranges, count, values)
            }
            (RowItem::Wkt(tuples), _) => {
                // The tuples' numbers in order (a WKT's numbers never overlap or go backwards).
                let mut at = 0;
                for ((_, ranges, has_z), values) in tuples.iter().zip(converted) {
                    let n = if *has_z { 3 } else { 2 };
                    for (r, &v) in ranges.iter().zip(values).take(n) {
                        out.extend_from_slice(&raw[at..r.start]);
                        Number(v).push_to(out);
                        at = r.end;
                    }
                }
                out.extend_from_slice(&raw[at..]);
            }
            _ => out.extend_from_slice(raw),
        }
    }
}

/// Parses the WKT cell in field `column` of the record `body`: its tuples' points pushed to
/// `points` (z = 0 without a height), their ranges for writing back.
fn wkt_cell(
    body: &[u8],
    column: usize,
    delimiter: u8,
    fields: &mut Vec<Range<usize>>,
    points: &mut Vec<[f64; 3]>,
) -> runner::Parsed<RowItem> {
    fields.clear();
    split_fields(body, delimiter, column + 1, fields);
    let Some(field) = fields.get(column) else {
        return runner::Parsed::Failed(format!(
            "the row has {} field(s) but the wkt column is field {}",
            fields.len(),
            column + 1
        ));
    };
    let cell = value_range(body, field.clone());
    match super::wkt::cell_tuples(&body[cell.clone()]) {
        Ok(None) => runner::Parsed::Feature { item: RowItem::Empty, points: 0 },
        Ok(Some(mut tuples)) => {
            for (values, ranges, _) in &mut tuples {
                points.push(*values);
                for r in ranges {
                    *r = cell.start + r.start..cell.start + r.end;
                }
            }
            let n = tuples.len();
            runner::Parsed::Feature { item: RowItem::Wkt(tuples), points: n }
        }
        Err(message) => runner::Parsed::Failed(format!("wkt: {message}")),
    }
}

/// Appends the record `raw` with its first `count` coordinate `ranges` (record-relative: x, y,
/// z) replaced by the `values`.
fn write_replaced(
    out: &mut Vec<u8>,
    raw: &[u8],
    ranges: [Range<usize>; 3],
    count: usize,
    values: [f64; 3],
) {
    let [xr, yr, zr] = ranges;
    let mut replacements = [(xr, values[0]), (yr, values[1]), (zr, values[2])];
    let replacements = &mut replacements[..count];
    replacements.sort_unstable_by_key(|(r, _)| r.start);
    let mut at = 0;
    for (range, value) in replacements.iter() {
        out.extend_from_slice(&raw[at..range.start]);
        Number(*value).push_to(out);
        at = range.end;
    }
    out.extend_from_slice(&raw[at..]);
}

/// A parsed point of a record, with the body-relative byte ranges of its x, y, z values.
struct Point {
    x: f64,
    y: f64,
    z: Option<f64>,
    ranges: [Range<usize>; 3],
}

/// The coordinate columns (0-based field indices) and their header names (also the columns of
/// an Excel sheet, [`xlsx`](super::xlsx)).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Columns {
    pub(crate) x: usize,
    pub(crate) y: usize,
    pub(crate) z: Option<usize>,
    pub(crate) names: [String; 3],
}

/// The header's column names, decoded (a byte-order mark removed).
fn header_names(
    header: &[u8],
    delimiter: u8,
    input: &Path,
    encoding: TextEncoding,
) -> Result<Vec<String>, ConvertError> {
    let mut fields = Vec::new();
    split_fields(header, delimiter, usize::MAX, &mut fields);
    let mut names = Vec::with_capacity(fields.len());
    for (i, range) in fields.iter().enumerate() {
        let raw = unquote(&header[range.clone()]);
        let name = text::decode(&raw, encoding).map_err(|at| ConvertError::Malformed {
            path: input.to_path_buf(),
            location: "line 1".into(),
            message: format!(
                "header field {} is not valid {} (byte {} of the field); give the file's \
                 encoding with --encoding",
                i + 1,
                encoding_name(encoding),
                at + 1
            ),
        })?;
        names.push(name.trim_start_matches('\u{FEFF}').to_string());
    }
    Ok(names)
}

impl Columns {
    /// Decodes the header and finds the coordinate columns.
    fn resolve(
        header: &[u8],
        delimiter: u8,
        input: &Path,
        options: &ConvertOptions,
        encoding: TextEncoding,
    ) -> Result<Self, ConvertError> {
        let names = header_names(header, delimiter, input, encoding)?;
        let o = options;
        find_columns(&names, o.x_col.as_deref(), o.y_col.as_deref(), o.z_col.as_deref())
            .map_err(|message| ConvertError::Options { path: input.to_path_buf(), message })
    }

    /// The point of a record body: `Ok(None)` if x and y are both empty, `Err(reason)` if it
    /// cannot be read.
    fn parse(
        &self,
        body: &[u8],
        delimiter: u8,
        encoding: TextEncoding,
        fields: &mut Vec<Range<usize>>,
    ) -> Result<Option<Point>, String> {
        let last = self.x.max(self.y).max(self.z.unwrap_or(0));
        fields.clear();
        split_fields(body, delimiter, last + 1, fields);
        let cell = |i: usize, role: usize| -> Result<Range<usize>, String> {
            fields.get(i).map(|r| value_range(body, r.clone())).ok_or_else(|| {
                format!(
                    "the row has {} field(s) but the {} column '{}' is field {}",
                    fields.len(),
                    ["x", "y", "z"][role],
                    self.names[role],
                    i + 1
                )
            })
        };
        let xr = cell(self.x, 0)?;
        let yr = cell(self.y, 1)?;
        match (xr.is_empty(), yr.is_empty()) {
            (true, true) => return Ok(None),
            (true, false) => return Err("x is empty but y is not".into()),
            (false, true) => return Err("y is empty but x is not".into()),
            (false, false) => {}
        }
        let number = |r: &Range<usize>, role: &str| -> Result<f64, String> {
            let bytes = &body[r.clone()];
            std::str::from_utf8(bytes)
                .ok()
                .and_then(text::parse_coordinate)
                .ok_or_else(|| format!("{role} '{}' is not a number", shown(bytes, encoding)))
        };
        let x = number(&xr, "x")?;
        let y = number(&yr, "y")?;
        let (z, zr) = match self.z {
            // A row that ends before its z field (a ragged row) has no height.
            Some(i) if i >= fields.len() => (None, 0..0),
            Some(i) => {
                let zr = cell(i, 2)?;
                if zr.is_empty() {
                    (None, zr)
                } else {
                    (Some(number(&zr, "z")?), zr)
                }
            }
            None => (None, 0..0),
        };
        Ok(Some(Point { x, y, z, ranges: [xr, yr, zr] }))
    }
}

/// Finds the x, y and (optional) z columns among the header `names`; the message on failure
/// shows the header. Shared with the Excel formats ([`xlsx`](super::xlsx)).
pub(crate) fn find_columns(
    names: &[String],
    x: Option<&str>,
    y: Option<&str>,
    z: Option<&str>,
) -> Result<Columns, String> {
    let header = names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
    let by_name = |wanted: &str, flag: &str| -> Result<usize, String> {
        let exact: Vec<usize> = (0..names.len()).filter(|&i| names[i] == wanted).collect();
        let found = if exact.is_empty() {
            let w = wanted.trim().to_lowercase();
            (0..names.len()).filter(|&i| names[i].trim().to_lowercase() == w).collect()
        } else {
            exact
        };
        match found.as_slice() {
            [i] => Ok(*i),
            [] => Err(format!("{flag} '{wanted}' is not a column of the header: {header}")),
            _ => {
                Err(format!("{flag} '{wanted}' names more than one column of the header: {header}"))
            }
        }
    };
    let detect = |candidates: &[&str], taken: &[usize]| -> Vec<usize> {
        (0..names.len())
            .filter(|i| !taken.contains(i))
            .filter(|&i| candidates.contains(&names[i].trim().to_lowercase().as_str()))
            .collect()
    };
    let hint = "name the columns with --x-col and --y-col (x = easting or longitude, \
                y = northing or latitude)";
    let pick = |role: &str, found: Vec<usize>| -> Result<usize, String> {
        match found.as_slice() {
            [i] => Ok(*i),
            [] => Err(format!("no {role} column found in the header: {header}; {hint}")),
            many => Err(format!(
                "more than one possible {role} column ({}) in the header: {header}; {hint}",
                many.iter().map(|&i| format!("'{}'", names[i])).collect::<Vec<_>>().join(", ")
            )),
        }
    };
    let xi = match x {
        Some(name) => by_name(name, "--x-col")?,
        None => pick("x", detect(&X_NAMES, &[]))?,
    };
    let yi = match y {
        Some(name) => by_name(name, "--y-col")?,
        None => pick("y", detect(&Y_NAMES, &[xi]))?,
    };
    let zi = match z {
        Some(name) => Some(by_name(name, "--z-col")?),
        None => match detect(&Z_NAMES, &[xi, yi]).as_slice() {
            [] => None,
            [i] => Some(*i),
            many => {
                return Err(format!(
                    "more than one possible z column ({}) in the header: {header}; name it with \
                     --z-col",
                    many.iter().map(|&i| format!("'{}'", names[i])).collect::<Vec<_>>().join(", ")
                ))
            }
        },
    };
    if xi == yi || Some(xi) == zi || Some(yi) == zi {
        return Err(format!(
            "the x, y and z columns must be different columns of the header: {header}"
        ));
    }
    let name = |i: usize| names[i].clone();
    Ok(Columns {
        x: xi,
        y: yi,
        z: zi,
        names: [name(xi), name(yi), zi.map(name).unwrap_or_default()],
    })
}

fn encoding_name(encoding: TextEncoding) -> &'static str {
    match encoding {
        TextEncoding::Utf8 => "UTF-8",
        TextEncoding::Gbk => "GBK",
        TextEncoding::Gb18030 => "GB 18030",
    }
}

/// `bytes` for a message: decoded (lossily), at most 40 characters.
fn shown(bytes: &[u8], encoding: TextEncoding) -> String {
    let text = match text::decode(bytes, encoding) {
        Ok(t) => t.into_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    };
    let mut out: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// A field's contents without its quotes (doubled quotes undone), for header names.
fn unquote(raw: &[u8]) -> Cow<'_, [u8]> {
    match raw {
        [b'"', inner @ .., b'"'] => {
            if inner.contains(&b'"') {
                let mut out = Vec::with_capacity(inner.len());
                let mut i = 0;
                while i < inner.len() {
                    out.push(inner[i]);
                    i += if inner[i] == b'"' && inner.get(i + 1) == Some(&b'"') { 2 } else { 1 };
                }
                Cow::Owned(out)
            } else {
                Cow::Borrowed(inner)
            }
        }
        _ => Cow::Borrowed(raw),
    }
}

/// The value part of field `range` of `body`: without surrounding ASCII whitespace and, inside
/// that, without the quotes of a quoted value and the whitespace inside them. Empty if blank.
fn value_range(body: &[u8], range: Range<usize>) -> Range<usize> {
    let trim = |mut r: Range<usize>| {
        while r.start < r.end && body[r.start].is_ascii_whitespace() {
            r.start += 1;
        }
        while r.end > r.start && body[r.end - 1].is_ascii_whitespace() {
            r.end -= 1;
        }
        r
    };
    let r = trim(range);
    if r.len() >= 2 && body[r.start] == b'"' && body[r.end - 1] == b'"' {
        trim(r.start + 1..r.end - 1)
    } else {
        r
    }
}

/// The RFC 4180 scanner's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// At the first byte of a field.
    FieldStart,
    /// In an unquoted field (or after the closing quote of a quoted one).
    Unquoted,
    /// Inside quotes.
    Quoted,
    /// A quote inside quotes: closing, or the first of a doubled quote.
    QuoteInQuoted,
}

impl Scan {
    #[inline]
    fn step(self, b: u8, delimiter: u8) -> Scan {
        match self {
            Scan::Quoted => {
                if b == b'"' {
                    Scan::QuoteInQuoted
                } else {
                    Scan::Quoted
                }
            }
            Scan::FieldStart if b == b'"' => Scan::Quoted,
            Scan::QuoteInQuoted if b == b'"' => Scan::Quoted,
            _ if b == delimiter => Scan::FieldStart,
            _ => Scan::Unquoted,
        }
    }
}

/// Splits a record body (no line ending) into the raw byte ranges of its first `max` fields.
fn split_fields(body: &[u8], delimiter: u8, max: usize, out: &mut Vec<Range<usize>>) {
    let mut state = Scan::FieldStart;
    let mut start = 0;
    for (i, &b) in body.iter().enumerate() {
        let next = state.step(b, delimiter);
        if next == Scan::FieldStart {
            out.push(start..i);
            if out.len() >= max {
                return;
            }
            start = i + 1;
        }
        state = next;
    }
    out.push(start..body.len());
}

/// Reads records, tracking physical line numbers.
struct Reader<'p, R> {
    input: R,
    delimiter: u8,
    line: u64,
    path: &'p Path,
    /// Bytes read so far (the byte-order mark and every record).
    bytes: u64,
}

impl<'p, R: BufRead> Reader<'p, R> {
    fn new(input: R, delimiter: u8, path: &'p Path) -> Self {
        Self { input, delimiter, line: 1, path, bytes: 0 }
    }

    /// Consumes a byte-order mark of `encoding` (UTF-8 or GB 18030) at the start; the bytes.
    fn skip_bom(&mut self, encoding: TextEncoding) -> Result<&'static [u8], ConvertError> {
        let bom = match encoding {
            TextEncoding::Utf8 => UTF8_BOM,
            TextEncoding::Gb18030 => GB18030_BOM,
            TextEncoding::Gbk => return Ok(&[]),
        };
        let path = self.path;
        let buf = self
            .input
            .fill_buf()
            .map_err(|source| ConvertError::Io { path: path.to_path_buf(), source })?;
        if buf.starts_with(bom) {
            self.input.consume(bom.len());
            self.bytes += bom.len() as u64;
            Ok(bom)
        } else {
            Ok(&[])
        }
    }

    fn io(&self, source: std::io::Error) -> ConvertError {
        ConvertError::Io { path: self.path.to_path_buf(), source }
    }

    /// Appends the next record to `buf`; `None` at the end of the input.
    fn next_record(&mut self, buf: &mut Vec<u8>) -> Result<Option<Rec>, ConvertError> {
        let start = buf.len();
        let line = self.line;
        let mut state = Scan::FieldStart;
        loop {
            let from = buf.len();
            let limit = MAX_RECORD.saturating_sub((from - start) as u64);
            let n = text::read_line_bounded(&mut self.input, buf, limit).map_err(|e| self.io(e))?;
            self.bytes += n as u64;
            let chunk_end = buf.len();
            let ends_line = n > 0 && buf[chunk_end - 1] == b'\n';
            let scan_to = if ends_line { chunk_end - 1 } else { chunk_end };
            for &b in &buf[from..scan_to] {
                state = state.step(b, self.delimiter);
            }
            if ends_line {
                self.line += 1;
                if state == Scan::Quoted {
                    continue; // a newline inside quotes
                }
                let body_end = if chunk_end - 1 > start && buf[chunk_end - 2] == b'\r' {
                    chunk_end - 2
                } else {
                    chunk_end - 1
                };
                return Ok(Some(Rec { start, body_end, end: chunk_end, line }));
            }
            if n > 0 && (chunk_end - start) as u64 >= MAX_RECORD {
                return Err(
                    self.malformed(line, format!("a record longer than {} MiB", MAX_RECORD >> 20))
                );
            }
            // End of input.
            if chunk_end == start {
                return Ok(None);
            }
            if state == Scan::Quoted {
                return Err(self.malformed(line, "a quoted field is never closed".into()));
            }
            return Ok(Some(Rec { start, body_end: chunk_end, end: chunk_end, line }));
        }
    }

    fn malformed(&self, line: u64, message: String) -> ConvertError {
        ConvertError::Malformed {
            path: self.path.to_path_buf(),
            location: format!("line {line}"),
            message,
        }
    }
}

impl<R: BufRead> RecordSource for Reader<'_, R> {
    fn next_record(&mut self, buf: &mut Vec<u8>) -> Result<Option<Rec>, ConvertError> {
        Reader::next_record(self, buf)
    }
}

/// A CSV/TSV table read row by row, for conversions between formats
/// ([`cross::csv`](super::cross::csv)): the header and coordinate columns resolved as for a
/// same-format conversion (same names, options, encodings, byte-order marks and errors), every
/// cell unquoted and decoded.
pub(crate) struct Table<'p> {
    reader: Reader<'p, BufReader<std::fs::File>>,
    /// `None`: no coordinate columns, but a `wkt` column (see [`Table::open`]).
    columns: Option<Columns>,
    encoding: TextEncoding,
    /// The header's names.
    pub(crate) names: Vec<String>,
    buf: Vec<u8>,
    fields: Vec<Range<usize>>,
}

/// One row of a [`Table`].
pub(crate) struct TableRow {
    /// The physical line where the row starts (1-based).
    pub(crate) line: u64,
    /// The point `[x, y, z]` and whether it has z (`Ok(None)`: x and y empty), or why it
    /// cannot be read.
    pub(crate) point: Result<Option<([f64; 3], bool)>, String>,
    /// Every cell, unquoted and decoded (`None` past the end of a short row).
    pub(crate) cells: Vec<Option<String>>,
}

impl<'p> Table<'p> {
    /// Bytes of the file read so far.
    pub(crate) fn consumed(&self) -> u64 {
        self.reader.bytes
    }

    /// Opens `path` (`.tsv`: tab-separated) and reads its header. Errors as
    /// [`convert_file`]'s: an empty file, a header that is not in the encoding, columns not
    /// found.
    pub(crate) fn open(path: &'p Path, options: &ConvertOptions) -> Result<Self, ConvertError> {
        let file = super::open_regular(path)?;
        let delimiter = delimiter_of(path);
        let mut reader = Reader::new(BufReader::with_capacity(1 << 20, file), delimiter, path);
        let encoding = options.encoding.unwrap_or(TextEncoding::Utf8);
        reader.skip_bom(encoding)?;
        let mut buf = Vec::new();
        let Some(header) = reader.next_record(&mut buf)? else {
            return Err(ConvertError::Malformed {
                path: path.to_path_buf(),
                location: "line 1".into(),
                message: "the file is empty (no header line): nothing to convert".into(),
            });
        };
        let body = &buf[header.body()];
        let resolved = Columns::resolve(body, delimiter, path, options, encoding);
        let mut fields = Vec::new();
        split_fields(body, delimiter, usize::MAX, &mut fields);
        let names: Vec<String> = fields
            .iter()
            .map(|r| {
                let raw = unquote(&body[r.clone()]);
                let name = text::decode(&raw, encoding).map(|n| n.into_owned()).unwrap_or_default();
                name.trim_start_matches('\u{FEFF}').to_string()
            })
            .collect();
        // No coordinate columns named or found, but a `wkt` column: the geometries are there.
        let wkt = names.iter().any(|n| n.trim().eq_ignore_ascii_case("wkt"));
        let columns = match resolved {
            Ok(c) => Some(c),
            Err(_) if wkt && options.x_col.is_none() && options.y_col.is_none() => None,
            Err(e) => return Err(e),
        };
        Ok(Self { reader, columns, encoding, names, buf, fields })
    }

    /// The x, y and z columns (0-based); all `None` for a table with a `wkt` column instead.
    pub(crate) fn coordinate_columns(&self) -> [Option<usize>; 3] {
        match &self.columns {
            Some(c) => [Some(c.x), Some(c.y), c.z],
            None => [None; 3],
        }
    }

    /// The next row (blank lines skipped), `None` at the end. Errors: I/O, an unclosed quote, a
    /// record over the cap, a cell that is not in the encoding.
    pub(crate) fn next_row(&mut self) -> Result<Option<TableRow>, ConvertError> {
        loop {
            self.buf.clear();
            let Some(rec) = self.reader.next_record(&mut self.buf)? else { return Ok(None) };
            let body = &self.buf[rec.body()];
            if body.is_empty() {
                continue;
            }
            let delimiter = self.reader.delimiter;
            let point = match &self.columns {
                Some(c) => c
                    .parse(body, delimiter, self.encoding, &mut self.fields)
                    .map(|p| p.map(|p| ([p.x, p.y, p.z.unwrap_or(0.0)], p.z.is_some()))),
                None => Ok(None),
            };
            self.fields.clear();
            split_fields(body, delimiter, usize::MAX, &mut self.fields);
            let mut cells = Vec::with_capacity(self.names.len().max(self.fields.len()));
            for (i, r) in self.fields.iter().enumerate() {
                let raw = unquote(&body[r.clone()]);
                let cell = text::decode(&raw, self.encoding).map_err(|at| {
                    self.reader.malformed(
                        rec.line,
                        format!(
                            "field {} is not valid {} (byte {} of the field); give the file's \
                             encoding with --encoding",
                            i + 1,
                            encoding_name(self.encoding),
                            at + 1
                        ),
                    )
                })?;
                cells.push(Some(cell.into_owned()));
            }
            while cells.len() < self.names.len() {
                cells.push(None);
            }
            return Ok(Some(TableRow { line: rec.line, point, cells }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str, delimiter: u8) -> Vec<&str> {
        let mut out = Vec::new();
        split_fields(body.as_bytes(), delimiter, usize::MAX, &mut out);
        out.into_iter().map(|r| &body[r]).collect()
    }

    #[test]
    fn rfc4180_fields() {
        assert_eq!(fields("a,\"b,c\",\"d\"\"e\",", b','), ["a", "\"b,c\"", "\"d\"\"e\"", ""]);
        assert_eq!(fields("a\tb,c\t\"x\ty\"", b'\t'), ["a", "b,c", "\"x\ty\""]);
        assert_eq!(fields("x\"y,z", b','), ["x\"y", "z"]); // a quote inside a field is data
        assert_eq!(fields("", b','), [""]);
        assert_eq!(unquote(b"\"d\"\"e\"").as_ref(), b"d\"e");
        let body = b" \" 12.5 \" ,x";
        assert_eq!(&body[value_range(body, 0..9)], b"12.5");
    }

    #[test]
    fn records_span_quoted_newlines_and_keep_line_endings() {
        let input: &[u8] = b"a,b\r\n\"x\ny\",2\n\n3,\"4\"";
        let mut reader = Reader::new(input, b',', Path::new("t"));
        let mut buf = Vec::new();
        let mut recs = Vec::new();
        while let Some(r) = reader.next_record(&mut buf).unwrap() {
            recs.push((r.line, buf[r.body()].to_vec(), buf[r.start..r.end].to_vec()));
        }
        assert_eq!(recs.len(), 4);
        assert_eq!(recs[0], (1, b"a,b".to_vec(), b"a,b\r\n".to_vec()));
        assert_eq!(recs[1], (2, b"\"x\ny\",2".to_vec(), b"\"x\ny\",2\n".to_vec()));
        assert_eq!(recs[2], (4, Vec::new(), b"\n".to_vec()));
        assert_eq!(recs[3], (5, b"3,\"4\"".to_vec(), b"3,\"4\"".to_vec()));
        let mut open = Reader::new(&b"a,b\n\"x,1\n"[..], b',', Path::new("t"));
        buf.clear();
        open.next_record(&mut buf).unwrap();
        let err = open.next_record(&mut buf).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("never closed"), "{err}");
    }

    #[test]
    fn column_detection() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let c = find_columns(&names(&["id", " Lon ", "LAT", "高程"]), None, None, None).unwrap();
        assert_eq!((c.x, c.y, c.z), (1, 2, Some(3)));
        let c = find_columns(&names(&["名称", "经度", "纬度"]), None, None, None).unwrap();
        assert_eq!((c.x, c.y, c.z), (1, 2, None));
        let err = find_columns(&names(&["lon", "x", "lat"]), None, None, None).unwrap_err();
        assert!(err.contains("more than one possible x") && err.contains("--x-col"), "{err}");
        let err = find_columns(&names(&["a", "b"]), None, None, None).unwrap_err();
        assert!(err.contains("no x column") && err.contains("'a', 'b'"), "{err}");
        // Exact match first, then case-insensitive.
        let c = find_columns(&names(&["X", "Y", "x"]), Some("X"), Some("y"), None).unwrap();
        assert_eq!((c.x, c.y, c.z), (0, 1, None));
        let err = find_columns(&names(&["X", "x", "Y"]), Some("lon"), None, None).unwrap_err();
        assert!(err.contains("--x-col 'lon' is not a column"), "{err}");
        let c = find_columns(&names(&["北", "东"]), Some("东"), Some("北"), None).unwrap();
        assert_eq!((c.x, c.y), (1, 0));
    }

    #[test]
    fn rows_parse_with_ragged_heights_and_clear_reasons() {
        let names = ["lon", "lat", "h"].map(String::from);
        let c = find_columns(&names, None, None, None).unwrap();
        let mut f = Vec::new();
        let utf8 = TextEncoding::Utf8;
        let p = c.parse(b"116.4,39.9", b',', utf8, &mut f).unwrap().unwrap();
        assert_eq!((p.x, p.y, p.z), (116.4, 39.9, None));
        let p = c.parse(b"\"116.4\", 39.9 ,12", b',', utf8, &mut f).unwrap().unwrap();
        assert_eq!((p.x, p.y, p.z), (116.4, 39.9, Some(12.0)));
        assert!(c.parse(b" , ,5", b',', utf8, &mut f).unwrap().is_none());
        let err = c.parse(b"116.4", b',', utf8, &mut f).err().unwrap();
        assert_eq!(err, "the row has 1 field(s) but the y column 'lat' is field 2");
        let err = c.parse(b"116.4,39.9,inf", b',', utf8, &mut f).err().unwrap();
        assert_eq!(err, "z 'inf' is not a number");
    }
}
