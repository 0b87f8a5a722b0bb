//! KML 2.2 files (Google Earth, web maps): the numbers of every `<coordinates>` and `<gx:coord>`
//! and the edges of `<LatLonBox>` / `<LatLonAltBox>` converted in place, every other byte kept.
//!
//! **What changes.**
//! - `<coordinates>` (in `Point`, `LineString`, `LinearRing`, `gx:LatLonQuad`, wherever it
//!   stands): tuples `lon,lat[,alt]` separated by white space; each number is replaced, the
//!   commas, the white space between tuples (new lines, indentation) and around the numbers are
//!   kept byte for byte. A tuple with spaces around its commas (`lon, lat`, which some writers
//!   produce) is read too.
//! - `<gx:coord>` (in `gx:Track`): `lon lat alt` separated by spaces, likewise.
//! - `<LatLonBox>` (a ground overlay's image placement) and `<LatLonAltBox>` (a `Region`): the
//!   four corners are converted; a `LatLonBox` edge becomes the mean of its two converted
//!   corners (north = mean latitude of the converted north-west and north-east corners, ...),
//!   the axis-aligned box closest to the converted corners, its `rotation` kept (the image stays
//!   a rectangle in longitude/latitude, as KML requires). The corners' own converted positions
//!   differ from that box by the change of the GCJ-02 offset across the image: about 0.03 % of
//!   its size (2.8e-6° on a 0.01° box, some 30 cm per km), which no rectangle can avoid — the
//!   image itself is warped against WGS84; a round trip moves such an edge by as much.
//!   a `LatLonAltBox` edge becomes the outer of its two converted corners (north = the greater
//!   latitude, ...), so a region still contains what it contained. A box with an edge missing
//!   or not a number is kept as it was, with a warning.
//! - `<LookAt>`, `<Camera>` (the view) and a model's `<Location>`: their `<longitude>` and
//!   `<latitude>` are a point, converted (their altitude, heading, tilt, range kept); one without
//!   both as numbers is kept as it was, with a warning. Such warnings (boxes and views alike)
//!   are listed for the first 20; one more warning counts the rest (`... and N more`).
//!
//! Numbers are written in the shortest form that reads back exactly, as plain decimals.
//! Everything else is copied: the XML declaration, names and descriptions (Chinese text, CDATA
//! with HTML), styles, `ExtendedData`, comments, time stamps, namespace prefixes.
//!
//! **Heights.** An altitude is an elevation (metres above sea level for `absolute`, above the
//! ground or sea floor for the relative modes), so it is copied unchanged, as every elevation is
//! between 2D CRSs; only if the transformer converts heights is it passed through the
//! conversion and rewritten. A `LatLonAltBox`'s `minAltitude` / `maxAltitude` are never changed.
//!
//! **CRS.** KML coordinates are WGS84 longitude/latitude by definition (OGC KML 2.2), yet
//! Chinese map apps export GCJ-02 (or BD-09) coordinates in KML: the file cannot say which. So
//! KML declares no CRS here and `geounify convert` asks for `--from`. A projected source or
//! target is refused; a GCJ-02 / BD-09 target is allowed with a warning.
//!
//! **Features and failures.** The features are the `Placemark`, `GroundOverlay` and
//! `PhotoOverlay` elements (the outermost when nested). A feature with neither coordinates nor a
//! `LatLonBox` (a Placemark with only a name or a view) has no geometry: it is copied and
//! counted in [`ConvertReport::empty`]. A value that is not a number, a tuple
//! with fewer than 2 or more than 3 values, a latitude beyond ±90° or longitude beyond ±180°,
//! a `<coordinates>` holding a comment or CDATA, or a point the transformer cannot convert fails
//! its feature, with its location (`line 12, Placemark 5: point 3: ...`, the line of the
//! tuple); with `skip_invalid` the whole feature element is left out instead. Coordinates
//! outside any feature cannot be left out: they fail the conversion even with `skip_invalid`.
//! Malformed XML or a root element other than `kml` is a [`ConvertError::Malformed`] naming
//! the line; nothing is written.
//!
//! **Memory.** Read in chunks of about 4 MiB of whole features, the points of a chunk
//! transformed in one batch (in parallel with [`ConvertOptions::parallel`](super::ConvertOptions)),
//! written in order; one feature element, and one `<coordinates>` text, may be at most 64 MiB.

