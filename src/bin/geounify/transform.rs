//! `geounify transform`: `x y [z]` lines from stdin to stdout.
//!
//! The line format is documented once, in [`LONG_ABOUT`] (shown by `geounify transform --help`).

use crate::{output_error, report, EXIT_OK, EXIT_SOME_LINES_FAILED, EXIT_USAGE};
use geounify::convert::text::Number;
use geounify::{Registry, Transformer};
use std::io::{self, BufWriter, Read, Write};

/// The long help of `geounify transform`: the exact input and output format.
pub(crate) const LONG_ABOUT: &str = "\
Convert `x y [z]` lines from standard input to standard output, one output line per input line,
in the same order.

Input: each line holds whitespace-separated (spaces or tabs) numbers x y and an optional z, in the
source CRS's units: x = easting or longitude, y = northing or latitude (always in that order,
whatever the EPSG registry says), degrees or metres, z = ellipsoidal height in metres. A third
token counts as z if it is a number (it contains a digit and parses as a decimal number, e.g.
`12`, `-3.5`, `1e3`); anything after the numbers is kept as is.

Output:
  - A converted line is x y, or x y z when the input had z, separated by one space, followed
    unchanged by everything after the last number on the input line (including its original
    whitespace). Whitespace before x is not kept. Without z the conversion is 2D (height 0 on
    the source datum) and no z is written.
  - Numbers are the shortest decimal that reads back as exactly the same 64-bit float: plain
    decimal (`116.404`, `4418560.123456789`, `-0` for negative zero) when 1e-7 <= |v| < 1e21 or
    v is zero, otherwise scientific notation (`1.5e-8`, `1e300`). An input number already in
    this form is written with exactly the same digits when the conversion does not change it.
  - Blank lines and lines whose first non-blank character is `#` are copied unchanged (they
    need not be valid UTF-8).
  - Line endings are kept: a CRLF line gives a CRLF line, and a last line without a line ending
    gives an output line without one.
  - The text after the numbers is copied byte for byte, whatever its encoding (UTF-8, GBK, ...);
    only the numbers must be ASCII.
  - A line that cannot be read or converted (not a number, only one number, latitude beyond
    ±90°, outside the domain of a projection, ...) is reported on standard
    error as `line N: <reason>` (N counts every input line from 1, comments and blank lines
    included), and written to standard output as `# error: ` followed by the original line
    unchanged, so output line N always corresponds to input line N and the other lines are
    still converted. The exit status is then 1.

A closed standard output (e.g. `| head`) ends the program quietly.";

/// Exit status of `geounify transform --from from --to to`, after converting stdin to stdout.
pub(crate) fn run(registry: &Registry, from: &str, to: &str) -> u8 {
    let transformer = match registry.transformer(from, to) {
        Ok(t) => t,
        Err(error) => {
            report(error);
            return EXIT_USAGE;
        }
    };
    let input = io::stdin().lock();
    let output = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let outcome = convert(&transformer, input, output, &mut io::stderr().lock());
    let status_so_far = if outcome.failed > 0 { EXIT_SOME_LINES_FAILED } else { EXIT_OK };
    if outcome.failed > 0 {
        let s = if outcome.failed == 1 { "" } else { "s" };
        report(format_args!("{} line{s} could not be converted", outcome.failed));
    }
    match outcome.stopped_by {
        None => status_so_far,
        Some(Stop::Read(error)) => {
            report(format_args!("cannot read standard input: {error}"));
            EXIT_USAGE
        }
        Some(Stop::Write(error)) => output_error(&error, status_so_far),
    }
}

/// What [`convert`] did.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// Lines that could not be converted.
    pub failed: u64,
    /// Why the conversion stopped before the end of the input, if it did.
    pub stopped_by: Option<Stop>,
}

/// An I/O error that stopped the conversion.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Reading the input failed.
    Read(io::Error),
    /// Writing (or flushing) the output failed.
    Write(io::Error),
}

/// Input bytes per block: a block ends at the first line end after this many bytes.
const BLOCK_BYTES: usize = 512 << 10;
/// Blocks converted together (in parallel), then written in order: with the converted text,
/// about 10 MB in memory at most (more only for a single line longer than a block).
const BLOCKS_PER_ROUND: usize = 8;

