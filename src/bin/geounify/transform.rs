//! `geounify transform`: `x y [z]` lines from stdin to stdout.
//!
//! The line format is documented once, in [`LONG_ABOUT`] (shown by `geounify transform --help`).

use crate::estimate::AxisOrder;
use crate::{output_error, report, TransformArgs, EXIT_OK, EXIT_SOME_LINES_FAILED, EXIT_USAGE};
use geounify::convert::sanity::{self, Finding, SAMPLE_SIZE};
use geounify::convert::text::{degree_decimals, Fixed, Number};
use geounify::{Crs, CrsKind, Heights, Registry, Transformer};
use std::collections::VecDeque;
use std::io::{self, BufWriter, Read, Write};

/// The long help of `geounify transform`: the exact input and output format.
pub(crate) const LONG_ABOUT: &str = concat!(
    "\
Convert `x y [z]` lines from standard input to standard output, one output line per input line,
in the same order.

Input: each line holds whitespace-separated (spaces or tabs) numbers x y and an optional z, in the
source CRS's units: x = easting or longitude, y = northing or latitude (in that order, whatever
the EPSG registry says, unless --axis-order north_east), degrees or metres, z = a height in
metres (see Heights below; for a geocentric CRS, X Y Z, all three required). A third token
counts as z if it is a number (it contains a digit and parses as a decimal number, e.g. `12`,
`-3.5`, `1e3`); anything after the numbers is kept as is. A line
may be at most 64 MiB long (without its line ending): a longer one stops the conversion there
with `standard input, line N: longer than 64 MiB`, exit status 2, after the lines before it
were converted and written.

--axis-order north_east: the first number of every input and output line is the northing and
the second the easting (survey tables: X = north, Y = east), for projected CRSs of the source
and of the target alike; for geographic CRSs (and GCJ-02, BD-09) it is latitude first, then
longitude. z stays third. The default is east_north.

Sanity check: before anything is written, the first 1000 coordinate lines (those of the first
64 MiB if fewer; comments, blank and unreadable lines do not count) are checked against --from,
as `geounify convert` checks a file: if more than half of them show easting and northing (or
latitude and longitude) swapped, a missing, extra or wrong Gauss-Krüger zone prefix, degrees
where metres are expected or the reverse, or points more than 2° outside the CRS's area of use,
nothing is converted: the reason goes to standard error (naming --axis-order when the other
order fits) and the exit status is 2. --force converts without the check.

",
    heights_help!(),
    "
Output:
  - A converted line is x y, or x y z when the input had z, separated by one space, followed
    unchanged by everything after the last number on the input line (including its original
    whitespace). Whitespace before x is not kept. Without z no z is written; x y are the same
    as with any z between 2D CRSs (height 0 on the source datum).
  - Numbers are the shortest decimal that reads back as exactly the same 64-bit float: plain
    decimal (`116.404`, `4418560.123456789`, `-0` for negative zero) when 1e-7 <= |v| < 1e21 or
    v is zero, otherwise scientific notation (`1.5e-8`, `1e300`). An input number already in
    this form is written with exactly the same digits when the conversion does not change it.
  - With --precision N (0 to 12), numbers are plain decimal with a fixed number of decimals: N
    for metres (x and y of a projected target, and z), N + 6 for degrees (x and y of a
    geographic, GCJ-02 or BD-09 target): 10^-(N+6) degree is at most 0.112 * 10^-N m on the
    ground, so degrees are never coarser than metres (--precision 3: millimetres, and 1e-9
    degree = 0.11 mm). Each number is the exact binary value rounded to the nearest multiple
    of the step (ties, exact halves only, to even: 0.125 to 2 decimals is 0.12; 2.675, stored
    as 2.67499999..., gives 2.67); a value that rounds to zero is written without a minus sign.
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

A closed standard output (e.g. `| head`) ends the program quietly.",
);

