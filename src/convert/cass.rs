//! South CASS (南方CASS) point files (`.dat`): the survey point file of CASS and of total
//! stations and GNSS controllers, one point per line and no header:
//!
//! ```text
//! 点名,编码,Y(东),X(北),H
//! K1,KZD,500123.456,3400123.456,12.300
//! 2,,500130.002,3400150.118
//! ```
//!
//! **Fields.** `id,code,Y,X[,H]`, split on every comma (CASS never quotes). By surveying
//! convention **Y is the easting and X the northing**: the third field is the x coordinate
//! (easting or longitude) and the fourth the y coordinate (northing or latitude). The code may
//! be empty; H (an elevation) may be absent or empty (`1,,500123.456,3400123.456` and
//! `1,,500123.456,3400123.456,` both have no height). The id and the code are copied as bytes,
//! so a file in GBK (as CASS writes it), GB 18030 or UTF-8 keeps its names byte for byte: a
//! comma (0x2C), CR and LF cannot be part of a multi-byte character in any of them. Spaces
//! around a value are kept; a leading UTF-8 byte-order mark is copied.
//!
//! **Lines.** LF or CRLF line endings are kept line by line, and so is a missing final newline.
//! A blank line (only spaces, tabs, or a DOS end-of-file mark `^Z`) is copied and is no point.
//! A line with fewer than 4 or more than 5 fields, an empty or non-numeric Y or X, or an H that
//! is not a number is a failed point located by its line (`line 7: X (north) 'abc' is not a
//! number`): it fails the conversion, or is left out with
//! [`ConvertOptions::skip_invalid`](super::ConvertOptions::skip_invalid). A file without any
//! point line (empty, or blank lines only) is a [`ConvertError::Malformed`] at `line 1`.
//!
//! **Binary `.dat` files.** `.dat` is also the attribute table of a MapInfo TAB set, a binary
//! dBase file, and the extension of many other binary files. A NUL byte is never part of a CASS
//! file: one in the first 64 KiB is a [`ConvertError::Malformed`] naming its byte offset and
//! saying what the file probably is, one further on names its line; nothing is misread.
//!
//! **Numbers written.** Surveyors' files carry a fixed number of decimals (3: millimetres), and
//! a point file is compared digit by digit, so each converted value is written with as many
//! decimals as the value it replaces had in the input (`Fixed` rounding, see
//! [`text::Fixed`]): rounding to the precision the source was measured and written at loses
//! only digits below it. When the unit changes, the step on the ground is kept no coarser:
//! metres with `n` decimals become degrees with `n + 6` ([`text::degree_decimals`]: 10^-(n+6)°
//! is at most 0.11 · 10^-n m on the ground), and degrees with `n` decimals become metres with
//! `n − 4`, at least 0 (10^-n° is about 1.1 · 10^-(n-5) m of latitude, and at least
//! 0.11 · 10^-(n-5) m of longitude up to latitude 84°, so 10^-(n-4) m is not coarser). A value written in another form (an exponent: `5.1e5`) is written back in the
//! shortest round-trip form ([`text::Number`]). H keeps its decimals (it stays in metres).
//!
//! **Heights.** H is an elevation, copied unchanged between 2D CRSs (written back as it was,
//! byte for byte), or converted with its point when the transformer converts heights
//! ([`Heights::Ellipsoidal`](crate::Heights::Ellipsoidal)): then the point is transformed in
//! 3D and H is rewritten with its own decimals. A line without H converts in 2D (height 0).
//!
//! **Memory.** Lines are read in chunks of at most 65 536 lines or 16 MiB, converted in
//! parallel parts with [`Transformer::transform_slice`](crate::Transformer::transform_slice)
//! and written in order; a line may be at most
//! [`MAX_RECORD_BYTES`](super::MAX_RECORD_BYTES) long.

use super::runner::{self, Rec, RecordSource as _};
use super::text::{self, Fixed, Number};
use super::{ConvertError, ConvertReport, Job, Tally, TextEncoding};
use std::io::{BufRead, BufReader, Write};
use std::ops::Range;
use std::path::Path;

