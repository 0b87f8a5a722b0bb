//! GPX 1.0 / 1.1 files (GPS tracks, routes and waypoints): the `lat` and `lon` attributes of
//! every `wpt`, `rtept` and `trkpt` converted in place, every other byte kept.
//!
//! **What changes.** Only the values of the `lat` / `lon` attributes of the point elements
//! (`wpt` in `gpx`, `rtept` in `rte`, `trkpt` in `trkseg`, matched by local name, so a prefixed
//! namespace works too), written in the shortest form that reads back exactly, always as a
//! plain decimal (GPX's `xsd:decimal` has no exponent), in the quotes they had. Everything else
//! is copied byte for byte: the XML declaration and its encoding, names (Chinese included),
//! times, extensions, comments, CDATA, white space, the attribute order and quote style.
//!
//! **Heights.** `ele` is an elevation (GPX 1.1: "elevation (in meters) of the point", above
//! mean sea level in practice), so it is copied unchanged, as every elevation is between 2D
//! CRSs. Only if the transformer converts heights (3D CRSs or ellipsoidal heights asked for,
//! see [`Heights`](crate::transformer::Heights)) is `ele` passed through the conversion as the
//! height and rewritten; a point without `ele` is then converted at height 0 and keeps having
//! none.
//!
//! **Bounds.** A `<bounds minlat minlon maxlat maxlon>` element (in `metadata` for GPX 1.1, in
//! `gpx` for 1.0) describes "the extent of the coordinates in the file": it is recomputed as the
//! extent of the converted points written (its attributes rewritten, nothing else), so it always
//! contains them. The schema puts it before every point: the file is read once to find the
//! extent and once more to write (only files with a `bounds` element pay the second pass). With
//! no point converted, it is kept as it was, with a warning.
//!
//! **CRS.** GPX coordinates are WGS84 longitude/latitude by definition, and the file declares
//! nothing else, yet Chinese map apps export GCJ-02 (or BD-09) coordinates in GPX files: the
//! file cannot say which it holds. So GPX declares no CRS here: `geounify convert` asks for
//! `--from` (`EPSG:4326` for a GPS receiver's file, `GCJ02` for a Chinese app's export). A
//! projected source or target is refused; a GCJ-02 / BD-09 target
//! is allowed with a warning.
//!
//! **Failures.** A point whose `lat` / `lon` is missing, not a number or out of range
//! (latitude beyond ±90°, longitude beyond ±180°), or that the transformer cannot convert, fails
//! with its location (`line 12, trkpt 5`: the line of its start tag and its number among the
//! file's elements of that name); with `skip_invalid` the whole point element is left out
//! instead (a waypoint, a route or track point). Each point element is a feature of the report.
//! Malformed XML (an unclosed tag, comment or CDATA section, mismatched end tags, text outside
//! the root, a bad attribute) or a root element other than `gpx` is a
//! [`ConvertError::Malformed`] naming the line; nothing is written.
//!
//! **Memory.** Read in chunks of about 4 MiB (whole items), the points of a chunk transformed
//! in one batch (in parallel with [`ConvertOptions::parallel`](super::ConvertOptions)), written
//! in order; one point element may be at most 64 MiB long.

use super::xml::{self, Attribute, Edit, Item, Kind, Nesting, Scanner};
use super::{runner, ConvertError, ConvertReport, Failure, Job, Tally, MAX_RECORD_BYTES};
use std::io::{Read, Seek, Write};
use std::ops::Range;
use std::path::Path;

/// Bytes per chunk (a chunk ends at the first item boundary outside a point past this).
const CHUNK_BYTES: usize = 4 << 20;
/// Points per chunk.
const CHUNK_POINTS: usize = 1 << 16;

/// The point elements: local name and the local name of the parent they belong in.
const POINT_ELEMENTS: [(&[u8], &[u8]); 3] =
    [(b"wpt", b"gpx"), (b"rtept", b"rte"), (b"trkpt", b"trkseg")];