/// Exit status of `geounify transform`, after converting stdin to stdout.
pub(crate) fn run(registry: &Registry, args: &TransformArgs) -> u8 {
    let (source, target) = match (registry.lookup(&args.from), registry.lookup(&args.to)) {
        (Ok(s), Ok(t)) => (s, t),
        (Err(error), _) | (_, Err(error)) => {
            report(error);
            return EXIT_USAGE;
        }
    };
    let heights = if args.ellipsoidal_heights { Heights::Ellipsoidal } else { Heights::Elevation };
    let transformer = match Transformer::with_heights(&source, &target, heights) {
        Ok(t) => t,
        Err(error) => {
            report(error);
            return EXIT_USAGE;
        }
    };
    let precision = args.precision.map(usize::from);
    let options = Options {
        check: (!args.force).then_some(&source),
        north_east: args.axis_order == AxisOrder::NorthEast,
        xy_decimals: precision.map(|n| if target.is_angular() { degree_decimals(n) } else { n }),
        z_decimals: precision,
        always_z: matches!(target.kind(), CrsKind::Geocentric),
        z_required: matches!(source.kind(), CrsKind::Geocentric),
    };
    let input = io::stdin().lock();
    let output = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let outcome = convert(&transformer, input, output, &mut io::stderr().lock(), &options);
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
        Some(Stop::LineTooLong { line }) => {
            report(format_args!(
                "standard input, line {line}: longer than {} MiB, the limit for one line; stopped \
                 there (the lines before it were converted)",
                MAX_LINE >> 20
            ));
            EXIT_USAGE
        }
        Some(Stop::Implausible { finding, sampled, fits_other_order }) => {
            report(refusal(source.id(), &finding, sampled, fits_other_order, options.north_east));
            EXIT_USAGE
        }
        Some(Stop::Write(error)) => output_error(&error, status_so_far),
    }
}

/// The message for first lines that cannot belong to CRS `id` (see [`Stop::Implausible`]).
fn refusal(
    id: &str,
    finding: &Finding,
    sampled: usize,
    fits_other: bool,
    north_east: bool,
) -> String {
    let mut message = "standard input".to_string();
    if north_east {
        // The finding names x and y in the east-north order the check works in.
        message.push_str(" (read with --axis-order north_east; below, x = easting or longitude)");
    }
    message.push_str(": ");
    message.push_str(&finding.problem);
    match &finding.looks_like {
        // "swap the columns" is replaced by the option that does it.
        Some(guess) if !fits_other => message.push_str(&format!("; {guess}")),
        _ => {}
    }
    if sampled == 1 {
        message.push_str(" (checked: the first coordinate line); nothing converted: ");
    } else {
        message.push_str(&format!(
            " (checked: the first {sampled} coordinate lines); nothing converted: "
        ));
    }
    if fits_other && north_east {
        message.push_str(&format!(
            "the lines fit {id} in the default axis order east_north (first number easting or \
             longitude): leave out --axis-order north_east, or "
        ));
    } else if fits_other {
        message.push_str(&format!(
            "the lines fit {id} with --axis-order north_east (first number northing or \
             latitude): use it, or "
        ));
    }
    message.push_str("use --force to convert anyway");
    message
}

/// How [`convert`] reads and writes the lines.
#[derive(Debug, Default)]
pub(crate) struct Options<'a> {
    /// Check the first lines against this source CRS ([`sanity::check`]) and convert nothing if
    /// they cannot belong to it; `None` (`--force`) converts without checking.
    pub check: Option<&'a Crs>,
    /// `--axis-order north_east`: the first number of each input and output line is the
    /// northing (latitude), the second the easting (longitude).
    pub north_east: bool,
    /// Decimal places of the x and y written (`None`: the shortest round-trip form).
    pub xy_decimals: Option<usize>,
    /// Decimal places of the z written (`None`: the shortest round-trip form).
    pub z_decimals: Option<usize>,
    /// Write z on every converted line, also for input lines without one: the target is
    /// geocentric, where Z is a coordinate, not a height.
    pub always_z: bool,
    /// A line without z is an error: the source is geocentric (X Y Z are all coordinates).
    pub z_required: bool,
}

/// What [`convert`] did.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// Lines that could not be converted.
    pub failed: u64,
    /// Why the conversion stopped before the end of the input, if it did.
    pub stopped_by: Option<Stop>,
}

/// Why the conversion stopped before the end of the input.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Reading the input failed.
    Read(io::Error),
    /// Input line `line` (from 1) is longer than [`MAX_LINE`]; the lines before it were
    /// converted and written.
    LineTooLong { line: u64 },
    /// The first lines cannot belong to the source CRS; nothing was written.
    Implausible {
        /// What is wrong.
        finding: Finding,
        /// How many coordinate lines were checked.
        sampled: usize,
        /// Whether they would pass with the other `--axis-order`.
        fits_other_order: bool,
    },
    /// Writing (or flushing) the output failed.
    Write(io::Error),
}

