//! GPX in conversions between formats.
//!
//! **Reading.** Every `wpt` is a point feature, every `rte` a line (its `rtept`s), every `trk` a
//! multi-line (one line per `trkseg`, as GDAL reads tracks); a route or track without points is
//! a feature without geometry. `ele` is a height, so it is the z of its point: a geometry whose
//! points all have `ele` has z, one where none has is 2D, and one that mixes them fails (its
//! feature is left out with `skip_invalid`), as a height is never invented or dropped. The
//! attributes are the feature's own text children `name`, `cmt`, `desc`, `src`, `type`, `time`,
//! `sym` and `number` (those the file uses, in this order), then the leaf elements of its
//! `<extensions>` by local name (GDAL writes other formats' attributes there as `<ogr:field>`)
//! in the order of their first appearance; all are text. What a route or track point holds
//! besides its position and `ele` (times, names), links, and nested extensions are not carried:
//! a warning counts the elements left. Coordinates outside ±90° / ±180° or not numbers fail
//! their feature (`line 12, trk 1: ...`). The file is read twice (the schema first); one
//! feature element may be at most 64 MiB (as a GeoJSON feature), a longer one is `Malformed`.
//!
//! **Writing.** GPX 1.1, UTF-8: points as `wpt`, lines as `rte` with `rtept`s, multi-lines as
//! `trk` with one `trkseg` per line, multi-points as one `wpt` per point (each with the
//! feature's attributes); the `gpx` element holds them in the order its schema requires
//! (waypoints, then routes, then tracks: sections after the first are kept in temporary files
//! beside the output until the end). z is written as `ele`. An attribute named like a GPX child
//! (`name`, `cmt`, `desc`, `src`, `type`, `sym`, any case; `time` when it is an XML date-time,
//! `number` for routes and tracks when a non-negative integer) becomes that element; every other
//! non-null attribute goes into `<extensions>` as `<ogr:field>` (GDAL's form, read back by GDAL
//! and by this reader; characters a name cannot hold become `_`). Polygons and geometry
//! collections cannot be held: they stop the conversion naming the feature. Coordinates: plain
//! decimals in the shortest round-trip form, or
//! [`ConvertOptions::precision`](super::super::ConvertOptions::precision).
//!
//! **CRS.** GPX is WGS84 longitude/latitude by definition and declares nothing: reading needs
//! `--from` (the GCJ-02 trap) and a longitude/latitude source; the output's target must be
//! longitude/latitude, and one outside the WGS84 frame (GCJ-02, BD-09) is written with a warning
//! (the rule of a conversion into the format itself).

use super::super::atomic::AtomicFile;
use super::super::features::{
    Counted, Counter, Feature, FeatureReader, FeatureWriter, Field, FieldType, Geometry,
    GeometryKind, Read, Schema, Shape, Value,
};
use super::super::text::degree_decimals;
use super::super::xml::{self, Attribute, Kind, Walk};
use super::super::{ConvertError, ConvertReport, Failure, Job};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

/// The feature elements.
const FEATURES: [&str; 3] = ["wpt", "rte", "trk"];
/// The text children read as attributes, in the schema's order.
const FIELDS: [&str; 8] = ["name", "cmt", "desc", "src", "type", "time", "sym", "number"];

/// The reader of a GPX input (see the module docs).
pub(crate) fn reader<'a>(job: &Job<'a>) -> Result<Box<dyn FeatureReader + 'a>, ConvertError> {
    xml::check_input(job, "GPX")?;
    let mut first = Elements::open(job.input)?;
    let mut standard = [false; FIELDS.len()];
    let mut extensions: Vec<String> = Vec::new();
    let mut schema = Schema::default();
    while let Some(raw) = first.next()? {
        for (name, _) in &raw.fields {
            match FIELDS.iter().position(|f| f == name) {
                Some(i) => standard[i] = true,
                None => {
                    if !extensions.contains(name) {
                        extensions.push(name.clone());
                    }
                }
            }
        }
        if let Ok(Some(g)) = raw.geometry() {
            schema.add_geometry(&g);
        }
    }
    let names = FIELDS
        .iter()
        .zip(standard)
        .filter(|(_, used)| *used)
        .map(|(f, _)| f.to_string())
        .chain(extensions);
    schema.fields = names.map(|name| Field { name, kind: FieldType::Text }).collect();
    let index = schema.fields.iter().enumerate().map(|(i, f)| (f.name.clone(), i)).collect();
    Ok(Box::new(Reader { elements: Elements::open(job.input)?, schema, index }))
}