/// A point element found by the [`Parser`]: where it and its values are in the chunk.
#[derive(Debug, Clone)]
pub(crate) struct PointRec {
    /// 0 `wpt`, 1 `rtept`, 2 `trkpt` (index into [`POINT_ELEMENTS`]).
    kind: usize,
    /// Its number among the file's elements of its name (1-based).
    ordinal: u64,
    /// The line of its start tag.
    line: u64,
    /// The whole element, start tag to end tag.
    span: Range<usize>,
    /// The `lat` and `lon` attribute values (inside the quotes).
    lat: Range<usize>,
    lon: Range<usize>,
    /// The text of its `ele` child, white space around it excluded.
    ele: Option<Range<usize>>,
    /// `[lon, lat]` in degrees, or why not.
    lonlat: Result<[f64; 2], String>,
}

impl PointRec {
    /// Where the point is, for messages: `line 12, trkpt 5`.
    fn location(&self) -> String {
        let name = POINT_ELEMENTS
            .get(self.kind)
            .map_or("point", |(n, _)| std::str::from_utf8(n).unwrap_or("point"));
        format!("line {}, {name} {}", self.line, self.ordinal)
    }

    /// The `ele` value in `bytes`, if it is a number.
    fn elevation(&self, bytes: &[u8]) -> Result<Option<f64>, String> {
        let Some(r) = &self.ele else { return Ok(None) };
        let raw = bytes.get(r.clone()).unwrap_or_default();
        let text = std::str::from_utf8(raw).unwrap_or("");
        super::text::parse_coordinate(text)
            .map(Some)
            .ok_or_else(|| format!("ele '{}' is not a number", shown(raw)))
    }
}

/// The `minlat`, `minlon`, `maxlat`, `maxlon` attribute values of a `bounds` element (ranges in
/// the chunk), those present.
#[derive(Debug, Clone)]
struct BoundsRec {
    values: [Option<Range<usize>>; 4],
}

/// What one item meant.
enum Event {
    Nothing,
    Point(PointRec),
    Bounds(BoundsRec),
}

/// What a start tag outside a point element is.
enum Role {
    Other,
    Bounds,
    /// A point element (index into [`POINT_ELEMENTS`]).
    Point(usize),
}

/// A point element being read.
struct Open {
    rec: PointRec,
    depth: usize,
    in_ele: bool,
    /// `ele` held something other than one text run (a comment, CDATA): not read.
    ele_unreadable: bool,
}

/// GPX structure: bytes → points with their locations (no writing), fed item by item.
pub(crate) struct Parser<'p> {
    nesting: Nesting,
    counts: [u64; 3],
    open: Option<Open>,
    attrs: Vec<Attribute>,
    path: &'p Path,
}

impl<'p> Parser<'p> {
    pub(crate) fn new(path: &'p Path) -> Self {
        Self { nesting: Nesting::default(), counts: [0; 3], open: None, attrs: Vec::new(), path }
    }

    /// Whether a point element is open (a chunk must not end inside it), and where it starts.
    fn open_since(&self) -> Option<usize> {
        self.open.as_ref().map(|o| o.rec.span.start)
    }