/// Lines per chunk.
const CHUNK_LINES: usize = 65_536;
/// Bytes per chunk (a chunk ends after the line that crosses this).
const CHUNK_BYTES: usize = 16 << 20;
/// How much of the start of the file is sniffed for binary content.
const SNIFF_BYTES: usize = 64 << 10;

/// How a coordinate value was written, so that it is written back alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Plain decimal (`[+-]digits[.digits]`): the number of decimals, and whether a point ends
    /// the number (`500123.`).
    Decimals(usize, bool),
    /// Any other form a float parses from (an exponent): written back in the shortest
    /// round-trip form.
    Other,
}

impl Written {
    /// How `text` (a trimmed value) is written.
    pub fn of(text: &[u8]) -> Self {
        let digits = text.strip_prefix(b"-").or_else(|| text.strip_prefix(b"+")).unwrap_or(text);
        let (int, frac) = match digits.iter().position(|&b| b == b'.') {
            Some(i) => (&digits[..i], Some(&digits[i + 1..])),
            None => (digits, None),
        };
        let all_digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
        match frac {
            _ if !all_digits(int) => Written::Other,
            None => Written::Decimals(0, false),
            Some(f) if all_digits(f) => Written::Decimals(f.len(), f.is_empty()),
            Some(_) => Written::Other,
        }
    }

    /// Appends `v` in this form, with the decimals converted for a change of unit (`change`).
    fn push(self, v: f64, change: UnitChange, out: &mut Vec<u8>) {
        match self {
            Written::Decimals(n, point) => {
                let n = match change {
                    UnitChange::None => n,
                    UnitChange::MetresToDegrees => text::degree_decimals(n),
                    UnitChange::DegreesToMetres => n.saturating_sub(4),
                };
                Fixed(v, n).push_to(out);
                if point && n == 0 {
                    out.push(b'.');
                }
            }
            Written::Other => Number(v).push_to(out),
        }
    }
}

/// How the unit of the horizontal coordinates changes in a conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnitChange {
    None,
    MetresToDegrees,
    DegreesToMetres,
}

impl UnitChange {
    fn of(job: &Job<'_>) -> Self {
        match (job.source.is_angular(), job.target.is_angular()) {
            (false, true) => UnitChange::MetresToDegrees,
            (true, false) => UnitChange::DegreesToMetres,
            _ => UnitChange::None,
        }
    }
}

/// One point line parsed: the values and the line-relative byte ranges of the Y (east), X
/// (north) and H values (without surrounding spaces), with how each was written. The reading
/// half of the format, independent of writing.
#[derive(Debug, Clone, PartialEq)]
pub struct PointLine {
    /// The third field: easting (or longitude).
    pub east: f64,
    /// The fourth field: northing (or latitude).
    pub north: f64,
    /// The fifth field, an elevation, if present and not empty.
    pub height: Option<f64>,
    /// Byte ranges of the east, north and height values in the line (the height's is empty
    /// without a height).
    pub ranges: [Range<usize>; 3],
    /// How the east, north and height values were written.
    pub written: [Written; 3],
}

/// Why a line is no point line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// A NUL byte: the file is binary, not a CASS file (the whole conversion stops).
    Binary,
    /// Not `id,code,Y,X[,H]` with numbers: why (`X (north, field 4) 'abc' is not a number`).
    Invalid(String),
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::Binary => f.write_str(&binary_message()),
            LineError::Invalid(why) => f.write_str(why),
        }
    }
}

/// What a line of a CASS file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// Blank (spaces, tabs, `^Z` or nothing): no point.
    Blank,
    /// A point.
    Point(PointLine),
}

/// Parses one line `body` (without its line ending). `Err`: why it is no point line, for a
/// message located by the caller.
pub fn parse_line(body: &[u8]) -> Result<Line, LineError> {
    parse(body)
        .map_err(|why| if body.contains(&0) { LineError::Binary } else { LineError::Invalid(why) })
}