/// The longest input line, in bytes, not counting its line ending (64 MiB, like a CSV record or
/// a WKT line of `geounify convert`). A longer line stops the conversion there, after reading
/// at most this much of it (plus a block).
pub(crate) const MAX_LINE: usize = 64 << 20;

/// The sanity check looks at the first [`SAMPLE_SIZE`] coordinate lines, or those within the
/// first blocks totalling at least this many bytes, whichever comes first (so comments or
/// failed lines cannot make it buffer the whole input).
const SAMPLE_BYTES: usize = 64 << 20;

/// A block reader's failure.
#[derive(Debug)]
enum ReadStop {
    Io(io::Error),
    /// The first line of the block being read is longer than [`MAX_LINE`].
    LineTooLong,
}

/// Input bytes per block: a block ends at the first line end after this many bytes.
const BLOCK_BYTES: usize = 512 << 10;
/// Blocks converted together (in parallel), then written in order: with the converted text,
/// about 10 MB in memory at most (more only for a single line longer than a block).
const BLOCKS_PER_ROUND: usize = 8;

/// Converts every line of `input` to `output` (format in [`LONG_ABOUT`]), reporting failed
/// lines on `errors` as `line N: reason`. Flushes `output` at the end.
///
/// With `options.check`, the first [`SAMPLE_SIZE`] coordinate lines (within the first
/// [`SAMPLE_BYTES`]) are read ahead and checked first ([`sanity::check`]): if they cannot
/// belong to the source CRS, nothing is written and the outcome says why.
///
/// The input is read in blocks of whole lines; each round of [`BLOCKS_PER_ROUND`] blocks is
/// converted in parallel (parsing, one batch transform per block, formatting) and written in
/// input order, so output lines and error reports come in the order of the input lines. The
/// blocks' buffers are reused from round to round. A line longer than [`MAX_LINE`] stops the
/// conversion after the lines before it.
pub(crate) fn convert(
    transformer: &Transformer,
    input: impl Read,
    mut output: impl Write,
    errors: &mut impl Write,
    options: &Options<'_>,
) -> Outcome {
    use rayon::prelude::*;
    let mut reader = ReadAhead::new(Blocks::new(input));
    if let Some(source) = options.check {
        if let Some(stop) = reader.check(source, options.north_east) {
            return Outcome { failed: 0, stopped_by: Some(stop) };
        }
    }
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
            .for_each(|(block, out)| convert_block(transformer, block, out, options));
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
            let stop = match error {
                ReadStop::Io(error) => Stop::Read(error),
                // The too-long line starts the block that could not be read.
                ReadStop::LineTooLong => Stop::LineTooLong { line: lines_before + 1 },
            };
            break Some(output.flush().err().map_or(stop, Stop::Write));
        }
        if filled < BLOCKS_PER_ROUND {
            break output.flush().err().map(Stop::Write);
        }
    };
    Outcome { failed, stopped_by }
}

/// [`Blocks`] with the blocks the sanity check read ahead, handed out first.
struct ReadAhead<R> {
    blocks: Blocks<R>,
    ahead: VecDeque<Vec<u8>>,
    /// The error that ended the read-ahead, handed out after its blocks.
    error: Option<ReadStop>,
}

impl<R: Read> ReadAhead<R> {
    fn new(blocks: Blocks<R>) -> Self {
        Self { blocks, ahead: VecDeque::new(), error: None }
    }

    /// Reads ahead the blocks holding the first [`SAMPLE_SIZE`] coordinate lines (or at least
    /// [`SAMPLE_BYTES`], or up to the end or a read error) and checks those lines against
    /// `source`; the reason to stop if they cannot belong to it.
    fn check(&mut self, source: &Crs, north_east: bool) -> Option<Stop> {
        let mut samples = Vec::new();
        let mut bytes = 0;
        while samples.len() < SAMPLE_SIZE && bytes < SAMPLE_BYTES {
            let mut block = Vec::new();
            match self.blocks.next_block(&mut block) {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => {
                    self.error = Some(error);
                    break;
                }
            }
            for line in block.split_inclusive(|&b| b == b'\n') {
                if samples.len() == SAMPLE_SIZE {
                    break;
                }
                if let Ok(Some(p)) = parse_content(split_line_ending(line).0) {
                    let (x, y) = if north_east { (p.y, p.x) } else { (p.x, p.y) };
                    samples.push([x, y, p.z.unwrap_or(0.0)]);
                }
            }
            bytes += block.len();
            self.ahead.push_back(block);
        }
        let finding = sanity::check(source, &samples)?;
        let swapped: Vec<[f64; 3]> = samples.iter().map(|p| [p[1], p[0], p[2]]).collect();
        Some(Stop::Implausible {
            finding,
            sampled: samples.len(),
            fits_other_order: sanity::check(source, &swapped).is_none(),
        })
    }