struct Reader<'a> {
    elements: Elements<'a>,
    schema: Schema,
    index: HashMap<String, usize>,
}

impl FeatureReader for Reader<'_> {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn next(&mut self) -> Result<Option<Read>, ConvertError> {
        let Some(raw) = self.elements.next()? else { return Ok(None) };
        let location = raw.location();
        let geometry = match raw.geometry() {
            Ok(g) => g,
            Err(reason) => return Ok(Some(Err(Failure { location, reason }))),
        };
        let mut attributes = vec![Value::Null; self.schema.fields.len()];
        for (name, text) in raw.fields {
            if let Some(slot) = self.index.get(&name).and_then(|&i| attributes.get_mut(i)) {
                *slot = Value::Text(text);
            }
        }
        Ok(Some(Ok(Feature { location, geometry, attributes })))
    }

    fn consumed(&self) -> u64 {
        self.elements.read.get()
    }

    fn warnings(&mut self) -> Vec<String> {
        let n = self.elements.dropped;
        if n == 0 {
            return Vec::new();
        }
        vec![format!(
            "{n} GPX element(s) are not carried into the output format (what route and track \
             points hold besides their position and ele, links, nested extensions)"
        )]
    }
}

/// A point as read: `[lon, lat, ele or 0]`, whether it had `ele`, and the line of its tag.
type RawPoint = ([f64; 3], bool, u64);

/// A feature element as read.
struct RawFeature {
    /// Index into [`FEATURES`].
    kind: usize,
    ordinal: u64,
    line: u64,
    /// (attribute name, text), in the file's order.
    fields: Vec<(String, String)>,
    /// The point of a `wpt`, the points of a `rte`, the segments of a `trk`.
    parts: Vec<Vec<RawPoint>>,
    /// The first point that cannot be read: its line and the reason.
    error: Option<(u64, String)>,
}

impl RawFeature {
    fn location(&self) -> String {
        let name = FEATURES.get(self.kind).copied().unwrap_or("feature");
        format!("line {}, {name} {}", self.line, self.ordinal)
    }

    /// The geometry, or why it cannot be made.
    fn geometry(&self) -> Result<Option<Geometry>, String> {
        if let Some((line, reason)) = &self.error {
            return Err(format!("line {line}: {reason}"));
        }
        let all = self.parts.iter().flatten();
        let with_ele = all.clone().filter(|p| p.1).count();
        let total = all.count();
        if total == 0 {
            return Ok(None);
        }
        if with_ele != 0 && with_ele != total {
            return Err(format!(
                "{with_ele} of its {total} points have <ele> and the others none: a height \
                 cannot be invented or dropped"
            ));
        }
        let line = |ps: &Vec<RawPoint>| ps.iter().map(|p| p.0).collect::<Vec<_>>();
        let shape = match self.kind {
            0 => match self.parts.first().and_then(|p| p.first()) {
                Some(p) => Shape::Point(p.0),
                None => return Ok(None),
            },
            1 => Shape::LineString(self.parts.iter().flat_map(line).collect()),
            _ => Shape::MultiLineString(self.parts.iter().map(line).collect()),
        };
        Ok(Some(Geometry { shape, has_z: with_ele > 0 }))
    }
}

/// What the text being read belongs to.
enum Capture {
    Field(String),
    Ele,
}

/// The feature elements of a GPX file, one by one.
struct Elements<'a> {
    walk: Walk<'a, BufReader<Counted<File>>>,
    /// Bytes read from the file.
    read: Counter,
    attrs: Vec<Attribute>,
    counts: [u64; 3],
    /// Elements not carried.
    dropped: u64,
}

impl<'a> Elements<'a> {
    fn open(path: &'a Path) -> Result<Self, ConvertError> {
        let (file, read) = Counted::new(super::super::open_regular(path)?);
        Ok(Self {
            walk: Walk::new(BufReader::with_capacity(1 << 20, file), path, "gpx", "GPX"),
            read,
            attrs: Vec::new(),
            counts: [0; 3],
            dropped: 0,
        })
    }