    /// Reads `item` (its bytes in `buf`).
    fn feed(&mut self, item: &Item, buf: &[u8]) -> Result<Event, ConvertError> {
        let bytes = buf.get(item.range()).unwrap_or_default();
        let opening = matches!(item.kind, Kind::Start | Kind::Empty);
        let is_root = opening && self.nesting.root().is_none();
        // What the tag is, judged by its parent before the nesting takes it in.
        let mut role = Role::Other;
        if opening && self.open.is_none() {
            let local = xml::local(xml::name(bytes));
            let parent = self.nesting.parent().map(xml::local);
            if let Some(parent) = parent {
                if local == b"bounds" && (parent == b"metadata" || parent == b"gpx") {
                    role = Role::Bounds;
                } else if let Some(k) =
                    POINT_ELEMENTS.iter().position(|(n, p)| *n == local && *p == parent)
                {
                    role = Role::Point(k);
                }
            }
        }
        self.nesting
            .step(item, bytes)
            .map_err(|m| xml::malformed(self.path, self.nesting.error_line(item), m))?;
        if is_root && xml::local(xml::name(bytes)) != b"gpx" {
            return Err(xml::malformed(
                self.path,
                item.line,
                format!(
                    "not a GPX file: the root element is <{}>, not <gpx>",
                    String::from_utf8_lossy(xml::name(bytes))
                ),
            ));
        }
        if let Some(open) = &mut self.open {
            let depth = self.nesting.depth();
            match item.kind {
                Kind::Start
                    if depth == open.depth + 2 && xml::local(xml::name(bytes)) == b"ele" =>
                {
                    open.in_ele = true;
                }
                Kind::End if open.in_ele && depth == open.depth + 1 => open.in_ele = false,
                Kind::Text if open.in_ele => {
                    if open.rec.ele.is_some() {
                        open.ele_unreadable = true;
                    }
                    open.rec.ele = Some(xml::trimmed(buf, item.range()));
                }
                Kind::CData | Kind::Comment | Kind::Pi if open.in_ele => open.ele_unreadable = true,
                Kind::End if depth == open.depth => {
                    let Some(mut open) = self.open.take() else { return Ok(Event::Nothing) };
                    open.rec.span.end = item.end;
                    if open.ele_unreadable {
                        open.rec.ele = None;
                    }
                    return Ok(Event::Point(open.rec));
                }
                _ => {}
            }
            return Ok(Event::Nothing);
        }
        let kind = match role {
            Role::Other => return Ok(Event::Nothing),
            Role::Bounds => {
                xml::attributes(bytes, &mut self.attrs)
                    .map_err(|m| xml::malformed(self.path, item.line, m))?;
                let value = |name: &[u8]| {
                    xml::find(bytes, &self.attrs, name)
                        .map(|a| item.start + a.value.start..item.start + a.value.end)
                };
                return Ok(Event::Bounds(BoundsRec {
                    values: [
                        value(b"minlat"),
                        value(b"minlon"),
                        value(b"maxlat"),
                        value(b"maxlon"),
                    ],
                }));
            }
            Role::Point(kind) => kind,
        };
        xml::attributes(bytes, &mut self.attrs)
            .map_err(|m| xml::malformed(self.path, item.line, m))?;
        let count = self.counts.get_mut(kind).map(|c| {
            *c += 1;
            *c
        });
        let attr = |name: &str| -> Result<(Range<usize>, f64), String> {
            let Some(a) = xml::find(bytes, &self.attrs, name.as_bytes()) else {
                return Err(format!("no {name} attribute"));
            };
            let raw = bytes.get(a.value.clone()).unwrap_or_default();
            let range = item.start + a.value.start..item.start + a.value.end;
            let value = xml::unescape(raw)
                .ok()
                .and_then(|v| std::str::from_utf8(&v).ok().and_then(super::text::parse_coordinate))
                .ok_or_else(|| format!("{name} '{}' is not a number", shown(raw)))?;
            Ok((range, value))
        };
        let (lat, lon) = (attr("lat"), attr("lon"));
        let ranges = |r: &Result<(Range<usize>, f64), String>| {
            r.as_ref().map(|(range, _)| range.clone()).unwrap_or(0..0)
        };
        let lonlat = match (&lat, &lon) {
            (Err(e), _) | (_, Err(e)) => Err(e.clone()),
            (Ok((_, lat)), _) if !(-90.0..=90.0).contains(lat) => {
                Err(format!("lat {lat} is beyond ±90°"))
            }
            (_, Ok((_, lon))) if !(-180.0..=180.0).contains(lon) => {
                Err(format!("lon {lon} is beyond ±180°"))
            }
            (Ok((_, lat)), Ok((_, lon))) => Ok([*lon, *lat]),
        };
        let rec = PointRec {
            kind,
            ordinal: count.unwrap_or(0),
            line: item.line,
            span: item.range(),
            lat: ranges(&lat),
            lon: ranges(&lon),
            ele: None,
            lonlat,
        };
        if item.kind == Kind::Empty {
            return Ok(Event::Point(rec));
        }
        let depth = self.nesting.depth() - 1;
        self.open = Some(Open { rec, depth, in_ele: false, ele_unreadable: false });
        Ok(Event::Nothing)
    }
}

/// `raw` for a message: at most 40 characters.
fn shown(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// Items read together, with the points and bounds found in them.
#[derive(Default)]
struct Chunk {
    bytes: Vec<u8>,
    points: Vec<PointRec>,
    bounds: Vec<BoundsRec>,
}

/// The parser and the chunk it fills.
struct Reading<'p> {
    parser: Parser<'p>,
    chunk: Chunk,
}