/// Converts every line of `input` to `output` (format in [`LONG_ABOUT`]), reporting failed
/// lines on `errors` as `line N: reason`. Flushes `output` at the end.
///
/// The input is read in blocks of whole lines; each round of [`BLOCKS_PER_ROUND`] blocks is
/// converted in parallel (parsing, one batch transform per block, formatting) and written in
/// input order, so output lines and error reports come in the order of the input lines. The
/// blocks' buffers are reused from round to round.
pub(crate) fn convert(
    transformer: &Transformer,
    input: impl Read,
    mut output: impl Write,
    errors: &mut impl Write,
) -> Outcome {
    use rayon::prelude::*;
    let mut reader = Blocks::new(input);
    let mut failed = 0;
    let mut lines_before = 0u64;
    let mut blocks: Vec<Vec<u8>> = (0..BLOCKS_PER_ROUND).map(|_| Vec::new()).collect();
    let mut converted: Vec<BlockOut> = (0..BLOCKS_PER_ROUND).map(|_| BlockOut::default()).collect();
    let mut report = Vec::new();
    let stopped_by = loop {
        let mut filled = 0;
        let mut read_error = None;
        while filled < BLOCKS_PER_ROUND {
            match reader.next_block(&mut blocks[filled]) {
                Ok(true) => filled += 1,
                Ok(false) => break,
                Err(error) => {
                    read_error = Some(error);
                    break;
                }
            }
        }
        blocks[..filled]
            .par_iter()
            .zip(converted[..filled].par_iter_mut())
            .for_each(|(block, out)| convert_block(transformer, block, out));
        let mut written = Ok(());
        for block in &converted[..filled] {
            report.clear();
            for (index, reason) in &block.errors {
                let number = lines_before + *index as u64 + 1;
                // Writing to a `Vec` cannot fail.
                let _ = writeln!(report, "line {number}: {reason}");
            }
            failed += block.errors.len() as u64;
            lines_before += block.lines.len() as u64;
            // Ignoring a failure to write to stderr: there is nowhere left to report it.
            let _ = errors.write_all(&report);
            written = output.write_all(&block.text);
            if written.is_err() {
                break;
            }
        }
        if let Err(error) = written {
            break Some(Stop::Write(error));
        }
        if let Some(error) = read_error {
            break Some(output.flush().err().map_or(Stop::Read(error), Stop::Write));
        }
        if filled < BLOCKS_PER_ROUND {
            break output.flush().err().map(Stop::Write);
        }
    };
    Outcome { failed, stopped_by }
}

/// Reads the input in blocks of whole lines.
struct Blocks<R> {
    input: R,
    /// The bytes after the last line end of the previous block.
    carry: Vec<u8>,
    at_end: bool,
}

impl<R: Read> Blocks<R> {
    fn new(input: R) -> Self {
        Self { input, carry: Vec::new(), at_end: false }
    }

    /// Replaces `block` with the next block: whole lines (with their line endings) of at least
    /// [`BLOCK_BYTES`], or the rest of the input (whose last line may lack a line ending);
    /// `false` at the end of the input.
    fn next_block(&mut self, block: &mut Vec<u8>) -> io::Result<bool> {
        block.clear();
        block.extend_from_slice(&self.carry);
        self.carry.clear();
        let mut searched = 0;
        loop {
            if !self.at_end && block.len() < BLOCK_BYTES.max(searched + 1) {
                self.fill(block)?;
                continue;
            }
            if self.at_end {
                return Ok(!block.is_empty());
            }
            // Lines end after the last LF; a line longer than the block reads on.
            match block[searched..].iter().rposition(|&b| b == b'\n') {
                Some(i) => {
                    let end = searched + i + 1;
                    self.carry.extend_from_slice(&block[end..]);
                    block.truncate(end);
                    return Ok(true);
                }
                None => {
                    searched = block.len();
                    self.fill(block)?;
                }
            }
        }
    }