    /// The next feature element; `None` at the end (the structure checked complete).
    fn next(&mut self) -> Result<Option<RawFeature>, ConvertError> {
        let mut feature: Option<RawFeature> = None;
        // Levels (nesting depth of the element itself): the feature's, the open point's.
        let mut level = 0usize;
        let mut point: Option<(usize, RawPoint)> = None;
        let mut capture: Option<(usize, Capture, String)> = None;
        let mut in_extensions = false;
        // The bytes of the open feature so far (capped as a GeoJSON feature is).
        let mut size = 0u64;
        while let Some(step) = self.walk.next()? {
            if let Some(f) = &feature {
                self.walk.count(&mut size, &step, f.line, "a waypoint, route or track")?;
            }
            let (item, el) = (&step.item, step.level);
            let bytes = self.walk.bytes(&step);
            let opening = matches!(item.kind, Kind::Start | Kind::Empty);
            let local = String::from_utf8_lossy(xml::local(xml::name(bytes))).into_owned();
            let Some(f) = feature.as_mut() else {
                if opening && el == 2 {
                    if let Some(kind) = FEATURES.iter().position(|n| *n == local) {
                        let ordinal = self.counts.get_mut(kind).map_or(0, |c| {
                            *c += 1;
                            *c
                        });
                        let mut f = RawFeature {
                            kind,
                            ordinal,
                            line: item.line,
                            fields: Vec::new(),
                            parts: Vec::new(),
                            error: None,
                        };
                        if kind == 0 {
                            let p = point_of(bytes, &mut self.attrs);
                            take_point(&mut f, p, item.line, true);
                            point = Some((el, ([0.0; 3], false, item.line)));
                        }
                        if item.kind == Kind::Empty {
                            if kind == 0 {
                                finish_point(&mut f, point.take());
                            }
                            return Ok(Some(f));
                        }
                        level = el;
                        feature = Some(f);
                    }
                }
                continue;
            };
            match item.kind {
                Kind::Start | Kind::Empty => {
                    let r = el - level;
                    let in_point = point.as_ref().is_some_and(|(pl, _)| el == pl + 1);
                    if in_point && local == "ele" {
                        capture = Some((el, Capture::Ele, String::new()));
                    } else if in_point && f.kind != 0 {
                        self.dropped += 1; // what a route or track point holds besides ele
                    } else if f.kind == 2 && r == 1 && local == "trkseg" {
                        f.parts.push(Vec::new());
                    } else if (f.kind == 1 && r == 1 && local == "rtept")
                        || (f.kind == 2 && r == 2 && local == "trkpt")
                    {
                        let p = point_of(bytes, &mut self.attrs);
                        if f.parts.is_empty() {
                            f.parts.push(Vec::new());
                        }
                        take_point(f, p, item.line, false);
                        point = Some((el, ([0.0; 3], false, item.line)));
                        if item.kind == Kind::Empty {
                            finish_point(f, point.take());
                        }
                    } else if r == 1 && FIELDS.contains(&local.as_str()) {
                        capture = Some((el, Capture::Field(local), String::new()));
                    } else if r == 1 && local == "extensions" {
                        in_extensions = item.kind == Kind::Start;
                    } else if r == 2 && in_extensions {
                        let name = if FIELDS.contains(&local.as_str()) {
                            String::from_utf8_lossy(xml::name(bytes)).replace(':', "_")
                        } else {
                            local
                        };
                        capture = Some((el, Capture::Field(name), String::new()));
                    } else if r == 1 {
                        self.dropped += 1; // links, nested structures
                    }
                    if item.kind == Kind::Empty {
                        if let Some((_, c, text)) = capture.take_if(|(cl, ..)| *cl == el) {
                            self.settle(f, &mut point, c, text);
                        }
                    }
                }
                Kind::Text | Kind::CData => {
                    if let Some((cl, _, text)) = capture.as_mut() {
                        if el == *cl {
                            xml::push_content(item, bytes, text)
                                .map_err(|m| xml::malformed(self.walk.path(), item.line, m))?;
                        }
                    }
                }
                Kind::End => {
                    if let Some((_, c, text)) = capture.take_if(|(cl, ..)| *cl == el) {
                        self.settle(f, &mut point, c, text);
                    } else if point.as_ref().is_some_and(|(pl, _)| *pl == el) {
                        finish_point(f, point.take());
                    } else if el == level + 1 && local == "extensions" {
                        in_extensions = false;
                    }
                    if el == level {
                        if f.kind == 0 {
                            finish_point(f, point.take());
                        }
                        return Ok(feature);
                    }
                }
                _ => {}
            }
        }
        Ok(None)
    }