use super::xml::{self, Edit, Item, Kind, Nesting, Scanner};
use super::{runner, ConvertError, ConvertReport, Failure, Job, Tally, MAX_RECORD_BYTES};
use std::io::{Read, Write};
use std::ops::Range;
use std::path::Path;

/// Bytes per chunk (a chunk ends at the first item boundary outside a feature past this).
const CHUNK_BYTES: usize = 4 << 20;
/// Points per chunk.
const CHUNK_POINTS: usize = 1 << 16;

/// Boxes and views without numbers warned about one by one; past this many, one warning counts
/// the rest (as the failures past [`MAX_FAILURES`](super::MAX_FAILURES) are counted).
const MAX_BOX_WARNINGS: u64 = 20;

/// The feature elements (local names): the unit a failure leaves out.
const FEATURES: [&[u8]; 3] = [b"Placemark", b"GroundOverlay", b"PhotoOverlay"];

/// The box elements and their edge children, in the order north, south, east, west.
/// Then the view and model positions, whose `longitude` and `latitude` children are a point.
const BOXES: [&[u8]; 5] = [b"LatLonBox", b"LatLonAltBox", b"LookAt", b"Camera", b"Location"];
const EDGES: [&[u8]; 4] = [b"north", b"south", b"east", b"west"];
const POSITION: [&[u8]; 2] = [b"longitude", b"latitude"];

/// The children of box kind `kind` that hold its numbers.
fn children(kind: usize) -> &'static [&'static [u8]] {
    if kind < 2 {
        &EDGES
    } else {
        &POSITION
    }
}

/// A box's four converted corners (NW, NE, SW, SE; a position's point four times), or why not.
type Corners = Result<[[f64; 3]; 4], String>;

/// A coordinate value: its byte range in the chunk and its value.
pub(crate) type Value = (Range<usize>, f64);

/// One tuple of a `<coordinates>` or `<gx:coord>`: 2 or 3 values.
#[derive(Debug, Clone)]
pub(crate) struct Tuple {
    pub(crate) values: [Value; 3],
    pub(crate) count: usize,
}

/// A `<coordinates>` or `<gx:coord>` element read: its tuples (a range of [`Chunk::tuples`]) or
/// why it cannot be read.
#[derive(Debug, Clone)]
struct CoordRec {
    /// The feature it belongs to (an index into [`Chunk::features`]).
    feature: Option<usize>,
    /// Where its text starts in the chunk and on which line (for the line of a tuple).
    text_start: usize,
    text_line: u64,
    tuples: Range<usize>,
    /// Why it cannot be read, and the byte where the problem is.
    error: Option<(usize, String)>,
}

/// A `LatLonBox` / `LatLonAltBox` read.
#[derive(Debug, Clone)]
struct BoxRec {
    feature: Option<usize>,
    /// 0 `LatLonBox`, 1 `LatLonAltBox`.
    kind: usize,
    line: u64,
    /// north, south, east, west, those present and numbers.
    edges: [Option<Value>; 4],
}

/// A feature element: its span in the chunk, its name and number.
#[derive(Debug, Clone)]
struct FeatureRec {
    kind: usize,
    ordinal: u64,
    span: Range<usize>,
}

/// An element being read whose text matters.
#[derive(Debug)]
enum Open {
    /// `<coordinates>` (`spaces`: false) or `<gx:coord>` (true) at nesting depth `depth`.
    Coords {
        spaces: bool,
        start: usize,
        depth: usize,
        line: u64,
        text: Option<(Range<usize>, u64)>,
        unreadable: bool,
    },
    /// A box; `edge`: the edge child open, if any.
    Box {
        kind: usize,
        start: usize,
        depth: usize,
        line: u64,
        edge: Option<usize>,
        edges: [Option<Range<usize>>; 4],
    },
}

/// KML structure: bytes → coordinates with their locations (no writing), fed item by item into
/// a [`Chunk`].
pub(crate) struct Parser<'p> {
    nesting: Nesting,
    counts: [u64; 3],
    /// The open feature: its index in the chunk and its depth.
    feature: Option<(usize, usize)>,
    open: Option<Open>,
    path: &'p Path,
}

/// Items read together, with what was found in them.
#[derive(Default)]
struct Chunk {
    bytes: Vec<u8>,
    features: Vec<FeatureRec>,
    coords: Vec<CoordRec>,
    tuples: Vec<Tuple>,
    boxes: Vec<BoxRec>,
}

