//! ASCII DXF drawings (CAD survey output, e.g. CASS in a city grid), converted into DXF.
//!
//! A DXF file is a sequence of group-code / value line pairs. It is streamed pair by pair: only
//! the values of converted coordinates (and the angles, radii and vectors that go with them,
//! below) change; every other byte is copied — group-code padding, line endings (LF or CRLF,
//! kept per line), comments (999), handles, layers, text in any code page (before R2007 the
//! bytes of `$DWGCODEPAGE`, e.g. `ANSI_936` = GBK, since R2007 UTF-8: text is never decoded,
//! only copied), the TABLES, BLOCKS and OBJECTS sections and anything after `0/EOF`. A value
//! whose converted number equals the one read keeps its original text.
//!
//! **What is converted.** Entities of the ENTITIES section in model space. Block definitions
//! (BLOCKS) are in block-local coordinates and are copied unchanged; an INSERT places them.
//! Entities in paper space (group 67 = 1) are in sheet coordinates: copied unchanged and
//! counted in [`ConvertReport::empty`], with a warning. Per entity type (x in group 10–13, y in
//! 20–23, z in 30–33; "OCS" types hold coordinates in the object coordinate system of their
//! extrusion 210/220/230):
//!
//! | type | converted |
//! |---|---|
//! | POINT, LINE, 3DFACE | points 10, 11, 12, 13 (world coordinates, whatever their extrusion, which only gives the direction of a thickness) |
//! | SOLID, TRACE | points 10–13 (OCS) |
//! | LWPOLYLINE | every vertex 10/20 (OCS); the elevation 38 is their height; bulges 42 kept |
//! | POLYLINE + VERTEX + SEQEND | the vertices; POLYLINE's own 10/20 (always 0) kept, its 30 is the elevation of a 2D polyline; polyface face records (VERTEX flag 128 without 64) kept |
//! | CIRCLE, ARC | centre 10 (OCS); radius 40 × the local scale factor; ARC angles 50/51 turned with the ground |
//! | ELLIPSE | centre 10; major-axis vector 11/21 (relative to the centre) through the local Jacobian; ratio 40 and parameters 41/42 kept |
//! | TEXT, ATTDEF, INSERT + ATTRIB + SEQEND | insertion point 10 (OCS); TEXT/ATTRIB/ATTDEF alignment point 11 only when the text is aligned (72/73, ATTRIB 72/74 ≠ 0; otherwise 11 is unused and often 0,0); rotation 50 turned with the ground; heights, widths, block scales kept; an ATTRIB with an embedded MTEXT (101) refused |
//! | MTEXT | insertion point 10; x-axis direction 11/21 turned (its length kept); rotation 50 (degrees, as AutoCAD writes it) turned |
//! | SPLINE | control points 10, fit points 11; tangents 12, 13 rotated (length kept) |
//! | XLINE, RAY | base point 10; direction 11 rotated (length kept) |
//! | IMAGE, WIPEOUT | insertion point 10; pixel vectors 11, 12 through the local Jacobian |
//! | HATCH | boundary vertices and line, arc (centre, radius, angles; a clockwise edge stores 360° − angle) and ellipse edges, seed points 10/20; the elevation point (0, 0, z) kept, its z the boundary's height; pattern lines (43–46, 52, 53) kept |
//!
//! An angle is turned with the ground: its direction through the local Jacobian (for a
//! conformal map, + the local grid rotation: meridian convergence, a grid's rotation). A
//! rotation that is absent means 0: if it changes by more than 1e-9°, a `50` pair is added
//! (an INSERT: after its point and scales; a text: after its string 1), in the style of the
//! pair before it. Text heights, block scales and line widths are kept (the scale factor of a
//! conformal map differs from 1 by ppm).
//!
//! **Local frame.** Radii, angles and vectors go with the map: around their anchor `a` (the
//! centre, the insertion point, a spline's first or last point) the points `a ± (d, 0)` and
//! `a ± (0, d)` are transformed with the entity's points (in the same batch), giving by
//! central differences the local Jacobian `J` and the scale factor k (`d` = 10 units of a
//! projected source, 1e-4° of a geographic one: about 10 m; angles come out to ~1e-8°).
//! Gauss-Krüger, datum shifts and 4-parameter grids are conformal (a circle
//! stays a circle to within its size squared over the earth's radius); a transformation that is
//! not (projected ↔ degrees, affine or polynomial grids, a mirrored grid) is refused for
//! CIRCLE, ARC, ELLIPSE, arc and ellipse edges of a HATCH and polylines with bulges: they would
//! become other curves. The test: the lengths of J's columns differ by at most 1e-6 k, their
//! dot product is at most 1e-6 k², det J > 0.
//!
//! **Refused entities** (each a [`Failure`](super::Failure) at `line 1234, DIMENSION handle 2F` with the reason;
//! with [`ConvertOptions::skip_invalid`](super::ConvertOptions::skip_invalid) left out of the
//! output and listed): DIMENSION (its picture is an anonymous block of world coordinates),
//! LEADER, MLINE, MULTILEADER, HATCH with
//! spline edges, MTEXT, ATTRIB and ATTDEF with an embedded object (101, R2018 columns), ACIS
//! solids and regions, tables, unknown types, and any OCS entity whose
//! extrusion is not ±z (coordinates in a tilted plane are not map coordinates; an extrusion of
//! (0, 0, −1), a mirrored entity, is converted through x → −x). A point that cannot be
//! converted fails its entity in the same way.
//!
//! **HEADER.** `$EXTMIN`/`$EXTMAX` (the drawing's extents) become the box of the four converted
//! corners of the old box (z kept; an empty drawing's 1e20/−1e20 kept); `$INSBASE` is converted
//! as a point unless it is (0, 0). If a corner cannot be converted the variable is kept, with a
//! warning (CAD programs recompute extents). Other header points — the drawing limits
//! `$LIMMIN`/`$LIMMAX` (a grid-display setting, often the template's 0,0–12,9), UCS and
//! paper-space variables — and the saved views and viewports of TABLES are kept: after opening
//! the converted drawing, zoom to its extents.
//!
//! **Numbers** are written in the shortest form that reads back exactly (up to 17 significant
//! digits; [`Number`]), not with the input's decimals: a CASS file with 3 decimals would
//! otherwise lose up to 0.5 mm on every conversion. Heights: z values (30–33, the elevations
//! 38 and the POLYLINE/HATCH elevation) are copied unless the transformer converts heights;
//! a point without z is converted at height 0 and written back without one. Under converted
//! heights a polyline's one elevation is written from its first vertex and the entity fails if
//! its vertices' heights differ by more than 1 mm.
//!
//! **XDATA** (groups ≥ 1000) is copied: positions 1011 that AutoCAD moves with the entity are not
//! moved (a warning counts them).
//!
//! **Refused files**: binary DXF and DWG, a file that is not group-code/value pairs (a code that
//! is not an integer, an odd number of lines), a non-numeric coordinate, a section not closed or
//! no `0/EOF` (truncated): [`ConvertError::Malformed`] with the line; nothing is written.
//!
//! **Memory.** A line may be at most 1 MiB, an entity (with its vertices or attributes) or the
//! HEADER section 64 MiB; entities are converted through the shared runner (`runner::Run::records`:
//! chunks of at most 65,536 entities or 4 MiB, parts in parallel, one batch per part, written
//! in order; an entity whose converted shape cannot be written fails through the runner's
//! fallible write), a million vertices in ~45 MB.
//!
//! DXF declares no CRS.
//!
//! [`Number`]: super::text::Number

use super::runner::{self, Parsed, Rec, RecordFormat, RecordSource, WriteFailure};
use super::text::{shown, Number, UTF8_BOM};
use super::{ConvertError, ConvertReport, Job, Progress, Tally};
use crate::transformer::Transformer;
use std::io::{BufRead, BufReader, Write};
use std::ops::Range;
use std::path::Path;

/// The longest line read, in bytes.
const MAX_LINE: u64 = 1 << 20;
/// The longest entity group (an entity with its vertices or attributes) or HEADER section.
const MAX_GROUP: usize = super::MAX_RECORD_BYTES as usize;
/// Entities per chunk.
const CHUNK_GROUPS: usize = 65_536;
/// Bytes per chunk (a chunk ends after the entity that crosses this).
const CHUNK_BYTES: usize = 4 << 20;
/// An angle moved by less than this (degrees) is left as it is.
const ANGLE_EPSILON: f64 = 1e-9;
/// Relative tolerance of the conformality test of the local frame.
const CONFORMAL_TOLERANCE: f64 = 1e-6;
/// The largest spread (metres) of converted heights written as one elevation.
const ELEVATION_SPREAD: f64 = 1e-3;