impl xml::Filling for Reading<'_> {
    fn bytes(&mut self) -> &mut Vec<u8> {
        &mut self.chunk.bytes
    }

    fn feed(&mut self, item: &Item) -> Result<(), ConvertError> {
        match self.parser.feed(item, &self.chunk.bytes)? {
            Event::Nothing => {}
            Event::Point(p) => self.chunk.points.push(p),
            Event::Bounds(b) => self.chunk.bounds.push(b),
        }
        Ok(())
    }

    fn open_since(&self) -> Option<usize> {
        self.parser.open_since()
    }

    fn points_full(&self) -> bool {
        self.chunk.points.len() >= CHUNK_POINTS
    }

    fn nesting(&self) -> &Nesting {
        &self.parser.nesting
    }

    fn too_long(&self, _: &Item) -> ConvertError {
        let line = self.parser.open.as_ref().map_or(0, |o| o.rec.line);
        xml::malformed(
            self.parser.path,
            line,
            format!("a point element longer than {} MiB", MAX_RECORD_BYTES >> 20),
        )
    }

    fn path(&self) -> &Path {
        self.parser.path
    }
}

impl Reading<'_> {
    /// Reads items until the chunk is full (outside a point element); whether the input may
    /// hold more.
    fn fill<R: Read>(&mut self, scanner: &mut Scanner<'_, R>) -> Result<bool, ConvertError> {
        self.chunk.bytes.clear();
        self.chunk.points.clear();
        self.chunk.bounds.clear();
        xml::fill(scanner, self, CHUNK_BYTES)
    }
}

/// What a pass does with `bounds` elements.
#[derive(Debug, Clone, Copy)]
enum BoundsRule {
    /// The extent is not known yet: meeting a `bounds` element stops the writing (the pass
    /// then only measures the extent).
    Unknown,
    /// Rewrite them with this extent `[min lon, min lat, max lon, max lat]`.
    Extent([f64; 4]),
    /// Keep them (no point was converted).
    Keep,
}

/// The result of one pass.
struct Pass {
    report: ConvertReport,
    tally: Tally,
    /// `[min lon, min lat, max lon, max lat]` of the converted points written.
    extent: Option<[f64; 4]>,
    /// A `bounds` element was met with [`BoundsRule::Unknown`]: the output is incomplete.
    needs_extent: bool,
}

/// Converts `job.input` into `job.output` through a temporary file renamed only on success.
pub(crate) fn convert_file(job: &Job<'_>) -> Result<ConvertReport, ConvertError> {
    let warnings = check(job)?;
    super::through_temporary(job, |file, out| {
        let io_out = |source| ConvertError::Io { path: job.output.to_path_buf(), source };
        let mut pass = run(job, file, out, BoundsRule::Unknown, true)?;
        if pass.needs_extent && !pass.tally.failed() {
            // The bounds come before the points: write again, now that the extent is known.
            out.flush().map_err(io_out)?;
            out.get_mut().set_len(0).map_err(io_out)?;
            out.get_mut().rewind().map_err(io_out)?;
            let rule = match pass.extent {
                Some(extent) => BoundsRule::Extent(extent),
                None => BoundsRule::Keep,
            };
            let file = super::open_regular(job.input)?;
            pass = run(job, file, out, rule, false)?;
            if matches!(rule, BoundsRule::Keep) {
                pass.report
                    .warnings
                    .push("no point was converted: the <bounds> element is kept as it was".into());
            }
        }
        let Pass { mut report, tally, .. } = pass;
        tally.finish(&mut report, job.input)?;
        report.warnings.splice(0..0, warnings);
        Ok(report)
    })
}

/// Up to `max` coordinates `[lon, lat, ele or 0]` from the first points, for the sanity check;
/// points with bad values are passed over.
pub(crate) fn sample(job: &Job<'_>, max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
    xml::check_input(job, "GPX")?;
    let file = super::open_regular(job.input)?;
    let mut scanner = Scanner::new(file, job.input);
    let mut parser = Parser::new(job.input);
    let mut buf = Vec::new();
    let mut samples = Vec::new();
    while samples.len() < max {
        // The bytes of an open point element are kept until it closes.
        match parser.open_since() {
            None => buf.clear(),
            Some(start) if (buf.len() - start) as u64 > MAX_RECORD_BYTES => break,
            Some(_) => {}
        }
        let Some(item) = scanner.next_item(&mut buf)? else { break };
        if let Event::Point(p) = parser.feed(&item, &buf)? {
            if let Ok([lon, lat]) = p.lonlat {
                samples.push([lon, lat, p.elevation(&buf).ok().flatten().unwrap_or(0.0)]);
            }
        }
    }
    Ok(samples)
}