    /// The next block: a read-ahead one, the read-ahead's error, then [`Blocks::next_block`].
    fn next_block(&mut self, block: &mut Vec<u8>) -> Result<bool, ReadStop> {
        if let Some(ahead) = self.ahead.pop_front() {
            *block = ahead;
            return Ok(true);
        }
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        self.blocks.next_block(block)
    }
}

/// Reads the input in blocks of whole lines.
struct Blocks<R> {
    input: R,
    /// The bytes after the last line end of the previous block.
    carry: Vec<u8>,
    at_end: bool,
    /// A read error, reported by the call after the one that returned the whole lines read
    /// before it.
    error: Option<io::Error>,
}

impl<R: Read> Blocks<R> {
    fn new(input: R) -> Self {
        Self { input, carry: Vec::new(), at_end: false, error: None }
    }

    /// Replaces `block` with the next block: whole lines (with their line endings) of at least
    /// [`BLOCK_BYTES`], or the rest of the input (whose last line may lack a line ending);
    /// `false` at the end of the input. A first line longer than [`MAX_LINE`] (only the first
    /// line of a block can be longer than a block) is an error, found after reading at most
    /// [`MAX_LINE`] + [`BLOCK_BYTES`] of it. On a read error, the whole lines read before it
    /// are returned first (the incomplete line at the error is dropped, never converted as if
    /// it were complete), and the error on the next call.
    fn next_block(&mut self, block: &mut Vec<u8>) -> Result<bool, ReadStop> {
        if let Some(error) = self.error.take() {
            return Err(ReadStop::Io(error));
        }
        block.clear();
        block.extend_from_slice(&self.carry);
        self.carry.clear();
        let mut searched = 0;
        loop {
            if !self.at_end && block.len() < BLOCK_BYTES.max(searched + 1) {
                if let Err(error) = self.fill(block) {
                    return self.failed(block, searched, error);
                }
                continue;
            }
            if self.at_end {
                if searched > 0 && first_line_len(block, searched) > MAX_LINE {
                    return Err(ReadStop::LineTooLong);
                }
                return Ok(!block.is_empty());
            }
            // Lines end after the last LF; a line longer than the block reads on.
            match block[searched..].iter().rposition(|&b| b == b'\n') {
                Some(i) => {
                    if searched > 0 && first_line_len(block, searched) > MAX_LINE {
                        return Err(ReadStop::LineTooLong);
                    }
                    let end = searched + i + 1;
                    self.carry.extend_from_slice(&block[end..]);
                    block.truncate(end);
                    return Ok(true);
                }
                None => {
                    // No LF in the whole block: all of it is the start of one line, and more
                    // than MAX_LINE + 1 bytes are more than MAX_LINE without a CR LF ending.
                    if block.len() > MAX_LINE + 1 {
                        return Err(ReadStop::LineTooLong);
                    }
                    searched = block.len();
                    if let Err(error) = self.fill(block) {
                        return self.failed(block, searched, error);
                    }
                }
            }
        }
    }