/// Converts `job.input` to `job.output`, through a temporary file renamed only on success.
pub fn convert_file(job: &Job<'_>) -> Result<ConvertReport, ConvertError> {
    super::through_temporary(job, |file, out| {
        let reader = BufReader::with_capacity(1 << 20, file);
        let ctx = Ctx {
            transformer: job.transformer,
            step: probe_step(job.source),
            options: job.options,
            input: job.input,
            output: job.output,
            progress: job.progress,
        };
        run(reader, out, &ctx)
    })
}

/// Consumes a UTF-8 byte-order mark at the start of `input`; whether there was one (the
/// conversion writes it back; the sample only passes over it).
pub(crate) fn skip_bom<R: BufRead>(input: &mut R, path: &Path) -> Result<bool, ConvertError> {
    let bom = input
        .fill_buf()
        .map_err(|source| ConvertError::Io { path: path.into(), source })?
        .starts_with(UTF8_BOM);
    if bom {
        input.consume(3);
    }
    Ok(bom)
}

/// Up to `max` coordinates `[x, y, z]` (z = 0 without one) of the model-space entities, for the
/// sanity check; entities that are refused are passed over.
pub(crate) fn sample(job: &Job<'_>, max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
    let file = super::open_regular(job.input)?;
    let mut reader = BufReader::new(file);
    check_magic(&mut reader, job.input)?;
    skip_bom(&mut reader, job.input)?;
    let mut pairs = PairReader { input: reader, line: 1, path: job.input };
    let mut buf = Vec::new();
    let mut out = Vec::new();
    // Find the ENTITIES section.
    loop {
        buf.clear();
        let Some(p) = pairs.next(&mut buf)? else { return Ok(out) };
        if p.code == 0 && p.text(&buf) == b"EOF" {
            return Ok(out);
        }
        if p.code == 2 && p.text(&buf) == b"ENTITIES" {
            break;
        }
    }
    buf.clear();
    let mut list: Vec<Pair> = Vec::new();
    let flush = |list: &mut Vec<Pair>, buf: &[u8], out: &mut Vec<[f64; 3]>| {
        if let Ok(Ok(plan)) = plan_group(buf, list, 1.0) {
            out.extend(
                plan.points
                    .iter()
                    .map(|p| [if p.flip { -p.xyz[0] } else { p.xyz[0] }, p.xyz[1], p.xyz[2]]),
            );
        }
        list.clear();
    };
    while out.len() < max {
        let Some(p) = pairs.next(&mut buf)? else { break };
        if p.code == 0 {
            let t = p.text(&buf);
            if t == b"ENDSEC" || t == b"EOF" {
                flush(&mut list, &buf, &mut out);
                break;
            }
            if !is_sub_entity(t) && !list.is_empty() {
                flush(&mut list, &buf, &mut out);
            }
        }
        list.push(p);
        if buf.len() > MAX_GROUP {
            break;
        }
    }
    out.truncate(max);
    Ok(out)
}

/// The distance of the local frame's probes from their point, in the source CRS's units: about
/// 10 m on the ground (1e-4° in degrees). Central differences over it give the Jacobian with a
/// truncation error of ~(d / 6400 km)² ≈ 1e-11 and a rounding error of ~1e-16 × the
/// coordinates' size / d ≈ 1e-10 (for Gauss-Krüger northings), so angles to ~1e-8° and scale
/// factors to ~1e-10.
fn probe_step(source: &crate::crs::Crs) -> f64 {
    use crate::crs::CrsKind;
    match source.kind() {
        CrsKind::Geographic | CrsKind::Gcj02 { .. } | CrsKind::Bd09 { .. } => 1e-4,
        _ => 10.0,
    }
}

/// What the conversion needs besides the streams.
struct Ctx<'a> {
    transformer: &'a Transformer,
    /// The local frame's probe distance (see [`probe_step`]).
    step: f64,
    options: &'a super::ConvertOptions,
    input: &'a Path,
    output: &'a Path,
    progress: &'a dyn Progress,
}

impl Ctx<'_> {
    fn malformed(&self, line: u64, message: impl Into<String>) -> ConvertError {
        malformed(self.input, line, message)
    }
    fn io_out(&self, source: std::io::Error) -> ConvertError {
        ConvertError::Io { path: self.output.to_path_buf(), source }
    }
}

fn malformed(path: &Path, line: u64, message: impl Into<String>) -> ConvertError {
    ConvertError::Malformed {
        path: path.to_path_buf(),
        location: format!("line {line}"),
        message: message.into(),
    }
}

/// Refuses binary DXF and DWG by their first bytes.
pub(crate) fn check_magic<R: BufRead>(input: &mut R, path: &Path) -> Result<(), ConvertError> {
    let head = input.fill_buf().map_err(|source| ConvertError::Io { path: path.into(), source })?;
    if head.starts_with(b"AutoCAD Binary DXF") {
        return Err(malformed(
            path,
            1,
            "a binary DXF file: only ASCII DXF is converted (save the drawing as ASCII DXF)",
        ));
    }
    if head.len() >= 6 && head.starts_with(b"AC10") && head[4..6].iter().all(u8::is_ascii_digit) {
        return Err(malformed(
            path,
            1,
            "a DWG drawing, not DXF: only ASCII DXF is converted (save the drawing as ASCII DXF)",
        ));
    }
    Ok(())
}

/// One group-code / value pair in a buffer: the code line starts at `start`, the value (without
/// its line ending) is `value`, the pair ends (after the value's line ending) at `end`; `line`
/// is the code line's number (1-based).
#[derive(Debug, Clone)]
pub(crate) struct Pair {
    /// The group code.
    pub(crate) code: i32,
    start: usize,
    value: Range<usize>,
    end: usize,
    /// The code line's number (1-based).
    pub(crate) line: u64,
}

impl Pair {
    /// The value without surrounding ASCII whitespace.
    pub(crate) fn text<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        &buf[self.trimmed(buf)]
    }

    /// The value's range without surrounding ASCII whitespace.
    fn trimmed(&self, buf: &[u8]) -> Range<usize> {
        let mut r = self.value.clone();
        while r.start < r.end && buf[r.start].is_ascii_whitespace() {
            r.start += 1;
        }
        while r.end > r.start && buf[r.end - 1].is_ascii_whitespace() {
            r.end -= 1;
        }
        r
    }
}

/// Reads pairs, counting lines.
pub(crate) struct PairReader<'p, R> {
    input: R,
    line: u64,
    path: &'p Path,
}

impl<'p, R: BufRead> PairReader<'p, R> {
    /// The pairs of `input` (named `path` in errors), from line 1.
    pub(crate) fn new(input: R, path: &'p Path) -> Self {
        Self { input, line: 1, path }
    }

    /// Appends one line to `buf`; its range without the line ending, or `None` at the end.
    fn line(&mut self, buf: &mut Vec<u8>) -> Result<Option<Range<usize>>, ConvertError> {
        let start = buf.len();
        let n = super::text::read_line_bounded(&mut self.input, buf, MAX_LINE)
            .map_err(|source| ConvertError::Io { path: self.path.into(), source })?;
        if n == 0 {
            return Ok(None);
        }
        let mut end = buf.len();
        if buf[end - 1] == b'\n' {
            end -= 1;
            if end > start && buf[end - 1] == b'\r' {
                end -= 1;
            }
        } else if n as u64 >= MAX_LINE {
            return Err(malformed(
                self.path,
                self.line,
                format!("a line longer than {} MiB: not a DXF file", MAX_LINE >> 20),
            ));
        }
        self.line += 1;
        Ok(Some(start..end))
    }

    /// Appends the next pair to `buf`; `None` at the end of the input.
    pub(crate) fn next(&mut self, buf: &mut Vec<u8>) -> Result<Option<Pair>, ConvertError> {
        let line = self.line;
        let start = buf.len();
        let Some(code_range) = self.line(buf)? else { return Ok(None) };
        let code_text = buf[code_range].trim_ascii();
        let code = std::str::from_utf8(code_text)
            .ok()
            .and_then(|t| t.parse::<i32>().ok())
            .ok_or_else(|| {
                malformed(
                    self.path,
                    line,
                    format!(
                        "group code '{}' is not an integer: not an ASCII DXF file, or its \
                         code/value lines are out of step",
                        shown(code_text)
                    ),
                )
            })?;
        let Some(value) = self.line(buf)? else {
            return Err(malformed(
                self.path,
                line,
                format!(
                    "the file ends after group code {code} without its value (an odd number \
                     of lines: truncated?)"
                ),
            ));
        };
        Ok(Some(Pair { code, start, value, end: buf.len(), line }))
    }
}

/// A pair's value as a number (a finite `f64`).
pub(crate) fn number(buf: &[u8], p: &Pair) -> Option<f64> {
    std::str::from_utf8(p.text(buf)).ok().and_then(super::text::parse_coordinate)
}