/// The checks before reading ([`xml::check`]). The warnings.
fn check(job: &Job<'_>) -> Result<Vec<String>, ConvertError> {
    xml::check(job, "GPX")
}

/// One pass over `file`: converts and writes (until a failure, or a `bounds` element with
/// [`BoundsRule::Unknown`]), measuring the extent. `progress`: whether to report progress.
fn run(
    job: &Job<'_>,
    file: std::fs::File,
    out: &mut dyn Write,
    bounds: BoundsRule,
    progress: bool,
) -> Result<Pass, ConvertError> {
    let io_out = |source| ConvertError::Io { path: job.output.to_path_buf(), source };
    let converts_height = !job.transformer.copies_height();
    let mut scanner = Scanner::new(file, job.input);
    let parser = Parser::new(job.input);
    let mut pass = Pass {
        report: ConvertReport::default(),
        tally: Tally::default(),
        extent: None,
        needs_extent: false,
    };
    let mut writing = true;
    let mut reading = Reading { parser, chunk: Chunk::default() };
    loop {
        let more = reading.fill(&mut scanner)?;
        let Chunk { bytes, points, bounds: chunk_bounds } = &reading.chunk;
        // Parse → batch (one `transform_slice` per part of the chunk's points).
        let mut outcomes: Vec<(&PointRec, Result<[f64; 3], String>)> =
            points.iter().map(|p| (p, Err(String::new()))).collect();
        runner::in_place(
            job.transformer,
            job.options.parallel,
            &mut outcomes,
            |(p, outcome), batch| {
                let point = p.lonlat.clone().and_then(|[lon, lat]| {
                    let z = if converts_height { p.elevation(bytes)?.unwrap_or(0.0) } else { 0.0 };
                    Ok([lon, lat, z])
                });
                match point {
                    Ok(c) => {
                        batch.push(c);
                        true
                    }
                    Err(reason) => {
                        *outcome = Err(reason);
                        false
                    }
                }
            },
            |(_, outcome), converted| {
                *outcome = converted
                    .map(|c| c.first().copied().unwrap_or([f64::NAN; 3]))
                    .map_err(|e| e.to_string());
            },
        );
        // Edits: values replaced, points left out.
        let mut edits: Vec<(Range<usize>, Edit)> = Vec::new();
        for (p, outcome) in outcomes {
            pass.report.features += 1;
            match outcome {
                Err(reason) => {
                    let failure = Failure { location: p.location(), reason };
                    pass.tally.record(&mut pass.report, job.options.skip_invalid, failure);
                    let edit = if job.options.skip_invalid { Edit::Drop } else { Edit::Stop };
                    edits.push((p.span.clone(), edit));
                }
                Ok([lon, lat, z]) => {
                    pass.report.vertices += 1;
                    let e = pass.extent.get_or_insert([lon, lat, lon, lat]);
                    *e = [e[0].min(lon), e[1].min(lat), e[2].max(lon), e[3].max(lat)];
                    edits.push((p.lat.clone(), Edit::Value(lat)));
                    edits.push((p.lon.clone(), Edit::Value(lon)));
                    if converts_height {
                        if let Some(r) = &p.ele {
                            edits.push((r.clone(), Edit::Value(z)));
                        }
                    }
                }
            }
        }
        for b in chunk_bounds {
            match bounds {
                BoundsRule::Unknown => {
                    pass.needs_extent = true;
                    let at = b.values.iter().flatten().map(|r| r.start).min().unwrap_or(0);
                    edits.push((at..at, Edit::Stop));
                }
                BoundsRule::Keep => {}
                BoundsRule::Extent([min_lon, min_lat, max_lon, max_lat]) => {
                    for (r, v) in b.values.iter().zip([min_lat, min_lon, max_lat, max_lon]) {
                        if let Some(r) = r {
                            edits.push((r.clone(), Edit::Value(v)));
                        }
                    }
                }
            }
        }
        if writing {
            let mut text = Vec::with_capacity(bytes.len() + bytes.len() / 4);
            writing = xml::write_edits(bytes, &mut edits, &mut text);
            out.write_all(&text).map_err(io_out)?;
        }
        if progress {
            job.progress.advance(bytes.len() as u64);
        }
        if !more {
            break;
        }
    }
    Ok(pass)
}