    /// A field's or `ele`'s text read.
    fn settle(
        &self,
        f: &mut RawFeature,
        point: &mut Option<(usize, RawPoint)>,
        capture: Capture,
        text: String,
    ) {
        match capture {
            Capture::Field(name) => {
                if !f.fields.iter().any(|(n, _)| *n == name) {
                    f.fields.push((name, text));
                }
            }
            Capture::Ele => {
                if let Some((_, p)) = point.as_mut() {
                    match super::super::text::parse_coordinate(text.trim()) {
                        Some(z) => {
                            p.0[2] = z;
                            p.1 = true;
                        }
                        None if f.error.is_none() => {
                            let shown: String = text.trim().chars().take(40).collect();
                            f.error = Some((p.2, format!("ele '{shown}' is not a number")));
                        }
                        None => {}
                    }
                }
            }
        }
    }
}

/// The `[lon, lat]` of a point element's tag, or why not.
fn point_of(bytes: &[u8], attrs: &mut Vec<Attribute>) -> Result<[f64; 2], String> {
    xml::attributes(bytes, attrs)?;
    let attr = |name: &str| -> Result<f64, String> {
        let a = xml::find(bytes, attrs, name.as_bytes())
            .ok_or_else(|| format!("no {name} attribute"))?;
        let raw = bytes.get(a.value.clone()).unwrap_or_default();
        xml::unescape(raw)
            .ok()
            .and_then(|v| {
                std::str::from_utf8(&v).ok().and_then(super::super::text::parse_coordinate)
            })
            .ok_or_else(|| {
                let shown: String = String::from_utf8_lossy(raw).chars().take(40).collect();
                format!("{name} '{shown}' is not a number")
            })
    };
    let (lat, lon) = (attr("lat")?, attr("lon")?);
    if !(-90.0..=90.0).contains(&lat) {
        return Err(format!("lat {lat} is beyond ±90°"));
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err(format!("lon {lon} is beyond ±180°"));
    }
    Ok([lon, lat])
}

/// Starts a point of `f`: its position, or the feature's first error.
fn take_point(f: &mut RawFeature, p: Result<[f64; 2], String>, line: u64, waypoint: bool) {
    let [lon, lat] = match p {
        Ok(c) => c,
        Err(reason) => {
            if f.error.is_none() {
                f.error = Some((line, reason));
            }
            [f64::NAN; 2]
        }
    };
    if waypoint {
        f.parts.push(Vec::new());
    }
    if let Some(part) = f.parts.last_mut() {
        part.push(([lon, lat, 0.0], false, line));
    }
}

/// Ends the open point: its `ele`, read into the `point` slot, goes to the point pushed last.
fn finish_point(f: &mut RawFeature, point: Option<(usize, RawPoint)>) {
    let Some((_, (c, has_ele, _))) = point else { return };
    if let Some(last) = f.parts.last_mut().and_then(|p| p.last_mut()) {
        if has_ele {
            last.0[2] = c[2];
            last.1 = true;
        }
    }
}

// ---- Writing ----

/// The GPX child elements an attribute may become, by section: waypoints (`wpt`) and routes
/// and tracks. The order is GPX 1.1's.
const WPT_CHILDREN: [&str; 7] = ["time", "name", "cmt", "desc", "src", "sym", "type"];
const LINE_CHILDREN: [&str; 6] = ["name", "cmt", "desc", "src", "number", "type"];