/// The conversion proper.
fn run<R: BufRead, W: Write + ?Sized>(
    mut input: R,
    out: &mut W,
    ctx: &Ctx<'_>,
) -> Result<ConvertReport, ConvertError> {
    check_magic(&mut input, ctx.input)?;
    if skip_bom(&mut input, ctx.input)? {
        out.write_all(UTF8_BOM).map_err(|e| ctx.io_out(e))?;
    }
    let mut pairs = PairReader { input, line: 1, path: ctx.input };
    let mut report = ConvertReport::default();
    let mut tally = Tally::default();
    let mut notes = Notes::default();
    let mut buf = Vec::new();
    let mut first = true;
    loop {
        buf.clear();
        let Some(p) = pairs.next(&mut buf)? else {
            let message = if first {
                "the file is empty: nothing to convert"
            } else {
                "the file ends without 0/EOF (truncated?)"
            };
            return Err(ctx.malformed(pairs.line, message));
        };
        first = false;
        match (p.code, p.text(&buf)) {
            (0, b"SECTION") => {
                let Some(name) = pairs.next(&mut buf)? else {
                    return Err(ctx.malformed(pairs.line, "the file ends after 0/SECTION"));
                };
                if name.code != 2 {
                    return Err(ctx.malformed(
                        name.line,
                        format!("0/SECTION is followed by group {}, not 2 (its name)", name.code),
                    ));
                }
                let section = name.text(&buf).to_vec();
                out.write_all(&buf).map_err(|e| ctx.io_out(e))?;
                ctx.progress.advance(buf.len() as u64);
                match section.as_slice() {
                    b"HEADER" => header(&mut pairs, out, ctx, &mut notes, p.line)?,
                    b"ENTITIES" => {
                        entities(&mut pairs, out, ctx, &mut report, &mut tally, &mut notes)?
                    }
                    _ => copy_section(&mut pairs, out, ctx, p.line, &section)?,
                }
            }
            (0, b"EOF") => {
                out.write_all(&buf).map_err(|e| ctx.io_out(e))?;
                // Whatever follows 0/EOF (padding, a trailing NUL) is copied.
                let rest = std::io::copy(&mut pairs.input, out).map_err(|e| ctx.io_out(e))?;
                ctx.progress.advance(buf.len() as u64 + rest);
                break;
            }
            (999, _) => out.write_all(&buf).map_err(|e| ctx.io_out(e))?,
            (code, value) => {
                return Err(ctx.malformed(
                    p.line,
                    format!("expected 0/SECTION or 0/EOF, found group {code} '{}'", shown(value)),
                ))
            }
        }
    }
    tally.finish(&mut report, ctx.input)?;
    report.warnings.extend(notes.warnings());
    Ok(report)
}

/// Things to tell the user once, counted over the file.
#[derive(Default)]
struct Notes {
    paper_space: u64,
    xdata_positions: u64,
    header: Vec<String>,
}

impl Notes {
    fn warnings(self) -> Vec<String> {
        let mut w = self.header;
        if self.paper_space > 0 {
            w.push(format!(
                "{} paper-space entities (group 67 = 1, sheet coordinates) copied unchanged",
                self.paper_space
            ));
        }
        if self.xdata_positions > 0 {
            w.push(format!(
                "{} entities carry XDATA world positions (group 1011), copied unchanged",
                self.xdata_positions
            ));
        }
        w
    }
}

/// Copies the pairs of a section up to and including its 0/ENDSEC.
fn copy_section<R: BufRead, W: Write + ?Sized>(
    pairs: &mut PairReader<'_, R>,
    out: &mut W,
    ctx: &Ctx<'_>,
    opened: u64,
    name: &[u8],
) -> Result<(), ConvertError> {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let Some(p) = pairs.next(&mut buf)? else {
            return Err(unclosed(ctx.input, pairs.line, opened, name));
        };
        out.write_all(&buf).map_err(|e| ctx.io_out(e))?;
        ctx.progress.advance(buf.len() as u64);
        if p.code == 0 {
            match p.text(&buf) {
                b"ENDSEC" => return Ok(()),
                b"EOF" => return Err(unclosed(ctx.input, p.line, opened, name)),
                _ => {}
            }
        }
    }
}

fn unclosed(input: &Path, line: u64, opened: u64, name: &[u8]) -> ConvertError {
    malformed(
        input,
        line,
        format!(
            "the {} section opened at line {opened} is not closed by 0/ENDSEC (truncated?)",
            shown(name)
        ),
    )
}

/// The HEADER section: read whole (at most [`MAX_GROUP`] bytes), its extents, limits and
/// insertion base converted, written.
fn header<R: BufRead, W: Write + ?Sized>(
    pairs: &mut PairReader<'_, R>,
    out: &mut W,
    ctx: &Ctx<'_>,
    notes: &mut Notes,
    opened: u64,
) -> Result<(), ConvertError> {
    let mut buf = Vec::new();
    let mut list = Vec::new();
    loop {
        let Some(p) = pairs.next(&mut buf)? else {
            return Err(unclosed(ctx.input, pairs.line, opened, b"HEADER"));
        };
        if buf.len() > MAX_GROUP {
            return Err(ctx.malformed(opened, "a HEADER section longer than 64 MiB"));
        }
        let end = p.code == 0 && p.text(&buf) == b"ENDSEC";
        if p.code == 0 && p.text(&buf) == b"EOF" {
            return Err(unclosed(ctx.input, p.line, opened, b"HEADER"));
        }
        list.push(p);
        if end {
            break;
        }
    }
    // Each variable's 10/20 pairs (indices into `list`).
    let mut vars: Vec<(&[u8], usize, usize)> = Vec::new();
    let mut current: &[u8] = b"";
    let mut x = None;
    for (i, p) in list.iter().enumerate() {
        match p.code {
            9 => {
                current = p.text(&buf);
                x = None;
            }
            10 => x = Some(i),
            20 => {
                if let Some(xi) = x.take() {
                    vars.push((current, xi, i));
                }
            }
            _ => {}
        }
    }
    let var = |name: &[u8]| vars.iter().find(|v| v.0 == name).map(|v| (v.1, v.2));
    let read = |(xi, yi): (usize, usize)| -> Result<[f64; 2], ConvertError> {
        let get = |i: usize| {
            let p: &Pair = &list[i];
            number(&buf, p).ok_or_else(|| {
                ctx.malformed(p.line, format!("'{}' is not a number", shown(p.text(&buf))))
            })
        };
        Ok([get(xi)?, get(yi)?])
    };
    let mut replacements: Vec<(usize, f64)> = Vec::new();
    for (min_name, max_name) in [("$EXTMIN", "$EXTMAX")] {
        let (Some(lo), Some(hi)) = (var(min_name.as_bytes()), var(max_name.as_bytes())) else {
            continue;
        };
        let (a, b) = (read(lo)?, read(hi)?);
        if a[0] > b[0] || a[1] > b[1] {
            continue; // an empty drawing (AutoCAD writes 1e20 and -1e20)
        }
        let mut corners =
            [[a[0], a[1], 0.0], [b[0], a[1], 0.0], [a[0], b[1], 0.0], [b[0], b[1], 0.0]];
        let batch = ctx.transformer.transform_slice(&mut corners);
        if let Some(f) = batch.failures.first() {
            notes.header.push(format!(
                "{min_name}/{max_name} kept unchanged: a corner of the box cannot be converted \
                 ({}); CAD programs recompute the extents",
                f.error
            ));
            continue;
        }
        let min = |k: usize| corners.iter().map(|c| c[k]).fold(f64::INFINITY, f64::min);
        let max = |k: usize| corners.iter().map(|c| c[k]).fold(f64::NEG_INFINITY, f64::max);
        replacements.extend([(lo.0, min(0)), (lo.1, min(1)), (hi.0, max(0)), (hi.1, max(1))]);
    }
    if let Some(base) = var(b"$INSBASE") {
        let p = read(base)?;
        if p != [0.0, 0.0] {
            let mut pts = [[p[0], p[1], 0.0]];
            let batch = ctx.transformer.transform_slice(&mut pts);
            match batch.failures.first() {
                Some(f) => notes
                    .header
                    .push(format!("$INSBASE kept unchanged: it cannot be converted ({})", f.error)),
                None => replacements.extend([(base.0, pts[0][0]), (base.1, pts[0][1])]),
            }
        }
    }
    replacements.sort_by_key(|r| r.0);
    let mut text = Vec::with_capacity(buf.len());
    write_pairs(&mut text, &buf, &list, &replacements, &[]);
    out.write_all(&text).map_err(|e| ctx.io_out(e))?;
    ctx.progress.advance(buf.len() as u64);
    Ok(())
}

