//! `geounify transform`: `x y [z]` lines from stdin to stdout.
//!
//! The line format is documented once, in [`LONG_ABOUT`] (shown by `geounify transform --help`).

use crate::{output_error, report, EXIT_OK, EXIT_SOME_LINES_FAILED, EXIT_USAGE};
use geounify::convert::text::Number;
use geounify::{Registry, Transformer};
use std::io::{self, BufRead, BufReader, BufWriter, Write};

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
    let input = BufReader::with_capacity(1 << 16, io::stdin().lock());
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

/// Converts every line of `input` to `output` (format in [`LONG_ABOUT`]), reporting failed
/// lines on `errors` as `line N: reason`. Flushes `output` at the end.
pub(crate) fn convert(
    transformer: &Transformer,
    mut input: impl BufRead,
    mut output: impl Write,
    errors: &mut impl Write,
) -> Outcome {
    let mut failed = 0;
    let mut line = Vec::with_capacity(256);
    let mut number = 0u64;
    let stopped_by = loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => break output.flush().err().map(Stop::Write),
            Ok(_) => {}
            Err(error) => break Some(output.flush().err().map_or(Stop::Read(error), Stop::Write)),
        }
        number += 1;
        let (content, ending) = split_line_ending(&line);
        let written = match convert_line(transformer, content) {
            Converted::PassThrough => output.write_all(&line),
            Converted::Point { xyz, rest } => write_point(&mut output, xyz, rest, ending),
            Converted::Failed(reason) => {
                failed += 1;
                // Ignoring a failure to write to stderr: there is nowhere left to report it.
                let _ = errors.write_all(format!("line {number}: {reason}\n").as_bytes());
                output
                    .write_all(b"# error: ")
                    .and_then(|()| output.write_all(content))
                    .and_then(|()| output.write_all(ending))
            }
        };
        if let Err(error) = written {
            break Some(Stop::Write(error));
        }
    };
    Outcome { failed, stopped_by }
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

/// The result of converting one line.
#[derive(Debug, PartialEq)]
enum Converted<'a> {
    /// A blank or comment line: copied unchanged.
    PassThrough,
    /// The converted point (`z` present iff the input had it) and the text after the numbers.
    Point { xyz: (f64, f64, Option<f64>), rest: &'a [u8] },
    /// The reason the line could not be converted.
    Failed(String),
}

/// Converts the content of one line (without its line ending).
fn convert_line<'a>(transformer: &Transformer, content: &'a [u8]) -> Converted<'a> {
    let trimmed = content.trim_ascii_start();
    if trimmed.is_empty() || trimmed[0] == b'#' {
        return Converted::PassThrough;
    }
    if std::str::from_utf8(content).is_ok_and(|text| text.trim().is_empty()) {
        return Converted::PassThrough; // Unicode blanks only, e.g. U+3000
    }
    let parsed = match parse_line(content) {
        Ok(parsed) => parsed,
        Err(reason) => return Converted::Failed(reason),
    };
    let result = match parsed.z {
        Some(z) => transformer.transform([parsed.x, parsed.y, z]).map(|[x, y, z]| (x, y, Some(z))),
        None => transformer.transform_xy(parsed.x, parsed.y).map(|(x, y)| (x, y, None)),
    };
    match result {
        Ok(xyz) => Converted::Point { xyz, rest: parsed.rest },
        Err(error) => Converted::Failed(error.to_string()),
    }
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

/// Writes a converted line: `x y[ z]`, the text after the numbers, the line ending.
fn write_point(
    output: &mut impl Write,
    (x, y, z): (f64, f64, Option<f64>),
    rest: &[u8],
    ending: &[u8],
) -> io::Result<()> {
    match z {
        Some(z) => write!(output, "{} {} {}", Number(x), Number(y), Number(z))?,
        None => write!(output, "{} {}", Number(x), Number(y))?,
    }
    output.write_all(rest)?;
    output.write_all(ending)
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