fn parse(body: &[u8]) -> Result<Line, String> {
    if body.iter().all(|&b| b == b' ' || b == b'\t' || b == 0x1A) {
        return Ok(Line::Blank);
    }
    if body.contains(&0) {
        return Err(String::new());
    }
    let mut fields: [Range<usize>; 5] = Default::default();
    let mut count = 0;
    let mut start = 0;
    for i in (0..body.len()).filter(|&i| body[i] == b',').chain([body.len()]) {
        if count < 5 {
            fields[count] = start..i;
        }
        count += 1;
        start = i + 1;
    }
    if !(4..=5).contains(&count) {
        return Err(format!(
            "{count} field(s); a CASS point line is id,code,Y(east),X(north)[,H] (4 or 5 \
             comma-separated fields)"
        ));
    }
    let [_, _, y, x, h] = fields;
    let value = |range: Range<usize>, name: &str, required: bool| {
        let r = trimmed(body, range);
        let raw = &body[r.clone()];
        if raw.is_empty() {
            return if required { Err(format!("{name} is empty")) } else { Ok((None, r)) };
        }
        let text = std::str::from_utf8(raw).ok();
        match text.and_then(text::parse_coordinate) {
            Some(v) => Ok((Some(v), r)),
            None => Err(format!("{name} '{}' is not a number", shown(raw))),
        }
    };
    let (east, yr) = value(y, "Y (east, field 3)", true)?;
    let (north, xr) = value(x, "X (north, field 4)", true)?;
    let (height, hr) = if count == 5 { value(h, "H (field 5)", false)? } else { (None, 0..0) };
    let (Some(east), Some(north)) = (east, north) else {
        return Err("a coordinate is empty".into()); // unreachable: both are required
    };
    let written = [&yr, &xr, &hr].map(|r| Written::of(&body[r.clone()]));
    Ok(Line::Point(PointLine { east, north, height, ranges: [yr, xr, hr], written }))
}

/// `range` of `body` without surrounding spaces and tabs.
fn trimmed(body: &[u8], mut r: Range<usize>) -> Range<usize> {
    while r.start < r.end && matches!(body[r.start], b' ' | b'\t') {
        r.start += 1;
    }
    while r.end > r.start && matches!(body[r.end - 1], b' ' | b'\t') {
        r.end -= 1;
    }
    r
}

/// `bytes` for a message: lossily decoded (as GBK if not UTF-8), at most 40 characters.
fn shown(bytes: &[u8]) -> String {
    let text = match text::decode(bytes, TextEncoding::Utf8) {
        Ok(t) => t.into_owned(),
        Err(_) => text::decode(bytes, TextEncoding::Gb18030)
            .map(|t| t.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned()),
    };
    text::shorten(&text)
}

fn binary_message() -> String {
    "binary data (a NUL byte), not a CASS point file (a text file of lines \
     id,code,Y(east),X(north)[,H]); a MapInfo TAB set's .dat is a binary dBase table: convert \
     the .tab set with ogr2ogr first"
        .into()
}

/// Converts `job.input` into `job.output` through a temporary file renamed only on success.
pub fn convert_file(job: &Job<'_>) -> Result<ConvertReport, ConvertError> {
    let change = UnitChange::of(job);
    super::through_temporary(job, |file, out| {
        let mut reader = BufReader::with_capacity(1 << 20, file);
        run(&mut reader, out, job, change)
    })
}

/// Up to `max` coordinates `[Y (east), X (north), H or 0]` from the first point lines, for the
/// sanity check; lines that are no points are passed over. A binary file is refused here too.
pub(crate) fn sample(job: &Job<'_>, max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
    let file = super::open_regular(job.input)?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    sniff(&mut reader, job.input)?;
    let mut lines = runner::Lines::new(reader, super::MAX_RECORD_BYTES, job.input);
    let mut buf = Vec::new();
    let mut samples = Vec::new();
    while samples.len() < max {
        buf.clear();
        let Some(rec) = lines.next_record(&mut buf)? else { break };
        let start = body_start(&buf, &rec);
        if let Ok(Line::Point(p)) = parse_line(&buf[start..rec.body_end.max(start)]) {
            samples.push([p.east, p.north, p.height.unwrap_or(0.0)]);
        }
    }
    Ok(samples)
}