/// Sub-entities that belong to the entity before them (POLYLINE's vertices, INSERT's
/// attributes, and the SEQEND closing either).
fn is_sub_entity(kind: &[u8]) -> bool {
    matches!(kind, b"VERTEX" | b"ATTRIB" | b"SEQEND")
}

/// The entity groups of the ENTITIES section as the runner's records: an entity with its
/// sub-entities (a record's bytes are its pairs, line endings included; its line is its first
/// pair's). The pair that starts the next group is read ahead and held; the section's
/// 0/ENDSEC is held for the caller to write.
pub(crate) struct Groups<'a, 'p, R> {
    pairs: &'a mut PairReader<'p, R>,
    input: &'a Path,
    /// The line of the 0/SECTION that opened the section.
    opened: u64,
    /// The first pair of the next group, read ahead: its bytes and line.
    ahead: Option<(Vec<u8>, u64)>,
    /// The 0/ENDSEC pair once read.
    end: Option<Vec<u8>>,
    /// Groups that hold XDATA world positions (1011).
    xdata_positions: u64,
}

impl<'a, 'p, R: BufRead> Groups<'a, 'p, R> {
    /// The groups of the ENTITIES section `pairs` has just opened (its 0/SECTION 2/ENTITIES
    /// read), named `input` in errors.
    pub(crate) fn new(pairs: &'a mut PairReader<'p, R>, input: &'a Path) -> Self {
        let opened = pairs.line.saturating_sub(4);
        Self { pairs, input, opened, ahead: None, end: None, xdata_positions: 0 }
    }

    /// Groups read on from where [`suspend`](Self::suspend) left them: `state` is what it
    /// returned, `opened` the section's line.
    pub(crate) fn resume(
        pairs: &'a mut PairReader<'p, R>,
        input: &'a Path,
        opened: u64,
        ahead: Option<(Vec<u8>, u64)>,
    ) -> Self {
        Self { pairs, input, opened, ahead, end: None, xdata_positions: 0 }
    }

    /// The pair read ahead (to [`resume`](Self::resume) with), and whether the section ended.
    pub(crate) fn suspend(self) -> (Option<(Vec<u8>, u64)>, bool) {
        (self.ahead, self.end.is_some())
    }
}

impl<R: BufRead> RecordSource for Groups<'_, '_, R> {
    fn next_record(&mut self, buf: &mut Vec<u8>) -> Result<Option<Rec>, ConvertError> {
        if self.end.is_some() {
            return Ok(None);
        }
        let start = buf.len();
        let mut line = None;
        if let Some((bytes, at)) = self.ahead.take() {
            buf.extend_from_slice(&bytes);
            line = Some(at);
        }
        let mut xdata = false;
        loop {
            let at = buf.len();
            let Some(p) = self.pairs.next(buf)? else {
                return Err(unclosed(self.input, self.pairs.line, self.opened, b"ENTITIES"));
            };
            if p.code == 0 {
                let kind = p.text(buf);
                if kind == b"EOF" {
                    return Err(unclosed(self.input, p.line, self.opened, b"ENTITIES"));
                }
                let ends = kind == b"ENDSEC";
                if ends || (at > start && !is_sub_entity(kind)) {
                    let held = buf[at..].to_vec();
                    buf.truncate(at);
                    if ends {
                        self.end = Some(held);
                    } else {
                        self.ahead = Some((held, p.line));
                    }
                    self.xdata_positions += u64::from(xdata);
                    return Ok(line.map(|line| Rec { start, body_end: at, end: at, line }));
                }
            }
            let first = *line.get_or_insert(p.line);
            xdata |= p.code == 1011;
            if buf.len() - start > MAX_GROUP {
                let message = format!("an entity longer than {} MiB", MAX_GROUP >> 20);
                return Err(malformed(self.input, first, message));
            }
        }
    }
}

/// The ENTITIES section, after its 0/SECTION 2/ENTITIES, up to and including 0/ENDSEC: its
/// groups converted through the shared runner ([`runner::Run::records`]).
fn entities<R: BufRead, W: Write + ?Sized>(
    pairs: &mut PairReader<'_, R>,
    out: &mut W,
    ctx: &Ctx<'_>,
    report: &mut ConvertReport,
    tally: &mut Tally,
    notes: &mut Notes,
) -> Result<(), ConvertError> {
    let mut groups = Groups::new(pairs, ctx.input);
    let run = runner::Run {
        transformer: ctx.transformer,
        options: ctx.options,
        input: ctx.input,
        output: ctx.output,
        progress: ctx.progress,
        limits: runner::Limits { records: CHUNK_GROUPS, bytes: CHUNK_BYTES },
    };
    let format = Entities { step: ctx.step };
    run.records(&format, &mut groups, out, report, tally, |_, outcome, _| {
        if let runner::Outcome::Converted { note: Note { paper: true, .. }, .. } = outcome {
            notes.paper_space += 1;
        }
        Ok(())
    })?;
    notes.xdata_positions += groups.xdata_positions;
    if let Some(end) = groups.end {
        out.write_all(&end).map_err(|e| ctx.io_out(e))?;
    }
    Ok(())
}

/// The pairs of a group's bytes `bytes[rec.start..rec.end]` (read and checked by [`Groups`]).
pub(crate) fn group_pairs(bytes: &[u8], rec: &Rec, out: &mut Vec<Pair>) {
    let mut at = rec.start;
    let mut line = rec.line;
    let next_line = |from: usize| -> (Range<usize>, usize) {
        let end =
            bytes[from..rec.end].iter().position(|&b| b == b'\n').map_or(rec.end, |i| from + i);
        let mut body = end;
        if body > from && bytes[body - 1] == b'\r' {
            body -= 1;
        }
        (from..body, (end + 1).min(rec.end))
    };
    while at < rec.end {
        let start = at;
        let (code, after_code) = next_line(at);
        let (value, after_value) = next_line(after_code);
        let code = std::str::from_utf8(bytes[code].trim_ascii())
            .ok()
            .and_then(|t| t.parse::<i32>().ok())
            .unwrap_or(-1);
        out.push(Pair { code, start, value, end: after_value, line });
        line += 2;
        at = after_value;
    }
}

/// What converting a group takes.
enum Item {
    /// Its plan and pairs.
    Plan(Plan, Vec<Pair>),
    /// Copied unchanged: no coordinates (`false`), or in paper space (`true`).
    Copied(bool),
    /// Refused: why.
    Refused(String),
}

/// What the merge learns of a converted group.
#[derive(Debug, Clone, Copy, Default)]
struct Note {
    /// In paper space (copied).
    paper: bool,
    /// Its points (the batch also held its frames' probes).
    points: usize,
}

/// DXF entity groups as the runner's records.
struct Entities {
    /// The local frame's probe distance (see [`probe_step`]).
    step: f64,
}

impl RecordFormat for Entities {
    type Item = Item;
    type Note = Note;
    type Scratch = ();

    fn parse(
        &self,
        _: &mut (),
        bytes: &[u8],
        rec: &Rec,
        points: &mut Vec<[f64; 3]>,
    ) -> Parsed<Item> {
        let mut pairs = Vec::new();
        group_pairs(bytes, rec, &mut pairs);
        if pairs.first().is_none_or(|p| p.code != 0) {
            return Parsed::Pass; // comments before the first entity
        }
        match plan_group(bytes, &pairs, self.step) {
            Err((line, message)) => Parsed::MalformedAt(line, message),
            Ok(Err(Refusal::Paper)) => Parsed::Feature { item: Item::Copied(true), points: 0 },
            Ok(Err(Refusal::Nothing)) => Parsed::Feature { item: Item::Copied(false), points: 0 },
            Ok(Err(Refusal::Reason(r))) => Parsed::Feature { item: Item::Refused(r), points: 0 },
            Ok(Ok(plan)) => {
                points.extend(plan.points.iter().map(PlannedPoint::wcs));
                points.extend(plan.probes());
                let n = plan.coordinates();
                Parsed::Feature { item: Item::Plan(plan, pairs), points: n }
            }
        }
    }

    fn write(&self, _: &[u8], _: &Rec, _: Item, _: &[[f64; 3]], _: &mut Vec<u8>) -> Note {
        // Not called: the runner calls `try_write`, which does not call it.
        Note::default()
    }

    fn try_write(
        &self,
        bytes: &[u8],
        rec: &Rec,
        item: Item,
        converted: &[[f64; 3]],
        out: &mut Vec<u8>,
    ) -> Result<Note, WriteFailure<Item>> {
        match item {
            Item::Copied(paper) => {
                out.extend_from_slice(&bytes[rec.start..rec.end]);
                Ok(Note { paper, points: 0 })
            }
            Item::Refused(reason) => {
                Err(WriteFailure { item: Item::Refused(String::new()), reason })
            }
            Item::Plan(plan, pairs) => match plan.resolve(converted) {
                Ok((replacements, inserts)) => {
                    write_pairs(out, bytes, &pairs, &replacements, &inserts);
                    Ok(Note { paper: false, points: plan.points.len() })
                }
                Err(reason) => Err(WriteFailure { item: Item::Plan(plan, pairs), reason }),
            },
        }
    }