/// The writer of a GPX output (see the module docs).
pub(crate) fn writer(
    job: &Job<'_>,
    schema: &Schema,
) -> Result<Box<dyn FeatureWriter>, ConvertError> {
    let warnings = xml::lonlat_target(job, "GPX")?;
    let path = job.output.to_path_buf();
    let io = |source| ConvertError::Io { path: path.clone(), source };
    let mut main = AtomicFile::create(job.output).map_err(io)?;
    main.writer()
        .write_all(
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" \
              creator=\"geounify\" xmlns=\"http://www.topografix.com/GPX/1/1\" \
              xmlns:ogr=\"http://osgeo.org/gdal\">\n",
        )
        .map_err(io)?;
    // The first section the schema has is written straight into the file.
    let section = |k: &GeometryKind| match k {
        GeometryKind::LineString => 1,
        GeometryKind::MultiLineString => 2,
        _ => 0,
    };
    let direct = schema.kinds.iter().map(section).min().unwrap_or(0);
    let names: Vec<(String, Vec<u8>)> = schema
        .fields
        .iter()
        .map(|f| (f.name.to_ascii_lowercase(), element_name(&f.name)))
        .collect();
    let renamed = schema
        .fields
        .iter()
        .zip(&names)
        .filter(|(f, (_, n))| n.as_slice() != format!("ogr:{}", f.name).as_bytes())
        .count();
    let mut w = GpxWriter {
        main,
        spill: [None, None, None],
        direct,
        path,
        names,
        decimals: job.options.precision.map(|n| degree_decimals(usize::from(n))),
        z_decimals: job.options.precision.map(usize::from),
        output: job.output.to_path_buf(),
        warnings,
        buf: Vec::new(),
    };
    if renamed > 0 {
        w.warnings.push(format!(
            "{renamed} attribute name(s) hold characters an XML element name cannot: written \
             in <extensions> with '_' in their place"
        ));
    }
    Ok(Box::new(w))
}

/// `ogr:` + `name` with every character an XML name cannot hold replaced by `_`.
fn element_name(name: &str) -> Vec<u8> {
    let mut out = String::from("ogr:");
    for (i, c) in name.chars().enumerate() {
        let ok = c.is_alphanumeric() || c == '_' || (i > 0 && matches!(c, '-' | '.'));
        out.push(if ok { c } else { '_' });
    }
    if name.is_empty() {
        out.push('_');
    }
    out.into_bytes()
}

struct GpxWriter {
    main: AtomicFile,
    /// The temporary files of the sections written after the first (never committed).
    spill: [Option<AtomicFile>; 3],
    direct: usize,
    path: PathBuf,
    /// Per field: its name in lower case, and its element name in `<extensions>`.
    names: Vec<(String, Vec<u8>)>,
    decimals: Option<usize>,
    z_decimals: Option<usize>,
    output: PathBuf,
    warnings: Vec<String>,
    buf: Vec<u8>,
}

impl GpxWriter {
    fn io(&self, source: std::io::Error) -> ConvertError {
        ConvertError::Io { path: self.path.clone(), source }
    }

    /// The children of a `wpt` (section 0) or `rte` / `trk` (1, 2) for `attributes`, then the
    /// extensions.
    fn push_attributes(&self, out: &mut Vec<u8>, section: usize, attributes: &[Value]) {
        let children: &[&str] = if section == 0 { &WPT_CHILDREN } else { &LINE_CHILDREN };
        let mut used = vec![false; attributes.len()];
        for child in children {
            let found = self
                .names
                .iter()
                .zip(attributes)
                .enumerate()
                .find(|(_, ((n, _), v))| n == child && !v.is_null() && fits(child, v));
            if let Some((i, (_, v))) = found {
                used[i] = true;
                push_element(out, child.as_bytes(), &v.to_string());
            }
        }
        let mut open = false;
        for (((_, element), v), used) in self.names.iter().zip(attributes).zip(used) {
            if used || v.is_null() {
                continue;
            }
            if !open {
                out.extend_from_slice(b"<extensions>");
                open = true;
            }
            push_element(out, element, &v.to_string());
        }
        if open {
            out.extend_from_slice(b"</extensions>");
        }
    }

    fn push_point(&self, out: &mut Vec<u8>, tag: &[u8], c: &[f64; 3], z: bool) {
        out.push(b'<');
        out.extend_from_slice(tag);
        out.extend_from_slice(b" lat=\"");
        xml::push_coordinate(c[1], self.decimals, out);
        out.extend_from_slice(b"\" lon=\"");
        xml::push_coordinate(c[0], self.decimals, out);
        out.push(b'"');
        if z {
            out.extend_from_slice(b"><ele>");
            xml::push_coordinate(c[2], self.z_decimals, out);
            out.extend_from_slice(b"</ele>");
        }
    }
}

/// Whether `v` may be written as the GPX child `child` (its schema type).
fn fits(child: &str, v: &Value) -> bool {
    match child {
        "time" => is_date_time(&v.to_string()),
        "number" => {
            matches!(v, Value::Integer(i) if *i >= 0)
                || matches!(v, Value::Text(t) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        }
        _ => true,
    }
}

/// Whether `t` looks like an XML Schema `dateTime` (`2024-05-01T08:30:00Z`, fractions and
/// offsets allowed).
fn is_date_time(t: &str) -> bool {
    let b = t.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    b.len() >= 19
        && digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b'T')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19)
}