    /// After a read error: the whole lines of `block` (none longer than [`MAX_LINE`]), the
    /// error kept for the next call; or the error now if `block` holds no whole line.
    fn failed(
        &mut self,
        block: &mut Vec<u8>,
        searched: usize,
        error: io::Error,
    ) -> Result<bool, ReadStop> {
        let Some(i) = block.iter().rposition(|&b| b == b'\n') else {
            return Err(ReadStop::Io(error));
        };
        if searched > 0 && first_line_len(block, searched) > MAX_LINE {
            return Err(ReadStop::LineTooLong);
        }
        block.truncate(i + 1);
        self.error = Some(error);
        Ok(true)
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

/// The length, without its line ending, of the first line of `block`, which has no LF in its
/// first `searched` bytes.
fn first_line_len(block: &[u8], searched: usize) -> usize {
    let end = block[searched..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(block.len(), |i| searched + i + 1);
    split_line_ending(&block[..end]).0.len()
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
fn convert_block(
    transformer: &Transformer,
    block: &[u8],
    out: &mut BlockOut,
    options: &Options<'_>,
) {
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
            Ok(Some(parsed)) if options.z_required && parsed.z.is_none() => {
                Kind::Failed("geocentric X Y Z: the line has no Z".to_string())
            }
            Ok(Some(parsed)) => {
                let (x, y) =
                    if options.north_east { (parsed.y, parsed.x) } else { (parsed.x, parsed.y) };
                out.points.push([x, y, parsed.z.unwrap_or(0.0)]);
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
                        let (first, second) = if options.north_east { (y, x) } else { (x, y) };
                        push_number(text, first, options.xy_decimals);
                        text.push(b' ');
                        push_number(text, second, options.xy_decimals);
                        if *has_z || options.always_z {
                            text.push(b' ');
                            push_number(text, z, options.z_decimals);
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

/// Appends `v`: with `decimals` decimal places ([`Fixed`]), or in the shortest round-trip form.
fn push_number(text: &mut Vec<u8>, v: f64, decimals: Option<usize>) {
    match decimals {
        Some(decimals) => Fixed(v, decimals).push_to(text),
        None => Number(v).push_to(text),
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
    /// Several rounds of blocks of mixed lines: comments, blank lines, failures, CRLF, z, a
    /// line longer than a block, a last line without a line ending.
    fn mixed_input() -> Vec<u8> {
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
        input
    }

    /// Many rounds of blocks, a line longer than a block, failures on both sides of block
    /// edges, CRLF and a last line without a line ending: the same bytes, the same `line N`
    /// reports in the same order as converting line by line, however the input arrives.
    #[test]
    fn blocks_give_the_line_by_line_result() {
        let t = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
        let input = mixed_input();
        let (expected_out, expected_errors) = line_by_line(&t, &input);
        assert!(expected_errors.lines().count() > 10);
        for step in [usize::MAX, 100_003, 4096] {
            let (mut out, mut errors) = (Vec::new(), Vec::new());
            let options = Options::default();
            let outcome =
                convert(&t, Trickle { data: &input, step }, &mut out, &mut errors, &options);
            assert!(outcome.stopped_by.is_none());
            assert_eq!(outcome.failed, expected_errors.lines().count() as u64);
            assert!(out == expected_out, "output differs, reads of {step} bytes");
            assert_eq!(String::from_utf8(errors).unwrap(), expected_errors);
        }
    }

    /// With the sanity check on, the blocks read ahead for it are converted first, in order:
    /// the same bytes and reports as without it.
    #[test]
    fn the_read_ahead_of_the_check_changes_nothing() {
        let source = geounify::catalogue::lookup("EPSG:4490").unwrap();
        let t = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
        let input = mixed_input();
        let (expected_out, expected_errors) = line_by_line(&t, &input);
        for step in [usize::MAX, 4096] {
            let (mut out, mut errors) = (Vec::new(), Vec::new());
            let options = Options { check: Some(&source), ..Options::default() };
            let outcome =
                convert(&t, Trickle { data: &input, step }, &mut out, &mut errors, &options);
            assert!(outcome.stopped_by.is_none());
            assert!(out == expected_out, "output differs, reads of {step} bytes");
            assert_eq!(String::from_utf8(errors).unwrap(), expected_errors);
        }
    }

    /// Gives `data`, then fails.
    struct FailsAfter<'a>(&'a [u8]);

    impl Read for FailsAfter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("disk on fire"));
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// A read error met while reading ahead for the check: the lines before it are converted
    /// and written, then the error is reported, as without the check.
    #[test]
    fn a_read_error_during_the_read_ahead_comes_after_the_lines_before_it() {
        let source = geounify::catalogue::lookup("EPSG:4326").unwrap();
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4490").unwrap();
        let lines = b"116.404 39.915 a\n116.4 39.9 b\n".repeat(3);
        // The last line is cut by the error: it is not converted as if it were "116.4 39".
        let input = [&lines[..], b"116.4 39"].concat();
        for check in [None, Some(&source)] {
            let (mut out, mut errors) = (Vec::new(), Vec::new());
            let options = Options { check, ..Options::default() };
            let outcome = convert(&t, FailsAfter(&input), &mut out, &mut errors, &options);
            assert!(
                matches!(outcome.stopped_by, Some(Stop::Read(ref e)) if e.to_string() == "disk on fire")
            );
            assert_eq!(out, lines);
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