    fn vertices(&self, note: &Note, _pushed: usize) -> u64 {
        note.points as u64
    }

    fn label(&self, bytes: &[u8], rec: &Rec, _: &Item) -> String {
        let mut pairs = Vec::new();
        group_pairs(bytes, rec, &mut pairs);
        describe(bytes, &pairs)
    }
}

/// `, LINE handle 2F` for a group (its location after `line N`).
pub(crate) fn describe(buf: &[u8], pairs: &[Pair]) -> String {
    let Some(first) = pairs.first() else { return String::new() };
    let kind = shown(first.text(buf));
    let end = pairs.iter().skip(1).position(|p| p.code == 0).map_or(pairs.len(), |i| i + 1);
    match pairs[..end].iter().find(|p| p.code == 5) {
        Some(h) => format!(", {kind} handle {}", shown(h.text(buf))),
        None => format!(", {kind}"),
    }
}

/// Writes `pairs` with the values of `replacements` (pair index, value; sorted by index)
/// replaced where the number changed, and `inserts` (after pair index, code, value; sorted)
/// added.
fn write_pairs(
    out: &mut Vec<u8>,
    buf: &[u8],
    pairs: &[Pair],
    replacements: &[(usize, f64)],
    inserts: &[(usize, i32, f64)],
) {
    let mut reps = replacements.iter().peekable();
    let mut ins = inserts.iter().peekable();
    for (i, p) in pairs.iter().enumerate() {
        let mut value = None;
        while let Some(&(_, v)) = reps.next_if(|r| r.0 == i) {
            value = Some(v);
        }
        match value {
            Some(v) if number(buf, p) != Some(v) => {
                let r = p.trimmed(buf);
                out.extend_from_slice(&buf[p.start..r.start]);
                Number(v).push_to(out);
                out.extend_from_slice(&buf[r.end..p.end]);
            }
            _ => out.extend_from_slice(&buf[p.start..p.end]),
        }
        while let Some(&(_, code, v)) = ins.next_if(|x| x.0 == i) {
            // The new pair in the style of the one it follows: code padded as that one's, the
            // same line ending.
            let code_line = &buf[p.start..p.value.start];
            let ending: &[u8] = if code_line.ends_with(b"\r\n") { b"\r\n" } else { b"\n" };
            let padded = code_line.first() == Some(&b' ');
            if padded {
                out.extend_from_slice(format!("{code:>3}").as_bytes());
            } else {
                out.extend_from_slice(code.to_string().as_bytes());
            }
            out.extend_from_slice(ending);
            Number(v).push_to(out);
            out.extend_from_slice(ending);
        }
    }
}

/// A new value for a pair: its index, the value.
type Replacement = (usize, f64);
/// A pair to add: after the pair of this index, the code, the value.
type Insertion = (usize, i32, f64);

/// Why a group is not converted.
enum Refusal {
    /// Paper space: copied.
    Paper,
    /// No coordinates: copied.
    Nothing,
    /// Cannot be converted correctly: the reason.
    Reason(String),
}

/// A point of an entity to convert: its value pairs (x, y, and z if written back), its
/// coordinates as read (OCS for OCS entities), and whether its OCS is mirrored (extrusion
/// (0, 0, −1): world x = −x, z = −z).
#[derive(Debug, Clone)]
struct PlannedPoint {
    pairs: [Option<usize>; 3],
    xyz: [f64; 3],
    flip: bool,
}

impl PlannedPoint {
    fn wcs(&self) -> [f64; 3] {
        let [x, y, z] = self.xyz;
        if self.flip {
            [-x, y, -z]
        } else {
            [x, y, z]
        }
    }
}

/// What to do with a value that depends on the local frame.
#[derive(Debug, Clone)]
enum FrameEdit {
    /// An angle in degrees (absent: 0, then inserted after `insert_after` with `code` if it
    /// changes): its direction through the Jacobian. `flip`: in a mirrored OCS; `mirrored`:
    /// stored as 360° − the angle (a clockwise HATCH arc edge).
    Angle {
        code: i32,
        pair: Option<usize>,
        old: f64,
        flip: bool,
        mirrored: bool,
        insert_after: usize,
    },
    /// A length (a radius) × the scale factor.
    Length { pair: usize, old: f64 },
    /// A vector (x, y pairs) through the Jacobian; `keep_length`: rescaled to its old length
    /// (a direction); `flip`: in a mirrored OCS.
    Vector { pairs: [usize; 2], old: [f64; 2], keep_length: bool, flip: bool },
}

/// An elevation (one height for many points): its pair, the points at it, mirrored or not.
#[derive(Debug, Clone)]
struct Elevation {
    pair: usize,
    points: Vec<usize>,
    flip: bool,
}

/// What converting one group takes: points, local frames, and the values that depend on them.
#[derive(Debug, Default)]
struct Plan {
    points: Vec<PlannedPoint>,
    /// The points (world coordinates) around which a local frame is needed: for each `a`, the
    /// probes `a ± (d, 0)`, `a ± (0, d)` are transformed (central differences: the Jacobian to
    /// O(d²)).
    frames: Vec<[f64; 3]>,
    probe_step: f64,
    /// Every frame must be conformal (circles, arcs, ellipses, bulges): what needs it.
    conformal: Option<&'static str>,
    /// The values that depend on a frame (its index).
    edits: Vec<(usize, FrameEdit)>,
    elevations: Vec<Elevation>,
}

impl Plan {
    /// Plans the 2D point whose x is pair `x_pair` (its y the next pair) at height `xyz[2]`
    /// held elsewhere: only x and y are written back. Its index among the planned points.
    fn flat_point(&mut self, x_pair: usize, xyz: [f64; 3], flip: bool) -> usize {
        self.points.push(PlannedPoint { pairs: [Some(x_pair), Some(x_pair + 1), None], xyz, flip });
        self.points.len() - 1
    }

    /// A frame around `at` (world coordinates); its index.
    fn frame_at(&mut self, at: [f64; 3]) -> usize {
        if let Some(i) = self.frames.iter().position(|f| *f == at) {
            return i;
        }
        self.frames.push(at);
        self.frames.len() - 1
    }

    /// A frame around the last point planned (none if there is none yet).
    fn frame_here(&mut self) -> Option<usize> {
        let at = self.points.last()?.wcs();
        Some(self.frame_at(at))
    }

    /// A frame around the first point planned (none if there is none).
    fn frame_first(&mut self) -> Option<usize> {
        let at = self.points.first()?.wcs();
        Some(self.frame_at(at))
    }

    /// Adds an edit in frame `frame` (nothing if there is no frame: no point to anchor it).
    fn edit(&mut self, frame: Option<usize>, edit: FrameEdit) {
        if let Some(f) = frame {
            self.edits.push((f, edit));
        }
    }