/// Refuses a file with a NUL byte in its first 64 KiB (binary, e.g. a MapInfo `.dat`), naming
/// the byte and what the file looks like.
fn sniff<R: BufRead>(reader: &mut R, path: &Path) -> Result<(), ConvertError> {
    let head = reader
        .fill_buf()
        .map_err(|source| ConvertError::Io { path: path.to_path_buf(), source })?;
    let head = &head[..head.len().min(SNIFF_BYTES)];
    let Some(at) = head.iter().position(|&b| b == 0) else { return Ok(()) };
    // dBase III..7 tables (a MapInfo TAB set's .dat) start with a version byte, then a date.
    let dbase = matches!(head.first(), Some(0x02 | 0x03 | 0x04 | 0x05 | 0x30 | 0x31 | 0x83 | 0x8B));
    let what =
        if dbase { " (it looks like a dBase table, as a MapInfo TAB set's .dat is)" } else { "" };
    Err(ConvertError::Malformed {
        path: path.to_path_buf(),
        location: format!("byte {at}"),
        message: format!(
            "binary data (a NUL byte){what}, not a CASS point file (a text file of lines \
             id,code,Y(east),X(north)[,H]); for a MapInfo TAB set convert the .tab with ogr2ogr \
             first"
        ),
    })
}

fn bom_len(buf: &[u8]) -> usize {
    if buf.starts_with(text::UTF8_BOM) {
        text::UTF8_BOM.len()
    } else {
        0
    }
}

/// The conversion proper: the lines through the shared chunk runner.
fn run<R: BufRead>(
    input: &mut R,
    output: &mut impl Write,
    job: &Job<'_>,
    change: UnitChange,
) -> Result<ConvertReport, ConvertError> {
    let path = job.input;
    sniff(input, path)?;
    let mut report = ConvertReport::default();
    let mut tally = Tally::default();
    let run = runner::Run {
        transformer: job.transformer,
        options: job.options,
        input: path,
        output: job.output,
        progress: job.progress,
        limits: runner::Limits { records: CHUNK_LINES, bytes: CHUNK_BYTES },
    };
    let mut lines = runner::Lines::new(input, super::MAX_RECORD_BYTES, path);
    let format = PointLines { change };
    run.records(&format, &mut lines, output, &mut report, &mut tally, |_, _, _| Ok(()))?;
    if report.features == 0 {
        return Err(ConvertError::Malformed {
            path: path.to_path_buf(),
            location: "line 1".into(),
            message: "no point lines (id,code,Y(east),X(north)[,H]): the file is empty or blank"
                .into(),
        });
    }
    tally.finish(&mut report, path)?;
    Ok(report)
}

/// CASS point lines, as the runner converts them (a line without H at height 0).
struct PointLines {
    change: UnitChange,
}

/// Where the text of `rec` starts: after a byte-order mark on line 1.
fn body_start(bytes: &[u8], rec: &Rec) -> usize {
    rec.start + if rec.line == 1 { bom_len(&bytes[rec.start..rec.end]) } else { 0 }
}

impl runner::RecordFormat for PointLines {
    type Item = PointLine;
    type Note = ();
    type Scratch = ();

    fn parse(
        &self,
        _: &mut (),
        bytes: &[u8],
        rec: &Rec,
        points: &mut Vec<[f64; 3]>,
    ) -> runner::Parsed<PointLine> {
        let start = body_start(bytes, rec);
        let body = &bytes[start..rec.body_end.max(start)];
        match parse_line(body) {
            Ok(Line::Blank) => runner::Parsed::Pass,
            Ok(Line::Point(p)) => {
                points.push([p.east, p.north, p.height.unwrap_or(0.0)]);
                runner::Parsed::Feature { item: p, points: 1 }
            }
            Err(LineError::Binary) => runner::Parsed::Malformed(binary_message()),
            Err(LineError::Invalid(reason)) => runner::Parsed::Failed(reason),
        }
    }