    /// Reads once more into `block` (at least [`BLOCK_BYTES`] more room); sets `at_end` at the
    /// end of the input.
    fn fill(&mut self, block: &mut Vec<u8>) -> io::Result<()> {
        let len = block.len();
        block.resize(len + BLOCK_BYTES, 0);
        let result = loop {
            match self.input.read(&mut block[len..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other,
            }
        };
        match result {
            Ok(n) => {
                block.truncate(len + n);
                self.at_end = n == 0;
                Ok(())
            }
            Err(error) => {
                block.truncate(len);
                Err(error)
            }
        }
    }
}

/// One block converted, and the block's working buffers (reused from round to round).
#[derive(Default)]
struct BlockOut {
    /// The output lines.
    text: Vec<u8>,
    /// The failed lines: index in the block (from 0) and reason.
    errors: Vec<(usize, String)>,
    /// Every line of the block: where it ends in the block, and what it became.
    lines: Vec<(usize, Kind)>,
    /// The block's points `[x, y, z]` (z = 0 without a z value).
    points: Vec<[f64; 3]>,
}

/// What one line of a block became, before the batch transform.
enum Kind {
    PassThrough,
    /// The next point of the block: the length of the text after its numbers, whether it had z.
    Point {
        rest_len: usize,
        has_z: bool,
    },
    Failed(String),
}

/// Converts a block of lines into `out`: parses every line, transforms the block's points in one
/// batch (2D points with height 0, as [`Transformer::transform_xy`]), formats the output lines.
fn convert_block(transformer: &Transformer, block: &[u8], out: &mut BlockOut) {
    out.text.clear();
    out.errors.clear();
    out.lines.clear();
    out.points.clear();
    let mut end = 0;
    for line in block.split_inclusive(|&b| b == b'\n') {
        end += line.len();
        let (content, _) = split_line_ending(line);
        let kind = match parse_content(content) {
            Ok(None) => Kind::PassThrough,
            Ok(Some(parsed)) => {
                out.points.push([parsed.x, parsed.y, parsed.z.unwrap_or(0.0)]);
                Kind::Point { rest_len: parsed.rest.len(), has_z: parsed.z.is_some() }
            }
            Err(reason) => Kind::Failed(reason),
        };
        out.lines.push((end, kind));
    }
    let report = transformer.transform_slice(&mut out.points);
    let mut failures = report.failures.into_iter().peekable();
    let text = &mut out.text;
    text.reserve(block.len() + block.len() / 4);
    let (mut start, mut point) = (0, 0);
    for (index, (end, kind)) in out.lines.iter().enumerate() {
        let line = &block[start..*end];
        start = *end;
        let (content, ending) = split_line_ending(line);
        let reason = match kind {
            Kind::PassThrough => {
                text.extend_from_slice(line);
                continue;
            }
            Kind::Point { rest_len, has_z } => {
                let k = point;
                point += 1;
                match failures.next_if(|f| f.index == k) {
                    Some(failure) => failure.error.to_string(),
                    None => {
                        let [x, y, z] = out.points[k];
                        Number(x).push_to(text);
                        text.push(b' ');
                        Number(y).push_to(text);
                        if *has_z {
                            text.push(b' ');
                            Number(z).push_to(text);
                        }
                        text.extend_from_slice(&content[content.len() - rest_len..]);
                        text.extend_from_slice(ending);
                        continue;
                    }
                }
            }
            Kind::Failed(reason) => reason.clone(),
        };
        text.extend_from_slice(b"# error: ");
        text.extend_from_slice(content);
        text.extend_from_slice(ending);
        out.errors.push((index, reason));
    }
}

/// Splits a line read with `read_until(b'\n')` into its content and its line ending (`\r\n`,
/// `\n`, a lone `\r` at the end of the input, or nothing).
fn split_line_ending(line: &[u8]) -> (&[u8], &[u8]) {
    let ending_len = match line {
        [.., b'\r', b'\n'] => 2,
        [.., b'\n'] | [.., b'\r'] => 1,
        _ => 0,
    };
    line.split_at(line.len() - ending_len)
}

/// Parses the content of one line (without its line ending): `None` for a blank or comment
/// line (copied unchanged), the numbers, or the reason the line cannot be read.
fn parse_content(content: &[u8]) -> Result<Option<Parsed<'_>>, String> {
    let trimmed = content.trim_ascii_start();
    if trimmed.is_empty() || trimmed[0] == b'#' {
        return Ok(None);
    }
    // Unicode blanks only, e.g. U+3000 (every non-ASCII blank starts with a byte >= 0x80).
    if trimmed[0] >= 0x80 && std::str::from_utf8(content).is_ok_and(|t| t.trim().is_empty()) {
        return Ok(None);
    }
    parse_line(content).map(Some)
}

/// The numbers of one input line and the text after them.
#[derive(Debug, PartialEq)]
struct Parsed<'a> {
    x: f64,
    y: f64,
    z: Option<f64>,
    /// Everything after the last number, including its leading whitespace, as bytes: it is
    /// copied unchanged whatever its encoding (UTF-8, GBK, ...).
    rest: &'a [u8],
}

/// Parses `x y [z] [text]`; the error is the reason, for `line N: {reason}`.
fn parse_line(text: &[u8]) -> Result<Parsed<'_>, String> {
    let Some((x_token, after_x)) = next_token(text) else {
        return Err("expected `x y [z]`, found nothing".to_string());
    };
    let x = coordinate("x", x_token)?;
    let Some((y_token, after_y)) = next_token(after_x) else {
        return Err("expected `x y [z]`, found only one number".to_string());
    };
    let y = coordinate("y", y_token)?;
    if let Some((z_token, after_z)) = next_token(after_y) {
        if let Some(z) = number(z_token) {
            if !z.is_finite() {
                return Err(format!("z {} is too large for a 64-bit float", quoted(z_token)));
            }
            return Ok(Parsed { x, y, z: Some(z), rest: after_z });
        }
    }
    Ok(Parsed { x, y, z: None, rest: after_y })
}