    /// The four probes of every frame, in order.
    fn probes(&self) -> impl Iterator<Item = [f64; 3]> + '_ {
        let d = self.probe_step;
        self.frames.iter().flat_map(move |a| {
            [
                [a[0] + d, a[1], a[2]],
                [a[0] - d, a[1], a[2]],
                [a[0], a[1] + d, a[2]],
                [a[0], a[1] - d, a[2]],
            ]
        })
    }

    /// How many coordinates the plan transforms: its points, then its probes.
    fn coordinates(&self) -> usize {
        self.points.len() + 4 * self.frames.len()
    }

    /// The replacements (pair index, value) and insertions (after pair index, code, value),
    /// from the transformed points and probes `done`; why the entity cannot be converted.
    fn resolve(&self, done: &[[f64; 3]]) -> Result<(Vec<Replacement>, Vec<Insertion>), String> {
        let mut reps = Vec::new();
        let mut inserts = Vec::new();
        let n = self.points.len();
        for (p, q) in self.points.iter().zip(done) {
            let q = if p.flip { [-q[0], q[1], -q[2]] } else { *q };
            for (axis, pair) in p.pairs.iter().enumerate() {
                if let Some(pair) = pair {
                    reps.push((*pair, q[axis]));
                }
            }
        }
        for e in &self.elevations {
            let Some(&first) = e.points.first() else { continue };
            let z0 = done[first][2];
            let spread = e.points.iter().map(|&i| (done[i][2] - z0).abs()).fold(0.0, f64::max);
            if spread > ELEVATION_SPREAD {
                return Err(format!(
                    "its vertices' converted heights differ by {spread:.4} m, but it holds one \
                     elevation"
                ));
            }
            reps.push((e.pair, if e.flip { -z0 } else { z0 }));
        }
        // Each frame's Jacobian: the images of the unit x and y steps.
        let mut jacobians = Vec::with_capacity(self.frames.len());
        for f in 0..self.frames.len() {
            let d = 2.0 * self.probe_step;
            let at = n + 4 * f;
            let (e, w, nn, s) = (done[at], done[at + 1], done[at + 2], done[at + 3]);
            let u = [(e[0] - w[0]) / d, (e[1] - w[1]) / d];
            let v = [(nn[0] - s[0]) / d, (nn[1] - s[1]) / d];
            let (lu, lv) = (u[0].hypot(u[1]), v[0].hypot(v[1]));
            let k = 0.5 * (lu + lv);
            let det = u[0] * v[1] - u[1] * v[0];
            if let Some(what) = self.conformal {
                let dot = u[0] * v[0] + u[1] * v[1];
                if !((lu - lv).abs() <= CONFORMAL_TOLERANCE * k
                    && dot.abs() <= CONFORMAL_TOLERANCE * k * k
                    && det > 0.0)
                {
                    return Err(format!(
                        "the transformation is not conformal here (the local x and y axes \
                         become {lu:.9} and {lv:.9} long, {:.6}° apart{}), so its {what} would \
                         become another curve; explode it to a polyline first",
                        (dot / (lu * lv)).clamp(-1.0, 1.0).acos().to_degrees(),
                        if det > 0.0 { "" } else { ", mirrored" }
                    ));
                }
            }
            jacobians.push((u, v, k));
        }
        for (f, e) in &self.edits {
            let Some(&(u, v, k)) = jacobians.get(*f) else { continue };
            let apply = |d: [f64; 2]| [u[0] * d[0] + v[0] * d[1], u[1] * d[0] + v[1] * d[1]];
            match e {
                FrameEdit::Angle { code, pair, old, flip, mirrored, insert_after } => {
                    let t = if *mirrored { -old } else { *old }.to_radians();
                    let s = if *flip { -1.0 } else { 1.0 };
                    let w = apply([s * t.cos(), t.sin()]);
                    let t = (w[1].atan2(s * w[0])).to_degrees();
                    let new = if *mirrored { -t } else { t };
                    let delta = (new - old + 180.0).rem_euclid(360.0) - 180.0;
                    if delta.abs() <= ANGLE_EPSILON {
                        continue;
                    }
                    let new = new.rem_euclid(360.0);
                    match pair {
                        Some(p) => reps.push((*p, new)),
                        None => inserts.push((*insert_after, *code, new)),
                    }
                }
                FrameEdit::Length { pair, old } => reps.push((*pair, old * k)),
                FrameEdit::Vector { pairs, old, keep_length, flip } => {
                    let o = if *flip { [-old[0], old[1]] } else { *old };
                    let mut w = apply(o);
                    if *keep_length {
                        let (lo, lw) = (o[0].hypot(o[1]), w[0].hypot(w[1]));
                        if lw > 0.0 {
                            w = [w[0] * lo / lw, w[1] * lo / lw];
                        }
                    }
                    if *flip {
                        w[0] = -w[0];
                    }
                    reps.push((pairs[0], w[0]));
                    reps.push((pairs[1], w[1]));
                }
            }
        }
        reps.sort_by_key(|r| r.0);
        inserts.sort_by_key(|r| r.0);
        Ok((reps, inserts))
    }
}

/// Why an entity drawn in a tilted plane (extrusion `n`) is refused.
fn tilted(n: [f64; 3]) -> String {
    format!(
        "its coordinates are in the plane of extrusion ({}, {}, {}), not map coordinates; only \
         entities drawn in the x-y plane are converted",
        n[0], n[1], n[2]
    )
}

/// Why an entity with an embedded object is refused.
const EMBEDDED: &str = "it holds an embedded object (group 101: multi-line text or columns, \
                        R2018), whose points and vectors geounify does not convert; save the \
                        drawing as DXF R2013 or older, or leave it out (--skip-invalid)";

/// A structural error in a group: its line and message.
type Malformed = (u64, String);

/// One entity of a group: its pairs (indices into the group's pairs).
struct Entity<'a> {
    kind: &'a [u8],
    pairs: Range<usize>,
}

/// The extrusion direction of an OCS.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Extrusion {
    /// (0, 0, 1) or absent: OCS = WCS.
    Up,
    /// (0, 0, −1): x and z mirrored.
    Down,
    /// Anything else.
    Tilted([f64; 3]),
}