    /// Line `rec` with Y, X (and H, if the transformer changed it) replaced by the converted
    /// point, each written as the value it replaces was (see the module documentation).
    fn write(
        &self,
        bytes: &[u8],
        rec: &Rec,
        p: PointLine,
        converted: &[[f64; 3]],
        out: &mut Vec<u8>,
    ) {
        let converted = converted.first().copied().unwrap_or([f64::NAN; 3]);
        let base = body_start(bytes, rec);
        let [yr, xr, hr] = p.ranges.clone();
        out.extend_from_slice(&bytes[rec.start..base + yr.start]);
        p.written[0].push(converted[0], self.change, out);
        out.extend_from_slice(&bytes[base + yr.end..base + xr.start]);
        p.written[1].push(converted[1], self.change, out);
        match p.height {
            // A height changed by the transformer (ellipsoidal heights): written with its
            // decimals. An elevation comes back bit for bit and its text is copied.
            Some(h) if converted[2].to_bits() != h.to_bits() => {
                out.extend_from_slice(&bytes[base + xr.end..base + hr.start]);
                p.written[2].push(converted[2], UnitChange::None, out);
                out.extend_from_slice(&bytes[base + hr.end..rec.end]);
            }
            _ => out.extend_from_slice(&bytes[base + xr.end..rec.end]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(line: &str) -> PointLine {
        match parse_line(line.as_bytes()) {
            Ok(Line::Point(p)) => p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lines_parse_with_y_east_and_x_north() {
        let p = point("1,,500123.456,3400123.456,12.3");
        assert_eq!((p.east, p.north, p.height), (500_123.456, 3_400_123.456, Some(12.3)));
        assert_eq!(
            p.written,
            [Written::Decimals(3, false), Written::Decimals(3, false), Written::Decimals(1, false)]
        );
        let p = point("K1,KZD, 500123.4 ,3400123");
        assert_eq!((p.east, p.north, p.height), (500_123.4, 3_400_123.0, None));
        assert_eq!(&"K1,KZD, 500123.4 ,3400123"[p.ranges[0].clone()], "500123.4");
        let p = point("2,,5.1e5,3400123.,");
        assert_eq!(p.written[..2], [Written::Other, Written::Decimals(0, true)]);
        assert_eq!(p.height, None);
        assert_eq!(parse_line(b" \t\x1a"), Ok(Line::Blank));
        assert_eq!(parse_line(b""), Ok(Line::Blank));
    }

    #[test]
    fn bad_lines_say_why() {
        let err = |s: &[u8]| parse_line(s).unwrap_err().to_string();
        assert!(err(b"1,,500").starts_with("3 field(s); a CASS point line"));
        assert!(err(b"1,,1,2,3,4").starts_with("6 field(s)"));
        assert_eq!(err(b"1,,abc,2"), "Y (east, field 3) 'abc' is not a number");
        assert_eq!(err(b"1,,1, ,2"), "X (north, field 4) is empty");
        assert_eq!(err(b"1,,1,2,inf"), "H (field 5) 'inf' is not a number");
        assert_eq!(parse_line(b"1,\0,1,2"), Err(LineError::Binary));
        assert_eq!(parse_line(b"\0\0\0"), Err(LineError::Binary));
    }

    #[test]
    fn decimals_follow_the_source_and_the_unit() {
        let show = |w: Written, v: f64, c: UnitChange| {
            let mut out = Vec::new();
            w.push(v, c, &mut out);
            String::from_utf8(out).unwrap()
        };
        let d3 = Written::Decimals(3, false);
        assert_eq!(show(d3, 448_688.944_49, UnitChange::None), "448688.944");
        assert_eq!(show(d3, 116.404_123_456_7, UnitChange::MetresToDegrees), "116.404123457");
        assert_eq!(
            show(Written::Decimals(9, false), 448_688.944_49, UnitChange::DegreesToMetres),
            "448688.94449"
        );
        assert_eq!(show(Written::Decimals(2, false), 1.26, UnitChange::DegreesToMetres), "1");
        assert_eq!(show(Written::Decimals(0, true), 12.4, UnitChange::None), "12.");
        assert_eq!(show(Written::Other, 0.1 + 0.2, UnitChange::None), "0.30000000000000004");
    }
}