/// The next token of `text` separated by ASCII whitespace (spaces, tabs), and the text after
/// it.
fn next_token(text: &[u8]) -> Option<(&[u8], &[u8])> {
    let start = text.trim_ascii_start();
    if start.is_empty() {
        return None;
    }
    let end = start.iter().position(u8::is_ascii_whitespace).unwrap_or(start.len());
    Some(start.split_at(end))
}

/// The token as a number: it contains an ASCII digit and parses as an `f64` (so `nan`, `inf`
/// and words are not numbers; `1e999` is, and overflows to infinity).
fn number(token: &[u8]) -> Option<f64> {
    if token.iter().any(u8::is_ascii_digit) {
        std::str::from_utf8(token).ok()?.parse().ok()
    } else {
        None
    }
}

/// Parses the `axis` coordinate (x or y) from its token.
fn coordinate(axis: &str, token: &[u8]) -> Result<f64, String> {
    match number(token) {
        Some(v) if v.is_finite() => Ok(v),
        Some(_) => Err(format!("{axis} {} is too large for a 64-bit float", quoted(token))),
        None => {
            let hint = if token.iter().any(|b| matches!(b, b',' | b';')) {
                " (separate the coordinates with spaces or tabs)"
            } else {
                ""
            };
            Err(format!("{axis} {} is not a number{hint}", quoted(token)))
        }
    }
}