/// Reads the pairs of a group and decides what to convert.
fn plan_group(buf: &[u8], pairs: &[Pair], step: f64) -> Result<Result<Plan, Refusal>, Malformed> {
    let Some(first) = pairs.first() else { return Ok(Err(Refusal::Nothing)) };
    if first.code != 0 {
        return Ok(Err(Refusal::Nothing)); // comments before the first entity
    }
    let mut entities = Vec::new();
    for (i, p) in pairs.iter().enumerate() {
        if p.code == 0 {
            if let Some(last) = entities.last_mut() {
                let e: &mut Entity<'_> = last;
                e.pairs.end = i;
            }
            entities.push(Entity { kind: p.text(buf), pairs: i..pairs.len() });
        }
    }
    let g = Group { buf, pairs };
    let main = &entities[0];
    if g.int(main, 67) == Some(1) {
        return Ok(Err(Refusal::Paper));
    }
    let mut plan = Plan { probe_step: step, ..Plan::default() };
    fn refuse(r: String) -> Result<Result<Plan, Refusal>, Malformed> {
        Ok(Err(Refusal::Reason(r)))
    }
    let kind = main.kind;
    let ext = g.extrusion(main)?;
    let ocs = |ext: Extrusion| -> Result<bool, String> {
        match ext {
            Extrusion::Up => Ok(false),
            Extrusion::Down => Ok(true),
            Extrusion::Tilted(n) => Err(tilted(n)),
        }
    };
    match kind {
        b"POINT" => g.points(main, &[10], false, &mut plan)?,
        b"LINE" => g.points(main, &[10, 11], false, &mut plan)?,
        b"3DFACE" => g.points(main, &[10, 11, 12, 13], false, &mut plan)?,
        b"SOLID" | b"TRACE" => {
            let flip = match ocs(ext) {
                Ok(f) => f,
                Err(r) => return refuse(r),
            };
            g.points(main, &[10, 11, 12, 13], flip, &mut plan)?
        }
        b"LWPOLYLINE" => {
            let flip = match ocs(ext) {
                Ok(f) => f,
                Err(r) => return refuse(r),
            };
            let elevation = g.find(main, 38);
            let z = match elevation {
                Some(i) => g.num(i)?,
                None => 0.0,
            };
            g.flat_points(main, &[10], z, flip, &mut plan)?;
            if let Some(pair) = elevation {
                plan.elevations.push(Elevation {
                    pair,
                    points: (0..plan.points.len()).collect(),
                    flip,
                });
            }
            if g.any_nonzero(main.pairs.clone(), 42)? {
                plan.conformal = Some("bulges (arc segments)");
                plan.frame_first();
            }
        }
        b"POLYLINE" => {
            let flags = g.int(main, 70).unwrap_or(0);
            let three_d = flags & (8 | 16 | 64) != 0;
            let flip = if three_d {
                false
            } else {
                match ocs(ext) {
                    Ok(f) => f,
                    Err(r) => return refuse(r),
                }
            };
            let elevation = if three_d { None } else { g.find(main, 30) };
            let z = match elevation {
                Some(i) => g.num(i)?,
                None => 0.0,
            };
            let mut bulges = false;
            for e in &entities[1..] {
                if e.kind != b"VERTEX" {
                    continue;
                }
                let vflags = g.int(e, 70).unwrap_or(0);
                if vflags & 128 != 0 && vflags & 64 == 0 {
                    continue; // a polyface face record: vertex indices, no position
                }
                if three_d {
                    g.points(e, &[10], false, &mut plan)?;
                } else {
                    g.flat_points(e, &[10], z, flip, &mut plan)?;
                    bulges |= g.any_nonzero(e.pairs.clone(), 42)?;
                }
            }
            if let Some(pair) = elevation {
                plan.elevations.push(Elevation {
                    pair,
                    points: (0..plan.points.len()).collect(),
                    flip,
                });
            }
            if bulges {
                plan.conformal = Some("bulges (arc segments)");
                plan.frame_first();
            }
        }
        b"CIRCLE" | b"ARC" => {
            let flip = match ocs(ext) {
                Ok(f) => f,
                Err(r) => return refuse(r),
            };
            g.points(main, &[10], flip, &mut plan)?;
            let frame = plan.frame_first();
            plan.conformal = Some(if kind == b"ARC" { "arc" } else { "circle" });
            if let Some(pair) = g.find(main, 40) {
                plan.edit(frame, FrameEdit::Length { pair, old: g.num(pair)? });
            }
            if kind == b"ARC" {
                for code in [50, 51] {
                    let pair = g.find(main, code);
                    let old = match pair {
                        Some(p) => g.num(p)?,
                        None => 0.0,
                    };
                    let after = g.last_of(main, &[10, 20, 30, 40]);
                    let edit = FrameEdit::Angle {
                        code,
                        pair,
                        old,
                        flip,
                        mirrored: false,
                        insert_after: after,
                    };
                    plan.edit(frame, edit);
                }
            }
        }
        b"ELLIPSE" => {
            if let Extrusion::Tilted(n) = ext {
                return refuse(tilted(n));
            }
            g.points(main, &[10], false, &mut plan)?;
            let frame = plan.frame_first();
            plan.conformal = Some("ellipse");
            g.vectors(main, 11, false, false, frame, &mut plan)?;
        }
        b"TEXT" | b"ATTDEF" | b"INSERT" => {
            let flip = match ocs(ext) {
                Ok(f) => f,
                Err(r) => return refuse(r),
            };
            if g.find(main, 101).is_some() {
                return refuse(EMBEDDED.into());
            }
            g.text_like(main, flip, &mut plan)?;
            if kind == b"INSERT" {
                for e in &entities[1..] {
                    if e.kind == b"ATTRIB" {
                        let flip = match g.extrusion(e).map(ocs)? {
                            Ok(f) => f,
                            Err(r) => return refuse(format!("an ATTRIB: {r}")),
                        };
                        if g.find(e, 101).is_some() {
                            return refuse(format!("an ATTRIB: {EMBEDDED}"));
                        }
                        g.text_like(e, flip, &mut plan)?;
                    }
                }
            }
        }
        b"MTEXT" => {
            if let Extrusion::Tilted(n) = ext {
                return refuse(tilted(n));
            }
            if g.find(main, 101).is_some() {
                return refuse(EMBEDDED.into());
            }
            g.points(main, &[10], false, &mut plan)?;
            let frame = plan.frame_first();
            g.vectors(main, 11, true, false, frame, &mut plan)?;
            let pair = g.find(main, 50);
            let has_direction = g.find(main, 11).is_some();
            if pair.is_some() || !has_direction {
                let old = match pair {
                    Some(p) => g.num(p)?,
                    None => 0.0,
                };
                let after = g.last_of(main, &[10, 20, 30, 1]);
                let edit = FrameEdit::Angle {
                    code: 50,
                    pair,
                    old,
                    flip: ext == Extrusion::Down,
                    mirrored: false,
                    insert_after: after,
                };
                plan.edit(frame, edit);
            }
        }
        b"SPLINE" => {
            // The start tangent at the first point, the end tangent at the last (control points
            // come before fit points; either list ends where the curve ends).
            g.points(main, &[10, 11], false, &mut plan)?;
            let start = plan.frame_first();
            let end = plan.frame_here();
            g.vectors(main, 12, true, false, start, &mut plan)?;
            g.vectors(main, 13, true, false, end, &mut plan)?;
        }
        b"XLINE" | b"RAY" => {
            g.points(main, &[10], false, &mut plan)?;
            let frame = plan.frame_first();
            g.vectors(main, 11, true, false, frame, &mut plan)?;
        }
        b"IMAGE" | b"WIPEOUT" => {
            g.points(main, &[10], false, &mut plan)?;
            let frame = plan.frame_first();
            g.vectors(main, 11, false, false, frame, &mut plan)?;
            g.vectors(main, 12, false, false, frame, &mut plan)?;
        }
        b"HATCH" => {
            let flip = match ocs(ext) {
                Ok(f) => f,
                Err(r) => return refuse(r),
            };
            if let Err(r) = g.hatch(main, flip, &mut plan)? {
                return refuse(r);
            }
        }
        b"DIMENSION" | b"ARC_DIMENSION" | b"LARGE_RADIAL_DIMENSION" => {
            return refuse(format!(
                "a {} is drawn by an anonymous block (*D...) of world coordinates, which would \
                 stay where it is; explode dimensions first, or leave them out (--skip-invalid)",
                shown(kind)
            ))
        }
        _ => {
            return refuse(format!(
                "{} entities are not converted (their geometry is not one geounify knows how \
                 to convert correctly); explode them first, or leave them out (--skip-invalid)",
                shown(kind)
            ))
        }
    }
    if plan.points.is_empty() {
        return Ok(Err(Refusal::Nothing));
    }
    if plan.edits.is_empty() && plan.conformal.is_none() {
        plan.frames.clear();
    }
    Ok(Ok(plan))
}

/// A group's pairs in their buffer.
struct Group<'a> {
    buf: &'a [u8],
    pairs: &'a [Pair],
}