fn push_element(out: &mut Vec<u8>, name: &[u8], text: &str) {
    out.push(b'<');
    out.extend_from_slice(name);
    out.push(b'>');
    xml::push_escaped(text, out);
    out.extend_from_slice(b"</");
    out.extend_from_slice(name);
    out.push(b'>');
}

impl FeatureWriter for GpxWriter {
    fn write(&mut self, features: &[Feature]) -> Result<(), ConvertError> {
        for f in features {
            let Some(g) = &f.geometry else {
                return Err(refuse(&self.output, f, "a feature without geometry"));
            };
            let mut out = std::mem::take(&mut self.buf);
            out.clear();
            let z = g.has_z;
            let section = match &g.shape {
                Shape::Point(c) => {
                    self.waypoint(&mut out, c, z, &f.attributes);
                    0
                }
                Shape::MultiPoint(cs) => {
                    for c in cs {
                        self.waypoint(&mut out, c, z, &f.attributes);
                    }
                    0
                }
                Shape::LineString(cs) => {
                    out.extend_from_slice(b"<rte>");
                    self.push_attributes(&mut out, 1, &f.attributes);
                    for c in cs {
                        self.push_point(&mut out, b"rtept", c, z);
                        out.extend_from_slice(if z { b"</rtept>" } else { b"/>" });
                    }
                    out.extend_from_slice(b"</rte>\n");
                    1
                }
                Shape::MultiLineString(lines) => {
                    out.extend_from_slice(b"<trk>");
                    self.push_attributes(&mut out, 2, &f.attributes);
                    for line in lines {
                        out.extend_from_slice(b"<trkseg>");
                        for c in line {
                            self.push_point(&mut out, b"trkpt", c, z);
                            out.extend_from_slice(if z { b"</trkpt>" } else { b"/>" });
                        }
                        out.extend_from_slice(b"</trkseg>");
                    }
                    out.extend_from_slice(b"</trk>\n");
                    2
                }
                other => {
                    return Err(refuse(&self.output, f, &format!("a {}", other.kind().name())))
                }
            };
            let result = if section == self.direct {
                self.main.writer().write_all(&out)
            } else {
                let spill = match self.spill.get_mut(section) {
                    Some(Some(s)) => Ok(s),
                    Some(slot) => AtomicFile::create(&self.output).map(|s| slot.insert(s)),
                    None => Err(std::io::Error::other("no such section")),
                };
                spill.and_then(|s| s.writer().write_all(&out))
            };
            self.buf = out;
            result.map_err(|e| self.io(e))?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>, report: &mut ConvertReport) -> Result<(), ConvertError> {
        for slot in 0..self.spill.len() {
            let Some(mut spill) = self.spill.get_mut(slot).and_then(Option::take) else {
                continue;
            };
            let copied = spill.writer().flush().and_then(|()| {
                let mut f = File::open(spill.temp_path())?;
                std::io::copy(&mut f, self.main.writer())
            });
            copied.map_err(|e| self.io(e))?;
        }
        self.main.writer().write_all(b"</gpx>\n").map_err(|e| self.io(e))?;
        report.warnings.append(&mut self.warnings);
        let path = self.path.clone();
        report
            .outputs
            .push(self.main.commit().map_err(|source| ConvertError::Io { path, source })?);
        Ok(())
    }
}

impl GpxWriter {
    fn waypoint(&self, out: &mut Vec<u8>, c: &[f64; 3], z: bool, attributes: &[Value]) {
        self.push_point(out, b"wpt", c, z);
        if !z {
            out.push(b'>');
        }
        self.push_attributes(out, 0, attributes);
        out.extend_from_slice(b"</wpt>\n");
    }
}

/// The error for a feature GPX cannot hold.
fn refuse(output: &Path, f: &Feature, what: &str) -> ConvertError {
    ConvertError::Options {
        path: output.to_path_buf(),
        message: format!(
            "GPX holds points, routes and tracks (points and lines) only; {} is {what}, which \
             cannot be written in GPX (convert to KML, GeoJSON, GeoPackage or Shapefile instead)",
            f.location
        ),
    }
}