/// The token in single quotes, shortened to 40 characters (bytes that are not UTF-8 shown as
/// U+FFFD).
fn quoted(token: &[u8]) -> String {
    const MAX: usize = 40;
    let token = String::from_utf8_lossy(token);
    match token.char_indices().nth(MAX) {
        Some((cut, _)) => format!("'{}…'", &token[..cut]),
        None => format!("'{token}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(v: f64) -> String {
        Number(v).to_string()
    }

    #[test]
    fn numbers_are_shortest_round_trip() {
        assert_eq!(show(116.404), "116.404");
        assert_eq!(show(0.0), "0");
        assert_eq!(show(-0.0), "-0");
        assert_eq!(show(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(show(4_418_560.5), "4418560.5");
        assert_eq!(show(1e-7), "0.0000001");
        assert_eq!(show(9.9e-8), "9.9e-8");
        assert_eq!(show(-1.5e-300), "-1.5e-300");
        assert_eq!(show(1e21), "1e21");
        assert_eq!(show(123_456_789_012_345_680_000.0), "123456789012345680000");
        assert_eq!(show(f64::MAX), "1.7976931348623157e308");
        assert_eq!(show(f64::MIN_POSITIVE / 4.0), "5.562684646268003e-309");
        for v in [1e-7, 9.9e-8, f64::MAX, 5e-324, 0.1 + 0.2, -123.456e19, 1e21 * 0.999] {
            assert_eq!(show(v).parse::<f64>().map(f64::to_bits), Ok(v.to_bits()), "{v}");
        }
    }

    /// Reads at most `step` bytes at a time (a pipe that delivers little at once).
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.data.len().min(buf.len()).min(self.step);
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// The output and error report of converting `input` one line at a time, point by point.
    fn line_by_line(t: &Transformer, input: &[u8]) -> (Vec<u8>, String) {
        let (mut out, mut errors) = (Vec::new(), String::new());
        for (i, line) in input.split_inclusive(|&b| b == b'\n').enumerate() {
            let (content, ending) = split_line_ending(line);
            let result = match parse_content(content) {
                Ok(None) => {
                    out.extend_from_slice(line);
                    continue;
                }
                Ok(Some(p)) => match p.z {
                    Some(z) => t
                        .transform([p.x, p.y, z])
                        .map(|[x, y, z]| format!("{} {} {}", Number(x), Number(y), Number(z))),
                    None => t
                        .transform_xy(p.x, p.y)
                        .map(|(x, y)| format!("{} {}", Number(x), Number(y))),
                }
                .map(|text| (text, p.rest))
                .map_err(|e| e.to_string()),
                Err(reason) => Err(reason),
            };
            match result {
                Ok((text, rest)) => {
                    out.extend_from_slice(text.as_bytes());
                    out.extend_from_slice(rest);
                    out.extend_from_slice(ending);
                }
                Err(reason) => {
                    errors.push_str(&format!("line {}: {reason}\n", i + 1));
                    out.extend_from_slice(b"# error: ");
                    out.extend_from_slice(content);
                    out.extend_from_slice(ending);
                }
            }
        }
        (out, errors)
    }

    /// Many rounds of blocks, a line longer than a block, failures on both sides of block
    /// edges, CRLF and a last line without a line ending: the same bytes, the same `line N`
    /// reports in the same order as converting line by line, however the input arrives.
    #[test]
    fn blocks_give_the_line_by_line_result() {
        let t = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
        let mut input = Vec::new();
        let mut i = 0u64;
        while input.len() < 3 * BLOCKS_PER_ROUND * BLOCK_BYTES {
            let lon = 112.5 + (i % 3001) as f64 * 0.001;
            let lat = 22.0 + (i % 20011) as f64 * 0.001;
            let line = match i % 1009 {
                0 => "# comment 天安门\n".to_string(),
                1 => format!("{lon} 95 too far north\n"),
                2 => "abc 39.9\r\n".to_string(),
                3 => "\n".to_string(),
                4 => format!("{lon} {lat} 12.5 with height\r\n"),
                5 if i.is_multiple_of(7) => format!("# {}\n", "x".repeat(BLOCK_BYTES + 1000)),
                _ => format!("{lon:.9}\t{lat:.9} p{i}\n"),
            };
            input.extend_from_slice(line.as_bytes());
            i += 1;
        }
        input.extend_from_slice(b"116.4 39.9 last");
        let (expected_out, expected_errors) = line_by_line(&t, &input);
        assert!(expected_errors.lines().count() > 10);
        for step in [usize::MAX, 100_003, 4096] {
            let (mut out, mut errors) = (Vec::new(), Vec::new());
            let outcome = convert(&t, Trickle { data: &input, step }, &mut out, &mut errors);
            assert!(outcome.stopped_by.is_none());
            assert_eq!(outcome.failed, expected_errors.lines().count() as u64);
            assert!(out == expected_out, "output differs, reads of {step} bytes");
            assert_eq!(String::from_utf8(errors).unwrap(), expected_errors);
        }
    }

    #[test]
    fn line_endings() {
        assert_eq!(split_line_ending(b"1 2\r\n"), (&b"1 2"[..], &b"\r\n"[..]));
        assert_eq!(split_line_ending(b"1 2\n"), (&b"1 2"[..], &b"\n"[..]));
        assert_eq!(split_line_ending(b"1 2"), (&b"1 2"[..], &b""[..]));
        assert_eq!(split_line_ending(b"\r"), (&b""[..], &b"\r"[..]));
    }

    #[test]
    fn parsing() {
        let p = parse_line(b"  116.404\t39.915   Tian'anmen  gate ").unwrap();
        assert_eq!((p.x, p.y, p.z, p.rest), (116.404, 39.915, None, &b"   Tian'anmen  gate "[..]));
        let p = parse_line(b"1 2 3.5 name").unwrap();
        assert_eq!((p.z, p.rest), (Some(3.5), &b" name"[..]));
        let p = parse_line(b"1 2 nan").unwrap();
        assert_eq!((p.z, p.rest), (None, &b" nan"[..]));
        let p = parse_line(b"1 2 3").unwrap();
        assert_eq!((p.z, p.rest), (Some(3.0), &b""[..]));
        // GBK text after the numbers (天安门 = CC EC B0 B2 C3 C5) is kept byte for byte.
        let p = parse_line(b"116.404 39.915 \xCC\xEC\xB0\xB2\xC3\xC5").unwrap();
        assert_eq!((p.z, p.rest), (None, &b" \xCC\xEC\xB0\xB2\xC3\xC5"[..]));
        assert_eq!(parse_line(b"1").unwrap_err(), "expected `x y [z]`, found only one number");
        assert_eq!(parse_line(b"abc 2").unwrap_err(), "x 'abc' is not a number");
        assert_eq!(parse_line(b"1 inf").unwrap_err(), "y 'inf' is not a number");
        assert_eq!(
            parse_line(b"116.4,39.9").unwrap_err(),
            "x '116.4,39.9' is not a number (separate the coordinates with spaces or tabs)"
        );
        assert_eq!(
            parse_line(b"1e999 2").unwrap_err(),
            "x '1e999' is too large for a 64-bit float"
        );
        assert_eq!(
            parse_line(b"1 2 -1e400").unwrap_err(),
            "z '-1e400' is too large for a 64-bit float"
        );
        let long = "x".repeat(100);
        assert_eq!(
            parse_line(long.as_bytes()).unwrap_err(),
            format!("x '{}…' is not a number", "x".repeat(40))
        );
    }
}