impl Group<'_> {
    /// The number of pair `i`; a structural error naming its line if it is not one.
    fn num(&self, i: usize) -> Result<f64, Malformed> {
        let p = &self.pairs[i];
        number(self.buf, p).ok_or_else(|| {
            (
                p.line + 1,
                format!("group {} value '{}' is not a number", p.code, shown(p.text(self.buf))),
            )
        })
    }

    /// The first pair of `e` with `code`.
    fn find(&self, e: &Entity<'_>, code: i32) -> Option<usize> {
        e.pairs.clone().find(|&i| self.pairs[i].code == code)
    }

    /// The integer value of the first pair of `e` with `code`.
    fn int(&self, e: &Entity<'_>, code: i32) -> Option<i64> {
        let i = self.find(e, code)?;
        std::str::from_utf8(self.pairs[i].text(self.buf)).ok()?.parse().ok()
    }

    /// The last pair of `e` whose code is one of `codes` (for inserting a pair after it).
    fn last_of(&self, e: &Entity<'_>, codes: &[i32]) -> usize {
        e.pairs
            .clone()
            .rev()
            .find(|&i| codes.contains(&self.pairs[i].code))
            .unwrap_or(e.pairs.start)
    }

    /// Whether a pair with `code` in `range` holds a non-zero number.
    fn any_nonzero(&self, range: Range<usize>, code: i32) -> Result<bool, Malformed> {
        for i in range {
            if self.pairs[i].code == code && self.num(i)? != 0.0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The extrusion 210/220/230 of `e`.
    fn extrusion(&self, e: &Entity<'_>) -> Result<Extrusion, Malformed> {
        let mut n = [0.0, 0.0, 1.0];
        for (k, code) in [210, 220, 230].into_iter().enumerate() {
            if let Some(i) = self.find(e, code) {
                n[k] = self.num(i)?;
            }
        }
        Ok(if n[0].abs() <= 1e-9 && n[1].abs() <= 1e-9 {
            if n[2] > 0.0 {
                Extrusion::Up
            } else if n[2] < 0.0 {
                Extrusion::Down
            } else {
                Extrusion::Tilted(n)
            }
        } else {
            Extrusion::Tilted(n)
        })
    }

    /// The points of `e` whose x codes are `codes`: x, then y (code + 10) right after it, then
    /// an optional z (code + 20) right after that.
    fn points(
        &self,
        e: &Entity<'_>,
        codes: &[i32],
        flip: bool,
        plan: &mut Plan,
    ) -> Result<(), Malformed> {
        let mut i = e.pairs.start;
        while i < e.pairs.end {
            let code = self.pairs[i].code;
            if codes.contains(&code) {
                let (x, y) = self.xy(i, e)?;
                let zi =
                    (i + 2 < e.pairs.end && self.pairs[i + 2].code == code + 20).then_some(i + 2);
                let z = match zi {
                    Some(zi) => self.num(zi)?,
                    None => 0.0,
                };
                plan.points.push(PlannedPoint {
                    pairs: [Some(i), Some(i + 1), zi],
                    xyz: [x, y, z],
                    flip,
                });
                i += if zi.is_some() { 3 } else { 2 };
            } else {
                i += 1;
            }
        }
        Ok(())
    }

    /// The x, y of the point whose x is pair `i`.
    fn xy(&self, i: usize, e: &Entity<'_>) -> Result<(f64, f64), Malformed> {
        let p = &self.pairs[i];
        if i + 1 >= e.pairs.end || self.pairs[i + 1].code != p.code + 10 {
            return Err((
                p.line,
                format!("group {} (an x) is not followed by group {} (its y)", p.code, p.code + 10),
            ));
        }
        Ok((self.num(i)?, self.num(i + 1)?))
    }

    /// Like [`points`](Self::points) for 2D points at height `z` (an elevation held elsewhere):
    /// only x and y are written back; a z pair after them is kept.
    fn flat_points(
        &self,
        e: &Entity<'_>,
        codes: &[i32],
        z: f64,
        flip: bool,
        plan: &mut Plan,
    ) -> Result<(), Malformed> {
        let mut i = e.pairs.start;
        while i < e.pairs.end {
            if codes.contains(&self.pairs[i].code) {
                let (x, y) = self.xy(i, e)?;
                plan.flat_point(i, [x, y, z], flip);
                i += 2;
            } else {
                i += 1;
            }
        }
        Ok(())
    }

    /// The vectors of `e` with x code `code` (y = code + 10), through the local frame.
    fn vectors(
        &self,
        e: &Entity<'_>,
        code: i32,
        keep_length: bool,
        flip: bool,
        frame: Option<usize>,
        plan: &mut Plan,
    ) -> Result<(), Malformed> {
        for i in e.pairs.clone() {
            if self.pairs[i].code == code {
                let (x, y) = self.xy(i, e)?;
                let edit = FrameEdit::Vector { pairs: [i, i + 1], old: [x, y], keep_length, flip };
                plan.edit(frame, edit);
            }
        }
        Ok(())
    }

    /// TEXT, ATTRIB, ATTDEF, INSERT: insertion point, alignment point when aligned, rotation.
    fn text_like(&self, e: &Entity<'_>, flip: bool, plan: &mut Plan) -> Result<(), Malformed> {
        let aligned = match e.kind {
            b"TEXT" => self.int(e, 72).unwrap_or(0) != 0 || self.int(e, 73).unwrap_or(0) != 0,
            b"ATTRIB" | b"ATTDEF" => {
                self.int(e, 72).unwrap_or(0) != 0 || self.int(e, 74).unwrap_or(0) != 0
            }
            _ => false,
        };
        let codes: &[i32] = if aligned { &[10, 11] } else { &[10] };
        let first = plan.points.len();
        self.points(e, codes, flip, plan)?;
        let Some(anchor) = plan.points.get(first).map(PlannedPoint::wcs) else { return Ok(()) };
        let frame = Some(plan.frame_at(anchor));
        let pair = self.find(e, 50);
        let old = match pair {
            Some(p) => self.num(p)?,
            None => 0.0,
        };
        let after = if e.kind == b"INSERT" {
            self.last_of(e, &[10, 20, 30, 41, 42, 43])
        } else {
            self.last_of(e, &[10, 20, 30, 40, 1])
        };
        let edit =
            FrameEdit::Angle { code: 50, pair, old, flip, mirrored: false, insert_after: after };
        plan.edit(frame, edit);
        Ok(())
    }

    /// A HATCH: boundary paths and seed points (see the module documentation). `Ok(Err(_))`
    /// refuses it.
    fn hatch(
        &self,
        e: &Entity<'_>,
        flip: bool,
        plan: &mut Plan,
    ) -> Result<Result<(), String>, Malformed> {
        #[derive(PartialEq)]
        enum Phase {
            Head,
            Polyline,
            Edges,
            Pattern,
            Seeds,
        }
        let mut phase = Phase::Head;
        let mut elevation = None;
        let mut z = 0.0;
        let mut edge = 0;
        let mut bulges = false;
        let mut i = e.pairs.start;
        let mut bound = Vec::new();
        while i < e.pairs.end {
            let p = &self.pairs[i];
            let code = p.code;
            match (&phase, code) {
                (Phase::Head, 10) => {
                    // The elevation point: x and y are 0, z is the hatch's elevation.
                    let _ = self.xy(i, e)?;
                    if i + 2 < e.pairs.end && self.pairs[i + 2].code == 30 {
                        elevation = Some(i + 2);
                        z = self.num(i + 2)?;
                        i += 1;
                    }
                    i += 2;
                    continue;
                }
                (_, 92) => {
                    let flags = self.num(i)? as i64;
                    phase = if flags & 2 != 0 { Phase::Polyline } else { Phase::Edges };
                    edge = 0;
                }
                (Phase::Polyline, 10) => {
                    let (x, y) = self.xy(i, e)?;
                    bound.push(plan.flat_point(i, [x, y, z], flip));
                    i += 2;
                    continue;
                }
                (Phase::Polyline, 42) => bulges |= self.num(i)? != 0.0,
                (Phase::Edges, 72) => {
                    edge = self.num(i)? as i64;
                    if edge == 4 {
                        return Ok(Err("a HATCH boundary with spline edges is not converted; \
                                       leave it out (--skip-invalid) or redraw the boundary"
                            .into()));
                    }
                    if !(1..=3).contains(&edge) {
                        return Ok(Err(format!("a HATCH boundary edge of unknown type {edge}")));
                    }
                }
                (Phase::Edges, 10) | (Phase::Edges, 11) if code == 10 || edge == 1 => {
                    let (x, y) = self.xy(i, e)?;
                    bound.push(plan.flat_point(i, [x, y, z], flip));
                    i += 2;
                    continue;
                }
                (Phase::Edges, 11) if edge == 3 => {
                    let (x, y) = self.xy(i, e)?;
                    // Relative to the centre, the point just planned.
                    plan.conformal = Some("elliptic boundary edges");
                    let frame = plan.frame_here();
                    let edit = FrameEdit::Vector {
                        pairs: [i, i + 1],
                        old: [x, y],
                        keep_length: false,
                        flip,
                    };
                    plan.edit(frame, edit);
                    i += 2;
                    continue;
                }
                (Phase::Edges, 40) if edge == 2 => {
                    plan.conformal = Some("arc boundary edges");
                    let frame = plan.frame_here();
                    plan.edit(frame, FrameEdit::Length { pair: i, old: self.num(i)? });
                }
                (Phase::Edges, 50) | (Phase::Edges, 51) if edge == 2 => {
                    // A clockwise arc edge (73 = 0 after the angles) stores 360° − angle.
                    let ccw = (i + 1..e.pairs.end)
                        .take(3)
                        .find(|&j| self.pairs[j].code == 73)
                        .map_or(Ok(true), |j| self.num(j).map(|v| v != 0.0))?;
                    let frame = plan.frame_here();
                    let edit = FrameEdit::Angle {
                        code,
                        pair: Some(i),
                        old: self.num(i)?,
                        flip,
                        mirrored: !ccw,
                        insert_after: i,
                    };
                    plan.edit(frame, edit);
                }
                (_, 75) | (_, 76) if phase != Phase::Seeds => phase = Phase::Pattern,
                (_, 98) => phase = Phase::Seeds,
                (Phase::Seeds, 10) => {
                    let (x, y) = self.xy(i, e)?;
                    bound.push(plan.flat_point(i, [x, y, z], flip));
                    i += 2;
                    continue;
                }
                (Phase::Pattern, 10) | (Phase::Edges, 10..=13) => {
                    return Ok(Err(format!(
                        "unexpected group {code} at line {} of a HATCH",
                        p.line
                    )))
                }
                _ => {}
            }
            i += 1;
        }
        if let Some(pair) = elevation {
            plan.elevations.push(Elevation { pair, points: bound, flip });
        }
        if bulges {
            plan.conformal = Some("bulged boundary segments");
            plan.frame_first();
        }
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs_of(text: &[u8]) -> (Vec<u8>, Vec<Pair>) {
        let mut r = PairReader { input: text, line: 1, path: Path::new("t.dxf") };
        let mut buf = Vec::new();
        let mut list = Vec::new();
        while let Some(p) = r.next(&mut buf).unwrap() {
            list.push(p);
        }
        (buf, list)
    }

    #[test]
    fn pairs_keep_line_endings_and_name_bad_lines() {
        let (buf, list) = pairs_of(b"  0\r\nLINE\r\n 10\n1.5 \n");
        assert_eq!(list.len(), 2);
        assert_eq!((list[0].code, list[0].text(&buf)), (0, &b"LINE"[..]));
        assert_eq!((list[1].code, list[1].line, number(&buf, &list[1])), (10, 3, Some(1.5)));
        let mut r = PairReader { input: &b"  0\nLINE\n 10\n"[..], line: 1, path: Path::new("t") };
        let mut buf = Vec::new();
        r.next(&mut buf).unwrap();
        let err = r.next(&mut buf).unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("odd number"), "{err}");
        let mut r = PairReader { input: &b"x\ny\n"[..], line: 1, path: Path::new("t") };
        let err = r.next(&mut Vec::new()).unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("not an integer"), "{err}");
    }

    #[test]
    fn text_alignment_point_only_when_aligned_and_rotation_added() {
        let (buf, list) =
            pairs_of(b"0\nTEXT\n10\n1\n20\n2\n30\n0\n40\n2.5\n1\nabc\n11\n0\n21\n0\n31\n0\n");
        let plan = plan_group(&buf, &list, 10.0).unwrap().ok().unwrap();
        assert_eq!(plan.points.len(), 1);
        assert!(matches!(plan.edits[0], (0, FrameEdit::Angle { pair: None, insert_after: 5, .. })));
    }
}