impl<'p> Parser<'p> {
    pub(crate) fn new(path: &'p Path) -> Self {
        Self { nesting: Nesting::default(), counts: [0; 3], feature: None, open: None, path }
    }

    /// Where the open feature starts, if one is open (a chunk must not end inside it), or the
    /// open coordinates element's start.
    fn busy(&self, chunk: &Chunk) -> Option<usize> {
        match (self.feature, &self.open) {
            (Some((i, _)), _) => chunk.features.get(i).map(|f| f.span.start),
            (None, Some(Open::Coords { start, .. } | Open::Box { start, .. })) => Some(*start),
            (None, None) => None,
        }
    }

    /// Reads `item` (its bytes in `chunk.bytes`), recording what it finds in `chunk`.
    fn feed(&mut self, item: &Item, chunk: &mut Chunk) -> Result<(), ConvertError> {
        let bytes = chunk.bytes.get(item.range()).unwrap_or_default();
        let is_root =
            matches!(item.kind, Kind::Start | Kind::Empty) && self.nesting.root().is_none();
        self.nesting
            .step(item, bytes)
            .map_err(|m| xml::malformed(self.path, self.nesting.error_line(item), m))?;
        let local = xml::local(xml::name(bytes));
        if is_root && local != b"kml" {
            return Err(xml::malformed(
                self.path,
                item.line,
                format!(
                    "not a KML file: the root element is <{}>, not <kml>",
                    String::from_utf8_lossy(xml::name(bytes))
                ),
            ));
        }
        let depth = self.nesting.depth();
        if let Some(open) = &mut self.open {
            match open {
                Open::Coords { depth: d, text, unreadable, .. } => match item.kind {
                    Kind::Text => {
                        if text.is_some() {
                            *unreadable = true;
                        }
                        *text = Some((item.range(), item.line));
                    }
                    Kind::End if depth <= *d => {
                        let Some(Open::Coords { spaces, line, text, unreadable, .. }) =
                            self.open.take()
                        else {
                            return Ok(());
                        };
                        self.coords_done(chunk, spaces, line, text, unreadable);
                    }
                    _ => *unreadable = true,
                },
                Open::Box { kind, depth: d, edge, edges, .. } => match item.kind {
                    Kind::Start if depth == *d + 2 => {
                        *edge = children(*kind).iter().position(|e| *e == local);
                    }
                    // One text run per edge: a second one, a comment or CDATA makes the edge
                    // unreadable (an empty range), and the box is kept as it was.
                    Kind::Text | Kind::CData | Kind::Comment | Kind::Pi if edge.is_some() => {
                        if let Some(slot) = edge.and_then(|e| edges.get_mut(e)) {
                            *slot = match (item.kind, &slot) {
                                (Kind::Text, None) => {
                                    Some(xml::trimmed(&chunk.bytes, item.range()))
                                }
                                _ => Some(0..0),
                            };
                        }
                    }
                    Kind::End if depth == *d + 1 => *edge = None,
                    Kind::End if depth <= *d => {
                        let Some(Open::Box { kind, line, edges, .. }) = self.open.take() else {
                            return Ok(());
                        };
                        let value = |r: Option<Range<usize>>| {
                            let r = r?;
                            let raw = chunk.bytes.get(r.clone())?;
                            let v = super::text::parse_coordinate(std::str::from_utf8(raw).ok()?)?;
                            Some((r, v))
                        };
                        let [n, s, e, w] = edges;
                        chunk.boxes.push(BoxRec {
                            feature: self.feature.map(|f| f.0),
                            kind,
                            line,
                            edges: [value(n), value(s), value(e), value(w)],
                        });
                    }
                    _ => {}
                },
            }
            return Ok(());
        }
        match item.kind {
            Kind::Start | Kind::Empty => {
                let d = if item.kind == Kind::Start { depth - 1 } else { depth };
                if let Some(kind) = FEATURES.iter().position(|f| *f == local) {
                    if self.feature.is_none() {
                        let count = self.counts.get_mut(kind).map_or(0, |c| {
                            *c += 1;
                            *c
                        });
                        chunk.features.push(FeatureRec {
                            kind,
                            ordinal: count,
                            span: item.range(),
                        });
                        if item.kind == Kind::Start {
                            self.feature = Some((chunk.features.len() - 1, d));
                        }
                    }
                } else if local == b"coordinates"
                    || (local == b"coord" && xml::name(bytes) != b"coord")
                {
                    let spaces = local == b"coord";
                    if item.kind == Kind::Start {
                        self.open = Some(Open::Coords {
                            spaces,
                            start: item.start,
                            depth: d,
                            line: item.line,
                            text: None,
                            unreadable: false,
                        });
                    }
                } else if let Some(kind) = BOXES.iter().position(|b| *b == local) {
                    if item.kind == Kind::Start {
                        self.open = Some(Open::Box {
                            kind,
                            start: item.start,
                            depth: d,
                            line: item.line,
                            edge: None,
                            edges: Default::default(),
                        });
                    }
                }
            }
            Kind::End => {
                if let Some((i, d)) = self.feature {
                    if depth == d {
                        if let Some(f) = chunk.features.get_mut(i) {
                            f.span.end = item.end;
                        }
                        self.feature = None;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Parses a closed coordinates element's text into `chunk`.
    fn coords_done(
        &self,
        chunk: &mut Chunk,
        spaces: bool,
        line: u64,
        text: Option<(Range<usize>, u64)>,
        unreadable: bool,
    ) {
        let first = chunk.tuples.len();
        let (text_start, text_line) = text.as_ref().map_or((0, line), |t| (t.0.start, t.1));
        let error = if unreadable {
            Some((
                text_start,
                "a <coordinates> holding a comment, CDATA or an element is not read".to_string(),
            ))
        } else if let Some((t, _)) = text {
            parse_tuples(&chunk.bytes, t, spaces, &mut chunk.tuples).err()
        } else {
            None
        };
        if error.is_some() {
            chunk.tuples.truncate(first);
        }
        chunk.coords.push(CoordRec {
            feature: self.feature.map(|f| f.0),
            text_start,
            text_line,
            tuples: first..chunk.tuples.len(),
            error,
        });
    }
}

/// Parses the tuples of the text `range` of `buf` into `out`: `lon,lat[,alt]` tuples separated
/// by white space (spaces around the commas allowed), or with `spaces` (a `gx:coord`) one tuple
/// `lon lat [alt]`. Errors: the byte where the bad tuple starts and the reason, naming the tuple.
pub(crate) fn parse_tuples(
    buf: &[u8],
    range: Range<usize>,
    spaces: bool,
    out: &mut Vec<Tuple>,
) -> Result<(), (usize, String)> {
    let at = |i: usize| if i < range.end { buf.get(i).copied() } else { None };
    let mut i = range.start;
    let mut n = 0usize;
    loop {
        while at(i).is_some_and(xml::is_space) {
            i += 1;
        }
        if at(i).is_none() {
            return Ok(());
        }
        n += 1;
        let tuple_start = i;
        let mut values: Vec<Value> = Vec::with_capacity(3);
        loop {
            let start = i;
            while at(i).is_some_and(|b| !xml::is_space(b) && b != b',') {
                i += 1;
            }
            let raw = buf.get(start..i).unwrap_or_default();
            let text = std::str::from_utf8(raw).unwrap_or("");
            let Some(v) = super::text::parse_coordinate(text) else {
                let shown: String = String::from_utf8_lossy(raw).chars().take(40).collect();
                return Err((
                    tuple_start,
                    if raw.is_empty() {
                        format!("point {n}: an empty value")
                    } else {
                        format!("point {n}: '{shown}' is not a number")
                    },
                ));
            };
            values.push((start..i, v));
            let mut j = i;
            while at(j).is_some_and(xml::is_space) {
                j += 1;
            }
            if spaces {
                if at(j).is_none() {
                    break;
                }
                i = j;
                continue;
            }
            if at(j) == Some(b',') {
                i = j + 1;
                while at(i).is_some_and(xml::is_space) {
                    i += 1;
                }
                continue;
            }
            break;
        }
        let count = values.len();
        let mut it = values.into_iter();
        match (it.next(), it.next(), it.next(), it.next()) {
            (Some(x), Some(y), z, None) => {
                let [lon, lat] = [x.1, y.1];
                if !(-90.0..=90.0).contains(&lat) {
                    return Err((tuple_start, format!("point {n}: latitude {lat} is beyond ±90°")));
                }
                if !(-180.0..=180.0).contains(&lon) {
                    return Err((
                        tuple_start,
                        format!("point {n}: longitude {lon} is beyond ±180°"),
                    ));
                }
                out.push(Tuple { values: [x, y, z.unwrap_or((0..0, 0.0))], count });
            }
            _ => {
                return Err((
                    tuple_start,
                    format!("point {n}: {count} value(s); a tuple is lon,lat or lon,lat,alt"),
                ))
            }
        }
        if spaces {
            return Ok(());
        }
    }
}

impl Chunk {
    fn clear(&mut self) {
        self.bytes.clear();
        self.features.clear();
        self.coords.clear();
        self.tuples.clear();
        self.boxes.clear();
    }

    /// The line of byte `at`, counting from `line` at byte `from`.
    fn line_at(&self, line: u64, from: usize, at: usize) -> u64 {
        let text = self.bytes.get(from..at).unwrap_or_default();
        line + text.iter().filter(|&&b| b == b'\n').count() as u64
    }
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
        self.parser.feed(item, &mut self.chunk)
    }

    fn open_since(&self) -> Option<usize> {
        self.parser.busy(&self.chunk)
    }

    fn points_full(&self) -> bool {
        self.chunk.tuples.len() >= CHUNK_POINTS
    }

    fn nesting(&self) -> &Nesting {
        &self.parser.nesting
    }

    fn too_long(&self, item: &Item) -> ConvertError {
        xml::malformed(
            self.parser.path,
            item.line,
            format!(
                "a feature (or coordinates outside one) longer than {} MiB",
                MAX_RECORD_BYTES >> 20
            ),
        )
    }

    fn path(&self) -> &Path {
        self.parser.path
    }
}

impl Reading<'_> {
    /// Reads items until the chunk is full (outside a feature); whether the input may hold
    /// more.
    fn fill<R: Read>(&mut self, scanner: &mut Scanner<'_, R>) -> Result<bool, ConvertError> {
        self.chunk.clear();
        xml::fill(scanner, self, CHUNK_BYTES)
    }
}

/// Converts `job.input` into `job.output` through a temporary file renamed only on success.
pub(crate) fn convert_file(job: &Job<'_>) -> Result<ConvertReport, ConvertError> {
    let warnings = check(job)?;
    super::through_temporary(job, |file, out| {
        let mut report = run(job, file, out, job.input, "")?;
        report.warnings.splice(0..0, warnings);
        Ok(report)
    })
}

/// Up to `max` coordinates `[lon, lat, alt or 0]` from the first coordinates, for the sanity
/// check; unreadable coordinates are passed over.
pub(crate) fn sample(job: &Job<'_>, max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
    xml::check_input(job, "KML")?;
    let file = super::open_regular(job.input)?;
    sample_from(file, job.input, max)
}

/// [`sample`] of the KML read from `input` (errors name `path`).
pub(crate) fn sample_from<R: Read>(
    input: R,
    path: &Path,
    max: usize,
) -> Result<Vec<[f64; 3]>, ConvertError> {
    let mut scanner = Scanner::new(input, path);
    let mut parser = Parser::new(path);
    let mut chunk = Chunk::default();
    let mut samples = Vec::new();
    while samples.len() < max {
        if parser.busy(&chunk).is_none() {
            chunk.clear();
        } else if chunk.bytes.len() as u64 > MAX_RECORD_BYTES {
            break;
        }
        let Some(item) = scanner.next_item(&mut chunk.bytes)? else { break };
        let before = chunk.tuples.len();
        parser.feed(&item, &mut chunk)?;
        for t in chunk.tuples.get(before..).unwrap_or_default() {
            samples.push([t.values[0].1, t.values[1].1, t.values[2].1]);
        }
    }
    samples.truncate(max);
    Ok(samples)
}

/// The checks before reading ([`xml::check`]). The warnings.
pub(crate) fn check(job: &Job<'_>) -> Result<Vec<String>, ConvertError> {
    xml::check(job, "KML")
}

/// The conversion proper: chunk by chunk, parse → batch → write. `path` names the KML in
/// `Malformed` errors, `prefix` starts each failure's location (a KMZ entry's name); the report
/// is finished (failures are `PointsFailed` naming `job.input`).
pub(crate) fn run<R: Read>(
    job: &Job<'_>,
    input: R,
    out: &mut dyn Write,
    path: &Path,
    prefix: &str,
) -> Result<ConvertReport, ConvertError> {
    let io_out = |source| ConvertError::Io { path: job.output.to_path_buf(), source };
    let converts_height = !job.transformer.copies_height();
    let mut scanner = Scanner::new(input, path);
    let parser = Parser::new(path);
    let mut report = ConvertReport::default();
    let mut tally = Tally::default();
    let mut writing = true;
    let mut unread_boxes = 0u64;
    let mut reading = Reading { parser, chunk: Chunk::default() };
    loop {
        let more = reading.fill(&mut scanner)?;
        let chunk = &reading.chunk;
        // Parse → batch (one `transform_slice` per part): the tuples, then each box's corners
        // NW, NE, SW, SE (a position: its point).
        let mut tuples: Vec<(&Tuple, Result<[f64; 3], String>)> =
            chunk.tuples.iter().map(|t| (t, Err(String::new()))).collect();
        runner::in_place(
            job.transformer,
            job.options.parallel,
            &mut tuples,
            |(t, _), batch| {
                let z = if converts_height && t.count == 3 { t.values[2].1 } else { 0.0 };
                batch.push([t.values[0].1, t.values[1].1, z]);
                true
            },
            |(_, outcome), converted| {
                *outcome = converted
                    .map(|c| c.first().copied().unwrap_or([f64::NAN; 3]))
                    .map_err(|e| e.to_string());
            },
        );
        let mut boxes: Vec<(&BoxRec, Option<Corners>)> =
            chunk.boxes.iter().map(|b| (b, None)).collect();
        runner::in_place(
            job.transformer,
            job.options.parallel,
            &mut boxes,
            |(b, _), batch| match &b.edges {
                [Some(lon), Some(lat), ..] if b.kind >= 2 => {
                    batch.push([lon.1, lat.1, 0.0]);
                    true
                }
                [Some(n), Some(s), Some(e), Some(w)] if b.kind < 2 => {
                    batch.extend([
                        [w.1, n.1, 0.0],
                        [e.1, n.1, 0.0],
                        [w.1, s.1, 0.0],
                        [e.1, s.1, 0.0],
                    ]);
                    true
                }
                _ => false,
            },
            |(_, outcome), converted| {
                *outcome = Some(converted.map_err(|e| e.to_string()).map(|c| {
                    let at = |i: usize| c.get(i).or(c.first()).copied().unwrap_or([f64::NAN; 3]);
                    [at(0), at(1), at(2), at(3)]
                }));
            },
        );
        // Each feature's first failure; failures outside any feature.
        let mut failed: Vec<Option<Failure>> = vec![None; chunk.features.len()];
        let mut loose: Vec<Failure> = Vec::new();
        let mut fail = |feature: Option<usize>, location: String, reason: String| {
            let f = Failure { location: format!("{prefix}{location}"), reason };
            match feature.and_then(|i| failed.get_mut(i)) {
                Some(slot) => {
                    if slot.is_none() {
                        *slot = Some(f);
                    }
                }
                None => loose.push(f),
            }
        };
        let name = |feature: Option<usize>| -> String {
            match feature.and_then(|i| chunk.features.get(i)) {
                Some(f) => format!(
                    ", {} {}",
                    FEATURES.get(f.kind).map_or("feature".into(), |n| String::from_utf8_lossy(n)),
                    f.ordinal
                ),
                None => String::new(),
            }
        };
        // Unreadable coordinates first, then the points that failed, in input order.
        for rec in &chunk.coords {
            if let Some((at, reason)) = &rec.error {
                let line = chunk.line_at(rec.text_line, rec.text_start, *at);
                fail(rec.feature, format!("line {line}{}", name(rec.feature)), reason.clone());
            }
        }
        for rec in &chunk.coords {
            let converted = tuples.get(rec.tuples.clone()).unwrap_or_default();
            for (k, (t, outcome)) in converted.iter().enumerate() {
                if let Err(reason) = outcome {
                    let line = chunk.line_at(rec.text_line, rec.text_start, t.values[0].0.start);
                    fail(
                        rec.feature,
                        format!("line {line}{}", name(rec.feature)),
                        format!("point {}: {reason}", k + 1),
                    );
                }
            }
        }
        for (b, outcome) in &boxes {
            match outcome {
                Some(Err(reason)) => fail(
                    b.feature,
                    format!("line {}{}", b.line, name(b.feature)),
                    format!("{}: {reason}", box_name(b.kind)),
                ),
                Some(Ok(_)) => {}
                None => {
                    unread_boxes += 1;
                    if unread_boxes > MAX_BOX_WARNINGS {
                        continue;
                    }
                    let wanted = if b.kind < 2 {
                        "four numeric edges (north, south, east, west)"
                    } else {
                        "a numeric longitude and latitude"
                    };
                    report.warnings.push(format!(
                        "{prefix}line {}{}: a <{}> without {wanted} is kept as it was",
                        b.line,
                        name(b.feature),
                        box_name(b.kind)
                    ));
                }
            }
        }

        // Tally and edits.
        let mut edits: Vec<(Range<usize>, Edit)> = Vec::new();
        for f in loose {
            tally.record(&mut report, false, f);
            edits.push((0..0, Edit::Stop));
        }
        // A feature with neither coordinates nor a LatLonBox has no geometry.
        let mut shaped = vec![false; chunk.features.len()];
        let coordinates = chunk.coords.iter().filter(|c| c.error.is_some() || !c.tuples.is_empty());
        let latlonboxes = chunk.boxes.iter().filter(|b| b.kind == 0);
        for feature in coordinates.map(|c| c.feature).chain(latlonboxes.map(|b| b.feature)) {
            if let Some(slot) = feature.and_then(|i| shaped.get_mut(i)) {
                *slot = true;
            }
        }
        for ((feature, failure), shaped) in chunk.features.iter().zip(&failed).zip(shaped) {
            report.features += 1;
            report.empty += u64::from(!shaped && failure.is_none());
            if let Some(failure) = failure {
                tally.record(&mut report, job.options.skip_invalid, failure.clone());
                let edit = if job.options.skip_invalid { Edit::Drop } else { Edit::Stop };
                edits.push((feature.span.clone(), edit));
            }
        }
        let dropped = |feature: Option<usize>| {
            feature.and_then(|i| failed.get(i)).is_some_and(Option::is_some)
        };
        for rec in &chunk.coords {
            if dropped(rec.feature) || rec.error.is_some() {
                continue;
            }
            for (t, outcome) in tuples.get(rec.tuples.clone()).unwrap_or_default() {
                let Ok(p) = outcome else { continue };
                report.vertices += 1;
                edits.push((t.values[0].0.clone(), Edit::Value(p[0])));
                edits.push((t.values[1].0.clone(), Edit::Value(p[1])));
                if converts_height && t.count == 3 {
                    edits.push((t.values[2].0.clone(), Edit::Value(p[2])));
                }
            }
        }
        for (b, outcome) in &boxes {
            let Some(Ok([nw, ne, sw, se])) = outcome else { continue };
            if dropped(b.feature) {
                continue;
            }
            let edges = if b.kind >= 2 {
                [nw[0], nw[1], f64::NAN, f64::NAN] // a position: longitude, latitude
            } else if b.kind == 0 {
                [
                    (nw[1] + ne[1]) / 2.0,
                    (sw[1] + se[1]) / 2.0,
                    (ne[0] + se[0]) / 2.0,
                    (nw[0] + sw[0]) / 2.0,
                ]
            } else {
                [nw[1].max(ne[1]), sw[1].min(se[1]), ne[0].max(se[0]), nw[0].min(sw[0])]
            };
            for (edge, v) in b.edges.iter().zip(edges) {
                if let Some((r, _)) = edge {
                    edits.push((r.clone(), Edit::Value(v)));
                }
            }
        }
        if writing {
            let mut text = Vec::with_capacity(chunk.bytes.len() + chunk.bytes.len() / 4);
            writing = xml::write_edits(&chunk.bytes, &mut edits, &mut text);
            out.write_all(&text).map_err(io_out)?;
        }
        job.progress.advance(chunk.bytes.len() as u64);
        if !more {
            break;
        }
    }
    if unread_boxes > MAX_BOX_WARNINGS {
        report.warnings.push(format!(
            "{prefix}... and {} more boxes or views without numbers, kept as they were",
            unread_boxes - MAX_BOX_WARNINGS
        ));
    }
    tally.finish(&mut report, job.input)?;
    Ok(report)
}

fn box_name(kind: usize) -> &'static str {
    BOXES.get(kind).and_then(|n| std::str::from_utf8(n).ok()).unwrap_or("box")
}
